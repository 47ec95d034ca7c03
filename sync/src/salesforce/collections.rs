//! sObject Collections upsert: up to 200 records of one object per call, one
//! [`RecordResult`] per record. Larger inputs are sent in chunks of 200, one after the other.

use serde::Serialize;
use sfdc_types::{SObject, Writable};

use super::client::{Client, finish};
use super::error::Error;
use super::record::{self, RecordResult};

/// Most records Salesforce takes in one Collections call.
pub const COLLECTION_LIMIT: usize = 200;

impl Client {
    /// Upserts `records` of `W`'s object by `external_id_field`, 200 per call; one result
    /// per record, in input order.
    ///
    /// With `all_or_none`, a chunk in which one record fails writes none of its records
    /// (each then reports an error). A call that fails as a whole (transport, 5xx, quota)
    /// stops here with its error: chunks before it were written, and since upserts are
    /// idempotent the whole input can be sent again.
    pub async fn upsert_collection<W: Writable + Serialize>(
        &self,
        external_id_field: &str,
        records: &[W],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>, Error> {
        let operation = format!("upsert {} by {external_id_field}", W::Read::API_NAME);
        record::check_external_id::<W>(&operation, external_id_field)?;
        self.upsert_collection_json(W::Read::API_NAME, external_id_field, records, all_or_none)
            .await
    }

    /// Upserts JSON objects as `sobject` records by `external_id_field` (which each must
    /// carry), 200 per call; one result per record, in input order.
    pub async fn upsert_collection_json<R: Serialize>(
        &self,
        sobject: &str,
        external_id_field: &str,
        records: &[R],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>, Error> {
        let mut results = Vec::with_capacity(records.len());
        for (chunk_number, chunk) in records.chunks(COLLECTION_LIMIT).enumerate() {
            let first = chunk_number * COLLECTION_LIMIT;
            let operation = format!(
                "upsert {sobject} by {external_id_field} (Collections, records {first}..{})",
                first + chunk.len()
            );
            let mut body = Vec::with_capacity(chunk.len());
            for (position, record) in chunk.iter().enumerate() {
                let mut object = record::to_object(&operation, record)?;
                if record::field_text(&object, external_id_field).is_none_or(|v| v.is_empty()) {
                    return Err(Error::invalid(
                        &operation,
                        format!(
                            "record {} has no value for {external_id_field}",
                            first + position
                        ),
                    ));
                }
                record::set_type(&operation, &mut object, sobject)?;
                body.push(record::to_raw(&operation, &object)?);
            }
            let request = super::api::types::CollectionRequest {
                all_or_none,
                records: body,
            };
            let (op, request) = (operation.as_str(), &request);
            let answers = self
                .call(op, move |api: super::api::Client| async move {
                    finish(
                        op,
                        api.upsert_collection(sobject, external_id_field, request)
                            .await,
                    )
                    .await
                })
                .await?;
            if answers.len() != chunk.len() {
                return Err(Error::Decode {
                    operation,
                    status: 200,
                    detail: format!("{} results for {} records", answers.len(), chunk.len()),
                });
            }
            results.extend(answers.into_iter().map(|answer| {
                RecordResult::from_save(answer.success, answer.created, answer.id, answer.errors)
            }));
        }
        Ok(results)
    }
}
