//! The configuration file: typed, validated, `${VAR}`-expanded.
//!
//! Errors name the file, the key path and the fix, e.g.
//! `skubridge.toml: channel[0].reserve_stock: must be 0 or more (got -1)`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::money::Money;
use crate::secret::Secret;

/// Default Shopify Admin API version: the newest stable one when this build was made.
pub const DEFAULT_API_VERSION: &str = "2026-10";

/// A configuration problem: the file and one line saying what to change.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub database: PathBuf,
    pub shopify: ShopifyConfig,
    pub channels: Vec<ChannelConfig>,
    pub schedule: Schedule,
    pub notify: NotifyConfig,
    /// Files written after every run for monitoring (`[metrics]`, `[report]`).
    pub outputs: Outputs,
    /// Warnings found while loading (world-readable literal secrets); shown once per run.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ShopifyConfig {
    pub shop: String,
    pub endpoint: String,
    pub api_version: String,
    pub auth: ShopifyAuthConfig,
    /// Location GIDs whose `available` is summed; empty = every active location.
    pub locations: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum ShopifyAuthConfig {
    Token(Secret),
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
    },
}

/// One `[[channel]]`: the keys every kind shares, and the kind's own (validated by
/// its module, kept opaque here).
#[derive(Debug, Clone)]
pub struct ChannelConfig {
    pub name: String,
    /// The `kind = "..."` value.
    pub kind: &'static str,
    pub settings: crate::channel::Settings,
    pub reserve_stock: i64,
    /// `None` = no cap.
    pub max_stock: Option<i64>,
    pub reconcile_every_hours: u32,
    pub concurrency: usize,
    /// Orders created before this are never imported. `None`: from the first run on.
    pub import_orders_since: Option<DateTime<Utc>>,
    /// Shopify tracking company -> the channel's carrier (its code or name).
    pub carriers: BTreeMap<String, String>,
    pub orders: OrdersConfig,
}

/// How channel orders look once created in Shopify (`[channel.orders]`).
#[derive(Debug, Clone, Default)]
pub struct OrdersConfig {
    /// Added to every imported order, besides the channel's name.
    pub tags: Vec<String>,
    /// One more line on every order (e.g. a zero-priced marker line).
    pub extra_line_item: Option<ExtraLine>,
    /// Shipping line title per ISO country code of the shipping address.
    pub shipping_by_country: BTreeMap<String, String>,
    /// On a channel whose orders wait for acceptance: refuse the lines that cannot be
    /// sold (no Shopify variant, too little stock) and accept the rest, instead of
    /// holding the whole order for a person.
    pub refuse_unfulfillable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraLine {
    pub title: String,
    pub price: Money,
}

/// Where the emails a person must act on go (design §10).
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub transport: NotifyTransport,
    pub to: Vec<String>,
    pub from: String,
    /// The same problem is mailed at most this often.
    pub repeat_after_hours: u32,
    /// The longest skubridge waits on the SMTP server for one step of a send (connect
    /// and greeting, login, one email, goodbye).
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone)]
pub enum NotifyTransport {
    /// `smtp://host:25` (plain relay), `smtp://host:587?tls=required` (STARTTLS) or
    /// `smtps://host:465` (TLS); user and password in the URL. The whole URL is secret.
    Smtp { url: Secret },
    /// Each email written as an .eml file into this directory.
    File { dir: PathBuf },
    /// Each email logged at warn level (the default when [notify] is absent).
    Log,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub sync_every_minutes: u32,
    pub product_sync_every_minutes: u32,
    /// A pass stops starting work after this long, records what it did and frees the
    /// lock: a peer that answers too slowly can never hold every later run off.
    pub pass_budget: std::time::Duration,
}

// ---- raw file shape (unknown keys are errors) ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database: Option<String>,
    shopify: RawShopify,
    #[serde(default)]
    channel: Vec<RawChannel>,
    #[serde(default)]
    schedule: RawSchedule,
    notify: Option<RawNotify>,
    metrics: Option<RawMetrics>,
    report: Option<RawReport>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    textfile: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    html: Option<String>,
}

/// What is written after every run that touches the store (sync, fulfil,
/// reset-products), for monitoring. Paths are relative to the config file.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// `[metrics] textfile`: Prometheus text format, for node_exporter's textfile
    /// collector.
    pub metrics_textfile: Option<PathBuf>,
    /// `[report] html`: the self-contained dashboard page.
    pub report_html: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    transport: Option<String>,
    smtp_url: Option<String>,
    dir: Option<String>,
    #[serde(default)]
    to: Vec<String>,
    from: Option<String>,
    #[serde(default = "default_repeat_hours")]
    repeat_after_hours: i64,
    #[serde(default = "default_smtp_timeout")]
    timeout_seconds: i64,
}

