//! Test hooks: environment variables that fix the clock and shrink waits, so the
//! end-to-end tests run fast and give the same output every time. They exist only in
//! debug builds (what `cargo test` builds); a release build ignores them and says so,
//! so a variable left in a production environment can never change what skubridge does.

use std::time::Duration;

/// An RFC 3339 time every clock reading returns.
pub const NOW: &str = "SKUBRIDGE_NOW";
/// The whole-exchange HTTP timeout, in milliseconds.
pub const HTTP_TIMEOUT_MS: &str = "SKUBRIDGE_HTTP_TIMEOUT_MS";
/// The first retry wait, in milliseconds (the number of attempts never changes), and
/// no honouring of long `Retry-After` values.
pub const BACKOFF_MS: &str = "SKUBRIDGE_BACKOFF_MS";
/// The pass budget, in milliseconds.
pub const PASS_BUDGET_MS: &str = "SKUBRIDGE_PASS_BUDGET_MS";

const ALL: [&str; 4] = [NOW, HTTP_TIMEOUT_MS, BACKOFF_MS, PASS_BUDGET_MS];

fn var(name: &str) -> Option<String> {
    if cfg!(debug_assertions) {
        std::env::var(name).ok()
    } else {
        None
    }
}

fn millis(name: &str) -> Option<Duration> {
    var(name)?.parse().ok().map(Duration::from_millis)
}

/// The fixed time tests asked for, as written.
pub fn now() -> Option<String> {
    var(NOW)
}

pub fn http_timeout() -> Option<Duration> {
    millis(HTTP_TIMEOUT_MS)
}

pub fn backoff_base() -> Option<Duration> {
    millis(BACKOFF_MS)
}

pub fn pass_budget(configured: Duration) -> Duration {
    millis(PASS_BUDGET_MS).unwrap_or(configured)
}

/// The hooks set in this environment that this build ignores (every one, in a release
/// build), for a warning.
pub fn ignored() -> Vec<&'static str> {
    if cfg!(debug_assertions) {
        return Vec::new();
    }
    ALL.into_iter()
        .filter(|name| std::env::var_os(name).is_some())
        .collect()
}
