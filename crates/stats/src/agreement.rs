//! Inter-rater agreement on nominal labels: Cohen's kappa (two raters),
//! Fleiss' kappa (a fixed number of raters per item) and Krippendorff's alpha
//! (any number of raters, missing ratings allowed).
//!
//! Convention shared by all three: when every rating falls in one single
//! category, agreement by chance is total and the coefficient is 0/0; this
//! crate then returns `Some(1.0)`, since the raters did agree on every item.
//! Callers that must tell that case apart can check the marginals.

use std::collections::BTreeMap;

/// Cohen's kappa (Cohen 1960) for two raters labelling the same items with
/// nominal labels: `(p_o - p_e) / (1 - p_e)`, with `p_o` the observed agreement
/// and `p_e = sum_k p_a(k) p_b(k)` the agreement expected from the marginals.
///
/// `None` when the slices are empty or of different lengths. When both raters
/// used one and the same label on every item (`p_e = 1`), returns `Some(1.0)`
/// by convention (see the module doc). Computed from integer counts, so
/// the only rounding is the final division.
pub fn cohen_kappa(a: &[u32], b: &[u32]) -> Option<f64> {
    if a.is_empty() || a.len() != b.len() {
        return None;
    }
    let n = a.len() as u128;
    let mut agree: u128 = 0;
    let mut marg: BTreeMap<u32, (u128, u128)> = BTreeMap::new();
    for (&x, &y) in a.iter().zip(b) {
        if x == y {
            agree += 1;
        }
        marg.entry(x).or_default().0 += 1;
        marg.entry(y).or_default().1 += 1;
    }
    // kappa = (n * agree - sum ca cb) / (n^2 - sum ca cb)
    let chance: u128 = marg.values().map(|&(ca, cb)| ca * cb).sum();
    let denom = n * n - chance;
    if denom == 0 {
        return Some(1.0);
    }
    let num = (n * agree) as f64 - chance as f64;
    Some(num / denom as f64)
}

/// Fleiss' kappa (Fleiss 1971) for `N` items each rated by the same number `n`
/// of raters into `k` nominal categories; `counts[i][j]` is how many raters put
/// item `i` in category `j`.
///
/// `None` when there are no items or no categories, rows differ in length,
/// items have different numbers of ratings, or there are fewer than two
/// ratings per item. When all ratings fall in one category, returns
/// `Some(1.0)` by convention (see the module doc).
pub fn fleiss_kappa(counts: &[Vec<u32>]) -> Option<f64> {
    let first = counts.first()?;
    let k = first.len();
    if k == 0 || counts.iter().any(|row| row.len() != k) {
        return None;
    }
    let raters: u64 = first.iter().map(|&c| u64::from(c)).sum();
    if raters < 2 || counts.iter().any(|row| row.iter().map(|&c| u64::from(c)).sum::<u64>() != raters) {
        return None;
    }
    let items = counts.len() as f64;
    let n = raters as f64;
    // Sum over items of sum_j n_ij^2, and the category totals.
    let mut sum_sq: f64 = 0.0;
    let mut totals = vec![0u64; k];
    for row in counts {
        for (j, &c) in row.iter().enumerate() {
            sum_sq += f64::from(c) * f64::from(c);
            totals[j] += u64::from(c);
        }
    }
    // Mean per-item agreement P̄ and chance agreement P̄e.
    let p_bar = (sum_sq - items * n) / (items * n * (n - 1.0));
    let all = items * n;
    let p_e: f64 = totals
        .iter()
        .map(|&t| {
            let p = t as f64 / all;
            p * p
        })
        .sum();
    if totals.iter().filter(|&&t| t > 0).count() <= 1 {
        return Some(1.0);
    }
    Some((p_bar - p_e) / (1.0 - p_e))
}

