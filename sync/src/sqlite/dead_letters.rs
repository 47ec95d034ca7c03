//! The dead-letter queue of [`SqliteStore`]; each letter's attempts are kept as JSON text.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::SqliteStore;
use super::db::{SqliteError, from_nanos, to_nanos};
use super::ledger::backend;
use crate::store::{Attempt, DeadLetter, DeadLetters, StoreError};

/// An [`Attempt`] as stored in the `attempts` JSON array.
#[derive(Debug, Serialize, Deserialize)]
struct StoredAttempt {
    /// When it was made, in nanoseconds since the Unix epoch.
    at: i64,
    /// What went wrong.
    error: String,
}

/// The columns every query selects, in [`from_row`]'s order.
const COLUMNS: &str = "event_id, event_type, payload, reason, attempts, dead_lettered_at";

/// A stored letter, before its JSON and times are decoded.
type RawLetter = (String, String, Vec<u8>, String, String, i64);

/// Reads a row selected with [`COLUMNS`].
fn from_row(row: &Row<'_>) -> rusqlite::Result<RawLetter> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

/// Decodes a stored letter.
fn decode(raw: RawLetter) -> Result<DeadLetter, SqliteError> {
    let (event_id, event_type, payload, reason, attempts, dead_lettered_at) = raw;
    let stored: Vec<StoredAttempt> =
        serde_json::from_str(&attempts).map_err(|error| SqliteError::Corrupt {
            what: format!("attempts of dead letter {event_id}"),
            detail: error.to_string(),
        })?;
    let attempts = stored
        .into_iter()
        .map(|attempt| {
            Ok(Attempt {
                at: from_nanos(attempt.at, || format!("attempt time of {event_id}"))?,
                error: attempt.error,
            })
        })
        .collect::<Result<Vec<_>, SqliteError>>()?;
    let dead_lettered_at = from_nanos(dead_lettered_at, || {
        format!("dead-letter time of {event_id}")
    })?;
    Ok(DeadLetter {
        event_id,
        event_type,
        payload,
        reason,
        attempts,
        dead_lettered_at,
    })
}

/// Stores (or replaces) `letter`.
pub(crate) fn put(conn: &Connection, letter: &DeadLetter) -> Result<(), SqliteError> {
    let attempts = letter
        .attempts
        .iter()
        .map(|attempt| {
            Ok(StoredAttempt {
                at: to_nanos(attempt.at)?,
                error: attempt.error.clone(),
            })
        })
        .collect::<Result<Vec<_>, SqliteError>>()?;
    let attempts = serde_json::to_string(&attempts).map_err(|error| SqliteError::Corrupt {
        what: format!("attempts of dead letter {}", letter.event_id),
        detail: error.to_string(),
    })?;
    conn.execute(
        "INSERT OR REPLACE INTO dead_letters
             (event_id, event_type, payload, reason, attempts, dead_lettered_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            letter.event_id,
            letter.event_type,
            letter.payload,
            letter.reason,
            attempts,
            to_nanos(letter.dead_lettered_at)?,
        ],
    )?;
    Ok(())
}

/// Up to `limit` letters ordered by dead-letter time then event id, after the letter `after`.
///
/// An `after` that is no longer stored (removed since the previous page) gives an empty page.
pub(crate) fn list(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<DeadLetter>, SqliteError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let raw = match after {
        None => {
            let mut select = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM dead_letters
                 ORDER BY dead_lettered_at, event_id LIMIT ?1"
            ))?;
            select
                .query_map(params![limit], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        }
        Some(after) => {
            let mut select = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM dead_letters
                 WHERE (dead_lettered_at, event_id) >
                       (SELECT dead_lettered_at, event_id FROM dead_letters WHERE event_id = ?1)
                 ORDER BY dead_lettered_at, event_id LIMIT ?2"
            ))?;
            select
                .query_map(params![after, limit], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        }
    };
    raw.into_iter().map(decode).collect()
}

/// The letter of `event_id`, if any.
pub(crate) fn get(conn: &Connection, event_id: &str) -> Result<Option<DeadLetter>, SqliteError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM dead_letters WHERE event_id = ?1"),
        params![event_id],
        from_row,
    )
    .optional()?
    .map(decode)
    .transpose()
}

/// Removes the letter of `event_id`; whether there was one.
pub(crate) fn remove(conn: &Connection, event_id: &str) -> Result<bool, SqliteError> {
    Ok(conn.execute(
        "DELETE FROM dead_letters WHERE event_id = ?1",
        params![event_id],
    )? == 1)
}

impl DeadLetters for SqliteStore {
    async fn put(&self, letter: &DeadLetter) -> Result<(), StoreError> {
        let owned = letter.clone();
        self.db
            .run(move |conn| put(conn, &owned))
            .await
            .map_err(backend("put dead letter", &letter.event_id))
    }

    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let owned = after.map(str::to_owned);
        self.db
            .run(move |conn| list(conn, owned.as_deref(), limit))
            .await
            .map_err(backend("list dead letters", after.unwrap_or("(start)")))
    }

    async fn get(&self, event_id: &str) -> Result<Option<DeadLetter>, StoreError> {
        let owned = event_id.to_owned();
        self.db
            .run(move |conn| get(conn, &owned))
            .await
            .map_err(backend("get dead letter", event_id))
    }

    async fn remove(&self, event_id: &str) -> Result<bool, StoreError> {
        let owned = event_id.to_owned();
        self.db
            .run(move |conn| remove(conn, &owned))
            .await
            .map_err(backend("remove dead letter", event_id))
    }
}
