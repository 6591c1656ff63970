//! The Mirakl API driven in-process, end to end: auth, paging, limits, exports, stock
//! imports, orders and the control routes.

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;

use super::*;
use crate::in_process::{InProcess, Reply};
use crate::Fixture;

const KEY: &str = "5e1f-shop-key";
const BOUNDARY: &str = "sandbox-form-boundary";

/// Every frequency limit lifted (tests that exercise one put it back).
fn no_limits() -> BTreeMap<Limit, u64> {
    serde_json::from_value(json!({"A01": 0, "OF21": 0, "OF52_FULL": 0,
        "OF52_DIFFERENTIAL": 0, "OF53": 0, "OF54": 0, "STO01": 0, "STO02": 0, "STO03": 0,
        "SH21": 0, "OR11": 0, "OR21": 0, "OR23": 0, "OR24": 0}))
    .unwrap()
}

fn fixture(offers: usize) -> MiraklFixture {
    MiraklFixture {
        shop_id: 7,
        api_key: ApiKey::new(KEY),
        frequency_limits: no_limits(),
        ..MiraklFixture::generate(offers)
    }
}

/// A WAITING_ACCEPTANCE order of `SKU-000001` ×2 at 19.95 (+5 shipping) and
/// `SKU-000002` ×1 at 10, created and updated `at`.
fn order(id: &str, at: &str) -> Value {
    json!({"order_id": id, "created_date": at, "lines": [
        {"offer_sku": "SKU-000001", "quantity": 2, "unit_price": "19.95",
            "shipping_price": "5"},
        {"offer_sku": "SKU-000002", "quantity": 1, "unit_price": "10.00"}]})
}

fn with_orders(orders: Value) -> MiraklFixture {
    MiraklFixture {
        orders: serde_json::from_value(orders).unwrap(),
        ..fixture(3)
    }
}

/// One [`order`], `1001-A`.
fn one_order(at: &str) -> MiraklFixture {
    with_orders(json!([order("1001-A", at)]))
}

impl Reply {
    /// Asserts an error with this status and returns its message.
    fn fails_with(&self, status: StatusCode) -> &str {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.headers[CONTENT_TYPE], "application/json");
        assert_eq!(self.body["status"], status.as_u16(), "{}", self.body);
        self.body["message"].as_str().unwrap()
    }

    /// Asserts a 400 with this error code and returns its message.
    fn fails_coded(&self, code: &str) -> &str {
        assert_eq!(self.body["code"], code, "{}", self.body);
        self.fails_with(StatusCode::BAD_REQUEST)
    }

    fn answer(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        &self.body
    }

    fn body_text(&self) -> &str {
        std::str::from_utf8(&self.bytes).unwrap()
    }
}

struct Harness(InProcess);

impl Harness {
    async fn start(mirakl: MiraklFixture) -> Self {
        let fixture = Fixture {
            mirakl,
            ..Fixture::default()
        };
        Self(InProcess::start(fixture).await)
    }

    async fn call(&self, method: &str, uri: &str, key: Option<&str>, body: Body) -> Reply {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(key) = key {
            headers.push(("authorization", key));
        }
        self.0.send(method, uri, &headers, body).await
    }

    async fn get(&self, uri: &str) -> Reply {
        self.call("GET", uri, Some(KEY), Body::empty()).await
    }

    async fn send(&self, method: &str, uri: &str, body: &Value) -> Reply {
        self.call(method, uri, Some(KEY), body.to_string().into())
            .await
    }

    /// A control-API request to `/_sandbox/mirakl/{path}` (no key: none is needed).
    async fn control(&self, method: &str, path: &str, body: &Value) -> Reply {
        let uri = format!("/_sandbox/mirakl/{path}");
        self.call(method, &uri, None, body.to_string().into()).await
    }

    /// Tells the channel to refuse calls (`{"operation", "message", "times"}`).
    async fn refuse(&self, refusal: Value) {
        self.control("POST", "refusals", &refusal).await.answer();
    }

    /// STO01 with `csv` as the `file` part.
    async fn upload(&self, csv: &str) -> Reply {
        let body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"stock.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{BOUNDARY}--\r\n"
        );
        let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
        let headers = [
            ("content-type", content_type.as_str()),
            ("authorization", KEY),
        ];
        let uri = "/mirakl/api/offers/stock/imports";
        self.0.send("POST", uri, &headers, body).await
    }

    async fn import_status(&self, id: &str) -> Value {
        let uri = format!("/mirakl/api/offers/stock/imports/{id}/status");
        self.get(&uri).await.answer().clone()
    }

    /// STO01 then STO02 once: the new import's first status.
    async fn import(&self, csv: &str) -> Value {
        let uploaded = self.upload(csv).await;
        self.import_status(uploaded.body["import_id"].as_str().unwrap())
            .await
    }

    /// OF52.
    async fn start_export(&self, request: &Value) -> Reply {
        self.send("POST", "/mirakl/api/offers/export/async", request)
            .await
    }

    /// OF52, which must succeed: its tracking id.
    async fn export_id(&self, request: &Value) -> String {
        let started = self.start_export(request).await;
        started.answer()["tracking_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// OF52 then OF53 until done: the final status.
    async fn export(&self, request: Value) -> Value {
        let id = self.export_id(&request).await;
        let uri = format!("/mirakl/api/offers/export/async/status/{id}");
        let first = self.get(&uri).await;
        assert_eq!(first.answer()["status"], "PENDING");
        assert_eq!(first.body["urls"], json!([]));
        self.get(&uri).await.answer().clone()
    }

    /// Downloads a URL OF53 gave.
    async fn download(&self, url: &str) -> Reply {
        let path = url.strip_prefix(&self.0.sandbox.url()).unwrap();
        self.get(path).await
    }

    async fn orders(&self, query: &str) -> Value {
        self.get(&format!("/mirakl/api/orders?{query}"))
            .await
            .answer()
            .clone()
    }

    /// The first order OR11 lists for `query`.
    async fn first_order(&self, query: &str) -> Value {
        self.orders(query).await["orders"][0].clone()
    }

    fn dump(&self) -> Value {
        self.0.sandbox.app.mirakl.lock().unwrap().dump()
    }

    fn count(&self, label: &str) -> u64 {
        let counts = self.0.sandbox.app.counts.lock().unwrap();
        counts.get(label).copied().unwrap_or(0)
    }
}

fn skus(offers: &Value) -> Vec<&str> {
    offers
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["shop_sku"].as_str().unwrap())
        .collect()
}

