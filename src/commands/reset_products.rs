//! `skubridge reset-products`: re-match every SKU from scratch. A reset of every channel
//! holds the run lock for its whole length, so `sync` exits 75 ("product reset in
//! progress since …") meanwhile; a reset of one channel (`--channel`) pauses only that
//! channel's sync until it writes its matches.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::Table;

use super::Ctx;
use crate::engine::Engine;
use crate::exit::{UsageError, FAILED, OK};
use crate::lock;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Reset only this channel (default: every channel)
    #[arg(long, value_name = "NAME")]
    pub channel: Option<String>,

    /// Don't ask for confirmation (required when not run from a terminal)
    #[arg(long)]
    yes: bool,
}

/// Checked before the lock is taken, so a refused reset never blocks a sync.
pub fn confirm(args: &Args) -> Result<()> {
    if args.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "reset-products re-reads both catalogs and pauses sync while it runs; pass --yes to run it unattended".into(),
        )
        .into());
    }
    eprint!(
        "Re-match every SKU of {} from scratch? Stock sync pauses until it finishes. [y/N] ",
        args.channel.as_deref().unwrap_or("every channel")
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(UsageError("reset-products cancelled".into()).into())
    }
}

/// A reset of every channel holds the run lock from the start. A reset of one channel
/// holds that channel's lock (`sync` leaves the channel out and syncs the others),
/// reads its listings, then takes the run lock to read Shopify and write the matches.
pub async fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let only = ctx.channels(args.channel.as_deref())?;
    let reporter = output::Progress::new(ctx.interactive);
    let engine = Engine::new(&ctx.cfg, &ctx.db, ctx.clock, &reporter);
    let failed = |e: anyhow::Error| {
        tracing::error!("product reset failed: {e:#}; the previous matches are unchanged");
        Ok(FAILED)
    };
    let mut staged = Vec::new();
    let mut _run_lock = None;
    if let Some(channel) = args.channel.as_deref() {
        match engine.reset_listings(channel).await {
            Ok(true) => staged.push(channel),
            Ok(false) => {}
            Err(e) => return failed(e),
        }
        // A pass running now finishes within its budget.
        let patience = ctx.cfg.schedule.pass_budget;
        _run_lock = Some(ctx.run_lock(lock::RESET_PURPOSE, patience)?);
    }
    let results = match engine.reset_products(&only, &staged).await {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "Channel",
        "Listings",
        "Matched",
        "Unmatched",
        "Duplicate",
        "No SKU",
        "Untracked",
        "Inactive",
    ]);
    for (name, c) in &results {
        use crate::engine::Count::*;
        let mut row = vec![name.clone()];
        row.extend(
            [
                Listings, Matched, Unmatched, Duplicate, NoSku, Untracked, Inactive,
            ]
            .map(|k| c.get(k).to_string()),
        );
        t.add_row(row);
    }
    println!("Product reset complete.\n{t}");
    println!("The next `skubridge sync` pushes every matched SKU's stock again; `skubridge unmatched` lists what does not sync and why.");
    Ok(OK)
}
