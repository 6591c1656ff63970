//! JSON answers with some tokens written verbatim: tests of bad input need values no
//! `serde_json::Value` can hold (`1e400`, every digit of `29.950000000000003`) or that
//! break the contract (`null` where an amount belongs).

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Marks a string as a stand-in for raw text (hex-encoded, so it survives escaping).
const MARK: &str = "\u{1}raw:";
/// How serde_json writes `MARK` at the start of a string.
const WRITTEN: &str = "\"\\u0001raw:";

/// A value that [`Raw`] writes as `text`, verbatim.
pub fn token(text: &str) -> Value {
    let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
    Value::String(format!("{MARK}{hex}"))
}

/// A JSON response whose [`token`]s are replaced by their text.
pub struct Raw(pub Value);

impl IntoResponse for Raw {
    fn into_response(self) -> Response {
        let body = render(&self.0);
        ([(CONTENT_TYPE, "application/json")], body).into_response()
    }
}

fn render(value: &Value) -> String {
    let written = value.to_string();
    let mut out = String::with_capacity(written.len());
    let mut rest = written.as_str();
    while let Some(at) = rest.find(WRITTEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + WRITTEN.len()..];
        let end = after.find('"').unwrap_or(after.len());
        let bytes: Vec<u8> = (0..end / 2)
            .filter_map(|i| u8::from_str_radix(&after[2 * i..2 * i + 2], 16).ok())
            .collect();
        out.push_str(&String::from_utf8_lossy(&bytes));
        rest = &after[(end + 1).min(after.len())..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_written_verbatim() {
        let v = json!({"a": token("1e400"), "b": [token("null"), "x"], "c": token("-0.5")});
        assert_eq!(render(&v), r#"{"a":1e400,"b":[null,"x"],"c":-0.5}"#);
        assert_eq!(render(&json!({"plain": "\u{1}"})), r#"{"plain":"\u0001"}"#);
    }
}
