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

/// A level of the bulk result as staged: linked to its inventory item (`level`'s is
/// empty until then) through its parent's id once every line is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedLevel {
    pub parent_id: String,
    /// Its line in the bulk result, named if its parent never comes.
    pub line: u64,
    pub level: LevelRow,
}

/// Empties the staging tables of a full Shopify read (a read starting, or starting over).
pub fn clear_staged_shopify(db: &Db) -> Result<(), DbError> {
    db.write(|c| c.execute_batch("DELETE FROM staged_variants; DELETE FROM staged_levels;"))
}

/// Adds a batch of a full Shopify read to its staging tables.
pub fn stage_shopify(
    db: &Db,
    variants: &[VariantRow],
    levels: &[StagedLevel],
) -> Result<(), DbError> {
    db.write(|c| {
        insert_variants(c, "staged_variants", variants)?;
        let mut st = c.prepare_cached(
            "INSERT INTO staged_levels (line, parent_id, location_id, available, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for l in levels {
            st.execute(params![
                l.line as i64,
                l.parent_id,
                l.level.location_id,
                l.level.available,
                l.level.updated_at
            ])?;
        }
        Ok(())
    })
}

/// What became of a staged Shopify read.
#[derive(Debug, PartialEq, Eq)]
pub enum Swapped {
    /// It replaced the mirror: this many variants and levels.
    Done { variants: i64, levels: i64 },
    /// A level's parent is neither a variant nor an inventory item of the read: the
    /// result is wrong, and the mirror is left as it was.
    Orphan { line: u64, parent_id: String },
}

/// Replaces the whole Shopify mirror with the staged read in one transaction, each
/// level linked to its inventory item: its parent is the variant or (UNCONFIRMED which
/// one the live API names) the item itself. The staging tables are emptied.
pub fn swap_in_staged_shopify(db: &Db) -> Result<Swapped, DbError> {
    db.write(|c| {
        let orphan = c
            .query_row(
                "SELECT s.line, s.parent_id FROM staged_levels s
                  WHERE NOT EXISTS (SELECT 1 FROM staged_variants v WHERE v.variant_id = s.parent_id)
                    AND NOT EXISTS (SELECT 1 FROM staged_variants v WHERE v.inventory_item_id = s.parent_id)
                  ORDER BY s.line LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()?;
        if let Some((line, parent_id)) = orphan {
            return Ok(Swapped::Orphan {
                line: line as u64,
                parent_id,
            });
        }
        c.execute_batch(
            "DELETE FROM shopify_variants;
             DELETE FROM shopify_levels;
             INSERT INTO shopify_variants SELECT * FROM staged_variants;",
        )?;
        // A level listed twice: the later line wins, as the mirror's upserts do.
        c.execute(
            "INSERT OR REPLACE INTO shopify_levels (inventory_item_id, location_id, available, updated_at)
             SELECT COALESCE((SELECT v.inventory_item_id FROM staged_variants v
                               WHERE v.variant_id = s.parent_id), s.parent_id),
                    s.location_id, s.available, s.updated_at
               FROM staged_levels s ORDER BY s.line",
            [],
        )?;
        let count = |table: &str| -> rusqlite::Result<i64> {
            c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        };
        let swapped = Swapped::Done {
            variants: count("shopify_variants")?,
            levels: count("staged_levels")?,
        };
        c.execute_batch("DELETE FROM staged_variants; DELETE FROM staged_levels;")?;
        Ok(swapped)
    })
}

fn insert_variants(c: &Connection, table: &str, variants: &[VariantRow]) -> rusqlite::Result<()> {
    let mut st = c.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table}
         (variant_id, sku, inventory_item_id, tracked, product_id, product_status, updated_at,
          product_tags)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?;
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
/// Shopify says carry it now). Tags compare as Shopify's do, ignoring case. The
/// variants are visited, never held; only the stale ones are.
pub fn untag_others(
    db: &Db,
    tag: &str,
    tagged: &std::collections::HashSet<String>,
) -> Result<usize, DbError> {
    db.write(|c| {
        let mut stale = Vec::new();
        let mut read = c.prepare(
            "SELECT variant_id, product_tags FROM shopify_variants WHERE product_tags IS NOT NULL",
        )?;
        let mut rows = read.query([])?;
        while let Some(r) = rows.next()? {
            let variant_id: String = r.get(0)?;
            let Some(mut tags) = tags_of(r.get(1)?).filter(|_| !tagged.contains(&variant_id))
            else {
                continue;
            };
            let before = tags.len();
            tags.retain(|t| !t.trim().eq_ignore_ascii_case(tag.trim()));
            if tags.len() < before {
                stale.push((variant_id, tags));
            }
        }
        let mut update =
            c.prepare("UPDATE shopify_variants SET product_tags = ?2 WHERE variant_id = ?1")?;
        for (variant_id, tags) in &stale {
            let tags = serde_json::to_string(tags).expect("a list of strings serialises");
            update.execute(params![variant_id, tags])?;
        }
        Ok(stale.len())
    })
}

/// Adds or updates variants (an incremental product read); nothing is removed.
pub fn upsert_variants(db: &Db, variants: &[VariantRow]) -> Result<(), DbError> {
    db.write(|c| insert_variants(c, "shopify_variants", variants))
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
                product_tags: tags_of(tags),
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

/// Every distinct non-empty Shopify SKU (near-miss hints for listings that do not sync).
pub fn skus(db: &Db) -> Result<Vec<String>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT DISTINCT sku FROM shopify_variants WHERE sku IS NOT NULL AND sku != ''",
        )?;
        let rows = st.query_map([], |r| r.get(0))?;
        rows.collect()
    })
}

