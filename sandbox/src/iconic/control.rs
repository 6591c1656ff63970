//! `/_sandbox/iconic/*`: what tests and the demo change behind the API's back (a new
//! listing, a product edited in Seller Center, tokens revoked).

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value};

use super::catalog::{dump_row, now, FixtureProductSet, ProductPatch};
use super::problem::Problem;
use crate::App;

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/_sandbox/iconic/product-sets", post(add_product_set))
        .route("/_sandbox/iconic/products/{id}", patch(patch_product))
        .route("/_sandbox/iconic/expire-tokens", post(expire_tokens))
}

async fn add_product_set(
    State(app): State<Arc<App>>,
    body: Result<Json<FixtureProductSet>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let Json(set) = body?;
    app.iconic.lock().unwrap().catalog.add_set(set, now())?;
    Ok((StatusCode::CREATED, Json(json!({}))))
}

/// Answers with the product as the state dump shows it.
async fn patch_product(
    State(app): State<Arc<App>>,
    path: Result<Path<u64>, PathRejection>,
    body: Result<Json<ProductPatch>, JsonRejection>,
) -> Result<Json<Value>, Problem> {
    let Path(id) = path?;
    let Json(patch) = body?;
    let mut state = app.iconic.lock().unwrap();
    let product = state.catalog.patch(id, patch, now())?;
    Ok(Json(dump_row(product)))
}

async fn expire_tokens(State(app): State<Arc<App>>) -> Json<Value> {
    app.iconic.lock().unwrap().auth.expire_all(Utc::now());
    Json(json!({}))
}
