//! A fresh run's unit counts, judges and attack summaries, kept by the writer as it commits each
//! batch, so that the closing report need not read every trial back from the store (see
//! `evalgap_report::Counted`). They are what `Store::unit_counts`, `Store::judges` and
//! `Store::attack_summary` would read: the end-to-end tests compare the two reports.

use crate::plan::TrialSource;
use evalgap_report::Counted;
use evalgap_store::{rotation_label, AttackTally, SerializedRecord, UnitCounts, UnitTally};
use std::collections::HashSet;
use std::sync::Arc;

pub(crate) struct Tally {
    /// The judge whose verdicts are counted: the run's first, the report's headline judge.
    judge: String,
    /// Per variant, in plan order.
    units: Vec<UnitTally>,
    /// The (judge, version) of every verdict recorded, once each.
    judges: Vec<(String, String)>,
    attacks: AttackTally,
    /// The units' names and their report order, worked out on their own thread while trials are
    /// sent (tens of thousands of strings and a sort: milliseconds that the report would wait for);
    /// None when no thread could be started (they are then worked out at the end).
    names: Option<std::thread::JoinHandle<Names>>,
}

/// Each unit's names (its counts left empty), in the order units are reported in
/// (`UnitCounts::sort`), and where each plan position's unit is in that order.
struct Names {
    units: Vec<UnitCounts>,
    /// By plan position (variant index), the unit's index in `units`.
    reported_at: Vec<usize>,
}

impl Tally {
    pub(crate) fn new(judge: String, source: &Arc<TrialSource>) -> Self {
        let units = vec![UnitTally::default(); source.variant_count()];
        let source = source.clone();
        let names = std::thread::Builder::new().name("evalgap-units".into()).spawn(move || Names::of(&source)).ok();
        Tally { judge, units, names, judges: Vec::new(), attacks: AttackTally::default() }
    }

    /// Counts a record just committed.
    pub(crate) fn add(&mut self, source: &TrialSource, rec: &SerializedRecord) {
        let Some((i, case, variant)) = source.variant_of(rec.seq) else { return };
        for (judge, version) in rec.judged_by() {
            if !self.judges.iter().any(|(j, v)| j == judge && v == version) {
                self.judges.push((judge.to_string(), version.to_string()));
            }
        }
        if let Some(facts) = rec.attack_facts() {
            self.attacks.add(&variant.chain_name(), facts);
        }
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
        let names = match self.names {
            Some(thread) => thread.join().expect("the units' names thread panicked"),
            None => Names::of(source),
        };
        let Names { mut units, reported_at } = names;
        for ((tally, (_, v)), &at) in self.units.into_iter().zip(source.variants()).zip(&reported_at) {
            // As the plan marked it: transformed variants rotate when the run keeps a ledger.
            let mark = reused.as_ref().filter(|_| !v.chain.is_empty()).map(|r| r.contains(v.id.as_str()));
            let unit = &mut units[at];
            unit.rotation = rotation_label(mark).into();
            unit.tally = UnitTally { trials: attempts, ..tally };
        }
        let mut judges = self.judges;
        judges.sort();
        Counted { judge: self.judge, units, judges, attacks: self.attacks }
    }
}

impl Names {
    fn of(source: &TrialSource) -> Self {
        let mut units: Vec<UnitCounts> = source
            .variants()
            .map(|(case, v)| UnitCounts {
                case_id: case.id.clone(),
                group: case.meta.get("group").unwrap_or(&case.id).clone(),
                variant_id: v.id.clone(),
                kind: case.kind,
                category: case.category.clone(),
                language: v.language.clone(),
                chain: v.chain_name(),
                rotation: String::new(),
                format: v.turn_format().into(),
                tally: UnitTally::default(),
            })
            .collect();
        let mut order: Vec<usize> = (0..units.len()).collect();
        UnitCounts::sort_positions(&units, &mut order);
        let mut reported_at = vec![0; units.len()];
        for (at, &position) in order.iter().enumerate() {
            reported_at[position] = at;
        }
        // The units themselves in that order: moves, no copies of their strings.
        let mut planned: Vec<Option<UnitCounts>> = units.drain(..).map(Some).collect();
        units.extend(order.iter().map(|&p| planned[p].take().expect("each plan position once")));
        Names { units, reported_at }
    }
}
