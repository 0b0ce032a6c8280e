//! f32 matrix product `C = A * W^T + bias` for the encoder's linear layers.
//!
//! `W` (out x in, PyTorch's layout) is packed once at load into column panels of `nr` outputs,
//! k-major, so the micro-kernel reads it contiguously. `A` is packed per block of `MR` rows.
//! Blocking: K in blocks of `KC` (the A panel stays in L1), output columns in blocks of `NC`
//! (the W block stays in L2). Row panels are spread over the rayon pool.
//!
//! Micro-kernels: AVX-512 (12 x 32, built with Rust >= 1.89 where its intrinsics are stable),
//! AVX2+FMA (6 x 16), and a plain one the compiler vectorises for the baseline target. The
//! choice is made once at run time (`EVALGAP_EMBED_ISA=avx2` or `generic` forces a lower one).
//!
//! Where the CPU has AMX-BF16 (and the AVX-512 path is in use), the products run in bf16 on the
//! tile unit instead ([`crate::amx`]): inputs rounded to bf16, sums in f32. [`precision`] picks,
//! once; `EVALGAP_EMBED_PRECISION=f32` keeps the f32 kernels.

use crate::amx;
use crate::math::{isa, Isa};
use rayon::prelude::*;

const KC: usize = 384;
const NC: usize = 512;
/// Rows per task of the AMX path: its bf16 A block (at most 64 x 1536) stays in L2 while the
/// kernel walks it 32 rows at a time over all outputs (measured faster than 256-row tasks).
const AMX_ROWS: usize = 64;

thread_local! {
    static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the products and attention it calls on this thread only (no rayon split): for
/// callers that already spread independent batches over the pool, where splitting one batch's
/// rows across threads only moves its data between the cores' caches.
pub fn serial<R>(f: impl FnOnce() -> R) -> R {
    let before = SERIAL.with(|s| s.replace(true));
    let r = f();
    SERIAL.with(|s| s.set(before));
    r
}

/// Smallest number of tasks rayon may split off: all of them when [`serial`] is in force.
pub fn min_split() -> usize {
    if SERIAL.with(|s| s.get()) {
        usize::MAX
    } else {
        1
    }
}

/// Arithmetic of the linear layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// f32 products and sums (the kernel of [`isa`]).
    F32,
    /// bf16 inputs, f32 sums, on AMX.
    Bf16Amx,
}

/// The precision in use: bf16 on AMX where the CPU and OS allow it and the AVX-512 path is in use,
/// else f32. `EVALGAP_EMBED_PRECISION=f32` forces f32; `EVALGAP_EMBED_ISA=avx2|generic` implies it.
pub fn precision() -> Precision {
    static P: std::sync::OnceLock<Precision> = std::sync::OnceLock::new();
    *P.get_or_init(|| {
        let want_f32 = std::env::var("EVALGAP_EMBED_PRECISION").is_ok_and(|v| v.eq_ignore_ascii_case("f32"));
        if !want_f32 && isa() == Isa::Avx512 && amx::available() {
            Precision::Bf16Amx
        } else {
            Precision::F32
        }
    })
}

/// A weight matrix packed for [`matmul`].
pub struct Packed {
    /// Outputs (rows of W).
    pub n: usize,
    /// Inputs (columns of W).
    pub k: usize,
    kind: Kind,
}

enum Kind {
    F32 { nr: usize, data: Vec<f32>, bias: Vec<f32> },
    Bf16Amx(amx::Weights),
}

fn tile() -> (usize, usize) {
    match isa() {
        Isa::Avx512 => (12, 32),
        Isa::Avx2 => (6, 16),
        Isa::Generic => (4, 16),
    }
}

impl Packed {
    /// Packs `w` (n x k, row-major) with its bias, for the kernel of [`precision`].
    pub fn new(w: &[f32], n: usize, k: usize, bias: Vec<f32>) -> Self {
        Self::with_precision(w, n, k, bias, precision())
    }

