//! Channel orders and their fate in Shopify. The state column is the exactly-once
//! ledger: `creating` is committed before `orderCreate` is sent (design §8).

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use super::{Db, DbError};
use std::collections::{BTreeMap, BTreeSet};

use crate::channel::{ChannelOrder, UnreadableOrder};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum State {
    Pending,
    Held,
    /// Accepted on the channel (which asks for it); imported once paid.
    Accepted,
    Creating,
    Imported,
    Failed,
    ItemsChanged,
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Held => "held",
            Self::Accepted => "accepted",
            Self::Creating => "creating",
            Self::Imported => "imported",
            Self::Failed => "failed",
            Self::ItemsChanged => "items_changed",
            Self::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> rusqlite::Result<Self> {
        Ok(match s {
            "pending" => Self::Pending,
            "held" => Self::Held,
            "accepted" => Self::Accepted,
            "creating" => Self::Creating,
            "imported" => Self::Imported,
            "failed" => Self::Failed,
            "items_changed" => Self::ItemsChanged,
            "cancelled" => Self::Cancelled,
            other => {
                return Err(rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    format!("unknown order state {other:?}").into(),
                ))
            }
        })
    }

    /// Not in Shopify yet, and still to be decided on every pass.
    pub fn awaits_import(self) -> bool {
        matches!(
            self,
            Self::Pending | Self::Held | Self::Accepted | Self::Creating | Self::Failed
        )
    }
}

/// One order as stored; times are RFC 3339 UTC, amounts decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderRow {
    pub channel: String,
    pub order_id: String,
    pub number: String,
    pub state: State,
    pub reason: Option<String>,
    pub created_at: String,
    pub first_seen_at: String,
    pub attempt_at: Option<String>,
    pub imported_at: Option<String>,
    pub shopify_id: Option<String>,
    pub shopify_name: Option<String>,
    pub adopted: bool,
    pub currency: Option<String>,
    pub value: Option<String>,
    pub channel_total: Option<String>,
    pub shopify_total: Option<String>,
    pub watching: bool,
    pub edited_at: Option<String>,
    pub updated_at: String,
}

const COLUMNS: &str = "channel, order_id, number, state, reason, created_at, first_seen_at, \
     attempt_at, imported_at, shopify_id, shopify_name, adopted, currency, value, channel_total, \
     shopify_total, watching, edited_at, updated_at";

fn row(r: &Row<'_>) -> rusqlite::Result<OrderRow> {
    Ok(OrderRow {
        channel: r.get(0)?,
        order_id: r.get(1)?,
        number: r.get(2)?,
        state: State::parse(&r.get::<_, String>(3)?)?,
        reason: r.get(4)?,
        created_at: r.get(5)?,
        first_seen_at: r.get(6)?,
        attempt_at: r.get(7)?,
        imported_at: r.get(8)?,
        shopify_id: r.get(9)?,
        shopify_name: r.get(10)?,
        adopted: r.get(11)?,
        currency: r.get(12)?,
        value: r.get(13)?,
        channel_total: r.get(14)?,
        shopify_total: r.get(15)?,
        watching: r.get(16)?,
        edited_at: r.get(17)?,
        updated_at: r.get(18)?,
    })
}

pub fn get(db: &Db, channel: &str, order_id: &str) -> Result<Option<OrderRow>, DbError> {
    db.read(|c| {
        c.query_row(
            &format!("SELECT {COLUMNS} FROM orders WHERE channel = ?1 AND order_id = ?2"),
            params![channel, order_id],
            row,
        )
        .optional()
    })
}

/// The order `channel` shows people as `number`.
pub fn by_number(db: &Db, channel: &str, number: &str) -> Result<Option<OrderRow>, DbError> {
    db.read(|c| {
        c.query_row(
            &format!("SELECT {COLUMNS} FROM orders WHERE channel = ?1 AND number = ?2"),
            params![channel, number],
            row,
        )
        .optional()
    })
}

/// Orders to re-read from the channel this pass: not yet imported (or unresolved), and
/// imported ones still open there. An order that left the channel's pending state
/// before import is no longer watched.
pub fn tracked(db: &Db, channel: &str) -> Result<Vec<OrderRow>, DbError> {
    db.read(|c| {
        let mut st = c.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM orders WHERE channel = ?1 AND watching = 1
               AND state IN ('pending', 'held', 'accepted', 'creating', 'failed', 'imported')
             ORDER BY created_at, order_id"
        ))?;
        let rows = st.query_map([channel], row)?;
        rows.collect()
    })
}

