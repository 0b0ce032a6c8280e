//! Planning: which trials a protocol has. Deterministic, so a re-run plans the same trial ids.
//!
//! Every case is sent plain (the baseline) and under each transform chain of the run, so every
//! transform's numbers sit beside the plain numbers on the same cases.

use evalgap_core::{Case, Sampling, Trial, Variant};
use evalgap_store::{Store, StoreError};
use evalgap_transform::{Chain, TransformError};

pub struct Plan<'a> {
    pub cases: &'a [Case],
    pub variants: Vec<Variant>,
    attempts: u32,
    target: String,
    sampling: Sampling,
    seed: u64,
}

impl<'a> Plan<'a> {
    pub fn new(
        cases: &'a [Case],
        chains: &[Chain],
        cycle: u32,
        attempts: u32,
        target: &str,
        sampling: &Sampling,
        seed: u64,
    ) -> Result<Self, TransformError> {
        let mut variants = Vec::with_capacity(cases.len() * (chains.len() + 1));
        for case in cases {
            variants.push(Variant::plain(case));
            for chain in chains.iter().filter(|c| !c.is_plain()) {
                variants.push(evalgap_transform::apply(chain, case, seed, cycle)?);
            }
        }
        Ok(Self { cases, variants, attempts, target: target.to_string(), sampling: sampling.clone(), seed })
    }

    /// Every trial, generated lazily in plan order (variant-major, then attempt).
    pub fn trials(&self) -> impl Iterator<Item = Trial> + '_ {
        self.variants.iter().flat_map(move |v| {
            (0..self.attempts).map(move |a| Trial::new(v, a, &self.target, &self.sampling, self.seed))
        })
    }

    pub fn write(&self, store: &mut Store) -> Result<u64, StoreError> {
        store.plan(self.cases, &self.variants, self.trials())
    }
}
