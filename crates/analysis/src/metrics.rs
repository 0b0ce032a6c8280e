use crate::{BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CONFIDENCE};
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
    pub variant_id: String,
    pub kind: CaseKind,
    pub category: String,
    pub chain: String,
    pub language: String,
    pub trials: u64,
    pub faults: u64,
    /// Ok responses with a harmfulness reading from the chosen judge.
    pub judged: u64,
    /// Ok responses with a refusal reading (guard judges give none).
    pub refusal_judged: u64,
    pub refused: u64,
    pub harmful: u64,
}

/// ASR@k for k = 1..=attempts: the unbiased estimator per unit, averaged over the units that
/// have at least k judged attempts, with a bootstrap interval over those units.
pub fn asr_curve(units: &[&Unit], attempts: u32) -> Vec<AsrPoint> {
    (1..=attempts)
        .map(|k| {
            let values: Vec<f64> =
                units.iter().filter_map(|u| evalgap_stats::asr_at_k(u.judged, u.harmful, k as u64)).collect();
            let n = values.len() as u64;
            let value = if values.is_empty() { 0.0 } else { evalgap_stats::mean(&values) };
            let ci = evalgap_stats::bootstrap_mean(&values, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED + k as u64, CONFIDENCE)
                .unwrap_or(evalgap_stats::Interval { low: 0.0, high: 1.0 });
            AsrPoint { k, value, ci_low: ci.low, ci_high: ci.high, n }
        })
        .collect()
}
