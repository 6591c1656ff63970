//! Orders: `GET /v2/orders` (paged, filtered by section, dates, numbers and ids, sorted)
//! over the seller's order book, whose items are one unit each (the same SKU bought twice
//! is two items). The control API (`orders_control`) adds orders and changes their items;
//! `shipment` sets them ready to ship.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::money::Money;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Value};

use super::auth::Bearer;
use super::catalog::{shop_sku, wire_time, Catalog};
use super::problem::Problem;
use super::request::{Page, Params};
use super::shipment::{Shipment, REFUSED, STATUS_TRANSITION};
use crate::raw_json::Raw;
use crate::App;

/// UNCONFIRMED: the sort parameter names (PIA's; ZAL says `order`/`order_dir`).
const SORT_PARAM: &str = "sort";
const SORT_DIR_PARAM: &str = "sortDir";

/// UNCONFIRMED: the currency an order without one is in (The Iconic sells in AUD).
const DEFAULT_CURRENCY: &str = "AUD";

/// UNCONFIRMED: the payment method's wire value; the sandbox models no payment choice.
const PAYMENT_METHOD: &str = "CreditCard";

/// An order item's status (PIA `OrderItemStatus`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    #[default]
    Pending,
    ReadyToShip,
    Shipped,
    Delivered,
    Canceled,
    Failed,
    Returned,
    ReturnShippedByCustomer,
    ReturnWaitingForApproval,
    ReturnRejected,
    ReturnDelivered,
    PaymentPending,
}

impl ItemStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::ReadyToShip => "ready_to_ship",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Canceled => "canceled",
            Self::Failed => "failed",
            Self::Returned => "returned",
            Self::ReturnShippedByCustomer => "return_shipped_by_customer",
            Self::ReturnWaitingForApproval => "return_waiting_for_approval",
            Self::ReturnRejected => "return_rejected",
            Self::ReturnDelivered => "return_delivered",
            Self::PaymentPending => "payment_pending",
        }
    }
}

/// Written by hand so `as_str` (also the `statusList` keys) is the one wire spelling.
impl Serialize for ItemStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Money {
    /// UNCONFIRMED: v2 prices are JSON numbers (PIA models them as floats), not v1's
    /// strings. From whole cents the shortest float form is the amount itself (`49.95`),
    /// though a whole amount reads `50.0`.
    fn wire(self) -> Value {
        json!(self.cents() as f64 / 100.0)
    }
}

/// An order as written in `iconic.json` (and posted to the control API).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureOrder {
    pub id: u64,
    pub number: u64,
    /// Absent: when the order is loaded or posted.
    pub created_at: Option<DateTime<Utc>>,
    /// Absent: `created_at`.
    pub updated_at: Option<DateTime<Utc>>,
    /// The status of every item that does not name its own (default pending).
    pub status: Option<ItemStatus>,
    pub customer: FixtureName,
    pub email: Option<String>,
    pub address: FixtureAddress,
    pub delivery_info: Option<String>,
    pub currency: Option<String>,
    #[serde(default)]
    pub shipping_fee: Money,
    pub items: Vec<FixtureItem>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureName {
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureAddress {
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub address1: String,
    pub address2: Option<String>,
    pub city: String,
    pub region: String,
    pub post_code: String,
    pub country: String,
}

/// One unit of one SKU.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureItem {
    pub id: u64,
    pub seller_sku: String,
    pub paid_price: Money,
    pub unit_price: Money,
    pub status: Option<ItemStatus>,
    /// For tests of bad input: the JSON text answered as `paidPrice` instead of
    /// `paid_price`, verbatim (`1e3`, `null`, `"-5.00"`...).
    pub paid_price_text: Option<String>,
}

pub(super) struct Order {
    id: u64,
    number: u64,
    customer: FixtureName,
    email: Option<String>,
    address: FixtureAddress,
    delivery_info: Option<String>,
    currency: String,
    shipping_fee: Money,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    items: Vec<Item>,
}

struct Item {
    id: u64,
    seller_sku: String,
    status: ItemStatus,
    unit_price: Money,
    paid_price: Money,
    paid_price_text: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Set by set-to-ready-to-ship.
    shipment: Option<Shipment>,
}

