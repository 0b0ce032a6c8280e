//! evalgap-report (in progress).
