//! Byte-level BPE (GGUF `tokenizer.ggml.model = gpt2`): bytes are mapped to printable
//! characters (the GPT-2 byte alphabet), cut into words by a pre-tokenizer, and each word is
//! merged pair by pair, lowest merge rank first.

use super::pretokenize::{split, PreTokenizer};
use std::collections::HashMap;

/// The GPT-2 byte alphabet: printable bytes map to themselves, the other 68 to U+0100...
pub fn byte_to_char() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..256u32 {
        let printable = (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
        table[b as usize] = if printable {
            char::from_u32(b).unwrap()
        } else {
            let c = char::from_u32(next).unwrap();
            next += 1;
            c
        };
    }
    table
}

pub struct Bpe {
    pub pre: PreTokenizer,
    /// (left id, right id) -> (rank, merged id)
    merges: HashMap<(u32, u32), (u32, u32)>,
    byte_chars: [char; 256],
    char_bytes: HashMap<char, u8>,
}

impl Bpe {
    pub fn new(pre: PreTokenizer, merges: &[String], token_to_id: &HashMap<String, u32>) -> Bpe {
        let mut map = HashMap::with_capacity(merges.len());
        for (rank, m) in merges.iter().enumerate() {
            let Some((a, b)) = m.split_once(' ') else { continue };
            let (Some(&ia), Some(&ib)) = (token_to_id.get(a), token_to_id.get(b)) else {
                continue;
            };
            let Some(&im) = token_to_id.get(&format!("{a}{b}")) else { continue };
            map.entry((ia, ib)).or_insert((rank as u32, im));
        }
        let byte_chars = byte_to_char();
        let char_bytes = byte_chars.iter().enumerate().map(|(b, &c)| (c, b as u8)).collect();
        Bpe { pre, merges: map, byte_chars, char_bytes }
    }

    /// Tokenizes plain text (no special tokens in it).
    pub fn encode(&self, text: &str, token_to_id: &HashMap<String, u32>, out: &mut Vec<u32>) {
        for word in split(self.pre, text) {
            self.encode_word(word, token_to_id, out);
        }
    }

    fn encode_word(&self, word: &str, token_to_id: &HashMap<String, u32>, out: &mut Vec<u32>) {
        let mut encoded = String::with_capacity(word.len() * 2);
        for b in word.bytes() {
            encoded.push(self.byte_chars[b as usize]);
        }
        let mut syms: Vec<u32> = Vec::with_capacity(encoded.len());
        let mut buf = [0u8; 4];
        for c in encoded.chars() {
            match token_to_id.get(c.encode_utf8(&mut buf) as &str) {
                Some(&id) => syms.push(id),
                None => continue, // not in the byte alphabet of this vocabulary: dropped
            }
        }
        loop {
            let mut best: Option<(u32, usize, u32)> = None;
            for i in 0..syms.len().saturating_sub(1) {
                if let Some(&(rank, merged)) = self.merges.get(&(syms[i], syms[i + 1])) {
                    if best.is_none_or(|(r, _, _)| rank < r) {
                        best = Some((rank, i, merged));
                    }
                }
            }
            let Some((_, i, merged)) = best else { break };
            syms[i] = merged;
            syms.remove(i + 1);
        }
        out.extend_from_slice(&syms);
    }

    /// The bytes a token's text stands for.
    pub fn token_bytes(&self, text: &str, out: &mut Vec<u8>) {
        for c in text.chars() {
            match self.char_bytes.get(&c) {
                Some(&b) => out.push(b),
                None => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }
}
