//! sObject rows: create, read, update, delete, upsert by external id, parent references,
//! system fields.

use serde_json::json;
use sfdc_sim::{SimConfig, Simulator};
use sfdc_types::{FieldDescribe, Schema};

use crate::common::Org;

#[tokio::test]
async fn create_get_update_delete() {
    let org = Org::start().await;
    let created = org
        .post(
            "/sobjects/Stripe_Customer__c/",
            json!({"Stripe_Customer_ID__c": "cus_1", "Email__c": "a@b.co"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json["success"], true);
    assert_eq!(created.json["errors"], json!([]));
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 18);
    assert_eq!(sfdc_sim::ids::normalize(&id).as_deref(), Some(id.as_str()));

    let path = format!("/sobjects/Stripe_Customer__c/{id}");
    let got = org.get(&path).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["attributes"]["type"], "Stripe_Customer__c");
    assert_eq!(
        got.json["attributes"]["url"],
        format!("/services/data/v62.0{path}")
    );
    assert_eq!(got.json["Email__c"], "a@b.co");
    assert_eq!(got.json["Delinquent__c"], false);
    assert_eq!(
        got.json["Name"], id,
        "a custom object's empty text Name is its id"
    );
    assert_eq!(got.json["Phone__c"], serde_json::Value::Null);
    let modstamp = got.json["SystemModstamp"].as_str().unwrap().to_owned();
    assert!(
        modstamp.ends_with("+0000") && modstamp.len() == 28,
        "{modstamp}"
    );

    let some = org.get(&format!("{path}?fields=Email__c,Id")).await;
    assert_eq!(some.json.as_object().unwrap().len(), 3, "{}", some.text);
    let unknown = org.get(&format!("{path}?fields=Nope__c")).await;
    assert_eq!(
        (unknown.status, unknown.error().0.as_str()),
        (400, "INVALID_FIELD")
    );

    // 15-character and case-lost ids name the same record.
    assert_eq!(
        org.get(&format!("/sobjects/Stripe_Customer__c/{}", &id[..15]))
            .await
            .status,
        200
    );
    assert_eq!(
        org.get(&format!(
            "/sobjects/Stripe_Customer__c/{}",
            id.to_lowercase()
        ))
        .await
        .status,
        200
    );

    let updated = org.patch(&path, json!({"Email__c": "c@d.co"})).await;
    assert_eq!((updated.status, updated.text.as_str()), (204, ""));
    let after = org.get(&path).await;
    assert_eq!(after.json["Email__c"], "c@d.co");
    assert!(after.json["SystemModstamp"].as_str().unwrap() > modstamp.as_str());
    assert_eq!(after.json["CreatedDate"], got.json["CreatedDate"]);

    assert_eq!(org.delete(&path).await.status, 204);
    let gone = org.get(&path).await;
    assert_eq!(
        (gone.status, gone.error().0.as_str()),
        (404, "ENTITY_IS_DELETED")
    );
    let never = org
        .get(&format!(
            "/sobjects/Stripe_Customer__c/{}",
            sfdc_sim::ids::make(&id[..3], 999)
        ))
        .await;
    assert_eq!((never.status, never.error().0.as_str()), (404, "NOT_FOUND"));
    let not_an_id = org.get("/sobjects/Stripe_Customer__c/cus_1").await;
    assert_eq!(not_an_id.status, 404);
    assert_eq!(
        not_an_id.error().1,
        "Provided external ID field does not exist or is not accessible: cus_1"
    );
}

#[tokio::test]
async fn system_fields_defaults_and_auto_numbers() {
    let org = Org::start().await;
    let first = org.seed(
        "Stripe_Subscription__c",
        json!({"Stripe_Subscription_ID__c": "sub_1"}),
    );
    let second = org.seed("Stripe_Subscription__c", json!({}));
    let records = org.sim.records("Stripe_Subscription__c");
    assert_eq!(records[0]["Id"], first);
    assert_eq!(records[0]["Name"], "SUB-000001");
    assert_eq!(records[1]["Id"], second);
    assert_eq!(records[1]["Name"], "SUB-000002");
    assert_eq!(
        records[0]["Sync_Status__c"], "Draft",
        "picklist default from force-app"
    );
    assert_eq!(records[0]["Cancel_At_Period_End__c"], false);
    assert!(records[0]["OwnerId"].as_str().unwrap().starts_with("005"));
    for field in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
        assert!(
            records[0][field].as_str().unwrap().ends_with("+0000"),
            "{field}"
        );
    }
    let contact = org.seed(
        "Contact",
        json!({"FirstName": "Ada", "LastName": "Lovelace"}),
    );
    assert!(contact.starts_with("003"));
    assert_eq!(org.sim.records("Contact")[0]["Name"], "Ada Lovelace");
}