impl Item {
    fn new(item: FixtureItem, default_status: ItemStatus, at: DateTime<Utc>) -> Self {
        Self {
            id: item.id,
            seller_sku: item.seller_sku,
            status: item.status.unwrap_or(default_status),
            unit_price: item.unit_price,
            paid_price: item.paid_price,
            paid_price_text: item.paid_price_text,
            created_at: at,
            updated_at: at,
            shipment: None,
        }
    }
}

impl Order {
    /// Item count per status.
    fn status_list(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for item in &self.items {
            *counts.entry(item.status.as_str()).or_default() += 1;
        }
        counts
    }

    /// The `status_<status>` section the order is in: `canceled` when every item is,
    /// otherwise the status all its non-cancelled items share. An order whose live items
    /// differ is in no status section; one with no items at all still waits for the
    /// seller (`pending`).
    /// UNCONFIRMED: how The Iconic places mixed and empty orders.
    fn section(&self) -> Option<ItemStatus> {
        let mut live = self
            .items
            .iter()
            .map(|item| item.status)
            .filter(|status| *status != ItemStatus::Canceled);
        match live.next() {
            None if self.items.is_empty() => Some(ItemStatus::Pending),
            None => Some(ItemStatus::Canceled),
            Some(first) => live.all(|status| status == first).then_some(first),
        }
    }

    /// UNCONFIRMED: the order-level shipping fee is carried by the first item.
    fn item_shipping_fee(&self, index: usize) -> Money {
        if index == 0 {
            self.shipping_fee
        } else {
            Money::default()
        }
    }

    /// UNCONFIRMED: what the customer paid at checkout, every item's paid price plus
    /// shipping; cancellations are refunds and do not change it.
    fn grand_total(&self) -> Money {
        self.items
            .iter()
            .map(|item| item.paid_price)
            .chain([self.shipping_fee])
            .sum()
    }

    /// Stamps the order (its items carry their own stamps).
    fn touch(&mut self, at: DateTime<Utc>) {
        self.updated_at = at;
    }
}

/// Every order the seller has, with the uniqueness the real API keeps: order ids,
/// order numbers and item ids.
#[derive(Default)]
pub(super) struct Orders {
    orders: BTreeMap<u64, Order>,
    numbers: HashSet<u64>,
    /// Item id -> its order's id.
    items: HashMap<u64, u64>,
}

impl Orders {
    /// Loads fixture orders created `at` unless they say otherwise; a clashing or
    /// invalid order is skipped with a warning.
    pub(super) fn new(orders: Vec<FixtureOrder>, at: DateTime<Utc>) -> Self {
        let mut book = Self::default();
        for order in orders {
            if let Err(problem) = book.add(order, at) {
                tracing::warn!(?problem, "iconic fixture: order skipped");
            }
        }
        book
    }

    pub(super) fn add(
        &mut self,
        order: FixtureOrder,
        at: DateTime<Utc>,
    ) -> Result<&Order, Problem> {
        if self.orders.contains_key(&order.id) {
            return Err(Problem::conflict(format!(
                "order {} already exists",
                order.id
            )));
        }
        if self.numbers.contains(&order.number) {
            return Err(Problem::conflict(format!(
                "order number {} already exists",
                order.number
            )));
        }
        let mut ids = HashSet::new();
        for item in &order.items {
            if self.items.contains_key(&item.id) || !ids.insert(item.id) {
                return Err(item_taken(item.id));
            }
        }
        let created_at = order.created_at.unwrap_or(at);
        let updated_at = order.updated_at.unwrap_or(created_at);
        if updated_at < created_at {
            return Err(Problem::bad_request(format!(
                "order {}: updated_at is before created_at",
                order.id
            )));
        }
        let default_status = order.status.unwrap_or_default();
        let items = order
            .items
            .into_iter()
            .map(|item| Item {
                updated_at,
                ..Item::new(item, default_status, created_at)
            })
            .collect();
        self.items.extend(ids.into_iter().map(|id| (id, order.id)));
        self.numbers.insert(order.number);
        let order = Order {
            id: order.id,
            number: order.number,
            customer: order.customer,
            email: order.email,
            address: order.address,
            delivery_info: order.delivery_info,
            currency: order.currency.unwrap_or_else(|| DEFAULT_CURRENCY.into()),
            shipping_fee: order.shipping_fee,
            created_at,
            updated_at,
            items,
        };
        Ok(self.orders.entry(order.id).or_insert(order))
    }

