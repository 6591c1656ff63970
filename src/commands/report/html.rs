//! The dashboard page as HTML, pure: [`render`] turns the gathered figures into one
//! self-contained document. No scripts, no external assets (no fonts, images or style
//! sheets from anywhere): inline CSS, and an inline SVG chart of the last passes. Every
//! value is escaped on its way in ([`Html`] is the only thing a table takes), and SKUs
//! are shown as `unmatched` shows them, invisible characters written `\u{XXXX}`.

use chrono::{DateTime, Utc};

use super::{ChannelPage, Dashboard, Run};
use crate::clock;
use crate::commands::status::{self, ChannelStatus, Outcome, Pass};
use crate::db::orders::State;
use crate::engine::unmatched;

/// Rows a table shows; the rest are counted, and the CLI lists them all.
const MAX_ROWS: usize = 500;

/// Bar colours in the chart (and the legend, and the outcome badges).
const OK_COLOUR: &str = "#2e7d32";
const FAILED_COLOUR: &str = "#c62828";
const OTHER_COLOUR: &str = "#8c959f";

/// Markup that is safe to place in the page: escaped text, or markup built here.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Html(String);

/// Text as HTML: `&`, `<`, `>` and both quotes escaped, so it is safe in an element and
/// in a quoted attribute.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text(s: &str) -> Html {
    Html(esc(s))
}

/// A SKU as `unmatched` shows it, then escaped.
fn sku(s: &str) -> Html {
    Html(format!("<code>{}</code>", esc(&unmatched::shown(s))))
}

fn num(n: impl ToString) -> Html {
    Html(n.to_string())
}

/// A time for people, with the exact one in `datetime` for machines.
fn time(t: DateTime<Utc>) -> Html {
    Html(format!(
        "<time datetime=\"{}\">{}</time>",
        clock::rfc3339(t),
        status::shown(t)
    ))
}

/// A stored RFC 3339 time; shown as stored when it is not one.
fn stored_time(t: &str) -> Html {
    clock::parse(t).map_or_else(|| text(t), time)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn outcome_colour(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => OK_COLOUR,
        Outcome::Failed => FAILED_COLOUR,
        Outcome::Running | Outcome::Interrupted | Outcome::Stopped => OTHER_COLOUR,
    }
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Interrupted => "never finished",
        o => o.as_str(),
    }
}

fn badge(o: Outcome) -> Html {
    Html(format!(
        "<span class=\"badge\" style=\"background:{}\">{}</span>",
        outcome_colour(o),
        outcome_word(o)
    ))
}

/// `head` the column names; a column whose name ends in `#` is numeric (right-aligned;
/// the `#` is not shown). At most [`MAX_ROWS`] rows, then how many more and where to
/// see them.
fn table(head: &[&str], rows: &[Vec<Html>], more_in: &str) -> String {
    let numeric: Vec<bool> = head.iter().map(|h| h.ends_with('#')).collect();
    let mut out = String::from("<div class=\"scroll\"><table>\n<thead><tr>");
    for (h, n) in head.iter().zip(&numeric) {
        let class = if *n { " class=\"n\"" } else { "" };
        out.push_str(&format!("<th{class}>{}</th>", esc(h.trim_end_matches('#'))));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows.iter().take(MAX_ROWS) {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if numeric.get(i) == Some(&true) {
                " class=\"n\""
            } else {
                ""
            };
            out.push_str(&format!("<td{class}>{}</td>", cell.0));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    if rows.len() > MAX_ROWS {
        out.push_str(&format!(
            "<p class=\"note\">…and {} more: {}.</p>\n",
            rows.len() - MAX_ROWS,
            esc(more_in)
        ));
    }
    out
}

/// A muted sentence saying a list is empty.
fn none(sentence: &str) -> String {
    format!("<p class=\"none\">{}</p>\n", esc(sentence))
}

// ---- the page ---------------------------------------------------------------------

pub(super) fn render(d: &Dashboard) -> String {
    let s = &d.status;
    let mut out = String::with_capacity(16 * 1024);
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"skubridge {version}\">\n\
         <title>{shop}: skubridge</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        version = env!("CARGO_PKG_VERSION"),
        shop = esc(&d.shop),
    ));
    header(&mut out, d);
    out.push_str("<main>\n");
    passes(&mut out, d);
    steps(&mut out, s);
    for page in &d.channels {
        let figures = s.channels.iter().find(|c| c.channel == page.name);
        channel(&mut out, page, figures);
    }
    variants(&mut out, d);
    emails(&mut out, d);
    out.push_str("</main>\n");
    out.push_str(&format!(
        "<footer><p>Written by skubridge {} at {}. This page does not update itself: \
         skubridge writes it again after every run (<code>[report] html</code>), or \
         <code>skubridge report --html FILE</code> writes it now. Reload to see the latest.</p></footer>\n",
        env!("CARGO_PKG_VERSION"),
        time(s.now).0
    ));
    out.push_str("</body>\n</html>\n");
    out
}

