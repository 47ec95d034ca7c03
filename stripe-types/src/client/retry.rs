//! When to send a request again, and how long to wait first.
//!
//! Follows Stripe's libraries: `Stripe-Should-Retry: true` forces a retry and
//! `false` forbids one; otherwise 409, 429 and 5xx are retried and every other
//! 4xx is not. Transport failures (connection refused or reset, timeouts) are
//! retried too: POST requests always carry an `Idempotency-Key`, the same on every
//! attempt, so Stripe does not apply them twice.

use std::time::Duration;

use reqwest::StatusCode;

/// How often and how patiently failed requests are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub initial_delay: Duration,
    /// Upper bound of the backoff (a `Retry-After` may ask for longer).
    pub max_delay: Duration,
    /// Longest `Retry-After` that is honoured; a longer one is ignored.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Wait before retry number `retry` (1 for the first retry).
    ///
    /// Exponential backoff `initial_delay * 2^(retry-1)` capped at `max_delay`, with
    /// jitter drawing from its upper half, never under `initial_delay`; raised to
    /// `retry_after` when the server asked for a wait no longer than `max_retry_after`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let backoff = self
            .initial_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let jittered = backoff.mul_f64(0.5 + fastrand::f64() * 0.5);
        let delay = jittered.max(self.initial_delay.min(self.max_delay));
        match retry_after {
            Some(wait) if wait <= self.max_retry_after => delay.max(wait),
            _ => delay,
        }
    }
}

/// Whether a response with this status and `Stripe-Should-Retry` header deserves a retry.
pub(super) fn should_retry(status: StatusCode, stripe_should_retry: Option<bool>) -> bool {
    if status.is_success() {
        return false;
    }
    match stripe_should_retry {
        Some(decision) => decision,
        None => {
            status == StatusCode::CONFLICT
                || status == StatusCode::TOO_MANY_REQUESTS
                || status.is_server_error()
        }
    }
}

/// Whether a transport failure is worth another attempt.
pub(super) fn should_retry_transport(error: &reqwest::Error) -> bool {
    !(error.is_builder() || error.is_redirect())
}

/// Reads `Stripe-Should-Retry`.
pub(super) fn parse_should_retry(value: Option<&str>) -> Option<bool> {
    match value?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Reads `Retry-After` given in whole seconds (the form Stripe uses; dates are ignored).
pub(super) fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    #[test]
    fn status_decisions() {
        for code in [409, 429, 500, 502, 503, 504] {
            assert!(should_retry(status(code), None), "{code}");
            assert!(!should_retry(status(code), Some(false)), "{code}");
        }
        for code in [400, 401, 402, 403, 404] {
            assert!(!should_retry(status(code), None), "{code}");
        }
        assert!(should_retry(status(400), Some(true)));
        assert!(!should_retry(status(200), Some(true)));
    }

    #[test]
    fn header_parsing() {
        assert_eq!(parse_should_retry(Some("true")), Some(true));
        assert_eq!(parse_should_retry(Some("false")), Some(false));
        assert_eq!(parse_should_retry(Some("maybe")), None);
        assert_eq!(parse_should_retry(None), None);
        assert_eq!(parse_retry_after(Some(" 3 ")), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let policy = RetryPolicy {
            max_retries: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(5),
        };
        for _ in 0..200 {
            let first = policy.delay(1, None);
            assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(100));
            let third = policy.delay(3, None);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let late = policy.delay(40, None);
            assert!(late >= Duration::from_millis(500) && late <= Duration::from_millis(1000));
        }
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert!(policy.delay(1, Some(Duration::from_secs(30))) <= Duration::from_millis(100));
    }
}
