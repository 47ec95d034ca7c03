//! Bulk API 2.0 ingest: create a job, upload its CSV, mark it UploadComplete, poll it with
//! backoff until it ends, then read its successful, failed and unprocessed rows and map each
//! back to the input record it came from.
//!
//! The result files repeat the uploaded columns, not the row number, so rows are matched by
//! their external id value (in input order when a value repeats), or failing that by all of
//! their cells; an input record no file mentions is reported [`RecordResult::Unprocessed`].

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sfdc_types::{SObject, Writable};

use super::api::types as wire;
use super::client::{API_VERSION, Client, finish, response_error};
use super::error::{ApiError, Error};
use super::record::{RecordResult, percent_encode};
use super::transport;

/// How a Bulk job is waited for.
#[derive(Debug, Clone)]
pub struct BulkOptions {
    /// First wait between two polls of the job state.
    pub poll_interval: Duration,
    /// Longest wait between two polls (the wait doubles up to it).
    pub max_poll_interval: Duration,
    /// How long to wait for the job before giving up with [`Error::BulkTimeout`] (the job
    /// goes on in Salesforce).
    pub timeout: Duration,
}

impl Default for BulkOptions {
    /// Polls after 1 s, then up to every 15 s, for at most 30 minutes.
    fn default() -> Self {
        BulkOptions {
            poll_interval: Duration::from_secs(1),
            max_poll_interval: Duration::from_secs(15),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// What a Bulk API 2.0 ingest job does with its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkWrite<'a> {
    /// Upsert by this external id field.
    Upsert(&'a str),
    /// Update records found by their `Id` column.
    Update,
}

impl BulkWrite<'_> {
    /// The column that finds each row's record.
    pub fn key_field(&self) -> &str {
        match self {
            BulkWrite::Upsert(field) => field,
            BulkWrite::Update => "Id",
        }
    }
}

/// State of a Bulk API 2.0 job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Created, waiting for its data.
    Open,
    /// Data uploaded, queued.
    UploadComplete,
    /// Being processed.
    InProgress,
    /// Processed (rows may still have failed).
    JobComplete,
    /// The job failed; some rows may have been processed.
    Failed,
    /// Aborted.
    Aborted,
}

impl JobState {
    /// Whether the job has ended.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::JobComplete | JobState::Failed | JobState::Aborted
        )
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl From<wire::JobState> for JobState {
    fn from(state: wire::JobState) -> Self {
        match state {
            wire::JobState::Open => JobState::Open,
            wire::JobState::UploadComplete => JobState::UploadComplete,
            wire::JobState::InProgress => JobState::InProgress,
            wire::JobState::JobComplete => JobState::JobComplete,
            wire::JobState::Failed => JobState::Failed,
            wire::JobState::Aborted => JobState::Aborted,
        }
    }
}

/// The outcome of a Bulk ingest job.
#[derive(Debug, Clone)]
pub struct BulkResult {
    /// Job Id.
    pub job_id: String,
    /// Final state: `JobComplete`, or `Failed` / `Aborted` (its unprocessed records then
    /// report [`RecordResult::Unprocessed`]).
    pub state: JobState,
    /// The job's error message when it failed.
    pub error_message: Option<String>,
    /// One result per input record, in input order.
    pub results: Vec<RecordResult>,
}

impl BulkResult {
    /// The failed records: their input position and errors.
    pub fn failures(&self) -> impl Iterator<Item = (usize, &[ApiError])> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(index, result)| match result {
                RecordResult::Failed { errors } => Some((index, errors.as_slice())),
                _ => None,
            })
    }

    /// Records written.
    pub fn succeeded(&self) -> usize {
        self.results.iter().filter(|r| r.is_success()).count()
    }
}

impl Client {
    /// Upserts `records` of `W`'s object by `external_id_field` through one Bulk API 2.0 job
    /// (CSV written by `sfdc_types::write_csv`), waiting for it as `options` say.
    pub async fn bulk_upsert<W: Writable>(
        &self,
        external_id_field: &str,
        records: &[W],
        options: &BulkOptions,
    ) -> Result<BulkResult, Error> {
        let operation = format!("bulk upsert {} by {external_id_field}", W::Read::API_NAME);
        super::record::check_external_id::<W>(&operation, external_id_field)?;
        let csv = sfdc_types::write_csv(records);
        self.bulk_upsert_csv(W::Read::API_NAME, external_id_field, csv, options)
            .await
    }

