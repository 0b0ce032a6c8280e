//! OpenAI-compatible chat completions (vLLM, ollama, llama.cpp server, hosted APIs).

use crate::http1::{self, Http1Client};
use crate::{ChatRequest, HttpPolicy, RateLimiter, Target, TargetError};
use evalgap_core::{Fault, FaultKind, Outcome, Response, TokenLogprob, ToolCall, Usage};
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use serde_json::Value;
use std::time::{Duration, Instant, SystemTime};

pub struct OpenAiTarget {
    /// Plain `http://` endpoints with no proxy go through the lean HTTP/1.1 client (about a third
    /// of reqwest's CPU per request); `https://`, a proxy, or `EVALGAP_HTTP_CLIENT=reqwest` use reqwest.
    lean: Option<Http1Client>,
    /// Built only when the lean client is not used: building it loads the system's root
    /// certificates, a visible share of a short run's start-up.
    client: Option<reqwest::Client>,
    /// Parsed once: parsing a URL per request was a visible share of the client's CPU.
    url: reqwest::Url,
    model: String,
    id: String,
    policy: HttpPolicy,
    limiter: Option<RateLimiter>,
}

/// What one request came to.
enum Attempt {
    Done(Response),
    /// Worth another try; `retry_after` is the server's own hint.
    Retry {
        kind: FaultKind,
        detail: String,
        retry_after: Option<Duration>,
    },
    /// Trying again would not help (e.g. 400, 401, 404).
    GiveUp {
        kind: FaultKind,
        detail: String,
    },
}

impl OpenAiTarget {
    /// One shared client for the whole run: connection pooling is what keeps throughput near the bare client's.
    pub fn new(model: &str, base_url: &str, policy: HttpPolicy) -> Result<Self, TargetError> {
        let mut headers = HeaderMap::new();
        for (name, value) in &policy.headers {
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| TargetError::BadHeader(name.clone()))?;
            let v = HeaderValue::from_str(value).map_err(|_| TargetError::BadHeader(name.clone()))?;
            headers.insert(n, v);
        }
        if let Some(key) = &policy.api_key {
            let mut v = HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| TargetError::Client("the API key has characters not allowed in a header".into()))?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        let base_url = base_url.trim_end_matches('/');
        let url = reqwest::Url::parse(&format!("{base_url}/chat/completions"))
            .map_err(|e| TargetError::BadSpec { spec: base_url.to_string(), why: format!("bad base URL: {e}") })?;
        let reqwest_asked = std::env::var("EVALGAP_HTTP_CLIENT").is_ok_and(|v| v.eq_ignore_ascii_case("reqwest"));
        let lean = if http1::usable_for(url.as_str()) && !reqwest_asked {
            let mut lean_headers = policy.headers.clone();
            if let Some(key) = &policy.api_key {
                lean_headers.push(("Authorization".into(), format!("Bearer {key}")));
            }
            // The URL as reqwest normalised it (host lower-cased, default port dropped).
            Some(
                Http1Client::new(url.as_str(), &lean_headers, policy.max_connections.max(1))
                    .map_err(|e| TargetError::Client(e.to_string()))?,
            )
        } else {
            None
        };
        let client = match lean {
            Some(_) => None,
            None => Some(
                reqwest::Client::builder()
                    .default_headers(headers)
                    .timeout(policy.timeout)
                    .pool_max_idle_per_host(policy.max_connections.max(1))
                    .tcp_nodelay(true)
                    .build()
                    .map_err(|e| TargetError::Client(e.to_string()))?,
            ),
        };
        Ok(Self {
            lean,
            client,
            url,
            model: model.to_string(),
            id: format!("openai:{model}@{base_url}"),
            limiter: policy.requests_per_minute.map(RateLimiter::per_minute),
            policy,
        })
    }

    /// The request body, serialized once per trial (retries resend the same bytes).
    fn body(&self, req: &ChatRequest) -> Vec<u8> {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            model: &'a str,
            messages: Vec<WireMessage<'a>>,
            temperature: f64,
            top_p: f64,
            max_tokens: u32,
            seed: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            tools: Option<&'a Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            logprobs: Option<bool>,
            #[serde(skip_serializing_if = "Option::is_none")]
            top_logprobs: Option<u32>,
        }
        serde_json::to_vec(&Body {
            model: &self.model,
            messages: req.messages.iter().map(WireMessage::from).collect(),
            temperature: req.sampling.temperature,
            top_p: req.sampling.top_p,
            max_tokens: req.sampling.max_tokens,
            seed: req.seed,
            tools: req.tools.as_deref(),
            logprobs: req.logprobs.map(|_| true),
            top_logprobs: req.logprobs.filter(|&n| n > 0).map(|n| n.min(20)),
        })
        .expect("request body serializes")
    }

    async fn attempt(&self, body: &[u8]) -> Attempt {
        if let Some(l) = &self.limiter {
            l.acquire().await;
        }
        let t0 = Instant::now();
        if let Some(lean) = &self.lean {
            return match tokio::time::timeout(self.policy.timeout, lean.post(body)).await {
                Ok(Ok(r)) => classify(r.status, r.retry_after.as_deref().and_then(parse_retry_after), &r.body, t0),
                Ok(Err(e)) => Attempt::Retry { kind: FaultKind::Transport, detail: e.to_string(), retry_after: None },
                Err(_) => Attempt::Retry {
                    kind: FaultKind::Timeout,
                    detail: format!("no complete answer within {:?}", self.policy.timeout),
                    retry_after: None,
                },
            };
        }
        let client = self.client.as_ref().expect("reqwest is built whenever the lean client is not");
        let resp = match client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return transport_error(&e),
        };
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
        match resp.bytes().await {
            Ok(bytes) => classify(status, retry_after, &bytes, t0),
            Err(e) => transport_error(&e),
        }
    }

    /// Full-jitter exponential backoff: uniform in [0, min(max, base * 2^retry)].
    fn backoff(&self, retry: u32) -> Duration {
        let cap = self.policy.backoff_base.saturating_mul(1u32 << retry.min(20)).min(self.policy.backoff_max);
        cap.mul_f64(rand::rng().random::<f64>())
    }
}

