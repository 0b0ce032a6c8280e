//! Pre-tokenizers of byte-level BPE vocabularies: they cut text into words before BPE runs.
//!
//! Each splitter is a hand-written matcher for one regular expression, trying the alternatives
//! in order at each position, as the regex engine would:
//! - `gpt2`: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
//! - `smollm`: every digit on its own first (`\p{N}`), then `gpt2` on the pieces between.
//! - `qwen2` (and `llama3` with up to 3 digits a word):
//!   `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

use unicode_general_category::{get_general_category, GeneralCategory as G};

/// Which splitting rules a BPE vocabulary uses (GGUF `tokenizer.ggml.pre`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreTokenizer {
    Gpt2,
    Smollm,
    Qwen2,
    Llama3,
}

impl PreTokenizer {
    /// From the GGUF name; unknown names fall back to GPT-2 rules.
    pub fn from_gguf(name: &str) -> PreTokenizer {
        match name {
            "smollm" => PreTokenizer::Smollm,
            "qwen2" | "deepseek-r1-qwen" => PreTokenizer::Qwen2,
            "llama3" | "llama-bpe" | "llama-v3" => PreTokenizer::Llama3,
            _ => PreTokenizer::Gpt2,
        }
    }
}

pub(crate) fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    matches!(
        get_general_category(c),
        G::UppercaseLetter | G::LowercaseLetter | G::TitlecaseLetter | G::ModifierLetter | G::OtherLetter
    )
}

pub(crate) fn is_number(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    matches!(get_general_category(c), G::DecimalNumber | G::LetterNumber | G::OtherNumber)
}

fn is_space(c: char) -> bool {
    c.is_whitespace()
}

fn is_other(c: char) -> bool {
    !is_space(c) && !is_letter(c) && !is_number(c)
}

/// Splits `text` into words.
pub fn split(pre: PreTokenizer, text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut cuts = Vec::new(); // word boundaries as char indices
    match pre {
        PreTokenizer::Gpt2 => gpt2(&chars, 0, chars.len(), &mut cuts),
        PreTokenizer::Smollm => {
            let mut start = 0;
            for i in 0..chars.len() {
                if is_number(chars[i].1) {
                    gpt2(&chars, start, i, &mut cuts);
                    cuts.push((i, i + 1));
                    start = i + 1;
                }
            }
            gpt2(&chars, start, chars.len(), &mut cuts);
        }
        PreTokenizer::Qwen2 => llama3(&chars, 1, &mut cuts),
        PreTokenizer::Llama3 => llama3(&chars, 3, &mut cuts),
    }
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |c| c.0);
    cuts.into_iter().filter(|(a, b)| b > a).map(|(a, b)| &text[byte_at(a)..byte_at(b)]).collect()
}

/// Length of a whitespace match at `i` (run end `k`) for `\s+(?!\S)|\s+`.
fn trailing_space_len(i: usize, k: usize, end: usize) -> usize {
    let run = k - i;
    if k == end || run == 1 {
        run
    } else {
        run - 1
    }
}

fn gpt2(c: &[(usize, char)], start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
    let ch = |i: usize| if i < end { Some(c[i].1) } else { None };
    let mut i = start;
    while i < end {
        let c0 = c[i].1;
        // Contractions, lowercase only.
        if c0 == '\'' {
            let n1 = ch(i + 1);
            let n2 = ch(i + 2);
            let len = match (n1, n2) {
                (Some('r'), Some('e')) | (Some('v'), Some('e')) | (Some('l'), Some('l')) => 3,
                (Some('s' | 't' | 'm' | 'd'), _) => 2,
                _ => 0,
            };
            if len > 0 {
                out.push((i, i + len));
                i += len;
                continue;
            }
        }
        let j = if c0 == ' ' { i + 1 } else { i };
        if let Some(cj) = ch(j) {
            let class: Option<fn(char) -> bool> = if is_letter(cj) {
                Some(is_letter)
            } else if is_number(cj) {
                Some(is_number)
            } else if is_other(cj) {
                Some(is_other)
            } else {
                None
            };
            if let Some(f) = class {
                let mut k = j + 1;
                while k < end && f(c[k].1) {
                    k += 1;
                }
                out.push((i, k));
                i = k;
                continue;
            }
        }
        // Whitespace.
        let mut k = i;
        while k < end && is_space(c[k].1) {
            k += 1;
        }
        let len = trailing_space_len(i, k, end).max(1);
        out.push((i, i + len));
        i += len;
    }
}

