//! The client against a scripted server: request shape, retries, throttling, tokens,
//! paging and the bulk flow.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::queries::BULK_CATALOG;
use super::transport::Transport;
use super::*;
use crate::http::Backoff;
use crate::test_server::{Reply, TestServer};

const FAST: Backoff = Backoff {
    attempts: 5,
    base: Duration::from_millis(1),
    max: Duration::from_millis(5),
};
const TOKEN: &str = "shpat_static";
const SECRET: &str = "shpss_very_secret";

fn client(server: &TestServer, auth: ShopifyAuth) -> ShopifyClient {
    let settings = ShopifySettings {
        endpoint: format!("{}/", server.url),
        api_version: "2026-10".into(),
        auth,
    };
    ShopifyClient {
        transport: Transport::new(settings, crate::http::client()).with_backoff(FAST),
    }
}

fn static_token() -> ShopifyAuth {
    ShopifyAuth::Token(Secret::new(TOKEN))
}

fn credentials() -> ShopifyAuth {
    ShopifyAuth::ClientCredentials {
        client_id: "app-id".into(),
        client_secret: Secret::new(SECRET),
    }
}

/// A bucket so fast that computed waits are a few milliseconds.
fn cost(requested: f64, available: f64) -> Value {
    json!({ "cost": {
        "requestedQueryCost": requested,
        "actualQueryCost": null,
        "throttleStatus": {
            "maximumAvailable": 2000.0,
            "currentlyAvailable": available,
            "restoreRate": 100000.0
        }
    }})
}

fn ok(data: Value) -> Reply {
    Reply::json(&json!({ "data": data, "extensions": cost(1.0, 1999.0) }))
}

fn throttled() -> Reply {
    Reply::json(&json!({
        "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }],
        "extensions": cost(752.0, 2.0)
    }))
}

fn shop() -> Reply {
    ok(json!({ "shop": { "name": "Demo", "myshopifyDomain": "demo.myshopify.com" } }))
}

fn minted(token: &str) -> Reply {
    Reply::json(&json!({ "access_token": token, "scope": "read_products", "expires_in": 86399 }))
}

/// The operation names (or `METHOD target` for other requests) in arrival order.
fn log(server: &TestServer) -> Vec<String> {
    server
        .seen()
        .iter()
        .map(|r| {
            let body = serde_json::from_str::<Value>(&r.body).unwrap_or_default();
            match body["operationName"].as_str() {
                Some(op) => op.to_string(),
                None => format!("{} {}", r.method, r.target),
            }
        })
        .collect()
}

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn sends_the_documented_request() {
    let server = TestServer::scripted(|_| vec![shop()]).await;
    let shopify = client(&server, static_token());
    let shop = shopify.shop().await.unwrap();
    assert_eq!(shop.myshopify_domain, "demo.myshopify.com");

    let request = &server.seen()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/admin/api/2026-10/graphql.json");
    assert_eq!(request.header("x-shopify-access-token"), Some(TOKEN));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["operationName"], "Shop");
    assert_eq!(body["query"], super::queries::SHOP.document);
    assert_eq!(body["variables"], json!({}));
    assert_eq!(
        shopify.requests(),
        BTreeMap::from([("graphql Shop".to_string(), 1)])
    );
}

#[tokio::test]
async fn throttled_replies_are_waited_out_and_retried() {
    let server = TestServer::scripted(|_| vec![throttled(), throttled(), shop()]).await;
    let shopify = client(&server, static_token());
    assert_eq!(shopify.shop().await.unwrap().name, "Demo");
    assert_eq!(shopify.requests()["graphql Shop"], 3);
}

