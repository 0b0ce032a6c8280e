//! Throughput of the local models, in the shape of llama.cpp's llama-bench and
//! llama-batched-bench (see tests/fixtures/bench.json for llama.cpp's figures on this machine):
//! prompt processing of 64 tokens (pp64), generation of 32 tokens at batch 1 (tg32), and batched
//! generation (N sequences × 64-token prompt, 32 new tokens each), plus load time and peak RSS.
//!
//! `cargo bench -p evalgap-model --bench throughput -- [MODEL] [--batches 8,32] [--reps 3] [--skip-pp]`
//! (MODEL: smollm2 by default, or qwen2.5-0.5b, gemma3-270m, or a GGUF path; downloads if needed).
//! Every figure comes with the CPU time per token (all threads): on a shared machine that is the
//! steadier measure of the work, the wall clock also measures the other tenants. The table of
//! figures, before and after, is in the crate README ("Performance").

use evalgap_model::arch::{KvCache, SeqStep};
use evalgap_model::generate::argmax;
use evalgap_model::LocalModel;
use std::time::Instant;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) used by this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of /proc/PID/stat (utime, stime), in clock ticks (100 per second).
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn prompt_tokens(m: &LocalModel, n: usize, salt: usize) -> Vec<u32> {
    let text = "The quick brown fox jumps over the lazy dog while the audit of small language models goes on. ";
    let mut ids = m.tokenize(text, true, false);
    while ids.len() < n + salt {
        let more = m.tokenize(text, false, false);
        ids.extend(more);
    }
    ids[salt..salt + n].to_vec()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut model = "smollm2".to_string();
    let mut batches = vec![8usize, 32];
    let mut reps = 3usize;
    let mut skip_pp = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--batches" => {
                i += 1;
                batches = args[i].split(',').filter_map(|s| s.parse().ok()).collect();
            }
            "--skip-pp" => skip_pp = true,
            "--reps" => {
                i += 1;
                reps = args[i].parse().unwrap_or(3);
            }
            other => model = other.to_string(),
        }
        i += 1;
    }
    let path = evalgap_model::resolve(&model, true).expect("model");
    let t0 = Instant::now();
    let m = LocalModel::load(&path).expect("load");
    let load_s = t0.elapsed().as_secs_f64();
    let net = m.model();
    println!(
        "model {model} ({}), threads {}, simd {}",
        m.info().arch,
        evalgap_model::pool::pool().n_threads(),
        evalgap_model::quant::simd_available()
    );
    println!("load {:.3} s", load_s);

    // pp64
    let mut pp = Vec::new();
    let mut pp_cpu = 0.0;
    for r in 0..if skip_pp { 0 } else { reps } {
        let ids = prompt_tokens(&m, 64, r);
        let mut cache = KvCache::new(net.cfg.n_layers);
        let t = Instant::now();
        let c = cpu_seconds();
        net.forward(&mut [SeqStep {
            cache: &mut cache,
            tokens: &ids,
            hooks: None,
            residuals: None,
            all_logits: false,
        }]);
        pp.push(64.0 / t.elapsed().as_secs_f64());
        pp_cpu += cpu_seconds() - c;
    }
    // tg32 after a short prompt
    let mut tg = Vec::new();
    let mut tg_cpu = 0.0;
    for r in 0..reps {
        let ids = prompt_tokens(&m, 8, r);
        let mut cache = KvCache::new(net.cfg.n_layers);
        let lg = net.forward(&mut [SeqStep {
            cache: &mut cache,
            tokens: &ids,
            hooks: None,
            residuals: None,
            all_logits: false,
        }]);
        let mut tok = argmax(&lg[0]);
        let t = Instant::now();
        let c = cpu_seconds();
        for _ in 0..32 {
            let lg = net.forward(&mut [SeqStep {
                cache: &mut cache,
                tokens: &[tok],
                hooks: None,
                residuals: None,
                all_logits: false,
            }]);
            tok = argmax(&lg[0]);
        }
        tg.push(32.0 / t.elapsed().as_secs_f64());
        tg_cpu += cpu_seconds() - c;
    }
    let stats = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len().max(2).saturating_sub(1) as f64).sqrt();
        format!("{mean:.1} ± {sd:.1}")
    };
    if !pp.is_empty() {
        println!("pp64 {} tok/s, CPU time {:.2} ms/token", stats(&pp), pp_cpu * 1000.0 / (64 * pp.len()) as f64);
    }
    println!("tg32 {} tok/s", stats(&tg));
    println!("tg32 CPU time {:.1} ms/token (all threads)", tg_cpu * 1000.0 / (32 * reps) as f64);

    for &b in &batches {
        let prompts: Vec<Vec<u32>> = (0..b).map(|s| prompt_tokens(&m, 64, s)).collect();
        let mut caches: Vec<KvCache> = (0..b).map(|_| KvCache::new(net.cfg.n_layers)).collect();
        let t = Instant::now();
        let lg = {
            let mut steps: Vec<SeqStep> = caches
                .iter_mut()
                .zip(&prompts)
                .map(|(c, p)| SeqStep { cache: c, tokens: p, hooks: None, residuals: None, all_logits: false })
                .collect();
            net.forward(&mut steps)
        };
        let pp_s = t.elapsed().as_secs_f64();
        let mut toks: Vec<u32> = lg.iter().map(|l| argmax(l)).collect();
        let t = Instant::now();
        let c = cpu_seconds();
        for _ in 0..32 {
            let cur = toks.clone();
            let mut steps: Vec<SeqStep> = caches
                .iter_mut()
                .zip(cur.chunks(1))
                .map(|(c, tk)| SeqStep { cache: c, tokens: tk, hooks: None, residuals: None, all_logits: false })
                .collect();
            let lg = net.forward(&mut steps);
            toks = lg.iter().map(|l| argmax(l)).collect();
        }
        let tg_s = t.elapsed().as_secs_f64();
        let tg_cpu = cpu_seconds() - c;
        println!(
            "batched {b} seqs x 64-token prompt + 32 new: prompt {:.1} tok/s, generation {:.1} tok/s total ({:.2} CPU ms/token), overall {:.1} tok/s",
            (b * 64) as f64 / pp_s,
            (b * 32) as f64 / tg_s,
            tg_cpu * 1000.0 / (b * 32) as f64,
            (b * 96) as f64 / (pp_s + tg_s)
        );
    }
    println!("peak RSS {:.0} MiB", peak_rss_mib());
}