/// What an answer's status and body come to: a response, a retry, or a fault at once.
fn classify(status: u16, retry_after: Option<Duration>, bytes: &[u8], t0: Instant) -> Attempt {
    let latency_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let snippet = || String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
    // "500 Internal Server Error", as reqwest writes a status.
    let status_text = || reqwest::StatusCode::from_u16(status).map_or(status.to_string(), |s| s.to_string());
    match status {
        200..=299 => match parse_completion(bytes) {
            Ok(mut r) => {
                r.latency_ms = latency_ms;
                Attempt::Done(r)
            }
            Err(why) => Attempt::Retry { kind: FaultKind::Malformed, detail: why, retry_after: None },
        },
        429 => Attempt::Retry { kind: FaultKind::RateLimited, detail: format!("HTTP 429: {}", snippet()), retry_after },
        408 => Attempt::Retry { kind: FaultKind::Timeout, detail: "HTTP 408".into(), retry_after },
        500..=599 => Attempt::Retry {
            kind: FaultKind::ServerError,
            detail: format!("HTTP {}: {}", status_text(), snippet()),
            retry_after,
        },
        _ => Attempt::GiveUp { kind: FaultKind::ClientError, detail: format!("HTTP {}: {}", status_text(), snippet()) },
    }
}

#[async_trait::async_trait]
impl Target for OpenAiTarget {
    fn id(&self) -> String {
        self.id.clone()
    }

