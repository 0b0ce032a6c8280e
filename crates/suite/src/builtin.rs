//! The built-in suites: native JSONL compiled into the binary. Adding a suite is one line of
//! [`BUILTINS`] plus its data file under `data/`.

use crate::{Suite, SuiteError};
use evalgap_core::CaseKind;

/// One built-in suite.
pub(crate) struct Builtin {
    pub name: &'static str,
    pub description: &'static str,
    pub data: &'static str,
}

/// The registry: `builtin:NAME` loads the entry named NAME.
#[rustfmt::skip]
pub(crate) const BUILTINS: &[Builtin] = &[
    Builtin { name: "core", description: "Harmful requests over 11 harm categories, and benign-but-alarming requests over XSTest's safe types (over-refusal)", data: include_str!("../data/core.jsonl") },
    Builtin { name: "implicit-harm", description: "Benign high-stakes factual questions (medical, legal, financial, security) with expected answers: confident-wrong and correct rates", data: include_str!("../data/implicit_harm.jsonl") },
    Builtin { name: "multilingual", description: "The same 50 harmful and 50 benign core cases in English and 9 other languages (bn, sw, tr, ro, th, hi, ar, ru, zh), paired by meta.group: per-language refusal and the gap to English", data: include_str!("../data/multilingual.jsonl") },
];

/// What `evalgap suites` lists about a built-in suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinInfo {
    /// The NAME of `builtin:NAME`.
    pub name: String,
    pub description: String,
    pub cases: usize,
    /// Cases per kind, in [`CaseKind::ALL`] order, kinds with no case left out.
    pub by_kind: Vec<(CaseKind, usize)>,
    /// Number of distinct categories.
    pub categories: usize,
    pub version: String,
}

/// The known names, for messages.
pub(crate) fn names() -> Vec<String> {
    BUILTINS.iter().map(|b| b.name.to_string()).collect()
}

/// Loads `builtin:NAME`.
pub(crate) fn load(name: &str) -> Result<Suite, SuiteError> {
    let b = BUILTINS
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| SuiteError::UnknownBuiltin { name: name.to_string(), known: names() })?;
    crate::load_bytes(&format!("builtin:{}", b.name), b.data.as_bytes(), Some(crate::Format::Native))
}

/// Every built-in suite, with its counts and version.
pub fn builtins() -> Vec<BuiltinInfo> {
    BUILTINS
        .iter()
        .map(|b| {
            let suite = load(b.name).unwrap_or_else(|e| panic!("built-in suite is invalid: {e}"));
            BuiltinInfo {
                name: b.name.to_string(),
                description: b.description.to_string(),
                cases: suite.cases.len(),
                by_kind: suite.by_kind(),
                categories: suite.categories().len(),
                version: suite.version,
            }
        })
        .collect()
}
