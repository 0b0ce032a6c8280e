//! Execution: pending trials -> workers (target + judges) -> writer thread -> store.

use crate::judging::Judges;
use crate::plan::{PendingTrial, TrialSource};
use crate::{RunError, RunOptions};
use evalgap_core::Outcome;
use evalgap_store::{Counts, Record, SerializedRecord, Store};
use evalgap_target::ChatRequest;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// Trials read from the store per page.
const PAGE: usize = 1024;
/// Records committed per transaction at most; batches form by themselves under load.
const MAX_BATCH: usize = 512;
/// Serialized records waiting for the writer at most: enough to keep sending while a new run's
/// plan is committed, few enough (about 1 KB each) that memory stays flat.
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

pub(crate) async fn execute(
    store: Store,
    opts: &RunOptions,
    judges: Arc<Judges>,
    source: Arc<TrialSource>,
    setup: Option<Setup>,
) -> Result<RunSummary, RunError> {
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

    // Producer: trials come from the plan in memory. With nothing recorded yet every trial is
    // pending; otherwise the store says which are (seq and id, paged on its own read connection)
    // and each id is checked against the plan's.
    let (trial_tx, trial_rx) = async_channel::bounded::<PendingTrial>(opts.concurrency * 2 + PAGE);
    let reader = if setup.is_some() { None } else { Some(Store::open_existing(&opts.out)?) };
    let producer = {
        let stop = stop.clone();
        let source = source.clone();
        tokio::task::spawn_blocking(move || -> Result<(), RunError> {
            let send = |p: PendingTrial| !stop.load(Ordering::SeqCst) && trial_tx.send_blocking(p).is_ok();
            let Some(reader) = reader else {
                for seq in 1..=source.len() as i64 {
                    if !send(source.at(seq).expect("seq within the plan")) {
                        return Ok(());
                    }
                }
                return Ok(());
            };
            let mut after = 0;
            loop {
                let page = reader.pending(after, PAGE)?;
                let Some(&(last, _)) = page.last() else { return Ok(()) };
                after = last;
                for (seq, id) in page {
                    let p = source.at(seq).filter(|p| p.trial_id == id).ok_or(RunError::PlanMismatch { seq })?;
                    if !send(p) {
                        return Ok(());
                    }
                }
            }
        })
    };

    // Writer: one thread owns the store's write connection and commits batches. The channel is
    // bounded, so a slow disk slows the workers instead of piling records up in memory.
    let (rec_tx, rec_rx) = mpsc::channel::<SerializedRecord>(QUEUE);
    let writer = {
        let mut store = store;
        let bar = bar.clone();
        let done = done.clone();
        std::thread::Builder::new()
            .name("evalgap-writer".into())
            .spawn(move || {
                // With EVALGAP_PHASES, when the plan was committed and when the last record was.
                let timed = std::env::var_os("EVALGAP_PHASES").is_some().then(std::time::Instant::now);
                if let Some(setup) = setup {
                    setup.write(&mut store, &source)?;
                }
                if let Some(t) = timed {
                    eprintln!("evalgap: writer: plan committed after {:.3} s", t.elapsed().as_secs_f64());
                }
                let written = write_loop(store, rec_rx, bar, done);
                if let Some(t) = timed {
                    eprintln!("evalgap: writer: done after {:.3} s", t.elapsed().as_secs_f64());
                }
                written
            })
            .map_err(|e| RunError::Writer(e.to_string()))?
    };

    // Workers.
    let mut workers = Vec::with_capacity(opts.concurrency);
    for _ in 0..opts.concurrency.max(1) {
        let rx = trial_rx.clone();
        let tx = rec_tx.clone();
        let target = opts.target.clone();
        let attacker = opts.attacker.clone();
        let judges = judges.clone();
        let sampling = opts.sampling.clone();
        let stop = stop.clone();
        let done = done.clone();
        workers.push(tokio::spawn(async move {
            while let Ok(p) = rx.recv().await {
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
                let rec = Record {
                    seq: p.seq,
                    trial_id: p.trial_id,
                    outcome,
                    verdicts: j.verdicts,
                    judge_faults: j.faults,
                    cache: j.cache,
                }
                .serialize();
                if tx.send(rec).await.is_err() || stop.load(Ordering::SeqCst) {
                    break;
                }
            }
        }));
    }
    drop(rec_tx);
    drop(trial_rx);

    let produced = producer.await.map_err(|e| RunError::Writer(e.to_string()));
    for w in workers {
        let _ = w.await;
    }
    let written = writer.join().map_err(|_| RunError::Writer("writer thread panicked".into()))?;
    stop_on_signal.abort();
    produced??;
    written?;
    bar.finish_and_clear();
    Ok(RunSummary {
        out: opts.out.clone(),
        sent: done.sent.load(Ordering::SeqCst),
        faults: done.faults.load(Ordering::SeqCst),
        interrupted: stop.load(Ordering::SeqCst),
        target_model: done.model.get().cloned(),
        ..Default::default()
    })
}

/// What the writer thread does before the first record when the store has no plan yet.
pub(crate) struct Setup {
    /// The rotation marks to take from the shared ledger, when the run keeps one.
    pub rotating: Option<Rotation>,
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
    /// Marks each transformed variant `new` or `reused` from the ledger, then writes the plan with
    /// the marks. A resumed run keeps the marks it started with: this runs only when the plan is
    /// first written (the ledger ignores a run's own earlier marks, so a retry marks the same).
    fn write(self, store: &mut Store, source: &TrialSource) -> Result<(), RunError> {
        let mut marks = std::collections::HashMap::new();
        if let Some(r) = self.rotating {
            let reused = evalgap_store::Ledger::open(&r.ledger)?.mark(&r.run, r.cycle, &r.variants)?;
            marks = r.variants.into_iter().map(|(id, _)| id).zip(reused).collect();
        }
        source.write(store, &marks)?;
        Ok(())
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

fn write_loop(
    mut store: Store,
    mut rx: mpsc::Receiver<SerializedRecord>,
    bar: ProgressBar,
    stats: Arc<Stats>,
) -> Result<(), RunError> {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        store.record_serialized(&batch)?;
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
    Ok(())
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
