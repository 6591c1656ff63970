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
        let value = int
            .checked_mul(SCALE)
            .and_then(|v| v.checked_add(frac))
            .ok_or_else(bad)?;
        Ok(Money(if negative { -value } else { value }))
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
}
