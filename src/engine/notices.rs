//! What a pass tells a person, pure: problems turned into email digests (one per kind,
//! each problem a keyed item so it is mailed once per repeat window; see `notify`).

use super::unmatched::{shown, ListingProblem};
use crate::channel::StockUpdate;
use crate::notify::{Digest, Item, COUNT};

/// Active listings on `channel` that do not sync.
pub fn unmatched(channel: &str, problems: &[ListingProblem]) -> (Digest, Vec<Item>) {
    let items = problems
        .iter()
        .map(|p| Item {
            // Keyed by reason too: a listing that stops syncing for a new reason is news.
            key: format!("{channel}:{}:{}", p.product_id, p.reason.code()),
            line: format!(
                "SKU \"{}\" (product {}): {}{}",
                shown(&p.sku),
                p.product_id,
                p.reason_text(),
                p.hint()
                    .map(|h| format!(". Near miss: {h}"))
                    .unwrap_or_default()
            ),
        })
        .collect();
    let digest = Digest {
        kind: "unmatched",
        subject: format!("{COUNT} listings on {channel} are not syncing stock"),
        intro: format!(
            "These listings on {channel} do not sync with Shopify, so skubridge does not update their stock there:"
        ),
        action: "Make each SKU identical on both sides (skubridge matches exact SKUs and never guesses; \
                 a near miss names the difference), give each SKU to one Shopify variant only, track \
                 inventory on the variant, or publish the product. A listing the channel keeps off \
                 sale needs the reason it gives fixed on the channel (its price, its dates, the shop's \
                 state). Changes are picked up by the next product sync; `skubridge unmatched` shows \
                 the current list."
            .to_string(),
    };
    (digest, items)
}

/// Stock updates the channel refused, with its reasons verbatim.
pub fn refused(channel: &str, refused: &[(StockUpdate, String)]) -> (Digest, Vec<Item>) {
    let items = refused
        .iter()
        .map(|(u, reason)| Item {
            key: format!("{channel}:{}:{reason}", u.product_id),
            line: format!(
                "SKU \"{}\" (product {}): quantity {} refused: {reason}",
                shown(&u.sku),
                u.product_id,
                u.quantity
            ),
        })
        .collect();
    let digest = Digest {
        kind: "stock_refused",
        subject: format!("{channel} refused stock for {COUNT} SKUs"),
        intro: format!(
            "{channel} refused these stock updates, so its quantities may be wrong for them:"
        ),
        action: format!(
            "Check each listing in {channel}'s seller centre (consignment stock, deleted or blocked \
             listings cannot take stock updates). skubridge offers a quantity again when it changes, \
             and every listing at the next reconcile."
        ),
    };
    (digest, items)
}

/// A step of the pass that failed, with how many passes in a row it has failed.
pub struct Failure<'a> {
    pub step: &'a str,
    pub channel: &'a str,
    pub error: &'a str,
    pub consecutive: i64,
}

