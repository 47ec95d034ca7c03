//! Webhook events: reading a payload once its API version is known to be the pinned one.
//!
//! Stripe renders an event's `data` at the API version of the webhook endpoint (or of the account
//! when the endpoint has none). Rendered at another version, resources gain and lose required
//! fields, so deserializing them fails somewhere deep inside; [`Event::from_json`] checks the
//! version first and says what is wrong instead. Create webhook endpoints with
//! `api_version` = [`API_VERSION`].

use serde::Deserialize;

use crate::{API_VERSION, Event};

/// Why a payload could not be read as an [`Event`].
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The event was rendered at another API version than the one stripe-types is generated for.
    #[error(
        "event {id} was rendered with Stripe API version {}, but stripe-types is generated for \
         API version {expected}: set the webhook endpoint's api_version to {expected}",
        found.as_deref().unwrap_or("(none)")
    )]
    ApiVersionMismatch {
        /// The event's id.
        id: String,
        /// The event's `api_version`; `None` when the event has none.
        found: Option<String>,
        /// [`API_VERSION`].
        expected: &'static str,
    },
    /// The payload is not a Stripe event (not JSON, or no `id`).
    #[error("payload is not a Stripe event: {0}")]
    NotAnEvent(#[source] serde_json::Error),
    /// The event has the pinned API version but does not fit the generated types.
    #[error("event {id} (API version {API_VERSION}) does not fit the generated types: {source}")]
    Invalid {
        /// The event's id.
        id: String,
        /// Where and why deserialization failed.
        source: serde_json::Error,
    },
}

/// Every way of reading an `Event` (a webhook body, an item of `GET /v1/events`, a page of them)
/// checks the API version first, so a payload rendered at another version fails with
/// [`EventError::ApiVersionMismatch`]'s message instead of a missing field deep inside.
impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let id = value
            .get("id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("(without id)")
            .to_owned();
        let found = value.get("api_version").and_then(serde_json::Value::as_str);
        check(id, found).map_err(serde::de::Error::custom)?;
        // The derived deserializer (`#[serde(remote = "Self")]` on the generated struct).
        Event::deserialize(value).map_err(serde::de::Error::custom)
    }
}

/// The fields read before anything else.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    api_version: Option<String>,
}

impl Event {
    /// Reads an event (a webhook body or an item of `GET /v1/events`) after checking that its
    /// `api_version` is [`API_VERSION`].
    pub fn from_json(payload: &[u8]) -> Result<Event, EventError> {
        let envelope: Envelope = serde_json::from_slice(payload).map_err(EventError::NotAnEvent)?;
        check(envelope.id.clone(), envelope.api_version.as_deref())?;
        serde_json::from_slice(payload).map_err(|source| EventError::Invalid {
            id: envelope.id,
            source,
        })
    }

    /// Checks that this event was rendered at [`API_VERSION`].
    pub fn check_api_version(&self) -> Result<(), EventError> {
        check(self.id.clone(), self.api_version.as_deref())
    }
}

fn check(id: String, found: Option<&str>) -> Result<(), EventError> {
    if found == Some(API_VERSION) {
        return Ok(());
    }
    Err(EventError::ApiVersionMismatch {
        id,
        found: found.map(str::to_owned),
        expected: API_VERSION,
    })
}
