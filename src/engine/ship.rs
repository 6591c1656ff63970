//! The fulfilment step of a pass (design §5 step 8, §9): Shopify fulfilments of
//! imported orders pushed to the channel as carrier + tracking number, once.
//!
//! The push is recorded (`pushing`, items claimed) before the channel is called. A
//! push whose outcome is unknown is settled on a later pass from the channel's own
//! item statuses: never sent twice blindly.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tracing::{info, warn};

use super::fulfilment::{self, fingerprint, Input, Known, Plan};
use super::orders::source_identifier;
use super::report::{Count, Counts, PassReport, StepName};
use super::{lock, ChannelHandle, Engine};
use crate::channel::{Carrier, CarrierList, LineState, ShipOutcome, Shipment};
use crate::clock;
use crate::db::fulfilments::{self as pushes, Attempt, PushState};
use crate::db::orders::{self as ledger, OrderRow};
use crate::db::{channels, meta};
use crate::notify;
use crate::shopify::fulfilments::{FulfilledOrder, Fulfillment};
use crate::shopify::orders::term;
use crate::stop;

/// Shopify fulfilment reads start this far before the last order update seen.
const FULFILMENT_OVERLAP: Duration = Duration::minutes(2);

fn fulfilled_watermark(channel: &str) -> String {
    format!("fulfilments.shopify.{channel}")
}

#[derive(Debug, Clone, Copy, Default)]
pub struct FulfilOptions {
    pub dry_run: bool,
    /// Push failed fulfilments again even if unchanged in Shopify.
    pub retry_failed: bool,
}

/// One fulfilment handled (or not), for `skubridge fulfil` to print.
#[derive(Debug, Clone, Serialize)]
pub struct FulfilAction {
    pub channel: String,
    pub order_number: String,
    pub shopify_order: String,
    pub fulfilment_id: String,
    pub items: usize,
    /// As Shopify names it.
    pub carrier: Option<String>,
    /// The channel's code for the carrier.
    pub channel_carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub result: FulfilResult,
    pub detail: String,
}

/// What became of one fulfilment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilResult {
    Pushed,
    #[serde(rename = "would push")]
    WouldPush,
    Failed,
    /// Sent, and no usable answer: settled from the channel on the next pass.
    Unknown,
    Skipped,
}

impl FulfilResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pushed => "pushed",
            Self::WouldPush => "would push",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
            Self::Skipped => "skipped",
        }
    }

    fn count(self) -> Count {
        match self {
            Self::Pushed => Count::Pushed,
            Self::WouldPush => Count::WouldPush,
            Self::Failed => Count::Failed,
            Self::Unknown => Count::Unknown,
            Self::Skipped => Count::Skipped,
        }
    }
}

