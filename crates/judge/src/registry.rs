//! The judges a run can name with `--judge`.

use crate::{Judge, JudgeError, MarkersJudge};
use std::sync::Arc;

pub struct JudgeInfo {
    pub name: &'static str,
    pub spec: &'static str,
    pub description: &'static str,
}

/// Every judge, one line each.
pub fn catalogue() -> Vec<JudgeInfo> {
    vec![JudgeInfo {
        name: "markers",
        spec: "markers",
        description: "refusal-marker string match (the usual baseline); harmful = a harmful case not refused",
    }]
}

/// Builds a judge from its `--judge` spec.
pub fn build(spec: &str) -> Result<Arc<dyn Judge>, JudgeError> {
    match spec {
        "markers" => Ok(Arc::new(MarkersJudge::default())),
        other => Err(JudgeError::Unknown(
            other.to_string(),
            catalogue().iter().map(|j| j.spec).collect::<Vec<_>>().join(", "),
        )),
    }
}
