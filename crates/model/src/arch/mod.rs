//! Transformer architectures: configuration from GGUF metadata, weights, and the forward pass
//! over a batch of sequences (each with its own KV cache), with residual hooks.
//!
//! The blocks are in [`llama`] (llama and qwen2, which adds q/k/v biases and NeoX rotary
//! embedding) and [`gemma3`]. [`Model::forward`] embeds the tokens, runs the blocks, applies the
//! hooks after each block, and computes the logits of the rows asked for.

pub mod gemma3;
pub mod llama;
pub mod ops;

use crate::gguf::{GgufFile, TensorInfo};
use crate::hooks::{Hooks, Residuals};
use crate::quant::matmul::{matmul, QMatrix};
use crate::quant::{dequantize, GgmlType};
use crate::ModelError;
pub use ops::KvCache;

/// The architecture families this crate runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Llama,
    Qwen2,
    Gemma3,
}

impl Arch {
    pub fn name(self) -> &'static str {
        match self {
            Arch::Llama => "llama",
            Arch::Qwen2 => "qwen2",
            Arch::Gemma3 => "gemma3",
        }
    }
}

/// Hyperparameters read from GGUF metadata.
#[derive(Debug, Clone)]
pub struct Config {
    pub arch: Arch,
    pub n_layers: usize,
    pub d_model: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub ffn_dim: usize,
    pub vocab: usize,
    pub context: usize,
    pub eps: f32,
    pub rope_base: f32,
    /// Rope base of the sliding-window layers (gemma3).
    pub rope_base_local: f32,
    pub n_rot: usize,
    pub sliding_window: Option<usize>,
    /// Every `swa_period`-th layer (the last of each period) attends globally (gemma3).
    pub swa_period: usize,
    pub final_softcap: Option<f32>,
}

impl Config {
    pub fn from_gguf(g: &GgufFile) -> Result<Config, ModelError> {
        let bad = |reason: String| ModelError::Unsupported { path: g.path.clone(), reason };
        let arch_name = g.get_str("general.architecture").unwrap_or("");
        let arch = match arch_name {
            "llama" => Arch::Llama,
            "qwen2" => Arch::Qwen2,
            "gemma3" => Arch::Gemma3,
            other => return Err(bad(format!("architecture `{other}` is not supported (llama, qwen2, gemma3 are)"))),
        };
        let key = |k: &str| format!("{arch_name}.{k}");
        let req =
            |k: &str| g.get_u64(&key(k)).map(|v| v as usize).ok_or_else(|| bad(format!("missing metadata {}", key(k))));
        let d_model = req("embedding_length")?;
        let n_heads = req("attention.head_count")?;
        let n_kv_heads = g.get_u64(&key("attention.head_count_kv")).map(|v| v as usize).unwrap_or(n_heads);
        let head_dim = g.get_u64(&key("attention.key_length")).map(|v| v as usize).unwrap_or(d_model / n_heads);
        let vocab = g
            .get("tokenizer.ggml.tokens")
            .and_then(|v| v.as_array())
            .map(|a| a.len())
            .or_else(|| g.get_u64(&key("vocab_size")).map(|v| v as usize))
            .ok_or_else(|| bad("no vocabulary".into()))?;
        let f = |k: &str| g.get_f64(&key(k)).map(|v| v as f32);
        Ok(Config {
            arch,
            n_layers: req("block_count")?,
            d_model,
            n_heads,
            n_kv_heads,
            head_dim,
            ffn_dim: req("feed_forward_length")?,
            vocab,
            context: g.get_u64(&key("context_length")).unwrap_or(2048) as usize,
            eps: f("attention.layer_norm_rms_epsilon").unwrap_or(1e-6),
            rope_base: f("rope.freq_base").unwrap_or(10000.0),
            rope_base_local: f("rope.freq_base_swa").unwrap_or(10000.0),
            n_rot: g.get_u64(&key("rope.dimension_count")).map(|v| v as usize).unwrap_or(head_dim),
            sliding_window: g.get_u64(&key("attention.sliding_window")).map(|v| v as usize),
            swa_period: 6,
            final_softcap: f("final_logit_softcapping").filter(|&c| c > 0.0),
        })
    }

    /// Whether layer `l` uses sliding-window attention.
    pub fn is_local_layer(&self, l: usize) -> bool {
        self.arch == Arch::Gemma3 && self.sliding_window.is_some() && !(l + 1).is_multiple_of(self.swa_period)
    }
}

/// A weight matrix in the mapped file.
#[derive(Debug, Clone, Copy)]
pub struct Mat {
    pub t: GgmlType,
    pub rows: usize,
    pub cols: usize,
    pub offset: usize,
    pub len: usize,
}

/// The weights of one block (optional tensors are absent in some architectures).
pub struct LayerWeights {
    pub attn_norm: Vec<f32>,
    pub wq: Mat,
    pub wk: Mat,
    pub wv: Mat,
    pub wo: Mat,
    pub bq: Option<Vec<f32>>,
    pub bk: Option<Vec<f32>>,
    pub bv: Option<Vec<f32>>,
    pub q_norm: Option<Vec<f32>>,
    pub k_norm: Option<Vec<f32>>,
    pub post_attn_norm: Option<Vec<f32>>,
    pub ffn_norm: Vec<f32>,
    pub w_gate: Mat,
    pub w_up: Mat,
    pub w_down: Mat,
    pub post_ffn_norm: Option<Vec<f32>>,
}

