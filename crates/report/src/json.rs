//! `report.json`: the machine-readable report. Its schema is documented in the README
//! ("report.json schema"); bump [`SCHEMA_VERSION`] on any change that breaks a reader.

use crate::escape;
use evalgap_analysis::{Analysis, JudgeAnalysis, LanguageGap, Metrics, Slice};
use evalgap_core::{CaseKind, ProtocolCard};
use evalgap_store::{Counts, SampleField, Store, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;
/// Characters of model output kept in a sample.
const SAMPLE_CHARS: usize = 280;
const SAMPLES_PER_GROUP: usize = 3;

#[derive(Debug, Clone, Serialize)]
pub struct JudgeRef {
    pub name: String,
    pub version: String,
}

/// A short excerpt of one response, to let a reader check the judge by eye.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// `harmful_complied` or `benign_refused`.
    pub group: String,
    pub trial_id: String,
    pub case_id: String,
    pub chain: String,
    /// Raw (unescaped) excerpt; renderers escape it.
    pub excerpt: String,
    pub rationale: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub schema_version: u32,
    pub generated: String,
    pub protocol: ProtocolCard,
    pub judges: Vec<JudgeRef>,
    pub counts: Counts,
    /// Faults of the target by kind, and of judges by judge.
    pub faults: Faults,
    pub metrics: HeadlineMetrics,
    pub per_category: Vec<Slice>,
    pub per_transform: Vec<Slice>,
    pub per_language: Vec<Slice>,
    /// `baseline` (plain), `new` and `reused` variants (see the rotation ledger).
    pub per_rotation: Vec<Slice>,
    /// `single-turn`, `multi-turn` and `tool-calling` variants.
    pub per_format: Vec<Slice>,
    /// Refusal rate of each language minus English's on the same requests (plain variants).
    pub language_gaps: Vec<LanguageGap>,
    /// Adaptive attacks (`pair`, `crescendo`, `suffix-search`, `agentic:N`): per chain, how often the
    /// loop stopped on success and what it cost. Empty without adaptive chains.
    pub adaptive: Vec<AttackSummary>,
    /// Agreement between judges and the judge-sensitivity table; null with fewer than two judges.
    pub judge_analysis: Option<JudgeAnalysis>,
    pub samples: Vec<Sample>,
}

/// One adaptive chain: the share of its trials whose loop the stop judge (the run's first judge)
/// ended on success, with a Wilson interval, and the mean target queries per trial.
#[derive(Debug, Clone, Serialize)]
pub struct AttackSummary {
    pub chain: String,
    pub strategy: String,
    pub budget: u64,
    pub stopped_on_success: evalgap_analysis::Rate,
    pub mean_queries: f64,
    pub attacker_requests: u64,
}

impl AttackSummary {
    pub fn from_row(r: evalgap_store::AttackSummaryRow) -> Self {
        AttackSummary {
            stopped_on_success: evalgap_analysis::Rate::wilson(r.succeeded, r.responses),
            chain: r.chain,
            strategy: r.strategy,
            budget: r.budget,
            mean_queries: r.mean_queries,
            attacker_requests: r.attacker_requests,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Faults {
    pub target: BTreeMap<String, u64>,
    pub target_total: u64,
    pub judges: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeadlineMetrics {
    /// The judge these numbers come from.
    pub judge: String,
    #[serde(flatten)]
    pub metrics: Metrics,
}

impl Report {
    pub fn new(
        protocol: ProtocolCard,
        a: Analysis,
        judges: Vec<(String, String)>,
        samples: Vec<Sample>,
        judge_analysis: Option<JudgeAnalysis>,
        adaptive: Vec<AttackSummary>,
    ) -> Self {
        Report {
            schema: "evalgap.report",
            schema_version: SCHEMA_VERSION,
            generated: evalgap_store::now_rfc3339(),
            protocol,
            judges: judges.into_iter().map(|(name, version)| JudgeRef { name, version }).collect(),
            faults: Faults {
                target: a.counts.faults.clone(),
                target_total: a.counts.fault_total(),
                judges: a.judge_faults,
            },
            counts: a.counts,
            metrics: HeadlineMetrics { judge: a.judge, metrics: a.metrics },
            per_category: a.per_category,
            per_transform: a.per_transform,
            per_language: a.per_language,
            per_rotation: a.per_rotation,
            per_format: a.per_format,
            language_gaps: a.language_gaps,
            adaptive,
            judge_analysis,
            samples,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes") + "\n"
    }
}

/// A few complied-with harmful requests and refused benign ones, under `judge`.
pub(crate) fn samples(store: &Store, judge: &str) -> Result<Vec<Sample>, StoreError> {
    let groups = [
        ("harmful_complied", CaseKind::Harmful, SampleField::Harmful),
        ("benign_refused", CaseKind::Benign, SampleField::Refused),
    ];
    let mut out = Vec::new();
    for (group, kind, field) in groups {
        for (trial_id, case_id, chain, resp, v) in store.samples(judge, kind, field, SAMPLES_PER_GROUP)? {
            let mut text = resp.text.clone();
            for c in &resp.tool_calls {
                text.push_str(&format!(" [tool call {}({})]", c.name, c.arguments));
            }
            out.push(Sample {
                group: group.into(),
                trial_id: trial_id.0,
                case_id,
                chain,
                excerpt: escape::truncate(&text, SAMPLE_CHARS),
                rationale: v.rationale,
            });
        }
    }
    Ok(out)
}
