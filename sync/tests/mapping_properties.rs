//! Properties of the money and time conversions, over many generated values. Amounts are
//! integers and `Decimal`s from end to end: no floating point appears, in the code or here.

use proptest::prelude::*;
use rust_decimal::Decimal;
use stripe_sfdc_sync::mapping::{MappingErrorKind, Site, convert, money, timestamp, write};

const SITE: Site = Site::new("properties", "Field__c");

/// Currencies of each exponent in Stripe's list, mixed case as Stripe and people write them.
fn currency() -> impl Strategy<Value = (&'static str, u32)> {
    prop::sample::select(vec![
        ("usd", 2),
        ("EUR", 2),
        ("gbp", 2),
        ("huf", 2),
        ("jpy", 0),
        ("KRW", 0),
        ("vnd", 0),
        ("clp", 0),
        ("bhd", 3),
        ("KWD", 3),
        ("jod", 3),
        ("tnd", 3),
    ])
}

/// Seconds between the years -9999 and 9999, the range Salesforce and `time` share.
const MIN_SECONDS: i64 = -377_705_116_800;
const MAX_SECONDS: i64 = 253_402_300_799;

proptest! {
    #[test]
    fn minor_units_keep_every_digit((code, exp) in currency(), amount in any::<i64>()) {
        let decimal = money::minor_to_decimal(amount, code).unwrap();
        // The amount is the integer with the point moved by the currency's exponent: the
        // digits are those Stripe sent, none lost or invented.
        prop_assert_eq!(decimal.mantissa(), i128::from(amount));
        prop_assert_eq!(decimal.scale(), exp);
        prop_assert_eq!(decimal * Decimal::from(10_i64.pow(exp)), Decimal::from(amount));
    }

    #[test]
    fn amounts_print_with_the_currency_s_decimals((code, exp) in currency(), amount in -10_i64.pow(15)..10_i64.pow(15)) {
        let text = money::minor_to_decimal(amount, code).unwrap().to_string();
        let decimals = text.split_once('.').map_or(0, |(_, fraction)| fraction.len());
        prop_assert_eq!(decimals, exp as usize, "{}", text);
        let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
        let expected = amount.unsigned_abs().to_string();
        prop_assert_eq!(digits.trim_start_matches('0'), expected.trim_start_matches('0'));
    }

    #[test]
    fn the_limit_is_enforced_exactly((code, _) in currency(), amount in any::<i64>(), max in 1_i64..=999_999_999_999) {
        let result = convert::money(&SITE, Some(amount), Some(code.to_string()), max);
        if amount.unsigned_abs() <= max.unsigned_abs() {
            prop_assert!(result.is_ok());
        } else {
            prop_assert!(
                matches!(result, Err(ref e) if matches!(e.kind, MappingErrorKind::OverLimit { .. })),
                "{:?}", result
            );
        }
    }

    #[test]
    fn decimal_strings_move_the_point_exactly((code, exp) in currency(), whole in 0_u64..10_u64.pow(12), fraction in 0_u32..1_000_000, places in 0_usize..=6) {
        let fraction = format!("{fraction:06}")[..places].to_string();
        let text = if fraction.is_empty() { whole.to_string() } else { format!("{whole}.{fraction}") };
        let minor = money::parse_minor(&text).unwrap();
        let amount = money::minor_decimal_to_decimal(minor, code).unwrap();
        prop_assert_eq!(amount * Decimal::from(10_i64.pow(exp)), minor);
        prop_assert_eq!(amount.scale(), minor.scale() + exp);
    }

    #[test]
    fn fitting_a_field_rounds_only_when_allowed(mantissa in -10_i64.pow(15)..10_i64.pow(15), value_scale in 0_u32..=6, field_scale in 0_u32..=4) {
        let value = Decimal::new(mantissa, value_scale);
        let mut warnings = Vec::new();
        let exact = write::decimal(&SITE, Some(value), 28, field_scale, false, &mut warnings);
        let fits = value.normalize().scale() <= field_scale;
        prop_assert_eq!(exact.is_ok(), fits);
        if let Ok(Some(written)) = exact {
            prop_assert_eq!(written, value);
        }
        let rounded = write::decimal(&SITE, Some(value), 28, field_scale, true, &mut warnings).unwrap().unwrap();
        prop_assert!(rounded.scale() <= field_scale);
        // Never further than half a unit of the field's last decimal.
        let half = Decimal::new(5, field_scale + 1);
        prop_assert!((rounded - value).abs() <= half);
        // A rounding is always reported; an exact fit never is.
        prop_assert_eq!(warnings.len(), usize::from(!fits));
    }

    #[test]
    fn timestamps_are_utc_and_round_trip(seconds in MIN_SECONDS..=MAX_SECONDS) {
        let datetime = timestamp::from_unix(seconds).unwrap();
        prop_assert!(datetime.offset().is_utc());
        prop_assert_eq!(timestamp::to_unix(datetime), seconds);
        // The time of day is the seconds modulo a day: no local time zone anywhere.
        let of_day = seconds.rem_euclid(86_400);
        let (h, m, s) = datetime.time().as_hms();
        prop_assert_eq!(i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s), of_day);
        let date = convert::date(&SITE, Some(seconds)).unwrap().unwrap();
        prop_assert_eq!(date, datetime.date());
        prop_assert_eq!(i64::from(date.to_julian_day()) - 2_440_588, seconds.div_euclid(86_400));
    }

    #[test]
    fn later_seconds_are_later_datetimes(a in MIN_SECONDS..=MAX_SECONDS, b in MIN_SECONDS..=MAX_SECONDS) {
        let (x, y) = (timestamp::from_unix(a).unwrap(), timestamp::from_unix(b).unwrap());
        prop_assert_eq!(a.cmp(&b), x.cmp(&y));
    }

    #[test]
    fn out_of_range_timestamps_are_refused(seconds in prop_oneof![i64::MIN..MIN_SECONDS, (MAX_SECONDS + 1)..=i64::MAX]) {
        prop_assert!(timestamp::from_unix(seconds).is_err());
        let error = convert::timestamp(&SITE, Some(seconds)).unwrap_err();
        prop_assert_eq!(error.kind, MappingErrorKind::Timestamp(seconds));
    }
}

#[test]
fn jpy_and_bhd() {
    assert_eq!(
        money::minor_to_decimal(5000, "jpy").unwrap().to_string(),
        "5000"
    );
    assert_eq!(
        money::minor_to_decimal(12_345, "BHD").unwrap().to_string(),
        "12.345"
    );
    assert_eq!(
        money::minor_to_decimal(-5, "bhd").unwrap().to_string(),
        "-0.005"
    );
}
