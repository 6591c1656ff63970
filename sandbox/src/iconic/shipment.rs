//! Shipping an order (contract: marketplaces.md §1.2 "Orders (write-back)"): the seller's
//! shipment providers, and `set-to-ready-to-ship` with The Iconic's rules:
//! - items are keyed `id`; an item object without one (e.g. `{"orderItemId": 1}`) is
//!   silently ignored, so a request of only such items has no items;
//! - every item belongs to the same order (else 422) and is `pending`;
//! - `trackingNumber` is required unless `deliveryType` is `pickup`, and is unique across
//!   the seller's orders;
//! - `shippingProvider` is required for dropship and must be a provider's exact name.
//!
//! Status codes: a request that is malformed or incomplete in itself gets [`MALFORMED`],
//! one the seller's orders or providers refuse gets [`REFUSED`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::Bearer;
use super::catalog::now;
use super::problem::Problem;
use super::request::{require_json, Params};
use crate::App;

/// UNCONFIRMED: the status of a request that is malformed or incomplete in itself.
const MALFORMED: StatusCode = StatusCode::BAD_REQUEST;

/// The status of a request the seller's state refuses. 422 is confirmed for items of
/// several orders (PIA2); UNCONFIRMED for the other rules (unknown item, item not
/// pending, tracking number already used, unknown provider).
pub(super) const REFUSED: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// The title of an item that is not pending. The title itself is The Iconic's (PIA's
/// `GeneralError` example); UNCONFIRMED that this is the case it is used for.
pub(super) const STATUS_TRANSITION: &str = "Status Transition is not allowed";

/// UNCONFIRMED wording: what a request with no (usable) items is told.
const NO_ITEMS: &str = "orderItems: no order items given";

/// UNCONFIRMED: a seller account's providers when the fixture lists none: carriers
/// common in Australia, none of them allocating tracking numbers itself.
const DEFAULT_PROVIDERS: [&str; 7] = [
    "AusPost",
    "StarTrack",
    "Couriers Please",
    "Aramex",
    "DHL Express",
    "TNT",
    "Sendle",
];

/// UNCONFIRMED: the delivery type of a request that names none (the contract marks the
/// field optional; skubridge always sends `dropship`).
const DEFAULT_DELIVERY_TYPE: DeliveryType = DeliveryType::Dropship;

/// UNCONFIRMED: the longest tracking number accepted (see [`check_tracking_number`]).
const MAX_TRACKING_NUMBER: usize = 50;

/// One of `iconic.json`'s `shipment_providers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureProvider {
    /// The exact value `shippingProvider` must carry.
    pub name: String,
    /// Whether the provider allocates tracking numbers (`apiIntegrationAvailable`).
    #[serde(default)]
    pub api_integration: bool,
}

pub(super) fn default_providers() -> Vec<FixtureProvider> {
    DEFAULT_PROVIDERS
        .iter()
        .map(|name| FixtureProvider {
            name: (*name).to_string(),
            api_integration: false,
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum DeliveryType {
    Dropship,
    Pickup,
    SendToWarehouse,
}

impl DeliveryType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Dropship => "dropship",
            Self::Pickup => "pickup",
            Self::SendToWarehouse => "send_to_warehouse",
        }
    }
}

/// What `set-to-ready-to-ship` recorded on an order item.
#[derive(Debug, Clone)]
pub(super) struct Shipment {
    delivery_type: DeliveryType,
    provider: Option<String>,
    pub(super) tracking_code: Option<String>,
}

impl Shipment {
    /// An order item's `shipment` in `GET /v2/orders`: nulls until it is set.
    /// UNCONFIRMED: `type` shows the `deliveryType` that was sent; `method`,
    /// `providerType` and `preTrackingCode` are not modelled and stay null.
    pub(super) fn wire(shipment: Option<&Self>) -> Value {
        json!({
            "type": shipment.map(|s| s.delivery_type.as_str()),
            "method": null,
            "provider": shipment.and_then(|s| s.provider.as_deref()),
            "providerType": null,
            "trackingCode": shipment.and_then(|s| s.tracking_code.as_deref()),
            "preTrackingCode": null,
        })
    }

