//! `skubridge status`: how the bridge is doing, for a merchant and for monitoring. The
//! last pass, each step's last run, when the next pass is due, whether a product reset
//! pauses sync, and what waits on a person. It reads the database and the lock file only
//! (no API calls, runs beside a pass) and exits 1 when unhealthy, so a monitor can call it.
//!
//! [`gather`] builds the figures ([`Status`]) once; the table, the JSON and the
//! dashboard page (`report --html`) all show them, so they never disagree.

use std::collections::BTreeMap;
use std::io::{self, Write};

use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, Duration, Utc};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use serde::{Serialize, Serializer};

use super::Ctx;
use crate::clock;
use crate::db::orders::State;
use crate::db::runs::{self, RunRow, StepRow};
use crate::db::Db;
use crate::exit::{FAILED, OK};
use crate::lock;
use crate::notify;
use crate::output;

/// The command whose runs are the passes (`sync_runs.command`, the lock's purpose).
const SYNC: &str = "sync";

/// Healthy means a pass succeeded within this many sync intervals.
const STALE_INTERVALS: i32 = 3;

/// Steps in the order a pass runs them; others follow by name.
const STEP_ORDER: &[&str] = &[
    "products",
    "orders",
    "fulfilment",
    "shopify_read",
    "stock",
    "email",
];

/// Only what status can print: `output::Format`'s csv has no rows to give here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    /// For people
    Table,
    /// For monitoring scripts: stable field names, RFC 3339 UTC times
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format (example: --format json | jq .problems)
    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    format: StatusFormat,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let status = gather(ctx)?;
    let text = match args.format {
        StatusFormat::Table => table(&status),
        StatusFormat::Json => serde_json::to_string_pretty(&status)? + "\n",
    };
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing the status to stdout")?;
    Ok(if status.healthy { OK } else { FAILED })
}

// ---- the figures ---------------------------------------------------------------

/// Everything `status` shows; `--format json` is this, field for field (the fields
/// marked `skip` serve the dashboard page only).
#[derive(Debug, Serialize)]
pub struct Status {
    pub healthy: bool,
    /// Why it is not healthy; empty when healthy.
    pub problems: Vec<String>,
    #[serde(serialize_with = "time")]
    pub now: DateTime<Utc>,
    pub sync_every_minutes: u32,
    pub last_pass: Option<Pass>,
    /// When the latest successful pass finished.
    #[serde(serialize_with = "opt_time")]
    pub last_success_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_time")]
    pub next_due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// As the lock file says (RFC 3339), while a product reset holds the lock.
    pub reset_in_progress_since: Option<String>,
    pub steps: Vec<StepStatus>,
    pub channels: Vec<ChannelStatus>,
    pub emails_pending: usize,
    pub last_error: Option<LastError>,
    /// What holds the run lock now (`sync`, `fulfil`, `reset-products`), if anything.
    #[serde(skip)]
    pub lock_purpose: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
    /// No `finished_at` and a sync holds the lock.
    Running,
    /// No `finished_at` and no sync holds the lock: killed, or the machine stopped.
    Interrupted,
    /// Stopped in order by SIGTERM or SIGINT (the error says which): the change in
    /// flight finished, nothing else started.
    Stopped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Running => "running",
            Self::Interrupted => "interrupted",
            Self::Stopped => "stopped",
        }
    }
}

