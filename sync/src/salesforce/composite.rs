//! Composite: up to 25 subrequests in one call, later ones using earlier results through
//! references (`@{refContact.id}`). Salesforce answers 200 even when subrequests fail: each
//! [`SubResponse`] has its own status and errors.
//!
//! ```
//! use stripe_sfdc_sync::salesforce::CompositeRequest;
//! use serde_json::json;
//!
//! let mut request = CompositeRequest::new().all_or_none(true);
//! let contact = request
//!     .upsert("contact", "Contact", "Stripe_Customer_ID__c", "cus_1", &json!({"LastName": "Doe"}))
//!     .unwrap();
//! request
//!     .upsert(
//!         "customer",
//!         "Stripe_Customer__c",
//!         "Stripe_Customer_ID__c",
//!         "cus_1",
//!         &json!({"Name": "Doe", "Contact__c": contact.id()}),
//!     )
//!     .unwrap();
//! assert_eq!(contact.id(), "@{contact.id}");
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use sfdc_types::{SObject, Writable};

use super::api::types as wire;
use super::client::{API_VERSION, Client, finish};
use super::error::{ApiError, Error, ErrorClass, parse_errors};
use super::record::{self, RecordResult, percent_encode};

/// Most subrequests Salesforce takes in one Composite call.
pub const COMPOSITE_LIMIT: usize = 25;

/// Most of those that may be sObject Collections or query subrequests.
pub const COMPOSITE_COLLECTIONS_LIMIT: usize = 5;

/// A Composite request being built.
#[derive(Debug, Clone, Default)]
pub struct CompositeRequest {
    all_or_none: bool,
    subrequests: Vec<wire::CompositeSubrequest>,
}

/// A subrequest's result as later subrequests refer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference(String);

impl Reference {
    /// The reference Id.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// `@{ref.id}`: the Id of the record the subrequest created or upserted.
    pub fn id(&self) -> String {
        self.field("id")
    }

    /// `@{ref.path}`: any value of the subrequest's answer, e.g. `records[0].Id`.
    pub fn field(&self, path: &str) -> String {
        format!("@{{{}.{path}}}", self.0)
    }
}

impl CompositeRequest {
    /// An empty request (subrequests independent: one failing does not undo the others).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether one failing subrequest rolls back all of them.
    pub fn all_or_none(mut self, all_or_none: bool) -> Self {
        self.all_or_none = all_or_none;
        self
    }

    /// Subrequests so far.
    pub fn len(&self) -> usize {
        self.subrequests.len()
    }

    /// Whether there is no subrequest.
    pub fn is_empty(&self) -> bool {
        self.subrequests.is_empty()
    }

    /// Adds: create an `sobject` record from a JSON object.
    pub fn create(
        &mut self,
        reference_id: &str,
        sobject: &str,
        record: &impl Serialize,
    ) -> Result<Reference, Error> {
        let operation = format!("composite {reference_id}: create {sobject}");
        let body = record::to_raw(&operation, &record::to_object(&operation, record)?)?;
        let url = format!("{}/sobjects/{}", base(), percent_encode(sobject));
        self.push(&operation, reference_id, "POST", url, Some(body))
    }

    /// Adds: create a record of `W`'s object.
    pub fn create_record<W: Writable + Serialize>(
        &mut self,
        reference_id: &str,
        record: &W,
    ) -> Result<Reference, Error> {
        self.create(reference_id, W::Read::API_NAME, record)
    }

    /// Adds: update the `sobject` record `id` (an Id or a reference such as
    /// `other.id()`) with the fields of a JSON object.
    pub fn update(
        &mut self,
        reference_id: &str,
        sobject: &str,
        id: &str,
        record: &impl Serialize,
    ) -> Result<Reference, Error> {
        let operation = format!("composite {reference_id}: update {sobject} {id}");
        let object = record::without_field(record::to_object(&operation, record)?, "Id");
        let body = record::to_raw(&operation, &object)?;
        let url = format!(
            "{}/sobjects/{}/{}",
            base(),
            percent_encode(sobject),
            id_segment(id)
        );
        self.push(&operation, reference_id, "PATCH", url, Some(body))
    }

