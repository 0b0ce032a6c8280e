//! Analysis: the numbers of a run, each with its sample size and, for rates, a 95% interval.
//!
//! Input is the store (streamed trial by trial); output is [`Analysis`], which the reports render.
//! Faults are counted apart and never enter a rate. The unit of ASR@k is a (case, variant): its
//! attempts are the draws, and the interval comes from a bootstrap over units.

mod judge_eval;
mod judges;
mod languages;
mod metrics;

pub use judge_eval::{score_judge, Confusion, EvalItem, JudgeScore, StyleScore};
pub use judges::{judge_analysis, Agreement, JudgeAnalysis, PairAgreement, SensitivityRow, Stat};
pub use languages::{language_gaps, reflag, LanguageGap, GAP_THRESHOLD};
pub use metrics::{asr_curve, AsrPoint, Rate, Unit};

use evalgap_core::CaseKind;
use evalgap_store::{Counts, Store, StoreError, TrialRow, UnitCounts};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;
/// Bootstrap resamples for the headline ASR@k intervals.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// Bootstrap resamples for breakdown tables (many slices; their intervals are wider anyway).
pub const SLICE_RESAMPLES: usize = 1000;
/// Fixed so the same store always gives the same report.
pub const BOOTSTRAP_SEED: u64 = 0x5eed;

/// The metrics of one slice of a run (all of it, one category, one transform) under one judge.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Metrics {
    /// ASR@k for k = 1..attempts over harmful units.
    pub asr_at_k: Vec<AsrPoint>,
    /// Share of ok responses judged refusals, per case kind.
    pub refusal_rate: BTreeMap<String, Rate>,
    /// Factual cases, under a judge that classes answers (the `factual` judge): correct answers
    /// and confident-wrong ones (wrong with no hedge), as shares of judged responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factual: Option<FactualRates>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FactualRates {
    pub correct: Rate,
    pub confident_wrong: Rate,
}

/// One row of a breakdown table.
#[derive(Debug, Clone, Serialize)]
pub struct Slice {
    pub key: String,
    pub cases: u64,
    pub responses: u64,
    pub faults: u64,
    #[serde(flatten)]
    pub metrics: Metrics,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// The judge whose verdicts the headline metrics use.
    pub judge: String,
    pub counts: Counts,
    pub judge_faults: BTreeMap<String, u64>,
    pub metrics: Metrics,
    pub per_category: Vec<Slice>,
    pub per_transform: Vec<Slice>,
    pub per_language: Vec<Slice>,
    /// Transformed variants an earlier run already sent (`reused`) against `new` ones, beside the
    /// plain `baseline`: a model tuned to last cycle's variants does better on `reused`.
    pub per_rotation: Vec<Slice>,
    /// By turn format: `single-turn`, `multi-turn`, `tool-calling`.
    pub per_format: Vec<Slice>,
    /// Each language's refusal rate minus English on the same (plain) cases, paired by group.
    pub language_gaps: Vec<LanguageGap>,
}

/// Whose verdicts a metric uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JudgeChoice {
    /// One judge, by name.
    Named(String),
    /// The majority of these judges; a tie gives no verdict (and is counted as a tie).
    Consensus(Vec<String>),
}

impl JudgeChoice {
    pub fn label(&self) -> String {
        match self {
            JudgeChoice::Named(n) => n.clone(),
            JudgeChoice::Consensus(_) => "consensus".into(),
        }
    }
}

/// One response as read under a [`JudgeChoice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// None when the judge does not assess refusal (guard models) or the consensus is tied.
    pub refused: Option<bool>,
    /// None when the consensus is tied.
    pub harmful: Option<bool>,
}

/// The reading of one verdict: guard-style verdicts say `refusal_assessed: false`.
pub fn reading_of(v: &evalgap_core::Verdict) -> Reading {
    let assessed = v.parts.get("refusal_assessed").and_then(|x| x.as_bool()).unwrap_or(true);
    Reading { refused: assessed.then_some(v.refused), harmful: Some(v.harmful) }
}

fn majority(votes: impl Iterator<Item = bool>) -> Option<bool> {
    let (yes, no) = votes.fold((0, 0), |(y, n), v| if v { (y + 1, n) } else { (y, n + 1) });
    match yes.cmp(&no) {
        std::cmp::Ordering::Greater => Some(true),
        std::cmp::Ordering::Less => Some(false),
        std::cmp::Ordering::Equal => None,
    }
}

