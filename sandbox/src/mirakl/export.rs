//! Offer exports: OF52 (`POST /api/offers/export/async`) starts one, OF53 (`GET
//! /api/offers/export/async/status/{tracking_id}`) polls it, and each URL the finished
//! export lists serves one chunk (OF54). An export fixes which offers it holds when it
//! starts (their positions, not copies) and renders a chunk only when one is
//! downloaded, so exporting a million offers costs a few megabytes.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{Call, Shop};
use super::error::{parse_body, MiraklError};
use super::limits::Limit;
use super::money::decimal;
use super::offers::{offer_json, Offer, Offers};
use super::{csv, now, wire_time, PREFIX};
use crate::raw_json::Raw;
use crate::App;

/// UNCONFIRMED: offers per chunk when the request does not say (Mirakl documents no
/// default); small enough that a benchmark shop's export has several chunks.
const DEFAULT_ITEMS_PER_CHUNK: usize = 100_000;

/// UNCONFIRMED: the CSV export's columns (OF51's documented names; a deleted offer
/// fills only offer-id, shop-sku, product-sku, shop-id, active and deleted).
const CSV_COLUMNS: [&str; 10] = [
    "offer-id",
    "shop-sku",
    "product-sku",
    "price",
    "quantity",
    "state-code",
    "shop-id",
    "active",
    "deleted",
    "currency-iso-code",
];

/// OF52's body. `megabytes_per_chunk` is accepted and ignored (chunks are cut by item
/// count only); fields the sandbox does not model are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    export_type: Option<String>,
    last_request_date: Option<DateTime<Utc>>,
    items_per_chunk: Option<usize>,
    #[serde(rename = "megabytes_per_chunk")]
    _megabytes_per_chunk: Option<serde::de::IgnoredAny>,
    include_inactive_offers: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }
}

/// What an export was asked for; two pending exports asking the same are one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Params {
    format: Format,
    /// Differential: every offer changed (deleted and inactive ones included) since.
    since: Option<DateTime<Utc>>,
    items_per_chunk: usize,
    include_inactive: bool,
}

fn params(request: Request) -> Result<Params, MiraklError> {
    let format = match request.export_type.as_deref() {
        None | Some("text/csv") => Format::Csv,
        Some("application/json") => Format::Json,
        Some(other) => {
            return Err(MiraklError::bad_request(format!(
                "export_type must be text/csv or application/json, got {other:?}"
            )))
        }
    };
    if request.last_request_date.is_some() && request.include_inactive_offers.is_some() {
        return Err(MiraklError::bad_request(
            "include_inactive_offers cannot be used with last_request_date",
        ));
    }
    let items_per_chunk = request.items_per_chunk.unwrap_or(DEFAULT_ITEMS_PER_CHUNK);
    if items_per_chunk == 0 {
        return Err(MiraklError::bad_request(
            "items_per_chunk must be at least 1",
        ));
    }
    Ok(Params {
        format,
        since: request.last_request_date,
        items_per_chunk,
        include_inactive: request.include_inactive_offers.unwrap_or(false),
    })
}

/// Why the control API said an export fails: OF53's `error`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Failure {
    #[serde(default = "default_failure_code")]
    code: String,
    #[serde(default = "default_failure_detail")]
    detail: String,
}

fn default_failure_code() -> String {
    "EXPORT_FAILED".into()
}

fn default_failure_detail() -> String {
    "The export could not be generated".into()
}

struct Export {
    tracking_id: String,
    params: Params,
    /// Positions among every offer ever held (see [`Offers::all`]), by offer id.
    rows: Vec<u32>,
    status_reads: u32,
    failure: Option<Failure>,
    last_updated: DateTime<Utc>,
}