    async fn complete(&self, req: &ChatRequest) -> Outcome {
        let body = self.body(req);
        let mut requests = 0;
        loop {
            requests += 1;
            match self.attempt(&body).await {
                Attempt::Done(mut r) => {
                    r.requests = requests;
                    return Outcome::Ok(r);
                }
                Attempt::GiveUp { kind, detail } => return Outcome::Fault(Fault { kind, detail, requests }),
                Attempt::Retry { kind, detail, retry_after } => {
                    if requests > self.policy.max_retries {
                        return Outcome::Fault(Fault { kind, detail, requests });
                    }
                    // The server's Retry-After wins over our own schedule, within the backoff cap.
                    let wait = retry_after
                        .map(|d| d.min(self.policy.backoff_max))
                        .unwrap_or_else(|| self.backoff(requests - 1));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// A message as the chat-completions API wants it: tool calls as `{id, type, function: {name,
/// arguments}}`, and `content: null` on an assistant turn that only called tools.
#[derive(serde::Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

impl<'a> From<&'a evalgap_core::Message> for WireMessage<'a> {
    fn from(m: &'a evalgap_core::Message) -> Self {
        let calls_only = !m.tool_calls.is_empty() && m.content.is_empty();
        WireMessage {
            role: m.role.as_str(),
            content: (!calls_only).then_some(m.content.as_str()),
            tool_calls: m
                .tool_calls
                .iter()
                .map(|c| {
                    serde_json::json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}})
                })
                .collect(),
            tool_call_id: m.tool_call_id.as_deref(),
        }
    }
}

fn transport_error(e: &reqwest::Error) -> Attempt {
    let kind = if e.is_timeout() { FaultKind::Timeout } else { FaultKind::Transport };
    // reqwest's Display never includes headers, so the key cannot leak here.
    let mut detail = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        src = s.source();
    }
    Attempt::Retry { kind, detail, retry_after: None }
}

