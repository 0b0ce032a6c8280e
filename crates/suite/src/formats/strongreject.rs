//! StrongREJECT `strongreject_dataset.csv`: `category,source,forbidden_prompt`.
//!
//! id = `strongreject-{row index, 0-based}`, kind harmful, category = `category`, meta `source`.

use super::{required, text, Cases};
use crate::error::SuiteError;
use crate::table::Table;
use evalgap_core::CaseKind;

pub(crate) fn read(file: &str, input: &str) -> Result<Cases, SuiteError> {
    let t = Table::parse(file, input)?;
    let category = t.col("category")?;
    let prompt = t.col("forbidden_prompt")?;
    let source = t.find("source");
    let mut out = Cases::new(file);
    for row in &t.rows {
        let at = t.at(row);
        let p = text(row.get(prompt), &at, "forbidden_prompt")?;
        let cat = required(row.get(category), &at, "category")?;
        let case = out.single(
            format!("strongreject-{}", row.index),
            p,
            CaseKind::Harmful,
            cat,
            &at,
            &[("source", source.map_or("", |c| row.get(c)))],
        );
        out.push(case, "forbidden_prompt", at)?;
    }
    Ok(out)
}
