//! Access tokens: the fixture's permanent legacy token and 24-hour tokens minted by the
//! client-credentials grant (contract §1).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};

/// Lifetime of a client-credentials token, as Shopify reports it.
const EXPIRES_IN: Duration = Duration::from_secs(86_399);
/// The scopes skubridge needs (contract §1).
const SCOPE: &str =
    "read_products,read_inventory,write_inventory,read_locations,read_orders,write_orders";
/// The body of a 401 from the Admin API.
pub const INVALID_TOKEN: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";
/// UNCONFIRMED: Shopify's exact status and wording for refused client credentials; this is
/// the OAuth 2 (RFC 6749 §5.2) shape with a 400.
const INVALID_CLIENT: &str = "Client authentication failed due to unknown client, no client \
                              authentication included, or unsupported authentication method.";

/// Form body of `POST /admin/oauth/access_token`.
#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(Default)]
pub struct Auth {
    legacy_token: Option<String>,
    client: Option<(String, String)>,
    /// Minted token -> expiry.
    minted: HashMap<String, Instant>,
}

impl Auth {
    pub fn new(
        legacy_token: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
    ) -> Self {
        Auth {
            legacy_token,
            client: client_id.zip(client_secret),
            minted: HashMap::new(),
        }
    }

    pub fn is_valid(&self, token: &str) -> bool {
        self.legacy_token.as_deref() == Some(token)
            || self
                .minted
                .get(token)
                .is_some_and(|expiry| Instant::now() < *expiry)
    }

    /// The client-credentials grant: the token reply, or an OAuth error body.
    pub fn mint(&mut self, req: &TokenRequest) -> Result<Value, Value> {
        if req.grant_type.as_deref() != Some("client_credentials") {
            return Err(oauth_error(
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            ));
        }
        let given = req.client_id.as_deref().zip(req.client_secret.as_deref());
        let known = self
            .client
            .as_ref()
            .map(|(id, secret)| (id.as_str(), secret.as_str()));
        if given.is_none() || given != known {
            return Err(oauth_error("invalid_client", INVALID_CLIENT));
        }
        let token = format!("shpca_{:032x}", fastrand::u128(..));
        self.minted.retain(|_, expiry| Instant::now() < *expiry);
        self.minted
            .insert(token.clone(), Instant::now() + EXPIRES_IN);
        Ok(json!({
            "access_token": token,
            "scope": SCOPE,
            "expires_in": EXPIRES_IN.as_secs(),
        }))
    }

    /// Control API: every minted token stops working (as if 24 h had passed).
    pub fn expire_minted(&mut self) {
        self.minted.clear();
    }
}

fn oauth_error(error: &str, description: &str) -> Value {
    json!({"error": error, "error_description": description})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: &str, secret: &str) -> TokenRequest {
        TokenRequest {
            grant_type: Some("client_credentials".into()),
            client_id: Some(id.into()),
            client_secret: Some(secret.into()),
        }
    }

    #[test]
    fn mints_checks_and_expires_tokens() {
        let mut auth = Auth::new(
            Some("shpat_x".into()),
            Some("app".into()),
            Some("shpss_s".into()),
        );
        assert!(auth.is_valid("shpat_x"));
        let reply = auth.mint(&request("app", "shpss_s")).unwrap();
        let token = reply["access_token"].as_str().unwrap().to_string();
        assert!(token.starts_with("shpca_"));
        assert_eq!(reply["expires_in"], 86_399);
        assert!(auth.is_valid(&token));
        auth.expire_minted();
        assert!(!auth.is_valid(&token));
        assert!(auth.is_valid("shpat_x"));
        let refused = auth.mint(&request("app", "wrong")).unwrap_err();
        assert_eq!(refused["error"], "invalid_client");
    }

    #[test]
    fn no_credentials_configured_refuses_everyone() {
        let mut auth = Auth::new(None, None, None);
        assert!(!auth.is_valid(""));
        let refused = auth.mint(&request("", "")).unwrap_err();
        assert_eq!(refused["error"], "invalid_client");
    }
}
