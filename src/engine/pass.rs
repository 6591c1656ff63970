//! One `sync` pass (design §5): products when needed, orders, then stock. Each step
//! is isolated: a failing step is recorded and the next still runs. The order steps
//! live in `import.rs`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Utc};
use tracing::warn;

use super::stock::{self, PlannedPush, StockRules};
use super::Reporter;
use super::{matching, notices, unmatched};
use crate::channel::{Channel, Listing, StockUpdate};
use crate::clock::{self, Clock};
use crate::config::{ChannelConfig, Config};
use crate::db::catalog::{self, LevelRow, VariantRow};
use crate::db::{self, meta, runs, Db};
use crate::exit::UsageError;
use crate::notify::{self, Digest, FlushOutcome, Item};
use crate::shopify::{self, ShopifyClient};

/// Incremental level reads start this far before the last watermark: Shopify's search
/// index can lag a write by a few seconds, and timestamps are compared in whole seconds.
const LEVELS_OVERLAP: chrono::Duration = chrono::Duration::seconds(120);

const LEVELS_WATERMARK: &str = "shopify.levels";

fn reconcile_watermark(channel: &str) -> String {
    format!("reconcile.{channel}")
}

fn products_watermark(channel: &str) -> String {
    format!("products.{channel}")
}

/// When Shopify variants were last read for product sync (once per pass for all channels).
const SHOPIFY_PRODUCTS_WATERMARK: &str = "products.shopify";

/// Incremental product reads start this far back: they use the local clock, and a
/// re-read listing costs nothing but a row.
const PRODUCTS_OVERLAP: chrono::Duration = chrono::Duration::minutes(10);

fn fingerprint_watermark(channel: &str) -> String {
    format!("fingerprint.{channel}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Step {
    Products,
    Orders,
    Fulfilment,
    Stock,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PassOptions {
    /// Run only this step.
    pub only: Option<Step>,
    /// Read everything, change nothing remote, keep nothing local.
    pub dry_run: bool,
}

impl PassOptions {
    fn includes(&self, step: Step) -> bool {
        self.only.is_none_or(|s| s == step)
    }
}

#[derive(Debug, Clone)]
pub struct StepReport {
    pub step: &'static str,
    /// Empty for steps that are not per channel (the Shopify read).
    pub channel: String,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub counts: BTreeMap<&'static str, i64>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct PassReport {
    pub steps: Vec<StepReport>,
    /// Per channel, the stock changes planned (what `--dry-run` prints).
    pub plans: Vec<(String, Vec<PlannedPush>)>,
    /// The orders a dry run would create or hold, one line each.
    pub order_plans: Vec<String>,
    /// Fulfilments pushed, failed or (dry run) to push.
    pub fulfilments: Vec<super::FulfilAction>,
    pub requests: BTreeMap<String, u64>,
    pub duration: Duration,
    /// Emails sent at the end of the pass, and whether the outbox could be flushed.
    pub emails: Option<FlushOutcome>,
}

impl PassReport {
    /// Something failed: a step errored or stock updates were never confirmed.
    pub fn failed(&self) -> bool {
        self.steps
            .iter()
            .any(|s| s.error.is_some() || s.counts.get("failed").copied().unwrap_or(0) > 0)
    }

    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }
}

pub(super) type Counts = BTreeMap<&'static str, i64>;

/// How long a pass may run (design §5): steps start only before the deadline, and a
/// step still running at it is stopped at its next wait for a remote answer. That is as
/// safe as a `kill -9`: every step writes its intent before each remote call, and the
/// next pass reconciles.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    deadline: tokio::time::Instant,
    total: Duration,
    clock: Clock,
}

impl Budget {
    fn new(total: Duration, clock: Clock) -> Self {
        Self {
            deadline: tokio::time::Instant::now() + total,
            total,
            clock,
        }
    }

    /// Runs one step of the pass (unless the budget is spent) and reports it.
    pub(super) async fn run(
        self,
        step: &'static str,
        channel: &str,
        work: impl std::future::Future<Output = Result<Counts>>,
    ) -> StepReport {
        let (at, t) = (self.clock.now(), Instant::now());
        let spent = || format!("{} (schedule.pass_budget_minutes)", minutes(self.total));
        let result = if tokio::time::Instant::now() >= self.deadline {
            Err(anyhow!(
                "not run: the pass had used its budget of {} before this step; the next pass runs it",
                spent()
            ))
        } else {
            tokio::time::timeout_at(self.deadline, work)
                .await
                .unwrap_or_else(|_| {
                    Err(anyhow!(
                        "stopped: the pass used its budget of {} in this step; the next pass carries on from what was saved",
                        spent()
                    ))
                })
        };
        step_report(step, channel, at, t, result)
    }
}

