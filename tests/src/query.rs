//! Running a parsed SOQL query against the org: field paths resolved through the data
//! model (with Salesforce's INVALID_FIELD / INVALID_TYPE errors), literals checked against
//! field types, rows filtered, sorted, limited and shaped as Salesforce answers them, and
//! cursors for `nextRecordsUrl`.

use std::cmp::Ordering;
use std::collections::VecDeque;

use serde_json::{Map, Value as Json, json};
use sfdc_types::{FieldDescribe, FieldType, ObjectDescribe, Value};

use crate::errors::ApiError;
use crate::ids;
use crate::soql::{self, CmpOp, Cond, Literal, Query, QueryError, Select, Spanned};
use crate::store::{Org, Record};
use crate::wire;

/// Most cursors open at once; opening another closes the oldest, as in Salesforce.
const MAX_OPEN_CURSORS: usize = 10;

/// A field path resolved against the model: the lookups to follow, then the field.
#[derive(Debug, Clone)]
struct FieldPath {
    /// For each hop: (lookup field API name, relationship name, object it points to).
    hops: Vec<(String, String, String)>,
    /// The field read at the end.
    field: FieldDescribe,
}

/// The result of a query: every row shaped as JSON, or only a count.
#[derive(Debug, Clone)]
pub(crate) struct Rows {
    /// The rows (empty for `COUNT()`).
    pub records: Vec<Json>,
    /// `totalSize`.
    pub total: usize,
}

/// Parses and runs `soql`; errors are Salesforce's 400 answers.
pub(crate) fn run(org: &Org, soql: &str, version: &str) -> Result<Rows, ApiError> {
    let fail = |error: QueryError| ApiError::bad_request(error.code, error.render(soql));
    let query = soql::parse(soql).map_err(fail)?;
    execute(org, &query, version).map_err(fail)
}

