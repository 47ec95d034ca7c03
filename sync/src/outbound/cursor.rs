//! The durable position of a poller: the `(SystemModstamp, Id)` of the last record fully
//! handled, and the SOQL page query that reads the records changed after it.
//!
//! Ordering by `SystemModstamp, Id` and reading strictly after the pair
//! (`SystemModstamp > ts OR (SystemModstamp = ts AND Id > id)`) gives every record exactly one
//! place in the order, so a page that ends inside a run of records stamped in the same
//! millisecond continues with the rest of the run, and records changed while the poller was
//! down are all after the saved pair.

use std::fmt;

use time::OffsetDateTime;

use crate::salesforce::soql::{Filter, Order, Query, SoqlError, datetime_literal};

/// Where a poller is: the last record it fully handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The record's `SystemModstamp` (Salesforce keeps milliseconds).
    pub modstamp: OffsetDateTime,
    /// The record's Id.
    pub id: String,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", datetime_literal(self.modstamp), self.id)
    }
}

/// The query of the next page of `object` records changed after `after` (all of them when
/// `None`) and stamped no later than `until`, in `(SystemModstamp, Id)` order, at most `limit`.
pub fn changed_since(
    object: &str,
    fields: &[&str],
    after: Option<&Cursor>,
    until: OffsetDateTime,
    limit: u32,
) -> Result<String, SoqlError> {
    let mut query = Query::select(fields.iter().copied()).from(object);
    if let Some(cursor) = after {
        query = query.filter(Filter::gt("SystemModstamp", cursor.modstamp).or(
            Filter::eq("SystemModstamp", cursor.modstamp).and(Filter::gt("Id", cursor.id.as_str())),
        ));
    }
    query
        .filter(Filter::le("SystemModstamp", until))
        .order_by("SystemModstamp", Order::Asc)
        .order_by("Id", Order::Asc)
        .limit(u64::from(limit.max(1)))
        .to_soql()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn first_page_reads_from_the_start() {
        let soql = changed_since(
            "Contact",
            &["Id", "SystemModstamp"],
            None,
            datetime!(2026-11-23 10:00:00 UTC),
            200,
        )
        .unwrap();
        assert_eq!(
            soql,
            "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp <= 2026-11-23T10:00:00Z \
             ORDER BY SystemModstamp ASC, Id ASC LIMIT 200"
        );
    }

    #[test]
    fn later_pages_continue_after_the_pair() {
        let cursor = Cursor {
            modstamp: datetime!(2026-11-23 09:59:58.250 UTC),
            id: "003xx0000001AbC'".to_owned(),
        };
        let soql = changed_since(
            "Contact",
            &["Id"],
            Some(&cursor),
            datetime!(2026-11-23 10:00:00 UTC),
            0,
        )
        .unwrap();
        assert_eq!(
            soql,
            "SELECT Id FROM Contact WHERE ((SystemModstamp > 2026-11-23T09:59:58.250Z OR \
             (SystemModstamp = 2026-11-23T09:59:58.250Z AND Id > '003xx0000001AbC\\'')) AND \
             SystemModstamp <= 2026-11-23T10:00:00Z) ORDER BY SystemModstamp ASC, Id ASC LIMIT 1"
        );
        assert_eq!(
            cursor.to_string(),
            "2026-11-23T09:59:58.250Z 003xx0000001AbC'"
        );
    }
}