/// Shopify variants without a SKU (never matchable).
pub fn variants_without_sku(db: &Db) -> Result<usize, DbError> {
    db.read(|c| {
        c.query_row(
            "SELECT COUNT(*) FROM shopify_variants WHERE sku IS NULL OR sku = ''",
            [],
            |r| r.get::<_, i64>(0),
        )
    })
    .map(|n| n as usize)
}

/// Stored tags: `None` when not read yet (or unreadable, which reads them again).
fn tags_of(stored: Option<String>) -> Option<Vec<String>> {
    stored.and_then(|t| serde_json::from_str(&t).ok())
}

/// Empties the staging of `channel`'s listings (a read starting).
pub fn clear_staged_listings(db: &Db, channel: &str) -> Result<(), DbError> {
    db.write(|c| {
        c.execute("DELETE FROM staged_listings WHERE channel = ?1", [channel])?;
        c.execute("DELETE FROM staged_matches WHERE channel = ?1", [channel])?;
        Ok(())
    })
}

/// Adds a batch of listings as read to the staging of `channel`'s listings.
pub fn stage_listings(db: &Db, channel: &str, listings: &[Listing]) -> Result<(), DbError> {
    db.write(|c| insert_listings(c, "staged_listings", channel, listings))
}

/// Stages, for a channel that cannot list its catalogue, one active listing per distinct
/// non-empty Shopify SKU whose product's tags (`None`: not read yet) pass `offered`,
/// keyed by the SKU itself. The variants are visited, never held.
pub fn stage_skus_as_listings(
    db: &Db,
    channel: &str,
    offered: impl Fn(Option<&[String]>) -> bool,
) -> Result<(), DbError> {
    db.write(|c| {
        let mut read = c.prepare(
            "SELECT sku, product_tags FROM shopify_variants WHERE sku IS NOT NULL AND sku != ''",
        )?;
        let mut stage = c.prepare(
            "INSERT OR IGNORE INTO staged_listings (channel, product_id, sku, status)
             VALUES (?1, ?2, ?2, 'active')",
        )?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let sku: String = row.get(0)?;
            let tags = tags_of(row.get(1)?);
            if offered(tags.as_deref()) {
                stage.execute(params![channel, sku])?;
            }
        }
        Ok(())
    })
}

/// Moves `channel`'s staged listings into the mirror: replacing all of its listings
/// (`replace`, after a full read) or adding and updating them; how many were staged.
pub fn swap_in_staged_listings(db: &Db, channel: &str, replace: bool) -> Result<i64, DbError> {
    db.write(|c| {
        if replace {
            c.execute("DELETE FROM channel_listings WHERE channel = ?1", [channel])?;
        }
        let n = c.execute(
            "INSERT OR REPLACE INTO channel_listings
             (channel, product_id, sku, status, parent_id, updated_at, inactive_reason)
             SELECT channel, product_id, sku, status, parent_id, updated_at, inactive_reason
               FROM staged_listings WHERE channel = ?1",
            [channel],
        )?;
        c.execute("DELETE FROM staged_listings WHERE channel = ?1", [channel])?;
        Ok(n as i64)
    })
}

