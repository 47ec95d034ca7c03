//! Behaviour of the limiter as a whole, over the in-memory store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use super::*;
use crate::salesforce::{LimitInfo, Usage};

const MINUTE: Duration = Duration::from_secs(60);

/// `secs` seconds (and `nanos` nanoseconds) after the epoch: bucket arithmetic is aligned on it.
fn at(secs: i64, nanos: i64) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(secs) + time::Duration::nanoseconds(nanos)
}

fn minute_limiter(limit: u64) -> RateLimiter<MemoryWindowStore> {
    RateLimiter::new(
        MemoryWindowStore::new(),
        vec![Window::new("minute", MINUTE, limit)],
    )
    .unwrap()
}

/// Acquires `cost` at `now` until refused; how many were allowed.
async fn fill<S: WindowStore>(limiter: &RateLimiter<S>, cost: u64, now: OffsetDateTime) -> u64 {
    let mut allowed = 0;
    while limiter.try_acquire(cost, now).await.unwrap() == Decision::Allowed {
        allowed += 1;
    }
    allowed
}

#[tokio::test]
async fn allows_within_the_limit() {
    let limiter = minute_limiter(5);
    for second in 0..5 {
        assert_eq!(
            limiter.try_acquire(1, at(second, 0)).await.unwrap(),
            Decision::Allowed
        );
    }
    let windows: Vec<_> = limiter.windows().map(|w| w.name.as_str()).collect();
    assert_eq!(windows, ["minute"]);
}

#[tokio::test]
async fn refuses_over_the_limit_until_it_fits() {
    let limiter = minute_limiter(10);
    assert_eq!(fill(&limiter, 1, at(15, 0)).await, 10);
    // Next minute the 10 calls weigh ceil(10 × (60 − e) / 60); 9 or less once e ≥ 6 s.
    let until = at(66, 0);
    assert_eq!(
        limiter.try_acquire(1, at(15, 0)).await.unwrap(),
        Decision::Wait {
            until,
            window: "minute"
        }
    );
    assert_eq!(
        limiter.try_acquire(1, at(65, 999_999_999)).await.unwrap(),
        Decision::Wait {
            until,
            window: "minute"
        }
    );
    assert_eq!(
        limiter.try_acquire(1, until).await.unwrap(),
        Decision::Allowed
    );
}

#[tokio::test]
async fn slides_across_a_bucket_boundary() {
    // 100 calls in minute 0, then: 75% of them still count a quarter into minute 1, 50% half
    // way, 0% once minute 0 is two buckets back.
    for (now, expected) in [
        (at(60 + 15, 0), 25),
        (at(60 + 30, 0), 50),
        (at(60 + 45, 0), 75),
        (at(120, 0), 100),
    ] {
        let limiter = minute_limiter(100);
        assert_eq!(fill(&limiter, 1, at(10, 0)).await, 100);
        assert_eq!(fill(&limiter, 1, now).await, expected, "at {now}");
    }
    // One nanosecond before minute 2, 100 × 1/60e9 of minute 0 still counts: rounded up to 1.
    let limiter = minute_limiter(100);
    assert_eq!(fill(&limiter, 1, at(10, 0)).await, 100);
    assert_eq!(fill(&limiter, 1, at(119, 999_999_999)).await, 99);
}

#[tokio::test]
async fn reports_the_estimated_usage() {
    let limiter = RateLimiter::per_minute_and_day(MemoryWindowStore::new(), 10, 100).unwrap();
    assert_eq!(fill(&limiter, 1, at(0, 0)).await, 10);
    let usage = limiter.usage(at(90, 0)).await.unwrap();
    assert_eq!(
        usage,
        [
            ("minute", Usage { used: 5, max: 10 }),
            ("day", Usage { used: 10, max: 100 })
        ]
    );
}

