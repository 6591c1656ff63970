//! `skubridge report --html FILE`: the dashboard page, one self-contained HTML file a
//! merchant opens in a browser. It is written after every run that changed the store
//! when the config has `[report] html = "PATH"`.
//!
//! Here the figures are gathered (database and lock files only: no API calls, so it runs
//! beside a pass); [`html`] renders them, pure. The health, the last and next pass, the
//! pause and every per-channel count are `status`'s own ([`status::gather`]), and the
//! listings that do not sync are `unmatched`'s own rows ([`unmatched::find`]): the page
//! never disagrees with either.

mod html;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::status::{self, Pass, Status};
use super::{unmatched, Ctx};
use crate::db::fulfilments::{self, PushState};
use crate::db::orders::{self, Filter, OrderRow, State};
use crate::db::runs::{self, RunRow};
use crate::db::stock::{self, Refused};
use crate::db::Db;
use crate::engine::unmatched::{ListingProblem, VariantProblem};
use crate::notify::{self, Queued};

/// Sync passes drawn in the chart.
const CHART_PASSES: usize = 50;

/// Runs (of any command) listed in the table under the chart.
const TABLE_RUNS: usize = 10;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the page
    #[arg(long, value_name = "FILE")]
    html: PathBuf,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    write_html(ctx, &args.html)?;
    Ok(crate::exit::OK)
}

/// Gathers the figures and writes the page to `path` whole: a reader (a browser, a web
/// server serving the file) never sees half of one.
pub fn write_html(ctx: &Ctx, path: &Path) -> Result<()> {
    let page = html::render(&gather(ctx)?);
    super::outputs::write_atomically(path, page.as_bytes())
        .with_context(|| format!("writing the dashboard page {}", path.display()))
}

// ---- the figures ----------------------------------------------------------------

/// Everything the page shows.
#[derive(Debug)]
pub struct Dashboard {
    /// `shopify.shop`.
    pub shop: String,
    /// `status`'s figures; `status.now` is when the page was generated.
    pub status: Status,
    /// The last sync passes (not dry runs), oldest first: the chart.
    pub passes: Vec<Pass>,
    /// The last runs of any command (not dry runs), newest first: the table.
    pub runs: Vec<Run>,
    /// In the config's order, one per `status.channels` entry.
    pub channels: Vec<ChannelPage>,
    /// Shopify variants no listing can match (duplicate or missing SKU).
    pub variants: Vec<VariantProblem>,
    /// Emails waiting in the outbox, oldest first.
    pub outbox: Vec<Queued>,
}

#[derive(Debug)]
pub struct Run {
    /// `sync`, `fulfil`, `reset-products`.
    pub command: String,
    pub pass: Pass,
}

/// What waits on a person for one channel, beyond `status`'s counts.
#[derive(Debug, Default)]
pub struct ChannelPage {
    pub name: String,
    /// Its endpoint, account or environment differ from when its products were
    /// matched: passes leave it out until it is reset.
    pub environment_changed: bool,
    /// No listings stored: no product sync has read the channel yet.
    pub never_synced: bool,
    /// For a channel that cannot list its catalogue, what can be known.
    pub unlisted: Option<String>,
    /// The listings that do not sync, as `skubridge unmatched` lists them.
    pub unmatched: Vec<ListingProblem>,
    /// Held, refused by Shopify, or changed after import; newest first.
    pub orders: Vec<OrderRow>,
    pub fulfilment_errors: Vec<FulfilmentError>,
    pub refused: Vec<Refused>,
}

#[derive(Debug)]
pub struct FulfilmentError {
    /// The channel's order number (its id when the order is not stored).
    pub order: String,
    pub reason: String,
    pub attempted_at: String,
}

fn gather(ctx: &Ctx) -> Result<Dashboard> {
    let status = status::gather(ctx)?;
    let db = &ctx.db;

    let mut passes: Vec<Pass> = runs::recent(db, Some("sync"), CHART_PASSES)?
        .into_iter()
        .enumerate()
        .map(|(i, (command, row))| judge(&status, &command, &row, i == 0))
        .collect::<Result<_>>()?;
    passes.reverse();
    let mut newest = Vec::new();
    let runs = runs::recent(db, None, TABLE_RUNS)?
        .into_iter()
        .map(|(command, row)| {
            let first = !newest.contains(&command);
            newest.push(command.clone());
            let pass = judge(&status, &command, &row, first)?;
            Ok(Run { command, pass })
        })
        .collect::<Result<_>>()?;

    let names: Vec<&str> = status.channels.iter().map(|c| c.channel.as_str()).collect();
    let found = unmatched::find(ctx, &names)?;
    let mut pages = Vec::new();
    for (name, channel) in names.iter().zip(&status.channels) {
        let mut orders = Vec::new();
        for state in [State::Held, State::Failed, State::ItemsChanged] {
            orders.extend(orders::list(
                db,
                &Filter {
                    channel: Some(name),
                    state: Some(state),
                    since: None,
                },
            )?);
        }
        orders.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        pages.push(ChannelPage {
            name: name.to_string(),
            environment_changed: channel.environment_changed,
            never_synced: found.never.contains(name),
            unlisted: found
                .unlisted
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| s.clone()),
            unmatched: found
                .report
                .listings
                .iter()
                .filter(|p| p.channel == *name)
                .cloned()
                .collect(),
            orders,
            fulfilment_errors: fulfilment_errors(db, name)?,
            refused: stock::refused(db, name)?,
        });
    }
    Ok(Dashboard {
        shop: ctx.cfg.shopify.shop.clone(),
        variants: found.report.variants,
        outbox: notify::queued(db)?,
        passes,
        runs,
        channels: pages,
        status,
    })
}

/// A run as `status` judges it: the last pass exactly as `status` shows it, and a run
/// without an end is still running only when it is its command's newest and that
/// command holds the lock (a reset of one channel holds that channel's lock).
fn judge(status: &Status, command: &str, row: &RunRow, newest: bool) -> Result<Pass> {
    if let Some(last) = status.last_pass.as_ref().filter(|p| p.run_id == row.id) {
        return Ok(last.clone());
    }
    let holds = status.lock_purpose.as_deref() == Some(command)
        || (command == crate::lock::RESET_PURPOSE
            && status
                .channels
                .iter()
                .any(|c| c.reset_in_progress_since.is_some()));
    status::pass(row, newest && holds, &status.steps)
}

/// The channel's failed fulfilment pushes (what `status` counts), oldest first, by
/// the order number people know.
fn fulfilment_errors(db: &Db, channel: &str) -> Result<Vec<FulfilmentError>> {
    let mut out = Vec::new();
    for f in fulfilments::in_state(db, channel, PushState::Failed)? {
        let order = orders::get(db, channel, &f.order_id)?.map_or(f.order_id, |o| o.number);
        out.push(FulfilmentError {
            order,
            reason: f.reason.unwrap_or_default(),
            attempted_at: f.attempted_at,
        });
    }
    Ok(out)
}
