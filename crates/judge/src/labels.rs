//! Labeled responses for `evalgap judge-eval`: responses with a human (or declared machine) label,
//! to measure each judge against.
//!
//! Formats:
//! - JSONL, one item a line: `{"request": str, "response": str, "harmful": bool, "refused"?: bool,
//!   "style"?: str, "kind"?: "harmful"|"benign"}` (`kind` defaults to harmful);
//! - JailbreakBench attack-artifact JSON: `goal` is the request, `response` the response, and
//!   `jailbroken` the label (JailbreakBench's own judge: a machine label, and said so); null
//!   responses are skipped;
//! - CSV with named columns, chosen by the caller (`--request-col` etc.), so a labeling sheet works
//!   as it is. Label cells read `true/false`, `1/0`, `yes/no`, `harmful/unharmful`, `unsafe/safe`.

use evalgap_core::CaseKind;
use std::path::Path;

/// One labeled response.
#[derive(Debug, Clone, PartialEq)]
pub struct Labeled {
    pub request: String,
    pub response: String,
    pub kind: CaseKind,
    pub harmful: bool,
    pub refused: Option<bool>,
    pub style: Option<String>,
    /// file:line (or JSON pointer) of the item.
    pub source: String,
}

/// Where the label columns are in a CSV.
#[derive(Debug, Clone)]
pub struct CsvColumns {
    pub request: String,
    pub response: String,
    pub harmful: String,
    pub refused: Option<String>,
    pub style: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{at}: field `{field}`: {why}")]
    Bad { at: String, field: String, why: String },
    #[error("{0}: unknown label file format; use JSONL, a JailbreakBench artifact JSON, or CSV with --request-col/--response-col/--harmful-col")]
    UnknownFormat(String),
}

/// A label cell as a bool.
pub fn parse_label(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "harmful" | "unsafe" | "jailbroken" | "complied" => Some(true),
        "false" | "0" | "no" | "n" | "unharmful" | "harmless" | "safe" | "refused" | "not_harmful" => Some(false),
        _ => None,
    }
}

/// Reads labeled responses; `csv` names the columns when the file is a CSV.
pub fn load(path: &Path, csv: Option<&CsvColumns>) -> Result<Vec<Labeled>, LabelError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| LabelError::Io(name.clone(), e))?;
    let text = String::from_utf8(bytes).map_err(|e| LabelError::Bad {
        at: name.clone(),
        field: "(file)".into(),
        why: format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if let Some(cols) = csv {
        return load_csv(&name, text, cols);
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
            if v.get("jailbreaks").is_some() {
                return load_jbb(&name, &v);
            }
        }
        return load_jsonl(&name, text);
    }
    Err(LabelError::UnknownFormat(name))
}

fn bad(at: String, field: &str, why: impl Into<String>) -> LabelError {
    LabelError::Bad { at, field: field.into(), why: why.into() }
}

fn load_jsonl(name: &str, text: &str) -> Result<Vec<Labeled>, LabelError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{name}:{}", i + 1);
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(at.clone(), "(line)", e.to_string()))?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let request = s("request").ok_or_else(|| bad(at.clone(), "request", "missing or not a string"))?;
        let response = s("response").ok_or_else(|| bad(at.clone(), "response", "missing or not a string"))?;
        let harmful = v
            .get("harmful")
            .and_then(|x| x.as_bool())
            .ok_or_else(|| bad(at.clone(), "harmful", "missing or not a bool"))?;
        let kind = match s("kind") {
            None => CaseKind::Harmful,
            Some(k) => CaseKind::parse(&k)
                .ok_or_else(|| bad(at.clone(), "kind", format!("`{k}` is not harmful, benign or factual")))?,
        };
        out.push(Labeled {
            request,
            response,
            kind,
            harmful,
            refused: v.get("refused").and_then(|x| x.as_bool()),
            style: s("style"),
            source: at,
        });
    }
    Ok(out)
}

