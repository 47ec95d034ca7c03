//! The repository's force-app: what it must carry, its generated code and its admin table.

use std::fs;
use std::path::{Path, PathBuf};

use codegen::sfdc::{EmitOptions, FieldType, Model, ObjectKind, generate, load, render_table};

fn force_app() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../force-app")
}

fn model() -> Model {
    load(&force_app()).expect("the repository's force-app loads")
}

fn picklist(model: &Model, object: &str, field: &str) -> (bool, Vec<String>) {
    let p = model
        .object(object)
        .and_then(|o| o.field(field))
        .and_then(|f| f.picklist.clone())
        .unwrap_or_else(|| panic!("{object}.{field} is a picklist"));
    (
        p.restricted,
        p.values.into_iter().map(|v| v.api_name).collect(),
    )
}

#[test]
fn every_object_of_the_data_model_is_there() {
    let model = model();
    for name in [
        "Stripe_Customer__c",
        "Stripe_Subscription__c",
        "Stripe_Invoice__c",
        "Payment_Transaction__c",
        "Pricing_Plan__c",
        "Pricing_Tier__c",
        "Stripe_Webhook_Event__c",
        "Stripe_Price__mdt",
        "Contact",
    ] {
        assert!(model.object(name).is_some(), "{name} is missing");
    }
    assert_eq!(
        model.object("Stripe_Price__mdt").map(|o| o.kind),
        Some(ObjectKind::CustomMetadataType)
    );
    let records: Vec<&str> = model
        .custom_metadata
        .iter()
        .map(|r| r.developer_name.as_str())
        .collect();
    assert_eq!(
        records,
        [
            "Basic_Monthly",
            "Basic_Yearly",
            "Business_Monthly",
            "Business_Yearly",
            "Enterprise_Monthly",
            "Enterprise_Yearly"
        ]
    );
}

#[test]
fn statuses_carry_every_stripe_value() {
    let model = model();
    let (restricted, values) = picklist(&model, "Stripe_Subscription__c", "Status__c");
    assert!(restricted);
    for v in [
        "draft",
        "incomplete",
        "incomplete_expired",
        "trialing",
        "active",
        "past_due",
        "canceled",
        "unpaid",
        "paused",
    ] {
        assert!(values.iter().any(|x| x == v), "subscription status {v}");
    }
    let (restricted, values) = picklist(&model, "Payment_Transaction__c", "Status__c");
    assert!(restricted);
    for v in [
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "processing",
        "requires_capture",
        "canceled",
        "succeeded",
        "failed",
    ] {
        assert!(values.iter().any(|x| x == v), "transaction status {v}");
    }
    let (restricted, _) = picklist(&model, "Payment_Transaction__c", "Payment_Method_Type__c");
    assert!(
        !restricted,
        "new Stripe payment method types must not be rejected"
    );
    let (_, values) = picklist(&model, "Stripe_Subscription__c", "Sync_Status__c");
    assert_eq!(
        values,
        [
            "Draft",
            "Send to Stripe",
            "Pending",
            "Checkout Created",
            "Completed",
            "Failed"
        ]
    );
}

#[test]
fn payments_without_invoices_fit_and_urls_are_long() {
    let model = model();
    let tx = model.object("Payment_Transaction__c").expect("object");
    let invoice = tx.field("Stripe_Invoice__c").expect("field");
    assert_eq!(invoice.field_type, FieldType::Lookup);
    assert!(!invoice.required);
    let url = model
        .object("Stripe_Subscription__c")
        .and_then(|o| o.field("Checkout_URL__c"))
        .expect("field");
    assert!(url.length.unwrap_or(0) > 255, "checkout URLs exceed 255");
    let tier = model.object("Pricing_Tier__c").expect("object");
    assert_eq!(
        tier.field("Pricing_Plan__c").map(|f| f.field_type),
        Some(FieldType::MasterDetail)
    );
}

