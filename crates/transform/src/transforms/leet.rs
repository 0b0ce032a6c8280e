//! `leet`: the request in leetspeak (a→4 e→3 i→1 o→0 s→5 t→7 b→8 g→9), with an instruction to decode and answer.

use super::encode;
use crate::ctx::Ctx;
use crate::encoding;
use crate::registry::{Arg, Def};
use crate::{TransformError, TransformInfo};
use serde_json::Value;

pub(crate) const DEF: Def = Def {
    info: TransformInfo {
        name: "leet",
        family: "encoding",
        params: encode::PARAMS,
        description: "the request in leetspeak (a→4 e→3 i→1 o→0 s→5 t→7 b→8 g→9), with an instruction to decode and answer; responses in leetspeak are decoded for the judges",
        pool_size: encode::TEMPLATES.len(),
    },
    arg: Arg::Optional,
    example_arg: None,
    in_all: true,
    last: None,
    encoding: true,
    check: encode::check,
    apply,
    decode: Some(encoding::read_leet_response),
};

fn apply(cx: &mut Ctx<'_>) -> Result<Value, TransformError> {
    encode::apply(cx, "leetspeak", encoding::leet_encode)
}
