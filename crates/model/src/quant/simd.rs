//! Shared AVX2 helpers for the kernels in the block-format files.
#![allow(clippy::missing_safety_doc)]

use std::arch::x86_64::*;

/// Sum of the 8 lanes.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn hsum(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps(v, 1);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// 16 bytes of packed nibbles to 32 bytes: low nibbles first, then high nibbles.
/// (A 128-bit broadcast load and a blend keep this off the shuffle port.)
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn unpack_nibbles(p: *const u8) -> __m256i {
    let b = _mm256_broadcastsi128_si256(_mm_loadu_si128(p as *const __m128i));
    let both = _mm256_blend_epi32(b, _mm256_srli_epi16(b, 4), 0xf0);
    _mm256_and_si256(both, _mm256_set1_epi8(0x0f))
}

/// Sum of products of unsigned bytes `a` and signed bytes `b`, as 8 i32 lanes.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_u8_i8(a: __m256i, b: __m256i) -> __m256i {
    let p16 = _mm256_maddubs_epi16(a, b);
    _mm256_madd_epi16(p16, _mm256_set1_epi16(1))
}

/// Loads the 32 activation bytes of a block.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn load_q8(qs: &[i8; 32]) -> __m256i {
    _mm256_loadu_si256(qs.as_ptr() as *const __m256i)
}

/// 32 bits to 32 bytes: byte i is 0xff where bit i of `bits` is set.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn bits_to_bytes(bits: u32) -> __m256i {
    let v = _mm256_set1_epi32(bits as i32);
    let shuf =
        _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202, 0x0101_0101_0101_0101, 0x0000_0000_0000_0000);
    let bytes = _mm256_shuffle_epi8(v, shuf);
    let mask = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
    _mm256_cmpeq_epi8(_mm256_and_si256(bytes, mask), mask)
}

/// One f16 (bits) to f32, with the F16C instruction.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn f16(bits: u16) -> f32 {
    // A broadcast, not an insert: no false dependency on whatever register the compiler picks.
    _mm_cvtss_f32(_mm_cvtph_ps(_mm_set1_epi16(bits as i16)))
}

/// The f16 at byte `i` of `b` (no bounds check).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn f16_at(b: *const u8, i: usize) -> f32 {
    f16(std::ptr::read_unaligned(b.add(i) as *const u16))
}

/// AVX2 version of [`super::quantize_q8_scalar`] (same results).
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn quantize_q8(x: &[f32], out: &mut Vec<super::BlockQ8>) {
    let sign = _mm256_set1_ps(-0.0);
    let perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for chunk in x.chunks_exact(32) {
        let p = chunk.as_ptr();
        let v = [_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)), _mm256_loadu_ps(p.add(16)), _mm256_loadu_ps(p.add(24))];
        let mut m = _mm256_andnot_ps(sign, v[0]);
        for vi in &v[1..] {
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, *vi));
        }
        let m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        let m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        let m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        let amax = _mm_cvtss_f32(m4);
        let d = amax / 127.0;
        let id = _mm256_set1_ps(if d > 0.0 { 1.0 / d } else { 0.0 });
        const R: i32 = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
        let q = [
            _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[0], id), R)),
            _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[1], id), R)),
            _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[2], id), R)),
            _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[3], id), R)),
        ];
        let sum = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
        let s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
        let s4 = _mm_hadd_epi32(s4, s4);
        let s4 = _mm_hadd_epi32(s4, s4);
        let isum = _mm_cvtsi128_si32(s4);
        let ab = _mm256_packs_epi32(q[0], q[1]);
        let cd = _mm256_packs_epi32(q[2], q[3]);
        let bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), perm);
        let dd = f16(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(d), _MM_FROUND_TO_NEAREST_INT), 0) as u16);
        let mut b = super::BlockQ8 { d: dd, s: 0.0, qs: [0; 32] };
        _mm256_storeu_si256(b.qs.as_mut_ptr() as *mut __m256i, bytes);
        b.s = f16(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(dd * isum as f32), _MM_FROUND_TO_NEAREST_INT), 0) as u16);
        out.push(b);
    }
}

