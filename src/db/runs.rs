//! One row per invocation that talks to the APIs, one per step: what `status` reports.

use rusqlite::{params, OptionalExtension};

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

// ---- reads for `status` -------------------------------------------------------

/// A recorded run (times RFC 3339 UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    /// `ok` or `failed`; `None` while running, or when the process was killed.
    pub outcome: Option<String>,
    /// JSON object: endpoint -> request count.
    pub requests: Option<String>,
    pub error: Option<String>,
}

const RUN_COLUMNS: &str = "id, started_at, finished_at, duration_ms, outcome, requests, error";

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: r.get(0)?,
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        duration_ms: r.get(3)?,
        outcome: r.get(4)?,
        requests: r.get(5)?,
        error: r.get(6)?,
    })
}

fn latest_run(db: &Db, command: &str, ok_only: bool) -> Result<Option<RunRow>, DbError> {
    db.read(|c| {
        c.query_row(
            &format!(
                "SELECT {RUN_COLUMNS} FROM sync_runs
                  WHERE command = ?1 AND dry_run = 0 AND (?2 = 0 OR outcome = 'ok')
                  ORDER BY id DESC LIMIT 1"
            ),
            params![command, ok_only],
            run_row,
        )
        .optional()
    })
}

/// The latest run of `command` (`sync`, `reset-products`) that was not a dry run.
pub fn last_run(db: &Db, command: &str) -> Result<Option<RunRow>, DbError> {
    latest_run(db, command, false)
}

/// The latest run of `command` that was not a dry run and succeeded.
pub fn last_successful_run(db: &Db, command: &str) -> Result<Option<RunRow>, DbError> {
    latest_run(db, command, true)
}

pub fn run(db: &Db, id: i64) -> Result<Option<RunRow>, DbError> {
    db.read(|c| {
        c.query_row(
            &format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = ?1"),
            params![id],
            run_row,
        )
        .optional()
    })
}

/// The newest `limit` runs that were not dry runs (of `command`, or of any), newest
/// first, with their command.
pub fn recent(
    db: &Db,
    command: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, RunRow)>, DbError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    db.read(|c| {
        let mut st = c.prepare(&format!(
            "SELECT command, {RUN_COLUMNS} FROM sync_runs
              WHERE dry_run = 0 AND (?1 IS NULL OR command = ?1)
              ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = st.query_map(params![command, limit], |r| {
            let command: String = r.get(0)?;
            // The run's own columns follow the command.
            Ok((
                command,
                RunRow {
                    id: r.get(1)?,
                    started_at: r.get(2)?,
                    finished_at: r.get(3)?,
                    duration_ms: r.get(4)?,
                    outcome: r.get(5)?,
                    requests: r.get(6)?,
                    error: r.get(7)?,
                },
            ))
        })?;
        rows.collect()
    })
}

/// A recorded step of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub run_id: i64,
    pub step: String,
    /// Empty for steps that are not per channel.
    pub channel: String,
    pub started_at: String,
    pub duration_ms: i64,
    pub outcome: String,
    /// JSON object of counts.
    pub counts: String,
    pub error: Option<String>,
}

const STEP_COLUMNS: &str =
    "s.run_id, s.step, s.channel, s.started_at, s.duration_ms, s.outcome, s.counts, s.error";

fn step_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StepRow> {
    Ok(StepRow {
        run_id: r.get(0)?,
        step: r.get(1)?,
        channel: r.get(2)?,
        started_at: r.get(3)?,
        duration_ms: r.get(4)?,
        outcome: r.get(5)?,
        counts: r.get(6)?,
        error: r.get(7)?,
    })
}

/// Per step and channel, the latest row of a non-dry run that passes `filter` (SQL on
/// `s2`, the candidate step row), ordered by step then channel.
fn latest_steps(db: &Db, filter: &str) -> Result<Vec<StepRow>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(&format!(
            "SELECT {STEP_COLUMNS} FROM sync_steps s
               JOIN (SELECT s2.step, s2.channel, MAX(s2.run_id) AS run_id
                       FROM sync_steps s2 JOIN sync_runs r ON r.id = s2.run_id
                      WHERE r.dry_run = 0 AND ({filter})
                      GROUP BY s2.step, s2.channel) last
                 ON last.step = s.step AND last.channel = s.channel AND last.run_id = s.run_id
              ORDER BY s.step, s.channel"
        ))?;
        let rows = st.query_map([], step_row)?;
        rows.collect()
    })
}

/// Every step's latest row, per channel.
pub fn last_steps(db: &Db) -> Result<Vec<StepRow>, DbError> {
    latest_steps(db, "1")
}

/// Per channel, the latest products step that matched (its counts have `unmatched`): a
/// products step that was not due records no counts.
pub fn last_matching_steps(db: &Db) -> Result<Vec<StepRow>, DbError> {
    latest_steps(
        db,
        "s2.step = 'products' AND json_extract(s2.counts, '$.unmatched') IS NOT NULL",
    )
}

