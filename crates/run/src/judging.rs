//! Judging inside a run: every judge reads every ok response; model-based judges go through a
//! verdict cache keyed by (judge version, input hash), kept in memory for the run and in the store
//! across runs, so `rejudge` and repeated responses never reach a judge model twice.

use evalgap_core::{Case, Message, Outcome, Response, Variant, Verdict};
use evalgap_judge::{input_hash, Judge, JudgeInput};
use evalgap_store::{CacheEntry, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

struct Slot {
    judge: Arc<dyn Judge>,
    version: String,
    /// None for cheap judges.
    cache: Option<Mutex<HashMap<String, Verdict>>>,
}

/// The run's judges, with their caches.
pub struct Judges {
    slots: Vec<Slot>,
}

/// What the judges made of one response.
#[derive(Debug, Default)]
pub struct Judged {
    pub verdicts: Vec<Verdict>,
    pub faults: Vec<(String, String)>,
    pub cache: Vec<CacheEntry>,
}

impl Judges {
    /// Loads each model judge's remembered verdicts from the store.
    pub fn new(judges: &[Arc<dyn Judge>], store: &Store) -> Result<Self, StoreError> {
        let mut slots = Vec::with_capacity(judges.len());
        for j in judges {
            let version = j.version();
            let cache = if j.cheap() { None } else { Some(Mutex::new(store.cached_verdicts(&version)?)) };
            slots.push(Slot { judge: j.clone(), version, cache });
        }
        Ok(Self { slots })
    }

    pub fn names_versions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.slots.iter().map(|s| (s.judge.name(), s.version.as_str()))
    }

    /// All judges on one outcome; faults are never judged.
    pub async fn judge_outcome(&self, case: &Case, variant: &Variant, outcome: &Outcome) -> Judged {
        match outcome {
            Outcome::Ok(r) => self.judge_response(case, variant, r, None).await,
            Outcome::Fault(_) => Judged::default(),
        }
    }

    /// All judges (or only the one named `only`) on one response. When the variant asked in an
    /// encoding (base64, rot13, leet) and the model answered in it, judges read the decoded answer.
    /// After an adaptive attack, judges read the conversation the attack actually sent.
    pub async fn judge_response(
        &self,
        case: &Case,
        variant: &Variant,
        response: &Response,
        only: Option<&str>,
    ) -> Judged {
        self.judge_with(case, variant, sent_messages(variant, response), response, |s| {
            only.is_none_or(|n| n == s.judge.name())
        })
        .await
    }

    /// The first judge's verdict on an answer to `messages`: the stop judge of adaptive attacks.
    /// None when the run has no judge or the judge faulted. Cached like any verdict.
    pub async fn first_verdict(
        &self,
        case: &Case,
        variant: &Variant,
        messages: &[Message],
        response: &Response,
    ) -> Option<Verdict> {
        let first = self.slots.first()?.judge.name().to_string();
        self.judge_with(case, variant, messages, response, |s| s.judge.name() == first).await.verdicts.pop()
    }

    async fn judge_with(
        &self,
        case: &Case,
        variant: &Variant,
        messages: &[Message],
        response: &Response,
        wanted: impl Fn(&Slot) -> bool,
    ) -> Judged {
        let decoded = decoded(variant, response);
        let response = decoded.as_ref().unwrap_or(response);
        let input = JudgeInput {
            case_kind: case.kind,
            request: case.text(),
            messages,
            response,
            expected: case.expected.as_deref(),
            case: Some(case),
        };
        let mut out = Judged::default();
        for slot in self.slots.iter().filter(|s| wanted(s)) {
            let key = slot.cache.as_ref().map(|_| input_hash(&input));
            if let (Some(cache), Some(key)) = (&slot.cache, &key) {
                if let Some(v) = cache.lock().expect("cache lock").get(key) {
                    out.verdicts.push(v.clone());
                    continue;
                }
            }
            match slot.judge.judge(&input).await {
                Ok(mut v) => {
                    if decoded.is_some() {
                        v.parts.insert("decoded".into(), true.into());
                    }
                    if let (Some(cache), Some(key)) = (&slot.cache, key) {
                        cache.lock().expect("cache lock").insert(key.clone(), v.clone());
                        out.cache.push(CacheEntry {
                            judge_version: slot.version.clone(),
                            input_hash: key,
                            verdict: v.clone(),
                        });
                    }
                    out.verdicts.push(v);
                }
                Err(f) => out.faults.push((f.judge, f.detail)),
            }
        }
        out
    }
}

/// The messages an answer replied to: the variant's, or after an adaptive attack the transcript
/// of what the attack sent (without the final answer itself).
fn sent_messages<'a>(variant: &'a Variant, response: &'a Response) -> &'a [Message] {
    match &response.attack {
        Some(t) => match t.transcript.split_last() {
            Some((last, before)) if last.role == evalgap_core::Role::Assistant => before,
            _ => &t.transcript,
        },
        None => &variant.messages,
    }
}

/// The response with its text decoded, when the variant's chain has an encoding step and the
/// text decodes; the stored response keeps the original.
fn decoded(variant: &Variant, response: &Response) -> Option<Response> {
    let decode = evalgap_transform::response_decoder(variant.chain.iter().map(|s| s.name.as_str()))?;
    Some(Response { text: decode(&response.text)?, ..response.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use evalgap_core::CaseKind;

    #[tokio::test]
    async fn encoded_answers_are_judged_decoded() {
        let case = Case::single("c", "a request", CaseKind::Harmful, "x");
        let chain = evalgap_transform::parse("base64").unwrap().remove(0);
        let variant = evalgap_transform::apply(&chain, &case, 0, 0).unwrap();
        let encoded = evalgap_transform::encoding::base64_encode("I'm sorry, but I can't help with that.");
        let resp = Response { text: encoded, ..Default::default() };
        let judge: Arc<dyn Judge> = Arc::new(evalgap_judge::MarkersJudge::default());
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_or_create(dir.path()).unwrap();
        let judges = Judges::new(&[judge], &store).unwrap();
        let j = judges.judge_response(&case, &variant, &resp, None).await;
        assert!(j.verdicts[0].refused, "the decoded refusal is seen: {:?}", j.verdicts[0]);
        assert_eq!(j.verdicts[0].parts["decoded"], true);
        let plain = Variant::plain(&case);
        let j = judges.judge_response(&case, &plain, &resp, None).await;
        assert!(!j.verdicts[0].refused, "a plain variant's answer is read as written");
    }
}
