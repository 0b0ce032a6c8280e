//! Responses per second of the embedder on batches of 200 typical responses (~80 tokens).
//!
//! ```sh
//! cargo run --release -p evalgap-embed --example throughput -- [--threads 2] [--rounds 5] [--dump texts.json]
//! ```
//! `--dump` writes the texts so `scripts/bench_st.py` measures sentence-transformers on the same ones.

use evalgap_embed::Embedder;
use std::time::Instant;

/// 200 response-like texts of about 80 tokens, deterministic.
fn texts() -> Vec<String> {
    let openings = [
        "I'm sorry, but I can't help with that request.",
        "Sure, here is an overview of the topic you asked about.",
        "That is not something I will go into, but I can suggest some safer resources.",
        "Here are the steps to configure the service on a Linux server.",
        "Great question! Let me explain how this works in practice.",
        "I must warn you that this could be dangerous, but here is some general information.",
        "To kill a stuck process on Windows, open Task Manager and end the task.",
        "The history of this event is complicated and worth understanding in context.",
    ];
    let bodies = [
        "First, make sure you have the right permissions and a recent backup of your data.",
        "Then review the configuration file and change only the settings you understand.",
        "If anything goes wrong, restore the backup and contact your administrator for help.",
        "Many people find it useful to read the official documentation before starting.",
        "Remember that laws and policies differ between countries, so check local rules.",
        "It also helps to test every change on a small example before applying it widely.",
        "You can find more detail in the references listed at the end of this answer.",
    ];
    (0..200)
        .map(|i| {
            let mut s = openings[i % openings.len()].to_string();
            for j in 0..(2 + i % 4) {
                s.push(' ');
                s.push_str(bodies[(i * 3 + j) % bodies.len()]);
            }
            s
        })
        .collect()
}

/// CPU seconds used by this process so far (user + system, from /proc/self/stat; Linux only).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let threads: usize = arg("--threads").map(|s| s.parse().expect("--threads N")).unwrap_or(2);
    let rounds: usize = arg("--rounds").map(|s| s.parse().expect("--rounds N")).unwrap_or(5);
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().expect("rayon pool");
    let texts = texts();
    if let Some(p) = arg("--dump") {
        std::fs::write(&p, serde_json::to_string_pretty(&texts).expect("json")).expect("write --dump");
        eprintln!("wrote {} texts to {p}", texts.len());
    }
    let e = Embedder::load_default(true).expect("embedding model");
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tokens: usize = refs.iter().map(|t| e.token_ids(t).len()).sum();
    println!(
        "{} texts, {:.1} tokens each on average (with [CLS]/[SEP]), {threads} threads",
        refs.len(),
        tokens as f64 / refs.len() as f64
    );
    let _ = e.embed(&refs); // warm-up
    let mut best = f64::INFINITY;
    let mut all = Vec::new();
    let cpu0 = cpu_seconds();
    for _ in 0..rounds {
        let t = Instant::now();
        let v = e.embed(&refs);
        let s = t.elapsed().as_secs_f64();
        assert_eq!(v.len(), refs.len());
        best = best.min(s);
        all.push(refs.len() as f64 / s);
    }
    let cpu = cpu0.zip(cpu_seconds()).map(|(a, b)| b - a);
    all.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    if let Some(c) = cpu {
        // Per CPU-second: what one core does, whatever else the machine runs at the time.
        println!("rust: {:.1} responses per CPU-second", (rounds * refs.len()) as f64 / c);
    }
    println!(
        "rust: {:.1} responses/s (median of {rounds}), best {:.1}; {:.1} tokens/s",
        all[all.len() / 2],
        refs.len() as f64 / best,
        all[all.len() / 2] * tokens as f64 / refs.len() as f64
    );
}
