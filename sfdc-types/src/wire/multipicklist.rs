//! Multi-select picklist `Vec<E: Picklist>` as the JSON string `"a;b"`.
//!
//! No values is written `null` (Salesforce stores an empty multi-select as null); `null` and
//! `""` read as no value (`None`, `Patch::Null`).

use serde::{Deserializer, Serializer};

use crate::patch::Patch;
use crate::picklist::{self, Picklist};

/// Writes the values joined with `;`, no values as `null`.
pub fn serialize<E: Picklist, S: Serializer>(
    values: &[E],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if values.is_empty() {
        serializer.serialize_none()
    } else {
        serializer.serialize_str(&picklist::join(values))
    }
}

/// Reads `"a;b"`; `null` and `""` are no values.
pub fn deserialize<'de, E: Picklist, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<E>, D::Error> {
    Ok(option::deserialize(deserializer)?.unwrap_or_default())
}

/// `Option<Vec<E>>`: `None` is `null`.
pub mod option {
    use super::*;

    /// Writes `Some` as `"a;b"`, `None` and no values as `null`.
    pub fn serialize<E: Picklist, S: Serializer>(
        values: &Option<Vec<E>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        super::serialize(values.as_deref().unwrap_or_default(), serializer)
    }

    /// Reads `"a;b"`, `null` and `""` as `None`.
    pub fn deserialize<'de, E: Picklist, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<E>>, D::Error> {
        let values = crate::wire::parse_option(deserializer, picklist::split::<E>)?;
        Ok(values.filter(|values| !values.is_empty()))
    }
}

/// `Patch<Vec<E>>`: `Null` is `null`.
pub mod patch {
    use super::*;

    /// Writes `Set` as `"a;b"`, `Null` and no values as `null`.
    pub fn serialize<E: Picklist, S: Serializer>(
        values: &Patch<Vec<E>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        super::serialize(values.as_set().map_or(&[][..], Vec::as_slice), serializer)
    }

    /// Reads `"a;b"`, `null` and `""` as `Patch::Null`.
    pub fn deserialize<'de, E: Picklist, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Patch<Vec<E>>, D::Error> {
        super::option::deserialize(deserializer).map(Patch::from)
    }
}
