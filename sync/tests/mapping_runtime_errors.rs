//! What the generated mappings refuse at run time, each error naming the mapping, the field and
//! the value: Stripe can send what the spec did not promise (a new enum value, an amount over
//! the limits, a string longer than the field).

use serde_json::{Value, json};
use stripe_sfdc_sync::mapping::{self, MappingContext, MappingErrorKind};
use time::macros::datetime;

fn ctx() -> MappingContext {
    MappingContext::received(datetime!(2023-06-08 10:00:01 UTC))
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["data"]["object"].clone()
}

fn with(mut object: Value, pointer: &str, value: Value) -> Value {
    *object.pointer_mut(pointer).unwrap() = value;
    object
}

#[test]
fn an_amount_over_the_limit() {
    let pi = with(
        fixture("payment_intent.succeeded"),
        "/amount",
        json!(1_000_000_000_000_i64),
    );
    let error = mapping::map_payment_intent(&pi, &ctx()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "mapping `payment_intent`, field `Amount__c`: 1000000000000 is over the limit of 999999999999 (see [limits] and `max` in sync/mappings.toml)"
    );
}

#[test]
fn a_bad_currency() {
    let pi = with(
        fixture("payment_intent.succeeded"),
        "/currency",
        json!("dollars"),
    );
    let error = mapping::map_payment_intent(&pi, &ctx()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "mapping `payment_intent`, field `Amount__c`: currency \"dollars\" is not a three-letter ISO code"
    );
}

#[test]
fn text_too_long_without_truncate() {
    let email = format!("{}@example.com", "j".repeat(90));
    let customer = with(fixture("customer.created"), "/email", json!(email));
    let error = mapping::map_customer(&customer, &ctx()).unwrap_err();
    assert_eq!((error.mapping, error.field), ("customer", "Email__c"));
    assert!(
        error.to_string().starts_with(
            "mapping `customer`, field `Email__c`: text of 102 characters does not fit the field's 80 (the mapping does not allow `truncate`): \"jjjj"
        ),
        "{error}"
    );
}

#[test]
fn text_cut_where_allowed_is_reported() {
    let name = "Ö".repeat(300);
    let customer = with(fixture("customer.created"), "/name", json!(name));
    let mapped = mapping::map_customer(&customer, &ctx()).unwrap().unwrap();
    assert_eq!(
        mapped
            .record
            .customer_name
            .as_set()
            .map(|n| n.chars().count()),
        Some(255)
    );
    let warnings: Vec<String> = mapped.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "mapping `customer`, field `Name`: text of 300 characters cut to 80",
            "mapping `customer`, field `Customer_Name__c`: text of 300 characters cut to 255",
        ]
    );
}

#[test]
fn a_value_the_restricted_picklist_does_not_have() {
    // A status Stripe might add: the spec said it could not happen, so it is refused loudly.
    let subscription = with(
        fixture("customer.subscription.created"),
        "/status",
        json!("frozen"),
    );
    let error = mapping::map_subscription(&subscription, &ctx()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "mapping `subscription`, field `Status__c`: \"frozen\" is not one of the picklist values draft, incomplete, incomplete_expired, trialing, active, past_due, canceled, unpaid, paused"
    );
    let interval = with(
        fixture("customer.subscription.created"),
        "/items/data/0/price/recurring/interval",
        json!("fortnight"),
    );
    let error = mapping::map_subscription(&interval, &ctx()).unwrap_err();
    assert_eq!(error.kind, MappingErrorKind::NotInTable("fortnight".into()));
    assert_eq!(error.field, "Billing_Interval__c");
}

#[test]
fn a_fallback_takes_unknown_values() {
    let invoice = with(
        fixture("invoice.paid"),
        "/billing_reason",
        json!("quote_accept"),
    );
    let mapped = mapping::map_invoice_payment(&invoice, &ctx())
        .unwrap()
        .unwrap();
    assert_eq!(
        mapped
            .record
            .transaction_type
            .as_set()
            .map(ToString::to_string),
        Some("one_time".into())
    );
}

#[test]
fn a_wrong_json_type() {
    let customer = with(fixture("customer.updated"), "/balance", json!("12"));
    let error = mapping::map_customer(&customer, &ctx()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "mapping `customer`, field `Balance__c`: `balance` is the string \"12\", expected an integer"
    );
}

#[test]
fn keys_are_never_empty() {
    let customer = with(fixture("customer.created"), "/id", json!(""));
    let error = mapping::map_customer(&customer, &ctx()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "mapping `customer`, field `Stripe_Customer_ID__c`: the key is empty: refusing to write a record under an empty id"
    );
    // A contact id that is not a Salesforce Id is refused, not written as `"None"`.
    let customer = with(
        fixture("customer.created"),
        "/metadata/salesforce_contact_id",
        json!("None"),
    );
    let error = mapping::map_customer_contact(&customer, &ctx()).unwrap_err();
    assert_eq!(error.kind, MappingErrorKind::BadRecordId("None".into()));
}

#[test]
fn records_are_skipped_where_the_mapping_says_so() {
    // A customer not created from a Contact: no Contact to update.
    assert_eq!(
        mapping::map_customer_contact(&fixture("customer.deleted"), &ctx()),
        Ok(None)
    );
    // A one-time payment's checkout session is not a subscription.
    let payment = with(
        fixture("checkout.session.completed"),
        "/mode",
        json!("payment"),
    );
    assert_eq!(mapping::map_checkout_session(&payment, &ctx()), Ok(None));
    // An invoice without a PaymentIntent has no payment record.
    let draft = with(fixture("invoice.finalized"), "/payment_intent", Value::Null);
    assert_eq!(mapping::map_invoice_payment(&draft, &ctx()), Ok(None));
    // A product without a default price.
    assert_eq!(
        mapping::map_product(&fixture("product.created"), &ctx()),
        Ok(None)
    );
    // A price fetched without its tiers has none to write.
    let untiered = with(fixture("price.updated"), "/tiers", Value::Null);
    assert_eq!(mapping::map_price_tiers(&untiered, &ctx()), Ok(Vec::new()));
}

#[test]
fn the_dispatcher_and_the_mapping_table() {
    let names: Vec<&str> = mapping::MAPPINGS.iter().map(|m| m.name).collect();
    assert_eq!(
        names,
        [
            "customer",
            "customer_contact",
            "subscription_link",
            "subscription",
            "checkout_session",
            "invoice",
            "invoice_payment",
            "payment_intent",
            "price",
            "price_tiers",
            "product",
            "event",
            "invoice_payment_failed_task",
            "payment_intent_failed_task",
            "subscription_canceled_task"
        ]
    );
    let unknown = json!({"object": "refund", "id": "re_1"});
    assert_eq!(
        mapping::map_object(&unknown, &ctx()).map(|r| r.len()),
        Ok(0)
    );
    let untyped = json!({"id": "x"});
    assert_eq!(
        mapping::map_object(&untyped, &ctx()).unwrap_err().kind,
        MappingErrorKind::NoObjectType
    );
}
