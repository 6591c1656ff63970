//! `/_sandbox/iconic/orders*`: a customer places an order, Seller Center staff add or
//! remove items of it later, or cancel it. Each answers with the order as the state
//! dump shows it.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::catalog::now;
use super::orders::{dump_row, FixtureItem, FixtureOrder, ItemStatus};
use super::problem::Problem;
use crate::App;

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/_sandbox/iconic/orders", post(add_order))
        .route("/_sandbox/iconic/orders/{id}", patch(patch_order))
        .route("/_sandbox/iconic/orders/{id}/items", post(add_item))
        .route(
            "/_sandbox/iconic/orders/{id}/items/{item_id}",
            delete(remove_item),
        )
}

async fn add_order(
    State(app): State<Arc<App>>,
    body: Result<Json<FixtureOrder>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let Json(order) = body?;
    let mut state = app.iconic.lock().unwrap();
    let order = state.orders.add(order, now())?;
    Ok((StatusCode::CREATED, Json(dump_row(order))))
}

async fn add_item(
    State(app): State<Arc<App>>,
    path: Result<Path<u64>, PathRejection>,
    body: Result<Json<FixtureItem>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let Path(id) = path?;
    let Json(item) = body?;
    let mut state = app.iconic.lock().unwrap();
    let order = state.orders.add_item(id, item, now())?;
    Ok((StatusCode::CREATED, Json(dump_row(order))))
}

async fn remove_item(
    State(app): State<Arc<App>>,
    path: Result<Path<(u64, u64)>, PathRejection>,
) -> Result<Json<Value>, Problem> {
    let Path((id, item_id)) = path?;
    let mut state = app.iconic.lock().unwrap();
    let order = state.orders.remove_item(id, item_id, now())?;
    Ok(Json(dump_row(order)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderPatch {
    status: ItemStatus,
}

/// Every item of the order gets the status (`{"status": "canceled"}` cancels it).
async fn patch_order(
    State(app): State<Arc<App>>,
    path: Result<Path<u64>, PathRejection>,
    body: Result<Json<OrderPatch>, JsonRejection>,
) -> Result<Json<Value>, Problem> {
    let Path(id) = path?;
    let Json(OrderPatch { status }) = body?;
    let mut state = app.iconic.lock().unwrap();
    let order = state.orders.set_status(id, status, now())?;
    Ok(Json(dump_row(order)))
}
