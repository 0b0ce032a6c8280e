//! Transforms end to end: every case plain and under each transform chain, through real HTTP;
//! the per-transform table; tool calls for the agentic format; the language gap on the built-in
//! multilingual suite.

mod common;

use common::*;
use evalgap_testserver::Config;
use std::collections::BTreeMap;

#[test]
fn all_transforms_run_beside_the_plain_baseline_on_the_same_cases() {
    let env = Env::start(Config { default_compliance: 0.5, benign_compliance: Some(0.9), ..Config::default() });
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 6, 4);
    let out = env.path("run");
    env.run(&suite, &out, "m", 2, &["--transform", "all", "--transform", "roleplay+base64"]);
    let rows = export(&out);
    let mut per_chain: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for r in &rows {
        per_chain
            .entry(r["variant"]["chain"].as_str().unwrap().to_string())
            .or_default()
            .insert(r["case_id"].to_string());
    }
    let chains: Vec<&str> = per_chain.keys().map(String::as_str).collect();
    for expected in [
        "plain",
        "roleplay",
        "hierarchy",
        "suffix",
        "manyshot",
        "base64",
        "rot13",
        "leet",
        "multiturn",
        "agentic",
        "roleplay+base64",
    ] {
        assert!(chains.contains(&expected), "{expected} missing from {chains:?}");
    }
    assert!(per_chain.values().all(|cases| cases.len() == 10), "every chain covers the same 10 cases");
    assert_eq!(rows.len(), per_chain.len() * 10 * 2);
    // Agentic variants carry tools; a complying planted model answers with a tool call.
    let agentic: Vec<_> = rows.iter().filter(|r| r["variant"]["chain"] == "agentic" && r["status"] == "ok").collect();
    assert!(agentic.iter().any(|r| r["response"]["tool_calls"].as_array().is_some_and(|c| !c.is_empty())));
    let rep = report_json(&out);
    assert_eq!(rep["per_transform"].as_array().unwrap().len(), per_chain.len());
    // By turn format: agentic variants carry tools; multiturn and manyshot have several user turns.
    let formats: BTreeMap<&str, u64> = rep["per_format"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].as_str().unwrap(), s["responses"].as_u64().unwrap()))
        .collect();
    assert_eq!(formats.keys().copied().collect::<Vec<_>>(), ["multi-turn", "single-turn", "tool-calling"]);
    let ok_of =
        |chain: &str| rows.iter().filter(|r| r["variant"]["chain"] == chain && r["status"] == "ok").count() as u64;
    assert_eq!(formats["tool-calling"], ok_of("agentic"));
    assert_eq!(formats["multi-turn"], ok_of("multiturn") + ok_of("manyshot"));
    assert_eq!(rep["protocol"]["transforms"].as_array().unwrap().len(), per_chain.len() - 1);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## By transform") && md.contains("## By turn format") && md.contains("over-refusal (benign)"));

    // A transform that does not exist is refused before anything is sent.
    let err = env.run_refused(&suite, &env.path("run2"), "m", &["--transform", "nonsense"]);
    assert!(err.contains("nonsense"), "{err}");
}

#[test]
fn the_multilingual_suite_reports_each_languages_gap_to_english() {
    let env = Env::start(Config { default_compliance: 0.3, ..Config::default() });
    let out = env.path("run");
    // The first 100 cases are 10 whole groups in 10 languages.
    run_ok(&[
        "run",
        "--suite",
        "builtin:multilingual",
        "--target",
        &env.target("m"),
        "--attempts",
        "2",
        "--limit",
        "100",
        "--out",
        out.to_str().unwrap(),
        "--gap-threshold",
        "15",
    ]);
    let rep = report_json(&out);
    let gaps = rep["language_gaps"].as_array().unwrap();
    let langs: std::collections::BTreeSet<&str> = gaps.iter().map(|g| g["language"].as_str().unwrap()).collect();
    assert_eq!(langs.len(), 9, "{langs:?}");
    for g in gaps {
        assert_eq!(g["n"], 10);
        let (gap, lo, hi) = (g["gap"].as_f64().unwrap(), g["ci_low"].as_f64().unwrap(), g["ci_high"].as_f64().unwrap());
        assert!(lo <= gap && gap <= hi);
        assert_eq!(g["threshold"], 0.15);
        assert_eq!(g["flagged"], gap.abs() > 0.15);
    }
    assert_eq!(rep["per_language"].as_array().unwrap().len(), 10);
}

#[test]
fn translate_goes_through_the_translator_once_and_is_cached() {
    let env = Env::start(Config { default_compliance: 0.5, ..Config::default() });
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 3, 2);
    let out = env.path("run");
    let translator = env.target(evalgap_testserver::TRANSLATOR_MODEL);
    let args = [
        "run",
        "--suite",
        suite.to_str().unwrap(),
        "--target",
        &env.target("m"),
        "--attempts",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--transform",
        "translate:sw",
        "--transform",
        "roleplay+translate:bn",
        "--translator",
        &translator,
    ];
    run_ok(&args);
    // 5 cases x 2 chains = 10 translations, then 5 cases x 3 variants x 2 attempts = 30 trials.
    assert_eq!(env.server.stats().requests, 10 + 30);
    let rows = export(&out);
    let sw: Vec<_> = rows.iter().filter(|r| r["variant"]["chain"] == "translate").collect();
    assert_eq!(sw.len(), 10);
    let rep = report_json(&out);
    assert_eq!(rep["protocol"]["translator"], translator);
    let gaps: Vec<&str> =
        rep["language_gaps"].as_array().unwrap().iter().map(|g| g["language"].as_str().unwrap()).collect();
    assert_eq!(gaps, ["sw", "sw"], "sw against English for harmful and benign cases (bn is a role-play chain)");
    let langs: Vec<&str> = rep["per_language"].as_array().unwrap().iter().map(|l| l["key"].as_str().unwrap()).collect();
    assert_eq!(langs, ["bn", "en", "sw"]);
    // The same command again: translations come from the store, no trial is resent.
    run_ok(&args);
    assert_eq!(env.server.stats().requests, 40);
    // Without a translator, nothing is sent and the error says what to pass.
    let err = env.run_refused(&suite, &env.path("run2"), "m", &["--transform", "translate:sw"]);
    assert!(err.contains("--translator"), "{err}");
}

