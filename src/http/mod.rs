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
    // Beyond what a Duration holds (`1e20`): as long as can be, capped by the caller.
    (secs.is_finite() && secs >= 0.0)
        .then(|| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
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
/// page from JSON, never a whole page in a log line. Line breaks and other control
/// characters (a `\r`, a terminal escape) become spaces: the snippet stays one line.
pub fn snippet(body: &str) -> String {
    let trimmed = body.trim();
    let mut s: String = trimmed
        .chars()
        .take(200)
        .map(|c| match c {
            c if c.is_control() => ' ',
            '\u{2028}' | '\u{2029}' => ' ',
            c => c,
        })
        .collect();
    if trimmed.chars().count() > 200 {
        s.push('…');
    }
    s
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
        format!("{}: {message}", short_path(&field_path(e.path())))
    })
}

/// A path as serde_path_to_error writes it, but a key that is not a field's name (a
/// free-form part of the answer can be keyed by what a customer wrote) shows as `?`:
/// the path says where, never what.
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        let name = match segment {
            Segment::Seq { index } => {
                out.push_str(&format!("[{index}]"));
                continue;
            }
            Segment::Map { key } | Segment::Enum { variant: key } => key.as_str(),
            Segment::Unknown => "?",
        };
        let field = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(if field { name } else { "?" });
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// A field's path, cut in the middle when a deeply nested answer makes it long: a log
/// line or an order's reason stays readable.
fn short_path(path: &str) -> String {
    const KEEP: usize = 120;
    let chars: Vec<char> = path.chars().collect();
    if chars.len() <= KEEP {
        return path.to_string();
    }
    let head: String = chars[..KEEP / 2].iter().collect();
    let tail: String = chars[chars.len() - KEEP / 2..].iter().collect();
    format!("{head}…{tail}")
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
            // The last one: the value quoted before it may hold the words too.
            return match rest.rfind(", expected") {
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

    #[test]
    fn a_deeply_nested_answer_names_a_short_path() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Order {
            id: u64,
        }
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let reason = decode_record::<Vec<Vec<Vec<Order>>>>(&deep).unwrap_err();
        assert!(reason.chars().count() < 250, "{reason}");
        let long = format!("{}]]]", "[[[".repeat(200));
        let reason = decode_record::<Order>(&long).unwrap_err();
        assert!(reason.chars().count() < 250, "{reason}");
    }
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

    /// Fuzzing found these (fuzz_http_*): an address line the customer wrote as "Unit 5,
    /// expected after 5pm" was repeated from its second half on; a page from a Windows
    /// server or a terminal escape broke the log line; `Retry-After: 1e20` panicked.
    #[test]
    fn values_holding_serdes_own_words_are_still_removed() {
        let quoted = r#"invalid type: string "Unit 5, expected after 5pm", expected u64"#;
        assert_eq!(without_values(quoted), "invalid type, expected u64");
        let body = r#"{"email": "jo, expected jo@example.com"}"#;
        let e = serde_json::from_str::<BTreeMap<String, u64>>(body).unwrap_err();
        let text = undecodable(&e, body);
        assert_eq!(text, "invalid type, expected u64 at line 1 column 39");
        let reason = decode_record::<BTreeMap<String, u64>>(body).unwrap_err();
        assert_eq!(reason, "email: invalid type, expected u64");
        let variant = "unknown variant `Work, expected Jo Citizen`, expected `Home` or `Work`";
        assert_eq!(
            without_values(variant),
            "unknown variant, expected `Home` or `Work`"
        );
    }

    /// Found by fuzz_hardtofind_read_order: a free-form part of an order (an engraving
    /// entry) keyed by the customer's text put that text in the reason's path.
    #[test]
    fn a_path_never_shows_a_key_that_is_not_a_field_name() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Line {
            personalisations: Vec<serde_json::Value>,
        }
        let body = r#"{"personalisations": [{"For Sam, jo@example.com": 1e400}]}"#;
        let reason = decode_record::<Line>(body).unwrap_err();
        assert_eq!(reason, "personalisations[0].?: number out of range");
        let reason = decode_record::<Line>(r#"{"personalisations": 7}"#).unwrap_err();
        assert_eq!(
            reason,
            "personalisations: invalid type, expected a sequence"
        );
        let reason = decode_record::<Line>("7").unwrap_err();
        assert_eq!(reason, ".: invalid type, expected struct Line");
    }

    #[test]
    fn snippets_stay_one_line_whatever_the_page_holds() {
        assert_eq!(snippet("a\r\nb\u{1b}[2J\u{2028}c\td"), "a  b [2J c d");
    }

    #[test]
    fn a_retry_after_too_long_for_a_duration_is_capped_not_a_panic() {
        let mut h = HeaderMap::new();
        for huge in ["1e20", "18446744073709551616", "1e308"] {
            h.insert(RETRY_AFTER, HeaderValue::from_static(huge));
            assert_eq!(retry_after(&h), Some(Duration::MAX), "{huge}");
            if crate::hooks::backoff_base().is_none() {
                let wait = Backoff::default().server_delay(&h, 1);
                assert_eq!(wait, Duration::from_secs(120), "{huge}");
            }
        }
        for refused in ["inf", "NaN", "-1"] {
            h.insert(RETRY_AFTER, HeaderValue::from_static(refused));
            assert_eq!(retry_after(&h), None, "{refused}");
        }
    }

    /// Shapes a channel's answer is decoded into, each meeting the planted customer
    /// data with a type it does not have (a number, a list, an enum), so serde's
    /// message would quote it.
    mod shapes {
        use serde::Deserialize;

        use crate::money::Money;

        #[derive(Deserialize)]
        #[allow(dead_code)]
        pub struct Order {
            pub id: u64,
            pub email: Option<String>,
            pub address: Option<Address>,
            pub total: Option<Money>,
            pub items: Vec<Item>,
        }

        #[derive(Deserialize)]
        #[allow(dead_code)]
        pub struct Address {
            pub lines: Vec<String>,
            pub city: String,
        }

        #[derive(Deserialize)]
        #[allow(dead_code)]
        pub struct Item {
            pub sku: String,
            pub quantity: i64,
        }

        #[derive(Deserialize)]
        #[allow(dead_code)]
        pub struct Mistyped {
            pub email: Kind,
            pub address: (u64, bool),
            pub id: Option<char>,
        }

        #[derive(Deserialize)]
        pub enum Kind {
            Home,
            Work,
        }
    }

    fn customer_sample(rng: &mut fastrand::Rng) -> serde_json::Value {
        use fuzz::planted;
        serde_json::json!({
            "id": 5,
            "email": planted(rng),
            "address": {"lines": [planted(rng), "Level 2"], "city": planted(rng)},
            "total": "49.95",
            "items": [{"sku": "A-1", "quantity": 1}, {"sku": "B", "quantity": 2}],
        })
    }

    /// Whatever a 2xx JSON body holds, what is said about it never repeats a customer's
    /// data, and a record's reason starts with the path of the field.
    #[test]
    #[ignore = "fuzzing: make fuzz"]
    fn fuzz_http_decode_errors() {
        use fuzz::PLANTED;
        fuzz::run("http_decode_errors", |rng, input| {
            let sample = customer_sample(rng);
            *input = fuzz::text_body(rng, &sample);
            let body = input.as_str();
            let json_like = matches!(body.trim_start().chars().next(), Some('{' | '['));
            let mut said = Vec::new();
            if let Err(e) = serde_json::from_str::<shapes::Order>(body) {
                said.push(undecodable(&e, body));
            }
            if let Err(e) = serde_json::from_str::<shapes::Mistyped>(body) {
                said.push(undecodable(&e, body));
            }
            if let Err(e) = serde_json::from_str::<BTreeMap<String, u64>>(body) {
                said.push(undecodable(&e, body));
            }
            for text in said {
                if json_like && text.contains(PLANTED) {
                    return Err(format!("undecodable repeats customer data: {text}"));
                }
            }
            for reason in [
                decode_record::<shapes::Order>(body).err(),
                decode_record::<shapes::Mistyped>(body).err(),
            ]
            .into_iter()
            .flatten()
            {
                if reason.contains(PLANTED) {
                    return Err(format!("decode_record repeats customer data: {reason}"));
                }
                match reason.split_once(": ") {
                    Some((path, _)) if !path.is_empty() => {}
                    _ => return Err(format!("decode_record names no path: {reason}")),
                }
            }
            Ok(())
        });
    }

    /// `without_values` on every shape of serde message that quotes a value, with
    /// values that contain the words it cuts at; and on arbitrary text it never panics
    /// and is idempotent.
    #[test]
    #[ignore = "fuzzing: make fuzz"]
    fn fuzz_http_without_values() {
        use fuzz::{nasty_string, pick, planted, random_string, PLANTED};
        fuzz::run("http_without_values", |rng, input| {
            let value = match planted(rng) {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            let value = match rng.u8(..3) {
                0 => format!("{}{value}{}", nasty_string(rng), random_string(rng, 5)),
                _ => value,
            };
            let expected = pick(
                rng,
                &[
                    "u64",
                    "a string",
                    "struct WireOrder",
                    "one of `Home`, `Work`",
                    "a sequence",
                ],
            );
            let message = match rng.u8(..6) {
                0 => format!("invalid type: string {value:?}, expected {expected}"),
                1 => format!("invalid value: string {value:?}, expected {expected}"),
                2 => format!("unknown variant `{value}`, expected {expected}"),
                3 => format!(
                    "invalid type: string {value:?}, expected {expected} at line 1 column 9"
                ),
                4 => format!("invalid length {}, expected {expected}", rng.u32(..)),
                _ => random_string(rng, 60),
            };
            *input = message.clone();
            let once = without_values(&message);
            if once.contains(PLANTED)
                && message.starts_with("invalid") | message.starts_with("unknown")
            {
                return Err(format!("a value survives: {once}"));
            }
            if without_values(&once) != once {
                return Err(format!("not idempotent: {once}"));
            }
            Ok(())
        });
    }

    /// Headers and bodies from an answer that is not a success: a `Retry-After` of any
    /// text never panics and never waits longer than the cap; a snippet is one short line.
    #[test]
    #[ignore = "fuzzing: make fuzz"]
    fn fuzz_http_headers_and_snippets() {
        use fuzz::{nasty_string, pick, random_bytes};
        fuzz::run("http_headers_and_snippets", |rng, input| {
            let value: Vec<u8> = match rng.u8(..3) {
                0 => random_bytes(rng, 30),
                1 => nasty_string(rng).into_bytes(),
                _ => pick(
                    rng,
                    &[
                        "1e20",
                        "1e308",
                        "inf",
                        "-inf",
                        "NaN",
                        "-0",
                        "0",
                        "5",
                        "0.5",
                        "18446744073709551616",
                        "1e-400",
                        "-1",
                        " 7 ",
                        "120.0000001",
                        "Wed, 21 Oct 2015 07:28:00 GMT",
                    ],
                )
                .as_bytes()
                .to_vec(),
            };
            let body =
                String::from_utf8_lossy(&random_bytes(rng, 600)).into_owned() + &nasty_string(rng);
            *input = format!(
                "Retry-After {:?}; body {body:?}",
                String::from_utf8_lossy(&value)
            );
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_bytes(&value) {
                headers.insert(RETRY_AFTER, v);
            }
            let backoff = Backoff::default();
            let _ = retry_after(&headers);
            let wait = backoff.server_delay(&headers, rng.u32(..));
            if wait > Duration::from_secs(120) {
                return Err(format!("waits {wait:?}"));
            }
            let s = snippet(&body);
            if s.chars().count() > 201 {
                return Err(format!("snippet of {} characters", s.chars().count()));
            }
            if let Some(c) = s
                .chars()
                .find(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
            {
                return Err(format!("snippet holds {c:?}: not one line"));
            }
            Ok(())
        });
    }
}

/// A fuzzing harness that runs on stable Rust as ordinary `#[ignore]`d tests named
/// `fuzz_*` (`make fuzz`), next to the parsers they feed so private ones are reachable.
/// Each target runs for `SKUBRIDGE_FUZZ_SECONDS` (default 10) from a seeded RNG
/// (`SKUBRIDGE_FUZZ_SEED` to vary it), so a finding repeats with the same seed.
#[cfg(test)]
pub(crate) mod fuzz {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::time::{Duration, Instant};

    use fastrand::Rng;
    use serde_json::{Map, Value};

    /// Customer data planted in a sample: it must never come back in an error.
    pub(crate) const PLANTED: &str = "PLANTED";

    /// Runs `case` until the time is up. `case` writes what it is about to parse into
    /// its `String` (shown with a finding) and returns `Err` for a broken invariant; a
    /// panic is a finding too. Prints `fuzz <target>: N executions, M findings` and
    /// fails when M > 0, showing the first few.
    pub(crate) fn run(
        target: &str,
        mut case: impl FnMut(&mut Rng, &mut String) -> Result<(), String>,
    ) {
        let seconds: f64 = env("SKUBRIDGE_FUZZ_SECONDS").unwrap_or(10.0);
        let seed: u64 = env("SKUBRIDGE_FUZZ_SEED").unwrap_or(0x5eed_5c0b);
        // Each target its own stream, reproducible from the seed.
        let mut rng = Rng::with_seed(target.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        }));
        let deadline = Instant::now() + Duration::from_secs_f64(seconds.max(0.0));
        let (mut executions, mut findings) = (0u64, 0u64);
        let mut shown: Vec<String> = Vec::new();
        while Instant::now() < deadline {
            let mut input = String::new();
            let outcome = catch_unwind(AssertUnwindSafe(|| case(&mut rng, &mut input)));
            executions += 1;
            let problem = match outcome {
                Ok(Ok(())) => continue,
                Ok(Err(why)) => why,
                Err(panic) => format!("panic: {}", panic_text(&*panic)),
            };
            findings += 1;
            let problem = clip(&problem);
            // One example of each kind of problem (told apart by how it starts).
            let kind: String = problem.chars().take(24).collect();
            if shown.len() < 5 && !shown.iter().any(|s| s.starts_with(&kind)) {
                shown.push(format!("{problem}\n    input: {}", clip(&input)));
            }
        }
        println!("fuzz {target}: {executions} executions, {findings} findings");
        assert!(
            findings == 0,
            "fuzz {target} (seed {seed:#x}): {findings} findings, first:\n  {}",
            shown.join("\n  ")
        );
    }

    fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
        std::env::var(name).ok()?.trim().parse().ok()
    }

    fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
        panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into())
    }

    /// An input short enough to show.
    pub(crate) fn clip(text: &str) -> String {
        let mut s: String = text.chars().take(400).collect();
        if s.len() < text.len() {
            s.push_str(&format!("… ({} bytes)", text.len()));
        }
        s.escape_debug().to_string()
    }

    /// One of `items`.
    pub(crate) fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
        &items[rng.usize(..items.len())]
    }

    /// Strings that break parsers and displays: NUL, bidi overrides, zero-width and
    /// combining characters, emoji, quotes and escapes, 10 kB, numbers as text, and
    /// the words serde's messages are cut at.
    pub(crate) fn nasty_string(rng: &mut Rng) -> String {
        match rng.u8(..12) {
            0 => "x".repeat(10 * 1024),
            1 => "🙂👨‍👩‍👧".repeat(rng.usize(1..2000)),
            2 => random_string(rng, 40),
            _ => pick(
                rng,
                &[
                    "",
                    " ",
                    "\0",
                    "a\0b",
                    "\u{202E}KCOTS",
                    "\u{200B}",
                    "\u{FEFF}49.95",
                    "e\u{301}\u{301}\u{301}",
                    "\"\\\"\\\\",
                    "\r\n",
                    "\u{1b}[2J",
                    ", expected u64",
                    "invalid type: string \"x\", expected",
                    " at line 1 column 1",
                    "null",
                    "true",
                    "49.95",
                    "-0",
                    " 12 ",
                    "1e400",
                    "0x10",
                    "NaN",
                    "99999999999999999999999999999999999999999",
                    "2026-11-02T01:00:00Z",
                    "2026-11-02 01:00:00",
                    "02/11/2026",
                    "+10:00",
                    "status_pending",
                    "gid://shopify/ProductVariant/1",
                    "{}",
                    "[",
                ],
            )
            .to_string(),
        }
    }

    /// Up to `max` characters from all over Unicode, ASCII most often.
    pub(crate) fn random_string(rng: &mut Rng, max: usize) -> String {
        (0..rng.usize(0..=max))
            .map(|_| match rng.u8(..4) {
                0 | 1 => rng.char(' '..='~'),
                2 => rng.char('\0'..='\u{2FFF}'),
                _ => rng.char(..),
            })
            .collect()
    }

    /// Arbitrary bytes, sometimes not UTF-8.
    pub(crate) fn random_bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
        match rng.u8(..3) {
            0 => (0..rng.usize(0..=max)).map(|_| rng.u8(..)).collect(),
            _ => random_string(rng, max).into_bytes(),
        }
    }

    /// Number tokens as a JSON text may hold them (beyond what `Value` can).
    fn number_text(rng: &mut Rng) -> String {
        match rng.u8(..4) {
            0 => rng.i64(..).to_string(),
            1 => format!("{}.{:0>4}", rng.i64(-100_000..100_000), rng.u32(..10_000)),
            _ => pick(
                rng,
                &[
                    "0",
                    "-0",
                    "0.0",
                    "1e2",
                    "1E400",
                    "-1e400",
                    "1e-7",
                    "0.30000000000000004",
                    "29.950000000000003",
                    "49.95",
                    "49.950000",
                    "1.23456",
                    "18446744073709551615",
                    "18446744073709551616",
                    "9223372036854775807",
                    "-9223372036854775808",
                    "-9223372036854775809",
                    "922337203685477.5807",
                    "922337203685477.5808",
                    "-922337203685477.5808",
                    "123456789012345678901234567890",
                ],
            )
            .to_string(),
        }
    }

    /// Text that `render` writes into the JSON as it is (a number `Value` cannot hold,
    /// a key repeated, a lone surrogate escape), hidden in a string until then.
    const RAW: &str = "\u{1}raw:";

    pub(crate) fn raw(text: &str) -> Value {
        let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
        Value::String(format!("{RAW}{hex}"))
    }

    /// The JSON text of `value`, raw parts written as they are.
    pub(crate) fn render(value: &Value) -> String {
        let text = value.to_string();
        let marker = "\"\\u0001raw:";
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(marker) {
            out.push_str(&rest[..at]);
            let after = &rest[at + marker.len()..];
            let end = after.find('"').unwrap_or(after.len());
            let bytes: Vec<u8> = (0..end / 2)
                .filter_map(|i| u8::from_str_radix(after.get(2 * i..2 * i + 2)?, 16).ok())
                .collect();
            out.push_str(&String::from_utf8_lossy(&bytes));
            rest = after.get(end + 1..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }

    /// A random JSON value, nested up to `depth`.
    pub(crate) fn random_json(rng: &mut Rng, depth: u32) -> Value {
        match rng.u8(..if depth == 0 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.bool()),
            2 => raw(&number_text(rng)),
            3 => Value::from(rng.i64(-1000..1000)),
            4 => Value::String(nasty_string(rng)),
            5 => Value::Array(
                (0..rng.usize(0..4))
                    .map(|_| random_json(rng, depth - 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.usize(0..4))
                    .map(|_| (random_string(rng, 8), random_json(rng, depth - 1)))
                    .collect(),
            ),
        }
    }

    /// Customer data with the [`PLANTED`] marker, in the shapes a field may arrive in.
    pub(crate) fn planted(rng: &mut Rng) -> Value {
        let text = pick(
            rng,
            &[
                "jo.PLANTED@example.com",
                "Unit 5, expected PLANTED, 1 George St",
                "PLANTED\u{202E}, expected u64",
                "For Sam, expected PLANTED",
                "0400 PLANTED",
                "PLANTED\" at line 1 column 1",
            ],
        )
        .to_string();
        match rng.u8(..8) {
            0 => Value::from(vec![text]),
            1 => serde_json::json!({ "value": text }),
            2 => Value::String(text.repeat(500)),
            3 => serde_json::json!([{ text.clone(): text }]),
            _ => Value::String(text),
        }
    }

    #[derive(Clone)]
    enum Step {
        Key(String),
        Index(usize),
    }

    fn paths(value: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        out.push(at.clone());
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    at.push(Step::Key(k.clone()));
                    paths(v, at, out);
                    at.pop();
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    at.push(Step::Index(i));
                    paths(v, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    fn node_ref<'a>(mut value: &'a Value, path: &[Step]) -> &'a Value {
        for step in path {
            value = match step {
                Step::Key(k) => &value[k.as_str()],
                Step::Index(i) => &value[*i],
            };
        }
        value
    }

    fn node<'a>(mut value: &'a mut Value, path: &[Step]) -> &'a mut Value {
        for step in path {
            value = match step {
                Step::Key(k) => &mut value[k.as_str()],
                Step::Index(i) => &mut value[*i],
            };
        }
        value
    }

    /// One structure-aware change somewhere in `doc`: a value replaced (null, another
    /// type, a number as a string or the reverse, a nasty string, a number no `f64`
    /// holds), a field dropped or repeated, an array emptied or grown, a value wrapped
    /// or nested past serde's depth limit, or a value copied from elsewhere (never one
    /// holding planted customer data: that stays where a customer's data goes).
    pub(crate) fn mutate(rng: &mut Rng, doc: &mut Value) {
        let mut all = Vec::new();
        paths(doc, &mut Vec::new(), &mut all);
        let donors: Vec<Value> = all
            .iter()
            .map(|p| node_ref(doc, p).clone())
            .filter(|v| !v.to_string().contains(PLANTED))
            .collect();
        let path = pick(rng, &all).clone();
        let target = node(doc, &path);
        match rng.u8(..16) {
            0 => *target = Value::Null,
            1 => *target = Value::Bool(rng.bool()),
            2 => *target = raw(&number_text(rng)),
            3 | 4 => *target = Value::String(nasty_string(rng)),
            5 => {
                *target = match target.take() {
                    Value::Number(n) => Value::String(n.to_string()),
                    Value::String(s) if !s.is_empty() && !s.contains(PLANTED) => raw(&s),
                    other => Value::String(other.to_string()),
                }
            }
            6 | 7 => match target {
                Value::Object(map) if !map.is_empty() => {
                    let key = pick(rng, &map.keys().cloned().collect::<Vec<_>>()).clone();
                    map.remove(&key);
                }
                Value::Array(items) if !items.is_empty() => {
                    items.remove(rng.usize(..items.len()));
                }
                other => *other = Value::Null,
            },
            8 => match target {
                // The same key twice: a hidden raw key sorts next to nothing, but the
                // text then holds the key twice.
                Value::Object(map) if !map.is_empty() => {
                    let keys: Vec<String> = map.keys().cloned().collect();
                    let key = pick(rng, &keys).clone();
                    let mut again = map[&key].clone();
                    if rng.bool() {
                        again = random_json(rng, 1);
                    }
                    let quoted = Value::String(key).to_string();
                    let Value::String(hidden) = raw(&quoted) else {
                        unreachable!()
                    };
                    map.insert(hidden, again);
                }
                Value::Array(items) if !items.is_empty() => {
                    let item = items[rng.usize(..items.len())].clone();
                    let times = if rng.u8(..8) == 0 { 200 } else { 2 };
                    items.extend(std::iter::repeat_n(item, times));
                }
                other => *other = Value::Array(vec![other.take()]),
            },
            9 => *target = Value::Array(vec![target.take()]),
            10 => {
                let mut map = Map::new();
                map.insert(random_string(rng, 6), target.take());
                *target = Value::Object(map);
            }
            11 => {
                let mut deep = target.take();
                for _ in 0..rng.usize(100..200) {
                    deep = Value::Array(vec![deep]);
                }
                *target = deep;
            }
            12 => *target = random_json(rng, 2),
            13 => match target {
                Value::Object(map) => {
                    map.insert(random_string(rng, 10), random_json(rng, 1));
                }
                Value::Array(items) => items.clear(),
                other => *other = Value::Object(Map::new()),
            },
            _ if donors.is_empty() => *target = Value::Null,
            _ => *target = pick(rng, &donors).clone(),
        }
    }

    /// A body derived from a valid `sample`: mostly structure-aware mutations of it,
    /// else the sample cut off or with bytes changed, random JSON or random text.
    pub(crate) fn body(rng: &mut Rng, sample: &Value) -> Vec<u8> {
        let mut doc = sample.clone();
        match rng.u8(..20) {
            0..=12 => {
                for _ in 0..rng.usize(1..=4) {
                    mutate(rng, &mut doc);
                }
                render(&doc).into_bytes()
            }
            13 | 14 => {
                let text = render(&doc).into_bytes();
                text[..rng.usize(..=text.len())].to_vec()
            }
            15 | 16 => {
                let mut bytes = render(&doc).into_bytes();
                for _ in 0..rng.usize(1..=4) {
                    let at = rng.usize(..=bytes.len());
                    match rng.u8(..3) {
                        0 if at < bytes.len() => bytes[at] = rng.u8(..),
                        1 => bytes.insert(at, *pick(rng, b"{}[]\",:\\0-.e \n\r\x00\xff")),
                        _ => {
                            let end = rng.usize(at..=bytes.len());
                            bytes.drain(at..end);
                        }
                    }
                }
                bytes
            }
            17 | 18 => render(&random_json(rng, 4)).into_bytes(),
            _ => random_bytes(rng, 200),
        }
    }

    /// [`body`] as text, for parsers of `&str` (the transport decodes bodies to text
    /// first, replacing what is not UTF-8).
    pub(crate) fn text_body(rng: &mut Rng, sample: &Value) -> String {
        String::from_utf8_lossy(&body(rng, sample)).into_owned()
    }
}
