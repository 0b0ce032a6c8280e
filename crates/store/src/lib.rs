//! evalgap-store (in progress).