fn order_ids(page: &Value) -> Vec<&str> {
    page["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn calls_want_the_raw_key_and_the_shops_own_id() {
    let h = Harness::start(fixture(2)).await;
    let account = h.get("/mirakl/api/account").await;
    assert_eq!(account.answer()["shop_id"], 7);
    assert_eq!(account.body["shop_name"], "Sandbox Shop");
    assert_eq!(account.body["offers_count"], 0);
    let bearer = format!("Bearer {KEY}");
    for key in [Some(bearer.as_str()), Some("wrong"), Some(""), None] {
        let reply = h
            .call("GET", "/mirakl/api/offers", key, Body::empty())
            .await;
        assert_eq!(reply.fails_with(StatusCode::UNAUTHORIZED), "Unauthorized");
    }
    h.get("/mirakl/api/offers?shop_id=7").await.answer();
    let other = h.get("/mirakl/api/offers?shop_id=8").await;
    assert!(other.fails_with(StatusCode::FORBIDDEN).contains('8'));
    h.get("/mirakl/api/orders?shop_id=seven")
        .await
        .fails_with(StatusCode::BAD_REQUEST);
    assert_eq!(h.count("mirakl A01"), 1);
    assert_eq!(h.count("mirakl OF21"), 6);
    assert_eq!(h.count("GET /mirakl/api/offers"), 6);
}

#[tokio::test]
async fn offers_page_by_max_and_offset_with_a_total_count() {
    let mut f = fixture(25);
    f.offers[2].quantity = 4;
    f.offers[4].state_code = Some("1".into());
    let h = Harness::start(f).await;
    let first = h.get("/mirakl/api/offers").await;
    assert_eq!(first.answer()["total_count"], 25);
    assert_eq!(first.body["offers"].as_array().unwrap().len(), 10);
    let last = h.get("/mirakl/api/offers?max=10&offset=20").await;
    assert_eq!(
        skus(&last.answer()["offers"]),
        [
            "SKU-000021",
            "SKU-000022",
            "SKU-000023",
            "SKU-000024",
            "SKU-000025"
        ]
    );
    let past = h.get("/mirakl/api/offers?offset=30").await;
    assert_eq!(past.answer()["offers"], json!([]));
    assert_eq!(past.body["total_count"], 25);
    for bad in ["max=101", "max=0", "max=ten", "offset=-1", "sort=price"] {
        let reply = h.get(&format!("/mirakl/api/offers?{bad}")).await;
        reply.fails_with(StatusCode::BAD_REQUEST);
    }
    let one = h.get("/mirakl/api/offers?sku=SKU-000003").await;
    assert_eq!(
        one.answer(),
        &json!({"total_count": 1, "offers": [{"offer_id": 3, "shop_sku": "SKU-000003",
            "product_sku": "SKU-000003", "product_title": "SKU-000003", "quantity": 4,
            "price": 29.95, "total_price": 29.95, "active": true, "inactivity_reasons": [],
            "state_code": "11", "last_updated": "2026-01-01T00:00:00.000Z"}]})
    );
    assert!(
        one.body_text().contains("\"price\":29.95"),
        "{}",
        one.body_text()
    );
    let empty = h.get("/mirakl/api/offers?sku=SKU-000001").await;
    assert_eq!(empty.answer()["offers"][0]["active"], false);
    assert_eq!(
        empty.body["offers"][0]["inactivity_reasons"],
        json!(["ZERO_QUANTITY"])
    );
    let used = h.get("/mirakl/api/offers?offer_state_codes=1,2").await;
    assert_eq!(skus(&used.answer()["offers"]), ["SKU-000005"]);
    let none = h.get("/mirakl/api/offers?sku=NOPE").await;
    assert_eq!(none.answer()["total_count"], 0);
}

#[tokio::test]
async fn exports_are_pending_then_complete_in_chunks_of_every_offer() {
    let mut f = fixture(5);
    f.offers[1].quantity = 3;
    let h = Harness::start(f).await;
    let request = json!({"export_type": "application/json", "items_per_chunk": 2,
        "include_inactive_offers": true});
    let id = h.export_id(&request).await;
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(h.export_id(&request).await, id);
    let status_uri = format!("/mirakl/api/offers/export/async/status/{id}");
    assert_eq!(h.get(&status_uri).await.answer()["status"], "PENDING");
    let early = format!("/mirakl/api/offers/export/async/file/{id}?file=0.json");
    h.get(&early).await.fails_with(StatusCode::NOT_FOUND);
    let done = h.get(&status_uri).await.answer().clone();
    assert_eq!(done["status"], "COMPLETED");
    assert!(done.get("error").is_none());
    let urls: Vec<&str> = done["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), 3);
    let mut all = Vec::new();
    for url in &urls {
        let chunk = h.download(url).await;
        all.extend(chunk.answer().as_array().unwrap().iter().cloned());
    }
    assert_eq!(
        skus(&json!(all)),
        [
            "SKU-000001",
            "SKU-000002",
            "SKU-000003",
            "SKU-000004",
            "SKU-000005"
        ]
    );
    assert_eq!(all[1]["quantity"], 3);
    assert_eq!(all[1]["shop_id"], 7);
    assert_eq!(all[1]["currency_iso_code"], "AUD");
    assert_eq!(all[1]["deleted"], false);
    let beyond = urls[2].replace("file=2.json", "file=3.json");
    h.download(&beyond).await.fails_with(StatusCode::NOT_FOUND);
    h.get("/mirakl/api/offers/export/async/status/nope")
        .await
        .fails_with(StatusCode::NOT_FOUND);

    // A full export without include_inactive_offers leaves out offers without stock.
    let csv = h.export(json!({})).await;
    let urls = csv["urls"].as_array().unwrap();
    assert_eq!(urls.len(), 1);
    let chunk = h.download(urls[0].as_str().unwrap()).await;
    assert_eq!(chunk.headers[CONTENT_TYPE], "text/csv");
    assert_eq!(
        chunk.body_text(),
        "\"offer-id\";\"shop-sku\";\"product-sku\";\"price\";\"quantity\";\"state-code\";\
         \"shop-id\";\"active\";\"deleted\";\"currency-iso-code\"\n\
         \"2\";\"SKU-000002\";\"SKU-000002\";\"29.95\";\"3\";\"11\";\"7\";\"true\";\"false\";\"AUD\"\n"
    );
    assert_eq!(h.count("mirakl OF54"), 6);
    assert_eq!(h.count("mirakl OF52"), 3);
}

#[tokio::test]
async fn differential_exports_hold_only_what_changed_deleted_offers_flagged() {
    let h = Harness::start(fixture(4)).await;
    let patched = h
        .control("PATCH", "offers/SKU-000002", &json!({"quantity": 9}))
        .await;
    assert_eq!(patched.answer()["quantity"], 9);
    h.control("DELETE", "offers/SKU-000004", &json!({}))
        .await
        .answer();
    let since = json!({"export_type": "application/json",
        "last_request_date": "2026-02-01T00:00:00Z"});
    let status = h.export(since.clone()).await;
    let chunk = h.download(status["urls"][0].as_str().unwrap()).await;
    let rows = chunk.answer().as_array().unwrap();
    assert_eq!(skus(chunk.answer()), ["SKU-000002", "SKU-000004"]);
    assert_eq!(rows[0]["quantity"], 9);
    assert_eq!(
        rows[1],
        json!({"offer_id": 4, "shop_sku": "SKU-000004", "product_sku": "SKU-000004",
            "shop_id": 7, "active": false, "deleted": true})
    );
    // A deleted offer is gone from OF21.
    let listed = h.get("/mirakl/api/offers").await;
    assert_eq!(listed.answer()["total_count"], 3);
    let nothing = h
        .export(json!({"export_type": "application/json",
            "last_request_date": "2099-01-01T00:00:00Z"}))
        .await;
    assert_eq!(nothing["urls"], json!([]));
    let mut mixed = since;
    mixed["include_inactive_offers"] = json!(true);
    for bad in [
        mixed,
        json!({"export_type": "text/xml"}),
        json!({"items_per_chunk": 0}),
        json!({"channel_codes": ["x"]}),
    ] {
        h.start_export(&bad)
            .await
            .fails_with(StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn an_export_told_to_fail_says_failed_with_its_error() {
    let h = Harness::start(fixture(2)).await;
    h.control("POST", "exports/fail-next", &json!({"detail": "disk full"}))
        .await
        .answer();
    let failed = h.export(json!({})).await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["urls"], json!([]));
    assert_eq!(
        failed["error"],
        json!({"code": "EXPORT_FAILED", "detail": "disk full"})
    );
    let next = h.export(json!({})).await;
    assert_eq!(next["status"], "COMPLETED");
}

const STOCK_FILE: &str = "\"offer-sku\";\"quantity\"\r\n\
    \"SKU-000001\";\"5\"\r\n\
    SKU-000002;0\r\n\
    \r\n\
    \"NOPE\";\"3\"\r\n\
    \"SKU-000003\";\"-1\"\r\n\
    \"SKU-000003\";\"2\";\"extra\"\r\n\
    \"SKU-000003\";\"7\"";

#[tokio::test]
async fn stock_imports_apply_valid_lines_once_complete_and_report_the_rest() {
    let mut f = fixture(3);
    f.offers[1].quantity = 4;
    let h = Harness::start(f).await;
    let uploaded = h.upload(STOCK_FILE).await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    assert_eq!(uploaded.body, json!({"import_id": "1001"}));
    assert_eq!(h.dump()["offers"][0]["quantity"], 0);

    let waiting = h.import_status("1001").await;
    assert_eq!(waiting["status"], "WAITING");
    assert_eq!(waiting["shop_id"], 7);
    assert_eq!(waiting["has_error_report"], false);
    assert_eq!(h.import_status("1001").await["status"], "RUNNING");
    h.get("/mirakl/api/offers/stock/imports/1001/error_report")
        .await
        .fails_with(StatusCode::NOT_FOUND);
    assert_eq!(h.dump()["offers"][0]["quantity"], 0);
    let done = h.import_status("1001").await;
    assert_eq!(done["status"], "COMPLETE");
    assert_eq!(done["import_id"], "1001");
    assert_eq!(
        (
            done["lines_in_success"].clone(),
            done["lines_in_error"].clone()
        ),
        (json!(3), json!(3))
    );
    assert_eq!(done["has_error_report"], true);
    assert_eq!(h.import_status("1001").await, done);

    let offers = h.dump()["offers"].clone();
    let quantities: Vec<&Value> = offers
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["quantity"])
        .collect();
    assert_eq!(quantities, [5, 0, 7]);
    assert_ne!(offers[0]["last_updated"], "2026-01-01T00:00:00.000Z");
    assert_eq!(offers[1]["deleted"], false);
    let listed = h.get("/mirakl/api/offers?sku=SKU-000002").await;
    assert_eq!(listed.answer()["total_count"], 1);

    let report = h
        .get("/mirakl/api/offers/stock/imports/1001/error_report")
        .await;
    assert_eq!(report.status, StatusCode::OK);
    assert_eq!(report.headers[CONTENT_TYPE], "text/csv");
    assert_eq!(
        report.body_text(),
        "\"error-line\";\"error-message\";\"offer-sku\";\"quantity\"\n\
         \"5\";\"The offer \"\"NOPE\"\" does not exist\";\"NOPE\";\"3\"\n\
         \"6\";\"The quantity \"\"-1\"\" is not a whole number of 0 or more\";\"SKU-000003\";\"-1\"\n\
         \"7\";\"The line has 3 columns, the header 2\";\"SKU-000003\";\"2\";\"extra\"\n"
    );
    h.get("/mirakl/api/offers/stock/imports/1002/status")
        .await
        .fails_with(StatusCode::NOT_FOUND);
    h.get("/mirakl/api/offers/stock/imports/abc/status")
        .await
        .fails_with(StatusCode::NOT_FOUND);
    let imports = h.dump()["imports"].clone();
    assert_eq!(imports[0]["status"], "COMPLETE");
    assert_eq!(imports[0]["lines"][1], "\"SKU-000001\";\"5\"");
}

#[tokio::test]
async fn failed_held_and_unreadable_imports_apply_nothing() {
    let h = Harness::start(MiraklFixture {
        stock_import_reads: 0,
        ..fixture(2)
    })
    .await;
    h.control("POST", "imports/fail-next", &json!({}))
        .await
        .answer();
    let status = h.import("offer-sku;quantity\nSKU-000001;5").await;
    assert_eq!(status["status"], "FAILED");
    assert_eq!(status["has_error_report"], false);
    let unreadable = h.import("sku;qty\nSKU-000001;5").await;
    assert_eq!(unreadable["status"], "FAILED");
    let status = h
        .import("offer-sku;quantity;warehouse-code\nSKU-000001;5;SYD")
        .await;
    assert_eq!(
        (status["status"].clone(), status["lines_in_error"].clone()),
        (json!("COMPLETE"), json!(1))
    );
    assert_eq!(h.dump()["offers"][0]["quantity"], 0);

    h.control("POST", "imports/hold", &json!({})).await.answer();
    let held = h.upload("offer-sku;quantity\nSKU-000001;5").await;
    let id = held.body["import_id"].as_str().unwrap().to_string();
    for _ in 0..3 {
        assert_eq!(h.import_status(&id).await["status"], "WAITING");
    }
    assert_eq!(h.dump()["offers"][0]["quantity"], 0);
    h.control("POST", "imports/release", &json!({}))
        .await
        .answer();
    assert_eq!(h.import_status(&id).await["status"], "COMPLETE");
    assert_eq!(h.dump()["offers"][0]["quantity"], 5);

    let no_file = h
        .call(
            "POST",
            "/mirakl/api/offers/stock/imports",
            Some(KEY),
            "{}".into(),
        )
        .await;
    no_file.fails_with(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn calls_inside_their_frequency_limit_are_refused_429_until_reset() {
    let h = Harness::start(MiraklFixture {
        frequency_limits: BTreeMap::new(),
        ..fixture(2)
    })
    .await;
    let file = "offer-sku;quantity\nSKU-000001;5";
    assert_eq!(h.upload(file).await.status, StatusCode::CREATED);
    let again = h.upload(file).await;
    assert_eq!(
        again.fails_with(StatusCode::TOO_MANY_REQUESTS),
        "Too many requests"
    );
    assert_eq!(h.dump()["imports"].as_array().unwrap().len(), 1);
    assert_eq!(h.count("mirakl STO01"), 2);
    h.control("DELETE", "limits", &json!({})).await.answer();
    assert_eq!(h.upload(file).await.status, StatusCode::CREATED);

    // STO02 is limited per import.
    h.import_status("1001").await;
    h.import_status("1002").await;
    h.get("/mirakl/api/offers/stock/imports/1001/status")
        .await
        .fails_with(StatusCode::TOO_MANY_REQUESTS);
    // A full export a day, differential ones a minute apart.
    h.start_export(&json!({})).await.answer();
    h.start_export(&json!({"items_per_chunk": 5}))
        .await
        .fails_with(StatusCode::TOO_MANY_REQUESTS);
    let since = json!({"last_request_date": "2026-01-01T00:00:00Z"});
    h.start_export(&since).await.answer();
    // OR11 is not limited by default.
    for _ in 0..3 {
        h.orders("").await;
    }
}

#[tokio::test]
async fn orders_filter_by_state_ids_and_dates_with_update_overlap() {
    let mut shipped = order("1003-A", "2026-03-03T00:00:00Z");
    shipped["state"] = json!("SHIPPED");
    shipped["last_updated_date"] = json!("2026-03-09T23:57:00Z");
    let mut old = order("1002-A", "2026-03-02T00:00:00Z");
    old["last_updated_date"] = json!("2026-03-09T23:54:00Z");
    let h = Harness::start(with_orders(json!([
        order("1001-A", "2026-03-01T00:00:00Z"),
        old,
        shipped,
        order("1004-A", "2026-03-10T00:00:00Z")
    ])))
    .await;
    let all = h.orders("").await;
    assert_eq!(all["total_count"], 4);
    assert_eq!(order_ids(&all), ["1004-A", "1003-A", "1002-A", "1001-A"]);
    let asc = h.orders("sort=dateCreated&order=asc&max=2&offset=1").await;
    assert_eq!(order_ids(&asc), ["1002-A", "1003-A"]);
    assert_eq!(asc["total_count"], 4);
    let waiting = h
        .orders("order_state_codes=WAITING_ACCEPTANCE,SHIPPING")
        .await;
    assert_eq!(order_ids(&waiting), ["1004-A", "1002-A", "1001-A"]);
    let by_id = h.orders("order_ids=1001-A,1003-A,9999-A").await;
    assert_eq!(order_ids(&by_id), ["1003-A", "1001-A"]);
    // Updated since 2026-03-10: 1003-A (3 minutes before) is in the overlap, 1002-A
    // (6 minutes before) is not.
    let updated = h.orders("start_update_date=2026-03-10T00:00:00Z").await;
    assert_eq!(order_ids(&updated), ["1004-A", "1003-A"]);
    let created = h
        .orders("start_date=2026-03-02T00:00:00Z&end_date=2026-03-03T00:00:00%2B00:00")
        .await;
    assert_eq!(order_ids(&created), ["1003-A", "1002-A"]);
    let ids: Vec<String> = (0..101).map(|i| format!("{i}-A")).collect();
    let too_many = h
        .get(&format!("/mirakl/api/orders?order_ids={}", ids.join(",")))
        .await;
    assert_eq!(
        too_many.fails_with(StatusCode::BAD_REQUEST),
        "The limit of 100 is exceeded for the parameter : order_ids"
    );
    for bad in [
        "order_state_codes=LOST",
        "start_date=yesterday",
        "sort=price",
        "order=up",
        "max=500",
    ] {
        h.get(&format!("/mirakl/api/orders?{bad}"))
            .await
            .fails_with(StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn orders_show_lines_customer_and_exact_amounts() {
    let h = Harness::start(one_order("2026-03-01T09:30:00Z")).await;
    let page = h.get("/mirakl/api/orders").await;
    // Written from cents, never through a float: exactly these digits.
    let text = page.body_text();
    assert!(text.contains("\"total_price\":54.9}"), "{text}");
    assert!(text.contains("\"price_unit\":19.95,"), "{text}");
    let o = &page.answer()["orders"][0];
    assert_eq!(o["commercial_id"], "1001");
    assert_eq!(o["order_state"], "WAITING_ACCEPTANCE");
    assert_eq!(o["created_date"], "2026-03-01T09:30:00.000Z");
    assert_eq!(o["last_updated_date"], "2026-03-01T09:30:00.000Z");
    assert_eq!(o["currency_iso_code"], "AUD");
    assert_eq!(
        (o["price"].clone(), o["shipping_price"].clone()),
        (json!(49.9), json!(5))
    );
    assert_eq!(o["customer"]["shipping_address"]["city"], "Sydney");
    assert_eq!(o["customer"]["shipping_address"]["street_2"], Value::Null);
    assert_eq!(o["has_incident"], false);
    assert_eq!(o["shipping_carrier_code"], Value::Null);
    let line = &o["order_lines"][0];
    assert_eq!(
        (
            line["order_line_id"].clone(),
            line["order_line_index"].clone(),
            line["order_line_state"].clone(),
            line["offer_id"].clone()
        ),
        (
            json!("1001-A-1"),
            json!(1),
            json!("WAITING_ACCEPTANCE"),
            json!(1)
        )
    );
    assert_eq!(
        (
            line["price"].clone(),
            line["origin_unit_price"].clone(),
            line["shipping_price"].clone(),
            line["total_price"].clone()
        ),
        (json!(39.9), json!(19.95), json!(5), json!(44.9))
    );
    assert_eq!(line["product_title"], "SKU-000001");
    assert_eq!(
        (line["cancelations"].clone(), line["refunds"].clone()),
        (json!([]), json!([]))
    );
}

async fn accept(h: &Harness, id: &str, lines: Value) -> Reply {
    let uri = format!("/mirakl/api/orders/{id}/accept");
    h.send("PUT", &uri, &json!({"order_lines": lines})).await
}

#[tokio::test]
async fn accepting_needs_every_line_once_and_a_waiting_order() {
    let h = Harness::start(with_orders(json!([
        order("1001-A", "2026-03-01T00:00:00Z"),
        order("1002-A", "2026-03-01T00:00:00Z")
    ])))
    .await;
    let one = json!([{"id": "1001-A-1", "accepted": true}]);
    accept(&h, "1001-A", one)
        .await
        .fails_coded("ORDER_LINE_ACCEPTANCE_DECISION_MISSING");
    let unknown = json!([{"id": "1001-A-1", "accepted": true}, {"id": "X", "accepted": true}]);
    accept(&h, "1001-A", unknown)
        .await
        .fails_coded("ORDER_LINE_NOT_FOUND");
    let twice = json!([{"id": "1001-A-1", "accepted": true},
        {"id": "1001-A-1", "accepted": false}]);
    accept(&h, "1001-A", twice)
        .await
        .fails_coded("ORDER_LINE_DUPLICATE_ID");
    accept(&h, "1001-A", json!([{"id": "1001-A-1"}]))
        .await
        .fails_coded("VALIDATION_ERROR");
    let missing = accept(&h, "9-A", json!([])).await;
    assert_eq!(missing.body["code"], "ORDER_NOT_FOUND");
    missing.fails_with(StatusCode::NOT_FOUND);
    assert_eq!(h.dump()["orders"][0]["order_state"], "WAITING_ACCEPTANCE");

    h.refuse(json!({"operation": "OR21", "message": "shop suspended"}))
        .await;
    let split = json!([{"id": "1001-A-1", "accepted": true},
        {"id": "1001-A-2", "accepted": false}]);
    let refused = accept(&h, "1001-A", split.clone()).await;
    assert_eq!(
        refused.fails_with(StatusCode::BAD_REQUEST),
        "shop suspended"
    );
    let done = accept(&h, "1001-A", split.clone()).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    let o = h.first_order("order_ids=1001-A").await;
    assert_eq!(o["order_state"], "WAITING_DEBIT_PAYMENT");
    assert_eq!(
        o["order_lines"][0]["order_line_state"],
        "WAITING_DEBIT_PAYMENT"
    );
    assert_eq!(o["order_lines"][1]["order_line_state"], "REFUSED");
    assert_ne!(o["last_updated_date"], "2026-03-01T00:00:00.000Z");
    assert!(o["acceptance_decision_date"].is_string());
    accept(&h, "1001-A", split)
        .await
        .fails_coded("ORDER_INVALID_STATE");

    let none = json!([{"id": "1002-A-1", "accepted": false},
        {"id": "1002-A-2", "accepted": false}]);
    assert_eq!(
        accept(&h, "1002-A", none).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.first_order("order_ids=1002-A").await["order_state"],
        "REFUSED"
    );
}

#[tokio::test]
async fn auto_debit_takes_accepted_orders_straight_to_shipping() {
    let h = Harness::start(MiraklFixture {
        auto_debit: true,
        ..one_order("2026-03-01T00:00:00Z")
    })
    .await;
    let all = json!([{"id": "1001-A-1", "accepted": true}, {"id": "1001-A-2", "accepted": false}]);
    assert_eq!(
        accept(&h, "1001-A", all).await.status,
        StatusCode::NO_CONTENT
    );
    let o = h.first_order("").await;
    assert_eq!(o["order_state"], "SHIPPING");
    assert_eq!(o["order_lines"][0]["order_line_state"], "SHIPPING");
    assert_eq!(o["order_lines"][1]["order_line_state"], "REFUSED");
}

#[tokio::test]
async fn tracking_then_ship_from_shipping_only() {
    let h = Harness::start(one_order("2026-03-01T00:00:00Z")).await;
    let tracking_uri = "/mirakl/api/orders/1001-A/tracking";
    let ship_uri = "/mirakl/api/orders/1001-A/ship";
    let tracking = json!({"carrier_code": "AUPOST", "tracking_number": "33XYZ"});
    h.send("PUT", tracking_uri, &tracking)
        .await
        .fails_coded("ORDER_INVALID_STATE");
    h.send("PUT", ship_uri, &json!({}))
        .await
        .fails_coded("ORDER_INVALID_STATE");
    let all = json!([{"id": "1001-A-1", "accepted": true}, {"id": "1001-A-2", "accepted": true}]);
    accept(&h, "1001-A", all).await;
    h.control("POST", "orders/1001-A/debit", &json!({}))
        .await
        .answer();
    h.control("POST", "orders/1001-A/debit", &json!({}))
        .await
        .fails_with(StatusCode::CONFLICT);

    let unknown = json!({"carrier_code": "FEDEX", "tracking_number": "1"});
    for bad in [unknown, json!({"tracking_number": "1"})] {
        h.send("PUT", tracking_uri, &bad)
            .await
            .fails_with(StatusCode::BAD_REQUEST);
    }
    h.refuse(json!({"operation": "OR24", "message": "no label printed", "times": 1}))
        .await;
    let set = h.send("PUT", tracking_uri, &tracking).await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "{}", set.body);
    let o = h.first_order("").await;
    assert_eq!(o["shipping_carrier_code"], "AUPOST");
    assert_eq!(o["shipping_tracking"], "33XYZ");
    assert_eq!(
        o["shipping_tracking_url"],
        "https://auspost.com.au/mypost/track/details/33XYZ"
    );
    assert_eq!(o["order_state"], "SHIPPING");

    let refused = h.send("PUT", ship_uri, &json!({})).await;
    assert_eq!(
        refused.fails_with(StatusCode::BAD_REQUEST),
        "no label printed"
    );
    let shipped = h.call("PUT", ship_uri, Some(KEY), Body::empty()).await;
    assert_eq!(shipped.status, StatusCode::NO_CONTENT, "{}", shipped.body);
    let o = h.first_order("").await;
    assert_eq!(o["order_state"], "SHIPPED");
    assert_eq!(o["order_lines"][1]["order_line_state"], "SHIPPED");
    assert!(o["order_lines"][1]["shipped_date"].is_string());
    h.send("PUT", ship_uri, &json!({}))
        .await
        .fails_coded("ORDER_INVALID_STATE");
    h.send("PUT", tracking_uri, &tracking)
        .await
        .fails_coded("ORDER_INVALID_STATE");
    let calls = h.dump()["shipping_calls"].clone();
    assert_eq!(calls.as_array().unwrap().len(), 2);
    assert_eq!(calls[0]["tracking_number"], "33XYZ");
    assert_eq!(calls[1]["operation"], "OR24");
    assert_eq!(h.count("mirakl OR24"), 4);
}

#[tokio::test]
async fn carriers_are_listed_by_label() {
    let h = Harness::start(fixture(0)).await;
    let reply = h.get("/mirakl/api/shipping/carriers").await;
    let labels: Vec<&str> = reply.answer()["carriers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "Aramex",
            "Australia Post",
            "CouriersPlease",
            "DHL Express",
            "Hunter Express",
            "Sendle",
            "StarTrack"
        ]
    );
    assert_eq!(
        reply.body["carriers"][1],
        json!({"code": "AUPOST", "label": "Australia Post", "standard_code": null,
            "tracking_url": "https://auspost.com.au/mypost/track/details/{trackingId}"})
    );
}

#[tokio::test]
async fn control_adds_orders_and_cancels_refunds_and_flags_them() {
    let h = Harness::start(with_orders(json!([]))).await;
    let new = order("2001-A", "2026-03-01T00:00:00Z");
    let added = h.control("POST", "orders", &new).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.body["order_id"], "2001-A");
    h.control("POST", "orders", &new)
        .await
        .fails_with(StatusCode::CONFLICT);
    let undated = json!({"order_id": "2002-A", "lines": []});
    let fresh = h.control("POST", "orders", &undated).await;
    let created: DateTime<Utc> = fresh.body["created_date"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((Utc::now() - created).num_seconds() < 5);

    let base = "orders/2001-A";
    let refund = h
        .control(
            "POST",
            &format!("{base}/lines/2001-A-1/refund"),
            &json!({"amount": "19.95", "quantity": 1, "reason_code": "DAMAGED"}),
        )
        .await;
    let refunds = refund.answer()["order_lines"][0]["refunds"].clone();
    assert_eq!(refunds[0]["amount"], 19.95);
    assert_eq!(refunds[0]["reason_code"], "DAMAGED");
    assert_eq!(
        refund.body["order_lines"][0]["order_line_state"],
        "WAITING_ACCEPTANCE"
    );
    let cancel = h
        .control("POST", &format!("{base}/lines/2001-A-2/cancel"), &json!({}))
        .await;
    assert_eq!(
        cancel.answer()["order_lines"][1]["order_line_state"],
        "CANCELED"
    );
    assert_eq!(
        cancel.body["order_lines"][1]["cancelations"][0]["amount"],
        10
    );
    assert_eq!(cancel.body["order_state"], "WAITING_ACCEPTANCE");
    let all = h
        .control("POST", &format!("{base}/lines/2001-A-1/cancel"), &json!({}))
        .await;
    assert_eq!(all.answer()["order_state"], "CANCELED");
    for missing in ["lines/9/cancel", "lines/2001-A-1/return"] {
        h.control("POST", &format!("{base}/{missing}"), &json!({}))
            .await
            .fails_with(StatusCode::NOT_FOUND);
    }

    let incident = h
        .control("POST", &format!("{base}/incident"), &json!({}))
        .await;
    assert_eq!(incident.answer()["has_incident"], true);
    let closed = h
        .control("DELETE", &format!("{base}/incident"), &json!({}))
        .await;
    assert_eq!(closed.answer()["has_incident"], false);
    let closed_state = json!({"state": "CLOSED"});
    let moved = h.control("PUT", "orders/2002-A/state", &closed_state).await;
    assert_eq!(moved.answer()["order_state"], "CLOSED");
    for (path, body, status) in [
        (
            "orders/2002-A/state",
            json!({"state": "LOST"}),
            StatusCode::BAD_REQUEST,
        ),
        ("orders/9-A/state", closed_state, StatusCode::NOT_FOUND),
    ] {
        h.control("PUT", path, &body).await.fails_with(status);
    }
    let counts = h.0.sandbox.app.counts.lock().unwrap().clone();
    assert!(counts.keys().all(|k| !k.contains("_sandbox")), "{counts:?}");
}

#[tokio::test]
async fn control_edits_offers_and_the_report_shows_what_changed() {
    let h = Harness::start(fixture(3)).await;
    let patch = json!({"quantity": 6, "active": false,
        "inactivity_reasons": ["SHOP_NOT_OPEN"], "price": "12.50"});
    let off = h.control("PATCH", "offers/SKU-000001", &patch).await;
    assert_eq!(
        (
            off.answer()["active"].clone(),
            off.body["inactivity_reasons"].clone(),
            off.body["price"].clone()
        ),
        (json!(false), json!(["SHOP_NOT_OPEN"]), json!(12.5))
    );
    for (path, body, status) in [
        ("offers/NOPE", json!({"quantity": 1}), StatusCode::NOT_FOUND),
        (
            "offers/SKU-000001",
            json!({"stock": 1}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        h.control("PATCH", path, &body).await.fails_with(status);
    }
    let new = json!({"shop_sku": "NEW-1", "quantity": 2, "price": "5"});
    let added = h.control("POST", "offers", &new).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.body["offer_id"], 4);
    h.control("POST", "offers", &json!({"shop_sku": "NEW-1"}))
        .await
        .fails_with(StatusCode::CONFLICT);
    h.control("DELETE", "offers/SKU-000003", &json!({}))
        .await
        .answer();
    let report =
        h.0.send("GET", "/_sandbox/report/mirakl", &[], Body::empty())
            .await;
    let text = std::str::from_utf8(&report.bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[1].starts_with("SKU-000001")
            && lines[1].contains("inactive")
            && lines[1].ends_with("6  (was 0)"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("SKU-000003") && lines[2].contains("deleted"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("NEW-1") && lines[3].ends_with("(new)"),
        "{text}"
    );
}

#[tokio::test]
async fn the_state_dump_includes_mirakl() {
    let h = Harness::start(fixture(1)).await;
    let reply = h.0.send("GET", "/_sandbox/state", &[], Body::empty()).await;
    assert_eq!(
        reply.answer()["mirakl"],
        json!({"shop_id": 7, "offers": [{"shop_sku": "SKU-000001", "offer_id": 1,
            "quantity": 0, "active": false, "last_updated": "2026-01-01T00:00:00.000Z",
            "deleted": false}], "orders": [], "imports": [], "exports": [],
            "shipping_calls": []})
    );
}

/// The benchmark's scale: a million offers load, and one chunk of their export is
/// served without the others being built.
#[tokio::test]
async fn a_million_offers_load_and_export_a_chunk_cheaply() {
    let h = Harness::start(fixture(1_000_000)).await;
    let status = h
        .export(
            json!({"export_type": "application/json", "items_per_chunk": 1000,
            "include_inactive_offers": true}),
        )
        .await;
    let urls = status["urls"].as_array().unwrap();
    assert_eq!(urls.len(), 1000);
    let last = h.download(urls[999].as_str().unwrap()).await;
    let rows = last.answer().as_array().unwrap();
    assert_eq!(rows.len(), 1000);
    assert_eq!(rows[999]["shop_sku"], "SKU-1000000");
    assert_eq!(rows[0]["offer_id"], 999_001);
    let page = h.get("/mirakl/api/offers?sku=SKU-0500000").await;
    assert_eq!(page.answer()["total_count"], 0);
    let page = h.get("/mirakl/api/offers?sku=SKU-500000").await;
    assert_eq!(page.answer()["offers"][0]["offer_id"], 500_000);
}

#[test]
fn fixture_format_and_defaults() {
    let empty: MiraklFixture = serde_json::from_value(json!({})).unwrap();
    assert_eq!(
        (empty.shop_id, empty.shop_name.as_str()),
        (2001, "Sandbox Shop")
    );
    assert_eq!(empty.api_key, ApiKey::new("mirakl-sandbox-key"));
    assert_eq!(empty.currency_iso_code, "AUD");
    assert_eq!(empty.stock_import_reads, 2);
    assert!(!empty.auto_debit && empty.frequency_limits.is_empty());
    assert_eq!(empty.carriers.len(), 7);
    assert!(empty.offers.is_empty() && empty.orders.is_empty());
    assert!(!format!("{empty:?}").contains("mirakl-sandbox-key"));
    for typo in [
        json!({"shopId": 1}),
        json!({"frequency_limits": {"STO04": 1}}),
        json!({"offers": [{"sku": "A"}]}),
    ] {
        assert!(serde_json::from_value::<MiraklFixture>(typo).is_err());
    }
    let fixture: MiraklFixture = serde_json::from_value(json!({
        "shop_id": 9, "api_key": "k", "frequency_limits": {"STO01": 1},
        "carriers": [{"code": "Z", "label": "Zed"}],
        "offers": [{"shop_sku": "A", "offer_id": 40, "quantity": 2, "price": "3.5",
            "product_title": "Thing"}, {"shop_sku": "B"}, {"shop_sku": "A"}],
        "orders": [{"order_id": "5-A", "state": "SHIPPING",
            "lines": [{"offer_sku": "A", "quantity": 1, "unit_price": "3.5"}]}]
    }))
    .unwrap();
    let state = MiraklState::new(fixture);
    let dump = state.dump();
    let ids: Vec<&Value> = dump["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["offer_id"])
        .collect();
    assert_eq!(ids, [40, 41]);
    let order = &dump["orders"][0];
    assert_eq!(order["order_state"], "SHIPPING");
    assert_eq!(order["created_date"], "2026-01-01T00:00:00.000Z");
    assert_eq!(order["order_lines"][0]["offer_id"], 40);
    assert_eq!(order["order_lines"][0]["product_title"], "Thing");
    assert_eq!(state.carriers.len(), 1);
}

#[test]
fn generated_offers_carry_the_shopify_skus() {
    let fixture = MiraklFixture::generate(12);
    assert_eq!(fixture.offers.len(), 12);
    assert_eq!(fixture.offers[11].shop_sku, "SKU-000012");
    let shopify = crate::shopify::ShopifyFixture::generate(12);
    let variant_skus: Vec<String> = shopify
        .products
        .iter()
        .flat_map(|p| &p.variants)
        .filter_map(|v| v.sku.clone())
        .collect();
    let offer_skus: Vec<String> = fixture.offers.iter().map(|o| o.shop_sku.clone()).collect();
    assert_eq!(offer_skus, variant_skus);
    assert!(fixture.orders.is_empty());
    assert!(MiraklFixture::generate(0).offers.is_empty());
}

#[tokio::test]
async fn an_operator_without_the_offer_export_answers_404_and_still_pages_offers() {
    let mut f = fixture(3);
    f.offer_export = false;
    let h = Harness::start(f).await;
    let request = json!({"export_type": "application/json", "items_per_chunk": 2});
    h.start_export(&request)
        .await
        .fails_with(StatusCode::NOT_FOUND);
    let page = h.get("/mirakl/api/offers?max=100").await;
    assert_eq!(page.answer()["total_count"], 3);
}

#[tokio::test]
async fn a_stock_file_of_every_level_of_a_large_shop_is_taken_in_one_import() {
    let h = Harness::start(fixture(1)).await;
    let mut csv = String::from("\"offer-sku\";\"quantity\"\n");
    for i in 0..200_000 {
        csv.push_str(&format!("\"SKU-{i:07}\";\"5\"\n"));
    }
    assert!(csv.len() > 3 * 1024 * 1024);
    let uploaded = h.upload(&csv).await;
    assert_eq!(
        uploaded.status,
        StatusCode::CREATED,
        "{}",
        uploaded.body_text()
    );
}
