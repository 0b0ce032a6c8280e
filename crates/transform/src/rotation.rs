//! Template rotation: which template a template-pool transform uses for a (case, seed, cycle).
//!
//! A pool of P templates is split into `min(SHARES, P)` shares of nearly equal size, after a
//! permutation of the pool seeded by (transform, seed, round), where round = cycle / shares. Cycle N
//! uses share N mod shares, and within that share a template chosen by a hash of (transform, case
//! id, seed, cycle). So:
//! - with one seed, cycles 0, 1, .., shares-1 draw from disjoint shares of the pool: a re-run with a
//!   new cycle tests templates the earlier cycles never used (on every case);
//! - later rounds re-permute the pool, so cycle `shares` mixes templates in new groups;
//! - across cases of one cycle, templates spread over the whole share, and another seed permutes
//!   the pool differently.
//!
//! Every pool is larger than one share, so no single cycle uses all of a pool's templates.

use crate::registry;
use crate::rng::Rng;
use evalgap_core::Hasher;

/// How many shares a pool is split into (pools smaller than this have one template per share).
pub const SHARES: usize = 3;

/// Templates available for rotation for transform `name` (0 for an unknown name or a transform
/// without templates, such as `translate`). `suffix:FILE` rotates over the file's lines instead.
pub fn rotation_pool(name: &str) -> usize {
    registry::find(name).map(|d| d.info.pool_size).unwrap_or(0)
}

/// The template index transform `name` uses for `case_id` under `seed` in `cycle` (see the module
/// docs for how cycles use shares of the pool). 0 when the pool has at most one template.
pub fn template_index(name: &str, case_id: &str, seed: u64, cycle: u32) -> usize {
    pick(name, case_id, seed, cycle, rotation_pool(name))
}

/// [`template_index`] over an explicit pool size (for pools that come from a file).
pub(crate) fn pick(name: &str, case_id: &str, seed: u64, cycle: u32, pool: usize) -> usize {
    if pool <= 1 {
        return 0;
    }
    let shares = SHARES.min(pool);
    let round = u64::from(cycle) / shares as u64;
    let share = (u64::from(cycle) % shares as u64) as usize;
    let start = share * pool / shares;
    let end = (share + 1) * pool / shares;
    let mut h = Hasher::new();
    h.field(b"evalgap/rotation/pick").field(name).field(case_id).field(seed.to_le_bytes()).field(cycle.to_le_bytes());
    let at = start + (h.finish_u64() % (end - start) as u64) as usize;
    permuted(name, seed, round, pool, at)
}

/// Entry `at` of the pool's permutation for (transform, seed, round). The permutation is the same
/// for every case, so each planning thread keeps the last few it made instead of making one per case.
fn permuted(name: &str, seed: u64, round: u64, pool: usize, at: usize) -> usize {
    type Key = (String, u64, u64, usize);
    thread_local! {
        static MADE: std::cell::RefCell<Vec<(Key, Vec<usize>)>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    MADE.with_borrow_mut(|made| {
        let hit = made.iter().position(|((n, s, r, p), _)| n == name && *s == seed && *r == round && *p == pool);
        let i = hit.unwrap_or_else(|| {
            let mut perm: Vec<usize> = (0..pool).collect();
            Rng::from_fields(&[b"evalgap/rotation", name.as_bytes(), &seed.to_le_bytes(), &round.to_le_bytes()])
                .shuffle(&mut perm);
            // A run has one seed and a few template transforms; a bound keeps a long-lived thread small.
            if made.len() == 32 {
                made.remove(0);
            }
            made.push(((name.to_string(), seed, round, pool), perm));
            made.len() - 1
        });
        made[i].1[at]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn used(pool: usize, seed: u64, cycle: u32) -> BTreeSet<usize> {
        (0..300).map(|i| pick("t", &format!("case-{i}"), seed, cycle, pool)).collect()
    }

    #[test]
    fn cycles_of_one_round_use_disjoint_shares() {
        for pool in [3, 6, 7, 12, 14] {
            let shares: Vec<_> = (0..SHARES as u32).map(|c| used(pool, 5, c)).collect();
            for a in 0..shares.len() {
                assert!(shares[a].len() < pool, "one cycle never uses the whole pool");
                for b in a + 1..shares.len() {
                    assert!(shares[a].is_disjoint(&shares[b]), "pool {pool}: {:?} vs {:?}", shares[a], shares[b]);
                }
            }
            let all: BTreeSet<usize> = shares.iter().flatten().copied().collect();
            assert_eq!(all.len(), pool, "the shares cover the pool");
        }
    }

    #[test]
    fn seeds_permute_differently_and_small_pools_are_zero() {
        assert_ne!(used(12, 1, 0), used(12, 2, 0));
        assert_eq!(pick("t", "c", 1, 4, 1), 0);
        assert_eq!(pick("t", "c", 1, 4, 0), 0);
        assert!(pick("t", "c", 1, u32::MAX, 12) < 12);
    }
}
