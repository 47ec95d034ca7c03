//! [`SqliteQueue`]: the durable queue in a SQLite table.
//!
//! A row is one waiting event. Pulling it sets a fresh random lease token and hides it until
//! the lease ends (`visible_at`); a receipt is `"{row id}:{token}"`, and extend, ack and
//! retry act only while the row still carries that token. A worker that dies leaves a row
//! whose `visible_at` passes, and the next pull hands it out again with a new token.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, Row, Statement, params};
use time::OffsetDateTime;

use super::batch::PushWriter;
use super::db::{Clock, Db, SqliteError, duration_nanos, from_nanos, immediate, to_nanos};
use crate::queue::{Delivery, Envelope, Priority, Queue, QueueError, QueueStats, Receipt};

/// The durable queue in a SQLite file (WAL, synchronous commits).
#[derive(Debug, Clone)]
pub struct SqliteQueue {
    /// The database.
    db: Db,
    /// Commits pushes in groups.
    writer: Arc<PushWriter>,
}

impl SqliteQueue {
    /// Opens the queue in the database at `path`, creating the file and schema if needed. The
    /// file may be shared with a [`super::SqliteStore`] and with other processes.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteQueue, SqliteError> {
        let db = Db::open(path.as_ref())?;
        let writer = Arc::new(PushWriter::start(db.path())?);
        Ok(SqliteQueue { db, writer })
    }

    /// Reads now from `clock` instead of the system clock (for tests of lease expiry).
    pub fn with_clock(self, clock: Clock) -> SqliteQueue {
        SqliteQueue {
            db: self.db.with_clock(clock),
            writer: self.writer,
        }
    }
}

/// The stored rank of a priority: lower is pulled first.
fn rank(priority: Priority) -> i64 {
    match priority {
        Priority::High => 0,
        Priority::Normal => 1,
        Priority::Low => 2,
    }
}

/// The priority of a stored rank.
fn priority_of(rank: i64, event_id: &str) -> Result<Priority, SqliteError> {
    match rank {
        0 => Ok(Priority::High),
        1 => Ok(Priority::Normal),
        2 => Ok(Priority::Low),
        other => Err(SqliteError::Corrupt {
            what: format!("queue priority of {event_id}"),
            detail: format!("unknown rank {other}"),
        }),
    }
}

/// A receipt's row id and lease token, or `None` if it is not one of ours.
fn parse_receipt(receipt: &Receipt) -> Option<(i64, &str)> {
    let (id, token) = receipt.0.split_once(':')?;
    Some((id.parse().ok()?, token))
}

/// A fresh lease token: 128 random bits in hex.
fn lease_token() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// Maps a backend failure of `operation`.
fn backend(operation: &'static str) -> impl FnOnce(SqliteError) -> QueueError {
    move |error| QueueError::Backend {
        operation,
        detail: error.to_string(),
    }
}

/// The error for a receipt whose lease is gone.
fn lease_lost(operation: &'static str, receipt: &Receipt) -> QueueError {
    QueueError::LeaseLost {
        operation,
        receipt: receipt.clone(),
    }
}

/// Inserts an envelope unless the same event is already waiting (parameters in
/// [`push_with`]'s order).
const PUSH_SQL: &str = "INSERT OR IGNORE INTO queue
     (event_id, event_type, object_id, created, priority, payload, received_at, visible_at)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";

/// Inserts `envelope` with `insert`, a statement prepared from [`PUSH_SQL`].
pub(crate) fn push_with(
    insert: &mut Statement<'_>,
    envelope: &Envelope,
) -> Result<(), SqliteError> {
    let received_at = to_nanos(envelope.received_at)?;
    insert.execute(params![
        envelope.event_id,
        envelope.event_type,
        envelope.object_id,
        envelope.created,
        rank(envelope.priority),
        envelope.payload,
        received_at,
    ])?;
    Ok(())
}

