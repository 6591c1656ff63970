//! skubridge-sandbox: local, stateful stand-ins for Shopify's Admin GraphQL API, The
//! Iconic's Seller Center v2 REST API, Hard To Find's seller API and Mirakl's seller
//! API, faithful to the contracts skubridge relies on (auth, pagination, limits, error
//! shapes), plus a control API under `/_sandbox/` for tests, the demo and the
//! benchmark. An SMTP sink on a second port keeps the mail it is sent (see [`smtp`]).

mod base64;
pub mod faults;
pub mod hardtofind;
pub mod iconic;
#[cfg(test)]
mod in_process;
pub mod mirakl;
pub mod money;
mod raw_json;
pub mod shopify;
pub mod smtp;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub use faults::{FaultKind, FaultRule};
pub use smtp::MailMode;

/// Everything a sandbox serves, as loaded from a fixture directory.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    pub shopify: shopify::ShopifyFixture,
    pub iconic: iconic::IconicFixture,
    pub hardtofind: hardtofind::HardToFindFixture,
    pub mirakl: mirakl::MiraklFixture,
}

impl Fixture {
    /// Reads `shopify.json` and `iconic.json` from `dir`, and `hardtofind.json` and
    /// `mirakl.json` if they are there (a fixture directory predating a channel serves
    /// its default seller).
    pub fn load(dir: &Path) -> Result<Self> {
        Ok(Self {
            shopify: read_json(&dir.join("shopify.json"))?,
            iconic: read_json(&dir.join("iconic.json"))?,
            hardtofind: read_optional_json(&dir.join("hardtofind.json"))?,
            mirakl: read_optional_json(&dir.join("mirakl.json"))?,
        })
    }

    /// A generated store of `skus` matched SKUs (benchmarks): one location, products
    /// of five variants, the same SKUs listed on The Iconic, on Hard To Find and as
    /// Mirakl offers.
    pub fn generate(skus: usize) -> Self {
        Self {
            shopify: shopify::ShopifyFixture::generate(skus),
            iconic: iconic::IconicFixture::generate(skus),
            hardtofind: hardtofind::HardToFindFixture::generate(skus),
            mirakl: mirakl::MiraklFixture::generate(skus),
        }
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Like [`read_json`], but an absent file is `T::default()`.
fn read_optional_json<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        _ => read_json(path),
    }
}

/// State shared by every handler.
pub struct App {
    /// Base URL clients reach this sandbox at (bulk download URLs point here).
    pub base_url: String,
    pub shopify: Mutex<shopify::ShopifyState>,
    pub iconic: Mutex<iconic::IconicState>,
    pub hardtofind: Mutex<hardtofind::HardToFindState>,
    pub mirakl: Mutex<mirakl::MiraklState>,
    pub faults: faults::Faults,
    pub counts: Mutex<std::collections::BTreeMap<String, u64>>,
    /// Added to every API request (not to control calls), in milliseconds.
    pub latency_ms: AtomicU64,
    /// What the SMTP sink received, and its outage switch.
    pub mail: smtp::MailStore,
    /// The channel as loaded, so the report can show what changed since.
    initial_channel: Value,
    /// Hard To Find as loaded, likewise.
    initial_hardtofind: Value,
}

impl App {
    pub fn count(&self, endpoint: &str) {
        *self
            .counts
            .lock()
            .unwrap()
            .entry(endpoint.to_string())
            .or_default() += 1;
    }

    fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::Relaxed))
    }
}

/// Options that are not part of the fixture.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub latency: Duration,
    /// Where the SMTP sink listens; `None` picks a free port on the HTTP address's IP.
    pub smtp_addr: Option<SocketAddr>,
}

/// A running sandbox. Dropping it stops the servers.
pub struct Sandbox {
    pub addr: SocketAddr,
    pub smtp_addr: SocketAddr,
    pub app: Arc<App>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _smtp: smtp::Server,
}

impl Sandbox {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn smtp_url(&self) -> String {
        format!("smtp://{}", self.smtp_addr)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `addr` (port 0 picks a free one) and the SMTP sink, and serves both in
/// background tasks.
pub async fn start(fixture: Fixture, addr: SocketAddr, options: Options) -> Result<Sandbox> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let addr = listener.local_addr()?;
    let iconic = iconic::IconicState::new(fixture.iconic);
    let app = Arc::new(App {
        base_url: format!("http://{addr}"),
        shopify: Mutex::new(shopify::ShopifyState::new(fixture.shopify)),
        initial_channel: iconic.dump(),
        iconic: Mutex::new(iconic),
        initial_hardtofind: hardtofind::HardToFindState::new(fixture.hardtofind.clone())
            .dump(&format!("http://{addr}")),
        hardtofind: Mutex::new(hardtofind::HardToFindState::new(fixture.hardtofind)),
        mirakl: Mutex::new(mirakl::MiraklState::new(fixture.mirakl)),
        faults: faults::Faults::default(),
        counts: Mutex::default(),
        latency_ms: AtomicU64::new(options.latency.as_millis() as u64),
        mail: smtp::MailStore::default(),
    });
    let smtp_addr = options
        .smtp_addr
        .unwrap_or_else(|| SocketAddr::new(addr.ip(), 0));
    let smtp = smtp::Server::start(smtp_addr, app.clone()).await?;
    let router = router(app.clone());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Sandbox {
        addr,
        smtp_addr: smtp.addr(),
        app,
        shutdown: Some(tx),
        _smtp: smtp,
    })
}