fn insert_listings(
    c: &Connection,
    table: &str,
    channel: &str,
    listings: &[Listing],
) -> rusqlite::Result<()> {
    let mut st = c.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table}
                (channel, product_id, sku, status, parent_id, updated_at, inactive_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))?;
    for l in listings {
        st.execute(params![
            channel,
            l.product_id,
            l.sku,
            l.status.as_str(),
            l.parent_id,
            l.updated_at.map(crate::clock::rfc3339),
            l.inactive_reason
        ])?;
    }
    Ok(())
}

pub fn listings(db: &Db, channel: &str) -> Result<Vec<Listing>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT product_id, sku, status, parent_id, updated_at, inactive_reason
               FROM channel_listings WHERE channel = ?1 ORDER BY product_id",
        )?;
        let rows = st.query_map([channel], listing_row)?;
        rows.collect()
    })
}

/// A listing from columns 0-5: product_id, sku, status, parent_id, updated_at,
/// inactive_reason.
fn listing_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Listing> {
    let status: String = r.get(2)?;
    let updated: Option<String> = r.get(4)?;
    Ok(Listing {
        product_id: r.get(0)?,
        sku: r.get(1)?,
        status: ListingStatus::parse(&status),
        parent_id: r.get(3)?,
        updated_at: updated.as_deref().and_then(crate::clock::parse),
        inactive_reason: r.get(5)?,
    })
}

/// One listing of a channel, with what matching needs to know about its SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub listing: Listing,
    /// Active listings of the channel with this SKU (this one included if active).
    pub active_with_sku: usize,
    /// Shopify variants with this SKU (none for an empty SKU).
    pub variants_with_sku: usize,
    /// One of those variants (the only one, when there is one).
    pub variant: Option<CandidateVariant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateVariant {
    pub variant_id: String,
    pub inventory_item_id: String,
    pub tracked: bool,
    pub product_status: String,
}

