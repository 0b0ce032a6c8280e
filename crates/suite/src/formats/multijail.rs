//! MultiJail `MultiJail.csv`: `id,source,tags,en,zh,it,vi,ar,ko,th,bn,sw,jv` (UTF-8 with BOM).
//!
//! One harmful case per row and language column (every column other than `id`, `source`, `tags`),
//! row by row: id = `multijail-{id}-{lang}`, language = the column name, category = the first tag,
//! meta `tags` (the parsed tags as a JSON array), `source`, and `group` = the row id, which pairs the
//! same request across languages. `tags` is a Python list literal (`['Weapons', 'Theft']`), parsed
//! tolerantly by [`parse_python_list`].

use super::{required, text, Cases};
use crate::error::{Location, SuiteError};
use crate::table::Table;
use evalgap_core::CaseKind;

/// Category of a row whose tag list is empty.
pub const UNCATEGORIZED: &str = "uncategorized";

pub(crate) fn read(file: &str, input: &str) -> Result<Cases, SuiteError> {
    let t = Table::parse(file, input)?;
    let id = t.col("id")?;
    let tags = t.col("tags")?;
    let source = t.find("source");
    let langs: Vec<(usize, String)> = t
        .headers
        .iter()
        .enumerate()
        .filter(|(_, h)| !matches!(h.trim(), "id" | "source" | "tags"))
        .map(|(i, h)| (i, h.trim().to_string()))
        .collect();
    if langs.is_empty() {
        return Err(SuiteError::MissingColumn {
            at: Location::new(file, 1),
            column: "en".into(),
            found: t.headers.clone(),
        });
    }
    let mut out = Cases::new(file);
    for row in &t.rows {
        let at = t.at(row);
        let group = required(row.get(id), &at, "id")?;
        let tag_list = parse_python_list(row.get(tags));
        let category = tag_list.first().map_or(UNCATEGORIZED, String::as_str).to_string();
        let tags_json = serde_json::to_string(&tag_list).expect("json of strings");
        for (col, lang) in &langs {
            let p = text(row.get(*col), &at, lang)?;
            let meta = [("tags", tags_json.as_str()), ("source", source.map_or("", |c| row.get(c))), ("group", group)];
            let mut case = out.single(format!("multijail-{group}-{lang}"), p, CaseKind::Harmful, &category, &at, &meta);
            case.language = lang.clone();
            out.push(case, "id", at.clone())?;
        }
    }
    Ok(out)
}

/// Parses a Python list literal of strings tolerantly: `['a', "b"]`, `[a, b]`, `[]`, or a bare `a`
/// (one tag). Quoted items may hold commas and backslash escapes; empty items are dropped.
pub fn parse_python_list(s: &str) -> Vec<String> {
    let s = s.trim();
    let Some(inner) = s.strip_prefix('[').map(|x| x.strip_suffix(']').unwrap_or(x)) else {
        return if s.is_empty() { Vec::new() } else { vec![s.to_string()] };
    };
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let Some(&c) = chars.peek() else { break };
        let mut item = String::new();
        if c == '\'' || c == '"' {
            chars.next();
            while let Some(ch) = chars.next() {
                match ch {
                    '\\' => match chars.next() {
                        Some('n') => item.push('\n'),
                        Some('t') => item.push('\t'),
                        Some(other) => item.push(other),
                        None => {}
                    },
                    q if q == c => break,
                    other => item.push(other),
                }
            }
            // Anything between the closing quote and the next comma is ignored.
            while chars.next_if(|ch| *ch != ',').is_some() {}
        } else {
            while let Some(ch) = chars.next_if(|ch| *ch != ',') {
                item.push(ch);
            }
            item = item.trim().to_string();
        }
        if !item.trim().is_empty() {
            items.push(item);
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::parse_python_list as p;

    #[test]
    fn python_lists() {
        assert_eq!(p("['Weapons', 'Violence & incitement']"), ["Weapons", "Violence & incitement"]);
        assert_eq!(
            p("['Non-violent unethical behavior (e.g. lying, cheating, etc.)']"),
            ["Non-violent unethical behavior (e.g. lying, cheating, etc.)"]
        );
        assert_eq!(p("[\"it's\", 'a\\'b']"), ["it's", "a'b"]);
        assert_eq!(p("[a, b ]"), ["a", "b"]);
        assert_eq!(p("[]"), Vec::<String>::new());
        assert_eq!(p(""), Vec::<String>::new());
        assert_eq!(p("Theft"), ["Theft"]);
        assert_eq!(p("['unclosed"), ["unclosed"]);
    }
}
