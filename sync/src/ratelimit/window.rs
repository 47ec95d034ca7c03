//! One sliding window and its bucket arithmetic.
//!
//! Time is cut into fixed buckets as long as the window, aligned on the Unix epoch (so a
//! day's bucket runs from midnight to midnight UTC). At an instant `t` that lies `elapsed`
//! into bucket `b`, the estimated count over the last window is
//!
//! ```text
//! count(b) + ceil(count(b - 1) × (length − elapsed) / length)
//! ```
//!
//! All of it is integer arithmetic on nanoseconds (`u128`, which cannot overflow: a count is
//! below 2⁶⁴ and a length below 2⁶⁴ ns), so nothing drifts. The weighted previous count is
//! rounded **up**: the estimate is never below the exact weighted value, so the limiter never
//! lets more through than the limit.

use std::time::Duration;

use time::OffsetDateTime;

use super::RateLimitError;
use super::store::BucketCounts;

/// At most `limit` cost units in any `length` (as estimated by the sliding-window counter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// A short name, unique within a limiter; part of the store key and of [`Decision::Wait`].
    ///
    /// [`Decision::Wait`]: super::Decision::Wait
    pub name: String,
    /// The window's (and each bucket's) length.
    pub length: Duration,
    /// The most cost allowed in one window.
    pub limit: u64,
}

impl Window {
    /// A window named `name` allowing `limit` per `length`.
    pub fn new(name: impl Into<String>, length: Duration, limit: u64) -> Self {
        Window {
            name: name.into(),
            length,
            limit,
        }
    }

    /// `limit` per minute, named `minute`.
    pub fn per_minute(limit: u64) -> Self {
        Window::new("minute", Duration::from_secs(60), limit)
    }

    /// `limit` per day, named `day`.
    pub fn per_day(limit: u64) -> Self {
        Window::new("day", Duration::from_secs(24 * 60 * 60), limit)
    }

    /// The length in nanoseconds, checked to be usable.
    pub(crate) fn length_nanos(&self) -> Result<u128, RateLimitError> {
        let nanos = self.length.as_nanos();
        let reason = if nanos == 0 {
            "its length is zero"
        } else if nanos > u128::from(u64::MAX) {
            "its length is longer than 2^64 nanoseconds"
        } else {
            return Ok(nanos);
        };
        Err(RateLimitError::InvalidWindow {
            window: self.name.clone(),
            reason,
        })
    }
}

/// Where an instant falls among a window's buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    /// The bucket's index (bucket `b` starts at `b × length` since the epoch).
    pub bucket: i64,
    /// Nanoseconds since the bucket started, below `length`.
    pub elapsed: u128,
    /// The bucket's length in nanoseconds.
    pub length: u128,
}

impl Position {
    /// Where `now` falls for buckets of `length` nanoseconds (`length > 0`).
    pub fn of(window: &str, length: u128, now: OffsetDateTime) -> Result<Self, RateLimitError> {
        let instant = now.unix_timestamp_nanos();
        let out_of_range = || RateLimitError::TimeOutOfRange {
            window: window.to_owned(),
            instant,
        };
        // `length ≤ u64::MAX`, so it fits an i128.
        let signed_length = i128::try_from(length).map_err(|_| out_of_range())?;
        let bucket =
            i64::try_from(instant.div_euclid(signed_length)).map_err(|_| out_of_range())?;
        let elapsed = instant.rem_euclid(signed_length).unsigned_abs();
        Ok(Position {
            bucket,
            elapsed,
            length,
        })
    }

    /// The previous bucket's count weighted by the share of it still inside the window,
    /// rounded up.
    pub fn weighted_previous(&self, previous: u64) -> u64 {
        let remaining = self.length - self.elapsed;
        let weighted = (u128::from(previous) * remaining).div_ceil(self.length);
        // `remaining ≤ length`, so `weighted ≤ previous`.
        u64::try_from(weighted).unwrap_or(previous)
    }

    /// The estimated count over the window ending now.
    pub fn estimate(&self, counts: BucketCounts) -> u64 {
        counts
            .current
            .saturating_add(self.weighted_previous(counts.previous))
    }

    /// The most the current bucket may hold after an increment for the estimate to stay
    /// within `limit`: what an atomic store checks the increment against.
    pub fn max_current(&self, limit: u64, previous: u64) -> u64 {
        limit.saturating_sub(self.weighted_previous(previous))
    }

    /// Whether a call of `cost` fits now.
    pub fn fits(&self, counts: BucketCounts, cost: u64, limit: u64) -> bool {
        u128::from(counts.current) + u128::from(cost)
            <= u128::from(self.max_current(limit, counts.previous))
    }