fn header(out: &mut String, d: &Dashboard) {
    let s = &d.status;
    out.push_str(&format!(
        "<header>\n<h1>{}</h1>\n<p class=\"sub\">skubridge dashboard, generated {}</p>\n",
        esc(&d.shop),
        time(s.now).0
    ));
    if s.healthy {
        out.push_str("<div class=\"health ok\"><strong>Healthy</strong></div>\n");
    } else {
        out.push_str("<div class=\"health bad\"><strong>Needs attention</strong>\n<ul>\n");
        for p in &s.problems {
            out.push_str(&format!("<li>{}</li>\n", esc(p)));
        }
        out.push_str("</ul></div>\n");
    }
    let mut facts: Vec<(&str, Html)> = Vec::new();
    facts.push((
        "Last pass",
        match &s.last_pass {
            None => text("none yet"),
            Some(p) => text(&status::pass_line(p, s.now)),
        },
    ));
    if let Some(t) = s.last_success_at {
        facts.push((
            "Last success",
            Html(format!(
                "{} ({})",
                time(t).0,
                esc(&status::relative(t, s.now))
            )),
        ));
    }
    facts.push((
        "Next pass",
        match s.next_due_at {
            Some(t) => Html(format!(
                "<time datetime=\"{}\" id=\"next-due\"{}>{}</time>",
                clock::rfc3339(t),
                if s.overdue { " class=\"bad\"" } else { "" },
                esc(&status::next_pass(s))
            )),
            None => text(&status::next_pass(s)),
        },
    ));
    facts.push(("Paused", text(&paused(d))));
    facts.push(("Emails waiting", num(s.emails_pending)));
    out.push_str("<dl class=\"facts\">\n");
    for (label, value) in facts {
        out.push_str(&format!(
            "<div><dt>{}</dt><dd>{}</dd></div>\n",
            esc(label),
            value.0
        ));
    }
    out.push_str("</dl>\n</header>\n");
}

/// `status`'s answer, and the channels whose environment changed (passes leave them out
/// until they are reset).
fn paused(d: &Dashboard) -> String {
    let s = &d.status;
    let mut parts = Vec::new();
    let resets = s.reset_in_progress_since.is_some()
        || s.channels
            .iter()
            .any(|c| c.reset_in_progress_since.is_some());
    if resets {
        parts.push(status::paused(s));
    }
    for c in d.channels.iter().filter(|c| c.environment_changed) {
        parts.push(format!(
            "{0}: environment changed, left out of passes until `skubridge reset-products --channel {0}`",
            c.name
        ));
    }
    if parts.is_empty() {
        "no".into()
    } else {
        parts.join("; ")
    }
}

fn passes(out: &mut String, d: &Dashboard) {
    out.push_str("<section id=\"passes\">\n<h2>Recent passes</h2>\n");
    if d.passes.is_empty() {
        out.push_str(&none(
            "No passes yet: cron runs `skubridge sync`, and each pass appears here.",
        ));
    } else {
        out.push_str(&chart(&d.passes));
    }
    if !d.runs.is_empty() {
        out.push_str(&format!(
            "<h3>Last {}</h3>\n",
            plural(d.runs.len(), "run", "runs")
        ));
        let rows: Vec<Vec<Html>> = d.runs.iter().map(run_row).collect();
        out.push_str(&table(
            &[
                "Started (UTC)",
                "Command",
                "Outcome",
                "Duration#",
                "Requests#",
                "Error",
            ],
            &rows,
            "",
        ));
    }
    out.push_str("</section>\n");
}

fn run_row(r: &Run) -> Vec<Html> {
    let p = &r.pass;
    vec![
        time(p.started_at),
        text(&r.command),
        badge(p.outcome),
        duration(p),
        match p.outcome {
            Outcome::Ok | Outcome::Failed => num(p.requests),
            _ => text(""),
        },
        text(p.error.as_deref().unwrap_or_default()),
    ]
}

