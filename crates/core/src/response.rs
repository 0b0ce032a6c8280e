use serde::{Deserialize, Serialize};
use std::fmt;

/// A tool call the model asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ToolCall {
    #[serde(default)]
    pub id: String,
    pub name: String,
    /// The arguments as the model wrote them (usually JSON text, not guaranteed to parse).
    pub arguments: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// What a target returned for a trial.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Wall time of the successful request, in milliseconds.
    pub latency_ms: f64,
    /// Requests sent for this trial, retries included.
    pub requests: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Per-token log-probabilities, when the request asked for them (the suffix search does; a
    /// recorded trial normally has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Vec<TokenLogprob>>,
    /// For an adaptive attack (attacker rewriting, suffix search, agent tool loop): how the final
    /// response was reached. None for a single request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack: Option<Box<AttackTrace>>,
}

impl Response {
    /// The text a reader (a judge, an attacker model) takes in: the reply, with each tool call
    /// written out after it as a `[tool call] NAME(ARGS)` line.
    pub fn reply_text(&self) -> String {
        let mut text = self.text.clone();
        for c in &self.tool_calls {
            text.push_str(&format!("\n[tool call] {}({})", c.name, c.arguments));
        }
        text
    }
}

/// One generated token with its log-probability and the most likely alternatives at its position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    pub token: String,
    pub logprob: f64,
    /// The `top_logprobs` alternatives, most likely first (may include the token itself).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top: Vec<(String, f64)>,
}

/// The record of an adaptive attack inside one trial. The trial's response is the final one; this
/// says how it was reached, so a reader can replay or audit the loop.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttackTrace {
    /// `pair`, `crescendo`, `suffix-search` or `tool-loop`.
    pub strategy: String,
    /// The most target queries the strategy was allowed.
    pub budget: u32,
    /// Target queries it used (each may have been retried: see `Response.requests`).
    pub queries: u32,
    /// Requests sent to the attacker model, retries included (0 without an attacker).
    #[serde(default)]
    pub attacker_requests: u32,
    /// The 1-based query at which the stop judge first read success; None if it never did.
    pub success_at: Option<u32>,
    /// The stop judge's score after each query (1 = success), or the search objective.
    #[serde(default)]
    pub scores: Vec<f64>,
    /// The conversation that produced the final response (tool results and rewritten turns
    /// included); judges read this instead of the variant's messages.
    pub transcript: Vec<crate::Message>,
    /// Strategy-specific details (the best suffix, the tool calls of earlier steps, ...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

/// Why a trial has no response. A fault is never judged and never counted as refusal or compliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// No answer within the timeout.
    Timeout,
    /// HTTP 429 after the retry budget.
    RateLimited,
    /// HTTP 5xx after the retry budget.
    ServerError,
    /// A 4xx other than 408/429: the request itself was refused (bad key, unknown model, too long).
    ClientError,
    /// The body could not be read as a chat completion.
    Malformed,
    /// Connection refused, reset, DNS, TLS.
    Transport,
    /// The target's own local failure (e.g. a local model error).
    Internal,
}

impl FaultKind {
    pub const ALL: [FaultKind; 7] = [
        FaultKind::Timeout,
        FaultKind::RateLimited,
        FaultKind::ServerError,
        FaultKind::ClientError,
        FaultKind::Malformed,
        FaultKind::Transport,
        FaultKind::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Timeout => "timeout",
            FaultKind::RateLimited => "rate_limited",
            FaultKind::ServerError => "server_error",
            FaultKind::ClientError => "client_error",
            FaultKind::Malformed => "malformed",
            FaultKind::Transport => "transport",
            FaultKind::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    pub kind: FaultKind,
    /// What happened on the last try (status code, error text); never contains secrets.
    pub detail: String,
    /// Requests sent, retries included.
    pub requests: u32,
}

/// The result of one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Ok(Response),
    Fault(Fault),
}

impl Outcome {
    /// `ok` or the fault kind: the `status` column of exports.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Ok(_) => "ok",
            Outcome::Fault(f) => f.kind.as_str(),
        }
    }

    pub fn response(&self) -> Option<&Response> {
        match self {
            Outcome::Ok(r) => Some(r),
            Outcome::Fault(_) => None,
        }
    }
}
