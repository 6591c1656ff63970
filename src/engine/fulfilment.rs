//! Fulfilment planning (design §9), pure: a Shopify fulfilment of an imported order,
//! the channel's lines and what was pushed before in; what to push (or why it cannot
//! be pushed) out.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::channel::{Carrier, CarrierList, LineState, Shipping};
use crate::db::fulfilments::{FulfilmentRow, LineRow, PushState};
use crate::shopify::fulfilments::Fulfillment;

/// Lower-case letters and digits only: "Australia Post" ~ "australiapost" ~ "AUSTRALIA-POST".
fn normalised(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The carriers a channel accepts, as far as this pass knows them.
#[derive(Debug, Clone, Copy)]
pub enum Known<'a> {
    /// The channel's own list.
    Listed(&'a [Carrier]),
    /// The channel's own list, and any other carrier by its name.
    ListedOrNamed(&'a [Carrier]),
    /// The channel has a list, but it could not be read: only the config map works.
    Unread,
    /// The channel takes any name: one the config does not map goes as Shopify writes it.
    AnyName,
}

impl<'a> Known<'a> {
    /// What a channel whose carriers come from `source` accepts, given its list when
    /// it could be read.
    pub fn of(source: CarrierList, list: Option<&'a [Carrier]>) -> Self {
        match (source, list) {
            (CarrierList::ConfigOnly, _) => Self::AnyName,
            (CarrierList::Listed { others_by_name, .. }, Some(list)) => match others_by_name {
                true => Self::ListedOrNamed(list),
                false => Self::Listed(list),
            },
            // A carrier the unread list may hold must not go by name: the next pass
            // reads the list again.
            (CarrierList::Listed { .. }, None) => Self::Unread,
        }
    }

    fn list(self) -> Option<&'a [Carrier]> {
        match self {
            Self::Listed(list) | Self::ListedOrNamed(list) => Some(list),
            Self::Unread | Self::AnyName => None,
        }
    }
}

/// The channel's carrier code for a Shopify tracking company: `[channel.carriers]`
/// first (naming the carrier by code or label), then the channel's carrier list by
/// normalised label; a channel taking other carriers by name gets the name (the
/// configured one, else Shopify's).
pub fn carrier_for(
    company: &str,
    carriers: &BTreeMap<String, String>,
    known: Known<'_>,
    channel: &str,
) -> Result<String, String> {
    let names = || {
        known
            .list()
            .unwrap_or_default()
            .iter()
            .map(|c| c.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The exact key, else one that differs only in case, spaces or punctuation.
    let configured = carriers.get(company).or_else(|| {
        carriers
            .iter()
            .find(|(k, _)| normalised(k) == normalised(company))
            .map(|(_, v)| v)
    });
    if let Some(mapped) = configured {
        let listed = known.list().and_then(|list| {
            list.iter()
                .find(|c| c.code == *mapped || c.label == *mapped)
        });
        return match known {
            Known::ListedOrNamed(_) | Known::AnyName | Known::Unread => {
                Ok(listed.map_or_else(|| mapped.clone(), |c| c.code.clone()))
            }
            Known::Listed(_) => listed.map(|c| c.code.clone()).ok_or_else(|| format!(
                    "[channel.carriers] maps carrier {company:?} to {mapped:?}, which {channel} does not list as a carrier (it lists: {}); fix the name in skubridge.toml",
                    names()
                )),
        };
    }
    if let Known::AnyName = known {
        return Ok(company.to_string());
    }
    let wanted = normalised(company);
    if let Some(c) = known
        .list()
        .unwrap_or_default()
        .iter()
        .find(|c| !wanted.is_empty() && normalised(&c.label) == wanted)
    {
        return Ok(c.code.clone());
    }
    if let Known::ListedOrNamed(_) = known {
        return Ok(company.to_string());
    }
    Err(format!(
        "carrier {company:?} is not known to {channel}; add it under [channel.carriers] in skubridge.toml, e.g. \"{company}\" = \"<carrier>\" (carriers {channel} accepts: {})",
        names()
    ))
}

/// What a fulfilment's push was decided from: company, number and lines. A failed
/// push is tried again only when this changes.
pub fn fingerprint(f: &Fulfillment) -> String {
    let mut lines: Vec<String> = f
        .lines
        .iter()
        .map(|l| format!("{}x{}", l.sku.as_deref().unwrap_or(""), l.quantity))
        .collect();
    lines.sort();
    format!(
        "{}|{}|{}",
        f.company.as_deref().unwrap_or(""),
        f.number.as_deref().unwrap_or(""),
        lines.join(",")
    )
}

/// One fulfilment's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Push these open lines with this carrier and tracking number.
    Push {
        line_ids: Vec<String>,
        carrier: String,
        tracking_number: String,
        /// Said in the output (e.g. the tracking number was trimmed).
        note: Option<String>,
    },
    /// Cannot be pushed as it is: a person must fix it in Shopify or the config.
    Reject { reason: String },
    /// Nothing to do: already pushed, cancelled, failed and unchanged, no item left, or
    /// (whole-order channels) waiting for the rest or shipped under another fulfilment.
    Skip(Skip),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    Done,
    NotLive,
    FailedUnchanged,
    NoItems,
    /// A whole-order channel: some open lines are not fulfilled in Shopify yet.
    AwaitingRest,
    /// A whole-order channel: the order goes under another fulfilment's number.
    ShipsWithAnother,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skip::Done => "already pushed",
            Skip::NotLive => "fulfilment cancelled in Shopify",
            Skip::FailedUnchanged => "failed before and unchanged since (fulfil --retry-failed)",
            Skip::NoItems => "no open channel line left for its lines",
            Skip::AwaitingRest => {
                "the channel ships whole orders: waiting until every line is fulfilled in Shopify"
            }
            Skip::ShipsWithAnother => {
                "the channel ships whole orders: sent under another fulfilment's tracking number"
            }
        })
    }
}

