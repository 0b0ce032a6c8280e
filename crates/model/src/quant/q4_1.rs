//! Q4_1: blocks of 32 weights, `d` and `m` (f16) then 16 bytes of nibbles; weight = nibble * d + m.
//! Element i < 16 is the low nibble of byte i, element i + 16 its high nibble.

use super::{read_f16, BlockQ8, QK};

pub const BLOCK_BYTES: usize = 4 + QK / 2;

pub fn dequantize_block(b: &[u8], out: &mut [f32]) {
    let d = read_f16(b, 0);
    let m = read_f16(b, 2);
    let qs = &b[4..20];
    for i in 0..16 {
        out[i] = (qs[i] & 0x0f) as f32 * d + m;
        out[i + 16] = (qs[i] >> 4) as f32 * d + m;
    }
}

pub fn quantize_block(x: &[f32], out: &mut Vec<u8>) {
    let min = x.iter().copied().fold(f32::INFINITY, f32::min);
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let d = (max - min) / 15.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend_from_slice(&super::f16::from_f32(d).to_le_bytes());
    out.extend_from_slice(&super::f16::from_f32(min).to_le_bytes());
    for i in 0..16 {
        let q = |v: f32| (((v - min) * id + 0.5) as i32).clamp(0, 15) as u8;
        out.push(q(x[i]) | (q(x[i + 16]) << 4));
    }
}

pub fn vec_dot_scalar(w: &[u8], x: &[BlockQ8]) -> f32 {
    let mut sum = 0f32;
    for (b, a) in w.chunks_exact(BLOCK_BYTES).zip(x) {
        let d = read_f16(b, 0);
        let m = read_f16(b, 2);
        let mut isum = 0i32;
        for i in 0..16 {
            isum += (b[4 + i] & 0x0f) as i32 * a.qs[i] as i32;
            isum += (b[4 + i] >> 4) as i32 * a.qs[i + 16] as i32;
        }
        sum += d * a.d * isum as f32 + m * a.s;
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
    let mut mins = [_mm_setzero_ps(); N];
    let p = w.as_ptr();
    let nb = xs[0].len();
    macro_rules! block {
        ($i:expr, $acc:ident) => {{
            let i = $i;
            let b = p.add(i * BLOCK_BYTES);
            // [d, m, d, m] of the weight block.
            let dm = _mm_cvtph_ps(_mm_set1_epi32(std::ptr::read_unaligned(b as *const i32)));
            let q = unpack_nibbles(b.add(4));
            for r in 0..N {
                let a = xs.get_unchecked(r).get_unchecked(i);
                // [d * a.d, m * a.s]
                let ds = _mm_castsi128_ps(_mm_loadl_epi64(a as *const BlockQ8 as *const __m128i));
                let prod = _mm_mul_ps(dm, ds);
                let dot = dot_u8_i8(q, load_q8(&a.qs));
                $acc[r] = _mm256_fmadd_ps(_mm256_broadcastss_ps(prod), _mm256_cvtepi32_ps(dot), $acc[r]);
                mins[r] = _mm_add_ps(mins[r], prod);
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
        let m = mins[r];
        out[r] = hsum(_mm256_add_ps(acc0[r], acc1[r])) + _mm_cvtss_f32(_mm_shuffle_ps(m, m, 1));
    }
}

super::simd::avx512_row_drivers!(|nb| bytes: nb * BLOCK_BYTES, ok: true);

/// Two blocks per 512-bit register (nibbles are unsigned: no sign trick); the `m * s` terms are
/// summed apart.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn avx512<const N: usize>(w: &[u8], xs: &[&[BlockQ8]], out: &mut [f32]) {
    use super::simd::*;
    use std::arch::x86_64::*;
    let mut acc = [_mm512_setzero_ps(); N];
    let mut mins = [0f32; N];
    let p = w.as_ptr();
    let nb = xs[0].len();
    let mut i = 0;
    while i < nb {
        let b0 = p.add(i * BLOCK_BYTES);
        let pair = i + 1 < nb;
        let b1 = if pair { b0.add(BLOCK_BYTES) } else { b0 };
        let q = unpack_nibbles_pair(b0.add(4), b1.add(4));
        let (d0, m0) = (f16_at(b0, 0), f16_at(b0, 2));
        let (d1, m1) = if pair { (f16_at(b1, 0), f16_at(b1, 2)) } else { (0.0, 0.0) };
        let dw = pair_ps(d0, d1);
        for r in 0..N {
            let a = xs.get_unchecked(r).as_ptr().add(i);
            let (x, dx) = if pair {
                mins[r] += m0 * (*a).s + m1 * (*a.add(1)).s;
                (load_q8_pair(a), pair_ps((*a).d, (*a.add(1)).d))
            } else {
                mins[r] += m0 * (*a).s;
                (load_q8_one(a), pair_ps((*a).d, 0.0))
            };
            let dot = dpbusd(q, x);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dw, dx), acc[r]);
        }
        i += 2;
    }
    for r in 0..N {
        out[r] = _mm512_reduce_add_ps(acc[r]) + mins[r];
    }
}

super::packed::packed_drivers!(corr: None, mins: true);

/// Two weight blocks for the packed kernels: the nibbles, scales and minimums.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn decode_pair(
    b0: *const u8,
    b1: *const u8,
) -> (std::arch::x86_64::__m512i, std::arch::x86_64::__m512, std::arch::x86_64::__m512) {
    use std::arch::x86_64::*;
    let dm =
        std::ptr::read_unaligned(b0 as *const u32) as u64 | (std::ptr::read_unaligned(b1 as *const u32) as u64) << 32;
    // [d0, m0, d1, m1]
    let f = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi64_si128(dm as i64)));
    let dw = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2), f);
    let mw = _mm512_permutexvar_ps(_mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3), f);
    (super::simd::unpack_nibbles_pair(b0.add(4), b1.add(4)), dw, mw)
}
