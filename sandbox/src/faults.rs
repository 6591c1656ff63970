//! Fault and latency injection for the API routes, and per-endpoint request counts.
//!
//! A rule matches requests by method and path prefix and fires `times` times.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::App;

#[derive(Debug, Clone, Deserialize)]
pub struct FaultRule {
    /// Matches when the request path starts with this (e.g. `/v2/stock/product`,
    /// `/admin/api`).
    pub path: String,
    /// Optional HTTP method to match (`PUT`, `POST`...).
    #[serde(default)]
    pub method: Option<String>,
    /// Optional GraphQL operation to match (the request body's `operationName`, e.g.
    /// `OrderCreate`): every Shopify call shares one path.
    #[serde(default)]
    pub operation: Option<String>,
    pub kind: FaultKind,
    /// How many matching requests this rule affects.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status (and optional `Retry-After` seconds and body)
    /// without running the handler.
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<u32>,
        #[serde(default)]
        body: Option<String>,
    },
    /// An HTML error page, as a proxy or load balancer would send.
    Html { status: u16 },
    /// Run the handler, then cut its body in half.
    Truncated,
    /// Wait this long before handling (clients time out meanwhile). A client that
    /// goes away meanwhile cancels the request: nothing is committed.
    Delay { ms: u64 },
    /// Run the handler (so its effect is committed), then wait this long before
    /// answering: the window where a client killed now never learns the outcome.
    DelayAfter { ms: u64 },
    /// Run the handler (so its effect is committed), then answer with this status.
    StatusAfter { status: u16 },
    /// Shopify only: HTTP 200 with a THROTTLED GraphQL error and no data.
    Throttled,
    /// Nothing runs; the answer promises a body it never sends, so the connection is
    /// cut mid-answer, as a reset one is.
    Reset,
}

#[derive(Default)]
pub struct Faults(Mutex<Vec<FaultRule>>);

impl Faults {
    pub fn add(&self, rule: FaultRule) {
        self.0.lock().unwrap().push(rule);
    }

    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    /// Whether a rule needs the GraphQL operation name of requests to this path.
    fn wants_operation(&self, path: &str) -> bool {
        let rules = self.0.lock().unwrap();
        rules
            .iter()
            .any(|r| r.operation.is_some() && path.starts_with(&r.path))
    }

    /// Takes one firing of the first rule matching this request.
    fn take(&self, method: &str, path: &str, operation: Option<&str>) -> Option<FaultKind> {
        let mut rules = self.0.lock().unwrap();
        let i = rules.iter().position(|r| {
            path.starts_with(&r.path)
                && r.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && r.operation.as_deref().is_none_or(|o| Some(o) == operation)
        })?;
        let kind = rules[i].kind.clone();
        rules[i].times -= 1;
        if rules[i].times == 0 {
            rules.remove(i);
        }
        Some(kind)
    }
}

/// The request with its body read, and the GraphQL `operationName` in it, if any.
async fn operation_name(req: Request) -> (Request, Option<String>) {
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let name = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["operationName"].as_str().map(String::from));
    (Request::from_parts(parts, Body::from(bytes)), name)
}

/// Replaces digits-only path segments with `{id}` so counts group by endpoint.
pub fn endpoint_label(method: &str, path: &str) -> String {
    let norm: Vec<&str> = path
        .split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
                "{id}"
            } else {
                seg
            }
        })
        .collect();
    format!("{method} {}", norm.join("/"))
}

pub async fn middleware(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    app.count(&endpoint_label(&method, &path));
    let latency = app.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (req, operation) = if app.faults.wants_operation(&path) {
        operation_name(req).await
    } else {
        (req, None)
    };
    let Some(kind) = app.faults.take(&method, &path, operation.as_deref()) else {
        return next.run(req).await;
    };
    match kind {
        FaultKind::Status {
            status,
            retry_after,
            body,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = (status, body.unwrap_or_default()).into_response();
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert("retry-after", HeaderValue::from(secs));
            }
            resp
        }
        FaultKind::Html { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let page = format!(
                "<html><head><title>{status}</title></head><body><h1>{status}</h1><p>upstream error</p></body></html>"
            );
            (status, [("content-type", "text/html")], page).into_response()
        }
        FaultKind::Truncated => {
            let resp = next.run(req).await;
            let (mut parts, body) = resp.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            let cut = bytes.slice(0..bytes.len() / 2);
            parts.headers.remove("content-length");
            Response::from_parts(parts, Body::from(cut))
        }
        FaultKind::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        FaultKind::DelayAfter { ms } => {
            let resp = next.run(req).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            resp
        }
        FaultKind::StatusAfter { status } => {
            let _ = next.run(req).await;
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, "internal error").into_response()
        }
        FaultKind::Reset => {
            let mut resp = (StatusCode::OK, "{\"cut\":").into_response();
            resp.headers_mut()
                .insert("content-length", HeaderValue::from(100_000u32));
            resp
        }
        FaultKind::Throttled => {
            let body = serde_json::json!({
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": 752, "actualQueryCost": null,
                    "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 0,
                    "restoreRate": 100.0}}}
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> FaultRule {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn rules_match_path_method_and_graphql_operation_and_wear_out() {
        let faults = Faults::default();
        let graphql = "/admin/api/2026-10/graphql.json";
        faults.add(rule(serde_json::json!({
            "path": "/admin/api", "method": "POST", "operation": "OrderCreate",
            "kind": {"type": "delay_after", "ms": 5}, "times": 2
        })));
        assert!(faults.wants_operation(graphql));
        assert!(!faults.wants_operation("/v2/orders"));
        assert!(faults.take("POST", graphql, Some("Orders")).is_none());
        assert!(faults.take("POST", graphql, None).is_none());
        assert!(faults.take("GET", graphql, Some("OrderCreate")).is_none());
        for _ in 0..2 {
            assert!(matches!(
                faults.take("POST", graphql, Some("OrderCreate")),
                Some(FaultKind::DelayAfter { ms: 5 })
            ));
        }
        assert!(faults.take("POST", graphql, Some("OrderCreate")).is_none());
    }
}
