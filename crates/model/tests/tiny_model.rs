//! Unit tests on tiny random models that the tests write themselves (no download).

mod support;

use evalgap_core::Message;
use evalgap_model::gguf::{GgufFile, GgufWriter, Value};
use evalgap_model::quant::{dequantize, GgmlType};
use evalgap_model::{Addition, Delta, FinishReason, GenRequest, Hooks, LocalModel, Positions};
use support::*;

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn gguf_writer_and_reader_roundtrip() {
    let mut w = GgufWriter::new();
    let vals: Vec<f32> = (0..256).map(|i| i as f32 / 100.0 - 1.0).collect();
    w.meta("a.u32", Value::U32(7))
        .meta("a.str", Value::String("héllo".into()))
        .meta("a.arr", Value::Array(vec![Value::I32(-1), Value::I32(2)]))
        .meta("a.f64", Value::F64(0.5))
        .tensor_f32("t.f32", &[256], GgmlType::F32, &vals)
        .tensor_f32("t.q4k", &[256, 1], GgmlType::Q4_K, &vals)
        .tensor_f32("t.q8", &[32, 8], GgmlType::Q8_0, &vals);
    let path = std::env::temp_dir().join(format!("evalgap-rt-{}.gguf", std::process::id()));
    w.write(&path).unwrap();
    let g = GgufFile::open(&path).unwrap();
    assert_eq!(g.get_u64("a.u32"), Some(7));
    assert_eq!(g.get_str("a.str"), Some("héllo"));
    assert_eq!(g.get("a.arr").unwrap().as_array().unwrap()[0].as_i64(), Some(-1));
    assert_eq!(g.get_f64("a.f64"), Some(0.5));
    let t = g.tensor_info("t.f32").unwrap();
    let mut out = vec![0f32; 256];
    dequantize(t.ggml_type, g.tensor_data(t), &mut out);
    assert_eq!(out, vals);
    let t = g.tensor_info("t.q8").unwrap();
    assert_eq!(t.dims, vec![32, 8]);
    dequantize(t.ggml_type, g.tensor_data(t), &mut out);
    assert!(max_diff(&out, &vals) < 0.01);
    // Truncation is detected at open.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let err = GgufFile::open(&path).err().expect("truncated file must fail").to_string();
    assert!(err.contains("truncated"), "{err}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn tiny_llama_info_tokenizer_and_template() {
    let path = tiny_llama("info", false);
    let m = LocalModel::load(&path).unwrap();
    let info = m.info();
    assert_eq!((info.arch.as_str(), info.n_layers, info.d_model, info.vocab), ("llama", N_LAYERS, D, 266));
    assert!(info.has_chat_template);
    let ids = m.tokenize("hello world<|im_end|>", false, true);
    // "hello" merges to one token, " world" to " wor" + "l" + "d"; then the special token.
    assert_eq!(ids, vec![259, 262, b'l' as u32, b'd' as u32, 265]);
    let text = "hello world<|im_end|> ünïcode\n\tend";
    assert_eq!(m.detokenize(&m.tokenize(text, false, true)), text);
    assert_eq!(m.detokenize(&m.tokenize(text, false, false)), text);
    let plain = m.tokenize("<|im_end|>", false, false);
    assert!(plain.len() > 1);
    let prompt = m.render_chat(&[Message::user("hi")], None).unwrap();
    assert_eq!(prompt, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    let w = m.f32_weights();
    assert_eq!(w.len(), 3 + N_LAYERS * 9);
    let _ = std::fs::remove_file(path);
}

#[test]
fn incremental_decoding_matches_full_forward() {
    for (name, path) in
        [("llama", tiny_llama("inc", false)), ("qwen2", tiny_llama("incq", true)), ("gemma3", tiny_gemma3("inc"))]
    {
        let m = LocalModel::load(&path).unwrap();
        let ids: Vec<u32> = (0..9).map(|i| (i * 37 + 5) % 250).collect();
        let full = m.forward_hooked(&ids, &Hooks { all_logits: true, ..Hooks::default() }).unwrap();
        let v = full.vocab;
        let all = full.all_logits.unwrap();
        assert_eq!(all.len(), ids.len() * v);
        // Step by step through the low-level API.
        let net = m.model();
        let mut cache = evalgap_model::arch::KvCache::new(net.cfg.n_layers);
        for (i, &t) in ids.iter().enumerate() {
            let lg = net.forward(&mut [evalgap_model::arch::SeqStep {
                cache: &mut cache,
                tokens: &[t],
                hooks: None,
                residuals: None,
                all_logits: false,
            }]);
            let d = max_diff(&lg[0], &all[i * v..(i + 1) * v]);
            assert!(d < 1e-3, "{name}: position {i} differs by {d}");
        }
        assert!(all.iter().all(|x| x.is_finite()));
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn hooks_capture_shapes_zero_and_large_additions() {
    let path = tiny_llama("hooks", false);
    let m = LocalModel::load(&path).unwrap();
    let ids = m.tokenize("hello world", false, true);
    let n = ids.len();
    let base = m.forward_hooked(&ids, &Hooks::capture()).unwrap();
    let res = base.residuals.as_ref().unwrap();
    assert_eq!(res.layers, (0..N_LAYERS).collect::<Vec<_>>());
    assert_eq!(res.n_pos(), n);
    assert_eq!(res.get(N_LAYERS - 1, n - 1).unwrap().len(), D);
    assert!(res.get(N_LAYERS, 0).is_none() && res.get(0, n).is_none());

    // A zero vector changes nothing.
    let zero = Hooks::capture().with_addition(Addition::vector(1, vec![0.0; D]));
    let z = m.forward_hooked(&ids, &zero).unwrap();
    assert_eq!(z.logits, base.logits);
    assert_eq!(z.residuals, base.residuals);

    // A large vector at layer 1 changes the logits and the residuals from layer 1 on, not before.
    let big = Hooks::capture().with_addition(Addition::vector(1, vec![50.0; D]));
    let b = m.forward_hooked(&ids, &big).unwrap();
    assert!(max_diff(&b.logits, &base.logits) > 0.1);
    let br = b.residuals.as_ref().unwrap();
    assert_eq!(br.layer(0), res.layer(0));
    let r1 = br.get(1, 0).unwrap();
    let r0 = res.get(1, 0).unwrap();
    assert!((r1[0] - r0[0] - 50.0).abs() < 1e-3);

    // A perturbation tensor at one position only touches that position and later ones.
    let mut rows = vec![vec![0.0; D]];
    rows[0][3] = 10.0;
    let pert = Hooks::capture().with_addition(Addition {
        layer: 0,
        positions: Positions::List(vec![n - 1]),
        delta: Delta::PerPosition(rows),
    });
    let p = m.forward_hooked(&ids, &pert).unwrap();
    let pr = p.residuals.as_ref().unwrap();
    assert_eq!(pr.get(2, 0), res.get(2, 0));
    assert!((pr.get(0, n - 1).unwrap()[3] - res.get(0, n - 1).unwrap()[3] - 10.0).abs() < 1e-4);
    assert!(max_diff(&p.logits, &base.logits) > 0.0);

    // Bad hooks are refused with a clear message.
    let bad = Hooks::default().with_addition(Addition::vector(N_LAYERS, vec![0.0; D]));
    assert!(m.forward_hooked(&ids, &bad).unwrap_err().to_string().contains("layers"));
    let _ = std::fs::remove_file(path);
}

#[test]
fn batched_generation_equals_one_at_a_time() {
    for (path, prompts) in [
        (tiny_llama("batch", false), vec!["hello", "hello world hello world", "x", "<|im_start|>user\nhi<|im_end|>\n"]),
        (tiny_gemma3("batch"), vec!["ab ab", "c", "abc abc abc abc ab"]),
    ] {
        let m = LocalModel::load(&path).unwrap();
        let reqs: Vec<GenRequest> = prompts
            .iter()
            .enumerate()
            .map(|(i, p)| GenRequest { max_tokens: 6 + i as u32, top_logprobs: 3, ..GenRequest::new(*p) })
            .collect();
        let batched = m.generate(&reqs).unwrap();
        for (r, b) in reqs.iter().zip(&batched) {
            let single = m.generate(std::slice::from_ref(r)).unwrap().remove(0);
            assert_eq!(single.tokens, b.tokens);
            assert_eq!(single.text, b.text);
            assert_eq!(b.prompt_tokens, m.tokenize(&r.prompt, true, true).len());
            assert!(b.tokens.len() <= r.max_tokens as usize);
            if b.finish_reason == FinishReason::Length {
                assert_eq!(b.tokens.len(), r.max_tokens as usize);
            }
            let lp = b.top_logprobs.as_ref().unwrap();
            assert_eq!(lp[0].len(), 4);
            // Greedy: the chosen token is the most likely one.
            assert_eq!(lp[0][0].token, lp[0][1].token);
        }
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn seeded_sampling_is_reproducible_and_hooks_run_during_generation() {
    let path = tiny_llama("sample", false);
    let m = LocalModel::load(&path).unwrap();
    let req =
        |seed| GenRequest { max_tokens: 12, temperature: 1.5, top_p: 0.95, seed, ..GenRequest::new("hello world") };
    let a = m.generate(&[req(1), req(1), req(2)]).unwrap();
    assert_eq!(a[0].tokens, a[1].tokens);
    let many: Vec<Vec<u32>> = (0..6).map(|s| m.generate(&[req(s)]).unwrap().remove(0).tokens).collect();
    assert!(many.iter().any(|t| t != &many[0]), "different seeds should differ somewhere");

    // Hooks on the same pass that generates: capture every position, steer generated tokens.
    let prompt_len = m.tokenize("hello world", true, true).len();
    let hooks = Hooks::capture().with_addition(Addition {
        layer: 2,
        positions: Positions::From(prompt_len),
        delta: Delta::Vector(vec![20.0; D]),
    });
    let plain = m.generate(&[GenRequest { max_tokens: 8, ..GenRequest::new("hello world") }]).unwrap().remove(0);
    let steered = m
        .generate(&[GenRequest { max_tokens: 8, hooks: Some(hooks), ..GenRequest::new("hello world") }])
        .unwrap()
        .remove(0);
    let res = steered.residuals.as_ref().unwrap();
    assert_eq!(res.n_pos(), prompt_len + steered.tokens.len() - 1);
    assert_eq!(plain.tokens[0], steered.tokens[0], "the prompt is not steered, so the first token agrees");
    assert_ne!(plain.tokens, steered.tokens);
    let _ = std::fs::remove_file(path);
}

#[test]
fn requests_are_validated() {
    let path = tiny_llama("validate", false);
    let m = LocalModel::load(&path).unwrap();
    assert!(m.generate(&[GenRequest::new("")]).is_err());
    let long = GenRequest { max_tokens: 10_000, ..GenRequest::new("hello") };
    assert!(m.generate(&[long]).unwrap_err().to_string().contains("context"));
    let zero = m.generate(&[GenRequest { max_tokens: 0, ..GenRequest::new("hello") }]).unwrap();
    assert!(zero[0].tokens.is_empty());
    assert!(m.forward_hooked(&[], &Hooks::default()).is_err());
    assert!(m.forward_hooked(&[100_000], &Hooks::default()).is_err());
    let _ = std::fs::remove_file(path);
}

#[test]
fn tiny_gemma_spm_tokenizer() {
    let path = tiny_gemma3("spm");
    let m = LocalModel::load(&path).unwrap();
    // BOS first; "▁ab" beats "▁" + "ab"; unknown characters fall back to bytes.
    let ids = m.tokenize(" ab", true, true);
    assert_eq!(ids[0], 2);
    assert_eq!(m.detokenize(&ids[1..]), " ab");
    assert_eq!(ids.len(), 2);
    let t = "abc z ü";
    let ids = m.tokenize(t, false, false);
    assert_eq!(m.detokenize(&ids), t);
    assert_eq!(m.tokenize("<bos>", false, true), vec![2]);
    assert!(m.tokenize("<bos>", false, false).len() > 1);
    assert!(!m.info().has_chat_template);
    assert_eq!(m.render_chat(&[Message::user("ab")], None).unwrap(), "ab");
    let _ = std::fs::remove_file(path);
}