/// A loaded model: configuration, memory-mapped weights, norms as f32.
pub struct Model {
    pub cfg: Config,
    pub file: GgufFile,
    pub tok_embd: Mat,
    pub output: Mat,
    pub output_norm: Vec<f32>,
    pub layers: Vec<LayerWeights>,
    pub(crate) ropes: Vec<ops::Rope>,
}

/// One sequence's part of a forward batch.
pub struct SeqStep<'a> {
    pub cache: &'a mut KvCache,
    /// New tokens, at positions `cache.len ..`.
    pub tokens: &'a [u32],
    pub hooks: Option<&'a Hooks>,
    pub residuals: Option<&'a mut Residuals>,
    /// Logits for every new token (else only the last).
    pub all_logits: bool,
}

impl Model {
    pub fn load(file: GgufFile) -> Result<Model, ModelError> {
        let cfg = Config::from_gguf(&file)?;
        let path = file.path.clone();
        let missing =
            |name: &str| ModelError::Unsupported { path: path.clone(), reason: format!("tensor {name} is missing") };
        let mat = |name: &str| -> Result<Mat, ModelError> {
            let t = file.tensor_info(name).ok_or_else(|| missing(name))?;
            Ok(mat_of(&file, t))
        };
        let vec = |name: &str| -> Result<Vec<f32>, ModelError> {
            let t = file.tensor_info(name).ok_or_else(|| missing(name))?;
            Ok(tensor_f32(&file, t))
        };
        let opt_vec = |name: &str| file.tensor_info(name).map(|t| tensor_f32(&file, t));
        let tok_embd = mat("token_embd.weight")?;
        let output = if file.tensor_info("output.weight").is_some() { mat("output.weight")? } else { tok_embd };
        let mut layers = Vec::with_capacity(cfg.n_layers);
        for l in 0..cfg.n_layers {
            let n = |s: &str| format!("blk.{l}.{s}");
            layers.push(LayerWeights {
                attn_norm: vec(&n("attn_norm.weight"))?,
                wq: mat(&n("attn_q.weight"))?,
                wk: mat(&n("attn_k.weight"))?,
                wv: mat(&n("attn_v.weight"))?,
                wo: mat(&n("attn_output.weight"))?,
                bq: opt_vec(&n("attn_q.bias")),
                bk: opt_vec(&n("attn_k.bias")),
                bv: opt_vec(&n("attn_v.bias")),
                q_norm: opt_vec(&n("attn_q_norm.weight")),
                k_norm: opt_vec(&n("attn_k_norm.weight")),
                post_attn_norm: opt_vec(&n("post_attention_norm.weight")),
                ffn_norm: vec(&n("ffn_norm.weight"))?,
                w_gate: mat(&n("ffn_gate.weight"))?,
                w_up: mat(&n("ffn_up.weight"))?,
                w_down: mat(&n("ffn_down.weight"))?,
                post_ffn_norm: opt_vec(&n("post_ffw_norm.weight")),
            });
        }
        let neox = cfg.arch != Arch::Llama;
        let ropes = (0..cfg.n_layers)
            .map(|l| {
                let base = if cfg.is_local_layer(l) { cfg.rope_base_local } else { cfg.rope_base };
                ops::Rope::new(cfg.n_rot, base, neox)
            })
            .collect();
        let output_norm = vec("output_norm.weight")?;
        if tok_embd.cols != cfg.d_model
            || output.rows < cfg.vocab.min(output.rows)
            || layers[0].wq.rows != cfg.n_heads * cfg.head_dim
        {
            return Err(ModelError::Unsupported { path, reason: "tensor shapes do not match the metadata".into() });
        }
        Ok(Model { cfg, file, tok_embd, output, output_norm, layers, ropes })
    }

    /// Number of logits per position.
    pub fn output_rows(&self) -> usize {
        self.output.rows
    }

