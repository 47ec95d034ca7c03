//! One record at a time: create, read, update, delete and upsert by external id.
//!
//! Typed methods take the write shapes of `sfdc-types` ([`Writable`]), whose object names the
//! sObject; `_json` methods take any serializable JSON object and name the sObject.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sfdc_types::{SObject, Writable};

use super::api;
use super::client::{Client, finish, generated_error};
use super::error::Error;
use super::record::{self, RecordResult};

impl Client {
    /// Creates one record of `W`'s object; its Id.
    pub async fn create<W: Writable + Serialize>(&self, record: &W) -> Result<String, Error> {
        self.create_json(W::Read::API_NAME, record).await
    }

    /// Creates one `sobject` record from a JSON object; its Id.
    pub async fn create_json(
        &self,
        sobject: &str,
        record: &impl Serialize,
    ) -> Result<String, Error> {
        let operation = format!("create {sobject}");
        let body = record::to_raw(&operation, &record::to_object(&operation, record)?)?;
        let (op, body) = (operation.as_str(), &body);
        let result = self
            .call(op, move |api: api::Client| async move {
                finish(op, api.create_record(sobject, body).await).await
            })
            .await?;
        match (result.success, result.id) {
            (true, Some(id)) => Ok(id),
            _ => Err(Error::Api {
                operation,
                status: 201,
                errors: result.errors.into_iter().map(Into::into).collect(),
            }),
        }
    }

    /// Reads the record `id` of `T`'s object, with `fields` (all fields when empty).
    pub async fn get<T: SObject + DeserializeOwned>(
        &self,
        id: &str,
        fields: &[&str],
    ) -> Result<T, Error> {
        self.get_json(T::API_NAME, id, fields).await
    }

    /// Reads the `sobject` record `id` into any deserializable type (`serde_json::Value`
    /// works), with `fields` (all fields when empty).
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        sobject: &str,
        id: &str,
        fields: &[&str],
    ) -> Result<T, Error> {
        let operation = format!("read {sobject} {id}");
        let fields = (!fields.is_empty()).then(|| fields.join(","));
        let (op, fields) = (operation.as_str(), fields.as_deref());
        let raw = self
            .call(op, move |api: api::Client| async move {
                finish(op, api.get_record(sobject, id, fields).await).await
            })
            .await?;
        serde_json::from_str(raw.get()).map_err(|e| Error::Decode {
            operation,
            status: 200,
            detail: e.to_string(),
        })
    }

    /// Updates the record `id` of `W`'s object with the fields `record` sets or clears.
    pub async fn update<W: Writable + Serialize>(&self, id: &str, record: &W) -> Result<(), Error> {
        self.update_json(W::Read::API_NAME, id, record).await
    }

    /// Updates the `sobject` record `id` with the fields of a JSON object.
    pub async fn update_json(
        &self,
        sobject: &str,
        id: &str,
        record: &impl Serialize,
    ) -> Result<(), Error> {
        let operation = format!("update {sobject} {id}");
        let object = record::without_field(record::to_object(&operation, record)?, "Id");
        let body = record::to_raw(&operation, &object)?;
        let (op, body) = (operation.as_str(), &body);
        self.call(op, move |api: api::Client| async move {
            finish(op, api.update_record(sobject, id, body).await).await
        })
        .await
    }

    /// Deletes the `sobject` record `id`.
    pub async fn delete(&self, sobject: &str, id: &str) -> Result<(), Error> {
        let operation = format!("delete {sobject} {id}");
        let op = operation.as_str();
        self.call(op, move |api: api::Client| async move {
            finish(op, api.delete_record(sobject, id).await).await
        })
        .await
    }

    /// Creates or updates the record of `W`'s object whose `external_id_field` has the value
    /// `record` sets for it. Salesforce answers 201 when it creates, 200 or 204 when it
    /// updates; several matching records are an [`Error::MultipleMatches`].
    pub async fn upsert<W: Writable + Serialize>(
        &self,
        external_id_field: &str,
        record: &W,
    ) -> Result<RecordResult, Error> {
        let sobject = W::Read::API_NAME;
        let operation = format!("upsert {sobject} by {external_id_field}");
        record::check_external_id::<W>(&operation, external_id_field)?;
        let value = record::writable_text(record, external_id_field).ok_or_else(|| {
            Error::invalid(
                &operation,
                format!("the record has no value for {external_id_field}"),
            )
        })?;
        self.upsert_json(sobject, external_id_field, &value, record)
            .await
    }

    /// Creates or updates the `sobject` record whose `external_id_field` is `external_id`,
    /// with the fields of a JSON object (the external id field itself is taken out of the
    /// body, as Salesforce wants).
    pub async fn upsert_json(
        &self,
        sobject: &str,
        external_id_field: &str,
        external_id: &str,
        record: &impl Serialize,
    ) -> Result<RecordResult, Error> {
        let operation = format!("upsert {sobject} {external_id_field}={external_id}");
        if external_id.is_empty() {
            return Err(Error::invalid(operation, "the external id is empty"));
        }
        let object =
            record::without_field(record::to_object(&operation, record)?, external_id_field);
        let body = record::to_raw(&operation, &object)?;
        let (op, body) = (operation.as_str(), &body);
        self.call(op, move |api: api::Client| async move {
            let result = api
                .upsert_record(sobject, external_id_field, external_id, body)
                .await;
            upsert_outcome(op, result).await
        })
        .await
    }
}

