//! What the channel was last told per listing, and what it refused.

use std::collections::HashSet;

use rusqlite::params;

use super::{Db, DbError};
use crate::channel::StockUpdate;

/// Everything the stock planner needs about one matched listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRow {
    pub product_id: String,
    pub sku: String,
    /// `None` when the matched Shopify variant no longer exists.
    pub product_status: Option<String>,
    /// Sum of `available` over the counted locations.
    pub available: i64,
    /// Last quantity the channel accepted.
    pub pushed: Option<i64>,
    /// Quantity the channel last refused (not offered again unchanged).
    pub refused: Option<i64>,
}

/// Up to `limit` matched listings of `channel` whose product id sorts after `after`,
/// by product id: a catalogue of any size is planned a page at a time, never held.
pub fn rows_page(
    db: &Db,
    channel: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<StockRow>, DbError> {
    // Two statements rather than `?2 IS NULL OR …`, which keeps SQLite from seeking to
    // the page's start in the primary key (every page would scan from the first row).
    let from = match after {
        Some(_) => "AND m.product_id > ?2",
        None => "AND ?2 IS NULL",
    };
    db.read(|c| {
        let mut st = c.prepare_cached(&format!(
            "SELECT m.product_id, m.sku, v.product_status,
                    (SELECT COALESCE(SUM(l.available), 0)
                       FROM shopify_levels l
                       JOIN shopify_locations loc
                         ON loc.location_id = l.location_id AND loc.counted = 1
                      WHERE l.inventory_item_id = m.inventory_item_id),
                    p.quantity, r.quantity
               FROM matches m
               LEFT JOIN shopify_variants v ON v.variant_id = m.variant_id
               LEFT JOIN stock_pushed p ON p.channel = m.channel AND p.product_id = m.product_id
               LEFT JOIN stock_refused r ON r.channel = m.channel AND r.product_id = m.product_id
              WHERE m.channel = ?1 {from}
              ORDER BY m.product_id
              LIMIT ?3"
        ))?;
        let rows = st.query_map(params![channel, after, limit as i64], |r| {
            Ok(StockRow {
                product_id: r.get(0)?,
                sku: r.get(1)?,
                product_status: r.get(2)?,
                available: r.get(3)?,
                pushed: r.get(4)?,
                refused: r.get(5)?,
            })
        })?;
        rows.collect()
    })
}

/// Listings of `channel` that lost their match (their SKU was renamed, deleted or became
/// a duplicate in Shopify) while holding stock skubridge pushed, still active on the
/// channel and not yet set to 0: rows with no Shopify variant, so their target is 0.
/// Recorded when the matches change (`catalog::rematch`), so a pass reads only
/// these, never the whole catalogue.
///
/// `unlisted_too`: the channel cannot list its catalogue, so a SKU it is no longer
/// offered (untagged, renamed in Shopify) has no listing row, yet the channel still
/// sells it: it is set to 0 as well.
pub fn lost_matches(db: &Db, channel: &str, unlisted_too: bool) -> Result<Vec<StockRow>, DbError> {
    db.write(|c| {
        // Those the channel has taken 0 for are done.
        c.execute(
            "DELETE FROM lost_matches WHERE channel = ?1 AND EXISTS
               (SELECT 1 FROM stock_pushed p WHERE p.channel = ?1
                   AND p.product_id = lost_matches.product_id AND p.quantity = 0)",
            [channel],
        )?;
        let mut st = c.prepare_cached(
            "SELECT lm.product_id, COALESCE(l.sku, lm.sku), p.quantity, r.quantity
               FROM lost_matches lm
               LEFT JOIN channel_listings l
                      ON l.channel = lm.channel AND l.product_id = lm.product_id
               LEFT JOIN stock_pushed p ON p.channel = lm.channel AND p.product_id = lm.product_id
               LEFT JOIN stock_refused r ON r.channel = lm.channel AND r.product_id = lm.product_id
              WHERE lm.channel = ?1
                AND (l.status = 'active' OR (?2 AND l.product_id IS NULL))",
        )?;
        let rows = st.query_map(params![channel, unlisted_too], |r| {
            Ok(StockRow {
                product_id: r.get(0)?,
                sku: r.get(1)?,
                product_status: None,
                available: 0,
                pushed: r.get(2)?,
                refused: r.get(3)?,
            })
        })?;
        rows.collect()
    })
}

/// A quantity the channel refused and that is not settled yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub sku: String,
    pub product_id: String,
    pub quantity: i64,
    pub reason: String,
    pub refused_at: String,
}

