//! The org's records: one table per object of the data model, indexes on external id and
//! unique fields, the SystemModstamp clock, and an undo log for all-or-none requests.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use sfdc_types::time::{Duration, OffsetDateTime};
use sfdc_types::{FieldDescribe, ObjectDescribe, Schema, Value};

use crate::defaults::Defaults;
use crate::ids;
use crate::wire;

/// One stored record: canonical field API names (including `Id`) to values. Absent fields
/// are null.
pub(crate) type Record = BTreeMap<String, Value>;

/// The records of one object.
#[derive(Debug)]
pub(crate) struct Table {
    /// Canonical API name of the object.
    pub object: String,
    /// Key prefix of its ids.
    pub prefix: String,
    /// Records by 18-character id; ids sort in creation order.
    pub records: BTreeMap<String, Record>,
    /// Last record number handed out in an id.
    next_id: u64,
    /// Last auto number handed out for `Name`.
    pub next_auto_number: u64,
    /// For each external id or unique field: match key to the ids holding it.
    indexes: HashMap<String, HashMap<String, BTreeSet<String>>>,
}

impl Table {
    fn new(describe: &ObjectDescribe, prefix: String) -> Self {
        let indexes = describe
            .fields
            .iter()
            .filter(|field| field.external_id || field.unique)
            .map(|field| (field.api_name.to_string(), HashMap::new()))
            .collect();
        Self {
            object: describe.api_name.to_string(),
            prefix,
            records: BTreeMap::new(),
            next_id: 0,
            next_auto_number: 0,
            indexes,
        }
    }

    /// Ids of the records whose indexed `field` matches `key` (see [`wire::match_key`]).
    pub fn lookup(&self, field: &str, key: &str) -> Vec<String> {
        self.indexes
            .get(field)
            .and_then(|index| index.get(key))
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether `field` is indexed (external id or unique).
    pub fn is_indexed(&self, field: &str) -> bool {
        self.indexes.contains_key(field)
    }

    fn index(&mut self, describe: &ObjectDescribe, id: &str, record: &Record, add: bool) {
        for (field, index) in &mut self.indexes {
            let Some(value) = record.get(field) else {
                continue;
            };
            let Some(key) = wire::match_key(describe.field(field), value) else {
                continue;
            };
            if add {
                index.entry(key).or_default().insert(id.to_owned());
            } else if let Some(ids) = index.get_mut(&key) {
                ids.remove(id);
                if ids.is_empty() {
                    index.remove(&key);
                }
            }
        }
    }
}

/// What an all-or-none request undoes on failure: every record's state before it changed.
#[derive(Debug, Default)]
pub(crate) struct Txn {
    before: Vec<(String, String, Option<Record>)>,
}

impl Txn {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the changes of `inner` so that rolling this log back undoes them too.
    pub fn absorb(&mut self, inner: Txn) {
        self.before.extend(inner.before);
    }
}

/// The whole org: schema, tables, users and clocks.
#[derive(Debug)]
pub(crate) struct Org {
    /// The data model the org enforces.
    pub schema: Arc<Schema>,
    /// Tables by lower-cased object name.
    tables: HashMap<String, Table>,
    /// Ids of deleted records (Salesforce answers ENTITY_IS_DELETED for them).
    deleted: HashSet<String>,
    /// Last SystemModstamp handed out.
    last_stamp: OffsetDateTime,
    /// The organization id (`00D…`).
    pub org_id: String,
    /// The integration user every write is made as (`005…`).
    pub user_id: String,
    /// Auto-number formats and picklist defaults from force-app.
    pub defaults: Defaults,
}

impl Org {
    /// An empty org for `schema`, with one active user, reading auto-number formats from
    /// the force-app folder if there is one.
    pub fn new(schema: Arc<Schema>, force_app: Option<&Path>) -> Self {
        let mut tables = HashMap::new();
        let (mut custom, mut metadata) = (0, 0);
        for describe in schema.objects.iter() {
            let name = describe.api_name.as_ref();
            let prefix = if let Some(prefix) = ids::standard_prefix(name) {
                prefix.to_owned()
            } else if name.ends_with("__mdt") {
                metadata += 1;
                ids::custom_prefix('m', metadata - 1)
            } else {
                custom += 1;
                ids::custom_prefix('a', custom - 1)
            };
            tables.insert(name.to_ascii_lowercase(), Table::new(describe, prefix));
        }
        let mut org = Self {
            schema,
            tables,
            deleted: HashSet::new(),
            last_stamp: OffsetDateTime::UNIX_EPOCH,
            org_id: ids::make(ids::ORGANIZATION_PREFIX, 1),
            user_id: ids::make(ids::USER_PREFIX, 1),
            defaults: force_app.map(Defaults::read).unwrap_or_default(),
        };
        org.seed_user();
        org
    }

    /// The integration user, so that `OwnerId` and `CreatedById` point at a record.
    fn seed_user(&mut self) {
        let stamp = self.next_stamp();
        let user_id = self.user_id.clone();
        let Some(table) = self.tables.get_mut("user") else {
            return;
        };
        table.next_id = 1;
        let mut record = Record::new();
        let text = |text: &str| Value::Text(text.to_owned());
        for (field, value) in [
            ("Id", text(&user_id)),
            ("Username", text("integration@stripe-sfdc-sync.test")),
            ("Email", text("integration@stripe-sfdc-sync.test")),
            ("FirstName", text("Stripe")),
            ("LastName", text("Integration")),
            ("Name", text("Stripe Integration")),
            ("Alias", text("stripe")),
            ("IsActive", Value::Bool(true)),
            ("CreatedById", text(&user_id)),
            ("LastModifiedById", text(&user_id)),
            ("CreatedDate", Value::DateTime(stamp)),
            ("LastModifiedDate", Value::DateTime(stamp)),
            ("SystemModstamp", Value::DateTime(stamp)),
        ] {
            record.insert(field.to_owned(), value);
        }
        table.records.insert(user_id, record);
    }

