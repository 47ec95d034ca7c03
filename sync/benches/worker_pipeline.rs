//! The worker in steady state against the simulated org: mixed events arrive in the SQLite
//! queue at a fixed rate while `Worker::run` writes them; reports Salesforce API calls per
//! 1,000 events (counted by the simulator) and how soon high-priority events reached Salesforce
//! (the `SystemModstamp` of the record each one wrote, against the time it was queued).
//!
//! `cargo bench -p stripe-sfdc-sync --bench worker_pipeline` (`-- --rate N --seconds S
//! --customers C` to change the load; defaults 200 events/s for 30 s over 500 customers).
//!
//! The events follow customers' lives so that every reference resolves as in production:
//! first (not measured) each customer is created with its subscription, and the prices and
//! products; then the measured mix: invoice cycles (finalized, then paid and the payment
//! succeeded, or the payment failed twice over), subscription and customer updates, checkout
//! completions and cancellations.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sfdc_sim::{SimConfig, Simulator};
use stripe_sfdc_sync::priority::priority;
use stripe_sfdc_sync::queue::{Envelope, Priority, Queue};
use stripe_sfdc_sync::salesforce::{Client, Credentials};
use stripe_sfdc_sync::sqlite::{SqliteQueue, SqliteStore};
use stripe_sfdc_sync::store::DeadLetters as _;
use stripe_sfdc_sync::worker::{Worker, WorkerConfig};
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;

/// Prices (and their products) the customers subscribe to.
const PRICES: usize = 5;

/// Load settings from the command line.
struct Load {
    rate: u64,
    seconds: u64,
    customers: usize,
}

impl Load {
    fn from_args() -> Load {
        let mut load = Load {
            rate: 200,
            seconds: 30,
            customers: 500,
        };
        let args: Vec<String> = std::env::args().collect();
        for pair in args.windows(2) {
            let value = pair[1].parse().ok();
            match (pair[0].as_str(), value) {
                ("--rate", Some(v)) => load.rate = v,
                ("--seconds", Some(v)) => load.seconds = v,
                ("--customers", Some(v)) => load.customers = v as usize,
                _ => {}
            }
        }
        load
    }
}

/// A fixture event as JSON.
fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("the fixture exists");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

/// Rewrites every Stripe id in `value` to the ids of customer `life`'s invoice cycle `cycle`.
fn rewrite(value: &mut Value, life: usize, cycle: usize) {
    match value {
        Value::String(text) => {
            let Some((prefix, _)) = text.split_once('_') else {
                return;
            };
            let new = match prefix {
                "cus" => format!("cus_L{life}"),
                "sub" => format!("sub_L{life}"),
                "in" => format!("in_L{life}C{cycle}"),
                "pi" => format!("pi_L{life}C{cycle}"),
                "cs" => format!("cs_L{life}C{cycle}"),
                "price" => format!("price_P{}", life % PRICES),
                "prod" => format!("prod_P{}", life % PRICES),
                _ => return,
            };
            *text = new;
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, life, cycle)),
        Value::Object(map) => map.values_mut().for_each(|v| rewrite(v, life, cycle)),
        _ => {}
    }
}

/// Renders events and keeps their sequence numbers unique.
struct Events {
    templates: HashMap<&'static str, Value>,
    seq: u64,
}

impl Events {
    fn new() -> Events {
        let names = [
            "customer.created",
            "customer.updated",
            "customer.subscription.created",
            "customer.subscription.updated",
            "customer.subscription.deleted",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_failed",
            "payment_intent.succeeded",
            "payment_intent.payment_failed",
            "checkout.session.completed",
            "price.created",
            "price.updated",
            "product.created",
        ];
        Events {
            templates: names.into_iter().map(|n| (n, fixture(n))).collect(),
            seq: 0,
        }
    }

    fn render(&mut self, event_type: &str, life: usize, cycle: usize) -> Value {
        let mut event = self.templates[event_type].clone();
        rewrite(&mut event["data"], life, cycle);
        self.seq += 1;
        event["id"] = json!(format!("evt_bench{:08}", self.seq));
        event["created"] = json!(OffsetDateTime::now_utc().unix_timestamp());
        if event_type.starts_with("customer.") && !event_type.contains("subscription") {
            event["data"]["object"]["metadata"] = json!({});
        }
        if event_type == "checkout.session.completed" {
            // A new subscription bought through a Checkout Session made outside the sync (no
            // Salesforce record Id in its metadata). Its own customer.subscription.created is
            // left out: written apart, the two would make two records claiming one
            // Stripe_Subscription_ID__c.
            event["data"]["object"]["mode"] = json!("subscription");
            event["data"]["object"]["subscription"] = json!(format!("sub_L{life}K{cycle}"));
        }
        event
    }
}

