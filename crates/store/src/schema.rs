//! The store's schema and its migrations. Bump [`SCHEMA_VERSION`] with every change, and add the
//! step from the previous version to [`migrate`].

use crate::StoreError;
use rusqlite::Connection;
use std::path::Path;

pub const SCHEMA_VERSION: i64 = 1;

const V1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The protocol card of the run (one row).
CREATE TABLE protocol (id INTEGER PRIMARY KEY CHECK (id = 1), card TEXT NOT NULL);
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY, kind TEXT NOT NULL, category TEXT NOT NULL, language TEXT NOT NULL,
    body TEXT NOT NULL -- the case as JSON
);
CREATE TABLE variants (
    variant_id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(case_id),
    chain TEXT NOT NULL, -- e.g. plain, roleplay+base64
    body TEXT NOT NULL   -- the variant as JSON (messages, tools, chain parameters)
);
-- seq is the plan order; trial_id is deterministic (see evalgap-core::Trial).
CREATE TABLE trials (
    seq INTEGER PRIMARY KEY, trial_id TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL REFERENCES cases(case_id), variant_id TEXT NOT NULL REFERENCES variants(variant_id),
    attempt INTEGER NOT NULL, seed INTEGER NOT NULL
);
-- At most one row per trial: the response, or the fault after the retry budget.
CREATE TABLE responses (
    trial_id TEXT PRIMARY KEY REFERENCES trials(trial_id),
    status TEXT NOT NULL, -- ok, or the fault kind
    body TEXT NOT NULL,   -- the outcome as JSON
    recorded TEXT NOT NULL
);
CREATE TABLE verdicts (
    trial_id TEXT NOT NULL REFERENCES responses(trial_id), judge TEXT NOT NULL, judge_version TEXT NOT NULL,
    refused INTEGER NOT NULL, harmful INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (trial_id, judge)
);
CREATE TABLE judge_faults (
    trial_id TEXT NOT NULL REFERENCES responses(trial_id), judge TEXT NOT NULL, detail TEXT NOT NULL,
    PRIMARY KEY (trial_id, judge)
);
";

pub(crate) fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let err = |source| StoreError::Sql { path: path.to_path_buf(), source };
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
    match version {
        0 => {
            conn.execute_batch(&format!("BEGIN; {V1} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")).map_err(err)?;
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('created_by', ?1)",
                [format!("evalgap {}", evalgap_core::TOOL_VERSION)],
            )
            .map_err(err)?;
            Ok(())
        }
        SCHEMA_VERSION => Ok(()),
        found => Err(StoreError::Schema { path: path.to_path_buf(), found, expected: SCHEMA_VERSION }),
    }
}
