//! The Gemma 3 block. Differences from llama: the embeddings are scaled by sqrt(d_model);
//! q and k are RMS-normalized per head; the attention and feed-forward outputs are normalized
//! again before they join the residual stream; the MLP uses GELU (tanh); five of every six
//! layers attend within a sliding window with rope base 10000, the sixth globally with the
//! model's rope base (1e6); logits may be soft-capped (see [`super::Model::forward`]).
//!
//! ```text
//! h = rms_norm(x) * attn_norm
//! q, k, v = h·Wq, h·Wk, h·Wv;  q = rms_norm_per_head(q) * q_norm;  k likewise;  rotate q, k
//! x = x + rms_norm(attention(q, k, v)·Wo) * post_attention_norm
//! h = rms_norm(x) * ffn_norm
//! x = x + rms_norm((gelu(h·Wgate) * h·Wup)·Wdown) * post_ffw_norm
//! ```

use super::ops::{self, AttnSpec, KvCache};
use super::{Model, SeqStep};
use crate::quant::matmul::{matmul, matmul_many, Input};

pub fn block(m: &Model, l: usize, x: &mut [f32], rows: &[(usize, usize)], seqs: &mut [SeqStep]) {
    let cfg = &m.cfg;
    let w = &m.layers[l];
    let (n, d, hd) = (rows.len(), cfg.d_model, cfg.head_dim);
    let qd = cfg.n_heads * hd;
    let kvd = cfg.n_kv_heads * hd;

    // Attention.
    let mut h = x.to_vec();
    ops::rms_norm(&mut h, &w.attn_norm, cfg.eps);
    let (mut q, mut k, mut v) = (vec![0f32; n * qd], vec![0f32; n * kvd], vec![0f32; n * kvd]);
    matmul_many(&[&m.q(&w.wq), &m.q(&w.wk), &m.q(&w.wv)], &Input::new(&h, d), &mut [&mut q, &mut k, &mut v]);
    if let Some(qn) = &w.q_norm {
        ops::rms_norm(&mut q, qn, cfg.eps);
    }
    if let Some(kn) = &w.k_norm {
        ops::rms_norm(&mut k, kn, cfg.eps);
    }
    for (r, &(_, pos)) in rows.iter().enumerate() {
        m.ropes[l].apply_rows(&mut [&mut q[r * qd..(r + 1) * qd], &mut k[r * kvd..(r + 1) * kvd]], hd, pos);
    }
    ops::round_to_f16(&mut q);
    m.store_kv(l, &k, &v, rows, seqs);
    let caches: Vec<&KvCache> = seqs.iter().map(|s| &*s.cache).collect();
    let spec = AttnSpec {
        n_heads: cfg.n_heads,
        n_kv_heads: cfg.n_kv_heads,
        head_dim: hd,
        scale: 1.0 / (hd as f32).sqrt(),
        window: if cfg.is_local_layer(l) { cfg.sliding_window } else { None },
    };
    let mut att = vec![0f32; n * qd];
    ops::attention(&q, rows, &caches, l, &spec, &mut att);
    let mut o = vec![0f32; n * d];
    matmul(&m.q(&w.wo), &att, &mut o);
    if let Some(pn) = &w.post_attn_norm {
        ops::rms_norm(&mut o, pn, cfg.eps);
    }
    ops::add_in_place(x, &o);

    // Feed-forward.
    let mut h = x.to_vec();
    ops::rms_norm(&mut h, &w.ffn_norm, cfg.eps);
    let f = cfg.ffn_dim;
    let (mut gate, mut up) = (vec![0f32; n * f], vec![0f32; n * f]);
    matmul_many(&[&m.q(&w.w_gate), &m.q(&w.w_up)], &Input::new(&h, d), &mut [&mut gate, &mut up]);
    ops::gelu_mul(&mut gate, &up);
    let mut down = vec![0f32; n * d];
    matmul(&m.q(&w.w_down), &gate, &mut down);
    if let Some(pn) = &w.post_ffn_norm {
        ops::rms_norm(&mut down, pn, cfg.eps);
    }
    ops::add_in_place(x, &down);
}
