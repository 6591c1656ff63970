//! The Prometheus textfile (`[metrics] textfile`, `--metrics-file`): after each run,
//! what the database says of the last runs, steps and the outbox, in the text
//! exposition format node_exporter's textfile collector reads. Gathered from the
//! database (the same rows `status` reads), rendered by a pure function, written whole
//! and renamed into place.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::clock;
use crate::commands::Ctx;
use crate::db::runs::{self, RunRow, StepRow};
use crate::notify;

/// The commands whose runs are recorded.
const COMMANDS: [&str; 3] = ["sync", "fulfil", "reset-products"];

/// What the file is made from.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub now: DateTime<Utc>,
    /// Per command: its last run, and its last successful one.
    pub runs: Vec<(&'static str, Option<RunRow>, Option<RunRow>)>,
    /// Each step's latest row, per channel.
    pub steps: Vec<StepRow>,
    /// Per channel, the latest product sync that matched (for its unmatched count).
    pub matching: Vec<StepRow>,
    pub outbox_pending: usize,
}

impl Snapshot {
    pub fn read(ctx: &Ctx) -> Result<Self> {
        let db = &ctx.db;
        let mut runs = Vec::new();
        for command in COMMANDS {
            runs.push((
                command,
                runs::last_run(db, command)?,
                runs::last_successful_run(db, command)?,
            ));
        }
        Ok(Self {
            now: ctx.clock.now(),
            runs,
            steps: runs::last_steps(db)?,
            matching: runs::last_matching_steps(db)?,
            outbox_pending: notify::pending(db)?,
        })
    }
}

pub fn write_textfile(ctx: &Ctx, path: &Path) -> Result<()> {
    let text = render(&Snapshot::read(ctx).context("reading the last runs")?);
    crate::commands::outputs::write_atomically(path, text.as_bytes())
}

/// One metric family: its help, its type and its samples.
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            samples: Vec::new(),
        }
    }

    fn add(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.samples.push((labels, value));
    }
}

fn seconds(t: &str) -> Option<f64> {
    clock::parse(t).map(|t| t.timestamp_millis() as f64 / 1000.0)
}

/// The text exposition format: every family a gauge, labels escaped.
pub fn render(s: &Snapshot) -> String {
    let mut started = Family::new(
        "skubridge_last_run_timestamp_seconds",
        "When the last run of the command started (Unix time).",
    );
    let mut success = Family::new(
        "skubridge_last_run_success",
        "1 when the last run of the command succeeded, 0 when it failed or never finished.",
    );
    let mut duration = Family::new(
        "skubridge_last_run_duration_seconds",
        "How long the last finished run of the command took.",
    );
    let mut last_ok = Family::new(
        "skubridge_last_success_timestamp_seconds",
        "When the last successful run of the command started (Unix time).",
    );
    let mut since_ok = Family::new(
        "skubridge_seconds_since_last_success",
        "Seconds from the last successful run of the command to when this file was written.",
    );
    let mut requests = Family::new(
        "skubridge_last_run_requests",
        "Requests the last run of the command made, per API (shopify or a channel) and endpoint.",
    );
    for (command, last, ok) in &s.runs {
        let cmd = || vec![("command", command.to_string())];
        if let Some(run) = last {
            if let Some(t) = seconds(&run.started_at) {
                started.add(cmd(), t);
            }
            success.add(
                cmd(),
                f64::from(u8::from(run.outcome.as_deref() == Some("ok"))),
            );
            if let Some(ms) = run.duration_ms {
                duration.add(cmd(), ms as f64 / 1000.0);
            }
            let counts: BTreeMap<String, u64> = run
                .requests
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or_default();
            for (key, n) in counts {
                // Recorded as "<shopify or channel> <endpoint>".
                let (api, endpoint) = key.split_once(' ').unwrap_or(("", &key));
                let mut labels = cmd();
                labels.push(("api", api.to_string()));
                labels.push(("endpoint", endpoint.to_string()));
                requests.add(labels, n as f64);
            }
        }
        if let Some(t) = ok.as_ref().and_then(|r| clock::parse(&r.started_at)) {
            last_ok.add(cmd(), t.timestamp_millis() as f64 / 1000.0);
            since_ok.add(cmd(), (s.now - t).num_milliseconds() as f64 / 1000.0);
        }
    }
    let mut step_ok = Family::new(
        "skubridge_step_success",
        "1 when the step's last run (per channel) succeeded.",
    );
    let mut step_duration = Family::new(
        "skubridge_step_duration_seconds",
        "How long the step's last run (per channel) took.",
    );
    let mut step_counts = Family::new(
        "skubridge_step_count",
        "What the step's last run (per channel) counted: pushed, refused, failed, imported, held...",
    );
    for step in &s.steps {
        let at = || {
            vec![
                ("step", step.step.clone()),
                ("channel", step.channel.clone()),
            ]
        };
        step_ok.add(at(), f64::from(u8::from(step.outcome == "ok")));
        step_duration.add(at(), step.duration_ms as f64 / 1000.0);
        let counts: BTreeMap<String, i64> = serde_json::from_str(&step.counts).unwrap_or_default();
        for (count, n) in counts {
            let mut labels = at();
            labels.push(("count", count));
            step_counts.add(labels, n as f64);
        }
    }
    let mut unmatched = Family::new(
        "skubridge_unmatched_listings",
        "Active channel listings that do not sync, as of the channel's last product sync.",
    );
    for step in &s.matching {
        let counts: BTreeMap<String, i64> = serde_json::from_str(&step.counts).unwrap_or_default();
        if let Some(n) = counts.get("unmatched") {
            unmatched.add(vec![("channel", step.channel.clone())], *n as f64);
        }
    }
    let mut outbox = Family::new(
        "skubridge_outbox_pending",
        "Emails queued and not sent yet.",
    );
    outbox.add(Vec::new(), s.outbox_pending as f64);
    let mut written = Family::new(
        "skubridge_metrics_written_timestamp_seconds",
        "When this file was written (Unix time).",
    );
    written.add(Vec::new(), s.now.timestamp_millis() as f64 / 1000.0);

    let mut out = String::new();
    for family in [
        started,
        success,
        duration,
        last_ok,
        since_ok,
        requests,
        step_ok,
        step_duration,
        step_counts,
        unmatched,
        outbox,
        written,
    ] {
        if family.samples.is_empty() {
            continue;
        }
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} gauge", family.name);
        for (labels, value) in &family.samples {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let labels = if labels.is_empty() {
                String::new()
            } else {
                format!("{{{}}}", labels.join(","))
            };
            let _ = writeln!(out, "{}{labels} {value}", family.name);
        }
    }
    out
}

