//! Execution: pending trials -> workers (target + judges) -> writer thread -> store (the writer
//! also writes a fresh run's plan, a step ahead of the records).

use crate::judging::Judges;
use crate::plan::{PendingTrial, PlanWriter, RotationMarks, TrialSource};
use crate::tally::Tally;
use crate::{RunError, RunOptions};
use evalgap_core::{Outcome, ProtocolCard};
use evalgap_report::Counted;
use evalgap_store::{Counts, Record, SerializedRecord, Store};
use evalgap_target::ChatRequest;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// Trials read from the store per page.
const PAGE: usize = 1024;
/// Records committed per transaction at most; batches form by themselves under load.
const MAX_BATCH: usize = 512;
/// Serialized records waiting for the writer at most: enough to keep sending while the writer
/// commits a batch or a step of a new run's plan, few enough (about 1 KB each) that memory stays flat.
const QUEUE: usize = 2048;

/// Whether to draw a progress bar (on stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Bar,
    Hidden,
}

#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub out: PathBuf,
    /// Trials sent by this invocation (the rest were already recorded).
    pub sent: u64,
    /// Of those, faults.
    pub faults: u64,
    pub resumed: bool,
    /// True when stopped by Ctrl-C before the end.
    pub interrupted: bool,
    pub counts: Counts,
    pub reports: Vec<PathBuf>,
    pub target_model: Option<String>,
    /// The run's plan, still in memory. Freeing it takes milliseconds of CPU for a large plan
    /// (about 10 for 10,000 variants, block by block); a caller about to exit can leave that to the
    /// operating system, which takes the memory back whole (`std::mem::forget`).
    pub plan: Option<Arc<TrialSource>>,
}

