//! Faults a test injects: failures Salesforce (or the network in front of it) produces,
//! applied to the next matching requests.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::{Value as Json, json};

/// A fault to apply to the next `count` requests whose path contains `path_contains`.
///
/// Without `path_contains` a fault matches every REST call (`/services/data/…`) but not
/// the OAuth token endpoint; with it, it matches any request whose path contains the text
/// (`"/oauth2/token"` to fail token requests). Faults are queued: a request takes the first
/// matching one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// Only requests whose path contains this text.
    pub path_contains: Option<String>,
    /// How many requests it applies to.
    pub count: usize,
}

impl Fault {
    /// A fault for the next REST call only.
    pub fn once(kind: FaultKind) -> Self {
        Self {
            kind,
            path_contains: None,
            count: 1,
        }
    }

    /// A fault for the next `count` requests whose path contains `path`.
    pub fn on_path(kind: FaultKind, path: &str, count: usize) -> Self {
        Self {
            kind,
            path_contains: Some(path.to_owned()),
            count,
        }
    }

    fn matches(&self, path: &str) -> bool {
        match &self.path_contains {
            Some(part) => path.contains(part.as_str()),
            None => path.starts_with("/services/data/"),
        }
    }
}

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer this HTTP status with a Salesforce-like body (500 `UNKNOWN_EXCEPTION`, 503
    /// `SERVER_UNAVAILABLE`, 502 / 504 an HTML gateway page, …).
    Status(u16),
    /// Wait, then answer like [`FaultKind::Status`].
    DelayedStatus {
        /// HTTP status.
        status: u16,
        /// How long to wait first.
        delay: Duration,
    },
    /// 400 `UNABLE_TO_LOCK_ROW`, as when another transaction holds the record.
    UnableToLockRow,
    /// Close the connection without answering.
    DropConnection,
    /// Answer normally, after a delay.
    Latency(Duration),
    /// 401 `INVALID_SESSION_ID` even with a valid token.
    ExpiredSession,
}

/// The queue of injected faults.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    faults: VecDeque<Fault>,
}

impl FaultQueue {
    /// Adds a fault at the end of the queue (ignored if its count is 0).
    pub fn push(&mut self, fault: Fault) {
        if fault.count > 0 {
            self.faults.push_back(fault);
        }
    }

    /// Removes every fault.
    pub fn clear(&mut self) {
        self.faults.clear();
    }

    /// The fault for a request to `path`, if one matches: its count goes down by one.
    pub fn take(&mut self, path: &str) -> Option<FaultKind> {
        let at = self.faults.iter().position(|fault| fault.matches(path))?;
        let fault = &mut self.faults[at];
        fault.count -= 1;
        let kind = fault.kind.clone();
        if fault.count == 0 {
            self.faults.remove(at);
        }
        Some(kind)
    }
}

/// The body of an injected status: Salesforce's JSON error list, or the HTML page of the
/// gateway in front of it for 502 and 504.
pub(crate) fn status_body(status: u16) -> (Option<Json>, Option<String>) {
    let (code, message) = match status {
        502 | 504 => {
            let reason = if status == 502 {
                "Bad Gateway"
            } else {
                "Gateway Timeout"
            };
            let html = format!(
                "<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>"
            );
            return (None, Some(html));
        }
        400 => (
            "INVALID_REQUEST",
            "The request could not be processed".to_owned(),
        ),
        401 => (
            "INVALID_SESSION_ID",
            "Session expired or invalid".to_owned(),
        ),
        403 => (
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.".to_owned(),
        ),
        404 => (
            "NOT_FOUND",
            "The requested resource does not exist".to_owned(),
        ),
        409 => (
            "CONFLICT",
            "The request conflicts with the current state of the resource".to_owned(),
        ),
        429 => (
            "REQUEST_LIMIT_EXCEEDED",
            "ConcurrentPerOrgLongTxn Limit exceeded.".to_owned(),
        ),
        503 => (
            "SERVER_UNAVAILABLE",
            "Server temporarily unavailable, please try again later.".to_owned(),
        ),
        _ => (
            "UNKNOWN_EXCEPTION",
            format!(
                "An unexpected error occurred. Please include this ErrorId if you contact support: {}-{} ({})",
                1_234_567_890 + u64::from(status),
                40_000 + u64::from(status),
                -1_098_765_432
            ),
        ),
    };
    (Some(json!([{"message": message, "errorCode": code}])), None)
}

/// The body of `UNABLE_TO_LOCK_ROW`.
pub(crate) fn lock_row_body(record_id: &str) -> Json {
    json!([{
        "message": format!("unable to obtain exclusive access to this record or 1 records: {record_id}"),
        "errorCode": "UNABLE_TO_LOCK_ROW",
        "fields": [],
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_counts_down_and_matches_paths() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::on_path(FaultKind::Status(503), "/query", 2));
        queue.push(Fault::once(FaultKind::UnableToLockRow));
        queue.push(Fault {
            count: 0,
            ..Fault::once(FaultKind::DropConnection)
        });
        assert_eq!(queue.take("/services/oauth2/token"), None);
        assert_eq!(
            queue.take("/services/data/v62.0/sobjects/Contact"),
            Some(FaultKind::UnableToLockRow)
        );
        assert_eq!(queue.take("/services/data/v62.0/sobjects/Contact"), None);
        assert_eq!(
            queue.take("/services/data/v62.0/query"),
            Some(FaultKind::Status(503))
        );
        assert_eq!(
            queue.take("/services/data/v62.0/query"),
            Some(FaultKind::Status(503))
        );
        assert_eq!(queue.take("/services/data/v62.0/query"), None);
        queue.push(Fault::on_path(FaultKind::ExpiredSession, "oauth2", 1));
        queue.clear();
        assert_eq!(queue.take("/services/oauth2/token"), None);
    }
}