    /// Adds: upsert up to 200 `sobject` records by `external_id_field` (which each must carry)
    /// through sObject Collections, each record succeeding or failing on its own; read the
    /// answer with [`SubResponse::collection_results`]. At most
    /// [`COMPOSITE_COLLECTIONS_LIMIT`] Collections and query subrequests per request.
    pub fn upsert_collection<R: Serialize>(
        &mut self,
        reference_id: &str,
        sobject: &str,
        external_id_field: &str,
        records: &[R],
    ) -> Result<Reference, Error> {
        let operation = format!(
            "composite {reference_id}: upsert {} {sobject} by {external_id_field}",
            records.len()
        );
        if records.is_empty() || records.len() > super::collections::COLLECTION_LIMIT {
            return Err(Error::invalid(
                &operation,
                format!(
                    "a Collections subrequest takes 1 to {} records",
                    super::collections::COLLECTION_LIMIT
                ),
            ));
        }
        if self.collections_and_queries() >= COMPOSITE_COLLECTIONS_LIMIT {
            return Err(Error::invalid(
                &operation,
                format!(
                    "a Composite request takes at most {COMPOSITE_COLLECTIONS_LIMIT} Collections and query subrequests"
                ),
            ));
        }
        let mut body = Vec::with_capacity(records.len());
        for (position, record) in records.iter().enumerate() {
            let mut object = record::to_object(&operation, record)?;
            if record::field_text(&object, external_id_field).is_none_or(|v| v.is_empty()) {
                return Err(Error::invalid(
                    &operation,
                    format!("record {position} has no value for {external_id_field}"),
                ));
            }
            record::set_type(&operation, &mut object, sobject)?;
            body.push(record::to_raw(&operation, &object)?);
        }
        let request = wire::CollectionRequest {
            all_or_none: false,
            records: body,
        };
        let body = serde_json::value::to_raw_value(&request)
            .map_err(|e| Error::invalid(&operation, format!("cannot encode the records: {e}")))?;
        let url = format!(
            "{}/composite/sobjects/{}/{}",
            base(),
            percent_encode(sobject),
            percent_encode(external_id_field)
        );
        self.push(&operation, reference_id, "PATCH", url, Some(body))
    }

    /// Collections and query subrequests so far.
    pub fn collections_and_queries(&self) -> usize {
        let prefixes = [
            format!("{}/composite/sobjects", base()),
            format!("{}/query", base()),
        ];
        self.subrequests
            .iter()
            .filter(|sub| prefixes.iter().any(|p| sub.url.starts_with(p.as_str())))
            .count()
    }

    /// Adds: upsert an `sobject` record by `external_id_field` = `external_id`.
    pub fn upsert(
        &mut self,
        reference_id: &str,
        sobject: &str,
        external_id_field: &str,
        external_id: &str,
        record: &impl Serialize,
    ) -> Result<Reference, Error> {
        let operation =
            format!("composite {reference_id}: upsert {sobject} {external_id_field}={external_id}");
        let object =
            record::without_field(record::to_object(&operation, record)?, external_id_field);
        let body = record::to_raw(&operation, &object)?;
        let url = format!(
            "{}/sobjects/{}/{}/{}",
            base(),
            percent_encode(sobject),
            percent_encode(external_id_field),
            id_segment(external_id)
        );
        self.push(&operation, reference_id, "PATCH", url, Some(body))
    }

