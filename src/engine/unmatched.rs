//! The `unmatched` report (design §6), pure: every active channel listing that does not
//! sync and why (and every inactive one the channel says why it keeps off sale),
//! near-miss hints, and the Shopify variants that can never match.
//!
//! A hint names a Shopify SKU that is equal after normalisation (trim, case, `_`/`-`/space,
//! Unicode spaces, invisible characters removed) and every difference. Hints only inform the
//! merchant: matching stays byte-exact (`matching`), nothing here feeds it.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::matching::{match_catalogs, MatchResult, Verdict};
use crate::channel::Listing;
use crate::db::catalog::VariantRow;

/// Why an active listing does not sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    NoVariant,
    /// The SKU is on this many Shopify variants.
    DuplicateInShopify(usize),
    DuplicateOnChannel,
    Untracked,
    /// Matched, but its product is a draft: pushed 0.
    ProductDraft,
    /// Matched, but its product is archived: pushed 0.
    ProductArchived,
    /// A channel that cannot list its catalogue sold this SKU, and no Shopify variant
    /// has it.
    OrderedNoVariant,
    /// The channel keeps the listing off sale for a reason it gives (not for want of
    /// stock, which skubridge's levels cure): stock is not synced to it.
    InactiveOnChannel,
}

impl Reason {
    /// The stable code scripts read.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoVariant => "no_variant",
            Self::DuplicateInShopify(_) => "duplicate_in_shopify",
            Self::DuplicateOnChannel => "duplicate_on_channel",
            Self::Untracked => "untracked",
            Self::ProductDraft => "product_draft",
            Self::ProductArchived => "product_archived",
            Self::OrderedNoVariant => "ordered_no_variant",
            Self::InactiveOnChannel => "inactive_on_channel",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoVariant => f.write_str("no Shopify variant"),
            Self::DuplicateInShopify(n) => write!(f, "duplicate in Shopify ({n} variants)"),
            Self::DuplicateOnChannel => f.write_str("duplicate on the channel"),
            Self::Untracked => f.write_str("variant untracked"),
            Self::ProductDraft => f.write_str("product draft"),
            Self::ProductArchived => f.write_str("product archived"),
            Self::OrderedNoVariant => f.write_str("in a channel order; no Shopify variant"),
            Self::InactiveOnChannel => f.write_str("inactive on the channel"),
        }
    }
}

/// An active channel listing that does not sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingProblem {
    pub channel: String,
    pub product_id: String,
    /// Exactly as the channel holds it.
    pub sku: String,
    pub reason: Reason,
    /// The channel's own words for the reason, when it gives them.
    pub channel_says: Option<String>,
    /// Shopify SKUs equal to this one after normalisation, sorted; empty when none.
    pub near_misses: Vec<NearMiss>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearMiss {
    /// Exactly as Shopify holds it.
    pub shopify_sku: String,
    /// What differs, listing side first; never empty.
    pub differences: Vec<Difference>,
}

/// One way a listing SKU differs from a Shopify SKU that normalises the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difference {
    /// Whitespace before the SKU on one side only.
    Leading(char),
    Trailing(char),
    /// The listing has the first separator where Shopify has the second.
    Separator(char, char),
    Case,
    /// An invisible character on one side only (or placed differently).
    Invisible(char),
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Leading(c) => write!(f, "leading {}", char_name(c)),
            Self::Trailing(c) => write!(f, "trailing {}", char_name(c)),
            Self::Separator(a, b) => write!(f, "{} vs {}", char_name(a), char_name(b)),
            Self::Case => f.write_str("case"),
            Self::Invisible(c) => f.write_str(&char_name(c)),
        }
    }
}

/// A Shopify variant that no listing can ever match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantProblem {
    pub variant_id: String,
    pub product_id: String,
    pub sku: Option<String>,
    pub issue: VariantIssue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantIssue {
    /// The SKU is on this many variants (this one included).
    DuplicateSku(usize),
    /// The SKU is empty or missing.
    NoSku,
}

impl VariantIssue {
    /// The stable code scripts read.
    pub fn code(self) -> &'static str {
        match self {
            Self::DuplicateSku(_) => "duplicate_sku",
            Self::NoSku => "no_sku",
        }
    }
}

impl fmt::Display for VariantIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateSku(n) => write!(f, "duplicate SKU ({n} variants)"),
            Self::NoSku => f.write_str("no SKU"),
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Channel by channel, in the order given; listings in the order given.
    pub listings: Vec<ListingProblem>,
    /// Duplicate SKUs (by SKU, then variant id), then variants without a SKU.
    pub variants: Vec<VariantProblem>,
}

/// The report over the stored Shopify variants and each channel's stored listings.
pub fn report(variants: &[VariantRow], channels: &[(&str, &[Listing])]) -> Report {
    let listings = channels
        .iter()
        .flat_map(|(channel, channel_listings)| {
            let result = match_catalogs(variants, channel_listings);
            listing_problems(variants, channel, channel_listings, &result)
        })
        .collect();
    Report {
        listings,
        variants: variant_problems(variants),
    }
}