impl Engine<'_> {
    /// `skubridge fulfil`: the fulfilment step alone, now, for every channel (or the one
    /// order asked for), recorded as a run and its emails sent.
    pub async fn run_fulfil(&self, opts: FulfilOptions, order: Option<&str>) -> Result<PassReport> {
        let (run_id, t0) = self.begin_run("fulfil", opts.dry_run)?;
        let mut report = PassReport::default();
        let channels = self.unpaused(&mut report)?;
        let budget = self.budget;
        let steps = channels.iter().map(|ch| {
            budget.run(
                StepName::Fulfilment,
                ch.name(),
                self.fulfilment(ch, opts, order),
            )
        });
        report.steps.extend(futures::future::join_all(steps).await);
        self.end_run(run_id, t0, opts.dry_run, report).await
    }

    /// Pushes a channel's new Shopify fulfilments; with `order` (a channel order number)
    /// only that order's, whatever the watermark.
    pub(super) async fn fulfilment(
        &self,
        ch: &ChannelHandle<'_>,
        opts: FulfilOptions,
        order: Option<&str>,
    ) -> Result<Counts> {
        let name = ch.name().to_string();
        let mut counts = Counts::default();
        if !opts.dry_run {
            self.settle_pushing(ch, &mut counts).await?;
        }
        // Nothing imported is still open on the channel: no search, no request. The
        // watermark stays, so the next search still covers everything since.
        let idle =
            order.is_none() && !opts.retry_failed && ledger::open_imported(self.db, &name)? == 0;
        if idle {
            return Ok(counts);
        }
        let (orders, newest) = self.fulfilled_orders(ch, opts, order).await?;
        let carriers = self.carriers(ch).await;
        let known = Known::of(ch.client.capabilities().carriers, carriers.as_deref());
        for o in &orders {
            // Frozen, cancelled or not ours: never pushed.
            let Some(row) = self.imported_row(&name, o.source_identifier.as_deref())? else {
                continue;
            };
            for f in &o.fulfillments {
                let action = self.push_one(ch, &row, o, f, known, opts).await?;
                counts.one(action.result.count());
                if action.result != FulfilResult::Skipped || order.is_some() {
                    lock(&self.details).fulfilments.push(action);
                }
            }
        }
        if let (Some(t), None) = (newest, order) {
            meta::set_watermark(self.db, &fulfilled_watermark(&name), &clock::rfc3339(t))?;
        }
        Ok(counts)
    }

    /// Shopify orders of this channel fulfilled since the watermark (or the one order
    /// asked for), plus those whose failed pushes are to be retried.
    async fn fulfilled_orders(
        &self,
        ch: &ChannelHandle<'_>,
        opts: FulfilOptions,
        order: Option<&str>,
    ) -> Result<(Vec<FulfilledOrder>, Option<DateTime<Utc>>)> {
        let name = ch.name().to_string();
        if let Some(number) = order {
            let Some(row) = ledger::by_number(self.db, &name, number)? else {
                return Ok((Vec::new(), None));
            };
            let found = self.fulfilled_by_source(&name, &row.order_id).await?;
            return Ok((found, None));
        }
        let since = match meta::watermark(self.db, &fulfilled_watermark(&name))?
            .as_deref()
            .and_then(clock::parse)
        {
            Some(t) => t,
            None => self.import_since(ch).await?,
        } - FULFILMENT_OVERLAP;
        let query = format!(
            "{} AND updated_at:>'{}' AND (fulfillment_status:shipped OR fulfillment_status:partial)",
            term("tag", &name),
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let mut found = self
            .shopify
            .fulfilled_orders(&query)
            .await
            .context("reading Shopify orders fulfilled since the last pass")?;
        let newest = found.iter().filter_map(|o| o.updated_at).max();
        if opts.retry_failed {
            let seen: BTreeSet<String> = found.iter().map(|o| o.id.clone()).collect();
            let failed: BTreeSet<String> = pushes::in_state(self.db, &name, PushState::Failed)?
                .into_iter()
                .map(|r| r.order_id)
                .collect();
            for order_id in failed {
                for o in self.fulfilled_by_source(&name, &order_id).await? {
                    if !seen.contains(&o.id) {
                        found.push(o);
                    }
                }
            }
        }
        Ok((found, newest))
    }

    async fn fulfilled_by_source(
        &self,
        channel: &str,
        order_id: &str,
    ) -> Result<Vec<FulfilledOrder>> {
        let query = term("source_identifier", &source_identifier(channel, order_id));
        self.shopify
            .fulfilled_orders(&query)
            .await
            .with_context(|| {
                format!("reading the Shopify fulfilments of {channel} order {order_id}")
            })
    }

    /// The channel's carriers, cached as long as it says. `None` when it has no list, or
    /// the list cannot be read: the carriers configured still work.
    async fn carriers(&self, ch: &ChannelHandle<'_>) -> Option<Vec<Carrier>> {
        let CarrierList::Listed { max_age, .. } = ch.client.capabilities().carriers else {
            return None;
        };
        let now = self.clock.now();
        let cached: Option<(Vec<Carrier>, DateTime<Utc>)> = channels::get(self.db, ch.name())
            .ok()
            .and_then(|s| s.carriers)
            .and_then(|(json, at)| Some((serde_json::from_str(&json).ok()?, at)));
        let max_age = Duration::from_std(max_age).unwrap_or(Duration::MAX);
        if let Some((list, at)) = &cached {
            if now - *at < max_age {
                return Some(list.clone());
            }
        }
        match ch.client.carriers().await {
            Ok(carriers) => {
                if let Ok(json) = serde_json::to_string(&carriers) {
                    let _ = channels::set_carriers(self.db, ch.name(), &json, now);
                }
                Some(carriers)
            }
            Err(e) => {
                warn!(
                    "{}: carriers could not be read ({e:#}); only [channel.carriers] applies",
                    ch.name()
                );
                cached.map(|(list, _)| list)
            }
        }
    }

    async fn push_one(
        &self,
        ch: &ChannelHandle<'_>,
        row: &OrderRow,
        order: &FulfilledOrder,
        f: &Fulfillment,
        known_carriers: Known<'_>,
        opts: FulfilOptions,
    ) -> Result<FulfilAction> {
        let channel = ch.name().to_string();
        let previous = pushes::get(self.db, &channel, &row.order_id, &f.id)?;
        let lines = pushes::imported_lines(self.db, &channel, &row.order_id)?;
        let plan = fulfilment::plan(&Input {
            channel: &channel,
            fulfilment: f,
            order_fulfilments: &order.fulfillments,
            previous: previous.as_ref(),
            lines: &lines,
            carriers: &ch.cfg.carriers,
            known_carriers,
            tracking_number_problem: &|n| ch.client.tracking_number_problem(n),
            shipping: ch.client.capabilities().shipping,
            retry_failed: opts.retry_failed,
        });
        let mut action = FulfilAction {
            channel: channel.clone(),
            order_number: row.number.clone(),
            shopify_order: order.name.clone(),
            fulfilment_id: f.id.clone(),
            items: 0,
            carrier: f.company.clone(),
            channel_carrier: None,
            tracking_number: f.number.clone(),
            result: FulfilResult::Skipped,
            detail: String::new(),
        };
        let fp = fingerprint(f);
        let now = self.now();
        match plan {
            Plan::Skip(why) => action.detail = why.to_string(),
            Plan::Reject { reason } => {
                action.result = FulfilResult::Failed;
                action.detail = reason.clone();
                if !opts.dry_run {
                    let attempt = attempt(&channel, row, f, None, &fp, &[]);
                    let news = previous.as_ref().is_none_or(|p| {
                        p.fingerprint != fp || p.reason.as_deref() != Some(&reason)
                    });
                    self.fail(&attempt, row, &reason, news)?;
                }
            }
            Plan::Push {
                line_ids,
                carrier,
                tracking_number,
                note,
            } => {
                action.items = line_ids.len();
                action.channel_carrier = Some(carrier.clone());
                action.tracking_number = Some(tracking_number.clone());
                action.detail = note.unwrap_or_default();
                if opts.dry_run {
                    action.result = FulfilResult::WouldPush;
                    return Ok(action);
                }
                let mut attempt = attempt(&channel, row, f, Some(&carrier), &fp, &line_ids);
                attempt.tracking_number = Some(&tracking_number);
                let _on_the_wire = stop::global().change()?;
                pushes::begin_push(self.db, &attempt, &now)?;
                let shipment = Shipment {
                    order_id: row.order_id.clone(),
                    shipped_at: f.updated_at.unwrap_or_else(|| self.clock.now()),
                    line_ids: line_ids.clone(),
                    carrier: carrier.clone(),
                    tracking_number: tracking_number.clone(),
                    tracking_url: tracking_url(f).map(str::to_string),
                };
                match ch.client.ship(&shipment).await {
                    ShipOutcome::Shipped { confirmed } => {
                        pushes::mark_pushed(self.db, &channel, &row.order_id, &f.id, &self.now())?;
                        if confirmed.len() < line_ids.len() {
                            warn!(
                                "{channel} order {}: {} confirmed {} of the {} lines sent ({:?}); check the order in its seller centre",
                                row.number,
                                channel,
                                confirmed.len(),
                                line_ids.len(),
                                confirmed
                            );
                        }
                        info!(
                            "{channel} order {}: shipped with {carrier} {tracking_number} (lines: {}){}",
                            row.number,
                            confirmed.len(),
                            Some(action.detail.as_str())
                                .filter(|d| !d.is_empty())
                                .map(|d| format!(" ({d})"))
                                .unwrap_or_default()
                        );
                        action.result = FulfilResult::Pushed;
                    }
                    ShipOutcome::Refused { reason } => {
                        let reason = format!("{channel} refused it: {reason}");
                        action.result = FulfilResult::Failed;
                        action.detail = reason.clone();
                        self.fail(&attempt, row, &reason, true)?;
                    }
                    ShipOutcome::Unknown { reason } => {
                        warn!("{channel} order {}: shipment outcome unknown ({reason}); settled from the channel's line states on the next pass", row.number);
                        action.result = FulfilResult::Unknown;
                        action.detail = reason;
                    }
                }
            }
        }
        Ok(action)
    }

    /// Records a failed push and, when it is news, emails "Fulfilment Error".
    fn fail(&self, attempt: &Attempt<'_>, row: &OrderRow, reason: &str, news: bool) -> Result<()> {
        let at = self.clock.now();
        warn!(
            "{} order {}: fulfilment not pushed: {reason}",
            attempt.channel, row.number
        );
        self.db.atomically(|| -> Result<()> {
            pushes::mark_failed(self.db, attempt, reason, &clock::rfc3339(at))?;
            if news {
                notify::queue_message(
                    self.db,
                    at,
                    "fulfilment_error",
                    "Fulfilment Error",
                    &error_body(attempt, row, reason),
                )?;
            }
            Ok(())
        })
    }

    /// `pushing` rows left by a crash or an unknown outcome: the channel's line states
    /// (re-read now) say whether the push landed; if not, it is sent again.
    async fn settle_pushing(&self, ch: &ChannelHandle<'_>, counts: &mut Counts) -> Result<()> {
        let channel = ch.name().to_string();
        let open = pushes::in_state(self.db, &channel, PushState::Pushing)?;
        if open.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = open
            .iter()
            .map(|r| r.order_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let now = self.now();
        let read = ch
            .client
            .orders_by_id(&ids)
            .await
            .with_context(|| format!("re-reading {channel} orders with a push in progress"))?;
        for o in &read.orders {
            ledger::record_seen(self.db, &channel, o, &now)?;
        }
        // Settled from what the channel says now, or not at all this pass.
        let unread: BTreeSet<&str> = read
            .unreadable
            .iter()
            .filter_map(|u| u.id.as_deref())
            .collect();
        for r in open {
            if unread.contains(r.order_id.as_str()) {
                continue;
            }
            let claimed = pushes::claimed_lines(self.db, &channel, &r.order_id, &r.fulfilment_id)?;
            let lines = pushes::imported_lines(self.db, &channel, &r.order_id)?;
            let pending: Vec<String> = lines
                .iter()
                .filter(|l| claimed.contains(&l.line_id) && l.state == LineState::Open)
                .map(|l| l.line_id.clone())
                .collect();
            let outcome = if pending.is_empty() {
                // Every line it claimed has left the open state: the push landed.
                ShipOutcome::Shipped {
                    confirmed: Vec::new(),
                }
            } else {
                let (Some(carrier), Some(tracking_number)) =
                    (r.provider.clone(), r.tracking_number.clone())
                else {
                    continue;
                };
                let shipment = Shipment {
                    order_id: r.order_id.clone(),
                    shipped_at: clock::parse(&r.attempted_at).unwrap_or_else(|| self.clock.now()),
                    line_ids: pending,
                    carrier,
                    tracking_number,
                    tracking_url: r.tracking_url.clone(),
                };
                let _on_the_wire = stop::global().change()?;
                ch.client.ship(&shipment).await
            };
            match outcome {
                ShipOutcome::Shipped { .. } => {
                    pushes::mark_pushed(
                        self.db,
                        &channel,
                        &r.order_id,
                        &r.fulfilment_id,
                        &self.now(),
                    )?;
                    counts.one(Count::Pushed);
                }
                ShipOutcome::Refused { reason } => {
                    let Some(row) = ledger::get(self.db, &channel, &r.order_id)? else {
                        continue;
                    };
                    let attempt = Attempt {
                        channel: &channel,
                        order_id: &r.order_id,
                        fulfilment_id: &r.fulfilment_id,
                        company: r.company.as_deref(),
                        tracking_number: r.tracking_number.as_deref(),
                        tracking_url: r.tracking_url.as_deref(),
                        provider: r.provider.as_deref(),
                        fingerprint: &r.fingerprint,
                        line_ids: &[],
                    };
                    let reason = format!("{channel} refused it: {reason}");
                    self.fail(&attempt, &row, &reason, true)?;
                    counts.one(Count::Failed);
                }
                ShipOutcome::Unknown { .. } => counts.one(Count::Unknown),
            }
        }
        Ok(())
    }
}

/// The fulfilment's tracking link, when Shopify has one.
fn tracking_url(f: &Fulfillment) -> Option<&str> {
    f.url.as_deref().map(str::trim).filter(|u| !u.is_empty())
}

fn attempt<'a>(
    channel: &'a str,
    row: &'a OrderRow,
    f: &'a Fulfillment,
    provider: Option<&'a str>,
    fp: &'a str,
    line_ids: &'a [String],
) -> Attempt<'a> {
    Attempt {
        channel,
        order_id: &row.order_id,
        fulfilment_id: &f.id,
        company: f.company.as_deref(),
        tracking_number: f.number.as_deref(),
        tracking_url: tracking_url(f),
        provider,
        fingerprint: fp,
        line_ids,
    }
}

fn error_body(a: &Attempt<'_>, row: &OrderRow, reason: &str) -> String {
    let channel = a.channel;
    format!(
        "The fulfilment of {channel} order {number} (Shopify order {shopify}) could not be sent to {channel}.\n\n\
         Carrier: {carrier}\nTracking number: {tracking}\nReason: {reason}\n\n\
         What to do: fix the carrier or tracking number in Shopify (the order's fulfilment, Edit \
         tracking), or map the carrier under [channel.carriers] in skubridge.toml. skubridge sends \
         it again by itself when the Shopify fulfilment changes; after a config fix run \
         `skubridge fulfil --retry-failed`. If the items were already shipped in {channel}'s seller \
         centre, nothing more is needed.",
        number = row.number,
        shopify = row.shopify_name.as_deref().unwrap_or("?"),
        carrier = a.company.unwrap_or("(none)"),
        tracking = a.tracking_number.unwrap_or("(none)"),
    )
}
