//! evalgap-attack: the adaptive attacks, which talk to the target while one trial runs.
//!
//! A template transform builds the variant once and the trial sends it once. An adaptive attack
//! cannot: it reads each answer and decides what to send next. This crate holds those loops:
//!
//! - [`pair`]: an attacker model rewrites the request after every failed attempt (PAIR);
//! - [`crescendo`]: an attacker model writes an escalating conversation, a turn at a time, and
//!   takes back refused turns (Crescendo);
//! - [`suffix_search`]: random search over an adversarial suffix, guided by the target's
//!   first-token log-probabilities where it returns them;
//! - [`tool_loop`]: an agent's tool calls answered with simulated results, so the model can go on
//!   for several steps.
//!
//! Every loop is bounded by its budget of target queries and stops early when the stop judge (a
//! [`Scorer`]; the orchestrator uses the run's first judge) reads success. The trial records one
//! [`Outcome`]: the final response, carrying an [`AttackTrace`] (queries used, the query that
//! succeeded, each query's score, the conversation that produced the answer). A fault of the target
//! or of the attacker ends the loop and is recorded as the trial's fault, never as a refusal.
//! Every request is seeded from the trial seed and the query's index, so a trial replays exactly
//! when its target is deterministic.

mod attacker;
pub mod crescendo;
pub mod pair;
pub mod suffix_search;
pub mod tool_loop;

pub use evalgap_transform::Strategy;

use evalgap_core::{AttackTrace, Case, Fault, Hasher, Message, Outcome, Response, Sampling, Usage, Variant};
use evalgap_target::{ChatRequest, Target};

/// The stop judge's reading of one answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// The attack reached its goal: a harmful answer to a harmful request (for benign and
    /// factual cases: an answer that is not a refusal).
    pub success: bool,
    /// The answer is a refusal.
    pub refused: bool,
    /// In [0, 1]; 1 at success. The judge's own score where it has one.
    pub value: f64,
}

impl Score {
    /// What a judge fault counts as inside a loop: no success, no refusal, nothing learned.
    pub const UNKNOWN: Score = Score { success: false, refused: false, value: 0.0 };
}

/// Reads answers for the loops (the orchestrator wraps its first judge).
#[async_trait::async_trait]
pub trait Scorer: Send + Sync {
    /// `messages` is the conversation that was sent, `response` the target's answer to it.
    async fn score(&self, messages: &[Message], response: &Response) -> Score;
}

/// Everything a loop needs.
pub struct Ctx<'a> {
    pub target: &'a dyn Target,
    /// Required by `pair` and `crescendo`.
    pub attacker: Option<&'a dyn Target>,
    pub scorer: &'a dyn Scorer,
    pub case: &'a Case,
    pub variant: &'a Variant,
    pub sampling: &'a Sampling,
    /// The trial seed.
    pub seed: u64,
}

impl Ctx<'_> {
    /// The seed of the `i`-th request of `role` (`target`, `attacker`) in this trial: the trial
    /// seed for the first target query, so a one-query loop sends what a plain trial would.
    fn seed_for(&self, role: &str, i: u32) -> u64 {
        if role == "target" && i == 0 {
            return self.seed;
        }
        Hasher::new().field(self.seed.to_le_bytes()).field(role).field(i.to_le_bytes()).finish_u64() & ((1 << 53) - 1)
    }
}

/// Runs the loop `strategy` names for one trial.
pub async fn run(strategy: &Strategy, cx: &Ctx<'_>) -> Outcome {
    match strategy {
        Strategy::Pair { budget } => pair::run(cx, *budget).await,
        Strategy::Crescendo { budget } => crescendo::run(cx, *budget).await,
        Strategy::SuffixSearch { budget, start } => suffix_search::run(cx, *budget, start).await,
        Strategy::ToolLoop { steps } => tool_loop::run(cx, *steps).await,
    }
}

/// Counts what a loop sent, so the recorded response (or fault) carries the whole loop's cost.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub queries: u32,
    pub requests: u32,
    pub attacker_requests: u32,
    pub latency_ms: f64,
    pub usage: Option<Usage>,
    pub scores: Vec<f64>,
}

impl Tally {
    /// Sends one target request and counts it. A fault ends the loop as the trial's fault.
    pub async fn ask_target(&mut self, cx: &Ctx<'_>, req: &ChatRequest) -> Result<Response, Fault> {
        self.queries += 1;
        match cx.target.complete(req).await {
            Outcome::Ok(r) => {
                self.requests += r.requests;
                self.latency_ms += r.latency_ms;
                if let Some(u) = r.usage {
                    let t = self.usage.get_or_insert_with(Usage::default);
                    t.prompt_tokens += u.prompt_tokens;
                    t.completion_tokens += u.completion_tokens;
                }
                Ok(r)
            }
            Outcome::Fault(f) => Err(self.fault(f, "target")),
        }
    }

    /// One judged query: sends `req`, has the stop judge read the answer to `messages`, and records
    /// its score (1 only for success, so a high score short of it never reads as one).
    pub async fn ask_and_score(
        &mut self,
        cx: &Ctx<'_>,
        req: &ChatRequest,
        messages: &[Message],
    ) -> Result<(Response, Score), Fault> {
        let response = self.ask_target(cx, req).await?;
        let score = cx.scorer.score(messages, &response).await;
        self.scores.push(if score.success { 1.0 } else { score.value.clamp(0.0, 0.999) });
        Ok((response, score))
    }

    /// The fault that ends the loop: its kind, its detail (saying who failed), and every request
    /// the loop sent.
    pub fn fault(&self, f: Fault, who: &str) -> Fault {
        Fault {
            kind: f.kind,
            detail: format!("{who}, query {} of the attack: {}", self.queries.max(1), f.detail),
            requests: self.requests + self.attacker_requests + f.requests,
        }
    }

    /// The trial's response: `final_response` with the loop's totals and its trace.
    pub fn finish(
        self,
        strategy: &str,
        budget: u32,
        mut final_response: Response,
        transcript: Vec<Message>,
        detail: serde_json::Value,
    ) -> Outcome {
        let success_at = self.scores.iter().position(|&s| s >= 1.0).map(|i| i as u32 + 1);
        final_response.requests = self.requests;
        final_response.latency_ms = self.latency_ms;
        final_response.usage = self.usage;
        final_response.logprobs = None;
        final_response.attack = Some(Box::new(AttackTrace {
            strategy: strategy.to_string(),
            budget,
            queries: self.queries,
            attacker_requests: self.attacker_requests,
            success_at,
            scores: self.scores,
            transcript,
            detail,
        }));
        Outcome::Ok(final_response)
    }
}

/// The request for the target: the run's sampling, the variant's tools.
pub(crate) fn target_request(cx: &Ctx<'_>, messages: Vec<Message>, seed: u64) -> ChatRequest {
    ChatRequest {
        messages: messages.into(),
        tools: cx.variant.tools.clone(),
        sampling: cx.sampling.clone(),
        seed,
        logprobs: None,
    }
}

/// The index of the last user message (the one an attack rewrites).
pub(crate) fn last_user(messages: &[Message]) -> Option<usize> {
    messages.iter().rposition(|m| m.role == evalgap_core::Role::User)
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
