//! Block formats of GGML tensors: dequantization, reference quantizers (used by the tests and the
//! GGUF writer), and dot-product kernels against activations quantized to 8 bits.
//!
//! One file per block format. Each file has `dequantize`, `quantize`, a scalar `vec_dot` against
//! [`BlockQ8`] activations, and (on x86_64) an AVX2 `vec_dot` that the tests check against the
//! scalar one. [`matmul`] runs the kernels over a batch of activations on all cores.

pub mod f16;
pub mod matmul;
pub mod packed;
#[allow(clippy::needless_range_loop)] // block formats read best with explicit indices
pub mod q4_0;
#[allow(clippy::needless_range_loop)] // block formats read best with explicit indices
pub mod q4_1;
#[allow(clippy::needless_range_loop)] // block formats read best with explicit indices
pub mod q4_k;
#[allow(clippy::needless_range_loop)] // block formats read best with explicit indices
pub mod q5_0;
#[allow(clippy::needless_range_loop)] // block formats read best with explicit indices
pub mod q5_k;
#[allow(clippy::needless_range_loop)] // block formats read best with explicit indices
pub mod q6_k;
#[allow(clippy::needless_range_loop)] // block formats read best with explicit indices
pub mod q8_0;
#[cfg(target_arch = "x86_64")]
pub(crate) mod simd;

/// Size of an activation block and of the weight blocks of the simple formats.
pub const QK: usize = 32;
/// Size of a K-quant super-block.
pub const QK_K: usize = 256;

/// The tensor types this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum GgmlType {
    F32,
    F16,
    BF16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q8_0,
    Q4_K,
    Q5_K,
    Q6_K,
}

impl GgmlType {
    pub fn from_id(id: u32) -> Option<GgmlType> {
        Some(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            6 => GgmlType::Q5_0,
            8 => GgmlType::Q8_0,
            12 => GgmlType::Q4_K,
            13 => GgmlType::Q5_K,
            14 => GgmlType::Q6_K,
            30 => GgmlType::BF16,
            _ => return None,
        })
    }

    pub fn id(self) -> u32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_0 => 2,
            GgmlType::Q4_1 => 3,
            GgmlType::Q5_0 => 6,
            GgmlType::Q8_0 => 8,
            GgmlType::Q4_K => 12,
            GgmlType::Q5_K => 13,
            GgmlType::Q6_K => 14,
            GgmlType::BF16 => 30,
        }
    }

    /// Elements per block.
    pub fn block_size(self) -> usize {
        match self {
            GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => 1,
            GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q5_0 | GgmlType::Q8_0 => QK,
            GgmlType::Q4_K | GgmlType::Q5_K | GgmlType::Q6_K => QK_K,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            GgmlType::F32 => 4,
            GgmlType::F16 | GgmlType::BF16 => 2,
            GgmlType::Q4_0 => q4_0::BLOCK_BYTES,
            GgmlType::Q4_1 => q4_1::BLOCK_BYTES,
            GgmlType::Q5_0 => q5_0::BLOCK_BYTES,
            GgmlType::Q8_0 => q8_0::BLOCK_BYTES,
            GgmlType::Q4_K => q4_k::BLOCK_BYTES,
            GgmlType::Q5_K => q5_k::BLOCK_BYTES,
            GgmlType::Q6_K => q6_k::BLOCK_BYTES,
        }
    }

    /// Bytes taken by `n` elements (`n` a multiple of the block size).
    pub fn row_bytes(self, n: usize) -> usize {
        n / self.block_size() * self.block_bytes()
    }

    /// Whether [`vec_dot`] supports this type (else matmuls dequantize rows to f32).
    pub fn has_q8_kernel(self) -> bool {
        !matches!(self, GgmlType::F32 | GgmlType::F16 | GgmlType::BF16)
    }
}

/// An activation block: 32 values as `d * qs[i]`, with `s = d * sum(qs)`.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
pub struct BlockQ8 {
    pub d: f32,
    pub s: f32,
    pub qs: [i8; QK],
}

