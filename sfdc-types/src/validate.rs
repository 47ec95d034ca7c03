//! Checking a write against the describe before Salesforce sees it.
//!
//! Every violation is reported, never only the first, so one failed batch shows everything
//! to fix. The checks follow Salesforce's own rules: text length in UTF-16 code units,
//! number digits against precision and scale (Salesforce would silently round extra
//! decimals: here they are reported), restricted picklist values matched exactly, required
//! fields present on create.

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value as Json};

use crate::describe::{FieldDescribe, FieldType, ObjectDescribe, Schema};
use crate::format::{self, FormatError};
use crate::value::Value;

/// What a write does, which decides whether required fields must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Create a record: required fields must have a value.
    Insert,
    /// Change an existing record: absent fields stay as they are.
    Update,
    /// Create or change a record by external id: checked like an insert.
    Upsert,
}

impl Operation {
    /// Whether required fields must be present (insert and upsert).
    pub fn checks_required(self) -> bool {
        matches!(self, Operation::Insert | Operation::Upsert)
    }
}

/// One thing wrong with a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// API name of the object.
    pub object: String,
    /// API name of the field or column (e.g. `Contact__r.Stripe_Customer_ID__c`); empty for
    /// a violation of the whole object.
    pub field: String,
    /// What is wrong.
    pub kind: ViolationKind,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.object, self.kind)
        } else {
            write!(f, "{}.{}: {}", self.object, self.field, self.kind)
        }
    }
}

/// What is wrong with one field of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViolationKind {
    /// The object is not in the schema.
    UnknownObject,
    /// The object has no such field.
    UnknownField,
    /// The field is computed by Salesforce and cannot be written.
    ReadOnly,
    /// The text is longer than the field allows, in UTF-16 code units.
    TooLong {
        /// Maximum length.
        max: u32,
        /// Length of the value.
        actual: u32,
    },
    /// The value is not one of a restricted picklist's values.
    NotInPicklist {
        /// The value given (one item of a multi-select).
        value: String,
    },
    /// A required field has no value.
    MissingRequired,
    /// The number has more digits before or after the decimal point than the field holds.
    TooManyDigits {
        /// Total digits of the field.
        precision: u32,
        /// Digits after the decimal point.
        scale: u32,
        /// The number given.
        value: String,
    },
    /// The value is of the wrong kind for the field.
    WrongType {
        /// Type of the field.
        expected: FieldType,
        /// Kind of the value given, e.g. `text` or `number`.
        found: String,
    },
    /// The text is not a valid value of the field's format.
    InvalidFormat {
        /// The format expected, e.g. `email address`.
        expected: &'static str,
        /// The text given.
        value: String,
    },
    /// A reference to a parent record by external id is not usable.
    BadReference {
        /// Why.
        detail: String,
    },
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViolationKind::UnknownObject => f.write_str("unknown object"),
            ViolationKind::UnknownField => f.write_str("unknown field"),
            ViolationKind::ReadOnly => f.write_str("read-only field, cannot be written"),
            ViolationKind::TooLong { max, actual } => {
                write!(f, "{actual} characters, at most {max} allowed")
            }
            ViolationKind::NotInPicklist { value } => {
                write!(f, "{value:?} is not a value of the restricted picklist")
            }
            ViolationKind::MissingRequired => f.write_str("required field has no value"),
            ViolationKind::TooManyDigits {
                precision,
                scale,
                value,
            } => write!(
                f,
                "{value} has too many digits: at most {} before and {scale} after the decimal point",
                precision.saturating_sub(*scale)
            ),
            ViolationKind::WrongType { expected, found } => {
                write!(f, "expected a {expected} value, found {found}")
            }
            ViolationKind::InvalidFormat { expected, value } => {
                write!(f, "invalid {expected}: {value:?}")
            }
            ViolationKind::BadReference { detail } => write!(f, "bad reference: {detail}"),
        }
    }
}