fn router(app: Arc<App>) -> Router {
    let apis = shopify::router()
        .merge(iconic::router())
        .merge(hardtofind::router())
        .merge(mirakl::router())
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            faults::middleware,
        ));
    let control = Router::new()
        .route("/_sandbox/state", get(dump_state))
        .route("/_sandbox/report", get(channel_report))
        .route("/_sandbox/report/hardtofind", get(hardtofind_report))
        .route("/_sandbox/requests", get(get_counts).delete(reset_counts))
        .route("/_sandbox/faults", post(add_fault).delete(clear_faults))
        .route("/_sandbox/latency", put(set_latency))
        .merge(shopify::control_router())
        .merge(iconic::control_router())
        .merge(hardtofind::control_router())
        .merge(mirakl::control_router())
        .merge(smtp::control_router());
    apis.merge(control).with_state(app)
}

async fn dump_state(State(app): State<Arc<App>>) -> Json<Value> {
    let shopify = app.shopify.lock().unwrap().dump();
    let iconic = app.iconic.lock().unwrap().dump();
    let hardtofind = app.hardtofind.lock().unwrap().dump(&app.base_url);
    let mirakl = app.mirakl.lock().unwrap().dump();
    Json(json!({
        "shopify": shopify, "iconic": iconic, "hardtofind": hardtofind, "mirakl": mirakl,
    }))
}

/// The Iconic's listings as a plain-text table, marking quantities that changed since
/// the sandbox started (what `make demo` prints).
async fn channel_report(State(app): State<Arc<App>>) -> String {
    let now = app.iconic.lock().unwrap().dump();
    let rows = |v: &Value| -> Vec<(String, String, Value)> {
        v["products"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let sku = p["seller_sku"].as_str().unwrap_or("?");
                let status = p["status"].as_str().unwrap_or("?");
                (sku.to_string(), status.to_string(), p["quantity"].clone())
            })
            .collect()
    };
    report(&rows(&app.initial_channel), &rows(&now))
}

/// Hard To Find's variants, as [`channel_report`] shows The Iconic's.
async fn hardtofind_report(State(app): State<Arc<App>>) -> String {
    let now = app.hardtofind.lock().unwrap().dump(&app.base_url);
    let rows = |v: &Value| -> Vec<(String, String, Value)> {
        v["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let sku = p["sku"].as_str().unwrap_or("?");
                (
                    sku.to_string(),
                    "listed".to_string(),
                    p["inventory"].clone(),
                )
            })
            .collect()
    };
    report(&rows(&app.initial_hardtofind), &rows(&now))
}

/// (SKU, status, quantity) rows now, with "(was N)" where `was` differs.
fn report(was: &[(String, String, Value)], now: &[(String, String, Value)]) -> String {
    let before: std::collections::HashMap<&str, &Value> =
        was.iter().map(|(sku, _, q)| (sku.as_str(), q)).collect();
    let mut out = format!("{:<24} {:<9} {:>8}\n", "SELLER SKU", "STATUS", "QUANTITY");
    for (sku, status, quantity) in now {
        let change = match before.get(sku.as_str()) {
            Some(b) if *b != quantity => format!("  (was {b})"),
            Some(_) => String::new(),
            None => "  (new)".to_string(),
        };
        out.push_str(&format!(
            "{:<24} {:<9} {:>8}{change}\n",
            format!("{sku:?}").trim_matches('"'),
            status,
            quantity
        ));
    }
    out
}

async fn get_counts(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!(*app.counts.lock().unwrap()))
}

async fn reset_counts(State(app): State<Arc<App>>) -> Json<Value> {
    app.counts.lock().unwrap().clear();
    Json(json!({}))
}

async fn add_fault(State(app): State<Arc<App>>, Json(rule): Json<FaultRule>) -> Json<Value> {
    app.faults.add(rule);
    Json(json!({}))
}

async fn clear_faults(State(app): State<Arc<App>>) -> Json<Value> {
    app.faults.clear();
    Json(json!({}))
}

#[derive(Deserialize)]
struct Latency {
    ms: u64,
}

async fn set_latency(State(app): State<Arc<App>>, Json(l): Json<Latency>) -> Json<Value> {
    app.latency_ms.store(l.ms, Ordering::Relaxed);
    Json(json!({}))
}
