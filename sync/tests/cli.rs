//! The `stripe-sfdc-sync` binary, run as a process: help, configuration errors, the receiver
//! over HTTP with shutdown on SIGTERM, and the dead-letter subcommands.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use stripe_sfdc_sync::config::{CONFIG_ENV, SETTINGS};
use stripe_sfdc_sync::queue::Queue as _;
use stripe_sfdc_sync::signature::sign;
use stripe_sfdc_sync::sqlite::{SqliteQueue, SqliteStore};
use stripe_sfdc_sync::store::{Attempt, DeadLetter, DeadLetters as _};
use time::OffsetDateTime;

const BIN: &str = env!("CARGO_BIN_EXE_stripe-sfdc-sync");
const SECRET: &str = "whsec_cli_test_secret";

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

/// Runs the binary with `args` against `database`.
fn run(database: &Path, args: &[&str]) -> Output {
    command()
        .env("SYNC_DATABASE", database)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Stdout of a successful run, or a panic with its stderr.
fn success(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "failed: {}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Stderr of a failed run, or a panic.
fn failure(output: Output) -> String {
    assert!(
        !output.status.success(),
        "unexpected success: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A Stripe event body.
fn event(id: &str, event_type: &str, object_id: &str) -> String {
    format!(
        r#"{{"id":"{id}","object":"event","type":"{event_type}","created":1700000000,"livemode":false,"api_version":"2022-11-15","data":{{"object":{{"id":"{object_id}","object":"invoice"}}}}}}"#
    )
}

/// A free loopback port (bound, read and released).
fn free_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address")
}

/// One HTTP/1.1 request; the status code and the body.
fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
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
}

/// Waits up to `limit` for `child` to exit.
fn wait_for_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Kills `child` if a test fails before stopping it.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn help_lists_every_setting_with_its_env_var() {
    let help = success(command().arg("--help").output().expect("the binary runs"));
    for setting in SETTINGS {
        assert!(
            help.contains(setting.flag),
            "{} missing from:\n{help}",
            setting.flag
        );
        assert!(
            help.contains(&format!("[env: {}", setting.env)),
            "{} missing",
            setting.env
        );
        assert!(
            help.contains(&format!("`{}`", setting.key)),
            "{} missing",
            setting.key
        );
    }
    assert!(help.contains("[env: SYNC_CONFIG"));
    for subcommand in ["serve", "receiver", "worker", "dlq"] {
        assert!(help.contains(subcommand), "{subcommand} missing");
    }
    let dlq_help = success(command().args(["dlq", "--help"]).output().expect("runs"));
    for action in ["list", "show", "replay", "drop"] {
        assert!(dlq_help.contains(action), "dlq {action} missing");
    }
}

#[test]
fn help_hides_secret_values_from_the_environment() {
    let help = success(
        command()
            .env("STRIPE_WEBHOOK_SECRETS", "whsec_do_not_print")
            .env("SALESFORCE_CLIENT_SECRET", "sf_do_not_print")
            .arg("--help")
            .output()
            .expect("the binary runs"),
    );
    assert!(!help.contains("do_not_print"), "{help}");
}

#[test]
fn receiver_without_webhook_secret_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = failure(run(&dir.path().join("sync.db"), &["receiver"]));
    assert!(stderr.contains("STRIPE_WEBHOOK_SECRETS"), "{stderr}");
    assert!(stderr.contains("stripe.webhook_secrets"), "{stderr}");
}

#[test]
fn worker_without_salesforce_credentials_fails_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = failure(run(&dir.path().join("sync.db"), &["worker"]));
    assert!(stderr.contains("SALESFORCE_CLIENT_ID"), "{stderr}");
}

#[test]
fn outbound_without_a_stripe_key_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = command()
        .env("SYNC_DATABASE", dir.path().join("sync.db"))
        .env("SALESFORCE_CLIENT_ID", "client")
        .env("SALESFORCE_CLIENT_SECRET", "client-secret-value")
        .arg("outbound")
        .output()
        .expect("the binary runs");
    let stderr = failure(output);
    assert!(stderr.contains("STRIPE_SECRET_KEY"), "{stderr}");
    assert!(!stderr.contains("client-secret-value"), "{stderr}");
}

#[test]
fn invalid_settings_fail_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let output = command()
        .env("SYNC_DATABASE", dir.path().join("sync.db"))
        .env("STRIPE_WEBHOOK_SECRETS", SECRET)
        .env("SYNC_LISTEN", "not-an-address")
        .arg("receiver")
        .output()
        .expect("runs");
    let stderr = failure(output);
    assert!(stderr.contains("SYNC_LISTEN"), "{stderr}");
    assert!(stderr.contains("not-an-address"), "{stderr}");

    let file = dir.path().join("sync.toml");
    std::fs::write(&file, "[worker]\nbatch_sise = 10\n").unwrap();
    let output = command()
        .env("SYNC_CONFIG", &file)
        .args(["dlq", "list"])
        .output()
        .expect("runs");
    let stderr = failure(output);
    assert!(stderr.contains("worker.batch_sise"), "{stderr}");
}

