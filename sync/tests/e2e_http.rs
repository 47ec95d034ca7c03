//! The real `stripe-sfdc-sync` binary end to end over HTTP: signed Stripe events POSTed to its
//! receiver, processed by its worker into the simulated Salesforce org (`sfdc_sim`, in this
//! process), and the records there asserted field by field. Also: every event delivered three
//! times, a bad signature, and processes killed with SIGKILL after answering 200 (receiver only,
//! and `serve` with processing in flight) then restarted on the same database.
//!
//! Waits are deadline-based polls (low-priority records and the audit trail may be written
//! through Bulk API 2.0 after a flush age), never fixed sleeps.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use sfdc_sim::{Fault, FaultKind, SimConfig, Simulator};
use stripe_sfdc_sync::config::{CONFIG_ENV, SETTINGS};
use stripe_sfdc_sync::priority::HANDLED_EVENTS;
use stripe_sfdc_sync::queue::Queue as _;
use stripe_sfdc_sync::signature::sign;
use stripe_sfdc_sync::sqlite::{SqliteQueue, SqliteStore};
use stripe_sfdc_sync::store::{Claim, DeadLetters as _, Ledger as _, Outcome};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const BIN: &str = env!("CARGO_BIN_EXE_stripe-sfdc-sync");
const SECRET: &str = "whsec_e2e_http_secret";
/// How long any one expected state may take to appear.
const DEADLINE: Duration = Duration::from_secs(60);
/// How often the simulator and the process are polled.
const POLL: Duration = Duration::from_millis(100);

const AUDIT: &str = "Stripe_Webhook_Event__c";
const CUSTOMER: &str = "Stripe_Customer__c";
const SUBSCRIPTION: &str = "Stripe_Subscription__c";
const INVOICE: &str = "Stripe_Invoice__c";
const PAYMENT: &str = "Payment_Transaction__c";
const PLAN: &str = "Pricing_Plan__c";
const TIER: &str = "Pricing_Tier__c";

const CUSTOMER_KEY: &str = "Stripe_Customer_ID__c";
const SUBSCRIPTION_KEY: &str = "Stripe_Subscription_ID__c";
const CHECKOUT_KEY: &str = "Stripe_Checkout_Session_ID__c";
const INVOICE_KEY: &str = "Stripe_Invoice_ID__c";
const PAYMENT_KEY: &str = "Stripe_Payment_Intent_ID__c";
const PLAN_KEY: &str = "Stripe_Price_ID__c";
const TIER_KEY: &str = "Tier_Key__c";
const AUDIT_KEY: &str = "Stripe_Event_ID__c";

/// The one customer every fixture is rewritten to (but `customer.deleted`'s own).
const CUS: &str = "cus_NffrFeUfNV2Hib";
/// The deleted customer of `customer.deleted`.
const DELETED_CUS: &str = "cus_NgVWqBQDxjwp5P";
/// The subscription of the created / updated / deleted events and of the invoices.
const SUB: &str = "sub_1MtHbELkdIwHu7ixBlzS5ZNM";
/// The subscription of the paused / resumed events.
const PAUSED_SUB: &str = "sub_1Mqzm9LkdIwHu7ixd0WYPcLz";
/// The per-unit price of `price.created` (rewritten) and of the subscription.
const PRICE: &str = "price_1MowQULkdIwHu7ixraBm864M";
/// The tiered price of `price.updated` and (rewritten) of the paused subscription.
const TIERED: &str = "price_1MqFvhLkdIwHu7ixPGXVmGXd";
const COMPLETED_CS: &str = "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u";
const EXPIRED_CS: &str = "cs_test_b1ZHkBjpKWKuWGKDNvq5Kn0C8i5ZzxA9cJGePQs9fuKfBmXJ2iLP6MWGIY";
const FINALIZED_IN: &str = "in_1MtHbELkdIwHu7ixl4OzzPMv";
const PAID_IN: &str = "in_1N4pFsLkdIwHu7ixM6ZKrW5t";
const BHD_IN: &str = "in_1N5qTbLkdIwHu7ixcBhdPz7A";
const FAILED_IN: &str = "in_1NDBW6LkdIwHu7ixNhMyDMxF";
/// The fixtures' Contact id, replaced by a Contact created in the simulator.
const FIXTURE_CONTACT: &str = "003Dn00000A1b2CIAR";
/// A short worker lease (the pull lease is this plus the Bulk flush age).
const SHORT_LEASE: (&str, &str) = ("SYNC_WORKER_LEASE_SECS", "5");
/// The lease of a process that is killed: its leases and claims run out within the test, with
/// room for a Bulk flush of the restarted process (see the short-lease test's product bug).
const KILL_LEASE: (&str, &str) = ("SYNC_WORKER_LEASE_SECS", "10");

// ---------------------------------------------------------------------------------------------
// The process.

/// The binary with no setting inherited from the environment.
fn command() -> Command {
    let mut command = Command::new(BIN);
    for setting in SETTINGS {
        command.env_remove(setting.env);
    }
    command
        .env_remove(CONFIG_ENV)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env("RUST_LOG", "info");
    command
}

/// A free loopback port (bound, read and released).
fn free_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address")
}

/// One run of the binary; killed (SIGKILL) and reaped when dropped.
struct Process {
    child: Option<Child>,
    address: SocketAddr,
    log: PathBuf,
}

impl Process {
    /// Starts `stripe-sfdc-sync <mode>` on `database`, logging to `log`, with Salesforce at
    /// `sim_url` and the `extra` environment variables.
    fn start(
        mode: &str,
        database: &Path,
        sim_url: &str,
        log: PathBuf,
        extra: &[(&str, &str)],
    ) -> Process {
        let address = free_address();
        let file = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .expect("the log file opens");
        let mut command = command();
        command
            .env("SYNC_DATABASE", database)
            .env("SYNC_LISTEN", address.to_string())
            .env("SYNC_LOG_FORMAT", "text")
            .env("STRIPE_WEBHOOK_SECRETS", SECRET)
            .env("STRIPE_LIVEMODE", "false")
            .env("SALESFORCE_LOGIN_URL", sim_url)
            .env("SALESFORCE_AUTH_FLOW", "client_credentials")
            .env("SALESFORCE_CLIENT_ID", "test-client")
            .env("SALESFORCE_CLIENT_SECRET", "test-secret")
            // Low-priority records through Bulk API 2.0 after a flush age (ignored by a worker
            // that does not know these settings yet).
            .env("SYNC_BULK_FLUSH_SECS", "1")
            .env("SYNC_BULK_FLUSH_RECORDS", "500");
        for (name, value) in extra {
            command.env(name, value);
        }
        let child = command
            .arg(mode)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .spawn()
            .expect("the binary starts");
        Process {
            child: Some(child),
            address,
            log,
        }
    }

