//! Serde `with` modules for Salesforce REST JSON, one per value kind that needs one.
//!
//! Each module has `serialize`/`deserialize` for a bare value and submodules `option` (for
//! `Option<T>` fields of read shapes) and `patch` (for [`Patch<T>`] fields of write shapes),
//! used as `#[serde(default, with = "crate::wire::decimal::option")]`:
//!
//! | module          | Rust type     | JSON                                  |
//! |-----------------|---------------|---------------------------------------|
//! | `decimal`       | `Decimal`     | number, written exactly (`12.50`)     |
//! | `integer`       | `i64`         | number; `3` and `3.0` read, `3.5` not |
//! | `date`          | `Date`        | `"2024-01-02"`                        |
//! | `datetime`      | `OffsetDateTime` | `"2024-01-02T03:04:05.000Z"`       |
//! | `time`          | `Time`        | `"03:04:05.000Z"`                     |
//! | `multipicklist` | `Vec<E: Picklist>` | `"a;b"`; no values is `null`     |
//!
//! Numbers are read exactly from their JSON text when the deserializer is serde_json's (see
//! `number`); numeric strings (`"12.50"`) are accepted too. `option` reads `null` as `None`,
//! `patch` reads `null` as `Patch::Null`; an absent key gives the field's `Default`.

use serde::Serializer;
use serde::de::Error;

use crate::patch::Patch;

pub mod date;
pub mod datetime;
pub mod decimal;
pub mod integer;
pub mod multipicklist;
mod number;
pub mod time;

/// Writes `Some` with `write`, `None` as `null`.
fn serialize_option<T, S: Serializer>(
    value: Option<&T>,
    serializer: S,
    write: impl FnOnce(&T, S) -> Result<S::Ok, S::Error>,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => write(value, serializer),
        None => serializer.serialize_none(),
    }
}

/// Writes `Set` with `write`, `Null` (and `Skip`, normally skipped before) as `null`.
fn serialize_patch<T, S: Serializer>(
    value: &Patch<T>,
    serializer: S,
    write: impl FnOnce(&T, S) -> Result<S::Ok, S::Error>,
) -> Result<S::Ok, S::Error> {
    serialize_option(value.as_set(), serializer, write)
}

/// The value of a field that must not be `null`.
fn required<T, E: Error>(value: Option<T>) -> Result<T, E> {
    value.ok_or_else(|| E::custom("expected a value, found null"))
}

