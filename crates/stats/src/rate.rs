//! Attack success rate under a budget of k attempts (ASR@k).

/// Unbiased estimate of the probability that at least one of `k` attempts,
/// drawn without replacement from `n` recorded attempts of which `c` succeeded,
/// is a success: `1 - C(n-c, k) / C(n, k)`.
///
/// This is the estimator of Chen et al. (2021, "Evaluating Large Language Models
/// Trained on Code", pass@k), applied to one case. It is computed as the
/// product `prod_{i=0}^{k-1} (n-c-i)/(n-i)` or, equivalently,
/// `prod_{j=n-c+1}^{n} (1 - k/j)`, whichever has fewer factors, so it is
/// stable (no binomial coefficients, no overflow) for `n` up to 10^6 and
/// beyond.
///
/// Exact special cases: `c == 0` gives 0, `n - c < k` (in particular `c == n`)
/// gives 1, and `k == 1` gives `c / n`.
///
/// Returns `None` when `k == 0`, `k > n` or `c > n`.
pub fn asr_at_k(n: u64, c: u64, k: u64) -> Option<f64> {
    if k == 0 || k > n || c > n {
        return None;
    }
    if c == 0 {
        return Some(0.0);
    }
    if n - c < k {
        return Some(1.0);
    }
    if k == 1 {
        return Some(c as f64 / n as f64);
    }
    // Probability that all k attempts fail.
    let mut all_fail = 1.0f64;
    if k <= c {
        for i in 0..k {
            all_fail *= (n - c - i) as f64 / (n - i) as f64;
            if all_fail == 0.0 {
                break;
            }
        }
    } else {
        let kf = k as f64;
        for j in (n - c + 1)..=n {
            all_fail *= 1.0 - kf / j as f64;
            if all_fail == 0.0 {
                break;
            }
        }
    }
    Some(1.0 - all_fail)
}

/// ASR@k for every `k = 1..=n` of one case, as a vector of length `n`
/// (index `k - 1`). Empty when `n == 0` or `c > n`.
pub fn asr_curve(n: u64, c: u64) -> Vec<f64> {
    (1..=n).filter_map(|k| asr_at_k(n, c, k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent reference: enumerate every k-subset of n attempts, where the
    /// first c attempts are the successes, and count those with a success.
    fn brute_force(n: u32, c: u32, k: u32) -> f64 {
        let mut hit = 0u64;
        let mut total = 0u64;
        for mask in 0u32..(1u32 << n) {
            if mask.count_ones() != k {
                continue;
            }
            total += 1;
            let successes = (1u32 << c) - 1;
            if mask & successes != 0 {
                hit += 1;
            }
        }
        hit as f64 / total as f64
    }

    #[test]
    fn matches_subset_enumeration() {
        for n in 1..=12u32 {
            for c in 0..=n {
                for k in 1..=n {
                    let got = asr_at_k(n as u64, c as u64, k as u64).unwrap();
                    let want = brute_force(n, c, k);
                    assert!((got - want).abs() < 1e-12, "n={n} c={c} k={k}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn exact_cases() {
        for &n in &[1u64, 2, 5, 17, 1000, 1_000_000] {
            for &k in &[1u64, 2, n / 2 + 1, n] {
                if k == 0 || k > n {
                    continue;
                }
                assert_eq!(asr_at_k(n, 0, k), Some(0.0));
                assert_eq!(asr_at_k(n, n, k), Some(1.0));
            }
            for c in [0, 1, n / 3, n / 2, n] {
                assert_eq!(asr_at_k(n, c, 1), Some(c as f64 / n as f64));
            }
        }
    }

    #[test]
    fn invalid_inputs() {
        assert_eq!(asr_at_k(5, 2, 0), None);
        assert_eq!(asr_at_k(5, 2, 6), None);
        assert_eq!(asr_at_k(5, 6, 2), None);
        assert_eq!(asr_at_k(0, 0, 1), None);
        assert!(asr_curve(0, 0).is_empty());
    }

    #[test]
    fn large_n_closed_forms() {
        let n = 1_000_000u64;
        let nf = n as f64;
        // c = 1: 1 - C(n-1,k)/C(n,k) = k/n.
        for &k in &[2u64, 10, 999, 500_000, 999_999] {
            let got = asr_at_k(n, 1, k).unwrap();
            assert!((got - k as f64 / nf).abs() < 1e-12, "k={k}: {got}");
        }
        // c = 2: 1 - (n-k)(n-k-1) / (n(n-1)).
        for &k in &[2u64, 10, 1000, 500_000] {
            let kf = k as f64;
            let want = 1.0 - (nf - kf) * (nf - kf - 1.0) / (nf * (nf - 1.0));
            let got = asr_at_k(n, 2, k).unwrap();
            assert!((got - want).abs() < 1e-12, "k={k}: {got} vs {want}");
        }
        // k = 2, any c: 1 - (n-c)(n-c-1) / (n(n-1)), here with the long product (c > k).
        for &c in &[3u64, 1000, 250_000, 999_998] {
            let cf = c as f64;
            let want = 1.0 - (nf - cf) * (nf - cf - 1.0) / (nf * (nf - 1.0));
            let got = asr_at_k(n, c, 2).unwrap();
            assert!((got - want).abs() < 1e-12, "c={c}: {got} vs {want}");
        }
        // Both products agree in the middle, 10^5 factors each.
        let a = asr_at_k(n, 100_000, 100_001).unwrap();
        let b = asr_at_k(n, 100_001, 100_000).unwrap();
        assert!(a > 0.999_999 && b > 0.999_999 && a <= 1.0 && b <= 1.0);
        // Small probabilities keep their precision: c = 3, k = 3, n = 10^6:
        // 1 - (n-3)(n-4)(n-5)/(n(n-1)(n-2)) ~ 9e-6.
        let got = asr_at_k(n, 3, 3).unwrap();
        let want = 1.0 - (nf - 3.0) * (nf - 4.0) * (nf - 5.0) / (nf * (nf - 1.0) * (nf - 2.0));
        assert!((got - want).abs() < 1e-15);
    }

    #[test]
    fn curve_is_monotone() {
        let curve = asr_curve(20, 3);
        assert_eq!(curve.len(), 20);
        assert_eq!(curve[0], 3.0 / 20.0);
        assert_eq!(curve[19], 1.0);
        assert!(curve.windows(2).all(|w| w[0] <= w[1]));
    }
}
