//! evalgap-transform (in progress).
