//! `i64` for number fields of scale 0: reads `3`, `3.0` and `"3"`, rejects `3.5`.

use serde::{Deserializer, Serializer};

use crate::format;

/// Writes a JSON integer.
pub fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(*value)
}

/// Reads a whole JSON number or numeric string; `null` is an error.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    super::required(option::deserialize(deserializer)?)
}

/// `Option<i64>`: `None` is `null`.
pub mod option {
    use super::*;

    /// Writes `Some` as a JSON integer, `None` as `null`.
    pub fn serialize<S: Serializer>(value: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
        crate::wire::serialize_option(value.as_ref(), serializer, super::serialize)
    }

    /// Reads a whole JSON number or numeric string, `null` as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<i64>, D::Error> {
        use serde::de::Error as _;
        crate::wire::number::deserialize_text(deserializer)?
            .map(|text| format::parse_integer(&text).map_err(D::Error::custom))
            .transpose()
    }
}

/// `Patch<i64>`: `Null` is `null`.
pub mod patch {
    use super::*;
    use crate::patch::Patch;

    /// Writes `Set` as a JSON integer, `Null` as `null`.
    pub fn serialize<S: Serializer>(value: &Patch<i64>, serializer: S) -> Result<S::Ok, S::Error> {
        crate::wire::serialize_patch(value, serializer, super::serialize)
    }

    /// Reads a whole JSON number or numeric string, `null` as `Patch::Null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Patch<i64>, D::Error> {
        super::option::deserialize(deserializer).map(Patch::from)
    }
}