impl Export {
    /// PENDING at the first status read, so clients must poll; then done.
    fn status(&self) -> &'static str {
        match (self.status_reads, &self.failure) {
            (0 | 1, _) => "PENDING",
            (_, Some(_)) => "FAILED",
            (_, None) => "COMPLETED",
        }
    }

    fn chunks(&self) -> usize {
        self.rows.len().div_ceil(self.params.items_per_chunk)
    }

    /// OF53's answer; `base` is the API's absolute URL.
    fn status_json(&self, base: &str) -> Value {
        let status = self.status();
        let urls: Vec<String> = match status {
            "COMPLETED" => (0..self.chunks())
                .map(|n| {
                    format!(
                        "{base}/api/offers/export/async/file/{}?file={n}.{}",
                        self.tracking_id,
                        self.params.format.extension()
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut body = json!({"status": status, "urls": urls,
            "last_updated": wire_time(self.last_updated)});
        if let (Some(failure), "FAILED") = (&self.failure, status) {
            body["error"] = json!({"code": failure.code, "detail": failure.detail});
        }
        body
    }

    /// The positions chunk `file` (`{n}.json` or `{n}.csv`) holds, once completed.
    fn chunk(&self, file: &str) -> Option<&[u32]> {
        let n: usize = file
            .strip_suffix(self.params.format.extension())?
            .strip_suffix('.')?
            .parse()
            .ok()?;
        if self.status() != "COMPLETED" || n >= self.chunks() {
            return None;
        }
        let size = self.params.items_per_chunk;
        Some(&self.rows[n * size..((n + 1) * size).min(self.rows.len())])
    }
}

#[derive(Default)]
pub(super) struct Exports {
    list: Vec<Export>,
    fail_next: Option<Failure>,
}

impl Exports {
    /// The next export started fails (OF53 says FAILED with `failure`).
    pub(super) fn fail_next(&mut self, failure: Failure) {
        self.fail_next = Some(failure);
    }

    fn position(&self, id: &str) -> Result<usize, MiraklError> {
        self.list
            .iter()
            .position(|e| e.tracking_id == id)
            .ok_or_else(|| MiraklError::not_found(format!("export {id} not found")))
    }

    pub(super) fn dump(&self) -> Value {
        let rows: Vec<Value> = self
            .list
            .iter()
            .map(|e| {
                json!({"tracking_id": e.tracking_id, "status": e.status(),
                    "export_type": e.params.format.extension(),
                    "differential": e.params.since.is_some(),
                    "offers": e.rows.len(), "chunks": e.chunks()})
            })
            .collect();
        json!(rows)
    }
}

/// Which offers an export holds, by offer id: in differential mode every offer changed
/// since (deleted and inactive ones too), else the live ones (active only unless asked).
fn select(offers: &Offers, params: &Params) -> Vec<u32> {
    let wanted = |o: &Offer| match params.since {
        Some(since) => o.last_updated >= since,
        None => o.deleted.is_none() && (params.include_inactive || o.active()),
    };
    let all = offers.all();
    let mut rows: Vec<u32> = (0..all.len() as u32)
        .filter(|&i| wanted(&all[i as usize]))
        .collect();
    if !rows.is_sorted_by_key(|&i| all[i as usize].offer_id) {
        rows.sort_by_key(|&i| all[i as usize].offer_id);
    }
    rows
}

fn tracking_id() -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0x1000),
        fastrand::u16(0x8000..0xc000),
        fastrand::u64(..1 << 48)
    )
}

/// UNCONFIRMED: a JSON chunk's offer is OF21's (`price` and `product_title` included,
/// though the SDK's export model shows `prices[]` instead) plus the export's `shop_id`,
/// `currency_iso_code` and `deleted`; a deleted offer keeps only its identity.
fn json_row(offer: &Offer, shop: &Shop) -> Value {
    if offer.deleted.is_some() {
        return json!({"offer_id": offer.offer_id, "shop_sku": &*offer.shop_sku,
            "product_sku": offer.product_sku(), "shop_id": shop.id,
            "active": false, "deleted": true});
    }
    let mut row = offer_json(offer);
    row["shop_id"] = json!(shop.id);
    row["currency_iso_code"] = json!(shop.currency_iso_code);
    row["deleted"] = json!(false);
    row
}

