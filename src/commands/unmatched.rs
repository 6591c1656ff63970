//! `skubridge unmatched`: every active channel listing that does not sync (and every
//! inactive one the channel says why it keeps off sale), why, and near-miss hints; then the Shopify variants no listing can match. It reads only what
//! the last product sync stored, so it runs alongside a pass and costs no API calls.
//!
//! A channel that cannot list its catalogue is offered Shopify's SKUs: for it, the
//! report shows the Shopify side's problems and the SKUs its orders held that no
//! variant has, and says that nothing more can be known.

use std::io::{self, Write};

use anyhow::{Context, Result};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::Table;
use serde::Serialize;
use tracing::warn;

use super::Ctx;
use crate::channel::{Listing, ListingsRead};
use crate::db::{catalog, orders};
use crate::engine::unmatched::{self, Report, VariantProblem};
use crate::exit::{UsageError, OK};
use crate::output::Format;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this channel (its `name` in the config; example: --channel iconic)
    #[arg(long, value_name = "NAME")]
    channel: Option<String>,

    /// Output format (example: --format csv > unmatched.csv)
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let selected = ctx.channels(args.channel.as_deref())?;
    let found = find(ctx, &selected)?;
    if found.never.len() == selected.len() {
        return Err(UsageError(format!(
            "no product sync has happened yet ({} has no listings stored): run `skubridge sync` first",
            found.never.join(", ")
        ))
        .into());
    }
    for name in &found.never {
        warn!(
            "{name}: no listings stored yet (no product sync has happened); run `skubridge sync`"
        );
    }
    let report = found.report;
    let unlisted: Vec<String> = found.unlisted.into_iter().map(|(_, s)| s).collect();
    let text = match args.format {
        Format::Table => table(&report) + &unlisted.join(""),
        Format::Json => json(&report)?,
        Format::Csv => csv(&report)?,
    };
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing the report to stdout")?;
    Ok(OK)
}

/// What the report knows about some channels: `unmatched` and the dashboard page
/// (`report --html`) show these same rows.
pub struct Found<'a> {
    /// The listings that do not sync (with, for a channel that cannot list its
    /// catalogue, the SKUs its orders held that no variant has), then the Shopify
    /// variants no listing can match.
    pub report: Report,
    /// Channels with no listings stored yet: no product sync has happened.
    pub never: Vec<&'a str>,
    /// Each channel that cannot list its catalogue, with the sentence saying so.
    pub unlisted: Vec<(&'a str, String)>,
}

/// The report over `selected` channels, from what the last product sync stored.
pub fn find<'a>(ctx: &Ctx, selected: &[&'a str]) -> Result<Found<'a>> {
    let mut stored: Vec<(&str, Vec<Listing>)> = Vec::new();
    let mut never: Vec<&str> = Vec::new();
    for &name in selected {
        let listings = catalog::listings(&ctx.db, name)?;
        if listings.is_empty() {
            never.push(name);
        } else {
            stored.push((name, listings));
        }
    }
    let variants = catalog::variants(&ctx.db)?;
    let channels: Vec<(&str, &[Listing])> =
        stored.iter().map(|(n, l)| (*n, l.as_slice())).collect();
    let mut report = unmatched::report(&variants, &channels);
    let mut unlisted = Vec::new();
    for (name, _) in &stored {
        if let Some(offer) = unlisted_offer(ctx, name) {
            let ordered = orders::ordered_skus(&ctx.db, name)?;
            report
                .listings
                .extend(unmatched::ordered_problems(&variants, name, &ordered));
            unlisted.push((*name, offer));
        }
    }
    Ok(Found {
        report,
        never,
        unlisted,
    })
}

/// For a channel that cannot list its catalogue, the sentence saying so and what it is
/// offered; `None` for the others.
fn unlisted_offer(ctx: &Ctx, name: &str) -> Option<String> {
    let cfg = ctx.cfg.channels.iter().find(|c| c.name == name)?;
    // Only asked what it can do: no request is made.
    let client = cfg.settings.connect(1, reqwest::Client::new());
    if client.capabilities().listings != ListingsRead::None {
        return None;
    }
    let of_products = match client.offered_tag() {
        Some(tag) => format!(" of a product tagged {tag:?}"),
        None => String::new(),
    };
    Some(format!(
        "{name} cannot list its catalogue: it is offered every Shopify variant{of_products} that is tracked and has a unique SKU, and ignores the SKUs it does not sell. The rows above are what can be known: Shopify's side, and SKUs its orders held that no variant has.\n"
    ))
}

