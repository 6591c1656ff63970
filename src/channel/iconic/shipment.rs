//! Shipping (contract: marketplaces.md §1.2 "Orders (write-back)"): the carriers The
//! Iconic accepts, and `set-to-ready-to-ship` for one order's items.
//!
//! Setting items ready to ship is not repeatable: once it succeeds, a second call is
//! refused ("Status Transition is not allowed"). So it is re-sent only after failures
//! The Iconic cannot have acted on; after any other failure the outcome is unknown and
//! the caller learns it from the items' statuses on its next read.

use serde::{Deserialize, Serialize};
use tracing::debug;

use super::listings::ListBody;
use super::transport::{json, Transport};
use super::WireId;
use crate::channel::ChannelError;
use crate::channel::{Carrier, ShipOutcome, Shipment};

const PROVIDERS: &str = "GET /v2/orders-shipment-providers";
const PROVIDERS_PATH: &str = "/v2/orders-shipment-providers";
const READY_TO_SHIP: &str = "POST /v2/orders/statuses/set-to-ready-to-ship";
const READY_TO_SHIP_PATH: &str = "/v2/orders/statuses/set-to-ready-to-ship";

/// UNCONFIRMED: the characters The Iconic accepts in a tracking number and its length.
/// The contract only says it must be unique; carriers use letters, digits and dashes.
pub(super) fn tracking_number_problem(number: &str) -> Option<String> {
    const MAX: usize = 50;
    if number.chars().any(char::is_whitespace) {
        return Some(format!(
            "tracking number {number:?} contains spaces, which the channel does not accept"
        ));
    }
    if let Some(c) = number
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Some(format!(
            "tracking number {number:?} contains {c:?}; the channel accepts letters, digits and '-' only"
        ));
    }
    if number.len() > MAX {
        return Some(format!(
            "tracking number {number:?} is longer than {MAX} characters"
        ));
    }
    None
}

/// The seller ships the parcel itself (the contract's `deliveryType` for that case).
const DELIVERY_TYPE: &str = "dropship";

/// Other fields (`apiIntegrationAvailable`: the provider allocates tracking numbers) are
/// not needed: skubridge always sends the tracking number Shopify has.
#[derive(Deserialize)]
struct WireProvider {
    name: String,
}

/// UNCONFIRMED: the contract names the providers' fields but not the answer's shape;
/// both a bare array and the usual list envelope are read (the envelope's pagination is
/// ignored: the list is a handful of carriers, asked for without `limit`).
fn parse_providers(body: &str) -> serde_json::Result<Vec<Carrier>> {
    let (ListBody::Envelope { items, .. } | ListBody::Bare(items)) =
        serde_json::from_str::<ListBody<WireProvider>>(body)?;
    // A provider's name is both what people call it and what a shipment sends back.
    Ok(items
        .into_iter()
        .map(|p| Carrier {
            code: p.name.clone(),
            label: p.name,
        })
        .collect())
}

/// Every provider, active or not: the `status` filter's meaning is not documented, and
/// a provider the channel will not take is refused with its reason at ship time.
pub(super) async fn providers(transport: &Transport) -> Result<Vec<Carrier>, ChannelError> {
    let url = transport.url(PROVIDERS_PATH);
    transport
        .call(PROVIDERS, |http| http.get(&url), parse_providers)
        .await
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadyToShipBody<'a> {
    order_items: Vec<ItemRef>,
    delivery_type: &'static str,
    shipping_provider: &'a str,
    tracking_number: &'a str,
}

