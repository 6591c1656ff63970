//! Orders: `GET /orders` (summaries, one status at a time, paged, most recently updated
//! first), `GET /order/{id}` (the detail clients read lines and shipping from) and its
//! packing slip. `transition` moves orders on; the control API (`control`) adds and
//! changes them behind the API's back.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Value};

use super::auth::Session;
use super::error::ApiError;
use super::money::wire_money;
use super::{api_base, packing_slip, wire_time};
use crate::money::Money;
use crate::App;

/// What the API Reference gives as the `status` filter's default. It is not one of the
/// order states, so a list without `status` matches nothing; the sandbox keeps that
/// inconsistency so a client relying on the default finds out here, not in production.
const DEFAULT_STATUS_FILTER: &str = "PENDING";

/// Days from an order's creation to when it must be dispatched, unless the fixture says.
const DEFAULT_DISPATCH_DAYS: i64 = 3;

const DEFAULT_METHOD: &str = "Standard";

/// An order's state. READY means paid and waiting for the seller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    #[default]
    Ready,
    Processed,
    Shipped,
    Returned,
    Refunded,
    Cancelled,
}

impl Status {
    const ALL: [Self; 6] = [
        Self::Ready,
        Self::Processed,
        Self::Shipped,
        Self::Returned,
        Self::Refunded,
        Self::Cancelled,
    ];

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "READY",
            Self::Processed => "PROCESSED",
            Self::Shipped => "SHIPPED",
            Self::Returned => "RETURNED",
            Self::Refunded => "REFUNDED",
            Self::Cancelled => "CANCELLED",
        }
    }

    fn from_wire(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Written by hand so `as_str` (also used in messages) is the one wire spelling.
impl Serialize for Status {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// An order as written in `hardtofind.json` (and posted to the control API).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureOrder {
    pub id: u64,
    #[serde(default)]
    pub status: Status,
    /// Absent: the fixture's `updated_at` when loaded, now when posted.
    pub created_at: Option<DateTime<Utc>>,
    /// Absent: `created_at`.
    pub updated_at: Option<DateTime<Utc>>,
    /// Absent: three days after `created_at`.
    pub dispatch_due_at: Option<DateTime<Utc>>,
    pub lines: Vec<FixtureLine>,
    #[serde(default)]
    pub shipping: Money,
    #[serde(default)]
    pub discount: Money,
    #[serde(default)]
    pub credit: Money,
    pub gift_wrapping: Option<FixtureGiftWrapping>,
    /// Absent: a Sydney address.
    pub address: Option<FixtureAddress>,
    /// Absent: "Standard".
    pub method: Option<String>,
    pub instructions: Option<String>,
}

/// One SKU of an order, `quantity` units of it at `price` each.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureLine {
    pub sku: String,
    #[serde(default)]
    pub product_id: u64,
    /// Absent: the SKU.
    pub description: Option<String>,
    pub price: Money,
    pub quantity: NonZeroU32,
    #[serde(default)]
    pub variant_data: Vec<NameValue>,
    #[serde(default)]
    pub personalisations: Vec<NameValue>,
}

/// A `{"name", "value"}` pair (a variant option, or a personalisation the customer typed).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureGiftWrapping {
    pub description: String,
    pub message: Option<String>,
    #[serde(default)]
    pub price: Money,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureAddress {
    pub first_name: String,
    pub last_name: String,
    pub line_one: String,
    pub line_two: Option<String>,
    pub suburb: String,
    pub state: String,
    pub postcode: String,
    /// UNCONFIRMED: an ISO 3166 code ("AU") rather than a name.
    pub country: String,
    pub company: Option<String>,
}

fn sydney() -> FixtureAddress {
    FixtureAddress {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        line_one: "1 Harbour Street".into(),
        line_two: None,
        suburb: "Sydney".into(),
        state: "NSW".into(),
        postcode: "2000".into(),
        country: "AU".into(),
        company: None,
    }
}

struct Line {
    sku: String,
    product_id: u64,
    description: String,
    price: Money,
    quantity: u32,
    variant_data: Vec<NameValue>,
    personalisations: Vec<NameValue>,
}

impl From<FixtureLine> for Line {
    fn from(line: FixtureLine) -> Self {
        Self {
            description: line.description.unwrap_or_else(|| line.sku.clone()),
            sku: line.sku,
            product_id: line.product_id,
            price: line.price,
            quantity: line.quantity.get(),
            variant_data: line.variant_data,
            personalisations: line.personalisations,
        }
    }
}

