//! Errors of the Stripe client, including Stripe's own error object.

use std::fmt;

use serde::Deserialize;

use super::Method;
use super::form::EncodeError;

/// What can go wrong calling Stripe.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Stripe answered with its error object (`{"error": {...}}`).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The request could not be sent or its response not read, after every retry.
    #[error("{method} {path} failed after {attempts} attempt(s)")]
    Http {
        /// Method of the request.
        method: Method,
        /// Path of the request, without the query string.
        path: String,
        /// How many times the request was sent.
        attempts: u32,
        /// What went wrong on the last attempt (its URL is stripped).
        #[source]
        source: reqwest::Error,
    },
    /// Stripe answered with an error status but without its error object.
    #[error("{method} {path} answered HTTP {status} without a Stripe error object{}: {body}", request_suffix(.request_id))]
    Status {
        /// Method of the request.
        method: Method,
        /// Path of the request, without the query string.
        path: String,
        /// HTTP status code.
        status: u16,
        /// The `Request-Id` response header, when present.
        request_id: Option<String>,
        /// The start of the response body.
        body: String,
    },
    /// A successful response did not deserialize into the expected type.
    #[error("cannot decode the response of {path}: {detail}")]
    Decode {
        /// Path of the request, without the query string.
        path: String,
        /// The target type and serde's message.
        detail: String,
    },
    /// The parameters could not be form-encoded.
    #[error("cannot encode the parameters of {path}")]
    Encode {
        /// Path of the request.
        path: String,
        /// Which parameter failed and why.
        #[source]
        source: EncodeError,
    },
    /// A request option does not fit in an HTTP header.
    #[error("the {header} request option for {path} is not a valid header value")]
    InvalidHeader {
        /// Name of the header (`Idempotency-Key`, `Stripe-Account`).
        header: &'static str,
        /// Path of the request.
        path: String,
    },
    /// The client could not be built from its settings.
    #[error("invalid Stripe client setting {setting}: {detail}")]
    Config {
        /// The setting that was rejected.
        setting: &'static str,
        /// Why it was rejected.
        detail: String,
    },
}

fn request_suffix(request_id: &Option<String>) -> String {
    match request_id {
        Some(id) => format!(" (request {id})"),
        None => String::new(),
    }
}