/// One run (a pass, for `last_pass`).
#[derive(Debug, Clone, Serialize)]
pub struct Pass {
    #[serde(skip)]
    pub run_id: i64,
    #[serde(serialize_with = "time")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "opt_time")]
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub outcome: Outcome,
    pub requests: u64,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct StepStatus {
    #[serde(skip)]
    pub run_id: i64,
    pub step: String,
    /// Empty for `shopify_read`, which serves every channel.
    pub channel: String,
    #[serde(serialize_with = "time")]
    pub last_run_at: DateTime<Utc>,
    /// `failed` also when the step recorded `failed` items (stock not confirmed,
    /// orders Shopify refused): those fail the pass too.
    pub outcome: Outcome,
    pub duration_ms: i64,
    pub counts: BTreeMap<String, i64>,
    pub summary: String,
    pub error: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct ChannelStatus {
    pub channel: String,
    /// From the last product sync that matched; `None` before the first.
    pub unmatched_listings: Option<i64>,
    /// Every count of that product sync (`listings`, `matched`, `unmatched`,
    /// `duplicate`, ...); empty before the first.
    #[serde(skip)]
    pub matching: BTreeMap<String, i64>,
    /// As its lock file says, while a product reset of this channel alone runs: the
    /// channel is left out of passes meanwhile.
    pub reset_in_progress_since: Option<String>,
    /// Its endpoint, account or environment differ from when its products were
    /// matched: passes leave it out until `reset-products --channel` (sync exits 2).
    pub environment_changed: bool,
    pub orders_held: i64,
    pub orders_failed: i64,
    pub orders_creating: i64,
    pub orders_items_changed: i64,
    pub fulfilment_errors: i64,
}

impl ChannelStatus {
    /// The last product sync's counts as `status` words them ("5 of 9 listings
    /// matched, 1 unmatched"); `None` before the first.
    pub fn matching_summary(&self) -> Option<String> {
        (!self.matching.is_empty()).then(|| output::step_phrase("products", &self.matching))
    }
}

#[derive(Debug, Serialize)]
pub struct LastError {
    pub step: String,
    pub channel: String,
    #[serde(serialize_with = "time")]
    pub at: DateTime<Utc>,
    pub error: String,
}

fn time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&clock::rfc3339(*t))
}

fn opt_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => time(t, s),
        None => s.serialize_none(),
    }
}

// ---- gathering ----------------------------------------------------------------

/// The figures, from the database and the lock files only.
pub fn gather(ctx: &Ctx) -> Result<Status> {
    let db = &ctx.db;
    let now = ctx.clock.now();
    let every = Duration::minutes(i64::from(ctx.cfg.schedule.sync_every_minutes));
    let configured: Vec<&str> = ctx.cfg.channels.iter().map(|c| c.name.as_str()).collect();

    let mut last = runs::last_run(db, SYNC)?;
    let holder = lock::holder(&ctx.cfg.database);
    let held_by = holder.as_deref().map(parse_holder);
    let sync_running = held_by.is_some_and(|(purpose, _)| purpose == SYNC);
    // A pass that finished between the two reads shows its outcome, not "interrupted".
    if let Some(id) = last
        .as_ref()
        .filter(|r| r.outcome.is_none() && !sync_running)
        .map(|r| r.id)
    {
        last = runs::run(db, id)?;
    }

    let mut steps = Vec::new();
    for row in runs::last_steps(db)? {
        if row.channel.is_empty() || configured.contains(&row.channel.as_str()) {
            steps.push(step_status(row)?);
        }
    }
    let rank = |s: &StepStatus| {
        let step = STEP_ORDER
            .iter()
            .position(|n| *n == s.step)
            .unwrap_or(STEP_ORDER.len());
        let channel = configured.iter().position(|n| *n == s.channel);
        (step, s.step.clone(), channel)
    };
    steps.sort_by_key(rank);

    let last_pass = last
        .as_ref()
        .map(|r| pass(r, sync_running, &steps))
        .transpose()?;
    let last_success_at = runs::last_successful_run(db, SYNC)?
        .map(|r| parse_time(r.finished_at.as_deref().unwrap_or(&r.started_at)))
        .transpose()?;
    let mut channels = channels(db, &ctx.cfg.database, &configured)?;
    for (c, cfg) in channels.iter_mut().zip(&ctx.cfg.channels) {
        // Only asked for its fingerprint: no request is made.
        let fingerprint = cfg
            .settings
            .connect(1, reqwest::Client::new())
            .fingerprint();
        c.environment_changed = crate::db::channels::get(db, &c.channel)?
            .fingerprint
            .is_some_and(|stored| stored != fingerprint);
    }
    let mut problems = problems(last_pass.as_ref(), last_success_at, now, every);
    problems.extend(channels.iter().filter(|c| c.environment_changed).map(|c| {
        format!(
            "{} sits out every pass: its endpoint, account or environment changed; run `skubridge reset-products --channel {}`",
            c.channel, c.channel
        )
    }));
    let (next_due_at, overdue) = next_due(last_pass.as_ref().map(|p| p.started_at), now, every);
    let last_error = runs::last_failed_step(db)?
        .map(|s| -> Result<LastError> {
            Ok(LastError {
                at: parse_time(&s.started_at)?,
                error: s.error.unwrap_or_default(),
                step: s.step,
                channel: s.channel,
            })
        })
        .transpose()?;
    Ok(Status {
        healthy: problems.is_empty(),
        problems,
        now,
        sync_every_minutes: ctx.cfg.schedule.sync_every_minutes,
        last_pass,
        last_success_at,
        next_due_at,
        overdue,
        reset_in_progress_since: held_by
            .filter(|(purpose, _)| *purpose == lock::RESET_PURPOSE)
            .map(|(_, since)| since.unwrap_or("an unknown time").to_string()),
        steps,
        channels,
        emails_pending: notify::pending(db)?,
        last_error,
        lock_purpose: held_by.map(|(purpose, _)| purpose.to_string()),
    })
}