/// One `ship` transition's parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Shipment {
    pub(super) tracking_number: String,
    pub(super) shipping_provider_name: String,
    /// As the seller gave it, normalised: `YYYY-MM-DD`, or RFC 3339 in UTC.
    pub(super) shipment_date: String,
}

pub(super) struct Order {
    id: u64,
    pub(super) status: Status,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    dispatch_due_at: DateTime<Utc>,
    lines: Vec<Line>,
    shipping: Money,
    discount: Money,
    credit: Money,
    gift_wrapping: Option<FixtureGiftWrapping>,
    address: FixtureAddress,
    method: String,
    instructions: Option<String>,
    shipments: Vec<Shipment>,
}

impl Order {
    pub(super) fn id(&self) -> u64 {
        self.id
    }

    /// Stamps every change (transitions and control changes alike).
    fn touch(&mut self, at: DateTime<Utc>) {
        self.updated_at = at;
    }

    /// A `ship` transition: SHIPPED, with one more parcel.
    pub(super) fn ship(&mut self, shipment: Shipment, at: DateTime<Utc>) {
        self.shipments.push(shipment);
        self.set_status(Status::Shipped, at);
    }

    pub(super) fn set_status(&mut self, status: Status, at: DateTime<Utc>) {
        self.status = status;
        self.touch(at);
    }

    /// The sandbox's model of the payment summary (UNCONFIRMED: the API Reference does
    /// not relate its fields):
    /// - `price` = Σ line price × quantity;
    /// - `total` = price + shipping + gift wrapping price − discount;
    /// - `payment` = total − credit (what the customer paid beyond store credit).
    fn payment_summary(&self) -> Value {
        let price: Money = self.lines.iter().map(|l| l.price * l.quantity).sum();
        let wrapping = self.gift_wrapping.as_ref().map_or(Money::ZERO, |g| g.price);
        let total = price + self.shipping + wrapping - self.discount;
        let payment = total - self.credit;
        json!({
            "price": wire_money(price),
            "shipping": wire_money(self.shipping),
            "discount": wire_money(self.discount),
            "credit": wire_money(self.credit),
            "payment": wire_money(payment),
            "total": wire_money(total),
        })
    }
}

/// Every order the seller has, by id.
#[derive(Default)]
pub(super) struct Orders {
    orders: BTreeMap<u64, Order>,
}

impl Orders {
    /// Loads fixture orders created `at` unless they say otherwise; a clashing or
    /// invalid order is skipped with a warning.
    pub(super) fn new(orders: Vec<FixtureOrder>, at: DateTime<Utc>) -> Self {
        let mut book = Self::default();
        for order in orders {
            if let Err(error) = book.add(order, at) {
                tracing::warn!(?error, "hardtofind fixture: order skipped");
            }
        }
        book
    }

    pub(super) fn add(
        &mut self,
        order: FixtureOrder,
        at: DateTime<Utc>,
    ) -> Result<&Order, ApiError> {
        if self.orders.contains_key(&order.id) {
            return Err(ApiError::conflict(format!(
                "order {} already exists",
                order.id
            )));
        }
        let created_at = order.created_at.unwrap_or(at);
        let updated_at = order.updated_at.unwrap_or(created_at);
        if updated_at < created_at {
            return Err(ApiError::bad_request(format!(
                "order {}: updated_at is before created_at",
                order.id
            )));
        }
        let dispatch_due_at = order.dispatch_due_at.unwrap_or_else(|| {
            created_at
                .checked_add_signed(TimeDelta::days(DEFAULT_DISPATCH_DAYS))
                .unwrap_or(created_at)
        });
        let order = Order {
            id: order.id,
            status: order.status,
            created_at,
            updated_at,
            dispatch_due_at,
            lines: order.lines.into_iter().map(Line::from).collect(),
            shipping: order.shipping,
            discount: order.discount,
            credit: order.credit,
            gift_wrapping: order.gift_wrapping,
            address: order.address.unwrap_or_else(sydney),
            method: order.method.unwrap_or_else(|| DEFAULT_METHOD.into()),
            instructions: order.instructions,
            shipments: Vec::new(),
        };
        Ok(self.orders.entry(order.id).or_insert(order))
    }

    pub(super) fn get(&self, id: u64) -> Result<&Order, ApiError> {
        self.orders.get(&id).ok_or_else(|| not_found(id))
    }

