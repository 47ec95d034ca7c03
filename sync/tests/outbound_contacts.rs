//! The Contact → Stripe customer poller against the simulated org (in process) and localstripe
//! (`LOCALSTRIPE_URL`, or started by `tests/peers/localstripe.sh`; the tests fail, saying why,
//! when it cannot be had).
//!
//! The poller talks to localstripe through a small recording proxy in this file, which counts
//! the Stripe calls and the customers actually created, and answers a POST whose
//! Idempotency-Key it has already seen with the first answer, as Stripe does (localstripe
//! 1.15.10 ignores the header).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sfdc_sim::{SimConfig, Simulator};
use sfdc_types::Contact;
use stripe_sfdc_sync::outbound::{
    ContactPoller, Cursor, Cursors, OutboundConfig, PollReport, create_idempotency_key,
};
use stripe_sfdc_sync::salesforce::{Client as SalesforceClient, Credentials};
use stripe_sfdc_sync::sqlite::SqliteStore;
use stripe_types::client::{Client as StripeClient, RequestOptions, RetryPolicy};
use tokio::task::JoinHandle;

/// localstripe accepts any key that starts with `sk_` and is longer than five characters.
const STRIPE_KEY: &str = "sk_test_outbound";

/// localstripe's base URL: `LOCALSTRIPE_URL`, or one started for this test process.
fn localstripe() -> &'static str {
    static URL: OnceLock<Result<String, String>> = OnceLock::new();
    let url = URL.get_or_init(|| match std::env::var("LOCALSTRIPE_URL") {
        Ok(url) if !url.trim().is_empty() => Ok(url.trim().to_owned()),
        _ => {
            let script =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/localstripe.sh");
            let output = Command::new("bash")
                .arg(&script)
                .env("LOCALSTRIPE_EXIT_WITH_PID", std::process::id().to_string())
                .output()
                .map_err(|e| format!("{} could not be run: {e}", script.display()))?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            let url = stdout.lines().last().unwrap_or_default().trim().to_owned();
            if output.status.success() && url.starts_with("http://127.0.0.1:") {
                Ok(url)
            } else {
                Err(format!(
                    "{} failed ({}): {}{}",
                    script.display(),
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim(),
                    stdout.trim()
                ))
            }
        }
    });
    match url {
        Ok(url) => url,
        Err(why) => panic!("localstripe is required for these tests and {why}"),
    }
}

/// What the proxy saw.
#[derive(Debug, Default)]
struct Seen {
    /// Idempotency-Key of every `POST /v1/customers`, replayed ones included.
    create_keys: Vec<String>,
    /// Customers localstripe created.
    created: Vec<String>,
    /// `POST /v1/customers/{id}` forwarded.
    updates: usize,
    /// POSTs answered from the idempotency cache.
    replayed: usize,
    /// Customer creates still to answer with 429 (`Retry-After: 1`) instead of forwarding.
    throttle: usize,
    /// Customer creates answered with 429.
    throttled: usize,
    /// First answer per Idempotency-Key.
    answers: HashMap<String, (u16, Bytes)>,
}

/// The proxy's shared state.
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    seen: Mutex<Seen>,
}

/// A recording proxy in front of localstripe.
struct StripeProxy {
    url: String,
    state: Arc<ProxyState>,
    task: JoinHandle<()>,
}

