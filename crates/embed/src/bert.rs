//! The BERT encoder of all-MiniLM-L6-v2 in f32: 6 layers, 384 wide, 12 heads, GELU (erf),
//! LayerNorm eps 1e-12, learned absolute positions, token type 0, then mean pooling over the real
//! tokens and L2 normalisation (sentence-transformers' Pooling + Normalize modules).
//!
//! Sequences are not padded: the tokens of a batch are laid end to end for the linear layers, and
//! attention runs per sequence over its own length. That equals the padded computation with an
//! attention mask (masked keys get weight exactly 0 there) and wastes nothing on padding.

use crate::gemm::{matmul, matmul2, Packed};
use crate::math;
use crate::safetensors::SafeTensors;
use crate::EmbedError;
use rayon::prelude::*;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Config {
    pub vocab: usize,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub max_positions: usize,
    pub eps: f32,
}

impl Config {
    /// all-MiniLM-L6-v2's `config.json`.
    pub fn minilm_l6() -> Self {
        Self { vocab: 30522, hidden: 384, layers: 6, heads: 12, intermediate: 1536, max_positions: 512, eps: 1e-12 }
    }
}

struct Layer {
    qkv: Packed,
    attn_out: Packed,
    ln1_w: Vec<f32>,
    ln1_b: Vec<f32>,
    up: Packed,
    down: Packed,
    ln2_w: Vec<f32>,
    ln2_b: Vec<f32>,
}

pub struct Bert {
    pub config: Config,
    word: Vec<f32>,
    /// Position embeddings with the token-type-0 embedding already added.
    pos: Vec<f32>,
    ln_w: Vec<f32>,
    ln_b: Vec<f32>,
    layers: Vec<Layer>,
}

impl Bert {
    pub fn load(path: &Path) -> Result<Self, EmbedError> {
        let bytes = std::fs::read(path).map_err(|e| EmbedError::Io { path: path.display().to_string(), source: e })?;
        let st = SafeTensors::parse(bytes, &path.display().to_string())?;
        Self::from_safetensors(&st, Config::minilm_l6())
    }

    pub fn from_safetensors(st: &SafeTensors, config: Config) -> Result<Self, EmbedError> {
        let (h, i) = (config.hidden, config.intermediate);
        let word = st.f32("embeddings.word_embeddings.weight", &[config.vocab, h])?;
        let mut pos = st.f32("embeddings.position_embeddings.weight", &[config.max_positions, h])?;
        let types = st.f32("embeddings.token_type_embeddings.weight", &[2, h])?;
        for row in pos.chunks_exact_mut(h) {
            for (p, t) in row.iter_mut().zip(&types[..h]) {
                *p += *t;
            }
        }
        let ln_w = st.f32("embeddings.LayerNorm.weight", &[h])?;
        let ln_b = st.f32("embeddings.LayerNorm.bias", &[h])?;
        let mut layers = Vec::with_capacity(config.layers);
        for l in 0..config.layers {
            let p = |s: &str| format!("encoder.layer.{l}.{s}");
            let mut wqkv = st.f32(&p("attention.self.query.weight"), &[h, h])?;
            wqkv.extend(st.f32(&p("attention.self.key.weight"), &[h, h])?);
            wqkv.extend(st.f32(&p("attention.self.value.weight"), &[h, h])?);
            let mut bqkv = st.f32(&p("attention.self.query.bias"), &[h])?;
            bqkv.extend(st.f32(&p("attention.self.key.bias"), &[h])?);
            bqkv.extend(st.f32(&p("attention.self.value.bias"), &[h])?);
            layers.push(Layer {
                qkv: Packed::new(&wqkv, 3 * h, h, bqkv),
                attn_out: Packed::new(
                    &st.f32(&p("attention.output.dense.weight"), &[h, h])?,
                    h,
                    h,
                    st.f32(&p("attention.output.dense.bias"), &[h])?,
                ),
                ln1_w: st.f32(&p("attention.output.LayerNorm.weight"), &[h])?,
                ln1_b: st.f32(&p("attention.output.LayerNorm.bias"), &[h])?,
                up: Packed::new(
                    &st.f32(&p("intermediate.dense.weight"), &[i, h])?,
                    i,
                    h,
                    st.f32(&p("intermediate.dense.bias"), &[i])?,
                ),
                down: Packed::new(
                    &st.f32(&p("output.dense.weight"), &[h, i])?,
                    h,
                    i,
                    st.f32(&p("output.dense.bias"), &[h])?,
                ),
                ln2_w: st.f32(&p("output.LayerNorm.weight"), &[h])?,
                ln2_b: st.f32(&p("output.LayerNorm.bias"), &[h])?,
            });
        }
        Ok(Self { config, word, pos, ln_w, ln_b, layers })
    }

