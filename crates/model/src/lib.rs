//! evalgap-model (in progress).