impl StripeProxy {
    async fn start() -> StripeProxy {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let state = Arc::new(ProxyState {
            upstream: localstripe().to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("the proxy's HTTP client builds"),
            seen: Mutex::new(Seen::default()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy binds");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let router = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("the proxy serves");
        });
        StripeProxy { url, state, task }
    }

    fn seen<T>(&self, read: impl FnOnce(&Seen) -> T) -> T {
        read(
            &self
                .state
                .seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Customers localstripe created through this proxy.
    fn created(&self) -> Vec<String> {
        self.seen(|seen| seen.created.clone())
    }

    /// `POST /v1/customers/{id}` forwarded.
    fn updates(&self) -> usize {
        self.seen(|seen| seen.updates)
    }

    /// Answers the next `count` customer creates with 429.
    fn throttle(&self, count: usize) {
        self.state
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .throttle = count;
    }

    /// A Stripe client through the proxy (what the poller uses).
    fn client(&self) -> StripeClient {
        self.client_with(RetryPolicy {
            max_retries: 2,
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(200),
            ..RetryPolicy::default()
        })
    }

    /// A Stripe client through the proxy, retrying per `retry`.
    fn client_with(&self, retry: RetryPolicy) -> StripeClient {
        StripeClient::builder(STRIPE_KEY)
            .base_url(&self.url)
            .timeout(Duration::from_secs(30))
            .retry_policy(retry)
            .build()
            .expect("the Stripe client builds")
    }
}

impl Drop for StripeProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    State(state): State<Arc<ProxyState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let path_and_query = uri
        .path_and_query()
        .map_or(path.clone(), |p| p.as_str().to_owned());
    let post = method == Method::POST;
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    {
        let mut seen = state.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if post && path == "/v1/customers" {
            seen.create_keys.push(key.clone().unwrap_or_default());
            if seen.throttle > 0 {
                seen.throttle -= 1;
                seen.throttled += 1;
                let error = json!({"error": {
                    "type": "invalid_request_error",
                    "code": "rate_limit",
                    "message": "Too many requests hit the API too quickly.",
                }});
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "1")],
                    axum::Json(error),
                )
                    .into_response();
            }
        }
        if post
            && let Some(key) = &key
            && let Some((status, answer)) = seen.answers.get(key).cloned()
        {
            seen.replayed += 1;
            return reply(status, answer);
        }
    }
    let mut request = state.http.request(
        reqwest::Method::from_bytes(method.as_str().as_bytes()).expect("an HTTP method"),
        format!("{}{path_and_query}", state.upstream),
    );
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    if let Some(version) = headers.get("stripe-version") {
        request = request.header("stripe-version", version.as_bytes());
    }
    let (status, answer) = match request.body(body.to_vec()).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(answer) => (status, answer),
                Err(error) => (502, Bytes::from(error.to_string())),
            }
        }
        Err(error) => (502, Bytes::from(error.to_string())),
    };
    let mut seen = state.seen.lock().unwrap_or_else(PoisonError::into_inner);
    if post && (200..300).contains(&status) {
        if path == "/v1/customers" {
            let created: Value = serde_json::from_slice(&answer).unwrap_or_default();
            if let Some(id) = created["id"].as_str() {
                seen.created.push(id.to_owned());
            }
        } else if path.starts_with("/v1/customers/") {
            seen.updates += 1;
        }
        if let Some(key) = key {
            seen.answers.insert(key, (status, answer.clone()));
        }
    }
    reply(status, answer)
}

fn reply(status: u16, body: Bytes) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// The customer as localstripe has it (read directly, not through the proxy).
async fn customer(id: &str) -> Value {
    let client = StripeClient::builder(STRIPE_KEY)
        .base_url(localstripe())
        .build()
        .expect("the Stripe client builds");
    client
        .send::<(), Value>(
            stripe_types::client::Method::Get,
            &format!("/v1/customers/{id}"),
            None,
            &RequestOptions::new(),
        )
        .await
        .expect("the customer is in localstripe")
}

/// Everything one test needs.
struct Setup {
    _dir: tempfile::TempDir,
    path: PathBuf,
    sim: Simulator,
    proxy: StripeProxy,
}

impl Setup {
    async fn start() -> Setup {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("sync.db");
        let sim = Simulator::start(SimConfig::default())
            .await
            .expect("the simulator starts");
        let proxy = StripeProxy::start().await;
        Setup {
            _dir: dir,
            path,
            sim,
            proxy,
        }
    }

    fn salesforce(&self) -> SalesforceClient {
        SalesforceClient::builder(
            self.sim.url(),
            Credentials::client_credentials("test-client", "test-secret"),
        )
        .build()
        .expect("the Salesforce client builds")
    }

    /// A poller on a freshly opened store (the same file each time).
    fn poller(&self, config: OutboundConfig) -> ContactPoller<SqliteStore> {
        self.poller_with(config, self.proxy.client())
    }

