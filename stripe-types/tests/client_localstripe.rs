//! The client runtime against localstripe, a fake but stateful Stripe server.
//!
//! The server's URL comes from `LOCALSTRIPE_URL`; when that is unset the tests run
//! `tests/peers/localstripe.sh`, which installs localstripe from PyPI if needed and
//! starts it on 127.0.0.1 (it exits by itself after this test process). If
//! localstripe cannot be had, every test here fails and says why: none is skipped.
//!
//! localstripe 1.15.10 differs from Stripe in ways these tests rely on or avoid:
//! errors are always `invalid_request_error` without `code` (no `resource_missing`)
//! except a few with `code` only (a declined card is HTTP 402 with
//! `code=card_declined` but no `card_error` type or `decline_code`); there is no
//! `Request-Id` header; lists are oldest first and `ending_before` is rejected; an
//! unknown `starting_after` silently restarts from the first item; metadata updates
//! merge and an empty value is stored as `""` instead of removing the key; product
//! booleans such as `shippable=true` are rejected (only some fields parse form
//! booleans); subscriptions with a trial stay `incomplete` and get no invoice;
//! events carry `api_version` 2017-08-15; it has no checkout sessions and no prices.
//! All tests share one server, so each works on objects it created itself.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

#[path = "support/localstripe.rs"]
mod localstripe;

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use stripe_types::client::{ApiErrorType, Client, Error, Identified, Method, RequestOptions};

use localstripe::{base_url, client};

/// Text unique to this run and call, for emails and names.
fn unique(label: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{label}-{}-{nanos}", std::process::id())
}

async fn post(client: &Client, path: &str, params: Value) -> Value {
    client
        .send(Method::Post, path, Some(&params), &RequestOptions::new())
        .await
        .unwrap_or_else(|e| panic!("POST {path} {params}: {e}"))
}

async fn get(client: &Client, path: &str) -> Value {
    client
        .send::<(), _>(Method::Get, path, None, &RequestOptions::new())
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

fn id(object: &Value) -> String {
    object.id().to_owned()
}

#[derive(Debug, Deserialize)]
struct Customer {
    id: String,
    object: String,
    email: Option<String>,
    name: Option<String>,
    description: Option<String>,
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    preferred_locales: Option<Vec<String>>,
    address: Option<Address>,
}

impl Identified for Customer {
    fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Address {
    line1: String,
    city: String,
    postal_code: String,
    country: String,
}

#[derive(Serialize)]
struct CustomerCreate<'a> {
    email: &'a str,
    name: Option<&'a str>,
    description: Option<&'a str>,
    address: Option<Address>,
    preferred_locales: Vec<&'a str>,
    metadata: BTreeMap<&'a str, &'a str>,
}

#[tokio::test]
async fn customer_with_metadata_create_retrieve_update_delete() {
    let client = client();
    let email = format!("{}@example.com", unique("crud"));
    let params = CustomerCreate {
        email: &email,
        name: Some("Zoë Rosen & Co"),
        description: None,
        address: Some(Address {
            line1: "1 Rue de la Paix".to_owned(),
            city: "Paris".to_owned(),
            postal_code: "75002".to_owned(),
            country: "FR".to_owned(),
        }),
        preferred_locales: vec!["fr", "en"],
        metadata: BTreeMap::from([
            ("sfdc_account_id", "001Dn00000A1b2CIAR"),
            ("plan", "gold"),
            ("note", "a=b&c [d] +e ✓"),
        ]),
    };
    let created: Customer = client
        .send(
            Method::Post,
            "/v1/customers",
            Some(&params),
            &RequestOptions::new(),
        )
        .await
        .expect("create customer");
    assert!(created.id.starts_with("cus_"), "{created:?}");
    assert_eq!(created.object, "customer");
    assert_eq!(created.email.as_deref(), Some(email.as_str()));
    assert_eq!(created.name.as_deref(), Some("Zoë Rosen & Co"));
    assert_eq!(created.description, None);
    assert_eq!(created.address, params.address);
    assert_eq!(
        created.preferred_locales,
        Some(vec!["fr".to_owned(), "en".to_owned()])
    );
    let expected: BTreeMap<String, String> = params
        .metadata
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(
        created.metadata, expected,
        "bracket-encoded metadata round-trips"
    );

    let path = format!("/v1/customers/{}", created.id);
    let retrieved: Customer = client
        .send::<(), _>(Method::Get, &path, None, &RequestOptions::new())
        .await
        .expect("retrieve customer");
    assert_eq!(retrieved.id, created.id);
    assert_eq!(retrieved.metadata, expected);

    let updated: Customer = client
        .send(
            Method::Post,
            &path,
            Some(&json!({
                "description": "updated by the sync",
                "metadata": {"plan": "platinum", "new_key": "1", "note": ""}
            })),
            &RequestOptions::new(),
        )
        .await
        .expect("update customer");
    assert_eq!(updated.description.as_deref(), Some("updated by the sync"));
    assert_eq!(updated.metadata["plan"], "platinum");
    assert_eq!(updated.metadata["new_key"], "1");
    assert_eq!(updated.metadata["sfdc_account_id"], "001Dn00000A1b2CIAR");
    // Stripe removes a key set to ""; localstripe stores the empty value.
    assert_eq!(updated.metadata.get("note").map(String::as_str), Some(""));

    let deleted: Value = client
        .send::<(), _>(Method::Delete, &path, None, &RequestOptions::new())
        .await
        .expect("delete customer");
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["id"], created.id.as_str());

    let err = client
        .send::<(), Value>(Method::Get, &path, None, &RequestOptions::new())
        .await
        .unwrap_err();
    let api = err
        .api()
        .unwrap_or_else(|| panic!("expected an API error: {err:?}"));
    assert_eq!(api.status, 404);
    assert_eq!(api.error_type, ApiErrorType::InvalidRequestError);
    assert_eq!(api.message.as_deref(), Some("Not Found"));
    assert_eq!(
        (api.method, api.path.as_str()),
        (Method::Get, path.as_str())
    );
}

