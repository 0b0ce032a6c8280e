//! Q8_0: blocks of 32 weights, `d` (f16) then 32 signed bytes; weight = q * d.

use super::{read_f16, BlockQ8, QK};

pub const BLOCK_BYTES: usize = 2 + QK;

pub fn dequantize_block(b: &[u8], out: &mut [f32]) {
    let d = read_f16(b, 0);
    for (o, &q) in out.iter_mut().zip(&b[2..2 + QK]) {
        *o = q as i8 as f32 * d;
    }
}

pub fn quantize_block(x: &[f32], out: &mut Vec<u8>) {
    let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend_from_slice(&super::f16::from_f32(d).to_le_bytes());
    for &v in x {
        out.push(((v * id).round() as i32).clamp(-127, 127) as i8 as u8);
    }
}

pub fn vec_dot_scalar(w: &[u8], x: &[BlockQ8]) -> f32 {
    let mut sum = 0f32;
    for (b, a) in w.chunks_exact(BLOCK_BYTES).zip(x) {
        let d = read_f16(b, 0);
        let isum: i32 = b[2..2 + QK].iter().zip(a.qs).map(|(&q, y)| q as i8 as i32 * y as i32).sum();
        sum += d * a.d * isum as f32;
    }
    sum
}

super::simd::avx2_row_drivers!(|nb| bytes: nb * BLOCK_BYTES, ok: true);

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn avx2<const N: usize>(w: &[u8], xs: &[&[BlockQ8]], out: &mut [f32]) {
    use super::simd::*;
    use std::arch::x86_64::*;
    // Two sets of accumulators (even and odd blocks) so that consecutive blocks do not wait on
    // each other's additions.
    let mut acc0 = [_mm256_setzero_ps(); N];
    let mut acc1 = [_mm256_setzero_ps(); N];
    let p = w.as_ptr();
    let nb = xs[0].len();
    macro_rules! block {
        ($i:expr, $acc:ident) => {{
            let i = $i;
            let b = p.add(i * BLOCK_BYTES);
            let d = f16_at(b, 0);
            let q = _mm256_loadu_si256(b.add(2) as *const __m256i);
            // |q| once; the sign moves onto each activation row.
            let aq = _mm256_sign_epi8(q, q);
            for r in 0..N {
                let a = xs.get_unchecked(r).get_unchecked(i);
                let sy = _mm256_sign_epi8(load_q8(&a.qs), q);
                let dot = dot_u8_i8(aq, sy);
                $acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * a.d), _mm256_cvtepi32_ps(dot), $acc[r]);
            }
        }};
    }
    let mut i = 0;
    while i + 1 < nb {
        block!(i, acc0);
        block!(i + 1, acc1);
        i += 2;
    }
    if i < nb {
        block!(i, acc0);
    }
    for r in 0..N {
        out[r] = hsum(_mm256_add_ps(acc0[r], acc1[r]));
    }
}

super::simd::avx512_row_drivers!(|nb| bytes: nb * BLOCK_BYTES, ok: true);

/// Two blocks per 512-bit register; the sign of the weights moves onto the activations.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn avx512<const N: usize>(w: &[u8], xs: &[&[BlockQ8]], out: &mut [f32]) {
    use super::simd::*;
    use std::arch::x86_64::*;
    let mut acc = [_mm512_setzero_ps(); N];
    let p = w.as_ptr();
    let nb = xs[0].len();
    let mut i = 0;
    while i < nb {
        let b0 = p.add(i * BLOCK_BYTES);
        let pair = i + 1 < nb;
        let lo = _mm256_loadu_si256(b0.add(2) as *const __m256i);
        let (q, dw) = if pair {
            let b1 = b0.add(BLOCK_BYTES);
            let hi = _mm256_loadu_si256(b1.add(2) as *const __m256i);
            (_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), pair_ps(f16_at(b0, 0), f16_at(b1, 0)))
        } else {
            (_mm512_zextsi256_si512(lo), pair_ps(f16_at(b0, 0), 0.0))
        };
        dot_signed_pair(&mut acc, xs, i, pair, q, dw);
        i += 2;
    }
    for r in 0..N {
        out[r] = _mm512_reduce_add_ps(acc[r]);
    }
}

super::packed::packed_drivers!(corr: Some(2), mins: false);

/// Two weight blocks for the packed kernels: unsigned bytes (the values plus the offset), scales.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn decode_pair(
    b0: *const u8,
    b1: *const u8,
) -> (std::arch::x86_64::__m512i, std::arch::x86_64::__m512, std::arch::x86_64::__m512) {
    use std::arch::x86_64::*;
    let lo = _mm256_loadu_si256(b0.add(2) as *const __m256i);
    let hi = _mm256_loadu_si256(b1.add(2) as *const __m256i);
    // w + 128 as unsigned bytes.
    let u = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), _mm512_set1_epi8(-128));
    (u, super::packed::f16_pair(b0, b1), _mm512_setzero_ps())
}