fn llama3(c: &[(usize, char)], max_digits: usize, out: &mut Vec<(usize, usize)>) {
    let end = c.len();
    let ch = |i: usize| if i < end { Some(c[i].1) } else { None };
    let is_nl = |x: char| x == '\r' || x == '\n';
    let mut i = 0;
    while i < end {
        let c0 = c[i].1;
        // Contractions, any case.
        if c0 == '\'' {
            let l1 = ch(i + 1).map(|x| x.to_ascii_lowercase());
            let l2 = ch(i + 2).map(|x| x.to_ascii_lowercase());
            let len = match (l1, l2) {
                (Some('r'), Some('e')) | (Some('v'), Some('e')) | (Some('l'), Some('l')) => 3,
                (Some('s' | 't' | 'm' | 'd'), _) => 2,
                _ => 0,
            };
            if len > 0 {
                out.push((i, i + len));
                i += len;
                continue;
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        let letters_from = if is_letter(c0) {
            Some(i)
        } else if !is_nl(c0) && !is_number(c0) && ch(i + 1).is_some_and(is_letter) {
            Some(i + 1)
        } else {
            None
        };
        if let Some(j) = letters_from {
            let mut k = j;
            while k < end && is_letter(c[k].1) {
                k += 1;
            }
            out.push((i, k));
            i = k;
            continue;
        }
        // \p{N}{1,max}
        if is_number(c0) {
            let mut k = i;
            while k < end && k - i < max_digits && is_number(c[k].1) {
                k += 1;
            }
            out.push((i, k));
            i = k;
            continue;
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        let j = if c0 == ' ' { i + 1 } else { i };
        if ch(j).is_some_and(is_other) {
            let mut k = j;
            while k < end && is_other(c[k].1) {
                k += 1;
            }
            while k < end && is_nl(c[k].1) {
                k += 1;
            }
            out.push((i, k));
            i = k;
            continue;
        }
        // Whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+
        let mut k = i;
        while k < end && is_space(c[k].1) {
            k += 1;
        }
        if let Some(last_nl) = (i..k).rev().find(|&x| is_nl(c[x].1)) {
            out.push((i, last_nl + 1));
            i = last_nl + 1;
            continue;
        }
        let len = trailing_space_len(i, k, end).max(1);
        out.push((i, i + len));
        i += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_words() {
        assert_eq!(split(PreTokenizer::Gpt2, "Hello world's  end"), ["Hello", " world", "'s", " ", " end"]);
        assert_eq!(split(PreTokenizer::Gpt2, "a\n\nb  "), ["a", "\n", "\n", "b", "  "]);
    }

    #[test]
    fn smollm_splits_digits() {
        assert_eq!(split(PreTokenizer::Smollm, "ab 123"), ["ab", " ", "1", "2", "3"]);
    }

    #[test]
    fn qwen2_words() {
        assert_eq!(split(PreTokenizer::Qwen2, "I'M  ok\n\n x12"), ["I", "'M", " ", " ok", "\n\n", " x", "1", "2"]);
        assert_eq!(split(PreTokenizer::Qwen2, "...\n\nHi"), ["...\n\n", "Hi"]);
        assert_eq!(split(PreTokenizer::Qwen2, "\tindented"), ["\tindented"]);
    }
}
