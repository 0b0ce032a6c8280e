//! What a transform step sees and edits: the messages built so far.

use crate::rng::Rng;
use crate::rotation;
use evalgap_core::{Case, Message, Role};
use serde_json::Value;
use std::sync::Arc;

pub(crate) struct Ctx<'a> {
    pub case: &'a Case,
    pub seed: u64,
    pub cycle: u32,
    /// The step being applied.
    pub name: &'static str,
    pub arg: Option<String>,
    pub messages: Vec<Message>,
    pub tools: Option<Arc<Value>>,
}

impl<'a> Ctx<'a> {
    pub fn new(case: &'a Case, seed: u64, cycle: u32) -> Self {
        Self { case, seed, cycle, name: "", arg: None, messages: case.turns.clone(), tools: None }
    }

    pub fn finish(self) -> (Vec<Message>, Option<Arc<Value>>) {
        (self.messages, self.tools)
    }

    /// The rotation pick of this step's template from a pool of `pool`.
    pub fn pick(&self, pool: usize) -> usize {
        rotation::pick(self.name, &self.case.id, self.seed, self.cycle, pool)
    }

    /// A generator for this step's other seeded choices (`salt` names the choice).
    pub fn rng(&self, salt: &str) -> Rng {
        Rng::from_fields(&[
            b"evalgap/transform",
            self.name.as_bytes(),
            salt.as_bytes(),
            self.case.id.as_bytes(),
            &self.seed.to_le_bytes(),
            &self.cycle.to_le_bytes(),
        ])
    }

    /// Index of the message that carries the request: the last user message.
    pub fn request_index(&self) -> usize {
        self.messages.iter().rposition(|m| m.role == Role::User).expect("checked before the first step")
    }

    /// The request as built so far.
    pub fn request(&self) -> &str {
        &self.messages[self.request_index()].content
    }

    pub fn set_request(&mut self, text: String) {
        let i = self.request_index();
        self.messages[i].content = text;
    }
}

/// `template` with `{request}` replaced by `request` (the request text is inserted, never scanned).
pub(crate) fn fill(template: &str, request: &str) -> String {
    template.replace("{request}", request)
}