/// AVX2 version of [`super::quantize_q8_k_scalar`] (same results).
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn quantize_q8_k(x: &[f32], out: &mut Vec<super::BlockQ8>) {
    let sign = _mm256_set1_ps(-0.0);
    let perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for chunk in x.chunks_exact(super::QK_K) {
        let p = chunk.as_ptr();
        let mut m = _mm256_setzero_ps();
        for k in 0..32 {
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(p.add(8 * k))));
        }
        let m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        let m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        let amax = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
        if amax == 0.0 {
            out.extend(std::iter::repeat_n(super::BlockQ8::default(), super::QK_K / super::QK));
            continue;
        }
        // The first value of largest magnitude, with its sign (as the scalar loop picks it).
        let max = *chunk.iter().find(|v| v.abs() == amax).unwrap_or(&amax);
        let iscale = -127.0 / max;
        let d = 1.0 / iscale;
        let is = _mm256_set1_ps(iscale);
        let lim = _mm256_set1_epi32(127);
        const R: i32 = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
        for sub in 0..8 {
            let q = p.add(32 * sub);
            let v = |k: usize| {
                _mm256_min_epi32(
                    _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(is, _mm256_loadu_ps(q.add(8 * k))), R)),
                    lim,
                )
            };
            let qv = [v(0), v(1), v(2), v(3)];
            let sum = _mm256_add_epi32(_mm256_add_epi32(qv[0], qv[1]), _mm256_add_epi32(qv[2], qv[3]));
            let s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
            let s4 = _mm_hadd_epi32(s4, s4);
            let s4 = _mm_hadd_epi32(s4, s4);
            let isum = _mm_cvtsi128_si32(s4);
            let ab = _mm256_packs_epi32(qv[0], qv[1]);
            let cd = _mm256_packs_epi32(qv[2], qv[3]);
            let bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), perm);
            let mut b = super::BlockQ8 { d, s: d * isum as f32, qs: [0; 32] };
            _mm256_storeu_si256(b.qs.as_mut_ptr() as *mut __m256i, bytes);
            out.push(b);
        }
    }
}

/// Asks the CPU to fetch `len` bytes of `w` from `start` into cache (weights stream from memory
/// during decoding; fetching a few rows ahead hides the latency).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn prefetch_row(w: &[u8], start: usize, len: usize) {
    let end = (start + len).min(w.len());
    let mut off = start;
    while off < end {
        _mm_prefetch(w.as_ptr().add(off) as *const i8, _MM_HINT_T0);
        off += 64;
    }
}

/// f32 to f16 bits, 8 at a time.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn f32_to_f16_slice(src: &[f32], dst: &mut [u16]) {
    let n = src.len().min(dst.len());
    let mut i = 0;
    while i + 8 <= n {
        let v = _mm256_loadu_ps(src.as_ptr().add(i));
        let h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128(dst.as_mut_ptr().add(i) as *mut __m128i, h);
        i += 8;
    }
    for j in i..n {
        dst[j] = super::f16::from_f32(src[j]);
    }
}

/// Dot product of f32 and f16 values.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_f32_f16(a: &[f32], b: &[u16]) -> f32 {
    let n = a.len().min(b.len());
    let mut acc0 = _mm256_setzero_ps();
    let mut acc1 = _mm256_setzero_ps();
    let mut i = 0;
    while i + 16 <= n {
        let b0 = _mm256_cvtph_ps(_mm_loadu_si128(b.as_ptr().add(i) as *const __m128i));
        let b1 = _mm256_cvtph_ps(_mm_loadu_si128(b.as_ptr().add(i + 8) as *const __m128i));
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a.as_ptr().add(i)), b0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a.as_ptr().add(i + 8)), b1, acc1);
        i += 16;
    }
    let mut s = hsum(_mm256_add_ps(acc0, acc1));
    for j in i..n {
        s += a[j] * super::f16::to_f32(b[j]);
    }
    s
}

/// `out += w * v` with `v` in f16.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn axpy_f16(out: &mut [f32], w: f32, v: &[u16]) {
    let n = out.len().min(v.len());
    let wv = _mm256_set1_ps(w);
    let mut i = 0;
    while i + 8 <= n {
        let x = _mm256_cvtph_ps(_mm_loadu_si128(v.as_ptr().add(i) as *const __m128i));
        let o = _mm256_loadu_ps(out.as_ptr().add(i));
        _mm256_storeu_ps(out.as_mut_ptr().add(i), _mm256_fmadd_ps(wv, x, o));
        i += 8;
    }
    for j in i..n {
        out[j] += w * super::f16::to_f32(v[j]);
    }
}