/// "30 minutes", "1 minute", "1.5 s" (test budgets are short).
fn minutes(d: Duration) -> String {
    match d.as_secs() {
        s if s >= 60 && s % 60 == 0 => {
            let m = s / 60;
            format!("{m} minute{}", if m == 1 { "" } else { "s" })
        }
        _ => format!("{:.1} s", d.as_secs_f64()),
    }
}

pub struct Engine<'a> {
    pub(super) cfg: &'a Config,
    pub(super) db: &'a Db,
    pub(super) clock: Clock,
    pub(super) budget: Budget,
    reporter: &'a dyn Reporter,
    pub(super) shopify: ShopifyClient,
    pub(super) channels: Vec<Box<dyn Channel>>,
    /// A full Shopify read already happened in this pass.
    full_read_done: bool,
    /// The local levels mirror is as fresh as this pass can make it: no order was
    /// created since it was read.
    pub(super) levels_fresh: bool,
    /// Changed Shopify variants were already read for product sync in this pass.
    variants_read: bool,
    /// Problems found in this pass, mailed at its end (again after `repeat_after_hours`).
    pub(super) notices: Vec<(Digest, Vec<Item>)>,
    /// Problems mailed once only (held orders: each hold is news once).
    pub(super) once_notices: Vec<(Digest, Vec<Item>)>,
}

impl<'a> Engine<'a> {
    pub fn new(cfg: &'a Config, db: &'a Db, clock: Clock, reporter: &'a dyn Reporter) -> Self {
        let http = crate::http::client();
        let shopify = ShopifyClient::new(shopify_settings(cfg), http.clone());
        let channels = cfg
            .channels
            .iter()
            .map(|c| c.settings.connect(c.concurrency, http.clone()))
            .collect();
        Self {
            cfg,
            db,
            clock,
            budget: Budget::new(crate::hooks::pass_budget(cfg.schedule.pass_budget), clock),
            reporter,
            shopify,
            channels,
            full_read_done: false,
            levels_fresh: false,
            variants_read: false,
            notices: Vec::new(),
            once_notices: Vec::new(),
        }
    }

    pub(super) fn now(&self) -> String {
        clock::rfc3339(self.clock.now())
    }

    pub async fn run_pass(&mut self, opts: PassOptions) -> Result<PassReport> {
        let (run_id, t0) = self.begin_run("sync", opts.dry_run)?;
        let mut report = PassReport::default();
        let names: Vec<String> = self.cfg.channels.iter().map(|c| c.name.clone()).collect();
        let budget = self.budget;

        if opts.includes(Step::Products) {
            for (i, name) in names.iter().enumerate() {
                let r = budget.run("products", name, self.products(i)).await;
                report.steps.push(r);
            }
        }
        // Orders before stock: Shopify's stock already reflects them when it is pushed.
        if opts.includes(Step::Orders) {
            for (i, name) in names.iter().enumerate() {
                let work = self.orders(i, opts.dry_run, &mut report.order_plans);
                let r = budget.run("orders", name, work).await;
                report.steps.push(r);
            }
        }
        if opts.includes(Step::Fulfilment) {
            let fulfil = super::FulfilOptions {
                dry_run: opts.dry_run,
                retry_failed: false,
            };
            for (i, name) in names.iter().enumerate() {
                let work = self.fulfilment(i, fulfil, None, &mut report.fulfilments);
                let r = budget.run("fulfilment", name, work).await;
                report.steps.push(r);
            }
        }
        if opts.includes(Step::Stock) {
            let read = budget
                .run("shopify_read", "", self.read_shopify_stock())
                .await;
            let read_ok = read.error.is_none();
            report.steps.push(read);
            for (i, name) in names.iter().enumerate() {
                let work = self.stock(i, read_ok, opts.dry_run, &mut report.plans);
                let r = budget.run("stock", name, work).await;
                report.steps.push(r);
            }
        }

        self.end_run(run_id, t0, opts.dry_run, report).await
    }

