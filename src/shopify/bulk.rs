//! The full catalog through one bulk query: start it (without ever starting it twice
//! by accident), poll until it ends, stream its JSONL result.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tracing::{debug, info};

use super::jsonl::{LineError, Parser};
use super::queries::{BULK_CATALOG, BULK_RUN, CURRENT_BULK};
use super::transport::{status_failure, Failure, Reply, Transport};
use super::{CatalogSink, ShopifyError};

const DOWNLOAD: &str = "GET bulk result";
/// The result file of a big catalog takes longer than one API call may.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const POLL_FIRST: Duration = Duration::from_millis(500);
const POLL_MAX: Duration = Duration::from_secs(5);
/// An unattended run gives up on an operation that runs longer than this, rather than
/// hold the run lock indefinitely (Shopify allows a bulk query 10 days).
const BULK_DEADLINE: Duration = Duration::from_secs(2 * 60 * 60);
/// A completed operation running our query counts as ours if it was created at most
/// this long before we first tried to start one (a run cut off after starting it).
const ADOPT_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(10);
/// `on_progress` is called at most once per this many objects (and at the end).
const PROGRESS_STEP: u64 = 1000;
/// Objects parsed are handed to the sink this many at a time.
const STORE_BATCH: usize = 5000;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkOperation {
    id: String,
    status: String,
    error_code: Option<String>,
    created_at: DateTime<Utc>,
    query: String,
    url: Option<String>,
}

impl BulkOperation {
    fn runs_catalog_query(&self) -> bool {
        same_document(&self.query, BULK_CATALOG)
    }

    fn is_live(&self) -> bool {
        matches!(self.status.as_str(), "CREATED" | "RUNNING")
    }
}

