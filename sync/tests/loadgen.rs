//! The load generator against the real receiver: `stripe-sfdc-loadgen` drives
//! `stripe-sfdc-sync receiver` over loopback HTTP, and every event it reports accepted is in
//! the SQLite queue afterwards, once.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stripe_sfdc_sync::config::{CONFIG_ENV, SETTINGS};
use stripe_sfdc_sync::queue::Queue as _;
use stripe_sfdc_sync::sqlite::SqliteQueue;

const RECEIVER: &str = env!("CARGO_BIN_EXE_stripe-sfdc-sync");
const LOADGEN: &str = env!("CARGO_BIN_EXE_stripe-sfdc-loadgen");
const SECRET: &str = "whsec_loadgen_test_secret";

/// A free loopback port (bound, read and released).
fn free_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address")
}

/// Kills the receiver if a test fails before stopping it.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the receiver on `database` at `address` and waits until it accepts connections.
fn start_receiver(database: &Path, address: SocketAddr) -> Guard {
    let mut command = Command::new(RECEIVER);
    for setting in SETTINGS {
        command.env_remove(setting.env);
    }
    let child = command
        .env_remove(CONFIG_ENV)
        .env("RUST_LOG", "warn")
        .env("SYNC_DATABASE", database)
        .env("SYNC_LISTEN", address.to_string())
        .env("STRIPE_WEBHOOK_SECRETS", SECRET)
        .arg("receiver")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the receiver");
    let mut guard = Guard(child);
    let start = Instant::now();
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        assert!(
            guard.0.try_wait().expect("poll the receiver").is_none(),
            "the receiver exited early"
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the receiver never listened on {address}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    guard
}

/// Runs the load generator with `args` against `address`, signing with `secret`; its JSON
/// report.
fn loadgen(address: SocketAddr, secret: &str, args: &[&str]) -> serde_json::Value {
    let output = Command::new(LOADGEN)
        .env_remove("STRIPE_WEBHOOK_SECRET")
        .env_remove("LOADGEN_URL")
        .args(["--url", &format!("http://{address}"), "--secret", secret])
        .args(["--json"])
        .args(args)
        .output()
        .expect("run the load generator");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "loadgen failed: {}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("not JSON ({error}): {stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn loadgen_events_all_land_in_the_queue_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("sync.db");
    let address = free_address();
    let _receiver = start_receiver(&database, address);

    let report = loadgen(
        address,
        SECRET,
        &["--events", "200", "--rate", "0", "--concurrency", "16"],
    );
    assert_eq!(report["sent"], 200, "{report:#}");
    assert_eq!(report["accepted"], 200, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report:#}");
    assert_eq!(
        report["other_statuses"],
        serde_json::json!({}),
        "{report:#}"
    );
    assert_eq!(report["latency"]["count"], 200, "{report:#}");
    let types = report["types"].as_object().expect("types by event type");
    assert!(
        types.len() > 5,
        "the default mix sends many types: {report:#}"
    );
    let typed: u64 = types.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(typed, 200);

    // Every accepted event is committed before its 200: the queue holds all of them, once.
    let queue = SqliteQueue::open(&database).expect("open the queue");
    let stats = queue.stats().await.expect("queue stats");
    assert_eq!(stats.depth, 200, "{stats:?}");
    assert_eq!(stats.in_flight, 0);
    let deliveries = queue
        .pull(1000, Duration::from_secs(60))
        .await
        .expect("pull");
    let ids: std::collections::BTreeSet<&str> = deliveries
        .iter()
        .map(|d| d.envelope.event_id.as_str())
        .collect();
    assert_eq!(ids.len(), 200);

    // An open-loop run adds its own, different events.
    let report = loadgen(
        address,
        SECRET,
        &["--events", "50", "--rate", "500", "--concurrency", "4"],
    );
    assert_eq!(report["accepted"], 50, "{report:#}");
    assert_eq!(report["target_rate"], 500.0, "{report:#}");
    assert_eq!(queue.stats().await.expect("queue stats").depth, 250);

    // Events signed with another secret are refused and queue nothing.
    let report = loadgen(address, "whsec_not_the_receivers", &["--events", "10"]);
    assert_eq!(report["accepted"], 0, "{report:#}");
    assert_eq!(
        report["other_statuses"],
        serde_json::json!({"400": 10}),
        "{report:#}"
    );
    assert_eq!(queue.stats().await.expect("queue stats").depth, 250);
}

#[test]
fn loadgen_refuses_a_bad_mix_and_an_unreachable_receiver() {
    let output = Command::new(LOADGEN)
        .args(["--secret", SECRET, "--mix", "charge.refunded=1"])
        .output()
        .expect("run the load generator");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("charge.refunded"), "{stderr}");

    let address = free_address();
    let output = Command::new(LOADGEN)
        .args(["--secret", SECRET, "--events", "1"])
        .args(["--url", &format!("http://{address}")])
        .output()
        .expect("run the load generator");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not reachable"), "{stderr}");
}
