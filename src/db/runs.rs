//! One row per invocation that talks to the APIs, one per step: what `status` reports.

use rusqlite::params;

use super::{Db, DbError};

pub fn start(db: &Db, command: &str, dry_run: bool, now: &str) -> Result<i64, DbError> {
    db.write(|c| {
        c.execute(
            "INSERT INTO sync_runs (command, dry_run, started_at) VALUES (?1, ?2, ?3)",
            params![command, dry_run, now],
        )?;
        Ok(c.last_insert_rowid())
    })
}

pub struct Finish<'a> {
    pub outcome: &'a str,
    pub finished_at: &'a str,
    pub duration_ms: i64,
    /// JSON object: endpoint -> request count.
    pub requests: &'a str,
    pub error: Option<&'a str>,
}

pub fn finish(db: &Db, run_id: i64, f: &Finish<'_>) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "UPDATE sync_runs SET outcome = ?2, finished_at = ?3, duration_ms = ?4, requests = ?5, error = ?6
             WHERE id = ?1",
            params![run_id, f.outcome, f.finished_at, f.duration_ms, f.requests, f.error],
        )
        .map(drop)
    })
}

pub struct Step<'a> {
    pub step: &'a str,
    pub channel: &'a str,
    pub started_at: &'a str,
    pub duration_ms: i64,
    pub outcome: &'a str,
    /// JSON object of counts.
    pub counts: &'a str,
    pub error: Option<&'a str>,
}

pub fn record_step(db: &Db, run_id: i64, s: &Step<'_>) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "INSERT OR REPLACE INTO sync_steps (run_id, step, channel, started_at, duration_ms, outcome, counts, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![run_id, s.step, s.channel, s.started_at, s.duration_ms, s.outcome, s.counts, s.error],
        )
        .map(drop)
    })
}

/// How many passes in a row (the latest first) this step has failed.
pub fn consecutive_failures(db: &Db, step: &str, channel: &str) -> Result<i64, DbError> {
    db.read(|c| {
        let mut st = c.prepare_cached(
            "SELECT s.outcome FROM sync_steps s JOIN sync_runs r ON r.id = s.run_id
              WHERE s.step = ?1 AND s.channel = ?2 AND r.dry_run = 0
              ORDER BY s.run_id DESC LIMIT 100",
        )?;
        let outcomes = st.query_map(params![step, channel], |r| r.get::<_, String>(0))?;
        let mut n = 0;
        for o in outcomes {
            if o? != "failed" {
                break;
            }
            n += 1;
        }
        Ok(n)
    })
}
