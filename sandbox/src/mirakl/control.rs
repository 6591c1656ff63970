//! `/_sandbox/mirakl/*`: what tests and the demo change behind the API's back (a customer
//! orders, the operator debits, cancels or refunds, an incident opens, the seller edits
//! an offer in the back office, an import or export breaks, the operator refuses a
//! call, the frequency clocks restart), and `/_sandbox/report/mirakl`. None of it is
//! counted or authenticated. Order routes answer the order as OR11 shows it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{parse_body, MiraklError};
use super::export::Failure;
use super::offers::{offer_json, FixtureOffer};
use super::orders::{order_json, Adjustment, FixtureOrder, LineAction, Order, OrderState, Refusal};
use super::{now, MiraklState, Money};
use crate::raw_json::Raw;
use crate::App;

pub(super) fn routes() -> Router<Arc<App>> {
    let base = "/_sandbox/mirakl";
    Router::new()
        .route(&format!("{base}/orders"), post(add_order))
        .route(&format!("{base}/orders/{{order_id}}/state"), put(set_state))
        .route(&format!("{base}/orders/{{order_id}}/debit"), post(debit))
        .route(
            &format!("{base}/orders/{{order_id}}/incident"),
            post(incident).delete(incident),
        )
        .route(
            &format!("{base}/orders/{{order_id}}/lines/{{line_id}}/{{action}}"),
            post(adjust_line),
        )
        .route(&format!("{base}/offers"), post(add_offer))
        .route(
            &format!("{base}/offers/{{sku}}"),
            patch(patch_offer).delete(delete_offer),
        )
        .route(&format!("{base}/imports/fail-next"), post(fail_next_import))
        .route(&format!("{base}/imports/hold"), post(hold_imports))
        .route(&format!("{base}/imports/release"), post(release_imports))
        .route(&format!("{base}/exports/fail-next"), post(fail_next_export))
        .route(&format!("{base}/refusals"), post(refuse))
        .route(&format!("{base}/limits"), delete(reset_limits))
        .route("/_sandbox/report/mirakl", get(report))
}

/// Runs `change` on order `id` and answers the order.
fn with_order(
    app: &App,
    id: &str,
    change: impl FnOnce(&mut Order) -> Result<(), MiraklError>,
) -> Result<Raw, MiraklError> {
    let mut state = app.mirakl.lock().unwrap();
    let order = state.orders.get_mut(id)?;
    change(order)?;
    Ok(Raw(order_json(order)))
}

