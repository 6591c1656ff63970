//! What a pass reports: its steps (typed names and counts), the details a dry run or
//! `fulfil` prints, and the budget every step runs under. The engine returns these as
//! data; the commands render them.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use tracing::warn;

use super::stock::PlannedPush;
use super::FulfilAction;
use crate::clock::Clock;
use crate::money::Money;
use crate::notify::FlushOutcome;

/// A step of a pass, as recorded and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepName {
    Products,
    Orders,
    Fulfilment,
    ShopifyRead,
    Stock,
    Email,
}

impl StepName {
    /// As stored in the database and shown by `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Products => "products",
            Self::Orders => "orders",
            Self::Fulfilment => "fulfilment",
            Self::ShopifyRead => "shopify_read",
            Self::Stock => "stock",
            Self::Email => "email",
        }
    }
}

/// What a step counts. The stored words never change: `status` reads old runs too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Count {
    // products
    Listings,
    Matched,
    Unmatched,
    Duplicate,
    Untracked,
    Inactive,
    NoSku,
    ListingsChanged,
    /// Listings that lost their match and were set to 0.
    Unlisted,
    // Shopify read and stock
    Full,
    Variants,
    Levels,
    Planned,
    Pushed,
    Refused,
    Failed,
    // orders
    Imported,
    Adopted,
    Held,
    Unreadable,
    Cancelled,
    Accepted,
    Waiting,
    WouldCreate,
    WouldAccept,
    Watched,
    Closed,
    ItemsChanged,
    Edited,
    // fulfilment
    WouldPush,
    Unknown,
    Skipped,
    // email
    Sent,
    Queued,
}

impl Count {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listings => "listings",
            Self::Matched => "matched",
            Self::Unmatched => "unmatched",
            Self::Duplicate => "duplicate",
            Self::Untracked => "untracked",
            Self::Inactive => "inactive",
            Self::NoSku => "no_sku",
            Self::ListingsChanged => "listings_changed",
            Self::Unlisted => "unlisted",
            Self::Full => "full",
            Self::Variants => "variants",
            Self::Levels => "levels",
            Self::Planned => "planned",
            Self::Pushed => "pushed",
            Self::Refused => "refused",
            Self::Failed => "failed",
            Self::Imported => "imported",
            Self::Adopted => "adopted",
            Self::Held => "held",
            Self::Unreadable => "unreadable",
            Self::Cancelled => "cancelled",
            Self::Accepted => "accepted",
            Self::Waiting => "waiting",
            Self::WouldCreate => "would_create",
            Self::WouldAccept => "would_accept",
            Self::Watched => "watched",
            Self::Closed => "closed",
            Self::ItemsChanged => "items_changed",
            Self::Edited => "edited",
            Self::WouldPush => "would push",
            Self::Unknown => "unknown",
            Self::Skipped => "skipped",
            Self::Sent => "sent",
            Self::Queued => "queued",
        }
    }
}

/// A step's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(BTreeMap<Count, i64>);

impl Counts {
    pub fn of(pairs: impl IntoIterator<Item = (Count, i64)>) -> Self {
        Self(pairs.into_iter().collect())
    }

    pub fn add(&mut self, count: Count, n: i64) {
        *self.0.entry(count).or_default() += n;
    }

    pub fn one(&mut self, count: Count) {
        self.add(count, 1);
    }

    pub fn get(&self, count: Count) -> i64 {
        self.0.get(&count).copied().unwrap_or(0)
    }

    pub fn contains(&self, count: Count) -> bool {
        self.0.contains_key(&count)
    }

    /// As stored and rendered: stored word → number.
    pub fn words(&self) -> BTreeMap<String, i64> {
        self.0
            .iter()
            .map(|(c, n)| (c.as_str().to_string(), *n))
            .collect()
    }
}

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(c, n)| (c.as_str(), n)))
    }
}

#[derive(Debug, Clone)]
pub struct StepReport {
    pub step: StepName,
    /// Empty for steps that are not per channel (the Shopify read, email).
    pub channel: String,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub counts: Counts,
    pub error: Option<String>,
}

/// What a dry run would do with one channel order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderPlan {
    Create {
        channel: String,
        number: String,
        lines: usize,
        currency: String,
        value: Money,
    },
    /// Accepted on the channel (imported once paid).
    Accept {
        channel: String,
        number: String,
    },
    Hold {
        channel: String,
        number: String,
    },
}

