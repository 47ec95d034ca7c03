//! Bulk API 2.0 ingest jobs (`/jobs/ingest`): create a job, upload CSV, mark it
//! UploadComplete, and the job is processed in the background against the data model
//! (Open → UploadComplete → InProgress → JobComplete), leaving successful, failed and
//! unprocessed records as CSV result files.
//!
//! Cells follow Bulk API 2.0: an empty cell leaves the field unchanged, `#N/A` clears it,
//! a column `Rel__r.Field__c` names a parent by external id. A header naming a field the
//! object does not have fails the whole job, as in Salesforce.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use sfdc_types::time::OffsetDateTime;
use sfdc_types::{ObjectDescribe, Value, parse_csv};

use crate::dml::{Target, Values};
use crate::errors::{ApiError, RecordError};
use crate::rest::{ApiRequest, Cx, Reply, ReplyBody};
use crate::server::Shared;
use crate::store::Txn;
use crate::{ids, wire};

/// Rows processed per lock of the org, like Salesforce's chunks of 200.
const CHUNK: usize = 200;
/// How long a job waits in UploadComplete before processing starts.
const QUEUE_DELAY: Duration = Duration::from_millis(20);

/// What a job does with its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Insert,
    Update,
    Upsert,
    Delete,
    HardDelete,
}

impl Operation {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "insert" => Operation::Insert,
            "update" => Operation::Update,
            "upsert" => Operation::Upsert,
            "delete" => Operation::Delete,
            "hardDelete" => Operation::HardDelete,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
            Operation::HardDelete => "hardDelete",
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    UploadComplete,
    InProgress,
    JobComplete,
    Failed,
    Aborted,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Open => "Open",
            State::UploadComplete => "UploadComplete",
            State::InProgress => "InProgress",
            State::JobComplete => "JobComplete",
            State::Failed => "Failed",
            State::Aborted => "Aborted",
        }
    }

    fn is_final(self) -> bool {
        matches!(self, State::JobComplete | State::Failed | State::Aborted)
    }
}

/// One ingest job.
#[derive(Debug, Clone)]
struct Job {
    id: String,
    object: String,
    operation: Operation,
    external_id_field: Option<String>,
    line_ending: String,
    state: State,
    created: OffsetDateTime,
    modstamp: OffsetDateTime,
    created_by: String,
    api_version: String,
    data: Option<String>,
    header: Vec<String>,
    successful: Vec<Vec<String>>,
    failed: Vec<Vec<String>>,
    unprocessed: Vec<Vec<String>>,
    error_message: Option<String>,
    processing: Duration,
}

/// Every ingest job of the org.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    jobs: HashMap<String, Job>,
    order: Vec<String>,
    created: u64,
    batches: u64,
}

impl Jobs {
    /// Bulk batches used today (one per job that was processed).
    pub fn batches_today(&self) -> u64 {
        self.batches
    }

    fn get(&mut self, id: &str) -> Result<&mut Job, ApiError> {
        let id = ids::normalize(id).unwrap_or_else(|| id.to_owned());
        self.jobs.get_mut(&id).ok_or_else(|| {
            ApiError::new(
                404,
                "NOT_FOUND",
                format!("Could not find job with ID: {id}"),
            )
        })
    }
}