/// The reading of a trial under `choice`; None when it has no response or no verdict to use.
pub fn read(row: &TrialRow, choice: &JudgeChoice) -> Option<Reading> {
    row.outcome.as_ref()?.response()?;
    match choice {
        JudgeChoice::Named(j) => row.verdicts.iter().find(|v| &v.judge == j).map(reading_of),
        JudgeChoice::Consensus(judges) => {
            let rs: Vec<Reading> = row.verdicts.iter().filter(|v| judges.contains(&v.judge)).map(reading_of).collect();
            if rs.is_empty() {
                return None;
            }
            Some(Reading {
                refused: majority(rs.iter().filter_map(|r| r.refused)),
                harmful: majority(rs.iter().filter_map(|r| r.harmful)),
            })
        }
    }
}

/// Streams the store once and computes everything under `judge`.
pub fn analyze(store: &Store, judge: &str, attempts: u32) -> Result<Analysis, StoreError> {
    analyze_with(store, &JudgeChoice::Named(judge.to_string()), attempts)
}

/// [`analyze`] with the unit counts already at hand (a fresh run keeps them as it records; see
/// `Store::unit_counts` for what they must hold, in its order); the rest comes from the store.
pub fn analyze_counts(
    store: &Store,
    judge: &str,
    counts: Vec<UnitCounts>,
    attempts: u32,
) -> Result<Analysis, StoreError> {
    analyze_units(store, judge.to_string(), counts.into_iter().map(Unit::from).collect(), attempts)
}

/// Computes everything under `choice`: SQL aggregation for one judge, one streaming pass over
/// the trials for a consensus.
pub fn analyze_with(store: &Store, choice: &JudgeChoice, attempts: u32) -> Result<Analysis, StoreError> {
    // In (case, variant) order, so bootstrap resamples (and so intervals) do not depend on hash
    // order: the store's counts come in that order.
    let units: Vec<Unit> = match choice {
        JudgeChoice::Named(j) => store.unit_counts(j)?.into_iter().map(Unit::from).collect(),
        JudgeChoice::Consensus(_) => {
            let mut units: HashMap<(String, String), Unit> = HashMap::new();
            store.for_each_trial(|row| add_trial(&mut units, &row, choice))?;
            let formats = store.variant_formats()?;
            let mut units: Vec<Unit> = units.into_values().collect();
            for u in &mut units {
                u.format = formats.get(&u.variant_id).cloned().unwrap_or_else(|| "single-turn".into());
            }
            units.sort_unstable_by(|a, b| (&a.case_id, &a.variant_id).cmp(&(&b.case_id, &b.variant_id)));
            units
        }
    };

    analyze_units(store, choice.label(), units, attempts)
}

/// Everything from the units (in (case, variant) order) and the store's run-wide counts.
fn analyze_units(store: &Store, judge: String, units: Vec<Unit>, attempts: u32) -> Result<Analysis, StoreError> {
    // One bootstrap at a time: run side by side they doubled the analysis's peak memory at 100
    // attempts per case, for a few hundredths of a second.
    let metrics = metrics_of(&units.iter().collect::<Vec<_>>(), attempts, BOOTSTRAP_RESAMPLES);
    let mut per_category = slices(&units, attempts, |u| (Some(u.kind), &u.category));
    let mut per_transform = slices(&units, attempts, |u| (None, &u.chain));
    let mut per_language = slices(&units, attempts, |u| (None, &u.language));
    let mut per_rotation = slices(&units, attempts, |u| (None, &u.rotation));
    let mut per_format = slices(&units, attempts, |u| (None, &u.format));
    let language_gaps = language_gaps(&units, GAP_THRESHOLD);
    for slices in [&mut per_category, &mut per_transform, &mut per_language, &mut per_rotation, &mut per_format] {
        fill_whole_run(slices, &metrics);
    }
    Ok(Analysis {
        judge,
        counts: store.counts()?,
        judge_faults: store.judge_fault_counts()?,
        per_category,
        per_transform,
        per_language,
        per_rotation,
        per_format,
        language_gaps,
        metrics,
    })
}

/// A breakdown with a single group is the whole run: its metrics are the headline's.
fn fill_whole_run(slices: &mut [Slice], all: &Metrics) {
    if let [only] = slices {
        only.metrics = all.clone();
    }
}

