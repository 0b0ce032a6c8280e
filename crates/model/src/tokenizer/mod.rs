//! Tokenizers built from the GGUF's own vocabulary: byte-level BPE (`gpt2`) and
//! SentencePiece-with-scores (`llama`), with special tokens parsed in text.

pub mod bpe;
pub mod pretokenize;
pub mod spm;

use crate::gguf::{GgufFile, Value};
use crate::ModelError;
use std::collections::HashMap;

/// GGUF token types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    Normal,
    Unknown,
    Control,
    UserDefined,
    Unused,
    Byte,
}

impl TokenType {
    fn from_i64(v: i64) -> TokenType {
        match v {
            2 => TokenType::Unknown,
            3 => TokenType::Control,
            4 => TokenType::UserDefined,
            5 => TokenType::Unused,
            6 => TokenType::Byte,
            _ => TokenType::Normal,
        }
    }
}

/// Texts of tokens that end a generation (and are treated as control tokens).
const EOG_NAMES: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "<|end_of_text|>",
    "</s>",
];

enum Kind {
    Bpe(Box<bpe::Bpe>),
    Spm(Box<spm::Spm>),
}

/// A tokenizer and detokenizer for one vocabulary.
pub struct Tokenizer {
    kind: Kind,
    pub tokens: Vec<String>,
    pub types: Vec<TokenType>,
    token_to_id: HashMap<String, u32>,
    /// Control, user-defined and unknown tokens, longest text first.
    specials: Vec<u32>,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub add_bos: bool,
    pub add_eos: bool,
    /// Tokens that end a generation.
    pub eog: Vec<u32>,
}

