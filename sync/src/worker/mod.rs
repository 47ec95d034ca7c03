//! The worker: pulls queued Stripe events, maps them and writes them to Salesforce in batches,
//! exactly once per event and never letting an older event overwrite a newer one.
//!
//! One batch ([`Worker::run_once`]):
//!
//! 1. Pull up to `batch_size` deliveries. For each: claim it in the ledger (a duplicate of a
//!    completed event is acknowledged without writing; an event another worker holds is given
//!    back a few seconds later), read it with `Event::from_json` (another API version or an
//!    unreadable body is dead-lettered at once).
//! 2. Event types the sync does not handle are completed as `ignored`, with their audit record.
//! 3. An event from a second strictly before the watermark of its object is `skipped_stale`
//!    (no write). An event from the same second as the watermark but another event cannot be
//!    ordered by it: with an [`ObjectSource`] the object is re-fetched from Stripe and its
//!    current state written; without one the event's own `data.object` is applied. Either way
//!    it is never dropped (see [`plan::is_stale`]).
//! 4. `data.object` is mapped and validated, and the event itself is mapped to its audit
//!    record (`Stripe_Webhook_Event__c`); a mapping or validation error is permanent.
//! 5. Records of the whole batch are grouped per object; several records with one key collapse
//!    to the newest event's; parents are written before children, then the audit records.
//!    Records with an external id go through Collections upserts (200 per call, not all or
//!    none), records keyed by `Id` (Contact) through updates. Each call first takes one unit
//!    from the rate limiter.
//! 6. Each event is settled by the results of the records it produced: all written → the
//!    watermark advances, the ledger completes it, the queue acknowledges it. Retryable →
//!    back off (2, 4, 8, 16, 32 s with full jitter), then dead letter. Permanent → dead letter
//!    with Salesforce's errors. Quota (Salesforce's 403 or our limiter) → writing stops for
//!    the batch and the events are given back until the quota returns, without spending an
//!    attempt.
//!
//! Attempts: the queue counts every delivery. Deliveries given back without a try (quota
//! pauses, events held by another worker) are counted by the worker as free passes and
//! subtracted before asking the backoff; the count lives in the worker's memory, so after a
//! restart those earlier deliveries count as attempts (an event can only be dead-lettered
//! sooner, never lost: the dead letter keeps the payload for replay).

mod error;
pub mod plan;
pub mod source;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::{Either, select};
use serde_json::value::RawValue;
use time::OffsetDateTime;

pub use self::error::WorkerError;
use self::plan::{Candidate, Group, Verdict};
pub use self::source::{ObjectSource, SourceError, StripeObjectSource};
use crate::backoff::Backoff;
use crate::mapping::{MappedRecord, MappingContext, ProcessingStatus, map_object};
use crate::queue::{Delivery, Queue};
use crate::ratelimit::{Decision, OrgQuota, RateLimiter};
use crate::receiver::Metrics;
use crate::receiver::metrics::{Counter, type_label};
use crate::salesforce::{COLLECTION_LIMIT, Client, ErrorClass};
use crate::store::{Attempt, Claim, DeadLetter, Ledger, Mark, Outcome, Store};

/// How long an event another worker holds waits before it is handed out again.
const HELD_RETRY: Duration = Duration::from_secs(2);

/// How long writing pauses after Salesforce answers that the org's quota is spent (the rate
/// limiter then knows from `Sforce-Limit-Info` when it returns).
const QUOTA_PAUSE: Duration = Duration::from_secs(60);

/// A clock, so that tests control time.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Settings of a [`Worker`].
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Names this worker in the ledger's claims (unique per process).
    pub worker_id: String,
    /// Most deliveries pulled per batch.
    pub batch_size: usize,
    /// How long a pulled delivery and its claim stay with this worker.
    pub lease: Duration,
    /// How long to wait when the queue is empty.
    pub idle_poll: Duration,
    /// Retry policy for retryable Salesforce failures.
    pub backoff: Backoff,
    /// Salesforce calls allowed per minute (all workers sharing the store).
    pub salesforce_calls_per_minute: u64,
    /// Salesforce calls allowed per day (all workers sharing the store).
    pub salesforce_calls_per_day: u64,
    /// Share of the org's daily API quota at which writing stops, keeping the rest for people.
    pub quota_reserve_percent: u8,
}

