//! Planning: which trials a protocol has. Deterministic, so a re-run plans the same trial ids.

use evalgap_core::{Case, Sampling, Trial, Variant};
use evalgap_store::{Store, StoreError};

pub struct Plan<'a> {
    pub cases: &'a [Case],
    pub variants: Vec<Variant>,
    attempts: u32,
    target: String,
    sampling: Sampling,
    seed: u64,
}

impl<'a> Plan<'a> {
    pub fn new(cases: &'a [Case], attempts: u32, target: &str, sampling: &Sampling, seed: u64) -> Self {
        // Transforms (a later stage) will add variants here; for now each case is sent as written.
        let variants = cases.iter().map(Variant::plain).collect();
        Self { cases, variants, attempts, target: target.to_string(), sampling: sampling.clone(), seed }
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
