//! Bytes to text: BOM stripping, UTF-8 checking with a line to blame, and byte offset -> line.

use crate::error::{Location, SuiteError};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Strips a UTF-8 byte order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// Decodes `bytes` (BOM already stripped) as UTF-8, or names the line and column of the first bad
/// byte, and for CSV (`csv`) its column.
pub(crate) fn decode<'a>(file: &str, bytes: &'a [u8], csv: bool) -> Result<&'a str, SuiteError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let line_start = bytes[..offset].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        SuiteError::InvalidUtf8 {
            at: Location::new(file, line),
            field: if csv { crate::table::field_at_offset(bytes, offset) } else { None },
            byte: bytes[offset],
            column: (offset - line_start) as u64 + 1,
        }
    })
}

/// Maps byte offsets to 1-based line numbers.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    pub(crate) fn line(&self, offset: usize) -> u64 {
        self.starts.partition_point(|&s| s <= offset) as u64
    }
}

/// True when a prompt has no visible content (the prompt itself is never trimmed).
pub(crate) fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index() {
        let t = "ab\ncd\n\nef";
        let li = LineIndex::new(t);
        assert_eq!(li.line(0), 1);
        assert_eq!(li.line(2), 1);
        assert_eq!(li.line(3), 2);
        assert_eq!(li.line(6), 3);
        assert_eq!(li.line(7), 4);
    }

    #[test]
    fn bad_utf8_names_line_and_column() {
        let e = decode("f.txt", b"ok\nab\xffc\n", false).unwrap_err().to_string();
        assert_eq!(e, "f.txt:2: invalid UTF-8 (byte 0xff at column 3)");
    }
}