    /// Appends a pending (unless it says otherwise) item created `at`.
    pub(super) fn add_item(
        &mut self,
        order_id: u64,
        item: FixtureItem,
        at: DateTime<Utc>,
    ) -> Result<&Order, Problem> {
        if self.items.contains_key(&item.id) {
            return Err(item_taken(item.id));
        }
        let order = order_mut(&mut self.orders, order_id)?;
        self.items.insert(item.id, order_id);
        order.items.push(Item::new(item, ItemStatus::Pending, at));
        order.touch(at);
        Ok(order)
    }

    pub(super) fn remove_item(
        &mut self,
        order_id: u64,
        item_id: u64,
        at: DateTime<Utc>,
    ) -> Result<&Order, Problem> {
        let order = order_mut(&mut self.orders, order_id)?;
        let index = order
            .items
            .iter()
            .position(|item| item.id == item_id)
            .ok_or_else(|| Problem::not_found(format!("order {order_id} has no item {item_id}")))?;
        order.items.remove(index);
        self.items.remove(&item_id);
        order.touch(at);
        Ok(order)
    }

    /// Gives every item of the order `status`, stamping them and the order.
    pub(super) fn set_status(
        &mut self,
        order_id: u64,
        status: ItemStatus,
        at: DateTime<Utc>,
    ) -> Result<&Order, Problem> {
        let order = order_mut(&mut self.orders, order_id)?;
        for item in &mut order.items {
            item.status = status;
            item.updated_at = at;
        }
        order.touch(at);
        Ok(order)
    }

    /// set-to-ready-to-ship (rules in `shipment`): the items `ids` must be known, of one
    /// order, pending, and the tracking number unused; then each is ready to ship with
    /// `shipment`, stamped with its order. Returns the ids.
    pub(super) fn set_ready_to_ship(
        &mut self,
        ids: &[u64],
        shipment: Shipment,
        at: DateTime<Utc>,
    ) -> Result<Vec<u64>, Problem> {
        let mut order_ids = BTreeSet::new();
        for id in ids {
            let order = self
                .items
                .get(id)
                .ok_or_else(|| Problem::new(REFUSED, format!("order item {id} not found")))?;
            order_ids.insert(*order);
        }
        let mut order_ids = order_ids.into_iter();
        let (Some(order_id), None) = (order_ids.next(), order_ids.next()) else {
            let orders: Vec<String> = self.orders_of(ids).collect();
            // The one status the contract gives for these rules (PIA2).
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "all order items must belong to the same order: {}",
                    orders.join(", ")
                ),
            ));
        };
        let not_pending: Vec<String> = self
            .orders
            .get(&order_id)
            .into_iter()
            .flat_map(|order| &order.items)
            .filter(|item| ids.contains(&item.id) && item.status != ItemStatus::Pending)
            .map(|item| format!("{} is {}", item.id, item.status.as_str()))
            .collect();
        if !not_pending.is_empty() {
            return Err(Problem::titled(
                REFUSED,
                STATUS_TRANSITION,
                format!(
                    "only pending items can be set to ready_to_ship: order item {}",
                    not_pending.join(", ")
                ),
            ));
        }
        if let Some(code) = &shipment.tracking_code {
            if let Some(number) = self.tracking_code_user(code) {
                return Err(Problem::new(
                    REFUSED,
                    format!("trackingNumber {code:?} is already used by order {number}"),
                ));
            }
        }
        let order = order_mut(&mut self.orders, order_id)?;
        for item in order.items.iter_mut().filter(|item| ids.contains(&item.id)) {
            item.status = ItemStatus::ReadyToShip;
            item.updated_at = at;
            item.shipment = Some(shipment.clone());
        }
        order.touch(at);
        Ok(ids.to_vec())
    }

    /// "item N is in order M" for each of `ids` (all known).
    fn orders_of<'a>(&'a self, ids: &'a [u64]) -> impl Iterator<Item = String> + 'a {
        ids.iter().filter_map(|id| {
            let order = self.items.get(id)?;
            Some(format!("item {id} is in order {order}"))
        })
    }

    /// The number of the order whose items carry tracking code `code`, if any.
    fn tracking_code_user(&self, code: &str) -> Option<u64> {
        self.orders
            .values()
            .find(|order| {
                order.items.iter().any(|item| {
                    item.shipment
                        .as_ref()
                        .and_then(|s| s.tracking_code.as_deref())
                        == Some(code)
                })
            })
            .map(|order| order.number)
    }

    pub(super) fn dump(&self) -> Vec<Value> {
        self.orders.values().map(dump_row).collect()
    }
}