impl Error {
    /// Stripe's error object, when Stripe returned one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(api) => Some(api),
            _ => None,
        }
    }

    /// HTTP status of Stripe's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(api) => Some(api.status),
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `Request-Id` Stripe gave the failed request, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(api) => api.request_id.as_deref(),
            Self::Status { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

/// An error reported by Stripe, from its error object and the response headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Method of the request.
    pub method: Method,
    /// Path of the request, without the query string.
    pub path: String,
    /// HTTP status code.
    pub status: u16,
    /// `error.type`: the category of the error.
    pub error_type: ApiErrorType,
    /// `error.code`: a short machine-readable code such as `resource_missing`.
    pub code: Option<String>,
    /// `error.decline_code`: the issuer's reason for a declined card.
    pub decline_code: Option<String>,
    /// `error.param`: the parameter the error relates to.
    pub param: Option<String>,
    /// `error.message`: a human-readable message.
    pub message: Option<String>,
    /// The `Request-Id` response header.
    pub request_id: Option<String>,
    /// `error.doc_url`: a link to Stripe's documentation of `code`.
    pub doc_url: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Stripe {} (HTTP {}) on {} {}",
            self.error_type.as_str(),
            self.status,
            self.method,
            self.path
        )?;
        for (label, value) in [
            ("code", &self.code),
            ("decline_code", &self.decline_code),
            ("param", &self.param),
        ] {
            if let Some(value) = value {
                write!(f, " {label}={value}")?;
            }
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The `type` of a Stripe error; values Stripe adds later land in `Unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ApiErrorType {
    /// `api_error`: a problem on Stripe's side.
    ApiError,
    /// `card_error`: the card was declined or could not be charged.
    CardError,
    /// `idempotency_error`: an idempotency key was reused with other parameters.
    IdempotencyError,
    /// `invalid_request_error`: invalid parameters or a missing resource.
    InvalidRequestError,
    /// Any other value, kept as sent.
    Unknown(String),
}

impl ApiErrorType {
    /// The value as Stripe spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::ApiError => "api_error",
            Self::CardError => "card_error",
            Self::IdempotencyError => "idempotency_error",
            Self::InvalidRequestError => "invalid_request_error",
            Self::Unknown(other) => other,
        }
    }
}

impl From<&str> for ApiErrorType {
    fn from(value: &str) -> Self {
        match value {
            "api_error" => Self::ApiError,
            "card_error" => Self::CardError,
            "idempotency_error" => Self::IdempotencyError,
            "invalid_request_error" => Self::InvalidRequestError,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for ApiErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: ErrorObject,
}

#[derive(Deserialize)]
struct ErrorObject {
    #[serde(rename = "type", default)]
    error_type: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    decline_code: Option<String>,
    #[serde(default)]
    param: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    doc_url: Option<String>,
}

/// How much of a body without an error object is kept in [`Error::Status`].
const BODY_EXCERPT: usize = 300;

/// Builds the error for a non-success response.
pub(super) fn from_response(
    method: Method,
    path: &str,
    status: u16,
    request_id: Option<String>,
    body: &[u8],
) -> Error {
    match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope { error }) => Error::Api(Box::new(ApiError {
            method,
            path: path.to_owned(),
            status,
            error_type: ApiErrorType::from(error.error_type.as_deref().unwrap_or_default()),
            code: error.code,
            decline_code: error.decline_code,
            param: error.param,
            message: error.message,
            request_id,
            doc_url: error.doc_url,
        })),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let mut excerpt: String = text.chars().take(BODY_EXCERPT).collect();
            if excerpt.len() < text.len() {
                excerpt.push('…');
            }
            Error::Status {
                method,
                path: path.to_owned(),
                status,
                request_id,
                body: excerpt,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_error_with_decline_code() {
        let body = br#"{"error": {"charge": "ch_1", "code": "card_declined",
            "decline_code": "insufficient_funds",
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": "Your card has insufficient funds.", "type": "card_error"}}"#;
        let err = from_response(
            Method::Post,
            "/v1/payment_intents/pi_1/confirm",
            402,
            Some("req_abc".to_owned()),
            body,
        );
        let api = err.api().expect("api error");
        assert_eq!(api.error_type, ApiErrorType::CardError);
        assert_eq!(api.code.as_deref(), Some("card_declined"));
        assert_eq!(api.decline_code.as_deref(), Some("insufficient_funds"));
        assert_eq!(api.param, None);
        assert_eq!(err.request_id(), Some("req_abc"));
        assert_eq!(
            err.to_string(),
            "Stripe card_error (HTTP 402) on POST /v1/payment_intents/pi_1/confirm \
             code=card_declined decline_code=insufficient_funds: \
             Your card has insufficient funds. (request req_abc)"
        );
    }

    #[test]
    fn unknown_type_is_kept() {
        let err = from_response(
            Method::Get,
            "/v1/x",
            400,
            None,
            br#"{"error": {"type": "brand_new_error"}}"#,
        );
        assert_eq!(
            err.api().unwrap().error_type,
            ApiErrorType::Unknown("brand_new_error".to_owned())
        );
    }

    #[test]
    fn body_without_error_object() {
        let body = "<html>".repeat(100);
        let err = from_response(Method::Get, "/v1/x", 502, None, body.as_bytes());
        assert_eq!(err.status(), Some(502));
        let Error::Status { body, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(body.chars().count(), BODY_EXCERPT + 1);
        assert!(
            err.to_string()
                .starts_with("GET /v1/x answered HTTP 502 without a Stripe error object: <html>")
        );
    }
}
