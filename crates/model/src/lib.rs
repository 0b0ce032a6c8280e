//! evalgap-model: local GGUF models on CPU.
pub mod gguf;
pub mod quant;
mod error;
pub use error::ModelError;