#[test]
fn receiver_accepts_a_signed_event_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("sync.db");
    let address = free_address();
    let child = command()
        .env("SYNC_DATABASE", &database)
        .env("SYNC_LISTEN", address.to_string())
        .env("STRIPE_WEBHOOK_SECRETS", format!("whsec_old,{SECRET}"))
        .arg("receiver")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the receiver");
    let mut child = Guard(child);

    let start = Instant::now();
    loop {
        match http(address, "GET", "/health/live", &[], "") {
            Ok((200, body)) => {
                assert!(body.contains("live"), "{body}");
                break;
            }
            _ if start.elapsed() < Duration::from_secs(20) => {
                assert!(
                    child.0.try_wait().unwrap().is_none(),
                    "the receiver exited early"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            other => panic!("the receiver never answered /health/live: {other:?}"),
        }
    }

    let body = event("evt_cli_1", "invoice.paid", "in_cli_1");
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let signature = sign(SECRET, now, body.as_bytes());
    let (status, answer) = http(
        address,
        "POST",
        "/webhook/stripe",
        &[
            ("Content-Type", "application/json"),
            ("Stripe-Signature", &signature),
        ],
        &body,
    )
    .expect("post the event");
    assert_eq!(status, 200, "{answer}");

    let bad = sign("whsec_wrong", now, body.as_bytes());
    let (status, _) = http(
        address,
        "POST",
        "/webhook/stripe",
        &[("Stripe-Signature", &bad)],
        &body,
    )
    .expect("post a badly signed event");
    assert_eq!(status, 400);

    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = wait_for_exit(&mut child.0, Duration::from_secs(15))
        .expect("the receiver stops within 15 s of SIGTERM");
    let mut stderr = String::new();
    if let Some(mut pipe) = child.0.stderr.take() {
        pipe.read_to_string(&mut stderr).unwrap();
    }
    assert!(status.success(), "exit {status}; stderr:\n{stderr}");
    assert!(!stderr.contains(SECRET), "a secret was logged:\n{stderr}");
    assert!(
        !stderr.contains("whsec_old"),
        "a secret was logged:\n{stderr}"
    );
    for line in stderr.lines().filter(|line| !line.trim().is_empty()) {
        let parsed: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(parsed.get("level").is_some(), "{line}");
    }
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert!(
        stderr.contains("evt_cli_1"),
        "the event is not in the logs:\n{stderr}"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let queue = SqliteQueue::open(&database).unwrap();
        let deliveries = queue.pull(10, Duration::from_secs(30)).await.unwrap();
        assert_eq!(deliveries.len(), 1);
        let envelope = &deliveries[0].envelope;
        assert_eq!(envelope.event_id, "evt_cli_1");
        assert_eq!(envelope.event_type, "invoice.paid");
        assert_eq!(envelope.object_id.as_deref(), Some("in_cli_1"));
        assert_eq!(envelope.payload, body.as_bytes());
    });
}

/// A dead letter of `event_id` with two attempts.
fn letter(event_id: &str) -> DeadLetter {
    let at = OffsetDateTime::from_unix_timestamp(1_700_000_100).unwrap();
    DeadLetter {
        event_id: event_id.to_owned(),
        event_type: "invoice.paid".to_owned(),
        payload: event(event_id, "invoice.paid", "in_dead").into_bytes(),
        reason: "FIELD_CUSTOM_VALIDATION_EXCEPTION: Amount must be positive".to_owned(),
        attempts: vec![
            Attempt {
                at,
                error: "UNABLE_TO_LOCK_ROW".to_owned(),
            },
            Attempt {
                at: at + Duration::from_secs(2),
                error: "FIELD_CUSTOM_VALIDATION_EXCEPTION: Amount must be positive".to_owned(),
            },
        ],
        dead_lettered_at: at + Duration::from_secs(3),
    }
}

