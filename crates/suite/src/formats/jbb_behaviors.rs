//! JailbreakBench JBB-Behaviors CSV: `Index,Goal,Target,Behavior,Category,Source`.
//!
//! text = `Goal`, id = `jbb-{Index}`, category = `Category`, meta `behavior`, `target`, `source`.
//! The kind is harmful, or benign when the file name contains `benign` (any case), as in the
//! upstream `benign-behaviors.csv`. Extra columns (such as an unnamed pandas index) are ignored.

use super::{required, text, Cases};
use crate::error::SuiteError;
use crate::table::Table;
use evalgap_core::CaseKind;

pub(crate) fn read(file: &str, input: &str) -> Result<Cases, SuiteError> {
    let t = Table::parse(file, input)?;
    let index = t.col("Index")?;
    let goal = t.col("Goal")?;
    let behavior = t.col("Behavior")?;
    let category = t.col("Category")?;
    let target = t.find("Target");
    let source = t.find("Source");
    let kind = if is_benign_file(file) { CaseKind::Benign } else { CaseKind::Harmful };
    let mut out = Cases::new(file);
    for row in &t.rows {
        let at = t.at(row);
        let g = text(row.get(goal), &at, "Goal")?;
        let i = required(row.get(index), &at, "Index")?;
        let cat = required(row.get(category), &at, "Category")?;
        let meta = [
            ("behavior", row.get(behavior)),
            ("target", target.map_or("", |c| row.get(c))),
            ("source", source.map_or("", |c| row.get(c))),
        ];
        let case = out.single(format!("jbb-{i}"), g, kind, cat, &at, &meta);
        out.push(case, "Index", at)?;
    }
    if kind == CaseKind::Benign {
        out.notes.push("file name contains \"benign\": cases are benign".into());
    }
    Ok(out)
}

/// True when the file name (not its folders) contains `benign`.
pub(crate) fn is_benign_file(file: &str) -> bool {
    std::path::Path::new(file).file_name().is_some_and(|n| n.to_string_lossy().to_lowercase().contains("benign"))
}
