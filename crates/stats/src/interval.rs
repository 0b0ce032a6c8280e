//! Confidence intervals for a binomial proportion.

use serde::{Deserialize, Serialize};

use crate::special::normal_quantile;

/// A closed interval `[low, high]`, e.g. a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

impl Interval {
    /// A new interval; the caller keeps `low <= high`.
    pub fn new(low: f64, high: f64) -> Self {
        Interval { low, high }
    }

    /// `high - low`.
    pub fn width(&self) -> f64 {
        self.high - self.low
    }

    /// Whether `x` lies in `[low, high]`.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// Both bounds multiplied by `factor` (e.g. 100 for percentage points);
    /// swapped if `factor` is negative so that `low <= high` still holds.
    pub fn scale(&self, factor: f64) -> Interval {
        let (a, b) = (self.low * factor, self.high * factor);
        if a <= b {
            Interval::new(a, b)
        } else {
            Interval::new(b, a)
        }
    }
}

/// Two-sided critical value `z` of the standard normal for a confidence level,
/// e.g. 1.959964 for 0.95.
///
/// # Panics
/// If `confidence` is not strictly between 0 and 1.
pub fn z_for_confidence(confidence: f64) -> f64 {
    assert!(confidence > 0.0 && confidence < 1.0, "confidence must be in (0, 1), got {confidence}");
    -normal_quantile((1.0 - confidence) / 2.0)
}

/// Wilson score interval for a binomial proportion `successes / n`
/// (Wilson 1927; method 3 in Newcombe 1998), without continuity correction.
///
/// `n == 0` gives the uninformative `[0, 1]`. With no successes the lower bound
/// is exactly 0, with all successes the upper bound is exactly 1; bounds are
/// clamped to `[0, 1]`.
///
/// # Panics
/// If `successes > n`, or `confidence` is not strictly between 0 and 1.
pub fn wilson(successes: u64, n: u64, confidence: f64) -> Interval {
    assert!(successes <= n, "wilson: successes ({successes}) exceed trials ({n})");
    let z = z_for_confidence(confidence);
    if n == 0 {
        return Interval::new(0.0, 1.0);
    }
    let nf = n as f64;
    let p = successes as f64 / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    let low = if successes == 0 { 0.0 } else { (center - half).max(0.0) };
    let high = if successes == n { 1.0 } else { (center + half).min(1.0) };
    Interval::new(low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn z_values() {
        // Textbook critical values: 1.959964 (95%), 2.575829 (99%), 1.644854 (90%).
        assert!(close(z_for_confidence(0.95), 1.959_963_984_540_054, 1e-12));
        assert!(close(z_for_confidence(0.99), 2.575_829_303_548_9, 1e-12));
        assert!(close(z_for_confidence(0.90), 1.644_853_626_951_472, 1e-12));
    }

    #[test]
    fn wilson_zero_of_ten() {
        // Closed form for 0/n: [0, z²/(n + z²)] = [0, 3.841459/13.841459] = [0, 0.277533].
        let ci = wilson(0, 10, 0.95);
        let z2 = 1.959_963_984_540_054f64.powi(2);
        assert_eq!(ci.low, 0.0);
        assert!(close(ci.high, z2 / (10.0 + z2), 1e-12));
        assert!(close(ci.high, 0.2775, 1e-4));
    }

    #[test]
    fn wilson_ten_of_ten() {
        // Mirror of 0/10: [n/(n + z²), 1] = [0.722467, 1].
        let ci = wilson(10, 10, 0.95);
        let z2 = 1.959_963_984_540_054f64.powi(2);
        assert_eq!(ci.high, 1.0);
        assert!(close(ci.low, 10.0 / (10.0 + z2), 1e-12));
        assert!(close(ci.low, 0.7225, 1e-4));
    }

    #[test]
    fn wilson_five_of_ten() {
        // 5/10: centre 1/2, half-width z/(1+z²/10) * sqrt(0.025 + z²/400)
        // = 1.416010 * 0.186021 = 0.263407, so [0.2366, 0.7634] (the usual table value,
        // e.g. Agresti & Coull 1998; R binom::binom.confint(5, 10, methods = "wilson")).
        let ci = wilson(5, 10, 0.95);
        assert!(close(ci.low, 0.2366, 1e-4), "{ci:?}");
        assert!(close(ci.high, 0.7634, 1e-4), "{ci:?}");
        assert!(close(ci.low + ci.high, 1.0, 1e-15));
    }

    #[test]
    fn wilson_newcombe_examples() {
        // Newcombe (1998), Stat Med 17:857-872, Table I, method 3 (score, no CC):
        // 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605;
        // 0/20 -> 0.0000 to 0.1611; 1/29 -> 0.0061 to 0.1718.
        let cases =
            [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)];
        for (s, n, lo, hi) in cases {
            let ci = wilson(s, n, 0.95);
            assert!(close(ci.low, lo, 5e-5), "{s}/{n}: {ci:?}");
            assert!(close(ci.high, hi, 5e-5), "{s}/{n}: {ci:?}");
        }
    }

    #[test]
    fn wilson_edges() {
        assert_eq!(wilson(0, 0, 0.95), Interval::new(0.0, 1.0));
        let ci = wilson(3, 7, 0.5);
        assert!(ci.low > 0.0 && ci.high < 1.0 && ci.contains(3.0 / 7.0));
        // Higher confidence gives a wider interval.
        assert!(wilson(3, 7, 0.99).width() > wilson(3, 7, 0.95).width());
    }

    #[test]
    #[should_panic]
    fn wilson_rejects_more_successes_than_trials() {
        wilson(11, 10, 0.95);
    }

    #[test]
    fn interval_helpers() {
        let ci = Interval::new(-0.1, 0.3);
        assert!(close(ci.width(), 0.4, 1e-15));
        assert!(ci.contains(0.0) && !ci.contains(0.31));
        assert_eq!(ci.scale(-10.0), Interval::new(-3.0, 1.0));
        fn is_serde<T: Serialize + for<'de> Deserialize<'de>>() {}
        is_serde::<Interval>();
    }
}
