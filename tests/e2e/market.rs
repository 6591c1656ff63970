//! "market": a channel kind that exists only in these tests, built on skubridge's public
//! channel interface alone (`Channel`, `Kind`, the neutral model). It has what The
//! Iconic lacks and the next marketplaces have: order lines with a quantity, an
//! acceptance step before an order is paid, stock as an asynchronous import settled on
//! a later call, no listing endpoint (or, with `listings = "full"`, one that can only
//! list everything), whole-order shipping and config-only carriers.
//! If the engine needed a change for it, the interface would be wrong.
//!
//! The kind is the module; its "sandbox" is [`Market`], an in-memory marketplace a
//! test registers under a name and points the config at (`market = "<name>"`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use skubridge::channel::{
    send_listings, Address, Capabilities, Carrier, CarrierList, Channel, ChannelError,
    ChannelOrder, Connect, ImportState, KeyPath, Kind, LineState, Listing, ListingStatus,
    ListingsOut, ListingsRead, OrderLine, OrderStage, OrdersRead, Settings, ShipOutcome, Shipment,
    Shipping, StockUpdate, StockWrite,
};

pub const KIND: Kind = Kind {
    name: "market",
    describes: "the test suite's in-memory marketplace",
    parse,
    starter: "",
};

/// Where an order is in the market's flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    WaitingAcceptance,
    /// Accepted; the customer's payment is not taken yet.
    WaitingDebit,
    /// Paid: the seller ships it.
    Shipping,
    Shipped,
    /// The seller refused every line.
    Refused,
}

#[derive(Debug, Clone)]
pub struct MarketOrder {
    pub id: String,
    pub state: OrderState,
    /// (line id, SKU, quantity, unit price).
    pub lines: Vec<(String, String, i64, String)>,
    /// Carrier and tracking number once shipped.
    pub shipped: Option<(String, String)>,
    /// Line ids the seller refused at acceptance.
    pub refused: Vec<String>,
}

/// One stock import: its lines, and how many more status calls see it pending.
#[derive(Debug, Clone)]
pub struct Import {
    pub lines: Vec<(String, i64)>,
    polls_left: u32,
}

#[derive(Debug, Default)]
struct State {
    /// SKUs the market sells, and their stock.
    offers: BTreeMap<String, i64>,
    imports: Vec<Import>,
    orders: Vec<MarketOrder>,
    calls: BTreeMap<String, u64>,
    /// Why the next import to be processed fails as a whole, if it does.
    failing: Option<String>,
}

/// The in-memory marketplace.
#[derive(Debug, Default)]
pub struct Market {
    state: Mutex<State>,
}

fn registry() -> &'static Mutex<HashMap<String, Arc<Market>>> {
    static MARKETS: OnceLock<Mutex<HashMap<String, Arc<Market>>>> = OnceLock::new();
    MARKETS.get_or_init(Default::default)
}

/// When every order was placed: inside any test's import window.
const PLACED: &str = "2026-11-30T00:00:00Z";

impl Market {
    /// A market selling these SKUs (at stock 0), registered as `name`.
    pub fn register(name: &str, offers: &[&str]) -> Arc<Market> {
        let market = Arc::new(Market::default());
        market.state().offers = offers.iter().map(|s| (s.to_string(), 0)).collect();
        registry()
            .lock()
            .unwrap()
            .insert(name.to_string(), market.clone());
        market
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// The next import processed fails as a whole with this reason.
    pub fn fail_next_import(&self, reason: &str) {
        self.state().failing = Some(reason.to_string());
    }

    /// The market starts selling `sku`.
    pub fn offer(&self, sku: &str) {
        self.state().offers.insert(sku.to_string(), 0);
    }

    pub fn stock(&self) -> BTreeMap<String, i64> {
        self.state().offers.clone()
    }

    pub fn imports(&self) -> Vec<Import> {
        self.state().imports.clone()
    }

    /// A new order awaiting acceptance: (SKU, quantity) lines at 25.00 a unit.
    pub fn place(&self, id: &str, lines: &[(&str, i64)]) {
        let lines = lines
            .iter()
            .enumerate()
            .map(|(i, (sku, q))| {
                (
                    format!("{id}-{}", i + 1),
                    sku.to_string(),
                    *q,
                    "25.00".into(),
                )
            })
            .collect();
        self.state().orders.push(MarketOrder {
            id: id.into(),
            state: OrderState::WaitingAcceptance,
            lines,
            shipped: None,
            refused: Vec::new(),
        });
    }

    /// The seller accepts an order on the market's own site.
    pub fn accept_by_hand(&self, id: &str) {
        let mut s = self.state();
        let o = s.orders.iter_mut().find(|o| o.id == id).unwrap();
        assert_eq!(o.state, OrderState::WaitingAcceptance);
        o.state = OrderState::WaitingDebit;
    }

    /// The customer's payment is taken: an accepted order is ready to ship.
    pub fn debit(&self, id: &str) {
        let mut s = self.state();
        let o = s.orders.iter_mut().find(|o| o.id == id).unwrap();
        assert_eq!(
            o.state,
            OrderState::WaitingDebit,
            "only accepted orders are paid"
        );
        o.state = OrderState::Shipping;
    }

    pub fn order(&self, id: &str) -> MarketOrder {
        let s = self.state();
        s.orders.iter().find(|o| o.id == id).unwrap().clone()
    }

    /// Calls per method so far.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.state().calls.clone()
    }

