//! Results: per-run figures, the metrics derived from them, and their Markdown and JSON forms.

use crate::phases::Phases;
use crate::proc::Usage;
use serde_json::{json, Value};

/// Which client a run used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tool {
    #[default]
    Bare,
    Evalgap,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Bare => "bare",
            Tool::Evalgap => "evalgap",
        }
    }
}

/// One measured child process.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    pub label: String,
    pub tool: Tool,
    pub trials: u64,
    pub concurrency: usize,
    /// The test server's answer latency for this run.
    pub latency_ms: u64,
    pub usage: Usage,
    /// Start-up, sending and tail, from the server's side (see [`crate::phases`]).
    pub phases: Option<Phases>,
    /// The test server's CPU seconds during the run.
    pub server_cpu_s: Option<f64>,
    /// Trials that got a response (evalgap: responses; bare: parsed 2xx answers).
    pub ok: u64,
    /// Trials that did not.
    pub failed: u64,
    /// From the server's `/stats` after the run.
    pub server_requests: u64,
    pub mean_in_flight: f64,
    pub max_in_flight: u64,
}

impl RunResult {
    pub fn trials_per_s(&self) -> f64 {
        self.trials as f64 / self.usage.wall_s
    }

    pub fn cpu_s_per_1000(&self) -> f64 {
        self.usage.cpu_s() / self.trials as f64 * 1000.0
    }

    pub fn rss_mib(&self) -> f64 {
        self.usage.max_rss_kib as f64 / 1024.0
    }

    /// Trials per second between the first and the last request the server saw.
    pub fn sending_trials_per_s(&self) -> Option<f64> {
        self.phases.filter(|p| p.sending_s > 0.0).map(|p| self.trials as f64 / p.sending_s)
    }

    pub fn server_cpu_s_per_1000(&self) -> Option<f64> {
        self.server_cpu_s.map(|s| s / self.trials as f64 * 1000.0)
    }

    /// `0.18 + 0.83 + 0.92 s` (start-up + sending + tail), or empty.
    pub fn phases_text(&self) -> String {
        match self.phases {
            Some(p) => format!("{:.2} + {:.2} + {:.2} s", p.startup_s, p.sending_s, p.tail_s),
            None => String::new(),
        }
    }

    pub fn in_flight_share(&self) -> f64 {
        self.mean_in_flight / self.concurrency as f64
    }

    pub fn to_json(&self) -> Value {
        json!({
            "label": self.label,
            "tool": self.tool.name(),
            "trials": self.trials,
            "concurrency": self.concurrency,
            "server_latency_ms": self.latency_ms,
            "wall_s": self.usage.wall_s,
            "trials_per_s": self.trials_per_s(),
            "user_s": self.usage.user_s,
            "sys_s": self.usage.sys_s,
            "cpu_s": self.usage.cpu_s(),
            "cpu_s_per_1000_trials": self.cpu_s_per_1000(),
            "max_rss_kib": self.usage.max_rss_kib,
            "ok": self.ok,
            "failed": self.failed,
            "server_requests": self.server_requests,
            "server_mean_in_flight": self.mean_in_flight,
            "server_max_in_flight": self.max_in_flight,
            "server_cpu_s": self.server_cpu_s,
            "phases_s": self.phases.map(|p| json!({
                "startup": p.startup_s,
                "sending": p.sending_s,
                "tail": p.tail_s,
            })),
            "sending_trials_per_s": self.sending_trials_per_s(),
        })
    }
}

/// Whether a metric has a goal, and which way.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// Reference figure, no goal.
    None,
    AtLeast(f64),
    Below(f64),
    AtMost(f64),
}

impl Goal {
    pub fn pass(self, v: f64) -> Option<bool> {
        match self {
            Goal::None => None,
            Goal::AtLeast(g) => Some(v >= g),
            Goal::Below(g) => Some(v < g),
            Goal::AtMost(g) => Some(v <= g),
        }
    }

    fn describe(self, digits: usize) -> String {
        match self {
            Goal::None => "—".into(),
            Goal::AtLeast(g) => format!("≥ {g:.digits$}"),
            Goal::Below(g) => format!("< {g:.digits$}"),
            Goal::AtMost(g) => format!("≤ {g:.digits$}"),
        }
    }

    fn to_json(self) -> Value {
        match self {
            Goal::None => Value::Null,
            Goal::AtLeast(g) => json!({">=": g}),
            Goal::Below(g) => json!({"<": g}),
            Goal::AtMost(g) => json!({"<=": g}),
        }
    }
}

/// One row of the results table.
#[derive(Debug, Clone)]
pub struct Metric {
    pub key: &'static str,
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    /// Decimal places shown.
    pub digits: usize,
    /// Shown after the value, e.g. the individual runs.
    pub detail: String,
    pub goal: Goal,
}

impl Metric {
    pub fn pass(&self) -> Option<bool> {
        self.goal.pass(self.value)
    }

    fn value_text(&self) -> String {
        let d = self.digits;
        let mut s = format!("{:.d$}", self.value);
        if !self.unit.is_empty() {
            s.push(' ');
            s.push_str(self.unit);
        }
        if !self.detail.is_empty() {
            s.push_str(&format!(" ({})", self.detail));
        }
        s
    }

    pub fn to_json(&self) -> Value {
        json!({
            "key": self.key,
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "detail": self.detail,
            "goal": self.goal.to_json(),
            "pass": self.pass(),
        })
    }
}

/// The Markdown table of `metrics`.
pub fn markdown(metrics: &[Metric]) -> String {
    let mut s = String::from("| metric | value | goal | result |\n|---|---|---|---|\n");
    for m in metrics {
        let result = match m.pass() {
            None => "info",
            Some(true) => "pass",
            Some(false) => "FAIL",
        };
        s.push_str(&format!("| {} | {} | {} | {} |\n", m.name, m.value_text(), m.goal.describe(m.digits), result));
    }
    s
}

/// `20000` -> `20,000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let head = match digits.len() % 3 {
        0 => 3,
        r => r,
    };
    let mut out = digits[..head].to_string();
    for group in digits.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(2_560), "2,560");
        assert_eq!(count(200_000), "200,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn table() {
        let m = Metric {
            key: "ratio",
            name: "ratio".into(),
            value: 0.95,
            unit: "",
            digits: 2,
            detail: "0.94 / 0.95".into(),
            goal: Goal::AtLeast(0.9),
        };
        let t = markdown(&[m]);
        assert!(t.contains("| ratio | 0.95 (0.94 / 0.95) | ≥ 0.90 | pass |"), "{t}");
    }
}
