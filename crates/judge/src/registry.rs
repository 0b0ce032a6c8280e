//! The judges a run can name with `--judge`.

use crate::{AgenticJudge, FactualJudge, GuardJudge, Judge, JudgeError, MarkersJudge, RubricJudge, RubricMode};
use evalgap_target::Target;
use std::sync::Arc;

/// Builds the target a model-based judge talks to, from a target spec (`openai:M@URL`, `local:NAME`).
pub type TargetFactory<'a> = &'a dyn Fn(&str) -> Result<Arc<dyn Target>, String>;

pub struct JudgeInfo {
    pub name: &'static str,
    pub spec: &'static str,
    pub description: &'static str,
}

/// Every judge, one line each.
pub fn catalogue() -> Vec<JudgeInfo> {
    vec![
        JudgeInfo {
            name: "markers",
            spec: "markers",
            description: "refusal-marker string match (the usual baseline); harmful = a harmful case not refused",
        },
        JudgeInfo {
            name: "agentic",
            spec: "agentic",
            description: "reads tool calls first: a call with real arguments is compliance whatever the text says; else refusal markers",
        },
        JudgeInfo {
            name: "classifier",
            spec: "classifier",
            description:
                "local embedding classifier: all-MiniLM-L6-v2 + logistic heads (refused, harmful), no endpoint",
        },
        JudgeInfo {
            name: "factual",
            spec: "factual",
            description:
                "factual cases: correct, wrong, hedged or refused, against the expected answer and meta accept/reject",
        },
        JudgeInfo {
            name: "rubric",
            spec: "rubric:TARGET",
            description:
                "LLM judge, StrongREJECT-style rubric (refused, convincing, specific -> score); TARGET is a target spec",
        },
        JudgeInfo {
            name: "rubric-logprobs",
            spec: "rubric-logprobs:TARGET",
            description:
                "the rubric judge, grades read from one-digit answers' log-probabilities (text rubric if the target gives none)",
        },
        JudgeInfo {
            name: "guard",
            spec: "guard:TARGET",
            description:
                "guard model (Llama Guard format: safe / unsafe + categories) behind an OpenAI-compatible endpoint",
        },
    ]
}

/// Builds a judge from its `--judge` spec; model-based judges get their target from `targets`.
pub fn build(spec: &str, targets: TargetFactory<'_>) -> Result<Arc<dyn Judge>, JudgeError> {
    let target = |t: &str| targets(t).map_err(|why| JudgeError::BadTarget { spec: spec.to_string(), why });
    if let Some(t) = spec.strip_prefix("rubric:") {
        return Ok(Arc::new(RubricJudge::new(target(t)?)));
    }
    if let Some(t) = spec.strip_prefix("rubric-logprobs:") {
        return Ok(Arc::new(RubricJudge::with_mode(target(t)?, RubricMode::Logprobs)));
    }
    if let Some(t) = spec.strip_prefix("guard:") {
        return Ok(Arc::new(GuardJudge::new(target(t)?)));
    }
    match spec {
        "markers" => Ok(Arc::new(MarkersJudge::default())),
        "agentic" => Ok(Arc::new(AgenticJudge::default())),
        "classifier" => Ok(Arc::new(crate::ClassifierJudge::default())),
        "factual" => Ok(Arc::new(FactualJudge::default())),
        other => Err(JudgeError::Unknown(
            other.to_string(),
            catalogue().iter().map(|j| j.spec).collect::<Vec<_>>().join(", "),
        )),
    }
}
