//! The benchmark's workload: a native JSONL suite of placeholder requests, and the request body that
//! `evalgap run` sends for each trial (so the bare client sends the same bytes' worth of work).

use serde_json::{json, Value};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Cases in the benchmark suite. Fixed, so that runs of different sizes differ only in attempts per case.
pub const CASES: usize = 2_000;

/// Model name sent in every request (`openai:bench@URL`).
pub const MODEL: &str = "bench";

/// The sampling parameters `evalgap run` sends by default.
pub const TEMPERATURE: f64 = 0.7;
pub const TOP_P: f64 = 1.0;
pub const MAX_TOKENS: u32 = 256;

/// The user text of case `i` (0-based).
pub fn case_text(i: usize) -> String {
    format!("Benchmark request {i} (placeholder)")
}

/// Even cases are harmful, odd ones benign: half and half.
pub fn case_kind(i: usize) -> &'static str {
    if i & 1 == 0 {
        "harmful"
    } else {
        "benign"
    }
}

/// Write a native JSONL suite of `cases` cases to `path`.
pub fn write_suite(path: &Path, cases: usize) -> std::io::Result<()> {
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    for i in 0..cases {
        let kind = case_kind(i);
        let line = json!({
            "id": format!("bench-{}-{i:06}", &kind[..1]),
            "text": case_text(i),
            "kind": kind,
            "category": "benchmark",
        });
        writeln!(w, "{line}")?;
    }
    w.flush()
}

/// The chat-completions body evalgap's OpenAI target sends for one trial.
pub fn request_body(model: &str, text: &str, seed: u64) -> Value {
    json!({
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "temperature": TEMPERATURE,
        "top_p": TOP_P,
        "max_tokens": MAX_TOKENS,
        "seed": seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_is_half_harmful() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suite.jsonl");
        write_suite(&path, 10).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 10);
        assert_eq!(lines.iter().filter(|v| v["kind"] == "harmful").count(), 5);
        assert_eq!(lines[3]["text"], "Benchmark request 3 (placeholder)");
        assert_eq!(lines[3]["id"], "bench-b-000003");
    }
}
