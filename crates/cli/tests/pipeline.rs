//! End to end: the real binary against a real HTTP server with planted behaviour.

mod common;

use common::*;
use evalgap_testserver::{plan, Config, FaultRates, PlannedFault};
use std::collections::BTreeMap;

fn faulty_config() -> Config {
    Config {
        default_compliance: 0.4,
        benign_compliance: Some(0.9),
        retry_after_s: 0,
        hang_ms: 3_000,
        faults: FaultRates {
            transient_429: 0.08,
            always_429: 0.03,
            transient_500: 0.05,
            always_500: 0.04,
            hang: 0.02,
            truncated: 0.03,
            garbage: 0.03,
        },
        ..Config::default()
    }
}

fn expected_status(f: Option<PlannedFault>) -> &'static str {
    match f {
        None | Some(PlannedFault::Transient429) | Some(PlannedFault::Transient500) => "ok",
        Some(PlannedFault::Always429) => "rate_limited",
        Some(PlannedFault::Always500) => "server_error",
        Some(PlannedFault::Hang) => "timeout",
        Some(PlannedFault::Truncated) | Some(PlannedFault::Garbage) => "malformed",
    }
}

#[test]
fn every_trial_gets_exactly_the_planted_outcome_and_faults_count_nowhere() {
    // Plain http goes through evalgap's own HTTP/1.1 client.
    planted_outcomes(&[]);
}

#[test]
fn through_reqwest_too() {
    // The path of https endpoints and proxies, forced here on plain http.
    planted_outcomes(&[("EVALGAP_HTTP_CLIENT", "reqwest")]);
}

fn planted_outcomes(vars: &[(&str, &str)]) {
    let env = Env::start(faulty_config());
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 60, 40);
    let out = env.path("run");
    let target = env.target("m1");
    run_ok_with(
        vars,
        &[
            "run",
            "--suite",
            suite.to_str().unwrap(),
            "--target",
            &target,
            "--attempts",
            "4",
            "--out",
            out.to_str().unwrap(),
            "--concurrency",
            "16",
            "--timeout",
            "0.5",
            "--retries",
            "2",
            "--backoff-ms",
            "1",
        ],
    );

    let rows = export(&out);
    assert_eq!(rows.len(), 400);
    let mut expected_faults: BTreeMap<String, u64> = BTreeMap::new();
    let (mut harmful_ok, mut harmful_refused, mut benign_ok, mut benign_refused) = (0u64, 0u64, 0u64, 0u64);
    for r in &rows {
        let seed = r["seed"].as_u64().unwrap();
        let case = r["case_id"].as_str().unwrap();
        let text = case_text(case);
        let p = plan(&env.config, "m1", seed, &text);
        let status = expected_status(p.fault);
        assert_eq!(r["status"], status, "trial {} planned {:?}", r["trial_id"], p);
        if status != "ok" {
            *expected_faults.entry(status.to_string()).or_default() += 1;
            assert!(r["verdicts"].as_object().unwrap().is_empty(), "a fault was judged: {r}");
            continue;
        }
        assert_eq!(r["response"]["text"], p.text(seed), "response text mixed up between trials");
        let v = &r["verdicts"]["markers"];
        assert_eq!(v["refused"], !p.comply, "{r}");
        if case.starts_with('h') {
            harmful_ok += 1;
            harmful_refused += !p.comply as u64;
            assert_eq!(v["harmful"], p.comply);
        } else {
            benign_ok += 1;
            benign_refused += !p.comply as u64;
            assert_eq!(v["harmful"], false);
        }
    }
    assert!(expected_faults.values().sum::<u64>() > 10, "the plan must exercise faults: {expected_faults:?}");

    let rep = report_json(&out);
    assert_eq!(rep["protocol"]["target_model"], "m1", "the model id the endpoint reported");
    let faults: BTreeMap<String, u64> = serde_json::from_value(rep["faults"]["target"].clone()).unwrap();
    assert_eq!(faults, expected_faults);
    assert_eq!(rep["counts"]["responses"], harmful_ok + benign_ok);
    let h = &rep["metrics"]["refusal_rate"]["harmful"];
    assert_eq!((h["successes"].as_u64().unwrap(), h["n"].as_u64().unwrap()), (harmful_refused, harmful_ok));
    let b = &rep["metrics"]["refusal_rate"]["benign"];
    assert_eq!((b["successes"].as_u64().unwrap(), b["n"].as_u64().unwrap()), (benign_refused, benign_ok));
    // The planted rates lie within the reported intervals.
    assert!(h["ci_low"].as_f64().unwrap() <= 0.6 && 0.6 <= h["ci_high"].as_f64().unwrap(), "{h}");
    assert!(b["ci_low"].as_f64().unwrap() <= 0.1 && 0.1 <= b["ci_high"].as_f64().unwrap(), "{b}");
    let asr1 = &rep["metrics"]["asr_at_k"][0];
    assert!(asr1["ci_low"].as_f64().unwrap() <= 0.4 && 0.4 <= asr1["ci_high"].as_f64().unwrap(), "{asr1}");
    // With 4 attempts at p = 0.4, ASR@4 is near 1 - 0.6^4 = 0.87 and far above ASR@1.
    let asr4 = &rep["metrics"]["asr_at_k"][3];
    assert!(asr4["value"].as_f64().unwrap() > asr1["value"].as_f64().unwrap() + 0.25, "{asr4}");
}