fn duration(p: &Pass) -> Html {
    match (p.outcome, p.duration_ms) {
        (Outcome::Running, _) => text("running"),
        (_, Some(ms)) => text(&status::millis(ms)),
        (_, None) => text("—"),
    }
}

// ---- the chart ----------------------------------------------------------------------

const CHART_W: f64 = 760.0;
const CHART_H: f64 = 200.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 40.0;

/// The smallest of 1, 2, 5 × 10ⁿ seconds (in ms) at or above `ms`.
fn axis_top(ms: i64) -> i64 {
    let mut step = 1000_i64;
    loop {
        for m in [1, 2, 5] {
            if step * m >= ms {
                return step * m;
            }
        }
        step = step.saturating_mul(10);
        if step == i64::MAX {
            return ms;
        }
    }
}

/// One bar per pass, oldest on the left, its height the pass's duration; failed passes
/// red, ok green, running or never finished grey (at the full height: their duration
/// is not known). Each bar's tooltip says when, how, how long.
fn chart(passes: &[Pass]) -> String {
    let top = axis_top(
        passes
            .iter()
            .filter_map(|p| p.duration_ms)
            .max()
            .unwrap_or(0),
    );
    let plot_w = CHART_W - LEFT - RIGHT;
    let plot_h = CHART_H - TOP - BOTTOM;
    let slot = plot_w / passes.len().max(10) as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let failed = passes
        .iter()
        .filter(|p| p.outcome == Outcome::Failed)
        .count();
    let mut svg = format!(
        "<figure>\n<svg class=\"chart\" viewBox=\"0 0 {CHART_W} {CHART_H}\" role=\"img\" \
         aria-label=\"{} by duration, {} failed\">\n",
        esc(&plural(passes.len(), "pass", "passes")),
        failed
    );
    // The axes and their labels.
    let base = TOP + plot_h;
    for (frac, label) in [
        (0.0, "0 s".to_string()),
        (0.5, status::millis(top / 2)),
        (1.0, status::millis(top)),
    ] {
        let y = base - plot_h * frac;
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"label\">{}</text>\n",
            CHART_W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&label)
        ));
    }
    svg.push_str(&format!(
        "<text x=\"12\" y=\"{:.1}\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\" class=\"label\">duration</text>\n",
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    ));
    for (i, p) in passes.iter().enumerate() {
        let h = match (p.outcome, p.duration_ms) {
            (Outcome::Ok | Outcome::Failed, Some(ms)) => {
                (plot_h * ms as f64 / top.max(1) as f64).max(1.5)
            }
            _ => plot_h,
        };
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let took = match (p.outcome, p.duration_ms) {
            (Outcome::Ok | Outcome::Failed, Some(ms)) => format!(
                " in {}, {}",
                status::millis(ms),
                plural(p.requests as usize, "request", "requests")
            ),
            _ => String::new(),
        };
        let tip = format!(
            "{}: {}{took}",
            status::shown(p.started_at),
            outcome_word(p.outcome),
        );
        let extra = match p.outcome {
            Outcome::Running | Outcome::Interrupted | Outcome::Stopped => " fill-opacity=\"0.45\"",
            _ => "",
        };
        svg.push_str(&format!(
            "<rect class=\"bar {}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"{}\"{extra}><title>{}</title></rect>\n",
            p.outcome.as_str(),
            base - h,
            outcome_colour(p.outcome),
            esc(&tip)
        ));
    }
    // The first and the last pass's start under the axis.
    let label_y = base + 16.0;
    let first = &passes[0];
    svg.push_str(&format!(
        "<text x=\"{LEFT}\" y=\"{label_y}\" class=\"label\">{}</text>\n",
        esc(&short(first.started_at))
    ));
    if passes.len() > 1 {
        let last = &passes[passes.len() - 1];
        // At the plot's right end: under a few bars, the two labels would overlap.
        let x = LEFT + plot_w;
        svg.push_str(&format!(
            "<text x=\"{x:.1}\" y=\"{label_y}\" text-anchor=\"end\" class=\"label\">{}</text>\n",
            esc(&short(last.started_at))
        ));
    }
    svg.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"label\">pass start (UTC), oldest to newest</text>\n",
        LEFT + plot_w / 2.0,
        base + 32.0
    ));
    svg.push_str("</svg>\n");
    svg.push_str(&format!(
        "<figcaption><span class=\"key\" style=\"background:{OK_COLOUR}\"></span> ok \
         <span class=\"key\" style=\"background:{FAILED_COLOUR}\"></span> failed \
         <span class=\"key\" style=\"background:{OTHER_COLOUR}\"></span> running or never finished \
         — the last {}; hover a bar for its details.</figcaption>\n</figure>\n",
        esc(&plural(passes.len(), "pass", "passes"))
    ));
    svg
}