    /// Packs `w` for the kernel of precision `p` ([`Precision::Bf16Amx`] only where
    /// [`amx::available`]).
    pub fn with_precision(w: &[f32], n: usize, k: usize, bias: Vec<f32>, p: Precision) -> Self {
        match p {
            Precision::F32 => Self::f32(w, n, k, bias),
            Precision::Bf16Amx => {
                assert!(amx::available(), "bf16 weights packed without AMX");
                Self { n, k, kind: Kind::Bf16Amx(amx::Weights::new(w, n, k, bias)) }
            }
        }
    }

    fn f32(w: &[f32], n: usize, k: usize, bias: Vec<f32>) -> Self {
        assert_eq!(w.len(), n * k);
        assert_eq!(bias.len(), n);
        let nr = tile().1;
        assert_eq!(n % nr, 0, "output width {n} must be a multiple of {nr}");
        let mut data = vec![0f32; n * k];
        for p in 0..n / nr {
            for kk in 0..k {
                for j in 0..nr {
                    data[p * k * nr + kk * nr + j] = w[(p * nr + j) * k + kk];
                }
            }
        }
        Self { n, k, kind: Kind::F32 { nr, data, bias } }
    }
}

/// `c (m x n) = a (m x k) * W^T + bias`, all row-major.
pub fn matmul(a: &[f32], w: &Packed, c: &mut [f32]) {
    matmul_then(a, w, c, |_| {})
}

/// [`matmul`], then `epilogue` on each finished block of rows while it is still in cache.
pub fn matmul_then(a: &[f32], w: &Packed, c: &mut [f32], epilogue: impl Fn(&mut [f32]) + Sync) {
    let (k, n) = (w.k, w.n);
    let m = a.len() / k;
    assert_eq!(a.len(), m * k);
    assert_eq!(c.len(), m * n);
    let (wnr, data, wbias) = match &w.kind {
        Kind::F32 { nr, data, bias } => (*nr, data, bias),
        Kind::Bf16Amx(wa) => {
            return c
                .par_chunks_mut(AMX_ROWS * n)
                .zip(a.par_chunks(AMX_ROWS * k))
                .with_min_len(min_split())
                .for_each_init(Vec::new, |buf, (c, a)| {
                    amx::matmul_rows(a, wa, c, buf);
                    epilogue(c);
                });
        }
    };
    let (mr, nr) = tile();
    assert_eq!(nr, wnr, "weights packed for another kernel");
    // Tasks of whole row panels, at least ~64 rows each, so small products stay on one thread.
    let panels_per_task = (64 / mr).max(1);
    let rows_per_task = panels_per_task * mr;
    c.par_chunks_mut(rows_per_task * n).zip(a.par_chunks(rows_per_task * k)).with_min_len(min_split()).for_each(
        |(c, a)| {
            let rows = a.len() / k;
            // Only a last panel of fewer than mr rows is copied (zero-padded); full panels are read in place.
            let mut tail = vec![0f32; KC * mr];
            for k0 in (0..k).step_by(KC) {
                let kc = KC.min(k - k0);
                for n0 in (0..n).step_by(NC) {
                    let nc = NC.min(n - n0);
                    for r0 in (0..rows).step_by(mr) {
                        let rows_here = mr.min(rows - r0);
                        let (ap, lda): (&[f32], usize) = if rows_here == mr {
                            (&a[r0 * k + k0..], k)
                        } else {
                            tail.fill(0.0);
                            for i in 0..rows_here {
                                tail[i * kc..(i + 1) * kc].copy_from_slice(&a[(r0 + i) * k + k0..][..kc]);
                            }
                            (&tail[..], kc)
                        };
                        for p in n0 / nr..(n0 + nc) / nr {
                            let b = &data[p * k * nr + k0 * nr..][..kc * nr];
                            let c = &mut c[r0 * n + p * nr..];
                            // The first K block starts from the bias; later ones add to C.
                            let bias = (k0 == 0).then(|| &wbias[p * nr..(p + 1) * nr]);
                            kernel(kc, ap, lda, b, bias, c, n, rows_here);
                        }
                    }
                }
            }
            epilogue(c);
        },
    );
}

