//! The outbox and notified-items tables (migration 002_notify.sql).

use std::collections::HashSet;

use rusqlite::{params, Connection};

use crate::db::{Db, DbError};

/// An unsent outbox row, as the sender needs it.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub id: i64,
    pub subject: String,
    pub body: String,
    pub repeat_after_s: Option<i64>,
    pub queued_at: String,
}

/// What to insert as one outbox row.
pub(super) struct NewRow<'a> {
    pub kind: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub repeat_after_s: Option<i64>,
    pub queued_at: &'a str,
}

pub(super) fn insert(c: &Connection, row: &NewRow<'_>) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO notify_outbox (kind, subject, body, repeat_after_s, queued_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            row.kind,
            row.subject,
            row.body,
            row.repeat_after_s,
            row.queued_at
        ],
    )
    .map(drop)
}

/// Forgets every `kind` item notified at or before `cutoff` (notified that long ago is the
/// same as never notified), then returns the indexes of `keys` still unknown, first
/// occurrence only.
pub(super) fn unnotified<'k>(
    c: &Connection,
    kind: &str,
    cutoff: &str,
    keys: impl Iterator<Item = &'k str>,
) -> rusqlite::Result<Vec<usize>> {
    c.execute(
        "DELETE FROM notify_items WHERE kind = ?1 AND notified_at <= ?2",
        params![kind, cutoff],
    )?;
    let mut known = c.prepare("SELECT 1 FROM notify_items WHERE kind = ?1 AND key = ?2")?;
    let mut seen = HashSet::new();
    let mut fresh = Vec::new();
    for (i, key) in keys.enumerate() {
        if seen.insert(key) && !known.exists(params![kind, key])? {
            fresh.push(i);
        }
    }
    Ok(fresh)
}

/// Records `keys` as notified at `at`; they must be unknown (see [`unnotified`]).
pub(super) fn mark_notified<'k>(
    c: &Connection,
    kind: &str,
    at: &str,
    keys: impl Iterator<Item = &'k str>,
) -> rusqlite::Result<()> {
    let mut insert =
        c.prepare("INSERT INTO notify_items (kind, key, notified_at) VALUES (?1, ?2, ?3)")?;
    for key in keys {
        insert.execute(params![kind, key, at])?;
    }
    Ok(())
}

/// Every unsent row, oldest first.
pub(super) fn unsent(db: &Db) -> Result<Vec<Row>, DbError> {
    db.read(|c| {
        let mut stmt = c.prepare(
            "SELECT id, subject, body, repeat_after_s, queued_at FROM notify_outbox
             WHERE sent_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Row {
                id: r.get(0)?,
                subject: r.get(1)?,
                body: r.get(2)?,
                repeat_after_s: r.get(3)?,
                queued_at: r.get(4)?,
            })
        })?;
        rows.collect()
    })
}

pub(super) fn count_unsent(db: &Db) -> Result<usize, DbError> {
    db.read(|c| {
        c.query_row(
            "SELECT COUNT(*) FROM notify_outbox WHERE sent_at IS NULL",
            [],
            |r| r.get(0),
        )
    })
}

pub(super) fn mark_sent(db: &Db, id: i64, at: &str) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "UPDATE notify_outbox SET sent_at = ?2, attempts = attempts + 1 WHERE id = ?1",
            params![id, at],
        )
        .map(drop)
    })
}

pub(super) fn mark_failed(db: &Db, id: i64, error: &str) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "UPDATE notify_outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            params![id, error],
        )
        .map(drop)
    })
}
