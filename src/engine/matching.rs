//! Matching rules (design §6), pure: a channel listing syncs with the one Shopify
//! variant whose SKU is byte-identical. Nothing is trimmed, case-folded or guessed.

use std::collections::HashMap;

use crate::channel::{Listing, ListingStatus};
use crate::db::catalog::{MatchRow, VariantRow};

/// Why one listing does or does not sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Syncs with the variant at this index of the variants matched against (an index,
    /// not a copy: a 100k-SKU catalog holds one set of strings).
    Matched(usize),
    /// Not active on the channel: nothing to sync.
    Inactive,
    /// No Shopify variant has this exact SKU.
    NoVariant,
    /// The SKU is on this many Shopify variants: stock would flip-flop between them.
    DuplicateInShopify(usize),
    /// Another active listing on the channel has the same SKU.
    DuplicateOnChannel,
    /// The only variant with the SKU does not track inventory.
    Untracked,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatchCounts {
    pub listings: usize,
    pub matched: usize,
    pub unmatched: usize,
    pub duplicate: usize,
    pub untracked: usize,
    pub inactive: usize,
    /// Shopify variants without a SKU (never matchable).
    pub no_sku: usize,
}

impl MatchCounts {
    /// One more listing with this verdict.
    pub fn count(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Matched(_) => self.matched += 1,
            Verdict::Inactive => self.inactive += 1,
            Verdict::NoVariant => self.unmatched += 1,
            Verdict::DuplicateInShopify(_) | Verdict::DuplicateOnChannel => self.duplicate += 1,
            Verdict::Untracked => self.untracked += 1,
        }
    }
}

/// One verdict per listing, in the order the listings were given.
#[derive(Debug, Default)]
pub struct MatchResult {
    pub verdicts: Vec<Verdict>,
    pub counts: MatchCounts,
}

impl MatchResult {
    /// The matches, given the same variants and listings the result was computed from.
    pub fn matches(&self, variants: &[VariantRow], listings: &[Listing]) -> Vec<MatchRow> {
        listings
            .iter()
            .zip(&self.verdicts)
            .filter_map(|(l, verdict)| match verdict {
                Verdict::Matched(i) => Some(MatchRow {
                    product_id: l.product_id.clone(),
                    sku: l.sku.clone(),
                    variant_id: variants[*i].variant_id.clone(),
                    inventory_item_id: variants[*i].inventory_item_id.clone(),
                }),
                _ => None,
            })
            .collect()
    }
}

/// Whether a variant whose product carries `tags` (`None`: not read yet, so not known to
/// carry any) is offered to a channel limited to products tagged `tag` (any, when
/// `None`). Shopify's tags ignore case.
pub fn offered(tags: Option<&[String]>, tag: Option<&str>) -> bool {
    tag.is_none_or(|tag| {
        tags.into_iter()
            .flatten()
            .any(|t| t.trim().eq_ignore_ascii_case(tag.trim()))
    })
}

/// The rule for one listing: whether it is `active`, how many active listings of the
/// channel have its SKU, how many Shopify variants have it, and, when exactly one does,
/// that variant (its index) and whether it tracks inventory.
pub fn verdict(
    active: bool,
    active_with_sku: usize,
    variants_with_sku: usize,
    only: Option<(usize, bool)>,
) -> Verdict {
    if !active {
        return Verdict::Inactive;
    }
    if active_with_sku > 1 {
        return Verdict::DuplicateOnChannel;
    }
    match (variants_with_sku, only) {
        (0, _) | (1, None) => Verdict::NoVariant,
        (1, Some((_, false))) => Verdict::Untracked,
        (1, Some((v, true))) => Verdict::Matched(v),
        (n, _) => Verdict::DuplicateInShopify(n),
    }
}

