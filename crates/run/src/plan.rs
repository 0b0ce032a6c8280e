//! Planning: which trials a protocol has. Deterministic, so a re-run plans the same trial ids.
//!
//! Every case is sent plain (the baseline) and under each transform chain of the run, so every
//! transform's numbers sit beside the plain numbers on the same cases.

use evalgap_core::TrialId;
use evalgap_core::{Case, Sampling, Trial, Variant};
use evalgap_store::{PlannedTrial, Store, StoreError};
use evalgap_transform::{Chain, TransformError};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Cases per planning thread at least: below that, one thread is quicker.
const PARALLEL_CASES: usize = 64;

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
        let chains: Vec<&Chain> = chains.iter().filter(|c| !c.is_plain()).collect();
        let of_cases = |cases: &[Case]| -> Result<Vec<Variant>, TransformError> {
            let mut variants = Vec::with_capacity(cases.len() * (chains.len() + 1));
            for case in cases {
                variants.push(Variant::plain(case));
                for chain in &chains {
                    variants.push(evalgap_transform::apply(chain, case, seed, cycle)?);
                }
            }
            Ok(variants)
        };
        // The transforms are pure, so a large plan is built on every core, in case order.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        let chunk = cases.len().div_ceil(threads).max(PARALLEL_CASES);
        let mut variants = Vec::with_capacity(cases.len() * (chains.len() + 1));
        if cases.len() <= chunk {
            variants = of_cases(cases)?;
        } else {
            let parts: Vec<_> = std::thread::scope(|s| {
                let handles: Vec<_> = cases.chunks(chunk).map(|part| s.spawn(move || of_cases(part))).collect();
                handles.into_iter().map(|h| h.join().expect("planning thread panicked")).collect()
            });
            for part in parts {
                variants.extend(part?);
            }
        }
        // Two chains that give the same variant (same case, chain and messages) give one variant,
        // so that every trial id is distinct by construction.
        let mut seen = HashSet::with_capacity(variants.len());
        variants.retain(|v| seen.insert(v.id.clone()));
        Ok(Self { cases, variants, attempts, target: target.to_string(), sampling: sampling.clone(), seed })
    }

    /// The plan as the workers read it: any trial by its plan position, built on demand.
    pub fn into_source(self) -> TrialSource {
        let cases: HashMap<&str, Arc<Case>> = self.cases.iter().map(|c| (c.id.as_str(), Arc::new(c.clone()))).collect();
        let variants = self
            .variants
            .into_iter()
            .map(|v| (cases.get(v.case_id.as_str()).cloned().expect("a variant's case is in the plan"), Arc::new(v)))
            .collect();
        TrialSource {
            cases: self.cases.to_vec(),
            variants,
            attempts: self.attempts,
            target: self.target,
            sampling: self.sampling,
            seed: self.seed,
        }
    }
}

/// A trial to send, with what is needed to send it. Cases and variants are shared by all the trials
/// that use them (a suite has far fewer of them than trials). Its id is not needed to send it (the
/// store keys records by `seq`): see [`TrialSource::trial_id`].
#[derive(Debug, Clone)]
pub struct PendingTrial {
    /// The plan position, the trial's key in the store.
    pub seq: i64,
    pub attempt: u32,
    pub seed: u64,
    pub case: Arc<Case>,
    pub variant: Arc<Variant>,
}

/// Every trial of a plan, by position, without the store: the workers are fed from here, so a
/// case or variant is never read back and parsed from the store while sending.
pub struct TrialSource {
    cases: Vec<Case>,
    variants: Vec<(Arc<Case>, Arc<Variant>)>,
    attempts: u32,
    target: String,
    sampling: Sampling,
    seed: u64,
}

