//! CSV tables: the `csv` crate (strict record lengths) behind a quote check that the crate itself
//! would let pass, so that a stray or unclosed quote is an error with a line instead of a silently
//! merged field.

use crate::error::{Location, SuiteError};
use crate::text::LineIndex;

#[derive(Debug)]
/// One data record: its 0-based index among data records and the line it starts on.
pub(crate) struct Row {
    pub index: usize,
    pub line: u64,
    pub record: csv::StringRecord,
}

impl Row {
    /// The field at column `col` (always present: record lengths are checked).
    pub fn get(&self, col: usize) -> &str {
        self.record.get(col).unwrap_or("")
    }
}

/// A parsed CSV file: its header and its records.
#[derive(Debug)]
pub(crate) struct Table {
    pub file: String,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

impl Table {
    /// Parses `text` (BOM already stripped). `\r` inside quoted fields is kept as it is.
    pub fn parse(file: &str, text: &str) -> Result<Table, SuiteError> {
        check_quotes(file, text)?;
        let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
        let lines = LineIndex::new(text);
        let start_line = |byte: u64| record_start_line(text, &lines, byte);
        let headers: Vec<String> =
            rdr.headers().map_err(|e| csv_error(file, None, e, &start_line))?.iter().map(String::from).collect();
        let mut rows = Vec::new();
        for (index, rec) in rdr.into_records().enumerate() {
            let record = rec.map_err(|e| csv_error(file, Some(&headers), e, &start_line))?;
            let line = record.position().map_or(0, |p| start_line(p.byte()));
            rows.push(Row { index, line, record });
        }
        Ok(Table { file: file.to_string(), headers, rows })
    }

    /// Column index of `name` (surrounding spaces in header cells are ignored).
    pub fn find(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h.trim() == name)
    }

    /// Column index of a required column, or an error that lists the columns found.
    pub fn col(&self, name: &str) -> Result<usize, SuiteError> {
        self.find(name).ok_or_else(|| SuiteError::MissingColumn {
            at: Location::new(&self.file, 1),
            column: name.to_string(),
            found: self.headers.clone(),
        })
    }

    /// Location of a row.
    pub fn at(&self, row: &Row) -> Location {
        Location::new(&self.file, row.line)
    }

    /// The trimmed header names, for format detection.
    pub fn header_set(text: &str) -> Vec<String> {
        let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
        rdr.headers().map(|h| h.iter().map(|c| c.trim().to_string()).collect()).unwrap_or_default()
    }
}

/// The line a record starts on. The `csv` crate's record position is where the previous record
/// ended (before the `\n` of a CRLF, before blank lines), so skip line ends first.
fn record_start_line(text: &str, lines: &LineIndex, byte: u64) -> u64 {
    let b = text.as_bytes();
    let mut i = byte as usize;
    while i < b.len() && matches!(b[i], b'\r' | b'\n') {
        i += 1;
    }
    lines.line(i.min(b.len().saturating_sub(1)))
}

fn csv_error(file: &str, headers: Option<&[String]>, e: csv::Error, start_line: &dyn Fn(u64) -> u64) -> SuiteError {
    let line = e.position().map_or(1, |p| start_line(p.byte()));
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            let cols = headers.map(|h| format!(" ({})", h.join(","))).unwrap_or_default();
            format!("record has {len} fields but the header has {expected_len}{cols}")
        }
        _ => e.to_string(),
    };
    SuiteError::Csv { at: Location::new(file, line), field: None, message }
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// RFC 4180 quote check: a quoted field must be closed, and a closing quote must be followed by a
/// delimiter or a record end (a literal quote inside a quoted field is doubled).
fn check_quotes(file: &str, text: &str) -> Result<(), SuiteError> {
    let mut state = State::FieldStart;
    let (mut line, mut record_line, mut open_line) = (1u64, 1u64, 1u64);
    let (mut record, mut field) = (0usize, 0usize);
    let fail = |record: usize, field: usize, record_line: u64, message: String| {
        let name = if record == 0 { None } else { Table::header_set(text).get(field).cloned() };
        let message = match name {
            Some(_) => message,
            None => format!("field {} of the record: {message}", field + 1),
        };
        Err(SuiteError::Csv { at: Location::new(file, record_line), field: name, message })
    };
    for b in text.bytes() {
        match (state, b) {
            (State::Quoted, b'"') => state = State::QuoteInQuoted,
            (State::Quoted, _) => {}
            (State::QuoteInQuoted, b'"') => state = State::Quoted,
            (State::FieldStart, b'"') => {
                state = State::Quoted;
                open_line = line;
            }
            (_, b',') => {
                field += 1;
                state = State::FieldStart;
            }
            (_, b'\r' | b'\n') => {
                if state != State::FieldStart || field > 0 {
                    record += 1;
                }
                field = 0;
                state = State::FieldStart;
                if b == b'\n' {
                    record_line = line + 1;
                }
            }
            (State::QuoteInQuoted, _) => {
                return fail(
                    record,
                    field,
                    record_line,
                    format!(
                        "text after a closing quote on line {line} (a quote inside a quoted field must be doubled: \"\")"
                    ),
                );
            }
            (State::FieldStart | State::Unquoted, _) => state = State::Unquoted,
        }
        if b == b'\n' {
            line += 1;
        }
    }
    if state == State::Quoted {
        return fail(
            record,
            field,
            record_line,
            format!("the quoted field opened on line {open_line} is never closed"),
        );
    }
    Ok(())
}

/// For a UTF-8 error at byte `offset` of a CSV file: the name of the column holding the bad byte.
pub(crate) fn field_at_offset(bytes: &[u8], offset: usize) -> Option<String> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(bytes);
    let headers = rdr.byte_headers().ok()?.clone();
    if rdr.position().byte() as usize > offset {
        return None;
    }
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec).ok()? {
        if offset < rdr.position().byte() as usize {
            let i = rec.iter().position(|f| std::str::from_utf8(f).is_err())?;
            return headers.get(i).map(|h| String::from_utf8_lossy(h).trim().to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_cr_inside_quotes_and_counts_record_lines() {
        let t = Table::parse("t.csv", "a,b\r\n\"x\r\ny\",1\r\n\"p\nq\",2").unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].get(0), "x\r\ny");
        assert_eq!(t.rows[0].line, 2);
        assert_eq!(t.rows[1].get(0), "p\nq");
        assert_eq!(t.rows[1].line, 4);
        let t = Table::parse("t.csv", "a,b\n\nx,1\n\n\ny,2\n").unwrap();
        let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 6]);
    }

    #[test]
    fn unclosed_quote() {
        let e = Table::parse("t.csv", "a,b\n1,2\n3,\"oops\n4,5\n").unwrap_err().to_string();
        assert!(e.starts_with("t.csv:3: field `b`: malformed CSV: the quoted field opened on line 3"), "{e}");
    }

    #[test]
    fn stray_quote() {
        let e = Table::parse("t.csv", "a,b\n1,\"say \"hi\" now\"\n").unwrap_err().to_string();
        assert!(e.starts_with("t.csv:2: field `b`: malformed CSV: text after a closing quote"), "{e}");
    }

    #[test]
    fn unequal_lengths() {
        let e = Table::parse("t.csv", "a,b\n1,2\n\"x\ny\",2,3\n").unwrap_err().to_string();
        assert_eq!(e, "t.csv:3: malformed CSV: record has 3 fields but the header has 2 (a,b)");
    }

    #[test]
    fn utf8_field() {
        let b = b"a,b\n1,2\n3,x\xffy\n";
        assert_eq!(field_at_offset(b, 12).as_deref(), Some("b"));
    }
}