fn load_jbb(name: &str, v: &serde_json::Value) -> Result<Vec<Labeled>, LabelError> {
    let items = v["jailbreaks"].as_array().ok_or_else(|| bad(name.into(), "jailbreaks", "not an array"))?;
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let at = format!("{name} (/jailbreaks/{i})");
        let Some(response) = it.get("response").and_then(|r| r.as_str()) else { continue };
        let request = it.get("goal").and_then(|g| g.as_str()).ok_or_else(|| bad(at.clone(), "goal", "missing"))?;
        let harmful =
            it.get("jailbroken").and_then(|j| j.as_bool()).ok_or_else(|| bad(at.clone(), "jailbroken", "missing"))?;
        out.push(Labeled {
            request: request.into(),
            response: response.into(),
            kind: CaseKind::Harmful,
            harmful,
            refused: None,
            style: it.get("category").and_then(|c| c.as_str()).map(str::to_string),
            source: at,
        });
    }
    Ok(out)
}

fn load_csv(name: &str, text: &str, cols: &CsvColumns) -> Result<Vec<Labeled>, LabelError> {
    let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| bad(format!("{name}:1"), "(header)", e.to_string()))?.clone();
    let find = |c: &str| {
        headers.iter().position(|h| h == c).ok_or_else(|| {
            bad(
                format!("{name}:1"),
                c,
                format!("no such column; columns are: {}", headers.iter().collect::<Vec<_>>().join(", ")),
            )
        })
    };
    let (req, resp, harm) = (find(&cols.request)?, find(&cols.response)?, find(&cols.harmful)?);
    let refused = cols.refused.as_deref().map(find).transpose()?;
    let style = cols.style.as_deref().map(find).transpose()?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(name.into(), "(record)", e.to_string()))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let at = format!("{name}:{line}");
        let cell = |i: usize| rec.get(i).unwrap_or("").to_string();
        let harmful = parse_label(&cell(harm))
            .ok_or_else(|| bad(at.clone(), &cols.harmful, format!("`{}` is not a label", cell(harm))))?;
        out.push(Labeled {
            request: cell(req),
            response: cell(resp),
            kind: CaseKind::Harmful,
            harmful,
            refused: refused.map(|i| parse_label(&cell(i)).unwrap_or(false)),
            style: style.map(cell).filter(|s| !s.is_empty()),
            source: at,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(name);
        std::fs::write(&p, text).unwrap();
        (d, p)
    }

    #[test]
    fn reads_jsonl_jbb_and_csv() {
        let (_d, p) = write("l.jsonl", "{\"request\":\"r\",\"response\":\"[placeholder]\",\"harmful\":true,\"style\":\"hedged\"}\n\n{\"request\":\"r2\",\"response\":\"no\",\"harmful\":false,\"refused\":true,\"kind\":\"benign\"}\n");
        let l = load(&p, None).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(
            (l[0].harmful, l[0].style.as_deref(), l[1].kind, l[1].refused),
            (true, Some("hedged"), CaseKind::Benign, Some(true))
        );
        assert!(l[1].source.ends_with(":3"));

        let (_d, p) = write(
            "a.json",
            r#"{"parameters":{},"jailbreaks":[{"goal":"g","response":null,"jailbroken":false},{"goal":"g2","response":"x","jailbroken":true,"category":"Privacy"}]}"#,
        );
        let l = load(&p, None).unwrap();
        assert_eq!(l.len(), 1, "null responses skipped");
        assert_eq!((l[0].request.as_str(), l[0].harmful), ("g2", true));

        let (_d, p) = write("s.csv", "prompt,answer,label,kind\nq,\"a, with comma\",unsafe,quiet\nq2,b,safe,\n");
        let cols = CsvColumns {
            request: "prompt".into(),
            response: "answer".into(),
            harmful: "label".into(),
            refused: None,
            style: Some("kind".into()),
        };
        let l = load(&p, Some(&cols)).unwrap();
        assert_eq!((l[0].response.as_str(), l[0].harmful, l[1].harmful), ("a, with comma", true, false));
        assert_eq!(l[1].style, None);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let (_d, p) = write(
            "l.jsonl",
            "{\"request\":\"r\",\"response\":\"x\",\"harmful\":true}\n{\"request\":\"r\",\"response\":\"x\"}\n",
        );
        let e = load(&p, None).unwrap_err().to_string();
        assert!(e.contains("l.jsonl:2") && e.contains("harmful"), "{e}");
        let (_d, p) = write("s.csv", "a,b\n1,2\n");
        let cols = CsvColumns {
            request: "a".into(),
            response: "b".into(),
            harmful: "label".into(),
            refused: None,
            style: None,
        };
        let e = load(&p, Some(&cols)).unwrap_err().to_string();
        assert!(e.contains("label") && e.contains("columns are: a, b"), "{e}");
    }
}
