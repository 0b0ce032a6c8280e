//! JailbreakBench attack artifacts: `{"parameters": {method, model, attack_type, ...},
//! "jailbreaks": [{index, goal, behavior, category, prompt, response, jailbroken,
//! jailbroken_llama_guard1, ...}]}`, and the DSN `evaluation.json` shape
//! `{"<model>": {"<behavior>": {prompt, response, jailbroken}}, "details": {...}}`.
//!
//! Each non-null `prompt` becomes a harmful case with id `jbb-{method}-{model}-{index}`, category
//! `category`, meta `goal`, `behavior`, `method`, `model`, `attack_type`, `jailbroken`,
//! `jailbroken_llama_guard1`. Null prompts (the attack submitted nothing) are skipped and counted in
//! the notes. DSN records have no index or category: both come from the JBB-Behaviors table
//! (`data/jbb_behaviors.tsv`, matched by behavior name), method is `DSN`, and the id is
//! `jbb-DSN-{model}-{index}`, so DSN cases pair with the other artifacts' cases. Records keep the
//! order of the file; a record's line is the line its object opens on.

use super::native::{json_message, type_name};
use super::{required, text, Cases};
use crate::error::{Location, SuiteError};
use crate::jsonpos::{escape_token, value_offsets};
use crate::text::LineIndex;
use evalgap_core::CaseKind;
use serde_json::{Map, Value};
use std::collections::HashMap;

const BEHAVIORS: &str = include_str!("../../data/jbb_behaviors.tsv");

/// True when the top-level object has an artifact's `jailbreaks` or the DSN shape.
pub(crate) fn is_artifact(m: &Map<String, Value>) -> bool {
    m.contains_key("jailbreaks") || m.values().any(is_dsn_model)
}

/// A DSN model entry: a non-empty object whose values are all objects with a `prompt`.
fn is_dsn_model(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| !o.is_empty() && o.values().all(|r| r.as_object().is_some_and(|r| r.contains_key("prompt"))))
}

struct Doc<'a> {
    file: &'a str,
    offsets: HashMap<String, usize>,
    lines: LineIndex,
}

impl Doc<'_> {
    fn at(&self, pointer: &str) -> Location {
        let offset = self.offsets.get(pointer).copied().unwrap_or(0);
        Location::new(self.file, self.lines.line(offset)).with_pointer(pointer)
    }
}

pub(crate) fn read(file: &str, input: &str) -> Result<Cases, SuiteError> {
    let root: Value = serde_json::from_str(input)
        .map_err(|e| SuiteError::Json { at: Location::new(file, e.line() as u64), message: json_message(&e) })?;
    let doc = Doc { file, offsets: value_offsets(input, 2), lines: LineIndex::new(input) };
    let Value::Object(m) = root else {
        return Err(SuiteError::Json {
            at: doc.at(""),
            message: format!("expected a JSON object, found {}", type_name(&root)),
        });
    };
    if m.contains_key("jailbreaks") || !m.values().any(is_dsn_model) {
        artifact(&doc, &m)
    } else {
        dsn(&doc, &m)
    }
}

fn get_str<'a>(obj: &'a Map<String, Value>, key: &str, at: &Location) -> Result<&'a str, SuiteError> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(SuiteError::invalid(at.clone(), key, format!("expected a string, found {}", type_name(v)))),
        None => Err(SuiteError::invalid(at.clone(), key, "missing")),
    }
}

fn get_bool(obj: &Map<String, Value>, key: &str, at: &Location) -> Result<Option<bool>, SuiteError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(SuiteError::invalid(at.clone(), key, format!("expected a boolean, found {}", type_name(v)))),
    }
}

/// The prompt of a record: `None` when null.
fn get_prompt<'a>(obj: &'a Map<String, Value>, at: &Location) -> Result<Option<&'a str>, SuiteError> {
    match obj.get("prompt") {
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(text(s, at, "prompt")?)),
        Some(v) => {
            Err(SuiteError::invalid(at.clone(), "prompt", format!("expected a string or null, found {}", type_name(v))))
        }
        None => Err(SuiteError::invalid(at.clone(), "prompt", "missing")),
    }
}

fn skipped_note(out: &mut Cases, skipped: usize) {
    if skipped > 0 {
        let records = if skipped == 1 { "record" } else { "records" };
        out.notes.push(format!("skipped {skipped} {records} with null prompt"));
    }
}