/// Inserts `envelope` unless the same event is already waiting.
pub(crate) fn push(conn: &Connection, envelope: &Envelope) -> Result<(), SqliteError> {
    push_with(&mut conn.prepare(PUSH_SQL)?, envelope)
}

/// Prepares the statement [`push_with`] runs.
pub(crate) fn prepare_push(conn: &Connection) -> Result<Statement<'_>, SqliteError> {
    Ok(conn.prepare(PUSH_SQL)?)
}

/// A row as selected by [`pull`], before it is leased.
struct Ready {
    /// The row id.
    id: i64,
    /// The event, with its rank still to decode.
    envelope: (String, String, Option<String>, i64, i64, Vec<u8>, i64),
    /// Deliveries before this one.
    deliveries: i64,
}

impl Ready {
    /// Reads a row of the pull query.
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Ready> {
        Ok(Ready {
            id: row.get(0)?,
            envelope: (
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
                row.get(7)?,
            ),
            deliveries: row.get(8)?,
        })
    }
}

/// Leases up to `max` ready rows at `now` until `now + lease`.
pub(crate) fn pull(
    conn: &mut Connection,
    max: usize,
    lease: Duration,
    now: OffsetDateTime,
) -> Result<Vec<Delivery>, SqliteError> {
    let now = to_nanos(now)?;
    let visible_at = now.saturating_add(duration_nanos(lease));
    let limit = i64::try_from(max).unwrap_or(i64::MAX);
    let tx = immediate(conn)?;
    let ready = {
        let mut select = tx.prepare(
            "SELECT id, event_id, event_type, object_id, created, priority, payload,
                    received_at, deliveries
             FROM queue
             WHERE visible_at <= ?1
             ORDER BY priority, received_at, id
             LIMIT ?2",
        )?;
        select
            .query_map(params![now, limit], Ready::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut deliveries = Vec::with_capacity(ready.len());
    {
        let mut lease_row = tx.prepare(
            "UPDATE queue SET lease = ?2, visible_at = ?3, deliveries = deliveries + 1
             WHERE id = ?1",
        )?;
        for row in ready {
            let token = lease_token();
            lease_row.execute(params![row.id, token, visible_at])?;
            let (event_id, event_type, object_id, created, rank, payload, received_at) =
                row.envelope;
            let priority = priority_of(rank, &event_id)?;
            let received_at = from_nanos(received_at, || format!("received_at of {event_id}"))?;
            deliveries.push(Delivery {
                receipt: Receipt(format!("{}:{token}", row.id)),
                deliveries: u32::try_from(row.deliveries.saturating_add(1)).unwrap_or(u32::MAX),
                envelope: Envelope {
                    event_id,
                    event_type,
                    object_id,
                    created,
                    priority,
                    payload,
                    received_at,
                },
            });
        }
    }
    tx.commit()?;
    Ok(deliveries)
}

/// Runs `sql` (parameters: row id, token, then `value`) on the row of `receipt`; whether the
/// row still carried the token.
fn on_lease(
    conn: &Connection,
    sql: &str,
    receipt: (i64, &str),
    value: Option<i64>,
) -> Result<bool, SqliteError> {
    let (id, token) = receipt;
    let changed = match value {
        Some(value) => conn.execute(sql, params![id, token, value])?,
        None => conn.execute(sql, params![id, token])?,
    };
    Ok(changed == 1)
}

/// Counts depth, in-flight rows and the oldest waiting row at `now`.
pub(crate) fn stats(conn: &Connection, now: OffsetDateTime) -> Result<QueueStats, SqliteError> {
    let now_nanos = to_nanos(now)?;
    let (depth, in_flight, oldest): (i64, i64, Option<i64>) = conn.query_row(
        "SELECT count(*),
                count(*) FILTER (WHERE lease IS NOT NULL AND visible_at > ?1),
                min(received_at)
         FROM queue",
        params![now_nanos],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let oldest_age = oldest.map(|received_at| {
        let age = now_nanos.saturating_sub(received_at).max(0);
        Duration::from_nanos(age.unsigned_abs())
    });
    Ok(QueueStats {
        depth: depth.unsigned_abs(),
        in_flight: in_flight.unsigned_abs(),
        oldest_age,
    })
}

impl Queue for SqliteQueue {
    async fn push(&self, envelope: &Envelope) -> Result<(), QueueError> {
        self.writer
            .push(envelope.clone())
            .await
            .map_err(backend("push"))
    }

    async fn pull(&self, max: usize, lease: Duration) -> Result<Vec<Delivery>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = self.db.now();
        self.db
            .run(move |conn| pull(conn, max, lease, now))
            .await
            .map_err(backend("pull"))
    }

    async fn extend(&self, receipt: &Receipt, lease: Duration) -> Result<(), QueueError> {
        let visible_at = self.db.now().saturating_add(time_duration(lease));
        let visible_at = to_nanos(visible_at).map_err(backend("extend"))?;
        self.on_lease(
            "extend",
            receipt,
            "UPDATE queue SET visible_at = ?3 WHERE id = ?1 AND lease = ?2",
            Some(visible_at),
        )
        .await
    }

    async fn ack(&self, receipt: &Receipt) -> Result<(), QueueError> {
        self.on_lease(
            "ack",
            receipt,
            "DELETE FROM queue WHERE id = ?1 AND lease = ?2",
            None,
        )
        .await
    }

    async fn ack_all(
        &self,
        receipts: &[Receipt],
    ) -> Result<Vec<Result<(), QueueError>>, QueueError> {
        let parsed: Vec<Option<(i64, String)>> = receipts
            .iter()
            .map(|receipt| parse_receipt(receipt).map(|(id, token)| (id, token.to_owned())))
            .collect();
        let held = self
            .db
            .run(move |conn| {
                let tx = immediate(conn)?;
                let held = parsed
                    .iter()
                    .map(|receipt| match receipt {
                        Some((id, token)) => on_lease(
                            &tx,
                            "DELETE FROM queue WHERE id = ?1 AND lease = ?2",
                            (*id, token),
                            None,
                        ),
                        None => Ok(false),
                    })
                    .collect::<Result<Vec<bool>, SqliteError>>()?;
                tx.commit()?;
                Ok(held)
            })
            .await
            .map_err(backend("ack"))?;
        Ok(receipts
            .iter()
            .zip(held)
            .map(|(receipt, held)| {
                if held {
                    Ok(())
                } else {
                    Err(lease_lost("ack", receipt))
                }
            })
            .collect())
    }

    async fn retry_at(&self, receipt: &Receipt, at: OffsetDateTime) -> Result<(), QueueError> {
        let at = to_nanos(at).map_err(backend("retry_at"))?;
        self.on_lease(
            "retry_at",
            receipt,
            "UPDATE queue SET visible_at = ?3, lease = NULL WHERE id = ?1 AND lease = ?2",
            Some(at),
        )
        .await
    }

    async fn stats(&self) -> Result<QueueStats, QueueError> {
        let now = self.db.now();
        self.db
            .run(move |conn| stats(conn, now))
            .await
            .map_err(backend("stats"))
    }
}

impl SqliteQueue {
    /// Runs `sql` on the row of `receipt` if its lease is still held; `LeaseLost` otherwise.
    async fn on_lease(
        &self,
        operation: &'static str,
        receipt: &Receipt,
        sql: &'static str,
        value: Option<i64>,
    ) -> Result<(), QueueError> {
        let Some((id, token)) = parse_receipt(receipt) else {
            return Err(lease_lost(operation, receipt));
        };
        let token = token.to_owned();
        let held = self
            .db
            .run(move |conn| on_lease(conn, sql, (id, &token), value))
            .await
            .map_err(backend(operation))?;
        if held {
            Ok(())
        } else {
            Err(lease_lost(operation, receipt))
        }
    }
}

/// `duration` as a `time` duration, saturating.
fn time_duration(duration: Duration) -> time::Duration {
    time::Duration::try_from(duration).unwrap_or(time::Duration::MAX)
}
