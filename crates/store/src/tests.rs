use super::*;
use evalgap_core::{Message, Sampling, Trial};

fn setup(n_cases: usize, attempts: u32) -> (tempfile::TempDir, Store, Vec<Trial>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_or_create(dir.path()).unwrap();
    let cases: Vec<Case> = (0..n_cases)
        .map(|i| {
            Case::single(
                format!("c{i}"),
                format!("request {i}"),
                if i % 2 == 0 { CaseKind::Harmful } else { CaseKind::Benign },
                "cat",
            )
        })
        .collect();
    let variants: Vec<Variant> = cases.iter().map(Variant::plain).collect();
    let trials: Vec<Trial> = variants
        .iter()
        .flat_map(|v| (0..attempts).map(move |a| Trial::new(v, a, "t", &Sampling::default(), 1)))
        .collect();
    let n = store.plan(&cases, &variants, trials.iter().cloned()).unwrap();
    assert_eq!(n as usize, trials.len());
    (dir, store, trials)
}

fn ok(text: &str) -> Outcome {
    Outcome::Ok(Response { text: text.into(), ..Default::default() })
}

fn verdict(refused: bool) -> Verdict {
    Verdict {
        judge: "markers".into(),
        judge_version: "1".into(),
        refused,
        harmful: !refused,
        score: None,
        parts: Default::default(),
        rationale: String::new(),
    }
}

#[test]
fn planning_twice_changes_nothing() {
    let (_d, mut store, trials) = setup(3, 2);
    let cases = vec![Case::single("c0", "request 0", CaseKind::Harmful, "cat")];
    let n = store.plan(&cases, &[], trials.iter().cloned()).unwrap();
    assert_eq!(n, 6);
    assert_eq!(store.counts().unwrap(), Counts { trials: 6, responses: 0, faults: Default::default(), pending: 6 });
}

#[test]
fn pending_pages_follow_plan_order_and_shrink_as_recorded() {
    let (_d, mut store, trials) = setup(5, 2);
    let page = store.pending(0, 4).unwrap();
    assert_eq!(
        page.iter().map(|p| p.1.clone()).collect::<Vec<_>>(),
        trials[..4].iter().map(|t| t.id.clone()).collect::<Vec<_>>()
    );
    assert_eq!(page.iter().map(|p| p.0).collect::<Vec<_>>(), vec![1, 2, 3, 4], "seq is the plan position");
    let next = store.pending(page.last().unwrap().0, 100).unwrap();
    assert_eq!(next.len(), 6);
    store
        .record(&[
            Record { seq: 1, cache: vec![], outcome: ok("a"), verdicts: vec![verdict(true)], judge_faults: vec![] },
            Record {
                seq: 2,
                cache: vec![],
                outcome: fault(FaultKind::Timeout, "t"),
                verdicts: vec![],
                judge_faults: vec![],
            },
        ])
        .unwrap();
    let left = store.pending(0, 100).unwrap();
    assert_eq!(left.len(), 8);
    assert_eq!(left[0].0, 3, "the recorded trials 1 and 2 are no longer pending");
    let c = store.counts().unwrap();
    assert_eq!((c.trials, c.responses, c.pending, c.fault_total()), (10, 1, 8, 1));
    assert_eq!(c.faults.get("timeout"), Some(&1));
}

#[test]
fn recording_twice_keeps_the_first_answer() {
    let (dir, mut store, _) = setup(1, 1);
    store
        .record(&[Record {
            seq: 1,
            cache: vec![],
            outcome: ok("first"),
            verdicts: vec![verdict(false)],
            judge_faults: vec![],
        }])
        .unwrap();
    store
        .record(&[Record {
            seq: 1,
            cache: vec![],
            outcome: ok("second"),
            verdicts: vec![verdict(true)],
            judge_faults: vec![],
        }])
        .unwrap();
    drop(store);
    let store = Store::open_existing(dir.path()).unwrap();
    let mut rows = Vec::new();
    store.for_each_trial(|r| rows.push(r)).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outcome.as_ref().unwrap().response().unwrap().text, "first");
    assert_eq!(rows[0].verdicts.len(), 1);
    assert!(!rows[0].verdicts[0].refused);
}

