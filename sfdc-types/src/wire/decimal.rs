//! `Decimal` as an exact JSON number: `12.50` is written `12.50`, never through `f64`.

use rust_decimal::Decimal;
use serde::ser::Error as _;
use serde::{Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::format;

/// Writes the decimal's plain text as a JSON number, verbatim.
pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let raw = RawValue::from_string(format::format_decimal(value)).map_err(S::Error::custom)?;
    raw.serialize(serializer)
}

/// Reads a JSON number or numeric string exactly; `null` is an error.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    super::required(option::deserialize(deserializer)?)
}

/// `Option<Decimal>`: `None` is `null`.
pub mod option {
    use super::*;

    /// Writes `Some` as an exact JSON number, `None` as `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        crate::wire::serialize_option(value.as_ref(), serializer, super::serialize)
    }

    /// Reads a JSON number or numeric string exactly, `null` as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        use serde::de::Error as _;
        crate::wire::number::deserialize_text(deserializer)?
            .map(|text| format::parse_decimal(&text).map_err(D::Error::custom))
            .transpose()
    }
}

/// `Patch<Decimal>`: `Null` is `null`.
pub mod patch {
    use super::*;
    use crate::patch::Patch;

    /// Writes `Set` as an exact JSON number, `Null` as `null`.
    pub fn serialize<S: Serializer>(
        value: &Patch<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        crate::wire::serialize_patch(value, serializer, super::serialize)
    }

    /// Reads a JSON number or numeric string exactly, `null` as `Patch::Null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Patch<Decimal>, D::Error> {
        super::option::deserialize(deserializer).map(Patch::from)
    }
}
