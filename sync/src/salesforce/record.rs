//! Records on the wire: writes turned into JSON (exact numbers, `attributes.type`, the
//! external id taken out where Salesforce wants it in the URL), and [`RecordResult`], the
//! outcome of writing one record.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;
use sfdc_types::{Value, Writable};

use super::error::{ApiError, Error, ErrorClass};

/// What happened to one record of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordResult {
    /// A new record was created.
    Created {
        /// Its Id.
        id: String,
    },
    /// An existing record was updated.
    Updated {
        /// Its Id (`None` when Salesforce answered 204 without a body).
        id: Option<String>,
    },
    /// The record was refused.
    Failed {
        /// Why.
        errors: Vec<ApiError>,
    },
    /// The record was never processed (its Bulk job failed or was aborted first, or Salesforce
    /// reported nothing for it).
    Unprocessed,
}

impl RecordResult {
    /// Whether the record was written.
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            RecordResult::Created { .. } | RecordResult::Updated { .. }
        )
    }

    /// The record's Id, when known.
    pub fn id(&self) -> Option<&str> {
        match self {
            RecordResult::Created { id } => Some(id),
            RecordResult::Updated { id } => id.as_deref(),
            _ => None,
        }
    }

    /// The errors of a refused record (none otherwise).
    pub fn errors(&self) -> &[ApiError] {
        match self {
            RecordResult::Failed { errors } => errors,
            _ => &[],
        }
    }

    /// For a refused or unprocessed record, whether sending it again may work.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            RecordResult::Failed { errors } => Some(super::error::classify(None, errors)),
            RecordResult::Unprocessed => Some(ErrorClass::Retryable),
            _ => None,
        }
    }

    /// The result of a Salesforce save or upsert result.
    pub(crate) fn from_save(
        success: bool,
        created: Option<bool>,
        id: Option<String>,
        errors: Vec<super::api::types::ApiError>,
    ) -> Self {
        match (success, created, id) {
            (true, Some(true), Some(id)) => RecordResult::Created { id },
            (true, _, id) => RecordResult::Updated { id },
            (false, _, _) => RecordResult::Failed {
                errors: errors.into_iter().map(ApiError::from).collect(),
            },
        }
    }
}

impl From<super::api::types::ApiError> for ApiError {
    fn from(error: super::api::types::ApiError) -> Self {
        ApiError {
            error_code: error.error_code.or(error.status_code).unwrap_or_default(),
            message: error.message.unwrap_or_default(),
            fields: error.fields.unwrap_or_default(),
        }
    }
}

/// A record as a JSON object of raw values (numbers keep their exact text).
pub(crate) type JsonObject = BTreeMap<String, Box<RawValue>>;

/// `record` as a JSON object; fails if it does not serialize to one.
pub(crate) fn to_object(operation: &str, record: &impl Serialize) -> Result<JsonObject, Error> {
    let raw = serde_json::value::to_raw_value(record).map_err(|e| {
        Error::invalid(
            operation,
            format!("the record cannot be written as JSON: {e}"),
        )
    })?;
    serde_json::from_str(raw.get())
        .map_err(|_| Error::invalid(operation, "the record is not a JSON object"))
}

/// `object` as raw JSON text.
pub(crate) fn to_raw(operation: &str, object: &JsonObject) -> Result<Box<RawValue>, Error> {
    serde_json::value::to_raw_value(object).map_err(|e| {
        Error::invalid(
            operation,
            format!("the record cannot be written as JSON: {e}"),
        )
    })
}

/// Sets `attributes` to `{"type": sobject}` (what Collections and Composite want).
pub(crate) fn set_type(
    operation: &str,
    object: &mut JsonObject,
    sobject: &str,
) -> Result<(), Error> {
    let attributes = serde_json::value::to_raw_value(&serde_json::json!({ "type": sobject }))
        .map_err(|e| Error::invalid(operation, e.to_string()))?;
    object.insert("attributes".to_owned(), attributes);
    Ok(())
}

/// Removes `field` (case-insensitively) and any `attributes`, as in the body of an upsert by
/// that field.
pub(crate) fn without_field(mut object: JsonObject, field: &str) -> JsonObject {
    object.retain(|name, _| !name.eq_ignore_ascii_case(field) && name != "attributes");
    object
}

/// The value of `field` in `object` as text: a string, or a number's text.
pub(crate) fn field_text(object: &JsonObject, field: &str) -> Option<String> {
    let raw = object
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(field))?
        .1;
    match serde_json::from_str::<serde_json::Value>(raw.get()).ok()? {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Number(_) => Some(raw.get().to_owned()),
        _ => None,
    }
}

/// The text of a write's `field`, e.g. its external id; `None` when unset or null.
pub(crate) fn writable_text<W: Writable>(record: &W, field: &str) -> Option<String> {
    record
        .values()
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(field))
        .and_then(|(_, value)| match value {
            Value::Null => None,
            Value::Text(text) if text.is_empty() => None,
            value => Some(value.to_string()),
        })
}

/// Checks that `field` is an external id (or `Id`) of `W`'s object.
pub(crate) fn check_external_id<W: Writable>(operation: &str, field: &str) -> Result<(), Error> {
    use sfdc_types::SObject;
    let describe = W::Read::describe();
    match describe.field(field) {
        Some(f) if f.external_id || f.api_name.eq_ignore_ascii_case("Id") => Ok(()),
        Some(_) => Err(Error::invalid(
            operation,
            format!(
                "{field} is not an external id field of {}",
                describe.api_name
            ),
        )),
        None if field.eq_ignore_ascii_case("Id") => Ok(()),
        None => Err(Error::invalid(
            operation,
            format!("{} has no field {field}", describe.api_name),
        )),
    }
}

/// Percent-encodes `text` for a URL query value or path segment (all but `A-Za-z0-9-._~`).
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_keep_exact_numbers() {
        let object = to_object(
            "t",
            &serde_json::from_str::<Box<RawValue>>(
                r#"{"A__c": 12345678901234567.89, "B__c": "x"}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(object["A__c"].get(), "12345678901234567.89");
        assert_eq!(
            field_text(&object, "a__c").as_deref(),
            Some("12345678901234567.89")
        );
        assert_eq!(field_text(&object, "B__c").as_deref(), Some("x"));
        let mut object = without_field(object, "b__C");
        assert_eq!(object.len(), 1);
        set_type("t", &mut object, "Thing__c").unwrap();
        assert_eq!(
            to_raw("t", &object).unwrap().get(),
            r#"{"A__c":12345678901234567.89,"attributes":{"type":"Thing__c"}}"#
        );
        assert!(to_object("t", &[1, 2]).is_err());
    }

    #[test]
    fn encodes() {
        assert_eq!(percent_encode("a b/c?d=é"), "a%20b%2Fc%3Fd%3D%C3%A9");
        assert_eq!(percent_encode("cus_AZ-1.~"), "cus_AZ-1.~");
    }
}
