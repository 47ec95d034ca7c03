//! Typed methods against localstripe, a fake but stateful Stripe server.
//!
//! The server's URL comes from `LOCALSTRIPE_URL`; when that is unset the tests run
//! `tests/peers/localstripe.sh`, which installs localstripe from PyPI if needed and starts it on
//! 127.0.0.1 (it exits by itself after this test process). If localstripe cannot be had, every
//! test here fails and says why: none is skipped.
//!
//! localstripe renders objects in the shape of API version 2017-08-15: customers fit the generated
//! `Customer` (its fields are optional but for `id`, `object`, `created` and `livemode`), but
//! products lack `images` and `updated` and events lack `pending_webhooks`, which the generated
//! `Product` and `Event` require. The typed lists of those fail to decode; these tests pin that
//! down and check the same requests through the untyped runtime. Updates store an empty string
//! as `""` (Stripe clears the field) and merge metadata.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

#[path = "../support/localstripe.rs"]
mod peer;

use futures_util::{StreamExt, TryStreamExt};
use peer::client;
use serde::Serialize;
use serde_json::Value;
use stripe_types::client::{Error, List, Method, RequestOptions};
use stripe_types::params::{
    CreateCustomerParams, ListEventsCreated, ListEventsCreatedRangeQuerySpecs, ListEventsParams,
    ListProductsParams, UpdateCustomerParams,
};
use stripe_types::{CustomerOrDeletedCustomer, Event, EventError, EventType, Product, Unsettable};

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

/// Text unique to this run and call, for emails, names and markers.
fn unique(label: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{label}-{}-{nanos}", std::process::id())
}

fn metadata(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn customer_create_retrieve_update() {
    let client = client();
    let email = format!("{}@example.com", unique("typed"));
    let created = client
        .create_customer(
            &CreateCustomerParams {
                email: Some(email.clone()),
                name: Some("Zoë Rosen & Co".to_owned()),
                metadata: Some(Unsettable::Set(metadata(&[
                    ("sfdc_account_id", "001Dn00000A1b2CIAR"),
                    ("plan", "gold"),
                ]))),
                ..Default::default()
            },
            &RequestOptions::new().with_idempotency_key(unique("typed-create")),
        )
        .await
        .expect("create customer");
    assert!(created.id.starts_with("cus_"), "{created:?}");
    assert_eq!(created.object, "customer");
    assert!(!created.livemode);
    assert!(created.created >= now() - 60, "{}", created.created);
    assert_eq!(created.email.as_deref(), Some(email.as_str()));
    assert_eq!(created.name.as_deref(), Some("Zoë Rosen & Co"));
    assert_eq!(created.description, None);
    assert_eq!(
        created.metadata,
        Some(metadata(&[
            ("plan", "gold"),
            ("sfdc_account_id", "001Dn00000A1b2CIAR")
        ]))
    );

    let retrieved = client
        .retrieve_customer(&created.id, &RequestOptions::new())
        .await
        .expect("retrieve customer");
    let CustomerOrDeletedCustomer::Customer(retrieved) = retrieved else {
        panic!("expected a live customer: {retrieved:?}");
    };
    assert_eq!(retrieved.id, created.id);
    assert_eq!(retrieved.email, created.email);
    assert_eq!(retrieved.name, created.name);
    assert_eq!(retrieved.metadata, created.metadata);

    let new_email = format!("{}@example.com", unique("typed-updated"));
    let updated = client
        .update_customer(
            &created.id,
            &UpdateCustomerParams {
                email: Some(new_email.clone()),
                // `name` is a plain string in the spec (not `Unsettable`): "" clears it.
                name: Some(String::new()),
                metadata: Some(Unsettable::Set(metadata(&[("plan", "platinum")]))),
                ..Default::default()
            },
            &RequestOptions::new(),
        )
        .await
        .expect("update customer");
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.email.as_deref(), Some(new_email.as_str()));
    // Stripe answers `"name": null`; localstripe keeps the empty string.
    assert_eq!(updated.name.as_deref(), Some(""));
    // Metadata updates merge: the key not sent is kept.
    assert_eq!(
        updated.metadata,
        Some(metadata(&[
            ("plan", "platinum"),
            ("sfdc_account_id", "001Dn00000A1b2CIAR")
        ]))
    );

    let CustomerOrDeletedCustomer::Customer(reread) = client
        .retrieve_customer(&created.id, &RequestOptions::new())
        .await
        .expect("retrieve updated customer")
    else {
        panic!("expected a live customer");
    };
    assert_eq!(reread.email.as_deref(), Some(new_email.as_str()));
    assert_eq!(reread.name.as_deref(), Some(""));
    assert_eq!(reread.metadata, updated.metadata);

    let err = client
        .retrieve_customer("cus_doesnotexist", &RequestOptions::new())
        .await
        .unwrap_err();
    let api = err
        .api()
        .unwrap_or_else(|| panic!("expected an API error: {err:?}"));
    assert_eq!(
        (api.status, api.method, api.path.as_str()),
        (404, Method::Get, "/v1/customers/cus_doesnotexist")
    );
}

