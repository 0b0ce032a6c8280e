//! The rotation ledger: one SQLite file shared by the runs of a project (by default
//! `rotation-ledger.sqlite` beside the run folders) that remembers which variants each run and cycle
//! sent. A variant an earlier run already sent is `reused`; a model tuned to last cycle's variants
//! shows up as a gap between the numbers on reused and on new variants.

use crate::{Result, StoreError};
use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};

pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl Ledger {
    pub fn open(path: &Path) -> Result<Self> {
        let err = |source| StoreError::Sql { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(dir.to_path_buf(), e))?;
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS used (
                 variant_id TEXT NOT NULL, run TEXT NOT NULL, cycle INTEGER NOT NULL, chain TEXT NOT NULL,
                 recorded TEXT NOT NULL, PRIMARY KEY (variant_id, run)
             ) WITHOUT ROWID;",
        )
        .map_err(err)?;
        Ok(Self { conn, path: path.to_path_buf() })
    }

    /// For each variant (id, chain), whether another run sent it before; then records this run's use.
    pub fn mark(&mut self, run: &str, cycle: u32, variants: &[(String, String)]) -> Result<Vec<bool>> {
        let path = self.path.clone();
        let err = |source| StoreError::Sql { path: path.clone(), source };
        let now = crate::now_rfc3339();
        let tx = self.conn.transaction().map_err(err)?;
        let mut reused = vec![false; variants.len()];
        // In id order, so that the inserts into a new ledger append instead of splitting pages.
        let mut order: Vec<usize> = (0..variants.len()).collect();
        order.sort_unstable_by(|&a, &b| variants[a].0.cmp(&variants[b].0));
        {
            let mut q =
                tx.prepare("SELECT EXISTS (SELECT 1 FROM used WHERE variant_id = ?1 AND run != ?2)").map_err(err)?;
            let mut ins = tx
                .prepare(
                    "INSERT OR IGNORE INTO used (variant_id, run, cycle, chain, recorded) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err)?;
            for i in order {
                let (id, chain) = &variants[i];
                reused[i] = q.query_row(params![id, run], |r| r.get::<_, bool>(0)).map_err(err)?;
                ins.execute(params![id, run, cycle, chain, now]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(reused)
    }
}
