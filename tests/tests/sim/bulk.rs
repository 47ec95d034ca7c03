//! Bulk API 2.0 ingest: jobs that really process CSV against the model.

use std::time::Duration;

use serde_json::{Value, json};
use sfdc_types::parse_csv;

use crate::common::Org;

/// Polls the job until it leaves UploadComplete / InProgress.
async fn wait(org: &Org, id: &str) -> Value {
    for _ in 0..200 {
        let job = org.get(&format!("/jobs/ingest/{id}")).await;
        let state = job.json["state"].as_str().unwrap_or_default().to_owned();
        if !matches!(state.as_str(), "UploadComplete" | "InProgress") {
            return job.json;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {id} never finished");
}

async fn run_job(org: &Org, job: Value, csv: &str) -> (String, Value) {
    let created = org.post("/jobs/ingest", job).await;
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(created.json["state"], "Open");
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("750"));
    let uploaded = org
        .put_csv(&format!("/jobs/ingest/{id}/batches"), csv)
        .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    let closed = org
        .patch(
            &format!("/jobs/ingest/{id}"),
            json!({"state": "UploadComplete"}),
        )
        .await;
    assert_eq!(closed.json["state"], "UploadComplete");
    let info = wait(org, &id).await;
    (id, info)
}

#[tokio::test]
async fn insert_job_with_failed_rows_and_result_files() {
    let org = Org::start().await;
    org.customer("cus_1");
    let csv = "Stripe_Invoice_ID__c,Status__c,Amount_Due__c,Stripe_Customer__r.Stripe_Customer_ID__c\n\
               in_1,paid,10.5,cus_1\n\
               in_2,exploded,1,cus_1\n\
               ,open,2,\n\
               in_4,open,3,cus_missing\n\
               in_5,#N/A,abc,\n\
               \"in_6\",\"draft\",\"4\",\n";
    let (id, info) = run_job(
        &org,
        json!({"object": "Stripe_Invoice__c", "operation": "insert", "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"}),
        csv,
    )
    .await;
    assert_eq!(info["state"], "JobComplete", "{info}");
    assert_eq!(info["numberRecordsProcessed"], 6);
    assert_eq!(info["numberRecordsFailed"], 4);

    let successful = org
        .get(&format!("/jobs/ingest/{id}/successfulResults/"))
        .await;
    assert_eq!(successful.status, 200);
    assert!(
        successful.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let rows = parse_csv(&successful.text).unwrap();
    assert_eq!(
        rows[0],
        [
            "sf__Id",
            "sf__Created",
            "Stripe_Invoice_ID__c",
            "Status__c",
            "Amount_Due__c",
            "Stripe_Customer__r.Stripe_Customer_ID__c"
        ]
    );
    assert!(
        successful
            .text
            .starts_with("\"sf__Id\",\"sf__Created\",Stripe_Invoice_ID__c")
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][1], "true");
    assert_eq!(rows[1][2], "in_1");
    let stored = org.sim.records("Stripe_Invoice__c");
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["Id"], rows[1][0].as_str());
    assert!(
        stored[0]["Stripe_Customer__c"]
            .as_str()
            .unwrap()
            .starts_with("a0")
    );

    let failed = org.get(&format!("/jobs/ingest/{id}/failedResults/")).await;
    let rows = parse_csv(&failed.text).unwrap();
    assert_eq!(rows[0][..2], ["sf__Id", "sf__Error"]);
    let errors: Vec<&str> = rows[1..].iter().map(|row| row[1].as_str()).collect();
    assert_eq!(
        errors,
        [
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Status: bad value for restricted picklist field: exploded:Status__c --",
            "REQUIRED_FIELD_MISSING:Required fields are missing: [Stripe_Invoice_ID__c]:Stripe_Invoice_ID__c --",
            "INVALID_FIELD:Foreign key external ID: cus_missing not found for field Stripe_Customer_ID__c in entity Stripe_Customer__c: --",
            "INVALID_TYPE_ON_FIELD_IN_RECORD:Amount Due: value not of required type: abc:Amount_Due__c --",
        ]
    );
    assert_eq!(rows[1][2..], ["in_2", "exploded", "1", "cus_1"]);
    let unprocessed = org
        .get(&format!("/jobs/ingest/{id}/unprocessedrecords/"))
        .await;
    assert_eq!(parse_csv(&unprocessed.text).unwrap().len(), 1);
    assert_eq!(org.delete(&format!("/jobs/ingest/{id}")).await.status, 204);
    assert_eq!(org.get(&format!("/jobs/ingest/{id}")).await.status, 404);
}

