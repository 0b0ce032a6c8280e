//! The run store: everything a run plans and records, in `RUN_DIR/evalgap.sqlite`.
//!
//! SQLite in WAL mode with a versioned schema (see `schema.rs`). The rules that make resume exact:
//! - trial ids are deterministic, and `trials` is filled once, in plan order; a trial's row is
//!   committed before its response, and a plan cut short by a crash is marked incomplete and
//!   completed before anything else is sent (see [`Store::begin_plan`]);
//! - a trial is pending exactly when it has no row in `responses`;
//! - a response and its verdicts are written in one transaction, and only after that commit is
//!   the trial counted done. A kill at any moment loses at most uncommitted responses, whose
//!   trials are still pending and are sent again by the next run of the same command.
//!
//! `synchronous=NORMAL` in WAL mode survives the death of the process (the case this store is
//! built for) but not a power cut in the last moments before it; `durable` switches to FULL.

mod attacks;
mod ledger;
mod schema;

pub use attacks::{AttackFacts, AttackTally};
pub use ledger::Ledger;

use evalgap_core::{
    Case, CaseKind, Fault, FaultKind, Outcome, ProtocolCard, Response, Trial, TrialId, Variant, Verdict,
};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use schema::SCHEMA_VERSION;

/// File name of the store inside a run folder.
pub const DB_FILE: &str = "evalgap.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Sql { path: PathBuf, source: rusqlite::Error },
    #[error("no evalgap run in {0} (missing {1}); start one with `evalgap run --out {0}`")]
    NoRun(PathBuf, &'static str),
    #[error("{path}: store schema version {found} is not supported by this evalgap (expects {expected}); use a matching evalgap version or a new --out folder")]
    Schema { path: PathBuf, found: i64, expected: i64 },
    #[error("{path}: corrupt row in table {table} ({key}): {why}")]
    Corrupt { path: PathBuf, table: &'static str, key: String, why: String },
    #[error("cannot create run folder {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A judge's verdict remembered by (judge version, hash of what it read), so the same input is
/// never sent to a model judge twice.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    pub judge_version: String,
    pub input_hash: String,
    pub verdict: Verdict,
}

/// One trial's outcome with the verdicts of every judge that read it.
#[derive(Debug, Clone)]
pub struct Record {
    /// The trial's plan position (its key in the store).
    pub seq: i64,
    pub outcome: Outcome,
    pub verdicts: Vec<Verdict>,
    /// Judges that gave no verdict: (judge, why).
    pub judge_faults: Vec<(String, String)>,
    /// New verdict-cache entries.
    pub cache: Vec<CacheEntry>,
}

impl Record {
    /// The record as the store writes it: the JSON made here, by whoever made the record (the
    /// run's workers), so the one writer thread only inserts. It is also smaller to queue.
    pub fn serialize(&self) -> SerializedRecord {
        SerializedRecord {
            seq: self.seq,
            status: self.outcome.status(),
            body: serde_json::to_string(&self.outcome).expect("outcome serializes"),
            verdicts: self.verdicts.iter().map(SerializedVerdict::of).collect(),
            attack: match &self.outcome {
                Outcome::Ok(r) => r.attack.as_deref().map(AttackFacts::of),
                Outcome::Fault(_) => None,
            },
            judge_faults: self.judge_faults.clone(),
            cache: self
                .cache
                .iter()
                .map(|c| {
                    let body = serde_json::to_string(&c.verdict).expect("verdict serializes");
                    (c.judge_version.clone(), c.input_hash.clone(), body)
                })
                .collect(),
        }
    }
}

/// A [`Record`] ready to insert (see [`Record::serialize`]).
#[derive(Debug, Clone)]
pub struct SerializedRecord {
    pub seq: i64,
    /// `ok`, or the fault kind.
    pub status: &'static str,
    body: String,
    verdicts: Vec<SerializedVerdict>,
    /// An ok response's attack trace, as its chain's summary counts it.
    attack: Option<AttackFacts>,
    judge_faults: Vec<(String, String)>,
    /// (judge version, input hash, verdict JSON).
    cache: Vec<(String, String, String)>,
}

impl SerializedRecord {
    pub fn is_fault(&self) -> bool {
        self.status != "ok"
    }

    /// What the verdict of `judge` adds to its unit's counts; None when that judge gave none.
    pub fn verdict_facts(&self, judge: &str) -> Option<VerdictFacts> {
        self.verdicts.iter().find(|v| v.judge == judge).map(|v| v.facts)
    }

    /// The (judge, version) of each verdict.
    pub fn judged_by(&self) -> impl Iterator<Item = (&str, &str)> {
        self.verdicts.iter().map(|v| (v.judge.as_str(), v.version.as_str()))
    }

    /// What the response's attack trace adds to its chain's summary; None without a trace.
    pub fn attack_facts(&self) -> Option<&AttackFacts> {
        self.attack.as_ref()
    }
}

/// A variant's `rotation` column from its mark: `Some(true)` reused (an earlier run sent it),
/// `Some(false)` new, `None` the plain baseline (see [`Ledger`]).
pub fn rotation_label(mark: Option<bool>) -> &'static str {
    match mark {
        None => "baseline",
        Some(false) => "new",
        Some(true) => "reused",
    }
}

/// A verdict's columns and its JSON.
#[derive(Debug, Clone)]
struct SerializedVerdict {
    judge: String,
    version: String,
    facts: VerdictFacts,
    body: String,
}

