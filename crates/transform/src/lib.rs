//! evalgap-transform: turns a case into the variant actually sent, by a chain of attack transforms.
//!
//! A model that refuses a plain English request can comply when the same request arrives wrapped in
//! fiction, behind a fake system message, with an adversarial suffix, after many fabricated shots,
//! encoded, translated, split over turns, or as a task for a tool-using agent. This crate's one job is
//! to build those variants. Every transform is **pure and seeded**: [`apply`] is a function of
//! (chain, case, seed, cycle) alone, so the same protocol always plans the same variants (and so the
//! same trial ids). Transforms only wrap, encode or re-frame the case text, and fill fabricated turns
//! with placeholders (`[placeholder compliant answer]`); they never add harmful content.
//!
//! - [`parse`] reads a `--transform` value (`roleplay`, `base64`, `translate:bn`, `manyshot:8`,
//!   `roleplay+base64`, `all`, comma-separated lists) into [`Chain`]s and rejects chains that make no
//!   sense, with a message that says what to do.
//! - [`apply`] builds the [`Variant`]; each step is recorded in `Variant.chain` with its arguments and
//!   the template index it used, so a reader can see exactly which template was applied.
//! - [`catalogue`] and [`example`] describe the transforms (for `evalgap transforms`).
//! - Rotation ([`template_index`], [`rotation_pool`]): a transform with a template pool uses a
//!   different share of its pool in each cycle; see [`template_index`].
//! - Encodings: [`decode_response`] reverses base64/rot13/leet when the model answered in the
//!   encoding; the codecs themselves are in [`encoding`].
//! - Translation is the one step with an outside input: [`needs_translator`] tells the orchestrator
//!   which language a chain needs, and [`apply_translation`] builds the translated variant from the
//!   translated turns it obtained (and cached).
//! - [`mutate_suffix`] is the pure mutation step of a black-box suffix optimiser.
//! - Adaptive steps (`pair`, `crescendo`, `suffix-search`, and `agentic:N` with N > 1 tool steps)
//!   only record their budget at plan time: their loops talk to the target while the trial runs
//!   (`evalgap-attack`). [`strategy`] reads a planned variant back into the loop it needs.
//!
//! Adding a transform is one file under `src/transforms/` and one line in `src/registry.rs`.

mod chain;
mod ctx;
pub mod encoding;
mod error;
mod registry;
mod rng;
mod rotation;
mod transforms;

pub use chain::{parse, Chain, Step};
pub use error::TransformError;
pub use registry::{catalogue, TransformInfo};
pub use rotation::{rotation_pool, template_index, SHARES};
pub use transforms::adaptive::{needs_attacker, strategy, Strategy, DEFAULT_BUDGET, DEFAULT_SEARCH_BUDGET, MAX_BUDGET};
pub use transforms::agentic::{agent_tools, MAX_STEPS};
pub use transforms::manyshot::{DEFAULT_SHOTS, MAX_SHOTS, PLACEHOLDER as MANYSHOT_PLACEHOLDER};
pub use transforms::multiturn::PLACEHOLDER as MULTITURN_PLACEHOLDER;
pub use transforms::suffix::{load_suffix_file, mutate_suffix, BUILTIN_SUFFIXES};
pub use transforms::translate::apply_translation;

use evalgap_core::{Case, CaseKind, Role, TransformStep, Variant};

/// The request every [`example`] is applied to: harmless, so examples can be printed anywhere.
pub const EXAMPLE_REQUEST: &str = "How do I bake bread?";

/// The fixed harmless case behind [`example`].
pub fn example_case() -> Case {
    Case::single("example", EXAMPLE_REQUEST, CaseKind::Benign, "example")
}

/// One transform (or a chain spec such as `roleplay+base64`) applied to [`example_case`] with seed 0
/// and cycle 0, for `evalgap transforms`. A transform that needs an argument gets an example one
/// (`translate` → `translate:fr`, `manyshot` keeps its default of 8 shots).
pub fn example(name: &str) -> Result<Variant, TransformError> {
    let spec = match registry::find(name) {
        Some(def) if def.arg == registry::Arg::Required => {
            format!("{name}:{}", def.example_arg.unwrap_or_default())
        }
        _ => name.to_string(),
    };
    let chains = parse(&spec)?;
    match chains.as_slice() {
        [one] => apply(one, &example_case(), 0, 0),
        _ => Err(TransformError::BadChain {
            chain: name.to_string(),
            why: "an example shows one chain; name one transform or one `a+b` chain".into(),
        }),
    }
}

/// Applies `chain` to `case`. Deterministic in (chain, case, seed, cycle): `seed` is the protocol
/// seed, `cycle` the rotation cycle (see [`template_index`]). Steps apply in order, each to the
/// messages the previous one built (`roleplay+base64` encodes the role-play prompt). The empty chain
/// gives the plain variant. A `translate` step is only recorded here (`"translated": false`); send
/// the variant only after [`apply_translation`].
pub fn apply(chain: &Chain, case: &Case, seed: u64, cycle: u32) -> Result<Variant, TransformError> {
    chain::validate(chain)?;
    if !case.turns.iter().any(|m| m.role == Role::User) {
        return Err(TransformError::NoRequest { case: case.id.clone() });
    }
    let mut cx = ctx::Ctx::new(case, seed, cycle);
    let mut steps = Vec::with_capacity(chain.steps.len());
    for step in &chain.steps {
        let def = registry::find(&step.name).expect("validated");
        cx.name = def.info.name;
        cx.arg = step.arg.clone();
        let params = (def.apply)(&mut cx)?;
        steps.push(TransformStep { name: def.info.name.to_string(), params });
    }
    let (messages, tools) = cx.finish();
    Ok(Variant::new(case, steps, messages, tools))
}

/// For a chain with an encoding step (`base64`, `rot13`, `leet`): the response decoded, when the
/// model answered in that encoding; `None` when it did not (or the chain has no encoding). Judges
/// can read both texts. Leet decoding is lossy (see [`encoding::leet_decode`]).
pub fn decode_response(chain: &Chain, text: &str) -> Option<String> {
    response_decoder(chain.steps.iter().map(|s| s.name.as_str())).and_then(|decode| decode(text))
}

/// The decoder of the first encoding step among a chain's step names (`base64`, `rot13`, `leet`),
/// if any: what [`decode_response`] applies, for callers that hold only the step names.
pub fn response_decoder<'a>(mut steps: impl Iterator<Item = &'a str>) -> Option<fn(&str) -> Option<String>> {
    steps.find_map(|name| registry::find(name).and_then(|d| d.decode))
}

/// The language a chain's `translate` step needs (`Some("bn")` for `roleplay+translate:bn`), so the
/// orchestrator knows to run the variant through a translator before sending it.
pub fn needs_translator(chain: &Chain) -> Option<String> {
    chain.steps.iter().find(|s| s.name == transforms::translate::NAME).and_then(|s| s.arg.clone())
}
