//! The Iconic Seller Center v2 REST API (contract: shared/api/marketplaces.md §1.2):
//! OAuth2 client credentials, product sets and products, per-product stock reads and
//! batched absolute stock writes, the order list, and the control routes tests and the
//! demo drive.
//!
//! One submodule per API area (`auth`, `products`, `stock`, `orders`, `shipment`)
//! contributes its routes; `catalog` and `orders` hold the state, `problem` and `request`
//! the error shape and request parsing every endpoint uses.

mod auth;
mod catalog;
mod control;
mod orders;
mod orders_control;
mod problem;
mod products;
mod request;
mod shipment;
mod stock;

use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::App;

pub use crate::money::Money;
pub use auth::ClientSecret;
pub use catalog::{FixtureProduct, FixtureProductSet, Status};
pub use orders::{FixtureAddress, FixtureItem, FixtureName, FixtureOrder, ItemStatus};
pub use shipment::FixtureProvider;

/// Products per generated product set (the generated Shopify products have five variants).
const GENERATED_SET_SIZE: usize = 5;

const DEFAULT_TOKEN_TTL_SECONDS: u64 = 3600;

/// The seller account a sandbox serves, as read from `iconic.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct IconicFixture {
    pub client_id: String,
    pub client_secret: ClientSecret,
    #[serde(default = "default_token_ttl")]
    pub token_ttl_seconds: u64,
    /// When every fixture set and product was created and last updated.
    #[serde(default = "default_updated_at")]
    pub updated_at: DateTime<Utc>,
    pub product_sets: Vec<FixtureProductSet>,
    /// Orders the account already has; those without `created_at` were created at `updated_at`.
    #[serde(default)]
    pub orders: Vec<FixtureOrder>,
    /// `GET /v2/orders-shipment-providers`; absent: a default Australian list.
    #[serde(default)]
    pub shipment_providers: Option<Vec<FixtureProvider>>,
}

fn default_token_ttl() -> u64 {
    DEFAULT_TOKEN_TTL_SECONDS
}

fn default_updated_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid UTC instant")
}

/// Not derived: an empty account still has the fixture format's defaults.
impl Default for IconicFixture {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            client_secret: ClientSecret::default(),
            token_ttl_seconds: DEFAULT_TOKEN_TTL_SECONDS,
            updated_at: default_updated_at(),
            product_sets: Vec::new(),
            orders: Vec::new(),
            shipment_providers: None,
        }
    }
}

impl IconicFixture {
    /// `skus` active products (ids 1..=skus, seller SKUs `SKU-000001`...) in sets of five.
    pub fn generate(skus: usize) -> Self {
        let product_sets = (0..skus.div_ceil(GENERATED_SET_SIZE))
            .map(|set| {
                let first = set * GENERATED_SET_SIZE + 1;
                let last = skus.min(first + GENERATED_SET_SIZE - 1);
                FixtureProductSet {
                    id: set as u64 + 1,
                    name: format!("Generated style {}", set + 1),
                    status: Status::Active,
                    products: (first..=last)
                        .map(|i| FixtureProduct {
                            id: i as u64,
                            seller_sku: format!("SKU-{i:06}"),
                            status: Status::Active,
                            quantity: 0,
                            fulfilled_by_venture: false,
                        })
                        .collect(),
                }
            })
            .collect();
        Self {
            client_id: "iconic-bench".into(),
            client_secret: ClientSecret::new("iconic-bench-secret"),
            product_sets,
            ..Self::default()
        }
    }
}

pub struct IconicState {
    auth: auth::Tokens,
    catalog: catalog::Catalog,
    orders: orders::Orders,
    providers: Vec<FixtureProvider>,
    /// Stock items `PUT /v2/stock/product` has applied since start.
    stock_writes: u64,
}

impl IconicState {
    pub fn new(fixture: IconicFixture) -> Self {
        Self {
            auth: auth::Tokens::new(
                fixture.client_id,
                fixture.client_secret,
                fixture.token_ttl_seconds,
            ),
            catalog: catalog::Catalog::new(fixture.product_sets, fixture.updated_at),
            orders: orders::Orders::new(fixture.orders, fixture.updated_at),
            providers: fixture
                .shipment_providers
                .unwrap_or_else(shipment::default_providers),
            stock_writes: 0,
        }
    }

    pub fn dump(&self) -> Value {
        json!({
            "products": self.catalog.dump_products(),
            "stock_writes": self.stock_writes,
            "orders": self.orders.dump(),
        })
    }
}

/// The API routes (the fault middleware applies to them).
pub fn router() -> Router<Arc<App>> {
    auth::routes()
        .merge(products::routes())
        .merge(stock::routes())
        .merge(orders::routes())
        .merge(shipment::routes())
}

