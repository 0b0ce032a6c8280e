//! Nonparametric bootstrap over units (cases, pairs, models), seeded and
//! deterministic.
//!
//! Resampling draws unit indices uniformly with replacement from a ChaCha8
//! generator seeded with `seed` (`ChaCha8Rng::seed_from_u64`), so the same
//! inputs and seed give the same interval on every platform. Intervals are
//! percentile intervals (Efron & Tibshirani 1993, ch. 13) with type-7
//! interpolation between order statistics (see
//! [`quantile_sorted`]).

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::descriptive::quantile_sorted;
use crate::interval::Interval;

/// The bootstrap distribution of a statistic: `resamples` values of `stat`,
/// each on `n_units` unit indices drawn with replacement, in draw order, with
/// NaN values dropped. Empty when `n_units == 0` or `resamples == 0`.
///
/// `stat` receives the resampled indices (each in `0..n_units`, repeats
/// allowed); it returns NaN for a resample on which the statistic is undefined.
pub fn bootstrap_distribution<F: Fn(&[usize]) -> f64>(
    n_units: usize,
    resamples: usize,
    seed: u64,
    stat: F,
) -> Vec<f64> {
    if n_units == 0 {
        return Vec::new();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx = vec![0usize; n_units];
    let mut out = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for slot in idx.iter_mut() {
            *slot = rng.random_range(0..n_units);
        }
        let v = stat(&idx);
        if !v.is_nan() {
            out.push(v);
        }
    }
    out
}

/// Percentile interval of a set of statistic values at the given confidence
/// (e.g. 0.95 takes the 2.5% and 97.5% type-7 quantiles). NaN values are
/// dropped; `None` when nothing is left.
///
/// # Panics
/// If `confidence` is not strictly between 0 and 1.
pub fn percentile_interval(values: &[f64], confidence: f64) -> Option<Interval> {
    assert!(confidence > 0.0 && confidence < 1.0, "confidence must be in (0, 1), got {confidence}");
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let alpha = 1.0 - confidence;
    Some(Interval::new(quantile_sorted(&v, alpha / 2.0), quantile_sorted(&v, 1.0 - alpha / 2.0)))
}

/// Percentile bootstrap interval of any statistic over `n_units` units.
///
/// Each of `resamples` resamples draws `n_units` indices in `0..n_units` with
/// replacement and evaluates `stat` on them; NaN results are dropped. `None`
/// when `n_units == 0`, `resamples == 0` or every resample gave NaN.
///
/// # Panics
/// If `confidence` is not strictly between 0 and 1.
pub fn bootstrap<F: Fn(&[usize]) -> f64>(
    n_units: usize,
    resamples: usize,
    seed: u64,
    confidence: f64,
    stat: F,
) -> Option<Interval> {
    assert!(confidence > 0.0 && confidence < 1.0, "confidence must be in (0, 1), got {confidence}");
    let dist = bootstrap_distribution(n_units, resamples, seed, stat);
    percentile_interval(&dist, confidence)
}

/// Percentile bootstrap interval of the mean of `values`. `None` for empty
/// input or `resamples == 0`.
pub fn bootstrap_mean(values: &[f64], resamples: usize, seed: u64, confidence: f64) -> Option<Interval> {
    bootstrap(values.len(), resamples, seed, confidence, |idx| indexed_mean(values, idx))
}

/// Mean of `values[i]` over `idx`, with the same correction pass as [`mean`].
fn indexed_mean(values: &[f64], idx: &[usize]) -> f64 {
    let n = idx.len() as f64;
    let m = idx.iter().map(|&i| values[i]).sum::<f64>() / n;
    if !m.is_finite() {
        return m;
    }
    m + idx.iter().map(|&i| values[i] - m).sum::<f64>() / n
}

