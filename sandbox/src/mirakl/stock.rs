//! Stock imports: STO01 (`POST /api/offers/stock/imports`, multipart `file`) takes a CSV
//! of offer quantities and answers an import id at once, applying nothing; the import
//! moves on as STO02 (`GET .../{import_id}/status`) polls it — WAITING, RUNNING, then
//! COMPLETE (the valid lines applied) or FAILED (nothing applied) — and STO03 (`GET
//! .../{import_id}/error_report`) serves the lines in error.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::auth::Call;
use super::error::MiraklError;
use super::limits::Limit;
use super::offers::Offers;
use super::{csv, multipart, now, wire_time, PREFIX};
use crate::App;

/// Import ids count up from here (Mirakl's are numbers, sent as strings).
const FIRST_IMPORT_ID: u64 = 1001;

const OFFER_SKU: &str = "offer-sku";
const QUANTITY: &str = "quantity";
const WAREHOUSE_CODE: &str = "warehouse-code";
const UPDATE_DELETE: &str = "update-delete";

pub(super) struct Imports {
    list: Vec<Import>,
    /// STO02 reads an import answers before it completes.
    reads_to_complete: u32,
    /// Imports stay where they are (new ones WAITING) until released.
    held: bool,
    /// The next import uploaded fails.
    fail_next: bool,
}

struct Import {
    id: u64,
    date_created: DateTime<Utc>,
    file: Vec<u8>,
    status_reads: u32,
    fails: bool,
    outcome: Option<Outcome>,
}

/// What processing an import came to.
struct Outcome {
    failed: bool,
    lines_in_success: usize,
    /// The file's header, which the error report repeats.
    header: Vec<String>,
    errors: Vec<LineError>,
}

impl Outcome {
    fn failed() -> Self {
        Self {
            failed: true,
            lines_in_success: 0,
            header: Vec::new(),
            errors: Vec::new(),
        }
    }
}

struct LineError {
    /// 1-based, the header being line 1.
    line: usize,
    message: String,
    fields: Vec<String>,
}

impl Import {
    fn status(&self) -> &'static str {
        match (&self.outcome, self.status_reads) {
            (Some(o), _) if o.failed => "FAILED",
            (Some(_), _) => "COMPLETE",
            (None, 0 | 1) => "WAITING",
            (None, _) => "RUNNING",
        }
    }

    fn status_json(&self, shop_id: u64) -> Value {
        let (success, errors) = self
            .outcome
            .as_ref()
            .map_or((0, 0), |o| (o.lines_in_success, o.errors.len()));
        json!({
            "import_id": self.id.to_string(),
            "shop_id": shop_id,
            "status": self.status(),
            "lines_in_success": success,
            "lines_in_error": errors,
            "has_error_report": errors > 0,
            "date_created": wire_time(self.date_created),
        })
    }
}

impl Imports {
    pub(super) fn new(reads_to_complete: u32) -> Self {
        Self {
            list: Vec::new(),
            reads_to_complete,
            held: false,
            fail_next: false,
        }
    }

    pub(super) fn fail_next(&mut self) {
        self.fail_next = true;
    }

    pub(super) fn hold(&mut self, held: bool) {
        self.held = held;
    }

    fn get_mut(&mut self, id: &str) -> Result<&mut Import, MiraklError> {
        let index = id
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_sub(FIRST_IMPORT_ID))
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i < self.list.len());
        match index {
            Some(i) => Ok(&mut self.list[i]),
            None => Err(MiraklError::not_found(format!("import {id} not found"))),
        }
    }

    /// One STO02 read: the import moves on (and is processed once it has been read
    /// `reads_to_complete` times) unless imports are held.
    fn read(&mut self, id: &str, offers: &mut Offers, shop_id: u64) -> Result<Value, MiraklError> {
        let (held, reads_to_complete) = (self.held, self.reads_to_complete);
        let import = self.get_mut(id)?;
        if import.outcome.is_none() && !held {
            import.status_reads = import.status_reads.saturating_add(1);
            if import.status_reads > reads_to_complete {
                let outcome = match import.fails {
                    true => Outcome::failed(),
                    false => process(&import.file, offers, now()),
                };
                import.outcome = Some(outcome);
            }
        }
        Ok(import.status_json(shop_id))
    }

    pub(super) fn dump(&self) -> Value {
        let rows: Vec<Value> = self
            .list
            .iter()
            .map(|i| {
                let lines: Vec<String> = String::from_utf8_lossy(&i.file)
                    .lines()
                    .map(String::from)
                    .collect();
                json!({"import_id": i.id.to_string(), "status": i.status(),
                    "lines_in_success": i.outcome.as_ref().map_or(0, |o| o.lines_in_success),
                    "lines_in_error": i.outcome.as_ref().map_or(0, |o| o.errors.len()),
                    "lines": lines})
            })
            .collect();
        json!(rows)
    }
}

/// UNCONFIRMED: a file Mirakl cannot read as a stock file at all (not UTF-8, no header
/// naming offer-sku and quantity, a column it does not know) fails the whole import
/// rather than being refused at upload.
fn header(text: &str) -> Option<Vec<String>> {
    let known = [OFFER_SKU, QUANTITY, WAREHOUSE_CODE, UPDATE_DELETE];
    let columns = csv::split(text).ok()?;
    let all_known = columns.iter().all(|c| known.contains(&c.as_str()));
    let has = |name: &str| columns.iter().filter(|c| *c == name).count() == 1;
    (all_known && has(OFFER_SKU) && has(QUANTITY)).then_some(columns)
}

