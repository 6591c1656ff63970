//! Stock to a channel (design §7): every matched listing's target, only what differs
//! from what the channel holds, and every target again when reconcile is due. A listing
//! that lost its match is set to 0 once: a stale quantity would oversell.

use anyhow::Result;
use tracing::warn;

use super::report::{Count, Counts};
use super::stock::{self, StockRules};
use super::{lock, notices, ChannelHandle, Engine};
use crate::channel::StockUpdate;
use crate::db::{self, channels};

impl Engine<'_> {
    pub(super) fn reconcile_due(&self, ch: &ChannelHandle<'_>) -> Result<bool> {
        let last = channels::get(self.db, ch.name())?.reconciled_at;
        let every = chrono::Duration::hours(i64::from(ch.cfg.reconcile_every_hours));
        Ok(last.is_none_or(|t| self.clock.now() - t >= every))
    }

    pub(super) async fn stock(
        &self,
        ch: &ChannelHandle<'_>,
        read_ok: bool,
        dry_run: bool,
    ) -> Result<Counts> {
        let name = ch.name();
        let rows = db::stock::rows(self.db, name)?;
        if rows.is_empty() {
            warn!("{name}: no matched SKUs yet, so no stock to push; `skubridge sync` matches products on its first pass");
        }
        let lost = db::stock::lost_matches(self.db, name)?;
        // Reconcile only on fresh full data: pushing every target from a failed read
        // would cost N/100 calls and repair nothing.
        let full =
            read_ok && self.shopify_read.lock().await.full_read_done && self.reconcile_due(ch)?;
        let rules = StockRules {
            reserve: ch.cfg.reserve_stock,
            max: ch.cfg.max_stock,
        };
        if full {
            db::stock::clear_refused(self.db, name)?;
        }
        let matched = rows.len() as i64;
        // A lost match reads as a listing whose Shopify variant is gone: its target is 0.
        let all: Vec<_> = rows.into_iter().chain(lost.iter().cloned()).collect();
        let plan = stock::plan(&all, rules, full);
        let mut counts = Counts::of([
            (Count::Matched, matched),
            (Count::Planned, plan.len() as i64),
            (Count::Full, i64::from(full)),
        ]);
        let unlisted = lost.len() as i64;
        if unlisted > 0 {
            counts.add(Count::Unlisted, unlisted);
        }
        if dry_run {
            lock(&self.details).plans.push((name.to_string(), plan));
            return Ok(counts);
        }
        for l in &lost {
            warn!(
                "{name}: SKU {:?} (product {}) lost its match in Shopify: its stock is set to 0",
                l.sku, l.product_id
            );
        }
        let updates: Vec<StockUpdate> = plan
            .iter()
            .map(|p| StockUpdate {
                product_id: p.product_id.clone(),
                sku: p.sku.clone(),
                quantity: p.new,
            })
            .collect();
        let outcome = ch.client.push_stock(updates).await;
        let now = self.now();
        db::stock::record_accepted(self.db, name, &outcome.accepted, &now)?;
        db::stock::record_refused(self.db, name, &outcome.refused, &now)?;
        // Unconfirmed: the channel may or may not hold the value, so the next pass offers it again.
        let unknown: Vec<&str> = outcome
            .failed
            .iter()
            .map(|(u, _)| u.product_id.as_str())
            .collect();
        db::stock::forget_pushed(self.db, name, &unknown)?;
        for (u, reason) in &outcome.refused {
            warn!(
                "{name} refused stock {} for SKU {:?} (product {}): {reason}",
                u.quantity, u.sku, u.product_id
            );
        }
        self.notice(notices::refused(name, &outcome.refused));
        if let Some((_, reason)) = outcome.failed.first() {
            warn!(
                "{name}: {} stock updates not confirmed (first: {reason}); they are retried on the next pass",
                outcome.failed.len()
            );
        }
        if full {
            channels::set_reconciled(self.db, name, Some(self.clock.now()))?;
        }
        counts.add(Count::Pushed, outcome.accepted.len() as i64);
        counts.add(Count::Refused, outcome.refused.len() as i64);
        counts.add(Count::Failed, outcome.failed.len() as i64);
        Ok(counts)
    }
}