impl SerializedVerdict {
    fn of(v: &Verdict) -> Self {
        let part = |name: &str| v.parts.get(name).and_then(|x| x.as_str());
        SerializedVerdict {
            judge: v.judge.clone(),
            version: v.judge_version.clone(),
            facts: VerdictFacts {
                refused: v.refused,
                harmful: v.harmful,
                assessed: v.parts.get("refusal_assessed").and_then(|x| x.as_bool()).unwrap_or(true),
                class: FactualClass::of(part("class"), part("confidence")),
            },
            body: serde_json::to_string(v).expect("verdict serializes"),
        }
    }
}

/// What one verdict adds to the counts of its (case, variant) unit ([`UnitTally::count`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerdictFacts {
    pub refused: bool,
    pub harmful: bool,
    /// Guard-model verdicts say they do not assess refusal; refusal rates leave them out.
    pub assessed: bool,
    /// The factual judge's class of the answer (other judges give none).
    pub class: FactualClass,
}

/// How a factual answer was classed, as far as the counts care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactualClass {
    Correct,
    /// `wrong`, stated with no hedge.
    ConfidentWrong,
    /// Anything else, or no class.
    Other,
}

impl FactualClass {
    /// From the factual judge's `class` and `confidence` parts.
    pub fn of(class: Option<&str>, confidence: Option<&str>) -> Self {
        match (class, confidence) {
            (Some("correct"), _) => FactualClass::Correct,
            (Some("wrong"), Some("confident")) => FactualClass::ConfidentWrong,
            _ => FactualClass::Other,
        }
    }
}

/// Counts of trials by state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub trials: u64,
    pub responses: u64,
    pub faults: BTreeMap<String, u64>,
    pub pending: u64,
}

impl Counts {
    pub fn fault_total(&self) -> u64 {
        self.faults.values().sum()
    }
}

/// One adaptive chain's attack figures (see [`Store::attack_summary`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AttackSummaryRow {
    pub chain: String,
    pub strategy: String,
    pub responses: u64,
    /// Responses whose loop stopped because the stop judge read success.
    pub succeeded: u64,
    pub mean_queries: f64,
    pub budget: u64,
    pub attacker_requests: u64,
}

/// One trial as the export and the analysis see it.
#[derive(Debug, Clone)]
pub struct TrialRow {
    pub seq: i64,
    pub trial_id: TrialId,
    pub case_id: String,
    pub kind: CaseKind,
    pub category: String,
    pub language: String,
    pub variant_id: String,
    pub chain: String,
    pub attempt: u32,
    pub seed: u64,
    /// None while pending.
    pub outcome: Option<Outcome>,
    pub verdicts: Vec<Verdict>,
}

/// Per (case, variant) counts under one judge: what the unit is, and its [`UnitTally`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitCounts {
    pub case_id: String,
    /// `meta.group` of the case (the same request in other languages shares it), else the case id.
    pub group: String,
    pub variant_id: String,
    pub kind: CaseKind,
    pub category: String,
    pub language: String,
    pub chain: String,
    /// `baseline`, `new` or `reused` (see [`Ledger`]).
    pub rotation: String,
    /// `single-turn`, `multi-turn` or `tool-calling` (see `Variant::turn_format`).
    pub format: String,
    pub tally: UnitTally,
}

impl UnitCounts {
    /// The order units are reported in: by case, then variant.
    pub fn sort(units: &mut [UnitCounts]) {
        // (case, variant) pairs are distinct: an unstable sort gives the one order.
        units.sort_unstable_by(Self::report_order);
    }

    /// [`UnitCounts::sort`] of positions into `units` instead of the units themselves.
    pub fn sort_positions(units: &[UnitCounts], positions: &mut [usize]) {
        positions.sort_unstable_by(|&a, &b| Self::report_order(&units[a], &units[b]));
    }

    fn report_order(a: &UnitCounts, b: &UnitCounts) -> std::cmp::Ordering {
        (&a.case_id, &a.variant_id).cmp(&(&b.case_id, &b.variant_id))
    }
}

/// A unit's counts under one judge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitTally {
    pub trials: u64,
    pub faults: u64,
    /// Ok responses with a verdict from the judge.
    pub judged: u64,
    pub harmful: u64,
    /// Of `judged`, those whose verdict assesses refusal (guard verdicts do not).
    pub refusal_judged: u64,
    pub refused: u64,
    /// Factual cases: verdicts classed `correct`, and `wrong` with no hedge (confident-wrong).
    pub correct: u64,
    pub confident_wrong: u64,
}

impl UnitTally {
    /// Counts one verdict of the judge on a trial of a unit of `kind`.
    pub fn count(&mut self, kind: CaseKind, v: &VerdictFacts) {
        self.judged += 1;
        self.harmful += v.harmful as u64;
        if v.assessed {
            self.refusal_judged += 1;
            self.refused += v.refused as u64;
        }
        if kind == CaseKind::Factual {
            self.correct += (v.class == FactualClass::Correct) as u64;
            self.confident_wrong += (v.class == FactualClass::ConfidentWrong) as u64;
        }
    }
}

/// An ok response that one judge has not read yet.
#[derive(Debug, Clone)]
pub struct Unjudged {
    pub seq: i64,
    pub trial_id: TrialId,
    pub case: Case,
    pub variant: Variant,
    pub response: Response,
}