/// The listings of one channel that do not sync, from a match already computed over
/// these `variants` and `listings`.
pub fn listing_problems(
    variants: &[VariantRow],
    channel: &str,
    listings: &[Listing],
    result: &MatchResult,
) -> Vec<ListingProblem> {
    let problems: Vec<(Listing, Reason)> = listings
        .iter()
        .zip(&result.verdicts)
        .filter_map(|(l, verdict)| {
            let status = match verdict {
                Verdict::Matched(i) => Some(variants[*i].product_status.as_str()),
                _ => None,
            };
            Some((l.clone(), reason(verdict, status, l)?))
        })
        .collect();
    let skus: Vec<String> = if problems.is_empty() {
        Vec::new()
    } else {
        variants
            .iter()
            .filter_map(real_sku)
            .map(str::to_string)
            .collect()
    };
    with_hints(channel, problems, &skus)
}

/// Why `listing`, with this verdict, is reported (`product_status`: its matched
/// variant's); `None` when it syncs, or when the channel keeps it off sale without
/// saying why (a seller's own choice).
pub fn reason(
    verdict: &Verdict,
    product_status: Option<&str>,
    listing: &Listing,
) -> Option<Reason> {
    Some(match verdict {
        Verdict::Inactive => {
            listing.inactive_reason.as_ref()?;
            Reason::InactiveOnChannel
        }
        Verdict::Matched(_) => match product_status {
            Some("DRAFT") => Reason::ProductDraft,
            Some("ARCHIVED") => Reason::ProductArchived,
            _ => return None,
        },
        Verdict::NoVariant => Reason::NoVariant,
        Verdict::DuplicateInShopify(n) => Reason::DuplicateInShopify(*n),
        Verdict::DuplicateOnChannel => Reason::DuplicateOnChannel,
        Verdict::Untracked => Reason::Untracked,
    })
}

/// The problems of one channel with their near-miss hints among Shopify's SKUs (which
/// callers read only when there is a problem: a clean catalogue costs no memory).
pub fn with_hints(
    channel: &str,
    problems: Vec<(Listing, Reason)>,
    skus: &[String],
) -> Vec<ListingProblem> {
    let hints = NearMissIndex::new(skus.iter().map(String::as_str));
    problems
        .into_iter()
        .map(|(l, reason)| ListingProblem {
            channel: channel.to_string(),
            near_misses: hints.near_misses(&l.sku),
            channel_says: l
                .inactive_reason
                .filter(|_| reason == Reason::InactiveOnChannel),
            product_id: l.product_id,
            sku: l.sku,
            reason,
        })
        .collect()
}

/// For a channel that cannot list its catalogue: the SKUs its orders hold that no
/// Shopify variant has (`ordered`: SKU, and an order number holding it), with hints.
/// The product id shown is the order.
pub fn ordered_problems(
    variants: &[VariantRow],
    channel: &str,
    ordered: &[(String, String)],
) -> Vec<ListingProblem> {
    let known: HashSet<&str> = variants.iter().filter_map(real_sku).collect();
    let mut hints: Option<NearMissIndex<'_>> = None;
    ordered
        .iter()
        .filter(|(sku, _)| !known.contains(sku.as_str()))
        .map(|(sku, number)| {
            let hints = hints
                .get_or_insert_with(|| NearMissIndex::new(variants.iter().filter_map(real_sku)));
            ListingProblem {
                channel: channel.to_string(),
                product_id: format!("order {number}"),
                sku: sku.clone(),
                reason: Reason::OrderedNoVariant,
                channel_says: None,
                near_misses: hints.near_misses(sku),
            }
        })
        .collect()
}

fn variant_problems(variants: &[VariantRow]) -> Vec<VariantProblem> {
    let mut per_sku: HashMap<&str, usize> = HashMap::new();
    for s in variants.iter().filter_map(real_sku) {
        *per_sku.entry(s).or_default() += 1;
    }
    let mut out: Vec<VariantProblem> = variants
        .iter()
        .filter_map(|v| {
            let issue = match real_sku(v) {
                None => VariantIssue::NoSku,
                Some(s) if per_sku[s] > 1 => VariantIssue::DuplicateSku(per_sku[s]),
                Some(_) => return None,
            };
            Some(VariantProblem {
                variant_id: v.variant_id.clone(),
                product_id: v.product_id.clone(),
                sku: v.sku.clone(),
                issue,
            })
        })
        .collect();
    // Duplicates grouped by SKU, then the variants without one; each by variant id.
    out.sort_by(|a, b| order(a).cmp(&order(b)));
    out
}

fn order(p: &VariantProblem) -> (bool, &str, &str) {
    match p.issue {
        VariantIssue::DuplicateSku(_) => (false, p.sku.as_deref().unwrap_or(""), &p.variant_id),
        VariantIssue::NoSku => (true, "", &p.variant_id),
    }
}

