//! The durable queue between the webhook receiver and the workers.
//!
//! The receiver answers Stripe 200 only once [`Queue::push`] has returned: the event is then on
//! disk (SQLite, WAL, synchronous commit) or accepted by SQS. Workers [`pull`](Queue::pull) leased
//! deliveries; a delivery stays invisible to other workers while its lease runs, and comes back
//! by itself if a worker dies without [`ack`](Queue::ack) or [`retry_at`](Queue::retry_at). So an
//! event is delivered at least once; the event ledger ([`crate::store::Ledger`]) makes its effect
//! happen exactly once.

use std::future::Future;
use std::time::Duration;

use time::OffsetDateTime;

/// How soon an event must reach Salesforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Payment failures, cancellations, checkout completion and expiry: written at once.
    High,
    /// Other subscription, invoice and payment events: written within seconds.
    Normal,
    /// Customer updates, prices and products, the audit trail: batched through Bulk API 2.0.
    Low,
}

impl Priority {
    /// The name used in storage and metrics (`high`, `normal`, `low`).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    /// Parses [`Priority::as_str`]'s names.
    pub fn parse(name: &str) -> Option<Priority> {
        match name {
            "high" => Some(Priority::High),
            "normal" => Some(Priority::Normal),
            "low" => Some(Priority::Low),
            _ => None,
        }
    }
}

/// A verified Stripe event as the receiver queues it: the raw body plus what routing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Stripe's event id (`evt_…`).
    pub event_id: String,
    /// The event type (`invoice.paid`), kept as text so types Stripe adds later still queue.
    pub event_type: String,
    /// The id of `data.object` (`in_…`), the unit of ordering; `None` if the event has none.
    pub object_id: Option<String>,
    /// Stripe's `created` time of the event, in Unix seconds.
    pub created: i64,
    /// How soon it must be written.
    pub priority: Priority,
    /// The request body exactly as Stripe signed it.
    pub payload: Vec<u8>,
    /// When the receiver accepted it.
    pub received_at: OffsetDateTime,
}

/// Identifies one leased delivery to the queue that handed it out (a row and lease token in
/// SQLite, a receipt handle in SQS). Opaque to workers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Receipt(pub String);

/// One delivery of a queued event to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The event.
    pub envelope: Envelope,
    /// What to hand back to [`Queue::ack`], [`Queue::retry_at`] or [`Queue::extend`].
    pub receipt: Receipt,
    /// How many times the event has been handed out, this delivery included (1 the first time).
    pub deliveries: u32,
}

/// Queue depth and age, for `/metrics` and `/health/ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Events waiting, leased or not.
    pub depth: u64,
    /// Events currently leased by a worker.
    pub in_flight: u64,
    /// Age of the oldest waiting event (by `received_at`), if any.
    pub oldest_age: Option<Duration>,
}

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The backend could not be reached or refused the operation.
    #[error("queue {operation} failed: {detail}")]
    Backend {
        /// The operation (`push`, `pull`, …).
        operation: &'static str,
        /// What the backend said (no payload, no secrets).
        detail: String,
    },
    /// A receipt is unknown or its lease has run out (another worker may have the event now).
    #[error("queue {operation}: the lease {receipt:?} is no longer held")]
    LeaseLost {
        /// The operation.
        operation: &'static str,
        /// The receipt given.
        receipt: Receipt,
    },
}

/// The durable queue: SQLite on one machine, SQS when scaled out.
pub trait Queue: Send + Sync + 'static {
    /// Stores `envelope` durably; returns only once it survives a crash of this process.
    fn push(&self, envelope: &Envelope) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Up to `max` deliveries ready now, each leased for `lease`: higher priority first, then
    /// oldest first. An empty result means nothing is ready.
    fn pull(
        &self,
        max: usize,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<Delivery>, QueueError>> + Send;

    /// Keeps a delivery leased for another `lease` from now, while a worker is still on it.
    fn extend(
        &self,
        receipt: &Receipt,
        lease: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Removes a delivered event for good: its work is done (or dead-lettered).
    fn ack(&self, receipt: &Receipt) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// [`Queue::ack`] for several deliveries at once: one answer per receipt in order (a
    /// backend does it in one round trip or transaction where it can).
    fn ack_all<'a>(
        &'a self,
        receipts: &'a [Receipt],
    ) -> impl Future<Output = Result<Vec<Result<(), QueueError>>, QueueError>> + Send + 'a {
        async move {
            let mut results = Vec::with_capacity(receipts.len());
            for receipt in receipts {
                results.push(match self.ack(receipt).await {
                    Err(error @ QueueError::Backend { .. }) => return Err(error),
                    other => other,
                });
            }
            Ok(results)
        }
    }

    /// Gives a delivery back, to be handed out again no earlier than `at`.
    fn retry_at(
        &self,
        receipt: &Receipt,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Depth, events in flight and the age of the oldest waiting event.
    fn stats(&self) -> impl Future<Output = Result<QueueStats, QueueError>> + Send;
}
