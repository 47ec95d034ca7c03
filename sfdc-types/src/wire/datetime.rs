//! `OffsetDateTime` as a JSON string: written `"2024-01-02T03:04:05.000Z"` (UTC, milliseconds), read also from Salesforce's `+0000` form and RFC 3339.

use ::time::OffsetDateTime;
use serde::{Deserializer, Serializer};

use crate::format;

/// Writes `"2024-01-02T03:04:05.000Z"` (UTC, milliseconds).
pub fn serialize<S: Serializer>(value: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format::format_datetime(*value))
}

/// Reads `"…+0000"`, `"…Z"` or `"…+01:00"`; `null` is an error.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    super::required(option::deserialize(deserializer)?)
}

/// `Option<OffsetDateTime>`: `None` is `null`.
pub mod option {
    use super::*;

    /// Writes `Some` as `"2024-01-02T03:04:05.000Z"` (UTC, milliseconds), `None` as `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        crate::wire::serialize_option(value.as_ref(), serializer, super::serialize)
    }

    /// Reads `"…+0000"`, `"…Z"` or `"…+01:00"`, `null` as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        crate::wire::parse_option(deserializer, format::parse_datetime)
    }
}

/// `Patch<OffsetDateTime>`: `Null` is `null`.
pub mod patch {
    use super::*;
    use crate::patch::Patch;

    /// Writes `Set` as `"2024-01-02T03:04:05.000Z"` (UTC, milliseconds), `Null` as `null`.
    pub fn serialize<S: Serializer>(
        value: &Patch<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        crate::wire::serialize_patch(value, serializer, super::serialize)
    }

    /// Reads `"…+0000"`, `"…Z"` or `"…+01:00"`, `null` as `Patch::Null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Patch<OffsetDateTime>, D::Error> {
        super::option::deserialize(deserializer).map(Patch::from)
    }
}
