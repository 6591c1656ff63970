//! The channel-neutral model: what every marketplace's listings, stock writes, orders
//! and shipments become before the engine sees them. Each kind's module maps its own
//! wire shapes and words onto these types; no kind's vocabulary appears here.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::money::Money;

/// One sellable listing on a channel (typically one size or colour of a style).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// The channel's own id for the listing; stock writes are keyed by it.
    pub product_id: String,
    /// The seller SKU exactly as the channel holds it (never trimmed or normalised).
    pub sku: String,
    pub status: ListingStatus,
    /// The parent style, when the channel has one.
    pub parent_id: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Why the channel keeps a listing that is not active off sale, in its own words,
    /// when it says (Mirakl's inactivity reasons).
    pub inactive_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    Active,
    Inactive,
    Deleted,
    /// A status this version of skubridge does not know; treated as not active.
    Other(String),
}

impl ListingStatus {
    pub fn parse(s: &str) -> Self {
        match s {
            "active" => Self::Active,
            "inactive" => Self::Inactive,
            "deleted" => Self::Deleted,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Deleted => "deleted",
            Self::Other(s) => s,
        }
    }
}

/// An absolute stock level to set on the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockUpdate {
    pub product_id: String,
    pub sku: String,
    pub quantity: i64,
}

/// What happened to a set of stock updates.
#[derive(Debug, Default)]
pub struct PushOutcome {
    /// Applied by the channel.
    pub accepted: Vec<StockUpdate>,
    /// Answered but refused by the channel, with its reason.
    pub refused: Vec<(StockUpdate, String)>,
    /// Never confirmed (retries exhausted): pushed again on the next pass.
    pub failed: Vec<(StockUpdate, String)>,
}

/// A marketplace order, as the import, the watch and the fulfilment push need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelOrder {
    /// The channel's id for the order (unique, stable): the import key.
    pub id: String,
    /// The number the channel shows people (on packing slips, in its seller centre).
    pub number: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// ISO 4217, when the channel says.
    pub currency: Option<String>,
    pub email: Option<String>,
    pub shipping_address: Address,
    /// The channel's delivery option text (e.g. "Standard").
    pub delivery_info: Option<String>,
    /// What the channel says the customer paid in total, when it says.
    pub grand_total: Option<Money>,
    /// Where the order is in the channel's flow.
    pub stage: OrderStage,
    pub lines: Vec<OrderLine>,
    /// What some channels add beyond lines and shipping; empty on the others.
    pub extras: OrderExtras,
}

/// Order-level details beyond lines and shipping. A channel that has none leaves the
/// default (nothing charged, nothing taken off, nothing to show).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderExtras {
    /// Charges beyond goods and shipping (gift wrapping), each its own Shopify line.
    pub charges: Vec<Charge>,
    /// Taken off the order as a whole, not already in the line prices.
    pub discount: Money,
    /// For the person packing it (a gift message, delivery instructions).
    pub note: Option<String>,
    /// Shown on the Shopify order (a dispatch due date, a packing slip link).
    pub attributes: Vec<Property>,
    /// The customer or the operator opened a dispute on the order and it is not closed
    /// (Mirakl's incident): a person must answer it on the channel.
    pub incident: bool,
}

/// A name and a value shown with an order or a line ("Engraving": "For Sam").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub value: String,
}

impl Property {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// An order-level charge with its own title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub title: String,
    pub amount: Money,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    /// Street lines, first to last.
    pub lines: Vec<String>,
    pub city: String,
    /// State or province as the channel writes it ("NSW").
    pub region: String,
    pub post_code: String,
    /// As the channel writes it: an ISO code ("AU") or a name ("Australia").
    pub country: String,
}

/// One line of an order. A channel whose items are one unit each gives lines of
/// quantity 1 whose ids are the item ids, so its shipments can name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// The channel's id for the line (unique within the order).
    pub id: String,
    /// The seller SKU exactly as the channel holds it.
    pub sku: String,
    pub quantity: i64,
    /// What the customer paid for one unit, after discounts.
    pub unit_price: Money,
    /// The shipping fee this line carries (often only the first line of an order).
    pub shipping_fee: Money,
    pub state: LineState,
    /// The customer's choices on the line (options, engraving text), shown on the
    /// Shopify line and its packing slip.
    pub properties: Vec<Property>,
}

/// A line's state, in neutral words.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineState {
    /// Waits for the seller to ship it.
    Open,
    /// The seller handed it over with a tracking number; not collected yet.
    ReadyToShip,
    Shipped,
    Delivered,
    /// Not sold after all (cancelled, refused).
    Cancelled,
    /// The channel gave up on delivering it.
    Failed,
    /// A state this version does not know (returns and the like), verbatim.
    Other(String),
}

impl LineState {
    /// As stored in the database.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Open => "open",
            Self::ReadyToShip => "ready_to_ship",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::Other(s) => s,
        }
    }

    /// Reads what [`LineState::as_str`] stored.
    pub fn parse(s: &str) -> Self {
        match s {
            "open" => Self::Open,
            "ready_to_ship" => Self::ReadyToShip,
            "shipped" => Self::Shipped,
            "delivered" => Self::Delivered,
            "cancelled" => Self::Cancelled,
            "failed" => Self::Failed,
            other => Self::Other(other.to_string()),
        }
    }

    /// Still sold: what the Shopify order is made of.
    pub fn is_live(&self) -> bool {
        *self != Self::Cancelled
    }

    /// Still the seller's to deal with: an order with such a line is watched.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open | Self::ReadyToShip)
    }
}

