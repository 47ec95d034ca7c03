//! The rate limiter's counters in [`SqliteStore`]: one row per key and bucket. The
//! check-and-increment runs in one `BEGIN IMMEDIATE` transaction, so concurrent limiters in
//! any process sharing the file never count past the bound.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::db::{SqliteError, immediate};
use crate::ratelimit::{BucketCounts, RateLimitError, WindowStore};

/// The count of `bucket` of `key` (0 when absent).
fn count(conn: &Connection, key: &str, bucket: i64) -> Result<u64, SqliteError> {
    let count: Option<i64> = conn
        .query_row(
            "SELECT count FROM windows WHERE key = ?1 AND bucket = ?2",
            params![key, bucket],
            |row| row.get(0),
        )
        .optional()?;
    Ok(count.unwrap_or(0).max(0).unsigned_abs())
}

/// The counts of `bucket` and of the bucket before it, read by one statement (one snapshot).
pub(crate) fn counts(
    conn: &Connection,
    key: &str,
    bucket: i64,
) -> Result<BucketCounts, SqliteError> {
    let previous = bucket.checked_sub(1);
    let mut select = conn.prepare(
        "SELECT bucket, count FROM windows WHERE key = ?1 AND (bucket = ?2 OR bucket = ?3)",
    )?;
    let rows = select.query_map(params![key, bucket, previous], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
    })?;
    let mut counts = BucketCounts::default();
    for row in rows {
        let (at, count) = row?;
        let count = count.max(0).unsigned_abs();
        if at == bucket {
            counts.current = count;
        } else {
            counts.previous = count;
        }
    }
    Ok(counts)
}

/// Adds `cost` to `bucket` of `key` if the result stays at most `max_current` (and fits the
/// stored `i64`), dropping the key's buckets older than the previous one; whether it added.
pub(crate) fn try_add(
    conn: &mut Connection,
    key: &str,
    bucket: i64,
    cost: u64,
    max_current: u64,
) -> Result<bool, SqliteError> {
    let tx = immediate(conn)?;
    if let Some(previous) = bucket.checked_sub(1) {
        tx.execute(
            "DELETE FROM windows WHERE key = ?1 AND bucket < ?2",
            params![key, previous],
        )?;
    }
    let current = count(&tx, key, bucket)?;
    let added = current
        .checked_add(cost)
        .filter(|added| *added <= max_current)
        .and_then(|added| i64::try_from(added).ok());
    let Some(added) = added else {
        tx.commit()?;
        return Ok(false);
    };
    tx.execute(
        "INSERT INTO windows (key, bucket, count) VALUES (?1, ?2, ?3)
         ON CONFLICT (key, bucket) DO UPDATE SET count = excluded.count",
        params![key, bucket, added],
    )?;
    tx.commit()?;
    Ok(true)
}

/// Takes `cost` back from `bucket` of `key`, saturating at 0.
pub(crate) fn release(
    conn: &Connection,
    key: &str,
    bucket: i64,
    cost: u64,
) -> Result<(), SqliteError> {
    let cost = i64::try_from(cost).unwrap_or(i64::MAX);
    conn.execute(
        "UPDATE windows SET count = max(count - ?3, 0) WHERE key = ?1 AND bucket = ?2",
        params![key, bucket, cost],
    )?;
    Ok(())
}

/// Maps a backend failure of `operation` on `key`.
fn store_error(operation: &'static str, key: &str) -> impl FnOnce(SqliteError) -> RateLimitError {
    let key = key.to_owned();
    move |error| RateLimitError::Store {
        operation,
        key,
        source: Box::new(error),
    }
}

impl WindowStore for SqliteStore {
    async fn counts(&self, key: &str, bucket: i64) -> Result<BucketCounts, RateLimitError> {
        let owned = key.to_owned();
        self.db
            .run(move |conn| counts(conn, &owned, bucket))
            .await
            .map_err(store_error("read counts", key))
    }

    async fn try_add(
        &self,
        key: &str,
        bucket: i64,
        cost: u64,
        max_current: u64,
    ) -> Result<bool, RateLimitError> {
        let owned = key.to_owned();
        self.db
            .run(move |conn| try_add(conn, &owned, bucket, cost, max_current))
            .await
            .map_err(store_error("add", key))
    }

    async fn release(&self, key: &str, bucket: i64, cost: u64) -> Result<(), RateLimitError> {
        let owned = key.to_owned();
        self.db
            .run(move |conn| release(conn, &owned, bucket, cost))
            .await
            .map_err(store_error("release", key))
    }
}
