//! Q6_K: super-blocks of 256 weights in 16 groups of 16, each with a signed 8-bit scale.
//! Layout: 128 bytes `ql` (low 4 bits), 64 bytes `qh` (high 2 bits), 16 scales (i8), `d` (f16).
//! In half h (128 weights), with ql = ql[64h..], qh = qh[32h..], for l in 0..32:
//! weight l + 32t has low bits from ql[l] (t = 0, 2: low/high nibble) or ql[l + 32] (t = 1, 3)
//! and high bits (qh[l] >> 2t) & 3; weight = d * scale[8h + 2t + l/16] * (q - 32).

use super::{read_f16, BlockQ8, QK_K};

pub const BLOCK_BYTES: usize = QK_K / 2 + QK_K / 4 + QK_K / 16 + 2;

#[inline]
fn value(b: &[u8], h: usize, t: usize, l: usize) -> i32 {
    let ql = &b[64 * h..];
    let qh = b[128 + 32 * h + l];
    let low = match t {
        0 => ql[l] & 0x0f,
        1 => ql[l + 32] & 0x0f,
        2 => ql[l] >> 4,
        _ => ql[l + 32] >> 4,
    };
    ((low | (((qh >> (2 * t)) & 3) << 4)) as i32) - 32
}

pub fn dequantize_block(b: &[u8], out: &mut [f32]) {
    let d = read_f16(b, 208);
    for h in 0..2 {
        for t in 0..4 {
            for l in 0..32 {
                let sc = b[192 + 8 * h + 2 * t + l / 16] as i8 as f32;
                out[128 * h + 32 * t + l] = d * sc * value(b, h, t, l) as f32;
            }
        }
    }
}

pub fn quantize_block(x: &[f32], out: &mut Vec<u8>) {
    let mut gscale = [0f32; 16];
    for (g, s) in gscale.iter_mut().enumerate() {
        let amax = x[16 * g..16 * g + 16].iter().fold(0f32, |m, v| m.max(v.abs()));
        *s = amax / 31.0;
    }
    let maxs = gscale.iter().copied().fold(0f32, f32::max);
    let d = super::f16::round_f16(maxs / 127.0);
    let sc: Vec<i8> =
        gscale.iter().map(|&s| if d > 0.0 { (s / d).round().clamp(-128.0, 127.0) as i8 } else { 0 }).collect();
    let mut q = [0u8; QK_K];
    for i in 0..QK_K {
        let s = d * sc[i / 16] as f32;
        let v = if s != 0.0 { (x[i] / s).round().clamp(-32.0, 31.0) as i32 } else { 0 };
        q[i] = (v + 32) as u8;
    }
    let mut ql = [0u8; 128];
    let mut qh = [0u8; 64];
    for h in 0..2 {
        for l in 0..32 {
            let v = |t: usize| q[128 * h + 32 * t + l];
            ql[64 * h + l] = (v(0) & 0x0f) | ((v(2) & 0x0f) << 4);
            ql[64 * h + l + 32] = (v(1) & 0x0f) | ((v(3) & 0x0f) << 4);
            qh[32 * h + l] = (v(0) >> 4) | ((v(1) >> 4) << 2) | ((v(2) >> 4) << 4) | ((v(3) >> 4) << 6);
        }
    }
    out.extend_from_slice(&ql);
    out.extend_from_slice(&qh);
    out.extend(sc.iter().map(|&s| s as u8));
    out.extend_from_slice(&super::f16::from_f32(d).to_le_bytes());
}

