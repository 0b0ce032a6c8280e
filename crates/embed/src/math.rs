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

pub fn isa() -> Isa {
    static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
    *ISA.get_or_init(|| {
        if std::env::var_os("EVALGAP_EMBED_GENERIC").is_some() {
            return Isa::Generic;
        }
        detect()
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

/// Runs `$body` (an expression using the given bindings) inside a function compiled for AVX2+FMA
/// when the CPU has it, else as plain code.
macro_rules! vectorized {
    ($(#[$m:meta])* fn $name:ident($($arg:ident : $ty:ty),*) $body:block) => {
        $(#[$m])*
        pub fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                if isa() != Isa::Generic {
                    // SAFETY: isa() checked that the CPU has AVX2 and FMA.
                    unsafe { avx2($($arg),*) };
                    return;
                }
            }
            body($($arg),*)
        }
    };
}

/// e^x for f32, Cephes' expf: range reduction by ln 2, degree-5 polynomial, exponent by bits.
/// Relative error below 2e-7 on [-87, 88]; branch-free so loops over it vectorise.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.3);
    let fx = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - fx * 0.693_359_4 - fx * -2.121_944_4e-4;
    let mut y = 1.987_569_1e-4f32;
    y = y * r + 1.398_2e-3;
    y = y * r + 8.333_452e-3;
    y = y * r + 4.166_579_6e-2;
    y = y * r + 0.166_666_65;
    y = y * r + 0.5;
    y = y * r * r + r + 1.0;
    let pow2 = f32::from_bits(((fx as i32 + 127) as u32) << 23);
    y * pow2
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
            let mut mean = 0f32;
            for v in row.iter() {
                mean += *v;
            }
            mean /= n as f32;
            let mut var = 0f32;
            for v in row.iter() {
                let d = *v - mean;
                var += d * d;
            }
            var /= n as f32;
            let inv = 1.0 / (var + eps).sqrt();
            for ((v, g), bb) in row.iter_mut().zip(w).zip(b) {
                *v = (*v - mean) * inv * *g + *bb;
            }
        }
    }
}

vectorized! {
    /// One head of self-attention over one sequence. `qkv` holds the sequence's rows of
    /// [q | k | v] (each `hidden` wide, row stride `3 * hidden`); the head's context rows go to
    /// `out` (row stride `hidden`) at column `head * dh`. `scratch` needs `dh * len + len` floats.
    fn attention_head(qkv: &[f32], out: &mut [f32], len: usize, hidden: usize, head: usize, dh: usize, scratch: &mut Vec<f32>) {
        let stride = 3 * hidden;
        let scale = 1.0 / (dh as f32).sqrt();
        scratch.clear();
        scratch.resize(dh * len + len, 0.0);
        let (kt, p) = scratch.split_at_mut(dh * len);
        // K of this head, transposed: kt[d * len + j].
        for j in 0..len {
            let k = &qkv[j * stride + hidden + head * dh..][..dh];
            for d in 0..dh {
                kt[d * len + j] = k[d];
            }
        }
        for i in 0..len {
            let q = &qkv[i * stride + head * dh..][..dh];
            p.fill(0.0);
            for d in 0..dh {
                let qd = q[d] * scale;
                for (s, k) in p.iter_mut().zip(&kt[d * len..(d + 1) * len]) {
                    *s += qd * *k;
                }
            }
            let mut max = f32::NEG_INFINITY;
            for s in p.iter() {
                max = max.max(*s);
            }
            let mut sum = 0f32;
            for s in p.iter_mut() {
                *s = exp(*s - max);
                sum += *s;
            }
            let inv = 1.0 / sum;
            let o = &mut out[i * hidden + head * dh..][..dh];
            o.fill(0.0);
            for (j, s) in p.iter().enumerate() {
                let w = *s * inv;
                let v = &qkv[j * stride + 2 * hidden + head * dh..][..dh];
                for (a, b) in o.iter_mut().zip(v) {
                    *a += w * *b;
                }
            }
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
}
