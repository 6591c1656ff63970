//! `POST /batch`: absolute stock levels by SKU. Hard To Find answers for a batch as a
//! whole and silently ignores SKUs it does not hold (or holds twice), so an answered
//! batch counts as applied; what the channel sells is the merchant's to check.

use futures::{stream, StreamExt};
use serde::de::IgnoredAny;
use serde::Serialize;

use crate::channel::transport::{json, Transport};
use crate::channel::{ChannelError, PushOutcome, StockUpdate};

const BATCH: &str = "POST /batch";

/// UNCONFIRMED: the API Reference states no limit on a batch. Large enough that a
/// steady pass of a big catalogue takes a few requests, small enough to keep one
/// request's body near 25 kB.
pub(super) const BATCH_SIZE: usize = 500;

#[derive(Serialize)]
struct Batch<'a> {
    action: &'static str,
    entity_type: &'static str,
    entities: Vec<Entity<'a>>,
}

#[derive(Serialize)]
struct Entity<'a> {
    sku: &'a str,
    inventory: i64,
}

pub(super) async fn push(transport: &Transport, updates: Vec<StockUpdate>) -> PushOutcome {
    let url = transport.url("/batch");
    let batches: Vec<Vec<StockUpdate>> = updates.chunks(BATCH_SIZE).map(<[_]>::to_vec).collect();
    let answers: Vec<(Vec<StockUpdate>, Result<IgnoredAny, ChannelError>)> = stream::iter(batches)
        .map(|batch| {
            let url = &url;
            async move {
                let body = Batch {
                    action: "update",
                    entity_type: "variant",
                    entities: batch
                        .iter()
                        .map(|u| Entity {
                            sku: &u.sku,
                            inventory: u.quantity,
                        })
                        .collect(),
                };
                // Absolute levels: sending a batch twice sets the same levels.
                let answer = transport
                    .call(BATCH, |http| http.post(url).json(&body), json::<IgnoredAny>)
                    .await;
                (batch, answer)
            }
        })
        .buffer_unordered(transport.concurrency())
        .collect()
        .await;
    let mut outcome = PushOutcome::default();
    for (batch, answer) in answers {
        match answer {
            Ok(_) => outcome.accepted.extend(batch),
            // A batch refused as a whole: each of its levels carries the reason.
            Err(ChannelError::Refused { reason, .. }) => outcome
                .refused
                .extend(batch.into_iter().map(|u| (u, reason.clone()))),
            Err(other) => {
                let reason = other.to_string();
                outcome
                    .failed
                    .extend(batch.into_iter().map(|u| (u, reason.clone())));
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::super::transport::{login_reply, test_transport};
    use super::*;
    use crate::test_server::{Reply, Script, TestServer};

    fn updates(n: usize) -> Vec<StockUpdate> {
        (0..n)
            .map(|i| StockUpdate {
                product_id: format!("S{i}"),
                sku: format!("S{i}"),
                quantity: i as i64,
            })
            .collect()
    }

    #[tokio::test]
    async fn levels_go_in_batches_by_sku_and_refusals_keep_the_reason() {
        let script = Script::new(vec![
            Reply::new(200, r#"{"success":true}"#),
            Reply::new(
                400,
                r#"{"message":"entities[3].inventory must be an integer"}"#,
            ),
        ]);
        let server = TestServer::start(move |seen| {
            if seen.path() == "/authenticate" {
                return login_reply("jwt");
            }
            script.pop().unwrap_or_else(|| Reply::new(200, "{}"))
        })
        .await;
        let t = test_transport(&server.url);
        let outcome = push(&t, updates(BATCH_SIZE + 1)).await;
        assert_eq!(
            outcome.accepted.len() + outcome.refused.len(),
            BATCH_SIZE + 1
        );
        assert!(outcome.failed.is_empty());
        assert!(outcome
            .refused
            .iter()
            .all(|(_, r)| r == "entities[3].inventory must be an integer"));
        let bodies: Vec<serde_json::Value> = server
            .seen()
            .iter()
            .filter(|s| s.path() == "/batch")
            .map(|s| serde_json::from_str(&s.body).unwrap())
            .collect();
        assert_eq!(bodies.len(), 2);
        let sizes: Vec<usize> = bodies
            .iter()
            .map(|b| b["entities"].as_array().unwrap().len())
            .collect();
        assert!(
            sizes.contains(&BATCH_SIZE) && sizes.contains(&1),
            "{sizes:?}"
        );
        let first = bodies
            .iter()
            .find(|b| b["entities"].as_array().unwrap().len() == 1)
            .unwrap();
        assert_eq!(
            *first,
            serde_json::json!({"action": "update", "entity_type": "variant",
                               "entities": [{"sku": format!("S{BATCH_SIZE}"), "inventory": BATCH_SIZE}]})
        );
    }
}
