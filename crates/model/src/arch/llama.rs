//! The llama block (SmolLM2), and qwen2 which is the same block with biases on the q/k/v
//! projections and NeoX-style rotary embedding (chosen in [`super::Model::load`]).
//!
//! ```text
//! h = rms_norm(x) * attn_norm
//! q, k, v = h·Wq (+bq), h·Wk (+bk), h·Wv (+bv);  rotate q, k by position
//! x = x + attention(q, k, v)·Wo
//! h = rms_norm(x) * ffn_norm
//! x = x + (silu(h·Wgate) * h·Wup)·Wdown
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
    for (t, b) in [(&mut q, &w.bq), (&mut k, &w.bk), (&mut v, &w.bv)] {
        if let Some(b) = b {
            ops::add_bias(t, b);
        }
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
        window: None,
    };
    let mut att = vec![0f32; n * qd];
    ops::attention(&q, rows, &caches, l, &spec, &mut att);
    let mut o = vec![0f32; n * d];
    matmul(&m.q(&w.wo), &att, &mut o);
    ops::add_in_place(x, &o);

    // Feed-forward.
    let mut h = x.to_vec();
    ops::rms_norm(&mut h, &w.ffn_norm, cfg.eps);
    let f = cfg.ffn_dim;
    let (mut gate, mut up) = (vec![0f32; n * f], vec![0f32; n * f]);
    matmul_many(&[&m.q(&w.w_gate), &m.q(&w.w_up)], &Input::new(&h, d), &mut [&mut gate, &mut up]);
    ops::silu_mul(&mut gate, &up);
    let mut down = vec![0f32; n * d];
    matmul(&m.q(&w.w_down), &gate, &mut down);
    ops::add_in_place(x, &down);
}
