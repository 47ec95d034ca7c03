//! The record types generated from the repository's force-app: JSON and CSV round trips,
//! validation of every kind of violation, and agreement with codegen's describe.

use std::fs;
use std::path::Path;

use serde_json::json;
use sfdc_types::rust_decimal::Decimal;
use sfdc_types::time::macros::datetime;
use sfdc_types::*;

fn upcoming_subscription() -> StripeSubscriptionWrite {
    StripeSubscriptionWrite {
        stripe_subscription_id: Patch::Set("sub_1MowQVLkdIwHu7ixeRlqHVzs".into()),
        stripe_customer_ref: Some(StripeCustomerRef::StripeCustomerId(
            "cus_NffrFeUfNV2Hib".into(),
        )),
        status: Patch::Set(StripeSubscriptionStatus::Paused),
        sync_status: Patch::Set(StripeSubscriptionSyncStatus::Completed),
        amount: Patch::Set(Decimal::new(123_456_789_012_345_678, 2)),
        currency: Patch::Set("USD".into()),
        quantity: Patch::Set(3),
        billing_interval: Patch::Set(StripeRecurrency::Monthly),
        current_period_start: Patch::Set(datetime!(2026-11-01 00:00:00 UTC)),
        current_period_end: Patch::Set(datetime!(2026-12-01 00:00:00 UTC)),
        cancel_at_period_end: Patch::Set(false),
        canceled_at: Patch::Null,
        ..Default::default()
    }
}

#[test]
fn write_shape_serializes_to_the_rest_body_exactly() {
    let json = serde_json::to_string(&upcoming_subscription()).expect("serializes");
    assert_eq!(
        json,
        concat!(
            r#"{"Amount__c":1234567890123456.78,"#,
            r#""Billing_Interval__c":"Monthly","#,
            r#""Cancel_At_Period_End__c":false,"#,
            r#""Canceled_At__c":null,"#,
            r#""Currency__c":"USD","#,
            r#""Current_Period_End__c":"2026-12-01T00:00:00.000Z","#,
            r#""Current_Period_Start__c":"2026-11-01T00:00:00.000Z","#,
            r#""Quantity__c":3,"#,
            r#""Status__c":"paused","#,
            r#""Stripe_Customer__r":{"Stripe_Customer_ID__c":"cus_NffrFeUfNV2Hib"},"#,
            r#""Stripe_Subscription_ID__c":"sub_1MowQVLkdIwHu7ixeRlqHVzs","#,
            r#""Sync_Status__c":"Completed"}"#
        )
    );
    let back: StripeSubscriptionWrite = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, upcoming_subscription());
}

#[test]
fn read_shape_accepts_what_salesforce_returns() {
    let record = json!({
        "attributes": {
            "type": "Stripe_Subscription__c",
            "url": "/services/data/v62.0/sobjects/Stripe_Subscription__c/a015g00000XyZabAAF"
        },
        "Id": "a015g00000XyZabAAF",
        "Name": "SUB-000042",
        "Status__c": "past_due",
        "Quantity__c": 2.0,
        "Amount__c": 49.9,
        "Cancel_At_Period_End__c": true,
        "Current_Period_End__c": "2026-12-01T00:00:00.000+0000",
        "Trial_End__c": null,
        "SystemModstamp": "2026-11-23T15:51:00.000+0000",
        "Some_Field_Added_Later__c": "ignored"
    });
    let sub: StripeSubscription = serde_json::from_value(record).expect("deserializes");
    assert_eq!(sub.id.as_deref(), Some("a015g00000XyZabAAF"));
    assert_eq!(sub.status, Some(StripeSubscriptionStatus::PastDue));
    assert_eq!(sub.quantity, Some(2));
    assert_eq!(sub.amount, Some(Decimal::new(499, 1)));
    assert_eq!(sub.cancel_at_period_end, Some(true));
    assert_eq!(
        sub.current_period_end,
        Some(datetime!(2026-12-01 00:00:00 UTC))
    );
    assert_eq!(sub.trial_end, None);
}

#[test]
fn open_picklists_keep_values_added_in_stripe_later() {
    let tx: PaymentTransaction =
        serde_json::from_value(json!({"Payment_Method_Type__c": "crypto_wallet_2031"}))
            .expect("deserializes");
    assert_eq!(
        tx.payment_method_type,
        Some(PaymentTransactionPaymentMethodType::Other(
            "crypto_wallet_2031".into()
        ))
    );
    let closed: Result<PaymentTransaction, _> =
        serde_json::from_value(json!({"Status__c": "exploded"}));
    assert!(closed.is_err(), "restricted picklists are closed");
}

