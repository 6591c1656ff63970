//! The one HTTP layer every API client (Shopify and each channel) shares: one reqwest
//! client per run, the retry loop and its timing (`retry`), the token cache (`token`),
//! and per-endpoint request counts (recorded with each run, compared by `make bench`).

mod retry;
mod token;

pub use retry::{body_failure, send_failure, Failure, Resend, Stop, MAX_THROTTLED_WAITS};
pub use token::{Minted, TokenCache};

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Total time one HTTP exchange may take before it is treated as a transport failure.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub fn client() -> reqwest::Client {
    // Tests shorten it to reach timeouts quickly.
    let timeout = crate::hooks::http_timeout().unwrap_or(REQUEST_TIMEOUT);
    reqwest::Client::builder()
        .user_agent(concat!("skubridge/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(15))
        .build()
        .expect("reqwest client with static settings")
}

/// Exponential backoff with full jitter for retriable failures (5xx, timeouts,
/// dropped connections, HTML error pages, truncated bodies).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            attempts: backoff_attempts(),
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

fn backoff_attempts() -> u32 {
    5
}

impl Backoff {
    /// The wait before retry number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = crate::hooks::backoff_base().unwrap_or(self.base);
        let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max);
        // Full jitter: spread concurrent retries so they don't arrive together.
        let ms = cap.as_millis() as u64;
        Duration::from_millis(ms / 2 + fastrand::u64(0..=ms / 2))
    }

    /// Honour the server's `Retry-After` (seconds), capped so a hostile value
    /// cannot park a cron run for an hour.
    pub fn server_delay(&self, headers: &HeaderMap, attempt: u32) -> Duration {
        match retry_after(headers) {
            Some(d) if crate::hooks::backoff_base().is_none() => d.min(Duration::from_secs(120)),
            _ => self.delay(attempt),
        }
    }
}

/// `Retry-After` in (possibly fractional) seconds. HTTP-date values are rare from
/// these APIs and fall back to our own backoff.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Server time from the `Date` header: watermarks follow the server's clock, so a
/// skewed local clock can neither skip nor re-read changes.
pub fn server_date(headers: &HeaderMap) -> Option<chrono::DateTime<chrono::Utc>> {
    let v = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    chrono::DateTime::parse_from_rfc2822(v)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc))
}

/// Requests made per endpoint during this run.
#[derive(Debug, Default)]
pub struct RequestCounts(Mutex<BTreeMap<String, u64>>);

impl RequestCounts {
    pub fn add(&self, endpoint: &str) {
        let mut map = self.0.lock().expect("request counter poisoned");
        *map.entry(endpoint.to_string()).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().expect("request counter poisoned").clone()
    }
}

/// The first bytes of a body, for error messages: enough to tell an HTML error
/// page from JSON, never a whole page in a log line.
pub fn snippet(body: &str) -> String {
    let trimmed = body.trim();
    let mut s: String = trimmed.chars().take(200).collect();
    if trimmed.chars().count() > 200 {
        s.push('…');
    }
    s.replace('\n', " ")
}

/// Why a 2xx body could not be decoded, fit for logs, `status` and email: a JSON answer
/// can hold customers' names and addresses, so only what serde says is wrong is kept,
/// without the values it quotes; a body that is not JSON at all (an HTML error page
/// from a proxy) is shown as a snippet.
pub fn undecodable(error: &serde_json::Error, body: &str) -> String {
    let message = without_values(&error.to_string());
    if matches!(body.trim_start().chars().next(), Some('{' | '[')) {
        message
    } else {
        format!("{message} in {}", snippet(body))
    }
}

/// One record of a channel's answer decoded on its own, or why not: the field's path and
/// what is wrong with it, never the value (it may be a customer's data).
pub fn decode_record<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut decoder = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, T>(&mut decoder).map_err(|e| {
        let message = without_values(&e.inner().to_string());
        // The position inside one record's text helps nobody: the path says where.
        let message = message.split(" at line ").next().unwrap_or_default();
        format!("{}: {message}", e.path())
    })
}

/// serde's message without the value it quotes: `invalid type: string "jo@example.com",
/// expected u64` becomes `invalid type, expected u64`. Messages of our own
/// deserializers (an amount that is not one) name no customer data and stay whole.
pub fn without_values(message: &str) -> String {
    const QUOTING: [&str; 4] = [
        "invalid type",
        "invalid value",
        "invalid length",
        "unknown variant",
    ];
    for kind in QUOTING {
        if let Some(rest) = message.strip_prefix(kind) {
            return match rest.find(", expected") {
                Some(at) => format!("{kind}{}", &rest[at..]),
                None => kind.to_string(),
            };
        }
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn decode_errors_never_quote_values_from_a_json_body() {
        let body = r#"{"email": "jo@example.com"}"#;
        let e = serde_json::from_str::<BTreeMap<String, u64>>(body).unwrap_err();
        assert_eq!(
            undecodable(&e, body),
            "invalid type, expected u64 at line 1 column 26"
        );
        let cut = r#"{"email": "jo@exa"#;
        let e = serde_json::from_str::<BTreeMap<String, String>>(cut).unwrap_err();
        let text = undecodable(&e, cut);
        assert!(
            text.starts_with("EOF while parsing") && !text.contains("jo@"),
            "{text}"
        );
        let html = "<html><body>502 Bad Gateway</body></html>";
        let e = serde_json::from_str::<BTreeMap<String, String>>(html).unwrap_err();
        assert!(undecodable(&e, html).ends_with("in <html><body>502 Bad Gateway</body></html>"));
        assert_eq!(
            without_values(r#""1e3" is not an amount like "49.95""#),
            r#""1e3" is not an amount like "49.95""#
        );
    }

    #[test]
    fn retry_after_accepts_whole_and_fractional_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("0.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(500)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff {
            attempts: 5,
            base: Duration::from_millis(100),
            max: Duration::from_millis(300),
        };
        for attempt in 1..10 {
            let d = b.delay(attempt);
            assert!(d <= Duration::from_millis(300), "{d:?}");
        }
        assert!(b.delay(1) >= Duration::from_millis(50));
    }

    #[test]
    fn snippet_is_short_and_single_line() {
        let long = "<html>\n".repeat(100);
        let s = snippet(&long);
        assert!(s.chars().count() <= 201);
        assert!(!s.contains('\n'));
    }
}
