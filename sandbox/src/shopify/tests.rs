//! The GraphQL pipeline through `ShopifyState::graphql`, and the HTTP surface through a
//! running sandbox and a raw HTTP/1.1 client (the sandbox has no HTTP client dependency).

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::store::StockChange;
use super::*;

pub(super) const TOKEN: &str = "shpat_sandbox_demo";
const STAMP: &str = "2026-11-01T00:00:00Z";

const LEVELS_SINCE: &str = r#"
query LevelsSince($location: ID!, $query: String!, $after: String) {
  location(id: $location) { inventoryLevels(first: 250, after: $after, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes { updatedAt item { id } quantities(names: ["available"]) { name quantity } } } } }"#;

const BULK_INNER: &str = r#"{ productVariants { edges { node { id sku updatedAt product { id status } inventoryItem { id tracked inventoryLevels { edges { node { updatedAt location { id } quantities(names: ["available"]) { name quantity } } } } } } } } }"#;

pub(super) fn fixture() -> ShopifyFixture {
    serde_json::from_value(json!({
        "shop": "demo-outfitters.myshopify.com",
        "name": "Demo Outfitters",
        "access_token": TOKEN,
        "client_id": "sandbox-app", "client_secret": "shpss_sandbox_secret",
        "updated_at": STAMP,
        "locations": [{"id": 1, "name": "Warehouse", "active": true},
                      {"id": 2, "name": "Shop", "active": true}],
        "products": [
            {"id": 100, "title": "Linen Shirt", "status": "ACTIVE", "variants": [
                {"id": 1001, "title": "S / White", "sku": "LS-WHT-S", "tracked": true,
                 "inventory_item_id": 5001, "available": {"1": 7, "2": 1}},
                {"id": 1002, "title": "M / White", "sku": "LS-WHT-M", "tracked": true,
                 "inventory_item_id": 5002, "available": {"1": 0}}]},
            {"id": 200, "title": "Cap", "status": "DRAFT", "variants": [
                {"id": 2001, "sku": "", "tracked": false, "inventory_item_id": 6001}]}
        ]
    }))
    .expect("test fixture parses")
}

pub(super) fn gql(st: &mut ShopifyState, query: &str, variables: Value) -> Value {
    let body = json!({"query": query, "variables": variables}).to_string();
    let (status, reply, _) = st.graphql(
        Some(TOKEN),
        Some("application/json"),
        body.as_bytes(),
        "http://sb",
    );
    assert_eq!(status, StatusCode::OK);
    assert!(reply["extensions"]["cost"].is_object(), "{reply}");
    reply
}

fn ids(nodes: &Value) -> Vec<&str> {
    nodes
        .as_array()
        .expect("a list")
        .iter()
        .map(|n| n["id"].as_str().expect("an id"))
        .collect()
}

