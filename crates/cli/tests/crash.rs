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
    let target = env.target("m");
    let args = [
        "run",
        "--suite",
        suite.to_str().unwrap(),
        "--target",
        &target,
        "--attempts",
        "5",
        "--out",
        out.to_str().unwrap(),
        "--concurrency",
        "2",
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xC0FFEE ^ std::process::id() as u64);
    let mut before = BTreeMap::new();
    let mut kills = 0;
    for round in 0..6 {
        let mut child = evalgap()
            .args(args)
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
    run_ok(&args);

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
