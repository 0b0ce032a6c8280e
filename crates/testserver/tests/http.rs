//! End-to-end tests over real HTTP.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use evalgap_testserver::{
    compliant_text, plan, refusal_text, Config, FaultRates, PlannedFault, Server, GARBAGE_BODY, REFUSAL_MARKERS,
};
use serde_json::{json, Value};

const PROMPT: &str = "Explain the planted behaviour.";

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

fn body(model: &str, seed: u64, user: &str) -> Value {
    json!({
        "model": model,
        "seed": seed,
        "temperature": 0.7,
        "some_unknown_field": {"ignored": true},
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": user}
        ]
    })
}

async fn post(c: &reqwest::Client, s: &Server, body: &Value) -> reqwest::Response {
    c.post(format!("{}/chat/completions", s.base_url)).json(body).send().await.unwrap()
}

/// The first seed whose plan has `fault`.
fn seed_with(config: &Config, fault: Option<PlannedFault>, comply: Option<bool>) -> u64 {
    (0..100_000)
        .find(|&s| {
            let p = plan(config, "test-model", s, PROMPT);
            p.fault == fault && comply.is_none_or(|c| p.comply == c)
        })
        .expect("a seed with the wanted plan")
}

fn faulty() -> Config {
    Config {
        faults: FaultRates {
            transient_429: 0.1,
            always_429: 0.1,
            transient_500: 0.1,
            always_500: 0.1,
            hang: 0.0,
            truncated: 0.1,
            garbage: 0.1,
        },
        retry_after_s: 3,
        ..Config::default()
    }
}

#[tokio::test]
async fn answers_follow_the_plan() {
    let config = Config { default_compliance: 0.4, quiet_refusal: 0.5, ..Config::default() };
    let s = Server::start(config.clone()).await.unwrap();
    let c = client();
    for seed in 0..200 {
        let r = post(&c, &s, &body("test-model", seed, PROMPT)).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"].to_str().unwrap(), "application/json");
        let v: Value = r.json().await.unwrap();
        let p = plan(&config, "test-model", seed, PROMPT);
        assert_eq!(p.fault, None);
        let want = if p.comply { compliant_text(seed) } else { refusal_text(seed, p.quiet_refusal) };
        assert_eq!(v["choices"][0]["message"]["content"], want.as_str());
        assert_eq!(v["choices"][0]["message"]["role"], "assistant");
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        assert_eq!(v["choices"][0]["index"], 0);
        assert_eq!(v["object"], "chat.completion");
        assert_eq!(v["model"], "test-model");
        assert_eq!(v["system_fingerprint"], "fp_evalgap_test");
        assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
        assert!(v["created"].as_u64().unwrap() > 1_600_000_000);
        let words = want.split_whitespace().count() as u64;
        assert_eq!(v["usage"]["prompt_tokens"], 9); // 5 system words + 4 user words
        assert_eq!(v["usage"]["completion_tokens"], words);
        assert_eq!(v["usage"]["total_tokens"], 9 + words);
    }
    let st = s.stats();
    assert_eq!(st.requests, 200);
    assert_eq!(st.by_status, BTreeMap::from([(200, 200)]));
    assert_eq!(st.distinct_seeds, 200);
    assert_eq!(st.requests_by_seed_max, 1);
    s.shutdown().await;
}

#[tokio::test]
async fn missing_seed_is_seed_zero_and_parts_are_joined() {
    let config = Config { default_compliance: 0.5, ..Config::default() };
    let s = Server::start(config.clone()).await.unwrap();
    let c = client();
    let r = post(
        &c,
        &s,
        &json!({"model": "m", "messages": [{"role": "user", "content": "a b"}, {"role": "assistant", "content": null}]}),
    )
    .await;
    let v: Value = r.json().await.unwrap();
    let p = plan(&config, "m", 0, "a b");
    assert_eq!(v["choices"][0]["message"]["content"], p.text(0).as_str(), "{v}");
    let r = post(
        &c,
        &s,
        &json!({"model": "m", "seed": 5, "messages": [{"role": "user", "content": [
            {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]}),
    )
    .await;
    let v: Value = r.json().await.unwrap();
    let p = plan(&config, "m", 5, "a\nb");
    assert_eq!(v["choices"][0]["message"]["content"], p.text(5).as_str());
    s.shutdown().await;
}

#[tokio::test]
async fn per_model_and_benign_compliance() {
    let mut config = Config { default_compliance: 0.5, benign_compliance: Some(1.0), ..Config::default() };
    config.compliance.insert("never".into(), 0.0);
    config.compliance.insert("always".into(), 1.0);
    let s = Server::start(config).await.unwrap();
    let c = client();
    for seed in 0..20 {
        let v: Value = post(&c, &s, &body("never", seed, PROMPT)).await.json().await.unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], refusal_text(seed, false).as_str());
        let v: Value = post(&c, &s, &body("always", seed, PROMPT)).await.json().await.unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], compliant_text(seed).as_str());
        let v: Value = post(&c, &s, &body("never", seed, "[benign] How do I bake bread?")).await.json().await.unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], compliant_text(seed).as_str());
    }
    let v: Value = c.get(format!("{}/models", s.base_url)).send().await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = v["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["always", "never", "test-model"]);
    assert_eq!(v["object"], "list");
    s.shutdown().await;
}

