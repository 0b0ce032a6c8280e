//! Several judges per response, end to end: markers, rubric and guard judges against planted
//! judge models on the test server, their disagreement where it was planted, and judge faults.

mod common;

use common::*;
use evalgap_testserver::{plan, Config, GARBAGE_JUDGE_MODEL, GUARD_MODEL, RUBRIC_MODEL};

#[test]
fn quiet_refusals_fool_the_marker_judge_but_not_the_rubric_judge() {
    let config =
        Config { default_compliance: 0.4, benign_compliance: Some(0.9), quiet_refusal: 0.5, ..Config::default() };
    let env = Env::start(config.clone());
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 40, 20);
    let out = env.path("run");
    let rubric = format!("rubric:{}", env.target(RUBRIC_MODEL));
    let guard = format!("guard:{}", env.target(GUARD_MODEL));
    env.run(&suite, &out, "m", 3, &["--judge", "markers", "--judge", &rubric, "--judge", &guard]);
    let (mut quiet, mut planted_harmful) = (0, 0);
    for r in export(&out) {
        let case = r["case_id"].as_str().unwrap();
        let seed = r["seed"].as_u64().unwrap();
        let p = plan(&config, "m", seed, &case_text(case));
        let harmful_case = case.starts_with('h');
        let v = &r["verdicts"];
        assert_eq!(v["rubric:judge-rubric"]["refused"], !p.comply, "{r}");
        assert_eq!(v["rubric:judge-rubric"]["harmful"], p.comply && harmful_case);
        assert_eq!(v["guard:judge-guard"]["harmful"], p.comply && harmful_case);
        assert_eq!(v["guard:judge-guard"]["parts"]["refusal_assessed"], false);
        // The marker judge misses exactly the quiet refusals.
        assert_eq!(v["markers"]["refused"], !p.comply && !p.quiet_refusal, "{r}");
        quiet += p.quiet_refusal as u32;
        planted_harmful += (p.comply && harmful_case) as u32;
    }
    assert!(quiet > 10 && planted_harmful > 10);

    let rep = report_json(&out);
    let ja = &rep["judge_analysis"];
    assert_eq!(ja["judges"].as_array().unwrap().len(), 3);
    let rows = ja["sensitivity"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "three judges and the consensus");
    let asr1 = |j: &str| rows.iter().find(|r| r["judge"] == j).unwrap()["asr_at_1"]["value"].as_f64().unwrap();
    assert!(asr1("markers") > asr1("rubric:judge-rubric") + 0.1, "quiet refusals inflate the marker ASR");
    assert_eq!(asr1("rubric:judge-rubric"), asr1("guard:judge-guard"));
    assert!(ja["range"]["asr_at_1"]["spread"].as_f64().unwrap() > 0.1);
    let harmful = ja["agreement"].as_array().unwrap().iter().find(|a| a["label"] == "harmful").unwrap();
    let rubric_guard = harmful["pairs"].as_array().unwrap().iter().find(|p| p["a"] == "rubric:judge-rubric").unwrap();
    assert_eq!(rubric_guard["cohen_kappa"]["value"], 1.0);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Judges: sensitivity and agreement") && md.contains("Cohen's kappa"));
}

#[test]
fn an_unparseable_judge_is_a_recorded_judge_fault_never_a_guess() {
    let env = Env::start(Config { default_compliance: 0.5, ..Config::default() });
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 5, 5);
    let out = env.path("run");
    let rubric = format!("rubric:{}", env.target(GARBAGE_JUDGE_MODEL));
    env.run(&suite, &out, "m", 2, &["--judge", "markers", "--judge", &rubric]);
    let rep = report_json(&out);
    assert_eq!(rep["faults"]["judges"]["rubric:judge-garbage"], 20);
    for r in export(&out) {
        assert!(r["verdicts"].get("rubric:judge-garbage").is_none());
        assert!(r["verdicts"].get("markers").is_some());
    }
    // One request and two re-asks per response.
    assert_eq!(env.server.stats().requests, 20 + 20 * 3);
}

#[test]
fn rejudge_adds_a_judge_without_resending_a_trial_and_caches_its_verdicts() {
    let env = Env::start(Config { default_compliance: 0.5, ..Config::default() });
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 6, 4);
    let out = env.path("run");
    env.run(&suite, &out, "m", 3, &[]);
    let trial_requests = env.server.stats().requests;
    assert_eq!(trial_requests, 30);
    let rubric = format!("rubric:{}", env.target(RUBRIC_MODEL));
    run_ok(&["rejudge", out.to_str().unwrap(), "--judge", &rubric]);
    let judge_requests = env.server.stats().requests - trial_requests;
    assert!(
        judge_requests > 0 && judge_requests <= 30,
        "one judge request per distinct input at most: {judge_requests}"
    );
    let rows = export(&out);
    assert!(rows
        .iter()
        .all(|r| r["verdicts"]["rubric:judge-rubric"].is_object() && r["verdicts"]["markers"].is_object()));
    // Again: every response already has the verdict, nothing is sent.
    run_ok(&["rejudge", out.to_str().unwrap(), "--judge", &rubric]);
    assert_eq!(env.server.stats().requests, trial_requests + judge_requests);
    let rep = report_json(&out);
    assert_eq!(rep["judges"].as_array().unwrap().len(), 2);
    assert!(rep["judge_analysis"]["agreement"].is_array());
}

#[test]
fn judge_eval_scores_each_judge_against_labels() {
    let env = Env::start(Config::default());
    let labels = env.path("labels.jsonl");
    let mut lines = String::new();
    for seed in 0..4u64 {
        let item = |response: String, harmful: bool, style: &str| {
            serde_json::json!({"request": "Test request (placeholder).", "response": response, "harmful": harmful, "style": style}).to_string() + "\n"
        };
        lines.push_str(&item(evalgap_testserver::compliant_text(seed), true, "complied"));
        lines.push_str(&item(evalgap_testserver::refusal_text(seed, false), false, "marked refusal"));
        lines.push_str(&item(evalgap_testserver::refusal_text(seed, true), false, "quiet refusal"));
    }
    std::fs::write(&labels, lines).unwrap();
    let rubric = format!("rubric:{}", env.target(RUBRIC_MODEL));
    let out = run_ok(&[
        "judge-eval",
        "--labels",
        labels.to_str().unwrap(),
        "--judge",
        "markers",
        "--judge",
        &rubric,
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let judges = v["judges"].as_array().unwrap();
    let markers = &judges[0];
    // The marker judge reads the 4 quiet refusals as compliance.
    assert_eq!(markers["confusion"], serde_json::json!({"tp": 4, "fp": 4, "tn": 4, "fn": 0}));
    let quiet = markers["by_style"].as_array().unwrap().iter().find(|s| s["style"] == "quiet refusal").unwrap();
    assert_eq!(quiet["accuracy"]["successes"], 0);
    assert_eq!(judges[1]["confusion"], serde_json::json!({"tp": 4, "fp": 0, "tn": 8, "fn": 0}));
    assert_eq!(judges[1]["kappa"]["value"], 1.0);
    let md = run_ok(&["judge-eval", "--labels", labels.to_str().unwrap(), "--judge", "markers"]);
    assert!(String::from_utf8_lossy(&md.stdout).contains("| markers | 66.7%"));
}
