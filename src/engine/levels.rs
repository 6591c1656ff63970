//! The Shopify side of a pass: changed variants for product sync, and stock levels
//! (changed ones, or a full read by bulk operation). One read serves every channel: it
//! happens under a lock, and a channel arriving later finds it done.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};

use super::report::{Count, Counts};
use super::{Engine, ShopifyRead};
use crate::clock;
use crate::config::Config;
use crate::db::catalog::{self, LevelRow, StagedLevel, Swapped, VariantRow};
use crate::db::meta;
use crate::db::Db;
use crate::shopify;

/// Incremental level reads start this far before the last watermark: Shopify's search
/// index can lag a write by a few seconds, and timestamps are compared in whole seconds.
const LEVELS_OVERLAP: chrono::Duration = chrono::Duration::seconds(120);

const LEVELS_WATERMARK: &str = "shopify.levels";

/// When Shopify variants were last read for product sync (once per pass for all channels).
const SHOPIFY_PRODUCTS_WATERMARK: &str = "products.shopify";

/// Incremental product reads start this far back: they use the local clock, and a
/// re-read listing costs nothing but a row.
pub(super) const PRODUCTS_OVERLAP: chrono::Duration = chrono::Duration::minutes(10);

impl Engine<'_> {
    /// Full read when a channel is due to reconcile (or nothing was read yet), else only
    /// the levels changed since the last watermark. Nothing when this pass already read
    /// them and created no order since.
    pub(super) async fn read_shopify_stock(&self) -> Result<Counts> {
        let mut state = self.shopify_read.lock().await;
        if state.levels_fresh {
            return Ok(Counts::of([(Count::Full, i64::from(state.full_read_done))]));
        }
        let watermark = meta::watermark(self.db, LEVELS_WATERMARK)?
            .as_deref()
            .and_then(clock::parse);
        let reconcile = !state.full_read_done
            && self
                .channels
                .iter()
                .any(|ch| self.reconcile_due(ch).unwrap_or(true));
        match watermark {
            Some(since) if !reconcile => self.incremental_levels(&mut state, since).await,
            _ => self.full_shopify_read(&mut state).await,
        }
    }

    /// A full read, unless this pass already made one.
    pub(super) async fn ensure_full_read(&self) -> Result<()> {
        let mut state = self.shopify_read.lock().await;
        if !state.full_read_done {
            self.full_shopify_read(&mut state).await?;
        }
        Ok(())
    }

    /// A full read whatever this pass did before (`reset-products`).
    pub(super) async fn fresh_full_read(&self) -> Result<()> {
        let mut state = self.shopify_read.lock().await;
        self.full_shopify_read(&mut state).await.map(drop)
    }

    /// An order was created in Shopify: the levels mirror is stale.
    pub(super) async fn levels_changed(&self) {
        self.shopify_read.lock().await.levels_fresh = false;
    }

    /// The Shopify variants changed since the last product sync, read once per pass.
    pub(super) async fn read_changed_variants(&self) -> Result<()> {
        let mut state = self.shopify_read.lock().await;
        if state.variants_read {
            return Ok(());
        }
        let since = meta::watermark(self.db, SHOPIFY_PRODUCTS_WATERMARK)?
            .as_deref()
            .and_then(clock::parse)
            .map(|t| t - PRODUCTS_OVERLAP);
        let started = self.now();
        let variants = self
            .shopify
            .variants(since)
            .await
            .context("reading changed Shopify variants")?;
        let rows: Vec<VariantRow> = variants.into_iter().map(variant_row).collect();
        catalog::upsert_variants(self.db, &rows)?;
        meta::set_watermark(self.db, SHOPIFY_PRODUCTS_WATERMARK, &started)?;
        state.variants_read = true;
        Ok(())
    }

    /// The variants of products tagged `tag`, read again whole: a tag put on or taken
    /// off a product need not change its variants' `updated_at`, so the read of changed
    /// variants may never see it.
    pub(super) async fn read_tagged_variants(&self, tag: &str) -> Result<()> {
        let variants = self
            .shopify
            .variants_tagged(tag)
            .await
            .with_context(|| format!("reading the Shopify variants tagged {tag:?}"))?;
        let rows: Vec<VariantRow> = variants.into_iter().map(variant_row).collect();
        let tagged: std::collections::HashSet<String> =
            rows.iter().map(|r| r.variant_id.clone()).collect();
        catalog::upsert_variants(self.db, &rows)?;
        catalog::untag_others(self.db, tag, &tagged)?;
        Ok(())
    }

    async fn full_shopify_read(&self, state: &mut ShopifyRead) -> Result<Counts> {
        let locations = self
            .shopify
            .locations()
            .await
            .context("reading Shopify locations")?;
        for wanted in &self.cfg.shopify.locations {
            if !locations.iter().any(|l| &l.id == wanted) {
                let known: Vec<String> = locations
                    .iter()
                    .map(|l| format!("{} ({})", l.id, l.name))
                    .collect();
                bail!(
                    "shopify.locations: {wanted} is not a location of {} (it has: {}); fix the config",
                    self.cfg.shopify.shop,
                    known.join(", ")
                );
            }
        }
        let locs: Vec<(String, String, bool)> = locations
            .iter()
            .map(|l| (l.id.clone(), l.name.clone(), l.is_active))
            .collect();
        catalog::replace_locations(self.db, &locs, &self.cfg.shopify.locations)?;
        let started = self.now();
        let read_at = {
            let progress = self.reporter.progress("Shopify: reading catalog");
            self.shopify
                .bulk_catalog(&mut Staging(self.db), &|n| progress.set(n))
                .await
                .context("reading the Shopify catalog (bulk operation)")?
        };
        let (variants, levels) = match catalog::swap_in_staged_shopify(self.db)? {
            Swapped::Done { variants, levels } => (variants, levels),
            Swapped::Orphan { line, parent_id } => bail!(
                "reading the Shopify catalog (bulk operation): line {line} of its result is an inventory level of unknown parent {parent_id}; the catalogue was not stored and is read again next pass"
            ),
        };
        meta::set_watermark(self.db, LEVELS_WATERMARK, &clock::rfc3339(read_at))?;
        // Every variant was just read: the next product sync reads only what changed
        // since, not the whole catalogue again.
        meta::set_watermark(self.db, SHOPIFY_PRODUCTS_WATERMARK, &started)?;
        state.variants_read = true;
        state.full_read_done = true;
        state.levels_fresh = true;
        Ok(Counts::of([
            (Count::Full, 1),
            (Count::Variants, variants),
            (Count::Levels, levels),
        ]))
    }

    async fn incremental_levels(
        &self,
        state: &mut ShopifyRead,
        since: DateTime<Utc>,
    ) -> Result<Counts> {
        let from = since - LEVELS_OVERLAP;
        let counted: Vec<String> = catalog::locations(self.db)?
            .into_iter()
            .filter(|l| l.counted)
            .map(|l| l.location_id)
            .collect();
        let mut read_at = None;
        let mut n = 0;
        for loc in &counted {
            let read = match self.shopify.levels_since(loc, from).await {
                Ok(read) => read,
                // A location removed in Shopify: a full read refreshes the list.
                Err(shopify::ShopifyError::NotFound { .. }) => {
                    return self.full_shopify_read(state).await;
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("reading Shopify inventory levels at {loc}"))
                }
            };
            let rows: Vec<LevelRow> = read.levels.into_iter().map(level_row).collect();
            catalog::upsert_levels(self.db, &rows)?;
            n += rows.len() as i64;
            // The earliest read start: nothing changed before it can be missed.
            read_at.get_or_insert(read.read_at);
        }
        if let Some(t) = read_at {
            meta::set_watermark(self.db, LEVELS_WATERMARK, &clock::rfc3339(t))?;
        }
        state.levels_fresh = true;
        Ok(Counts::of([(Count::Full, 0), (Count::Levels, n)]))
    }
}

