//! Order import planning (design §8), pure: a channel order and what Shopify has for
//! its SKUs in, a decision out (create this order, or hold it and why); and the watch
//! that compares an imported order with the channel's current copy.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use crate::channel::{ChannelOrder, ItemStatus, OrderItem};
use crate::config::OrdersConfig;
use crate::db::catalog::SkuStock;
use crate::money::Money;
use crate::shopify::orders::{
    Attribute, MoneyBag, NewAddress, NewLine, NewOrder, NewShippingLine, NewTransaction,
};

/// UNCONFIRMED: the currency of an order whose channel does not name one. The Iconic
/// sells in Australian dollars.
pub const FALLBACK_CURRENCY: &str = "AUD";

/// The largest amount (one price, a fee, a total) an order can plausibly carry: beyond it
/// the channel's figure is a fault, not a sale.
const MAX_AMOUNT: Money = Money::units(1_000_000);

/// The shipping line's title when neither the config nor the channel names one.
const DEFAULT_SHIPPING_TITLE: &str = "Shipping";

/// What identifies a channel order in Shopify: its `sourceIdentifier`, also added as a
/// tag so a second lookup path exists.
pub fn source_identifier(channel: &str, order_id: &str) -> String {
    format!("{channel}:{order_id}")
}

/// Items that still count: a cancelled item is not sold.
fn live(order: &ChannelOrder) -> impl Iterator<Item = &OrderItem> {
    order
        .items
        .iter()
        .filter(|i| i.status != ItemStatus::Canceled)
}

/// A new order the import may take: every live item waits for the seller.
pub fn is_new(order: &ChannelOrder) -> bool {
    live(order).next().is_some() && live(order).all(|i| i.status == ItemStatus::Pending)
}

/// Every item cancelled on the channel.
pub fn is_cancelled(order: &ChannelOrder) -> bool {
    !order.items.is_empty() && live(order).next().is_none()
}

/// One Shopify line: every unit of a SKU sold at the same price (units at different
/// prices, e.g. one with a voucher, stay separate lines so totals stay exact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLine {
    pub sku: String,
    pub quantity: i64,
    pub unit_price: Money,
}

/// The channel's one-unit items aggregated, in the order they first appear.
pub fn lines(order: &ChannelOrder) -> Vec<PlannedLine> {
    let mut out: Vec<PlannedLine> = Vec::new();
    for item in live(order) {
        match out
            .iter_mut()
            .find(|l| l.sku == item.sku && l.unit_price == item.paid_price)
        {
            Some(line) => line.quantity += 1,
            None => out.push(PlannedLine {
                sku: item.sku.clone(),
                quantity: 1,
                unit_price: item.paid_price,
            }),
        }
    }
    out
}

/// The live item ids: what the Shopify order is created from.
pub fn live_item_ids(order: &ChannelOrder) -> Vec<String> {
    live(order).map(|i| i.id.clone()).collect()
}

/// Why an order cannot be created now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No matched listing has this SKU.
    Unmatched { sku: String },
    /// Shopify has fewer available than the order wants (an oversell).
    Short {
        sku: String,
        wanted: i64,
        available: i64,
    },
    /// An amount no sale has: below zero, or beyond [`MAX_AMOUNT`].
    Amount {
        /// Which amount: "item 901 (SKU \"LS-S\") paid price".
        what: String,
        amount: Money,
    },
}

impl Problem {
    /// Identifies the problem across passes (the email goes out once per key).
    pub fn key(&self) -> String {
        match self {
            Self::Unmatched { sku } => format!("unmatched:{sku}"),
            Self::Short { sku, .. } => format!("stock:{sku}"),
            Self::Amount { what, amount } => format!("amount:{what}:{amount}"),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unmatched { sku } => write!(
                f,
                "SKU {sku:?} is not matched to a Shopify variant (see `skubridge unmatched`)"
            ),
            Self::Short {
                sku,
                wanted,
                available,
            } => write!(
                f,
                "SKU {sku:?}: wanted {wanted}, Shopify has {available} available"
            ),
            Self::Amount { what, amount } => write!(
                f,
                "{what} {amount} is {}: correct it on the channel, or process the order by hand",
                if amount.is_negative() {
                    "below zero"
                } else {
                    "more than any sale"
                }
            ),
        }
    }
}

