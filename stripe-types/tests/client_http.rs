//! The client runtime against a recording HTTP server on 127.0.0.1: exact requests,
//! retries, error parsing and pagination.

#[path = "client_http/checkout.rs"]
mod checkout;
#[path = "client_http/recorder.rs"]
mod recorder;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use recorder::{Recorder, Reply};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use stripe_types::client::{
    ApiErrorType, Client, Error, Identified, Method, RequestOptions, RetryPolicy,
};

const KEY: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";

/// A client for `server` that retries quickly.
fn client(server: &Recorder) -> Client {
    Client::builder(KEY)
        .base_url(&server.base_url)
        .retry_policy(fast_retries(2))
        .build()
        .expect("client")
}

fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(2),
    }
}

fn is_uuid_v4(key: &str) -> bool {
    let groups: Vec<&str> = key.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && key.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && groups[2].starts_with('4')
}

const CUSTOMER: &str = r#"{
  "id": "cus_NffrFeUfNV2Hib",
  "object": "customer",
  "address": null,
  "balance": 0,
  "created": 1680893993,
  "currency": null,
  "default_source": null,
  "delinquent": false,
  "description": null,
  "discount": null,
  "email": "jennyrosen@example.com",
  "invoice_prefix": "0759376C",
  "invoice_settings": {"custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null},
  "livemode": false,
  "metadata": {"plan": "gold"},
  "name": "Jenny Rosen",
  "next_invoice_sequence": 1,
  "phone": null,
  "preferred_locales": [],
  "shipping": null,
  "tax_exempt": "none",
  "test_clock": null
}"#;

#[derive(Debug, Deserialize, PartialEq)]
struct Customer {
    id: String,
    email: Option<String>,
    metadata: BTreeMap<String, String>,
}

impl Identified for Customer {
    fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Serialize)]
struct CustomerCreate<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    description: Option<&'a str>,
    metadata: BTreeMap<&'a str, &'a str>,
    preferred_locales: Vec<&'a str>,
    tax_exempt: &'a str,
}

