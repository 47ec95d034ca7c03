//! The conversions a mapping names with `convert = ...`: money, decimal-string money, Unix
//! timestamps to UTC datetimes and dates, ISO currency codes, tables, presence and `+ 1`.

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use super::error::{MappingError, MappingErrorKind, Site};
use super::money::{self, MoneyError};
use super::timestamp;

fn money_error(site: &Site, error: MoneyError) -> MappingError {
    site.error(match error {
        MoneyError::BadCurrency(currency) => MappingErrorKind::BadCurrency(currency),
        MoneyError::BadAmount(amount) => MappingErrorKind::BadDecimal(amount),
    })
}

fn over(site: &Site, value: impl ToString, max: i64) -> MappingError {
    site.error(MappingErrorKind::OverLimit {
        value: value.to_string(),
        max,
    })
}

/// `convert = "money"`: `amount` minor units of `currency` as a decimal amount, refused above
/// `max` minor units; absent when either is absent.
pub fn money(
    site: &Site,
    amount: Option<i64>,
    currency: Option<String>,
    max: i64,
) -> Result<Option<Decimal>, MappingError> {
    let (Some(amount), Some(currency)) = (amount, currency) else {
        return Ok(None);
    };
    if amount.unsigned_abs() > max.unsigned_abs() {
        return Err(over(site, amount, max));
    }
    money::minor_to_decimal(amount, &currency)
        .map(Some)
        .map_err(|e| money_error(site, e))
}

/// `convert = "money_decimal"`: a decimal string of minor units (`unit_amount_decimal`) of
/// `currency` as a decimal amount, refused above `max` minor units.
pub fn money_decimal(
    site: &Site,
    amount: Option<String>,
    currency: Option<String>,
    max: i64,
) -> Result<Option<Decimal>, MappingError> {
    let (Some(amount), Some(currency)) = (amount, currency) else {
        return Ok(None);
    };
    let minor = money::parse_minor(&amount).map_err(|e| money_error(site, e))?;
    if minor.abs() > Decimal::from(max) {
        return Err(over(site, &amount, max));
    }
    money::minor_decimal_to_decimal(minor, &currency)
        .map(Some)
        .map_err(|e| money_error(site, e))
}

/// `convert = "timestamp"`: Unix seconds as a UTC datetime.
pub fn timestamp(
    site: &Site,
    seconds: Option<i64>,
) -> Result<Option<OffsetDateTime>, MappingError> {
    seconds
        .map(|s| timestamp::from_unix(s).map_err(|e| site.error(MappingErrorKind::Timestamp(e.0))))
        .transpose()
}

/// `convert = "date"`: Unix seconds as the UTC calendar date.
pub fn date(site: &Site, seconds: Option<i64>) -> Result<Option<Date>, MappingError> {
    Ok(timestamp(site, seconds)?.map(|datetime| datetime.date()))
}

/// `convert = "currency_code"`: the upper-case ISO code (`usd` → `USD`).
pub fn currency_code(
    site: &Site,
    currency: Option<String>,
) -> Result<Option<String>, MappingError> {
    currency
        .map(|c| money::currency_code(&c).map_err(|e| money_error(site, e)))
        .transpose()
}

/// What a table does with a value it does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlisted {
    /// Write this value (`fallback = ...`).
    Fallback(&'static str),
    /// Treat the value as absent (open targets).
    Absent,
    /// Refuse (a restricted picklist without a fallback).
    Refuse,
}

/// `convert = "table"`: the Salesforce value the table gives for a Stripe value.
pub fn table(
    site: &Site,
    value: Option<String>,
    entries: &[(&'static str, &'static str)],
    unlisted: Unlisted,
) -> Result<Option<String>, MappingError> {
    let Some(value) = value else { return Ok(None) };
    if let Some((_, to)) = entries.iter().find(|(from, _)| *from == value) {
        return Ok(Some((*to).to_string()));
    }
    match unlisted {
        Unlisted::Fallback(fallback) => Ok(Some(fallback.to_string())),
        Unlisted::Absent => Ok(None),
        Unlisted::Refuse => Err(site.error(MappingErrorKind::NotInTable(value))),
    }
}