/// `$name::<N>(w, row_bytes, nrows, xs, out, stride)`: the one-row kernel `$kernel::<N>(row, xs,
/// out)` (compiled with `$features`) over `nrows` consecutive weight rows of `row_bytes` each,
/// writing `out[i * stride + r]`, for up to `$max` activation rows of type `$x`. `PREFETCH_ROWS`
/// must be in scope where this expands.
macro_rules! many_rows {
    ($name:ident, $kernel:ident, $x:ty, $max:literal, $features:literal) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        unsafe fn $name<const N: usize>(
            w: &[u8],
            row_bytes: usize,
            nrows: usize,
            xs: &[&[$x]],
            out: &mut [f32],
            stride: usize,
        ) {
            let mut tmp = [0f32; $max];
            for i in 0..nrows {
                $crate::quant::simd::prefetch_row(w, (i + PREFETCH_ROWS) * row_bytes, row_bytes);
                $kernel::<N>(w.get_unchecked(i * row_bytes..(i + 1) * row_bytes), xs, &mut tmp);
                for r in 0..N {
                    *out.get_unchecked_mut(i * stride + r) = tmp[r];
                }
            }
        }
    };
}
pub(crate) use many_rows;

/// The row drivers every SIMD dot kernel shares: one weight row with up to 4 activation rows
/// (`$dot`, `$rows`) and a range of weight rows (`$many`, through the private `$many_rows`),
/// around the format's own `$kernel::<N>` block kernel, which must be in scope where this
/// expands and is compiled with `$features`. `nb` is the number of Q8 activation blocks; `$bytes`
/// is the weight bytes a row needs for them and `$ok` any further condition on `nb`; `check`, if
/// given, is asserted before the kernel runs (the CPU features the dispatch did not check).
macro_rules! row_drivers {
    (
        $dot:ident, $rows:ident, $many:ident, $many_rows:ident, $kernel:ident, $features:literal,
        $(check: $check:expr,)? |$nb:ident| bytes: $bytes:expr, ok: $ok:expr
    ) => {
        #[cfg(target_arch = "x86_64")]
        pub fn $dot(w: &[u8], x: &[BlockQ8]) -> f32 {
            let mut out = [0f32];
            $rows(w, &[x], &mut out);
            out[0]
        }

        /// Dots one weight row with up to 4 activation rows (the weight blocks are decoded once).
        #[cfg(target_arch = "x86_64")]
        pub fn $rows(w: &[u8], xs: &[&[BlockQ8]], out: &mut [f32]) {
            let $nb = xs[0].len();
            assert!(xs.len() <= 4 && out.len() >= xs.len() && xs.iter().all(|x| x.len() == $nb));
            assert!($ok && w.len() >= $bytes);
            $(assert!($check);)?
            // SAFETY: only handed out by the dispatch after detecting the kernel's CPU features
            // (and `check` asserted above); bounds checked above.
            unsafe {
                match xs.len() {
                    1 => $kernel::<1>(w, xs, out),
                    2 => $kernel::<2>(w, xs, out),
                    3 => $kernel::<3>(w, xs, out),
                    4 => $kernel::<4>(w, xs, out),
                    _ => {}
                }
            }
        }

        /// Dots `nrows` consecutive weight rows (`row_bytes` each) with up to 4 activation rows,
        /// writing `out[i * stride + r]`: one call per range of rows keeps the per-row cost low.
        #[cfg(target_arch = "x86_64")]
        pub fn $many(w: &[u8], row_bytes: usize, nrows: usize, xs: &[&[BlockQ8]], out: &mut [f32], stride: usize) {
            let $nb = xs[0].len();
            assert!(xs.len() <= 4 && xs.iter().all(|x| x.len() == $nb));
            assert!($ok && row_bytes >= $bytes && w.len() >= nrows * row_bytes);
            assert!(nrows == 0 || out.len() >= (nrows - 1) * stride + xs.len());
            $(assert!($check);)?
            // SAFETY: only handed out by the dispatch after detecting the kernel's CPU features
            // (and `check` asserted above); bounds checked above.
            unsafe {
                match xs.len() {
                    1 => $many_rows::<1>(w, row_bytes, nrows, xs, out, stride),
                    2 => $many_rows::<2>(w, row_bytes, nrows, xs, out, stride),
                    3 => $many_rows::<3>(w, row_bytes, nrows, xs, out, stride),
                    4 => $many_rows::<4>(w, row_bytes, nrows, xs, out, stride),
                    _ => {}
                }
            }
        }

        $crate::quant::simd::many_rows!($many_rows, $kernel, BlockQ8, 4, $features);
    };
}
pub(crate) use row_drivers;

