//! One `sync` pass (design §5): products when due, orders, fulfilment, then stock,
//! every channel's step running side by side with the others'. Each step is isolated:
//! a failing step (or channel) is recorded and the rest still run.

use std::time::Instant;

use anyhow::{bail, Result};
use futures::future::join_all;

use super::report::{step_report, Count, Counts, PassReport, StepName};
use super::{lock, notices, ChannelHandle, Engine};
use crate::clock;
use crate::db::{channels, runs};
use crate::notify::{self, FlushOutcome};

/// A step `sync --only` can run alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Step {
    Products,
    Orders,
    Fulfilment,
    Stock,
}

/// Why a channel sits out a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pause {
    /// Its product reset runs (what the reset's lock file says): its matches are being
    /// replaced. It rejoins when the reset ends.
    Resetting(String),
    /// Its endpoint, account or environment differ from when its products were matched:
    /// its product ids belong to another catalogue until a person resets it.
    EnvironmentChanged,
}

impl Pause {
    pub fn reason(&self, channel: &str) -> String {
        match self {
            Self::Resetting(holder) => format!(
                "{channel}: product reset in progress ({holder}); its orders and stock wait for it, the other channels sync"
            ),
            Self::EnvironmentChanged => format!(
                "environment changed for channel {channel} (its endpoint, account or environment differ from when its products were matched): run `skubridge reset-products --channel {channel}`"
            ),
        }
    }
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

impl Engine<'_> {
    pub async fn run_pass(&self, opts: PassOptions) -> Result<PassReport> {
        let (run_id, t0) = self.begin_run("sync", opts.dry_run)?;
        let mut report = PassReport::default();
        let channels = self.unpaused(&mut report)?;
        let budget = self.budget;

        if opts.includes(Step::Products) {
            let steps = channels
                .iter()
                .map(|ch| budget.run(StepName::Products, ch.name(), self.products(ch)));
            report.steps.extend(join_all(steps).await);
        }
        // Orders before stock: Shopify's stock already reflects them when it is pushed.
        if opts.includes(Step::Orders) {
            let steps = channels
                .iter()
                .map(|ch| budget.run(StepName::Orders, ch.name(), self.orders(ch, opts.dry_run)));
            report.steps.extend(join_all(steps).await);
        }
        if opts.includes(Step::Fulfilment) {
            let fulfil = super::FulfilOptions {
                dry_run: opts.dry_run,
                retry_failed: false,
            };
            let steps = channels.iter().map(|ch| {
                budget.run(
                    StepName::Fulfilment,
                    ch.name(),
                    self.fulfilment(ch, fulfil, None),
                )
            });
            report.steps.extend(join_all(steps).await);
        }
        if opts.includes(Step::Stock) {
            let read = budget
                .run(StepName::ShopifyRead, "", self.read_shopify_stock())
                .await;
            let read_ok = read.error.is_none();
            report.steps.push(read);
            let steps = channels.iter().map(|ch| {
                let work = self.stock(ch, read_ok, opts.dry_run);
                budget.run(StepName::Stock, ch.name(), work)
            });
            report.steps.extend(join_all(steps).await);
        }

        self.end_run(run_id, t0, opts.dry_run, report).await
    }

    /// Opens a dry run's scratch scope and records the start.
    pub(super) fn begin_run(&self, command: &str, dry_run: bool) -> Result<(i64, Instant)> {
        let t0 = Instant::now();
        if dry_run {
            self.db.begin_scratch()?;
        }
        Ok((runs::start(self.db, command, dry_run, &self.now())?, t0))
    }

    /// Why `ch` sits out passes now, if it does.
    pub(super) fn pause_of(&self, ch: &ChannelHandle<'_>) -> Result<Option<Pause>> {
        if let Some(holder) = crate::lock::channel_reset_holder(&self.cfg.database, ch.name()) {
            return Ok(Some(Pause::Resetting(holder)));
        }
        let stored = channels::get(self.db, ch.name())?.fingerprint;
        Ok(stored
            .is_some_and(|s| s != ch.client.fingerprint())
            .then_some(Pause::EnvironmentChanged))
    }