/// What Shopify has for each SKU of the orders being planned (absent: not matched),
/// and what orders created earlier in this pass already took.
#[derive(Debug, Default)]
pub struct Stock {
    pub skus: HashMap<String, SkuStock>,
    /// Units per inventory item claimed by orders created in this pass and not yet
    /// reflected in `SkuStock::available`.
    pub claimed: HashMap<String, i64>,
}

impl Stock {
    fn available(&self, s: &SkuStock) -> i64 {
        let claimed = self.claimed.get(&s.inventory_item_id).copied().unwrap_or(0);
        s.available.saturating_sub(claimed)
    }

    /// Records an order's units as taken.
    pub fn claim(&mut self, lines: &[PlannedLine]) {
        for line in lines {
            if let Some(s) = self.skus.get(&line.sku) {
                let claimed = self.claimed.entry(s.inventory_item_id.clone()).or_default();
                *claimed = claimed.saturating_add(line.quantity);
            }
        }
    }
}

/// How a channel's orders look in Shopify.
pub struct Rules<'a> {
    pub channel: &'a str,
    pub orders: &'a OrdersConfig,
}

/// Either the order to create, or every reason it cannot be created now.
pub fn decide(
    order: &ChannelOrder,
    rules: &Rules<'_>,
    stock: &Stock,
) -> Result<NewOrder, Vec<Problem>> {
    let lines = lines(order);
    let mut wanted: HashMap<&str, i64> = HashMap::new();
    for line in &lines {
        *wanted.entry(line.sku.as_str()).or_default() += line.quantity;
    }
    let mut problems = impossible_amounts(order);
    let mut seen = BTreeSet::new();
    for line in &lines {
        if !seen.insert(line.sku.as_str()) {
            continue;
        }
        let want = wanted[line.sku.as_str()];
        match stock.skus.get(&line.sku) {
            None => problems.push(Problem::Unmatched {
                sku: line.sku.clone(),
            }),
            Some(s) if stock.available(s) < want => problems.push(Problem::Short {
                sku: line.sku.clone(),
                wanted: want,
                available: stock.available(s).max(0),
            }),
            Some(_) => {}
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(draft(order, &lines, rules, &stock.skus))
}

/// Every amount of the order that no sale can have. A Shopify order made from them would
/// not match what the customer paid.
fn impossible_amounts(order: &ChannelOrder) -> Vec<Problem> {
    let possible = |m: Money| !m.is_negative() && m <= MAX_AMOUNT;
    let mut out = Vec::new();
    for item in live(order) {
        let amounts = [
            ("paid price", item.paid_price),
            ("shipping fee", item.shipping_fee),
        ];
        for (name, amount) in amounts.into_iter().filter(|(_, a)| !possible(*a)) {
            out.push(Problem::Amount {
                what: format!("item {} (SKU {:?}) {name}", item.id, item.sku),
                amount,
            });
        }
    }
    if let Some(total) = order.grand_total.filter(|t| !possible(*t)) {
        out.push(Problem::Amount {
            what: "the order's grand total".into(),
            amount: total,
        });
    }
    out
}

/// The `orderCreate` input for an order whose every SKU is matched.
fn draft(
    order: &ChannelOrder,
    lines: &[PlannedLine],
    rules: &Rules<'_>,
    skus: &HashMap<String, SkuStock>,
) -> NewOrder {
    let currency = order.currency.as_deref().unwrap_or(FALLBACK_CURRENCY);
    let mut line_items: Vec<NewLine> = lines
        .iter()
        .map(|l| NewLine {
            variant_id: skus.get(&l.sku).map(|s| s.variant_id.clone()),
            title: None,
            sku: None,
            quantity: l.quantity,
            price_set: MoneyBag::new(l.unit_price, currency),
            requires_shipping: true,
            taxable: true,
        })
        .collect();
    if let Some(extra) = &rules.orders.extra_line_item {
        line_items.push(NewLine {
            variant_id: None,
            title: Some(extra.title.clone()),
            sku: None,
            quantity: 1,
            price_set: MoneyBag::new(extra.price, currency),
            requires_shipping: false,
            taxable: false,
        });
    }
    let shipping_fee: Money = live(order).map(|i| i.shipping_fee).sum();
    let address = address(order);
    let shipping_title = address
        .country_code
        .as_ref()
        .and_then(|c| rules.orders.shipping_by_country.get(c))
        .cloned()
        .or_else(|| order.delivery_info.clone().filter(|d| !d.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_SHIPPING_TITLE.to_string());
    let total = value(lines, shipping_fee, rules);
    let source = source_identifier(rules.channel, &order.id);
    let mut tags = rules.orders.tags.clone();
    tags.push(rules.channel.to_string());
    tags.push(source.clone());
    NewOrder {
        currency: currency.to_string(),
        email: order.email.clone(),
        line_items,
        shipping_lines: vec![NewShippingLine {
            title: shipping_title,
            price_set: MoneyBag::new(shipping_fee, currency),
        }],
        shipping_address: address,
        financial_status: "PAID",
        transactions: vec![NewTransaction {
            kind: "SALE",
            status: "SUCCESS",
            gateway: rules.channel.to_string(),
            amount_set: MoneyBag::new(total, currency),
        }],
        tags,
        note: format!(
            "{} order {} (id {}), imported by skubridge",
            rules.channel, order.number, order.id
        ),
        source_identifier: source,
        custom_attributes: vec![
            Attribute {
                key: format!("{} order number", rules.channel),
                value: order.number.clone(),
            },
            Attribute {
                key: format!("{} order id", rules.channel),
                value: order.id.clone(),
            },
        ],
    }
}

/// What the Shopify order charges: its lines, the extra line and shipping.
fn value(lines: &[PlannedLine], shipping: Money, rules: &Rules<'_>) -> Money {
    let goods: Money = lines.iter().map(|l| l.unit_price.times(l.quantity)).sum();
    let extra = rules
        .orders
        .extra_line_item
        .as_ref()
        .map_or(Money::ZERO, |e| e.price);
    goods + extra + shipping
}

/// The total of an order input, as recorded before it is sent.
pub fn order_value(order: &NewOrder) -> Money {
    let lines: Money = order
        .line_items
        .iter()
        .map(|l| l.price_set.shop_money.amount.times(l.quantity))
        .sum();
    lines
        + order
            .shipping_lines
            .iter()
            .map(|s| s.price_set.shop_money.amount)
            .sum()
}

fn address(order: &ChannelOrder) -> NewAddress {
    let a = &order.shipping_address;
    let country_code = country_code(&a.country);
    let non_empty = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    NewAddress {
        first_name: a.first_name.clone(),
        last_name: a.last_name.clone(),
        address1: a.lines.first().cloned(),
        address2: (a.lines.len() > 1).then(|| a.lines[1..].join(", ")),
        city: a.city.clone(),
        province_code: non_empty(&province_code(&a.region, country_code.as_deref())),
        zip: a.post_code.clone(),
        country_code,
        phone: a.phone.clone(),
    }
}

/// UNCONFIRMED: whether Seller Center writes countries as ISO codes or names. Both are
/// read; a name this table does not know leaves the code out rather than guessing.
fn country_code(country: &str) -> Option<String> {
    let c = country.trim();
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Some(c.to_ascii_uppercase());
    }
    let code = match c.to_ascii_lowercase().as_str() {
        "australia" => "AU",
        "new zealand" => "NZ",
        _ => return None,
    };
    Some(code.to_string())
}

/// Shopify wants Australian states as codes ("NSW"); a region already a code, or
/// outside Australia, is passed through.
fn province_code(region: &str, country: Option<&str>) -> String {
    const AU_STATES: [(&str, &str); 8] = [
        ("new south wales", "NSW"),
        ("victoria", "VIC"),
        ("queensland", "QLD"),
        ("western australia", "WA"),
        ("south australia", "SA"),
        ("tasmania", "TAS"),
        ("australian capital territory", "ACT"),
        ("northern territory", "NT"),
    ];
    let r = region.trim();
    if country == Some("AU") {
        if let Some((_, code)) = AU_STATES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(r))
        {
            return code.to_string();
        }
    }
    r.to_string()
}

/// What changed on the channel for an imported order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Still as imported, still open.
    None,
    /// Items were added, removed or some cancelled: a person must reconcile.
    ItemsChanged { imported: usize, now: usize },
    /// Every item was cancelled.
    Cancelled,
    /// Shipped, delivered or otherwise done: nothing more to watch.
    Closed,
}