impl Default for WorkerConfig {
    /// Batches of 200, 60 s leases, 250 ms idle polls, the default backoff, 1,000 calls a
    /// minute and 100,000 a day, stopping at 80% of the org's quota.
    fn default() -> Self {
        WorkerConfig {
            worker_id: format!("worker-{}", std::process::id()),
            batch_size: 200,
            lease: Duration::from_secs(60),
            idle_poll: Duration::from_millis(250),
            backoff: Backoff::default(),
            salesforce_calls_per_minute: 1_000,
            salesforce_calls_per_day: 100_000,
            quota_reserve_percent: 80,
        }
    }
}

/// An event claimed in this batch, on its way to Salesforce.
struct Work {
    /// The delivery to settle.
    delivery: Delivery,
    /// The event as JSON (for the audit record).
    event: serde_json::Value,
    /// What the ledger records if its writes succeed.
    outcome: Outcome,
    /// Deliveries that count toward the backoff.
    attempt: u32,
}

impl Work {
    /// The event id.
    fn id(&self) -> &str {
        &self.delivery.envelope.event_id
    }
}

/// Pulls events from the queue and writes them to Salesforce (see the module documentation).
pub struct Worker<Q: Queue, S: Store> {
    /// Where events come from.
    queue: Arc<Q>,
    /// Ledger, watermarks, dead letters.
    store: Arc<S>,
    /// Salesforce.
    salesforce: Client,
    /// Settings.
    config: WorkerConfig,
    /// Limits calls to Salesforce.
    limiter: RateLimiter<Arc<S>>,
    /// Counters.
    metrics: Arc<Metrics>,
    /// Now.
    clock: Clock,
    /// Jitter of the backoff.
    rng: Mutex<fastrand::Rng>,
    /// Deliveries per event that were given back without a try (quota pauses, held claims).
    free_passes: Mutex<HashMap<String, u32>>,
    /// Numbers the batches, for the correlation id of their log lines.
    batches: AtomicU64,
    /// Current state of Stripe objects, for events that cannot be ordered by the watermark.
    source: Option<Arc<dyn ObjectSource>>,
}

impl<Q: Queue, S: Store> std::fmt::Debug for Worker<Q, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<Q: Queue, S: Store> Worker<Q, S> {
    /// A worker pulling from `queue`, keeping its state in `store` and writing with `salesforce`.
    pub fn new(
        queue: Arc<Q>,
        store: Arc<S>,
        salesforce: Client,
        config: WorkerConfig,
    ) -> Result<Self, WorkerError> {
        if config.batch_size == 0 {
            return Err(WorkerError::Config("batch_size must be at least 1".into()));
        }
        if config.worker_id.is_empty() {
            return Err(WorkerError::Config("worker_id must not be empty".into()));
        }
        let limiter = RateLimiter::per_minute_and_day(
            Arc::clone(&store),
            config.salesforce_calls_per_minute,
            config.salesforce_calls_per_day,
        )?
        .with_org_quota_from(
            OrgQuota::new(config.quota_reserve_percent)?,
            salesforce.watch_limit_info(),
        );
        Ok(Worker {
            queue,
            store,
            salesforce,
            config,
            limiter,
            metrics: Arc::new(Metrics::new()),
            clock: Arc::new(OffsetDateTime::now_utc),
            rng: Mutex::new(fastrand::Rng::new()),
            free_passes: Mutex::new(HashMap::new()),
            batches: AtomicU64::new(0),
            source: None,
        })
    }