#[tokio::test]
async fn reads_retry_server_errors_html_pages_and_cut_off_json() {
    let server = TestServer::scripted(|_| {
        vec![
            Reply::typed(503, "text/plain", "busy"),
            Reply::typed(429, "text/plain", "slow down"),
            Reply::typed(200, "text/html", "<html><body>Bad gateway</body></html>"),
            Reply::typed(200, "application/json", r#"{"data":{"shop":{"na"#),
            shop(),
        ]
    })
    .await;
    let shopify = client(&server, static_token());
    assert_eq!(shopify.shop().await.unwrap().name, "Demo");
    assert_eq!(server.seen().len(), 5);
}

#[tokio::test]
async fn reads_give_up_after_five_attempts_with_the_last_error() {
    let server = TestServer::scripted(|_| {
        (0..6)
            .map(|_| Reply::typed(502, "text/html", "<html>bad gateway</html>"))
            .collect()
    })
    .await;
    let err = client(&server, static_token()).shop().await.unwrap_err();
    assert_eq!(
        err,
        ShopifyError::Http {
            status: 502,
            op: "graphql Shop",
            snippet: "<html>bad gateway</html>".into()
        }
    );
    assert_eq!(server.seen().len(), 5);
}

#[tokio::test]
async fn client_errors_and_graphql_errors_are_final() {
    let server = TestServer::scripted(|_| {
        vec![
            Reply::typed(400, "application/json", r#"{"errors":"bad request"}"#),
            Reply::json(&json!({
                "errors": [{ "message": "Field 'nam' doesn't exist on type 'Shop'" }],
                "extensions": cost(1.0, 1999.0)
            })),
            ok(json!({ "shop": { "name": 5 } })),
        ]
    })
    .await;
    let shopify = client(&server, static_token());
    let err = shopify.shop().await.unwrap_err();
    assert!(
        matches!(&err, ShopifyError::Http { status: 400, snippet, .. } if snippet.contains("bad request")),
        "{err:?}"
    );
    let err = shopify.shop().await.unwrap_err();
    assert_eq!(
        err,
        ShopifyError::GraphQl {
            op: "graphql Shop",
            messages: vec!["Field 'nam' doesn't exist on type 'Shop'".into()]
        }
    );
    let err = shopify.shop().await.unwrap_err();
    assert!(
        matches!(&err, ShopifyError::Decode { message, .. } if message.contains("shop.name")),
        "{err:?}"
    );
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn client_credentials_are_minted_once_and_reused() {
    let server = TestServer::scripted(|_| vec![minted("tok-1"), shop(), shop()]).await;
    let shopify = client(&server, credentials());
    shopify.shop().await.unwrap();
    shopify.shop().await.unwrap();

    let received = server.seen();
    assert_eq!(received[0].target, "/admin/oauth/access_token");
    assert_eq!(
        received[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        received[0].body,
        format!("grant_type=client_credentials&client_id=app-id&client_secret={SECRET}")
    );
    assert_eq!(received[1].header("x-shopify-access-token"), Some("tok-1"));
    assert_eq!(received[2].header("x-shopify-access-token"), Some("tok-1"));
    assert_eq!(shopify.requests()["POST /admin/oauth/access_token"], 1);
}

#[tokio::test]
async fn a_401_re_mints_once_then_is_an_error() {
    let unauthorized = || Reply::typed(401, "application/json", r#"{"errors":"Invalid API key"}"#);
    let server = TestServer::scripted(|_| {
        vec![
            minted("tok-1"),
            unauthorized(),
            minted("tok-2"),
            shop(),
            unauthorized(),
            minted("tok-3"),
            unauthorized(),
        ]
    })
    .await;
    let shopify = client(&server, credentials());
    shopify.shop().await.unwrap();
    assert_eq!(
        server.seen()[3].header("x-shopify-access-token"),
        Some("tok-2")
    );

    let err = shopify.shop().await.unwrap_err();
    assert_eq!(
        err,
        ShopifyError::Unauthorized {
            op: "graphql Shop",
            status: 401
        }
    );
    assert_eq!(server.seen().len(), 7);
}

#[tokio::test]
async fn a_static_token_is_not_retried_on_401_or_403() {
    let server = TestServer::scripted(|_| vec![Reply::typed(403, "text/plain", "scope")]).await;
    let err = client(&server, static_token()).shop().await.unwrap_err();
    assert_eq!(
        err,
        ShopifyError::Unauthorized {
            op: "graphql Shop",
            status: 403
        }
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn errors_never_show_the_secret() {
    let echo = format!(r#"{{"error":"invalid_client","client_secret":"{SECRET}"}}"#);
    let server = TestServer::scripted(|_| vec![Reply::typed(400, "application/json", &echo)]).await;
    let err = client(&server, credentials()).shop().await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("invalid_client"), "{shown}");
    assert!(!shown.contains(SECRET), "{shown}");
}

fn levels_page(item: &str, available: i64, next: Option<&str>) -> Reply {
    ok(json!({ "location": { "inventoryLevels": {
        "pageInfo": { "hasNextPage": next.is_some(), "endCursor": next },
        "nodes": [{
            "updatedAt": "2026-03-01T09:00:00Z",
            "item": { "id": item },
            "quantities": [{ "name": "available", "quantity": available }]
        }]
    }}}))
}

#[tokio::test]
async fn pages_follow_cursors_and_read_at_is_the_first_reply() {
    let server = TestServer::scripted(|_| {
        vec![
            levels_page("I1", 3, Some("c1")).header("Date", "Sun, 01 Mar 2026 10:00:00 GMT"),
            levels_page("I2", 0, None).header("Date", "Sun, 01 Mar 2026 10:00:07 GMT"),
        ]
    })
    .await;
    let shopify = client(&server, static_token());
    let read = shopify
        .levels_since("gid://shopify/Location/1", time("2026-03-01T08:30:00.250Z"))
        .await
        .unwrap();
    assert_eq!(read.read_at, time("2026-03-01T10:00:00Z"));
    let items: Vec<_> = read.levels.iter().map(Level::key).collect();
    assert_eq!(
        items,
        [
            ("I1", "gid://shopify/Location/1", 3),
            ("I2", "gid://shopify/Location/1", 0)
        ]
    );
    let bodies: Vec<Value> = server
        .seen()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies[0]["variables"]["query"],
        "updated_at:>'2026-03-01T08:30:00Z'"
    );
    assert_eq!(
        bodies[0]["variables"]["locationId"],
        "gid://shopify/Location/1"
    );
    assert_eq!(bodies[0]["variables"]["after"], Value::Null);
    assert_eq!(bodies[1]["variables"]["after"], "c1");
}

#[tokio::test]
async fn variants_without_a_filter_send_a_null_query() {
    let page = ok(json!({ "productVariants": {
        "pageInfo": { "hasNextPage": false, "endCursor": null },
        "nodes": [{
            "id": "V1", "sku": null, "updatedAt": "2026-03-01T09:00:00Z",
            "product": { "id": "P1", "status": "DRAFT", "tags": ["Gift", "hardtofind"] },
            "inventoryItem": { "id": "I1", "tracked": true }
        }]
    }}));
    let server = TestServer::scripted(|_| vec![page]).await;
    let variants = client(&server, static_token())
        .variants(None)
        .await
        .unwrap();
    assert_eq!(variants[0].product_status, ProductStatus::Draft);
    assert_eq!(variants[0].product_tags, ["Gift", "hardtofind"]);
    assert_eq!(variants[0].sku, None);
    let body: Value = serde_json::from_str(&server.seen()[0].body).unwrap();
    assert_eq!(body["variables"]["query"], Value::Null);
}

#[tokio::test]
async fn an_unknown_location_is_not_found() {
    let server = TestServer::scripted(|_| vec![ok(json!({ "location": null }))]).await;
    let err = client(&server, static_token())
        .levels_since("gid://shopify/Location/404", Utc::now())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ShopifyError::NotFound {
            op: "graphql LevelsSince",
            id: "gid://shopify/Location/404".into()
        }
    );
}

fn bulk_op(status: &str, url: Option<String>) -> Value {
    json!({
        "id": "gid://shopify/BulkOperation/1",
        "status": status,
        "errorCode": if status == "FAILED" { json!("ACCESS_DENIED") } else { Value::Null },
        "createdAt": "2026-03-01T09:59:00Z",
        "query": BULK_CATALOG,
        "url": url
    })
}

fn run_reply(status: &str) -> Reply {
    ok(json!({ "bulkOperationRunQuery": {
        "bulkOperation": bulk_op(status, None), "userErrors": []
    }}))
}

fn current(status: &str, url: Option<String>) -> Reply {
    ok(json!({ "currentBulkOperation": bulk_op(status, url) }))
}

const JSONL: &str = concat!(
    r#"{"id":"V1","sku":"A","updatedAt":"2026-03-01T00:00:00Z","product":{"id":"P1","status":"ACTIVE","tags":["gift"]},"inventoryItem":{"id":"I1","tracked":true}}"#,
    "\n",
    r#"{"updatedAt":"2026-03-01T00:00:00Z","location":{"id":"L1"},"quantities":[{"name":"available","quantity":4}],"__parentId":"V1"}"#,
    "\n"
);

/// A bulk read's result, as a test keeps it.
#[derive(Default)]
struct Collected {
    variants: Vec<Variant>,
    levels: Vec<ParentedLevel>,
}

impl CatalogSink for Collected {
    fn restart(&mut self) -> Result<(), String> {
        *self = Self::default();
        Ok(())
    }

    fn put(&mut self, variants: Vec<Variant>, levels: Vec<ParentedLevel>) -> Result<(), String> {
        self.variants.extend(variants);
        self.levels.extend(levels);
        Ok(())
    }
}

#[tokio::test]
async fn bulk_catalog_runs_polls_and_streams_the_result() {
    let server = TestServer::scripted(|base| {
        vec![
            run_reply("CREATED").header("Date", "Sun, 01 Mar 2026 10:00:00 GMT"),
            current("RUNNING", None),
            current(
                "COMPLETED",
                Some(format!("{base}/results/catalog.jsonl?sig=x")),
            ),
            Reply::typed(200, "application/jsonl", JSONL),
        ]
    })
    .await;
    let shopify = client(&server, static_token());
    let progress = AtomicU64::new(0);
    let mut catalog = Collected::default();
    let read_at = shopify
        .bulk_catalog(&mut catalog, &|n| progress.store(n, Ordering::Relaxed))
        .await
        .unwrap();
    assert_eq!(catalog.variants.len(), 1);
    assert_eq!(catalog.levels[0].parent_id, "V1");
    assert_eq!(catalog.levels[0].level.available, 4);
    // The operation was created before the reply's Date: its clock is the mark.
    assert_eq!(read_at, time("2026-03-01T09:59:00Z"));
    assert_eq!(progress.load(Ordering::Relaxed), 2);

    assert_eq!(
        log(&server),
        [
            "BulkOperationRunQuery",
            "CurrentBulkOperation",
            "CurrentBulkOperation",
            "GET /results/catalog.jsonl?sig=x"
        ]
    );
    let download = &server.seen()[3];
    assert_eq!(download.header("x-shopify-access-token"), None);
    let body: Value = serde_json::from_str(&server.seen()[0].body).unwrap();
    assert_eq!(body["variables"]["query"], BULK_CATALOG);
    assert_eq!(shopify.requests()["GET bulk result"], 1);
}

#[tokio::test]
async fn an_ambiguous_bulk_start_adopts_the_operation_it_started() {
    let server = TestServer::scripted(|_| {
        vec![
            Reply::typed(502, "text/html", "<html>bad gateway</html>"),
            current("RUNNING", None),
            current("COMPLETED", None),
        ]
    })
    .await;
    let mut catalog = Collected::default();
    client(&server, static_token())
        .bulk_catalog(&mut catalog, &|_| {})
        .await
        .unwrap();
    assert!(catalog.variants.is_empty() && catalog.levels.is_empty());
    assert_eq!(
        log(&server),
        [
            "BulkOperationRunQuery",
            "CurrentBulkOperation",
            "CurrentBulkOperation"
        ]
    );
}

#[tokio::test]
async fn an_ambiguous_bulk_start_is_rerun_only_when_nothing_runs() {
    let server = TestServer::scripted(|_| {
        vec![
            Reply::typed(504, "text/plain", "timeout"),
            ok(json!({ "currentBulkOperation": null })),
            run_reply("CREATED"),
            current("COMPLETED", None),
        ]
    })
    .await;
    client(&server, static_token())
        .bulk_catalog(&mut Collected::default(), &|_| {})
        .await
        .unwrap();
    assert_eq!(
        log(&server),
        [
            "BulkOperationRunQuery",
            "CurrentBulkOperation",
            "BulkOperationRunQuery",
            "CurrentBulkOperation"
        ]
    );
}

#[tokio::test]
async fn a_failed_bulk_operation_reports_its_error_code() {
    let server =
        TestServer::scripted(|_| vec![run_reply("CREATED"), current("FAILED", None)]).await;
    let err = client(&server, static_token())
        .bulk_catalog(&mut Collected::default(), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ShopifyError::Bulk {
            message: "operation gid://shopify/BulkOperation/1 ended FAILED (ACCESS_DENIED)".into()
        }
    );
}

#[tokio::test]
async fn bulk_user_errors_are_bulk_errors() {
    let server = TestServer::scripted(|_| {
        vec![ok(json!({ "bulkOperationRunQuery": {
            "bulkOperation": null,
            "userErrors": [{ "code": "INVALID", "field": ["query"], "message": "Invalid bulk query" }]
        }}))]
    })
    .await;
    let err = client(&server, static_token())
        .bulk_catalog(&mut Collected::default(), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ShopifyError::Bulk {
            message: "INVALID: Invalid bulk query".into()
        }
    );
}

#[tokio::test]
async fn a_cut_off_download_is_fetched_again() {
    let server = TestServer::scripted(|base| {
        let url = format!("{base}/r.jsonl");
        vec![
            run_reply("CREATED"),
            current("COMPLETED", Some(url)),
            Reply::typed(200, "application/jsonl", &JSONL[..JSONL.len() - 30]),
            Reply::typed(200, "application/jsonl", JSONL),
        ]
    })
    .await;
    let mut catalog = Collected::default();
    client(&server, static_token())
        .bulk_catalog(&mut catalog, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        catalog.levels.len(),
        1,
        "the cut-off download's part is forgotten"
    );
    assert_eq!(server.seen().len(), 4);
}

#[test]
fn futures_can_be_spawned() {
    fn send<T: Send>(_: T) {}
    let settings = ShopifySettings {
        endpoint: "http://127.0.0.1:9".into(),
        api_version: "2026-10".into(),
        auth: credentials(),
    };
    let shopify = ShopifyClient::new(settings, crate::http::client());
    send(shopify.shop());
    send(shopify.locations());
    send(shopify.variants(None));
    send(shopify.levels_since("L", Utc::now()));
    let mut catalog = Collected::default();
    send(shopify.bulk_catalog(&mut catalog, &|_| {}));
}

// ---- orders ------------------------------------------------------------------------

#[tokio::test]
async fn order_create_sends_the_safe_options_and_reads_orders_and_refusals() {
    let server = TestServer::start(|req| {
        let body: Value = serde_json::from_str(&req.body).unwrap();
        let options = &body["variables"]["options"];
        assert_eq!(options["inventoryBehaviour"], "DECREMENT_OBEYING_POLICY");
        assert_eq!(options["sendReceipt"], false);
        assert_eq!(options["sendFulfillmentReceipt"], false);
        if body["variables"]["order"]["note"] == "refuse" {
            ok(json!({"orderCreate": {"order": null, "userErrors": [
                {"code": "INVENTORY_CLAIM_FAILED", "field": ["lineItems", "0"], "message": "Unable to claim"}
            ]}}))
        } else {
            ok(json!({"orderCreate": {"order": {"id": "gid://shopify/Order/9", "name": "#1009",
                "totalPriceSet": {"shopMoney": {"amount": "99.9", "currencyCode": "AUD"}}},
                "userErrors": []}}))
        }
    })
    .await;
    let shopify = client(&server, static_token());
    let created = shopify.create_order(&orders::tests::order()).await.unwrap();
    assert_eq!(
        created,
        orders::Created::Order {
            id: "gid://shopify/Order/9".into(),
            name: "#1009".into(),
            total: Some("99.90".parse().unwrap()),
        }
    );
    let mut refused = orders::tests::order();
    refused.note = "refuse".into();
    let orders::Created::Refused(errors) = shopify.create_order(&refused).await.unwrap() else {
        panic!("expected a refusal");
    };
    assert!(errors[0].is_inventory_claim());
    assert_eq!(
        errors[0].to_string(),
        "INVENTORY_CLAIM_FAILED at lineItems.0: Unable to claim"
    );
}

#[tokio::test]
async fn a_failed_order_create_is_never_resent() {
    for reply in [
        || Reply::new(502, "bad gateway"),
        || Reply::typed(200, "application/json", r#"{"data":{"orderCr"#),
    ] {
        let server = TestServer::start(move |_| reply()).await;
        let shopify = client(&server, static_token());
        let err = shopify
            .create_order(&orders::tests::order())
            .await
            .unwrap_err();
        assert_eq!(server.seen().len(), 1, "sent once, then: {err}");
    }
}

#[tokio::test]
async fn find_orders_pages_and_reads_lines_and_totals() {
    let node = |id: u64, edited: bool| {
        json!({"id": format!("gid://shopify/Order/{id}"), "name": format!("#{id}"),
            "sourceIdentifier": format!("iconic:{id}"), "updatedAt": "2026-03-01T00:00:00Z",
            "cancelledAt": null, "edited": edited,
            "totalPriceSet": {"shopMoney": {"amount": "10.10", "currencyCode": "AUD"}},
            "lineItems": {"nodes": [{"sku": "A", "quantity": 2, "currentQuantity": 1}]}})
    };
    let server = TestServer::scripted(|_| {
        vec![
            ok(
                json!({"orders": {"pageInfo": {"hasNextPage": true, "endCursor": "c1"},
                "nodes": [node(1, false)]}}),
            ),
            ok(
                json!({"orders": {"pageInfo": {"hasNextPage": false, "endCursor": null},
                "nodes": [node(2, true)]}}),
            ),
        ]
    })
    .await;
    let shopify = client(&server, static_token());
    let found = shopify
        .find_orders("source_identifier:'iconic:1'")
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].source_identifier.as_deref(), Some("iconic:2"));
    assert!(found[1].edited);
    assert_eq!(found[0].total, Some("10.1".parse().unwrap()));
    assert_eq!(
        (
            found[0].lines[0].quantity,
            found[0].lines[0].current_quantity
        ),
        (2, 1)
    );
    let second: Value = serde_json::from_str(&server.seen()[1].body).unwrap();
    assert_eq!(second["variables"]["after"], "c1");
    assert_eq!(second["variables"]["query"], "source_identifier:'iconic:1'");
}

// ---- fulfilments -------------------------------------------------------------------

fn fulfilled_page(nodes: Value, next: Option<&str>) -> Reply {
    ok(json!({"orders": {
        "pageInfo": {"hasNextPage": next.is_some(), "endCursor": next},
        "nodes": nodes
    }}))
}

fn fulfilled_node(id: u64, fulfillments: Value) -> Value {
    json!({"id": format!("gid://shopify/Order/{id}"), "name": format!("#{id}"),
        "sourceIdentifier": format!("iconic:{id}"), "updatedAt": "2026-03-01T10:00:00Z",
        "fulfillments": fulfillments})
}

#[tokio::test]
async fn fulfilled_orders_page_with_the_callers_query() {
    let server = TestServer::scripted(|_| {
        vec![
            fulfilled_page(json!([fulfilled_node(1, json!([]))]), Some("c1")),
            fulfilled_page(json!([fulfilled_node(2, json!([]))]), None),
        ]
    })
    .await;
    let shopify = client(&server, static_token());
    let query = "tag:'iconic' AND fulfillment_status:shipped";
    let found = shopify.fulfilled_orders(query).await.unwrap();
    let names: Vec<_> = found.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["#1", "#2"]);

    let bodies: Vec<Value> = server
        .seen()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["operationName"], "FulfilledOrders");
    assert_eq!(
        bodies[0]["query"],
        super::queries::FULFILLED_ORDERS.document
    );
    assert_eq!(bodies[0]["variables"], json!({ "query": query }));
    assert_eq!(
        bodies[1]["variables"],
        json!({ "query": query, "after": "c1" })
    );
    assert_eq!(shopify.requests()["graphql FulfilledOrders"], 2);
}

#[tokio::test]
async fn fulfilments_keep_tracking_lines_and_status_as_shopify_sent_them() {
    let fulfillments = json!([
        {"id": "gid://shopify/Fulfillment/1", "status": "SUCCESS",
         "updatedAt": "2026-03-01T09:30:00Z",
         "trackingInfo": [
            {"company": "Australia Post", "number": "TRK1", "url": "https://t/1"},
            {"company": "StarTrack", "number": "TRK2", "url": null}],
         "fulfillmentLineItems": {"nodes": [
            {"quantity": 2, "lineItem": {"sku": "LS-WHT-S"}},
            {"quantity": 1, "lineItem": {"sku": null}}]}},
        {"id": "gid://shopify/Fulfillment/2", "status": "CANCELLED",
         "updatedAt": "2026-03-01T09:45:00Z", "trackingInfo": [],
         "fulfillmentLineItems": {"nodes": [{"quantity": 1, "lineItem": {"sku": "LS-WHT-M"}}]}}
    ]);
    let server = TestServer::scripted(|_| {
        vec![fulfilled_page(
            json!([fulfilled_node(7, fulfillments)]),
            None,
        )]
    })
    .await;
    let found = client(&server, static_token())
        .fulfilled_orders("fulfillment_status:shipped")
        .await
        .unwrap();
    let line = |sku: Option<&str>, quantity| fulfilments::FulfilledLine {
        sku: sku.map(String::from),
        quantity,
    };
    assert_eq!(
        found,
        [fulfilments::FulfilledOrder {
            id: "gid://shopify/Order/7".into(),
            name: "#7".into(),
            source_identifier: Some("iconic:7".into()),
            updated_at: Some(time("2026-03-01T10:00:00Z")),
            fulfillments: vec![
                fulfilments::Fulfillment {
                    id: "gid://shopify/Fulfillment/1".into(),
                    status: "SUCCESS".into(),
                    updated_at: Some(time("2026-03-01T09:30:00Z")),
                    company: Some("Australia Post".into()),
                    number: Some("TRK1".into()),
                    url: Some("https://t/1".into()),
                    lines: vec![line(Some("LS-WHT-S"), 2), line(None, 1)],
                },
                fulfilments::Fulfillment {
                    id: "gid://shopify/Fulfillment/2".into(),
                    status: "CANCELLED".into(),
                    updated_at: Some(time("2026-03-01T09:45:00Z")),
                    company: None,
                    number: None,
                    url: None,
                    lines: vec![line(Some("LS-WHT-M"), 1)],
                },
            ],
        }]
    );
}

#[tokio::test]
async fn a_null_fulfilled_quantity_is_a_decode_error() {
    let fulfillments = json!([{"id": "F1", "status": "SUCCESS", "updatedAt": null,
        "trackingInfo": [], "fulfillmentLineItems": {"nodes": [
            {"quantity": null, "lineItem": {"sku": "A"}}]}}]);
    let server = TestServer::scripted(|_| {
        vec![fulfilled_page(
            json!([fulfilled_node(1, fulfillments)]),
            None,
        )]
    })
    .await;
    let err = client(&server, static_token())
        .fulfilled_orders("fulfillment_status:shipped")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ShopifyError::Decode { message, .. } if message.contains("quantity")),
        "{err:?}"
    );
}

