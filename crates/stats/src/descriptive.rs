//! Descriptive statistics: mean, sample standard deviation, quantiles.

/// Arithmetic mean; NaN for an empty slice.
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    if !m.is_finite() {
        return m;
    }
    // One correction pass (the residuals' mean) recovers digits lost to rounding.
    let corr = xs.iter().map(|x| x - m).sum::<f64>() / n;
    m + corr
}

/// Sample variance with the `n - 1` denominator; NaN for fewer than two values.
pub fn variance(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return f64::NAN;
    }
    let m = mean(xs);
    // Two-pass algorithm with the compensating term (Chan, Golub & LeVeque 1983).
    let (ss, s) = xs.iter().fold((0.0, 0.0), |(ss, s), &x| {
        let d = x - m;
        (ss + d * d, s + d)
    });
    let n = xs.len() as f64;
    ((ss - s * s / n) / (n - 1.0)).max(0.0)
}

/// Sample standard deviation with the `n - 1` denominator; NaN for fewer than
/// two values.
pub fn std_dev(xs: &[f64]) -> f64 {
    variance(xs).sqrt()
}

/// Quantile of already sorted (ascending) data by linear interpolation between
/// order statistics, the default of R's `quantile` (type 7) and numpy's
/// `percentile`: `h = (n - 1) p`, `x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h])`.
/// NaN for empty data; `p` is clamped to `[0, 1]`.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() || p.is_nan() {
        return f64::NAN;
    }
    let p = p.clamp(0.0, 1.0);
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = h - lo as f64;
    if frac == 0.0 || sorted[lo] == sorted[hi] {
        sorted[lo]
    } else {
        sorted[lo] + frac * (sorted[hi] - sorted[lo])
    }
}

/// Quantile of unsorted data (type 7, see [`quantile_sorted`]); NaN values are
/// dropped first. NaN when nothing is left.
pub fn quantile(xs: &[f64], p: f64) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sd_textbook() {
        // The classic example 2,4,4,4,5,5,7,9: mean 5, population sd 2,
        // sample variance 32/7 (e.g. Wikipedia "Standard deviation").
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&xs), 5.0);
        assert!((variance(&xs) - 32.0 / 7.0).abs() < 1e-14);
        assert!((std_dev(&xs) - (32.0f64 / 7.0).sqrt()).abs() < 1e-14);
    }

    #[test]
    fn sd_is_shift_invariant_and_stable() {
        // Same data shifted by 1e9: a naive sum-of-squares formula loses it all.
        let xs: Vec<f64> = [4.0, 7.0, 13.0, 16.0].iter().map(|x| x + 1e9).collect();
        // Var(4, 7, 13, 16) = 30 (Welford's example in Knuth TAOCP vol. 2 / Wikipedia
        // "Algorithms for calculating variance").
        assert!((variance(&xs) - 30.0).abs() < 1e-6);
        assert!((mean(&xs) - (1e9 + 10.0)).abs() < 1e-6);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(mean(&[]).is_nan());
        assert!(std_dev(&[]).is_nan());
        assert!(std_dev(&[3.0]).is_nan());
        assert_eq!(std_dev(&[3.0, 3.0, 3.0]), 0.0);
    }

    #[test]
    fn quantiles_match_r_type7() {
        // R: quantile(c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), c(0, .1, .25, .5, .9, 1))
        //    gives 1.00 1.90 3.25 5.50 9.10 10.00 (h = 9p, linear interpolation).
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        let cases = [(0.0, 1.0), (0.1, 1.9), (0.25, 3.25), (0.5, 5.5), (0.9, 9.1), (1.0, 10.0)];
        for (p, want) in cases {
            assert!((quantile_sorted(&xs, p) - want).abs() < 1e-12, "p={p}");
        }
        assert_eq!(quantile(&[3.0, f64::NAN, 1.0, 2.0], 0.5), 2.0);
        assert!(quantile(&[], 0.5).is_nan());
        assert_eq!(quantile_sorted(&[7.0], 0.3), 7.0);
    }
}
