//! evalgap's native JSONL: one case per line (blank lines allowed). See `FORMAT.md`.
//!
//! ```text
//! {"id": "...", "text": "..." | "turns": [{"role": "...", "content": "..."}],
//!  "kind": "harmful|benign|factual", "category": "...", "language"?: "en",
//!  "expected"?: "...", "meta"?: {"key": "value"}}
//! ```

use super::{required, text, Cases};
use crate::error::{Location, SuiteError};
use evalgap_core::{Case, CaseKind, Message, Role, Source};
use serde_json::{Map, Value};

/// The keys a native case may have.
pub const KEYS: [&str; 8] = ["id", "text", "turns", "kind", "category", "language", "expected", "meta"];

pub(crate) fn read(file: &str, input: &str) -> Result<Cases, SuiteError> {
    let mut out = Cases::new(file);
    for (i, raw) in input.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let at = Location::new(file, i as u64 + 1);
        let value: Value =
            serde_json::from_str(line).map_err(|e| SuiteError::Json { at: at.clone(), message: json_message(&e) })?;
        let Value::Object(obj) = value else {
            return Err(SuiteError::Json {
                at,
                message: format!("expected one JSON object per line, found {}", type_name(&value)),
            });
        };
        let mut case = case_of(&obj, &at)?;
        case.source = Source { file: file.to_string(), line: at.line };
        out.push(case, "id", at)?;
    }
    Ok(out)
}

/// serde_json's message with its position rewritten as a column of the line (the line is ours).
pub(crate) fn json_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match s.strip_suffix(&suffix) {
        Some(m) => format!("{m} (column {})", e.column()),
        None => s,
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string<'a>(obj: &'a Map<String, Value>, key: &str, at: &Location) -> Result<Option<&'a str>, SuiteError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(SuiteError::invalid(at.clone(), key, format!("expected a string, found {}", type_name(v)))),
    }
}

fn need<'a>(obj: &'a Map<String, Value>, key: &str, at: &Location) -> Result<&'a str, SuiteError> {
    string(obj, key, at)?.ok_or_else(|| SuiteError::invalid(at.clone(), key, "missing"))
}

fn case_of(obj: &Map<String, Value>, at: &Location) -> Result<Case, SuiteError> {
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(SuiteError::invalid(at.clone(), k, format!("unknown key; known keys: {}", KEYS.join(", "))));
    }
    let id = required(need(obj, "id", at)?, at, "id")?.to_string();
    let kind_s = need(obj, "kind", at)?;
    let kind = CaseKind::parse(kind_s).ok_or_else(|| {
        SuiteError::invalid(at.clone(), "kind", format!("expected `harmful`, `benign` or `factual`, found `{kind_s}`"))
    })?;
    let category = required(need(obj, "category", at)?, at, "category")?.to_string();
    let language = match string(obj, "language", at)? {
        None => "en".to_string(),
        Some(l) => required(l, at, "language")?.to_string(),
    };
    let turns = match (obj.get("text"), obj.get("turns")) {
        (Some(_), Some(_)) => return Err(SuiteError::invalid(at.clone(), "turns", "give `text` or `turns`, not both")),
        (None, None) => return Err(SuiteError::invalid(at.clone(), "text", "missing (give `text` or `turns`)")),
        (Some(_), None) => vec![Message::user(text(need(obj, "text", at)?, at, "text")?)],
        (None, Some(t)) => turns_of(t, at)?,
    };
    let expected = string(obj, "expected", at)?;
    let expected = match (kind, expected) {
        (CaseKind::Factual, Some(e)) => Some(text(e, at, "expected")?.to_string()),
        (CaseKind::Factual, None) => {
            return Err(SuiteError::invalid(at.clone(), "expected", "missing (required for kind `factual`)"))
        }
        (_, Some(_)) => {
            return Err(SuiteError::invalid(
                at.clone(),
                "expected",
                format!("only kind `factual` may have an expected answer, this case is `{kind}`"),
            ))
        }
        (_, None) => None,
    };
    let mut meta = std::collections::BTreeMap::new();
    match obj.get("meta") {
        None => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let Value::String(s) = v else {
                    return Err(SuiteError::invalid(
                        at.clone(),
                        &format!("meta.{k}"),
                        format!("expected a string, found {}", type_name(v)),
                    ));
                };
                meta.insert(k.clone(), s.clone());
            }
        }
        Some(v) => {
            return Err(SuiteError::invalid(
                at.clone(),
                "meta",
                format!("expected an object of strings, found {}", type_name(v)),
            ))
        }
    }
    Ok(Case { id, turns, kind, category, language, expected, source: Source::default(), meta })
}

fn turns_of(v: &Value, at: &Location) -> Result<Vec<Message>, SuiteError> {
    let Value::Array(items) = v else {
        return Err(SuiteError::invalid(
            at.clone(),
            "turns",
            format!("expected an array of {{role, content}}, found {}", type_name(v)),
        ));
    };
    let mut turns = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = |k: &str| format!("turns[{i}].{k}");
        let Value::Object(m) = item else {
            return Err(SuiteError::invalid(
                at.clone(),
                &format!("turns[{i}]"),
                format!("expected an object {{role, content}}, found {}", type_name(item)),
            ));
        };
        if let Some(k) = m.keys().find(|k| !matches!(k.as_str(), "role" | "content")) {
            return Err(SuiteError::invalid(at.clone(), &field(k), "unknown key; known keys: role, content"));
        }
        let role = match m.get("role") {
            Some(Value::String(r)) => match r.as_str() {
                "system" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                "tool" => Role::Tool,
                other => {
                    return Err(SuiteError::invalid(
                        at.clone(),
                        &field("role"),
                        format!("expected `system`, `user`, `assistant` or `tool`, found `{other}`"),
                    ))
                }
            },
            Some(v) => {
                return Err(SuiteError::invalid(
                    at.clone(),
                    &field("role"),
                    format!("expected a string, found {}", type_name(v)),
                ))
            }
            None => return Err(SuiteError::invalid(at.clone(), &field("role"), "missing")),
        };
        let content = match m.get("content") {
            Some(Value::String(c)) => c,
            Some(v) => {
                return Err(SuiteError::invalid(
                    at.clone(),
                    &field("content"),
                    format!("expected a string, found {}", type_name(v)),
                ))
            }
            None => return Err(SuiteError::invalid(at.clone(), &field("content"), "missing")),
        };
        if role == Role::User {
            text(content, at, &field("content"))?;
        }
        turns.push(Message::new(role, content.clone()));
    }
    if !turns.iter().any(|m| m.role == Role::User) {
        return Err(SuiteError::invalid(at.clone(), "turns", "no `user` turn: a case needs a request"));
    }
    Ok(turns)
}
