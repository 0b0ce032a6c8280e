//! Matrix products of a weight matrix (any block format) with a batch of activation rows.
//!
//! The weight matrix is read once per call, whatever the batch size: every worker takes a range
//! of weight rows and multiplies each row with all activation rows while it is in cache. That is
//! what makes batched generation cheaper per token than one sequence at a time.

use super::packed::{pack_row, pack_super_row, PackedFn, PackedKFn, PairQ8, SuperQ8};
use super::{
    dequantize, dot_kernel, dot_many_simd, dot_packed, dot_packed_k, quantize_q8, quantize_q8_k, uses_q8_k, BlockQ8,
    DotFn, GgmlType, ManyFn, QK, QK_K,
};

/// A weight matrix in GGML layout: `rows` rows of `cols` contiguous elements.
#[derive(Clone, Copy)]
pub struct QMatrix<'a> {
    pub t: GgmlType,
    pub rows: usize,
    pub cols: usize,
    pub data: &'a [u8],
}

impl<'a> QMatrix<'a> {
    pub fn row_bytes(&self) -> usize {
        self.t.row_bytes(self.cols)
    }
    pub fn row(&self, r: usize) -> &'a [u8] {
        let rb = self.row_bytes();
        &self.data[r * rb..(r + 1) * rb]
    }
    /// Dequantizes row `r` into `out` (length `cols`).
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        dequantize(self.t, self.row(r), out);
    }
}

/// Activation rows prepared for several products (quantized once).
pub struct Input<'x> {
    pub n: usize,
    pub cols: usize,
    pub x: &'x [f32],
    q8: Vec<BlockQ8>,
    /// Per-256 scales, for K-quant weights (made on first use).
    q8k: std::sync::OnceLock<Vec<BlockQ8>>,
    /// `q8` packed for the AVX-512 kernels (made on first use).
    packed: std::sync::OnceLock<Vec<PairQ8>>,
    /// `q8k` packed for the AVX-512 K-quant kernels (made on first use).
    packed_k: std::sync::OnceLock<Vec<SuperQ8>>,
}