/// What `skubridge orders` lists, newest first.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub channel: Option<&'a str>,
    pub state: Option<State>,
    /// Channel creation time at or after this (RFC 3339).
    pub since: Option<&'a str>,
}

/// Each SKU the channel's orders hold, with the number of the newest order holding it.
pub fn ordered_skus(db: &Db, channel: &str) -> Result<Vec<(String, String)>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT l.sku, o.number FROM order_lines l
               JOIN orders o ON o.channel = l.channel AND o.order_id = l.order_id
              WHERE l.channel = ?1
              ORDER BY l.sku, o.created_at DESC",
        )?;
        let rows = st.query_map([channel], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let mut out: Vec<(String, String)> = Vec::new();
        for row in rows {
            let (sku, number): (String, String) = row?;
            if out.last().is_none_or(|(last, _)| *last != sku) {
                out.push((sku, number));
            }
        }
        Ok(out)
    })
}

pub fn list(db: &Db, f: &Filter<'_>) -> Result<Vec<OrderRow>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(&format!(
            "SELECT {COLUMNS} FROM orders
              WHERE (?1 IS NULL OR channel = ?1) AND (?2 IS NULL OR state = ?2)
                AND (?3 IS NULL OR created_at >= ?3)
              ORDER BY created_at DESC, channel, order_id"
        ))?;
        let rows = st.query_map(params![f.channel, f.state.map(State::as_str), f.since], row)?;
        rows.collect()
    })
}

/// Records the order as just read from the channel: a new row is `pending`; an
/// existing row keeps its state. Its lines are replaced by what the channel shows now,
/// keeping which of them were imported and which fulfilment claimed them. An imported
/// line keeps the quantity Shopify got, and stays (as last seen) when the channel no
/// longer shows it: the watch compares what was imported with the channel's order.
pub fn record_seen(db: &Db, channel: &str, o: &ChannelOrder, now: &str) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "INSERT INTO orders (channel, order_id, number, state, created_at, first_seen_at,
                                 currency, channel_total, updated_at)
             VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?5)
             ON CONFLICT (channel, order_id) DO UPDATE SET
                 number = excluded.number, channel_total = excluded.channel_total",
            params![
                channel,
                o.id,
                o.number,
                crate::clock::rfc3339(o.created_at),
                now,
                o.currency,
                o.grand_total.map(|t| t.to_string()),
            ],
        )?;
        let mut kept = c.prepare_cached(
            "SELECT line_id, imported, fulfilment_id, sku, quantity, state, unit_price
               FROM order_lines
              WHERE channel = ?1 AND order_id = ?2 AND (imported = 1 OR fulfilment_id IS NOT NULL)",
        )?;
        let kept: BTreeMap<String, KeptLine> = kept
            .query_map(params![channel, o.id], |r| {
                Ok((
                    r.get(0)?,
                    KeptLine {
                        imported: r.get(1)?,
                        claimed: r.get(2)?,
                        sku: r.get(3)?,
                        quantity: r.get(4)?,
                        state: r.get(5)?,
                        unit_price: r.get(6)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        c.execute(
            "DELETE FROM order_lines WHERE channel = ?1 AND order_id = ?2",
            params![channel, o.id],
        )?;
        let mut ins = c.prepare_cached(
            "INSERT INTO order_lines (channel, order_id, line_id, sku, quantity, state, unit_price,
                                      imported, fulfilment_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for line in &o.lines {
            let was = kept.get(&line.id);
            let imported = was.is_some_and(|k| k.imported);
            let quantity = match was {
                Some(k) if k.imported => k.quantity,
                _ => line.quantity,
            };
            ins.execute(params![
                channel,
                o.id,
                line.id,
                line.sku,
                quantity,
                line.state.as_str(),
                line.unit_price.to_string(),
                imported,
                was.and_then(|k| k.claimed.clone()),
            ])?;
        }
        let shown: BTreeSet<&str> = o.lines.iter().map(|l| l.id.as_str()).collect();
        for (id, k) in kept
            .iter()
            .filter(|(id, k)| k.imported && !shown.contains(id.as_str()))
        {
            ins.execute(params![
                channel,
                o.id,
                id,
                k.sku,
                k.quantity,
                k.state,
                k.unit_price,
                true,
                k.claimed,
            ])?;
        }
        Ok(())
    })
}

/// An order line as stored, kept across a re-read when it was imported or claimed.
struct KeptLine {
    imported: bool,
    claimed: Option<String>,
    sku: String,
    quantity: i64,
    state: String,
    unit_price: String,
}

/// Records an order the channel answered with but that could not be read, as `held`
/// (an order already known keeps its row). Its number, when unreadable too, is its id.
pub fn record_unreadable(
    db: &Db,
    channel: &str,
    o: &UnreadableOrder,
    order_id: &str,
    now: &str,
) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "INSERT INTO orders (channel, order_id, number, state, created_at, first_seen_at, updated_at)
             VALUES (?1, ?2, ?3, 'held', ?4, ?5, ?5)
             ON CONFLICT (channel, order_id) DO NOTHING",
            params![
                channel,
                order_id,
                o.number.as_deref().unwrap_or(order_id),
                o.created_at.map_or_else(|| now.to_string(), crate::clock::rfc3339),
                now,
            ],
        )
        .map(drop)
    })
}

