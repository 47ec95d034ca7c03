//! Checkout links end to end: `Stripe_Subscription__c` records marked "Send to Stripe" in the
//! simulated org, Stripe's Checkout Sessions and prices answered by a recording server on
//! 127.0.0.1 (localstripe has no Checkout), each request's exact parameters and
//! Idempotency-Key asserted, and the links (or the sales rep's messages) read back from the org.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use sfdc_sim::{Fault, FaultKind, SimConfig, Simulator};
use stripe_sfdc_sync::outbound::checkout::{CheckoutConfig, CheckoutLinks, CheckoutReport};
use stripe_sfdc_sync::salesforce::{Client, Credentials};

const SUBSCRIPTION: &str = "Stripe_Subscription__c";
const SUCCESS_URL: &str = "https://example.com/welcome?session={CHECKOUT_SESSION_ID}";
const CANCEL_URL: &str = "https://example.com/pricing";

/// One request Stripe received.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    query: Option<String>,
    body: String,
    idempotency_key: Option<String>,
}

/// A Stripe double: creates one session per Idempotency-Key (a repeated key answers the same
/// session, as Stripe does) and knows one price by lookup key.
#[derive(Clone, Default)]
struct Stripe {
    seen: Arc<Mutex<Vec<Seen>>>,
    sessions: Arc<Mutex<HashMap<String, String>>>,
}

impl Stripe {
    async fn start() -> (Stripe, String) {
        let stripe = Stripe::default();
        let app = Router::new()
            .route("/v1/checkout/sessions", post(create_session))
            .route("/v1/prices", get(list_prices))
            .with_state(stripe.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (stripe, url)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    fn sessions_created(&self) -> usize {
        self.sessions.lock().expect("lock").len()
    }
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../stripe-types/tests/fixtures/resources/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the fixture exists")).expect("JSON")
}

async fn create_session(
    State(stripe): State<Stripe>,
    headers: HeaderMap,
    body: String,
) -> axum::Json<Value> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    stripe.seen.lock().expect("lock").push(Seen {
        path: "/v1/checkout/sessions".into(),
        query: None,
        body,
        idempotency_key: key.clone(),
    });
    let id = {
        let mut sessions = stripe.sessions.lock().expect("lock");
        let next = format!("cs_test_{}", sessions.len() + 1);
        sessions
            .entry(key.unwrap_or_default())
            .or_insert(next)
            .clone()
    };
    let mut session = fixture("checkout_session");
    session["id"] = json!(id);
    session["url"] = json!(format!("https://checkout.stripe.com/c/pay/{id}"));
    session["expires_at"] = json!(1_795_000_000);
    axum::Json(session)
}

async fn list_prices(State(stripe): State<Stripe>, RawQuery(query): RawQuery) -> axum::Json<Value> {
    stripe.seen.lock().expect("lock").push(Seen {
        path: "/v1/prices".into(),
        query: query.clone(),
        body: String::new(),
        idempotency_key: None,
    });
    let known = query.as_deref().is_some_and(|q| {
        q.contains("lookup_keys[0]=basic_monthly") || q.contains("lookup_keys%5B0%5D=basic_monthly")
    });
    let data = if known {
        let mut price = fixture("price");
        price["id"] = json!("price_basic_monthly");
        vec![price]
    } else {
        Vec::new()
    };
    axum::Json(json!({"object": "list", "url": "/v1/prices", "has_more": false, "data": data}))
}

/// The org, Stripe and the link maker.
struct Harness {
    sim: Simulator,
    salesforce: Client,
    stripe: Stripe,
    links: CheckoutLinks,
}

impl Harness {
    async fn start() -> Harness {
        let sim = Simulator::start(SimConfig::default())
            .await
            .expect("the simulator starts");
        let salesforce = Client::builder(
            sim.url(),
            Credentials::client_credentials("test-client", "test-secret"),
        )
        .build()
        .expect("the client builds");
        let (stripe, url) = Stripe::start().await;
        let client = stripe_types::client::Client::builder("sk_test_checkout")
            .base_url(url)
            .build()
            .expect("the Stripe client builds");
        let links = CheckoutLinks::new(
            salesforce.clone(),
            client,
            CheckoutConfig::new(SUCCESS_URL, CANCEL_URL),
        );
        Harness {
            sim,
            salesforce,
            stripe,
            links,
        }
    }