#[tokio::test]
async fn get_puts_params_and_expand_in_the_query_and_sends_the_headers() {
    let server = Recorder::start(vec![Reply::json(200, CUSTOMER)]).await;
    let customer: Customer = client(&server)
        .send(
            Method::Get,
            "/v1/customers/cus_NffrFeUfNV2Hib",
            Some(&json!({"expand": ["default_source"]})),
            &RequestOptions::new().with_expand("invoice_settings.default_payment_method"),
        )
        .await
        .expect("retrieve");
    assert_eq!(customer.id, "cus_NffrFeUfNV2Hib");
    assert_eq!(customer.metadata["plan"], "gold");

    let request = server.single();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/v1/customers/cus_NffrFeUfNV2Hib");
    assert_eq!(
        request.query.as_deref(),
        Some("expand[0]=default_source&expand[1]=invoice_settings.default_payment_method")
    );
    assert_eq!(request.header("stripe-version"), Some("2022-11-15"));
    assert_eq!(
        request.header("stripe-version"),
        Some(stripe_types::API_VERSION)
    );
    assert_eq!(
        request.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("stripe-types/")
    );
    assert_eq!(request.header("idempotency-key"), None);
    assert_eq!(request.header("content-type"), None);
    assert_eq!(request.header("stripe-account"), None);
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn post_sends_the_exact_form_body_and_a_fresh_idempotency_key() {
    let server =
        Recorder::start(vec![Reply::json(200, CUSTOMER), Reply::json(200, CUSTOMER)]).await;
    let client = client(&server);
    let params = CustomerCreate {
        email: "jenny.rosen+1@example.com",
        name: Some("Jenny Rosen"),
        description: None,
        metadata: BTreeMap::from([("plan", "gold"), ("sfdc_id", "001Dn00000A1b2C")]),
        preferred_locales: vec!["en", "fr-FR"],
        tax_exempt: "none",
    };
    for _ in 0..2 {
        let _: Value = client
            .send(
                Method::Post,
                "/v1/customers",
                Some(&params),
                &RequestOptions::new(),
            )
            .await
            .expect("create");
    }
    let requests = server.requests();
    let first = &requests[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/v1/customers");
    assert_eq!(first.query, None);
    assert_eq!(
        first.body_text(),
        "email=jenny.rosen%2B1%40example.com&name=Jenny%20Rosen\
         &metadata[plan]=gold&metadata[sfdc_id]=001Dn00000A1b2C\
         &preferred_locales[0]=en&preferred_locales[1]=fr-FR&tax_exempt=none"
    );
    assert_eq!(
        first.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        first.header("content-length"),
        Some(&*first.body.len().to_string())
    );
    assert_eq!(first.header("stripe-version"), Some("2022-11-15"));
    let key = first.header("idempotency-key").expect("idempotency key");
    assert!(is_uuid_v4(key), "{key}");
    let second = requests[1].header("idempotency-key").unwrap();
    assert_ne!(key, second, "each logical request gets its own key");
}

#[tokio::test]
async fn caller_options_become_headers_and_post_without_params_has_an_empty_body() {
    let server = Recorder::start(vec![Reply::json(200, CUSTOMER)]).await;
    let opts = RequestOptions {
        idempotency_key: Some("order-42-attempt".to_owned()),
        expand: vec![],
        stripe_account: Some("acct_1032D82eZvKYlo2C".to_owned()),
    };
    let _: Value = client(&server)
        .send::<(), _>(Method::Post, "/v1/customers/cus_1", None, &opts)
        .await
        .unwrap();
    let request = server.single();
    assert_eq!(request.header("idempotency-key"), Some("order-42-attempt"));
    assert_eq!(
        request.header("stripe-account"),
        Some("acct_1032D82eZvKYlo2C")
    );
    assert_eq!(request.header("content-length"), Some("0"));
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn delete_puts_params_in_the_query() {
    let server = Recorder::start(vec![Reply::json(
        200,
        r#"{"id": "cus_1", "object": "customer", "deleted": true}"#,
    )])
    .await;
    let deleted: Value = client(&server)
        .send(
            Method::Delete,
            "/v1/customers/cus_1",
            Some(&json!({"note": "a b"})),
            &RequestOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(deleted["deleted"], true);
    let request = server.single();
    assert_eq!(request.method, "DELETE");
    assert_eq!(request.query.as_deref(), Some("note=a%20b"));
    assert_eq!(request.header("idempotency-key"), None);
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn retries_500_429_and_409_with_the_same_idempotency_key_and_body() {
    let server = Recorder::start(vec![
        Reply::error(500, "api_error"),
        Reply::error(429, "invalid_request_error").header("retry-after", "0"),
        Reply::error(409, "idempotency_error"),
        Reply::json(200, CUSTOMER),
    ])
    .await;
    let client = Client::builder(KEY)
        .base_url(&server.base_url)
        .retry_policy(fast_retries(3))
        .build()
        .unwrap();
    let customer: Customer = client
        .send(
            Method::Post,
            "/v1/customers",
            Some(&json!({"email": "jennyrosen@example.com"})),
            &RequestOptions::new(),
        )
        .await
        .expect("succeeds on the fourth attempt");
    assert_eq!(customer.email.as_deref(), Some("jennyrosen@example.com"));

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    let key = requests[0].header("idempotency-key").unwrap().to_owned();
    for request in &requests {
        assert_eq!(request.header("idempotency-key"), Some(&*key));
        assert_eq!(request.body_text(), "email=jennyrosen%40example.com");
        assert_eq!(request.header("stripe-version"), Some("2022-11-15"));
    }
}

#[tokio::test]
async fn a_caller_idempotency_key_is_reused_across_retries() {
    let server = Recorder::start(vec![
        Reply::error(503, "api_error"),
        Reply::json(200, CUSTOMER),
    ])
    .await;
    let _: Value = client(&server)
        .send::<(), _>(
            Method::Post,
            "/v1/customers",
            None,
            &RequestOptions::new().with_idempotency_key("sync-cus-7"),
        )
        .await
        .unwrap();
    let keys: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(keys, ["sync-cus-7", "sync-cus-7"]);
}

#[tokio::test]
async fn stripe_should_retry_false_forbids_a_retry_of_a_500() {
    let server = Recorder::start(vec![
        Reply::error(500, "api_error").header("stripe-should-retry", "false"),
        Reply::json(200, CUSTOMER),
    ])
    .await;
    let err = client(&server)
        .send::<(), Value>(
            Method::Get,
            "/v1/customers/cus_1",
            None,
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn stripe_should_retry_true_forces_a_retry_of_a_400() {
    let server = Recorder::start(vec![
        Reply::error(400, "invalid_request_error").header("stripe-should-retry", "true"),
        Reply::json(200, CUSTOMER),
    ])
    .await;
    let _: Customer = client(&server)
        .send::<(), _>(
            Method::Get,
            "/v1/customers/cus_1",
            None,
            &RequestOptions::new(),
        )
        .await
        .expect("second attempt succeeds");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn other_4xx_are_never_retried() {
    for status in [400, 401, 402, 403, 404] {
        let server = Recorder::start(vec![
            Reply::error(status, "invalid_request_error"),
            Reply::json(200, CUSTOMER),
        ])
        .await;
        let err = client(&server)
            .send::<(), Value>(Method::Post, "/v1/customers", None, &RequestOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(server.requests().len(), 1, "status {status}");
    }
}

#[tokio::test]
async fn gives_up_after_max_retries_with_the_last_error() {
    let server = Recorder::start(vec![
        Reply::error(500, "api_error"),
        Reply::error(502, "api_error"),
        Reply::error(503, "api_error").header("request-id", "req_last"),
        Reply::json(200, CUSTOMER),
    ])
    .await;
    let err = client(&server)
        .send::<(), Value>(Method::Get, "/v1/customers", None, &RequestOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.request_id(), Some("req_last"));
    assert_eq!(server.requests().len(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn no_retries_with_the_none_policy() {
    let server = Recorder::start(vec![Reply::error(500, "api_error")]).await;
    let client = Client::builder(KEY)
        .base_url(&server.base_url)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client
        .send::<(), Value>(Method::Get, "/v1/customers", None, &RequestOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let server = Recorder::start(vec![
        Reply::error(429, "invalid_request_error").header("retry-after", "1"),
        Reply::json(200, CUSTOMER),
    ])
    .await;
    let started = Instant::now();
    let _: Value = client(&server)
        .send::<(), _>(Method::Get, "/v1/customers", None, &RequestOptions::new())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_after_beyond_the_limit_is_ignored() {
    let server = Recorder::start(vec![
        Reply::error(429, "invalid_request_error").header("retry-after", "3600"),
        Reply::json(200, CUSTOMER),
    ])
    .await;
    let started = Instant::now();
    let _: Value = client(&server)
        .send::<(), _>(Method::Get, "/v1/customers", None, &RequestOptions::new())
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn connection_errors_are_retried_then_reported() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder(KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    let err = client
        .send::<(), Value>(Method::Post, "/v1/customers", None, &RequestOptions::new())
        .await
        .unwrap_err();
    let Error::Http {
        method,
        path,
        attempts,
        source,
    } = &err
    else {
        panic!("expected a transport error: {err:?}");
    };
    assert_eq!(
        (*method, path.as_str(), *attempts),
        (Method::Post, "/v1/customers", 3)
    );
    assert!(source.is_connect(), "{source:?}");
    assert_eq!(
        err.to_string(),
        "POST /v1/customers failed after 3 attempt(s)"
    );
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let server = Recorder::start(vec![
        Reply::json(200, CUSTOMER).delayed(Duration::from_secs(2)),
        Reply::json(200, CUSTOMER).delayed(Duration::from_secs(2)),
    ])
    .await;
    let client = Client::builder(KEY)
        .base_url(&server.base_url)
        .timeout(Duration::from_millis(200))
        .retry_policy(fast_retries(1))
        .build()
        .unwrap();
    let err = client
        .send::<(), Value>(
            Method::Get,
            "/v1/customers/cus_1",
            None,
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();
    let Error::Http {
        attempts, source, ..
    } = &err
    else {
        panic!("expected a transport error: {err:?}");
    };
    assert_eq!(*attempts, 2);
    assert!(source.is_timeout(), "{source:?}");
}

#[tokio::test]
async fn card_error_with_decline_code_and_request_id() {
    let body = r#"{
      "error": {
        "charge": "ch_3MmlLrLkdIwHu7ix0snN0B15",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": "Your card has insufficient funds.",
        "payment_intent": {"id": "pi_3MmlLrLkdIwHu7ix0uke3Ezy", "object": "payment_intent"},
        "type": "card_error"
      }
    }"#;
    let server = Recorder::start(vec![
        Reply::json(402, body).header("request-id", "req_EVKLgTPSXmCoYy"),
    ])
    .await;
    let err = client(&server)
        .send::<(), Value>(
            Method::Post,
            "/v1/payment_intents/pi_3MmlLrLkdIwHu7ix0uke3Ezy/confirm",
            None,
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("expected an API error: {err:?}");
    };
    assert_eq!(api.status, 402);
    assert_eq!(api.error_type, ApiErrorType::CardError);
    assert_eq!(api.code.as_deref(), Some("card_declined"));
    assert_eq!(api.decline_code.as_deref(), Some("insufficient_funds"));
    assert_eq!(api.param, None);
    assert_eq!(
        api.message.as_deref(),
        Some("Your card has insufficient funds.")
    );
    assert_eq!(
        api.doc_url.as_deref(),
        Some("https://stripe.com/docs/error-codes/card-declined")
    );
    assert_eq!(api.request_id.as_deref(), Some("req_EVKLgTPSXmCoYy"));
    assert_eq!(api.method, Method::Post);
    assert_eq!(
        api.path,
        "/v1/payment_intents/pi_3MmlLrLkdIwHu7ix0uke3Ezy/confirm"
    );
    assert_eq!(server.requests().len(), 1, "402 is not retried");
}

#[tokio::test]
async fn invalid_request_error_with_param() {
    let body = r#"{
      "error": {
        "code": "parameter_invalid_integer",
        "doc_url": "https://stripe.com/docs/error-codes/parameter-invalid-integer",
        "message": "Invalid integer: abc",
        "param": "line_items[0][quantity]",
        "type": "invalid_request_error"
      }
    }"#;
    let server = Recorder::start(vec![Reply::json(400, body).header("request-id", "req_Q2")]).await;
    let err = client(&server)
        .send(
            Method::Post,
            "/v1/checkout/sessions",
            Some(&json!({"line_items": [{"quantity": "abc"}]})),
            &RequestOptions::new(),
        )
        .await
        .map(|_: Value| ())
        .unwrap_err();
    let api = err.api().expect("API error");
    assert_eq!(api.error_type, ApiErrorType::InvalidRequestError);
    assert_eq!(api.param.as_deref(), Some("line_items[0][quantity]"));
    assert_eq!(api.code.as_deref(), Some("parameter_invalid_integer"));
    assert_eq!(api.decline_code, None);
    assert_eq!(
        err.to_string(),
        "Stripe invalid_request_error (HTTP 400) on POST /v1/checkout/sessions \
         code=parameter_invalid_integer param=line_items[0][quantity]: \
         Invalid integer: abc (request req_Q2)"
    );
}

#[tokio::test]
async fn an_error_status_without_an_error_object_keeps_the_body() {
    let server = Recorder::start(vec![Reply {
        status: 404,
        headers: vec![("content-type", "text/html".to_owned())],
        body: "<html>not here</html>".to_owned(),
        delay: Duration::ZERO,
    }])
    .await;
    let err = client(&server)
        .send::<(), Value>(Method::Get, "/v1/nowhere", None, &RequestOptions::new())
        .await
        .unwrap_err();
    let Error::Status { status, body, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!((*status, body.as_str()), (404, "<html>not here</html>"));
}

#[tokio::test]
async fn an_undecodable_success_names_the_path_and_type() {
    let server = Recorder::start(vec![Reply::json(200, r#"{"object": "customer"}"#)]).await;
    let err = client(&server)
        .send::<(), Customer>(
            Method::Get,
            "/v1/customers/cus_1",
            None,
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();
    let Error::Decode { path, detail } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(path, "/v1/customers/cus_1");
    assert!(
        detail.contains("Customer") && detail.contains("missing field `id`"),
        "{detail}"
    );
}

#[tokio::test]
async fn unencodable_params_fail_before_anything_is_sent() {
    let server = Recorder::start(vec![]).await;
    let err = client(&server)
        .send::<_, Value>(
            Method::Post,
            "/v1/customers",
            Some(&BTreeMap::from([("balance", f64::NAN)])),
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Encode { path, source } if path == "/v1/customers" && source.key() == "balance"),
        "{err:?}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn bad_header_options_are_rejected() {
    let server = Recorder::start(vec![]).await;
    let err = client(&server)
        .send::<(), Value>(
            Method::Post,
            "/v1/customers",
            None,
            &RequestOptions::new().with_idempotency_key("line\nbreak"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidHeader {
                header: "Idempotency-Key",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn the_secret_key_never_shows_in_debug_output() {
    let builder = Client::builder(KEY).base_url("http://127.0.0.1:1");
    let client = builder.clone().build().unwrap();
    for text in [
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{client:#?}"),
    ] {
        assert!(!text.contains(KEY), "{text}");
        assert!(!text.contains("4eC39HqLyjWDarjtT1zdp7dc"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}

#[test]
fn the_builder_rejects_bad_settings() {
    for (key, url, setting) in [
        ("", "https://api.stripe.com", "secret_key"),
        ("sk_test_\n", "https://api.stripe.com", "secret_key"),
        (KEY, "not a url", "base_url"),
        (KEY, "ftp://example.com", "base_url"),
        (KEY, "http://127.0.0.1:1/?a=b", "base_url"),
    ] {
        let err = Client::builder(key).base_url(url).build().unwrap_err();
        assert!(
            matches!(&err, Error::Config { setting: s, .. } if *s == setting),
            "{key:?} {url:?}: {err:?}"
        );
        assert!(!err.to_string().contains("sk_test"), "{err}");
    }
    let client = Client::builder(KEY)
        .base_url("http://127.0.0.1:1/")
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:1");
    assert_eq!(
        Client::new(KEY).unwrap().base_url(),
        "https://api.stripe.com"
    );
}

fn customer_page(ids: &[&str], has_more: bool) -> Reply {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "object": "customer", "email": null, "metadata": {}}))
        .collect();
    Reply::json(
        200,
        json!({"object": "list", "url": "/v1/customers", "has_more": has_more, "data": data})
            .to_string(),
    )
}

#[derive(Clone, Serialize)]
struct ListCustomers {
    limit: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

#[tokio::test]
async fn paginates_across_three_pages_with_starting_after() {
    let server = Recorder::start(vec![
        customer_page(&["cus_1", "cus_2"], true),
        customer_page(&["cus_3", "cus_4"], true),
        customer_page(&["cus_5"], false),
    ])
    .await;
    let stream = client(&server).paginate::<_, Customer>(
        "/v1/customers",
        ListCustomers {
            limit: 2,
            email: Some("a@example.com".to_owned()),
        },
        RequestOptions::new().with_expand("data.default_source"),
    );
    // The stream owns what it needs: it runs on another task.
    let ids = tokio::spawn(async move {
        stream
            .map_ok(|customer| customer.id)
            .try_collect::<Vec<_>>()
            .await
    })
    .await
    .unwrap()
    .expect("all pages");
    assert_eq!(ids, ["cus_1", "cus_2", "cus_3", "cus_4", "cus_5"]);

    let queries: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| {
            assert_eq!(
                (r.method.as_str(), r.path.as_str()),
                ("GET", "/v1/customers")
            );
            r.query.unwrap()
        })
        .collect();
    assert_eq!(
        queries,
        [
            "limit=2&email=a%40example.com&expand[0]=data.default_source",
            "limit=2&email=a%40example.com&expand[0]=data.default_source&starting_after=cus_2",
            "limit=2&email=a%40example.com&expand[0]=data.default_source&starting_after=cus_4",
        ]
    );
}

#[tokio::test]
async fn a_caller_starting_after_is_replaced_by_the_cursor() {
    let server = Recorder::start(vec![
        customer_page(&["cus_8"], true),
        customer_page(&["cus_9"], false),
    ])
    .await;
    let items: Vec<Value> = client(&server)
        .paginate(
            "/v1/customers",
            json!({"limit": 1, "starting_after": "cus_7"}),
            RequestOptions::new(),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    let queries: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| r.query.unwrap())
        .collect();
    assert_eq!(
        queries,
        [
            "limit=1&starting_after=cus_7",
            "limit=1&starting_after=cus_8"
        ]
    );
}

#[tokio::test]
async fn ending_before_paginates_backward() {
    let server = Recorder::start(vec![
        customer_page(&["cus_5", "cus_6"], true),
        customer_page(&["cus_3", "cus_4"], false),
    ])
    .await;
    let items: Vec<Value> = client(&server)
        .paginate(
            "/v1/customers",
            json!({"ending_before": "cus_7", "limit": 2}),
            RequestOptions::new(),
        )
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = items.iter().map(Identified::id).collect();
    assert_eq!(ids, ["cus_5", "cus_6", "cus_3", "cus_4"]);
    let queries: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| r.query.unwrap())
        .collect();
    assert_eq!(
        queries,
        ["ending_before=cus_7&limit=2", "limit=2&ending_before=cus_5"]
    );
}

#[tokio::test]
async fn pagination_yields_the_error_and_stops() {
    let server = Recorder::start(vec![
        customer_page(&["cus_1"], true),
        Reply::error(400, "invalid_request_error"),
        customer_page(&["cus_2"], false),
    ])
    .await;
    let results: Vec<Result<Customer, Error>> = client(&server)
        .paginate("/v1/customers", json!({"limit": 1}), RequestOptions::new())
        .collect()
        .await;
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].as_ref().unwrap().id, "cus_1");
    assert_eq!(results[1].as_ref().unwrap_err().status(), Some(400));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn an_empty_list_yields_nothing() {
    let server = Recorder::start(vec![customer_page(&[], false)]).await;
    let items: Vec<Value> = client(&server)
        .paginate("/v1/customers", json!({}), RequestOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert!(items.is_empty());
    assert_eq!(server.single().query, None);
}

#[tokio::test]
async fn pagination_reports_unencodable_params_as_its_first_item() {
    let server = Recorder::start(vec![]).await;
    let results: Vec<Result<Value, Error>> = client(&server)
        .paginate("/v1/customers", vec![1, 2], RequestOptions::new())
        .collect()
        .await;
    assert_eq!(results.len(), 1);
    assert!(
        matches!(results[0], Err(Error::Encode { .. })),
        "{results:?}"
    );
    assert!(server.requests().is_empty());
}
