//! Every call carries the shop's API key, raw, in `Authorization` (no `Bearer`), and may
//! name the shop in a `shop_id` query parameter (for users with several shops). The
//! [`Call`] extractor holds both; handlers `admit` it first, so every call is counted
//! and checked before anything else. `GET /api/account` (A01) describes the shop.

use std::fmt;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::MiraklError;
use super::limits::Limit;
use super::{wire_time, PREFIX};
use crate::App;

/// The shop's API key. `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The one shop the sandbox serves.
pub(super) struct Shop {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) api_key: ApiKey,
    pub(super) currency_iso_code: String,
    pub(super) date_created: DateTime<Utc>,
}

/// UNCONFIRMED: a `shop_id` the key has no access to is taken to be refused 403.
fn foreign_shop(id: &str) -> MiraklError {
    MiraklError::new(
        StatusCode::FORBIDDEN,
        format!("You do not have access to the shop {id}"),
    )
}

/// A request's credentials and URI, taken without failing so that the handler can
/// count the call before refusing it.
pub(super) struct Call {
    authorization: Option<String>,
    uri: Uri,
}

impl FromRequestParts<Arc<App>> for Call {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &Arc<App>) -> Result<Self, Self::Rejection> {
        let authorization = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        Ok(Self {
            authorization,
            uri: parts.uri.clone(),
        })
    }
}

#[derive(Deserialize)]
struct ShopParam {
    shop_id: Option<String>,
}

impl Call {
    /// Counts the call as `mirakl {operation}`, then checks the key (401) and any
    /// `shop_id` (400 when not a number, 403 when another shop's), then the frequency
    /// `limit` for `key`.
    pub(super) fn admit(
        &self,
        app: &App,
        operation: &str,
        limit: Limit,
        key: &str,
    ) -> Result<(), MiraklError> {
        self.authenticate(app, operation)?;
        let now = std::time::Instant::now();
        app.mirakl.lock().unwrap().limits.check(limit, key, now)
    }

    /// [`Call::admit`] without the frequency limit, for operations that check it
    /// once they know which limit applies (OF52's full and differential exports).
    pub(super) fn authenticate(&self, app: &App, operation: &str) -> Result<(), MiraklError> {
        app.count(&format!("mirakl {operation}"));
        let state = app.mirakl.lock().unwrap();
        let shop = &state.shop;
        if self.authorization.as_deref() != Some(shop.api_key.0.as_str()) {
            return Err(MiraklError::unauthorized());
        }
        let ShopParam { shop_id } = self.query()?;
        match shop_id.map(|id| (id.parse::<u64>(), id)) {
            None => Ok(()),
            Some((Ok(n), _)) if n == shop.id => Ok(()),
            Some((Ok(_), id)) => Err(foreign_shop(&id)),
            Some((Err(_), id)) => Err(MiraklError::bad_request(format!(
                "shop_id must be a number, got {id:?}"
            ))),
        }
    }

    /// The query string as `T`.
    pub(super) fn query<T: DeserializeOwned>(&self) -> Result<T, MiraklError> {
        Ok(Query::try_from_uri(&self.uri)?.0)
    }
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new().route(&format!("{PREFIX}/api/account"), get(account))
}

/// A01: the shop as Mirakl describes it (a subset: identity, state, currency, counts).
async fn account(call: Call, State(app): State<Arc<App>>) -> Result<Json<Value>, MiraklError> {
    call.admit(&app, "A01", Limit::A01, "")?;
    let state = app.mirakl.lock().unwrap();
    let shop = &state.shop;
    Ok(Json(json!({
        "shop_id": shop.id,
        "shop_name": shop.name,
        "shop_state": "OPEN",
        "currency_iso_code": shop.currency_iso_code,
        "date_created": wire_time(shop.date_created),
        "is_professional": true,
        "premium": false,
        "offers_count": state.offers.live().filter(|o| o.active()).count(),
        "channels": [],
    })))
}
