//! `/_sandbox/shopify/*`: what tests and the demo change behind the API's back. Every
//! change stamps `updatedAt` with now, as a change in the Shopify admin would.
//!
//! Fulfilments (each answers with the order as `GET /_sandbox/shopify/orders` shows it):
//! - `POST /_sandbox/shopify/orders/{id}/fulfillments`
//!   `{"company": "Australia Post", "number": "TRK123", "url": null,
//!     "lines": [{"line_item_id": 3 | "gid://shopify/LineItem/3", "quantity": 1}]}`;
//!   every key optional, `lines` absent = every unfulfilled unit;
//! - `PATCH /_sandbox/shopify/fulfillments/{id}` `{"company"?, "number"?, "url"?}`
//!   (a string sets, null clears);
//! - `POST /_sandbox/shopify/fulfillments/{id}/cancel`.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::fulfil::{Tracking, TrackingPatch};
use super::lock;
use super::store::{
    now, parse_gid, ChangeError, FixtureProduct, ProductStatus, StockChange, VariantPatch,
};
use crate::App;

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/_sandbox/shopify/inventory", post(set_inventory))
        .route("/_sandbox/shopify/products", post(add_product))
        .route("/_sandbox/shopify/variants/{id}", patch(patch_variant))
        .route("/_sandbox/shopify/products/{id}", patch(patch_product))
        .route("/_sandbox/shopify/expire-tokens", post(expire_tokens))
        .route("/_sandbox/shopify/orders", get(dump_orders))
        .route("/_sandbox/shopify/orders/{id}/cancel", post(cancel_order))
        .route(
            "/_sandbox/shopify/orders/{id}/line-items/{line_id}",
            patch(edit_line_item),
        )
        .route("/_sandbox/shopify/orders/{id}/fulfillments", post(fulfil))
        .route("/_sandbox/shopify/fulfillments/{id}", patch(edit_tracking))
        .route(
            "/_sandbox/shopify/fulfillments/{id}/cancel",
            post(cancel_fulfillment),
        )
}

/// A refused control call: `{"error": "..."}` with a status.
struct ControlError(StatusCode, String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

impl From<ChangeError> for ControlError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::NotFound(m) => ControlError(StatusCode::NOT_FOUND, m),
            ChangeError::Conflict(m) => ControlError(StatusCode::CONFLICT, m),
            ChangeError::Invalid(m) => ControlError(StatusCode::BAD_REQUEST, m),
        }
    }
}

impl From<JsonRejection> for ControlError {
    fn from(e: JsonRejection) -> Self {
        ControlError(StatusCode::BAD_REQUEST, e.body_text())
    }
}

type Reply = Result<Json<Value>, ControlError>;

fn done() -> Reply {
    Ok(Json(json!({})))
}

async fn set_inventory(
    State(app): State<Arc<App>>,
    changes: Result<Json<Vec<StockChange>>, JsonRejection>,
) -> Reply {
    let Json(changes) = changes?;
    lock(&app).catalog.set_inventory(&changes, now())?;
    done()
}

async fn add_product(
    State(app): State<Arc<App>>,
    product: Result<Json<FixtureProduct>, JsonRejection>,
) -> Reply {
    let Json(product) = product?;
    lock(&app).catalog.add_product(product, now())?;
    done()
}