    /// Refuses a changed environment, opens a dry run's scratch scope, records the start.
    pub(super) fn begin_run(&self, command: &str, dry_run: bool) -> Result<(i64, Instant)> {
        self.check_environment()?;
        let t0 = Instant::now();
        if dry_run {
            self.db.begin_scratch()?;
        }
        Ok((runs::start(self.db, command, dry_run, &self.now())?, t0))
    }

    /// Discards a dry run; otherwise mails what needs a person (the sending is a step
    /// of its own) and records the run.
    pub(super) async fn end_run(
        &mut self,
        run_id: i64,
        t0: Instant,
        dry_run: bool,
        mut report: PassReport,
    ) -> Result<PassReport> {
        if dry_run {
            report.requests = self.requests();
            report.duration = t0.elapsed();
            self.db.discard()?;
            return Ok(report);
        }
        self.notice_failures(&report)?;
        let (at, t) = (self.clock.now(), Instant::now());
        let emails = self.send_notices().await?;
        report
            .steps
            .push(step_report("email", "", at, t, email_counts(&emails)));
        report.emails = Some(emails);
        report.requests = self.requests();
        report.duration = t0.elapsed();
        self.record(run_id, &report)?;
        Ok(report)
    }

    /// Steps that failed in this pass and the ones before (see `notices::failures`).
    fn notice_failures(&mut self, report: &PassReport) -> Result<()> {
        let mut failed = Vec::new();
        for s in report.steps.iter().filter(|s| s.error.is_some()) {
            // This pass is recorded after its emails are sent: count it here.
            let consecutive = 1 + runs::consecutive_failures(self.db, s.step, &s.channel)?;
            failed.push((s, consecutive));
        }
        let list: Vec<notices::Failure<'_>> = failed
            .iter()
            .map(|(s, consecutive)| notices::Failure {
                step: s.step,
                channel: &s.channel,
                error: s.error.as_deref().unwrap_or_default(),
                consecutive: *consecutive,
            })
            .collect();
        self.notices.push(notices::failures(&list));
        Ok(())
    }

    /// Queues this pass's problems (one digest per kind, de-duplicated) and flushes the outbox.
    pub(super) async fn send_notices(&mut self) -> Result<FlushOutcome> {
        let repeat = chrono::Duration::hours(i64::from(self.cfg.notify.repeat_after_hours));
        let now = self.clock.now();
        let repeating = std::mem::take(&mut self.notices)
            .into_iter()
            .map(|n| (Some(repeat), n));
        let once = std::mem::take(&mut self.once_notices)
            .into_iter()
            .map(|n| (None, n));
        for (repeat, (digest, items)) in repeating.chain(once) {
            if !items.is_empty() {
                notify::queue_digest(self.db, now, repeat, &digest, &items)?;
            }
        }
        // Sending gets what is left of the pass, and at least two SMTP timeouts even when
        // the steps used it all up: the mail about why may matter most.
        let deadline = self
            .budget
            .deadline
            .max(tokio::time::Instant::now() + self.cfg.notify.timeout * 2);
        let outcome = notify::flush(
            self.db,
            &self.cfg.notify,
            &self.cfg.shopify.shop,
            now,
            deadline,
        )
        .await;
        Ok(outcome)
    }

    pub(super) fn name(&self, i: usize) -> &str {
        &self.cfg.channels[i].name
    }

    pub(super) fn requests(&self) -> BTreeMap<String, u64> {
        let mut all: BTreeMap<String, u64> = self
            .shopify
            .requests()
            .into_iter()
            .map(|(k, v)| (format!("shopify {k}"), v))
            .collect();
        for (c, client) in self.cfg.channels.iter().zip(&self.channels) {
            for (k, v) in client.requests() {
                *all.entry(format!("{} {k}", c.name)).or_default() += v;
            }
        }
        all
    }

