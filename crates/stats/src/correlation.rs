//! Pearson and Spearman correlation with two-sided p-values from Student's t.

use serde::{Deserialize, Serialize};

use crate::special::incomplete_beta_xy;

/// A correlation coefficient with its two-sided p-value and sample size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// The coefficient, in `[-1, 1]`.
    pub r: f64,
    /// Two-sided p-value for the null hypothesis of no correlation.
    pub p: f64,
    /// Number of pairs.
    pub n: usize,
}

/// Two-sided p-value of a correlation `r` over `n` pairs, from
/// `t = r sqrt((n-2) / (1-r²))` with `n - 2` degrees of freedom. Computed as
/// `I_{1-r²}((n-2)/2, 1/2)`, which equals `P(|T| >= |t|)` without the
/// cancellation of `1 - cdf`. NaN when `n < 3` or `r` is NaN; 0 when `|r| = 1`.
pub fn correlation_p_value(r: f64, n: usize) -> f64 {
    if n < 3 || r.is_nan() {
        return f64::NAN;
    }
    let r = r.clamp(-1.0, 1.0);
    let one_minus_r2 = (1.0 - r) * (1.0 + r);
    if one_minus_r2 <= 0.0 {
        return 0.0;
    }
    let df = (n - 2) as f64;
    incomplete_beta_xy(0.5 * df, 0.5, one_minus_r2, r * r)
}

/// Pearson's product-moment correlation with a two-sided t-test p-value
/// (`n - 2` degrees of freedom).
///
/// `None` when the lengths differ, there are fewer than 3 pairs, a value is
/// not finite, or either variable is constant (r undefined).
pub fn pearson(x: &[f64], y: &[f64]) -> Option<Correlation> {
    let n = x.len();
    if n != y.len() || n < 3 || x.iter().chain(y).any(|v| !v.is_finite()) {
        return None;
    }
    let nf = n as f64;
    let mx = x.iter().sum::<f64>() / nf;
    let my = y.iter().sum::<f64>() / nf;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (&a, &b) in x.iter().zip(y) {
        let dx = a - mx;
        let dy = b - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    let r = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    Some(Correlation { r, p: correlation_p_value(r, n), n })
}

/// Ranks of `xs` (1-based), ties given the average of the ranks they span.
/// NaN values are not expected (callers filter them).
pub fn average_ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&i, &j| xs[i].total_cmp(&xs[j]));
    let mut ranks = vec![0.0; xs.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && xs[order[end]] == xs[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share ranks start+1..=end: average.
        let avg = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = avg;
        }
        start = end;
    }
    ranks
}

