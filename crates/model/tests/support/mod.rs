//! Tiny random GGUF models written by the tests themselves (no download needed).
#![allow(dead_code)]

use evalgap_model::gguf::{GgufWriter, Value};
use evalgap_model::quant::GgmlType;
use evalgap_model::tokenizer::bpe::byte_to_char;
use std::path::PathBuf;

pub const D: usize = 256;
pub const FFN: usize = 512;
pub const N_LAYERS: usize = 3;
pub const HEADS: usize = 4;
pub const KV_HEADS: usize = 2;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.next() * scale).collect()
    }
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
}

/// A byte-level BPE vocabulary: the 256 byte characters, a few merges, and ChatML tokens.
pub fn bpe_vocab() -> (Vec<String>, Vec<i32>, Vec<String>) {
    let table = byte_to_char();
    let mut tokens: Vec<String> = table.iter().map(|c| c.to_string()).collect();
    let mut types = vec![1i32; 256];
    let sp = table[b' ' as usize];
    let merges: Vec<String> = vec![
        "h e".into(),
        "l l".into(),
        "he ll".into(),
        "hell o".into(),
        format!("{sp} w"),
        "o r".into(),
        format!("{sp}w or"),
    ];
    for m in &merges {
        tokens.push(m.replace(' ', ""));
        types.push(1);
    }
    for s in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] {
        tokens.push(s.into());
        types.push(3);
    }
    (tokens, types, merges)
}

/// Writes a tiny llama (or qwen2 with `qwen = true`) model with random weights of mixed types.
pub fn tiny_llama(name: &str, qwen: bool) -> PathBuf {
    let arch = if qwen { "qwen2" } else { "llama" };
    let (tokens, types, merges) = bpe_vocab();
    let vocab = tokens.len();
    let mut w = GgufWriter::new();
    let k = |s: &str| format!("{arch}.{s}");
    w.meta("general.architecture", Value::String(arch.into()))
        .meta("general.name", Value::String(format!("tiny {arch}")))
        .meta(&k("block_count"), Value::U32(N_LAYERS as u32))
        .meta(&k("context_length"), Value::U32(256))
        .meta(&k("embedding_length"), Value::U32(D as u32))
        .meta(&k("feed_forward_length"), Value::U32(FFN as u32))
        .meta(&k("attention.head_count"), Value::U32(HEADS as u32))
        .meta(&k("attention.head_count_kv"), Value::U32(KV_HEADS as u32))
        .meta(&k("rope.freq_base"), Value::F32(10000.0))
        .meta(&k("attention.layer_norm_rms_epsilon"), Value::F32(1e-5))
        .meta("tokenizer.ggml.model", Value::String("gpt2".into()))
        .meta("tokenizer.ggml.pre", Value::String(if qwen { "qwen2" } else { "smollm" }.into()))
        .meta("tokenizer.ggml.tokens", strings(&tokens))
        .meta("tokenizer.ggml.token_type", Value::Array(types.iter().map(|&t| Value::I32(t)).collect()))
        .meta("tokenizer.ggml.merges", strings(&merges))
        .meta("tokenizer.ggml.bos_token_id", Value::U32(vocab as u32 - 2))
        .meta("tokenizer.ggml.eos_token_id", Value::U32(vocab as u32 - 1))
        .meta("tokenizer.ggml.add_bos_token", Value::Bool(false))
        .meta(
            "tokenizer.chat_template",
            Value::String("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}".into()),
        );
    let mut rng = Lcg(42 + qwen as u64);
    let hd = D / HEADS;
    w.tensor_f32("token_embd.weight", &[D as u64, vocab as u64], GgmlType::Q8_0, &rng.vec(D * vocab, 1.0));
    w.tensor_f32("output_norm.weight", &[D as u64], GgmlType::F32, &vec![1.0; D]);
    w.tensor_f32("output.weight", &[D as u64, vocab as u64], GgmlType::Q6_K, &rng.vec(D * vocab, 0.2));
    let types =
        [GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::F16];
    for l in 0..N_LAYERS {
        let n = |s: &str| format!("blk.{l}.{s}");
        let t = |i: usize| types[(i + l) % types.len()];
        w.tensor_f32(&n("attn_norm.weight"), &[D as u64], GgmlType::F32, &vec![1.0; D]);
        w.tensor_f32(&n("attn_q.weight"), &[D as u64, (HEADS * hd) as u64], t(0), &rng.vec(D * HEADS * hd, 0.1));
        w.tensor_f32(&n("attn_k.weight"), &[D as u64, (KV_HEADS * hd) as u64], t(1), &rng.vec(D * KV_HEADS * hd, 0.1));
        w.tensor_f32(&n("attn_v.weight"), &[D as u64, (KV_HEADS * hd) as u64], t(2), &rng.vec(D * KV_HEADS * hd, 0.1));
        w.tensor_f32(&n("attn_output.weight"), &[(HEADS * hd) as u64, D as u64], t(3), &rng.vec(D * HEADS * hd, 0.1));
        if qwen {
            w.tensor_f32(&n("attn_q.bias"), &[(HEADS * hd) as u64], GgmlType::F32, &rng.vec(HEADS * hd, 0.1));
            w.tensor_f32(&n("attn_k.bias"), &[(KV_HEADS * hd) as u64], GgmlType::F32, &rng.vec(KV_HEADS * hd, 0.1));
            w.tensor_f32(&n("attn_v.bias"), &[(KV_HEADS * hd) as u64], GgmlType::F32, &rng.vec(KV_HEADS * hd, 0.1));
        }
        w.tensor_f32(&n("ffn_norm.weight"), &[D as u64], GgmlType::F32, &vec![1.0; D]);
        w.tensor_f32(&n("ffn_gate.weight"), &[D as u64, FFN as u64], t(4), &rng.vec(D * FFN, 0.1));
        w.tensor_f32(&n("ffn_up.weight"), &[D as u64, FFN as u64], t(5), &rng.vec(D * FFN, 0.1));
        w.tensor_f32(&n("ffn_down.weight"), &[FFN as u64, D as u64], t(6), &rng.vec(D * FFN, 0.1));
    }
    let path = std::env::temp_dir().join(format!("evalgap-tiny-{arch}-{name}-{}.gguf", std::process::id()));
    w.write(&path).unwrap();
    path
}

