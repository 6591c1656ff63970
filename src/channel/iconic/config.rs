//! The Iconic's keys of a `[[channel]]` table, and its starter block.

use serde::Deserialize;

use super::{IconicClient, IconicSettings};
use crate::channel::{Channel, Connect, KeyPath, Kind, Settings};
use crate::secret::Secret;

pub const KIND: Kind = Kind {
    name: "iconic",
    describes: "The Iconic Seller Center v2 REST API",
    parse,
    starter: include_str!("starter.toml"),
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    endpoint: String,
    client_id: String,
    client_secret: String,
    #[serde(default = "live")]
    environment: String,
}

fn live() -> String {
    "live".into()
}

/// Where and as whom, validated.
#[derive(Debug)]
struct Keys {
    endpoint: String,
    client_id: String,
    client_secret: Secret,
    environment: String,
}

impl Connect for Keys {
    fn connect(&self, concurrency: usize, http: reqwest::Client) -> Box<dyn Channel> {
        Box::new(IconicClient::new(
            IconicSettings {
                endpoint: self.endpoint.clone(),
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.clone(),
                environment: self.environment.clone(),
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
    let endpoint = crate::config::url_key(&raw.endpoint, &key("endpoint"))?;
    if raw.client_id.trim().is_empty() {
        return Err(format!(
            "{}: must not be empty; copy it from Seller Center",
            key("client_id")
        ));
    }
    if raw.client_secret.is_empty() {
        return Err(format!(
            "{}: must not be empty; copy it from Seller Center",
            key("client_secret")
        ));
    }
    if !matches!(raw.environment.as_str(), "live" | "preprod") {
        return Err(format!(
            "{}: \"{}\" must be \"live\" or \"preprod\"",
            key("environment"),
            raw.environment
        ));
    }
    Ok(Keys {
        endpoint,
        client_id: raw.client_id.trim().to_string(),
        client_secret: Secret::new(raw.client_secret),
        environment: raw.environment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Result<Keys, String> {
        keys_of(toml::from_str(text).unwrap(), &|k| {
            format!("channel[0].{k}")
        })
    }

    #[test]
    fn reads_and_checks_its_keys() {
        let k = keys(
            r#"endpoint = "https://sellercenter-api.theiconic.com.au/"
               client_id = " abc "
               client_secret = "s3cret""#,
        )
        .unwrap();
        assert_eq!(k.endpoint, "https://sellercenter-api.theiconic.com.au");
        assert_eq!(
            (k.client_id.as_str(), k.client_secret.expose()),
            ("abc", "s3cret")
        );
        assert_eq!(k.environment, "live");
        let bad = |text: &str| keys(text).unwrap_err();
        let base = "endpoint = \"https://x.example\"\nclient_id = \"a\"\nclient_secret = \"b\"\n";
        assert!(bad(&format!("{base}environment = \"staging\""))
            .starts_with("channel[0].environment: \"staging\" must be \"live\" or \"preprod\""));
        assert!(bad(&base.replace("\"a\"", "\" \""))
            .starts_with("channel[0].client_id: must not be empty"));
        assert!(bad(&base.replace("https://x", "ftp://x")).starts_with("channel[0].endpoint"));
        let unknown = bad(&format!("{base}reserv_stock = 1"));
        assert!(
            unknown.starts_with("channel[0].reserv_stock: unknown field `reserv_stock`")
                && unknown.contains("reserve_stock"),
            "{unknown}"
        );
        assert!(
            bad("client_id = \"a\"\nclient_secret = \"b\"").contains("missing field `endpoint`")
        );
    }
}
