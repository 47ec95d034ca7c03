//! The exact Salesforce records each Stripe event produces.
//!
//! Every fixture under `tests/fixtures/events/` is an event as Stripe sends it (API version
//! 2022-11-15), written from Stripe's API reference. Each event is mapped twice, as the worker
//! does: the event itself (its `Stripe_Webhook_Event__c` audit record), then its `data.object`
//! with every mapping of that object's type and, the event being in the context, the follow-up
//! Task of a payment failure or cancellation. The snapshot shows each record's object, key, REST
//! body (decimals exact, as sent) and warnings; every record also passes the object's describe
//! (`validate`).
//!
//! `price.updated.json` is a tiered price with its `tiers`, as the sync reads it after fetching
//! the price with `expand[]=tiers` (webhooks leave tiers out).

use std::path::{Path, PathBuf};

use serde_json::Value;
use stripe_sfdc_sync::mapping::{self, MappedRecord, MappingContext, ProcessingStatus};
use time::macros::datetime;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events")
}

fn context() -> MappingContext {
    MappingContext {
        received_at: datetime!(2023-06-08 10:00:01 UTC),
        processed_at: Some(datetime!(2023-06-08 10:00:03 UTC)),
        processing_status: ProcessingStatus::Processed,
        attempts: 1,
        error_message: None,
        finance_owner_id: Some(FINANCE_OWNER.to_owned()),
        service_owner_id: Some(SERVICE_OWNER.to_owned()),
        event: None,
    }
}

/// The User finance Tasks are assigned to in these snapshots.
const FINANCE_OWNER: &str = "005000000000001AAA";
/// The User service Tasks are assigned to in these snapshots.
const SERVICE_OWNER: &str = "005000000000002AAA";

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The records of one event: its audit record, then those of its object.
fn records(event: &Value) -> Vec<MappedRecord> {
    let ctx = context();
    let mut records = mapping::map_object(event, &ctx).unwrap();
    let ctx = ctx.with_event(event.clone());
    records.extend(mapping::map_object(&event["data"]["object"], &ctx).unwrap());
    records
}

fn render(records: &[MappedRecord]) -> String {
    serde_json::to_string_pretty(records).unwrap()
}

#[test]
fn every_fixture_maps_to_the_snapshotted_records() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let records = records(&load(&path));
        for record in &records {
            if let Err(violations) = record.validate() {
                panic!(
                    "{name}: {} {:?} does not validate: {violations}",
                    record.sobject(),
                    record.key()
                );
            }
        }
        insta::assert_snapshot!(name.clone(), render(&records));
    }
}

#[test]
fn every_handled_event_type_has_a_fixture() {
    let selection = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/stripe/selection.toml"),
    )
    .unwrap();
    let events = selection
        .split_once("events = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .unwrap();
    let types: Vec<&str> = events
        .lines()
        .map(|line| {
            line.split('#')
                .next()
                .unwrap_or_default()
                .trim()
                .trim_end_matches(',')
        })
        .filter(|line| !line.is_empty())
        .map(|line| line.trim_matches('"'))
        .collect();
    assert!(types.len() > 10, "{types:?}");
    for event_type in types {
        let path = fixtures().join(format!("{event_type}.json"));
        assert!(path.exists(), "no fixture for {event_type}");
        assert_eq!(load(&path)["type"], event_type, "{}", path.display());
    }
}

#[test]
fn jpy_and_bhd_amounts_come_out_right() {
    let jpy = load(&fixtures().join("payment_intent.succeeded.jpy.json"));
    let mapped = mapping::map_payment_intent(&jpy["data"]["object"], &context())
        .unwrap()
        .unwrap();
    // 5000 in a zero-decimal currency is ¥5000, not ¥50.00.
    assert_eq!(
        mapped.record.amount.as_set().map(ToString::to_string),
        Some("5000".into())
    );
    assert_eq!(
        mapped.record.currency.as_set().map(String::as_str),
        Some("JPY")
    );
    assert!(mapped.warnings.is_empty());

    let bhd = load(&fixtures().join("invoice.paid.bhd.json"));
    let mapped = mapping::map_invoice(&bhd["data"]["object"], &context())
        .unwrap()
        .unwrap();
    // 12345 fils is BHD 12.345; the Currency(18,2) field holds BHD 12.35, and the rounding is
    // reported rather than silent.
    assert_eq!(
        mapped.record.amount_due.as_set().map(ToString::to_string),
        Some("12.35".into())
    );
    assert_eq!(
        mapped.record.currency.as_set().map(String::as_str),
        Some("BHD")
    );
    let warnings: Vec<String> = mapped.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings.contains(
            &"mapping `invoice`, field `Amount_Due__c`: 12.345 rounded to 12.35".to_string()
        ),
        "{warnings:?}"
    );
    // The conversion itself is exact.
    assert_eq!(
        mapping::money::minor_to_decimal(12345, "bhd").map(|d| d.to_string()),
        Ok("12.345".into())
    );
    assert_eq!(
        mapping::money::minor_to_decimal(5000, "jpy").map(|d| d.to_string()),
        Ok("5000".into())
    );
}