fn variant_sku(v: &VariantProblem) -> &str {
    v.sku.as_deref().unwrap_or("")
}

fn table(r: &Report) -> String {
    let mut out = String::new();
    if !r.listings.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
            "Channel",
            "Product id",
            "SKU",
            "Reason",
            "Hint",
        ]);
        for p in &r.listings {
            t.add_row(vec![
                p.channel.clone(),
                p.product_id.clone(),
                unmatched::shown(&p.sku),
                p.reason_text(),
                p.hint().unwrap_or_default(),
            ]);
        }
        out.push_str(&format!("Channel listings that do not sync\n{t}\n"));
    }
    if !r.variants.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
            "Variant id",
            "Product id",
            "SKU",
            "Problem",
        ]);
        for v in &r.variants {
            t.add_row(vec![
                v.variant_id.clone(),
                v.product_id.clone(),
                unmatched::shown(variant_sku(v)),
                v.issue.to_string(),
            ]);
        }
        out.push_str(&format!("Shopify variants no listing can match\n{t}\n"));
    }
    out.push_str(&summary(r));
    out.push('\n');
    out
}

fn summary(r: &Report) -> String {
    let hinted = r
        .listings
        .iter()
        .filter(|p| !p.near_misses.is_empty())
        .count();
    format!(
        "{} ({hinted} with a near-miss hint); {} with a duplicate or missing SKU",
        count(
            r.listings.len(),
            "active listing does not sync",
            "active listings do not sync"
        ),
        count(r.variants.len(), "Shopify variant", "Shopify variants"),
    )
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[derive(Serialize)]
struct JsonReport<'a> {
    listings: Vec<JsonListing<'a>>,
    shopify_variants: Vec<JsonVariant<'a>>,
}

#[derive(Serialize)]
struct JsonListing<'a> {
    channel: &'a str,
    product_id: &'a str,
    sku: &'a str,
    reason: &'static str,
    reason_text: String,
    hint: Option<String>,
    near_misses: Vec<JsonNearMiss<'a>>,
}

#[derive(Serialize)]
struct JsonNearMiss<'a> {
    shopify_sku: &'a str,
    differences: Vec<String>,
}

#[derive(Serialize)]
struct JsonVariant<'a> {
    variant_id: &'a str,
    product_id: &'a str,
    sku: Option<&'a str>,
    problem: &'static str,
    problem_text: String,
}

/// One line of JSON: exact SKUs, with invisible characters written as `\uXXXX` escapes.
fn json(r: &Report) -> Result<String> {
    let doc = JsonReport {
        listings: r
            .listings
            .iter()
            .map(|p| JsonListing {
                channel: &p.channel,
                product_id: &p.product_id,
                sku: &p.sku,
                reason: p.reason.code(),
                reason_text: p.reason_text(),
                hint: p.hint(),
                near_misses: p
                    .near_misses
                    .iter()
                    .map(|n| JsonNearMiss {
                        shopify_sku: &n.shopify_sku,
                        differences: n.differences.iter().map(ToString::to_string).collect(),
                    })
                    .collect(),
            })
            .collect(),
        shopify_variants: r
            .variants
            .iter()
            .map(|v| JsonVariant {
                variant_id: &v.variant_id,
                product_id: &v.product_id,
                sku: v.sku.as_deref(),
                problem: v.issue.code(),
                problem_text: v.issue.to_string(),
            })
            .collect(),
    };
    let mut buf = Vec::new();
    doc.serialize(&mut serde_json::Serializer::with_formatter(
        &mut buf,
        EscapeHidden,
    ))?;
    buf.push(b'\n');
    Ok(String::from_utf8(buf)?)
}

/// serde_json's compact output, with every `hidden` character escaped.
struct EscapeHidden;

