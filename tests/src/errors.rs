//! Errors in Salesforce's shapes: the REST error list, the per-record error of a save
//! result, and [`SimError`] for the library API.

use serde_json::{Value as Json, json};

/// One error of one record, as Salesforce reports a failed save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// Salesforce's status code, e.g. `REQUIRED_FIELD_MISSING`.
    pub error_code: String,
    /// Salesforce's message, e.g. `Required fields are missing: [Name]`.
    pub message: String,
    /// API names of the fields concerned (may be empty).
    pub fields: Vec<String>,
}

impl RecordError {
    /// An error with this code, message and fields.
    pub fn new(code: &str, message: impl Into<String>, fields: Vec<String>) -> Self {
        Self {
            error_code: code.to_owned(),
            message: message.into(),
            fields,
        }
    }

    /// As in a REST error list: `{"message", "errorCode", "fields"}`.
    pub(crate) fn rest_json(&self) -> Json {
        json!({"message": self.message, "errorCode": self.error_code, "fields": self.fields})
    }

    /// As in a save result: `{"statusCode", "message", "fields"}`.
    pub(crate) fn save_json(&self) -> Json {
        json!({"statusCode": self.error_code, "message": self.message, "fields": self.fields})
    }

    /// As in a Bulk API failed-results row: `CODE:message:Field1,Field2 --`.
    pub(crate) fn bulk_text(&self) -> String {
        format!(
            "{}:{}:{} --",
            self.error_code,
            self.message,
            self.fields.join(",")
        )
    }
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_code, self.message)?;
        if !self.fields.is_empty() {
            write!(f, " [{}]", self.fields.join(", "))?;
        }
        Ok(())
    }
}

/// What the library API of the simulator can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The object is not part of the org's data model.
    #[error("unknown object {object}: it is not in the force-app data model")]
    UnknownObject {
        /// The name given.
        object: String,
    },
    /// The org rejected the record, with the errors Salesforce would answer.
    #[error("the {object} record was rejected: {}", list(errors))]
    Rejected {
        /// API name of the object.
        object: String,
        /// Every error, in Salesforce's order.
        errors: Vec<RecordError>,
    },
}

fn list(errors: &[RecordError]) -> String {
    errors
        .iter()
        .map(RecordError::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A failed REST call: an HTTP status and Salesforce's error list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The list answered as the body.
    pub body: Json,
}

impl ApiError {
    /// A single error without `fields`, the shape of request-level errors.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        let message: String = message.into();
        Self {
            status,
            body: json!([{"message": message, "errorCode": code}]),
        }
    }

    /// The errors of a rejected record, with their `fields`.
    pub fn records(status: u16, errors: &[RecordError]) -> Self {
        Self {
            status,
            body: Json::Array(errors.iter().map(RecordError::rest_json).collect()),
        }
    }

    /// 400 with this code and message.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    /// 404 NOT_FOUND `The requested resource does not exist`.
    pub fn not_found() -> Self {
        Self::new(404, "NOT_FOUND", "The requested resource does not exist")
    }

    /// 400 JSON_PARSER_ERROR.
    pub fn json_parser(message: impl Into<String>) -> Self {
        Self::new(400, "JSON_PARSER_ERROR", message)
    }

    /// 405 METHOD_NOT_ALLOWED naming the methods the resource accepts.
    pub fn method_not_allowed(method: &str, allowed: &str) -> Self {
        Self::new(
            405,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
        )
    }

    /// 401 INVALID_SESSION_ID `Session expired or invalid`.
    pub fn invalid_session() -> Self {
        Self::new(401, "INVALID_SESSION_ID", "Session expired or invalid")
    }

    /// The `errorCode` of the first error, for tests and logs.
    #[cfg(test)]
    pub fn code(&self) -> &str {
        self.body[0]["errorCode"].as_str().unwrap_or_default()
    }
}
