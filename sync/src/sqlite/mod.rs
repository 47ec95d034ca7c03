//! The embedded backend: one SQLite file (WAL) holding the durable queue ([`SqliteQueue`]) and
//! everything the workers share ([`SqliteStore`]: ledger, watermarks, dead letters, token
//! cache and rate-limit windows).
//!
//! Both open the same file if given the same path, from one process or several. Every
//! operation runs on tokio's blocking pool with a connection from a small pool; commits are
//! `synchronous = FULL` (on disk before they return); every read-modify-write is one
//! `BEGIN IMMEDIATE` transaction or one conditional statement, and a busy timeout makes
//! concurrent writers wait for each other instead of failing. The schema is versioned with
//! `PRAGMA user_version` and migrated on open.
//!
//! - `db`: the file, schema, connection pool and clock
//! - `queue`: [`SqliteQueue`]; `batch`: its group commit of pushes
//! - `ledger`, `watermarks`, `dead_letters`, `tokens`, `windows`: [`SqliteStore`]'s traits

mod batch;
mod cursors;
mod db;
mod dead_letters;
mod ledger;
mod queue;
mod tokens;
mod watermarks;
mod windows;

use std::path::Path;

pub use db::{Clock, SCHEMA_VERSION, SqliteError};
pub use queue::SqliteQueue;

use db::Db;

/// The workers' shared state in a SQLite file: implements [`crate::store::Store`].
///
/// The file holds the cached Salesforce access token as it is: protect it like a secret
/// (owner-only permissions).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The database.
    db: Db,
}

impl SqliteStore {
    /// Opens the store in the database at `path`, creating the file and schema if needed. The
    /// file may be shared with a [`SqliteQueue`] and with other processes.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, SqliteError> {
        Ok(SqliteStore {
            db: Db::open(path.as_ref())?,
        })
    }

    /// Reads now from `clock` instead of the system clock (for tests of claim expiry).
    pub fn with_clock(self, clock: Clock) -> SqliteStore {
        SqliteStore {
            db: self.db.with_clock(clock),
        }
    }
}
