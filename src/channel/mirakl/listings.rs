//! Offers, through the asynchronous export: OF52 starts it (in full, or differential:
//! what changed since a date), OF53 is polled until it is ready, and each file it lists
//! (OF54) is one chunk of offers, sent on as soon as it is read. An export reads any
//! catalogue in a few requests; OF21's pages of 100 serve a full read once the day's
//! full export is used, and an operator without the export (config
//! `offer_export = false`), where every read is then a full one.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::{stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::channel::transport::{json, Transport};
use crate::channel::{forward_listings, ChannelError, Listing, ListingStatus, ListingsOut};
use crate::clock;
use crate::http::Backoff;

const EXPORT: &str = "POST /api/offers/export/async";
const EXPORT_STATUS: &str = "GET /api/offers/export/async/status/{id}";
const EXPORT_FILE: &str = "GET (offer export file)";
const PAGE: &str = "GET /api/offers";

/// OF21's largest page.
const PAGE_SIZE: u64 = 100;

/// UNCONFIRMED: how Mirakl answers OF52 on an operator that does not offer the export
/// (the contract states none; a missing route answers 404).
fn export_missing(status: u16) -> bool {
    status == 404
}

/// UNCONFIRMED: offers per export file. Mirakl documents no default; this bounds what
/// one file holds in memory (a few megabytes) while a large shop takes a few files.
const ITEMS_PER_CHUNK: usize = 10_000;

/// UNCONFIRMED: how long an export takes to prepare. Mirakl states none; a full export
/// of a large shop can take minutes. Past this the read fails, and the next one asks
/// again: an identical request still pending answers the same export.
const EXPORT_WAIT: Duration = Duration::from_secs(15 * 60);

/// Waits between status reads: from a second, doubling, at most half a minute.
const POLL: Backoff = Backoff {
    attempts: 1,
    base: Duration::from_secs(1),
    max: Duration::from_secs(30),
};

/// UNCONFIRMED: the inactivity reason of an offer that is off sale only for want of
/// stock. Such an offer is a listing like any other: the stock sent revives it.
const OUT_OF_STOCK: &str = "ZERO_QUANTITY";

#[derive(Serialize)]
struct ExportRequest {
    export_type: &'static str,
    items_per_chunk: usize,
    /// Differential: every offer changed since (deleted and inactive ones included).
    #[serde(skip_serializing_if = "Option::is_none")]
    last_request_date: Option<String>,
    /// A full export leaves inactive offers out unless asked; they are listings too.
    #[serde(skip_serializing_if = "Option::is_none")]
    include_inactive_offers: Option<bool>,
}

#[derive(Deserialize)]
struct Started {
    tracking_id: String,
}

#[derive(Deserialize)]
struct ExportStatus {
    status: String,
    #[serde(default)]
    urls: Vec<String>,
    error: Option<ExportError>,
}

#[derive(Deserialize)]
struct ExportError {
    code: Option<String>,
    detail: Option<String>,
}

/// An offer in an export file or an OF21 page: what a listing needs of it.
#[derive(Debug, Deserialize)]
struct ExportOffer {
    shop_sku: String,
    product_sku: Option<String>,
    #[serde(default)]
    active: bool,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    inactivity_reasons: Vec<String>,
    last_updated: Option<String>,
}

impl ExportOffer {
    /// Keyed by the shop SKU: it is what stock imports name and what the import's error
    /// report gives back, and it is unique in a shop (an offer id changes when an offer
    /// is deleted and made again).
    fn into_listing(self) -> Listing {
        let status = if self.deleted {
            ListingStatus::Deleted
        } else if self.active || for_want_of_stock(&self.inactivity_reasons) {
            ListingStatus::Active
        } else {
            ListingStatus::Inactive
        };
        // The reasons beyond stock, which the levels skubridge sends cure.
        let beyond_stock: Vec<&str> = self
            .inactivity_reasons
            .iter()
            .map(String::as_str)
            .filter(|r| *r != OUT_OF_STOCK && !r.trim().is_empty())
            .collect();
        let inactive_reason = (status == ListingStatus::Inactive && !beyond_stock.is_empty())
            .then(|| beyond_stock.join(", "));
        Listing {
            product_id: self.shop_sku.clone(),
            sku: self.shop_sku,
            status,
            parent_id: self.product_sku,
            updated_at: self.last_updated.as_deref().and_then(clock::parse),
            inactive_reason,
        }
    }
}

fn for_want_of_stock(reasons: &[String]) -> bool {
    !reasons.is_empty() && reasons.iter().all(|r| r == OUT_OF_STOCK)
}

