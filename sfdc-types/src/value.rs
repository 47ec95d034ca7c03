//! [`Value`]: the typed value of one field, as validated and written to CSV, and the
//! functions generated `Writable::values` impls call to list a write's values.

use std::borrow::Cow;
use std::fmt;

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime, Time};

use crate::format;
use crate::patch::Patch;
use crate::picklist::{self, Picklist};
use crate::reference::ExternalRef;

/// The typed value of one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value: clears the field.
    Null,
    /// Checkbox.
    Bool(bool),
    /// Any text-like field: text, email, id, picklist (`;`-joined for multi-select).
    Text(String),
    /// Number, currency or percent with decimals.
    Decimal(Decimal),
    /// Whole number (a number field with scale 0).
    Integer(i64),
    /// Date.
    Date(Date),
    /// Date and time.
    DateTime(OffsetDateTime),
    /// Time of day.
    Time(Time),
}

/// A field name with its value, as listed by `Writable::values`.
pub type FieldValue = (Cow<'static, str>, Value);

impl Value {
    /// What kind of value this is, for messages: `"null"`, `"text"`, `"decimal"`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Text(_) => "text",
            Value::Decimal(_) => "decimal",
            Value::Integer(_) => "integer",
            Value::Date(_) => "date",
            Value::DateTime(_) => "datetime",
            Value::Time(_) => "time",
        }
    }

    /// Whether this is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value {
    /// The Salesforce text form (as in CSV); `Null` shows as nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(value) => f.write_str(format::format_bool(*value)),
            Value::Text(text) => f.write_str(text),
            Value::Decimal(value) => f.write_str(&format::format_decimal(value)),
            Value::Integer(value) => write!(f, "{value}"),
            Value::Date(date) => f.write_str(&format::format_date(*date)),
            Value::DateTime(datetime) => f.write_str(&format::format_datetime(*datetime)),
            Value::Time(time) => f.write_str(&format::format_time(*time)),
        }
    }
}

/// Conversion of a Rust field value to a [`Value`].
pub trait ToValue {
    /// The typed value.
    fn to_value(&self) -> Value;
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl ToValue for &str {
    fn to_value(&self) -> Value {
        Value::Text((*self).to_owned())
    }
}

impl ToValue for Decimal {
    fn to_value(&self) -> Value {
        Value::Decimal(*self)
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Integer(*self)
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl ToValue for Date {
    fn to_value(&self) -> Value {
        Value::Date(*self)
    }
}

impl ToValue for OffsetDateTime {
    fn to_value(&self) -> Value {
        Value::DateTime(*self)
    }
}

impl ToValue for Time {
    fn to_value(&self) -> Value {
        Value::Time(*self)
    }
}

impl<T: ToValue> ToValue for Option<T> {
    /// `None` is `Null`.
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl<E: Picklist> ToValue for E {
    /// The API name, as text.
    fn to_value(&self) -> Value {
        Value::Text(self.as_str().to_owned())
    }
}

impl<E: Picklist> ToValue for Vec<E> {
    /// Multi-select values joined with `;`; no values is `Null`, as Salesforce stores it.
    fn to_value(&self) -> Value {
        if self.is_empty() {
            Value::Null
        } else {
            Value::Text(picklist::join(self))
        }
    }
}

/// Appends `field` unless the patch is `Skip`: `Null` as [`Value::Null`], `Set` as its value.
pub fn push_patch<T: ToValue>(out: &mut Vec<FieldValue>, field: &'static str, patch: &Patch<T>) {
    match patch {
        Patch::Skip => {}
        Patch::Null => out.push((Cow::Borrowed(field), Value::Null)),
        Patch::Set(value) => out.push((Cow::Borrowed(field), value.to_value())),
    }
}

/// Appends `field` with the value if there is one.
pub fn push_option<T: ToValue + ?Sized>(
    out: &mut Vec<FieldValue>,
    field: &'static str,
    value: Option<&T>,
) {
    if let Some(value) = value {
        out.push((Cow::Borrowed(field), value.to_value()));
    }
}

/// Appends the reference column `relationship.Field` (e.g. `Contact__r.Stripe_Customer_ID__c`)
/// with the external id as text, if there is a reference.
pub fn push_ref<R: ExternalRef>(
    out: &mut Vec<FieldValue>,
    relationship: &'static str,
    reference: Option<&R>,
) {
    if let Some(reference) = reference {
        out.push((
            Cow::Owned(format!("{relationship}.{}", reference.field())),
            Value::Text(reference.value().to_owned()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::picklist::tests::Color;
    use time::macros::{date, datetime, time};

    #[test]
    fn conversions() {
        assert_eq!("a".to_value(), Value::Text("a".to_owned()));
        assert_eq!(String::from("b").to_value(), Value::Text("b".to_owned()));
        assert_eq!(7i64.to_value(), Value::Integer(7));
        assert_eq!(true.to_value(), Value::Bool(true));
        assert_eq!(
            Decimal::new(1250, 2).to_value(),
            Value::Decimal(Decimal::new(1250, 2))
        );
        assert_eq!(
            date!(2024 - 01 - 02).to_value(),
            Value::Date(date!(2024 - 01 - 02))
        );
        assert_eq!(time!(1:02).to_value(), Value::Time(time!(1:02)));
        assert_eq!(
            datetime!(2024-01-02 0:00 UTC).to_value(),
            Value::DateTime(datetime!(2024-01-02 0:00 UTC))
        );
        assert_eq!(Color::Green.to_value(), Value::Text("Green".to_owned()));
        assert_eq!(
            vec![Color::Red, Color::Green].to_value(),
            Value::Text("Red;Green".to_owned())
        );
        assert_eq!(Vec::<Color>::new().to_value(), Value::Null);
        assert_eq!(None::<i64>.to_value(), Value::Null);
    }

    #[test]
    fn pushes_skip_nothing() {
        let mut out = Vec::new();
        push_patch(&mut out, "A__c", &Patch::<String>::Skip);
        push_patch(&mut out, "B__c", &Patch::<String>::Null);
        push_patch(&mut out, "C__c", &Patch::Set(3i64));
        push_option(&mut out, "D__c", None::<&String>);
        push_option(&mut out, "E__c", Some("e"));
        let names: Vec<_> = out.iter().map(|(name, _)| name.as_ref()).collect();
        assert_eq!(names, ["B__c", "C__c", "E__c"]);
        assert_eq!(out[0].1, Value::Null);
        assert_eq!(out[1].1, Value::Integer(3));
    }

    #[test]
    fn display_is_salesforce_text() {
        assert_eq!(Value::Decimal(Decimal::new(-5, 3)).to_string(), "-0.005");
        assert_eq!(
            Value::DateTime(datetime!(2024-01-02 3:04:05.006 UTC)).to_string(),
            "2024-01-02T03:04:05.006Z"
        );
        assert_eq!(Value::Null.to_string(), "");
    }
}
