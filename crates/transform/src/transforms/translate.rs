//! `translate:LANG`: the variant sent in another language. The pure part only records the step
//! (`{"lang": "bn", "translated": false}`); the orchestrator gets the translated turns from a
//! translator target (and caches them), then calls [`apply_translation`].

use crate::ctx::Ctx;
use crate::registry::{Arg, Def};
use crate::{TransformError, TransformInfo};
use evalgap_core::{Case, Message, TransformStep, Variant};
use serde_json::{json, Value};

pub(crate) const NAME: &str = "translate";

pub(crate) const DEF: Def = Def {
    info: TransformInfo {
        name: NAME,
        family: "translation",
        params: ":LANG  LANG = target language code (ISO 639-1/-3, optionally with a region: `bn`, `sw`, `zh`, `pt-BR`); last step of a chain",
        description: "the whole variant translated by a translator target (the orchestrator fills it in and caches it); pairs with `needs_translator` and `apply_translation`",
        pool_size: 0,
    },
    arg: Arg::Required,
    example_arg: Some("fr"),
    in_all: false,
    last: Some("it translates everything the earlier steps built (e.g. `roleplay+translate:bn`)"),
    encoding: false,
    check,
    apply,
    decode: None,
};

/// A language code: 2-3 lowercase letters, then optional `-` subtags of 1-8 letters or digits.
pub(crate) fn is_language_code(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn check(arg: Option<&str>) -> Result<(), TransformError> {
    match arg {
        Some(lang) if is_language_code(lang) => Ok(()),
        Some(lang) => Err(TransformError::BadParam {
            transform: NAME.into(),
            param: "LANG".into(),
            why: format!("`{lang}` is not a language code; write a lowercase ISO 639-1 code such as `bn`, `sw` or `zh` (a region may follow: `pt-BR`)"),
        }),
        None => Err(TransformError::BadParam {
            transform: NAME.into(),
            param: "LANG".into(),
            why: "needs a target language, e.g. `translate:bn`".into(),
        }),
    }
}

fn apply(cx: &mut Ctx<'_>) -> Result<Value, TransformError> {
    let lang = cx.arg.clone().unwrap_or_default();
    Ok(json!({"lang": lang, "translated": false}))
}

/// The translated variant: `translated_turns` (the variant's messages, translated by the
/// orchestrator's translator, whole) replace the messages; the `translate` step records
/// `{"lang": LANG, "translated": true}`; the variant's `language` becomes LANG; and the id is
/// recomputed (it hashes the chain and the messages). Tools are kept. A variant whose chain has no
/// `translate` step gets one appended with `"lang": "und"` (undetermined), so the record never
/// claims a language it was not asked for.
pub fn apply_translation(variant: &Variant, translated_turns: Vec<Message>) -> Variant {
    let mut chain = variant.chain.clone();
    let lang = match chain.iter_mut().find(|s| s.name == NAME) {
        Some(step) => {
            let lang = step.params.get("lang").and_then(Value::as_str).unwrap_or("und").to_string();
            step.params = json!({"lang": lang, "translated": true});
            lang
        }
        None => {
            chain.push(TransformStep { name: NAME.into(), params: json!({"lang": "und", "translated": true}) });
            "und".to_string()
        }
    };
    let case = Case {
        id: variant.case_id.clone(),
        turns: Vec::new(),
        kind: variant.kind,
        category: variant.category.clone(),
        language: lang,
        expected: None,
        source: Default::default(),
        meta: Default::default(),
    };
    Variant::new(&case, chain, translated_turns, variant.tools.clone())
}