/// The channel's refused quantities, by SKU.
pub fn refused(db: &Db, channel: &str) -> Result<Vec<Refused>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT sku, product_id, quantity, reason, refused_at FROM stock_refused
              WHERE channel = ?1 ORDER BY sku, product_id",
        )?;
        let rows = st.query_map([channel], |r| {
            Ok(Refused {
                sku: r.get(0)?,
                product_id: r.get(1)?,
                quantity: r.get(2)?,
                reason: r.get(3)?,
                refused_at: r.get(4)?,
            })
        })?;
        rows.collect()
    })
}

/// Records quantities the channel accepted (and forgets earlier refusals of them).
pub fn record_accepted(
    db: &Db,
    channel: &str,
    accepted: &[StockUpdate],
    now: &str,
) -> Result<(), DbError> {
    db.write(|c| {
        let mut up = c.prepare_cached(
            "INSERT INTO stock_pushed (channel, product_id, quantity, pushed_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (channel, product_id) DO UPDATE SET quantity = excluded.quantity, pushed_at = excluded.pushed_at",
        )?;
        let mut clear =
            c.prepare_cached("DELETE FROM stock_refused WHERE channel = ?1 AND product_id = ?2")?;
        for u in accepted {
            up.execute(params![channel, u.product_id, u.quantity, now])?;
            clear.execute(params![channel, u.product_id])?;
        }
        Ok(())
    })
}

pub fn record_refused(
    db: &Db,
    channel: &str,
    refused: &[(StockUpdate, String)],
    now: &str,
) -> Result<(), DbError> {
    db.write(|c| {
        let mut st = c.prepare_cached(
            "INSERT INTO stock_refused (channel, product_id, sku, quantity, reason, refused_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (channel, product_id) DO UPDATE SET sku = excluded.sku,
               quantity = excluded.quantity, reason = excluded.reason, refused_at = excluded.refused_at",
        )?;
        for (u, reason) in refused {
            st.execute(params![channel, u.product_id, u.sku, u.quantity, reason, now])?;
        }
        Ok(())
    })
}

/// Forgets what the channel was told for these listings: their push was never
/// confirmed, so the next pass offers it again.
pub fn forget_pushed(db: &Db, channel: &str, product_ids: &[&str]) -> Result<(), DbError> {
    db.write(|c| {
        let mut st =
            c.prepare_cached("DELETE FROM stock_pushed WHERE channel = ?1 AND product_id = ?2")?;
        for id in product_ids {
            st.execute(params![channel, id])?;
        }
        Ok(())
    })
}

/// An asynchronous import not settled yet (migration 006). Its levels stay in the
/// database: one import may hold a million.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenImport {
    pub id: i64,
    /// The channel's id for it; `None` when the upload never answered.
    pub import_id: Option<String>,
    /// How many levels it holds.
    pub lines: usize,
}

/// The intent, committed before the upload: these levels are in flight.
pub fn begin_import(
    db: &Db,
    channel: &str,
    lines: &[StockUpdate],
    now: &str,
) -> Result<i64, DbError> {
    db.write(|c| {
        c.execute(
            "INSERT INTO stock_imports (channel, state, started_at) VALUES (?1, 'uploading', ?2)",
            params![channel, now],
        )?;
        let id = c.last_insert_rowid();
        let mut st = c.prepare_cached(
            "INSERT INTO stock_import_lines (import, product_id, sku, quantity) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for u in lines {
            st.execute(params![id, u.product_id, u.sku, u.quantity])?;
        }
        Ok(id)
    })
}

/// The channel took the upload and named it.
pub fn import_uploaded(db: &Db, id: i64, import_id: &str) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "UPDATE stock_imports SET import_id = ?2, state = 'pending' WHERE id = ?1",
            params![id, import_id],
        )
        .map(drop)
    })
}

/// Done (its accepted levels recorded elsewhere) or failed (its levels offered again).
/// Its lines go: what was applied lives on in the pushed levels, and a large catalogue
/// would otherwise grow the ledger by every level of every import.
fn settle(
    c: &rusqlite::Connection,
    id: i64,
    done: bool,
    reason: Option<&str>,
    now: &str,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE stock_imports SET state = ?2, reason = ?3, settled_at = ?4 WHERE id = ?1",
        params![id, if done { "done" } else { "failed" }, reason, now],
    )?;
    c.execute("DELETE FROM stock_import_lines WHERE import = ?1", [id])
        .map(drop)
}