/// The lock file's "<purpose> since <time> (pid <n>)": purpose and time.
fn parse_holder(text: &str) -> (&str, Option<&str>) {
    match text.split_once(" since ") {
        Some((purpose, rest)) => {
            let since = rest.split(" (").next().unwrap_or(rest).trim();
            (purpose.trim(), Some(since).filter(|s| !s.is_empty()))
        }
        None => (text.trim(), None),
    }
}

fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    clock::parse(text)
        .ok_or_else(|| anyhow!("the database holds the time {text:?}, which is not RFC 3339"))
}

/// Counts as stored; a row that is not a JSON object of integers shows none.
fn counts(json: &str) -> BTreeMap<String, i64> {
    serde_json::from_str(json).unwrap_or_default()
}

fn failed_items(counts: &BTreeMap<String, i64>) -> i64 {
    counts.get("failed").copied().unwrap_or(0)
}

fn step_status(row: StepRow) -> Result<StepStatus> {
    let counts = counts(&row.counts);
    let failed = row.outcome == "failed" || failed_items(&counts) > 0;
    Ok(StepStatus {
        last_run_at: parse_time(&row.started_at)?,
        outcome: if failed { Outcome::Failed } else { Outcome::Ok },
        duration_ms: row.duration_ms,
        // A step that errored recorded no counts: its error says it all.
        summary: if row.error.is_some() {
            String::new()
        } else {
            output::step_phrase(&row.step, &counts)
        },
        counts,
        error: row.error,
        run_id: row.run_id,
        step: row.step,
        channel: row.channel,
    })
}

/// A recorded run as `status` judges it. `running`: its command holds the lock now (a
/// run without an end is otherwise interrupted). `steps`: the latest steps, which say
/// what failed when the run recorded no error text.
pub fn pass(r: &RunRow, running: bool, steps: &[StepStatus]) -> Result<Pass> {
    let outcome = match r.outcome.as_deref() {
        Some("ok") => Outcome::Ok,
        Some("stopped") => Outcome::Stopped,
        Some(_) => Outcome::Failed,
        None if running => Outcome::Running,
        None => Outcome::Interrupted,
    };
    // A pass fails without an error text when items were not confirmed: say which.
    let error = r.error.clone().or_else(|| {
        let unconfirmed: Vec<String> = steps
            .iter()
            .filter(|s| s.run_id == r.id && failed_items(&s.counts) > 0)
            .map(|s| {
                let label = step_label(&s.step, &s.channel);
                format!("{label}: {} failed", failed_items(&s.counts))
            })
            .collect();
        (outcome == Outcome::Failed && !unconfirmed.is_empty()).then(|| unconfirmed.join("; "))
    });
    let requests = r
        .requests
        .as_deref()
        .and_then(|j| serde_json::from_str::<BTreeMap<String, u64>>(j).ok())
        .map_or(0, |m| m.values().sum());
    Ok(Pass {
        run_id: r.id,
        started_at: parse_time(&r.started_at)?,
        finished_at: r.finished_at.as_deref().map(parse_time).transpose()?,
        duration_ms: r.duration_ms,
        outcome,
        requests,
        error,
    })
}

fn find<'a>(all: &'a mut [ChannelStatus], name: &str) -> Option<&'a mut ChannelStatus> {
    all.iter_mut().find(|c| c.channel == name)
}

