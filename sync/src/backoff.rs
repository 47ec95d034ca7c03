//! The worker's retry policy: exponential backoff with full jitter.
//!
//! After the `n`-th failure of a piece of work (`n` from 1) the retry waits a delay drawn
//! uniformly from `[0, min(cap, base · factor^(n−1))]`; with the defaults the bounds are 2, 4,
//! 8, 16 and 32 s. Once `max_attempts` retries have been scheduled, the next failure gets no
//! delay and the work goes to the dead-letter queue.

use std::time::Duration;

/// How long to wait before each retry of a retryable failure, and when to give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Upper bound of the first retry's delay.
    pub base: Duration,
    /// Growth of the bound from one retry to the next (1 keeps it constant).
    pub factor: u32,
    /// How many retries are scheduled before the work is dead-lettered.
    pub max_attempts: u32,
    /// Largest bound any retry's delay may have.
    pub cap: Duration,
}

impl Default for Backoff {
    /// 2 s doubling on each retry, 5 retries (bounds 2, 4, 8, 16, 32 s), capped at 5 minutes.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            factor: 2,
            max_attempts: 5,
            cap: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The un-jittered bound of the delay before retry `attempt`, or `None` once `attempt`
    /// exceeds `max_attempts`. Attempt 0 is the first delivery, which runs at once (zero).
    pub fn ceiling(&self, attempt: u32) -> Option<Duration> {
        if attempt == 0 {
            return Some(Duration::ZERO);
        }
        if attempt > self.max_attempts {
            return None;
        }
        let grown = self
            .factor
            .checked_pow(attempt - 1)
            .and_then(|multiplier| self.base.checked_mul(multiplier))
            .unwrap_or(self.cap);
        Some(grown.min(self.cap))
    }

    /// The jittered delay before retry `attempt`, uniform in `[0, ceiling(attempt)]` and drawn
    /// from `rng`, or `None` once the retries are exhausted and the work should be dead-lettered.
    pub fn delay(&self, attempt: u32, rng: &mut fastrand::Rng) -> Option<Duration> {
        let ceiling = self.ceiling(attempt)?;
        let nanos = rng.u128(0..=ceiling.as_nanos());
        Some(duration_from_nanos(nanos))
    }
}

/// `nanos` as a `Duration`; `nanos` never exceeds a `Duration`'s range here since it is drawn
/// below an existing one, but saturates rather than panics.
fn duration_from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    let subsec = u32::try_from(nanos % NANOS_PER_SEC).unwrap_or(0);
    Duration::new(secs, subsec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn default_ceilings_are_2_4_8_16_32_then_none() {
        let b = Backoff::default();
        let ceilings: Vec<_> = (1..=6).map(|a| b.ceiling(a)).collect();
        assert_eq!(
            ceilings,
            vec![secs(2), secs(4), secs(8), secs(16), secs(32), None]
        );
        let mut rng = fastrand::Rng::with_seed(7);
        assert_eq!(b.delay(6, &mut rng), None);
        assert_eq!(b.delay(u32::MAX, &mut rng), None);
    }

    #[test]
    fn attempt_zero_is_the_first_delivery_without_delay() {
        let b = Backoff::default();
        assert_eq!(b.ceiling(0), Some(Duration::ZERO));
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(b.delay(0, &mut rng), Some(Duration::ZERO));
    }

    #[test]
    fn no_retries_when_max_attempts_is_zero() {
        let b = Backoff {
            max_attempts: 0,
            ..Backoff::default()
        };
        assert_eq!(b.ceiling(1), None);
    }

    #[test]
    fn jitter_stays_within_bounds_and_varies() {
        let b = Backoff::default();
        let mut rng = fastrand::Rng::with_seed(42);
        for attempt in 1..=5 {
            let ceiling = b.ceiling(attempt).expect("within attempts");
            let draws: Vec<_> = (0..2_000)
                .map(|_| b.delay(attempt, &mut rng).expect("within attempts"))
                .collect();
            assert!(draws.iter().all(|d| *d <= ceiling), "attempt {attempt}");
            let min = draws.iter().min().copied().unwrap_or_default();
            let max = draws.iter().max().copied().unwrap_or_default();
            assert_ne!(min, max, "attempt {attempt}: jitter is constant");
            // Full jitter: draws spread over the whole range, not only near the ceiling.
            assert!(min < ceiling / 10, "attempt {attempt}: min {min:?}");
            assert!(max > ceiling * 9 / 10, "attempt {attempt}: max {max:?}");
        }
    }

    #[test]
    fn same_seed_gives_same_delays() {
        let b = Backoff::default();
        let mut a = fastrand::Rng::with_seed(9);
        let mut c = fastrand::Rng::with_seed(9);
        for attempt in 1..=5 {
            assert_eq!(b.delay(attempt, &mut a), b.delay(attempt, &mut c));
        }
    }

    #[test]
    fn cap_is_respected() {
        let b = Backoff {
            base: Duration::from_secs(10),
            factor: 3,
            max_attempts: 10,
            cap: Duration::from_secs(60),
        };
        assert_eq!(b.ceiling(1), secs(10));
        assert_eq!(b.ceiling(2), secs(30));
        assert_eq!(b.ceiling(3), secs(60));
        assert_eq!(b.ceiling(10), secs(60));
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..1_000 {
            let d = b.delay(10, &mut rng).expect("within attempts");
            assert!(d <= Duration::from_secs(60));
        }
    }

    #[test]
    fn huge_attempts_do_not_overflow() {
        let b = Backoff {
            max_attempts: u32::MAX,
            ..Backoff::default()
        };
        assert_eq!(b.ceiling(64), Some(b.cap));
        assert_eq!(b.ceiling(u32::MAX), Some(b.cap));
        let unbounded = Backoff {
            base: Duration::MAX,
            factor: u32::MAX,
            max_attempts: u32::MAX,
            cap: Duration::MAX,
        };
        assert_eq!(unbounded.ceiling(u32::MAX), Some(Duration::MAX));
        let mut rng = fastrand::Rng::with_seed(5);
        for attempt in [1, 2, 1_000, u32::MAX] {
            assert!(unbounded.delay(attempt, &mut rng).is_some());
        }
    }

    #[test]
    fn factor_one_keeps_a_constant_bound() {
        let b = Backoff {
            factor: 1,
            ..Backoff::default()
        };
        assert!((1..=5).all(|a| b.ceiling(a) == secs(2)));
    }
}
