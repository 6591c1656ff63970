//! The orders step of a pass (design §5 steps 6-7, §8): new channel orders become
//! Shopify orders exactly once; imported orders are watched on both sides.
//!
//! Exactly once: `creating` is committed before `orderCreate` is sent. A row found in
//! `creating` (a crash, a timeout, a 5xx) is looked up in Shopify by its source
//! identifier before anything else, and every create is preceded by a lookup, so a
//! second install or a restored database adopts the order instead of duplicating it.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Timelike, Utc};
use tracing::{info, warn};

use super::notices::{self, HeldOrder};
use super::orders::{self, Change, Rules, Stock, Triage};
use super::report::{Count, Counts, OrderPlan};
use super::{lock, ChannelHandle, Engine};
use crate::channel::{ChannelError, ChannelOrder, OrderStage, OrdersRead, UnreadableOrder};
use crate::clock;
use crate::db::orders::{self as ledger, Imported, OrderRow, State};
use crate::db::{catalog, channels, meta};
use crate::notify;
use crate::shopify::orders::{term, Created, ShopifyOrder};
use crate::shopify::ShopifyError;
use crate::stop;

/// UNCONFIRMED: how long Shopify's order search can lag a create. An order whose
/// create outcome is unknown is not created again until a lookup this long after the
/// attempt still does not find it.
const SEARCH_SETTLE: Duration = Duration::seconds(60);

/// Channel order reads start this far before the last order update seen: the
/// channel's clock and index may lag, and a re-read order costs nothing.
const ORDERS_OVERLAP: Duration = Duration::minutes(10);

/// A recovering database imports from this long before the first order skubridge made
/// for the channel: an order held back then (an unmatched SKU) may still be pending.
const RECOVERY_LOOKBACK: Duration = Duration::days(1);

/// Shopify edit reads start this far before the last order update seen.
const EDITS_OVERLAP: Duration = Duration::minutes(2);

fn updated_watermark(channel: &str) -> String {
    format!("orders.updated.{channel}")
}

fn edits_watermark(channel: &str) -> String {
    format!("orders.shopify_edits.{channel}")
}

fn floor_second(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0).unwrap_or(t)
}

/// What the pass does with orders it cannot create right now.
enum Pause {
    /// Keep going.
    No,
    /// Shopify refused or failed a create: the remaining creates wait for the next pass.
    Until(String),
}