fn order_mut(orders: &mut BTreeMap<u64, Order>, id: u64) -> Result<&mut Order, Problem> {
    orders
        .get_mut(&id)
        .ok_or_else(|| Problem::not_found(format!("order {id} not found")))
}

fn item_taken(id: u64) -> Problem {
    Problem::conflict(format!("order item {id} already exists"))
}

/// An order as the control API's state dump shows it.
pub(super) fn dump_row(order: &Order) -> Value {
    let items: Vec<Value> = order
        .items
        .iter()
        .map(|item| {
            let mut row =
                json!({"id": item.id, "seller_sku": item.seller_sku, "status": item.status});
            // Only once set, so rows of items never shipped keep their shape.
            if let Some(shipment) = &item.shipment {
                row["shipment"] = shipment.dump();
            }
            row
        })
        .collect();
    json!({
        "id": order.id,
        "number": order.number,
        "status_list": order.status_list(),
        "items": items,
        "updated_at": wire_time(order.updated_at),
    })
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new().route("/v2/orders", get(list))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    CreatedAt,
    UpdatedAt,
}

/// An inclusive time window; either end may be open.
#[derive(Debug, Default)]
struct Window {
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
}

impl Window {
    fn from_params(params: &Params, start: &str, end: &str) -> Result<Self, Problem> {
        Ok(Self {
            start: params.parsed(start)?,
            end: params.parsed(end)?,
        })
    }

    /// UNCONFIRMED: both ends inclusive, so a reader resuming from the last instant it
    /// saw re-reads it rather than missing it.
    fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start.is_none_or(|start| at >= start) && self.end.is_none_or(|end| at <= end)
    }
}

/// What a `GET /v2/orders` asks for.
#[derive(Debug)]
struct OrderQuery {
    page: Page,
    section: Option<ItemStatus>,
    created: Window,
    updated: Window,
    numbers: HashSet<u64>,
    ids: HashSet<u64>,
    sort: SortKey,
    descending: bool,
}

impl OrderQuery {
    fn from_params(params: &Params) -> Result<Self, Problem> {
        // Unlike the product lists, the orders list has no paging defaults (ZAL).
        for name in ["limit", "offset"] {
            if params.first(name).is_none() {
                return Err(Problem::bad_request(format!("{name} is required")));
            }
        }
        let sort = match params.first(SORT_PARAM).unwrap_or("createdAt") {
            "createdAt" => SortKey::CreatedAt,
            "updatedAt" => SortKey::UpdatedAt,
            other => return Err(unsupported(SORT_PARAM, other, "createdAt, updatedAt")),
        };
        let descending = match params.first(SORT_DIR_PARAM).unwrap_or("asc") {
            "asc" => false,
            "desc" => true,
            other => return Err(unsupported(SORT_DIR_PARAM, other, "asc, desc")),
        };
        Ok(Self {
            page: Page::from_params(params)?,
            section: params.first("section").map(section_status).transpose()?,
            created: Window::from_params(params, "dateStart", "dateEnd")?,
            updated: Window::from_params(params, "updateDateStart", "updateDateEnd")?,
            numbers: id_list(params, "orderNumbers[]")?,
            ids: id_list(params, "orderIds[]")?,
            sort,
            descending,
        })
    }