/// Re-matches `channel`: every listing is visited (never held) and `judge` says which
/// variant it syncs with; those matches are staged, and replace the stored ones only if
/// they differ (see [`swap_in_staged_matches`]). True when they changed.
pub fn rematch(
    db: &Db,
    channel: &str,
    now: &str,
    mut judge: impl FnMut(Candidate) -> Option<MatchRow>,
) -> Result<bool, DbError> {
    db.write(|c| {
        c.execute("DELETE FROM staged_matches WHERE channel = ?1", [channel])?;
        let mut read = c.prepare(
            "SELECT l.product_id, l.sku, l.status, l.parent_id, l.updated_at, l.inactive_reason,
                    (SELECT COUNT(*) FROM channel_listings x INDEXED BY channel_listings_sku
                      WHERE x.channel = l.channel AND x.sku = l.sku AND x.status = 'active'),
                    (SELECT COUNT(*) FROM shopify_variants v WHERE v.sku = l.sku AND l.sku != ''),
                    v.variant_id, v.inventory_item_id, v.tracked, v.product_status
               FROM channel_listings l
               LEFT JOIN shopify_variants v ON v.variant_id =
                    (SELECT v1.variant_id FROM shopify_variants v1
                      WHERE v1.sku = l.sku AND l.sku != '' LIMIT 1)
              WHERE l.channel = ?1",
        )?;
        let mut stage = c.prepare(
            "INSERT INTO staged_matches (channel, product_id, sku, variant_id, inventory_item_id)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut rows = read.query([channel])?;
        while let Some(r) = rows.next()? {
            let variant_id: Option<String> = r.get(8)?;
            let candidate = Candidate {
                listing: listing_row(r)?,
                active_with_sku: r.get::<_, i64>(6)? as usize,
                variants_with_sku: r.get::<_, i64>(7)? as usize,
                variant: match variant_id {
                    Some(variant_id) => Some(CandidateVariant {
                        variant_id,
                        inventory_item_id: r.get(9)?,
                        tracked: r.get(10)?,
                        product_status: r.get(11)?,
                    }),
                    None => None,
                },
            };
            if let Some(m) = judge(candidate) {
                stage.execute(params![
                    channel,
                    m.product_id,
                    m.sku,
                    m.variant_id,
                    m.inventory_item_id
                ])?;
            }
        }
        swap_in_staged_matches(c, channel, now)
    })
}

/// Replaces `channel`'s matches with the staged ones if they differ; true if so. A
/// listing matched before and not now, holding stock skubridge pushed, is recorded as
/// lost (its stock goes to 0).
fn swap_in_staged_matches(c: &Connection, channel: &str, now: &str) -> rusqlite::Result<bool> {
    // Row by row through the primary keys: a set operation would sort a million rows
    // in memory.
    let changed: bool = c.query_row(
        "SELECT EXISTS (SELECT 1 FROM staged_matches s WHERE s.channel = ?1
                           AND NOT EXISTS (SELECT 1 FROM matches m
                                            WHERE m.channel = ?1 AND m.product_id = s.product_id
                                              AND m.sku = s.sku AND m.variant_id = s.variant_id
                                              AND m.inventory_item_id = s.inventory_item_id))
             OR EXISTS (SELECT 1 FROM matches m WHERE m.channel = ?1
                           AND NOT EXISTS (SELECT 1 FROM staged_matches s
                                            WHERE s.channel = ?1 AND s.product_id = m.product_id))",
        [channel],
        |r| r.get(0),
    )?;
    if changed {
        c.execute(
            "INSERT OR IGNORE INTO lost_matches (channel, product_id, sku, lost_at)
             SELECT ?1, o.product_id, o.sku, ?2 FROM matches o
               JOIN stock_pushed p ON p.channel = ?1 AND p.product_id = o.product_id
              WHERE o.channel = ?1 AND p.quantity != 0
                AND NOT EXISTS (SELECT 1 FROM staged_matches m
                                 WHERE m.channel = ?1 AND m.product_id = o.product_id)",
            params![channel, now],
        )?;
        c.execute("DELETE FROM matches WHERE channel = ?1", [channel])?;
        c.execute(
            "INSERT INTO matches (channel, product_id, sku, variant_id, inventory_item_id, matched_at)
             SELECT channel, product_id, sku, variant_id, inventory_item_id, ?2
               FROM staged_matches WHERE channel = ?1",
            params![channel, now],
        )?;
        c.execute(
            "DELETE FROM lost_matches WHERE channel = ?1
                AND product_id IN (SELECT product_id FROM matches WHERE channel = ?1)",
            [channel],
        )?;
    }
    c.execute("DELETE FROM staged_matches WHERE channel = ?1", [channel])?;
    Ok(changed)
}

