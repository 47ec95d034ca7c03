//! The REST API under `/services/data/vXX.X/`: routing, and the sObject, query and limits
//! resources. Composite, sObject Collections and Bulk have their own modules.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Map, Value as Json, json};
use sfdc_types::{ObjectDescribe, Value};

use crate::dml::{self, Saved, Target, WriteError};
use crate::errors::ApiError;
use crate::query::{self, Cursors};
use crate::server::Shared;
use crate::store::{Org, Record, Txn};
use crate::{bulk, collections, composite, describe, ids, limits, urlencoded, wire};

/// A REST call, from HTTP or from a Composite subrequest.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    pub method: String,
    /// The path after `/services/data/vXX.X/`, still percent-encoded.
    pub path: String,
    /// The query string.
    pub query: Option<String>,
    /// `Sforce-Query-Options: batchSize=N`.
    pub batch_size: Option<usize>,
    /// `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// The decoded query string parameters.
    pub fn params(&self) -> Vec<(String, String)> {
        self.query
            .as_deref()
            .map(urlencoded::parse)
            .unwrap_or_default()
    }
}

/// The body of a reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ReplyBody {
    /// JSON.
    Json(Json),
    /// CSV text (Bulk results).
    Csv(String),
    /// Nothing (204, 201 of a Bulk upload).
    Empty,
}

/// The answer to a REST call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: ReplyBody,
    /// Extra headers (e.g. `Location`).
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, json: Json) -> Self {
        Self {
            status,
            body: ReplyBody::Json(json),
            headers: Vec::new(),
        }
    }

    /// An answer without body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            body: ReplyBody::Empty,
            headers: Vec::new(),
        }
    }

    /// An error answer.
    pub fn error(error: ApiError) -> Self {
        Self::json(error.status, error.body)
    }

    fn with_header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.to_owned(), value));
        self
    }
}

/// What a handler works with: the shared state, the locked org and the transaction the
/// call's writes are logged in.
pub(crate) struct Cx<'a> {
    /// Shared state (config, cursors, jobs).
    pub shared: &'a Arc<Shared>,
    /// The org, locked for the call.
    pub org: &'a mut Org,
    /// Undo log of the call (or of the all-or-none Composite request around it).
    pub txn: &'a mut Txn,
    /// API version of the URL, e.g. `62.0`.
    pub version: &'a str,
}

/// Routes a REST call to its resource.
pub(crate) fn dispatch(cx: &mut Cx<'_>, request: &ApiRequest) -> Reply {
    let segments: Vec<String> = request
        .path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| urlencoded::decode(segment, false))
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = request.method.as_str();
    let result = match segments.as_slice() {
        [] => only(method, "GET").map(|()| resources(cx.version)),
        ["limits"] => only(method, "GET").map(|()| {
            let used = cx.shared.api_calls.load(Ordering::SeqCst);
            let max = cx.shared.daily_limit.load(Ordering::SeqCst);
            let batches = cx.shared.lock_jobs().batches_today();
            Reply::json(200, limits::body(used, max, batches))
        }),
        ["sobjects"] => {
            only(method, "GET").map(|()| Reply::json(200, describe::global(cx.org, cx.version)))
        }
        ["sobjects", object] => sobject(cx, request, object),
        ["sobjects", object, "describe"] => only(method, "GET").and_then(|()| {
            let describe = object_describe(cx.org, object)?;
            Ok(Reply::json(
                200,
                describe::full(cx.org, describe, cx.version),
            ))
        }),
        ["sobjects", object, id] => record(cx, request, object, id),
        ["sobjects", object, field, value] => external_id(cx, request, object, field, value),
        ["query" | "queryAll"] => only(method, "GET").and_then(|()| query(cx, request)),
        ["query" | "queryAll", locator] => only(method, "GET").and_then(|()| {
            let batch = batch_size(cx.shared, request);
            let mut cursors = cx
                .shared
                .cursors
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            cursors
                .next_page(locator, batch, cx.version)
                .map(|page| Reply::json(200, page))
        }),
        ["composite"] => only(method, "POST").and_then(|()| composite::handle(cx, request)),
        ["composite", "sobjects"] => collections::handle(cx, request),
        ["composite", "sobjects", object, field] => {
            only(method, "PATCH").and_then(|()| collections::upsert(cx, request, object, field))
        }
        ["jobs", "ingest", rest @ ..] => bulk::handle(cx, request, rest),
        _ => Err(ApiError::not_found()),
    };
    result.unwrap_or_else(Reply::error)
}