fn default_repeat_hours() -> i64 {
    24
}

fn default_smtp_timeout() -> i64 {
    30
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShopify {
    shop: String,
    access_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    api_version: Option<String>,
    #[serde(default)]
    locations: Vec<String>,
    endpoint: Option<String>,
}

/// The keys every kind shares; the rest goes to the kind's module.
#[derive(Deserialize)]
struct RawChannel {
    name: String,
    kind: String,
    #[serde(default)]
    reserve_stock: i64,
    #[serde(default)]
    max_stock: i64,
    #[serde(default = "default_reconcile_hours")]
    reconcile_every_hours: i64,
    #[serde(default = "default_concurrency")]
    concurrency: i64,
    import_orders_since: Option<String>,
    #[serde(default)]
    carriers: BTreeMap<String, String>,
    #[serde(default)]
    orders: RawOrders,
    /// The kind's own keys.
    #[serde(flatten)]
    kind_keys: toml::Table,
}

/// The common keys of a `[[channel]]`, named when a key is unknown to both.
const COMMON_CHANNEL_KEYS: &str = "name, kind, reserve_stock, max_stock, reconcile_every_hours, concurrency, import_orders_since, carriers, orders";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOrders {
    #[serde(default)]
    tags: Vec<String>,
    extra_line_item: Option<RawExtraLine>,
    #[serde(default)]
    shipping_by_country: BTreeMap<String, String>,
    #[serde(default)]
    refuse_unfulfillable: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtraLine {
    title: String,
    price: String,
}

fn default_reconcile_hours() -> i64 {
    24
}
fn default_concurrency() -> i64 {
    4
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    #[serde(default = "default_sync_minutes")]
    sync_every_minutes: i64,
    #[serde(default = "default_product_minutes")]
    product_sync_every_minutes: i64,
    #[serde(default = "default_budget_minutes")]
    pass_budget_minutes: i64,
}

impl Default for RawSchedule {
    fn default() -> Self {
        Self {
            sync_every_minutes: default_sync_minutes(),
            product_sync_every_minutes: default_product_minutes(),
            pass_budget_minutes: default_budget_minutes(),
        }
    }
}

/// Far above a normal pass (seconds) and the first full read of a 100k catalog (minutes).
fn default_budget_minutes() -> i64 {
    30
}

fn default_sync_minutes() -> i64 {
    5
}
fn default_product_minutes() -> i64 {
    60
}

/// Keys whose values are credentials: a literal value in a world-readable file is warned about.
const SECRET_KEYS: &[&str] = &["access_token", "client_secret", "smtp_url"];

impl Config {
    /// Reads, expands `${VAR}` from `env`, and validates the file at `path`.
    pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::load_with(path, env, crate::channel::KINDS)
    }

    /// [`Config::load`] knowing these channel kinds (tests add their own).
    pub fn load_with(
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
        kinds: &[&'static crate::channel::Kind],
    ) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let err = |message: String| ConfigError {
            file: file.clone(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            err(match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "no such config file; create one with `skubridge init`, or name yours with --config or $SKUBRIDGE_CONFIG".to_string()
                }
                _ => format!(
                    "the config file cannot be read ({e}); check that it is a readable file (its permissions, and that it is not a directory)"
                ),
            })
        })?;
        let mut value: toml::Value = toml::from_str(&text).map_err(|e| err(toml_message(&e)))?;
        let mut literal_secrets = Vec::new();
        let mut missing = Vec::new();
        expand(&mut value, "", env, &mut literal_secrets, &mut missing);
        if !missing.is_empty() {
            return Err(err(missing.join("; ")));
        }
        let raw: RawConfig = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            err(format!("{}: {}", path, inner.trim_end()))
        })?;
        let mut warnings = Vec::new();
        if !literal_secrets.is_empty() && world_readable(path) {
            warnings.push(format!(
                "{file} is readable by every user and holds a literal secret ({}); use ${{VAR}} from the environment or `chmod 600 {file}`",
                literal_secrets.join(", ")
            ));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let cfg = validate(raw, base, kinds).map_err(err)?;
        Ok(Self {
            path: path.to_path_buf(),
            warnings,
            ..cfg
        })
    }
}

fn toml_message(e: &toml::de::Error) -> String {
    // toml's message spans several lines with a source excerpt; keep it, indented.
    e.to_string().trim_end().replace('\n', "\n  ")
}