pub fn vec_dot_scalar(w: &[u8], x: &[BlockQ8]) -> f32 {
    let mut sum = 0f32;
    for (b, a) in w.chunks_exact(BLOCK_BYTES).zip(x.chunks_exact(8)) {
        let d = read_f16(b, 208);
        for h in 0..2 {
            for t in 0..4 {
                let blk = &a[4 * h + t];
                let mut s0 = 0i32;
                let mut s1 = 0i32;
                for l in 0..16 {
                    s0 += value(b, h, t, l) * blk.qs[l] as i32;
                    s1 += value(b, h, t, l + 16) * blk.qs[l + 16] as i32;
                }
                let sc0 = b[192 + 8 * h + 2 * t] as i8 as i32;
                let sc1 = b[192 + 8 * h + 2 * t + 1] as i8 as i32;
                sum += d * blk.d * (sc0 * s0 + sc1 * s1) as f32;
            }
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
    let mut acc0 = [_mm256_setzero_ps(); N];
    let mut acc1 = [_mm256_setzero_ps(); N];
    let m4 = _mm256_set1_epi8(0x0f);
    let m2 = _mm256_set1_epi8(3);
    let m32 = _mm256_set1_epi8(32);
    for bi in 0..xs[0].len() / 8 {
        let p = w.as_ptr().add(bi * BLOCK_BYTES);
        let d = f16_at(p, 208);
        for h in 0..2 {
            let ql0 = _mm256_loadu_si256(p.add(64 * h) as *const __m256i);
            let ql1 = _mm256_loadu_si256(p.add(64 * h + 32) as *const __m256i);
            let qh = _mm256_loadu_si256(p.add(128 + 32 * h) as *const __m256i);
            let lows = [
                _mm256_and_si256(ql0, m4),
                _mm256_and_si256(ql1, m4),
                _mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                _mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
            ];
            let highs = [
                _mm256_and_si256(qh, m2),
                _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2),
                _mm256_and_si256(_mm256_srli_epi16(qh, 4), m2),
                _mm256_and_si256(_mm256_srli_epi16(qh, 6), m2),
            ];
            for t in 0..4 {
                let q = _mm256_sub_epi8(_mm256_or_si256(lows[t], _mm256_slli_epi16(highs[t], 4)), m32);
                let aq = _mm256_sign_epi8(q, q);
                let sc0 = *p.add(192 + 8 * h + 2 * t) as i8 as i16;
                let sc1 = *p.add(192 + 8 * h + 2 * t + 1) as i8 as i16;
                let scales = _mm256_set_m128i(_mm_set1_epi16(sc1), _mm_set1_epi16(sc0));
                for r in 0..N {
                    let blk = xs.get_unchecked(r).get_unchecked(8 * bi + 4 * h + t);
                    let sy = _mm256_sign_epi8(load_q8(&blk.qs), q);
                    let prod = _mm256_maddubs_epi16(aq, sy);
                    let s = _mm256_madd_epi16(prod, scales);
                    let v = _mm256_fmadd_ps(
                        _mm256_set1_ps(d * blk.d),
                        _mm256_cvtepi32_ps(s),
                        if t & 1 == 0 { acc0[r] } else { acc1[r] },
                    );
                    if t & 1 == 0 {
                        acc0[r] = v;
                    } else {
                        acc1[r] = v;
                    }
                }
            }
        }
    }
    for r in 0..N {
        out[r] = hsum(_mm256_add_ps(acc0[r], acc1[r]));
    }
}

/// The scale index per 16-bit lane for `permutexvar` over the 16 scales of a super-block: per
/// half h, groups (t0, t1) and (t2, t3) of 32 values share a register; their 16-bit products use
/// scales 8h + 0..4 (`idx[2h]`) and 8h + 4..8 (`idx[2h + 1]`), eight lanes each.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn scale_index() -> [std::arch::x86_64::__m512i; 4] {
    use std::arch::x86_64::*;
    let lanes = |base: i16| {
        _mm512_set_epi16(
            base + 3,
            base + 3,
            base + 3,
            base + 3,
            base + 3,
            base + 3,
            base + 3,
            base + 3,
            base + 2,
            base + 2,
            base + 2,
            base + 2,
            base + 2,
            base + 2,
            base + 2,
            base + 2,
            base + 1,
            base + 1,
            base + 1,
            base + 1,
            base + 1,
            base + 1,
            base + 1,
            base + 1,
            base,
            base,
            base,
            base,
            base,
            base,
            base,
            base,
        )
    };
    [lanes(0), lanes(4), lanes(8), lanes(12)]
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
    let m4 = _mm512_set1_epi8(0x0f);
    let m30 = _mm512_set1_epi8(0x30);
    let m32 = _mm512_set1_epi8(32);
    let idx = scale_index();
    let p = w.as_ptr();
    for bi in 0..xs[0].len() / 8 {
        let b = p.add(bi * BLOCK_BYTES);
        let d = f16_at(b, 208);
        let sc16 = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(_mm_loadu_si128(b.add(192) as *const __m128i)));
        let mut iacc = [[_mm512_setzero_si512(); 2]; N];
        for h in 0..2 {
            let ql = _mm512_loadu_si512(b.add(64 * h) as *const __m512i);
            let qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(b.add(128 + 32 * h) as *const __m256i));
            // High bits of (t0, t1): qh >> 0 and qh >> 2; of (t2, t3): qh >> 4 and qh >> 6.
            let ha = _mm512_mask_srli_epi16(qh, 0xffff_0000, qh, 2);
            let qh4 = _mm512_srli_epi16(qh, 4);
            let hb = _mm512_mask_srli_epi16(qh4, 0xffff_0000, qh4, 2);
            let qa = _mm512_or_si512(_mm512_and_si512(ql, m4), _mm512_and_si512(_mm512_slli_epi16(ha, 4), m30));
            let qb = _mm512_or_si512(
                _mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                _mm512_and_si512(_mm512_slli_epi16(hb, 4), m30),
            );
            let (qa, qb) = (_mm512_sub_epi8(qa, m32), _mm512_sub_epi8(qb, m32));
            let (aa, ab) = (_mm512_abs_epi8(qa), _mm512_abs_epi8(qb));
            let (na, nb) = (_mm512_movepi8_mask(qa), _mm512_movepi8_mask(qb));
            let sa = _mm512_permutexvar_epi16(idx[2 * h], sc16);
            let sb = _mm512_permutexvar_epi16(idx[2 * h + 1], sc16);
            for r in 0..N {
                let a = xs.get_unchecked(r).as_ptr().add(8 * bi + 4 * h);
                let xa = negate_where(load_q8_pair(a), na);
                let xb = negate_where(load_q8_pair(a.add(2)), nb);
                iacc[r][0] = _mm512_dpwssd_epi32(iacc[r][0], _mm512_maddubs_epi16(aa, xa), sa);
                iacc[r][1] = _mm512_dpwssd_epi32(iacc[r][1], _mm512_maddubs_epi16(ab, xb), sb);
            }
        }
        for r in 0..N {
            let a = xs.get_unchecked(r).as_ptr().add(8 * bi);
            let isum = _mm512_add_epi32(iacc[r][0], iacc[r][1]);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(d * (*a).d), acc[r]);
        }
    }
    for r in 0..N {
        out[r] = _mm512_reduce_add_ps(acc[r]);
    }
}