#[tokio::test]
async fn typed_event_lists_refuse_localstripe_events_by_their_api_version() {
    let client = client();
    let since = now() - 1;
    let customer = client
        .create_customer(
            &CreateCustomerParams {
                email: Some(format!("{}@example.com", unique("typed-events"))),
                ..Default::default()
            },
            &RequestOptions::new(),
        )
        .await
        .expect("create customer");
    let params = ListEventsParams {
        r#type: Some("customer.created".to_owned()),
        created: Some(ListEventsCreated::RangeQuerySpecs(
            ListEventsCreatedRangeQuerySpecs {
                gte: Some(since),
                ..Default::default()
            },
        )),
        limit: Some(100),
        ..Default::default()
    };

    // localstripe renders events at API version 2017-08-15: the typed list refuses them, naming
    // the version, before looking at their (older) shape.
    let err = client
        .list_events(&params, &RequestOptions::new())
        .await
        .unwrap_err();
    let Error::Decode { path, detail } = &err else {
        panic!("expected a decode error: {err:?}");
    };
    assert_eq!(path, "/v1/events");
    assert!(
        detail.contains("was rendered with Stripe API version 2017-08-15, but stripe-types is generated for API version 2022-11-15"),
        "{detail}"
    );

    // Paginated: the error is the only item, then the stream ends.
    let results: Vec<Result<Event, Error>> = client
        .list_events_paginate(params.clone(), RequestOptions::new())
        .collect()
        .await;
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(
        matches!(&results[0], Err(Error::Decode { path, .. }) if path == "/v1/events"),
        "{results:?}"
    );

    // The same request untyped, each event then read with `Event::from_json`: rejected for its
    // API version, by name.
    let page: List<Value> = client
        .send(
            Method::Get,
            "/v1/events",
            Some(&params),
            &RequestOptions::new(),
        )
        .await
        .expect("untyped events");
    let ours = page
        .data
        .iter()
        .find(|event| event["data"]["object"]["id"] == customer.id.as_str())
        .unwrap_or_else(|| panic!("no customer.created event for {}", customer.id));
    assert_eq!(
        EventType::from(ours["type"].as_str().unwrap()),
        EventType::CustomerCreated
    );
    assert_eq!(ours["data"]["object"]["object"], "customer");
    let event_id = ours["id"].as_str().unwrap();
    let err = Event::from_json(&serde_json::to_vec(ours).unwrap()).unwrap_err();
    assert!(
        matches!(
            &err,
            EventError::ApiVersionMismatch { id, found: Some(found), expected: "2022-11-15" }
                if id == event_id && found == "2017-08-15"
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "event {event_id} was rendered with Stripe API version 2017-08-15, but stripe-types \
             is generated for API version 2022-11-15: set the webhook endpoint's api_version to \
             2022-11-15"
        )
    );
}

#[tokio::test]
async fn product_pages_follow_the_cursor_but_do_not_fit_the_typed_product() {
    #[derive(Serialize)]
    struct ProductCreate<'a> {
        name: String,
        metadata: BTreeMap<&'a str, String>,
    }

    let client = client();
    let run = unique("typed-products");
    let mut created = Vec::new();
    for i in 0..5 {
        let product: Value = client
            .send(
                Method::Post,
                "/v1/products",
                Some(&ProductCreate {
                    name: format!("Plan {i} {run}"),
                    metadata: BTreeMap::from([("run", run.clone()), ("index", i.to_string())]),
                }),
                &RequestOptions::new(),
            )
            .await
            .expect("create product");
        created.push(product["id"].as_str().expect("product id").to_owned());
    }
    let params = ListProductsParams {
        active: Some(true),
        limit: Some(2),
        ..Default::default()
    };

    // The generated params, paged by the runtime into untyped items: at least three pages of two.
    let listed: Vec<Value> = client
        .paginate("/v1/products", params.clone(), RequestOptions::new())
        .try_collect()
        .await
        .expect("every page");
    let ours: Vec<&str> = listed
        .iter()
        .filter(|p| p["metadata"]["run"] == run.as_str())
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    // localstripe lists oldest first (Stripe: newest first).
    assert_eq!(ours, created);
    let product = listed
        .iter()
        .find(|p| p["id"] == created[0].as_str())
        .unwrap();
    assert!(product.get("images").is_none() && product.get("updated").is_none());

    // Typed, the first page already fails: `images` is required in the 2022-11-15 product.
    let results: Vec<Result<Product, Error>> = client
        .list_products_paginate(params, RequestOptions::new())
        .collect()
        .await;
    assert_eq!(results.len(), 1, "{results:?}");
    let Err(Error::Decode { path, detail }) = &results[0] else {
        panic!("expected a decode error: {results:?}");
    };
    assert_eq!(path, "/v1/products");
    assert!(
        detail.contains("Product") && detail.contains("missing field `images`"),
        "{detail}"
    );
}
