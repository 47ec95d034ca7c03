//! Reading JSON numbers exactly.
//!
//! serde hands numbers to visitors as `f64`, which holds about 16 significant digits: not
//! enough for a currency field of precision 18. serde_json can instead hand over the
//! number's text, through the protocol its `RawValue` uses (a newtype struct request with a
//! reserved name, answered with a one-entry map whose value is the raw JSON text); the name
//! is serde_json's, not public API, so the visitor also accepts plain numbers: any other
//! deserializer (or a future serde_json answering differently) gets the `f64`'s shortest
//! text form, so `1234.56` still reads as `1234.56`.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, MapAccess, Unexpected, Visitor};

/// Name under which serde_json answers with the raw text of a value.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// The text of a JSON number or numeric string, or `None` for `null`.
pub(super) fn deserialize_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_newtype_struct(RAW_VALUE_TOKEN, NumberText)
}

struct NumberText;

impl<'de> Visitor<'de> for NumberText {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a numeric string or null")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == RAW_VALUE_TOKEN => {}
            _ => return Err(de::Error::invalid_type(Unexpected::Map, &self)),
        }
        let raw: String = map.next_value()?;
        let raw = raw.trim();
        match raw.as_bytes().first() {
            Some(b'-' | b'0'..=b'9') => Ok(Some(raw.to_owned())),
            Some(b'"') => serde_json::from_str::<String>(raw)
                .map(Some)
                .map_err(de::Error::custom),
            _ if raw == "null" => Ok(None),
            _ => Err(de::Error::custom(format_args!(
                "expected a number, a numeric string or null, found {raw}"
            ))),
        }
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(value.to_string()))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Self::Value, E> {
        Ok(Some(value.to_string()))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Self::Value, E> {
        Ok(Some(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        if value.is_finite() {
            // `Display` of `f64` is the shortest text that reads back the same, no exponent.
            Ok(Some(value.to_string()))
        } else {
            Err(E::invalid_value(Unexpected::Float(value), &self))
        }
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(Some(value))
    }
}
