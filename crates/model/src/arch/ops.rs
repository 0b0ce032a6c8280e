//! The operations the transformer blocks are made of, on row-major `[rows × width]` f32 data.

use crate::quant::f16;

/// RMS normalization of each row, times `weight`.
pub fn rms_norm(x: &mut [f32], weight: &[f32], eps: f32) {
    let d = weight.len();
    for row in x.chunks_exact_mut(d) {
        let ms = row.iter().map(|v| v * v).sum::<f32>() / d as f32;
        let scale = 1.0 / (ms + eps).sqrt();
        for (v, w) in row.iter_mut().zip(weight) {
            *v = *v * scale * w;
        }
    }
}

/// Adds `bias` to each row.
pub fn add_bias(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// `x += y` elementwise.
pub fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

pub fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

/// GELU, tanh approximation.
pub fn gelu_tanh(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    0.5 * x * (1.0 + (SQRT_2_OVER_PI * x * (1.0 + 0.044_715 * x * x)).tanh())
}

/// Rotary position embedding tables for one base frequency.
pub struct Rope {
    /// Rotated dimensions (at most the head size).
    pub n_rot: usize,
    /// NeoX style rotates dimension pairs (i, i + n_rot/2); the original style (i2, 2i+1).
    pub neox: bool,
    inv_freq: Vec<f32>,
}

impl Rope {
    pub fn new(n_rot: usize, base: f32, neox: bool) -> Rope {
        let inv_freq = (0..n_rot / 2).map(|i| base.powf(-2.0 * i as f32 / n_rot as f32)).collect();
        Rope { n_rot, neox, inv_freq }
    }

    /// Rotates every head of one row (`n_heads * head_dim` values) for position `pos`.
    pub fn apply(&self, row: &mut [f32], head_dim: usize, pos: usize) {
        let half = self.n_rot / 2;
        for head in row.chunks_exact_mut(head_dim) {
            for i in 0..half {
                let theta = pos as f32 * self.inv_freq[i];
                let (sin, cos) = theta.sin_cos();
                let (a, b) = if self.neox { (i, i + half) } else { (2 * i, 2 * i + 1) };
                let (x0, x1) = (head[a], head[b]);
                head[a] = x0 * cos - x1 * sin;
                head[b] = x0 * sin + x1 * cos;
            }
        }
    }
}

/// The key/value cache of one sequence: per layer, `[pos × n_kv_heads * head_dim]` f16 values
/// (as llama.cpp keeps them).
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    pub k: Vec<Vec<u16>>,
    pub v: Vec<Vec<u16>>,
    /// Positions stored.
    pub len: usize,
}

impl KvCache {
    pub fn new(n_layers: usize) -> KvCache {
        KvCache { k: vec![Vec::new(); n_layers], v: vec![Vec::new(); n_layers], len: 0 }
    }
}

/// Attention geometry and masking for one layer.
pub struct AttnSpec {
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub scale: f32,
    /// Keys further back than this many positions are masked (sliding-window layers).
    pub window: Option<usize>,
}

/// Rounds values to f16 precision (llama.cpp's CPU flash attention multiplies f16 queries with
/// its f16 key cache; doing the same keeps the logits closer to its figures).
pub fn round_to_f16(x: &mut [f32]) {
    for v in x {
        *v = crate::quant::f16::round_f16(*v);
    }
}

/// Causal attention of `q` rows (`[rows × n_heads*head_dim]`) against the caches.
/// `rows[i] = (sequence index, position)`; the caches already hold this step's keys and values.
pub fn attention(
    q: &[f32],
    rows: &[(usize, usize)],
    caches: &[&KvCache],
    layer: usize,
    spec: &AttnSpec,
    out: &mut [f32],
) {
    let qd = spec.n_heads * spec.head_dim;
    let kvd = spec.n_kv_heads * spec.head_dim;
    let group = spec.n_heads / spec.n_kv_heads;
    let hd = spec.head_dim;
    let one_row = |(r, orow): (usize, &mut [f32])| {
        let (s, pos) = rows[r];
        let cache = caches[s];
        let k = &cache.k[layer];
        let v = &cache.v[layer];
        let first = match spec.window {
            Some(w) => (pos + 1).saturating_sub(w),
            None => 0,
        };
        let n = pos + 1 - first;
        let mut scores = vec![0f32; n];
        for h in 0..spec.n_heads {
            let kvh = h / group;
            let qh = &q[r * qd + h * hd..r * qd + (h + 1) * hd];
            let mut max = f32::NEG_INFINITY;
            for (j, sc) in scores.iter_mut().enumerate() {
                let p = first + j;
                let kr = &k[p * kvd + kvh * hd..p * kvd + (kvh + 1) * hd];
                *sc = f16::dot_f16(qh, kr) * spec.scale;
                max = max.max(*sc);
            }
            let mut sum = 0f32;
            for sc in scores.iter_mut() {
                *sc = (*sc - max).exp();
                sum += *sc;
            }
            let o = &mut orow[h * hd..(h + 1) * hd];
            o.fill(0.0);
            for (j, &w) in scores.iter().enumerate() {
                let p = first + j;
                let vr = &v[p * kvd + kvh * hd..p * kvd + (kvh + 1) * hd];
                f16::axpy_f16(o, w / sum, vr);
            }
        }
    };
    let work: usize = rows.iter().map(|&(_, p)| p + 1).sum::<usize>() * qd;
    if work < 200_000 {
        out.chunks_exact_mut(qd).enumerate().for_each(one_row);
    } else {
        let slots: Vec<std::sync::Mutex<Option<&mut [f32]>>> =
            out.chunks_exact_mut(qd).map(|c| std::sync::Mutex::new(Some(c))).collect();
        crate::pool::pool().run(slots.len(), &|i| {
            if let Some(c) = slots[i].lock().unwrap().take() {
                one_row((i, c));
            }
        });
    }
}

/// Numerically stable log-softmax of a logit vector.
pub fn log_softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = logits.iter().map(|&l| ((l - max) as f64).exp()).sum::<f64>().ln() as f32 + max;
    logits.iter().map(|&l| l - lse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_norm_unit() {
        let mut x = vec![3.0, 4.0];
        rms_norm(&mut x, &[1.0, 2.0], 0.0);
        let r = (12.5f32).sqrt();
        assert!((x[0] - 3.0 / r).abs() < 1e-6 && (x[1] - 8.0 / r).abs() < 1e-6);
    }

    #[test]
    fn rope_preserves_norm_and_is_identity_at_zero() {
        let r = Rope::new(4, 10000.0, true);
        let mut x = vec![1.0, 2.0, 3.0, 4.0];
        r.apply(&mut x, 4, 0);
        assert_eq!(x, vec![1.0, 2.0, 3.0, 4.0]);
        r.apply(&mut x, 4, 7);
        let n: f32 = x.iter().map(|v| v * v).sum();
        assert!((n - 30.0).abs() < 1e-4);
    }
}
