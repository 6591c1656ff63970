//! `skubridge sync`: one pass, as cron runs it.

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
        print!("{}", output::plan_tables(&report.plans));
    }
    info!("{}", summary(&report, args.dry_run));
    Ok(if report.failed() { FAILED } else { OK })
}

/// The one line a pass leaves in the cron log.
fn summary(report: &PassReport, dry_run: bool) -> String {
    let mut parts = Vec::new();
    for s in &report.steps {
        let get = |k| s.counts.get(k).copied().unwrap_or(0);
        let what = match (s.step, &s.error) {
            (_, Some(_)) => "FAILED".to_string(),
            // Matching ran: a merchant wants to see how much of the channel syncs.
            ("products", _) if s.counts.contains_key("listings") => format!(
                "matched {} of {} listings ({} without a Shopify variant, {} duplicate, {} untracked, {} inactive)",
                get("matched"),
                get("listings"),
                get("unmatched"),
                get("duplicate"),
                get("untracked"),
                get("inactive")
            ),
            ("products", _) => continue,
            ("shopify_read", _) if s.counts.contains_key("variants") => format!(
                "full read ({} variants, {} levels)",
                get("variants"),
                get("levels")
            ),
            ("shopify_read", _) if get("full") == 1 => "full read".to_string(),
            ("shopify_read", _) => format!("{} levels changed", get("levels")),
            ("orders", _) => {
                let mut what: Vec<String> = [
                    ("imported", "imported"),
                    ("would_create", "to create"),
                    ("adopted", "already in Shopify"),
                    ("held", "held"),
                    ("failed", "refused by Shopify"),
                    ("waiting", "waiting"),
                    ("items_changed", "changed after import"),
                    ("cancelled", "cancelled"),
                    ("edited", "edited in Shopify"),
                ]
                .iter()
                .filter(|(k, _)| get(k) > 0)
                .map(|(k, label)| format!("{} {label}", get(k)))
                .collect();
                if what.is_empty() {
                    what.push("nothing new".into());
                }
                what.join(", ")
            }
            ("stock", _) if dry_run => format!("{} to push", get("planned")),
            ("stock", _) => format!(
                "{} pushed, {} refused, {} failed{}",
                get("pushed"),
                get("refused"),
                get("failed"),
                if get("full") == 1 { " (reconcile)" } else { "" }
            ),
            _ => continue,
        };
        let label = if s.channel.is_empty() {
            "shopify".to_string()
        } else {
            format!("{} {}", s.channel, s.step)
        };
        parts.push(format!("{label}: {what}"));
    }
    if let Some(e) = report.emails.as_ref().filter(|e| e.sent > 0) {
        parts.push(format!("{} emails sent", e.sent));
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
