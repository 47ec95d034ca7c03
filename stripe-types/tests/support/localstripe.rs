//! localstripe for the tests that talk to it: its base URL (`LOCALSTRIPE_URL`, or started by
//! `tests/peers/localstripe.sh` for this test process) and a client with short retries. The tests
//! fail, saying why, when localstripe cannot be had: they never skip.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use stripe_types::client::{Client, RetryPolicy};

/// localstripe accepts any key that starts with `sk_` and is longer than five characters.
pub const KEY: &str = "sk_test_localstripe";

pub fn base_url() -> &'static str {
    static URL: OnceLock<Result<String, String>> = OnceLock::new();
    let url = URL.get_or_init(|| match std::env::var("LOCALSTRIPE_URL") {
        Ok(url) if !url.trim().is_empty() => Ok(url.trim().to_owned()),
        _ => start_localstripe(),
    });
    match url {
        Ok(url) => url,
        Err(why) => panic!("localstripe is required for these tests and {why}"),
    }
}

fn start_localstripe() -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/localstripe.sh");
    let output = Command::new("bash")
        .arg(&script)
        .env("LOCALSTRIPE_EXIT_WITH_PID", std::process::id().to_string())
        .output()
        .map_err(|e| format!("{} could not be run: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let url = stdout.lines().last().unwrap_or_default().trim();
    if !output.status.success() || !url.starts_with("http://127.0.0.1:") {
        return Err(format!(
            "{} failed ({}): {}{}",
            script.display(),
            output.status,
            stderr.trim(),
            stdout.trim()
        ));
    }
    Ok(url.to_owned())
}

pub fn client() -> Client {
    Client::builder(KEY)
        .base_url(base_url())
        .timeout(Duration::from_secs(30))
        .retry_policy(RetryPolicy {
            max_retries: 2,
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(200),
            ..RetryPolicy::default()
        })
        .build()
        .expect("client")
}
