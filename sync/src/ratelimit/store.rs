//! Where the per-bucket counters live: the [`WindowStore`] trait and its in-memory
//! implementation.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use super::RateLimitError;

/// The counters of a window's current and previous buckets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketCounts {
    /// Cost counted in the current bucket.
    pub current: u64,
    /// Cost counted in the bucket before it.
    pub previous: u64,
}

/// Counters per key and bucket, shared by every limiter that should share a limit.
///
/// The limiter reads both counters, computes from the previous one how much the current
/// bucket may hold (`max_current = limit − ceil(previous × weight)`), and asks the store to
/// add only if that still holds. A store makes that check-and-increment atomic: a mutex here,
/// one transaction in SQLite, a conditional update (`ADD count :cost` on condition
/// `count <= :max_current − :cost`) in DynamoDB.
pub trait WindowStore: Send + Sync {
    /// The counters of bucket `bucket` and of bucket `bucket − 1` for `key` (0 when absent).
    fn counts(
        &self,
        key: &str,
        bucket: i64,
    ) -> impl Future<Output = Result<BucketCounts, RateLimitError>> + Send;

    /// Adds `cost` to bucket `bucket` of `key` if the result stays at most `max_current`,
    /// atomically; `false` (and nothing added) otherwise.
    fn try_add(
        &self,
        key: &str,
        bucket: i64,
        cost: u64,
        max_current: u64,
    ) -> impl Future<Output = Result<bool, RateLimitError>> + Send;

    /// Takes back `cost` added to bucket `bucket` of `key` (saturating at 0), when a call
    /// acquired in one window was refused by another.
    fn release(
        &self,
        key: &str,
        bucket: i64,
        cost: u64,
    ) -> impl Future<Output = Result<(), RateLimitError>> + Send;
}

impl<S: WindowStore> WindowStore for Arc<S> {
    fn counts(
        &self,
        key: &str,
        bucket: i64,
    ) -> impl Future<Output = Result<BucketCounts, RateLimitError>> + Send {
        S::counts(self, key, bucket)
    }

    fn try_add(
        &self,
        key: &str,
        bucket: i64,
        cost: u64,
        max_current: u64,
    ) -> impl Future<Output = Result<bool, RateLimitError>> + Send {
        S::try_add(self, key, bucket, cost, max_current)
    }

    fn release(
        &self,
        key: &str,
        bucket: i64,
        cost: u64,
    ) -> impl Future<Output = Result<(), RateLimitError>> + Send {
        S::release(self, key, bucket, cost)
    }
}

/// Counters in this process's memory; buckets older than the previous one are dropped on
/// every add.
#[derive(Debug, Default)]
pub struct MemoryWindowStore {
    /// Counters by key, then by bucket.
    keys: Mutex<HashMap<String, BTreeMap<i64, u64>>>,
}

impl MemoryWindowStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryWindowStore::default()
    }

    /// Runs `f` on the counters, under the lock. A panic elsewhere cannot leave a counter
    /// half-written, so a poisoned lock is still usable.
    fn with_keys<T>(&self, f: impl FnOnce(&mut HashMap<String, BTreeMap<i64, u64>>) -> T) -> T {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut keys)
    }

    /// How many buckets are kept for `key` (for tests of the pruning).
    #[cfg(test)]
    fn bucket_count(&self, key: &str) -> usize {
        self.with_keys(|keys| keys.get(key).map_or(0, BTreeMap::len))
    }
}

impl WindowStore for MemoryWindowStore {
    async fn counts(&self, key: &str, bucket: i64) -> Result<BucketCounts, RateLimitError> {
        Ok(self.with_keys(|keys| {
            let Some(buckets) = keys.get(key) else {
                return BucketCounts::default();
            };
            let count = |bucket: Option<i64>| {
                bucket
                    .and_then(|bucket| buckets.get(&bucket).copied())
                    .unwrap_or(0)
            };
            BucketCounts {
                current: count(Some(bucket)),
                previous: count(bucket.checked_sub(1)),
            }
        }))
    }

    async fn try_add(
        &self,
        key: &str,
        bucket: i64,
        cost: u64,
        max_current: u64,
    ) -> Result<bool, RateLimitError> {
        Ok(self.with_keys(|keys| {
            let buckets = keys.entry(key.to_owned()).or_default();
            if let Some(oldest_kept) = bucket.checked_sub(1) {
                *buckets = buckets.split_off(&oldest_kept);
            }
            let count = buckets.entry(bucket).or_insert(0);
            match count.checked_add(cost) {
                Some(added) if added <= max_current => {
                    *count = added;
                    true
                }
                _ => false,
            }
        }))
    }

    async fn release(&self, key: &str, bucket: i64, cost: u64) -> Result<(), RateLimitError> {
        self.with_keys(|keys| {
            if let Some(count) = keys
                .get_mut(key)
                .and_then(|buckets| buckets.get_mut(&bucket))
            {
                *count = count.saturating_sub(cost);
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn adds_within_the_bound_only() {
        let store = MemoryWindowStore::new();
        assert_eq!(store.counts("k", 5).await.unwrap(), BucketCounts::default());
        assert!(store.try_add("k", 5, 3, 4).await.unwrap());
        assert!(!store.try_add("k", 5, 2, 4).await.unwrap());
        assert!(store.try_add("k", 5, 1, 4).await.unwrap());
        assert!(!store.try_add("k", 5, u64::MAX, u64::MAX).await.unwrap());
        assert!(store.try_add("k", 6, 2, 10).await.unwrap());
        let counts = store.counts("k", 6).await.unwrap();
        assert_eq!(
            counts,
            BucketCounts {
                current: 2,
                previous: 4
            }
        );
        assert_eq!(
            store.counts("other", 6).await.unwrap(),
            BucketCounts::default()
        );
        store.release("k", 6, 5).await.unwrap();
        store.release("missing", 6, 5).await.unwrap();
        assert_eq!(store.counts("k", 6).await.unwrap().current, 0);
    }

    #[tokio::test]
    async fn prunes_old_buckets() {
        let store = MemoryWindowStore::new();
        for bucket in 0..10 {
            assert!(store.try_add("k", bucket, 1, 1).await.unwrap());
        }
        assert_eq!(store.bucket_count("k"), 2);
        let counts = store.counts("k", 9).await.unwrap();
        assert_eq!(
            counts,
            BucketCounts {
                current: 1,
                previous: 1
            }
        );
        assert!(store.try_add("k", i64::MIN, 1, 1).await.unwrap());
        assert_eq!(store.counts("k", i64::MIN).await.unwrap().current, 1);
    }

    #[tokio::test]
    async fn shares_through_an_arc() {
        let store = Arc::new(MemoryWindowStore::new());
        let other = Arc::clone(&store);
        assert!(store.try_add("k", 1, 1, 1).await.unwrap());
        assert!(!other.try_add("k", 1, 1, 1).await.unwrap());
        other.release("k", 1, 1).await.unwrap();
        assert_eq!(
            WindowStore::counts(&store, "k", 1).await.unwrap().current,
            0
        );
    }
}
