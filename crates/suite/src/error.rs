//! Errors of suite loading. Every error about input names the file, the line (the line a record starts
//! on, 1-based; JSON errors add the JSON pointer of the record) and, where one is involved, the field.

use std::fmt;

/// Where in an input a problem is: `file:line`, or `file:line (/json/pointer)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The path as given to [`crate::load`], or `builtin:NAME`.
    pub file: String,
    /// 1-based line; for a record, the line it starts on.
    pub line: u64,
    /// JSON pointer of the record, for JSON documents.
    pub pointer: Option<String>,
}

impl Location {
    pub fn new(file: impl Into<String>, line: u64) -> Self {
        Self { file: file.into(), line, pointer: None }
    }

    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(p) = &self.pointer {
            write!(f, " ({p})")?;
        }
        Ok(())
    }
}

fn backticked(items: &[String]) -> String {
    items.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
}

/// Why a suite could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// `builtin:NAME` with a NAME that is not built in.
    #[error("unknown built-in suite `builtin:{name}`; known: {}", known.iter().map(|k| format!("builtin:{k}")).collect::<Vec<_>>().join(", "))]
    UnknownBuiltin { name: String, known: Vec<String> },

    /// A format name (e.g. from `--format`) that is not known.
    #[error("unknown format `{name}`; known formats: {}", crate::Format::known_list())]
    UnknownFormatName { name: String },

    /// The format of a file could not be detected from its header, keys or first line.
    #[error(
        "{at}: cannot tell the format: {reason}; known formats: {}; pass `--format NAME` to choose one",
        crate::Format::known_list()
    )]
    UnknownFormat { at: Location, reason: String },

    /// Bytes that are not UTF-8.
    #[error("{at}: {}invalid UTF-8 (byte 0x{byte:02x} at column {column})", field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
    InvalidUtf8 { at: Location, field: Option<String>, byte: u8, column: u64 },

    /// CSV that does not parse: an unclosed quote, text after a closing quote, a record with the wrong
    /// number of fields.
    #[error("{at}: {}malformed CSV: {message}", field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
    Csv { at: Location, field: Option<String>, message: String },

    /// JSON (a whole document, or one JSONL line) that does not parse.
    #[error("{at}: malformed JSON: {message}")]
    Json { at: Location, message: String },

    /// A required CSV column is absent from the header.
    #[error("{at}: missing column `{column}`; columns found: {}", backticked(found))]
    MissingColumn { at: Location, column: String, found: Vec<String> },

    /// A prompt field that is empty or only whitespace.
    #[error("{at}: field `{field}`: empty text")]
    EmptyText { at: Location, field: String },

    /// Two records with the same case id.
    #[error("{at}: field `{field}`: duplicate id `{id}` (first used at line {first_line})")]
    DuplicateId { at: Location, field: String, id: String, first_line: u64 },

    /// A field with a missing, mistyped, unknown or invalid value.
    #[error("{at}: field `{field}`: {message}")]
    InvalidField { at: Location, field: String, message: String },

    /// A file in a known format that holds no requests to test (e.g. AdvBench `harmful_strings.csv`).
    #[error("{at}: field `{field}`: {message}")]
    NotRequests { at: Location, field: String, message: String },

    /// A file that parsed but yielded no case.
    #[error("{at}: no cases{}", if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) })]
    NoCases { at: Location, notes: Vec<String> },
}

impl SuiteError {
    /// Where the problem is, for errors about input.
    pub fn location(&self) -> Option<&Location> {
        match self {
            SuiteError::Io { .. } | SuiteError::UnknownBuiltin { .. } | SuiteError::UnknownFormatName { .. } => None,
            SuiteError::UnknownFormat { at, .. }
            | SuiteError::InvalidUtf8 { at, .. }
            | SuiteError::Csv { at, .. }
            | SuiteError::Json { at, .. }
            | SuiteError::MissingColumn { at, .. }
            | SuiteError::EmptyText { at, .. }
            | SuiteError::DuplicateId { at, .. }
            | SuiteError::InvalidField { at, .. }
            | SuiteError::NotRequests { at, .. }
            | SuiteError::NoCases { at, .. } => Some(at),
        }
    }

    /// The field concerned, where there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            SuiteError::InvalidUtf8 { field, .. } | SuiteError::Csv { field, .. } => field.as_deref(),
            SuiteError::MissingColumn { column, .. } => Some(column),
            SuiteError::EmptyText { field, .. }
            | SuiteError::DuplicateId { field, .. }
            | SuiteError::InvalidField { field, .. }
            | SuiteError::NotRequests { field, .. } => Some(field),
            _ => None,
        }
    }

    pub(crate) fn invalid(at: Location, field: &str, message: impl Into<String>) -> Self {
        SuiteError::InvalidField { at, field: field.to_string(), message: message.into() }
    }
}
