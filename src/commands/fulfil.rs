//! `skubridge fulfil`: push Shopify fulfilments to the channels now (the fulfilment
//! step of a pass, alone), and print what happened to each.

use anyhow::Result;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::Table;
use tracing::info;

use super::Ctx;
use crate::db::orders;
use crate::engine::{Engine, FulfilAction, FulfilOptions, Silent};
use crate::exit::{UsageError, FAILED, OK};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this channel order (its number, as `skubridge orders` shows it), whatever
    /// was pushed before; skipped fulfilments are listed with the reason
    #[arg(long, value_name = "CHANNEL_ORDER")]
    order: Option<String>,

    /// Push failed fulfilments again even if nothing changed in Shopify (after fixing
    /// [channel.carriers], for example)
    #[arg(long)]
    retry_failed: bool,

    /// Show what would be pushed; change nothing
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    if let Some(number) = args.order.as_deref() {
        let mut known = false;
        for c in &ctx.cfg.channels {
            known |= orders::by_number(&ctx.db, &c.name, number)?.is_some();
        }
        if !known {
            return Err(UsageError(format!(
                "--order {number}: skubridge has seen no channel order with this number; `skubridge orders` lists them"
            ))
            .into());
        }
    }
    let engine = Engine::new(&ctx.cfg, &ctx.db, ctx.clock, &Silent);
    let report = engine
        .run_fulfil(
            FulfilOptions {
                dry_run: args.dry_run,
                retry_failed: args.retry_failed,
            },
            args.order.as_deref(),
        )
        .await?;
    print!("{}", table(&report.fulfilments));
    let errors: Vec<String> = report
        .steps
        .iter()
        .filter_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.channel)))
        .collect();
    for e in &errors {
        eprintln!("error: {e}");
    }
    info!(
        "fulfil{} {} in {:.1}s, {} requests",
        if args.dry_run { " --dry-run" } else { "" },
        if report.failed() { "FAILED" } else { "ok" },
        report.duration.as_secs_f64(),
        report.total_requests()
    );
    Ok(if report.failed() { FAILED } else { OK })
}

fn table(actions: &[FulfilAction]) -> String {
    if actions.is_empty() {
        return "No fulfilments to push.\n".into();
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "Channel",
        "Order",
        "Shopify",
        "Items",
        "Carrier",
        "Channel carrier",
        "Tracking number",
        "Result",
        "Detail",
    ]);
    for a in actions {
        t.add_row(vec![
            a.channel.clone(),
            a.order_number.clone(),
            a.shopify_order.clone(),
            a.items.to_string(),
            a.carrier.clone().unwrap_or_default(),
            a.channel_carrier.clone().unwrap_or_default(),
            a.tracking_number.clone().unwrap_or_default(),
            a.result.as_str().to_string(),
            a.detail.clone(),
        ]);
    }
    format!("{t}\n")
}
