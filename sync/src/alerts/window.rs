//! The sliding window of processing outcomes behind the error-rate alert.

use std::collections::VecDeque;
use std::time::Duration;

use time::OffsetDateTime;

/// Outcomes of one second.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// The Unix second.
    second: i64,
    /// Events that succeeded.
    ok: u64,
    /// Events that failed.
    failed: u64,
}

/// Successes and failures over the last `width` seconds, in one-second buckets, so memory is
/// bounded by the window's length and not by the event rate.
#[derive(Debug, Clone)]
pub(crate) struct ErrorWindow {
    /// The window's length in whole seconds (at least 1).
    width: i64,
    /// The buckets, oldest first.
    buckets: VecDeque<Bucket>,
    /// Failures in the buckets.
    failed: u64,
    /// Events in the buckets.
    total: u64,
}

impl ErrorWindow {
    /// An empty window `width` long (rounded up to whole seconds, at least one).
    pub(crate) fn new(width: Duration) -> Self {
        let secs = width.as_secs() + u64::from(width.subsec_nanos() > 0);
        ErrorWindow {
            width: i64::try_from(secs.max(1)).unwrap_or(i64::MAX),
            buckets: VecDeque::new(),
            failed: 0,
            total: 0,
        }
    }

    /// Records one outcome at `now` and returns `(failures, events)` over the window.
    pub(crate) fn record(&mut self, now: OffsetDateTime, ok: bool) -> (u64, u64) {
        let second = now.unix_timestamp();
        self.prune(second);
        // A clock that went back adds to the newest bucket, keeping the buckets in order.
        let bucket = match self.buckets.back_mut() {
            Some(last) if last.second >= second => last,
            _ => {
                self.buckets.push_back(Bucket {
                    second,
                    ok: 0,
                    failed: 0,
                });
                self.buckets.back_mut().expect("a bucket was just pushed")
            }
        };
        if ok {
            bucket.ok += 1;
        } else {
            bucket.failed += 1;
            self.failed += 1;
        }
        self.total += 1;
        (self.failed, self.total)
    }

    /// Drops the buckets that are `width` seconds or more older than `second`.
    fn prune(&mut self, second: i64) {
        let oldest_kept = second.saturating_sub(self.width);
        while let Some(front) = self.buckets.front().copied() {
            if front.second > oldest_kept {
                break;
            }
            self.buckets.pop_front();
            self.failed -= front.failed;
            self.total -= front.ok + front.failed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_outcomes_fall_out() {
        let start = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let mut window = ErrorWindow::new(Duration::from_secs(300));
        assert_eq!(window.record(start, false), (1, 1));
        assert_eq!(
            window.record(start + Duration::from_secs(299), true),
            (1, 2)
        );
        // 300 s after the first outcome it is out; the second one stays.
        assert_eq!(
            window.record(start + Duration::from_secs(300), true),
            (0, 2)
        );
        assert_eq!(
            window.record(start + Duration::from_secs(10_000), false),
            (1, 1)
        );
        assert_eq!(window.buckets.len(), 1);
    }

    #[test]
    fn a_clock_going_back_keeps_counting() {
        let start = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let mut window = ErrorWindow::new(Duration::from_millis(1));
        window.record(start, true);
        assert_eq!(window.record(start - Duration::from_secs(5), false), (1, 2));
        assert_eq!(window.buckets.len(), 1);
    }
}
