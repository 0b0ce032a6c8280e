//! `translate:LANG` variants: their user turns go through a translator target once, are cached in
//! the store by (translator, language, text), and the translated variant replaces the untranslated
//! one in the plan. Planning fails, before any trial is sent, if a translation cannot be had.

use crate::RunError;
use evalgap_core::{Message, Outcome, Role, Sampling, Variant};
use evalgap_store::Store;
use evalgap_target::{ChatRequest, Target};
use std::sync::Arc;

const PROMPT: &str = "Translate the text below into the language with the code `{lang}`. Keep its meaning, \
its form (a question stays a question) and any placeholders in square brackets. Reply with the translation \
only: no notes, no quotes.\n\n{text}";

/// The language a variant still waits to be translated into.
pub fn pending_language(v: &Variant) -> Option<String> {
    let step = v.chain.iter().find(|s| s.name == "translate")?;
    if step.params.get("translated").and_then(|t| t.as_bool()) == Some(false) {
        step.params.get("lang").and_then(|l| l.as_str()).map(str::to_string)
    } else {
        None
    }
}

/// Translates every variant that needs it (user turns only; placeholders in assistant turns stay).
pub async fn translate_variants(
    variants: &mut [Variant],
    translator: &Arc<dyn Target>,
    store: &Store,
) -> Result<(), RunError> {
    let id = translator.id();
    for v in variants.iter_mut() {
        let Some(lang) = pending_language(v) else { continue };
        let mut turns = Vec::with_capacity(v.messages.len());
        for m in v.messages.iter() {
            if m.role != Role::User {
                turns.push(m.clone());
                continue;
            }
            let text = match store.translation(&id, &lang, &m.content)? {
                Some(t) => t,
                None => {
                    let t = translate(translator, &lang, &m.content).await?;
                    store.save_translation(&id, &lang, &m.content, &t)?;
                    t
                }
            };
            turns.push(Message::new(m.role, text));
        }
        *v = evalgap_transform::apply_translation(v, turns);
    }
    Ok(())
}

async fn translate(translator: &Arc<dyn Target>, lang: &str, text: &str) -> Result<String, RunError> {
    let req = ChatRequest {
        messages: vec![Message::user(PROMPT.replace("{lang}", lang).replace("{text}", text))].into(),
        tools: None,
        // Greedy with a fixed seed: the same text translates the same way.
        sampling: Sampling { temperature: 0.0, top_p: 1.0, max_tokens: 1024 },
        seed: 0,
        logprobs: None,
    };
    match translator.complete(&req).await {
        Outcome::Ok(r) if !r.text.trim().is_empty() => Ok(r.text.trim().to_string()),
        Outcome::Ok(_) => {
            Err(RunError::Translation(format!("{} returned an empty translation into `{lang}`", translator.id())))
        }
        Outcome::Fault(f) => Err(RunError::Translation(format!(
            "{} failed to translate into `{lang}`: {} ({})",
            translator.id(),
            f.kind,
            f.detail
        ))),
    }
}