    /// Adds: upsert a record of `W`'s object by `external_id_field`, whose value the
    /// record sets.
    pub fn upsert_record<W: Writable + Serialize>(
        &mut self,
        reference_id: &str,
        external_id_field: &str,
        record: &W,
    ) -> Result<Reference, Error> {
        let operation = format!(
            "composite {reference_id}: upsert {} by {external_id_field}",
            W::Read::API_NAME
        );
        record::check_external_id::<W>(&operation, external_id_field)?;
        let value = record::writable_text(record, external_id_field).ok_or_else(|| {
            Error::invalid(
                &operation,
                format!("the record has no value for {external_id_field}"),
            )
        })?;
        self.upsert(
            reference_id,
            W::Read::API_NAME,
            external_id_field,
            &value,
            record,
        )
    }

    /// Adds: delete the `sobject` record `id`.
    pub fn delete(
        &mut self,
        reference_id: &str,
        sobject: &str,
        id: &str,
    ) -> Result<Reference, Error> {
        let operation = format!("composite {reference_id}: delete {sobject} {id}");
        let url = format!(
            "{}/sobjects/{}/{}",
            base(),
            percent_encode(sobject),
            id_segment(id)
        );
        self.push(&operation, reference_id, "DELETE", url, None)
    }

    /// Adds: read the `sobject` record `id` with `fields` (all when empty).
    pub fn get(
        &mut self,
        reference_id: &str,
        sobject: &str,
        id: &str,
        fields: &[&str],
    ) -> Result<Reference, Error> {
        let operation = format!("composite {reference_id}: read {sobject} {id}");
        let mut url = format!(
            "{}/sobjects/{}/{}",
            base(),
            percent_encode(sobject),
            id_segment(id)
        );
        if !fields.is_empty() {
            url.push_str("?fields=");
            url.push_str(&percent_encode(&fields.join(",")));
        }
        self.push(&operation, reference_id, "GET", url, None)
    }

    /// Adds: run a SOQL query (its first page; refer to rows as `records[0].Id`).
    pub fn query(&mut self, reference_id: &str, soql: &str) -> Result<Reference, Error> {
        let operation = format!("composite {reference_id}: query");
        let url = format!("{}/query?q={}", base(), percent_encode(soql));
        self.push(&operation, reference_id, "GET", url, None)
    }

    fn push(
        &mut self,
        operation: &str,
        reference_id: &str,
        method: &str,
        url: String,
        body: Option<Box<RawValue>>,
    ) -> Result<Reference, Error> {
        if self.subrequests.len() >= COMPOSITE_LIMIT {
            return Err(Error::invalid(
                operation,
                format!("a Composite request takes at most {COMPOSITE_LIMIT} subrequests"),
            ));
        }
        let valid = reference_id
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && reference_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::invalid(
                operation,
                "a reference id is a letter followed by letters, digits and underscores",
            ));
        }
        if self
            .subrequests
            .iter()
            .any(|s| s.reference_id == reference_id)
        {
            return Err(Error::invalid(
                operation,
                "the reference id is already used",
            ));
        }
        self.subrequests.push(wire::CompositeSubrequest {
            body,
            http_headers: Default::default(),
            method: method.to_owned(),
            reference_id: reference_id.to_owned(),
            url,
        });
        Ok(Reference(reference_id.to_owned()))
    }
}

/// The REST base path subrequest URLs start with.
fn base() -> String {
    format!("/services/data/v{API_VERSION}")
}

/// An Id or external id in a URL: a reference `@{…}` as it is, anything else encoded.
fn id_segment(id: &str) -> String {
    if id.starts_with("@{") && id.ends_with('}') && !id.contains('/') {
        id.to_owned()
    } else {
        percent_encode(id)
    }
}

/// A Composite answer: one [`SubResponse`] per subrequest, in order.
#[derive(Debug, Clone)]
pub struct CompositeResponse {
    /// The subresponses, in subrequest order.
    pub responses: Vec<SubResponse>,
}

impl CompositeResponse {
    /// The subresponse of `reference_id`.
    pub fn get(&self, reference_id: &str) -> Option<&SubResponse> {
        self.responses
            .iter()
            .find(|r| r.reference_id == reference_id)
    }

