//! [`ExternalRef`]: a parent record named by one of its external id fields.
//!
//! On the wire a reference is the relationship key with a one-key object,
//! `"Contact__r": {"Stripe_Customer_ID__c": "cus_1"}`; in CSV it is the column
//! `Contact__r.Stripe_Customer_ID__c`. A generated reference enum implements
//! [`ExternalRef`] and gets serde with one line each:
//!
//! ```text
//! impl serde::Serialize for ContactRef {
//!     fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
//!         crate::reference::serialize(self, s)
//!     }
//! }
//! impl<'de> serde::Deserialize<'de> for ContactRef {
//!     fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
//!         crate::reference::deserialize(d)
//!     }
//! }
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};

/// A reference to a parent record by one of its external id fields (or `Id`), one enum
/// variant per field.
pub trait ExternalRef: Sized {
    /// API names of the fields a reference can use, one per variant.
    const FIELDS: &'static [&'static str];

    /// API name of the field this reference uses, e.g. `Stripe_Customer_ID__c`.
    fn field(&self) -> &'static str;

    /// The external id value.
    fn value(&self) -> &str;

    /// The reference using `field` (exact API name, one of [`Self::FIELDS`]) with `value`,
    /// or `None` if no variant uses that field.
    fn from_field(field: &str, value: String) -> Option<Self>;
}

/// Serializes a reference as a one-key object `{"Field__c": "value"}`.
pub fn serialize<R: ExternalRef, S: Serializer>(
    reference: &R,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(reference.field(), reference.value())?;
    map.end()
}

/// Deserializes a reference from a one-key object (an `attributes` key is ignored); the
/// value may be a string or a number.
pub fn deserialize<'de, R: ExternalRef, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<R, D::Error> {
    deserializer.deserialize_map(RefVisitor(PhantomData))
}

struct RefVisitor<R>(PhantomData<R>);

impl<'de, R: ExternalRef> Visitor<'de> for RefVisitor<R> {
    type Value = R;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an object with exactly one of the keys {}",
            R::FIELDS.join(", ")
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<R, A::Error> {
        let mut found: Option<R> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "attributes" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if found.is_some() {
                return Err(de::Error::custom(format_args!(
                    "a reference names its parent by one field only, found a second one {key:?}"
                )));
            }
            let value = map.next_value::<IdText>()?.0;
            found = Some(R::from_field(&key, value).ok_or_else(|| {
                de::Error::custom(format_args!(
                    "{key:?} is not one of the reference fields {}",
                    R::FIELDS.join(", ")
                ))
            })?);
        }
        found.ok_or_else(|| de::Error::invalid_length(0, &self))
    }
}

/// An external id value given as a string or a number.
struct IdText(String);

impl<'de> serde::Deserialize<'de> for IdText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = IdText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an external id (string or number)")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<IdText, E> {
                Ok(IdText(value.to_owned()))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<IdText, E> {
                Ok(IdText(value))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<IdText, E> {
                Ok(IdText(value.to_string()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<IdText, E> {
                Ok(IdText(value.to_string()))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference enum, written as generated code writes it.
    #[derive(Debug, PartialEq)]
    enum ContactRef {
        StripeCustomerId(String),
        Id(String),
    }

    impl ExternalRef for ContactRef {
        const FIELDS: &'static [&'static str] = &["Stripe_Customer_ID__c", "Id"];
        fn field(&self) -> &'static str {
            match self {
                ContactRef::StripeCustomerId(_) => "Stripe_Customer_ID__c",
                ContactRef::Id(_) => "Id",
            }
        }
        fn value(&self) -> &str {
            match self {
                ContactRef::StripeCustomerId(value) | ContactRef::Id(value) => value,
            }
        }
        fn from_field(field: &str, value: String) -> Option<Self> {
            match field {
                "Stripe_Customer_ID__c" => Some(ContactRef::StripeCustomerId(value)),
                "Id" => Some(ContactRef::Id(value)),
                _ => None,
            }
        }
    }

    impl serde::Serialize for ContactRef {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize(self, s)
        }
    }

    impl<'de> serde::Deserialize<'de> for ContactRef {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize(d)
        }
    }

    #[test]
    fn one_key_object() {
        let reference = ContactRef::StripeCustomerId("cus_1".to_owned());
        let json = serde_json::to_string(&reference).unwrap();
        assert_eq!(json, r#"{"Stripe_Customer_ID__c":"cus_1"}"#);
        assert_eq!(
            serde_json::from_str::<ContactRef>(&json).unwrap(),
            reference
        );
        let with_attributes = r#"{"attributes":{"type":"Contact"},"Stripe_Customer_ID__c":42}"#;
        assert_eq!(
            serde_json::from_str::<ContactRef>(with_attributes).unwrap(),
            ContactRef::StripeCustomerId("42".to_owned())
        );
    }

    #[test]
    fn rejects_unknown_empty_and_double() {
        let unknown = serde_json::from_str::<ContactRef>(r#"{"Email":"a@b.c"}"#).unwrap_err();
        assert!(
            unknown.to_string().starts_with(
                r#""Email" is not one of the reference fields Stripe_Customer_ID__c, Id"#
            ),
            "{unknown}"
        );
        assert!(serde_json::from_str::<ContactRef>("{}").is_err());
        let double = r#"{"Id":"003000000000001","Stripe_Customer_ID__c":"cus_1"}"#;
        assert!(serde_json::from_str::<ContactRef>(double).is_err());
    }
}