    /// A poller calling Stripe with `stripe`, on a freshly opened store.
    fn poller_with(
        &self,
        config: OutboundConfig,
        stripe: StripeClient,
    ) -> ContactPoller<SqliteStore> {
        let store = Arc::new(SqliteStore::open(&self.path).expect("the store opens"));
        ContactPoller::new(self.salesforce(), stripe, store, config)
    }

    fn insert_contact(&self, last_name: &str, email: Option<&str>, phone: Option<&str>) -> String {
        let mut record = Map::new();
        record.insert("FirstName".into(), json!("Grace"));
        record.insert("LastName".into(), json!(last_name));
        if let Some(email) = email {
            record.insert("Email".into(), json!(email));
        }
        if let Some(phone) = phone {
            record.insert("Phone".into(), json!(phone));
        }
        self.sim
            .insert_record("Contact", record)
            .expect("the Contact is created")
    }

    fn record(&self, object: &str, id: &str) -> Map<String, Value> {
        self.sim
            .records(object)
            .into_iter()
            .find(|record| record["Id"] == id)
            .unwrap_or_else(|| panic!("no {object} {id}"))
    }

    fn contact_customer(&self, id: &str) -> Option<String> {
        self.record("Contact", id)
            .get("Stripe_Customer_ID__c")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
}

/// Settings for tests that call `run_once` right after a change: no settle time.
fn immediate() -> OutboundConfig {
    OutboundConfig {
        settle: Duration::ZERO,
        interval: Duration::from_millis(100),
        ..OutboundConfig::default()
    }
}

/// One poll, a moment after the last change: the simulated org hands out a SystemModstamp a
/// millisecond after the previous one when writes come faster than its clock, so the stamps of
/// a burst of writes can be a little ahead of now.
async fn poll(poller: &ContactPoller<SqliteStore>) -> PollReport {
    tokio::time::sleep(Duration::from_millis(100)).await;
    poller.run_once().await.expect("the poll succeeds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_with_an_email_gets_one_customer_written_back() {
    let setup = Setup::start().await;
    let id = setup.insert_contact("Hopper", Some("grace@example.com"), Some("+1 555 0100"));
    let poller = setup.poller(immediate());

    let report = poll(&poller).await;
    assert_eq!(report.created, 1, "{report:?}");
    let created = setup.proxy.created();
    assert_eq!(created.len(), 1);
    let customer_id = &created[0];
    assert_eq!(
        setup.proxy.seen(|seen| seen.create_keys.clone()),
        [format!("sfdc-contact-create-{id}")]
    );

    let customer = customer(customer_id).await;
    assert_eq!(customer["name"], "Grace Hopper");
    assert_eq!(customer["email"], "grace@example.com");
    assert_eq!(customer["phone"], "+1 555 0100");
    assert_eq!(customer["metadata"]["salesforce_contact_id"], id.as_str());

    assert_eq!(
        setup.contact_customer(&id).as_deref(),
        Some(customer_id.as_str())
    );
    let records = setup.sim.records("Stripe_Customer__c");
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record["Stripe_Customer_ID__c"], customer_id.as_str());
    assert_eq!(record["Contact__c"], id.as_str());
    assert_eq!(record["Name"], "Grace Hopper");
    assert_eq!(record["Customer_Name__c"], "Grace Hopper");
    assert_eq!(record["Email__c"], "grace@example.com");
    assert_eq!(record["Phone__c"], "+1 555 0100");
    assert_eq!(record["Sync_Status__c"], "Synced");

    // The write-back changed the Contact: the next poll sees it, and calls Stripe no more.
    let report = poll(&poller).await;
    assert_eq!(
        report,
        PollReport {
            seen: 1,
            unchanged: 1,
            ..PollReport::default()
        }
    );
    let stats = poller.stats();
    assert_eq!(stats.stripe_calls, 1);
    assert_eq!(stats.polls, 2);
    assert_eq!(setup.proxy.created().len(), 1);
    assert_eq!(setup.proxy.updates(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_without_an_email_gets_nothing() {
    let setup = Setup::start().await;
    let id = setup.insert_contact("Lovelace", None, Some("+44 20 0000"));
    let poller = setup.poller(immediate());

    let report = poll(&poller).await;
    assert_eq!(
        report,
        PollReport {
            seen: 1,
            without_email: 1,
            ..PollReport::default()
        }
    );
    assert_eq!(poller.stats().stripe_calls, 0);
    assert!(setup.proxy.created().is_empty());
    assert_eq!(setup.contact_customer(&id), None);
    assert!(setup.sim.records("Stripe_Customer__c").is_empty());
    // The cursor moved past it: the next poll reads nothing.
    assert_eq!(poll(&poller).await.seen, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_repeated_before_the_write_back_makes_one_customer() {
    let setup = Setup::start().await;
    let id = setup.insert_contact("Turing", Some("alan@example.com"), None);
    let poller = setup.poller(immediate());
    let contact: Contact = setup
        .salesforce()
        .get(&id, &["Id", "Name", "Email", "Phone"])
        .await
        .expect("the Contact reads");

    // A crash between the Stripe call and the write-back, twice over: the same key each time.
    let first = poller.create_customer(&contact).await.expect("created");
    let second = poller
        .create_customer(&contact)
        .await
        .expect("created again");
    assert_eq!(first, second);
    // Then the poll, which knows nothing of those calls, creates once more: same customer.
    let report = poll(&poller).await;
    assert_eq!(report.created, 1, "{report:?}");
    assert_eq!(setup.contact_customer(&id).as_deref(), Some(first.as_str()));

    let key = create_idempotency_key(&id);
    assert_eq!(
        setup.proxy.seen(|seen| seen.create_keys.clone()),
        [key.clone(), key.clone(), key]
    );
    assert_eq!(setup.proxy.created(), [first]);
    assert_eq!(setup.proxy.seen(|seen| seen.replayed), 2);
    assert_eq!(setup.sim.records("Stripe_Customer__c").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_contacts_have_customers_within_thirty_seconds() {
    let setup = Setup::start().await;
    let poller = Arc::new(setup.poller(OutboundConfig::default()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let poller = Arc::clone(&poller);
        tokio::spawn(async move {
            poller
                .run(async {
                    let _ = stopped.await;
                })
                .await;
        })
    };

    let started = Instant::now();
    let ids: Vec<String> = (0..200)
        .map(|n| {
            setup.insert_contact(
                &format!("Rep{n:03}"),
                Some(&format!("rep{n:03}@example.com")),
                Some(&format!("+1 555 {n:04}")),
            )
        })
        .collect();
    let deadline = started + Duration::from_secs(30);
    let elapsed = loop {
        let linked = setup
            .sim
            .records("Contact")
            .iter()
            .filter(|record| record.get("Stripe_Customer_ID__c").is_some())
            .count();
        if linked == ids.len() {
            break started.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "only {linked} of 200 Contacts have a customer after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!("200 Contacts → 200 Stripe customers in {elapsed:?}");
    let _ = stop.send(());
    running.await.expect("the poller stops");

    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    let created = setup.proxy.created();
    assert_eq!(created.len(), 200, "one customer per Contact");
    assert_eq!(created.iter().collect::<HashSet<_>>().len(), 200);
    let keys: HashSet<String> = setup
        .proxy
        .seen(|seen| seen.create_keys.iter().cloned().collect());
    let expected: HashSet<String> = ids.iter().map(|id| create_idempotency_key(id)).collect();
    assert_eq!(keys, expected);
    assert_eq!(setup.proxy.updates(), 0);
    let stats = poller.stats();
    assert_eq!(stats.stripe_calls, 200, "{stats:?}");
    assert_eq!(stats.totals.created, 200, "{stats:?}");
    assert_eq!(setup.sim.records("Stripe_Customer__c").len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_changed_while_the_poller_was_down_are_picked_up_on_restart() {
    let setup = Setup::start().await;
    let config = OutboundConfig {
        page_size: 7,
        ..immediate()
    };
    let early: Vec<String> = (0..3)
        .map(|n| {
            setup.insert_contact(
                &format!("Early{n}"),
                Some(&format!("early{n}@example.com")),
                None,
            )
        })
        .collect();
    {
        let poller = setup.poller(config.clone());
        let report = poll(&poller).await;
        assert_eq!(report.created, 3, "{report:?}");
    }
    let store = SqliteStore::open(&setup.path).expect("the store opens");
    let saved = store
        .cursor("contacts")
        .await
        .expect("the cursor reads")
        .expect("a cursor was saved");

    // Down: 50 Contacts created as fast as the org takes them, and an early one changed.
    let late: Vec<String> = (0..50)
        .map(|n| {
            setup.insert_contact(
                &format!("Late{n:02}"),
                Some(&format!("late{n:02}@example.com")),
                None,
            )
        })
        .collect();
    setup
        .salesforce()
        .update_json(
            "Contact",
            &early[0],
            &json!({"Email": "early0-new@example.com"}),
        )
        .await
        .expect("the Contact is updated");

    // A new poller on the same file starts from the saved cursor.
    let poller = setup.poller(config);
    let report = poll(&poller).await;
    assert_eq!(report.created, 50, "{report:?}");
    assert_eq!(report.updated, 1, "{report:?}");
    // Pages of 7 until caught up: 50 new, the changed one and the write-backs of the first poll.
    assert_eq!(report.seen, 53, "{report:?}");
    for id in &late {
        assert!(
            setup.contact_customer(id).is_some(),
            "Contact {id} has no customer"
        );
    }
    assert_eq!(setup.proxy.created().len(), 53);
    assert_eq!(setup.proxy.updates(), 1);
    let now = store
        .cursor("contacts")
        .await
        .expect("the cursor reads")
        .expect("a cursor");
    assert!(now.modstamp > saved.modstamp, "{now} after {saved}");
    // Caught up: only the echoes of its own write-backs are left, and they cost no Stripe call.
    let calls = poller.stats().stripe_calls;
    let report = poll(&poller).await;
    assert_eq!(report.created + report.updated, 0, "{report:?}");
    assert_eq!(poller.stats().stripe_calls, calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_email_updates_the_customer_once_and_a_resave_calls_stripe_not_at_all() {
    let setup = Setup::start().await;
    let id = setup.insert_contact("Hamilton", Some("margaret@example.com"), None);
    let poller = setup.poller(immediate());
    poll(&poller).await;
    poll(&poller).await;
    let customer_id = setup.contact_customer(&id).expect("a customer");
    assert_eq!(poller.stats().stripe_calls, 1);
    let salesforce = setup.salesforce();

    // A re-save with the same values (and an unrelated field changed) bumps SystemModstamp.
    let before = setup.record("Contact", &id)["SystemModstamp"].clone();
    salesforce
        .update_json(
            "Contact",
            &id,
            &json!({"Email": "margaret@example.com", "Title": "Director"}),
        )
        .await
        .expect("the Contact is saved");
    assert_ne!(setup.record("Contact", &id)["SystemModstamp"], before);
    let report = poll(&poller).await;
    assert_eq!(
        report,
        PollReport {
            seen: 1,
            unchanged: 1,
            ..PollReport::default()
        }
    );
    assert_eq!(poller.stats().stripe_calls, 1);
    assert_eq!(setup.proxy.updates(), 0);

    // A new email: one update, then nothing more.
    salesforce
        .update_json(
            "Contact",
            &id,
            &json!({"Email": "margaret@nasa.example.com"}),
        )
        .await
        .expect("the Contact is updated");
    let report = poll(&poller).await;
    assert_eq!(report.updated, 1, "{report:?}");
    for _ in 0..2 {
        let report = poll(&poller).await;
        assert_eq!(report.updated, 0, "{report:?}");
    }
    assert_eq!(poller.stats().stripe_calls, 2);
    assert_eq!(setup.proxy.updates(), 1);
    assert_eq!(setup.proxy.created(), std::slice::from_ref(&customer_id));
    assert_eq!(
        customer(&customer_id).await["email"],
        "margaret@nasa.example.com"
    );
    let records = setup.sim.records("Stripe_Customer__c");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["Email__c"], "margaret@nasa.example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_create_is_retried_and_never_skipped() {
    let setup = Setup::start().await;
    let ids: Vec<String> = (0..5)
        .map(|n| {
            setup.insert_contact(
                &format!("Busy{n}"),
                Some(&format!("busy{n}@example.com")),
                None,
            )
        })
        .collect();

    // Stripe says 429 twice: the client waits the Retry-After and tries again.
    setup.proxy.throttle(2);
    let poller = setup.poller(immediate());
    let report = poll(&poller).await;
    assert_eq!(report.created, 5, "{report:?}");
    assert_eq!(setup.proxy.seen(|seen| seen.throttled), 2);
    assert_eq!(setup.proxy.created().len(), 5);
    for id in &ids {
        assert!(
            setup.contact_customer(id).is_some(),
            "Contact {id} has no customer"
        );
    }

    // A 429 that outlasts the retries stops the poll before the Contact, which the next poll
    // then does: the cursor never moves past a Contact that was not handled.
    let late = setup.insert_contact("Late", Some("late@example.com"), None);
    setup.proxy.throttle(1);
    let poller = setup.poller_with(immediate(), setup.proxy.client_with(RetryPolicy::none()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let error = poller
        .run_once()
        .await
        .expect_err("the throttled poll fails");
    assert!(error.is_retryable(), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("429") && message.contains(&late),
        "{message}"
    );
    assert!(!message.contains("late@example.com"), "{message}");
    assert_eq!(setup.contact_customer(&late), None);
    let report = poll(&poller).await;
    assert_eq!(report.created, 1, "{report:?}");
    assert!(setup.contact_customer(&late).is_some());
    assert_eq!(setup.proxy.created().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_sharing_the_cursors_millisecond_are_read_after_its_id() {
    // The simulated org never stamps two writes in one millisecond, so the cursor is placed
    // as a poller that stopped inside such a run would have left it: on B's SystemModstamp
    // with an Id that sorts before B's.
    let setup = Setup::start().await;
    let first = setup.insert_contact("Before", None, None);
    let second = setup.insert_contact("Tied", None, None);
    let stamp = setup.record("Contact", &second)["SystemModstamp"]
        .as_str()
        .map(|text| sfdc_types::format::parse_datetime(text).expect("a datetime"))
        .expect("a SystemModstamp");
    let store = SqliteStore::open(&setup.path).expect("the store opens");
    let lower = Cursor {
        modstamp: stamp,
        id: "000000000000000AAA".to_owned(),
    };
    store
        .save_cursor("contacts", &lower)
        .await
        .expect("the cursor saves");

    let poller = setup.poller(immediate());
    let report = poll(&poller).await;
    assert_eq!(
        report.seen, 1,
        "only the tied Contact, not {first}: {report:?}"
    );
    let saved = store.cursor("contacts").await.expect("reads");
    assert_eq!(
        saved,
        Some(Cursor {
            modstamp: stamp,
            id: second.clone(),
        })
    );
    assert_eq!(poll(&poller).await.seen, 0);

    // A cursor at the same millisecond with a higher Id has the record behind it.
    store
        .save_cursor(
            "contacts",
            &Cursor {
                modstamp: stamp,
                id: "zzzzzzzzzzzzzzzzzz".to_owned(),
            },
        )
        .await
        .expect("the cursor saves");
    assert_eq!(poll(&poller).await.seen, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_can_skip_the_contacts_already_there() {
    let setup = Setup::start().await;
    let old = setup.insert_contact("Existing", Some("existing@example.com"), None);
    let stamp = setup.record("Contact", &old)["SystemModstamp"]
        .as_str()
        .map(|text| sfdc_types::format::parse_datetime(text).expect("a datetime"))
        .expect("a SystemModstamp");
    let new = setup.insert_contact("New", Some("new@example.com"), None);

    let poller = setup.poller(OutboundConfig {
        start_after: Some(stamp),
        ..immediate()
    });
    let report = poll(&poller).await;
    assert_eq!(report.created, 1, "{report:?}");
    assert_eq!(setup.contact_customer(&old), None);
    assert!(setup.contact_customer(&new).is_some());
}