/// The row drivers of the AVX2 dot kernels (see [`row_drivers`]): `vec_dot_avx2`,
/// `vec_dot_rows_avx2` and `vec_dot_many_avx2` around the format's `avx2::<N>` block kernel.
macro_rules! avx2_row_drivers {
    (|$nb:ident| bytes: $bytes:expr, ok: $ok:expr) => {
        $crate::quant::simd::row_drivers!(
            vec_dot_avx2, vec_dot_rows_avx2, vec_dot_many_avx2, many, avx2, "avx2,fma,f16c",
            |$nb| bytes: $bytes, ok: $ok
        );

        #[cfg(target_arch = "x86_64")]
        const PREFETCH_ROWS: usize = 4;
    };
}
pub(crate) use avx2_row_drivers;

// ---------------------------------------------------------------------------------------------
// AVX-512 (F, BW, VL and VNNI) helpers. Two 32-value blocks fill one 512-bit register; the
// integer products use `vpdpbusd` (unsigned bytes times signed bytes, summed by four into i32).

/// Unsigned bytes `a` times signed bytes `b`, summed by four: 16 i32 lanes.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn dpbusd(a: __m512i, b: __m512i) -> __m512i {
    _mm512_dpbusd_epi32(_mm512_setzero_si512(), a, b)
}

/// The 32 activation bytes of blocks `a[0]` (low half) and `a[1]` (high half).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn load_q8_pair(a: *const super::BlockQ8) -> __m512i {
    let lo = _mm256_loadu_si256((*a).qs.as_ptr() as *const __m256i);
    let hi = _mm256_loadu_si256((*a.add(1)).qs.as_ptr() as *const __m256i);
    _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1)
}

/// The 32 activation bytes of blocks `*a0` (low half) and `*a1` (high half).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn load_q8_two(a0: *const super::BlockQ8, a1: *const super::BlockQ8) -> __m512i {
    let lo = _mm256_loadu_si256((*a0).qs.as_ptr() as *const __m256i);
    let hi = _mm256_loadu_si256((*a1).qs.as_ptr() as *const __m256i);
    _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1)
}

/// A 512-bit vector of 16-bit lanes: lanes 0..16 = `a`, 16..32 = `b` (compile-time indices).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn halves_epi16(a: i16, b: i16) -> __m512i {
    _mm512_mask_blend_epi16(0xffff_0000, _mm512_set1_epi16(a), _mm512_set1_epi16(b))
}

/// The 32 activation bytes of block `a[0]` in the low half, zeros in the high half.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn load_q8_one(a: *const super::BlockQ8) -> __m512i {
    _mm512_zextsi256_si512(_mm256_loadu_si256((*a).qs.as_ptr() as *const __m256i))
}

/// Lanes 0..8 = `a`, lanes 8..16 = `b`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn pair_ps(a: f32, b: f32) -> __m512 {
    // (`insertf64x4` on the bits: `insertf32x8` would need AVX-512 DQ.)
    _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(a)), _mm256_castps_pd(_mm256_set1_ps(b)), 1))
}

/// Two blocks of 16 packed-nibble bytes (at `p0` and `p1`) to 64 bytes: the low nibbles of
/// `p0`, its high nibbles, then the same for `p1` (the element order of the 32-value formats).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn unpack_nibbles_pair(p0: *const u8, p1: *const u8) -> __m512i {
    let a = _mm_loadu_si128(p0 as *const __m128i);
    let b = _mm_loadu_si128(p1 as *const __m128i);
    let ab = _mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1);
    // [a, a, b, b]
    let v = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3), _mm512_castsi256_si512(ab));
    // Shift the second copy of each right by 4 (16-bit lanes 8..16 and 24..32).
    let v = _mm512_mask_srli_epi16(v, 0xff00_ff00, v, 4);
    _mm512_and_si512(v, _mm512_set1_epi8(0x0f))
}

