//! RFC 7807 problem responses, the error shape of every v2 endpoint.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// UNCONFIRMED: The Iconic's problem `type` URIs are not public. RFC 7807's
/// `about:blank` says "nothing beyond the status", so the title is the status phrase,
/// except for the few titles The Iconic is known to use (see [`Problem::titled`]), whose
/// type is just as unknown and stays `about:blank`.
const PROBLEM_TYPE: &str = "about:blank";

#[derive(Debug)]
pub(super) struct Problem {
    status: StatusCode,
    /// `None`: the status phrase.
    title: Option<&'static str>,
    detail: String,
}

impl Problem {
    pub(super) fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            title: None,
            detail: detail.into(),
        }
    }

    /// A problem with one of The Iconic's own titles (e.g. "Status Transition is not
    /// allowed", PIA's `GeneralError`).
    pub(super) fn titled(
        status: StatusCode,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            title: Some(title),
            ..Self::new(status, detail)
        }
    }

    pub(super) fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub(super) fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub(super) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub(super) fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = json!({
            "type": PROBLEM_TYPE,
            "title": self
                .title
                .or(self.status.canonical_reason())
                .unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        let mut response = (
            self.status,
            [(CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: a 401 from a Bearer-protected resource names the scheme.
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// axum's own rejections answer in plain text; ours answer as problems.
macro_rules! problem_from_rejection {
    ($($rejection:ty),*) => {$(
        impl From<$rejection> for Problem {
            fn from(rejection: $rejection) -> Self {
                Self::new(rejection.status(), rejection.body_text())
            }
        }
    )*};
}

problem_from_rejection!(JsonRejection, PathRejection, QueryRejection);