/// Fails with 405 unless the method is `allowed`.
fn only(method: &str, allowed: &str) -> Result<(), ApiError> {
    if method == allowed {
        Ok(())
    } else {
        Err(ApiError::method_not_allowed(method, allowed))
    }
}

fn resources(version: &str) -> Reply {
    let base = format!("/services/data/v{version}");
    Reply::json(
        200,
        json!({
            "sobjects": format!("{base}/sobjects"),
            "query": format!("{base}/query"),
            "queryAll": format!("{base}/queryAll"),
            "limits": format!("{base}/limits"),
            "composite": format!("{base}/composite"),
            "jobs": format!("{base}/jobs"),
        }),
    )
}

/// The describe of `object`, or 404 NOT_FOUND as Salesforce answers for an unknown type.
pub(crate) fn object_describe<'o>(
    org: &'o Org,
    object: &str,
) -> Result<&'o ObjectDescribe, ApiError> {
    org.describe(object).ok_or_else(ApiError::not_found)
}

/// The REST answer to a failed write or delete.
pub(crate) fn write_error(error: WriteError, version: &str, object: &str) -> ApiError {
    match error {
        WriteError::Invalid(errors) => ApiError::records(400, &errors),
        WriteError::NotFound => ApiError::not_found(),
        WriteError::Deleted => ApiError::new(404, "ENTITY_IS_DELETED", "entity is deleted"),
        WriteError::Multiple(ids) => ApiError {
            status: 300,
            body: Json::Array(
                ids.iter()
                    .map(|id| {
                        Json::String(format!("/services/data/v{version}/sobjects/{object}/{id}"))
                    })
                    .collect(),
            ),
        },
    }
}

/// `{"id", "success", "errors"}` of a save, with `created` for upserts.
fn save_result(saved: &Saved, with_created: bool) -> Json {
    let mut result = json!({"id": saved.id, "success": true, "errors": []});
    if with_created {
        result["created"] = Json::Bool(saved.created);
    }
    result
}

/// `/sobjects/{object}`: GET basic information, POST create.
fn sobject(cx: &mut Cx<'_>, request: &ApiRequest, object: &str) -> Result<Reply, ApiError> {
    let describe = object_describe(cx.org, object)?.clone();
    match request.method.as_str() {
        "GET" => Ok(Reply::json(
            200,
            json!({"objectDescribe": describe::basic(cx.org, &describe, cx.version), "recentItems": []}),
        )),
        "POST" => {
            let body = wire::parse_object(&request.body)?;
            let values = dml::json_values(cx.org, &describe, &body)?;
            let name = describe.api_name.as_ref();
            let saved = cx
                .org
                .write(cx.txn, name, Target::Insert, values)
                .map_err(|error| write_error(error, cx.version, name))?;
            let location = format!(
                "/services/data/v{}/sobjects/{name}/{}",
                cx.version, saved.id
            );
            Ok(Reply::json(201, save_result(&saved, false)).with_header("Location", location))
        }
        other => Err(ApiError::method_not_allowed(other, "GET,POST")),
    }
}