/// Replaces `${NAME}` in every string value. Collects every missing variable (with the
/// key needing it) so one run names them all, and the keys holding literal secrets.
fn expand(
    v: &mut toml::Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    literal_secrets: &mut Vec<String>,
    missing: &mut Vec<String>,
) {
    match v {
        toml::Value::String(s) => {
            let key = path.rsplit('.').next().unwrap_or(path);
            if SECRET_KEYS.contains(&key) && holds_literal_secret(key, s) {
                literal_secrets.push(path.to_string());
            }
            match expand_str(s, env) {
                Ok(expanded) => *s = expanded,
                Err(var) => missing.push(format!(
                    "{path}: environment variable {var} is not set; export it or write the value in the file"
                )),
            }
        }
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand(item, &format!("{path}[{i}]"), env, literal_secrets, missing);
            }
        }
        toml::Value::Table(t) => {
            for (k, item) in t.iter_mut() {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                expand(item, &p, env, literal_secrets, missing);
            }
        }
        _ => {}
    }
}

fn holds_literal_secret(key: &str, value: &str) -> bool {
    if value.is_empty() || value.contains("${") {
        return false;
    }
    // An SMTP URL is only secret when it carries a password (`user:password@`).
    key != "smtp_url"
        || value
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// `${NAME}` → value; `$${` escapes a literal `${`. Returns the missing name on error.
fn expand_str(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            out.push_str(&rest[..i - 1]);
            out.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("(unclosed \"${{{after}\")"));
        };
        let name = &after[..end];
        out.push_str(&env(name).ok_or_else(|| name.to_string())?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(unix)]
fn world_readable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o004 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn world_readable(_: &Path) -> bool {
    false
}

fn validate(
    raw: RawConfig,
    base: &Path,
    kinds: &[&'static crate::channel::Kind],
) -> Result<Config, String> {
    let database = base.join(raw.database.as_deref().unwrap_or("skubridge.db"));
    let shopify = validate_shopify(raw.shopify)?;
    if raw.channel.is_empty() {
        return Err(
            "no [[channel]] configured; add one (see config.example.toml or `skubridge init`)"
                .into(),
        );
    }
    let mut names = BTreeSet::new();
    let mut channels = Vec::new();
    for (i, c) in raw.channel.into_iter().enumerate() {
        let ch = validate_channel(c, i, kinds)?;
        if !names.insert(ch.name.clone()) {
            return Err(format!(
                "channel[{i}].name: \"{}\" is used twice; channel names must be unique",
                ch.name
            ));
        }
        channels.push(ch);
    }
    let schedule = Schedule {
        sync_every_minutes: positive_minutes(
            raw.schedule.sync_every_minutes,
            "schedule.sync_every_minutes",
        )?,
        product_sync_every_minutes: positive_minutes(
            raw.schedule.product_sync_every_minutes,
            "schedule.product_sync_every_minutes",
        )?,
        pass_budget: minutes(within(
            raw.schedule.pass_budget_minutes,
            1,
            MAX_BUDGET_MINUTES,
            "schedule.pass_budget_minutes",
        )?),
    };
    let notify = validate_notify(raw.notify, base)?;
    let file = |v: Option<String>| v.filter(|p| !p.trim().is_empty()).map(|p| base.join(p));
    let outputs = Outputs {
        metrics_textfile: file(raw.metrics.and_then(|m| m.textfile)),
        report_html: file(raw.report.and_then(|r| r.html)),
    };
    Ok(Config {
        path: PathBuf::new(),
        database,
        shopify,
        channels,
        schedule,
        notify,
        outputs,
        warnings: Vec::new(),
    })
}

fn validate_notify(raw: Option<RawNotify>, base: &Path) -> Result<NotifyConfig, String> {
    let Some(n) = raw else {
        return Ok(NotifyConfig {
            transport: NotifyTransport::Log,
            to: Vec::new(),
            from: "skubridge@localhost".into(),
            repeat_after_hours: 24,
            timeout: seconds(default_smtp_timeout()),
        });
    };
    let kind = n
        .transport
        .as_deref()
        .unwrap_or(if n.smtp_url.is_some() { "smtp" } else { "log" });
    let transport = match kind {
        "smtp" => {
            let url = n.smtp_url.ok_or("notify.smtp_url: required with transport = \"smtp\"; write it like \"smtps://user:${SMTP_PASSWORD}@smtp.example.com:465\"")?;
            let scheme = url.split("://").next().unwrap_or_default();
            if !(scheme == "smtp" || scheme == "smtps") || !url.contains("://") {
                return Err("notify.smtp_url: must start with smtp:// (add ?tls=required for STARTTLS) or smtps://".into());
            }
            smtp_login_is_encrypted(&url)?;
            NotifyTransport::Smtp {
                url: Secret::new(url),
            }
        }
        "file" => NotifyTransport::File {
            dir: base.join(n.dir.as_deref().unwrap_or("outbox")),
        },
        "log" => NotifyTransport::Log,
        other => {
            return Err(format!(
                "notify.transport: \"{other}\" must be \"smtp\", \"file\" or \"log\""
            ))
        }
    };
    if !matches!(transport, NotifyTransport::Log) && n.to.is_empty() {
        return Err("notify.to: list at least one address, like [\"ops@brand.com\"]".into());
    }
    for (i, addr) in n.to.iter().enumerate() {
        if addr.parse::<lettre::Address>().is_err() {
            return Err(format!(
                "notify.to[{i}]: \"{addr}\" is not an email address"
            ));
        }
    }
    let from = n.from.unwrap_or_else(|| "skubridge@localhost".into());
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(format!(
            "notify.from: \"{from}\" is not an email address (\"skubridge@brand.com\" or \"skubridge <skubridge@brand.com>\")"
        ));
    }
    Ok(NotifyConfig {
        transport,
        to: n.to,
        from,
        repeat_after_hours: positive(n.repeat_after_hours, "notify.repeat_after_hours")?,
        timeout: seconds(within(
            n.timeout_seconds,
            1,
            MAX_SMTP_TIMEOUT_SECONDS,
            "notify.timeout_seconds",
        )?),
    })
}

