//! Stock to a channel (design §7): every matched listing's target, only what differs
//! from what the channel holds, and every target again when reconcile is due. A listing
//! that lost its match is set to 0 once: a stale quantity would oversell. Levels go in
//! synchronous batches or, for a channel that takes imports, in one asynchronous import
//! settled on this or a later pass.

use std::collections::HashMap;

use anyhow::Result;
use tracing::{info, warn};

use super::report::{Count, Counts};
use super::stock::{self, PlannedPush, StockRules};
use super::{lock, notices, ChannelHandle, Engine};
use crate::channel::{ImportState, ListingsRead, PushOutcome, StockUpdate, StockWrite};
use crate::clock;
use crate::db::stock::StockRow;
use crate::db::{self, channels};
use crate::stop;

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
        let write = ch.client.capabilities().stock;
        let mut counts = Counts::default();
        // Levels of imports still unsettled after this step.
        let mut waiting = 0;
        if let (StockWrite::Import { .. }, false) = (write, dry_run) {
            waiting = self.settle_imports(ch, &mut counts).await?;
        }
        // Levels in an unsettled import are in flight: not offered again meanwhile.
        let in_flight = db::stock::in_flight(self.db, name)?;
        let settled = |r: &StockRow| !in_flight.contains(&r.product_id);
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
        // Batches go out a chunk at a time as the catalogue is read a page at a time, so
        // memory stays flat however many SKUs there are. An import takes every level at
        // once, gathered page by page as bare levels (the plan's details dropped); a dry
        // run's plan is shown whole.
        let mut plan = Vec::new();
        let mut levels = Vec::new();
        let mut matched = 0;
        let mut after: Option<String> = None;
        loop {
            let page = db::stock::rows_page(self.db, name, after.as_deref(), STOCK_PAGE)?;
            let Some(last) = page.last() else { break };
            after = Some(last.product_id.clone());
            matched += page.len();
            let page: Vec<StockRow> = page.into_iter().filter(settled).collect();
            plan.extend(stock::plan(&page, rules, full));
            if dry_run {
                continue;
            }
            if let StockWrite::Import { .. } = write {
                counts.add(Count::Planned, plan.len() as i64);
                levels.extend(updates(std::mem::take(&mut plan)));
            } else if plan.len() >= STOCK_PAGE {
                counts.add(Count::Planned, plan.len() as i64);
                self.push_batch(ch, std::mem::take(&mut plan), &mut counts)
                    .await?;
            }
        }
        if matched == 0 && in_flight.is_empty() {
            warn!("{name}: no matched SKUs yet, so no stock to push; `skubridge sync` matches products on its first pass");
        }
        counts.add(Count::Matched, matched as i64);
        // A lost match reads as a listing whose Shopify variant is gone: its target is 0.
        let unlisted_too = ch.client.capabilities().listings == ListingsRead::None;
        let lost: Vec<StockRow> = db::stock::lost_matches(self.db, name, unlisted_too)?
            .into_iter()
            .filter(settled)
            .collect();
        plan.extend(stock::plan(&lost, rules, full));
        counts.add(Count::Planned, plan.len() as i64);
        counts.add(Count::Full, i64::from(full));
        if !lost.is_empty() {
            counts.add(Count::Unlisted, lost.len() as i64);
        }
        if dry_run {
            stock::in_display_order(&mut plan);
            lock(&self.details).plans.push((name.to_string(), plan));
            return Ok(counts);
        }
        for l in &lost {
            warn!(
                "{name}: SKU {:?} (product {}) lost its match in Shopify: its stock is set to 0",
                l.sku, l.product_id
            );
        }
        let sent = match write {
            StockWrite::Batches { .. } => {
                self.push_batch(ch, plan, &mut counts).await?;
                true
            }
            StockWrite::Import {
                min_interval,
                poll,
                wait,
            } => {
                levels.extend(updates(plan));
                let imported = self
                    .import_stock(ch, levels, min_interval, &mut counts)
                    .await?;
                if imported == Imported::Uploaded {
                    waiting = self.settle_imports(ch, &mut counts).await?;
                }
                // An import is often confirmed within seconds: asked again every
                // `poll` as many times as the wait holds, then on the next pass.
                let poll = poll.max(std::time::Duration::from_secs(1));
                let mut reads = wait.as_millis() / poll.as_millis();
                while waiting > 0 && reads > 0 {
                    reads -= 1;
                    tokio::time::sleep(poll).await;
                    waiting = self.settle_imports(ch, &mut counts).await?;
                }
                counts.add(Count::Waiting, waiting as i64);
                imported != Imported::Deferred
            }
        };
        // A reconcile whose import must wait is done by a later pass.
        if full && sent {
            channels::set_reconciled(self.db, name, Some(self.clock.now()))?;
        }
        Ok(counts)
    }

    /// Sends planned levels in the channel's synchronous batches and records the outcome.
    async fn push_batch(
        &self,
        ch: &ChannelHandle<'_>,
        plan: Vec<PlannedPush>,
        counts: &mut Counts,
    ) -> Result<()> {
        let _on_the_wire = stop::global().change()?;
        let outcome = ch.client.push_stock(updates(plan)).await;
        self.record_outcome(ch.name(), outcome, counts)
    }

    /// Records what the channel did with levels it was sent, and reports refusals.
    fn record_outcome(&self, name: &str, outcome: PushOutcome, counts: &mut Counts) -> Result<()> {
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
            let why = format!(
                "{} stock updates not confirmed (first: {reason}); they are retried on the next pass",
                outcome.failed.len()
            );
            warn!("{name}: {why}");
            lock(&self.unconfirmed)
                .entry(name.to_string())
                .or_insert(why);
        }
        counts.add(Count::Pushed, outcome.accepted.len() as i64);
        counts.add(Count::Refused, outcome.refused.len() as i64);
        counts.add(Count::Failed, outcome.failed.len() as i64);
        Ok(())
    }

    /// One asynchronous import of every level to send, at most one per `min_interval`.
    /// Its intent (the levels) is recorded before the upload, so a crash loses nothing:
    /// an import whose upload never answered is settled as failed and its levels, being
    /// absolute, are simply sent again.
    async fn import_stock(
        &self,
        ch: &ChannelHandle<'_>,
        updates: Vec<StockUpdate>,
        min_interval: std::time::Duration,
        counts: &mut Counts,
    ) -> Result<Imported> {
        if updates.is_empty() {
            return Ok(Imported::Nothing);
        }
        let name = ch.name();
        let now = self.clock.now();
        let since_last = db::stock::last_import_at(self.db, name)?
            .as_deref()
            .and_then(clock::parse)
            .map(|t| now - t);
        let wait = chrono::Duration::from_std(min_interval).unwrap_or(chrono::Duration::MAX);
        if since_last.is_some_and(|d| d < wait) {
            info!(
                "{name}: the last stock import is under {}s old; {} levels go with the next pass",
                min_interval.as_secs(),
                updates.len()
            );
            counts.add(Count::Waiting, updates.len() as i64);
            return Ok(Imported::Deferred);
        }
        let _on_the_wire = stop::global().change()?;
        let id = db::stock::begin_import(self.db, name, &updates, &clock::rfc3339(now))?;
        match ch.client.start_stock_import(&updates).await {
            Ok(import_id) => {
                db::stock::import_uploaded(self.db, id, &import_id)?;
                Ok(Imported::Uploaded)
            }
            Err(e) => {
                warn!("{name}: the stock import was not taken ({e}); its levels are sent again next pass");
                db::stock::settle_failed(self.db, name, id, &e.to_string(), &self.now())?;
                counts.add(Count::Failed, updates.len() as i64);
                Ok(Imported::Failed)
            }
        }
    }

    /// Asks the channel where each unsettled import stands and records the outcome;
    /// the levels still waiting.
    async fn settle_imports(&self, ch: &ChannelHandle<'_>, counts: &mut Counts) -> Result<usize> {
        let name = ch.name();
        let mut waiting = 0;
        for open in db::stock::open_imports(self.db, name)? {
            let now = self.now();
            let Some(import_id) = &open.import_id else {
                let why = "the upload never answered; its levels are sent again";
                db::stock::settle_failed(self.db, name, open.id, why, &now)?;
                continue;
            };
            match ch.client.stock_import(import_id).await {
                Ok(ImportState::Pending) => waiting += open.lines,
                Ok(ImportState::Done { refused }) => {
                    let reasons: HashMap<&str, &str> = refused
                        .iter()
                        .map(|(id, why)| (id.as_str(), why.as_str()))
                        .collect();
                    let ids: Vec<&str> = reasons.keys().copied().collect();
                    self.db.atomically(|| -> Result<()> {
                        let (accepted, refused) =
                            db::stock::settle_applied(self.db, name, open.id, &ids, &now)?;
                        let refused = refused
                            .into_iter()
                            .map(|l| {
                                let why = reasons[l.product_id.as_str()].to_string();
                                (l, why)
                            })
                            .collect();
                        counts.add(Count::Pushed, accepted as i64);
                        let outcome = PushOutcome {
                            refused,
                            ..PushOutcome::default()
                        };
                        self.record_outcome(name, outcome, counts)
                    })?;
                }
                Ok(ImportState::Failed { reason }) => {
                    warn!("{name}: stock import {import_id} failed ({reason}); its levels are sent again");
                    db::stock::settle_failed(self.db, name, open.id, &reason, &now)?;
                    counts.add(Count::Failed, open.lines as i64);
                }
                Err(e) => {
                    warn!("{name}: stock import {import_id} could not be checked ({e}); asked again next pass");
                    waiting += open.lines;
                }
            }
        }
        Ok(waiting)
    }
}

/// What became of the levels offered to a stock import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Imported {
    /// No level to send.
    Nothing,
    /// Uploaded: the channel processes it.
    Uploaded,
    /// The channel did not take the upload: the levels are sent again next pass.
    Failed,
    /// Too soon after the last import: the levels wait for the next pass.
    Deferred,
}

/// Rows of the stock table read (and, for batches, levels pushed) at a time.
const STOCK_PAGE: usize = 10_000;

fn updates(plan: Vec<PlannedPush>) -> Vec<StockUpdate> {
    plan.into_iter()
        .map(|p| StockUpdate {
            product_id: p.product_id,
            sku: p.sku,
            quantity: p.new,
        })
        .collect()
}