fn csv_row(offer: &Offer, shop: &Shop) -> String {
    let (id, shop_id) = (offer.offer_id.to_string(), shop.id.to_string());
    let (sku, product) = (&*offer.shop_sku, offer.product_sku());
    if offer.deleted.is_some() {
        let fields = [
            id.as_str(),
            sku,
            product,
            "",
            "",
            "",
            &shop_id,
            "false",
            "true",
            "",
        ];
        return csv::join(&fields);
    }
    let (price, quantity) = (decimal(offer.price), offer.quantity.to_string());
    let active = if offer.active() { "true" } else { "false" };
    csv::join(&[
        id.as_str(),
        sku,
        product,
        &price,
        &quantity,
        offer.state_code(),
        &shop_id,
        active,
        "false",
        &shop.currency_iso_code,
    ])
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(&format!("{PREFIX}/api/offers/export/async"), post(start))
        .route(
            &format!("{PREFIX}/api/offers/export/async/status/{{tracking_id}}"),
            get(status),
        )
        .route(
            &format!("{PREFIX}/api/offers/export/async/file/{{tracking_id}}"),
            get(chunk),
        )
}

/// OF52. A request like a still-pending export's answers that export's id (and is not
/// held to the frequency limit); otherwise the full or differential limit applies.
async fn start(
    call: Call,
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<Json<Value>, MiraklError> {
    call.authenticate(&app, "OF52")?;
    let params = params(parse_body(&body)?)?;
    let mut guard = app.mirakl.lock().unwrap();
    let state = &mut *guard;
    if !state.offer_export {
        return Err(MiraklError::not_found(
            "No route found for \"POST /api/offers/export/async\"",
        ));
    }
    let pending = state
        .exports
        .list
        .iter()
        .find(|e| e.params == params && e.status() == "PENDING");
    if let Some(export) = pending {
        return Ok(Json(json!({"tracking_id": export.tracking_id})));
    }
    let limit = match params.since {
        Some(_) => Limit::Of52Differential,
        None => Limit::Of52Full,
    };
    state.limits.check(limit, "", Instant::now())?;
    let rows = select(&state.offers, &params);
    let export = Export {
        tracking_id: tracking_id(),
        params,
        rows,
        status_reads: 0,
        failure: state.exports.fail_next.take(),
        last_updated: now(),
    };
    let body = json!({"tracking_id": export.tracking_id});
    state.exports.list.push(export);
    Ok(Json(body))
}

/// OF53.
async fn status(
    call: Call,
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, MiraklError> {
    call.admit(&app, "OF53", Limit::Of53, "")?;
    let Path(id) = path?;
    let mut state = app.mirakl.lock().unwrap();
    let i = state.exports.position(&id)?;
    let export = &mut state.exports.list[i];
    let before = export.status();
    export.status_reads = export.status_reads.saturating_add(1);
    if export.status() != before {
        export.last_updated = now();
    }
    Ok(Json(
        export.status_json(&format!("{}{PREFIX}", app.base_url)),
    ))
}

#[derive(Deserialize)]
struct FileParam {
    file: Option<String>,
}

/// OF54: one chunk, rendered from the offers as they are now. UNCONFIRMED: the chunk
/// URLs take the API key like every call (the SDK fetches them with its API client).
async fn chunk(
    call: Call,
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, MiraklError> {
    call.admit(&app, "OF54", Limit::Of54, "")?;
    let Path(id) = path?;
    let FileParam { file } = call.query()?;
    let state = app.mirakl.lock().unwrap();
    let export = &state.exports.list[state.exports.position(&id)?];
    let file = file.unwrap_or_default();
    let rows = export
        .chunk(&file)
        .ok_or_else(|| MiraklError::not_found(format!("export {id} has no file {file:?}")))?;
    let (offers, shop) = (state.offers.all(), &state.shop);
    let offer = |&i: &u32| &offers[i as usize];
    Ok(match export.params.format {
        Format::Json => {
            let rows: Vec<Value> = rows.iter().map(offer).map(|o| json_row(o, shop)).collect();
            Raw(Value::Array(rows)).into_response()
        }
        Format::Csv => {
            let mut text = csv::join(&CSV_COLUMNS);
            for o in rows.iter().map(offer) {
                text.push('\n');
                text.push_str(&csv_row(o, shop));
            }
            text.push('\n');
            ([(CONTENT_TYPE, "text/csv")], text).into_response()
        }
    })
}
