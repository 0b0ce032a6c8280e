//! Crash safety: `kill -9` of the real binary at random moments, then the same command again,
//! ends with every trial answered exactly once, and no recorded answer is ever lost or changed.

mod common;

use common::*;
use evalgap_testserver::{plan, Config};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// trial_id -> response body, straight from the store.
fn recorded(dir: &Path) -> BTreeMap<String, String> {
    let db = dir.join("evalgap.sqlite");
    if !db.exists() {
        return BTreeMap::new();
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare("SELECT t.trial_id, r.body FROM responses r JOIN trials t ON t.seq = r.seq").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn kill_9_at_random_moments_then_resume_answers_every_trial_exactly_once() {
    let config = Config { default_compliance: 0.5, latency_ms: 20, ..Config::default() };
    let env = Env::start(config.clone());
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 40, 20);
    let out = env.path("run");
    let args = env.run_args(&suite, &out, "m", 5, &["--concurrency", "2"]);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xC0FFEE ^ std::process::id() as u64);
    let mut before = BTreeMap::new();
    let mut kills = 0;
    for round in 0..6 {
        let mut child = evalgap()
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(20..350)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL on Unix
            kills += 1;
        }
        child.wait().unwrap();
        let now = recorded(&out);
        for (id, body) in &before {
            assert_eq!(now.get(id), Some(body), "round {round}: a recorded response was lost or changed");
        }
        before = now;
    }
    assert!(kills >= 3, "the test must actually kill runs mid-way (killed {kills})");
    assert!(before.len() < 300, "the kills happened before the end");
    env.run(&suite, &out, "m", 5, &["--concurrency", "2"]);

    let conn = rusqlite::Connection::open(out.join("evalgap.sqlite")).unwrap();
    let q = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(q("SELECT COUNT(*) FROM trials"), 300);
    assert_eq!(q("SELECT COUNT(*) FROM responses"), 300);
    assert_eq!(q("SELECT COUNT(DISTINCT t.trial_id) FROM responses r JOIN trials t ON t.seq = r.seq"), 300);
    assert_eq!(q("SELECT COUNT(*) FROM trials t WHERE NOT EXISTS (SELECT 1 FROM responses r WHERE r.seq = t.seq)"), 0);
    assert_eq!(q("SELECT COUNT(*) FROM verdicts"), 300);
    let last = recorded(&out);
    for (id, body) in &before {
        assert_eq!(last.get(id), Some(body), "a response recorded before the last kill changed");
    }
    // Every answer belongs to its own trial (no mix-up under concurrency and kills).
    for r in export(&out) {
        let case = r["case_id"].as_str().unwrap();
        let text = case_text(case);
        let seed = r["seed"].as_u64().unwrap();
        assert_eq!(r["response"]["text"], plan(&config, "m", seed, &text).text(seed));
    }
}

