//! AVX-512 VNNI products for the 32-value block formats (Q4_0, Q4_1, Q5_0, Q8_0) against
//! activations packed once per product ([`PairQ8`]): two blocks per 512-bit register, the
//! activation bytes stored plus 128 so that they are the unsigned operand of `vpdpbusd` and the
//! weights (as signed bytes) the other; `128 * sum(w)` is taken off per weight block, once for
//! all activation rows. Per weight block pair and activation row that leaves one `vpdpbusd`, a
//! conversion, a multiply and an add, which is what makes prompt processing and batched
//! decoding fast.
//!
//! Each format's file has `decode_pair` (two weight blocks to signed bytes, their scales and,
//! for Q4_1, their minimums) and expands [`packed_drivers`] around it.

use super::BlockQ8;

/// Two activation blocks, packed for the AVX-512 kernels.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub struct PairQ8 {
    /// The 64 activation bytes plus 128 (as unsigned bytes).
    pub qu: [u8; 64],
    /// The scale of the first block in lanes 0..8, of the second in 8..16.
    pub d: [f32; 16],
    /// `s / 8` of each block (`s = d * sum(q)`), 8 lanes each (for Q4_1's minimums).
    pub s8: [f32; 16],
}

impl Default for PairQ8 {
    fn default() -> PairQ8 {
        PairQ8 { qu: [128; 64], d: [0.0; 16], s8: [0.0; 16] }
    }
}

/// Packs one row of activation blocks (a missing second block of the last pair is zero).
pub fn pack_row(x: &[BlockQ8], out: &mut Vec<PairQ8>) {
    for pair in x.chunks(2) {
        let mut p = PairQ8::default();
        for (h, b) in pair.iter().enumerate() {
            for (u, &q) in p.qu[32 * h..32 * h + 32].iter_mut().zip(&b.qs) {
                *u = (q as i16 + 128) as u8;
            }
            p.d[8 * h..8 * h + 8].fill(b.d);
            p.s8[8 * h..8 * h + 8].fill(b.s / 8.0);
        }
        out.push(p);
    }
}

/// A kernel over a range of weight rows against up to 8 packed activation rows:
/// `(w, row_bytes, nrows, nb, xs, out, stride)` writes `out[i * stride + r]`; `nb` is the
/// number of weight blocks per row.
pub type PackedFn = fn(&[u8], usize, usize, usize, &[&[PairQ8]], &mut [f32], usize);

/// The row driver and kernel of one format, around its `decode_pair`; `$mins` says whether the
/// format has per-block minimums (Q4_1).
macro_rules! packed_drivers {
    (mins: $mins:expr) => {
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
            let ones = _mm512_set1_epi8(1);
            for i in 0..nrows {
                $crate::quant::simd::prefetch_row(w, (i + PREFETCH_ROWS) * row_bytes, row_bytes);
                let p = w.as_ptr().add(i * row_bytes);
                let mut acc = [_mm512_setzero_ps(); N];
                let mut accm = [_mm512_setzero_ps(); N];
                for j in 0..nb.div_ceil(2) {
                    let b0 = p.add(2 * j * BLOCK_BYTES);
                    // A lone last block is decoded twice; its copy faces zero scales.
                    let b1 = if 2 * j + 1 < nb { b0.add(BLOCK_BYTES) } else { b0 };
                    let (wq, dw, mw) = decode_pair(b0, b1);
                    // -128 * sum(w), per group of 4 bytes, as `vpdpbusd` lays its sums out.
                    let corr = _mm512_sub_epi32(
                        _mm512_setzero_si512(),
                        _mm512_slli_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, wq), 7),
                    );
                    for r in 0..N {
                        let x = xs.get_unchecked(r).get_unchecked(j);
                        let dot = _mm512_dpbusd_epi32(corr, _mm512_load_si512(x.qu.as_ptr() as *const _), wq);
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
