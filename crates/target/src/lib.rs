//! evalgap-target (in progress).