impl serde_json::ser::Formatter for EscapeHidden {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment
            .char_indices()
            .filter(|&(_, c)| unmatched::is_hidden(c))
        {
            writer.write_all(&fragment.as_bytes()[start..i])?;
            for unit in c.encode_utf16(&mut [0; 2]) {
                write!(writer, "\\u{unit:04X}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Listing problems, then Shopify variant problems; `product_id` is the channel's for a
/// listing and Shopify's for a variant.
fn csv(r: &Report) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "kind",
        "channel",
        "product_id",
        "variant_id",
        "sku",
        "reason",
        "reason_text",
        "hint",
    ])?;
    for p in &r.listings {
        w.write_record([
            "listing",
            &p.channel,
            &p.product_id,
            "",
            &cell(&unmatched::shown(&p.sku)),
            p.reason.code(),
            &p.reason_text(),
            &cell(&p.hint().unwrap_or_default()),
        ])?;
    }
    for v in &r.variants {
        w.write_record([
            "shopify_variant",
            "",
            &v.product_id,
            &v.variant_id,
            &cell(&unmatched::shown(variant_sku(v))),
            v.issue.code(),
            &v.issue.to_string(),
            "",
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes)?)
}

/// A spreadsheet runs a cell starting with `=`, `+`, `-` or `@` as a formula; a leading
/// apostrophe makes it text (the OWASP advice for CSV that people open).
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::unmatched::{Difference, ListingProblem, NearMiss, Reason, VariantIssue};

    /// Any hidden character other than the line ends.
    fn shows_raw(text: &str) -> bool {
        text.lines().any(|l| l.chars().any(unmatched::is_hidden))
    }

    fn sample() -> Report {
        Report {
            listings: vec![ListingProblem {
                channel: "iconic".into(),
                product_id: "501".into(),
                sku: "AB\u{200B}C_1 ".into(),
                reason: Reason::NoVariant,
                channel_says: None,
                near_misses: vec![
                    NearMiss {
                        shopify_sku: "ABC-1".into(),
                        differences: vec![
                            Difference::Separator('_', '-'),
                            Difference::Trailing(' '),
                            Difference::Invisible('\u{200B}'),
                        ],
                    },
                    NearMiss {
                        shopify_sku: "abc_1".into(),
                        differences: vec![Difference::Case],
                    },
                ],
            }],
            variants: vec![VariantProblem {
                variant_id: "gid://shopify/ProductVariant/9".into(),
                product_id: "gid://shopify/Product/1".into(),
                sku: Some("\u{A0}X".into()),
                issue: VariantIssue::DuplicateSku(2),
            }],
        }
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("AB-1"), "AB-1");
    }

    #[test]
    fn skus_are_shown_escaped() {
        assert_eq!(
            unmatched::shown(" A\u{A0}B "),
            "\\u{0020}A\\u{00A0}B\\u{0020}"
        );
        assert_eq!(
            unmatched::shown("A\u{FE0F}\u{E0041}"),
            "A\\u{FE0F}\\u{E0041}"
        );
        assert_eq!(
            unmatched::shown("A\\u{20}"),
            "A\\u{20}",
            "a literal backslash stays"
        );
    }

    #[test]
    fn the_hint_names_every_near_miss() {
        assert_eq!(
            sample().listings[0].hint().unwrap(),
            "\"AB\\u{200B}C_1\\u{0020}\" ≈ Shopify \"ABC-1\" (underscore vs dash, \
             trailing space, U+200B zero-width space) or \"abc_1\" (case)"
        );
    }

    #[test]
    fn json_is_exact_and_never_raw() {
        let text = json(&sample()).unwrap();
        assert!(!shows_raw(&text), "{text}");
        assert!(text.contains(r#""sku":"AB\u200BC_1 ""#), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["listings"][0]["sku"], "AB\u{200B}C_1 ");
        assert_eq!(v["listings"][0]["reason"], "no_variant");
        assert_eq!(v["shopify_variants"][0]["sku"], "\u{A0}X");
        assert_eq!(v["shopify_variants"][0]["problem"], "duplicate_sku");
        // Beyond the Basic Multilingual Plane: a surrogate pair.
        let mut r = sample();
        r.listings[0].sku = "A\u{E0041}".into();
        let text = json(&r).unwrap();
        assert!(text.contains(r#""sku":"A\uDB40\uDC41""#), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["listings"][0]["sku"], "A\u{E0041}");
    }

    #[test]
    fn table_and_csv_show_escaped_skus_only() {
        let r = sample();
        for text in [table(&r), csv(&r).unwrap()] {
            assert!(!shows_raw(&text), "{text}");
            assert!(text.contains("AB\\u{200B}C_1\\u{0020}"), "{text}");
            assert!(text.contains("\\u{00A0}X"), "{text}");
        }
        assert!(table(&r).ends_with(
            "1 active listing does not sync (1 with a near-miss hint); \
             1 Shopify variant with a duplicate or missing SKU\n"
        ));
        assert_eq!(
            summary(&Report::default()),
            "0 active listings do not sync (0 with a near-miss hint); \
             0 Shopify variants with a duplicate or missing SKU"
        );
    }
}