/// `c = mid(a * W1^T + b1) * W2^T + b2` (the feed-forward block: `mid` is GELU). On AMX each task
/// of rows runs both products with its intermediate rows in a buffer of its own that stays in
/// cache; on the f32 kernels, two full products through `inter` (rows x W1's outputs).
pub fn matmul2(
    a: &[f32],
    w1: &Packed,
    mid: impl Fn(&mut [f32]) + Sync,
    w2: &Packed,
    c: &mut [f32],
    inter: &mut Vec<f32>,
) {
    assert_eq!(w1.n, w2.k, "inner widths");
    let (k, n) = (w1.k, w2.n);
    let m = a.len() / k;
    assert_eq!(a.len(), m * k);
    assert_eq!(c.len(), m * n);
    if let (Kind::Bf16Amx(p1), Kind::Bf16Amx(p2)) = (&w1.kind, &w2.kind) {
        return c.par_chunks_mut(AMX_ROWS * n).zip(a.par_chunks(AMX_ROWS * k)).with_min_len(min_split()).for_each_init(
            || (Vec::new(), Vec::new()),
            |(buf, mid_rows), (c, a)| {
                let rows = a.len() / k;
                mid_rows.resize(rows * w1.n, 0.0);
                amx::matmul_rows(a, p1, mid_rows, buf);
                mid(mid_rows);
                amx::matmul_rows(mid_rows, p2, c, buf);
            },
        );
    }
    inter.resize(m * w1.n, 0.0);
    matmul_then(a, w1, inter, mid);
    matmul(inter, w2, c);
}

/// `c[i][j] (+)= sum_k a[i * lda + k] * b[k][j]` for i < rows, j < nr: C is overwritten with
/// `bias[j] + ...` when `bias` is given, added to otherwise. The kernel reads its full height of
/// A (rows past `rows` zero-padded by the caller) but writes only `rows` rows.
#[allow(clippy::too_many_arguments)]
fn kernel(kc: usize, a: &[f32], lda: usize, b: &[f32], bias: Option<&[f32]>, c: &mut [f32], ldc: usize, rows: usize) {
    let (mr, nr) = tile();
    assert!(rows <= mr && a.len() >= (mr - 1) * lda + kc && b.len() >= kc * nr && c.len() >= (rows - 1) * ldc + nr);
    assert!(bias.is_none_or(|b| b.len() == nr));
    let bp = bias.map_or(std::ptr::null(), |b| b.as_ptr());
    match isa() {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => avx512_kernel(kc, a, lda, b, bp, c, ldc, rows),
        // SAFETY: the CPU has AVX2 and FMA (isa()); the slice lengths were checked above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { avx2::kernel(kc, a.as_ptr(), lda, b.as_ptr(), bp, c.as_mut_ptr(), ldc, rows) },
        _ => generic_kernel(kc, a, lda, b, bias, c, ldc, rows),
    }
}

#[allow(clippy::too_many_arguments)]
fn generic_kernel(
    kc: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    bias: Option<&[f32]>,
    c: &mut [f32],
    ldc: usize,
    rows: usize,
) {
    const MR: usize = 4;
    const NR: usize = 16;
    let mut acc = [[0f32; NR]; MR];
    for kk in 0..kc {
        let bk: &[f32; NR] = b[kk * NR..kk * NR + NR].try_into().expect("NR");
        for i in 0..MR {
            let av = a[i * lda + kk];
            for j in 0..NR {
                acc[i][j] += av * bk[j];
            }
        }
    }
    for (i, acc) in acc.iter().enumerate().take(rows) {
        for (j, (cv, v)) in c[i * ldc..i * ldc + NR].iter_mut().zip(acc).enumerate() {
            *cv = match bias {
                Some(b) => b[j] + *v,
                None => *cv + *v,
            };
        }
    }
}

