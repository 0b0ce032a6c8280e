//! The HTTP side: routes, request parsing, and the planted answers.
//!
//! # Logprobs
//! With `logprobs: true`, `choices[0].logprobs.content` has one entry per whitespace-separated word of
//! the answer text (the word itself, without surrounding spaces), each with `token`, `logprob`, `bytes`
//! and `top_logprobs` (`top_logprobs` entries, at most 20; none when `top_logprobs` is absent or 0).
//! Values are deterministic:
//! * the first word carries the comply decision as a margin: with `p` the compliance probability of the
//!   request and `u` its `u_comply`, `q = 1 / (1 + exp(-8 (p - u)))` is the probability of the compliant
//!   first word (`"[PLACEHOLDER"`) and `1 - q` that of the refusal's first word; the answer complies
//!   exactly when `q > 1/2`, so a suffix optimiser can climb `q`. The token's logprob is `ln q` or
//!   `ln (1 - q)` (whichever word was emitted);
//! * every later word gets a logprob in `(-2, 0)` from FNV-1a 64 of `(seed, index, word)`, and is the most
//!   likely entry of its `top_logprobs`; fillers `"<alt1>"`, `"<alt2>"`, … follow, each 0.5 lower.
//!
//! # Streaming
//! With `stream: true` the answer is an SSE body (`text/event-stream`) of `chat.completion.chunk`
//! events, one per word, a final chunk with the finish reason, and `data: [DONE]`. Faults apply as for
//! plain answers (a truncated stream is cut in half). Logprobs are not streamed.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plan::{compliant_text, key_hash, plan_from_hash, refusal_text, Config, PlannedFault};
use crate::stats::{Collector, ShardedCounter};

/// The model every server lists, whatever its configuration.
pub const DEFAULT_MODEL: &str = "test-model";
/// The `system_fingerprint` of every answer.
pub const SYSTEM_FINGERPRINT: &str = "fp_evalgap_test";
/// The body of a garbage answer.
pub const GARBAGE_BODY: &str = "<html>upstream error</html>";

pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) stats: Arc<Collector>,
    /// Requests seen per key (the key hash's `id`), for transient faults.
    pub(crate) attempts: ShardedCounter,
}

impl Shared {
    pub(crate) fn new(config: Config) -> Self {
        Shared { config, stats: Arc::new(Collector::new()), attempts: ShardedCounter::new() }
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset_stats))
        .fallback(not_found)
        .with_state(shared)
}

// ---------------------------------------------------------------- request

#[derive(Deserialize)]
struct ChatRequest {
    model: Option<String>,
    messages: Option<Vec<Message>>,
    seed: Option<i128>,
    tools: Option<Vec<Value>>,
    logprobs: Option<bool>,
    top_logprobs: Option<u32>,
    stream: Option<bool>,
}

#[derive(Deserialize)]
struct Message {
    role: String,
    #[serde(default)]
    content: Value,
    #[serde(default)]
    tool_calls: Vec<Value>,
    #[serde(default)]
    tool_call_id: Option<String>,
}

/// Tool results after this many answer with text: the agent reports instead of calling again.
pub const TOOL_RESULTS_BEFORE_REPORT: usize = 2;

/// As the chat-completions API does: every `tool` message must answer a tool call of an earlier
/// assistant message, by its id.
fn check_tool_messages(messages: &[Message]) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        if m.role == "assistant" {
            open.extend(m.tool_calls.iter().filter_map(|c| c.get("id").and_then(Value::as_str)));
            if m.tool_calls.iter().any(|c| c.pointer("/function/name").and_then(Value::as_str).is_none()) {
                return Err(format!("messages[{i}].tool_calls: each call needs function.name"));
            }
        }
        if m.role == "tool" {
            match m.tool_call_id.as_deref() {
                Some(id) if open.contains(&id) => {}
                Some(id) => return Err(format!("messages[{i}]: tool_call_id '{id}' answers no earlier tool call")),
                None => return Err(format!("messages[{i}]: a 'tool' message needs 'tool_call_id'")),
            }
        }
    }
    Ok(())
}

