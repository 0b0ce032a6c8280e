use evalgap_model::quant::matmul::*;
use evalgap_model::*;
use std::time::Instant;
fn main() {
    let m = LocalModel::load(&resolve("smollm2", false).unwrap()).unwrap();
    let net = m.model();
    for (name, mat) in [("w_up", net.layers[0].w_up), ("w_down", net.layers[0].w_down), ("wq", net.layers[0].wq), ("output", net.output)] {
        let q = net.q(&mat);
        let x: Vec<f32> = (0..q.cols).map(|i| (i % 7) as f32 - 3.0).collect();
        let mut out = vec![0f32; q.rows];
        let reps = if name == "output" { 20 } else { 500 };
        let t = Instant::now();
        for _ in 0..reps {
            matmul(&q, &x, &mut out);
        }
        let el = t.elapsed().as_secs_f64() / reps as f64;
        println!("{name} {:?} {}x{}: {:.1} us, {:.2} GB/s", q.t, q.rows, q.cols, el * 1e6, q.data.len() as f64 / el / 1e9);
    }
    // all layers once (cold cache) as in decode
    let t = Instant::now();
    let mut total = 0;
    for l in &net.layers {
        for mat in [l.wq, l.wk, l.wv, l.wo, l.w_gate, l.w_up, l.w_down] {
            let q = net.q(&mat);
            let x: Vec<f32> = (0..q.cols).map(|i| (i % 7) as f32 - 3.0).collect();
            let mut out = vec![0f32; q.rows];
            matmul(&q, &x, &mut out);
            total += q.data.len();
        }
    }
    let el = t.elapsed().as_secs_f64();
    println!("all layers: {:.2} ms, {:.2} GB/s", el * 1e3, total as f64 / el / 1e9);
}