    /// Upserts the rows of `csv` (a header, then one row per record; a column for
    /// `external_id_field`) as `sobject` records through one Bulk API 2.0 job.
    pub async fn bulk_upsert_csv(
        &self,
        sobject: &str,
        external_id_field: &str,
        csv: String,
        options: &BulkOptions,
    ) -> Result<BulkResult, Error> {
        self.bulk_write_csv(sobject, BulkWrite::Upsert(external_id_field), csv, options)
            .await
    }

    /// Writes the rows of `csv` (a header, then one row per record, with a column for the
    /// key of `write`) as `sobject` records through one Bulk API 2.0 job.
    ///
    /// When the job completes with no failed record and every row processed, the result
    /// files are not read (two calls saved): every record is reported written.
    pub async fn bulk_write_csv(
        &self,
        sobject: &str,
        write: BulkWrite<'_>,
        csv: String,
        options: &BulkOptions,
    ) -> Result<BulkResult, Error> {
        let key_field = write.key_field();
        let operation = match write {
            BulkWrite::Upsert(field) => format!("bulk upsert {sobject} by {field}"),
            BulkWrite::Update => format!("bulk update {sobject}"),
        };
        let input =
            Input::new(&csv, key_field).map_err(|reason| Error::invalid(&operation, reason))?;
        if input.rows.is_empty() {
            return Ok(BulkResult {
                job_id: String::new(),
                state: JobState::JobComplete,
                error_message: None,
                results: Vec::new(),
            });
        }

        let request = wire::IngestJobRequest {
            column_delimiter: Some(wire::IngestJobRequestColumnDelimiter::Comma),
            content_type: Some(wire::IngestJobRequestContentType::Csv),
            external_id_field_name: match write {
                BulkWrite::Upsert(field) => Some(field.to_owned()),
                BulkWrite::Update => None,
            },
            line_ending: Some(wire::IngestJobRequestLineEnding::Lf),
            object: sobject.to_owned(),
            operation: match write {
                BulkWrite::Upsert(_) => wire::IngestOperation::Upsert,
                BulkWrite::Update => wire::IngestOperation::Update,
            },
        };
        let (op, request) = (operation.as_str(), &request);
        let job = self
            .call(op, move |api: super::api::Client| async move {
                finish(op, api.create_ingest_job(request).await).await
            })
            .await?;
        let job_id = job.id;
        let operation = format!("{operation} (job {job_id})");
        tracing::debug!(job_id, sobject, rows = input.rows.len(), "bulk job created");

        self.upload(&operation, &job_id, csv).await?;
        let close = wire::JobStateRequest {
            state: wire::JobState::UploadComplete,
        };
        let (op, job, close) = (operation.as_str(), job_id.as_str(), &close);
        self.call(op, move |api: super::api::Client| async move {
            finish(op, api.set_ingest_job_state(job, close).await).await
        })
        .await?;

        let job = self.wait(&operation, sobject, &job_id, options).await?;
        let state = JobState::from(job.state);
        let rows = input.rows.len() as u64;
        if state == JobState::JobComplete
            && job.number_records_failed == Some(0)
            && job.number_records_processed == Some(rows)
        {
            tracing::debug!(job_id, %state, "bulk job finished without failures");
            return Ok(BulkResult {
                job_id,
                state,
                error_message: None,
                results: vec![RecordResult::Updated { id: None }; input.rows.len()],
            });
        }
        let successful = self
            .result_file(&operation, &job_id, ResultFile::Successful)
            .await?;
        let failed = self
            .result_file(&operation, &job_id, ResultFile::Failed)
            .await?;
        let unprocessed = match state {
            JobState::JobComplete => String::new(),
            _ => {
                self.result_file(&operation, &job_id, ResultFile::Unprocessed)
                    .await?
            }
        };
        let results = input
            .map_results(&successful, &failed, &unprocessed)
            .map_err(|detail| Error::Decode {
                operation: operation.clone(),
                status: 200,
                detail,
            })?;
        tracing::debug!(job_id, %state, "bulk job finished");
        Ok(BulkResult {
            job_id,
            state,
            error_message: job.error_message.filter(|m| !m.is_empty()),
            results,
        })
    }