/// `/jobs/ingest/…`.
pub(crate) fn handle(
    cx: &mut Cx<'_>,
    request: &ApiRequest,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    let method = request.method.as_str();
    match rest {
        [] => match method {
            "POST" => create(cx, request),
            "GET" => {
                let jobs = cx.shared.lock_jobs();
                let records: Vec<Json> = jobs
                    .order
                    .iter()
                    .filter_map(|id| jobs.jobs.get(id))
                    .map(|job| info(job, false))
                    .collect();
                Ok(Reply::json(
                    200,
                    json!({"done": true, "records": records, "nextRecordsUrl": null}),
                ))
            }
            other => Err(ApiError::method_not_allowed(other, "GET,POST")),
        },
        [id] => match method {
            "GET" => Ok(Reply::json(200, info(cx.shared.lock_jobs().get(id)?, true))),
            "PATCH" => change_state(cx, request, id),
            "DELETE" => {
                let mut jobs = cx.shared.lock_jobs();
                let job = jobs.get(id)?;
                if matches!(job.state, State::Open | State::InProgress) {
                    return Err(ApiError::bad_request(
                        "INVALIDJOBSTATE",
                        format!(
                            "Job {} is {}: only a job that is UploadComplete, JobComplete, Aborted or Failed can be deleted",
                            job.id,
                            job.state.as_str()
                        ),
                    ));
                }
                let job_id = job.id.clone();
                jobs.jobs.remove(&job_id);
                jobs.order.retain(|other| *other != job_id);
                Ok(Reply::empty(204))
            }
            other => Err(ApiError::method_not_allowed(other, "GET,PATCH,DELETE")),
        },
        [id, "batches"] => match method {
            "PUT" => upload(cx, request, id),
            other => Err(ApiError::method_not_allowed(other, "PUT")),
        },
        [
            id,
            kind @ ("successfulResults" | "failedResults" | "unprocessedrecords"),
        ] => match method {
            "GET" => {
                let mut jobs = cx.shared.lock_jobs();
                let job = jobs.get(id)?;
                Ok(Reply {
                    status: 200,
                    body: ReplyBody::Csv(results(job, kind)),
                    headers: Vec::new(),
                })
            }
            other => Err(ApiError::method_not_allowed(other, "GET")),
        },
        _ => Err(ApiError::not_found()),
    }
}

fn invalid_job(message: String) -> ApiError {
    ApiError::bad_request("INVALIDJOB", format!("InvalidJob : {message}"))
}

/// `POST /jobs/ingest`.
fn create(cx: &mut Cx<'_>, request: &ApiRequest) -> Result<Reply, ApiError> {
    let body = wire::parse_object(&request.body)?;
    let text = |name: &str| body.get(name).and_then(Json::as_str);
    let object = text("object").unwrap_or_default();
    let describe = cx
        .org
        .describe(object)
        .ok_or_else(|| invalid_job(format!("Unable to find object: {object}")))?
        .clone();
    if describe.api_name.ends_with("__mdt") || describe.api_name.eq_ignore_ascii_case("User") {
        return Err(invalid_job(format!(
            "Entity '{}' is not supported by the Bulk API.",
            describe.api_name
        )));
    }
    let operation_text = text("operation").unwrap_or_default();
    let operation = Operation::parse(operation_text)
        .ok_or_else(|| invalid_job(format!("Invalid operation: {operation_text}")))?;
    let external_id_field = match (operation, text("externalIdFieldName")) {
        (Operation::Upsert, None | Some("")) => {
            return Err(invalid_job(format!(
                "External ID was blank for {}. An External ID must be specified for upsert.",
                describe.api_name
            )));
        }
        (Operation::Upsert, Some(field)) => {
            let found = describe
                .field(field)
                .filter(|found| found.external_id || found.api_name == "Id")
                .ok_or_else(|| {
                    invalid_job(format!(
                        "Field name provided, {field} is not an External ID or indexed field for {}",
                        describe.api_name
                    ))
                })?;
            Some(found.api_name.to_string())
        }
        _ => None,
    };
    if let Some(content_type) = text("contentType")
        && content_type != "CSV"
    {
        return Err(invalid_job(format!(
            "Unsupported contentType: {content_type}; only CSV is supported"
        )));
    }
    if let Some(delimiter) = text("columnDelimiter")
        && delimiter != "COMMA"
    {
        return Err(invalid_job(format!(
            "columnDelimiter {delimiter} is not supported by this org; use COMMA"
        )));
    }
    let line_ending = text("lineEnding").unwrap_or("LF").to_owned();
    if line_ending != "LF" && line_ending != "CRLF" {
        return Err(invalid_job(format!(
            "Invalid lineEnding: {line_ending}; use LF or CRLF"
        )));
    }
    let now = cx.org.next_stamp();
    let mut jobs = cx.shared.lock_jobs();
    jobs.created += 1;
    let id = ids::make(ids::JOB_PREFIX, jobs.created);
    let job = Job {
        id: id.clone(),
        object: describe.api_name.to_string(),
        operation,
        external_id_field,
        line_ending,
        state: State::Open,
        created: now,
        modstamp: now,
        created_by: cx.org.user_id.clone(),
        api_version: cx.version.to_owned(),
        data: None,
        header: Vec::new(),
        successful: Vec::new(),
        failed: Vec::new(),
        unprocessed: Vec::new(),
        error_message: None,
        processing: Duration::ZERO,
    };
    let answer = info(&job, false);
    jobs.jobs.insert(id.clone(), job);
    jobs.order.push(id);
    Ok(Reply::json(200, answer))
}