fn channels(db: &Db, path: &std::path::Path, configured: &[&str]) -> Result<Vec<ChannelStatus>> {
    let mut out: Vec<ChannelStatus> = configured
        .iter()
        .map(|c| ChannelStatus {
            channel: c.to_string(),
            reset_in_progress_since: lock::channel_reset_holder(path, c)
                .map(|h| parse_holder(&h).1.unwrap_or("an unknown time").to_string()),
            ..Default::default()
        })
        .collect();
    for s in runs::last_matching_steps(db)? {
        if let Some(c) = find(&mut out, &s.channel) {
            c.matching = counts(&s.counts);
            c.unmatched_listings = c.matching.get("unmatched").copied();
        }
    }
    for (channel, state, n) in crate::db::orders::state_counts(db)? {
        let Some(c) = find(&mut out, &channel) else {
            continue;
        };
        let slot = match state.as_str() {
            s if s == State::Held.as_str() => &mut c.orders_held,
            s if s == State::Failed.as_str() => &mut c.orders_failed,
            s if s == State::Creating.as_str() => &mut c.orders_creating,
            s if s == State::ItemsChanged.as_str() => &mut c.orders_items_changed,
            _ => continue,
        };
        *slot = n;
    }
    for (channel, n) in crate::db::fulfilments::failed_counts(db)? {
        if let Some(c) = find(&mut out, &channel) {
            c.fulfilment_errors = n;
        }
    }
    Ok(out)
}

// ---- decisions (pure) ---------------------------------------------------------

/// Why monitoring should look; empty when healthy. Unhealthy: the last pass failed or
/// never finished, or no pass succeeded within `STALE_INTERVALS` sync intervals.
fn problems(
    last: Option<&Pass>,
    last_success: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    every: Duration,
) -> Vec<String> {
    let Some(last) = last else {
        return vec![format!(
            "no sync pass has run yet: run `skubridge sync` from cron every {}",
            span(every)
        )];
    };
    let mut out = Vec::new();
    let started = shown(last.started_at);
    match last.outcome {
        Outcome::Failed => out.push(format!(
            "the last pass (started {started}) failed: {}",
            last.error.as_deref().unwrap_or("see the log")
        )),
        Outcome::Interrupted => out.push(format!(
            "the last pass (started {started}) never finished: it was killed or the machine stopped"
        )),
        // An orderly stop is not the store's problem; staleness below still counts.
        Outcome::Ok | Outcome::Running | Outcome::Stopped => {}
    }
    match last_success {
        None => out.push("no sync pass has succeeded yet".into()),
        Some(t) if now - t > every * STALE_INTERVALS => out.push(format!(
            "no successful pass since {} ({} ago; passes are due every {})",
            shown(t),
            span(now - t),
            span(every)
        )),
        Some(_) => {}
    }
    out
}

/// The next pass is due one interval after the last one started; it is overdue when
/// more than one interval late.
fn next_due(
    last_start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    every: Duration,
) -> (Option<DateTime<Utc>>, bool) {
    match last_start {
        Some(start) => {
            let due = start + every;
            (Some(due), now > due + every)
        }
        None => (None, false),
    }
}

// ---- rendering ----------------------------------------------------------------

pub fn shown(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A span as people say it: "42 s", "5 min", "3 h 5 min", "2 d 4 h".
pub fn span(d: Duration) -> String {
    let s = d.num_seconds().abs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86400, s % 86400 / 3600),
    }
}

/// "5 min ago" or "in 3 min".
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if t > now {
        format!("in {}", span(t - now))
    } else {
        format!("{} ago", span(now - t))
    }
}

pub fn millis(ms: i64) -> String {
    if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        span(Duration::milliseconds(ms))
    }
}

pub fn step_label(step: &str, channel: &str) -> String {
    if channel.is_empty() {
        step.replace('_', " ")
    } else {
        format!("{channel} {step}")
    }
}

/// "due 2026-11-27 00:05:00 UTC (in 3 min)", ", OVERDUE" when more than one interval
/// late; before the first pass, how often cron should run it.
pub fn next_pass(r: &Status) -> String {
    match r.next_due_at {
        None => format!(
            "every {}, once cron runs it",
            span(Duration::minutes(i64::from(r.sync_every_minutes)))
        ),
        Some(t) => format!(
            "due {} ({}){}",
            shown(t),
            relative(t, r.now),
            if r.overdue { ", OVERDUE" } else { "" }
        ),
    }
}

