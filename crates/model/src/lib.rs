//! evalgap-model: local GGUF models on CPU.
mod error;
pub mod fetch;
pub mod gguf;
pub mod quant;
pub mod tokenizer;

pub use error::ModelError;
pub use fetch::{cache_dir, file_sha256, is_cached, known_models, resolve, KnownModel};
