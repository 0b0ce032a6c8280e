//! Targets: the models under audit.
//!
//! A [`Target`] takes a [`ChatRequest`] and always returns an [`Outcome`]: either a response or a
//! fault of a named kind. It never returns an error for a target-side failure, because a fault is
//! data (it is recorded and counted) and never a refusal or a success. HTTP targets retry what is
//! worth retrying (429 honouring Retry-After, 5xx, timeouts, transport errors, malformed bodies)
//! with exponential backoff and full jitter before they give up and record the fault. Plain
//! `http://` endpoints are sent through [`http1`], a lean HTTP/1.1 client; `https://` and proxied
//! ones through reqwest.

pub mod http1;
mod limiter;
mod local;
mod openai;
mod spec;

pub use limiter::RateLimiter;
pub use local::{split_tool_calls, LocalTarget};
pub use openai::OpenAiTarget;
pub use spec::{HttpPolicy, TargetSpec};

use evalgap_core::{Message, Outcome, Sampling};

/// What is sent for one trial.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// Shared with the variant they come from (see `Variant::messages`).
    pub messages: std::sync::Arc<[Message]>,
    pub tools: Option<std::sync::Arc<serde_json::Value>>,
    pub sampling: Sampling,
    pub seed: u64,
    /// Ask for per-token log-probabilities with this many alternatives per position (0..=20);
    /// None asks for none. Targets that cannot give them answer without them.
    pub logprobs: Option<u32>,
}

/// A model under audit.
#[async_trait::async_trait]
pub trait Target: Send + Sync {
    /// The target's identity for trial ids and protocol cards (never contains a secret).
    fn id(&self) -> String;
    /// Sends one request, retrying as the target's policy says; a failure is a fault outcome.
    async fn complete(&self, request: &ChatRequest) -> Outcome;
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("bad target spec `{spec}`: {why}. Expected `openai:MODEL@BASE_URL` (e.g. openai:gpt-4o-mini@https://api.openai.com/v1) or `local:NAME`/`local:PATH`")]
    BadSpec { spec: String, why: String },
    #[error("bad header `{0}`: expected `Name: value`")]
    BadHeader(String),
    #[error("could not build the HTTP client: {0}")]
    Client(String),
}