    /// Aborts the Bulk job `job_id` (e.g. after a timeout).
    pub async fn abort_bulk_job(&self, job_id: &str) -> Result<JobState, Error> {
        let operation = format!("abort bulk job {job_id}");
        let abort = wire::JobStateRequest {
            state: wire::JobState::Aborted,
        };
        let (op, abort) = (operation.as_str(), &abort);
        self.call(op, move |api: super::api::Client| async move {
            finish(op, api.set_ingest_job_state(job_id, abort).await).await
        })
        .await
        .map(|job| job.state.into())
    }

    /// Uploads the job's CSV: `PUT …/batches` with a `text/csv` body, which progenitor
    /// cannot send (it only knows JSON, form, octet-stream and text/plain bodies).
    async fn upload(&self, operation: &str, job_id: &str, csv: String) -> Result<(), Error> {
        let csv = &csv;
        self.call(operation, move |api: super::api::Client| async move {
            let url = format!(
                "{}/services/data/v{API_VERSION}/jobs/ingest/{}/batches",
                api.baseurl,
                percent_encode(job_id)
            );
            let mut request = self
                .http()
                .put(url)
                .header(reqwest::header::CONTENT_TYPE, "text/csv")
                .header(reqwest::header::ACCEPT, "application/json")
                .body(csv.clone())
                .build()
                .map_err(|e| Error::transport(operation, e))?;
            transport::before_send(&api.inner, &mut request);
            let result = self.http().execute(request).await;
            transport::after_receive(&api.inner, &result);
            let response = result.map_err(|e| Error::transport(operation, e))?;
            match response.status().as_u16() {
                200..=299 => Ok(()),
                _ => Err(response_error(operation.to_owned(), response).await),
            }
        })
        .await
    }

    /// Polls the job until it ends, the wait between polls doubling up to the maximum.
    async fn wait(
        &self,
        operation: &str,
        sobject: &str,
        job_id: &str,
        options: &BulkOptions,
    ) -> Result<wire::JobInfo, Error> {
        let started = Instant::now();
        let mut interval = options.poll_interval;
        loop {
            let job = self
                .call(operation, move |api: super::api::Client| async move {
                    finish(operation, api.get_ingest_job(job_id).await).await
                })
                .await?;
            if JobState::from(job.state).is_final() {
                return Ok(job);
            }
            let waited = started.elapsed();
            if waited >= options.timeout {
                return Err(Error::BulkTimeout {
                    job_id: job_id.to_owned(),
                    object: sobject.to_owned(),
                    state: JobState::from(job.state).to_string(),
                    waited_secs: waited.as_secs(),
                });
            }
            tokio::time::sleep(interval.min(options.timeout - waited)).await;
            interval = (interval * 2).min(options.max_poll_interval.max(options.poll_interval));
        }
    }

    /// One of the job's result files, as text.
    async fn result_file(
        &self,
        operation: &str,
        job_id: &str,
        file: ResultFile,
    ) -> Result<String, Error> {
        let operation = format!("{operation}: read {}", file.name());
        let operation = operation.as_str();
        self.call(operation, move |api: super::api::Client| async move {
            let response = match file {
                ResultFile::Successful => api.get_ingest_job_successful_results(job_id).await,
                ResultFile::Failed => api.get_ingest_job_failed_results(job_id).await,
                ResultFile::Unprocessed => api.get_ingest_job_unprocessed_records(job_id).await,
            };
            let mut stream = finish(operation, response).await?.into_inner();
            let mut bytes = Vec::new();
            while let Some(chunk) = stream.next().await {
                bytes.extend_from_slice(&chunk.map_err(|e| Error::transport(operation, e))?);
            }
            String::from_utf8(bytes).map_err(|e| Error::Decode {
                operation: operation.to_owned(),
                status: 200,
                detail: format!("not UTF-8: {e}"),
            })
        })
        .await
    }
}

#[derive(Debug, Clone, Copy)]
enum ResultFile {
    Successful,
    Failed,
    Unprocessed,
}