    pub(super) fn get_mut(&mut self, id: u64) -> Result<&mut Order, ApiError> {
        self.orders.get_mut(&id).ok_or_else(|| not_found(id))
    }

    /// The customer service changed what was ordered: new lines, so a new summary.
    pub(super) fn set_lines(
        &mut self,
        id: u64,
        lines: Vec<FixtureLine>,
        at: DateTime<Utc>,
    ) -> Result<&Order, ApiError> {
        let order = self.get_mut(id)?;
        order.lines = lines.into_iter().map(Line::from).collect();
        order.touch(at);
        Ok(order)
    }

    /// Orders in `status` (none for `None`, the doc's PENDING), most recently updated
    /// first; ties go by id, highest first, so paging is stable.
    fn select(&self, status: Option<Status>) -> Vec<&Order> {
        let mut rows: Vec<&Order> = self
            .orders
            .values()
            .filter(|o| Some(o.status) == status)
            .collect();
        rows.sort_by_key(|o| std::cmp::Reverse((o.updated_at, o.id)));
        rows
    }

    /// Every order's detail, by id.
    pub(super) fn dump(&self, base: &str) -> Vec<Value> {
        self.orders.values().map(|o| detail_json(base, o)).collect()
    }
}

fn not_found(id: u64) -> ApiError {
    ApiError::not_found(format!("order {id} not found"))
}

/// UNCONFIRMED: `manage` is taken to be where the order is moved on (its transition
/// route); the API Reference names the link without saying where it points.
fn links_json(base: &str, id: u64) -> Value {
    json!({
        "self": format!("{base}/order/{id}"),
        "manage": format!("{base}/order/{id}/transition"),
        "packing_slip": format!("{base}/order/{id}/packing-slip.pdf"),
    })
}

/// What `GET /orders` lists: no lines, no shipping (clients read each order's detail).
fn summary_json(base: &str, order: &Order) -> Value {
    json!({
        "id": order.id,
        "status": order.status,
        "_links": links_json(base, order.id),
        "dates": {
            "created_at": wire_time(order.created_at),
            "updated_at": wire_time(order.updated_at),
            "dispatch_due_at": wire_time(order.dispatch_due_at),
        },
        "payment_summary": order.payment_summary(),
    })
}

/// `GET /order/{id}`: the summary plus lines, gift wrapping, shipping and shipments.
pub(super) fn detail_json(base: &str, order: &Order) -> Value {
    let mut detail = summary_json(base, order);
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|l| {
            json!({
                "sku": l.sku,
                "product_id": l.product_id,
                "description": l.description,
                "price": wire_money(l.price),
                "quantity": l.quantity,
                "variant_data": l.variant_data,
                "personalisations": l.personalisations,
            })
        })
        .collect();
    let gift_wrapping = order.gift_wrapping.as_ref().map(|g| {
        json!({"description": g.description, "message": g.message, "price": wire_money(g.price)})
    });
    let shipments: Vec<Value> = order
        .shipments
        .iter()
        .map(|s| {
            json!({
                "tracking_number": s.tracking_number,
                "shipping_provider_name": s.shipping_provider_name,
                "shipment_date": s.shipment_date,
            })
        })
        .collect();
    let extra = json!({
        "lines": lines,
        "gift_wrapping": gift_wrapping,
        "shipping": {
            "address": order.address,
            "method": order.method,
            "instructions": order.instructions,
        },
        "shipments": shipments,
    });
    if let (Value::Object(detail), Value::Object(extra)) = (&mut detail, extra) {
        detail.extend(extra);
    }
    detail
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/hardtofind/orders", get(list))
        .route("/hardtofind/order/{id}", get(detail))
        .route("/hardtofind/order/{id}/packing-slip.pdf", get(slip))
}

#[derive(Deserialize)]
struct ListParams {
    status: Option<String>,
    page_number: Option<String>,
}

/// `None`: the doc's PENDING, which no order is in.
fn status_filter(param: Option<&str>) -> Result<Option<Status>, ApiError> {
    let wanted = param.unwrap_or(DEFAULT_STATUS_FILTER);
    if wanted == DEFAULT_STATUS_FILTER {
        return Ok(None);
    }
    Status::from_wire(wanted).map(Some).ok_or_else(|| {
        let known: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        ApiError::bad_request(format!(
            "unknown status {wanted:?} (one of {})",
            known.join(", ")
        ))
    })
}

fn page_number(param: Option<&str>) -> Result<usize, ApiError> {
    match param {
        None => Ok(1),
        Some(text) => text.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
            ApiError::bad_request(format!(
                "page_number must be a whole number >= 1, got {text:?}"
            ))
        }),
    }
}