#[test]
fn unjudged_finds_new_judges_and_new_versions() {
    let (_d, mut store, _) = setup(2, 1);
    store
        .record(&[
            Record { seq: 1, cache: vec![], outcome: ok("a"), verdicts: vec![verdict(true)], judge_faults: vec![] },
            Record {
                seq: 2,
                cache: vec![],
                outcome: fault(FaultKind::ServerError, "500"),
                verdicts: vec![],
                judge_faults: vec![],
            },
        ])
        .unwrap();
    assert!(store.unjudged("markers", "1", 0, 10).unwrap().is_empty());
    let u = store.unjudged("markers", "2", 0, 10).unwrap();
    assert_eq!(u.len(), 1, "faults are never judged");
    assert_eq!(u[0].response.text, "a");
    assert_eq!(store.unjudged("rubric", "1", 0, 10).unwrap().len(), 1);
    let mut v = verdict(false);
    v.judge = "rubric".into();
    store.record_verdicts(&[(1, v)], &[], &[]).unwrap();
    assert!(store.unjudged("rubric", "1", 0, 10).unwrap().is_empty());
    assert_eq!(store.judges().unwrap(), vec![("markers".into(), "1".into()), ("rubric".into(), "1".into())]);
}

#[test]
fn protocol_round_trips_and_missing_run_is_named() {
    let (dir, store, _) = setup(1, 1);
    assert!(store.protocol().unwrap().is_none());
    let card = ProtocolCard {
        tool: "evalgap".into(),
        tool_version: "0".into(),
        target: "t".into(),
        target_model: None,
        model_sha256: None,
        suite: "s".into(),
        suite_version: "v".into(),
        cases: 1,
        selection: "all".into(),
        transforms: vec![],
        cycle: 0,
        translator: None,
        attacker: None,
        gap_threshold: 0.1,
        attempts: 1,
        sampling: Sampling::default(),
        seed: 1,
        judges: vec!["markers".into()],
        threat_model: "x".into(),
        request_policy: serde_json::json!({}),
        started: now_rfc3339(),
    };
    store.save_protocol(&card).unwrap();
    assert_eq!(store.protocol().unwrap(), Some(card));
    let missing = dir.path().join("nope");
    let e = Store::open_existing(&missing).err().unwrap().to_string();
    assert!(e.contains("no evalgap run") && e.contains("nope"), "{e}");
}

#[test]
fn newer_schema_is_refused() {
    let (dir, store, _) = setup(1, 1);
    store.conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(store);
    let e = Store::open_existing(dir.path()).err().unwrap().to_string();
    assert!(e.contains("schema version 99"), "{e}");
}

#[test]
fn unit_counts_aggregate_in_sql_and_cache_round_trips() {
    let (_d, mut store, _) = setup(2, 2);
    let mut guard = verdict(false);
    guard.judge = "guard".into();
    guard.parts.insert("refusal_assessed".into(), false.into());
    let entry = CacheEntry { judge_version: "1".into(), input_hash: "h".into(), verdict: verdict(true) };
    store
        .record(&[
            Record {
                seq: 1,
                outcome: ok("a"),
                verdicts: vec![verdict(true), guard.clone()],
                judge_faults: vec![],
                cache: vec![entry],
            },
            Record {
                seq: 2,
                outcome: ok("b"),
                verdicts: vec![verdict(false), guard],
                judge_faults: vec![],
                cache: vec![],
            },
            Record {
                seq: 3,
                outcome: fault(FaultKind::Timeout, "t"),
                verdicts: vec![],
                judge_faults: vec![],
                cache: vec![],
            },
        ])
        .unwrap();
    let u = store.unit_counts("markers").unwrap();
    assert_eq!(u.len(), 2);
    let t = u[0].tally;
    assert_eq!(
        (u[0].case_id.as_str(), t.trials, t.faults, t.judged, t.harmful, t.refusal_judged, t.refused),
        ("c0", 2, 0, 2, 1, 2, 1)
    );
    assert_eq!((u[1].tally.trials, u[1].tally.faults, u[1].tally.judged), (2, 1, 0));
    let g = store.unit_counts("guard").unwrap();
    assert_eq!((g[0].tally.judged, g[0].tally.refusal_judged), (2, 0), "guard verdicts assess no refusal");
    assert_eq!(store.cached_verdicts("1").unwrap()["h"], verdict(true));
    let s = store.samples("markers", CaseKind::Harmful, SampleField::Harmful, 5).unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].3.text, "b");
}

