//! Fitting a value into its Salesforce field: text length, digits, picklist values, record ids
//! and parent references, then what an absent value does ([`skip`] or [`null`]).

use rust_decimal::{Decimal, RoundingStrategy};
use sfdc_types::{ExternalRef, Patch, Picklist};

use super::error::{MappingError, MappingErrorKind, MappingWarning, Site, WarningKind};
use super::text::{cut, preview, salesforce_length};

/// Text of at most `max` UTF-16 code units: cut with a warning when `truncate`, an error
/// otherwise.
pub fn text(
    site: &Site,
    value: Option<String>,
    max: u32,
    truncate: bool,
    warnings: &mut Vec<MappingWarning>,
) -> Result<Option<String>, MappingError> {
    let Some(value) = value else { return Ok(None) };
    let length = salesforce_length(&value);
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    if length <= limit {
        return Ok(Some(value));
    }
    if !truncate {
        return Err(site.error(MappingErrorKind::TooLong {
            length,
            max,
            preview: preview(&value),
        }));
    }
    warnings.push(site.warning(WarningKind::Truncated { length, max }));
    Ok(Some(cut(&value, limit).to_string()))
}

/// A whole number whose absolute value is at most `max`.
pub fn integer(site: &Site, value: Option<i64>, max: i64) -> Result<Option<i64>, MappingError> {
    match value {
        Some(n) if n.unsigned_abs() > max.unsigned_abs() => {
            Err(site.error(MappingErrorKind::OverLimit {
                value: n.to_string(),
                max,
            }))
        }
        other => Ok(other),
    }
}

/// A whole number at most `max`, as a decimal for a field with decimals.
pub fn integer_decimal(
    site: &Site,
    value: Option<i64>,
    max: i64,
) -> Result<Option<Decimal>, MappingError> {
    Ok(integer(site, value, max)?.map(Decimal::from))
}

/// A decimal that fits `precision` digits with `scale` after the point; extra decimals are
/// rounded (half away from zero) with a warning when `round`, an error otherwise. Too many
/// digits before the point are always an error.
pub fn decimal(
    site: &Site,
    value: Option<Decimal>,
    precision: u32,
    scale: u32,
    round: bool,
    warnings: &mut Vec<MappingWarning>,
) -> Result<Option<Decimal>, MappingError> {
    let Some(mut value) = value else {
        return Ok(None);
    };
    let integer_digits = precision.saturating_sub(scale);
    let too_many = |value: Decimal| {
        site.error(MappingErrorKind::TooManyDigits {
            value: value.to_string(),
            integer: integer_digits,
            scale,
        })
    };
    if value.normalize().scale() > scale {
        if !round {
            return Err(too_many(value));
        }
        let rounded = value.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
        warnings.push(site.warning(WarningKind::Rounded {
            from: value,
            to: rounded,
        }));
        value = rounded;
    } else if value.scale() > scale {
        // Only trailing zeros beyond the field's decimals (`0.000` of a three-decimal
        // currency): written with the field's scale, exactly.
        value.rescale(scale);
    }
    let whole = value.trunc().abs();
    let digits = if whole.is_zero() {
        0
    } else {
        u32::try_from(whole.normalize().to_string().len()).unwrap_or(u32::MAX)
    };
    if digits > integer_digits {
        return Err(too_many(value));
    }
    Ok(Some(value))
}

/// A picklist value: the value itself when the picklist has it (or is open), else `fallback`,
/// else an error listing the values.
pub fn picklist<T: Picklist>(
    site: &Site,
    value: Option<String>,
    fallback: Option<&str>,
) -> Result<Option<T>, MappingError> {
    let Some(value) = value else { return Ok(None) };
    let refused = |value: &str| {
        site.error(MappingErrorKind::NotInPicklist {
            value: value.to_string(),
            allowed: T::VALUES.join(", "),
        })
    };
    match T::from_wire(&value) {
        Ok(v) => Ok(Some(v)),
        Err(_) => match fallback {
            Some(fallback) => T::from_wire(fallback)
                .map(Some)
                .map_err(|_| refused(fallback)),
            None => Err(refused(&value)),
        },
    }
}

