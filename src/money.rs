//! Exact money amounts. Prices travel as decimal strings (Shopify's `Decimal` scalar)
//! or JSON numbers (The Iconic v2); both are read from their text, never through f64.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Ten-thousandths of a currency unit: every ISO 4217 currency has at most 4 decimals.
const SCALE: i64 = 10_000;
const DIGITS: usize = 4;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is not an amount like \"49.95\"", shown(.0))]
pub struct BadAmount(pub String);

/// The refused text, quoted when it looks like a number (what a merchant needs to see);
/// anything else is only described, since it could be any of the customer's data.
fn shown(text: &str) -> String {
    let numberish = text.len() <= 40
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E' | '"'));
    if numberish || matches!(text, "null" | "true" | "false") {
        format!("{text:?}")
    } else {
        format!("a value of {} characters", text.chars().count())
    }
}

impl Money {
    pub const ZERO: Money = Money(0);

    /// A whole number of currency units.
    pub const fn units(n: i64) -> Money {
        Money(n.saturating_mul(SCALE))
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn times(self, n: i64) -> Money {
        Money(self.0.saturating_mul(n))
    }

    /// Reads a JSON token's text: a number (`49.95`) or a string holding one (`"49.95"`).
    pub fn from_json_text(text: &str) -> Result<Money, BadAmount> {
        let text = text.trim();
        let inner = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        inner.parse()
    }
}

impl FromStr for Money {
    type Err = BadAmount;

    /// `"19.99"`, `"-1"`, `"0.5"`; not `"1e2"`, `".5"` or `"1."`: amounts are plain decimals.
    fn from_str(text: &str) -> Result<Self, BadAmount> {
        let bad = || BadAmount(text.to_string());
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || digits.ends_with('.') || !all_digits(int) || !all_digits(frac) {
            return Err(bad());
        }
        // Trailing zeros beyond the scale carry no value ("49.950000" is 49.95).
        let frac = frac.trim_end_matches('0');
        if frac.len() > DIGITS {
            return Err(bad());
        }
        let int: i64 = int.parse().map_err(|_| bad())?;
        let frac: i64 = format!("{frac:0<DIGITS$}").parse().map_err(|_| bad())?;
        // Signed before adding up, so the most negative amount (what saturating
        // arithmetic can reach, and prints) reads back too.
        let sign = if negative { -1 } else { 1 };
        let value = int
            .checked_mul(sign * SCALE)
            .and_then(|v| v.checked_add(sign * frac))
            .ok_or_else(bad)?;
        Ok(Money(value))
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

/// At least two decimals (`"50.00"`, `"49.95"`, `"0.125"`), as a merchant reads prices;
/// `{:+}` signs positive amounts too (differences).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = match self.0 {
            v if v < 0 => "-",
            v if v > 0 && f.sign_plus() => "+",
            _ => "",
        };
        let abs = self.0.unsigned_abs();
        let scale = SCALE.unsigned_abs();
        let frac = format!("{:0DIGITS$}", abs % scale);
        let frac = frac.trim_end_matches('0');
        write!(f, "{sign}{}.{frac:0<2}", abs / scale)
    }
}

