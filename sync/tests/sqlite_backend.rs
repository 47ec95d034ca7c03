//! The SQLite backend against the queue and store contracts: durability, ordering, leases,
//! conditional writes under concurrency (tasks and separate connections on one file).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use stripe_sfdc_sync::queue::{Envelope, Priority, Queue, QueueError, QueueStats, Receipt};
use stripe_sfdc_sync::ratelimit::{BucketCounts, Decision, RateLimiter, Window, WindowStore};
use stripe_sfdc_sync::sqlite::{Clock, SCHEMA_VERSION, SqliteError, SqliteQueue, SqliteStore};
use stripe_sfdc_sync::store::{
    Attempt, CachedToken, Claim, DeadLetter, DeadLetters, Ledger, Mark, Outcome, StoreError,
    TokenCache, Watermarks,
};
use tempfile::TempDir;
use time::OffsetDateTime;

/// A clock tests move by hand, in whole seconds from `T0`.
#[derive(Clone)]
struct ManualClock(Arc<AtomicI64>);

/// The instant the manual clock starts at.
const T0: i64 = 1_700_000_000;

impl ManualClock {
    fn new() -> Self {
        ManualClock(Arc::new(AtomicI64::new(T0)))
    }

    fn clock(&self) -> Clock {
        let seconds = Arc::clone(&self.0);
        Arc::new(move || at(seconds.load(Ordering::SeqCst)))
    }

    fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap()
}

fn db_file() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.db");
    (dir, path)
}

fn queue(path: &PathBuf, clock: &ManualClock) -> SqliteQueue {
    SqliteQueue::open(path).unwrap().with_clock(clock.clock())
}

fn store(path: &PathBuf, clock: &ManualClock) -> SqliteStore {
    SqliteStore::open(path).unwrap().with_clock(clock.clock())
}

fn envelope(event_id: &str, priority: Priority, received: i64) -> Envelope {
    Envelope {
        event_id: event_id.to_owned(),
        event_type: "invoice.paid".to_owned(),
        object_id: Some(format!("in_{event_id}")),
        created: received - 1,
        priority,
        payload: format!("{{\"id\":\"{event_id}\"}}").into_bytes(),
        received_at: at(received),
    }
}

const LEASE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------- queue

#[tokio::test]
async fn push_pull_ack_round_trip() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    let sent = Envelope {
        object_id: None,
        payload: vec![0, 159, 146, 150, b'{'],
        ..envelope("evt_1", Priority::Normal, T0)
    };
    queue.push(&sent).await.unwrap();
    assert!(queue.pull(0, LEASE).await.unwrap().is_empty());
    let pulled = queue.pull(10, LEASE).await.unwrap();
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0].envelope, sent);
    assert_eq!(pulled[0].deliveries, 1);
    assert!(queue.pull(10, LEASE).await.unwrap().is_empty(), "leased");
    queue.ack(&pulled[0].receipt).await.unwrap();
    assert_eq!(queue.stats().await.unwrap(), QueueStats::default());
    assert!(matches!(
        queue.ack(&pulled[0].receipt).await,
        Err(QueueError::LeaseLost {
            operation: "ack",
            ..
        })
    ));
}

#[tokio::test]
async fn push_is_durable_across_reopen() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    {
        let queue = queue(&path, &clock);
        queue
            .push(&envelope("evt_durable", Priority::High, T0))
            .await
            .unwrap();
    }
    let reopened = queue(&path, &clock);
    let pulled = reopened.pull(10, LEASE).await.unwrap();
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0].envelope.event_id, "evt_durable");
}

#[tokio::test]
async fn waiting_duplicate_is_ignored_and_acked_one_queues_again() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    let event = envelope("evt_dup", Priority::Normal, T0);
    queue.push(&event).await.unwrap();
    queue.push(&event).await.unwrap();
    assert_eq!(queue.stats().await.unwrap().depth, 1);
    let pulled = queue.pull(10, LEASE).await.unwrap();
    queue.push(&event).await.unwrap();
    assert_eq!(
        queue.stats().await.unwrap().depth,
        1,
        "still waiting (leased)"
    );
    queue.ack(&pulled[0].receipt).await.unwrap();
    queue.push(&event).await.unwrap();
    let again = queue.pull(10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].deliveries, 1);
}

