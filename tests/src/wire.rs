//! Field values on the wire: REST JSON in and out, Bulk CSV cells in, and Salesforce's
//! datetime form `2026-11-23T15:51:00.000+0000`.
//!
//! Parsing is as lenient as Salesforce's own deserializer (numbers from numeric strings,
//! text from numbers, empty text as null) and fails where it fails (`JSON_PARSER_ERROR`).

use serde_json::{Map, Number, Value as Json};
use sfdc_types::rust_decimal::Decimal;
use sfdc_types::rust_decimal::prelude::ToPrimitive;
use sfdc_types::time::OffsetDateTime;
use sfdc_types::{FieldDescribe, FieldType, FormatError, Value, format};

use crate::errors::ApiError;

/// `2026-11-23T15:51:00.000+0000`: the form Salesforce answers datetimes in.
pub fn datetime_text(datetime: OffsetDateTime) -> String {
    let text = format::format_datetime(datetime);
    match text.strip_suffix('Z') {
        Some(base) => format!("{base}+0000"),
        None => text,
    }
}

/// A stored value as Salesforce answers it in JSON (numbers as JSON numbers, dates and
/// times as text).
pub fn value_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(flag) => Json::Bool(*flag),
        Value::Text(text) => Json::String(text.clone()),
        Value::Decimal(decimal) => decimal_json(decimal),
        Value::Integer(integer) => Json::Number((*integer).into()),
        Value::Date(date) => Json::String(format::format_date(*date)),
        Value::DateTime(datetime) => Json::String(datetime_text(*datetime)),
        Value::Time(time) => Json::String(format::format_time(*time)),
    }
}

/// A number as Salesforce's JSON has it: a double (`12.5`, `3.0`).
fn decimal_json(decimal: &Decimal) -> Json {
    decimal
        .to_f64()
        .and_then(Number::from_f64)
        .map_or(Json::Null, Json::Number)
}

/// A stored value as Bulk CSV text (empty for null).
pub fn value_text(value: &Value) -> String {
    match value {
        Value::DateTime(datetime) => datetime_text(*datetime),
        other => other.to_string(),
    }
}

/// The SOAP type name Salesforce uses in messages about a field (`string`, `double`, …).
pub fn soap_type(field_type: FieldType) -> &'static str {
    match field_type {
        FieldType::Id => "id",
        FieldType::Text | FieldType::AutoNumber => "string",
        FieldType::TextArea | FieldType::LongTextArea | FieldType::Html => "textarea",
        FieldType::Email => "email",
        FieldType::Phone => "phone",
        FieldType::Url => "url",
        FieldType::EncryptedText => "encryptedstring",
        FieldType::Number => "double",
        FieldType::Currency => "currency",
        FieldType::Percent => "percent",
        FieldType::Checkbox => "boolean",
        FieldType::Date => "date",
        FieldType::DateTime => "datetime",
        FieldType::Time => "time",
        FieldType::Picklist => "picklist",
        FieldType::MultiselectPicklist => "multipicklist",
        FieldType::Lookup | FieldType::MasterDetail => "reference",
        FieldType::Location => "location",
    }
}

/// The JSON token kind Salesforce's parser names in messages (`VALUE_STRING`, …).
fn token_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "VALUE_NULL",
        Json::Bool(true) => "VALUE_TRUE",
        Json::Bool(false) => "VALUE_FALSE",
        Json::Number(number) if number.is_f64() => "VALUE_NUMBER_FLOAT",
        Json::Number(_) => "VALUE_NUMBER_INT",
        Json::String(_) => "VALUE_STRING",
        Json::Array(_) => "START_ARRAY",
        Json::Object(_) => "START_OBJECT",
    }
}

/// `Cannot deserialize instance of double from VALUE_STRING value abc …`.
fn cannot_deserialize(field: &FieldDescribe, json: &Json) -> ApiError {
    let shown = match json {
        Json::String(text) => text.clone(),
        other => other.to_string(),
    };
    ApiError::json_parser(format!(
        "Cannot deserialize instance of {} from {} value {shown} or request may be missing a required field ({})",
        soap_type(field.field_type),
        token_kind(json),
        field.api_name
    ))
}

/// A JSON value of a REST write as the typed value of `field`.
pub fn json_value(field: &FieldDescribe, json: &Json) -> Result<Value, ApiError> {
    let fail = || cannot_deserialize(field, json);
    if json.is_null() {
        return Ok(if field.field_type == FieldType::Checkbox {
            Value::Bool(false)
        } else {
            Value::Null
        });
    }
    let value = match field.field_type {
        kind if kind.is_text() => match json {
            Json::String(text) if text.is_empty() => Value::Null,
            Json::String(text) => Value::Text(text.clone()),
            Json::Number(number) => Value::Text(number.to_string()),
            Json::Bool(flag) => Value::Text(flag.to_string()),
            _ => return Err(fail()),
        },
        FieldType::Number | FieldType::Currency | FieldType::Percent => match json {
            Json::Number(number) => {
                Value::Decimal(format::parse_decimal(&number.to_string()).map_err(|_| fail())?)
            }
            Json::String(text) if text.trim().is_empty() => Value::Null,
            Json::String(text) => Value::Decimal(format::parse_decimal(text).map_err(|_| fail())?),
            _ => return Err(fail()),
        },
        FieldType::Checkbox => match json {
            Json::Bool(flag) => Value::Bool(*flag),
            Json::String(text) => Value::Bool(format::parse_bool(text).map_err(|_| fail())?),
            _ => return Err(fail()),
        },
        FieldType::Date | FieldType::DateTime | FieldType::Time => match json {
            Json::String(text) if text.is_empty() => Value::Null,
            Json::String(text) => text_value(field, text).map_err(|_| fail())?,
            _ => return Err(fail()),
        },
        _ => return Err(fail()),
    };
    Ok(value)
}

