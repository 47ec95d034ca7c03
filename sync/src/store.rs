//! The shared state of the workers: the event ledger, per-object watermarks, the dead-letter
//! queue and the Salesforce token cache. SQLite on one machine, DynamoDB when scaled out; every
//! write that decides something (claiming an event, advancing a watermark) is conditional, so
//! concurrent workers never apply one event twice nor let an older event overwrite a newer one.
//! The rate limiter's counters are [`crate::ratelimit::WindowStore`].

use std::future::Future;

use time::OffsetDateTime;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached or refused the operation.
    #[error("store {operation} failed for {key}: {detail}")]
    Backend {
        /// The operation (`claim`, `advance`, …).
        operation: &'static str,
        /// The key it was about (an event id, an object id, …).
        key: String,
        /// What the backend said (no payload, no secrets).
        detail: String,
    },
    /// The caller does not hold the claim it acts on (its lease ran out and another worker
    /// took the event over).
    #[error("store {operation}: worker {worker} does not hold event {event_id}")]
    NotHeld {
        /// The operation.
        operation: &'static str,
        /// The event.
        event_id: String,
        /// The worker that thought it held it.
        worker: String,
    },
}

/// What became of an event, as recorded in the ledger and in `Stripe_Webhook_Event__c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Its writes reached Salesforce.
    Processed,
    /// A newer event of the same object had already been applied.
    SkippedStale,
    /// Acknowledged but not processed (an event type the sync does not handle).
    Ignored,
    /// Moved to the dead-letter queue after a permanent error or the last retry.
    DeadLettered,
}

impl Outcome {
    /// The name stored and reported (`processed`, `skipped_stale`, `ignored`, `dead_lettered`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Processed => "processed",
            Outcome::SkippedStale => "skipped_stale",
            Outcome::Ignored => "ignored",
            Outcome::DeadLettered => "dead_lettered",
        }
    }
}

/// The answer to [`Ledger::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller now holds the event until the lease it asked for ends.
    Granted,
    /// The event was completed before: a duplicate delivery, to acknowledge without writing.
    Done(Outcome),
    /// Another worker holds the event and its lease has not run out.
    Held {
        /// The holder.
        worker: String,
        /// When its lease ends.
        until: OffsetDateTime,
    },
}

/// The event ledger: which events are done, and who is working on which.
///
/// An event is recorded as done only after its writes succeeded ([`Ledger::complete`]); a
/// worker that dies leaves a claim that expires, and another worker then takes it over.
pub trait Ledger: Send + Sync + 'static {
    /// Claims `event_id` for `worker` until `until`, unless it is done or validly held by
    /// another worker. An expired claim is taken over. An event completed as
    /// [`Outcome::DeadLettered`] can be claimed again: that is how a replay is processed.
    fn claim(
        &self,
        event_id: &str,
        worker: &str,
        until: OffsetDateTime,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Records `event_id` as done with `outcome`; the caller must hold the claim.
    fn complete(
        &self,
        event_id: &str,
        worker: &str,
        outcome: Outcome,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Gives up a claim without completing (the work will be retried); a no-op if not held.
    fn release(
        &self,
        event_id: &str,
        worker: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// [`Ledger::claim`] for several events at once, one answer per id in order (a backend
    /// does it in one round trip or transaction where it can).
    fn claim_all<'a>(
        &'a self,
        event_ids: &'a [String],
        worker: &'a str,
        until: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<Claim>, StoreError>> + Send + 'a {
        async move {
            let mut claims = Vec::with_capacity(event_ids.len());
            for event_id in event_ids {
                claims.push(self.claim(event_id, worker, until).await?);
            }
            Ok(claims)
        }
    }

    /// [`Ledger::complete`] for several events at once: one answer per event in order, `Err`
    /// for an event this worker no longer holds (the others are still completed).
    fn complete_all<'a>(
        &'a self,
        done: &'a [(String, Outcome)],
        worker: &'a str,
    ) -> impl Future<Output = Result<Vec<Result<(), StoreError>>, StoreError>> + Send + 'a {
        async move {
            let mut results = Vec::with_capacity(done.len());
            for (event_id, outcome) in done {
                results.push(match self.complete(event_id, worker, *outcome).await {
                    Err(error @ StoreError::Backend { .. }) => return Err(error),
                    other => other,
                });
            }
            Ok(results)
        }
    }
}