/// Created now unless the order says otherwise.
async fn add_order(
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<(StatusCode, Raw), MiraklError> {
    let order: FixtureOrder = parse_body(&body)?;
    let mut guard = app.mirakl.lock().unwrap();
    let state: &mut MiraklState = &mut guard;
    let order = state
        .orders
        .add(order, &state.offers, &state.shop.currency_iso_code, now())?;
    Ok((StatusCode::CREATED, Raw(order_json(order))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateChange {
    state: OrderState,
}

/// Any state, directly (lines not refused or canceled follow).
async fn set_state(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Raw, MiraklError> {
    let Path(id) = path?;
    let StateChange { state } = parse_body(&body)?;
    with_order(&app, &id, |order| {
        order.set_state(state, now());
        Ok(())
    })
}

/// The customer's payment went through: an order waiting for it moves to SHIPPING.
async fn debit(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Raw, MiraklError> {
    let Path(id) = path?;
    with_order(&app, &id, |order| {
        if !matches!(
            order.state,
            OrderState::WaitingDebit | OrderState::WaitingDebitPayment
        ) {
            return Err(MiraklError::conflict(format!(
                "order {} is {}, not waiting for its debit",
                order.id,
                order.state.as_str()
            )));
        }
        order.set_state(OrderState::Shipping, now());
        Ok(())
    })
}

/// POST opens an incident on the order, DELETE closes it.
async fn incident(
    method: Method,
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Raw, MiraklError> {
    let Path(id) = path?;
    with_order(&app, &id, |order| {
        order.set_incident(method == Method::POST, now());
        Ok(())
    })
}

/// `cancel` (the line is CANCELED; all canceled: the order too) or `refund` (recorded),
/// with an optional body `{amount, shipping_amount, quantity, reason_code}`.
async fn adjust_line(
    State(app): State<Arc<App>>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    body: Bytes,
) -> Result<Raw, MiraklError> {
    let Path((id, line, action)) = path?;
    let adjustment: Adjustment = parse_body(&body)?;
    with_order(&app, &id, |order| {
        order.adjust(&line, line_action(&action)?, adjustment, now())
    })
}

/// The `{action}` of a line route (404 when neither).
fn line_action(name: &str) -> Result<LineAction, MiraklError> {
    match name {
        "cancel" => Ok(LineAction::Cancel),
        "refund" => Ok(LineAction::Refund),
        other => Err(MiraklError::not_found(format!(
            "unknown line action {other:?} (cancel or refund)"
        ))),
    }
}

/// Answers the offer as OF21 shows it.
async fn add_offer(
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<(StatusCode, Raw), MiraklError> {
    let offer: FixtureOffer = parse_body(&body)?;
    let mut state = app.mirakl.lock().unwrap();
    let i = state.offers.add(offer, now())?;
    Ok((StatusCode::CREATED, Raw(offer_json(&state.offers.all()[i]))))
}

/// What the seller can change in the back office.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferPatch {
    quantity: Option<u32>,
    price: Option<Money>,
    active: Option<bool>,
    inactivity_reasons: Option<Vec<String>>,
}

async fn patch_offer(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Raw, MiraklError> {
    let Path(sku) = path?;
    let patch: OfferPatch = parse_body(&body)?;
    let mut state = app.mirakl.lock().unwrap();
    let offer = state.offers.get_mut(&sku)?;
    let at = now();
    if let Some(quantity) = patch.quantity {
        offer.quantity = quantity;
    }
    if let Some(price) = patch.price {
        offer.price = price;
    }
    if let Some(active) = patch.active {
        offer.enabled = active;
    }
    if let Some(reasons) = patch.inactivity_reasons {
        offer.set_reasons(reasons);
    }
    offer.touch(at);
    Ok(Raw(offer_json(offer)))
}

/// The offer leaves the shop (differential exports list it as deleted).
async fn delete_offer(
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, MiraklError> {
    let Path(sku) = path?;
    app.mirakl.lock().unwrap().offers.delete(&sku, now())?;
    Ok(Json(json!({})))
}

async fn fail_next_import(State(app): State<Arc<App>>) -> Json<Value> {
    app.mirakl.lock().unwrap().imports.fail_next();
    Json(json!({}))
}

async fn hold_imports(State(app): State<Arc<App>>) -> Json<Value> {
    app.mirakl.lock().unwrap().imports.hold(true);
    Json(json!({}))
}

async fn release_imports(State(app): State<Arc<App>>) -> Json<Value> {
    app.mirakl.lock().unwrap().imports.hold(false);
    Json(json!({}))
}

/// Optional body `{code, detail}`: OF53's `error`.
async fn fail_next_export(
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<Json<Value>, MiraklError> {
    let failure: Failure = parse_body(&body)?;
    app.mirakl.lock().unwrap().exports.fail_next(failure);
    Ok(Json(json!({})))
}

/// `{"operation": "OR21"|"OR23"|"OR24", "message", "times"}`.
async fn refuse(State(app): State<Arc<App>>, body: Bytes) -> Result<Json<Value>, MiraklError> {
    let refusal: Refusal = parse_body(&body)?;
    app.mirakl.lock().unwrap().orders.refuse(refusal);
    Ok(Json(json!({})))
}

async fn reset_limits(State(app): State<Arc<App>>) -> Json<Value> {
    app.mirakl.lock().unwrap().limits.reset();
    Json(json!({}))
}

/// The offers added, deleted or whose quantity changed since the sandbox started, as
/// the other channels' reports show theirs.
async fn report(State(app): State<Arc<App>>) -> String {
    let (was, now) = app.mirakl.lock().unwrap().offers.changes();
    crate::report(&was, &now)
}