/// A non-empty Bulk CSV cell (or a URL segment) as the typed value of `field`.
pub fn text_value(field: &FieldDescribe, text: &str) -> Result<Value, FormatError> {
    Ok(match field.field_type {
        FieldType::Number | FieldType::Currency | FieldType::Percent => {
            Value::Decimal(format::parse_decimal(text)?)
        }
        FieldType::Checkbox => Value::Bool(format::parse_bool(text)?),
        FieldType::Date => match format::parse_date(text) {
            Ok(date) => Value::Date(date),
            Err(error) => Value::Date(format::parse_datetime(text).map_err(|_| error)?.date()),
        },
        FieldType::DateTime => Value::DateTime(format::parse_datetime(text)?),
        FieldType::Time => Value::Time(format::parse_time(text)?),
        _ => Value::Text(text.to_owned()),
    })
}

/// The text an external id or unique value is compared by: lower-cased unless the field
/// compares case-sensitively, numbers normalized.
pub fn match_key(field: Option<&FieldDescribe>, value: &Value) -> Option<String> {
    let case_sensitive = field.is_some_and(|field| field.case_sensitive);
    match value {
        Value::Null => None,
        Value::Text(text) if case_sensitive => Some(text.clone()),
        Value::Text(text) => Some(text.to_lowercase()),
        Value::Decimal(decimal) => Some(decimal.normalize().to_string()),
        other => Some(other.to_string()),
    }
}

/// Reads a JSON object out of a body, or a JSON_PARSER_ERROR naming the problem.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Json>, ApiError> {
    match parse_json(body)? {
        Json::Object(map) => Ok(map),
        other => Err(ApiError::json_parser(format!(
            "Cannot deserialize instance of SObject from {} value: the body must be a JSON object",
            token_kind(&other)
        ))),
    }
}

/// Reads any JSON out of a body, or a JSON_PARSER_ERROR with the line and column.
pub fn parse_json(body: &[u8]) -> Result<Json, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::json_parser(
            "No content to map due to end-of-input at [line:1, column:0]",
        ));
    }
    serde_json::from_slice(body).map_err(|error| {
        ApiError::json_parser(format!(
            "Unexpected character in the JSON body: {error} at [line:{}, column:{}]",
            error.line(),
            error.column()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(field_type: FieldType) -> FieldDescribe {
        FieldDescribe {
            api_name: "F__c".into(),
            field_type,
            ..FieldDescribe::DEFAULT
        }
    }

    #[test]
    fn datetimes_in_salesforce_form() {
        assert_eq!(
            datetime_text(format::parse_datetime("2026-11-23T15:51:00.5Z").unwrap()),
            "2026-11-23T15:51:00.500+0000"
        );
    }

    #[test]
    fn lenient_like_salesforce() {
        let number = field(FieldType::Currency);
        assert_eq!(
            json_value(&number, &json!("12.5")).unwrap(),
            Value::Decimal("12.5".parse().unwrap())
        );
        assert_eq!(json_value(&number, &json!("")).unwrap(), Value::Null);
        let text = field(FieldType::Text);
        assert_eq!(json_value(&text, &json!("")).unwrap(), Value::Null);
        assert_eq!(
            json_value(&text, &json!(42)).unwrap(),
            Value::Text("42".into())
        );
        let flag = field(FieldType::Checkbox);
        assert_eq!(json_value(&flag, &Json::Null).unwrap(), Value::Bool(false));
    }

    #[test]
    fn strict_where_salesforce_is() {
        let number = field(FieldType::Number);
        let error = json_value(&number, &json!("abc")).unwrap_err();
        assert_eq!(error.status, 400);
        assert_eq!(error.code(), "JSON_PARSER_ERROR");
        assert!(
            error.body[0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Cannot deserialize instance of double from VALUE_STRING value abc")
        );
        let date = field(FieldType::Date);
        assert!(json_value(&date, &json!("2026-13-01")).is_err());
        assert!(json_value(&field(FieldType::Checkbox), &json!(1)).is_err());
    }

    #[test]
    fn numbers_render_as_doubles() {
        assert_eq!(
            value_json(&Value::Decimal("5".parse().unwrap())).to_string(),
            "5.0"
        );
        assert_eq!(
            value_json(&Value::Decimal("12.50".parse().unwrap())).to_string(),
            "12.5"
        );
    }
}