/// Retry-After is either delta-seconds or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(s) = v.parse::<f64>() {
        return (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// The parts of a chat.completion body evalgap reads; anything else is ignored.
#[derive(serde::Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<UsageBody>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    system_fingerprint: Option<String>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(serde::Deserialize)]
struct Choice {
    message: Option<MessageBody>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    logprobs: Option<LogprobsBody>,
}

#[derive(serde::Deserialize)]
struct LogprobsBody {
    #[serde(default)]
    content: Option<Vec<TokenBody>>,
}

#[derive(serde::Deserialize)]
struct TokenBody {
    token: String,
    logprob: f64,
    #[serde(default)]
    top_logprobs: Vec<TopBody>,
}

#[derive(serde::Deserialize)]
struct TopBody {
    token: String,
    logprob: f64,
}

#[derive(serde::Deserialize)]
struct MessageBody {
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    tool_calls: Option<Vec<Value>>,
}

#[derive(serde::Deserialize)]
struct UsageBody {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// Reads a chat.completion body; anything that is not one is `Err` (a malformed-body fault).
pub(crate) fn parse_completion(bytes: &[u8]) -> Result<Response, String> {
    let v: Completion = serde_json::from_slice(bytes).map_err(|e| format!("body is not a chat completion: {e}"))?;
    if let Some(err) = v.error {
        return Err(format!("error object in a 2xx body: {}", truncate(&err.to_string(), 200)));
    }
    let choice = v.choices.into_iter().next().ok_or("no choices[0] in the body")?;
    let message = choice.message.ok_or("no choices[0].message in the body")?;
    let text = match message.content {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        // Some servers send content parts: join their text.
        Some(Value::Array(parts)) => parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect(),
        Some(other) => return Err(format!("choices[0].message.content is {other}, not text")),
    };
    let mut tool_calls = Vec::new();
    for c in message.tool_calls.unwrap_or_default() {
        let f = c.get("function").ok_or("tool call without function")?;
        let name = f.get("name").and_then(Value::as_str).ok_or("tool call without function.name")?;
        let arguments = match f.get("arguments") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        tool_calls.push(ToolCall {
            id: c.get("id").and_then(Value::as_str).unwrap_or("").to_string(),
            name: name.to_string(),
            arguments,
        });
    }
    Ok(Response {
        text,
        tool_calls,
        finish_reason: choice.finish_reason,
        usage: v.usage.map(|u| Usage { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens }),
        latency_ms: 0.0,
        requests: 1,
        model: v.model,
        system_fingerprint: v.system_fingerprint,
        logprobs: choice.logprobs.and_then(|l| l.content).map(|tokens| {
            tokens
                .into_iter()
                .map(|t| TokenLogprob {
                    token: t.token,
                    logprob: t.logprob,
                    top: t.top_logprobs.into_iter().map(|a| (a.token, a.logprob)).collect(),
                })
                .collect()
        }),
        attack: None,
    })
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_tool_calls_and_metadata() {
        let body = br#"{"model":"m","system_fingerprint":"fp","choices":[{"message":{"role":"assistant","content":null,
            "tool_calls":[{"id":"c1","type":"function","function":{"name":"shell","arguments":"{\"cmd\":\"ls\"}"}}]},
            "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#;
        let r = parse_completion(body).unwrap();
        assert_eq!(r.text, "");
        assert_eq!(
            r.tool_calls,
            vec![ToolCall { id: "c1".into(), name: "shell".into(), arguments: "{\"cmd\":\"ls\"}".into() }]
        );
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(r.usage, Some(Usage { prompt_tokens: 3, completion_tokens: 4 }));
        assert_eq!(r.system_fingerprint.as_deref(), Some("fp"));
    }

    #[test]
    fn reads_logprobs() {
        let body = br#"{"choices":[{"message":{"content":"Sure thing"},"logprobs":{"content":[
            {"token":"Sure","logprob":-0.1,"bytes":[83],"top_logprobs":[{"token":"Sure","logprob":-0.1},{"token":"I","logprob":-2.5}]},
            {"token":" thing","logprob":-0.7,"top_logprobs":[]}]}}]}"#;
        let lp = parse_completion(body).unwrap().logprobs.unwrap();
        assert_eq!(lp.len(), 2);
        assert_eq!(lp[0].token, "Sure");
        assert_eq!(lp[0].top, vec![("Sure".to_string(), -0.1), ("I".to_string(), -2.5)]);
        assert_eq!(lp[1].logprob, -0.7);
        assert!(parse_completion(br#"{"choices":[{"message":{"content":"x"}}]}"#).unwrap().logprobs.is_none());
    }

    #[test]
    fn tool_turns_go_out_in_the_api_shape() {
        let t = OpenAiTarget::new("m", "http://127.0.0.1:9/v1", HttpPolicy::default()).unwrap();
        let call = ToolCall { id: "call_0".into(), name: "shell".into(), arguments: "{\"command\":\"ls\"}".into() };
        let req = ChatRequest {
            messages: vec![
                evalgap_core::Message::user("task"),
                evalgap_core::Message::assistant_calls("", vec![call]),
                evalgap_core::Message::tool_result("call_0", "[simulated output]"),
            ]
            .into(),
            tools: None,
            sampling: evalgap_core::Sampling { temperature: 0.0, top_p: 1.0, max_tokens: 5 },
            seed: 1,
            logprobs: Some(5),
        };
        let v: Value = serde_json::from_slice(&t.body(&req)).unwrap();
        assert_eq!(v["messages"][0], serde_json::json!({"role": "user", "content": "task"}));
        assert_eq!(v["messages"][1]["content"], Value::Null);
        assert_eq!(v["messages"][1]["tool_calls"][0]["function"]["name"], "shell");
        assert_eq!(v["messages"][1]["tool_calls"][0]["type"], "function");
        assert_eq!(v["messages"][2]["tool_call_id"], "call_0");
        assert_eq!((v["logprobs"].clone(), v["top_logprobs"].clone()), (Value::Bool(true), Value::from(5)));
    }

    #[test]
    fn rejects_non_completions() {
        assert!(parse_completion(b"<html>").is_err());
        assert!(parse_completion(br#"{"choices":[]}"#).is_err());
        assert!(parse_completion(br#"{"error":{"message":"overloaded"}}"#).is_err());
        assert!(parse_completion(br#"{"choices":[{"message":{"content":"ok"}"#).is_err());
        assert!(parse_completion(br#"{"choices":[{"message":{"content":5}}]}"#).is_err());
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
