//! Amounts in whole cents, as fixtures and control bodies write them (`"29.95"`). Each
//! API module renders them in its own wire form. Signed: a payment summary subtracts
//! discounts and credit.

use std::ops::{Add, Mul, Sub};
use std::str::FromStr;

use serde::Deserialize;

/// An amount in cents, written as a decimal string in fixtures (`"29.95"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Money {
    cents: i64,
}

impl Money {
    pub const ZERO: Self = Self { cents: 0 };

    pub(crate) fn cents(self) -> i64 {
        self.cents
    }
}

impl FromStr for Money {
    type Err = String;

    /// Digits with at most two decimals; no sign, no exponent (fixture amounts are
    /// prices and fees, never negative).
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not an amount like \"29.95\" (at most two decimals)");
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || text.ends_with('.')
            || !all_digits(whole)
            || !all_digits(fraction)
            || fraction.len() > 2
        {
            return Err(bad());
        }
        let cents = format!("{whole}{fraction:0<2}")
            .parse()
            .map_err(|_| bad())?;
        Ok(Self { cents })
    }
}

impl TryFrom<String> for Money {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl Add for Money {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            cents: self.cents.saturating_add(other.cents),
        }
    }
}

impl Sub for Money {
    type Output = Self;

    fn sub(self, other: Self) -> Self {
        Self {
            cents: self.cents.saturating_sub(other.cents),
        }
    }
}

impl Mul<u32> for Money {
    type Output = Self;

    fn mul(self, quantity: u32) -> Self {
        Self {
            cents: self.cents.saturating_mul(i64::from(quantity)),
        }
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_to_cents() {
        let cents = |text: &str| text.parse::<Money>().map(Money::cents);
        assert_eq!(cents("29.95"), Ok(2995));
        assert_eq!(cents("29.9"), Ok(2990));
        assert_eq!(cents("29"), Ok(2900));
        assert_eq!(cents("0.05"), Ok(5));
        for bad in ["", ".5", "-1", "1.234", "1e3", "4 9", "1.", "abc"] {
            assert!(cents(bad).is_err(), "{bad}");
        }
        let m = |text: &str| text.parse::<Money>().unwrap();
        assert_eq!((m("1") - m("6.5")).cents(), -550);
        assert_eq!((m("10.10") * 3 + m("0.01")).cents(), 3031);
    }
}