/// Reads an upsert answer: 201 created, 200 updated (or created, per its body), 204 updated
/// (no body), 300 several matches.
async fn upsert_outcome(
    operation: &str,
    result: Result<api::ResponseValue<api::types::UpsertResult>, api::Error<()>>,
) -> Result<RecordResult, Error> {
    match result {
        Ok(response) => {
            let status = response.status().as_u16();
            let result = response.into_inner();
            if !result.success {
                return Err(Error::Api {
                    operation: operation.to_owned(),
                    status,
                    errors: result.errors.into_iter().map(Into::into).collect(),
                });
            }
            let created = result.created.unwrap_or(status == 201);
            Ok(RecordResult::from_save(
                true,
                Some(created),
                result.id,
                Vec::new(),
            ))
        }
        Err(api::Error::UnexpectedResponse(response)) if response.status().as_u16() == 204 => {
            Ok(RecordResult::Updated { id: None })
        }
        Err(api::Error::UnexpectedResponse(response)) if response.status().as_u16() == 300 => {
            let body = response
                .bytes()
                .await
                .map_err(|e| Error::transport(operation, e))?;
            Err(Error::MultipleMatches {
                operation: operation.to_owned(),
                matches: multiple_choices(&body),
            })
        }
        Err(error) => Err(generated_error(operation, error).await),
    }
}

/// The record URLs of a 300 answer: a JSON array of URLs (or of objects, whose URL or Id is
/// taken).
fn multiple_choices(body: &[u8]) -> Vec<String> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_slice(body) else {
        return vec![super::error::excerpt(body)];
    };
    items
        .into_iter()
        .map(|item| match item {
            serde_json::Value::String(url) => url,
            serde_json::Value::Object(object) => ["url", "Id", "id"]
                .iter()
                .find_map(|key| object.get(*key).and_then(|v| v.as_str()).map(str::to_owned))
                .unwrap_or_else(|| serde_json::Value::Object(object).to_string()),
            other => other.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_multiple_choices() {
        assert_eq!(
            multiple_choices(br#"["/services/data/v62.0/sobjects/Contact/003A","/services/data/v62.0/sobjects/Contact/003B"]"#),
            [
                "/services/data/v62.0/sobjects/Contact/003A",
                "/services/data/v62.0/sobjects/Contact/003B"
            ]
        );
        assert_eq!(
            multiple_choices(br#"[{"url":"/x/1"},{"Id":"2"}]"#),
            ["/x/1", "2"]
        );
        assert_eq!(multiple_choices(b"nope"), ["nope"]);
    }
}