    /// As the state dump shows it.
    pub(super) fn dump(&self) -> Value {
        json!({
            "delivery_type": self.delivery_type.as_str(),
            "provider": self.provider,
            "tracking_code": self.tracking_code,
        })
    }
}

/// UNCONFIRMED: The Iconic's rule for the characters of a tracking number is not public
/// (v1's providers carried their own validation patterns). The sandbox accepts 1 to
/// [`MAX_TRACKING_NUMBER`] ASCII letters, digits and dashes, so whitespace anywhere
/// (leading, trailing or inner) is refused.
fn check_tracking_number(number: &str) -> Result<(), String> {
    if number.is_empty() {
        return Err("trackingNumber is empty".into());
    }
    if number.chars().count() > MAX_TRACKING_NUMBER {
        return Err(format!(
            "trackingNumber {number:?} is longer than {MAX_TRACKING_NUMBER} characters"
        ));
    }
    match number
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != '-')
    {
        Some(c) => Err(format!(
            "trackingNumber {number:?} contains {c:?}: only letters, digits and '-' are allowed"
        )),
        None => Ok(()),
    }
}

fn malformed(detail: impl Into<String>) -> Problem {
    Problem::new(MALFORMED, detail)
}

/// A checked `set-to-ready-to-ship` body.
#[derive(Debug)]
struct ReadyToShip {
    /// Each once, in request order.
    item_ids: Vec<u64>,
    shipment: Shipment,
}

fn parse(body: &[u8]) -> Result<ReadyToShip, Problem> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(malformed("the body must be a JSON object"));
    };
    let item_ids = item_ids(&fields)?;
    let delivery_type = match fields.get("deliveryType") {
        None | Some(Value::Null) => DEFAULT_DELIVERY_TYPE,
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| {
            malformed(format!(
                "deliveryType {v} is not one of dropship, pickup, send_to_warehouse"
            ))
        })?,
    };
    let tracking_code = optional_string(&fields, "trackingNumber")?;
    match &tracking_code {
        Some(number) => check_tracking_number(number).map_err(malformed)?,
        None if delivery_type != DeliveryType::Pickup => {
            return Err(malformed(
                "trackingNumber is required unless deliveryType is pickup",
            ))
        }
        None => {}
    }
    let provider = optional_string(&fields, "shippingProvider")?;
    if provider.is_none() && delivery_type == DeliveryType::Dropship {
        return Err(malformed(
            "shippingProvider is required for deliveryType dropship",
        ));
    }
    Ok(ReadyToShip {
        item_ids,
        shipment: Shipment {
            delivery_type,
            provider,
            tracking_code,
        },
    })
}

/// `orderItems[].id`. An item without `id` is skipped, as The Iconic skips it.
fn item_ids(fields: &Map<String, Value>) -> Result<Vec<u64>, Problem> {
    let items = match fields.get("orderItems") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(items)) => items.as_slice(),
        Some(_) => return Err(malformed("orderItems must be an array")),
    };
    let mut ids = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(malformed(format!("orderItems[{i}] must be an object")));
        };
        let Some(id) = item.get("id") else {
            continue;
        };
        let id = id
            .as_u64()
            .ok_or_else(|| malformed(format!("orderItems[{i}].id must be an integer")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(malformed(NO_ITEMS));
    }
    Ok(ids)
}

/// A string field; absent and null are `None`.
fn optional_string(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, Problem> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(malformed(format!("{name} must be a string"))),
    }
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v2/orders-shipment-providers", get(providers))
        .route(
            "/v2/orders/statuses/set-to-ready-to-ship",
            post(ready_to_ship),
        )
}

