//! The orchestrator: suite cases -> variants -> trials -> target -> judges -> store -> reports.
//!
//! The flow of one `evalgap run`:
//! 1. **plan**: the protocol card, then the cases under every transform chain: the variants, built
//!    in memory on every core ([`Plan`], [`TrialSource`]). A store with no plan gets it from the
//!    writer thread in steps ([`PlanWriter`]), each committed before the records that need it and
//!    the whole marked incomplete until the last; a store left with part of a plan (a run stopped
//!    while writing it) gets the rest before anything is sent; on resume every pending trial is
//!    rebuilt from the plan and its id checked against the store's;
//! 2. **catch up**: ok responses that a judge of this run has not read yet are judged;
//! 3. **execute**: `concurrency` workers take trials from the plan (in plan order on a fresh run;
//!    on resume, the pending ones the store lists), call the target and the judges, and hand
//!    serialized records to one writer thread that commits batches. A trial counts as done only
//!    after its batch is committed;
//! 4. **report**: `report.json` and `report.md` are written from the store; a fresh run's writer
//!    also counts each unit's verdicts, the judges and the attack summaries as it commits records
//!    (`tally.rs`), so the closing report does not read every trial back. The plan is handed back
//!    in the summary ([`RunSummary::plan`]): a caller about to exit need not free it.
//!
//! Memory grows with the variants, not the trials: a trial is built from its variant when it is
//! sent, and records stream through a bounded queue into the store.

mod execute;
mod judging;
mod plan;
mod tally;
mod translate;

pub use execute::{judge_backlog, Progress, RunSummary};
pub use judging::{Judged, Judges};
pub use plan::{PendingTrial, Plan, PlanWriter, TrialSource};

use evalgap_core::{Case, ProtocolCard, Sampling};
use evalgap_judge::Judge;
use evalgap_store::{PlanState, Store, StoreError};
use evalgap_target::Target;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything a run needs.
pub struct RunOptions {
    pub out: PathBuf,
    /// Suite name as the user gave it (`builtin:core`, a path).
    pub suite_name: String,
    pub suite_version: String,
    /// The selected cases, in order.
    pub cases: Vec<Case>,
    /// How they were selected (`all`, `first 20`, `sample 20 seed 7`).
    pub selection: String,
    pub target: Arc<dyn Target>,
    /// Model file hash, for local targets.
    pub model_sha256: Option<String>,
    /// Transform chains; every case is also sent plain.
    pub transforms: Vec<evalgap_transform::Chain>,
    /// Rotation cycle: which share of each template pool the transforms draw from.
    pub cycle: u32,
    /// Language gaps beyond this share are flagged (0.10 = 10 points).
    pub gap_threshold: f64,
    /// The rotation ledger shared by runs (see `evalgap_store::Ledger`); None: no rotation marks.
    pub ledger: Option<PathBuf>,
    /// Target that translates `translate:LANG` variants (required when a chain has one).
    pub translator: Option<Arc<dyn Target>>,
    /// Attacker model of the adaptive attacks `pair` and `crescendo` (required when a chain has one).
    pub attacker: Option<Arc<dyn Target>>,
    pub attempts: u32,
    pub sampling: Sampling,
    pub seed: u64,
    pub concurrency: usize,
    pub judges: Vec<Arc<dyn Judge>>,
    pub threat_model: String,
    pub request_policy: serde_json::Value,
    pub progress: Progress,
    /// Sync every commit to disk (survives power loss; slower). A crash of the process is safe
    /// either way.
    pub durable: bool,
    /// Called once every trial is recorded, before the closing report is built: the binary's
    /// allocator hands back the memory the run freed here (see `evalgap`'s `main.rs`).
    pub after_sending: Option<fn()>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Report(#[from] evalgap_report::ReportError),
    #[error("{dir} holds a run with a different protocol ({fields}); resume it with the same flags, or pass a new --out folder")]
    ProtocolMismatch { dir: PathBuf, fields: String },
    #[error("nothing to run: the suite selection has no cases")]
    NoCases,
    #[error("--attempts must be at least 1 (ASR@k needs attempts; the default is 5)")]
    NoAttempts,
    #[error(transparent)]
    Transform(#[from] evalgap_transform::TransformError),
    #[error("translation: {0}")]
    Translation(String),
    #[error("a `translate:LANG` transform needs a translator: pass --translator TARGET (any target spec, e.g. local:qwen2.5-0.5b)")]
    NoTranslator,
    #[error("`pair` and `crescendo` need an attacker model: pass --attacker TARGET (any target spec, e.g. local:qwen2.5-0.5b or openai:MODEL@URL)")]
    NoAttacker,
    #[error(
        "the store's trial {seq} is not the one this protocol plans (was the store edited?); pass a new --out folder"
    )]
    PlanMismatch { seq: i64 },
    #[error("the store writer stopped: {0}")]
    Writer(String),
}

