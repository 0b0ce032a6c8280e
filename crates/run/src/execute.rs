//! Execution: pending trials -> workers (target + judges) -> writer thread -> store.

use crate::{RunError, RunOptions};
use evalgap_core::{Outcome, Verdict};
use evalgap_judge::{Judge, JudgeInput};
use evalgap_store::{Counts, PendingTrial, Record, Store};
use evalgap_target::ChatRequest;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Trials read from the store per page.
const PAGE: usize = 1024;
/// Records committed per transaction at most; batches form by themselves under load.
const MAX_BATCH: usize = 2048;

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

/// Judges ok responses that one of this run's judges has not read (a crash between a response
/// and its verdicts cannot happen, but a judge added or upgraded on resume can).
pub(crate) async fn catch_up_judges(store: &mut Store, judges: &[Arc<dyn Judge>]) -> Result<(), RunError> {
    for judge in judges {
        let version = judge.version();
        let mut after = 0;
        loop {
            let page = store.unjudged(judge.name(), &version, after, PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let mut verdicts = Vec::with_capacity(page.len());
            for u in &page {
                let input = JudgeInput {
                    case_kind: u.case.kind,
                    request: u.case.text(),
                    messages: &u.variant.messages,
                    response: &u.response,
                    expected: u.case.expected.as_deref(),
                    case: Some(&u.case),
                };
                if let Ok(v) = judge.judge(&input).await {
                    verdicts.push((u.trial_id.clone(), v));
                }
            }
            store.record_verdicts(&verdicts)?;
        }
    }
    Ok(())
}

pub(crate) async fn execute(store: Store, opts: &RunOptions) -> Result<RunSummary, RunError> {
    let counts = store.counts()?;
    let bar = progress_bar(opts.progress, counts.trials, counts.trials - counts.pending);
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

    // Producer: pages pending trials out of the store on its own read connection.
    let (trial_tx, trial_rx) = async_channel::bounded::<PendingTrial>(opts.concurrency * 2 + PAGE);
    let reader = Store::open_existing(&opts.out)?;
    let producer = {
        let stop = stop.clone();
        tokio::task::spawn_blocking(move || -> Result<(), RunError> {
            let mut after = 0;
            loop {
                let page = reader.pending_page(after, PAGE)?;
                let Some(last) = page.last() else { return Ok(()) };
                after = last.seq;
                for p in page {
                    if stop.load(Ordering::SeqCst) || trial_tx.send_blocking(p).is_err() {
                        return Ok(());
                    }
                }
            }
        })
    };

    // Writer: one thread owns the store's write connection and commits batches.
    let (rec_tx, rec_rx) = mpsc::channel::<Record>();
    let writer = {
        let bar = bar.clone();
        let done = done.clone();
        std::thread::Builder::new()
            .name("evalgap-writer".into())
            .spawn(move || write_loop(store, rec_rx, bar, done))
            .map_err(|e| RunError::Writer(e.to_string()))?
    };

    // Workers.
    let mut workers = Vec::with_capacity(opts.concurrency);
    for _ in 0..opts.concurrency.max(1) {
        let rx = trial_rx.clone();
        let tx = rec_tx.clone();
        let target = opts.target.clone();
        let judges = opts.judges.clone();
        let sampling = opts.sampling.clone();
        let stop = stop.clone();
        let done = done.clone();
        workers.push(tokio::spawn(async move {
            while let Ok(p) = rx.recv().await {
                let req = ChatRequest {
                    messages: p.variant.messages.clone(),
                    tools: p.variant.tools.clone(),
                    sampling: sampling.clone(),
                    seed: p.seed,
                };
                let outcome = target.complete(&req).await;
                if let Outcome::Ok(r) = &outcome {
                    if let Some(m) = &r.model {
                        done.model.get_or_init(|| m.clone());
                    }
                }
                let (verdicts, judge_faults) = judge_all(&judges, &p, &outcome).await;
                if tx.send(Record { trial_id: p.trial_id, outcome, verdicts, judge_faults }).is_err() {
                    break;
                }
                if stop.load(Ordering::SeqCst) {
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

#[derive(Default)]
struct Stats {
    sent: AtomicU64,
    faults: AtomicU64,
    model: std::sync::OnceLock<String>,
}

async fn judge_all(
    judges: &[Arc<dyn Judge>],
    p: &PendingTrial,
    outcome: &Outcome,
) -> (Vec<Verdict>, Vec<(String, String)>) {
    // Faults are never judged.
    let Outcome::Ok(response) = outcome else { return (Vec::new(), Vec::new()) };
    let input = JudgeInput {
        case_kind: p.case.kind,
        request: p.case.text(),
        messages: &p.variant.messages,
        response,
        expected: p.case.expected.as_deref(),
        case: Some(&p.case),
    };
    let mut verdicts = Vec::with_capacity(judges.len());
    let mut faults = Vec::new();
    for j in judges {
        match j.judge(&input).await {
            Ok(v) => verdicts.push(v),
            Err(f) => faults.push((f.judge, f.detail)),
        }
    }
    (verdicts, faults)
}

fn write_loop(
    mut store: Store,
    rx: mpsc::Receiver<Record>,
    bar: ProgressBar,
    stats: Arc<Stats>,
) -> Result<(), RunError> {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        store.record(&batch)?;
        // Counted only now, after the commit.
        let faults = batch.iter().filter(|r| r.outcome.response().is_none()).count() as u64;
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