impl Engine<'_> {
    /// Imports channel `i`'s new orders and watches its imported ones.
    pub(super) async fn orders(&self, ch: &ChannelHandle<'_>, dry_run: bool) -> Result<Counts> {
        let name = ch.name().to_string();
        let since = self.import_since(ch).await?;
        let updated_since = meta::watermark(self.db, &updated_watermark(&name))?
            .as_deref()
            .and_then(clock::parse)
            .map(|t| t - ORDERS_OVERLAP);
        let OrdersRead {
            orders: fresh,
            mut unreadable,
        } = ch
            .client
            .new_orders(since, updated_since)
            .await
            .with_context(|| format!("reading new {name} orders"))?;
        let newest = fresh.iter().map(|o| o.updated_at).max();
        let tracked: BTreeMap<String, OrderRow> = ledger::tracked(self.db, &name)?
            .into_iter()
            .map(|r| (r.order_id.clone(), r))
            .collect();
        let mut current: BTreeMap<String, ChannelOrder> =
            fresh.into_iter().map(|o| (o.id.clone(), o)).collect();
        let reread: Vec<String> = tracked
            .keys()
            .filter(|id| {
                !current.contains_key(*id) && !unreadable.iter().any(|u| u.id.as_ref() == Some(*id))
            })
            .cloned()
            .collect();
        if !reread.is_empty() {
            let more =
                ch.client.orders_by_id(&reread).await.with_context(|| {
                    format!("re-reading {} tracked {name} orders", reread.len())
                })?;
            current.extend(more.orders.into_iter().map(|o| (o.id.clone(), o)));
            unreadable.extend(more.unreadable);
        }

        let now = self.now();
        let mut counts = Counts::default();
        let mut to_import = Vec::new();
        let mut unacknowledged = Vec::new();
        let mut disputed = Vec::new();
        let mut sorted: Vec<ChannelOrder> = current.into_values().collect();
        sorted.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        for order in sorted {
            let known = tracked.contains_key(&order.id);
            // History is never imported: only orders created since `since` start a row.
            // Channel times are whole seconds: an order from the very second `since`
            // falls in. An order with no items at all is kept too, to be held and shown.
            if !known && (order.created_at < floor_second(since) || !orders::is_new(&order)) {
                continue;
            }
            ledger::record_seen(self.db, &name, &order, &now)?;
            let Some(row) = ledger::get(self.db, &name, &order.id)? else {
                continue;
            };
            if row.state == State::Imported {
                if order.extras.incident {
                    let shopify = row.shopify_name.clone().unwrap_or_default();
                    disputed.push((order.id.clone(), order.number.clone(), shopify));
                }
                let change = self.watch(&name, &row, &order)?;
                counts.one(change);
                if change == Count::Watched && order.stage == OrderStage::Ready {
                    unacknowledged.push(order);
                }
            } else if row.state.awaits_import() {
                to_import.push((row, order));
            }
        }
        let (mut held, unidentified) =
            self.hold_unreadable(&name, &tracked, unreadable, since, &mut counts)?;
        held.extend(self.import(ch, to_import, dry_run, &mut counts).await?);
        if !dry_run {
            self.acknowledge(ch, &unacknowledged).await;
        }
        // One email for every order held in this pass, each problem once.
        self.notice_once(notices::orders_held(&name, &held));
        self.notice_once(notices::incidents(&name, &disputed));
        // An order without an id can only be found again by reading the same window.
        if let (Some(t), 0) = (newest, unidentified) {
            meta::set_watermark(self.db, &updated_watermark(&name), &clock::rfc3339(t))?;
        }
        self.watch_shopify_edits(&name, since, &mut counts).await?;
        if unidentified > 0 {
            bail!(
                "{unidentified} {name} orders could not be read at all (not even their order id); they are read again on the next pass, and the others went on. Run with -v to see the answer's problem"
            );
        }
        Ok(counts)
    }

    /// Holds each order the channel answered with that could not be read, on its own
    /// and with the field named. An imported order that cannot be read is left as it is
    /// and watched again when it can be. Returns the held orders (to mail) and how many
    /// could not be told apart at all (no order id).
    fn hold_unreadable(
        &self,
        channel: &str,
        tracked: &BTreeMap<String, OrderRow>,
        unreadable: Vec<UnreadableOrder>,
        since: DateTime<Utc>,
        counts: &mut Counts,
    ) -> Result<(Vec<HeldOrder>, usize)> {
        let mut unidentified = 0;
        let mut held = Vec::new();
        let now = self.now();
        for order in unreadable {
            let Some(id) = order.id.clone() else {
                tracing::debug!(
                    "{channel}: an order without a readable id: {}",
                    order.reason
                );
                unidentified += 1;
                continue;
            };
            let history = order.created_at.is_some_and(|t| t < floor_second(since));
            if !tracked.contains_key(&id) && history {
                continue;
            }
            ledger::record_unreadable(self.db, channel, &order, &id, &now)?;
            let Some(row) = ledger::get(self.db, channel, &id)? else {
                continue;
            };
            let reason = format!("could not be read from {channel}: {}", order.reason);
            // Imported: watched again once readable. Creating: the marker must stay, so
            // no second create goes out before the settle time.
            if !matches!(row.state, State::Pending | State::Held | State::Failed) {
                warn!(
                    "{channel} order {}: {reason}; it is looked at again once it can be read",
                    row.number
                );
                counts.one(Count::Unreadable);
                continue;
            }
            counts.one(Count::Held);
            warn!("{channel} order {}: {reason}; held", row.number);
            ledger::set_state(self.db, channel, &id, State::Held, Some(&reason), &now)?;
            held.push(HeldOrder {
                order_id: id,
                number: row.number,
                key: format!("unreadable:{}", order.reason),
                reason,
            });
        }
        Ok((held, unidentified))
    }

    /// `import_orders_since` from the config, else the time of the first pass that read
    /// this channel's orders (kept, so history stays out however late the next pass is).
    ///
    /// A database without that time on a store where skubridge has imported before (it
    /// was lost, or moved aside as `doctor` advises for a corrupt one) recovers instead
    /// of starting from now: it imports from shortly before the first order skubridge
    /// made for this channel, so every order still pending on the channel is found.
    /// Those already in Shopify are adopted (looked up before any create, as always),
    /// the others imported, and the fulfilment step, reading from the same time, pushes
    /// what is still owed.
    pub(super) async fn import_since(&self, ch: &ChannelHandle<'_>) -> Result<DateTime<Utc>> {
        if let Some(t) = ch.cfg.import_orders_since {
            return Ok(t);
        }
        let name = ch.name().to_string();
        if let Some(t) = self.recorded_import_start(&name)? {
            return Ok(t);
        }
        let at = self.clock.now();
        let since = match self.first_import(&name).await? {
            Some(first) => {
                let made = first.created_at.unwrap_or(at).min(at);
                let since = made - RECOVERY_LOOKBACK;
                warn!(
                    "{name}: this database is new, but Shopify holds orders skubridge imported from {name} before (the first, {}, on {}): recovering every order created since {}",
                    first.name,
                    clock::rfc3339(made),
                    clock::rfc3339(since)
                );
                notify::queue_message(
                    self.db,
                    at,
                    "recovered",
                    &notices::recovered_subject(&name),
                    &notices::recovered_body(&name, &first.name, made, since),
                )?;
                since
            }
            None => {
                info!(
                    "{name}: importing orders created from now on ({}); set channel.import_orders_since to import earlier ones",
                    clock::rfc3339(at)
                );
                at
            }
        };
        channels::set_orders_since(self.db, &name, since)?;
        Ok(since)
    }

    /// When this database started importing the channel's orders, if it has.
    pub(super) fn recorded_import_start(&self, channel: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(channels::get(self.db, channel)?.orders_since)
    }

    /// The oldest Shopify order skubridge made for this channel, if any.
    pub(super) async fn first_import(&self, channel: &str) -> Result<Option<ShopifyOrder>> {
        self.shopify
            .first_order(&term("tag", channel), |o| {
                orders::order_id_in(o.source_identifier.as_deref(), channel).is_some()
            })
            .await
            .with_context(|| {
                format!("looking in Shopify for orders skubridge imported from {channel} before")
            })
    }

    /// An imported order compared with the channel's copy. Returns the count key.
    fn watch(&self, channel: &str, row: &OrderRow, order: &ChannelOrder) -> Result<Count> {
        let imported = ledger::imported_lines(self.db, channel, &row.order_id)?;
        let shopify_name = row.shopify_name.as_deref().unwrap_or("(unknown)");
        let at = self.clock.now();
        let now = clock::rfc3339(at);
        let id = row.order_id.as_str();
        Ok(match orders::watch(&imported, order) {
            Change::None => Count::Watched,
            Change::Closed => {
                ledger::stop_watching(self.db, channel, id, &now)?;
                Count::Closed
            }
            Change::Cancelled => {
                warn!(
                    "{channel} order {} was cancelled after import as Shopify order {shopify_name}",
                    row.number
                );
                self.db.atomically(|| -> Result<()> {
                    let reason = "cancelled on the channel after import";
                    ledger::set_state(self.db, channel, id, State::Cancelled, Some(reason), &now)?;
                    ledger::stop_watching(self.db, channel, id, &now)?;
                    notify::queue_message(
                        self.db,
                        at,
                        "order_cancelled",
                        &notices::cancelled_subject(channel, &row.number, shopify_name),
                        &notices::cancelled_body(channel, &row.number, shopify_name),
                    )?;
                    Ok(())
                })?;
                Count::Cancelled
            }
            Change::ItemsChanged { imported, now: n } => {
                warn!(
                    "{channel} order {} changed after import ({imported} items, now {n}): frozen",
                    row.number
                );
                self.db.atomically(|| -> Result<()> {
                    let reason = format!("items changed on the channel after import ({imported} imported, {n} now): process by hand");
                    ledger::set_state(self.db, channel, id, State::ItemsChanged, Some(&reason), &now)?;
                    ledger::stop_watching(self.db, channel, id, &now)?;
                    notify::queue_message(
                        self.db,
                        at,
                        "order_items_changed",
                        &notices::items_changed_subject(&row.number),
                        &notices::items_changed_body(channel, &row.number, shopify_name, imported, n),
                    )?;
                    Ok(())
                })?;
                Count::ItemsChanged
            }
        })
    }

    /// Decides and creates, oldest order first. Returns the orders held.
    async fn import(
        &self,
        ch: &ChannelHandle<'_>,
        candidates: Vec<(OrderRow, ChannelOrder)>,
        dry_run: bool,
        counts: &mut Counts,
    ) -> Result<Vec<HeldOrder>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let name = ch.name().to_string();
        // Fresh levels decide holds; Shopify's own claim is the last word anyway, so a
        // failed read does not stop imports.
        if let Err(e) = self.read_shopify_stock().await {
            warn!("{name} orders: Shopify stock could not be refreshed, deciding on the last levels read: {e:#}");
        }
        let mut stock = Stock::default();
        let mut held = Vec::new();
        let mut adopted = Vec::new();
        let mut pause = Pause::No;
        for (row, order) in candidates {
            let outcome = self
                .import_one(ch, &row, &order, &mut stock, &mut pause, dry_run)
                .await?;
            if !dry_run
                && matches!(outcome, Outcome::Imported | Outcome::Adopted(_))
                && order.stage == OrderStage::Ready
            {
                self.acknowledge(ch, std::slice::from_ref(&order)).await;
            }
            match &outcome {
                Outcome::Held(problems) | Outcome::Failed(problems) => {
                    held.extend(problems.iter().map(|(key, reason)| HeldOrder {
                        order_id: order.id.clone(),
                        number: order.number.clone(),
                        key: key.clone(),
                        reason: reason.clone(),
                    }))
                }
                Outcome::Adopted(shopify_name) => {
                    adopted.push((order.id.clone(), order.number.clone(), shopify_name.clone()))
                }
                _ => {}
            }
            counts.one(outcome.count());
        }
        self.notice_once(notices::orders_adopted(&name, &adopted));
        Ok(held)
    }

    /// Tells the channel these orders are in Shopify. A failure only waits: the channel
    /// still has the order as ready, so the next pass tells it again.
    async fn acknowledge(&self, ch: &ChannelHandle<'_>, orders: &[ChannelOrder]) {
        for order in orders {
            let Ok(_on_the_wire) = stop::global().change() else {
                return;
            };
            if let Err(e) = ch.client.acknowledge(order).await {
                warn!(
                    "{} order {}: could not mark it as taken on {} ({e}); tried again on the next pass",
                    ch.name(),
                    order.number,
                    ch.name()
                );
            }
        }
    }

    async fn import_one(
        &self,
        ch: &ChannelHandle<'_>,
        row: &OrderRow,
        order: &ChannelOrder,
        stock: &mut Stock,
        pause: &mut Pause,
        dry_run: bool,
    ) -> Result<Outcome> {
        let name = ch.name().to_string();
        let source = orders::source_identifier(&name, &order.id);
        let now = self.now();
        if row.state == State::Creating {
            // A create may have reached Shopify: never send another before looking.
            if let Some(found) = self.lookup(&source).await? {
                return self.adopt(&name, order, &found, false);
            }
            let recent = row
                .attempt_at
                .as_deref()
                .and_then(clock::parse)
                .is_some_and(|t| self.clock.now() - t < SEARCH_SETTLE);
            if recent {
                return Ok(Outcome::Waiting);
            }
        }
        let triage = orders::triage(order, ch.client.capabilities().acceptance);
        match &triage {
            Triage::Cancelled => {
                let reason = "cancelled on the channel before import";
                ledger::set_state(
                    self.db,
                    &name,
                    &order.id,
                    State::Cancelled,
                    Some(reason),
                    &now,
                )?;
                ledger::stop_watching(self.db, &name, &order.id, &now)?;
                return Ok(Outcome::Cancelled);
            }
            Triage::AwaitingPayment => {
                // Held before (say, until accepted by hand): no longer held.
                if row.state == State::Held {
                    let why = format!("waiting for its payment on {name}");
                    ledger::set_state(self.db, &name, &order.id, State::Pending, Some(&why), &now)?;
                }
                return Ok(Outcome::Waiting);
            }
            Triage::Hold(why) => {
                let problem = (why.key().to_string(), why.reason(&name));
                return self.hold(
                    &name,
                    order,
                    State::Held,
                    vec![problem],
                    why.stops_watching(),
                );
            }
            Triage::Accept | Triage::Create => {}
        }
        for line in orders::lines(order) {
            if !stock.skus.contains_key(&line.sku) {
                if let Some(s) = catalog::sku_stock(self.db, &name, &line.sku)? {
                    stock.skus.insert(line.sku.clone(), s);
                }
            }
        }
        let rules = Rules {
            channel: &name,
            orders: &ch.cfg.orders,
            currency: ch.client.default_currency(),
        };
        let new = match orders::decide(order, &rules, stock) {
            Ok(new) => new,
            Err(problems) => {
                let accepting = triage == Triage::Accept;
                if accepting && ch.cfg.orders.refuse_unfulfillable {
                    if let Some(refused) = orders::refusals(order, stock) {
                        return self.accept(ch, order, stock, dry_run, &refused).await;
                    }
                }
                let problems = problems
                    .iter()
                    .map(|p| {
                        let reason = if accepting {
                            format!("{p}; not accepted: accept or refuse it on {name}")
                        } else {
                            p.to_string()
                        };
                        (p.key(), reason)
                    })
                    .collect();
                if dry_run {
                    lock(&self.details).order_plans.push(OrderPlan::Hold {
                        channel: name.clone(),
                        number: order.number.clone(),
                    });
                }
                return self.hold(&name, order, State::Held, problems, false);
            }
        };
        if triage == Triage::Accept {
            return self.accept(ch, order, stock, dry_run, &[]).await;
        }
        let value = orders::order_value(&new);
        let currency = new.currency.clone();
        if dry_run {
            stock.claim(&orders::lines(order));
            lock(&self.details).order_plans.push(OrderPlan::Create {
                channel: name.clone(),
                number: order.number.clone(),
                lines: new.line_items.len(),
                currency,
                value,
            });
            return Ok(Outcome::WouldCreate);
        }
        if let Pause::Until(why) = pause {
            ledger::set_state(
                self.db,
                &name,
                &order.id,
                State::Pending,
                Some(why.as_str()),
                &now,
            )?;
            return Ok(Outcome::Deferred);
        }
        // Before every create: another install, or a restored database, may have made it.
        if row.state != State::Creating {
            if let Some(found) = self.lookup(&source).await? {
                return self.adopt(&name, order, &found, true);
            }
        }
        let _on_the_wire = stop::global().change()?;
        ledger::mark_creating(self.db, &name, &order.id, &value.to_string(), &now)?;
        let result = self.shopify.create_order(&new).await;
        let lines = orders::live_line_ids(order);
        match result {
            Ok(Created::Order {
                id,
                name: shopify_name,
                total,
            }) => {
                ledger::mark_imported(
                    self.db,
                    &name,
                    &order.id,
                    &Imported {
                        shopify_id: &id,
                        shopify_name: &shopify_name,
                        shopify_total: total.map(|t| t.to_string()),
                        adopted: false,
                        lines: &lines,
                    },
                    &self.now(),
                )?;
                stock.claim(&orders::lines(order));
                self.levels_changed().await;
                info!(
                    "{name} order {} imported as Shopify order {shopify_name}",
                    order.number
                );
                Ok(Outcome::Imported)
            }
            Ok(Created::Refused(errors)) => {
                // Shopify created nothing: an oversell it caught, or input it rejects.
                let claim = errors.iter().any(|e| e.is_inventory_claim());
                let text = errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                let (state, key, reason) = if claim {
                    (
                        State::Held,
                        "stock:shopify".to_string(),
                        format!("Shopify could not claim the stock: {text}"),
                    )
                } else {
                    (
                        State::Failed,
                        format!("refused:{text}"),
                        format!("Shopify refused the order: {text}"),
                    )
                };
                self.hold(&name, order, state, vec![(key, reason)], false)
            }
            Err(e @ (ShopifyError::GraphQl { .. } | ShopifyError::Unauthorized { .. })) => {
                // Refused before running (a limit, a scope): nothing was created.
                let why = format!("waiting: Shopify did not accept orderCreate ({e})");
                warn!(
                    "{name} order {}: {why}; the remaining orders wait for the next pass",
                    order.number
                );
                ledger::set_state(
                    self.db,
                    &name,
                    &order.id,
                    State::Pending,
                    Some(&why),
                    &self.now(),
                )?;
                *pause = Pause::Until(why);
                Ok(Outcome::Deferred)
            }
            Err(e) => {
                // The outcome is unknown: Shopify may have created it.
                warn!(
                    "{name} order {}: orderCreate outcome unknown ({e}); looking it up",
                    order.number
                );
                if let Some(found) = self.lookup(&source).await.unwrap_or(None) {
                    return self.adopt(&name, order, &found, false);
                }
                let why = format!(
                    "orderCreate outcome unknown ({e}); not found in Shopify yet, looked up again before any new attempt"
                );
                ledger::set_state(
                    self.db,
                    &name,
                    &order.id,
                    State::Creating,
                    Some(&why),
                    &self.now(),
                )?;
                *pause = Pause::Until(format!("waiting: an earlier orderCreate failed ({e})"));
                Ok(Outcome::Unknown)
            }
        }
    }

    /// Accepts an order whose lines, but the `refused` ones (line id, why), could be
    /// created now; the accepted units count as taken for the rest of the pass. It is
    /// imported once the channel says it is paid. Refused lines are mailed once.
    async fn accept(
        &self,
        ch: &ChannelHandle<'_>,
        order: &ChannelOrder,
        stock: &mut Stock,
        dry_run: bool,
        refused: &[(String, String)],
    ) -> Result<Outcome> {
        let name = ch.name();
        let mut kept = order.clone();
        kept.lines
            .retain(|l| !refused.iter().any(|(id, _)| *id == l.id));
        stock.claim(&orders::lines(&kept));
        if dry_run {
            lock(&self.details).order_plans.push(OrderPlan::Accept {
                channel: name.to_string(),
                number: order.number.clone(),
            });
            return Ok(Outcome::WouldAccept);
        }
        let refused_ids: Vec<String> = refused.iter().map(|(id, _)| id.clone()).collect();
        let _on_the_wire = stop::global().change()?;
        match ch.client.accept(order, &refused_ids).await {
            Ok(()) if refused.is_empty() => {
                info!("{name} order {} accepted; imported once paid", order.number);
                ledger::set_state(self.db, name, &order.id, State::Accepted, None, &self.now())?;
                Ok(Outcome::Accepted)
            }
            Ok(()) => {
                let why: Vec<&str> = refused.iter().map(|(_, why)| why.as_str()).collect();
                let reason = format!(
                    "{} of {} lines refused on {name} ({})",
                    refused.len(),
                    order.lines.len(),
                    why.join("; ")
                );
                warn!("{name} order {}: {reason}", order.number);
                let at = self.clock.now();
                self.db.atomically(|| -> Result<()> {
                    ledger::set_state(
                        self.db,
                        name,
                        &order.id,
                        State::Accepted,
                        Some(&reason),
                        &clock::rfc3339(at),
                    )?;
                    notify::queue_message(
                        self.db,
                        at,
                        "lines_refused",
                        &notices::lines_refused_subject(name, &order.number, refused.len()),
                        &notices::lines_refused_body(
                            name,
                            &order.number,
                            &why,
                            kept.lines.iter().all(|l| !l.state.is_live()),
                        ),
                    )?;
                    Ok(())
                })?;
                Ok(Outcome::Accepted)
            }
            Err(ChannelError::Refused { reason, .. }) => {
                let problem = (
                    format!("accept:{reason}"),
                    format!(
                        "{name} refused to accept it ({reason}): accept or refuse it on {name}"
                    ),
                );
                self.hold(name, order, State::Held, vec![problem], false)
            }
            Err(e) => {
                warn!(
                    "{name} order {}: not accepted now ({e}); tried again next pass",
                    order.number
                );
                Ok(Outcome::Waiting)
            }
        }
    }

    /// The Shopify order carrying this source identifier (or tag), if any.
    async fn lookup(&self, source: &str) -> Result<Option<ShopifyOrder>> {
        let query = format!(
            "{} OR {}",
            term("source_identifier", source),
            term("tag", source)
        );
        let found = self
            .shopify
            .find_orders(&query)
            .await
            .with_context(|| format!("looking up order {source} in Shopify"))?;
        Ok(found.into_iter().find(|o| o.is(source)))
    }

    fn adopt(
        &self,
        channel: &str,
        order: &ChannelOrder,
        found: &ShopifyOrder,
        foreign: bool,
    ) -> Result<Outcome> {
        if foreign {
            warn!(
                "{channel} order {} is already in Shopify as {} (created by another skubridge install or an older copy of this database): not created again",
                order.number, found.name
            );
        } else {
            info!(
                "{channel} order {} found in Shopify as {}",
                order.number, found.name
            );
        }
        let lines = orders::live_line_ids(order);
        ledger::mark_imported(
            self.db,
            channel,
            &order.id,
            &Imported {
                shopify_id: &found.id,
                shopify_name: &found.name,
                shopify_total: found.total.map(|t| t.to_string()),
                adopted: foreign,
                lines: &lines,
            },
            &self.now(),
        )?;
        Ok(if foreign {
            Outcome::Adopted(found.name.clone())
        } else {
            Outcome::Imported
        })
    }

    /// Holds an order with its problems (mailed once each).
    fn hold(
        &self,
        channel: &str,
        order: &ChannelOrder,
        state: State,
        problems: Vec<(String, String)>,
        stop_watching: bool,
    ) -> Result<Outcome> {
        let now = self.now();
        let reason = problems
            .iter()
            .map(|(_, r)| r.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        ledger::set_state(self.db, channel, &order.id, state, Some(&reason), &now)?;
        if stop_watching {
            ledger::stop_watching(self.db, channel, &order.id, &now)?;
        }
        Ok(if state == State::Failed {
            Outcome::Failed(problems)
        } else {
            Outcome::Held(problems)
        })
    }

    /// The ledger row of the channel order a Shopify order was imported from (by its
    /// source identifier), if the order is `channel`'s and in the imported state: frozen,
    /// cancelled and foreign orders are left alone.
    pub(super) fn imported_row(
        &self,
        channel: &str,
        source: Option<&str>,
    ) -> Result<Option<OrderRow>> {
        let Some(order_id) = orders::order_id_in(source, channel) else {
            return Ok(None);
        };
        Ok(ledger::get(self.db, channel, order_id)?.filter(|r| r.state == State::Imported))
    }

    /// Shopify orders of this channel whose lines were edited after import: flagged
    /// in `orders` and mailed once each. One search per pass, and only while imported
    /// orders are watched.
    async fn watch_shopify_edits(
        &self,
        channel: &str,
        since: DateTime<Utc>,
        counts: &mut Counts,
    ) -> Result<()> {
        if ledger::open_imported(self.db, channel)? == 0 {
            return Ok(());
        }
        let key = edits_watermark(channel);
        let from = meta::watermark(self.db, &key)?
            .as_deref()
            .and_then(clock::parse)
            .unwrap_or(since)
            - EDITS_OVERLAP;
        let query = format!(
            "{} AND updated_at:>'{}'",
            term("tag", channel),
            from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let found = self
            .shopify
            .find_orders(&query)
            .await
            .context("reading Shopify orders updated since the last pass")?;
        for o in &found {
            let Some(row) = self.imported_row(channel, o.source_identifier.as_deref())? else {
                continue;
            };
            if row.edited_at.is_some() || !o.lines_edited() {
                continue;
            }
            let order_id = row.order_id.as_str();
            let at = self.clock.now();
            warn!(
                "Shopify order {} ({channel} order {}) was edited after import",
                o.name, row.number
            );
            self.db.atomically(|| -> Result<()> {
                ledger::mark_edited(self.db, channel, order_id, &clock::rfc3339(at))?;
                notify::queue_message(
                    self.db,
                    at,
                    "order_edited",
                    &notices::edited_subject(channel, &row.number, &o.name),
                    &notices::edited_body(channel, &row.number, &o.name),
                )?;
                Ok(())
            })?;
            counts.one(Count::Edited);
        }
        if let Some(t) = found.iter().filter_map(|o| o.updated_at).max() {
            meta::set_watermark(self.db, &key, &clock::rfc3339(t))?;
        }
        Ok(())
    }
}

/// What happened to one order this pass.
enum Outcome {
    Imported,
    /// Already in Shopify, made by someone else (the name of that order).
    Adopted(String),
    /// Problems as (dedupe key, reason).
    Held(Vec<(String, String)>),
    Failed(Vec<(String, String)>),
    Cancelled,
    /// Accepted on the channel; imported once paid.
    Accepted,
    WouldAccept,
    /// Its create outcome is unknown and Shopify's search may not show it yet.
    Waiting,
    /// Creates paused for the rest of the pass.
    Deferred,
    /// orderCreate failed in a way that may or may not have created it.
    Unknown,
    WouldCreate,
}

impl Outcome {
    fn count(&self) -> Count {
        match self {
            Self::Imported => Count::Imported,
            Self::Adopted(_) => Count::Adopted,
            Self::Held(_) => Count::Held,
            Self::Failed(_) => Count::Failed,
            Self::Cancelled => Count::Cancelled,
            Self::Accepted => Count::Accepted,
            Self::WouldAccept => Count::WouldAccept,
            Self::Waiting | Self::Deferred | Self::Unknown => Count::Waiting,
            Self::WouldCreate => Count::WouldCreate,
        }
    }
}
