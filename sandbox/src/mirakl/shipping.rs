//! Shipping: SH21 (`GET /api/shipping/carriers`) lists the operator's carriers; OR23
//! (`PUT /api/orders/{order_id}/tracking`) records where an order's parcel went; OR24
//! (`PUT /api/orders/{order_id}/ship`) confirms it shipped (SHIPPING → SHIPPED).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::auth::Call;
use super::error::{parse_body, MiraklError};
use super::limits::Limit;
use super::orders::{Order, OrderState, Refusable, Tracking};
use super::{now, wire_time, PREFIX};
use crate::App;

/// UNCONFIRMED: where a carrier's tracking URL template takes the tracking number.
const TRACKING_PLACEHOLDER: &str = "{trackingId}";

/// A carrier as SH21 lists it (and `mirakl.json` writes it).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureCarrier {
    pub code: String,
    pub label: String,
    #[serde(default)]
    pub standard_code: Option<String>,
    /// A template with `{trackingId}` where the number goes; absent: none.
    #[serde(default)]
    pub tracking_url: Option<String>,
}

pub(super) fn default_carriers() -> Vec<FixtureCarrier> {
    let carrier = |code: &str, label: &str, url: Option<&str>| FixtureCarrier {
        code: code.into(),
        label: label.into(),
        standard_code: None,
        tracking_url: url.map(Into::into),
    };
    vec![
        carrier(
            "AUPOST",
            "Australia Post",
            Some("https://auspost.com.au/mypost/track/details/{trackingId}"),
        ),
        carrier(
            "STARTRACK",
            "StarTrack",
            Some("https://startrack.com.au/track/details/{trackingId}"),
        ),
        carrier(
            "SENDLE",
            "Sendle",
            Some("https://track.sendle.com/tracking?ref={trackingId}"),
        ),
        carrier(
            "CPL",
            "CouriersPlease",
            Some("https://www.couriersplease.com.au/tools-track/no/{trackingId}"),
        ),
        carrier(
            "DHL",
            "DHL Express",
            Some("https://www.dhl.com/au-en/home/tracking.html?tracking-id={trackingId}"),
        ),
        carrier(
            "ARAMEX",
            "Aramex",
            Some("https://www.aramex.com.au/tools/track?l={trackingId}"),
        ),
        carrier("HUNTER", "Hunter Express", None),
    ]
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(&format!("{PREFIX}/api/shipping/carriers"), get(carriers))
        .route(
            &format!("{PREFIX}/api/orders/{{order_id}}/tracking"),
            put(tracking),
        )
        .route(&format!("{PREFIX}/api/orders/{{order_id}}/ship"), put(ship))
}

