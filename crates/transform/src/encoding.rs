//! The codecs behind the `base64`, `rot13` and `leet` transforms, and the readers that recognise a
//! response written in them.
//!
//! Round trips: `base64_decode(base64_encode(t)) == Some(t)` and `rot13(rot13(t)) == t` for any
//! UTF-8 text. Leet is lossy: see [`leet_decode`].

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_encode_padding(true).with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Standard base64 (RFC 4648, padded) of the UTF-8 bytes of `text`.
pub fn base64_encode(text: &str) -> String {
    STANDARD.encode(text.as_bytes())
}

/// Decodes base64 (standard or URL-safe alphabet, padding optional, whitespace ignored) to UTF-8
/// text; `None` when it is not base64 of UTF-8 text.
pub fn base64_decode(encoded: &str) -> Option<String> {
    let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    let bytes = STANDARD.decode(&compact).or_else(|_| URL_SAFE.decode(&compact)).ok()?;
    String::from_utf8(bytes).ok()
}

/// ROT13: each ASCII letter moved 13 places; everything else unchanged. Its own inverse.
pub fn rot13(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
            'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
            _ => c,
        })
        .collect()
}

/// Letter → digit pairs of the leetspeak used here.
pub const LEET: &[(char, char)] =
    &[('a', '4'), ('e', '3'), ('i', '1'), ('o', '0'), ('s', '5'), ('t', '7'), ('b', '8'), ('g', '9')];

/// Leetspeak: the letters of [`LEET`] (either case) become their digits; everything else stays.
pub fn leet_encode(text: &str) -> String {
    text.chars()
        .map(|c| LEET.iter().find(|(l, _)| *l == c.to_ascii_lowercase()).map(|(_, d)| *d).unwrap_or(c))
        .collect()
}

/// Best-effort inverse of [`leet_encode`], and lossy: inside a word that has at least one letter,
/// each digit of [`LEET`] becomes its (lowercase) letter; words of digits only (numbers) are kept.
/// So the case of substituted letters is lost, a word made only of substituted letters (`4` for
/// `a`, `70` for `to`) stays in digits, and real digits inside words (`mp3`) become letters.
pub fn leet_decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.chars().any(|c| c.is_alphabetic()) {
            out.extend(word.chars().map(|c| LEET.iter().find(|(_, d)| *d == c).map(|(l, _)| *l).unwrap_or(c)));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Common English words, to tell decoded text from encoded text.
const COMMON: &[&str] = &[
    "the", "and", "to", "of", "a", "is", "in", "that", "it", "you", "for", "this", "with", "be", "are", "on", "not",
    "can", "i", "your", "or", "as", "have", "if", "will", "here", "how", "what", "do", "an", "step",
];

fn common_words(text: &str) -> usize {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter(|w| COMMON.iter().any(|c| c.eq_ignore_ascii_case(w)))
        .count()
}

/// Text a reader can take as decoded prose: no control characters but line breaks and tabs, and
/// mostly letters, digits, spaces and punctuation.
fn looks_like_text(s: &str) -> bool {
    let n = s.chars().count();
    if n == 0 || s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return false;
    }
    let ok = s.chars().filter(|c| c.is_alphanumeric() || c.is_whitespace() || c.is_ascii_punctuation()).count();
    ok * 10 >= n * 9 && s.chars().any(|c| c.is_whitespace())
}

fn is_b64(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_')
}

/// The response read as base64: the whole text when it is base64 of UTF-8 text (exact round trip),
/// else the base64 runs inside it (at least 12 characters, lines joined) that decode to readable
/// text, joined by line breaks; `None` when there are none.
pub fn read_base64_response(text: &str) -> Option<String> {
    let t = text.trim();
    // The whole text: base64 has no spaces inside a line (wrapped lines are fine).
    if t.chars().all(|c| is_b64(c) || c == '\n' || c == '\r') {
        if let Some(s) = base64_decode(t) {
            return Some(s);
        }
    }
    let mut pieces = Vec::new();
    let mut consider = |run: &str| {
        let compact: String = run.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() >= 12 && compact.chars().any(|c| c.is_ascii_digit() || c.is_ascii_uppercase()) {
            if let Some(s) = base64_decode(&compact).filter(|s| looks_like_text(s)) {
                pieces.push(s);
                return true;
            }
        }
        false
    };
    // Runs of base64 lines (wrapped output), then single tokens inside prose.
    let mut block = String::new();
    let mut tokens_from = Vec::new();
    for line in t.lines() {
        let l = line.trim();
        if !l.is_empty() && l.chars().all(is_b64) {
            block.push_str(l);
        } else {
            if !block.is_empty() && !consider(&block) {
                tokens_from.push(block.clone());
            }
            block.clear();
            tokens_from.push(l.to_string());
        }
    }
    if !block.is_empty() && !consider(&block) {
        tokens_from.push(block);
    }
    for l in tokens_from {
        for tok in l.split(|c: char| !is_b64(c)) {
            consider(tok);
        }
    }
    if pieces.is_empty() {
        None
    } else {
        Some(pieces.join("\n"))
    }
}

/// The response read as ROT13, when its ROT13 has more common English words than the text itself
/// (and at least two).
pub fn read_rot13_response(text: &str) -> Option<String> {
    let decoded = rot13(text);
    let (before, after) = (common_words(text), common_words(&decoded));
    (after >= 2 && after > before).then_some(decoded)
}

/// The response read as leetspeak, when some word mixes letters with leet digits (`h3ll0`).
pub fn read_leet_response(text: &str) -> Option<String> {
    let mixed = text
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w.chars().any(|c| c.is_alphabetic()) && w.chars().any(|c| LEET.iter().any(|(_, d)| *d == c)));
    mixed.then(|| leet_decode(text))
}
