//! Shopify fulfilments pushed back to the channels. The row is written (`pushing`,
//! with its items claimed) before the channel is called, so a crash or an unknown
//! outcome is settled from the channel's item statuses on the next pass.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use super::{Db, DbError};
use crate::channel::LineState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PushState {
    Pushing,
    Pushed,
    Failed,
}

impl PushState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pushing => "pushing",
            Self::Pushed => "pushed",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> rusqlite::Result<Self> {
        Ok(match s {
            "pushing" => Self::Pushing,
            "pushed" => Self::Pushed,
            "failed" => Self::Failed,
            other => {
                return Err(rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    format!("unknown fulfilment state {other:?}").into(),
                ))
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FulfilmentRow {
    pub channel: String,
    pub order_id: String,
    pub fulfilment_id: String,
    pub state: PushState,
    pub company: Option<String>,
    pub tracking_number: Option<String>,
    pub provider: Option<String>,
    pub fingerprint: String,
    pub reason: Option<String>,
    pub attempted_at: String,
    pub pushed_at: Option<String>,
    pub tracking_url: Option<String>,
}

const COLUMNS: &str = "channel, order_id, fulfilment_id, state, company, tracking_number, \
     provider, fingerprint, reason, attempted_at, pushed_at, tracking_url";

fn row(r: &Row<'_>) -> rusqlite::Result<FulfilmentRow> {
    Ok(FulfilmentRow {
        channel: r.get(0)?,
        order_id: r.get(1)?,
        fulfilment_id: r.get(2)?,
        state: PushState::parse(&r.get::<_, String>(3)?)?,
        company: r.get(4)?,
        tracking_number: r.get(5)?,
        provider: r.get(6)?,
        fingerprint: r.get(7)?,
        reason: r.get(8)?,
        attempted_at: r.get(9)?,
        pushed_at: r.get(10)?,
        tracking_url: r.get(11)?,
    })
}

pub fn get(
    db: &Db,
    channel: &str,
    order_id: &str,
    fulfilment_id: &str,
) -> Result<Option<FulfilmentRow>, DbError> {
    db.read(|c| {
        c.query_row(
            &format!(
                "SELECT {COLUMNS} FROM fulfilments
                  WHERE channel = ?1 AND order_id = ?2 AND fulfilment_id = ?3"
            ),
            params![channel, order_id, fulfilment_id],
            row,
        )
        .optional()
    })
}

/// Rows of `channel` in `state`, oldest attempt first.
pub fn in_state(db: &Db, channel: &str, state: PushState) -> Result<Vec<FulfilmentRow>, DbError> {
    db.read(|c| {
        let mut st = c.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM fulfilments WHERE channel = ?1 AND state = ?2
              ORDER BY attempted_at, order_id, fulfilment_id"
        ))?;
        let rows = st.query_map(params![channel, state.as_str()], row)?;
        rows.collect()
    })
}

/// The tracking numbers each order's channel confirmed, by (channel, order id), in the
/// order they were pushed.
pub fn tracking_sent(db: &Db) -> Result<BTreeMap<(String, String), Vec<String>>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT channel, order_id, tracking_number FROM fulfilments
              WHERE state = 'pushed' AND tracking_number IS NOT NULL
              ORDER BY pushed_at, fulfilment_id",
        )?;
        let rows = st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
        let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for row in rows {
            let (key, number) = row?;
            out.entry(key).or_default().push(number);
        }
        Ok(out)
    })
}

/// One imported channel line, as the fulfilment planner needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub line_id: String,
    pub sku: String,
    pub quantity: i64,
    /// The line's state as last read.
    pub state: LineState,
    /// The fulfilment it was pushed (or is being pushed) with.
    pub fulfilment_id: Option<String>,
}