/// `/sobjects/{object}/{id}`: GET, PATCH, DELETE.
fn record(
    cx: &mut Cx<'_>,
    request: &ApiRequest,
    object: &str,
    id: &str,
) -> Result<Reply, ApiError> {
    let describe = object_describe(cx.org, object)?.clone();
    let name = describe.api_name.as_ref();
    let Some(id) = ids::normalize(id) else {
        return Err(ApiError::new(
            404,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {id}"),
        ));
    };
    match request.method.as_str() {
        "GET" => {
            let stored = stored(cx.org, name, &id)?;
            let fields = urlencoded::get(&request.params(), "fields").map(str::to_owned);
            Ok(Reply::json(
                200,
                record_json(&describe, stored, fields.as_deref(), cx.version)?,
            ))
        }
        "PATCH" => {
            let body = wire::parse_object(&request.body)?;
            let mut values = dml::json_values(cx.org, &describe, &body)?;
            strip_id(&mut values, &id)?;
            cx.org
                .write(cx.txn, name, Target::Update(id), values)
                .map_err(|error| write_error(error, cx.version, name))?;
            Ok(Reply::empty(204))
        }
        "DELETE" => {
            cx.org
                .delete(cx.txn, Some(name), &id)
                .map_err(|error| write_error(error, cx.version, name))?;
            Ok(Reply::empty(204))
        }
        other => Err(ApiError::method_not_allowed(other, "GET,PATCH,DELETE")),
    }
}

/// Drops `Id` from an update's values if it names the record being updated.
pub(crate) fn strip_id(values: &mut dml::Values, id: &str) -> Result<(), ApiError> {
    if let Some(at) = values.iter().position(|(name, _)| name == "Id") {
        let (_, given) = values.remove(at);
        let same = match &given {
            Value::Text(text) => ids::normalize(text).as_deref() == Some(id),
            Value::Null => true,
            _ => false,
        };
        if !same {
            return Err(ApiError::bad_request(
                "INVALID_FIELD",
                format!(
                    "The Id in the body ({}) does not match the record in the URL ({id})",
                    wire::value_text(&given)
                ),
            ));
        }
    }
    Ok(())
}

/// The stored record `id` of `object`, or 404 (NOT_FOUND, or ENTITY_IS_DELETED).
fn stored<'o>(org: &'o Org, object: &str, id: &str) -> Result<&'o Record, ApiError> {
    match org.table(object).and_then(|table| table.records.get(id)) {
        Some(record) => Ok(record),
        None if org.was_deleted(id) => {
            Err(ApiError::new(404, "ENTITY_IS_DELETED", "entity is deleted"))
        }
        None => Err(ApiError::not_found()),
    }
}

/// A record as `GET /sobjects/{object}/{id}` answers it: every field in describe order,
/// or only those listed in `fields`.
pub(crate) fn record_json(
    describe: &ObjectDescribe,
    record: &Record,
    fields: Option<&str>,
    version: &str,
) -> Result<Json, ApiError> {
    let id = match record.get("Id") {
        Some(Value::Text(id)) => id.as_str(),
        _ => "",
    };
    let mut out = Map::new();
    out.insert(
        "attributes".to_owned(),
        query::attributes(&describe.api_name, id, version),
    );
    let names: Vec<String> = match fields {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                describe
                    .field(name)
                    .map(|field| field.api_name.to_string())
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "INVALID_FIELD",
                            format!(
                                "No such column '{name}' on sobject of type {}",
                                describe.api_name
                            ),
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
        None => describe
            .fields
            .iter()
            .map(|field| field.api_name.to_string())
            .collect(),
    };
    for name in names {
        let value = record.get(&name).map_or(Json::Null, wire::value_json);
        out.insert(name, value);
    }
    Ok(Json::Object(out))
}

