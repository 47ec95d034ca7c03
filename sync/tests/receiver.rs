//! The webhook receiver's router driven in process: signatures, payload checks, body limit,
//! livemode, queue failures, health, metrics and request ids.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use proptest::prelude::*;
use stripe_sfdc_sync::queue::{
    Delivery, Envelope, Priority, Queue, QueueError, QueueStats, Receipt,
};
use stripe_sfdc_sync::receiver::{ReceiverState, readiness_fn, router};
use stripe_sfdc_sync::signature::{Verifier, sign};
use time::OffsetDateTime;
use tower::ServiceExt as _;

const SECRET: &str = "whsec_test_primary";
const OLD_SECRET: &str = "whsec_test_previous";
const NOW: i64 = 1_760_000_000;

/// A queue that keeps pushed envelopes in memory and can be told to fail.
#[derive(Default)]
struct MemoryQueue {
    pushed: Mutex<Vec<Envelope>>,
    fail_push: AtomicBool,
    fail_stats: AtomicBool,
}

impl MemoryQueue {
    fn pushed(&self) -> Vec<Envelope> {
        self.pushed.lock().expect("lock").clone()
    }

    fn backend_error(operation: &'static str) -> QueueError {
        QueueError::Backend {
            operation,
            detail: "disk I/O error at /var/lib/secret-path".to_owned(),
        }
    }
}

impl Queue for MemoryQueue {
    async fn push(&self, envelope: &Envelope) -> Result<(), QueueError> {
        if self.fail_push.load(Ordering::SeqCst) {
            return Err(Self::backend_error("push"));
        }
        self.pushed.lock().expect("lock").push(envelope.clone());
        Ok(())
    }

    async fn pull(&self, _max: usize, _lease: Duration) -> Result<Vec<Delivery>, QueueError> {
        Ok(Vec::new())
    }

    async fn extend(&self, _receipt: &Receipt, _lease: Duration) -> Result<(), QueueError> {
        Ok(())
    }

    async fn ack(&self, _receipt: &Receipt) -> Result<(), QueueError> {
        Ok(())
    }

    async fn retry_at(&self, _receipt: &Receipt, _at: OffsetDateTime) -> Result<(), QueueError> {
        Ok(())
    }

    async fn stats(&self) -> Result<QueueStats, QueueError> {
        if self.fail_stats.load(Ordering::SeqCst) {
            return Err(Self::backend_error("stats"));
        }
        let depth = self.pushed.lock().expect("lock").len() as u64;
        Ok(QueueStats {
            depth,
            in_flight: 0,
            oldest_age: (depth > 0).then(|| Duration::from_secs(3)),
        })
    }
}

struct Harness {
    queue: Arc<MemoryQueue>,
    app: Router,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).expect("valid timestamp")
}

fn state(queue: Arc<MemoryQueue>, livemode: bool) -> ReceiverState<MemoryQueue> {
    let verifier = Verifier::new(
        vec![SECRET.to_owned(), OLD_SECRET.to_owned()],
        Duration::from_secs(300),
    )
    .expect("verifier");
    ReceiverState::new(queue, Arc::new(verifier), livemode).with_clock(Arc::new(now))
}

fn harness() -> Harness {
    let queue = Arc::new(MemoryQueue::default());
    let app = router(state(Arc::clone(&queue), false));
    Harness { queue, app }
}

fn event(id: &str, event_type: &str, object_id: &str, livemode: bool) -> String {
    format!(
        r#"{{"id":"{id}","object":"event","api_version":"2025-09-30.clover","created":1759999990,"livemode":{livemode},"type":"{event_type}","data":{{"object":{{"id":"{object_id}","object":"invoice","customer_email":"someone@example.com"}}}}}}"#
    )
}

fn signed(body: &str, secret: &str, timestamp: i64) -> Request<Body> {
    Request::post("/webhook/stripe")
        .header("stripe-signature", sign(secret, timestamp, body.as_bytes()))
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request")
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        headers,
        String::from_utf8(bytes.to_vec()).expect("utf-8"),
    )
}

async fn get(app: &Router, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    send(
        app,
        Request::get(path).body(Body::empty()).expect("request"),
    )
    .await
}