/// The text of a message's `content`: a string as is, an array of parts as its `text` fields joined
/// with `"\n"`, anything else as empty.
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => {
            parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n")
        }
        _ => String::new(),
    }
}

fn word_count(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

// ---------------------------------------------------------------- handlers

async fn chat(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let _in_flight = s.stats.enter();
    let response = answer(&s, &body).await;
    s.stats.status(response.status().as_u16());
    response
}

async fn answer(s: &Shared, body: &[u8]) -> Response {
    let req: ChatRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return bad_request(&format!("Invalid request body: {e}"), None),
    };
    let model = match req.model {
        Some(m) if !m.is_empty() => m,
        _ => return bad_request("Missing required parameter: 'model'.", Some("model")),
    };
    let messages = match req.messages {
        Some(m) if !m.is_empty() => m,
        _ => return bad_request("Missing required parameter: 'messages' (a non-empty array).", Some("messages")),
    };
    let seed = match req.seed {
        None => 0,
        Some(v) if (0..=u64::MAX as i128).contains(&v) => v as u64,
        Some(v) if v >= i64::MIN as i128 && v < 0 => v as i64 as u64,
        Some(_) => return bad_request("'seed' is out of range.", Some("seed")),
    };
    if let Err(why) = check_tool_messages(&messages) {
        return bad_request(&why, Some("messages"));
    }
    let tool_results = messages.iter().filter(|m| m.role == "tool").count();
    let last_user =
        messages.iter().rev().find(|m| m.role == "user").map(|m| content_text(&m.content)).unwrap_or_default();
    let prompt_tokens: u64 = messages
        .iter()
        .map(|m| match &m.content {
            Value::String(t) => word_count(t),
            other => word_count(&content_text(other)),
        })
        .sum();

    let config = &s.config;
    let h = key_hash(&model, seed, &last_user);
    let plan = plan_from_hash(config, &model, &last_user, &h);
    let attempt = s.attempts.increment(h.id);
    s.stats.seed(seed);

    if config.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(config.latency_ms)).await;
    }

    let fault = plan.fault.filter(|f| match f {
        PlannedFault::Hang => true,
        f => f.fails_attempt(attempt),
    });
    match fault {
        Some(PlannedFault::Transient429 | PlannedFault::Always429) => {
            let mut r = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached (planted by evalgap-testserver). Please retry later.",
                "rate_limit_error",
                None,
                Some("rate_limit_exceeded"),
            );
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(config.retry_after_s));
            return r;
        }
        Some(PlannedFault::Transient500 | PlannedFault::Always500) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server had an error while processing your request (planted by evalgap-testserver).",
                "server_error",
                None,
                None,
            );
        }
        Some(PlannedFault::Garbage) => {
            return Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "text/html")
                .body(Body::from(GARBAGE_BODY))
                .expect("static response");
        }
        Some(PlannedFault::Hang) => {
            tokio::time::sleep(Duration::from_millis(config.hang_ms)).await;
        }
        Some(PlannedFault::Truncated) | None => {}
    }

    let tool_name = if plan.comply && tool_results < TOOL_RESULTS_BEFORE_REPORT {
        req.tools.as_ref().and_then(|t| t.first()).map(|t| {
            t.pointer("/function/name").or_else(|| t.get("name")).and_then(Value::as_str).unwrap_or("tool").to_string()
        })
    } else {
        None
    };
    let text = {
        let conv: Vec<(&str, String)> = messages.iter().map(|m| (m.role.as_str(), content_text(&m.content))).collect();
        crate::judge::judge_answer(&model, &conv).unwrap_or_else(|| plan.text(seed))
    };
    let done = Done {
        id: format!("chatcmpl-{:016x}{:04x}", h.id, attempt.min(0xffff)),
        created: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        model: &model,
        seed,
        text: &text,
        tool_name: tool_name.as_deref(),
        prompt_tokens,
    };
    let (mut bytes, content_type) = if req.stream.unwrap_or(false) {
        (done.stream_body(), "text/event-stream")
    } else {
        let logprobs = req.logprobs.unwrap_or(false).then(|| {
            let margin = comply_margin(config.compliance_for(&model, &last_user), h.u_comply);
            logprobs_for(
                if done.tool_name.is_some() { "" } else { &text },
                seed,
                req.top_logprobs.unwrap_or(0).min(20) as usize,
                margin,
                plan.comply,
                &if plan.comply { refusal_text(seed, false) } else { compliant_text(seed) },
            )
        });
        (done.json_body(logprobs), "application/json")
    };
    if fault == Some(PlannedFault::Truncated) {
        bytes.truncate(bytes.len() / 2);
    }
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .expect("valid response")
}

