//! evalgap-run (in progress).