    fn matches(&self, order: &Order) -> bool {
        self.section
            .is_none_or(|wanted| order.section() == Some(wanted))
            && self.created.contains(order.created_at)
            && self.updated.contains(order.updated_at)
            && (self.numbers.is_empty() || self.numbers.contains(&order.number))
            && (self.ids.is_empty() || self.ids.contains(&order.id))
    }

    /// The matching orders in the asked order; ties go by id in the same direction, so
    /// paging is stable.
    fn select<'a>(&self, orders: &'a Orders) -> Vec<&'a Order> {
        let mut rows: Vec<&Order> = orders.orders.values().filter(|o| self.matches(o)).collect();
        rows.sort_by_key(|o| {
            let at = match self.sort {
                SortKey::CreatedAt => o.created_at,
                SortKey::UpdatedAt => o.updated_at,
            };
            (at, o.id)
        });
        if self.descending {
            rows.reverse();
        }
        rows
    }
}

fn unsupported(name: &str, value: &str, supported: &str) -> Problem {
    Problem::bad_request(format!("{name} {value:?} is not supported ({supported})"))
}

/// `status_<item status>` sections. UNCONFIRMED: the group sections (`group_*`,
/// `status_pending_all`...) are refused by the sandbox rather than answered wrongly.
fn section_status(section: &str) -> Result<ItemStatus, Problem> {
    section
        .strip_prefix("status_")
        .and_then(|status| serde_json::from_value(Value::from(status)).ok())
        .ok_or_else(|| unsupported("section", section, "status_<item status>"))
}

fn id_list(params: &Params, name: &str) -> Result<HashSet<u64>, Problem> {
    params
        .all(name)
        .map(|value| {
            value
                .parse()
                .map_err(|_| Problem::bad_request(format!("invalid {name}: {value:?}")))
        })
        .collect()
}

async fn list(_: Bearer, State(app): State<Arc<App>>, params: Params) -> Result<Raw, Problem> {
    let query = OrderQuery::from_params(&params)?;
    let state = app.iconic.lock().unwrap();
    let rows = query.select(&state.orders);
    Ok(Raw(query.page.envelope(rows.into_iter(), |order| {
        order_json(&state.catalog, order)
    })))
}

/// UNCONFIRMED: the sandbox keeps one address per order, shown as both billing and
/// shipping; Australian addresses have no ward.
fn address_json(address: &FixtureAddress, email: Option<&str>) -> Value {
    let lines: Vec<&str> = std::iter::once(address.address1.as_str())
        .chain(address.address2.as_deref())
        .collect();
    json!({
        "firstName": address.first_name,
        "lastName": address.last_name,
        "phone": [address.phone],
        "address": lines,
        "email": email,
        "city": address.city,
        "ward": null,
        "region": address.region,
        "postCode": address.post_code,
        "country": address.country,
    })
}

fn order_json(catalog: &Catalog, order: &Order) -> Value {
    let address = address_json(&order.address, order.email.as_deref());
    let items: Vec<Value> = order
        .items
        .iter()
        .enumerate()
        .map(|(index, item)| item_json(catalog, order, index, item))
        .collect();
    json!({
        "id": order.id,
        "uuid": order_uuid(order.id),
        "number": order.number,
        "customer": {"firstName": order.customer.first_name, "lastName": order.customer.last_name},
        "address": {"billing": address, "shipping": address},
        "deliveryInfo": order.delivery_info,
        "paymentMethod": PAYMENT_METHOD,
        "currency": order.currency,
        "createdAt": wire_time(order.created_at),
        "updatedAt": wire_time(order.updated_at),
        "statusList": order.status_list(),
        "itemCount": order.items.len(),
        "grandTotal": order.grand_total().wire(),
        "items": items,
    })
}

