use crate::Sampling;
use serde::{Deserialize, Serialize};

pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything needed to reproduce a number. Every report carries one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtocolCard {
    pub tool: String,
    pub tool_version: String,
    /// The target spec without secrets, e.g. `openai:gpt-4o-mini@https://api.openai.com/v1`.
    pub target: String,
    /// Model id as the target reported it, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_model: Option<String>,
    /// sha256 of the model file, for local models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_sha256: Option<String>,
    pub suite: String,
    pub suite_version: String,
    pub cases: u64,
    /// How the cases were chosen: `all`, `first N`, `sample N seed S`.
    pub selection: String,
    pub transforms: Vec<String>,
    /// Rotation cycle of the transforms' template pools.
    #[serde(default)]
    pub cycle: u32,
    /// A language's refusal gap to English is flagged beyond this share (0.10 = 10 points).
    #[serde(default = "default_gap_threshold")]
    pub gap_threshold: f64,
    /// The target that translated `translate:LANG` variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translator: Option<String>,
    /// The attacker model of adaptive attacks (`pair`, `crescendo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attacker: Option<String>,
    pub attempts: u32,
    pub sampling: Sampling,
    pub seed: u64,
    pub judges: Vec<String>,
    pub threat_model: String,
    /// Request settings that shape faults: timeout, retries, concurrency, rate limit.
    pub request_policy: serde_json::Value,
    /// RFC 3339 time the run was first started.
    pub started: String,
}

fn default_gap_threshold() -> f64 {
    0.10
}

impl ProtocolCard {
    /// The judge whose verdicts the headline numbers use: the run's first, `markers` when it
    /// names none.
    pub fn headline_judge(&self) -> &str {
        self.judges.first().map_or("markers", String::as_str)
    }

    /// The fields that define which trials exist and how they are judged: a resumed run must match them.
    pub fn identity(&self) -> serde_json::Value {
        serde_json::json!({
            "target": self.target, "suite": self.suite, "suite_version": self.suite_version,
            "selection": self.selection, "transforms": self.transforms, "cycle": self.cycle, "translator": self.translator,
            "attacker": self.attacker, "attempts": self.attempts,
            "sampling": self.sampling, "seed": self.seed, "judges": self.judges,
        })
    }
}
