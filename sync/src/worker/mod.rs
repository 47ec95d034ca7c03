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
mod prepare;
mod settle;
pub mod source;
mod write;

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
use self::prepare::Prepared;
pub use self::source::{ObjectSource, SourceError, StripeObjectSource};
use self::write::Lane;
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