impl<'x> Input<'x> {
    pub fn new(x: &'x [f32], cols: usize) -> Input<'x> {
        assert_eq!(x.len() % cols, 0);
        let mut q8 = Vec::new();
        if cols.is_multiple_of(QK) {
            quantize_q8(x, &mut q8);
        }
        Input {
            n: x.len() / cols,
            cols,
            x,
            q8,
            q8k: std::sync::OnceLock::new(),
            packed: std::sync::OnceLock::new(),
            packed_k: std::sync::OnceLock::new(),
        }
    }

    /// The activations packed for [`dot_packed`] kernels: `cols / 64` pairs (rounded up) per row.
    fn packed(&self) -> &[PairQ8] {
        self.packed.get_or_init(|| {
            let nb = self.cols / QK;
            let mut v = Vec::with_capacity(self.n * nb.div_ceil(2));
            for row in self.q8.chunks_exact(nb) {
                pack_row(row, &mut v);
            }
            v
        })
    }

    /// The Q8_K activations packed for [`dot_packed_k`] kernels: `cols / 256` per row.
    fn packed_k(&self) -> &[SuperQ8] {
        self.packed_k.get_or_init(|| {
            let q8k = self.quantized_for(GgmlType::Q4_K);
            let mut v = Vec::with_capacity(self.n * self.cols / QK_K);
            for row in q8k.chunks_exact(self.cols / QK) {
                pack_super_row(row, &mut v);
            }
            v
        })
    }

    /// The activations quantized for weights of type `t`.
    fn quantized_for(&self, t: GgmlType) -> &[BlockQ8] {
        if uses_q8_k(t) && self.cols.is_multiple_of(super::QK_K) {
            self.q8k.get_or_init(|| {
                let mut v = Vec::new();
                quantize_q8_k(self.x, &mut v);
                v
            })
        } else {
            &self.q8
        }
    }
}

/// `EVALGAP_F32_MATMUL=1` makes every product dequantize weights and use f32 activations
/// (slower; a reference for the integer kernels).
fn float_only() -> bool {
    static F: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *F.get_or_init(|| std::env::var_os("EVALGAP_F32_MATMUL").is_some_and(|v| v == "1"))
}

enum Kernel {
    Packed(PackedFn),
    PackedK(PackedKFn),
    Many(ManyFn),
    Quant(DotFn),
    Float,
}

/// `out[b * rows + r] = dot(w row r, x row b)` for one weight matrix.
pub fn matmul(w: &QMatrix, x: &[f32], out: &mut [f32]) {
    let input = Input::new(x, w.cols);
    matmul_many(&[w], &input, &mut [out]);
}

/// Several products sharing one input (for example the Q, K and V projections), in one
/// parallel pass. `outs[i]` has `input.n * ws[i].rows` values, row-major by activation row.
pub fn matmul_many(ws: &[&QMatrix], input: &Input, outs: &mut [&mut [f32]]) {
    let n = input.n;
    let total_rows: usize = ws.iter().map(|w| w.rows).sum();
    let threads = crate::pool::pool().n_threads().max(1);
    let chunk = (total_rows / (threads * 8)).clamp(4, 256);
    let kernels: Vec<Kernel> = ws
        .iter()
        .map(|w| {
            assert_eq!(w.cols, input.cols, "matmul: weight has {} columns, input {}", w.cols, input.cols);
            match (dot_many_simd(w.t), dot_kernel(w.t)) {
                _ if input.q8.is_empty() || float_only() => Kernel::Float,
                _ if dot_packed(w.t).is_some() => Kernel::Packed(dot_packed(w.t).unwrap()),
                _ if dot_packed_k(w.t).is_some() && input.cols.is_multiple_of(QK_K) => {
                    Kernel::PackedK(dot_packed_k(w.t).unwrap())
                }
                (Some(f), _) => Kernel::Many(f),
                (None, Some(f)) => Kernel::Quant(f),
                _ => Kernel::Float,
            }
        })
        .collect();
    for (w, out) in ws.iter().zip(outs.iter()) {
        assert_eq!(out.len(), n * w.rows);
    }
    // Tasks: (matrix, first weight row, rows).
    let mut tasks: Vec<(usize, usize, usize)> = Vec::new();
    for (mi, w) in ws.iter().enumerate() {
        let mut r0 = 0;
        while r0 < w.rows {
            let rows = chunk.min(w.rows - r0);
            tasks.push((mi, r0, rows));
            r0 += rows;
        }
    }
    let nb = input.cols / QK;
    for (w, k) in ws.iter().zip(&kernels) {
        // Quantize and pack once, before the workers start.
        match k {
            Kernel::Float => {}
            Kernel::Packed(_) => {
                input.packed();
            }
            Kernel::PackedK(_) => {
                input.packed_k();
            }
            _ => {
                input.quantized_for(w.t);
            }
        }
    }
    let np = nb.div_ceil(2);
    // Each task writes rows r0..r0 + rows of every activation row of its matrix: disjoint
    // ranges of the outputs, shared between the workers as raw pointers.
    let out_ptrs: Vec<SendPtr> = outs.iter_mut().map(|o| SendPtr(o.as_mut_ptr())).collect();
    // Computes one task into `part` ([rows][n], by weight row first).
    let compute = |mi: usize, r0: usize, part: &mut [f32]| {
        let w = ws[mi];
        let rows = part.len() / n;
        match kernels[mi] {
            Kernel::Packed(dot) => {
                let px = input.packed();
                let xs: Vec<&[PairQ8]> = (0..n).map(|b| &px[b * np..(b + 1) * np]).collect();
                let rb = w.row_bytes();
                let wr = &w.data[r0 * rb..(r0 + rows) * rb];
                for (g, group) in xs.chunks(8).enumerate() {
                    dot(wr, rb, rows, nb, group, &mut part[8 * g..], n);
                }
            }
            Kernel::PackedK(dot) => {
                let px = input.packed_k();
                let ns = w.cols / QK_K;
                let xs: Vec<&[SuperQ8]> = (0..n).map(|b| &px[b * ns..(b + 1) * ns]).collect();
                let rb = w.row_bytes();
                let wr = &w.data[r0 * rb..(r0 + rows) * rb];
                for (g, group) in xs.chunks(8).enumerate() {
                    dot(wr, rb, rows, group, &mut part[8 * g..], n);
                }
            }
            Kernel::Many(dot) => {
                let q8 = input.quantized_for(w.t);
                let xs: Vec<&[BlockQ8]> = (0..n).map(|b| &q8[b * nb..(b + 1) * nb]).collect();
                let rb = w.row_bytes();
                let wr = &w.data[r0 * rb..(r0 + rows) * rb];
                for (g, group) in xs.chunks(4).enumerate() {
                    dot(wr, rb, rows, group, &mut part[4 * g..], n);
                }
            }
            Kernel::Quant(dot) => {
                let q8 = input.quantized_for(w.t);
                for i in 0..rows {
                    let wr = w.row(r0 + i);
                    for b in 0..n {
                        part[i * n + b] = dot(wr, &q8[b * nb..(b + 1) * nb]);
                    }
                }
            }
            Kernel::Float => {
                let mut row = vec![0f32; w.cols];
                for i in 0..rows {
                    w.dequantize_row(r0 + i, &mut row);
                    for b in 0..n {
                        let xr = &input.x[b * w.cols..(b + 1) * w.cols];
                        part[i * n + b] = dot_f32(&row, xr);
                    }
                }
            }
        }
    };
    let work = |(mi, r0, rows): (usize, usize, usize)| {
        let wrows = ws[mi].rows;
        let base = out_ptrs[mi].0;
        if n == 1 {
            // SAFETY: rows r0..r0 + rows of output `mi` belong to this task alone, and `outs`
            // outlives the parallel run.
            let part = unsafe { std::slice::from_raw_parts_mut(base.add(r0), rows) };
            compute(mi, r0, part);
            return;
        }
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            s.clear();
            s.resize(rows * n, 0.0);
            compute(mi, r0, &mut s);
            for b in 0..n {
                // SAFETY: as above; `b * wrows + r0 + rows <= n * wrows` (checked lengths).
                let dst = unsafe { std::slice::from_raw_parts_mut(base.add(b * wrows + r0), rows) };
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = s[i * n + b];
                }
            }
        });
    };
    if tasks.len() == 1 || total_rows * input.cols * n < 32 * 1024 {
        tasks.into_iter().for_each(work);
    } else {
        crate::pool::pool().run(tasks.len(), &|i| work(tasks[i]));
    }
}