pub fn watch(imported_items: &[String], current: &ChannelOrder) -> Change {
    if is_cancelled(current) {
        return Change::Cancelled;
    }
    let was: BTreeSet<&str> = imported_items.iter().map(String::as_str).collect();
    let now: BTreeSet<&str> = live(current).map(|i| i.id.as_str()).collect();
    if was != now {
        return Change::ItemsChanged {
            imported: was.len(),
            now: now.len(),
        };
    }
    if live(current).any(|i| i.status.is_open()) {
        Change::None
    } else {
        Change::Closed
    }
}

/// Shopify's total minus the channel's, when both are known and differ.
pub fn difference(shopify: Option<&str>, channel: Option<&str>) -> Option<Money> {
    let s: Money = shopify?.parse().ok()?;
    let c: Money = channel?.parse().ok()?;
    Some(s - c).filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Address;
    use crate::config::ExtraLine;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    fn item(id: &str, sku: &str, price: &str, status: ItemStatus) -> OrderItem {
        OrderItem {
            id: id.into(),
            sku: sku.into(),
            status,
            paid_price: m(price),
            shipping_fee: Money::ZERO,
        }
    }

    fn order(items: Vec<OrderItem>) -> ChannelOrder {
        let t = crate::clock::parse("2026-11-27T01:00:00Z").unwrap();
        ChannelOrder {
            id: "501".into(),
            number: "300501".into(),
            created_at: t,
            updated_at: t,
            currency: Some("AUD".into()),
            email: Some("jo@example.com".into()),
            shipping_address: Address {
                first_name: "Jo".into(),
                last_name: "Citizen".into(),
                phone: Some("0400000000".into()),
                lines: vec!["1 George St".into(), "Level 2".into()],
                city: "Sydney".into(),
                region: "New South Wales".into(),
                post_code: "2000".into(),
                country: "Australia".into(),
            },
            delivery_info: Some("Standard".into()),
            grand_total: Some(m("109.85")),
            items,
        }
    }

    fn stock(skus: &[(&str, i64)]) -> Stock {
        Stock {
            skus: skus
                .iter()
                .map(|(sku, available)| {
                    (
                        sku.to_string(),
                        SkuStock {
                            variant_id: format!("gid://shopify/ProductVariant/{sku}"),
                            inventory_item_id: format!("item-{sku}"),
                            available: *available,
                        },
                    )
                })
                .collect(),
            claimed: HashMap::new(),
        }
    }

    fn rules(cfg: &OrdersConfig) -> Rules<'_> {
        Rules {
            channel: "iconic",
            orders: cfg,
        }
    }

    #[test]
    fn one_unit_items_become_lines_per_sku_and_price() {
        use ItemStatus::*;
        let o = order(vec![
            item("1", "A", "49.95", Pending),
            item("2", "B", "10", Pending),
            item("3", "A", "49.95", Pending),
            item("4", "A", "39.95", Pending),
            item("5", "B", "10", Canceled),
        ]);
        let planned = lines(&o);
        let got: Vec<(&str, i64, Money)> = planned
            .iter()
            .map(|l| (l.sku.as_str(), l.quantity, l.unit_price))
            .collect();
        assert_eq!(
            got,
            [
                ("A", 2, m("49.95")),
                ("B", 1, m("10")),
                ("A", 1, m("39.95"))
            ]
        );
        assert_eq!(live_item_ids(&o), ["1", "2", "3", "4"]);
    }

    #[test]
    fn a_created_order_carries_prices_shipping_address_tags_and_identity() {
        let mut o = order(vec![
            item("1", "A", "49.95", ItemStatus::Pending),
            item("2", "A", "49.95", ItemStatus::Pending),
        ]);
        o.items[0].shipping_fee = m("9.95");
        let cfg = OrdersConfig {
            tags: vec!["the-iconic".into()],
            extra_line_item: Some(ExtraLine {
                title: "THE ICONIC ORDER".into(),
                price: Money::ZERO,
            }),
            shipping_by_country: [("AU".to_string(), "Standard AU".to_string())].into(),
        };
        let new = decide(&o, &rules(&cfg), &stock(&[("A", 5)])).unwrap();
        assert_eq!(new.line_items.len(), 2);
        let line = &new.line_items[0];
        assert_eq!(
            line.variant_id.as_deref(),
            Some("gid://shopify/ProductVariant/A")
        );
        assert_eq!(
            (line.quantity, line.price_set.shop_money.amount),
            (2, m("49.95"))
        );
        assert_eq!(new.line_items[1].title.as_deref(), Some("THE ICONIC ORDER"));
        assert!(!new.line_items[1].requires_shipping);
        assert_eq!(new.shipping_lines[0].title, "Standard AU");
        assert_eq!(new.shipping_lines[0].price_set.shop_money.amount, m("9.95"));
        assert_eq!(
            new.transactions[0].amount_set.shop_money.amount,
            m("109.85")
        );
        assert_eq!(order_value(&new), m("109.85"));
        assert_eq!(new.transactions[0].gateway, "iconic");
        assert_eq!(new.tags, ["the-iconic", "iconic", "iconic:501"]);
        assert_eq!(new.source_identifier, "iconic:501");
        assert!(new.note.contains("300501"), "{}", new.note);
        let a = &new.shipping_address;
        assert_eq!(
            (a.country_code.as_deref(), a.province_code.as_deref()),
            (Some("AU"), Some("NSW"))
        );
        assert_eq!(a.address2.as_deref(), Some("Level 2"));
        assert_eq!(new.custom_attributes[0].value, "300501");
        assert_eq!(new.custom_attributes[1].value, "501");
    }

    #[test]
    fn shipping_title_falls_back_to_the_channels_delivery_info() {
        let o = order(vec![item("1", "A", "5", ItemStatus::Pending)]);
        let cfg = OrdersConfig::default();
        let new = decide(&o, &rules(&cfg), &stock(&[("A", 1)])).unwrap();
        assert_eq!(new.shipping_lines[0].title, "Standard");
        assert_eq!(new.tags, ["iconic", "iconic:501"]);
    }

    #[test]
    fn unmatched_and_short_skus_hold_the_order_with_every_reason() {
        use ItemStatus::Pending;
        let o = order(vec![
            item("1", "A", "1", Pending),
            item("2", "A", "2", Pending),
            item("3", "NOPE", "1", Pending),
            item("4", "B", "1", Pending),
        ]);
        let cfg = OrdersConfig::default();
        let problems = decide(&o, &rules(&cfg), &stock(&[("A", 1), ("B", 1)])).unwrap_err();
        assert_eq!(
            problems,
            [
                Problem::Short {
                    sku: "A".into(),
                    wanted: 2,
                    available: 1
                },
                Problem::Unmatched { sku: "NOPE".into() },
            ]
        );
        assert_eq!(
            problems[0].to_string(),
            "SKU \"A\": wanted 2, Shopify has 1 available"
        );
    }

    #[test]
    fn impossible_amounts_hold_the_order_with_what_and_where() {
        use ItemStatus::{Canceled, Pending};
        let mut o = order(vec![
            item("1", "A", "-5.00", Pending),
            item("2", "A", "1000000.01", Pending),
            // A cancelled item is not sold: its amounts do not matter.
            item("3", "A", "-1", Canceled),
        ]);
        o.items[0].shipping_fee = m("-0.01");
        o.grand_total = Some(m("-4.99"));
        let cfg = OrdersConfig::default();
        let problems = decide(&o, &rules(&cfg), &stock(&[("A", 5)])).unwrap_err();
        let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            [
                "item 1 (SKU \"A\") paid price -5.00 is below zero: correct it on the channel, or process the order by hand",
                "item 1 (SKU \"A\") shipping fee -0.01 is below zero: correct it on the channel, or process the order by hand",
                "item 2 (SKU \"A\") paid price 1000000.01 is more than any sale: correct it on the channel, or process the order by hand",
                "the order's grand total -4.99 is below zero: correct it on the channel, or process the order by hand",
            ]
        );
        assert_eq!(
            problems[0].key(),
            "amount:item 1 (SKU \"A\") paid price:-5.00"
        );
        // Zero is a real price (a gift, a full voucher), and a million exactly is allowed.
        let fine = order(vec![
            item("1", "A", "0", Pending),
            item("2", "A", "1000000", Pending),
        ]);
        assert!(decide(&fine, &rules(&cfg), &stock(&[("A", 5)])).is_ok());
    }

    #[test]
    fn units_claimed_by_earlier_orders_in_the_pass_count() {
        let o = order(vec![item("1", "A", "1", ItemStatus::Pending)]);
        let cfg = OrdersConfig::default();
        let mut s = stock(&[("A", 1)]);
        assert!(decide(&o, &rules(&cfg), &s).is_ok());
        s.claim(&lines(&o));
        assert_eq!(
            decide(&o, &rules(&cfg), &s).unwrap_err(),
            [Problem::Short {
                sku: "A".into(),
                wanted: 1,
                available: 0
            }]
        );
    }

    #[test]
    fn new_and_cancelled_orders() {
        use ItemStatus::*;
        assert!(is_new(&order(vec![
            item("1", "A", "1", Pending),
            item("2", "A", "1", Canceled)
        ])));
        assert!(!is_new(&order(vec![item("1", "A", "1", ReadyToShip)])));
        assert!(!is_new(&order(vec![item("1", "A", "1", Canceled)])));
        assert!(is_cancelled(&order(vec![item("1", "A", "1", Canceled)])));
        assert!(!is_cancelled(&order(vec![])));
    }

    #[test]
    fn watch_sees_added_removed_and_cancelled_items() {
        use ItemStatus::*;
        let imported = ["1".to_string(), "2".to_string()];
        let same = order(vec![
            item("1", "A", "1", Pending),
            item("2", "A", "1", ReadyToShip),
        ]);
        assert_eq!(watch(&imported, &same), Change::None);
        let added = order(vec![
            item("1", "A", "1", Pending),
            item("2", "A", "1", Pending),
            item("3", "B", "1", Pending),
        ]);
        assert_eq!(
            watch(&imported, &added),
            Change::ItemsChanged {
                imported: 2,
                now: 3
            }
        );
        let removed = order(vec![item("1", "A", "1", Pending)]);
        assert_eq!(
            watch(&imported, &removed),
            Change::ItemsChanged {
                imported: 2,
                now: 1
            }
        );
        let one_cancelled = order(vec![
            item("1", "A", "1", Pending),
            item("2", "A", "1", Canceled),
        ]);
        assert!(matches!(
            watch(&imported, &one_cancelled),
            Change::ItemsChanged { .. }
        ));
        let cancelled = order(vec![
            item("1", "A", "1", Canceled),
            item("2", "A", "1", Canceled),
        ]);
        assert_eq!(watch(&imported, &cancelled), Change::Cancelled);
        let shipped = order(vec![
            item("1", "A", "1", Shipped),
            item("2", "A", "1", Delivered),
        ]);
        assert_eq!(watch(&imported, &shipped), Change::Closed);
    }

    #[test]
    fn countries_and_differences() {
        assert_eq!(country_code("au").as_deref(), Some("AU"));
        assert_eq!(country_code(" New Zealand ").as_deref(), Some("NZ"));
        assert_eq!(country_code("Narnia"), None);
        assert_eq!(province_code("VIC", Some("AU")), "VIC");
        assert_eq!(province_code("Auckland", Some("NZ")), "Auckland");
        assert_eq!(difference(Some("10.00"), Some("10")), None);
        assert_eq!(difference(Some("10.00"), Some("9.95")), Some(m("0.05")));
        assert_eq!(difference(None, Some("9.95")), None);
    }
}