/// Paired bootstrap interval of `mean(a - b)`: pairs `(a[i], b[i])` are
/// resampled together, so per-unit correlation between `a` and `b` is kept.
/// `None` when the lengths differ, the input is empty or `resamples == 0`.
/// Identical arrays give exactly `[0, 0]`.
pub fn paired_bootstrap_diff(a: &[f64], b: &[f64], resamples: usize, seed: u64, confidence: f64) -> Option<Interval> {
    if a.len() != b.len() {
        return None;
    }
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    bootstrap_mean(&diffs, resamples, seed, confidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptive::{mean, std_dev};

    /// Deterministic pseudo-data: uniform(0, 1) draws from a ChaCha8 stream.
    fn uniform_sample(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.random::<f64>()).collect()
    }

    #[test]
    fn deterministic_for_a_seed() {
        let xs = uniform_sample(200, 1);
        let a = bootstrap_mean(&xs, 2000, 42, 0.95).unwrap();
        let b = bootstrap_mean(&xs, 2000, 42, 0.95).unwrap();
        assert_eq!(a, b);
        let c = bootstrap_mean(&xs, 2000, 43, 0.95).unwrap();
        assert_ne!(a, c);
        // The generic form with the same stat gives the same interval.
        let g = bootstrap(xs.len(), 2000, 42, 0.95, |idx| idx.iter().map(|&i| xs[i]).sum::<f64>() / idx.len() as f64)
            .unwrap();
        assert!((g.low - a.low).abs() < 1e-12 && (g.high - a.high).abs() < 1e-12);
    }

    #[test]
    fn covers_true_mean_with_normal_theory_width() {
        // 5000 uniform(0,1) draws: true mean 1/2, sd 1/sqrt(12). The 95% interval
        // must contain 1/2 and have about the normal-theory width
        // 2 * 1.96 * s / sqrt(n) (Efron & Tibshirani 1993, sec. 13.3).
        let n = 5000;
        let xs = uniform_sample(n, 7);
        let ci = bootstrap_mean(&xs, 2000, 11, 0.95).unwrap();
        assert!(ci.contains(0.5), "{ci:?}");
        assert!(ci.contains(mean(&xs)));
        let normal_width = 2.0 * 1.959_964 * std_dev(&xs) / (n as f64).sqrt();
        let ratio = ci.width() / normal_width;
        assert!((0.9..1.1).contains(&ratio), "ratio {ratio}");
    }

    #[test]
    fn coverage_over_many_samples() {
        // Repeated sampling: the 90% interval of the mean of 100 uniforms should
        // cover 1/2 in roughly 90% of 200 independent samples (binomial sd ~2.1%).
        let mut covered = 0;
        for s in 0..200u64 {
            let xs = uniform_sample(100, 1000 + s);
            if bootstrap_mean(&xs, 500, s, 0.90).unwrap().contains(0.5) {
                covered += 1;
            }
        }
        assert!((160..=195).contains(&covered), "covered {covered}/200");
    }

    #[test]
    fn paired_identical_is_zero() {
        let xs = uniform_sample(50, 3);
        let ci = paired_bootstrap_diff(&xs, &xs, 1000, 5, 0.95).unwrap();
        assert_eq!(ci, Interval::new(0.0, 0.0));
    }

    #[test]
    fn paired_shift_is_exact_and_pairing_matters() {
        // b = a - 0.25 exactly per pair: every resample's mean difference is 0.25.
        let a: Vec<f64> = (0..40).map(|i| i as f64 / 4.0).collect();
        let b: Vec<f64> = a.iter().map(|x| x - 0.25).collect();
        let ci = paired_bootstrap_diff(&a, &b, 500, 9, 0.95).unwrap();
        assert!((ci.low - 0.25).abs() < 1e-12 && (ci.high - 0.25).abs() < 1e-12);
        // Unpaired, the between-unit spread would dominate; paired it vanishes.
        let unpaired = bootstrap_mean(&a, 500, 9, 0.95).unwrap();
        assert!(unpaired.width() > 1.0);
        assert_eq!(paired_bootstrap_diff(&a, &b[1..], 500, 9, 0.95), None);
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(bootstrap_mean(&[], 100, 1, 0.95), None);
        assert_eq!(bootstrap(0, 100, 1, 0.95, |_| 1.0), None);
        assert_eq!(bootstrap(5, 0, 1, 0.95, |_| 1.0), None);
        assert_eq!(bootstrap(5, 100, 1, 0.95, |_| f64::NAN), None);
        assert_eq!(bootstrap_mean(&[2.5], 100, 1, 0.95), Some(Interval::new(2.5, 2.5)));
    }

    #[test]
    fn nan_statistics_are_dropped() {
        // A statistic undefined when unit 0 is absent from the resample: the
        // interval comes from the remaining resamples only.
        let dist = bootstrap_distribution(3, 1000, 4, |idx| if idx.contains(&0) { 1.0 } else { f64::NAN });
        // P(unit 0 absent) = (2/3)^3 = 8/27, so about 704 of 1000 remain.
        assert!(dist.len() > 640 && dist.len() < 760, "{}", dist.len());
        assert!(dist.iter().all(|&v| v == 1.0));
        let ci = bootstrap(3, 1000, 4, 0.95, |idx| if idx.contains(&0) { 1.0 } else { f64::NAN });
        assert_eq!(ci, Some(Interval::new(1.0, 1.0)));
    }

    #[test]
    fn percentile_interval_type7() {
        // 0..=100 as values: the 2.5% and 97.5% type-7 quantiles are 2.5 and 97.5.
        let v: Vec<f64> = (0..=100).rev().map(f64::from).collect();
        let ci = percentile_interval(&v, 0.95).unwrap();
        assert!((ci.low - 2.5).abs() < 1e-12 && (ci.high - 97.5).abs() < 1e-12);
        assert_eq!(percentile_interval(&[f64::NAN], 0.95), None);
    }
}

