//! HarmBench behaviors CSV: `Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID`.
//!
//! id = `BehaviorID`, kind harmful, category = `SemanticCategory`, meta `functional_category` and
//! `tags`. A row with a non-empty `ContextString` (HarmBench's contextual behaviors) has the text
//! `ContextString + "\n\n---\n\n" + Behavior`, as HarmBench builds it.

use super::{required, text, Cases};
use crate::error::SuiteError;
use crate::table::Table;
use evalgap_core::CaseKind;

/// What HarmBench puts between the context and the behavior.
pub const CONTEXT_SEPARATOR: &str = "\n\n---\n\n";

pub(crate) fn read(file: &str, input: &str) -> Result<Cases, SuiteError> {
    let t = Table::parse(file, input)?;
    let behavior = t.col("Behavior")?;
    let functional = t.col("FunctionalCategory")?;
    let semantic = t.col("SemanticCategory")?;
    let id_col = t.col("BehaviorID")?;
    let tags = t.find("Tags");
    let context = t.find("ContextString");
    let mut out = Cases::new(file);
    let mut contextual = 0usize;
    let mut copyright = 0usize;
    for row in &t.rows {
        let at = t.at(row);
        let b = text(row.get(behavior), &at, "Behavior")?;
        let id = required(row.get(id_col), &at, "BehaviorID")?;
        let category = required(row.get(semantic), &at, "SemanticCategory")?;
        let ctx = context.map_or("", |c| row.get(c));
        let prompt = if ctx.is_empty() {
            b.to_string()
        } else {
            contextual += 1;
            format!("{ctx}{CONTEXT_SEPARATOR}{b}")
        };
        if row.get(functional).trim() == "copyright" {
            copyright += 1;
        }
        let meta =
            [("functional_category", row.get(functional).trim()), ("tags", tags.map_or("", |c| row.get(c).trim()))];
        let case = out.single(id.to_string(), &prompt, CaseKind::Harmful, category, &at, &meta);
        out.push(case, "BehaviorID", at)?;
    }
    if contextual > 0 {
        out.notes.push(format!(
            "{contextual} contextual behaviors: text is ContextString, then \"\\n\\n---\\n\\n\", then Behavior"
        ));
    }
    if copyright > 0 {
        out.notes.push(format!(
            "{copyright} copyright behaviors: HarmBench judges these by a hash check against reference texts (tag `hash_check`), not by a harm judge"
        ));
    }
    Ok(out)
}