/// `?status=true|false`. UNCONFIRMED: taken to select active (or inactive) providers;
/// every sandbox provider is active.
async fn providers(
    _: Bearer,
    State(app): State<Arc<App>>,
    params: Params,
) -> Result<Json<Value>, Problem> {
    let active_wanted: Option<bool> = params.parsed("status")?;
    let state = app.iconic.lock().unwrap();
    let listed: Vec<Value> = state
        .providers
        .iter()
        .filter(|_| active_wanted != Some(false))
        .map(|p| json!({"name": p.name, "apiIntegrationAvailable": p.api_integration}))
        .collect();
    Ok(Json(Value::Array(listed)))
}

/// Answers `{"orderItemIds": [...]}`, the items that are now ready to ship.
async fn ready_to_ship(
    _: Bearer,
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    require_json(&headers)?;
    let request = parse(&body)?;
    let mut state = app.iconic.lock().unwrap();
    if let Some(provider) = &request.shipment.provider {
        if !state.providers.iter().any(|p| p.name == *provider) {
            return Err(Problem::new(
                REFUSED,
                format!("shippingProvider {provider:?} is not a known shipment provider"),
            ));
        }
    }
    let ids = state
        .orders
        .set_ready_to_ship(&request.item_ids, request.shipment, now())?;
    Ok(Json(json!({ "orderItemIds": ids })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(body: Value) -> Result<ReadyToShip, String> {
        parse(body.to_string().as_bytes()).map_err(|p| format!("{p:?}"))
    }

    #[test]
    fn tracking_numbers_are_letters_digits_and_dashes() {
        assert!(check_tracking_number("33ABC012345-01").is_ok());
        assert!(check_tracking_number(&"9".repeat(MAX_TRACKING_NUMBER)).is_ok());
        for bad in [
            "",
            " TRK1",
            "TRK1 ",
            "TRK 1",
            "TRK\u{a0}1",
            "TRK/1",
            "TRK1\n",
        ] {
            assert!(check_tracking_number(bad).is_err(), "{bad:?}");
        }
        let long = "9".repeat(MAX_TRACKING_NUMBER + 1);
        assert!(check_tracking_number(&long).unwrap_err().contains("longer"));
        assert!(check_tracking_number("A B").unwrap_err().contains("' '"));
    }

    #[test]
    fn bodies_are_read_with_the_real_quirks() {
        let ok = parsed(json!({"orderItems": [{"id": 2}, {"id": 1}, {"id": 2}],
            "trackingNumber": "T1", "deliveryType": "dropship", "shippingProvider": "AusPost"}))
        .unwrap();
        assert_eq!(ok.item_ids, [2, 1]);
        assert_eq!(ok.shipment.tracking_code.as_deref(), Some("T1"));
        // `orderItemId` is not the key: silently skipped, leaving no items.
        let wrong_key = parsed(json!({"orderItems": [{"orderItemId": 1}],
            "trackingNumber": "T1", "shippingProvider": "AusPost"}));
        assert!(wrong_key.unwrap_err().contains(NO_ITEMS));
        let no_type = parsed(json!({"orderItems": [{"id": 1}], "trackingNumber": "T1"}));
        assert!(no_type
            .unwrap_err()
            .contains("shippingProvider is required"));
        let pickup = parsed(json!({"orderItems": [{"id": 1}], "deliveryType": "pickup"}));
        assert_eq!(pickup.unwrap().shipment.tracking_code, None);
        let warehouse = parsed(json!({"orderItems": [{"id": 1}],
            "deliveryType": "send_to_warehouse"}));
        assert!(warehouse
            .unwrap_err()
            .contains("trackingNumber is required"));
        for bad in [
            json!([]),
            json!({"orderItems": {"id": 1}}),
            json!({"orderItems": [1]}),
            json!({"orderItems": [{"id": "1"}], "trackingNumber": "T"}),
            json!({"orderItems": [{"id": 1}], "deliveryType": "courier", "trackingNumber": "T"}),
            json!({"orderItems": [{"id": 1}], "deliveryType": "pickup", "trackingNumber": 5}),
        ] {
            assert!(parsed(bad.clone()).is_err(), "{bad}");
        }
    }
}
