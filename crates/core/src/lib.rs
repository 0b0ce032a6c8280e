//! The words of evalgap as types.
//!
//! Every other crate speaks in these: a [`Case`] is one test input, a [`Variant`] is a case after a
//! chain of transforms, a [`Trial`] is one attempt of a variant against a target, an [`Outcome`] is
//! what came back (a [`Response`] or a [`Fault`]), and a [`Verdict`] is one judge's reading of a
//! response. See `shared/DESIGN.md` for the definitions these follow.

mod case;
mod hash;
mod protocol;
mod response;
mod trial;
mod verdict;

pub use case::{Case, CaseKind, Message, Role, Source};
pub use hash::{sha256_hex, Hasher};
pub use protocol::{ProtocolCard, TOOL_VERSION};
pub use response::{AttackTrace, Fault, FaultKind, Outcome, Response, TokenLogprob, ToolCall, Usage};
pub use trial::{Sampling, TransformStep, Trial, TrialId, Variant};
pub use verdict::Verdict;
