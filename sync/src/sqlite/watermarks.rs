//! Per-object watermarks of [`SqliteStore`]: advanced by one conditional upsert, so racing
//! workers never let an older mark overwrite a newer one.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::db::{SqliteError, immediate};
use super::ledger::backend;
use crate::store::{Mark, StoreError, Watermarks};

/// The mark of `object_id`, if any.
pub(crate) fn mark(conn: &Connection, object_id: &str) -> Result<Option<Mark>, SqliteError> {
    Ok(conn
        .query_row(
            "SELECT created, event_id FROM watermarks WHERE object_id = ?1",
            params![object_id],
            |row| {
                Ok(Mark {
                    created: row.get(0)?,
                    event_id: row.get(1)?,
                })
            },
        )
        .optional()?)
}

/// Sets the mark of `object_id` if absent or strictly older; whether it did.
///
/// Event ids compare as SQLite's default `BINARY` collation does, byte by byte, which is how
/// [`Mark`]'s `Ord` compares them.
pub(crate) fn advance(
    conn: &Connection,
    object_id: &str,
    mark: &Mark,
) -> Result<bool, SqliteError> {
    let changed = conn.execute(
        "INSERT INTO watermarks (object_id, created, event_id) VALUES (?1, ?2, ?3)
         ON CONFLICT (object_id) DO UPDATE
             SET created = excluded.created, event_id = excluded.event_id
             WHERE (excluded.created, excluded.event_id) > (watermarks.created, watermarks.event_id)",
        params![object_id, mark.created, mark.event_id],
    )?;
    Ok(changed == 1)
}

impl Watermarks for SqliteStore {
    async fn mark(&self, object_id: &str) -> Result<Option<Mark>, StoreError> {
        let object = object_id.to_owned();
        self.db
            .run(move |conn| mark(conn, &object))
            .await
            .map_err(backend("mark", object_id))
    }

    async fn advance(&self, object_id: &str, mark: &Mark) -> Result<bool, StoreError> {
        let (object, mark) = (object_id.to_owned(), mark.clone());
        self.db
            .run(move |conn| advance(conn, &object, &mark))
            .await
            .map_err(backend("advance", object_id))
    }

    async fn advance_all(&self, marks: &[(String, Mark)]) -> Result<Vec<bool>, StoreError> {
        let marks_owned = marks.to_vec();
        let first = marks.first().map_or("-", |(id, _)| id.as_str());
        self.db
            .run(move |conn| {
                let tx = immediate(conn)?;
                let advanced = marks_owned
                    .iter()
                    .map(|(object_id, mark)| advance(&tx, object_id, mark))
                    .collect::<Result<_, _>>()?;
                tx.commit()?;
                Ok(advanced)
            })
            .await
            .map_err(backend("advance", first))
    }
}