/// Imports of `channel` not settled yet, oldest first.
pub fn open_imports(db: &Db, channel: &str) -> Result<Vec<OpenImport>, DbError> {
    db.read(|c| {
        let mut imports = c.prepare_cached(
            "SELECT i.id, i.import_id,
                    (SELECT COUNT(*) FROM stock_import_lines l WHERE l.import = i.id)
               FROM stock_imports i
              WHERE i.channel = ?1 AND i.state IN ('uploading', 'pending') ORDER BY i.id",
        )?;
        let rows = imports.query_map([channel], |r| {
            Ok(OpenImport {
                id: r.get(0)?,
                import_id: r.get(1)?,
                lines: r.get::<_, i64>(2)? as usize,
            })
        })?;
        rows.collect()
    })
}

/// The listings of `channel` whose levels are in an import not settled yet.
pub fn in_flight(db: &Db, channel: &str) -> Result<HashSet<String>, DbError> {
    db.read(|c| {
        let mut st = c.prepare_cached(
            "SELECT l.product_id FROM stock_import_lines l
               JOIN stock_imports i ON i.id = l.import
              WHERE i.channel = ?1 AND i.state IN ('uploading', 'pending')",
        )?;
        let ids = st.query_map([channel], |r| r.get(0))?;
        ids.collect()
    })
}

/// Settles import `id` of `channel` as applied, but for the lines of the listings in
/// `refused`: every other level is recorded as what the channel holds (in the
/// database, line by line, however many). Returns how many were, and the refused
/// levels.
pub fn settle_applied(
    db: &Db,
    channel: &str,
    id: i64,
    refused: &[&str],
    now: &str,
) -> Result<(usize, Vec<StockUpdate>), DbError> {
    db.write(|c| {
        let mut take = c.prepare_cached(
            "DELETE FROM stock_import_lines WHERE import = ?1 AND product_id = ?2
             RETURNING product_id, sku, quantity",
        )?;
        let mut out = Vec::new();
        for product_id in refused {
            let mut rows = take.query(params![id, product_id])?;
            while let Some(r) = rows.next()? {
                out.push(StockUpdate {
                    product_id: r.get(0)?,
                    sku: r.get(1)?,
                    quantity: r.get(2)?,
                });
            }
        }
        let accepted = c.execute(
            "INSERT INTO stock_pushed (channel, product_id, quantity, pushed_at)
             SELECT ?1, product_id, quantity, ?3 FROM stock_import_lines WHERE import = ?2
             ON CONFLICT (channel, product_id) DO UPDATE
                SET quantity = excluded.quantity, pushed_at = excluded.pushed_at",
            params![channel, id, now],
        )?;
        c.execute(
            "DELETE FROM stock_refused WHERE channel = ?1
                AND product_id IN (SELECT product_id FROM stock_import_lines WHERE import = ?2)",
            params![channel, id],
        )?;
        settle(c, id, true, None, now)?;
        Ok((accepted, out))
    })
}

/// Settles import `id` of `channel` as not applied: its levels may or may not be on
/// the channel, so what was pushed for them is forgotten and each is offered again.
pub fn settle_failed(
    db: &Db,
    channel: &str,
    id: i64,
    reason: &str,
    now: &str,
) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "DELETE FROM stock_pushed WHERE channel = ?1
                AND product_id IN (SELECT product_id FROM stock_import_lines WHERE import = ?2)",
            params![channel, id],
        )?;
        settle(c, id, false, Some(reason), now)
    })
}

/// When `channel`'s last import was started, if ever.
pub fn last_import_at(db: &Db, channel: &str) -> Result<Option<String>, DbError> {
    db.read(|c| {
        c.query_row(
            "SELECT MAX(started_at) FROM stock_imports WHERE channel = ?1",
            [channel],
            |r| r.get(0),
        )
    })
}