/// Whether `value` has the shape of a Salesforce record Id: 15 or 18 ASCII letters and digits.
pub fn is_record_id(value: &str) -> bool {
    matches!(value.len(), 15 | 18) && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A lookup by Salesforce record Id; an empty string counts as absent.
pub fn record_id(site: &Site, value: Option<String>) -> Result<Option<String>, MappingError> {
    match value {
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if !is_record_id(&v) => Err(site.error(MappingErrorKind::BadRecordId(v))),
        other => Ok(other),
    }
}

/// A reference to the parent by its external id `parent_field`.
pub fn reference<R: ExternalRef>(
    site: &Site,
    parent_field: &'static str,
    value: Option<String>,
) -> Result<Option<R>, MappingError> {
    match value {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => R::from_field(parent_field, v)
            .map(Some)
            .ok_or_else(|| site.error(MappingErrorKind::UnknownReference(parent_field))),
    }
}

/// An absent value leaves the field as it is.
pub fn skip<T>(value: Option<T>) -> Patch<T> {
    value.map_or(Patch::Skip, Patch::Set)
}

/// An absent value clears the field.
pub fn null<T>(value: Option<T>) -> Patch<T> {
    value.map_or(Patch::Null, Patch::Set)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: Site = Site::new("test", "Field__c");

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn text_is_cut_only_when_allowed_and_then_reported() {
        let mut warnings = Vec::new();
        let long = "x".repeat(90);
        let error = text(&SITE, Some(long.clone()), 80, false, &mut warnings).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("text of 90 characters does not fit the field's 80")
        );
        let cut = text(&SITE, Some(long), 80, true, &mut warnings)
            .unwrap()
            .unwrap();
        assert_eq!(cut.len(), 80);
        assert_eq!(
            warnings[0].to_string(),
            "mapping `test`, field `Field__c`: text of 90 characters cut to 80"
        );
    }

    #[test]
    fn decimals_fit_or_round_with_a_warning() {
        let mut warnings = Vec::new();
        assert_eq!(
            decimal(&SITE, Some(dec("19.99")), 18, 2, false, &mut warnings),
            Ok(Some(dec("19.99")))
        );
        let exact = decimal(&SITE, Some(dec("1.230")), 18, 2, false, &mut warnings)
            .unwrap()
            .unwrap();
        assert_eq!((exact.to_string().as_str(), warnings.len()), ("1.23", 0));
        assert!(decimal(&SITE, Some(dec("1.234")), 18, 2, false, &mut warnings).is_err());
        assert_eq!(
            decimal(&SITE, Some(dec("1.235")), 18, 2, true, &mut warnings),
            Ok(Some(dec("1.24")))
        );
        assert_eq!(
            decimal(&SITE, Some(dec("-1.235")), 18, 2, true, &mut warnings),
            Ok(Some(dec("-1.24")))
        );
        assert_eq!(warnings.len(), 2);
        assert!(decimal(&SITE, Some(dec("1000")), 5, 2, false, &mut warnings).is_err());
        assert_eq!(
            decimal(&SITE, Some(dec("999.99")), 5, 2, false, &mut warnings),
            Ok(Some(dec("999.99")))
        );
    }

    #[test]
    fn integers_respect_the_limit() {
        assert_eq!(integer(&SITE, Some(-999), 999), Ok(Some(-999)));
        let error = integer(&SITE, Some(1000), 999).unwrap_err();
        assert!(error.to_string().contains("1000 is over the limit of 999"));
    }

    #[test]
    fn record_ids() {
        assert_eq!(
            record_id(&SITE, Some("003000000000001AAA".into())),
            Ok(Some("003000000000001AAA".into()))
        );
        assert_eq!(record_id(&SITE, Some(String::new())), Ok(None));
        assert!(record_id(&SITE, Some("None".into())).is_err());
    }

    #[test]
    fn absent_values() {
        assert_eq!(skip::<i64>(None), Patch::Skip);
        assert_eq!(null::<i64>(None), Patch::Null);
        assert_eq!(null(Some(1)), Patch::Set(1));
    }
}