super::packed::packed_k_drivers!();

/// One weight row against up to 8 packed Q8_K rows: the 6-bit values stay unsigned (the
/// unsigned operand of `maddubs`), and `-32 * sum(scale * group sum)` comes from the
/// activations' group sums.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn packed_k<const N: usize>(w: &[u8], xs: &[&[super::packed::SuperQ8]], out: &mut [f32]) {
    use super::simd::*;
    use std::arch::x86_64::*;
    let mut acc = [_mm512_setzero_ps(); N];
    let m4 = _mm512_set1_epi8(0x0f);
    let m30 = _mm512_set1_epi8(0x30);
    let idx = scale_index();
    let p = w.as_ptr();
    for bi in 0..xs[0].len() {
        let b = p.add(bi * BLOCK_BYTES);
        let d = _mm512_set1_ps(f16_at(b, 208));
        let sc = _mm256_cvtepi8_epi16(_mm_loadu_si128(b.add(192) as *const __m128i));
        let sc16 = _mm512_castsi256_si512(sc);
        // -32 * scale per group of 16, against the activations' group sums.
        let corr = _mm512_zextsi256_si512(_mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(sc, 5)));
        let mut q = [_mm512_setzero_si512(); 4];
        let mut s = [_mm512_setzero_si512(); 4];
        for h in 0..2 {
            let ql = _mm512_loadu_si512(b.add(64 * h) as *const __m512i);
            let qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(b.add(128 + 32 * h) as *const __m256i));
            let ha = _mm512_mask_srli_epi16(qh, 0xffff_0000, qh, 2);
            let qh4 = _mm512_srli_epi16(qh, 4);
            let hb = _mm512_mask_srli_epi16(qh4, 0xffff_0000, qh4, 2);
            q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, m4), _mm512_and_si512(_mm512_slli_epi16(ha, 4), m30));
            q[2 * h + 1] = _mm512_or_si512(
                _mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                _mm512_and_si512(_mm512_slli_epi16(hb, 4), m30),
            );
            s[2 * h] = _mm512_permutexvar_epi16(idx[2 * h], sc16);
            s[2 * h + 1] = _mm512_permutexvar_epi16(idx[2 * h + 1], sc16);
        }
        for r in 0..N {
            let x = xs.get_unchecked(r).get_unchecked(bi);
            let xp = x.qs.as_ptr();
            let bs = _mm512_zextsi256_si512(_mm256_load_si256(x.bsums.as_ptr() as *const __m256i));
            let mut ia = _mm512_dpwssd_epi32(_mm512_setzero_si512(), corr, bs);
            let mut ib = _mm512_setzero_si512();
            for k in 0..4 {
                let xv = _mm512_load_si512(xp.add(64 * k) as *const __m512i);
                let prod = _mm512_maddubs_epi16(q[k], xv);
                if k % 2 == 0 {
                    ia = _mm512_dpwssd_epi32(ia, prod, s[k]);
                } else {
                    ib = _mm512_dpwssd_epi32(ib, prod, s[k]);
                }
            }
            let scale = _mm512_mul_ps(d, _mm512_load_ps(x.d.as_ptr()));
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(ia, ib)), scale, acc[r]);
        }
    }
    for r in 0..N {
        out[r] = _mm512_reduce_add_ps(acc[r]);
    }
}