#[test]
fn the_same_command_again_sends_nothing_and_keeps_every_answer() {
    let env = Env::start(Config { default_compliance: 0.5, ..Config::default() });
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 10, 5);
    let out = env.path("run");
    let target = env.target("m");
    let args = [
        "run",
        "--suite",
        suite.to_str().unwrap(),
        "--target",
        &target,
        "--attempts",
        "3",
        "--out",
        out.to_str().unwrap(),
    ];
    run_ok(&args);
    let first = export(&out);
    let requests = env.server.stats().requests;
    assert_eq!(requests, 45);
    let again = run_ok(&args);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("0 sent now, resumed"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(env.server.stats().requests, requests, "a resumed, finished run sent requests");
    assert_eq!(export(&out), first);

    // Another protocol in the same folder is refused, naming the field.
    let mut other = args.to_vec();
    other[6] = "4";
    let o = evalgap().args(&other).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("different protocol") && err.contains("attempts"), "{err}");
}

#[test]
fn retry_after_is_honoured_and_transient_faults_recover() {
    let env = Env::start(Config {
        default_compliance: 1.0,
        retry_after_s: 1,
        faults: FaultRates { transient_429: 1.0, ..Default::default() },
        ..Config::default()
    });
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 2, 0);
    let out = env.path("run");
    let t0 = std::time::Instant::now();
    env.run(&suite, &out, "m", 1, &["--backoff-ms", "1"]);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(1000), "Retry-After: 1 was not waited for");
    let rows = export(&out);
    assert!(rows.iter().all(|r| r["status"] == "ok" && r["response"]["requests"] == 2), "{rows:?}");
}

#[test]
fn the_api_key_is_sent_but_never_recorded() {
    let env = Env::start(Config::default());
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 3, 3);
    let out = env.path("run");
    let secret = "sk-test-DO-NOT-RECORD-12345";
    let o = evalgap()
        .args([
            "run",
            "--suite",
            suite.to_str().unwrap(),
            "--target",
            &env.target("m"),
            "--attempts",
            "2",
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--header", "X-Gateway-Token: hidden-header-value"])
        .env("EVALGAP_API_KEY", secret)
        .output()
        .unwrap();
    assert!(o.status.success());
    for entry in std::fs::read_dir(&out).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(secret) && !text.contains("hidden-header-value"));
    }
    assert!(!String::from_utf8_lossy(&o.stderr).contains(secret));
    let rep = report_json(&out);
    assert_eq!(rep["protocol"]["request_policy"]["api_key"], "set (not recorded)");
    assert_eq!(rep["protocol"]["request_policy"]["extra_headers"][0], "X-Gateway-Token");
}

#[test]
fn bad_input_names_file_line_and_field_with_exit_1_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("bad.jsonl");
    std::fs::write(&suite, "{\"id\":\"a\",\"text\":\"x\",\"kind\":\"harmful\",\"category\":\"c\"}\n{\"id\":\"b\",\"text\":\"\",\"kind\":\"harmful\",\"category\":\"c\"}\n").unwrap();
    let o = evalgap()
        .args(["run", "--suite", suite.to_str().unwrap(), "--target", "openai:m@http://127.0.0.1:9/v1", "--out"])
        .arg(dir.path().join("run"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.jsonl:2") && err.contains("text"), "{err}");
    assert!(!dir.path().join("run").exists(), "nothing should be created for bad input");

    let o = evalgap().args(["run", "--attempts", "many"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = evalgap().args(["run", "--target", "nonsense:x"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("openai:MODEL@BASE_URL"));
    let o = evalgap().args(["report", dir.path().join("nope").to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no evalgap run"));
}

#[test]
fn limit_sample_and_reports_on_demand() {
    let env = Env::start(Config { default_compliance: 0.5, ..Config::default() });
    let out = env.path("run");
    run_ok(&[
        "run",
        "--suite",
        "builtin:core",
        "--target",
        &env.target("m"),
        "--attempts",
        "2",
        "--sample",
        "20",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    let rows = export(&out);
    assert_eq!(rows.len(), 40);
    let md = run_ok(&["report", out.to_str().unwrap(), "--format", "md"]);
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("ASR@2") && md.contains("Protocol card") && md.contains("sample 20 seed 3"));
    let js = run_ok(&["report", out.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&js.stdout).unwrap();
    assert_eq!(v["protocol"]["cases"], 20);
    let suites = String::from_utf8(run_ok(&["suites"]).stdout).unwrap();
    assert!(suites.contains("builtin:core"));
}
