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

/// [`scales_mins`] with 32-bit operations: bytes 0..8 of the result are the scales, 8..16 the mins.
#[inline(always)]
pub fn scales_mins_packed(q: &[u8]) -> [u32; 4] {
    const K1: u32 = 0x3f3f_3f3f;
    const K2: u32 = 0x0f0f_0f0f;
    const K3: u32 = 0x0303_0303;
    let u = |i: usize| u32::from_le_bytes([q[i], q[i + 1], q[i + 2], q[i + 3]]);
    let (u0, u1, u2) = (u(0), u(4), u(8));
    [u0 & K1, (u2 & K2) | (((u0 >> 6) & K3) << 4), u1 & K1, ((u2 >> 4) & K2) | (((u1 >> 6) & K3) << 4)]
}

// The AVX-512 kernels take Q8_K activations (see `quantize_q8_k`): the 8 blocks of 32 that face
// one super-block share one scale, so the products add up as integers per super-block.
super::simd::avx512_row_drivers!(|nb| bytes: nb * BLOCK_BYTES / 8, ok: nb.is_multiple_of(8));

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn avx512<const N: usize>(w: &[u8], xs: &[&[BlockQ8]], out: &mut [f32]) {
    use super::simd::*;
    use std::arch::x86_64::*;
    let mut acc = [_mm512_setzero_ps(); N];
    let mut mins = [0f32; N];
    let mask = _mm512_set1_epi8(0x0f);
    // 64 bytes of nibbles hold sub-blocks (4k, 4k + 2) in their low nibbles and (4k + 1, 4k + 3)
    // in their high ones; these pick the matching scales for the 16-bit products.
    let idx = [halves_epi16(0, 2), halves_epi16(1, 3), halves_epi16(4, 6), halves_epi16(5, 7)];
    let p = w.as_ptr();
    for bi in 0..xs[0].len() / 8 {
        let b = p.add(bi * BLOCK_BYTES);
        let d = f16_at(b, 0);
        let dmin = f16_at(b, 2);
        let sm = scales_mins_packed(std::slice::from_raw_parts(b.add(4), 12));
        let sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, sm[1] as i32, sm[0] as i32)));
        let scales = [
            _mm512_permutexvar_epi16(idx[0], sc16),
            _mm512_permutexvar_epi16(idx[1], sc16),
            _mm512_permutexvar_epi16(idx[2], sc16),
            _mm512_permutexvar_epi16(idx[3], sc16),
        ];
        let m: [u8; 8] = std::mem::transmute([sm[2], sm[3]]);
        let mut ilo = [_mm512_setzero_si512(); N];
        let mut ihi = [_mm512_setzero_si512(); N];
        for k in 0..2 {
            let raw = _mm512_loadu_si512(b.add(16 + 64 * k) as *const __m512i);
            let lo = _mm512_and_si512(raw, mask);
            let hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), mask);
            for r in 0..N {
                let a = xs.get_unchecked(r).as_ptr().add(8 * bi + 4 * k);
                let x_lo = load_q8_two(a, a.add(2));
                let x_hi = load_q8_two(a.add(1), a.add(3));
                ilo[r] = _mm512_dpwssd_epi32(ilo[r], _mm512_maddubs_epi16(lo, x_lo), scales[2 * k]);
                ihi[r] = _mm512_dpwssd_epi32(ihi[r], _mm512_maddubs_epi16(hi, x_hi), scales[2 * k + 1]);
            }
        }
        for r in 0..N {
            let a = xs.get_unchecked(r).as_ptr().add(8 * bi);
            let isum = _mm512_add_epi32(ilo[r], ihi[r]);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(d * (*a).d), acc[r]);
            let mut ms = 0f32;
            for j in 0..8 {
                ms += m[j] as f32 * (*a.add(j)).s;
            }
            mins[r] += dmin * ms;
        }
    }
    for r in 0..N {
        out[r] = _mm512_reduce_add_ps(acc[r]) - mins[r];
    }
}

super::packed::packed_k_drivers!();

/// One weight row against up to 8 packed Q8_K rows: each 32 bytes of nibbles becomes one
/// register (two sub-blocks in order), and the minimums meet the activations' group sums.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn packed_k<const N: usize>(w: &[u8], xs: &[&[super::packed::SuperQ8]], out: &mut [f32]) {
    use super::simd::*;
    use std::arch::x86_64::*;
    let mut acc = [_mm512_setzero_ps(); N];
    let mask = _mm512_set1_epi8(0x0f);
    let idx = [halves_epi16(0, 1), halves_epi16(2, 3), halves_epi16(4, 5), halves_epi16(6, 7)];
    // Lane g of the 16 group sums meets min g / 2.
    let pair_idx = _mm256_setr_epi16(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    let p = w.as_ptr();
    for bi in 0..xs[0].len() {
        let b = p.add(bi * BLOCK_BYTES);
        let d = _mm512_set1_ps(f16_at(b, 0));
        let neg_dmin = _mm512_set1_ps(-f16_at(b, 2));
        let sm = scales_mins_packed(std::slice::from_raw_parts(b.add(4), 12));
        let sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, sm[1] as i32, sm[0] as i32)));
        let m16 = _mm256_castsi128_si256(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, sm[3] as i32, sm[2] as i32)));
        let mins = _mm256_permutexvar_epi16(pair_idx, m16);
        let mut q = [_mm512_setzero_si512(); 4];
        let mut s = [_mm512_setzero_si512(); 4];
        for c in 0..4 {
            // [low nibbles, high nibbles] of 32 bytes: sub-blocks 2c and 2c + 1.
            let v = _mm512_broadcast_i64x4(_mm256_loadu_si256(b.add(16 + 32 * c) as *const __m256i));
            q[c] = _mm512_and_si512(_mm512_mask_srli_epi16(v, 0xffff_0000, v, 4), mask);
            s[c] = _mm512_permutexvar_epi16(idx[c], sc16);
        }
        for r in 0..N {
            let x = xs.get_unchecked(r).get_unchecked(bi);
            let xp = x.qs.as_ptr();
            let mut ia = _mm512_setzero_si512();
            let mut ib = _mm512_setzero_si512();
            for c in 0..4 {
                let xv = _mm512_load_si512(xp.add(64 * c) as *const __m512i);
                let prod = _mm512_maddubs_epi16(q[c], xv);
                if c % 2 == 0 {
                    ia = _mm512_dpwssd_epi32(ia, prod, s[c]);
                } else {
                    ib = _mm512_dpwssd_epi32(ib, prod, s[c]);
                }
            }
            let dx = _mm512_load_ps(x.d.as_ptr());
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(ia, ib)), _mm512_mul_ps(d, dx), acc[r]);
            // - dmin * sum over sub-blocks of min * (sum of its 32 activations)
            let bs = _mm256_load_si256(x.bsums.as_ptr() as *const __m256i);
            let mm = _mm512_zextsi256_si512(_mm256_madd_epi16(mins, bs));
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mm), _mm512_mul_ps(neg_dmin, dx), acc[r]);
        }
    }
    for r in 0..N {
        out[r] = _mm512_reduce_add_ps(acc[r]);
    }
}
