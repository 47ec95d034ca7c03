//! What the worker's end-to-end tests share: a hand-moved clock, a harness with a real SQLite
//! queue and store on a temporary file and the simulated Salesforce org, and the fixture
//! events with their ids made consistent.

// Each test crate uses a part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::{Map, Value, json};
use sfdc_sim::{SimConfig, Simulator};
use stripe_sfdc_sync::priority::priority;
use stripe_sfdc_sync::queue::{Envelope, Queue};
use stripe_sfdc_sync::receiver::Metrics;
use stripe_sfdc_sync::receiver::metrics::Counter;
use stripe_sfdc_sync::salesforce::{Client, Credentials};
use stripe_sfdc_sync::sqlite::{SqliteQueue, SqliteStore};
use stripe_sfdc_sync::worker::{BulkConfig, Worker, WorkerConfig};
use time::OffsetDateTime;

/// The customer every fixture is made to belong to.
pub const FIXTURE_CUSTOMER: &str = "cus_NffrFeUfNV2Hib";
/// The subscription every fixture is made to belong to.
pub const SUBSCRIPTION_ID: &str = "sub_1MtHbELkdIwHu7ixBlzS5ZNM";
/// The price every fixture is made to use.
pub const PRICE_ID: &str = "price_1MowQULkdIwHu7ixraBm864M";

/// A clock the test moves forward by hand.
#[derive(Clone)]
pub struct TestClock {
    /// The time at offset zero.
    pub start: OffsetDateTime,
    /// Seconds moved forward so far.
    pub offset_secs: Arc<AtomicI64>,
}

impl TestClock {
    /// Starts now.
    pub fn new() -> Self {
        TestClock {
            start: OffsetDateTime::now_utc(),
            offset_secs: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).expect("a short advance");
        self.offset_secs.fetch_add(secs, Ordering::SeqCst);
    }

    /// The clock as queue, store and worker take it.
    pub fn clock(&self) -> Arc<dyn Fn() -> OffsetDateTime + Send + Sync> {
        let this = self.clone();
        Arc::new(move || {
            this.start + time::Duration::seconds(this.offset_secs.load(Ordering::SeqCst))
        })
    }

    /// Now.
    pub fn now(&self) -> OffsetDateTime {
        (self.clock())()
    }
}

/// Everything one test needs.
pub struct Harness {
    /// Holds the temporary directory of the database.
    pub _dir: tempfile::TempDir,
    /// The database file.
    pub path: PathBuf,
    /// The simulated org.
    pub sim: Simulator,
    /// The queue.
    pub queue: Arc<SqliteQueue>,
    /// The store.
    pub store: Arc<SqliteStore>,
    /// Now, for queue, store and workers.
    pub clock: TestClock,
    /// The workers' counters.
    pub metrics: Arc<Metrics>,
}