    /// The channels this run may work on; the others are reported, and go on.
    pub(super) fn unpaused(&self, report: &mut PassReport) -> Result<Vec<&ChannelHandle<'_>>> {
        let mut out = Vec::new();
        for ch in &self.channels {
            let name = ch.name();
            match self.pause_of(ch)? {
                None => out.push(ch),
                Some(pause @ Pause::Resetting(_)) => {
                    tracing::warn!("{}", pause.reason(name));
                    report.resetting.push(name.to_string());
                }
                Some(pause @ Pause::EnvironmentChanged) => {
                    let why = pause.reason(name);
                    let at = (self.clock.now(), Instant::now());
                    report.steps.push(step_report(
                        StepName::Products,
                        name,
                        at.0,
                        at.1,
                        Err(anyhow::anyhow!("{why}")),
                    ));
                    report.paused.push((name.to_string(), why));
                }
            }
        }
        Ok(out)
    }

    /// Discards a dry run; otherwise mails what needs a person (the sending is a step
    /// of its own) and records the run.
    pub(super) async fn end_run(
        &self,
        run_id: i64,
        t0: Instant,
        dry_run: bool,
        mut report: PassReport,
    ) -> Result<PassReport> {
        {
            let mut details = lock(&self.details);
            report.plans = std::mem::take(&mut details.plans);
            report.plans.sort_by(|a, b| a.0.cmp(&b.0));
            report.order_plans = std::mem::take(&mut details.order_plans);
            report.fulfilments = std::mem::take(&mut details.fulfilments);
        }
        if dry_run {
            report.requests = self.requests();
            report.duration = t0.elapsed();
            self.db.discard()?;
            return Ok(report);
        }
        // A stock step whose updates went unconfirmed failed, and says why.
        let unconfirmed = std::mem::take(&mut *lock(&self.unconfirmed));
        for s in &mut report.steps {
            if s.step == StepName::Stock && s.error.is_none() {
                s.error = unconfirmed.get(&s.channel).cloned();
            }
        }
        report.stopped = crate::stop::global().requested();
        if report.stopped.is_none() {
            self.notice_failures(&report)?;
            let (at, t) = (self.clock.now(), Instant::now());
            let emails = self.send_notices().await?;
            report.steps.push(step_report(
                StepName::Email,
                "",
                at,
                t,
                email_counts(&emails),
            ));
            report.emails = Some(emails);
        } else {
            // Kept for the next pass to send.
            self.send_notices().await?;
        }
        report.requests = self.requests();
        report.duration = t0.elapsed();
        self.record(run_id, &report)?;
        Ok(report)
    }

    /// Steps that failed in this pass and the ones before (see `notices::failures`).
    fn notice_failures(&self, report: &PassReport) -> Result<()> {
        let mut failed = Vec::new();
        for s in report.steps.iter().filter(|s| s.error.is_some()) {
            // This pass is recorded after its emails are sent: count it here.
            let consecutive = 1 + runs::consecutive_failures(self.db, s.step.as_str(), &s.channel)?;
            failed.push((s, consecutive));
        }
        let list: Vec<notices::Failure<'_>> = failed
            .iter()
            .map(|(s, consecutive)| notices::Failure {
                step: s.step.as_str(),
                channel: &s.channel,
                error: s.error.as_deref().unwrap_or_default(),
                consecutive: *consecutive,
            })
            .collect();
        self.notice(notices::failures(&list));
        Ok(())
    }

    /// Queues this pass's problems (one digest per kind, de-duplicated) and flushes the
    /// outbox; after a stop was asked for, queues only (an email is a remote change).
    pub(super) async fn send_notices(&self) -> Result<FlushOutcome> {
        let repeat = chrono::Duration::hours(i64::from(self.cfg.notify.repeat_after_hours));
        let now = self.clock.now();
        let taken = std::mem::take(&mut *lock(&self.notices));
        let repeating = taken.repeating.into_iter().map(|n| (Some(repeat), n));
        let once = taken.once.into_iter().map(|n| (None, n));
        for (repeat, (digest, items)) in repeating.chain(once) {
            if !items.is_empty() {
                notify::queue_digest(self.db, now, repeat, &digest, &items)?;
            }
        }
        if crate::stop::global().requested().is_some() {
            return Ok(FlushOutcome {
                pending: notify::pending(self.db)?,
                ..FlushOutcome::default()
            });
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

    fn record(&self, run_id: i64, report: &PassReport) -> Result<()> {
        for s in &report.steps {
            runs::record_step(
                self.db,
                run_id,
                &runs::Step {
                    step: s.step.as_str(),
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
            .filter_map(|s| {
                s.error
                    .as_ref()
                    .map(|e| format!("{}: {e}", s.step.as_str()))
            })
            .collect::<Vec<_>>();
        runs::finish(
            self.db,
            run_id,
            &runs::Finish {
                // Stopped by a signal: no email went out (a remote change), and the
                // failures it caused are the stop's, not the store's.
                outcome: match report.stopped {
                    Some(_) => "stopped",
                    None if report.failed() => "failed",
                    None => "ok",
                },
                finished_at: &self.now(),
                duration_ms: report.duration.as_millis() as i64,
                requests: &serde_json::to_string(&report.requests)?,
                error: match report.stopped {
                    Some(signal) => Some(format!("stopped by {}", crate::stop::name(&signal))),
                    None => (!error.is_empty()).then(|| error.join("; ")),
                }
                .as_deref(),
            },
        )?;
        Ok(())
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
    Ok(Counts::of([
        (Count::Sent, outcome.sent as i64),
        (Count::Queued, outcome.pending as i64),
    ]))
}
