//! Element-wise kernels (GELU, LayerNorm, softmax, attention) written so that the compiler
//! vectorises them, and compiled twice: for AVX2+FMA (picked at run time when the CPU has it) and
//! for the baseline target.

/// Which instruction set the kernels use, detected once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    Avx512,
    Avx2,
    Generic,
}

/// The instruction set in use: the best the CPU has, or a lower one named by
/// `EVALGAP_EMBED_ISA` (`generic`, `avx2`), for testing every path on one machine.
pub fn isa() -> Isa {
    static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
    *ISA.get_or_init(|| {
        let best = detect();
        match std::env::var("EVALGAP_EMBED_ISA").as_deref() {
            Ok("generic") => Isa::Generic,
            Ok("avx2") if best != Isa::Generic => Isa::Avx2,
            _ => best,
        }
    })
}

#[cfg(target_arch = "x86_64")]
fn detect() -> Isa {
    if crate::gemm::avx512_available() {
        Isa::Avx512
    } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        Isa::Avx2
    } else {
        Isa::Generic
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Isa {
    Isa::Generic
}

/// Defines `pub fn $name` whose body is compiled three times: for AVX-512 (Rust >= 1.89), for
/// AVX2+FMA, and for the baseline target; the CPU picks at run time (see [`isa`]).
macro_rules! vectorized {
    ($(#[$m:meta])* fn $name:ident($($arg:ident : $ty:ty),*) $body:block) => {
        $(#[$m])*
        pub fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body<const FMA: bool>($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[rustversion::since(1.89)]
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                unsafe fn avx512($($arg: $ty),*) {
                    body::<true>($($arg),*)
                }
                #[rustversion::before(1.89)]
                unsafe fn avx512($($arg: $ty),*) {
                    body::<false>($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) {
                    body::<true>($($arg),*)
                }
                match isa() {
                    // SAFETY: isa() reports AVX-512 only when the CPU has it (and Rust can emit it).
                    Isa::Avx512 => unsafe { avx512($($arg),*) },
                    // SAFETY: isa() checked that the CPU has AVX2 and FMA.
                    Isa::Avx2 => unsafe { avx2($($arg),*) },
                    Isa::Generic => body::<false>($($arg),*),
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            body::<false>($($arg),*)
        }
    };
}

/// `a * b + c`: one fused instruction where the caller is compiled with FMA (`FMA = true`), else
/// a multiply and an add (a fused one would be a slow library call there).
#[inline(always)]
pub fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// e^x for f32, Cephes' expf: range reduction by ln 2, degree-5 polynomial, exponent by bits.
/// Relative error below 2e-7 on [-87, 88]. Branch-free and without float-to-int casts (rounding
/// by the 1.5 * 2^23 trick), so loops over it vectorise.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23
    let x = x.clamp(-87.3, 88.3);
    let t = x * std::f32::consts::LOG2_E + MAGIC;
    let fx = t - MAGIC; // round(x / ln 2), exactly an integer in [-126, 128]
    let r = x - fx * 0.693_359_4 - fx * -2.121_944_4e-4;
    let mut y = 1.987_569_1e-4f32;
    y = y * r + 1.398_2e-3;
    y = y * r + 8.333_452e-3;
    y = y * r + 4.166_579_6e-2;
    y = y * r + 0.166_666_65;
    y = y * r + 0.5;
    y = y * r * r + r + 1.0;
    // t's low mantissa bits hold fx: 2^fx has exponent bits fx + 127.
    let pow2 = f32::from_bits(t.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    y * pow2
}

/// Sum with 16 independent lanes (vectorises; the order differs from a serial sum only in rounding).
#[inline(always)]
pub fn sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        for l in 0..16 {
            acc[l] += c[l];
        }
    }
    let mut s = chunks.remainder().iter().sum::<f32>();
    for a in acc {
        s += a;
    }
    s
}

/// Maximum with 16 independent lanes.
#[inline(always)]
pub fn max(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 16];
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        for l in 0..16 {
            acc[l] = if c[l] > acc[l] { c[l] } else { acc[l] };
        }
    }
    let mut m = chunks.remainder().iter().fold(f32::NEG_INFINITY, |a, b| a.max(*b));
    for a in acc {
        m = m.max(a);
    }
    m
}

/// erf for f32: Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152) * t + 1.421_413_8) * t - 0.284_496_74) * t + 0.254_829_6) * t;
    let y = 1.0 - poly * exp(-a * a);
    y.copysign(x)
}

