//! The bare client: the least work a client can do to send the trials evalgap sends. One shared
//! `reqwest::Client` configured as evalgap's OpenAI target configures its own, `concurrency` worker
//! tasks, the same request bodies (distinct seed per request), the body read and parsed as JSON.
//! No store, no judging, no retries.

use crate::workload::{case_text, request_body, MAX_TOKENS, TEMPERATURE, TOP_P};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a bare run came to (printed as one JSON line by `evalgap-bench bare`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct BareSummary {
    /// Requests answered 2xx with a parseable chat completion.
    pub ok: u64,
    /// Everything else (transport error, non-2xx, unparseable body).
    pub failed: u64,
    /// Seconds from the first request to the last answer, inside the client.
    pub wall_s: f64,
}

/// What each request asks, besides its seed: the benchmark suite's plain texts, or given requests.
pub enum Requests {
    /// Request `i` carries the text of case `i % cases` as one user message.
    Plain { cases: usize },
    /// Request `i` carries `messages` (and `tools`) of line `i % n`, as JSON text: the variants an
    /// `evalgap run --transform all` sent (see [`read_requests`]).
    Given(Vec<(String, Option<String>)>),
}

/// Requests written by the benchmark: one per line, the `messages` JSON array, then a tab and the
/// `tools` JSON array when the variant has tools. JSON text has no raw tab, so the split is exact.
pub fn read_requests(path: &std::path::Path) -> anyhow::Result<Vec<(String, Option<String>)>> {
    let text = std::fs::read_to_string(path)?;
    let requests: Vec<(String, Option<String>)> = text
        .lines()
        .map(|l| match l.split_once('\t') {
            Some((m, t)) => (m.to_string(), Some(t.to_string())),
            None => (l.to_string(), None),
        })
        .collect();
    anyhow::ensure!(!requests.is_empty(), "{}: no requests", path.display());
    Ok(requests)
}

/// The body of a given request, in the field order evalgap's OpenAI target writes.
fn given_body(model: &str, messages: &str, tools: Option<&str>, seed: u64) -> Vec<u8> {
    let tools = tools.map(|t| format!(",\"tools\":{t}")).unwrap_or_default();
    format!(
        "{{\"model\":{},\"messages\":{messages},\"temperature\":{TEMPERATURE},\"top_p\":{TOP_P},\"max_tokens\":{MAX_TOKENS},\"seed\":{seed}{tools}}}",
        Value::from(model)
    )
    .into_bytes()
}

/// Send `trials` requests to `{url}/chat/completions` with `concurrency` workers; request `i`
/// carries seed `i`.
pub async fn run_bare(
    url: &str,
    model: &str,
    trials: u64,
    concurrency: usize,
    requests: Requests,
    lean: bool,
) -> anyhow::Result<BareSummary> {
    let concurrency = concurrency.max(1);
    let lean_client = if lean {
        Some(Arc::new(evalgap_target::http1::Http1Client::new(
            &format!("{}/chat/completions", url.trim_end_matches('/')),
            &[],
            concurrency,
        )?))
    } else {
        None
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .build()?;
    let endpoint: Arc<str> = format!("{}/chat/completions", url.trim_end_matches('/')).into();
    let model: Arc<str> = model.into();
    let requests = Arc::new(match requests {
        Requests::Plain { cases } => Requests::Plain { cases: cases.max(1) },
        given => given,
    });
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));

    let t0 = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, endpoint, model, requests) = (client.clone(), endpoint.clone(), model.clone(), requests.clone());
        let (next, ok, failed) = (next.clone(), ok.clone(), failed.clone());
        let lean_client = lean_client.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= trials {
                    break;
                }
                let body = match requests.as_ref() {
                    Requests::Plain { cases } => {
                        serde_json::to_vec(&request_body(&model, &case_text((i % *cases as u64) as usize), i))
                            .expect("a JSON value serializes")
                    }
                    Requests::Given(given) => {
                        let (messages, tools) = &given[(i % given.len() as u64) as usize];
                        given_body(&model, messages, tools.as_deref(), i)
                    }
                };
                let sent = match &lean_client {
                    Some(c) => send_lean(c, &body).await,
                    None => send_one(&client, &endpoint, body).await,
                };
                let counter = if sent { &ok } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for w in workers {
        w.await?;
    }
    Ok(BareSummary {
        ok: ok.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        wall_s: t0.elapsed().as_secs_f64(),
    })
}

/// One request through evalgap's lean HTTP/1.1 client.
async fn send_lean(client: &evalgap_target::http1::Http1Client, body: &[u8]) -> bool {
    let Ok(resp) = client.post(body).await else { return false };
    if !(200..300).contains(&resp.status) {
        return false;
    }
    serde_json::from_slice::<Value>(&resp.body).is_ok_and(|v| is_completion(&v))
}

/// One request; true when the answer is a 2xx chat completion with text content.
async fn send_one(client: &reqwest::Client, endpoint: &str, body: Vec<u8>) -> bool {
    let request = client.post(endpoint).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
    let Ok(resp) = request.send().await else { return false };
    if !resp.status().is_success() {
        return false;
    }
    let Ok(bytes) = resp.bytes().await else { return false };
    serde_json::from_slice::<Value>(&bytes).is_ok_and(|v| is_completion(&v))
}

/// A chat completion whose message has text content or tool calls (an agent's answer).
fn is_completion(v: &Value) -> bool {
    let Some(m) = v.get("choices").and_then(|c| c.get(0)).and_then(|c| c.get("message")) else { return false };
    m.get("content").is_some_and(Value::is_string) || m.get("tool_calls").is_some_and(Value::is_array)
}

#[cfg(test)]
mod tests {
    use super::*;
    use evalgap_testserver::{Config, Server};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bare_client_against_test_server() {
        let server = Server::start(Config { default_compliance: 0.5, ..Config::default() }).await.unwrap();
        let summary = run_bare(&server.base_url, "bench", 200, 8, Requests::Plain { cases: 50 }, false).await.unwrap();
        assert_eq!(summary.ok, 200, "{summary:?}");
        assert_eq!(summary.failed, 0, "{summary:?}");
        let stats = server.stats();
        assert_eq!(stats.requests, 200, "{stats:?}");
        assert_eq!(stats.distinct_seeds, 200, "{stats:?}");
        assert!(stats.max_in_flight <= 8, "{stats:?}");
        server.shutdown().await;
    }
}
