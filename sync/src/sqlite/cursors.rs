//! The outbound poller's cursors and synced digests in [`SqliteStore`] (tables
//! `outbound_cursors` and `outbound_synced`).

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::db::{from_nanos, to_nanos};
use super::ledger::backend;
use crate::outbound::{Cursor, Cursors, Synced};
use crate::store::StoreError;

impl Cursors for SqliteStore {
    async fn cursor(&self, name: &str) -> Result<Option<Cursor>, StoreError> {
        let owned = name.to_owned();
        self.db
            .run(move |conn| {
                let row: Option<(i64, String)> = conn
                    .query_row(
                        "SELECT modstamp, record_id FROM outbound_cursors WHERE name = ?1",
                        params![owned],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()?;
                row.map(|(nanos, id)| {
                    Ok(Cursor {
                        modstamp: from_nanos(nanos, || format!("modstamp of cursor {owned}"))?,
                        id,
                    })
                })
                .transpose()
            })
            .await
            .map_err(backend("cursor", name))
    }

    async fn save_cursor(&self, name: &str, cursor: &Cursor) -> Result<(), StoreError> {
        let (owned, cursor) = (name.to_owned(), cursor.clone());
        let db = self.db.clone();
        self.db
            .run(move |conn| {
                let modstamp = to_nanos(cursor.modstamp)?;
                let saved_at = to_nanos(db.now())?;
                conn.execute(
                    "INSERT INTO outbound_cursors (name, modstamp, record_id, saved_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (name) DO UPDATE SET modstamp = excluded.modstamp,
                         record_id = excluded.record_id, saved_at = excluded.saved_at",
                    params![owned, modstamp, cursor.id, saved_at],
                )?;
                Ok(())
            })
            .await
            .map_err(backend("save_cursor", name))
    }

    async fn synced(&self, key: &str) -> Result<Option<Synced>, StoreError> {
        let owned = key.to_owned();
        self.db
            .run(move |conn| {
                Ok(conn
                    .query_row(
                        "SELECT stripe_id, digest FROM outbound_synced WHERE key = ?1",
                        params![owned],
                        |row| {
                            Ok(Synced {
                                stripe_id: row.get(0)?,
                                digest: row.get(1)?,
                            })
                        },
                    )
                    .optional()?)
            })
            .await
            .map_err(backend("synced", key))
    }

    async fn record_synced(&self, key: &str, synced: &Synced) -> Result<(), StoreError> {
        let (owned, synced) = (key.to_owned(), synced.clone());
        let db = self.db.clone();
        self.db
            .run(move |conn| {
                let synced_at = to_nanos(db.now())?;
                conn.execute(
                    "INSERT INTO outbound_synced (key, stripe_id, digest, synced_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (key) DO UPDATE SET stripe_id = excluded.stripe_id,
                         digest = excluded.digest, synced_at = excluded.synced_at",
                    params![owned, synced.stripe_id, synced.digest, synced_at],
                )?;
                Ok(())
            })
            .await
            .map_err(backend("record_synced", key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test]
    async fn cursors_and_digests_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync.db");
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.cursor("contacts").await.unwrap(), None);
        assert_eq!(store.synced("contact:003A").await.unwrap(), None);
        let first = Cursor {
            modstamp: datetime!(2026-11-23 10:00:00.125 UTC),
            id: "003A".to_owned(),
        };
        store.save_cursor("contacts", &first).await.unwrap();
        let second = Cursor {
            modstamp: datetime!(2026-11-23 10:00:00.125 UTC),
            id: "003B".to_owned(),
        };
        store.save_cursor("contacts", &second).await.unwrap();
        let synced = Synced {
            stripe_id: "cus_1".to_owned(),
            digest: "ab".repeat(32),
        };
        store.record_synced("contact:003A", &synced).await.unwrap();
        drop(store);

        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.cursor("contacts").await.unwrap(), Some(second));
        assert_eq!(store.cursor("other").await.unwrap(), None);
        assert_eq!(store.synced("contact:003A").await.unwrap(), Some(synced));
        let replaced = Synced {
            stripe_id: "cus_1".to_owned(),
            digest: "cd".repeat(32),
        };
        store
            .record_synced("contact:003A", &replaced)
            .await
            .unwrap();
        assert_eq!(store.synced("contact:003A").await.unwrap(), Some(replaced));
    }
}