/// `/sobjects/{object}/{field}/{value}`: PATCH upsert, GET and DELETE by external id.
fn external_id(
    cx: &mut Cx<'_>,
    request: &ApiRequest,
    object: &str,
    field: &str,
    value: &str,
) -> Result<Reply, ApiError> {
    let describe = object_describe(cx.org, object)?.clone();
    let name = describe.api_name.as_ref();
    let field_describe = if field.eq_ignore_ascii_case("Id") {
        None
    } else {
        let found = describe.field(field).ok_or_else(|| {
            ApiError::new(
                404,
                "NOT_FOUND",
                format!("Provided external ID field does not exist or is not accessible: {field}"),
            )
        })?;
        if !found.external_id {
            return Err(ApiError::bad_request(
                "INVALID_FIELD",
                format!(
                    "Field {} is not an External ID or indexed field for {name}",
                    found.api_name
                ),
            ));
        }
        Some(found.clone())
    };
    let field = field_describe
        .as_ref()
        .map_or_else(|| "Id".to_owned(), |f| f.api_name.to_string());
    match request.method.as_str() {
        "PATCH" => {
            let body = wire::parse_object(&request.body)?;
            let mut values = dml::json_values(cx.org, &describe, &body)?;
            if field == "Id" {
                let id = ids::normalize(value).ok_or_else(ApiError::not_found)?;
                strip_id(&mut values, &id)?;
            }
            let target = Target::Upsert {
                field,
                value: value.to_owned(),
            };
            let saved = cx
                .org
                .write(cx.txn, name, target, values)
                .map_err(|error| write_error(error, cx.version, name))?;
            if saved.created {
                let location = format!(
                    "/services/data/v{}/sobjects/{name}/{}",
                    cx.version, saved.id
                );
                Ok(Reply::json(201, save_result(&saved, true)).with_header("Location", location))
            } else if cx.shared.config.upsert_update_status == 204 {
                Ok(Reply::empty(204))
            } else {
                Ok(Reply::json(200, save_result(&saved, true)))
            }
        }
        "GET" | "DELETE" => {
            let found = match &field_describe {
                None => ids::normalize(value).into_iter().collect(),
                Some(field) => {
                    let key = wire::text_value(field, value).map_err(|_| ApiError::not_found())?;
                    cx.org.find_by(name, field, &key)
                }
            };
            let id = match found.as_slice() {
                [id] => id.clone(),
                [] => return Err(ApiError::not_found()),
                _ => return Err(write_error(WriteError::Multiple(found), cx.version, name)),
            };
            if request.method == "GET" {
                let stored = stored(cx.org, name, &id)?;
                let fields = urlencoded::get(&request.params(), "fields").map(str::to_owned);
                Ok(Reply::json(
                    200,
                    record_json(&describe, stored, fields.as_deref(), cx.version)?,
                ))
            } else {
                cx.org
                    .delete(cx.txn, Some(name), &id)
                    .map_err(|error| write_error(error, cx.version, name))?;
                Ok(Reply::empty(204))
            }
        }
        other => Err(ApiError::method_not_allowed(other, "GET,PATCH,DELETE")),
    }
}

/// Records per query page: `Sforce-Query-Options: batchSize` (200 to 2,000) or the
/// configured size.
fn batch_size(shared: &Shared, request: &ApiRequest) -> usize {
    match request.batch_size {
        Some(size) => size.clamp(200, 2000),
        None => shared.config.query_batch_size.max(1),
    }
}

/// `GET /query?q=…`.
fn query(cx: &mut Cx<'_>, request: &ApiRequest) -> Result<Reply, ApiError> {
    let params = request.params();
    let Some(soql) = urlencoded::get(&params, "q").filter(|q| !q.trim().is_empty()) else {
        return Err(ApiError::bad_request(
            "MALFORMED_QUERY",
            "A query string has to be specified",
        ));
    };
    let rows = query::run(cx.org, soql, cx.version)?;
    let batch = batch_size(cx.shared, request);
    let mut cursors = cx
        .shared
        .cursors
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(Reply::json(
        200,
        Cursors::first_page(&mut cursors, rows, batch, cx.version),
    ))
}
