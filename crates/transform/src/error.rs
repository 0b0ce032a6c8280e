//! Errors: each says what was wrong and what to write instead.

/// Why a transform spec, chain or application failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    /// A name that is not in the catalogue.
    #[error("unknown transform `{name}`; known transforms: {known} (also `all` for every template transform alone, and `plain` for the untransformed case)")]
    UnknownTransform { name: String, known: String },
    /// A missing, unexpected or invalid argument.
    #[error("transform `{transform}`, parameter `{param}`: {why}")]
    BadParam { transform: String, param: String, why: String },
    /// A chain whose steps do not combine.
    #[error("transform chain `{chain}`: {why}")]
    BadChain { chain: String, why: String },
    /// A suffix file that cannot be used, with its line when one is to blame.
    #[error("suffix file {}: {why}", at(.file, .line))]
    SuffixFile { file: String, line: Option<u64>, why: String },
    /// A case with no user message: there is nothing to transform.
    #[error("case `{case}` has no user message to transform")]
    NoRequest { case: String },
}

fn at(file: &str, line: &Option<u64>) -> String {
    match line {
        Some(l) => format!("{file}:{l}"),
        None => file.to_string(),
    }
}