#[test]
fn dlq_list_show_replay_and_drop() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("sync.db");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = SqliteStore::open(&database).unwrap();
    runtime.block_on(async {
        store.put(&letter("evt_dead_1")).await.unwrap();
        store.put(&letter("evt_dead_2")).await.unwrap();
    });

    let list = success(run(&database, &["dlq", "list"]));
    assert!(list.contains("evt_dead_1"), "{list}");
    assert!(list.contains("evt_dead_2"), "{list}");
    assert!(list.contains("invoice.paid"), "{list}");
    assert!(list.contains("2 attempts"), "{list}");
    let page = success(run(&database, &["dlq", "list", "--limit", "1"]));
    assert_eq!(page.lines().count(), 1, "{page}");
    let after = success(run(&database, &["dlq", "list", "--after", "evt_dead_1"]));
    assert!(
        !after.contains("evt_dead_1") && after.contains("evt_dead_2"),
        "{after}"
    );

    let show = success(run(&database, &["dlq", "show", "evt_dead_1"]));
    assert!(show.contains("FIELD_CUSTOM_VALIDATION_EXCEPTION"), "{show}");
    assert!(show.contains("attempts: 2"), "{show}");
    assert!(show.contains("UNABLE_TO_LOCK_ROW"), "{show}");
    assert!(
        !show.contains("in_dead"),
        "payload shown without --payload: {show}"
    );
    let with_payload = success(run(&database, &["dlq", "show", "evt_dead_1", "--payload"]));
    assert!(with_payload.contains(r#""id":"in_dead""#), "{with_payload}");

    let replay = success(run(&database, &["dlq", "replay", "evt_dead_1"]));
    assert!(replay.contains("evt_dead_1"), "{replay}");
    runtime.block_on(async {
        assert!(store.get("evt_dead_1").await.unwrap().is_none());
        let queue = SqliteQueue::open(&database).unwrap();
        let deliveries = queue.pull(10, Duration::from_secs(30)).await.unwrap();
        assert_eq!(deliveries.len(), 1);
        let envelope = &deliveries[0].envelope;
        assert_eq!(envelope.event_id, "evt_dead_1");
        assert_eq!(envelope.event_type, "invoice.paid");
        assert_eq!(envelope.object_id.as_deref(), Some("in_dead"));
        assert_eq!(envelope.created, 1_700_000_000);
        assert_eq!(envelope.payload, letter("evt_dead_1").payload);
    });
    let stderr = failure(run(&database, &["dlq", "show", "evt_dead_1"]));
    assert!(stderr.contains("evt_dead_1"), "{stderr}");
    let stderr = failure(run(&database, &["dlq", "replay", "evt_dead_1"]));
    assert!(stderr.contains("evt_dead_1"), "{stderr}");

    let dropped = success(run(&database, &["dlq", "drop", "evt_dead_2"]));
    assert!(dropped.contains("evt_dead_2"), "{dropped}");
    runtime.block_on(async {
        assert!(store.get("evt_dead_2").await.unwrap().is_none());
    });
    let stderr = failure(run(&database, &["dlq", "drop", "evt_dead_2"]));
    assert!(stderr.contains("evt_dead_2"), "{stderr}");
    let empty = success(run(&database, &["dlq", "list"]));
    assert!(empty.contains("no dead letters"), "{empty}");
}

#[test]
fn serve_queues_an_event_and_keeps_it_across_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("sync.db");
    let address = free_address();
    // Salesforce is unreachable: the worker can only retry or dead-letter the event.
    let child = command()
        .env("SYNC_DATABASE", &database)
        .env("SYNC_LISTEN", address.to_string())
        .env("STRIPE_WEBHOOK_SECRETS", SECRET)
        .env("SALESFORCE_LOGIN_URL", format!("http://{}", free_address()))
        .env("SALESFORCE_CLIENT_ID", "client")
        .env("SALESFORCE_CLIENT_SECRET", "client-secret-value")
        .args(["--log-format", "text", "serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start serve");
    let mut child = Guard(child);

    let start = Instant::now();
    while !matches!(http(address, "GET", "/health/live", &[], ""), Ok((200, _))) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve never answered"
        );
        assert!(child.0.try_wait().unwrap().is_none(), "serve exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Ready needs Salesforce authentication, which cannot succeed here; the store is fine.
    let (status, ready) = http(address, "GET", "/health/ready", &[], "").expect("ready answers");
    assert_eq!(status, 503, "{ready}");
    assert!(ready.contains("salesforce_auth"), "{ready}");
    assert!(!ready.contains("store"), "{ready}");
    let body = event("evt_serve_1", "invoice.payment_failed", "in_serve_1");
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let signature = sign(SECRET, now, body.as_bytes());
    let (status, answer) = http(
        address,
        "POST",
        "/webhook/stripe",
        &[("Stripe-Signature", &signature)],
        &body,
    )
    .expect("post the event");
    assert_eq!(status, 200, "{answer}");
    std::thread::sleep(Duration::from_millis(300));

    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = wait_for_exit(&mut child.0, Duration::from_secs(15))
        .expect("serve stops within 15 s of SIGTERM");
    let mut stderr = String::new();
    if let Some(mut pipe) = child.0.stderr.take() {
        pipe.read_to_string(&mut stderr).unwrap();
    }
    assert!(status.success(), "exit {status}; stderr:\n{stderr}");
    assert!(!stderr.contains("client-secret-value"), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Nothing lost: still queued (Salesforce unreachable), or dead-lettered with its reason
    // (this minimal invoice may not map).
    runtime.block_on(async {
        let stats = SqliteQueue::open(&database).unwrap().stats().await.unwrap();
        let letter = SqliteStore::open(&database)
            .unwrap()
            .get("evt_serve_1")
            .await
            .unwrap();
        assert!(
            stats.depth == 1 || letter.is_some(),
            "the event was lost: {stats:?}\n{stderr}"
        );
    });
}
