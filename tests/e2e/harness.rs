//! The test environment: a sandbox served in-process over real HTTP on loopback, a
//! temporary directory with a config and a real SQLite file, and a builder that runs
//! the real `skubridge` binary against them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

pub const SHOPIFY_TOKEN: &str = "shpat_e2e_secret_token";
pub const ICONIC_ID: &str = "iconic-e2e";
pub const ICONIC_SECRET: &str = "iconic-e2e-very-secret";
pub const HTF_USER: &str = "owner@e2e-store.example";
pub const HTF_PASSWORD: &str = "htf-e2e-very-secret";
pub const MIRAKL_KEY: &str = "mirakl-e2e-shop-key";

/// No run of the tests' small stores takes anywhere near this: one that does is hung.
const HANG: Duration = Duration::from_secs(120);

pub struct Env {
    pub dir: tempfile::TempDir,
    pub url: String,
    /// The sandbox's SMTP sink, for `[notify] smtp_url`.
    pub smtp_url: String,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    _sandbox: skubridge_sandbox::Sandbox,
}

impl Env {
    /// A sandbox serving these fixtures, and a config pointing at it.
    pub fn new(shopify: Value, iconic: Value) -> Self {
        Self::with_hardtofind(shopify, iconic, json!({}))
    }

    /// Like [`Env::new`], with a Hard To Find account too (the config names only The
    /// Iconic until a test adds the channel).
    pub fn with_hardtofind(shopify: Value, iconic: Value, hardtofind: Value) -> Self {
        Self::serving(skubridge_sandbox::Fixture {
            hardtofind: serde_json::from_value(hardtofind).expect("hardtofind fixture"),
            ..store_fixture(shopify, iconic)
        })
    }

    /// Like [`Env::new`], with a Mirakl shop too (the config names only The Iconic
    /// until a test adds the channel).
    pub fn with_mirakl(shopify: Value, iconic: Value, mirakl: Value) -> Self {
        Self::serving(skubridge_sandbox::Fixture {
            mirakl: serde_json::from_value(mirakl).expect("mirakl fixture"),
            ..store_fixture(shopify, iconic)
        })
    }

    /// Like [`Env::new`], with a Hard To Find store and a Mirakl shop too (the config
    /// names only The Iconic until a test adds the channels).
    pub fn with_hardtofind_and_mirakl(
        shopify: Value,
        iconic: Value,
        hardtofind: Value,
        mirakl: Value,
    ) -> Self {
        Self::serving(skubridge_sandbox::Fixture {
            hardtofind: serde_json::from_value(hardtofind).expect("hardtofind fixture"),
            mirakl: serde_json::from_value(mirakl).expect("mirakl fixture"),
            ..store_fixture(shopify, iconic)
        })
    }