/// Runs (or resumes) the audit described by `opts`.
pub async fn run(opts: RunOptions) -> Result<RunSummary, RunError> {
    if opts.cases.is_empty() {
        return Err(RunError::NoCases);
    }
    if opts.attempts == 0 {
        return Err(RunError::NoAttempts);
    }
    if evalgap_transform::needs_attacker(&opts.transforms) && opts.attacker.is_none() {
        return Err(RunError::NoAttacker);
    }
    let phases = Phases::new();
    // The plan is built while the store is opened (mostly waiting on the disk).
    let target = opts.target.id();
    let (opened, plan) = std::thread::scope(|s| {
        let planning = s.spawn(|| {
            Plan::new(&opts.cases, &opts.transforms, opts.cycle, opts.attempts, &target, &opts.sampling, opts.seed)
        });
        let opened = open_store(&opts);
        (opened, planning.join().expect("planning thread panicked"))
    });
    let (mut store, card, resumed) = opened?;
    let mut plan = plan?;
    if plan.variants.iter().any(|v| translate::pending_language(v).is_some()) {
        let translator = opts.translator.as_ref().ok_or(RunError::NoTranslator)?;
        translate::translate_variants(&mut plan.variants, translator, &store).await?;
    }
    phases.mark("plan variants");
    // A store with no plan yet gets it from the writer thread while the first trials are already
    // being sent; one left with part of its plan (a run stopped while writing it) gets the rest
    // before anything is sent.
    let state = store.plan_state()?;
    let setup = (!matches!(state, PlanState::Complete { .. })).then(|| {
        let rotating = opts.ledger.as_ref().map(|path| {
            // Only transformed variants rotate; the plain baseline is the same every cycle.
            let variants: Vec<(String, String)> =
                plan.variants.iter().filter(|v| !v.chain.is_empty()).map(|v| (v.id.clone(), v.chain_name())).collect();
            let run = std::fs::canonicalize(&opts.out).unwrap_or_else(|_| opts.out.clone()).display().to_string();
            execute::Rotation { ledger: path.clone(), run, cycle: opts.cycle, variants }
        });
        execute::Setup { rotating, headline_judge: card.headline_judge().to_string() }
    });
    let source = Arc::new(plan.into_source());
    let setup = match (state, setup) {
        (PlanState::Incomplete { trials }, Some(setup)) => {
            PlanWriter::resume(&source, setup.rotation()?, trials).finish(&mut store)?;
            None
        }
        (_, setup) => setup,
    };
    let fresh = state == PlanState::None;
    let judges = Arc::new(Judges::new(&opts.judges, &store)?);
    if !fresh {
        execute::judge_backlog(&mut store, &judges, opts.concurrency).await?;
        phases.mark("judge backlog");
    }
    let unnamed = card.target_model.is_none().then(|| card.clone());
    let (mut summary, counted) = execute::execute(store, &opts, judges, source.clone(), setup, unnamed).await?;
    phases.mark("send and judge");
    if let Some(hook) = opts.after_sending {
        hook();
    }
    summary.resumed = resumed;
    let store = Store::open_existing(&opts.out)?;
    let report = evalgap_report::build_with(&store, None, counted)?;
    phases.mark("analysis");
    summary.reports = evalgap_report::write(&opts.out, &report)?;
    phases.mark("write reports");
    summary.plan = Some(source);
    summary.counts = report.counts.clone();
    Ok(summary)
}

