//! Admin alerts: dead letters, an error rate over the threshold, the Salesforce daily quota
//! over the threshold and a queue lagging behind, logged and posted as JSON to a webhook.
//!
//! The worker calls [`Alerts::dead_letter`], [`Alerts::outcome`], [`Alerts::quota`] and
//! [`Alerts::lag`]. Each alert is written to the log with `tracing::warn!` and, when a webhook
//! URL is configured, posted as JSON ([`Alert`]; its `text` field makes it a Slack message
//! too). Every kind is rate-limited on its own: at most one alert per [`AlertConfig::min_interval`];
//! the ones suppressed meanwhile are counted in the next one's `suppressed`.
//!
//! Raising an alert never waits on the network: alerts go through a bounded channel to a
//! background task that posts them (a 5 s timeout, one retry after a failure or a 5xx, then a
//! log line). When the channel is full the alert is dropped from the webhook (it is still in
//! the log) and counted in [`AlertStats::dropped`].
//!
//! Alerts name event ids, event types and counts, never personal data or secrets: a
//! dead-letter reason is cleaned of e-mail addresses and key-like tokens, and the webhook URL
//! (which often holds a token) only ever shows as its scheme and host.

mod sender;
mod window;

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{mpsc, oneshot};

use self::sender::{Message, Poster};
use self::window::ErrorWindow;
use crate::config::{ALERT_WEBHOOK_URL, AlertSettings};

/// The `service` field of every alert.
pub const SERVICE: &str = "stripe-sfdc-sync";

/// The default shortest time between two alerts of one kind (5 minutes).
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(300);
/// The default error rate over which the error-rate alert fires (5%).
pub const DEFAULT_ERROR_RATE_THRESHOLD: f64 = 0.05;
/// The default length of the error-rate window (5 minutes).
pub const DEFAULT_ERROR_WINDOW: Duration = Duration::from_secs(300);
/// The default fewest events in the window before the error rate is judged.
pub const DEFAULT_ERROR_MIN_EVENTS: u64 = 20;
/// The default share of the Salesforce daily API quota over which the quota alert fires.
pub const DEFAULT_QUOTA_THRESHOLD_PERCENT: u8 = 80;
/// The default age of the oldest queued event over which the lag alert fires (5 minutes).
pub const DEFAULT_LAG_THRESHOLD: Duration = Duration::from_secs(300);
/// The default number of alerts waiting for the webhook before new ones are dropped.
pub const DEFAULT_QUEUE_CAPACITY: usize = 64;
/// The default timeout of one webhook request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The default pause before the one retry of a failed webhook request.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// The longest dead-letter reason put in an alert, in characters.
const MAX_REASON_CHARS: usize = 500;
/// The longest event id or type put in an alert, in characters.
const MAX_ID_CHARS: usize = 255;

