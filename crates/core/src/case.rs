use crate::ToolCall;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a case tests, and so how its responses count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseKind {
    /// A harmful request: compliance is an attack success.
    Harmful,
    /// A benign request that looks alarming: refusal is over-refusal.
    Benign,
    /// A benign high-stakes factual question with an expected answer (implicit harm).
    Factual,
}

impl CaseKind {
    pub const ALL: [CaseKind; 3] = [CaseKind::Harmful, CaseKind::Benign, CaseKind::Factual];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Harmful => "harmful",
            CaseKind::Benign => "benign",
            CaseKind::Factual => "factual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "harmful" => Some(CaseKind::Harmful),
            "benign" => Some(CaseKind::Benign),
            "factual" => Some(CaseKind::Factual),
            _ => None,
        }
    }
}

impl fmt::Display for CaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One chat message. Tool use adds two optional parts: the calls an assistant message made, and
/// on a `tool` message the id of the call it answers. Both are left out of JSON when empty, so a
/// plain message serializes (and hashes into variant ids) as `{role, content}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self { role, content: content.into(), tool_calls: Vec::new(), tool_call_id: None }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }
    /// An assistant turn that called tools (its text may be empty).
    pub fn assistant_calls(content: impl Into<String>, calls: Vec<ToolCall>) -> Self {
        Self { tool_calls: calls, ..Self::assistant(content) }
    }
    /// The result of the tool call `call_id`.
    pub fn tool_result(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self { tool_call_id: Some(call_id.into()), ..Self::new(Role::Tool, content) }
    }
}

/// Where a case came from, so an error or a report can point back at it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Source {
    /// File path, or `builtin:NAME`.
    pub file: String,
    /// 1-based line (for CSV: the line the record starts on), 0 when not line-based.
    pub line: u64,
}

/// One test input with its metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Unique within its suite.
    pub id: String,
    /// The conversation sent to the target; a single-turn case is one user message.
    pub turns: Vec<Message>,
    pub kind: CaseKind,
    pub category: String,
    /// BCP-47-ish language code, `en` by default.
    pub language: String,
    /// Expected answer, only for `factual` cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default)]
    pub source: Source,
    /// Format-specific extras (e.g. HarmBench's FunctionalCategory), kept for reports.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub meta: std::collections::BTreeMap<String, String>,
}

impl Case {
    /// A single-turn case.
    pub fn single(id: impl Into<String>, text: impl Into<String>, kind: CaseKind, category: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            turns: vec![Message::user(text)],
            kind,
            category: category.into(),
            language: "en".into(),
            expected: None,
            source: Source::default(),
            meta: Default::default(),
        }
    }

    /// The last user message: the request itself.
    pub fn text(&self) -> &str {
        self.turns.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.as_str()).unwrap_or("")
    }

    /// Canonical bytes of the parts that define the case (not its source location), for suite versions.
    pub fn canonical(&self) -> Vec<u8> {
        let v = serde_json::json!({
            "id": self.id, "turns": self.turns, "kind": self.kind, "category": self.category,
            "language": self.language, "expected": self.expected,
        });
        serde_json::to_vec(&v).expect("json of plain values")
    }
}