/// A decimal string, as Shopify's `Decimal` scalar expects.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// From the token's raw text, so a JSON number keeps its exact digits.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        Money::from_json_text(raw.get()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_exactly() {
        assert_eq!(m("49.95").to_string(), "49.95");
        assert_eq!(m("50").to_string(), "50.00");
        assert_eq!(m("50.0").to_string(), "50.00");
        assert_eq!(m("0.125").to_string(), "0.125");
        assert_eq!(m("-3.5").to_string(), "-3.50");
        assert_eq!(m("49.950000").to_string(), "49.95");
        assert_eq!(format!("{:+}", m("0.05")), "+0.05");
        assert_eq!(format!("{:+}", m("-0.05")), "-0.05");
        for bad in ["", ".5", "1.", "1e2", "4 9", "1.23456", "--1", "NaN"] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?}");
        }
    }

    /// Found by `every_amount_prints_and_reads_back`: the most negative amount (where
    /// a saturating subtraction ends) printed as text that did not read back.
    #[test]
    fn the_most_negative_amount_reads_back() {
        let floor = Money::ZERO - Money(i64::MAX) - Money::units(1);
        assert_eq!(floor, Money(i64::MIN));
        assert_eq!(floor.to_string(), "-922337203685477.5808");
        assert_eq!(m("-922337203685477.5808"), floor);
        assert!("922337203685477.5808".parse::<Money>().is_err());
        assert!("-922337203685477.5809".parse::<Money>().is_err());
    }

    #[test]
    fn arithmetic_is_exact_where_floats_are_not() {
        // 0.1 + 0.2 != 0.3 in f64.
        assert_eq!(m("0.1") + m("0.2"), m("0.3"));
        assert_eq!(m("19.99").times(3), m("59.97"));
        assert_eq!([m("49.95"), m("10.05")].into_iter().sum::<Money>(), m("60"));
        assert_eq!(m("10") - m("10.01"), m("-0.01"));
    }

    #[test]
    fn json_numbers_and_strings_keep_their_digits() {
        #[derive(Deserialize)]
        struct Row {
            a: Money,
            b: Money,
            c: Option<Money>,
        }
        // Through f64 this would round to 0.3; its exact text has too many decimals.
        let err = serde_json::from_str::<Row>(r#"{"a": 0.30000000000000004, "b": "1"}"#);
        assert!(err.is_err());
        let row: Row = serde_json::from_str(r#"{"a": 49.95, "b": "59.97", "c": 7}"#).unwrap();
        assert_eq!(
            (row.a, row.b, row.c),
            (m("49.95"), m("59.97"), Some(m("7")))
        );
        assert_eq!(serde_json::to_string(&row.a).unwrap(), r#""49.95""#);
    }

    /// Amounts from every corner of the range, the edges most of all.
    fn any_amount() -> impl proptest::strategy::Strategy<Value = i64> {
        use proptest::prelude::*;
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MIN + 1),
            Just(i64::MAX),
            -100_000_000i64..100_000_000,
            any::<i64>(),
        ]
    }

    proptest::proptest! {
        /// Every amount prints as text that reads back as the same amount, bare or as
        /// a JSON string, however large.
        #[test]
        fn every_amount_prints_and_reads_back(v in any_amount()) {
            let amount = Money(v);
            let text = amount.to_string();
            proptest::prop_assert_eq!(text.parse::<Money>(), Ok(amount), "{}", text);
            proptest::prop_assert_eq!(Money::from_json_text(&text), Ok(amount));
            proptest::prop_assert_eq!(Money::from_json_text(&format!("\"{text}\"")), Ok(amount));
            let json = serde_json::to_string(&amount).unwrap();
            proptest::prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), amount);
        }

        /// A decimal of up to 4 places reads as exactly its digits (computed here in
        /// integers, never through f64) and prints in the merchant's form: at least
        /// two places, no trailing zeros beyond them.
        #[test]
        fn decimals_of_up_to_four_places_are_exact(
            negative in proptest::prelude::any::<bool>(),
            int in proptest::prop_oneof![0i64..1000, 0i64..=922_337_203_685_476],
            frac in "[0-9]{0,4}",
            zeros in 0usize..4,
        ) {
            let text = format!(
                "{}{int}{}{frac}{}",
                if negative { "-" } else { "" },
                if frac.is_empty() && zeros == 0 { "" } else { "." },
                "0".repeat(zeros),
            );
            let padded: i64 = format!("{frac:0<4}").parse().unwrap();
            let units = int * 10_000 + padded;
            let expected = Money(if negative { -units } else { units });
            proptest::prop_assert_eq!(text.parse::<Money>(), Ok(expected), "{}", text);
            let places = frac.trim_end_matches('0');
            let shown = format!(
                "{}{int}.{places:0<2}",
                if negative && units != 0 { "-" } else { "" },
            );
            proptest::prop_assert_eq!(expected.to_string(), shown);
        }

        /// `from_json_text` reads exactly what `parse` reads, bare, quoted or padded
        /// with whitespace; and an amount it refuses is only quoted when it looks like
        /// a number (anything else could be a customer's data).
        #[test]
        fn json_text_accepts_what_parse_accepts(
            text in proptest::prop_oneof![
                "-?[0-9]{0,6}(\\.[0-9]{0,6})?",
                "[-+.eE0-9\" ]{0,12}",
                proptest::prelude::any::<String>(),
            ],
        ) {
            let parsed = text.parse::<Money>();
            let quoted = text.starts_with('"') && text.ends_with('"') && text.len() > 1;
            if text.trim() == text && !quoted {
                proptest::prop_assert_eq!(&Money::from_json_text(&text), &parsed);
            }
            proptest::prop_assert_eq!(&Money::from_json_text(&format!(" \"{text}\"\n")), &parsed);
            // Customer data where an amount should be is described, never repeated.
            let private = format!("{text}jo@example.com");
            let e = Money::from_json_text(&private).unwrap_err();
            proptest::prop_assert!(!e.to_string().contains("jo@"), "{}", e);
        }

        /// The arithmetic saturates (never a panic, never a wrap from a huge charge to
        /// a credit), and is exact wherever nothing saturates.
        #[test]
        fn arithmetic_saturates_and_is_exact_in_range(
            a in any_amount(),
            b in any_amount(),
            n in proptest::prop_oneof![-10i64..10, proptest::prelude::any::<i64>()],
        ) {
            let (x, y) = (Money(a), Money(b));
            let (sum, difference, product) = (x + y, x - y, x.times(n));
            proptest::prop_assert_eq!(sum.0, a.saturating_add(b));
            proptest::prop_assert_eq!(difference.0, a.saturating_sub(b));
            proptest::prop_assert_eq!(product.0, a.saturating_mul(n));
            proptest::prop_assert_eq!(x + y, y + x);
            if a.checked_add(b).is_some() {
                proptest::prop_assert_eq!(x + y - y, x);
            }
            if a.checked_sub(b).is_some() {
                proptest::prop_assert_eq!(x - y + y, x);
            }
            if let Some(p) = a.checked_mul(n) {
                proptest::prop_assert_eq!(product.0, p);
            }
            let many = [x, y, x, y];
            proptest::prop_assert_eq!(many.into_iter().sum::<Money>(), x + y + x + y);
        }
    }

    /// Any text where an amount should be: never a panic; what is read prints and
    /// reads back and was a plain decimal; what is refused is quoted only when short
    /// and number-like, so customer data never reaches a message.
    #[test]
    #[ignore = "fuzzing: make fuzz"]
    fn fuzz_money_from_json_text() {
        use crate::http::fuzz::{self, nasty_string, pick, random_bytes, random_string};
        fuzz::run("money_from_json_text", |rng, input| {
            let mut text = match rng.u8(..6) {
                0 => nasty_string(rng),
                1 => String::from_utf8_lossy(&random_bytes(rng, 30)).into_owned(),
                2 => random_string(rng, 12),
                _ => (0..rng.usize(0..24))
                    .map(|_| {
                        *pick(
                            rng,
                            &['0', '1', '9', '.', '-', '+', 'e', '"', ' ', '@', '0'],
                        )
                    })
                    .collect(),
            };
            if rng.bool() {
                let at = rng.usize(..=text.len());
                if text.is_char_boundary(at) {
                    text.insert_str(at, &rng.u64(..).to_string());
                }
            }
            *input = text.clone();
            let checks = [
                Money::from_json_text(&text),
                serde_json::from_str::<Money>(&text).map_err(|e| BadAmount(e.to_string())),
            ];
            for result in checks {
                match result {
                    Ok(amount) => {
                        let inner = text.trim().trim_matches('"');
                        let plain = inner.strip_prefix('-').unwrap_or(inner);
                        if !plain.chars().all(|c| c.is_ascii_digit() || c == '.') {
                            return Err(format!("read {amount} from a text that is not a decimal"));
                        }
                        if amount.to_string().parse::<Money>() != Ok(amount) {
                            return Err(format!("{amount} does not read back"));
                        }
                    }
                    Err(e) => {
                        let message = e.to_string();
                        if text.contains('@') && message.contains('@') {
                            return Err(format!("repeats the text: {message}"));
                        }
                    }
                }
            }
            Ok(())
        });
    }
}