/// GELU, the exact (erf) form BERT uses: x/2 (1 + erf(x/sqrt 2)).
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

vectorized! {
    fn gelu_inplace(x: &mut [f32]) {
        for v in x.iter_mut() {
            *v = gelu(*v);
        }
    }
}

vectorized! {
    fn add_inplace(x: &mut [f32], y: &[f32]) {
        for (a, b) in x.iter_mut().zip(y) {
            *a += *b;
        }
    }
}

vectorized! {
    /// Row-wise LayerNorm of `x` (rows of `w.len()`), in place.
    fn layer_norm(x: &mut [f32], w: &[f32], b: &[f32], eps: f32) {
        let n = w.len();
        for row in x.chunks_exact_mut(n) {
            let mean = sum(row) / n as f32;
            let mut acc = [0f32; 16];
            let mut chunks = row.chunks_exact(16);
            for c in &mut chunks {
                for l in 0..16 {
                    let d = c[l] - mean;
                    acc[l] += d * d;
                }
            }
            let rest: f32 = chunks.remainder().iter().map(|v| (v - mean) * (v - mean)).sum();
            let var = (acc.iter().sum::<f32>() + rest) / n as f32;
            let inv = 1.0 / (var + eps).sqrt();
            for ((v, g), bb) in row.iter_mut().zip(w).zip(b) {
                *v = (*v - mean) * inv * *g + *bb;
            }
        }
    }
}

/// Width of an attention head (all-MiniLM-L6-v2: 384 / 12).
pub const HEAD_DIM: usize = 32;

/// One head of self-attention over one sequence. `qkv` holds the sequence's rows of
/// [q | k | v] (each `hidden` wide, row stride `3 * hidden`); the head's context rows go to
/// `out` (row stride `hidden`) at column `head * HEAD_DIM`. `scratch` is kept between calls.
pub fn attention_head(qkv: &[f32], out: &mut [f32], len: usize, hidden: usize, head: usize, scratch: &mut Vec<f32>) {
    assert!(qkv.len() >= len * 3 * hidden && out.len() >= len * hidden && (head + 1) * HEAD_DIM <= hidden);
    #[cfg(target_arch = "x86_64")]
    if isa() == Isa::Avx512 {
        return attention_avx512(qkv, out, len, hidden, head, scratch);
    }
    attention_head_plain(qkv, out, len, hidden, head, scratch)
}

#[cfg(target_arch = "x86_64")]
#[rustversion::since(1.89)]
fn attention_avx512(qkv: &[f32], out: &mut [f32], len: usize, hidden: usize, head: usize, scratch: &mut Vec<f32>) {
    // SAFETY: isa() is Avx512 only when the CPU has AVX-512F; attention_head checked the lengths.
    unsafe { avx512::attention_head(qkv, out, len, hidden, head, scratch) }
}

#[cfg(target_arch = "x86_64")]
#[rustversion::before(1.89)]
fn attention_avx512(_: &[f32], _: &mut [f32], _: usize, _: usize, _: usize, _: &mut Vec<f32>) {
    unreachable!("AVX-512 kernels need Rust 1.89")
}

#[cfg(target_arch = "x86_64")]
#[rustversion::since(1.89)]
mod avx512 {
    use super::{exp, max, sum, HEAD_DIM};
    use std::arch::x86_64::*;

    /// Queries per block: each key and value row loaded once serves this many, and the products
    /// keep QB independent sums in registers instead of one dependent chain.
    const QB: usize = 8;