/// "no", or what pauses sync: a product reset of every channel, or of some channels.
pub fn paused(r: &Status) -> String {
    let resets: Vec<String> = r
        .channels
        .iter()
        .filter_map(|c| match &c.reset_in_progress_since {
            Some(since) => Some(format!(
                "{}: product reset in progress since {since}",
                c.channel
            )),
            None if c.environment_changed => Some(format!(
                "{}: environment changed, until `reset-products --channel {}`",
                c.channel, c.channel
            )),
            None => None,
        })
        .collect();
    match &r.reset_in_progress_since {
        Some(since) => format!("product reset in progress since {since}"),
        None if !resets.is_empty() => resets.join("; "),
        None => "no".into(),
    }
}

fn table(r: &Status) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: String| out.push_str(&format!("{label:<16}{value}\n"));
    if r.healthy {
        line("Health:", "ok".into());
    } else {
        line("Health:", "UNHEALTHY".into());
        for p in &r.problems {
            line("", format!("- {p}"));
        }
    }
    line(
        "Last pass:",
        match &r.last_pass {
            None => "none yet".into(),
            Some(p) => pass_line(p, r.now),
        },
    );
    if let Some(t) = r.last_success_at {
        line(
            "Last success:",
            format!("{} ({})", shown(t), relative(t, r.now)),
        );
    }
    line("Next pass:", next_pass(r));
    line("Paused:", paused(r));
    line("Emails queued:", r.emails_pending.to_string());
    if !r.steps.is_empty() {
        out.push_str(&format!(
            "\nSteps (each one's last run)\n{}\n",
            steps_table(&r.steps)
        ));
        for s in r.steps.iter().filter(|s| s.error.is_some()) {
            out.push_str(&format!(
                "  {} failed: {}\n",
                step_label(&s.step, &s.channel),
                s.error.as_deref().unwrap_or_default()
            ));
        }
    }
    if !r.channels.is_empty() {
        out.push_str(&format!("\nChannels\n{}\n", channels_table(&r.channels)));
    }
    if let Some(e) = older_error(r) {
        out.push_str(&format!(
            "\n{:<16}{} ({}), {}: {}\n",
            "Last error:",
            shown(e.at),
            relative(e.at, r.now),
            step_label(&e.step, &e.channel),
            e.error
        ));
    }
    out
}

/// The last error, unless a step's last run (which shows its error) is that error.
pub fn older_error(r: &Status) -> Option<&LastError> {
    let listed = |e: &LastError| {
        r.steps.iter().any(|s| {
            s.error.is_some() && s.step == e.step && s.channel == e.channel && s.last_run_at == e.at
        })
    };
    r.last_error.as_ref().filter(|e| !listed(e))
}

pub fn pass_line(p: &Pass, now: DateTime<Utc>) -> String {
    let started = format!(
        "started {} ({})",
        shown(p.started_at),
        relative(p.started_at, now)
    );
    let took = p.duration_ms.map(millis).unwrap_or_default();
    match p.outcome {
        Outcome::Running => format!("{started}, still running"),
        Outcome::Interrupted => format!("{started}, never finished"),
        Outcome::Stopped => format!(
            "{started}, {} after {took}, {} requests",
            p.error.as_deref().unwrap_or("stopped"),
            p.requests
        ),
        Outcome::Ok | Outcome::Failed => format!(
            "{started}, {} in {took}, {} requests",
            p.outcome.as_str(),
            p.requests
        ),
    }
}

fn steps_table(steps: &[StepStatus]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "Step",
        "Channel",
        "Last run (UTC)",
        "Outcome",
        "Duration",
        "Counts",
    ]);
    for s in steps {
        t.add_row(vec![
            s.step.clone(),
            s.channel.clone(),
            s.last_run_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            s.outcome.as_str().to_string(),
            millis(s.duration_ms),
            s.summary.clone(),
        ]);
    }
    if let Some(c) = t.column_mut(4) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    t
}

