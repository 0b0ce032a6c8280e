//! Shared AVX2 helpers for the kernels in the block-format files.
#![allow(clippy::missing_safety_doc)]

use std::arch::x86_64::*;

/// Sum of the 8 lanes.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn hsum(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps(v, 1);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// 16 bytes of packed nibbles to 32 bytes: low nibbles first, then high nibbles.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn unpack_nibbles(p: *const u8) -> __m256i {
    let b = _mm_loadu_si128(p as *const __m128i);
    let hi = _mm_srli_epi16(b, 4);
    let both = _mm256_set_m128i(hi, b);
    _mm256_and_si256(both, _mm256_set1_epi8(0x0f))
}

/// Sum of products of unsigned bytes `a` and signed bytes `b`, as 8 i32 lanes.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_u8_i8(a: __m256i, b: __m256i) -> __m256i {
    let p16 = _mm256_maddubs_epi16(a, b);
    _mm256_madd_epi16(p16, _mm256_set1_epi16(1))
}

/// Sum of products of signed bytes `a` and `b` (|a| <= 128, |b| <= 127), as 8 i32 lanes.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_i8_i8(a: __m256i, b: __m256i) -> __m256i {
    let ax = _mm256_sign_epi8(a, a);
    let sb = _mm256_sign_epi8(b, a);
    dot_u8_i8(ax, sb)
}

/// Loads the 32 activation bytes of a block.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn load_q8(qs: &[i8; 32]) -> __m256i {
    _mm256_loadu_si256(qs.as_ptr() as *const __m256i)
}

/// 32 bits to 32 bytes: byte i is 0xff where bit i of `bits` is set.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn bits_to_bytes(bits: u32) -> __m256i {
    let v = _mm256_set1_epi32(bits as i32);
    let shuf =
        _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202, 0x0101_0101_0101_0101, 0x0000_0000_0000_0000);
    let bytes = _mm256_shuffle_epi8(v, shuf);
    let mask = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
    _mm256_cmpeq_epi8(_mm256_and_si256(bytes, mask), mask)
}
