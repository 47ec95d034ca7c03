//! [`Patch`]: a field of a write that is left as is, cleared, or set.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The change a write makes to one field.
///
/// In JSON, `Skip` is an absent key (fields carry
/// `#[serde(default, skip_serializing_if = "crate::Patch::is_skip")]`), `Null` is `null`
/// and `Set` is the value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Patch<T> {
    /// Leave the field as it is.
    #[default]
    Skip,
    /// Clear the field.
    Null,
    /// Set the field to this value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the field is left as it is (for `skip_serializing_if`).
    pub fn is_skip(&self) -> bool {
        matches!(self, Patch::Skip)
    }

    /// Whether the field is cleared.
    pub fn is_null(&self) -> bool {
        matches!(self, Patch::Null)
    }

    /// The value set, if any.
    pub fn as_set(&self) -> Option<&T> {
        match self {
            Patch::Set(value) => Some(value),
            Patch::Skip | Patch::Null => None,
        }
    }

    /// Borrows the value.
    pub fn as_ref(&self) -> Patch<&T> {
        match self {
            Patch::Skip => Patch::Skip,
            Patch::Null => Patch::Null,
            Patch::Set(value) => Patch::Set(value),
        }
    }

    /// Transforms the value, keeping `Skip` and `Null`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Skip => Patch::Skip,
            Patch::Null => Patch::Null,
            Patch::Set(value) => Patch::Set(f(value)),
        }
    }

    /// `None` for `Skip`, `Some(None)` for `Null`, `Some(Some(value))` for `Set`.
    pub fn into_option(self) -> Option<Option<T>> {
        match self {
            Patch::Skip => None,
            Patch::Null => Some(None),
            Patch::Set(value) => Some(Some(value)),
        }
    }
}

impl<T> From<T> for Patch<T> {
    fn from(value: T) -> Self {
        Patch::Set(value)
    }
}

impl<T> From<Option<T>> for Patch<T> {
    /// `None` clears the field.
    fn from(value: Option<T>) -> Self {
        value.map_or(Patch::Null, Patch::Set)
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    /// `Set` as the value; `Null` (and `Skip`, normally skipped before) as `null`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Set(value) => serializer.serialize_some(value),
            Patch::Skip | Patch::Null => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    /// `null` as `Null`, any other value as `Set`; an absent key gives `Skip` through
    /// `#[serde(default)]`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(Patch::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Write {
        #[serde(rename = "A", default, skip_serializing_if = "Patch::is_skip")]
        a: Patch<String>,
        #[serde(rename = "B", default, skip_serializing_if = "Patch::is_skip")]
        b: Patch<String>,
        #[serde(rename = "C", default, skip_serializing_if = "Patch::is_skip")]
        c: Patch<i64>,
    }

    #[test]
    fn three_states_in_json() {
        let write = Write {
            a: Patch::Skip,
            b: Patch::Null,
            c: Patch::Set(3),
        };
        let json = serde_json::to_string(&write).unwrap();
        assert_eq!(json, r#"{"B":null,"C":3}"#);
        assert_eq!(serde_json::from_str::<Write>(&json).unwrap(), write);
    }

    #[test]
    fn conversions() {
        assert_eq!(Patch::from(5), Patch::Set(5));
        assert_eq!(Patch::<i32>::from(None), Patch::Null);
        assert_eq!(Patch::<i32>::from(Some(1)).map(|v| v + 1), Patch::Set(2));
        assert_eq!(
            Patch::Set("x".to_owned()).as_ref(),
            Patch::Set(&"x".to_owned())
        );
        assert_eq!(Patch::<u8>::Skip.into_option(), None);
        assert_eq!(Patch::<u8>::Null.into_option(), Some(None));
        assert!(Patch::<u8>::default().is_skip());
        assert_eq!(Patch::Set(1).as_set(), Some(&1));
    }
}