/// What the measured phase does next: one event or an invoice cycle.
fn measured_step(rng: &mut fastrand::Rng) -> &'static [&'static str] {
    const PAID: &[&str] = &[
        "invoice.finalized",
        "invoice.paid",
        "payment_intent.succeeded",
    ];
    const FAILED: &[&str] = &[
        "invoice.finalized",
        "invoice.payment_failed",
        "payment_intent.payment_failed",
    ];
    match rng.u32(0..100) {
        0..42 => PAID,
        42..51 => FAILED,
        51..76 => &["customer.subscription.updated"],
        76..90 => &["customer.updated"],
        90..96 => &["checkout.session.completed"],
        96..98 => &["customer.subscription.deleted"],
        _ => &["price.updated"],
    }
}

/// The record a high-priority event writes: object, key field, key value.
fn written_by(event: &Value) -> Option<(&'static str, &'static str, String)> {
    let id = event["data"]["object"]["id"].as_str()?.to_owned();
    match event["type"].as_str()? {
        "invoice.payment_failed" => Some(("Stripe_Invoice__c", "Stripe_Invoice_ID__c", id)),
        "payment_intent.payment_failed" => {
            Some(("Payment_Transaction__c", "Stripe_Payment_Intent_ID__c", id))
        }
        "checkout.session.completed" => Some((
            "Stripe_Subscription__c",
            "Stripe_Checkout_Session_ID__c",
            id,
        )),
        "customer.subscription.deleted" => {
            Some(("Stripe_Subscription__c", "Stripe_Subscription_ID__c", id))
        }
        _ => None,
    }
}

async fn push(queue: &SqliteQueue, event: &Value) -> OffsetDateTime {
    let event_type = event["type"].as_str().expect("a type").to_owned();
    let received_at = OffsetDateTime::now_utc();
    let envelope = Envelope {
        event_id: event["id"].as_str().expect("an id").to_owned(),
        priority: priority(&event_type),
        event_type,
        object_id: event["data"]["object"]["id"].as_str().map(str::to_owned),
        created: event["created"].as_i64().expect("created"),
        payload: serde_json::to_vec(event).expect("JSON"),
        received_at,
    };
    queue.push(&envelope).await.expect("queued");
    received_at
}

