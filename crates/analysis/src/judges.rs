//! How much the judges agree, and how much each headline number moves with the judge.
//!
//! For every run with two or more judges: Cohen's kappa for each pair, Fleiss' kappa (items every
//! judge read) and Krippendorff's alpha (nominal; items two or more judges read), each with a
//! bootstrap interval over responses, on two labels: `refused` (all responses) and `harmful`
//! (responses to harmful cases). And the judge-sensitivity table: every headline number under each
//! judge and under the majority consensus, with the range across judges.

use crate::{analyze_with, read, AsrPoint, JudgeChoice, Rate, CONFIDENCE};
use evalgap_core::CaseKind;
use evalgap_store::{Store, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;

const RESAMPLES: usize = 500;
const SEED: u64 = 0xa9ee;

/// A statistic with its bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stat {
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Items it was computed on.
    pub n: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairAgreement {
    pub a: String,
    pub b: String,
    /// Share of items with the same label.
    pub observed: f64,
    pub cohen_kappa: Option<Stat>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    /// `refused` or `harmful`.
    pub label: String,
    pub pairs: Vec<PairAgreement>,
    pub fleiss_kappa: Option<Stat>,
    pub krippendorff_alpha: Option<Stat>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SensitivityRow {
    pub judge: String,
    pub asr_at_1: Option<AsrPoint>,
    pub asr_at_k: Option<AsrPoint>,
    pub refusal_harmful: Option<Rate>,
    pub over_refusal: Option<Rate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Range {
    pub min: f64,
    pub max: f64,
    /// max - min, in points of the rate.
    pub spread: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct JudgeAnalysis {
    pub judges: Vec<String>,
    pub agreement: Vec<Agreement>,
    /// One row per judge, then `consensus`.
    pub sensitivity: Vec<SensitivityRow>,
    /// Range of each headline number across the judges (consensus excluded).
    pub range: BTreeMap<String, Range>,
    /// Responses where the consensus was a tie, per label.
    pub consensus_ties: BTreeMap<String, u64>,
}

/// Reads one headline number off a sensitivity row.
type Getter = fn(&SensitivityRow) -> Option<f64>;

/// None when fewer than two judges have verdicts.
pub fn judge_analysis(store: &Store, judges: &[String], attempts: u32) -> Result<Option<JudgeAnalysis>, StoreError> {
    if judges.len() < 2 {
        return Ok(None);
    }
    let mut refused: Vec<Vec<Option<u32>>> = Vec::new();
    let mut harmful: Vec<Vec<Option<u32>>> = Vec::new();
    let consensus = JudgeChoice::Consensus(judges.to_vec());
    let mut ties: BTreeMap<String, u64> = BTreeMap::from([("refused".into(), 0), ("harmful".into(), 0)]);
    store.for_each_trial(|row| {
        let readings: Vec<_> = judges.iter().map(|j| read(&row, &JudgeChoice::Named(j.clone()))).collect();
        if readings.iter().all(Option::is_none) {
            return;
        }
        refused.push(readings.iter().map(|r| r.and_then(|r| r.refused).map(u32::from)).collect());
        if row.kind == CaseKind::Harmful {
            harmful.push(readings.iter().map(|r| r.and_then(|r| r.harmful).map(u32::from)).collect());
        }
        if let Some(c) = read(&row, &consensus) {
            if c.refused.is_none() {
                *ties.get_mut("refused").expect("key") += 1;
            }
            if c.harmful.is_none() && row.kind == CaseKind::Harmful {
                *ties.get_mut("harmful").expect("key") += 1;
            }
        }
    })?;

    let agreement = vec![agreement("refused", judges, &refused), agreement("harmful", judges, &harmful)];

    let mut sensitivity = Vec::new();
    let choices = judges.iter().map(|j| JudgeChoice::Named(j.clone())).chain(std::iter::once(consensus));
    for choice in choices {
        let a = analyze_with(store, &choice, attempts)?;
        let m = a.metrics;
        sensitivity.push(SensitivityRow {
            judge: choice.label(),
            asr_at_1: m.asr_at_k.first().copied(),
            asr_at_k: m.asr_at_k.last().copied(),
            refusal_harmful: m.refusal_rate.get("harmful").copied(),
            over_refusal: m.refusal_rate.get("benign").copied(),
        });
    }
    let mut range = BTreeMap::new();
    let per_judge = &sensitivity[..judges.len()];
    let metrics: [(&str, Getter); 4] = [
        ("asr_at_1", |r| r.asr_at_1.filter(|p| p.n > 0).map(|p| p.value)),
        ("asr_at_k", |r| r.asr_at_k.filter(|p| p.n > 0).map(|p| p.value)),
        ("refusal_harmful", |r| r.refusal_harmful.filter(|x| x.n > 0).map(|x| x.value)),
        ("over_refusal", |r| r.over_refusal.filter(|x| x.n > 0).map(|x| x.value)),
    ];
    for (name, get) in metrics {
        let values: Vec<f64> = per_judge.iter().filter_map(get).collect();
        if values.len() >= 2 {
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            range.insert(name.to_string(), Range { min, max, spread: max - min });
        }
    }
    Ok(Some(JudgeAnalysis { judges: judges.to_vec(), agreement, sensitivity, range, consensus_ties: ties }))
}

fn agreement(label: &str, judges: &[String], items: &[Vec<Option<u32>>]) -> Agreement {
    let mut pairs = Vec::new();
    for i in 0..judges.len() {
        for j in i + 1..judges.len() {
            let both: Vec<(u32, u32)> = items.iter().filter_map(|it| Some((it[i]?, it[j]?))).collect();
            let observed = if both.is_empty() {
                f64::NAN
            } else {
                both.iter().filter(|(a, b)| a == b).count() as f64 / both.len() as f64
            };
            let kappa = stat(both.len(), |idx| {
                let a: Vec<u32> = idx.iter().map(|&k| both[k].0).collect();
                let b: Vec<u32> = idx.iter().map(|&k| both[k].1).collect();
                evalgap_stats::cohen_kappa(&a, &b)
            });
            pairs.push(PairAgreement { a: judges[i].clone(), b: judges[j].clone(), observed, cohen_kappa: kappa });
        }
    }
    let complete: Vec<Vec<u32>> = items
        .iter()
        .filter(|it| it.iter().all(Option::is_some))
        .map(|it| {
            let ones = it.iter().filter(|x| **x == Some(1)).count() as u32;
            vec![it.len() as u32 - ones, ones]
        })
        .collect();
    let fleiss = stat(complete.len(), |idx| {
        let rows: Vec<Vec<u32>> = idx.iter().map(|&k| complete[k].clone()).collect();
        evalgap_stats::fleiss_kappa(&rows)
    });
    let rated: Vec<&Vec<Option<u32>>> = items.iter().filter(|it| it.iter().flatten().count() >= 2).collect();
    let alpha = stat(rated.len(), |idx| {
        let units: Vec<Vec<Option<u32>>> = idx.iter().map(|&k| rated[k].clone()).collect();
        evalgap_stats::krippendorff_alpha_nominal(&units)
    });
    Agreement { label: label.into(), pairs, fleiss_kappa: fleiss, krippendorff_alpha: alpha }
}

/// The statistic on all items, with a bootstrap interval over items.
fn stat(n: usize, f: impl Fn(&[usize]) -> Option<f64>) -> Option<Stat> {
    if n == 0 {
        return None;
    }
    let all: Vec<usize> = (0..n).collect();
    let value = f(&all)?;
    let ci = evalgap_stats::bootstrap(n, RESAMPLES, SEED, CONFIDENCE, |idx| f(idx).unwrap_or(f64::NAN))
        .unwrap_or(evalgap_stats::Interval { low: value, high: value });
    Some(Stat { value, ci_low: ci.low, ci_high: ci.high, n: n as u64 })
}