/// Keyed `id`: The Iconic silently skips items keyed `orderItemId` here.
#[derive(Debug, Serialize)]
struct ItemRef {
    id: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Confirmed {
    order_item_ids: Vec<WireId>,
}

/// The request body, or why the shipment cannot be sent at all.
fn body(shipment: &Shipment) -> Result<ReadyToShipBody<'_>, String> {
    if shipment.line_ids.is_empty() {
        return Err(format!(
            "order {}: no order items to ship",
            shipment.order_id
        ));
    }
    let order_items = shipment
        .line_ids
        .iter()
        .map(|id| {
            id.parse().map(|id| ItemRef { id }).map_err(|_| {
                format!("order item id {id:?} is not an Iconic order item id (an integer)")
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(ReadyToShipBody {
        order_items,
        delivery_type: DELIVERY_TYPE,
        shipping_provider: &shipment.carrier,
        tracking_number: &shipment.tracking_number,
    })
}

pub(super) async fn ready_to_ship(transport: &Transport, shipment: &Shipment) -> ShipOutcome {
    let body = match body(shipment) {
        Ok(body) => body,
        Err(reason) => return ShipOutcome::Refused { reason },
    };
    debug!(
        order = %shipment.order_id,
        items = body.order_items.len(),
        provider = %shipment.carrier,
        "setting items ready to ship on The Iconic"
    );
    let url = transport.url(READY_TO_SHIP_PATH);
    let answer = transport
        .call_non_idempotent(
            READY_TO_SHIP,
            |http| http.post(&url).json(&body),
            json::<Confirmed>,
        )
        .await;
    match answer {
        Ok(confirmed) => ShipOutcome::Shipped {
            confirmed: confirmed
                .order_item_ids
                .iter()
                .map(WireId::to_string)
                .collect(),
        },
        Err(ChannelError::Refused { reason, .. }) => ShipOutcome::Refused { reason },
        // Rejected credentials land here too: nothing was applied, and the next pass's
        // read of the items' statuses says so.
        Err(other) => ShipOutcome::Unknown {
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};

    use super::super::transport::{test_transport, token_reply};
    use super::super::{IconicClient, IconicSettings};
    use super::*;
    use crate::channel::Channel;
    use crate::secret::Secret;
    use crate::test_server::{Reply, Script, TestServer};

    fn shipment(item_ids: &[&str]) -> Shipment {
        Shipment {
            order_id: "9001".into(),
            shipped_at: crate::clock::parse("2026-11-30T01:00:00Z").unwrap(),
            line_ids: item_ids.iter().map(|id| id.to_string()).collect(),
            carrier: "AusPost".into(),
            tracking_number: "33ABC012345-01".into(),
            tracking_url: None,
        }
    }

    /// Mints tokens; answers API requests from `script`, then with 599s.
    async fn server(script: Vec<Reply>) -> TestServer {
        let script = Script::new(script);
        TestServer::start(move |seen| {
            if seen.path() == "/oauth/client-credentials" {
                return token_reply("t");
            }
            script
                .pop()
                .unwrap_or_else(|| Reply::new(599, "script exhausted"))
        })
        .await
    }

    fn posts(server: &TestServer) -> Vec<crate::test_server::Request> {
        server
            .seen()
            .into_iter()
            .filter(|s| s.method == "POST" && s.path() == READY_TO_SHIP_PATH)
            .collect()
    }

    /// Ships `shipment(["11", "12"])` against `script`; the outcome and the POSTs sent.
    async fn ship(script: Vec<Reply>) -> (ShipOutcome, usize) {
        let server = server(script).await;
        let t = test_transport(&server.url, 2);
        let outcome = ready_to_ship(&t, &shipment(&["11", "12"])).await;
        assert_eq!(posts(&server).len() as u64, t.requests()[READY_TO_SHIP]);
        (outcome, posts(&server).len())
    }

    fn problem(status: u16, title: &str, detail: &str) -> Reply {
        let body =
            json!({"type": "about:blank", "title": title, "status": status, "detail": detail});
        Reply::typed(status, "application/problem+json", &body.to_string())
    }

    #[tokio::test]
    async fn providers_are_read_with_unknown_fields_ignored() {
        let answer = json!([
            {"name": "AusPost", "apiIntegrationAvailable": false, "trackingUrl": "https://x/{n}"},
            {"id": 4, "name": "StarTrack", "apiIntegrationAvailable": true, "isActive": true}
        ]);
        let server = server(vec![Reply::json(&answer)]).await;
        let t = test_transport(&server.url, 2);
        let providers = providers(&t).await.unwrap();
        let carrier = |name: &str| Carrier {
            code: name.into(),
            label: name.into(),
        };
        assert_eq!(providers, [carrier("AusPost"), carrier("StarTrack")]);
        let seen = server.seen();
        assert_eq!(seen[1].method, "GET");
        assert_eq!(seen[1].target, PROVIDERS_PATH);
        assert_eq!(t.requests()[PROVIDERS], 1);
    }

    #[test]
    fn providers_are_read_from_an_envelope_too() {
        let body = r#"{"items":[{"name":"Couriers Please","apiIntegrationAvailable":null},
            {"name":"Sendle"}],"pagination":{"limit":100,"offset":0,"totalCount":2}}"#;
        let providers = parse_providers(body).unwrap();
        let names: Vec<&str> = providers.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(names, ["Couriers Please", "Sendle"]);
        assert!(parse_providers(r#"[{"apiIntegrationAvailable":true}]"#).is_err());
    }

    #[tokio::test]
    async fn the_request_body_is_exactly_the_contracts() {
        let server = server(vec![Reply::json(&json!({"orderItemIds": [11, 12]}))]).await;
        let t = test_transport(&server.url, 2);
        let outcome = ready_to_ship(&t, &shipment(&["11", "12"])).await;
        assert_eq!(
            outcome,
            ShipOutcome::Shipped {
                confirmed: vec!["11".into(), "12".into()]
            }
        );
        let posts = posts(&server);
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].target, READY_TO_SHIP_PATH);
        assert_eq!(posts[0].header("content-type"), Some("application/json"));
        assert_eq!(posts[0].header("authorization"), Some("Bearer t"));
        let sent: Value = serde_json::from_str(&posts[0].body).unwrap();
        assert_eq!(
            sent,
            json!({
                "orderItems": [{"id": 11}, {"id": 12}],
                "deliveryType": "dropship",
                "shippingProvider": "AusPost",
                "trackingNumber": "33ABC012345-01"
            })
        );
    }

    #[tokio::test]
    async fn shipped_carries_only_the_items_the_channel_confirmed() {
        let (outcome, sent) = ship(vec![Reply::json(&json!({"orderItemIds": ["12"]}))]).await;
        assert_eq!(
            outcome,
            ShipOutcome::Shipped {
                confirmed: vec!["12".into()]
            }
        );
        assert_eq!(sent, 1);
    }

    #[tokio::test]
    async fn refusals_carry_title_and_detail_verbatim_and_are_not_retried() {
        let cases = [
            problem(
                422,
                "Status Transition is not allowed",
                "Order item 11 is ready_to_ship, not pending",
            ),
            problem(
                400,
                "Bad Request",
                "trackingNumber \"A B\" contains ' ': only letters, digits and '-' are allowed",
            ),
        ];
        let expected = [
            "Status Transition is not allowed: Order item 11 is ready_to_ship, not pending",
            "Bad Request: trackingNumber \"A B\" contains ' ': only letters, digits and '-' are allowed",
        ];
        for (reply, reason) in cases.into_iter().zip(expected) {
            let (outcome, sent) = ship(vec![reply]).await;
            assert_eq!(
                outcome,
                ShipOutcome::Refused {
                    reason: reason.into()
                }
            );
            assert_eq!(sent, 1);
        }
    }

    #[tokio::test]
    async fn ambiguous_failures_are_unknown_after_one_post() {
        let cases = [
            (
                Reply::new(500, "<html>Internal Server Error</html>"),
                "HTTP 500",
            ),
            (
                Reply::typed(200, "application/json", r#"{"orderItemIds":[11,"#),
                "undecodable body",
            ),
            (Reply::json(&json!({"status": "ok"})), "unexpected answer"),
        ];
        for (reply, why) in cases {
            let (outcome, sent) = ship(vec![reply]).await;
            match outcome {
                ShipOutcome::Unknown { reason } => assert!(reason.contains(why), "{reason}"),
                other => panic!("{why}: {other:?}"),
            }
            assert_eq!(sent, 1, "{why}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_timeout_after_sending_is_unknown_and_not_resent() {
        let server = TestServer::start(|seen| {
            if seen.path() == "/oauth/client-credentials" {
                return token_reply("t");
            }
            // Blocking is fine here: the test runtime has a spare worker.
            std::thread::sleep(Duration::from_millis(300));
            Reply::json(&json!({"orderItemIds": [11, 12]}))
        })
        .await;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        let settings = IconicSettings {
            endpoint: server.url.clone(),
            client_id: "iconic-id".into(),
            client_secret: Secret::new("iconic-secret"),
            environment: "live".into(),
            concurrency: 1,
        };
        let client = IconicClient::new(settings, http);
        match client.ship(&shipment(&["11", "12"])).await {
            ShipOutcome::Unknown { reason } => {
                assert!(reason.contains("may have applied"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(client.requests()[READY_TO_SHIP], 1);
    }

    #[tokio::test]
    async fn a_429_with_retry_after_is_waited_out_and_retried() {
        let started = Instant::now();
        let (outcome, sent) = ship(vec![
            problem(429, "Too Many Requests", "slow down").header("Retry-After", "1"),
            Reply::json(&json!({"orderItemIds": [11, 12]})),
        ])
        .await;
        assert_eq!(
            outcome,
            ShipOutcome::Shipped {
                confirmed: vec!["11".into(), "12".into()]
            }
        );
        assert_eq!(sent, 2);
        if crate::hooks::backoff_base().is_none() {
            assert!(started.elapsed() >= Duration::from_secs(1));
        }
    }

    #[tokio::test]
    async fn ids_that_are_not_integers_are_refused_without_a_request() {
        let server = server(Vec::new()).await;
        let t = test_transport(&server.url, 2);
        for (ids, why) in [
            (
                &["11", "A-12"][..],
                "\"A-12\" is not an Iconic order item id",
            ),
            (&["11", ""][..], "\"\" is not an Iconic order item id"),
            (&[][..], "order 9001: no order items to ship"),
        ] {
            match ready_to_ship(&t, &shipment(ids)).await {
                ShipOutcome::Refused { reason } => assert!(reason.contains(why), "{reason}"),
                other => panic!("{ids:?}: {other:?}"),
            }
        }
        assert!(server.seen().is_empty());
    }
}