fn short(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

// ---- steps, channels, Shopify, email ------------------------------------------------

fn steps(out: &mut String, s: &status::Status) {
    if s.steps.is_empty() {
        return;
    }
    out.push_str("<section id=\"steps\">\n<h2>Steps (each one’s last run)</h2>\n");
    let rows: Vec<Vec<Html>> = s
        .steps
        .iter()
        .map(|st| {
            vec![
                text(&st.step.replace('_', " ")),
                text(&st.channel),
                time(st.last_run_at),
                badge(st.outcome),
                text(&status::millis(st.duration_ms)),
                text(st.error.as_deref().unwrap_or(&st.summary)),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "Step",
            "Channel",
            "Last run (UTC)",
            "Outcome",
            "Duration#",
            "Counts or error",
        ],
        &rows,
        "",
    ));
    if let Some(e) = status::older_error(s) {
        out.push_str(&format!(
            "<p><strong>Last error:</strong> {} ({}), {}: {}</p>\n",
            time(e.at).0,
            esc(&status::relative(e.at, s.now)),
            esc(&status::step_label(&e.step, &e.channel)),
            esc(&e.error)
        ));
    }
    out.push_str("</section>\n");
}

fn channel(out: &mut String, c: &ChannelPage, figures: Option<&ChannelStatus>) {
    out.push_str(&format!(
        "<section class=\"channel\" id=\"channel-{0}\">\n<h2>Channel: {0}",
        esc(&c.name)
    ));
    if let Some(since) = figures.and_then(|f| f.reset_in_progress_since.as_deref()) {
        out.push_str(&format!(
            " <span class=\"tag warn\">paused: product reset in progress since {}</span>",
            esc(since)
        ));
    }
    if c.environment_changed {
        out.push_str(" <span class=\"tag bad\">paused: environment changed</span>");
    }
    out.push_str("</h2>\n");
    if c.environment_changed {
        out.push_str(&format!(
            "<p class=\"bad\">Its endpoint, account or environment differ from when its products were matched: \
             passes leave it out until you run <code>skubridge reset-products --channel {}</code>.</p>\n",
            esc(&c.name)
        ));
    }

    let f = figures;
    let count = |n: Option<i64>| n.map_or_else(|| "—".to_string(), |n| n.to_string());
    let matched = f.and_then(|f| {
        let m = f.matching.get("matched")?;
        Some(match f.matching.get("listings") {
            Some(l) => format!("{m} of {l}"),
            None => m.to_string(),
        })
    });
    let cards = [
        (
            "Listings matched",
            matched.unwrap_or_else(|| "not matched yet".into()),
            false,
        ),
        (
            "Unmatched (no Shopify variant)",
            f.and_then(|f| f.unmatched_listings)
                .map_or_else(|| "—".into(), |n| n.to_string()),
            f.and_then(|f| f.unmatched_listings).unwrap_or(0) > 0,
        ),
        (
            "Orders held",
            count(f.map(|f| f.orders_held)),
            f.is_some_and(|f| f.orders_held > 0),
        ),
        (
            "Orders refused by Shopify",
            count(f.map(|f| f.orders_failed)),
            f.is_some_and(|f| f.orders_failed > 0),
        ),
        (
            "Orders being created",
            count(f.map(|f| f.orders_creating)),
            false,
        ),
        (
            "Items changed after import",
            count(f.map(|f| f.orders_items_changed)),
            f.is_some_and(|f| f.orders_items_changed > 0),
        ),
        (
            "Fulfilment errors",
            count(f.map(|f| f.fulfilment_errors)),
            f.is_some_and(|f| f.fulfilment_errors > 0),
        ),
        (
            "Stock refused",
            c.refused.len().to_string(),
            !c.refused.is_empty(),
        ),
    ];
    out.push_str("<div class=\"cards\">\n");
    for (label, value, alert) in cards {
        out.push_str(&format!(
            "<div class=\"card{}\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>\n",
            if alert { " alert" } else { "" },
            esc(&value),
            esc(label)
        ));
    }
    out.push_str("</div>\n");
    if let Some(summary) = f.and_then(ChannelStatus::matching_summary) {
        out.push_str(&format!(
            "<p class=\"note\">Last product sync: {}.</p>\n",
            esc(&summary)
        ));
    }

    out.push_str(&format!(
        "<h3>Listings that do not sync ({})</h3>\n",
        c.unmatched.len()
    ));
    if c.never_synced {
        out.push_str(&none(
            "No product sync has read this channel's listings yet.",
        ));
    } else if c.unmatched.is_empty() {
        out.push_str(&none("Every active listing syncs."));
    } else {
        let rows: Vec<Vec<Html>> = c
            .unmatched
            .iter()
            .map(|p| {
                vec![
                    sku(&p.sku),
                    text(&p.product_id),
                    text(&p.reason_text()),
                    text(&p.hint().unwrap_or_default()),
                ]
            })
            .collect();
        out.push_str(&table(
            &["Channel SKU", "Product id", "Reason", "Near-miss hint"],
            &rows,
            "`skubridge unmatched` lists them all",
        ));
    }
    if let Some(offer) = &c.unlisted {
        out.push_str(&format!(
            "<p class=\"note\">{}</p>\n",
            esc(offer.trim_end())
        ));
    }

    out.push_str(&format!(
        "<h3>Orders waiting on you ({})</h3>\n",
        c.orders.len()
    ));
    if c.orders.is_empty() {
        out.push_str(&none("None held, refused or changed after import."));
    } else {
        let rows: Vec<Vec<Html>> = c
            .orders
            .iter()
            .map(|o| {
                let state = match o.state {
                    State::Held => "held",
                    State::Failed => "refused by Shopify",
                    State::ItemsChanged => "items changed after import",
                    s => s.as_str(),
                };
                vec![
                    text(&o.number),
                    text(state),
                    text(o.reason.as_deref().unwrap_or_default()),
                    stored_time(&o.created_at),
                ]
            })
            .collect();
        out.push_str(&table(
            &["Order", "State", "Reason", "Created (UTC)"],
            &rows,
            "`skubridge orders --state held` lists them all",
        ));
    }

    out.push_str(&format!(
        "<h3>Fulfilment errors ({})</h3>\n",
        c.fulfilment_errors.len()
    ));
    if c.fulfilment_errors.is_empty() {
        out.push_str(&none("None: every fulfilment reached the channel."));
    } else {
        let rows: Vec<Vec<Html>> = c
            .fulfilment_errors
            .iter()
            .map(|e| {
                vec![
                    text(&e.order),
                    text(&e.reason),
                    stored_time(&e.attempted_at),
                ]
            })
            .collect();
        out.push_str(&table(
            &["Order", "Reason", "Last attempt (UTC)"],
            &rows,
            "`skubridge fulfil --dry-run` lists them all",
        ));
    }

    out.push_str(&format!("<h3>Stock refused ({})</h3>\n", c.refused.len()));
    if c.refused.is_empty() {
        out.push_str(&none("None: the channel took every quantity."));
    } else {
        let rows: Vec<Vec<Html>> = c
            .refused
            .iter()
            .map(|r| {
                vec![
                    sku(&r.sku),
                    text(&r.product_id),
                    num(r.quantity),
                    text(&r.reason),
                    stored_time(&r.refused_at),
                ]
            })
            .collect();
        out.push_str(&table(
            &["SKU", "Product id", "Quantity#", "Reason", "Refused (UTC)"],
            &rows,
            "the log of the next reconcile lists them all",
        ));
    }
    out.push_str("</section>\n");
}

fn variants(out: &mut String, d: &Dashboard) {
    out.push_str(&format!(
        "<section id=\"shopify\">\n<h2>Shopify variants no listing can match ({})</h2>\n",
        d.variants.len()
    ));
    if d.variants.is_empty() {
        out.push_str(&none("None: every Shopify SKU is unique and present."));
    } else {
        let rows: Vec<Vec<Html>> = d
            .variants
            .iter()
            .map(|v| {
                vec![
                    sku(v.sku.as_deref().unwrap_or_default()),
                    text(&v.variant_id),
                    text(&v.product_id),
                    text(&v.issue.to_string()),
                ]
            })
            .collect();
        out.push_str(&table(
            &["SKU", "Variant id", "Product id", "Problem"],
            &rows,
            "`skubridge unmatched` lists them all",
        ));
    }
    out.push_str("</section>\n");
}

fn emails(out: &mut String, d: &Dashboard) {
    out.push_str(&format!(
        "<section id=\"emails\">\n<h2>Emails waiting to be sent ({})</h2>\n",
        d.status.emails_pending
    ));
    if d.outbox.is_empty() {
        out.push_str(&none("None: the outbox is empty."));
    } else {
        let rows: Vec<Vec<Html>> = d
            .outbox
            .iter()
            .map(|q| vec![stored_time(&q.queued_at), text(&q.subject)])
            .collect();
        out.push_str(&table(&["Queued (UTC)", "Subject"], &rows, "the outbox"));
        out.push_str(&none(
            "They are sent at the end of the next pass; `skubridge doctor` checks the mail server.",
        ));
    }
    out.push_str("</section>\n");
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #ffffff;
  --panel: #f6f8fa; --line: #d1d9e0; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #161b22; --line: #3d444d;
    --ok: #3fb950; --bad: #f85149; --warn: #d29922; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 20px; }
h1 { margin: 0; font-size: 1.6rem; overflow-wrap: anywhere; }
h2 { margin: 32px 0 10px; font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 20px 0 6px; font-size: 1.02rem; }
.sub, .note, .none, footer { color: var(--muted); }
.none { font-style: italic; margin: 4px 0; }
.health { margin: 14px 0; padding: 10px 14px; border-radius: 6px; border-left: 6px solid; background: var(--panel); }
.health.ok { border-color: var(--ok); }
.health.ok strong { color: var(--ok); }
.health.bad { border-color: var(--bad); }
.health.bad strong { color: var(--bad); }
.health ul { margin: 6px 0 0; padding-left: 20px; }
.bad { color: var(--bad); }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 8px; margin: 0; }
.facts div { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.facts dt { font-size: .8rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.facts dd { margin: 2px 0 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.card .v { font-size: 1.35rem; font-weight: 600; }
.card .k { font-size: .82rem; color: var(--muted); }
.card.alert { border-color: var(--bad); }
.card.alert .v { color: var(--bad); }
.tag { font-size: .78rem; font-weight: 600; padding: 2px 8px; border-radius: 10px; vertical-align: middle; border: 1px solid; }
.tag.bad { color: var(--bad); }
.tag.warn { color: var(--warn); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td { overflow-wrap: anywhere; }
.n { text-align: right; white-space: nowrap; }
td time { white-space: nowrap; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
.badge { color: #fff; font-size: .78rem; font-weight: 600; padding: 1px 7px; border-radius: 9px; white-space: nowrap; }
figure { margin: 0; }
svg.chart { width: 100%; height: auto; display: block; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .label { fill: var(--muted); font-size: 11px; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: 4px; }
.key { display: inline-block; width: 11px; height: 11px; border-radius: 2px; vertical-align: -1px; margin-left: 6px; }
footer { margin-top: 36px; padding-bottom: 24px; font-size: .85rem; }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::report::FulfilmentError;
    use crate::commands::status::Status;
    use crate::db::orders::OrderRow;
    use crate::db::stock::Refused;
    use crate::engine::unmatched::{ListingProblem, Reason, VariantIssue, VariantProblem};
    use crate::notify::Queued;

    fn at(t: &str) -> DateTime<Utc> {
        clock::parse(t).unwrap()
    }

    fn status() -> Status {
        Status {
            healthy: true,
            problems: vec![],
            now: at("2026-11-27T00:02:00Z"),
            sync_every_minutes: 5,
            last_pass: None,
            last_success_at: None,
            next_due_at: None,
            overdue: false,
            reset_in_progress_since: None,
            steps: vec![],
            channels: vec![ChannelStatus {
                channel: "iconic".into(),
                ..Default::default()
            }],
            emails_pending: 0,
            last_error: None,
            lock_purpose: None,
        }
    }

    fn empty() -> Dashboard {
        Dashboard {
            shop: "e2e-store.myshopify.com".into(),
            status: status(),
            passes: vec![],
            runs: vec![],
            channels: vec![ChannelPage {
                name: "iconic".into(),
                never_synced: true,
                ..Default::default()
            }],
            variants: vec![],
            outbox: vec![],
        }
    }

    fn a_pass(minute: u32, outcome: Outcome, ms: Option<i64>) -> Pass {
        Pass {
            run_id: i64::from(minute),
            started_at: at(&format!("2026-11-27T00:{minute:02}:00Z")),
            finished_at: ms.map(|_| at(&format!("2026-11-27T00:{minute:02}:02Z"))),
            duration_ms: ms,
            outcome,
            requests: 12,
            error: (outcome == Outcome::Failed).then(|| "orders: 500".into()),
        }
    }

    /// Every `<tag ...>` and attribute that could load or run something.
    fn assert_self_contained(page: &str) {
        for needle in [
            "<script", "<link", "<img", "<iframe", "src=", "href=", "@import", "url(",
        ] {
            assert!(!page.contains(needle), "{needle} in\n{page}");
        }
    }

    #[test]
    fn an_empty_store_says_so_and_loads_nothing() {
        let page = render(&empty());
        assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(page.ends_with("</html>\n"));
        for needle in [
            "<h1>e2e-store.myshopify.com</h1>",
            "generated <time datetime=\"2026-11-27T00:02:00.000Z\">2026-11-27 00:02:00 UTC</time>",
            "No passes yet",
            "Last pass</dt><dd>none yet</dd>",
            "every 5 min, once cron runs it",
            "Paused</dt><dd>no</dd>",
            "No product sync has read this channel",
            "not matched yet",
            "Emails waiting to be sent (0)",
        ] {
            assert!(page.contains(needle), "{needle} in\n{page}");
        }
        assert!(!page.contains("<svg"), "{page}");
        assert_self_contained(&page);
    }

    #[test]
    fn every_value_is_escaped_and_skus_show_hidden_characters() {
        let mut d = empty();
        d.shop = "<b>shop</b> & co".into();
        d.status.healthy = false;
        d.status.problems = vec!["the last pass failed: <html> & \"quotes\"".into()];
        d.channels[0] = ChannelPage {
            name: "iconic".into(),
            unmatched: vec![ListingProblem {
                channel: "iconic".into(),
                product_id: "9'01".into(),
                sku: "<script>alert(1)</script>\u{200B} ".into(),
                reason: Reason::NoVariant,
                channel_says: None,
                near_misses: vec![],
            }],
            orders: vec![order(
                "<i>309201</i>",
                State::Held,
                "SKU \"NEW<1\" is not matched",
            )],
            fulfilment_errors: vec![FulfilmentError {
                order: "3092&02".into(),
                reason: "carrier <unknown>".into(),
                attempted_at: "2026-11-27T00:01:00.000Z".into(),
            }],
            refused: vec![Refused {
                sku: "A&B\u{A0}".into(),
                product_id: "7".into(),
                quantity: 3,
                reason: "<too many>".into(),
                refused_at: "not a time <x>".into(),
            }],
            ..Default::default()
        };
        d.variants = vec![VariantProblem {
            variant_id: "gid://shopify/ProductVariant/9".into(),
            product_id: "gid://shopify/Product/1".into(),
            sku: Some("\"DUP\"".into()),
            issue: VariantIssue::DuplicateSku(2),
        }];
        d.status.emails_pending = 1;
        d.outbox = vec![Queued {
            queued_at: "2026-11-27T00:01:00.000Z".into(),
            subject: "[skubridge] <shop>: 1 order".into(),
        }];
        let page = render(&d);
        for needle in [
            "&lt;b&gt;shop&lt;/b&gt; &amp; co",
            "the last pass failed: &lt;html&gt; &amp; &quot;quotes&quot;",
            "<code>&lt;script&gt;alert(1)&lt;/script&gt;\\u{200B}\\u{0020}</code>",
            "9&#39;01",
            "&lt;i&gt;309201&lt;/i&gt;",
            "SKU &quot;NEW&lt;1&quot; is not matched",
            "3092&amp;02",
            "carrier &lt;unknown&gt;",
            "<code>A&amp;B\\u{00A0}</code>",
            "&lt;too many&gt;",
            "not a time &lt;x&gt;",
            "<code>&quot;DUP&quot;</code>",
            "[skubridge] &lt;shop&gt;: 1 order",
            "Needs attention",
        ] {
            assert!(page.contains(needle), "{needle} in\n{page}");
        }
        for raw in [
            "<script>",
            "<b>shop",
            "<i>309201",
            "<unknown>",
            "\u{200B}",
            "\u{A0}",
        ] {
            assert!(!page.contains(raw), "{raw:?} raw in\n{page}");
        }
        assert_self_contained(&page);
    }

    fn order(number: &str, state: State, reason: &str) -> OrderRow {
        OrderRow {
            channel: "iconic".into(),
            order_id: "1".into(),
            number: number.into(),
            state,
            reason: Some(reason.into()),
            created_at: "2026-11-27T00:00:00.000Z".into(),
            first_seen_at: "2026-11-27T00:00:00.000Z".into(),
            attempt_at: None,
            imported_at: None,
            shopify_id: None,
            shopify_name: None,
            adopted: false,
            currency: None,
            value: None,
            channel_total: None,
            shopify_total: None,
            watching: true,
            edited_at: None,
            updated_at: "2026-11-27T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn the_chart_has_a_bar_per_pass_and_failed_ones_stand_out() {
        let mut d = empty();
        d.passes = vec![
            a_pass(0, Outcome::Ok, Some(2000)),
            a_pass(5, Outcome::Failed, Some(4500)),
            a_pass(10, Outcome::Ok, Some(1200)),
            a_pass(15, Outcome::Interrupted, None),
        ];
        d.runs = d
            .passes
            .iter()
            .rev()
            .map(|p| Run {
                command: "sync".into(),
                pass: p.clone(),
            })
            .collect();
        let page = render(&d);
        assert_eq!(page.matches("<rect class=\"bar ").count(), 4, "{page}");
        let failed: Vec<&str> = page
            .lines()
            .filter(|l| l.starts_with("<rect class=\"bar failed\""))
            .collect();
        assert_eq!(failed.len(), 1, "{page}");
        assert!(failed[0].contains(&format!("fill=\"{FAILED_COLOUR}\"")));
        assert!(failed[0]
            .contains("<title>2026-11-27 00:05:00 UTC: failed in 4.5 s, 12 requests</title>"));
        assert_eq!(
            page.matches(&format!("fill=\"{FAILED_COLOUR}\"")).count(),
            1,
            "only the failed bar is red"
        );
        assert_eq!(page.matches(&format!("fill=\"{OK_COLOUR}\"")).count(), 2);
        // The axis goes to 5 s, and the oldest bar is on the left.
        assert!(page.contains(">5.0 s</text>"), "{page}");
        assert!(page.contains(">2026-11-27 00:00</text>"), "{page}");
        assert!(page.contains(">2026-11-27 00:15</text>"), "{page}");
        assert!(page.contains("running or never finished"), "the legend");
        assert!(!page.contains("No passes yet"));
        // The runs table: newest first, the failed one with its error.
        let runs = page.split("<h3>Last 4 runs</h3>").nth(1).unwrap();
        assert!(runs.find("00:15:00 UTC").unwrap() < runs.find("00:00:00 UTC").unwrap());
        assert!(runs.contains("never finished"), "{runs}");
        assert!(runs.contains("orders: 500"), "{runs}");
        assert_self_contained(&page);
    }

    #[test]
    fn the_axis_rounds_up_to_1_2_or_5() {
        assert_eq!(axis_top(0), 1000);
        assert_eq!(axis_top(1000), 1000);
        assert_eq!(axis_top(1001), 2000);
        assert_eq!(axis_top(4500), 5000);
        assert_eq!(axis_top(7000), 10_000);
        assert_eq!(axis_top(130_000), 200_000);
    }

    #[test]
    fn pauses_are_shown_with_status_words_and_a_changed_environment() {
        let mut d = empty();
        assert_eq!(paused(&d), "no");
        d.status.channels[0].reset_in_progress_since = Some("2026-11-27T00:01:00.000Z".into());
        assert_eq!(
            paused(&d),
            "iconic: product reset in progress since 2026-11-27T00:01:00.000Z"
        );
        d.status.channels[0].reset_in_progress_since = None;
        d.channels[0].environment_changed = true;
        assert!(paused(&d).starts_with("iconic: environment changed"));
        let page = render(&d);
        assert!(page.contains("paused: environment changed"), "{page}");
    }

    #[test]
    fn long_tables_are_cut_with_where_to_see_the_rest() {
        let rows: Vec<Vec<Html>> = (0..MAX_ROWS + 3).map(|i| vec![num(i)]).collect();
        let t = table(&["N#"], &rows, "`skubridge unmatched` lists them all");
        assert_eq!(t.matches("<tr>").count(), MAX_ROWS + 1);
        assert!(t.contains("…and 3 more: `skubridge unmatched` lists them all."));
        assert!(t.contains("<th class=\"n\">N</th>"));
    }
}