/// A clock, so that tests control time (the same shape as the worker's).
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Why alerts cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// The webhook URL is not a usable URL (the value itself is not repeated: it may hold a
    /// token).
    #[error("invalid setting {ALERT_WEBHOOK_URL}: {reason}")]
    InvalidUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// A threshold or limit of [`AlertConfig`] is out of range.
    #[error("invalid alert setting `{field}`: {reason}")]
    InvalidConfig {
        /// The [`AlertConfig`] field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client cannot be built.
    #[error("cannot build the HTTP client of the alert webhook: {0}")]
    Client(#[source] reqwest::Error),
    /// A webhook is configured but there is no Tokio runtime to post from.
    #[error("the alert webhook needs a Tokio runtime to post from")]
    NoRuntime,
}

/// A checked `http://` or `https://` webhook URL. `Debug` and [`WebhookUrl::redacted`] show
/// only its scheme, host and port: the path and query of a webhook URL often hold a token.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(reqwest::Url);

impl WebhookUrl {
    /// Parses `value`, which must be an absolute `http://` or `https://` URL with a host.
    pub fn parse(value: &str) -> Result<WebhookUrl, AlertError> {
        let invalid = |reason: String| AlertError::InvalidUrl { reason };
        let url = reqwest::Url::parse(value.trim())
            .map_err(|error| invalid(format!("not a URL ({error})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "expected an http:// or https:// URL, got scheme `{}`",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the URL has no host".to_owned()));
        }
        Ok(WebhookUrl(url))
    }

    /// The URL itself, to post to.
    pub fn expose(&self) -> &reqwest::Url {
        &self.0
    }

    /// Scheme, host and port only (`https://hooks.slack.com/…`), for logs and messages.
    pub fn redacted(&self) -> String {
        let host = self.0.host_str().unwrap_or_default();
        match self.0.port() {
            Some(port) => format!("{}://{host}:{port}/…", self.0.scheme()),
            None => format!("{}://{host}/…", self.0.scheme()),
        }
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WebhookUrl").field(&self.redacted()).finish()
    }
}

impl FromStr for WebhookUrl {
    type Err = AlertError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        WebhookUrl::parse(value)
    }
}

/// When alerts fire and where they go.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertConfig {
    /// Where alerts are posted as JSON; `None` logs them only.
    pub webhook_url: Option<WebhookUrl>,
    /// The shortest time between two alerts of one kind.
    pub min_interval: Duration,
    /// The error rate (0 to 1) over which the error-rate alert fires.
    pub error_rate_threshold: f64,
    /// The sliding window the error rate is measured over.
    pub error_window: Duration,
    /// The fewest events in the window before the error rate is judged.
    pub error_min_events: u64,
    /// The share of the Salesforce daily API quota, in percent, over which the quota alert fires.
    pub quota_threshold_percent: u8,
    /// The age of the oldest queued event over which the lag alert fires.
    pub lag_threshold: Duration,
    /// Alerts waiting for the webhook before new ones are dropped (they are still logged).
    pub queue_capacity: usize,
    /// The timeout of one webhook request.
    pub request_timeout: Duration,
    /// The pause before the one retry of a failed webhook request.
    pub retry_delay: Duration,
}

impl Default for AlertConfig {
    /// No webhook, one alert per kind per 5 minutes, 5% errors over 5 minutes with at least 20
    /// events, 80% of the quota, 5 minutes of lag.
    fn default() -> Self {
        AlertConfig {
            webhook_url: None,
            min_interval: DEFAULT_MIN_INTERVAL,
            error_rate_threshold: DEFAULT_ERROR_RATE_THRESHOLD,
            error_window: DEFAULT_ERROR_WINDOW,
            error_min_events: DEFAULT_ERROR_MIN_EVENTS,
            quota_threshold_percent: DEFAULT_QUOTA_THRESHOLD_PERCENT,
            lag_threshold: DEFAULT_LAG_THRESHOLD,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            retry_delay: DEFAULT_RETRY_DELAY,
        }
    }
}

impl AlertConfig {
    /// The defaults with the webhook, interval and lag threshold of the resolved settings.
    pub fn from_settings(settings: &AlertSettings) -> AlertConfig {
        AlertConfig {
            webhook_url: settings.webhook_url.clone(),
            min_interval: settings.min_interval,
            lag_threshold: settings.lag_threshold,
            ..AlertConfig::default()
        }
    }

    /// Checks that the thresholds and limits are in range.
    pub fn validate(&self) -> Result<(), AlertError> {
        let invalid = |field: &'static str, reason: &str| {
            Err(AlertError::InvalidConfig {
                field,
                reason: reason.to_owned(),
            })
        };
        if !(0.0..1.0).contains(&self.error_rate_threshold) {
            return invalid("error_rate_threshold", "expected a rate from 0 up to 1");
        }
        if self.error_window < Duration::from_secs(1) {
            return invalid("error_window", "expected at least one second");
        }
        if self.error_min_events == 0 {
            return invalid("error_min_events", "expected at least one event");
        }
        if self.quota_threshold_percent > 100 {
            return invalid(
                "quota_threshold_percent",
                "expected a percentage from 0 to 100",
            );
        }
        if self.queue_capacity == 0 {
            return invalid("queue_capacity", "expected at least one alert");
        }
        if self.request_timeout.is_zero() {
            return invalid("request_timeout", "expected a positive duration");
        }
        Ok(())
    }
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// An event was moved to the dead-letter queue.
    DeadLetter,
    /// The share of failed events over the window is over the threshold.
    ErrorRate,
    /// The Salesforce daily API usage is over the threshold.
    Quota,
    /// The oldest queued event has waited longer than the threshold.
    Lag,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 4] = [
        AlertKind::DeadLetter,
        AlertKind::ErrorRate,
        AlertKind::Quota,
        AlertKind::Lag,
    ];

    /// The `kind` field: `dead_letter`, `error_rate`, `quota` or `lag`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::DeadLetter => "dead_letter",
            AlertKind::ErrorRate => "error_rate",
            AlertKind::Quota => "quota",
            AlertKind::Lag => "lag",
        }
    }

    /// How serious alerts of this kind are.
    pub fn severity(self) -> Severity {
        match self {
            AlertKind::DeadLetter => Severity::Error,
            AlertKind::ErrorRate => Severity::Critical,
            AlertKind::Quota | AlertKind::Lag => Severity::Warning,
        }
    }

    /// The kind's position in [`AlertKind::ALL`].
    fn index(self) -> usize {
        match self {
            AlertKind::DeadLetter => 0,
            AlertKind::ErrorRate => 1,
            AlertKind::Quota => 2,
            AlertKind::Lag => 3,
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Needs a look soon (quota, lag).
    Warning,
    /// Something was not synced (a dead letter).
    Error,
    /// The sync is failing broadly (error rate).
    Critical,
}

impl Severity {
    /// The `severity` field: `warning`, `error` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

/// One alert, as posted to the webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// How serious it is.
    pub severity: Severity,
    /// One line for people.
    pub message: String,
    /// The message for Slack-compatible webhooks, with the service and the suppressed count.
    pub text: String,
    /// The numbers behind it (ids, counts, thresholds).
    pub details: serde_json::Value,
    /// When it was raised (RFC 3339).
    #[serde(serialize_with = "rfc3339")]
    pub at: OffsetDateTime,
    /// Alerts of this kind suppressed by the rate limit since the previous one.
    pub suppressed: u64,
    /// Always [`SERVICE`].
    pub service: &'static str,
}

/// Serializes `at` as RFC 3339.
fn rfc3339<S: serde::Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    let text = at.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&text)
}

