//! Every kind of record Salesforce rejects, with its exact status, errorCode and message,
//! so the simulator cannot drift into accepting what a real org refuses.

use serde_json::json;

use crate::common::Org;

/// POSTs `body` to create a `object` and returns (status, errorCode, message, fields).
async fn create(
    org: &Org,
    object: &str,
    body: serde_json::Value,
) -> (u16, String, String, Vec<String>) {
    let answer = org.post(&format!("/sobjects/{object}/"), body).await;
    let (code, message) = answer.error();
    (answer.status, code, message, answer.error_fields())
}

#[tokio::test]
async fn unknown_field() {
    let org = Org::start().await;
    let (status, code, message, _) =
        create(&org, "Stripe_Subscription__c", json!({"Colour__c": "red"})).await;
    assert_eq!((status, code.as_str()), (400, "INVALID_FIELD"));
    assert_eq!(
        message,
        "No such column 'Colour__c' on sobject of type Stripe_Subscription__c"
    );
}

#[tokio::test]
async fn unknown_relationship() {
    let org = Org::start().await;
    let (status, code, message, _) = create(
        &org,
        "Stripe_Invoice__c",
        json!({"Stripe_Invoice_ID__c": "in_1", "Nope__r": {"Stripe_Customer_ID__c": "cus_1"}}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "INVALID_FIELD"));
    assert_eq!(
        message,
        "No such column 'Nope__r' on sobject of type Stripe_Invoice__c"
    );
}