/// Judges every ok response that a judge of `judges` has not read at its current version (a judge
/// added to a finished run, or upgraded), `concurrency` at a time. Sends no trial. Returns the
/// number of verdicts written.
pub async fn judge_backlog(store: &mut Store, judges: &Arc<Judges>, concurrency: usize) -> Result<u64, RunError> {
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut written = 0;
    let slots: Vec<(String, String)> = judges.names_versions().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    for (name, version) in slots {
        let mut after = 0;
        loop {
            let page = store.unjudged(&name, &version, after, PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let mut tasks = tokio::task::JoinSet::new();
            for u in page {
                let (sem, judges, name) = (sem.clone(), judges.clone(), name.clone());
                tasks.spawn(async move {
                    let _permit = sem.acquire().await.expect("semaphore open");
                    (u.seq, judges.judge_response(&u.case, &u.variant, &u.response, Some(&name)).await)
                });
            }
            let (mut verdicts, mut faults, mut cache) = (Vec::new(), Vec::new(), Vec::new());
            while let Some(res) = tasks.join_next().await {
                let (seq, j) = res.map_err(|e| RunError::Writer(format!("a judge task failed: {e}")))?;
                verdicts.extend(j.verdicts.into_iter().map(|v| (seq, v)));
                faults.extend(j.faults.into_iter().map(|(judge, d)| (seq, judge, d)));
                cache.extend(j.cache);
            }
            written += verdicts.len() as u64;
            store.record_verdicts(&verdicts, &faults, &cache)?;
        }
    }
    Ok(written)
}

/// Sends the pending trials. On a fresh run (`setup`: the store has no plan yet) also returns what
/// the closing report would otherwise read back (the run's first judge's unit counts, the judges, the
/// attack summaries), kept as the records were committed. `card`: a protocol
/// card with no target model yet, saved at the end with the model id the endpoint reported.
pub(crate) async fn execute(
    store: Store,
    opts: &RunOptions,
    judges: Arc<Judges>,
    source: Arc<TrialSource>,
    setup: Option<Setup>,
    card: Option<ProtocolCard>,
) -> Result<(RunSummary, Option<Counted>), RunError> {
    let counts = store.counts()?;
    let total = source.len();
    let bar = progress_bar(opts.progress, total, total - counts.pending.min(total));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(Stats::default());

    // Ctrl-C: stop feeding, let in-flight trials finish and be written, then report.
    let stop_on_signal = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
            }
        })
    };

    // Trials come from the plan in memory. With nothing recorded yet every trial is pending, in
    // plan order; otherwise the store says which are (seq and id, paged on its own read
    // connection, by a producer thread) and each id is checked against the plan's.
    let (feed, producer) = if setup.is_some() {
        (Feed::Plan { source: source.clone(), next: AtomicI64::new(1) }, None)
    } else {
        let (trial_tx, trial_rx) = async_channel::bounded::<PendingTrial>(opts.concurrency * 2 + PAGE);
        let reader = Store::open_existing(&opts.out)?;
        let stop = stop.clone();
        let source = source.clone();
        let producer = tokio::task::spawn_blocking(move || -> Result<(), RunError> {
            let mut after = 0;
            loop {
                let page = reader.pending(after, PAGE)?;
                let Some(&(last, _)) = page.last() else { return Ok(()) };
                after = last;
                for (seq, id) in page {
                    let planned = source.trial_id(seq).is_some_and(|planned| planned == id);
                    let p = source.at(seq).filter(|_| planned).ok_or(RunError::PlanMismatch { seq })?;
                    if stop.load(Ordering::SeqCst) || trial_tx.send_blocking(p).is_err() {
                        return Ok(());
                    }
                }
            }
        });
        (Feed::Pending(trial_rx), Some(producer))
    };
    let feed = Arc::new(feed);

    // Writer: one thread owns the store's write connection and commits batches. The channel is
    // bounded, so a slow disk slows the workers instead of piling records up in memory.
    let (rec_tx, rec_rx) = mpsc::channel::<SerializedRecord>(QUEUE);
    let writer = {
        let mut store = store;
        let source = source.clone();
        let bar = bar.clone();
        let done = done.clone();
        std::thread::Builder::new()
            .name("evalgap-writer".into())
            .spawn(move || {
                // With EVALGAP_PHASES, when the plan was begun and finished, and when the last record was.
                let timed = std::env::var_os("EVALGAP_PHASES").is_some().then(std::time::Instant::now);
                let counting = setup.as_ref().map(|s| s.headline_judge.clone());
                let plan = setup.map(|s| s.begin(&mut store, &source)).transpose()?;
                // A fresh run counts its units as it goes; a resumed one has records from before.
                let tally = counting.map(|judge| Tally::new(judge, &source));
                if plan.is_some() {
                    phase(timed, "plan begun");
                }
                let counted = write_loop(&mut store, rec_rx, plan, tally, &source, bar, &done, timed)?;
                // On this connection: a write on a new one after this one closes would start a new WAL.
                if let (Some(card), Some(model)) = (card, done.model.get()) {
                    // The model id the endpoint reports, which can differ from the one requested (aliases).
                    store.save_protocol(&ProtocolCard { target_model: Some(model.clone()), ..card })?;
                }
                Ok::<_, RunError>(counted)
            })
            .map_err(|e| RunError::Writer(e.to_string()))?
    };

    // Workers.
    let mut workers = Vec::with_capacity(opts.concurrency);
    for _ in 0..opts.concurrency.max(1) {
        let feed = feed.clone();
        let tx = rec_tx.clone();
        let target = opts.target.clone();
        let attacker = opts.attacker.clone();
        let judges = judges.clone();
        let sampling = opts.sampling.clone();
        let stop = stop.clone();
        let done = done.clone();
        workers.push(tokio::spawn(async move {
            while let Some(p) = feed.next(&stop).await {
                let outcome = match evalgap_transform::strategy(&p.variant) {
                    Some(strategy) => {
                        let scorer = StopJudge { judges: &judges, case: &p.case, variant: &p.variant };
                        let cx = evalgap_attack::Ctx {
                            target: target.as_ref(),
                            attacker: attacker.as_deref(),
                            scorer: &scorer,
                            case: &p.case,
                            variant: &p.variant,
                            sampling: &sampling,
                            seed: p.seed,
                        };
                        evalgap_attack::run(&strategy, &cx).await
                    }
                    None => {
                        let req = ChatRequest {
                            messages: p.variant.messages.clone(),
                            tools: p.variant.tools.clone(),
                            sampling: sampling.clone(),
                            seed: p.seed,
                            logprobs: None,
                        };
                        target.complete(&req).await
                    }
                };
                if let Outcome::Ok(r) = &outcome {
                    if let Some(m) = &r.model {
                        done.model.get_or_init(|| m.clone());
                    }
                }
                let j = judges.judge_outcome(&p.case, &p.variant, &outcome).await;
                let rec = Record { seq: p.seq, outcome, verdicts: j.verdicts, judge_faults: j.faults, cache: j.cache }
                    .serialize();
                if tx.send(rec).await.is_err() || stop.load(Ordering::SeqCst) {
                    break;
                }
            }
        }));
    }
    drop(rec_tx);

    let produced = match producer {
        Some(p) => p.await.map_err(|e| RunError::Writer(e.to_string())),
        None => Ok(Ok(())),
    };
    for w in workers {
        let _ = w.await;
    }
    let written = writer.join().map_err(|_| RunError::Writer("writer thread panicked".into()))?;
    stop_on_signal.abort();
    produced??;
    let counted = written?;
    bar.finish_and_clear();
    let summary = RunSummary {
        out: opts.out.clone(),
        sent: done.sent.load(Ordering::SeqCst),
        faults: done.faults.load(Ordering::SeqCst),
        interrupted: stop.load(Ordering::SeqCst),
        target_model: done.model.get().cloned(),
        ..Default::default()
    };
    Ok((summary, counted))
}