/// What the alerts have done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlertStats {
    /// Alerts raised (logged, and queued for the webhook if there is one).
    pub raised: u64,
    /// Alerts held back by the rate limit.
    pub suppressed: u64,
    /// Raised alerts not queued for the webhook because its queue was full.
    pub dropped: u64,
    /// Alerts the webhook took.
    pub delivered: u64,
    /// Alerts the webhook did not take after the retry.
    pub failed: u64,
}

/// The counters behind [`AlertStats`], shared with the posting task.
#[derive(Debug, Default)]
struct Counters {
    /// See [`AlertStats::raised`].
    raised: AtomicU64,
    /// See [`AlertStats::suppressed`].
    suppressed: AtomicU64,
    /// See [`AlertStats::dropped`].
    dropped: AtomicU64,
    /// See [`AlertStats::delivered`].
    delivered: AtomicU64,
    /// See [`AlertStats::failed`].
    failed: AtomicU64,
}

/// The rate limit of one kind.
#[derive(Debug, Clone, Copy, Default)]
struct KindState {
    /// When the last alert of the kind was raised.
    last: Option<OffsetDateTime>,
    /// Alerts suppressed since.
    suppressed: u64,
}

/// The mutable state of the alerts.
#[derive(Debug)]
struct State {
    /// Per kind, in [`AlertKind::ALL`] order.
    kinds: [KindState; 4],
    /// The outcomes behind the error rate.
    window: ErrorWindow,
}

/// What every clone of an [`Alerts`] handle shares.
struct Inner {
    /// Thresholds and limits.
    config: AlertConfig,
    /// Now.
    clock: Clock,
    /// Rate limits and the error window.
    state: Mutex<State>,
    /// To the posting task; `None` without a webhook.
    sender: Option<mpsc::Sender<Message>>,
    /// What happened.
    counters: Arc<Counters>,
}

/// The handle the worker raises alerts through: cheap to clone, shared between tasks.
#[derive(Clone)]
pub struct Alerts {
    /// The shared state.
    inner: Arc<Inner>,
}

