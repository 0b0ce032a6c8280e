//! evalgap-testserver (in progress).