/// The SKU matching can use: empty counts as none (as in `matching`).
fn real_sku(v: &VariantRow) -> Option<&str> {
    v.sku.as_deref().filter(|s| !s.is_empty())
}

/// Shopify's distinct SKUs by normalised form.
struct NearMissIndex<'a> {
    exact: HashSet<&'a str>,
    by_key: HashMap<String, Vec<&'a str>>,
}

impl<'a> NearMissIndex<'a> {
    /// Over Shopify's non-empty SKUs.
    fn new(skus: impl IntoIterator<Item = &'a str>) -> Self {
        let exact: HashSet<&str> = skus.into_iter().filter(|s| !s.is_empty()).collect();
        let mut by_key: HashMap<String, Vec<&str>> = HashMap::new();
        for &sku in &exact {
            let key = Parts::of(sku).key();
            // A SKU of only spaces and invisible characters resembles nothing.
            if !key.is_empty() {
                by_key.entry(key).or_default().push(sku);
            }
        }
        for skus in by_key.values_mut() {
            skus.sort_unstable();
        }
        Self { exact, by_key }
    }

    /// Shopify SKUs that normalise like `sku`; none when Shopify has `sku` itself.
    fn near_misses(&self, sku: &str) -> Vec<NearMiss> {
        if self.exact.contains(sku) {
            return Vec::new();
        }
        let parts = Parts::of(sku);
        self.by_key
            .get(&parts.key())
            .into_iter()
            .flatten()
            .map(|&shopify_sku| NearMiss {
                shopify_sku: shopify_sku.to_string(),
                differences: differences(&parts, &Parts::of(shopify_sku)),
            })
            .collect()
    }
}

/// Where a removed invisible character sat: region, index of the visible character it
/// precedes within that region, and its order among invisibles at that same place.
/// Comparing these exactly means two different SKUs always show at least one difference.
type Spot = (Region, usize, usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Region {
    Lead,
    Core,
    Trail,
}

/// A SKU taken apart: the whitespace trimmed from each end, the core that is compared
/// (after folding), and the invisible characters removed.
struct Parts {
    lead: Vec<char>,
    core: Vec<char>,
    trail: Vec<char>,
    invisible: Vec<(char, Spot)>,
}

impl Parts {
    fn of(sku: &str) -> Self {
        let mut visible = Vec::with_capacity(sku.len());
        // (char, visible characters before it, invisibles already at that place)
        let mut removed: Vec<(char, usize, usize)> = Vec::new();
        for c in sku.chars() {
            if is_invisible(c) {
                let at = visible.len();
                let nth = match removed.last() {
                    Some(&(_, prev, n)) if prev == at => n + 1,
                    _ => 0,
                };
                removed.push((c, at, nth));
            } else {
                visible.push(c);
            }
        }
        let lead_len = visible.iter().take_while(|c| c.is_whitespace()).count();
        let trail_len = visible[lead_len..]
            .iter()
            .rev()
            .take_while(|c| c.is_whitespace())
            .count();
        let core_end = visible.len() - trail_len;
        let invisible = removed
            .into_iter()
            .map(|(c, at, nth)| {
                let spot = if at < lead_len {
                    (Region::Lead, at, nth)
                } else if at < core_end {
                    (Region::Core, at - lead_len, nth)
                } else {
                    (Region::Trail, at - core_end, nth)
                };
                (c, spot)
            })
            .collect();
        Self {
            lead: visible[..lead_len].to_vec(),
            core: visible[lead_len..core_end].to_vec(),
            trail: visible[core_end..].to_vec(),
            invisible,
        }
    }

    /// The normalised form: equal keys make a near miss.
    fn key(&self) -> String {
        self.core.iter().map(|&c| fold(c)).collect()
    }
}

/// Every difference between two SKUs with equal keys, in reading order, each named once.
fn differences(listing: &Parts, shopify: &Parts) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut add = |d| {
        if !out.contains(&d) {
            out.push(d);
        }
    };
    for c in misplaced(&indexed(&listing.lead), &indexed(&shopify.lead)) {
        add(Difference::Leading(c));
    }
    for (&a, &b) in listing.core.iter().zip(&shopify.core) {
        if a != b {
            // Equal keys: two different separators, or the same letter in another case.
            add(if is_separator(a) {
                Difference::Separator(a, b)
            } else {
                Difference::Case
            });
        }
    }
    for c in misplaced(&indexed(&listing.trail), &indexed(&shopify.trail)) {
        add(Difference::Trailing(c));
    }
    for c in misplaced(&listing.invisible, &shopify.invisible) {
        add(Difference::Invisible(c));
    }
    out
}

fn indexed(chars: &[char]) -> Vec<(char, usize)> {
    chars.iter().enumerate().map(|(i, &c)| (c, i)).collect()
}

