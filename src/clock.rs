//! The one clock every time-based decision reads (reconcile due, run records).
//! Tests fix it with `SKUBRIDGE_NOW=<RFC 3339>` (a debug-build hook, see `hooks`) so
//! outputs are reproducible.

use chrono::{DateTime, SecondsFormat, Utc};

#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// `SKUBRIDGE_NOW` when set in a debug build (an invalid value is a usage error),
    /// else the system clock.
    pub fn from_env() -> Result<Self, String> {
        match crate::hooks::now() {
            Some(v) => DateTime::parse_from_rfc3339(&v)
                .map(|d| Self::Fixed(d.with_timezone(&Utc)))
                .map_err(|e| {
                    format!(
                        "{}: \"{v}\" is not an RFC 3339 time ({e})",
                        crate::hooks::NOW
                    )
                }),
            None => Ok(Self::System),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Fixed(t) => *t,
        }
    }
}

/// How times are stored in SQLite and shown in JSON: RFC 3339 in UTC with milliseconds.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}