impl ResultFile {
    fn name(self) -> &'static str {
        match self {
            ResultFile::Successful => "successfulResults",
            ResultFile::Failed => "failedResults",
            ResultFile::Unprocessed => "unprocessedrecords",
        }
    }
}

/// The uploaded rows, indexed to find a result row's input record.
struct Input {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    key_column: usize,
}

impl Input {
    fn new(csv: &str, external_id_field: &str) -> Result<Self, String> {
        let mut lines = sfdc_types::parse_csv(csv)
            .map_err(|e| format!("the CSV cannot be read: {e}"))?
            .into_iter();
        let Some(header) = lines.next() else {
            return Ok(Input {
                header: Vec::new(),
                rows: Vec::new(),
                key_column: 0,
            });
        };
        let key_column = column(&header, external_id_field)
            .ok_or_else(|| format!("the CSV has no {external_id_field} column"))?;
        Ok(Input {
            header,
            rows: lines.collect(),
            key_column,
        })
    }

    /// One result per input row from the three result files.
    fn map_results(
        &self,
        successful: &str,
        failed: &str,
        unprocessed: &str,
    ) -> Result<Vec<RecordResult>, String> {
        let mut by_key: HashMap<&str, VecDeque<usize>> = HashMap::new();
        let mut by_row: HashMap<&[String], VecDeque<usize>> = HashMap::new();
        for (index, row) in self.rows.iter().enumerate() {
            if let Some(key) = row.get(self.key_column).filter(|key| !key.is_empty()) {
                by_key.entry(key).or_default().push_back(index);
            }
            by_row.entry(row.as_slice()).or_default().push_back(index);
        }
        let mut results: Vec<Option<RecordResult>> = vec![None; self.rows.len()];
        let mut unmatched = 0usize;
        for (name, text) in [
            ("successfulResults", successful),
            ("failedResults", failed),
            ("unprocessedrecords", unprocessed),
        ] {
            let mut lines = sfdc_types::parse_csv(text)
                .map_err(|e| format!("{name} cannot be read: {e}"))?
                .into_iter();
            let Some(header) = lines.next() else {
                continue;
            };
            let sf_id = column(&header, "sf__Id");
            let sf_created = column(&header, "sf__Created");
            let sf_error = column(&header, "sf__Error");
            // Where each uploaded column is in this file.
            let positions: Vec<Option<usize>> =
                self.header.iter().map(|c| column(&header, c)).collect();
            for cells in lines {
                let cell = |position: Option<usize>| {
                    position.and_then(|p| cells.get(p)).map(String::as_str)
                };
                let original: Vec<String> = positions
                    .iter()
                    .map(|p| cell(*p).unwrap_or_default().to_owned())
                    .collect();
                let key = original
                    .get(self.key_column)
                    .map(String::as_str)
                    .unwrap_or_default();
                let index = take_unassigned(by_key.get_mut(key), &results)
                    .or_else(|| take_unassigned(by_row.get_mut(original.as_slice()), &results));
                let Some(index) = index else {
                    unmatched += 1;
                    continue;
                };
                let id = cell(sf_id).filter(|id| !id.is_empty()).map(str::to_owned);
                results[index] = Some(match name {
                    "successfulResults" if cell(sf_created) == Some("true") => match id {
                        Some(id) => RecordResult::Created { id },
                        None => RecordResult::Updated { id: None },
                    },
                    "successfulResults" => RecordResult::Updated { id },
                    "failedResults" => RecordResult::Failed {
                        errors: parse_row_error(cell(sf_error).unwrap_or_default()),
                    },
                    _ => RecordResult::Unprocessed,
                });
            }
        }
        if unmatched > 0 {
            tracing::warn!(unmatched, "bulk result rows that match no uploaded row");
        }
        Ok(results
            .into_iter()
            .map(|result| result.unwrap_or(RecordResult::Unprocessed))
            .collect())
    }
}

/// The first index of `queue` with no result yet, taken out of it.
fn take_unassigned(
    queue: Option<&mut VecDeque<usize>>,
    results: &[Option<RecordResult>],
) -> Option<usize> {
    let queue = queue?;
    while let Some(index) = queue.pop_front() {
        if results[index].is_none() {
            return Some(index);
        }
    }
    None
}

