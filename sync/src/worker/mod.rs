//! The worker: pulls queued Stripe events, maps them and writes them to Salesforce in batches,
//! exactly once per event and never letting an older event overwrite a newer one.
//!
//! 1. A batch pulls up to `batch_size` deliveries. Each is claimed
//!    in the ledger (a duplicate of a completed event is acknowledged without writing; an event
//!    another worker holds is given back a few seconds later) and read with
//!    `Event::from_json` (another API version or an unreadable body is dead-lettered at once,
//!    with its audit record).
//! 2. Event types the sync does not handle are completed as `ignored`, with their audit record.
//! 3. An event from a second strictly before the watermark of its object is `skipped_stale`
//!    (no write). An event from the same second as the watermark but another event cannot be
//!    ordered by it: with an [`ObjectSource`] the object is re-fetched from Stripe and its
//!    current state written; without one the event's own `data.object` is applied. Either way
//!    it is never dropped (see [`plan::is_stale`]).
//! 4. `data.object` is mapped and validated (a mapping or validation error is permanent) and
//!    the event waits in a lane (module `lane`): high- and normal-priority events in the REST lane
//!    (written within `high_window` / `normal_window`), low-priority ones in the Bulk lane.
//! 5. A lane flush groups the records of its events per object; several records with one key
//!    collapse to the newest event's; parents are written before children. The REST lane
//!    writes through Composite calls (up to five Collections upserts of 200 records each), the
//!    Bulk lane through one Bulk API 2.0 job per object. A child refused because its parent is
//!    not in Salesforce gets the parent written first (from the Bulk lane, or from Stripe) and
//!    is written again. Each call first takes its units from the rate limiter.
//! 6. Events whose data is written advance their object's watermark and wait in the Bulk lane
//!    for their audit record (`Stripe_Webhook_Event__c`); once it is written the ledger
//!    completes them and the queue acknowledges them. Retryable failures back off (2, 4, 8, 16,
//!    32 s with full jitter), then dead letter; permanent ones dead-letter with Salesforce's
//!    errors. Quota (Salesforce's 403 or our limiter) stops writing and gives the events back
//!    until the quota returns, without spending an attempt.
//!
//! Attempts: the queue counts every delivery. Deliveries given back without a try (quota
//! pauses, events held by another worker) are counted by the worker as free passes and
//! subtracted before asking the backoff; the count lives in the worker's memory, so after a
//! restart those earlier deliveries count as attempts (an event can only be dead-lettered
//! sooner, never lost: the dead letter keeps the payload for replay).

pub mod bulk;
mod error;
mod lane;
pub mod plan;
pub mod source;

/// Records for the unit tests of the worker's modules.
#[cfg(test)]
mod test_records {
    use time::OffsetDateTime;

    use crate::mapping::{MappedRecord, MappingContext, map_object};

    /// The `Stripe_Customer__c` record of a customer `id` named `name`.
    pub(super) fn customer(id: &str, name: &str) -> MappedRecord {
        let object = serde_json::json!({"id": id, "object": "customer", "name": name});
        let ctx = MappingContext::received(OffsetDateTime::UNIX_EPOCH);
        map_object(&object, &ctx)
            .expect("maps")
            .into_iter()
            .find(|r| r.sobject() == "Stripe_Customer__c")
            .expect("a customer record")
    }
}

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::{Either, select};
use serde_json::value::RawValue;
use time::OffsetDateTime;

pub use self::bulk::BulkConfig;
use self::bulk::{BULK_JOB_CALLS, BULK_JOB_LIMIT};
pub use self::error::WorkerError;
use self::lane::{Buffer, Held};
use self::plan::{Candidate, Group, Verdict};
pub use self::source::{ObjectSource, SourceError, StripeObjectSource};
use crate::alerts::Alerts;
use crate::backoff::Backoff;
use crate::mapping::{MAPPINGS, MappedRecord, MappingContext, ProcessingStatus, map_object};
use crate::queue::{Delivery, Priority, Queue, QueueError, Receipt};
use crate::ratelimit::{Decision, OrgQuota, RateLimiter};
use crate::receiver::Metrics;
use crate::receiver::metrics::{Counter, Gauge, type_label};
use crate::salesforce::{
    ApiError, BulkOptions, BulkWrite, COLLECTION_LIMIT, Client, CompositeRequest, ErrorClass,
    RecordResult,
};
use crate::store::{Attempt, Claim, DeadLetter, Ledger, Mark, Outcome, Store};

/// How long an event another worker holds waits before it is handed out again.
const HELD_RETRY: Duration = Duration::from_secs(2);

/// How long writing pauses after Salesforce answers that the org's quota is spent (the rate
/// limiter then knows from `Sforce-Limit-Info` when it returns).
const QUOTA_PAUSE: Duration = Duration::from_secs(60);

/// How often the queue's lag is checked for an alert.
const LAG_CHECK: Duration = Duration::from_secs(5);

/// How often the REST lane checks whether it is due.
const REST_TICK: Duration = Duration::from_millis(20);

