//! [`WorkerError`]: what stops a worker's batch, naming the operation and the event.

use crate::queue::QueueError;
use crate::ratelimit::RateLimitError;
use crate::store::StoreError;

/// A failure that stops a batch. Deliveries not settled yet keep their lease and come back
/// by themselves when it runs out, so nothing is lost.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The worker cannot be built as configured.
    #[error("invalid worker configuration: {0}")]
    Config(String),
    /// The rate limiter's settings are invalid.
    #[error("invalid Salesforce rate limit for the worker: {0}")]
    RateLimit(#[from] RateLimitError),
    /// The queue failed while pulling or settling.
    #[error("queue failed while {operation} event {event_id}: {source}")]
    Queue {
        /// What the worker was doing (`pulling`, `acknowledging`, `rescheduling`).
        operation: &'static str,
        /// The event (`-` when pulling).
        event_id: String,
        /// The queue's error.
        #[source]
        source: QueueError,
    },
    /// The ledger, watermarks or dead-letter queue failed.
    #[error("store failed while {operation} event {event_id}: {source}")]
    Store {
        /// What the worker was doing (`claiming`, `completing`, `dead-lettering`, …).
        operation: &'static str,
        /// The event.
        event_id: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
}

impl WorkerError {
    /// A queue failure of `operation` on `event_id`.
    pub(crate) fn queue(operation: &'static str, event_id: &str, source: QueueError) -> Self {
        WorkerError::Queue {
            operation,
            event_id: event_id.to_owned(),
            source,
        }
    }

    /// A store failure of `operation` on `event_id`.
    pub(crate) fn store(operation: &'static str, event_id: &str, source: StoreError) -> Self {
        WorkerError::Store {
            operation,
            event_id: event_id.to_owned(),
            source,
        }
    }
}
