//! The input formats, their names, and detection from header columns, top-level keys or first line.

use crate::error::{Location, SuiteError};
use crate::table::Table;
use std::fmt;

/// An input format that [`crate::load`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// evalgap's own JSONL (see `FORMAT.md`).
    Native,
    /// HarmBench behaviors CSV.
    HarmBench,
    /// AdvBench `harmful_behaviors.csv`.
    AdvBench,
    /// JailbreakBench JBB-Behaviors CSV (harmful or benign).
    JbbBehaviors,
    /// JailbreakBench attack artifact JSON (and the DSN `evaluation.json` shape).
    JbbArtifacts,
    /// XSTest `xstest_prompts.csv`.
    XsTest,
    /// StrongREJECT `strongreject_dataset.csv`.
    StrongReject,
    /// MultiJail `MultiJail.csv`.
    MultiJail,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Native,
        Format::HarmBench,
        Format::AdvBench,
        Format::JbbBehaviors,
        Format::JbbArtifacts,
        Format::XsTest,
        Format::StrongReject,
        Format::MultiJail,
    ];

    /// The name used on the command line (`--format NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::HarmBench => "harmbench",
            Format::AdvBench => "advbench",
            Format::JbbBehaviors => "jbb-behaviors",
            Format::JbbArtifacts => "jbb-artifacts",
            Format::XsTest => "xstest",
            Format::StrongReject => "strongreject",
            Format::MultiJail => "multijail",
        }
    }

    /// Parses a name; case, `-`, `_` and spaces are ignored (`JBB_Behaviors` works), and `jsonl`
    /// means native.
    pub fn parse(s: &str) -> Option<Format> {
        let key: String = s.chars().filter(|c| !matches!(c, '-' | '_' | ' ')).flat_map(char::to_lowercase).collect();
        match key.as_str() {
            "native" | "jsonl" | "evalgap" => Some(Format::Native),
            "harmbench" => Some(Format::HarmBench),
            "advbench" => Some(Format::AdvBench),
            "jbbbehaviors" | "jbb" => Some(Format::JbbBehaviors),
            "jbbartifacts" | "jbbartifact" => Some(Format::JbbArtifacts),
            "xstest" => Some(Format::XsTest),
            "strongreject" => Some(Format::StrongReject),
            "multijail" => Some(Format::MultiJail),
            _ => None,
        }
    }

    /// Like [`Format::parse`], with an error that lists the known names.
    pub fn parse_or_err(s: &str) -> Result<Format, SuiteError> {
        Format::parse(s).ok_or_else(|| SuiteError::UnknownFormatName { name: s.to_string() })
    }

    /// `native, harmbench, ...`: the known names, for messages.
    pub fn known_list() -> String {
        Format::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
    }

    /// True for the CSV formats.
    pub fn is_csv(self) -> bool {
        !matches!(self, Format::Native | Format::JbbArtifacts)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = SuiteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::parse_or_err(s)
    }
}

fn extension(file: &str) -> String {
    std::path::Path::new(file).extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}

/// True when the text starts like JSON (so a UTF-8 error is not blamed on a CSV column).
pub(crate) fn looks_like_json(file: &str, bytes: &[u8]) -> bool {
    matches!(extension(file).as_str(), "json" | "jsonl" | "ndjson")
        || matches!(bytes.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
}

/// Detects the format of `text` (BOM stripped) from the file extension (`.jsonl`), the first line
/// (native JSONL), the top-level keys (JSON) or the header columns (CSV).
pub(crate) fn detect(file: &str, text: &str) -> Result<Format, SuiteError> {
    let unknown = |line: u64, reason: String| SuiteError::UnknownFormat { at: Location::new(file, line), reason };
    let Some((first_idx, first)) = text.split('\n').enumerate().find(|(_, l)| !l.trim().is_empty()) else {
        return Err(unknown(1, "the file is empty".into()));
    };
    let first_line = first_idx as u64 + 1;
    let ext = extension(file);
    if matches!(ext.as_str(), "jsonl" | "ndjson") {
        return Ok(Format::Native);
    }
    if first.trim_start().starts_with(['{', '[']) {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str(first) {
            if m.contains_key("id") && (m.contains_key("text") || m.contains_key("turns")) {
                return Ok(Format::Native);
            }
        }
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(m)) => {
                if crate::formats::jbb_artifacts::is_artifact(&m) {
                    Ok(Format::JbbArtifacts)
                } else {
                    let keys: Vec<String> = m.keys().map(|k| format!("`{k}`")).collect();
                    Err(unknown(
                        first_line,
                        format!("a JSON document with top-level keys {}, which no format has", keys.join(", ")),
                    ))
                }
            }
            Ok(_) => Err(unknown(first_line, "a JSON document whose top level is not an object".into())),
            Err(e) if ext == "json" => Err(SuiteError::Json {
                at: Location::new(file, e.line() as u64),
                message: crate::formats::native::json_message(&e),
            }),
            Err(_) => Err(unknown(
                first_line,
                "the first line is JSON but not a native case (keys `id` and `text` or `turns`)".into(),
            )),
        };
    }
    let h = Table::header_set(text);
    let has = |c: &str| h.iter().any(|x| x == c);
    let format = if has("Behavior") && has("BehaviorID") {
        Format::HarmBench
    } else if (has("goal") && has("target")) || h == ["target"] {
        Format::AdvBench
    } else if has("Goal") && has("Behavior") && has("Category") {
        Format::JbbBehaviors
    } else if has("prompt") && has("type") && has("label") {
        Format::XsTest
    } else if has("forbidden_prompt") {
        Format::StrongReject
    } else if has("en") && has("tags") {
        Format::MultiJail
    } else {
        let cols: Vec<String> = h.iter().map(|c| format!("`{c}`")).collect();
        return Err(unknown(first_line, format!("a CSV header with columns {} matches no format", cols.join(", "))));
    };
    Ok(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.name()), Some(f));
        }
        assert_eq!(Format::parse("JBB_Behaviors"), Some(Format::JbbBehaviors));
        assert_eq!(Format::parse("nope"), None);
        let e = "nope".parse::<Format>().unwrap_err().to_string();
        assert!(e.contains("unknown format `nope`") && e.contains("harmbench, advbench"));
    }
}