/// Everything a fulfilment is decided from.
pub struct Input<'a> {
    pub channel: &'a str,
    pub fulfilment: &'a Fulfillment,
    /// Every fulfilment of the order in Shopify, this one included.
    pub order_fulfilments: &'a [Fulfillment],
    /// This fulfilment's row, if it was handled before.
    pub previous: Option<&'a FulfilmentRow>,
    /// The order's imported channel lines.
    pub lines: &'a [LineRow],
    pub carriers: &'a BTreeMap<String, String>,
    pub known_carriers: Known<'a>,
    /// The channel's rule for tracking numbers: why it would refuse one.
    pub tracking_number_problem: &'a dyn Fn(&str) -> Option<String>,
    /// Whether the channel ships any lines or only whole orders.
    pub shipping: Shipping,
    pub retry_failed: bool,
}

/// Lines-shipping channels get the open lines this fulfilment covers. Whole-order
/// channels get every open line once all of them are fulfilled in Shopify, under the
/// tracking number of the order's latest fulfilment (they take one per order); the
/// order's other fulfilments are covered by it.
pub fn plan(input: &Input<'_>) -> Plan {
    let f = input.fulfilment;
    if f.status != "SUCCESS" {
        return Plan::Skip(Skip::NotLive);
    }
    match input.previous {
        Some(p) if p.state != PushState::Failed => return Plan::Skip(Skip::Done),
        Some(p) if p.fingerprint == fingerprint(f) && !input.retry_failed => {
            return Plan::Skip(Skip::FailedUnchanged)
        }
        _ => {}
    }
    let (line_ids, whole_note) = match input.shipping {
        Shipping::Lines => (lines_for(f, input.lines), None),
        Shipping::WholeOrder => match whole_order(input) {
            Ok(planned) => planned,
            Err(skip) => return Plan::Skip(skip),
        },
    };
    if line_ids.is_empty() {
        return Plan::Skip(Skip::NoItems);
    }
    let raw = f.number.as_deref().unwrap_or_default();
    let number = raw.trim();
    if number.is_empty() {
        return Plan::Reject {
            reason: "the fulfilment has no tracking number: add one in Shopify (Edit tracking)"
                .into(),
        };
    }
    if let Some(problem) = (input.tracking_number_problem)(number) {
        return Plan::Reject {
            reason: format!("{problem}: correct it in Shopify (Edit tracking)"),
        };
    }
    let company = f.company.as_deref().unwrap_or_default().trim();
    if company.is_empty() {
        return Plan::Reject {
            reason: "the fulfilment names no carrier: set the shipping carrier in Shopify (Edit tracking)".into(),
        };
    }
    match carrier_for(company, input.carriers, input.known_carriers, input.channel) {
        Ok(carrier) => {
            let trimmed =
                (number != raw).then(|| format!("tracking number {raw:?} trimmed to {number:?}"));
            let note = [trimmed, whole_note]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
            Plan::Push {
                line_ids,
                carrier,
                tracking_number: number.to_string(),
                note: (!note.is_empty()).then(|| note.join("; ")),
            }
        }
        Err(reason) => Plan::Reject { reason },
    }
}