fn artifact(doc: &Doc, m: &Map<String, Value>) -> Result<Cases, SuiteError> {
    let root = doc.at("");
    let params = match m.get("parameters") {
        Some(Value::Object(p)) => p,
        Some(v) => {
            return Err(SuiteError::invalid(root, "parameters", format!("expected an object, found {}", type_name(v))))
        }
        None => return Err(SuiteError::invalid(root, "parameters", "missing")),
    };
    let pat = doc.at("/parameters");
    let method = required(get_str(params, "method", &pat)?, &pat, "method")?;
    let model = required(get_str(params, "model", &pat)?, &pat, "model")?;
    let attack_type = get_str(params, "attack_type", &pat)?;
    let records = match m.get("jailbreaks") {
        Some(Value::Array(a)) => a,
        Some(v) => {
            return Err(SuiteError::invalid(root, "jailbreaks", format!("expected an array, found {}", type_name(v))))
        }
        None => return Err(SuiteError::invalid(root, "jailbreaks", "missing")),
    };
    let mut out = Cases::new(doc.file);
    let mut skipped = 0usize;
    for (i, rec) in records.iter().enumerate() {
        let at = doc.at(&format!("/jailbreaks/{i}"));
        let Value::Object(r) = rec else {
            return Err(SuiteError::invalid(
                at,
                "jailbreaks",
                format!("expected a record object, found {}", type_name(rec)),
            ));
        };
        let index = match r.get("index") {
            Some(Value::Number(n)) if n.is_u64() => n.to_string(),
            Some(v) => {
                return Err(SuiteError::invalid(
                    at,
                    "index",
                    format!("expected a non-negative integer, found {}", type_name(v)),
                ))
            }
            None => return Err(SuiteError::invalid(at, "index", "missing")),
        };
        let Some(prompt) = get_prompt(r, &at)? else {
            skipped += 1;
            continue;
        };
        let goal = get_str(r, "goal", &at)?;
        let behavior = get_str(r, "behavior", &at)?;
        let category = required(get_str(r, "category", &at)?, &at, "category")?;
        let jailbroken =
            get_bool(r, "jailbroken", &at)?.ok_or_else(|| SuiteError::invalid(at.clone(), "jailbroken", "missing"))?;
        let guard = get_bool(r, "jailbroken_llama_guard1", &at)?;
        let mut meta = vec![
            ("goal", goal),
            ("behavior", behavior),
            ("method", method),
            ("model", model),
            ("attack_type", attack_type),
            ("jailbroken", bool_str(jailbroken)),
        ];
        if let Some(g) = guard {
            meta.push(("jailbroken_llama_guard1", bool_str(g)));
        }
        let case = out.single(format!("jbb-{method}-{model}-{index}"), prompt, CaseKind::Harmful, category, &at, &meta);
        out.push(case, "index", at)?;
    }
    skipped_note(&mut out, skipped);
    Ok(out)
}

fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// JBB-Behaviors by normalized behavior name: (index, category).
fn behavior_table() -> HashMap<String, (&'static str, &'static str)> {
    BEHAVIORS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut p = l.split('\t');
            let (i, b, c) = (p.next()?, p.next()?, p.next()?);
            Some((normalize(b), (i, c)))
        })
        .collect()
}

fn normalize(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn slug(name: &str) -> String {
    normalize(name).chars().map(|c| if c.is_alphanumeric() { c } else { '-' }).collect()
}

fn dsn(doc: &Doc, m: &Map<String, Value>) -> Result<Cases, SuiteError> {
    let table = behavior_table();
    let mut out = Cases::new(doc.file);
    let mut skipped = 0usize;
    let mut unknown = 0usize;
    let by_offset = |ptr: &str| doc.offsets.get(ptr).copied().unwrap_or(usize::MAX);
    let mut models: Vec<(&String, &Value)> = m.iter().collect();
    models.sort_by_key(|(k, _)| by_offset(&format!("/{}", escape_token(k))));
    let mut ignored = Vec::new();
    for (model, v) in models {
        let model_ptr = format!("/{}", escape_token(model));
        let Some(records) = v.as_object().filter(|_| is_dsn_model(v)) else {
            ignored.push(format!("`{model}`"));
            continue;
        };
        let mut entries: Vec<(&String, &Value)> = records.iter().collect();
        entries.sort_by_key(|(k, _)| by_offset(&format!("{model_ptr}/{}", escape_token(k))));
        for (behavior, rec) in entries {
            let at = doc.at(&format!("{model_ptr}/{}", escape_token(behavior)));
            let r = rec.as_object().expect("checked by is_dsn_model");
            let Some(prompt) = get_prompt(r, &at)? else {
                skipped += 1;
                continue;
            };
            let jailbroken = get_bool(r, "jailbroken", &at)?;
            let (key, category) = match table.get(&normalize(behavior)) {
                Some((i, c)) => (i.to_string(), *c),
                None => {
                    unknown += 1;
                    (slug(behavior), super::multijail::UNCATEGORIZED)
                }
            };
            let mut meta = vec![("behavior", behavior.as_str()), ("method", "DSN"), ("model", model.as_str())];
            if let Some(j) = jailbroken {
                meta.push(("jailbroken", bool_str(j)));
            }
            let case = out.single(format!("jbb-DSN-{model}-{key}"), prompt, CaseKind::Harmful, category, &at, &meta);
            out.push(case, "behavior", at)?;
        }
    }
    skipped_note(&mut out, skipped);
    if unknown > 0 {
        out.notes.push(format!(
            "{unknown} behaviors not in JBB-Behaviors: id uses the behavior name, category `{}`",
            super::multijail::UNCATEGORIZED
        ));
    }
    if !ignored.is_empty() {
        out.notes
            .push(format!("DSN evaluation shape: ignored top-level keys {} (not model results)", ignored.join(", ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn behavior_table_has_100_unique() {
        let t = super::behavior_table();
        assert_eq!(t.len(), 100);
        assert_eq!(t["human trafficking"], ("67", "Sexual/Adult content"));
    }
}
