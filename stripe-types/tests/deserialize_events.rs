//! Webhook events, one per event type the sync handles (`tests/fixtures/events/`), written from
//! Stripe's API reference for API version 2022-11-15; and the API version check.

use std::path::PathBuf;

use serde_json::{Value, json};
use stripe_types::client::Identified;
use stripe_types::{API_VERSION, Event, EventError, EventObject, EventType, SubscriptionStatus};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events")
}

fn payload(event_type: &str) -> Value {
    let path = events_dir().join(format!("{event_type}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn parse(value: &Value) -> Result<Event, EventError> {
    Event::from_json(&serde_json::to_vec(value).unwrap())
}

/// The event types listed under `events` in `openapi/stripe/selection.toml`.
fn handled_event_types() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/stripe/selection.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("\nevents = [").expect("an events list");
    let list = &text[start..text[start..].find(']').map(|end| start + end).unwrap()];
    list.lines()
        .filter_map(|line| line.trim().strip_prefix('"'))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The resource an event type carries, by its prefix.
fn expected_object(event_type: &str) -> &'static str {
    let prefixes = [
        ("customer.subscription.", "subscription"),
        ("customer.", "customer"),
        ("checkout.session.", "checkout.session"),
        ("invoice.", "invoice"),
        ("payment_intent.", "payment_intent"),
        ("price.", "price"),
        ("product.", "product"),
    ];
    prefixes
        .iter()
        .find(|(prefix, _)| event_type.starts_with(prefix))
        .map(|(_, object)| *object)
        .unwrap_or_else(|| panic!("no expectation for {event_type}"))
}

fn object_kind(object: &EventObject) -> &'static str {
    match object {
        EventObject::Customer(_) => "customer",
        EventObject::Subscription(_) => "subscription",
        EventObject::CheckoutSession(_) => "checkout.session",
        EventObject::Invoice(_) => "invoice",
        EventObject::PaymentIntent(_) => "payment_intent",
        EventObject::Price(_) => "price",
        EventObject::Product(_) => "product",
        EventObject::Unknown(_) => "unknown",
        _ => "other",
    }
}

#[test]
fn every_handled_event_type_has_a_fixture_that_reads() {
    let handled = handled_event_types();
    assert!(handled.len() >= 15, "{handled:?}");
    for event_type in &handled {
        let event = parse(&payload(event_type)).unwrap_or_else(|e| panic!("{event_type}: {e}"));
        assert_eq!(event.r#type.as_str(), event_type);
        assert!(
            !matches!(event.r#type, EventType::Unknown(_)),
            "{event_type}"
        );
        assert_eq!(
            object_kind(&event.data.object),
            expected_object(event_type),
            "{event_type}"
        );
        assert_eq!(event.api_version.as_deref(), Some(API_VERSION));
        assert!(event.check_api_version().is_ok());
    }
}

#[test]
fn previous_attributes_are_kept_with_their_nulls() {
    let event = parse(&payload("customer.updated")).unwrap();
    let previous = event.data.previous_attributes.as_ref().unwrap();
    assert_eq!(previous["metadata"], json!({"plan": "silver"}));
    // The phone was null before: present and null, not absent.
    assert_eq!(previous.get("phone"), Some(&Value::Null));
    assert!(!previous.contains_key("email"));

    let event = parse(&payload("customer.subscription.updated")).unwrap();
    assert_eq!(event.r#type, EventType::CustomerSubscriptionUpdated);
    assert_eq!(
        event.data.previous_attributes.as_ref().unwrap()["status"],
        "active"
    );
    let EventObject::Subscription(subscription) = &event.data.object else {
        panic!("not a subscription");
    };
    assert_eq!(subscription.status, SubscriptionStatus::PastDue);

    let created = parse(&payload("customer.created")).unwrap();
    assert!(created.data.previous_attributes.is_none());
}

#[test]
fn event_envelope_fields() {
    let event = parse(&payload("customer.created")).unwrap();
    assert!(event.id.starts_with("evt_"));
    assert_eq!(event.id(), event.id);
    assert!(!event.livemode);
    assert_eq!(event.pending_webhooks, 1);
    let request = event.request.as_ref().unwrap();
    assert_eq!(request.id.as_deref(), Some("req_pA8pVbUtYkTuhe"));
    let EventObject::Customer(customer) = &event.data.object else {
        panic!("not a customer");
    };
    assert_eq!(customer.id, "cus_NffrFeUfNV2Hib");
}

#[test]
fn paused_subscription_event_reads() {
    let event = parse(&payload("customer.subscription.paused")).unwrap();
    let EventObject::Subscription(subscription) = &event.data.object else {
        panic!("not a subscription");
    };
    assert_eq!(subscription.status, SubscriptionStatus::Paused);
}

#[test]
fn an_event_rendered_at_another_api_version_is_rejected_as_such() {
    // A 2020-era payload: no `automatic_tax` yet. The version check reports it before the
    // missing field would.
    let mut old = payload("customer.subscription.updated");
    old["api_version"] = json!("2020-08-27");
    old["data"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("automatic_tax");
    let error = parse(&old).unwrap_err();
    assert!(matches!(
        &error,
        EventError::ApiVersionMismatch { found: Some(found), expected, .. }
            if found == "2020-08-27" && *expected == API_VERSION
    ));
    let message = error.to_string();
    assert!(message.contains("2020-08-27"), "{message}");
    assert!(message.contains("2022-11-15"), "{message}");
    assert!(message.contains(old["id"].as_str().unwrap()), "{message}");

    let mut none = payload("invoice.paid");
    none["api_version"] = Value::Null;
    let error = parse(&none).unwrap_err();
    assert!(error.to_string().contains("(none)"), "{error}");
}

#[test]
fn an_event_at_the_pinned_version_that_does_not_fit_names_the_field() {
    let mut value = payload("customer.subscription.created");
    value["data"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("current_period_end");
    let error = parse(&value).unwrap_err();
    assert!(matches!(error, EventError::Invalid { .. }));
    let message = error.to_string();
    assert!(message.contains("current_period_end"), "{message}");
    assert!(message.contains("`subscription` object"), "{message}");
}

#[test]
fn unknown_event_types_and_object_types_are_kept() {
    let mut value = payload("customer.created");
    value["type"] = json!("customer.teleported");
    value["data"]["object"] = json!({"id": "qw_123", "object": "quantum_widget", "spin": 0.5});
    value["brand_new_envelope_field"] = json!({"x": 1});
    let event = parse(&value).unwrap();
    assert_eq!(
        event.r#type,
        EventType::Unknown("customer.teleported".to_owned())
    );
    let EventObject::Unknown(object) = &event.data.object else {
        panic!("expected an unknown object");
    };
    assert_eq!(object["spin"], 0.5);
    assert_eq!(event.data.object.id(), "qw_123");
}

#[test]
fn not_an_event() {
    assert!(matches!(
        Event::from_json(b"{\"object\": \"customer\"}"),
        Err(EventError::NotAnEvent(_))
    ));
    assert!(matches!(
        Event::from_json(b"<html>"),
        Err(EventError::NotAnEvent(_))
    ));
}

#[test]
fn event_type_values() {
    assert_eq!(EventType::from("invoice.paid"), EventType::InvoicePaid);
    assert_eq!(
        EventType::CheckoutSessionCompleted.to_string(),
        "checkout.session.completed"
    );
    assert_eq!(
        serde_json::to_value(EventType::CustomerSubscriptionPaused).unwrap(),
        json!("customer.subscription.paused")
    );
}
