//! Text forms of Salesforce values, shared by JSON (REST) and CSV (Bulk API 2.0).
//!
//! - date: `2024-01-02`
//! - datetime: written `2024-01-02T03:04:05.000Z` (UTC, milliseconds); read from that,
//!   from Salesforce's `2024-01-02T03:04:05.000+0000` and from RFC 3339 (`+01:00`)
//! - time: written `03:04:05.000Z`; read with or without fraction and `Z`
//! - numbers: plain decimal text, never an exponent

use rust_decimal::Decimal;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A text that is not a valid value of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {expected}: {value:?}")]
pub struct FormatError {
    /// What was expected, e.g. `"date (YYYY-MM-DD)"`.
    pub expected: &'static str,
    /// The text that was given.
    pub value: String,
}

impl FormatError {
    /// An error for `value`, which is not a valid `expected`.
    pub fn new(expected: &'static str, value: &str) -> Self {
        Self {
            expected,
            value: value.to_owned(),
        }
    }
}

const DATE: &str = "date (YYYY-MM-DD)";
const DATETIME: &str = "datetime (YYYY-MM-DDTHH:MM:SS.sssZ)";
const TIME: &str = "time (HH:MM:SS.sssZ)";
const DECIMAL: &str = "number";
const INTEGER: &str = "whole number";
const BOOLEAN: &str = "boolean (true or false)";

/// `2024-01-02`.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<Date, FormatError> {
    parse_date_as(text, DATE)
}

fn parse_date_as(text: &str, expected: &'static str) -> Result<Date, FormatError> {
    let error = || FormatError::new(expected, text);
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(error());
    }
    let year = digits(&text[0..4]).ok_or_else(error)?;
    let month = digits(&text[5..7]).ok_or_else(error)?;
    let day = digits(&text[8..10]).ok_or_else(error)?;
    let month = Month::try_from(u8::try_from(month).map_err(|_| error())?).map_err(|_| error())?;
    Date::from_calendar_date(year as i32, month, day as u8).map_err(|_| error())
}