    fn serving(fixture: skubridge_sandbox::Fixture) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = rt
            .block_on(skubridge_sandbox::start(
                fixture,
                "127.0.0.1:0".parse().unwrap(),
                Default::default(),
            ))
            .expect("sandbox starts");
        let env = Self {
            dir: tempfile::tempdir().unwrap(),
            url: sandbox.url(),
            smtp_url: sandbox.smtp_url(),
            rt,
            http: reqwest::Client::new(),
            _sandbox: sandbox,
        };
        env.write_config("");
        env
    }

    /// The standard store of these tests (see `standard_shopify`).
    pub fn standard() -> Self {
        Self::new(standard_shopify(), standard_iconic())
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("skubridge.toml")
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("skubridge.db")
    }

    /// Writes the config; `channel_extra` lines are appended to the `[[channel]]` table.
    pub fn write_config(&self, channel_extra: &str) {
        self.write_config_with(channel_extra, "");
    }

    /// Like `write_config`, with `tail` (more tables) at the end.
    pub fn write_config_with(&self, channel_extra: &str, tail: &str) {
        let text = format!(
            r#"database = "skubridge.db"

[shopify]
shop = "e2e-store.myshopify.com"
access_token = "${{SHOPIFY_TOKEN}}"
endpoint = "{url}"

[[channel]]
name = "iconic"
kind = "iconic"
endpoint = "{url}"
client_id = "{ICONIC_ID}"
client_secret = "${{ICONIC_SECRET}}"
reserve_stock = 1
{channel_extra}
{tail}
"#,
            url = self.url
        );
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn write_raw_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    /// `skubridge <args>` in the environment's directory.
    pub fn run(&self, args: &[&str]) -> Run<'_> {
        Run {
            env: self,
            args: args.iter().map(|s| s.to_string()).collect(),
            vars: vec![],
            shell: None,
        }
    }

    fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.rt.block_on(async {
            let resp = req.send().await.expect("control call");
            let status = resp.status();
            let text = resp.text().await.unwrap();
            assert!(status.is_success(), "{path}: {status} {text}");
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
    }

    /// How many Shopify orders carry each source identifier (`channel:order id`).
    pub fn orders_per_source(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for o in self.shopify_orders() {
            let source = o["source_identifier"].as_str().unwrap_or_default();
            *m.entry(source.to_string()).or_default() += 1;
        }
        m
    }

    /// The database and its WAL files gone, as when a disk is lost.
    pub fn remove_database(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.db_path().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }

    pub fn state(&self) -> Value {
        self.control(reqwest::Method::GET, "/_sandbox/state", None)
    }

    /// Seller SKU -> quantity on the channel.
    pub fn channel_stock(&self) -> BTreeMap<String, i64> {
        self.state()["iconic"]["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["seller_sku"].as_str().unwrap().to_string(),
                    p["quantity"].as_i64().unwrap(),
                )
            })
            .collect()
    }

    pub fn set_shopify_stock(&self, sku: &str, available: i64) {
        self.control(
            reqwest::Method::POST,
            "/_sandbox/shopify/inventory",
            Some(json!([{"sku": sku, "available": available}])),
        );
    }

    /// Adds a Shopify product (fixture format).
    pub fn add_shopify_product(&self, product: Value) {
        self.control(
            reqwest::Method::POST,
            "/_sandbox/shopify/products",
            Some(product),
        );
    }

    /// Adds a product set with its products to the channel (fixture format).
    pub fn add_channel_set(&self, set: Value) {
        self.control(
            reqwest::Method::POST,
            "/_sandbox/iconic/product-sets",
            Some(set),
        );
    }

    /// Rows in a table of the skubridge database.
    pub fn db_count(&self, table: &str) -> i64 {
        rusqlite::Connection::open(self.db_path())
            .unwrap()
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    pub fn set_channel_product(&self, product_id: u64, patch: Value) {
        self.control_patch(&format!("/_sandbox/iconic/products/{product_id}"), patch);
    }

    pub fn control_delete(&self, path: &str) {
        self.control(reqwest::Method::DELETE, path, None);
    }

    pub fn control_patch(&self, path: &str, patch: Value) {
        self.control(reqwest::Method::PATCH, path, Some(patch));
    }

    pub fn control_put(&self, path: &str, body: Value) {
        self.control(reqwest::Method::PUT, path, Some(body));
    }

    /// Emails the SMTP sink received, oldest first.
    pub fn mails(&self) -> Vec<Value> {
        self.control(reqwest::Method::GET, "/_sandbox/mail", None)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// While down, the SMTP sink refuses every connection with 421.
    pub fn smtp_down(&self, down: bool) {
        self.control(
            reqwest::Method::PUT,
            "/_sandbox/mail/outage",
            Some(json!({ "down": down })),
        );
    }

    /// How the SMTP sink meets new connections: "up", "down", "silent" (accepts, never
    /// answers) or "stall_after_greeting".
    pub fn smtp_mode(&self, mode: &str) {
        self.control(
            reqwest::Method::PUT,
            "/_sandbox/mail/outage",
            Some(json!({ "mode": mode })),
        );
    }

    pub fn requests(&self) -> BTreeMap<String, u64> {
        serde_json::from_value(self.control(reqwest::Method::GET, "/_sandbox/requests", None))
            .unwrap()
    }

    /// Requests to endpoints whose label contains `needle`.
    pub fn count(&self, needle: &str) -> u64 {
        self.requests()
            .iter()
            .filter(|(k, _)| k.contains(needle))
            .map(|(_, v)| v)
            .sum()
    }

    pub fn fault(&self, rule: Value) {
        self.control(reqwest::Method::POST, "/_sandbox/faults", Some(rule));
    }

    pub fn clear_faults(&self) {
        self.control(reqwest::Method::DELETE, "/_sandbox/faults", None);
    }

    /// A customer places an order on the channel (sandbox fixture format).
    pub fn add_channel_order(&self, order: Value) {
        self.control(
            reqwest::Method::POST,
            "/_sandbox/iconic/orders",
            Some(order),
        );
    }

    pub fn add_channel_order_item(&self, order_id: u64, item: Value) {
        self.control(
            reqwest::Method::POST,
            &format!("/_sandbox/iconic/orders/{order_id}/items"),
            Some(item),
        );
    }

    /// Every order in the Shopify store, oldest first (the sandbox's dump).
    pub fn shopify_orders(&self) -> Vec<Value> {
        self.control(reqwest::Method::GET, "/_sandbox/shopify/orders", None)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Shopify `available` of the variant with this SKU, summed over its locations.
    pub fn shopify_available(&self, sku: &str) -> i64 {
        self.state()["shopify"]["variants"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["sku"] == sku)
            .flat_map(|v| v["available"].as_object().unwrap().values())
            .map(|a| a.as_i64().unwrap())
            .sum()
    }

    /// Runs `skubridge sync` and kills it (SIGKILL) as soon as a request to an endpoint
    /// whose label contains `needle` reaches the sandbox (or after 20 s without one).
    pub fn sync_killed_at(&self, needle: &str) {
        let mut pass = self
            .run(&["sync"])
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("skubridge runs");
        let until = std::time::Instant::now() + Duration::from_secs(20);
        while self.count(needle) == 0 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        pass.kill().expect("the pass is killed");
        pass.wait().expect("the killed pass is reaped");
    }

    pub fn control_post(&self, path: &str, body: Value) -> Value {
        self.control(reqwest::Method::POST, path, Some(body))
    }

    pub fn latency(&self, ms: u64) {
        self.control(
            reqwest::Method::PUT,
            "/_sandbox/latency",
            Some(json!({ "ms": ms })),
        );
    }
}

/// The store and The Iconic from these fixtures; the other channels' defaults.
fn store_fixture(shopify: Value, iconic: Value) -> skubridge_sandbox::Fixture {
    skubridge_sandbox::Fixture {
        shopify: serde_json::from_value(shopify).expect("shopify fixture"),
        iconic: serde_json::from_value(iconic).expect("iconic fixture"),
        ..Default::default()
    }
}

pub struct Run<'a> {
    env: &'a Env,
    args: Vec<String>,
    vars: Vec<(String, Option<String>)>,
    /// Shell commands run before skubridge replaces the shell (`ulimit -f 1`).
    shell: Option<String>,
}

#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run<'_> {
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.vars.push((k.into(), Some(v.into())));
        self
    }

    pub fn env_remove(mut self, k: &str) -> Self {
        self.vars.push((k.into(), None));
        self
    }

    /// Runs `script` in `sh` first, then skubridge in its place (limits stay set).
    pub fn after_shell(mut self, script: &str) -> Self {
        self.shell = Some(script.into());
        self
    }

    /// Runs to the end; a run still going after `limit` is killed and fails the test
    /// instead of hanging it.
    fn output_within(self, limit: Duration) -> Output {
        let child = self
            .command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("skubridge runs");
        let pid = child.id().to_string();
        // Read on another thread: a child blocked on a full pipe is not a hung one.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(child.wait_with_output()));
        let out = match rx.recv_timeout(limit) {
            Ok(out) => out.expect("skubridge output"),
            Err(_) => {
                let _ = Command::new("kill").args(["-9", &pid]).status();
                let out = rx.recv().expect("killed run").expect("killed run output");
                panic!(
                    "still running after {limit:?}: killed\n--- stderr\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        };
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn command(self) -> Command {
        let bin = env!("CARGO_BIN_EXE_skubridge");
        let mut cmd = match &self.shell {
            Some(script) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("{script}; exec \"$0\" \"$@\""))
                    .arg(bin);
                sh
            }
            None => Command::new(bin),
        };
        cmd.current_dir(self.env.dir.path())
            .args(&self.args)
            .env_remove("SKUBRIDGE_CONFIG")
            .env_remove("SKUBRIDGE_LOG")
            .env_remove("SKUBRIDGE_NOW")
            .env_remove("RUST_LOG")
            .env("SHOPIFY_TOKEN", SHOPIFY_TOKEN)
            .env("ICONIC_SECRET", ICONIC_SECRET)
            .env("HARDTOFIND_PASSWORD", HTF_PASSWORD)
            .env("MIRAKL_API_KEY", MIRAKL_KEY)
            // Keep fault tests fast: backoff waits shrink, attempts stay the same.
            .env("SKUBRIDGE_BACKOFF_MS", "20");
        for (k, v) in &self.vars {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    }

    /// Runs to the end, whatever the exit code.
    pub fn output(self) -> Output {
        self.output_within(HANG)
    }

    /// Runs and asserts the exit code, returning the output.
    pub fn expect(self, code: i32) -> Output {
        self.expect_within(code, HANG)
    }

    /// Like [`Run::expect`], and the run must end within `limit`.
    pub fn expect_within(self, code: i32, limit: Duration) -> Output {
        let out = self.output_within(limit);
        assert_eq!(
            out.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout, out.stderr
        );
        out
    }
}

fn variant(id: u64, sku: Option<&str>, available: i64, tracked: bool) -> Value {
    json!({"id": id, "title": format!("v{id}"), "sku": sku, "tracked": tracked,
           "inventory_item_id": id + 5000, "available": {"1": available}})
}

/// A small store with one of each case the stock path must handle.
pub fn standard_shopify() -> Value {
    json!({
        "shop": "e2e-store.myshopify.com",
        "name": "E2E Store",
        "access_token": SHOPIFY_TOKEN,
        "locations": [{"id": 1, "name": "Warehouse", "active": true}],
        "products": [
            {"id": 100, "title": "Linen Shirt", "status": "ACTIVE", "variants": [
                variant(1001, Some("LS-S"), 10, true),
                variant(1002, Some("LS-M"), 3, true),
                variant(1003, Some("LS-L"), 0, true),
                variant(1004, Some("VEN-1"), 4, true),
            ]},
            {"id": 200, "title": "Draft Jacket", "status": "DRAFT", "variants": [
                variant(2001, Some("DR-1"), 5, true),
            ]},
            {"id": 300, "title": "Twin Socks", "status": "ACTIVE", "variants": [
                variant(3001, Some("DUP-1"), 8, true),
                variant(3002, Some("DUP-1"), 2, true),
            ]},
            {"id": 400, "title": "Gift Card", "status": "ACTIVE", "variants": [
                variant(4001, Some("UT-1"), 9, false),
            ]},
        ]
    })
}

fn listing(id: u64, sku: &str, quantity: i64) -> Value {
    json!({"id": id, "seller_sku": sku, "status": "active", "quantity": quantity})
}

pub fn standard_iconic() -> Value {
    json!({
        "client_id": ICONIC_ID,
        "client_secret": ICONIC_SECRET,
        "product_sets": [
            {"id": 10, "name": "Linen Shirt", "status": "active", "products": [
                listing(501, "LS-S", 0),
                listing(502, "LS-M", 0),
                listing(503, "LS-L", 4),
                {"id": 504, "seller_sku": "LS-XL", "status": "inactive", "quantity": 2},
                {"id": 505, "seller_sku": "VEN-1", "status": "active", "quantity": 1,
                 "fulfilled_by_venture": true},
            ]},
            {"id": 20, "name": "Draft Jacket", "status": "active", "products": [listing(601, "DR-1", 6)]},
            {"id": 30, "name": "Twin Socks", "status": "active", "products": [listing(701, "DUP-1", 7)]},
            {"id": 40, "name": "Gift Card", "status": "active", "products": [listing(801, "UT-1", 5)]},
            {"id": 50, "name": "Not in Shopify", "status": "active", "products": [listing(901, "NOSHOP-1", 3)]},
        ]
    })
}

/// A Mirakl shop (for [`Env::with_mirakl`]) selling these shop SKUs that never makes a
/// pass wait: no frequency limit, a stock import complete at its first status read.
pub fn quick_mirakl(skus: &[&str]) -> Value {
    let limits: serde_json::Map<String, Value> = [
        "A01",
        "OF21",
        "OF52_FULL",
        "OF52_DIFFERENTIAL",
        "OF53",
        "OF54",
        "STO01",
        "STO02",
        "STO03",
        "SH21",
        "OR11",
        "OR21",
        "OR23",
        "OR24",
    ]
    .into_iter()
    .map(|k| (k.to_string(), json!(0)))
    .collect();
    let offers: Vec<Value> = skus
        .iter()
        .map(|sku| json!({"shop_sku": sku, "price": "29.95"}))
        .collect();
    json!({"api_key": MIRAKL_KEY, "stock_import_reads": 0, "frequency_limits": limits,
           "offers": offers})
}

/// The `[[channel]]` table of a Mirakl channel named "mirakl" on `env`'s sandbox shop,
/// importing orders since 2020 and never waiting within a pass for its stock import to
/// be confirmed (the next pass asks), `extra` lines in it.
pub fn mirakl_channel(env: &Env, extra: &str) -> String {
    mirakl_waiting(env, 0, extra)
}

/// [`mirakl_channel`] waiting up to `seconds` within a pass for its stock import.
pub fn mirakl_waiting(env: &Env, seconds: u64, extra: &str) -> String {
    format!(
        "[[channel]]\nname = \"mirakl\"\nkind = \"mirakl\"\nendpoint = \"{}/mirakl/api\"\napi_key = \"${{MIRAKL_API_KEY}}\"\nshop_id = 2001\nimport_orders_since = \"2020-01-01T00:00:00Z\"\nimport_wait_seconds = {seconds}\n{extra}\n",
        env.url
    )
}
