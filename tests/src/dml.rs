//! Saving and deleting records as Salesforce does.
//!
//! A write is checked through `sfdc-types`' validator (the force-app model), after the
//! adjustments where Salesforce is more lenient than that validator: extra fraction digits
//! are rounded to the field's scale (only too many integer digits fail), a missing or null
//! checkbox is false, and empty text is null. Then parents named by external id are
//! resolved, lookups checked, unique fields compared, and the record stored with its
//! system fields.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value as Json};
use sfdc_types::rust_decimal::RoundingStrategy;
use sfdc_types::{FieldDescribe, FieldType, ObjectDescribe, Operation, Value, ViolationKind};

use crate::errors::{ApiError, RecordError};
use crate::ids;
use crate::store::{Org, Record, Txn};
use crate::wire;

/// Values of one write: field API names, `Id`, or parent references `Rel__r.Field__c`.
pub(crate) type Values = Vec<(String, Value)>;

/// Which record a write is for.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A new record.
    Insert,
    /// The existing record with this id.
    Update(String),
    /// The record whose external id `field` is `value`, created if there is none.
    Upsert {
        /// API name of the external id field.
        field: String,
        /// Its value, as text.
        value: String,
    },
}

/// A record saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Saved {
    /// Its 18-character id.
    pub id: String,
    /// Whether it was created (rather than updated).
    pub created: bool,
}

/// Why a write or delete did not happen.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WriteError {
    /// The record breaks the data model: Salesforce's errors.
    Invalid(Vec<RecordError>),
    /// No record has this id.
    NotFound,
    /// The record was deleted.
    Deleted,
    /// The external id matches several records: their ids.
    Multiple(Vec<String>),
}

impl WriteError {
    fn one(code: &str, message: impl Into<String>, fields: Vec<String>) -> Self {
        WriteError::Invalid(vec![RecordError::new(code, message, fields)])
    }

    /// The errors of a save result (collections, composite, Bulk).
    pub fn record_errors(&self, object: &str) -> Vec<RecordError> {
        match self {
            WriteError::Invalid(errors) => errors.clone(),
            WriteError::NotFound => vec![RecordError::new(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                Vec::new(),
            )],
            WriteError::Deleted => vec![RecordError::new(
                "ENTITY_IS_DELETED",
                "entity is deleted",
                Vec::new(),
            )],
            WriteError::Multiple(ids) => vec![RecordError::new(
                "DUPLICATE_EXTERNAL_ID",
                format!(
                    "{object}: more than one record found for external id field: [{}]",
                    ids.join(", ")
                ),
                Vec::new(),
            )],
        }
    }
}

/// The values of a REST JSON record of `describe`'s object. Fails for what Salesforce
/// rejects before saving anything: an unknown field or relationship (INVALID_FIELD) and a
/// value its parser cannot read (JSON_PARSER_ERROR). `attributes` is skipped; `Id` is kept
/// for the validator to judge.
pub(crate) fn json_values(
    org: &Org,
    describe: &ObjectDescribe,
    record: &Map<String, Json>,
) -> Result<Values, ApiError> {
    let no_such_column = |key: &str| {
        ApiError::bad_request(
            "INVALID_FIELD",
            format!(
                "No such column '{key}' on sobject of type {}",
                describe.api_name
            ),
        )
    };
    let mut values = Values::new();
    for (key, json) in record {
        if key == "attributes" {
            continue;
        }
        if key.eq_ignore_ascii_case("Id") {
            let text = match json {
                Json::String(text) => Value::Text(text.clone()),
                Json::Null => Value::Null,
                other => Value::Text(other.to_string()),
            };
            values.push(("Id".to_owned(), text));
            continue;
        }
        if let Json::Object(inner) = json {
            let lookup = describe
                .field_by_relationship(key)
                .ok_or_else(|| no_such_column(key))?;
            let target = lookup
                .reference_to
                .as_deref()
                .and_then(|target| org.describe(target));
            let keys: Vec<&String> = inner.keys().filter(|k| *k != "attributes").collect();
            let [target_field] = keys[..] else {
                return Err(ApiError::json_parser(format!(
                    "The reference {key} must name its parent by exactly one external id field, found {}",
                    keys.len()
                )));
            };
            let target_field = target
                .and_then(|target| target.field(target_field))
                .map_or_else(|| target_field.clone(), |f| f.api_name.to_string());
            let value = match &inner[keys[0].as_str()] {
                Json::String(text) => Value::Text(text.clone()),
                Json::Number(number) => Value::Text(number.to_string()),
                Json::Null => Value::Null,
                other => {
                    return Err(ApiError::json_parser(format!(
                        "Cannot deserialize the external id of {key}.{target_field} from {other}"
                    )));
                }
            };
            let name = lookup.relationship_name.as_deref().unwrap_or(key);
            values.push((format!("{name}.{target_field}"), value));
            continue;
        }
        let field = describe.field(key).ok_or_else(|| no_such_column(key))?;
        values.push((field.api_name.to_string(), wire::json_value(field, json)?));
    }
    Ok(values)
}