#[test]
fn bulk_csv_round_trips_through_the_describe() {
    let invoices = vec![
        StripeInvoiceWrite {
            stripe_invoice_id: Patch::Set("in_1".into()),
            status: Patch::Set(StripeInvoiceStatus::Paid),
            amount_paid: Patch::Set(Decimal::new(1999, 2)),
            line_items: Patch::Set(r#"[{"description":"Pro, monthly","amount":1999}]"#.into()),
            stripe_customer_ref: Some(StripeCustomerRef::StripeCustomerId("cus_1".into())),
            ..Default::default()
        },
        StripeInvoiceWrite {
            stripe_invoice_id: Patch::Set("in_2".into()),
            status: Patch::Set(StripeInvoiceStatus::Open),
            due_date: Patch::Null,
            line_items: Patch::Set("line one\nline \"two\", café".into()),
            ..Default::default()
        },
    ];
    let csv = write_csv(&invoices);
    assert_eq!(
        csv,
        concat!(
            "Amount_Paid__c,Due_Date__c,Line_Items__c,Status__c,Stripe_Customer__r.Stripe_Customer_ID__c,Stripe_Invoice_ID__c\n",
            "19.99,,\"[{\"\"description\"\":\"\"Pro, monthly\"\",\"\"amount\"\":1999}]\",paid,cus_1,in_1\n",
            ",#N/A,\"line one\nline \"\"two\"\", café\",open,,in_2\n",
        )
    );
    let rows = read_csv(STRIPE_INVOICE, &csv).expect("reads back");
    let expected: Vec<Vec<FieldValue>> = invoices.iter().map(Writable::values).collect();
    let sorted = |mut row: Vec<FieldValue>| {
        row.sort_by(|a, b| a.0.cmp(&b.0));
        row
    };
    assert_eq!(
        rows.into_iter().map(sorted).collect::<Vec<_>>(),
        expected.into_iter().map(sorted).collect::<Vec<_>>()
    );
}

fn messages(result: Result<(), Violations>) -> Vec<String> {
    match result {
        Ok(()) => Vec::new(),
        Err(v) => v.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_valid_write_passes() {
    assert_eq!(
        messages(upcoming_subscription().validate(Operation::Upsert)),
        Vec::<String>::new()
    );
}

#[test]
fn typed_writes_report_length_digits_and_required() {
    let invoice = StripeInvoiceWrite {
        currency: Patch::Set("USDX".into()),
        amount_due: Patch::Set(Decimal::new(1, 3)),
        tax_amount: Patch::Set(Decimal::from(10_i64.pow(17))),
        ..Default::default()
    };
    assert_eq!(
        messages(invoice.validate(Operation::Insert)),
        [
            "Stripe_Invoice__c.Amount_Due__c: 0.001 has too many digits: at most 16 before and 2 after the decimal point",
            "Stripe_Invoice__c.Currency__c: 4 characters, at most 3 allowed",
            "Stripe_Invoice__c.Tax_Amount__c: 100000000000000000 has too many digits: at most 16 before and 2 after the decimal point",
            "Stripe_Invoice__c.Stripe_Invoice_ID__c: required field has no value",
        ]
    );
    // An update leaves absent fields alone, so required fields are not checked.
    let update = StripeInvoiceWrite {
        currency: Patch::Set("EUR".into()),
        ..Default::default()
    };
    assert_eq!(
        messages(update.validate(Operation::Update)),
        Vec::<String>::new()
    );
}

#[test]
fn json_writes_report_unknown_read_only_and_picklist_violations() {
    let record = json!({
        "Stripe_Subscription_ID__c": "sub_1",
        "Status__c": "exploded",
        "Name": "SUB-1",
        "Colour__c": "blue",
        "Stripe_Customer__r": {"Email__c": "a@example.com"}
    });
    let record = record.as_object().expect("object");
    assert_eq!(
        messages(SCHEMA.validate_json("Stripe_Subscription__c", record, Operation::Upsert)),
        [
            "Stripe_Subscription__c.Colour__c: unknown field",
            "Stripe_Subscription__c.Name: read-only field, cannot be written",
            "Stripe_Subscription__c.Status__c: \"exploded\" is not a value of the restricted picklist",
            "Stripe_Subscription__c.Stripe_Customer__r.Email__c: bad reference: Stripe_Customer__c.Email__c is not an external id field",
        ]
    );
}

/// The describe exported by codegen as JSON, loaded at run time.
fn schema_from(force_app: &Path) -> Schema {
    let model = codegen::sfdc::load(force_app).expect("force-app loads");
    let json = serde_json::to_value(codegen::sfdc::describe::describe(&model)).expect("json");
    serde_json::from_value(json).expect("the describe has the shape of sfdc_types::Schema")
}

#[test]
fn the_generated_describe_matches_codegen_s_exported_describe() {
    let force_app = Path::new(env!("CARGO_MANIFEST_DIR")).join("../force-app");
    assert_eq!(schema_from(&force_app), SCHEMA);
}

#[test]
fn removing_a_picklist_value_from_the_metadata_makes_validation_reject_it() {
    let record = json!({"Stripe_Subscription_ID__c": "sub_1", "Status__c": "paused"});
    let record = record.as_object().expect("object");
    assert_eq!(
        messages(SCHEMA.validate_json("Stripe_Subscription__c", record, Operation::Upsert)),
        Vec::<String>::new()
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("force-app");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../force-app"),
        &copy,
    );
    let status =
        copy.join("main/default/objects/Stripe_Subscription__c/fields/Status__c.field-meta.xml");
    let text = fs::read_to_string(&status).expect("read");
    let start = text
        .find("<fullName>paused</fullName>")
        .expect("paused is a value");
    let open = text[..start].rfind("<value>").expect("value start");
    let close = start + text[start..].find("</value>").expect("value end") + "</value>".len();
    fs::write(&status, format!("{}{}", &text[..open], &text[close..])).expect("write");

    let schema = schema_from(&copy);
    assert_eq!(
        messages(schema.validate_json("Stripe_Subscription__c", record, Operation::Upsert)),
        ["Stripe_Subscription__c.Status__c: \"paused\" is not a value of the restricted picklist"]
    );
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).expect("copy");
        }
    }
}