/// Replaces `channel`'s matches with these (as a re-match that found them would).
#[cfg(test)]
pub fn replace_matches(db: &Db, channel: &str, matches: &[MatchRow], now: &str) {
    db.write(|c| {
        for m in matches {
            c.execute(
                "INSERT INTO staged_matches (channel, product_id, sku, variant_id, inventory_item_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![channel, m.product_id, m.sku, m.variant_id, m.inventory_item_id],
            )?;
        }
        swap_in_staged_matches(c, channel, now)
    })
    .unwrap();
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

/// The mirror replaced by a full read of these variants and levels (each level's
/// parent is its inventory item).
#[cfg(test)]
pub fn replace_shopify_for_test(db: &Db, variants: &[VariantRow], levels: &[LevelRow]) {
    let staged: Vec<StagedLevel> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| StagedLevel {
            parent_id: l.inventory_item_id.clone(),
            line: i as u64 + 1,
            level: l.clone(),
        })
        .collect();
    clear_staged_shopify(db).unwrap();
    stage_shopify(db, variants, &staged).unwrap();
    let swapped = swap_in_staged_shopify(db).unwrap();
    assert!(matches!(swapped, Swapped::Done { .. }), "{swapped:?}");
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

    fn staged(parent: &str, line: u64, location: &str, available: i64) -> StagedLevel {
        StagedLevel {
            parent_id: parent.into(),
            line,
            level: LevelRow {
                inventory_item_id: String::new(),
                location_id: location.into(),
                available,
                updated_at: None,
            },
        }
    }

    fn levels(db: &Db) -> Vec<(String, String, i64)> {
        db.read(|c| {
            let mut st = c.prepare(
                "SELECT inventory_item_id, location_id, available FROM shopify_levels ORDER BY 1, 2",
            )?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })
        .unwrap()
    }

    #[test]
    fn full_replace_drops_what_is_gone() {
        let (_d, db) = test_db();
        replace_shopify_for_test(&db, &[variant("1", "A"), variant("2", "B")], &[]);
        replace_shopify_for_test(&db, &[variant("2", "B")], &[]);
        let v = variants(&db).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].sku.as_deref(), Some("B"));
    }

    #[test]
    fn staged_levels_link_to_items_by_variant_or_item_whatever_their_order() {
        let (_d, db) = test_db();
        clear_staged_shopify(&db).unwrap();
        // Levels before their variants, in two batches; one named by its item.
        stage_shopify(
            &db,
            &[],
            &[staged("1", 1, "L1", 5), staged("item-2", 2, "L1", 7)],
        )
        .unwrap();
        stage_shopify(
            &db,
            &[variant("1", "A"), variant("2", "B")],
            &[staged("1", 5, "L1", 6)],
        )
        .unwrap();
        assert_eq!(
            swap_in_staged_shopify(&db).unwrap(),
            Swapped::Done {
                variants: 2,
                levels: 3
            }
        );
        assert_eq!(
            levels(&db),
            [
                ("item-1".into(), "L1".into(), 6),
                ("item-2".into(), "L1".into(), 7)
            ],
            "the later line wins"
        );
    }

    #[test]
    fn skus_offered_to_a_channel_without_listings_are_staged_once_and_rematched() {
        let (_d, db) = test_db();
        let untracked = VariantRow {
            tracked: false,
            ..variant("4", "UNTRACKED")
        };
        let no_sku = VariantRow {
            sku: None,
            ..variant("5", "")
        };
        let variants = [
            variant("1", "A"),
            variant("2", "DUP"),
            variant("3", "DUP"),
            untracked,
            no_sku,
            variant("6", ""),
        ];
        replace_shopify_for_test(&db, &variants, &[]);
        clear_staged_listings(&db, "htf").unwrap();
        stage_skus_as_listings(&db, "htf", |_| true).unwrap();
        assert_eq!(swap_in_staged_listings(&db, "htf", true).unwrap(), 3);
        let rematch_all = || {
            let mut seen = Vec::new();
            let changed = rematch(&db, "htf", "t", |c| {
                let tracked = c.variant.as_ref().map(|v| v.tracked);
                seen.push((
                    c.listing.sku.clone(),
                    c.active_with_sku,
                    c.variants_with_sku,
                    tracked,
                ));
                let v = c.variant.filter(|_| c.variants_with_sku == 1)?;
                Some(MatchRow {
                    product_id: c.listing.product_id,
                    sku: c.listing.sku,
                    variant_id: v.variant_id,
                    inventory_item_id: v.inventory_item_id,
                })
            })
            .unwrap();
            seen.sort();
            (changed, seen)
        };
        let (changed, seen) = rematch_all();
        assert_eq!(
            seen,
            [
                ("A".into(), 1, 1, Some(true)),
                ("DUP".into(), 1, 2, Some(true)),
                ("UNTRACKED".into(), 1, 1, Some(false)),
            ]
        );
        assert!(changed);
        assert_eq!(matches(&db, "htf").unwrap().len(), 2);
        assert!(!rematch_all().0, "the same matches are not written again");
    }

    #[test]
    fn an_orphan_level_leaves_the_mirror_as_it_was() {
        let (_d, db) = test_db();
        replace_shopify_for_test(&db, &[variant("1", "A")], &[]);
        clear_staged_shopify(&db).unwrap();
        stage_shopify(&db, &[variant("2", "B")], &[staged("9", 4, "L1", 1)]).unwrap();
        assert_eq!(
            swap_in_staged_shopify(&db).unwrap(),
            Swapped::Orphan {
                line: 4,
                parent_id: "9".into()
            }
        );
        assert_eq!(variants(&db).unwrap(), [variant("1", "A")]);
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
            inactive_reason: Some("SHOP_NOT_OPEN".into()),
        };
        clear_staged_listings(&db, "iconic").unwrap();
        stage_listings(&db, "iconic", std::slice::from_ref(&l)).unwrap();
        assert_eq!(swap_in_staged_listings(&db, "iconic", true).unwrap(), 1);
        assert_eq!(listings(&db, "iconic").unwrap(), vec![l]);
        assert!(listings(&db, "other").unwrap().is_empty());
    }
}