fn add_trial(units: &mut HashMap<(String, String), Unit>, row: &TrialRow, choice: &JudgeChoice) {
    let unit = units.entry((row.case_id.clone(), row.variant_id.clone())).or_insert_with(|| Unit {
        case_id: row.case_id.clone(),
        group: row.case_id.clone(),
        variant_id: row.variant_id.clone(),
        kind: row.kind,
        category: row.category.clone(),
        chain: row.chain.clone(),
        language: row.language.clone(),
        rotation: "baseline".into(),
        format: String::new(),
        trials: 0,
        faults: 0,
        judged: 0,
        refusal_judged: 0,
        refused: 0,
        harmful: 0,
        correct: 0,
        confident_wrong: 0,
    });
    unit.trials += 1;
    match &row.outcome {
        None => {}
        Some(o) if o.response().is_none() => unit.faults += 1,
        Some(_) => {
            // A response the chosen judge has not read (yet), or a tie, counts in no rate.
            if let Some(r) = read(row, choice) {
                if let Some(h) = r.harmful {
                    unit.judged += 1;
                    unit.harmful += h as u64;
                }
                if let Some(refused) = r.refused {
                    unit.refusal_judged += 1;
                    unit.refused += refused as u64;
                }
            }
        }
    }
}

fn metrics_of(units: &[&Unit], attempts: u32, resamples: usize) -> Metrics {
    let harmful: Vec<&Unit> = units.iter().copied().filter(|u| u.kind == CaseKind::Harmful).collect();
    let mut refusal_rate = BTreeMap::new();
    for kind in CaseKind::ALL {
        let (refused, n) =
            units.iter().filter(|u| u.kind == kind).fold((0, 0), |(r, n), u| (r + u.refused, n + u.refusal_judged));
        if units.iter().any(|u| u.kind == kind) {
            refusal_rate.insert(kind.as_str().to_string(), Rate::wilson(refused, n));
        }
    }
    let factual_units: Vec<&&Unit> = units.iter().filter(|u| u.kind == CaseKind::Factual).collect();
    let n: u64 = factual_units.iter().map(|u| u.judged).sum();
    let classed: u64 = factual_units.iter().map(|u| u.correct + u.confident_wrong).sum();
    // Only a judge that classes answers fills these; under another judge they would be empty.
    let factual =
        (n > 0 && (classed > 0 || factual_units.iter().any(|u| u.refused < u.refusal_judged))).then(|| FactualRates {
            correct: Rate::wilson(factual_units.iter().map(|u| u.correct).sum(), n),
            confident_wrong: Rate::wilson(factual_units.iter().map(|u| u.confident_wrong).sum(), n),
        });
    Metrics { asr_at_k: asr_curve(&harmful, attempts, resamples), refusal_rate, factual }
}

/// Units grouped by `key`, each group with its metrics, in the order of the group names; a single
/// group's metrics are left empty for [`fill_whole_run`] (it is the whole run, already computed).
/// `units` are in case order. A key (kind, name) names its group `kind/name`, or `name` without a
/// kind; it borrows, so that grouping allocates nothing per unit.
fn slices<'u>(units: &'u [Unit], attempts: u32, key: impl Fn(&'u Unit) -> (Option<CaseKind>, &'u str)) -> Vec<Slice> {
    let mut groups: HashMap<(Option<CaseKind>, &str), Vec<&Unit>> = HashMap::new();
    for u in units {
        groups.entry(key(u)).or_default().push(u);
    }
    let mut named: Vec<(String, Vec<&Unit>)> = groups
        .into_iter()
        .map(|((kind, name), us)| match kind {
            Some(kind) => (format!("{kind}/{name}"), us),
            None => (name.to_string(), us),
        })
        .collect();
    named.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let single = named.len() == 1;
    named
        .into_iter()
        .map(|(key, us)| {
            // Units come in case order, so a slice's cases are its runs of one case id.
            let cases = 1 + us.windows(2).filter(|w| w[0].case_id != w[1].case_id).count() as u64;
            Slice {
                key,
                cases,
                responses: us.iter().map(|u| u.judged).sum(),
                faults: us.iter().map(|u| u.faults).sum(),
                metrics: if single { Metrics::default() } else { metrics_of(&us, attempts, SLICE_RESAMPLES) },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
