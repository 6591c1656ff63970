//! Mirakl's "call frequency" limits: each operation has a maximum frequency per shop,
//! and a call sooner than that after the previous one is answered 429.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::error::MiraklError;

/// What a frequency limit applies to: an operation, OF52 split by export mode (a full
/// export is allowed far less often than a differential one). Fixtures spell each in
/// capitals, words split by `_` (`OF52_FULL`, `STO01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Limit {
    A01,
    Of21,
    Of52Full,
    Of52Differential,
    Of53,
    Of54,
    Sto01,
    Sto02,
    Sto03,
    Sh21,
    Or11,
    Or21,
    Or23,
    Or24,
}

/// The contract's maximum frequencies, as minimum seconds between two calls; the
/// operations not listed have none.
pub(super) fn default_intervals() -> BTreeMap<Limit, u64> {
    BTreeMap::from([
        (Limit::Of52Full, 86_400),
        (Limit::Of52Differential, 60),
        (Limit::Sto01, 60),
        (Limit::Sto02, 15),
        (Limit::Sto03, 60),
    ])
}

pub(super) struct Limits {
    intervals: BTreeMap<Limit, Duration>,
    /// When each (limit, key) last let a call through.
    last: HashMap<(Limit, String), Instant>,
}

impl Limits {
    /// The defaults with the fixture's `overrides` applied (0 lifts a limit).
    pub(super) fn new(overrides: &BTreeMap<Limit, u64>) -> Self {
        let mut seconds = default_intervals();
        seconds.extend(overrides);
        let intervals = seconds
            .into_iter()
            .filter(|(_, s)| *s > 0)
            .map(|(limit, s)| (limit, Duration::from_secs(s)))
            .collect();
        Self {
            intervals,
            last: HashMap::new(),
        }
    }

    /// Lets a call of `limit` through and starts its clock, or refuses it (429) when
    /// the last call let through for the same `key` (STO02 is limited per import; other
    /// operations pass "") was too recent. A refused call does not restart the clock.
    pub(super) fn check(
        &mut self,
        limit: Limit,
        key: &str,
        now: Instant,
    ) -> Result<(), MiraklError> {
        let Some(interval) = self.intervals.get(&limit) else {
            return Ok(());
        };
        let slot = (limit, key.to_string());
        if let Some(last) = self.last.get(&slot) {
            if now.duration_since(*last) < *interval {
                return Err(MiraklError::too_many_requests());
            }
        }
        self.last.insert(slot, now);
        Ok(())
    }

    /// Forgets every call: the next of each operation goes through.
    pub(super) fn reset(&mut self) {
        self.last.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_inside_the_interval_are_refused_per_key() {
        let t0 = Instant::now();
        let mut limits = Limits::new(&BTreeMap::from([(Limit::Or11, 10), (Limit::Sto03, 0)]));
        assert!(limits.check(Limit::Sto01, "", t0).is_ok());
        let refused = limits.check(Limit::Sto01, "", t0 + Duration::from_secs(59));
        assert_eq!(refused.unwrap_err().status, 429);
        assert!(limits
            .check(Limit::Sto01, "", t0 + Duration::from_secs(60))
            .is_ok());
        assert!(limits.check(Limit::Sto02, "1", t0).is_ok());
        assert!(limits.check(Limit::Sto02, "2", t0).is_ok());
        assert!(limits
            .check(Limit::Sto02, "1", t0 + Duration::from_secs(14))
            .is_err());
        for _ in 0..3 {
            assert!(limits.check(Limit::Sto03, "", t0).is_ok());
            assert!(limits.check(Limit::Of21, "", t0).is_ok());
        }
        assert!(limits.check(Limit::Or11, "", t0).is_ok());
        assert!(limits
            .check(Limit::Or11, "", t0 + Duration::from_secs(9))
            .is_err());
        limits.reset();
        assert!(limits
            .check(Limit::Or11, "", t0 + Duration::from_secs(9))
            .is_ok());
    }
}
