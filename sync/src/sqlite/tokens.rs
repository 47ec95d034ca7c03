//! The Salesforce token cache of [`SqliteStore`].
//!
//! Tokens are stored as they are: the database file is this deployment's own, and must be
//! protected like a secret (owner-only permissions, not copied into backups others read).

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::db::{SqliteError, from_nanos, to_nanos};
use super::ledger::backend;
use crate::store::{CachedToken, StoreError, TokenCache};

/// The token cached under `key`, if any.
pub(crate) fn token(conn: &Connection, key: &str) -> Result<Option<CachedToken>, SqliteError> {
    let row: Option<(String, String, i64)> = conn
        .query_row(
            "SELECT access_token, instance_url, expires_at FROM tokens WHERE key = ?1",
            params![key],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    row.map(|(access_token, instance_url, expires_at)| {
        Ok(CachedToken {
            access_token,
            instance_url,
            expires_at: from_nanos(expires_at, || format!("token expiry of {key}"))?,
        })
    })
    .transpose()
}

/// Caches `token` under `key`, replacing what was there.
pub(crate) fn put_token(
    conn: &Connection,
    key: &str,
    token: &CachedToken,
) -> Result<(), SqliteError> {
    conn.execute(
        "INSERT INTO tokens (key, access_token, instance_url, expires_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET access_token = excluded.access_token,
             instance_url = excluded.instance_url, expires_at = excluded.expires_at",
        params![
            key,
            token.access_token,
            token.instance_url,
            to_nanos(token.expires_at)?
        ],
    )?;
    Ok(())
}

impl TokenCache for SqliteStore {
    async fn token(&self, key: &str) -> Result<Option<CachedToken>, StoreError> {
        let owned = key.to_owned();
        self.db
            .run(move |conn| token(conn, &owned))
            .await
            .map_err(backend("token", key))
    }

    async fn put_token(&self, key: &str, token: &CachedToken) -> Result<(), StoreError> {
        let (owned, token) = (key.to_owned(), token.clone());
        self.db
            .run(move |conn| put_token(conn, &owned, &token))
            .await
            .map_err(backend("put_token", key))
    }
}