fn validate_shopify(s: RawShopify) -> Result<ShopifyConfig, String> {
    let shop = s.shop.trim().to_string();
    if shop.is_empty() || shop.contains('/') || shop.contains(':') {
        return Err(format!(
            "shopify.shop: \"{shop}\" is not a shop domain; write it like \"my-store.myshopify.com\""
        ));
    }
    let endpoint = match s.endpoint {
        Some(e) => url_key(&e, "shopify.endpoint")?,
        None => format!("https://{shop}"),
    };
    let api_version = s
        .api_version
        .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    if !is_api_version(&api_version) {
        return Err(format!(
            "shopify.api_version: \"{api_version}\" is not a Shopify API version; use the form \"{DEFAULT_API_VERSION}\""
        ));
    }
    let auth = match (s.access_token, s.client_id, s.client_secret) {
        (Some(token), None, None) if !token.is_empty() => {
            ShopifyAuthConfig::Token(Secret::new(token))
        }
        (None, Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
            ShopifyAuthConfig::ClientCredentials {
                client_id: id,
                client_secret: Secret::new(secret),
            }
        }
        (None, None, None) => {
            return Err(
                "shopify: no credentials; set access_token, or client_id and client_secret".into(),
            )
        }
        (Some(_), None, None) => return Err("shopify.access_token: must not be empty".into()),
        (Some(_), _, _) => {
            return Err(
                "shopify: set either access_token or client_id + client_secret, not both".into(),
            )
        }
        _ => {
            return Err(
                "shopify: client_id and client_secret must both be set (and not empty)".into(),
            )
        }
    };
    let mut locations = Vec::new();
    for (i, l) in s.locations.iter().enumerate() {
        locations.push(location_gid(l).ok_or_else(|| {
            format!("shopify.locations[{i}]: \"{l}\" is not a location id; use \"gid://shopify/Location/123\" or 123")
        })?);
    }
    Ok(ShopifyConfig {
        shop,
        endpoint,
        api_version,
        auth,
        locations,
    })
}

fn validate_channel(
    c: RawChannel,
    i: usize,
    kinds: &[&'static crate::channel::Kind],
) -> Result<ChannelConfig, String> {
    let key = |k: &str| format!("channel[{i}].{k}");
    let name = c.name.trim().to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    {
        return Err(format!(
            "{}: \"{}\" must be letters, digits, '-' or '_' (it names the channel in the database and in orders)",
            key("name"),
            c.name
        ));
    }
    let known: Vec<&str> = kinds.iter().map(|k| k.name).collect();
    let Some(kind) = kinds.iter().find(|k| k.name == c.kind) else {
        let supported = known.join(", ");
        return Err(match c.kind.as_str() {
            "seller_center" | "mirakl" | "hardtofind" => format!(
                "{}: \"{}\" is not supported by this version of skubridge yet; supported: {supported}",
                key("kind"),
                c.kind
            ),
            other => format!(
                "{}: unknown channel kind \"{other}\"; supported: {supported}",
                key("kind")
            ),
        });
    };
    let settings = (kind.parse)(c.kind_keys, &key)?;
    let reserve_stock = quantity(c.reserve_stock, &key("reserve_stock"), "0 or more")?;
    let max_stock = quantity(c.max_stock, &key("max_stock"), "0 (no cap) or more")?;
    let reconcile_every_hours = positive(c.reconcile_every_hours, &key("reconcile_every_hours"))?;
    if !(1..=32).contains(&c.concurrency) {
        return Err(format!(
            "{}: must be between 1 and 32 (got {})",
            key("concurrency"),
            c.concurrency
        ));
    }
    let import_orders_since = match c.import_orders_since.as_deref() {
        None => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    format!(
                        "{}: \"{text}\" is not an RFC 3339 time like \"2026-11-01T00:00:00Z\"",
                        key("import_orders_since")
                    )
                })?,
        ),
    };
    for (company, provider) in &c.carriers {
        if company.trim().is_empty() || provider.trim().is_empty() {
            return Err(format!(
                "{}: \"{company}\" = \"{provider}\": both the Shopify carrier and the channel's carrier are needed",
                key("carriers")
            ));
        }
    }
    let orders = validate_orders(c.orders, &|k| key(&format!("orders.{k}")))?;
    Ok(ChannelConfig {
        name,
        kind: kind.name,
        settings,
        reserve_stock,
        max_stock: (max_stock > 0).then_some(max_stock),
        reconcile_every_hours,
        concurrency: c.concurrency as usize,
        import_orders_since,
        carriers: c.carriers,
        orders,
    })
}