async fn models(State(s): State<Arc<Shared>>) -> Response {
    let mut ids: Vec<&str> = s.config.compliance.keys().map(String::as_str).collect();
    if !ids.contains(&DEFAULT_MODEL) {
        ids.push(DEFAULT_MODEL);
    }
    let data: Vec<Value> = ids
        .into_iter()
        .map(|id| serde_json::json!({"id": id, "object": "model", "created": 0, "owned_by": "evalgap-testserver"}))
        .collect();
    json_response(StatusCode::OK, &serde_json::json!({"object": "list", "data": data}))
}

async fn stats(State(s): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, &s.stats.snapshot())
}

async fn reset_stats(State(s): State<Arc<Shared>>) -> Response {
    s.stats.reset();
    json_response(StatusCode::OK, &serde_json::json!({"reset": true}))
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "Unknown route.", "invalid_request_error", None, Some("unknown_url"))
}

// ---------------------------------------------------------------- bodies

fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(value).expect("serializable value")))
        .expect("valid response")
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

fn error_response(status: StatusCode, message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Response {
    json_response(status, &ErrorBody { error: ErrorDetail { message, kind, param, code } })
}

fn bad_request(message: &str, param: Option<&str>) -> Response {
    error_response(StatusCode::BAD_REQUEST, message, "invalid_request_error", param, None)
}

/// What a successful answer carries.
struct Done<'a> {
    id: String,
    created: u64,
    model: &'a str,
    seed: u64,
    text: &'a str,
    tool_name: Option<&'a str>,
    prompt_tokens: u64,
}

const TOOL_ARGUMENTS: &str = "{\"placeholder\":true}";

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    system_fingerprint: &'static str,
    choices: [Choice<'a>; 1],
    usage: Usage,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: AssistantMessage<'a>,
    logprobs: Option<Logprobs>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct AssistantMessage<'a> {
    role: &'static str,
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCall<'a>; 1]>,
}

#[derive(Serialize)]
struct ToolCall<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<u32>,
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionCall<'a>,
}

#[derive(Serialize)]
struct FunctionCall<'a> {
    name: &'a str,
    arguments: &'static str,
}

#[derive(Serialize)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

#[derive(Serialize)]
struct Logprobs {
    content: Vec<TokenLogprob>,
}

#[derive(Serialize)]
struct TokenLogprob {
    token: String,
    logprob: f64,
    bytes: Vec<u8>,
    top_logprobs: Vec<TopLogprob>,
}

#[derive(Serialize)]
struct TopLogprob {
    token: String,
    logprob: f64,
    bytes: Vec<u8>,
}

