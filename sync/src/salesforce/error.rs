//! [`Error`]: what went wrong talking to Salesforce, with Salesforce's own error codes, and
//! its [`ErrorClass`] for the caller's retry policy.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;

/// How the caller should react to an error: the sync engine's retry policy reads this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Transient: try again later (5xx, `UNABLE_TO_LOCK_ROW`, timeouts, dropped connections).
    Retryable,
    /// The org's API quota is spent (`REQUEST_LIMIT_EXCEEDED`): wait for it to recover.
    Quota,
    /// Credentials or session refused, or API access disabled: needs someone to fix the
    /// connected app or the integration user.
    Auth,
    /// The request itself is wrong (validation, picklist, missing field, ...): retrying the
    /// same request fails the same way.
    Permanent,
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorClass::Retryable => "retryable",
            ErrorClass::Quota => "quota",
            ErrorClass::Auth => "auth",
            ErrorClass::Permanent => "permanent",
        })
    }
}

/// One error as Salesforce reports it, for a whole request or for one record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    /// Salesforce's code, e.g. `REQUIRED_FIELD_MISSING` (empty when the answer had none).
    #[serde(default, rename = "errorCode", alias = "statusCode")]
    pub error_code: String,
    /// Salesforce's message.
    #[serde(default)]
    pub message: String,
    /// The fields the error is about, when Salesforce names them.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub fields: Vec<String>,
}

impl ApiError {
    /// An error with this code and message, about no field in particular.
    pub fn new(error_code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            error_code: error_code.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// The class of this error when it is reported for one record (no HTTP status).
    pub fn class(&self) -> ErrorClass {
        classify(None, std::slice::from_ref(self))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.error_code.is_empty(), self.message.is_empty()) {
            (false, false) => write!(f, "{}: {}", self.error_code, self.message)?,
            (false, true) => f.write_str(&self.error_code)?,
            (true, _) => f.write_str(&self.message)?,
        }
        if !self.fields.is_empty() {
            write!(f, " (fields: {})", self.fields.join(", "))?;
        }
        Ok(())
    }
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// What kind of transport failure a [`Error::Transport`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No answer in time.
    Timeout,
    /// Could not connect.
    Connect,
    /// The connection broke while sending the request or reading the answer.
    Connection,
    /// The request could not be built (a bad URL, a body that cannot be encoded).
    Request,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "timed out",
            TransportKind::Connect => "cannot connect",
            TransportKind::Connection => "connection lost",
            TransportKind::Request => "cannot build the request",
        })
    }
}

impl TransportKind {
    /// The kind of a reqwest error.
    pub(crate) fn of(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            TransportKind::Timeout
        } else if error.is_connect() {
            TransportKind::Connect
        } else if error.is_builder() {
            TransportKind::Request
        } else {
            TransportKind::Connection
        }
    }
}