/// Steps failing pass after pass. A single failure is usually a blip the next pass
/// repairs; two in a row deserve a person's attention.
pub fn failures(failures: &[Failure<'_>]) -> (Digest, Vec<Item>) {
    let items = failures
        .iter()
        .filter(|f| f.consecutive >= 2)
        .map(|f| {
            let place = if f.channel.is_empty() {
                f.step.to_string()
            } else {
                format!("{} {}", f.channel, f.step)
            };
            Item {
                key: format!("{}:{}", f.step, f.channel),
                line: format!(
                    "{place}: failed {} passes in a row; last error: {}",
                    f.consecutive, f.error
                ),
            }
        })
        .collect();
    let digest = Digest {
        kind: "step_failed",
        subject: format!("{COUNT} sync steps keep failing"),
        intro: "skubridge keeps failing at these steps, so stock on the channels may be out of date:"
            .to_string(),
        action: "Read the error: credentials and configuration errors need a fix in skubridge.toml; \
                 outages of Shopify or the channel clear by themselves and the next pass catches up. \
                 `skubridge sync -v` shows each request."
            .to_string(),
    };
    (digest, items)
}

/// Channel orders that could not be created in Shopify, each problem mailed once.
pub fn orders_held(channel: &str, held: &[HeldOrder]) -> (Digest, Vec<Item>) {
    let items = held
        .iter()
        .map(|h| Item {
            key: format!("{channel}:{}:{}", h.order_id, h.key),
            line: format!("Order {}: {}", h.number, h.reason),
        })
        .collect();
    let digest = Digest {
        kind: "order_held",
        subject: format!("{COUNT} {channel} orders are not in Shopify yet"),
        intro: format!(
            "skubridge could not create these {channel} orders in Shopify, so they are held:"
        ),
        action: "Held orders are tried again on every pass and created as soon as the cause is \
                 gone: match the SKU (`skubridge unmatched` says why it does not match), or add \
                 the missing stock in Shopify. An order the channel sent with a value skubridge \
                 cannot read, or with an impossible amount, waits until the channel corrects \
                 it. An order the seller began handling on the channel before import is \
                 never imported: process it by hand. `skubridge orders --state held` lists them."
            .to_string(),
    };
    (digest, items)
}

/// One order held back, and the problem (keyed so each is mailed once).
pub struct HeldOrder {
    pub order_id: String,
    pub number: String,
    pub key: String,
    pub reason: String,
}

/// Orders found already in Shopify when skubridge was about to create them.
pub fn orders_adopted(channel: &str, adopted: &[(String, String, String)]) -> (Digest, Vec<Item>) {
    let items = adopted
        .iter()
        .map(|(order_id, number, shopify_name)| Item {
            key: format!("{channel}:{order_id}"),
            line: format!("Order {number} is already Shopify order {shopify_name}"),
        })
        .collect();
    let digest = Digest {
        kind: "order_adopted",
        subject: format!("{COUNT} {channel} orders were already in Shopify"),
        intro: format!(
            "These {channel} orders were about to be imported, but Shopify already has them \
             (same source identifier). skubridge did not create them again:"
        ),
        action: "If another skubridge install (or a copy of this database) imports orders from \
                 this channel into this store, stop one of them: two installs double the API \
                 calls and race each other. Restoring an old database also causes this, and is \
                 harmless."
            .to_string(),
    };
    (digest, items)
}

/// Imported orders on which the customer or the operator opened an incident (`disputed`:
/// order id, number people see, Shopify name), each mailed once.
pub fn incidents(channel: &str, disputed: &[(String, String, String)]) -> (Digest, Vec<Item>) {
    let items = disputed
        .iter()
        .map(|(order_id, number, shopify_name)| Item {
            key: format!("{channel}:{order_id}"),
            line: format!("Order {number} (Shopify order {shopify_name})"),
        })
        .collect();
    let digest = Digest {
        kind: "order_incident",
        subject: format!("{COUNT} {channel} orders have an incident open"),
        intro: format!(
            "An incident was opened on these {channel} orders after skubridge imported them \
             (the customer or {channel} reports a problem with the delivery or the items):"
        ),
        action: format!(
            "Answer each incident in {channel}'s seller centre: {channel} may refund the \
             customer at your expense if it stays open. skubridge does not change the Shopify \
             order; refund or re-ship it there as agreed."
        ),
    };
    (digest, items)
}

pub fn recovered_subject(channel: &str) -> String {
    format!("skubridge recovered {channel} orders after a database loss")
}

pub fn recovered_body(
    channel: &str,
    first_name: &str,
    first_at: chrono::DateTime<chrono::Utc>,
    since: chrono::DateTime<chrono::Utc>,
) -> String {
    let day = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    format!(
        "skubridge's database is new, but Shopify holds orders it imported from {channel} \
         before (the first is {first_name}, created {}).\n\n\
         So nothing is lost, it reads every {channel} order created since {} that is still \
         waiting for you: those already in Shopify are adopted, not created again; the \
         others are imported; and fulfilments made in Shopify that {channel} has not been \
         told about are pushed.\n\n\
         Orders created before then are not imported. To import older ones too, set \
         import_orders_since for this channel in skubridge.toml.",
        day(first_at),
        day(since)
    )
}

/// The exact subject merchants and their staff already filter on (design §8).
pub fn items_changed_subject(number: &str) -> String {
    format!("Order Items has changed for Order number: {number}. Please process manually")
}

pub fn items_changed_body(
    channel: &str,
    number: &str,
    shopify_name: &str,
    imported: i64,
    now: i64,
) -> String {
    format!(
        "{channel} order {number} changed after it was imported into Shopify as {shopify_name}: \
         it had {imported} items, {channel} now shows {now}.\n\n\
         skubridge will not touch this order again (no fulfilment push). Compare the two \
         orders, edit {shopify_name} in Shopify to match, and ship it from {channel}'s seller \
         centre by hand."
    )
}

pub fn cancelled_subject(channel: &str, number: &str, shopify_name: &str) -> String {
    format!("{channel} order {number} was cancelled: cancel Shopify order {shopify_name}")
}

pub fn cancelled_body(channel: &str, number: &str, shopify_name: &str) -> String {
    format!(
        "{channel} cancelled order {number} after skubridge imported it into Shopify as \
         {shopify_name}.\n\nskubridge leaves Shopify orders to you: cancel {shopify_name} in \
         Shopify (restocking its items) so it is not shipped."
    )
}

pub fn edited_subject(channel: &str, number: &str, shopify_name: &str) -> String {
    format!("Shopify order {shopify_name} ({channel} order {number}) was edited after import")
}

pub fn edited_body(channel: &str, number: &str, shopify_name: &str) -> String {
    format!(
        "The lines of Shopify order {shopify_name} were edited after skubridge imported \
         {channel} order {number}.\n\nThe channel still expects every item of the original \
         order: ship what {channel} shows, or cancel the missing items in {channel}'s seller \
         centre so the customer is refunded."
    )
}

/// The body of the "Product reset complete" email: per channel, what now syncs.
pub fn reset_complete(results: &[(String, super::Counts)]) -> String {
    let mut body = String::from(
        "The product reset finished: every SKU was matched again from a full read of Shopify and of each channel.\n\n",
    );
    for (channel, c) in results {
        use super::Count::*;
        body.push_str(&format!(
            "{channel}: {} of {} listings matched; {} without a Shopify variant, {} duplicate, {} untracked, {} inactive; {} Shopify variants have no SKU.\n",
            c.get(Matched),
            c.get(Listings),
            c.get(Unmatched),
            c.get(Duplicate),
            c.get(Untracked),
            c.get(Inactive),
            c.get(NoSku),
        ));
    }
    body.push_str(
        "\nThe next `skubridge sync` pushes every matched SKU's stock again. `skubridge unmatched` lists what does not sync, why, and near misses.",
    );
    body
}

pub fn lines_refused_subject(channel: &str, number: &str, n: usize) -> String {
    format!(
        "{channel} order {number}: {n} line{} refused",
        if n == 1 { "" } else { "s" }
    )
}

/// `[channel.orders] refuse_unfulfillable`: what was refused and why, and what becomes
/// of the order (`every`: no line was left to accept).
pub fn lines_refused_body(channel: &str, number: &str, why: &[&str], every: bool) -> String {
    let lines: Vec<String> = why.iter().map(|w| format!("- {w}")).collect();
    let next = if every {
        format!("No line could be sold, so {channel} refuses the order: nothing is imported.")
    } else {
        format!(
            "The other lines were accepted; the order is imported into Shopify once {channel} \
             says it is paid."
        )
    };
    format!(
        "skubridge refused these lines of {channel} order {number}, which could not be sold \
         ([channel.orders] refuse_unfulfillable):\n\n{}\n\n{next} Nothing more is needed, \
         unless the SKUs should sell: give them a Shopify variant, or restock.",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::unmatched::{Difference, NearMiss, Reason};

    #[test]
    fn unmatched_items_show_escaped_skus_and_hints() {
        let p = ListingProblem {
            channel: "iconic".into(),
            product_id: "501".into(),
            sku: "AB_1\u{200B}".into(),
            reason: Reason::NoVariant,
            channel_says: None,
            near_misses: vec![NearMiss {
                shopify_sku: "AB-1".into(),
                differences: vec![Difference::Separator('_', '-')],
            }],
        };
        let (digest, items) = unmatched("iconic", &[p]);
        assert_eq!(digest.kind, "unmatched");
        assert_eq!(items[0].key, "iconic:501:no_variant");
        assert!(items[0].line.contains("AB_1\\u{200B}"), "{}", items[0].line);
        assert!(!items[0].line.contains('\u{200B}'));
        assert!(
            items[0].line.contains("underscore vs dash"),
            "{}",
            items[0].line
        );
    }

    #[test]
    fn only_repeated_failures_are_mailed() {
        let f = |consecutive| Failure {
            step: "stock",
            channel: "iconic",
            error: "boom",
            consecutive,
        };
        assert!(failures(&[f(1)]).1.is_empty());
        let (_, items) = failures(&[f(2)]);
        assert_eq!(items[0].key, "stock:iconic");
        assert!(items[0].line.contains("2 passes in a row"));
    }

    #[test]
    fn order_emails_name_the_order_and_the_fix() {
        assert_eq!(
            items_changed_subject("300501"),
            "Order Items has changed for Order number: 300501. Please process manually"
        );
        let held = HeldOrder {
            order_id: "501".into(),
            number: "300501".into(),
            key: "unmatched:X".into(),
            reason: "SKU \"X\" is not matched".into(),
        };
        let (digest, items) = orders_held("iconic", &[held]);
        assert_eq!(digest.kind, "order_held");
        assert_eq!(items[0].key, "iconic:501:unmatched:X");
        assert_eq!(items[0].line, "Order 300501: SKU \"X\" is not matched");
        assert!(cancelled_body("iconic", "300501", "#1001").contains("cancel #1001"));
    }

    #[test]
    fn refused_keeps_the_channel_reason() {
        let u = StockUpdate {
            product_id: "7".into(),
            sku: "S".into(),
            quantity: 3,
        };
        let (_, items) = refused("iconic", &[(u, "Product is consignment".into())]);
        assert!(items[0].line.ends_with("refused: Product is consignment"));
    }
}