impl Harness {
    /// A fresh database and org.
    pub async fn start() -> Harness {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("sync.db");
        let clock = TestClock::new();
        let queue = Arc::new(
            SqliteQueue::open(&path)
                .expect("the queue opens")
                .with_clock(clock.clock()),
        );
        let store = Arc::new(
            SqliteStore::open(&path)
                .expect("the store opens")
                .with_clock(clock.clock()),
        );
        let sim = Simulator::start(SimConfig::default())
            .await
            .expect("the simulator starts");
        Harness {
            _dir: dir,
            path,
            sim,
            queue,
            store,
            clock,
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// A worker's settings for tests: both lanes written at the end of every batch.
    pub fn config(&self, worker_id: &str) -> WorkerConfig {
        WorkerConfig {
            worker_id: worker_id.to_owned(),
            lease: Duration::from_secs(30),
            high_window: Duration::ZERO,
            normal_window: Duration::ZERO,
            // Every batch flushes the Bulk lane at its end, so a test sees each event settled.
            bulk: BulkConfig {
                flush_age: Duration::ZERO,
                poll_interval: Duration::from_millis(5),
                max_poll_interval: Duration::from_millis(20),
                ..BulkConfig::default()
            },
            ..WorkerConfig::default()
        }
    }

    /// A worker on the harness's queue, store, org, clock and counters.
    pub fn worker(&self, config: WorkerConfig) -> Worker<SqliteQueue, SqliteStore> {
        let salesforce = Client::builder(
            self.sim.url(),
            Credentials::client_credentials("test-client", "test-secret"),
        )
        .build()
        .expect("the client builds");
        Worker::new(
            Arc::clone(&self.queue),
            Arc::clone(&self.store),
            salesforce,
            config,
        )
        .expect("the worker builds")
        .with_metrics(Arc::clone(&self.metrics))
        .with_clock(self.clock.clock())
        .with_seed(7)
    }

    /// Queues `event`, received now.
    pub async fn push(&self, event: &Value) {
        self.push_at(event, self.clock.now()).await;
    }

    /// Queues `event`, received at `received_at`.
    pub async fn push_at(&self, event: &Value, received_at: OffsetDateTime) {
        let event_type = event["type"].as_str().expect("a type").to_owned();
        let envelope = Envelope {
            event_id: event["id"].as_str().expect("an id").to_owned(),
            priority: priority(&event_type),
            event_type,
            object_id: event["data"]["object"]["id"].as_str().map(str::to_owned),
            created: event["created"].as_i64().expect("created"),
            payload: serde_json::to_vec(event).expect("JSON"),
            received_at,
        };
        self.queue.push(&envelope).await.expect("queued");
    }

    /// Events in the queue.
    pub async fn depth(&self) -> u64 {
        self.queue.stats().await.expect("stats").depth
    }

    /// Runs batches, moving the clock past any retry delay when nothing is ready, until the
    /// queue is empty.
    pub async fn drain(&self, worker: &Worker<SqliteQueue, SqliteStore>) {
        for _ in 0..40 {
            if self.depth().await == 0 {
                return;
            }
            if worker.run_once().await.expect("a batch") == 0 {
                self.clock.advance(Duration::from_secs(40));
            }
        }
        panic!("the queue did not drain");
    }

    /// The org's records of `object`.
    pub fn records(&self, object: &str) -> Vec<Map<String, Value>> {
        self.sim.records(object)
    }

    /// The one record of `object` whose `field` is `value`.
    pub fn record(&self, object: &str, field: &str, value: &str) -> Map<String, Value> {
        let mut found: Vec<_> = self
            .records(object)
            .into_iter()
            .filter(|r| r.get(field).and_then(Value::as_str) == Some(value))
            .collect();
        assert_eq!(found.len(), 1, "one {object} with {field} = {value}");
        found.remove(0)
    }

    /// A counter of the workers' metrics.
    pub fn counter(&self, counter: Counter, labels: &[(&'static str, &str)]) -> u64 {
        self.metrics.counter(counter, labels)
    }
}

/// A fixture event, with ids made consistent across fixtures (one customer, one subscription,
/// one price) so that a sequence of them describes one customer's life.
pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = std::fs::read_to_string(&path).expect("the fixture exists");
    for (from, to) in [
        ("cus_Na6dX7aXxi11N4", FIXTURE_CUSTOMER),
        ("cus_NeZwdNtLEOXuvB", FIXTURE_CUSTOMER),
        ("sub_1MowQVLkdIwHu7ixeRlqHVzs", SUBSCRIPTION_ID),
        ("price_1MoBy5LkdIwHu7ixZhnattbh", PRICE_ID),
    ] {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).expect("the fixture is JSON")
}

/// `customer.created` without a Salesforce Contact to link.
pub fn customer_created() -> Value {
    let mut event = fixture("customer.created");
    event["data"]["object"]["metadata"] = json!({});
    event
}

/// A text field of a record.
pub fn text<'a>(record: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    record.get(field).and_then(Value::as_str)
}

/// A number field of a record.
pub fn number(record: &Map<String, Value>, field: &str) -> Option<f64> {
    record.get(field).and_then(Value::as_f64)
}
