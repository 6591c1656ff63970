//! What every v2 endpoint reads from a request: query parameters (arrays repeat as
//! `name[]=a&name[]=b`), `limit`/`offset` paging, and JSON bodies.

use std::str::FromStr;

use axum::extract::{FromRequestParts, Query};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use super::problem::Problem;

/// UNCONFIRMED: the default `limit` of list endpoints (PIA's default).
const DEFAULT_PAGE_LIMIT: usize = 100;

/// UNCONFIRMED: the largest `limit` a list endpoint accepts; larger asks are refused
/// (400) rather than clamped, so a client relying on more shows up in tests.
pub(super) const MAX_PAGE_LIMIT: usize = 100;

/// The query string as ordered pairs; repeated names are kept.
pub(super) struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let Query(pairs) = Query::try_from_uri(&parts.uri)?;
        Ok(Self(pairs))
    }
}

impl Params {
    pub(super) fn first(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(super) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The parameter parsed as `T`; a value that does not parse is a 400.
    pub(super) fn parsed<T: FromStr>(&self, name: &str) -> Result<Option<T>, Problem> {
        self.first(name)
            .map(|value| {
                value
                    .parse()
                    .map_err(|_| Problem::bad_request(format!("invalid {name}: {value:?}")))
            })
            .transpose()
    }
}

/// One page of a list endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Page {
    limit: usize,
    offset: usize,
}

impl Page {
    pub(super) fn from_params(params: &Params) -> Result<Self, Problem> {
        let limit = params.parsed("limit")?.unwrap_or(DEFAULT_PAGE_LIMIT);
        if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
            return Err(Problem::bad_request(format!(
                "limit must be between 1 and {MAX_PAGE_LIMIT}, got {limit}"
            )));
        }
        let offset = params.parsed("offset")?.unwrap_or(0);
        Ok(Self { limit, offset })
    }

    /// The `{items, pagination}` envelope: this page of `rows`, each shown by `view`,
    /// with `totalCount` counting every row.
    pub(super) fn envelope<R>(
        &self,
        rows: impl Iterator<Item = R>,
        view: impl Fn(R) -> Value,
    ) -> Value {
        let mut total = 0;
        let mut items = Vec::new();
        for row in rows {
            if (self.offset..self.offset + self.limit).contains(&total) {
                items.push(view(row));
            }
            total += 1;
        }
        json!({
            "items": items,
            "pagination": {"limit": self.limit, "offset": self.offset, "totalCount": total},
        })
    }
}

/// JSON bodies must say so: anything else is a 415 before the body is read.
pub(super) fn require_json(headers: &HeaderMap) -> Result<(), Problem> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn page_defaults_and_limits() {
        let page = Page::from_params(&params(&[])).unwrap();
        assert_eq!(
            page,
            Page {
                limit: 100,
                offset: 0
            }
        );
        assert!(Page::from_params(&params(&[("limit", "101")])).is_err());
        assert!(Page::from_params(&params(&[("limit", "0")])).is_err());
        assert!(Page::from_params(&params(&[("offset", "-1")])).is_err());
    }

    #[test]
    fn envelope_takes_one_page_and_counts_all() {
        let page = Page::from_params(&params(&[("limit", "2"), ("offset", "3")])).unwrap();
        let body = page.envelope(1..=6, |n| json!(n));
        assert_eq!(body["items"], json!([4, 5]));
        assert_eq!(
            body["pagination"],
            json!({"limit": 2, "offset": 3, "totalCount": 6})
        );
        let past_end = Page::from_params(&params(&[("offset", "10")])).unwrap();
        assert_eq!(past_end.envelope(1..=6, |n| json!(n))["items"], json!([]));
    }

    #[test]
    fn repeated_array_parameters_are_all_kept() {
        let p = params(&[("sellerSkus[]", "A"), ("limit", "5"), ("sellerSkus[]", "B")]);
        assert_eq!(p.all("sellerSkus[]").collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(p.parsed::<usize>("limit").unwrap(), Some(5));
        assert!(p.parsed::<usize>("sellerSkus[]").is_err());
    }

    #[test]
    fn json_content_type_is_required() {
        let mut headers = HeaderMap::new();
        assert!(require_json(&headers).is_err());
        headers.insert(CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(require_json(&headers).is_err());
        headers.insert(
            CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(require_json(&headers).is_ok());
    }
}