/// Equal up to whitespace: Shopify may hand the query back reformatted.
fn same_document(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunData {
    bulk_operation_run_query: Option<RunPayload>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunPayload {
    bulk_operation: Option<BulkOperation>,
    user_errors: Vec<UserError>,
}

#[derive(Deserialize)]
struct UserError {
    code: Option<String>,
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CurrentData {
    current_bulk_operation: Option<BulkOperation>,
}

/// Runs the catalog query and streams its result into `sink`; returns the read's
/// watermark (Shopify's clock before it started).
pub(super) async fn catalog<S: CatalogSink>(
    t: &Transport,
    sink: &mut S,
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<DateTime<Utc>, ShopifyError> {
    let (operation, read_at) = start(t).await?;
    debug!(id = %operation.id, "Shopify bulk query started");
    let operation = finish(t, operation).await?;
    match &operation.url {
        Some(url) => download(t, url, sink, on_progress).await?,
        // COMPLETED without a file: nothing matched the query.
        None => sink.restart().map_err(store_failure)?,
    }
    Ok(read_at)
}

/// Starts the catalog query, or adopts one already running it. Returns the operation
/// and the read's watermark: the server clock before it started.
async fn start(t: &Transport) -> Result<(BulkOperation, DateTime<Utc>), ShopifyError> {
    let first_try = Utc::now();
    let mut read_at = None;
    let variables = json!({ "query": BULK_CATALOG });
    let mut attempt = 1;
    let operation = loop {
        match t.run::<RunData>(&BULK_RUN, &variables).await {
            Ok(reply) => {
                read_at.get_or_insert(reply.date.unwrap_or(first_try));
                break started(t, reply.data).await?;
            }
            Err(error) if outcome_unknown(&error) && attempt < t.backoff().attempts => {
                info!(%error, "bulkOperationRunQuery may have run: checking before re-running");
                let current = current(t).await?;
                read_at.get_or_insert(current.date.unwrap_or(first_try));
                let ours = current.data.filter(|op| {
                    op.runs_catalog_query()
                        && (op.is_live()
                            || (op.status == "COMPLETED"
                                && op.created_at >= first_try - ADOPT_WINDOW))
                });
                if let Some(operation) = ours {
                    break operation;
                }
                tokio::time::sleep(t.backoff().delay(attempt)).await;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    };
    // An adopted operation may predate this read; the earlier clock is the safe mark.
    let read_at = read_at.unwrap_or(first_try).min(operation.created_at);
    Ok((operation, read_at))
}

/// The operation a successful `bulkOperationRunQuery` reply describes.
async fn started(t: &Transport, data: RunData) -> Result<BulkOperation, ShopifyError> {
    let payload = data
        .bulk_operation_run_query
        .ok_or_else(|| ShopifyError::Decode {
            op: BULK_RUN.label,
            message: "bulkOperationRunQuery is null".into(),
        })?;
    if payload.user_errors.is_empty() {
        return payload.bulk_operation.ok_or_else(|| ShopifyError::Decode {
            op: BULK_RUN.label,
            message: "neither bulkOperation nor userErrors".into(),
        });
    }
    let messages: Vec<String> = payload
        .user_errors
        .iter()
        .map(|e| match &e.code {
            Some(code) => format!("{code}: {}", e.message),
            None => e.message.clone(),
        })
        .collect();
    let in_progress = payload
        .user_errors
        .iter()
        .any(|e| e.code.as_deref() == Some("OPERATION_IN_PROGRESS"));
    let mut message = messages.join("; ");
    if in_progress {
        // Ours, from an earlier attempt or an interrupted run: use it.
        if let Some(operation) = current(t).await?.data {
            if operation.runs_catalog_query() && operation.is_live() {
                return Ok(operation);
            }
        }
        message.push_str(" (another bulk query of this app is running; the next pass tries again)");
    }
    Err(ShopifyError::Bulk { message })
}

/// Errors after which the mutation may or may not have run on Shopify's side.
fn outcome_unknown(error: &ShopifyError) -> bool {
    match error {
        ShopifyError::Http { status, .. } => *status >= 500,
        ShopifyError::Transport { .. } | ShopifyError::Decode { .. } => true,
        _ => false,
    }
}

async fn current(t: &Transport) -> Result<Reply<Option<BulkOperation>>, ShopifyError> {
    let reply = t.run::<CurrentData>(&CURRENT_BULK, &json!({})).await?;
    Ok(Reply {
        data: reply.data.current_bulk_operation,
        date: reply.date,
    })
}

/// Polls `currentBulkOperation` until `operation` ends.
async fn finish(
    t: &Transport,
    mut operation: BulkOperation,
) -> Result<BulkOperation, ShopifyError> {
    let deadline = Instant::now() + BULK_DEADLINE;
    let mut delay = POLL_FIRST;
    loop {
        match operation.status.as_str() {
            "COMPLETED" => return Ok(operation),
            "FAILED" | "CANCELED" | "EXPIRED" => {
                let code = operation.error_code.as_deref().unwrap_or("no error code");
                return Err(ShopifyError::Bulk {
                    message: format!(
                        "operation {} ended {} ({code})",
                        operation.id, operation.status
                    ),
                });
            }
            // CREATED, RUNNING, CANCELING, or a status added later: still going.
            _ => {}
        }
        if Instant::now() >= deadline {
            return Err(ShopifyError::Bulk {
                message: format!(
                    "operation {} still {} after {} minutes",
                    operation.id,
                    operation.status,
                    BULK_DEADLINE.as_secs() / 60
                ),
            });
        }
        tokio::time::sleep(delay).await;
        delay = next_poll(delay);
        operation = match current(t).await?.data {
            Some(now) if now.id == operation.id => now,
            Some(other) => {
                return Err(ShopifyError::Bulk {
                    message: format!(
                        "operation {} was replaced by {} before it finished",
                        operation.id, other.id
                    ),
                })
            }
            None => {
                return Err(ShopifyError::Bulk {
                    message: format!("operation {} is no longer reported", operation.id),
                })
            }
        };
        debug!(id = %operation.id, status = %operation.status, "Shopify bulk query polled");
    }
}

/// Poll intervals grow by half from 500 ms to 5 s.
fn next_poll(delay: Duration) -> Duration {
    (delay + delay / 2).min(POLL_MAX)
}

/// Streams the result file through the JSONL parser into `sink`, a batch at a time; a
/// cut-off or failed download starts over (and so does the sink).
async fn download<S: CatalogSink>(
    t: &Transport,
    url: &str,
    sink: &mut S,
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<(), ShopifyError> {
    let sink = std::sync::Mutex::new(sink);
    t.retry(DOWNLOAD, true, |attempt| {
        download_once(t, url, &sink, on_progress, attempt)
    })
    .await
}

async fn download_once<S: CatalogSink>(
    t: &Transport,
    url: &str,
    sink: &std::sync::Mutex<&mut S>,
    on_progress: &(dyn Fn(u64) + Sync),
    attempt: u32,
) -> Result<(), Failure> {
    t.count(DOWNLOAD);
    debug!(op = DOWNLOAD, attempt, "downloading the bulk result");
    // A signed URL: no Shopify token.
    let response = t
        .http()
        .get(url)
        .timeout(DOWNLOAD_TIMEOUT)
        .send()
        .await
        .map_err(|e| t.transport_failure(DOWNLOAD, e, attempt))?;
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        let backoff = t.backoff();
        return Err(status_failure(
            DOWNLOAD, status, &headers, &body, false, backoff, attempt,
        ));
    }
    let put = |(variants, levels)| {
        let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
        sink.put(variants, levels)
            .map_err(|e| Failure::Fatal(store_failure(e)))
    };
    sink.lock()
        .unwrap_or_else(|e| e.into_inner())
        .restart()
        .map_err(|e| Failure::Fatal(store_failure(e)))?;
    let mut parser = Parser::default();
    let mut reported = 0;
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| t.transport_failure(DOWNLOAD, e, attempt))?;
        parser
            .feed(&chunk)
            .map_err(|e| line_failure(e, t, attempt))?;
        if parser.buffered() >= STORE_BATCH {
            put(parser.take())?;
        }
        if parser.objects() >= reported + PROGRESS_STEP {
            reported = parser.objects();
            on_progress(reported);
        }
    }
    let objects = parser.objects();
    put(parser.finish().map_err(|e| line_failure(e, t, attempt))?)?;
    on_progress(objects);
    Ok(())
}

fn store_failure(message: String) -> ShopifyError {
    ShopifyError::Store { message }
}

fn line_failure(e: LineError, t: &Transport, attempt: u32) -> Failure {
    let error = ShopifyError::Decode {
        op: DOWNLOAD,
        message: format!("line {}: {}", e.line, e.message),
    };
    if e.retryable {
        Failure::Retry {
            reason: error,
            wait: t.backoff().delay(attempt),
            maybe_applied: true,
        }
    } else {
        Failure::Fatal(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_grows_from_half_a_second_to_five() {
        let mut delays = vec![POLL_FIRST];
        while *delays.last().unwrap() < POLL_MAX {
            delays.push(next_poll(*delays.last().unwrap()));
        }
        let ms: Vec<u128> = delays.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, [500, 750, 1125, 1687, 2531, 3796, 5000]);
        assert_eq!(next_poll(POLL_MAX), POLL_MAX);
    }

    #[test]
    fn a_reformatted_query_is_the_same_query() {
        let compact = BULK_CATALOG
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(same_document(&compact, BULK_CATALOG));
        assert!(!same_document(
            "{ productVariants { edges { node { id } } } }",
            BULK_CATALOG
        ));
    }

    #[test]
    fn only_failures_that_may_have_run_the_mutation_are_ambiguous() {
        let op = "graphql BulkOperationRunQuery";
        let http = |status| ShopifyError::Http {
            status,
            op,
            snippet: String::new(),
        };
        assert!(outcome_unknown(&http(502)));
        assert!(!outcome_unknown(&http(400)));
        assert!(outcome_unknown(&ShopifyError::Transport {
            op,
            message: "timed out".into()
        }));
        assert!(!outcome_unknown(&ShopifyError::Unauthorized {
            op,
            status: 401
        }));
        assert!(!outcome_unknown(&ShopifyError::GraphQl {
            op,
            messages: vec![]
        }));
    }
}
