//! Shopify's cost-based leaky bucket, as reported in `extensions.cost` of every reply:
//! how long to wait after THROTTLED, and how long to wait before a query that the
//! bucket cannot hold yet.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// No single wait is longer than this, whatever the server reports: a full bucket of
/// 2000 points at 50 points/s refills in 40 s.
const MAX_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Cost {
    pub requested_query_cost: Option<f64>,
    pub actual_query_cost: Option<f64>,
    pub throttle_status: Option<ThrottleStatus>,
}

/// Seconds for `points` to drip back at `rate` points/s; `None` when the rate is
/// unusable (the caller falls back to its backoff).
fn refill(points: f64, rate: f64) -> Option<Duration> {
    (rate.is_finite() && rate > 0.0 && points.is_finite())
        .then(|| Duration::from_secs_f64((points.max(0.0) / rate).min(MAX_WAIT.as_secs_f64())))
}

/// The wait after a THROTTLED reply: `(requested − currentlyAvailable) / restoreRate`.
/// At least one point's worth, so a retry never races straight back into the limit.
pub(super) fn throttled_wait(requested: f64, status: &ThrottleStatus) -> Option<Duration> {
    let missing = (requested - status.currently_available).max(1.0);
    refill(missing, status.restore_rate)
}

/// What the last reply said about the bucket, and what each operation asked for.
#[derive(Debug, Default)]
pub(super) struct Bucket {
    last: Option<(ThrottleStatus, Instant)>,
    requested: HashMap<&'static str, f64>,
}

impl Bucket {
    pub fn record(&mut self, op: &'static str, cost: &Cost, at: Instant) {
        if let Some(requested) = cost.requested_query_cost {
            self.requested.insert(op, requested);
        }
        if let Some(status) = cost.throttle_status {
            self.last = Some((status, at));
        }
    }

    /// The cost to expect from `op`: what it asked for last time, else `estimate`.
    pub fn expected(&self, op: &'static str, estimate: f64) -> f64 {
        self.requested.get(op).copied().unwrap_or(estimate)
    }

    /// How long to wait at `now` before sending a query expected to cost `cost`: the
    /// last known level plus what has dripped back since, against the cost.
    pub fn wait_before(&self, cost: f64, now: Instant) -> Duration {
        let Some((status, at)) = self.last else {
            return Duration::ZERO;
        };
        let elapsed = now.saturating_duration_since(at).as_secs_f64();
        let available = (status.currently_available + status.restore_rate * elapsed)
            .min(status.maximum_available);
        // A query bigger than the whole bucket only needs a full bucket.
        let needed = cost.min(status.maximum_available);
        if available >= needed {
            return Duration::ZERO;
        }
        refill(needed - available, status.restore_rate).unwrap_or(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(available: f64) -> ThrottleStatus {
        ThrottleStatus {
            maximum_available: 1000.0,
            currently_available: available,
            restore_rate: 50.0,
        }
    }

    #[test]
    fn throttled_wait_is_the_missing_points_over_the_restore_rate() {
        assert_eq!(
            throttled_wait(752.0, &status(252.0)),
            Some(Duration::from_secs(10))
        );
        // Already enough points: still one point's worth, never zero.
        assert_eq!(
            throttled_wait(100.0, &status(500.0)),
            Some(Duration::from_millis(20))
        );
        let broken = ThrottleStatus {
            restore_rate: 0.0,
            ..status(0.0)
        };
        assert_eq!(throttled_wait(10.0, &broken), None);
        assert_eq!(throttled_wait(1e9, &status(0.0)), Some(MAX_WAIT));
    }

    #[test]
    fn pacing_counts_what_dripped_back_since_the_last_reply() {
        let t0 = Instant::now();
        let mut bucket = Bucket::default();
        assert_eq!(
            bucket.wait_before(752.0, t0),
            Duration::ZERO,
            "nothing known yet"
        );
        let cost = Cost {
            requested_query_cost: Some(752.0),
            actual_query_cost: Some(500.0),
            throttle_status: Some(status(100.0)),
        };
        bucket.record("graphql Variants", &cost, t0);
        assert_eq!(bucket.expected("graphql Variants", 1.0), 752.0);
        assert_eq!(bucket.expected("graphql Shop", 1.0), 1.0);
        // 652 points short at 50/s.
        assert_eq!(
            bucket.wait_before(752.0, t0),
            Duration::from_secs_f64(13.04)
        );
        // Two seconds later 100 more points are back.
        let later = t0 + Duration::from_secs(2);
        assert_eq!(
            bucket.wait_before(752.0, later),
            Duration::from_secs_f64(11.04)
        );
        assert_eq!(bucket.wait_before(100.0, t0), Duration::ZERO);
        // Bigger than the bucket: wait for a full bucket only.
        assert_eq!(bucket.wait_before(5000.0, t0), Duration::from_secs(18));
    }
}