/// A failed Salesforce call. Every variant names the operation (and the record, job or
/// login URL) it is about; [`Error::class`] tells whether to retry.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Salesforce answered with an error status and its error list.
    #[error("{operation}: Salesforce answered {status}: {}", ErrorList(errors))]
    Api {
        /// What was being done, e.g. `upsert Stripe_Customer__c Stripe_Customer_ID__c=cus_1`.
        operation: String,
        /// HTTP status.
        status: u16,
        /// Salesforce's errors (one with an empty code when the body was not Salesforce's).
        errors: Vec<ApiError>,
    },
    /// An upsert by external id matched several records (300 Multiple Choices).
    #[error("{operation}: the external id matches {} records: {}", matches.len(), matches.join(", "))]
    MultipleMatches {
        /// The upsert, with its object, field and value.
        operation: String,
        /// URLs of the matching records, as Salesforce lists them.
        matches: Vec<String>,
    },
    /// The token endpoint refused the login.
    #[error("login to {login_url} ({flow}) failed with {status}: {error}: {description}")]
    Login {
        /// Login URL.
        login_url: String,
        /// OAuth flow: `client_credentials`, `refresh_token` or `jwt_bearer`.
        flow: &'static str,
        /// HTTP status.
        status: u16,
        /// OAuth `error`, e.g. `invalid_grant`.
        error: String,
        /// OAuth `error_description`.
        description: String,
    },
    /// No usable answer: timeout, connection refused or dropped.
    #[error("{operation}: {kind}: {source}")]
    Transport {
        /// What was being done.
        operation: String,
        /// Timeout, connect or connection.
        kind: TransportKind,
        /// The HTTP client's error.
        #[source]
        source: Arc<reqwest::Error>,
    },
    /// A successful status with an answer that cannot be read.
    #[error("{operation}: cannot read Salesforce's answer ({status}): {detail}")]
    Decode {
        /// What was being done.
        operation: String,
        /// HTTP status.
        status: u16,
        /// What is wrong with the answer.
        detail: String,
    },
    /// The request cannot be made as asked (too many subrequests, a record without its
    /// external id, a value that is not JSON, ...).
    #[error("{operation}: {reason}")]
    InvalidInput {
        /// What was being done.
        operation: String,
        /// What is wrong.
        reason: String,
    },
    /// The client is configured wrongly (bad login URL, private key that is not RSA PEM, ...).
    #[error("invalid Salesforce client configuration: {0}")]
    Config(String),
    /// A Bulk API 2.0 job did not finish in the time allowed; it goes on in Salesforce.
    #[error("bulk job {job_id} ({object}) not finished after {waited_secs} s (state {state})")]
    BulkTimeout {
        /// Job Id.
        job_id: String,
        /// Object of the job.
        object: String,
        /// Last state seen.
        state: String,
        /// Seconds waited.
        waited_secs: u64,
    },
}

/// Displays a list of API errors separated by `; `.
struct ErrorList<'a>(&'a [ApiError]);