/// A whole-order channel's shipment: every open line, once the order's live fulfilments
/// cover them all, sent by the latest of those fulfilments (with a note naming the
/// numbers not sent); otherwise why this fulfilment sends nothing.
fn whole_order(input: &Input<'_>) -> Result<(Vec<String>, Option<String>), Skip> {
    let f = input.fulfilment;
    let open: Vec<&LineRow> = input
        .lines
        .iter()
        .filter(|l| l.state == LineState::Open)
        .collect();
    // Claimed by another fulfilment: the order went (or is going) under that one.
    if open
        .iter()
        .any(|l| l.fulfilment_id.as_deref().is_some_and(|id| id != f.id))
    {
        return Err(Skip::ShipsWithAnother);
    }
    let live: Vec<&Fulfillment> = input
        .order_fulfilments
        .iter()
        .filter(|o| o.status == "SUCCESS")
        .collect();
    let mut fulfilled: HashMap<&str, i64> = HashMap::new();
    for line in live.iter().flat_map(|o| &o.lines) {
        if let Some(sku) = line.sku.as_deref() {
            *fulfilled.entry(sku).or_default() += line.quantity;
        }
    }
    let mut wanted: HashMap<&str, i64> = HashMap::new();
    for line in &open {
        let units = wanted.entry(line.sku.as_str()).or_default();
        *units = units.saturating_add(line.quantity);
    }
    if wanted
        .iter()
        .any(|(sku, n)| fulfilled.get(sku).copied().unwrap_or(0) < *n)
    {
        return Err(Skip::AwaitingRest);
    }
    let latest = live
        .iter()
        .max_by_key(|o| (o.updated_at, numeric_id(&o.id)))
        .map_or(f.id.as_str(), |o| o.id.as_str());
    if latest != f.id {
        return Err(Skip::ShipsWithAnother);
    }
    let others: Vec<&str> = live
        .iter()
        .filter(|o| o.id != f.id)
        .map(|o| o.number.as_deref().unwrap_or("(no number)"))
        .collect();
    let note = (!others.is_empty()).then(|| {
        format!(
            "{} takes one tracking number per order: sent {}, the latest of the order's {} fulfilments; not sent: {}",
            input.channel,
            f.number.as_deref().unwrap_or_default().trim(),
            live.len(),
            others.join(", ")
        )
    });
    Ok((open.iter().map(|l| l.line_id.clone()).collect(), note))
}

