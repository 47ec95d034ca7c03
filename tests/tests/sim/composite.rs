//! Composite: references between subrequests, per-subrequest status, allOrNone.

use serde_json::{Value, json};

use crate::common::Org;

fn sub(method: &str, url: &str, reference_id: &str, body: Option<Value>) -> Value {
    let mut sub = json!({"method": method, "url": format!("/services/data/v62.0{url}"), "referenceId": reference_id});
    if let Some(body) = body {
        sub["body"] = body;
    }
    sub
}

#[tokio::test]
async fn references_to_earlier_results() {
    let org = Org::start().await;
    let answer = org
        .post(
            "/composite",
            json!({"allOrNone": false, "compositeRequest": [
                sub("POST", "/sobjects/Stripe_Customer__c", "NewCustomer", Some(json!({"Stripe_Customer_ID__c": "cus_1"}))),
                sub("POST", "/sobjects/Stripe_Invoice__c", "NewInvoice", Some(json!({"Stripe_Invoice_ID__c": "in_1", "Stripe_Customer__c": "@{NewCustomer.id}"}))),
                sub("GET", "/sobjects/Stripe_Invoice__c/@{NewInvoice.id}?fields=Stripe_Customer__c,Name", "ReadInvoice", None),
                sub("GET", "/query?q=SELECT+Id,Name+FROM+Stripe_Invoice__c", "Invoices", None),
                sub("PATCH", "/sobjects/Stripe_Customer__c/@{NewCustomer.id}", "Touch", Some(json!({"Email__c": "a@b.co", "Customer_Name__c": "@{Invoices.records[0].Name}"}))),
            ]}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let results = answer.json["compositeResponse"].as_array().unwrap();
    let statuses: Vec<u64> = results
        .iter()
        .map(|r| r["httpStatusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 201, 200, 200, 204]);
    let customer = results[0]["body"]["id"].as_str().unwrap();
    assert_eq!(results[0]["referenceId"], "NewCustomer");
    assert_eq!(
        results[0]["httpHeaders"]["Location"],
        format!("/services/data/v62.0/sobjects/Stripe_Customer__c/{customer}")
    );
    assert_eq!(results[2]["body"]["Stripe_Customer__c"], customer);
    assert_eq!(results[4]["body"], Value::Null);
    let stored = &org.sim.records("Stripe_Customer__c")[0];
    assert_eq!(stored["Customer_Name__c"], "INV-000001");
    assert_eq!(org.sim.api_calls(), 1, "one composite call is one API call");
}

#[tokio::test]
async fn mixed_results_without_all_or_none() {
    let org = Org::start().await;
    let answer = org
        .post(
            "/composite",
            json!({"compositeRequest": [
                sub("POST", "/sobjects/Stripe_Customer__c", "Good", Some(json!({"Stripe_Customer_ID__c": "cus_1"}))),
                sub("POST", "/sobjects/Stripe_Customer__c", "Bad", Some(json!({"Stripe_Customer_ID__c": "cus_2", "Email__c": "nope"}))),
                sub("POST", "/sobjects/Stripe_Invoice__c", "Dependent", Some(json!({"Stripe_Invoice_ID__c": "in_1", "Stripe_Customer__c": "@{Bad.id}"}))),
                sub("POST", "/sobjects/Stripe_Invoice__c", "Independent", Some(json!({"Stripe_Invoice_ID__c": "in_2"}))),
            ]}),
        )
        .await;
    assert_eq!(answer.status, 200);
    let results = answer.json["compositeResponse"].as_array().unwrap();
    let statuses: Vec<u64> = results
        .iter()
        .map(|r| r["httpStatusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 400, 400, 201]);
    assert_eq!(
        results[1]["body"],
        json!([{"message": "Email: invalid email address: nope", "errorCode": "INVALID_EMAIL_ADDRESS", "fields": ["Email__c"]}])
    );
    assert_eq!(results[2]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert!(
        results[2]["body"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid reference specified. No value for Bad.id found in Bad.")
    );
    assert_eq!(org.sim.records("Stripe_Customer__c").len(), 1);
    assert_eq!(org.sim.records("Stripe_Invoice__c").len(), 1);
}

#[tokio::test]
async fn all_or_none_rolls_back_every_subrequest() {
    let org = Org::start().await;
    let existing = org.customer("cus_0");
    let answer = org
        .post(
            "/composite",
            json!({"allOrNone": true, "compositeRequest": [
                sub("POST", "/sobjects/Stripe_Customer__c", "First", Some(json!({"Stripe_Customer_ID__c": "cus_1"}))),
                sub("PATCH", &format!("/sobjects/Stripe_Customer__c/{existing}"), "Change", Some(json!({"Email__c": "a@b.co"}))),
                sub("POST", "/sobjects/Stripe_Invoice__c", "Fails", Some(json!({"Status__c": "draft"}))),
                sub("POST", "/sobjects/Stripe_Customer__c", "Later", Some(json!({"Stripe_Customer_ID__c": "cus_2"}))),
            ]}),
        )
        .await;
    assert_eq!(answer.status, 200);
    let results = answer.json["compositeResponse"].as_array().unwrap();
    let halted = json!([{
        "errorCode": "PROCESSING_HALTED",
        "message": "The transaction was rolled back since another operation in the same transaction failed.",
    }]);
    assert_eq!(results[0]["httpStatusCode"], 400);
    assert_eq!(results[0]["body"], halted);
    assert_eq!(results[1]["body"], halted);
    assert_eq!(results[2]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(results[3]["body"], halted);
    let customers = org.sim.records("Stripe_Customer__c");
    assert_eq!(customers.len(), 1);
    assert!(
        customers[0].get("Email__c").is_none(),
        "the update was rolled back"
    );
}

#[tokio::test]
async fn malformed_requests_fail_whole() {
    let org = Org::start().await;
    let many: Vec<Value> = (0..26)
        .map(|n| sub("GET", "/limits", &format!("r{n}"), None))
        .collect();
    let answer = org
        .post("/composite", json!({"compositeRequest": many}))
        .await;
    assert_eq!(answer.status, 400);
    let duplicate = org
        .post(
            "/composite",
            json!({"compositeRequest": [sub("GET", "/limits", "same", None), sub("GET", "/limits", "same", None)]}),
        )
        .await;
    assert_eq!(duplicate.status, 400);
    let bad_reference_id = org
        .post(
            "/composite",
            json!({"compositeRequest": [sub("GET", "/limits", "bad-id", None)]}),
        )
        .await;
    assert_eq!(bad_reference_id.status, 400);
    assert!(bad_reference_id.error().1.contains("bad-id"));
}
