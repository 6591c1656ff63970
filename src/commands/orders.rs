//! `skubridge orders`: every channel order skubridge has seen and what became of it in
//! Shopify, or `--summary month` totals. Reads the database only: no API calls, and it
//! runs alongside a pass.

use std::collections::BTreeMap;
use std::io::{self, Write};

use anyhow::{Context, Result};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use serde::Serialize;

use super::Ctx;
use crate::db::fulfilments;
use crate::db::orders::{self, Filter, OrderRow, State};
use crate::engine::orders::difference;
use crate::exit::{UsageError, OK};
use crate::money::Money;
use crate::output::Format;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Summary {
    /// Orders and value per month (of the channel order date) and channel
    Month,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only orders in this state
    #[arg(long, value_enum, value_name = "STATE")]
    state: Option<State>,

    /// Only orders created on the channel on or after this date (2026-11-01, or an
    /// RFC 3339 time)
    #[arg(long, value_name = "DATE")]
    since: Option<String>,

    /// Only this channel (its `name` in the config)
    #[arg(long, value_name = "NAME")]
    channel: Option<String>,

    /// Output format (example: --format csv > orders.csv)
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Totals instead of one row per order
    #[arg(long, value_enum)]
    summary: Option<Summary>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let channel = match args.channel.as_deref() {
        Some(wanted) => Some(ctx.channels(Some(wanted))?[0]),
        None => None,
    };
    let since = args.since.as_deref().map(since_bound).transpose()?;
    let rows = orders::list(
        &ctx.db,
        &Filter {
            channel,
            state: args.state,
            since: since.as_deref(),
        },
    )?;
    let sent = fulfilments::tracking_sent(&ctx.db)?;
    let tracking = |r: &OrderRow| {
        sent.get(&(r.channel.clone(), r.order_id.clone()))
            .map(|numbers| numbers.join(" "))
            .unwrap_or_default()
    };
    let text = match (args.summary, args.format) {
        (Some(Summary::Month), format) => render_months(&months(&rows), format)?,
        (None, Format::Table) => table(&rows, &tracking),
        (None, Format::Json) => {
            let list: Vec<JsonOrder<'_>> = rows
                .iter()
                .map(|r| JsonOrder::new(r, tracking(r)))
                .collect();
            serde_json::to_string_pretty(&list)? + "\n"
        }
        (None, Format::Csv) => csv(&rows, &tracking)?,
    };
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing the orders to stdout")?;
    Ok(OK)
}

/// `2026-11-01` (midnight UTC) or an RFC 3339 time, as the stored form compares.
fn since_bound(text: &str) -> Result<String, UsageError> {
    let parsed = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .or_else(|| crate::clock::parse(text));
    parsed.map(crate::clock::rfc3339).ok_or_else(|| {
        UsageError(format!(
            "--since {text}: not a date like 2026-11-01 or an RFC 3339 time"
        ))
    })
}

/// Shopify's total minus the channel's, signed, when they differ.
fn value_difference(r: &OrderRow) -> Option<Money> {
    difference(r.shopify_total.as_deref(), r.channel_total.as_deref())
}

/// What a person needs next to the state: adopted from another install, edited in
/// Shopify after import.
fn flags(r: &OrderRow) -> String {
    let mut f = Vec::new();
    if r.adopted {
        f.push("found in Shopify (another install?)");
    }
    if r.edited_at.is_some() {
        f.push("edited in Shopify after import");
    }
    f.join("; ")
}

fn day(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}

fn minute(t: &str) -> String {
    t.get(..16).unwrap_or(t).replacen('T', " ", 1)
}