/// Percentile intervals of the means of several columns at once, resampling rows together: one
/// draw of row indices per resample serves every column, so k columns cost one bootstrap, not k.
/// `values` is row-major (`rows × cols`); a NaN entry is missing, and each column's mean in a
/// resample is over its non-missing entries (NaN when it has none, and then dropped).
/// `None` for a column with no non-missing entry at all.
pub fn bootstrap_column_means(
    values: &[f64],
    cols: usize,
    resamples: usize,
    seed: u64,
    confidence: f64,
) -> Vec<Option<Interval>> {
    if cols == 0 {
        return Vec::new();
    }
    let rows = values.len() / cols;
    match distinct_rows(values, cols, rows) {
        Some(types) => bootstrap_distinct_row_means(&types, cols, resamples, seed, confidence),
        None if resamples == 0 => vec![None; cols],
        None => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            bootstrap_every_row(values, cols, rows, resamples, &mut rng, confidence)
        }
    }
}

/// [`bootstrap_column_means`] of a table given as its distinct rows, each with how many times it
/// occurs, in first-seen order: the same intervals as the whole table gives when it has at most a
/// quarter as many distinct rows as rows, without building it (an ASR@k table at 100 attempts is
/// units × 100 entries; its distinct rows are a few dozen).
pub fn bootstrap_distinct_row_means(
    types: &[(&[f64], u64)],
    cols: usize,
    resamples: usize,
    seed: u64,
    confidence: f64,
) -> Vec<Option<Interval>> {
    if cols == 0 {
        return Vec::new();
    }
    let rows = types.iter().map(|t| t.1).sum::<u64>() as usize;
    if rows == 0 || resamples == 0 {
        return vec![None; cols];
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    bootstrap_distinct_rows(types, cols, rows, resamples, &mut rng, confidence)
}

/// [`bootstrap_column_means`] by drawing `rows` row indices per resample.
fn bootstrap_every_row(
    values: &[f64],
    cols: usize,
    rows: usize,
    resamples: usize,
    rng: &mut ChaCha8Rng,
    confidence: f64,
) -> Vec<Option<Interval>> {
    // Rows whose missing entries all come last (the usual shape: a unit with n attempts has
    // ASR@k for k <= n only) are summed up to their length without a NaN test per entry.
    let lens: Vec<usize> = (0..rows)
        .map(|r| {
            let row = &values[r * cols..][..cols];
            let len = row.iter().position(|v| v.is_nan()).unwrap_or(cols);
            if row[len..].iter().all(|v| v.is_nan()) {
                len
            } else {
                usize::MAX
            }
        })
        .collect();
    let mut means = ColumnMeans::new(cols, resamples);
    for _ in 0..resamples {
        let (sum, count) = means.start();
        for _ in 0..rows {
            // Lemire's multiply-shift: uniform enough for rows far below 2^32, and much cheaper
            // than rejection sampling in this innermost loop.
            let r = ((rng.next_u32() as u64 * rows as u64) >> 32) as usize;
            let row = &values[r * cols..][..cols];
            match lens[r] {
                usize::MAX => {
                    for (c, &v) in row.iter().enumerate() {
                        if !v.is_nan() {
                            sum[c] += v;
                            count[c] += 1;
                        }
                    }
                }
                len => {
                    for c in 0..len {
                        sum[c] += row[c];
                        count[c] += 1;
                    }
                }
            }
        }
        means.finish();
    }
    means.intervals(confidence)
}

/// The column sums of the resample being drawn, and the column means of those drawn so far.
struct ColumnMeans {
    draws: Vec<Vec<f64>>,
    sum: Vec<f64>,
    count: Vec<u64>,
}

impl ColumnMeans {
    fn new(cols: usize, resamples: usize) -> Self {
        Self { draws: vec![Vec::with_capacity(resamples); cols], sum: vec![0.0; cols], count: vec![0; cols] }
    }

    /// Zeroed sums and counts for the next resample.
    fn start(&mut self) -> (&mut [f64], &mut [u64]) {
        self.sum.iter_mut().for_each(|s| *s = 0.0);
        self.count.iter_mut().for_each(|c| *c = 0);
        (&mut self.sum, &mut self.count)
    }

    /// Records the resample's mean of every column that had an entry.
    fn finish(&mut self) {
        for ((d, &s), &n) in self.draws.iter_mut().zip(&self.sum).zip(&self.count) {
            if n > 0 {
                d.push(s / n as f64);
            }
        }
    }

    fn intervals(&self, confidence: f64) -> Vec<Option<Interval>> {
        self.draws.iter().map(|d| percentile_interval(d, confidence)).collect()
    }
}

/// The distinct rows of a row-major table with how often each occurs, in first-seen order; None
/// when there are too many for [`bootstrap_distinct_rows`] to pay (more than a quarter of the rows).
fn distinct_rows(values: &[f64], cols: usize, rows: usize) -> Option<Vec<(&[f64], u64)>> {
    let limit = rows / 4;
    let mut seen: std::collections::HashMap<Vec<u64>, usize> = std::collections::HashMap::new();
    let mut types: Vec<(&[f64], u64)> = Vec::new();
    for r in 0..rows {
        let row = &values[r * cols..][..cols];
        // Bit patterns: NaN (missing) equals NaN here, as it must.
        let key: Vec<u64> = row.iter().map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() }).collect();
        match seen.get(&key) {
            Some(&t) => types[t].1 += 1,
            None => {
                if types.len() >= limit {
                    return None;
                }
                seen.insert(key, types.len());
                types.push((row, 1));
            }
        }
    }
    Some(types)
}

