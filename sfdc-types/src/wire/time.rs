//! `Time` as a JSON string `"03:04:05.000Z"`.

use ::time::Time;
use serde::{Deserializer, Serializer};

use crate::format;

/// Writes `"03:04:05.000Z"`.
pub fn serialize<S: Serializer>(value: &Time, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format::format_time(*value))
}

/// Reads `"HH:MM:SS[.sss][Z]"`; `null` is an error.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Time, D::Error> {
    super::required(option::deserialize(deserializer)?)
}

/// `Option<Time>`: `None` is `null`.
pub mod option {
    use super::*;

    /// Writes `Some` as `"03:04:05.000Z"`, `None` as `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<Time>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        crate::wire::serialize_option(value.as_ref(), serializer, super::serialize)
    }

    /// Reads `"HH:MM:SS[.sss][Z]"`, `null` as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Time>, D::Error> {
        crate::wire::parse_option(deserializer, format::parse_time)
    }
}

/// `Patch<Time>`: `Null` is `null`.
pub mod patch {
    use super::*;
    use crate::patch::Patch;

    /// Writes `Set` as `"03:04:05.000Z"`, `Null` as `null`.
    pub fn serialize<S: Serializer>(value: &Patch<Time>, serializer: S) -> Result<S::Ok, S::Error> {
        crate::wire::serialize_patch(value, serializer, super::serialize)
    }

    /// Reads `"HH:MM:SS[.sss][Z]"`, `null` as `Patch::Null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Patch<Time>, D::Error> {
        super::option::deserialize(deserializer).map(Patch::from)
    }
}
