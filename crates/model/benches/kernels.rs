//! Single-thread throughput of the AVX2 dot-product kernels on a 4096 x 1536 matrix.
//! `cargo bench -p evalgap-model --bench kernels`
use evalgap_model::quant::*;
use std::time::Instant;
fn main() {
    for t in [GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K] {
        let (rows, cols) = (4096, 1536);
        let w: Vec<f32> = (0..rows * cols).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
        let q = quantize(t, &w);
        let x: Vec<f32> = (0..cols).map(|i| (i % 13) as f32 - 6.0).collect();
        let mut xq = Vec::new();
        quantize_q8(&x, &mut xq);
        let Some(f) = dot_simd(t).or_else(|| dot_scalar(t)) else { continue };
        let rb = t.row_bytes(cols);
        let t0 = Instant::now();
        let mut s = 0f32;
        let reps = 20;
        for _ in 0..reps {
            for r in 0..rows {
                s += f(&q[r * rb..(r + 1) * rb], &xq);
            }
        }
        let el = t0.elapsed().as_secs_f64();
        let bytes = (q.len() * reps) as f64;
        println!(
            "{t:?}: {:.2} GB/s, {:.2} ns/block  ({s})",
            bytes / el / 1e9,
            el * 1e9 / (reps * rows * cols / 32) as f64
        );
    }
}