pub fn match_catalogs(variants: &[VariantRow], listings: &[Listing]) -> MatchResult {
    let mut by_sku: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut no_sku = 0;
    for (i, v) in variants.iter().enumerate() {
        match v.sku.as_deref() {
            Some(s) if !s.is_empty() => by_sku.entry(s).or_default().push(i),
            _ => no_sku += 1,
        }
    }
    let mut active_per_sku: HashMap<&str, usize> = HashMap::new();
    for l in listings
        .iter()
        .filter(|l| l.status == ListingStatus::Active)
    {
        *active_per_sku.entry(l.sku.as_str()).or_default() += 1;
    }

    let mut counts = MatchCounts {
        listings: listings.len(),
        no_sku,
        ..Default::default()
    };
    let verdicts = listings
        .iter()
        .map(|l| {
            let variants_with_sku = by_sku.get(l.sku.as_str()).map_or(&[][..], Vec::as_slice);
            let verdict = verdict(
                l.status == ListingStatus::Active,
                active_per_sku.get(l.sku.as_str()).copied().unwrap_or(0),
                variants_with_sku.len(),
                match variants_with_sku {
                    &[v] => Some((v, variants[v].tracked)),
                    _ => None,
                },
            );
            counts.count(&verdict);
            verdict
        })
        .collect();
    MatchResult { verdicts, counts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(id: &str, sku: Option<&str>, tracked: bool) -> VariantRow {
        VariantRow {
            product_tags: None,
            variant_id: id.into(),
            sku: sku.map(Into::into),
            inventory_item_id: format!("I{id}"),
            tracked,
            product_id: "P".into(),
            product_status: "ACTIVE".into(),
            updated_at: None,
        }
    }

    fn listing(id: &str, sku: &str, status: ListingStatus) -> Listing {
        Listing {
            product_id: id.into(),
            sku: sku.into(),
            status,
            parent_id: None,
            updated_at: None,
            inactive_reason: None,
        }
    }

    fn verdict_of(r: &MatchResult, listings: &[Listing], id: &str) -> Verdict {
        let i = listings.iter().position(|l| l.product_id == id).unwrap();
        r.verdicts[i].clone()
    }

    #[test]
    fn exact_sku_only() {
        let variants = [
            variant("1", Some("ABC-1"), true),
            variant("2", Some("DUP"), true),
            variant("3", Some("DUP"), true),
            variant("4", Some("NOTRACK"), false),
            variant("5", None, true),
            variant("6", Some(""), true),
        ];
        let listings = [
            listing("a", "ABC-1", ListingStatus::Active),
            listing("b", "ABC-1 ", ListingStatus::Active),
            listing("c", "abc-1", ListingStatus::Active),
            listing("d", "ABC_1", ListingStatus::Active),
            listing("e", "DUP", ListingStatus::Active),
            listing("f", "NOTRACK", ListingStatus::Active),
            listing("g", "ABC-1", ListingStatus::Inactive),
            listing("h", "", ListingStatus::Active),
        ];
        let r = match_catalogs(&variants, &listings);
        assert_eq!(verdict_of(&r, &listings, "a"), Verdict::Matched(0));
        for near_miss in ["b", "c", "d", "h"] {
            assert_eq!(
                verdict_of(&r, &listings, near_miss),
                Verdict::NoVariant,
                "{near_miss}"
            );
        }
        assert_eq!(
            verdict_of(&r, &listings, "e"),
            Verdict::DuplicateInShopify(2)
        );
        assert_eq!(verdict_of(&r, &listings, "f"), Verdict::Untracked);
        assert_eq!(verdict_of(&r, &listings, "g"), Verdict::Inactive);
        assert_eq!(
            r.counts,
            MatchCounts {
                listings: 8,
                matched: 1,
                unmatched: 4,
                duplicate: 1,
                untracked: 1,
                inactive: 1,
                no_sku: 2,
            }
        );
        let m = r.matches(&variants, &listings);
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].product_id.as_str(), m[0].variant_id.as_str()),
            ("a", "1")
        );
        assert_eq!(m[0].inventory_item_id, "I1");
    }

    #[test]
    fn two_active_listings_with_one_sku_both_stay_unsynced() {
        let listings = [
            listing("a", "X", ListingStatus::Active),
            listing("b", "X", ListingStatus::Active),
        ];
        let r = match_catalogs(&[variant("1", Some("X"), true)], &listings);
        assert_eq!(verdict_of(&r, &listings, "a"), Verdict::DuplicateOnChannel);
        assert_eq!(verdict_of(&r, &listings, "b"), Verdict::DuplicateOnChannel);
    }

    #[test]
    fn a_tag_limits_the_offer_to_its_products_whatever_the_case() {
        let tagged = |id: &str, sku: &str, tags: Option<&[&str]>| VariantRow {
            product_tags: tags.map(|t| t.iter().map(|s| s.to_string()).collect()),
            ..variant(id, Some(sku), true)
        };
        let variants = [
            tagged("1", "GIFT-1", Some(&["Gifts", "HardToFind"])),
            tagged("2", "PLAIN-1", Some(&["Gifts"])),
            tagged("3", "GIFT-2", Some(&[" hardtofind "])),
            // Stored before tags were read: not known to carry it.
            tagged("4", "OLD-1", None),
        ];
        let skus = |tag| {
            variants
                .iter()
                .filter(|v| offered(v.product_tags.as_deref(), tag))
                .filter_map(|v| v.sku.as_deref())
                .collect::<Vec<_>>()
        };
        assert_eq!(skus(Some("hardtofind")), ["GIFT-1", "GIFT-2"]);
        assert_eq!(skus(None), ["GIFT-1", "PLAIN-1", "GIFT-2", "OLD-1"]);
    }

    /// SKUs that differ only in ways people miss: case, a trailing space, a dash, an
    /// invisible character, nothing at all.
    fn sku() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy;
        proptest::sample::select(vec![
            "",
            "A-1",
            "a-1",
            "A-1 ",
            " A-1",
            "A_1",
            "A\u{2013}1",
            "A-\u{200B}1",
            "B",
            "B\u{FEFF}",
            "\u{212A}",
            "K",
        ])
        .prop_map(String::from)
    }

    proptest::proptest! {
        /// Every listing gets exactly one verdict, in order, and it is what the rules
        /// say: a listing syncs only with the one tracked variant whose SKU is the same
        /// string, byte for byte, when no other active listing has that SKU.
        #[test]
        fn matching_is_byte_exact_with_one_verdict_per_listing(
            variants in proptest::collection::vec(
                (proptest::option::of(sku()), proptest::prelude::any::<bool>()),
                0..8,
            ),
            listings in proptest::collection::vec(
                (sku(), proptest::sample::select(vec![
                    ListingStatus::Active,
                    ListingStatus::Active,
                    ListingStatus::Inactive,
                    ListingStatus::Deleted,
                    ListingStatus::Other("retired".into()),
                ])),
                0..8,
            ),
        ) {
            use proptest::prelude::*;
            let variants: Vec<VariantRow> = variants
                .into_iter()
                .enumerate()
                .map(|(i, (s, tracked))| variant(&i.to_string(), s.as_deref(), tracked))
                .collect();
            let listings: Vec<Listing> = listings
                .into_iter()
                .enumerate()
                .map(|(i, (s, status))| listing(&i.to_string(), &s, status))
                .collect();
            let r = match_catalogs(&variants, &listings);
            prop_assert_eq!(r.verdicts.len(), listings.len());
            for (l, verdict) in listings.iter().zip(&r.verdicts) {
                let same: Vec<usize> = variants
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.sku.as_deref() == Some(l.sku.as_str()) && !l.sku.is_empty())
                    .map(|(i, _)| i)
                    .collect();
                let active = |o: &&Listing| o.status == ListingStatus::Active;
                let twins = listings.iter().filter(active).filter(|o| o.sku == l.sku).count();
                let expected = if l.status != ListingStatus::Active {
                    Verdict::Inactive
                } else if twins > 1 {
                    Verdict::DuplicateOnChannel
                } else {
                    match same.as_slice() {
                        [] => Verdict::NoVariant,
                        [v] if !variants[*v].tracked => Verdict::Untracked,
                        [v] => Verdict::Matched(*v),
                        many => Verdict::DuplicateInShopify(many.len()),
                    }
                };
                prop_assert_eq!(verdict, &expected, "listing {:?}", l.sku);
                if let Verdict::Matched(i) = verdict {
                    prop_assert_eq!(variants[*i].sku.as_deref(), Some(l.sku.as_str()));
                }
            }
            let c = &r.counts;
            prop_assert_eq!(c.listings, listings.len());
            prop_assert_eq!(
                c.matched + c.unmatched + c.duplicate + c.untracked + c.inactive,
                listings.len()
            );
            prop_assert_eq!(
                c.no_sku,
                variants.iter().filter(|v| v.sku.as_deref().unwrap_or("").is_empty()).count()
            );
            for m in r.matches(&variants, &listings) {
                let v = variants.iter().find(|v| v.variant_id == m.variant_id).unwrap();
                prop_assert_eq!(v.sku.as_deref(), Some(m.sku.as_str()));
                prop_assert_eq!(&v.inventory_item_id, &m.inventory_item_id);
            }
        }
    }
}
