//! Hard To Find's keys of a `[[channel]]` table, and its starter block.

use serde::Deserialize;

use super::{HardToFindClient, HardToFindSettings};
use crate::channel::{Channel, Connect, KeyPath, Kind, Settings};
use crate::secret::Secret;

pub const KIND: Kind = Kind {
    name: "hardtofind",
    describes: "the Hard To Find marketplace API",
    parse,
    starter: include_str!("starter.toml"),
};

/// The API Reference's base URLs; `endpoint` overrides them (a sandbox, a proxy).
const LIVE: &str = "https://api.hardtofind.com.au";
const STAGING: &str = "https://staging-api.hardtofind.com.au";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default = "live")]
    environment: String,
    endpoint: Option<String>,
    username: String,
    password: String,
    only_tagged: Option<String>,
    #[serde(default = "yes")]
    process_orders: bool,
}

fn live() -> String {
    "live".into()
}

fn yes() -> bool {
    true
}

/// Where and as whom, validated.
#[derive(Debug)]
struct Keys {
    endpoint: String,
    username: String,
    password: Secret,
    only_tagged: Option<String>,
    process_orders: bool,
}

impl Connect for Keys {
    fn connect(&self, concurrency: usize, http: reqwest::Client) -> Box<dyn Channel> {
        Box::new(HardToFindClient::new(
            HardToFindSettings {
                endpoint: self.endpoint.clone(),
                username: self.username.clone(),
                password: self.password.clone(),
                only_tagged: self.only_tagged.clone(),
                process_orders: self.process_orders,
                concurrency,
            },
            http,
        ))
    }
}

fn parse(keys: toml::Table, key: KeyPath<'_>) -> Result<Settings, String> {
    Ok(std::sync::Arc::new(keys_of(keys, key)?))
}

fn keys_of(keys: toml::Table, key: KeyPath<'_>) -> Result<Keys, String> {
    let raw: Raw = crate::config::kind_keys(keys, key)?;
    let base = match raw.environment.as_str() {
        "live" => LIVE,
        "staging" => STAGING,
        other => {
            return Err(format!(
                "{}: \"{other}\" must be \"live\" or \"staging\"",
                key("environment")
            ))
        }
    };
    let endpoint = match &raw.endpoint {
        Some(url) => crate::config::url_key(url, &key("endpoint"))?,
        None => base.to_string(),
    };
    if raw.username.trim().is_empty() {
        return Err(format!(
            "{}: must not be empty; it is the store owner's Hard To Find login",
            key("username")
        ));
    }
    if raw.password.is_empty() {
        return Err(format!(
            "{}: must not be empty; give it through an environment variable, e.g. \"${{HARDTOFIND_PASSWORD}}\"",
            key("password")
        ));
    }
    let only_tagged = match raw.only_tagged {
        Some(tag) if tag.trim().is_empty() => {
            return Err(format!(
                "{}: must name a Shopify product tag, or be left out to offer every product",
                key("only_tagged")
            ))
        }
        other => other.map(|t| t.trim().to_string()),
    };
    Ok(Keys {
        endpoint,
        username: raw.username.trim().to_string(),
        password: Secret::new(raw.password),
        only_tagged,
        process_orders: raw.process_orders,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Result<Keys, String> {
        keys_of(toml::from_str(text).unwrap(), &|k| {
            format!("channel[1].{k}")
        })
    }

    const BASE: &str = "username = \"owner@store.example\"\npassword = \"pw\"\n";

    #[test]
    fn environments_pick_the_documented_endpoints_unless_one_is_given() {
        let k = keys(BASE).unwrap();
        assert_eq!(k.endpoint, LIVE);
        assert!(k.process_orders);
        assert_eq!(k.only_tagged, None);
        let k = keys(&format!("{BASE}environment = \"staging\"")).unwrap();
        assert_eq!(k.endpoint, STAGING);
        let k = keys(&format!(
            "{BASE}endpoint = \"http://127.0.0.1:9/hardtofind/\"\nonly_tagged = \" htf \"\nprocess_orders = false"
        ))
        .unwrap();
        assert_eq!(k.endpoint, "http://127.0.0.1:9/hardtofind");
        assert_eq!(k.only_tagged.as_deref(), Some("htf"));
        assert!(!k.process_orders);
    }

    #[test]
    fn bad_keys_are_named_with_the_fix() {
        let bad = |text: &str| keys(text).unwrap_err();
        assert!(bad(&format!("{BASE}environment = \"preprod\""))
            .starts_with("channel[1].environment: \"preprod\" must be \"live\" or \"staging\""));
        assert!(bad(&BASE.replace("\"pw\"", "\"\""))
            .starts_with("channel[1].password: must not be empty"));
        assert!(bad(&BASE.replace("\"owner@store.example\"", "\" \""))
            .starts_with("channel[1].username: must not be empty"));
        assert!(bad(&format!("{BASE}only_tagged = \"\"")).starts_with("channel[1].only_tagged"));
        assert!(bad(&format!("{BASE}endpoint = \"http://api.example\""))
            .starts_with("channel[1].endpoint"));
        assert!(bad("password = \"pw\"").contains("missing field `username`"));
    }
}