#[rustversion::since(1.89)]
pub fn avx512_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[rustversion::before(1.89)]
pub fn avx512_available() -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
#[rustversion::since(1.89)]
#[allow(clippy::too_many_arguments)]
fn avx512_kernel(
    kc: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    bias: *const f32,
    c: &mut [f32],
    ldc: usize,
    rows: usize,
) {
    // SAFETY: isa() is Avx512 only when the CPU has AVX-512F; kernel() checked the slice lengths.
    unsafe { avx512::kernel(kc, a.as_ptr(), lda, b.as_ptr(), bias, c.as_mut_ptr(), ldc, rows) }
}

#[cfg(target_arch = "x86_64")]
#[rustversion::before(1.89)]
#[allow(clippy::too_many_arguments)]
fn avx512_kernel(_: usize, _: &[f32], _: usize, _: &[f32], _: *const f32, _: &mut [f32], _: usize, _: usize) {
    unreachable!("AVX-512 kernels need Rust 1.89")
}

#[cfg(target_arch = "x86_64")]
#[rustversion::since(1.89)]
mod avx512 {
    use std::arch::x86_64::*;

    const MR: usize = 12;

    /// # Safety
    /// The CPU must have AVX-512F; `bias` is null or 32 floats; `a` holds 12 rows of kc at stride lda, `b` kc*32 floats, `c` rows
    /// rows of 32 at stride ldc.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn kernel(
        kc: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        bias: *const f32,
        c: *mut f32,
        ldc: usize,
        rows: usize,
    ) {
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        for kk in 0..kc {
            let b0 = _mm512_loadu_ps(b.add(kk * 32));
            let b1 = _mm512_loadu_ps(b.add(kk * 32 + 16));
            for (i, acc) in acc.iter_mut().enumerate() {
                let av = _mm512_set1_ps(*a.add(i * lda + kk));
                acc[0] = _mm512_fmadd_ps(av, b0, acc[0]);
                acc[1] = _mm512_fmadd_ps(av, b1, acc[1]);
            }
        }
        if !bias.is_null() {
            let (b0, b1) = (_mm512_loadu_ps(bias), _mm512_loadu_ps(bias.add(16)));
            for (i, acc) in acc.iter().enumerate().take(rows) {
                let p = c.add(i * ldc);
                _mm512_storeu_ps(p, _mm512_add_ps(b0, acc[0]));
                _mm512_storeu_ps(p.add(16), _mm512_add_ps(b1, acc[1]));
            }
        } else if rows == MR {
            for (i, acc) in acc.iter().enumerate() {
                let p = c.add(i * ldc);
                _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[0]));
                _mm512_storeu_ps(p.add(16), _mm512_add_ps(_mm512_loadu_ps(p.add(16)), acc[1]));
            }
        } else {
            let mut tmp = [[0f32; 32]; MR];
            for (t, acc) in tmp.iter_mut().zip(&acc) {
                _mm512_storeu_ps(t.as_mut_ptr(), acc[0]);
                _mm512_storeu_ps(t.as_mut_ptr().add(16), acc[1]);
            }
            for (i, t) in tmp.iter().enumerate().take(rows) {
                let p = c.add(i * ldc);
                for (j, v) in t.iter().enumerate() {
                    *p.add(j) += *v;
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    const MR: usize = 6;

    /// # Safety
    /// The CPU must have AVX2 and FMA; `bias` is null or 16 floats; `a` holds 6 rows of kc at stride lda, `b` kc*16 floats, `c`
    /// rows rows of 16 at stride ldc.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn kernel(
        kc: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        bias: *const f32,
        c: *mut f32,
        ldc: usize,
        rows: usize,
    ) {
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        for kk in 0..kc {
            let b0 = _mm256_loadu_ps(b.add(kk * 16));
            let b1 = _mm256_loadu_ps(b.add(kk * 16 + 8));
            for (i, acc) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_ps(*a.add(i * lda + kk));
                acc[0] = _mm256_fmadd_ps(av, b0, acc[0]);
                acc[1] = _mm256_fmadd_ps(av, b1, acc[1]);
            }
        }
        if !bias.is_null() {
            let (b0, b1) = (_mm256_loadu_ps(bias), _mm256_loadu_ps(bias.add(8)));
            for (i, acc) in acc.iter().enumerate().take(rows) {
                let p = c.add(i * ldc);
                _mm256_storeu_ps(p, _mm256_add_ps(b0, acc[0]));
                _mm256_storeu_ps(p.add(8), _mm256_add_ps(b1, acc[1]));
            }
        } else if rows == MR {
            for (i, acc) in acc.iter().enumerate() {
                let p = c.add(i * ldc);
                _mm256_storeu_ps(p, _mm256_add_ps(_mm256_loadu_ps(p), acc[0]));
                _mm256_storeu_ps(p.add(8), _mm256_add_ps(_mm256_loadu_ps(p.add(8)), acc[1]));
            }
        } else {
            let mut tmp = [[0f32; 16]; MR];
            for (t, acc) in tmp.iter_mut().zip(&acc) {
                _mm256_storeu_ps(t.as_mut_ptr(), acc[0]);
                _mm256_storeu_ps(t.as_mut_ptr().add(8), acc[1]);
            }
            for (i, t) in tmp.iter().enumerate().take(rows) {
                let p = c.add(i * ldc);
                for (j, v) in t.iter().enumerate() {
                    *p.add(j) += *v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_matches_naive() {
        for (m, n, k) in [(1, 32, 8), (13, 64, 384), (31, 96, 700), (100, 512 + 64, 50)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1).collect();
            let w: Vec<f32> = (0..n * k).map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.1).collect();
            let bias: Vec<f32> = (0..n).map(|i| i as f32 * 0.01).collect();
            let p = Packed::with_precision(&w, n, k, bias.clone(), Precision::F32);
            let mut c = vec![0f32; m * n];
            matmul(&a, &p, &mut c);
            for i in 0..m {
                for j in 0..n {
                    let want: f64 =
                        bias[j] as f64 + (0..k).map(|t| a[i * k + t] as f64 * w[j * k + t] as f64).sum::<f64>();
                    assert!((c[i * n + j] as f64 - want).abs() < 1e-3, "({m},{n},{k}) [{i},{j}]");
                }
            }
        }
    }

    /// Deterministic values in [-1, 1) (xorshift).
    fn random(len: usize, seed: u64) -> Vec<f32> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// The fused two-product path (per-task intermediate rows on AMX) equals two full products.
    #[test]
    fn matmul2_equals_two_products() {
        let (m, k, i, n) = (150, 64, 96, 32);
        let a = random(m * k, 7);
        for p in [Precision::F32, Precision::Bf16Amx] {
            if p == Precision::Bf16Amx && !amx::available() {
                eprintln!("skipped the AMX case: no AMX-BF16 here");
                continue;
            }
            let w1 = Packed::with_precision(&random(i * k, 8), i, k, random(i, 9), p);
            let w2 = Packed::with_precision(&random(n * i, 10), n, i, random(n, 11), p);
            let mid = |x: &mut [f32]| x.iter_mut().for_each(|v| *v = v.max(0.0));
            let (mut inter, mut want) = (vec![0f32; m * i], vec![0f32; m * n]);
            matmul_then(&a, &w1, &mut inter, mid);
            matmul(&inter, &w2, &mut want);
            let mut got = vec![f32::NAN; m * n];
            matmul2(&a, &w1, mid, &w2, &mut got, &mut Vec::new());
            assert_eq!(got, want, "{p:?}");
        }
    }

    /// The AMX bf16 kernel against the f32 one and against exact sums of the bf16-rounded inputs,
    /// on odd shapes (rows, outputs and inputs that are not multiples of the tiles). Tolerances:
    /// within 1e-5 * sum|a w| of the exact bf16 product (only the f32 summation order differs), and
    /// within 2^-7 * sum|a w| of the f32 result (each input rounded to 8 significant bits).
    /// Skipped, saying so, where the CPU or the OS gives no AMX-BF16.
    #[test]
    fn amx_bf16_matches_f32_on_odd_shapes() {
        if !amx::available() {
            eprintln!("skipped: no AMX-BF16 on this machine (or the OS refused the tile state)");
            return;
        }
        let shapes =
            [(1, 32, 8), (5, 16, 1), (17, 48, 33), (31, 96, 700), (33, 40, 64), (100, 1152, 384), (77, 384, 1536)];
        for (si, &(m, n, k)) in shapes.iter().enumerate() {
            let a = random(m * k, 1 + si as u64);
            let w = random(n * k, 100 + si as u64);
            let bias = random(n, 200 + si as u64);
            let mut c = vec![f32::NAN; m * n];
            matmul(&a, &Packed::with_precision(&w, n, k, bias.clone(), Precision::Bf16Amx), &mut c);
            let mut c32 = vec![0f32; m * n];
            if n % tile().1 == 0 {
                matmul(&a, &Packed::with_precision(&w, n, k, bias.clone(), Precision::F32), &mut c32);
            }
            let r = |x: f32| amx::from_bf16(amx::to_bf16(x)) as f64;
            for i in 0..m {
                for j in 0..n {
                    let (ar, wr) = (&a[i * k..(i + 1) * k], &w[j * k..(j + 1) * k]);
                    let scale: f64 = ar.iter().zip(wr).map(|(x, y)| (*x as f64 * *y as f64).abs()).sum::<f64>() + 1.0;
                    let exact_bf16: f64 = bias[j] as f64 + ar.iter().zip(wr).map(|(x, y)| r(*x) * r(*y)).sum::<f64>();
                    let got = c[i * n + j] as f64;
                    assert!((got - exact_bf16).abs() <= 1e-5 * scale, "({m},{n},{k}) [{i},{j}] {got} vs {exact_bf16}");
                    let want: f64 = if n % tile().1 == 0 {
                        c32[i * n + j] as f64
                    } else {
                        bias[j] as f64 + ar.iter().zip(wr).map(|(x, y)| *x as f64 * *y as f64).sum::<f64>()
                    };
                    assert!((got - want).abs() <= scale / 128.0, "({m},{n},{k}) [{i},{j}] {got} vs f32 {want}");
                }
            }
        }
    }
}

#[cfg(test)]
mod bench {
    use super::*;

    /// GFLOP/s of the linear layers' shapes on the rayon pool (`cargo test --release -p evalgap-embed
    /// gemm_speed -- --ignored --nocapture`, with RAYON_NUM_THREADS=1 for one core).
    #[test]
    #[ignore]
    fn gemm_speed() {
        let m = 2200;
        for (n, k) in [(1152, 384), (384, 384), (1536, 384), (384, 1536)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1).collect();
            let w: Vec<f32> = (0..n * k).map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.1).collect();
            for p in [Precision::F32, Precision::Bf16Amx] {
                if p == Precision::Bf16Amx && !amx::available() {
                    continue;
                }
                let pk = Packed::with_precision(&w, n, k, vec![0.0; n], p);
                let mut c = vec![0f32; m * n];
                matmul(&a, &pk, &mut c);
                let t = std::time::Instant::now();
                let reps = 10;
                for _ in 0..reps {
                    matmul(&a, &pk, &mut c);
                }
                let s = t.elapsed().as_secs_f64() / reps as f64;
                println!("{p:?} {m}x{n}x{k}: {:.2} ms, {:.0} GFLOP/s", s * 1e3, 2.0 * (m * n * k) as f64 / s / 1e9);
            }
        }
    }
}