/// Where the workers take their next trial from.
enum Feed {
    /// A fresh run: every trial of the plan, in plan order, by a shared cursor.
    Plan { source: Arc<TrialSource>, next: AtomicI64 },
    /// A resumed run: the pending trials the store lists, checked against the plan.
    Pending(async_channel::Receiver<PendingTrial>),
}

impl Feed {
    /// The next trial to send; None when there is none left or the run is stopping.
    async fn next(&self, stop: &AtomicBool) -> Option<PendingTrial> {
        if stop.load(Ordering::SeqCst) {
            return None;
        }
        match self {
            Feed::Plan { source, next } => source.at(next.fetch_add(1, Ordering::Relaxed)),
            Feed::Pending(rx) => rx.recv().await.ok(),
        }
    }
}

/// What the writer thread does before the first record when the store has no plan yet.
pub(crate) struct Setup {
    /// The rotation marks to take from the shared ledger, when the run keeps one.
    pub rotating: Option<Rotation>,
    /// The judge whose verdicts the writer counts per unit for the closing report.
    pub headline_judge: String,
}

/// A fresh run's transformed variants, to mark in the rotation ledger.
pub(crate) struct Rotation {
    pub ledger: PathBuf,
    /// The run folder, canonical: the ledger tells this run's own marks from other runs'.
    pub run: String,
    pub cycle: u32,
    /// (variant id, chain name).
    pub variants: Vec<(String, String)>,
}

impl Setup {
    /// With a ledger, asks it on its own thread (while the plan is written) which transformed
    /// variants an earlier run sent. A resumed run keeps the marks it started with: this runs only
    /// while the plan is being written (the ledger ignores a run's own earlier marks, so a retry
    /// marks the same).
    pub(crate) fn rotation(self) -> Result<Option<RotationMarks>, RunError> {
        let Some(r) = self.rotating else { return Ok(None) };
        let marks = std::thread::Builder::new()
            .name("evalgap-ledger".into())
            .spawn(move || {
                let reused = evalgap_store::Ledger::open(&r.ledger)?.mark(&r.run, r.cycle, &r.variants)?;
                Ok(r.variants.into_iter().zip(reused).filter(|(_, u)| *u).map(|((id, _), _)| id).collect())
            })
            .map_err(|e| RunError::Writer(e.to_string()))?;
        Ok(Some(marks))
    }

    /// Starts a fresh run's plan: the cases, then the writer goes on a step at a time.
    fn begin<'s>(self, store: &mut Store, source: &'s TrialSource) -> Result<PlanWriter<'s>, RunError> {
        let rotation = self.rotation()?;
        Ok(PlanWriter::begin(source, store, rotation)?)
    }
}