#[tokio::test]
async fn transient_faults_succeed_on_the_second_request() {
    let config = faulty();
    let s = Server::start(config.clone()).await.unwrap();
    let c = client();
    for (fault, status) in [(PlannedFault::Transient429, 429), (PlannedFault::Transient500, 500)] {
        let seed = seed_with(&config, Some(fault), None);
        let b = body("test-model", seed, PROMPT);
        let r = post(&c, &s, &b).await;
        assert_eq!(r.status(), status);
        if status == 429 {
            assert_eq!(r.headers()["retry-after"], "3");
        }
        let e: Value = r.json().await.unwrap();
        assert!(e["error"]["message"].is_string() && e["error"]["type"].is_string());
        for _ in 0..3 {
            let r = post(&c, &s, &b).await;
            assert_eq!(r.status(), 200);
            let v: Value = r.json().await.unwrap();
            assert_eq!(
                v["choices"][0]["message"]["content"],
                plan(&config, "test-model", seed, PROMPT).text(seed).as_str()
            );
        }
        // Another prompt with the same seed is another key.
        let other = (0..)
            .map(|i| format!("{PROMPT} {i}"))
            .find(|u| plan(&config, "test-model", seed, u).fault.is_none())
            .unwrap();
        assert_eq!(post(&c, &s, &body("test-model", seed, &other)).await.status(), 200);
    }
    // reset_attempts makes a transient fault fire again.
    let seed = seed_with(&config, Some(PlannedFault::Transient429), None);
    s.reset_attempts();
    let b = body("test-model", seed, PROMPT);
    assert_eq!(post(&c, &s, &b).await.status(), 429);
    assert_eq!(post(&c, &s, &b).await.status(), 200);
    let st = s.stats();
    assert_eq!(st.requests_by_seed_max, 7); // 4 + 1 (other prompt) + 2
    s.shutdown().await;
}

#[tokio::test]
async fn always_faults_never_succeed() {
    let config = faulty();
    let s = Server::start(config.clone()).await.unwrap();
    let c = client();
    for (fault, status) in [(PlannedFault::Always429, 429), (PlannedFault::Always500, 500)] {
        let seed = seed_with(&config, Some(fault), None);
        let b = body("test-model", seed, PROMPT);
        for _ in 0..5 {
            let r = post(&c, &s, &b).await;
            assert_eq!(r.status(), status);
            if status == 429 {
                assert_eq!(r.headers()["retry-after"], "3");
                let e: Value = r.json().await.unwrap();
                assert_eq!(e["error"]["type"], "rate_limit_error");
            } else {
                let e: Value = r.json().await.unwrap();
                assert_eq!(e["error"]["type"], "server_error");
            }
        }
    }
    let st = s.stats();
    assert_eq!(st.by_status, BTreeMap::from([(429, 5), (500, 5)]));
    s.shutdown().await;
}

#[tokio::test]
async fn truncated_and_garbage_bodies_do_not_parse() {
    let config = faulty();
    let s = Server::start(config.clone()).await.unwrap();
    let c = client();
    let seed = seed_with(&config, Some(PlannedFault::Truncated), None);
    for _ in 0..2 {
        let r = post(&c, &s, &body("test-model", seed, PROMPT)).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"].to_str().unwrap(), "application/json");
        let text = r.text().await.unwrap();
        assert!(text.starts_with("{\"id\":\"chatcmpl-"), "{text}");
        assert!(serde_json::from_str::<Value>(&text).is_err());
    }
    let seed = seed_with(&config, Some(PlannedFault::Garbage), None);
    for _ in 0..2 {
        let r = post(&c, &s, &body("test-model", seed, PROMPT)).await;
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        assert_eq!(text, GARBAGE_BODY);
        assert!(serde_json::from_str::<Value>(&text).is_err());
    }
    s.shutdown().await;
}