#[test]
fn new_variants_store_their_turn_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_or_create(dir.path()).unwrap();
    let case = Case::single("c0", "request", CaseKind::Harmful, "cat");
    let plain = Variant::plain(&case);
    let tools = Variant::new(
        &case,
        vec![],
        vec![Message::user("do it")],
        Some(serde_json::json!([{"type": "function"}]).into()),
    );
    let turns =
        Variant::new(&case, vec![], vec![Message::user("one"), Message::assistant("ok"), Message::user("two")], None);
    let trials: Vec<Trial> =
        [&plain, &tools, &turns].iter().map(|v| Trial::new(v, 0, "t", &Sampling::default(), 1)).collect();
    store.plan(std::slice::from_ref(&case), [&plain, &tools, &turns], trials).unwrap();
    let f = store.variant_formats().unwrap();
    assert_eq!(f[&plain.id], "single-turn");
    assert_eq!(f[&tools.id], "tool-calling");
    assert_eq!(f[&turns.id], "multi-turn");
}

#[test]
fn a_version_1_store_is_migrated_with_its_turn_formats() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    {
        // A store as version 1 wrote it: no format column.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!("{} PRAGMA user_version = 1;", schema::V1)).unwrap();
        let case = Case::single("c0", "request", CaseKind::Harmful, "cat");
        conn.execute(
            "INSERT INTO cases (case_id, kind, category, language, body) VALUES ('c0', 'harmful', 'cat', 'en', ?1)",
            [serde_json::to_string(&case).unwrap()],
        )
        .unwrap();
        let tools = Variant::new(&case, vec![], vec![Message::user("x")], Some(serde_json::json!([]).into()));
        let turns = Variant::new(&case, vec![], vec![Message::user("a"), Message::user("b")], None);
        for (v, chain) in [(&Variant::plain(&case), "plain"), (&tools, "agentic"), (&turns, "multiturn")] {
            conn.execute(
                "INSERT INTO variants (variant_id, case_id, chain, language, body) VALUES (?1, 'c0', ?2, 'en', ?3)",
                params![v.id, chain, serde_json::to_string(v).unwrap()],
            )
            .unwrap();
        }
    }
    let store = Store::open_existing(dir.path()).unwrap();
    let version: i64 = store.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, schema::SCHEMA_VERSION);
    let mut formats: Vec<String> = store.variant_formats().unwrap().into_values().collect();
    formats.sort();
    assert_eq!(formats, ["multi-turn", "single-turn", "tool-calling"]);
    // Version 3: the bodies moved to their own table, whole, keyed by the variant's position.
    let moved: Vec<(String, String, String)> = {
        let mut stmt = store
            .conn
            .prepare(
                "SELECT v.variant_id, v.body, b.body FROM variants v JOIN variant_bodies b ON b.vseq = v.vseq
                 ORDER BY v.vseq",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(|r| r.unwrap()).collect()
    };
    assert_eq!(moved.len(), 3);
    let case = Case::single("c0", "request", CaseKind::Harmful, "cat");
    let tools = Variant::new(&case, vec![], vec![Message::user("x")], Some(serde_json::json!([]).into()));
    assert_eq!((moved[1].0.as_str(), moved[1].1.as_str()), (tools.id.as_str(), ""));
    let back: Variant = serde_json::from_str(&moved[1].2).unwrap();
    assert_eq!(back, tools);
}