/// Starts an export and waits for its files, within [`EXPORT_WAIT`].
async fn export_files(
    transport: &Transport,
    updated_since: Option<DateTime<Utc>>,
) -> Result<Vec<String>, ChannelError> {
    let request = ExportRequest {
        export_type: "application/json",
        items_per_chunk: ITEMS_PER_CHUNK,
        last_request_date: updated_since.map(clock::rfc3339),
        include_inactive_offers: updated_since.is_none().then_some(true),
    };
    let url = transport.url("/api/offers/export/async");
    let started: Started = transport
        .call(EXPORT, |http| http.post(&url).json(&request), json)
        .await
        .map_err(|e| match e {
            ChannelError::Refused {
                endpoint,
                status,
                reason,
            } if export_missing(status) => ChannelError::Refused {
                endpoint,
                status,
                reason: format!(
                    "{reason}: this operator does not offer the offer export; set offer_export = false in the channel's block to read offers page by page"
                ),
            },
            other => other,
        })?;
    let id = started.tracking_id;
    let url = transport.url(&format!("/api/offers/export/async/status/{id}"));
    let since = Instant::now();
    let mut polls = 0;
    loop {
        let status: ExportStatus = transport
            .call(EXPORT_STATUS, |http| http.get(&url), json)
            .await?;
        let unavailable = |reason: String| ChannelError::Unavailable {
            endpoint: EXPORT_STATUS,
            attempts: 1,
            reason,
        };
        match status.status.as_str() {
            "COMPLETED" => return Ok(status.urls),
            "FAILED" => {
                let why = status
                    .error
                    .map(|e| {
                        [e.code, e.detail]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(": ")
                    })
                    .unwrap_or_default();
                return Err(unavailable(format!("the offer export {id} failed: {why}")));
            }
            // PENDING, or a state this version does not know: waited out like PENDING.
            _ if since.elapsed() >= EXPORT_WAIT => {
                return Err(unavailable(format!(
                    "the offer export {id} was not ready after {} minutes; it is asked for again on the next product sync",
                    EXPORT_WAIT.as_secs() / 60
                )))
            }
            _ => {}
        }
        polls += 1;
        tokio::time::sleep(POLL.delay(polls)).await;
    }
}

/// One export file's offers. A file on the operator's own host takes the shop key like
/// any call; UNCONFIRMED: a file elsewhere (a storage link) is fetched without it, so
/// the key never leaves the operator.
async fn file(transport: &Transport, url: String) -> Result<Vec<Listing>, ChannelError> {
    let base = reqwest::Url::parse(&transport.url("/")).map_err(|e| ChannelError::Unexpected {
        endpoint: EXPORT_FILE,
        reason: e.to_string(),
    })?;
    let target = base.join(&url).map_err(|_| ChannelError::Unexpected {
        endpoint: EXPORT_FILE,
        reason: "the export listed a file that is not a URL".into(),
    })?;
    let offers: Vec<ExportOffer> = if target.origin() == base.origin() {
        transport
            .call(EXPORT_FILE, |http| http.get(target.clone()), json)
            .await?
    } else {
        let http = transport.http();
        transport
            .unauthenticated(EXPORT_FILE, || http.get(target.clone()), json)
            .await?
    };
    Ok(offers.into_iter().map(ExportOffer::into_listing).collect())
}

