//! Listings: product sets paged, then each set's products, fetched concurrently while
//! the next page of sets is read.

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::{stream, StreamExt, TryStreamExt};
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::transport::{json, Transport};
use super::WireId;
use crate::channel::{forward_listings, ChannelError, Listing, ListingStatus, ListingsOut};

const SETS: &str = "GET /v2/product-sets";
const SET_PRODUCTS: &str = "GET /v2/product-set/{id}/products";

/// UNCONFIRMED: the maximum `limit` per list call is not documented; PIA defaults to 100.
pub(super) const MAX_PAGE: u64 = 100;

/// UNCONFIRMED: what the product-set list returns without a `status` filter is not
/// documented; `all` is one of the listed filter values and asks for every set, so
/// inactive listings can be reported too.
const SET_STATUS_FILTER: &str = "all";

/// UNCONFIRMED: the wire format of `updateDateStart` (PIA sends an ISO 8601 datetime).
pub(super) fn update_date_param(since: DateTime<Utc>) -> String {
    since.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// UNCONFIRMED: product timestamps are assumed RFC 3339; anything else is left out
/// (`updated_at` is informational, never used for matching).
pub(super) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[derive(Deserialize)]
struct ProductSet {
    id: WireId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Product {
    id: WireId,
    #[serde(default)]
    seller_sku: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

impl Product {
    fn into_listing(self, set_id: &str) -> Listing {
        Listing {
            product_id: self.id.to_string(),
            sku: self.seller_sku.unwrap_or_default(),
            status: ListingStatus::parse(self.status.as_deref().unwrap_or_default()),
            parent_id: Some(set_id.to_string()),
            updated_at: self.updated_at.as_deref().and_then(parse_timestamp),
            inactive_reason: None,
        }
    }
}

/// A list answer: the documented envelope, or a bare array (PIA reads a set's
/// products as one).
pub(super) enum ListBody<T> {
    Envelope {
        items: Vec<T>,
        pagination: Option<Pagination>,
    },
    Bare(Vec<T>),
}

#[derive(Deserialize)]
struct Envelope<T> {
    items: Vec<T>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

/// Told apart by the JSON's shape (an object or an array), so an item that does not
/// fit is reported with where it is: an untagged enum only said that no shape matched.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for ListBody<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Shape<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for Shape<T> {
            type Value = ListBody<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of items or an object with `items`")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(ListBody::Bare)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let Envelope { items, pagination } =
                    Envelope::deserialize(MapAccessDeserializer::new(map))?;
                Ok(ListBody::Envelope { items, pagination })
            }
        }

        deserializer.deserialize_any(Shape(PhantomData))
    }
}

/// Both documented shapes: `{limit, offset, totalCount}` and `{limit, offset, hasNext}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Pagination {
    total_count: Option<u64>,
    has_next: Option<bool>,
}

impl<T> ListBody<T> {
    /// The page's items and the offset of the next page (`None` at the end).
    pub(super) fn into_page(self, offset: u64, limit: u64) -> (Vec<T>, Option<u64>) {
        let (items, pagination) = match self {
            Self::Envelope { items, pagination } => (items, pagination),
            // A bare array has no way to say "more": it is the whole list.
            Self::Bare(items) => return (items, None),
        };
        let got = items.len() as u64;
        let next = offset + got;
        let more = match pagination.unwrap_or_default() {
            // An empty page ends the list whatever the counters say: no endless loop.
            _ if got == 0 => false,
            Pagination {
                total_count: Some(total),
                ..
            } => next < total,
            Pagination {
                has_next: Some(has_next),
                ..
            } => has_next,
            // No counters at all: only a full page can have a successor.
            _ => got >= limit,
        };
        (items, more.then_some(next))
    }
}

/// One page of a list endpoint at `offset`, decoded as `B` (a `ListBody`, or a
/// plainer envelope where the untagged decoding would lose exact number text).
pub(super) async fn page<T, B: DeserializeOwned + Into<ListBody<T>>>(
    transport: &Transport,
    endpoint: &'static str,
    path: &str,
    filters: &[(&str, String)],
    offset: u64,
) -> Result<(Vec<T>, Option<u64>), ChannelError> {
    let url = transport.url(path);
    let body: B = transport
        .call(
            endpoint,
            |http| {
                http.get(&url)
                    .query(&[("limit", MAX_PAGE), ("offset", offset)])
                    .query(filters)
            },
            json,
        )
        .await?;
    Ok(body.into().into_page(offset, MAX_PAGE))
}

