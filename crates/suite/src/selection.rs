//! Which cases of a suite a run uses: all, the first N, or a seeded sample of N.

use evalgap_core::{Case, Hasher};
use std::fmt;

/// How cases are chosen from a suite. [`Selection::describe`] is what a protocol card records, and
/// [`Selection::parse`] reads it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Selection {
    #[default]
    All,
    /// The first N cases in suite order.
    First(usize),
    /// N cases chosen by seed, kept in suite order.
    Sample { n: usize, seed: u64 },
}

impl Selection {
    /// `all`, `first 20`, `sample 20 seed 7`.
    pub fn describe(&self) -> String {
        match self {
            Selection::All => "all".into(),
            Selection::First(n) => format!("first {n}"),
            Selection::Sample { n, seed } => format!("sample {n} seed {seed}"),
        }
    }

    /// Reads what [`Selection::describe`] writes.
    pub fn parse(s: &str) -> Option<Selection> {
        let w: Vec<&str> = s.split_whitespace().collect();
        match w.as_slice() {
            ["all"] => Some(Selection::All),
            ["first", n] => n.parse().ok().map(Selection::First),
            ["sample", n, "seed", seed] => Some(Selection::Sample { n: n.parse().ok()?, seed: seed.parse().ok()? }),
            _ => None,
        }
    }

    /// Applies the selection. `Sample` ranks cases by a hash of (seed, case id) and keeps the N
    /// lowest, in their original order: the same seed gives the same cases whatever the library
    /// versions, a larger N only adds cases, and the choice does not depend on the suite's order.
    pub fn apply(&self, cases: Vec<Case>) -> Vec<Case> {
        match *self {
            Selection::All => cases,
            Selection::First(n) => cases.into_iter().take(n).collect(),
            Selection::Sample { n, seed } => {
                if n >= cases.len() {
                    return cases;
                }
                let mut ranked: Vec<(u64, usize)> =
                    cases.iter().enumerate().map(|(i, c)| (sample_key(seed, &c.id), i)).collect();
                ranked.sort_unstable();
                let mut keep = vec![false; cases.len()];
                for &(_, i) in &ranked[..n] {
                    keep[i] = true;
                }
                cases.into_iter().zip(keep).filter_map(|(c, k)| k.then_some(c)).collect()
            }
        }
    }
}

fn sample_key(seed: u64, id: &str) -> u64 {
    Hasher::new().field("evalgap-suite sample v1").field(seed.to_le_bytes()).field(id).finish_u64()
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evalgap_core::CaseKind;

    fn cases(n: usize) -> Vec<Case> {
        (0..n).map(|i| Case::single(format!("c-{i:03}"), "t", CaseKind::Benign, "x")).collect()
    }

    fn ids(c: &[Case]) -> Vec<String> {
        c.iter().map(|c| c.id.clone()).collect()
    }

    #[test]
    fn describe_and_parse() {
        for s in [Selection::All, Selection::First(20), Selection::Sample { n: 20, seed: 7 }] {
            assert_eq!(Selection::parse(&s.describe()), Some(s));
        }
        assert_eq!(Selection::First(20).describe(), "first 20");
        assert_eq!(Selection::Sample { n: 20, seed: 7 }.describe(), "sample 20 seed 7");
        assert_eq!(Selection::parse("some"), None);
    }

    #[test]
    fn first_is_a_prefix() {
        assert_eq!(ids(&Selection::First(3).apply(cases(10))), ["c-000", "c-001", "c-002"]);
        assert_eq!(Selection::First(30).apply(cases(10)).len(), 10);
        assert_eq!(Selection::All.apply(cases(10)).len(), 10);
    }

    #[test]
    fn sample_is_deterministic_ordered_and_seeded() {
        let s = Selection::Sample { n: 20, seed: 7 };
        let a = ids(&s.apply(cases(100)));
        let b = ids(&s.apply(cases(100)));
        assert_eq!(a, b);
        assert_eq!(a.len(), 20);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(a, sorted, "original order kept");
        let other = ids(&Selection::Sample { n: 20, seed: 8 }.apply(cases(100)));
        assert_ne!(a, other);
        // Independent of input order, and nested in N.
        let mut rev = cases(100);
        rev.reverse();
        let mut from_rev = ids(&s.apply(rev));
        from_rev.reverse();
        assert_eq!(a, from_rev);
        let bigger = ids(&Selection::Sample { n: 30, seed: 7 }.apply(cases(100)));
        assert!(a.iter().all(|id| bigger.contains(id)));
        assert_eq!(Selection::Sample { n: 200, seed: 1 }.apply(cases(10)).len(), 10);
    }
}
