//! Stripe amounts (integers in the currency's minor unit) to decimal amounts, exactly.
//!
//! Stripe sends every amount as an integer count of the currency's smallest unit: cents for USD,
//! whole yen for JPY, fils for BHD. Dividing every amount by 100 is wrong for the zero-decimal and
//! three-decimal currencies, so the exponent comes from the currency, per Stripe's currency list.
//! No floating point is involved anywhere.

use rust_decimal::Decimal;

/// Currencies Stripe treats as zero-decimal: the amount is in whole units.
pub const ZERO_DECIMAL: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Currencies Stripe treats as three-decimal: the amount is in thousandths.
pub const THREE_DECIMAL: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];

/// Why an amount could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The currency is not a three-letter ISO 4217 code.
    #[error("currency {0:?} is not a three-letter ISO code")]
    BadCurrency(String),
    /// The amount is not a plain decimal number (digits, an optional sign and point).
    #[error("amount {0:?} is not a decimal number")]
    BadAmount(String),
}

/// Number of decimal places of `currency`'s minor unit in Stripe's API (0, 2 or 3).
///
/// ISK, HUF and TWD are charged in whole units but stay two-decimal in the API, so they get 2.
pub fn exponent(currency: &str) -> Result<u32, MoneyError> {
    let code = currency_code(currency)?;
    Ok(if ZERO_DECIMAL.contains(&code.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&code.as_str()) {
        3
    } else {
        2
    })
}

/// The upper-case ISO code of a Stripe currency (`usd` → `USD`).
pub fn currency_code(currency: &str) -> Result<String, MoneyError> {
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(currency.to_ascii_uppercase())
    } else {
        Err(MoneyError::BadCurrency(currency.to_string()))
    }
}

/// `amount` minor units of `currency` as a decimal amount: `1999 usd` → `19.99`, `500 jpy` → `500`,
/// `1234 bhd` → `1.234`.
pub fn minor_to_decimal(amount: i64, currency: &str) -> Result<Decimal, MoneyError> {
    Ok(Decimal::new(amount, exponent(currency)?))
}

/// A decimal string in minor units (Stripe's `unit_amount_decimal`, e.g. `"1.5"` cents) as a
/// decimal amount of `currency`: `"1.5" usd` → `0.015`; `None` when the string is not a plain
/// decimal number.
pub fn minor_decimal_str_to_decimal(
    amount: &str,
    currency: &str,
) -> Result<Option<Decimal>, MoneyError> {
    let exp = exponent(currency)?;
    Ok(parse_minor(amount).ok().and_then(|minor| shift(minor, exp)))
}

/// Parses a plain decimal number (`-12`, `1.5`), refusing exponents, spaces and anything else
/// `Decimal` would otherwise guess at.
pub fn parse_minor(amount: &str) -> Result<Decimal, MoneyError> {
    let digits = amount.strip_prefix('-').unwrap_or(amount);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && (fraction.is_empty() != digits.contains('.'));
    if !plain {
        return Err(MoneyError::BadAmount(amount.to_string()));
    }
    amount
        .parse::<Decimal>()
        .map_err(|_| MoneyError::BadAmount(amount.to_string()))
}

/// `minor` minor units (possibly fractional) of `currency` as a decimal amount, exactly:
/// `1.5` cents of USD → `0.015`.
pub fn minor_decimal_to_decimal(minor: Decimal, currency: &str) -> Result<Decimal, MoneyError> {
    let exp = exponent(currency)?;
    shift(minor, exp).ok_or_else(|| MoneyError::BadAmount(minor.to_string()))
}

/// `value` / 10^`places` by moving the decimal point (no division, no rounding); `None` beyond
/// the 28 decimal places a `Decimal` holds.
fn shift(value: Decimal, places: u32) -> Option<Decimal> {
    let mut shifted = value;
    shifted.set_scale(value.scale() + places).ok()?;
    Some(shifted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_follow_stripe_s_list() {
        for (currency, exp) in [
            ("usd", 2),
            ("EUR", 2),
            ("jpy", 0),
            ("krw", 0),
            ("ugx", 0),
            ("bhd", 3),
            ("kwd", 3),
            ("isk", 2),
            ("huf", 2),
            ("twd", 2),
        ] {
            assert_eq!(exponent(currency), Ok(exp), "{currency}");
        }
    }

    #[test]
    fn amounts_convert_exactly() {
        assert_eq!(
            minor_to_decimal(1999, "usd").map(|d| d.to_string()),
            Ok("19.99".into())
        );
        assert_eq!(
            minor_to_decimal(500, "jpy").map(|d| d.to_string()),
            Ok("500".into())
        );
        assert_eq!(
            minor_to_decimal(1234, "bhd").map(|d| d.to_string()),
            Ok("1.234".into())
        );
        assert_eq!(
            minor_to_decimal(-250, "eur").map(|d| d.to_string()),
            Ok("-2.50".into())
        );
        assert_eq!(
            minor_decimal_str_to_decimal("1.5", "usd").map(|d| d.map(|d| d.to_string())),
            Ok(Some("0.015".into()))
        );
    }

    #[test]
    fn decimal_strings_are_plain_numbers() {
        assert_eq!(parse_minor("12.50"), Ok(Decimal::new(1250, 2)));
        assert_eq!(parse_minor("-3"), Ok(Decimal::new(-3, 0)));
        for bad in ["", "1e3", " 1", "1.", ".5", "1.2.3", "abc", "--1"] {
            assert!(parse_minor(bad).is_err(), "{bad}");
        }
        assert_eq!(
            minor_decimal_to_decimal(Decimal::new(15, 1), "jpy").map(|d| d.to_string()),
            Ok("1.5".into())
        );
        assert_eq!(
            minor_decimal_to_decimal(Decimal::new(15, 1), "kwd").map(|d| d.to_string()),
            Ok("0.0015".into())
        );
    }

    #[test]
    fn bad_currencies_are_refused() {
        assert_eq!(exponent("us"), Err(MoneyError::BadCurrency("us".into())));
        assert_eq!(exponent("u5d"), Err(MoneyError::BadCurrency("u5d".into())));
    }
}