/// A pointer into an output buffer, shared by the tasks of one product (each writes its own
/// rows).
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: see `matmul_many`: tasks write disjoint ranges, and the buffers outlive the run.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

thread_local! {
    /// Per-thread buffer for one task's results before they are scattered.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Plain f32 dot product (written so that the compiler vectorizes it).
#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::quantize;

    #[test]
    fn batched_matmul_matches_row_by_row() {
        let (rows, cols, n) = (37, 256, 5);
        let wv: Vec<f32> = (0..rows * cols).map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0).collect();
        let xv: Vec<f32> = (0..n * cols).map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0).collect();
        for t in [
            GgmlType::F32,
            GgmlType::F16,
            GgmlType::Q4_1,
            GgmlType::Q5_0,
            GgmlType::Q8_0,
            GgmlType::Q4_K,
            GgmlType::Q6_K,
        ] {
            let data = quantize(t, &wv);
            let w = QMatrix { t, rows, cols, data: &data };
            let mut out = vec![0f32; n * rows];
            matmul(&w, &xv, &mut out);
            let mut wr = vec![0f32; cols];
            for r in 0..rows {
                w.dequantize_row(r, &mut wr);
                for b in 0..n {
                    let want = dot_f32(&wr, &xv[b * cols..(b + 1) * cols]);
                    let got = out[b * rows + r];
                    assert!((got - want).abs() < 0.05 * (1.0 + want.abs()), "{t:?} r{r} b{b}: {got} vs {want}");
                }
            }
        }
    }
}