/// Quantizes activations (length a multiple of 32) to 8-bit blocks, as llama.cpp does for its
/// integer dot products (scale = max|x| / 127, stored at f16 precision; round half to even).
pub fn quantize_q8(x: &[f32], out: &mut Vec<BlockQ8>) {
    out.clear();
    out.reserve(x.len() / QK);
    #[cfg(target_arch = "x86_64")]
    if simd_available() {
        // SAFETY: AVX2/FMA/F16C detected.
        unsafe { simd::quantize_q8(x, out) };
        return;
    }
    quantize_q8_scalar(x, out);
}

/// Quantizes activations (length a multiple of 256) the way llama.cpp does for K-quant weights
/// (its Q8_K): one f32 scale per 256 values, `d = max / -127` where `max` is the value of
/// largest magnitude, `q = min(127, round(x / d))`. Stored as 8 [`BlockQ8`]s sharing the scale,
/// so the same kernels serve both layouts.
pub fn quantize_q8_k(x: &[f32], out: &mut Vec<BlockQ8>) {
    out.clear();
    out.reserve(x.len() / QK);
    #[cfg(target_arch = "x86_64")]
    if simd_available() {
        // SAFETY: AVX2/FMA/F16C detected.
        unsafe { simd::quantize_q8_k(x, out) };
        return;
    }
    quantize_q8_k_scalar(x, out);
}

/// The portable version of [`quantize_q8_k`].
pub fn quantize_q8_k_scalar(x: &[f32], out: &mut Vec<BlockQ8>) {
    for chunk in x.chunks_exact(QK_K) {
        let mut amax = 0f32;
        let mut max = 0f32;
        for &v in chunk {
            if v.abs() > amax {
                amax = v.abs();
                max = v;
            }
        }
        if amax == 0.0 {
            out.extend(std::iter::repeat_n(BlockQ8::default(), QK_K / QK));
            continue;
        }
        let iscale = -127.0 / max;
        let d = 1.0 / iscale;
        for sub in chunk.chunks_exact(QK) {
            let mut b = BlockQ8 { d, ..Default::default() };
            let mut sum = 0i32;
            for (q, &v) in b.qs.iter_mut().zip(sub) {
                *q = ((iscale * v).round_ties_even() as i32).min(127) as i8;
                sum += *q as i32;
            }
            b.s = d * sum as f32;
            out.push(b);
        }
    }
}

/// Whether llama.cpp pairs this weight type with Q8_K activations (see [`quantize_q8_k`]).
pub fn uses_q8_k(t: GgmlType) -> bool {
    matches!(t, GgmlType::Q4_K | GgmlType::Q5_K | GgmlType::Q6_K)
}

/// The portable version of [`quantize_q8`].
pub fn quantize_q8_scalar(x: &[f32], out: &mut Vec<BlockQ8>) {
    for chunk in x.chunks_exact(QK) {
        let amax = chunk.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d > 0.0 { 1.0 / d } else { 0.0 };
        let mut b = BlockQ8 { d: f16::round_f16(d), ..Default::default() };
        let mut sum = 0i32;
        for (q, &v) in b.qs.iter_mut().zip(chunk) {
            let r = (v * id).round_ties_even() as i32;
            *q = r.clamp(-127, 127) as i8;
            sum += *q as i32;
        }
        b.s = f16::round_f16(b.d * sum as f32);
        out.push(b);
    }
}

/// Dequantizes `n` elements of type `t` from `data` into `out`.
pub fn dequantize(t: GgmlType, data: &[u8], out: &mut [f32]) {
    let n = out.len();
    let data = &data[..t.row_bytes(n)];
    match t {
        GgmlType::F32 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(4)) {
                *o = f32::from_le_bytes(c.try_into().unwrap());
            }
        }
        GgmlType::F16 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(2)) {
                *o = f16::to_f32(u16::from_le_bytes([c[0], c[1]]));
            }
        }
        GgmlType::BF16 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(2)) {
                *o = f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16);
            }
        }
        _ => {
            let bs = t.block_size();
            let bb = t.block_bytes();
            for (o, b) in out.chunks_exact_mut(bs).zip(data.chunks_exact(bb)) {
                match t {
                    GgmlType::Q4_0 => q4_0::dequantize_block(b, o),
                    GgmlType::Q4_1 => q4_1::dequantize_block(b, o),
                    GgmlType::Q5_0 => q5_0::dequantize_block(b, o),
                    GgmlType::Q8_0 => q8_0::dequantize_block(b, o),
                    GgmlType::Q4_K => q4_k::dequantize_block(b, o),
                    GgmlType::Q5_K => q5_k::dequantize_block(b, o),
                    GgmlType::Q6_K => q6_k::dequantize_block(b, o),
                    _ => unreachable!(),
                }
            }
        }
    }
}

