//! The sync logic. Planners (`matching`, `stock`, `orders`, `fulfilment`) are pure:
//! data in, plan out. The orchestrators do the I/O in the order of design §5 and record
//! every step: `pass` (one sync pass), `products`, `import` (orders), `ship`
//! (fulfilment), `levels` (the Shopify stock read) and `push` (stock to the channels).
//!
//! Each configured channel is a [`ChannelHandle`]; its steps run side by side with the
//! other channels' (one Shopify read shared by all), and one channel's failure never
//! stops another's.

pub mod doctor;
pub mod fulfilment;
mod import;
mod levels;
pub mod matching;
pub mod notices;
pub mod orders;
pub mod pass;
mod products;
mod push;
pub mod report;
mod ship;
pub mod stock;
pub mod unmatched;

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

pub use pass::{PassOptions, Step};
pub use report::{Count, Counts, OrderPlan, PassReport, StepName, StepReport};
pub use ship::{FulfilAction, FulfilOptions, FulfilResult};

use crate::channel::Channel;
use crate::clock::{self, Clock};
use crate::config::{ChannelConfig, Config};
use crate::db::Db;
use crate::notify::{Digest, Item};
use crate::shopify::ShopifyClient;
use report::Budget;

/// Progress of a long read, drawn by the command (a bar on a terminal, nothing under cron).
pub trait Reporter: Sync {
    fn progress(&self, label: &str) -> Box<dyn ProgressSink + '_>;
}

pub trait ProgressSink: Sync {
    fn set(&self, done: u64);
}

/// A reporter that shows nothing (tests, cron).
pub struct Silent;

struct NoProgress;

impl ProgressSink for NoProgress {
    fn set(&self, _: u64) {}
}

impl Reporter for Silent {
    fn progress(&self, _: &str) -> Box<dyn ProgressSink + '_> {
        Box::new(NoProgress)
    }
}

/// One configured channel in a run: its config and its client.
pub(crate) struct ChannelHandle<'a> {
    pub cfg: &'a ChannelConfig,
    pub client: Box<dyn Channel>,
}

impl ChannelHandle<'_> {
    pub fn name(&self) -> &str {
        &self.cfg.name
    }
}

/// What the Shopify side of this pass has read: one read shared by every channel.
#[derive(Debug, Default)]
struct ShopifyRead {
    /// A full read (bulk operation) already happened in this pass.
    full_read_done: bool,
    /// The local levels mirror is as fresh as this pass can make it: no order was
    /// created since it was read.
    levels_fresh: bool,
    /// Changed Shopify variants were already read for product sync in this pass.
    variants_read: bool,
}

/// Problems found in this pass, mailed at its end.
#[derive(Default)]
struct Notices {
    /// Mailed again after `repeat_after_hours` while still there.
    repeating: Vec<(Digest, Vec<Item>)>,
    /// Mailed once only (held orders: each hold is news once).
    once: Vec<(Digest, Vec<Item>)>,
}

/// What steps hand back besides their counts (a dry run's plans, fulfilments handled).
#[derive(Default)]
struct Details {
    plans: Vec<(String, Vec<stock::PlannedPush>)>,
    order_plans: Vec<OrderPlan>,
    fulfilments: Vec<FulfilAction>,
}

pub struct Engine<'a> {
    cfg: &'a Config,
    db: &'a Db,
    clock: Clock,
    budget: Budget,
    reporter: &'a dyn Reporter,
    shopify: ShopifyClient,
    channels: Vec<ChannelHandle<'a>>,
    /// Held while Shopify is read, so channels running side by side share one read.
    shopify_read: tokio::sync::Mutex<ShopifyRead>,
    notices: Mutex<Notices>,
    details: Mutex<Details>,
    /// Per channel, why stock updates went unconfirmed in this pass (the first reason):
    /// recorded as the stock step's error, so the endpoint is named where `status` shows it.
    unconfirmed: Mutex<BTreeMap<String, String>>,
}

impl<'a> Engine<'a> {
    pub fn new(cfg: &'a Config, db: &'a Db, clock: Clock, reporter: &'a dyn Reporter) -> Self {
        let http = crate::http::client();
        let shopify = ShopifyClient::new(levels::shopify_settings(cfg), http.clone());
        let channels = cfg
            .channels
            .iter()
            .map(|c| ChannelHandle {
                cfg: c,
                client: c.settings.connect(c.concurrency, http.clone()),
            })
            .collect();
        Self {
            cfg,
            db,
            clock,
            budget: Budget::new(crate::hooks::pass_budget(cfg.schedule.pass_budget), clock),
            reporter,
            shopify,
            channels,
            shopify_read: Default::default(),
            notices: Default::default(),
            details: Default::default(),
            unconfirmed: Default::default(),
        }
    }

    fn now(&self) -> String {
        clock::rfc3339(self.clock.now())
    }

    fn notice(&self, notice: (Digest, Vec<Item>)) {
        lock(&self.notices).repeating.push(notice);
    }

    fn notice_once(&self, notice: (Digest, Vec<Item>)) {
        lock(&self.notices).once.push(notice);
    }

    fn requests(&self) -> BTreeMap<String, u64> {
        let mut all: BTreeMap<String, u64> = self
            .shopify
            .requests()
            .into_iter()
            .map(|(k, v)| (format!("shopify {k}"), v))
            .collect();
        for ch in &self.channels {
            for (k, v) in ch.client.requests() {
                *all.entry(format!("{} {k}", ch.name())).or_default() += v;
            }
        }
        all
    }
}

/// A mutex whose holder never panics mid-update (no await, no fallible code inside).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
