//! The transforms a `--transform` value can name. Adding one is one line of [`REGISTRY`].

use crate::ctx::Ctx;
use crate::transforms::{
    adaptive, agentic, base64, hierarchy, leet, manyshot, multiturn, roleplay, rot13, suffix, translate,
};
use crate::TransformError;
use serde_json::Value;

/// What `evalgap transforms` lists about a transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformInfo {
    /// The name used in `--transform`.
    pub name: &'static str,
    /// The attack family: `role-play`, `instruction-hierarchy`, `adversarial-suffix`, `many-shot`,
    /// `encoding`, `translation`, `multi-turn`, `tool-use`, `attacker` (adaptive: needs an attacker model).
    pub family: &'static str,
    /// How its parameters are written, e.g. `manyshot[:N]  N = shots, 1..=256, default 8`.
    pub params: &'static str,
    pub description: &'static str,
    /// Templates available for rotation (0 when the transform has none).
    pub pool_size: usize,
}

/// Whether a transform takes an argument after `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arg {
    None,
    Optional,
    Required,
}

pub(crate) struct Def {
    pub info: TransformInfo,
    pub arg: Arg,
    /// The argument [`crate::example`] uses when one is required.
    pub example_arg: Option<&'static str>,
    /// Part of what `all` expands to.
    pub in_all: bool,
    /// Must be the last step of a chain, with why.
    pub last: Option<&'static str>,
    /// An encoding: at most one per chain, and nothing that rewrites text may follow it.
    pub encoding: bool,
    /// Validates the argument at parse time (the transform name is filled in by the caller).
    pub check: fn(Option<&str>) -> Result<(), TransformError>,
    /// Applies the step to the messages built so far and returns its recorded parameters.
    pub apply: fn(&mut Ctx<'_>) -> Result<Value, TransformError>,
    /// Decodes a response written in the encoding, for encodings.
    pub decode: Option<fn(&str) -> Option<String>>,
}

/// Every transform, in catalogue order.
#[rustfmt::skip]
pub(crate) const REGISTRY: &[&Def] = &[
    &roleplay::DEF,
    &hierarchy::DEF,
    &suffix::DEF,
    &manyshot::DEF,
    &base64::DEF,
    &rot13::DEF,
    &leet::DEF,
    &translate::DEF,
    &multiturn::DEF,
    &agentic::DEF,
    &adaptive::PAIR,
    &adaptive::CRESCENDO,
    &adaptive::SUFFIX_SEARCH,
];

pub(crate) fn find(name: &str) -> Option<&'static Def> {
    REGISTRY.iter().copied().find(|d| d.info.name == name)
}

pub(crate) fn known() -> String {
    REGISTRY.iter().map(|d| d.info.name).collect::<Vec<_>>().join(", ")
}

/// Every transform, in catalogue order.
pub fn catalogue() -> Vec<TransformInfo> {
    REGISTRY.iter().map(|d| d.info.clone()).collect()
}

/// A check for transforms that take no argument.
pub(crate) fn no_arg(arg: Option<&str>) -> Result<(), TransformError> {
    match arg {
        None => Ok(()),
        Some(a) => Err(TransformError::BadParam {
            transform: String::new(),
            param: "argument".into(),
            why: format!("takes no argument, got `{a}`; write the name alone"),
        }),
    }
}