/// The Task records among `records`, as their REST bodies.
fn tasks(records: &[MappedRecord]) -> Vec<Value> {
    records
        .iter()
        .filter(|record| record.sobject() == "Task")
        .map(|record| serde_json::from_str(&record.record_body().unwrap()).unwrap())
        .collect()
}

#[test]
fn only_payment_failures_and_cancellations_create_a_task() {
    let with_task = [
        "customer.subscription.deleted",
        "invoice.payment_failed",
        "payment_intent.payment_failed",
    ];
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let event = load(&path);
        let expected = usize::from(with_task.contains(&event["type"].as_str().unwrap()));
        assert_eq!(
            tasks(&records(&event)).len(),
            expected,
            "{}",
            path.display()
        );
    }
    // The same invoice under a type the rules do not list: no Task.
    let mut event = load(&fixtures().join("invoice.payment_failed.json"));
    event["type"] = "invoice.finalized".into();
    assert!(tasks(&records(&event)).is_empty());
    // Mapping an object on its own (no event in the context) creates no Task either.
    let object = &load(&fixtures().join("invoice.payment_failed.json"))["data"]["object"];
    let alone = mapping::map_object(object, &context()).unwrap();
    assert!(tasks(&alone).is_empty());
}

#[test]
fn tasks_carry_no_personal_data_and_link_to_the_right_dashboard() {
    for name in [
        "customer.subscription.deleted",
        "invoice.payment_failed",
        "payment_intent.payment_failed",
    ] {
        let mut event = load(&fixtures().join(format!("{name}.json")));
        let task = tasks(&records(&event)).remove(0);
        let text = format!("{}\n{}", task["Subject"], task["Description"]);
        for personal in ["jennyrosen", "Jenny Rosen", "@", "4242", "visa"] {
            assert!(!text.contains(personal), "{name}: `{personal}` in {text}");
        }
        assert!(
            text.contains("https://dashboard.stripe.com/test/"),
            "{text}"
        );
        // A live event links to the live Dashboard.
        event["livemode"] = true.into();
        let live = tasks(&records(&event)).remove(0);
        let description = live["Description"].as_str().unwrap();
        assert!(!description.contains("/test/"), "{description}");
        assert!(description.contains("https://dashboard.stripe.com/"));
    }
}

#[test]
fn without_owners_the_task_has_no_owner() {
    let event = load(&fixtures().join("payment_intent.payment_failed.json"));
    let mut ctx = MappingContext::received(datetime!(2023-06-08 10:00:01 UTC));
    ctx = ctx.with_event(event.clone());
    let records = mapping::map_object(&event["data"]["object"], &ctx).unwrap();
    let task = tasks(&records).remove(0);
    assert!(task.get("OwnerId").is_none(), "{task}");
    assert_eq!(task["Stripe_Event_ID__c"], event["id"]);

    let ctx = ctx.with_task_owners(Some(FINANCE_OWNER.into()), Some(SERVICE_OWNER.into()));
    let records = mapping::map_object(&event["data"]["object"], &ctx).unwrap();
    assert_eq!(tasks(&records)[0]["OwnerId"], FINANCE_OWNER);
}

#[test]
fn every_event_type_a_task_rule_names_is_one_the_sync_handles() {
    // The build checks that the types exist in Stripe's spec; an unhandled type would be
    // acknowledged as ignored and its Task never written.
    let mut filtered = 0;
    for info in &mapping::MAPPINGS {
        for event_type in info.when_type {
            assert!(
                stripe_sfdc_sync::priority::handled(event_type),
                "mapping `{}`: `{event_type}` is not handled (openapi/stripe/selection.toml)",
                info.name
            );
            filtered += 1;
        }
    }
    assert_eq!(filtered, 3);
}
