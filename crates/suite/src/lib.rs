//! evalgap-suite (in progress).