    /// # Safety
    /// The CPU must have AVX-512F; `qkv` holds `len` rows of stride `3 * hidden`, `out` `len` rows
    /// of stride `hidden`, and `(head + 1) * HEAD_DIM <= hidden`.
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    #[allow(clippy::needless_range_loop)] // indices name the register blocks
    pub unsafe fn attention_head(
        qkv: &[f32],
        out: &mut [f32],
        len: usize,
        hidden: usize,
        head: usize,
        scratch: &mut Vec<f32>,
    ) {
        const DH: usize = HEAD_DIM;
        const _: () = assert!(DH == 32);
        let stride = 3 * hidden;
        let scale = 1.0 / (DH as f32).sqrt();
        // K of this head transposed, keys zero-padded to a multiple of 16: kt[d * lp + j]; then
        // QB rows of scores, lp wide.
        let lp = len.div_ceil(16) * 16;
        scratch.clear();
        scratch.resize(DH * lp + QB * lp, 0.0);
        let (kt, p) = scratch.split_at_mut(DH * lp);
        for j in 0..len {
            let k: &[f32; DH] = qkv[j * stride + hidden + head * DH..][..DH].try_into().expect("DH");
            for d in 0..DH {
                kt[d * lp + j] = k[d];
            }
        }
        let qkv = qkv.as_ptr();
        for i0 in (0..len).step_by(QB) {
            let nq = QB.min(len - i0);
            let mut qs = [[0f32; DH]; QB];
            for (qi, qs) in qs.iter_mut().enumerate().take(nq) {
                let q: &[f32; DH] = &*(qkv.add((i0 + qi) * stride + head * DH) as *const [f32; DH]);
                for d in 0..DH {
                    qs[d] = q[d] * scale;
                }
            }
            for j0 in (0..lp).step_by(16) {
                let mut acc = [_mm512_setzero_ps(); QB];
                for d in 0..DH {
                    let k = _mm512_loadu_ps(kt.as_ptr().add(d * lp + j0));
                    for qi in 0..QB {
                        acc[qi] = _mm512_fmadd_ps(_mm512_set1_ps(qs[qi][d]), k, acc[qi]);
                    }
                }
                for (qi, acc) in acc.iter().enumerate() {
                    _mm512_storeu_ps(p.as_mut_ptr().add(qi * lp + j0), *acc);
                }
            }
            for row in p.chunks_exact_mut(lp).take(nq) {
                let row = &mut row[..len];
                let m = max(row);
                for s in row.iter_mut() {
                    *s = exp(*s - m);
                }
                let inv = 1.0 / sum(row);
                for s in row.iter_mut() {
                    *s *= inv;
                }
            }
            let mut o = [[_mm512_setzero_ps(); 2]; QB];
            for j in 0..len {
                let v = qkv.add(j * stride + 2 * hidden + head * DH);
                let (v0, v1) = (_mm512_loadu_ps(v), _mm512_loadu_ps(v.add(16)));
                for qi in 0..QB {
                    let w = _mm512_set1_ps(*p.as_ptr().add(qi * lp + j));
                    o[qi][0] = _mm512_fmadd_ps(w, v0, o[qi][0]);
                    o[qi][1] = _mm512_fmadd_ps(w, v1, o[qi][1]);
                }
            }
            for (qi, o) in o.iter().enumerate().take(nq) {
                let dst = out.as_mut_ptr().add((i0 + qi) * hidden + head * DH);
                _mm512_storeu_ps(dst, o[0]);
                _mm512_storeu_ps(dst.add(16), o[1]);
            }
        }
    }
}

