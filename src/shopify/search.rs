//! Shopify search-syntax strings (the `query:` argument of connections).

use chrono::{DateTime, SecondsFormat, Utc};

/// `updated_at:>'T'`: dates must be quoted; RFC 3339 in UTC with a `Z`. Sub-seconds
/// are dropped, which moves the bound earlier: a change is re-read, never skipped.
pub(super) fn updated_after(t: DateTime<Utc>) -> String {
    format!(
        "updated_at:>'{}'",
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_quoted_utc_and_truncated_to_seconds() {
        let t = DateTime::parse_from_rfc3339("2026-03-01T10:00:05.999+02:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(updated_after(t), "updated_at:>'2026-03-01T08:00:05Z'");
    }
}
