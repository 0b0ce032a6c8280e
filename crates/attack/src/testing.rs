//! Scripted stand-ins for unit tests of the loops (the end-to-end tests use the HTTP test server).

use crate::{Score, Scorer};
use evalgap_core::{Message, Outcome, Response};
use evalgap_target::{ChatRequest, Target};
use std::sync::Mutex;

type Script = dyn Fn(&ChatRequest) -> Outcome + Send + Sync;

/// A target that answers by a closure and keeps every request it got.
pub struct Scripted {
    pub name: &'static str,
    answer: Box<Script>,
    pub seen: Mutex<Vec<ChatRequest>>,
}

impl Scripted {
    pub fn new(name: &'static str, answer: impl Fn(&ChatRequest) -> Outcome + Send + Sync + 'static) -> Self {
        Self { name, answer: Box::new(answer), seen: Mutex::new(Vec::new()) }
    }
    pub fn calls(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

#[async_trait::async_trait]
impl Target for Scripted {
    fn id(&self) -> String {
        self.name.to_string()
    }
    async fn complete(&self, request: &ChatRequest) -> Outcome {
        self.seen.lock().unwrap().push(request.clone());
        (self.answer)(request)
    }
}

pub fn ok(text: impl Into<String>) -> Outcome {
    Outcome::Ok(Response { text: text.into(), requests: 1, latency_ms: 1.0, ..Default::default() })
}

pub fn last_user_text(req: &ChatRequest) -> String {
    req.messages
        .iter()
        .rev()
        .find(|m| m.role == evalgap_core::Role::User)
        .map(|m| m.content.clone())
        .unwrap_or_default()
}

/// Success when the answer contains `COMPLY`; refusal when it contains `REFUSE`.
pub struct Marks;

#[async_trait::async_trait]
impl Scorer for Marks {
    async fn score(&self, _messages: &[Message], r: &Response) -> Score {
        let success = r.text.contains("COMPLY");
        Score { success, refused: r.text.contains("REFUSE"), value: if success { 1.0 } else { 0.2 } }
    }
}
