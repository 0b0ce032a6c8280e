//! Single-thread throughput of the SIMD dot-product kernels (AVX2 and, where the CPU has it,
//! AVX-512 VNNI) on a 4096 x 1536 matrix (fits in L2: this measures compute, not memory), in CPU time.
//! `cargo bench -p evalgap-model --bench kernels`
use evalgap_model::quant::*;

/// CPU seconds used by this (single-threaded) process: steadier than wall time on a busy machine.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let f: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn main() {
    println!("avx2 {}, avx512 {}", simd_available(), avx512_available());
    for t in [GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K] {
        let (rows, cols) = (4096, 1536);
        let w: Vec<f32> = (0..rows * cols).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
        let q = quantize(t, &w);
        let x: Vec<f32> = (0..cols).map(|i| (i % 13) as f32 - 6.0).collect();
        let mut xq = Vec::new();
        if uses_q8_k(t) {
            quantize_q8_k(&x, &mut xq);
        } else {
            quantize_q8(&x, &mut xq);
        }
        for (name, f) in [("avx2", dot_avx2(t)), ("avx512", dot_avx512(t)), ("scalar", dot_scalar(t))] {
            let Some(f) = f else { continue };
            if name == "scalar" && (dot_avx2(t).is_some() || dot_avx512(t).is_some()) {
                continue;
            }
            let rb = t.row_bytes(cols);
            let t0 = cpu_seconds();
            let mut s = 0f32;
            let mut reps = 0;
            // At least half a CPU second (the clock ticks every 10 ms).
            while reps < 10 || cpu_seconds() - t0 < 0.5 {
                for r in 0..rows {
                    s += f(&q[r * rb..(r + 1) * rb], &xq);
                }
                reps += 1;
            }
            let el = cpu_seconds() - t0;
            let bytes = (q.len() * reps) as f64;
            println!(
                "{t:?} {name}: {:.2} GB/s, {:.2} ns/32 values  ({s})",
                bytes / el / 1e9,
                el * 1e9 / (reps * rows * cols / 32) as f64
            );
        }
        // The packed AVX-512 kernels over the whole matrix, against 1 and 8 activation rows.
        if let Some(f) = dot_packed(t) {
            let mut px = Vec::new();
            packed::pack_row(&xq, &mut px);
            let rb = t.row_bytes(cols);
            for nx in [1usize, 8] {
                let xs: Vec<&[packed::PairQ8]> = (0..nx).map(|_| px.as_slice()).collect();
                let mut out = vec![0f32; rows * nx];
                let t0 = cpu_seconds();
                let mut reps = 0;
                while reps < 10 || cpu_seconds() - t0 < 0.5 {
                    f(&q, rb, rows, cols / 32, &xs, &mut out, nx);
                    reps += 1;
                }
                let el = cpu_seconds() - t0;
                println!(
                    "{t:?} packed x{nx}: {:.2} GB/s, {:.2} ns/32 values/activation row  ({})",
                    (q.len() * reps) as f64 / el / 1e9,
                    el * 1e9 / (reps * rows * cols / 32 * nx) as f64,
                    out[0]
                );
            }
        }
    }
}