fn validate_orders(o: RawOrders, key: &dyn Fn(&str) -> String) -> Result<OrdersConfig, String> {
    // Shopify splits tags on commas.
    if let Some(bad) = o
        .tags
        .iter()
        .find(|t| t.trim().is_empty() || t.contains(','))
    {
        return Err(format!(
            "{}: \"{bad}\" must be a non-empty tag without commas",
            key("tags")
        ));
    }
    let extra_line_item = match o.extra_line_item {
        None => None,
        Some(e) => {
            if e.title.trim().is_empty() {
                return Err(format!(
                    "{}: must not be empty",
                    key("extra_line_item.title")
                ));
            }
            let price = e.price.parse::<Money>().ok().filter(|p| *p >= Money::ZERO);
            let Some(price) = price else {
                return Err(format!(
                    "{}: \"{}\" must be an amount like \"0.00\" (a string, 0 or more)",
                    key("extra_line_item.price"),
                    e.price
                ));
            };
            Some(ExtraLine {
                title: e.title,
                price,
            })
        }
    };
    let mut shipping_by_country = BTreeMap::new();
    for (country, title) in o.shipping_by_country {
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!(
                "{}: \"{country}\" must be a two-letter country code like AU",
                key("shipping_by_country")
            ));
        }
        if title.trim().is_empty() {
            return Err(format!(
                "{}.{country}: the shipping line title must not be empty",
                key("shipping_by_country")
            ));
        }
        shipping_by_country.insert(country.to_ascii_uppercase(), title);
    }
    Ok(OrdersConfig {
        tags: o.tags,
        extra_line_item,
        shipping_by_country,
        refuse_unfulfillable: o.refuse_unfulfillable,
    })
}

/// Intervals are at most a year: longer ones are typos, and time arithmetic on them
/// must never overflow.
const MAX_HOURS: i64 = 24 * 366;

fn positive(v: i64, key: &str) -> Result<u32, String> {
    within(v, 1, MAX_HOURS, key)
}

fn positive_minutes(v: i64, key: &str) -> Result<u32, String> {
    within(v, 1, MAX_HOURS * 60, key)
}

/// No SKU is stocked or reserved by the ten million: a larger figure is a typo, and
/// bounding it keeps every stock sum far from overflow.
pub const MAX_QUANTITY: i64 = 10_000_000;

fn quantity(v: i64, key: &str, floor: &str) -> Result<i64, String> {
    if v < 0 {
        return Err(format!("{key}: must be {floor} (got {v})"));
    }
    if v > MAX_QUANTITY {
        return Err(format!(
            "{key}: must be at most {MAX_QUANTITY} (got {v}); it is a number of units"
        ));
    }
    Ok(v)
}

/// A pass that needs more than a day is stuck, not slow.
const MAX_BUDGET_MINUTES: i64 = 24 * 60;

/// Five minutes is already more than any SMTP server takes to answer.
const MAX_SMTP_TIMEOUT_SECONDS: i64 = 300;

fn within(v: i64, min: i64, max: i64, key: &str) -> Result<u32, String> {
    if v < min {
        return Err(format!("{key}: must be {min} or more (got {v})"));
    }
    if v > max {
        return Err(format!("{key}: must be at most {max} (got {v})"));
    }
    Ok(v as u32)
}

fn seconds(n: impl Into<i64>) -> std::time::Duration {
    std::time::Duration::from_secs(n.into().unsigned_abs())
}