/// Krippendorff's alpha for nominal data (Krippendorff 2011, "Computing
/// Krippendorff's Alpha-Reliability"), by the coincidence-matrix method.
///
/// `units[u][r]` is rater `r`'s label for unit `u`, `None` when missing; rows
/// may differ in length. Only units with at least two labels ("pairable") count.
/// Each such unit with `m_u` labels adds `1/(m_u - 1)` to the coincidence
/// `o_ck` for every ordered pair of labels `(c, k)` from different raters, and
/// `alpha = 1 - (n - 1) sum_{c≠k} o_ck / sum_{c≠k} n_c n_k` with `n_c` the
/// coincidence marginals and `n` the number of pairable labels.
///
/// `None` when no unit is pairable. When all pairable labels are one category,
/// returns `Some(1.0)` by convention (see the module doc).
pub fn krippendorff_alpha_nominal(units: &[Vec<Option<u32>>]) -> Option<f64> {
    let mut totals: BTreeMap<u32, f64> = BTreeMap::new();
    let mut disagreement = 0.0f64; // sum_{c≠k} o_ck
    let mut unit_counts: BTreeMap<u32, u64> = BTreeMap::new();
    for unit in units {
        unit_counts.clear();
        let mut m: u64 = 0;
        for &v in unit.iter().flatten() {
            *unit_counts.entry(v).or_default() += 1;
            m += 1;
        }
        if m < 2 {
            continue;
        }
        let same: u64 = unit_counts.values().map(|&c| c * c).sum();
        // Ordered pairs of labels with different values: m^2 - sum_c n_uc^2.
        disagreement += (m * m - same) as f64 / (m - 1) as f64;
        for (&c, &cnt) in &unit_counts {
            *totals.entry(c).or_default() += cnt as f64;
        }
    }
    let n: f64 = totals.values().sum();
    if n == 0.0 {
        return None;
    }
    let expected = n * n - totals.values().map(|t| t * t).sum::<f64>();
    if expected == 0.0 {
        return Some(1.0);
    }
    Some(1.0 - (n - 1.0) * disagreement / expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Expand a 2x2 (or k x k) contingency table into two label vectors.
    fn from_table(table: &[&[u32]]) -> (Vec<u32>, Vec<u32>) {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (i, row) in table.iter().enumerate() {
            for (j, &count) in row.iter().enumerate() {
                for _ in 0..count {
                    a.push(i as u32);
                    b.push(j as u32);
                }
            }
        }
        (a, b)
    }

    #[test]
    fn cohen_wikipedia_example() {
        // Wikipedia "Cohen's kappa", simple example: 50 applications,
        // both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
        // p_o = 0.7, p_e = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = 0.4.
        let (a, b) = from_table(&[&[20, 5], &[10, 15]]);
        assert!(close(cohen_kappa(&a, &b).unwrap(), 0.4, 1e-15));
        // Symmetric in the raters.
        assert!(close(cohen_kappa(&b, &a).unwrap(), 0.4, 1e-15));
    }

    #[test]
    fn cohen_second_wikipedia_example() {
        // Wikipedia "Cohen's kappa", same agreement different marginals:
        // table 45/15/25/15: p_o = 0.6, p_e = 0.54, kappa = 0.1304;
        // table 25/35/5/35:  p_o = 0.6, p_e = 0.46, kappa = 0.2593.
        let (a, b) = from_table(&[&[45, 15], &[25, 15]]);
        assert!(close(cohen_kappa(&a, &b).unwrap(), 0.06 / 0.46, 1e-14));
        let (a, b) = from_table(&[&[25, 35], &[5, 35]]);
        assert!(close(cohen_kappa(&a, &b).unwrap(), 0.14 / 0.54, 1e-14));
    }

    #[test]
    fn cohen_edges() {
        assert_eq!(cohen_kappa(&[], &[]), None);
        assert_eq!(cohen_kappa(&[1, 2], &[1]), None);
        // Perfect agreement with variation: 1.
        assert_eq!(cohen_kappa(&[1, 2, 3, 1], &[1, 2, 3, 1]), Some(1.0));
        // Both raters constant and equal: 1.0 by convention.
        assert_eq!(cohen_kappa(&[7, 7, 7], &[7, 7, 7]), Some(1.0));
        // Both constant but different: p_o = 0, p_e = 0, kappa = 0.
        assert_eq!(cohen_kappa(&[1, 1, 1], &[2, 2, 2]), Some(0.0));
        // Systematic disagreement on a balanced binary task: kappa = -1.
        assert_eq!(cohen_kappa(&[0, 1, 0, 1], &[1, 0, 1, 0]), Some(-1.0));
        // Labels need not be contiguous.
        let (a, b) = from_table(&[&[20, 5], &[10, 15]]);
        let a: Vec<u32> = a.iter().map(|&x| x * 1000 + 3).collect();
        let b: Vec<u32> = b.iter().map(|&x| x * 1000 + 3).collect();
        assert!(close(cohen_kappa(&a, &b).unwrap(), 0.4, 1e-15));
    }

    fn fleiss_example() -> Vec<Vec<u32>> {
        // Fleiss (1971) as reproduced in Wikipedia "Fleiss' kappa", worked example:
        // 10 subjects, 14 raters, 5 categories.
        vec![
            vec![0, 0, 0, 0, 14],
            vec![0, 2, 6, 4, 2],
            vec![0, 0, 3, 5, 6],
            vec![0, 3, 9, 2, 0],
            vec![2, 2, 8, 1, 1],
            vec![7, 7, 0, 0, 0],
            vec![3, 2, 6, 3, 0],
            vec![2, 5, 3, 2, 2],
            vec![6, 5, 2, 1, 0],
            vec![0, 2, 2, 3, 7],
        ]
    }

    #[test]
    fn fleiss_wikipedia_example() {
        // By hand: sum of n_ij^2 = 828, P̄ = (828 - 140) / (10*14*13) = 688/1820 = 0.378022;
        // column totals 20, 28, 39, 21, 32 of 140, P̄e = 4170/19600 = 0.212755;
        // kappa = (0.378022 - 0.212755) / (1 - 0.212755) = 0.209930 (Wikipedia: 0.210).
        let k = fleiss_kappa(&fleiss_example()).unwrap();
        let p_bar = 688.0 / 1820.0;
        let p_e = 4170.0 / 19600.0;
        assert!(close(k, (p_bar - p_e) / (1.0 - p_e), 1e-14));
        assert!(close(k, 0.210, 5e-4));
    }

    #[test]
    fn fleiss_reduces_to_scotts_pi_for_two_raters() {
        // With 2 raters Fleiss' kappa equals Scott's pi (Fleiss 1971): for the
        // Cohen table 20/5/10/15, p_o = 0.7, pooled marginals (55, 45)/100,
        // p_e = 0.55^2 + 0.45^2 = 0.505, pi = 0.195/0.495 = 0.393939.
        let mut rows = Vec::new();
        for (count, row) in [(20, vec![2, 0]), (5, vec![1, 1]), (10, vec![1, 1]), (15, vec![0, 2])] {
            for _ in 0..count {
                rows.push(row.clone());
            }
        }
        assert!(close(fleiss_kappa(&rows).unwrap(), 0.195 / 0.495, 1e-14));
    }

    #[test]
    fn fleiss_edges() {
        assert_eq!(fleiss_kappa(&[]), None);
        assert_eq!(fleiss_kappa(&[vec![]]), None);
        assert_eq!(fleiss_kappa(&[vec![1, 0]]), None); // one rater
        assert_eq!(fleiss_kappa(&[vec![2, 1], vec![1, 1]]), None); // unequal raters
        assert_eq!(fleiss_kappa(&[vec![2, 1], vec![3]]), None); // ragged
        assert_eq!(fleiss_kappa(&[vec![3, 0], vec![3, 0]]), Some(1.0));
        assert_eq!(fleiss_kappa(&[vec![3, 0], vec![0, 3]]), Some(1.0));
    }

    fn krippendorff_example() -> Vec<Vec<Option<u32>>> {
        // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
        // 4 observers (A-D), 12 units, values 1-5, "." = missing.
        //   A: 1 2 3 3 2 1 4 1 2 . . .
        //   B: 1 2 3 3 2 2 4 1 2 5 . 3
        //   C: . 3 3 3 2 3 4 2 2 5 1 .
        //   D: 1 2 3 3 2 4 4 1 2 5 1 .
        let rows: [[u32; 12]; 4] = [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, 0, 0, 0],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 0, 3],
            [0, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 0],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, 0],
        ];
        (0..12).map(|u| rows.iter().map(|r| if r[u] == 0 { None } else { Some(r[u]) }).collect()).collect()
    }

    #[test]
    fn krippendorff_paper_example() {
        // By hand: pairable values n = 40 with n_c = 9, 13, 10, 5, 3 for values 1..5;
        // disagreeing coincidences: unit 2 gives 6/3, unit 6 gives 12/3, unit 8 gives 6/3,
        // total 8; sum_{c≠k} n_c n_k = 1600 - 384 = 1216;
        // alpha = 1 - 39 * 8 / 1216 = 0.743421 (Krippendorff 2011: alpha_nominal = 0.743).
        let alpha = krippendorff_alpha_nominal(&krippendorff_example()).unwrap();
        assert!(close(alpha, 1.0 - 39.0 * 8.0 / 1216.0, 1e-14));
        assert!(close(alpha, 0.743, 5e-4));
    }

    #[test]
    fn krippendorff_two_raters_no_missing_matches_textbook_relation() {
        // Two raters, no missing data: alpha = 1 - (n-1)/n * (1 - p_o)/(1 - p_e_pooled)
        // with n = 2N pairable values (Krippendorff 2004, sec. 11.3.1); for the table
        // 20/5/10/15 (N = 50): 1 - 99/100 * 0.3/0.495 = 0.4.
        let mut units = Vec::new();
        for (count, pair) in [(20, (0, 0)), (5, (0, 1)), (10, (1, 0)), (15, (1, 1))] {
            for _ in 0..count {
                units.push(vec![Some(pair.0), Some(pair.1)]);
            }
        }
        let alpha = krippendorff_alpha_nominal(&units).unwrap();
        assert!(close(alpha, 1.0 - 0.99 * 0.3 / 0.495, 1e-14));
    }

    #[test]
    fn krippendorff_edges() {
        assert_eq!(krippendorff_alpha_nominal(&[]), None);
        assert_eq!(krippendorff_alpha_nominal(&[vec![Some(1), None], vec![None, None]]), None);
        assert_eq!(krippendorff_alpha_nominal(&[vec![Some(1), Some(1)], vec![Some(1), None, Some(1)]]), Some(1.0));
        assert_eq!(krippendorff_alpha_nominal(&[vec![Some(1), Some(1)], vec![Some(2), Some(2)]]), Some(1.0));
    }
}