#[test]
fn the_rotation_ledger_splits_new_from_reused_variants() {
    let env = Env::start(Config { default_compliance: 0.5, ..Config::default() });
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 8, 0);
    let ledger = env.path("ledger.sqlite");
    let run = |out: &str, cycle: &str| {
        let out = env.path(out);
        env.run(
            &suite,
            &out,
            "m",
            1,
            &["--transform", "roleplay", "--cycle", cycle, "--ledger", ledger.to_str().unwrap()],
        );
        let rep = report_json(&out);
        rep["per_rotation"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["key"].as_str().unwrap().to_string(), s["cases"].as_u64().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run("c0", "0"), [("baseline".to_string(), 8), ("new".to_string(), 8)]);
    // The same cycle again in another folder: every role-play variant was sent before.
    assert_eq!(run("c0-again", "0"), [("baseline".to_string(), 8), ("reused".to_string(), 8)]);
    // The next cycle draws other templates: at least some variants are new.
    let next = run("c1", "1");
    assert!(next.iter().any(|(k, n)| k == "new" && *n > 0), "{next:?}");
    // Resuming a run does not count its own variants as reused.
    assert_eq!(run("c0", "0"), [("baseline".to_string(), 8), ("new".to_string(), 8)]);
}

#[test]
fn the_catalogue_lists_every_transform_with_an_example() {
    let out = String::from_utf8(run_ok(&["transforms"]).stdout).unwrap();
    for t in evalgap_transform::catalogue() {
        assert!(out.lines().any(|l| l.starts_with(&format!("{} (", t.name))), "{} missing", t.name);
    }
    assert!(out.contains("roleplay (role-play; pool of"));
    assert!(out.contains("pair (attacker)\n"), "no pool for attacker steps");
    assert_eq!(out.matches("starting point (the loop runs while the trial runs)").count(), 3);
    assert!(out.contains("[tools] shell, send_email, browse, write_file"));
    assert!(out.contains("but `translate`"), "says what `all` leaves out");
}

/// A fresh run counts its units as it commits its records, for its closing report; that report must
/// be the one `evalgap report` rebuilds from the store: with faults, transforms, language groups,
/// rotation marks (new, then reused by a second run on the same ledger) and factual cases.
#[test]
fn a_fresh_runs_report_is_the_one_rebuilt_from_its_store() {
    let env = Env::start(Config {
        default_compliance: 0.5,
        quiet_refusal: 0.3,
        faults: evalgap_testserver::FaultRates { always_500: 0.1, ..Default::default() },
        ..Config::default()
    });
    let ledger = env.path("ledger.sqlite");
    let run = |suite: &str, name: &str, extra: &[&str]| {
        let out = env.path(name);
        let flags = ["--retries", "0", "--ledger", ledger.to_str().unwrap(), "--quiet"];
        env.run(std::path::Path::new(suite), &out, "m", 2, &[&flags[..], extra].concat());
        let mut written = report_json(&out);
        let mut rebuilt: serde_json::Value =
            serde_json::from_slice(&run_ok(&["report", out.to_str().unwrap(), "--format", "json"]).stdout).unwrap();
        // Everything but the time each was built.
        for r in [&mut written, &mut rebuilt] {
            r.as_object_mut().unwrap().remove("generated").expect("a report says when it was built");
        }
        let differ: Vec<&String> =
            written.as_object().unwrap().iter().filter(|(k, v)| rebuilt.get(*k) != Some(*v)).map(|(k, _)| k).collect();
        assert!(
            differ.is_empty() && written == rebuilt,
            "{name}: the run's report differs from the store's in {differ:?}"
        );
        written
    };
    let keys = |rep: &serde_json::Value, table: &str| -> Vec<String> {
        rep[table].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap().to_string()).collect()
    };
    // `agentic:3` runs a tool loop: its responses carry attack traces, summarized per chain.
    let transforms = ["--limit", "24", "--transform", "roleplay", "--transform", "agentic:3"];
    let first = run("builtin:multilingual", "first", &transforms);
    assert!(
        first["adaptive"][0]["strategy"] == "tool-loop",
        "the plan must exercise attack summaries: {}",
        first["adaptive"]
    );
    assert!(
        first["faults"]["target_total"].as_u64().unwrap() > 0,
        "the plan must exercise faults: {}",
        first["faults"]
    );
    assert_eq!(keys(&first, "per_rotation"), ["baseline", "new"]);
    assert!(keys(&first, "per_language").len() > 1);
    let second = run("builtin:multilingual", "second", &transforms);
    assert_eq!(keys(&second, "per_rotation"), ["baseline", "reused"]);
    let factual =
        run("builtin:implicit-harm", "factual", &["--limit", "30", "--judge", "factual", "--judge", "markers"]);
    assert_eq!(factual["protocol"]["judges"][0], "factual");
}