#[test]
fn external_ids_are_unique() {
    let model = model();
    for (object, field) in [
        ("Stripe_Customer__c", "Stripe_Customer_ID__c"),
        ("Stripe_Subscription__c", "Stripe_Subscription_ID__c"),
        ("Stripe_Subscription__c", "Stripe_Checkout_Session_ID__c"),
        ("Stripe_Invoice__c", "Stripe_Invoice_ID__c"),
        ("Payment_Transaction__c", "Stripe_Payment_Intent_ID__c"),
        ("Pricing_Plan__c", "Stripe_Price_ID__c"),
        ("Pricing_Tier__c", "Tier_Key__c"),
        ("Stripe_Webhook_Event__c", "Stripe_Event_ID__c"),
        ("Contact", "Stripe_Customer_ID__c"),
    ] {
        let f = model
            .object(object)
            .and_then(|o| o.field(field))
            .unwrap_or_else(|| panic!("{object}.{field}"));
        assert!(f.external_id && f.unique, "{object}.{field}");
    }
}

#[test]
fn the_integration_user_can_write_every_writable_custom_field() {
    let model = model();
    let set = model
        .permission_set("Stripe_Integration_User")
        .expect("permission set");
    for object in model
        .objects
        .iter()
        .filter(|o| o.kind == ObjectKind::Custom)
    {
        for field in object.fields.iter().filter(|f| f.writable) {
            assert!(
                set.can_edit(&model, &object.api_name, &field.api_name),
                "{}.{} is not editable by Stripe_Integration_User",
                object.api_name,
                field.api_name
            );
        }
    }
    for field in ["Stripe_Customer_ID__c", "Subscription_Status__c", "MRR__c"] {
        assert!(set.can_edit(&model, "Contact", field), "Contact.{field}");
    }
}

#[test]
fn generated_code_snapshot() {
    let code = generate(&model(), &EmitOptions::default()).expect("generates");
    assert!(
        code.starts_with("// @generated by codegen from the Salesforce metadata in `force-app`.")
    );
    insta::assert_snapshot!("sfdc_types", code);
}

#[test]
fn admin_table_snapshot() {
    insta::assert_snapshot!("model_table", render_table(&model()));
}

/// Copies the repository's force-app into a temp folder.
fn copy_force_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&force_app(), &dir.path().join("force-app"));
    dir
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

#[test]
fn a_field_added_by_an_admin_appears_in_the_regenerated_model_and_code() {
    let dir = copy_force_app();
    let root = dir.path().join("force-app");
    let before = load(&root).expect("loads");
    assert!(
        before
            .object("Stripe_Customer__c")
            .and_then(|o| o.field("Region__c"))
            .is_none()
    );
    fs::write(
        root.join("main/default/objects/Stripe_Customer__c/fields/Region__c.field-meta.xml"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>Region__c</fullName>
    <label>Region</label>
    <type>Picklist</type>
    <valueSet>
        <restricted>true</restricted>
        <valueSetDefinition>
            <sorted>false</sorted>
            <value><fullName>EMEA</fullName><default>false</default><label>EMEA</label></value>
            <value><fullName>AMER</fullName><default>false</default><label>Americas</label></value>
        </valueSetDefinition>
    </valueSet>
</CustomField>
"#,
    )
    .expect("write field");
    let after = load(&root).expect("loads");
    let field = after
        .object("Stripe_Customer__c")
        .and_then(|o| o.field("Region__c"))
        .expect("new field in the model");
    assert_eq!(field.field_type, FieldType::Picklist);
    let code = generate(&after, &EmitOptions::default()).expect("generates");
    assert!(
        code.contains("pub enum StripeCustomerRegion {"),
        "enum generated"
    );
    assert!(
        code.contains("pub region: Option<StripeCustomerRegion>,"),
        "read field generated"
    );
    assert!(
        code.contains("pub region: crate::Patch<StripeCustomerRegion>,"),
        "write field generated"
    );
}