pub fn imported_lines(db: &Db, channel: &str, order_id: &str) -> Result<Vec<LineRow>, DbError> {
    db.read(|c| {
        let mut st = c.prepare_cached(
            "SELECT line_id, sku, quantity, state, fulfilment_id FROM order_lines
              WHERE channel = ?1 AND order_id = ?2 AND imported = 1
              ORDER BY CAST(line_id AS INTEGER), line_id",
        )?;
        let rows = st.query_map(params![channel, order_id], |r| {
            Ok(LineRow {
                line_id: r.get(0)?,
                sku: r.get(1)?,
                quantity: r.get(2)?,
                state: LineState::parse(&r.get::<_, String>(3)?),
                fulfilment_id: r.get(4)?,
            })
        })?;
        rows.collect()
    })
}

/// What is about to be pushed: the intent, committed before the channel is called.
pub struct Attempt<'a> {
    pub channel: &'a str,
    pub order_id: &'a str,
    pub fulfilment_id: &'a str,
    pub company: Option<&'a str>,
    pub tracking_number: Option<&'a str>,
    pub tracking_url: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub fingerprint: &'a str,
    pub line_ids: &'a [String],
}

/// Records `pushing` and claims the lines for this fulfilment.
pub fn begin_push(db: &Db, a: &Attempt<'_>, now: &str) -> Result<(), DbError> {
    db.write(|c| {
        upsert(c, a, PushState::Pushing, None, now)?;
        let mut st = c.prepare_cached(
            "UPDATE order_lines SET fulfilment_id = ?4
              WHERE channel = ?1 AND order_id = ?2 AND line_id = ?3",
        )?;
        for line in a.line_ids {
            st.execute(params![a.channel, a.order_id, line, a.fulfilment_id])?;
        }
        Ok(())
    })
}

fn upsert(
    c: &rusqlite::Connection,
    a: &Attempt<'_>,
    state: PushState,
    reason: Option<&str>,
    now: &str,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO fulfilments (channel, order_id, fulfilment_id, state, company,
                                  tracking_number, provider, fingerprint, reason, attempted_at,
                                  tracking_url)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (channel, order_id, fulfilment_id) DO UPDATE SET
             state = excluded.state, company = excluded.company,
             tracking_number = excluded.tracking_number, provider = excluded.provider,
             tracking_url = excluded.tracking_url,
             fingerprint = excluded.fingerprint, reason = excluded.reason,
             attempted_at = excluded.attempted_at",
        params![
            a.channel,
            a.order_id,
            a.fulfilment_id,
            state.as_str(),
            a.company,
            a.tracking_number,
            a.provider,
            a.fingerprint,
            reason,
            now,
            a.tracking_url
        ],
    )
    .map(drop)
}

pub fn mark_pushed(
    db: &Db,
    channel: &str,
    order_id: &str,
    fulfilment_id: &str,
    now: &str,
) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "UPDATE fulfilments SET state = 'pushed', reason = NULL, pushed_at = ?4
              WHERE channel = ?1 AND order_id = ?2 AND fulfilment_id = ?3",
            params![channel, order_id, fulfilment_id, now],
        )
        .map(drop)
    })
}

/// A push that cannot happen (checked locally) or that the channel refused: recorded
/// with its reason, and its lines released for a later attempt.
pub fn mark_failed(db: &Db, a: &Attempt<'_>, reason: &str, now: &str) -> Result<(), DbError> {
    db.write(|c| {
        upsert(c, a, PushState::Failed, Some(reason), now)?;
        c.execute(
            "UPDATE order_lines SET fulfilment_id = NULL
              WHERE channel = ?1 AND order_id = ?2 AND fulfilment_id = ?3",
            params![a.channel, a.order_id, a.fulfilment_id],
        )
        .map(drop)
    })
}

/// The line ids claimed by a fulfilment.
pub fn claimed_lines(
    db: &Db,
    channel: &str,
    order_id: &str,
    fulfilment_id: &str,
) -> Result<Vec<String>, DbError> {
    db.read(|c| {
        let mut st = c.prepare_cached(
            "SELECT line_id FROM order_lines
              WHERE channel = ?1 AND order_id = ?2 AND fulfilment_id = ?3 ORDER BY line_id",
        )?;
        let rows = st.query_map(params![channel, order_id, fulfilment_id], |r| r.get(0))?;
        rows.collect()
    })
}