/// SH21, sorted by label.
async fn carriers(call: Call, State(app): State<Arc<App>>) -> Result<Json<Value>, MiraklError> {
    call.admit(&app, "SH21", Limit::Sh21, "")?;
    let state = app.mirakl.lock().unwrap();
    Ok(Json(json!({"carriers": state.carriers})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackingBody {
    carrier_code: Option<String>,
    carrier_name: Option<String>,
    carrier_standard_code: Option<String>,
    carrier_url: Option<String>,
    tracking_number: Option<String>,
}

/// What OR23 records. A registered carrier (`carrier_code`, one of SH21's) gets its
/// template's URL (`carrier_url` is unused) and needs a tracking number when the
/// template takes one; an unregistered one needs `carrier_name`, and `carrier_url` is
/// its whole tracking URL.
fn tracking_update(
    carriers: &[FixtureCarrier],
    body: TrackingBody,
) -> Result<Tracking, MiraklError> {
    let number = body.tracking_number.filter(|n| !n.trim().is_empty());
    let Some(code) = body.carrier_code else {
        let name = body
            .carrier_name
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                MiraklError::bad_request("carrier_name is required when carrier_code is not given")
            })?;
        return Ok(Tracking {
            carrier_code: None,
            company: Some(name),
            number,
            url: body.carrier_url,
        });
    };
    let carrier = carriers.iter().find(|c| c.code == code).ok_or_else(|| {
        MiraklError::bad_request(format!(
            "The carrier code {code:?} is not a registered carrier"
        ))
    })?;
    let template = carrier.tracking_url.as_deref();
    if number.is_none() && template.is_some_and(|t| t.contains(TRACKING_PLACEHOLDER)) {
        return Err(MiraklError::bad_request(format!(
            "tracking_number is required for the carrier {code:?}"
        )));
    }
    let url = template.map(|t| t.replace(TRACKING_PLACEHOLDER, number.as_deref().unwrap_or("")));
    Ok(Tracking {
        carrier_code: Some(code),
        company: Some(carrier.label.clone()),
        number,
        url,
    })
}

/// UNCONFIRMED: OR23 is taken to be allowed only while the order is SHIPPING.
fn tracking_allowed(state: OrderState) -> bool {
    state == OrderState::Shipping
}

fn invalid_state(order: &Order, operation: &str) -> MiraklError {
    MiraklError::bad_request(format!(
        "The order {} is in state {}; {operation} needs SHIPPING",
        order.id,
        order.state.as_str()
    ))
    .with_code("ORDER_INVALID_STATE")
}

/// OR23: checks the order (404), its state and the body (400), then any refusal the
/// control API set; answers 204.
async fn tracking(
    call: Call,
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<StatusCode, MiraklError> {
    call.admit(&app, "OR23", Limit::Or23, "")?;
    let Path(id) = path?;
    let request: TrackingBody = parse_body(&body)?;
    let standard_code = request.carrier_standard_code.clone();
    let mut guard = app.mirakl.lock().unwrap();
    let state = &mut *guard;
    let order = state.orders.get_mut(&id)?;
    if !tracking_allowed(order.state) {
        return Err(invalid_state(order, "OR23"));
    }
    let tracking = tracking_update(&state.carriers, request)?;
    state.orders.check_refusal(Refusable::Or23)?;
    let at = now();
    let order = state.orders.get_mut(&id)?;
    order.tracking = tracking.clone();
    order.touch(at);
    state.orders.record_shipping_call(json!({
        "operation": "OR23", "order_id": id, "at": wire_time(at),
        "carrier_code": tracking.carrier_code, "carrier_name": tracking.company,
        "carrier_standard_code": standard_code,
        "tracking_number": tracking.number, "tracking_url": tracking.url,
    }));
    Ok(StatusCode::NO_CONTENT)
}

/// OR24: SHIPPING → SHIPPED (lines too); 204.
async fn ship(
    call: Call,
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, MiraklError> {
    call.admit(&app, "OR24", Limit::Or24, "")?;
    let Path(id) = path?;
    let mut state = app.mirakl.lock().unwrap();
    let order = state.orders.get_mut(&id)?;
    if order.state != OrderState::Shipping {
        return Err(invalid_state(order, "OR24"));
    }
    state.orders.check_refusal(Refusable::Or24)?;
    let at = now();
    state
        .orders
        .get_mut(&id)?
        .set_state(OrderState::Shipped, at);
    state
        .orders
        .record_shipping_call(json!({"operation": "OR24", "order_id": id,
        "at": wire_time(at)}));
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: Value) -> TrackingBody {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn registered_carriers_use_their_template_and_others_need_a_name() {
        let carriers = default_carriers();
        let t = tracking_update(
            &carriers,
            body(json!({"carrier_code": "AUPOST",
            "tracking_number": "33AB", "carrier_url": "https://ignored"})),
        )
        .unwrap();
        assert_eq!(
            t.url.as_deref(),
            Some("https://auspost.com.au/mypost/track/details/33AB")
        );
        assert_eq!(t.company.as_deref(), Some("Australia Post"));
        let hunter = tracking_update(&carriers, body(json!({"carrier_code": "HUNTER"}))).unwrap();
        assert_eq!((hunter.url, hunter.number), (None, None));
        let no_number = tracking_update(&carriers, body(json!({"carrier_code": "SENDLE"})));
        assert!(no_number.unwrap_err().message.contains("tracking_number"));
        let unknown = tracking_update(
            &carriers,
            body(json!({"carrier_code": "FEDEX",
            "tracking_number": "1"})),
        );
        assert!(unknown.unwrap_err().message.contains("FEDEX"));
        let own = tracking_update(
            &carriers,
            body(json!({"carrier_name": "Bob's Vans",
            "carrier_url": "https://bob.example/t/9", "tracking_number": "9"})),
        )
        .unwrap();
        assert_eq!(own.carrier_code, None);
        assert_eq!(own.url.as_deref(), Some("https://bob.example/t/9"));
        assert!(tracking_update(&carriers, body(json!({"tracking_number": "9"}))).is_err());
        assert!(tracking_update(&carriers, body(json!({"carrier_name": " "}))).is_err());
    }
}
