//! The event ledger of [`SqliteStore`]: one row per event, holding either its claim (worker
//! and lease end) or its outcome.

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::SqliteStore;
use super::db::{SqliteError, from_nanos, immediate, to_nanos};
use crate::store::{Claim, Ledger, Outcome, StoreError};

/// The outcome stored under `name`.
fn outcome_of(name: &str, event_id: &str) -> Result<Outcome, SqliteError> {
    [
        Outcome::Processed,
        Outcome::SkippedStale,
        Outcome::Ignored,
        Outcome::DeadLettered,
    ]
    .into_iter()
    .find(|outcome| outcome.as_str() == name)
    .ok_or_else(|| SqliteError::Corrupt {
        what: format!("ledger outcome of {event_id}"),
        detail: format!("unknown outcome {name:?}"),
    })
}

/// An event's ledger row: holder, lease end, outcome.
type LedgerRow = (Option<String>, Option<i64>, Option<String>);

/// Reads the ledger row of `event_id`.
fn row(conn: &Connection, event_id: &str) -> Result<Option<LedgerRow>, SqliteError> {
    Ok(conn
        .query_row(
            "SELECT worker, until, outcome FROM ledger WHERE event_id = ?1",
            params![event_id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?)
}

/// Claims `event_id` for `worker` until `until`, at `now`, in one transaction.
pub(crate) fn claim(
    conn: &mut Connection,
    event_id: &str,
    worker: &str,
    until: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Claim, SqliteError> {
    let tx = immediate(conn)?;
    let claim = claim_in(&tx, event_id, worker, until, now)?;
    tx.commit()?;
    Ok(claim)
}

/// [`claim`] of several events in one transaction.
pub(crate) fn claim_all(
    conn: &mut Connection,
    event_ids: &[String],
    worker: &str,
    until: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Vec<Claim>, SqliteError> {
    let tx = immediate(conn)?;
    let claims = event_ids
        .iter()
        .map(|event_id| claim_in(&tx, event_id, worker, until, now))
        .collect::<Result<_, _>>()?;
    tx.commit()?;
    Ok(claims)
}

/// [`claim`] inside the caller's transaction.
fn claim_in(
    tx: &Connection,
    event_id: &str,
    worker: &str,
    until: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Claim, SqliteError> {
    let until_nanos = to_nanos(until)?;
    let now_nanos = to_nanos(now)?;
    match row(tx, event_id)? {
        // A dead-lettered event is claimable again: that is how a replay from the dead-letter
        // queue gets processed.
        Some((_, _, Some(outcome))) if outcome != Outcome::DeadLettered.as_str() => {
            return Ok(Claim::Done(outcome_of(&outcome, event_id)?));
        }
        Some((Some(holder), Some(held_until), None))
            if holder != worker && held_until > now_nanos =>
        {
            let until = from_nanos(held_until, || format!("ledger claim of {event_id}"))?;
            return Ok(Claim::Held {
                worker: holder,
                until,
            });
        }
        _ => {}
    }
    tx.execute(
        "INSERT INTO ledger (event_id, worker, until) VALUES (?1, ?2, ?3)
         ON CONFLICT (event_id) DO UPDATE SET worker = excluded.worker, until = excluded.until,
             outcome = NULL, completed_at = NULL",
        params![event_id, worker, until_nanos],
    )?;
    Ok(Claim::Granted)
}

/// Records `outcome` for `event_id` at `now` if `worker` holds it; whether it did.
///
/// A worker whose lease ran out still holds the event until another worker takes it over.
/// Completing twice by the same worker keeps the first outcome.
pub(crate) fn complete(
    conn: &mut Connection,
    event_id: &str,
    worker: &str,
    outcome: Outcome,
    now: OffsetDateTime,
) -> Result<bool, SqliteError> {
    let tx = immediate(conn)?;
    let held = complete_in(&tx, event_id, worker, outcome, now)?;
    tx.commit()?;
    Ok(held)
}

/// [`complete`] of several events in one transaction; whether this worker held each.
pub(crate) fn complete_all(
    conn: &mut Connection,
    done: &[(String, Outcome)],
    worker: &str,
    now: OffsetDateTime,
) -> Result<Vec<bool>, SqliteError> {
    let tx = immediate(conn)?;
    let held = done
        .iter()
        .map(|(event_id, outcome)| complete_in(&tx, event_id, worker, *outcome, now))
        .collect::<Result<_, _>>()?;
    tx.commit()?;
    Ok(held)
}

/// [`complete`] inside the caller's transaction.
fn complete_in(
    tx: &Connection,
    event_id: &str,
    worker: &str,
    outcome: Outcome,
    now: OffsetDateTime,
) -> Result<bool, SqliteError> {
    let now = to_nanos(now)?;
    Ok(match row(tx, event_id)? {
        Some((Some(holder), _, done)) if holder == worker => {
            if done.is_none() {
                tx.execute(
                    "UPDATE ledger SET outcome = ?2, completed_at = ?3, until = NULL
                     WHERE event_id = ?1",
                    params![event_id, outcome.as_str(), now],
                )?;
            }
            true
        }
        _ => false,
    })
}

/// Clears `worker`'s claim of `event_id`, if it holds an uncompleted one.
pub(crate) fn release(conn: &Connection, event_id: &str, worker: &str) -> Result<(), SqliteError> {
    conn.execute(
        "UPDATE ledger SET worker = NULL, until = NULL
         WHERE event_id = ?1 AND worker = ?2 AND outcome IS NULL",
        params![event_id, worker],
    )?;
    Ok(())
}

/// Maps a backend failure of `operation` on `key`.
pub(crate) fn backend(
    operation: &'static str,
    key: &str,
) -> impl FnOnce(SqliteError) -> StoreError {
    let key = key.to_owned();
    move |error| StoreError::Backend {
        operation,
        key,
        detail: error.to_string(),
    }
}

impl Ledger for SqliteStore {
    async fn claim(
        &self,
        event_id: &str,
        worker: &str,
        until: OffsetDateTime,
    ) -> Result<Claim, StoreError> {
        let now = self.db.now();
        let (event, holder) = (event_id.to_owned(), worker.to_owned());
        self.db
            .run(move |conn| claim(conn, &event, &holder, until, now))
            .await
            .map_err(backend("claim", event_id))
    }

    async fn complete(
        &self,
        event_id: &str,
        worker: &str,
        outcome: Outcome,
    ) -> Result<(), StoreError> {
        let now = self.db.now();
        let (event, holder) = (event_id.to_owned(), worker.to_owned());
        let held = self
            .db
            .run(move |conn| complete(conn, &event, &holder, outcome, now))
            .await
            .map_err(backend("complete", event_id))?;
        if held {
            Ok(())
        } else {
            Err(StoreError::NotHeld {
                operation: "complete",
                event_id: event_id.to_owned(),
                worker: worker.to_owned(),
            })
        }
    }

    async fn release(&self, event_id: &str, worker: &str) -> Result<(), StoreError> {
        let (event, holder) = (event_id.to_owned(), worker.to_owned());
        self.db
            .run(move |conn| release(conn, &event, &holder))
            .await
            .map_err(backend("release", event_id))
    }

    async fn claim_all(
        &self,
        event_ids: &[String],
        worker: &str,
        until: OffsetDateTime,
    ) -> Result<Vec<Claim>, StoreError> {
        let now = self.db.now();
        let (events, holder) = (event_ids.to_vec(), worker.to_owned());
        let first = event_ids.first().map(String::as_str).unwrap_or("-");
        self.db
            .run(move |conn| claim_all(conn, &events, &holder, until, now))
            .await
            .map_err(backend("claim", first))
    }

    async fn complete_all(
        &self,
        done: &[(String, Outcome)],
        worker: &str,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let now = self.db.now();
        let (events, holder) = (done.to_vec(), worker.to_owned());
        let first = done.first().map_or("-", |(id, _)| id.as_str());
        let held = self
            .db
            .run(move |conn| complete_all(conn, &events, &holder, now))
            .await
            .map_err(backend("complete", first))?;
        Ok(done
            .iter()
            .zip(held)
            .map(|((event_id, _), held)| {
                if held {
                    Ok(())
                } else {
                    Err(StoreError::NotHeld {
                        operation: "complete",
                        event_id: event_id.clone(),
                        worker: worker.to_owned(),
                    })
                }
            })
            .collect())
    }
}
