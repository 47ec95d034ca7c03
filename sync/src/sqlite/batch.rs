//! Group commit of pushes: one writer thread per [`super::SqliteQueue`] takes every push
//! waiting at the moment and inserts them in one transaction, so many concurrent receivers
//! pay for one synchronous commit (one fsync) between them instead of one each. Every push
//! still returns only once its own row is committed.

use std::fmt;
use std::path::Path;
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::db::{SqliteError, connect};
use super::queue::{prepare_push, push, push_with};
use crate::queue::Envelope;

/// The most pushes committed in one transaction.
const MAX_BATCH: usize = 1024;

/// One push waiting for the writer.
struct Job {
    /// The event.
    envelope: Envelope,
    /// Where its result goes.
    done: oneshot::Sender<Result<(), SqliteError>>,
}

/// The sending side of the writer thread; the thread ends once every clone is dropped.
pub(crate) struct PushWriter {
    /// The writer's queue of jobs.
    jobs: mpsc::Sender<Job>,
}

impl fmt::Debug for PushWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushWriter").finish_non_exhaustive()
    }
}

impl PushWriter {
    /// Starts the writer thread on its own connection to `path`.
    pub fn start(path: &Path) -> Result<PushWriter, SqliteError> {
        let conn = connect(path)?;
        let (jobs, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-queue-push".to_owned())
            .spawn(move || write(conn, &receiver))
            .map_err(|source| SqliteError::Thread {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(PushWriter { jobs })
    }

    /// Pushes `envelope` and waits until it is committed.
    pub async fn push(&self, envelope: Envelope) -> Result<(), SqliteError> {
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Job { envelope, done })
            .map_err(|_| SqliteError::Task("the push writer has stopped".to_owned()))?;
        result.await.map_err(|_| {
            SqliteError::Task("the push writer stopped before committing".to_owned())
        })?
    }
}

/// The writer thread: commits whatever is waiting, batch after batch, until every sender is
/// gone.
fn write(mut conn: Connection, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if insert_all(&mut conn, &batch).is_ok() {
            for job in batch {
                // The pusher may have given up waiting; the row is stored all the same.
                let _ = job.done.send(Ok(()));
            }
        } else {
            // One bad row must not fail the others: each on its own.
            for job in batch {
                let result = push(&conn, &job.envelope);
                let _ = job.done.send(result);
            }
        }
    }
}

/// Inserts every job's event in one transaction.
fn insert_all(conn: &mut Connection, batch: &[Job]) -> Result<(), SqliteError> {
    let tx = super::db::immediate(conn)?;
    {
        let mut insert = prepare_push(&tx)?;
        for job in batch {
            push_with(&mut insert, &job.envelope)?;
        }
    }
    tx.commit()?;
    Ok(())
}
