//! The local mirror of both catalogs (Shopify variants, levels and locations; channel
//! listings) and the SKU matches between them.

use rusqlite::{params, Connection, OptionalExtension};

use super::{Db, DbError};
use crate::channel::{Listing, ListingStatus};

/// A Shopify variant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantRow {
    pub variant_id: String,
    pub sku: Option<String>,
    pub inventory_item_id: String,
    pub tracked: bool,
    pub product_id: String,
    /// Shopify's enum value as sent (ACTIVE, DRAFT, ARCHIVED, or a newer one).
    pub product_status: String,
    /// The product's tags; `None` when this row was stored before tags were read.
    pub product_tags: Option<Vec<String>>,
    pub updated_at: Option<String>,
}

/// `available` of one inventory item at one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelRow {
    pub inventory_item_id: String,
    pub location_id: String,
    pub available: i64,
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationRow {
    pub location_id: String,
    pub name: String,
    pub is_active: bool,
    pub counted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchRow {
    pub product_id: String,
    pub sku: String,
    pub variant_id: String,
    pub inventory_item_id: String,
}

/// Replaces the whole Shopify mirror (after a full read) in one transaction.
pub fn replace_shopify(
    db: &Db,
    variants: &[VariantRow],
    levels: &[LevelRow],
) -> Result<(), DbError> {
    db.write(|c| {
        c.execute("DELETE FROM shopify_variants", [])?;
        c.execute("DELETE FROM shopify_levels", [])?;
        insert_variants(c, variants)?;
        upsert_levels_in(c, levels)
    })
}

fn insert_variants(c: &Connection, variants: &[VariantRow]) -> rusqlite::Result<()> {
    let mut st = c.prepare_cached(
        "INSERT OR REPLACE INTO shopify_variants
         (variant_id, sku, inventory_item_id, tracked, product_id, product_status, updated_at,
          product_tags)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for v in variants {
        let tags = v
            .product_tags
            .as_ref()
            .map(|t| serde_json::to_string(t).expect("a list of strings serialises"));
        st.execute(params![
            v.variant_id,
            v.sku,
            v.inventory_item_id,
            v.tracked,
            v.product_id,
            v.product_status,
            v.updated_at,
            tags
        ])?;
    }
    Ok(())
}

/// Takes `tag` off the stored tags of every variant not in `tagged` (the variants
/// Shopify says carry it now). Tags compare as Shopify's do, ignoring case.
pub fn untag_others(
    db: &Db,
    tag: &str,
    tagged: &std::collections::HashSet<String>,
) -> Result<usize, DbError> {
    let stale: Vec<VariantRow> = variants(db)?
        .into_iter()
        .filter(|v| !tagged.contains(&v.variant_id))
        .filter_map(|mut v| {
            let tags = v.product_tags.as_mut()?;
            let before = tags.len();
            tags.retain(|t| !t.trim().eq_ignore_ascii_case(tag.trim()));
            (tags.len() < before).then_some(v)
        })
        .collect();
    db.write(|c| insert_variants(c, &stale))?;
    Ok(stale.len())
}

/// Adds or updates variants (an incremental product read); nothing is removed.
pub fn upsert_variants(db: &Db, variants: &[VariantRow]) -> Result<(), DbError> {
    db.write(|c| insert_variants(c, variants))
}

pub fn upsert_levels(db: &Db, levels: &[LevelRow]) -> Result<(), DbError> {
    db.write(|c| upsert_levels_in(c, levels))
}

fn upsert_levels_in(c: &Connection, levels: &[LevelRow]) -> rusqlite::Result<()> {
    let mut st = c.prepare_cached(
        "INSERT INTO shopify_levels (inventory_item_id, location_id, available, updated_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (inventory_item_id, location_id)
         DO UPDATE SET available = excluded.available, updated_at = excluded.updated_at",
    )?;
    for l in levels {
        st.execute(params![
            l.inventory_item_id,
            l.location_id,
            l.available,
            l.updated_at
        ])?;
    }
    Ok(())
}

pub fn variants(db: &Db) -> Result<Vec<VariantRow>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT variant_id, sku, inventory_item_id, tracked, product_id, product_status, updated_at,
                    product_tags
             FROM shopify_variants ORDER BY variant_id",
        )?;
        let rows = st.query_map([], |r| {
            let tags: Option<String> = r.get(7)?;
            Ok(VariantRow {
                // Written by this module as a JSON list; anything else reads as unknown.
                product_tags: tags.and_then(|t| serde_json::from_str(&t).ok()),
                variant_id: r.get(0)?,
                sku: r.get(1)?,
                inventory_item_id: r.get(2)?,
                tracked: r.get(3)?,
                product_id: r.get(4)?,
                product_status: r.get(5)?,
                updated_at: r.get(6)?,
            })
        })?;
        rows.collect()
    })
}