    fn insert(&self, object: &str, record: Value) -> String {
        let map: Map<String, Value> = serde_json::from_value(record).expect("a map");
        self.sim.insert_record(object, map).expect("inserted")
    }

    fn contact(&self, email: Option<&str>, customer: Option<&str>) -> String {
        self.insert(
            "Contact",
            json!({"LastName": "Rosen", "Email": email, "Stripe_Customer_ID__c": customer}),
        )
    }

    fn plan(&self, price: &str) -> String {
        self.insert(
            "Pricing_Plan__c",
            json!({"Name": "Basic monthly", "Stripe_Price_ID__c": price}),
        )
    }

    fn marked(&self, fields: Value) -> String {
        let mut record = json!({"Sync_Status__c": "Send to Stripe", "Quantity__c": 2});
        for (name, value) in fields.as_object().expect("an object") {
            record[name] = value.clone();
        }
        self.insert(SUBSCRIPTION, record)
    }

    fn record(&self, id: &str) -> Map<String, Value> {
        self.sim
            .records(SUBSCRIPTION)
            .into_iter()
            .find(|r| r.get("Id").and_then(Value::as_str) == Some(id))
            .expect("the record")
    }
}

fn text<'a>(record: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    record.get(field).and_then(Value::as_str)
}

fn decoded(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let decode = |s: &str| percent_decode(&s.replace('+', " "));
            (decode(k), decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marked_subscription_gets_a_checkout_link_for_its_customer_and_plan() {
    let h = Harness::start().await;
    let contact = h.contact(Some("jenny@example.com"), Some("cus_NffrFeUfNV2Hib"));
    let plan = h.plan("price_1MowQULkdIwHu7ixraBm864M");
    let id = h.marked(json!({"Contact__c": contact, "Pricing_Plan__c": plan}));

    let report = h.links.run_once().await.expect("a poll");

    assert_eq!(
        report,
        CheckoutReport {
            created: 1,
            failed: 0,
            retry: 0
        }
    );
    let record = h.record(&id);
    assert_eq!(text(&record, "Sync_Status__c"), Some("Checkout Created"));
    assert_eq!(
        text(&record, "Stripe_Checkout_Session_ID__c"),
        Some("cs_test_1")
    );
    assert_eq!(
        text(&record, "Checkout_URL__c"),
        Some("https://checkout.stripe.com/c/pay/cs_test_1")
    );
    assert!(
        text(&record, "Checkout_Expires_At__c").is_some_and(|t| t.starts_with("2026-11-18")),
        "{record:?}"
    );
    assert_eq!(record.get("Error_Message__c"), None);

    let seen = h.stripe.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.path, "/v1/checkout/sessions");
    assert!(
        request
            .idempotency_key
            .as_deref()
            .is_some_and(|k| k.starts_with(&format!("sfdc-checkout-{id}-"))),
        "{request:?}"
    );
    let params = decoded(&request.body);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(param("mode"), Some("subscription"));
    assert_eq!(param("customer"), Some("cus_NffrFeUfNV2Hib"));
    assert_eq!(param("customer_email"), None, "the customer is known");
    assert_eq!(
        param("line_items[0][price]"),
        Some("price_1MowQULkdIwHu7ixraBm864M")
    );
    assert_eq!(param("line_items[0][quantity]"), Some("2"));
    assert_eq!(param("client_reference_id"), Some(id.as_str()));
    assert_eq!(
        param("metadata[salesforce_subscription_id]"),
        Some(id.as_str())
    );
    assert_eq!(
        param("subscription_data[metadata][salesforce_subscription_id]"),
        Some(id.as_str())
    );
    assert_eq!(param("success_url"), Some(SUCCESS_URL));
    assert_eq!(param("cancel_url"), Some(CANCEL_URL));
    assert!(param("expires_at").is_some());
    assert!(
        !request.body.contains("card"),
        "no card data: {}",
        request.body
    );

    // Handled: the next poll finds nothing to do.
    assert_eq!(
        h.links.run_once().await.expect("a poll"),
        CheckoutReport::default()
    );
    assert_eq!(h.stripe.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_without_a_customer_gets_checkout_by_email_and_a_lookup_key_is_resolved() {
    let h = Harness::start().await;
    let contact = h.contact(Some("new@example.com"), None);
    let id = h.marked(json!({"Contact__c": contact, "Stripe_Price_ID__c": "basic_monthly"}));

    let report = h.links.run_once().await.expect("a poll");

    assert_eq!(report.created, 1, "{report:?}");
    let seen = h.stripe.seen();
    assert_eq!(seen[0].path, "/v1/prices");
    assert!(
        seen[0]
            .query
            .as_deref()
            .is_some_and(|q| q.contains("active=true"))
    );
    let params = decoded(&seen[1].body);
    assert!(params.contains(&("customer_email".into(), "new@example.com".into())));
    assert!(params.contains(&("line_items[0][price]".into(), "price_basic_monthly".into())));
    assert!(!params.iter().any(|(k, _)| k == "customer"));
    assert_eq!(
        text(&h.record(&id), "Sync_Status__c"),
        Some("Checkout Created")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_sales_rep_must_fix_is_written_on_the_record() {
    let h = Harness::start().await;
    let no_email = h.contact(None, None);
    let plan = h.plan("price_1MowQULkdIwHu7ixraBm864M");
    let without_email = h.marked(json!({"Contact__c": no_email, "Pricing_Plan__c": plan}));
    let with_email = h.contact(Some("jenny@example.com"), None);
    let without_price = h.marked(json!({"Contact__c": with_email}));
    let unknown_key =
        h.marked(json!({"Contact__c": with_email, "Stripe_Price_ID__c": "gold_weekly"}));

    let report = h.links.run_once().await.expect("a poll");

    assert_eq!(
        report,
        CheckoutReport {
            created: 0,
            failed: 3,
            retry: 0
        }
    );
    for (id, expected) in [
        (&without_email, "The Contact has no email"),
        (&without_price, "The plan has no Stripe price"),
        (
            &unknown_key,
            "no active Stripe price has the lookup key \"gold_weekly\"",
        ),
    ] {
        let record = h.record(id);
        assert_eq!(text(&record, "Sync_Status__c"), Some("Failed"));
        assert!(
            text(&record, "Error_Message__c").is_some_and(|m| m.contains(expected)),
            "{expected}: {record:?}"
        );
    }
    assert_eq!(h.stripe.sessions_created(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_before_the_write_back_gets_the_same_session_and_marking_again_a_new_one() {
    let h = Harness::start().await;
    let contact = h.contact(Some("jenny@example.com"), Some("cus_NffrFeUfNV2Hib"));
    let plan = h.plan("price_1MowQULkdIwHu7ixraBm864M");
    let id = h.marked(json!({"Contact__c": contact, "Pricing_Plan__c": plan}));
    // The session is created, then Salesforce is unavailable for the write-back.
    h.sim.inject(Fault::on_path(
        FaultKind::Status(503),
        "/sobjects/Stripe_Subscription__c/",
        1,
    ));

    let report = h.links.run_once().await.expect("a poll");
    assert_eq!(report.retry, 1, "{report:?}");
    assert_eq!(
        text(&h.record(&id), "Sync_Status__c"),
        Some("Send to Stripe")
    );

    let report = h.links.run_once().await.expect("a poll");
    assert_eq!(report.created, 1, "{report:?}");
    let seen = h.stripe.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].idempotency_key, seen[1].idempotency_key);
    assert_eq!(h.stripe.sessions_created(), 1, "one session for both tries");
    assert_eq!(
        text(&h.record(&id), "Stripe_Checkout_Session_ID__c"),
        Some("cs_test_1")
    );

    // The link expired; the rep marks the record again: a new key, a new session.
    let body = serde_json::value::to_raw_value(&json!({"Sync_Status__c": "Send to Stripe"}))
        .expect("JSON");
    h.salesforce
        .update_json(SUBSCRIPTION, &id, &body)
        .await
        .expect("marked again");
    let report = h.links.run_once().await.expect("a poll");
    assert_eq!(report.created, 1, "{report:?}");
    assert_eq!(h.stripe.sessions_created(), 2);
    assert_eq!(
        text(&h.record(&id), "Stripe_Checkout_Session_ID__c"),
        Some("cs_test_2")
    );
}
