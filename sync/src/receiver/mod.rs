//! The webhook receiver: an axum router that verifies Stripe webhooks, queues them durably and
//! answers Stripe, plus health and metrics endpoints.
//!
//! - `POST /webhook/stripe` ([`webhook`]): 200 `{"received":true}` once the event is in the
//!   queue; 400 on a bad signature (empty body), malformed event or livemode mismatch; 413 over
//!   the body limit; 503 when the queue refuses it, so Stripe retries.
//! - `GET /health/live` and `GET /health/ready` ([`health`]).
//! - `GET /metrics` ([`metrics`]): Prometheus text.
//!
//! Every response carries `X-Request-Id`: the caller's if it is a plausible id, else a new one.
//! It is the correlation id on the request's tracing span and on every log line about it.

pub mod health;
pub mod metrics;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use futures_util::future::BoxFuture;
use time::OffsetDateTime;
use tracing::Instrument as _;

use crate::queue::Queue;
use crate::signature::Verifier;

pub use self::health::Readiness;
pub use self::metrics::Metrics;

/// The default largest webhook body accepted: 512 KiB (Stripe's events are far smaller).
pub const DEFAULT_MAX_BODY: usize = 512 * 1024;

/// How long `/health/ready` waits for one check before counting it as failing.
pub const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// The request and response header carrying the correlation id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The current time, as the receiver sees it (replaceable in tests).
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Everything the receiver's handlers share.
pub struct ReceiverState<Q> {
    /// Where verified events go.
    pub queue: Arc<Q>,
    /// Checks `Stripe-Signature` against the endpoint secrets.
    pub verifier: Arc<Verifier>,
    /// Whether this deployment takes live-mode events (`true`) or test-mode events (`false`).
    pub livemode: bool,
    /// The largest body accepted, in bytes; larger requests get 413.
    pub max_body: usize,
    /// The current time, for the signature tolerance and `received_at`.
    pub clock: Clock,
    /// Checks besides the queue that `/health/ready` runs (store, Salesforce auth, …).
    pub readiness: Vec<Arc<dyn Readiness>>,
    /// The metrics registry `/metrics` renders.
    pub metrics: Arc<Metrics>,
}

impl<Q> Clone for ReceiverState<Q> {
    fn clone(&self) -> Self {
        Self {
            queue: Arc::clone(&self.queue),
            verifier: Arc::clone(&self.verifier),
            livemode: self.livemode,
            max_body: self.max_body,
            clock: Arc::clone(&self.clock),
            readiness: self.readiness.clone(),
            metrics: Arc::clone(&self.metrics),
        }
    }
}

impl<Q> std::fmt::Debug for ReceiverState<Q> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverState")
            .field("livemode", &self.livemode)
            .field("max_body", &self.max_body)
            .field(
                "readiness",
                &self.readiness.iter().map(|r| r.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<Q: Queue> ReceiverState<Q> {
    /// A state with the default body limit, the system clock, no readiness checks besides the
    /// queue and a fresh metrics registry.
    pub fn new(queue: Arc<Q>, verifier: Arc<Verifier>, livemode: bool) -> Self {
        Self {
            queue,
            verifier,
            livemode,
            max_body: DEFAULT_MAX_BODY,
            clock: Arc::new(OffsetDateTime::now_utc),
            readiness: Vec::new(),
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// Sets the largest accepted body, in bytes.
    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Adds a readiness check.
    pub fn with_readiness(mut self, check: Arc<dyn Readiness>) -> Self {
        self.readiness.push(check);
        self
    }

    /// Uses `metrics` (shared with the worker) instead of a registry of its own.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }
}

/// A readiness check from a name and an async closure answering whether it is ready.
pub fn readiness_fn<F>(name: &'static str, check: F) -> Arc<dyn Readiness>
where
    F: Fn() -> BoxFuture<'static, bool> + Send + Sync + 'static,
{
    Arc::new(health::FnReadiness { name, check })
}

/// The receiver's routes: `POST /webhook/stripe`, `GET /health/live`, `GET /health/ready` and
/// `GET /metrics`, all tagged with a request id.
pub fn router<Q: Queue>(state: ReceiverState<Q>) -> Router {
    let max_body = state.max_body;
    Router::new()
        .route(
            "/webhook/stripe",
            post(webhook::receive::<Q>).layer(DefaultBodyLimit::max(max_body)),
        )
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready::<Q>))
        .route("/metrics", get(metrics_handler::<Q>))
        .layer(middleware::from_fn(correlate))
        .with_state(state)
}

async fn metrics_handler<Q: Queue>(
    axum::extract::State(state): axum::extract::State<ReceiverState<Q>>,
) -> Response {
    let stats = state.queue.stats().await;
    if let Err(error) = &stats {
        tracing::warn!(%error, "queue stats unavailable for /metrics");
    }
    let body = state.metrics.render(stats.ok());
    let mut response = Response::new(axum::body::Body::from(body));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// The correlation id of a request, in its extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Whether a caller's `X-Request-Id` is kept: 1 to 128 characters of `A-Z a-z 0-9 - _ . :`
/// (so it is safe in logs and headers).
pub fn acceptable_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A new random request id: 32 lower-case hex digits.
pub fn new_request_id() -> String {
    format!("{:032x}", fastrand::u128(..))
}

async fn correlate(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| acceptable_request_id(id))
        .map_or_else(new_request_id, str::to_owned);
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
