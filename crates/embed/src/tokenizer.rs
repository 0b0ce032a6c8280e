//! BERT-uncased WordPiece, as the Hugging Face fast tokenizer of all-MiniLM-L6-v2 runs it.
//!
//! Steps, in the order of `tokenizers`' `BertNormalizer` + `BertPreTokenizer` + `WordPiece`:
//! 1. the special tokens `[PAD] [UNK] [CLS] [SEP] [MASK]` written in the text are kept as tokens;
//! 2. clean: drop NUL, U+FFFD and control/format/unassigned/private-use chars (except `\t\n\r`),
//!    turn every whitespace char into a space;
//! 3. put spaces around CJK ideographs;
//! 4. strip accents (NFD, then drop non-spacing marks), then lowercase;
//! 5. split on whitespace, and split every punctuation char (ASCII punctuation or Unicode P*) off
//!    as a word of its own;
//! 6. WordPiece each word: greedy longest match first, continuation pieces prefixed `##`; a word
//!    longer than 100 chars, or one with any part not in the vocabulary, is a single `[UNK]`;
//! 7. `[CLS] ... [SEP]`, truncated so the whole is at most `max_len` tokens.

use crate::EmbedError;
use std::collections::HashMap;
use std::path::Path;
use unicode_general_category::{get_general_category, GeneralCategory as G};
use unicode_normalization::UnicodeNormalization;

const MAX_WORD_CHARS: usize = 100;
const SPECIAL: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

pub struct Tokenizer {
    /// Word-initial pieces.
    start: HashMap<String, u32>,
    /// Continuation pieces, without their `##`.
    cont: HashMap<String, u32>,
    special: [u32; 5],
    pub unk: u32,
    pub cls: u32,
    pub sep: u32,
    pub pad: u32,
}

impl Tokenizer {
    pub fn from_file(path: &Path) -> Result<Self, EmbedError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| EmbedError::Io { path: path.display().to_string(), source: e })?;
        Self::from_vocab(&text).map_err(|d| EmbedError::Format { file: path.display().to_string(), detail: d })
    }

    /// `vocab.txt`: one token a line, the id is the line number (0-based).
    pub fn from_vocab(text: &str) -> Result<Self, String> {
        let mut start = HashMap::new();
        let mut cont = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let tok = line.trim_end_matches('\r');
            let id = i as u32;
            match tok.strip_prefix("##") {
                Some(rest) if !rest.is_empty() => {
                    cont.entry(rest.to_string()).or_insert(id);
                }
                _ => {
                    start.entry(tok.to_string()).or_insert(id);
                }
            }
        }
        let get = |t: &str| start.get(t).copied().ok_or_else(|| format!("vocabulary has no {t}"));
        let special = [get(SPECIAL[0])?, get(SPECIAL[1])?, get(SPECIAL[2])?, get(SPECIAL[3])?, get(SPECIAL[4])?];
        Ok(Self { unk: special[1], cls: special[2], sep: special[3], pad: special[0], special, start, cont })
    }

    /// `[CLS] pieces [SEP]`, at most `max_len` ids (`max_len` >= 2).
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let budget = max_len.saturating_sub(2);
        let mut out = Vec::with_capacity(budget.min(64) + 2);
        out.push(self.cls);
        let mut rest = text;
        'outer: while !rest.is_empty() && out.len() - 1 < budget {
            // Split out the next special token written literally in the text.
            let next = SPECIAL.iter().enumerate().filter_map(|(k, s)| rest.find(s).map(|p| (p, k))).min();
            let (chunk, special) = match next {
                Some((p, k)) => (&rest[..p], Some(k)),
                None => (rest, None),
            };
            self.encode_chunk(chunk, &mut out, budget + 1);
            match special {
                Some(k) => {
                    if out.len() > budget {
                        break 'outer;
                    }
                    out.push(self.special[k]);
                    rest = &rest[chunk.len() + SPECIAL[k].len()..];
                }
                None => break,
            }
        }
        out.truncate(budget + 1);
        out.push(self.sep);
        out
    }

    /// Appends the pieces of `text` to `out` until `out` holds `limit` ids.
    fn encode_chunk(&self, text: &str, out: &mut Vec<u32>, limit: usize) {
        let mut word = String::new();
        for c in text.chars() {
            if out.len() >= limit {
                return;
            }
            let cp = c as u32;
            if cp == 0 || cp == 0xfffd || is_control(c) {
                continue;
            }
            if is_whitespace(c) {
                self.flush_word(&mut word, out, limit);
            } else if is_cjk(cp) {
                self.flush_word(&mut word, out, limit);
                word.push(c);
                self.flush_word(&mut word, out, limit);
            } else {
                word.push(c);
            }
        }
        self.flush_word(&mut word, out, limit);
    }

    /// Normalises a whitespace-free run, splits off punctuation and WordPieces each part.
    fn flush_word(&self, word: &mut String, out: &mut Vec<u32>, limit: usize) {
        if word.is_empty() {
            return;
        }
        let norm: String =
            word.nfd().filter(|c| get_general_category(*c) != G::NonspacingMark).flat_map(char::to_lowercase).collect();
        word.clear();
        let mut piece_start = 0;
        for (i, c) in norm.char_indices() {
            if is_punct(c) {
                if piece_start < i {
                    self.wordpiece(&norm[piece_start..i], out);
                }
                self.wordpiece(&norm[i..i + c.len_utf8()], out);
                piece_start = i + c.len_utf8();
            }
            if out.len() >= limit {
                return;
            }
        }
        if piece_start < norm.len() {
            self.wordpiece(&norm[piece_start..], out);
        }
    }

    fn wordpiece(&self, word: &str, out: &mut Vec<u32>) {
        if word.chars().count() > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let mark = out.len();
        let mut start = 0;
        while start < word.len() {
            let map = if start == 0 { &self.start } else { &self.cont };
            let mut end = word.len();
            let mut found = None;
            while end > start {
                if let Some(&id) = map.get(&word[start..end]) {
                    found = Some(id);
                    break;
                }
                end -= 1;
                while !word.is_char_boundary(end) {
                    end -= 1;
                }
            }
            match found {
                Some(id) => {
                    out.push(id);
                    start = end;
                }
                None => {
                    out.truncate(mark);
                    out.push(self.unk);
                    return;
                }
            }
        }
    }
}

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