/// Where an order is in the channel's flow, as the engine needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStage {
    /// The channel waits for the seller to accept or refuse its lines.
    AwaitingAcceptance,
    /// Accepted, not paid yet: never imported in this stage.
    AwaitingPayment,
    /// Paid, and nothing handled by the seller yet: what the import takes.
    Ready,
    /// The seller has handled part of it.
    InProgress,
    /// Every live line is done with (shipped, delivered, returned...).
    Closed,
    /// Every line was cancelled.
    Cancelled,
}

impl OrderStage {
    /// The stage of a channel whose orders have no state of their own, only their
    /// lines': an order with no lines at all is taken as ready (to be shown and held).
    pub fn of_lines(lines: &[OrderLine]) -> Self {
        let mut live = lines.iter().filter(|l| l.state.is_live()).peekable();
        if lines.is_empty() {
            Self::Ready
        } else if live.peek().is_none() {
            Self::Cancelled
        } else if lines
            .iter()
            .filter(|l| l.state.is_live())
            .all(|l| l.state == LineState::Open)
        {
            Self::Ready
        } else if live.any(|l| l.state.is_open()) {
            Self::InProgress
        } else {
            Self::Closed
        }
    }
}

/// An order the channel answered with that could not be read (a price that is not an
/// amount, a field missing): it is held on its own, and the other orders go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableOrder {
    /// `None` when not even the id could be read.
    pub id: Option<String>,
    pub number: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// The field and what is wrong with it; never the customer's data.
    pub reason: String,
}

/// Orders as read from a channel.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OrdersRead {
    /// By order id ascending.
    pub orders: Vec<ChannelOrder>,
    pub unreadable: Vec<UnreadableOrder>,
}

impl OrdersRead {
    pub fn extend(&mut self, more: OrdersRead) {
        self.orders.extend(more.orders);
        self.unreadable.extend(more.unreadable);
    }
}

/// A carrier the channel accepts on shipments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Carrier {
    /// What the channel expects back in a shipment.
    pub code: String,
    /// The name people know it by, matched against Shopify's tracking company.
    pub label: String,
}

/// Lines of one channel order handed to a carrier with one tracking number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub order_id: String,
    /// When it was handed over (the Shopify fulfilment's time).
    pub shipped_at: DateTime<Utc>,
    /// The lines shipped, whole (a channel that ships whole orders gets every line).
    pub line_ids: Vec<String>,
    /// The carrier's code on the channel (or, for a channel taking carriers it does not
    /// list by name, the name).
    pub carrier: String,
    pub tracking_number: String,
    /// Where the parcel can be followed, when Shopify has the link.
    pub tracking_url: Option<String>,
}

/// What the channel did with a shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShipOutcome {
    /// The channel confirmed these lines.
    Shipped { confirmed: Vec<String> },
    /// The channel answered and refused; its reason verbatim.
    Refused { reason: String },
    /// No usable answer after every retry: the channel may or may not have applied it.
    Unknown { reason: String },
}

/// Orders for unit tests elsewhere in the crate.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// Order `id` (number `N<id>`), created 2026-11-27 01:00 UTC, AUD 20.00, whose
    /// `lines` (line id, SKU) are open units at 10.00.
    pub(crate) fn order(id: &str, lines: &[(&str, &str)]) -> ChannelOrder {
        let t = crate::clock::parse("2026-11-27T01:00:00Z").unwrap();
        let lines: Vec<OrderLine> = lines
            .iter()
            .map(|(line, sku)| OrderLine {
                id: line.to_string(),
                sku: sku.to_string(),
                quantity: 1,
                state: LineState::Open,
                unit_price: "10".parse().unwrap(),
                shipping_fee: Money::ZERO,
                properties: Vec::new(),
            })
            .collect();
        ChannelOrder {
            id: id.into(),
            number: format!("N{id}"),
            created_at: t,
            updated_at: t,
            currency: Some("AUD".into()),
            email: None,
            shipping_address: Address::default(),
            delivery_info: None,
            grand_total: Some("20.00".parse().unwrap()),
            stage: OrderStage::of_lines(&lines),
            lines,
            extras: OrderExtras::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, state: LineState) -> OrderLine {
        OrderLine {
            id: id.into(),
            sku: "S".into(),
            quantity: 1,
            unit_price: Money::ZERO,
            shipping_fee: Money::ZERO,
            state,
            properties: Vec::new(),
        }
    }

    #[test]
    fn the_stage_of_an_order_follows_its_live_lines() {
        use LineState::*;
        let stage = |states: &[LineState]| {
            let lines: Vec<OrderLine> = states.iter().map(|s| line("1", s.clone())).collect();
            OrderStage::of_lines(&lines)
        };
        assert_eq!(stage(&[]), OrderStage::Ready);
        assert_eq!(stage(&[Open, Cancelled]), OrderStage::Ready);
        assert_eq!(stage(&[Cancelled, Cancelled]), OrderStage::Cancelled);
        assert_eq!(stage(&[Open, ReadyToShip]), OrderStage::InProgress);
        assert_eq!(stage(&[Shipped, ReadyToShip]), OrderStage::InProgress);
        assert_eq!(stage(&[Shipped, Delivered, Cancelled]), OrderStage::Closed);
        assert_eq!(stage(&[Other("returned".into())]), OrderStage::Closed);
    }

    #[test]
    fn line_states_round_trip_through_their_stored_words() {
        use LineState::*;
        for s in [
            Open,
            ReadyToShip,
            Shipped,
            Delivered,
            Cancelled,
            Failed,
            Other("returned".into()),
        ] {
            assert_eq!(LineState::parse(s.as_str()), s);
        }
    }
}
