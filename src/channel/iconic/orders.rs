//! Orders (read): `GET /v2/orders`, paged: the orders waiting for the seller, or given
//! orders by id in whatever state they are now. Items are one unit each (no quantity).
//!
//! Each order is decoded on its own: one the contract cannot read (a price that is not
//! an amount, a field missing) comes back as an [`UnreadableOrder`] naming the field,
//! and never stops the others.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::{stream, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::listings::{self, parse_timestamp, update_date_param, ListBody, Pagination};
use super::transport::Transport;
use super::WireId;
use crate::channel::{id_chunks, ChannelError};
use crate::channel::{
    Address, ChannelOrder, LineState, OrderExtras, OrderLine, OrderStage, OrdersRead,
    UnreadableOrder,
};
use crate::money::Money;

const ORDERS: &str = "GET /v2/orders";
const ORDERS_PATH: &str = "/v2/orders";

/// The section of orders whose items wait for the seller: the channel's "new" state.
const NEW_SECTION: &str = "status_pending";

/// UNCONFIRMED: the sort parameter names (PIA's `sort`/`sortDir`; ZAL says
/// `order`/`order_dir`) and their values.
const SORT_PARAM: &str = "sort";
const SORT_DIR_PARAM: &str = "sortDir";
const SORT_BY_UPDATE: &str = "updatedAt";
const SORT_ASCENDING: &str = "asc";

/// UNCONFIRMED: the most `orderIds[]` one request may carry (no source states a cap;
/// 100 is PIA2's cap for seller SKUs and Mirakl's for order ids).
const ORDER_IDS_PER_REQUEST: usize = 100;

/// The list envelope, each order kept as its raw text: decoded one by one, with its
/// exact number text.
#[derive(Deserialize)]
struct OrdersPage {
    items: Vec<Box<RawValue>>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

impl From<OrdersPage> for ListBody<Box<RawValue>> {
    fn from(p: OrdersPage) -> Self {
        ListBody::Envelope {
            items: p.items,
            pagination: p.pagination,
        }
    }
}

/// Nullable fields are `Option` whatever the contract says: The Iconic writes `null`
/// for absent values, and a missing field the import needs is reported by name.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOrder {
    id: WireId,
    number: Option<WireId>,
    created_at: Option<String>,
    updated_at: Option<String>,
    currency: Option<String>,
    address: Option<WireAddresses>,
    delivery_info: Option<String>,
    grand_total: Option<Money>,
    items: Option<Vec<WireItem>>,
}