/// Opens (or creates) the run's store and saves the protocol card; returns the store, the card, and
/// whether the store already held this protocol (a resume).
fn open_store(opts: &RunOptions) -> Result<(Store, ProtocolCard, bool), RunError> {
    let store = Store::open_or_create(&opts.out)?;
    // This connection writes everything the run records (its writer thread takes it over).
    store.set_durable(opts.durable)?;
    let card = protocol_card(opts, store.protocol()?);
    let resumed = check_resume(&store, &card, &opts.out)?;
    store.save_protocol(&card)?;
    Ok((store, card, resumed))
}

/// With `EVALGAP_PHASES=1` in the environment, how long each phase of a run took, on stderr (for
/// finding where the time goes; off by default).
struct Phases(Option<std::sync::Mutex<std::time::Instant>>);

impl Phases {
    fn new() -> Self {
        Phases(std::env::var_os("EVALGAP_PHASES").map(|_| std::sync::Mutex::new(std::time::Instant::now())))
    }

    fn mark(&self, phase: &str) {
        if let Some(t) = &self.0 {
            let mut t = t.lock().expect("phase clock");
            eprintln!("evalgap: phase {phase}: {:.3} s", t.elapsed().as_secs_f64());
            *t = std::time::Instant::now();
        }
    }
}

fn protocol_card(opts: &RunOptions, existing: Option<ProtocolCard>) -> ProtocolCard {
    ProtocolCard {
        tool: "evalgap".into(),
        tool_version: evalgap_core::TOOL_VERSION.into(),
        target: opts.target.id(),
        target_model: existing.as_ref().and_then(|c| c.target_model.clone()),
        model_sha256: opts.model_sha256.clone(),
        suite: opts.suite_name.clone(),
        suite_version: opts.suite_version.clone(),
        cases: opts.cases.len() as u64,
        selection: opts.selection.clone(),
        transforms: opts.transforms.iter().map(|c| c.to_string()).collect(),
        cycle: opts.cycle,
        translator: opts.translator.as_ref().map(|t| t.id()),
        attacker: opts.attacker.as_ref().map(|t| t.id()),
        gap_threshold: opts.gap_threshold,
        attempts: opts.attempts,
        sampling: opts.sampling.clone(),
        seed: opts.seed,
        judges: opts.judges.iter().map(|j| j.name().to_string()).collect(),
        threat_model: opts.threat_model.clone(),
        request_policy: opts.request_policy.clone(),
        // A resumed run keeps the date it was first started.
        started: existing.map(|c| c.started).unwrap_or_else(evalgap_store::now_rfc3339),
    }
}

/// True when the store already holds this protocol; an error when it holds another.
fn check_resume(store: &Store, card: &ProtocolCard, dir: &std::path::Path) -> Result<bool, RunError> {
    let Some(old) = store.protocol()? else { return Ok(false) };
    let (a, b) = (old.identity(), card.identity());
    if a == b {
        return Ok(true);
    }
    let fields: Vec<String> = match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            a.iter().filter(|(k, v)| b.get(*k) != Some(v)).map(|(k, v)| format!("{k}: was {v}, now {}", b[k])).collect()
        }
        _ => vec!["unknown".into()],
    };
    Err(RunError::ProtocolMismatch { dir: dir.to_path_buf(), fields: fields.join("; ") })
}
