//! The one retry loop every API client sends its requests through: how many
//! attempts, how long between them, and whether a request that may already have
//! been applied is sent again.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tracing::info;

use super::Backoff;

/// Whether a request may be sent again after a failure that leaves its effect unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// Reads and idempotent writes: every retriable failure is retried.
    Always,
    /// Writes that must not be applied twice: sent again only when the server surely
    /// did not act on the request (no connection, turned away before running).
    IfNotApplied,
}

/// Why one attempt produced no value. `R` is a retriable failure's reason, `F` a final
/// error.
#[derive(Debug)]
pub enum Failure<R, F> {
    /// Another attempt may succeed after `wait`. `maybe_applied`: the request reached
    /// the server and may have taken effect (a 5xx, a timeout, a broken body).
    Retry {
        reason: R,
        wait: Duration,
        maybe_applied: bool,
    },
    /// Turned away for load before it ran: waited out without using an attempt, up to
    /// [`MAX_THROTTLED_WAITS`] times.
    Throttled { reason: R, wait: Duration },
    /// HTTP 401: the token (or, at a token endpoint, the credentials) was refused.
    Unauthorized,
    /// Final: retrying cannot change the answer.
    Fatal(F),
}

/// How [`Backoff::run`] ended without a value.
#[derive(Debug)]
pub enum Stop<R, F> {
    Unauthorized,
    Fatal(F),
    /// Retriable failures outlasted the attempts or, with `not_resent`, a request that
    /// must not run twice may have run and was not sent again.
    GaveUp {
        reason: R,
        attempts: u32,
        not_resent: bool,
    },
    /// Still turned away after [`MAX_THROTTLED_WAITS`] waits.
    Throttled {
        reason: R,
    },
}

/// Load waits allowed per request. Each wait is computed to be enough, so reaching this
/// means the capacity is shared with something much busier.
pub const MAX_THROTTLED_WAITS: u32 = 10;

