//! Mirakl's keys of a `[[channel]]` table, and its starter block.

use std::time::Duration;

use serde::Deserialize;

use super::{MiraklClient, MiraklSettings};
use crate::channel::{Channel, Connect, KeyPath, Kind, Settings};
use crate::secret::Secret;

pub const KIND: Kind = Kind {
    name: "mirakl",
    describes: "a Mirakl marketplace's seller (shop) API",
    parse,
    starter: include_str!("starter.toml"),
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    endpoint: String,
    api_key: String,
    shop_id: Option<u64>,
    import_wait_seconds: Option<u64>,
    offer_export: Option<bool>,
}

/// How long a pass waits by default for Mirakl to confirm its stock import: the read
/// right after the upload and two more, 15 s apart (STO02's limit per import).
const DEFAULT_IMPORT_WAIT: u64 = 30;

/// The longest wait a pass may spend on its import: a pass runs every few minutes.
const MAX_IMPORT_WAIT: u64 = 120;

/// Where and as whom, validated.
#[derive(Debug)]
struct Keys {
    endpoint: String,
    api_key: Secret,
    shop_id: Option<u64>,
    import_wait: Duration,
    offer_export: bool,
}

impl Connect for Keys {
    fn connect(&self, concurrency: usize, http: reqwest::Client) -> Box<dyn Channel> {
        Box::new(MiraklClient::new(
            MiraklSettings {
                endpoint: self.endpoint.clone(),
                api_key: self.api_key.clone(),
                shop_id: self.shop_id,
                concurrency,
                import_wait: self.import_wait,
                offer_export: self.offer_export,
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
    let endpoint = crate::config::url_key(&raw.endpoint, &key("endpoint"))?;
    // Operators show the API's address with its `/api`; every call path has it already.
    let endpoint = endpoint
        .strip_suffix("/api")
        .unwrap_or(&endpoint)
        .to_string();
    // Sent raw in a header: anything but visible ASCII could not be, and would be a
    // pasting mistake anyway. The message never repeats the key.
    if raw.api_key.is_empty() || !raw.api_key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{}: must be the shop API key (letters, digits and dashes, no spaces) from the seller back office; give it through an environment variable, e.g. \"${{MIRAKL_API_KEY}}\"",
            key("api_key")
        ));
    }
    let wait = raw.import_wait_seconds.unwrap_or(DEFAULT_IMPORT_WAIT);
    if wait > MAX_IMPORT_WAIT {
        return Err(format!(
            "{}: {wait} is more than {MAX_IMPORT_WAIT} seconds; a pass should not wait longer for its stock import (an unconfirmed import is confirmed on the next pass)",
            key("import_wait_seconds")
        ));
    }
    Ok(Keys {
        endpoint,
        api_key: Secret::new(raw.api_key),
        shop_id: raw.shop_id,
        import_wait: Duration::from_secs(wait),
        offer_export: raw.offer_export.unwrap_or(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Result<Keys, String> {
        keys_of(toml::from_str(text).unwrap(), &|k| {
            format!("channel[2].{k}")
        })
    }

    #[test]
    fn reads_the_operator_url_the_key_and_an_optional_shop() {
        let k = keys("endpoint = \"https://marketplace.example.com/api/\"\napi_key = \"5f2b-key\"")
            .unwrap();
        assert_eq!(k.endpoint, "https://marketplace.example.com");
        assert_eq!((k.api_key.expose(), k.shop_id), ("5f2b-key", None));
        let k = keys("endpoint = \"http://127.0.0.1:9/mirakl\"\napi_key = \"k\"\nshop_id = 2001")
            .unwrap();
        assert_eq!(
            (k.endpoint.as_str(), k.shop_id),
            ("http://127.0.0.1:9/mirakl", Some(2001))
        );
        assert_eq!(k.import_wait, Duration::from_secs(30));
        assert!(k.offer_export);
        let k = keys("endpoint = \"https://m.example\"\napi_key = \"k\"\nimport_wait_seconds = 0")
            .unwrap();
        assert_eq!(k.import_wait, Duration::ZERO);
    }

    #[test]
    fn bad_keys_are_named_with_the_fix_and_never_echo_the_key() {
        let bad = |text: &str| keys(text).unwrap_err();
        let spaced = bad("endpoint = \"https://m.example\"\napi_key = \"abc def-secret\"");
        assert!(
            spaced.starts_with("channel[2].api_key: must be the shop API key"),
            "{spaced}"
        );
        assert!(!spaced.contains("def-secret"));
        assert!(bad("endpoint = \"https://m.example\"\napi_key = \"\"")
            .starts_with("channel[2].api_key"));
        assert!(bad("endpoint = \"http://m.example\"\napi_key = \"k\"")
            .starts_with("channel[2].endpoint"));
        assert!(
            bad("endpoint = \"https://m.example\"\napi_key = \"k\"\nshop_id = \"x\"")
                .starts_with("channel[2].shop_id")
        );
        assert!(bad("api_key = \"k\"").contains("missing field `endpoint`"));
        assert!(bad(
            "endpoint = \"https://m.example\"\napi_key = \"k\"\nimport_wait_seconds = 600"
        )
        .starts_with("channel[2].import_wait_seconds: 600 is more than 120"));
    }
}
