//! sObject Collections: create (`POST /composite/sobjects`), update (`PATCH`), delete
//! (`DELETE ?ids=`) and upsert by external id (`PATCH /composite/sobjects/{object}/{field}`)
//! of up to 200 records, with per-record save results and `allOrNone`.
//!
//! A request Salesforce cannot read (bad JSON, unknown object or field, an unparseable
//! value, more than 200 records) fails as a whole with 400; otherwise the answer is 200
//! with one result per record, even if every record failed.

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};
use sfdc_types::ObjectDescribe;

use crate::dml::{self, Saved, Target, Values, WriteError};
use crate::errors::{ApiError, RecordError};
use crate::rest::{ApiRequest, Cx, Reply, object_describe};
use crate::store::Txn;
use crate::{ids, urlencoded, wire};

/// Most records per request.
const MAX_RECORDS: usize = 200;

/// What the records of a request are saved with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Create,
    Update,
    Upsert,
}

/// `/composite/sobjects`: POST create, PATCH update, DELETE.
pub(crate) fn handle(cx: &mut Cx<'_>, request: &ApiRequest) -> Result<Reply, ApiError> {
    match request.method.as_str() {
        "POST" => save(cx, request, Mode::Create, None),
        "PATCH" => save(cx, request, Mode::Update, None),
        "DELETE" => delete(cx, request),
        other => Err(ApiError::method_not_allowed(other, "POST,PATCH,DELETE")),
    }
}

/// `PATCH /composite/sobjects/{object}/{field}`: upsert by external id.
pub(crate) fn upsert(
    cx: &mut Cx<'_>,
    request: &ApiRequest,
    object: &str,
    field: &str,
) -> Result<Reply, ApiError> {
    let describe = object_describe(cx.org, object)?;
    let external = describe
        .field(field)
        .filter(|found| found.external_id || found.api_name == "Id")
        .ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_FIELD",
                format!(
                    "Field {field} is not an External ID or indexed field for {}",
                    describe.api_name
                ),
            )
        })?
        .api_name
        .to_string();
    let object = describe.api_name.to_string();
    save(cx, request, Mode::Upsert, Some((object, external)))
}

/// 400 EXCEEDED_ID_LIMIT.
fn too_many() -> ApiError {
    ApiError::bad_request(
        "EXCEEDED_ID_LIMIT",
        format!(
            "record limit reached. cannot submit more than {MAX_RECORDS} records into this call"
        ),
    )
}

/// One record read from the request: its object, values, and the id or external id
/// value it is saved by.
struct Item {
    object: String,
    values: Values,
    target: Result<Target, RecordError>,
}

fn save(
    cx: &mut Cx<'_>,
    request: &ApiRequest,
    mode: Mode,
    upsert_by: Option<(String, String)>,
) -> Result<Reply, ApiError> {
    let body = wire::parse_object(&request.body)?;
    let all_or_none = match body.get("allOrNone") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(flag)) => *flag,
        Some(other) => {
            return Err(ApiError::json_parser(format!(
                "Cannot deserialize instance of boolean from {other} (allOrNone)"
            )));
        }
    };
    let records = match body.get("records") {
        Some(Json::Array(records)) => records,
        _ => {
            return Err(ApiError::json_parser(
                "The request must have a \"records\" array",
            ));
        }
    };
    if records.len() > MAX_RECORDS {
        return Err(too_many());
    }
    let mut items = Vec::with_capacity(records.len());
    for record in records {
        let Json::Object(map) = record else {
            return Err(ApiError::json_parser(format!(
                "Cannot deserialize instance of SObject from {record}"
            )));
        };
        items.push(read_item(cx, map, mode, upsert_by.as_ref())?);
    }
    if mode == Mode::Upsert {
        mark_duplicate_external_ids(cx, &mut items, upsert_by.as_ref());
    }
    let mut local = Txn::new();
    let mut outcomes: Vec<Result<Saved, Vec<RecordError>>> = Vec::with_capacity(items.len());
    for item in items {
        let outcome = match item.target {
            Err(error) => Err(vec![error]),
            Ok(target) => cx
                .org
                .write(&mut local, &item.object, target, item.values)
                .map_err(|error: WriteError| error.record_errors(&item.object)),
        };
        outcomes.push(outcome);
    }
    let failed = outcomes.iter().any(Result::is_err);
    if all_or_none && failed {
        cx.org.rollback(local);
    } else {
        cx.txn.absorb(local);
    }
    let rolled_back = RecordError::new(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
        Vec::new(),
    );
    let results: Vec<Json> = outcomes
        .into_iter()
        .map(|outcome| {
            let outcome = match outcome {
                Ok(_) if all_or_none && failed => Err(vec![rolled_back.clone()]),
                other => other,
            };
            let mut result = match &outcome {
                Ok(saved) => json!({"id": saved.id, "success": true, "errors": []}),
                Err(errors) => json!({
                    "success": false,
                    "errors": errors.iter().map(RecordError::save_json).collect::<Vec<_>>(),
                }),
            };
            if mode == Mode::Upsert {
                result["created"] = Json::Bool(outcome.as_ref().is_ok_and(|saved| saved.created));
            }
            result
        })
        .collect();
    Ok(Reply::json(200, Json::Array(results)))
}

