//! The database file: opening it, its schema and migrations, a small pool of connections, and
//! running blocking SQLite work off the async runtime.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use time::OffsetDateTime;

/// What the backend takes as now; replaced in tests to expire leases without sleeping.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// How long a statement waits for another connection's (or process's) write lock before
/// failing with `database is locked`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many idle connections are kept for reuse; more are opened under load and closed after.
const MAX_IDLE: usize = 8;

/// The schema, one entry per version: entry `n` takes `PRAGMA user_version` from `n` to
/// `n + 1`. Never edit a released entry; append a new one.
const MIGRATIONS: &[&str] = &[
    // Version 1. Times are nanoseconds since the Unix epoch (UTC).
    "
    CREATE TABLE queue (
        id          INTEGER PRIMARY KEY,
        event_id    TEXT    NOT NULL UNIQUE,
        event_type  TEXT    NOT NULL,
        object_id   TEXT,
        created     INTEGER NOT NULL,
        priority    INTEGER NOT NULL CHECK (priority IN (0, 1, 2)),
        payload     BLOB    NOT NULL,
        received_at INTEGER NOT NULL,
        visible_at  INTEGER NOT NULL,
        lease       TEXT,
        deliveries  INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX queue_ready ON queue (priority, received_at, id);
    CREATE INDEX queue_visible ON queue (visible_at);
    CREATE INDEX queue_age ON queue (received_at);

    CREATE TABLE ledger (
        event_id     TEXT PRIMARY KEY,
        worker       TEXT,
        until        INTEGER,
        outcome      TEXT,
        completed_at INTEGER
    ) WITHOUT ROWID;

    CREATE TABLE watermarks (
        object_id TEXT    PRIMARY KEY,
        created   INTEGER NOT NULL,
        event_id  TEXT    NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE dead_letters (
        event_id         TEXT    PRIMARY KEY,
        event_type       TEXT    NOT NULL,
        payload          BLOB    NOT NULL,
        reason           TEXT    NOT NULL,
        attempts         TEXT    NOT NULL,
        dead_lettered_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX dead_letters_order ON dead_letters (dead_lettered_at, event_id);

    CREATE TABLE tokens (
        key          TEXT    PRIMARY KEY,
        access_token TEXT    NOT NULL,
        instance_url TEXT    NOT NULL,
        expires_at   INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE windows (
        key    TEXT    NOT NULL,
        bucket INTEGER NOT NULL,
        count  INTEGER NOT NULL CHECK (count >= 0),
        PRIMARY KEY (key, bucket)
    ) WITHOUT ROWID;
    ",
    // Version 2: the Salesforce → Stripe pollers' cursors, and a digest of what each record
    // last sent to Stripe (no value itself).
    "
    CREATE TABLE outbound_cursors (
        name      TEXT    PRIMARY KEY,
        modstamp  INTEGER NOT NULL,
        record_id TEXT    NOT NULL,
        saved_at  INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE outbound_synced (
        key       TEXT    PRIMARY KEY,
        stripe_id TEXT    NOT NULL,
        digest    TEXT    NOT NULL,
        synced_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    ",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// A failure of the SQLite backend.
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    /// The database file could not be opened or prepared (WAL, pragmas).
    #[error("cannot open SQLite database {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file refused write-ahead logging (an in-memory or read-only database).
    #[error("SQLite database {path} cannot use WAL (journal mode stays {mode})")]
    NotWal {
        /// The file.
        path: PathBuf,
        /// The journal mode it kept.
        mode: String,
    },
    /// Migrating the schema failed.
    #[error("cannot migrate SQLite database {path} to schema version {version}: {source}")]
    Migrate {
        /// The file.
        path: PathBuf,
        /// The version being written.
        version: i64,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer build, whose schema this one does not know.
    #[error(
        "SQLite database {path} has schema version {found}, newer than the {supported} this build knows"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// [`SCHEMA_VERSION`].
        supported: i64,
    },
    /// A statement failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The thread that commits pushes could not be started.
    #[error("cannot start the push writer thread for SQLite database {path}: {source}")]
    Thread {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The blocking task running a statement panicked or was cancelled.
    #[error("SQLite task failed: {0}")]
    Task(String),
    /// An instant lies outside what the backend stores (nanoseconds in an `i64`, 1677–2262).
    #[error("instant {0} is outside the range the SQLite backend stores")]
    TimeOutOfRange(OffsetDateTime),
    /// A stored value cannot be read back.
    #[error("stored {what} is invalid: {detail}")]
    Corrupt {
        /// What was read (`priority of evt_…`, …).
        what: String,
        /// What is wrong with it.
        detail: String,
    },
}

/// Nanoseconds since the Unix epoch, as stored.
pub(crate) fn to_nanos(instant: OffsetDateTime) -> Result<i64, SqliteError> {
    i64::try_from(instant.unix_timestamp_nanos()).map_err(|_| SqliteError::TimeOutOfRange(instant))
}

/// The instant stored as `nanos` (in UTC).
pub(crate) fn from_nanos(
    nanos: i64,
    what: impl FnOnce() -> String,
) -> Result<OffsetDateTime, SqliteError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos)).map_err(|error| {
        SqliteError::Corrupt {
            what: what(),
            detail: error.to_string(),
        }
    })
}

/// `duration` in nanoseconds, saturating at `i64::MAX`.
pub(crate) fn duration_nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

/// Starts a `BEGIN IMMEDIATE` transaction: it takes the write lock up front, so a
/// read-modify-write never fails half-way on a lock another writer took after its read.
pub(crate) fn immediate(conn: &mut Connection) -> Result<Transaction<'_>, SqliteError> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

/// The shared state of a database handle.
struct Inner {
    /// The file.
    path: PathBuf,
    /// Idle connections, reused by the next operation.
    idle: Mutex<Vec<Connection>>,
    /// What now is.
    clock: Clock,
}

/// A handle on one database file: cheap to clone, safe to use from many tasks at once.
#[derive(Clone)]
pub(crate) struct Db {
    /// The pool and clock.
    inner: Arc<Inner>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating if needed) the database at `path`, switches it to WAL and migrates its
    /// schema to [`SCHEMA_VERSION`].
    pub fn open(path: &Path) -> Result<Db, SqliteError> {
        let path = path.to_path_buf();
        let mut conn = connect(&path)?;
        let open_error = |source| SqliteError::Open {
            path: path.clone(),
            source,
        };
        // WAL is a property of the file: set once, every later connection uses it. Switching
        // needs the file to itself, and SQLite answers BUSY at once (without the busy
        // handler) while another process creating the same file holds it: retried until the
        // busy timeout.
        let started = std::time::Instant::now();
        let mode: String = loop {
            match conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)) {
                Ok(mode) => break mode,
                Err(rusqlite::Error::SqliteFailure(error, _))
                    if error.code == rusqlite::ErrorCode::DatabaseBusy
                        && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(error) => return Err(open_error(error)),
            }
        };
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(SqliteError::NotWal { path, mode });
        }
        migrate(&mut conn, &path)?;
        Ok(Db {
            inner: Arc::new(Inner {
                path,
                idle: Mutex::new(vec![conn]),
                clock: Arc::new(OffsetDateTime::now_utc),
            }),
        })
    }

    /// The same database read through `clock`.
    pub fn with_clock(self, clock: Clock) -> Db {
        Db {
            inner: Arc::new(Inner {
                path: self.inner.path.clone(),
                idle: Mutex::new(std::mem::take(
                    &mut *self
                        .inner
                        .idle
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner),
                )),
                clock,
            }),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Now, as the clock tells it.
    pub fn now(&self) -> OffsetDateTime {
        (self.inner.clock)()
    }

    /// Runs `work` on a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(&self, work: F) -> Result<T, SqliteError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, SqliteError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.checkout()?;
            let result = work(&mut conn);
            inner.checkin(conn);
            result
        })
        .await
        .map_err(|error| SqliteError::Task(error.to_string()))?
    }
}