/// A run killed while writing a large plan leaves part of it, marked incomplete; the same command
/// again writes the rest (same trial ids, same rotation marks) before it sends, and sends only the
/// trials with no response.
#[test]
fn a_plan_cut_short_is_completed_before_anything_else_is_sent() {
    let env = Env::start(Config { default_compliance: 0.5, ..Config::default() });
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 150, 150);
    let out = env.path("run");
    let run = || env.run(&suite, &out, "m", 2, &["--transform", "all"]);
    run();
    let db = out.join("evalgap.sqlite");
    let rows = |conn: &rusqlite::Connection, sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
    };
    let plan_sql = "SELECT t.seq || ' ' || t.trial_id || ' ' || v.variant_id || ' ' || v.rotation
                    FROM trials t JOIN variants v ON v.variant_id = t.variant_id ORDER BY t.seq";
    let conn = rusqlite::Connection::open(&db).unwrap();
    let full_plan = rows(&conn, plan_sql);
    assert_eq!(full_plan.len(), 6000, "300 cases plain and under 9 transforms, 2 attempts each");
    let before = recorded(&out);

    // What a kill after the first steps of the plan leaves: the first 2,048 trials (whole
    // variants: 2 steps of 1,024 trials), most of them answered, and the mark.
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         BEGIN;
         DELETE FROM verdicts WHERE seq > 2000; DELETE FROM judge_faults WHERE seq > 2000;
         DELETE FROM responses WHERE seq > 2000;
         DELETE FROM trials WHERE seq > 2048;
         DELETE FROM variants WHERE variant_id NOT IN (SELECT variant_id FROM trials);
         DELETE FROM variant_bodies WHERE vseq NOT IN (SELECT vseq FROM variants);
         INSERT INTO meta (key, value) VALUES ('plan_incomplete', 'true');
         COMMIT;",
    )
    .unwrap();
    drop(conn);
    let kept = recorded(&out);
    assert_eq!(kept.len(), 2000);
    let partial = run_ok(&["report", out.to_str().unwrap()]);
    let note = String::from_utf8_lossy(&partial.stderr);
    assert!(
        note.contains("stopped while writing its plan") && note.contains("the 2048 trials planned so far"),
        "{note}"
    );

    let output = run();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("6000 trials: 6000 responses, 0 faults, 0 pending (4000 sent now"), "{stderr}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(rows(&conn, plan_sql), full_plan, "the completed plan is the plan a fresh run writes");
    assert!(rows(&conn, "SELECT key FROM meta WHERE key = 'plan_incomplete'").is_empty());
    let after = recorded(&out);
    assert_eq!(after.len(), 6000);
    for (id, body) in &kept {
        assert_eq!(after.get(id), Some(body), "a response recorded before the kill changed");
    }
    // The trials sent again got the planted answers of the same seeds: the same text as before.
    let texts = |m: &BTreeMap<String, String>| -> BTreeMap<String, serde_json::Value> {
        m.iter()
            .map(|(id, b)| (id.clone(), serde_json::from_str::<serde_json::Value>(b).unwrap()["text"].clone()))
            .collect()
    };
    assert_eq!(texts(&after), texts(&before));
}

/// Ctrl-C (SIGINT) stops sending, lets the trials in flight be recorded, and leaves the whole plan in
/// the store: the interrupted run exits 130 with every recorded response counted and the rest pending.
#[test]
fn ctrl_c_stops_sending_and_leaves_the_whole_plan() {
    let env = Env::start(Config { default_compliance: 0.5, latency_ms: 30, ..Config::default() });
    let suite = env.path("suite.jsonl");
    write_suite(&suite, 150, 150);
    let out = env.path("run");
    let child = evalgap()
        .args(env.run_args(&suite, &out, "m", 2, &["--transform", "all", "--concurrency", "4"]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once answers are being recorded (the run is sending, its handler installed), interrupt it.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let answered_so_far = || -> i64 {
        // Read-only: never creates the file under the run's feet.
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let Ok(conn) = rusqlite::Connection::open_with_flags(out.join("evalgap.sqlite"), flags) else { return 0 };
        conn.query_row("SELECT COUNT(*) FROM responses", [], |r| r.get(0)).unwrap_or(0)
    };
    while answered_so_far() < 20 {
        assert!(std::time::Instant::now() < deadline, "the run never started recording");
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: run the same command again to resume"), "{stderr}");

    let conn = rusqlite::Connection::open(out.join("evalgap.sqlite")).unwrap();
    let q = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(q("SELECT COUNT(*) FROM trials"), 6000, "the whole plan is written");
    assert_eq!(q("SELECT COUNT(*) FROM meta WHERE key = 'plan_incomplete'"), 0);
    let answered = q("SELECT COUNT(*) FROM responses");
    assert!(answered > 0 && answered < 6000, "stopped part way: {answered} answered");
    assert_eq!(q("SELECT COUNT(*) FROM verdicts"), answered, "every recorded answer judged");
    let summary = format!("6000 trials: {answered} responses, 0 faults, {} pending", 6000 - answered);
    assert!(stderr.contains(&summary), "{stderr}");
}
