//! One `sync` pass (design §5): products when needed, then stock. Each step is
//! isolated: a failing step is recorded and the next still runs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use tracing::warn;

use super::matching;
use super::stock::{self, PlannedPush, StockRules};
use super::Reporter;
use crate::channel::{ChannelClient, StockUpdate};
use crate::clock::{self, Clock};
use crate::config::{ChannelConfig, Config};
use crate::db::catalog::{self, LevelRow, VariantRow};
use crate::db::{self, meta, runs, Db};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Step {
    Products,
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
    pub requests: BTreeMap<String, u64>,
    pub duration: Duration,
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

type Counts = BTreeMap<&'static str, i64>;

pub struct Engine<'a> {
    cfg: &'a Config,
    db: &'a Db,
    clock: Clock,
    reporter: &'a dyn Reporter,
    shopify: ShopifyClient,
    channels: Vec<ChannelClient>,
    /// A full Shopify read already happened in this pass.
    full_read_done: bool,
}

impl<'a> Engine<'a> {
    pub fn new(cfg: &'a Config, db: &'a Db, clock: Clock, reporter: &'a dyn Reporter) -> Self {
        let http = crate::http::client();
        let shopify = ShopifyClient::new(shopify_settings(cfg), http.clone());
        let channels = cfg
            .channels
            .iter()
            .map(|c| ChannelClient::new(c, http.clone()))
            .collect();
        Self {
            cfg,
            db,
            clock,
            reporter,
            shopify,
            channels,
            full_read_done: false,
        }
    }

    fn now(&self) -> String {
        clock::rfc3339(self.clock.now())
    }

    pub async fn run_pass(&mut self, opts: PassOptions) -> Result<PassReport> {
        let t0 = Instant::now();
        let started = self.now();
        if opts.dry_run {
            self.db.begin_scratch()?;
        }
        let run_id = runs::start(self.db, "sync", opts.dry_run, &started)?;
        let mut report = PassReport::default();

        if opts.includes(Step::Products) {
            for i in 0..self.channels.len() {
                let (at, t) = (self.clock.now(), Instant::now());
                let r = self.products(i).await;
                report
                    .steps
                    .push(step_report("products", self.name(i), at, t, r));
            }
        }
        if opts.includes(Step::Stock) {
            let (at, t) = (self.clock.now(), Instant::now());
            let r = self.read_shopify_stock().await;
            let read_ok = r.is_ok();
            report.steps.push(step_report("shopify_read", "", at, t, r));
            for i in 0..self.channels.len() {
                let (at, t) = (self.clock.now(), Instant::now());
                let r = self
                    .stock(i, read_ok, opts.dry_run, &mut report.plans)
                    .await;
                report
                    .steps
                    .push(step_report("stock", self.name(i), at, t, r));
            }
        }

        report.requests = self.requests();
        report.duration = t0.elapsed();
        self.record(run_id, &report)?;
        if opts.dry_run {
            self.db.discard()?;
        }
        Ok(report)
    }

    fn name(&self, i: usize) -> &str {
        &self.cfg.channels[i].name
    }

    fn requests(&self) -> BTreeMap<String, u64> {
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

    fn record(&self, run_id: i64, report: &PassReport) -> Result<()> {
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

    /// First cut of product matching: a full match when the channel has none yet.
    async fn products(&mut self, i: usize) -> Result<Counts> {
        let name = self.cfg.channels[i].name.clone();
        let existing = catalog::match_count(self.db, &name)?;
        if existing > 0 {
            return Ok(Counts::from([("matched", existing)]));
        }
        if !self.full_read_done {
            self.full_shopify_read().await?;
        }
        let listings = {
            let sink = self.reporter.progress(&format!("{name}: reading listings"));
            self.channels[i]
                .listings(None, &|n| sink.set(n))
                .await
                .with_context(|| format!("reading {name} listings"))?
        };
        catalog::replace_listings(self.db, &name, &listings)?;
        let variants = catalog::variants(self.db)?;
        let result = matching::match_catalogs(&variants, &listings);
        let now = self.now();
        catalog::replace_matches(self.db, &name, &result.matches(), &now)?;
        meta::set_watermark(self.db, &products_watermark(&name), &now)?;
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

    // ---- Shopify stock read -----------------------------------------------------

    /// Full read when a channel is due to reconcile (or nothing was read yet), else only
    /// the levels changed since the last watermark.
    async fn read_shopify_stock(&mut self) -> Result<Counts> {
        if self.full_read_done {
            // Already read in full by the products step of this pass.
            return Ok(Counts::from([("full", 1)]));
        }
        let watermark = meta::watermark(self.db, LEVELS_WATERMARK)?
            .as_deref()
            .and_then(clock::parse);
        let reconcile = (0..self.channels.len()).any(|i| self.reconcile_due(i).unwrap_or(true));
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

fn step_report(
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
