//! Q4_0: blocks of 32 weights, `d` (f16) then 16 bytes of nibbles; weight = (nibble - 8) * d.
//! Element i < 16 is the low nibble of byte i, element i + 16 its high nibble.

use super::{read_f16, BlockQ8, QK};

pub const BLOCK_BYTES: usize = 2 + QK / 2;

pub fn dequantize_block(b: &[u8], out: &mut [f32]) {
    let d = read_f16(b, 0);
    let qs = &b[2..18];
    for i in 0..16 {
        out[i] = ((qs[i] & 0x0f) as i32 - 8) as f32 * d;
        out[i + 16] = ((qs[i] >> 4) as i32 - 8) as f32 * d;
    }
}

pub fn quantize_block(x: &[f32], out: &mut Vec<u8>) {
    let max = x.iter().fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
    let d = max / -8.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend_from_slice(&super::f16::from_f32(d).to_le_bytes());
    for i in 0..16 {
        let q = |v: f32| ((v * id + 8.5) as i32).clamp(0, 15) as u8;
        out.push(q(x[i]) | (q(x[i + 16]) << 4));
    }
}

pub fn vec_dot_scalar(w: &[u8], x: &[BlockQ8]) -> f32 {
    let mut sum = 0f32;
    for (b, a) in w.chunks_exact(BLOCK_BYTES).zip(x) {
        let d = read_f16(b, 0);
        let mut isum = 0i32;
        for i in 0..16 {
            isum += ((b[2 + i] & 0x0f) as i32 - 8) * a.qs[i] as i32;
            isum += ((b[2 + i] >> 4) as i32 - 8) * a.qs[i + 16] as i32;
        }
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
    let eight = _mm256_set1_epi8(8);
    macro_rules! block {
        ($i:expr, $acc:ident) => {{
            let i = $i;
            let b = p.add(i * BLOCK_BYTES);
            let d = f16_at(b, 0);
            let q = _mm256_sub_epi8(unpack_nibbles(b.add(2)), eight);
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
    let eight = _mm512_set1_epi8(8);
    signed_pairs::<N>(w, xs, out, BLOCK_BYTES, |b0, b1| {
        _mm512_sub_epi8(unpack_nibbles_pair(b0.add(2), b1.add(2)), eight)
    });
}

super::packed::packed_drivers!(corr: Some(0), mins: false);

/// Two weight blocks for the packed kernels: unsigned bytes (the values plus the offset), scales.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn decode_pair(
    b0: *const u8,
    b1: *const u8,
) -> (std::arch::x86_64::__m512i, std::arch::x86_64::__m512, std::arch::x86_64::__m512) {
    use std::arch::x86_64::*;
    // w + 8: the nibbles.
    let q = super::simd::unpack_nibbles_pair(b0.add(2), b1.add(2));
    (q, super::packed::f16_pair(b0, b1), _mm512_setzero_ps())
}