/// A label value as the exposition format wants it: `\`, `"` and line breaks escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(outcome: Option<&str>, requests: &str) -> RunRow {
        RunRow {
            id: 1,
            started_at: "2026-12-01T10:00:00Z".into(),
            finished_at: Some("2026-12-01T10:00:02Z".into()),
            duration_ms: Some(2500),
            outcome: outcome.map(String::from),
            requests: Some(requests.into()),
            error: None,
        }
    }

    fn step(step: &str, channel: &str, outcome: &str, counts: &str) -> StepRow {
        StepRow {
            run_id: 1,
            step: step.into(),
            channel: channel.into(),
            started_at: "2026-12-01T10:00:00Z".into(),
            duration_ms: 700,
            outcome: outcome.into(),
            counts: counts.into(),
            error: None,
        }
    }

    #[test]
    fn runs_steps_and_the_outbox_become_gauges() {
        let s = Snapshot {
            now: clock::parse("2026-12-01T10:05:00Z").unwrap(),
            runs: vec![
                (
                    "sync",
                    Some(run(
                        Some("failed"),
                        r#"{"iconic PUT /v2/stock/product": 3}"#,
                    )),
                    Some(run(Some("ok"), "{}")),
                ),
                ("fulfil", None, None),
            ],
            steps: vec![step(
                "stock",
                "iconic",
                "ok",
                r#"{"pushed": 12, "refused": 1}"#,
            )],
            matching: vec![step("products", "we\"ird", "ok", r#"{"unmatched": 4}"#)],
            outbox_pending: 2,
        };
        let text = render(&s);
        for line in [
            "skubridge_last_run_success{command=\"sync\"} 0",
            "skubridge_last_run_duration_seconds{command=\"sync\"} 2.5",
            "skubridge_seconds_since_last_success{command=\"sync\"} 300",
            "skubridge_last_run_requests{command=\"sync\",api=\"iconic\",endpoint=\"PUT /v2/stock/product\"} 3",
            "skubridge_step_count{step=\"stock\",channel=\"iconic\",count=\"pushed\"} 12",
            "skubridge_step_success{step=\"stock\",channel=\"iconic\"} 1",
            "skubridge_unmatched_listings{channel=\"we\\\"ird\"} 4",
            "skubridge_outbox_pending 2",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert!(!text.contains("command=\"fulfil\""), "never ran: no sample");
    }
}
