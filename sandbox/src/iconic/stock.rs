//! Stock: one product's stock read, and batched absolute writes whose answer lists the
//! items that were refused.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::auth::Bearer;
use super::catalog::{now, shop_sku, Catalog, Status};
use super::problem::Problem;
use super::request::require_json;
use crate::App;

/// At most this many items per `PUT /v2/stock/product` (stated in the API's prose).
const MAX_STOCK_ITEMS: usize = 100;

/// UNCONFIRMED: the name of the field that says why an item was refused.
const REFUSAL_REASON_FIELD: &str = "message";

const NOT_FOUND: &str = "Product not found";
const FULFILLED_BY_VENTURE: &str =
    "Product is fulfilled by the venture (consignment); stock cannot be updated";
/// UNCONFIRMED: the wording for a deleted product (the contract only says it is refused).
const DELETED: &str = "Product is deleted; stock cannot be updated";

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v2/stock/product/{id}", get(read))
        .route("/v2/stock/product", put(write))
}

async fn read(
    _: Bearer,
    State(app): State<Arc<App>>,
    path: Result<Path<u64>, PathRejection>,
) -> Result<Json<Value>, Problem> {
    let Path(id) = path?;
    let state = app.iconic.lock().unwrap();
    let catalog = &state.catalog;
    let p = catalog
        .product(id)
        .ok_or_else(|| Problem::not_found(format!("product {id} not found")))?;
    // Warehouses and consignments are The Iconic's own stock, which the sandbox does
    // not model; `sellableStock` is taken to be what `available` says can be sold.
    Ok(Json(json!({
        "productId": p.id,
        "sellerSku": p.seller_sku,
        "shopSku": shop_sku(p.id),
        "name": catalog.name_of(p),
        "quantity": p.quantity,
        "reservedStock": p.reserved_stock,
        "preVerificationStock": 0,
        "available": p.available(),
        "sellableStock": p.available(),
        "nonSellableStock": 0,
        "warehouses": [],
        "consignments": {},
    })))
}

#[derive(Debug, PartialEq, Eq)]
struct StockItem {
    product_id: u64,
    quantity: u32,
}

async fn write(
    _: Bearer,
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    require_json(&headers)?;
    let items = parse_items(&body)?;
    let at = now();
    let mut state = app.iconic.lock().unwrap();
    let state = &mut *state;
    let mut refused = Vec::new();
    for item in &items {
        match apply(&mut state.catalog, item, at) {
            Ok(()) => state.stock_writes += 1,
            Err(reason) => refused.push(refusal(item, reason)),
        }
    }
    Ok(Json(Value::Array(refused)))
}

/// The whole body is validated before anything is applied: a 400 changes nothing.
fn parse_items(body: &[u8]) -> Result<Vec<StockItem>, Problem> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Problem::bad_request(format!("the body is not valid JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(Problem::bad_request(
            "the body must be a JSON array of {\"productId\", \"quantity\"} items",
        ));
    };
    if items.len() > MAX_STOCK_ITEMS {
        return Err(Problem::bad_request(format!(
            "too many items: max {MAX_STOCK_ITEMS} per request, got {}",
            items.len()
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            parse_item(item).map_err(|why| Problem::bad_request(format!("item {i}: {why}")))
        })
        .collect()
}

fn parse_item(item: &Value) -> Result<StockItem, &'static str> {
    let Value::Object(fields) = item else {
        return Err("must be an object {\"productId\", \"quantity\"}");
    };
    let product_id = fields
        .get("productId")
        .and_then(Value::as_u64)
        .ok_or("productId must be a non-negative integer")?;
    let quantity = fields
        .get("quantity")
        .and_then(Value::as_u64)
        .and_then(|q| u32::try_from(q).ok())
        .ok_or("quantity must be a non-negative integer")?;
    Ok(StockItem {
        product_id,
        quantity,
    })
}

/// Sets one product's quantity (absolute), or says why The Iconic would not.
fn apply(
    catalog: &mut Catalog,
    item: &StockItem,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), &'static str> {
    let product = catalog.product(item.product_id).ok_or(NOT_FOUND)?;
    if product.fulfilled_by_venture {
        return Err(FULFILLED_BY_VENTURE);
    }
    if product.status == Status::Deleted {
        return Err(DELETED);
    }
    catalog.update(item.product_id, at, |p| p.quantity = item.quantity);
    Ok(())
}

fn refusal(item: &StockItem, reason: &str) -> Value {
    let mut row = Map::new();
    row.insert("productId".into(), item.product_id.into());
    row.insert("quantity".into(), item.quantity.into());
    row.insert(REFUSAL_REASON_FIELD.into(), reason.into());
    Value::Object(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail_of(body: &str) -> String {
        format!("{:?}", parse_items(body.as_bytes()).unwrap_err())
    }

    #[test]
    fn parses_integer_items() {
        let items =
            parse_items(br#"[{"productId":1,"quantity":7},{"productId":2,"quantity":0}]"#).unwrap();
        assert_eq!(
            items,
            [
                StockItem {
                    product_id: 1,
                    quantity: 7
                },
                StockItem {
                    product_id: 2,
                    quantity: 0
                }
            ]
        );
        assert_eq!(parse_items(b"[]").unwrap(), []);
    }

    #[test]
    fn non_integers_are_refused_naming_the_item() {
        for bad in [r#""7""#, "7.0", "7.5", "-1", "null"] {
            let body =
                format!(r#"[{{"productId":1,"quantity":1}},{{"productId":2,"quantity":{bad}}}]"#);
            let detail = detail_of(&body);
            assert!(detail.contains("item 1: quantity"), "{bad}: {detail}");
        }
        assert!(detail_of(r#"[{"productId":"1","quantity":1}]"#).contains("item 0: productId"));
        assert!(detail_of(r#"[7]"#).contains("item 0: must be an object"));
        assert!(detail_of(r#"{"productId":1,"quantity":1}"#).contains("JSON array"));
        assert!(detail_of("not json").contains("not valid JSON"));
    }

    #[test]
    fn more_than_100_items_are_refused() {
        let items: Vec<Value> = (0..101)
            .map(|i| json!({"productId": i, "quantity": 1}))
            .collect();
        let body = Value::Array(items).to_string();
        assert!(detail_of(&body).contains("max 100"));
        let hundred: Vec<Value> = (0..100)
            .map(|i| json!({"productId": i, "quantity": 1}))
            .collect();
        assert_eq!(
            parse_items(Value::Array(hundred).to_string().as_bytes())
                .unwrap()
                .len(),
            100
        );
    }
}
