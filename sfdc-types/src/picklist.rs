//! [`Picklist`]: Rust enums for picklist fields, and the serde functions their impls call.
//!
//! A generated picklist enum implements [`Picklist`] and gets serde with one line each:
//!
//! ```text
//! impl serde::Serialize for StripeCustomerSyncStatus {
//!     fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
//!         crate::picklist::serialize(self, s)
//!     }
//! }
//! impl<'de> serde::Deserialize<'de> for StripeCustomerSyncStatus {
//!     fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
//!         crate::picklist::deserialize(d)
//!     }
//! }
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

/// A Rust enum standing for the values of one picklist field.
///
/// Restricted picklists are closed enums; unrestricted ones also have an `Other(String)`
/// variant, so `from_wire` never fails for them.
pub trait Picklist: Sized {
    /// API names of the known values, in their defined order.
    const VALUES: &'static [&'static str];

    /// The API name sent to and received from Salesforce.
    fn as_str(&self) -> &str;

    /// The value with this API name (exact, case-sensitive match).
    fn from_wire(value: &str) -> Result<Self, UnknownPicklistValue>;
}

/// A picklist value that is not one of the allowed ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not one of the picklist values {}", allowed.join(", "))]
pub struct UnknownPicklistValue {
    /// The value received.
    pub value: String,
    /// The allowed values.
    pub allowed: &'static [&'static str],
}

impl UnknownPicklistValue {
    /// The error for `value` in a picklist allowing `allowed` (usually `Self::VALUES`).
    pub fn new(value: &str, allowed: &'static [&'static str]) -> Self {
        Self {
            value: value.to_owned(),
            allowed,
        }
    }
}

/// Serializes a picklist value as its API name.
pub fn serialize<E: Picklist, S: Serializer>(value: &E, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.as_str())
}

/// Deserializes a picklist value from its API name.
pub fn deserialize<'de, E: Picklist, D: Deserializer<'de>>(deserializer: D) -> Result<E, D::Error> {
    deserializer.deserialize_str(PicklistVisitor(PhantomData))
}

struct PicklistVisitor<E>(PhantomData<E>);

impl<E: Picklist> Visitor<'_> for PicklistVisitor<E> {
    type Value = E;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "one of the picklist values {}", E::VALUES.join(", "))
    }

    fn visit_str<Err: de::Error>(self, value: &str) -> Result<E, Err> {
        E::from_wire(value).map_err(Err::custom)
    }
}

/// Joins the API names of multi-select picklist values with `;`, the wire form.
pub fn join<E: Picklist>(values: &[E]) -> String {
    let mut joined = String::new();
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            joined.push(';');
        }
        joined.push_str(value.as_str());
    }
    joined
}

/// Splits a `;`-separated multi-select picklist value; the empty text gives no values.
pub fn split<E: Picklist>(joined: &str) -> Result<Vec<E>, UnknownPicklistValue> {
    if joined.is_empty() {
        return Ok(Vec::new());
    }
    joined.split(';').map(E::from_wire).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A restricted picklist, written as generated code writes it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) enum Color {
        Red,
        Green,
    }

    impl Picklist for Color {
        const VALUES: &'static [&'static str] = &["Red", "Green"];
        fn as_str(&self) -> &str {
            match self {
                Color::Red => "Red",
                Color::Green => "Green",
            }
        }
        fn from_wire(value: &str) -> Result<Self, UnknownPicklistValue> {
            match value {
                "Red" => Ok(Color::Red),
                "Green" => Ok(Color::Green),
                _ => Err(UnknownPicklistValue::new(value, Self::VALUES)),
            }
        }
    }

    impl serde::Serialize for Color {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize(self, s)
        }
    }

    impl<'de> serde::Deserialize<'de> for Color {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize(d)
        }
    }

    #[test]
    fn serde_uses_api_names() {
        assert_eq!(serde_json::to_string(&Color::Green).unwrap(), r#""Green""#);
        assert_eq!(
            serde_json::from_str::<Color>(r#""Red""#).unwrap(),
            Color::Red
        );
        let error = serde_json::from_str::<Color>(r#""red""#).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#""red" is not one of the picklist values Red, Green at line 1 column 5"#
        );
    }

    #[test]
    fn multi_select_wire_form() {
        assert_eq!(join(&[Color::Red, Color::Green]), "Red;Green");
        assert_eq!(
            split::<Color>("Green;Red").unwrap(),
            [Color::Green, Color::Red]
        );
        assert_eq!(split::<Color>("").unwrap(), []);
        assert_eq!(split::<Color>("Red;Blue").unwrap_err().value, "Blue");
    }
}
