//! Listings: product sets (paged, filtered by status and update date), one set's
//! products, and products looked up by seller SKU.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::auth::Bearer;
use super::catalog::{shop_sku, wire_time, Catalog, Product, ProductSet, Status};
use super::problem::Problem;
use super::request::{Page, Params};
use crate::App;

/// At most this many `sellerSkus[]` per lookup (PIA2).
const MAX_SELLER_SKUS: usize = 100;

/// The sandbox models no catalogue review: every product is approved.
const APPROVAL_STATUS: &str = "approved";

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v2/product-sets", get(list_sets))
        .route("/v2/product-set/{id}/products", get(set_products))
        .route("/v2/product/seller-skus", get(by_seller_skus))
}

/// UNCONFIRMED: which sets each `status` filter selects. The sandbox models only the
/// lifecycle statuses, so the other documented filters (pending, sold-out...) are refused
/// rather than answered wrongly.
fn status_filter(value: Option<&str>) -> Result<Option<Status>, Problem> {
    match value.unwrap_or("all") {
        "all" => Ok(None),
        "active" => Ok(Some(Status::Active)),
        "inactive-all" => Ok(Some(Status::Inactive)),
        "deleted-all" => Ok(Some(Status::Deleted)),
        other => Err(Problem::bad_request(format!(
            "status {other:?} is not supported by the sandbox (all, active, inactive-all, deleted-all)"
        ))),
    }
}

/// UNCONFIRMED: `updateDateStart` and `updateDateEnd` are both taken as inclusive, so a
/// reader resuming from the last `updatedAt` it saw re-reads that instant, never misses it.
fn in_update_window(
    at: DateTime<Utc>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> bool {
    start.is_none_or(|start| at >= start) && end.is_none_or(|end| at <= end)
}

async fn list_sets(
    _: Bearer,
    State(app): State<Arc<App>>,
    params: Params,
) -> Result<Json<Value>, Problem> {
    let page = Page::from_params(&params)?;
    let status = status_filter(params.first("status"))?;
    let start = params.parsed("updateDateStart")?;
    let end = params.parsed("updateDateEnd")?;
    let state = app.iconic.lock().unwrap();
    let rows = state.catalog.sets().filter(|set| {
        status.is_none_or(|status| set.status == status)
            && in_update_window(set.updated_at, start, end)
    });
    Ok(Json(page.envelope(rows, set_json)))
}

async fn set_products(
    _: Bearer,
    State(app): State<Arc<App>>,
    path: Result<Path<u64>, PathRejection>,
) -> Result<Json<Value>, Problem> {
    let Path(id) = path?;
    let state = app.iconic.lock().unwrap();
    let catalog = &state.catalog;
    let set = catalog
        .set(id)
        .ok_or_else(|| Problem::not_found(format!("product set {id} not found")))?;
    let products = catalog
        .products_of(set)
        .map(|p| product_json(catalog, p))
        .collect();
    Ok(Json(Value::Array(products)))
}

/// UNCONFIRMED: the seller-skus answer's shape. Taken as the list endpoints' `items`,
/// without pagination since one call names at most 100 SKUs.
fn seller_skus_body(products: Vec<Value>) -> Value {
    json!({ "items": products })
}

async fn by_seller_skus(
    _: Bearer,
    State(app): State<Arc<App>>,
    params: Params,
) -> Result<Json<Value>, Problem> {
    let skus: Vec<&str> = params.all("sellerSkus[]").collect();
    if skus.is_empty() {
        return Err(Problem::bad_request("sellerSkus[] is required"));
    }
    if skus.len() > MAX_SELLER_SKUS {
        return Err(Problem::bad_request(format!(
            "at most {MAX_SELLER_SKUS} sellerSkus[] per request, got {}",
            skus.len()
        )));
    }
    let state = app.iconic.lock().unwrap();
    let catalog = &state.catalog;
    let mut found: Vec<&Product> = skus
        .iter()
        .filter_map(|sku| catalog.by_seller_sku(sku))
        .collect();
    found.sort_unstable_by_key(|p| p.id);
    found.dedup_by_key(|p| p.id);
    let products = found
        .into_iter()
        .map(|p| product_json(catalog, p))
        .collect();
    Ok(Json(seller_skus_body(products)))
}

fn set_json(set: &ProductSet) -> Value {
    json!({
        "id": set.id,
        "name": set.name,
        "status": set.status,
        "createdAt": wire_time(set.created_at),
        "updatedAt": wire_time(set.updated_at),
    })
}

fn product_json(catalog: &Catalog, p: &Product) -> Value {
    json!({
        "id": p.id,
        "productSetId": p.set_id,
        "sellerSku": p.seller_sku,
        "shopSku": shop_sku(p.id),
        "name": catalog.name_of(p),
        "status": p.status,
        "approvalStatus": APPROVAL_STATUS,
        "createdAt": wire_time(p.created_at),
        "updatedAt": wire_time(p.updated_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_filters() {
        assert_eq!(status_filter(None).unwrap(), None);
        assert_eq!(status_filter(Some("active")).unwrap(), Some(Status::Active));
        assert_eq!(
            status_filter(Some("deleted-all")).unwrap(),
            Some(Status::Deleted)
        );
        assert!(status_filter(Some("sold-out")).is_err());
    }

    #[test]
    fn update_window_bounds_are_inclusive() {
        let t: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        assert!(in_update_window(t, Some(t), Some(t)));
        assert!(in_update_window(t, None, None));
        assert!(!in_update_window(
            t,
            Some(t + chrono::TimeDelta::seconds(1)),
            None
        ));
        assert!(!in_update_window(
            t,
            None,
            Some(t - chrono::TimeDelta::seconds(1))
        ));
    }
}
