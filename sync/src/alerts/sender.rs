//! The background task posting alerts to the webhook, so that raising an alert never waits on
//! the network.

use std::error::Error as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::sync::{mpsc, oneshot};

use super::{Alert, Counters, WebhookUrl};

/// What the task is asked to do.
pub(crate) enum Message {
    /// Post this alert.
    Alert(Box<Alert>),
    /// Answer once every message before this one is handled.
    Flush(oneshot::Sender<()>),
}

/// Where and how the task posts.
pub(crate) struct Poster {
    /// The HTTP client (with the request timeout).
    pub(crate) client: reqwest::Client,
    /// The webhook.
    pub(crate) url: WebhookUrl,
    /// The pause before the one retry.
    pub(crate) retry_delay: Duration,
    /// Delivered and failed counts, shared with the handle.
    pub(crate) counters: Arc<Counters>,
}

/// Why one post did not land.
enum PostError {
    /// No answer, or a 5xx: worth the one retry.
    Retryable(String),
    /// Another non-success status: retrying will not help.
    Rejected(StatusCode),
}

impl Poster {
    /// Handles messages until every [`super::Alerts`] handle is gone.
    pub(crate) async fn run(self, mut messages: mpsc::Receiver<Message>) {
        while let Some(message) = messages.recv().await {
            match message {
                Message::Alert(alert) => self.deliver(&alert).await,
                Message::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }

    /// Posts `alert`, retrying once after a failure or a 5xx, then gives up with a log line.
    async fn deliver(&self, alert: &Alert) {
        let mut outcome = self.post(alert).await;
        if let Err(PostError::Retryable(reason)) = &outcome {
            tracing::debug!(
                kind = alert.kind.as_str(),
                webhook = %self.url.redacted(),
                reason = %reason,
                "alert webhook failed; retrying once"
            );
            tokio::time::sleep(self.retry_delay).await;
            outcome = self.post(alert).await;
        }
        let reason = match outcome {
            Ok(()) => {
                self.counters.delivered.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(PostError::Retryable(reason)) => reason,
            Err(PostError::Rejected(status)) => format!("answered {status}"),
        };
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            kind = alert.kind.as_str(),
            webhook = %self.url.redacted(),
            reason = %reason,
            "the alert webhook did not take the alert; it is only in the log"
        );
    }

    /// One POST of `alert` as JSON.
    async fn post(&self, alert: &Alert) -> Result<(), PostError> {
        let response = self
            .client
            .post(self.url.expose().clone())
            .json(alert)
            .send()
            .await
            .map_err(|error| PostError::Retryable(describe(error)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() {
            Err(PostError::Retryable(format!("answered {status}")))
        } else {
            Err(PostError::Rejected(status))
        }
    }
}

/// `error` and its causes, without the URL (whose path or query may hold a token).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        error.to_string()
    };
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