/// The stop judge of adaptive attacks: the run's first judge.
struct StopJudge<'a> {
    judges: &'a Judges,
    case: &'a evalgap_core::Case,
    variant: &'a evalgap_core::Variant,
}

#[async_trait::async_trait]
impl evalgap_attack::Scorer for StopJudge<'_> {
    async fn score(
        &self,
        messages: &[evalgap_core::Message],
        response: &evalgap_core::Response,
    ) -> evalgap_attack::Score {
        match self.judges.first_verdict(self.case, self.variant, messages, response).await {
            Some(v) => {
                let success = match self.case.kind {
                    evalgap_core::CaseKind::Harmful => v.harmful,
                    _ => !v.refused,
                };
                let value = v.score.unwrap_or(if success { 1.0 } else { 0.0 });
                evalgap_attack::Score { success, refused: v.refused, value }
            }
            None => evalgap_attack::Score::UNKNOWN,
        }
    }
}

#[derive(Default)]
struct Stats {
    sent: AtomicU64,
    faults: AtomicU64,
    model: std::sync::OnceLock<String>,
}

/// The writer thread: commits the records in batches. A fresh run's plan is written here too, a
/// step at a time whenever no record waits, and always ahead of the records that need it; and its
/// units are counted from each committed batch (returned with the plan's rotation marks).
#[allow(clippy::too_many_arguments)]
fn write_loop(
    store: &mut Store,
    mut rx: mpsc::Receiver<SerializedRecord>,
    mut plan: Option<PlanWriter<'_>>,
    mut tally: Option<Tally>,
    source: &TrialSource,
    bar: ProgressBar,
    stats: &Stats,
    timed: Option<std::time::Instant>,
) -> Result<Option<Counted>, RunError> {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let first = match plan.as_mut() {
            Some(p) if !p.is_complete() => match rx.try_recv() {
                Ok(r) => Some(r),
                Err(mpsc::error::TryRecvError::Empty) => {
                    p.step(store)?;
                    continue;
                }
                Err(mpsc::error::TryRecvError::Disconnected) => None,
            },
            _ => rx.blocking_recv(),
        };
        let Some(first) = first else { break };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        if let Some(p) = plan.as_mut() {
            p.cover(store, batch.iter().map(|r| r.seq).max().unwrap_or(0))?;
        }
        store.record_serialized(&batch)?;
        if let Some(tally) = tally.as_mut() {
            batch.iter().for_each(|r| tally.add(source, r));
        }
        // Counted only now, after the commit.
        let faults = batch.iter().filter(|r| r.is_fault()).count() as u64;
        stats.sent.fetch_add(batch.len() as u64, Ordering::SeqCst);
        let total_faults = stats.faults.fetch_add(faults, Ordering::SeqCst) + faults;
        bar.inc(batch.len() as u64);
        if faults > 0 {
            bar.set_message(format!("faults {total_faults}"));
        }
        batch.clear();
    }
    // Stopped early (Ctrl-C) or every trial sent: the plan is finished either way.
    let mut counted = None;
    if let Some(p) = plan {
        let reused = p.finish(store)?;
        phase(timed, "plan finished");
        counted = tally.map(|t| t.into_counted(source, reused.as_deref()));
    }
    phase(timed, "done");
    Ok(counted)
}

/// With EVALGAP_PHASES, the writer's time so far at `what`.
fn phase(timed: Option<std::time::Instant>, what: &str) {
    if let Some(t) = timed {
        eprintln!("evalgap: writer: {what} after {:.3} s", t.elapsed().as_secs_f64());
    }
}

fn progress_bar(progress: Progress, total: u64, done: u64) -> ProgressBar {
    let bar = match progress {
        Progress::Bar => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4)),
        Progress::Hidden => ProgressBar::hidden(),
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} trials  {per_sec}  ETA {eta}  {msg}",
        )
        .expect("valid template"),
    );
    bar.set_position(done);
    bar.set_message("faults 0");
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}