/// Writes a tiny Gemma 3 model (SentencePiece vocabulary with byte fallback, sliding window 4).
pub fn tiny_gemma3(name: &str) -> PathBuf {
    let mut tokens: Vec<String> = vec!["<pad>".into(), "<eos>".into(), "<bos>".into(), "<unk>".into()];
    let mut types = vec![3i32, 3, 3, 2];
    let mut scores = vec![0f32; 4];
    for b in 0..256 {
        tokens.push(format!("<0x{b:02X}>"));
        types.push(6);
        scores.push(0.0);
    }
    for (i, p) in ["▁", "a", "b", "c", "ab", "▁ab", "abc", "▁c", "<start_of_turn>", "<end_of_turn>"].iter().enumerate()
    {
        tokens.push((*p).into());
        types.push(if p.starts_with('<') { 3 } else { 1 });
        scores.push(-(i as f32));
    }
    let vocab = tokens.len();
    let hd = 64;
    let mut w = GgufWriter::new();
    let k = |s: &str| format!("gemma3.{s}");
    w.meta("general.architecture", Value::String("gemma3".into()))
        .meta(&k("block_count"), Value::U32(N_LAYERS as u32))
        .meta(&k("context_length"), Value::U32(256))
        .meta(&k("embedding_length"), Value::U32(D as u32))
        .meta(&k("feed_forward_length"), Value::U32(FFN as u32))
        .meta(&k("attention.head_count"), Value::U32(HEADS as u32))
        .meta(&k("attention.head_count_kv"), Value::U32(1))
        .meta(&k("attention.key_length"), Value::U32(hd as u32))
        .meta(&k("attention.value_length"), Value::U32(hd as u32))
        .meta(&k("attention.sliding_window"), Value::U32(4))
        .meta(&k("rope.freq_base"), Value::F32(1_000_000.0))
        .meta(&k("attention.layer_norm_rms_epsilon"), Value::F32(1e-6))
        .meta(&k("final_logit_softcapping"), Value::F32(30.0))
        .meta("tokenizer.ggml.model", Value::String("llama".into()))
        .meta("tokenizer.ggml.tokens", strings(&tokens))
        .meta("tokenizer.ggml.scores", Value::Array(scores.iter().map(|&s| Value::F32(s)).collect()))
        .meta("tokenizer.ggml.token_type", Value::Array(types.iter().map(|&t| Value::I32(t)).collect()))
        .meta("tokenizer.ggml.bos_token_id", Value::U32(2))
        .meta("tokenizer.ggml.eos_token_id", Value::U32(1))
        .meta("tokenizer.ggml.add_bos_token", Value::Bool(true))
        .meta("tokenizer.ggml.add_space_prefix", Value::Bool(false));
    let mut rng = Lcg(7);
    w.tensor_f32("token_embd.weight", &[D as u64, vocab as u64], GgmlType::Q8_0, &rng.vec(D * vocab, 0.1));
    w.tensor_f32("output_norm.weight", &[D as u64], GgmlType::F32, &vec![1.0; D]);
    for l in 0..N_LAYERS {
        let n = |s: &str| format!("blk.{l}.{s}");
        for norm in ["attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"] {
            w.tensor_f32(&n(&format!("{norm}.weight")), &[D as u64], GgmlType::F32, &vec![1.0; D]);
        }
        w.tensor_f32(&n("attn_q_norm.weight"), &[hd as u64], GgmlType::F32, &vec![1.0; hd]);
        w.tensor_f32(&n("attn_k_norm.weight"), &[hd as u64], GgmlType::F32, &vec![1.0; hd]);
        w.tensor_f32(
            &n("attn_q.weight"),
            &[D as u64, (HEADS * hd) as u64],
            GgmlType::Q5_0,
            &rng.vec(D * HEADS * hd, 0.1),
        );
        w.tensor_f32(&n("attn_k.weight"), &[D as u64, hd as u64], GgmlType::Q5_0, &rng.vec(D * hd, 0.1));
        w.tensor_f32(&n("attn_v.weight"), &[D as u64, hd as u64], GgmlType::Q8_0, &rng.vec(D * hd, 0.1));
        w.tensor_f32(
            &n("attn_output.weight"),
            &[(HEADS * hd) as u64, D as u64],
            GgmlType::Q4_K,
            &rng.vec(D * HEADS * hd, 0.1),
        );
        w.tensor_f32(&n("ffn_gate.weight"), &[D as u64, FFN as u64], GgmlType::Q4_K, &rng.vec(D * FFN, 0.1));
        w.tensor_f32(&n("ffn_up.weight"), &[D as u64, FFN as u64], GgmlType::Q6_K, &rng.vec(D * FFN, 0.1));
        w.tensor_f32(&n("ffn_down.weight"), &[FFN as u64, D as u64], GgmlType::Q6_K, &rng.vec(D * FFN, 0.1));
    }
    let path = std::env::temp_dir().join(format!("evalgap-tiny-gemma3-{name}-{}.gguf", std::process::id()));
    w.write(&path).unwrap();
    path
}