/// The bootstrap of [`bootstrap_column_means`] when rows repeat (an ASR@k table has one row per
/// (judged, harmful) pair, a few dozen at most). A resample's column means depend only on how
/// many times each distinct row was drawn, and those counts are multinomial(rows, occurrence
/// shares): drawn here as sequential binomials, the same distribution as `rows` uniform draws
/// with replacement, at a cost in distinct rows rather than rows.
fn bootstrap_distinct_rows(
    types: &[(&[f64], u64)],
    cols: usize,
    rows: usize,
    resamples: usize,
    rng: &mut ChaCha8Rng,
    confidence: f64,
) -> Vec<Option<Interval>> {
    use rand_distr::{Binomial, Distribution};
    let mut means = ColumnMeans::new(cols, resamples);
    for _ in 0..resamples {
        let (sum, count) = means.start();
        let (mut left, mut mass) = (rows as u64, rows as u64);
        for &(row, occurs) in types {
            if left == 0 {
                break;
            }
            let k = if occurs >= mass {
                left
            } else {
                Binomial::new(left, occurs as f64 / mass as f64).expect("p in [0, 1]").sample(rng)
            };
            left -= k;
            mass -= occurs;
            if k == 0 {
                continue;
            }
            for (c, &v) in row.iter().enumerate() {
                if !v.is_nan() {
                    sum[c] += k as f64 * v;
                    count[c] += k;
                }
            }
        }
        means.finish();
    }
    means.intervals(confidence)
}