#[tokio::test]
async fn counts_costs_above_one() {
    let limiter = minute_limiter(10);
    let now = at(0, 0);
    assert_eq!(
        limiter.try_acquire(4, now).await.unwrap(),
        Decision::Allowed
    );
    assert_eq!(
        limiter.try_acquire(4, now).await.unwrap(),
        Decision::Allowed
    );
    assert!(matches!(
        limiter.try_acquire(4, now).await.unwrap(),
        Decision::Wait { .. }
    ));
    assert_eq!(
        limiter.try_acquire(2, now).await.unwrap(),
        Decision::Allowed
    );
    // 10 in minute 0; 4 fits next minute once ceil(10 × (60 − e) / 60) ≤ 6, at e = 24 s.
    assert_eq!(
        limiter.try_acquire(4, now).await.unwrap(),
        Decision::Wait {
            until: at(84, 0),
            window: "minute"
        }
    );
    assert!(matches!(
        limiter.try_acquire(11, now).await,
        Err(RateLimitError::CostExceedsLimit {
            cost: 11,
            limit: 10,
            ..
        })
    ));
}

#[tokio::test]
async fn rounding_never_lets_more_through_than_the_limit() {
    let mut rng = fastrand::Rng::with_seed(0x5eed_cafe);
    let length = MINUTE.as_nanos();
    for _ in 0..40 {
        let limit = rng.u64(1..=60);
        let store = Arc::new(MemoryWindowStore::new());
        let limiter = RateLimiter::new(
            Arc::clone(&store),
            vec![Window::new("minute", MINUTE, limit)],
        )
        .unwrap();
        let mut now = at(rng.i64(0..1_000_000), rng.i64(0..1_000_000_000));
        for _ in 0..300 {
            now += time::Duration::nanoseconds(rng.i64(0..4_000_000_000));
            let cost = rng.u64(1..=limit.min(3));
            let instant = now.unix_timestamp_nanos();
            let bucket = instant.div_euclid(length as i128) as i64;
            let remaining = length - instant.rem_euclid(length as i128) as u128;
            let before = store.counts("salesforce/minute", bucket).await.unwrap();
            // The exact estimate, scaled by the window length: no rounding at all.
            let exact = |counts: BucketCounts, extra: u64| {
                u128::from(counts.current + extra) * length
                    + u128::from(counts.previous) * remaining
            };
            match limiter.try_acquire(cost, now).await.unwrap() {
                Decision::Allowed => {
                    let after = store.counts("salesforce/minute", bucket).await.unwrap();
                    assert_eq!(after.current, before.current + cost);
                    assert!(
                        exact(after, 0) <= u128::from(limit) * length,
                        "over at {now}"
                    );
                }
                Decision::Wait { until, window } => {
                    assert_eq!(window, "minute");
                    // Refused only when the exact estimate would go over.
                    assert!(exact(before, cost) > u128::from(limit) * length);
                    assert!(until > now);
                    let just_before = until - time::Duration::nanoseconds(1);
                    assert!(matches!(
                        limiter.try_acquire(cost, just_before).await.unwrap(),
                        Decision::Wait { .. }
                    ));
                    if rng.bool() {
                        assert_eq!(
                            limiter.try_acquire(cost, until).await.unwrap(),
                            Decision::Allowed
                        );
                        now = until;
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn the_day_refuses_without_counting_in_the_minute() {
    let store = Arc::new(MemoryWindowStore::new());
    let limiter = RateLimiter::per_minute_and_day(Arc::clone(&store), 10, 15).unwrap();
    assert_eq!(fill(&limiter, 1, at(0, 0)).await, 10);
    let later = at(5 * 60, 0);
    assert_eq!(fill(&limiter, 1, later).await, 5);
    // The day's bucket holds 15; the next day its weight must fall to 14/15 first.
    let day = 86_400;
    assert_eq!(
        limiter.try_acquire(1, later).await.unwrap(),
        Decision::Wait {
            until: at(day + day / 15, 0),
            window: "day"
        }
    );
    assert_eq!(
        store.counts("salesforce/minute", 5).await.unwrap().current,
        5
    );
    assert_eq!(store.counts("salesforce/day", 0).await.unwrap().current, 15);
}

#[tokio::test]
async fn reports_the_window_that_refuses_longest() {
    let limiter = RateLimiter::per_minute_and_day(MemoryWindowStore::new(), 2, 2).unwrap();
    assert_eq!(fill(&limiter, 1, at(0, 0)).await, 2);
    assert!(matches!(
        limiter.try_acquire(1, at(0, 0)).await.unwrap(),
        Decision::Wait { window: "day", .. }
    ));
}

/// A store whose `add` on one key loses a race once, as if another worker filled it.
struct LosesOnce {
    inner: MemoryWindowStore,
    key: &'static str,
    lost: AtomicBool,
}

impl WindowStore for LosesOnce {
    async fn counts(&self, key: &str, bucket: i64) -> Result<BucketCounts, RateLimitError> {
        self.inner.counts(key, bucket).await
    }

    async fn try_add(
        &self,
        key: &str,
        bucket: i64,
        cost: u64,
        max_current: u64,
    ) -> Result<bool, RateLimitError> {
        if key == self.key && !self.lost.swap(true, Ordering::SeqCst) {
            return Ok(false);
        }
        self.inner.try_add(key, bucket, cost, max_current).await
    }

    async fn release(&self, key: &str, bucket: i64, cost: u64) -> Result<(), RateLimitError> {
        self.inner.release(key, bucket, cost).await
    }
}

#[tokio::test]
async fn releases_what_was_counted_when_a_later_window_loses_a_race() {
    let store = Arc::new(LosesOnce {
        inner: MemoryWindowStore::new(),
        key: "salesforce/day",
        lost: AtomicBool::new(false),
    });
    let limiter = RateLimiter::per_minute_and_day(Arc::clone(&store), 10, 100).unwrap();
    assert_eq!(
        limiter.try_acquire(3, at(0, 0)).await.unwrap(),
        Decision::Allowed
    );
    assert!(store.lost.load(Ordering::SeqCst));
    assert_eq!(
        store.counts("salesforce/minute", 0).await.unwrap().current,
        3
    );
    assert_eq!(store.counts("salesforce/day", 0).await.unwrap().current, 3);
}

/// A store that yields between reading and adding, so concurrent callers interleave.
struct Yielding(MemoryWindowStore);

impl WindowStore for Yielding {
    async fn counts(&self, key: &str, bucket: i64) -> Result<BucketCounts, RateLimitError> {
        let counts = self.0.counts(key, bucket).await;
        tokio::task::yield_now().await;
        counts
    }

    async fn try_add(
        &self,
        key: &str,
        bucket: i64,
        cost: u64,
        max_current: u64,
    ) -> Result<bool, RateLimitError> {
        let added = self.0.try_add(key, bucket, cost, max_current).await;
        tokio::task::yield_now().await;
        added
    }

    async fn release(&self, key: &str, bucket: i64, cost: u64) -> Result<(), RateLimitError> {
        self.0.release(key, bucket, cost).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_callers_never_exceed_the_limit() {
    for (per_minute, per_day, expected) in [(100, 1_000, 100), (1_000, 60, 60), (37, 37, 37)] {
        let limiter = Arc::new(
            RateLimiter::per_minute_and_day(
                Yielding(MemoryWindowStore::new()),
                per_minute,
                per_day,
            )
            .unwrap(),
        );
        let allowed = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                let allowed = Arc::clone(&allowed);
                tokio::spawn(async move {
                    for _ in 0..50 {
                        if limiter.try_acquire(1, at(30, 0)).await.unwrap() == Decision::Allowed {
                            allowed.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(allowed.load(Ordering::SeqCst), expected);
    }
}

fn limit_info(used: u64, max: u64) -> Option<LimitInfo> {
    LimitInfo::parse(&format!("api-usage={used}/{max}"))
}

#[tokio::test]
async fn stops_at_the_org_quota_share() {
    let (sender, receiver) = watch::channel(limit_info(79, 100));
    let limiter = minute_limiter(1_000).with_org_quota_from(OrgQuota::default(), receiver);
    let now = at(0, 0);
    assert_eq!(
        limiter.try_acquire(1, now).await.unwrap(),
        Decision::Allowed
    );

    sender.send_replace(limit_info(80, 100));
    // One of the 80 calls of the last 24 hours must expire: 24 h / 80 = 18 min.
    let resume = now + time::Duration::minutes(18);
    let refused = Decision::Wait {
        until: resume,
        window: ORG_QUOTA_WINDOW,
    };
    assert_eq!(limiter.try_acquire(1, now).await.unwrap(), refused);
    // Nothing was counted while refused.
    assert_eq!(fill(&limiter, 1, at(1, 0)).await, 0);

    sender.send_replace(limit_info(81, 100));
    let later = at(60, 0);
    assert!(matches!(
        limiter.try_acquire(1, later).await.unwrap(),
        Decision::Wait { window: ORG_QUOTA_WINDOW, until } if until > later
    ));

    // Without fresh news, calls resume at the estimate to fetch a fresh header.
    let far = at(24 * 60 * 60, 0);
    assert_eq!(
        limiter.try_acquire(1, far).await.unwrap(),
        Decision::Allowed
    );
    sender.send_replace(limit_info(50, 100));
    assert_eq!(
        limiter.try_acquire(1, far).await.unwrap(),
        Decision::Allowed
    );
}

#[tokio::test]
async fn reads_the_org_usage_it_is_given() {
    let limiter = minute_limiter(10).with_org_quota(OrgQuota::new(50).unwrap());
    let now = at(0, 0);
    assert_eq!(
        limiter.try_acquire(1, now).await.unwrap(),
        Decision::Allowed
    );
    limiter.observe_usage(Usage { used: 50, max: 100 }, now);
    assert!(matches!(
        limiter.try_acquire(1, now).await.unwrap(),
        Decision::Wait {
            window: ORG_QUOTA_WINDOW,
            ..
        }
    ));
    limiter.observe_usage(Usage { used: 49, max: 100 }, now);
    assert_eq!(
        limiter.try_acquire(1, now).await.unwrap(),
        Decision::Allowed
    );
    // Without an org quota, usage is ignored.
    let plain = minute_limiter(10);
    plain.observe_usage(
        Usage {
            used: 100,
            max: 100,
        },
        now,
    );
    assert_eq!(plain.try_acquire(1, now).await.unwrap(), Decision::Allowed);
}

#[tokio::test(start_paused = true)]
async fn acquire_sleeps_until_the_call_fits() {
    let start = tokio::time::Instant::now();
    let limiter = minute_limiter(2).with_clock(move || {
        let elapsed = tokio::time::Instant::now() - start;
        OffsetDateTime::UNIX_EPOCH + elapsed
    });
    limiter.acquire(1).await.unwrap();
    limiter.acquire(1).await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
    // Two calls in minute 0: the next fits once ceil(2 × (60 − e) / 60) ≤ 1, at 1 min 30 s.
    limiter.acquire(1).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(90));
}

#[tokio::test]
async fn keys_separate_limiters_sharing_a_store() {
    let store = Arc::new(MemoryWindowStore::new());
    let window = || vec![Window::per_minute(3)];
    let a = RateLimiter::new(Arc::clone(&store), window())
        .unwrap()
        .with_key_prefix("org-a");
    let a_again = RateLimiter::new(Arc::clone(&store), window())
        .unwrap()
        .with_key_prefix("org-a");
    let b = RateLimiter::new(Arc::clone(&store), window())
        .unwrap()
        .with_key_prefix("org-b");
    let now = at(0, 0);
    assert_eq!(fill(&a, 1, now).await, 3);
    assert_eq!(fill(&a_again, 1, now).await, 0);
    assert_eq!(fill(&b, 1, now).await, 3);
}

#[test]
fn rejects_bad_windows() {
    let store = MemoryWindowStore::new;
    assert!(matches!(
        RateLimiter::new(store(), vec![Window::new("zero", Duration::ZERO, 1)]),
        Err(RateLimitError::InvalidWindow { .. })
    ));
    let error =
        RateLimiter::new(store(), vec![Window::per_minute(1), Window::per_minute(2)]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "rate-limit window `minute` is invalid: its name is used by another window"
    );
}