#[tokio::test]
async fn read_only_fields() {
    let org = Org::start().await;
    let (status, code, message, fields) = create(
        &org,
        "Stripe_Invoice__c",
        json!({"Stripe_Invoice_ID__c": "in_1", "Name": "INV-9", "CreatedDate": "2026-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (400, "INVALID_FIELD_FOR_INSERT_UPDATE")
    );
    assert_eq!(
        message,
        "Unable to create/update fields: CreatedDate, Name. Please check the security settings of this field and verify that it is read/write for your profile or permission set."
    );
    assert_eq!(fields, ["CreatedDate", "Name"]);
    let (status, code, message, _) = create(
        &org,
        "Stripe_Customer__c",
        json!({"Id": "a0000000000001AAA", "Stripe_Customer_ID__c": "cus_1"}),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (400, "INVALID_FIELD_FOR_INSERT_UPDATE")
    );
    assert_eq!(message, "cannot specify Id in an insert call");
}

#[tokio::test]
async fn restricted_picklist() {
    let org = Org::start().await;
    let (status, code, message, fields) = create(
        &org,
        "Stripe_Subscription__c",
        json!({"Status__c": "exploded"}),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    );
    assert_eq!(
        message,
        "Status: bad value for restricted picklist field: exploded"
    );
    assert_eq!(fields, ["Status__c"]);
    // Picklist values match exactly, case included.
    let (status, ..) = create(
        &org,
        "Stripe_Subscription__c",
        json!({"Status__c": "Active"}),
    )
    .await;
    assert_eq!(status, 400);
    // Open picklists take any value.
    let answer = org
        .post(
            "/sobjects/Stripe_Customer__c/",
            json!({"Stripe_Customer_ID__c": "cus_1", "Default_Payment_Method_Type__c": "carrier_pigeon"}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
}

#[tokio::test]
async fn too_long() {
    let org = Org::start().await;
    let (status, code, message, fields) = create(
        &org,
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_1", "Currency__c": "USDX"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "STRING_TOO_LONG"));
    assert_eq!(
        message,
        "Currency: data value too large: USDX (max length=3)"
    );
    assert_eq!(fields, ["Currency__c"]);
}

#[tokio::test]
async fn required_missing_on_create_and_on_clearing() {
    let org = Org::start().await;
    let (status, code, message, fields) =
        create(&org, "Stripe_Invoice__c", json!({"Currency__c": "usd"})).await;
    assert_eq!((status, code.as_str()), (400, "REQUIRED_FIELD_MISSING"));
    assert_eq!(
        message,
        "Required fields are missing: [Stripe_Invoice_ID__c]"
    );
    assert_eq!(fields, ["Stripe_Invoice_ID__c"]);
    // Empty text is null, so it does not fill a required field.
    let (status, code, ..) = create(
        &org,
        "Stripe_Invoice__c",
        json!({"Stripe_Invoice_ID__c": ""}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "REQUIRED_FIELD_MISSING"));
    let id = org.seed("Stripe_Invoice__c", json!({"Stripe_Invoice_ID__c": "in_1"}));
    let answer = org
        .patch(
            &format!("/sobjects/Stripe_Invoice__c/{id}"),
            json!({"Stripe_Invoice_ID__c": null}),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.error().0, "REQUIRED_FIELD_MISSING");
}

#[tokio::test]
async fn duplicate_external_id() {
    let org = Org::start().await;
    let first = org.customer("cus_1");
    let (status, code, message, _) = create(
        &org,
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_1"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "DUPLICATE_VALUE"));
    assert_eq!(
        message,
        format!(
            "duplicate value found: Stripe_Customer_ID__c duplicates value on record with id: {first}"
        )
    );
    // The field is unique case-sensitively: another case is another value.
    let (status, ..) = create(
        &org,
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "CUS_1"}),
    )
    .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn parent_reference_not_found() {
    let org = Org::start().await;
    let (status, code, message, _) = create(
        &org,
        "Stripe_Invoice__c",
        json!({"Stripe_Invoice_ID__c": "in_1", "Stripe_Customer__r": {"Stripe_Customer_ID__c": "cus_x"}}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "INVALID_FIELD"));
    assert_eq!(
        message,
        "Foreign key external ID: cus_x not found for field Stripe_Customer_ID__c in entity Stripe_Customer__c"
    );
}

#[tokio::test]
async fn numbers_round_the_fraction_and_reject_the_integer_part() {
    let org = Org::start().await;
    let answer = org
        .post(
            "/sobjects/Stripe_Customer__c/",
            json!({"Stripe_Customer_ID__c": "cus_1", "Balance__c": 12.345}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let stored = org.sim.records("Stripe_Customer__c");
    assert_eq!(stored[0]["Balance__c"], json!(12.35));
    let (status, code, message, fields) = create(
        &org,
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_2", "Balance__c": 12_345_678_901_234_567.5}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "NUMBER_OUTSIDE_VALID_RANGE"));
    assert!(
        message.starts_with("Balance: value outside of valid range on numeric field: "),
        "{message}"
    );
    assert_eq!(fields, ["Balance__c"]);
}

#[tokio::test]
async fn invalid_email() {
    let org = Org::start().await;
    let (status, code, message, fields) = create(
        &org,
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_1", "Email__c": "not an email"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "INVALID_EMAIL_ADDRESS"));
    assert_eq!(message, "Email: invalid email address: not an email");
    assert_eq!(fields, ["Email__c"]);
}

#[tokio::test]
async fn bad_lookup_ids() {
    let org = Org::start().await;
    let (status, code, message, _) = create(
        &org,
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_1", "Contact__c": "not-an-id"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "MALFORMED_ID"));
    assert_eq!(message, "Contact: id value of incorrect type: not-an-id");
    let customer = org.customer("cus_2");
    let (status, code, message, _) = create(
        &org,
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_3", "Contact__c": customer}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "FIELD_INTEGRITY_EXCEPTION"));
    assert_eq!(
        message,
        format!("Contact: id value of incorrect type: {customer}")
    );
    let missing = sfdc_sim::ids::make("003", 999);
    let (status, code, ..) = create(
        &org,
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_4", "Contact__c": missing}),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (400, "INVALID_CROSS_REFERENCE_KEY")
    );
}

#[tokio::test]
async fn unparseable_values_and_bodies() {
    let org = Org::start().await;
    let (status, code, message, _) = create(
        &org,
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_1", "Balance__c": "lots"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "JSON_PARSER_ERROR"));
    assert!(
        message.starts_with("Cannot deserialize instance of currency from VALUE_STRING value lots"),
        "{message}"
    );
    let (status, code, ..) = create(
        &org,
        "Stripe_Customer__c",
        json!({"Stripe_Customer_ID__c": "cus_1", "Last_Synced_At__c": "yesterday"}),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "JSON_PARSER_ERROR"));
    let response = org
        .http
        .post(format!("{}/sobjects/Stripe_Customer__c/", org.base))
        .bearer_auth(&org.token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let answer = crate::common::answer(response).await;
    assert_eq!(
        (answer.status, answer.error().0.as_str()),
        (400, "JSON_PARSER_ERROR")
    );
}

#[tokio::test]
async fn unknown_object_is_not_found() {
    let org = Org::start().await;
    let answer = org.post("/sobjects/Nope__c/", json!({"Name": "x"})).await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.error(),
        (
            "NOT_FOUND".to_owned(),
            "The requested resource does not exist".to_owned()
        )
    );
}

#[tokio::test]
async fn lenient_where_salesforce_is() {
    let org = Org::start().await;
    let answer = org
        .post(
            "/sobjects/Stripe_Customer__c/",
            json!({"stripe_customer_id__c": "cus_1", "Phone__c": "", "Balance__c": "10.005", "Delinquent__c": null}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let stored = &org.sim.records("Stripe_Customer__c")[0];
    assert_eq!(stored["Stripe_Customer_ID__c"], "cus_1");
    assert!(
        stored.get("Phone__c").is_none(),
        "empty text is stored as null"
    );
    assert_eq!(stored["Balance__c"], json!(10.01));
    assert_eq!(stored["Delinquent__c"], json!(false));
}

#[tokio::test]
async fn seeding_checks_like_the_api() {
    let org = Org::start().await;
    let error = org
        .sim
        .insert_record(
            "Stripe_Invoice__c",
            crate::common::record(json!({"Status__c": "nope"})),
        )
        .unwrap_err();
    let sfdc_sim::SimError::Rejected { errors, .. } = &error else {
        panic!("rejected expected: {error}")
    };
    let codes: Vec<&str> = errors.iter().map(|e| e.error_code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "REQUIRED_FIELD_MISSING",
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        ]
    );
    assert!(matches!(
        org.sim.insert_record("Nope__c", serde_json::Map::new()),
        Err(sfdc_sim::SimError::UnknownObject { .. })
    ));
    assert_eq!(org.sim.api_calls(), 0);
}