/// A trial row of the plan, borrowing its case and variant ids.
pub struct PlannedTrial<'a> {
    /// The plan position, from 1.
    pub seq: i64,
    pub id: TrialId,
    pub case_id: &'a str,
    pub variant_id: &'a str,
    pub attempt: u32,
    pub seed: u64,
}

impl<'a> PlannedTrial<'a> {
    pub fn of(seq: i64, t: &'a Trial) -> Self {
        Self { seq, id: t.id.clone(), case_id: &t.case_id, variant_id: &t.variant_id, attempt: t.attempt, seed: t.seed }
    }
}

/// How much of a plan a store holds (see [`Store::begin_plan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanState {
    None,
    /// A run stopped while writing it: the first `trials` trials are in, with their variants.
    Incomplete {
        trials: u64,
    },
    Complete {
        trials: u64,
    },
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens the store in `dir`, creating the folder and the schema if needed.
    pub fn open_or_create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(dir.to_path_buf(), e))?;
        Self::open_path(&dir.join(DB_FILE))
    }

    /// Opens an existing run's store.
    pub fn open_existing(dir: &Path) -> Result<Self> {
        let path = dir.join(DB_FILE);
        if !path.is_file() {
            return Err(StoreError::NoRun(dir.to_path_buf(), DB_FILE));
        }
        Self::open_path(&path)
    }

    /// A second connection to this store, for reading beside this one on another thread.
    pub fn reopen(&self) -> Result<Self> {
        Self::open_path(&self.path)
    }

    fn open_path(path: &Path) -> Result<Self> {
        let err = |source| StoreError::Sql { path: path.to_path_buf(), source };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(err)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(err)?;
        let store = Self { conn, path: path.to_path_buf() };
        schema::migrate(&store.conn, path)?;
        Ok(store)
    }

    /// Every commit on this connection is flushed to disk before it returns (slower; survives
    /// power loss). The setting belongs to the connection, not the file.
    pub fn set_durable(&self, durable: bool) -> Result<()> {
        let mode = if durable { "FULL" } else { "NORMAL" };
        self.conn.execute_batch(&format!("PRAGMA synchronous={mode};")).map_err(|e| self.sql(e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sql { path: self.path.clone(), source }
    }

    fn corrupt(&self, table: &'static str, key: &str, why: impl ToString) -> StoreError {
        StoreError::Corrupt { path: self.path.clone(), table, key: key.to_string(), why: why.to_string() }
    }

    pub fn protocol(&self) -> Result<Option<ProtocolCard>> {
        let card: Option<String> = self
            .conn
            .query_row("SELECT card FROM protocol WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql(e))?;
        card.map(|c| serde_json::from_str(&c).map_err(|e| self.corrupt("protocol", "1", e))).transpose()
    }

    pub fn save_protocol(&self, card: &ProtocolCard) -> Result<()> {
        let json = serde_json::to_string(card).expect("protocol card serializes");
        self.conn
            .execute(
                "INSERT INTO protocol (id, card) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET card = excluded.card",
                [json],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Writes the plan: cases, variants and trials, in one transaction. A store that already holds
    /// a plan keeps it: the caller has checked that the protocol (and so the plan) is the same.
    pub fn plan<'v>(
        &mut self,
        cases: &[Case],
        variants: impl IntoIterator<Item = &'v Variant>,
        trials: impl IntoIterator<Item = Trial>,
    ) -> Result<u64> {
        self.plan_marked(cases, variants, trials, &HashMap::new())
    }

    /// [`Store::plan`], with each transformed variant marked `reused` (true) or `new` (false) from
    /// the rotation ledger; a variant without a mark is the plain `baseline`.
    pub fn plan_marked<'v>(
        &mut self,
        cases: &[Case],
        variants: impl IntoIterator<Item = &'v Variant>,
        trials: impl IntoIterator<Item = Trial>,
        reused: &HashMap<String, bool>,
    ) -> Result<u64> {
        if self.plan_state()? != PlanState::None {
            return self.count("SELECT COUNT(*) FROM trials");
        }
        self.begin_plan(cases)?;
        let variants = (1i64..).zip(variants).map(|(vseq, v)| (vseq, v, reused.get(&v.id).copied()));
        let trials: Vec<Trial> = trials.into_iter().collect();
        self.plan_step(variants, (1i64..).zip(&trials).map(|(seq, t)| PlannedTrial::of(seq, t)))?;
        self.finish_plan(&[])
    }

    /// Whether the store holds no plan, part of one (a run stopped while writing it), or all of it.
    pub fn plan_state(&self) -> Result<PlanState> {
        let trials = self.count("SELECT COUNT(*) FROM trials")?;
        let incomplete = self.count("SELECT COUNT(*) FROM meta WHERE key = 'plan_incomplete'")? > 0;
        Ok(match (trials, incomplete) {
            (0, false) => PlanState::None,
            (trials, true) => PlanState::Incomplete { trials },
            (trials, false) => PlanState::Complete { trials },
        })
    }

    /// Starts writing the plan of a store that has none: the cases, and a mark that the plan is
    /// incomplete, in one transaction. [`Store::plan_step`] then adds variants and trials in plan
    /// order, each step its own transaction, so the first trials can be sent and recorded while a
    /// large plan is still being written; [`Store::finish_plan`] removes the mark. A run that finds
    /// the mark (it stopped while writing the plan) writes the rest before it sends anything.
    pub fn begin_plan(&mut self, cases: &[Case]) -> Result<()> {
        let path = self.path.clone();
        let err = |source| StoreError::Sql { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('plan_incomplete', 'true')", []).map_err(err)?;
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO cases (case_id, kind, category, language, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err)?;
            for c in cases {
                let body = serde_json::to_string(c).expect("case serializes");
                ins.execute(params![c.id, c.kind.as_str(), c.category, c.language, body]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// One step of the plan being written, in one transaction: variants as (vseq, variant, rotation
    /// mark), vseq being the variant's plan position from 1 and the mark `Some(true)` reused (an
    /// earlier run sent it), `Some(false)` new, `None` the plain baseline; and trials. Trial ids
    /// are distinct by construction (a hash of distinct variants and attempts), so no index on
    /// them is built.
    ///
    /// The step's rows refer only to rows written before them: the cases (by
    /// [`Store::begin_plan`]) and, in this transaction, the step's variants, inserted ahead of
    /// their trials. So foreign keys are not checked row by row here (a lookup per reference, a few
    /// percent of a large run's CPU); they are on again for everything else, records included.
    pub fn plan_step<'v, 't>(
        &mut self,
        variants: impl IntoIterator<Item = (i64, &'v Variant, Option<bool>)>,
        trials: impl IntoIterator<Item = PlannedTrial<'t>>,
    ) -> Result<()> {
        self.conn.execute_batch("PRAGMA foreign_keys=OFF").map_err(|e| self.sql(e))?;
        let written = self.plan_rows(variants, trials);
        self.conn.execute_batch("PRAGMA foreign_keys=ON").map_err(|e| self.sql(e))?;
        written
    }

    /// The transaction of [`Store::plan_step`].
    fn plan_rows<'v, 't>(
        &mut self,
        variants: impl IntoIterator<Item = (i64, &'v Variant, Option<bool>)>,
        trials: impl IntoIterator<Item = PlannedTrial<'t>>,
    ) -> Result<()> {
        let path = self.path.clone();
        let err = |source| StoreError::Sql { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO variants (variant_id, vseq, case_id, chain, language, format, rotation, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '')",
                )
                .map_err(err)?;
            let mut ins_body = tx
                .prepare_cached("INSERT OR IGNORE INTO variant_bodies (vseq, body, tools) VALUES (?1, ?2, ?3)")
                .map_err(err)?;
            let mut ins_tools =
                tx.prepare_cached("INSERT OR IGNORE INTO tools (hash, body) VALUES (?1, ?2)").map_err(err)?;
            // Tools schemas stored in this step, by identity: a run's agentic variants share one.
            let mut stored: Vec<(std::sync::Arc<serde_json::Value>, String)> = Vec::new();
            for (vseq, v, mark) in variants {
                let rotation = rotation_label(mark);
                ins.execute(params![v.id, vseq, v.case_id, v.chain_name(), v.language, v.turn_format(), rotation])
                    .map_err(err)?;
                let tools = match &v.tools {
                    None => None,
                    Some(t) => match stored.iter().find(|(s, _)| std::sync::Arc::ptr_eq(s, t)) {
                        Some((_, hash)) => Some(hash.clone()),
                        None => {
                            let json = serde_json::to_string(t.as_ref()).expect("tools serialize");
                            let hash = evalgap_core::sha256_hex(json.as_bytes());
                            ins_tools.execute(params![hash, json]).map_err(err)?;
                            stored.push((t.clone(), hash.clone()));
                            Some(hash)
                        }
                    },
                };
                ins_body.execute(params![vseq, v.to_json_without_tools(), tools]).map_err(err)?;
            }
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO trials (seq, trial_id, case_id, variant_id, attempt, seed) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(err)?;
            for t in trials {
                ins.execute(params![t.seq, t.id.0, t.case_id, t.variant_id, t.attempt, t.seed as i64]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Completes the plan: marks the variants the rotation ledger found `reused` (its answer can
    /// come after they were written as `new`) and removes the incomplete mark. Returns the number
    /// of trials planned.
    pub fn finish_plan(&mut self, reused: &[String]) -> Result<u64> {
        let path = self.path.clone();
        let err = |source| StoreError::Sql { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut upd =
                tx.prepare_cached("UPDATE variants SET rotation = 'reused' WHERE variant_id = ?1").map_err(err)?;
            for id in reused {
                upd.execute([id]).map_err(err)?;
            }
            tx.execute("DELETE FROM meta WHERE key = 'plan_incomplete'", []).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        self.count("SELECT COUNT(*) FROM trials")
    }

    fn count(&self, sql: &str) -> Result<u64> {
        self.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(|e| self.sql(e))
    }

    /// Up to `limit` pending trials with `seq > after`, in plan order: (seq, trial id). The run
    /// rebuilds each from its plan and checks the id against this one.
    pub fn pending(&self, after: i64, limit: usize) -> Result<Vec<(i64, TrialId)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT t.seq, t.trial_id FROM trials t
                 WHERE t.seq > ?1 AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.seq = t.seq)
                 ORDER BY t.seq LIMIT ?2",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| Ok((r.get::<_, i64>(0)?, TrialId(r.get(1)?))))
            .map_err(|e| self.sql(e))?;
        rows.collect::<std::result::Result<_, _>>().map_err(|e| self.sql(e))
    }

    /// Writes a batch of outcomes and their verdicts in one transaction. A trial that already has
    /// a response keeps it (the first answer recorded is the answer), so a batch replayed after a
    /// crash never duplicates anything.
    pub fn record(&mut self, batch: &[Record]) -> Result<()> {
        let serialized: Vec<SerializedRecord> = batch.iter().map(Record::serialize).collect();
        self.record_serialized(&serialized)
    }

    /// [`Store::record`] of records already serialized (by the run's workers).
    pub fn record_serialized(&mut self, batch: &[SerializedRecord]) -> Result<()> {
        let tx = self.conn.transaction().map_err(|e| StoreError::Sql { path: self.path.clone(), source: e })?;
        insert_records(&tx, batch).map_err(|e| StoreError::Sql { path: self.path.clone(), source: e })?;
        tx.commit().map_err(|e| self.sql(e))
    }

    /// Adds (or replaces) verdicts for trials that already have a response, with judge faults
    /// for those a judge could not read and new cache entries.
    pub fn record_verdicts(
        &mut self,
        verdicts: &[(i64, Verdict)],
        faults: &[(i64, String, String)],
        cache: &[CacheEntry],
    ) -> Result<()> {
        let path = self.path.clone();
        let err = |source| StoreError::Sql { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut ins_v = tx.prepare_cached(VERDICT_INSERT).map_err(err)?;
            let mut del_f = tx.prepare_cached("DELETE FROM judge_faults WHERE seq = ?1 AND judge = ?2").map_err(err)?;
            for (seq, v) in verdicts {
                insert_verdict(&mut ins_v, *seq, &SerializedVerdict::of(v)).map_err(err)?;
                del_f.execute(params![seq, v.judge]).map_err(err)?;
            }
            let mut ins_f = tx
                .prepare_cached("INSERT OR REPLACE INTO judge_faults (seq, judge, detail) VALUES (?1, ?2, ?3)")
                .map_err(err)?;
            for (seq, judge, detail) in faults {
                ins_f.execute(params![seq, judge, detail]).map_err(err)?;
            }
            let mut ins_c = tx.prepare_cached(CACHE_INSERT).map_err(err)?;
            for c in cache {
                insert_cache(&mut ins_c, c).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// A cached translation of `source` into `lang` by `translator`.
    pub fn translation(&self, translator: &str, lang: &str, source: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT text FROM translations WHERE translator = ?1 AND lang = ?2 AND source_hash = ?3",
                params![translator, lang, evalgap_core::sha256_hex(source.as_bytes())],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    pub fn save_translation(&self, translator: &str, lang: &str, source: &str, text: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO translations (translator, lang, source_hash, text) VALUES (?1, ?2, ?3, ?4)",
                params![translator, lang, evalgap_core::sha256_hex(source.as_bytes()), text],
            )
            .map(|_| ())
            .map_err(|e| self.sql(e))
    }

    /// The remembered verdicts of one judge version, by input hash.
    pub fn cached_verdicts(&self, judge_version: &str) -> Result<std::collections::HashMap<String, Verdict>> {
        let mut stmt = self
            .conn
            .prepare("SELECT input_hash, body FROM verdict_cache WHERE judge_version = ?1")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([judge_version], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.sql(e))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let (h, body) = row.map_err(|e| self.sql(e))?;
            out.insert(h.clone(), serde_json::from_str(&body).map_err(|e| self.corrupt("verdict_cache", &h, e))?);
        }
        Ok(out)
    }

    /// Ok responses with no verdict from `judge` at `version` (a new judge, or one whose version changed).
    /// Pages by `seq > after`, so a judge that keeps failing on a response cannot loop forever.
    pub fn unjudged(&self, judge: &str, version: &str, after: i64, limit: usize) -> Result<Vec<Unjudged>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT t.seq, t.trial_id, c.body, b.body, r.body, tl.body FROM trials t
                 JOIN responses r ON r.seq = t.seq AND +r.status = 'ok'
                 JOIN cases c ON c.case_id = t.case_id JOIN variants v ON v.variant_id = t.variant_id
                 JOIN variant_bodies b ON b.vseq = v.vseq LEFT JOIN tools tl ON tl.hash = b.tools
                 WHERE t.seq > ?3 AND NOT EXISTS
                   (SELECT 1 FROM verdicts d WHERE d.seq = t.seq AND d.judge = ?1 AND d.judge_version = ?2)
                 ORDER BY t.seq LIMIT ?4",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(params![judge, version, after, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, id, case, variant, resp, tools) = row.map_err(|e| self.sql(e))?;
            let case = serde_json::from_str(&case).map_err(|e| self.corrupt("cases", &id, e))?;
            let mut variant: Variant = serde_json::from_str(&variant).map_err(|e| self.corrupt("variants", &id, e))?;
            if let Some(tools) = tools {
                variant.tools = Some(serde_json::from_str(&tools).map_err(|e| self.corrupt("tools", &id, e))?);
            }
            let response = match serde_json::from_str(&resp).map_err(|e| self.corrupt("responses", &id, e))? {
                Outcome::Ok(r) => r,
                Outcome::Fault(_) => continue,
            };
            out.push(Unjudged { seq, trial_id: TrialId(id), case, variant, response });
        }
        Ok(out)
    }

    /// Each variant's turn format (`Variant::turn_format`, stored with the variant).
    pub fn variant_formats(&self) -> Result<HashMap<String, String>> {
        let mut stmt = self.conn.prepare("SELECT variant_id, format FROM variants").map_err(|e| self.sql(e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.sql(e))?;
        rows.collect::<std::result::Result<HashMap<_, _>, _>>().map_err(|e| self.sql(e))
    }

    /// Per (case, variant) counts under `judge`, in (case, variant) order. One pass over the trials
    /// in plan order, joined on integer keys, counted here; case and variant facts come from their
    /// own (small) tables. Reads no response body, and a verdict body only for the factual class.
    pub fn unit_counts(&self, judge: &str) -> Result<Vec<UnitCounts>> {
        // Cases: kind, category, and the group that pairs languages.
        let mut cases: HashMap<String, (CaseKind, String, String)> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT case_id, kind, category, COALESCE(json_extract(body, '$.meta.group'), case_id) FROM cases",
                )
                .map_err(|e| self.sql(e))?;
            let mut rows = stmt.query([]).map_err(|e| self.sql(e))?;
            while let Some(r) = rows.next().map_err(|e| self.sql(e))? {
                let get = |i: usize| r.get::<_, String>(i).map_err(|e| self.sql(e));
                let (case_id, kind) = (get(0)?, get(1)?);
                let kind =
                    CaseKind::parse(&kind).ok_or_else(|| self.corrupt("cases", &case_id, format!("kind `{kind}`")))?;
                cases.insert(case_id, (kind, get(2)?, get(3)?));
            }
        }
        // Variants: one unit each, counts zero until the trials are read.
        let mut units: Vec<UnitCounts> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT variant_id, case_id, language, chain, rotation, format FROM variants")
                .map_err(|e| self.sql(e))?;
            let mut rows = stmt.query([]).map_err(|e| self.sql(e))?;
            while let Some(r) = rows.next().map_err(|e| self.sql(e))? {
                let get = |i: usize| r.get::<_, String>(i).map_err(|e| self.sql(e));
                let (variant_id, case_id) = (get(0)?, get(1)?);
                let (kind, category, group) = cases
                    .get(&case_id)
                    .cloned()
                    .ok_or_else(|| self.corrupt("variants", &variant_id, format!("no case `{case_id}`")))?;
                index.insert(variant_id.clone(), units.len());
                units.push(UnitCounts {
                    case_id,
                    group,
                    variant_id,
                    kind,
                    category,
                    language: get(2)?,
                    chain: get(3)?,
                    rotation: get(4)?,
                    format: get(5)?,
                    tally: UnitTally::default(),
                });
            }
        }
        // Faults, from the status index (a fault is never judged, so it has no verdict below).
        {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT t.variant_id FROM responses r INDEXED BY responses_by_status
                     JOIN trials t ON t.seq = r.seq WHERE r.status != 'ok'",
                )
                .map_err(|e| self.sql(e))?;
            let mut rows = stmt.query([]).map_err(|e| self.sql(e))?;
            while let Some(r) = rows.next().map_err(|e| self.sql(e))? {
                let variant_id = r.get_ref(0).and_then(|v| v.as_str().map_err(Into::into)).map_err(|e| self.sql(e))?;
                let &i = index.get(variant_id).ok_or_else(|| self.corrupt("trials", variant_id, "no such variant"))?;
                units[i].tally.faults += 1;
            }
        }
        // Verdicts exist only for ok responses, so the wide response rows are not read. `class` and `confidence` exist only in the factual
        // judge's parts, read only when the run has factual cases.
        let factual = units.iter().any(|u| u.kind == CaseKind::Factual);
        let class_cols = if factual {
            "CASE WHEN instr(d.body, '\"class\":') THEN json_extract(d.body, '$.parts.class') END,
             CASE WHEN instr(d.body, '\"confidence\":') THEN json_extract(d.body, '$.parts.confidence') END"
        } else {
            "NULL, NULL"
        };
        // Trials and this judge's verdicts, both in plan order, merged: two sequential scans
        // instead of a lookup per trial, in constant memory. Consecutive trials mostly share a
        // variant, so the last one's unit is remembered rather than looked up again.
        let mut verdict_stmt = self
            .conn
            .prepare(&format!(
                "SELECT d.seq, d.harmful, d.refusal_assessed, d.refused, {class_cols}
                 FROM verdicts d WHERE d.judge = ?1 ORDER BY d.seq"
            ))
            .map_err(|e| self.sql(e))?;
        let mut verdicts = verdict_stmt.query([judge]).map_err(|e| self.sql(e))?;
        let mut verdict = verdicts.next().map_err(|e| self.sql(e))?;
        let mut trial_stmt =
            self.conn.prepare("SELECT seq, variant_id FROM trials ORDER BY seq").map_err(|e| self.sql(e))?;
        let mut trials = trial_stmt.query([]).map_err(|e| self.sql(e))?;
        let mut last: Option<(String, usize)> = None;
        while let Some(t) = trials.next().map_err(|e| self.sql(e))? {
            let sql = |e| self.sql(e);
            let seq: i64 = t.get(0).map_err(sql)?;
            let variant_id = t.get_ref(1).and_then(|v| v.as_str().map_err(Into::into)).map_err(sql)?;
            let i = match &last {
                Some((id, i)) if id == variant_id => *i,
                _ => {
                    let &i =
                        index.get(variant_id).ok_or_else(|| self.corrupt("trials", variant_id, "no such variant"))?;
                    last = Some((variant_id.to_string(), i));
                    i
                }
            };
            let u = &mut units[i];
            u.tally.trials += 1;
            // Verdicts before this trial have no trial: the foreign key rules them out.
            while let Some(d) = verdict {
                let dseq: i64 = d.get(0).map_err(sql)?;
                if dseq > seq {
                    break;
                }
                if dseq == seq {
                    let flag = |i: usize| d.get::<_, Option<bool>>(i).map(|v| v.unwrap_or(false)).map_err(sql);
                    let text = |i: usize| d.get_ref(i).map(|v| v.as_str_or_null().ok().flatten()).map_err(sql);
                    u.tally.count(
                        u.kind,
                        &VerdictFacts {
                            harmful: flag(1)?,
                            assessed: flag(2)?,
                            refused: flag(3)?,
                            class: FactualClass::of(text(4)?, text(5)?),
                        },
                    );
                }
                verdict = verdicts.next().map_err(sql)?;
            }
        }
        units.retain(|u| u.tally.trials > 0);
        UnitCounts::sort(&mut units);
        Ok(units)
    }

    /// Per chain ending in an adaptive step (`chains`), over its ok responses: (chain, strategy,
    /// responses, stopped on success, mean queries, largest budget, attacker requests). Reads only
    /// the named chains' responses.
    pub fn attack_summary(&self, chains: &[String]) -> Result<Vec<AttackSummaryRow>> {
        if chains.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; chains.len()].join(",");
        let sql = format!(
            "SELECT v.chain, json_extract(r.body, '$.attack.strategy') AS s, count(*),
                    sum(json_extract(r.body, '$.attack.success_at') IS NOT NULL),
                    avg(json_extract(r.body, '$.attack.queries')),
                    max(json_extract(r.body, '$.attack.budget')),
                    sum(json_extract(r.body, '$.attack.attacker_requests'))
             FROM responses r JOIN trials t ON t.seq = r.seq JOIN variants v ON v.variant_id = t.variant_id
             WHERE r.status = 'ok' AND v.chain IN ({marks}) AND instr(r.body, '\"attack\":') AND s IS NOT NULL
             GROUP BY v.chain, s ORDER BY v.chain"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(chains.iter()), |r| {
                Ok(AttackSummaryRow {
                    chain: r.get(0)?,
                    strategy: r.get(1)?,
                    responses: r.get::<_, i64>(2)? as u64,
                    succeeded: r.get::<_, i64>(3)? as u64,
                    mean_queries: r.get(4)?,
                    budget: r.get::<_, i64>(5)? as u64,
                    attacker_requests: r.get::<_, Option<i64>>(6)?.unwrap_or(0) as u64,
                })
            })
            .map_err(|e| self.sql(e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| self.sql(e))
    }

    /// Up to `limit` ok responses of `kind` cases whose verdict from `judge` has `field`
    /// (`harmful` or `refused`) true, in plan order: (trial id, case id, chain, response, verdict).
    pub fn samples(&self, judge: &str, kind: CaseKind, field: SampleField, limit: usize) -> Result<Vec<SampleRow>> {
        let column = match field {
            SampleField::Harmful => "d.harmful",
            SampleField::Refused => "d.refused",
        };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT t.trial_id, t.case_id, v.chain, r.body, d.body FROM verdicts d
                 JOIN trials t ON t.seq = d.seq JOIN cases c ON c.case_id = t.case_id
                 JOIN variants v ON v.variant_id = t.variant_id JOIN responses r ON r.seq = d.seq
                 WHERE d.judge = ?1 AND c.kind = ?2 AND {column} = 1 AND +r.status = 'ok' ORDER BY d.seq LIMIT ?3"
            ))
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(params![judge, kind.as_str(), limit as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, case_id, chain, resp, verdict) = row.map_err(|e| self.sql(e))?;
            let Outcome::Ok(resp) = serde_json::from_str(&resp).map_err(|e| self.corrupt("responses", &id, e))? else {
                continue;
            };
            let verdict = serde_json::from_str(&verdict).map_err(|e| self.corrupt("verdicts", &id, e))?;
            out.push((TrialId(id), case_id, chain, resp, verdict));
        }
        Ok(out)
    }

    pub fn counts(&self) -> Result<Counts> {
        let trials = self.count("SELECT COUNT(*) FROM trials")?;
        let mut stmt = self
            .conn
            .prepare("SELECT status, COUNT(*) FROM responses INDEXED BY responses_by_status GROUP BY status")
            .map_err(|e| self.sql(e))?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).map_err(|e| self.sql(e))?;
        let mut c = Counts { trials, ..Default::default() };
        let mut answered = 0;
        for row in rows {
            let (status, n) = row.map_err(|e| self.sql(e))?;
            answered += n as u64;
            if status == "ok" {
                c.responses = n as u64;
            } else {
                c.faults.insert(status, n as u64);
            }
        }
        c.pending = trials.saturating_sub(answered);
        Ok(c)
    }

    /// Judge faults by judge.
    pub fn judge_fault_counts(&self) -> Result<BTreeMap<String, u64>> {
        let mut stmt =
            self.conn.prepare("SELECT judge, COUNT(*) FROM judge_faults GROUP BY judge").map_err(|e| self.sql(e))?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).map_err(|e| self.sql(e))?;
        rows.map(|r| r.map(|(j, n)| (j, n as u64)).map_err(|e| self.sql(e))).collect()
    }

    /// Calls `f` for every trial in plan order, with its outcome and verdicts. Streams: memory does
    /// not grow with the number of trials.
    pub fn for_each_trial(&self, mut f: impl FnMut(TrialRow)) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT t.seq, t.trial_id, t.case_id, c.kind, c.category, v.language, t.variant_id, v.chain, t.attempt, t.seed, r.body,
                        (SELECT json_group_array(json(d.body)) FROM verdicts d WHERE d.seq = t.seq)
                 FROM trials t JOIN cases c ON c.case_id = t.case_id JOIN variants v ON v.variant_id = t.variant_id
                 LEFT JOIN responses r ON r.seq = t.seq ORDER BY t.seq",
            )
            .map_err(|e| self.sql(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.sql(e))?;
        while let Some(r) = rows.next().map_err(|e| self.sql(e))? {
            let get = |i: usize| -> Result<String> { r.get::<_, String>(i).map_err(|e| self.sql(e)) };
            let trial_id = get(1)?;
            let kind_s = get(3)?;
            let kind =
                CaseKind::parse(&kind_s).ok_or_else(|| self.corrupt("cases", &trial_id, format!("kind `{kind_s}`")))?;
            let outcome = match r.get::<_, Option<String>>(10).map_err(|e| self.sql(e))? {
                Some(b) => Some(serde_json::from_str(&b).map_err(|e| self.corrupt("responses", &trial_id, e))?),
                None => None,
            };
            let verdicts: Vec<Verdict> = match r.get::<_, Option<String>>(11).map_err(|e| self.sql(e))? {
                Some(b) => serde_json::from_str(&b).map_err(|e| self.corrupt("verdicts", &trial_id, e))?,
                None => Vec::new(),
            };
            f(TrialRow {
                seq: r.get(0).map_err(|e| self.sql(e))?,
                case_id: get(2)?,
                kind,
                category: get(4)?,
                language: get(5)?,
                variant_id: get(6)?,
                chain: get(7)?,
                attempt: r.get(8).map_err(|e| self.sql(e))?,
                seed: r.get::<_, i64>(9).map_err(|e| self.sql(e))? as u64,
                trial_id: TrialId(trial_id),
                outcome,
                verdicts,
            });
        }
        Ok(())
    }

    /// The judges that have verdicts in this run, with their versions.
    pub fn judges(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT judge, judge_version FROM verdicts ORDER BY judge")
            .map_err(|e| self.sql(e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.sql(e))?;
        rows.map(|r| r.map_err(|e| self.sql(e))).collect()
    }
}

/// Inserts a batch of records on `conn`, inside the caller's transaction. A trial that already
/// has a response keeps it, and its verdicts too.
fn insert_records(conn: &Connection, batch: &[SerializedRecord]) -> rusqlite::Result<()> {
    let now = now_rfc3339();
    let mut ins =
        conn.prepare_cached("INSERT OR IGNORE INTO responses (seq, status, body, recorded) VALUES (?1, ?2, ?3, ?4)")?;
    let mut ins_v = conn.prepare_cached(VERDICT_INSERT)?;
    let mut ins_f =
        conn.prepare_cached("INSERT OR REPLACE INTO judge_faults (seq, judge, detail) VALUES (?1, ?2, ?3)")?;
    let mut ins_c = conn.prepare_cached(CACHE_INSERT)?;
    for rec in batch {
        if ins.execute(params![rec.seq, rec.status, rec.body, now])? == 0 {
            continue;
        }
        for v in &rec.verdicts {
            insert_verdict(&mut ins_v, rec.seq, v)?;
        }
        for (judge, detail) in &rec.judge_faults {
            ins_f.execute(params![rec.seq, judge, detail])?;
        }
        for (version, hash, body) in &rec.cache {
            ins_c.execute(params![version, hash, body])?;
        }
    }
    Ok(())
}

const VERDICT_INSERT: &str = "INSERT OR REPLACE INTO verdicts (seq, judge, judge_version, refused, harmful, refusal_assessed, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const CACHE_INSERT: &str = "INSERT OR IGNORE INTO verdict_cache (judge_version, input_hash, body) VALUES (?1, ?2, ?3)";

fn insert_verdict(
    stmt: &mut rusqlite::CachedStatement<'_>,
    seq: i64,
    v: &SerializedVerdict,
) -> rusqlite::Result<usize> {
    let f = &v.facts;
    stmt.execute(params![seq, v.judge, v.version, f.refused, f.harmful, f.assessed, v.body])
}

fn insert_cache(stmt: &mut rusqlite::CachedStatement<'_>, c: &CacheEntry) -> rusqlite::Result<usize> {
    let body = serde_json::to_string(&c.verdict).expect("verdict serializes");
    stmt.execute(params![c.judge_version, c.input_hash, body])
}

/// One sample: (trial id, case id, chain, response, verdict).
pub type SampleRow = (TrialId, String, String, Response, Verdict);

/// Which verdict field [`Store::samples`] selects on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleField {
    Harmful,
    Refused,
}

/// The current time as RFC 3339 (UTC).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".into())
}

/// A fault outcome of a kind, for tests and callers that need one.
pub fn fault(kind: FaultKind, detail: &str) -> Outcome {
    Outcome::Fault(Fault { kind, detail: detail.into(), requests: 1 })
}

#[cfg(test)]
mod tests;