/// `2024-01-02T03:04:05.000Z`: converted to UTC, cut to milliseconds.
pub fn format_datetime(datetime: OffsetDateTime) -> String {
    let utc = datetime
        .checked_to_offset(UtcOffset::UTC)
        .unwrap_or(datetime);
    format!("{}T{}", format_date(utc.date()), format_time(utc.time()))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]` followed by `Z`, `+HHMM` or `+HH:MM`.
pub fn parse_datetime(text: &str) -> Result<OffsetDateTime, FormatError> {
    let error = || FormatError::new(DATETIME, text);
    if text.len() < 11 || !text.is_char_boundary(10) {
        return Err(error());
    }
    let (date, rest) = text.split_at(10);
    let date = parse_date_as(date, DATETIME)?;
    let rest = rest.strip_prefix(['T', 't', ' ']).ok_or_else(error)?;
    let (clock, offset) = split_offset(rest).ok_or_else(error)?;
    let time = parse_clock(clock).ok_or_else(error)?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// `03:04:05.000Z`, cut to milliseconds.
pub fn format_time(time: Time) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        time.hour(),
        time.minute(),
        time.second(),
        time.millisecond()
    )
}

/// Parses `HH:MM:SS[.fraction][Z]`.
pub fn parse_time(text: &str) -> Result<Time, FormatError> {
    let clock = text.strip_suffix(['Z', 'z']).unwrap_or(text);
    parse_clock(clock).ok_or_else(|| FormatError::new(TIME, text))
}

/// Plain decimal text, keeping the scale: `12.50`, `-0.001`, never an exponent.
pub fn format_decimal(value: &Decimal) -> String {
    value.to_string()
}

/// Parses plain (`1234.56`, `-3`, `+0.5`) or scientific (`1.5e3`) decimal text exactly;
/// fails rather than rounding when the text has more digits than a decimal holds.
pub fn parse_decimal(text: &str) -> Result<Decimal, FormatError> {
    let error = || FormatError::new(DECIMAL, text);
    let trimmed = text.trim();
    if trimmed.is_empty()
        || !trimmed
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return Err(error());
    }
    match trimmed.split_once(['e', 'E']) {
        None => Decimal::from_str_exact(trimmed).map_err(|_| error()),
        Some((mantissa, exponent)) => {
            let mantissa = Decimal::from_str_exact(mantissa).map_err(|_| error())?;
            let exponent: i64 = exponent.parse().map_err(|_| error())?;
            shift_exactly(mantissa, exponent).ok_or_else(error)
        }
    }
}

/// `value` times ten to the power `exponent`, or `None` if that needs rounding or overflows.
fn shift_exactly(value: Decimal, exponent: i64) -> Option<Decimal> {
    let scale = i64::from(value.scale()) - exponent;
    if scale >= 0 {
        let scale = u32::try_from(scale).ok()?;
        Decimal::try_from_i128_with_scale(value.mantissa(), scale).ok()
    } else {
        let factor = 10i128.checked_pow(u32::try_from(-scale).ok()?)?;
        Decimal::try_from_i128_with_scale(value.mantissa().checked_mul(factor)?, 0).ok()
    }
}

/// Parses a whole number: `3`, `3.0` and `3e2` are accepted, `3.5` is not.
pub fn parse_integer(text: &str) -> Result<i64, FormatError> {
    let error = || FormatError::new(INTEGER, text);
    let decimal = parse_decimal(text).map_err(|_| error())?;
    if !decimal.fract().is_zero() {
        return Err(error());
    }
    i64::try_from(decimal.trunc()).map_err(|_| error())
}

/// `true` or `false`.
pub fn format_bool(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// Parses `true` or `false`, in any case.
pub fn parse_bool(text: &str) -> Result<bool, FormatError> {
    if text.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(FormatError::new(BOOLEAN, text))
    }
}

/// Decimal value of a run of ASCII digits.
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `HH:MM:SS` with an optional fraction of 1 to 9 digits.
fn parse_clock(text: &str) -> Option<Time> {
    let (hms, fraction) = match text.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (text, None),
    };
    let bytes = hms.as_bytes();
    if bytes.len() != 8 || bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    let hour = digits(&hms[0..2])?;
    let minute = digits(&hms[3..5])?;
    let second = digits(&hms[6..8])?;
    let nanos = match fraction {
        None => 0,
        Some(fraction) => {
            let value = digits(fraction)?;
            value * 10u32.pow(9 - fraction.len() as u32)
        }
    };
    Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).ok()
}

/// Splits a trailing `Z`, `+HHMM` or `+HH:MM` offset from a clock time.
fn split_offset(text: &str) -> Option<(&str, UtcOffset)> {
    if let Some(clock) = text.strip_suffix(['Z', 'z']) {
        return Some((clock, UtcOffset::UTC));
    }
    let sign_at = text.rfind(['+', '-'])?;
    let (clock, offset) = text.split_at(sign_at);
    let negative = offset.starts_with('-');
    let offset = &offset[1..];
    let (hours, minutes) = match offset.len() {
        4 => (&offset[0..2], &offset[2..4]),
        5 if offset.as_bytes()[2] == b':' => (&offset[0..2], &offset[3..5]),
        _ => return None,
    };
    let hours = digits(hours)? as i8;
    let minutes = digits(minutes)? as i8;
    let (hours, minutes) = if negative {
        (-hours, -minutes)
    } else {
        (hours, minutes)
    };
    Some((clock, UtcOffset::from_hms(hours, minutes, 0).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, time};

    #[test]
    fn dates() {
        assert_eq!(format_date(date!(2024 - 01 - 02)), "2024-01-02");
        assert_eq!(parse_date("2024-02-29").unwrap(), date!(2024 - 02 - 29));
        for bad in ["2023-02-29", "2024-1-02", "2024/01/02", "", "2024-01-02T"] {
            let error = parse_date(bad).unwrap_err();
            assert_eq!(error.value, bad);
        }
        assert_eq!(
            parse_date("02/01/2024").unwrap_err().to_string(),
            r#"invalid date (YYYY-MM-DD): "02/01/2024""#
        );
    }

    #[test]
    fn datetimes_in_every_salesforce_form() {
        let expected = datetime!(2024-01-02 03:04:05.123 UTC);
        for text in [
            "2024-01-02T03:04:05.123+0000",
            "2024-01-02T03:04:05.123Z",
            "2024-01-02T04:04:05.123+01:00",
            "2024-01-01T22:04:05.123-0500",
            "2024-01-02t03:04:05.123z",
        ] {
            assert_eq!(parse_datetime(text).unwrap(), expected, "{text}");
        }
        assert_eq!(
            parse_datetime("2024-01-02T03:04:05Z").unwrap(),
            datetime!(2024-01-02 03:04:05 UTC)
        );
        assert_eq!(
            format_datetime(datetime!(2024-01-02 04:04:05.123456 +01:00)),
            "2024-01-02T03:04:05.123Z"
        );
        for bad in [
            "2024-01-02T03:04:05",
            "2024-01-02",
            "2024-01-02T25:00:00Z",
            "2024-01-02T03:04:05+1",
            "2024-01-02T03:04:05.Z",
            "2024-01-02é03:04:05Z",
        ] {
            assert_eq!(parse_datetime(bad).unwrap_err().value, bad, "{bad}");
        }
    }

    #[test]
    fn times() {
        assert_eq!(format_time(time!(13:30:00.5)), "13:30:00.500Z");
        assert_eq!(parse_time("13:30:00.500Z").unwrap(), time!(13:30:00.5));
        assert_eq!(parse_time("13:30:00").unwrap(), time!(13:30));
        assert!(parse_time("1:30:00").is_err());
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(
            parse_decimal("1234567890123456.78").unwrap().to_string(),
            "1234567890123456.78"
        );
        assert_eq!(parse_decimal("12.50").unwrap().to_string(), "12.50");
        assert_eq!(parse_decimal("1.5e3").unwrap(), dec("1500"));
        assert_eq!(parse_decimal("25E-2").unwrap(), dec("0.25"));
        assert_eq!(format_decimal(&dec("0.0000001")), "0.0000001");
        for bad in [
            "",
            "abc",
            "1.2.3",
            "1e",
            "0.1234567890123456789012345678901",
        ] {
            assert!(parse_decimal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_integer("3").unwrap(), 3);
        assert_eq!(parse_integer("3.0").unwrap(), 3);
        assert_eq!(parse_integer("-4e2").unwrap(), -400);
        assert_eq!(
            parse_integer("3.5").unwrap_err().to_string(),
            r#"invalid whole number: "3.5""#
        );
        assert!(parse_integer("99999999999999999999").is_err());
    }

    #[test]
    fn booleans() {
        assert!(parse_bool("TRUE").unwrap());
        assert!(!parse_bool("false").unwrap());
        assert!(parse_bool("1").is_err());
        assert_eq!(format_bool(true), "true");
    }
}