    /// Last hidden states of the sequences, laid end to end (sum of lengths x hidden).
    pub fn encode(&self, seqs: &[&[u32]]) -> Vec<f32> {
        let c = &self.config;
        let h = c.hidden;
        let total: usize = seqs.iter().map(|s| s.len()).sum();
        let mut x = vec![0f32; total * h];
        let mut t = 0;
        for s in seqs {
            assert!(s.len() <= c.max_positions, "sequence of {} tokens", s.len());
            for (p, &id) in s.iter().enumerate() {
                let id = (id as usize).min(c.vocab - 1);
                let row = &mut x[t * h..(t + 1) * h];
                for ((o, w), q) in row.iter_mut().zip(&self.word[id * h..(id + 1) * h]).zip(&self.pos[p * h..]) {
                    *o = *w + *q;
                }
                t += 1;
            }
        }
        math::layer_norm(&mut x, &self.ln_w, &self.ln_b, c.eps);
        let mut qkv = vec![0f32; total * 3 * h];
        let mut ctx = vec![0f32; total * h];
        let mut tmp = vec![0f32; total * h];
        let mut inter = Vec::new();
        let starts: Vec<usize> = seqs
            .iter()
            .scan(0, |acc, s| {
                let st = *acc;
                *acc += s.len();
                Some(st)
            })
            .collect();
        assert_eq!(h, c.heads * math::HEAD_DIM, "head width");
        for layer in &self.layers {
            matmul(&x, &layer.qkv, &mut qkv);
            // Attention: one task per sequence, heads in turn (each writes its own columns).
            let mut ctx_parts: Vec<&mut [f32]> = Vec::with_capacity(seqs.len());
            let mut rest = ctx.as_mut_slice();
            for s in seqs {
                let (a, b) = rest.split_at_mut(s.len() * h);
                ctx_parts.push(a);
                rest = b;
            }
            ctx_parts.into_par_iter().enumerate().with_min_len(crate::gemm::min_split()).for_each_init(
                Vec::new,
                |scratch, (si, out)| {
                    let len = seqs[si].len();
                    let q = &qkv[starts[si] * 3 * h..(starts[si] + len) * 3 * h];
                    for head in 0..c.heads {
                        math::attention_head(q, out, len, h, head, scratch);
                    }
                },
            );
            matmul(&ctx, &layer.attn_out, &mut tmp);
            math::add_inplace(&mut tmp, &x);
            math::layer_norm(&mut tmp, &layer.ln1_w, &layer.ln1_b, c.eps);
            std::mem::swap(&mut x, &mut tmp);
            matmul2(&x, &layer.up, math::gelu_inplace, &layer.down, &mut tmp, &mut inter);
            math::add_inplace(&mut tmp, &x);
            math::layer_norm(&mut tmp, &layer.ln2_w, &layer.ln2_b, c.eps);
            std::mem::swap(&mut x, &mut tmp);
        }
        x
    }

    /// Mean-pooled, L2-normalised embeddings (sentence-transformers' pipeline for this model).
    pub fn encode_pooled(&self, seqs: &[&[u32]]) -> Vec<Vec<f32>> {
        let h = self.config.hidden;
        let x = self.encode(seqs);
        let mut out = Vec::with_capacity(seqs.len());
        let mut t = 0;
        for s in seqs {
            let mut v = vec![0f32; h];
            for row in x[t * h..(t + s.len()) * h].chunks_exact(h) {
                for (a, b) in v.iter_mut().zip(row) {
                    *a += *b;
                }
            }
            t += s.len();
            let n = s.len().max(1) as f32;
            v.iter_mut().for_each(|a| *a /= n);
            let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt().max(1e-12);
            v.iter_mut().for_each(|a| *a /= norm);
            out.push(v);
        }
        out
    }
}
