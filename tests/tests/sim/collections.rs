//! sObject Collections: per-record results, allOrNone, the 200-record limit, upsert.

use serde_json::{Value, json};

use crate::common::Org;

fn customer(stripe_id: &str) -> Value {
    json!({"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": stripe_id})
}

#[tokio::test]
async fn create_answers_200_with_mixed_results() {
    let org = Org::start().await;
    let answer = org
        .post(
            "/composite/sobjects",
            json!({"allOrNone": false, "records": [
                customer("cus_1"),
                {"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": "cus_2", "Sync_Status__c": "Nope"},
                {"attributes": {"type": "Contact"}, "LastName": "Doe"},
                customer("cus_1"),
            ]}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let results = answer.json.as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["success"], true);
    assert!(results[0]["id"].as_str().unwrap().starts_with("a0"));
    assert_eq!(results[1]["success"], false);
    assert!(results[1].get("id").is_none());
    assert_eq!(
        results[1]["errors"],
        json!([{
            "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "message": "Sync Status: bad value for restricted picklist field: Nope",
            "fields": ["Sync_Status__c"],
        }])
    );
    assert_eq!(results[2]["success"], true);
    assert!(results[2]["id"].as_str().unwrap().starts_with("003"));
    assert_eq!(results[3]["errors"][0]["statusCode"], "DUPLICATE_VALUE");
    assert_eq!(org.sim.records("Stripe_Customer__c").len(), 1);
}

#[tokio::test]
async fn every_record_failing_is_still_200() {
    let org = Org::start().await;
    let answer = org
        .post(
            "/composite/sobjects",
            json!({"records": [{"attributes": {"type": "Stripe_Invoice__c"}}, {"attributes": {"type": "Stripe_Invoice__c"}}]}),
        )
        .await;
    assert_eq!(answer.status, 200);
    for result in answer.json.as_array().unwrap() {
        assert_eq!(result["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    }
}

#[tokio::test]
async fn all_or_none_rolls_back() {
    let org = Org::start().await;
    let answer = org
        .post(
            "/composite/sobjects",
            json!({"allOrNone": true, "records": [
                customer("cus_1"),
                {"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": "cus_2", "Currency__c": "USDX"},
            ]}),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json[0]["errors"][0],
        json!({
            "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
            "fields": [],
        })
    );
    assert_eq!(answer.json[1]["errors"][0]["statusCode"], "STRING_TOO_LONG");
    assert!(org.sim.records("Stripe_Customer__c").is_empty());
    // The id counter moved on, but a later create works and the rolled-back value is free.
    let again = org
        .post(
            "/composite/sobjects",
            json!({"allOrNone": true, "records": [customer("cus_1")]}),
        )
        .await;
    assert_eq!(again.json[0]["success"], true, "{}", again.text);
}

#[tokio::test]
async fn requests_salesforce_cannot_read_fail_whole() {
    let org = Org::start().await;
    let records: Vec<Value> = (0..201).map(|n| customer(&format!("cus_{n}"))).collect();
    let answer = org
        .post("/composite/sobjects", json!({"records": records}))
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.error(),
        (
            "EXCEEDED_ID_LIMIT".to_owned(),
            "record limit reached. cannot submit more than 200 records into this call".to_owned()
        )
    );
    let unknown_field = org
        .post(
            "/composite/sobjects",
            json!({"records": [customer("cus_1"), {"attributes": {"type": "Stripe_Customer__c"}, "Colour__c": "red"}]}),
        )
        .await;
    assert_eq!(
        (unknown_field.status, unknown_field.error().0.as_str()),
        (400, "INVALID_FIELD")
    );
    assert!(org.sim.records("Stripe_Customer__c").is_empty());
    let records: Vec<Value> = (0..200).map(|n| customer(&format!("cus_{n}"))).collect();
    let full = org
        .post("/composite/sobjects", json!({"records": records}))
        .await;
    assert_eq!(full.status, 200);
    assert_eq!(org.sim.records("Stripe_Customer__c").len(), 200);
}

#[tokio::test]
async fn update_and_delete() {
    let org = Org::start().await;
    let first = org.customer("cus_1");
    let second = org.customer("cus_2");
    let answer = org
        .patch(
            "/composite/sobjects",
            json!({"records": [
                {"attributes": {"type": "Stripe_Customer__c"}, "id": first, "Email__c": "a@b.co"},
                {"attributes": {"type": "Stripe_Customer__c"}, "Email__c": "c@d.co"},
            ]}),
        )
        .await;
    assert_eq!(
        answer.json[0],
        json!({"id": first, "success": true, "errors": []})
    );
    assert_eq!(
        answer.json[1]["errors"][0]["statusCode"],
        "MISSING_ARGUMENT"
    );
    let deleted = org
        .delete(&format!(
            "/composite/sobjects?ids={first},{second}&allOrNone=false"
        ))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert_eq!(
        deleted.json[1],
        json!({"id": second, "success": true, "errors": []})
    );
    let again = org
        .delete(&format!("/composite/sobjects?ids={first}"))
        .await;
    assert_eq!(
        again.json[0]["errors"][0]["statusCode"],
        "ENTITY_IS_DELETED"
    );
}

#[tokio::test]
async fn upsert_by_external_id() {
    let org = Org::start().await;
    let existing = org.customer("cus_1");
    org.customer("cus_parent");
    let answer = org
        .patch(
            "/composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c",
            json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": "cus_1", "Email__c": "a@b.co"},
                {"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": "cus_2"},
                {"attributes": {"type": "Stripe_Customer__c"}, "Email__c": "x@y.co"},
                {"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": "cus_3"},
                {"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": "cus_3"},
            ]}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let results = answer.json.as_array().unwrap();
    assert_eq!(
        results[0],
        json!({"id": existing, "success": true, "errors": [], "created": false})
    );
    assert_eq!(results[1]["created"], true);
    assert_eq!(results[2]["errors"][0]["statusCode"], "MISSING_ARGUMENT");
    for duplicate in &results[3..] {
        assert_eq!(
            duplicate["errors"][0]["statusCode"],
            "DUPLICATE_EXTERNAL_ID"
        );
        assert_eq!(
            duplicate["errors"][0]["message"],
            "Duplicate external id specified: cus_3"
        );
    }
    let invoices = org
        .patch(
            "/composite/sobjects/Stripe_Invoice__c/Stripe_Invoice_ID__c",
            json!({"records": [
                {"attributes": {"type": "Stripe_Invoice__c"}, "Stripe_Invoice_ID__c": "in_1", "Stripe_Customer__r": {"Stripe_Customer_ID__c": "cus_parent"}},
                {"attributes": {"type": "Stripe_Invoice__c"}, "Stripe_Invoice_ID__c": "in_2", "Stripe_Customer__r": {"Stripe_Customer_ID__c": "cus_missing"}},
            ]}),
        )
        .await;
    assert_eq!(invoices.json[0]["success"], true, "{}", invoices.text);
    assert_eq!(invoices.json[1]["errors"][0]["statusCode"], "INVALID_FIELD");
    let not_external = org
        .patch(
            "/composite/sobjects/Stripe_Customer__c/Email__c",
            json!({"records": []}),
        )
        .await;
    assert_eq!(not_external.status, 400);
}