async fn set_products(transport: &Transport, set_id: String) -> Result<Vec<Listing>, ChannelError> {
    let path = format!("/v2/product-set/{set_id}/products");
    let mut listings = Vec::new();
    let mut offset = Some(0);
    while let Some(at) = offset {
        let (products, next) =
            page::<Product, ListBody<Product>>(transport, SET_PRODUCTS, &path, &[], at).await?;
        listings.extend(products.into_iter().map(|p| p.into_listing(&set_id)));
        offset = next;
    }
    Ok(listings)
}

/// One page of product-set ids.
async fn set_ids(
    transport: &Transport,
    filters: &[(&str, String)],
    offset: u64,
) -> Result<(Vec<String>, Option<u64>), ChannelError> {
    let (sets, next) = page::<ProductSet, ListBody<ProductSet>>(
        transport,
        SETS,
        "/v2/product-sets",
        filters,
        offset,
    )
    .await?;
    Ok((sets.into_iter().map(|s| s.id.to_string()).collect(), next))
}

/// Every product set's listings (those updated since `updated_since`), sent to `out`
/// set by set as they arrive.
pub(super) async fn fetch(
    transport: &Transport,
    updated_since: Option<DateTime<Utc>>,
    out: &ListingsOut,
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<(), ChannelError> {
    let mut filters = vec![("status", SET_STATUS_FILTER.to_string())];
    if let Some(since) = updated_since {
        filters.push(("updateDateStart", update_date_param(since)));
    }
    let filters = filters.as_slice();
    // Boxed: without it rustc cannot prove the `listings()` future `Send` (a known
    // higher-ranked lifetime limitation with borrowing `try_unfold` closures), and the
    // engine may spawn that future.
    let pages = stream::try_unfold(Some(0), move |offset| async move {
        match offset {
            Some(offset) => set_ids(transport, filters, offset).await.map(Some),
            None => Ok(None),
        }
    })
    .boxed();

    // Unordered, so a slow set never holds a finished request's slot (the store keys
    // listings by id: their order does not matter). The transport's slots cap the
    // requests in flight, the set-page reads included.
    let per_set = pages
        .map_ok(|ids| stream::iter(ids.into_iter().map(Ok)))
        .try_flatten()
        .map_ok(|id| set_products(transport, id))
        .try_buffer_unordered(transport.concurrency());
    forward_listings(per_set, out, on_progress).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_of(json: &str, offset: u64, limit: u64) -> (Vec<u64>, Option<u64>) {
        serde_json::from_str::<ListBody<u64>>(json)
            .unwrap()
            .into_page(offset, limit)
    }

    #[test]
    fn total_count_ends_the_list() {
        let body = r#"{"items":[1,2],"pagination":{"limit":2,"offset":0,"totalCount":5}}"#;
        assert_eq!(page_of(body, 0, 2), (vec![1, 2], Some(2)));
        let last = r#"{"items":[5],"pagination":{"limit":2,"offset":4,"totalCount":5}}"#;
        assert_eq!(page_of(last, 4, 2), (vec![5], None));
        let exact = r#"{"items":[3,4],"pagination":{"limit":2,"offset":2,"totalCount":4}}"#;
        assert_eq!(page_of(exact, 2, 2).1, None);
    }

    #[test]
    fn has_next_without_total_count() {
        let more = r#"{"items":[1,2],"pagination":{"limit":2,"offset":0,"hasNext":true}}"#;
        assert_eq!(page_of(more, 0, 2).1, Some(2));
        // A short page with hasNext=true (the server capped `limit`) still continues.
        let capped = r#"{"items":[1],"pagination":{"limit":1,"offset":0,"hasNext":true}}"#;
        assert_eq!(page_of(capped, 0, 100).1, Some(1));
        let end = r#"{"items":[3,4],"pagination":{"limit":2,"offset":2,"hasNext":false}}"#;
        assert_eq!(page_of(end, 2, 2).1, None);
    }

    #[test]
    fn empty_page_always_ends() {
        let lying =
            r#"{"items":[],"pagination":{"limit":2,"offset":4,"totalCount":9,"hasNext":true}}"#;
        assert_eq!(page_of(lying, 4, 2), (vec![], None));
    }

    #[test]
    fn next_offset_follows_items_received_when_the_server_caps_the_limit() {
        let body = r#"{"items":[1,2,3],"pagination":{"limit":3,"offset":0,"totalCount":10}}"#;
        assert_eq!(page_of(body, 0, 100).1, Some(3));
    }

    #[test]
    fn without_counters_only_a_full_page_continues() {
        assert_eq!(page_of(r#"{"items":[1,2]}"#, 0, 2).1, Some(2));
        assert_eq!(page_of(r#"{"items":[1]}"#, 0, 2).1, None);
    }

    #[test]
    fn bare_array_is_the_whole_list() {
        assert_eq!(page_of("[1,2,3]", 0, 3), (vec![1, 2, 3], None));
    }

    /// Found by fuzz_iconic_listings: a page that did not fit said only "data did not
    /// match any variant of untagged enum ListBody", naming neither the item nor where.
    #[test]
    fn a_page_that_does_not_fit_says_where() {
        let error = |json: &str| {
            serde_json::from_str::<ListBody<Product>>(json)
                .err()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            error(r#"{"items":[{"id":1,"sellerSku":7}]}"#),
            "invalid type: integer `7`, expected a string at line 1 column 31"
        );
        assert_eq!(
            error(r#"[{"id":1},{"sellerSku":"A"}]"#),
            "missing field `id` at line 1 column 27"
        );
        assert_eq!(
            error(r#"{"item":[]}"#),
            "missing field `items` at line 1 column 11"
        );
        assert_eq!(
            error("-179"),
            "invalid type: integer `-179`, expected a list of items or an object with `items` at line 1 column 4"
        );
    }

    #[test]
    fn product_becomes_a_listing() {
        let body = r#"{"items":[{"id":9001,"uuid":"u","sellerSku":"ABC_123 ","productSetId":77,
            "status":"active","approvalStatus":"approved","updatedAt":"2026-01-02T03:04:05+10:00"},
            {"id":"9002","sellerSku":null,"status":"retired"}],
            "pagination":{"limit":100,"offset":0,"totalCount":2}}"#;
        let (products, next) = serde_json::from_str::<ListBody<Product>>(body)
            .unwrap()
            .into_page(0, 100);
        assert_eq!(next, None);
        let listings: Vec<Listing> = products.into_iter().map(|p| p.into_listing("77")).collect();
        assert_eq!(listings[0].product_id, "9001");
        assert_eq!(listings[0].sku, "ABC_123 ", "SKUs are kept byte for byte");
        assert_eq!(listings[0].status, ListingStatus::Active);
        assert_eq!(listings[0].parent_id.as_deref(), Some("77"));
        assert_eq!(
            listings[0].updated_at.unwrap().to_rfc3339(),
            "2026-01-01T17:04:05+00:00"
        );
        assert_eq!(listings[1].product_id, "9002");
        assert_eq!(listings[1].sku, "");
        assert_eq!(listings[1].status, ListingStatus::Other("retired".into()));
        assert_eq!(listings[1].updated_at, None);
    }

    #[test]
    fn incremental_filter_is_rfc3339_utc() {
        let since = DateTime::parse_from_rfc3339("2026-03-04T05:06:07.891Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(update_date_param(since), "2026-03-04T05:06:07Z");
    }

    /// Where a list answer's error says the problem is: a position in the body, or a
    /// field by name.
    fn placed(message: &str) -> bool {
        message.contains(" at line ") || message.contains('`')
    }

    /// Pages of product sets and products of any shape: never a panic; a page read
    /// always moves on (no endless paging); SKUs are kept byte for byte; a page that
    /// cannot be read says where.
    #[test]
    #[ignore = "fuzzing: make fuzz"]
    fn fuzz_iconic_listings() {
        use crate::http::fuzz::{self, text_body};
        let products = serde_json::json!({"items": [
            {"id": 9001, "uuid": "u", "sellerSku": "ABC_123 ", "productSetId": 77, "status": "active",
             "updatedAt": "2026-01-02T03:04:05+10:00"},
            {"id": "9002", "sellerSku": null, "status": "retired"},
            {"id": 9003, "sellerSku": "Ü\u{200B}-1", "status": "inactive", "updatedAt": "02/01/2026"}
        ], "pagination": {"limit": 100, "offset": 0, "totalCount": 250}});
        let sets = serde_json::json!({"items": [{"id": 1, "name": "Tee"}, {"id": "2"}],
                                      "pagination": {"limit": 2, "offset": 0, "hasNext": true}});
        fuzz::run("iconic_listings", |rng, input| {
            let offset = rng.u64(..10_000);
            let limit = rng.u64(1..=MAX_PAGE);
            if rng.bool() {
                *input = text_body(rng, &sets);
                return match json::<ListBody<ProductSet>>(input) {
                    Ok(body) => {
                        let (items, next) = body.into_page(offset, limit);
                        let _: Vec<String> = items.iter().map(|s| s.id.to_string()).collect();
                        moves_on(offset, items.len(), next)
                    }
                    Err(e) if !placed(&e.to_string()) => Err(format!("says nowhere: {e}")),
                    Err(_) => Ok(()),
                };
            }
            *input = text_body(rng, &products);
            match json::<ListBody<Product>>(input) {
                Ok(body) => {
                    let (items, next) = body.into_page(offset, limit);
                    let count = items.len();
                    let listings: Vec<Listing> =
                        items.into_iter().map(|p| p.into_listing("77")).collect();
                    // What the channel wrote, byte for byte (unless nested deeper than
                    // a `Value` reads; ignored fields are not).
                    let Ok(value) = serde_json::from_str::<serde_json::Value>(input) else {
                        return moves_on(offset, count, next);
                    };
                    let written = value
                        .get("items")
                        .unwrap_or(&value)
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    for (l, w) in listings.iter().zip(&written) {
                        // serde also reads a product from a list of its fields in turn.
                        let Some(product) = w.as_object() else {
                            continue;
                        };
                        let sku = product
                            .get("sellerSku")
                            .and_then(|s| s.as_str())
                            .unwrap_or_default();
                        if l.sku != sku {
                            return Err(format!("SKU {:?} read as {:?}", sku, l.sku));
                        }
                    }
                    moves_on(offset, count, next)
                }
                Err(e) if !placed(&e.to_string()) => Err(format!("says nowhere: {e}")),
                Err(_) => Ok(()),
            }
        });
    }

    /// A next page is further on than this one: reading it cannot loop.
    fn moves_on(offset: u64, got: usize, next: Option<u64>) -> Result<(), String> {
        match next {
            Some(n) if n <= offset || got == 0 => {
                Err(format!("page at {offset} with {got} items points to {n}"))
            }
            _ => Ok(()),
        }
    }

    mod over_http {
        use std::sync::Mutex;

        use super::super::super::transport::{test_transport, token_reply};
        use super::*;
        use crate::test_server::{Reply, TestServer};

        fn offset_of(target: &str) -> u64 {
            target
                .split(['?', '&'])
                .find_map(|kv| kv.strip_prefix("offset="))
                .unwrap()
                .parse()
                .unwrap()
        }

        /// Three sets over two pages (`totalCount`), set 2 answering with a bare array.
        async fn catalog() -> TestServer {
            TestServer::start(|seen| match seen.path() {
                "/oauth/client-credentials" => token_reply("t"),
                "/v2/product-sets" => match offset_of(&seen.target) {
                    0 => Reply::new(
                        200,
                        r#"{"items":[{"id":1,"name":"Tee"},{"id":2}],"pagination":{"limit":2,"offset":0,"totalCount":3}}"#,
                    ),
                    _ => Reply::new(
                        200,
                        r#"{"items":[{"id":3}],"pagination":{"limit":2,"offset":2,"totalCount":3}}"#,
                    ),
                },
                "/v2/product-set/1/products" => Reply::new(
                    200,
                    r#"{"items":[{"id":11,"sellerSku":"TEE-S","status":"active"},{"id":12,"sellerSku":"TEE-M","status":"inactive"}],"pagination":{"limit":100,"offset":0,"totalCount":2}}"#,
                ),
                "/v2/product-set/2/products" => {
                    Reply::new(200, r#"[{"id":21,"sellerSku":"CAP","status":"active"}]"#)
                }
                "/v2/product-set/3/products" => Reply::new(
                    200,
                    r#"{"items":[{"id":31,"sellerSku":"SOCK","status":"deleted"}],"pagination":{"limit":100,"offset":0,"hasNext":false}}"#,
                ),
                _ => Reply::new(404, r#"{"title":"Not Found","detail":"no route"}"#),
            })
            .await
        }

        /// Every listing `fetch` sends, by product id.
        async fn fetch_all(
            t: &Transport,
            since: Option<DateTime<Utc>>,
            on_progress: &(dyn Fn(u64) + Sync),
        ) -> Result<Vec<Listing>, ChannelError> {
            let (out, mut batches) = tokio::sync::mpsc::channel(64);
            fetch(t, since, &out, on_progress).await?;
            drop(out);
            let mut listings = Vec::new();
            while let Some(batch) = batches.recv().await {
                listings.extend(batch);
            }
            listings.sort_by(|a, b| a.product_id.cmp(&b.product_id));
            Ok(listings)
        }

        #[tokio::test]
        async fn lists_every_set_and_its_products() {
            let server = catalog().await;
            let t = test_transport(&server.url, 3);
            let progress = Mutex::new(Vec::new());
            let listings = fetch_all(&t, None, &|n| progress.lock().unwrap().push(n))
                .await
                .unwrap();
            let ids: Vec<(&str, &str, Option<&str>)> = listings
                .iter()
                .map(|l| {
                    (
                        l.product_id.as_str(),
                        l.sku.as_str(),
                        l.parent_id.as_deref(),
                    )
                })
                .collect();
            assert_eq!(
                ids,
                [
                    ("11", "TEE-S", Some("1")),
                    ("12", "TEE-M", Some("1")),
                    ("21", "CAP", Some("2")),
                    ("31", "SOCK", Some("3")),
                ]
            );
            assert_eq!(listings[1].status, ListingStatus::Inactive);
            // Sets finish in any order: one report per set, rising to the total.
            let progress = progress.into_inner().unwrap();
            assert_eq!(progress.len(), 3);
            assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
            assert_eq!(progress.last(), Some(&4));

            let requests = t.requests();
            assert_eq!(requests[SETS], 2);
            assert_eq!(requests[SET_PRODUCTS], 3);
            let set_pages: Vec<String> = server
                .seen()
                .into_iter()
                .filter(|s| s.path() == "/v2/product-sets")
                .map(|s| s.target)
                .collect();
            assert!(set_pages[0].contains("limit=100"), "{}", set_pages[0]);
            assert!(set_pages[0].contains("status=all"), "{}", set_pages[0]);
            assert!(!set_pages[0].contains("updateDateStart"));
        }

        #[tokio::test]
        async fn incremental_asks_for_sets_updated_since() {
            let server = catalog().await;
            let t = test_transport(&server.url, 1);
            let since = DateTime::parse_from_rfc3339("2026-05-06T07:08:09Z")
                .unwrap()
                .with_timezone(&Utc);
            fetch_all(&t, Some(since), &|_| {}).await.unwrap();
            let first = server
                .seen()
                .into_iter()
                .find(|s| s.path() == "/v2/product-sets")
                .unwrap();
            assert!(
                first
                    .target
                    .contains("updateDateStart=2026-05-06T07%3A08%3A09Z"),
                "{}",
                first.target
            );
        }

        #[tokio::test]
        async fn a_failing_set_fails_the_listing() {
            let server = TestServer::start(|seen| match seen.path() {
                "/oauth/client-credentials" => token_reply("t"),
                "/v2/product-sets" => {
                    Reply::new(200, r#"{"items":[{"id":8}],"pagination":{"totalCount":1}}"#)
                }
                _ => Reply::new(
                    403,
                    r#"{"title":"Forbidden","detail":"not your product set"}"#,
                ),
            })
            .await;
            let t = test_transport(&server.url, 2);
            let error = fetch_all(&t, None, &|_| {}).await.unwrap_err();
            assert!(
                matches!(error, ChannelError::Refused { status: 403, .. }),
                "{error}"
            );
        }
    }
}