/// Every offer (those changed since `updated_since`), sent to `out` a file at a time,
/// `concurrency` files in flight.
pub(super) async fn fetch(
    transport: &Transport,
    updated_since: Option<DateTime<Utc>>,
    out: &ListingsOut,
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<(), ChannelError> {
    let files = match export_files(transport, updated_since).await {
        // Mirakl allows one full export a day: once it is used (by a dry run, a reset),
        // a full read goes page by page.
        Err(ChannelError::Unavailable { reason, .. })
            if updated_since.is_none() && reason.starts_with("HTTP 429") =>
        {
            info!("the day's full offer export is used ({reason}); reading offers page by page");
            return pages(transport, out, on_progress).await;
        }
        files => files?,
    };
    let read = stream::iter(files)
        .map(|url| file(transport, url))
        .buffer_unordered(transport.concurrency());
    forward_listings(read, out, on_progress).await
}

#[derive(Deserialize)]
struct OfferPage {
    offers: Vec<ExportOffer>,
    total_count: u64,
}

async fn page(transport: &Transport, offset: u64) -> Result<OfferPage, ChannelError> {
    let url = transport.url("/api/offers");
    let query = [("max", PAGE_SIZE), ("offset", offset)];
    transport
        .call(PAGE, |http| http.get(&url).query(&query), json)
        .await
}

/// Every offer, active or not, through OF21's pages (the first says how many there
/// are; the others are read `concurrency` at a time), sent to `out` a page at a time.
pub(super) async fn pages(
    transport: &Transport,
    out: &ListingsOut,
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<(), ChannelError> {
    let first = page(transport, 0).await?;
    let total = first.total_count;
    let rest = stream::iter((PAGE_SIZE..total).step_by(PAGE_SIZE as usize))
        .map(|offset| page(transport, offset))
        .buffered(transport.concurrency());
    let read = stream::once(async { Ok(first) })
        .chain(rest)
        .map_ok(|page| {
            let offers = page.offers.into_iter();
            offers.map(ExportOffer::into_listing).collect()
        });
    forward_listings(read, out, on_progress).await
}

#[cfg(test)]
mod tests {
    use super::super::transport::test_transport;
    use super::*;
    use crate::test_server::{Reply, TestServer};
    use serde_json::{json, Value};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn offer(sku: &str, active: bool, reasons: &[&str]) -> Value {
        json!({"offer_id": 7, "shop_sku": sku, "product_sku": format!("P-{sku}"),
               "product_title": "Linen Shirt", "quantity": 0, "price": "29.95",
               "active": active, "inactivity_reasons": reasons, "state_code": "11",
               "last_updated": "2026-03-01T10:00:00.000Z", "shop_id": 2001,
               "currency_iso_code": "AUD", "deleted": false})
    }

    #[test]
    fn export_rows_become_listings_keyed_by_shop_sku() {
        let chunk = json!([
            offer("LS-S", true, &[]),
            offer("LS-M", false, &["ZERO_QUANTITY"]),
            offer("LS-L", false, &["ZERO_QUANTITY", "SHOP_NOT_OPEN"]),
            {"offer_id": 9, "shop_sku": "OLD-1", "product_sku": "P-OLD", "shop_id": 2001,
             "active": false, "deleted": true},
        ]);
        let rows: Vec<ExportOffer> = json_rows(&chunk);
        let listings: Vec<Listing> = rows.into_iter().map(ExportOffer::into_listing).collect();
        let status: Vec<(&str, &ListingStatus, Option<&str>)> = listings
            .iter()
            .map(|l| {
                (
                    l.product_id.as_str(),
                    &l.status,
                    l.inactive_reason.as_deref(),
                )
            })
            .collect();
        // Off sale for want of stock only is a listing like any other; the reasons
        // beyond stock are kept for `unmatched`.
        assert_eq!(
            status,
            [
                ("LS-S", &ListingStatus::Active, None),
                ("LS-M", &ListingStatus::Active, None),
                ("LS-L", &ListingStatus::Inactive, Some("SHOP_NOT_OPEN")),
                ("OLD-1", &ListingStatus::Deleted, None),
            ]
        );
        let first = &listings[0];
        assert_eq!(first.sku, "LS-S");
        assert_eq!(first.parent_id.as_deref(), Some("P-LS-S"));
        assert_eq!(
            first.updated_at,
            Some(crate::clock::parse("2026-03-01T10:00:00Z").unwrap())
        );
    }

    fn json_rows(v: &Value) -> Vec<ExportOffer> {
        json(&v.to_string()).unwrap()
    }

    /// Serves one export: pending at the first status read, then `status` with these
    /// file URLs; each file holds the offers named in its `file` query.
    async fn export_server(status: Value) -> TestServer {
        let reads = AtomicU32::new(0);
        TestServer::start(move |seen| match seen.path() {
            "/api/offers/export/async" => Reply::json(&json!({"tracking_id": "t-1"})),
            "/api/offers/export/async/status/t-1" => match reads.fetch_add(1, Ordering::SeqCst) {
                0 => Reply::json(&json!({"status": "PENDING", "urls": []})),
                _ => Reply::json(&status),
            },
            _ => {
                let query = seen.target.split("file=").nth(1).unwrap_or_default();
                let skus = query.split('&').next().unwrap_or_default();
                let rows: Vec<Value> = skus.split(',').map(|s| offer(s, true, &[])).collect();
                Reply::json(&json!(rows))
            }
        })
        .await
    }

    /// Every listing read, and the read's outcome.
    async fn read_all(
        t: &Transport,
        since: Option<DateTime<Utc>>,
    ) -> (Vec<String>, Result<(), ChannelError>) {
        let (out, mut batches) = tokio::sync::mpsc::channel(8);
        let outcome = fetch(t, since, &out, &|_| {}).await;
        drop(out);
        let mut skus = Vec::new();
        while let Some(batch) = batches.recv().await {
            skus.extend(batch.into_iter().map(|l| l.sku));
        }
        skus.sort();
        (skus, outcome)
    }

    #[tokio::test]
    async fn a_full_export_is_polled_until_ready_and_every_file_streamed() {
        let storage = export_server(json!({})).await;
        let server = export_server(json!({"status": "COMPLETED", "urls": [
            "/api/offers/export/async/file/t-1?file=A,B",
            format!("{}/elsewhere/t-1?file=C", storage.url),
        ]}))
        .await;
        let t = test_transport(&server.url);
        let (skus, outcome) = read_all(&t, None).await;
        outcome.unwrap();
        assert_eq!(skus, ["A", "B", "C"]);
        let seen = server.seen();
        let body: Value = serde_json::from_str(&seen[0].body).unwrap();
        assert_eq!(
            body,
            json!({"export_type": "application/json", "items_per_chunk": ITEMS_PER_CHUNK,
                   "include_inactive_offers": true})
        );
        assert_eq!(t.requests()[EXPORT_STATUS], 2);
        assert!(seen
            .iter()
            .all(|s| s.header("authorization") == Some("shop-key-0f3c")));
        // A file on another host never gets the key.
        let elsewhere = storage.seen();
        assert_eq!(elsewhere.len(), 1);
        assert_eq!(elsewhere[0].header("authorization"), None);
    }

    #[tokio::test]
    async fn a_differential_export_names_its_date_and_a_failed_one_says_why() {
        let server = export_server(json!({"status": "FAILED", "urls": [],
            "error": {"code": "EXPORT_FAILED", "detail": "disk full"}}))
        .await;
        let t = test_transport(&server.url);
        let since = crate::clock::parse("2026-03-01T10:00:00Z");
        let (skus, outcome) = read_all(&t, since).await;
        assert!(skus.is_empty());
        let error = outcome.unwrap_err().to_string();
        assert!(
            error.contains("t-1 failed: EXPORT_FAILED: disk full"),
            "{error}"
        );
        let body: Value = serde_json::from_str(&server.seen()[0].body).unwrap();
        assert_eq!(body["last_request_date"], "2026-03-01T10:00:00.000Z");
        assert!(body.get("include_inactive_offers").is_none());
    }

    /// Where an answer's error says the problem is: a position in the body, or a field
    /// by name.
    fn placed(message: &str) -> bool {
        message.contains(" at line ") || message.contains('`')
    }

    /// Export chunks (OF54) and export statuses (OF53) of any shape: never a panic; a
    /// chunk that cannot be read says where; a listing is keyed by its shop SKU byte for
    /// byte, and deleted offers are never active.
    #[test]
    #[ignore = "fuzzing: make fuzz"]
    fn fuzz_mirakl_export_chunk() {
        use crate::http::fuzz::{self, text_body};
        let mut chunk = json!([
            offer("LS-S ", true, &[]),
            offer("Ü\u{200B}-1", false, &["ZERO_QUANTITY"]),
            offer("LS-L", false, &["ZERO_QUANTITY", "SHOP_NOT_OPEN"]),
            {"offer_id": 9, "shop_sku": "OLD-1", "product_sku": null, "active": true,
             "deleted": true, "last_updated": "02/01/2026"},
        ]);
        chunk[1]["inactivity_reasons"] = json!(["ZERO_QUANTITY", null]);
        let status = json!({"status": "COMPLETED", "urls": ["/a?file=1", "https://x/b"],
                            "error": {"code": "EXPORT_FAILED", "detail": null}});
        fuzz::run("mirakl_export_chunk", |rng, input| {
            if rng.u8(..4) == 0 {
                *input = text_body(rng, &status);
                return match json::<ExportStatus>(input) {
                    Ok(_) => Ok(()),
                    Err(e) if !placed(&e.to_string()) => Err(format!("says nowhere: {e}")),
                    Err(_) => Ok(()),
                };
            }
            *input = text_body(rng, &chunk);
            let offers = match json::<Vec<ExportOffer>>(input) {
                Ok(offers) => offers,
                Err(e) if !placed(&e.to_string()) => return Err(format!("says nowhere: {e}")),
                Err(_) => return Ok(()),
            };
            let listings: Vec<Listing> =
                offers.into_iter().map(ExportOffer::into_listing).collect();
            let Ok(Value::Array(written)) = serde_json::from_str::<Value>(input) else {
                return Ok(());
            };
            for (l, w) in listings.iter().zip(&written) {
                // serde also reads an offer from a list of its fields in turn.
                let Some(offer) = w.as_object() else {
                    continue;
                };
                let sku = offer["shop_sku"].as_str().unwrap_or_default();
                if l.sku != sku || l.product_id != sku {
                    return Err(format!(
                        "shop SKU {sku:?} read as {:?}/{:?}",
                        l.sku, l.product_id
                    ));
                }
                let deleted = offer.get("deleted").and_then(Value::as_bool) == Some(true);
                if deleted && l.status != ListingStatus::Deleted {
                    return Err(format!("a deleted offer read as {:?}", l.status));
                }
            }
            Ok(())
        });
    }
}