/// `x` with the sign of the bytes where `neg` is set flipped (the sign trick: |w| times
/// sign-moved activations, since `vpdpbusd` wants its first operand unsigned).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn negate_where(x: __m512i, neg: __mmask64) -> __m512i {
    _mm512_mask_sub_epi8(x, neg, _mm512_setzero_si512(), x)
}

/// Adds to `acc[r]` the dot of two weight blocks against blocks `i` and `i + 1` of activation
/// row `r` (only block `i` unless `pair`; the high half of `q` then meets zeros): `q` holds the
/// signed weight bytes, `dw` their scales as in [`pair_ps`]. The sign of the weights moves onto
/// the activations.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn dot_signed_pair<const N: usize>(
    acc: &mut [__m512; N],
    xs: &[&[super::BlockQ8]],
    i: usize,
    pair: bool,
    q: __m512i,
    dw: __m512,
) {
    let aq = _mm512_abs_epi8(q);
    let neg = _mm512_movepi8_mask(q);
    for (r, acc) in acc.iter_mut().enumerate() {
        let a = xs.get_unchecked(r).as_ptr().add(i);
        let (x, dx) = if pair {
            (load_q8_pair(a), pair_ps((*a).d, (*a.add(1)).d))
        } else {
            (load_q8_one(a), pair_ps((*a).d, 0.0))
        };
        let dot = dpbusd(aq, negate_where(x, neg));
        *acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dw, dx), *acc);
    }
}

/// The AVX-512 kernel of the 32-value formats whose blocks are an f16 scale then packed values
/// (Q4_0, Q5_0), two blocks per 512-bit register: `decode(b0, b1)` gives the signed weight bytes
/// of the blocks at `b0` (low half) and `b1` (high half). A lone last block is decoded twice;
/// the activations of the copy are zero.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub unsafe fn signed_pairs<const N: usize>(
    w: &[u8],
    xs: &[&[super::BlockQ8]],
    out: &mut [f32],
    block_bytes: usize,
    decode: impl Fn(*const u8, *const u8) -> __m512i,
) {
    let mut acc = [_mm512_setzero_ps(); N];
    let p = w.as_ptr();
    let nb = xs[0].len();
    let mut i = 0;
    while i < nb {
        let b0 = p.add(i * block_bytes);
        let pair = i + 1 < nb;
        let b1 = if pair { b0.add(block_bytes) } else { b0 };
        let dw = pair_ps(f16_at(b0, 0), f16_at(b1, 0));
        dot_signed_pair(&mut acc, xs, i, pair, decode(b0, b1), dw);
        i += 2;
    }
    for r in 0..N {
        out[r] = _mm512_reduce_add_ps(acc[r]);
    }
}

/// Whether the AVX-512 kernels can run here (AVX-512 F, BW, VL and VNNI besides AVX2, FMA and
/// F16C; `EVALGAP_NO_AVX512=1` or `EVALGAP_NO_SIMD=1` disables them).
pub fn avx512_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        super::simd_available()
            && std::env::var_os("EVALGAP_NO_AVX512").is_none()
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512vnni")
    })
}

/// The row drivers of the AVX-512 kernels (see [`row_drivers`]): `vec_dot_avx512`,
/// `vec_dot_rows_avx512` and `vec_dot_many_avx512` around the format's `avx512::<N>` block
/// kernel. They assert [`avx512_available`] themselves.
macro_rules! avx512_row_drivers {
    (|$nb:ident| bytes: $bytes:expr, ok: $ok:expr) => {
        $crate::quant::simd::row_drivers!(
            vec_dot_avx512, vec_dot_rows_avx512, vec_dot_many_avx512, many_avx512, avx512,
            "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c",
            check: $crate::quant::simd::avx512_available(),
            |$nb| bytes: $bytes, ok: $ok
        );
    };
}
pub(crate) use avx512_row_drivers;