/// Events in the REST lane that make it flush before its deadline (their records fill about
/// one Composite call: five Collections upserts of 200).
const REST_FLUSH_EVENTS: usize = 1_000;

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
    /// How long a high-priority event may wait in the REST lane for others to share its
    /// Composite call.
    pub high_window: Duration,
    /// How long a normal-priority event may wait in the REST lane.
    pub normal_window: Duration,
    /// Retry policy for retryable Salesforce failures.
    pub backoff: Backoff,
    /// Salesforce calls allowed per minute (all workers sharing the store).
    pub salesforce_calls_per_minute: u64,
    /// Salesforce calls allowed per day (all workers sharing the store).
    pub salesforce_calls_per_day: u64,
    /// Share of the org's daily API quota at which writing stops, keeping the rest for people.
    pub quota_reserve_percent: u8,
    /// The Bulk API 2.0 lane: when it flushes, how its jobs are polled.
    pub bulk: BulkConfig,
    /// Salesforce User Id that payment-failure Tasks are assigned to (`finance_owner_id` in
    /// the mappings); `None` leaves them to the integration user.
    pub task_owner_finance: Option<String>,
    /// Salesforce User Id that cancellation Tasks are assigned to (`service_owner_id` in the
    /// mappings); `None` leaves them to the integration user.
    pub task_owner_service: Option<String>,
}

