//! evalgap-analysis (in progress).