/// `/_sandbox/iconic/*`.
pub fn control_router() -> Router<Arc<App>> {
    control::routes().merge(orders_control::routes())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::header::CONTENT_TYPE;
    use axum::http::StatusCode;

    use super::*;
    use crate::in_process::{InProcess, Reply};
    use crate::Fixture;

    /// base64("iconic-test:iconic-test-secret")
    const GOOD_BASIC: &str = "Basic aWNvbmljLXRlc3Q6aWNvbmljLXRlc3Qtc2VjcmV0";
    /// base64("iconic-test:wrong")
    const BAD_BASIC: &str = "Basic aWNvbmljLXRlc3Q6d3Jvbmc=";

    fn fixture(skus: usize) -> IconicFixture {
        IconicFixture {
            client_id: "iconic-test".into(),
            client_secret: ClientSecret::new("iconic-test-secret"),
            updated_at: "2020-01-01T00:00:00Z".parse().unwrap(),
            ..IconicFixture::generate(skus)
        }
    }

    impl Reply {
        /// Asserts an RFC 7807 problem with this status and returns its detail.
        fn problem(&self, status: StatusCode) -> &str {
            assert_eq!(self.status, status, "{}", self.body);
            assert_eq!(self.headers[CONTENT_TYPE], "application/problem+json");
            assert_eq!(self.body["status"], status.as_u16());
            assert_eq!(self.body["title"], status.canonical_reason().unwrap());
            assert!(self.body["type"].is_string());
            self.body["detail"].as_str().unwrap()
        }
    }

    /// The whole sandbox, driven in-process.
    struct Harness(InProcess);

    impl Harness {
        async fn start(iconic: IconicFixture) -> Self {
            let fixture = Fixture {
                iconic,
                ..Fixture::default()
            };
            Self(InProcess::start(fixture).await)
        }

        async fn token(&self) -> String {
            let reply = self.token_with(GOOD_BASIC).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            reply.body["access_token"].as_str().unwrap().to_string()
        }

        async fn token_with(&self, basic: &str) -> Reply {
            self.mint(basic, "grant_type=client_credentials").await
        }

        /// A token request with `basic` credentials and the `form` body.
        async fn mint(&self, basic: &str, form: &'static str) -> Reply {
            let headers = [
                ("authorization", basic),
                ("content-type", "application/x-www-form-urlencoded"),
            ];
            self.0
                .send("POST", "/oauth/client-credentials", &headers, form)
                .await
        }

        async fn get(&self, token: &str, uri: &str) -> Reply {
            let bearer = format!("Bearer {token}");
            self.0
                .send("GET", uri, &[("authorization", &bearer)], Body::empty())
                .await
        }

        async fn put_stock(&self, token: &str, body: Value) -> Reply {
            self.put_stock_as(token, "application/json", body.to_string())
                .await
        }

        /// A stock write whose body claims to be `content_type`.
        async fn put_stock_as(&self, token: &str, content_type: &str, body: String) -> Reply {
            let bearer = format!("Bearer {token}");
            let headers = [
                ("authorization", bearer.as_str()),
                ("content-type", content_type),
            ];
            self.0
                .send("PUT", "/v2/stock/product", &headers, body)
                .await
        }

        /// An API request with a JSON body.
        async fn post(&self, token: &str, uri: &str, body: &Value) -> Reply {
            let bearer = format!("Bearer {token}");
            let headers = [
                ("authorization", bearer.as_str()),
                ("content-type", "application/json"),
            ];
            self.0.send("POST", uri, &headers, body.to_string()).await
        }

        /// A control-API request with a JSON body (no credentials: none are needed).
        async fn control(&self, method: &str, uri: &str, body: &Value) -> Reply {
            let headers = [("content-type", "application/json")];
            self.0.send(method, uri, &headers, body.to_string()).await
        }

        fn dump(&self) -> Value {
            self.0.sandbox.app.iconic.lock().unwrap().dump()
        }
    }

    fn ids(items: &Value) -> Vec<u64> {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_u64().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn token_flow_and_401_once_tokens_expire() {
        let h = Harness::start(fixture(5)).await;
        let refused = h.token_with(BAD_BASIC).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(refused.body, json!({"error": "invalid_client"}));

        let minted = h.token_with(GOOD_BASIC).await;
        assert_eq!(minted.body["token_type"], "Bearer");
        assert_eq!(minted.body["expires_in"], 3600);
        let token = minted.body["access_token"].as_str().unwrap();
        assert_eq!(
            h.get(token, "/v2/product-sets").await.status,
            StatusCode::OK
        );

        let anonymous =
            h.0.send("GET", "/v2/product-sets", &[], Body::empty())
                .await;
        anonymous.problem(StatusCode::UNAUTHORIZED);
        h.get("made-up", "/v2/product-sets")
            .await
            .problem(StatusCode::UNAUTHORIZED);

        let expired =
            h.0.send("POST", "/_sandbox/iconic/expire-tokens", &[], Body::empty())
                .await;
        assert_eq!(expired.status, StatusCode::OK);
        let detail = h
            .get(token, "/v2/stock/product/1")
            .await
            .problem(StatusCode::UNAUTHORIZED)
            .to_string();
        assert!(detail.contains("expired"), "{detail}");
        let fresh = h.token().await;
        assert_eq!(
            h.get(&fresh, "/v2/stock/product/1").await.status,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn tokens_stop_working_after_their_ttl() {
        let h = Harness::start(IconicFixture {
            token_ttl_seconds: 0,
            ..fixture(5)
        })
        .await;
        let token = h.token().await;
        h.get(&token, "/v2/product-sets")
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn token_endpoint_wants_the_client_credentials_grant() {
        let h = Harness::start(fixture(5)).await;
        let wrong = h.mint(GOOD_BASIC, "grant_type=password").await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        assert_eq!(wrong.body["error"], "unsupported_grant_type");
    }

    #[tokio::test]
    async fn product_sets_page_with_total_count_and_cap_limit() {
        let h = Harness::start(fixture(23)).await; // 5 sets: 4 of five products, 1 of three
        let token = h.token().await;
        let page = h.get(&token, "/v2/product-sets?limit=2&offset=2").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(ids(&page.body["items"]), [3, 4]);
        assert_eq!(
            page.body["pagination"],
            json!({"limit": 2, "offset": 2, "totalCount": 5})
        );
        let item = &page.body["items"][0];
        assert_eq!(item["status"], "active");
        assert_eq!(item["updatedAt"], "2020-01-01T00:00:00Z");

        let whole = h.get(&token, "/v2/product-sets").await;
        assert_eq!(ids(&whole.body["items"]), [1, 2, 3, 4, 5]);
        assert_eq!(whole.body["pagination"]["limit"], 100);

        let detail = h
            .get(&token, "/v2/product-sets?limit=101")
            .await
            .problem(StatusCode::BAD_REQUEST)
            .to_string();
        assert!(detail.contains("100"), "{detail}");
    }

    #[tokio::test]
    async fn status_filter_selects_active_sets() {
        let h = Harness::start(fixture(10)).await;
        let inactive = json!({"id": 7, "name": "Retired", "status": "inactive",
            "products": [{"id": 70, "seller_sku": "OLD-1"}]});
        let added = h
            .control("POST", "/_sandbox/iconic/product-sets", &inactive)
            .await;
        assert_eq!(added.status, StatusCode::CREATED);
        let token = h.token().await;
        let active = h.get(&token, "/v2/product-sets?status=active").await;
        assert_eq!(ids(&active.body["items"]), [1, 2]);
        let all = h.get(&token, "/v2/product-sets?status=all").await;
        assert_eq!(all.body["pagination"]["totalCount"], 3);
        let again = h
            .control("POST", "/_sandbox/iconic/product-sets", &inactive)
            .await;
        again.problem(StatusCode::CONFLICT);
    }

    #[tokio::test]
    async fn update_date_start_returns_sets_whose_products_changed() {
        let h = Harness::start(fixture(15)).await;
        let token = h.token().await;
        let since = catalog::wire_time(catalog::now());
        let written = h
            .put_stock(&token, json!([{"productId": 7, "quantity": 3}]))
            .await;
        assert_eq!(written.body, json!([]));

        let changed = h
            .get(&token, &format!("/v2/product-sets?updateDateStart={since}"))
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        assert_eq!(ids(&changed.body["items"]), [2]);
        assert_eq!(changed.body["pagination"]["totalCount"], 1);
        let stamped: DateTime<Utc> = changed.body["items"][0]["updatedAt"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(stamped >= since.parse::<DateTime<Utc>>().unwrap());

        let before = h
            .get(
                &token,
                "/v2/product-sets?updateDateEnd=2020-06-01T00:00:00Z",
            )
            .await;
        assert_eq!(ids(&before.body["items"]), [1, 3]);
        h.get(&token, "/v2/product-sets?updateDateStart=yesterday")
            .await
            .problem(StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn stock_write_applies_some_and_lists_the_refused() {
        let mut f = fixture(5);
        f.product_sets[0].products[1].fulfilled_by_venture = true;
        f.product_sets[0].products[2].status = Status::Deleted;
        let h = Harness::start(f).await;
        let token = h.token().await;
        let reply = h
            .put_stock(
                &token,
                json!([
                    {"productId": 1, "quantity": 7},
                    {"productId": 2, "quantity": 5},
                    {"productId": 3, "quantity": 1},
                    {"productId": 999, "quantity": 2},
                    {"productId": 4, "quantity": 0},
                ]),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let refused = reply.body.as_array().unwrap();
        assert_eq!(
            refused
                .iter()
                .map(|r| (
                    r["productId"].as_u64().unwrap(),
                    r["quantity"].as_u64().unwrap()
                ))
                .collect::<Vec<_>>(),
            [(2, 5), (3, 1), (999, 2)]
        );
        assert!(refused[0]["message"]
            .as_str()
            .unwrap()
            .contains("fulfilled by the venture"));
        assert!(refused[1]["message"].as_str().unwrap().contains("deleted"));
        assert_eq!(refused[2]["message"], "Product not found");

        let dump = h.dump();
        assert_eq!(dump["stock_writes"], 2);
        let quantities: Vec<u64> = dump["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["quantity"].as_u64().unwrap())
            .collect();
        assert_eq!(quantities, [7, 0, 0, 0, 0]);
        assert_eq!(dump["products"][0]["product_set_id"], 1);
        assert_ne!(dump["products"][0]["updated_at"], "2020-01-01T00:00:00Z");

        let stock = h.get(&token, "/v2/stock/product/1").await;
        assert_eq!(stock.body["quantity"], 7);
        assert_eq!(stock.body["available"], 7);
        assert_eq!(stock.body["reservedStock"], 0);
        assert_eq!(stock.body["sellerSku"], "SKU-000001");
        h.get(&token, "/v2/stock/product/999")
            .await
            .problem(StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn bad_stock_writes_are_refused_whole() {
        let h = Harness::start(fixture(5)).await;
        let token = h.token().await;
        let too_many: Vec<Value> = (1..=101)
            .map(|_| json!({"productId": 1, "quantity": 1}))
            .collect();
        let detail = h
            .put_stock(&token, Value::Array(too_many))
            .await
            .problem(StatusCode::BAD_REQUEST)
            .to_string();
        assert!(detail.contains("max 100"), "{detail}");

        let detail = h
            .put_stock(
                &token,
                json!([{"productId": 1, "quantity": 1}, {"productId": 2, "quantity": "4"}]),
            )
            .await
            .problem(StatusCode::BAD_REQUEST)
            .to_string();
        assert!(detail.contains("item 1"), "{detail}");

        h.put_stock_as(
            &token,
            "text/plain",
            r#"[{"productId":1,"quantity":1}]"#.into(),
        )
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(h.dump()["stock_writes"], 0);
    }

    #[tokio::test]
    async fn products_by_set_and_by_seller_sku() {
        let h = Harness::start(fixture(10)).await;
        let token = h.token().await;
        let set = h.get(&token, "/v2/product-set/2/products").await;
        assert_eq!(ids(&set.body), [6, 7, 8, 9, 10]);
        assert_eq!(set.body[0]["productSetId"], 2);
        assert_eq!(set.body[0]["sellerSku"], "SKU-000006");
        assert_eq!(set.body[0]["approvalStatus"], "approved");
        h.get(&token, "/v2/product-set/99/products")
            .await
            .problem(StatusCode::NOT_FOUND);

        let found = h
            .get(
                &token,
                "/v2/product/seller-skus?sellerSkus%5B%5D=SKU-000009&sellerSkus%5B%5D=nope&sellerSkus%5B%5D=SKU-000002",
            )
            .await;
        assert_eq!(ids(&found.body["items"]), [2, 9]);
        let many: String = (0..101)
            .map(|i| format!("sellerSkus%5B%5D=S{i}&"))
            .collect();
        h.get(&token, &format!("/v2/product/seller-skus?{many}"))
            .await
            .problem(StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn control_patch_changes_a_product() {
        let h = Harness::start(fixture(5)).await;
        let patch = json!({"status": "inactive", "seller_sku": "RENAMED", "quantity": 9,
            "fulfilled_by_venture": true});
        let reply = h
            .control("PATCH", "/_sandbox/iconic/products/3", &patch)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["seller_sku"], "RENAMED");
        assert_eq!(reply.body["status"], "inactive");
        assert_eq!(reply.body["quantity"], 9);
        assert_eq!(reply.body["fulfilled_by_venture"], true);
        let missing = h
            .control("PATCH", "/_sandbox/iconic/products/99", &json!({}))
            .await;
        missing.problem(StatusCode::NOT_FOUND);
    }

    fn order(id: u64, created_at: &str, items: Value) -> Value {
        json!({"id": id, "number": 300_000 + id, "created_at": created_at,
            "customer": {"first_name": "Ada", "last_name": "Lovelace"},
            "address": {"first_name": "Ada", "last_name": "Lovelace", "phone": "0400000000",
                "address1": "1 Harbour St", "city": "Sydney", "region": "NSW",
                "post_code": "2000", "country": "AU"},
            "items": items})
    }

    fn item(id: u64, sku: &str, status: &str) -> Value {
        json!({"id": id, "seller_sku": sku, "paid_price": "49.95", "unit_price": "59.95",
            "status": status})
    }

    fn with_orders(orders: Value) -> IconicFixture {
        IconicFixture {
            orders: serde_json::from_value(orders).unwrap(),
            ..fixture(5)
        }
    }

    /// The `statusList` and `itemCount` of order `id` as `GET /v2/orders` shows it.
    async fn order_counts(h: &Harness, token: &str, id: u64) -> (Value, u64) {
        let reply = h
            .get(
                token,
                &format!("/v2/orders?limit=1&offset=0&orderIds%5B%5D={id}"),
            )
            .await;
        let order = &reply.body["items"][0];
        (
            order["statusList"].clone(),
            order["itemCount"].as_u64().unwrap(),
        )
    }

    #[tokio::test]
    async fn orders_page_only_with_limit_and_offset_and_show_the_contract_fields() {
        let h = Harness::start(with_orders(json!([
            order(3, "2026-03-03T00:00:00Z", json!([item(30, "SKU-000003", "pending")])),
            order(1, "2026-03-01T00:00:00Z", json!([
                {"id": 10, "seller_sku": "SKU-000001", "paid_price": "49.95", "unit_price": "59.95"},
                {"id": 11, "seller_sku": "SKU-000001", "paid_price": "50", "unit_price": "59.9"},
                {"id": 12, "seller_sku": "DELISTED", "paid_price": "0.05", "unit_price": "1.00"}])),
            order(2, "2026-03-02T00:00:00Z", json!([item(20, "SKU-000002", "pending")])),
        ])))
        .await;
        let token = h.token().await;
        for uri in ["/v2/orders", "/v2/orders?limit=2", "/v2/orders?offset=0"] {
            let detail = h
                .get(&token, uri)
                .await
                .problem(StatusCode::BAD_REQUEST)
                .to_string();
            assert!(detail.contains("is required"), "{uri}: {detail}");
        }
        h.get(&token, "/v2/orders?limit=101&offset=0")
            .await
            .problem(StatusCode::BAD_REQUEST);
        h.0.send("GET", "/v2/orders?limit=1&offset=0", &[], Body::empty())
            .await
            .problem(StatusCode::UNAUTHORIZED);

        let first = h.get(&token, "/v2/orders?limit=2&offset=0").await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert_eq!(ids(&first.body["items"]), [1, 2]);
        assert_eq!(
            first.body["pagination"],
            json!({"limit": 2, "offset": 0, "totalCount": 3})
        );
        let second = h.get(&token, "/v2/orders?limit=2&offset=2").await;
        assert_eq!(ids(&second.body["items"]), [3]);
        let newest = h
            .get(
                &token,
                "/v2/orders?limit=5&offset=0&sort=createdAt&sortDir=desc",
            )
            .await;
        assert_eq!(ids(&newest.body["items"]), [3, 2, 1]);
        h.get(&token, "/v2/orders?limit=5&offset=0&sort=number")
            .await
            .problem(StatusCode::BAD_REQUEST);
        let by_number = h
            .get(
                &token,
                "/v2/orders?limit=5&offset=0&orderNumbers%5B%5D=300002&orderNumbers%5B%5D=300003",
            )
            .await;
        assert_eq!(ids(&by_number.body["items"]), [2, 3]);

        let o = &first.body["items"][0];
        let shipping = json!({"firstName": "Ada", "lastName": "Lovelace",
            "phone": ["0400000000"], "address": ["1 Harbour St"], "email": null,
            "city": "Sydney", "ward": null, "region": "NSW", "postCode": "2000", "country": "AU"});
        assert_eq!(
            o["address"],
            json!({"billing": shipping, "shipping": shipping})
        );
        assert_eq!(o["number"], 300_001);
        assert_eq!(
            o["customer"],
            json!({"firstName": "Ada", "lastName": "Lovelace"})
        );
        assert_eq!(o["currency"], "AUD");
        assert_eq!(o["createdAt"], "2026-03-01T00:00:00Z");
        assert_eq!(o["updatedAt"], "2026-03-01T00:00:00Z");
        assert_eq!(o["statusList"], json!({"pending": 3}));
        assert_eq!(o["itemCount"], 3);
        assert_eq!(o["grandTotal"], json!(100.0));
        assert!(o["uuid"].as_str().unwrap().len() == 36);
        assert_eq!(
            o["items"][0],
            json!({"id": 10, "orderId": 1, "status": "pending",
                "product": {"sku": "SB0000000001-ICONIC", "sellerSku": "SKU-000001",
                    "name": "Generated style 1"},
                "unitPrice": 59.95, "paidPrice": 49.95, "shippingFee": 0.0,
                "createdAt": "2026-03-01T00:00:00Z", "updatedAt": "2026-03-01T00:00:00Z",
                "shipment": {"type": null, "method": null, "provider": null,
                    "providerType": null, "trackingCode": null, "preTrackingCode": null}})
        );
        assert_eq!(o["items"][1]["paidPrice"], json!(50.0));
        assert_eq!(o["items"][1]["unitPrice"], json!(59.9));
        assert_eq!(o["items"][2]["product"]["sku"], Value::Null);
    }

    #[tokio::test]
    async fn section_filter_follows_the_non_cancelled_items() {
        let h = Harness::start(with_orders(json!([
            order(
                1,
                "2026-03-01T00:00:00Z",
                json!([item(10, "SKU-000001", "pending")])
            ),
            order(
                2,
                "2026-03-02T00:00:00Z",
                json!([
                    item(20, "SKU-000001", "pending"),
                    item(21, "SKU-000002", "canceled")
                ])
            ),
            order(
                3,
                "2026-03-03T00:00:00Z",
                json!([item(30, "SKU-000001", "canceled")])
            ),
            order(
                4,
                "2026-03-04T00:00:00Z",
                json!([
                    item(40, "SKU-000001", "pending"),
                    item(41, "SKU-000002", "shipped")
                ])
            ),
            order(
                5,
                "2026-03-05T00:00:00Z",
                json!([item(50, "SKU-000001", "shipped")])
            ),
        ])))
        .await;
        let token = h.token().await;
        let section = |name: &str| format!("/v2/orders?limit=10&offset=0&section={name}");
        let pending = h.get(&token, &section("status_pending")).await;
        assert_eq!(ids(&pending.body["items"]), [1, 2]);
        assert_eq!(pending.body["pagination"]["totalCount"], 2);
        let canceled = h.get(&token, &section("status_canceled")).await;
        assert_eq!(ids(&canceled.body["items"]), [3]);
        let shipped = h.get(&token, &section("status_shipped")).await;
        assert_eq!(ids(&shipped.body["items"]), [5]);
        h.get(&token, &section("group_express"))
            .await
            .problem(StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn item_changes_stamp_the_order_and_show_in_the_update_window() {
        let h = Harness::start(with_orders(json!([
            order(
                1,
                "2026-03-01T00:00:00Z",
                json!([item(10, "SKU-000001", "pending")])
            ),
            order(
                2,
                "2026-03-02T00:00:00Z",
                json!([item(20, "SKU-000002", "pending")])
            ),
        ])))
        .await;
        let token = h.token().await;
        let since = catalog::wire_time(catalog::now());
        let window = format!("/v2/orders?limit=10&offset=0&updateDateStart={since}");
        assert_eq!(
            ids(&h.get(&token, &window).await.body["items"]),
            Vec::<u64>::new()
        );

        let added = h
            .control(
                "POST",
                "/_sandbox/iconic/orders/2/items",
                &json!({"id": 21, "seller_sku": "SKU-000002", "paid_price": "49.95",
                    "unit_price": "59.95"}),
            )
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        assert_eq!(added.body["status_list"], json!({"pending": 2}));
        let changed = h.get(&token, &window).await;
        assert_eq!(ids(&changed.body["items"]), [2]);
        let order = &changed.body["items"][0];
        assert_eq!(order["itemCount"], 2);
        assert_eq!(order["items"][1]["createdAt"], order["updatedAt"]);
        assert_eq!(order["items"][0]["updatedAt"], "2026-03-02T00:00:00Z");
        let stamped: DateTime<Utc> = order["updatedAt"].as_str().unwrap().parse().unwrap();
        assert!(stamped >= since.parse::<DateTime<Utc>>().unwrap());
        let old = h
            .get(
                &token,
                "/v2/orders?limit=10&offset=0&updateDateEnd=2026-03-01T00:00:00Z",
            )
            .await;
        assert_eq!(ids(&old.body["items"]), [1]);
        let created = h
            .get(
                &token,
                "/v2/orders?limit=10&offset=0&dateStart=2026-03-02T00:00:00Z",
            )
            .await;
        assert_eq!(ids(&created.body["items"]), [2]);

        let taken = json!({"id": 10, "seller_sku": "X", "paid_price": "1", "unit_price": "1"});
        h.control("POST", "/_sandbox/iconic/orders/2/items", &taken)
            .await
            .problem(StatusCode::CONFLICT);
        h.control(
            "POST",
            "/_sandbox/iconic/orders/9/items",
            &json!({"id": 99,
            "seller_sku": "X", "paid_price": "1", "unit_price": "1"}),
        )
        .await
        .problem(StatusCode::NOT_FOUND);

        let removed = h
            .control("DELETE", "/_sandbox/iconic/orders/1/items/10", &json!(null))
            .await;
        assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
        assert_eq!(order_counts(&h, &token, 1).await, (json!({}), 0));
        assert_eq!(ids(&h.get(&token, &window).await.body["items"]), [1, 2]);
        h.control("DELETE", "/_sandbox/iconic/orders/1/items/10", &json!(null))
            .await
            .problem(StatusCode::NOT_FOUND);
        // The removed item's id is free again.
        let reused = h
            .control("POST", "/_sandbox/iconic/orders/2/items", &taken)
            .await;
        assert_eq!(reused.status, StatusCode::CREATED, "{}", reused.body);
        assert_eq!(
            order_counts(&h, &token, 2).await,
            (json!({"pending": 3}), 3)
        );
    }

    #[tokio::test]
    async fn cancelling_an_order_cancels_every_item() {
        let h = Harness::start(with_orders(json!([order(
            1,
            "2026-03-01T00:00:00Z",
            json!([
                item(10, "SKU-000001", "pending"),
                item(11, "SKU-000002", "ready_to_ship")
            ])
        )])))
        .await;
        let token = h.token().await;
        let reply = h
            .control(
                "PATCH",
                "/_sandbox/iconic/orders/1",
                &json!({"status": "canceled"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["status_list"], json!({"canceled": 2}));
        assert_ne!(reply.body["updated_at"], "2026-03-01T00:00:00Z");
        let canceled = h
            .get(
                &token,
                "/v2/orders?limit=10&offset=0&section=status_canceled",
            )
            .await;
        assert_eq!(ids(&canceled.body["items"]), [1]);
        let items = &canceled.body["items"][0]["items"];
        assert_eq!(items[1]["status"], "canceled");
        assert_eq!(
            items[1]["updatedAt"],
            canceled.body["items"][0]["updatedAt"]
        );
        let pending = h
            .get(
                &token,
                "/v2/orders?limit=10&offset=0&section=status_pending",
            )
            .await;
        assert_eq!(pending.body["pagination"]["totalCount"], 0);

        h.control(
            "PATCH",
            "/_sandbox/iconic/orders/2",
            &json!({"status": "canceled"}),
        )
        .await
        .problem(StatusCode::NOT_FOUND);
        let bad = h
            .control(
                "PATCH",
                "/_sandbox/iconic/orders/1",
                &json!({"status": "lost"}),
            )
            .await;
        assert!(bad.status.is_client_error());
    }

    #[tokio::test]
    async fn control_adds_orders_once_and_dumps_them() {
        let h = Harness::start(fixture(5)).await;
        let mut new = order(
            7,
            "2026-03-01T00:00:00Z",
            json!([
                item(70, "SKU-000001", "pending"),
                item(71, "SKU-000001", "pending")
            ]),
        );
        new.as_object_mut().unwrap().remove("created_at");
        let added = h.control("POST", "/_sandbox/iconic/orders", &new).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        h.control("POST", "/_sandbox/iconic/orders", &new)
            .await
            .problem(StatusCode::CONFLICT);
        let mut same_number = order(8, "2026-03-01T00:00:00Z", json!([]));
        same_number["number"] = json!(300_007);
        h.control("POST", "/_sandbox/iconic/orders", &same_number)
            .await
            .problem(StatusCode::CONFLICT);
        let mut bad_price = order(9, "2026-03-01T00:00:00Z", json!([item(90, "A", "pending")]));
        bad_price["items"][0]["paid_price"] = json!(49.95);
        assert!(h
            .control("POST", "/_sandbox/iconic/orders", &bad_price)
            .await
            .status
            .is_client_error());

        let dump = h.dump();
        let orders = dump["orders"].as_array().unwrap();
        assert_eq!(orders.len(), 1);
        let stamped = orders[0]["updated_at"].clone();
        assert_eq!(
            orders[0],
            json!({"id": 7, "number": 300_007, "status_list": {"pending": 2},
                "items": [{"id": 70, "seller_sku": "SKU-000001", "status": "pending"},
                    {"id": 71, "seller_sku": "SKU-000001", "status": "pending"}],
                "updated_at": stamped})
        );
        let token = h.token().await;
        let listed = h.get(&token, "/v2/orders?limit=1&offset=0").await;
        assert_eq!(listed.body["items"][0]["createdAt"], stamped);
    }

    #[tokio::test]
    async fn shipment_providers_come_from_the_fixture_or_the_default_list() {
        let h = Harness::start(fixture(1)).await;
        let token = h.token().await;
        let listed = h.get(&token, "/v2/orders-shipment-providers").await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        let names: Vec<&str> = listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            shipment::default_providers()
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
        );
        assert!(names.contains(&"AusPost"));
        assert_eq!(listed.body[0]["apiIntegrationAvailable"], false);
        h.0.send("GET", "/v2/orders-shipment-providers", &[], Body::empty())
            .await
            .problem(StatusCode::UNAUTHORIZED);

        let h = Harness::start(IconicFixture {
            shipment_providers: serde_json::from_value(json!([
                {"name": "AusPost", "api_integration": false},
                {"name": "Couriers Please", "api_integration": true}]))
            .unwrap(),
            ..fixture(1)
        })
        .await;
        let token = h.token().await;
        let active = h
            .get(&token, "/v2/orders-shipment-providers?status=true")
            .await;
        assert_eq!(
            active.body,
            json!([{"name": "AusPost", "apiIntegrationAvailable": false},
                {"name": "Couriers Please", "apiIntegrationAvailable": true}])
        );
        let inactive = h
            .get(&token, "/v2/orders-shipment-providers?status=false")
            .await;
        assert_eq!(inactive.body, json!([]));
        h.get(&token, "/v2/orders-shipment-providers?status=maybe")
            .await
            .problem(StatusCode::BAD_REQUEST);
    }

    const READY_TO_SHIP: &str = "/v2/orders/statuses/set-to-ready-to-ship";

    /// Orders 1 (items 10, 11 pending, 12 shipped) and 2 (item 20 pending).
    fn orders_to_ship() -> IconicFixture {
        with_orders(json!([
            order(
                1,
                "2026-03-01T00:00:00Z",
                json!([
                    item(10, "SKU-000001", "pending"),
                    item(11, "SKU-000002", "pending"),
                    item(12, "SKU-000003", "shipped")
                ])
            ),
            order(
                2,
                "2026-03-02T00:00:00Z",
                json!([item(20, "SKU-000001", "pending")])
            ),
        ]))
    }

    fn ship(items: &[u64], tracking: &str) -> Value {
        let items: Vec<Value> = items.iter().map(|id| json!({"id": id})).collect();
        json!({"orderItems": items, "trackingNumber": tracking, "deliveryType": "dropship",
            "shippingProvider": "AusPost"})
    }

    #[tokio::test]
    async fn ready_to_ship_records_tracking_and_shows_it_on_the_items() {
        let h = Harness::start(orders_to_ship()).await;
        let token = h.token().await;
        let since = catalog::wire_time(catalog::now());
        let reply = h
            .post(&token, READY_TO_SHIP, &ship(&[11, 10], "33ABC0001"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body, json!({"orderItemIds": [11, 10]}));

        let window = format!("/v2/orders?limit=10&offset=0&updateDateStart={since}");
        let changed = h.get(&token, &window).await;
        assert_eq!(ids(&changed.body["items"]), [1]);
        let o = &changed.body["items"][0];
        assert_eq!(o["statusList"], json!({"ready_to_ship": 2, "shipped": 1}));
        for i in 0..2 {
            let item = &o["items"][i];
            assert_eq!(item["status"], "ready_to_ship");
            assert_eq!(item["updatedAt"], o["updatedAt"]);
            assert_eq!(
                item["shipment"],
                json!({"type": "dropship", "method": null, "provider": "AusPost",
                    "providerType": null, "trackingCode": "33ABC0001", "preTrackingCode": null})
            );
        }
        assert_eq!(o["items"][2]["shipment"]["trackingCode"], Value::Null);

        let dump = h.dump();
        assert_eq!(
            dump["orders"][0]["items"][0],
            json!({"id": 10, "seller_sku": "SKU-000001", "status": "ready_to_ship",
                "shipment": {"delivery_type": "dropship", "provider": "AusPost",
                    "tracking_code": "33ABC0001"}})
        );
        assert!(dump["orders"][1]["items"][0].get("shipment").is_none());
        let counts = h.0.sandbox.app.counts.lock().unwrap().clone();
        assert_eq!(counts.get(&format!("POST {READY_TO_SHIP}")), Some(&1));

        // Pickup needs no tracking number.
        let pickup = json!({"orderItems": [{"id": 20}], "deliveryType": "pickup"});
        let reply = h.post(&token, READY_TO_SHIP, &pickup).await;
        assert_eq!(reply.body, json!({"orderItemIds": [20]}));
        assert_eq!(
            h.dump()["orders"][1]["items"][0]["shipment"]["tracking_code"],
            Value::Null
        );
    }

    #[tokio::test]
    async fn ready_to_ship_refuses_what_the_iconic_refuses() {
        let h = Harness::start(orders_to_ship()).await;
        let token = h.token().await;
        let refused = |reply: &Reply, status: StatusCode| -> String {
            assert_eq!(reply.status, status, "{}", reply.body);
            assert_eq!(reply.headers[CONTENT_TYPE], "application/problem+json");
            assert_eq!(reply.body["status"], status.as_u16());
            reply.body["detail"].as_str().unwrap().to_string()
        };
        let post = |body: Value| {
            let token = token.clone();
            let h = &h;
            async move { h.post(&token, READY_TO_SHIP, &body).await }
        };

        // The wrong item key is silently ignored: no items.
        let mut wrong_key = ship(&[], "T1");
        wrong_key["orderItems"] = json!([{"orderItemId": 10}]);
        let detail = post(wrong_key)
            .await
            .problem(StatusCode::BAD_REQUEST)
            .to_string();
        assert!(detail.contains("no order items"), "{detail}");

        let detail = refused(
            &post(ship(&[10, 20], "T1")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert!(detail.contains("same order"), "{detail}");

        let not_pending = post(ship(&[10, 12], "T1")).await;
        let detail = refused(&not_pending, shipment::REFUSED);
        assert_eq!(
            not_pending.body["title"],
            "Status Transition is not allowed"
        );
        assert!(detail.contains("12 is shipped"), "{detail}");

        let mut no_tracking = ship(&[10], "");
        no_tracking
            .as_object_mut()
            .unwrap()
            .remove("trackingNumber");
        let detail = post(no_tracking)
            .await
            .problem(StatusCode::BAD_REQUEST)
            .to_string();
        assert!(detail.contains("trackingNumber is required"), "{detail}");
        let detail = post(ship(&[10], "33ABC 0001"))
            .await
            .problem(StatusCode::BAD_REQUEST)
            .to_string();
        assert!(detail.contains("' '"), "{detail}");

        let mut unknown_provider = ship(&[10], "T1");
        unknown_provider["shippingProvider"] = json!("Auspost");
        let detail = refused(&post(unknown_provider).await, shipment::REFUSED);
        assert!(detail.contains("\"Auspost\""), "{detail}");
        let mut no_provider = ship(&[10], "T1");
        no_provider
            .as_object_mut()
            .unwrap()
            .remove("shippingProvider");
        post(no_provider).await.problem(StatusCode::BAD_REQUEST);

        let detail = refused(&post(ship(&[99], "T1")).await, shipment::REFUSED);
        assert!(detail.contains("99"), "{detail}");

        // Nothing above changed anything.
        let before = h.dump();
        assert!(before["orders"][0]["items"][0].get("shipment").is_none());

        // A tracking number already used (by order 1) cannot be used by order 2.
        let ok = post(ship(&[10], "TRK-1")).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        let detail = refused(&post(ship(&[20], "TRK-1")).await, shipment::REFUSED);
        assert!(
            detail.contains("\"TRK-1\"") && detail.contains("300001"),
            "{detail}"
        );
        // Pushed twice: the item is no longer pending.
        let again = post(ship(&[10], "TRK-1")).await;
        refused(&again, shipment::REFUSED);
        assert_eq!(again.body["title"], "Status Transition is not allowed");
        assert_eq!(h.dump()["orders"][1]["items"][0]["status"], "pending");

        let plain =
            h.0.send(
                "POST",
                READY_TO_SHIP,
                &[("authorization", &format!("Bearer {token}"))],
                ship(&[20], "T2").to_string(),
            )
            .await;
        plain.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        h.0.send(
            "POST",
            READY_TO_SHIP,
            &[("content-type", "application/json")],
            ship(&[20], "T2").to_string(),
        )
        .await
        .problem(StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn fixture_orders_take_their_defaults() {
        let fixture: IconicFixture = serde_json::from_value(json!({
            "client_id": "c", "client_secret": "s", "product_sets": [],
            "orders": [{"id": 9001, "number": 300001, "status": "shipped",
                "customer": {"first_name": "A", "last_name": "B"},
                "address": {"first_name": "A", "last_name": "B", "phone": "1",
                    "address1": "x", "address2": "y", "city": "c", "region": "r",
                    "post_code": "p", "country": "AU"},
                "shipping_fee": "9.95", "delivery_info": "Standard", "email": "a@b.c",
                "items": [{"id": 1, "seller_sku": "LS-S", "paid_price": "49.95",
                    "unit_price": "59.95"},
                    {"id": 2, "seller_sku": "LS-S", "paid_price": "49.95",
                    "unit_price": "59.95", "status": "pending"}]}]
        }))
        .unwrap();
        let dump = IconicState::new(fixture).dump();
        assert_eq!(
            dump["orders"],
            json!([{"id": 9001, "number": 300001,
                "status_list": {"pending": 1, "shipped": 1},
                "items": [{"id": 1, "seller_sku": "LS-S", "status": "shipped"},
                    {"id": 2, "seller_sku": "LS-S", "status": "pending"}],
                "updated_at": "2026-01-01T00:00:00Z"}])
        );
    }

    #[test]
    fn fixture_format_and_defaults() {
        let fixture: IconicFixture = serde_json::from_value(json!({
            "client_id": "iconic-demo", "client_secret": "iconic-demo-secret",
            "product_sets": [{"id": 10, "name": "Linen Shirt", "status": "active",
                "products": [{"id": 501, "seller_sku": "LS-WHT-S"}]}]
        }))
        .unwrap();
        assert_eq!(fixture.token_ttl_seconds, 3600);
        assert_eq!(fixture.updated_at, default_updated_at());
        assert!(!format!("{fixture:?}").contains("iconic-demo-secret"));
        let dump = IconicState::new(fixture).dump();
        assert_eq!(
            dump,
            json!({"products": [{"id": 501, "seller_sku": "LS-WHT-S", "status": "active",
                "product_set_id": 10, "quantity": 0, "fulfilled_by_venture": false,
                "updated_at": "2026-01-01T00:00:00Z"}], "stock_writes": 0, "orders": []})
        );
    }

    #[test]
    fn generated_catalog_shape() {
        let fixture = IconicFixture::generate(12);
        assert_eq!(fixture.client_id, "iconic-bench");
        let sets: Vec<(u64, Vec<u64>)> = fixture
            .product_sets
            .iter()
            .map(|s| (s.id, s.products.iter().map(|p| p.id).collect()))
            .collect();
        assert_eq!(
            sets,
            [
                (1, vec![1, 2, 3, 4, 5]),
                (2, vec![6, 7, 8, 9, 10]),
                (3, vec![11, 12])
            ]
        );
        assert_eq!(fixture.product_sets[2].products[1].seller_sku, "SKU-000012");
        assert!(IconicFixture::generate(0).product_sets.is_empty());
    }
}