/// Encodes f32 values as type `t` (reference quantizers; used to write test models).
pub fn quantize(t: GgmlType, x: &[f32]) -> Vec<u8> {
    assert_eq!(x.len() % t.block_size(), 0, "length not a multiple of the block size");
    let mut out = Vec::with_capacity(t.row_bytes(x.len()));
    match t {
        GgmlType::F32 => x.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        GgmlType::F16 => x.iter().for_each(|v| out.extend_from_slice(&f16::from_f32(*v).to_le_bytes())),
        GgmlType::BF16 => x.iter().for_each(|v| out.extend_from_slice(&((v.to_bits() >> 16) as u16).to_le_bytes())),
        _ => {
            for c in x.chunks_exact(t.block_size()) {
                match t {
                    GgmlType::Q4_0 => q4_0::quantize_block(c, &mut out),
                    GgmlType::Q4_1 => q4_1::quantize_block(c, &mut out),
                    GgmlType::Q5_0 => q5_0::quantize_block(c, &mut out),
                    GgmlType::Q8_0 => q8_0::quantize_block(c, &mut out),
                    GgmlType::Q4_K => q4_k::quantize_block(c, &mut out),
                    GgmlType::Q5_K => q5_k::quantize_block(c, &mut out),
                    GgmlType::Q6_K => q6_k::quantize_block(c, &mut out),
                    _ => unreachable!(),
                }
            }
        }
    }
    out
}

/// A dot-product kernel: weight row bytes (n elements) against quantized activations.
pub type DotFn = fn(w: &[u8], x: &[BlockQ8]) -> f32;

/// The scalar kernel for `t` (None for the float types).
pub fn dot_scalar(t: GgmlType) -> Option<DotFn> {
    Some(match t {
        GgmlType::Q4_0 => q4_0::vec_dot_scalar,
        GgmlType::Q4_1 => q4_1::vec_dot_scalar,
        GgmlType::Q5_0 => q5_0::vec_dot_scalar,
        GgmlType::Q8_0 => q8_0::vec_dot_scalar,
        GgmlType::Q4_K => q4_k::vec_dot_scalar,
        GgmlType::Q5_K => q5_k::vec_dot_scalar,
        GgmlType::Q6_K => q6_k::vec_dot_scalar,
        _ => return None,
    })
}