/// The most recent step that failed, of any run that was not a dry run.
pub fn last_failed_step(db: &Db) -> Result<Option<StepRow>, DbError> {
    db.read(|c| {
        c.query_row(
            &format!(
                "SELECT {STEP_COLUMNS} FROM sync_steps s JOIN sync_runs r ON r.id = s.run_id
                  WHERE r.dry_run = 0 AND s.outcome = 'failed'
                  ORDER BY s.run_id DESC, s.started_at DESC LIMIT 1"
            ),
            [],
            step_row,
        )
        .optional()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_db;

    fn step_of<'a>(
        step: &'a str,
        channel: &'a str,
        counts: &'a str,
        error: Option<&'a str>,
    ) -> Step<'a> {
        Step {
            step,
            channel,
            started_at: "2026-11-27T00:00:00.000Z",
            duration_ms: 5,
            outcome: if error.is_some() { "failed" } else { "ok" },
            counts,
            error,
        }
    }

    fn finish_as(db: &Db, id: i64, outcome: &str) {
        finish(
            db,
            id,
            &Finish {
                outcome,
                finished_at: "2026-11-27T00:00:01.000Z",
                duration_ms: 1000,
                requests: r#"{"shopify Shop":1}"#,
                error: None,
            },
        )
        .unwrap();
    }

    #[test]
    fn last_runs_skip_dry_runs_and_other_commands() {
        let (_dir, db) = test_db();
        assert_eq!(last_run(&db, "sync").unwrap(), None);
        let ok = start(&db, "sync", false, "2026-11-27T00:00:00.000Z").unwrap();
        finish_as(&db, ok, "ok");
        let failed = start(&db, "sync", false, "2026-11-27T00:05:00.000Z").unwrap();
        finish_as(&db, failed, "failed");
        let dry = start(&db, "sync", true, "2026-11-27T00:06:00.000Z").unwrap();
        finish_as(&db, dry, "ok");
        let reset = start(&db, "reset-products", false, "2026-11-27T00:07:00.000Z").unwrap();
        let running = start(&db, "sync", false, "2026-11-27T00:10:00.000Z").unwrap();

        let last = last_run(&db, "sync").unwrap().unwrap();
        assert_eq!(
            (last.id, last.outcome, last.finished_at),
            (running, None, None)
        );
        assert_eq!(last_successful_run(&db, "sync").unwrap().unwrap().id, ok);
        assert_eq!(last_run(&db, "reset-products").unwrap().unwrap().id, reset);
        let again = run(&db, failed).unwrap().unwrap();
        assert_eq!(again.outcome.as_deref(), Some("failed"));
        assert_eq!(again.requests.as_deref(), Some(r#"{"shopify Shop":1}"#));
        assert_eq!(run(&db, 999).unwrap(), None);
    }

    #[test]
    fn latest_steps_per_channel_and_the_last_match_and_failure() {
        let (_dir, db) = test_db();
        let first = start(&db, "sync", false, "2026-11-27T00:00:00.000Z").unwrap();
        record_step(
            &db,
            first,
            &step_of("products", "iconic", r#"{"unmatched":3}"#, None),
        )
        .unwrap();
        record_step(
            &db,
            first,
            &step_of("products", "catch", r#"{"unmatched":1}"#, None),
        )
        .unwrap();
        record_step(
            &db,
            first,
            &step_of("stock", "iconic", "{}", Some("old outage")),
        )
        .unwrap();
        let second = start(&db, "sync", false, "2026-11-27T00:05:00.000Z").unwrap();
        // Not due: no counts.
        record_step(&db, second, &step_of("products", "iconic", "{}", None)).unwrap();
        record_step(
            &db,
            second,
            &step_of("stock", "iconic", r#"{"pushed":2}"#, None),
        )
        .unwrap();
        let dry = start(&db, "sync", true, "2026-11-27T00:06:00.000Z").unwrap();
        record_step(
            &db,
            dry,
            &step_of("products", "iconic", r#"{"unmatched":9}"#, None),
        )
        .unwrap();
        record_step(
            &db,
            dry,
            &step_of("stock", "iconic", "{}", Some("dry failure")),
        )
        .unwrap();

        let last: Vec<(String, String, i64)> = last_steps(&db)
            .unwrap()
            .into_iter()
            .map(|s| (s.step, s.channel, s.run_id))
            .collect();
        assert_eq!(
            last,
            [
                ("products".into(), "catch".into(), first),
                ("products".into(), "iconic".into(), second),
                ("stock".into(), "iconic".into(), second),
            ]
        );
        let matching: Vec<(String, String)> = last_matching_steps(&db)
            .unwrap()
            .into_iter()
            .map(|s| (s.channel, s.counts))
            .collect();
        assert_eq!(
            matching,
            [
                ("catch".into(), r#"{"unmatched":1}"#.into()),
                ("iconic".into(), r#"{"unmatched":3}"#.into()),
            ]
        );
        let failed = last_failed_step(&db).unwrap().unwrap();
        assert_eq!(
            (failed.run_id, failed.error.as_deref()),
            (first, Some("old outage"))
        );
    }
}
