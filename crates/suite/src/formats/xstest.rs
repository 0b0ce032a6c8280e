//! XSTest `xstest_prompts.csv`: `id,prompt,type,label,focus,note`.
//!
//! label `safe` -> benign (over-refusal test), `unsafe` -> harmful (the contrast prompts);
//! id = `xstest-{id}`, category = `type`, meta `focus`, `note`, `label`.

use super::{required, text, Cases};
use crate::error::SuiteError;
use crate::table::Table;
use evalgap_core::CaseKind;

pub(crate) fn read(file: &str, input: &str) -> Result<Cases, SuiteError> {
    let t = Table::parse(file, input)?;
    let id = t.col("id")?;
    let prompt = t.col("prompt")?;
    let typ = t.col("type")?;
    let label = t.col("label")?;
    let focus = t.find("focus");
    let note = t.find("note");
    let mut out = Cases::new(file);
    for row in &t.rows {
        let at = t.at(row);
        let p = text(row.get(prompt), &at, "prompt")?;
        let i = required(row.get(id), &at, "id")?;
        let category = required(row.get(typ), &at, "type")?;
        let l = required(row.get(label), &at, "label")?;
        let kind = match l.to_ascii_lowercase().as_str() {
            "safe" => CaseKind::Benign,
            "unsafe" => CaseKind::Harmful,
            _ => return Err(SuiteError::invalid(at, "label", format!("expected `safe` or `unsafe`, found `{l}`"))),
        };
        let meta =
            [("focus", focus.map_or("", |c| row.get(c))), ("note", note.map_or("", |c| row.get(c))), ("label", l)];
        let case = out.single(format!("xstest-{i}"), p, kind, category, &at, &meta);
        out.push(case, "id", at)?;
    }
    Ok(out)
}