/// What names an order even when the rest of it cannot be read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireIdent<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    number: Option<&'a RawValue>,
    #[serde(borrow)]
    created_at: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct WireAddresses {
    billing: Option<WireAddress>,
    shipping: Option<WireAddress>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAddress {
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<Vec<Option<String>>>,
    address: Option<Vec<Option<String>>>,
    email: Option<String>,
    city: Option<String>,
    region: Option<String>,
    post_code: Option<String>,
    country: Option<String>,
}

/// UNCONFIRMED: prices are JSON numbers (PIA's floats); `Money` reads a number or a
/// string from its exact text either way.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireItem {
    id: WireId,
    status: Option<String>,
    product: Option<WireProduct>,
    paid_price: Option<Money>,
    shipping_fee: Option<Money>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireProduct {
    seller_sku: Option<String>,
}

fn unexpected(reason: String) -> ChannelError {
    ChannelError::Unexpected {
        endpoint: ORDERS,
        reason,
    }
}

/// `value`, or why not: `what` is missing.
fn present<T>(value: Option<T>, what: impl FnOnce() -> String) -> Result<T, String> {
    value.ok_or_else(|| format!("{} is missing", what()))
}

/// The non-blank entries, as written.
fn filled(values: Option<Vec<Option<String>>>) -> impl Iterator<Item = String> {
    values
        .into_iter()
        .flatten()
        .flatten()
        .filter(|v| !v.trim().is_empty())
}

/// One order from its raw text, or what names it and why it cannot be read.
fn read_order(raw: &RawValue) -> Result<ChannelOrder, UnreadableOrder> {
    crate::http::decode_record::<WireOrder>(raw.get())
        .and_then(WireOrder::into_order)
        .map_err(|reason| unreadable(raw, reason))
}

fn unreadable(raw: &RawValue, reason: String) -> UnreadableOrder {
    let ident: Option<WireIdent<'_>> = serde_json::from_str(raw.get()).ok();
    let text = |field: Option<&RawValue>| {
        field
            .and_then(|v| serde_json::from_str::<WireId>(v.get()).ok())
            .map(|id| id.to_string())
    };
    let (id, number, created_at) = match &ident {
        Some(i) => (text(i.id), text(i.number), text(i.created_at)),
        None => (None, None, None),
    };
    UnreadableOrder {
        id,
        number,
        created_at: created_at.as_deref().and_then(parse_timestamp),
        reason,
    }
}

impl WireOrder {
    fn into_order(self) -> Result<ChannelOrder, String> {
        // UNCONFIRMED (as for products): order times are RFC 3339 with an offset.
        let time = |field: &str, value: Option<String>| {
            let text = present(value, || field.to_string())?;
            parse_timestamp(&text)
                .ok_or_else(|| format!("{field} {text:?} is not an RFC 3339 time"))
        };
        let created_at = time("createdAt", self.created_at)?;
        let updated_at = time("updatedAt", self.updated_at)?;
        let number = present(self.number, || "number".to_string())?.to_string();
        let lines: Vec<OrderLine> = present(self.items, || "items".to_string())?
            .into_iter()
            .map(WireItem::into_line)
            .collect::<Result<_, _>>()?;
        let (billing, shipping) = self
            .address
            .map_or((None, None), |a| (a.billing, a.shipping));
        let email_of = |a: &Option<WireAddress>| {
            a.as_ref()
                .and_then(|a| a.email.clone())
                .filter(|e| !e.trim().is_empty())
        };
        let email = email_of(&shipping).or_else(|| email_of(&billing));
        Ok(ChannelOrder {
            id: self.id.to_string(),
            number,
            created_at,
            updated_at,
            currency: self.currency,
            email,
            shipping_address: shipping.map(WireAddress::into_address).unwrap_or_default(),
            delivery_info: self.delivery_info,
            grand_total: self.grand_total,
            stage: stage(&lines),
            lines,
            extras: OrderExtras::default(),
        })
    }
}

impl WireAddress {
    fn into_address(self) -> Address {
        Address {
            first_name: self.first_name.unwrap_or_default(),
            last_name: self.last_name.unwrap_or_default(),
            company: None,
            phone: filled(self.phone).next(),
            lines: filled(self.address).collect(),
            city: self.city.unwrap_or_default(),
            region: self.region.unwrap_or_default(),
            post_code: self.post_code.unwrap_or_default(),
            country: self.country.unwrap_or_default(),
        }
    }
}

impl WireItem {
    /// An item is one unit: a line of 1 keyed by the item's id.
    fn into_line(self) -> Result<OrderLine, String> {
        let id = self.id.to_string();
        let what = |field: &str| format!("item {id}: {field}");
        Ok(OrderLine {
            sku: present(self.product.and_then(|p| p.seller_sku), || {
                what("product.sellerSku")
            })?,
            quantity: 1,
            state: line_state(&present(self.status, || what("status"))?),
            unit_price: present(self.paid_price, || what("paidPrice"))?,
            // Only the item carrying the order's shipping has a fee.
            shipping_fee: self.shipping_fee.unwrap_or(Money::ZERO),
            properties: Vec::new(),
            id,
        })
    }
}

/// Seller Center's item statuses in neutral words; returns and statuses this version
/// does not know are kept verbatim.
fn line_state(status: &str) -> LineState {
    match status {
        "pending" => LineState::Open,
        "ready_to_ship" => LineState::ReadyToShip,
        "shipped" => LineState::Shipped,
        "delivered" => LineState::Delivered,
        "canceled" | "cancelled" => LineState::Cancelled,
        "failed" => LineState::Failed,
        other => LineState::Other(other.to_string()),
    }
}

/// Seller Center orders have no state of their own: their items' say it. An item whose
/// payment is pending makes the order wait for payment.
fn stage(lines: &[OrderLine]) -> OrderStage {
    let unpaid = LineState::Other(PAYMENT_PENDING.to_string());
    if lines.iter().any(|l| l.state == unpaid) {
        OrderStage::AwaitingPayment
    } else {
        OrderStage::of_lines(lines)
    }
}

/// The item status of an order not paid yet.
const PAYMENT_PENDING: &str = "payment_pending";

/// One page at `offset`, each order decoded on its own.
async fn page(
    transport: &Transport,
    filters: &[(&str, String)],
    offset: u64,
) -> Result<(OrdersRead, Option<u64>), ChannelError> {
    let (raw, next) = listings::page::<Box<RawValue>, OrdersPage>(
        transport,
        ORDERS,
        ORDERS_PATH,
        filters,
        offset,
    )
    .await?;
    let mut read = OrdersRead::default();
    for order in raw.iter().map(|r| read_order(r)) {
        match order {
            Ok(o) => read.orders.push(o),
            Err(u) => read.unreadable.push(u),
        }
    }
    Ok((read, next))
}

/// Every page, each passed by `check` before the next is asked for.
async fn every_page(
    transport: &Transport,
    filters: &[(&str, String)],
    check: impl Fn(&OrdersRead) -> Result<(), ChannelError>,
) -> Result<OrdersRead, ChannelError> {
    let mut all = OrdersRead::default();
    let mut offset = Some(0);
    while let Some(at) = offset {
        let (more, next) = page(transport, filters, at).await?;
        check(&more)?;
        all.extend(more);
        offset = next;
    }
    Ok(all)
}

/// Ids are integers: shorter first, then by text, sorts them numerically.
fn id_key(id: &str) -> (usize, String) {
    (id.len(), id.to_string())
}

/// One order per id, by id ascending. Offset paging over a list that changes while it
/// is read can show an order twice; its latest state wins. An order both read and not
/// (on two pages) counts as read.
fn unique_by_id(read: OrdersRead) -> OrdersRead {
    let mut unique = BTreeMap::new();
    for order in read.orders {
        match unique.entry(id_key(&order.id)) {
            Entry::Vacant(slot) => {
                slot.insert(order);
            }
            Entry::Occupied(mut seen) => {
                if order.updated_at >= seen.get().updated_at {
                    seen.insert(order);
                }
            }
        }
    }
    let mut unreadable = BTreeMap::new();
    let mut nameless = Vec::new();
    for order in read.unreadable {
        match order.id.as_deref().map(id_key) {
            Some(key) if unique.contains_key(&key) => {}
            Some(key) => {
                unreadable.insert(key, order);
            }
            None => nameless.push(order),
        }
    }
    OrdersRead {
        orders: unique.into_values().collect(),
        unreadable: unreadable.into_values().chain(nameless).collect(),
    }
}

pub(super) async fn new_orders(
    transport: &Transport,
    created_since: DateTime<Utc>,
    updated_since: Option<DateTime<Utc>>,
) -> Result<OrdersRead, ChannelError> {
    let mut filters = vec![
        ("section", NEW_SECTION.to_string()),
        ("dateStart", update_date_param(created_since)),
    ];
    if let Some(since) = updated_since {
        filters.push(("updateDateStart", update_date_param(since)));
    }
    // A fixed order so pages do not reshuffle between requests; an order that changes
    // mid-read can still repeat (deduplicated below) or be skipped (the caller's
    // overlapping `updated_since` re-reads it next pass).
    filters.push((SORT_PARAM, SORT_BY_UPDATE.to_string()));
    filters.push((SORT_DIR_PARAM, SORT_ASCENDING.to_string()));
    Ok(unique_by_id(
        every_page(transport, &filters, |_| Ok(())).await?,
    ))
}

/// Every page of the orders with these ids. An order that was not asked for means the
/// filter was ignored: reading on would page through the whole order book.
async fn chunk(transport: &Transport, ids: Vec<String>) -> Result<OrdersRead, ChannelError> {
    let filters: Vec<(&str, String)> = ids.iter().map(|id| ("orderIds[]", id.clone())).collect();
    every_page(transport, &filters, |page| {
        let answered = page
            .orders
            .iter()
            .map(|o| Some(o.id.as_str()))
            .chain(page.unreadable.iter().map(|u| u.id.as_deref()));
        for id in answered {
            if !id.is_some_and(|id| ids.iter().any(|asked| asked == id)) {
                return Err(unexpected(format!(
                    "answered order {} that was not asked for (orderIds[] filter ignored?)",
                    id.unwrap_or("without an id")
                )));
            }
        }
        Ok(())
    })
    .await
}

pub(super) async fn by_id(
    transport: &Transport,
    ids: &[String],
) -> Result<OrdersRead, ChannelError> {
    let chunks = id_chunks(ids, ORDER_IDS_PER_REQUEST);
    let answers: Vec<OrdersRead> = stream::iter(chunks)
        .map(|ids| chunk(transport, ids))
        .buffer_unordered(transport.concurrency())
        .try_collect()
        .await?;
    let mut all = OrdersRead::default();
    answers.into_iter().for_each(|a| all.extend(a));
    Ok(unique_by_id(all))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    use super::super::transport::{json as parse, test_transport, token_reply};
    use crate::test_server::{Reply, Request, TestServer};

    fn m(text: &str) -> Money {
        text.parse().unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// The query pairs of a request, decoded.
    fn query(seen: &Request) -> Vec<(String, String)> {
        reqwest::Url::parse(&format!("http://test{}", seen.target))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    fn param(seen: &Request, name: &str) -> Option<String> {
        query(seen)
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    fn order_requests(server: &TestServer) -> Vec<Request> {
        server
            .seen()
            .into_iter()
            .filter(|s| s.path() == ORDERS_PATH)
            .collect()
    }

    /// A minimal order in the sandbox's wire shape.
    fn order_json(id: u64, updated_at: &str) -> Value {
        json!({
            "id": id, "number": 1000 + id,
            "createdAt": "2026-11-02T01:00:00Z", "updatedAt": updated_at,
            "currency": "AUD", "grandTotal": 49.95,
            "address": {"shipping": {"firstName": "A", "email": "a@example.com"}},
            "items": [{"id": id * 10, "status": "pending", "product": {"sellerSku": "SKU"},
                       "paidPrice": 49.95, "shippingFee": 0.0}],
        })
    }

    fn ids(orders: &[ChannelOrder]) -> Vec<&str> {
        orders.iter().map(|o| o.id.as_str()).collect()
    }

    /// One order as the sandbox writes it: two one-unit items of the same SKU (kept
    /// byte for byte, trailing space included), prices as JSON numbers whose sum a
    /// float would get wrong, the shipping fee on the first item only.
    const REALISTIC: &str = r#"{"items":[{
        "id": 41, "uuid": "00000000-0000-4000-8000-000000000029", "number": 3000041,
        "sellerId": 7,
        "customer": {"firstName": "Jo", "lastName": "Citizen"},
        "address": {
          "billing": {"firstName": "Bill", "lastName": "Payer", "phone": ["0400 000 001"],
                      "address": ["1 Bill St"], "email": "billing@example.com", "city": "Perth",
                      "ward": null, "region": "WA", "postCode": "6000", "country": "AU"},
          "shipping": {"firstName": "Jo", "lastName": "Citizen", "phone": ["", "0400 000 002"],
                       "address": ["Unit 2", "", "10 George St"], "email": "", "city": "Sydney",
                       "ward": null, "region": "NSW", "postCode": "2000", "country": "AU"}
        },
        "deliveryInfo": "Standard", "paymentMethod": "CreditCard", "currency": "AUD",
        "createdAt": "2026-11-02T10:00:00+10:00", "updatedAt": "2026-11-02T00:05:00Z",
        "statusList": {"pending": 1, "canceled": 1}, "itemCount": 2,
        "grandTotal": 10.25,
        "items": [
          {"id": 901, "orderId": 41, "status": "pending",
           "product": {"sku": "SH-1", "sellerSku": "TEE-M ", "name": "Tee"},
           "unitPrice": 49.95, "paidPrice": 0.1, "shippingFee": 9.95,
           "createdAt": "2026-11-02T00:00:00Z", "updatedAt": "2026-11-02T00:00:00Z"},
          {"id": "902", "orderId": 41, "status": "canceled",
           "product": {"sku": "SH-1", "sellerSku": "TEE-M ", "name": "Tee"},
           "unitPrice": 49.95, "paidPrice": 0.2, "somethingNew": {"x": 1}}
        ]
      }], "pagination": {"limit": 100, "offset": 0, "totalCount": 1}}"#;

    #[test]
    fn a_realistic_order_maps_exactly() {
        let page: OrdersPage = parse(REALISTIC).unwrap();
        let orders: Vec<ChannelOrder> = page.items.iter().map(|o| read_order(o).unwrap()).collect();
        let expected = ChannelOrder {
            id: "41".into(),
            number: "3000041".into(),
            created_at: at("2026-11-02T00:00:00Z"),
            updated_at: at("2026-11-02T00:05:00Z"),
            currency: Some("AUD".into()),
            // The shipping email is blank: the billing one stands in.
            email: Some("billing@example.com".into()),
            shipping_address: Address {
                first_name: "Jo".into(),
                last_name: "Citizen".into(),
                company: None,
                phone: Some("0400 000 002".into()),
                lines: vec!["Unit 2".into(), "10 George St".into()],
                city: "Sydney".into(),
                region: "NSW".into(),
                post_code: "2000".into(),
                country: "AU".into(),
            },
            delivery_info: Some("Standard".into()),
            grand_total: Some(m("10.25")),
            stage: OrderStage::Ready,
            extras: OrderExtras::default(),
            lines: vec![
                OrderLine {
                    id: "901".into(),
                    sku: "TEE-M ".into(),
                    quantity: 1,
                    state: LineState::Open,
                    unit_price: m("0.1"),
                    shipping_fee: m("9.95"),
                    properties: vec![],
                },
                OrderLine {
                    id: "902".into(),
                    sku: "TEE-M ".into(),
                    quantity: 1,
                    state: LineState::Cancelled,
                    unit_price: m("0.2"),
                    shipping_fee: Money::ZERO,
                    properties: vec![],
                },
            ],
        };
        assert_eq!(orders, [expected]);
        let order = &orders[0];
        let paid: Money = order
            .lines
            .iter()
            .map(|l| l.unit_price + l.shipping_fee)
            .sum();
        assert_eq!(
            Some(paid),
            order.grand_total,
            "exact, unlike 0.1 + 0.2 + 9.95 in f64"
        );
    }

    /// Order 5 (number 1005) with `change` applied to its JSON, read as a page would.
    fn one_order_with(change: impl FnOnce(&mut Value)) -> Result<ChannelOrder, UnreadableOrder> {
        let mut order = order_json(5, "2026-11-02T02:00:00Z");
        change(&mut order);
        one_order_text(&order.to_string())
    }

    fn one_order_text(order: &str) -> Result<ChannelOrder, UnreadableOrder> {
        let page: OrdersPage = parse(&format!(r#"{{"items": [{order}]}}"#)).unwrap();
        read_order(&page.items[0])
    }

    /// Why order 5 could not be read; it is still named by id, number and time.
    fn reason(result: Result<ChannelOrder, UnreadableOrder>) -> String {
        let u = result.unwrap_err();
        assert_eq!(u.id.as_deref(), Some("5"));
        assert_eq!(u.number.as_deref(), Some("1005"));
        assert_eq!(u.created_at, Some(at("2026-11-02T01:00:00Z")));
        u.reason
    }

    #[test]
    fn what_the_import_needs_is_never_guessed() {
        assert!(one_order_with(|_| {}).is_ok());
        let no_price = one_order_with(|o| {
            o["items"][0].as_object_mut().unwrap().remove("paidPrice");
        });
        assert_eq!(reason(no_price), "item 50: paidPrice is missing");
        let null_price = one_order_with(|o| o["items"][0]["paidPrice"] = Value::Null);
        assert_eq!(reason(null_price), "item 50: paidPrice is missing");
        let bad_update = one_order_with(|o| o["updatedAt"] = json!("02/11/2026 10:00"));
        assert_eq!(
            reason(bad_update),
            r#"updatedAt "02/11/2026 10:00" is not an RFC 3339 time"#
        );
        let no_items = one_order_with(|o| o["items"] = Value::Null);
        assert_eq!(reason(no_items), "items is missing");
        let no_sku = one_order_with(|o| o["items"][0]["product"] = json!({"sku": "SH-1"}));
        assert_eq!(reason(no_sku), "item 50: product.sellerSku is missing");
        // No fee, no billing address, no email: not needed, left empty.
        let bare = one_order_with(|o| {
            o["items"][0].as_object_mut().unwrap().remove("shippingFee");
            o["address"] = json!({"shipping": {"email": null}});
        })
        .unwrap();
        assert_eq!(bare.lines[0].shipping_fee, Money::ZERO);
        assert_eq!(bare.email, None);
        assert_eq!(bare.shipping_address, Address::default());
    }

    #[test]
    fn an_item_awaiting_payment_makes_the_order_wait_for_payment() {
        let unpaid = one_order_with(|o| o["items"][0]["status"] = json!("payment_pending"));
        assert_eq!(unpaid.unwrap().stage, OrderStage::AwaitingPayment);
        assert_eq!(one_order_with(|_| {}).unwrap().stage, OrderStage::Ready);
    }

    #[test]
    fn a_price_that_is_not_an_amount_names_the_field_and_no_customer_data() {
        let order = order_json(5, "2026-11-02T02:00:00Z").to_string();
        for (text, why) in [
            ("1e3", r#""1e3" is not an amount like "49.95""#),
            ("1e400", r#""1e400" is not an amount like "49.95""#),
            // Through f64 this would be rounded to 29.95; its exact text is refused.
            (
                "29.950000000000003",
                r#""29.950000000000003" is not an amount like "49.95""#,
            ),
            (
                r#"{"amount": "jo@example.com"}"#,
                r#"a value of 28 characters is not an amount like "49.95""#,
            ),
        ] {
            let bad = order.replace(r#""paidPrice":49.95"#, &format!(r#""paidPrice":{text}"#));
            assert!(bad.contains(text));
            assert_eq!(
                reason(one_order_text(&bad)),
                format!("items[0].paidPrice: {why}"),
                "{text}"
            );
        }
        // A wrong type elsewhere: the path and the kind of problem, never the value.
        let bad = one_order_with(|o| o["currency"] = json!({"jo@example.com": 1}));
        let why = reason(bad);
        assert_eq!(why, "currency: invalid type, expected a string");
        // Not even an id: named by nothing, still reported.
        let nameless = one_order_text(r#"{"id": {"x": 1}, "number": 7, "items": []}"#).unwrap_err();
        assert_eq!((nameless.id, nameless.number.as_deref()), (None, Some("7")));
    }

    #[test]
    fn duplicates_keep_the_latest_state_and_ids_sort_numerically() {
        let order = |id: &str, updated: &str| ChannelOrder {
            id: id.into(),
            updated_at: at(updated),
            ..one_order_with(|_| {}).unwrap()
        };
        let unreadable = |id: &str| UnreadableOrder {
            id: Some(id.into()),
            number: None,
            created_at: None,
            reason: "x".into(),
        };
        let unique = unique_by_id(OrdersRead {
            orders: vec![
                order("10", "2026-11-02T03:00:00Z"),
                order("9", "2026-11-02T01:00:00Z"),
                order("10", "2026-11-02T04:00:00Z"),
                order("10", "2026-11-02T02:00:00Z"),
            ],
            // Read on another page: it counts as read.
            unreadable: vec![unreadable("9"), unreadable("11"), unreadable("11")],
        });
        assert_eq!(ids(&unique.orders), ["9", "10"]);
        assert_eq!(unique.orders[1].updated_at, at("2026-11-02T04:00:00Z"));
        assert_eq!(unique.unreadable, [unreadable("11")]);
        // Orders without an id cannot be told apart: each one counts.
        let nameless = UnreadableOrder {
            id: None,
            ..unreadable("x")
        };
        let read = unique_by_id(OrdersRead {
            orders: vec![],
            unreadable: vec![nameless.clone(), nameless.clone()],
        });
        assert_eq!(read.unreadable, [nameless.clone(), nameless]);
    }

    mod over_http {
        use super::*;

        fn page_body(orders: &[u64], pagination: Value) -> Reply {
            let items: Vec<Value> = orders
                .iter()
                .map(|id| order_json(*id, "2026-11-02T02:00:00Z"))
                .collect();
            Reply::json(&json!({"items": items, "pagination": pagination}))
        }

        fn offset(seen: &Request) -> u64 {
            param(seen, "offset").unwrap().parse().unwrap()
        }

        #[tokio::test]
        async fn new_orders_reads_every_page_by_total_count() {
            let server = TestServer::start(|seen| match seen.path() {
                "/oauth/client-credentials" => token_reply("t"),
                ORDERS_PATH => match offset(seen) {
                    0 => page_body(&[3, 1], json!({"limit": 2, "offset": 0, "totalCount": 5})),
                    2 => page_body(&[2, 5], json!({"limit": 2, "offset": 2, "totalCount": 5})),
                    _ => page_body(&[4], json!({"limit": 2, "offset": 4, "totalCount": 5})),
                },
                _ => Reply::new(404, "{}"),
            })
            .await;
            let t = test_transport(&server.url, 2);
            let orders = new_orders(
                &t,
                at("2026-11-01T00:00:00.750Z"),
                Some(at("2026-11-02T01:30:00Z")),
            )
            .await
            .unwrap()
            .orders;
            assert_eq!(ids(&orders), ["1", "2", "3", "4", "5"]);
            assert_eq!(orders[0].lines[0].unit_price, m("49.95"));

            let seen = order_requests(&server);
            assert_eq!(seen.iter().map(offset).collect::<Vec<_>>(), [0, 2, 4]);
            assert_eq!(t.requests()[ORDERS], 3);
            for request in &seen {
                let mut pairs = query(request);
                pairs.retain(|(key, _)| key != "offset");
                let pairs: Vec<(&str, &str)> = pairs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                assert_eq!(
                    pairs,
                    [
                        ("limit", "100"),
                        ("section", "status_pending"),
                        ("dateStart", "2026-11-01T00:00:00Z"),
                        ("updateDateStart", "2026-11-02T01:30:00Z"),
                        ("sort", "updatedAt"),
                        ("sortDir", "asc"),
                    ]
                );
            }
        }

        #[tokio::test]
        async fn new_orders_follows_has_next_and_drops_repeats() {
            let server = TestServer::start(|seen| match seen.path() {
                "/oauth/client-credentials" => token_reply("t"),
                ORDERS_PATH => match offset(seen) {
                    0 => page_body(&[7, 8], json!({"limit": 2, "offset": 0, "hasNext": true})),
                    // Order 8 moved back a place while the first page was read.
                    2 => page_body(&[8, 9], json!({"limit": 2, "offset": 2, "hasNext": true})),
                    _ => page_body(&[6], json!({"limit": 2, "offset": 4, "hasNext": false})),
                },
                _ => Reply::new(404, "{}"),
            })
            .await;
            let t = test_transport(&server.url, 2);
            let orders = new_orders(&t, at("2026-11-01T00:00:00Z"), None)
                .await
                .unwrap()
                .orders;
            assert_eq!(ids(&orders), ["6", "7", "8", "9"]);
            let seen = order_requests(&server);
            assert_eq!(seen.len(), 3);
            assert_eq!(param(&seen[0], "updateDateStart"), None);
            assert_eq!(
                param(&seen[0], "dateStart").as_deref(),
                Some("2026-11-01T00:00:00Z")
            );
        }

        #[tokio::test]
        async fn a_cut_off_body_is_read_again() {
            let full = json!({"items": [order_json(1, "2026-11-02T02:00:00Z")],
                              "pagination": {"totalCount": 1}})
            .to_string();
            let cut = full[..full.find("49.95").unwrap() + 3].to_string();
            let served = std::sync::atomic::AtomicU32::new(0);
            let server = TestServer::start(move |seen| match seen.path() {
                "/oauth/client-credentials" => token_reply("t"),
                _ if served.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 => {
                    Reply::new(200, &cut)
                }
                _ => Reply::new(200, &full),
            })
            .await;
            let t = test_transport(&server.url, 1);
            let orders = new_orders(&t, at("2026-11-01T00:00:00Z"), None)
                .await
                .unwrap()
                .orders;
            assert_eq!(orders[0].lines[0].unit_price, m("49.95"));
            assert_eq!(t.requests()[ORDERS], 2);
        }

        /// Answers each request with the asked-for orders, except ids divisible by 7
        /// (gone from the channel).
        async fn order_book() -> TestServer {
            TestServer::start(|seen| match seen.path() {
                "/oauth/client-credentials" => token_reply("t"),
                ORDERS_PATH => {
                    let asked: Vec<u64> = query(seen)
                        .into_iter()
                        .filter(|(key, _)| key == "orderIds[]")
                        .map(|(_, id)| id.parse().unwrap())
                        .filter(|id| id % 7 != 0)
                        .collect();
                    let total = asked.len();
                    page_body(
                        &asked,
                        json!({"limit": 100, "offset": 0, "totalCount": total}),
                    )
                }
                _ => Reply::new(404, "{}"),
            })
            .await
        }

        #[tokio::test]
        async fn by_id_asks_in_chunks_of_100() {
            let server = order_book().await;
            let t = test_transport(&server.url, 2);
            // Reversed, with a repeat: asked once each, answered by id ascending.
            let mut wanted: Vec<String> = (1..=250).rev().map(|id| id.to_string()).collect();
            wanted.push("3".into());
            let orders = by_id(&t, &wanted).await.unwrap().orders;
            let expected: Vec<String> = (1..=250)
                .filter(|id| id % 7 != 0)
                .map(|id| id.to_string())
                .collect();
            assert_eq!(ids(&orders), expected);

            let seen = order_requests(&server);
            assert_eq!(seen.len(), 3);
            let mut sent: Vec<u64> = Vec::new();
            for request in &seen {
                let pairs = query(request);
                let chunk: Vec<u64> = pairs
                    .iter()
                    .filter(|(key, _)| key == "orderIds[]")
                    .map(|(_, id)| id.parse().unwrap())
                    .collect();
                assert!(!chunk.is_empty() && chunk.len() <= 100, "{}", chunk.len());
                assert_eq!(param(request, "limit").as_deref(), Some("100"));
                assert_eq!(param(request, "offset").as_deref(), Some("0"));
                assert_eq!(param(request, "section"), None, "any section");
                sent.extend(chunk);
            }
            sent.sort_unstable();
            assert_eq!(sent, (1..=250).collect::<Vec<u64>>());
        }

        #[tokio::test]
        async fn no_ids_no_request() {
            let server = order_book().await;
            let t = test_transport(&server.url, 2);
            assert_eq!(by_id(&t, &[]).await.unwrap(), OrdersRead::default());
            assert!(server.seen().is_empty());
        }

        #[tokio::test]
        async fn an_ignored_id_filter_stops_the_read() {
            let server = TestServer::start(|seen| match seen.path() {
                "/oauth/client-credentials" => token_reply("t"),
                _ => page_body(
                    &[1, 2],
                    json!({"limit": 100, "offset": 0, "totalCount": 900}),
                ),
            })
            .await;
            let t = test_transport(&server.url, 2);
            let error = by_id(&t, &["1".to_string()]).await.unwrap_err();
            assert!(
                matches!(&error, ChannelError::Unexpected { endpoint: ORDERS, reason }
                    if reason == "answered order 2 that was not asked for (orderIds[] filter ignored?)"),
                "{error:?}"
            );
            assert_eq!(t.requests()[ORDERS], 1);
        }

        #[test]
        fn futures_are_send() {
            fn assert_send<T: Send>(_: &T) {}
            let t = test_transport("http://127.0.0.1:9", 1);
            let ids = vec!["1".to_string()];
            assert_send(&by_id(&t, &ids));
            assert_send(&new_orders(&t, Utc::now(), None));
        }
    }

    /// An order as [`REALISTIC`] has it, its customer's data planted.
    fn planted_order(rng: &mut fastrand::Rng) -> Value {
        use crate::http::fuzz::planted;
        let address = |rng: &mut fastrand::Rng| {
            json!({"firstName": planted(rng), "lastName": planted(rng),
                   "phone": [planted(rng), "0400 000 002"], "address": [planted(rng), "", planted(rng)],
                   "email": planted(rng), "city": planted(rng), "ward": null, "region": planted(rng),
                   "postCode": planted(rng), "country": planted(rng)})
        };
        let (billing, shipping) = (address(rng), address(rng));
        json!({
            "id": 41, "uuid": "00000000-0000-4000-8000-000000000029", "number": 3000041,
            "customer": {"firstName": planted(rng), "lastName": planted(rng)},
            "address": {"billing": billing, "shipping": shipping},
            "deliveryInfo": "Standard", "currency": "AUD",
            "createdAt": "2026-11-02T10:00:00+10:00", "updatedAt": "2026-11-02T00:05:00Z",
            "grandTotal": 10.25,
            "items": [
                {"id": 901, "status": "pending", "product": {"sku": "SH-1", "sellerSku": "TEE-M "},
                 "paidPrice": 0.1, "shippingFee": 9.95},
                {"id": "902", "status": "canceled", "product": {"sellerSku": "TEE-M "}, "paidPrice": 0.2}
            ]
        })
    }

    /// Fields an order's reason may name.
    const FIELDS: [&str; 16] = [
        "id",
        "number",
        "createdAt",
        "updatedAt",
        "currency",
        "address",
        "deliveryInfo",
        "grandTotal",
        "items",
        "status",
        "product",
        "sellerSku",
        "paidPrice",
        "shippingFee",
        "billing",
        "shipping",
    ];

    /// Orders of any shape in a page: never a panic; an order that cannot be read is
    /// held with a reason naming the field and never the customer's data; one that can
    /// is whole (one unit per line, the stage its lines say, no blank address lines).
    #[test]
    #[ignore = "fuzzing: make fuzz"]
    fn fuzz_iconic_read_order() {
        use crate::http::fuzz::{self, text_body, PLANTED};
        fuzz::run("iconic_read_order", |rng, input| {
            let sample = planted_order(rng);
            let order = text_body(rng, &sample);
            *input = format!(r#"{{"items": [{order}], "pagination": {{"totalCount": 1}}}}"#);
            let page: OrdersPage = match parse(input) {
                Ok(page) => page,
                Err(e) => {
                    let said = crate::http::undecodable(&e, input);
                    return match said.contains(PLANTED) {
                        true => Err(format!("the page's error repeats customer data: {said}")),
                        false => Ok(()),
                    };
                }
            };
            for raw in &page.items {
                match read_order(raw) {
                    Err(u) => {
                        if format!("{u:?}").contains(PLANTED) {
                            return Err(format!("repeats customer data: {u:?}"));
                        }
                        // Not an object: the path from the top (`.`, or `[2]` where
                        // serde read a list as the order's fields in turn).
                        let object = raw.get().trim_start().starts_with('{');
                        let named = FIELDS.iter().any(|f| u.reason.contains(f));
                        let placed = u.reason.starts_with(['.', '[']);
                        if object && !named || !object && !placed {
                            return Err(format!("names no field: {}", u.reason));
                        }
                    }
                    Ok(o) => {
                        if let Some(l) = o.lines.iter().find(|l| l.quantity != 1) {
                            return Err(format!("line {} of {} units", l.id, l.quantity));
                        }
                        if o.stage != stage(&o.lines) {
                            return Err(format!("stage {:?}", o.stage));
                        }
                        if o.shipping_address.lines.iter().any(|l| l.trim().is_empty()) {
                            return Err("a blank address line".into());
                        }
                    }
                }
            }
            Ok(())
        });
    }
}
