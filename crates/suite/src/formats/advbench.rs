//! AdvBench `harmful_behaviors.csv`: `goal,target`.
//!
//! id = `advbench-{row index, 0-based}` (the index the GCG paper uses), kind harmful, category
//! `advbench`, meta `target`. AdvBench's `harmful_strings.csv` (one column, `target`) holds strings for
//! a model to output, not requests, and is refused with an error that says so.

use super::{text, Cases};
use crate::error::{Location, SuiteError};
use crate::table::Table;
use evalgap_core::CaseKind;

pub(crate) fn read(file: &str, input: &str) -> Result<Cases, SuiteError> {
    let t = Table::parse(file, input)?;
    if t.find("goal").is_none() && t.headers.len() == 1 && t.find("target").is_some() {
        return Err(SuiteError::NotRequests {
            at: Location::new(file, 1),
            field: "target".into(),
            message: "this is AdvBench harmful_strings.csv: its one column holds strings for a model to \
                      output, not requests to send, so it cannot be a suite of cases; load \
                      harmful_behaviors.csv (columns goal,target) instead"
                .into(),
        });
    }
    let goal = t.col("goal")?;
    let target = t.col("target")?;
    let mut out = Cases::new(file);
    for row in &t.rows {
        let at = t.at(row);
        let g = text(row.get(goal), &at, "goal")?;
        let case = out.single(
            format!("advbench-{}", row.index),
            g,
            CaseKind::Harmful,
            "advbench",
            &at,
            &[("target", row.get(target))],
        );
        out.push(case, "goal", at)?;
    }
    Ok(out)
}