fn is_control(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => false,
        _ => matches!(get_general_category(c), G::Control | G::Format | G::Unassigned | G::PrivateUse),
    }
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            get_general_category(c),
            G::ConnectorPunctuation
                | G::DashPunctuation
                | G::ClosePunctuation
                | G::FinalPunctuation
                | G::InitialPunctuation
                | G::OtherPunctuation
                | G::OpenPunctuation
        )
}

fn is_cjk(cp: u32) -> bool {
    matches!(cp,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B920..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Tokenizer {
        let vocab =
            "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n,\n!\nun\n##aff\n##able\ncafe\n中\n##s\nkill\nprocess";
        Tokenizer::from_vocab(vocab).unwrap()
    }

    #[test]
    fn basic_wordpiece() {
        let t = tiny();
        // hello , world ! -> 5 7 6 8
        assert_eq!(t.encode("Hello, WORLD!", 256), vec![2, 5, 7, 6, 8, 3]);
        // unaffable -> un ##aff ##able
        assert_eq!(t.encode("unaffable", 256), vec![2, 9, 10, 11, 3]);
        // accents stripped: café -> cafe
        assert_eq!(t.encode("Café", 256), vec![2, 12, 3]);
        // CJK split, unknown word -> [UNK]
        assert_eq!(t.encode("中中 xyz", 256), vec![2, 13, 13, 1, 3]);
        // partial match failure makes the whole word [UNK]
        assert_eq!(t.encode("helloq", 256), vec![2, 1, 3]);
        assert_eq!(t.encode("", 256), vec![2, 3]);
        assert_eq!(t.encode("\u{200b}\u{0}", 256), vec![2, 3]);
    }

    #[test]
    fn special_tokens_and_truncation() {
        let t = tiny();
        assert_eq!(t.encode("hello[MASK]world", 256), vec![2, 5, 4, 6, 3]);
        assert_eq!(t.encode("hello world hello world", 4), vec![2, 5, 6, 3]);
        assert_eq!(t.encode("hello, world", 3), vec![2, 5, 3]);
        let long = "kill process ".repeat(500);
        let ids = t.encode(&long, 256);
        assert_eq!(ids.len(), 256);
        assert_eq!(ids[255], 3);
    }
}
