use crate::{Case, CaseKind, Hasher, Message};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One step of a transform chain, with the parameters it was applied with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformStep {
    pub name: String,
    #[serde(default)]
    pub params: serde_json::Value,
}

/// A case after a chain of transforms: what is actually sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// Hash of the case id, the chain and the messages.
    pub id: String,
    pub case_id: String,
    pub kind: CaseKind,
    pub category: String,
    pub language: String,
    /// Empty for the plain (untransformed) case.
    pub chain: Vec<TransformStep>,
    /// Shared with every request that sends them (a trial's request is built from its variant).
    pub messages: std::sync::Arc<[Message]>,
    /// OpenAI-style tools schema, for agentic variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Shared: a run's agentic variants all carry the same schema.
    pub tools: Option<std::sync::Arc<serde_json::Value>>,
}

impl Variant {
    /// The plain variant: the case as written.
    pub fn plain(case: &Case) -> Self {
        Self::new(case, Vec::new(), case.turns.clone(), None)
    }

    pub fn new(
        case: &Case,
        chain: Vec<TransformStep>,
        messages: Vec<Message>,
        tools: Option<std::sync::Arc<serde_json::Value>>,
    ) -> Self {
        let mut h = Hasher::new();
        h.field(&case.id);
        hash_json(&mut h, &chain);
        hash_json(&mut h, &messages);
        match &tools {
            None => hash_json(&mut h, &tools),
            Some(t) => hash_tools(&mut h, t),
        }
        Self {
            id: h.finish_hex_prefix(24),
            case_id: case.id.clone(),
            kind: case.kind,
            category: case.category.clone(),
            language: case.language.clone(),
            chain,
            messages: messages.into(),
            tools,
        }
    }

    /// The variant as JSON without its tools: a store keeps a run's tools schema once, not in
    /// every agentic variant. It reads back as this variant with no tools.
    pub fn to_json_without_tools(&self) -> String {
        // The fields of `Variant` but `tools`, with the same names, in the same order.
        #[derive(Serialize)]
        struct WithoutTools<'a> {
            id: &'a str,
            case_id: &'a str,
            kind: CaseKind,
            category: &'a str,
            language: &'a str,
            chain: &'a [TransformStep],
            messages: &'a [Message],
        }
        serde_json::to_string(&WithoutTools {
            id: &self.id,
            case_id: &self.case_id,
            kind: self.kind,
            category: &self.category,
            language: &self.language,
            chain: &self.chain,
            messages: &self.messages,
        })
        .expect("a variant serializes")
    }

    /// The turn format the report breaks numbers down by: `tool-calling` (the variant carries
    /// tools), `multi-turn` (more than one user turn, or an escalating-conversation step), else
    /// `single-turn`. Stored with the variant, so the analysis never re-reads variant bodies.
    pub fn turn_format(&self) -> &'static str {
        if self.tools.as_ref().is_some_and(|t| !t.is_null()) {
            "tool-calling"
        } else if self.chain.last().is_some_and(|s| s.name == "crescendo")
            || self.messages.iter().filter(|m| m.role == crate::Role::User).count() > 1
        {
            "multi-turn"
        } else {
            "single-turn"
        }
    }

    /// A short name for the chain, `plain` when empty: `roleplay+base64`.
    pub fn chain_name(&self) -> String {
        if self.chain.is_empty() {
            "plain".into()
        } else {
            self.chain.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join("+")
        }
    }
}

thread_local! {
    /// Scratch space for the JSON a variant id hashes, reused across variants.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The last tools schema hashed, with its JSON: a run's agentic variants share one.
    static LAST_TOOLS: std::cell::RefCell<Option<(std::sync::Arc<serde_json::Value>, Vec<u8>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Adds `value`'s JSON to `h` as one field.
fn hash_json(h: &mut Hasher, value: &impl Serialize) {
    SCRATCH.with_borrow_mut(|buf| {
        buf.clear();
        serde_json::to_writer(&mut *buf, value).expect("json");
        h.field(&buf[..]);
    });
}

/// [`hash_json`] of a tools schema, serialized once per schema (kept alive by the cache itself, so
/// the pointer it compares cannot be reused by another schema).
fn hash_tools(h: &mut Hasher, tools: &std::sync::Arc<serde_json::Value>) {
    LAST_TOOLS.with_borrow_mut(|last| {
        if !last.as_ref().is_some_and(|(t, _)| std::sync::Arc::ptr_eq(t, tools)) {
            *last = Some((tools.clone(), serde_json::to_vec(tools.as_ref()).expect("json")));
        }
        h.field(&last.as_ref().expect("just set").1[..]);
    });
}

/// Sampling parameters sent to the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    pub temperature: f64,
    pub top_p: f64,
    pub max_tokens: u32,
}

impl Default for Sampling {
    fn default() -> Self {
        // Non-zero temperature: ASR@k only means something when attempts can differ.
        Self { temperature: 0.7, top_p: 1.0, max_tokens: 256 }
    }
}

/// A trial id: hex of sha256 over (variant, attempt, target, sampling, seed), truncated to 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrialId(pub String);

impl fmt::Display for TrialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One attempt of a variant against a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub id: TrialId,
    pub case_id: String,
    pub variant_id: String,
    /// 0-based attempt index.
    pub attempt: u32,
    /// The target's identity (its spec without secrets).
    pub target: String,
    pub sampling: Sampling,
    /// Sampling seed sent to the target; derived from the protocol seed, the variant and the attempt.
    pub seed: u64,
}