/// Reads one record of the request; fails the request for what Salesforce cannot parse.
fn read_item(
    cx: &Cx<'_>,
    map: &Map<String, Json>,
    mode: Mode,
    upsert_by: Option<&(String, String)>,
) -> Result<Item, ApiError> {
    let given_type = map
        .get("attributes")
        .and_then(|attributes| attributes.get("type"))
        .and_then(Json::as_str);
    let object = match (given_type, upsert_by) {
        (Some(given), Some((object, _))) if !given.eq_ignore_ascii_case(object) => {
            return Err(ApiError::bad_request(
                "INVALID_TYPE",
                format!("The record type {given} does not match the object {object} of the URL"),
            ));
        }
        (_, Some((object, _))) => object.clone(),
        (Some(given), None) => given.to_owned(),
        (None, None) => {
            return Err(ApiError::bad_request(
                "INVALID_TYPE",
                "Each record must have \"attributes\" with its \"type\"",
            ));
        }
    };
    let describe: ObjectDescribe = cx.org.describe(&object).cloned().ok_or_else(|| {
        ApiError::bad_request(
            "INVALID_TYPE",
            format!("sObject type '{object}' is not supported."),
        )
    })?;
    let mut values = dml::json_values(cx.org, &describe, map)?;
    let target = match mode {
        Mode::Create => Ok(Target::Insert),
        Mode::Update => match values.iter().position(|(name, _)| name == "Id") {
            Some(at) => {
                let (_, id) = values.remove(at);
                match ids::normalize(&wire::value_text(&id)) {
                    Some(id) => Ok(Target::Update(id)),
                    None => Err(RecordError::new(
                        "MALFORMED_ID",
                        format!(
                            "Record ID: id value of incorrect type: {}",
                            wire::value_text(&id)
                        ),
                        vec!["Id".to_owned()],
                    )),
                }
            }
            None => Err(RecordError::new(
                "MISSING_ARGUMENT",
                "Id not specified in an update call",
                Vec::new(),
            )),
        },
        Mode::Upsert => {
            let field = upsert_by.map(|(_, field)| field.as_str()).unwrap_or("Id");
            let given = values
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(field))
                .map(|(_, value)| wire::value_text(value))
                .filter(|value| !value.is_empty());
            if field == "Id" {
                values.retain(|(name, _)| name != "Id");
            }
            match given {
                Some(value) => Ok(Target::Upsert {
                    field: field.to_owned(),
                    value,
                }),
                None => Err(RecordError::new(
                    "MISSING_ARGUMENT",
                    format!("{field} not specified"),
                    Vec::new(),
                )),
            }
        }
    };
    Ok(Item {
        object: describe.api_name.to_string(),
        values,
        target,
    })
}

/// Records of one upsert naming the same external id all fail, as in Salesforce.
fn mark_duplicate_external_ids(
    cx: &Cx<'_>,
    items: &mut [Item],
    upsert_by: Option<&(String, String)>,
) {
    let Some((object, field)) = upsert_by else {
        return;
    };
    let field = cx
        .org
        .describe(object)
        .and_then(|describe| describe.field(field))
        .cloned();
    let key = |item: &Item| match &item.target {
        Ok(Target::Upsert { value, .. }) => Some(match &field {
            Some(field) if field.case_sensitive => value.clone(),
            _ => value.to_lowercase(),
        }),
        _ => None,
    };
    let mut counts: HashMap<String, usize> = HashMap::new();
    for item in items.iter() {
        if let Some(key) = key(item) {
            *counts.entry(key).or_default() += 1;
        }
    }
    for item in items.iter_mut() {
        if let (Some(key), Ok(Target::Upsert { value, .. })) = (key(item), &item.target)
            && counts.get(&key).is_some_and(|count| *count > 1)
        {
            item.target = Err(RecordError::new(
                "DUPLICATE_EXTERNAL_ID",
                format!("Duplicate external id specified: {value}"),
                Vec::new(),
            ));
        }
    }
}

/// `DELETE /composite/sobjects?ids=…&allOrNone=…`.
fn delete(cx: &mut Cx<'_>, request: &ApiRequest) -> Result<Reply, ApiError> {
    let params = request.params();
    let ids: Vec<String> = urlencoded::get(&params, "ids")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "MISSING_ARGUMENT",
            "ids not specified",
        ));
    }
    if ids.len() > MAX_RECORDS {
        return Err(too_many());
    }
    let all_or_none =
        urlencoded::get(&params, "allOrNone").is_some_and(|flag| flag.eq_ignore_ascii_case("true"));
    let mut local = Txn::new();
    let outcomes: Vec<(String, Result<(), Vec<RecordError>>)> = ids
        .into_iter()
        .map(|id| {
            let outcome = cx
                .org
                .delete(&mut local, None, &id)
                .map_err(|error| match error {
                    WriteError::NotFound => vec![RecordError::new(
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                        Vec::new(),
                    )],
                    other => other.record_errors(""),
                });
            (ids::normalize(&id).unwrap_or(id), outcome)
        })
        .collect();
    let failed = outcomes.iter().any(|(_, outcome)| outcome.is_err());
    if all_or_none && failed {
        cx.org.rollback(local);
    } else {
        cx.txn.absorb(local);
    }
    let results: Vec<Json> = outcomes
        .into_iter()
        .map(|(id, outcome)| match outcome {
            Ok(()) if all_or_none && failed => json!({
                "id": id,
                "success": false,
                "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}],
            }),
            Ok(()) => json!({"id": id, "success": true, "errors": []}),
            Err(errors) => json!({
                "id": id,
                "success": false,
                "errors": errors.iter().map(RecordError::save_json).collect::<Vec<_>>(),
            }),
        })
        .collect();
    Ok(Reply::json(200, Json::Array(results)))
}