/// A SKU the catalogue does not list (a delisted product) still shows its seller SKU,
/// with a null shop SKU and an empty name.
fn item_json(catalog: &Catalog, order: &Order, index: usize, item: &Item) -> Value {
    let product = catalog.by_seller_sku(&item.seller_sku);
    json!({
        "id": item.id,
        "orderId": order.id,
        "status": item.status,
        "product": {
            "sku": product.map(|p| shop_sku(p.id)),
            "sellerSku": item.seller_sku,
            "name": product.map_or("", |p| catalog.name_of(p)),
        },
        "unitPrice": item.unit_price.wire(),
        "paidPrice": item
            .paid_price_text
            .as_deref()
            .map_or_else(|| item.paid_price.wire(), crate::raw_json::token),
        "shippingFee": order.item_shipping_fee(index).wire(),
        "createdAt": wire_time(item.created_at),
        "updatedAt": wire_time(item.updated_at),
        "shipment": Shipment::wire(item.shipment.as_ref()),
    })
}

/// UNCONFIRMED: order uuids are opaque; the sandbox derives a stable one from the id.
fn order_uuid(id: u64) -> String {
    format!("00000000-0000-4000-8000-{:012x}", id & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ItemStatus; 12] = [
        ItemStatus::Pending,
        ItemStatus::ReadyToShip,
        ItemStatus::Shipped,
        ItemStatus::Delivered,
        ItemStatus::Canceled,
        ItemStatus::Failed,
        ItemStatus::Returned,
        ItemStatus::ReturnShippedByCustomer,
        ItemStatus::ReturnWaitingForApproval,
        ItemStatus::ReturnRejected,
        ItemStatus::ReturnDelivered,
        ItemStatus::PaymentPending,
    ];

    #[test]
    fn statuses_read_back_what_they_write() {
        for status in ALL {
            let wire = serde_json::to_value(status).unwrap();
            assert_eq!(wire, status.as_str());
            assert_eq!(serde_json::from_value::<ItemStatus>(wire).unwrap(), status);
        }
        assert_eq!(
            section_status("status_ready_to_ship").unwrap(),
            ItemStatus::ReadyToShip
        );
        assert!(section_status("pending").is_err());
        assert!(section_status("status_pending_all").is_err());
    }

    #[test]
    fn amounts_answer_as_numbers() {
        assert_eq!("0.1".parse::<Money>().unwrap().wire().to_string(), "0.1");
        assert_eq!(
            "1234.56".parse::<Money>().unwrap().wire().to_string(),
            "1234.56"
        );
    }

    fn order_with(statuses: &[ItemStatus]) -> Order {
        let at: DateTime<Utc> = "2026-03-01T00:00:00Z".parse().unwrap();
        let fee: Money = "9.95".parse().unwrap();
        Order {
            id: 1,
            number: 1,
            customer: FixtureName {
                first_name: String::new(),
                last_name: String::new(),
            },
            email: None,
            address: FixtureAddress {
                first_name: String::new(),
                last_name: String::new(),
                phone: String::new(),
                address1: String::new(),
                address2: None,
                city: String::new(),
                region: String::new(),
                post_code: String::new(),
                country: String::new(),
            },
            delivery_info: None,
            currency: DEFAULT_CURRENCY.into(),
            shipping_fee: fee,
            created_at: at,
            updated_at: at,
            items: statuses
                .iter()
                .enumerate()
                .map(|(i, status)| Item {
                    id: i as u64,
                    seller_sku: "S".into(),
                    status: *status,
                    unit_price: "20".parse().unwrap(),
                    paid_price: "10.10".parse().unwrap(),
                    paid_price_text: None,
                    created_at: at,
                    updated_at: at,
                    shipment: None,
                })
                .collect(),
        }
    }

    #[test]
    fn sections_and_totals() {
        use ItemStatus::{Canceled, Pending, Shipped};
        assert_eq!(order_with(&[Pending, Canceled]).section(), Some(Pending));
        assert_eq!(order_with(&[Canceled, Canceled]).section(), Some(Canceled));
        assert_eq!(order_with(&[Pending, Shipped]).section(), None);
        assert_eq!(order_with(&[]).section(), Some(Pending));
        let order = order_with(&[Pending, Pending, Canceled]);
        assert_eq!(order.grand_total().cents(), 3 * 1010 + 995);
        assert_eq!(order.item_shipping_fee(0).cents(), 995);
        assert_eq!(order.item_shipping_fee(1).cents(), 0);
        assert_eq!(
            serde_json::to_value(order.status_list()).unwrap(),
            json!({"canceled": 1, "pending": 2})
        );
    }
}
