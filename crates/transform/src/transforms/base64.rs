//! `base64`: the request encoded in base64 (standard alphabet, padded), with an instruction to decode and answer.

use super::encode;
use crate::ctx::Ctx;
use crate::encoding;
use crate::registry::{Arg, Def};
use crate::{TransformError, TransformInfo};
use serde_json::Value;

pub(crate) const DEF: Def = Def {
    info: TransformInfo {
        name: "base64",
        family: "encoding",
        params: encode::PARAMS,
        description: "the request encoded in base64 (standard alphabet, padded), with an instruction to decode and answer; responses in base64 are decoded for the judges",
        pool_size: encode::TEMPLATES.len(),
    },
    arg: Arg::Optional,
    example_arg: None,
    in_all: true,
    last: None,
    encoding: true,
    check: encode::check,
    apply,
    decode: Some(encoding::read_base64_response),
};

fn apply(cx: &mut Ctx<'_>) -> Result<Value, TransformError> {
    encode::apply(cx, "base64", encoding::base64_encode)
}
