//! evalgap-stats (in progress).