/// The document against the sandbox: it validates there, stays within its cost limit
/// and reads what a merchant's fulfilments put in.
#[tokio::test]
async fn fulfilled_orders_read_the_sandboxs_fulfilments() {
    let fixture = skubridge_sandbox::Fixture {
        shopify: serde_json::from_value(json!({
            "shop": "demo.myshopify.com", "name": "Demo", "access_token": TOKEN,
            "locations": [{"id": 1, "name": "Warehouse"}],
            "products": [{"id": 1, "title": "Linen Shirt", "status": "ACTIVE", "variants": [
                {"id": 1, "sku": "LS-WHT-S", "inventory_item_id": 11, "available": {"1": 10}}]}]
        }))
        .unwrap(),
        ..Default::default()
    };
    let addr = "127.0.0.1:0".parse().unwrap();
    let sb = skubridge_sandbox::start(fixture, addr, Default::default())
        .await
        .unwrap();
    let shopify = ShopifyClient::new(
        ShopifySettings {
            endpoint: sb.url(),
            api_version: "2026-10".into(),
            auth: static_token(),
        },
        crate::http::client(),
    );
    for n in [1, 2] {
        let mut order = orders::tests::order();
        order.source_identifier = format!("iconic:{n}");
        let created = shopify.create_order(&order).await.unwrap();
        assert!(
            matches!(created, orders::Created::Order { .. }),
            "{created:?}"
        );
    }
    let http = crate::http::client();
    let fulfil = |order: u64, body: Value| {
        let url = format!("{}/_sandbox/shopify/orders/{order}/fulfillments", sb.url());
        let request = http.post(url).json(&body).send();
        async move {
            let status = request.await.unwrap().status();
            assert!(status.is_success(), "fulfilling order {order}: {status}");
        }
    };
    // Order 1 shipped in full with tracking; order 2 one of its two units, without.
    let shipped = json!({"company": "Australia Post", "number": "TRK1"});
    fulfil(1, shipped).await;
    let dump = http
        .get(format!("{}/_sandbox/shopify/orders", sb.url()))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let line_id = dump[1]["line_items"][0]["id"].clone();
    let part = json!({"lines": [{"line_item_id": line_id, "quantity": 1}]});
    fulfil(2, part).await;

    let found = shopify
        .fulfilled_orders("fulfillment_status:shipped OR fulfillment_status:partial")
        .await
        .unwrap();
    let sources: Vec<_> = found
        .iter()
        .map(|o| o.source_identifier.as_deref())
        .collect();
    assert_eq!(sources, [Some("iconic:1"), Some("iconic:2")]);
    let [one, two] = [&found[0].fulfillments[0], &found[1].fulfillments[0]];
    assert_eq!(one.status, "SUCCESS");
    assert_eq!(
        (
            one.company.as_deref(),
            one.number.as_deref(),
            one.url.as_deref()
        ),
        (Some("Australia Post"), Some("TRK1"), None)
    );
    let line = |sku: &str, quantity| fulfilments::FulfilledLine {
        sku: Some(sku.into()),
        quantity,
    };
    assert_eq!(one.lines, [line("LS-WHT-S", 2)]);
    assert_eq!(
        (two.company.as_deref(), two.number.as_deref()),
        (None, None)
    );
    assert_eq!(two.lines, [line("LS-WHT-S", 1)]);

    let only_shipped = shopify
        .fulfilled_orders("fulfillment_status:shipped")
        .await
        .unwrap();
    assert_eq!(only_shipped.len(), 1);
}
