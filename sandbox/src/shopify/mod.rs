//! Shopify's Admin GraphQL API (the 2025-01 subset in `schema.graphql`), client-credentials
//! tokens, bulk query operations, and a control API for tests and demos.

mod auth;
mod bulk;
mod control;
mod cost;
mod doc;
mod fulfil;
mod graphql;
mod orders;
mod resolve;
mod search;
mod store;

use std::collections::HashMap;
use std::sync::{Arc, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{json, Value};

use crate::App;
use cost::Bucket;
pub use store::{
    FixtureLocation, FixtureProduct, FixtureVariant, Plan, ProductStatus, ShopifyFixture,
};

/// UNCONFIRMED: Shopify's body for a request that is not JSON (the 400 is documented).
const NOT_JSON: &str = "Content-Type must be application/json";
/// UNCONFIRMED: Shopify's body for a JSON body without a query.
const NO_QUERY: &str = "Required parameter missing or invalid";

pub struct ShopifyState {
    catalog: store::Catalog,
    auth: auth::Auth,
    plan: Plan,
    /// Leaky bucket per access token.
    buckets: HashMap<String, Bucket>,
    bulk: bulk::BulkState,
}

impl ShopifyState {
    pub fn new(fixture: ShopifyFixture) -> Self {
        let ShopifyFixture {
            shop,
            name,
            access_token,
            client_id,
            client_secret,
            plan,
            dev_store,
            updated_at,
            locations,
            products,
        } = fixture;
        let mut catalog = store::Catalog::new(shop, name, updated_at, locations, products);
        catalog.orders = orders::OrderBook::new(dev_store);
        ShopifyState {
            catalog,
            auth: auth::Auth::new(access_token, client_id, client_secret),
            plan,
            buckets: HashMap::new(),
            bulk: bulk::BulkState::default(),
        }
    }

    pub fn dump(&self) -> Value {
        self.catalog.dump()
    }

    /// One GraphQL HTTP request: status, body and the label to count it under (`None`
    /// when it never reached GraphQL).
    fn graphql(
        &mut self,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
        base_url: &str,
    ) -> (StatusCode, Value, Option<String>) {
        let is_json = content_type
            .and_then(|ct| ct.split(';').next())
            .is_some_and(|ct| ct.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return (StatusCode::BAD_REQUEST, json!({"errors": NOT_JSON}), None);
        }
        let Some(token) = token.filter(|t| self.auth.is_valid(t)) else {
            return (
                StatusCode::UNAUTHORIZED,
                json!({"errors": auth::INVALID_TOKEN}),
                None,
            );
        };
        let Ok(req) = serde_json::from_slice::<graphql::Request>(body) else {
            return (
                StatusCode::BAD_REQUEST,
                json!({"errors": {"query": NO_QUERY}}),
                None,
            );
        };
        let plan = self.plan;
        let bucket = self
            .buckets
            .entry(token.to_string())
            .or_insert_with(|| Bucket::new(plan.restore_rate()));
        let target = graphql::Target {
            cat: &mut self.catalog,
            bulk: &mut self.bulk,
            bucket,
            base_url,
            now: store::now(),
        };
        let reply = graphql::run(target, &req);
        (StatusCode::OK, reply.body, Some(reply.label))
    }
}

fn lock(app: &App) -> MutexGuard<'_, ShopifyState> {
    app.shopify.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The API routes (faults, latency and counts apply).
pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/admin/api/{version}/graphql.json", post(graphql_route))
        .route("/admin/oauth/access_token", post(token_route))
        .route("/shopify-bulk/{file}", get(bulk_file_route))
}

/// `/_sandbox/shopify/*`.
pub fn control_router() -> Router<Arc<App>> {
    control::router()
}

/// `YYYY-MM` or `unstable`.
fn is_api_version(v: &str) -> bool {
    let b = v.as_bytes();
    v == "unstable"
        || (b.len() == 7
            && b[4] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || c.is_ascii_digit()))
}

async fn graphql_route(
    State(app): State<Arc<App>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_api_version(&version) {
        return (StatusCode::NOT_FOUND, Json(json!({"errors": "Not Found"}))).into_response();
    }
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let token = header("x-shopify-access-token");
    let content_type = header(header::CONTENT_TYPE.as_str());
    let (status, reply, label) = lock(&app).graphql(token, content_type, &body, &app.base_url);
    if let Some(label) = label {
        app.count(&format!("graphql {label}"));
    }
    (status, Json(reply)).into_response()
}

async fn token_route(
    State(app): State<Arc<App>>,
    form: Result<Form<auth::TokenRequest>, FormRejection>,
) -> Response {
    let Ok(Form(req)) = form else {
        let body = json!({"error": "invalid_request", "error_description": "The request is missing a required parameter or is malformed."});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    };
    match lock(&app).auth.mint(&req) {
        Ok(reply) => Json(reply).into_response(),
        Err(error) => (StatusCode::BAD_REQUEST, Json(error)).into_response(),
    }
}

async fn bulk_file_route(State(app): State<Arc<App>>, Path(file): Path<String>) -> Response {
    let id = file.strip_suffix(".jsonl").and_then(|id| id.parse().ok());
    match id.and_then(|id| lock(&app).bulk.file(id)) {
        Some(bytes) => ([(header::CONTENT_TYPE, "application/jsonl")], bytes).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "NoSuchKey: The specified key does not exist.",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests;