impl std::fmt::Debug for TrialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrialSource")
            .field("variants", &self.variants.len())
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl TrialSource {
    /// Trials in the plan.
    pub fn len(&self) -> u64 {
        self.variants.len() as u64 * self.attempts as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Variants in the plan.
    pub fn variant_count(&self) -> usize {
        self.variants.len()
    }

    /// Writes variants `range` (plan order: variant-major, then attempt) and their trials as one
    /// step of the plan being written. With `rotating`, transformed variants are written `new`
    /// (the ledger's `reused` marks follow, see [`PlanWriter`]); the plain ones are always the
    /// `baseline`.
    fn write_variants(
        &self,
        store: &mut Store,
        range: std::ops::Range<usize>,
        rotating: bool,
    ) -> Result<(), StoreError> {
        let variants = &self.variants[range.clone()];
        let attempts = self.attempts as i64;
        let trials = (range.start as i64..).zip(variants).flat_map(move |(i, (_, v))| {
            (0..self.attempts).map(move |a| {
                let (id, seed) = Trial::id_and_seed(&v.id, a, &self.target, &self.sampling, self.seed);
                let seq = i * attempts + a as i64 + 1;
                PlannedTrial { seq, id, case_id: &v.case_id, variant_id: &v.id, attempt: a, seed }
            })
        });
        let variants = (range.start as i64 + 1..)
            .zip(variants)
            .map(|(vseq, (_, v))| (vseq, v.as_ref(), (rotating && !v.chain.is_empty()).then_some(false)));
        store.plan_step(variants, trials)
    }

    /// Attempts per variant.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The variants in plan order, with their cases.
    pub fn variants(&self) -> impl Iterator<Item = (&Case, &Variant)> {
        self.variants.iter().map(|(c, v)| (c.as_ref(), v.as_ref()))
    }

    /// The variant of the trial at plan position `seq`: its index in plan order, its case, itself.
    pub fn variant_of(&self, seq: i64) -> Option<(usize, &Case, &Variant)> {
        let (i, _) = self.index(seq)?;
        self.variants.get(i).map(|(c, v)| (i, c.as_ref(), v.as_ref()))
    }

    /// The trial at plan position `seq` (1-based, the store's key); None past the end.
    pub fn at(&self, seq: i64) -> Option<PendingTrial> {
        let (case, variant, attempt) = self.position(seq)?;
        let seed = Trial::seed(&variant.id, attempt, self.seed);
        Some(PendingTrial { seq, attempt, seed, case: case.clone(), variant: variant.clone() })
    }

    /// The id of the trial at plan position `seq` (what a store's trial at `seq` must have).
    pub fn trial_id(&self, seq: i64) -> Option<TrialId> {
        let (_, variant, attempt) = self.position(seq)?;
        Some(Trial::id_and_seed(&variant.id, attempt, &self.target, &self.sampling, self.seed).0)
    }

    fn position(&self, seq: i64) -> Option<(&Arc<Case>, &Arc<Variant>, u32)> {
        let (i, attempt) = self.index(seq)?;
        let (case, variant) = self.variants.get(i)?;
        Some((case, variant, attempt))
    }

    /// Plan position `seq` (from 1; variant-major, then attempt) as (variant index, attempt).
    fn index(&self, seq: i64) -> Option<(usize, u32)> {
        let i = u64::try_from(seq.checked_sub(1)?).ok()?;
        let attempts = self.attempts.max(1) as u64;
        Some(((i / attempts) as usize, (i % attempts) as u32))
    }
}

/// The rotation ledger's answer for a plan: the ids of the transformed variants an earlier run
/// sent. It is worked out on its own thread while the plan is written.
pub type RotationMarks = std::thread::JoinHandle<Result<Vec<String>, StoreError>>;

/// A plan being written in steps, in plan order, while its first trials are already sent (see
/// [`Store::begin_plan`]).
pub struct PlanWriter<'s> {
    source: &'s TrialSource,
    /// With a rotation ledger: its answer, applied when the plan is finished.
    rotation: Option<RotationMarks>,
    /// Variants written so far (a prefix of the plan).
    written: usize,
}

impl<'s> PlanWriter<'s> {
    /// Trials written per step (per transaction), in whole variants: small enough that a step never
    /// holds the records back long, whatever the attempts per variant.
    const STEP_TRIALS: usize = 1024;

    /// Starts the plan of a store that has none: writes the cases.
    pub fn begin(
        source: &'s TrialSource,
        store: &mut Store,
        rotation: Option<RotationMarks>,
    ) -> Result<Self, StoreError> {
        store.begin_plan(&source.cases)?;
        Ok(Self { source, rotation, written: 0 })
    }

