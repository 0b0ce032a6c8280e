//! Adaptive attacks: steps that only set a trial up, because the attack itself has to talk to the
//! target (and to an attacker model) while the trial runs.
//!
//! - `pair[:N]`: an attacker model rewrites the request after each refusal, in the manner of PAIR
//!   (Chao et al., 2023): N target queries at most, stopping at the first success.
//! - `crescendo[:N]`: an attacker model writes one user turn at a time, starting harmless and
//!   escalating toward the request over one growing conversation, in the manner of Crescendo
//!   (Russinovich et al., 2024); a refused turn is taken back and rephrased. N turns at most.
//! - `suffix-search[:N]`: a black-box random search over an adversarial suffix (Andriushchenko et
//!   al., 2024): mutate the suffix, keep a mutation when the target's first-token log-probabilities
//!   move away from a refusal, check candidates with a full answer. N target queries at most.
//!
//! Here each step only records its budget (and, for the suffix search, the starting suffix); the
//! orchestrator runs the loop (see `evalgap-attack`). [`strategy`] reads a variant back into the
//! loop it needs.

use crate::ctx::Ctx;
use crate::registry::{Arg, Def};
use crate::transforms::suffix::BUILTIN_SUFFIXES;
use crate::{TransformError, TransformInfo};
use evalgap_core::Variant;
use serde_json::{json, Value};

/// Query budget when none is given.
pub const DEFAULT_BUDGET: u32 = 5;
/// The suffix search's default budget (its probes are one token long, so it can afford more).
pub const DEFAULT_SEARCH_BUDGET: u32 = 20;
/// The largest budget any adaptive step accepts.
pub const MAX_BUDGET: u32 = 200;

pub(crate) const PAIR: Def = Def {
    info: TransformInfo {
        name: "pair",
        family: "attacker",
        params: "[:N]  N = target queries at most, 1..=200, default 5; needs --attacker TARGET; last step of a chain",
        description: "an attacker model rewrites the request after each refusal until the stop judge reads success or the budget is spent (PAIR-style)",
        pool_size: 0,
    },
    arg: Arg::Optional,
    example_arg: None,
    in_all: false,
    last: Some("the attacker rewrites the whole request while the trial runs"),
    encoding: false,
    check: check_budget,
    apply: apply_budget,
    decode: None,
};

pub(crate) const CRESCENDO: Def = Def {
    info: TransformInfo {
        name: "crescendo",
        family: "attacker",
        params: "[:N]  N = user turns at most, 1..=200, default 5; needs --attacker TARGET; last step of a chain",
        description: "an attacker model escalates over one conversation, a turn at a time from harmless to the request, taking back refused turns (Crescendo-style)",
        pool_size: 0,
    },
    arg: Arg::Optional,
    example_arg: None,
    in_all: false,
    last: Some("the attacker writes the conversation's turns while the trial runs"),
    encoding: false,
    check: check_budget,
    apply: apply_budget,
    decode: None,
};

pub(crate) const SUFFIX_SEARCH: Def = Def {
    info: TransformInfo {
        name: "suffix-search",
        family: "adversarial-suffix",
        params: "[:N]  N = target queries at most, 1..=200, default 20; last step of a chain",
        description: "random search over an adversarial suffix, guided by the target's first-token log-probabilities where it returns them (the local model always does)",
        pool_size: BUILTIN_SUFFIXES.len(),
    },
    arg: Arg::Optional,
    example_arg: None,
    in_all: false,
    last: Some("the search appends and mutates its own suffix while the trial runs"),
    encoding: false,
    check: check_budget,
    apply: apply_search,
    decode: None,
};

fn check_budget(arg: Option<&str>) -> Result<(), TransformError> {
    parse_budget(arg, 1).map(|_| ())
}

fn parse_budget(arg: Option<&str>, default: u32) -> Result<u32, TransformError> {
    let Some(a) = arg else { return Ok(default) };
    match a.parse::<u32>() {
        Ok(n) if (1..=MAX_BUDGET).contains(&n) => Ok(n),
        _ => Err(TransformError::BadParam {
            transform: String::new(),
            param: "N".into(),
            why: format!("`{a}` is not a budget; write a whole number of queries from 1 to {MAX_BUDGET}"),
        }),
    }
}

fn apply_budget(cx: &mut Ctx<'_>) -> Result<Value, TransformError> {
    let budget = parse_budget(cx.arg.as_deref(), DEFAULT_BUDGET)?;
    Ok(json!({"budget": budget}))
}

fn apply_search(cx: &mut Ctx<'_>) -> Result<Value, TransformError> {
    let budget = parse_budget(cx.arg.as_deref(), DEFAULT_SEARCH_BUDGET)?;
    let t = cx.pick(BUILTIN_SUFFIXES.len());
    let suffix = BUILTIN_SUFFIXES[t];
    let text = format!("{} {suffix}", cx.request());
    cx.set_request(text);
    Ok(json!({"budget": budget, "template": t, "suffix": suffix}))
}

/// The loop an adaptive variant needs while its trial runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// Attacker rewrites of the whole request, `budget` target queries at most.
    Pair { budget: u32 },
    /// Attacker-written escalating turns, `budget` user turns at most.
    Crescendo { budget: u32 },
    /// Random search over the suffix `start`, which ends the last user message after a space.
    SuffixSearch { budget: u32, start: String },
    /// An agent loop: tool calls answered with simulated results, `steps` model turns at most.
    ToolLoop { steps: u32 },
}

impl Strategy {
    /// The name recorded in [`evalgap_core::AttackTrace::strategy`].
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Pair { .. } => "pair",
            Strategy::Crescendo { .. } => "crescendo",
            Strategy::SuffixSearch { .. } => "suffix-search",
            Strategy::ToolLoop { .. } => "tool-loop",
        }
    }

    /// The most target queries the loop may send.
    pub fn budget(&self) -> u32 {
        match self {
            Strategy::Pair { budget } | Strategy::Crescendo { budget } | Strategy::SuffixSearch { budget, .. } => {
                *budget
            }
            Strategy::ToolLoop { steps } => *steps,
        }
    }

    /// Whether the loop needs an attacker model.
    pub fn needs_attacker(&self) -> bool {
        matches!(self, Strategy::Pair { .. } | Strategy::Crescendo { .. })
    }
}

/// The adaptive loop a planned variant asks for, read from its recorded chain; None for a variant
/// that is sent once as it stands.
pub fn strategy(variant: &Variant) -> Option<Strategy> {
    let last = variant.chain.last()?;
    let budget = |d: u32| last.params.get("budget").and_then(Value::as_u64).map(|b| b as u32).unwrap_or(d);
    match last.name.as_str() {
        "pair" => Some(Strategy::Pair { budget: budget(DEFAULT_BUDGET) }),
        "crescendo" => Some(Strategy::Crescendo { budget: budget(DEFAULT_BUDGET) }),
        "suffix-search" => Some(Strategy::SuffixSearch {
            budget: budget(DEFAULT_SEARCH_BUDGET),
            start: last.params.get("suffix").and_then(Value::as_str).unwrap_or_default().to_string(),
        }),
        "agentic" => match last.params.get("steps").and_then(Value::as_u64) {
            Some(s) if s > 1 => Some(Strategy::ToolLoop { steps: s as u32 }),
            _ => None,
        },
        _ => None,
    }
}

/// Whether any of `chains` needs an attacker model (`pair`, `crescendo`).
pub fn needs_attacker(chains: &[crate::Chain]) -> bool {
    chains.iter().flat_map(|c| &c.steps).any(|s| s.name == PAIR.info.name || s.name == CRESCENDO.info.name)
}
