//! Hard To Find's seller API (the public "Hardtofind API Reference"), served under
//! `/hardtofind` (clients use `{sandbox}/hardtofind` as their base URL, standing for
//! https://api.hardtofind.com.au/): a login traded for a 15-minute JWT, batched
//! inventory writes by SKU, the order list and detail, and order transitions; plus the
//! control routes under `/_sandbox/hardtofind/` that tests and the demo drive.
//!
//! One submodule per API area (`auth`, `stock`, `orders`, `transition`) contributes its
//! routes; `error` holds the error shape and `money` the amounts every answer uses.

mod auth;
mod control;
mod error;
mod money;
mod orders;
mod packing_slip;
mod stock;
mod transition;

use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, SecondsFormat, SubsecRound, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::App;

pub use crate::money::Money;
pub use auth::Password;
pub use orders::{
    FixtureAddress, FixtureGiftWrapping, FixtureLine, FixtureOrder, NameValue, Status,
};
pub use stock::FixtureVariant;

const DEFAULT_TOKEN_TTL_SECONDS: u64 = 900;
const DEFAULT_PAGE_SIZE: usize = 20;

/// The seller a sandbox serves, as read from the optional `hardtofind.json` (absent
/// file or field: the default below).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HardToFindFixture {
    /// The store owner's login, which `/authenticate` trades for a token.
    pub username: String,
    pub password: Password,
    pub person_id: u64,
    pub seller_account_id: u64,
    pub token_ttl_seconds: u64,
    /// Orders per page of `GET /orders`.
    pub page_size: usize,
    /// When orders without `created_at` were created.
    pub updated_at: DateTime<Utc>,
    /// The seller's variants; a SKU may appear more than once (Hard To Find does not
    /// keep SKUs unique, and then ignores stock writes to it).
    pub variants: Vec<FixtureVariant>,
    pub orders: Vec<FixtureOrder>,
}

fn default_updated_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid UTC instant")
}

/// Not derived: an absent file still has a login, a token lifetime and a page size.
impl Default for HardToFindFixture {
    fn default() -> Self {
        Self {
            username: "seller@example.com".into(),
            password: Password::new("htf-sandbox-password"),
            person_id: 1,
            seller_account_id: 1,
            token_ttl_seconds: DEFAULT_TOKEN_TTL_SECONDS,
            page_size: DEFAULT_PAGE_SIZE,
            updated_at: default_updated_at(),
            variants: Vec::new(),
            orders: Vec::new(),
        }
    }
}

impl HardToFindFixture {
    /// `skus` variants with SKUs `SKU-000001`... (the generated Shopify store's), no
    /// stock and no orders.
    pub fn generate(skus: usize) -> Self {
        Self {
            username: "htf-bench".into(),
            password: Password::new("htf-bench-password"),
            variants: (1..=skus)
                .map(|i| FixtureVariant {
                    sku: format!("SKU-{i:06}"),
                    inventory: 0,
                })
                .collect(),
            ..Self::default()
        }
    }
}

pub struct HardToFindState {
    auth: auth::Tokens,
    variants: stock::Variants,
    orders: orders::Orders,
    refusals: transition::Refusals,
    page_size: usize,
}

impl HardToFindState {
    pub fn new(fixture: HardToFindFixture) -> Self {
        let account = auth::Account {
            username: fixture.username,
            password: fixture.password,
            person_id: fixture.person_id,
            seller_account_id: fixture.seller_account_id,
        };
        Self {
            auth: auth::Tokens::new(account, fixture.token_ttl_seconds),
            variants: stock::Variants::new(fixture.variants),
            orders: orders::Orders::new(fixture.orders, fixture.updated_at),
            refusals: transition::Refusals::default(),
            page_size: fixture.page_size,
        }
    }

    /// `base_url` is the sandbox's (the orders' links point under it).
    pub fn dump(&self, base_url: &str) -> Value {
        json!({
            "variants": self.variants.dump(),
            "ignored_skus": self.variants.dump_ignored(),
            "orders": self.orders.dump(&format!("{base_url}{PREFIX}")),
            "tokens_issued": self.auth.issued_count(),
        })
    }
}