/// Replaces the known locations; `configured` empty means every active one counts.
pub fn replace_locations(
    db: &Db,
    locations: &[(String, String, bool)],
    configured: &[String],
) -> Result<Vec<LocationRow>, DbError> {
    let rows: Vec<LocationRow> = locations
        .iter()
        .map(|(id, name, active)| LocationRow {
            location_id: id.clone(),
            name: name.clone(),
            is_active: *active,
            counted: if configured.is_empty() {
                *active
            } else {
                configured.contains(id)
            },
        })
        .collect();
    db.write(|c| {
        c.execute("DELETE FROM shopify_locations", [])?;
        let mut st = c.prepare(
            "INSERT INTO shopify_locations (location_id, name, is_active, counted) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for l in &rows {
            st.execute(params![l.location_id, l.name, l.is_active, l.counted])?;
        }
        Ok(())
    })?;
    Ok(rows)
}

pub fn locations(db: &Db) -> Result<Vec<LocationRow>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT location_id, name, is_active, counted FROM shopify_locations ORDER BY location_id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(LocationRow {
                location_id: r.get(0)?,
                name: r.get(1)?,
                is_active: r.get(2)?,
                counted: r.get(3)?,
            })
        })?;
        rows.collect()
    })
}

pub fn replace_listings(db: &Db, channel: &str, listings: &[Listing]) -> Result<(), DbError> {
    db.write(|c| {
        c.execute("DELETE FROM channel_listings WHERE channel = ?1", [channel])?;
        insert_listings(c, channel, listings)
    })
}

/// Adds or updates listings (an incremental read); nothing is removed.
pub fn upsert_listings(db: &Db, channel: &str, listings: &[Listing]) -> Result<(), DbError> {
    db.write(|c| insert_listings(c, channel, listings))
}

fn insert_listings(c: &Connection, channel: &str, listings: &[Listing]) -> rusqlite::Result<()> {
    let mut st = c.prepare_cached(
        "INSERT OR REPLACE INTO channel_listings (channel, product_id, sku, status, parent_id, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for l in listings {
        st.execute(params![
            channel,
            l.product_id,
            l.sku,
            l.status.as_str(),
            l.parent_id,
            l.updated_at.map(crate::clock::rfc3339)
        ])?;
    }
    Ok(())
}

pub fn listings(db: &Db, channel: &str) -> Result<Vec<Listing>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT product_id, sku, status, parent_id, updated_at FROM channel_listings
             WHERE channel = ?1 ORDER BY product_id",
        )?;
        let rows = st.query_map([channel], |r| {
            let status: String = r.get(2)?;
            let updated: Option<String> = r.get(4)?;
            Ok(Listing {
                product_id: r.get(0)?,
                sku: r.get(1)?,
                status: ListingStatus::parse(&status),
                parent_id: r.get(3)?,
                updated_at: updated.as_deref().and_then(crate::clock::parse),
            })
        })?;
        rows.collect()
    })
}

pub fn replace_matches(
    db: &Db,
    channel: &str,
    matches: &[MatchRow],
    now: &str,
) -> Result<(), DbError> {
    db.write(|c| {
        // The matches about to go, to tell which ones are lost.
        c.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS old_matches (product_id TEXT PRIMARY KEY, sku TEXT NOT NULL);
             DELETE FROM temp.old_matches;",
        )?;
        c.execute(
            "INSERT INTO temp.old_matches SELECT product_id, sku FROM matches WHERE channel = ?1",
            [channel],
        )?;
        c.execute("DELETE FROM matches WHERE channel = ?1", [channel])?;
        let mut st = c.prepare(
            "INSERT INTO matches (channel, product_id, sku, variant_id, inventory_item_id, matched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for m in matches {
            st.execute(params![
                channel,
                m.product_id,
                m.sku,
                m.variant_id,
                m.inventory_item_id,
                now
            ])?;
        }
        // Lost: matched before, not now, and holding stock skubridge pushed.
        c.execute(
            "INSERT OR IGNORE INTO lost_matches (channel, product_id, sku, lost_at)
             SELECT ?1, o.product_id, o.sku, ?2 FROM temp.old_matches o
               JOIN stock_pushed p ON p.channel = ?1 AND p.product_id = o.product_id
              WHERE p.quantity != 0
                AND NOT EXISTS (SELECT 1 FROM matches m
                                 WHERE m.channel = ?1 AND m.product_id = o.product_id)",
            params![channel, now],
        )?;
        c.execute(
            "DELETE FROM lost_matches WHERE channel = ?1
                AND product_id IN (SELECT product_id FROM matches WHERE channel = ?1)",
            [channel],
        )?;
        c.execute_batch("DELETE FROM temp.old_matches")?;
        Ok(())
    })
}