    /// The describe of `object`, case-insensitively.
    pub fn describe(&self, object: &str) -> Option<&ObjectDescribe> {
        self.schema.object(object)
    }

    /// The table of `object`, case-insensitively.
    pub fn table(&self, object: &str) -> Option<&Table> {
        self.tables.get(&object.to_ascii_lowercase())
    }

    /// The object whose ids start with the prefix of `id`.
    pub fn object_of_id(&self, id: &str) -> Option<&str> {
        let prefix = id.get(..3)?;
        self.tables
            .values()
            .find(|table| table.prefix == prefix)
            .map(|table| table.object.as_str())
    }

    /// The key prefix of `object`'s ids.
    pub fn prefix(&self, object: &str) -> Option<&str> {
        self.table(object).map(|table| table.prefix.as_str())
    }

    /// The record with this (normalized) id, of any object.
    pub fn record(&self, id: &str) -> Option<(&str, &Record)> {
        let object = self.object_of_id(id)?;
        let table = self.table(object)?;
        table
            .records
            .get(id)
            .map(|record| (table.object.as_str(), record))
    }

    /// Whether the record with this id was deleted.
    pub fn was_deleted(&self, id: &str) -> bool {
        self.deleted.contains(id)
    }

    /// A new id for a record of `object`.
    pub fn new_id(&mut self, object: &str) -> Option<String> {
        let table = self.tables.get_mut(&object.to_ascii_lowercase())?;
        table.next_id += 1;
        Some(ids::make(&table.prefix, table.next_id))
    }

    /// The next auto number of `object`'s `Name`, formatted per its display format.
    pub fn next_auto_number(&mut self, object: &str) -> Option<String> {
        let table = self.tables.get_mut(&object.to_ascii_lowercase())?;
        table.next_auto_number += 1;
        Some(self.defaults.format(object, table.next_auto_number))
    }

    /// A SystemModstamp later than every one handed out before: now, or a millisecond
    /// after the last one when writes come faster than the clock.
    pub fn next_stamp(&mut self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        let now = now
            .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
            .unwrap_or(now);
        let stamp = if now > self.last_stamp {
            now
        } else {
            self.last_stamp + Duration::milliseconds(1)
        };
        self.last_stamp = stamp;
        stamp
    }

    /// Stores `record` (new or changed) under its id, keeping indexes and the undo log.
    pub fn put(&mut self, txn: &mut Txn, object: &str, record: Record) {
        let Some(Value::Text(id)) = record.get("Id").cloned() else {
            return;
        };
        let key = object.to_ascii_lowercase();
        let schema = Arc::clone(&self.schema);
        let Some(describe) = schema.object(object) else {
            return;
        };
        let Some(table) = self.tables.get_mut(&key) else {
            return;
        };
        let before = table.records.remove(&id);
        if let Some(old) = &before {
            table.index(describe, &id, old, false);
        }
        table.index(describe, &id, &record, true);
        table.records.insert(id.clone(), record);
        txn.before.push((key, id, before));
    }

    /// Removes the record with this id, keeping indexes and the undo log.
    pub fn remove(&mut self, txn: &mut Txn, object: &str, id: &str) -> Option<Record> {
        let key = object.to_ascii_lowercase();
        let schema = Arc::clone(&self.schema);
        let describe = schema.object(object)?;
        let table = self.tables.get_mut(&key)?;
        let old = table.records.remove(id)?;
        table.index(describe, id, &old, false);
        self.deleted.insert(id.to_owned());
        txn.before.push((key, id.to_owned(), Some(old.clone())));
        Some(old)
    }

    /// Undoes every change logged in `txn`, latest first.
    pub fn rollback(&mut self, txn: Txn) {
        let schema = Arc::clone(&self.schema);
        for (key, id, before) in txn.before.into_iter().rev() {
            let Some(table) = self.tables.get_mut(&key) else {
                continue;
            };
            let Some(describe) = schema.object(&table.object) else {
                continue;
            };
            if let Some(current) = table.records.remove(&id) {
                table.index(describe, &id, &current, false);
            }
            if let Some(old) = before {
                table.index(describe, &id, &old, true);
                table.records.insert(id.clone(), old);
                self.deleted.remove(&id);
            }
        }
    }

    /// Ids of `object`'s records whose `field` matches `value` as an external id does.
    pub fn find_by(&self, object: &str, field: &FieldDescribe, value: &Value) -> Vec<String> {
        let Some(table) = self.table(object) else {
            return Vec::new();
        };
        let Some(key) = wire::match_key(Some(field), value) else {
            return Vec::new();
        };
        if table.is_indexed(&field.api_name) {
            return table.lookup(&field.api_name, &key);
        }
        table
            .records
            .iter()
            .filter(|(_, record)| {
                record
                    .get(field.api_name.as_ref())
                    .and_then(|stored| wire::match_key(Some(field), stored))
                    .is_some_and(|stored| stored == key)
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Every table, for queries over children and deletes that cascade.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.values()
    }
}