    /// The process's log so far.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the log if the process has exited.
    fn assert_running(&mut self) {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait().expect("poll the child")
        {
            panic!("the process exited early: {status}\n{}", self.log());
        }
    }

    /// Waits until `/health/live` answers 200.
    async fn wait_live(&mut self) {
        let start = Instant::now();
        loop {
            if let Ok((200, _)) = http(self.address, "GET", "/health/live", &[], "").await {
                return;
            }
            self.assert_running();
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "never live:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, then reap.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the process");
            child.wait().expect("reap the process");
        }
    }

    /// SIGTERM, then waits for a clean exit.
    async fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("poll the child") {
                assert!(status.success(), "exit {status}:\n{}", self.log());
                return;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no exit within 20 s of SIGTERM:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Posts `body` signed with `secret` now; the status and the answer.
    async fn post_signed(&self, secret: &str, body: &str) -> (u16, String) {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let signature = sign(secret, now, body.as_bytes());
        http(
            self.address,
            "POST",
            "/webhook/stripe",
            &[
                ("Content-Type", "application/json"),
                ("Stripe-Signature", &signature),
            ],
            body,
        )
        .await
        .expect("the receiver answers")
    }

    /// Delivers `event` as Stripe does, expecting 200.
    async fn deliver(&self, event: &Value) {
        let body = serde_json::to_string(event).expect("JSON");
        let (status, answer) = self.post_signed(SECRET, &body).await;
        assert_eq!(
            status,
            200,
            "{} ({}): {answer}\n{}",
            event["id"],
            event["type"],
            self.log()
        );
    }

    /// A gauge or counter sample of `/metrics` (the first line starting with `name`).
    async fn metric(&self, name: &str) -> Option<f64> {
        let (status, text) = http(self.address, "GET", "/metrics", &[], "").await.ok()?;
        if status != 200 {
            return None;
        }
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    /// Waits until the queue (as `/metrics` reports it) is empty.
    async fn wait_drained(&mut self) {
        let start = Instant::now();
        loop {
            if self.metric("queue_depth").await == Some(0.0) {
                return;
            }
            self.assert_running();
            assert!(
                start.elapsed() < DEADLINE,
                "the queue never drained:\n{}",
                self.log()
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One HTTP/1.1 request on a blocking thread; the status code and the body.
async fn http(
    address: SocketAddr,
    method: &'static str,
    path: &'static str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        Ok((status, body))
    })
    .await
    .expect("the request thread joins")
}

// ---------------------------------------------------------------------------------------------
// Events.

/// A fixture event with ids made consistent across fixtures: one customer, the subscription of
/// the invoices, prices that exist; the Contact is `contact` (or none, without metadata).
fn fixture(name: &str, contact: Option<&str>) -> Value {
    let path = format!(
        "{}/tests/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = std::fs::read_to_string(&path).expect("the fixture exists");
    for (from, to) in [
        ("cus_Na6dX7aXxi11N4", CUS),
        ("cus_NeZwdNtLEOXuvB", CUS),
        ("sub_1MowQVLkdIwHu7ixeRlqHVzs", SUB),
        ("price_1MoBy5LkdIwHu7ixZhnattbh", PRICE),
        ("price_1MqzlhLkdIwHu7ixFq4Bf9jL", TIERED),
    ] {
        text = text.replace(from, to);
    }
    if let Some(contact) = contact {
        text = text.replace(FIXTURE_CONTACT, contact);
    }
    let mut event: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    if contact.is_none()
        && let Some(metadata) = event["data"]["object"]["metadata"].as_object_mut()
    {
        metadata.remove("salesforce_contact_id");
    }
    event
}

fn event_id(event: &Value) -> &str {
    event["id"].as_str().expect("an event id")
}

fn event_type(event: &Value) -> &str {
    event["type"].as_str().expect("an event type")
}

// ---------------------------------------------------------------------------------------------
// Expected records.

/// What a field must hold, as the simulator returns it.
#[derive(Debug, Clone)]
enum Want {
    /// This text.
    Text(String),
    /// This number, compared as an exact decimal (`10.00` = `10`).
    Dec(&'static str),
    /// This checkbox.
    Flag(bool),
    /// This UTC datetime (`2023-04-14T04:40:38`, Salesforce answers with `.000+0000`).
    At(String),
    /// No value.
    Null,
    /// Any value.
    Present,
    /// The Id of the record of `object` whose `field` is `value`.
    Ref(&'static str, &'static str, &'static str),
    /// Text holding this JSON.
    JsonText(Value),
}

fn text(value: &str) -> Want {
    Want::Text(value.to_owned())
}

fn at(value: &str) -> Want {
    Want::At(value.to_owned())
}

/// A stored value as an exact decimal.
fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(number) => Decimal::from_str(&number.to_string())
            .or_else(|_| Decimal::from_scientific(&number.to_string()))
            .ok(),
        _ => None,
    }
}

/// The Salesforce datetime text of a Unix time.
fn unix_at(seconds: i64) -> String {
    let text = OffsetDateTime::from_unix_timestamp(seconds)
        .expect("a valid time")
        .format(&Rfc3339)
        .expect("formats");
    text.trim_end_matches('Z').to_owned()
}

/// The records of `object` whose `field` is `value`.
fn find(sim: &Simulator, object: &str, field: &str, value: &str) -> Vec<Map<String, Value>> {
    sim.records(object)
        .into_iter()
        .filter(|record| record.get(field).and_then(Value::as_str) == Some(value))
        .collect()
}

/// Every mismatch of `record` against `wants`, as `field: expected …, got …`.
fn mismatches(sim: &Simulator, record: &Map<String, Value>, wants: &[(&str, Want)]) -> Vec<String> {
    let mut wrong = Vec::new();
    for (field, want) in wants {
        let got = record.get(*field);
        let ok = match (want, got) {
            (Want::Null, got) => got.is_none_or(Value::is_null),
            (Want::Present, got) => got.is_some_and(|v| !v.is_null()),
            (_, None) => false,
            (Want::Text(expected), Some(got)) => got.as_str() == Some(expected.as_str()),
            (Want::Dec(expected), Some(got)) => {
                decimal(got) == Some(Decimal::from_str(expected).expect("a decimal"))
            }
            (Want::Flag(expected), Some(got)) => got.as_bool() == Some(*expected),
            (Want::At(expected), Some(got)) => {
                got.as_str() == Some(format!("{expected}.000+0000").as_str())
            }
            (Want::Ref(object, key, value), Some(got)) => {
                let parents = find(sim, object, key, value);
                parents.len() == 1 && parents[0].get("Id") == Some(got)
            }
            (Want::JsonText(expected), Some(got)) => got
                .as_str()
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
                .is_some_and(|parsed| &parsed == expected),
        };
        if !ok {
            let expected = match want {
                Want::Ref(object, key, value) => format!("Id of {object} {key}={value}"),
                Want::JsonText(value) => format!("JSON text {value}"),
                other => format!("{other:?}"),
            };
            wrong.push(format!(
                "{field}: expected {expected}, got {}",
                got.map_or("nothing".to_owned(), Value::to_string)
            ));
        }
    }
    wrong
}

/// The record of `object` with `key_field` = `key`, once it exists exactly once and matches
/// `wants`; panics at the deadline with what differs, or at once if there are several.
async fn expect_record(
    sync: &mut Process,
    sim: &Simulator,
    object: &str,
    key_field: &str,
    key: &str,
    wants: &[(&str, Want)],
) -> Map<String, Value> {
    let start = Instant::now();
    loop {
        let mut found = find(sim, object, key_field, key);
        assert!(
            found.len() <= 1,
            "{} {object} records with {key_field} = {key}: {found:#?}",
            found.len()
        );
        let state = match found.pop() {
            None => vec!["no record".to_owned()],
            Some(record) => {
                let wrong = mismatches(sim, &record, wants);
                if wrong.is_empty() {
                    return record;
                }
                wrong
            }
        };
        sync.assert_running();
        if start.elapsed() > DEADLINE {
            panic!(
                "{object} {key_field}={key} after {} s:\n  {}\nlog:\n{}",
                DEADLINE.as_secs(),
                state.join("\n  "),
                sync.log()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The audit record `event` must have once processed, after `attempts`.
fn audit_wants_with(event: &Value, attempts: Want) -> Vec<(&'static str, Want)> {
    vec![
        (AUDIT_KEY, text(event_id(event))),
        ("Event_Type__c", text(event_type(event))),
        (
            "Object_ID__c",
            text(
                event["data"]["object"]["id"]
                    .as_str()
                    .expect("an object id"),
            ),
        ),
        ("Processing_Status__c", text("processed")),
        ("Attempts__c", attempts),
        (
            "Stripe_Created_At__c",
            Want::At(unix_at(event["created"].as_i64().expect("created"))),
        ),
        ("Received_At__c", Want::Present),
        ("Processed_At__c", Want::Present),
        ("Error_Message__c", Want::Null),
    ]
}

/// `Attempts__c` of an event processed at its first delivery.
fn first_attempt() -> Want {
    Want::Dec("1")
}

/// `Attempts__c` of an event that may have been delivered more than once.
fn any_attempts() -> Want {
    Want::Present
}

/// Waits for the audit record of every event in `events`, processed at the first attempt.
async fn expect_audits(sync: &mut Process, sim: &Simulator, events: &[&Value]) {
    expect_audits_with(sync, sim, events, first_attempt).await;
}

/// Waits for the audit record of every event in `events`, processed after `attempts`.
async fn expect_audits_with(
    sync: &mut Process,
    sim: &Simulator,
    events: &[&Value],
    attempts: impl Fn() -> Want,
) {
    for event in events {
        let record = expect_record(
            sync,
            sim,
            AUDIT,
            AUDIT_KEY,
            event_id(event),
            &audit_wants_with(event, attempts()),
        )
        .await;
        let received = record["Received_At__c"].as_str().unwrap_or_default();
        let processed = record["Processed_At__c"].as_str().unwrap_or_default();
        assert!(
            received <= processed,
            "{}: received {received} after processed {processed}",
            event_id(event)
        );
    }
}

/// The `lines.data` of an invoice event, as `Line_Items__c` holds it.
fn line_items(event: &Value) -> Want {
    Want::JsonText(event["data"]["object"]["lines"]["data"].clone())
}

/// Audit records, by event id, and how many there are of each.
fn audit_counts(sim: &Simulator) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for record in sim.records(AUDIT) {
        let id = record
            .get(AUDIT_KEY)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

/// The number of records of `object`.
fn count(sim: &Simulator, object: &str) -> usize {
    sim.records(object).len()
}

/// Everything one test needs: a temporary directory with the database and logs, the org.
struct Harness {
    dir: tempfile::TempDir,
    sim: Simulator,
}

impl Harness {
    async fn start() -> Harness {
        Harness {
            dir: tempfile::tempdir().expect("a temporary directory"),
            sim: Simulator::start(SimConfig::default())
                .await
                .expect("the simulator starts"),
        }
    }

    fn database(&self) -> PathBuf {
        self.dir.path().join("sync.db")
    }

    /// Starts the binary on this harness's database with the `extra` environment variables;
    /// its log is `<name>.log`.
    async fn start_sync(&self, mode: &str, name: &str, extra: &[(&str, &str)]) -> Process {
        let mut sync = Process::start(
            mode,
            &self.database(),
            &self.sim.url(),
            self.dir.path().join(format!("{name}.log")),
            extra,
        );
        if mode != "worker" {
            sync.wait_live().await;
        }
        sync
    }

    /// After the process stopped: the queue is empty, nothing is dead-lettered, and every
    /// event of `events` is done in the ledger as `processed`.
    async fn assert_settled(&self, events: &[Value]) {
        let queue = SqliteQueue::open(self.database()).expect("the queue opens");
        let stats = queue.stats().await.expect("stats");
        assert_eq!(stats.depth, 0, "{stats:?}");
        assert_eq!(stats.in_flight, 0, "{stats:?}");
        let store = SqliteStore::open(self.database()).expect("the store opens");
        let letters = store.list(None, 100).await.expect("dead letters");
        assert!(
            letters.is_empty(),
            "dead letters: {:#?}",
            letters
                .iter()
                .map(|l| (&l.event_id, &l.reason))
                .collect::<Vec<_>>()
        );
        let later = OffsetDateTime::now_utc() + Duration::from_secs(600);
        for event in events {
            let claim = store
                .claim(event_id(event), "e2e-checker", later)
                .await
                .expect("claim");
            assert_eq!(
                claim,
                Claim::Done(Outcome::Processed),
                "ledger entry of {} ({}); its audit record: {:?}\nits log lines:\n{}\n\
                 warnings and errors:\n{}\n{}",
                event_id(event),
                event_type(event),
                find(&self.sim, AUDIT, AUDIT_KEY, event_id(event)),
                self.log_lines(event_id(event)),
                self.log_lines(" WARN "),
                self.log_lines(" ERROR ")
            );
        }
    }

    /// The lines of every process's log that mention `text`.
    fn log_lines(&self, text: &str) -> String {
        let mut lines = Vec::new();
        let mut logs: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                    .filter(|path| path.extension().is_some_and(|e| e == "log"))
                    .collect()
            })
            .unwrap_or_default();
        logs.sort();
        for log in logs {
            let name = log.file_name().map(|n| n.to_string_lossy().into_owned());
            for line in std::fs::read_to_string(&log).unwrap_or_default().lines() {
                if line.contains(text) {
                    lines.push(format!("{}: {line}", name.as_deref().unwrap_or("?")));
                }
            }
        }
        lines.join("\n")
    }
}

// ---------------------------------------------------------------------------------------------
// A customer's life through every handled event type.

/// Delivers `events` `copies` times each (all copies of the first, then of the second, …).
async fn deliver_all(sync: &Process, events: &[&Value], copies: usize) {
    for event in events {
        for _ in 0..copies {
            sync.deliver(event).await;
        }
    }
}

/// Runs every handled event type through a `serve` process, in phases so that parents exist
/// before the children that reference them by external id, and asserts every record field by
/// field after each phase. With `link_contact` the customer links a Contact of the org (as the
/// fixtures do, through `metadata.salesforce_contact_id`), which gets the Stripe customer id
/// written back. Returns the events sent.
async fn lifecycle(
    h: &Harness,
    sync: &mut Process,
    copies: usize,
    link_contact: bool,
    attempts: fn() -> Want,
) -> Vec<Value> {
    let sim = &h.sim;
    let contact = link_contact.then(|| {
        sim.insert_record(
            "Contact",
            serde_json::from_value(json!({"LastName": "Rosen", "FirstName": "Jenny"}))
                .expect("a map"),
        )
        .expect("a contact")
    });
    let contact = contact.as_deref();
    let ev = |name: &str| fixture(name, contact);
    let contact_ref = || contact.map_or(Want::Null, text);

    let customer_created = ev("customer.created");
    let customer_updated = ev("customer.updated");
    let customer_deleted = ev("customer.deleted");
    let price_created = ev("price.created");
    let price_updated = ev("price.updated");
    let product_created = ev("product.created");
    let product_updated = ev("product.updated");
    let checkout_completed = ev("checkout.session.completed");
    let checkout_expired = ev("checkout.session.expired");
    let sub_created = ev("customer.subscription.created");
    let sub_updated = ev("customer.subscription.updated");
    let sub_deleted = ev("customer.subscription.deleted");
    let sub_paused = ev("customer.subscription.paused");
    let sub_resumed = ev("customer.subscription.resumed");
    let invoice_finalized = ev("invoice.finalized");
    let invoice_paid = ev("invoice.paid");
    let invoice_paid_bhd = ev("invoice.paid.bhd");
    let invoice_failed = ev("invoice.payment_failed");
    let pi_failed = ev("payment_intent.payment_failed");
    let pi_succeeded = ev("payment_intent.succeeded");
    let pi_succeeded_jpy = ev("payment_intent.succeeded.jpy");

    // Phase 1: objects without parents.
    let phase = [
        &customer_created,
        &customer_deleted,
        &price_created,
        &price_updated,
        &product_created,
        &checkout_expired,
    ];
    deliver_all(sync, &phase, copies).await;
    expect_audits_with(sync, sim, &phase, attempts).await;
    expect_record(
        sync,
        sim,
        CUSTOMER,
        CUSTOMER_KEY,
        CUS,
        &[
            ("Name", text("Jenny Rosen")),
            ("Customer_Name__c", text("Jenny Rosen")),
            ("Email__c", text("jennyrosen@example.com")),
            ("Phone__c", Want::Null),
            ("Delinquent__c", Want::Flag(false)),
            ("Balance__c", Want::Null),
            ("Currency__c", Want::Null),
            ("Contact__c", contact_ref()),
            ("Sync_Status__c", text("Synced")),
            ("Error_Message__c", Want::Null),
            ("Last_Synced_At__c", Want::Present),
        ],
    )
    .await;
    if let Some(contact) = contact {
        expect_record(
            sync,
            sim,
            "Contact",
            "Id",
            contact,
            &[
                ("Stripe_Customer_ID__c", text(CUS)),
                ("LastName", text("Rosen")),
                ("FirstName", text("Jenny")),
            ],
        )
        .await;
    }
    expect_record(
        sync,
        sim,
        CUSTOMER,
        CUSTOMER_KEY,
        DELETED_CUS,
        &[
            ("Name", text("paul.jones@example.com")),
            ("Customer_Name__c", Want::Null),
            ("Email__c", text("paul.jones@example.com")),
            ("Phone__c", Want::Null),
            ("Delinquent__c", Want::Flag(false)),
            ("Contact__c", Want::Null),
            ("Sync_Status__c", text("Synced")),
            ("Error_Message__c", Want::Null),
            ("Last_Synced_At__c", Want::Present),
        ],
    )
    .await;
    expect_record(
        sync,
        sim,
        PLAN,
        PLAN_KEY,
        PRICE,
        &[
            ("Name", text(PRICE)),
            ("Active__c", Want::Flag(true)),
            ("Amount__c", Want::Dec("10.00")),
            ("Billing_Scheme__c", text("per_unit")),
            ("Currency__c", text("USD")),
            ("Interval_Count__c", Want::Dec("1")),
            ("Lookup_Key__c", Want::Null),
            ("Recurrency_Type__c", text("Monthly")),
            ("Stripe_Product_ID__c", text("prod_NZKdYqrwEYx6iK")),
            ("Tiers_Mode__c", Want::Null),
            ("Product_Name__c", Want::Null),
        ],
    )
    .await;
    expect_record(
        sync,
        sim,
        PLAN,
        PLAN_KEY,
        TIERED,
        &[
            ("Name", text("Seats, graduated")),
            ("Active__c", Want::Flag(true)),
            ("Amount__c", Want::Null),
            ("Billing_Scheme__c", text("tiered")),
            ("Currency__c", text("EUR")),
            ("Interval_Count__c", Want::Dec("3")),
            ("Lookup_Key__c", text("seats_graduated")),
            ("Recurrency_Type__c", text("Monthly")),
            ("Stripe_Product_ID__c", text("prod_NbSrNUGbbmdAx0")),
            ("Tiers_Mode__c", text("graduated")),
        ],
    )
    .await;
    for (number, from, to, unit, flat) in [
        ("1", "1", Some("5"), "10.00", None),
        ("2", "6", Some("10"), "8.00", Some("5.00")),
        ("3", "11", None, "6.505", None),
    ] {
        let key = format!("{TIERED}_{number}");
        expect_record(
            sync,
            sim,
            TIER,
            TIER_KEY,
            &key,
            &[
                ("Pricing_Plan__c", Want::Ref(PLAN, PLAN_KEY, TIERED)),
                ("Tier_Number__c", Want::Dec(number)),
                ("From_Quantity__c", Want::Dec(from)),
                ("To_Quantity__c", to.map_or(Want::Null, Want::Dec)),
                ("Unit_Amount__c", Want::Dec(unit)),
                ("Flat_Amount__c", flat.map_or(Want::Null, Want::Dec)),
            ],
        )
        .await;
    }
    expect_record(
        sync,
        sim,
        SUBSCRIPTION,
        CHECKOUT_KEY,
        EXPIRED_CS,
        &[
            ("Checkout_Expires_At__c", at("2023-03-24T19:41:52")),
            ("Checkout_URL__c", Want::Null),
            ("Currency__c", text("USD")),
            (
                "Error_Message__c",
                text(
                    "The Stripe Checkout link expired before the customer completed it. \
                     Set Sync Status to \"Send to Stripe\" to create a new link.",
                ),
            ),
            ("Sync_Status__c", text("Failed")),
            ("Stripe_Subscription_ID__c", Want::Null),
            ("Stripe_Customer__c", Want::Null),
        ],
    )
    .await;

    // Phase 2: children of the customer and the prices; the customer and the plan change.
    let phase = [
        &customer_updated,
        &product_updated,
        &sub_created,
        &sub_paused,
        &pi_succeeded,
        &pi_succeeded_jpy,
        &checkout_completed,
    ];
    deliver_all(sync, &phase, copies).await;
    expect_audits_with(sync, sim, &phase, attempts).await;
    expect_record(
        sync,
        sim,
        CUSTOMER,
        CUSTOMER_KEY,
        CUS,
        &[
            ("Name", text("Jenny Rosen")),
            ("Customer_Name__c", text("Jenny Rosen")),
            ("Email__c", text("jenny.rosen@example.com")),
            ("Phone__c", text("+14155550123")),
            ("Delinquent__c", Want::Flag(false)),
            ("Balance__c", Want::Dec("-25.50")),
            ("Currency__c", text("USD")),
            ("Contact__c", contact_ref()),
            ("Sync_Status__c", text("Synced")),
            ("Error_Message__c", Want::Null),
            ("Last_Synced_At__c", Want::Present),
        ],
    )
    .await;
    expect_record(
        sync,
        sim,
        PLAN,
        PLAN_KEY,
        PRICE,
        &[
            ("Name", text(PRICE)),
            ("Amount__c", Want::Dec("10.00")),
            ("Currency__c", text("USD")),
            ("Product_Name__c", text("Gold Plan (monthly)")),
            ("Stripe_Product_ID__c", text("prod_NWjs8kKbJWmuuc")),
        ],
    )
    .await;
    let active_sub = |amount: &'static str, quantity: &'static str, cancel_at_end: bool| {
        vec![
            ("Amount__c", Want::Dec(amount)),
            ("Billing_Interval_Count__c", Want::Dec("1")),
            ("Billing_Interval__c", text("Monthly")),
            ("Cancel_At_Period_End__c", Want::Flag(cancel_at_end)),
            ("Canceled_At__c", Want::Null),
            ("Currency__c", text("USD")),
            ("Current_Period_End__c", at("2023-04-14T04:40:38")),
            ("Current_Period_Start__c", at("2023-03-14T04:40:38")),
            ("Pricing_Plan__c", Want::Ref(PLAN, PLAN_KEY, PRICE)),
            ("Quantity__c", Want::Dec(quantity)),
            ("Status__c", text("active")),
            ("Stripe_Customer__c", Want::Ref(CUSTOMER, CUSTOMER_KEY, CUS)),
            ("Stripe_Price_ID__c", text(PRICE)),
            ("Trial_End__c", Want::Null),
        ]
    };
    expect_record(
        sync,
        sim,
        SUBSCRIPTION,
        SUBSCRIPTION_KEY,
        SUB,
        &active_sub("10.00", "1", false),
    )
    .await;
    let paused_sub = |status: &str, start: &str, end: &str| {
        vec![
            ("Amount__c", Want::Dec("990.00")),
            ("Billing_Interval_Count__c", Want::Dec("1")),
            ("Billing_Interval__c", text("Yearly")),
            ("Cancel_At_Period_End__c", Want::Flag(false)),
            ("Canceled_At__c", Want::Null),
            ("Currency__c", text("USD")),
            ("Current_Period_End__c", at(end)),
            ("Current_Period_Start__c", at(start)),
            ("Pricing_Plan__c", Want::Ref(PLAN, PLAN_KEY, TIERED)),
            ("Quantity__c", Want::Dec("1")),
            ("Status__c", text(status)),
            ("Stripe_Customer__c", Want::Ref(CUSTOMER, CUSTOMER_KEY, CUS)),
            ("Stripe_Price_ID__c", text(TIERED)),
            ("Trial_End__c", at("2023-04-02T10:50:21")),
        ]
    };
    expect_record(
        sync,
        sim,
        SUBSCRIPTION,
        SUBSCRIPTION_KEY,
        PAUSED_SUB,
        &paused_sub("paused", "2023-03-19T10:50:21", "2023-04-02T10:50:21"),
    )
    .await;
    for (pi, amount, currency, charge, date) in [
        (
            "pi_3MtwBwLkdIwHu7ix28a3tqPa",
            "20.00",
            "USD",
            "ch_3MtwBwLkdIwHu7ix2kqUp9Ra",
            "2023-04-06T17:01:44",
        ),
        (
            "pi_3MuB4nLkdIwHu7ix0JpYen5k",
            "5000",
            "JPY",
            "ch_3MuB4nLkdIwHu7ix0sJ8Kq2L",
            "2023-04-07T08:56:45",
        ),
    ] {
        expect_record(
            sync,
            sim,
            PAYMENT,
            PAYMENT_KEY,
            pi,
            &[
                ("Amount__c", Want::Dec(amount)),
                ("Currency__c", text(currency)),
                ("Decline_Code__c", Want::Null),
                ("Failure_Code__c", Want::Null),
                ("Failure_Message__c", Want::Null),
                ("Status__c", text("succeeded")),
                ("Stripe_Charge_ID__c", text(charge)),
                ("Stripe_Customer__c", Want::Ref(CUSTOMER, CUSTOMER_KEY, CUS)),
                ("Stripe_Invoice__c", Want::Null),
                ("Transaction_Date__c", at(date)),
                ("Transaction_Type__c", text("one_time")),
            ],
        )
        .await;
    }
    expect_record(
        sync,
        sim,
        SUBSCRIPTION,
        CHECKOUT_KEY,
        COMPLETED_CS,
        &[
            ("Checkout_Expires_At__c", at("2023-03-24T19:36:55")),
            ("Checkout_URL__c", Want::Null),
            ("Currency__c", text("USD")),
            ("Error_Message__c", Want::Null),
            ("Stripe_Customer__c", Want::Ref(CUSTOMER, CUSTOMER_KEY, CUS)),
            (
                "Stripe_Subscription_ID__c",
                text("sub_1MpB9JLkdIwHu7ixVnkBrArH"),
            ),
            ("Sync_Status__c", text("Completed")),
        ],
    )
    .await;

    // Phase 3: the subscriptions change; the first invoice.
    let phase = [&sub_updated, &sub_resumed, &invoice_finalized];
    deliver_all(sync, &phase, copies).await;
    expect_audits_with(sync, sim, &phase, attempts).await;
    expect_record(
        sync,
        sim,
        SUBSCRIPTION,
        SUBSCRIPTION_KEY,
        SUB,
        &active_sub("30.00", "3", true),
    )
    .await;
    expect_record(
        sync,
        sim,
        SUBSCRIPTION,
        SUBSCRIPTION_KEY,
        PAUSED_SUB,
        &paused_sub("active", "2023-04-03T10:50:21", "2024-04-03T10:50:21"),
    )
    .await;
    let invoice_refs = || {
        vec![
            ("Stripe_Customer__c", Want::Ref(CUSTOMER, CUSTOMER_KEY, CUS)),
            (
                "Stripe_Subscription__c",
                Want::Ref(SUBSCRIPTION, SUBSCRIPTION_KEY, SUB),
            ),
        ]
    };
    let mut wants = vec![
        ("Amount_Due__c", Want::Dec("10.00")),
        ("Amount_Paid__c", Want::Dec("0.00")),
        ("Amount_Remaining__c", Want::Dec("10.00")),
        ("Attempt_Count__c", Want::Dec("0")),
        ("Billing_Reason__c", text("subscription_create")),
        ("Currency__c", text("USD")),
        ("Discount_Amount__c", Want::Dec("0.00")),
        ("Due_Date__c", Want::Null),
        ("Dunning_Status__c", text("none")),
        (
            "Hosted_Invoice_URL__c",
            text(
                invoice_finalized["data"]["object"]["hosted_invoice_url"]
                    .as_str()
                    .expect("a URL"),
            ),
        ),
        (
            "Invoice_PDF_URL__c",
            text(
                invoice_finalized["data"]["object"]["invoice_pdf"]
                    .as_str()
                    .expect("a URL"),
            ),
        ),
        ("Line_Items__c", line_items(&invoice_finalized)),
        ("Next_Payment_Attempt__c", at("2023-04-05T11:46:48")),
        ("Period_End__c", at("2023-05-05T10:46:48")),
        ("Period_Start__c", at("2023-04-05T10:46:48")),
        ("Status__c", text("open")),
        ("Tax_Amount__c", Want::Null),
    ];
    wants.extend(invoice_refs());
    expect_record(sync, sim, INVOICE, INVOICE_KEY, FINALIZED_IN, &wants).await;
    let mut wants = vec![
        ("Amount__c", Want::Dec("10.00")),
        ("Currency__c", text("USD")),
        ("Status__c", text("requires_payment_method")),
        (
            "Stripe_Invoice__c",
            Want::Ref(INVOICE, INVOICE_KEY, FINALIZED_IN),
        ),
        ("Transaction_Type__c", text("initial_payment")),
    ];
    wants.extend(invoice_refs());
    expect_record(
        sync,
        sim,
        PAYMENT,
        PAYMENT_KEY,
        "pi_3MtHbFLkdIwHu7ix0dAKTr8A",
        &wants,
    )
    .await;

    // Phase 4: the subscription is canceled; invoices paid (USD, BHD) and failed.
    let phase = [
        &sub_deleted,
        &invoice_paid,
        &invoice_paid_bhd,
        &invoice_failed,
    ];
    deliver_all(sync, &phase, copies).await;
    expect_audits_with(sync, sim, &phase, attempts).await;
    let mut canceled = active_sub("30.00", "3", true);
    for (field, want) in &mut canceled {
        match *field {
            "Status__c" => *want = text("canceled"),
            "Canceled_At__c" => *want = at("2023-04-14T04:40:38"),
            _ => {}
        }
    }
    expect_record(sync, sim, SUBSCRIPTION, SUBSCRIPTION_KEY, SUB, &canceled).await;
    for (
        event,
        invoice,
        due,
        paid,
        remaining,
        currency,
        discount,
        tax,
        status,
        dunning,
        attempts,
        next,
        start,
        end,
    ) in [
        (
            &invoice_paid,
            PAID_IN,
            "17.32",
            "17.32",
            "0.00",
            "USD",
            "4.00",
            Some("1.32"),
            "paid",
            "none",
            "1",
            None,
            "2023-05-05T10:46:48",
            "2023-06-05T10:46:48",
        ),
        (
            // 12345 fils = BHD 12.345, rounded to the Currency(18,2) field's 12.35.
            &invoice_paid_bhd,
            BHD_IN,
            "12.35",
            "12.35",
            "0.00",
            "BHD",
            "0.00",
            None,
            "paid",
            "none",
            "1",
            None,
            "2023-05-05T10:46:48",
            "2023-06-05T10:46:48",
        ),
        (
            &invoice_failed,
            FAILED_IN,
            "17.32",
            "0.00",
            "17.32",
            "USD",
            "4.00",
            Some("1.32"),
            "open",
            "trying",
            "2",
            Some("2023-06-09T10:46:48"),
            "2023-06-05T10:46:48",
            "2023-07-05T10:46:48",
        ),
    ] {
        let object = &event["data"]["object"];
        let mut wants = vec![
            ("Amount_Due__c", Want::Dec(due)),
            ("Amount_Paid__c", Want::Dec(paid)),
            ("Amount_Remaining__c", Want::Dec(remaining)),
            ("Attempt_Count__c", Want::Dec(attempts)),
            ("Billing_Reason__c", text("subscription_cycle")),
            ("Currency__c", text(currency)),
            ("Discount_Amount__c", Want::Dec(discount)),
            ("Due_Date__c", Want::Null),
            ("Dunning_Status__c", text(dunning)),
            (
                "Hosted_Invoice_URL__c",
                text(object["hosted_invoice_url"].as_str().expect("a URL")),
            ),
            (
                "Invoice_PDF_URL__c",
                text(object["invoice_pdf"].as_str().expect("a URL")),
            ),
            ("Line_Items__c", line_items(event)),
            ("Next_Payment_Attempt__c", next.map_or(Want::Null, at)),
            ("Period_End__c", at(end)),
            ("Period_Start__c", at(start)),
            ("Status__c", text(status)),
            ("Tax_Amount__c", tax.map_or(Want::Null, Want::Dec)),
        ];
        wants.extend(invoice_refs());
        expect_record(sync, sim, INVOICE, INVOICE_KEY, invoice, &wants).await;
    }
    for (pi, invoice, amount, currency, status) in [
        (
            "pi_3N4pFtLkdIwHu7ix0fTnE8Yv",
            PAID_IN,
            "17.32",
            "USD",
            "succeeded",
        ),
        (
            "pi_3N5qTcLkdIwHu7ix0bHdQm1x",
            BHD_IN,
            "12.35",
            "BHD",
            "succeeded",
        ),
        (
            "pi_3NDBW7LkdIwHu7ix1XxCLi3u",
            FAILED_IN,
            "17.32",
            "USD",
            "failed",
        ),
    ] {
        let mut wants = vec![
            ("Amount__c", Want::Dec(amount)),
            ("Currency__c", text(currency)),
            ("Status__c", text(status)),
            (
                "Stripe_Invoice__c",
                Want::Ref(INVOICE, INVOICE_KEY, invoice),
            ),
            ("Transaction_Type__c", text("recurring_payment")),
        ];
        wants.extend(invoice_refs());
        expect_record(sync, sim, PAYMENT, PAYMENT_KEY, pi, &wants).await;
    }

    // Phase 5: the failed payment's own event, with the decline reason.
    let phase = [&pi_failed];
    deliver_all(sync, &phase, copies).await;
    expect_audits_with(sync, sim, &phase, attempts).await;
    let mut wants = vec![
        ("Amount__c", Want::Dec("17.32")),
        ("Currency__c", text("USD")),
        ("Decline_Code__c", text("insufficient_funds")),
        ("Failure_Code__c", text("card_declined")),
        (
            "Failure_Message__c",
            text("Your card has insufficient funds."),
        ),
        ("Payment_Method_Type__c", text("card")),
        ("Status__c", text("failed")),
        ("Stripe_Charge_ID__c", text("ch_3NDBW7LkdIwHu7ix1mFBlfw2")),
        (
            "Stripe_Invoice__c",
            Want::Ref(INVOICE, INVOICE_KEY, FAILED_IN),
        ),
        ("Transaction_Date__c", at("2023-06-05T11:46:49")),
        // Kept from the invoice's write.
        ("Transaction_Type__c", text("recurring_payment")),
    ];
    wants.extend(invoice_refs());
    expect_record(
        sync,
        sim,
        PAYMENT,
        PAYMENT_KEY,
        "pi_3NDBW7LkdIwHu7ix1XxCLi3u",
        &wants,
    )
    .await;

    let events = vec![
        customer_created,
        customer_deleted,
        price_created,
        price_updated,
        product_created,
        checkout_expired,
        customer_updated,
        product_updated,
        sub_created,
        sub_paused,
        pi_succeeded,
        pi_succeeded_jpy,
        checkout_completed,
        sub_updated,
        sub_resumed,
        invoice_finalized,
        sub_deleted,
        invoice_paid,
        invoice_paid_bhd,
        invoice_failed,
        pi_failed,
    ];
    let types: BTreeSet<&str> = events.iter().map(event_type).collect();
    let handled: BTreeSet<&str> = HANDLED_EVENTS.iter().copied().collect();
    assert_eq!(types, handled, "every handled event type is sent");
    events
}

/// Each record exactly once, one audit record per event.
fn assert_each_record_once(sim: &Simulator, events: &[Value], contacts: usize) {
    let audits = audit_counts(sim);
    let expected: std::collections::BTreeMap<String, usize> = events
        .iter()
        .map(|event| (event_id(event).to_owned(), 1))
        .collect();
    assert_eq!(audits, expected, "one audit record per event");
    for (object, records) in [
        (CUSTOMER, 2),
        (PLAN, 2),
        (TIER, 3),
        // Two subscriptions and two Checkout sessions.
        (SUBSCRIPTION, 4),
        (INVOICE, 4),
        (PAYMENT, 6),
        ("Contact", contacts),
    ] {
        assert_eq!(count(sim, object), records, "{object} records");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_handled_event_type_reaches_salesforce_field_by_field() {
    let h = Harness::start().await;
    let mut sync = h.start_sync("serve", "serve", &[]).await;

    let events = lifecycle(&h, &mut sync, 1, true, first_attempt).await;

    sync.wait_drained().await;
    assert_each_record_once(&h.sim, &events, 1);
    sync.terminate().await;
    h.assert_settled(&events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_delivered_three_times_is_applied_once() {
    let h = Harness::start().await;
    let mut sync = h.start_sync("serve", "serve", &[]).await;

    // Without a linked Contact (that path is the test above's).
    let events = lifecycle(&h, &mut sync, 3, false, first_attempt).await;

    sync.wait_drained().await;
    assert_each_record_once(&h.sim, &events, 0);
    // Duplicates settled: nothing more is written.
    let calls = h.sim.api_calls();
    let again = fixture("customer.created", None);
    sync.deliver(&again).await;
    sync.wait_drained().await;
    assert_eq!(h.sim.api_calls(), calls, "a fourth delivery writes nothing");
    assert_each_record_once(&h.sim, &events, 0);
    sync.terminate().await;
    h.assert_settled(&events).await;
}

/// A lease shorter than a flush takes (`SYNC_WORKER_LEASE_SECS=5`: a pull lease of lease +
/// lane windows + flush age, and Bulk calls slowed by 2 s as a real org's Bulk jobs can be):
/// events are handed out again while they wait in a lane. Each must still be applied once and
/// end `processed` (not rewritten as `skipped_stale` by its second delivery), and every event of
/// the flush must be completed and acknowledged even when some leases were lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_short_lease_every_event_is_still_settled_processed() {
    let h = Harness::start().await;
    let mut sync = h.start_sync("serve", "serve", &[SHORT_LEASE]).await;

    // Bulk API 2.0 is slow, as it is against a real org: the first four Bulk calls take 2 s
    // each, so the first flush outlasts the 6 s pull lease.
    h.sim.inject(Fault::on_path(
        FaultKind::Latency(Duration::from_secs(2)),
        "/jobs/ingest",
        4,
    ));
    let events = lifecycle(&h, &mut sync, 1, true, any_attempts).await;

    sync.wait_drained().await;
    assert_each_record_once(&h.sim, &events, 1);
    for event in &events {
        expect_record(
            &mut sync,
            &h.sim,
            AUDIT,
            AUDIT_KEY,
            event_id(event),
            &audit_wants_with(event, any_attempts()),
        )
        .await;
    }
    sync.terminate().await;
    h.assert_settled(&events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_is_refused_and_nothing_is_written() {
    let h = Harness::start().await;
    let mut sync = h.start_sync("serve", "serve", &[]).await;
    let bad = fixture("customer.created", None);
    let body = serde_json::to_string(&bad).expect("JSON");

    let (status, answer) = sync.post_signed("whsec_not_the_secret", &body).await;
    assert_eq!(status, 400, "{answer}");
    // Signed, then tampered with.
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let signature = sign(SECRET, now, body.as_bytes());
    let tampered = body.replace("Jenny Rosen", "Jenny Tampered");
    assert_ne!(tampered, body);
    let (status, _) = http(
        sync.address,
        "POST",
        "/webhook/stripe",
        &[("Stripe-Signature", &signature)],
        &tampered,
    )
    .await
    .expect("answers");
    assert_eq!(status, 400);
    // Too old.
    let old = sign(SECRET, now - 3600, body.as_bytes());
    let (status, _) = http(
        sync.address,
        "POST",
        "/webhook/stripe",
        &[("Stripe-Signature", &old)],
        &body,
    )
    .await
    .expect("answers");
    assert_eq!(status, 400);
    // No signature.
    let (status, _) = http(sync.address, "POST", "/webhook/stripe", &[], &body)
        .await
        .expect("answers");
    assert_eq!(status, 400);

    // A good event afterwards goes through, so the worker has had its chance.
    let good = fixture("price.created", None);
    sync.deliver(&good).await;
    expect_audits(&mut sync, &h.sim, &[&good]).await;
    sync.wait_drained().await;

    assert!(find(&h.sim, AUDIT, AUDIT_KEY, event_id(&bad)).is_empty());
    assert!(
        h.sim.records(CUSTOMER).is_empty(),
        "{:#?}",
        h.sim.records(CUSTOMER)
    );
    assert_eq!(count(&h.sim, AUDIT), 1);
    sync.terminate().await;
    h.assert_settled(&[good]).await;
    let store = SqliteStore::open(h.database()).expect("the store opens");
    let claim = store
        .claim(event_id(&bad), "e2e-checker", OffsetDateTime::now_utc())
        .await
        .expect("claim");
    assert_eq!(
        claim,
        Claim::Granted,
        "the refused event never reached the ledger"
    );
}

// ---------------------------------------------------------------------------------------------
// SIGKILL.

/// Events without references between them, of high, normal and low priority.
fn independent_events() -> Vec<Value> {
    [
        "customer.created",
        "customer.deleted",
        "price.created",
        "price.updated",
        "product.created",
        "checkout.session.expired",
    ]
    .iter()
    .map(|name| fixture(name, None))
    .collect()
}

/// Waits until the records of [`independent_events`] and their audit records are all there.
async fn expect_independent_records(
    sync: &mut Process,
    sim: &Simulator,
    events: &[Value],
    attempts: impl Fn() -> Want,
) {
    let refs: Vec<&Value> = events.iter().collect();
    expect_audits_with(sync, sim, &refs, attempts).await;
    for (object, field, key) in [
        (CUSTOMER, CUSTOMER_KEY, CUS),
        (CUSTOMER, CUSTOMER_KEY, DELETED_CUS),
        (PLAN, PLAN_KEY, PRICE),
        (PLAN, PLAN_KEY, TIERED),
        (SUBSCRIPTION, CHECKOUT_KEY, EXPIRED_CS),
    ] {
        expect_record(sync, sim, object, field, key, &[]).await;
    }
    for number in 1..=3 {
        expect_record(
            sync,
            sim,
            TIER,
            TIER_KEY,
            &format!("{TIERED}_{number}"),
            &[],
        )
        .await;
    }
}

/// Exactly the records of [`independent_events`], once each.
fn assert_independent_once(sim: &Simulator, events: &[Value]) {
    let audits = audit_counts(sim);
    let expected: std::collections::BTreeMap<String, usize> = events
        .iter()
        .map(|event| (event_id(event).to_owned(), 1))
        .collect();
    assert_eq!(audits, expected, "one audit record per event");
    for (object, records) in [(CUSTOMER, 2), (PLAN, 2), (TIER, 3), (SUBSCRIPTION, 1)] {
        assert_eq!(count(sim, object), records, "{object} records");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_killed_after_answering_200_loses_nothing_and_the_worker_applies_once() {
    let h = Harness::start().await;
    let events = independent_events();
    let mut receiver = h.start_sync("receiver", "receiver", &[]).await;
    for event in &events {
        receiver.deliver(event).await;
    }
    // SIGKILL right after the last 200: no shutdown, no flush.
    receiver.kill();
    assert_eq!(
        h.sim.api_calls(),
        0,
        "the receiver alone calls no Salesforce"
    );
    {
        let queue = SqliteQueue::open(h.database()).expect("the queue opens");
        let stats = queue.stats().await.expect("stats");
        assert_eq!(
            stats.depth,
            u64::try_from(events.len()).unwrap_or(0),
            "{stats:?}"
        );
    }

    let mut worker = h.start_sync("worker", "worker", &[]).await;
    expect_independent_records(&mut worker, &h.sim, &events, first_attempt).await;
    worker.terminate().await;
    assert_independent_once(&h.sim, &events);
    h.assert_settled(&events).await;

    // Stripe retries the same events (it never saw a failure, but may): nothing more is
    // written by a new `serve` on the same database.
    let calls = h.sim.api_calls();
    let mut serve = h.start_sync("serve", "serve", &[]).await;
    for event in &events {
        serve.deliver(event).await;
    }
    serve.wait_drained().await;
    serve.terminate().await;
    assert_eq!(h.sim.api_calls(), calls, "redelivered events write nothing");
    assert_independent_once(&h.sim, &events);
    h.assert_settled(&events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_while_processing_applies_every_event_once_after_restart() {
    let h = Harness::start().await;
    let events = independent_events();
    // Salesforce is slow: every REST call (Collections, Bulk) hangs for 30 s.
    h.sim.inject(Fault {
        kind: FaultKind::Latency(Duration::from_secs(30)),
        path_contains: Some("/services/data/".to_owned()),
        count: 10_000,
    });
    let mut first = h.start_sync("serve", "serve-1", &[KILL_LEASE]).await;
    for event in &events {
        first.deliver(event).await;
    }
    // Processing is in flight: the worker holds every delivery leased.
    let all = f64::from(u32::try_from(events.len()).unwrap_or(u32::MAX));
    let start = Instant::now();
    loop {
        if first.metric("queue_in_flight").await == Some(all) {
            break;
        }
        first.assert_running();
        assert!(
            start.elapsed() < DEADLINE,
            "the worker never picked the events up:\n{}",
            first.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill();
    assert!(
        h.sim.records(CUSTOMER).is_empty(),
        "nothing could be written yet: {:#?}",
        h.sim.records(CUSTOMER)
    );
    {
        let queue = SqliteQueue::open(h.database()).expect("the queue opens");
        let stats = queue.stats().await.expect("stats");
        assert_eq!(
            stats.depth,
            u64::try_from(events.len()).unwrap_or(0),
            "nothing was acknowledged: {stats:?}"
        );
    }

    h.sim.clear_faults();
    let mut second = h.start_sync("serve", "serve-2", &[KILL_LEASE]).await;
    // The killed process's delivery may count as an attempt.
    expect_independent_records(&mut second, &h.sim, &events, any_attempts).await;
    second.wait_drained().await;
    second.terminate().await;
    assert_independent_once(&h.sim, &events);
    h.assert_settled(&events).await;
}