/// The number ending a Shopify gid, so `Fulfillment/10` sorts after `Fulfillment/9`.
fn numeric_id(gid: &str) -> u64 {
    gid.rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The channel lines a fulfilment covers: per fulfilled SKU, whole open lines of that
/// SKU not claimed by another fulfilment, as many units as it fulfils (lines without a
/// SKU, like an extra line item, have no channel line). A line is pushed whole: one
/// fulfilled only in part waits for the rest.
fn lines_for(f: &Fulfillment, lines: &[LineRow]) -> Vec<String> {
    let mut wanted: HashMap<&str, i64> = HashMap::new();
    for line in &f.lines {
        if let Some(sku) = line.sku.as_deref() {
            *wanted.entry(sku).or_default() += line.quantity;
        }
    }
    let mut out = Vec::new();
    for line in lines {
        let free = line.fulfilment_id.is_none() || line.fulfilment_id.as_deref() == Some(&f.id);
        match wanted.get_mut(line.sku.as_str()) {
            Some(n) if *n >= line.quantity && free && line.state == LineState::Open => {
                *n -= line.quantity;
                out.push(line.line_id.clone());
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::fulfilments::FulfilledLine;

    fn fulfilment(company: &str, number: &str, lines: &[(&str, i64)]) -> Fulfillment {
        Fulfillment {
            id: "gid://shopify/Fulfillment/1".into(),
            status: "SUCCESS".into(),
            updated_at: None,
            company: Some(company.into()),
            number: Some(number.into()),
            url: None,
            lines: lines
                .iter()
                .map(|(sku, q)| FulfilledLine {
                    sku: Some(sku.to_string()),
                    quantity: *q,
                })
                .collect(),
        }
    }

    /// A line of one unit in `state`, claimed by fulfilment `claimed`.
    fn item(id: &str, sku: &str, state: LineState, claimed: Option<&str>) -> LineRow {
        LineRow {
            line_id: id.into(),
            sku: sku.into(),
            quantity: 1,
            state,
            fulfilment_id: claimed.map(String::from),
        }
    }

    /// Carriers whose code is their label (The Iconic's providers).
    fn carriers() -> Vec<Carrier> {
        ["AusPost", "StarTrack", "Couriers Please"]
            .map(|n| Carrier {
                code: n.into(),
                label: n.into(),
            })
            .to_vec()
    }

    fn plan_of(f: &Fulfillment, lines: &[LineRow], previous: Option<&FulfilmentRow>) -> Plan {
        plan_shipping(f, lines, previous, Shipping::Lines)
    }

    fn plan_shipping(
        f: &Fulfillment,
        lines: &[LineRow],
        previous: Option<&FulfilmentRow>,
        shipping: Shipping,
    ) -> Plan {
        let carriers_map = BTreeMap::from([("Australia Post".to_string(), "AusPost".to_string())]);
        let list = carriers();
        plan(&Input {
            channel: "iconic",
            fulfilment: f,
            order_fulfilments: std::slice::from_ref(f),
            previous,
            lines,
            carriers: &carriers_map,
            known_carriers: Known::Listed(&list),
            tracking_number_problem: &no_spaces_or_slashes,
            shipping,
            retry_failed: false,
        })
    }

    /// A channel's rule, as the planner receives it.
    fn no_spaces_or_slashes(number: &str) -> Option<String> {
        if number.contains(' ') {
            Some(format!("tracking number {number:?} contains spaces"))
        } else if number.contains('/') {
            Some(format!("tracking number {number:?} contains '/'"))
        } else {
            None
        }
    }

    #[test]
    fn fulfilled_lines_pick_open_unclaimed_lines_of_their_sku() {
        let items = [
            item("1", "A", LineState::Open, Some("other")),
            item("2", "A", LineState::ReadyToShip, None),
            item("3", "A", LineState::Open, None),
            item("4", "A", LineState::Open, None),
            item("5", "B", LineState::Open, None),
        ];
        let f = fulfilment(
            "Australia Post",
            " TRK-1 ",
            &[("A", 1), ("THE ICONIC ORDER", 1)],
        );
        assert_eq!(
            plan_of(&f, &items, None),
            Plan::Push {
                line_ids: vec!["3".into()],
                carrier: "AusPost".into(),
                tracking_number: "TRK-1".into(),
                note: Some("tracking number \" TRK-1 \" trimmed to \"TRK-1\"".into()),
            }
        );
    }

    #[test]
    fn a_line_of_several_units_goes_whole_once_they_are_all_fulfilled() {
        let mut three = item("1", "A", LineState::Open, None);
        three.quantity = 3;
        let lines = [three, item("2", "A", LineState::Open, None)];
        let two = fulfilment("Australia Post", "TRK1", &[("A", 2)]);
        assert_eq!(plan_of(&two, &lines[..1], None), Plan::Skip(Skip::NoItems));
        match plan_of(
            &fulfilment("Australia Post", "TRK1", &[("A", 4)]),
            &lines,
            None,
        ) {
            Plan::Push { line_ids, .. } => assert_eq!(line_ids, ["1", "2"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_channel_that_ships_whole_orders_waits_for_every_open_line() {
        let lines = [
            LineRow {
                quantity: 2,
                ..item("1", "A", LineState::Open, None)
            },
            item("2", "B", LineState::Open, None),
            item("3", "C", LineState::Cancelled, None),
        ];
        let part = fulfilment("AusPost", "TRK-1", &[("A", 2)]);
        assert_eq!(
            plan_shipping(&part, &lines, None, Shipping::WholeOrder),
            Plan::Skip(Skip::AwaitingRest)
        );
        assert!(matches!(
            plan_shipping(&part, &lines, None, Shipping::Lines),
            Plan::Push { .. }
        ));
        let whole = fulfilment("AusPost", "TRK-1", &[("A", 2), ("B", 1)]);
        let Plan::Push { line_ids, note, .. } =
            plan_shipping(&whole, &lines, None, Shipping::WholeOrder)
        else {
            panic!("the whole order goes");
        };
        assert_eq!(line_ids, ["1", "2"]);
        assert_eq!(note, None);
    }

    #[test]
    fn a_whole_order_in_several_fulfilments_goes_once_under_the_latest_number() {
        let lines = [
            item("1", "A", LineState::Open, None),
            item("2", "B", LineState::Open, None),
        ];
        let first = Fulfillment {
            id: "gid://shopify/Fulfillment/9".into(),
            ..fulfilment("AusPost", "TRK-1", &[("A", 1)])
        };
        let second = Fulfillment {
            id: "gid://shopify/Fulfillment/10".into(),
            ..fulfilment("AusPost", "TRK-2", &[("B", 1)])
        };
        let both = [first.clone(), second.clone()];
        let plan_for = |f: &Fulfillment, all: &[Fulfillment], lines: &[LineRow]| {
            let list = carriers();
            plan(&Input {
                channel: "htf",
                fulfilment: f,
                order_fulfilments: all,
                previous: None,
                lines,
                carriers: &BTreeMap::new(),
                known_carriers: Known::Listed(&list),
                tracking_number_problem: &no_spaces_or_slashes,
                shipping: Shipping::WholeOrder,
                retry_failed: false,
            })
        };
        assert_eq!(
            plan_for(&first, std::slice::from_ref(&first), &lines),
            Plan::Skip(Skip::AwaitingRest)
        );
        assert_eq!(
            plan_for(&first, &both, &lines),
            Plan::Skip(Skip::ShipsWithAnother)
        );
        let Plan::Push {
            line_ids,
            tracking_number,
            note,
            ..
        } = plan_for(&second, &both, &lines)
        else {
            panic!("the latest fulfilment sends the order");
        };
        assert_eq!(line_ids, ["1", "2"]);
        assert_eq!(tracking_number, "TRK-2");
        let note = note.unwrap();
        assert!(
            note.contains("sent TRK-2") && note.contains("not sent: TRK-1"),
            "{note}"
        );
        // Once claimed by the push, a later fulfilment does not send it again.
        let claimed = [
            item("1", "A", LineState::Open, Some(&second.id)),
            item("2", "B", LineState::Open, Some(&second.id)),
        ];
        let third = Fulfillment {
            id: "gid://shopify/Fulfillment/11".into(),
            ..fulfilment("AusPost", "TRK-3", &[("A", 1)])
        };
        let all = [first, second, third.clone()];
        assert_eq!(
            plan_for(&third, &all, &claimed),
            Plan::Skip(Skip::ShipsWithAnother)
        );
    }

    /// Found by the property below: open lines whose units add up past i64 made the
    /// whole-order plan panic; they now wait for a fulfilment that never covers them.
    #[test]
    fn absurd_quantities_on_a_whole_order_wait_instead_of_panicking() {
        let lines = [
            LineRow {
                quantity: i64::MAX / 2 + 1,
                ..item("1", "A", LineState::Open, None)
            },
            LineRow {
                quantity: i64::MAX / 2 + 1,
                ..item("2", "A", LineState::Open, None)
            },
        ];
        let f = fulfilment("AusPost", "TRK-1", &[("A", 2)]);
        assert_eq!(
            plan_shipping(&f, &lines, None, Shipping::WholeOrder),
            Plan::Skip(Skip::AwaitingRest)
        );
    }

    #[test]
    fn carriers_map_by_config_then_by_normalised_label() {
        let list = carriers();
        let carriers = BTreeMap::from([("AusPost eParcel".to_string(), "AusPost".to_string())]);
        let got = |c: &str| carrier_for(c, &carriers, Known::Listed(&list), "iconic");
        assert_eq!(got("AusPost eParcel"), Ok("AusPost".into()));
        assert_eq!(got("auspost eparcel"), Ok("AusPost".into()));
        assert_eq!(got("couriers-please"), Ok("Couriers Please".into()));
        assert_eq!(got("STARTRACK"), Ok("StarTrack".into()));
        let err = got("Sendle").unwrap_err();
        assert!(
            err.starts_with(
                "carrier \"Sendle\" is not known to iconic; add it under [channel.carriers]"
            ),
            "{err}"
        );
        assert!(err.contains("AusPost, StarTrack, Couriers Please"), "{err}");
        let bad = BTreeMap::from([("Sendle".to_string(), "Sendel".to_string())]);
        assert!(carrier_for("Sendle", &bad, Known::Listed(&list), "iconic")
            .unwrap_err()
            .contains("does not list"));
        // Without the channel's list, the config is trusted.
        assert_eq!(
            carrier_for("Sendle", &bad, Known::Unread, "iconic"),
            Ok("Sendel".into())
        );
        assert!(carrier_for("Pigeon", &bad, Known::Unread, "iconic").is_err());
        // A channel that takes any name: as Shopify writes it, unless mapped.
        assert_eq!(
            carrier_for("Pigeon Post", &bad, Known::AnyName, "h"),
            Ok("Pigeon Post".into())
        );
        assert_eq!(
            carrier_for("Sendle", &bad, Known::AnyName, "h"),
            Ok("Sendel".into())
        );
        // A carrier with a code of its own (Mirakl's): named by label or code, sent by code.
        let coded = [Carrier {
            code: "AUP".into(),
            label: "Australia Post".into(),
        }];
        let by_label = BTreeMap::from([("AP".to_string(), "Australia Post".to_string())]);
        assert_eq!(
            carrier_for("AP", &by_label, Known::Listed(&coded), "m"),
            Ok("AUP".into())
        );
        let by_code = BTreeMap::from([("AP".to_string(), "AUP".to_string())]);
        assert_eq!(
            carrier_for("AP", &by_code, Known::Listed(&coded), "m"),
            Ok("AUP".into())
        );
        let none = BTreeMap::new();
        assert_eq!(
            carrier_for("australia-post", &none, Known::Listed(&coded), "m"),
            Ok("AUP".into())
        );
        // A channel taking other carriers by name: listed ones still go by code, any
        // other by the configured name, else Shopify's.
        let named = Known::ListedOrNamed(&coded);
        assert_eq!(
            carrier_for("australia-post", &none, named, "m"),
            Ok("AUP".into())
        );
        assert_eq!(carrier_for("AP", &by_code, named, "m"), Ok("AUP".into()));
        assert_eq!(
            carrier_for("Bob's Vans", &none, named, "m"),
            Ok("Bob's Vans".into())
        );
        let renamed = BTreeMap::from([("bobs".to_string(), "Bob's Vans Pty".to_string())]);
        assert_eq!(
            carrier_for("Bobs", &renamed, named, "m"),
            Ok("Bob's Vans Pty".into())
        );
        assert!(carrier_for("Bob's Vans", &none, Known::Listed(&coded), "m").is_err());
        // Its list unread, an unmapped carrier waits: it may be a listed one.
        assert!(carrier_for("Bob's Vans", &none, Known::Unread, "m").is_err());
    }

    #[test]
    fn bad_tracking_numbers_and_missing_carriers_are_rejected_with_the_fix() {
        let lines = [item("1", "A", LineState::Open, None)];
        for (company, number, wanted) in [
            ("Australia Post", "TRK 1", "contains spaces"),
            ("Australia Post", "TRK/1", "contains '/'"),
            ("Australia Post", "", "no tracking number"),
            ("", "TRK1", "names no carrier"),
            ("Pigeon", "TRK1", "carrier \"Pigeon\" is not known"),
        ] {
            match plan_of(&fulfilment(company, number, &[("A", 1)]), &lines, None) {
                Plan::Reject { reason } => assert!(reason.contains(wanted), "{reason}"),
                other => panic!("{company} {number}: {other:?}"),
            }
        }
    }

    #[test]
    fn pushed_cancelled_and_unchanged_failures_are_skipped() {
        let items = [item("1", "A", LineState::Open, None)];
        let f = fulfilment("Australia Post", "TRK1", &[("A", 1)]);
        let mut row = FulfilmentRow {
            channel: "iconic".into(),
            order_id: "7".into(),
            fulfilment_id: f.id.clone(),
            state: PushState::Pushed,
            company: None,
            tracking_number: None,
            provider: None,
            fingerprint: fingerprint(&f),
            reason: None,
            attempted_at: "T".into(),
            pushed_at: None,
            tracking_url: None,
        };
        assert_eq!(plan_of(&f, &items, Some(&row)), Plan::Skip(Skip::Done));
        row.state = PushState::Failed;
        assert_eq!(
            plan_of(&f, &items, Some(&row)),
            Plan::Skip(Skip::FailedUnchanged)
        );
        // Edited in Shopify since: tried again.
        let edited = fulfilment("Australia Post", "TRK2", &[("A", 1)]);
        assert!(matches!(
            plan_of(&edited, &items, Some(&row)),
            Plan::Push { .. }
        ));
        let mut cancelled = f.clone();
        cancelled.status = "CANCELLED".into();
        assert_eq!(plan_of(&cancelled, &items, None), Plan::Skip(Skip::NotLive));
        let shipped = [item("1", "A", LineState::ReadyToShip, None)];
        assert_eq!(plan_of(&f, &shipped, None), Plan::Skip(Skip::NoItems));
    }

    /// Properties of the fulfilment planner over generated orders: lines open,
    /// handed over or cancelled, claimed by this fulfilment or another; fulfilments
    /// live or cancelled, of any SKUs and quantities, with or without carrier and
    /// number; both kinds of channel.
    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::collections::HashSet;

        const SKUS: [&str; 3] = ["A", "B", "C"];

        prop_compose! {
            fn any_lines()(
                lines in prop::collection::vec(
                    (
                        0..SKUS.len(),
                        prop_oneof![9 => 1i64..=3, 1 => (i64::MAX / 2)..=i64::MAX],
                        prop::sample::select(vec![
                            LineState::Open,
                            LineState::Open,
                            LineState::Open,
                            LineState::ReadyToShip,
                            LineState::Shipped,
                            LineState::Cancelled,
                        ]),
                        prop::sample::select(vec![None, None, None, Some(1u8), Some(2)]),
                    ),
                    0..6,
                ),
            ) -> Vec<LineRow> {
                lines
                    .into_iter()
                    .enumerate()
                    .map(|(i, (sku, quantity, state, claim))| LineRow {
                        quantity,
                        ..item(
                            &i.to_string(),
                            SKUS[sku],
                            state,
                            claim.map(|n| format!("gid://shopify/Fulfillment/{n}")).as_deref(),
                        )
                    })
                    .collect()
            }
        }

        prop_compose! {
            /// Fulfilment `n`.
            fn any_fulfilment(n: u8)(
                live in prop::sample::select(vec![true, true, true, false]),
                lines in prop::collection::vec(
                    (prop::option::weighted(0.9, 0..SKUS.len()), 0i64..=4),
                    0..4,
                ),
                company in prop::sample::select(vec!["Australia Post", "AusPost", "auspost", "", "Pigeon"]),
                number in prop::sample::select(vec!["TRK1", " TRK-2 ", "", "TRK 3"]),
                updated in prop::option::of(0i64..3),
            ) -> Fulfillment {
                Fulfillment {
                    id: format!("gid://shopify/Fulfillment/{n}"),
                    status: if live { "SUCCESS" } else { "CANCELLED" }.into(),
                    updated_at: updated.map(|h| {
                        crate::clock::parse("2026-11-27T01:00:00Z").unwrap()
                            + chrono::Duration::hours(h)
                    }),
                    lines: lines
                        .into_iter()
                        .map(|(sku, quantity)| FulfilledLine {
                            sku: Some(sku.map_or("THE ICONIC ORDER", |i| SKUS[i]).to_string()),
                            quantity,
                        })
                        .collect(),
                    ..fulfilment(company, number, &[])
                }
            }
        }

        /// Units per SKU, without overflow.
        fn units<'a>(rows: impl Iterator<Item = (&'a str, i64)>) -> BTreeMap<&'a str, i128> {
            let mut out = BTreeMap::new();
            for (sku, q) in rows {
                *out.entry(sku).or_insert(0) += i128::from(q);
            }
            out
        }

        proptest! {
            /// A push names only open lines, each once, none claimed by another
            /// fulfilment, with a trimmed tracking number and a carrier. A channel of
            /// lines gets no more units per SKU than this fulfilment fulfils; a
            /// whole-order channel gets every open line, once the order's live
            /// fulfilments cover them all, or nothing.
            #[test]
            fn a_push_never_claims_more_than_is_fulfilled(
                lines in any_lines(),
                this in any_fulfilment(1),
                other in any_fulfilment(2),
                third in any_fulfilment(3),
                others in 0usize..=2,
                whole in any::<bool>(),
                previous in prop::option::of((any::<bool>(), any::<bool>())),
                retry_failed in any::<bool>(),
            ) {
                let all: Vec<Fulfillment> = [other, this.clone(), third]
                    .into_iter()
                    .take(others + 1)
                    .collect();
                let all = if all.len() == 1 { vec![this.clone()] } else { all };
                let shipping = if whole { Shipping::WholeOrder } else { Shipping::Lines };
                let row = previous.map(|(failed, same)| FulfilmentRow {
                    channel: "iconic".into(),
                    order_id: "7".into(),
                    fulfilment_id: this.id.clone(),
                    state: if failed { PushState::Failed } else { PushState::Pushed },
                    company: None,
                    tracking_number: None,
                    provider: None,
                    fingerprint: if same { fingerprint(&this) } else { "old".into() },
                    reason: None,
                    attempted_at: "T".into(),
                    pushed_at: None,
                    tracking_url: None,
                });
                let carriers_map =
                    BTreeMap::from([("Australia Post".to_string(), "AusPost".to_string())]);
                let list = carriers();
                let planned = plan(&Input {
                    channel: "iconic",
                    fulfilment: &this,
                    order_fulfilments: &all,
                    previous: row.as_ref(),
                    lines: &lines,
                    carriers: &carriers_map,
                    known_carriers: Known::Listed(&list),
                    tracking_number_problem: &no_spaces_or_slashes,
                    shipping,
                    retry_failed,
                });
                let pushed_before = row.as_ref().is_some_and(|r| r.state != PushState::Failed);
                if this.status == "SUCCESS" && pushed_before {
                    prop_assert_eq!(&planned, &Plan::Skip(Skip::Done));
                }
                let Plan::Push { line_ids, carrier, tracking_number, .. } = planned else {
                    return Ok(());
                };
                prop_assert_eq!(this.status.as_str(), "SUCCESS");
                prop_assert!(!carrier.is_empty());
                prop_assert!(!tracking_number.is_empty());
                prop_assert_eq!(tracking_number.trim(), tracking_number.as_str());
                let ids: HashSet<&str> = line_ids.iter().map(String::as_str).collect();
                prop_assert_eq!(ids.len(), line_ids.len(), "a line twice");
                let pushed: Vec<&LineRow> =
                    lines.iter().filter(|l| ids.contains(l.line_id.as_str())).collect();
                prop_assert_eq!(pushed.len(), line_ids.len(), "a line that does not exist");
                for l in &pushed {
                    prop_assert_eq!(&l.state, &LineState::Open, "line {}", l.line_id);
                    let mine = l.fulfilment_id.as_deref().is_none_or(|id| id == this.id);
                    prop_assert!(mine, "line {} is another fulfilment's", l.line_id);
                }
                let sent = units(pushed.iter().map(|l| (l.sku.as_str(), l.quantity)));
                match shipping {
                    Shipping::Lines => {
                        let fulfilled = units(
                            this.lines.iter().filter_map(|l| Some((l.sku.as_deref()?, l.quantity))),
                        );
                        for (sku, n) in &sent {
                            prop_assert!(*n <= fulfilled.get(sku).copied().unwrap_or(0), "{}", sku);
                        }
                    }
                    Shipping::WholeOrder => {
                        let open: Vec<&str> = lines
                            .iter()
                            .filter(|l| l.state == LineState::Open)
                            .map(|l| l.line_id.as_str())
                            .collect();
                        prop_assert_eq!(line_ids.iter().map(String::as_str).collect::<Vec<_>>(), open);
                        let fulfilled = units(
                            all.iter()
                                .filter(|f| f.status == "SUCCESS")
                                .flat_map(|f| &f.lines)
                                .filter_map(|l| Some((l.sku.as_deref()?, l.quantity))),
                        );
                        for (sku, n) in &sent {
                            prop_assert!(*n <= fulfilled.get(sku).copied().unwrap_or(0), "{}", sku);
                        }
                    }
                }
            }
        }
    }
}