async fn drained(queue: &SqliteQueue, worker: &Worker<SqliteQueue, SqliteStore>) {
    loop {
        let depth = queue.stats().await.expect("stats").depth;
        if depth == 0 && worker.buffered() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let load = Load::from_args();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = dir.path().join("bench.db");
    let queue = Arc::new(SqliteQueue::open(&database).expect("the queue opens"));
    let store = Arc::new(SqliteStore::open(&database).expect("the store opens"));
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("the simulator starts");
    let salesforce = Client::builder(
        sim.url(),
        Credentials::client_credentials("test-client", "test-secret"),
    )
    .build()
    .expect("the client builds");
    let config = WorkerConfig {
        worker_id: "bench".into(),
        salesforce_calls_per_minute: 100_000,
        salesforce_calls_per_day: 10_000_000,
        ..WorkerConfig::default()
    };
    println!(
        "worker: batches of {}, REST lane windows {:?} (high) / {:?} (normal), Bulk lane {} events or {:?}",
        config.batch_size,
        config.high_window,
        config.normal_window,
        config.bulk.flush_records,
        config.bulk.flush_age
    );
    let worker = Arc::new(
        Worker::new(Arc::clone(&queue), Arc::clone(&store), salesforce, config)
            .expect("the worker builds"),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let worker = Arc::clone(&worker);
        tokio::spawn(async move {
            worker
                .run(async move {
                    let _ = stopped.await;
                })
                .await
        })
    };

    // The customers, their subscriptions, the prices and products: not measured.
    let mut events = Events::new();
    let seeding = Instant::now();
    for p in 0..PRICES {
        push(&queue, &events.render("product.created", p, 0)).await;
        push(&queue, &events.render("price.created", p, 0)).await;
    }
    for life in 0..load.customers {
        push(&queue, &events.render("customer.created", life, 0)).await;
        push(
            &queue,
            &events.render("customer.subscription.created", life, 0),
        )
        .await;
    }
    drained(&queue, &worker).await;
    println!(
        "seeded {} customers and {PRICES} prices in {:.1} s ({} API calls)",
        load.customers,
        seeding.elapsed().as_secs_f64(),
        sim.api_calls()
    );

    // The measured steady state.
    let calls_before = sim.api_calls();
    let mut rng = fastrand::Rng::with_seed(42);
    let mut cycles = vec![0usize; load.customers];
    let mut cancelled = vec![false; load.customers];
    let mut high = Vec::new();
    let mut sent = 0u64;
    let total = load.rate * load.seconds;
    let interval = Duration::from_secs_f64(1.0 / load.rate as f64);
    let started = Instant::now();
    while sent < total {
        let life = rng.usize(0..load.customers);
        if cancelled[life] {
            continue;
        }
        cycles[life] += 1;
        let step = measured_step(&mut rng);
        for event_type in step {
            let event = events.render(event_type, life, cycles[life]);
            let due = started + interval.mul_f64(sent as f64);
            tokio::time::sleep_until(due.into()).await;
            let at = push(&queue, &event).await;
            if priority(event_type) == Priority::High
                && let Some(record) = written_by(&event)
            {
                high.push((record, at));
            }
            sent += 1;
        }
        if step == ["customer.subscription.deleted"] {
            cancelled[life] = true;
        }
    }
    let pushing = started.elapsed();
    drained(&queue, &worker).await;
    let elapsed = started.elapsed();
    stop.send(()).expect("the worker listens");
    running.await.expect("joins").expect("stops cleanly");
    let calls = sim.api_calls() - calls_before;
    let dead_letters = store
        .list(None, 100_000)
        .await
        .expect("the dead letters")
        .len();

    // When each high-priority event's record was last written. A record written by several
    // high-priority events of one invoice cycle is measured against the last of them.
    let mut stamps: HashMap<(&str, String), OffsetDateTime> = HashMap::new();
    for object in [
        "Stripe_Invoice__c",
        "Payment_Transaction__c",
        "Stripe_Subscription__c",
    ] {
        for record in sim.records(object) {
            let stamp = record["SystemModstamp"].as_str().and_then(|t| {
                OffsetDateTime::parse(&t.replace("+0000", "Z"), &Iso8601::DEFAULT).ok()
            });
            for field in [
                "Stripe_Invoice_ID__c",
                "Stripe_Payment_Intent_ID__c",
                "Stripe_Checkout_Session_ID__c",
                "Stripe_Subscription_ID__c",
            ] {
                if let (Some(key), Some(stamp)) = (record.get(field).and_then(Value::as_str), stamp)
                {
                    stamps.insert((object, format!("{field}={key}")), stamp);
                }
            }
        }
    }
    let mut last_push: HashMap<(&str, String), OffsetDateTime> = HashMap::new();
    for ((object, field, key), at) in &high {
        let slot = last_push
            .entry((*object, format!("{field}={key}")))
            .or_insert(*at);
        *slot = (*slot).max(*at);
    }
    let mut latencies: Vec<f64> = last_push
        .iter()
        .filter_map(|(record, pushed)| {
            stamps
                .get(record)
                .map(|stamp| (*stamp - *pushed).as_seconds_f64())
        })
        .collect();
    let missing = last_push.len() - latencies.len();
    latencies.sort_by(f64::total_cmp);
    let within = latencies.iter().filter(|l| **l <= 2.0).count();

    println!(
        "measured: {sent} events at {} events/s offered ({:.0}/s pushed), drained {:.1} s after the first",
        load.rate,
        sent as f64 / pushing.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "Salesforce API calls: {calls} ({:.1} per 1,000 events); dead letters: {dead_letters}",
        calls as f64 * 1000.0 / sent as f64
    );
    println!(
        "high-priority records: {} (not found: {missing}); in Salesforce within 2 s: {:.1}%; latency p50 {:.3} s, p95 {:.3} s, p99 {:.3} s, max {:.3} s",
        latencies.len(),
        100.0 * within as f64 / latencies.len().max(1) as f64,
        percentile(&latencies, 50.0),
        percentile(&latencies, 95.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
}