impl Org {
    /// Creates or changes one record of `object` as Salesforce would, logging the change
    /// in `txn`.
    pub fn write(
        &mut self,
        txn: &mut Txn,
        object: &str,
        target: Target,
        mut values: Values,
    ) -> Result<Saved, WriteError> {
        let schema = Arc::clone(&self.schema);
        let Some(describe) = schema.object(object) else {
            return Err(WriteError::one(
                "INVALID_TYPE",
                format!("sObject type '{object}' is not supported."),
                Vec::new(),
            ));
        };
        let object = describe.api_name.as_ref();
        if object.ends_with("__mdt") {
            return Err(WriteError::one(
                "INVALID_TYPE_FOR_OPERATION",
                format!(
                    "entity type {object} does not support insert, update or upsert through the API"
                ),
                Vec::new(),
            ));
        }
        let existing = match target {
            Target::Insert => None,
            Target::Update(id) => Some(self.existing(object, &id)?),
            Target::Upsert { field, value } => {
                self.upsert_match(describe, &field, &value, &mut values)?
            }
        };
        self.normalize(describe, &mut values);
        let op = if existing.is_some() {
            Operation::Update
        } else {
            Operation::Insert
        };
        let typed: Vec<(Cow<'_, str>, Value)> = values
            .iter()
            .map(|(name, value)| (Cow::Borrowed(name.as_str()), value.clone()))
            .collect();
        if let Err(violations) = schema.validate(object, &typed, op) {
            let errors = violation_errors(describe, &values, violations);
            if !errors.is_empty() {
                return Err(WriteError::Invalid(errors));
            }
        }
        let values = self.resolve_references(describe, values)?;
        self.check_lookups(describe, &values)?;
        let stamp = self.next_stamp();
        let created = existing.is_none();
        let mut record = match existing {
            Some(record) => record,
            None => self.new_record(describe)?,
        };
        for (name, value) in values {
            if name != "Id" {
                record.insert(name, value);
            }
        }
        if created {
            self.fill_name(describe, &mut record);
            record.insert("CreatedDate".to_owned(), Value::DateTime(stamp));
        }
        compute_full_name(describe, &mut record);
        record.insert("LastModifiedDate".to_owned(), Value::DateTime(stamp));
        record.insert("SystemModstamp".to_owned(), Value::DateTime(stamp));
        record.retain(|name, _| describe.field(name).is_some() || name == "Id");
        let id = match record.get("Id") {
            Some(Value::Text(id)) => id.clone(),
            _ => {
                return Err(WriteError::one(
                    "UNKNOWN_EXCEPTION",
                    "record has no id",
                    Vec::new(),
                ));
            }
        };
        self.check_unique(describe, &id, &record)?;
        self.put(txn, object, record);
        Ok(Saved { id, created })
    }

    /// Deletes a record of `object` (any object if `None`), cascading to master-detail
    /// children and clearing lookups to it, as Salesforce does.
    pub fn delete(
        &mut self,
        txn: &mut Txn,
        object: Option<&str>,
        id: &str,
    ) -> Result<(), WriteError> {
        let Some(id) = ids::normalize(id) else {
            return Err(WriteError::one(
                "MALFORMED_ID",
                format!("malformed id {id}"),
                Vec::new(),
            ));
        };
        let Some((owner, _)) = self.record(&id) else {
            return Err(if self.was_deleted(&id) {
                WriteError::Deleted
            } else {
                WriteError::NotFound
            });
        };
        let owner = owner.to_owned();
        if object.is_some_and(|object| !object.eq_ignore_ascii_case(&owner)) {
            return Err(WriteError::NotFound);
        }
        if owner.ends_with("__mdt") || owner.eq_ignore_ascii_case("User") {
            return Err(WriteError::one(
                "INVALID_TYPE_FOR_OPERATION",
                format!("entity type {owner} does not support delete"),
                Vec::new(),
            ));
        }
        self.remove_cascading(txn, &owner, &id);
        Ok(())
    }

    fn remove_cascading(&mut self, txn: &mut Txn, object: &str, id: &str) {
        if self.remove(txn, object, id).is_none() {
            return;
        }
        let schema = Arc::clone(&self.schema);
        let mut children: Vec<(String, String, String, bool)> = Vec::new();
        for table in self.tables() {
            let Some(describe) = schema.object(&table.object) else {
                continue;
            };
            for field in describe.fields.iter() {
                let points_here = field
                    .reference_to
                    .as_deref()
                    .is_some_and(|target| target.eq_ignore_ascii_case(object));
                if !points_here {
                    continue;
                }
                for (child_id, record) in &table.records {
                    if matches!(record.get(field.api_name.as_ref()), Some(Value::Text(parent)) if parent == id)
                    {
                        let cascade = field.field_type == FieldType::MasterDetail;
                        children.push((
                            table.object.clone(),
                            child_id.clone(),
                            field.api_name.to_string(),
                            cascade,
                        ));
                    }
                }
            }
        }
        for (child_object, child_id, field, cascade) in children {
            if cascade {
                self.remove_cascading(txn, &child_object, &child_id);
            } else if let Some(mut record) = self
                .table(&child_object)
                .and_then(|table| table.records.get(&child_id))
                .cloned()
            {
                record.remove(&field);
                self.put(txn, &child_object, record);
            }
        }
    }

    /// The stored record `id` of `object`, or why there is none.
    fn existing(&self, object: &str, id: &str) -> Result<Record, WriteError> {
        let id = ids::normalize(id).ok_or(WriteError::NotFound)?;
        match self.table(object).and_then(|table| table.records.get(&id)) {
            Some(record) => Ok(record.clone()),
            None if self.was_deleted(&id) => Err(WriteError::Deleted),
            None => Err(WriteError::NotFound),
        }
    }

    /// The record an upsert updates, or `None` to create one (the external id then set
    /// from the URL).
    fn upsert_match(
        &self,
        describe: &ObjectDescribe,
        field: &str,
        value: &str,
        values: &mut Values,
    ) -> Result<Option<Record>, WriteError> {
        let object = describe.api_name.as_ref();
        if field.eq_ignore_ascii_case("Id") {
            return self.existing(object, value).map(Some);
        }
        let Some(field) = describe.field(field) else {
            return Err(WriteError::one(
                "NOT_FOUND",
                format!("Provided external ID field does not exist or is not accessible: {field}"),
                Vec::new(),
            ));
        };
        let key = wire::text_value(field, value).map_err(|error| {
            WriteError::one(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                format!(
                    "{}: value not of required type: {}",
                    field.label, error.value
                ),
                vec![field.api_name.to_string()],
            )
        })?;
        let in_body = values
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&field.api_name));
        if let Some((_, given)) = in_body
            && wire::match_key(Some(field), given) != wire::match_key(Some(field), &key)
        {
            return Err(WriteError::one(
                "INVALID_FIELD",
                format!(
                    "{}: the value in the body ({}) differs from the external id in the URL ({value})",
                    field.api_name,
                    wire::value_text(given)
                ),
                vec![field.api_name.to_string()],
            ));
        }
        let found = self.find_by(object, field, &key);
        match found.as_slice() {
            [] => {
                if in_body.is_none() {
                    values.push((field.api_name.to_string(), key));
                }
                Ok(None)
            }
            [id] => self.existing(object, id).map(Some),
            _ => Err(WriteError::Multiple(found)),
        }
    }

    /// Salesforce's leniency before validation: checkbox null is false, empty text null,
    /// numbers rounded half-up to the field's scale, ids in their 18-character form.
    fn normalize(&self, describe: &ObjectDescribe, values: &mut Values) {
        for (name, value) in values.iter_mut() {
            let field_type = if name == "Id" {
                FieldType::Id
            } else if let Some(field) = describe.field(name) {
                if let (Value::Decimal(decimal), Some(scale)) = (&*value, field.scale) {
                    *value = Value::Decimal(
                        decimal
                            .round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero),
                    );
                }
                field.field_type
            } else {
                continue;
            };
            match (field_type, &*value) {
                (FieldType::Checkbox, Value::Null) => *value = Value::Bool(false),
                (_, Value::Text(text)) if text.is_empty() => *value = Value::Null,
                (
                    FieldType::Id | FieldType::Lookup | FieldType::MasterDetail,
                    Value::Text(text),
                ) => {
                    if let Some(id) = ids::normalize(text) {
                        *value = Value::Text(id);
                    }
                }
                _ => {}
            }
        }
    }

    /// Replaces each `Rel__r.Field__c` by the lookup field set to the parent's id.
    fn resolve_references(
        &self,
        describe: &ObjectDescribe,
        values: Values,
    ) -> Result<Values, WriteError> {
        let mut resolved = Values::new();
        let mut errors = Vec::new();
        for (name, value) in values {
            let Some((relationship, target_field)) = name.split_once('.') else {
                resolved.push((name, value));
                continue;
            };
            let Some(lookup) = describe.field_by_relationship(relationship) else {
                continue;
            };
            let target_name = lookup.reference_to.as_deref().unwrap_or_default();
            let Some(target) = self.describe(target_name) else {
                continue;
            };
            let text = wire::value_text(&value);
            let found = if target_field.eq_ignore_ascii_case("Id") {
                ids::normalize(&text)
                    .filter(|id| {
                        self.table(target_name)
                            .is_some_and(|t| t.records.contains_key(id))
                    })
                    .into_iter()
                    .collect()
            } else {
                match target.field(target_field) {
                    Some(field) => match wire::text_value(field, &text) {
                        Ok(key) => self.find_by(target_name, field, &key),
                        Err(_) => Vec::new(),
                    },
                    None => Vec::new(),
                }
            };
            let target_field = target
                .field(target_field)
                .map_or(target_field, |field| field.api_name.as_ref());
            match found.as_slice() {
                [id] => resolved.push((lookup.api_name.to_string(), Value::Text(id.clone()))),
                [] => errors.push(RecordError::new(
                    "INVALID_FIELD",
                    format!(
                        "Foreign key external ID: {text} not found for field {target_field} in entity {}",
                        target.api_name
                    ),
                    Vec::new(),
                )),
                _ => errors.push(RecordError::new(
                    "INVALID_FIELD",
                    format!(
                        "Foreign key external ID: {text} matches more than one record for field {target_field} in entity {}",
                        target.api_name
                    ),
                    Vec::new(),
                )),
            }
        }
        if errors.is_empty() {
            Ok(resolved)
        } else {
            Err(WriteError::Invalid(errors))
        }
    }

    /// Lookup ids must be of the referenced object and name an existing record.
    fn check_lookups(&self, describe: &ObjectDescribe, values: &Values) -> Result<(), WriteError> {
        let mut errors = Vec::new();
        for (name, value) in values {
            let (Some(field), Value::Text(id)) = (describe.field(name), value) else {
                continue;
            };
            if !matches!(
                field.field_type,
                FieldType::Lookup | FieldType::MasterDetail
            ) {
                continue;
            }
            let target = field.reference_to.as_deref().unwrap_or_default();
            let right_type = self
                .prefix(target)
                .is_some_and(|prefix| id.starts_with(prefix));
            if !right_type {
                errors.push(RecordError::new(
                    "FIELD_INTEGRITY_EXCEPTION",
                    format!("{}: id value of incorrect type: {id}", field.label),
                    vec![field.api_name.to_string()],
                ));
            } else if self.record(id).is_none() {
                errors.push(if self.was_deleted(id) {
                    RecordError::new(
                        "ENTITY_IS_DELETED",
                        "entity is deleted",
                        vec![field.api_name.to_string()],
                    )
                } else {
                    RecordError::new(
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                        Vec::new(),
                    )
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(WriteError::Invalid(errors))
        }
    }

    /// No other record may hold the value of a unique field.
    fn check_unique(
        &self,
        describe: &ObjectDescribe,
        id: &str,
        record: &Record,
    ) -> Result<(), WriteError> {
        for field in describe.fields.iter().filter(|field| field.unique) {
            let Some(value) = record.get(field.api_name.as_ref()) else {
                continue;
            };
            let others: Vec<String> = self
                .find_by(&describe.api_name, field, value)
                .into_iter()
                .filter(|other| other != id)
                .collect();
            if let Some(other) = others.first() {
                return Err(WriteError::one(
                    "DUPLICATE_VALUE",
                    format!(
                        "duplicate value found: {} duplicates value on record with id: {other}",
                        field.api_name
                    ),
                    Vec::new(),
                ));
            }
        }
        Ok(())
    }

    /// A new record with its id, owner, audit fields and defaults (checkboxes, picklist
    /// defaults from force-app).
    fn new_record(&mut self, describe: &ObjectDescribe) -> Result<Record, WriteError> {
        let object = describe.api_name.to_string();
        let id = self.new_id(&object).ok_or_else(|| {
            WriteError::one(
                "INVALID_TYPE",
                format!("sObject type '{object}' is not supported."),
                Vec::new(),
            )
        })?;
        let mut record = Record::new();
        record.insert("Id".to_owned(), Value::Text(id));
        for field in describe.fields.iter() {
            let name = field.api_name.to_string();
            let value = match (field.field_type, name.as_str()) {
                (_, "OwnerId" | "CreatedById" | "LastModifiedById") => {
                    Value::Text(self.user_id.clone())
                }
                (FieldType::Checkbox, _) => Value::Bool(
                    field
                        .default_value
                        .as_deref()
                        .is_some_and(|d| d.eq_ignore_ascii_case("true")),
                ),
                (FieldType::Picklist, _) => match self.defaults.picklist(&object, &name) {
                    Some(default) => Value::Text(default.to_owned()),
                    None => continue,
                },
                _ => continue,
            };
            record.insert(name, value);
        }
        Ok(record)
    }

    /// `Name` on create: the next auto number, or the id for a text name left empty (as
    /// Salesforce does for custom objects).
    fn fill_name(&mut self, describe: &ObjectDescribe, record: &mut Record) {
        let Some(name) = describe.field("Name") else {
            return;
        };
        if name.field_type == FieldType::AutoNumber {
            if let Some(number) = self.next_auto_number(&describe.api_name) {
                record.insert("Name".to_owned(), Value::Text(number));
            }
        } else if describe.custom
            && !name.read_only
            && record.get("Name").is_none_or(Value::is_null)
            && let Some(id) = record.get("Id").cloned()
        {
            record.insert("Name".to_owned(), id);
        }
    }
}

/// A read-only `Name` made of `FirstName` and `LastName` (Contact, User).
fn compute_full_name(describe: &ObjectDescribe, record: &mut Record) {
    let computed = describe
        .field("Name")
        .is_some_and(|name| name.read_only && name.field_type != FieldType::AutoNumber);
    if !computed || describe.field("LastName").is_none() {
        return;
    }
    let part = |name: &str| match record.get(name) {
        Some(Value::Text(text)) => Some(text.clone()),
        _ => None,
    };
    let full: Vec<String> = [part("FirstName"), part("LastName")]
        .into_iter()
        .flatten()
        .collect();
    if !full.is_empty() {
        record.insert("Name".to_owned(), Value::Text(full.join(" ")));
    }
}

/// Salesforce's errors for the validator's violations: read-only fields gathered in one
/// error first, then required fields in one, then one per field.
fn violation_errors(
    describe: &ObjectDescribe,
    values: &Values,
    violations: sfdc_types::Violations,
) -> Vec<RecordError> {
    let object = describe.api_name.as_ref();
    let field_of = |column: &str| -> Option<&FieldDescribe> {
        match column.split_once('.') {
            Some((relationship, _)) => describe.field_by_relationship(relationship),
            None => describe.field(column),
        }
    };
    let label =
        |column: &str| field_of(column).map_or_else(|| column.to_owned(), |f| f.label.to_string());
    let api = |column: &str| {
        field_of(column).map_or_else(|| column.to_owned(), |f| f.api_name.to_string())
    };
    let shown = |column: &str| {
        values
            .iter()
            .find(|(name, _)| name == column)
            .map(|(_, value)| wire::value_text(value))
            .unwrap_or_default()
    };
    let mut read_only: Vec<String> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for violation in violations {
        let column = violation.field.as_str();
        let error = match violation.kind {
            ViolationKind::ReadOnly if column.eq_ignore_ascii_case("Id") => RecordError::new(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "cannot specify Id in an insert call",
                vec!["Id".to_owned()],
            ),
            ViolationKind::ReadOnly => {
                let name = api(column);
                if !read_only.contains(&name) {
                    read_only.push(name);
                }
                continue;
            }
            ViolationKind::MissingRequired => {
                let name = api(column);
                let is_checkbox =
                    field_of(column).is_some_and(|f| f.field_type == FieldType::Checkbox);
                if !is_checkbox && !missing.contains(&name) {
                    missing.push(name);
                }
                continue;
            }
            ViolationKind::TooLong { max, .. } => RecordError::new(
                "STRING_TOO_LONG",
                format!(
                    "{}: data value too large: {} (max length={max})",
                    label(column),
                    shown(column)
                ),
                vec![api(column)],
            ),
            ViolationKind::NotInPicklist { value } => RecordError::new(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                format!(
                    "{}: bad value for restricted picklist field: {value}",
                    label(column)
                ),
                vec![api(column)],
            ),
            ViolationKind::TooManyDigits { value, .. } => RecordError::new(
                "NUMBER_OUTSIDE_VALID_RANGE",
                format!(
                    "{}: value outside of valid range on numeric field: {value}",
                    label(column)
                ),
                vec![api(column)],
            ),
            ViolationKind::InvalidFormat { value, .. } => {
                let field_type = if column.eq_ignore_ascii_case("Id") || column.contains('.') {
                    FieldType::Id
                } else {
                    field_of(column).map_or(FieldType::Text, |f| f.field_type)
                };
                match field_type {
                    FieldType::Email => RecordError::new(
                        "INVALID_EMAIL_ADDRESS",
                        format!("{}: invalid email address: {value}", label(column)),
                        vec![api(column)],
                    ),
                    FieldType::Id | FieldType::Lookup | FieldType::MasterDetail => {
                        RecordError::new(
                            "MALFORMED_ID",
                            format!("{}: id value of incorrect type: {value}", label(column)),
                            vec![api(column)],
                        )
                    }
                    _ => RecordError::new(
                        "INVALID_TYPE_ON_FIELD_IN_RECORD",
                        format!("{}: value not of required type: {value}", label(column)),
                        vec![api(column)],
                    ),
                }
            }
            ViolationKind::WrongType { found, .. } => RecordError::new(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                format!("{}: value not of required type: {found}", label(column)),
                vec![api(column)],
            ),
            ViolationKind::UnknownField => RecordError::new(
                "INVALID_FIELD",
                format!("No such column '{column}' on sobject of type {object}"),
                Vec::new(),
            ),
            ViolationKind::UnknownObject => RecordError::new(
                "INVALID_TYPE",
                format!("sObject type '{object}' is not supported."),
                Vec::new(),
            ),
            ViolationKind::BadReference { detail } => {
                RecordError::new("INVALID_FIELD", format!("{column}: {detail}"), Vec::new())
            }
        };
        errors.push(error);
    }
    let mut all = Vec::new();
    if !read_only.is_empty() {
        all.push(RecordError::new(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            format!(
                "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                read_only.join(", ")
            ),
            read_only,
        ));
    }
    if !missing.is_empty() {
        all.push(RecordError::new(
            "REQUIRED_FIELD_MISSING",
            format!("Required fields are missing: [{}]", missing.join(", ")),
            missing,
        ));
    }
    all.extend(errors);
    all
}