fn execute(org: &Org, query: &Query, version: &str) -> Result<Rows, QueryError> {
    let describe = org.describe(&query.from.value).ok_or_else(|| {
        QueryError::new(
            "INVALID_TYPE",
            query.from.pos,
            format!(
                "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                query.from.value
            ),
        )
    })?;
    let table = org.table(&describe.api_name).ok_or_else(|| {
        QueryError::new(
            "INVALID_TYPE",
            query.from.pos,
            format!("sObject type '{}' is not supported.", query.from.value),
        )
    })?;
    let selected = match &query.select {
        Select::Count => Vec::new(),
        Select::Fields(fields) => fields
            .iter()
            .map(|field| resolve(org, describe, field))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let filter = query
        .filter
        .as_ref()
        .map(|cond| check(org, describe, cond))
        .transpose()?;
    let order = query
        .order
        .iter()
        .map(|item| {
            let path = resolve(org, describe, &item.field)?;
            if path.field.field_type == FieldType::LongTextArea {
                return Err(QueryError::new(
                    "INVALID_FIELD",
                    item.field.pos,
                    format!(
                        "field '{}' can not be sorted in a query call",
                        path.field.api_name
                    ),
                ));
            }
            Ok((path, item.descending, item.nulls_first))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(offset) = query.offset
        && offset > 2000
    {
        return Err(QueryError::new(
            "NUMBER_OUTSIDE_VALID_RANGE",
            0,
            format!("Maximum SOQL offset allowed is 2000, found {offset}"),
        ));
    }
    let mut rows: Vec<&Record> = table
        .records
        .values()
        .filter(|record| {
            filter
                .as_ref()
                .is_none_or(|cond| matches(org, record, cond))
        })
        .collect();
    if !order.is_empty() {
        rows.sort_by(|a, b| {
            for (path, descending, nulls_first) in &order {
                let (left, right) = (value_of(org, a, path), value_of(org, b, path));
                let ordering = match (left.is_null(), right.is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) if *nulls_first => Ordering::Less,
                    (true, false) => Ordering::Greater,
                    (false, true) if *nulls_first => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => {
                        let ordering = compare(&left, &right).unwrap_or(Ordering::Equal);
                        if *descending {
                            ordering.reverse()
                        } else {
                            ordering
                        }
                    }
                };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            Ordering::Equal
        });
    }
    let offset = usize::try_from(query.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = query.limit.map_or(usize::MAX, |limit| {
        usize::try_from(limit).unwrap_or(usize::MAX)
    });
    let rows: Vec<&Record> = rows.into_iter().skip(offset).take(limit).collect();
    if query.select == Select::Count {
        return Ok(Rows {
            records: Vec::new(),
            total: rows.len(),
        });
    }
    let records: Vec<Json> = rows
        .iter()
        .map(|record| shape(org, describe, record, &selected, version))
        .collect();
    Ok(Rows {
        total: records.len(),
        records,
    })
}

/// Resolves `Rel__r.Other__r.Field__c` from `describe`'s object.
fn resolve(
    org: &Org,
    describe: &ObjectDescribe,
    path: &Spanned<String>,
) -> Result<FieldPath, QueryError> {
    let parts: Vec<&str> = path.value.split('.').collect();
    let (last, relationships) = parts.split_last().unwrap_or((&"", &[]));
    let mut current = describe;
    let mut hops = Vec::new();
    for relationship in relationships {
        let lookup = current.field_by_relationship(relationship);
        let target = lookup
            .and_then(|lookup| lookup.reference_to.as_deref())
            .and_then(|target| org.describe(target));
        let (Some(lookup), Some(target)) = (lookup, target) else {
            return Err(QueryError::new(
                "INVALID_FIELD",
                path.pos,
                format!(
                    "Didn't understand relationship '{relationship}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                ),
            ));
        };
        hops.push((
            lookup.api_name.to_string(),
            lookup
                .relationship_name
                .as_deref()
                .unwrap_or(relationship)
                .to_owned(),
            target.api_name.to_string(),
        ));
        current = target;
    }
    let field = current.field(last).ok_or_else(|| {
        QueryError::new(
            "INVALID_FIELD",
            path.pos,
            format!(
                "No such column '{last}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                current.api_name
            ),
        )
    })?;
    Ok(FieldPath {
        hops,
        field: field.clone(),
    })
}

/// A condition with its paths resolved and literals checked against their fields.
#[derive(Debug, Clone)]
enum Checked {
    And(Vec<Checked>),
    Or(Vec<Checked>),
    Not(Box<Checked>),
    Compare(FieldPath, CmpOp, Literal),
    In(FieldPath, bool, Vec<Literal>),
    Like(FieldPath, Vec<soql::LikePart>),
}

fn check(org: &Org, describe: &ObjectDescribe, cond: &Cond) -> Result<Checked, QueryError> {
    let filterable = |field: &Spanned<String>| -> Result<FieldPath, QueryError> {
        let path = resolve(org, describe, field)?;
        if path.field.field_type == FieldType::LongTextArea {
            return Err(QueryError::new(
                "INVALID_FIELD",
                field.pos,
                format!(
                    "field '{}' can not be filtered in a query call",
                    path.field.api_name
                ),
            ));
        }
        Ok(path)
    };
    Ok(match cond {
        Cond::And(items) => Checked::And(
            items
                .iter()
                .map(|item| check(org, describe, item))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Or(items) => Checked::Or(
            items
                .iter()
                .map(|item| check(org, describe, item))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Not(inner) => Checked::Not(Box::new(check(org, describe, inner)?)),
        Cond::Compare { field, op, value } => {
            let path = filterable(field)?;
            let literal = literal_for(&path.field, &field.value, value)?;
            Checked::Compare(path, *op, literal)
        }
        Cond::In {
            field,
            negated,
            values,
        } => {
            let path = filterable(field)?;
            let literals = values
                .iter()
                .map(|value| literal_for(&path.field, &field.value, value))
                .collect::<Result<_, _>>()?;
            Checked::In(path, *negated, literals)
        }
        Cond::Like { field, pattern } => {
            let path = filterable(field)?;
            if !path.field.field_type.is_text() {
                return Err(QueryError::new(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    field.pos,
                    format!(
                        "invalid operator on field '{}': LIKE applies only to text fields",
                        field.value
                    ),
                ));
            }
            Checked::Like(path, pattern.clone())
        }
    })
}

/// A literal as a value comparable with `field`, or Salesforce's filter error.
fn literal_for(
    field: &FieldDescribe,
    name: &str,
    literal: &Spanned<Literal>,
) -> Result<Literal, QueryError> {
    let wrong = |expected: &str, quoted: bool| {
        QueryError::new(
            "INVALID_QUERY_FILTER_OPERATOR",
            literal.pos,
            format!(
                "value of filter criterion for field '{name}' must be of type {expected} and should {}be enclosed in quotes",
                if quoted { "" } else { "not " }
            ),
        )
    };
    let field_type = field.field_type;
    match (&literal.value, field_type) {
        (Literal::Null, _) => Ok(Literal::Null),
        (Literal::Str(text), FieldType::Id | FieldType::Lookup | FieldType::MasterDetail) => {
            ids::normalize(text).map(Literal::Str).ok_or_else(|| {
                QueryError::new(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    literal.pos,
                    format!("invalid ID field: {text}"),
                )
            })
        }
        (Literal::Str(_), kind) if kind.is_text() => Ok(literal.value.clone()),
        (_, kind) if kind.is_text() => Err(wrong("string", true)),
        (Literal::Num(_), kind) if kind.is_numeric() => Ok(literal.value.clone()),
        (_, kind) if kind.is_numeric() => Err(wrong(wire::soap_type(kind), false)),
        (Literal::Bool(_), FieldType::Checkbox) => Ok(literal.value.clone()),
        (_, FieldType::Checkbox) => Err(wrong("boolean", false)),
        (Literal::Date(_), FieldType::Date) => Ok(literal.value.clone()),
        (_, FieldType::Date) => Err(wrong("date", false)),
        (Literal::DateTime(_), FieldType::DateTime) => Ok(literal.value.clone()),
        (_, FieldType::DateTime) => Err(wrong("dateTime", false)),
        _ => Err(QueryError::new(
            "INVALID_FIELD",
            literal.pos,
            format!("field '{name}' can not be filtered in a query call"),
        )),
    }
}

/// The value at the end of `path` from `record` (null when a lookup on the way is empty).
fn value_of(org: &Org, record: &Record, path: &FieldPath) -> Value {
    let mut current = record;
    for (lookup, _, _) in &path.hops {
        let Some(Value::Text(id)) = current.get(lookup) else {
            return Value::Null;
        };
        let Some((_, parent)) = org.record(id) else {
            return Value::Null;
        };
        current = parent;
    }
    current
        .get(path.field.api_name.as_ref())
        .cloned()
        .unwrap_or(Value::Null)
}

fn matches(org: &Org, record: &Record, cond: &Checked) -> bool {
    match cond {
        Checked::And(items) => items.iter().all(|item| matches(org, record, item)),
        Checked::Or(items) => items.iter().any(|item| matches(org, record, item)),
        Checked::Not(inner) => !matches(org, record, inner),
        Checked::Compare(path, op, literal) => {
            compare_op(&value_of(org, record, path), *op, literal)
        }
        Checked::In(path, negated, literals) => {
            let value = value_of(org, record, path);
            let found = literals
                .iter()
                .any(|literal| compare_op(&value, CmpOp::Eq, literal));
            if *negated { !found } else { found }
        }
        Checked::Like(path, pattern) => match value_of(org, record, path) {
            Value::Text(text) => soql::like(pattern, &text),
            _ => false,
        },
    }
}

/// SOQL's comparison: `= null` and `!= null` test for null; any other comparison with a
/// null is false, except `!=` against a value, which a null satisfies.
fn compare_op(value: &Value, op: CmpOp, literal: &Literal) -> bool {
    match (value.is_null(), literal) {
        (true, Literal::Null) => return op == CmpOp::Eq,
        (false, Literal::Null) => return op == CmpOp::Ne,
        (true, _) => return op == CmpOp::Ne,
        _ => {}
    }
    let ordering = match (value, literal) {
        (Value::Text(text), Literal::Str(other)) => {
            Some(text.to_lowercase().cmp(&other.to_lowercase()))
        }
        (Value::Decimal(number), Literal::Num(other)) => Some(number.cmp(other)),
        (Value::Integer(number), Literal::Num(other)) => {
            Some(sfdc_types::rust_decimal::Decimal::from(*number).cmp(other))
        }
        (Value::Bool(flag), Literal::Bool(other)) => Some(flag.cmp(other)),
        (Value::Date(date), Literal::Date(other)) => Some(date.cmp(other)),
        (Value::DateTime(datetime), Literal::DateTime(other)) => Some(datetime.cmp(other)),
        _ => None,
    };
    let Some(ordering) = ordering else {
        return op == CmpOp::Ne;
    };
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}

/// Order of two non-null values of one field (text without case).
fn compare(left: &Value, right: &Value) -> Option<Ordering> {
    Some(match (left, right) {
        (Value::Text(a), Value::Text(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
        (Value::Decimal(a), Value::Decimal(b)) => a.cmp(b),
        (Value::Integer(a), Value::Integer(b)) => a.cmp(b),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Date(a), Value::Date(b)) => a.cmp(b),
        (Value::DateTime(a), Value::DateTime(b)) => a.cmp(b),
        (Value::Time(a), Value::Time(b)) => a.cmp(b),
        _ => return None,
    })
}

/// `{"type": …, "url": …}` of a record.
pub(crate) fn attributes(object: &str, id: &str, version: &str) -> Json {
    json!({"type": object, "url": format!("/services/data/v{version}/sobjects/{object}/{id}")})
}

/// A row as Salesforce answers it: `attributes`, then the selected fields, parents nested
/// under their relationship name (null when the lookup is empty).
fn shape(
    org: &Org,
    describe: &ObjectDescribe,
    record: &Record,
    selected: &[FieldPath],
    version: &str,
) -> Json {
    let mut row = Map::new();
    let id = match record.get("Id") {
        Some(Value::Text(id)) => id.as_str(),
        _ => "",
    };
    row.insert(
        "attributes".to_owned(),
        attributes(&describe.api_name, id, version),
    );
    for path in selected {
        put_path(org, &mut row, record, &path.hops, &path.field, version);
    }
    Json::Object(row)
}

fn put_path(
    org: &Org,
    row: &mut Map<String, Json>,
    record: &Record,
    hops: &[(String, String, String)],
    field: &FieldDescribe,
    version: &str,
) {
    let Some(((lookup, relationship, _), rest)) = hops.split_first() else {
        let value = record
            .get(field.api_name.as_ref())
            .map_or(Json::Null, wire::value_json);
        row.insert(field.api_name.to_string(), value);
        return;
    };
    let parent = match record.get(lookup) {
        Some(Value::Text(id)) => org.record(id),
        _ => None,
    };
    let Some((parent_object, parent)) = parent else {
        row.entry(relationship.clone()).or_insert(Json::Null);
        return;
    };
    let entry = row.entry(relationship.clone()).or_insert_with(|| {
        let parent_id = match parent.get("Id") {
            Some(Value::Text(id)) => id.as_str(),
            _ => "",
        };
        let mut nested = Map::new();
        nested.insert(
            "attributes".to_owned(),
            attributes(parent_object, parent_id, version),
        );
        Json::Object(nested)
    });
    if let Json::Object(nested) = entry {
        put_path(org, nested, parent, rest, field, version);
    }
}

/// Open query cursors: the rows of each query not answered in one page.
#[derive(Debug, Default)]
pub(crate) struct Cursors {
    open: VecDeque<(String, Vec<Json>)>,
    opened: u64,
}

impl Cursors {
    /// Keeps `records` behind a new locator (`01g…`), closing the oldest cursor if too
    /// many are open.
    fn open(&mut self, records: Vec<Json>) -> String {
        self.opened += 1;
        let locator = ids::make(ids::QUERY_LOCATOR_PREFIX, self.opened)[..15].to_owned();
        if self.open.len() >= MAX_OPEN_CURSORS {
            self.open.pop_front();
        }
        self.open.push_back((locator.clone(), records));
        locator
    }

    /// The first page of a query's rows, keeping the rest behind a cursor.
    pub fn first_page(&mut self, rows: Rows, batch: usize, version: &str) -> Json {
        if rows.records.len() <= batch {
            return json!({"totalSize": rows.total, "done": true, "records": rows.records});
        }
        let page: Vec<Json> = rows.records[..batch].to_vec();
        let locator = self.open(rows.records);
        json!({
            "totalSize": rows.total,
            "done": false,
            "nextRecordsUrl": format!("/services/data/v{version}/query/{locator}-{batch}"),
            "records": page,
        })
    }

    /// The page at `locator-offset`; the cursor closes once its last page is answered.
    pub fn next_page(
        &mut self,
        token: &str,
        batch: usize,
        version: &str,
    ) -> Result<Json, ApiError> {
        let invalid = || ApiError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator");
        let (locator, offset) = token.rsplit_once('-').ok_or_else(invalid)?;
        let offset: usize = offset.parse().map_err(|_| invalid())?;
        let at = self
            .open
            .iter()
            .position(|(open, _)| open == locator)
            .ok_or_else(invalid)?;
        let records = &self.open[at].1;
        if offset > records.len() {
            return Err(invalid());
        }
        let end = (offset + batch).min(records.len());
        let total = records.len();
        let page: Vec<Json> = records[offset..end].to_vec();
        if end >= total {
            self.open.remove(at);
            return Ok(json!({"totalSize": total, "done": true, "records": page}));
        }
        Ok(json!({
            "totalSize": total,
            "done": false,
            "nextRecordsUrl": format!("/services/data/v{version}/query/{locator}-{end}"),
            "records": page,
        }))
    }
}