    /// The earliest instant, in nanoseconds since the epoch, at which a call of `cost` fits if
    /// nobody else adds in the meantime; `None` when `cost > limit` (it never fits).
    pub fn earliest_fit(&self, counts: BucketCounts, cost: u64, limit: u64) -> Option<i128> {
        if cost > limit {
            return None;
        }
        let length = self.length;
        // Bucket indices come from an i128 division by `length`, so this cannot overflow.
        let start = i128::from(self.bucket) * length as i128;
        // Within this bucket the weighted previous count shrinks as time passes: the call fits
        // at elapsed `e` once ceil(previous × (length − e) / length) ≤ budget, that is once
        // length − e ≤ floor(budget × length / previous).
        if let Some(budget) = limit
            .checked_sub(counts.current)
            .and_then(|left| left.checked_sub(cost))
        {
            let from = first_elapsed(counts.previous, budget, length).max(self.elapsed);
            if from < length {
                return Some(start + from as i128);
            }
        }
        // In the next bucket, this bucket's count becomes the previous one and shrinks alike.
        let from = first_elapsed(counts.current, limit - cost, length);
        Some(start + length as i128 + from as i128)
    }
}

/// The first elapsed time in a bucket at which `ceil(previous × (length − e) / length) ≤ budget`.
fn first_elapsed(previous: u64, budget: u64, length: u128) -> u128 {
    if previous == 0 {
        return 0;
    }
    let room = u128::from(budget) * length / u128::from(previous);
    length - room.min(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(current: u64, previous: u64) -> BucketCounts {
        BucketCounts { current, previous }
    }

    fn at(length: u128, bucket: i64, elapsed: u128) -> Position {
        Position {
            bucket,
            elapsed,
            length,
        }
    }

    #[test]
    fn positions_follow_the_epoch() {
        let minute = Window::per_minute(1).length_nanos().unwrap();
        let t = OffsetDateTime::from_unix_timestamp(120 + 15).unwrap();
        let position = Position::of("minute", minute, t).unwrap();
        assert_eq!(position, at(minute, 2, 15_000_000_000));
        let before = OffsetDateTime::from_unix_timestamp(-1).unwrap();
        let position = Position::of("minute", minute, before).unwrap();
        assert_eq!(position, at(minute, -1, 59_000_000_000));
    }

    #[test]
    fn rejects_unusable_lengths() {
        let zero = Window::new("zero", Duration::ZERO, 1);
        assert!(matches!(
            zero.length_nanos(),
            Err(RateLimitError::InvalidWindow { .. })
        ));
        let huge = Window::new("huge", Duration::from_secs(u64::MAX), 1);
        assert!(huge.length_nanos().is_err());
        let tiny = Window::new("tiny", Duration::from_nanos(1), 1);
        let far = OffsetDateTime::from_unix_timestamp(250_000_000_000).unwrap();
        assert!(matches!(
            Position::of("tiny", tiny.length_nanos().unwrap(), far),
            Err(RateLimitError::TimeOutOfRange { .. })
        ));
    }

    #[test]
    fn weights_round_up() {
        // 3 × 1/4 = 0.75 → 1; 4 × 1/4 = 1; 5 × 1/4 = 1.25 → 2.
        let position = at(4, 0, 3);
        assert_eq!(position.weighted_previous(3), 1);
        assert_eq!(position.weighted_previous(4), 1);
        assert_eq!(position.weighted_previous(5), 2);
        assert_eq!(at(4, 0, 0).weighted_previous(u64::MAX), u64::MAX);
        assert_eq!(at(4, 0, 3).max_current(10, 5), 8);
        assert_eq!(at(4, 0, 0).max_current(10, 50), 0);
    }

    #[test]
    fn earliest_fit_is_the_first_instant_that_fits() {
        let length = 1_000;
        for (current, previous, cost, limit, elapsed) in [
            (0, 10, 1, 10, 0),
            (5, 10, 1, 10, 200),
            (10, 0, 1, 10, 500),
            (10, 10, 3, 10, 999),
            (3, 7, 4, 10, 10),
            (0, 0, 10, 10, 0),
            (9, 9, 2, 10, 1),
        ] {
            let here = at(length, 7, elapsed);
            let c = counts(current, previous);
            let until = here.earliest_fit(c, cost, limit).unwrap();
            let fits_at = |instant: i128| {
                let bucket = instant.div_euclid(length as i128);
                let elapsed = instant.rem_euclid(length as i128) as u128;
                let c = match bucket - 7 {
                    0 => c,
                    1 => counts(0, current),
                    _ => counts(0, 0),
                };
                at(length, bucket as i64, elapsed).fits(c, cost, limit)
            };
            let now = 7 * length as i128 + elapsed as i128;
            assert!(fits_at(until), "{c:?} cost {cost} at {until}");
            assert!(
                (now..until).all(|instant| !fits_at(instant)),
                "{c:?} cost {cost}: fits before {until}"
            );
        }
        assert_eq!(at(1_000, 0, 0).earliest_fit(counts(0, 0), 11, 10), None);
    }
}
