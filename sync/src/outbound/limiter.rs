//! The bound on Stripe calls: at most N in flight, and starts spaced evenly to stay under a
//! number per second (no bursts above the rate). A 429 that still happens is retried by the
//! Stripe client, honouring `Retry-After`.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// Concurrency and rate limit of one kind of call.
#[derive(Debug)]
pub(crate) struct Limiter {
    /// One permit per call in flight.
    permits: Semaphore,
    /// Time between two starts (zero: no rate limit).
    spacing: Duration,
    /// When the next call may start.
    next: Mutex<Instant>,
}

impl Limiter {
    /// At most `concurrency` calls at once (at least one) and `per_second` starts per second
    /// (0: unlimited).
    pub(crate) fn new(concurrency: usize, per_second: u32) -> Limiter {
        Limiter {
            permits: Semaphore::new(concurrency.max(1)),
            spacing: if per_second == 0 {
                Duration::ZERO
            } else {
                Duration::from_secs(1) / per_second
            },
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for a free slot and the next start time; the call holds the permit while it runs.
    pub(crate) async fn acquire(&self) -> Option<SemaphorePermit<'_>> {
        // The semaphore is never closed, so this is always a permit.
        let permit = self.permits.acquire().await.ok();
        let start = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let start = (*next).max(Instant::now());
            *next = start + self.spacing;
            start
        };
        tokio::time::sleep_until(start).await;
        permit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_starts_to_the_rate() {
        let limiter = Limiter::new(8, 5);
        let begin = Instant::now();
        for _ in 0..11 {
            drop(limiter.acquire().await);
        }
        // Eleven starts at five per second: the last one two seconds after the first.
        assert_eq!(begin.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn bounds_calls_in_flight() {
        let limiter = Limiter::new(2, 0);
        let first = limiter.acquire().await;
        let second = limiter.acquire().await;
        assert!(first.is_some() && second.is_some());
        let third = tokio::time::timeout(Duration::from_secs(1), limiter.acquire()).await;
        assert!(third.is_err(), "a third call must wait for a permit");
        drop(first);
        let third = tokio::time::timeout(Duration::from_secs(1), limiter.acquire()).await;
        assert!(matches!(third, Ok(Some(_))));
    }
}