    /// Counts into `metrics` (shared with the receiver's `/metrics`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Takes now from `clock` (for claims, retries and the rate limiter) instead of the
    /// system clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        let limiter_clock = Arc::clone(&clock);
        self.limiter = self.limiter.with_clock(move || limiter_clock());
        self.clock = clock;
        self
    }

    /// Re-fetches objects from `source` when an event is from the same second as the last
    /// one applied to its object (see [`plan::is_stale`]).
    pub fn with_object_source(mut self, source: Arc<dyn ObjectSource>) -> Self {
        self.source = Some(source);
        self
    }

    /// Seeds the backoff's jitter, for reproducible tests.
    pub fn with_seed(self, seed: u64) -> Self {
        *self.rng.lock().unwrap_or_else(PoisonError::into_inner) = fastrand::Rng::with_seed(seed);
        self
    }

    /// The worker's settings.
    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// Now, by the worker's clock.
    fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    /// Pulls, processes and settles one batch; returns how many deliveries it settled.
    pub async fn run_once(&self) -> Result<usize, WorkerError> {
        let deliveries = self
            .queue
            .pull(self.config.batch_size, self.config.lease)
            .await
            .map_err(|e| WorkerError::queue("pulling", "-", e))?;
        if deliveries.is_empty() {
            return Ok(0);
        }
        let batch = self.batches.fetch_add(1, Ordering::Relaxed);
        let correlation_id = format!("{}-b{batch}", self.config.worker_id);
        let pulled = deliveries.len();
        let mut settled = 0;
        let mut work = Vec::new();
        let mut candidates = Vec::new();
        for delivery in deliveries {
            match self.prepare(delivery, &correlation_id).await? {
                Prepared::Settled => settled += 1,
                Prepared::Work(item, records) => {
                    let index = work.len();
                    let rank = (
                        item.delivery.envelope.created,
                        item.delivery.envelope.event_id.clone(),
                    );
                    candidates.extend(records.into_iter().map(|record| Candidate {
                        event: index,
                        rank: rank.clone(),
                        record,
                    }));
                    work.push(*item);
                }
            }
        }
        // The data records, parents first.
        let mut verdicts = vec![Verdict::Written; work.len()];
        let mut pause = None;
        self.write(
            plan::collapse(candidates),
            &mut verdicts,
            &mut pause,
            &correlation_id,
        )
        .await;
        // The audit trail, with each event's status as it now stands.
        let mut audit = Vec::new();
        for (index, item) in work.iter().enumerate() {
            if matches!(verdicts[index], Verdict::Paused(_)) {
                continue;
            }
            match self.audit_record(item, &verdicts[index]) {
                Ok(record) => audit.push(Candidate {
                    event: index,
                    rank: (item.delivery.envelope.created, item.id().to_owned()),
                    record,
                }),
                Err(reason) => verdicts[index].merge(Verdict::Permanent(reason)),
            }
        }
        let mut audit_verdicts = vec![Verdict::Written; work.len()];
        self.write(
            plan::collapse(audit),
            &mut audit_verdicts,
            &mut pause,
            &correlation_id,
        )
        .await;
        for (verdict, audit) in verdicts.iter_mut().zip(audit_verdicts) {
            if *verdict == Verdict::Written {
                *verdict = audit;
            }
        }
        for (item, verdict) in work.into_iter().zip(verdicts) {
            self.settle(item, verdict, &correlation_id).await?;
            settled += 1;
        }
        tracing::debug!(correlation_id, pulled, settled, "batch settled");
        Ok(settled)
    }

    /// Loops [`Worker::run_once`] until `shutdown` resolves. A batch under way is finished
    /// (settled) before returning; deliveries never started stay in the queue.
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) -> Result<(), WorkerError> {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let idle = match self.run_once().await {
                Ok(0) => true,
                Ok(_) => false,
                Err(error) => {
                    tracing::error!(worker = %self.config.worker_id, %error, "worker batch failed");
                    true
                }
            };
            let pause = if idle {
                self.config.idle_poll
            } else {
                Duration::ZERO
            };
            let sleep = std::pin::pin!(tokio::time::sleep(pause));
            if let Either::Left(_) = select(shutdown.as_mut(), sleep).await {
                tracing::info!(worker = %self.config.worker_id, "worker stopped");
                return Ok(());
            }
        }
    }

    /// Claims, reads, checks and maps one delivery; settles it at once when there is nothing
    /// to write for it but its audit record.
    async fn prepare(
        &self,
        delivery: Delivery,
        correlation_id: &str,
    ) -> Result<Prepared, WorkerError> {
        let envelope = &delivery.envelope;
        let event_id = envelope.event_id.clone();
        let now = self.now();
        let until = now + self.config.lease;
        let claim = self
            .store
            .claim(&event_id, &self.config.worker_id, until)
            .await
            .map_err(|e| WorkerError::store("claiming", &event_id, e))?;
        match claim {
            Claim::Done(outcome) => {
                tracing::debug!(
                    event_id,
                    correlation_id,
                    outcome = outcome.as_str(),
                    "duplicate delivery"
                );
                self.metrics.add(
                    Counter::EventsDuplicate,
                    &[("type", type_label(&envelope.event_type))],
                    1,
                );
                self.ack(&delivery).await?;
                self.forget(&event_id);
                return Ok(Prepared::Settled);
            }
            Claim::Held { worker, .. } => {
                tracing::debug!(event_id, correlation_id, holder = %worker, "event held by another worker");
                self.give_back(&delivery, now + HELD_RETRY, "held").await?;
                return Ok(Prepared::Settled);
            }
            Claim::Granted => {}
        }
        let attempt = self.attempt(&delivery);
        if let Err(error) = stripe_types::Event::from_json(&envelope.payload) {
            self.dead_letter(
                &delivery,
                format!("unreadable event: {error}"),
                correlation_id,
            )
            .await?;
            return Ok(Prepared::Settled);
        }
        let event: serde_json::Value = match serde_json::from_slice(&envelope.payload) {
            Ok(value) => value,
            Err(error) => {
                self.dead_letter(
                    &delivery,
                    format!("unreadable event: {error}"),
                    correlation_id,
                )
                .await?;
                return Ok(Prepared::Settled);
            }
        };
        let mut item = Work {
            event,
            outcome: Outcome::Processed,
            attempt,
            delivery,
        };
        if !crate::priority::handled(&item.delivery.envelope.event_type) {
            self.metrics.add(
                Counter::EventsUnhandled,
                &[("type", type_label(&item.delivery.envelope.event_type))],
                1,
            );
            item.outcome = Outcome::Ignored;
            return Ok(Prepared::Work(Box::new(item), Vec::new()));
        }
        let mark = match &item.delivery.envelope.object_id {
            Some(object_id) => self
                .store
                .mark(object_id)
                .await
                .map_err(|e| WorkerError::store("reading the watermark of", &event_id, e))?,
            None => None,
        };
        if plan::is_stale(item.delivery.envelope.created, mark.as_ref()) {
            tracing::info!(
                event_id,
                correlation_id,
                "older than the last applied event of its object: skipped"
            );
            self.metrics.add(
                Counter::EventsSkippedStale,
                &[("type", type_label(&item.delivery.envelope.event_type))],
                1,
            );
            item.outcome = Outcome::SkippedStale;
            return Ok(Prepared::Work(Box::new(item), Vec::new()));
        }
        let unordered = mark.as_ref().is_some_and(|mark| {
            mark.created == item.delivery.envelope.created && mark.event_id != event_id
        });
        let mut current = None;
        if unordered && let Some(source) = &self.source {
            let object = item.event.pointer("/data/object");
            let kind = object
                .and_then(|o| o.get("object"))
                .and_then(serde_json::Value::as_str);
            let id = object
                .and_then(|o| o.get("id"))
                .and_then(serde_json::Value::as_str);
            if let (Some(kind), Some(id)) = (kind, id) {
                tracing::info!(
                    event_id,
                    correlation_id,
                    "same second as the last applied event: re-fetching its object"
                );
                match source.fetch(kind, id).await {
                    Ok(object) => current = Some(object),
                    Err(error) => {
                        let reason = format!("cannot order a same-second event: {error}");
                        self.settle(item, Verdict::Retry(reason), correlation_id)
                            .await?;
                        return Ok(Prepared::Settled);
                    }
                }
            }
        }
        let ctx = self.context(&item, ProcessingStatus::Processed, None);
        let object = current
            .as_ref()
            .or_else(|| item.event.pointer("/data/object"))
            .unwrap_or(&serde_json::Value::Null);
        let records = match map_object(object, &ctx) {
            Ok(records) => records,
            Err(error) => {
                self.dead_letter(
                    &item.delivery,
                    format!("mapping failed: {error}"),
                    correlation_id,
                )
                .await?;
                return Ok(Prepared::Settled);
            }
        };
        for record in &records {
            if let Err(violations) = record.validate() {
                let reason = format!(
                    "{} {} failed validation: {violations}",
                    record.sobject(),
                    record.key().value
                );
                self.dead_letter(&item.delivery, reason, correlation_id)
                    .await?;
                return Ok(Prepared::Settled);
            }
        }
        Ok(Prepared::Work(Box::new(item), records))
    }

    /// The mapping context of `item` with `status`.
    fn context(
        &self,
        item: &Work,
        status: ProcessingStatus,
        error: Option<String>,
    ) -> MappingContext {
        MappingContext {
            received_at: item.delivery.envelope.received_at,
            processed_at: Some(self.now()),
            processing_status: status,
            attempts: item.delivery.deliveries,
            error_message: error,
        }
    }

    /// The audit record of `item` given its verdict so far; `Err` with the reason when it
    /// cannot be mapped or is invalid.
    fn audit_record(&self, item: &Work, verdict: &Verdict) -> Result<MappedRecord, String> {
        let (status, error) = match verdict {
            Verdict::Written | Verdict::Paused(_) => (
                match item.outcome {
                    Outcome::Processed => ProcessingStatus::Processed,
                    Outcome::SkippedStale => ProcessingStatus::SkippedStale,
                    // An ignored type was received and recorded, not processed.
                    Outcome::Ignored => ProcessingStatus::Received,
                    Outcome::DeadLettered => ProcessingStatus::DeadLettered,
                },
                None,
            ),
            // The last retryable failure is dead-lettered when settled.
            Verdict::Retry(reason) if self.config.backoff.ceiling(item.attempt).is_none() => {
                (ProcessingStatus::DeadLettered, Some(reason.clone()))
            }
            Verdict::Retry(reason) => (ProcessingStatus::Failed, Some(reason.clone())),
            Verdict::Permanent(reason) => (ProcessingStatus::DeadLettered, Some(reason.clone())),
        };
        let ctx = self.context(item, status, error);
        let record = map_object(&item.event, &ctx)
            .map_err(|e| format!("audit record mapping failed: {e}"))?
            .into_iter()
            .next()
            .ok_or_else(|| "the event mapping gave no audit record".to_owned())?;
        record
            .validate()
            .map_err(|v| format!("audit record failed validation: {v}"))?;
        Ok(record)
    }

    /// Writes `groups` (in order), merging each record's result into the verdicts of the
    /// events it stands for. Once a quota refuses, nothing more is written (`pause` says
    /// until when).
    async fn write(
        &self,
        groups: Vec<Group>,
        verdicts: &mut [Verdict],
        pause: &mut Option<OffsetDateTime>,
        correlation_id: &str,
    ) {
        let mut start = 0;
        while start < groups.len() {
            let sobject = groups[start].record.sobject();
            let field = groups[start].record.key().field;
            let by_id = field == "Id";
            let limit = if by_id { 1 } else { COLLECTION_LIMIT };
            let mut end = start;
            while end < groups.len()
                && end - start < limit
                && groups[end].record.sobject() == sobject
                && groups[end].record.key().field == field
            {
                end += 1;
            }
            let chunk = &groups[start..end];
            start = end;
            if let Some(until) = *pause {
                mark_all(chunk, verdicts, &Verdict::Paused(until));
                continue;
            }
            let now = self.now();
            match self.limiter.try_acquire(1, now).await {
                Ok(Decision::Allowed) => {}
                Ok(Decision::Wait { until, window }) => {
                    tracing::warn!(
                        correlation_id,
                        window,
                        "Salesforce call quota reached: pausing writes"
                    );
                    *pause = Some(until);
                    mark_all(chunk, verdicts, &Verdict::Paused(until));
                    continue;
                }
                Err(error) => {
                    mark_all(
                        chunk,
                        verdicts,
                        &Verdict::Retry(format!("rate limiter failed: {error}")),
                    );
                    continue;
                }
            }
            let api = if by_id { "update" } else { "collections" };
            let results = if by_id {
                let group = &chunk[0];
                self.update(group).await.map(|()| vec![None])
            } else {
                self.upsert(sobject, field, chunk).await
            };
            let pause_until = now + QUOTA_PAUSE;
            match results {
                Ok(results) => {
                    self.metrics.add(
                        Counter::SalesforceCalls,
                        &[("api", api), ("outcome", "ok")],
                        1,
                    );
                    for (group, result) in chunk.iter().zip(results) {
                        let Some((errors, class)) = result else {
                            continue;
                        };
                        let verdict = plan::record_verdict(&errors, class, pause_until);
                        if let Verdict::Paused(until) = verdict {
                            *pause = Some(until);
                        }
                        tracing::warn!(
                            correlation_id,
                            sobject,
                            events = ?event_ids(group),
                            error = %plan::describe(&errors),
                            "Salesforce refused a record"
                        );
                        for &event in &group.events {
                            verdicts[event].merge(verdict.clone());
                        }
                    }
                }
                Err(error) => {
                    self.metrics.add(
                        Counter::SalesforceCalls,
                        &[("api", api), ("outcome", "error")],
                        1,
                    );
                    tracing::warn!(correlation_id, sobject, %error, "Salesforce call failed");
                    let verdict = match error.class() {
                        ErrorClass::Quota => {
                            *pause = Some(pause_until);
                            Verdict::Paused(pause_until)
                        }
                        ErrorClass::Permanent => Verdict::Permanent(error.to_string()),
                        ErrorClass::Retryable | ErrorClass::Auth => {
                            Verdict::Retry(error.to_string())
                        }
                    };
                    mark_all(chunk, verdicts, &verdict);
                }
            }
        }
    }

    /// Upserts the records of `chunk` (one object, one external id field) in one Collections
    /// call; per record `None` when written, else its errors and class.
    async fn upsert(
        &self,
        sobject: &str,
        field: &str,
        chunk: &[Group],
    ) -> Result<Vec<Option<RecordFailure>>, crate::salesforce::Error> {
        let mut bodies = Vec::with_capacity(chunk.len());
        for group in chunk {
            bodies.push(body(&group.record, sobject)?);
        }
        let results = self
            .salesforce
            .upsert_collection_json(sobject, field, &bodies, false)
            .await?;
        Ok(results
            .into_iter()
            .map(|result| {
                result
                    .class()
                    .map(|class| (result.errors().to_vec(), class))
            })
            .collect())
    }

    /// Updates the record of `group` found by its `Id`.
    async fn update(&self, group: &Group) -> Result<(), crate::salesforce::Error> {
        let sobject = group.record.sobject();
        let record = body(&group.record, sobject)?;
        self.salesforce
            .update_json(sobject, &group.record.key().value, &record)
            .await
    }

    /// Settles one event by its verdict.
    async fn settle(
        &self,
        item: Work,
        verdict: Verdict,
        correlation_id: &str,
    ) -> Result<(), WorkerError> {
        let event_id = item.id().to_owned();
        match verdict {
            Verdict::Written => {
                if item.outcome == Outcome::Processed
                    && let Some(object_id) = &item.delivery.envelope.object_id
                {
                    let mark = Mark {
                        created: item.delivery.envelope.created,
                        event_id: event_id.clone(),
                    };
                    self.store.advance(object_id, &mark).await.map_err(|e| {
                        WorkerError::store("advancing the watermark for", &event_id, e)
                    })?;
                }
                self.complete(&item.delivery, item.outcome).await?;
                tracing::info!(
                    event_id,
                    correlation_id,
                    outcome = item.outcome.as_str(),
                    "event settled"
                );
            }
            Verdict::Paused(until) => {
                tracing::info!(event_id, correlation_id, %until, "Salesforce quota: given back until it returns");
                self.release(&event_id).await?;
                self.give_back(&item.delivery, until, "quota").await?;
            }
            Verdict::Retry(reason) => match self.delay(item.attempt) {
                Some(delay) => {
                    tracing::info!(event_id, correlation_id, attempt = item.attempt, ?delay, %reason, "retrying later");
                    self.release(&event_id).await?;
                    self.metrics
                        .add(Counter::Retries, &[("reason", "retryable")], 1);
                    let at = self.now() + delay;
                    self.queue
                        .retry_at(&item.delivery.receipt, at)
                        .await
                        .map_err(|e| WorkerError::queue("rescheduling", &event_id, e))?;
                }
                None => {
                    let reason = format!("gave up after {} attempts: {reason}", item.attempt);
                    self.dead_letter(&item.delivery, reason, correlation_id)
                        .await?;
                }
            },
            Verdict::Permanent(reason) => {
                self.dead_letter(&item.delivery, reason, correlation_id)
                    .await?;
            }
        }
        Ok(())
    }

    /// Moves an event to the dead-letter queue (keeping earlier attempts of a replayed event),
    /// completes it and acknowledges it.
    async fn dead_letter(
        &self,
        delivery: &Delivery,
        reason: String,
        correlation_id: &str,
    ) -> Result<(), WorkerError> {
        let envelope = &delivery.envelope;
        let event_id = envelope.event_id.as_str();
        let now = self.now();
        let mut attempts = self
            .store
            .get(event_id)
            .await
            .map_err(|e| WorkerError::store("reading the dead letter of", event_id, e))?
            .map(|letter| letter.attempts)
            .unwrap_or_default();
        attempts.push(Attempt {
            at: now,
            error: reason.clone(),
        });
        let letter = DeadLetter {
            event_id: event_id.to_owned(),
            event_type: envelope.event_type.clone(),
            payload: envelope.payload.clone(),
            reason,
            attempts,
            dead_lettered_at: now,
        };
        self.store
            .put(&letter)
            .await
            .map_err(|e| WorkerError::store("dead-lettering", event_id, e))?;
        tracing::warn!(event_id, correlation_id, reason = %letter.reason, "event dead-lettered");
        self.metrics.add(
            Counter::DeadLetters,
            &[("type", type_label(&envelope.event_type))],
            1,
        );
        self.complete(delivery, Outcome::DeadLettered).await
    }

    /// Records `outcome` in the ledger and acknowledges the delivery.
    async fn complete(&self, delivery: &Delivery, outcome: Outcome) -> Result<(), WorkerError> {
        let event_id = delivery.envelope.event_id.as_str();
        self.store
            .complete(event_id, &self.config.worker_id, outcome)
            .await
            .map_err(|e| WorkerError::store("completing", event_id, e))?;
        self.ack(delivery).await?;
        self.forget(event_id);
        Ok(())
    }

    /// Acknowledges a delivery.
    async fn ack(&self, delivery: &Delivery) -> Result<(), WorkerError> {
        self.queue
            .ack(&delivery.receipt)
            .await
            .map_err(|e| WorkerError::queue("acknowledging", &delivery.envelope.event_id, e))
    }

    /// Gives up this worker's claim of `event_id`.
    async fn release(&self, event_id: &str) -> Result<(), WorkerError> {
        Ledger::release(&*self.store, event_id, &self.config.worker_id)
            .await
            .map_err(|e| WorkerError::store("releasing", event_id, e))
    }

    /// Gives a delivery back for `at` without spending an attempt.
    async fn give_back(
        &self,
        delivery: &Delivery,
        at: OffsetDateTime,
        reason: &'static str,
    ) -> Result<(), WorkerError> {
        let event_id = delivery.envelope.event_id.as_str();
        *self
            .free_passes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(event_id.to_owned())
            .or_insert(0) += 1;
        self.metrics.add(Counter::Retries, &[("reason", reason)], 1);
        self.queue
            .retry_at(&delivery.receipt, at)
            .await
            .map_err(|e| WorkerError::queue("rescheduling", event_id, e))
    }

    /// The attempt number of `delivery` for the backoff: its deliveries less the free passes.
    fn attempt(&self, delivery: &Delivery) -> u32 {
        let free = self
            .free_passes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&delivery.envelope.event_id)
            .copied()
            .unwrap_or(0);
        delivery.deliveries.saturating_sub(free).max(1)
    }

    /// Forgets the free passes of a settled event.
    fn forget(&self, event_id: &str) {
        self.free_passes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(event_id);
    }

    /// The backoff's delay after failed attempt `attempt`, `None` to give up.
    fn delay(&self, attempt: u32) -> Option<Duration> {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        self.config.backoff.delay(attempt, &mut rng)
    }
}

/// What [`Worker::prepare`] made of a delivery.
enum Prepared {
    /// Settled already (duplicate, held, dead-lettered).
    Settled,
    /// To be written: the event and its data records.
    Work(Box<Work>, Vec<MappedRecord>),
}

/// Errors and class of a record Salesforce refused.
type RecordFailure = (Vec<crate::salesforce::ApiError>, ErrorClass);

/// Merges `verdict` into every event of `groups`.
fn mark_all(groups: &[Group], verdicts: &mut [Verdict], verdict: &Verdict) {
    for group in groups {
        for &event in &group.events {
            verdicts[event].merge(verdict.clone());
        }
    }
}

/// The indexes of the events a group stands for (for logs: no ids of people or values).
fn event_ids(group: &Group) -> &[usize] {
    &group.events
}

/// `record`'s REST body as raw JSON (exact decimals).
fn body(record: &MappedRecord, sobject: &str) -> Result<Box<RawValue>, crate::salesforce::Error> {
    record
        .record_body()
        .and_then(RawValue::from_string)
        .map_err(|e| crate::salesforce::Error::InvalidInput {
            operation: format!("write {sobject}"),
            reason: format!("the record cannot be written as JSON: {e}"),
        })
}