impl Tokenizer {
    pub fn from_gguf(g: &GgufFile) -> Result<Tokenizer, ModelError> {
        let bad = |reason: String| ModelError::Unsupported { path: g.path.clone(), reason };
        let model = g.get_str("tokenizer.ggml.model").unwrap_or("gpt2");
        let tokens: Vec<String> = g
            .get("tokenizer.ggml.tokens")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no tokenizer.ggml.tokens".into()))?
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect();
        let mut types: Vec<TokenType> = match g.get("tokenizer.ggml.token_type").and_then(Value::as_array) {
            Some(a) => a.iter().map(|v| TokenType::from_i64(v.as_i64().unwrap_or(1))).collect(),
            None => vec![TokenType::Normal; tokens.len()],
        };
        let mut token_to_id = HashMap::with_capacity(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            token_to_id.entry(t.clone()).or_insert(i as u32);
        }
        let id = |k: &str| g.get_u64(k).map(|v| v as u32).filter(|&v| (v as usize) < tokens.len());
        let flag = |k: &str| g.get(k).and_then(Value::as_bool);
        let bos = id("tokenizer.ggml.bos_token_id");
        let eos = id("tokenizer.ggml.eos_token_id");
        let kind = match model {
            "gpt2" => {
                let merges: Vec<String> = g
                    .get("tokenizer.ggml.merges")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(|v| v.as_str().unwrap_or("").to_string()).collect())
                    .unwrap_or_default();
                let pre = pretokenize::PreTokenizer::from_gguf(g.get_str("tokenizer.ggml.pre").unwrap_or("default"));
                Kind::Bpe(Box::new(bpe::Bpe::new(pre, &merges, &token_to_id)))
            }
            "llama" => {
                let scores: Vec<f32> = g
                    .get("tokenizer.ggml.scores")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(|v| v.as_f64().unwrap_or(0.0) as f32).collect())
                    .unwrap_or_else(|| vec![0.0; tokens.len()]);
                let mut byte_tokens = [None; 256];
                for (b, slot) in byte_tokens.iter_mut().enumerate() {
                    *slot = token_to_id.get(&format!("<0x{b:02X}>")).copied();
                }
                Kind::Spm(Box::new(spm::Spm {
                    scores,
                    byte_tokens,
                    add_space_prefix: flag("tokenizer.ggml.add_space_prefix").unwrap_or(true),
                }))
            }
            other => {
                return Err(bad(format!(
                    "tokenizer model `{other}` is not supported (only gpt2 BPE and llama SentencePiece)"
                )))
            }
        };
        let add_bos = flag("tokenizer.ggml.add_bos_token").unwrap_or(matches!(kind, Kind::Spm(_)));
        let add_eos = flag("tokenizer.ggml.add_eos_token").unwrap_or(false);
        // As llama.cpp does: tokens named like end-of-generation markers are control tokens,
        // whatever type the file gives them (so `</s>` is parsed as special text in Qwen's vocab).
        let mut eog: Vec<u32> = eos.into_iter().collect();
        if let Some(e) = id("tokenizer.ggml.eot_token_id") {
            eog.push(e);
        }
        for name in EOG_NAMES {
            if let Some(&i) = token_to_id.get(*name) {
                if types[i as usize] != TokenType::Control {
                    types[i as usize] = TokenType::Control;
                }
                if !eog.contains(&i) {
                    eog.push(i);
                }
            }
        }
        let mut specials: Vec<u32> = (0..tokens.len() as u32)
            .filter(|&i| {
                matches!(types[i as usize], TokenType::Control | TokenType::UserDefined | TokenType::Unknown)
                    && !tokens[i as usize].is_empty()
            })
            .collect();
        specials.sort_by_key(|&i| std::cmp::Reverse(tokens[i as usize].len()));
        Ok(Tokenizer { kind, tokens, types, token_to_id, specials, bos, eos, add_bos, add_eos, eog })
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.token_to_id.get(text).copied()
    }

    pub fn is_eog(&self, id: u32) -> bool {
        self.eog.contains(&id)
    }

    /// Tokenizes `text`. `add_special` adds BOS/EOS as the vocabulary asks; `parse_special`
    /// turns control-token strings in the text into their ids (user-defined tokens always are).
    pub fn encode(&self, text: &str, add_special: bool, parse_special: bool) -> Vec<u32> {
        let mut out = Vec::new();
        if add_special && self.add_bos {
            if let Some(b) = self.bos {
                out.push(b);
            }
        }
        // Cut out special tokens, longest first.
        enum Frag<'a> {
            Text(&'a str, usize),
            Token(u32),
        }
        let mut frags = vec![Frag::Text(text, 0)];
        for &sid in &self.specials {
            let ty = self.types[sid as usize];
            if !parse_special && matches!(ty, TokenType::Control | TokenType::Unknown) {
                continue;
            }
            let st = self.tokens[sid as usize].as_str();
            let mut next = Vec::with_capacity(frags.len());
            for f in frags {
                match f {
                    Frag::Text(t, off) if t.contains(st) => {
                        let mut rest = t;
                        let mut o = off;
                        while let Some(p) = rest.find(st) {
                            if p > 0 {
                                next.push(Frag::Text(&rest[..p], o));
                            }
                            next.push(Frag::Token(sid));
                            o += p + st.len();
                            rest = &rest[p + st.len()..];
                        }
                        if !rest.is_empty() {
                            next.push(Frag::Text(rest, o));
                        }
                    }
                    other => next.push(other),
                }
            }
            frags = next;
        }
        for f in frags {
            match f {
                Frag::Token(id) => out.push(id),
                Frag::Text(t, off) => match &self.kind {
                    Kind::Bpe(b) => b.encode(t, &self.token_to_id, &mut out),
                    Kind::Spm(s) => s.encode(t, off == 0, &self.token_to_id, &mut out),
                },
            }
        }
        if add_special && self.add_eos {
            if let Some(e) = self.eos {
                out.push(e);
            }
        }
        out
    }

    /// The bytes of one token (control tokens render as their text).
    pub fn token_bytes(&self, id: u32, out: &mut Vec<u8>) {
        let Some(text) = self.tokens.get(id as usize) else { return };
        let ty = self.types[id as usize];
        match (&self.kind, ty) {
            (_, TokenType::Control | TokenType::Unused) => out.extend_from_slice(text.as_bytes()),
            (Kind::Bpe(b), _) => b.token_bytes(text, out),
            (Kind::Spm(_), TokenType::Byte) => {
                if let Some(b) = text
                    .strip_prefix("<0x")
                    .and_then(|t| t.strip_suffix('>'))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    out.push(b);
                }
            }
            (Kind::Spm(_), _) => out.extend_from_slice(text.replace(spm::SPACE, " ").as_bytes()),
        }
    }

    /// Text of a token sequence (invalid UTF-8 is replaced).
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::new();
        for &id in ids {
            self.token_bytes(id, &mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
