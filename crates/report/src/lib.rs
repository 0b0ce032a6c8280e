//! Reports: what a run found, for machines (`report.json`, schema [`SCHEMA_VERSION`]) and for
//! people (`report.md`), plus the per-trial JSONL export. Every report carries the protocol card.
//! Model output is untrusted: every place it appears goes through [`escape`].

pub mod escape;
mod export;
mod json;
mod markdown;

pub use export::{export_jsonl, ExportError};
pub use json::{Report, Sample, SCHEMA_VERSION};
pub use markdown::to_markdown;

use evalgap_core::ProtocolCard;
use evalgap_store::{AttackTally, Store, StoreError, UnitCounts};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}: this run has no protocol card yet (it never started planning); run `evalgap run` first")]
    NoProtocol(PathBuf),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
}

/// Builds the report of the run in `store` under `judge` (the first judge of the run by default).
pub fn build(store: &Store, judge: Option<&str>) -> Result<Report, ReportError> {
    build_with(store, judge, None)
}

/// Counts the caller already holds: a fresh run counts its records as it commits them, so its
/// closing report need not read every trial back. Each must be what the store would return.
pub struct Counted {
    pub judge: String,
    /// `Store::unit_counts(judge)`.
    pub units: Vec<UnitCounts>,
    /// `Store::judges`.
    pub judges: Vec<(String, String)>,
    /// `Store::attack_summary`, of every chain.
    pub attacks: AttackTally,
}

/// [`build`], taking the headline judge's unit counts, the judges and the attack summaries from
/// `counted` when its counts are that judge's. The headline analysis then reads little from the
/// store, and the rest of the report (samples, how the judges agree) is read beside it on a second
/// connection.
pub fn build_with(store: &Store, judge: Option<&str>, counted: Option<Counted>) -> Result<Report, ReportError> {
    let protocol = store.protocol()?.ok_or_else(|| ReportError::NoProtocol(store.path().to_path_buf()))?;
    let judge = judge.unwrap_or(protocol.headline_judge()).to_string();
    let (analysis, rest) = match counted.filter(|c| c.judge == judge) {
        Some(c) => {
            let chains = adaptive_chains(c.units.iter().map(|u| u.chain.as_str()));
            let counted = Read::Counted { judges: c.judges, attacks: c.attacks.rows(&chains) };
            let second = store.reopen()?;
            std::thread::scope(|s| {
                let (card, name) = (&protocol, judge.as_str());
                let rest = s.spawn(move || rest_of_report(&second, card, name, counted));
                let analysis = evalgap_analysis::analyze_counts(store, &judge, c.units, protocol.attempts);
                (analysis, rest.join().expect("report thread panicked"))
            })
        }
        None => {
            let analysis = evalgap_analysis::analyze(store, &judge, protocol.attempts)?;
            let chains = adaptive_chains(analysis.per_transform.iter().map(|s| s.key.as_str()));
            let rest = rest_of_report(store, &protocol, &judge, Read::Store(&chains));
            (Ok(analysis), rest)
        }
    };
    let mut analysis = analysis?;
    evalgap_analysis::reflag(&mut analysis.language_gaps, protocol.gap_threshold);
    let (samples, judges, judge_analysis, adaptive) = rest?;
    Ok(Report::new(protocol, analysis, judges, samples, judge_analysis, adaptive))
}

type Rest = (Vec<Sample>, Vec<(String, String)>, Option<evalgap_analysis::JudgeAnalysis>, Vec<json::AttackSummary>);

/// Where [`rest_of_report`] takes the judges and the attack summaries from.
enum Read<'a> {
    /// The store, with the adaptive chains to summarize.
    Store(&'a [String]),
    /// Counted by the caller (see [`Counted`]).
    Counted { judges: Vec<(String, String)>, attacks: Vec<evalgap_store::AttackSummaryRow> },
}

/// What the report reads besides the headline analysis: samples, the judges and how they agree,
/// and the summaries of the adaptive chains.
fn rest_of_report(store: &Store, protocol: &ProtocolCard, judge: &str, read: Read<'_>) -> Result<Rest, ReportError> {
    let samples = json::samples(store, judge)?;
    let (judges, attacks) = match read {
        Read::Store(chains) => (store.judges()?, store.attack_summary(chains)?),
        Read::Counted { judges, attacks } => (judges, attacks),
    };
    // The run's judges first, in their order, then any added later (rejudge).
    let mut names: Vec<String> =
        protocol.judges.iter().filter(|j| judges.iter().any(|(n, _)| n == *j)).cloned().collect();
    for (n, _) in &judges {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let judge_analysis = evalgap_analysis::judge_analysis(store, &names, protocol.attempts)?;
    let adaptive = attacks.into_iter().map(json::AttackSummary::from_row).collect();
    Ok((samples, judges, judge_analysis, adaptive))
}

/// The chains among `chains` whose last step runs a loop, once each.
fn adaptive_chains<'a>(chains: impl Iterator<Item = &'a str>) -> Vec<String> {
    let set: std::collections::BTreeSet<&str> = chains.filter(|c| is_adaptive_chain(c)).collect();
    set.into_iter().map(str::to_string).collect()
}

/// Whether a chain's last step runs a loop (its responses carry an attack trace).
fn is_adaptive_chain(chain: &str) -> bool {
    let last = chain.rsplit('+').next().unwrap_or(chain);
    ["pair", "crescendo", "suffix-search", "agentic"].contains(&last)
}

/// Writes `report.json` and `report.md` into `dir`; returns their paths.
pub fn write(dir: &Path, report: &Report) -> Result<Vec<PathBuf>, ReportError> {
    let json_path = dir.join("report.json");
    let md_path = dir.join("report.md");
    write_atomic(&json_path, &report.to_json())?;
    write_atomic(&md_path, &to_markdown(report))?;
    Ok(vec![json_path, md_path])
}

/// Write to a temporary file then rename, so a reader never sees half a report.
fn write_atomic(path: &Path, content: &str) -> Result<(), ReportError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content).map_err(|e| ReportError::Write(tmp.clone(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| ReportError::Write(path.to_path_buf(), e))
}

#[cfg(test)]
mod tests;
