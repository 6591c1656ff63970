//! The OAuth2 client-credentials token: kept in memory, refreshed before it expires,
//! minted by one task at a time so concurrent requests never stampede the token endpoint.

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::channel::ChannelError;
use crate::secret::Secret;

/// Refresh this long before expiry (PIA `client.py` uses 300 s), so a token never
/// lapses between being handed out and reaching The Iconic.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// UNCONFIRMED: the contract always shows `expires_in`; if it is ever missing, assume
/// a one-hour token (the usual OAuth2 lifetime) rather than refusing to work.
const ASSUMED_LIFETIME: Duration = Duration::from_secs(3600);

/// The token endpoint's answer. No `Debug`: it holds the raw token.
#[derive(Deserialize)]
pub(super) struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Debug)]
struct Token {
    access: Secret,
    refresh_at: Instant,
}

impl Token {
    fn new(minted: TokenResponse, now: Instant) -> Self {
        let lifetime = minted
            .expires_in
            .map_or(ASSUMED_LIFETIME, Duration::from_secs);
        // A token shorter-lived than the margin would otherwise be stale on arrival and
        // re-minted for every request: refresh those halfway through instead.
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        Self {
            access: Secret::new(minted.access_token),
            refresh_at: now + (lifetime - margin),
        }
    }

    fn is_fresh(&self, now: Instant) -> bool {
        now < self.refresh_at
    }
}

#[derive(Debug, Default)]
pub(super) struct TokenCache(Mutex<Option<Token>>);

impl TokenCache {
    /// The current token, or a new one from `mint` when there is none or it is about
    /// to expire. The lock is held while minting: other callers wait for that token.
    /// `mint` is only polled when a token is needed.
    pub(super) async fn get(
        &self,
        mint: impl Future<Output = Result<TokenResponse, ChannelError>>,
    ) -> Result<Secret, ChannelError> {
        let mut cached = self.0.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.is_fresh(Instant::now())) {
            return Ok(token.access.clone());
        }
        let token = Token::new(mint.await?, Instant::now());
        let access = token.access.clone();
        *cached = Some(token);
        Ok(access)
    }

    /// Drops `rejected` after a 401, unless another task already replaced it (then
    /// the newer token is kept and no second mint happens).
    pub(super) async fn forget(&self, rejected: &Secret) {
        let mut cached = self.0.lock().await;
        if cached.as_ref().is_some_and(|t| t.access == *rejected) {
            *cached = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minted(token: &str, expires_in: Option<u64>) -> TokenResponse {
        TokenResponse {
            access_token: token.into(),
            expires_in,
        }
    }

    #[test]
    fn token_is_refreshed_300_seconds_before_expiry() {
        let now = Instant::now();
        let t = Token::new(minted("a", Some(3600)), now);
        assert!(t.is_fresh(now));
        assert!(t.is_fresh(now + Duration::from_secs(3299)));
        assert!(!t.is_fresh(now + Duration::from_secs(3300)));
        assert!(!t.is_fresh(now + Duration::from_secs(4000)));
    }

    #[test]
    fn short_lived_token_is_refreshed_halfway() {
        let now = Instant::now();
        let t = Token::new(minted("a", Some(60)), now);
        assert!(t.is_fresh(now + Duration::from_secs(29)));
        assert!(!t.is_fresh(now + Duration::from_secs(30)));
    }

    #[test]
    fn missing_expiry_assumes_an_hour() {
        let now = Instant::now();
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"x"}"#).unwrap();
        let t = Token::new(t, now);
        assert!(t.is_fresh(now + Duration::from_secs(3299)));
        assert!(!t.is_fresh(now + Duration::from_secs(3300)));
    }

    #[tokio::test]
    async fn cached_token_is_reused_and_forgotten_only_when_current() {
        let cache = TokenCache::default();
        let first = cache
            .get(async { Ok(minted("one", Some(3600))) })
            .await
            .unwrap();
        assert_eq!(first.expose(), "one");
        // Fresh: the mint future must not run.
        let again = cache
            .get(async { panic!("minted while a fresh token was cached") })
            .await
            .unwrap();
        assert_eq!(again.expose(), "one");

        // A stale rejection does not drop the current token.
        cache.forget(&Secret::new("older")).await;
        let kept = cache.get(async { panic!("re-minted") }).await.unwrap();
        assert_eq!(kept.expose(), "one");

        cache.forget(&first).await;
        let second = cache
            .get(async { Ok(minted("two", Some(3600))) })
            .await
            .unwrap();
        assert_eq!(second.expose(), "two");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_mint() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let cache = TokenCache::default();
        let mints = AtomicU32::new(0);
        let get = || {
            cache.get(async {
                mints.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                Ok(minted("t", Some(3600)))
            })
        };
        let (a, b, c) = tokio::join!(get(), get(), get());
        assert!(a.is_ok() && b.is_ok() && c.is_ok());
        assert_eq!(mints.load(Ordering::SeqCst), 1);
    }
}
