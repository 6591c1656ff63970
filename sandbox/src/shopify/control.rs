//! `/_sandbox/shopify/*`: what tests and the demo change behind the API's back. Every
//! change stamps `updatedAt` with now, as a change in the Shopify admin would.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::lock;
use super::store::{now, ChangeError, FixtureProduct, ProductStatus, StockChange, VariantPatch};
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
    status: String,
}

async fn patch_product(
    State(app): State<Arc<App>>,
    Path(id): Path<u64>,
    patch: Result<Json<ProductPatch>, JsonRejection>,
) -> Reply {
    let Json(patch) = patch?;
    let Some(status) = ProductStatus::parse(&patch.status) else {
        let message = format!("unknown status {:?}", patch.status);
        return Err(ControlError(StatusCode::BAD_REQUEST, message));
    };
    lock(&app).catalog.set_product_status(id, status, now())?;
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
