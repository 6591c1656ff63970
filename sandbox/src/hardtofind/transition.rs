//! `POST /order/{id}/transition`: the seller moves an order on. `process` takes a READY
//! order to PROCESSED; `ship` takes a READY or PROCESSED one to SHIPPED and records the
//! parcel. Anything else is refused (422), and so is whatever the control API's
//! `refuse-transitions` told the channel to refuse.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::auth::Session;
use super::error::{parse_body, ApiError};
use super::orders::{detail_json, Order, Shipment, Status};
use super::{api_base, now};
use crate::App;

/// The transitions the API offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Action {
    Process,
    Ship,
}

impl Action {
    fn from_wire(text: &str) -> Option<Self> {
        match text {
            "process" => Some(Self::Process),
            "ship" => Some(Self::Ship),
            _ => None,
        }
    }

    fn allowed_from(self, status: Status) -> bool {
        match self {
            Self::Process => status == Status::Ready,
            Self::Ship => matches!(status, Status::Ready | Status::Processed),
        }
    }
}

/// Transitions the channel will refuse for its own reasons, in the order they were set.
#[derive(Default)]
pub(super) struct Refusals(Vec<Refusal>);

/// `POST /_sandbox/hardtofind/refuse-transitions`: the next `times` transitions doing
/// `action` answer 422 with `message`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Refusal {
    action: Action,
    #[serde(default = "one")]
    times: u32,
    #[serde(default = "default_refusal")]
    message: String,
}

fn one() -> u32 {
    1
}

fn default_refusal() -> String {
    "the transition was refused by Hard To Find".into()
}

impl Refusals {
    pub(super) fn add(&mut self, refusal: Refusal) {
        if refusal.times > 0 {
            self.0.push(refusal);
        }
    }

    /// Takes one firing of the first refusal of `action`, if any.
    fn take(&mut self, action: Action) -> Option<String> {
        let i = self.0.iter().position(|r| r.action == action)?;
        let refusal = &mut self.0[i];
        refusal.times -= 1;
        let message = refusal.message.clone();
        if refusal.times == 0 {
            self.0.remove(i);
        }
        Some(message)
    }
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new().route("/hardtofind/order/{id}/transition", post(transition))
}

#[derive(Deserialize)]
struct Request {
    action: String,
    #[serde(default)]
    data: Option<ShipData>,
}

#[derive(Default, Deserialize)]
struct ShipData {
    tracking_number: Option<String>,
    shipping_provider_name: Option<String>,
    shipment_date: Option<String>,
}

/// Checks run in this order, and none changes anything until all pass: the body (400),
/// the order (404), whether the action is allowed from its status (422), the parcel
/// (400), then any `refuse-transitions` (422; only a transition that would otherwise
/// succeed uses one up).
async fn transition(
    _: Session,
    State(app): State<Arc<App>>,
    path: Result<Path<u64>, PathRejection>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = path?;
    let request: Request = parse_body(&body)?;
    let base = api_base(&app);
    let mut state = app.hardtofind.lock().unwrap();
    let state = &mut *state;
    let order = state.orders.get_mut(id)?;
    let action = Action::from_wire(&request.action)
        .filter(|action| action.allowed_from(order.status))
        .ok_or_else(|| not_allowed(order, &request.action))?;
    let shipment = match action {
        Action::Process => None,
        Action::Ship => Some(shipment(request.data.unwrap_or_default())?),
    };
    if let Some(message) = state.refusals.take(action) {
        return Err(ApiError::refused(message));
    }
    let at = now();
    match shipment {
        None => order.set_status(Status::Processed, at),
        Some(shipment) => order.ship(shipment, at),
    }
    Ok(Json(detail_json(&base, order)))
}

fn not_allowed(order: &Order, action: &str) -> ApiError {
    ApiError::refused(format!(
        "order {} is {}; {action:?} is not allowed",
        order.id(),
        order.status.as_str()
    ))
}

fn shipment(data: ShipData) -> Result<Shipment, ApiError> {
    let required = |value: Option<String>, name: &str| {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ApiError::bad_request(format!("data.{name} is required")))
    };
    let tracking_number = required(data.tracking_number, "tracking_number")?;
    let shipping_provider_name = required(data.shipping_provider_name, "shipping_provider_name")?;
    let date = required(data.shipment_date, "shipment_date")?;
    let shipment_date = shipment_date(date.trim()).ok_or_else(|| {
        ApiError::bad_request(format!(
            "data.shipment_date must be a date (YYYY-MM-DD) or an RFC 3339 date-time, got {date:?}"
        ))
    })?;
    Ok(Shipment {
        tracking_number,
        shipping_provider_name,
        shipment_date,
    })
}

/// A date stays a date; a date-time is written in UTC.
fn shipment_date(text: &str) -> Option<String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.format("%Y-%m-%d").to_string());
    }
    let at = DateTime::parse_from_rfc3339(text).ok()?;
    Some(
        at.with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ready_orders_process_and_only_unshipped_ones_ship() {
        use Status::*;
        for status in [Ready, Processed, Shipped, Returned, Refunded, Cancelled] {
            assert_eq!(Action::Process.allowed_from(status), status == Ready);
            assert_eq!(
                Action::Ship.allowed_from(status),
                matches!(status, Ready | Processed)
            );
        }
        assert_eq!(Action::from_wire("deliver"), None);
    }

    #[test]
    fn shipment_dates_are_dates_or_rfc_3339() {
        assert_eq!(shipment_date("2026-03-02").unwrap(), "2026-03-02");
        assert_eq!(
            shipment_date("2026-03-02T10:00:00+10:00").unwrap(),
            "2026-03-02T00:00:00Z"
        );
        for bad in ["2026-02-30", "02/03/2026", "2026-03-02 10:00", "today"] {
            assert!(shipment_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn refusals_wear_out_in_order() {
        let mut refusals = Refusals::default();
        let rule = |action, times, message: &str| Refusal {
            action,
            times,
            message: message.into(),
        };
        refusals.add(rule(Action::Ship, 2, "a"));
        refusals.add(rule(Action::Ship, 1, "b"));
        refusals.add(rule(Action::Process, 0, "never"));
        assert_eq!(refusals.take(Action::Process), None);
        let taken: Vec<Option<String>> = (0..4).map(|_| refusals.take(Action::Ship)).collect();
        assert_eq!(
            taken,
            [Some("a".into()), Some("a".into()), Some("b".into()), None]
        );
    }
}
