//! How Hard To Find writes amounts.

use serde_json::Value;

use crate::money::Money;

/// UNCONFIRMED: amounts answer as JSON strings with two decimals (`"29.95"`, `"-5.00"`);
/// change the wire form here, and only here.
pub(super) fn wire_money(amount: Money) -> Value {
    let sign = if amount.cents() < 0 { "-" } else { "" };
    let cents = amount.cents().unsigned_abs();
    Value::String(format!("{sign}{}.{:02}", cents / 100, cents % 100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_answer_as_two_decimal_strings() {
        let m = |text: &str| text.parse::<Money>().unwrap();
        assert_eq!(wire_money(m("29.9")), "29.90");
        assert_eq!(wire_money(m("0.05")), "0.05");
        assert_eq!(wire_money(m("1") - m("6.5")), "-5.50");
        assert_eq!(wire_money(m("10.10") * 3 + m("0.01")), "30.31");
        assert_eq!(wire_money(Money::ZERO), "0.00");
    }
}