/// The lines the Shopify order was created from: (line id, quantity).
pub fn imported_lines(
    db: &Db,
    channel: &str,
    order_id: &str,
) -> Result<Vec<(String, i64)>, DbError> {
    db.read(|c| {
        let mut st = c.prepare_cached(
            "SELECT line_id, quantity FROM order_lines
              WHERE channel = ?1 AND order_id = ?2 AND imported = 1
             ORDER BY line_id",
        )?;
        let lines = st.query_map(params![channel, order_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        lines.collect()
    })
}

/// A state change that needs nothing else recorded (held, failed, pending again...).
pub fn set_state(
    db: &Db,
    channel: &str,
    order_id: &str,
    state: State,
    reason: Option<&str>,
    now: &str,
) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "UPDATE orders SET state = ?3, reason = ?4, updated_at = ?5
              WHERE channel = ?1 AND order_id = ?2",
            params![channel, order_id, state.as_str(), reason, now],
        )
        .map(drop)
    })
}

/// The intent, committed before `orderCreate` is sent: from here until the order is
/// found in Shopify (or proven absent), no second create may be sent.
pub fn mark_creating(
    db: &Db,
    channel: &str,
    order_id: &str,
    value: &str,
    now: &str,
) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "UPDATE orders SET state = 'creating', reason = NULL, value = ?3, attempt_at = ?4,
                               updated_at = ?4
              WHERE channel = ?1 AND order_id = ?2",
            params![channel, order_id, value, now],
        )
        .map(drop)
    })
}

pub struct Imported<'a> {
    pub shopify_id: &'a str,
    pub shopify_name: &'a str,
    pub shopify_total: Option<String>,
    /// Found in Shopify rather than created by this pass.
    pub adopted: bool,
    /// The channel lines the order was created from.
    pub lines: &'a [String],
}

pub fn mark_imported(
    db: &Db,
    channel: &str,
    order_id: &str,
    i: &Imported<'_>,
    now: &str,
) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "UPDATE orders SET state = 'imported', reason = NULL, shopify_id = ?3,
                               shopify_name = ?4, shopify_total = ?5, adopted = ?6,
                               imported_at = ?7, updated_at = ?7, watching = 1
              WHERE channel = ?1 AND order_id = ?2",
            params![
                channel,
                order_id,
                i.shopify_id,
                i.shopify_name,
                i.shopify_total,
                i.adopted,
                now
            ],
        )?;
        let mut st = c.prepare_cached(
            "UPDATE order_lines SET imported = 1
              WHERE channel = ?1 AND order_id = ?2 AND line_id = ?3",
        )?;
        for line in i.lines {
            st.execute(params![channel, order_id, line])?;
        }
        Ok(())
    })
}

/// The order left the channel's open states: it is no longer re-read.
pub fn stop_watching(db: &Db, channel: &str, order_id: &str, now: &str) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "UPDATE orders SET watching = 0, updated_at = ?3 WHERE channel = ?1 AND order_id = ?2",
            params![channel, order_id, now],
        )
        .map(drop)
    })
}

