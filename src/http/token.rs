//! The one cache for minted access tokens (OAuth client credentials, login tokens):
//! kept in memory only, refreshed before they expire, minted by one task at a time so
//! concurrent requests never stampede a token endpoint, and dropped when refused.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use tracing::info;

use crate::secret::Secret;

/// Refreshed this long before it expires (or halfway through a shorter life), so a
/// token never lapses between being handed out and reaching the server.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A token just minted, and how long the server says it lives (`None`: until refused).
#[derive(Debug)]
pub struct Minted {
    pub token: Secret,
    pub lifetime: Option<Duration>,
}

#[derive(Debug)]
struct Cached {
    token: Secret,
    refresh_at: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct TokenCache(Mutex<Option<Cached>>);

impl TokenCache {
    /// The current token, or a new one from `mint` when there is none or it is about to
    /// expire. The lock is held while minting: other callers wait for that token.
    /// `mint` is only polled when a token is needed.
    pub async fn get<E>(&self, mint: impl Future<Output = Result<Minted, E>>) -> Result<Secret, E> {
        let mut cached = self.0.lock().await;
        let now = Instant::now();
        if let Some(c) = cached
            .as_ref()
            .filter(|c| c.refresh_at.is_none_or(|at| now < at))
        {
            return Ok(c.token.clone());
        }
        let minted = mint.await?;
        let refresh_at = minted
            .lifetime
            .map(|life| Instant::now() + life - REFRESH_MARGIN.min(life / 2));
        let token = minted.token.clone();
        *cached = Some(Cached {
            token: minted.token,
            refresh_at,
        });
        Ok(token)
    }

    /// Drops `rejected`, unless another task already replaced it (the newer token is
    /// kept and no second mint happens).
    pub async fn forget(&self, rejected: &Secret) {
        let mut cached = self.0.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == *rejected) {
            *cached = None;
        }
    }

    /// Runs `call` with a valid token. When `refused` says the server refused it (a
    /// 401), the token is dropped and `call` runs once more with a fresh one; its
    /// second argument then is `true`, so the caller can tell a refusal of a token the
    /// server had just issued from one of its credentials.
    pub async fn call<T, E, M, C>(
        &self,
        mint: impl Fn() -> M,
        refused: impl Fn(&E) -> bool,
        call: impl Fn(Secret, bool) -> C,
    ) -> Result<T, E>
    where
        M: Future<Output = Result<Minted, E>>,
        C: Future<Output = Result<T, E>>,
    {
        let token = self.get(mint()).await?;
        match call(token.clone(), false).await {
            Err(e) if refused(&e) => {
                info!("the access token was refused: minting a new one");
                self.forget(&token).await;
                let fresh = self.get(mint()).await?;
                call(fresh, true).await
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn minted(token: &str, secs: Option<u64>) -> Minted {
        Minted {
            token: Secret::new(token),
            lifetime: secs.map(Duration::from_secs),
        }
    }

    async fn token(cache: &TokenCache, mints: &AtomicU32, life: Option<u64>) -> String {
        let t = cache
            .get(async {
                let n = mints.fetch_add(1, Ordering::SeqCst) + 1;
                Ok::<_, ()>(minted(&format!("t{n}"), life))
            })
            .await
            .unwrap();
        t.expose().to_string()
    }

    #[tokio::test]
    async fn a_token_is_reused_until_it_nears_expiry() {
        let cache = TokenCache::default();
        let mints = AtomicU32::new(0);
        assert_eq!(token(&cache, &mints, Some(3600)).await, "t1");
        assert_eq!(token(&cache, &mints, Some(3600)).await, "t1");
        // One lasting less than twice the margin is refreshed halfway: here at once.
        let short = TokenCache::default();
        assert_eq!(token(&short, &mints, Some(0)).await, "t2");
        assert_eq!(token(&short, &mints, Some(0)).await, "t3");
        // Without a lifetime it lasts until refused.
        let forever = TokenCache::default();
        assert_eq!(token(&forever, &mints, None).await, "t4");
        assert_eq!(token(&forever, &mints, None).await, "t4");
        forever.forget(&Secret::new("other")).await;
        assert_eq!(token(&forever, &mints, None).await, "t4");
        forever.forget(&Secret::new("t4")).await;
        assert_eq!(token(&forever, &mints, None).await, "t5");
    }

    #[tokio::test]
    async fn a_refused_token_is_replaced_once() {
        let cache = TokenCache::default();
        let mints = AtomicU32::new(0);
        let mint = || async {
            let n = mints.fetch_add(1, Ordering::SeqCst) + 1;
            Ok::<_, String>(minted(&format!("t{n}"), Some(3600)))
        };
        let seen = std::sync::Mutex::new(Vec::new());
        let out: Result<(), String> = cache
            .call(
                mint,
                |e| e == "401",
                |t, fresh| {
                    seen.lock().unwrap().push((t.expose().to_string(), fresh));
                    async { Err("401".to_string()) }
                },
            )
            .await;
        assert_eq!(out, Err("401".into()));
        assert_eq!(
            *seen.lock().unwrap(),
            [("t1".to_string(), false), ("t2".to_string(), true)]
        );
    }
}
