//! evalgap-judge (in progress).