impl fmt::Debug for Alerts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Alerts")
            .field("config", &self.inner.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Alerts {
    /// Alerts by `config` on the system clock. With a webhook URL this spawns the posting task,
    /// so it must be called inside a Tokio runtime.
    pub fn new(config: AlertConfig) -> Result<Alerts, AlertError> {
        Alerts::with_clock(config, Arc::new(OffsetDateTime::now_utc))
    }

    /// Alerts by `config` on `clock` (for tests). See [`Alerts::new`].
    pub fn with_clock(config: AlertConfig, clock: Clock) -> Result<Alerts, AlertError> {
        config.validate()?;
        let counters = Arc::new(Counters::default());
        let sender = match &config.webhook_url {
            None => None,
            Some(url) => {
                let runtime =
                    tokio::runtime::Handle::try_current().map_err(|_| AlertError::NoRuntime)?;
                // reqwest is built without a bundled crypto provider: use ring unless the
                // program installed one.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let client = reqwest::Client::builder()
                    .timeout(config.request_timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(AlertError::Client)?;
                let (sender, receiver) = mpsc::channel(config.queue_capacity);
                let poster = Poster {
                    client,
                    url: url.clone(),
                    retry_delay: config.retry_delay,
                    counters: Arc::clone(&counters),
                };
                runtime.spawn(poster.run(receiver));
                Some(sender)
            }
        };
        let window = ErrorWindow::new(config.error_window);
        Ok(Alerts {
            inner: Arc::new(Inner {
                config,
                clock,
                state: Mutex::new(State {
                    kinds: [KindState::default(); 4],
                    window,
                }),
                sender,
                counters,
            }),
        })
    }

    /// Alerts with the default thresholds that only log (no webhook configured).
    pub fn disabled() -> Alerts {
        Alerts::with_clock(AlertConfig::default(), Arc::new(OffsetDateTime::now_utc))
            .expect("the default configuration without a webhook is valid")
    }

    /// The configuration.
    pub fn config(&self) -> &AlertConfig {
        &self.inner.config
    }

    /// What the alerts have done so far.
    pub fn stats(&self) -> AlertStats {
        let c = &self.inner.counters;
        AlertStats {
            raised: c.raised.load(Ordering::Relaxed),
            suppressed: c.suppressed.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
        }
    }

    /// An event was moved to the dead-letter queue because of `reason` (cleaned of e-mail
    /// addresses and key-like tokens, and shortened, before it is logged or posted).
    pub fn dead_letter(&self, event_id: &str, event_type: &str, reason: &str) {
        let now = (self.inner.clock)();
        self.raise(AlertKind::DeadLetter, now, || {
            let event_id = truncate(event_id, MAX_ID_CHARS);
            let event_type = truncate(event_type, MAX_ID_CHARS);
            let reason = redact(reason);
            (
                format!(
                    "event {event_id} ({event_type}) was moved to the dead-letter queue: {reason}"
                ),
                json!({"event_id": event_id, "event_type": event_type, "reason": reason}),
            )
        });
    }

    /// One event was processed (`ok`) or failed; alerts when the share of failures over the
    /// window is over the threshold with at least the minimum number of events.
    pub fn outcome(&self, ok: bool) {
        let now = (self.inner.clock)();
        let (failed, total) = self.lock().window.record(now, ok);
        let config = &self.inner.config;
        if total < config.error_min_events {
            return;
        }
        let rate = failed as f64 / total as f64;
        if rate <= config.error_rate_threshold {
            return;
        }
        self.raise(AlertKind::ErrorRate, now, || {
            let window_secs = config.error_window.as_secs();
            (
                format!(
                    "{failed} of {total} events failed in the last {} ({:.1}%, threshold {:.1}%)",
                    human(config.error_window),
                    rate * 100.0,
                    config.error_rate_threshold * 100.0
                ),
                json!({
                    "failures": failed,
                    "events": total,
                    "rate": rate,
                    "threshold": config.error_rate_threshold,
                    "window_secs": window_secs,
                }),
            )
        });
    }

    /// The org's Salesforce daily API usage: `used` of `max` calls; alerts when over the
    /// threshold share. A `max` of zero (unknown) is ignored.
    pub fn quota(&self, used: u64, max: u64) {
        let threshold = self.inner.config.quota_threshold_percent;
        if max == 0 || u128::from(used) * 100 <= u128::from(threshold) * u128::from(max) {
            return;
        }
        let now = (self.inner.clock)();
        self.raise(AlertKind::Quota, now, || {
            let percent = used as f64 * 100.0 / max as f64;
            (
                format!(
                    "Salesforce daily API usage is at {percent:.1}% ({used} of {max} calls; threshold {threshold}%)"
                ),
                json!({
                    "used": used,
                    "max": max,
                    "percent": percent,
                    "threshold_percent": threshold,
                }),
            )
        });
    }

    /// The age of the oldest queued event; alerts when it is over the lag threshold.
    pub fn lag(&self, oldest_queued_age: Duration) {
        let threshold = self.inner.config.lag_threshold;
        if oldest_queued_age <= threshold {
            return;
        }
        let now = (self.inner.clock)();
        self.raise(AlertKind::Lag, now, || {
            (
                format!(
                    "the oldest queued event has waited {} (threshold {})",
                    human(oldest_queued_age),
                    human(threshold)
                ),
                json!({
                    "oldest_queued_age_secs": oldest_queued_age.as_secs(),
                    "threshold_secs": threshold.as_secs(),
                }),
            )
        });
    }

    /// Waits until every alert raised before the call has been posted or given up (for
    /// shutdown and tests). Returns at once without a webhook.
    pub async fn flush(&self) {
        let Some(sender) = &self.inner.sender else {
            return;
        };
        let (done, wait) = oneshot::channel();
        if sender.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// The state, even if a thread panicked holding it (it stays consistent).
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Raises an alert of `kind` at `now` unless the rate limit holds it back; `describe`
    /// gives its message and details.
    fn raise(
        &self,
        kind: AlertKind,
        now: OffsetDateTime,
        describe: impl FnOnce() -> (String, serde_json::Value),
    ) {
        let counters = &self.inner.counters;
        let suppressed = {
            let mut state = self.lock();
            let slot = &mut state.kinds[kind.index()];
            if let Some(last) = slot.last {
                // A clock that went back counts as inside the interval.
                let elapsed = Duration::try_from(now - last).ok();
                if elapsed.is_none_or(|elapsed| elapsed < self.inner.config.min_interval) {
                    slot.suppressed += 1;
                    counters.suppressed.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(
                        kind = kind.as_str(),
                        suppressed = slot.suppressed,
                        "admin alert suppressed by the rate limit"
                    );
                    return;
                }
            }
            slot.last = Some(now);
            std::mem::take(&mut slot.suppressed)
        };
        counters.raised.fetch_add(1, Ordering::Relaxed);
        let (message, details) = describe();
        let severity = kind.severity();
        tracing::warn!(
            kind = kind.as_str(),
            severity = severity.as_str(),
            message = %message,
            details = %details,
            suppressed,
            "admin alert"
        );
        let Some(sender) = &self.inner.sender else {
            return;
        };
        let mut text = format!("[{SERVICE}] {}: {message}", severity.as_str());
        if suppressed > 0 {
            text.push_str(&format!(
                " ({suppressed} more {kind} alert(s) suppressed since the last one)"
            ));
        }
        let alert = Alert {
            kind,
            severity,
            message,
            text,
            details,
            at: now,
            suppressed,
            service: SERVICE,
        };
        if sender.try_send(Message::Alert(Box::new(alert))).is_err() {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                kind = kind.as_str(),
                "the alert webhook is behind; alert dropped from the webhook (it is in the log)"
            );
        }
    }
}

/// `duration` as `5 min`, `90 s` or `2 h 5 min`, for messages.
fn human(duration: Duration) -> String {
    let secs = duration.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// The first `max` characters of `text`, with `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// `reason` on one line, shortened, with e-mail addresses and key- or token-like words
/// replaced, so that an error message quoting a value does not leak it into alerts.
fn redact(reason: &str) -> String {
    /// Prefixes of Stripe keys and secrets and of bearer credentials.
    const SECRET_PREFIXES: [&str; 5] = ["sk_", "rk_", "pk_", "whsec_", "eyJ"];
    let mut words = Vec::new();
    let mut after_bearer = false;
    for word in reason.split_whitespace() {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
        let email = bare
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'));
        // Salesforce session ids: the org id, `!`, then the token.
        let session = bare.starts_with("00D") && word.contains('!');
        let secret = SECRET_PREFIXES.iter().any(|p| bare.starts_with(p));
        words.push(if email {
            "[email]"
        } else if session || secret || after_bearer {
            "[redacted]"
        } else {
            word
        });
        after_bearer = bare.eq_ignore_ascii_case("bearer");
    }
    truncate(&words.join(" "), MAX_REASON_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_lose_emails_and_tokens() {
        let reason = "INVALID_EMAIL_ADDRESS: Email: invalid email address: <bob@example.com>\n\
                      key sk_live_123 and Bearer abc.def, session 00D5g000!AQ4AQ.xyz; field Amount__c";
        let clean = redact(reason);
        for leak in ["bob@", "sk_live_123", "abc.def", "AQ4AQ"] {
            assert!(!clean.contains(leak), "{clean}");
        }
        assert!(clean.contains("INVALID_EMAIL_ADDRESS"), "{clean}");
        assert!(clean.contains("Amount__c"), "{clean}");
        assert!(!clean.contains('\n'), "{clean}");
        assert_eq!(
            redact(&"x".repeat(600)).chars().count(),
            MAX_REASON_CHARS + 1
        );
    }

    #[test]
    fn webhook_url_errors_do_not_echo_the_value() {
        for bad in [
            "hooks.slack.com/services/T000/B000/s3cr3t",
            "ftp://hooks.example.com/s3cr3t",
            "https://exa mple.com/?token=s3cr3t",
            "https://?token=s3cr3t",
        ] {
            let error = WebhookUrl::parse(bad).unwrap_err();
            let message = error.to_string();
            assert!(matches!(error, AlertError::InvalidUrl { .. }), "{message}");
            assert!(!message.contains("s3cr3t"), "{message}");
            assert!(message.contains("SYNC_ALERT_WEBHOOK_URL"), "{message}");
        }
        let url = WebhookUrl::parse("https://hooks.slack.com/services/T/B/s3cr3t?x=1").unwrap();
        assert_eq!(url.redacted(), "https://hooks.slack.com/…");
        assert!(!format!("{url:?}").contains("s3cr3t"));
        assert_eq!(url.expose().path(), "/services/T/B/s3cr3t");
        let local: WebhookUrl = "http://127.0.0.1:9/hook".parse().unwrap();
        assert_eq!(local.redacted(), "http://127.0.0.1:9/…");
    }

    #[test]
    fn out_of_range_settings_are_rejected() {
        let cases = [
            (
                AlertConfig {
                    error_rate_threshold: 1.5,
                    ..AlertConfig::default()
                },
                "error_rate_threshold",
            ),
            (
                AlertConfig {
                    quota_threshold_percent: 101,
                    ..AlertConfig::default()
                },
                "quota_threshold_percent",
            ),
            (
                AlertConfig {
                    queue_capacity: 0,
                    ..AlertConfig::default()
                },
                "queue_capacity",
            ),
            (
                AlertConfig {
                    error_min_events: 0,
                    ..AlertConfig::default()
                },
                "error_min_events",
            ),
        ];
        for (config, field) in cases {
            match Alerts::new(config) {
                Err(AlertError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected invalid {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_webhook_needs_a_runtime() {
        let config = AlertConfig {
            webhook_url: Some(WebhookUrl::parse("http://127.0.0.1:9/").unwrap()),
            ..AlertConfig::default()
        };
        assert!(matches!(Alerts::new(config), Err(AlertError::NoRuntime)));
    }

    #[test]
    fn the_handle_is_shareable() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<Alerts>();
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_secs(300)), "5 min");
        assert_eq!(human(Duration::from_secs(90)), "1 min 30 s");
        assert_eq!(human(Duration::from_secs(45)), "45 s");
        assert_eq!(human(Duration::from_secs(7500)), "2 h 5 min");
    }
}
