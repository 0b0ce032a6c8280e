//! evalgap-suite: load suites of cases (built-in and the public formats) with precise errors.
//!
//! [`load`] takes `builtin:NAME` (see [`builtins`]) or a file path, and a [`Format`] or `None` to
//! detect it: from the extension `.jsonl`, from the first line (native JSONL), from the top-level
//! keys (JSON) or from the header columns (CSV). A UTF-8 byte order mark is stripped, prompt text is
//! never trimmed, and `\r` inside quoted CSV fields is kept. Every [`SuiteError`] about input names
//! the file, the line a record starts on (JSON errors add the record's JSON pointer) and the field.
//!
//! # Formats
//! | format | file | cases |
//! |---|---|---|
//! | `native` | evalgap JSONL, below | one per line |
//! | `harmbench` | `harmbench_behaviors_text_*.csv` | harmful; id `BehaviorID`; contextual text `ContextString + "\n\n---\n\n" + Behavior` |
//! | `advbench` | `harmful_behaviors.csv` | harmful; id `advbench-{row}` (0-based); `harmful_strings.csv` is refused: it holds outputs, not requests |
//! | `jbb-behaviors` | JBB-Behaviors CSV | id `jbb-{Index}`; harmful, or benign when the file name contains `benign` |
//! | `jbb-artifacts` | JailbreakBench attack artifact JSON, DSN `evaluation.json` | harmful, one per non-null prompt; id `jbb-{method}-{model}-{index}` |
//! | `xstest` | `xstest_prompts.csv` | label `safe` benign, `unsafe` harmful; id `xstest-{id}` |
//! | `strongreject` | `strongreject_dataset.csv` | harmful; id `strongreject-{row}` (0-based) |
//! | `multijail` | `MultiJail.csv` | harmful, one per row and language; id `multijail-{id}-{lang}`, meta `group` = row id |
//!
//! `FORMAT.md` (beside this crate's manifest) gives each format's fields, ids and meta keys.
//! `Source.file` is the path as given and `Source.line` the line the record starts on.
//!
//! # Native JSONL
//! One case per line; blank lines are allowed; unknown keys are an error that names the key.
//! ```text
//! {"id": "core-h-001", "text": "...", "kind": "harmful", "category": "cybercrime"}
//! {"id": "q-1", "turns": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."}],
//!  "kind": "factual", "category": "medicine", "language": "de", "expected": "...", "meta": {"k": "v"}}
//! ```
//! - `id` (string, unique in the file), `kind` (`harmful`, `benign` or `factual`) and `category`
//!   (string) are required.
//! - Exactly one of `text` (a string: one user message) or `turns` (an array of `{"role", "content"}`,
//!   role `system`, `user`, `assistant` or `tool`, with at least one `user` turn). User text must not
//!   be empty or blank.
//! - `language` is optional, `en` by default.
//! - `expected` (string) is required for `factual` cases and forbidden for the others.
//! - `meta` is optional: an object whose values are strings.
//!
//! # Versions and selection
//! [`Suite::version`] is the sha256 of the canonical content of the cases in order
//! ([`version_of`]); where a suite was read from does not change it. [`Selection`] picks all, the
//! first N, or a seeded sample of N cases.

mod builtin;
mod error;
mod format;
mod formats;
mod jsonpos;
mod selection;
mod table;
mod text;

pub use builtin::{builtins, BuiltinInfo};
pub use error::{Location, SuiteError};
pub use format::Format;
pub use formats::harmbench::CONTEXT_SEPARATOR;
pub use formats::multijail::parse_python_list;
pub use selection::Selection;

use evalgap_core::{sha256_hex, Case, CaseKind};

/// A named, versioned set of cases.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// The spec it was loaded from: `builtin:NAME` or the path as given.
    pub name: String,
    /// sha256 hex of the canonical content of its cases in order ([`version_of`]).
    pub version: String,
    pub cases: Vec<Case>,
    /// What the reader did that a user should know, e.g. `skipped 18 records with null prompt`.
    pub notes: Vec<String>,
}

impl Suite {
    /// A suite of `cases`, with its version computed.
    pub fn new(name: impl Into<String>, cases: Vec<Case>, notes: Vec<String>) -> Self {
        Self { name: name.into(), version: version_of(&cases), cases, notes }
    }

    /// Cases per kind, in [`CaseKind::ALL`] order, kinds with no case left out.
    pub fn by_kind(&self) -> Vec<(CaseKind, usize)> {
        CaseKind::ALL
            .iter()
            .map(|&k| (k, self.cases.iter().filter(|c| c.kind == k).count()))
            .filter(|&(_, n)| n > 0)
            .collect()
    }

    /// The distinct categories, sorted.
    pub fn categories(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> = self.cases.iter().map(|c| c.category.as_str()).collect();
        set.into_iter().map(String::from).collect()
    }
}

/// The version of a list of cases: sha256 hex of each case's [`Case::canonical`] bytes, each
/// followed by `\n` (canonical JSON holds no raw newline), in order.
pub fn version_of(cases: &[Case]) -> String {
    let mut bytes = Vec::new();
    for c in cases {
        bytes.extend_from_slice(&c.canonical());
        bytes.push(b'\n');
    }
    sha256_hex(&bytes)
}

/// Loads a suite: `builtin:NAME`, or a file path read in `format` (detected when `None`; the format
/// is not used for built-ins, which are native).
pub fn load(spec: &str, format: Option<Format>) -> Result<Suite, SuiteError> {
    if let Some(name) = spec.strip_prefix("builtin:") {
        return builtin::load(name);
    }
    let bytes = std::fs::read(spec).map_err(|source| SuiteError::Io { path: spec.to_string(), source })?;
    load_bytes(spec, &bytes, format)
}

/// Reads a suite from bytes; `file` names it in sources, errors and [`Suite::name`]. The file name
/// also matters for detection (`.jsonl`) and for JBB-Behaviors (`benign`).
pub fn load_bytes(file: &str, bytes: &[u8], format: Option<Format>) -> Result<Suite, SuiteError> {
    let bytes = text::strip_bom(bytes);
    let csv_like = format.map_or_else(|| !format::looks_like_json(file, bytes), Format::is_csv);
    let input = text::decode(file, bytes, csv_like)?;
    let format = match format {
        Some(f) => f,
        None => format::detect(file, input)?,
    };
    let read = formats::read(format, file, input)?;
    if read.cases.is_empty() {
        return Err(SuiteError::NoCases { at: Location::new(file, 1), notes: read.notes });
    }
    Ok(Suite::new(file, read.cases, read.notes))
}