pub fn matches(db: &Db, channel: &str) -> Result<Vec<MatchRow>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT product_id, sku, variant_id, inventory_item_id FROM matches
             WHERE channel = ?1 ORDER BY product_id",
        )?;
        let rows = st.query_map([channel], |r| {
            Ok(MatchRow {
                product_id: r.get(0)?,
                sku: r.get(1)?,
                variant_id: r.get(2)?,
                inventory_item_id: r.get(3)?,
            })
        })?;
        rows.collect()
    })
}

/// What an order line for `sku` becomes in Shopify: the matched variant and the
/// stock available for it now (summed over the counted locations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuStock {
    pub variant_id: String,
    pub inventory_item_id: String,
    pub available: i64,
}

/// `None` when no listing of `channel` with exactly this SKU is matched.
pub fn sku_stock(db: &Db, channel: &str, sku: &str) -> Result<Option<SkuStock>, DbError> {
    db.read(|c| {
        let mut st = c.prepare_cached(
            "SELECT m.variant_id, m.inventory_item_id,
                    (SELECT COALESCE(SUM(l.available), 0)
                       FROM shopify_levels l
                       JOIN shopify_locations loc
                         ON loc.location_id = l.location_id AND loc.counted = 1
                      WHERE l.inventory_item_id = m.inventory_item_id)
               FROM matches m WHERE m.channel = ?1 AND m.sku = ?2
              LIMIT 1",
        )?;
        st.query_row(params![channel, sku], |r| {
            Ok(SkuStock {
                variant_id: r.get(0)?,
                inventory_item_id: r.get(1)?,
                available: r.get(2)?,
            })
        })
        .optional()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_db;

    fn variant(id: &str, sku: &str) -> VariantRow {
        VariantRow {
            product_tags: None,
            variant_id: id.into(),
            sku: Some(sku.into()),
            inventory_item_id: format!("item-{id}"),
            tracked: true,
            product_id: "p".into(),
            product_status: "ACTIVE".into(),
            updated_at: None,
        }
    }

    #[test]
    fn full_replace_drops_what_is_gone() {
        let (_d, db) = test_db();
        replace_shopify(&db, &[variant("1", "A"), variant("2", "B")], &[]).unwrap();
        replace_shopify(&db, &[variant("2", "B")], &[]).unwrap();
        let v = variants(&db).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].sku.as_deref(), Some("B"));
    }

    #[test]
    fn counted_locations_follow_config() {
        let (_d, db) = test_db();
        let locs = vec![
            ("L1".to_string(), "Main".to_string(), true),
            ("L2".to_string(), "Popup".to_string(), true),
            ("L3".to_string(), "Old".to_string(), false),
        ];
        let all = replace_locations(&db, &locs, &[]).unwrap();
        assert_eq!(all.iter().filter(|l| l.counted).count(), 2);
        let one = replace_locations(&db, &locs, &["L2".to_string()]).unwrap();
        assert_eq!(
            one.iter()
                .filter(|l| l.counted)
                .map(|l| l.location_id.as_str())
                .collect::<Vec<_>>(),
            ["L2"]
        );
        assert_eq!(locations(&db).unwrap(), one);
    }

    #[test]
    fn listings_round_trip() {
        let (_d, db) = test_db();
        let l = Listing {
            product_id: "501".into(),
            sku: "A ".into(),
            status: ListingStatus::Inactive,
            parent_id: Some("10".into()),
            updated_at: None,
        };
        replace_listings(&db, "iconic", std::slice::from_ref(&l)).unwrap();
        assert_eq!(listings(&db, "iconic").unwrap(), vec![l]);
        assert!(listings(&db, "other").unwrap().is_empty());
    }
}
