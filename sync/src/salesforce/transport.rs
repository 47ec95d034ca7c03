//! What every request and answer goes through: the bearer token on the way out, the
//! `Sforce-Limit-Info` header on the way back. The generated client calls these as its
//! pre- and post-hooks; the hand-written requests call them too.

use std::fmt;
use std::sync::Arc;

use tokio::sync::watch;

use super::auth::Session;
use super::limits::{LIMIT_INFO_HEADER, LimitInfo};

/// Where the latest `Sforce-Limit-Info` is published.
pub(crate) type LimitSender = Arc<watch::Sender<Option<LimitInfo>>>;

/// The generated client's inner value: the session to authorize with (none for the token
/// request) and where to publish API usage.
#[derive(Clone)]
pub struct Hooks {
    session: Option<Arc<Session>>,
    limits: LimitSender,
}

impl Hooks {
    /// Hooks for calls made with `session`.
    pub(crate) fn new(session: Arc<Session>, limits: LimitSender) -> Self {
        Hooks {
            session: Some(session),
            limits,
        }
    }

    /// Hooks for the token request (no session yet).
    pub(crate) fn login(limits: LimitSender) -> Self {
        Hooks {
            session: None,
            limits,
        }
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// Adds `Authorization: Bearer …` (marked sensitive, so `Debug` of the request hides it).
pub(crate) fn before_send(hooks: &Hooks, request: &mut reqwest::Request) {
    if let Some(session) = &hooks.session {
        request.headers_mut().insert(
            reqwest::header::AUTHORIZATION,
            session.authorization.clone(),
        );
    }
    tracing::trace!(method = %request.method(), path = request.url().path(), "Salesforce request");
}

/// Publishes the answer's `Sforce-Limit-Info`, if it has one.
pub(crate) fn after_receive(hooks: &Hooks, result: &reqwest::Result<reqwest::Response>) {
    let Ok(response) = result else {
        return;
    };
    tracing::trace!(
        status = response.status().as_u16(),
        path = response.url().path(),
        "Salesforce answer"
    );
    observe_limits(&hooks.limits, response.headers());
}

/// Publishes the `Sforce-Limit-Info` of `headers`, if any.
pub(crate) fn observe_limits(limits: &LimitSender, headers: &reqwest::header::HeaderMap) {
    let Some(value) = headers.get(LIMIT_INFO_HEADER) else {
        return;
    };
    match value.to_str().ok().and_then(LimitInfo::parse) {
        Some(info) => {
            if let Some(usage) = info.api_usage() {
                tracing::trace!(used = usage.used, max = usage.max, "Salesforce API usage");
            }
            limits.send_replace(Some(info));
        }
        None => tracing::debug!(header = ?value, "unreadable Sforce-Limit-Info header"),
    }
}