    pub(super) fn record(&self, run_id: i64, report: &PassReport) -> Result<()> {
        for s in &report.steps {
            runs::record_step(
                self.db,
                run_id,
                &runs::Step {
                    step: s.step,
                    channel: &s.channel,
                    started_at: &clock::rfc3339(s.started_at),
                    duration_ms: s.duration.as_millis() as i64,
                    outcome: if s.error.is_some() { "failed" } else { "ok" },
                    counts: &serde_json::to_string(&s.counts)?,
                    error: s.error.as_deref(),
                },
            )?;
        }
        let error = report
            .steps
            .iter()
            .filter_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.step)))
            .collect::<Vec<_>>();
        runs::finish(
            self.db,
            run_id,
            &runs::Finish {
                outcome: if report.failed() { "failed" } else { "ok" },
                finished_at: &self.now(),
                duration_ms: report.duration.as_millis() as i64,
                requests: &serde_json::to_string(&report.requests)?,
                error: (!error.is_empty()).then(|| error.join("; ")).as_deref(),
            },
        )?;
        Ok(())
    }

    // ---- products -------------------------------------------------------------

    /// Matches a channel's listings: in full the first time, then incrementally once
    /// `product_sync_every_minutes` have passed. (A channel that matched nothing is not
    /// re-read in full every pass: that would cost its whole catalog every 5 minutes.)
    async fn products(&mut self, i: usize) -> Result<Counts> {
        let name = self.cfg.channels[i].name.clone();
        let last = meta::watermark(self.db, &products_watermark(&name))?
            .as_deref()
            .and_then(clock::parse);
        let every =
            chrono::Duration::minutes(i64::from(self.cfg.schedule.product_sync_every_minutes));
        match last {
            None => self.full_match(i).await,
            Some(t) if self.clock.now() - t >= every => self.incremental_match(i).await,
            Some(_) => Ok(Counts::new()),
        }
    }

    /// Every listing re-read and re-matched against a full Shopify read, written in one
    /// transaction: a run killed midway leaves the previous matches.
    async fn full_match(&mut self, i: usize) -> Result<Counts> {
        if !self.full_read_done {
            self.full_shopify_read().await?;
        }
        let name = self.cfg.channels[i].name.clone();
        let listings = self.read_listings(i, None).await?;
        let started = self.now();
        self.db.atomically(|| -> Result<Counts> {
            catalog::replace_listings(self.db, &name, &listings)?;
            let counts = self.rematch(i, listings, &started)?;
            meta::set_watermark(
                self.db,
                &fingerprint_watermark(&name),
                &self.channels[i].fingerprint(),
            )?;
            Ok(counts)
        })
    }

    /// Only what changed since the last product sync is read (Shopify variants once per
    /// pass, this channel's listings), then the whole local mirror is re-matched: a
    /// duplicate can appear or disappear anywhere.
    async fn incremental_match(&mut self, i: usize) -> Result<Counts> {
        let name = self.cfg.channels[i].name.clone();
        let started = self.now();
        let since = meta::watermark(self.db, &products_watermark(&name))?
            .as_deref()
            .and_then(clock::parse)
            .map(|t| t - PRODUCTS_OVERLAP);
        if !self.variants_read {
            let shopify_since = meta::watermark(self.db, SHOPIFY_PRODUCTS_WATERMARK)?
                .as_deref()
                .and_then(clock::parse)
                .map(|t| t - PRODUCTS_OVERLAP);
            let shopify_started = self.now();
            let variants = self
                .shopify
                .variants(shopify_since)
                .await
                .context("reading changed Shopify variants")?;
            let rows: Vec<VariantRow> = variants.into_iter().map(variant_row).collect();
            catalog::upsert_variants(self.db, &rows)?;
            meta::set_watermark(self.db, SHOPIFY_PRODUCTS_WATERMARK, &shopify_started)?;
            self.variants_read = true;
        }
        let changed = self.read_listings(i, since).await?;
        self.db.atomically(|| -> Result<Counts> {
            catalog::upsert_listings(self.db, &name, &changed)?;
            let all = catalog::listings(self.db, &name)?;
            let mut counts = self.rematch(i, all, &started)?;
            counts.insert("listings_changed", changed.len() as i64);
            Ok(counts)
        })
    }

    async fn read_listings(
        &self,
        i: usize,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<crate::channel::Listing>> {
        let name = &self.cfg.channels[i].name;
        let sink = self.reporter.progress(&format!("{name}: reading listings"));
        self.channels[i]
            .listings(since, &|n| sink.set(n))
            .await
            .with_context(|| format!("reading {name} listings"))
    }

    /// Matches the stored Shopify variants with the channel's `listings` (all of them, as
    /// stored) and stores the matches when they changed.
    fn rematch(&mut self, i: usize, listings: Vec<Listing>, now: &str) -> Result<Counts> {
        let name = &self.cfg.channels[i].name.clone();
        let variants = catalog::variants(self.db)?;
        let result = matching::match_catalogs(&variants, &listings);
        let matches = result.matches(&variants, &listings);
        if matches != catalog::matches(self.db, name)? {
            catalog::replace_matches(self.db, name, &matches, now)?;
        }
        drop(matches);
        let problems = unmatched::listing_problems(&variants, name, &listings, &result);
        self.notices.push(notices::unmatched(name, &problems));
        meta::set_watermark(self.db, &products_watermark(name), now)?;
        let c = &result.counts;
        Ok(Counts::from([
            ("listings", c.listings as i64),
            ("matched", c.matched as i64),
            ("unmatched", c.unmatched as i64),
            ("duplicate", c.duplicate as i64),
            ("untracked", c.untracked as i64),
            ("inactive", c.inactive as i64),
            ("no_sku", c.no_sku as i64),
        ]))
    }

    /// Refuses to sync a channel whose endpoint, credentials or environment changed
    /// since its products were matched: its product ids belong to another catalog.
    pub fn check_environment(&self) -> Result<()> {
        for (c, client) in self.cfg.channels.iter().zip(&self.channels) {
            let stored = meta::watermark(self.db, &fingerprint_watermark(&c.name))?;
            if stored.is_some_and(|s| s != client.fingerprint()) {
                return Err(UsageError(format!(
                    "environment changed for channel {name} (its endpoint, account or environment differ from when its products were matched): run `skubridge reset-products --channel {name}`",
                    name = c.name
                ))
                .into());
            }
        }
        Ok(())
    }

    /// `reset-products`: a fresh full read of Shopify and of each channel in `only`
    /// (every channel when empty), re-matched from scratch. The next `sync`
    /// reconciles: every target is pushed again.
    pub async fn reset_products(&mut self, only: &[usize]) -> Result<Vec<(String, Counts)>> {
        let started = self.now();
        let run_id = runs::start(self.db, "reset-products", false, &started)?;
        let t0 = Instant::now();
        let result = self.reset_channels(only).await;
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

    async fn reset_channels(&mut self, only: &[usize]) -> Result<Vec<(String, Counts)>> {
        self.full_shopify_read().await?;
        let mut out = Vec::new();
        for i in 0..self.channels.len() {
            if !only.is_empty() && !only.contains(&i) {
                continue;
            }
            let counts = self.full_match(i).await?;
            let name = self.cfg.channels[i].name.clone();
            meta::clear_watermark(self.db, &reconcile_watermark(&name))?;
            out.push((name, counts));
        }
        Ok(out)
    }

    // ---- Shopify stock read -----------------------------------------------------

    /// Full read when a channel is due to reconcile (or nothing was read yet), else only
    /// the levels changed since the last watermark. Nothing when this pass already read
    /// them and created no order since.
    pub(super) async fn read_shopify_stock(&mut self) -> Result<Counts> {
        if self.levels_fresh {
            return Ok(Counts::from([("full", i64::from(self.full_read_done))]));
        }
        let watermark = meta::watermark(self.db, LEVELS_WATERMARK)?
            .as_deref()
            .and_then(clock::parse);
        let reconcile = !self.full_read_done
            && (0..self.channels.len()).any(|i| self.reconcile_due(i).unwrap_or(true));
        match watermark {
            Some(since) if !reconcile => self.incremental_levels(since).await,
            _ => self.full_shopify_read().await,
        }
    }

    async fn full_shopify_read(&mut self) -> Result<Counts> {
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
        let cat = {
            let sink = self.reporter.progress("Shopify: reading catalog");
            self.shopify
                .bulk_catalog(&|n| sink.set(n))
                .await
                .context("reading the Shopify catalog (bulk operation)")?
        };
        let variants: Vec<VariantRow> = cat.variants.into_iter().map(variant_row).collect();
        let levels: Vec<LevelRow> = cat.levels.into_iter().map(level_row).collect();
        catalog::replace_shopify(self.db, &variants, &levels)?;
        meta::set_watermark(self.db, LEVELS_WATERMARK, &clock::rfc3339(cat.read_at))?;
        self.full_read_done = true;
        self.levels_fresh = true;
        Ok(Counts::from([
            ("full", 1),
            ("variants", variants.len() as i64),
            ("levels", levels.len() as i64),
        ]))
    }

    async fn incremental_levels(&mut self, since: DateTime<Utc>) -> Result<Counts> {
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
                    return self.full_shopify_read().await;
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
        self.levels_fresh = true;
        Ok(Counts::from([("full", 0), ("levels", n)]))
    }

    // ---- stock push -------------------------------------------------------------

    fn reconcile_due(&self, i: usize) -> Result<bool> {
        let c = &self.cfg.channels[i];
        let last = meta::watermark(self.db, &reconcile_watermark(&c.name))?
            .as_deref()
            .and_then(clock::parse);
        Ok(last.is_none_or(|t| {
            self.clock.now() - t >= chrono::Duration::hours(i64::from(c.reconcile_every_hours))
        }))
    }

    async fn stock(
        &mut self,
        i: usize,
        read_ok: bool,
        dry_run: bool,
        plans: &mut Vec<(String, Vec<PlannedPush>)>,
    ) -> Result<Counts> {
        let cfg: &ChannelConfig = &self.cfg.channels[i];
        let name = cfg.name.as_str();
        let rows = db::stock::rows(self.db, name)?;
        if rows.is_empty() {
            warn!("{name}: no matched SKUs yet, so no stock to push; `skubridge sync` matches products on its first pass");
        }
        // Reconcile only on fresh full data: pushing every target from a failed read
        // would cost N/100 calls and repair nothing.
        let full = read_ok && self.full_read_done && self.reconcile_due(i)?;
        let rules = StockRules {
            reserve: cfg.reserve_stock,
            max: cfg.max_stock,
        };
        if full {
            db::stock::clear_refused(self.db, name)?;
        }
        let plan = stock::plan(&rows, rules, full);
        let mut counts = Counts::from([
            ("matched", rows.len() as i64),
            ("planned", plan.len() as i64),
            ("full", i64::from(full)),
        ]);
        if dry_run {
            plans.push((name.to_string(), plan));
            return Ok(counts);
        }
        let updates: Vec<StockUpdate> = plan
            .iter()
            .map(|p| StockUpdate {
                product_id: p.product_id.clone(),
                sku: p.sku.clone(),
                quantity: p.new,
            })
            .collect();
        let outcome = self.channels[i].push_stock(updates).await;
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
        self.notices.push(notices::refused(name, &outcome.refused));
        if let Some((_, reason)) = outcome.failed.first() {
            warn!(
                "{name}: {} stock updates not confirmed (first: {reason}); they are retried on the next pass",
                outcome.failed.len()
            );
        }
        if full {
            meta::set_watermark(self.db, &reconcile_watermark(name), &now)?;
        }
        counts.insert("pushed", outcome.accepted.len() as i64);
        counts.insert("refused", outcome.refused.len() as i64);
        counts.insert("failed", outcome.failed.len() as i64);
        Ok(counts)
    }
}

/// The email step's counts, or why mail stays queued (the pass then fails: a merchant
/// who gets no mail must hear of it from `status` and the exit code).
fn email_counts(outcome: &FlushOutcome) -> Result<Counts> {
    if let Some(e) = &outcome.error {
        bail!(
            "{} emails could not be sent ({e}); they stay queued for the next pass",
            outcome.pending
        );
    }
    Ok(Counts::from([
        ("sent", outcome.sent as i64),
        ("queued", outcome.pending as i64),
    ]))
}

pub(super) fn step_report(
    step: &'static str,
    channel: &str,
    started_at: DateTime<Utc>,
    t: Instant,
    result: Result<Counts>,
) -> StepReport {
    let (counts, error) = match result {
        Ok(c) => (c, None),
        Err(e) => {
            warn!(
                "{step}{}{channel} failed: {e:#}",
                if channel.is_empty() { "" } else { " " }
            );
            (Counts::new(), Some(format!("{e:#}")))
        }
    };
    StepReport {
        step,
        channel: channel.to_string(),
        started_at,
        duration: t.elapsed(),
        counts,
        error,
    }
}

fn shopify_settings(cfg: &Config) -> shopify::ShopifySettings {
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

fn variant_row(v: shopify::Variant) -> VariantRow {
    VariantRow {
        variant_id: v.id,
        sku: v.sku,
        inventory_item_id: v.inventory_item_id,
        tracked: v.tracked,
        product_id: v.product_id,
        product_status: v.product_status.as_str().to_string(),
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