#[tokio::test]
async fn upsert_and_delete_jobs() {
    let org = Org::start().await;
    let existing = org.seed(
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_1", "Email__c": "old@x.co", "Phone__c": "1"}),
    );
    let (id, info) = run_job(
        &org,
        json!({"object": "Stripe_Customer__c", "operation": "upsert", "externalIdFieldName": "Stripe_Customer_ID__c"}),
        "Stripe_Customer_ID__c,Email__c,Phone__c\ncus_1,new@x.co,\ncus_2,,#N/A\n",
    )
    .await;
    assert_eq!(info["state"], "JobComplete", "{info}");
    assert_eq!(info["externalIdFieldName"], "Stripe_Customer_ID__c");
    let rows = parse_csv(
        &org.get(&format!("/jobs/ingest/{id}/successfulResults/"))
            .await
            .text,
    )
    .unwrap();
    assert_eq!(rows[1][..2], [existing.as_str(), "false"]);
    assert_eq!(rows[2][1], "true");
    let stored = org.sim.records("Stripe_Customer__c");
    assert_eq!(stored[0]["Email__c"], "new@x.co");
    assert_eq!(
        stored[0]["Phone__c"], "1",
        "an empty cell leaves the field as it is"
    );

    let (_, deleted) = run_job(
        &org,
        json!({"object": "Stripe_Customer__c", "operation": "delete"}),
        &format!("Id\n{existing}\n{existing}\n"),
    )
    .await;
    assert_eq!(
        (
            deleted["numberRecordsProcessed"].clone(),
            deleted["numberRecordsFailed"].clone()
        ),
        (json!(2), json!(1))
    );
    assert_eq!(org.sim.records("Stripe_Customer__c").len(), 1);
}

#[tokio::test]
async fn jobs_that_fail_as_a_whole() {
    let org = Org::start().await;
    let (_, unknown_column) = run_job(
        &org,
        json!({"object": "Stripe_Customer__c", "operation": "insert"}),
        "Stripe_Customer_ID__c,Colour__c\ncus_1,red\n",
    )
    .await;
    assert_eq!(unknown_column["state"], "Failed");
    assert_eq!(
        unknown_column["errorMessage"],
        "InvalidBatch : Field name not found : Colour__c"
    );
    let (id, wrong_line_ending) = run_job(
        &org,
        json!({"object": "Stripe_Customer__c", "operation": "insert", "lineEnding": "LF"}),
        "Stripe_Customer_ID__c\r\ncus_1\r\n",
    )
    .await;
    assert_eq!(wrong_line_ending["state"], "Failed");
    assert!(
        wrong_line_ending["errorMessage"]
            .as_str()
            .unwrap()
            .contains("LineEnding is invalid")
    );
    assert_eq!(
        parse_csv(
            &org.get(&format!("/jobs/ingest/{id}/unprocessedrecords/"))
                .await
                .text
        )
        .unwrap()
        .len(),
        0
    );
    assert!(org.sim.records("Stripe_Customer__c").is_empty());

    let unknown_object = org
        .post(
            "/jobs/ingest",
            json!({"object": "Nope__c", "operation": "insert"}),
        )
        .await;
    assert_eq!(unknown_object.status, 400);
    assert_eq!(
        unknown_object.error(),
        (
            "INVALIDJOB".to_owned(),
            "InvalidJob : Unable to find object: Nope__c".to_owned()
        )
    );
    let no_external_id = org
        .post(
            "/jobs/ingest",
            json!({"object": "Stripe_Customer__c", "operation": "upsert"}),
        )
        .await;
    assert_eq!(no_external_id.status, 400);
    assert!(
        no_external_id
            .error()
            .1
            .contains("An External ID must be specified for upsert")
    );
}

#[tokio::test]
async fn abort_and_state_rules() {
    let org = Org::start().await;
    let created = org
        .post(
            "/jobs/ingest",
            json!({"object": "Contact", "operation": "insert"}),
        )
        .await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    let early_delete = org.delete(&format!("/jobs/ingest/{id}")).await;
    assert_eq!(early_delete.status, 400);
    let aborted = org
        .patch(&format!("/jobs/ingest/{id}"), json!({"state": "Aborted"}))
        .await;
    assert_eq!(aborted.json["state"], "Aborted");
    let late_upload = org
        .put_csv(&format!("/jobs/ingest/{id}/batches"), "LastName\nDoe\n")
        .await;
    assert_eq!(late_upload.status, 409);
    let list = org.get("/jobs/ingest").await;
    assert_eq!(list.json["records"][0]["id"], id);
    assert!(org.sim.records("Contact").is_empty());
}