/// Forgets refusals so the next plan offers those quantities again (reconcile).
pub fn clear_refused(db: &Db, channel: &str) -> Result<(), DbError> {
    db.write(|c| {
        c.execute("DELETE FROM stock_refused WHERE channel = ?1", [channel])
            .map(drop)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::catalog::{self, LevelRow, MatchRow, VariantRow};
    use crate::db::test_db;

    #[test]
    fn rows_sum_counted_locations_and_carry_pushed_and_refused() {
        let (_d, db) = test_db();
        catalog::replace_locations(
            &db,
            &[
                ("L1".into(), "A".into(), true),
                ("L2".into(), "B".into(), true),
            ],
            &["L1".into()],
        )
        .unwrap();
        let v = VariantRow {
            product_tags: None,
            variant_id: "V1".into(),
            sku: Some("S1".into()),
            inventory_item_id: "I1".into(),
            tracked: true,
            product_id: "P".into(),
            product_status: "ACTIVE".into(),
            updated_at: None,
        };
        let level = |loc: &str, n| LevelRow {
            inventory_item_id: "I1".into(),
            location_id: loc.into(),
            available: n,
            updated_at: None,
        };
        catalog::replace_shopify_for_test(&db, &[v], &[level("L1", 5), level("L2", 100)]);
        let m = |pid: &str, vid: &str| MatchRow {
            product_id: pid.into(),
            sku: "S1".into(),
            variant_id: vid.into(),
            inventory_item_id: "I1".into(),
        };
        catalog::replace_matches(&db, "ch", &[m("501", "V1"), m("502", "GONE")], "t");
        let u = StockUpdate {
            product_id: "501".into(),
            sku: "S1".into(),
            quantity: 4,
        };
        record_refused(&db, "ch", &[(u.clone(), "no".into())], "t").unwrap();
        let rows = rows_page(&db, "ch", None, 10).unwrap();
        assert_eq!(rows[0].available, 5, "only the counted location");
        assert_eq!(rows[0].refused, Some(4));
        assert_eq!(rows[1].product_status, None, "variant gone");
        record_accepted(&db, "ch", &[u], "t").unwrap();
        let rows = rows_page(&db, "ch", None, 10).unwrap();
        assert_eq!(
            rows_page(&db, "ch", Some("501"), 10).unwrap().len(),
            1,
            "a page after 501"
        );
        assert_eq!((rows[0].pushed, rows[0].refused), (Some(4), None));
    }

    #[test]
    fn an_import_is_in_flight_from_before_its_upload_until_it_is_settled() {
        let (_d, db) = test_db();
        let level = |id: &str, q| StockUpdate {
            product_id: id.into(),
            sku: id.into(),
            quantity: q,
        };
        assert_eq!(last_import_at(&db, "ch").unwrap(), None);
        let id = begin_import(&db, "ch", &[level("B", 2), level("A", 1)], "t1").unwrap();
        // A crash before the channel answered leaves an import without its id.
        let open = open_imports(&db, "ch").unwrap();
        assert_eq!((open.len(), open[0].import_id.as_deref()), (1, None));
        assert_eq!(open[0].lines, 2);
        let flying = in_flight(&db, "ch").unwrap();
        assert_eq!(flying, HashSet::from(["A".to_string(), "B".to_string()]));
        assert!(open_imports(&db, "other").unwrap().is_empty());
        assert!(in_flight(&db, "other").unwrap().is_empty());
        import_uploaded(&db, id, "imp-7").unwrap();
        assert_eq!(
            open_imports(&db, "ch").unwrap()[0].import_id.as_deref(),
            Some("imp-7")
        );
        // Applied but for B, which the channel refused: A is what it holds now.
        let (accepted, refused) = settle_applied(&db, "ch", id, &["B", "Z"], "t2").unwrap();
        assert_eq!((accepted, refused), (1, vec![level("B", 2)]));
        assert!(open_imports(&db, "ch").unwrap().is_empty());
        assert!(in_flight(&db, "ch").unwrap().is_empty());
        assert_eq!(last_import_at(&db, "ch").unwrap().as_deref(), Some("t1"));
        let count = |sql: &str| -> i64 { db.read(|c| c.query_row(sql, [], |r| r.get(0))).unwrap() };
        assert_eq!(
            count("SELECT COUNT(*) FROM stock_import_lines"),
            0,
            "a settled import keeps no lines"
        );
        assert_eq!(
            count("SELECT quantity FROM stock_pushed WHERE product_id = 'A'"),
            1
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM stock_pushed WHERE product_id = 'B'"),
            0
        );

        // An import that failed: what was pushed for its levels is forgotten.
        let id = begin_import(&db, "ch", &[level("A", 5)], "t3").unwrap();
        settle_failed(&db, "ch", id, "FAILED", "t4").unwrap();
        assert_eq!(
            count("SELECT COUNT(*) FROM stock_pushed WHERE product_id = 'A'"),
            0
        );
        assert!(open_imports(&db, "ch").unwrap().is_empty());
    }
}
