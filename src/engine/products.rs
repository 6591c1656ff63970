//! Matching a channel's listings with Shopify's variants (design §6): in full the first
//! time and on `reset-products`, then incrementally when product sync is due.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use super::levels::PRODUCTS_OVERLAP;
use super::report::{Count, Counts};
use super::{matching, notices, unmatched, ChannelHandle, Engine};
use crate::channel::{Listing, ListingsRead};
use crate::clock;
use crate::db::{catalog, channels, meta, runs};
use crate::notify;

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
            None => self.full_match(ch, None).await,
            Some(t) if self.clock.now() - t >= every => self.incremental_match(ch).await,
            Some(_) => Ok(Counts::default()),
        }
    }

    /// Every listing (`read`, or re-read now) re-matched against a full Shopify read,
    /// written in one transaction: a run killed midway leaves the previous matches.
    async fn full_match(
        &self,
        ch: &ChannelHandle<'_>,
        read: Option<Vec<Listing>>,
    ) -> Result<Counts> {
        self.ensure_full_read().await?;
        let listings = match read {
            Some(listings) => listings,
            None => self.read_listings(ch, None).await?,
        };
        let started = self.now();
        self.db.atomically(|| -> Result<Counts> {
            catalog::replace_listings(self.db, ch.name(), &listings)?;
            let counts = self.rematch(ch, listings, &started)?;
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
        let read = self.read_listings(ch, since).await?;
        self.db.atomically(|| -> Result<Counts> {
            if incremental {
                catalog::upsert_listings(self.db, ch.name(), &read)?;
            } else {
                catalog::replace_listings(self.db, ch.name(), &read)?;
            }
            let all = catalog::listings(self.db, ch.name())?;
            let mut counts = self.rematch(ch, all, &started)?;
            if incremental {
                counts.add(Count::ListingsChanged, read.len() as i64);
            }
            Ok(counts)
        })
    }

    /// The channel's listings (those changed since `since`), or, for a channel that
    /// cannot list its catalogue, one listing per Shopify SKU, keyed by the SKU: stock
    /// is offered for each, and the channel ignores the SKUs it does not sell.
    async fn read_listings(
        &self,
        ch: &ChannelHandle<'_>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<Listing>> {
        if ch.client.capabilities().listings == ListingsRead::None {
            let variants = catalog::variants(self.db)?;
            return Ok(matching::listings_of_skus(
                &variants,
                ch.client.offered_tag(),
            ));
        }
        let name = ch.name();
        let sink = self.reporter.progress(&format!("{name}: reading listings"));
        ch.client
            .listings(since, &|n| sink.set(n))
            .await
            .with_context(|| format!("reading {name} listings"))
    }

    /// Matches the stored Shopify variants with the channel's `listings` (all of them, as
    /// stored) and stores the matches when they changed.
    fn rematch(&self, ch: &ChannelHandle<'_>, listings: Vec<Listing>, now: &str) -> Result<Counts> {
        let name = ch.name();
        let variants = catalog::variants(self.db)?;
        let result = matching::match_catalogs(&variants, &listings);
        let matches = result.matches(&variants, &listings);
        if matches != catalog::matches(self.db, name)? {
            catalog::replace_matches(self.db, name, &matches, now)?;
        }
        drop(matches);
        let problems = unmatched::listing_problems(&variants, name, &listings, &result);
        self.notice(notices::unmatched(name, &problems));
        meta::set_watermark(self.db, &products_watermark(name), now)?;
        let c = &result.counts;
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
    /// `read` holds listings already read in full for a channel (see
    /// [`Engine::reset_listings`]); the other channels' are read now.
    pub async fn reset_products(
        &self,
        only: &[&str],
        read: HashMap<String, Vec<Listing>>,
    ) -> Result<Vec<(String, Counts)>> {
        let started = self.now();
        let run_id = runs::start(self.db, "reset-products", false, &started)?;
        let t0 = Instant::now();
        let result = self.reset_channels(only, read).await;
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

    /// A channel's listings read in full, before a reset of that channel takes the run
    /// lock (the long part of a reset runs while other channels sync); `None` for a
    /// channel that cannot list (its listings come from Shopify's SKUs).
    pub async fn reset_listings(&self, channel: &str) -> Result<Option<Vec<Listing>>> {
        let Some(ch) = self.channels.iter().find(|c| c.name() == channel) else {
            anyhow::bail!("no channel {channel} is configured");
        };
        if ch.client.capabilities().listings == ListingsRead::None {
            return Ok(None);
        }
        self.read_listings(ch, None).await.map(Some)
    }

    async fn reset_channels(
        &self,
        only: &[&str],
        mut read: HashMap<String, Vec<Listing>>,
    ) -> Result<Vec<(String, Counts)>> {
        self.fresh_full_read().await?;
        let mut out = Vec::new();
        for ch in &self.channels {
            if !only.is_empty() && !only.contains(&ch.name()) {
                continue;
            }
            let counts = self.full_match(ch, read.remove(ch.name())).await?;
            channels::set_reconciled(self.db, ch.name(), None)?;
            out.push((ch.name().to_string(), counts));
        }
        Ok(out)
    }
}