/// Reads a `null`-able text value and converts it with `parse`.
fn parse_option<'de, T, D, P, Err>(deserializer: D, parse: P) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    P: FnOnce(&str) -> Result<T, Err>,
    Err: std::fmt::Display,
{
    let text = <Option<String> as serde::Deserialize>::deserialize(deserializer)?;
    text.map(|text| parse(&text).map_err(D::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use ::time::macros::{date, datetime, time};
    use ::time::{Date, OffsetDateTime, Time};
    use rust_decimal::Decimal;
    use serde::{Deserialize, Serialize};

    use crate::patch::Patch;
    use crate::picklist::tests::Color;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Read {
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "super::decimal::option"
        )]
        amount: Option<Decimal>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "super::integer::option"
        )]
        count: Option<i64>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "super::date::option"
        )]
        day: Option<Date>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "super::datetime::option"
        )]
        at: Option<OffsetDateTime>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "super::time::option"
        )]
        clock: Option<Time>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "super::multipicklist::option"
        )]
        colors: Option<Vec<Color>>,
    }

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Write {
        #[serde(
            default,
            skip_serializing_if = "Patch::is_skip",
            with = "super::decimal::patch"
        )]
        amount: Patch<Decimal>,
        #[serde(
            default,
            skip_serializing_if = "Patch::is_skip",
            with = "super::integer::patch"
        )]
        count: Patch<i64>,
        #[serde(
            default,
            skip_serializing_if = "Patch::is_skip",
            with = "super::datetime::patch"
        )]
        at: Patch<OffsetDateTime>,
        #[serde(
            default,
            skip_serializing_if = "Patch::is_skip",
            with = "super::multipicklist::patch"
        )]
        colors: Patch<Vec<Color>>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Bare {
        #[serde(with = "super::decimal")]
        amount: Decimal,
        #[serde(with = "super::integer")]
        count: i64,
        #[serde(with = "super::multipicklist")]
        colors: Vec<Color>,
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn read_shape_round_trip_is_exact() {
        let read = Read {
            amount: Some(dec("1234567890123456.78")),
            count: Some(42),
            day: Some(date!(2024 - 02 - 29)),
            at: Some(datetime!(2024-01-02 03:04:05.678 UTC)),
            clock: Some(time!(13:30)),
            colors: Some(vec![Color::Red, Color::Green]),
        };
        let json = serde_json::to_string(&read).unwrap();
        assert_eq!(
            json,
            r#"{"amount":1234567890123456.78,"count":42,"day":"2024-02-29","at":"2024-01-02T03:04:05.678Z","clock":"13:30:00.000Z","colors":"Red;Green"}"#
        );
        assert_eq!(serde_json::from_str::<Read>(&json).unwrap(), read);
        assert_eq!(
            serde_json::from_slice::<Read>(json.as_bytes()).unwrap(),
            read
        );
        assert_eq!(
            serde_json::from_reader::<_, Read>(json.as_bytes()).unwrap(),
            read
        );
        assert_eq!(serde_json::from_str::<Read>("{}").unwrap(), Read::default());
    }

    #[test]
    fn decimals_keep_their_text() {
        for text in [
            "12.50",
            "-0.001",
            "1234.56",
            "0",
            "100",
            "79228162514264337593543950335",
        ] {
            let read: Read = serde_json::from_str(&format!(r#"{{"amount":{text}}}"#)).unwrap();
            assert_eq!(read.amount.unwrap().to_string(), text);
        }
        let read: Read = serde_json::from_str(r#"{"amount":"12.50","count":"7"}"#).unwrap();
        assert_eq!(read.amount, Some(dec("12.50")));
        assert_eq!(read.count, Some(7));
        let read: Read = serde_json::from_str(r#"{"amount":1.5e3}"#).unwrap();
        assert_eq!(read.amount, Some(dec("1500")));
        let read: Read = serde_json::from_str(r#"{"amount":null,"count":null}"#).unwrap();
        assert_eq!(read, Read::default());
        let error = serde_json::from_str::<Read>(r#"{"amount":true}"#).unwrap_err();
        assert!(
            error.to_string().starts_with("expected a number"),
            "{error}"
        );
        let error = serde_json::from_str::<Read>(r#"{"amount":"abc"}"#).unwrap_err();
        assert!(
            error.to_string().starts_with(r#"invalid number: "abc""#),
            "{error}"
        );
    }

    #[test]
    fn numbers_from_a_json_value_and_buffered_content() {
        let value = serde_json::json!({"amount": 1234.56, "count": 3.0});
        let read: Read = serde_json::from_value(value).unwrap();
        assert_eq!(read.amount, Some(dec("1234.56")));
        assert_eq!(read.count, Some(3));

        #[derive(Debug, Deserialize)]
        #[serde(untagged)]
        enum Either {
            Read(Read),
        }
        let Either::Read(read) =
            serde_json::from_str(r#"{"amount":1234.56,"count":3,"day":"2024-01-02"}"#).unwrap();
        assert_eq!(read.amount, Some(dec("1234.56")));
        assert_eq!(read.count, Some(3));
    }

    #[test]
    fn integers_must_be_whole() {
        for (json, count) in [("3", 3), ("3.0", 3), ("-7", -7), ("\"12\"", 12)] {
            let read: Read = serde_json::from_str(&format!(r#"{{"count":{json}}}"#)).unwrap();
            assert_eq!(read.count, Some(count), "{json}");
        }
        let error = serde_json::from_str::<Read>(r#"{"count":3.5}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(r#"invalid whole number: "3.5""#),
            "{error}"
        );
    }

    #[test]
    fn datetimes_read_every_salesforce_form() {
        let expected = Some(datetime!(2024-01-02 03:04:05 UTC));
        for text in [
            "2024-01-02T03:04:05.000+0000",
            "2024-01-02T03:04:05Z",
            "2024-01-02T04:04:05+01:00",
        ] {
            let read: Read = serde_json::from_str(&format!(r#"{{"at":"{text}"}}"#)).unwrap();
            assert_eq!(read.at, expected, "{text}");
        }
        let error = serde_json::from_str::<Read>(r#"{"at":"yesterday"}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(r#"invalid datetime (YYYY-MM-DDTHH:MM:SS.sssZ): "yesterday""#),
            "{error}"
        );
    }

    #[test]
    fn patch_states() {
        let write = Write {
            amount: Patch::Set(dec("0.10")),
            count: Patch::Null,
            at: Patch::Skip,
            colors: Patch::Set(vec![Color::Green]),
        };
        let json = serde_json::to_string(&write).unwrap();
        assert_eq!(json, r#"{"amount":0.10,"count":null,"colors":"Green"}"#);
        assert_eq!(serde_json::from_str::<Write>(&json).unwrap(), write);
        let cleared = Write {
            colors: Patch::Set(Vec::new()),
            ..Write::default()
        };
        assert_eq!(
            serde_json::to_string(&cleared).unwrap(),
            r#"{"colors":null}"#
        );
    }

    #[test]
    fn bare_values() {
        let bare = Bare {
            amount: dec("5.00"),
            count: 9,
            colors: vec![Color::Green, Color::Red],
        };
        let json = serde_json::to_string(&bare).unwrap();
        assert_eq!(json, r#"{"amount":5.00,"count":9,"colors":"Green;Red"}"#);
        assert_eq!(serde_json::from_str::<Bare>(&json).unwrap(), bare);
        let error =
            serde_json::from_str::<Bare>(r#"{"amount":null,"count":1,"colors":""}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("expected a value, found null"),
            "{error}"
        );
        let empty: Bare = serde_json::from_str(r#"{"amount":1,"count":1,"colors":null}"#).unwrap();
        assert!(empty.colors.is_empty());
    }

    #[test]
    fn multipicklist_rejects_unknown_items() {
        let error = serde_json::from_str::<Read>(r#"{"colors":"Red;Blue"}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(r#""Blue" is not one of the picklist values Red, Green"#),
            "{error}"
        );
        let read: Read = serde_json::from_str(r#"{"colors":""}"#).unwrap();
        assert_eq!(read.colors, None);
    }
}