    /// A view of a weight matrix for the kernels.
    pub fn q(&self, m: &Mat) -> QMatrix<'_> {
        QMatrix { t: m.t, rows: m.rows, cols: m.cols, data: &self.file.bytes()[m.offset..m.offset + m.len] }
    }

    /// Runs new tokens of several sequences through the model in one batch (each weight matrix
    /// is read once for all of them). Returns, per sequence, the logits of its last new token
    /// (`vocab` values) or of all its new tokens (`n × vocab`) when `all_logits`.
    pub fn forward(&self, seqs: &mut [SeqStep]) -> Vec<Vec<f32>> {
        let cfg = &self.cfg;
        let d = cfg.d_model;
        // Flatten: row -> (sequence, position).
        let mut rows: Vec<(usize, usize)> = Vec::new();
        for (s, st) in seqs.iter().enumerate() {
            for i in 0..st.tokens.len() {
                rows.push((s, st.cache.len + i));
            }
        }
        let n = rows.len();
        if n == 0 {
            return vec![Vec::new(); seqs.len()];
        }
        let mut x = vec![0f32; n * d];
        let emb = self.q(&self.tok_embd);
        let mut r = 0;
        for st in seqs.iter() {
            for &t in st.tokens {
                let t = (t as usize).min(emb.rows - 1);
                emb.dequantize_row(t, &mut x[r * d..(r + 1) * d]);
                r += 1;
            }
        }
        if cfg.arch == Arch::Gemma3 {
            let s = (d as f32).sqrt();
            x.iter_mut().for_each(|v| *v *= s);
        }
        let kvd = cfg.n_kv_heads * cfg.head_dim;
        for st in seqs.iter_mut() {
            let need = (st.cache.len + st.tokens.len()) * kvd;
            if st.cache.k.len() != cfg.n_layers {
                *st.cache = KvCache::new(cfg.n_layers);
            }
            for l in 0..cfg.n_layers {
                st.cache.k[l].resize(need, 0);
                st.cache.v[l].resize(need, 0);
            }
        }
        for l in 0..cfg.n_layers {
            match cfg.arch {
                Arch::Llama | Arch::Qwen2 => llama::block(self, l, &mut x, &rows, seqs),
                Arch::Gemma3 => gemma3::block(self, l, &mut x, &rows, seqs),
            }
            // Hooks: additions, then capture.
            for (ri, &(s, pos)) in rows.iter().enumerate() {
                let st = &mut seqs[s];
                let row = &mut x[ri * d..(ri + 1) * d];
                if let Some(h) = st.hooks {
                    for a in h.additions.iter().filter(|a| a.layer == l) {
                        if let Some(v) = a.at(pos) {
                            ops::add_in_place(row, v);
                        }
                    }
                }
                if let Some(res) = st.residuals.as_deref_mut() {
                    res.push(l, row);
                }
            }
        }
        for st in seqs.iter_mut() {
            st.cache.len += st.tokens.len();
        }
        // Logits for the rows asked for.
        let mut want: Vec<usize> = Vec::new();
        let mut r0 = 0;
        for st in seqs.iter() {
            let len = st.tokens.len();
            if st.all_logits {
                want.extend(r0..r0 + len);
            } else if len > 0 {
                want.push(r0 + len - 1);
            }
            r0 += len;
        }
        let mut h = Vec::with_capacity(want.len() * d);
        for &ri in &want {
            h.extend_from_slice(&x[ri * d..(ri + 1) * d]);
        }
        ops::rms_norm(&mut h, &self.output_norm, cfg.eps);
        let out = self.q(&self.output);
        let vocab = out.rows;
        let mut logits = vec![0f32; want.len() * vocab];
        matmul(&out, &h, &mut logits);
        if let Some(cap) = cfg.final_softcap {
            logits.iter_mut().for_each(|v| *v = cap * (*v / cap).tanh());
        }
        let mut result = Vec::with_capacity(seqs.len());
        let mut k = 0;
        for st in seqs.iter() {
            let m = if st.all_logits { st.tokens.len() } else { usize::from(!st.tokens.is_empty()) };
            result.push(logits[k * vocab..(k + m) * vocab].to_vec());
            k += m;
        }
        result
    }

    /// Stores this step's keys and values into the caches, in f16 as llama.cpp does.
    pub(crate) fn store_kv(&self, l: usize, k: &[f32], v: &[f32], rows: &[(usize, usize)], seqs: &mut [SeqStep]) {
        let kvd = self.cfg.n_kv_heads * self.cfg.head_dim;
        for (ri, &(s, pos)) in rows.iter().enumerate() {
            let c = &mut *seqs[s].cache;
            crate::quant::f16::encode_slice(&k[ri * kvd..(ri + 1) * kvd], &mut c.k[l][pos * kvd..(pos + 1) * kvd]);
            crate::quant::f16::encode_slice(&v[ri * kvd..(ri + 1) * kvd], &mut c.v[l][pos * kvd..(pos + 1) * kvd]);
        }
    }

    /// Dequantizes any tensor of the file to f32 (GGML order: `dims[0]` contiguous).
    pub fn tensor_f32(&self, name: &str) -> Option<(Vec<usize>, Vec<f32>)> {
        let t = self.file.tensor_info(name)?;
        Some((t.dims.iter().map(|&d| d as usize).collect(), tensor_f32(&self.file, t)))
    }
}

fn mat_of(file: &GgufFile, t: &TensorInfo) -> Mat {
    let cols = t.dims[0] as usize;
    let rows = (t.n_elements() as usize) / cols.max(1);
    Mat { t: t.ggml_type, rows, cols, offset: file.tensor_file_offset(t), len: t.n_bytes() as usize }
}

fn tensor_f32(file: &GgufFile, t: &TensorInfo) -> Vec<f32> {
    let mut out = vec![0f32; t.n_elements() as usize];
    dequantize(t.ggml_type, file.tensor_data(t), &mut out);
    out
}
