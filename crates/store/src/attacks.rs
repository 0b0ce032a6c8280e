//! The attack summaries of adaptive chains (see [`Store::attack_summary`](crate::Store::attack_summary)),
//! also counted record by record: a fresh run keeps them as it commits its records, so its closing
//! report need not scan every response body for a trace.

use crate::AttackSummaryRow;
use evalgap_core::AttackTrace;
use std::collections::BTreeMap;

/// What an ok response's attack trace adds to its chain's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackFacts {
    strategy: String,
    budget: u32,
    queries: u32,
    attacker_requests: u32,
    /// The stop judge read success at some query.
    succeeded: bool,
}

impl AttackFacts {
    pub fn of(trace: &AttackTrace) -> Self {
        AttackFacts {
            strategy: trace.strategy.clone(),
            budget: trace.budget,
            queries: trace.queries,
            attacker_requests: trace.attacker_requests,
            succeeded: trace.success_at.is_some(),
        }
    }
}

/// Attack summaries by (chain, strategy), counted from ok responses with a trace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttackTally(BTreeMap<(String, String), Sums>);

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    responses: u64,
    succeeded: u64,
    queries: u64,
    budget: u64,
    attacker_requests: u64,
}

impl AttackTally {
    /// Counts one ok response of a variant of `chain` whose trace says `facts`.
    pub fn add(&mut self, chain: &str, facts: &AttackFacts) {
        let key = (chain.to_string(), facts.strategy.clone());
        let sums = self.0.entry(key).or_default();
        sums.responses += 1;
        sums.succeeded += facts.succeeded as u64;
        sums.queries += facts.queries as u64;
        sums.budget = sums.budget.max(facts.budget as u64);
        sums.attacker_requests += facts.attacker_requests as u64;
    }

    /// The rows of `chains`, as [`Store::attack_summary`](crate::Store::attack_summary) reads them:
    /// by chain, then strategy.
    pub fn rows(&self, chains: &[String]) -> Vec<AttackSummaryRow> {
        self.0
            .iter()
            .filter(|((chain, _), _)| chains.contains(chain))
            .map(|((chain, strategy), s)| AttackSummaryRow {
                chain: chain.clone(),
                strategy: strategy.clone(),
                responses: s.responses,
                succeeded: s.succeeded,
                // SQL's avg of integers: their sum over their count.
                mean_queries: s.queries as f64 / s.responses as f64,
                budget: s.budget,
                attacker_requests: s.attacker_requests,
            })
            .collect()
    }
}