fn minutes(n: u32) -> std::time::Duration {
    seconds(i64::from(n) * 60)
}

/// A kind's own keys of a `[[channel]]` table as its `T` (which denies unknown fields):
/// errors name the key's path, and an unknown key lists the common keys too.
pub fn kind_keys<T: serde::de::DeserializeOwned>(
    keys: toml::Table,
    key: crate::channel::KeyPath<'_>,
) -> Result<T, String> {
    serde_path_to_error::deserialize(toml::Value::Table(keys)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let inner = inner.trim_end();
        let at = if path == "." {
            key("").trim_end_matches('.').to_string()
        } else {
            key(&path)
        };
        if inner.starts_with("unknown field") {
            format!("{at}: {inner}; or one of the keys every channel has: {COMMON_CHANNEL_KEYS}")
        } else {
            format!("{at}: {inner}")
        }
    })
}

/// An http(s) URL key: refuses plain http except to this machine.
pub(crate) fn url_key(v: &str, key: &str) -> Result<String, String> {
    let v = v.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(v)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
        .ok_or_else(|| {
            format!("{key}: \"{v}\" is not an http(s) URL; write it like \"https://host.example\"")
        })?;
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(format!(
            "{key}: \"{v}\" is plain http: tokens and secrets would cross the network unencrypted; use https:// (plain http is only for this machine, like the sandbox)"
        ));
    }
    Ok(v.to_string())
}

/// This machine: what plain http and unencrypted SMTP logins are allowed to reach.
fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A login sent over plain `smtp://` (no `tls=required`) to another machine goes in
/// clear text: refused, naming only the host.
fn smtp_login_is_encrypted(url: &str) -> Result<(), String> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Ok(()); // lettre's own error names the problem when sending.
    };
    let tls = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let clear = parsed.scheme() == "smtp" && tls.as_deref() != Some("required");
    if clear && parsed.password().is_some() && !is_loopback(&parsed) {
        return Err(format!(
            "notify.smtp_url: the password would go to {} unencrypted; use smtps://...:465, or add ?tls=required for STARTTLS (a plain smtp:// login is only for a relay on this machine)",
            parsed.host_str().unwrap_or("the server")
        ));
    }
    Ok(())
}

fn is_api_version(v: &str) -> bool {
    let b = v.as_bytes();
    v == "unstable"
        || (b.len() == 7
            && b[4] == b'-'
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[5..].iter().all(u8::is_ascii_digit))
}

