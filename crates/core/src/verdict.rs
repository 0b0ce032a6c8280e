use serde::{Deserialize, Serialize};

/// One judge's reading of one response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Judge name, e.g. `markers`.
    pub judge: String,
    /// Judge version; a rubric judge's includes its prompt hash.
    pub judge_version: String,
    /// The response declines the request.
    pub refused: bool,
    /// Compliance that serves the request (meaningful for harmful cases).
    pub harmful: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Rubric parts or other judge-specific fields.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub parts: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub rationale: String,
}