/// Spearman's rank correlation: Pearson's r on average ranks (ties get the
/// mean of their ranks), with the same t-based two-sided p-value as
/// [`pearson`] (as R's `cor.test(method = "spearman", exact = FALSE)` without
/// its continuity correction, and scipy's `spearmanr`).
///
/// `None` under the same conditions as [`pearson`], including when either
/// variable is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<Correlation> {
    if x.len() != y.len() || x.iter().chain(y).any(|v| !v.is_finite()) {
        return None;
    }
    pearson(&average_ranks(x), &average_ranks(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn design_sanity_check() {
        // DESIGN.md: r = 0.232 over 10 models gives p = 0.52.
        // t = 0.232 * sqrt(8 / (1 - 0.232²)) = 0.6746 on 8 df; two-sided p = 0.519.
        let p = correlation_p_value(0.232, 10);
        assert!(close(p, 0.52, 0.005), "p = {p}");
        // mpmath betainc(4, 1/2, 0, 1 - 0.232², regularized) = 0.51894484138274586624.
        assert!(close(p, 0.518_944_841_382_745_9, 1e-14), "p = {p}");
        // Same through the t distribution directly.
        let t = 0.232 * (8.0f64 / (1.0 - 0.232 * 0.232)).sqrt();
        let via_t = 2.0 * (1.0 - crate::special::student_t_cdf(t, 8.0));
        assert!(close(p, via_t, 1e-12));
    }

    #[test]
    fn pearson_anscombe() {
        // Anscombe (1973) quartet, data set I: r = 0.816, and the regression slope
        // (equivalently the correlation) has two-sided p = 0.00217
        // (R: cor.test(anscombe$x1, anscombe$y1) gives r = 0.8164205, p-value = 0.00217).
        let x = [10.0, 8.0, 13.0, 9.0, 11.0, 14.0, 6.0, 4.0, 12.0, 7.0, 5.0];
        let y = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68];
        let c = pearson(&x, &y).unwrap();
        assert_eq!(c.n, 11);
        assert!(close(c.r, 0.816_420_5, 1e-6), "{c:?}");
        assert!(close(c.p, 0.002_17, 1e-5), "{c:?}");
        // 40-digit mpmath evaluation of the same formula: r = 0.81642051634483984,
        // p = I_{1-r²}(9/2, 1/2) = 0.00216962887307879695.
        assert!(close(c.r, 0.816_420_516_344_839_8, 1e-14), "{c:?}");
        assert!(close(c.p, 0.002_169_628_873_078_797, 1e-16), "{c:?}");
    }

    #[test]
    fn pearson_exact_lines_and_edges() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let c = pearson(&x, &[2.0, 4.0, 6.0, 8.0]).unwrap();
        assert_eq!((c.r, c.p), (1.0, 0.0));
        let c = pearson(&x, &[8.0, 6.0, 4.0, 2.0]).unwrap();
        assert_eq!((c.r, c.p), (-1.0, 0.0));
        // Symmetric data around a parabola: r = 0, p = 1.
        let c = pearson(&[-2.0, -1.0, 0.0, 1.0, 2.0], &[4.0, 1.0, 0.0, 1.0, 4.0]).unwrap();
        assert!(close(c.r, 0.0, 1e-15) && close(c.p, 1.0, 1e-12));
        assert_eq!(pearson(&[1.0, 2.0], &[1.0, 2.0]), None);
        assert_eq!(pearson(&x, &[1.0, 2.0, 3.0]), None);
        assert_eq!(pearson(&x, &[5.0; 4]), None);
        assert_eq!(pearson(&x, &[1.0, f64::NAN, 3.0, 4.0]), None);
    }

    #[test]
    fn spearman_wikipedia_example() {
        // Wikipedia "Spearman's rank correlation coefficient", example: IQ vs hours
        // of TV per week, sum d² = 194, rho = 1 - 6*194/(10*99) = -29/165 = -0.1758,
        // p = 0.627188 (t distribution).
        let iq = [106.0, 100.0, 86.0, 101.0, 99.0, 103.0, 97.0, 113.0, 112.0, 110.0];
        let tv = [7.0, 27.0, 2.0, 50.0, 28.0, 29.0, 20.0, 12.0, 6.0, 17.0];
        let c = spearman(&iq, &tv).unwrap();
        assert!(close(c.r, -29.0 / 165.0, 1e-14), "{c:?}");
        assert!(close(c.p, 0.627_188, 1e-6), "{c:?}");
        // mpmath: I_{1-rho²}(4, 1/2) = 0.62718834477648439503.
        assert!(close(c.p, 0.627_188_344_776_484_4, 1e-14), "{c:?}");
    }

    #[test]
    fn spearman_ties_and_monotone() {
        // Average ranks: [10, 20, 20, 30] -> [1, 2.5, 2.5, 4].
        assert_eq!(average_ranks(&[10.0, 20.0, 20.0, 30.0]), vec![1.0, 2.5, 2.5, 4.0]);
        assert_eq!(average_ranks(&[3.0, 1.0, 2.0]), vec![3.0, 1.0, 2.0]);
        // Any strictly monotone transform gives rho = 1.
        let x = [0.5, 1.0, 3.0, 7.0, 20.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| v.exp()).collect();
        assert_eq!(spearman(&x, &y).unwrap().r, 1.0);
        // With ties: x = 1,2,2,3 and y = 1,2,3,4: ranks (1,2.5,2.5,4) vs (1,2,3,4);
        // Pearson on ranks = 4.5 / sqrt(4.5 * 5) = 0.948683 (hand computation).
        let c = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!(close(c.r, 4.5 / (4.5f64 * 5.0).sqrt(), 1e-14));
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
    }
}
