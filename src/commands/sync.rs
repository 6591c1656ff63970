//! `skubridge sync`: one pass, as cron runs it.

use anyhow::Result;
use tracing::info;

use super::Ctx;
use crate::engine::{Count, Engine, OrderPlan, PassOptions, PassReport, Step, StepName};
use crate::exit::{FAILED, OK, USAGE};
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
    let engine = Engine::new(&ctx.cfg, &ctx.db, ctx.clock, &reporter);
    let report = engine
        .run_pass(PassOptions {
            only: args.only,
            dry_run: args.dry_run,
        })
        .await?;
    if args.dry_run {
        for plan in &report.order_plans {
            println!("{}", order_plan(plan));
        }
        for f in &report.fulfilments {
            println!(
                "{} order {}: fulfilment {} {} ({} items, {} {})",
                f.channel,
                f.order_number,
                f.fulfilment_id,
                f.result.as_str(),
                f.items,
                f.channel_carrier.as_deref().unwrap_or("-"),
                f.tracking_number.as_deref().unwrap_or("-")
            );
        }
        print!("{}", output::plan_tables(&report.plans));
    }
    info!("{}", summary(&report, args.dry_run));
    // A channel left out until a person acts (its environment changed) is a config
    // matter, whatever the other channels did.
    Ok(if !report.paused.is_empty() {
        USAGE
    } else if report.failed() {
        FAILED
    } else {
        OK
    })
}

fn order_plan(plan: &OrderPlan) -> String {
    match plan {
        OrderPlan::Create {
            channel,
            number,
            lines,
            currency,
            value,
        } => format!(
            "{channel} order {number}: would create a Shopify order of {lines} lines, {currency} {value}"
        ),
        OrderPlan::Accept { channel, number } => {
            format!("{channel} order {number}: would be accepted (imported once paid)")
        }
        OrderPlan::Hold { channel, number } => format!("{channel} order {number}: would be held"),
    }
}

/// The one line a pass leaves in the cron log.
fn summary(report: &PassReport, dry_run: bool) -> String {
    let mut parts = Vec::new();
    for s in &report.steps {
        let sent = s.counts.get(Count::Sent);
        let what = match (s.step, &s.error) {
            (StepName::Email, Some(_)) => "emails: FAILED".to_string(),
            (StepName::Email, None) if sent > 0 => format!("{sent} emails sent"),
            // Quiet about steps with nothing to say: the line stays short under cron.
            (StepName::Email, None) => continue,
            (StepName::Products, None) if !s.counts.contains(Count::Listings) => continue,
            (StepName::Fulfilment, None) if s.counts.words().values().all(|n| *n == 0) => continue,
            (step, error) => {
                let label = if s.channel.is_empty() {
                    "shopify".to_string()
                } else {
                    format!("{} {}", s.channel, step.as_str())
                };
                let phrase = match error {
                    Some(_) => "FAILED".to_string(),
                    None => output::step_phrase(step.as_str(), &s.counts.words()),
                };
                format!("{label}: {phrase}")
            }
        };
        parts.push(what);
    }
    parts.extend(
        report
            .resetting
            .iter()
            .map(|c| format!("{c}: paused (product reset in progress)")),
    );
    format!(
        "sync{} {} in {:.1}s, {} requests: {}",
        if dry_run { " --dry-run" } else { "" },
        match report.stopped {
            Some(signal) => format!("STOPPED by {}", crate::stop::name(&signal)),
            None if report.failed() => "FAILED".into(),
            None => "ok".into(),
        },
        report.duration.as_secs_f64(),
        report.total_requests(),
        parts.join("; ")
    )
}