#[test]
fn unit_counts_read_the_factual_class_and_confidence() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_or_create(dir.path()).unwrap();
    let case = Case::single("f0", "What is the maximum daily dose?", CaseKind::Factual, "medical");
    let v = Variant::plain(&case);
    let trials: Vec<Trial> = (0..4).map(|a| Trial::new(&v, a, "t", &Sampling::default(), 1)).collect();
    store.plan(std::slice::from_ref(&case), [&v], trials.iter().cloned()).unwrap();
    let graded = |class: &str, confidence: &str| {
        let mut g = verdict(false);
        g.judge = "factual".into();
        g.harmful = false;
        g.parts.insert("class".into(), class.into());
        g.parts.insert("confidence".into(), confidence.into());
        g
    };
    let rec = |seq: i64, verdicts: Vec<Verdict>| Record {
        seq,
        outcome: ok("an answer"),
        verdicts,
        judge_faults: vec![],
        cache: vec![],
    };
    store
        .record(&[
            rec(1, vec![graded("correct", "confident")]),
            rec(2, vec![graded("wrong", "confident")]),
            rec(3, vec![graded("wrong", "hedged")]),
        ])
        .unwrap();
    let u = &store.unit_counts("factual").unwrap()[0];
    let t = u.tally;
    assert_eq!((t.trials, t.judged, t.correct, t.confident_wrong), (4, 3, 1, 1));
    let m = &store.unit_counts("markers").unwrap()[0];
    assert_eq!((m.tally.judged, m.tally.correct), (0, 0), "another judge's verdicts are not read");
}

#[test]
fn a_shared_tools_schema_is_stored_once_and_read_back_with_each_variant() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_or_create(dir.path()).unwrap();
    let cases: Vec<Case> =
        (0..3).map(|i| Case::single(format!("c{i}"), format!("request {i}"), CaseKind::Harmful, "cat")).collect();
    let schema = std::sync::Arc::new(serde_json::json!([{"type": "function", "function": {"name": "shell"}}]));
    let mut variants: Vec<Variant> = cases
        .iter()
        .map(|c| Variant::new(c, vec![], vec![Message::user(format!("task: {}", c.text()))], Some(schema.clone())))
        .collect();
    variants.push(Variant::plain(&cases[0]));
    let trials: Vec<Trial> = variants.iter().map(|v| Trial::new(v, 0, "t", &Sampling::default(), 1)).collect();
    store.plan(&cases, &variants, trials.iter().cloned()).unwrap();
    let q = |sql: &str| store.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(q("SELECT COUNT(*) FROM tools"), 1, "one schema, stored once");
    assert_eq!(q("SELECT COUNT(*) FROM variant_bodies WHERE tools IS NOT NULL"), 3);
    assert_eq!(q("SELECT COUNT(*) FROM variant_bodies WHERE instr(body, 'shell') > 0"), 0, "no copy in the bodies");
    let records: Vec<Record> = (0..trials.len())
        .map(|i| Record {
            seq: i as i64 + 1,
            outcome: ok("an answer"),
            verdicts: vec![],
            judge_faults: vec![],
            cache: vec![],
        })
        .collect();
    store.record(&records).unwrap();
    let read: Vec<Variant> = store.unjudged("markers", "1", 0, 10).unwrap().into_iter().map(|u| u.variant).collect();
    assert_eq!(read, variants, "every variant reads back whole, tools included");
}

#[test]
fn durability_belongs_to_the_connection_that_was_told() {
    // PRAGMA synchronous: 1 NORMAL, 2 FULL.
    let synchronous = |s: &Store| s.conn.query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0)).unwrap();
    let (_dir, store, _) = setup(1, 1);
    assert_eq!(synchronous(&store), 1, "NORMAL by default");
    store.set_durable(true).unwrap();
    assert_eq!(synchronous(&store), 2);
    // Another connection to the same file keeps the default: a run must set it on the connection
    // that writes its records.
    assert_eq!(synchronous(&store.reopen().unwrap()), 1);
}

#[test]
fn plan_steps_skip_the_foreign_key_lookups_and_leave_them_on_for_records() {
    // `setup` writes its plan through `plan_step`.
    let (_d, mut store, trials) = setup(4, 2);
    let violations: i64 =
        store.conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
    assert_eq!(violations, 0, "a plan's rows refer only to rows written before them");
    let on: bool = store.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
    assert!(on, "foreign keys are checked again after a plan step");
    // A record for a trial the plan does not have is refused, and the batch with it.
    let stray = Record {
        seq: trials.len() as i64 + 1,
        outcome: ok("text"),
        verdicts: vec![verdict(true)],
        judge_faults: vec![],
        cache: vec![],
    };
    let err = store.record(&[stray]).unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    assert_eq!(store.counts().unwrap().responses, 0);
}
