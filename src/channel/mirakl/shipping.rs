//! Shipping: SH21 lists the operator's carriers; OR23 tells Mirakl where the parcel
//! went (a registered carrier by its code, any other by its name), then OR24 marks the
//! order shipped (SHIPPING → SHIPPED, every line).

use serde::{Deserialize, Serialize};

use crate::channel::transport::{json, Transport};
use crate::channel::{Carrier, ChannelError, ShipOutcome, Shipment};

const CARRIERS: &str = "GET /api/shipping/carriers";
const TRACKING: &str = "PUT /api/orders/{id}/tracking";
const SHIP: &str = "PUT /api/orders/{id}/ship";

/// SH21's documented frequency: once a day.
pub(super) const CARRIERS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// UNCONFIRMED: what Mirakl takes as a tracking number (the contract sets no rule): one
/// word of printable characters, at most this long.
const MAX_TRACKING_NUMBER: usize = 100;

pub(super) fn tracking_number_problem(number: &str) -> Option<String> {
    if let Some(c) = number.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "tracking number {number:?} holds {c:?}; Mirakl takes one word without spaces"
        ));
    }
    (number.chars().count() > MAX_TRACKING_NUMBER).then(|| {
        format!("tracking number {number:?} is longer than {MAX_TRACKING_NUMBER} characters")
    })
}

#[derive(Deserialize)]
struct CarrierList {
    carriers: Vec<Carrier>,
}

/// SH21: every carrier by code and label (`standard_code` and `tracking_url` are
/// Mirakl's to use: a registered carrier's link is built by Mirakl from its code).
pub(super) async fn carriers(transport: &Transport) -> Result<Vec<Carrier>, ChannelError> {
    let url = transport.url("/api/shipping/carriers");
    let list: CarrierList = transport
        .call(CARRIERS, |http| http.get(&url), json)
        .await?;
    Ok(list.carriers)
}

#[derive(Debug, Serialize)]
struct Tracking<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    carrier_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    carrier_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    carrier_url: Option<&'a str>,
    tracking_number: &'a str,
}

/// The tracking body: a carrier among `registered` (by code, or by label when the
/// config named it so) goes by its code, and Mirakl links the parcel from it; any
/// other by its name with Shopify's tracking link, as Mirakl asks for unregistered
/// carriers.
fn tracking<'a>(shipment: &'a Shipment, registered: &'a [Carrier]) -> Tracking<'a> {
    let known = registered
        .iter()
        .find(|c| c.code == shipment.carrier || c.label == shipment.carrier);
    let unregistered = known.is_none();
    Tracking {
        carrier_code: known.map(|c| c.code.as_str()),
        carrier_name: unregistered.then_some(shipment.carrier.as_str()),
        carrier_url: shipment.tracking_url.as_deref().filter(|_| unregistered),
        tracking_number: &shipment.tracking_number,
    }
}

/// OR23 then OR24. OR23 only records the tracking, so it is repeated freely; OR24 is
/// not sent again after a failure that may have reached Mirakl: the order's state on
/// the next read says whether it shipped.
pub(super) async fn ship(
    transport: &Transport,
    registered: &[Carrier],
    shipment: &Shipment,
) -> ShipOutcome {
    let body = tracking(shipment, registered);
    let id = &shipment.order_id;
    let tracking_url = transport.url(&format!("/api/orders/{id}/tracking"));
    let ship_url = transport.url(&format!("/api/orders/{id}/ship"));
    let sent = async {
        transport
            .call(
                TRACKING,
                |http| http.put(&tracking_url).json(&body),
                |_| Ok(()),
            )
            .await?;
        transport
            .call_non_idempotent(SHIP, |http| http.put(&ship_url), |_| Ok(()))
            .await
    };
    match sent.await {
        Ok(()) => ShipOutcome::Shipped {
            confirmed: shipment.line_ids.clone(),
        },
        Err(ChannelError::Refused { reason, .. }) => ShipOutcome::Refused { reason },
        Err(other) => ShipOutcome::Unknown {
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::transport::test_transport;
    use super::*;
    use crate::test_server::{Reply, Script, TestServer};
    use serde_json::{json, Value};

    fn shipment(carrier: &str) -> Shipment {
        Shipment {
            order_id: "1001-A".into(),
            shipped_at: crate::clock::parse("2026-03-02T01:00:00Z").unwrap(),
            line_ids: vec!["1001-A-1".into(), "1001-A-2".into()],
            carrier: carrier.into(),
            tracking_number: "33AB0123".into(),
            tracking_url: Some("https://bobsvans.example/t/33AB0123".into()),
        }
    }

    fn registered() -> Vec<Carrier> {
        serde_json::from_value::<CarrierList>(json!({"carriers": [
            {"code": "AUPOST", "label": "Australia Post", "standard_code": null,
             "tracking_url": "https://auspost.com.au/mypost/track/details/{trackingId}"},
            {"code": "SENDLE", "label": "Sendle"}]}))
        .unwrap()
        .carriers
    }

    #[test]
    fn registered_carriers_go_by_code_and_others_by_name() {
        let body = |carrier: &str| {
            serde_json::to_value(tracking(&shipment(carrier), &registered())).unwrap()
        };
        let by_code = json!({"carrier_code": "AUPOST", "tracking_number": "33AB0123"});
        assert_eq!(body("AUPOST"), by_code);
        assert_eq!(body("Australia Post"), by_code);
        // Mirakl links a registered carrier's parcels itself; another's link is sent.
        assert_eq!(
            body("Bob's Vans"),
            json!({"carrier_name": "Bob's Vans", "tracking_number": "33AB0123",
                   "carrier_url": "https://bobsvans.example/t/33AB0123"})
        );
        assert_eq!(tracking_number_problem("33AB0123"), None);
        assert!(tracking_number_problem("33 AB").is_some());
        assert!(tracking_number_problem(&"9".repeat(101)).is_some());
    }

    #[tokio::test]
    async fn tracking_then_ship_and_a_refusal_keeps_the_operators_reason() {
        let script = Script::new(vec![
            Reply::new(204, ""),
            Reply::new(204, ""),
            Reply::new(204, ""),
            Reply::new(
                400,
                r#"{"message":"The order 1001-A is in state SHIPPED; OR24 needs SHIPPING","status":400,"code":"ORDER_INVALID_STATE"}"#,
            ),
        ]);
        let server = TestServer::start(move |_| script.pop().unwrap()).await;
        let t = test_transport(&server.url);
        assert_eq!(
            ship(&t, &registered(), &shipment("AUPOST")).await,
            ShipOutcome::Shipped {
                confirmed: vec!["1001-A-1".into(), "1001-A-2".into()]
            }
        );
        let seen = server.seen();
        assert_eq!(
            (seen[0].method.as_str(), seen[0].path()),
            ("PUT", "/api/orders/1001-A/tracking")
        );
        let body: Value = serde_json::from_str(&seen[0].body).unwrap();
        assert_eq!(
            body,
            json!({"carrier_code": "AUPOST", "tracking_number": "33AB0123"})
        );
        assert_eq!(
            (seen[1].method.as_str(), seen[1].path()),
            ("PUT", "/api/orders/1001-A/ship")
        );
        assert_eq!(
            ship(&t, &registered(), &shipment("AUPOST")).await,
            ShipOutcome::Refused {
                reason:
                    "ORDER_INVALID_STATE: The order 1001-A is in state SHIPPED; OR24 needs SHIPPING"
                        .into()
            }
        );
    }
}