/// `PUT /jobs/ingest/{id}/batches`.
fn upload(cx: &mut Cx<'_>, request: &ApiRequest, id: &str) -> Result<Reply, ApiError> {
    let content_type = request.content_type.to_ascii_lowercase();
    if !content_type.is_empty() && !content_type.contains("csv") {
        return Err(ApiError::bad_request(
            "INVALIDJOB",
            format!(
                "InvalidJob : Content-Type must be text/csv, found {}",
                request.content_type
            ),
        ));
    }
    let mut jobs = cx.shared.lock_jobs();
    let job = jobs.get(id)?;
    if job.state != State::Open {
        return Err(ApiError::new(
            409,
            "INVALIDJOBSTATE",
            format!(
                "Job {} is {}: data can only be uploaded to an Open job",
                job.id,
                job.state.as_str()
            ),
        ));
    }
    if job.data.is_some() {
        return Err(ApiError::new(
            409,
            "INVALIDJOBSTATE",
            format!(
                "Data was already uploaded for job {}: a job takes one upload",
                job.id
            ),
        ));
    }
    job.data = Some(String::from_utf8_lossy(&request.body).into_owned());
    Ok(Reply::empty(201))
}

/// `PATCH /jobs/ingest/{id}` with `{"state": "UploadComplete" | "Aborted"}`.
fn change_state(cx: &mut Cx<'_>, request: &ApiRequest, id: &str) -> Result<Reply, ApiError> {
    let body = wire::parse_object(&request.body)?;
    let wanted = body.get("state").and_then(Json::as_str).unwrap_or_default();
    let mut jobs = cx.shared.lock_jobs();
    let job = jobs.get(id)?;
    let bad_state = |job: &Job| {
        ApiError::bad_request(
            "INVALIDJOBSTATE",
            format!(
                "Job {} is {}: it cannot move to {wanted}",
                job.id,
                job.state.as_str()
            ),
        )
    };
    match wanted {
        "UploadComplete" => {
            if job.state != State::Open {
                return Err(bad_state(job));
            }
            job.state = State::UploadComplete;
            job.modstamp = OffsetDateTime::now_utc();
            let answer = info(job, false);
            let job_id = job.id.clone();
            jobs.batches += 1;
            drop(jobs);
            let task = tokio::spawn(process(Arc::clone(cx.shared), job_id));
            cx.shared
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(task.abort_handle());
            Ok(Reply::json(200, answer))
        }
        "Aborted" => {
            if job.state.is_final() {
                return Err(bad_state(job));
            }
            job.state = State::Aborted;
            job.modstamp = OffsetDateTime::now_utc();
            Ok(Reply::json(200, info(job, false)))
        }
        other => Err(ApiError::bad_request(
            "INVALIDJOBSTATE",
            format!("Invalid job state: {other}; use UploadComplete or Aborted"),
        )),
    }
}

/// A job as the API answers it; `full` adds the processing counters.
fn info(job: &Job, full: bool) -> Json {
    let mut info = json!({
        "id": job.id,
        "operation": job.operation.as_str(),
        "object": job.object,
        "createdById": job.created_by,
        "createdDate": wire::datetime_text(job.created),
        "systemModstamp": wire::datetime_text(job.modstamp),
        "state": job.state.as_str(),
        "concurrencyMode": "Parallel",
        "contentType": "CSV",
        "apiVersion": job.api_version.parse::<f64>().unwrap_or(0.0),
        "jobType": "V2Ingest",
        "contentUrl": format!("services/data/v{}/jobs/ingest/{}/batches", job.api_version, job.id),
        "lineEnding": job.line_ending,
        "columnDelimiter": "COMMA",
    });
    if let Some(field) = &job.external_id_field {
        info["externalIdFieldName"] = Json::String(field.clone());
    }
    if full {
        let millis = u64::try_from(job.processing.as_millis()).unwrap_or(u64::MAX);
        info["numberRecordsProcessed"] = json!(job.successful.len() + job.failed.len());
        info["numberRecordsFailed"] = json!(job.failed.len());
        info["retries"] = json!(0);
        info["totalProcessingTime"] = json!(millis);
        info["apiActiveProcessingTime"] = json!(millis);
        info["apexProcessingTime"] = json!(0);
        if let Some(message) = &job.error_message {
            info["errorMessage"] = Json::String(message.clone());
        }
    }
    info
}