#[test]
fn variants_page_through_by_id() {
    let mut st = ShopifyState::new(fixture());
    let q = r#"query($after: String) { productVariants(first: 2, after: $after) {
        pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { id } }
        nodes { id sku displayName inventoryQuantity inventoryPolicy product { status } inventoryItem { id tracked } } } }"#;
    let page = gql(&mut st, q, json!({}));
    let conn = &page["data"]["productVariants"];
    assert_eq!(
        ids(&conn["nodes"]),
        [
            "gid://shopify/ProductVariant/1001",
            "gid://shopify/ProductVariant/1002"
        ]
    );
    assert_eq!(conn["nodes"][0]["inventoryQuantity"], 8);
    assert_eq!(conn["nodes"][0]["displayName"], "Linen Shirt - S / White");
    assert_eq!(conn["nodes"][0]["inventoryPolicy"], "DENY");
    assert_eq!(
        conn["nodes"][1]["inventoryItem"]["id"],
        "gid://shopify/InventoryItem/5002"
    );
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    assert_eq!(conn["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(conn["pageInfo"]["endCursor"], conn["edges"][1]["cursor"]);

    let next = gql(&mut st, q, json!({"after": conn["pageInfo"]["endCursor"]}));
    let conn = &next["data"]["productVariants"];
    assert_eq!(ids(&conn["nodes"]), ["gid://shopify/ProductVariant/2001"]);
    assert_eq!(conn["nodes"][0]["sku"], "");
    assert_eq!(conn["nodes"][0]["product"]["status"], "DRAFT");
    assert_eq!(conn["nodes"][0]["inventoryItem"]["tracked"], false);
    assert_eq!(conn["pageInfo"]["hasNextPage"], false);
    assert_eq!(conn["pageInfo"]["hasPreviousPage"], true);
}

#[test]
fn variants_filter_by_sku_status_and_product_changes() {
    let mut st = ShopifyState::new(fixture());
    let q = "query($q: String!) { productVariants(first: 250, query: $q) { nodes { id sku } } }";
    let found = |st: &mut ShopifyState, search: &str| {
        let reply = gql(st, q, json!({"q": search}));
        ids(&reply["data"]["productVariants"]["nodes"])
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        found(&mut st, "sku:'LS-WHT-M'"),
        ["gid://shopify/ProductVariant/1002"]
    );
    assert_eq!(
        found(&mut st, r#"sku:"LS-WHT-S" OR sku:"LS-WHT-M""#).len(),
        2
    );
    assert_eq!(
        found(&mut st, "product_status:draft"),
        ["gid://shopify/ProductVariant/2001"]
    );
    assert_eq!(found(&mut st, "id:>1001").len(), 2);
    let since = format!("updated_at:>'{STAMP}'");
    assert!(found(&mut st, &since).is_empty());
    // A product change surfaces its variants in an incremental read.
    let at = store::now();
    st.catalog
        .set_product_status(100, ProductStatus::Archived, at)
        .unwrap();
    assert_eq!(found(&mut st, &since).len(), 2);
}

#[test]
fn inventory_levels_since_returns_only_changed_levels() {
    let mut st = ShopifyState::new(fixture());
    let vars = |q: String| json!({"location": "gid://shopify/Location/1", "query": q});
    let since = format!("updated_at:>'{STAMP}'");
    let reply = gql(&mut st, LEVELS_SINCE, vars(since.clone()));
    let levels = &reply["data"]["location"]["inventoryLevels"];
    assert_eq!(levels["nodes"], json!([]));
    assert_eq!(
        levels["pageInfo"],
        json!({"hasNextPage": false, "endCursor": null})
    );

    let change = |sku: &str, location_id, available| StockChange {
        sku: Some(sku.into()),
        inventory_item_id: None,
        location_id: Some(location_id),
        available,
    };
    let at = store::now();
    let changes = [change("LS-WHT-M", 1, 3), change("LS-WHT-S", 2, 9)];
    st.catalog.set_inventory(&changes, at).unwrap();

    let reply = gql(&mut st, LEVELS_SINCE, vars(since));
    let nodes = &reply["data"]["location"]["inventoryLevels"]["nodes"];
    assert_eq!(
        nodes,
        &json!([{"updatedAt": resolve::time(at), "item": {"id": "gid://shopify/InventoryItem/5002"},
                 "quantities": [{"name": "available", "quantity": 3}]}])
    );
    // Requested: location 1 + connection 2 + 250 × (level 1 + item 1 + one quantity 1).
    let cost = &reply["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 753);
    assert_eq!(cost["actualQueryCost"], 6);
    let ts = &cost["throttleStatus"];
    assert_eq!(ts["maximumAvailable"], 2000.0);
    // Full bucket minus the actual costs so far (3, then 6), plus a little refill.
    assert!((1991..2000).contains(&ts["currentlyAvailable"].as_u64().unwrap()));

    // An earlier watermark sees every level at the location.
    let all = gql(
        &mut st,
        LEVELS_SINCE,
        vars("updated_at:>='2026-01-01'".into()),
    );
    assert_eq!(
        all["data"]["location"]["inventoryLevels"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn levels_report_requested_quantity_names() {
    let mut st = ShopifyState::new(fixture());
    let q = r#"{ productVariants(first: 1) { nodes { inventoryItem {
        inventoryLevel(locationId: "gid://shopify/Location/1") { id location { name }
          quantities(names: ["on_hand", "incoming", "available", "committed"]) { name quantity } } } } } }"#;
    let reply = gql(&mut st, q, json!({}));
    let level = &reply["data"]["productVariants"]["nodes"][0]["inventoryItem"]["inventoryLevel"];
    assert_eq!(
        level["id"],
        "gid://shopify/InventoryLevel/1?inventory_item_id=5001"
    );
    assert_eq!(level["location"]["name"], "Warehouse");
    assert_eq!(
        level["quantities"],
        json!([{"name": "on_hand", "quantity": 7}, {"name": "available", "quantity": 7},
               {"name": "committed", "quantity": 0}])
    );
}

#[test]
fn invalid_documents_get_graphql_errors_without_data() {
    let mut st = ShopifyState::new(fixture());
    let reply = gql(
        &mut st,
        "{ productVariants(first: 1) { nodes { id nope } } }",
        json!({}),
    );
    assert!(reply.get("data").is_none());
    let e = &reply["errors"][0];
    assert_eq!(e["extensions"]["code"], "undefinedField", "{reply}");
    assert_eq!(e["locations"], json!([{"line": 1, "column": 42}]));

    let reply = gql(&mut st, "{ shop { name ", json!({}));
    assert!(reply["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("syntax error"));

    let reply = gql(&mut st, "query($q: String!) { shop { name } productVariants(first: 1, query: $q) { nodes { id } } }", json!({}));
    assert!(reply.get("data").is_none());
    assert_eq!(reply["errors"].as_array().unwrap().len(), 1);
}

#[test]
fn pagination_arguments_are_checked_before_running() {
    let mut st = ShopifyState::new(fixture());
    let message = |st: &mut ShopifyState, q: &str| {
        let reply = gql(st, q, json!({}));
        assert!(reply.get("data").is_none(), "{reply}");
        reply["errors"][0]["message"].as_str().unwrap().to_string()
    };
    assert_eq!(
        message(&mut st, "{ productVariants { nodes { id } } }"),
        "you must provide one of first or last"
    );
    assert!(
        message(&mut st, "{ locations(first: 251) { nodes { id } } }")
            .contains("cannot exceed 250")
    );
    assert!(message(
        &mut st,
        r#"{ locations(first: 1, after: "bogus") { nodes { id } } }"#
    )
    .contains("cursor"));
}

#[test]
fn over_the_single_query_limit_is_refused() {
    let mut st = ShopifyState::new(fixture());
    let q = "{ productVariants(first: 250) { nodes { inventoryItem { inventoryLevels(first: 10) { nodes { id } } } } } }";
    let reply = gql(&mut st, q, json!({}));
    assert!(reply.get("data").is_none());
    assert_eq!(
        reply["errors"][0]["extensions"]["code"],
        cost::MAX_COST_EXCEEDED
    );
    // 2 + 250 × (variant 1 + item 1 + levels 2 + 10 × level 1)
    assert_eq!(reply["extensions"]["cost"]["requestedQueryCost"], 3502);
}

#[test]
fn an_empty_bucket_throttles_without_data() {
    let mut st = ShopifyState::new(fixture());
    let q = "{ shop { name myshopifyDomain } }";
    assert_eq!(
        gql(&mut st, q, json!({}))["data"]["shop"]["name"],
        "Demo Outfitters"
    );
    st.buckets.get_mut(TOKEN).unwrap().drain();
    let reply = gql(&mut st, q, json!({}));
    assert!(reply.get("data").is_none());
    assert_eq!(reply["errors"][0]["message"], "Throttled");
    assert_eq!(reply["errors"][0]["extensions"]["code"], "THROTTLED");
    let cost = &reply["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 1);
    assert_eq!(cost["actualQueryCost"], Value::Null);
    assert_eq!(cost["throttleStatus"]["restoreRate"], 100.0);
}

fn run_bulk(st: &mut ShopifyState, inner: &str) -> Value {
    let m = "mutation Run($q: String!) { bulkOperationRunQuery(query: $q) {
        bulkOperation { id status url } userErrors { code field message } } }";
    let reply = gql(st, m, json!({"q": inner}));
    assert_eq!(reply["extensions"]["cost"]["requestedQueryCost"], 13);
    reply["data"]["bulkOperationRunQuery"].clone()
}

fn poll(st: &mut ShopifyState) -> Value {
    let q = "{ currentBulkOperation(type: QUERY) { id status url objectCount rootObjectCount fileSize completedAt } }";
    gql(st, q, json!({}))["data"]["currentBulkOperation"].clone()
}

#[test]
fn bulk_query_flattens_nested_connections_into_jsonl() {
    let mut st = ShopifyState::new(fixture());
    let run = run_bulk(&mut st, BULK_INNER);
    assert_eq!(run["userErrors"], json!([]));
    assert_eq!(run["bulkOperation"]["status"], "CREATED");
    assert_eq!(run["bulkOperation"]["url"], Value::Null);
    let busy = run_bulk(&mut st, BULK_INNER);
    assert_eq!(busy["bulkOperation"], Value::Null);
    assert_eq!(busy["userErrors"][0]["code"], "OPERATION_IN_PROGRESS");

    assert_eq!(poll(&mut st)["status"], "RUNNING");
    let done = poll(&mut st);
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["id"], "gid://shopify/BulkOperation/1");
    assert_eq!(done["url"], "http://sb/shopify-bulk/1.jsonl");
    assert!(done["completedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        (
            done["objectCount"].as_str(),
            done["rootObjectCount"].as_str()
        ),
        (Some("6"), Some("3"))
    );

    let file = st.bulk.file(1).expect("the result file");
    assert_eq!(done["fileSize"], file.len().to_string());
    let lines: Vec<Value> = std::str::from_utf8(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let v1001 = "gid://shopify/ProductVariant/1001";
    assert_eq!(
        lines[0],
        json!({"id": v1001, "sku": "LS-WHT-S", "updatedAt": STAMP,
               "product": {"id": "gid://shopify/Product/100", "status": "ACTIVE"},
               "inventoryItem": {"id": "gid://shopify/InventoryItem/5001", "tracked": true}})
    );
    assert_eq!(
        lines[1],
        json!({"updatedAt": STAMP, "location": {"id": "gid://shopify/Location/1"},
               "quantities": [{"name": "available", "quantity": 7}], "__parentId": v1001})
    );
    assert_eq!(lines[2]["location"]["id"], "gid://shopify/Location/2");
    assert_eq!(lines[2]["__parentId"], v1001);
    assert_eq!(lines[3]["id"], "gid://shopify/ProductVariant/1002");
    assert_eq!(lines[4]["__parentId"], "gid://shopify/ProductVariant/1002");
    assert_eq!(lines[5]["id"], "gid://shopify/ProductVariant/2001");
    assert_eq!(lines.len(), 6);
    // `__parentId` is the last key of a line, as in Shopify's files.
    assert!(std::str::from_utf8(&file)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .ends_with(&format!(",\"__parentId\":\"{v1001}\"}}")));

    // The next operation may start once this one completed.
    let again = run_bulk(&mut st, "{ locations { edges { node { id name } } } }");
    assert_eq!(
        again["bulkOperation"]["id"],
        "gid://shopify/BulkOperation/2"
    );
}

#[test]
fn bulk_queries_are_checked() {
    let mut st = ShopifyState::new(fixture());
    let refused = |st: &mut ShopifyState, inner: &str| {
        let run = run_bulk(st, inner);
        assert_eq!(run["bulkOperation"], Value::Null, "{inner}");
        assert_eq!(run["userErrors"][0]["code"], "INVALID");
        assert_eq!(run["userErrors"][0]["field"], json!(["query"]));
        run["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(refused(&mut st, "{ shop { name } }").contains("at least one connection"));
    assert!(refused(&mut st, r#"{ node(id: "x") { id } }"#).contains("node"));
    assert!(
        refused(&mut st, "{ productVariants { edges { node { nope } } } }")
            .contains("Invalid bulk query")
    );
    let deep = "{ locations { edges { node { inventoryLevels { edges { node { item { inventoryLevels { edges { node { id } } } } } } } } } } }";
    assert!(refused(&mut st, deep).contains("nesting depth"));
    let wide = "{ a: locations { nodes { id } } b: locations { nodes { id } } c: locations { nodes { id } }
                  d: locations { nodes { id } } e: locations { nodes { id } } f: locations { nodes { id } } }";
    assert!(refused(&mut st, wide).contains("more than 5"));
}

#[test]
fn generated_store_has_the_shared_sku_names() {
    let st = ShopifyState::new(ShopifyFixture::generate(12));
    let dump = st.dump();
    let variants = dump["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 12);
    assert_eq!(variants[0]["sku"], "SKU-000001");
    assert_eq!(variants[11]["sku"], "SKU-000012");
    assert_eq!(st.catalog.products.len(), 3);
    assert_eq!(st.plan, Plan::Plus);
    assert!(variants
        .iter()
        .all(|v| (0..50).contains(&v["available"]["gid://shopify/Location/1"].as_i64().unwrap())));
    // Deterministic: the same store every time.
    assert_eq!(ShopifyState::new(ShopifyFixture::generate(12)).dump(), dump);
}

#[test]
fn dump_lists_locations_and_variants() {
    let st = ShopifyState::new(fixture());
    let dump = st.dump();
    assert_eq!(
        dump["locations"][0],
        json!({"id": "gid://shopify/Location/1", "name": "Warehouse", "active": true})
    );
    assert_eq!(
        dump["variants"][0],
        json!({"id": "gid://shopify/ProductVariant/1001", "sku": "LS-WHT-S",
               "product_id": "gid://shopify/Product/100", "product_status": "ACTIVE", "tracked": true,
               "inventory_item_id": "gid://shopify/InventoryItem/5001",
               "available": {"gid://shopify/Location/1": 7, "gid://shopify/Location/2": 1}})
    );
}

/// A minimal HTTP/1.1 exchange; the sandbox answers with a known length and we close.
pub(super) async fn http(
    addr: std::net::SocketAddr,
    request_head: &str,
    body: &str,
) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{request_head}\r\nHost: sandbox\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(!head.to_ascii_lowercase().contains("chunked"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// The sandbox serving `fixture()` on a free port.
pub(super) async fn running() -> crate::Sandbox {
    let fixture = crate::Fixture {
        shopify: fixture(),
        ..Default::default()
    };
    crate::start(fixture, "127.0.0.1:0".parse().unwrap(), Default::default())
        .await
        .unwrap()
}

/// The request head of a GraphQL call to API `version` with `token`.
fn graphql_head(version: &str, token: &str) -> String {
    format!(
        "POST /admin/api/{version}/graphql.json HTTP/1.1\r\nContent-Type: application/json\r\nX-Shopify-Access-Token: {token}"
    )
}

pub(super) async fn post_graphql(
    addr: std::net::SocketAddr,
    token: &str,
    query: &str,
) -> (u16, String) {
    let head = graphql_head("2026-04", token);
    http(addr, &head, &json!({"query": query}).to_string()).await
}

#[tokio::test]
async fn http_auth_tokens_and_bulk_download() {
    let sb = running().await;
    let addr = sb.addr;
    let shop = "query ShopName { shop { name } }";

    let (status, body) = post_graphql(addr, "shpat_wrong", shop).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#
    );
    let (status, _) = http(
        addr,
        "POST /admin/api/2026-04/graphql.json HTTP/1.1\r\nContent-Type: text/plain",
        shop,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = post_graphql(addr, TOKEN, shop).await;
    assert_eq!(status, 200);
    let head = graphql_head("latest", TOKEN);
    let (status, _) = http(addr, &head, &json!({"query": shop}).to_string()).await;
    assert_eq!(status, 404);

    let form = "POST /admin/oauth/access_token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded";
    let (status, body) = http(
        addr,
        form,
        "grant_type=client_credentials&client_id=sandbox-app&client_secret=nope",
    )
    .await;
    assert_eq!(
        (
            status,
            serde_json::from_str::<Value>(&body).unwrap()["error"].clone()
        ),
        (400, json!("invalid_client"))
    );
    let (status, body) = http(
        addr,
        form,
        "grant_type=client_credentials&client_id=sandbox-app&client_secret=shpss_sandbox_secret",
    )
    .await;
    assert_eq!(status, 200);
    let minted: Value = serde_json::from_str(&body).unwrap();
    let minted = minted["access_token"].as_str().unwrap().to_string();
    // The bulk inner query has no `first`: fine in a bulk operation only.
    let (status, body) = post_graphql(addr, &minted, BULK_INNER).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("you must provide one of first or last"),
        "{body}"
    );
    let run = json!({"query": "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } } }",
                     "variables": {"q": BULK_INNER}});
    let head = graphql_head("unstable", &minted);
    let (status, _) = http(addr, &head, &run.to_string()).await;
    assert_eq!(status, 200);
    let (status, body) = http(addr, "GET /shopify-bulk/1.jsonl HTTP/1.1", "").await;
    assert_eq!(status, 200);
    assert_eq!(body.lines().count(), 6);

    let (status, _) = http(addr, "POST /_sandbox/shopify/expire-tokens HTTP/1.1", "").await;
    assert_eq!(status, 200);
    let (status, _) = post_graphql(addr, &minted, shop).await;
    assert_eq!(status, 401);

    let counts = sb.app.counts.lock().unwrap().clone();
    assert_eq!(counts.get("graphql ShopName"), Some(&1));
    assert_eq!(counts.get("graphql bulkOperationRunQuery"), Some(&1));
}

#[tokio::test]
async fn http_control_changes_stock_and_refuses_unknown_skus() {
    let sb = running().await;
    let json_head = |line: &str| format!("{line} HTTP/1.1\r\nContent-Type: application/json");
    let inventory = json_head("POST /_sandbox/shopify/inventory");
    let (status, body) = http(sb.addr, &inventory, r#"[{"sku":"NOPE","available":1}]"#).await;
    assert_eq!(status, 404);
    assert!(body.contains("NOPE"));
    let (status, _) = http(
        sb.addr,
        &inventory,
        r#"[{"inventory_item_id":5002,"location_id":2,"available":4}]"#,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = http(
        sb.addr,
        &json_head("PATCH /_sandbox/shopify/variants/1002"),
        r#"{"sku":null,"tracked":false}"#,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = http(
        sb.addr,
        &json_head("PATCH /_sandbox/shopify/products/100"),
        r#"{"status":"draft"}"#,
    )
    .await;
    assert_eq!(status, 200);
    let product = r#"{"id": 300, "title": "Sock", "variants": [{"id": 3001, "sku": "SOCK", "inventory_item_id": 7001, "available": {"1": 2}}]}"#;
    let (status, _) = http(
        sb.addr,
        &json_head("POST /_sandbox/shopify/products"),
        product,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = http(
        sb.addr,
        &json_head("POST /_sandbox/shopify/products"),
        product,
    )
    .await;
    assert_eq!(status, 409);

    let dump = sb.app.shopify.lock().unwrap().dump();
    let v = &dump["variants"][1];
    assert_eq!(
        (&v["sku"], &v["tracked"], &v["product_status"]),
        (&Value::Null, &json!(false), &json!("DRAFT"))
    );
    assert_eq!(v["available"]["gid://shopify/Location/2"], 4);
    assert_eq!(dump["variants"][3]["sku"], "SOCK");
}

#[tokio::test]
async fn http_orders_are_created_counted_dumped_cancelled_and_edited() {
    let sb = running().await;
    let create = r#"mutation CreateOrder { orderCreate(order: {sourceIdentifier: "iconic:9",
        lineItems: [{variantId: "gid://shopify/ProductVariant/1001", quantity: 2,
          priceSet: {shopMoney: {amount: "19.99", currencyCode: AUD}}}]},
        options: {inventoryBehaviour: DECREMENT_OBEYING_POLICY}) {
        order { id lineItems(first: 1) { nodes { id } } } userErrors { code } } }"#;
    let (status, body) = post_graphql(sb.addr, TOKEN, create).await;
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    let order = &reply["data"]["orderCreate"]["order"];
    assert_eq!(order["id"], "gid://shopify/Order/1", "{body}");
    let line_id = order["lineItems"]["nodes"][0]["id"].as_str().unwrap();
    let line = line_id.rsplit('/').next().unwrap();
    assert_eq!(sb.app.counts.lock().unwrap()["graphql CreateOrder"], 1);

    let json_head = |line: &str| format!("{line} HTTP/1.1\r\nContent-Type: application/json");
    let path = format!("PATCH /_sandbox/shopify/orders/1/line-items/{line}");
    let (status, _) = http(sb.addr, &json_head(&path), r#"{"current_quantity": 1}"#).await;
    assert_eq!(status, 200);
    let path = "PATCH /_sandbox/shopify/orders/1/line-items/999";
    let (status, _) = http(sb.addr, &json_head(path), r#"{"current_quantity": 1}"#).await;
    assert_eq!(status, 404);
    let cancel = json_head("POST /_sandbox/shopify/orders/1/cancel");
    assert_eq!(http(sb.addr, &cancel, "").await.0, 200);
    assert_eq!(http(sb.addr, &cancel, "").await.0, 409);

    let (status, body) = http(sb.addr, "GET /_sandbox/shopify/orders HTTP/1.1", "").await;
    assert_eq!(status, 200);
    let orders: Value = serde_json::from_str(&body).unwrap();
    let o = &orders[0];
    assert_eq!((&o["name"], &o["edited"]), (&json!("#1001"), &json!(true)));
    assert!(o["cancelled_at"].is_string());
    assert_eq!(o["line_items"][0]["current_quantity"], 1);
    assert_eq!(o["total_price"], "39.98");
    let dump = sb.app.shopify.lock().unwrap().dump();
    assert_eq!(dump["orders"], orders);
    assert_eq!(
        dump["variants"][0]["available"]["gid://shopify/Location/1"],
        5
    );
}

#[test]
fn operation_name_picks_the_operation_and_the_count_label() {
    let mut st = ShopifyState::new(fixture());
    let doc = "query A { shop { name } } query B { locations(first: 5) { nodes { name } } }";
    let body = json!({"query": doc, "operationName": "B"}).to_string();
    let (_, reply, label) = st.graphql(
        Some(TOKEN),
        Some("application/json; charset=utf-8"),
        body.as_bytes(),
        "",
    );
    assert_eq!(
        reply["data"],
        json!({"locations": {"nodes": [{"name": "Warehouse"}, {"name": "Shop"}]}})
    );
    assert_eq!(label.as_deref(), Some("B"));
    let body = json!({"query": "{ shop { name } }"}).to_string();
    let (_, _, label) = st.graphql(Some(TOKEN), Some("application/json"), body.as_bytes(), "");
    assert_eq!(label.as_deref(), Some("shop"));
}

#[test]
fn the_served_schema_parses() {
    assert!(graphql::schema().types.contains_key("InventoryLevel"));
}

#[test]
fn every_field_of_the_served_schema_resolves() {
    use apollo_compiler::response::{JsonMap, JsonValue};
    use apollo_compiler::schema::ExtendedType;
    use resolve::{Ctx, Obj, Out};
    use std::rc::Rc;

    let mut st = ShopifyState::new(fixture());
    let order = json!({"lineItems": [{"variantId": "gid://shopify/ProductVariant/1001", "quantity": 1}],
        "shippingLines": [{"title": "Standard", "priceSet": {"shopMoney": {"amount": "1", "currencyCode": "AUD"}}}],
        "shippingAddress": {"city": "Sydney"}, "customAttributes": [{"key": "k", "value": "v"}]});
    let created = gql(
        &mut st,
        "mutation($o: OrderCreateOrderInput!) { orderCreate(order: $o) { order { id } } }",
        json!({"o": order}),
    );
    assert_eq!(
        created["data"]["orderCreate"]["order"]["id"],
        "gid://shopify/Order/1"
    );
    let refused = gql(
        &mut st,
        "mutation { orderCreate(order: {lineItems: [{quantity: 0, title: \"x\"}]}) { order { id } } }",
        json!({}),
    );
    assert!(refused["data"]["orderCreate"]["order"].is_null());
    let tracking = fulfil::Tracking {
        number: Some("TRK1".into()),
        ..Default::default()
    };
    let fulfilment = st.catalog.orders.fulfil(1, tracking, None, store::now());
    let fulfilment = fulfilment.expect("the new order can be fulfilled");
    let ran = st.bulk.run(&st.catalog, BULK_INNER, store::now(), "");
    let refused = st.bulk.run(&st.catalog, BULK_INNER, store::now(), "");
    let cat = &st.catalog;
    let ctx = Ctx { cat, bulk: false };
    let query = Obj::Query(ctx, Some(&st.bulk));
    let first: JsonMap = match JsonValue::from(json!({"first": 1})) {
        JsonValue::Object(map) => map,
        _ => unreachable!(),
    };
    fn connection<'s>(parent: &Obj<'s>, field: &str, args: &JsonMap) -> Obj<'s> {
        match parent.resolve(field, args) {
            Some(Out::Object(conn @ Obj::Connection(_))) => conn,
            _ => panic!("{field} is a connection"),
        }
    }
    let (v, location) = (&cat.variants[&1001], &cat.locations[&1]);
    let level = &v.levels[&1];
    let location_obj = Obj::Location(ctx, location);
    let mut samples = vec![
        query.clone(),
        Obj::Shop(cat),
        location_obj.clone(),
        Obj::Product(&cat.products[&100]),
        Obj::Variant(ctx, v),
        Obj::Item(ctx, v),
        Obj::Level(ctx, v, 1, level),
        Obj::Quantity(v, 1, level, "available"),
        Obj::BulkOperation(Rc::new(ran.operation.clone().unwrap())),
        Obj::UserError(Rc::new(refused), 0),
        Obj::RunPayload(Rc::new(ran)),
    ];
    let o = &cat.orders.orders[&1];
    let (line, ship) = (
        &o.line_items.values().next(),
        &o.shipping_lines.values().next(),
    );
    let (line, ship) = (line.unwrap(), ship.unwrap());
    let refused = Rc::new(orders::CreatePayload {
        order: None,
        errors: vec![orders::UserError {
            code: "INVALID",
            field: vec!["lineItems".into()],
            message: "m",
        }],
    });
    samples.extend([
        Obj::Order(ctx, o),
        Obj::LineItem(ctx, o, line),
        Obj::ShippingLine(o, ship),
        Obj::Address(o, o.shipping_address.as_ref().unwrap()),
        Obj::Attribute("k", "v"),
        Obj::MoneyBag(orders::Amount::default(), "AUD"),
        Obj::Money(orders::Amount::default(), "AUD"),
        Obj::OrderCreatePayload(ctx, refused.clone()),
        Obj::OrderCreateUserError(refused, 0),
    ]);
    let f = &o.fulfillments[&fulfilment];
    let fulfilment_obj = Obj::Fulfillment(ctx, o, f);
    samples.extend([
        fulfilment_obj.clone(),
        Obj::TrackingInfo(&f.tracking),
        Obj::FulfillmentLineItem(ctx, o, f.lines.values().next().unwrap()),
    ]);
    let order_obj = Obj::Order(ctx, o);
    for conn in [
        connection(&query, "locations", &first),
        connection(&query, "productVariants", &first),
        connection(&location_obj, "inventoryLevels", &first),
        connection(&query, "orders", &first),
        connection(&order_obj, "lineItems", &first),
        connection(&order_obj, "shippingLines", &first),
        connection(&fulfilment_obj, "fulfillmentLineItems", &first),
    ] {
        let Obj::Connection(page) = &conn else {
            unreachable!()
        };
        samples.push(Obj::Edge(page.clone(), 0));
        samples.push(Obj::PageInfo(page.clone()));
        samples.push(conn);
    }
    let mut checked = 0;
    for (name, ty) in &graphql::schema().types {
        let ExtendedType::Object(def) = ty else {
            continue;
        };
        if name.starts_with("__") || name == "Mutation" {
            continue;
        }
        let sample = samples.iter().find(|s| s.type_name() == name.as_str());
        let sample = sample.unwrap_or_else(|| panic!("no sample of {name}"));
        for field in def.fields.keys() {
            assert!(sample.resolve(field, &first).is_some(), "{name}.{field}");
            checked += 1;
        }
    }
    assert!(checked > 130, "{checked}");
}
