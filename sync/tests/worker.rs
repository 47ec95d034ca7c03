//! The worker end to end: a real SQLite queue and store on a temporary file, the simulated
//! Salesforce org, and events built from the fixtures (Stripe API version 2022-11-15) pushed
//! straight into the queue. Time is a shared test clock, so retries and lease expiry need no
//! sleeping.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::{Map, Value, json};
use sfdc_sim::{Fault, FaultKind};
use stripe_sfdc_sync::alerts::{AlertConfig, Alerts, WebhookUrl};
use stripe_sfdc_sync::backoff::Backoff;
use stripe_sfdc_sync::queue::Queue as _;
use stripe_sfdc_sync::receiver::metrics::Counter;
use stripe_sfdc_sync::store::{Claim, DeadLetters, Ledger, Outcome};
use stripe_sfdc_sync::worker::source::Fetch;
use stripe_sfdc_sync::worker::{BulkConfig, ObjectSource, SourceError, WorkerConfig};
use support::{
    FIXTURE_CUSTOMER, Harness, PRICE_ID, SUBSCRIPTION_ID, customer_created, fixture, number, text,
};

const CUSTOMER: &str = "Stripe_Customer__c";
const AUDIT: &str = "Stripe_Webhook_Event__c";
const FIXTURE_CONTACT: &str = "003Dn00000A1b2CIAR";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_created_is_written_field_by_field_with_its_audit_record() {
    let h = Harness::start().await;
    let contact_id = h
        .sim
        .insert_record(
            "Contact",
            serde_json::from_value(json!({"LastName": "Rosen"})).expect("a map"),
        )
        .expect("a contact");
    let mut event = fixture("customer.created");
    event["data"]["object"]["metadata"]["salesforce_contact_id"] = json!(contact_id);
    h.push(&event).await;
    let worker = h.worker(h.config("w1"));

    assert_eq!(worker.run_once().await.expect("a batch"), 1);

    let customer = h.record(CUSTOMER, "Stripe_Customer_ID__c", FIXTURE_CUSTOMER);
    assert_eq!(text(&customer, "Name"), Some("Jenny Rosen"));
    assert_eq!(text(&customer, "Customer_Name__c"), Some("Jenny Rosen"));
    assert_eq!(text(&customer, "Email__c"), Some("jennyrosen@example.com"));
    assert_eq!(customer.get("Delinquent__c"), Some(&json!(false)));
    assert_eq!(text(&customer, "Sync_Status__c"), Some("Synced"));
    assert_eq!(text(&customer, "Contact__c"), Some(contact_id.as_str()));
    assert_eq!(customer.get("Phone__c"), None);
    assert!(text(&customer, "Last_Synced_At__c").is_some());

    let contact = h.record("Contact", "Id", &contact_id);
    assert_eq!(
        text(&contact, "Stripe_Customer_ID__c"),
        Some(FIXTURE_CUSTOMER)
    );
    assert_eq!(text(&contact, "LastName"), Some("Rosen"));

    let audit = h.record(AUDIT, "Stripe_Event_ID__c", "evt_1MuFYrLkdIwHu7ixqnmJUFLc");
    assert_eq!(text(&audit, "Event_Type__c"), Some("customer.created"));
    assert_eq!(text(&audit, "Object_ID__c"), Some(FIXTURE_CUSTOMER));
    assert_eq!(text(&audit, "Processing_Status__c"), Some("processed"));
    assert_eq!(number(&audit, "Attempts__c"), Some(1.0));
    assert_eq!(audit.get("Error_Message__c"), None);
    assert!(
        text(&audit, "Stripe_Created_At__c").is_some_and(|t| t.starts_with("2023-04-07T18:59:53"))
    );

    assert_eq!(h.depth().await, 0);
    let claim = h
        .store
        .claim("evt_1MuFYrLkdIwHu7ixqnmJUFLc", "other", h.clock.now())
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Done(Outcome::Processed));
    // A customer event is low priority: the customer, the Contact update and the audit record
    // each went through one Bulk job.
    assert_eq!(
        h.counter(
            Counter::SalesforceCalls,
            &[("api", "bulk"), ("outcome", "ok")]
        ),
        3
    );
    assert_eq!(
        h.counter(
            Counter::EventsProcessed,
            &[("type", "customer.created"), ("outcome", "processed")]
        ),
        1
    );
    // The org's quota use, from Sforce-Limit-Info, is exported.
    let exposition = h.metrics.render(None);
    assert!(
        exposition
            .lines()
            .any(|l| l.starts_with("salesforce_api_usage_ratio ") && !l.ends_with(" 0")),
        "{exposition}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_delivered_three_times_is_applied_once() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    let event = customer_created();

    h.push(&event).await;
    assert_eq!(worker.run_once().await.expect("a batch"), 1);
    let calls_after_first = h.sim.api_calls();
    for _ in 0..2 {
        h.push(&event).await;
        assert_eq!(worker.run_once().await.expect("a batch"), 1);
    }

    assert_eq!(
        h.sim.api_calls(),
        calls_after_first,
        "duplicates write nothing"
    );
    assert_eq!(h.records(CUSTOMER).len(), 1);
    assert_eq!(h.records(AUDIT).len(), 1);
    assert_eq!(
        h.counter(Counter::EventsDuplicate, &[("type", "customer.created")]),
        2
    );
    assert_eq!(h.depth().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_event_after_a_newer_one_is_skipped_stale() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    let mut newer = customer_created();
    newer["id"] = json!("evt_newer");
    newer["type"] = json!("customer.updated");
    newer["created"] = json!(1_680_894_100);
    newer["data"]["object"]["name"] = json!("Jenny Rosen-Newer");
    let mut older = customer_created();
    older["id"] = json!("evt_older");
    older["data"]["object"]["name"] = json!("Jenny Rosen-Older");

    h.push(&newer).await;
    h.drain(&worker).await;
    h.push(&older).await;
    h.drain(&worker).await;

    let customer = h.record(CUSTOMER, "Stripe_Customer_ID__c", FIXTURE_CUSTOMER);
    assert_eq!(text(&customer, "Name"), Some("Jenny Rosen-Newer"));
    let audit = h.record(AUDIT, "Stripe_Event_ID__c", "evt_older");
    assert_eq!(text(&audit, "Processing_Status__c"), Some("skipped_stale"));
    assert_eq!(
        h.counter(Counter::EventsSkippedStale, &[("type", "customer.created")]),
        1
    );
    let claim = h
        .store
        .claim("evt_older", "other", h.clock.now())
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Done(Outcome::SkippedStale));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_second_events_are_both_applied_and_the_greater_id_wins_in_a_batch() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    let mut a = customer_created();
    a["id"] = json!("evt_same_a");
    a["data"]["object"]["name"] = json!("Name A");
    let mut b = customer_created();
    b["id"] = json!("evt_same_b");
    b["type"] = json!("customer.updated");
    b["data"]["object"]["name"] = json!("Name B");

    h.push(&b).await;
    h.push(&a).await;
    h.drain(&worker).await;

    let customer = h.record(CUSTOMER, "Stripe_Customer_ID__c", FIXTURE_CUSTOMER);
    assert_eq!(text(&customer, "Name"), Some("Name B"));
    for id in ["evt_same_a", "evt_same_b"] {
        let audit = h.record(AUDIT, "Stripe_Event_ID__c", id);
        assert_eq!(
            text(&audit, "Processing_Status__c"),
            Some("processed"),
            "{id}"
        );
    }
    assert_eq!(
        h.counter(Counter::EventsSkippedStale, &[("type", "customer.created")]),
        0
    );
}