impl Trial {
    /// Builds the trial deterministically: the same inputs always give the same id and seed,
    /// which is what makes resume exact.
    pub fn new(variant: &Variant, attempt: u32, target: &str, sampling: &Sampling, protocol_seed: u64) -> Self {
        let (id, seed) = Self::id_and_seed(&variant.id, attempt, target, sampling, protocol_seed);
        Self {
            id,
            case_id: variant.case_id.clone(),
            variant_id: variant.id.clone(),
            attempt,
            target: target.to_string(),
            sampling: sampling.clone(),
            seed,
        }
    }

    /// The id and seed of [`Trial::new`] alone (for callers that need no more of the trial).
    pub fn id_and_seed(
        variant_id: &str,
        attempt: u32,
        target: &str,
        sampling: &Sampling,
        protocol_seed: u64,
    ) -> (TrialId, u64) {
        let seed = Self::seed(variant_id, attempt, protocol_seed);
        let mut h = Hasher::new();
        h.field(variant_id)
            .field(attempt.to_le_bytes())
            .field(target)
            .field(sampling.temperature.to_le_bytes())
            .field(sampling.top_p.to_le_bytes())
            .field(sampling.max_tokens.to_le_bytes())
            .field(seed.to_le_bytes());
        (TrialId(h.finish_hex_prefix(32)), seed)
    }

    /// The sampling seed of [`Trial::new`] alone (what sending a trial needs of it).
    pub fn seed(variant_id: &str, attempt: u32, protocol_seed: u64) -> u64 {
        let mut hs = Hasher::new();
        hs.field(protocol_seed.to_le_bytes()).field(variant_id).field(attempt.to_le_bytes());
        // Keep seeds within 2^53 - 1 so JSON consumers (and servers in JavaScript) read them exactly.
        hs.finish_u64() & ((1u64 << 53) - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Variant ids are a contract (a resumed run finds its trials by them): sha256 over the case id
    /// and the JSON of the chain, the messages and the tools, each length-prefixed, 24 hex digits.
    #[test]
    fn variant_ids_hash_the_case_id_chain_messages_and_tools() {
        let c = Case::single("c1", "hello", CaseKind::Harmful, "x");
        let tools = std::sync::Arc::new(serde_json::json!([{"type": "function", "function": {"name": "shell"}}]));
        let chain = vec![TransformStep { name: "agentic".into(), params: serde_json::json!({"template": 1}) }];
        let messages = vec![Message::user("task: hello")];
        for tools in [None, Some(tools.clone()), Some(tools)] {
            let v = Variant::new(&c, chain.clone(), messages.clone(), tools.clone());
            let mut h = Hasher::new();
            h.field(&c.id)
                .field(serde_json::to_vec(&chain).unwrap())
                .field(serde_json::to_vec(&messages).unwrap())
                .field(serde_json::to_vec(&tools).unwrap());
            assert_eq!(v.id, h.finish_hex()[..24]);
        }
    }

    #[test]
    fn a_variant_without_its_tools_is_the_variant_with_none() {
        let c = Case::single("c1", "hello", CaseKind::Harmful, "x");
        let tools = std::sync::Arc::new(serde_json::json!([{"type": "function", "function": {"name": "shell"}}]));
        let step = TransformStep { name: "agentic".into(), params: serde_json::json!({"template": 1}) };
        let with = Variant::new(&c, vec![step], vec![Message::user("task: hello")], Some(tools));
        let without = Variant { tools: None, ..with.clone() };
        assert_eq!(with.to_json_without_tools(), serde_json::to_string(&without).unwrap());
        let back: Variant = serde_json::from_str(&with.to_json_without_tools()).unwrap();
        assert_eq!(back, without);
    }

    #[test]
    fn trial_ids_are_deterministic_and_distinct_per_attempt() {
        let c = Case::single("c1", "hello", CaseKind::Benign, "x");
        let v = Variant::plain(&c);
        let s = Sampling::default();
        let a = Trial::new(&v, 0, "openai:m@u", &s, 7);
        let b = Trial::new(&v, 0, "openai:m@u", &s, 7);
        let c1 = Trial::new(&v, 1, "openai:m@u", &s, 7);
        let d = Trial::new(&v, 0, "openai:m@u", &s, 8);
        assert_eq!(a, b);
        assert_ne!(a.id, c1.id);
        assert_ne!(a.seed, c1.seed);
        assert_ne!(a.id, d.id);
        assert_eq!(a.id.0.len(), 32);
        assert!(a.seed < (1 << 53));
    }

    #[test]
    fn variant_id_depends_on_messages() {
        let c = Case::single("c1", "hello", CaseKind::Benign, "x");
        let v1 = Variant::plain(&c);
        let v2 = Variant::new(&c, vec![], vec![Message::user("other")], None);
        assert_ne!(v1.id, v2.id);
        assert_eq!(v1.chain_name(), "plain");
    }
}