impl Default for WorkerConfig {
    /// Batches of 200, 60 s leases, 100 ms idle polls, high-priority writes within 0.5 s and
    /// normal ones within 2 s, the default backoff, 1,000 calls a minute and 100,000 a day,
    /// stopping at 80% of the org's quota, the default Bulk lane.
    fn default() -> Self {
        WorkerConfig {
            worker_id: format!("worker-{}", std::process::id()),
            batch_size: 200,
            lease: Duration::from_secs(60),
            idle_poll: Duration::from_millis(100),
            high_window: Duration::from_millis(500),
            normal_window: Duration::from_secs(2),
            backoff: Backoff::default(),
            salesforce_calls_per_minute: 1_000,
            salesforce_calls_per_day: 100_000,
            quota_reserve_percent: 80,
            bulk: BulkConfig::default(),
            task_owner_finance: None,
            task_owner_service: None,
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
    /// When this worker's lease of the delivery and claim of the event end.
    lease_until: OffsetDateTime,
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
    /// Current state of Stripe objects, for events that cannot be ordered by the watermark
    /// and for parents missing in Salesforce.
    source: Option<Arc<dyn ObjectSource>>,
    /// High- and normal-priority events waiting for their Composite calls.
    rest: Mutex<Buffer>,
    /// Low-priority events and audit records waiting for their Bulk jobs.
    bulk: Mutex<Buffer>,
    /// Numbers the flushes, for the correlation id of their log lines.
    flushes: AtomicU64,
    /// Where admin alerts go (dead letters, error rate, quota, lag).
    alerts: Alerts,
    /// The latest receipt of each event waiting in a lane or being flushed: an event handed
    /// out again meanwhile (its lease ran out) is not processed twice, and is settled with the
    /// new receipt.
    in_lanes: Mutex<HashMap<String, Receipt>>,
    /// When the queue's lag was last checked for an alert.
    lag_checked: Mutex<Option<OffsetDateTime>>,
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
            rest: Mutex::new(Buffer::default()),
            bulk: Mutex::new(Buffer::default()),
            flushes: AtomicU64::new(0),
            alerts: Alerts::disabled(),
            in_lanes: Mutex::new(HashMap::new()),
            lag_checked: Mutex::new(None),
        })
    }

    /// Counts into `metrics` (shared with the receiver's `/metrics`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Raises admin alerts through `alerts` (by default they are only logged).
    pub fn with_alerts(mut self, alerts: Alerts) -> Self {
        self.alerts = alerts;
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

    /// Pulls and processes one batch, then flushes each lane that is due; returns how many
    /// deliveries the batch handled (settled, or waiting in a lane).
    pub async fn run_once(&self) -> Result<usize, WorkerError> {
        let handled = self.process_batch().await?;
        self.flush_rest(false).await?;
        self.flush(false).await?;
        Ok(handled)
    }

    /// Events and audit records waiting in the two lanes.
    pub fn buffered(&self) -> usize {
        lock(&self.rest).len() + lock(&self.bulk).len()
    }

    /// Pulls and processes one batch (steps 1 to 4 of the module documentation): high- and
    /// normal-priority events go to the REST lane, low-priority ones to the Bulk lane.
    async fn process_batch(&self) -> Result<usize, WorkerError> {
        // Back-pressure: lanes twice their flush size wait for the flushes under way.
        if lock(&self.rest).len() >= REST_FLUSH_EVENTS.saturating_mul(2)
            || lock(&self.bulk).len() >= self.config.bulk.flush_records.saturating_mul(2)
        {
            return Ok(0);
        }
        let deliveries = self.pull(self.config.batch_size).await?;
        if deliveries.is_empty() {
            return Ok(0);
        }
        let batch = self.batches.fetch_add(1, Ordering::Relaxed);
        let correlation_id = format!("{}-b{batch}", self.config.worker_id);
        let pulled = deliveries.len();
        // Events handed out again while they wait in a lane here are settled with the new
        // receipt, not processed twice.
        let mut fresh = Vec::with_capacity(deliveries.len());
        {
            let mut in_lanes = self.in_lanes();
            for delivery in deliveries {
                match in_lanes.get_mut(&delivery.envelope.event_id) {
                    Some(receipt) => {
                        tracing::debug!(
                            event_id = delivery.envelope.event_id,
                            correlation_id,
                            "redelivered while waiting in a lane"
                        );
                        *receipt = delivery.receipt;
                    }
                    None => fresh.push(delivery),
                }
            }
        }
        // One ledger transaction claims the whole batch.
        let until = self.now() + self.pull_lease();
        let ids: Vec<String> = fresh.iter().map(|d| d.envelope.event_id.clone()).collect();
        let claims = self
            .store
            .claim_all(&ids, &self.config.worker_id, until)
            .await
            .map_err(|e| WorkerError::store("claiming", ids.first().map_or("-", |s| s), e))?;
        for (delivery, claim) in fresh.into_iter().zip(claims) {
            let Prepared::Work(item, data) = self
                .prepare(delivery, claim, until, &correlation_id)
                .await?
            else {
                continue;
            };
            let now = self.now();
            self.in_lanes()
                .insert(item.id().to_owned(), item.delivery.receipt.clone());
            let held = Held { work: *item, data };
            match held.work.delivery.envelope.priority {
                Priority::High => lock(&self.rest).hold(held, now + self.config.high_window),
                Priority::Normal => lock(&self.rest).hold(held, now + self.config.normal_window),
                Priority::Low => lock(&self.bulk).hold(held, now + self.config.bulk.flush_age),
            }
        }
        tracing::debug!(correlation_id, pulled, "batch processed");
        Ok(pulled)
    }

    /// Writes what waits in the REST lane when it is due (or whenever something waits, with
    /// `force`): the data records of its events grouped per object, parents first, in Composite
    /// calls. Events whose data is written move to the Bulk lane for their audit record (their
    /// watermark advances now); the others are retried, paused or dead-lettered at once.
    /// Returns how many events it wrote.
    pub async fn flush_rest(&self, force: bool) -> Result<usize, WorkerError> {
        let now = self.now();
        let Buffer { events, .. } = {
            let mut rest = lock(&self.rest);
            if !(rest.due(REST_FLUSH_EVENTS, now) || (force && rest.len() > 0)) {
                return Ok(0);
            }
            std::mem::take(&mut *rest)
        };
        let flush = self.flushes.fetch_add(1, Ordering::Relaxed);
        let correlation_id = format!("{}-r{flush}", self.config.worker_id);
        let events = self.keep_leases(events, &correlation_id).await?;
        let mut candidates = Vec::new();
        let mut items = Vec::with_capacity(events.len());
        for (index, held) in events.into_iter().enumerate() {
            let rank = (
                held.work.delivery.envelope.created,
                held.work.delivery.envelope.event_id.clone(),
            );
            candidates.extend(held.data.into_iter().map(|record| Candidate {
                event: index,
                rank: rank.clone(),
                record,
            }));
            items.push(held.work);
        }
        let mut verdicts = vec![Verdict::Written; items.len()];
        let mut pause = None;
        let groups = plan::collapse(candidates);
        let results = self
            .write_with_parents(&groups, Lane::Rest, &mut pause, &correlation_id)
            .await;
        fold(&groups, &results, &mut verdicts);
        let written = verdicts.iter().filter(|v| **v == Verdict::Written).count();
        let now = self.now();
        let (written_items, others): (Vec<_>, Vec<_>) = items
            .into_iter()
            .zip(verdicts)
            .partition(|(_, verdict)| *verdict == Verdict::Written);
        // The watermarks of the written events advance in one store call; they then wait for
        // their audit records in the Bulk lane.
        self.advance_all(written_items.iter().map(|(item, _)| item))
            .await?;
        {
            let mut bulk = lock(&self.bulk);
            for (item, _) in written_items {
                let held = Held {
                    work: item,
                    data: Vec::new(),
                };
                bulk.hold(held, now + self.config.bulk.flush_age);
            }
        }
        // One event failing to settle (a store error) does not keep the others from settling.
        let mut first_error = None;
        for (item, verdict) in others {
            let settled = match verdict {
                Verdict::Written => Ok(()),
                Verdict::Paused(_) => self.settle(item, verdict, &correlation_id).await,
                Verdict::Retry(_) | Verdict::Permanent(_) => {
                    match self.audit_record(&item, &verdict) {
                        Ok(record) => {
                            lock(&self.bulk).detach(record, now + self.config.bulk.flush_age);
                        }
                        Err(reason) => {
                            tracing::warn!(event_id = item.id(), correlation_id, %reason, "no audit record");
                        }
                    }
                    self.settle(item, verdict, &correlation_id).await
                }
            };
            if let Err(error) = settled {
                tracing::error!(correlation_id, %error, "an event could not be settled");
                first_error.get_or_insert(error);
            }
        }
        tracing::debug!(correlation_id, written, "REST lane flushed");
        first_error.map_or(Ok(written), Err)
    }

    /// Writes what waits in the Bulk lane when it is due (or whenever something waits, with
    /// `force`): the low-priority data records, then every waiting audit record, each object
    /// in one Bulk job; then settles the waiting events. Returns how many events it settled.
    pub async fn flush(&self, force: bool) -> Result<usize, WorkerError> {
        let now = self.now();
        let Buffer {
            events, detached, ..
        } = {
            let mut bulk = lock(&self.bulk);
            let due = bulk.due(self.config.bulk.flush_records, now) || (force && bulk.len() > 0);
            if !due {
                return Ok(0);
            }
            std::mem::take(&mut *bulk)
        };
        let flush = self.flushes.fetch_add(1, Ordering::Relaxed);
        let correlation_id = format!("{}-f{flush}", self.config.worker_id);
        let mut events = self.keep_leases(events, &correlation_id).await?;
        // The data records of low-priority events, parents first.
        let mut candidates = Vec::new();
        let mut had_data = vec![false; events.len()];
        for (index, held) in events.iter_mut().enumerate() {
            let rank = (
                held.work.delivery.envelope.created,
                held.work.delivery.envelope.event_id.clone(),
            );
            had_data[index] = !held.data.is_empty();
            candidates.extend(
                std::mem::take(&mut held.data)
                    .into_iter()
                    .map(|record| Candidate {
                        event: index,
                        rank: rank.clone(),
                        record,
                    }),
            );
        }
        let mut verdicts = vec![Verdict::Written; events.len()];
        let mut pause = None;
        let groups = plan::collapse(candidates);
        let results = self
            .write_with_parents(&groups, Lane::Bulk, &mut pause, &correlation_id)
            .await;
        fold(&groups, &results, &mut verdicts);
        self.advance_all(
            events
                .iter()
                .enumerate()
                .filter(|(index, _)| had_data[*index] && verdicts[*index] == Verdict::Written)
                .map(|(_, held)| &held.work),
        )
        .await?;
        // The audit trail: detached records first, so that an event's own record (its status
        // as it now stands) wins over an earlier attempt's.
        let detached_count = detached.len();
        let mut audit = Vec::new();
        for (position, record) in detached.into_iter().enumerate() {
            audit.push(Candidate {
                event: events.len() + position,
                rank: (position as i64, String::new()),
                record,
            });
        }
        for (index, held) in events.iter().enumerate() {
            if !lane::audits(&verdicts[index]) {
                continue;
            }
            match self.audit_record(&held.work, &verdicts[index]) {
                Ok(record) => audit.push(Candidate {
                    event: index,
                    rank: ((detached_count + index) as i64, String::new()),
                    record,
                }),
                Err(reason) => verdicts[index].merge(Verdict::Permanent(reason)),
            }
        }
        let mut audit_verdicts = vec![Verdict::Written; events.len() + detached_count];
        let audit_groups = plan::collapse(audit);
        let results = self
            .write(
                &audit_groups,
                Lane::Bulk,
                &mut pause,
                &mut Vec::new(),
                &correlation_id,
            )
            .await;
        fold(&audit_groups, &results, &mut audit_verdicts);
        for verdict in &audit_verdicts[events.len()..] {
            if *verdict != Verdict::Written {
                tracing::warn!(
                    correlation_id,
                    ?verdict,
                    "an audit record of a retried or dead-lettered event was not written"
                );
            }
        }
        let settled = events.len();
        // Events fully written are completed and acknowledged together; the others one by one.
        // One event failing to settle (a store error) does not keep the others from settling.
        let mut done = Vec::new();
        let mut first_error = None;
        for (index, held) in events.into_iter().enumerate() {
            let mut verdict = verdicts[index].clone();
            if verdict == Verdict::Written {
                verdict = audit_verdicts[index].clone();
            }
            if verdict == Verdict::Written {
                done.push(held.work);
            } else if let Err(error) = self.settle(held.work, verdict, &correlation_id).await {
                tracing::error!(correlation_id, %error, "an event could not be settled");
                first_error.get_or_insert(error);
            }
        }
        if let Err(error) = self.complete_all(done, &correlation_id).await {
            tracing::error!(correlation_id, %error, "events could not be completed");
            first_error.get_or_insert(error);
        }
        tracing::debug!(correlation_id, settled, "bulk lane flushed");
        first_error.map_or(Ok(settled), Err)
    }

    /// Runs [`Worker::run_once`]'s three parts side by side until `shutdown` resolves: batches
    /// one after another, the REST lane's flushes and the Bulk lane's flushes (so that a Bulk
    /// job being polled never delays a high-priority write). On shutdown the batch under way is
    /// finished, then both lanes are flushed and their events settled; deliveries never started
    /// stay in the queue.
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) -> Result<(), WorkerError> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let batches = async {
            let mut shutdown = std::pin::pin!(shutdown);
            loop {
                let idle = match self.process_batch().await {
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
                    let _ = stop.send(true);
                    return;
                }
            }
        };
        let rest = self.every(REST_TICK, stopped.clone(), || async {
            if let Err(error) = self.flush_rest(false).await {
                tracing::error!(worker = %self.config.worker_id, %error, "REST lane flush failed");
            }
        });
        let bulk_tick = (self.config.bulk.flush_age / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(1));
        let bulk = self.every(bulk_tick, stopped, || async {
            if let Err(error) = self.flush(false).await {
                tracing::error!(worker = %self.config.worker_id, %error, "bulk flush failed");
            }
            self.check_lag().await;
        });
        futures_util::future::join3(batches, rest, bulk).await;
        let rest = self.flush_rest(true).await.map(|_| ());
        let bulk = self.flush(true).await.map(|_| ());
        tracing::info!(worker = %self.config.worker_id, "worker stopped");
        rest.and(bulk)
    }

    /// Runs `tick` every `period` until `stopped` turns true.
    async fn every<F, Fut>(
        &self,
        period: Duration,
        mut stopped: tokio::sync::watch::Receiver<bool>,
        tick: F,
    ) where
        F: Fn() -> Fut,
        Fut: Future<Output = ()>,
    {
        while !*stopped.borrow() {
            tick().await;
            let sleep = std::pin::pin!(tokio::time::sleep(period));
            let changed = std::pin::pin!(stopped.changed());
            let _ = select(changed, sleep).await;
        }
    }

    /// Makes sure this worker still holds every event of a flush for a whole processing lease:
    /// a delivery and claim ending sooner are extended (events wait in a lane longer than a
    /// lease when writing is slow). An event whose lease was lost to another worker is left to
    /// it: not written, not settled here.
    async fn keep_leases(
        &self,
        events: Vec<Held>,
        correlation_id: &str,
    ) -> Result<Vec<Held>, WorkerError> {
        let now = self.now();
        let mut kept = Vec::with_capacity(events.len());
        for mut held in events {
            if held.work.lease_until - now >= self.config.lease {
                kept.push(held);
                continue;
            }
            let event_id = held.work.id().to_owned();
            let extended = self
                .queue
                .extend(&self.receipt(&held.work.delivery), self.config.lease)
                .await;
            let claim = match extended {
                Ok(()) => self
                    .store
                    .claim(&event_id, &self.config.worker_id, now + self.config.lease)
                    .await
                    .map_err(|e| WorkerError::store("extending the claim of", &event_id, e))?,
                Err(QueueError::LeaseLost { .. }) => Claim::Held {
                    worker: "another worker".to_owned(),
                    until: now,
                },
                Err(error) => return Err(WorkerError::queue("extending", &event_id, error)),
            };
            match claim {
                Claim::Granted => {
                    held.work.lease_until = now + self.config.lease;
                    kept.push(held);
                }
                Claim::Done(_) | Claim::Held { .. } => {
                    self.in_lanes().remove(&event_id);
                    tracing::warn!(
                        event_id,
                        correlation_id,
                        "lease lost while waiting in a lane: left to the worker that has it"
                    );
                }
            }
        }
        Ok(kept)
    }

    /// Tells the alerts how old the oldest queued event is, at most every few seconds.
    async fn check_lag(&self) {
        let now = self.now();
        {
            let mut checked = self
                .lag_checked
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if checked.is_some_and(|at| now - at < LAG_CHECK) {
                return;
            }
            *checked = Some(now);
        }
        match self.queue.stats().await {
            Ok(stats) => self.alerts.lag(stats.oldest_age.unwrap_or_default()),
            Err(error) => tracing::warn!(%error, "cannot read the queue's lag"),
        }
    }

    /// Pulls up to `count` deliveries.
    async fn pull(&self, count: usize) -> Result<Vec<Delivery>, WorkerError> {
        self.queue
            .pull(count, self.pull_lease())
            .await
            .map_err(|e| WorkerError::queue("pulling", "-", e))
    }

    /// How long a pulled delivery is leased: the processing lease plus the time it may wait
    /// in the lanes.
    fn pull_lease(&self) -> Duration {
        self.config.lease
            + self.config.normal_window.max(self.config.high_window)
            + self.config.bulk.flush_age
    }

    /// Advances the watermarks of the objects of `items` (their data is written) in one store
    /// call.
    async fn advance_all(&self, items: impl Iterator<Item = &Work>) -> Result<(), WorkerError> {
        let marks: Vec<(String, Mark)> = items
            .filter(|item| item.outcome == Outcome::Processed)
            .filter_map(|item| {
                let object_id = item.delivery.envelope.object_id.clone()?;
                let mark = Mark {
                    created: item.delivery.envelope.created,
                    event_id: item.id().to_owned(),
                };
                Some((object_id, mark))
            })
            .collect();
        if marks.is_empty() {
            return Ok(());
        }
        self.store
            .advance_all(&marks)
            .await
            .map(|_| ())
            .map_err(|e| {
                WorkerError::store("advancing the watermarks for", &marks[0].1.event_id, e)
            })
    }

    /// Records fully written events as done in the ledger and acknowledges them, each in one
    /// call. An event this worker no longer holds (another took it over) is left to the other.
    async fn complete_all(
        &self,
        items: Vec<Work>,
        correlation_id: &str,
    ) -> Result<(), WorkerError> {
        if items.is_empty() {
            return Ok(());
        }
        let done: Vec<(String, Outcome)> = items
            .iter()
            .map(|item| (item.id().to_owned(), item.outcome))
            .collect();
        let results = self
            .store
            .complete_all(&done, &self.config.worker_id)
            .await
            .map_err(|e| WorkerError::store("completing", &done[0].0, e))?;
        let mut receipts = Vec::with_capacity(items.len());
        let mut completed = Vec::with_capacity(items.len());
        for (item, result) in items.into_iter().zip(results) {
            match result {
                Ok(()) => {
                    receipts.push(self.receipt(&item.delivery));
                    completed.push(item);
                }
                Err(error) => {
                    self.in_lanes().remove(item.id());
                    tracing::warn!(event_id = item.id(), correlation_id, %error, "left to the worker that took it over");
                }
            }
        }
        let acks = self
            .queue
            .ack_all(&receipts)
            .await
            .map_err(|e| WorkerError::queue("acknowledging", &done[0].0, e))?;
        for (item, ack) in completed.into_iter().zip(acks) {
            let event_id = item.id();
            if let Err(error) = ack {
                tracing::warn!(event_id, correlation_id, %error, "lease lost before the acknowledgement: the next delivery is a duplicate");
            }
            self.in_lanes().remove(event_id);
            self.forget(event_id);
            self.metrics.add(
                Counter::EventsProcessed,
                &[
                    ("type", type_label(&item.delivery.envelope.event_type)),
                    ("outcome", item.outcome.as_str()),
                ],
                1,
            );
            self.alerts.outcome(true);
            tracing::info!(
                event_id,
                correlation_id,
                outcome = item.outcome.as_str(),
                "event settled"
            );
        }
        Ok(())
    }

    /// Reads, checks and maps one claimed delivery; settles it at once when there is nothing
    /// to write for it but its audit record.
    async fn prepare(
        &self,
        delivery: Delivery,
        claim: Claim,
        until: OffsetDateTime,
        correlation_id: &str,
    ) -> Result<Prepared, WorkerError> {
        let envelope = &delivery.envelope;
        let event_id = envelope.event_id.clone();
        let now = self.now();
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
        let typed = stripe_types::Event::from_json(&envelope.payload).map(|_| ());
        let mut item = Work {
            event,
            outcome: Outcome::Processed,
            attempt,
            delivery,
            lease_until: until,
        };
        if let Err(error) = typed {
            self.dead_letter_unmapped(&item, format!("unreadable event: {error}"), correlation_id)
                .await?;
            return Ok(Prepared::Settled);
        }
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
                self.dead_letter_unmapped(
                    &item,
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
                self.dead_letter_unmapped(&item, reason, correlation_id)
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
            finance_owner_id: self.config.task_owner_finance.clone(),
            service_owner_id: self.config.task_owner_service.clone(),
            event: Some(item.event.clone()),
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

    /// Writes `groups` (in order) through `lane` and returns each group's verdict; the
    /// positions of groups refused because a parent they reference by external id is missing
    /// are added to `missing`. Once a quota refuses, nothing more is written (`pause` says until
    /// when).
    async fn write(
        &self,
        groups: &[Group],
        lane: Lane,
        pause: &mut Option<OffsetDateTime>,
        missing: &mut Vec<usize>,
        correlation_id: &str,
    ) -> Vec<Verdict> {
        let mut verdicts = vec![Verdict::Written; groups.len()];
        let mut start = 0;
        while start < groups.len() {
            let end = match lane {
                Lane::Rest => plan::composite_end(groups, start),
                Lane::Bulk => plan::run_end(groups, start, BULK_JOB_LIMIT),
            };
            let range = start..end;
            let chunk = &groups[range.clone()];
            start = end;
            if let Some(until) = *pause {
                verdicts[range].fill(Verdict::Paused(until));
                continue;
            }
            let now = self.now();
            let cost = match lane {
                Lane::Rest => 1,
                Lane::Bulk => BULK_JOB_CALLS,
            };
            match self.limiter.try_acquire(cost, now).await {
                Ok(Decision::Allowed) => {}
                Ok(Decision::Wait { until, window }) => {
                    tracing::warn!(
                        correlation_id,
                        window,
                        "Salesforce call quota reached: pausing writes"
                    );
                    *pause = Some(until);
                    verdicts[range].fill(Verdict::Paused(until));
                    continue;
                }
                Err(error) => {
                    verdicts[range].fill(Verdict::Retry(format!("rate limiter failed: {error}")));
                    continue;
                }
            }
            let (api, results) = match lane {
                Lane::Rest => ("composite", self.composite(chunk).await),
                Lane::Bulk => ("bulk", self.bulk(chunk).await),
            };
            let pause_until = now + QUOTA_PAUSE;
            if let Some(usage) = self
                .salesforce
                .limit_info()
                .and_then(|info| info.api_usage())
            {
                self.alerts.quota(usage.used, usage.max);
                if usage.max > 0 {
                    self.metrics.set(
                        Gauge::SalesforceApiUsageRatio,
                        &[],
                        usage.used as f64 / usage.max as f64,
                    );
                }
            }
            let outcome = if results.is_ok() { "ok" } else { "error" };
            self.metrics.add(
                Counter::SalesforceCalls,
                &[("api", api), ("outcome", outcome)],
                1,
            );
            let results = match results {
                Ok(results) => results,
                Err(error) => {
                    tracing::warn!(correlation_id, api, %error, "Salesforce call failed");
                    let failure = (Vec::new(), error.class(), error.to_string());
                    vec![Some(failure); chunk.len()]
                }
            };
            for (offset, result) in results.into_iter().enumerate() {
                let Some((errors, class, reason)) = result else {
                    continue;
                };
                let position = range.start + offset;
                let verdict = if errors.is_empty() {
                    plan::call_verdict(class, reason, pause_until)
                } else {
                    plan::record_verdict(&errors, class, pause_until)
                };
                if let Verdict::Paused(until) = verdict {
                    *pause = Some(until);
                }
                if !errors.is_empty() && errors.iter().all(plan::is_missing_parent) {
                    missing.push(position);
                }
                if !errors.is_empty() {
                    tracing::warn!(
                        correlation_id,
                        sobject = groups[position].record.sobject(),
                        events = ?groups[position].events,
                        error = %plan::describe(&errors),
                        "Salesforce refused a record"
                    );
                }
                verdicts[position] = verdict;
            }
        }
        verdicts
    }

    /// [`Worker::write`], then for children refused because their parent is not in Salesforce
    /// yet: the parent is written at once — from the Bulk lane's buffer when a waiting event
    /// has it, else from Stripe's current state of it (with an object source) — and the
    /// children are written again. Up to three levels (transaction → invoice → subscription →
    /// customer).
    async fn write_with_parents(
        &self,
        groups: &[Group],
        lane: Lane,
        pause: &mut Option<OffsetDateTime>,
        correlation_id: &str,
    ) -> Vec<Verdict> {
        let mut missing = Vec::new();
        let mut verdicts = self
            .write(groups, lane, pause, &mut missing, correlation_id)
            .await;
        for _ in 0..3 {
            if missing.is_empty() || pause.is_some() {
                break;
            }
            let parents = self.parents_of(groups, &missing, correlation_id).await;
            if parents.is_empty() {
                break;
            }
            tracing::info!(
                correlation_id,
                parents = parents.len(),
                "writing missing parents first"
            );
            self.write(&parents, Lane::Rest, pause, &mut Vec::new(), correlation_id)
                .await;
            let children: Vec<Group> = missing.iter().map(|&i| groups[i].clone()).collect();
            let mut still = Vec::new();
            let retried = self
                .write(&children, Lane::Rest, pause, &mut still, correlation_id)
                .await;
            for (offset, verdict) in retried.into_iter().enumerate() {
                verdicts[missing[offset]] = verdict;
            }
            missing = still.into_iter().map(|offset| missing[offset]).collect();
        }
        verdicts
    }

    /// The records of the parents that the groups at `positions` reference by external id.
    async fn parents_of(
        &self,
        groups: &[Group],
        positions: &[usize],
        correlation_id: &str,
    ) -> Vec<Group> {
        let mut wanted: Vec<(&'static str, String, String)> = Vec::new();
        for &position in positions {
            for (parent, field, value) in plan::references(&groups[position].record) {
                if !wanted
                    .iter()
                    .any(|w| w.0 == parent && w.1 == field && w.2 == value)
                {
                    wanted.push((parent, field, value));
                }
            }
        }
        let mut found = Vec::new();
        for (parent, field, value) in wanted {
            let waiting: Vec<Candidate> = {
                let buffer = lock(&self.bulk);
                buffer
                    .events
                    .iter()
                    .flat_map(|held| {
                        let rank = (
                            held.work.delivery.envelope.created,
                            held.work.delivery.envelope.event_id.clone(),
                        );
                        held.data
                            .iter()
                            .filter(|r| {
                                r.sobject() == parent
                                    && r.key().field == field
                                    && r.key().value == value
                            })
                            .map(move |record| Candidate {
                                event: 0,
                                rank: rank.clone(),
                                record: record.clone(),
                            })
                    })
                    .collect()
            };
            if !waiting.is_empty() {
                found.extend(waiting);
                continue;
            }
            let Some(source) = &self.source else {
                continue;
            };
            let Some(kind) = MAPPINGS
                .iter()
                .find(|m| m.sobject == parent && m.key == field && m.for_each.is_none())
                .map(|m| m.stripe)
            else {
                continue;
            };
            let object = match source.fetch(kind, &value).await {
                Ok(object) => object,
                Err(error) => {
                    tracing::warn!(correlation_id, %error, "cannot fetch a missing parent");
                    continue;
                }
            };
            let ctx = MappingContext::received(self.now());
            match map_object(&object, &ctx) {
                Ok(records) => {
                    for record in records {
                        if record.validate().is_ok() {
                            found.push(Candidate {
                                event: 0,
                                rank: (i64::MAX, String::new()),
                                record,
                            });
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(correlation_id, %error, "cannot map a missing parent");
                }
            }
        }
        plan::collapse(found)
    }

    /// Writes `chunk` (groups in write order) in one Composite call: a Collections upsert
    /// per run of up to 200 records of one object and external id field, an update per record
    /// keyed by `Id`. Per record `None` when written, else its failure.
    async fn composite(
        &self,
        chunk: &[Group],
    ) -> Result<Vec<Option<RecordFailure>>, crate::salesforce::Error> {
        let mut request = CompositeRequest::new();
        let mut parts = Vec::new();
        let mut start = 0;
        while start < chunk.len() {
            let record = &chunk[start].record;
            let (sobject, key) = (record.sobject(), record.key());
            let reference = format!("r{}", parts.len());
            if key.field == "Id" {
                request.update(&reference, sobject, &key.value, &body(record, sobject)?)?;
                parts.push(start..start + 1);
                start += 1;
                continue;
            }
            let end = plan::run_end(chunk, start, COLLECTION_LIMIT);
            let mut bodies = Vec::with_capacity(end - start);
            for group in &chunk[start..end] {
                bodies.push(body(&group.record, sobject)?);
            }
            request.upsert_collection(&reference, sobject, key.field, &bodies)?;
            parts.push(start..end);
            start = end;
        }
        let response = self.salesforce.composite(&request).await?;
        let mut results = vec![None; chunk.len()];
        for (index, part) in parts.into_iter().enumerate() {
            let Some(sub) = response.get(&format!("r{index}")) else {
                let failure = (
                    Vec::new(),
                    ErrorClass::Retryable,
                    "Salesforce gave no answer for this part of the Composite call".to_owned(),
                );
                results[part].fill(Some(failure));
                continue;
            };
            if part.len() == 1 && chunk[part.start].record.key().field == "Id" {
                if let Some(class) = sub.class() {
                    let reason = plan::describe(&sub.errors);
                    results[part.start] = Some((sub.errors.clone(), class, reason));
                }
                continue;
            }
            match sub.collection_results() {
                Ok(records) if records.len() == part.len() => {
                    for (slot, record) in results[part].iter_mut().zip(records) {
                        *slot = record.class().map(|class| {
                            let errors = record.errors().to_vec();
                            let reason = plan::describe(&errors);
                            (errors, class, reason)
                        });
                    }
                }
                Ok(records) => {
                    let failure = (
                        Vec::new(),
                        ErrorClass::Retryable,
                        format!("{} results for {} records", records.len(), part.len()),
                    );
                    results[part].fill(Some(failure));
                }
                Err(error) => {
                    let failure = (error_list(&error), error.class(), error.to_string());
                    results[part].fill(Some(failure));
                }
            }
        }
        Ok(results)
    }

    /// Writes the records of `chunk` (one object, one key field) in one Bulk API 2.0 job: an
    /// upsert by external id, or an update by `Id`; per record `None` when written, else its
    /// errors and class.
    async fn bulk(
        &self,
        chunk: &[Group],
    ) -> Result<Vec<Option<RecordFailure>>, crate::salesforce::Error> {
        let sobject = chunk[0].record.sobject();
        let field = chunk[0].record.key().field;
        let csv =
            bulk::csv(sobject, chunk).map_err(|reason| crate::salesforce::Error::InvalidInput {
                operation: format!("bulk write {sobject}"),
                reason,
            })?;
        let write = if field == "Id" {
            BulkWrite::Update
        } else {
            BulkWrite::Upsert(field)
        };
        let options = BulkOptions {
            poll_interval: self.config.bulk.poll_interval,
            max_poll_interval: self.config.bulk.max_poll_interval,
            timeout: self.config.lease,
        };
        let result = self
            .salesforce
            .bulk_write_csv(sobject, write, csv, &options)
            .await?;
        let job = result.job_id.clone();
        Ok(result
            .results
            .into_iter()
            .map(|record| match record {
                RecordResult::Unprocessed => Some((
                    Vec::new(),
                    ErrorClass::Retryable,
                    format!("the Bulk job {job} did not process the record"),
                )),
                other => other.class().map(|class| {
                    let errors = other.errors().to_vec();
                    let reason = plan::describe(&errors);
                    (errors, class, reason)
                }),
            })
            .collect())
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
                // The watermark advanced when the event's data was written.
                self.complete(&item.delivery, item.outcome).await?;
                self.alerts.outcome(true);
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
            Verdict::Retry(reason) => {
                self.alerts.outcome(false);
                match self.delay(item.attempt) {
                    Some(delay) => {
                        tracing::info!(event_id, correlation_id, attempt = item.attempt, ?delay, %reason, "retrying later");
                        self.release(&event_id).await?;
                        self.metrics
                            .add(Counter::Retries, &[("reason", "retryable")], 1);
                        let at = self.now() + delay;
                        self.reschedule(&item.delivery, at).await?;
                    }
                    None => {
                        let reason = format!("gave up after {} attempts: {reason}", item.attempt);
                        self.dead_letter(&item.delivery, reason, correlation_id)
                            .await?;
                    }
                }
            }
            Verdict::Permanent(reason) => {
                self.alerts.outcome(false);
                self.dead_letter(&item.delivery, reason, correlation_id)
                    .await?;
            }
        }
        Ok(())
    }

    /// Dead-letters an event refused before any write (unreadable, another API version,
    /// mapping or validation failure); its audit record, with the reason, goes to the Bulk
    /// lane when the event itself can be mapped to one.
    async fn dead_letter_unmapped(
        &self,
        item: &Work,
        reason: String,
        correlation_id: &str,
    ) -> Result<(), WorkerError> {
        match self.audit_record(item, &Verdict::Permanent(reason.clone())) {
            Ok(record) => lock(&self.bulk).detach(record, self.now()),
            Err(error) => {
                tracing::warn!(event_id = item.id(), correlation_id, %error, "no audit record");
            }
        }
        self.dead_letter(&item.delivery, reason, correlation_id)
            .await
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
        self.alerts
            .dead_letter(event_id, &envelope.event_type, &letter.reason);
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
        self.metrics.add(
            Counter::EventsProcessed,
            &[
                ("type", type_label(&delivery.envelope.event_type)),
                ("outcome", outcome.as_str()),
            ],
            1,
        );
        self.ack(delivery).await?;
        self.forget(event_id);
        Ok(())
    }

    /// Acknowledges a delivery. A lease lost meanwhile is no error: the ledger has the event's
    /// outcome, so its next delivery is acknowledged as a duplicate.
    async fn ack(&self, delivery: &Delivery) -> Result<(), WorkerError> {
        let event_id = delivery.envelope.event_id.as_str();
        let receipt = self.receipt(delivery);
        self.in_lanes().remove(event_id);
        match self.queue.ack(&receipt).await {
            Ok(()) => Ok(()),
            Err(QueueError::LeaseLost { .. }) => {
                tracing::warn!(
                    event_id,
                    "lease lost before the acknowledgement: the next delivery is a duplicate"
                );
                Ok(())
            }
            Err(error) => Err(WorkerError::queue("acknowledging", event_id, error)),
        }
    }

    /// Gives a delivery back to the queue for `at`. A lease lost meanwhile is no error: the
    /// event is already out again.
    async fn reschedule(&self, delivery: &Delivery, at: OffsetDateTime) -> Result<(), WorkerError> {
        let event_id = delivery.envelope.event_id.as_str();
        let receipt = self.receipt(delivery);
        self.in_lanes().remove(event_id);
        match self.queue.retry_at(&receipt, at).await {
            Ok(()) => Ok(()),
            Err(QueueError::LeaseLost { .. }) => {
                tracing::warn!(
                    event_id,
                    "lease lost before the retry was scheduled: already handed out again"
                );
                Ok(())
            }
            Err(error) => Err(WorkerError::queue("rescheduling", event_id, error)),
        }
    }

    /// The receipt to settle `delivery` with: the latest, if it was handed out again while
    /// waiting in a lane.
    fn receipt(&self, delivery: &Delivery) -> Receipt {
        self.in_lanes()
            .get(&delivery.envelope.event_id)
            .cloned()
            .unwrap_or_else(|| delivery.receipt.clone())
    }

    /// The latest receipts of the events in the lanes.
    fn in_lanes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Receipt>> {
        self.in_lanes.lock().unwrap_or_else(PoisonError::into_inner)
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
        self.reschedule(delivery, at).await
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

/// A record Salesforce did not write: its errors (none when the whole call or subrequest
/// failed), their class, and the reason in words.
type RecordFailure = (Vec<ApiError>, ErrorClass, String);

/// The errors of a failed call, for [`RecordFailure`].
fn error_list(error: &crate::salesforce::Error) -> Vec<ApiError> {
    match error {
        crate::salesforce::Error::Api { errors, .. } => errors.clone(),
        _ => Vec::new(),
    }
}

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    /// One Composite call per up to five sObject Collections upserts (200 records each) or
    /// 25 subrequests.
    Rest,
    /// One Bulk API 2.0 job per object and key field.
    Bulk,
}

/// Locks a lane (a panic while it was held leaves it usable: its data is plain).
fn lock(lane: &Mutex<Buffer>) -> std::sync::MutexGuard<'_, Buffer> {
    lane.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Merges each group's verdict into the verdicts of the events it stands for.
fn fold(groups: &[Group], results: &[Verdict], verdicts: &mut [Verdict]) {
    for (group, verdict) in groups.iter().zip(results) {
        for &event in &group.events {
            verdicts[event].merge(verdict.clone());
        }
    }
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