/// Every violation found in a write; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// The violations, in the order found: fields as given, then missing required fields.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }

    /// How many violations there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Violations {
    /// One violation per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, violation) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

const EMAIL: &str = "email address";
const SALESFORCE_ID: &str = "Salesforce Id (15 or 18 letters and digits)";
const NUMBER: &str = "number";

impl Schema {
    /// Checks typed values (as listed by `Writable::values`) for `object`.
    ///
    /// A name `Rel__r.Field__c` is a reference to a parent by external id (or `Id`). `Id`
    /// itself may be given to an update or upsert, not to an insert.
    pub fn validate(
        &self,
        object: &str,
        values: &[(Cow<'_, str>, Value)],
        op: Operation,
    ) -> Result<(), Violations> {
        let describe = self.object(object).ok_or_else(|| unknown_object(object))?;
        validate_values(self, describe, values, op)
    }

    /// Checks a JSON record as sent to the REST API for `object`.
    ///
    /// Values are converted with the describe (numbers from JSON numbers or numeric strings,
    /// dates and times from their Salesforce text). The `attributes` key is ignored. A key
    /// whose value is an object, such as `"Contact__r": {"Stripe_Customer_ID__c": "cus_1"}`,
    /// is a reference to a parent: the relationship must exist and the inner object must have
    /// exactly one key, an external id field (or `Id`) of the referenced object.
    pub fn validate_json(
        &self,
        object: &str,
        record: &Map<String, Json>,
        op: Operation,
    ) -> Result<(), Violations> {
        let describe = self.object(object).ok_or_else(|| unknown_object(object))?;
        let mut checker = Checker::new(self, describe, op);
        for (key, json) in record {
            if key != "attributes" {
                checker.json_entry(key, json);
            }
        }
        checker.finish()
    }
}

/// Checks typed values against `describe`, resolving references through `schema`.
pub(crate) fn validate_values(
    schema: &Schema,
    describe: &ObjectDescribe,
    values: &[(Cow<'_, str>, Value)],
    op: Operation,
) -> Result<(), Violations> {
    let mut checker = Checker::new(schema, describe, op);
    for (name, value) in values {
        checker.entry(name, value);
    }
    checker.finish()
}

fn unknown_object(object: &str) -> Violations {
    Violations(vec![Violation {
        object: object.to_owned(),
        field: String::new(),
        kind: ViolationKind::UnknownObject,
    }])
}

/// Collects the violations of one write.
struct Checker<'a> {
    schema: &'a Schema,
    object: &'a ObjectDescribe,
    op: Operation,
    /// API names of the fields given a value or `null`, lookups given by reference included.
    given: Vec<&'a str>,
    violations: Vec<Violation>,
}

impl<'a> Checker<'a> {
    fn new(schema: &'a Schema, object: &'a ObjectDescribe, op: Operation) -> Self {
        Self {
            schema,
            object,
            op,
            given: Vec::new(),
            violations: Vec::new(),
        }
    }

    fn report(&mut self, field: &str, kind: ViolationKind) {
        self.violations.push(Violation {
            object: self.object.api_name.to_string(),
            field: field.to_owned(),
            kind,
        });
    }

    /// One typed value: a field, `Id`, or a reference column `Rel__r.Field__c`.
    fn entry(&mut self, name: &str, value: &Value) {
        if let Some((relationship, target_field)) = name.split_once('.') {
            self.reference(name, relationship, target_field, value);
        } else if name.eq_ignore_ascii_case("Id") {
            self.record_id(name, value);
        } else if let Some(field) = self.object.field(name) {
            self.given.push(&field.api_name);
            self.field(field, value);
        } else {
            self.report(name, ViolationKind::UnknownField);
        }
    }

    /// One JSON entry, converted with the describe, then checked like a typed value.
    fn json_entry(&mut self, key: &str, json: &Json) {
        if let Json::Object(inner) = json
            && (self.object.field_by_relationship(key).is_some()
                || self.object.field(key).is_none())
        {
            self.json_reference(key, inner);
            return;
        }
        let field_type = if key.eq_ignore_ascii_case("Id") {
            FieldType::Id
        } else if let Some(field) = self.object.field(key) {
            field.field_type
        } else {
            self.report(key, ViolationKind::UnknownField);
            return;
        };
        match json_to_value(field_type, json) {
            Ok(value) => self.entry(key, &value),
            Err(kind) => {
                if let Some(field) = self.object.field(key) {
                    self.given.push(&field.api_name);
                }
                self.report(key, kind);
            }
        }
    }

    /// `"Rel__r": {"Field__c": "value"}` in JSON.
    fn json_reference(&mut self, key: &str, inner: &Map<String, Json>) {
        let keys: Vec<&String> = inner.keys().filter(|k| *k != "attributes").collect();
        let [target_field] = keys[..] else {
            if let Some(lookup) = self.object.field_by_relationship(key) {
                self.given.push(&lookup.api_name);
            }
            let names: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
            self.report(
                key,
                ViolationKind::BadReference {
                    detail: format!(
                        "expected exactly one external id field, found {}{}{}",
                        keys.len(),
                        if keys.is_empty() { "" } else { ": " },
                        names.join(", ")
                    ),
                },
            );
            return;
        };
        let value = match &inner[target_field] {
            Json::String(text) => Value::Text(text.clone()),
            Json::Number(number) => Value::Text(number.to_string()),
            Json::Null => Value::Null,
            other => {
                if let Some(lookup) = self.object.field_by_relationship(key) {
                    self.given.push(&lookup.api_name);
                }
                self.report(
                    &format!("{key}.{target_field}"),
                    ViolationKind::BadReference {
                        detail: format!("external id must be a string, found {}", json_kind(other)),
                    },
                );
                return;
            }
        };
        self.reference(&format!("{key}.{target_field}"), key, target_field, &value);
    }

    /// `Id`: only an update or upsert names the record by it.
    fn record_id(&mut self, name: &str, value: &Value) {
        if self.op == Operation::Insert {
            self.report(name, ViolationKind::ReadOnly);
        } else if value.is_null() {
            self.report(name, ViolationKind::MissingRequired);
        } else {
            self.check(FieldType::Id, None, name, value);
        }
    }

    /// A field of this object.
    fn field(&mut self, field: &'a FieldDescribe, value: &Value) {
        if field.read_only {
            self.report(&field.api_name, ViolationKind::ReadOnly);
        } else if value.is_null() {
            if field.required {
                self.report(&field.api_name, ViolationKind::MissingRequired);
            }
        } else {
            self.check(field.field_type, Some(field), &field.api_name, value);
        }
    }

    /// A parent named by one of its external id fields: `Rel__r.Field__c`.
    fn reference(&mut self, column: &str, relationship: &str, target_field: &str, value: &Value) {
        let bad = |detail: String| ViolationKind::BadReference { detail };
        let Some(lookup) = self.object.field_by_relationship(relationship) else {
            let detail = format!(
                "{} has no relationship named {relationship}",
                self.object.api_name
            );
            self.report(column, bad(detail));
            return;
        };
        self.given.push(&lookup.api_name);
        if lookup.read_only {
            self.report(column, ViolationKind::ReadOnly);
            return;
        }
        let Some(target_name) = lookup.reference_to.as_deref() else {
            let detail = format!("{} does not name the object it references", lookup.api_name);
            self.report(column, bad(detail));
            return;
        };
        let Some(target) = self.schema.object(target_name) else {
            let detail = format!("referenced object {target_name} is not in the schema");
            self.report(column, bad(detail));
            return;
        };
        let target_describe = target.field(target_field);
        let is_id = target_field.eq_ignore_ascii_case("Id")
            || target_describe.is_some_and(|f| f.field_type == FieldType::Id);
        if !is_id && !target_describe.is_some_and(|f| f.external_id) {
            let detail = match target_describe {
                None => format!("{target_name} has no field {target_field}"),
                Some(f) => format!("{target_name}.{} is not an external id field", f.api_name),
            };
            self.report(column, bad(detail));
            return;
        }
        if value.is_null() {
            self.report(column, bad("no external id value given".to_owned()));
            return;
        }
        let field_type = if is_id {
            FieldType::Id
        } else {
            target_describe.map_or(FieldType::Text, |f| f.field_type)
        };
        self.check(field_type, target_describe, column, value);
    }

    /// Type, length, format, picklist and digits of a non-null value.
    fn check(
        &mut self,
        field_type: FieldType,
        field: Option<&FieldDescribe>,
        column: &str,
        value: &Value,
    ) {
        let wrong_type = || ViolationKind::WrongType {
            expected: field_type,
            found: value.kind().to_owned(),
        };
        match (field_type, value) {
            (FieldType::Number | FieldType::Currency | FieldType::Percent, Value::Decimal(_))
            | (FieldType::Number | FieldType::Currency | FieldType::Percent, Value::Integer(_)) => {
                if let Some(kind) = field.and_then(|field| digits_violation(field, value)) {
                    self.report(column, kind);
                }
            }
            (FieldType::Checkbox, Value::Bool(_))
            | (FieldType::Date, Value::Date(_))
            | (FieldType::DateTime, Value::DateTime(_))
            | (FieldType::Time, Value::Time(_)) => {}
            (_, Value::Text(text)) if field_type.is_text() => {
                self.check_text(field_type, field, column, text);
            }
            _ => self.report(column, wrong_type()),
        }
    }

    fn check_text(
        &mut self,
        field_type: FieldType,
        field: Option<&FieldDescribe>,
        column: &str,
        text: &str,
    ) {
        let max = field.and_then(FieldDescribe::max_length);
        let actual = u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX);
        if let Some(max) = max.filter(|max| actual > *max) {
            self.report(column, ViolationKind::TooLong { max, actual });
        }
        let invalid = |expected| ViolationKind::InvalidFormat {
            expected,
            value: text.to_owned(),
        };
        match field_type {
            FieldType::Id | FieldType::Lookup | FieldType::MasterDetail
                if !is_salesforce_id(text) =>
            {
                self.report(column, invalid(SALESFORCE_ID));
            }
            FieldType::Email if !is_email(text) => self.report(column, invalid(EMAIL)),
            FieldType::Picklist | FieldType::MultiselectPicklist => {
                let Some(picklist) = field.and_then(|f| f.picklist.as_ref()) else {
                    return;
                };
                if !picklist.restricted {
                    return;
                }
                let items: Vec<&str> = if field_type == FieldType::Picklist {
                    vec![text]
                } else {
                    text.split(';').collect()
                };
                for item in items {
                    if !picklist.contains(item) {
                        let value = item.to_owned();
                        self.report(column, ViolationKind::NotInPicklist { value });
                    }
                }
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Result<(), Violations> {
        if self.op.checks_required() {
            let object = self.object;
            for field in object.fields.iter() {
                let needs_value = field.required
                    && !field.read_only
                    && field.default_value.is_none()
                    && field.field_type != FieldType::Checkbox;
                if needs_value && !self.given.contains(&field.api_name.as_ref()) {
                    self.report(&field.api_name, ViolationKind::MissingRequired);
                }
            }
        }
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(Violations(self.violations))
        }
    }
}

/// The digits of a number against the field's precision and scale.
fn digits_violation(field: &FieldDescribe, value: &Value) -> Option<ViolationKind> {
    let precision = field.precision?;
    let scale = field.scale.unwrap_or(0);
    let decimal = match value {
        Value::Decimal(decimal) => *decimal,
        Value::Integer(integer) => (*integer).into(),
        _ => return None,
    };
    let whole = decimal.abs().trunc();
    let integer_digits = if whole.is_zero() {
        0
    } else {
        whole.normalize().to_string().len() as u32
    };
    let fraction_digits = decimal.normalize().scale();
    (integer_digits > precision.saturating_sub(scale) || fraction_digits > scale).then(|| {
        ViolationKind::TooManyDigits {
            precision,
            scale,
            value: value.to_string(),
        }
    })
}

/// 15 or 18 ASCII letters and digits.
fn is_salesforce_id(text: &str) -> bool {
    matches!(text.len(), 15 | 18) && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `local@domain.tld`: a non-empty local part without spaces or specials, a domain of at
/// least two dot-separated labels of letters, digits and hyphens, a top-level label of two
/// letters or more.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) || !c.is_ascii()
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        })
        && labels.last().is_some_and(|tld| {
            tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit())
        });
    local_ok && domain_ok
}

/// A JSON value as a typed value of a field of `field_type`.
fn json_to_value(field_type: FieldType, json: &Json) -> Result<Value, ViolationKind> {
    let wrong_type = || ViolationKind::WrongType {
        expected: field_type,
        found: json_kind(json).to_owned(),
    };
    let invalid = |error: FormatError| ViolationKind::InvalidFormat {
        expected: error.expected,
        value: error.value,
    };
    if json.is_null() {
        return Ok(Value::Null);
    }
    match field_type {
        _ if field_type.is_text() => match json {
            Json::String(text) => Ok(Value::Text(text.clone())),
            _ => Err(wrong_type()),
        },
        FieldType::Number | FieldType::Currency | FieldType::Percent => {
            let text = match json {
                Json::Number(number) => number.to_string(),
                Json::String(text) => text.clone(),
                _ => return Err(wrong_type()),
            };
            format::parse_decimal(&text)
                .map(Value::Decimal)
                .map_err(|_| ViolationKind::InvalidFormat {
                    expected: NUMBER,
                    value: text,
                })
        }
        FieldType::Checkbox => json.as_bool().map(Value::Bool).ok_or_else(wrong_type),
        FieldType::Date | FieldType::DateTime | FieldType::Time => {
            let Json::String(text) = json else {
                return Err(wrong_type());
            };
            match field_type {
                FieldType::Date => format::parse_date(text).map(Value::Date),
                FieldType::DateTime => format::parse_datetime(text).map(Value::DateTime),
                _ => format::parse_time(text).map(Value::Time),
            }
            .map_err(invalid)
        }
        _ => Err(wrong_type()),
    }
}

/// The kind of a JSON value, for messages.
fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in ["a@b.co", "first.last+tag@mail.example.org", "é@exämple.de"] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a@b.", "a b@c.de", "a@b..co", ".a@b.co", "a@b.c",
            "a@-b.co", "a@b.123",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn salesforce_ids() {
        assert!(is_salesforce_id("003000000000001"));
        assert!(is_salesforce_id("003000000000001AAA"));
        assert!(!is_salesforce_id("0030000000000011"));
        assert!(!is_salesforce_id("003-00000000001"));
    }

    #[test]
    fn digits() {
        let field = FieldDescribe {
            field_type: FieldType::Currency,
            precision: Some(5),
            scale: Some(2),
            ..FieldDescribe::DEFAULT
        };
        let dec = |text: &str| Value::Decimal(text.parse().unwrap());
        for fits in ["999.99", "-999.99", "0.5", "12.500", "0", "100"] {
            assert_eq!(digits_violation(&field, &dec(fits)), None, "{fits}");
        }
        for too_many in ["1000", "0.125", "-1000.5"] {
            assert!(
                digits_violation(&field, &dec(too_many)).is_some(),
                "{too_many}"
            );
        }
        assert!(digits_violation(&field, &Value::Integer(1000)).is_some());
        assert_eq!(digits_violation(&field, &Value::Integer(-999)), None);
    }

    #[test]
    fn unknown_object_display() {
        let schema = Schema {
            objects: Cow::Borrowed(&[]),
        };
        let error = schema
            .validate("Nope__c", &[], Operation::Insert)
            .unwrap_err();
        assert_eq!(error.to_string(), "Nope__c: unknown object");
    }
}
