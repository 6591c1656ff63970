//! `/_sandbox/hardtofind/*`: what tests and the demo change behind the API's back (a
//! customer orders, the customer service changes or cancels an order, the seller lists a
//! variant, tokens are revoked, the channel refuses a transition). Order routes answer
//! with the order's detail as the API shows it.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::orders::{detail_json, FixtureLine, FixtureOrder, Status};
use super::stock::FixtureVariant;
use super::transition::Refusal;
use super::{api_base, now};
use crate::App;

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/_sandbox/hardtofind/orders", post(add_order))
        .route("/_sandbox/hardtofind/orders/{id}", patch(patch_order))
        .route("/_sandbox/hardtofind/variants", post(add_variant))
        .route("/_sandbox/hardtofind/expire-tokens", post(expire_tokens))
        .route(
            "/_sandbox/hardtofind/refuse-transitions",
            post(refuse_transitions),
        )
}

/// Created now unless the order says otherwise.
async fn add_order(
    State(app): State<Arc<App>>,
    body: Result<Json<FixtureOrder>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(order) = body?;
    let base = api_base(&app);
    let mut state = app.hardtofind.lock().unwrap();
    let order = state.orders.add(order, now())?;
    Ok((StatusCode::CREATED, Json(detail_json(&base, order))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderPatch {
    /// Set directly, whatever the order's status was (`CANCELLED` cancels it).
    status: Option<Status>,
    /// Replace every line (the payment summary follows).
    lines: Option<Vec<FixtureLine>>,
}

async fn patch_order(
    State(app): State<Arc<App>>,
    path: Result<Path<u64>, PathRejection>,
    body: Result<Json<OrderPatch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = path?;
    let Json(OrderPatch { status, lines }) = body?;
    if status.is_none() && lines.is_none() {
        return Err(ApiError::bad_request(
            "nothing to change: give \"status\" and/or \"lines\"",
        ));
    }
    let base = api_base(&app);
    let at = now();
    let mut state = app.hardtofind.lock().unwrap();
    // Looked up first, so an unknown order changes nothing.
    state.orders.get(id)?;
    if let Some(lines) = lines {
        state.orders.set_lines(id, lines, at)?;
    }
    let order = state.orders.get_mut(id)?;
    if let Some(status) = status {
        order.set_status(status, at);
    }
    Ok(Json(detail_json(&base, order)))
}

/// Answers with the variant as the state dump shows it.
async fn add_variant(
    State(app): State<Arc<App>>,
    body: Result<Json<FixtureVariant>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(variant) = body?;
    let row = json!({"sku": variant.sku, "inventory": variant.inventory});
    app.hardtofind.lock().unwrap().variants.add(variant);
    Ok((StatusCode::CREATED, Json(row)))
}

async fn expire_tokens(State(app): State<Arc<App>>) -> Json<Value> {
    app.hardtofind.lock().unwrap().auth.expire_all(now());
    Json(json!({}))
}

async fn refuse_transitions(
    State(app): State<Arc<App>>,
    body: Result<Json<Refusal>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(refusal) = body?;
    app.hardtofind.lock().unwrap().refusals.add(refusal);
    Ok(Json(json!({})))
}