/// `convert = "presence"`: one value when the Stripe value is there, another when it is not;
/// `None` leaves the field as it is.
pub fn presence(
    present: bool,
    when_present: Option<&str>,
    when_absent: Option<&str>,
) -> Option<String> {
    if present { when_present } else { when_absent }.map(str::to_string)
}

/// `convert = "next_integer"`: the integer + 1.
pub fn next_integer(site: &Site, value: Option<i64>) -> Result<Option<i64>, MappingError> {
    value
        .map(|n| n.checked_add(1).ok_or_else(|| over(site, n, i64::MAX)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    const SITE: Site = Site::new("test", "Field__c");

    #[test]
    fn money_uses_the_currency_exponent_and_the_limit() {
        assert_eq!(
            money(&SITE, Some(1999), Some("usd".into()), 1_000_000),
            Ok(Some(Decimal::new(1999, 2)))
        );
        assert_eq!(
            money(&SITE, Some(500), Some("jpy".into()), 1_000_000),
            Ok(Some(Decimal::new(500, 0)))
        );
        assert_eq!(
            money(&SITE, Some(1234), Some("bhd".into()), 1_000_000),
            Ok(Some(Decimal::new(1234, 3)))
        );
        assert_eq!(money(&SITE, Some(1), None, 1_000_000), Ok(None));
        let over = money(&SITE, Some(1_000_001), Some("usd".into()), 1_000_000).unwrap_err();
        assert_eq!(
            over.to_string(),
            "mapping `test`, field `Field__c`: 1000001 is over the limit of 1000000 (see [limits] and `max` in sync/mappings.toml)"
        );
        let bad = money(&SITE, Some(1), Some("dollars".into()), 10).unwrap_err();
        assert_eq!(bad.kind, MappingErrorKind::BadCurrency("dollars".into()));
    }

    #[test]
    fn decimal_strings() {
        assert_eq!(
            money_decimal(&SITE, Some("1.5".into()), Some("usd".into()), 100),
            Ok(Some("0.015".parse().unwrap()))
        );
        assert!(money_decimal(&SITE, Some("1.5e3".into()), Some("usd".into()), 100).is_err());
        assert!(money_decimal(&SITE, Some("101".into()), Some("usd".into()), 100).is_err());
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(
            timestamp(&SITE, Some(1_700_000_000)),
            Ok(Some(datetime!(2023-11-14 22:13:20 UTC)))
        );
        assert_eq!(
            date(&SITE, Some(1_700_000_000)),
            Ok(Some(date!(2023 - 11 - 14)))
        );
        assert!(timestamp(&SITE, Some(i64::MAX)).is_err());
    }

    #[test]
    fn tables() {
        let entries = [("day", "Daily"), ("month", "Monthly")];
        assert_eq!(
            table(&SITE, Some("month".into()), &entries, Unlisted::Refuse),
            Ok(Some("Monthly".into()))
        );
        assert_eq!(
            table(
                &SITE,
                Some("week".into()),
                &entries,
                Unlisted::Fallback("Other")
            ),
            Ok(Some("Other".into()))
        );
        assert_eq!(
            table(&SITE, Some("week".into()), &entries, Unlisted::Absent),
            Ok(None)
        );
        let error = table(&SITE, Some("week".into()), &entries, Unlisted::Refuse).unwrap_err();
        assert_eq!(error.kind, MappingErrorKind::NotInTable("week".into()));
        assert_eq!(
            presence(false, None, Some("one_time")),
            Some("one_time".into())
        );
        assert_eq!(presence(true, None, Some("one_time")), None);
        assert_eq!(next_integer(&SITE, Some(5)), Ok(Some(6)));
    }
}
