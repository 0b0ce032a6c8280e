use crate::TargetError;
use std::time::Duration;

/// A parsed `--target` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// `openai:MODEL@BASE_URL`: any OpenAI-compatible chat-completions endpoint.
    OpenAi { model: String, base_url: String },
    /// `local:NAME` or `local:PATH`: a GGUF model run in-process.
    Local { model: String },
}

impl TargetSpec {
    pub fn parse(spec: &str) -> Result<Self, TargetError> {
        let bad = |why: &str| TargetError::BadSpec { spec: spec.to_string(), why: why.to_string() };
        if let Some(rest) = spec.strip_prefix("openai:") {
            // Model ids may contain ':' and '@' (ollama's `llama3:8b`), so split at the '@' that starts the URL.
            let at = rest
                .find("@http://")
                .or_else(|| rest.find("@https://"))
                .ok_or_else(|| bad("no `@http://` or `@https://` base URL"))?;
            let model = &rest[..at];
            let base_url = rest[at + 1..].trim_end_matches('/');
            if model.is_empty() {
                return Err(bad("empty model id"));
            }
            if base_url.len() <= "https://".len() {
                return Err(bad("empty base URL"));
            }
            Ok(TargetSpec::OpenAi { model: model.to_string(), base_url: base_url.to_string() })
        } else if let Some(rest) = spec.strip_prefix("local:") {
            if rest.is_empty() {
                return Err(bad("empty local model name"));
            }
            Ok(TargetSpec::Local { model: rest.to_string() })
        } else {
            Err(bad("unknown scheme"))
        }
    }

    /// The canonical text of the spec, as recorded in protocol cards and hashed into trial ids.
    pub fn canonical(&self) -> String {
        match self {
            TargetSpec::OpenAi { model, base_url } => format!("openai:{model}@{base_url}"),
            TargetSpec::Local { model } => format!("local:{model}"),
        }
    }
}

/// How an HTTP target sends requests and when it gives up.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    /// Per request.
    pub timeout: Duration,
    /// Retries after the first request (so up to `max_retries + 1` requests per trial).
    pub max_retries: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Requests per minute over the whole run, if limited.
    pub requests_per_minute: Option<u32>,
    /// Extra headers, e.g. for gateways.
    pub headers: Vec<(String, String)>,
    /// Bearer token; read from the environment, never recorded.
    pub api_key: Option<String>,
    /// Upper bound of connections kept open; usually the run's concurrency.
    pub max_connections: usize,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_retries: 4,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            requests_per_minute: None,
            headers: Vec::new(),
            api_key: None,
            max_connections: 64,
        }
    }
}

impl HttpPolicy {
    /// Parses `Name: value`.
    pub fn parse_header(h: &str) -> Result<(String, String), TargetError> {
        let (name, value) = h.split_once(':').ok_or_else(|| TargetError::BadHeader(h.to_string()))?;
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(TargetError::BadHeader(h.to_string()));
        }
        Ok((name.to_string(), value.trim().to_string()))
    }

    /// The policy as recorded in a protocol card: no secrets, header values hidden.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "timeout_s": self.timeout.as_secs_f64(),
            "max_retries": self.max_retries,
            "backoff_base_ms": self.backoff_base.as_millis() as u64,
            "backoff_max_ms": self.backoff_max.as_millis() as u64,
            "requests_per_minute": self.requests_per_minute,
            "extra_headers": self.headers.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "api_key": if self.api_key.is_some() { "set (not recorded)" } else { "none" },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openai_specs_with_colons_and_at_in_model() {
        let s = TargetSpec::parse("openai:llama3:8b@http://127.0.0.1:11434/v1/").unwrap();
        assert_eq!(s, TargetSpec::OpenAi { model: "llama3:8b".into(), base_url: "http://127.0.0.1:11434/v1".into() });
        assert_eq!(s.canonical(), "openai:llama3:8b@http://127.0.0.1:11434/v1");
        let s = TargetSpec::parse("openai:org@team/m@https://h/v1").unwrap();
        assert_eq!(s, TargetSpec::OpenAi { model: "org@team/m".into(), base_url: "https://h/v1".into() });
        assert!(TargetSpec::parse("openai:m").is_err());
        assert!(TargetSpec::parse("openai:@http://x").is_err());
        assert!(TargetSpec::parse("foo:bar").is_err());
        assert_eq!(TargetSpec::parse("local:smollm2").unwrap(), TargetSpec::Local { model: "smollm2".into() });
    }

    #[test]
    fn headers_parse_and_are_not_recorded() {
        assert_eq!(HttpPolicy::parse_header("X-Team: red").unwrap(), ("X-Team".into(), "red".into()));
        assert!(HttpPolicy::parse_header("nocolon").is_err());
        let p = HttpPolicy {
            headers: vec![("X-Secret".into(), "v4lue".into())],
            api_key: Some("sk-abc".into()),
            ..Default::default()
        };
        let d = p.describe().to_string();
        assert!(!d.contains("v4lue") && !d.contains("sk-abc"));
    }
}
