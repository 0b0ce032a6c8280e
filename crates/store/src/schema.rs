//! The store's schema and its migrations. Bump [`SCHEMA_VERSION`] with every change, and add the
//! step from the previous version to [`migrate`].

use crate::StoreError;
use rusqlite::Connection;
use std::path::Path;

pub const SCHEMA_VERSION: i64 = 3;

pub(crate) const V1: &str = "
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
    language TEXT NOT NULL, -- the case's, or the one a translate step put it in
    rotation TEXT NOT NULL DEFAULT 'baseline', -- baseline (plain), new, or reused (sent by an earlier run)
    body TEXT NOT NULL   -- the variant as JSON (messages, tools, chain parameters); empty from version 3 on (see variant_bodies)
);
-- seq is the plan order and the key every other table uses: integer keys keep inserts appending
-- (random text keys made writes slow down as a run grew). trial_id is deterministic (see
-- evalgap-core::Trial); its unique index is built after the plan is inserted.
CREATE TABLE trials (
    seq INTEGER PRIMARY KEY, trial_id TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(case_id), variant_id TEXT NOT NULL REFERENCES variants(variant_id),
    attempt INTEGER NOT NULL, seed INTEGER NOT NULL
);
-- At most one row per trial: the response, or the fault after the retry budget.
CREATE TABLE responses (
    seq INTEGER PRIMARY KEY REFERENCES trials(seq),
    status TEXT NOT NULL, -- ok, or the fault kind
    body TEXT NOT NULL,   -- the outcome as JSON
    recorded TEXT NOT NULL
);
CREATE TABLE verdicts (
    seq INTEGER NOT NULL REFERENCES responses(seq), judge TEXT NOT NULL, judge_version TEXT NOT NULL,
    refused INTEGER NOT NULL, harmful INTEGER NOT NULL,
    refusal_assessed INTEGER NOT NULL, -- 0 for judges that only assess harm (guard models)
    body TEXT NOT NULL,
    PRIMARY KEY (seq, judge)
) WITHOUT ROWID;
CREATE TABLE judge_faults (
    seq INTEGER NOT NULL REFERENCES responses(seq), judge TEXT NOT NULL, detail TEXT NOT NULL,
    PRIMARY KEY (seq, judge)
) WITHOUT ROWID;
-- Verdicts by (judge version, hash of what the judge read): a model judge never reads the same
-- input twice, in this run or when rejudging.
-- Translations made for `translate:LANG` variants, by (translator, language, sha256 of the text):
-- a resumed or repeated run sends the same text again, and so plans the same variants.
CREATE TABLE translations (
    translator TEXT NOT NULL, lang TEXT NOT NULL, source_hash TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (translator, lang, source_hash)
) WITHOUT ROWID;
CREATE TABLE verdict_cache (
    judge_version TEXT NOT NULL, input_hash TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (judge_version, input_hash)
) WITHOUT ROWID;
";

/// Version 2: each variant's turn format in a column (`Variant::turn_format`), so the analysis
/// reads no variant body (filled for version-1 rows by the same rule, in SQL), and an index of
/// responses by status.
const V2: &str = "
-- Statuses without reading the wide response rows: counts by status, and the faults per variant.
CREATE INDEX responses_by_status ON responses(status);
ALTER TABLE variants ADD COLUMN format TEXT NOT NULL DEFAULT 'single-turn';
UPDATE variants SET format = CASE
    WHEN json_extract(body, '$.tools') IS NOT NULL THEN 'tool-calling'
    WHEN chain LIKE '%crescendo' OR (SELECT count(*) FROM json_each(body, '$.messages') m
         WHERE json_extract(m.value, '$.role') = 'user') > 1 THEN 'multi-turn'
    ELSE 'single-turn' END;
";

/// Version 3: variant bodies (the messages sent) in their own table, keyed by the variant's plan
/// position `vseq`, so that the analysis's scan of `variants` reads no message text
/// (`variants.body` is left empty); and a tools schema stored once, by hash, rather than in every
/// agentic variant (a variant migrated from version 2 keeps its tools in its body).
const V3: &str = "
CREATE TABLE tools (hash TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE variant_bodies (
    vseq INTEGER PRIMARY KEY,
    body TEXT NOT NULL, -- the variant as JSON, without its tools when `tools` is set
    tools TEXT REFERENCES tools(hash)
);
ALTER TABLE variants ADD COLUMN vseq INTEGER;
INSERT INTO variant_bodies (vseq, body) SELECT rowid, body FROM variants;
UPDATE variants SET vseq = rowid, body = '';
";

pub(crate) fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let err = |source| StoreError::Sql { path: path.to_path_buf(), source };
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
    match version {
        0 => {
            let created = format!("evalgap {}", evalgap_core::TOOL_VERSION).replace('\'', "");
            conn.execute_batch(&format!(
                "BEGIN; {V1} {V2} {V3} INSERT INTO meta (key, value) VALUES ('created_by', '{created}');
                 PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(err)?;
            Ok(())
        }
        1 => {
            conn.execute_batch(&format!("BEGIN; {V2} {V3} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"))
                .map_err(err)?;
            Ok(())
        }
        2 => {
            conn.execute_batch(&format!("BEGIN; {V3} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")).map_err(err)?;
            Ok(())
        }
        SCHEMA_VERSION => Ok(()),
        found => Err(StoreError::Schema { path: path.to_path_buf(), found, expected: SCHEMA_VERSION }),
    }
}