impl Done<'_> {
    fn tool_call(&self, index: Option<u32>) -> Option<[ToolCall<'_>; 1]> {
        self.tool_name.map(|name| {
            [ToolCall {
                index,
                id: format!("call_{}", self.seed),
                kind: "function",
                function: FunctionCall { name, arguments: TOOL_ARGUMENTS },
            }]
        })
    }

    fn finish_reason(&self) -> &'static str {
        if self.tool_name.is_some() {
            "tool_calls"
        } else {
            "stop"
        }
    }

    fn json_body(&self, logprobs: Option<Logprobs>) -> Vec<u8> {
        let tool_calls = self.tool_call(None);
        let content = if tool_calls.is_some() { None } else { Some(self.text) };
        let completion_tokens = word_count(content.unwrap_or(TOOL_ARGUMENTS));
        let body = Completion {
            id: &self.id,
            object: "chat.completion",
            created: self.created,
            model: self.model,
            system_fingerprint: SYSTEM_FINGERPRINT,
            choices: [Choice {
                index: 0,
                message: AssistantMessage { role: "assistant", content, tool_calls },
                logprobs,
                finish_reason: self.finish_reason(),
            }],
            usage: Usage {
                prompt_tokens: self.prompt_tokens,
                completion_tokens,
                total_tokens: self.prompt_tokens + completion_tokens,
            },
        };
        serde_json::to_vec(&body).expect("serializable completion")
    }

    fn stream_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.text.len() * 8);
        let mut chunk = |delta: Value, finish: Option<&str>| {
            let v = serde_json::json!({
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "system_fingerprint": SYSTEM_FINGERPRINT,
                "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
            });
            out.extend_from_slice(b"data: ");
            serde_json::to_writer(&mut out, &v).expect("serializable chunk");
            out.extend_from_slice(b"\n\n");
        };
        if let Some(calls) = self.tool_call(Some(0)) {
            chunk(serde_json::json!({"role": "assistant", "content": null, "tool_calls": calls}), None);
        } else {
            chunk(serde_json::json!({"role": "assistant", "content": ""}), None);
            for (i, word) in self.text.split_whitespace().enumerate() {
                let piece = if i == 0 { word.to_string() } else { format!(" {word}") };
                chunk(serde_json::json!({"content": piece}), None);
            }
        }
        chunk(serde_json::json!({}), Some(self.finish_reason()));
        out.extend_from_slice(b"data: [DONE]\n\n");
        out
    }
}

/// The probability of the compliant first word (see the module documentation).
pub fn comply_margin(p: f64, u_comply: f64) -> f64 {
    let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
    1.0 / (1.0 + (-8.0 * (p - u_comply)).exp())
}

fn fnv1a64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn logprobs_for(text: &str, seed: u64, top: usize, margin: f64, comply: bool, other_text: &str) -> Logprobs {
    let floor = |x: f64| x.max(1e-12).ln();
    let content = text
        .split_whitespace()
        .enumerate()
        .map(|(i, word)| {
            let (logprob, second) = if i == 0 {
                let (mine, theirs) = if comply { (margin, 1.0 - margin) } else { (1.0 - margin, margin) };
                let other = other_text.split_whitespace().next().unwrap_or("");
                (floor(mine), Some((other.to_string(), floor(theirs))))
            } else {
                let h = fnv1a64(&[&seed.to_le_bytes(), &(i as u64).to_le_bytes(), word.as_bytes()]);
                (-((h % 1999) as f64 + 1.0) / 1000.0, None)
            };
            let mut alts = vec![TopLogprob { token: word.to_string(), logprob, bytes: word.as_bytes().to_vec() }];
            if let Some((tok, lp)) = second {
                alts.push(TopLogprob { bytes: tok.as_bytes().to_vec(), token: tok, logprob: lp });
                alts.sort_by(|a, b| b.logprob.total_cmp(&a.logprob));
            }
            let mut j = 1;
            let lowest = alts.last().map(|a| a.logprob).unwrap_or(logprob);
            while alts.len() < top {
                let tok = format!("<alt{j}>");
                alts.push(TopLogprob { bytes: tok.as_bytes().to_vec(), token: tok, logprob: lowest - 0.5 * j as f64 });
                j += 1;
            }
            alts.truncate(top);
            TokenLogprob { token: word.to_string(), logprob, bytes: word.as_bytes().to_vec(), top_logprobs: alts }
        })
        .collect();
    Logprobs { content }
}
