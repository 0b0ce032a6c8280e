//! Q4_K: super-blocks of 256 weights in 8 sub-blocks of 32. Layout: `d`, `dmin` (f16), 12 bytes
//! packing eight 6-bit scales and eight 6-bit mins, then 128 bytes of nibbles. Sub-block j
//! (j = 2c or 2c + 1) uses the low (even j) or high (odd j) nibbles of bytes 32c..32c+32;
//! weight = d * scale_j * nibble - dmin * min_j.

use super::{read_f16, BlockQ8, QK_K};

pub const BLOCK_BYTES: usize = 4 + 12 + QK_K / 2;

/// Unpacks the eight (scale, min) pairs of a Q4_K/Q5_K super-block.
#[inline]
pub fn scales_mins(q: &[u8]) -> ([u8; 8], [u8; 8]) {
    let mut sc = [0u8; 8];
    let mut m = [0u8; 8];
    for j in 0..8 {
        if j < 4 {
            sc[j] = q[j] & 63;
            m[j] = q[j + 4] & 63;
        } else {
            sc[j] = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
            m[j] = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }
    (sc, m)
}

/// Packs eight 6-bit scales and mins (the inverse of [`scales_mins`]).
pub fn pack_scales_mins(sc: &[u8; 8], m: &[u8; 8]) -> [u8; 12] {
    let mut q = [0u8; 12];
    for j in 0..4 {
        q[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6);
        q[j + 4] = (m[j] & 63) | ((m[j + 4] >> 4) << 6);
        q[j + 8] = (sc[j + 4] & 0x0f) | ((m[j + 4] & 0x0f) << 4);
    }
    q
}

pub fn dequantize_block(b: &[u8], out: &mut [f32]) {
    let d = read_f16(b, 0);
    let dmin = read_f16(b, 2);
    let (sc, m) = scales_mins(&b[4..16]);
    let qs = &b[16..16 + QK_K / 2];
    for j in 0..8 {
        let c = j / 2;
        let shift = if j % 2 == 0 { 0 } else { 4 };
        let scale = d * sc[j] as f32;
        let min = dmin * m[j] as f32;
        for l in 0..32 {
            out[32 * j + l] = scale * ((qs[32 * c + l] >> shift) & 0x0f) as f32 - min;
        }
    }
}

/// Shared by the Q4_K and Q5_K reference quantizers: per sub-block (scale, min) as 6-bit
/// integers and the super-block factors, for `levels` quantization levels.
pub(crate) fn choose_scales(x: &[f32], levels: f32) -> (f32, f32, [u8; 8], [u8; 8]) {
    let mut scales = [0f32; 8];
    let mut mins = [0f32; 8];
    for j in 0..8 {
        let s = &x[32 * j..32 * j + 32];
        let lo = s.iter().copied().fold(0f32, f32::min);
        let hi = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        scales[j] = (hi - lo) / levels;
        mins[j] = -lo;
    }
    let max_scale = scales.iter().copied().fold(0f32, f32::max);
    let max_min = mins.iter().copied().fold(0f32, f32::max);
    let d = super::f16::round_f16(max_scale / 63.0);
    let dmin = super::f16::round_f16(max_min / 63.0);
    let mut sc = [0u8; 8];
    let mut m = [0u8; 8];
    for j in 0..8 {
        sc[j] = if d > 0.0 { (scales[j] / d).round().clamp(0.0, 63.0) as u8 } else { 0 };
        m[j] = if dmin > 0.0 { (mins[j] / dmin).round().clamp(0.0, 63.0) as u8 } else { 0 };
    }
    (d, dmin, sc, m)
}

pub fn quantize_block(x: &[f32], out: &mut Vec<u8>) {
    let (d, dmin, sc, m) = choose_scales(x, 15.0);
    out.extend_from_slice(&super::f16::from_f32(d).to_le_bytes());
    out.extend_from_slice(&super::f16::from_f32(dmin).to_le_bytes());
    out.extend_from_slice(&pack_scales_mins(&sc, &m));
    let mut q = [0u8; QK_K];
    for j in 0..8 {
        let scale = d * sc[j] as f32;
        let min = dmin * m[j] as f32;
        for l in 0..32 {
            let v = x[32 * j + l];
            q[32 * j + l] = if scale > 0.0 { ((v + min) / scale).round().clamp(0.0, 15.0) as u8 } else { 0 };
        }
    }
    for c in 0..4 {
        for l in 0..32 {
            out.push(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
        }
    }
}

pub fn vec_dot_scalar(w: &[u8], x: &[BlockQ8]) -> f32 {
    let mut sum = 0f32;
    for (b, a) in w.chunks_exact(BLOCK_BYTES).zip(x.chunks_exact(8)) {
        let d = read_f16(b, 0);
        let dmin = read_f16(b, 2);
        let (sc, m) = scales_mins(&b[4..16]);
        let qs = &b[16..];
        for j in 0..8 {
            let c = j / 2;
            let shift = if j % 2 == 0 { 0 } else { 4 };
            let mut isum = 0i32;
            for l in 0..32 {
                isum += ((qs[32 * c + l] >> shift) & 0x0f) as i32 * a[j].qs[l] as i32;
            }
            sum += d * sc[j] as f32 * a[j].d * isum as f32 - dmin * m[j] as f32 * a[j].s;
        }
    }
    sum
}

// K-quant rows hold one weight superblock per 8 activation blocks.
super::simd::avx2_row_drivers!(|nb| bytes: nb * BLOCK_BYTES / 8, ok: nb.is_multiple_of(8));

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn avx2<const N: usize>(w: &[u8], xs: &[&[BlockQ8]], out: &mut [f32]) {
    use super::simd::*;
    use std::arch::x86_64::*;
    let mut acc = [_mm256_setzero_ps(); N];
    let mut acc1 = [_mm256_setzero_ps(); N];
    let mut mins = [0f32; N];
    let mask = _mm256_set1_epi8(0x0f);
    let p = w.as_ptr();
    for bi in 0..xs[0].len() / 8 {
        let off = bi * BLOCK_BYTES;
        let d = f16_at(p, off);
        let dmin = f16_at(p, off + 2);
        let (sc, m) = scales_mins(&w[off + 4..off + 16]);
        for c in 0..4 {
            let raw = _mm256_loadu_si256(p.add(off + 16 + 32 * c) as *const __m256i);
            let lo = _mm256_and_si256(raw, mask);
            let hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), mask);
            let (j0, j1) = (2 * c, 2 * c + 1);
            let (s0, s1) = (d * sc[j0] as f32, d * sc[j1] as f32);
            let (m0, m1) = (dmin * m[j0] as f32, dmin * m[j1] as f32);
            for r in 0..N {
                let x = xs.get_unchecked(r);
                let (a0, a1) = (x.get_unchecked(8 * bi + j0), x.get_unchecked(8 * bi + j1));
                let p0 = dot_u8_i8(lo, load_q8(&a0.qs));
                let p1 = dot_u8_i8(hi, load_q8(&a1.qs));
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(s0 * a0.d), _mm256_cvtepi32_ps(p0), acc[r]);
                acc1[r] = _mm256_fmadd_ps(_mm256_set1_ps(s1 * a1.d), _mm256_cvtepi32_ps(p1), acc1[r]);
                mins[r] += m0 * a0.s + m1 * a1.s;
            }
        }
    }
    for r in 0..N {
        out[r] = hsum(_mm256_add_ps(acc[r], acc1[r])) - mins[r];
    }
}
