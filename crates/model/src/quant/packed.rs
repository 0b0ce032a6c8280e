//! AVX-512 VNNI products for the 32-value block formats (Q4_0, Q4_1, Q5_0, Q8_0) against
//! activations packed once per product ([`PairQ8`]): two blocks per 512-bit register. The
//! weights are decoded to unsigned bytes `w + k` (k = 8, 0, 16 or 128 by format), the unsigned
//! operand of `vpdpbusd`, and the sum starts from `-k * sum(x)` of each activation block,
//! computed when packing. Per weight block pair and activation row that leaves one `vpdpbusd`, a
//! conversion, a multiply and an add (and for Q4_1 one more for its minimums), which is what
//! makes prompt processing and batched decoding fast.
//!
//! Each format's file has `decode_pair` (two weight blocks to unsigned bytes, their scales and,
//! for Q4_1, their minimums) and expands [`packed_drivers`] around it with its offset.

use super::BlockQ8;

/// Two activation blocks, packed for the AVX-512 kernels.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub struct PairQ8 {
    /// The 64 activation bytes.
    pub qs: [i8; 64],
    /// The scale of the first block in lanes 0..8, of the second in 8..16.
    pub d: [f32; 16],
    /// `s / 8` of each block (`s = d * sum(q)`), 8 lanes each (for Q4_1's minimums).
    pub s8: [f32; 16],
    /// `-k * sum(q)` of each block in lanes 0 and 8 (zero elsewhere), for the weight offsets
    /// `k` = 8, 16 and 128 ([`OFFSETS`]).
    pub corr: [[i32; 16]; 3],
}

/// The weight offsets of the formats: Q4_0 (8), Q5_0 (16), Q8_0 (128); Q4_1 has none.
pub const OFFSETS: [i32; 3] = [8, 16, 128];

impl Default for PairQ8 {
    fn default() -> PairQ8 {
        PairQ8 { qs: [0; 64], d: [0.0; 16], s8: [0.0; 16], corr: [[0; 16]; 3] }
    }
}

/// Packs one row of activation blocks (a missing second block of the last pair is zero).
pub fn pack_row(x: &[BlockQ8], out: &mut Vec<PairQ8>) {
    for pair in x.chunks(2) {
        let mut p = PairQ8::default();
        for (h, b) in pair.iter().enumerate() {
            p.qs[32 * h..32 * h + 32].copy_from_slice(&b.qs);
            p.d[8 * h..8 * h + 8].fill(b.d);
            p.s8[8 * h..8 * h + 8].fill(b.s / 8.0);
            let sum: i32 = b.qs.iter().map(|&q| q as i32).sum();
            for (c, k) in p.corr.iter_mut().zip(OFFSETS) {
                c[8 * h] = -k * sum;
            }
        }
        out.push(p);
    }
}

/// A kernel over a range of weight rows against up to 8 packed activation rows:
/// `(w, row_bytes, nrows, nb, xs, out, stride)` writes `out[i * stride + r]`; `nb` is the
/// number of weight blocks per row.
pub type PackedFn = fn(&[u8], usize, usize, usize, &[&[PairQ8]], &mut [f32], usize);

/// The row driver and kernel of one format, around its `decode_pair`; `$corr` is the index of
/// its offset in [`OFFSETS`] (None for Q4_1), `$mins` whether it has per-block minimums (Q4_1).
macro_rules! packed_drivers {
    (corr: $corr:expr, mins: $mins:expr) => {
        /// Dots `nrows` weight rows with up to 8 packed activation rows (see `quant::packed`).
        #[cfg(target_arch = "x86_64")]
        pub fn vec_dot_packed_avx512(
            w: &[u8],
            row_bytes: usize,
            nrows: usize,
            nb: usize,
            xs: &[&[$crate::quant::packed::PairQ8]],
            out: &mut [f32],
            stride: usize,
        ) {
            assert!(!xs.is_empty() && xs.len() <= 8 && xs.iter().all(|x| x.len() == nb.div_ceil(2)));
            assert!(row_bytes >= nb * BLOCK_BYTES && w.len() >= nrows * row_bytes);
            assert!(nrows == 0 || out.len() >= (nrows - 1) * stride + xs.len());
            assert!($crate::quant::simd::avx512_available());
            // SAFETY: AVX-512 checked above; bounds checked above.
            unsafe {
                match xs.len() {
                    1 => packed_many::<1>(w, row_bytes, nrows, nb, xs, out, stride),
                    2 => packed_many::<2>(w, row_bytes, nrows, nb, xs, out, stride),
                    3 => packed_many::<3>(w, row_bytes, nrows, nb, xs, out, stride),
                    4 => packed_many::<4>(w, row_bytes, nrows, nb, xs, out, stride),
                    5 => packed_many::<5>(w, row_bytes, nrows, nb, xs, out, stride),
                    6 => packed_many::<6>(w, row_bytes, nrows, nb, xs, out, stride),
                    7 => packed_many::<7>(w, row_bytes, nrows, nb, xs, out, stride),
                    _ => packed_many::<8>(w, row_bytes, nrows, nb, xs, out, stride),
                }
            }
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
        unsafe fn packed_many<const N: usize>(
            w: &[u8],
            row_bytes: usize,
            nrows: usize,
            nb: usize,
            xs: &[&[$crate::quant::packed::PairQ8]],
            out: &mut [f32],
            stride: usize,
        ) {
            use std::arch::x86_64::*;
            let corr: Option<usize> = $corr;
            for i in 0..nrows {
                $crate::quant::simd::prefetch_row(w, (i + PREFETCH_ROWS) * row_bytes, row_bytes);
                let p = w.as_ptr().add(i * row_bytes);
                let mut acc = [_mm512_setzero_ps(); N];
                let mut accm = [_mm512_setzero_ps(); N];
                for j in 0..nb.div_ceil(2) {
                    let b0 = p.add(2 * j * BLOCK_BYTES);
                    // A lone last block is decoded twice; its copy faces zero scales.
                    let b1 = if 2 * j + 1 < nb { b0.add(BLOCK_BYTES) } else { b0 };
                    let (wu, dw, mw) = decode_pair(b0, b1);
                    for r in 0..N {
                        let x = xs.get_unchecked(r).get_unchecked(j);
                        let start = match corr {
                            Some(c) => _mm512_load_si512(x.corr.get_unchecked(c).as_ptr() as *const _),
                            None => _mm512_setzero_si512(),
                        };
                        let dot = _mm512_dpbusd_epi32(start, wu, _mm512_load_si512(x.qs.as_ptr() as *const _));
                        let scale = _mm512_mul_ps(dw, _mm512_load_ps(x.d.as_ptr()));
                        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc[r]);
                        if $mins {
                            accm[r] = _mm512_fmadd_ps(mw, _mm512_load_ps(x.s8.as_ptr()), accm[r]);
                        }
                    }
                }
                for r in 0..N {
                    let total = if $mins { _mm512_add_ps(acc[r], accm[r]) } else { acc[r] };
                    *out.get_unchecked_mut(i * stride + r) = _mm512_reduce_add_ps(total);
                }
            }
        }
    };
}
pub(crate) use packed_drivers;