/// The position of the last event applied to a Stripe object: Stripe's `created` second, then the
/// event id. Two events of one object in the same second cannot be ordered by this alone (the
/// worker then re-fetches the object from Stripe).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mark {
    /// The event's `created`, in Unix seconds.
    pub created: i64,
    /// The event's id.
    pub event_id: String,
}

/// Per-object watermarks: the last event applied to each Stripe object.
pub trait Watermarks: Send + Sync + 'static {
    /// The mark of the last event applied to `object_id`, if any.
    fn mark(
        &self,
        object_id: &str,
    ) -> impl Future<Output = Result<Option<Mark>, StoreError>> + Send;

    /// Sets the mark of `object_id` to `mark` only if the stored one is absent or strictly
    /// older (by `created`, then event id): a conditional write. Returns whether it advanced.
    fn advance(
        &self,
        object_id: &str,
        mark: &Mark,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// [`Watermarks::advance`] for several objects at once, one answer per pair in order.
    fn advance_all<'a>(
        &'a self,
        marks: &'a [(String, Mark)],
    ) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send + 'a {
        async move {
            let mut advanced = Vec::with_capacity(marks.len());
            for (object_id, mark) in marks {
                advanced.push(self.advance(object_id, mark).await?);
            }
            Ok(advanced)
        }
    }
}

/// One failed attempt, kept with a dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When it was made.
    pub at: OffsetDateTime,
    /// What went wrong (Salesforce's errorCode and message, or the mapping error).
    pub error: String,
}

/// An event the sync gave up on, with why and what was tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Stripe's event id.
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The raw event body as Stripe signed it, to replay it.
    pub payload: Vec<u8>,
    /// Why it was given up (the last error).
    pub reason: String,
    /// Every attempt, oldest first.
    pub attempts: Vec<Attempt>,
    /// When it was dead-lettered.
    pub dead_lettered_at: OffsetDateTime,
}

/// The dead-letter queue (`stripe-sfdc-sync dlq list | show | replay | drop`).
pub trait DeadLetters: Send + Sync + 'static {
    /// Stores (or replaces) the dead letter of an event.
    fn put(&self, letter: &DeadLetter) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Up to `limit` dead letters, oldest first, after the event id `after` (for paging).
    fn list(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, StoreError>> + Send;

    /// The dead letter of `event_id`, if any.
    fn get(
        &self,
        event_id: &str,
    ) -> impl Future<Output = Result<Option<DeadLetter>, StoreError>> + Send;

    /// Removes the dead letter of `event_id` (after a replay, or to drop it); whether it existed.
    fn remove(&self, event_id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// A cached OAuth access token with the instance it is valid for.
#[derive(Clone, PartialEq, Eq)]
pub struct CachedToken {
    /// The access token (never logged; `Debug` hides it).
    pub access_token: String,
    /// The org's `instance_url`.
    pub instance_url: String,
    /// When the sync should stop using it.
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedToken")
            .field("access_token", &"***")
            .field("instance_url", &self.instance_url)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The Salesforce token cache shared by the workers of one deployment.
pub trait TokenCache: Send + Sync + 'static {
    /// The cached token under `key` (e.g. the login URL and client id), if any.
    fn token(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<CachedToken>, StoreError>> + Send;

    /// Caches `token` under `key`.
    fn put_token(
        &self,
        key: &str,
        token: &CachedToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Everything the workers share, implemented by one backend.
pub trait Store:
    Ledger + Watermarks + DeadLetters + TokenCache + crate::ratelimit::WindowStore
{
}

impl<T> Store for T where
    T: Ledger + Watermarks + DeadLetters + TokenCache + crate::ratelimit::WindowStore
{
}