/// Whether `name` looks like an auto-number (`TXN-000001`).
fn is_auto_number(name: &str) -> bool {
    name.split_once('-').is_some_and(|(prefix, digits)| {
        !prefix.is_empty()
            && prefix.bytes().all(|b| b.is_ascii_uppercase())
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The data objects of a customer's life, without the fields that record when they were written.
fn final_state(h: &Harness) -> Vec<Vec<Map<String, Value>>> {
    let volatile = [
        "Id",
        "CreatedDate",
        "LastModifiedDate",
        "SystemModstamp",
        "Last_Synced_At__c",
        "OwnerId",
    ];
    [
        CUSTOMER,
        "Pricing_Plan__c",
        "Stripe_Subscription__c",
        "Stripe_Invoice__c",
        "Payment_Transaction__c",
    ]
    .iter()
    .map(|object| {
        let mut records: Vec<Map<String, Value>> = h
            .records(object)
            .into_iter()
            .map(|mut record| {
                record.retain(|field, value| {
                    let text = value.as_str().unwrap_or_default();
                    // Auto-numbers follow creation order.
                    let auto_number = field == "Name" && is_auto_number(text);
                    // References resolve to ids that differ between orgs.
                    let reference =
                        field.ends_with("__c") && text.len() == 18 && text.starts_with('a');
                    !(volatile.contains(&field.as_str()) || auto_number || reference)
                });
                record
            })
            .collect();
        records.sort_by_key(|r| serde_json::to_string(r).unwrap_or_default());
        records
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shuffled_sequence_reaches_the_same_state_as_in_order() {
    let names = [
        "price.created",
        "customer.created",
        "customer.subscription.created",
        "invoice.paid",
        "payment_intent.succeeded",
    ];
    let events: Vec<Value> = names
        .iter()
        .map(|name| {
            let mut event = fixture(name);
            if *name == "customer.created" {
                event = customer_created();
            }
            event
        })
        .collect();

    let in_order = Harness::start().await;
    let worker = in_order.worker(in_order.config("w1"));
    for event in &events {
        in_order.push(event).await;
    }
    in_order.drain(&worker).await;
    assert!(
        in_order
            .store
            .list(None, 10)
            .await
            .expect("list")
            .is_empty()
    );
    let expected = final_state(&in_order);
    assert!(
        expected.iter().all(|records| !records.is_empty()),
        "{expected:#?}"
    );

    let shuffled = Harness::start().await;
    let worker = shuffled.worker(WorkerConfig {
        batch_size: 1,
        ..shuffled.config("w2")
    });
    let start = shuffled.clock.now();
    for (position, index) in [4, 3, 2, 1, 0].into_iter().enumerate() {
        let at = start + time::Duration::seconds(i64::try_from(position).unwrap_or(0));
        shuffled.push_at(&events[index], at).await;
    }
    shuffled.drain(&worker).await;
    assert!(
        shuffled
            .store
            .list(None, 10)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(final_state(&shuffled), expected);
    assert!(
        shuffled.counter(Counter::Retries, &[("reason", "retryable")]) > 0,
        "children written before their parents were retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_is_retried_later_and_converges() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    h.push(&customer_created()).await;
    h.sim.inject(Fault::once(FaultKind::Status(503)));

    assert_eq!(worker.run_once().await.expect("a batch"), 1);
    assert!(h.records(CUSTOMER).is_empty());
    assert_eq!(h.depth().await, 1);
    assert_eq!(h.counter(Counter::Retries, &[("reason", "retryable")]), 1);

    h.drain(&worker).await;
    assert_eq!(h.records(CUSTOMER).len(), 1);
    let audit = h.record(AUDIT, "Stripe_Event_ID__c", "evt_1MuFYrLkdIwHu7ixqnmJUFLc");
    assert_eq!(number(&audit, "Attempts__c"), Some(2.0));
    assert!(h.store.list(None, 10).await.expect("list").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_rejection_is_dead_lettered_with_salesforces_error() {
    let h = Harness::start().await;
    let (hook, alerts_received) = alert_hook().await;
    let alerts = Alerts::new(AlertConfig {
        webhook_url: Some(WebhookUrl::parse(&hook).expect("a URL")),
        ..AlertConfig::default()
    })
    .expect("alerts");
    let worker = h.worker(h.config("w1")).with_alerts(alerts.clone());
    // The fixture links a Contact that does not exist in this org.
    let event = fixture("customer.created");
    assert_eq!(
        event["data"]["object"]["metadata"]["salesforce_contact_id"],
        FIXTURE_CONTACT
    );
    h.push(&event).await;

    assert_eq!(worker.run_once().await.expect("a batch"), 1);

    assert_eq!(h.depth().await, 0);
    let letter = h
        .store
        .get("evt_1MuFYrLkdIwHu7ixqnmJUFLc")
        .await
        .expect("get")
        .expect("a dead letter");
    assert!(
        letter.reason.contains("INVALID_CROSS_REFERENCE_KEY"),
        "{}",
        letter.reason
    );
    assert_eq!(letter.attempts.len(), 1);
    assert_eq!(letter.payload, serde_json::to_vec(&event).expect("JSON"));
    let audit = h.record(AUDIT, "Stripe_Event_ID__c", "evt_1MuFYrLkdIwHu7ixqnmJUFLc");
    assert_eq!(text(&audit, "Processing_Status__c"), Some("dead_lettered"));
    assert!(
        text(&audit, "Error_Message__c").is_some_and(|m| m.contains("INVALID_CROSS_REFERENCE_KEY"))
    );
    assert_eq!(
        h.counter(Counter::DeadLetters, &[("type", "customer.created")]),
        1
    );
    // The admins hear of it on their webhook.
    alerts.flush().await;
    let posted = alerts_received.lock().expect("lock").clone();
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0]["kind"], "dead_letter");
    assert!(
        posted[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("evt_1MuFYrLkdIwHu7ixqnmJUFLc")),
        "{}",
        posted[0]
    );
    // Not recorded as processed: a replay from the dead-letter queue can claim it again.
    let claim = h
        .store
        .claim("evt_1MuFYrLkdIwHu7ixqnmJUFLc", "other", h.clock.now())
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Granted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_api_version_is_dead_lettered_at_once() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    let mut event = customer_created();
    event["api_version"] = json!("2020-08-27");
    h.push(&event).await;

    assert_eq!(worker.run_once().await.expect("a batch"), 1);

    let letter = h
        .store
        .get("evt_1MuFYrLkdIwHu7ixqnmJUFLc")
        .await
        .expect("get")
        .expect("a dead letter");
    assert!(letter.reason.contains("2020-08-27"), "{}", letter.reason);
    assert!(h.records(CUSTOMER).is_empty());
    // Only its audit record is written, saying why.
    let audit = h.record(AUDIT, "Stripe_Event_ID__c", "evt_1MuFYrLkdIwHu7ixqnmJUFLc");
    assert_eq!(text(&audit, "Processing_Status__c"), Some("dead_lettered"));
    assert!(
        text(&audit, "Error_Message__c").is_some_and(|m| m.contains("2020-08-27")),
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_exhaustion_pauses_without_spending_attempts() {
    let h = Harness::start().await;
    // One attempt allowed: a pause that counted as one would dead-letter on the next failure.
    let worker = h.worker(WorkerConfig {
        backoff: Backoff {
            max_attempts: 1,
            ..Backoff::default()
        },
        ..h.config("w1")
    });
    h.push(&customer_created()).await;
    h.sim.set_daily_limit(h.sim.api_calls());

    for _ in 0..2 {
        assert_eq!(worker.run_once().await.expect("a batch"), 1);
        assert!(h.records(CUSTOMER).is_empty());
        assert_eq!(h.depth().await, 1);
        assert!(h.store.list(None, 10).await.expect("list").is_empty());
        h.clock.advance(Duration::from_secs(61));
    }
    assert_eq!(h.counter(Counter::Retries, &[("reason", "quota")]), 2);

    // The quota returns (a day later); one retryable failure still gets its retry.
    h.sim.set_daily_limit(100_000);
    h.clock.advance(Duration::from_secs(25 * 3600));
    h.sim.inject(Fault::once(FaultKind::Status(503)));
    assert_eq!(worker.run_once().await.expect("a batch"), 1);
    assert!(h.store.list(None, 10).await.expect("list").is_empty());
    h.drain(&worker).await;

    assert_eq!(h.records(CUSTOMER).len(), 1);
    assert!(h.store.list(None, 10).await.expect("list").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_after_pulling_leaves_the_event_to_another_once_the_lease_expires() {
    let h = Harness::start().await;
    h.push(&customer_created()).await;
    // The first worker pulls and claims, then dies without settling.
    let pulled = h
        .queue
        .pull(10, Duration::from_secs(30))
        .await
        .expect("pull");
    assert_eq!(pulled.len(), 1);
    let claim = h
        .store
        .claim(
            "evt_1MuFYrLkdIwHu7ixqnmJUFLc",
            "dead-worker",
            h.clock.now() + Duration::from_secs(30),
        )
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Granted);
    drop(pulled);

    let worker = h.worker(h.config("w2"));
    assert_eq!(worker.run_once().await.expect("a batch"), 0, "still leased");
    h.clock.advance(Duration::from_secs(31));
    assert_eq!(worker.run_once().await.expect("a batch"), 1);

    assert_eq!(h.records(CUSTOMER).len(), 1);
    assert_eq!(h.records(AUDIT).len(), 1);
    assert_eq!(h.depth().await, 0);
    // Stripe's own retry of the same event afterwards writes nothing.
    let calls = h.sim.api_calls();
    h.push(&customer_created()).await;
    assert_eq!(worker.run_once().await.expect("a batch"), 1);
    assert_eq!(h.sim.api_calls(), calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_stops_on_shutdown_after_settling() {
    let h = Harness::start().await;
    let worker = Arc::new(h.worker(WorkerConfig {
        idle_poll: Duration::from_millis(10),
        ..h.config("w1")
    }));
    h.push(&customer_created()).await;
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
    while h.depth().await > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(()).expect("the worker listens");
    running.await.expect("joins").expect("stops cleanly");
    assert_eq!(h.records(CUSTOMER).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_second_event_after_the_mark_writes_the_object_refetched_from_stripe() {
    let h = Harness::start().await;
    let mut current = customer_created()["data"]["object"].clone();
    current["name"] = json!("Name In Stripe Now");
    let source = StripeNow::new(vec![current]);
    let worker = h
        .worker(h.config("w1"))
        .with_object_source(Arc::clone(&source) as Arc<dyn ObjectSource>);
    // Applied first, with the greater id: the mark is (created, evt_same_b).
    let mut b = customer_created();
    b["id"] = json!("evt_same_b");
    b["type"] = json!("customer.updated");
    b["data"]["object"]["name"] = json!("Name B");
    // Then one of the same second that the mark cannot order.
    let mut a = customer_created();
    a["id"] = json!("evt_same_a");
    a["data"]["object"]["name"] = json!("Name A");

    h.push(&b).await;
    h.drain(&worker).await;
    assert_eq!(
        source.fetches.load(Ordering::SeqCst),
        0,
        "nothing to order yet"
    );
    h.push(&a).await;
    h.drain(&worker).await;

    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    let customer = h.record(CUSTOMER, "Stripe_Customer_ID__c", FIXTURE_CUSTOMER);
    assert_eq!(text(&customer, "Name"), Some("Name In Stripe Now"));
    let audit = h.record(AUDIT, "Stripe_Event_ID__c", "evt_same_a");
    assert_eq!(text(&audit, "Processing_Status__c"), Some("processed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhandled_event_type_is_ignored_with_its_audit_record() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    let mut event = customer_created();
    event["id"] = json!("evt_unhandled");
    event["type"] = json!("customer.tax_id.created");
    h.push(&event).await;

    assert_eq!(worker.run_once().await.expect("a batch"), 1);

    assert!(
        h.records(CUSTOMER).is_empty(),
        "nothing but the audit record"
    );
    let audit = h.record(AUDIT, "Stripe_Event_ID__c", "evt_unhandled");
    assert_eq!(text(&audit, "Processing_Status__c"), Some("received"));
    assert_eq!(
        h.counter(
            Counter::EventsUnhandled,
            &[("type", "customer.tax_id.created")]
        ),
        1
    );
    let claim = h
        .store
        .claim("evt_unhandled", "other", h.clock.now())
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Done(Outcome::Ignored));
    assert_eq!(h.depth().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_of_one_record_in_a_batch_collapse_into_one_write() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    for (n, name) in ["First", "Second", "Third"].into_iter().enumerate() {
        let mut event = customer_created();
        event["id"] = json!(format!("evt_update_{n}"));
        event["type"] = json!("customer.updated");
        event["created"] = json!(1_680_893_993 + i64::try_from(n).unwrap_or(0));
        event["data"]["object"]["name"] = json!(name);
        h.push(&event).await;
    }
    assert_eq!(worker.run_once().await.expect("a batch"), 3);

    // One Bulk job for the customer, one for the three audit records, nothing else.
    let calls = |api| h.counter(Counter::SalesforceCalls, &[("api", api), ("outcome", "ok")]);
    assert_eq!(calls("bulk"), 2);
    assert_eq!(calls("collections") + calls("update"), 0);
    let customer = h.record(CUSTOMER, "Stripe_Customer_ID__c", FIXTURE_CUSTOMER);
    assert_eq!(text(&customer, "Name"), Some("Third"));
    assert_eq!(h.records(AUDIT).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_failures_are_dead_lettered_once_the_backoff_gives_up() {
    let h = Harness::start().await;
    let worker = h.worker(WorkerConfig {
        backoff: Backoff {
            max_attempts: 1,
            ..Backoff::default()
        },
        ..h.config("w1")
    });
    h.push(&customer_created()).await;
    // Customers go through the Bulk lane: the first try (the customer's job, then its audit
    // record's) and the retry's customer job fail when they are created.
    h.sim
        .inject(Fault::on_path(FaultKind::Status(503), "/jobs/ingest", 3));

    assert_eq!(worker.run_once().await.expect("a batch"), 1);
    assert_eq!(h.depth().await, 1);
    h.clock.advance(Duration::from_secs(10));
    assert_eq!(worker.run_once().await.expect("a batch"), 1);

    assert_eq!(h.depth().await, 0);
    let letter = h
        .store
        .get("evt_1MuFYrLkdIwHu7ixqnmJUFLc")
        .await
        .expect("get")
        .expect("a dead letter");
    assert!(
        letter.reason.contains("gave up after 2 attempts"),
        "{}",
        letter.reason
    );
    assert!(letter.reason.contains("503"), "{}", letter.reason);
    assert!(h.records(CUSTOMER).is_empty());
    let audit = h.record(AUDIT, "Stripe_Event_ID__c", "evt_1MuFYrLkdIwHu7ixqnmJUFLc");
    assert_eq!(text(&audit, "Processing_Status__c"), Some("dead_lettered"));
    assert_eq!(
        h.counter(Counter::DeadLetters, &[("type", "customer.created")]),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_another_worker_holds_is_given_back_without_writing() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    h.push(&customer_created()).await;
    let claim = h
        .store
        .claim(
            "evt_1MuFYrLkdIwHu7ixqnmJUFLc",
            "w-other",
            h.clock.now() + Duration::from_secs(300),
        )
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Granted);

    assert_eq!(worker.run_once().await.expect("a batch"), 1);

    assert_eq!(h.sim.api_calls(), 0);
    assert_eq!(h.depth().await, 1);
    assert_eq!(h.counter(Counter::Retries, &[("reason", "held")]), 1);
    // Once the other worker's claim has run out, this one takes the event over.
    h.clock.advance(Duration::from_secs(301));
    h.drain(&worker).await;
    assert_eq!(h.records(CUSTOMER).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_renewed_and_the_batch_goes_through() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    let mut first = customer_created();
    first["id"] = json!("evt_session_1");
    h.push(&first).await;
    h.drain(&worker).await;
    h.sim.expire_all_tokens();
    let mut second = customer_created();
    second["id"] = json!("evt_session_2");
    second["type"] = json!("customer.updated");
    second["created"] = json!(1_680_894_000);
    second["data"]["object"]["name"] = json!("After Renewal");
    h.push(&second).await;

    assert_eq!(worker.run_once().await.expect("a batch"), 1);

    assert_eq!(h.depth().await, 0);
    let customer = h.record(CUSTOMER, "Stripe_Customer_ID__c", FIXTURE_CUSTOMER);
    assert_eq!(text(&customer, "Name"), Some("After Renewal"));
}

/// Stripe as a test double: serves objects in their current state, counting fetches.
struct StripeNow {
    objects: Vec<Value>,
    fetches: AtomicI64,
}

impl StripeNow {
    fn new(objects: Vec<Value>) -> Arc<StripeNow> {
        Arc::new(StripeNow {
            objects,
            fetches: AtomicI64::new(0),
        })
    }
}

impl ObjectSource for StripeNow {
    fn fetch<'a>(&'a self, object_type: &'a str, id: &'a str) -> Fetch<'a> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            self.objects
                .iter()
                .find(|o| o["object"] == object_type && o["id"] == id)
                .cloned()
                .ok_or_else(|| SourceError::Unsupported {
                    object_type: object_type.to_owned(),
                    id: id.to_owned(),
                })
        })
    }
}

const SUBSCRIPTION: &str = "Stripe_Subscription__c";
const PLAN: &str = "Pricing_Plan__c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_whose_customer_and_plan_wait_in_the_bulk_lane_gets_them_written_first() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    // Pushed child first: the subscription is written at once, its customer and price (low
    // priority) wait for the Bulk lane.
    h.push(&fixture("customer.subscription.created")).await;
    h.push(&customer_created()).await;
    h.push(&fixture("price.created")).await;

    assert_eq!(worker.run_once().await.expect("a batch"), 3);

    let subscription = h.record(SUBSCRIPTION, "Stripe_Subscription_ID__c", SUBSCRIPTION_ID);
    let customer = h.record(CUSTOMER, "Stripe_Customer_ID__c", FIXTURE_CUSTOMER);
    let plan = h.record(PLAN, "Stripe_Price_ID__c", PRICE_ID);
    assert_eq!(
        text(&subscription, "Stripe_Customer__c"),
        text(&customer, "Id")
    );
    assert_eq!(text(&subscription, "Pricing_Plan__c"), text(&plan, "Id"));
    assert_eq!(h.depth().await, 0);
    assert_eq!(h.records(AUDIT).len(), 3);
    for event in [
        "customer.subscription.created",
        "customer.created",
        "price.created",
    ] {
        assert_eq!(
            h.counter(
                Counter::EventsProcessed,
                &[("type", event), ("outcome", "processed")]
            ),
            1,
            "{event}"
        );
    }
    assert_eq!(worker.buffered(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_parent_is_created_from_stripes_current_state() {
    let h = Harness::start().await;
    let customer = customer_created()["data"]["object"].clone();
    let price = fixture("price.created")["data"]["object"].clone();
    let worker = h
        .worker(h.config("w1"))
        .with_object_source(StripeNow::new(vec![customer, price]) as Arc<dyn ObjectSource>);
    h.push(&fixture("customer.subscription.created")).await;

    assert_eq!(worker.run_once().await.expect("a batch"), 1);

    let subscription = h.record(SUBSCRIPTION, "Stripe_Subscription_ID__c", SUBSCRIPTION_ID);
    let customer = h.record(CUSTOMER, "Stripe_Customer_ID__c", FIXTURE_CUSTOMER);
    assert_eq!(text(&customer, "Name"), Some("Jenny Rosen"));
    assert_eq!(
        text(&subscription, "Stripe_Customer__c"),
        text(&customer, "Id")
    );
    assert_eq!(h.records(PLAN).len(), 1);
    assert_eq!(h.depth().await, 0);
    let audit = h.record(
        AUDIT,
        "Stripe_Event_ID__c",
        fixture("customer.subscription.created")["id"]
            .as_str()
            .expect("id"),
    );
    assert_eq!(text(&audit, "Processing_Status__c"), Some("processed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_source_a_child_of_a_missing_parent_is_retried_not_dropped() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    h.push(&fixture("customer.subscription.created")).await;

    assert_eq!(worker.run_once().await.expect("a batch"), 1);

    assert!(h.records(SUBSCRIPTION).is_empty());
    assert_eq!(h.depth().await, 1, "given back for a retry");
    // The parents' events arrive; the retry then succeeds.
    h.push(&customer_created()).await;
    h.push(&fixture("price.created")).await;
    h.clock.advance(Duration::from_secs(60));
    h.drain(&worker).await;

    assert_eq!(h.records(SUBSCRIPTION).len(), 1);
    assert_eq!(h.depth().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_flushes_the_bulk_lane_by_size_and_on_shutdown() {
    let h = Harness::start().await;
    let worker = Arc::new(h.worker(WorkerConfig {
        idle_poll: Duration::from_millis(10),
        bulk: BulkConfig {
            flush_records: 2,
            flush_age: Duration::from_secs(3600),
            poll_interval: Duration::from_millis(5),
            max_poll_interval: Duration::from_millis(20),
        },
        ..h.config("w1")
    }));
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
    // Two customers reach the flush size: written while the worker runs.
    for n in 0..2 {
        let mut event = customer_created();
        event["id"] = json!(format!("evt_size_{n}"));
        event["data"]["object"]["id"] = json!(format!("cus_size_{n}"));
        h.push(&event).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while h.records(CUSTOMER).len() < 2 {
        assert!(std::time::Instant::now() < deadline, "no flush by size");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // One more waits (neither size nor age is reached) until the shutdown flushes it.
    let mut event = customer_created();
    event["id"] = json!("evt_last");
    h.push(&event).await;
    while worker.buffered() == 0 {
        assert!(std::time::Instant::now() < deadline, "never pulled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(h.records(CUSTOMER).len(), 2);
    stop.send(()).expect("the worker listens");
    running.await.expect("joins").expect("stops cleanly");

    assert_eq!(h.records(CUSTOMER).len(), 3);
    assert_eq!(h.records(AUDIT).len(), 3);
    assert_eq!(h.depth().await, 0);
    assert_eq!(worker.buffered(), 0);
}

/// A webhook on 127.0.0.1 keeping the JSON bodies posted to it.
async fn alert_hook() -> (String, Arc<std::sync::Mutex<Vec<Value>>>) {
    let received = Arc::new(std::sync::Mutex::new(Vec::new()));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let received = Arc::clone(&received);
            move |axum::Json(body): axum::Json<Value>| {
                let received = Arc::clone(&received);
                async move {
                    received.lock().expect("lock").push(body);
                    "ok"
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/hook"), received)
}

/// A worker whose events wait a minute in the Bulk lane, on a 10 s processing lease.
fn slow_bulk_lane(h: &Harness, worker_id: &str) -> WorkerConfig {
    WorkerConfig {
        lease: Duration::from_secs(10),
        bulk: BulkConfig {
            flush_age: Duration::from_secs(60),
            ..h.config(worker_id).bulk
        },
        ..h.config(worker_id)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_about_to_end_is_extended_before_a_flush() {
    let h = Harness::start().await;
    let worker = h.worker(slow_bulk_lane(&h, "w1"));
    h.push(&customer_created()).await;
    assert_eq!(worker.run_once().await.expect("a batch"), 1);
    assert_eq!(worker.buffered(), 1, "waits for the Bulk lane");

    // 65 s on, the lease (10 s + the 60 s the lane may wait) has 5 s left: less than a
    // processing lease, so the flush extends it first.
    h.clock.advance(Duration::from_secs(65));
    assert_eq!(worker.flush(false).await.expect("a flush"), 1);

    assert_eq!(h.records(CUSTOMER).len(), 1);
    assert_eq!(h.depth().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_whose_lease_ran_out_in_a_lane_is_left_to_the_worker_that_took_it_over() {
    let h = Harness::start().await;
    let first = h.worker(slow_bulk_lane(&h, "w1"));
    h.push(&customer_created()).await;
    assert_eq!(first.run_once().await.expect("a batch"), 1);

    // The first worker's lease runs out; a second takes the event over and writes it.
    h.clock.advance(Duration::from_secs(80));
    let second = h.worker(h.config("w2"));
    assert_eq!(second.run_once().await.expect("a batch"), 1);
    assert_eq!(h.depth().await, 0);

    // The first one's flush leaves it alone.
    assert_eq!(first.flush(true).await.expect("a flush"), 0);
    assert_eq!(first.buffered(), 0);
    assert_eq!(h.records(CUSTOMER).len(), 1);
    assert_eq!(h.records(AUDIT).len(), 1);
    let claim = h
        .store
        .claim("evt_1MuFYrLkdIwHu7ixqnmJUFLc", "w3", h.clock.now())
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Done(Outcome::Processed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_handed_out_again_while_in_a_lane_is_processed_once_and_settled() {
    let h = Harness::start().await;
    let worker = h.worker(slow_bulk_lane(&h, "w1"));
    h.push(&customer_created()).await;
    assert_eq!(worker.run_once().await.expect("a batch"), 1);

    // The lease runs out while the event waits; the same worker gets it again.
    h.clock.advance(Duration::from_secs(80));
    assert_eq!(worker.run_once().await.expect("a batch"), 1);
    assert_eq!(worker.buffered(), 0, "flushed once, not queued twice");

    assert_eq!(h.depth().await, 0, "acknowledged with the newer receipt");
    assert_eq!(h.records(CUSTOMER).len(), 1);
    let audit = h.record(AUDIT, "Stripe_Event_ID__c", "evt_1MuFYrLkdIwHu7ixqnmJUFLc");
    assert_eq!(text(&audit, "Processing_Status__c"), Some("processed"));
    let claim = h
        .store
        .claim("evt_1MuFYrLkdIwHu7ixqnmJUFLc", "w2", h.clock.now())
        .await
        .expect("claim");
    assert_eq!(claim, Claim::Done(Outcome::Processed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_row_and_a_dropped_connection_are_retried_and_converge() {
    let h = Harness::start().await;
    let worker = h.worker(h.config("w1"));
    // Written through the REST lane: a Composite call.
    h.push(&customer_created()).await;
    h.push(&fixture("price.created")).await;
    h.push(&fixture("customer.subscription.updated")).await;
    h.sim
        .inject(Fault::on_path(FaultKind::UnableToLockRow, "/composite", 1));

    assert_eq!(worker.run_once().await.expect("a batch"), 3);
    assert!(h.records(SUBSCRIPTION).is_empty(), "the lock refused it");
    assert_eq!(h.depth().await, 1, "the subscription waits for its retry");

    h.sim
        .inject(Fault::on_path(FaultKind::DropConnection, "/composite", 1));
    h.clock.advance(Duration::from_secs(60));
    assert_eq!(worker.run_once().await.expect("a batch"), 1);
    assert!(h.records(SUBSCRIPTION).is_empty(), "the connection dropped");

    h.clock.advance(Duration::from_secs(60));
    h.drain(&worker).await;
    assert_eq!(h.records(SUBSCRIPTION).len(), 1);
    assert_eq!(h.depth().await, 0);
    let event_id = fixture("customer.subscription.updated")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let audit = h.record(AUDIT, "Stripe_Event_ID__c", &event_id);
    assert_eq!(text(&audit, "Processing_Status__c"), Some("processed"));
    assert_eq!(number(&audit, "Attempts__c"), Some(3.0));
    assert!(h.store.list(None, 10).await.expect("list").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_bought_through_our_checkout_link_updates_its_record_in_either_order() {
    for subscription_first in [true, false] {
        let h = Harness::start().await;
        let worker = h.worker(h.config("w1"));
        h.push(&customer_created()).await;
        h.push(&fixture("price.created")).await;
        h.drain(&worker).await;
        // The record the sales rep marked "Send to Stripe", with the Checkout link written back.
        let session = fixture("checkout.session.completed")["data"]["object"]["id"]
            .as_str()
            .expect("a session id")
            .to_owned();
        let record_id = h
            .sim
            .insert_record(
                SUBSCRIPTION,
                serde_json::from_value(json!({
                    "Sync_Status__c": "Checkout Created",
                    "Stripe_Checkout_Session_ID__c": session,
                }))
                .expect("a map"),
            )
            .expect("the record");
        let mut created = fixture("customer.subscription.created");
        created["data"]["object"]["metadata"] = json!({"salesforce_subscription_id": record_id});
        let mut completed = fixture("checkout.session.completed");
        completed["data"]["object"]["subscription"] = json!(SUBSCRIPTION_ID);
        completed["data"]["object"]["mode"] = json!("subscription");
        let (first, second) = if subscription_first {
            (created, completed)
        } else {
            (completed, created)
        };
        // Apart, in two flushes: the order cannot be fixed within one.
        h.push(&first).await;
        h.drain(&worker).await;
        h.push(&second).await;
        h.drain(&worker).await;

        let records = h.records(SUBSCRIPTION);
        assert_eq!(records.len(), 1, "one record: {records:?}");
        let record = &records[0];
        assert_eq!(text(record, "Id"), Some(record_id.as_str()));
        assert_eq!(
            text(record, "Stripe_Subscription_ID__c"),
            Some(SUBSCRIPTION_ID)
        );
        assert_eq!(
            text(record, "Stripe_Checkout_Session_ID__c"),
            Some(session.as_str())
        );
        assert_eq!(text(record, "Status__c"), Some("active"));
        assert_eq!(text(record, "Sync_Status__c"), Some("Completed"));
        assert!(h.store.list(None, 10).await.expect("list").is_empty());
    }
}