#[derive(Debug, Default)]
pub struct PassReport {
    pub steps: Vec<StepReport>,
    /// Per channel, the stock changes planned (what `--dry-run` prints).
    pub plans: Vec<(String, Vec<PlannedPush>)>,
    /// The orders a dry run would create or hold.
    pub order_plans: Vec<OrderPlan>,
    /// Fulfilments pushed, failed or (dry run) to push.
    pub fulfilments: Vec<FulfilAction>,
    /// Channels left out of this pass until a person acts (environment changed): the
    /// channel and why.
    pub paused: Vec<(String, String)>,
    /// Channels left out of this pass while their product reset runs.
    pub resetting: Vec<String>,
    pub requests: BTreeMap<String, u64>,
    pub duration: Duration,
    /// Emails sent at the end of the pass, and whether the outbox could be flushed.
    pub emails: Option<FlushOutcome>,
    /// The signal that stopped the pass, if one did.
    pub stopped: Option<i32>,
}

impl PassReport {
    /// Something failed: a step errored or items were never confirmed.
    pub fn failed(&self) -> bool {
        self.steps
            .iter()
            .any(|s| s.error.is_some() || s.counts.get(Count::Failed) > 0)
    }

    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }
}

/// How long a pass may run (design §5): steps start only before the deadline, and a
/// step still running at it is stopped at its next wait for a remote answer. That is as
/// safe as a `kill -9`: every step writes its intent before each remote call, and the
/// next pass reconciles.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub(super) deadline: tokio::time::Instant,
    total: Duration,
    clock: Clock,
}

impl Budget {
    pub(super) fn new(total: Duration, clock: Clock) -> Self {
        Self {
            deadline: tokio::time::Instant::now() + total,
            total,
            clock,
        }
    }

    /// Runs one step of the pass (unless the budget is spent) and reports it.
    pub(super) async fn run(
        self,
        step: StepName,
        channel: &str,
        work: impl Future<Output = Result<Counts>>,
    ) -> StepReport {
        let (at, t) = (self.clock.now(), Instant::now());
        let spent = || format!("{} (schedule.pass_budget_minutes)", minutes(self.total));
        let stop = crate::stop::global();
        let result = if let Some(signal) = stop.requested() {
            Err(anyhow!(
                "not run: stopped by {}; the next pass runs it",
                crate::stop::name(&signal)
            ))
        } else if tokio::time::Instant::now() >= self.deadline {
            Err(anyhow!(
                "not run: the pass had used its budget of {} before this step; the next pass runs it",
                spent()
            ))
        } else {
            let bounded = tokio::time::timeout_at(self.deadline, work);
            // A stop gives up the step's reads once no remote change is on the wire.
            tokio::select! {
                done = bounded => done.unwrap_or_else(|_| {
                    Err(anyhow!(
                        "stopped: the pass used its budget of {} in this step; the next pass carries on from what was saved",
                        spent()
                    ))
                }),
                signal = stop.quiet() => Err(anyhow!(
                    "stopped by {}: the change in flight was finished, nothing else was started; the next pass carries on",
                    crate::stop::name(&signal)
                )),
            }
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

pub(super) fn step_report(
    step: StepName,
    channel: &str,
    started_at: DateTime<Utc>,
    t: Instant,
    result: Result<Counts>,
) -> StepReport {
    let (counts, error) = match result {
        Ok(c) => (c, None),
        Err(e) => {
            warn!(
                "{}{}{channel} failed: {e:#}",
                step.as_str(),
                if channel.is_empty() { "" } else { " " }
            );
            (Counts::default(), Some(format!("{e:#}")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_stored_in_their_words() {
        let mut c = Counts::of([(Count::Pushed, 2)]);
        c.one(Count::WouldPush);
        c.add(Count::Pushed, 3);
        assert_eq!(c.get(Count::Pushed), 5);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"pushed":5,"would push":1}"#
        );
        assert_eq!(c.words()["pushed"], 5);
    }

    #[test]
    fn budgets_are_said_as_people_say_them() {
        assert_eq!(minutes(Duration::from_secs(1800)), "30 minutes");
        assert_eq!(minutes(Duration::from_secs(60)), "1 minute");
        assert_eq!(minutes(Duration::from_millis(1500)), "1.5 s");
    }
}