/// `tracking`: the tracking numbers the order's channel confirmed, space-separated.
fn table(rows: &[OrderRow], tracking: &dyn Fn(&OrderRow) -> String) -> String {
    if rows.is_empty() {
        return "No orders.\n".into();
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "Channel",
        "Order",
        "Shopify",
        "State",
        "Created (UTC)",
        "Imported (UTC)",
        "Value",
        "Difference",
        "Tracking sent",
        "Reason / notes",
    ]);
    for r in rows {
        let notes = [r.reason.clone().unwrap_or_default(), flags(r)]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        t.add_row(vec![
            r.channel.clone(),
            r.number.clone(),
            r.shopify_name.clone().unwrap_or_default(),
            r.state.as_str().to_string(),
            minute(&r.created_at),
            r.imported_at.as_deref().map(minute).unwrap_or_default(),
            shown_value(r),
            value_difference(r)
                .map(|d| format!("{d:+}"))
                .unwrap_or_default(),
            tracking(r),
            notes,
        ]);
    }
    for col in [6, 7] {
        if let Some(c) = t.column_mut(col) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let n = rows.len();
    format!("{t}\n{n} order{}\n", if n == 1 { "" } else { "s" })
}

/// The Shopify total once imported, else what the channel says the customer paid.
fn shown_value(r: &OrderRow) -> String {
    let amount = r
        .shopify_total
        .as_deref()
        .or(r.value.as_deref())
        .or(r.channel_total.as_deref());
    match (amount, r.currency.as_deref()) {
        (Some(a), Some(c)) => format!("{c} {a}"),
        (Some(a), None) => a.to_string(),
        _ => String::new(),
    }
}

/// One order for scripts: stable field names, decimals as strings, RFC 3339 times.
#[derive(Serialize)]
struct JsonOrder<'a> {
    channel: &'a str,
    order_id: &'a str,
    order_number: &'a str,
    state: State,
    reason: Option<&'a str>,
    shopify_order_id: Option<&'a str>,
    shopify_order_name: Option<&'a str>,
    created_at: &'a str,
    imported_at: Option<&'a str>,
    currency: Option<&'a str>,
    value: Option<&'a str>,
    channel_total: Option<&'a str>,
    shopify_total: Option<&'a str>,
    difference: Option<String>,
    adopted: bool,
    edited_in_shopify_at: Option<&'a str>,
    /// The tracking numbers the channel confirmed, space-separated.
    tracking_sent: String,
}

impl<'a> JsonOrder<'a> {
    fn new(r: &'a OrderRow, tracking_sent: String) -> Self {
        JsonOrder {
            tracking_sent,
            channel: &r.channel,
            order_id: &r.order_id,
            order_number: &r.number,
            state: r.state,
            reason: r.reason.as_deref(),
            shopify_order_id: r.shopify_id.as_deref(),
            shopify_order_name: r.shopify_name.as_deref(),
            created_at: &r.created_at,
            imported_at: r.imported_at.as_deref(),
            currency: r.currency.as_deref(),
            value: r.value.as_deref(),
            channel_total: r.channel_total.as_deref(),
            shopify_total: r.shopify_total.as_deref(),
            difference: value_difference(r).map(|d| d.to_string()),
            adopted: r.adopted,
            edited_in_shopify_at: r.edited_at.as_deref(),
        }
    }
}