#[tokio::test]
async fn pulls_by_priority_then_age() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    for (id, priority, received) in [
        ("low_old", Priority::Low, T0 - 50),
        ("normal_new", Priority::Normal, T0 - 1),
        ("high_new", Priority::High, T0 - 2),
        ("normal_old", Priority::Normal, T0 - 40),
        ("high_old", Priority::High, T0 - 30),
    ] {
        queue.push(&envelope(id, priority, received)).await.unwrap();
    }
    let first = queue.pull(3, LEASE).await.unwrap();
    let rest = queue.pull(10, LEASE).await.unwrap();
    let order: Vec<_> = first
        .iter()
        .chain(&rest)
        .map(|delivery| delivery.envelope.event_id.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "high_old",
            "high_new",
            "normal_old",
            "normal_new",
            "low_old"
        ]
    );
}

#[tokio::test]
async fn expired_lease_is_pulled_again_and_the_old_receipt_is_lost() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    queue
        .push(&envelope("evt_lease", Priority::High, T0))
        .await
        .unwrap();
    let first = queue.pull(1, LEASE).await.unwrap().remove(0);
    clock.advance(29);
    assert!(queue.pull(1, LEASE).await.unwrap().is_empty());
    clock.advance(1);
    let second = queue.pull(1, LEASE).await.unwrap().remove(0);
    assert_eq!(second.deliveries, 2);
    assert_ne!(second.receipt, first.receipt);
    for result in [
        queue.extend(&first.receipt, LEASE).await,
        queue.retry_at(&first.receipt, at(T0)).await,
        queue.ack(&first.receipt).await,
    ] {
        assert!(
            matches!(result, Err(QueueError::LeaseLost { .. })),
            "{result:?}"
        );
    }
    queue.ack(&second.receipt).await.unwrap();
    assert_eq!(queue.stats().await.unwrap().depth, 0);
}

#[tokio::test]
async fn extend_keeps_a_delivery_hidden() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    queue
        .push(&envelope("evt_extend", Priority::Low, T0))
        .await
        .unwrap();
    let delivery = queue.pull(1, LEASE).await.unwrap().remove(0);
    clock.advance(20);
    queue.extend(&delivery.receipt, LEASE).await.unwrap();
    clock.advance(20);
    assert!(queue.pull(1, LEASE).await.unwrap().is_empty());
    clock.advance(10);
    assert_eq!(queue.pull(1, LEASE).await.unwrap().len(), 1);
}

#[tokio::test]
async fn retry_at_hides_until_then() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    queue
        .push(&envelope("evt_retry", Priority::Normal, T0))
        .await
        .unwrap();
    let delivery = queue.pull(1, LEASE).await.unwrap().remove(0);
    queue
        .retry_at(&delivery.receipt, at(T0 + 100))
        .await
        .unwrap();
    let stats = queue.stats().await.unwrap();
    assert_eq!((stats.depth, stats.in_flight), (1, 0));
    assert!(matches!(
        queue.ack(&delivery.receipt).await,
        Err(QueueError::LeaseLost { .. })
    ));
    clock.advance(99);
    assert!(queue.pull(1, LEASE).await.unwrap().is_empty());
    clock.advance(1);
    let again = queue.pull(1, LEASE).await.unwrap().remove(0);
    assert_eq!(again.deliveries, 2);
}

#[tokio::test]
async fn malformed_receipts_are_lost_leases() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    for receipt in ["", "nope", "12", "x:y", "999:abc"] {
        let receipt = Receipt(receipt.to_owned());
        assert!(matches!(
            queue.ack(&receipt).await,
            Err(QueueError::LeaseLost { .. })
        ));
    }
}