/// The paging envelope: page `number` (1-based) of `rows`, `size` to a page, each shown
/// by `view`. A page past the last is empty, with the same totals.
fn page_envelope<R>(rows: &[R], size: usize, number: usize, view: impl Fn(&R) -> Value) -> Value {
    let size = size.max(1);
    let data: Vec<Value> = rows
        .iter()
        .skip(size.saturating_mul(number - 1))
        .take(size)
        .map(view)
        .collect();
    json!({
        "data": data,
        "page_size": size,
        "page_number": number,
        "total_results": rows.len(),
        "pages": rows.len().div_ceil(size),
    })
}

async fn list(
    _: Session,
    State(app): State<Arc<App>>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params?;
    let status = status_filter(params.status.as_deref())?;
    let number = page_number(params.page_number.as_deref())?;
    let base = api_base(&app);
    let state = app.hardtofind.lock().unwrap();
    let rows = state.orders.select(status);
    Ok(Json(page_envelope(&rows, state.page_size, number, |o| {
        summary_json(&base, o)
    })))
}

async fn detail(
    _: Session,
    State(app): State<Arc<App>>,
    path: Result<Path<u64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = path?;
    let base = api_base(&app);
    let state = app.hardtofind.lock().unwrap();
    Ok(Json(detail_json(&base, state.orders.get(id)?)))
}

async fn slip(
    _: Session,
    State(app): State<Arc<App>>,
    path: Result<Path<u64>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = path?;
    app.hardtofind.lock().unwrap().orders.get(id)?;
    let pdf = packing_slip::pdf(&format!("Packing slip: order {id}"));
    Ok(([(CONTENT_TYPE, "application/pdf")], pdf).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_what_they_write() {
        for status in Status::ALL {
            let wire = serde_json::to_value(status).unwrap();
            assert_eq!(wire, status.as_str());
            assert_eq!(serde_json::from_value::<Status>(wire).unwrap(), status);
            assert_eq!(status_filter(Some(status.as_str())).unwrap(), Some(status));
        }
        assert_eq!(status_filter(None).unwrap(), None);
        assert_eq!(status_filter(Some("PENDING")).unwrap(), None);
        assert!(status_filter(Some("ready")).is_err());
    }

    #[test]
    fn page_numbers_are_one_based_whole_numbers() {
        assert_eq!(page_number(None).unwrap(), 1);
        assert_eq!(page_number(Some("3")).unwrap(), 3);
        for bad in ["0", "-1", "two", "1.5", ""] {
            assert!(page_number(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn envelope_pages_and_counts() {
        let rows: Vec<u32> = (1..=5).collect();
        let page = |n| page_envelope(&rows, 2, n, |r| json!(r));
        assert_eq!(
            page(3),
            json!({"data": [5], "page_size": 2, "page_number": 3, "total_results": 5,
                "pages": 3})
        );
        assert_eq!(page(4)["data"], json!([]));
        assert_eq!(page(4)["total_results"], 5);
        let none: [u32; 0] = [];
        assert_eq!(page_envelope(&none, 2, 1, |r| json!(r))["pages"], 0);
    }

    #[test]
    fn payment_summary_follows_the_sandbox_model() {
        let fixture: FixtureOrder = serde_json::from_value(json!({
            "id": 1,
            "lines": [{"sku": "A", "price": "10.50", "quantity": 2},
                {"sku": "B", "price": "4", "quantity": 1}],
            "shipping": "9.95", "discount": "5", "credit": "20.00",
            "gift_wrapping": {"description": "Kraft", "price": "4.50"}
        }))
        .unwrap();
        let mut orders = Orders::default();
        let at = "2026-03-01T00:00:00Z".parse().unwrap();
        let order = orders.add(fixture, at).unwrap();
        assert_eq!(
            order.payment_summary(),
            json!({"price": "25.00", "shipping": "9.95", "discount": "5.00",
                "credit": "20.00", "total": "34.45", "payment": "14.45"})
        );
        let bad_quantity = json!({"id": 2, "lines": [{"sku": "A", "price": "1", "quantity": 0}]});
        assert!(serde_json::from_value::<FixtureOrder>(bad_quantity).is_err());
        let bad_price = json!({"id": 2, "lines": [{"sku": "A", "price": "1.005", "quantity": 1}]});
        assert!(serde_json::from_value::<FixtureOrder>(bad_price).is_err());
    }
}