fn csv(rows: &[OrderRow], tracking: &dyn Fn(&OrderRow) -> String) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "channel",
        "order_number",
        "order_id",
        "shopify_order",
        "state",
        "created_at",
        "imported_at",
        "currency",
        "value",
        "channel_total",
        "difference",
        "tracking_sent",
        "reason",
        "notes",
    ])?;
    for r in rows {
        w.write_record([
            r.channel.as_str(),
            &r.number,
            &r.order_id,
            r.shopify_name.as_deref().unwrap_or(""),
            r.state.as_str(),
            day(&r.created_at),
            r.imported_at.as_deref().map(day).unwrap_or(""),
            r.currency.as_deref().unwrap_or(""),
            r.shopify_total
                .as_deref()
                .or(r.value.as_deref())
                .unwrap_or(""),
            r.channel_total.as_deref().unwrap_or(""),
            &value_difference(r)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            &tracking(r),
            r.reason.as_deref().unwrap_or(""),
            &flags(r),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// Per month, channel and currency: orders seen, imported, and the imported value.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
struct Month {
    month: String,
    channel: String,
    currency: String,
    orders: u64,
    imported: u64,
    held: u64,
    value: Money,
}

fn months(rows: &[OrderRow]) -> Vec<Month> {
    let mut by: BTreeMap<(String, String, String), Month> = BTreeMap::new();
    for r in rows {
        let month = r.created_at.get(..7).unwrap_or(&r.created_at).to_string();
        let currency = r.currency.clone().unwrap_or_default();
        let m = by
            .entry((month.clone(), r.channel.clone(), currency.clone()))
            .or_insert_with(|| Month {
                month,
                channel: r.channel.clone(),
                currency,
                ..Month::default()
            });
        m.orders += 1;
        match r.state {
            State::Imported => {
                m.imported += 1;
                let v = r.shopify_total.as_deref().or(r.value.as_deref());
                m.value = m.value + v.and_then(|v| v.parse().ok()).unwrap_or(Money::ZERO);
            }
            State::Held | State::Failed | State::Pending | State::Accepted | State::Creating => {
                m.held += 1
            }
            State::ItemsChanged | State::Cancelled => {}
        }
    }
    by.into_values().collect()
}

fn render_months(months: &[Month], format: Format) -> Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(months)? + "\n",
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "month", "channel", "currency", "orders", "imported", "held", "value",
            ])?;
            for m in months {
                w.write_record([
                    m.month.clone(),
                    m.channel.clone(),
                    m.currency.clone(),
                    m.orders.to_string(),
                    m.imported.to_string(),
                    m.held.to_string(),
                    m.value.to_string(),
                ])?;
            }
            String::from_utf8(w.into_inner()?)?
        }
        Format::Table => {
            if months.is_empty() {
                return Ok("No orders.\n".into());
            }
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
                "Month",
                "Channel",
                "Orders",
                "Imported",
                "Not imported yet",
                "Imported value",
            ]);
            for m in months {
                t.add_row(vec![
                    m.month.clone(),
                    m.channel.clone(),
                    m.orders.to_string(),
                    m.imported.to_string(),
                    m.held.to_string(),
                    format!("{} {}", m.currency, m.value),
                ]);
            }
            for col in 2..6 {
                if let Some(c) = t.column_mut(col) {
                    c.set_cell_alignment(CellAlignment::Right);
                }
            }
            format!("{t}\n")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(created: &str, state: State, total: Option<&str>) -> OrderRow {
        OrderRow {
            channel: "iconic".into(),
            order_id: "1".into(),
            number: "300001".into(),
            state,
            reason: None,
            created_at: created.into(),
            first_seen_at: created.into(),
            attempt_at: None,
            imported_at: None,
            shopify_id: None,
            shopify_name: None,
            adopted: false,
            currency: Some("AUD".into()),
            value: total.map(String::from),
            channel_total: Some("10.00".into()),
            shopify_total: total.map(String::from),
            watching: true,
            edited_at: None,
            updated_at: created.into(),
        }
    }

    #[test]
    fn months_count_orders_and_sum_imported_value_exactly() {
        let rows = [
            row("2026-10-31T23:59:00.000Z", State::Imported, Some("0.10")),
            row("2026-11-01T00:00:00.000Z", State::Imported, Some("0.10")),
            row("2026-11-02T00:00:00.000Z", State::Imported, Some("0.20")),
            row("2026-11-03T00:00:00.000Z", State::Held, None),
        ];
        let m = months(&rows);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].month.as_str(), m[0].orders), ("2026-10", 1));
        assert_eq!((m[1].orders, m[1].imported, m[1].held), (3, 2, 1));
        assert_eq!(m[1].value.to_string(), "0.30");
    }

    #[test]
    fn since_takes_a_day_or_a_time() {
        assert_eq!(
            since_bound("2026-11-01").unwrap(),
            "2026-11-01T00:00:00.000Z"
        );
        assert_eq!(
            since_bound("2026-11-01T10:00:00+10:00").unwrap(),
            "2026-11-01T00:00:00.000Z"
        );
        assert!(since_bound("November").is_err());
    }

    #[test]
    fn differences_are_signed() {
        let mut r = row("2026-11-01T00:00:00.000Z", State::Imported, Some("9.95"));
        assert_eq!(
            value_difference(&r).map(|d| format!("{d:+}")),
            Some("-0.05".into())
        );
        r.shopify_total = Some("10".into());
        assert_eq!(value_difference(&r), None);
    }
}