impl Backoff {
    /// Calls `once(attempt)` until it gives a value, fails for good, or the attempts
    /// (throttling counted apart) are spent.
    pub async fn run<T, R: Display, F, Fut>(
        &self,
        endpoint: &str,
        resend: Resend,
        mut once: impl FnMut(u32) -> Fut,
    ) -> Result<T, Stop<R, F>>
    where
        Fut: Future<Output = Result<T, Failure<R, F>>>,
    {
        let mut attempt = 1;
        let mut throttled = 0;
        loop {
            match once(attempt).await {
                Ok(value) => return Ok(value),
                Err(Failure::Fatal(error)) => return Err(Stop::Fatal(error)),
                Err(Failure::Unauthorized) => return Err(Stop::Unauthorized),
                Err(Failure::Throttled { reason, wait }) => {
                    throttled += 1;
                    if throttled > MAX_THROTTLED_WAITS {
                        return Err(Stop::Throttled { reason });
                    }
                    info!(endpoint, ?wait, %reason, "throttled: waiting for capacity");
                    tokio::time::sleep(wait).await;
                }
                Err(Failure::Retry {
                    reason,
                    wait,
                    maybe_applied,
                }) => {
                    let not_resent = maybe_applied && resend == Resend::IfNotApplied;
                    if not_resent || attempt >= self.attempts {
                        return Err(Stop::GaveUp {
                            reason,
                            attempts: attempt,
                            not_resent,
                        });
                    }
                    info!(endpoint, attempt, ?wait, %reason, "retrying the request");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }
}

/// What a request that got no answer means: a request that could not be built is
/// final; anything else is worth another attempt, and only a failed connect proves it
/// never reached the server. The message holds no URL (a signed URL is a credential).
pub fn send_failure<R, F>(
    error: &reqwest::Error,
    backoff: &Backoff,
    attempt: u32,
    reason: impl FnOnce(String) -> R,
    fatal: impl FnOnce(String) -> F,
) -> Failure<R, F> {
    let text = describe(error);
    if error.is_builder() {
        Failure::Fatal(fatal(text))
    } else {
        Failure::Retry {
            reason: reason(text),
            wait: backoff.delay(attempt),
            maybe_applied: !error.is_connect(),
        }
    }
}

/// What a success body that does not parse means: text that is not JSON or is cut off
/// (an HTML page from a proxy, a dropped connection) is worth another attempt; JSON
/// of the wrong shape is not, since asking again gives the same answer.
pub fn body_failure<R, F>(
    error: &serde_json::Error,
    body: &str,
    backoff: &Backoff,
    attempt: u32,
    reason: impl FnOnce(String) -> R,
    fatal: impl FnOnce(String) -> F,
) -> Failure<R, F> {
    let text = super::undecodable(error, body);
    if error.is_data() {
        Failure::Fatal(fatal(text))
    } else {
        Failure::Retry {
            reason: reason(format!("undecodable body: {text}")),
            wait: backoff.delay(attempt),
            // A success status came first: the request was processed.
            maybe_applied: true,
        }
    }
}

/// A reqwest error with its causes ("error sending request" alone says little), without
/// the URL.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const FAST: Backoff = Backoff {
        attempts: 3,
        base: Duration::ZERO,
        max: Duration::ZERO,
    };

    /// Runs a script of failures (then a value) and says how it ended, after how many calls.
    async fn run(
        resend: Resend,
        script: Vec<Failure<&'static str, &'static str>>,
    ) -> (String, u32) {
        let calls = Cell::new(0);
        let script = std::cell::RefCell::new(script.into_iter());
        let out = FAST
            .run("GET /x", resend, |_| {
                calls.set(calls.get() + 1);
                let next = script.borrow_mut().next();
                async move { next.map_or(Ok("value"), Err) }
            })
            .await;
        let said = match out {
            Ok(v) => v.to_string(),
            Err(Stop::Fatal(e)) => format!("fatal {e}"),
            Err(Stop::Unauthorized) => "unauthorized".into(),
            Err(Stop::GaveUp {
                reason,
                attempts,
                not_resent,
            }) => format!("gave up after {attempts} ({reason}, not resent: {not_resent})"),
            Err(Stop::Throttled { reason }) => format!("throttled ({reason})"),
        };
        (said, calls.get())
    }

    fn retry(maybe_applied: bool) -> Failure<&'static str, &'static str> {
        Failure::Retry {
            reason: "503",
            wait: Duration::ZERO,
            maybe_applied,
        }
    }

    #[tokio::test]
    async fn retries_until_a_value_or_the_attempts_run_out() {
        assert_eq!(
            run(Resend::Always, vec![retry(true), retry(false)]).await,
            ("value".into(), 3)
        );
        assert_eq!(
            run(Resend::Always, vec![retry(true), retry(true), retry(true)]).await,
            ("gave up after 3 (503, not resent: false)".into(), 3)
        );
        assert_eq!(
            run(Resend::Always, vec![Failure::Fatal("400")]).await,
            ("fatal 400".into(), 1)
        );
        assert_eq!(
            run(Resend::Always, vec![Failure::Unauthorized]).await,
            ("unauthorized".into(), 1)
        );
    }

    #[tokio::test]
    async fn a_write_that_may_have_been_applied_is_not_sent_again() {
        assert_eq!(
            run(Resend::IfNotApplied, vec![retry(false), retry(true)]).await,
            ("gave up after 2 (503, not resent: true)".into(), 2)
        );
    }

    #[tokio::test]
    async fn a_failed_connect_is_known_not_to_have_reached_the_server() {
        // A port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = reqwest::get(format!("http://127.0.0.1:{port}/x?token=secret"))
            .await
            .unwrap_err();
        match send_failure::<String, String>(&error, &FAST, 1, |r| r, |f| f) {
            Failure::Retry {
                maybe_applied,
                reason,
                ..
            } => {
                assert!(!maybe_applied);
                assert!(!reason.contains("secret"), "no URL: {reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn throttling_waits_apart_from_the_attempts_and_is_bounded() {
        let throttled = || Failure::Throttled {
            reason: "THROTTLED",
            wait: Duration::ZERO,
        };
        let mut script: Vec<_> = (0..MAX_THROTTLED_WAITS).map(|_| throttled()).collect();
        script.extend([retry(true), retry(true)]);
        assert_eq!(run(Resend::Always, script).await.0, "value");
        let forever: Vec<_> = (0..=MAX_THROTTLED_WAITS).map(|_| throttled()).collect();
        assert_eq!(
            run(Resend::Always, forever).await.0,
            "throttled (THROTTLED)"
        );
    }
}