impl Inner {
    /// An idle connection, or a new one.
    fn checkout(&self) -> Result<Connection, SqliteError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => connect(&self.path),
        }
    }

    /// Gives `conn` back for reuse, or closes it when enough are idle.
    fn checkin(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }
}

/// Opens one connection with the settings every operation relies on.
pub(crate) fn connect(path: &Path) -> Result<Connection, SqliteError> {
    let open_error = |source| SqliteError::Open {
        path: path.to_path_buf(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(open_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
    // FULL: a commit is on disk (the WAL fsynced) before it returns, so a pushed event
    // survives a crash of the process or of the machine.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(open_error)?;
    Ok(conn)
}

/// Brings the schema of `conn`'s file to [`SCHEMA_VERSION`], in one transaction (concurrent
/// openers wait for each other; the second finds the work done).
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), SqliteError> {
    let migrate_error = |version, source| SqliteError::Migrate {
        path: path.to_path_buf(),
        version,
        source,
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|source| migrate_error(SCHEMA_VERSION, source))?;
    let found: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|source| migrate_error(SCHEMA_VERSION, source))?;
    if found > SCHEMA_VERSION {
        return Err(SqliteError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= found {
            continue;
        }
        tx.execute_batch(sql)
            .map_err(|source| migrate_error(version, source))?;
        tx.pragma_update(None, "user_version", version)
            .map_err(|source| migrate_error(version, source))?;
    }
    tx.commit()
        .map_err(|source| migrate_error(SCHEMA_VERSION, source))
}