fn location_gid(v: &str) -> Option<String> {
    let id = v.strip_prefix("gid://shopify/Location/").unwrap_or(v);
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("gid://shopify/Location/{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const GOOD: &str = r#"
[shopify]
shop = "demo.myshopify.com"
access_token = "${SHOPIFY_TOKEN}"
locations = ["gid://shopify/Location/1", "2"]

[[channel]]
name = "iconic"
kind = "iconic"
endpoint = "https://sellercenter-api.theiconic.com.au/"
client_id = "abc"
client_secret = "${ICONIC_SECRET}"
reserve_stock = 1
"#;

    fn env(name: &str) -> Option<String> {
        match name {
            "SHOPIFY_TOKEN" => Some("shpat_x".into()),
            "ICONIC_SECRET" => Some("s3cret".into()),
            _ => None,
        }
    }

    fn load(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skubridge.toml");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        Config::load(&path, &env)
    }

    fn error(text: &str) -> String {
        load(text).unwrap_err().message
    }

    #[test]
    fn loads_a_good_file_with_defaults() {
        let c = load(GOOD).unwrap();
        assert_eq!(c.shopify.endpoint, "https://demo.myshopify.com");
        assert_eq!(c.shopify.api_version, DEFAULT_API_VERSION);
        assert_eq!(
            c.shopify.locations,
            ["gid://shopify/Location/1", "gid://shopify/Location/2"]
        );
        let ch = &c.channels[0];
        assert_eq!(ch.kind, "iconic");
        // The kind's keys are its module's (tested there); never printed with secrets.
        let shown = format!("{:?}", ch.settings);
        assert!(
            shown.contains("\"https://sellercenter-api.theiconic.com.au\""),
            "{shown}"
        );
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(ch.reserve_stock, 1);
        assert_eq!(ch.max_stock, None);
        assert_eq!(ch.reconcile_every_hours, 24);
        assert_eq!(c.schedule.sync_every_minutes, 5);
        assert!(c.database.ends_with("skubridge.db"));
    }

    #[test]
    fn negative_reserve_names_the_key() {
        let e = error(&GOOD.replace("reserve_stock = 1", "reserve_stock = -1"));
        assert_eq!(e, "channel[0].reserve_stock: must be 0 or more (got -1)");
    }

    #[test]
    fn unknown_key_is_an_error_with_its_path() {
        let e = error(&GOOD.replace("reserve_stock = 1", "reserv_stock = 1"));
        assert!(e.starts_with("channel[0]"), "{e}");
        assert!(e.contains("unknown field `reserv_stock`"), "{e}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = error(&GOOD.replace("reserve_stock = 1", "reserve_stock = \"one\""));
        assert!(e.starts_with("channel[0].reserve_stock"), "{e}");
    }

    #[test]
    fn missing_variable_names_key_and_variable() {
        let e = error(&GOOD.replace("${ICONIC_SECRET}", "${NOPE}"));
        assert!(
            e.starts_with("channel[0].client_secret: environment variable NOPE is not set"),
            "{e}"
        );
    }

    #[test]
    fn every_missing_variable_is_named_at_once() {
        let e = error(
            &GOOD
                .replace("${ICONIC_SECRET}", "${NOPE}")
                .replace("${SHOPIFY_TOKEN}", "${NADA}"),
        );
        assert!(
            e.contains("channel[0].client_secret: environment variable NOPE"),
            "{e}"
        );
        assert!(
            e.contains("shopify.access_token: environment variable NADA"),
            "{e}"
        );
    }

    #[test]
    fn dollar_escape_keeps_a_literal() {
        assert_eq!(expand_str("a$${B}c", &env).unwrap(), "a${B}c");
        assert_eq!(expand_str("x${SHOPIFY_TOKEN}y", &env).unwrap(), "xshpat_xy");
    }

    #[test]
    fn credentials_must_be_one_kind() {
        let e = error(&GOOD.replace(
            "access_token = \"${SHOPIFY_TOKEN}\"",
            "access_token = \"a\"\nclient_id = \"b\"",
        ));
        assert!(e.starts_with("shopify: set either access_token"), "{e}");
        let e = error(&GOOD.replace("access_token = \"${SHOPIFY_TOKEN}\"", "client_id = \"b\""));
        assert!(
            e.contains("client_id and client_secret must both be set"),
            "{e}"
        );
    }

    #[test]
    fn other_validations() {
        assert!(
            error(&GOOD.replace("kind = \"iconic\"", "kind = \"seller_center\""))
                .contains("not supported by this version")
        );
        assert!(error(&GOOD.replace("\"2\"", "\"warehouse\"")).starts_with("shopify.locations[1]"));
        assert!(error(&GOOD.replace("https://sellercenter", "sellercenter"))
            .starts_with("channel[0].endpoint"));
        assert!(
            error(&format!("{GOOD}\n[schedule]\nsync_every_minutes = 0\n"))
                .starts_with("schedule.sync_every_minutes: must be 1 or more")
        );
        assert!(error(&format!(
            "{GOOD}{}",
            &GOOD[GOOD.find("[[channel]]").unwrap()..]
        ))
        .contains("is used twice"));
    }

    #[test]
    fn credentials_never_go_out_unencrypted() {
        let channel = "https://sellercenter-api.theiconic.com.au/";
        for (endpoint, ok) in [
            ("http://sellercenter-api.theiconic.com.au", false),
            ("http://10.0.0.5:8080", false),
            ("http://127.0.0.1:4000", true),
            ("http://localhost:4000", true),
            ("http://[::1]:4000", true),
            ("https://sellercenter-api.theiconic.com.au", true),
        ] {
            let result = load(&GOOD.replace(channel, endpoint));
            assert_eq!(result.is_ok(), ok, "{endpoint}: {:?}", result.err());
            if !ok {
                let e = result.unwrap_err().message;
                assert!(
                    e.starts_with("channel[0].endpoint:") && e.contains("plain http"),
                    "{e}"
                );
            }
        }
        let shop = GOOD.replace(
            "locations =",
            "endpoint = \"http://demo.myshopify.com\"\nlocations =",
        );
        assert!(error(&shop).starts_with("shopify.endpoint:"));

        let mail = |url: &str| {
            load(&format!(
                "{GOOD}\n[notify]\nsmtp_url = \"{url}\"\nto = [\"ops@brand.com\"]\n"
            ))
        };
        let clear = mail("smtp://ops:s3cret@smtp.example.com:587")
            .unwrap_err()
            .message;
        assert!(
            clear.starts_with(
                "notify.smtp_url: the password would go to smtp.example.com unencrypted"
            ),
            "{clear}"
        );
        assert!(!clear.contains("s3cret"), "{clear}");
        assert!(mail("smtp://ops:p@smtp.example.com:587?tls=opportunistic").is_err());
        for fine in [
            "smtp://ops:p@smtp.example.com:587?tls=required",
            "smtps://ops:p@smtp.example.com:465",
            "smtp://ops:p@127.0.0.1:25",
            // No login: nothing secret to send.
            "smtp://relay.example.com:25",
        ] {
            assert!(mail(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn order_settings() {
        let orders = r#"
import_orders_since = "2026-11-01T10:00:00+10:00"
[channel.carriers]
"Australia Post" = "AusPost"
[channel.orders]
tags = ["the-iconic", "marketplace"]
extra_line_item = { title = "THE ICONIC ORDER", price = "0.00" }
shipping_by_country = { au = "Standard", NZ = "International" }
"#;
        let cfg = load(&format!("{GOOD}{orders}")).unwrap();
        let ch = &cfg.channels[0];
        assert_eq!(
            ch.import_orders_since.map(|t| t.to_rfc3339()),
            Some("2026-11-01T00:00:00+00:00".into())
        );
        assert_eq!(ch.carriers["Australia Post"], "AusPost");
        assert_eq!(ch.orders.tags, ["the-iconic", "marketplace"]);
        let extra = ch.orders.extra_line_item.as_ref().unwrap();
        assert_eq!(
            (extra.title.as_str(), extra.price),
            ("THE ICONIC ORDER", Money::ZERO)
        );
        assert_eq!(ch.orders.shipping_by_country["AU"], "Standard");

        let defaults = load(GOOD).unwrap();
        assert!(defaults.channels[0].import_orders_since.is_none());
        assert!(defaults.channels[0].orders.extra_line_item.is_none());

        for (bad, key) in [
            (
                "import_orders_since = \"yesterday\"",
                "channel[0].import_orders_since",
            ),
            (
                "[channel.orders]\ntags = [\"a,b\"]",
                "channel[0].orders.tags",
            ),
            (
                "[channel.orders]\nextra_line_item = { title = \"X\", price = \"-1\" }",
                "channel[0].orders.extra_line_item.price",
            ),
            (
                "[channel.orders]\nshipping_by_country = { Australia = \"Standard\" }",
                "channel[0].orders.shipping_by_country",
            ),
            ("[channel.orders]\ntag = [\"x\"]", "channel[0].orders"),
        ] {
            let e = error(&format!("{GOOD}{bad}\n"));
            assert!(e.starts_with(key), "{bad}: {e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_literal_secret_warns() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skubridge.toml");
        std::fs::write(&path, GOOD.replace("${ICONIC_SECRET}", "literal")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let c = Config::load(&path, &env).unwrap();
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].contains("channel[0].client_secret"));
        assert!(!c.warnings[0].contains("literal\""));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Config::load(&path, &env).unwrap().warnings.is_empty());
    }

    #[test]
    fn notify_section() {
        let c = load(GOOD).unwrap();
        assert!(matches!(c.notify.transport, NotifyTransport::Log));
        let with = |t: &str| format!("{GOOD}\n[notify]\n{t}\n");
        let c = load(&with("to = [\"ops@brand.com\"]\nsmtp_url = \"smtps://u:${ICONIC_SECRET}@mail.example.com:465\"")).unwrap();
        assert!(matches!(c.notify.transport, NotifyTransport::Smtp { .. }));
        assert_eq!(c.notify.repeat_after_hours, 24);
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(error(&with("smtp_url = \"smtp://mail.example.com\"")).starts_with("notify.to:"));
        assert!(error(&with("to = [\"nobody\"]\ntransport = \"log\"")).starts_with("notify.to[0]"));
        assert!(error(&with("to = [\"a@b.co\"]\nsmtp_url = \"http://x\""))
            .starts_with("notify.smtp_url"));
        assert!(error(&with("transport = \"pigeon\"")).starts_with("notify.transport"));
        let c = load(&with(
            "to = [\"a@b.co\"]\ntransport = \"file\"\ndir = \"mail\"",
        ))
        .unwrap();
        assert!(
            matches!(&c.notify.transport, NotifyTransport::File { dir } if dir.ends_with("mail"))
        );
    }

    #[test]
    fn an_smtp_url_is_a_literal_secret_only_with_a_password() {
        assert!(holds_literal_secret("smtp_url", "smtps://u:pw@host:465"));
        assert!(!holds_literal_secret("smtp_url", "smtp://localhost:25"));
        assert!(!holds_literal_secret("smtp_url", "smtps://u:${PW}@host"));
        assert!(holds_literal_secret("client_secret", "abc"));
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = load(GOOD).unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("shpat_x") && !dbg.contains("s3cret"), "{dbg}");
    }
}
