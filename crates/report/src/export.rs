//! `evalgap export --format jsonl`: one line per trial, in plan order, with stable keys:
//! `trial_id`, `case_id`, `variant`, `attempt`, `seed`, `status` (`ok`, a fault kind, or
//! `pending`), `response` (`{text, tool_calls, finish_reason, usage, latency_ms, ...}`, or the
//! fault `{kind, detail, requests}`, or null), `verdicts` (object keyed by judge name).

use evalgap_core::Outcome;
use evalgap_store::{Store, StoreError};
use serde_json::{json, Map, Value};
use std::io::Write;

/// Writes the export; returns the number of lines.
pub fn export_jsonl(store: &Store, out: &mut dyn Write) -> Result<u64, ExportError> {
    let mut n = 0;
    let mut io_err = None;
    store.for_each_trial(|row| {
        if io_err.is_some() {
            return;
        }
        let (status, response) = match &row.outcome {
            None => ("pending".to_string(), Value::Null),
            Some(o @ Outcome::Ok(r)) => (o.status().to_string(), serde_json::to_value(r).expect("response serializes")),
            Some(o @ Outcome::Fault(f)) => (o.status().to_string(), serde_json::to_value(f).expect("fault serializes")),
        };
        let mut verdicts = Map::new();
        for v in &row.verdicts {
            let mut obj = serde_json::to_value(v).expect("verdict serializes");
            if let Some(m) = obj.as_object_mut() {
                m.remove("judge");
            }
            verdicts.insert(v.judge.clone(), obj);
        }
        let line = json!({
            "trial_id": row.trial_id.0,
            "case_id": row.case_id,
            "variant": {"id": row.variant_id, "chain": row.chain},
            "attempt": row.attempt,
            "seed": row.seed,
            "status": status,
            "response": response,
            "verdicts": verdicts,
            "kind": row.kind,
            "category": row.category,
            "language": row.language,
        });
        if let Err(e) =
            serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from).and_then(|_| out.write_all(b"\n"))
        {
            io_err = Some(e);
        }
        n += 1;
    })?;
    if let Some(e) = io_err {
        return Err(ExportError::Io(e));
    }
    out.flush().map_err(ExportError::Io)?;
    Ok(n)
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the export: {0}")]
    Io(std::io::Error),
}