pub(super) fn shopify_settings(cfg: &Config) -> shopify::ShopifySettings {
    use crate::config::ShopifyAuthConfig;
    shopify::ShopifySettings {
        endpoint: cfg.shopify.endpoint.clone(),
        api_version: cfg.shopify.api_version.clone(),
        auth: match &cfg.shopify.auth {
            ShopifyAuthConfig::Token(t) => shopify::ShopifyAuth::Token(t.clone()),
            ShopifyAuthConfig::ClientCredentials {
                client_id,
                client_secret,
            } => shopify::ShopifyAuth::ClientCredentials {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
            },
        },
    }
}

/// A full Shopify read goes to the database's staging tables as it is parsed.
struct Staging<'a>(&'a Db);

impl shopify::CatalogSink for Staging<'_> {
    fn restart(&mut self) -> Result<(), String> {
        catalog::clear_staged_shopify(self.0).map_err(|e| e.to_string())
    }

    fn put(
        &mut self,
        variants: Vec<shopify::Variant>,
        levels: Vec<shopify::ParentedLevel>,
    ) -> Result<(), String> {
        let variants: Vec<VariantRow> = variants.into_iter().map(variant_row).collect();
        let levels: Vec<StagedLevel> = levels
            .into_iter()
            .map(|p| StagedLevel {
                parent_id: p.parent_id,
                line: p.line,
                level: level_row(p.level),
            })
            .collect();
        catalog::stage_shopify(self.0, &variants, &levels).map_err(|e| e.to_string())
    }
}

fn variant_row(v: shopify::Variant) -> VariantRow {
    VariantRow {
        variant_id: v.id,
        sku: v.sku,
        inventory_item_id: v.inventory_item_id,
        tracked: v.tracked,
        product_id: v.product_id,
        product_status: v.product_status.as_str().to_string(),
        product_tags: Some(v.product_tags),
        updated_at: v.updated_at.map(clock::rfc3339),
    }
}

fn level_row(l: shopify::Level) -> LevelRow {
    LevelRow {
        inventory_item_id: l.inventory_item_id,
        location_id: l.location_id,
        available: l.available,
        updated_at: l.updated_at.map(clock::rfc3339),
    }
}