    /// Goes on with a plan that a stopped run left incomplete with its first `trials` trials
    /// (whole variants: a step writes a variant and all its trials together).
    pub fn resume(source: &'s TrialSource, rotation: Option<RotationMarks>, trials: u64) -> Self {
        let written = (trials / source.attempts.max(1) as u64) as usize;
        Self { source, rotation, written: written.min(source.variant_count()) }
    }

    pub fn is_complete(&self) -> bool {
        self.written == self.source.variant_count()
    }

    /// Writes the next step of the plan.
    pub fn step(&mut self, store: &mut Store) -> Result<(), StoreError> {
        let variants = (Self::STEP_TRIALS / self.source.attempts.max(1) as usize).max(1);
        let end = (self.written + variants).min(self.source.variant_count());
        self.write_to(store, end)
    }

    /// Writes the plan at least through trial `seq`, so that its record can follow.
    pub fn cover(&mut self, store: &mut Store, seq: i64) -> Result<(), StoreError> {
        let attempts = self.source.attempts.max(1) as i64;
        let needed = ((seq.max(0) + attempts - 1) / attempts) as usize;
        while self.written < needed.min(self.source.variant_count()) {
            self.step(store)?;
        }
        Ok(())
    }

    fn write_to(&mut self, store: &mut Store, end: usize) -> Result<(), StoreError> {
        if end > self.written {
            self.source.write_variants(store, self.written..end, self.rotation.is_some())?;
            self.written = end;
        }
        Ok(())
    }

    /// Writes the rest of the plan, marks the variants the ledger found reused, and marks the plan
    /// complete; returns the ids of the reused variants, or None when the run keeps no ledger.
    pub fn finish(mut self, store: &mut Store) -> Result<Option<Vec<String>>, StoreError> {
        while !self.is_complete() {
            self.step(store)?;
        }
        let reused = match self.rotation.take() {
            Some(marks) => Some(marks.join().unwrap_or_else(|_| panic!("the rotation ledger's thread panicked"))?),
            None => None,
        };
        store.finish_plan(reused.as_deref().unwrap_or_default())?;
        Ok(reused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evalgap_core::CaseKind;

    #[test]
    fn the_source_gives_each_trial_at_its_plan_position() {
        let cases: Vec<Case> =
            (0..3).map(|i| Case::single(format!("c{i}"), format!("request {i}"), CaseKind::Harmful, "cat")).collect();
        let chains = evalgap_transform::parse("base64").unwrap();
        let sampling = Sampling::default();
        let plan = Plan::new(&cases, &chains, 0, 2, "openai:m@http://h", &sampling, 9).unwrap();
        // Variant-major, then attempt: what the store's seq 1..=n holds.
        let expected: Vec<Trial> = plan
            .variants
            .iter()
            .flat_map(|v| (0..2).map(|a| Trial::new(v, a, "openai:m@http://h", &sampling, 9)))
            .collect();
        let source = plan.into_source();
        assert_eq!(source.len(), 12);
        for (i, t) in expected.iter().enumerate() {
            let p = source.at(i as i64 + 1).unwrap();
            assert_eq!((p.attempt, p.seed, &p.variant.id), (t.attempt, t.seed, &t.variant_id));
            assert_eq!(source.trial_id(i as i64 + 1).as_ref(), Some(&t.id));
            assert_eq!(p.case.id, t.case_id);
        }
        assert!(source.at(0).is_none() && source.at(13).is_none());
        assert!(source.trial_id(0).is_none() && source.trial_id(13).is_none());
    }

    #[test]
    fn chains_that_give_the_same_variant_give_it_once() {
        let cases = vec![Case::single("c0", "request", CaseKind::Harmful, "cat")];
        let twice = [evalgap_transform::parse("rot13").unwrap(), evalgap_transform::parse("rot13").unwrap()].concat();
        let plan = Plan::new(&cases, &twice, 0, 1, "t", &Sampling::default(), 1).unwrap();
        assert_eq!(plan.variants.len(), 2, "plain and one rot13");
    }
}