/// Position of the column `name` (case-insensitive).
fn column(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|c| c.eq_ignore_ascii_case(name))
}

/// Reads an `sf__Error` cell: `CODE:message:FIELD1,FIELD2 --` (the fields part may be
/// empty), several errors separated by line breaks.
fn parse_row_error(text: &str) -> Vec<ApiError> {
    let errors: Vec<ApiError> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let line = line.strip_suffix("--").unwrap_or(line).trim_end();
            let Some((code, rest)) = line.split_once(':').filter(|(code, _)| {
                !code.is_empty() && code.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            }) else {
                return ApiError::new("", line);
            };
            let (message, fields) = match rest.rsplit_once(':') {
                Some((message, fields)) if is_field_list(fields) => (
                    message,
                    fields
                        .split(',')
                        .map(str::trim)
                        .filter(|f| !f.is_empty())
                        .map(str::to_owned)
                        .collect(),
                ),
                _ => (rest, Vec::new()),
            };
            ApiError {
                error_code: code.to_owned(),
                message: message.trim().to_owned(),
                fields,
            }
        })
        .collect();
    if errors.is_empty() {
        vec![ApiError::new("", "failed without an error message")]
    } else {
        errors
    }
}

/// Whether `text` is a comma-separated list of field names (or nothing).
fn is_field_list(text: &str) -> bool {
    text.split(',').map(str::trim).all(|name| {
        name.is_empty()
            || name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_row_errors() {
        assert_eq!(
            parse_row_error("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"),
            [ApiError {
                error_code: "REQUIRED_FIELD_MISSING".into(),
                message: "Required fields are missing: [Name]".into(),
                fields: vec!["Name".into()],
            }]
        );
        assert_eq!(
            parse_row_error(
                "INVALID_FIELD:Foreign key external ID: cus_9 not found for field X in entity Contact:--"
            ),
            [ApiError::new(
                "INVALID_FIELD",
                "Foreign key external ID: cus_9 not found for field X in entity Contact"
            )]
        );
        assert_eq!(
            parse_row_error("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record"),
            [ApiError::new(
                "UNABLE_TO_LOCK_ROW",
                "unable to obtain exclusive access to this record"
            )]
        );
        assert_eq!(
            parse_row_error("something odd"),
            [ApiError::new("", "something odd")]
        );
        assert_eq!(parse_row_error("").len(), 1);
    }

    #[test]
    fn maps_result_rows_back_to_input_rows() {
        let input = Input::new(
            "Name,Ext__c\nA,e1\n\"B, with comma\",e2\nC,e3\nD,e2\nE,e5\nF,\n",
            "ext__c",
        )
        .unwrap();
        // Result files list rows in any order, their columns after the sf__ ones.
        let successful =
            "\"sf__Id\",\"sf__Created\",Ext__c,Name\n\"a01C\",true,e3,C\na01A,false,e1,A\n";
        let failed = "sf__Id,sf__Error,Name,Ext__c\n,DUPLICATE_VALUE:dup:Ext__c --,\"B, with comma\",e2\n,DUPLICATE_VALUE:dup:Ext__c --,D,e2\n,MISSING_ARGUMENT:no key:--,F,\n";
        let unprocessed = "Name,Ext__c\nE,e5\nZ,not-uploaded\n";
        let results = input.map_results(successful, failed, unprocessed).unwrap();
        assert_eq!(
            results[0],
            RecordResult::Updated {
                id: Some("a01A".into())
            }
        );
        assert_eq!(results[1].errors()[0].message, "dup");
        assert_eq!(results[1].errors()[0].fields, ["Ext__c"]);
        assert_eq!(results[2], RecordResult::Created { id: "a01C".into() });
        assert_eq!(results[3].errors()[0].error_code, "DUPLICATE_VALUE");
        assert_eq!(results[4], RecordResult::Unprocessed);
        assert_eq!(results[5].errors()[0].error_code, "MISSING_ARGUMENT");
    }

    #[test]
    fn input_needs_the_key_column() {
        assert!(Input::new("Name\nA\n", "Ext__c").is_err());
        assert!(Input::new("", "Ext__c").unwrap().rows.is_empty());
    }
}
