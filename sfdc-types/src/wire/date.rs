//! `Date` as a JSON string `"2024-01-02"`.

use ::time::Date;
use serde::{Deserializer, Serializer};

use crate::format;

/// Writes `"2024-01-02"`.
pub fn serialize<S: Serializer>(value: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format::format_date(*value))
}

/// Reads `"YYYY-MM-DD"`; `null` is an error.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
    super::required(option::deserialize(deserializer)?)
}

/// `Option<Date>`: `None` is `null`.
pub mod option {
    use super::*;

    /// Writes `Some` as `"2024-01-02"`, `None` as `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<Date>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        crate::wire::serialize_option(value.as_ref(), serializer, super::serialize)
    }

    /// Reads `"YYYY-MM-DD"`, `null` as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Date>, D::Error> {
        crate::wire::parse_option(deserializer, format::parse_date)
    }
}

/// `Patch<Date>`: `Null` is `null`.
pub mod patch {
    use super::*;
    use crate::patch::Patch;

    /// Writes `Set` as `"2024-01-02"`, `Null` as `null`.
    pub fn serialize<S: Serializer>(value: &Patch<Date>, serializer: S) -> Result<S::Ok, S::Error> {
        crate::wire::serialize_patch(value, serializer, super::serialize)
    }

    /// Reads `"YYYY-MM-DD"`, `null` as `Patch::Null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Patch<Date>, D::Error> {
        super::option::deserialize(deserializer).map(Patch::from)
    }
}