#[tokio::test]
async fn stats_count_depth_in_flight_and_age() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    assert_eq!(queue.stats().await.unwrap(), QueueStats::default());
    queue
        .push(&envelope("a", Priority::High, T0 - 10))
        .await
        .unwrap();
    queue
        .push(&envelope("b", Priority::Low, T0 - 4))
        .await
        .unwrap();
    queue.push(&envelope("c", Priority::Low, T0)).await.unwrap();
    queue.pull(1, LEASE).await.unwrap();
    assert_eq!(
        queue.stats().await.unwrap(),
        QueueStats {
            depth: 3,
            in_flight: 1,
            oldest_age: Some(Duration::from_secs(10)),
        }
    );
    clock.advance(LEASE.as_secs() as i64);
    let stats = queue.stats().await.unwrap();
    assert_eq!(stats.in_flight, 0, "the lease ran out");
    assert_eq!(stats.oldest_age, Some(Duration::from_secs(40)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pullers_never_share_a_delivery() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let first = queue(&path, &clock);
    let second = queue(&path, &clock);
    for n in 0..40 {
        first
            .push(&envelope(&format!("evt_{n}"), Priority::Normal, T0))
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let queue = if n % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tokio::spawn(async move {
                let mut seen = Vec::new();
                loop {
                    let batch = queue.pull(3, LEASE).await.unwrap();
                    if batch.is_empty() {
                        return seen;
                    }
                    seen.extend(batch.into_iter().map(|d| d.envelope.event_id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 40);
    assert_eq!(distinct.len(), 40);
}

// ---------------------------------------------------------------- ledger

#[tokio::test]
async fn ledger_claims_completes_and_dedupes() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let store = store(&path, &clock);
    let until = at(T0 + 60);
    assert_eq!(
        store.claim("evt_1", "w1", until).await.unwrap(),
        Claim::Granted
    );
    assert_eq!(
        store.claim("evt_1", "w2", until).await.unwrap(),
        Claim::Held {
            worker: "w1".to_owned(),
            until,
        }
    );
    assert_eq!(
        store.claim("evt_1", "w1", at(T0 + 90)).await.unwrap(),
        Claim::Granted,
        "the holder renews"
    );
    assert!(matches!(
        store.complete("evt_1", "w2", Outcome::Processed).await,
        Err(StoreError::NotHeld { ref worker, .. }) if worker == "w2"
    ));
    store
        .complete("evt_1", "w1", Outcome::Processed)
        .await
        .unwrap();
    assert_eq!(
        store.claim("evt_1", "w2", until).await.unwrap(),
        Claim::Done(Outcome::Processed)
    );
    assert!(matches!(
        store.complete("evt_unknown", "w1", Outcome::Ignored).await,
        Err(StoreError::NotHeld { .. })
    ));
    for outcome in [Outcome::SkippedStale, Outcome::Ignored] {
        let event = format!("evt_{}", outcome.as_str());
        assert_eq!(
            store.claim(&event, "w1", until).await.unwrap(),
            Claim::Granted
        );
        store.complete(&event, "w1", outcome).await.unwrap();
        assert_eq!(
            store.claim(&event, "w1", until).await.unwrap(),
            Claim::Done(outcome)
        );
    }
}

#[tokio::test]
async fn a_dead_lettered_event_can_be_claimed_again_for_a_replay() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let store = store(&path, &clock);
    let until = at(T0 + 60);
    assert_eq!(
        store.claim("evt_dl", "w1", until).await.unwrap(),
        Claim::Granted
    );
    store
        .complete("evt_dl", "w1", Outcome::DeadLettered)
        .await
        .unwrap();
    assert_eq!(
        store.claim("evt_dl", "w2", until).await.unwrap(),
        Claim::Granted,
        "the replay is processed"
    );
    store
        .complete("evt_dl", "w2", Outcome::Processed)
        .await
        .unwrap();
    assert_eq!(
        store.claim("evt_dl", "w1", until).await.unwrap(),
        Claim::Done(Outcome::Processed),
        "and then recorded as done like any other"
    );
}

#[tokio::test]
async fn expired_claim_is_taken_over() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let store = store(&path, &clock);
    assert_eq!(
        store.claim("evt_1", "w1", at(T0 + 30)).await.unwrap(),
        Claim::Granted
    );
    clock.advance(30);
    assert_eq!(
        store.claim("evt_1", "w2", at(T0 + 90)).await.unwrap(),
        Claim::Granted
    );
    assert!(matches!(
        store.complete("evt_1", "w1", Outcome::Processed).await,
        Err(StoreError::NotHeld { .. })
    ));
    Ledger::release(&store, "evt_1", "w1").await.unwrap();
    assert!(matches!(
        store.claim("evt_1", "w3", at(T0 + 90)).await.unwrap(),
        Claim::Held { ref worker, .. } if worker == "w2"
    ));
    store
        .complete("evt_1", "w2", Outcome::Processed)
        .await
        .unwrap();
}

#[tokio::test]
async fn release_lets_another_worker_claim() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let store = store(&path, &clock);
    let until = at(T0 + 60);
    Ledger::release(&store, "evt_none", "w1").await.unwrap();
    assert_eq!(
        store.claim("evt_1", "w1", until).await.unwrap(),
        Claim::Granted
    );
    Ledger::release(&store, "evt_1", "w1").await.unwrap();
    assert_eq!(
        store.claim("evt_1", "w2", until).await.unwrap(),
        Claim::Granted
    );
    assert!(matches!(
        store.complete("evt_1", "w1", Outcome::Processed).await,
        Err(StoreError::NotHeld { .. })
    ));
    store
        .complete("evt_1", "w2", Outcome::Processed)
        .await
        .unwrap();
    Ledger::release(&store, "evt_1", "w2").await.unwrap();
    assert_eq!(
        store.claim("evt_1", "w3", until).await.unwrap(),
        Claim::Done(Outcome::Processed),
        "releasing after completion changes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_grant_exactly_one() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    // Tasks on one handle (pooled connections) and on a second handle of the same file.
    let stores = [store(&path, &clock), store(&path, &clock)];
    for round in 0..5 {
        let event = format!("evt_race_{round}");
        let tasks: Vec<_> = (0..16)
            .map(|n| {
                let store = stores[n % 2].clone();
                let event = event.clone();
                tokio::spawn(async move {
                    store
                        .claim(&event, &format!("w{n}"), at(T0 + 60))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut granted = 0;
        for task in tasks {
            match task.await.unwrap() {
                Claim::Granted => granted += 1,
                Claim::Held { .. } => {}
                Claim::Done(outcome) => panic!("not completed, got {outcome:?}"),
            }
        }
        assert_eq!(granted, 1, "round {round}");
    }
}

// ---------------------------------------------------------------- watermarks

#[tokio::test]
async fn watermarks_advance_only_forward() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let store = store(&path, &clock);
    let mark = |created, event_id: &str| Mark {
        created,
        event_id: event_id.to_owned(),
    };
    assert_eq!(store.mark("cus_1").await.unwrap(), None);
    assert!(store.advance("cus_1", &mark(10, "evt_b")).await.unwrap());
    assert!(!store.advance("cus_1", &mark(10, "evt_b")).await.unwrap());
    assert!(!store.advance("cus_1", &mark(10, "evt_a")).await.unwrap());
    assert!(!store.advance("cus_1", &mark(9, "evt_z")).await.unwrap());
    assert!(store.advance("cus_1", &mark(10, "evt_c")).await.unwrap());
    assert!(store.advance("cus_1", &mark(11, "evt_a")).await.unwrap());
    assert_eq!(store.mark("cus_1").await.unwrap(), Some(mark(11, "evt_a")));
    assert_eq!(store.mark("cus_2").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_advances_keep_the_newest_mark() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let stores = [store(&path, &clock), store(&path, &clock)];
    let mut marks: Vec<Mark> = (0..32)
        .map(|n| Mark {
            created: 100 + n / 4,
            event_id: format!("evt_{:02}", (n * 7) % 32),
        })
        .collect();
    fastrand::shuffle(&mut marks);
    let newest = marks.iter().max().unwrap().clone();
    let tasks: Vec<_> = marks
        .into_iter()
        .enumerate()
        .map(|(n, mark)| {
            let store = stores[n % 2].clone();
            tokio::spawn(async move {
                let advanced = store.advance("sub_1", &mark).await.unwrap();
                let after = store.mark("sub_1").await.unwrap().unwrap();
                // Whatever is stored is at least this mark: an older one never overwrote it.
                assert!(after >= mark, "{after:?} < {mark:?}");
                (advanced, mark)
            })
        })
        .collect();
    let mut advanced_newest = false;
    for task in tasks {
        let (advanced, mark) = task.await.unwrap();
        advanced_newest |= advanced && mark == newest;
    }
    assert!(advanced_newest);
    assert_eq!(stores[0].mark("sub_1").await.unwrap(), Some(newest));
}

// ---------------------------------------------------------------- dead letters

fn letter(event_id: &str, dead_lettered: i64) -> DeadLetter {
    DeadLetter {
        event_id: event_id.to_owned(),
        event_type: "invoice.paid".to_owned(),
        payload: format!("{{\"id\":\"{event_id}\"}}").into_bytes(),
        reason: "FIELD_CUSTOM_VALIDATION_EXCEPTION: amount".to_owned(),
        attempts: vec![
            Attempt {
                at: OffsetDateTime::from_unix_timestamp_nanos(
                    i128::from(dead_lettered - 4) * 1_000_000_000 + 123_456_789,
                )
                .unwrap(),
                error: "UNABLE_TO_LOCK_ROW".to_owned(),
            },
            Attempt {
                at: at(dead_lettered),
                error: "FIELD_CUSTOM_VALIDATION_EXCEPTION: amount \"quoted\"".to_owned(),
            },
        ],
        dead_lettered_at: at(dead_lettered),
    }
}

#[tokio::test]
async fn dead_letters_round_trip_and_page() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let store = store(&path, &clock);
    assert_eq!(store.get("evt_b").await.unwrap(), None);
    assert!(store.list(None, 10).await.unwrap().is_empty());
    let letters = [
        letter("evt_c", T0),
        letter("evt_a", T0 + 5),
        letter("evt_b", T0),
        letter("evt_d", T0 - 5),
        letter("evt_e", T0 + 5),
    ];
    for letter in &letters {
        store.put(letter).await.unwrap();
    }
    assert_eq!(
        store.get("evt_b").await.unwrap().as_ref(),
        Some(&letters[2])
    );
    let ids = |page: Vec<DeadLetter>| -> Vec<String> {
        page.into_iter().map(|letter| letter.event_id).collect()
    };
    assert_eq!(
        ids(store.list(None, 10).await.unwrap()),
        ["evt_d", "evt_b", "evt_c", "evt_a", "evt_e"]
    );
    assert_eq!(ids(store.list(None, 2).await.unwrap()), ["evt_d", "evt_b"]);
    assert_eq!(
        ids(store.list(Some("evt_b"), 2).await.unwrap()),
        ["evt_c", "evt_a"]
    );
    assert_eq!(ids(store.list(Some("evt_a"), 2).await.unwrap()), ["evt_e"]);
    assert!(store.list(Some("evt_e"), 2).await.unwrap().is_empty());
    assert!(store.list(None, 0).await.unwrap().is_empty());
    assert!(store.list(Some("evt_unknown"), 5).await.unwrap().is_empty());

    let mut replaced = letter("evt_b", T0 + 10);
    replaced.reason = "replaced".to_owned();
    replaced.attempts.clear();
    store.put(&replaced).await.unwrap();
    assert_eq!(store.get("evt_b").await.unwrap(), Some(replaced));
    assert_eq!(ids(store.list(Some("evt_e"), 5).await.unwrap()), ["evt_b"]);

    assert!(store.remove("evt_b").await.unwrap());
    assert!(!store.remove("evt_b").await.unwrap());
    assert_eq!(store.get("evt_b").await.unwrap(), None);
    assert_eq!(store.list(None, 10).await.unwrap().len(), 4);
}

// ---------------------------------------------------------------- tokens

#[tokio::test]
async fn tokens_round_trip() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let store = store(&path, &clock);
    let key = "https://login.salesforce.com|client";
    assert_eq!(store.token(key).await.unwrap(), None);
    let token = CachedToken {
        access_token: "00Dxx!secret-token".to_owned(),
        instance_url: "https://example.my.salesforce.com".to_owned(),
        expires_at: at(T0 + 3600),
    };
    store.put_token(key, &token).await.unwrap();
    let cached = store.token(key).await.unwrap().unwrap();
    assert_eq!(cached, token);
    assert!(!format!("{cached:?}").contains("secret"));
    assert!(!format!("{store:?}").contains("secret"));
    let renewed = CachedToken {
        access_token: "renewed".to_owned(),
        expires_at: at(T0 + 7200),
        ..token
    };
    store.put_token(key, &renewed).await.unwrap();
    assert_eq!(store.token(key).await.unwrap(), Some(renewed));
    assert_eq!(store.token("other").await.unwrap(), None);
}

// ---------------------------------------------------------------- rate-limit windows

#[tokio::test]
async fn windows_add_within_the_bound_and_prune() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let store = store(&path, &clock);
    assert_eq!(store.counts("k", 5).await.unwrap(), BucketCounts::default());
    assert!(store.try_add("k", 5, 3, 4).await.unwrap());
    assert!(!store.try_add("k", 5, 2, 4).await.unwrap());
    assert!(store.try_add("k", 5, 1, 4).await.unwrap());
    assert!(!store.try_add("k", 5, u64::MAX, u64::MAX).await.unwrap());
    assert!(store.try_add("k", 6, 2, 10).await.unwrap());
    assert_eq!(
        store.counts("k", 6).await.unwrap(),
        BucketCounts {
            current: 2,
            previous: 4
        }
    );
    assert_eq!(
        store.counts("other", 6).await.unwrap(),
        BucketCounts::default()
    );
    WindowStore::release(&store, "k", 6, 5).await.unwrap();
    WindowStore::release(&store, "missing", 6, 5).await.unwrap();
    assert_eq!(store.counts("k", 6).await.unwrap().current, 0);
    // Adding to bucket 8 drops the buckets before 7.
    assert!(store.try_add("k", 8, 1, 1).await.unwrap());
    assert_eq!(store.counts("k", 6).await.unwrap().previous, 0, "pruned");
    assert!(store.try_add("k", i64::MIN, 1, 1).await.unwrap());
    assert_eq!(store.counts("k", i64::MIN).await.unwrap().current, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_try_add_never_exceeds_the_bound() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let stores = [store(&path, &clock), store(&path, &clock)];
    let tasks: Vec<_> = (0..24)
        .map(|n| {
            let store = stores[n % 2].clone();
            tokio::spawn(async move {
                let mut added = 0;
                for _ in 0..5 {
                    if store.try_add("shared", 1, 1, 50).await.unwrap() {
                        added += 1;
                    }
                }
                added
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, 50);
    assert_eq!(stores[1].counts("shared", 1).await.unwrap().current, 50);
}

#[tokio::test]
async fn rate_limiter_counts_in_the_sqlite_store() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let store = Arc::new(store(&path, &clock));
    let limiter = RateLimiter::new(Arc::clone(&store), vec![Window::per_minute(3)]).unwrap();
    let now = at(T0 - T0 % 60);
    for _ in 0..3 {
        assert_eq!(
            limiter.try_acquire(1, now).await.unwrap(),
            Decision::Allowed
        );
    }
    assert!(matches!(
        limiter.try_acquire(1, now).await.unwrap(),
        Decision::Wait {
            window: "minute",
            ..
        }
    ));
    // A second limiter on another handle of the file shares the count.
    let other = RateLimiter::new(
        SqliteStore::open(&path).unwrap(),
        vec![Window::per_minute(3)],
    )
    .unwrap();
    assert!(matches!(
        other.try_acquire(1, now).await.unwrap(),
        Decision::Wait { .. }
    ));
}

// ---------------------------------------------------------------- schema

#[tokio::test]
async fn a_version_1_file_is_migrated_keeping_its_events() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    queue(&path, &clock)
        .push(&envelope("evt_kept", Priority::Normal, T0))
        .await
        .unwrap();
    // Back to the first schema, as a file written before the outbound tables existed.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE outbound_cursors; DROP TABLE outbound_synced; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);

    let queue = queue(&path, &clock);
    store(&path, &clock);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('outbound_cursors', 'outbound_synced')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(tables, 2);
    let pulled = queue.pull(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0].envelope.event_id, "evt_kept");
}

#[tokio::test]
async fn schema_is_versioned_and_newer_files_are_refused() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    let store = store(&path, &clock);
    queue
        .push(&envelope("evt_shared", Priority::High, T0))
        .await
        .unwrap();
    store.claim("evt_shared", "w1", at(T0 + 1)).await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(SqliteError::TooNew { found, .. }) if found == SCHEMA_VERSION + 1
    ));
}

#[tokio::test]
async fn opening_a_directory_fails_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let error = SqliteQueue::open(dir.path()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&dir.path().display().to_string()),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_all_land() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    let tasks: Vec<_> = (0..64)
        .map(|task| {
            let queue = queue.clone();
            tokio::spawn(async move {
                for n in 0..50 {
                    let event = envelope(&format!("evt_{task}_{n}"), Priority::Normal, T0);
                    queue.push(&event).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(queue.stats().await.unwrap().depth, 3200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unstorable_envelope_fails_alone() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    let far = OffsetDateTime::from_unix_timestamp(10_000_000_000).unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut event = envelope(&format!("evt_{n}"), Priority::High, T0);
                if n == 7 {
                    event.received_at = far;
                }
                queue.push(&event).await
            })
        })
        .collect();
    for (n, task) in tasks.into_iter().enumerate() {
        let result = task.await.unwrap();
        if n == 7 {
            assert!(
                matches!(
                    result,
                    Err(QueueError::Backend {
                        operation: "push",
                        ..
                    })
                ),
                "{result:?}"
            );
        } else {
            result.unwrap();
        }
    }
    assert_eq!(queue.stats().await.unwrap().depth, 15);
}

#[test]
fn concurrent_opens_of_a_new_file_all_succeed() {
    for _ in 0..5 {
        let (_dir, path) = db_file();
        let threads: Vec<_> = (0..6)
            .map(|n| {
                let path = path.clone();
                std::thread::spawn(move || {
                    if n % 2 == 0 {
                        SqliteStore::open(&path).map(drop)
                    } else {
                        SqliteQueue::open(&path).map(drop)
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap().unwrap();
        }
    }
}

/// The database file a child process of [`separate_processes_share_counters_and_claims`] uses.
const CHILD_DB: &str = "SQLITE_BACKEND_CHILD_DB";

/// What a child process of [`separate_processes_share_counters_and_claims`] does: adds to a
/// shared window and claims shared events, then prints how many it got.
fn contend_as_child(path: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(path).unwrap();
        let worker = format!("pid{}", std::process::id());
        let until = OffsetDateTime::now_utc() + time::Duration::hours(1);
        let (mut added, mut granted) = (0, 0);
        for n in 0..40 {
            if store.try_add("procs", 1, 1, 50).await.unwrap() {
                added += 1;
            }
            let claim = store
                .claim(&format!("evt_{n}"), &worker, until)
                .await
                .unwrap();
            if claim == Claim::Granted {
                granted += 1;
            }
        }
        println!("CHILD added={added} granted={granted}");
    });
}

/// Three processes (this test binary run again, told by `CHILD_DB` to act as a contender)
/// share one file: the window bound and the claims hold across processes.
#[test]
fn separate_processes_share_counters_and_claims() {
    if let Ok(path) = std::env::var(CHILD_DB) {
        return contend_as_child(&path);
    }
    let (_dir, path) = db_file();
    SqliteStore::open(&path).unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..3)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "separate_processes_share_counters_and_claims",
                    "--nocapture",
                ])
                .env(CHILD_DB, &path)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let (mut added, mut granted) = (0, 0);
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        let stdout = String::from_utf8(output.stdout).unwrap();
        let line = stdout
            .lines()
            .find_map(|line| line.strip_prefix("CHILD "))
            .unwrap_or_else(|| panic!("no report in {stdout}"));
        for part in line.split_whitespace() {
            let (name, value) = part.split_once('=').unwrap();
            let value: u32 = value.parse().unwrap();
            match name {
                "added" => added += value,
                "granted" => granted += value,
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!(added, 50, "3 × 40 tries against a bound of 50");
    assert_eq!(
        granted, 40,
        "each of 40 events granted to exactly one process"
    );
}

#[tokio::test]
async fn batched_claims_completions_and_advances_in_one_transaction() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let store = store(&path, &clock);
    store.claim("evt_held", "other", at(T0 + 60)).await.unwrap();
    store.claim("evt_done", "w1", at(T0 + 60)).await.unwrap();
    store
        .complete("evt_done", "w1", Outcome::Processed)
        .await
        .unwrap();

    let ids: Vec<String> = ["evt_new", "evt_held", "evt_done"]
        .map(String::from)
        .to_vec();
    let claims = store.claim_all(&ids, "w1", at(T0 + 30)).await.unwrap();
    assert_eq!(claims[0], Claim::Granted);
    assert!(matches!(&claims[1], Claim::Held { worker, .. } if worker == "other"));
    assert_eq!(claims[2], Claim::Done(Outcome::Processed));

    let done = vec![
        ("evt_new".to_owned(), Outcome::SkippedStale),
        ("evt_held".to_owned(), Outcome::Processed),
    ];
    let results = store.complete_all(&done, "w1").await.unwrap();
    assert!(results[0].is_ok());
    assert!(matches!(
        &results[1],
        Err(StoreError::NotHeld { event_id, .. }) if event_id == "evt_held"
    ));
    assert_eq!(
        store.claim("evt_new", "w2", at(T0)).await.unwrap(),
        Claim::Done(Outcome::SkippedStale)
    );

    let mark = |created, id: &str| Mark {
        created,
        event_id: id.to_owned(),
    };
    store.advance("cus_1", &mark(10, "evt_b")).await.unwrap();
    let marks = vec![
        ("cus_1".to_owned(), mark(9, "evt_a")),
        ("cus_2".to_owned(), mark(5, "evt_c")),
        ("cus_1".to_owned(), mark(11, "evt_d")),
    ];
    assert_eq!(
        store.advance_all(&marks).await.unwrap(),
        vec![false, true, true]
    );
    assert_eq!(store.mark("cus_1").await.unwrap(), Some(mark(11, "evt_d")));
}

#[tokio::test]
async fn batched_acks_report_lost_leases_one_by_one() {
    let (_dir, path) = db_file();
    let clock = ManualClock::new();
    let queue = queue(&path, &clock);
    for id in ["evt_1", "evt_2"] {
        queue
            .push(&envelope(id, Priority::Normal, T0))
            .await
            .unwrap();
    }
    let deliveries = queue.pull(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(deliveries.len(), 2);
    let receipts = vec![
        deliveries[0].receipt.clone(),
        Receipt("999:not-a-lease".into()),
        deliveries[1].receipt.clone(),
    ];

    let acks = queue.ack_all(&receipts).await.unwrap();

    assert!(acks[0].is_ok());
    assert!(matches!(acks[1], Err(QueueError::LeaseLost { .. })));
    assert!(acks[2].is_ok());
    assert_eq!(queue.stats().await.unwrap().depth, 0);
}
