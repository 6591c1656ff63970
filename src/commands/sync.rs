//! `skubridge sync`: one pass, as cron runs it.

use std::collections::BTreeMap;

use anyhow::Result;
use tracing::info;

use super::Ctx;
use crate::engine::{Engine, PassOptions, PassReport, Step};
use crate::exit::{FAILED, OK};
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run only this step
    #[arg(long, value_enum)]
    only: Option<Step>,

    /// Read everything and print the orders it would create and the stock changes it
    /// would push; change nothing (example: skubridge sync --dry-run --only stock)
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let reporter = output::Progress::new(ctx.interactive);
    let mut engine = Engine::new(&ctx.cfg, &ctx.db, ctx.clock, &reporter);
    let report = engine
        .run_pass(PassOptions {
            only: args.only,
            dry_run: args.dry_run,
        })
        .await?;
    if args.dry_run {
        for line in &report.order_plans {
            println!("{line}");
        }
        for f in &report.fulfilments {
            println!(
                "{} order {}: fulfilment {} {} ({} items, {} {})",
                f.channel,
                f.order_number,
                f.fulfilment_id,
                f.result,
                f.items,
                f.provider.as_deref().unwrap_or("-"),
                f.tracking_number.as_deref().unwrap_or("-")
            );
        }
        print!("{}", output::plan_tables(&report.plans));
    }
    info!("{}", summary(&report, args.dry_run));
    Ok(if report.failed() { FAILED } else { OK })
}

/// The one line a pass leaves in the cron log.
fn summary(report: &PassReport, dry_run: bool) -> String {
    let mut parts = Vec::new();
    for s in &report.steps {
        let counts: BTreeMap<String, i64> =
            s.counts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let sent = counts.get("sent").copied().unwrap_or(0);
        let what = match (s.step, &s.error) {
            ("email", Some(_)) => "emails: FAILED".to_string(),
            ("email", None) if sent > 0 => format!("{sent} emails sent"),
            // Quiet about steps with nothing to say: the line stays short under cron.
            ("email", None) => continue,
            ("products", None) if !counts.contains_key("listings") => continue,
            ("fulfilment", None) if counts.values().all(|n| *n == 0) => continue,
            (step, error) => {
                let label = if s.channel.is_empty() {
                    "shopify".to_string()
                } else {
                    format!("{} {step}", s.channel)
                };
                let phrase = match error {
                    Some(_) => "FAILED".to_string(),
                    None => output::step_phrase(step, &counts),
                };
                format!("{label}: {phrase}")
            }
        };
        parts.push(what);
    }
    format!(
        "sync{} {} in {:.1}s, {} requests: {}",
        if dry_run { " --dry-run" } else { "" },
        if report.failed() { "FAILED" } else { "ok" },
        report.duration.as_secs_f64(),
        report.total_requests(),
        parts.join("; ")
    )
}