/// Characters whose places differ between `a` and `b`, in order of first appearance.
fn misplaced<P: PartialEq>(a: &[(char, P)], b: &[(char, P)]) -> Vec<char> {
    fn places<P>(side: &[(char, P)], c: char) -> Vec<&P> {
        side.iter()
            .filter(|(x, _)| *x == c)
            .map(|(_, p)| p)
            .collect()
    }
    let mut out = Vec::new();
    for &(c, _) in a.iter().chain(b) {
        if !out.contains(&c) && places(a, c) != places(b, c) {
            out.push(c);
        }
    }
    out
}

/// `_`, `-`, whitespace (NBSP and the other Unicode spaces) and the Unicode dashes a
/// spreadsheet's autocorrect substitutes for `-` all compare alike.
fn is_separator(c: char) -> bool {
    matches!(c, '-' | '_' | '\u{2010}'..='\u{2014}' | '\u{2212}') || c.is_whitespace()
}

fn fold(c: char) -> char {
    if is_separator(c) {
        return '-';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        // Only U+0130 lowercases to two characters; kept as is, so keys stay one
        // character per core character and line up position by position.
        _ => c,
    }
}

/// Characters a reader could not see or tell from a plain space.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || (c.is_whitespace() && c != ' ') || is_invisible(c)
}

