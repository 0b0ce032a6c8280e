//! Q5_0: blocks of 32 weights, `d` (f16), 4 bytes `qh` of fifth bits, 16 bytes of nibbles;
//! weight = ((nibble | fifth bit << 4) - 16) * d. Bit i of `qh` belongs to element i.

use super::{read_f16, BlockQ8, QK};

pub const BLOCK_BYTES: usize = 2 + 4 + QK / 2;

#[inline]
fn values(b: &[u8]) -> [i32; QK] {
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    let qs = &b[6..22];
    let mut v = [0i32; QK];
    for i in 0..16 {
        let h0 = ((qh >> i) & 1) << 4;
        let h1 = ((qh >> (i + 16)) & 1) << 4;
        v[i] = ((qs[i] & 0x0f) as u32 | h0) as i32 - 16;
        v[i + 16] = ((qs[i] >> 4) as u32 | h1) as i32 - 16;
    }
    v
}

pub fn dequantize_block(b: &[u8], out: &mut [f32]) {
    let d = read_f16(b, 0);
    for (o, q) in out.iter_mut().zip(values(b)) {
        *o = q as f32 * d;
    }
}

pub fn quantize_block(x: &[f32], out: &mut Vec<u8>) {
    let max = x.iter().fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
    let d = max / -16.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend_from_slice(&super::f16::from_f32(d).to_le_bytes());
    let q: Vec<u32> = x.iter().map(|&v| ((v * id + 16.5) as i32).clamp(0, 31) as u32).collect();
    let mut qh = 0u32;
    for (i, &v) in q.iter().enumerate() {
        qh |= (v >> 4) << i;
    }
    out.extend_from_slice(&qh.to_le_bytes());
    for i in 0..16 {
        out.push((q[i] & 0x0f) as u8 | (((q[i + 16] & 0x0f) as u8) << 4));
    }
}

pub fn vec_dot_scalar(w: &[u8], x: &[BlockQ8]) -> f32 {
    let mut sum = 0f32;
    for (b, a) in w.chunks_exact(BLOCK_BYTES).zip(x) {
        let d = read_f16(b, 0);
        let v = values(b);
        let isum: i32 = v.iter().zip(a.qs).map(|(&q, y)| q * y as i32).sum();
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
    let high = _mm256_set1_epi8(0xf0u8 as i8);
    macro_rules! block {
        ($i:expr, $acc:ident) => {{
            let i = $i;
            let b = p.add(i * BLOCK_BYTES);
            let d = f16_at(b, 0);
            let qh = std::ptr::read_unaligned(b.add(2) as *const u32);
            let lo = unpack_nibbles(b.add(6));
            // Where the fifth bit is clear, 0xF0 | nibble is nibble - 16 as a signed byte.
            let q = _mm256_or_si256(lo, _mm256_andnot_si256(bits_to_bytes(qh), high));
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

/// Two blocks per 512-bit register: the 64 fifth bits become a mask register; where a bit is
/// clear the value is nibble - 16. The sign of the weights moves onto the activations.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn avx512<const N: usize>(w: &[u8], xs: &[&[BlockQ8]], out: &mut [f32]) {
    use super::simd::*;
    use std::arch::x86_64::*;
    let sixteen = _mm512_set1_epi8(16);
    signed_pairs::<N>(w, xs, out, BLOCK_BYTES, |b0, b1| {
        let qh = std::ptr::read_unaligned(b0.add(2) as *const u32) as u64
            | (std::ptr::read_unaligned(b1.add(2) as *const u32) as u64) << 32;
        let nib = unpack_nibbles_pair(b0.add(6), b1.add(6));
        _mm512_mask_sub_epi8(nib, !qh, nib, sixteen)
    });
}

super::packed::packed_drivers!(corr: Some(1), mins: false);

/// Two weight blocks for the packed kernels: unsigned bytes (the values plus the offset), scales.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn decode_pair(
    b0: *const u8,
    b1: *const u8,
) -> (std::arch::x86_64::__m512i, std::arch::x86_64::__m512, std::arch::x86_64::__m512) {
    use std::arch::x86_64::*;
    let qh = std::ptr::read_unaligned(b0.add(2) as *const u32) as u64
        | (std::ptr::read_unaligned(b1.add(2) as *const u32) as u64) << 32;
    let nib = super::simd::unpack_nibbles_pair(b0.add(6), b1.add(6));
    // w + 16: the nibble with the fifth bit.
    let q = _mm512_mask_add_epi8(nib, qh, nib, _mm512_set1_epi8(16));
    (q, super::packed::f16_pair(b0, b1), _mm512_setzero_ps())
}