#[tokio::test]
async fn system_modstamp_strictly_increases() {
    let org = Org::start().await;
    for n in 0..50 {
        org.customer(&format!("cus_{n}"));
    }
    let stamps: Vec<String> = org
        .sim
        .records("Stripe_Customer__c")
        .iter()
        .map(|record| record["SystemModstamp"].as_str().unwrap().to_owned())
        .collect();
    for pair in stamps.windows(2) {
        assert!(pair[0] < pair[1], "{} < {}", pair[0], pair[1]);
    }
}

#[tokio::test]
async fn parent_references_by_external_id() {
    let org = Org::start().await;
    let customer = org.customer("cus_1");
    let created = org
        .post(
            "/sobjects/Stripe_Invoice__c/",
            json!({"Stripe_Invoice_ID__c": "in_1", "Stripe_Customer__r": {"Stripe_Customer_ID__c": "cus_1"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let invoice = &org.sim.records("Stripe_Invoice__c")[0];
    assert_eq!(invoice["Stripe_Customer__c"], customer);
    // Deleting the parent clears the lookup; a master-detail child goes with its parent.
    let plan = org.seed("Pricing_Plan__c", json!({"Stripe_Price_ID__c": "price_1"}));
    org.seed(
        "Pricing_Tier__c",
        json!({"Tier_Key__c": "price_1:1", "Pricing_Plan__r": {"Stripe_Price_ID__c": "price_1"}}),
    );
    assert_eq!(
        org.delete(&format!("/sobjects/Stripe_Customer__c/{customer}"))
            .await
            .status,
        204
    );
    assert!(
        org.sim.records("Stripe_Invoice__c")[0]
            .get("Stripe_Customer__c")
            .is_none()
    );
    assert_eq!(
        org.delete(&format!("/sobjects/Pricing_Plan__c/{plan}"))
            .await
            .status,
        204
    );
    assert!(org.sim.records("Pricing_Tier__c").is_empty());
}

#[tokio::test]
async fn upsert_creates_then_updates_with_200() {
    let org = Org::start().await;
    let path = "/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/cus_1";
    let created = org.patch(path, json!({"Email__c": "a@b.co"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json["created"], true);
    let id = created.json["id"].clone();
    let updated = org.patch(path, json!({"Email__c": "c@d.co"})).await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(
        updated.json,
        json!({"id": id, "success": true, "errors": [], "created": false})
    );
    let records = org.sim.records("Stripe_Customer__c");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["Email__c"], "c@d.co");
    assert_eq!(records[0]["Stripe_Customer_ID__c"], "cus_1");
    let by_external_id = org.get(path).await;
    assert_eq!(by_external_id.json["Id"], id);
    // The external id is case-sensitive: another case creates another record.
    let other = org
        .patch(
            "/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/CUS_1",
            json!({}),
        )
        .await;
    assert_eq!(other.status, 201);
    // Values in the URL are percent-decoded.
    let encoded = org
        .patch(
            "/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/cus%2F2%20x",
            json!({}),
        )
        .await;
    assert_eq!(encoded.status, 201);
    assert_eq!(
        org.sim.records("Stripe_Customer__c")[2]["Stripe_Customer_ID__c"],
        "cus/2 x"
    );
}

#[tokio::test]
async fn upsert_update_answers_204_in_older_behaviour() {
    let org = Org::start_with(SimConfig {
        upsert_update_status: 204,
        ..SimConfig::default()
    })
    .await;
    let path = "/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/cus_1";
    assert_eq!(org.patch(path, json!({})).await.status, 201);
    let updated = org.patch(path, json!({"Email__c": "c@d.co"})).await;
    assert_eq!((updated.status, updated.text.as_str()), (204, ""));
}

#[tokio::test]
async fn upsert_rejections() {
    let org = Org::start().await;
    let unknown_object = org
        .patch("/sobjects/Nope__c/Stripe_Customer_ID__c/x", json!({}))
        .await;
    assert_eq!(
        (unknown_object.status, unknown_object.error().0.as_str()),
        (404, "NOT_FOUND")
    );
    let not_external = org
        .patch("/sobjects/Stripe_Customer__c/Currency__c/usd", json!({}))
        .await;
    assert_eq!(not_external.status, 400);
    assert_eq!(
        not_external.error(),
        (
            "INVALID_FIELD".to_owned(),
            "Field Currency__c is not an External ID or indexed field for Stripe_Customer__c"
                .to_owned()
        )
    );
    let unknown_field = org
        .patch("/sobjects/Stripe_Customer__c/Nope__c/x", json!({}))
        .await;
    assert_eq!(unknown_field.status, 404);
    let invalid = org
        .patch(
            "/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/cus_1",
            json!({"Sync_Status__c": "Nope"}),
        )
        .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.error().0, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    assert!(org.sim.records("Stripe_Customer__c").is_empty());
}

/// The force-app schema with `Stripe_Webhook_Event__c.Event_Type__c` made a non-unique
/// external id, so that an upsert can match several records.
fn schema_with_shared_external_id() -> Schema {
    let mut schema = sfdc_types::SCHEMA.clone();
    let mut objects = schema.objects.to_vec();
    for object in &mut objects {
        if object.api_name == "Stripe_Webhook_Event__c" {
            let mut fields: Vec<FieldDescribe> = object.fields.to_vec();
            for field in &mut fields {
                if field.api_name == "Event_Type__c" {
                    field.external_id = true;
                    field.unique = false;
                }
            }
            object.fields = fields.into();
        }
    }
    schema.objects = objects.into();
    schema
}

#[tokio::test]
async fn upsert_matching_several_records_answers_300() {
    let sim = Simulator::start_with_schema(SimConfig::default(), schema_with_shared_external_id())
        .await
        .unwrap();
    let org = Org::login(sim).await;
    let first = org.seed(
        "Stripe_Webhook_Event__c",
        json!({"Stripe_Event_ID__c": "evt_1", "Event_Type__c": "invoice.paid"}),
    );
    let second = org.seed(
        "Stripe_Webhook_Event__c",
        json!({"Stripe_Event_ID__c": "evt_2", "Event_Type__c": "invoice.paid"}),
    );
    let answer = org
        .patch(
            "/sobjects/Stripe_Webhook_Event__c/Event_Type__c/invoice.paid",
            json!({"Attempts__c": 2}),
        )
        .await;
    assert_eq!(answer.status, 300, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!([
            format!("/services/data/v62.0/sobjects/Stripe_Webhook_Event__c/{first}"),
            format!("/services/data/v62.0/sobjects/Stripe_Webhook_Event__c/{second}"),
        ])
    );
    assert!(
        org.sim
            .records("Stripe_Webhook_Event__c")
            .iter()
            .all(|r| r.get("Attempts__c").is_none())
    );
}

#[tokio::test]
async fn describe_and_methods() {
    let org = Org::start().await;
    let describe = org.get("/sobjects/Stripe_Subscription__c/describe").await;
    assert_eq!(describe.status, 200);
    let fields = describe.json["fields"].as_array().unwrap();
    let status = fields.iter().find(|f| f["name"] == "Status__c").unwrap();
    assert_eq!(status["type"], "picklist");
    assert_eq!(status["restrictedPicklist"], true);
    let name = fields.iter().find(|f| f["name"] == "Name").unwrap();
    assert_eq!(
        (name["autoNumber"].clone(), name["createable"].clone()),
        (json!(true), json!(false))
    );
    let global = org.get("/sobjects").await;
    assert!(
        global.json["sobjects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "Stripe_Invoice__c")
    );
    let wrong = org
        .send(
            reqwest::Method::PUT,
            "/sobjects/Stripe_Customer__c/",
            Some(&json!({})),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.error().0.as_str()),
        (405, "METHOD_NOT_ALLOWED")
    );
    let no_resource = org.get("/nope").await;
    assert_eq!(
        (no_resource.status, no_resource.error().0.as_str()),
        (404, "NOT_FOUND")
    );
}
