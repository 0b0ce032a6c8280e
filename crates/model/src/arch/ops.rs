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

/// `gate[i] = silu(gate[i]) * up[i]` (8 at a time with AVX2, to within a few ulp of [`silu`]).
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::quant::simd_available() {
        // SAFETY: AVX2/FMA detected.
        unsafe { simd_act::silu_mul(gate, up) };
        return;
    }
    for (g, u) in gate.iter_mut().zip(up) {
        *g = silu(*g) * u;
    }
}

/// `gate[i] = gelu_tanh(gate[i]) * up[i]` (8 at a time with AVX2, to within a few ulp of
/// [`gelu_tanh`], written as `x * sigmoid(2u)`, which equals `0.5 x (1 + tanh u)`).
pub fn gelu_mul(gate: &mut [f32], up: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::quant::simd_available() {
        // SAFETY: AVX2/FMA detected.
        unsafe { simd_act::gelu_mul(gate, up) };
        return;
    }
    for (g, u) in gate.iter_mut().zip(up) {
        *g = gelu_tanh(*g) * u;
    }
}

#[cfg(target_arch = "x86_64")]
mod simd_act {
    use std::arch::x86_64::*;

    /// e^x for 8 lanes (Cephes polynomial, about 1 ulp; inputs clamped to [-87.3, 88.7]).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp8(x: __m256) -> __m256 {
        let x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.336_55)), _mm256_set1_ps(88.722_83));
        let fx = _mm256_round_ps(
            _mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::LOG2_E)),
            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC,
        );
        let x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693_359_4), x);
        let x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.121_944_4e-4), x);
        let mut p = _mm256_set1_ps(1.987_569_1e-4);
        for c in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5] {
            p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(c));
        }
        let y = _mm256_fmadd_ps(_mm256_mul_ps(p, x), x, _mm256_add_ps(x, _mm256_set1_ps(1.0)));
        // Times 2^fx, in two steps so that fx = 128 (x near 88.7) does not overflow the exponent.
        let n = _mm256_cvtps_epi32(fx);
        let half = _mm256_srai_epi32(n, 1);
        let pow = |k: __m256i| _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23));
        _mm256_mul_ps(_mm256_mul_ps(y, pow(half)), pow(_mm256_sub_epi32(n, half)))
    }

    /// `x / (1 + e^(-k x))`, with `k x` given as `kx`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn x_sigmoid(x: __m256, kx: __m256) -> __m256 {
        let e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), kx));
        _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0), e))
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn silu_mul(gate: &mut [f32], up: &[f32]) {
        let n = gate.len().min(up.len());
        let mut i = 0;
        while i + 8 <= n {
            let g = _mm256_loadu_ps(gate.as_ptr().add(i));
            let u = _mm256_loadu_ps(up.as_ptr().add(i));
            _mm256_storeu_ps(gate.as_mut_ptr().add(i), _mm256_mul_ps(x_sigmoid(g, g), u));
            i += 8;
        }
        for j in i..n {
            gate[j] = super::silu(gate[j]) * up[j];
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn gelu_mul(gate: &mut [f32], up: &[f32]) {
        const SQRT_2_OVER_PI: f32 = 0.797_884_6;
        let n = gate.len().min(up.len());
        let mut i = 0;
        while i + 8 <= n {
            let x = _mm256_loadu_ps(gate.as_ptr().add(i));
            let u = _mm256_loadu_ps(up.as_ptr().add(i));
            // 2u = 2 sqrt(2/pi) x (1 + 0.044715 x^2)
            let x2 = _mm256_mul_ps(x, x);
            let inner = _mm256_fmadd_ps(x2, _mm256_set1_ps(0.044_715), _mm256_set1_ps(1.0));
            let two_u = _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(2.0 * SQRT_2_OVER_PI)), inner);
            _mm256_storeu_ps(gate.as_mut_ptr().add(i), _mm256_mul_ps(x_sigmoid(x, two_u), u));
            i += 8;
        }
        for j in i..n {
            gate[j] = super::gelu_tanh(gate[j]) * up[j];
        }
    }
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
        self.apply_rows(&mut [row], head_dim, pos);
    }

    /// Rotates every head of several rows (the queries and keys of one token) for position
    /// `pos`, computing the sines and cosines once.
    pub fn apply_rows(&self, rows: &mut [&mut [f32]], head_dim: usize, pos: usize) {
        let half = self.n_rot / 2;
        let mut sc = [(0f32, 0f32); 256];
        let mut big = Vec::new();
        let sc: &mut [(f32, f32)] = if half <= sc.len() {
            &mut sc[..half]
        } else {
            big.resize(half, (0f32, 0f32));
            &mut big
        };
        for (i, v) in sc.iter_mut().enumerate() {
            *v = (pos as f32 * self.inv_freq[i]).sin_cos();
        }
        for row in rows.iter_mut() {
            for head in row.chunks_exact_mut(head_dim) {
                for (i, &(sin, cos)) in sc.iter().enumerate() {
                    let (a, b) = if self.neox { (i, i + half) } else { (2 * i, 2 * i + 1) };
                    let (x0, x1) = (head[a], head[b]);
                    head[a] = x0 * cos - x1 * sin;
                    head[b] = x0 * sin + x1 * cos;
                }
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
    fn vectorized_activations_match_scalar() {
        let xs: Vec<f32> =
            (0..1003).map(|i| (i as f32 - 500.0) * 0.037).chain([-100.0, 100.0, 0.0, -0.0, 88.0, -88.0]).collect();
        let up: Vec<f32> = (0..xs.len()).map(|i| 1.0 + (i % 5) as f32 * 0.25).collect();
        let (mut s, mut g) = (xs.clone(), xs.clone());
        silu_mul(&mut s, &up);
        gelu_mul(&mut g, &up);
        for i in 0..xs.len() {
            let (ws, wg) = (silu(xs[i]) * up[i], gelu_tanh(xs[i]) * up[i]);
            assert!((s[i] - ws).abs() <= 2e-6 * (1.0 + ws.abs()), "silu({}) {} vs {}", xs[i], s[i], ws);
            assert!((g[i] - wg).abs() <= 2e-6 * (1.0 + wg.abs()), "gelu({}) {} vs {}", xs[i], g[i], wg);
        }
    }

    #[test]
    fn rope_rows_match_one_row_at_a_time() {
        for neox in [false, true] {
            let r = Rope::new(8, 10000.0, neox);
            let q0: Vec<f32> = (0..32).map(|i| i as f32 * 0.1 - 1.0).collect();
            let k0: Vec<f32> = (0..16).map(|i| 1.0 - i as f32 * 0.07).collect();
            let (mut q, mut k) = (q0.clone(), k0.clone());
            r.apply_rows(&mut [&mut q, &mut k], 8, 11);
            let (mut q1, mut k1) = (q0.clone(), k0.clone());
            r.apply(&mut q1, 8, 11);
            r.apply(&mut k1, 8, 11);
            assert_eq!((q, k), (q1, k1));
        }
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
