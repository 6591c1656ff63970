//! Matching a channel's listings with Shopify's variants (design §6): in full the first
//! time and on `reset-products`, then incrementally when product sync is due.

use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use super::levels::PRODUCTS_OVERLAP;
use super::matching::{MatchCounts, Verdict};
use super::report::{Count, Counts};
use super::{matching, notices, unmatched, ChannelHandle, Engine};
use crate::channel::{ListingStatus, ListingsRead};
use crate::clock;
use crate::db::catalog::MatchRow;
use crate::db::{catalog, channels, meta, runs};
use crate::notify;

/// Batches of listings read and not yet stored: a reader faster than the store waits.
const LISTING_BATCHES_IN_FLIGHT: usize = 8;

fn products_watermark(channel: &str) -> String {
    format!("products.{channel}")
}

impl Engine<'_> {
    /// Matches a channel's listings: in full the first time, then incrementally once
    /// `product_sync_every_minutes` have passed. (A channel that matched nothing is not
    /// re-read in full every pass: that would cost its whole catalog every 5 minutes.)
    pub(super) async fn products(&self, ch: &ChannelHandle<'_>) -> Result<Counts> {
        let last = meta::watermark(self.db, &products_watermark(ch.name()))?
            .as_deref()
            .and_then(clock::parse);
        let every =
            chrono::Duration::minutes(i64::from(self.cfg.schedule.product_sync_every_minutes));
        match last {
            None => self.full_match(ch, false).await,
            Some(t) if self.clock.now() - t >= every => self.incremental_match(ch).await,
            Some(_) => Ok(Counts::default()),
        }
    }

    /// Every listing (already staged by a reset, or read now) re-matched against a full
    /// Shopify read, written in one transaction: a run killed midway leaves the previous
    /// matches.
    async fn full_match(&self, ch: &ChannelHandle<'_>, staged: bool) -> Result<Counts> {
        self.ensure_full_read().await?;
        if !staged {
            self.stage_listings(ch, None).await?;
        }
        let started = self.now();
        self.db.atomically(|| -> Result<Counts> {
            catalog::swap_in_staged_listings(self.db, ch.name(), true)?;
            let counts = self.rematch(ch, &started)?;
            channels::set_fingerprint(self.db, ch.name(), &ch.client.fingerprint())?;
            Ok(counts)
        })
    }

    /// Only what changed since the last product sync is read (Shopify variants once per
    /// pass, this channel's listings, or all of them from a channel that cannot say
    /// what changed), then the whole local mirror is re-matched: a duplicate can appear
    /// or disappear anywhere.
    async fn incremental_match(&self, ch: &ChannelHandle<'_>) -> Result<Counts> {
        let started = self.now();
        let incremental = ch.client.capabilities().listings == ListingsRead::Incremental;
        let since = meta::watermark(self.db, &products_watermark(ch.name()))?
            .as_deref()
            .and_then(clock::parse)
            .map(|t| t - PRODUCTS_OVERLAP)
            .filter(|_| incremental);
        self.read_changed_variants().await?;
        if let Some(tag) = ch.client.offered_tag() {
            self.read_tagged_variants(tag).await?;
        }
        self.stage_listings(ch, since).await?;
        self.db.atomically(|| -> Result<Counts> {
            let read = catalog::swap_in_staged_listings(self.db, ch.name(), !incremental)?;
            let mut counts = self.rematch(ch, &started)?;
            if incremental {
                counts.add(Count::ListingsChanged, read);
            }
            Ok(counts)
        })
    }

    /// Stages the channel's listings (those changed since `since`) as they are read,
    /// or, for a channel that cannot list its catalogue, one listing per Shopify SKU,
    /// keyed by the SKU: stock is offered for each, and the channel ignores the SKUs it
    /// does not sell.
    async fn stage_listings(
        &self,
        ch: &ChannelHandle<'_>,
        since: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let name = ch.name();
        catalog::clear_staged_listings(self.db, name)?;
        if ch.client.capabilities().listings == ListingsRead::None {
            let tag = ch.client.offered_tag();
            catalog::stage_skus_as_listings(self.db, name, |tags| matching::offered(tags, tag))?;
            return Ok(());
        }
        let progress = self.reporter.progress(&format!("{name}: reading listings"));
        let (out, mut batches) = tokio::sync::mpsc::channel(LISTING_BATCHES_IN_FLIGHT);
        let on_progress = |n| progress.set(n);
        let read = ch.client.listings(since, out, &on_progress);
        // Everything sent is received, even after a failed store: the read ends on its own.
        let store = async {
            let mut stored = Ok(());
            while let Some(batch) = batches.recv().await {
                if stored.is_ok() {
                    stored = catalog::stage_listings(self.db, name, &batch);
                }
            }
            stored
        };
        let (read, stored) = tokio::join!(read, store);
        read.with_context(|| format!("reading {name} listings"))?;
        stored.with_context(|| format!("storing {name} listings"))?;
        Ok(())
    }

    /// Matches the stored Shopify variants with the channel's stored listings, a row at
    /// a time, and stores the matches when they changed.
    fn rematch(&self, ch: &ChannelHandle<'_>, now: &str) -> Result<Counts> {
        let name = ch.name();
        let mut c = MatchCounts::default();
        let mut problems = Vec::new();
        catalog::rematch(self.db, name, now, |candidate| {
            let variant = candidate.variant;
            let verdict = matching::verdict(
                candidate.listing.status == ListingStatus::Active,
                candidate.active_with_sku,
                candidate.variants_with_sku,
                variant.as_ref().map(|v| (0, v.tracked)),
            );
            c.listings += 1;
            c.count(&verdict);
            let status = variant.as_ref().map(|v| v.product_status.as_str());
            if let Some(reason) = unmatched::reason(&verdict, status, &candidate.listing) {
                problems.push((candidate.listing.clone(), reason));
            }
            match (verdict, variant) {
                (Verdict::Matched(_), Some(v)) => Some(MatchRow {
                    product_id: candidate.listing.product_id,
                    sku: candidate.listing.sku,
                    variant_id: v.variant_id,
                    inventory_item_id: v.inventory_item_id,
                }),
                _ => None,
            }
        })?;
        c.no_sku = catalog::variants_without_sku(self.db)?;
        // Shopify's SKUs are read for hints only when a listing needs one.
        let skus = if problems.is_empty() {
            Vec::new()
        } else {
            catalog::skus(self.db)?
        };
        let problems = unmatched::with_hints(name, problems, &skus);
        self.notice(notices::unmatched(name, &problems));
        meta::set_watermark(self.db, &products_watermark(name), now)?;
        Ok(Counts::of([
            (Count::Listings, c.listings as i64),
            (Count::Matched, c.matched as i64),
            (Count::Unmatched, c.unmatched as i64),
            (Count::Duplicate, c.duplicate as i64),
            (Count::Untracked, c.untracked as i64),
            (Count::Inactive, c.inactive as i64),
            (Count::NoSku, c.no_sku as i64),
        ]))
    }

    /// `reset-products`: a fresh full read of Shopify and of each channel named in
    /// `only` (every channel when empty), re-matched from scratch. The next `sync`
    /// reconciles: every target is pushed again.
    ///
    /// `staged` names channels whose listings were already read in full (see
    /// [`Engine::reset_listings`]); the other channels' are read now.
    pub async fn reset_products(
        &self,
        only: &[&str],
        staged: &[&str],
    ) -> Result<Vec<(String, Counts)>> {
        let started = self.now();
        let run_id = runs::start(self.db, "reset-products", false, &started)?;
        let t0 = Instant::now();
        let result = self.reset_channels(only, staged).await;
        if let Ok(results) = &result {
            notify::queue_message(
                self.db,
                self.clock.now(),
                "reset_complete",
                "Product reset complete",
                &notices::reset_complete(results),
            )?;
        }
        // Sent whether or not the reset finished: its unmatched listings are news either way.
        let emails = self.send_notices().await?;
        if emails.sent > 0 {
            tracing::debug!("{} emails sent", emails.sent);
        }
        let requests = serde_json::to_string(&self.requests())?;
        let error = result.as_ref().err().map(|e| format!("{e:#}"));
        runs::finish(
            self.db,
            run_id,
            &runs::Finish {
                outcome: if error.is_some() { "failed" } else { "ok" },
                finished_at: &self.now(),
                duration_ms: t0.elapsed().as_millis() as i64,
                requests: &requests,
                error: error.as_deref(),
            },
        )?;
        result
    }

    /// Stages a channel's listings read in full, before a reset of that channel takes
    /// the run lock (the long part of a reset runs while other channels sync); false for
    /// a channel that cannot list (its listings come from Shopify's SKUs, once read).
    pub async fn reset_listings(&self, channel: &str) -> Result<bool> {
        let Some(ch) = self.channels.iter().find(|c| c.name() == channel) else {
            anyhow::bail!("no channel {channel} is configured");
        };
        if ch.client.capabilities().listings == ListingsRead::None {
            return Ok(false);
        }
        self.stage_listings(ch, None).await?;
        Ok(true)
    }

    async fn reset_channels(
        &self,
        only: &[&str],
        staged: &[&str],
    ) -> Result<Vec<(String, Counts)>> {
        self.fresh_full_read().await?;
        let mut out = Vec::new();
        for ch in &self.channels {
            if !only.is_empty() && !only.contains(&ch.name()) {
                continue;
            }
            let counts = self.full_match(ch, staged.contains(&ch.name())).await?;
            channels::set_reconciled(self.db, ch.name(), None)?;
            out.push((ch.name().to_string(), counts));
        }
        Ok(out)
    }
}