/// Where the API is mounted: the sandbox's stand-in for https://api.hardtofind.com.au.
const PREFIX: &str = "/hardtofind";

/// The API's absolute base URL, which `_links` are built on.
fn api_base(app: &App) -> String {
    format!("{}{PREFIX}", app.base_url)
}

/// Whole seconds, as the API shows them, so comparisons agree with what clients read.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// UNCONFIRMED: timestamps are taken to be RFC 3339 in UTC (`2026-03-01T00:00:00Z`).
fn wire_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The API routes (the fault middleware applies to them).
pub fn router() -> Router<Arc<App>> {
    auth::routes()
        .merge(stock::routes())
        .merge(orders::routes())
        .merge(transition::routes())
}

/// `/_sandbox/hardtofind/*`.
pub fn control_router() -> Router<Arc<App>> {
    control::routes()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::header::CONTENT_TYPE;
    use axum::http::StatusCode;

    use super::*;
    use crate::in_process::{InProcess, Reply};
    use crate::Fixture;

    const USER: &str = "shop@example.com";
    const PASSWORD: &str = "correct horse";

    fn fixture() -> HardToFindFixture {
        HardToFindFixture {
            username: USER.into(),
            password: Password::new(PASSWORD),
            person_id: 42,
            seller_account_id: 4242,
            page_size: 2,
            updated_at: "2020-01-01T00:00:00Z".parse().unwrap(),
            ..HardToFindFixture::generate(3)
        }
    }

    /// An order of one line of `SKU-000001` at 29.95, created and updated `at`.
    fn order(id: u64, at: &str) -> Value {
        json!({"id": id, "created_at": at,
            "lines": [{"sku": "SKU-000001", "price": "29.95", "quantity": 1}]})
    }

    fn with_orders(orders: Value) -> HardToFindFixture {
        HardToFindFixture {
            orders: serde_json::from_value(orders).unwrap(),
            ..fixture()
        }
    }

    impl Reply {
        /// Asserts an error with this status and returns its message.
        fn error(&self, status: StatusCode) -> &str {
            assert_eq!(self.status, status, "{}", self.body);
            assert_eq!(self.headers[CONTENT_TYPE], "application/json");
            let fields: Vec<&String> = self.body.as_object().unwrap().keys().collect();
            assert_eq!(fields, ["message"], "{}", self.body);
            self.body["message"].as_str().unwrap()
        }

        fn ok(&self) -> &Value {
            assert_eq!(self.status, StatusCode::OK, "{}", self.body);
            &self.body
        }
    }

    /// The whole sandbox, driven in-process.
    struct Harness(InProcess);

    impl Harness {
        async fn start(hardtofind: HardToFindFixture) -> Self {
            let fixture = Fixture {
                hardtofind,
                ..Fixture::default()
            };
            Self(InProcess::start(fixture).await)
        }

        async fn send(&self, method: &str, uri: &str, token: Option<&str>, body: Body) -> Reply {
            let mut headers = vec![("content-type", "application/json")];
            if let Some(token) = token {
                headers.push(("x-auth-token", token));
            }
            self.0.send(method, uri, &headers, body).await
        }

        async fn login(&self, username: &str, password: &str) -> Reply {
            let body = json!({"username": username, "password": password});
            self.send(
                "POST",
                "/hardtofind/authenticate",
                None,
                body.to_string().into(),
            )
            .await
        }

        async fn token(&self) -> String {
            let reply = self.login(USER, PASSWORD).await;
            reply.ok()["token"].as_str().unwrap().to_string()
        }

        async fn get(&self, token: &str, uri: &str) -> Reply {
            self.send("GET", uri, Some(token), Body::empty()).await
        }

        async fn post(&self, token: &str, uri: &str, body: &Value) -> Reply {
            self.send("POST", uri, Some(token), body.to_string().into())
                .await
        }

        async fn transition(&self, token: &str, id: u64, body: &Value) -> Reply {
            let uri = format!("/hardtofind/order/{id}/transition");
            self.post(token, &uri, body).await
        }

        /// A control-API request (no token: none is needed).
        async fn control(&self, method: &str, uri: &str, body: &Value) -> Reply {
            self.send(method, uri, None, body.to_string().into()).await
        }

        fn dump(&self) -> Value {
            let app = &self.0.sandbox.app;
            app.hardtofind.lock().unwrap().dump(&app.base_url)
        }

        fn base(&self) -> String {
            format!("{}/hardtofind", self.0.sandbox.url())
        }
    }

    fn ids(page: &Value) -> Vec<u64> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_u64().unwrap())
            .collect()
    }

    fn ship(tracking: &str) -> Value {
        json!({"action": "ship", "data": {"tracking_number": tracking,
            "shipping_provider_name": "Australia Post", "shipment_date": "2026-03-02"}})
    }

    #[tokio::test]
    async fn authenticate_answers_a_person_and_a_token() {
        let h = Harness::start(fixture()).await;
        let reply = h.login(USER, PASSWORD).await;
        let body = reply.ok();
        assert_eq!(body["person"], json!({"id": 42, "role": "seller"}));
        let token = body["token"].as_str().unwrap();
        assert_eq!(token.split('.').count(), 3, "{token}");
        assert_ne!(h.token().await, token);

        let refused = h.login(USER, "wrong").await;
        assert!(refused
            .error(StatusCode::UNAUTHORIZED)
            .contains("username or password"));
        h.login("someone@else", PASSWORD)
            .await
            .error(StatusCode::UNAUTHORIZED);
        let garbled = h
            .send(
                "POST",
                "/hardtofind/authenticate",
                None,
                "{\"username\": 1}".into(),
            )
            .await;
        garbled.error(StatusCode::BAD_REQUEST);
        assert_eq!(h.dump()["tokens_issued"], 2);
    }

    #[tokio::test]
    async fn routes_want_a_live_token_and_say_what_is_wrong() {
        let h = Harness::start(fixture()).await;
        let missing = h.send("GET", "/hardtofind/info", None, Body::empty()).await;
        assert_eq!(
            missing.error(StatusCode::UNAUTHORIZED),
            "missing X-Auth-Token"
        );
        let made_up = h.get("a.b.c", "/hardtofind/orders?status=READY").await;
        assert_eq!(made_up.error(StatusCode::UNAUTHORIZED), "invalid token");

        let token = h.token().await;
        h.get(&token, "/hardtofind/info").await.ok();
        let expired = h
            .control("POST", "/_sandbox/hardtofind/expire-tokens", &json!({}))
            .await;
        assert_eq!(expired.status, StatusCode::OK);
        for uri in ["/hardtofind/info", "/hardtofind/orders?status=READY"] {
            let reply = h.get(&token, uri).await;
            assert_eq!(reply.error(StatusCode::UNAUTHORIZED), "token expired");
        }
        let batch = json!({"action": "update", "entity_type": "variant", "entities": []});
        let reply = h.post(&token, "/hardtofind/batch", &batch).await;
        assert_eq!(reply.error(StatusCode::UNAUTHORIZED), "token expired");

        let fresh = h.token().await;
        h.get(&fresh, "/hardtofind/info").await.ok();
    }

    #[tokio::test]
    async fn tokens_stop_working_after_their_ttl() {
        let h = Harness::start(HardToFindFixture {
            token_ttl_seconds: 0,
            ..fixture()
        })
        .await;
        let token = h.token().await;
        let reply = h.get(&token, "/hardtofind/info").await;
        assert_eq!(reply.error(StatusCode::UNAUTHORIZED), "token expired");
    }

    #[tokio::test]
    async fn info_describes_the_token() {
        let h = Harness::start(fixture()).await;
        let token = h.token().await;
        let info = h.get(&token, "/hardtofind/info").await.ok().clone();
        assert_eq!(info["user_id"], 42);
        assert_eq!(info["seller_account_id"], 4242);
        assert_eq!(info["roles"], json!(["seller"]));
        let at = |field: &str| -> DateTime<Utc> { info[field].as_str().unwrap().parse().unwrap() };
        assert!(info["created"].as_str().unwrap().ends_with('Z'));
        assert_eq!((at("expires") - at("created")).num_seconds(), 900);
        assert!((Utc::now() - at("created")).num_seconds() < 5);
        let counts = h.0.sandbox.app.counts.lock().unwrap().clone();
        assert_eq!(counts.get("GET /hardtofind/info"), Some(&1));
        assert_eq!(counts.get("POST /hardtofind/authenticate"), Some(&1));
    }

    #[tokio::test]
    async fn batch_applies_known_skus_and_silently_ignores_the_rest() {
        let mut f = fixture();
        f.variants.push(FixtureVariant {
            sku: "SKU-000003".into(),
            inventory: 4,
        });
        let h = Harness::start(f).await;
        let token = h.token().await;
        let batch = json!({"action": "update", "entity_type": "variant", "entities": [
            {"sku": "SKU-000001", "inventory": 7},
            {"sku": "SKU-000003", "inventory": 9},
            {"sku": "NOT-LISTED", "inventory": 1},
            {"sku": "SKU-000002", "inventory": 0}]});
        let reply = h.post(&token, "/hardtofind/batch", &batch).await;
        assert_eq!(reply.ok(), &json!({"success": true, "count": 4}));
        let dump = h.dump();
        assert_eq!(
            dump["variants"],
            json!([{"sku": "SKU-000001", "inventory": 7},
                {"sku": "SKU-000002", "inventory": 0},
                {"sku": "SKU-000003", "inventory": 0},
                {"sku": "SKU-000003", "inventory": 4}])
        );
        assert_eq!(dump["ignored_skus"], json!(["NOT-LISTED", "SKU-000003"]));
        let counts = h.0.sandbox.app.counts.lock().unwrap().clone();
        assert_eq!(counts.get("POST /hardtofind/batch"), Some(&1));
    }

    #[tokio::test]
    async fn an_invalid_batch_is_refused_whole() {
        let h = Harness::start(fixture()).await;
        let token = h.token().await;
        let before = h.dump();
        let batch = json!({"action": "update", "entity_type": "variant", "entities": [
            {"sku": "SKU-000001", "inventory": 7},
            {"sku": "NOT-LISTED", "inventory": 1},
            {"sku": "SKU-000002", "inventory": -3}]});
        let reply = h.post(&token, "/hardtofind/batch", &batch).await;
        let message = reply.error(StatusCode::BAD_REQUEST);
        assert!(message.contains("entities[2].inventory"), "{message}");
        let mut wrong_action = batch.clone();
        wrong_action["action"] = json!("create");
        let reply = h.post(&token, "/hardtofind/batch", &wrong_action).await;
        assert!(reply.error(StatusCode::BAD_REQUEST).contains("action"));
        let reply = h
            .send("POST", "/hardtofind/batch", Some(&token), "[".into())
            .await;
        reply.error(StatusCode::BAD_REQUEST);
        assert_eq!(h.dump(), before);
    }

    #[tokio::test]
    async fn orders_page_newest_updated_first_and_pending_finds_nothing() {
        let h = Harness::start(with_orders(json!([
            order(1, "2026-03-01T00:00:00Z"),
            order(2, "2026-03-03T00:00:00Z"),
            order(3, "2026-03-02T00:00:00Z"),
            order(4, "2026-03-03T00:00:00Z"),
            order(5, "2026-03-04T00:00:00Z"),
            {"id": 6, "status": "SHIPPED", "created_at": "2026-03-05T00:00:00Z",
                "lines": []},
        ])))
        .await;
        let token = h.token().await;
        let mut seen = Vec::new();
        for page in 1..=3 {
            let uri = format!("/hardtofind/orders?status=READY&page_number={page}");
            let body = h.get(&token, &uri).await.ok().clone();
            assert_eq!(body["page_size"], 2);
            assert_eq!(body["page_number"], page);
            assert_eq!(body["total_results"], 5);
            assert_eq!(body["pages"], 3);
            seen.extend(ids(&body));
        }
        assert_eq!(seen, [5, 4, 2, 3, 1]);
        let first = h.get(&token, "/hardtofind/orders?status=READY").await;
        assert_eq!(ids(first.ok()), [5, 4]);
        let past = h
            .get(&token, "/hardtofind/orders?status=READY&page_number=9")
            .await;
        assert_eq!(ids(past.ok()), Vec::<u64>::new());
        assert_eq!(past.body["total_results"], 5);
        assert_eq!(past.body["pages"], 3);

        let summary = &first.body["data"][0];
        let mut fields: Vec<&str> = summary
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            ["_links", "dates", "id", "payment_summary", "status"]
        );
        assert_eq!(summary["status"], "READY");

        let shipped = h.get(&token, "/hardtofind/orders?status=SHIPPED").await;
        assert_eq!(ids(shipped.ok()), [6]);
        for default in ["/hardtofind/orders", "/hardtofind/orders?status=PENDING"] {
            let none = h.get(&token, default).await.ok().clone();
            assert_eq!(
                none,
                json!({"data": [], "page_size": 2, "page_number": 1, "total_results": 0,
                    "pages": 0})
            );
        }
        let bad = h.get(&token, "/hardtofind/orders?status=ready").await;
        assert!(bad.error(StatusCode::BAD_REQUEST).contains("READY"));
        h.get(&token, "/hardtofind/orders?status=READY&page_number=two")
            .await
            .error(StatusCode::BAD_REQUEST);
        h.get(&token, "/hardtofind/orders?status=READY&page_number=0")
            .await
            .error(StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn order_detail_has_every_field_with_money_as_strings() {
        let h = Harness::start(with_orders(json!([{
            "id": 1001, "created_at": "2026-03-01T09:30:00Z",
            "lines": [
                {"sku": "SKU-000001", "product_id": 77, "description": "Linen Shirt - White / S",
                    "price": "29.95", "quantity": 2,
                    "variant_data": [{"name": "Colour", "value": "White"}],
                    "personalisations": [{"name": "Initials", "value": "AL"}]},
                {"sku": "SKU-000002", "price": "10", "quantity": 1}],
            "shipping": "9.95", "discount": "5.00", "credit": "2.50",
            "gift_wrapping": {"description": "Gift box", "message": "Happy birthday",
                "price": "4.95"},
            "instructions": "Leave at the door"
        }])))
        .await;
        let token = h.token().await;
        let detail = h.get(&token, "/hardtofind/order/1001").await.ok().clone();
        let base = h.base();
        assert_eq!(
            detail,
            json!({
                "id": 1001,
                "status": "READY",
                "_links": {"self": format!("{base}/order/1001"),
                    "manage": format!("{base}/order/1001/transition"),
                    "packing_slip": format!("{base}/order/1001/packing-slip.pdf")},
                "dates": {"created_at": "2026-03-01T09:30:00Z",
                    "updated_at": "2026-03-01T09:30:00Z",
                    "dispatch_due_at": "2026-03-04T09:30:00Z"},
                "payment_summary": {"price": "69.90", "shipping": "9.95", "discount": "5.00",
                    "credit": "2.50", "payment": "77.30", "total": "79.80"},
                "lines": [
                    {"sku": "SKU-000001", "product_id": 77,
                        "description": "Linen Shirt - White / S", "price": "29.95",
                        "quantity": 2, "variant_data": [{"name": "Colour", "value": "White"}],
                        "personalisations": [{"name": "Initials", "value": "AL"}]},
                    {"sku": "SKU-000002", "product_id": 0, "description": "SKU-000002",
                        "price": "10.00", "quantity": 1, "variant_data": [],
                        "personalisations": []}],
                "gift_wrapping": {"description": "Gift box", "message": "Happy birthday",
                    "price": "4.95"},
                "shipping": {
                    "address": {"first_name": "Ada", "last_name": "Lovelace",
                        "line_one": "1 Harbour Street", "line_two": null, "suburb": "Sydney",
                        "state": "NSW", "postcode": "2000", "country": "AU", "company": null},
                    "method": "Standard",
                    "instructions": "Leave at the door"},
                "shipments": []
            })
        );
        let missing = h.get(&token, "/hardtofind/order/9").await;
        assert!(missing.error(StatusCode::NOT_FOUND).contains('9'));

        let slip = h
            .get(&token, "/hardtofind/order/1001/packing-slip.pdf")
            .await;
        assert_eq!(slip.status, StatusCode::OK);
        assert_eq!(slip.headers[CONTENT_TYPE], "application/pdf");
        assert!(slip.bytes.starts_with(b"%PDF-"));
        h.get(&token, "/hardtofind/order/9/packing-slip.pdf")
            .await
            .error(StatusCode::NOT_FOUND);
        let counts = h.0.sandbox.app.counts.lock().unwrap().clone();
        assert_eq!(counts.get("GET /hardtofind/order/{id}"), Some(&2));
    }

    #[tokio::test]
    async fn process_then_ship_and_what_is_refused() {
        let h = Harness::start(with_orders(json!([
            order(1, "2026-03-01T00:00:00Z"),
            order(2, "2026-03-01T00:00:00Z"),
            {"id": 3, "status": "CANCELLED", "lines": []},
        ])))
        .await;
        let token = h.token().await;
        let processed = h.transition(&token, 1, &json!({"action": "process"})).await;
        assert_eq!(processed.ok()["status"], "PROCESSED");
        assert_ne!(
            processed.body["dates"]["updated_at"],
            "2026-03-01T00:00:00Z"
        );
        let again = h.transition(&token, 1, &json!({"action": "process"})).await;
        assert_eq!(
            again.error(StatusCode::UNPROCESSABLE_ENTITY),
            "order 1 is PROCESSED; \"process\" is not allowed"
        );

        let shipped = h
            .transition(
                &token,
                1,
                &json!({"action": "ship", "data": {"tracking_number": "33ABC0001",
                    "shipping_provider_name": "Australia Post",
                    "shipment_date": "2026-03-02T10:00:00+10:00"}}),
            )
            .await;
        assert_eq!(shipped.ok()["status"], "SHIPPED");
        assert_eq!(
            shipped.body["shipments"],
            json!([{"tracking_number": "33ABC0001",
                "shipping_provider_name": "Australia Post",
                "shipment_date": "2026-03-02T00:00:00Z"}])
        );
        let twice = h.transition(&token, 1, &ship("33ABC0002")).await;
        assert_eq!(
            twice.error(StatusCode::UNPROCESSABLE_ENTITY),
            "order 1 is SHIPPED; \"ship\" is not allowed"
        );
        let cancelled = h.transition(&token, 3, &ship("T3")).await;
        assert_eq!(
            cancelled.error(StatusCode::UNPROCESSABLE_ENTITY),
            "order 3 is CANCELLED; \"ship\" is not allowed"
        );
        let unknown = h.transition(&token, 2, &json!({"action": "deliver"})).await;
        assert!(unknown
            .error(StatusCode::UNPROCESSABLE_ENTITY)
            .contains("\"deliver\""));

        let mut no_tracking = ship("");
        no_tracking["data"]
            .as_object_mut()
            .unwrap()
            .remove("tracking_number");
        let reply = h.transition(&token, 2, &no_tracking).await;
        assert!(reply
            .error(StatusCode::BAD_REQUEST)
            .contains("data.tracking_number"));
        let mut blank_provider = ship("T2");
        blank_provider["data"]["shipping_provider_name"] = json!(" ");
        let reply = h.transition(&token, 2, &blank_provider).await;
        assert!(reply
            .error(StatusCode::BAD_REQUEST)
            .contains("data.shipping_provider_name"));
        let mut bad_date = ship("T2");
        bad_date["data"]["shipment_date"] = json!("02/03/2026");
        let reply = h.transition(&token, 2, &bad_date).await;
        assert!(reply
            .error(StatusCode::BAD_REQUEST)
            .contains("data.shipment_date"));
        h.transition(&token, 2, &json!({"data": {}}))
            .await
            .error(StatusCode::BAD_REQUEST);
        h.transition(&token, 99, &ship("T9"))
            .await
            .error(StatusCode::NOT_FOUND);

        // None of the refusals changed order 2; shipping it straight from READY works.
        let dump = h.dump();
        assert_eq!(dump["orders"][1]["status"], "READY");
        assert_eq!(
            dump["orders"][1]["dates"]["updated_at"],
            "2026-03-01T00:00:00Z"
        );
        let shipped = h.transition(&token, 2, &ship("T2")).await;
        assert_eq!(shipped.ok()["shipments"][0]["shipment_date"], "2026-03-02");
        let counts = h.0.sandbox.app.counts.lock().unwrap().clone();
        assert_eq!(
            counts.get("POST /hardtofind/order/{id}/transition"),
            Some(&12)
        );
    }

    #[tokio::test]
    async fn refuse_transitions_makes_the_next_ones_fail_and_change_nothing() {
        let h = Harness::start(with_orders(json!([order(1, "2026-03-01T00:00:00Z")]))).await;
        let token = h.token().await;
        let set = h
            .control(
                "POST",
                "/_sandbox/hardtofind/refuse-transitions",
                &json!({"action": "ship", "times": 2, "message": "carrier not supported"}),
            )
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
        // An invalid ship is refused for what it is, and does not use a refusal up.
        h.transition(&token, 1, &json!({"action": "ship"}))
            .await
            .error(StatusCode::BAD_REQUEST);
        for _ in 0..2 {
            let refused = h.transition(&token, 1, &ship("T1")).await;
            assert_eq!(
                refused.error(StatusCode::UNPROCESSABLE_ENTITY),
                "carrier not supported"
            );
        }
        let dump = h.dump();
        assert_eq!(dump["orders"][0]["status"], "READY");
        assert_eq!(dump["orders"][0]["shipments"], json!([]));
        // Other actions were never refused.
        let processed = h.transition(&token, 1, &json!({"action": "process"})).await;
        assert_eq!(processed.ok()["status"], "PROCESSED");
        let shipped = h.transition(&token, 1, &ship("T1")).await;
        assert_eq!(shipped.ok()["status"], "SHIPPED");

        for bad in [
            json!({"action": "deliver"}),
            json!({"action": "ship", "times": -1}),
            json!({"action": "ship", "why": "x"}),
        ] {
            h.control("POST", "/_sandbox/hardtofind/refuse-transitions", &bad)
                .await
                .error(StatusCode::BAD_REQUEST);
        }
    }

    #[tokio::test]
    async fn control_adds_changes_and_cancels_orders() {
        let h = Harness::start(with_orders(json!([order(1, "2026-03-01T00:00:00Z")]))).await;
        let token = h.token().await;
        let new = json!({"id": 2, "lines": [{"sku": "SKU-000002", "price": "15.00",
            "quantity": 3}], "method": "Express"});
        let added = h.control("POST", "/_sandbox/hardtofind/orders", &new).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        assert_eq!(added.body["shipping"]["method"], "Express");
        assert_eq!(added.body["payment_summary"]["total"], "45.00");
        let created: DateTime<Utc> = added.body["dates"]["created_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((Utc::now() - created).num_seconds() < 5);
        assert_eq!(h.get(&token, "/hardtofind/order/2").await.ok(), &added.body);
        h.control("POST", "/_sandbox/hardtofind/orders", &new)
            .await
            .error(StatusCode::CONFLICT);
        let mut bad_price = new.clone();
        bad_price["id"] = json!(3);
        bad_price["lines"][0]["price"] = json!(15.5);
        h.control("POST", "/_sandbox/hardtofind/orders", &bad_price)
            .await
            .error(StatusCode::BAD_REQUEST);

        let changed = h
            .control(
                "PATCH",
                "/_sandbox/hardtofind/orders/1",
                &json!({"lines": [{"sku": "SKU-000001", "price": "29.95", "quantity": 2},
                    {"sku": "SKU-000003", "price": "5", "quantity": 1}]}),
            )
            .await;
        let changed = changed.ok();
        assert_eq!(changed["payment_summary"]["price"], "64.90");
        assert_eq!(changed["lines"][1]["sku"], "SKU-000003");
        assert_ne!(changed["dates"]["updated_at"], "2026-03-01T00:00:00Z");
        assert_eq!(changed["dates"]["created_at"], "2026-03-01T00:00:00Z");
        assert_eq!(changed["status"], "READY");

        let cancelled = h
            .control(
                "PATCH",
                "/_sandbox/hardtofind/orders/1",
                &json!({"status": "CANCELLED"}),
            )
            .await;
        assert_eq!(cancelled.ok()["status"], "CANCELLED");
        let listed = h.get(&token, "/hardtofind/orders?status=CANCELLED").await;
        assert_eq!(ids(listed.ok()), [1]);
        h.control(
            "PATCH",
            "/_sandbox/hardtofind/orders/9",
            &json!({"status": "CANCELLED"}),
        )
        .await
        .error(StatusCode::NOT_FOUND);
        for bad in [json!({}), json!({"status": "LOST"}), json!({"note": "x"})] {
            h.control("PATCH", "/_sandbox/hardtofind/orders/1", &bad)
                .await
                .error(StatusCode::BAD_REQUEST);
        }

        let variant = h
            .control(
                "POST",
                "/_sandbox/hardtofind/variants",
                &json!({"sku": "NEW-1", "inventory": 5}),
            )
            .await;
        assert_eq!(variant.status, StatusCode::CREATED, "{}", variant.body);
        let dump = h.dump();
        assert_eq!(dump["variants"][3], json!({"sku": "NEW-1", "inventory": 5}));
        assert_eq!(ids(&json!({"data": dump["orders"]})), [1, 2]);
        assert_eq!(dump["tokens_issued"], 1);
        // Control calls are not API requests.
        let counts = h.0.sandbox.app.counts.lock().unwrap().clone();
        assert!(counts.keys().all(|k| !k.contains("_sandbox")), "{counts:?}");
    }

    #[tokio::test]
    async fn state_dump_includes_hardtofind() {
        let h = Harness::start(fixture()).await;
        let reply = h.send("GET", "/_sandbox/state", None, Body::empty()).await;
        assert_eq!(
            reply.ok()["hardtofind"],
            json!({"variants": [{"sku": "SKU-000001", "inventory": 0},
                {"sku": "SKU-000002", "inventory": 0}, {"sku": "SKU-000003", "inventory": 0}],
                "ignored_skus": [], "orders": [], "tokens_issued": 0})
        );
    }

    #[test]
    fn fixture_format_and_defaults() {
        let empty: HardToFindFixture = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty.username, "seller@example.com");
        assert_eq!(empty.password, Password::new("htf-sandbox-password"));
        assert_eq!((empty.person_id, empty.seller_account_id), (1, 1));
        assert_eq!(empty.token_ttl_seconds, 900);
        assert_eq!(empty.page_size, 20);
        assert_eq!(empty.updated_at, default_updated_at());
        assert!(empty.variants.is_empty() && empty.orders.is_empty());
        assert!(!format!("{empty:?}").contains("htf-sandbox-password"));

        let typo = serde_json::from_value::<HardToFindFixture>(json!({"page-size": 5}));
        assert!(typo.is_err());

        let fixture: HardToFindFixture = serde_json::from_value(json!({
            "username": "u", "password": "p",
            "variants": [{"sku": "A", "inventory": 2}, {"sku": "A"}],
            "orders": [{"id": 5, "lines": [{"sku": "A", "price": "1.50", "quantity": 2}]}]
        }))
        .unwrap();
        let dump = HardToFindState::new(fixture).dump("http://x");
        assert_eq!(
            dump["variants"],
            json!([{"sku": "A", "inventory": 2}, {"sku": "A", "inventory": 0}])
        );
        let order = &dump["orders"][0];
        assert_eq!(order["status"], "READY");
        assert_eq!(order["_links"]["self"], "http://x/hardtofind/order/5");
        assert_eq!(
            order["dates"],
            json!({"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                "dispatch_due_at": "2026-01-04T00:00:00Z"})
        );
        assert_eq!(order["payment_summary"]["payment"], "3.00");
        assert_eq!(order["gift_wrapping"], Value::Null);
        assert_eq!(order["shipping"]["address"]["suburb"], "Sydney");
    }

    #[test]
    fn generated_variants() {
        let fixture = HardToFindFixture::generate(12);
        assert_eq!(fixture.username, "htf-bench");
        assert_eq!(fixture.password, Password::new("htf-bench-password"));
        assert_eq!(fixture.variants.len(), 12);
        assert_eq!(fixture.variants[11].sku, "SKU-000012");
        assert!(fixture.orders.is_empty());
        assert!(HardToFindFixture::generate(0).variants.is_empty());
    }
}
