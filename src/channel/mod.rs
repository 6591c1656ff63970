//! Marketplace channels: the one interface the engine sees ([`Channel`]), what a channel
//! says it can do ([`Capabilities`]), the neutral model every kind maps onto (`model`),
//! and one folder per kind.

pub mod hardtofind;
pub mod iconic;
pub mod mirakl;
pub mod model;
pub mod transport;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use model::*;

/// What a channel can do. The engine asks instead of assuming one marketplace's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub listings: ListingsRead,
    pub stock: StockWrite,
    /// New orders wait for the seller to accept them ([`Channel::accept`]) before
    /// they are paid and may be imported.
    pub acceptance: bool,
    pub shipping: Shipping,
    pub carriers: CarrierList,
}

/// What one shipment ([`Channel::ship`]) can hand over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shipping {
    /// Any whole lines of an order (a channel of one-unit items ships item ids).
    Lines,
    /// The whole order at once: every open line, one tracking number.
    WholeOrder,
}

/// How the channel's listings can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingsRead {
    /// Every listing, and those changed since a time.
    Incremental,
    /// Every listing only: each product sync reads the whole catalogue.
    Full,
    /// The channel cannot list its catalogue: stock is offered for every Shopify SKU
    /// (one listing per SKU, keyed by the SKU), and the channel ignores SKUs it lacks.
    None,
}

/// How stock reaches the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockWrite {
    /// Synchronous writes of at most `max` absolute levels, answered item by item.
    Batches { max: usize },
    /// One asynchronous import of every level at a time ([`Channel::start_stock_import`]),
    /// confirmed later ([`Channel::stock_import`]); at most one per `min_interval`. An
    /// import just uploaded is asked about again every `poll` for up to `wait` within
    /// the pass; one still unsettled then is asked about on the next pass.
    Import {
        min_interval: Duration,
        poll: Duration,
        wait: Duration,
    },
}

/// Where the carriers a shipment may name come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarrierList {
    /// The channel lists them; the list is read again after `max_age`. A carrier not on
    /// it (nor mapped to one) is refused, unless the channel takes `others_by_name`:
    /// then it goes by its name and tracking link.
    Listed {
        max_age: Duration,
        others_by_name: bool,
    },
    /// Only `[channel.carriers]`; a carrier not mapped there goes as Shopify writes it.
    ConfigOnly,
}

/// Where an asynchronous stock import stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportState {
    /// Not processed yet.
    Pending,
    /// Processed: every line applied except these (product id, the channel's reason).
    Done { refused: Vec<(String, String)> },
    /// Not applied at all: its levels are sent again.
    Failed { reason: String },
}

/// Why a call to a channel did not succeed. Callers branch on the variant:
/// `Unauthorized` needs a config fix, `Unavailable` clears with a later pass, `Refused`
/// and `Unexpected` need a person. Messages never hold a credential.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The channel refused the credentials, or a token it had just issued; the message
    /// says which and what to check.
    #[error("{0}")]
    Unauthorized(String),
    /// Retriable failures (5xx, 429, timeouts, broken bodies) outlasted every attempt.
    #[error("{endpoint}: no usable answer after {attempts} attempts: {reason}")]
    Unavailable {
        endpoint: &'static str,
        attempts: u32,
        reason: String,
    },
    /// The channel answered and refused; `reason` is its own.
    #[error("{endpoint}: refused with HTTP {status}: {reason}")]
    Refused {
        endpoint: &'static str,
        status: u16,
        reason: String,
    },
    /// An answer in a shape this client does not know, or a request it could not build.
    #[error("{endpoint}: unexpected answer: {reason}")]
    Unexpected {
        endpoint: &'static str,
        reason: String,
    },
}

/// One marketplace account, as the engine sees it. Each kind implements it in its own
/// folder and owns its rules (what a tracking number may hold, its currency, what its
/// product ids are valid for).
/// Where a channel's listings go as they are read: the engine stores each batch as it
/// comes, so a catalogue of any size is never held in memory (the bound makes a fast
/// reader wait for the store).
pub type ListingsOut = tokio::sync::mpsc::Sender<Vec<Listing>>;

/// `ids` without repeats, in order, cut into owned chunks of at most `size` for the
/// by-id reads channels cap (owned: a future borrowing them could not be proven `Send`).
/// No ids, no chunk: an empty filter would ask for every order there is.
pub fn id_chunks(ids: &[String], size: usize) -> Vec<Vec<String>> {
    let ids: Vec<&String> = ids
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    ids.chunks(size)
        .map(|chunk| chunk.iter().map(|id| (*id).clone()).collect())
        .collect()
}

/// Sends a batch of listings on. The engine receives until the channel is done, even
/// after a failed store (reported then), so a closed receiver is not this read's error.
pub async fn send_listings(out: &ListingsOut, batch: Vec<Listing>) {
    if !batch.is_empty() {
        let _ = out.send(batch).await;
    }
}

