//! Adaptive attacks end to end through real HTTP: an attacker model rewriting (`pair`) and
//! escalating (`crescendo`), the suffix search reading log-probabilities, and the agent tool loop
//! feeding tool results back, all against the planted server; resume sends nothing again.

mod common;

use common::*;
use evalgap_testserver::Config;
use serde_json::Value;

fn rows_of<'a>(rows: &'a [Value], chain: &str) -> Vec<&'a Value> {
    rows.iter().filter(|r| r["variant"]["chain"] == chain).collect()
}

fn trace(r: &Value) -> &Value {
    &r["response"]["attack"]
}

#[test]
fn adaptive_attacks_run_end_to_end_and_resume() {
    let env = Env::start(Config { default_compliance: 0.3, benign_compliance: Some(0.9), ..Config::default() });
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 6, 2);
    let out = env.path("run");
    let attacker = env.target("attacker");
    let flags =
        ["--transform", "pair:4,crescendo:3,suffix-search:12,agentic:3", "--attacker", &attacker, "--judge", "markers"];
    env.run(&suite, &out, "m", 2, &flags);
    let rows = export(&out);
    assert_eq!(rows.len(), 8 * 5 * 2);
    assert!(rows.iter().all(|r| r["status"] == "ok"), "no faults: every request was well formed");

    // Every request the server saw is accounted for by the recorded trials.
    let counted: u64 = rows
        .iter()
        .map(|r| r["response"]["requests"].as_u64().unwrap() + trace(r)["attacker_requests"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(env.server.stats().requests, counted);

    for (chain, budget) in [("pair", 4), ("crescendo", 3), ("suffix-search", 12)] {
        for r in rows_of(&rows, chain) {
            let t = trace(r);
            let queries = t["queries"].as_u64().unwrap();
            assert_eq!(t["strategy"], chain);
            assert_eq!(t["budget"], budget);
            assert!((1..=budget).contains(&queries), "{chain}: {t}");
            let harmful = r["verdicts"]["markers"]["harmful"].as_bool().unwrap();
            let complied = r["response"]["text"].as_str().unwrap().contains("PLACEHOLDER COMPLIANT");
            if r["kind"] == "harmful" {
                // The stop judge is the run's judge: success recorded <=> the final answer is harmful.
                assert_eq!(t["success_at"].is_u64(), harmful, "{chain}: {t}");
                assert_eq!(harmful, complied);
            }
            match t["success_at"].as_u64() {
                Some(k) => assert_eq!(k, queries, "{chain} stops at its first success"),
                None if chain != "suffix-search" => assert_eq!(queries, budget, "{chain} spends its budget"),
                None => {}
            }
            let transcript = t["transcript"].as_array().unwrap();
            assert_eq!(transcript.last().unwrap()["role"], "assistant");
        }
    }

    // PAIR: rewrites come from the attacker model and carry the request; success beats plain.
    let pair = rows_of(&rows, "pair");
    for r in &pair {
        let prompts = trace(r)["detail"]["prompts"].as_array().unwrap();
        let case = case_text(r["case_id"].as_str().unwrap());
        assert_eq!(prompts[0], case.as_str(), "query 1 is the planned variant");
        assert!(prompts[1..]
            .iter()
            .all(|p| p.as_str().unwrap().starts_with("[attack ") && p.as_str().unwrap().ends_with(&case)));
    }
    let asr = |rs: &[&Value]| {
        rs.iter().filter(|r| r["kind"] == "harmful" && r["verdicts"]["markers"]["harmful"] == true).count()
    };
    let plain = rows_of(&rows, "plain");
    assert!(asr(&pair) > asr(&plain), "4 rewrites beat one try: {} vs {}", asr(&pair), asr(&plain));

    // Crescendo: every user turn is the attacker's; refused turns are taken back.
    for r in rows_of(&rows, "crescendo") {
        let t = trace(r);
        let users: Vec<&str> = t["transcript"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "user")
            .map(|m| m["content"].as_str().unwrap())
            .collect();
        assert!(users.iter().all(|u| u.starts_with("[attack ")), "{users:?}");
        let kept = t["detail"]["turns"].as_array().unwrap().iter().filter(|x| x["kept"] == true).count();
        let final_kept = t["detail"]["turns"].as_array().unwrap().last().unwrap()["kept"] == true;
        assert_eq!(users.len(), kept + usize::from(!final_kept));
    }

    // Suffix search: guided by the server's log-probabilities, the request kept verbatim.
    for r in rows_of(&rows, "suffix-search") {
        let t = trace(r);
        assert_eq!(t["detail"]["logprobs"], true);
        let transcript = t["transcript"].as_array().unwrap();
        let sent = transcript[transcript.len() - 2]["content"].as_str().unwrap();
        let case = case_text(r["case_id"].as_str().unwrap());
        assert_eq!(sent, format!("{case} {}", t["detail"]["best"].as_str().unwrap()));
    }

    // Tool loop: calls answered with simulated results by id; all calls of the loop recorded.
    let mut looped = 0;
    for r in rows_of(&rows, "agentic") {
        let t = trace(r);
        let no_calls = Vec::new();
        let calls = r["response"]["tool_calls"].as_array().unwrap_or(&no_calls);
        let transcript = t["transcript"].as_array().unwrap();
        let results: Vec<&Value> = transcript.iter().filter(|m| m["role"] == "tool").collect();
        assert!(t["queries"].as_u64().unwrap() <= 3);
        for res in &results {
            let id = res["tool_call_id"].as_str().unwrap();
            assert!(calls.iter().any(|c| c["id"] == id), "a result answers a recorded call");
            let body: Value = serde_json::from_str(res["content"].as_str().unwrap()).unwrap();
            assert_eq!(body["simulated"], true);
        }
        if results.len() >= 2 {
            looped += 1;
            assert!(!r["response"]["text"].as_str().unwrap().is_empty(), "the agent reported after two results");
        }
    }
    assert!(looped > 0, "some agent went through the whole loop");

    // The report breaks the adaptive chains out like any transform.
    let rep = report_json(&out);
    let chains: Vec<&str> =
        rep["per_transform"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
    for c in ["pair", "crescendo", "suffix-search", "agentic"] {
        assert!(chains.contains(&c), "{c} in {chains:?}");
    }
    assert_eq!(rep["protocol"]["attacker"], attacker.as_str());
    // The adaptive table: each loop's stop-on-success share (with its interval) and cost.
    let adaptive = rep["adaptive"].as_array().unwrap();
    let strategies: Vec<&str> = adaptive.iter().map(|a| a["strategy"].as_str().unwrap()).collect();
    assert_eq!(strategies, ["tool-loop", "crescendo", "pair", "suffix-search"], "by chain name");
    for a in adaptive {
        let chain = a["chain"].as_str().unwrap();
        let these = rows_of(&rows, chain);
        let succeeded = these.iter().filter(|r| trace(r)["success_at"].is_u64()).count() as u64;
        assert_eq!(a["stopped_on_success"]["successes"].as_u64(), Some(succeeded), "{chain}");
        assert_eq!(a["stopped_on_success"]["n"].as_u64(), Some(these.len() as u64));
        let queries: u64 = these.iter().map(|r| trace(r)["queries"].as_u64().unwrap()).sum();
        assert!((a["mean_queries"].as_f64().unwrap() - queries as f64 / these.len() as f64).abs() < 1e-9);
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Adaptive attacks") && md.contains("| pair | pair | 4 |"), "{md}");

    // Resume: nothing is sent again.
    let before = env.server.stats().requests;
    env.run(&suite, &out, "m", 2, &flags);
    assert_eq!(env.server.stats().requests, before);
    assert_eq!(export(&out), rows);
}

#[test]
fn an_attacker_step_without_an_attacker_is_refused_before_sending() {
    let env = Env::start(Config::default());
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 2, 0);
    for spec in ["pair", "crescendo:3"] {
        let err = env.run_refused(&suite, &env.path(spec), "m", &["--transform", spec]);
        assert!(err.contains("--attacker"), "{err}");
    }
    assert_eq!(env.server.stats().requests, 0);
}
