//! `POST /webhook/stripe`: verify, parse just enough to route, queue, then acknowledge.
//!
//! Events of a type the sync does not process (unknown to it, or not in
//! [`HANDLED_EVENTS`](crate::priority::HANDLED_EVENTS)) are acknowledged with 200, counted in
//! `stripe_events_unhandled_total` and still queued like any other: the worker records them as
//! `Ignored` in the event ledger and in the audit trail (`Stripe_Webhook_Event__c`) without
//! writing any record, so there is one path for recording every event Stripe sent.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::metrics::{Counter, Outcome, UNPARSED_TYPE, type_label};
use super::{ReceiverState, RequestId};
use crate::priority::{handled, priority};
use crate::queue::{Envelope, Queue};
use crate::signature::SignatureError;

/// The header Stripe signs webhooks in.
pub const SIGNATURE_HEADER: &str = "stripe-signature";

/// Why a verified body is not an event the receiver can route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON, or JSON without `id`, `type`, `created`, `livemode` or `data.object`.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// `id` or `type` is empty.
    #[error("event {0} is empty")]
    Empty(&'static str),
}

/// The fields of a Stripe event the receiver routes by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHead {
    /// `id` (`evt_…`).
    pub id: String,
    /// `type` (`invoice.paid`).
    pub event_type: String,
    /// `created`, in Unix seconds.
    pub created: i64,
    /// `livemode`.
    pub livemode: bool,
    /// `data.object.id`; `None` for the few objects without one (`balance.available`).
    pub object_id: Option<String>,
}

#[derive(Deserialize)]
struct RawHead {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    livemode: bool,
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    object: RawObject,
}

#[derive(Deserialize)]
struct RawObject {
    #[serde(default)]
    id: Option<String>,
}

impl EventHead {
    /// Reads the routing fields of an event body, ignoring everything else.
    pub fn parse(body: &[u8]) -> Result<EventHead, PayloadError> {
        let raw: RawHead = serde_json::from_slice(body)
            .map_err(|error| PayloadError::Malformed(describe_json_error(&error)))?;
        if raw.id.is_empty() {
            return Err(PayloadError::Empty("id"));
        }
        if raw.event_type.is_empty() {
            return Err(PayloadError::Empty("type"));
        }
        Ok(EventHead {
            id: raw.id,
            event_type: raw.event_type,
            created: raw.created,
            livemode: raw.livemode,
            object_id: raw.data.object.id,
        })
    }
}

/// The category and position of a JSON error only: serde_json's messages can quote the payload.
fn describe_json_error(error: &serde_json::Error) -> String {
    let category = match error.classify() {
        serde_json::error::Category::Io => "io",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "data",
        serde_json::error::Category::Eof => "eof",
    };
    format!(
        "{category} error at line {} column {}",
        error.line(),
        error.column()
    )
}

/// A short, name-only description of a signature failure for the logs.
fn signature_failure_kind(error: &SignatureError) -> &'static str {
    match error {
        SignatureError::MissingHeader => "missing_header",
        SignatureError::MalformedHeader => "malformed_header",
        SignatureError::NoV1Signature => "no_v1_signature",
        SignatureError::NoMatch => "no_match",
        SignatureError::TooOld { .. } => "too_old",
        SignatureError::TooFarInFuture { .. } => "too_far_in_future",
    }
}

fn json_body(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// Handles one Stripe webhook; see the [module](self) and [`super`] docs for the answers.
pub async fn receive<Q: Queue>(
    State(state): State<ReceiverState<Q>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let metrics = &state.metrics;
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            tracing::warn!(%request_id, max_body = state.max_body, "webhook body too large");
            metrics.received(UNPARSED_TYPE, Outcome::TooLarge);
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
        Err(rejection) => {
            tracing::warn!(%request_id, status = %rejection.status(), "webhook body unreadable");
            metrics.received(UNPARSED_TYPE, Outcome::RejectedPayload);
            return json_body(StatusCode::BAD_REQUEST, r#"{"error":"unreadable body"}"#);
        }
    };

    let now = (state.clock)();
    let header = headers
        .get(SIGNATURE_HEADER)
        .map(|value| value.to_str().unwrap_or(""));
    if let Err(error) = state.verifier.verify(header, &body, now) {
        tracing::warn!(
            %request_id,
            kind = signature_failure_kind(&error),
            "webhook signature rejected"
        );
        metrics.received(UNPARSED_TYPE, Outcome::RejectedSignature);
        return StatusCode::BAD_REQUEST.into_response();
    }

    let head = match EventHead::parse(&body) {
        Ok(head) => head,
        Err(error) => {
            tracing::warn!(%request_id, %error, "webhook payload rejected");
            metrics.received(UNPARSED_TYPE, Outcome::RejectedPayload);
            return json_body(StatusCode::BAD_REQUEST, r#"{"error":"malformed event"}"#);
        }
    };
    let event_id = head.id.as_str();
    let event_type = type_label(&head.event_type);

    if head.livemode != state.livemode {
        tracing::warn!(
            %request_id,
            event_id,
            event_type,
            event_livemode = head.livemode,
            configured_livemode = state.livemode,
            "webhook livemode mismatch"
        );
        metrics.received(&head.event_type, Outcome::RejectedLivemode);
        return json_body(StatusCode::BAD_REQUEST, r#"{"error":"livemode mismatch"}"#);
    }

    let is_handled = handled(&head.event_type);
    let envelope = Envelope {
        priority: priority(&head.event_type),
        event_id: head.id.clone(),
        event_type: head.event_type.clone(),
        object_id: head.object_id.clone(),
        created: head.created,
        payload: body.to_vec(),
        received_at: now,
    };
    if let Err(error) = state.queue.push(&envelope).await {
        tracing::error!(%request_id, event_id, event_type, %error, "queue refused webhook event");
        metrics.received(&head.event_type, Outcome::QueueUnavailable);
        return json_body(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"error":"temporarily unavailable"}"#,
        );
    }

    metrics.received(&head.event_type, Outcome::Accepted);
    if !is_handled {
        metrics.add(Counter::EventsUnhandled, &[("type", event_type)], 1);
    }
    tracing::info!(
        %request_id,
        event_id,
        event_type,
        priority = envelope.priority.as_str(),
        handled = is_handled,
        "webhook event queued"
    );
    json_body(StatusCode::OK, r#"{"received":true}"#)
}