    fn call(&self, method: &str) -> std::sync::MutexGuard<'_, State> {
        let mut s = self.state();
        *s.calls.entry(method.to_string()).or_default() += 1;
        s
    }
}

/// The kind's own keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    /// The registered market's name.
    market: String,
    /// At most one stock import per this many seconds.
    import_interval_seconds: u64,
    /// Status calls that still see a new import pending.
    #[serde(default)]
    import_polls: u32,
    /// "none" (no listing endpoint) or "full" (it lists everything, never what changed).
    listings: String,
}

#[derive(Debug)]
struct Keys {
    name: String,
    market: Arc<Market>,
    interval: Duration,
    polls: u32,
    listings: ListingsRead,
}

fn parse(keys: toml::Table, key: KeyPath<'_>) -> Result<Settings, String> {
    let raw: Raw = skubridge::config::kind_keys(keys, key)?;
    let market = registry()
        .lock()
        .unwrap()
        .get(&raw.market)
        .cloned()
        .ok_or_else(|| {
            format!(
                "{}: no market {:?} is registered",
                key("market"),
                raw.market
            )
        })?;
    let listings = match raw.listings.as_str() {
        "none" => ListingsRead::None,
        "full" => ListingsRead::Full,
        other => {
            return Err(format!(
                "{}: {other:?} is not \"none\" or \"full\"",
                key("listings")
            ))
        }
    };
    Ok(Arc::new(Keys {
        name: raw.market,
        market,
        interval: Duration::from_secs(raw.import_interval_seconds),
        polls: raw.import_polls,
        listings,
    }))
}

impl Connect for Keys {
    fn connect(&self, _concurrency: usize, _http: reqwest::Client) -> Box<dyn Channel> {
        Box::new(Client {
            name: self.name.clone(),
            market: self.market.clone(),
            interval: self.interval,
            polls: self.polls,
            listings: self.listings,
        })
    }
}

struct Client {
    name: String,
    market: Arc<Market>,
    interval: Duration,
    polls: u32,
    listings: ListingsRead,
}

fn placed() -> DateTime<Utc> {
    PLACED.parse().unwrap()
}

fn neutral(o: &MarketOrder) -> ChannelOrder {
    let line_state = match o.state {
        OrderState::Shipped => LineState::Shipped,
        _ => LineState::Open,
    };
    let lines: Vec<OrderLine> = o
        .lines
        .iter()
        .map(|(id, sku, quantity, price)| OrderLine {
            id: id.clone(),
            sku: sku.clone(),
            quantity: *quantity,
            unit_price: price.parse().unwrap(),
            shipping_fee: skubridge::money::Money::ZERO,
            state: if o.refused.contains(id) {
                LineState::Cancelled
            } else {
                line_state.clone()
            },
            properties: Vec::new(),
        })
        .collect();
    let stage = match o.state {
        OrderState::WaitingAcceptance => OrderStage::AwaitingAcceptance,
        OrderState::WaitingDebit => OrderStage::AwaitingPayment,
        OrderState::Shipping => OrderStage::Ready,
        OrderState::Shipped => OrderStage::Closed,
        OrderState::Refused => OrderStage::Cancelled,
    };
    ChannelOrder {
        id: o.id.clone(),
        number: format!("M-{}", o.id),
        created_at: placed(),
        updated_at: placed(),
        currency: Some("AUD".into()),
        email: Some("buyer@market.test".into()),
        shipping_address: Address {
            first_name: "Sam".into(),
            last_name: "Buyer".into(),
            company: None,
            phone: None,
            lines: vec!["2 Pitt St".into()],
            city: "Sydney".into(),
            region: "NSW".into(),
            post_code: "2000".into(),
            country: "AU".into(),
        },
        delivery_info: None,
        grand_total: None,
        stage,
        lines,
        extras: Default::default(),
    }
}