#[tokio::test]
async fn valid_event_is_queued_once_then_acknowledged() {
    let h = harness();
    let body = event("evt_1", "invoice.payment_failed", "in_1", false);
    let (status, _, text) = send(&h.app, signed(&body, SECRET, NOW - 10)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, r#"{"received":true}"#);

    let pushed = h.queue.pushed();
    assert_eq!(pushed.len(), 1);
    let envelope = &pushed[0];
    assert_eq!(envelope.event_id, "evt_1");
    assert_eq!(envelope.event_type, "invoice.payment_failed");
    assert_eq!(envelope.object_id.as_deref(), Some("in_1"));
    assert_eq!(envelope.created, 1_759_999_990);
    assert_eq!(envelope.priority, Priority::High);
    assert_eq!(envelope.payload, body.as_bytes());
    assert_eq!(envelope.received_at, now());
}

#[tokio::test]
async fn priorities_are_assigned_from_the_type() {
    let h = harness();
    for (i, event_type) in ["invoice.paid", "customer.updated"].into_iter().enumerate() {
        let body = event(&format!("evt_{i}"), event_type, "obj_1", false);
        let (status, _, _) = send(&h.app, signed(&body, SECRET, NOW)).await;
        assert_eq!(status, StatusCode::OK);
    }
    let priorities: Vec<Priority> = h.queue.pushed().iter().map(|e| e.priority).collect();
    assert_eq!(priorities, [Priority::Normal, Priority::Low]);
}

#[tokio::test]
async fn signature_failures_are_400_without_detail_and_queue_nothing() {
    let h = harness();
    let body = event("evt_1", "invoice.paid", "in_1", false);

    let wrong_secret = signed(&body, "whsec_someone_else", NOW);
    let stale = signed(&body, SECRET, NOW - 301);
    let future = signed(&body, SECRET, NOW + 301);
    let mut tampered = signed(&body, SECRET, NOW);
    *tampered.body_mut() = Body::from(body.replace("in_1", "in_2"));
    let missing = Request::post("/webhook/stripe")
        .body(Body::from(body.clone()))
        .expect("request");
    let malformed_header = Request::post("/webhook/stripe")
        .header("stripe-signature", "garbage")
        .body(Body::from(body.clone()))
        .expect("request");

    for request in [
        wrong_secret,
        stale,
        future,
        tampered,
        missing,
        malformed_header,
    ] {
        let (status, _, text) = send(&h.app, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(text.is_empty(), "body reveals detail: {text}");
    }
    assert!(h.queue.pushed().is_empty());

    let (_, _, metrics) = get(&h.app, "/metrics").await;
    assert!(metrics.contains(
        "stripe_events_received_total{type=\"unparsed\",outcome=\"rejected_signature\"} 6\n"
    ));
}

#[tokio::test]
async fn a_second_secret_is_accepted_during_rotation() {
    let h = harness();
    let body = event("evt_1", "invoice.paid", "in_1", false);
    let (status, _, _) = send(&h.app, signed(&body, OLD_SECRET, NOW)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.queue.pushed().len(), 1);
}

#[tokio::test]
async fn malformed_json_and_missing_fields_are_400() {
    let h = harness();
    let bodies = [
        "{not json".to_owned(),
        r#"{"id":"evt_1","type":"invoice.paid","created":1,"livemode":false}"#.to_owned(),
        r#"{"id":"evt_1","created":1,"livemode":false,"data":{"object":{"id":"in_1"}}}"#.to_owned(),
        r#"{"id":"","type":"invoice.paid","created":1,"livemode":false,"data":{"object":{}}}"#
            .to_owned(),
        r#"{"id":"evt_1","type":"invoice.paid","created":"yesterday","livemode":false,"data":{"object":{}}}"#
            .to_owned(),
        "[]".to_owned(),
    ];
    for body in &bodies {
        let (status, _, text) = send(&h.app, signed(body, SECRET, NOW)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(text, r#"{"error":"malformed event"}"#);
    }
    assert!(h.queue.pushed().is_empty());
}

#[tokio::test]
async fn an_object_without_id_is_queued_without_object_id() {
    let h = harness();
    let body = r#"{"id":"evt_b","type":"balance.available","created":5,"livemode":false,"data":{"object":{"object":"balance"}}}"#;
    let (status, _, _) = send(&h.app, signed(body, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.queue.pushed()[0].object_id, None);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let queue = Arc::new(MemoryQueue::default());
    let app = router(state(Arc::clone(&queue), false).with_max_body(1024));
    let padding = "x".repeat(2000);
    let body = event("evt_1", "invoice.paid", &padding, false);
    let (status, _, _) = send(&app, signed(&body, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // Without a Content-Length (chunked), the limit still applies while reading.
    let stream = futures_util::stream::iter(
        body.as_bytes()
            .chunks(100)
            .map(|chunk| Ok::<_, std::io::Error>(chunk.to_vec()))
            .collect::<Vec<_>>(),
    );
    let request = Request::post("/webhook/stripe")
        .header("stripe-signature", sign(SECRET, NOW, body.as_bytes()))
        .body(Body::from_stream(stream))
        .expect("request");
    let (status, _, _) = send(&app, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(queue.pushed().is_empty());

    let small = event("evt_2", "invoice.paid", "in_1", false);
    let (status, _, _) = send(&app, signed(&small, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::OK);

    let (_, _, metrics) = get(&app, "/metrics").await;
    assert!(
        metrics
            .contains("stripe_events_received_total{type=\"unparsed\",outcome=\"too_large\"} 2\n")
    );
}

#[tokio::test]
async fn the_default_limit_is_512_kib() {
    let h = harness();
    let body = event("evt_1", "invoice.paid", &"y".repeat(600 * 1024), false);
    let (status, _, _) = send(&h.app, signed(&body, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let body = event("evt_1", "invoice.paid", &"y".repeat(500 * 1024), false);
    let (status, _, _) = send(&h.app, signed(&body, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn livemode_mismatch_is_400() {
    let h = harness();
    let body = event("evt_live", "invoice.paid", "in_1", true);
    let (status, _, text) = send(&h.app, signed(&body, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(text, r#"{"error":"livemode mismatch"}"#);
    assert!(h.queue.pushed().is_empty());

    let queue = Arc::new(MemoryQueue::default());
    let live = router(state(Arc::clone(&queue), true));
    let (status, _, _) = send(&live, signed(&body, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::OK);
    let test_event = event("evt_test", "invoice.paid", "in_1", false);
    let (status, _, _) = send(&live, signed(&test_event, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(queue.pushed().len(), 1);
}

#[tokio::test]
async fn a_failing_queue_is_503_and_nothing_is_acknowledged() {
    let h = harness();
    h.queue.fail_push.store(true, Ordering::SeqCst);
    let body = event("evt_1", "invoice.paid", "in_1", false);
    let (status, _, text) = send(&h.app, signed(&body, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!text.contains("received"));
    assert!(!text.contains("secret-path"));
    assert!(h.queue.pushed().is_empty());

    h.queue.fail_push.store(false, Ordering::SeqCst);
    let (status, _, _) = send(&h.app, signed(&body, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::OK);

    let (_, _, metrics) = get(&h.app, "/metrics").await;
    assert!(metrics.contains(
        "stripe_events_received_total{type=\"invoice.paid\",outcome=\"queue_unavailable\"} 1\n"
    ));
    assert!(
        metrics.contains(
            "stripe_events_received_total{type=\"invoice.paid\",outcome=\"accepted\"} 1\n"
        )
    );
}

#[tokio::test]
async fn unknown_event_types_are_acknowledged_counted_and_queued() {
    let h = harness();
    let body = event(
        "evt_u",
        "radar.early_fraud_warning.created",
        "issfr_1",
        false,
    );
    let (status, _, _) = send(&h.app, signed(&body, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::OK);
    let brand_new = event("evt_n", "something.stripe.adds_later", "x_1", false);
    let (status, _, _) = send(&h.app, signed(&brand_new, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::OK);
    let handled = event("evt_h", "invoice.paid", "in_1", false);
    let (status, _, _) = send(&h.app, signed(&handled, SECRET, NOW)).await;
    assert_eq!(status, StatusCode::OK);

    let pushed = h.queue.pushed();
    assert_eq!(pushed.len(), 3);
    assert_eq!(pushed[0].priority, Priority::Low);

    let (_, _, metrics) = get(&h.app, "/metrics").await;
    assert!(
        metrics.contains(
            "stripe_events_unhandled_total{type=\"radar.early_fraud_warning.created\"} 1\n"
        )
    );
    assert!(
        metrics.contains("stripe_events_unhandled_total{type=\"something.stripe.adds_later\"} 1\n")
    );
    assert!(!metrics.contains("stripe_events_unhandled_total{type=\"invoice.paid\"}"));
}

#[tokio::test]
async fn liveness_is_always_200() {
    let h = harness();
    h.queue.fail_stats.store(true, Ordering::SeqCst);
    let (status, _, text) = get(&h.app, "/health/live").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, r#"{"status":"live"}"#);
}

#[tokio::test]
async fn readiness_follows_the_queue_and_the_checks() {
    let queue = Arc::new(MemoryQueue::default());
    let store_ready = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&store_ready);
    let app = router(
        state(Arc::clone(&queue), false)
            .with_readiness(readiness_fn("store", move || {
                let ready = flag.load(Ordering::SeqCst);
                Box::pin(async move { ready })
            }))
            .with_readiness(readiness_fn("salesforce_auth", || Box::pin(async { true }))),
    );

    let (status, _, text) = get(&app, "/health/ready").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, r#"{"status":"ready"}"#);

    queue.fail_stats.store(true, Ordering::SeqCst);
    let (status, _, text) = get(&app, "/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(text, r#"{"failing":["queue"],"status":"not_ready"}"#);
    assert!(!text.contains("secret-path") && !text.contains("disk"));

    store_ready.store(false, Ordering::SeqCst);
    let (status, _, text) = get(&app, "/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        text,
        r#"{"failing":["queue","store"],"status":"not_ready"}"#
    );

    queue.fail_stats.store(false, Ordering::SeqCst);
    let (status, _, text) = get(&app, "/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(text, r#"{"failing":["store"],"status":"not_ready"}"#);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_check_times_out_as_not_ready() {
    let queue = Arc::new(MemoryQueue::default());
    let app = router(
        state(queue, false).with_readiness(readiness_fn("salesforce_auth", || {
            Box::pin(std::future::pending::<bool>())
        })),
    );
    let (status, _, text) = get(&app, "/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        text,
        r#"{"failing":["salesforce_auth"],"status":"not_ready"}"#
    );
}

#[tokio::test]
async fn metrics_expose_counters_and_queue_gauges() {
    let h = harness();
    let good = event("evt_1", "invoice.paid", "in_1", false);
    send(&h.app, signed(&good, SECRET, NOW)).await;
    send(&h.app, signed(&good, "whsec_wrong", NOW)).await;
    send(&h.app, signed("{", SECRET, NOW)).await;
    let live = event("evt_2", "customer.updated", "cus_1", true);
    send(&h.app, signed(&live, SECRET, NOW)).await;

    let (status, headers, text) = get(&h.app, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain; version=0.0.4")
    );
    for line in [
        "# TYPE stripe_events_received_total counter\n",
        "stripe_events_received_total{type=\"invoice.paid\",outcome=\"accepted\"} 1\n",
        "stripe_events_received_total{type=\"unparsed\",outcome=\"rejected_signature\"} 1\n",
        "stripe_events_received_total{type=\"unparsed\",outcome=\"rejected_payload\"} 1\n",
        "stripe_events_received_total{type=\"customer.updated\",outcome=\"rejected_livemode\"} 1\n",
        "# TYPE stripe_events_unhandled_total counter\n",
        "# TYPE salesforce_calls_total counter\n",
        "# TYPE salesforce_api_usage_ratio gauge\n",
        "# TYPE retries_total counter\n",
        "# TYPE dead_letters_total counter\n",
        "# TYPE events_skipped_stale_total counter\n",
        "# TYPE events_duplicate_total counter\n",
        "queue_up 1\n",
        "queue_depth 1\n",
        "queue_oldest_age_seconds 3\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }

    h.queue.fail_stats.store(true, Ordering::SeqCst);
    let (status, _, text) = get(&h.app, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("queue_up 0\n"));
    assert!(!text.contains("secret-path"));
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let h = harness();
    let body = event("evt_1", "invoice.paid", "in_1", false);
    let mut request = signed(&body, SECRET, NOW);
    request
        .headers_mut()
        .insert("x-request-id", "req-abc_123.4".parse().expect("header"));
    let (_, headers, _) = send(&h.app, request).await;
    assert_eq!(headers["x-request-id"], "req-abc_123.4");

    let (_, headers, _) = get(&h.app, "/health/live").await;
    let generated = headers["x-request-id"].to_str().expect("ascii").to_owned();
    assert_eq!(generated.len(), 32);
    assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()));

    // An id that is not safe to log is replaced, also on rejected requests.
    let mut request = signed(&body, "whsec_wrong", NOW);
    request.headers_mut().insert(
        "x-request-id",
        "bad id with spaces".parse().expect("header"),
    );
    let (status, headers, _) = send(&h.app, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_ne!(headers["x-request-id"], "bad id with spaces");
}

fn whitespace() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![Just(' '), Just('\t'), Just('\n'), Just('\r')],
        0..4,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_raw_body_is_queued_byte_for_byte(
        ws in proptest::collection::vec(whitespace(), 8),
        text in "\\PC{0,40}",
        escaped in any::<bool>(),
    ) {
        let name = if escaped {
            serde_json::to_string(&text).expect("string")
        } else {
            // Raw non-ASCII kept as UTF-8, only JSON's mandatory escapes applied.
            format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
        };
        let body = format!(
            "{w0}{{{w1}\"id\"{w2}:{w3}\"evt_p\",\"type\":\"customer.updated\",\"created\":7,\"livemode\":false,{w4}\"data\":{{\"object\":{{\"id\":\"cus_1\",\"name\":{w5}{name}{w6}}}}}}}{w7}",
            w0 = ws[0], w1 = ws[1], w2 = ws[2], w3 = ws[3], w4 = ws[4], w5 = ws[5], w6 = ws[6], w7 = ws[7],
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let h = harness();
        let (status, _, _) = runtime.block_on(send(&h.app, signed(&body, SECRET, NOW)));
        prop_assert_eq!(status, StatusCode::OK, "{}", body);
        let pushed = h.queue.pushed();
        prop_assert_eq!(pushed.len(), 1);
        prop_assert_eq!(&pushed[0].payload, &body.into_bytes());
    }
}
