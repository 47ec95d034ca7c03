//! `list_events_paginate` over events rendered at API version 2022-11-15, and its refusal of an
//! event rendered at another version.

use futures_util::StreamExt;
use serde_json::{Value, json};
use stripe_types::client::{Error, RequestOptions};
use stripe_types::params::{ListEventsCreated, ListEventsCreatedRangeQuerySpecs, ListEventsParams};
use stripe_types::{Event, EventObject, EventType};

use super::recorder::{Recorder, Reply};
use super::{assert_stripe_headers, client};

const CUSTOMER_CREATED: &str = include_str!("../fixtures/events/customer.created.json");

fn event_page(events: &[Value], has_more: bool) -> Reply {
    Reply::json(
        200,
        json!({"object": "list", "url": "/v1/events", "has_more": has_more, "data": events})
            .to_string(),
    )
}

#[tokio::test]
async fn list_events_paginate_reads_typed_events_and_refuses_one_of_another_api_version() {
    let first: Value = serde_json::from_str(CUSTOMER_CREATED).unwrap();
    // Same shape, but rendered for an endpoint pinned to an older version.
    let mut second = first.clone();
    second["id"] = json!("evt_1Mt02LkdIwHu7ixOldVersion");
    second["api_version"] = json!("2020-08-27");
    second["data"]["object"]["id"] = json!("cus_NffsOldVersion");
    let server = Recorder::start(vec![
        event_page(std::slice::from_ref(&first), true),
        event_page(std::slice::from_ref(&second), false),
    ])
    .await;

    let params = ListEventsParams {
        r#type: Some("customer.created".to_owned()),
        created: Some(ListEventsCreated::RangeQuerySpecs(
            ListEventsCreatedRangeQuerySpecs {
                gte: Some(1680893990),
                ..Default::default()
            },
        )),
        limit: Some(1),
        ..Default::default()
    };
    let mut results: Vec<Result<Event, Error>> = client(&server)
        .list_events_paginate(params, RequestOptions::new())
        .collect()
        .await;

    let queries: Vec<_> = server
        .requests()
        .iter()
        .map(|request| {
            assert_eq!(
                (request.method.as_str(), request.path.as_str()),
                ("GET", "/v1/events")
            );
            assert_stripe_headers(request);
            request.query.clone().unwrap()
        })
        .collect();
    assert_eq!(
        queries,
        [
            "created[gte]=1680893990&limit=1&type=customer.created",
            "created[gte]=1680893990&limit=1&type=customer.created\
             &starting_after=evt_1Mt01LkdIwHu7ixZqsYQ6qP",
        ]
    );

    assert_eq!(results.len(), 2, "{results:?}");
    // The event of the second page was rendered for an endpoint pinned to another version: the
    // typed list refuses it by name, instead of parsing it because its shape happens to fit.
    let Err(Error::Decode { path, detail }) = results.pop().expect("second item") else {
        panic!("the older event is refused");
    };
    assert_eq!(path, "/v1/events");
    let refusal = "event evt_1Mt02LkdIwHu7ixOldVersion was rendered with Stripe API version \
                   2020-08-27, but stripe-types is generated for API version 2022-11-15: set \
                   the webhook endpoint's api_version to 2022-11-15";
    assert!(detail.contains(refusal), "{detail}");
    let from_json = Event::from_json(second.to_string().as_bytes()).unwrap_err();
    assert_eq!(from_json.to_string(), refusal);

    let event = results.pop().expect("first item").expect("pinned version");
    assert_eq!(event.id, "evt_1Mt01LkdIwHu7ixZqsYQ6qP");
    assert_eq!(event.r#type, EventType::CustomerCreated);
    assert_eq!(event.r#type.as_str(), "customer.created");
    assert_eq!(event.api_version.as_deref(), Some("2022-11-15"));
    assert_eq!(event.pending_webhooks, 1);
    assert_eq!(
        event.request.as_ref().and_then(|r| r.id.as_deref()),
        Some("req_pA8pVbUtYkTuhe")
    );
    event.check_api_version().expect("pinned version");
    let EventObject::Customer(customer) = &event.data.object else {
        panic!("data.object is not a customer: {:?}", event.data.object);
    };
    assert_eq!(customer.id, "cus_NffrFeUfNV2Hib");
    assert_eq!(customer.email.as_deref(), Some("jennyrosen@example.com"));
    assert_eq!(customer.name.as_deref(), Some("Jenny Rosen"));
    assert!(event.data.previous_attributes.is_none());
}