/// Sends on every batch `read` yields, with the running count to `on_progress`, until
/// it ends or fails.
pub async fn forward_listings(
    read: impl futures::Stream<Item = Result<Vec<Listing>, ChannelError>>,
    out: &ListingsOut,
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<(), ChannelError> {
    use futures::TryStreamExt;
    let mut read = std::pin::pin!(read);
    let mut count = 0;
    while let Some(listings) = read.try_next().await? {
        count += listings.len() as u64;
        on_progress(count);
        send_listings(out, listings).await;
    }
    Ok(())
}

#[async_trait]
pub trait Channel: Send + Sync {
    fn capabilities(&self) -> Capabilities;

    /// What the channel's product ids are valid for (endpoint, account, environment):
    /// when it changes, the stored matches belong to another catalogue.
    fn fingerprint(&self) -> String;

    /// The currency of an order that names none.
    fn default_currency(&self) -> &str;

    /// Why the channel would refuse this tracking number, if it would.
    fn tracking_number_problem(&self, number: &str) -> Option<String>;

    /// A cheap authenticated read (`doctor`'s check); says what was reached.
    async fn check_credentials(&self) -> Result<String, ChannelError>;

    /// For a channel that cannot list its catalogue ([`ListingsRead::None`]): only the
    /// variants of Shopify products carrying this tag are offered (`None`: every one).
    fn offered_tag(&self) -> Option<&str> {
        None
    }

    /// Every listing, or those changed since `updated_since`, sent to `out` a batch at
    /// a time as they are read; `on_progress` gets the running count.
    async fn listings(
        &self,
        updated_since: Option<DateTime<Utc>>,
        out: ListingsOut,
        on_progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), ChannelError>;

    /// Absolute stock levels in the largest batches the channel allows
    /// ([`StockWrite::Batches`]). Never fails as a whole: each update ends up accepted,
    /// refused or failed.
    async fn push_stock(&self, updates: Vec<StockUpdate>) -> PushOutcome {
        let reason = "this channel takes stock as imports, not batches".to_string();
        PushOutcome {
            failed: updates.into_iter().map(|u| (u, reason.clone())).collect(),
            ..Default::default()
        }
    }

    /// Uploads one import of absolute levels ([`StockWrite::Import`]); the channel's id
    /// for it.
    async fn start_stock_import(&self, _updates: &[StockUpdate]) -> Result<String, ChannelError> {
        Err(unsupported("stock imports"))
    }

    /// Where the import `id` stands.
    async fn stock_import(&self, _id: &str) -> Result<ImportState, ChannelError> {
        Err(unsupported("stock imports"))
    }

    /// Decides an order awaiting acceptance ([`Capabilities::acceptance`]): every line is
    /// accepted but those in `refused` (line ids), which are refused. With every line
    /// refused, the order is refused.
    async fn accept(&self, _order: &ChannelOrder, _refused: &[String]) -> Result<(), ChannelError> {
        Err(unsupported("order acceptance"))
    }

    /// Tells the channel an order now exists in Shopify, for a channel that shows it
    /// (Hard To Find's "process"). Called after the import, and again on later passes
    /// while the channel still has the order as [`OrderStage::Ready`], so a lost answer
    /// is caught up; a channel without the notion does nothing.
    async fn acknowledge(&self, _order: &ChannelOrder) -> Result<(), ChannelError> {
        Ok(())
    }

    /// Orders in the channel's "new" states created at or after `created_since` and
    /// (when given) updated at or after `updated_since`, by order id ascending.
    async fn new_orders(
        &self,
        created_since: DateTime<Utc>,
        updated_since: Option<DateTime<Utc>>,
    ) -> Result<OrdersRead, ChannelError>;

    /// The current state of these orders, by order id ascending; ids the channel no
    /// longer returns are absent.
    async fn orders_by_id(&self, ids: &[String]) -> Result<OrdersRead, ChannelError>;

    /// The carriers the channel accepts on shipments.
    async fn carriers(&self) -> Result<Vec<Carrier>, ChannelError>;

    /// Hands lines of one order to a carrier with a tracking number. Never fails as a
    /// whole; an `Unknown` outcome is learnt from the lines' states on a later read.
    async fn ship(&self, shipment: &Shipment) -> ShipOutcome;

    /// Requests made so far, per endpoint label.
    fn requests(&self) -> BTreeMap<String, u64>;
}

/// What a trait method answers on a channel whose capabilities leave it out: the
/// engine never asks for it.
fn unsupported(what: &str) -> ChannelError {
    ChannelError::Unexpected {
        endpoint: "-",
        reason: format!("this channel has no {what}"),
    }
}

/// A kind of channel, as the config and `init` know it: adding one is one module that
/// implements [`Channel`] and exports its `Kind`, plus a line in [`KINDS`].
pub struct Kind {
    /// The `kind = "..."` value.
    pub name: &'static str,
    /// What it connects to, for errors and `--help`.
    pub describes: &'static str,
    /// Reads and validates the kind's own keys of a `[[channel]]` table (the common
    /// keys are taken out first).
    pub parse: ParseKeys,
    /// A commented `[[channel]]` block for `skubridge init`.
    pub starter: &'static str,
}

/// A kind's parser: its keys in, its settings (or the error naming the key) out.
pub type ParseKeys = fn(keys: toml::Table, key: KeyPath<'_>) -> Result<Settings, String>;

/// Gives a key's path for errors, like `channel[0].endpoint`.
pub type KeyPath<'a> = &'a dyn Fn(&str) -> String;

/// A kind's validated keys: what it needs to connect.
pub type Settings = std::sync::Arc<dyn Connect>;

/// Makes the client of a configured channel.
pub trait Connect: std::fmt::Debug + Send + Sync {
    /// `concurrency`: requests in flight at most (config `channel.concurrency`).
    fn connect(&self, concurrency: usize, http: reqwest::Client) -> Box<dyn Channel>;
}

/// The kinds this build supports.
pub const KINDS: &[&Kind] = &[&iconic::KIND, &hardtofind::KIND, &mirakl::KIND];
