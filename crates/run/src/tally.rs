//! A fresh run's unit counts, kept by the writer as it commits each batch, so that the closing
//! report need not read every trial back from the store (see `evalgap_report::Counted`). They are
//! what `Store::unit_counts` would read: the end-to-end tests compare the two reports.

use crate::plan::TrialSource;
use evalgap_report::Counted;
use evalgap_store::{rotation_label, SerializedRecord, UnitCounts, UnitTally};
use std::collections::HashSet;

pub(crate) struct Tally {
    /// The judge whose verdicts are counted: the run's first, the report's headline judge.
    judge: String,
    /// Per variant, in plan order.
    units: Vec<UnitTally>,
}

impl Tally {
    pub(crate) fn new(judge: String, source: &TrialSource) -> Self {
        Tally { judge, units: vec![UnitTally::default(); source.variant_count()] }
    }

    /// Counts a record just committed.
    pub(crate) fn add(&mut self, source: &TrialSource, rec: &SerializedRecord) {
        let Some((i, case, _)) = source.variant_of(rec.seq) else { return };
        let unit = &mut self.units[i];
        if rec.is_fault() {
            unit.faults += 1;
        } else if let Some(facts) = rec.verdict_facts(&self.judge) {
            unit.count(case.kind, &facts);
        }
    }

    /// The counts as the report takes them. `reused`: the ids the rotation ledger found reused, or
    /// None when the run keeps no ledger (every variant is then the baseline).
    pub(crate) fn into_counted(self, source: &TrialSource, reused: Option<&[String]>) -> Counted {
        let reused: Option<HashSet<&str>> = reused.map(|ids| ids.iter().map(String::as_str).collect());
        let attempts = source.attempts() as u64;
        let mut units: Vec<UnitCounts> = source
            .variants()
            .zip(self.units)
            .map(|((case, v), tally)| {
                // As the plan marked it: transformed variants rotate when the run keeps a ledger.
                let mark = reused.as_ref().filter(|_| !v.chain.is_empty()).map(|r| r.contains(v.id.as_str()));
                UnitCounts {
                    case_id: case.id.clone(),
                    group: case.meta.get("group").unwrap_or(&case.id).clone(),
                    variant_id: v.id.clone(),
                    kind: case.kind,
                    category: case.category.clone(),
                    language: v.language.clone(),
                    chain: v.chain_name(),
                    rotation: rotation_label(mark).into(),
                    format: v.turn_format().into(),
                    tally: UnitTally { trials: attempts, ..tally },
                }
            })
            .collect();
        UnitCounts::sort(&mut units);
        Counted { judge: self.judge, units }
    }
}
