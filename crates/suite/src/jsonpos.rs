//! Where values start in a JSON document: JSON pointer -> byte offset, for values down to a given
//! depth. `serde_json::Value` keeps no positions; this scan gives records their line numbers and keeps
//! the file's key order. It runs only on text that `serde_json` has already parsed.

use std::collections::HashMap;

/// Byte offsets of the values of `text` at depth `<= max_depth` (the root has depth 0), by pointer.
pub(crate) fn value_offsets(text: &str, max_depth: usize) -> HashMap<String, usize> {
    let mut scan = Scan { b: text.as_bytes(), pos: 0, max_depth, out: HashMap::new() };
    let mut pointer = String::new();
    scan.value(&mut pointer, 0);
    scan.out
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub(crate) fn escape_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

struct Scan<'a> {
    b: &'a [u8],
    pos: usize,
    max_depth: usize,
    out: HashMap<String, usize>,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.pos < self.b.len() && self.b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(0)
    }

    /// Skips a string starting at `pos` (on its opening quote); returns its raw slice with quotes.
    fn string(&mut self) -> &str {
        let start = self.pos;
        self.pos += 1;
        while self.pos < self.b.len() {
            match self.b[self.pos] {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    break;
                }
                _ => self.pos += 1,
            }
        }
        std::str::from_utf8(&self.b[start..self.pos.min(self.b.len())]).unwrap_or("\"\"")
    }

    fn value(&mut self, pointer: &mut String, depth: usize) {
        self.ws();
        if depth <= self.max_depth {
            self.out.insert(pointer.clone(), self.pos);
        }
        match self.peek() {
            b'{' => {
                self.pos += 1;
                loop {
                    self.ws();
                    match self.peek() {
                        b'}' | 0 => {
                            self.pos += 1;
                            return;
                        }
                        b',' => self.pos += 1,
                        b'"' => {
                            let raw = self.string();
                            let key: String = serde_json::from_str(raw).unwrap_or_default();
                            self.ws();
                            self.pos += 1; // ':'
                            let len = pointer.len();
                            pointer.push('/');
                            pointer.push_str(&escape_token(&key));
                            self.value(pointer, depth + 1);
                            pointer.truncate(len);
                        }
                        _ => self.pos += 1,
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let mut i = 0usize;
                loop {
                    self.ws();
                    match self.peek() {
                        b']' | 0 => {
                            self.pos += 1;
                            return;
                        }
                        b',' => self.pos += 1,
                        _ => {
                            let len = pointer.len();
                            pointer.push('/');
                            pointer.push_str(&i.to_string());
                            self.value(pointer, depth + 1);
                            pointer.truncate(len);
                            i += 1;
                        }
                    }
                }
            }
            b'"' => {
                self.string();
            }
            _ => {
                while self.pos < self.b.len()
                    && !matches!(self.b[self.pos], b',' | b'}' | b']')
                    && !self.b[self.pos].is_ascii_whitespace()
                {
                    self.pos += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_of_nested_values() {
        let t = "{\n \"a\": [\n  {\"x\": \"]}\\\"\"},\n  {\"y\": 2}\n ],\n \"b/c\": {\"k\": null}\n}";
        let o = value_offsets(t, 2);
        assert_eq!(o[""], 0);
        assert_eq!(&t[o["/a/0"]..o["/a/0"] + 6], "{\"x\": ");
        assert_eq!(&t[o["/a/1"]..o["/a/1"] + 5], "{\"y\":");
        assert_eq!(&t[o["/b~1c/k"]..o["/b~1c/k"] + 4], "null");
        assert!(!o.contains_key("/a/1/y"));
    }
}
