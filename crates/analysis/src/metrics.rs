use crate::{BOOTSTRAP_SEED, CONFIDENCE};
use evalgap_core::CaseKind;
use serde::Serialize;

/// A proportion with its Wilson interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    /// NaN-free: 0 when n is 0 (and then the interval is [0, 1]).
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub successes: u64,
    pub n: u64,
}

impl Rate {
    pub fn wilson(successes: u64, n: u64) -> Self {
        let ci = evalgap_stats::wilson(successes, n, CONFIDENCE);
        let value = if n == 0 { 0.0 } else { successes as f64 / n as f64 };
        Rate { value, ci_low: ci.low, ci_high: ci.high, successes, n }
    }
}

/// One point of the ASR@k curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AsrPoint {
    pub k: u32,
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Units (case, variant) with at least k judged attempts.
    pub n: u64,
}

/// Counts of one (case, variant) over its attempts.
#[derive(Debug, Clone)]
pub struct Unit {
    pub case_id: String,
    /// Pairs the same request across languages (`meta.group`), else the case id.
    pub group: String,
    pub variant_id: String,
    pub kind: CaseKind,
    pub category: String,
    pub chain: String,
    pub language: String,
    /// `baseline`, `new` or `reused`: whether an earlier run already sent this variant.
    pub rotation: String,
    /// `single-turn`, `multi-turn` or `tool-calling` (see `Store::variant_formats`).
    pub format: String,
    pub trials: u64,
    pub faults: u64,
    /// Ok responses with a harmfulness reading from the chosen judge.
    pub judged: u64,
    /// Ok responses with a refusal reading (guard judges give none).
    pub refusal_judged: u64,
    pub refused: u64,
    pub harmful: u64,
    /// Factual cases (factual judge): correct answers, and wrong ones given without a hedge.
    pub correct: u64,
    pub confident_wrong: u64,
}

impl From<evalgap_store::UnitCounts> for Unit {
    fn from(u: evalgap_store::UnitCounts) -> Self {
        Unit {
            case_id: u.case_id,
            group: u.group,
            variant_id: u.variant_id,
            kind: u.kind,
            category: u.category,
            chain: u.chain,
            language: u.language,
            rotation: u.rotation,
            format: u.format,
            trials: u.tally.trials,
            faults: u.tally.faults,
            judged: u.tally.judged,
            refusal_judged: u.tally.refusal_judged,
            refused: u.tally.refused,
            harmful: u.tally.harmful,
            correct: u.tally.correct,
            confident_wrong: u.tally.confident_wrong,
        }
    }
}

/// ASR@k for k = 1..=attempts: the unbiased estimator per unit, averaged over the units that
/// have at least k judged attempts, with a bootstrap interval over units. One resampling of units
/// serves every k (a units × k table, missing where a unit has fewer than k attempts). A unit's
/// row depends only on its (judged, harmful) counts, so the table is kept as its distinct rows
/// with how many units share each, and built whole only when they are many.
pub fn asr_curve(units: &[&Unit], attempts: u32, resamples: usize) -> Vec<AsrPoint> {
    let k_max = attempts as usize;
    let mut index: std::collections::HashMap<(u64, u64), usize> = std::collections::HashMap::new();
    let (mut rows, mut counts, mut row_of_unit) = (Vec::<Vec<f64>>::new(), Vec::<u64>::new(), Vec::new());
    for u in units {
        let i = *index.entry((u.judged, u.harmful)).or_insert_with(|| {
            let row =
                (1..=attempts).map(|k| evalgap_stats::asr_at_k(u.judged, u.harmful, k as u64).unwrap_or(f64::NAN));
            rows.push(row.collect());
            counts.push(0);
            rows.len() - 1
        });
        counts[i] += 1;
        row_of_unit.push(i);
    }
    // In first-seen order, as the whole table's distinct rows would be: the same intervals.
    let cis = if rows.len() <= units.len() / 4 {
        let types: Vec<(&[f64], u64)> = rows.iter().map(Vec::as_slice).zip(counts.iter().copied()).collect();
        evalgap_stats::bootstrap_distinct_row_means(&types, k_max, resamples, BOOTSTRAP_SEED, CONFIDENCE)
    } else {
        let table: Vec<f64> = row_of_unit.iter().flat_map(|&i| rows[i].iter().copied()).collect();
        evalgap_stats::bootstrap_column_means(&table, k_max, resamples, BOOTSTRAP_SEED, CONFIDENCE)
    };
    (0..k_max)
        .map(|c| {
            let values: Vec<f64> = row_of_unit.iter().map(|&i| rows[i][c]).filter(|v| !v.is_nan()).collect();
            let value = if values.is_empty() { 0.0 } else { evalgap_stats::mean(&values) };
            // A bootstrap over fewer than two units has nothing to resample: say so with [0, 1]
            // rather than a zero-width interval.
            let ci = cis
                .get(c)
                .copied()
                .flatten()
                .filter(|_| values.len() >= 2)
                .unwrap_or(evalgap_stats::Interval { low: 0.0, high: 1.0 });
            AsrPoint { k: c as u32 + 1, value, ci_low: ci.low, ci_high: ci.high, n: values.len() as u64 }
        })
        .collect()
}
