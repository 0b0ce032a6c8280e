//! Judges: response -> verdict.
//!
//! Every response is read by every judge of a run; a judge is named and versioned, and its
//! verdicts are stored per (trial, judge). Faults never reach a judge. A new judge is one file in
//! this crate plus one line in [`registry`].

mod agentic;
mod classifier;
mod factual;
pub mod guard;
pub mod labels;
mod markers;
mod registry;
pub mod rubric;

pub use agentic::{is_action, AgenticJudge};
pub use classifier::{ClassifierJudge, CLASSIFIER_HEAD};
pub use factual::{FactualClass, FactualJudge, HEDGE_MARKERS};
pub use guard::GuardJudge;
pub use markers::{MarkersJudge, REFUSAL_MARKERS};
pub use registry::{build, catalogue, JudgeInfo, TargetFactory};
pub use rubric::{Mode as RubricMode, RubricJudge};

use evalgap_core::{Case, CaseKind, Message, Response, Verdict};

/// What a judge sees.
#[derive(Debug, Clone, Copy)]
pub struct JudgeInput<'a> {
    pub case_kind: CaseKind,
    /// The request as written in the case (before transforms).
    pub request: &'a str,
    /// What was actually sent.
    pub messages: &'a [Message],
    pub response: &'a Response,
    /// Expected answer, for factual cases.
    pub expected: Option<&'a str>,
    /// The whole case, when the caller has it: judges that need more than the fields above (the
    /// `factual` judge reads `meta.accept` and `meta.reject`) look here. `None` in unit tests.
    pub case: Option<&'a Case>,
}

/// Why a judge gave no verdict (an endpoint fault, an unparseable answer). Recorded, never guessed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("judge {judge} gave no verdict: {detail}")]
pub struct JudgeFault {
    pub judge: String,
    pub detail: String,
}

#[async_trait::async_trait]
pub trait Judge: Send + Sync {
    fn name(&self) -> &str;
    /// Changes whenever the judge's behaviour can change (rubric text, marker list, model).
    fn version(&self) -> String;
    /// Cheap judges (string rules) are not worth caching; model-based ones are, by (version,
    /// input hash), so the same input never reaches the judge model twice.
    fn cheap(&self) -> bool {
        false
    }
    /// Cheap judges answer inline; model-based ones await their endpoint.
    async fn judge(&self, input: &JudgeInput<'_>) -> Result<Verdict, JudgeFault>;
}

#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    #[error("unknown judge `{0}`; known judges: {1}")]
    Unknown(String, String),
    #[error("judge `{spec}`: {why}")]
    BadTarget { spec: String, why: String },
}

/// A short, readable name for a judge's target: the model id of `openai:MODEL@URL`, else the spec.
pub fn short_target(id: &str) -> String {
    match id.strip_prefix("openai:") {
        Some(rest) => rest.rfind("@http").map(|at| rest[..at].to_string()).unwrap_or_else(|| rest.to_string()),
        None => id.to_string(),
    }
}

/// Hash of everything a judge reads, the key of the verdict cache (with the judge's version).
pub fn input_hash(input: &JudgeInput<'_>) -> String {
    let mut h = evalgap_core::Hasher::new();
    h.field(input.case_kind.as_str()).field(input.request).field(input.response.reply_text());
    h.field(input.expected.unwrap_or(""));
    if let Some(c) = input.case {
        h.field(serde_json::to_vec(&c.meta).unwrap_or_default());
    }
    h.finish_hex()
}