fn channels_table(channels: &[ChannelStatus]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "Channel",
        "Unmatched\nlistings",
        "Orders\nheld",
        "Orders\nfailed",
        "Orders\ncreating",
        "Items\nchanged",
        "Fulfilment\nerrors",
    ]);
    for c in channels {
        t.add_row(vec![
            c.channel.clone(),
            c.unmatched_listings
                .map_or("not matched yet".into(), |n| n.to_string()),
            c.orders_held.to_string(),
            c.orders_failed.to_string(),
            c.orders_creating.to_string(),
            c.orders_items_changed.to_string(),
            c.fulfilment_errors.to_string(),
        ]);
    }
    for col in 1..7 {
        if let Some(c) = t.column_mut(col) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> DateTime<Utc> {
        clock::parse(t).unwrap()
    }

    fn every() -> Duration {
        Duration::minutes(5)
    }

    fn a_pass(outcome: Outcome, error: Option<&str>) -> Pass {
        Pass {
            run_id: 7,
            started_at: at("2026-11-27T00:00:00Z"),
            finished_at: Some(at("2026-11-27T00:00:02Z")),
            duration_ms: Some(2000),
            outcome,
            requests: 15,
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn health_follows_the_last_pass_and_the_last_success() {
        let done = Some(at("2026-11-27T00:00:02Z"));
        let soon = at("2026-11-27T00:03:00Z");
        let ok = a_pass(Outcome::Ok, None);
        assert!(problems(Some(&ok), done, soon, every()).is_empty());
        // Exactly three intervals after the success is still healthy; a second more is not.
        assert!(problems(Some(&ok), done, at("2026-11-27T00:15:02Z"), every()).is_empty());
        assert_eq!(
            problems(Some(&ok), done, at("2026-11-27T00:15:03Z"), every()),
            ["no successful pass since 2026-11-27 00:00:02 UTC (15 min ago; passes are due every 5 min)"]
        );

        let failed = a_pass(
            Outcome::Failed,
            Some("products: reading iconic listings: 500"),
        );
        assert_eq!(
            problems(Some(&failed), done, soon, every()),
            ["the last pass (started 2026-11-27 00:00:00 UTC) failed: products: reading iconic listings: 500"]
        );
        let killed = a_pass(Outcome::Interrupted, None);
        assert!(problems(Some(&killed), done, soon, every())[0].contains("never finished"));
        let running = a_pass(Outcome::Running, None);
        assert!(problems(Some(&running), done, soon, every()).is_empty());
        assert_eq!(
            problems(Some(&running), None, soon, every()),
            ["no sync pass has succeeded yet"]
        );
        let never = problems(None, None, soon, every());
        assert_eq!(never.len(), 1);
        assert!(
            never[0].starts_with("no sync pass has run yet"),
            "{never:?}"
        );
        // Both reasons at once: failed now, and nothing good for a long time.
        assert_eq!(
            problems(Some(&failed), done, at("2026-11-28T00:00:00Z"), every()).len(),
            2
        );
    }

    #[test]
    fn next_due_and_overdue() {
        let start = Some(at("2026-11-27T00:00:00Z"));
        let due = Some(at("2026-11-27T00:05:00Z"));
        assert_eq!(
            next_due(None, at("2026-11-27T00:00:00Z"), every()),
            (None, false)
        );
        assert_eq!(
            next_due(start, at("2026-11-27T00:02:00Z"), every()),
            (due, false)
        );
        assert_eq!(
            next_due(start, at("2026-11-27T00:10:00Z"), every()),
            (due, false)
        );
        assert_eq!(
            next_due(start, at("2026-11-27T00:10:01Z"), every()),
            (due, true)
        );
    }

    #[test]
    fn spans_and_times_as_people_say_them() {
        assert_eq!(span(Duration::seconds(42)), "42 s");
        assert_eq!(span(Duration::seconds(-42)), "42 s");
        assert_eq!(span(Duration::minutes(5)), "5 min");
        assert_eq!(span(Duration::minutes(185)), "3 h 5 min");
        assert_eq!(span(Duration::hours(52)), "2 d 4 h");
        let now = at("2026-11-27T00:02:00Z");
        assert_eq!(relative(at("2026-11-27T00:05:00Z"), now), "in 3 min");
        assert_eq!(relative(at("2026-11-27T00:00:00Z"), now), "2 min ago");
        assert_eq!(millis(1234), "1.2 s");
        assert_eq!(millis(125_000), "2 min");
        assert_eq!(shown(now), "2026-11-27 00:02:00 UTC");
    }

    #[test]
    fn the_lock_file_text_is_read() {
        assert_eq!(
            parse_holder("reset-products since 2026-11-27T01:02:03.000Z (pid 42)"),
            ("reset-products", Some("2026-11-27T01:02:03.000Z"))
        );
        assert_eq!(parse_holder("sync"), ("sync", None));
        assert_eq!(parse_holder(""), ("", None));
    }

    fn run_row(outcome: Option<&str>, error: Option<&str>) -> RunRow {
        RunRow {
            id: 7,
            started_at: "2026-11-27T00:00:00.000Z".into(),
            finished_at: outcome.map(|_| "2026-11-27T00:00:02.000Z".into()),
            duration_ms: outcome.map(|_| 2000),
            outcome: outcome.map(str::to_string),
            requests: Some(r#"{"shopify Shop":2,"iconic PUT /v2/stock/product":3}"#.into()),
            error: error.map(str::to_string),
        }
    }

    fn stock_step(run_id: i64, failed: i64) -> StepStatus {
        step_status(StepRow {
            run_id,
            step: "stock".into(),
            channel: "iconic".into(),
            started_at: "2026-11-27T00:00:01.000Z".into(),
            duration_ms: 900,
            outcome: "ok".into(),
            counts: format!(r#"{{"pushed":1,"refused":0,"failed":{failed},"full":0}}"#),
            error: None,
        })
        .unwrap()
    }

    #[test]
    fn a_pass_says_why_it_failed_and_whether_it_still_runs() {
        let p = pass(&run_row(Some("ok"), None), false, &[]).unwrap();
        assert_eq!((p.outcome, p.requests, p.error), (Outcome::Ok, 5, None));
        let p = pass(&run_row(None, None), true, &[]).unwrap();
        assert_eq!((p.outcome, p.finished_at), (Outcome::Running, None));
        assert_eq!(
            pass(&run_row(None, None), false, &[]).unwrap().outcome,
            Outcome::Interrupted
        );
        let p = pass(&run_row(Some("failed"), Some("orders: boom")), false, &[]).unwrap();
        assert_eq!(p.error.as_deref(), Some("orders: boom"));
        // Failed without an error text: the unconfirmed items of this run, not older ones.
        let steps = [stock_step(7, 3), stock_step(6, 9)];
        assert_eq!(steps[0].outcome, Outcome::Failed);
        let p = pass(&run_row(Some("failed"), None), false, &steps).unwrap();
        assert_eq!(p.error.as_deref(), Some("iconic stock: 3 failed"));
    }

    #[test]
    fn table_and_json_show_the_reasons() {
        let report = Status {
            healthy: false,
            problems: vec!["the last pass (started …) failed: boom".into()],
            now: at("2026-11-27T00:02:00Z"),
            sync_every_minutes: 5,
            last_pass: Some(a_pass(Outcome::Failed, Some("boom"))),
            last_success_at: None,
            next_due_at: Some(at("2026-11-27T00:05:00Z")),
            overdue: false,
            reset_in_progress_since: Some("2026-11-27T00:01:00.000Z".into()),
            steps: vec![stock_step(7, 3)],
            channels: vec![ChannelStatus {
                channel: "iconic".into(),
                unmatched_listings: Some(4),
                orders_held: 2,
                ..Default::default()
            }],
            emails_pending: 1,
            last_error: None,
            lock_purpose: None,
        };
        let text = table(&report);
        assert!(
            text.starts_with("Health:         UNHEALTHY\n                - the last pass"),
            "{text}"
        );
        for needle in [
            "Last pass:      started 2026-11-27 00:00:00 UTC (2 min ago), failed in 2.0 s, 15 requests",
            "Next pass:      due 2026-11-27 00:05:00 UTC (in 3 min)\n",
            "Paused:         product reset in progress since 2026-11-27T00:01:00.000Z",
            "1 pushed, 0 refused, 3 failed",
        ] {
            assert!(text.contains(needle), "{needle}\n{text}");
        }
        let v: serde_json::Value = serde_json::to_value(&report).unwrap();
        assert_eq!(v["last_pass"]["outcome"], "failed");
        assert_eq!(v["last_pass"]["started_at"], "2026-11-27T00:00:00.000Z");
        assert_eq!(v["steps"][0]["outcome"], "failed");
        assert!(v["steps"][0].get("run_id").is_none());
        assert_eq!(v["channels"][0]["unmatched_listings"], 4);
        assert_eq!(v["last_success_at"], serde_json::Value::Null);
    }
}