/// Whether the AVX2 kernels can run here (AVX2, FMA and F16C, checked at run time; `EVALGAP_NO_SIMD=1` disables them).
pub fn simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            std::env::var_os("EVALGAP_NO_SIMD").is_none()
                && is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma")
                && is_x86_feature_detected!("f16c")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the AVX-512 kernels can run here (AVX-512 F, BW, VL and VNNI, checked at run time;
/// `EVALGAP_NO_AVX512=1` falls back to the AVX2 ones).
pub fn avx512_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        simd::avx512_available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The three entry points of one format's SIMD kernels (one row, up to 4 activation rows, a
/// range of weight rows).
#[derive(Clone, Copy)]
struct SimdKernels {
    dot: DotFn,
    rows: RowsFn,
    many: ManyFn,
}

macro_rules! simd_kernels {
    ($m:ident, avx2) => {
        SimdKernels { dot: $m::vec_dot_avx2, rows: $m::vec_dot_rows_avx2, many: $m::vec_dot_many_avx2 }
    };
    ($m:ident, avx512) => {
        SimdKernels { dot: $m::vec_dot_avx512, rows: $m::vec_dot_rows_avx512, many: $m::vec_dot_many_avx512 }
    };
}

/// The AVX2 kernels for `t`, if this CPU has AVX2+FMA+F16C and the format has them.
fn kernels_avx2(t: GgmlType) -> Option<SimdKernels> {
    #[cfg(target_arch = "x86_64")]
    {
        if !simd_available() {
            return None;
        }
        Some(match t {
            GgmlType::Q4_0 => simd_kernels!(q4_0, avx2),
            GgmlType::Q4_1 => simd_kernels!(q4_1, avx2),
            GgmlType::Q5_0 => simd_kernels!(q5_0, avx2),
            GgmlType::Q8_0 => simd_kernels!(q8_0, avx2),
            GgmlType::Q4_K => simd_kernels!(q4_k, avx2),
            GgmlType::Q6_K => simd_kernels!(q6_k, avx2),
            _ => return None,
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = t;
        None
    }
}

/// The AVX-512 kernels for `t`, if this CPU has AVX-512 VNNI and the format has them. The
/// K-quant ones take Q8_K activations ([`quantize_q8_k`]), as [`matmul`] gives them.
fn kernels_avx512(t: GgmlType) -> Option<SimdKernels> {
    #[cfg(target_arch = "x86_64")]
    {
        if !avx512_available() {
            return None;
        }
        Some(match t {
            GgmlType::Q4_0 => simd_kernels!(q4_0, avx512),
            GgmlType::Q4_1 => simd_kernels!(q4_1, avx512),
            GgmlType::Q5_0 => simd_kernels!(q5_0, avx512),
            GgmlType::Q8_0 => simd_kernels!(q8_0, avx512),
            GgmlType::Q4_K => simd_kernels!(q4_k, avx512),
            GgmlType::Q6_K => simd_kernels!(q6_k, avx512),
            _ => return None,
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = t;
        None
    }
}

/// The AVX-512 kernel of `t` against packed activations ([`packed`]), for the 32-value formats.
pub fn dot_packed(t: GgmlType) -> Option<packed::PackedFn> {
    #[cfg(target_arch = "x86_64")]
    {
        if !avx512_available() {
            return None;
        }
        Some(match t {
            GgmlType::Q4_0 => q4_0::vec_dot_packed_avx512,
            GgmlType::Q4_1 => q4_1::vec_dot_packed_avx512,
            GgmlType::Q5_0 => q5_0::vec_dot_packed_avx512,
            GgmlType::Q8_0 => q8_0::vec_dot_packed_avx512,
            _ => return None,
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = t;
        None
    }
}

/// The AVX-512 K-quant kernel of `t` against packed Q8_K activations ([`packed::SuperQ8`]).
pub fn dot_packed_k(t: GgmlType) -> Option<packed::PackedKFn> {
    #[cfg(target_arch = "x86_64")]
    {
        if !avx512_available() {
            return None;
        }
        Some(match t {
            GgmlType::Q4_K => q4_k::vec_dot_packed_avx512,
            GgmlType::Q6_K => q6_k::vec_dot_packed_avx512,
            _ => return None,
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = t;
        None
    }
}

fn kernels_best(t: GgmlType) -> Option<SimdKernels> {
    // Q4_1's AVX-512 kernel is slower than its AVX2 one (two f16 pairs and the `m * s` terms
    // per block pair cost more than the wider products save).
    let wide = if t == GgmlType::Q4_1 { None } else { kernels_avx512(t) };
    wide.or_else(|| kernels_avx2(t))
}

/// The fastest SIMD kernel for `t` here (AVX-512 VNNI, else AVX2), if the format has one.
pub fn dot_simd(t: GgmlType) -> Option<DotFn> {
    kernels_best(t).map(|k| k.dot)
}

/// The AVX2 kernel for `t`, if this CPU has AVX2+FMA and the format has one.
pub fn dot_avx2(t: GgmlType) -> Option<DotFn> {
    kernels_avx2(t).map(|k| k.dot)
}

/// The AVX-512 kernel for `t`, if this CPU has AVX-512 VNNI and the format has one.
pub fn dot_avx512(t: GgmlType) -> Option<DotFn> {
    kernels_avx512(t).map(|k| k.dot)
}

/// A kernel that dots one weight row with up to 4 activation rows at once.
pub type RowsFn = fn(w: &[u8], xs: &[&[BlockQ8]], out: &mut [f32]);

/// The fastest multi-row SIMD kernel for `t`, if any.
pub fn dot_rows_simd(t: GgmlType) -> Option<RowsFn> {
    kernels_best(t).map(|k| k.rows)
}

/// A kernel over a range of weight rows: `(w, row_bytes, nrows, xs, out, stride)` writes
/// `out[i * stride + r] = dot(weight row i, xs[r])` for up to 4 activation rows.
pub type ManyFn = fn(&[u8], usize, usize, &[&[BlockQ8]], &mut [f32], usize);

/// The fastest SIMD range kernel for `t`, if any.
pub fn dot_many_simd(t: GgmlType) -> Option<ManyFn> {
    kernels_best(t).map(|k| k.many)
}

/// The fastest kernel for `t` on this machine.
pub fn dot_kernel(t: GgmlType) -> Option<DotFn> {
    dot_simd(t).or_else(|| dot_scalar(t))
}

/// Reads a little-endian f16 at `b[i..i+2]` as f32.
#[inline(always)]
pub(crate) fn read_f16(b: &[u8], i: usize) -> f32 {
    f16::to_f32(u16::from_le_bytes([b[i], b[i + 1]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
        (0..n)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                let u = (s % 20000) as f32 / 10000.0 - 1.0;
                u * (1.0 + (i % 7) as f32 * 0.3)
            })
            .collect()
    }

    const ALL: [GgmlType; 9] = [
        GgmlType::F16,
        GgmlType::BF16,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q8_0,
        GgmlType::Q4_K,
        GgmlType::Q5_K,
        GgmlType::Q6_K,
    ];

    #[test]
    fn roundtrip_error_matches_bit_width() {
        let x = sample(1024, 1);
        for t in ALL {
            let q = quantize(t, &x);
            assert_eq!(q.len(), t.row_bytes(x.len()));
            let mut y = vec![0f32; x.len()];
            dequantize(t, &q, &mut y);
            let rms = (x.iter().zip(&y).map(|(a, b)| (a - b).powi(2)).sum::<f32>() / x.len() as f32).sqrt();
            let bound = match t {
                GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q4_K => 0.15,
                GgmlType::Q5_0 | GgmlType::Q5_K => 0.08,
                GgmlType::Q6_K => 0.04,
                GgmlType::Q8_0 => 0.01,
                _ => 0.01,
            };
            assert!(rms < bound, "{t:?}: rms error {rms}");
        }
    }

    #[test]
    fn scalar_dot_matches_dequantized_dot() {
        let n = 512;
        let w = sample(n, 2);
        let x = sample(n, 3);
        let mut xq = Vec::new();
        quantize_q8(&x, &mut xq);
        let mut xd = vec![0f32; n];
        for (b, o) in xq.iter().zip(xd.chunks_exact_mut(QK)) {
            for (v, q) in o.iter_mut().zip(b.qs) {
                *v = b.d * q as f32;
            }
        }
        for t in ALL {
            let Some(f) = dot_scalar(t) else { continue };
            let q = quantize(t, &w);
            let mut wd = vec![0f32; n];
            dequantize(t, &q, &mut wd);
            let want: f32 = wd.iter().zip(&xd).map(|(a, b)| a * b).sum();
            let got = f(&q, &xq);
            assert!((got - want).abs() < 1e-3 * (1.0 + want.abs()), "{t:?}: {got} vs {want}");
        }
    }

    /// Activations quantized as [`matmul`] pairs them with weights of type `t`.
    fn activations_for(t: GgmlType, x: &[f32]) -> Vec<BlockQ8> {
        let mut q = Vec::new();
        if uses_q8_k(t) {
            quantize_q8_k(x, &mut q);
        } else {
            quantize_q8(x, &mut q);
        }
        q
    }

    /// Every SIMD family this machine can run: (name, kernels).
    type Family = (&'static str, fn(GgmlType) -> Option<SimdKernels>);

    fn families() -> Vec<Family> {
        let mut f: Vec<Family> = Vec::new();
        if simd_available() {
            f.push(("avx2", kernels_avx2));
        } else {
            eprintln!("no AVX2 here: SIMD kernels not tested");
        }
        if avx512_available() {
            f.push(("avx512", kernels_avx512));
        } else {
            eprintln!("no AVX-512 VNNI here: AVX-512 kernels not tested");
        }
        f
    }

    #[test]
    fn simd_kernels_match_scalar() {
        for (name, family) in families() {
            for seed in 0..5 {
                // 24 blocks of 32, and 7 (an odd count, for the kernels that take two at a time).
                for n in [256 * 3, 32 * 7] {
                    let w = sample(n, 10 + seed);
                    let x = sample(n, 20 + seed);
                    for t in ALL {
                        let (Some(s), Some(k)) = (dot_scalar(t), family(t)) else {
                            continue;
                        };
                        if !n.is_multiple_of(t.block_size()) {
                            continue;
                        }
                        let xq = activations_for(t, &x);
                        let q = quantize(t, &w);
                        let a = s(&q, &xq);
                        let b = (k.dot)(&q, &xq);
                        assert!((a - b).abs() <= 1e-4 * (1.0 + a.abs()), "{name} {t:?} n {n}: scalar {a} simd {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn simd_multi_row_kernels_match_single_row() {
        let n = 512;
        let w = sample(n, 40);
        for (name, family) in families() {
            for t in ALL {
                let Some(k) = family(t) else {
                    continue;
                };
                let xs: Vec<Vec<BlockQ8>> = (0..4).map(|i| activations_for(t, &sample(n, 50 + i))).collect();
                let q = quantize(t, &w);
                for nr in 1..=4 {
                    let refs: Vec<&[BlockQ8]> = xs[..nr].iter().map(|v| v.as_slice()).collect();
                    let mut out = [0f32; 4];
                    (k.rows)(&q, &refs, &mut out);
                    for r in 0..nr {
                        let want = (k.dot)(&q, &xs[r]);
                        assert!((out[r] - want).abs() <= 1e-4 * (1.0 + want.abs()), "{name} {t:?} rows {nr} r {r}");
                    }
                }
                // The range kernel over 3 weight rows, as `matmul` calls it.
                let w3: Vec<u8> = (0..3).flat_map(|i| quantize(t, &sample(n, 60 + i))).collect();
                let rb = t.row_bytes(n);
                for nr in 1..=4 {
                    let refs: Vec<&[BlockQ8]> = xs[..nr].iter().map(|v| v.as_slice()).collect();
                    let mut out = vec![0f32; 3 * 4];
                    (k.many)(&w3, rb, 3, &refs, &mut out, 4);
                    for i in 0..3 {
                        for r in 0..nr {
                            let want = dot_scalar(t).unwrap()(&w3[i * rb..(i + 1) * rb], &xs[r]);
                            let got = out[i * 4 + r];
                            assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "{name} {t:?} many {nr} row {i}");
                        }
                    }
                }
            }
        }
    }

    /// Checks `out[i * 8 + r]`, the packed kernels' product of weight row `i` (of `rb` bytes in
    /// `w`) with activation row `r` of `xs`, against the scalar kernel `s`.
    fn check_against_scalar(s: DotFn, w: &[u8], rb: usize, xs: &[Vec<BlockQ8>], out: &[f32], what: &str) {
        let nr = xs.len();
        for i in 0..w.len() / rb {
            for (r, x) in xs.iter().enumerate() {
                let want = s(&w[i * rb..(i + 1) * rb], x);
                let got = out[i * 8 + r];
                assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "{what} rows {nr} row {i}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn packed_kernels_match_scalar() {
        if !avx512_available() {
            eprintln!("no AVX-512 VNNI here: packed kernels not tested");
            return;
        }
        // 8 blocks, and 7 (an odd count: the last pair is half empty).
        for n in [256, 224] {
            let nb = n / QK;
            let xs: Vec<Vec<BlockQ8>> = (0..8).map(|i| activations_for(GgmlType::Q8_0, &sample(n, 80 + i))).collect();
            let packed: Vec<Vec<packed::PairQ8>> = xs
                .iter()
                .map(|x| {
                    let mut p = Vec::new();
                    packed::pack_row(x, &mut p);
                    p
                })
                .collect();
            for t in ALL {
                let Some(f) = dot_packed(t) else { continue };
                let s = dot_scalar(t).unwrap();
                let w: Vec<u8> = (0..3).flat_map(|i| quantize(t, &sample(n, 90 + i))).collect();
                let rb = t.row_bytes(n);
                for nr in 1..=8 {
                    let refs: Vec<&[packed::PairQ8]> = packed[..nr].iter().map(|v| v.as_slice()).collect();
                    let mut out = vec![0f32; 3 * 8];
                    f(&w, rb, 3, nb, &refs, &mut out, 8);
                    check_against_scalar(s, &w, rb, &xs[..nr], &out, &format!("{t:?} n {n}"));
                }
            }
        }
    }

    #[test]
    fn packed_k_quant_kernels_match_scalar() {
        if !avx512_available() {
            return;
        }
        let n = 512;
        let xs: Vec<Vec<BlockQ8>> = (0..8)
            .map(|i| {
                let mut x = sample(n, 100 + i);
                if i == 3 {
                    x[..256].iter_mut().for_each(|v| *v = 0.0); // an all-zero super-block
                }
                activations_for(GgmlType::Q4_K, &x)
            })
            .collect();
        let packed: Vec<Vec<packed::SuperQ8>> = xs
            .iter()
            .map(|x| {
                let mut p = Vec::new();
                packed::pack_super_row(x, &mut p);
                p
            })
            .collect();
        for t in ALL {
            let Some(f) = dot_packed_k(t) else { continue };
            let s = dot_scalar(t).unwrap();
            let w: Vec<u8> = (0..3).flat_map(|i| quantize(t, &sample(n, 110 + i))).collect();
            let rb = t.row_bytes(n);
            for nr in 1..=8 {
                let refs: Vec<&[packed::SuperQ8]> = packed[..nr].iter().map(|v| v.as_slice()).collect();
                let mut out = vec![0f32; 3 * 8];
                f(&w, rb, 3, &refs, &mut out, 8);
                check_against_scalar(s, &w, rb, &xs[..nr], &out, &format!("{t:?}"));
            }
        }
    }

    #[test]
    fn packed_k_scales_match() {
        for seed in 0..50u32 {
            let q: Vec<u8> = (0..12).map(|i| (seed.wrapping_mul(2654435761).rotate_left(i * 3) >> 5) as u8).collect();
            let (sc, m) = q4_k::scales_mins(&q);
            let p = q4_k::scales_mins_packed(&q);
            let bytes: Vec<u8> = p.iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(&bytes[..8], &sc[..]);
            assert_eq!(&bytes[8..], &m[..]);
        }
    }

    #[test]
    fn simd_activation_quantization_matches_scalar() {
        let x = sample(32 * 9, 77);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        quantize_q8(&x, &mut a);
        quantize_q8_scalar(&x, &mut b);
        for (p, q) in a.iter().zip(&b) {
            assert_eq!((p.d, p.s, p.qs), (q.d, q.s, q.qs));
        }
    }

    #[test]
    fn simd_k_activation_quantization_matches_scalar() {
        let mut x = sample(256 * 5, 78);
        x[300] = 9.0; // a clear maximum
        x[600] = -9.5; // a negative one
        x[700] = 9.5; // and a tie of magnitudes: the first wins
        x[1024..].iter_mut().for_each(|v| *v = 0.0); // an all-zero super-block
        let (mut a, mut b) = (Vec::new(), Vec::new());
        quantize_q8_k(&x, &mut a);
        quantize_q8_k_scalar(&x, &mut b);
        assert_eq!(a.len(), b.len());
        for (p, q) in a.iter().zip(&b) {
            assert_eq!((p.d, p.s, p.qs), (q.d, q.s, q.qs));
        }
    }

    #[test]
    fn q8_activation_quantization() {
        let x: Vec<f32> = (0..64).map(|i| i as f32 - 32.0).collect();
        let mut q = Vec::new();
        quantize_q8(&x, &mut q);
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].qs[0], -127);
        let sum: i32 = q[1].qs.iter().map(|&v| v as i32).sum();
        assert!((q[1].s - q[1].d * sum as f32).abs() < 1e-3 * q[1].s.abs().max(1.0));
    }
}
