//! The error answer every Mirakl route gives, and the request parsing that turns bad
//! input into it.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// UNCONFIRMED: Mirakl's error body is taken to be `{"message", "status"}`, plus `code`
/// where the operation documents error codes (OR21's `ORDER_LINE_NOT_FOUND`...). Change
/// the shape here, and only here.
pub(super) fn error_body(status: StatusCode, message: &str, code: Option<&str>) -> Value {
    let mut body = json!({"message": message, "status": status.as_u16()});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    body
}

#[derive(Debug)]
pub(super) struct MiraklError {
    pub(super) status: StatusCode,
    pub(super) message: String,
    pub(super) code: Option<&'static str>,
}

impl MiraklError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            code: None,
        }
    }

    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The same error, carrying one of the operation's documented error codes.
    pub(super) fn with_code(self, code: &'static str) -> Self {
        Self {
            code: Some(code),
            ..self
        }
    }

    pub(super) fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized")
    }

    pub(super) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub(super) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// A call sooner than the operation's frequency limit allows.
    pub(super) fn too_many_requests() -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
    }
}

impl IntoResponse for MiraklError {
    fn into_response(self) -> Response {
        let body = error_body(self.status, &self.message, self.code);
        (self.status, Json(body)).into_response()
    }
}

impl From<PathRejection> for MiraklError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

impl From<QueryRejection> for MiraklError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

/// A JSON request body as `T`, whatever its Content-Type says; an empty body reads as
/// `{}` (Mirakl's bodies are optional where every field is).
pub(super) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, MiraklError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| MiraklError::bad_request(format!("the body is not valid: {e}")))
}