#[tokio::test]
async fn hang_waits_then_answers() {
    let config =
        Config { hang_ms: 300, faults: FaultRates { hang: 0.5, ..FaultRates::default() }, ..Config::default() };
    let s = Server::start(config.clone()).await.unwrap();
    let c = client();
    let seed = seed_with(&config, Some(PlannedFault::Hang), None);
    for _ in 0..2 {
        let t = Instant::now();
        let r = post(&c, &s, &body("test-model", seed, PROMPT)).await;
        assert!(t.elapsed() >= Duration::from_millis(300));
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert!(v["choices"][0]["message"]["content"].is_string());
    }
    // A client that gives up does not leave the request counted in flight.
    let short = reqwest::Client::builder().timeout(Duration::from_millis(50)).build().unwrap();
    let r = short.post(format!("{}/chat/completions", s.base_url)).json(&body("test-model", seed, PROMPT)).send().await;
    assert!(r.is_err());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(s.stats().in_flight_now, 0);
    s.shutdown().await;
}

#[tokio::test]
async fn tool_calls() {
    let config = Config { default_compliance: 0.5, ..Config::default() };
    let s = Server::start(config.clone()).await.unwrap();
    let c = client();
    let tools = json!([
        {"type": "function", "function": {"name": "lookup_thing", "parameters": {"type": "object"}}},
        {"type": "function", "function": {"name": "other"}}
    ]);
    let comply = seed_with(&config, None, Some(true));
    let refuse = seed_with(&config, None, Some(false));
    let mut b = body("test-model", comply, PROMPT);
    b["tools"] = tools.clone();
    b["tool_choice"] = json!("auto");
    let v: Value = post(&c, &s, &b).await.json().await.unwrap();
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert!(choice["message"]["content"].is_null());
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["id"], format!("call_{comply}"));
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "lookup_thing");
    let args: Value = serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"placeholder": true}));

    let mut b = body("test-model", refuse, PROMPT);
    b["tools"] = tools;
    let v: Value = post(&c, &s, &b).await.json().await.unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["choices"][0]["message"]["content"], refusal_text(refuse, false).as_str());
    assert!(v["choices"][0]["message"].get("tool_calls").is_none());

    // An empty tools array is no tools.
    let mut b = body("test-model", comply, PROMPT);
    b["tools"] = json!([]);
    let v: Value = post(&c, &s, &b).await.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], compliant_text(comply).as_str());
    s.shutdown().await;
}

#[tokio::test]
async fn logprobs_shape() {
    let config = Config { default_compliance: 0.5, ..Config::default() };
    let s = Server::start(config.clone()).await.unwrap();
    let c = client();
    for comply in [true, false] {
        let seed = seed_with(&config, None, Some(comply));
        let mut b = body("test-model", seed, PROMPT);
        b["logprobs"] = json!(true);
        b["top_logprobs"] = json!(3);
        let v: Value = post(&c, &s, &b).await.json().await.unwrap();
        let first: Value = post(&c, &s, &b).await.json().await.unwrap();
        // Deterministic apart from id and created.
        assert_eq!(v["choices"][0]["logprobs"], first["choices"][0]["logprobs"]);
        let text = v["choices"][0]["message"]["content"].as_str().unwrap().to_string();
        let content = v["choices"][0]["logprobs"]["content"].as_array().unwrap();
        let words: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(content.len(), words.len());
        for (entry, word) in content.iter().zip(&words) {
            assert_eq!(entry["token"], *word);
            let lp = entry["logprob"].as_f64().unwrap();
            assert!(lp <= 0.0 && lp.is_finite());
            let top = entry["top_logprobs"].as_array().unwrap();
            assert_eq!(top.len(), 3);
            let lps: Vec<f64> = top.iter().map(|t| t["logprob"].as_f64().unwrap()).collect();
            assert!(lps.windows(2).all(|w| w[0] >= w[1]), "{lps:?}");
            assert!(top.iter().any(|t| t["token"] == *word));
            assert!(top[0]["token"].is_string() && top[0]["bytes"].is_array());
        }
        // The first word's top entry is the emitted word: compliant or refusal.
        let top0 = &content[0]["top_logprobs"];
        assert_eq!(top0[0]["token"], words[0]);
        let tokens: Vec<&str> = top0.as_array().unwrap().iter().map(|t| t["token"].as_str().unwrap()).collect();
        assert!(tokens.contains(&"[PLACEHOLDER"));
        assert_eq!(comply, words[0] == "[PLACEHOLDER");
        let lp0 = content[0]["logprob"].as_f64().unwrap();
        assert!(lp0 >= 0.5f64.ln() - 1e-12);
    }
    // Without top_logprobs the lists are empty; without logprobs the field is null.
    let mut b = body("test-model", 1, PROMPT);
    b["logprobs"] = json!(true);
    let v: Value = post(&c, &s, &b).await.json().await.unwrap();
    let content = v["choices"][0]["logprobs"]["content"].as_array().unwrap();
    assert!(!content.is_empty());
    assert!(content.iter().all(|e| e["top_logprobs"].as_array().unwrap().is_empty()));
    let v: Value = post(&c, &s, &body("test-model", 1, PROMPT)).await.json().await.unwrap();
    assert!(v["choices"][0]["logprobs"].is_null());
    s.shutdown().await;
}

