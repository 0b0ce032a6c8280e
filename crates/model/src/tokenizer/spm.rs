//! SentencePiece-style tokenization with scores (GGUF `tokenizer.ggml.model = llama`), as used
//! by Gemma: spaces become `▁`, the text starts as single characters, and the adjacent pair whose
//! joined text is a token with the highest score is merged until no pair is a token. Characters
//! that are not tokens fall back to byte tokens `<0xXX>`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

pub const SPACE: char = '\u{2581}';

#[derive(PartialEq)]
struct Candidate {
    score: f32,
    left: usize,
    len: usize,
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        // Highest score first; on ties, leftmost first.
        self.score.partial_cmp(&other.score).unwrap_or(Ordering::Equal).then_with(|| other.left.cmp(&self.left))
    }
}

struct Sym {
    start: usize,
    len: usize,
    prev: Option<usize>,
    next: Option<usize>,
}

pub struct Spm {
    pub scores: Vec<f32>,
    pub byte_tokens: [Option<u32>; 256],
    pub add_space_prefix: bool,
}

impl Spm {
    pub fn encode(&self, text: &str, first: bool, token_to_id: &HashMap<String, u32>, out: &mut Vec<u32>) {
        let mut s = String::with_capacity(text.len() + 3);
        if self.add_space_prefix && first {
            s.push(SPACE);
        }
        for c in text.chars() {
            s.push(if c == ' ' { SPACE } else { c });
        }
        if s.is_empty() {
            return;
        }
        let mut syms: Vec<Sym> = Vec::new();
        for (i, (b, c)) in s.char_indices().enumerate() {
            syms.push(Sym { start: b, len: c.len_utf8(), prev: i.checked_sub(1), next: Some(i + 1) });
        }
        let n = syms.len();
        syms[n - 1].next = None;
        let mut heap = BinaryHeap::new();
        let try_pair = |syms: &Vec<Sym>, heap: &mut BinaryHeap<Candidate>, left: usize| {
            let Some(right) = syms[left].next else { return };
            let a = &syms[left];
            let text = &s[a.start..syms[right].start + syms[right].len];
            if let Some(&id) = token_to_id.get(text) {
                heap.push(Candidate {
                    score: self.scores.get(id as usize).copied().unwrap_or(0.0),
                    left,
                    len: text.len(),
                });
            }
        };
        for i in 0..n {
            try_pair(&syms, &mut heap, i);
        }
        while let Some(cand) = heap.pop() {
            let left = cand.left;
            let Some(right) = syms[left].next else { continue };
            if syms[left].len == 0 || syms[left].len + syms[right].len != cand.len {
                continue; // stale
            }
            syms[left].len += syms[right].len;
            syms[right].len = 0;
            syms[left].next = syms[right].next;
            if let Some(nn) = syms[right].next {
                syms[nn].prev = Some(left);
            }
            if let Some(p) = syms[left].prev {
                try_pair(&syms, &mut heap, p);
            }
            try_pair(&syms, &mut heap, left);
        }
        let mut i = Some(0);
        while let Some(k) = i {
            let sym = &syms[k];
            let piece = &s[sym.start..sym.start + sym.len];
            match token_to_id.get(piece) {
                Some(&id) => out.push(id),
                None => {
                    for b in piece.bytes() {
                        if let Some(id) = self.byte_tokens[b as usize] {
                            out.push(id);
                        }
                    }
                }
            }
            i = sym.next;
        }
    }
}