/// The Shopify order's lines were edited after import (recorded once).
pub fn mark_edited(db: &Db, channel: &str, order_id: &str, now: &str) -> Result<bool, DbError> {
    db.write(|c| {
        c.execute(
            "UPDATE orders SET edited_at = ?3, updated_at = ?3
              WHERE channel = ?1 AND order_id = ?2 AND edited_at IS NULL",
            params![channel, order_id, now],
        )
        .map(|n| n > 0)
    })
}

/// Imported orders of `channel` still open there: a fulfilment may still be pushed and
/// a Shopify edit still matters.
pub fn open_imported(db: &Db, channel: &str) -> Result<usize, DbError> {
    db.read(|c| {
        c.query_row(
            "SELECT count(*) FROM orders WHERE channel = ?1 AND state = 'imported' AND watching = 1",
            [channel],
            |r| r.get(0),
        )
    })
}

/// Orders per channel and state: `(channel, state, count)`.
pub fn state_counts(db: &Db) -> Result<Vec<(String, String, i64)>, DbError> {
    db.read(|c| {
        let mut st =
            c.prepare("SELECT channel, state, COUNT(*) FROM orders GROUP BY channel, state")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::model::fixtures::order;
    use crate::db::test_db;

    #[test]
    fn an_order_goes_from_seen_to_imported_and_keeps_its_imported_lines() {
        let (_d, db) = test_db();
        let o = order("7", &[("a", "SKU-1"), ("b", "SKU-1")]);
        record_seen(&db, "iconic", &o, "T1").unwrap();
        let row = get(&db, "iconic", "7").unwrap().unwrap();
        assert_eq!((row.state, row.number.as_str()), (State::Pending, "N7"));
        assert_eq!(row.channel_total.as_deref(), Some("20.00"));

        mark_creating(&db, "iconic", "7", "20.00", "T2").unwrap();
        // Seen again while creating: the state is kept.
        record_seen(&db, "iconic", &o, "T3").unwrap();
        let row = get(&db, "iconic", "7").unwrap().unwrap();
        assert_eq!(
            (row.state, row.attempt_at.as_deref()),
            (State::Creating, Some("T2"))
        );
        assert_eq!(row.first_seen_at, "T1");

        let lines = ["a".to_string(), "b".to_string()];
        let imported = Imported {
            shopify_id: "gid://shopify/Order/1",
            shopify_name: "#1001",
            shopify_total: Some("20.00".into()),
            adopted: false,
            lines: &lines,
        };
        mark_imported(&db, "iconic", "7", &imported, "T4").unwrap();
        // The channel adds an item: the imported ones stay marked.
        record_seen(
            &db,
            "iconic",
            &order("7", &[("a", "SKU-1"), ("b", "SKU-1"), ("c", "X")]),
            "T5",
        )
        .unwrap();
        assert_eq!(
            imported_lines(&db, "iconic", "7").unwrap(),
            [("a".to_string(), 1), ("b".to_string(), 1)]
        );
        let row = get(&db, "iconic", "7").unwrap().unwrap();
        assert_eq!(row.state, State::Imported);
        assert_eq!(row.shopify_name.as_deref(), Some("#1001"));
        assert_eq!(tracked(&db, "iconic").unwrap().len(), 1);

        stop_watching(&db, "iconic", "7", "T6").unwrap();
        assert!(tracked(&db, "iconic").unwrap().is_empty());
        assert!(mark_edited(&db, "iconic", "7", "T7").unwrap());
        assert!(!mark_edited(&db, "iconic", "7", "T8").unwrap(), "once");
    }

    #[test]
    fn list_filters_by_channel_state_and_date() {
        let (_d, db) = test_db();
        record_seen(&db, "iconic", &order("1", &[("a", "S")]), "T").unwrap();
        record_seen(&db, "other", &order("2", &[("b", "S")]), "T").unwrap();
        set_state(&db, "other", "2", State::Held, Some("why"), "T").unwrap();
        let all = list(&db, &Filter::default()).unwrap();
        assert_eq!(all.len(), 2);
        let held = Filter {
            state: Some(State::Held),
            ..Filter::default()
        };
        assert_eq!(list(&db, &held).unwrap()[0].reason.as_deref(), Some("why"));
        let iconic = Filter {
            channel: Some("iconic"),
            ..Filter::default()
        };
        assert_eq!(list(&db, &iconic).unwrap()[0].order_id, "1");
        let later = Filter {
            since: Some("2026-11-28T00:00:00.000Z"),
            ..Filter::default()
        };
        assert!(list(&db, &later).unwrap().is_empty());
    }
}