#[async_trait::async_trait]
impl Channel for Client {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            listings: self.listings,
            stock: StockWrite::Import {
                min_interval: self.interval,
                poll: Duration::from_secs(1),
                wait: Duration::ZERO,
            },
            acceptance: true,
            shipping: Shipping::WholeOrder,
            carriers: CarrierList::ConfigOnly,
        }
    }

    fn fingerprint(&self) -> String {
        format!("market {}", self.name)
    }

    fn default_currency(&self) -> &str {
        "AUD"
    }

    fn tracking_number_problem(&self, number: &str) -> Option<String> {
        (!number.chars().all(|c| c.is_ascii_alphanumeric()))
            .then(|| format!("tracking number {number:?} must be letters and digits only"))
    }

    async fn check_credentials(&self) -> Result<String, ChannelError> {
        drop(self.market.call("account"));
        Ok(format!("market {}", self.name))
    }

    async fn listings(
        &self,
        since: Option<DateTime<Utc>>,
        out: ListingsOut,
        _progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), ChannelError> {
        let listings: Vec<Listing> = {
            let s = self.market.call(if since.is_some() {
                "listings since"
            } else {
                "listings"
            });
            if self.listings == ListingsRead::None {
                return Err(ChannelError::Unexpected {
                    endpoint: "listings",
                    reason: "the market has no listing endpoint, and said so".into(),
                });
            }
            s.offers
                .keys()
                .map(|sku| Listing {
                    product_id: sku.clone(),
                    sku: sku.clone(),
                    status: ListingStatus::Active,
                    parent_id: None,
                    updated_at: None,
                    inactive_reason: None,
                })
                .collect()
        };
        send_listings(&out, listings).await;
        Ok(())
    }

    async fn start_stock_import(&self, updates: &[StockUpdate]) -> Result<String, ChannelError> {
        let mut s = self.market.call("import");
        s.imports.push(Import {
            lines: updates
                .iter()
                .map(|u| (u.product_id.clone(), u.quantity))
                .collect(),
            polls_left: self.polls,
        });
        Ok(format!("imp-{}", s.imports.len()))
    }

    async fn stock_import(&self, id: &str) -> Result<ImportState, ChannelError> {
        let mut s = self.market.call("import status");
        let n: usize = id.trim_start_matches("imp-").parse().unwrap();
        let import = &mut s.imports[n - 1];
        if import.polls_left > 0 {
            import.polls_left -= 1;
            return Ok(ImportState::Pending);
        }
        let lines = import.lines.clone();
        if let Some(reason) = s.failing.take() {
            return Ok(ImportState::Failed { reason });
        }
        let mut refused = Vec::new();
        for (sku, quantity) in lines {
            match s.offers.get_mut(&sku) {
                Some(level) => *level = quantity,
                None => refused.push((sku, "offer not found".to_string())),
            }
        }
        Ok(ImportState::Done { refused })
    }

    async fn accept(&self, order: &ChannelOrder, refused: &[String]) -> Result<(), ChannelError> {
        let mut s = self.market.call("accept");
        let o = s.orders.iter_mut().find(|o| o.id == order.id).unwrap();
        if o.state != OrderState::WaitingAcceptance {
            return Err(ChannelError::Refused {
                endpoint: "accept",
                status: 400,
                reason: format!("order {} is not waiting for acceptance", o.id),
            });
        }
        o.refused = refused.to_vec();
        o.state = if o.lines.iter().all(|l| refused.contains(&l.0)) {
            OrderState::Refused
        } else {
            OrderState::WaitingDebit
        };
        Ok(())
    }

    async fn new_orders(
        &self,
        since: DateTime<Utc>,
        _updated_since: Option<DateTime<Utc>>,
    ) -> Result<OrdersRead, ChannelError> {
        let s = self.market.call("orders");
        let open = [
            OrderState::WaitingAcceptance,
            OrderState::WaitingDebit,
            OrderState::Shipping,
        ];
        let orders = s
            .orders
            .iter()
            .filter(|o| open.contains(&o.state) && placed() >= since)
            .map(neutral)
            .collect();
        Ok(OrdersRead {
            orders,
            unreadable: Vec::new(),
        })
    }

    async fn orders_by_id(&self, ids: &[String]) -> Result<OrdersRead, ChannelError> {
        let s = self.market.call("orders by id");
        let orders = s
            .orders
            .iter()
            .filter(|o| ids.contains(&o.id))
            .map(neutral)
            .collect();
        Ok(OrdersRead {
            orders,
            unreadable: Vec::new(),
        })
    }

    async fn carriers(&self) -> Result<Vec<Carrier>, ChannelError> {
        Err(ChannelError::Unexpected {
            endpoint: "carriers",
            reason: "the market takes any carrier name; it has no list".into(),
        })
    }

    async fn ship(&self, shipment: &Shipment) -> ShipOutcome {
        let mut s = self.market.call("ship");
        let o = s
            .orders
            .iter_mut()
            .find(|o| o.id == shipment.order_id)
            .unwrap();
        let all: BTreeSet<&str> = o
            .lines
            .iter()
            .map(|l| l.0.as_str())
            .filter(|id| !o.refused.iter().any(|r| r == id))
            .collect();
        let sent: BTreeSet<&str> = shipment.line_ids.iter().map(String::as_str).collect();
        if o.state != OrderState::Shipping || all != sent {
            return ShipOutcome::Refused {
                reason: format!("order {} cannot be shipped like this", o.id),
            };
        }
        o.state = OrderState::Shipped;
        o.shipped = Some((shipment.carrier.clone(), shipment.tracking_number.clone()));
        ShipOutcome::Shipped {
            confirmed: shipment.line_ids.clone(),
        }
    }

    fn requests(&self) -> BTreeMap<String, u64> {
        self.market.calls()
    }
}
