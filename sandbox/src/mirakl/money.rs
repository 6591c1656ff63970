//! How Mirakl writes amounts: JSON numbers (its SDKs read them as floats), which the
//! sandbox writes from whole cents so no float rounding ever shows.

use serde_json::Value;

use crate::money::Money;
use crate::raw_json::token;

/// UNCONFIRMED: the shortest decimal form (`29.95`, `29.9`, `8`), as a Java number
/// serialiser writes it; clients must read any JSON number. Used by CSV exports too.
pub(super) fn decimal(amount: Money) -> String {
    let sign = if amount.cents() < 0 { "-" } else { "" };
    let cents = amount.cents().unsigned_abs();
    let (whole, fraction) = (cents / 100, cents % 100);
    match (fraction, fraction % 10) {
        (0, _) => format!("{sign}{whole}"),
        (_, 0) => format!("{sign}{whole}.{}", fraction / 10),
        _ => format!("{sign}{whole}.{fraction:02}"),
    }
}

/// An amount as a JSON number token (answer it with [`crate::raw_json::Raw`]).
pub(super) fn wire_money(amount: Money) -> Value {
    token(&decimal(amount))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_shortest_decimals() {
        let m = |text: &str| text.parse::<Money>().unwrap();
        assert_eq!(decimal(m("29.95")), "29.95");
        assert_eq!(decimal(m("29.90")), "29.9");
        assert_eq!(decimal(m("8.00")), "8");
        assert_eq!(decimal(m("0.05")), "0.05");
        assert_eq!(decimal(m("1") - m("6.5")), "-5.5");
    }
}