#[tokio::test]
async fn customers_paginate_across_pages() {
    let client = client();
    let email = format!("{}@example.com", unique("pages"));
    let mut created = Vec::new();
    for i in 0..23 {
        let customer = post(
            &client,
            "/v1/customers",
            json!({"email": email, "metadata": {"index": i.to_string()}}),
        )
        .await;
        created.push(id(&customer));
    }

    #[derive(Clone, Serialize)]
    struct ListCustomers {
        email: String,
        limit: u8,
    }
    let listed: Vec<Customer> = client
        .paginate(
            "/v1/customers",
            ListCustomers {
                email: email.clone(),
                limit: 10,
            },
            RequestOptions::new(),
        )
        .try_collect()
        .await
        .expect("all pages");
    let ids: Vec<String> = listed.iter().map(|c| c.id.clone()).collect();
    // localstripe lists oldest first (Stripe: newest first).
    assert_eq!(ids, created, "3 pages of 10, 10 and 3");
    assert!(
        listed
            .iter()
            .all(|c| c.email.as_deref() == Some(email.as_str()))
    );
    assert_eq!(listed[22].metadata["index"], "22");

    // One page by hand: the list object itself.
    let page: Value = client
        .send(
            Method::Get,
            "/v1/customers",
            Some(&json!({"email": email, "limit": 10, "starting_after": created[19]})),
            &RequestOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(page["object"], "list");
    assert_eq!(page["has_more"], false);
    assert_eq!(page["url"], "/v1/customers");
    assert_eq!(page["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn products_and_plans() {
    let client = client();
    let name = unique("Gold");
    let product = post(
        &client,
        "/v1/products",
        json!({"name": name, "description": "Gold plan", "metadata": {"sfdc_product2_id": "01tDn000001abcd"}}),
    )
    .await;
    let product_id = id(&product);
    assert!(product_id.starts_with("prod_"), "{product}");
    assert_eq!(product["metadata"]["sfdc_product2_id"], "01tDn000001abcd");
    assert_eq!(product["active"], true);

    let updated = post(
        &client,
        &format!("/v1/products/{product_id}"),
        json!({"name": format!("{name} (renamed)")}),
    )
    .await;
    assert_eq!(updated["name"], format!("{name} (renamed)"));
    assert_eq!(
        get(&client, &format!("/v1/products/{product_id}")).await,
        updated
    );

    let plan = post(
        &client,
        "/v1/plans",
        json!({
            "product": product_id,
            "amount": 2000,
            "currency": "eur",
            "interval": "month",
            "nickname": "Gold monthly",
            "active": true,
            "metadata": {"tier": "gold"}
        }),
    )
    .await;
    let plan_id = id(&plan);
    assert!(plan_id.starts_with("plan_"), "{plan}");
    assert_eq!(
        (
            &plan["amount"],
            &plan["currency"],
            &plan["interval"],
            &plan["product"]
        ),
        (
            &json!(2000),
            &json!("eur"),
            &json!("month"),
            &json!(product_id)
        )
    );
    assert_eq!(plan["metadata"]["tier"], "gold");

    let plan_with_product: Value = client
        .send::<(), _>(
            Method::Get,
            &format!("/v1/plans/{plan_id}"),
            None,
            &RequestOptions::new().with_expand("product"),
        )
        .await
        .unwrap();
    assert_eq!(plan_with_product["product"]["id"], product_id.as_str());

    let products: Vec<Value> = client
        .paginate("/v1/products", json!({"limit": 3}), RequestOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert!(products.iter().any(|p| p.id() == product_id));
    let plans: Vec<Value> = client
        .paginate("/v1/plans", json!({"limit": 3}), RequestOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert!(plans.iter().any(|p| p.id() == plan_id));
}

#[tokio::test]
async fn subscriptions_and_invoices() {
    let client = client();
    let payment_method = post(
        &client,
        "/v1/payment_methods",
        json!({"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}}),
    )
    .await;
    let pm = id(&payment_method);
    let customer = post(
        &client,
        "/v1/customers",
        json!({
            "email": format!("{}@example.com", unique("subs")),
            "payment_method": pm,
            "invoice_settings": {"default_payment_method": pm}
        }),
    )
    .await;
    let customer_id = id(&customer);
    assert_eq!(
        customer["invoice_settings"]["default_payment_method"],
        pm.as_str()
    );
    let product = post(&client, "/v1/products", json!({"name": unique("Silver")})).await;
    let plan = post(
        &client,
        "/v1/plans",
        json!({"product": id(&product), "amount": 1500, "currency": "eur", "interval": "month"}),
    )
    .await;

    let subscription: Value = client
        .send(
            Method::Post,
            "/v1/subscriptions",
            Some(&json!({
                "customer": customer_id,
                "items": [{"plan": id(&plan), "quantity": 2}],
                "metadata": {"sfdc_contract_id": "800Dn000000XyZ1"}
            })),
            &RequestOptions::new().with_idempotency_key(unique("sub-create")),
        )
        .await
        .expect("create subscription");
    let subscription_id = id(&subscription);
    assert_eq!(subscription["status"], "active");
    assert_eq!(
        subscription["metadata"]["sfdc_contract_id"],
        "800Dn000000XyZ1"
    );
    assert_eq!(subscription["items"]["data"][0]["quantity"], 2);
    assert_eq!(
        subscription["items"]["data"][0]["plan"]["id"],
        id(&plan).as_str()
    );
    let invoice_id = subscription["latest_invoice"]
        .as_str()
        .expect("invoice id")
        .to_owned();

    let expanded: Value = client
        .send(
            Method::Get,
            &format!("/v1/subscriptions/{subscription_id}"),
            Some(&json!({"expand": ["customer"]})),
            &RequestOptions::new().with_expand("latest_invoice"),
        )
        .await
        .expect("retrieve with expand");
    assert_eq!(expanded["customer"]["id"], customer_id.as_str());
    assert_eq!(expanded["latest_invoice"]["id"], invoice_id.as_str());

    let subscriptions: Vec<Value> = client
        .paginate(
            "/v1/subscriptions",
            json!({"customer": customer_id, "limit": 1}),
            RequestOptions::new(),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        subscriptions.iter().map(Identified::id).collect::<Vec<_>>(),
        [subscription_id.as_str()]
    );

    let invoice = get(&client, &format!("/v1/invoices/{invoice_id}")).await;
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["amount_due"], 3000);
    assert_eq!(invoice["customer"], customer_id.as_str());
    assert_eq!(invoice["subscription"], subscription_id.as_str());
    assert_eq!(invoice["lines"]["data"][0]["quantity"], 2);

    let invoices: Vec<Value> = client
        .paginate(
            "/v1/invoices",
            json!({"customer": customer_id}),
            RequestOptions::new(),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        invoices.iter().map(Identified::id).collect::<Vec<_>>(),
        [invoice_id.as_str()]
    );
}

#[tokio::test]
async fn payment_intents_and_a_declined_card() {
    let client = client();
    let customer = post(
        &client,
        "/v1/customers",
        json!({"email": format!("{}@example.com", unique("pi"))}),
    )
    .await;
    let good_card = post(
        &client,
        "/v1/payment_methods",
        json!({"type": "card", "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2035, "cvc": "314"}}),
    )
    .await;
    let intent = post(
        &client,
        "/v1/payment_intents",
        json!({
            "amount": 1099,
            "currency": "eur",
            "customer": id(&customer),
            "payment_method": id(&good_card),
            "metadata": {"order": "6735"}
        }),
    )
    .await;
    let intent_id = id(&intent);
    assert!(intent_id.starts_with("pi_"), "{intent}");
    assert_eq!(intent["status"], "requires_confirmation");
    assert_eq!(intent["metadata"]["order"], "6735");
    assert_eq!(
        get(&client, &format!("/v1/payment_intents/{intent_id}")).await["amount"],
        1099
    );

    // localstripe answers 500 "Not implemented" to `payment_method` on confirm:
    // the payment method goes on the intent at creation.
    let confirmed: Value = client
        .send::<(), _>(
            Method::Post,
            &format!("/v1/payment_intents/{intent_id}/confirm"),
            None,
            &RequestOptions::new(),
        )
        .await
        .expect("confirm");
    assert_eq!(confirmed["status"], "succeeded");

    let declined_card = post(
        &client,
        "/v1/payment_methods",
        json!({"type": "card", "card": {"number": "4000000000000341", "exp_month": 1, "exp_year": 2035, "cvc": "314"}}),
    )
    .await;
    let declined = post(
        &client,
        "/v1/payment_intents",
        json!({"amount": 500, "currency": "eur", "payment_method": id(&declined_card)}),
    )
    .await;
    let err = client
        .send::<(), Value>(
            Method::Post,
            &format!("/v1/payment_intents/{}/confirm", id(&declined)),
            None,
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();
    let api = err
        .api()
        .unwrap_or_else(|| panic!("expected an API error: {err:?}"));
    assert_eq!(api.status, 402);
    assert_eq!(api.code.as_deref(), Some("card_declined"));
    assert_eq!(api.message.as_deref(), Some("Your card was declined."));
    // Stripe says `card_error` with a `decline_code`; localstripe does not.
    assert_eq!(api.error_type, ApiErrorType::InvalidRequestError);
    assert_eq!(api.decline_code, None);

    let intents: Vec<Value> = client
        .paginate(
            "/v1/payment_intents",
            json!({"limit": 2}),
            RequestOptions::new(),
        )
        .try_collect()
        .await
        .unwrap();
    assert!(intents.iter().any(|i| i.id() == intent_id));
}

#[tokio::test]
async fn events_filtered_by_type_and_nested_created_range() {
    let client = client();
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 1;
    let customer = post(
        &client,
        "/v1/customers",
        json!({"email": format!("{}@example.com", unique("events"))}),
    )
    .await;
    let customer_id = id(&customer);

    #[derive(Clone, Serialize)]
    struct Created {
        gte: u64,
    }
    #[derive(Clone, Serialize)]
    struct ListEvents {
        #[serde(rename = "type")]
        event_type: &'static str,
        created: Created,
        limit: u8,
    }
    #[derive(Debug, Deserialize)]
    struct Event {
        id: String,
        #[serde(rename = "type")]
        event_type: String,
        api_version: Option<String>,
        data: EventData,
    }
    #[derive(Debug, Deserialize)]
    struct EventData {
        object: Value,
    }
    impl Identified for Event {
        fn id(&self) -> &str {
            &self.id
        }
    }

    let events: Vec<Event> = client
        .paginate(
            "/v1/events",
            ListEvents {
                event_type: "customer.created",
                created: Created { gte: since },
                limit: 2,
            },
            RequestOptions::new(),
        )
        .try_collect()
        .await
        .expect("events");
    assert!(events.iter().all(|e| e.event_type == "customer.created"));
    let ours: Vec<&Event> = events
        .iter()
        .filter(|e| e.data.object.id() == customer_id)
        .collect();
    assert_eq!(ours.len(), 1, "{events:#?}");
    assert!(ours[0].id.starts_with("evt_"));
    assert_eq!(ours[0].data.object["object"], "customer");
    assert_eq!(ours[0].api_version.as_deref(), Some("2017-08-15"));

    let event = get(&client, &format!("/v1/events/{}", ours[0].id)).await;
    assert_eq!(event["data"]["object"]["id"], customer_id.as_str());
}

#[tokio::test]
async fn errors_are_typed() {
    let client = client();

    let err = client
        .send::<(), Value>(
            Method::Get,
            "/v1/customers/cus_doesnotexist",
            None,
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let api = err.api().expect("typed API error");
    assert_eq!(api.error_type, ApiErrorType::InvalidRequestError);
    assert_eq!(api.code, None, "localstripe sends no resource_missing code");
    assert_eq!(api.request_id, None, "localstripe sends no Request-Id");

    let err = client
        .send::<_, Value>(
            Method::Post,
            "/v1/customers",
            Some(&json!({"no_such_param": "x"})),
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();
    let api = err.api().expect("typed API error");
    assert_eq!(api.status, 400);
    assert_eq!(api.message.as_deref(), Some("Unexpected no_such_param"));

    let err = client
        .send::<_, Value>(
            Method::Get,
            "/v1/customers",
            Some(&json!({"ending_before": "cus_x"})),
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.api().unwrap().message.as_deref(),
        Some("Unexpected ending_before")
    );

    let publishable = Client::builder("pk_test_123")
        .base_url(base_url())
        .build()
        .unwrap();
    let err = publishable
        .send::<(), Value>(Method::Get, "/v1/customers", None, &RequestOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(matches!(err, Error::Api(_)), "{err:?}");
}