    /// Whether every subrequest succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.responses.iter().all(SubResponse::is_success)
    }
}

/// One subrequest's answer.
#[derive(Debug, Clone)]
pub struct SubResponse {
    /// Its reference id.
    pub reference_id: String,
    /// Its HTTP status (e.g. 201 created, 204 updated, 400 refused).
    pub status: u16,
    /// Its errors, when it failed (with `allOrNone`, the subrequests rolled back because of
    /// another report `PROCESSING_HALTED`).
    pub errors: Vec<ApiError>,
    body: Option<Box<RawValue>>,
}

impl SubResponse {
    /// Whether it succeeded (2xx).
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The Id of the record it created or upserted (`id` of its body).
    pub fn id(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct WithId {
            id: Option<String>,
        }
        self.body
            .as_ref()
            .and_then(|body| serde_json::from_str::<WithId>(body.get()).ok())
            .and_then(|body| body.id)
    }

    /// Whether it created a record (201).
    pub fn created(&self) -> bool {
        self.status == 201
    }

    /// Its body read as `T` (`None` when it had none, e.g. 204).
    pub fn body<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        self.body
            .as_ref()
            .map(|body| {
                serde_json::from_str(body.get()).map_err(|e| Error::Decode {
                    operation: format!("composite {}", self.reference_id),
                    status: self.status,
                    detail: e.to_string(),
                })
            })
            .transpose()
    }

    /// The per-record results of a Collections subrequest (see
    /// [`CompositeRequest::upsert_collection`]), in record order.
    pub fn collection_results(&self) -> Result<Vec<RecordResult>, Error> {
        if let Some(error) = self.error() {
            return Err(error);
        }
        let answers: Vec<wire::UpsertResult> = self.body()?.unwrap_or_default();
        Ok(answers
            .into_iter()
            .map(|answer| {
                RecordResult::from_save(answer.success, answer.created, answer.id, answer.errors)
            })
            .collect())
    }

    /// For a failed subrequest, whether sending it again may work.
    pub fn class(&self) -> Option<ErrorClass> {
        (!self.is_success()).then(|| super::error::classify(Some(self.status), &self.errors))
    }

    /// A failed subrequest as an [`Error`].
    pub fn error(&self) -> Option<Error> {
        (!self.is_success()).then(|| Error::Api {
            operation: format!("composite {}", self.reference_id),
            status: self.status,
            errors: self.errors.clone(),
        })
    }
}

impl Client {
    /// Sends a Composite request; fails only if the call as a whole fails (see each
    /// [`SubResponse`] for the subrequests).
    pub async fn composite(&self, request: &CompositeRequest) -> Result<CompositeResponse, Error> {
        let operation = format!("composite of {} subrequests", request.subrequests.len());
        if request.is_empty() {
            return Err(Error::invalid(operation, "no subrequest"));
        }
        let body = wire::CompositeRequest {
            all_or_none: request.all_or_none,
            collate_subrequests: None,
            composite_request: request.subrequests.clone(),
        };
        let (op, body) = (operation.as_str(), &body);
        let answer = self
            .call(op, move |api: super::api::Client| async move {
                finish(op, api.composite(body).await).await
            })
            .await?;
        let responses = answer
            .composite_response
            .into_iter()
            .map(|sub| {
                let status = sub.http_status_code;
                let failed = !(200..300).contains(&status);
                let errors = match (&sub.body, failed) {
                    (Some(body), true) => parse_errors(body.get().as_bytes()),
                    (None, true) => Vec::new(),
                    (_, false) => Vec::new(),
                };
                SubResponse {
                    reference_id: sub.reference_id,
                    status,
                    errors,
                    body: sub.body.filter(|body| body.get() != "null"),
                }
            })
            .collect();
        Ok(CompositeResponse { responses })
    }
}