#[cfg(test)]
mod column_tests {
    use super::*;

    #[test]
    fn distinct_rows_given_give_the_whole_tables_intervals() {
        let table = asr_table();
        let types = distinct_rows(&table, 3, 600).expect("few distinct rows");
        assert!(types.len() < 20, "{}", types.len());
        let whole = bootstrap_column_means(&table, 3, 500, 11, 0.95);
        assert!(whole.iter().all(Option::is_some));
        assert_eq!(bootstrap_distinct_row_means(&types, 3, 500, 11, 0.95), whole);
        assert_eq!(bootstrap_distinct_row_means(&[], 3, 500, 11, 0.95), vec![None; 3]);
    }

    #[test]
    fn column_means_match_single_column_bootstrap_shape() {
        // Column 0 constant, column 1 varies, column 2 has missing entries.
        let rows: Vec<[f64; 3]> =
            (0..200).map(|i| [0.5, (i % 2) as f64, if i % 4 == 0 { f64::NAN } else { 1.0 }]).collect();
        let flat: Vec<f64> = rows.iter().flatten().copied().collect();
        let ci = bootstrap_column_means(&flat, 3, 1000, 7, 0.95);
        assert_eq!(ci[0], Some(Interval::new(0.5, 0.5)));
        let c1 = ci[1].unwrap();
        assert!(c1.low < 0.5 && c1.high > 0.5 && c1.width() < 0.2, "{c1:?}");
        assert_eq!(ci[2], Some(Interval::new(1.0, 1.0)), "missing entries are skipped, not zeros");
        assert_eq!(bootstrap_column_means(&flat, 3, 1000, 7, 0.95), ci, "deterministic");
        assert_eq!(bootstrap_column_means(&[f64::NAN, f64::NAN], 1, 10, 1, 0.95), vec![None]);
    }

    /// ASR@k-shaped table: 600 units with n in 1..=3 attempts and c harmful, so few distinct rows.
    fn asr_table() -> Vec<f64> {
        (0..600)
            .flat_map(|i: u64| {
                let n = 1 + i % 3;
                let c = (i * 7 / 5) % (n + 1);
                (1..=3).map(move |k| if k <= n { crate::asr_at_k(n, c, k).unwrap() } else { f64::NAN })
            })
            .collect()
    }

    #[test]
    fn distinct_rows_counts_each_row_once() {
        let t = asr_table();
        let types = distinct_rows(&t, 3, 600).expect("few distinct rows");
        assert!(types.len() <= 9, "{}", types.len());
        assert_eq!(types.iter().map(|(_, n)| n).sum::<u64>(), 600);
        let all_distinct: Vec<f64> = (0..100).map(|i| i as f64).collect();
        assert!(distinct_rows(&all_distinct, 1, 100).is_none(), "no grouping when rows do not repeat");
    }

    #[test]
    fn distinct_row_bootstrap_agrees_with_drawing_every_row() {
        // The two draw the same multinomial distribution with different random streams: their
        // percentile intervals agree to Monte Carlo error, not bit for bit.
        let t = asr_table();
        let types = distinct_rows(&t, 3, 600).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let grouped = bootstrap_distinct_rows(&types, 3, 600, 4000, &mut rng, 0.95);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let every = bootstrap_every_row(&t, 3, 600, 4000, &mut rng, 0.95);
        for c in 0..3 {
            let (g, e) = (grouped[c].unwrap(), every[c].unwrap());
            assert!((g.low - e.low).abs() < 0.006 && (g.high - e.high).abs() < 0.006, "column {c}: {g:?} vs {e:?}");
            assert!(g.width() > 0.03, "a real interval, not a point: {g:?}");
        }
        assert_ne!(grouped, every, "different random streams");
    }
}
