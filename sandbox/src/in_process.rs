//! Tests' way into a whole sandbox (fault middleware included) without a socket: the
//! router driven in-process, each answer read whole.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::Response;
use serde_json::Value;

use crate::{Fixture, Options, Sandbox};

/// An answer: status, headers, the raw bytes and, when they are JSON, the body.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub body: Value,
}

pub(crate) struct InProcess {
    pub sandbox: Sandbox,
}

/// `Router` is a tower `Service`; the sandbox has no direct tower dependency, so
/// reach `call` through axum's `ServiceExt`, whose supertrait it is.
async fn call<S>(mut service: S, request: Request<Body>) -> Response
where
    S: axum::ServiceExt<Request<Body>, Response = Response, Error = Infallible>,
{
    match service.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

impl InProcess {
    pub async fn start(fixture: Fixture) -> Self {
        let addr = "127.0.0.1:0".parse().unwrap();
        let sandbox = crate::start(fixture, addr, Options::default())
            .await
            .unwrap();
        Self { sandbox }
    }

    pub async fn send(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let router = crate::router(self.sandbox.app.clone());
        let response = call(router, request.body(body.into()).unwrap()).await;
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            bytes: bytes.to_vec(),
        }
    }
}