/// A result file: `"sf__Id","sf__Created"` (or `"sf__Error"`) and the uploaded columns,
/// every cell quoted; unprocessed records with the uploaded header only.
fn results(job: &Job, kind: &str) -> String {
    let (prefix, rows): (&[&str], &Vec<Vec<String>>) = match kind {
        "successfulResults" => (&["sf__Id", "sf__Created"], &job.successful),
        "failedResults" => (&["sf__Id", "sf__Error"], &job.failed),
        _ => (&[], &job.unprocessed),
    };
    if job.header.is_empty() && rows.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let header: Vec<String> = prefix
        .iter()
        .map(|name| quote(name))
        .chain(job.header.iter().map(|name| {
            if name.contains([',', '"', '\n', '\r']) {
                quote(name)
            } else {
                name.clone()
            }
        }))
        .collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for row in rows {
        let cells: Vec<String> = row.iter().map(|cell| quote(cell)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

fn quote(cell: &str) -> String {
    format!("\"{}\"", cell.replace('"', "\"\""))
}

/// How one column of the upload is read.
#[derive(Debug, Clone)]
enum Column {
    /// `Id`.
    Id,
    /// A field (its API name).
    Field(String),
    /// A parent reference `Rel__r.Field__c` (canonical).
    Reference(String),
}

/// The columns of an upload's header, or the job's failure message.
fn columns(describe: &ObjectDescribe, header: &[String]) -> Result<Vec<Column>, String> {
    header
        .iter()
        .map(|name| {
            let name = name.trim();
            if name.eq_ignore_ascii_case("Id") {
                return Ok(Column::Id);
            }
            if let Some(field) = describe.field(name) {
                return Ok(Column::Field(field.api_name.to_string()));
            }
            if let Some((relationship, target_field)) = name.split_once('.')
                && let Some(lookup) = describe.field_by_relationship(relationship)
            {
                let relationship = lookup.relationship_name.as_deref().unwrap_or(relationship);
                return Ok(Column::Reference(format!("{relationship}.{target_field}")));
            }
            Err(format!("InvalidBatch : Field name not found : {name}"))
        })
        .collect()
}

/// Processes a job in the background, chunk by chunk, until done or aborted.
async fn process(shared: Arc<Shared>, job_id: String) {
    tokio::time::sleep(QUEUE_DELAY).await;
    let started = Instant::now();
    let (object, operation, external_id_field, data, line_ending) = {
        let mut jobs = shared.lock_jobs();
        let Some(job) = jobs.jobs.get_mut(&job_id) else {
            return;
        };
        if job.state != State::UploadComplete {
            return;
        }
        job.state = State::InProgress;
        job.modstamp = OffsetDateTime::now_utc();
        (
            job.object.clone(),
            job.operation,
            job.external_id_field.clone(),
            job.data.clone().unwrap_or_default(),
            job.line_ending.clone(),
        )
    };
    let fail = |message: String| {
        let mut jobs = shared.lock_jobs();
        if let Some(job) = jobs.jobs.get_mut(&job_id) {
            job.state = State::Failed;
            job.error_message = Some(message);
            job.modstamp = OffsetDateTime::now_utc();
            job.processing = started.elapsed();
        }
    };
    if data.trim().is_empty() {
        fail("InvalidBatch : No data was uploaded for this job".to_owned());
        return;
    }
    if line_ending == "LF" && data.contains("\r\n") {
        fail("ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF".to_owned());
        return;
    }
    let rows = match parse_csv(&data) {
        Ok(rows) => rows,
        Err(error) => {
            fail(format!(
                "ClientInputError : Failed to parse the CSV: {error}"
            ));
            return;
        }
    };
    let Some((header, rows)) = rows.split_first() else {
        fail("InvalidBatch : No data was uploaded for this job".to_owned());
        return;
    };
    let describe = match shared.lock_org().describe(&object).cloned() {
        Some(describe) => describe,
        None => {
            fail(format!("InvalidJob : Unable to find object: {object}"));
            return;
        }
    };
    let columns = match columns(&describe, header) {
        Ok(columns) => columns,
        Err(message) => {
            fail(message);
            return;
        }
    };
    let needed = match operation {
        Operation::Upsert => external_id_field.clone(),
        Operation::Update | Operation::Delete | Operation::HardDelete => Some("Id".to_owned()),
        Operation::Insert => None,
    };
    if let Some(needed) = needed
        && !header
            .iter()
            .any(|name| name.trim().eq_ignore_ascii_case(&needed))
    {
        fail(format!(
            "InvalidBatch : The column {needed} is required for {}",
            operation.as_str()
        ));
        return;
    }
    {
        let mut jobs = shared.lock_jobs();
        if let Some(job) = jobs.jobs.get_mut(&job_id) {
            job.header = header.clone();
        }
    }
    let mut at = 0;
    while at < rows.len() {
        let aborted = shared
            .lock_jobs()
            .jobs
            .get(&job_id)
            .is_none_or(|job| job.state == State::Aborted);
        if aborted {
            break;
        }
        let end = (at + CHUNK).min(rows.len());
        let mut successful = Vec::new();
        let mut failed = Vec::new();
        {
            let mut org = shared.lock_org();
            for row in &rows[at..end] {
                let mut txn = Txn::new();
                let outcome = process_row(
                    &mut org,
                    &mut txn,
                    &describe,
                    operation,
                    external_id_field.as_deref(),
                    &columns,
                    header.len(),
                    row,
                );
                match outcome {
                    Ok((id, created)) => {
                        let mut cells = vec![id, created.to_string()];
                        cells.extend(row.iter().cloned());
                        successful.push(cells);
                    }
                    Err((id, error)) => {
                        let mut cells = vec![id, error.bulk_text()];
                        cells.extend(row.iter().cloned());
                        failed.push(cells);
                    }
                }
            }
        }
        {
            let mut jobs = shared.lock_jobs();
            if let Some(job) = jobs.jobs.get_mut(&job_id) {
                job.successful.extend(successful);
                job.failed.extend(failed);
            }
        }
        at = end;
        tokio::task::yield_now().await;
    }
    let mut jobs = shared.lock_jobs();
    if let Some(job) = jobs.jobs.get_mut(&job_id) {
        job.unprocessed = rows[at..].to_vec();
        if job.state != State::Aborted {
            job.state = State::JobComplete;
        }
        job.modstamp = OffsetDateTime::now_utc();
        job.processing = started.elapsed();
    }
}

/// One CSV row: its id and whether it was created, or its id (if known) and first error.
#[allow(clippy::too_many_arguments)]
fn process_row(
    org: &mut crate::store::Org,
    txn: &mut Txn,
    describe: &ObjectDescribe,
    operation: Operation,
    external_id_field: Option<&str>,
    columns: &[Column],
    width: usize,
    row: &[String],
) -> Result<(String, bool), (String, RecordError)> {
    let object = describe.api_name.as_ref();
    if row.len() != width {
        return Err((
            String::new(),
            RecordError::new(
                "INVALID_FIELD",
                format!("The row has {} cells, the header has {width}", row.len()),
                Vec::new(),
            ),
        ));
    }
    let mut values = Values::new();
    let mut id = String::new();
    let mut errors = Vec::new();
    for (column, cell) in columns.iter().zip(row) {
        if cell.is_empty() {
            continue;
        }
        let null = cell == sfdc_types::csv::NULL_CELL;
        match column {
            Column::Id => {
                id = ids::normalize(cell).unwrap_or_else(|| cell.clone());
                values.push(("Id".to_owned(), Value::Text(cell.clone())));
            }
            Column::Reference(name) => {
                let value = if null {
                    Value::Null
                } else {
                    Value::Text(cell.clone())
                };
                values.push((name.clone(), value));
            }
            Column::Field(name) => {
                let Some(field) = describe.field(name) else {
                    continue;
                };
                if null {
                    values.push((name.clone(), Value::Null));
                    continue;
                }
                match wire::text_value(field, cell) {
                    Ok(value) => values.push((name.clone(), value)),
                    Err(_) => errors.push(RecordError::new(
                        "INVALID_TYPE_ON_FIELD_IN_RECORD",
                        format!("{}: value not of required type: {cell}", field.label),
                        vec![field.api_name.to_string()],
                    )),
                }
            }
        }
    }
    if let Some(error) = errors.into_iter().next() {
        return Err((id, error));
    }
    let first = |error: crate::dml::WriteError| {
        error
            .record_errors(object)
            .into_iter()
            .next()
            .unwrap_or_else(|| {
                RecordError::new("UNKNOWN_EXCEPTION", "the record was not saved", Vec::new())
            })
    };
    let without_id = |values: Values| -> Values {
        values
            .into_iter()
            .filter(|(name, _)| name != "Id")
            .collect()
    };
    let outcome = match operation {
        Operation::Delete | Operation::HardDelete => {
            if id.is_empty() {
                return Err((id, missing("Id")));
            }
            org.delete(txn, Some(object), &id)
                .map(|()| (id.clone(), false))
                .map_err(first)
        }
        Operation::Insert => org
            .write(txn, object, Target::Insert, values)
            .map(|saved| (saved.id, saved.created))
            .map_err(first),
        Operation::Update => {
            if id.is_empty() {
                return Err((id, missing("Id")));
            }
            org.write(txn, object, Target::Update(id.clone()), without_id(values))
                .map(|saved| (saved.id, saved.created))
                .map_err(first)
        }
        Operation::Upsert => {
            let field = external_id_field.unwrap_or("Id");
            let given = values
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(field))
                .map(|(_, value)| wire::value_text(value))
                .filter(|value| !value.is_empty());
            let Some(value) = given else {
                return Err((id, missing(field)));
            };
            let values = if field == "Id" {
                without_id(values)
            } else {
                values
            };
            let target = Target::Upsert {
                field: field.to_owned(),
                value,
            };
            org.write(txn, object, target, values)
                .map(|saved| (saved.id, saved.created))
                .map_err(first)
        }
    };
    outcome.map_err(|error| (id, error))
}

fn missing(field: &str) -> RecordError {
    let message = if field == "Id" {
        "Id not specified in an update call".to_owned()
    } else {
        format!("{field} not specified")
    };
    RecordError::new("MISSING_ARGUMENT", message, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_files_quote_cells() {
        let mut job = Job {
            id: "750".into(),
            object: "Contact".into(),
            operation: Operation::Insert,
            external_id_field: None,
            line_ending: "LF".into(),
            state: State::JobComplete,
            created: OffsetDateTime::UNIX_EPOCH,
            modstamp: OffsetDateTime::UNIX_EPOCH,
            created_by: "005".into(),
            api_version: "62.0".into(),
            data: None,
            header: vec!["LastName".into(), "Title".into()],
            successful: vec![vec![
                "003A".into(),
                "true".into(),
                "Doe".into(),
                "a \"b\", c".into(),
            ]],
            failed: vec![vec![
                String::new(),
                "E:m:F --".into(),
                "".into(),
                "x".into(),
            ]],
            unprocessed: Vec::new(),
            error_message: None,
            processing: Duration::ZERO,
        };
        assert_eq!(
            results(&job, "successfulResults"),
            "\"sf__Id\",\"sf__Created\",LastName,Title\n\"003A\",\"true\",\"Doe\",\"a \"\"b\"\", c\"\n"
        );
        assert_eq!(
            results(&job, "failedResults"),
            "\"sf__Id\",\"sf__Error\",LastName,Title\n\"\",\"E:m:F --\",\"\",\"x\"\n"
        );
        assert_eq!(results(&job, "unprocessedrecords"), "LastName,Title\n");
        job.header.clear();
        job.successful.clear();
        assert_eq!(results(&job, "successfulResults"), "");
    }
}