/// Applies each valid line in turn; the others go to the error report. A quantity of 0
/// leaves the offer an offer (out of stock).
fn process(file: &[u8], offers: &mut Offers, at: DateTime<Utc>) -> Outcome {
    let Ok(text) = std::str::from_utf8(file) else {
        return Outcome::failed();
    };
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some(columns) = lines.next().and_then(|(_, l)| header(l)) else {
        return Outcome::failed();
    };
    let mut outcome = Outcome {
        failed: false,
        lines_in_success: 0,
        header: columns,
        errors: Vec::new(),
    };
    for (i, line) in lines {
        match apply(&outcome.header, line, offers, at) {
            Ok(()) => outcome.lines_in_success += 1,
            Err((message, fields)) => outcome.errors.push(LineError {
                line: i + 1,
                message,
                fields,
            }),
        }
    }
    outcome
}

/// One line, applied; or why not, with its fields for the error report. UNCONFIRMED:
/// the sandbox shop has no warehouses, so a line naming one is in error.
fn apply(
    columns: &[String],
    line: &str,
    offers: &mut Offers,
    at: DateTime<Utc>,
) -> Result<(), (String, Vec<String>)> {
    let fields = csv::split(line).map_err(|why| (why.to_string(), vec![line.to_string()]))?;
    let reject = |message: String| Err((message, fields.clone()));
    if fields.len() != columns.len() {
        return reject(format!(
            "The line has {} columns, the header {}",
            fields.len(),
            columns.len()
        ));
    }
    let field = |name: &str| {
        columns
            .iter()
            .position(|c| c == name)
            .map_or("", |i| fields[i].trim())
    };
    let Ok(quantity) = field(QUANTITY).parse::<u32>() else {
        return reject(format!(
            "The quantity {:?} is not a whole number of 0 or more",
            field(QUANTITY)
        ));
    };
    if !field(WAREHOUSE_CODE).is_empty() {
        return reject(format!(
            "The warehouse {:?} does not exist",
            field(WAREHOUSE_CODE)
        ));
    }
    if !matches!(field(UPDATE_DELETE), "" | "update") {
        return reject(format!(
            "update-delete must be empty or \"update\", got {:?}",
            field(UPDATE_DELETE)
        ));
    }
    match offers.get_mut(field(OFFER_SKU)) {
        Ok(offer) => {
            offer.set_quantity(quantity, at);
            Ok(())
        }
        Err(_) => reject(format!("The offer {:?} does not exist", field(OFFER_SKU))),
    }
}

/// UNCONFIRMED: STO03's layout. Mirakl documents the line number as the first column
/// and the error reason as the second, ahead of the line as sent; the sandbox names
/// them `error-line` and `error-message`, followed by the file's own header.
fn error_report(outcome: &Outcome) -> String {
    let mut header = vec!["error-line".to_string(), "error-message".to_string()];
    header.extend(outcome.header.iter().cloned());
    let mut text = csv::join(&header);
    for error in &outcome.errors {
        let mut row = vec![error.line.to_string(), error.message.clone()];
        row.extend(error.fields.iter().cloned());
        text.push('\n');
        text.push_str(&csv::join(&row));
    }
    text.push('\n');
    text
}

/// UNCONFIRMED: the largest stock file Mirakl takes (it documents none). Generous, so a
/// file of every level of a million offers (about 25 MB) goes in one import.
const MAX_FILE: usize = 64 * 1024 * 1024;

pub(super) fn routes() -> Router<Arc<App>> {
    let imports = format!("{PREFIX}/api/offers/stock/imports");
    Router::new()
        .route(
            &imports,
            post(upload).layer(DefaultBodyLimit::max(MAX_FILE)),
        )
        .route(&format!("{imports}/{{import_id}}/status"), get(status))
        .route(
            &format!("{imports}/{{import_id}}/error_report"),
            get(report),
        )
}

/// STO01: 201 `{"import_id"}`, nothing applied yet.
async fn upload(
    call: Call,
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), MiraklError> {
    call.admit(&app, "STO01", Limit::Sto01, "")?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let file = multipart::part(content_type, &body, "file")
        .map_err(MiraklError::bad_request)?
        .ok_or_else(|| MiraklError::bad_request("the multipart part \"file\" is required"))?;
    let mut state = app.mirakl.lock().unwrap();
    let imports = &mut state.imports;
    let id = FIRST_IMPORT_ID + imports.list.len() as u64;
    imports.list.push(Import {
        id,
        date_created: now(),
        file: file.to_vec(),
        status_reads: 0,
        fails: std::mem::take(&mut imports.fail_next),
        outcome: None,
    });
    Ok((
        StatusCode::CREATED,
        Json(json!({"import_id": id.to_string()})),
    ))
}

/// STO02, limited per import.
async fn status(
    call: Call,
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, MiraklError> {
    let Path(id) = path?;
    call.admit(&app, "STO02", Limit::Sto02, &id)?;
    let mut guard = app.mirakl.lock().unwrap();
    let state = &mut *guard;
    Ok(Json(state.imports.read(
        &id,
        &mut state.offers,
        state.shop.id,
    )?))
}

/// STO03: the CSV, or 404 while there is none.
async fn report(
    call: Call,
    State(app): State<Arc<App>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, MiraklError> {
    call.admit(&app, "STO03", Limit::Sto03, "")?;
    let Path(id) = path?;
    let mut state = app.mirakl.lock().unwrap();
    let outcome = state.imports.get_mut(&id)?.outcome.as_ref();
    match outcome.filter(|o| !o.errors.is_empty()) {
        Some(outcome) => Ok(([(CONTENT_TYPE, "text/csv")], error_report(outcome)).into_response()),
        None => Err(MiraklError::not_found(format!(
            "import {id} has no error report"
        ))),
    }
}