/// A SKU for people: hidden characters, and spaces at either end, appear as `\u{XXXX}`,
/// so a table, CSV cell, hint or email never shows them raw.
pub fn shown(sku: &str) -> String {
    let last = sku.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(sku.len());
    for (i, c) in sku.chars().enumerate() {
        if is_hidden(c) || (c == ' ' && (i == 0 || i == last)) {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

impl ListingProblem {
    /// The reason, with the channel's own words when it gave them.
    pub fn reason_text(&self) -> String {
        match &self.channel_says {
            Some(says) => format!("{} ({says})", self.reason),
            None => self.reason.to_string(),
        }
    }

    /// `"ABC_123" ≈ Shopify "ABC-123" (underscore vs dash)`, every near miss named.
    pub fn hint(&self) -> Option<String> {
        if self.near_misses.is_empty() {
            return None;
        }
        let near: Vec<String> = self
            .near_misses
            .iter()
            .map(|n| {
                let diffs: Vec<String> = n.differences.iter().map(ToString::to_string).collect();
                format!("\"{}\" ({})", shown(&n.shopify_sku), diffs.join(", "))
            })
            .collect();
        Some(format!(
            "\"{}\" ≈ Shopify {}",
            shown(&self.sku),
            near.join(" or ")
        ))
    }
}

/// Characters that show nothing: zero-width, joiners, bidi and other format controls,
/// fillers, variation selectors, tags, and control characters that are not whitespace.
/// Normalisation removes them; displays must escape them.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
        || (c.is_control() && !c.is_whitespace())
}

/// `space`, `dash`, `underscore`, or the code point and Unicode name
/// (`U+200B zero-width space`).
fn char_name(c: char) -> String {
    let name = match c {
        ' ' => return "space".into(),
        '-' => return "dash".into(),
        '_' => return "underscore".into(),
        '\t' => "tab",
        '\n' => "line feed",
        '\u{0B}' => "line tabulation",
        '\u{0C}' => "form feed",
        '\r' => "carriage return",
        '\u{85}' => "next line",
        '\u{A0}' => "no-break space",
        '\u{AD}' => "soft hyphen",
        '\u{34F}' => "combining grapheme joiner",
        '\u{61C}' => "Arabic letter mark",
        '\u{1680}' => "Ogham space mark",
        '\u{180E}' => "Mongolian vowel separator",
        '\u{2000}' => "en quad",
        '\u{2001}' => "em quad",
        '\u{2002}' => "en space",
        '\u{2003}' => "em space",
        '\u{2004}' => "three-per-em space",
        '\u{2005}' => "four-per-em space",
        '\u{2006}' => "six-per-em space",
        '\u{2007}' => "figure space",
        '\u{2008}' => "punctuation space",
        '\u{2009}' => "thin space",
        '\u{200A}' => "hair space",
        '\u{200B}' => "zero-width space",
        '\u{200C}' => "zero-width non-joiner",
        '\u{200D}' => "zero-width joiner",
        '\u{200E}' => "left-to-right mark",
        '\u{200F}' => "right-to-left mark",
        '\u{2010}' => "hyphen",
        '\u{2011}' => "non-breaking hyphen",
        '\u{2012}' => "figure dash",
        '\u{2013}' => "en dash",
        '\u{2014}' => "em dash",
        '\u{2028}' => "line separator",
        '\u{2029}' => "paragraph separator",
        '\u{202A}' => "left-to-right embedding",
        '\u{202B}' => "right-to-left embedding",
        '\u{202C}' => "pop directional formatting",
        '\u{202D}' => "left-to-right override",
        '\u{202E}' => "right-to-left override",
        '\u{202F}' => "narrow no-break space",
        '\u{205F}' => "medium mathematical space",
        '\u{2060}' => "word joiner",
        '\u{2061}' => "function application",
        '\u{2062}' => "invisible times",
        '\u{2063}' => "invisible separator",
        '\u{2064}' => "invisible plus",
        '\u{2066}' => "left-to-right isolate",
        '\u{2067}' => "right-to-left isolate",
        '\u{2068}' => "first strong isolate",
        '\u{2069}' => "pop directional isolate",
        '\u{2212}' => "minus sign",
        '\u{3000}' => "ideographic space",
        '\u{3164}' => "Hangul filler",
        '\u{FEFF}' => "zero-width no-break space",
        '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' => "variation selector",
        '\u{E0000}'..='\u{E007F}' => "tag character",
        c if c.is_whitespace() => "space character",
        c if c.is_control() => "control character",
        _ => "invisible character",
    };
    format!("U+{:04X} {name}", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::ListingStatus;
    use Difference::*;

    fn variant(id: &str, sku: Option<&str>, tracked: bool, status: &str) -> VariantRow {
        VariantRow {
            product_tags: None,
            variant_id: id.into(),
            sku: sku.map(Into::into),
            inventory_item_id: format!("I{id}"),
            tracked,
            product_id: format!("P{id}"),
            product_status: status.into(),
            updated_at: None,
        }
    }

    fn active(id: &str, sku: &str) -> Listing {
        Listing {
            product_id: id.into(),
            sku: sku.into(),
            status: ListingStatus::Active,
            parent_id: None,
            updated_at: None,
            inactive_reason: None,
        }
    }

    /// The differences between a listing SKU and a Shopify SKU, or None when they do not
    /// normalise alike.
    fn diff(listing: &str, shopify: &str) -> Option<Vec<Difference>> {
        let (a, b) = (Parts::of(listing), Parts::of(shopify));
        (a.key() == b.key()).then(|| differences(&a, &b))
    }

    fn names(listing: &str, shopify: &str) -> Vec<String> {
        diff(listing, shopify)
            .unwrap_or_else(|| panic!("{listing:?} and {shopify:?} should normalise alike"))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn skus_ordered_on_a_channel_without_listings_are_shown_when_shopify_lacks_them() {
        let variants = [variant("1", Some("MUG-1"), true, "ACTIVE")];
        let ordered = [
            ("MUG-1".to_string(), "7001".to_string()),
            ("mug_1".to_string(), "7002".to_string()),
            ("NOPE-9".to_string(), "7003".to_string()),
        ];
        let problems = ordered_problems(&variants, "htf", &ordered);
        let shown: Vec<(&str, &str, Reason)> = problems
            .iter()
            .map(|p| (p.product_id.as_str(), p.sku.as_str(), p.reason))
            .collect();
        assert_eq!(
            shown,
            [
                ("order 7002", "mug_1", Reason::OrderedNoVariant),
                ("order 7003", "NOPE-9", Reason::OrderedNoVariant)
            ]
        );
        let hint = problems[0].hint().unwrap();
        assert!(hint.starts_with("\"mug_1\" ≈ Shopify \"MUG-1\""), "{hint}");
    }

    #[test]
    fn each_difference_is_named() {
        assert_eq!(names("ABC-1 ", "ABC-1"), ["trailing space"]);
        assert_eq!(names(" ABC-1", "ABC-1"), ["leading space"]);
        assert_eq!(names("ABC_123", "ABC-123"), ["underscore vs dash"]);
        assert_eq!(names("ABC 123", "ABC-123"), ["space vs dash"]);
        assert_eq!(names("ABC_123", "ABC 123"), ["underscore vs space"]);
        assert_eq!(names("abc-1", "ABC-1"), ["case"]);
        assert_eq!(names("AB\u{200B}C", "ABC"), ["U+200B zero-width space"]);
        assert_eq!(names("ABC", "A\u{200D}BC"), ["U+200D zero-width joiner"]);
        assert_eq!(
            names("\u{FEFF}ABC", "ABC"),
            ["U+FEFF zero-width no-break space"]
        );
        assert_eq!(names("AB\u{AD}C", "ABC"), ["U+00AD soft hyphen"]);
        assert_eq!(names("AB\u{2060}C", "ABC"), ["U+2060 word joiner"]);
        assert_eq!(
            names("ABC\u{A0}1", "ABC 1"),
            ["U+00A0 no-break space vs space"]
        );
        assert_eq!(
            names("ABC\u{A0}", "ABC"),
            ["trailing U+00A0 no-break space"]
        );
        assert_eq!(names("ABC\u{2013}1", "ABC-1"), ["U+2013 en dash vs dash"]);
        assert_eq!(names("ABC\u{E0041}", "ABC"), ["U+E0041 tag character"]);
    }

    #[test]
    fn several_differences_at_once_in_reading_order() {
        assert_eq!(
            names(" abc_1\u{200B}-x ", "ABC-1-X"),
            [
                "leading space",
                "case",
                "underscore vs dash",
                "trailing space",
                "U+200B zero-width space"
            ]
        );
        // The same difference twice is named once.
        assert_eq!(names("a_b_c", "a-b-c"), ["underscore vs dash"]);
        // Both sides may carry extras.
        assert_eq!(
            names("ABC-1 ", " ABC_1"),
            ["leading space", "dash vs underscore", "trailing space"]
        );
    }

    #[test]
    fn no_near_miss_when_nothing_normalises_alike() {
        assert_eq!(diff("ABC-12", "ABC-123"), None);
        assert_eq!(
            diff("ABC--1", "ABC-1"),
            None,
            "separators are not collapsed"
        );
        assert_eq!(diff("ABC.1", "ABC-1"), None);
        assert_eq!(diff("ÀBC", "ABC"), None, "accents are not stripped");
        let r = report(
            &[variant("1", Some("ABC-123"), true, "ACTIVE")],
            &[("iconic", &[active("a", "XYZ-123")])],
        );
        assert_eq!(r.listings.len(), 1);
        assert!(r.listings[0].near_misses.is_empty());
    }

    /// Whenever two different SKUs normalise alike, something is named: the merchant is
    /// never shown a hint without the reason.
    #[test]
    fn different_skus_always_name_a_difference() {
        const ALPHABET: [char; 10] = [
            'a', 'A', '-', '_', ' ', '\u{A0}', '\u{200B}', '\u{200D}', '\t', '\u{FEFF}',
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let mut random = || -> String {
            (0..rng.usize(0..6))
                .map(|_| ALPHABET[rng.usize(..ALPHABET.len())])
                .collect()
        };
        let mut compared = 0;
        for _ in 0..50_000 {
            let (a, b) = (random(), random());
            if a == b {
                continue;
            }
            if let Some(d) = diff(&a, &b) {
                compared += 1;
                assert!(!d.is_empty(), "{a:?} vs {b:?}");
            }
        }
        assert!(compared > 1000, "only {compared} near misses generated");
    }

    #[test]
    fn hints_name_every_shopify_sku_and_never_match() {
        let variants = [
            variant("1", Some("ABC-1"), true, "ACTIVE"),
            variant("2", Some("abc_1"), true, "ACTIVE"),
            variant("3", Some("ABC-1 "), true, "ACTIVE"),
            variant("4", Some("EXACT"), true, "ACTIVE"),
            variant("5", Some("exact"), true, "ACTIVE"),
        ];
        let listings = [active("a", "Abc 1"), active("b", "EXACT")];
        let r = report(&variants, &[("iconic", &listings)]);
        // "EXACT" matches exactly: neither reported nor hinted.
        assert_eq!(r.listings.len(), 1, "{r:?}");
        let p = &r.listings[0];
        assert_eq!((p.product_id.as_str(), p.reason), ("a", Reason::NoVariant));
        let hinted: Vec<(&str, Vec<Difference>)> = p
            .near_misses
            .iter()
            .map(|n| (n.shopify_sku.as_str(), n.differences.clone()))
            .collect();
        assert_eq!(
            hinted,
            [
                ("ABC-1", vec![Case, Separator(' ', '-')]),
                ("ABC-1 ", vec![Case, Separator(' ', '-'), Trailing(' ')]),
                ("abc_1", vec![Case, Separator(' ', '_')]),
            ]
        );
        // Only byte-identical SKUs match, hints or not.
        assert!(match_catalogs(&variants, &listings).verdicts[0] == Verdict::NoVariant);
    }

    #[test]
    fn every_reason_and_variant_problem() {
        let variants = [
            variant("1", Some("OK"), true, "ACTIVE"),
            variant("2", Some("DUP"), true, "ACTIVE"),
            variant("3", Some("DUP"), true, "ACTIVE"),
            variant("4", Some("UT"), false, "ACTIVE"),
            variant("5", Some("DR"), true, "DRAFT"),
            variant("6", Some("AR"), true, "ARCHIVED"),
            variant("7", Some("UNL"), true, "UNLISTED"),
            variant("8", Some(""), true, "ACTIVE"),
            variant("9", None, true, "ACTIVE"),
            variant("10", Some("TWIN"), true, "ACTIVE"),
        ];
        // Off sale by the seller's choice: not reported; for a reason the channel
        // gives: reported with it.
        let mut gone = active("i", "NOPE");
        gone.status = ListingStatus::Inactive;
        let mut closed = active("j", "OK");
        closed.status = ListingStatus::Inactive;
        closed.inactive_reason = Some("SHOP_NOT_OPEN".into());
        let iconic = [
            active("a", "OK"),
            active("b", "DUP"),
            active("c", "UT"),
            active("d", "DR"),
            active("e", "AR"),
            active("f", "UNL"),
            active("g", "NOPE"),
            active("h", "twin"),
            active("h2", "twin"),
            gone,
            closed,
        ];
        let other = [active("z", "dup")];
        let r = report(&variants, &[("iconic", &iconic), ("other", &other)]);
        let got: Vec<(&str, &str, Reason, usize)> = r
            .listings
            .iter()
            .map(|p| {
                (
                    p.channel.as_str(),
                    p.product_id.as_str(),
                    p.reason,
                    p.near_misses.len(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("iconic", "b", Reason::DuplicateInShopify(2), 0),
                ("iconic", "c", Reason::Untracked, 0),
                ("iconic", "d", Reason::ProductDraft, 0),
                ("iconic", "e", Reason::ProductArchived, 0),
                ("iconic", "g", Reason::NoVariant, 0),
                ("iconic", "h", Reason::DuplicateOnChannel, 1),
                ("iconic", "h2", Reason::DuplicateOnChannel, 1),
                ("iconic", "j", Reason::InactiveOnChannel, 0),
                ("other", "z", Reason::NoVariant, 1),
            ]
        );
        let closed = r.listings.iter().find(|p| p.product_id == "j").unwrap();
        assert_eq!(
            closed.reason_text(),
            "inactive on the channel (SHOP_NOT_OPEN)"
        );
        assert!(r
            .listings
            .iter()
            .all(|p| p.product_id == "j" || p.channel_says.is_none()));
        let problems: Vec<(&str, VariantIssue)> = r
            .variants
            .iter()
            .map(|p| (p.variant_id.as_str(), p.issue))
            .collect();
        assert_eq!(
            problems,
            [
                ("2", VariantIssue::DuplicateSku(2)),
                ("3", VariantIssue::DuplicateSku(2)),
                ("8", VariantIssue::NoSku),
                ("9", VariantIssue::NoSku),
            ]
        );
        assert_eq!(r.variants[0].product_id, "P2");
    }

    #[test]
    fn codes_and_texts() {
        assert_eq!(Reason::DuplicateInShopify(3).code(), "duplicate_in_shopify");
        assert_eq!(
            Reason::DuplicateInShopify(3).to_string(),
            "duplicate in Shopify (3 variants)"
        );
        assert_eq!(Reason::Untracked.to_string(), "variant untracked");
        assert_eq!(VariantIssue::NoSku.code(), "no_sku");
        assert_eq!(
            VariantIssue::DuplicateSku(2).to_string(),
            "duplicate SKU (2 variants)"
        );
    }

    #[test]
    fn invisible_characters() {
        for c in [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{AD}', '\u{7}',
        ] {
            assert!(is_invisible(c), "{c:?}");
        }
        for c in ['a', ' ', '\u{A0}', '\t', '-', 'é'] {
            assert!(!is_invisible(c), "{c:?}");
        }
    }

    /// Found by `every_invisible_character_is_hidden`: U+FFF0..U+FFF8, reserved but
    /// default-ignorable (shown as nothing), reached tables and hints raw.
    #[test]
    fn reserved_ignorable_characters_are_escaped() {
        assert_eq!(shown("AB\u{FFF0}C"), "AB\\u{FFF0}C");
        assert_eq!(names("AB\u{FFF8}C", "ABC"), ["U+FFF8 invisible character"]);
    }

    /// Characters a SKU may hold that make hints interesting: letters in two cases
    /// (and the ones whose case is odd), separators, spaces of several kinds, and
    /// invisible characters.
    const SKU_CHARS: [char; 24] = [
        'a', 'A', 'b', 'B', '1', '-', '_', ' ', '\u{A0}', '\u{2013}', '\u{3000}', '\t', '\u{200B}',
        '\u{200D}', '\u{FEFF}', '\u{202E}', '\u{7}', '\u{AD}', 'İ', 'i', '\u{212A}', 'k', 'ß',
        '\u{301}',
    ];

    fn sku() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        proptest::collection::vec(proptest::sample::select(&SKU_CHARS[..]), 0..7)
            .prop_map(String::from_iter)
    }

    fn any_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![sku(), any::<String>()]
    }

    /// Unicode's Default_Ignorable_Code_Point: characters a renderer shows as nothing.
    fn default_ignorable(c: char) -> bool {
        matches!(c,
            '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
            | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
    }

    /// The hints for `listing` against a Shopify catalogue of `shopify` SKUs.
    fn hints(listing: &str, shopify: &[&str]) -> Vec<NearMiss> {
        let variants: Vec<VariantRow> = shopify
            .iter()
            .enumerate()
            .map(|(i, s)| variant(&i.to_string(), Some(s), true, "ACTIVE"))
            .collect();
        NearMissIndex::new(variants.iter().filter_map(real_sku)).near_misses(listing)
    }

    /// What `d` says seen from the other side.
    fn mirrored(d: Difference) -> Difference {
        match d {
            Separator(a, b) => Separator(b, a),
            other => other,
        }
    }

    proptest::proptest! {
        /// A SKU shown to a person never carries a character they cannot see (or
        /// cannot tell from a space) raw, nor a space at either end; a SKU with none
        /// is shown as it is.
        #[test]
        fn shown_never_leaves_a_hidden_character_raw(s in any_text()) {
            let out = shown(&s);
            proptest::prop_assert!(!out.chars().any(is_hidden), "{:?} -> {:?}", s, out);
            proptest::prop_assert!(!out.starts_with(' ') && !out.ends_with(' '), "{:?}", out);
            let plain = !s.chars().any(is_hidden) && !s.starts_with(' ') && !s.ends_with(' ');
            if plain {
                proptest::prop_assert_eq!(&out, &s);
            }
        }

        /// Every character Unicode says renders as nothing, every control character
        /// and every space other than the plain one count as hidden.
        #[test]
        fn every_invisible_character_is_hidden(
            c in proptest::prop_oneof![
                proptest::prelude::any::<char>(),
                proptest::sample::select(
                    ('\u{0}'..='\u{FFFF}').filter(|c| default_ignorable(*c)).collect::<Vec<_>>()
                ),
                proptest::char::range('\u{E0000}', '\u{E0FFF}'),
            ],
        ) {
            if default_ignorable(c) || c.is_control() || (c.is_whitespace() && c != ' ') {
                proptest::prop_assert!(is_hidden(c), "{:?}", c);
                proptest::prop_assert!(!shown(&c.to_string()).contains(c));
            }
        }

        /// A SKU is never a near miss of itself: no difference, and no hint when
        /// Shopify has it exactly.
        #[test]
        fn a_sku_and_itself_never_differ(s in any_text()) {
            proptest::prop_assert!(differences(&Parts::of(&s), &Parts::of(&s)).is_empty());
            proptest::prop_assert!(hints(&s, &[&s]).is_empty());
        }

        /// A hint appears exactly when the two SKUs differ but normalise alike (and
        /// are not all spaces and invisibles); it always names a difference; and it
        /// is symmetric: the other side sees the same differences, mirrored.
        #[test]
        fn hints_are_exactly_the_skus_that_normalise_alike(a in sku(), b in sku()) {
            let (pa, pb) = (Parts::of(&a), Parts::of(&b));
            let alike = a != b && !b.is_empty() && pa.key() == pb.key() && !pb.key().is_empty();
            let found = hints(&a, &[&b]);
            proptest::prop_assert_eq!(found.len(), usize::from(alike), "{:?} vs {:?}", a, b);
            if let Some(hint) = found.first() {
                proptest::prop_assert_eq!(&hint.shopify_sku, &b);
                proptest::prop_assert!(!hint.differences.is_empty(), "{:?} vs {:?}", a, b);
                let back = hints(&b, &[&a]);
                proptest::prop_assert_eq!(back.len(), 1);
                let mut there: Vec<String> =
                    hint.differences.iter().map(|d| format!("{d:?}")).collect();
                let mut here: Vec<String> =
                    back[0].differences.iter().map(|d| format!("{:?}", mirrored(*d))).collect();
                there.sort();
                here.sort();
                proptest::prop_assert_eq!(there, here, "{:?} vs {:?}", a, b);
                let problem = ListingProblem {
                    channel: "iconic".into(),
                    product_id: "1".into(),
                    sku: a.clone(),
                    reason: Reason::NoVariant,
                channel_says: None,
                    near_misses: found.clone(),
                };
                let text = problem.hint().unwrap();
                proptest::prop_assert!(!text.chars().any(is_hidden), "{:?}", text);
                proptest::prop_assert!(text.contains(&shown(&b)), "{:?}", text);
            }
        }

        /// The report never turns a near miss into a match: a listing is reported
        /// unless Shopify has its SKU byte for byte (on one tracked variant of a
        /// product that sells), and a reported SKU is never hinted at itself.
        #[test]
        fn the_report_hints_but_never_matches(
            shopify in proptest::collection::vec(sku(), 0..5),
            listings in proptest::collection::vec(sku(), 0..5),
        ) {
            let variants: Vec<VariantRow> = shopify
                .iter()
                .enumerate()
                .map(|(i, s)| variant(&i.to_string(), Some(s), true, "ACTIVE"))
                .collect();
            let listed: Vec<Listing> = listings
                .iter()
                .enumerate()
                .map(|(i, s)| active(&i.to_string(), s))
                .collect();
            let r = report(&variants, &[("iconic", &listed)]);
            for (i, l) in listed.iter().enumerate() {
                let exact = shopify.iter().filter(|s| **s == l.sku).count();
                let twins = listed.iter().filter(|o| o.sku == l.sku).count();
                let synced = exact == 1 && twins == 1 && !l.sku.is_empty();
                let reported = r.listings.iter().find(|p| p.product_id == i.to_string());
                proptest::prop_assert_eq!(reported.is_none(), synced, "{:?}", l.sku);
                if let Some(p) = reported {
                    proptest::prop_assert!(p.near_misses.iter().all(|n| n.shopify_sku != l.sku));
                }
            }
        }
    }
}