vectorized! {
    /// [`attention_head`] for AVX2 and the baseline target, one query at a time.
    fn attention_head_plain(qkv: &[f32], out: &mut [f32], len: usize, hidden: usize, head: usize, scratch: &mut Vec<f32>) {
        const DH: usize = HEAD_DIM;
        let stride = 3 * hidden;
        let scale = 1.0 / (DH as f32).sqrt();
        // K of this head, transposed and zero-padded to a multiple of 16 keys: kt[d * lp + j].
        let lp = len.div_ceil(16) * 16;
        scratch.clear();
        scratch.resize(DH * lp + lp, 0.0);
        let (kt, p) = scratch.split_at_mut(DH * lp);
        let p = &mut p[..len];
        for j in 0..len {
            let k: &[f32; DH] = qkv[j * stride + hidden + head * DH..][..DH].try_into().expect("DH");
            for d in 0..DH {
                kt[d * lp + j] = k[d];
            }
        }
        for i in 0..len {
            let q: &[f32; DH] = qkv[i * stride + head * DH..][..DH].try_into().expect("DH");
            let mut qs = [0f32; DH];
            for d in 0..DH {
                qs[d] = q[d] * scale;
            }
            // Scores, 16 keys at a time with the accumulator in registers.
            for j0 in (0..lp).step_by(16) {
                let mut acc = [0f32; 16];
                for d in 0..DH {
                    let qd = qs[d];
                    let k: &[f32; 16] = kt[d * lp + j0..][..16].try_into().expect("16");
                    for l in 0..16 {
                        acc[l] = madd::<FMA>(qd, k[l], acc[l]);
                    }
                }
                let n = 16.min(len - j0);
                p[j0..j0 + n].copy_from_slice(&acc[..n]);
            }
            let m = max(p);
            for s in p.iter_mut() {
                *s = exp(*s - m);
            }
            let inv = 1.0 / sum(p);
            for s in p.iter_mut() {
                *s *= inv;
            }
            let mut o = [0f32; DH];
            for (j, s) in p.iter().enumerate() {
                let w = *s;
                let v: &[f32; DH] = qkv[j * stride + 2 * hidden + head * DH..][..DH].try_into().expect("DH");
                for d in 0..DH {
                    o[d] = madd::<FMA>(w, v[d], o[d]);
                }
            }
            out[i * hidden + head * DH..][..DH].copy_from_slice(&o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_erf_are_accurate() {
        for i in -800..=800 {
            let x = i as f32 * 0.1;
            let (e, r) = (exp(x) as f64, (x as f64).exp());
            assert!(((e - r) / r).abs() < 5e-7, "exp({x}) = {e}, want {r}");
        }
        // erf reference values (Abramowitz & Stegun table).
        for (x, r) in
            [(0.0, 0.0), (0.1, 0.112_462_916), (0.5, 0.520_499_878), (1.0, 0.842_700_793), (2.0, 0.995_322_265)]
        {
            assert!((erf(x) as f64 - r).abs() < 3e-7, "erf({x})");
            assert!((erf(-x) as f64 + r).abs() < 3e-7);
        }
        assert!((gelu(1.0) - 0.841_344_7).abs() < 1e-6);
        let mut v = vec![1.0f32; 37];
        gelu_inplace(&mut v);
        assert!(v.iter().all(|x| (x - 0.841_344_7).abs() < 1e-6));
    }

    /// The AVX-512 attention (query blocks of 8) against the plain one, on lengths around the
    /// block sizes. Runs the plain one twice where the CPU has no AVX-512.
    #[test]
    fn attention_paths_agree() {
        let hidden = 2 * HEAD_DIM;
        for len in [1, 7, 8, 9, 16, 17, 33, 70] {
            let qkv: Vec<f32> =
                (0..len * 3 * hidden).map(|i| ((i * 7919 % 1009) as f32 / 1009.0 - 0.5) * 4.0).collect();
            let (mut a, mut b) = (vec![0f32; len * hidden], vec![0f32; len * hidden]);
            let mut scratch = Vec::new();
            for head in 0..2 {
                attention_head(&qkv, &mut a, len, hidden, head, &mut scratch);
                attention_head_plain(&qkv, &mut b, len, hidden, head, &mut scratch);
            }
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-5, "len {len}: {x} vs {y}");
            }
        }
    }
}