/// The f16 scales at `b0` and `b1` as 16 lanes (8 each).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn f16_pair(b0: *const u8, b1: *const u8) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    let bits =
        std::ptr::read_unaligned(b0 as *const u16) as i32 | (std::ptr::read_unaligned(b1 as *const u16) as i32) << 16;
    let f = _mm_cvtph_ps(_mm_cvtsi32_si128(bits));
    _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), _mm512_castps128_ps512(f))
}

/// One super-block (256 values) of Q8_K activations packed for the AVX-512 K-quant kernels.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub struct SuperQ8 {
    /// The scale, in all 16 lanes.
    pub d: [f32; 16],
    /// The 256 activation bytes, in order.
    pub qs: [i8; 256],
    /// The sum of each group of 16.
    pub bsums: [i16; 16],
}

/// Packs one row of Q8_K activation blocks (8 blocks of 32 sharing one scale per super-block).
pub fn pack_super_row(x: &[BlockQ8], out: &mut Vec<SuperQ8>) {
    for sb in x.chunks_exact(8) {
        let mut p = SuperQ8 { d: [sb[0].d; 16], qs: [0; 256], bsums: [0; 16] };
        for (j, b) in sb.iter().enumerate() {
            p.qs[32 * j..32 * j + 32].copy_from_slice(&b.qs);
        }
        for (g, s) in p.bsums.iter_mut().enumerate() {
            *s = p.qs[16 * g..16 * g + 16].iter().map(|&q| q as i16).sum();
        }
        out.push(p);
    }
}

/// A K-quant kernel over a range of weight rows against up to 8 packed activation rows:
/// `(w, row_bytes, nrows, xs, out, stride)` writes `out[i * stride + r]`.
pub type PackedKFn = fn(&[u8], usize, usize, &[&[SuperQ8]], &mut [f32], usize);

/// The row driver of a K-quant format around its `packed_k::<N>(w, xs, out)` kernel (one row).
macro_rules! packed_k_drivers {
    () => {
        /// Dots `nrows` weight rows with up to 8 packed Q8_K activation rows.
        #[cfg(target_arch = "x86_64")]
        pub fn vec_dot_packed_avx512(
            w: &[u8],
            row_bytes: usize,
            nrows: usize,
            xs: &[&[$crate::quant::packed::SuperQ8]],
            out: &mut [f32],
            stride: usize,
        ) {
            let nsb = xs[0].len();
            assert!(xs.len() <= 8 && xs.iter().all(|x| x.len() == nsb));
            assert!(row_bytes >= nsb * BLOCK_BYTES && w.len() >= nrows * row_bytes);
            assert!(nrows == 0 || out.len() >= (nrows - 1) * stride + xs.len());
            assert!($crate::quant::simd::avx512_available());
            // SAFETY: AVX-512 checked above; bounds checked above.
            unsafe {
                match xs.len() {
                    1 => packed_k_many::<1>(w, row_bytes, nrows, xs, out, stride),
                    2 => packed_k_many::<2>(w, row_bytes, nrows, xs, out, stride),
                    3 => packed_k_many::<3>(w, row_bytes, nrows, xs, out, stride),
                    4 => packed_k_many::<4>(w, row_bytes, nrows, xs, out, stride),
                    5 => packed_k_many::<5>(w, row_bytes, nrows, xs, out, stride),
                    6 => packed_k_many::<6>(w, row_bytes, nrows, xs, out, stride),
                    7 => packed_k_many::<7>(w, row_bytes, nrows, xs, out, stride),
                    8 => packed_k_many::<8>(w, row_bytes, nrows, xs, out, stride),
                    _ => {}
                }
            }
        }

        $crate::quant::simd::many_rows!(
            packed_k_many,
            packed_k,
            $crate::quant::packed::SuperQ8,
            8,
            "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"
        );
    };
}
pub(crate) use packed_k_drivers;
