//! One reader per format. Each turns decoded text (BOM stripped) into cases and notes.

pub(crate) mod advbench;
pub(crate) mod harmbench;
pub(crate) mod jbb_artifacts;
pub(crate) mod jbb_behaviors;
pub(crate) mod multijail;
pub(crate) mod native;
pub(crate) mod strongreject;
pub(crate) mod xstest;

use crate::error::{Location, SuiteError};
use crate::Format;
use evalgap_core::{Case, CaseKind, Source};
use std::collections::{BTreeMap, HashMap};

/// Reads `text` as `format`; `file` is the path as given (for sources and errors).
pub(crate) fn read(format: Format, file: &str, text: &str) -> Result<Cases, SuiteError> {
    match format {
        Format::Native => native::read(file, text),
        Format::HarmBench => harmbench::read(file, text),
        Format::AdvBench => advbench::read(file, text),
        Format::JbbBehaviors => jbb_behaviors::read(file, text),
        Format::JbbArtifacts => jbb_artifacts::read(file, text),
        Format::XsTest => xstest::read(file, text),
        Format::StrongReject => strongreject::read(file, text),
        Format::MultiJail => multijail::read(file, text),
    }
}

/// The cases read so far, with the line each id was first used on, and notes for the reader.
pub(crate) struct Cases {
    file: String,
    first_line: HashMap<String, u64>,
    pub cases: Vec<Case>,
    pub notes: Vec<String>,
}

impl Cases {
    pub fn new(file: &str) -> Self {
        Self { file: file.to_string(), first_line: HashMap::new(), cases: Vec::new(), notes: Vec::new() }
    }

    /// A single-turn case located at `at`; `meta` pairs are copied in.
    pub fn single(
        &self,
        id: String,
        text: &str,
        kind: CaseKind,
        category: &str,
        at: &Location,
        meta: &[(&str, &str)],
    ) -> Case {
        let mut case = Case::single(id, text, kind, category);
        case.source = Source { file: self.file.clone(), line: at.line };
        case.meta = meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        case
    }

    /// Adds a case, or fails naming both lines when its id was used before.
    pub fn push(&mut self, case: Case, id_field: &str, at: Location) -> Result<(), SuiteError> {
        if let Some(&first_line) = self.first_line.get(&case.id) {
            return Err(SuiteError::DuplicateId { at, field: id_field.to_string(), id: case.id, first_line });
        }
        self.first_line.insert(case.id.clone(), at.line);
        self.cases.push(case);
        Ok(())
    }
}

/// `value` when it has visible content, else an `EmptyText` error for `field`.
pub(crate) fn text<'a>(value: &'a str, at: &Location, field: &str) -> Result<&'a str, SuiteError> {
    if crate::text::is_blank(value) {
        Err(SuiteError::EmptyText { at: at.clone(), field: field.to_string() })
    } else {
        Ok(value)
    }
}

/// `value` trimmed, or an error when it is empty (ids, categories, labels).
pub(crate) fn required<'a>(value: &'a str, at: &Location, field: &str) -> Result<&'a str, SuiteError> {
    let v = value.trim();
    if v.is_empty() {
        Err(SuiteError::invalid(at.clone(), field, "empty value"))
    } else {
        Ok(v)
    }
}
