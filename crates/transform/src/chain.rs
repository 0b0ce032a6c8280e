//! `--transform` values: chains of steps, and the rules for chains that make sense.

use crate::registry::{self, Arg};
use crate::TransformError;
use std::fmt;

/// One `--transform` chain: steps applied in order (`roleplay+base64` wraps, then encodes the
/// wrapped prompt). The empty chain is the plain case (`plain`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Chain {
    pub steps: Vec<Step>,
}

/// One step of a chain: a transform name and its argument (`translate:bn` → `bn`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    pub name: String,
    pub arg: Option<String>,
}

impl Step {
    pub fn new(name: impl Into<String>, arg: Option<&str>) -> Self {
        Self { name: name.into(), arg: arg.map(str::to_string) }
    }
}

impl Chain {
    /// The plain (empty) chain.
    pub fn plain() -> Self {
        Self { steps: Vec::new() }
    }

    pub fn is_plain(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.arg {
            Some(a) => write!(f, "{}:{a}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The spec that parses back to this chain: `roleplay+translate:bn`, or `plain`.
impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("plain");
        }
        for (i, s) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

/// Parses one `--transform` value into chains.
///
/// The value is a comma-separated list of chains; a chain is steps joined by `+`; a step is a name
/// with an optional `:ARG` (`translate:bn`, `manyshot:16`, `suffix:path/to/suffixes.txt`; a path may
/// not contain `,` or `+`). `all` expands to every template transform alone (the catalogue less
/// `translate`, which needs a language and a translator); `plain` is the untransformed case.
/// Duplicate chains are dropped, keeping the first. Rejected: unknown names, bad arguments
/// (`translate` without a language, `manyshot:0` or over 256, an unreadable suffix file), and chains
/// that make no sense: a transform twice (`base64+base64`), two encodings, `agentic`, `multiturn`
/// or `translate` anywhere but last, `translate` or an attacker step (`pair`, `crescendo`) after an
/// encoding, `all` or `plain` inside a chain.
pub fn parse(spec: &str) -> Result<Vec<Chain>, TransformError> {
    if spec.trim().is_empty() {
        return Err(TransformError::BadChain {
            chain: spec.to_string(),
            why: "empty transform spec; name a transform, e.g. `roleplay`, or `all`".into(),
        });
    }
    let mut out: Vec<Chain> = Vec::new();
    for item in spec.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(TransformError::BadChain {
                chain: spec.to_string(),
                why: "empty item in the list; separate chains with single commas".into(),
            });
        }
        let chains = match item {
            "all" => registry::REGISTRY
                .iter()
                .filter(|d| d.in_all)
                .map(|d| Chain { steps: vec![Step::new(d.info.name, None)] })
                .collect(),
            "plain" => vec![Chain::plain()],
            _ => vec![parse_chain(item)?],
        };
        for c in chains {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    Ok(out)
}

fn parse_chain(item: &str) -> Result<Chain, TransformError> {
    let mut steps = Vec::new();
    for part in item.split('+') {
        let part = part.trim();
        let (name, arg) = match part.split_once(':') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (part, None),
        };
        if name.is_empty() {
            return Err(TransformError::BadChain {
                chain: item.to_string(),
                why: "empty step; join transform names with single `+`, e.g. `roleplay+base64`".into(),
            });
        }
        if (name == "all" || name == "plain") && item.contains('+') {
            return Err(TransformError::BadChain {
                chain: item.to_string(),
                why: format!(
                    "`{name}` stands alone; list it beside chains with a comma, e.g. `{name},roleplay+base64`"
                ),
            });
        }
        steps.push(Step::new(name, arg));
    }
    let chain = Chain { steps };
    validate(&chain)?;
    Ok(chain)
}

/// Checks names, arguments and how the steps combine (also run by [`crate::apply`]).
pub(crate) fn validate(chain: &Chain) -> Result<(), TransformError> {
    let bad = |why: String| TransformError::BadChain { chain: chain.to_string(), why };
    let mut encodings = Vec::new();
    for (i, step) in chain.steps.iter().enumerate() {
        let def = registry::find(&step.name)
            .ok_or_else(|| TransformError::UnknownTransform { name: step.name.clone(), known: registry::known() })?;
        let arg = step.arg.as_deref();
        match (def.arg, arg) {
            (Arg::Required, None) | (Arg::Required, Some("")) => {
                return Err(TransformError::BadParam {
                    transform: step.name.clone(),
                    param: "argument".into(),
                    why: format!("needs an argument: {}", def.info.params),
                })
            }
            (Arg::Optional, Some("")) => {
                return Err(TransformError::BadParam {
                    transform: step.name.clone(),
                    param: "argument".into(),
                    why: format!("empty argument after `:`; drop the `:` or write {}", def.info.params),
                })
            }
            _ => {}
        }
        (def.check)(arg).map_err(|e| match e {
            TransformError::BadParam { param, why, .. } => {
                TransformError::BadParam { transform: step.name.clone(), param, why }
            }
            other => other,
        })?;
        if chain.steps[..i].iter().any(|s| s.name == step.name) {
            return Err(bad(format!("`{}` appears twice; a transform applies at most once per chain", step.name)));
        }
        if let Some(why) = def.last {
            if i + 1 != chain.steps.len() {
                return Err(bad(format!("`{}` must be the last step: {why}", step.name)));
            }
        }
        if def.encoding {
            encodings.push(step.name.as_str());
        }
        if def.info.family == "attacker" && !encodings.is_empty() {
            return Err(bad(format!(
                "`{}` after `{}`: the attacker rewrites the request in plain text, which would undo the encoding; put the encoding alone or drop one",
                step.name, encodings[0]
            )));
        }
        if step.name == crate::transforms::translate::NAME && !encodings.is_empty() {
            return Err(bad(format!(
                "`translate` after `{}` would translate encoded text and break the encoding; put the encoding alone or drop one",
                encodings[0]
            )));
        }
    }
    if encodings.len() > 1 {
        return Err(bad(format!(
            "two encodings (`{}` and `{}`); use at most one, so a response in the encoding can be decoded",
            encodings[0], encodings[1]
        )));
    }
    Ok(())
}