/// Body `{"sku": "X" | null, "tracked": bool}`, both optional.
async fn patch_variant(
    State(app): State<Arc<App>>,
    Path(id): Path<u64>,
    fields: Result<Json<Map<String, Value>>, JsonRejection>,
) -> Reply {
    let Json(fields) = fields?;
    let mut patch = VariantPatch::default();
    for (key, value) in fields {
        match (key.as_str(), value) {
            ("sku", Value::Null) => patch.sku = Some(None),
            ("sku", Value::String(s)) => patch.sku = Some(Some(s)),
            ("tracked", Value::Bool(b)) => patch.tracked = Some(b),
            (key, _) => {
                let message = format!("cannot set {key:?} that way");
                return Err(ControlError(StatusCode::BAD_REQUEST, message));
            }
        }
    }
    lock(&app).catalog.patch_variant(id, patch, now())?;
    done()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductPatch {
    status: Option<String>,
    tags: Option<Vec<String>>,
}

async fn patch_product(
    State(app): State<Arc<App>>,
    Path(id): Path<u64>,
    patch: Result<Json<ProductPatch>, JsonRejection>,
) -> Reply {
    let Json(patch) = patch?;
    if let Some(text) = &patch.status {
        let Some(status) = ProductStatus::parse(text) else {
            let message = format!("unknown status {text:?}");
            return Err(ControlError(StatusCode::BAD_REQUEST, message));
        };
        lock(&app).catalog.set_product_status(id, status, now())?;
    }
    if let Some(tags) = patch.tags {
        lock(&app).catalog.set_product_tags(id, tags)?;
    }
    done()
}

async fn expire_tokens(State(app): State<Arc<App>>) -> Reply {
    lock(&app).auth.expire_minted();
    done()
}

async fn dump_orders(State(app): State<Arc<App>>) -> Json<Value> {
    Json(lock(&app).catalog.orders.dump())
}

/// Cancels as a merchant would in the admin; stock is not restocked.
async fn cancel_order(State(app): State<Arc<App>>, Path(id): Path<u64>) -> Reply {
    lock(&app).catalog.orders.cancel(id, now())?;
    done()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineEdit {
    current_quantity: i64,
}

/// An order edit: body `{"current_quantity": n}`.
async fn edit_line_item(
    State(app): State<Arc<App>>,
    Path((id, line_id)): Path<(u64, u64)>,
    edit: Result<Json<LineEdit>, JsonRejection>,
) -> Reply {
    let Json(edit) = edit?;
    let mut st = lock(&app);
    st.catalog
        .orders
        .set_line_quantity(id, line_id, edit.current_quantity, now())?;
    done()
}

/// A line item named by its numeric id or its GID.
#[derive(Deserialize)]
#[serde(untagged)]
enum LineRef {
    Id(u64),
    Gid(String),
}

impl LineRef {
    fn id(&self) -> Result<u64, ControlError> {
        match self {
            LineRef::Id(id) => Ok(*id),
            LineRef::Gid(gid) => parse_gid("LineItem", gid).ok_or_else(|| {
                let message = format!("line_item_id {gid:?} is not a LineItem id or GID");
                ControlError(StatusCode::BAD_REQUEST, message)
            }),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FulfilLine {
    line_item_id: LineRef,
    quantity: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FulfilRequest {
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    number: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    lines: Option<Vec<FulfilLine>>,
}

/// The merchant ships some or all of an order.
async fn fulfil(
    State(app): State<Arc<App>>,
    Path(id): Path<u64>,
    request: Result<Json<FulfilRequest>, JsonRejection>,
) -> Reply {
    let Json(request) = request?;
    let lines = request
        .lines
        .map(|lines| {
            lines
                .iter()
                .map(|l| Ok((l.line_item_id.id()?, l.quantity)))
                .collect::<Result<Vec<_>, ControlError>>()
        })
        .transpose()?;
    let tracking = Tracking {
        company: request.company,
        number: request.number,
        url: request.url,
    };
    let mut st = lock(&app);
    let orders = &mut st.catalog.orders;
    orders.fulfil(id, tracking, lines.as_deref(), now())?;
    Ok(Json(orders.dump_order(id)?))
}

/// Body: any of `company`, `number`, `url`; a string sets it, null clears it.
async fn edit_tracking(
    State(app): State<Arc<App>>,
    Path(id): Path<u64>,
    fields: Result<Json<Map<String, Value>>, JsonRejection>,
) -> Reply {
    let Json(fields) = fields?;
    if fields.is_empty() {
        let message = "give company, number or url".to_string();
        return Err(ControlError(StatusCode::BAD_REQUEST, message));
    }
    let mut patch = TrackingPatch::default();
    for (key, value) in fields {
        let part = match key.as_str() {
            "company" => &mut patch.company,
            "number" => &mut patch.number,
            "url" => &mut patch.url,
            _ => {
                let message = format!("cannot set {key:?} on a fulfillment");
                return Err(ControlError(StatusCode::BAD_REQUEST, message));
            }
        };
        *part = Some(match value {
            Value::Null => None,
            Value::String(s) => Some(s),
            _ => {
                let message = format!("{key} must be a string or null");
                return Err(ControlError(StatusCode::BAD_REQUEST, message));
            }
        });
    }
    let mut st = lock(&app);
    let orders = &mut st.catalog.orders;
    let order = orders.edit_tracking(id, patch, now())?;
    Ok(Json(orders.dump_order(order)?))
}

/// Cancels one fulfilment; its units are unfulfilled again.
async fn cancel_fulfillment(State(app): State<Arc<App>>, Path(id): Path<u64>) -> Reply {
    let mut st = lock(&app);
    let orders = &mut st.catalog.orders;
    let order = orders.cancel_fulfillment(id, now())?;
    Ok(Json(orders.dump_order(order)?))
}
