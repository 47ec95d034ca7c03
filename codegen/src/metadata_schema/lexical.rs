//! Lexical checks of text against XML Schema built-in types.

use super::xsd::Builtin;

/// Checks `text` against a built-in type; on failure, says what the text is not.
///
/// Whitespace around booleans and numbers is ignored, as XML Schema collapses it.
/// Booleans must be `true` or `false` (Salesforce does not accept `1` and `0`).
pub(crate) fn check_builtin(builtin: Builtin, text: &str) -> Result<(), String> {
    let value = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    let ok = match builtin {
        Builtin::AnyType | Builtin::Text(_) => true,
        Builtin::Boolean => matches!(value, "true" | "false"),
        Builtin::Int => is_integer(value) && value.parse::<i32>().is_ok(),
        Builtin::Long => is_integer(value) && value.parse::<i64>().is_ok(),
        Builtin::Short => is_integer(value) && value.parse::<i16>().is_ok(),
        Builtin::Byte => is_integer(value) && value.parse::<i8>().is_ok(),
        Builtin::Integer => is_integer(value),
        Builtin::Decimal => is_decimal(value),
        Builtin::Double | Builtin::Float => is_floating(value),
    };
    if ok {
        return Ok(());
    }
    Err(match builtin {
        Builtin::Boolean => "is not a boolean (expected true or false)".to_owned(),
        Builtin::Int => range_message("an int", i32::MIN.into(), i32::MAX.into()),
        Builtin::Long => range_message("a long", i64::MIN.into(), i64::MAX.into()),
        Builtin::Short => range_message("a short", i16::MIN.into(), i16::MAX.into()),
        Builtin::Byte => range_message("a byte", i8::MIN.into(), i8::MAX.into()),
        Builtin::Integer => "is not an integer (a whole number)".to_owned(),
        Builtin::Decimal => "is not a decimal (a number such as 12 or -0.5)".to_owned(),
        Builtin::Double => "is not a double (a number such as 12, -0.5 or 1.5E3)".to_owned(),
        Builtin::Float => "is not a float (a number such as 12, -0.5 or 1.5E3)".to_owned(),
        Builtin::AnyType | Builtin::Text(_) => unreachable!("text types accept any value"),
    })
}

fn range_message(what: &str, min: i128, max: i128) -> String {
    format!("is not {what} (a whole number from {min} to {max})")
}

/// `[+-]?[0-9]+`
fn is_integer(value: &str) -> bool {
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)`
fn is_decimal(value: &str) -> bool {
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole)
        && fraction.is_none_or(all_digits)
        && (!whole.is_empty() || fraction.is_some_and(|f| !f.is_empty()))
}

/// A decimal with an optional exponent, or `INF`, `+INF`, `-INF`, `NaN`.
fn is_floating(value: &str) -> bool {
    if matches!(value, "INF" | "+INF" | "-INF" | "NaN") {
        return true;
    }
    match value.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => is_decimal(mantissa) && is_integer(exponent),
        None => is_decimal(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_are_true_or_false_only() {
        assert!(check_builtin(Builtin::Boolean, "true").is_ok());
        assert!(check_builtin(Builtin::Boolean, " false\n").is_ok());
        for bad in ["True", "1", "0", "yes", ""] {
            assert!(check_builtin(Builtin::Boolean, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn integers_respect_their_range() {
        assert!(check_builtin(Builtin::Int, "-2147483648").is_ok());
        assert!(check_builtin(Builtin::Int, "+42").is_ok());
        assert_eq!(
            check_builtin(Builtin::Int, "2147483648"),
            Err("is not an int (a whole number from -2147483648 to 2147483647)".to_owned())
        );
        assert!(check_builtin(Builtin::Int, "1.0").is_err());
        assert!(check_builtin(Builtin::Int, "").is_err());
        assert!(check_builtin(Builtin::Long, "9223372036854775807").is_ok());
        assert!(check_builtin(Builtin::Integer, "123456789012345678901234567890").is_ok());
        assert!(check_builtin(Builtin::Integer, "12a").is_err());
    }

    #[test]
    fn floating_point_follows_xml_schema_lexical_space() {
        for good in [
            "1", "-0.5", ".5", "5.", "1.5E3", "1e-7", "INF", "-INF", "NaN",
        ] {
            assert!(check_builtin(Builtin::Double, good).is_ok(), "{good:?}");
        }
        for bad in [
            "", ".", "1.2.3", "e5", "1e", "inf", "nan", "Infinity", "1,5", "0x10",
        ] {
            assert!(check_builtin(Builtin::Double, bad).is_err(), "{bad:?}");
        }
        assert!(check_builtin(Builtin::Decimal, "1e3").is_err());
    }
}
