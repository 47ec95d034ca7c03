//! Admin alerts against a local webhook recording what it receives: contents, rate limits, the
//! error-rate window, quota and lag thresholds, the retry, and a dead webhook.

use std::collections::VecDeque;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use stripe_sfdc_sync::alerts::{AlertConfig, AlertStats, Alerts, Clock, WebhookUrl};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What the recording webhook shares with its handler.
#[derive(Clone, Default)]
struct Recorded {
    /// Bodies received, in order (including the ones answered with an error).
    bodies: Arc<Mutex<Vec<Value>>>,
    /// Statuses to answer with, in order; 200 once empty.
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl Recorded {
    /// The bodies received so far.
    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

/// The webhook handler: records the body, answers the next status.
async fn hook(State(recorded): State<Recorded>, Json(body): Json<Value>) -> StatusCode {
    recorded.bodies.lock().unwrap().push(body);
    let status = recorded.statuses.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

/// Starts a webhook on 127.0.0.1 answering `statuses` in order, then 200.
async fn webhook(statuses: &[u16]) -> (WebhookUrl, Recorded) {
    let recorded = Recorded::default();
    recorded.statuses.lock().unwrap().extend(statuses);
    let app = Router::new()
        .route("/services/T1/B2/s3cr3t", post(hook))
        .with_state(recorded.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = WebhookUrl::parse(&format!("http://{addr}/services/T1/B2/s3cr3t")).unwrap();
    (url, recorded)
}

/// A clock the test moves.
#[derive(Clone)]
struct TestClock(Arc<Mutex<OffsetDateTime>>);

impl TestClock {
    /// A clock at 2026-11-23T10:00:00Z.
    fn new() -> Self {
        let start = OffsetDateTime::parse("2026-11-23T10:00:00Z", &Rfc3339).unwrap();
        TestClock(Arc::new(Mutex::new(start)))
    }

    /// The clock for [`Alerts::with_clock`].
    fn clock(&self) -> Clock {
        let now = Arc::clone(&self.0);
        Arc::new(move || *now.lock().unwrap())
    }

    /// Moves the clock on by `by`.
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

/// The default configuration posting to `url`, with a short retry delay.
fn config(url: Option<WebhookUrl>) -> AlertConfig {
    AlertConfig {
        webhook_url: url,
        retry_delay: Duration::from_millis(50),
        ..AlertConfig::default()
    }
}

/// Alerts posting to a new recording webhook, on a test clock.
async fn alerts_with_webhook() -> (Alerts, Recorded, TestClock) {
    let (url, recorded) = webhook(&[]).await;
    let clock = TestClock::new();
    let alerts = Alerts::with_clock(config(Some(url)), clock.clock()).unwrap();
    (alerts, recorded, clock)
}

#[tokio::test]
async fn dead_letter_is_posted_as_json() {
    let (alerts, recorded, _clock) = alerts_with_webhook().await;
    alerts.dead_letter(
        "evt_1",
        "invoice.paid",
        "REQUIRED_FIELD_MISSING: Required fields are missing: [Contact__c] for jane@example.com",
    );
    alerts.flush().await;

    let bodies = recorded.bodies();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let body = &bodies[0];
    assert_eq!(body["kind"], "dead_letter");
    assert_eq!(body["severity"], "error");
    assert_eq!(body["service"], "stripe-sfdc-sync");
    assert_eq!(body["suppressed"], 0);
    assert_eq!(body["at"], "2026-11-23T10:00:00Z");
    assert_eq!(body["details"]["event_id"], "evt_1");
    assert_eq!(body["details"]["event_type"], "invoice.paid");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("evt_1"), "{message}");
    assert!(message.contains("invoice.paid"), "{message}");
    assert!(message.contains("REQUIRED_FIELD_MISSING"), "{message}");
    assert!(!body.to_string().contains("jane@"), "{body}");
    let text = body["text"].as_str().unwrap();
    assert!(text.contains(message), "{text}");
    assert_eq!(
        alerts.stats(),
        AlertStats {
            raised: 1,
            delivered: 1,
            ..AlertStats::default()
        }
    );
}

#[tokio::test]
async fn one_alert_per_kind_per_interval_and_the_next_counts_the_suppressed() {
    let (alerts, recorded, clock) = alerts_with_webhook().await;
    alerts.dead_letter("evt_1", "invoice.paid", "boom");
    clock.advance(Duration::from_secs(60));
    alerts.dead_letter("evt_2", "invoice.paid", "boom");
    // Another kind has its own limit.
    alerts.lag(Duration::from_secs(600));
    alerts.flush().await;
    let bodies = recorded.bodies();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies[0]["details"]["event_id"], "evt_1");
    assert_eq!(bodies[1]["kind"], "lag");

    clock.advance(Duration::from_secs(240));
    alerts.dead_letter("evt_3", "customer.updated", "boom");
    alerts.flush().await;
    let bodies = recorded.bodies();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    assert_eq!(bodies[2]["details"]["event_id"], "evt_3");
    assert_eq!(bodies[2]["suppressed"], 1);
    assert_eq!(bodies[2]["at"], "2026-11-23T10:05:00Z");
    assert!(
        bodies[2]["text"].as_str().unwrap().contains("1 more"),
        "{}",
        bodies[2]
    );
    let stats = alerts.stats();
    assert_eq!((stats.raised, stats.suppressed), (3, 1));
}

#[tokio::test]
async fn error_rate_needs_enough_events_and_a_rate_over_the_threshold() {
    // 19 failures of 19: under the minimum number of events.
    let (alerts, recorded, _clock) = alerts_with_webhook().await;
    for _ in 0..19 {
        alerts.outcome(false);
    }
    alerts.flush().await;
    assert!(recorded.bodies().is_empty());

    // 2 failures in 40 (5%): not over the threshold.
    let (alerts, recorded, _clock) = alerts_with_webhook().await;
    for _ in 0..38 {
        alerts.outcome(true);
    }
    alerts.outcome(false);
    alerts.outcome(false);
    alerts.flush().await;
    assert!(recorded.bodies().is_empty());
    assert_eq!(alerts.stats().raised, 0);

    // 3 failures in 40 (7.5%): one alert.
    let (alerts, recorded, _clock) = alerts_with_webhook().await;
    for _ in 0..37 {
        alerts.outcome(true);
    }
    for _ in 0..3 {
        alerts.outcome(false);
    }
    alerts.flush().await;
    let bodies = recorded.bodies();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let body = &bodies[0];
    assert_eq!(body["kind"], "error_rate");
    assert_eq!(body["severity"], "critical");
    assert_eq!(body["details"]["window_secs"], 300);
    let failures = body["details"]["failures"].as_u64().unwrap();
    let events = body["details"]["events"].as_u64().unwrap();
    assert!(failures * 20 > events, "{body}");
}

#[tokio::test]
async fn error_rate_window_slides() {
    let (alerts, recorded, clock) = alerts_with_webhook().await;
    // Ten failures: too few events to judge.
    for _ in 0..10 {
        alerts.outcome(false);
    }
    // Once they are out of the window, 1 failure in 31 is 3.2%.
    clock.advance(Duration::from_secs(301));
    for _ in 0..30 {
        alerts.outcome(true);
    }
    alerts.outcome(false);
    alerts.flush().await;
    assert!(recorded.bodies().is_empty(), "{:?}", recorded.bodies());

    // Without the window sliding the same would be 11 of 41.
    let (alerts, recorded, _clock) = alerts_with_webhook().await;
    for _ in 0..10 {
        alerts.outcome(false);
    }
    for _ in 0..30 {
        alerts.outcome(true);
    }
    alerts.outcome(false);
    alerts.flush().await;
    assert_eq!(recorded.bodies().len(), 1);
}

#[tokio::test]
async fn quota_over_the_threshold() {
    let (alerts, recorded, _clock) = alerts_with_webhook().await;
    alerts.quota(79_000, 100_000);
    alerts.quota(80_000, 100_000);
    alerts.quota(5, 0);
    alerts.flush().await;
    assert!(recorded.bodies().is_empty());

    alerts.quota(81_000, 100_000);
    alerts.flush().await;
    let bodies = recorded.bodies();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["kind"], "quota");
    assert_eq!(bodies[0]["severity"], "warning");
    assert_eq!(bodies[0]["details"]["used"], 81_000);
    assert_eq!(bodies[0]["details"]["max"], 100_000);
    assert_eq!(bodies[0]["details"]["threshold_percent"], 80);
    assert!(
        bodies[0]["message"].as_str().unwrap().contains("81.0%"),
        "{}",
        bodies[0]
    );
}

#[tokio::test]
async fn lag_over_the_threshold() {
    let (alerts, recorded, _clock) = alerts_with_webhook().await;
    alerts.lag(Duration::from_secs(300));
    alerts.flush().await;
    assert!(recorded.bodies().is_empty());

    alerts.lag(Duration::from_secs(420));
    alerts.flush().await;
    let bodies = recorded.bodies();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["kind"], "lag");
    assert_eq!(bodies[0]["details"]["oldest_queued_age_secs"], 420);
    assert_eq!(bodies[0]["details"]["threshold_secs"], 300);
    assert!(
        bodies[0]["message"].as_str().unwrap().contains("7 min"),
        "{}",
        bodies[0]
    );
}

#[tokio::test]
async fn a_5xx_is_retried_once() {
    let (url, recorded) = webhook(&[500]).await;
    let alerts = Alerts::with_clock(config(Some(url)), TestClock::new().clock()).unwrap();
    alerts.dead_letter("evt_1", "invoice.paid", "boom");
    alerts.flush().await;
    assert_eq!(recorded.bodies().len(), 2);
    assert_eq!(recorded.bodies()[0], recorded.bodies()[1]);
    let stats = alerts.stats();
    assert_eq!((stats.delivered, stats.failed), (1, 0));

    // Two 5xx: given up after the retry.
    let (url, recorded) = webhook(&[503, 502]).await;
    let alerts = Alerts::with_clock(config(Some(url)), TestClock::new().clock()).unwrap();
    alerts.lag(Duration::from_secs(3600));
    alerts.flush().await;
    assert_eq!(recorded.bodies().len(), 2);
    assert_eq!(alerts.stats().failed, 1);

    // A 4xx is not retried.
    let (url, recorded) = webhook(&[400]).await;
    let alerts = Alerts::with_clock(config(Some(url)), TestClock::new().clock()).unwrap();
    alerts.lag(Duration::from_secs(3600));
    alerts.flush().await;
    assert_eq!(recorded.bodies().len(), 1);
    assert_eq!(alerts.stats().failed, 1);
}

#[tokio::test]
async fn a_dead_webhook_neither_blocks_nor_panics() {
    // A port nothing listens on.
    let addr: SocketAddr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let url = WebhookUrl::parse(&format!("http://{addr}/hook")).unwrap();
    let alerts = Alerts::with_clock(
        AlertConfig {
            min_interval: Duration::ZERO,
            queue_capacity: 4,
            ..config(Some(url))
        },
        TestClock::new().clock(),
    )
    .unwrap();
    let started = Instant::now();
    for i in 0..10 {
        alerts.dead_letter(&format!("evt_{i}"), "invoice.paid", "boom");
    }
    assert!(started.elapsed() < Duration::from_millis(200));
    // The posting task has not run yet (this runtime has one thread): 4 wait, 6 are dropped.
    assert_eq!(
        alerts.stats(),
        AlertStats {
            raised: 10,
            dropped: 6,
            ..AlertStats::default()
        }
    );
    alerts.flush().await;
    let stats = alerts.stats();
    assert_eq!((stats.delivered, stats.failed), (0, 4));
}

#[tokio::test]
async fn a_slow_webhook_does_not_slow_the_caller() {
    // Accepts connections but never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url =
        WebhookUrl::parse(&format!("http://{}/hook", listener.local_addr().unwrap())).unwrap();
    let alerts = Alerts::new(AlertConfig {
        min_interval: Duration::ZERO,
        queue_capacity: 1,
        request_timeout: Duration::from_millis(300),
        ..config(Some(url))
    })
    .unwrap();
    alerts.lag(Duration::from_secs(3600));
    // Let the task take the first alert and hang on it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    for _ in 0..100 {
        alerts.lag(Duration::from_secs(3600));
    }
    assert!(started.elapsed() < Duration::from_millis(200));
    let stats = alerts.stats();
    assert_eq!(stats.raised, 101);
    assert!(stats.dropped >= 99, "{stats:?}");
    alerts.flush().await;
    assert!(alerts.stats().failed >= 1);
    drop(listener);
}

#[tokio::test]
async fn disabled_alerts_still_log_without_secrets() {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let alerts = Alerts::disabled();
    alerts.dead_letter(
        "evt_42",
        "invoice.payment_failed",
        "INVALID_EMAIL_ADDRESS: bob@example.com with key sk_live_abc",
    );
    alerts.flush().await;
    let text = logs.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("dead_letter"), "{text}");
    assert!(text.contains("evt_42"), "{text}");
    assert!(text.contains("invoice.payment_failed"), "{text}");
    assert!(!text.contains("bob@"), "{text}");
    assert!(!text.contains("sk_live_abc"), "{text}");
    assert_eq!(alerts.stats().raised, 1);

    // The webhook URL is not logged when the webhook fails.
    let url = WebhookUrl::parse("http://127.0.0.1:1/services/T1/B2/s3cr3t?token=s3cr3t").unwrap();
    let alerts = Alerts::new(config(Some(url))).unwrap();
    alerts.quota(99, 100);
    alerts.flush().await;
    let text = logs.text();
    assert!(text.contains("quota"), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(!format!("{alerts:?}").contains("s3cr3t"));
}

/// Log lines written by a test subscriber.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Everything logged so far.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