impl fmt::Display for ErrorList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(no error body)");
        }
        for (position, error) in self.0.iter().enumerate() {
            if position > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl Error {
    /// Whether to retry, wait for quota, fix credentials or give up.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Api { status, errors, .. } => classify(Some(*status), errors),
            Error::Login { status, .. } => match status {
                408 | 429 | 500.. => ErrorClass::Retryable,
                _ => ErrorClass::Auth,
            },
            Error::Transport { kind, .. } => match kind {
                TransportKind::Request => ErrorClass::Permanent,
                _ => ErrorClass::Retryable,
            },
            Error::Decode { status, .. } if *status >= 500 => ErrorClass::Retryable,
            Error::BulkTimeout { .. } => ErrorClass::Retryable,
            Error::MultipleMatches { .. }
            | Error::Decode { .. }
            | Error::InvalidInput { .. }
            | Error::Config(_) => ErrorClass::Permanent,
        }
    }

    /// The HTTP status Salesforce answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. }
            | Error::Login { status, .. }
            | Error::Decode { status, .. } => Some(*status),
            Error::MultipleMatches { .. } => Some(300),
            _ => None,
        }
    }

    /// Salesforce's errors, if it sent any.
    pub fn api_errors(&self) -> &[ApiError] {
        match self {
            Error::Api { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The first Salesforce error code, e.g. `UNABLE_TO_LOCK_ROW` (the OAuth `error` of a
    /// login failure).
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Error::Api { errors, .. } => errors
                .iter()
                .map(|e| e.error_code.as_str())
                .find(|code| !code.is_empty()),
            Error::Login { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether this is Salesforce's answer to an expired or revoked session (401), after
    /// which the client logs in again and retries once.
    pub(crate) fn is_invalid_session(&self) -> bool {
        match self {
            Error::Api {
                status: 401,
                errors,
                ..
            } => errors
                .iter()
                .all(|e| e.error_code.is_empty() || e.error_code == "INVALID_SESSION_ID"),
            _ => false,
        }
    }

    /// A transport error of `operation`. The URL is left out of the source: `operation`
    /// says what was called, and a query string may hold personal data.
    pub(crate) fn transport(operation: impl Into<String>, source: reqwest::Error) -> Self {
        Error::Transport {
            operation: operation.into(),
            kind: TransportKind::of(&source),
            source: Arc::new(source.without_url()),
        }
    }

    /// An invalid-input error of `operation`.
    pub(crate) fn invalid(operation: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            operation: operation.into(),
            reason: reason.into(),
        }
    }

    /// The error Salesforce answered with `status` and `body`.
    pub(crate) fn from_body(operation: impl Into<String>, status: u16, body: &[u8]) -> Self {
        Error::Api {
            operation: operation.into(),
            status,
            errors: parse_errors(body),
        }
    }
}

/// The class of an error answer: quota wins over auth, auth over permanent, permanent over
/// retryable (retrying cannot fix a request with one permanent error among others).
pub(crate) fn classify(status: Option<u16>, errors: &[ApiError]) -> ErrorClass {
    let by_status = match status {
        Some(401) => ErrorClass::Auth,
        Some(408 | 429 | 500..) => ErrorClass::Retryable,
        _ => ErrorClass::Permanent,
    };
    if errors.is_empty() {
        return by_status;
    }
    let classes = errors
        .iter()
        .map(|e| class_of_code(&e.error_code, &e.message).unwrap_or(by_status));
    let mut worst = ErrorClass::Retryable;
    for class in classes {
        worst = match (worst, class) {
            (ErrorClass::Quota, _) | (_, ErrorClass::Quota) => ErrorClass::Quota,
            (ErrorClass::Auth, _) | (_, ErrorClass::Auth) => ErrorClass::Auth,
            (ErrorClass::Permanent, _) | (_, ErrorClass::Permanent) => ErrorClass::Permanent,
            _ => ErrorClass::Retryable,
        };
    }
    worst
}

/// The class of a Salesforce error code, for the codes whose class does not depend on the
/// HTTP status.
fn class_of_code(code: &str, message: &str) -> Option<ErrorClass> {
    Some(match code {
        // "ConcurrentPerOrgLongTxn Limit exceeded" shares the code but passes in seconds.
        "REQUEST_LIMIT_EXCEEDED" if message.contains("Concurrent") => ErrorClass::Retryable,
        "REQUEST_LIMIT_EXCEEDED" | "EXCEEDED_QUOTA" | "API_LIMIT_EXCEEDED" => ErrorClass::Quota,
        "UNABLE_TO_LOCK_ROW"
        | "SERVER_UNAVAILABLE"
        | "SERVICE_UNAVAILABLE"
        | "QUERY_TIMEOUT"
        | "REQUEST_RUNNING_TOO_LONG"
        | "CONCURRENT_REQUESTS_LIMIT_EXCEEDED" => ErrorClass::Retryable,
        "INVALID_SESSION_ID"
        | "INVALID_AUTH_HEADER"
        | "API_DISABLED_FOR_ORG"
        | "API_CURRENTLY_DISABLED"
        | "INVALID_OPERATION_WITH_EXPIRED_PASSWORD"
        | "invalid_grant"
        | "invalid_client"
        | "invalid_client_id"
        | "unauthorized_client" => ErrorClass::Auth,
        _ => return None,
    })
}

/// Salesforce's errors in an error body: a JSON array of `{errorCode, message, fields}`, one
/// such object, or an OAuth `{error, error_description}`; any other body becomes one error
/// with no code whose message is the start of the body.
pub(crate) fn parse_errors(body: &[u8]) -> Vec<ApiError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Body {
        List(Vec<ApiError>),
        OAuth {
            error: String,
            #[serde(default)]
            error_description: String,
        },
        One(ApiError),
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(Body::List(errors)) => errors,
        Ok(Body::OAuth {
            error,
            error_description,
        }) => vec![ApiError::new(error, error_description)],
        Ok(Body::One(error)) if !error.error_code.is_empty() || !error.message.is_empty() => {
            vec![error]
        }
        _ if body.iter().all(u8::is_ascii_whitespace) => Vec::new(),
        _ => vec![ApiError::new("", excerpt(body))],
    }
}

/// The first 300 characters of a body, for messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> Error {
        Error::from_body("test", status, body.as_bytes())
    }

    #[test]
    fn parses_salesforce_error_bodies() {
        let error = api(
            400,
            r#"[{"message":"Required fields are missing: [Name]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name"]}]"#,
        );
        assert_eq!(error.error_code(), Some("REQUIRED_FIELD_MISSING"));
        assert_eq!(error.api_errors()[0].fields, ["Name"]);
        assert_eq!(error.class(), ErrorClass::Permanent);
        assert_eq!(
            error.to_string(),
            "test: Salesforce answered 400: REQUIRED_FIELD_MISSING: Required fields are missing: [Name] (fields: Name)"
        );

        let oauth = api(
            400,
            r#"{"error":"invalid_grant","error_description":"authentication failure"}"#,
        );
        assert_eq!(oauth.error_code(), Some("invalid_grant"));
        assert_eq!(oauth.class(), ErrorClass::Auth);

        let html = api(503, "<html>Service Unavailable</html>");
        assert_eq!(
            html.api_errors()[0].message,
            "<html>Service Unavailable</html>"
        );
        assert_eq!(html.class(), ErrorClass::Retryable);

        let empty = api(502, "");
        assert!(empty.api_errors().is_empty());
        assert_eq!(empty.class(), ErrorClass::Retryable);

        let fields_null = api(400, r#"[{"errorCode":"X","message":"m","fields":null}]"#);
        assert!(fields_null.api_errors()[0].fields.is_empty());
    }

    #[test]
    fn classes() {
        let cases = [
            (503, "SERVER_UNAVAILABLE", "", ErrorClass::Retryable),
            (500, "UNKNOWN_EXCEPTION", "", ErrorClass::Retryable),
            (
                400,
                "UNABLE_TO_LOCK_ROW",
                "unable to obtain exclusive access",
                ErrorClass::Retryable,
            ),
            (
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
                ErrorClass::Quota,
            ),
            (
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "ConcurrentPerOrgLongTxn Limit exceeded.",
                ErrorClass::Retryable,
            ),
            (
                401,
                "INVALID_SESSION_ID",
                "Session expired or invalid",
                ErrorClass::Auth,
            ),
            (
                403,
                "API_DISABLED_FOR_ORG",
                "API is not enabled",
                ErrorClass::Auth,
            ),
            (
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                "bad value",
                ErrorClass::Permanent,
            ),
            (400, "STRING_TOO_LONG", "too long", ErrorClass::Permanent),
            (404, "NOT_FOUND", "", ErrorClass::Permanent),
        ];
        for (status, code, message, class) in cases {
            let error = Error::Api {
                operation: "op".into(),
                status,
                errors: vec![ApiError::new(code, message)],
            };
            assert_eq!(error.class(), class, "{status} {code} {message}");
        }
        let mixed = Error::Api {
            operation: "op".into(),
            status: 400,
            errors: vec![
                ApiError::new("UNABLE_TO_LOCK_ROW", ""),
                ApiError::new("STRING_TOO_LONG", ""),
            ],
        };
        assert_eq!(mixed.class(), ErrorClass::Permanent);
        assert_eq!(
            ApiError::new("UNABLE_TO_LOCK_ROW", "").class(),
            ErrorClass::Retryable
        );
        assert_eq!(
            ApiError::new("DUPLICATE_VALUE", "").class(),
            ErrorClass::Permanent
        );
    }

    #[test]
    fn invalid_session_is_401_only() {
        assert!(
            api(401, r#"[{"errorCode":"INVALID_SESSION_ID","message":"x"}]"#).is_invalid_session()
        );
        assert!(api(401, "").is_invalid_session());
        assert!(
            !api(403, r#"[{"errorCode":"INVALID_SESSION_ID","message":"x"}]"#).is_invalid_session()
        );
    }
}
