//! OR21 (`PUT /api/orders/{order_id}/accept`): the shop accepts or refuses each line of
//! an order WAITING_ACCEPTANCE. Every line must be decided, once.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::put;
use axum::Router;
use serde::Deserialize;

use super::auth::Call;
use super::error::MiraklError;
use super::limits::Limit;
use super::orders::{Order, OrderState, Refusable};
use super::{now, PREFIX};
use crate::App;

/// UNCONFIRMED: the state accepted lines (and the order) move to while the customer's
/// payment is taken; the control API's debit (or the fixture's `auto_debit`) then moves
/// them to SHIPPING.
pub(super) const ACCEPTED_STATE: OrderState = OrderState::WaitingDebitPayment;

#[derive(Deserialize)]
struct Body {
    order_lines: Vec<Decision>,
}

#[derive(Deserialize)]
struct Decision {
    id: String,
    accepted: bool,
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new().route(
        &format!("{PREFIX}/api/orders/{{order_id}}/accept"),
        put(accept),
    )
}

/// The decisions, checked against the order; nothing changes unless all pass.
fn check(order: &Order, body: &[u8]) -> Result<Vec<(String, bool)>, MiraklError> {
    let body: Body = serde_json::from_slice(body).map_err(|e| {
        MiraklError::bad_request(format!("the body is not valid: {e}"))
            .with_code("VALIDATION_ERROR")
    })?;
    if order.state != OrderState::WaitingAcceptance {
        return Err(MiraklError::bad_request(format!(
            "The order {} is in state {} and cannot be accepted or refused",
            order.id,
            order.state.as_str()
        ))
        .with_code("ORDER_INVALID_STATE"));
    }
    let mut seen = HashSet::new();
    for decision in &body.order_lines {
        if !seen.insert(decision.id.as_str()) {
            return Err(MiraklError::bad_request(format!(
                "The order line {} is given more than once",
                decision.id
            ))
            .with_code("ORDER_LINE_DUPLICATE_ID"));
        }
        if !order.lines.iter().any(|l| l.id == decision.id) {
            return Err(MiraklError::bad_request(format!(
                "The order line {} does not belong to the order {}",
                decision.id, order.id
            ))
            .with_code("ORDER_LINE_NOT_FOUND"));
        }
    }
    if let Some(missing) = order.lines.iter().find(|l| !seen.contains(l.id.as_str())) {
        return Err(MiraklError::bad_request(format!(
            "No acceptance decision for the order line {}",
            missing.id
        ))
        .with_code("ORDER_LINE_ACCEPTANCE_DECISION_MISSING"));
    }
    Ok(body
        .order_lines
        .into_iter()
        .map(|d| (d.id, d.accepted))
        .collect())
}

/// Checks run in order — the order (404), the body and decisions (400), then any refusal
/// the control API set — and answers 204.
async fn accept(
    call: Call,
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<StatusCode, MiraklError> {
    call.admit(&app, "OR21", Limit::Or21, "")?;
    let Path(id) = path?;
    let mut guard = app.mirakl.lock().unwrap();
    let state = &mut *guard;
    let decisions = check(state.orders.get_mut(&id)?, &body)?;
    state.orders.check_refusal(Refusable::Or21)?;
    let at = now();
    let order = state.orders.get_mut(&id)?;
    order.decide(&decisions, ACCEPTED_STATE, at);
    if state.auto_debit && order.state == ACCEPTED_STATE {
        order.set_state(OrderState::Shipping, at);
    }
    Ok(StatusCode::NO_CONTENT)
}