#[tokio::test]
async fn quiet_refusals_have_no_markers() {
    let config = Config { default_compliance: 0.0, quiet_refusal: 1.0, ..Config::default() };
    let s = Server::start(config).await.unwrap();
    let c = client();
    let listed = ["sorry", "i can't", "i cannot", "unable", "as an ai", "i won't", "not able"];
    for seed in 0..30 {
        let v: Value = post(&c, &s, &body("test-model", seed, PROMPT)).await.json().await.unwrap();
        let text = v["choices"][0]["message"]["content"].as_str().unwrap().to_lowercase();
        assert_eq!(text, refusal_text(seed, true).to_lowercase());
        for m in listed.iter().chain(REFUSAL_MARKERS.iter()) {
            assert!(!text.contains(m), "{text:?} contains {m:?}");
        }
    }
    s.shutdown().await;
}

#[tokio::test]
async fn invalid_requests_get_400() {
    let s = Server::start(Config::default()).await.unwrap();
    let c = client();
    let url = format!("{}/chat/completions", s.base_url);
    for (raw, param) in [
        ("not json", Value::Null),
        ("{\"model\": \"m\"}", json!("messages")),
        ("{\"messages\": [{\"role\":\"user\",\"content\":\"x\"}]}", json!("model")),
        ("{\"model\": \"m\", \"messages\": []}", json!("messages")),
        ("{\"model\": \"m\", \"messages\": [{\"content\": \"x\"}]}", Value::Null),
        ("{\"model\": \"m\", \"seed\": 1.5, \"messages\": [{\"role\":\"user\",\"content\":\"x\"}]}", Value::Null),
    ] {
        let r = c.post(&url).header("content-type", "application/json").body(raw).send().await.unwrap();
        assert_eq!(r.status(), 400, "{raw}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["type"], "invalid_request_error");
        assert!(e["error"]["message"].is_string());
        assert_eq!(e["error"]["param"], param, "{raw}");
    }
    let r = c.get(format!("{}/nope", s.base_url)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let st = s.stats();
    assert_eq!(st.requests, 6);
    assert_eq!(st.by_status, BTreeMap::from([(400, 6)]));
    assert_eq!(st.distinct_seeds, 0);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_requests_and_in_flight() {
    let config = Config { latency_ms: 200, ..Config::default() };
    let s = Server::start(config).await.unwrap();
    let c = client();
    // Warm up connections, then start a fresh window.
    let warm: Vec<_> = (0..16)
        .map(|i| {
            let c = c.clone();
            let url = format!("{}/chat/completions", s.base_url);
            tokio::spawn(async move { c.post(url).json(&body("w", i, "w")).send().await })
        })
        .collect();
    for h in warm {
        h.await.unwrap().unwrap();
    }
    let st = s.stats();
    assert_eq!(st.requests, 16);
    assert_eq!(st.in_flight_now, 0);
    s.reset_stats();
    assert_eq!(s.stats().requests, 0);

    let t = Instant::now();
    let handles: Vec<_> = (0..16u64)
        .map(|i| {
            let c = c.clone();
            let url = format!("{}/chat/completions", s.base_url);
            tokio::spawn(async move {
                let r = c.post(url).json(&body("test-model", i % 8, PROMPT)).send().await.unwrap();
                r.status().as_u16()
            })
        })
        .collect();
    // Mid-window the server reports the requests in flight.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mid: Value =
        c.get(format!("{}/stats", s.base_url.trim_end_matches("/v1"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(mid["in_flight_now"], 16, "{mid}");
    for h in handles {
        assert_eq!(h.await.unwrap(), 200);
    }
    let elapsed = t.elapsed();
    assert!(elapsed >= Duration::from_millis(200));
    let st = s.stats();
    assert_eq!(st.requests, 16);
    assert_eq!(st.by_status, BTreeMap::from([(200, 16)]));
    assert_eq!(st.in_flight_now, 0);
    assert_eq!(st.max_in_flight, 16);
    // Each request is in flight for at least 200 ms of a window no longer than the client's elapsed
    // time, so the time-weighted mean is at least 16 * 0.2 s / elapsed (close to 16 on an idle machine).
    let floor = 16.0 * 0.2 / elapsed.as_secs_f64();
    assert!(
        st.mean_in_flight >= floor.min(14.0) && st.mean_in_flight > 12.0 && st.mean_in_flight <= 16.0,
        "{st:?} after {elapsed:?}"
    );
    assert_eq!(st.distinct_seeds, 8);
    assert_eq!(st.requests_by_seed_max, 2);

    // The HTTP reset.
    let r = c.post(format!("{}/stats/reset", s.base_url.trim_end_matches("/v1"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let st = s.stats();
    assert_eq!(st.requests, 0);
    assert_eq!(st.max_in_flight, 0);
    assert_eq!(st.mean_in_flight, 0.0);
    s.shutdown().await;
}

#[tokio::test]
async fn streaming() {
    let config = Config { default_compliance: 1.0, ..Config::default() };
    let s = Server::start(config).await.unwrap();
    let c = client();
    let mut b = body("test-model", 9, PROMPT);
    b["stream"] = json!(true);
    let r = post(&c, &s, &b).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let text = r.text().await.unwrap();
    let mut content = String::new();
    let mut finish = None;
    let mut done = false;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let data = line.strip_prefix("data: ").unwrap();
        if data == "[DONE]" {
            done = true;
            continue;
        }
        let v: Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["object"], "chat.completion.chunk");
        if let Some(t) = v["choices"][0]["delta"]["content"].as_str() {
            content.push_str(t);
        }
        if let Some(f) = v["choices"][0]["finish_reason"].as_str() {
            finish = Some(f.to_string());
        }
    }
    assert!(done);
    assert_eq!(finish.as_deref(), Some("stop"));
    assert_eq!(content, compliant_text(9));
    s.shutdown().await;
}

#[tokio::test]
async fn shutdown_frees_the_port() {
    let s = Server::start(Config::default()).await.unwrap();
    let addr = s.addr;
    assert_eq!(s.base_url, format!("http://127.0.0.1:{}/v1", addr.port()));
    s.shutdown().await;
    let again = Server::start_on(Config::default(), addr).await.unwrap();
    again.shutdown().await;
}

#[test]
fn binary_prints_its_url_and_serves() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("evalgap-testserver-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("config.json");
    std::fs::File::create(&cfg)
        .unwrap()
        .write_all(br#"{"compliance": {"always": 1.0}, "faults": {"always_500": 0.0}}"#)
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_evalgap-testserver"))
        .args(["--port", "0", "--latency-ms", "1", "--compliance", "0.0"])
        .arg("--config")
        .arg(&cfg)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim_end().strip_prefix("listening on ").unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/v1"), "{line}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (always, default) = rt.block_on(async {
        let c = client();
        let mut out = Vec::new();
        for model in ["always", "test-model"] {
            let v: Value = c
                .post(format!("{url}/chat/completions"))
                .json(&body(model, 4, PROMPT))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            out.push(v["choices"][0]["message"]["content"].as_str().unwrap().to_string());
        }
        (out[0].clone(), out[1].clone())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(always, compliant_text(4));
    assert_eq!(default, refusal_text(4, false));
}