/// Fulfilment pushes in state `failed`, per channel.
pub fn failed_counts(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT channel, COUNT(*) FROM fulfilments WHERE state = 'failed' GROUP BY channel",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::model::fixtures::order;
    use crate::db::orders::{self, Imported};
    use crate::db::test_db;

    fn seed(db: &Db) {
        let o = order("7", &[("1", "A"), ("2", "A")]);
        orders::record_seen(db, "iconic", &o, "T").unwrap();
        let ids = ["1".to_string(), "2".to_string()];
        let imported = Imported {
            shopify_id: "S",
            shopify_name: "#1",
            shopify_total: None,
            adopted: false,
            lines: &ids,
        };
        orders::mark_imported(db, "iconic", "7", &imported, "T").unwrap();
    }

    #[test]
    fn a_push_claims_lines_and_a_failure_releases_them() {
        let (_d, db) = test_db();
        seed(&db);
        let lines = ["1".to_string()];
        let a = Attempt {
            channel: "iconic",
            order_id: "7",
            fulfilment_id: "F1",
            company: Some("Australia Post"),
            tracking_number: Some("TRK1"),
            tracking_url: None,
            provider: Some("AusPost"),
            fingerprint: "fp",
            line_ids: &lines,
        };
        begin_push(&db, &a, "T1").unwrap();
        assert_eq!(claimed_lines(&db, "iconic", "7", "F1").unwrap(), ["1"]);
        let rows = imported_lines(&db, "iconic", "7").unwrap();
        assert_eq!(rows[0].fulfilment_id.as_deref(), Some("F1"));
        assert_eq!(rows[1].fulfilment_id, None);
        // Read from the channel again (every pass does): the claim stays.
        orders::record_seen(&db, "iconic", &order("7", &[("1", "A"), ("2", "A")]), "T1").unwrap();
        assert_eq!(claimed_lines(&db, "iconic", "7", "F1").unwrap(), ["1"]);
        assert_eq!(
            in_state(&db, "iconic", PushState::Pushing).unwrap().len(),
            1
        );

        mark_failed(&db, &a, "Status Transition is not allowed", "T2").unwrap();
        assert!(claimed_lines(&db, "iconic", "7", "F1").unwrap().is_empty());
        let row = get(&db, "iconic", "7", "F1").unwrap().unwrap();
        assert_eq!(row.state, PushState::Failed);
        assert_eq!(
            row.reason.as_deref(),
            Some("Status Transition is not allowed")
        );

        begin_push(&db, &a, "T3").unwrap();
        mark_pushed(&db, "iconic", "7", "F1", "T4").unwrap();
        let row = get(&db, "iconic", "7", "F1").unwrap().unwrap();
        assert_eq!(
            (row.state, row.pushed_at.as_deref()),
            (PushState::Pushed, Some("T4"))
        );
        assert_eq!(row.reason, None);
    }

    #[test]
    fn order_and_fulfilment_counts() {
        let (_dir, db) = test_db();
        assert!(orders::state_counts(&db).unwrap().is_empty());
        assert!(failed_counts(&db).unwrap().is_empty());
        db.write(|c| {
            c.execute_batch(
                "INSERT INTO orders (channel, order_id, number, state, created_at, first_seen_at, updated_at)
                 VALUES ('iconic', '1', 'N1', 'held', 't', 't', 't'),
                        ('iconic', '2', 'N2', 'held', 't', 't', 't'),
                        ('iconic', '3', 'N3', 'imported', 't', 't', 't');
                 INSERT INTO fulfilments (channel, order_id, fulfilment_id, state, fingerprint, attempted_at)
                 VALUES ('iconic', '3', 'F1', 'failed', 'x', 't'),
                        ('iconic', '3', 'F2', 'pushed', 'x', 't');",
            )
        })
        .unwrap();
        let mut states = orders::state_counts(&db).unwrap();
        states.sort();
        assert_eq!(
            states,
            [
                ("iconic".into(), "held".into(), 2),
                ("iconic".into(), "imported".into(), 1)
            ]
        );
        assert_eq!(failed_counts(&db).unwrap(), [("iconic".into(), 1)]);
    }
}
