//! A lane: events whose records wait to be written together, and when they must be.
//!
//! The worker has two. The REST lane holds high- and normal-priority events for a short
//! window (high priority the shortest) so that the records of many events share one Composite
//! call; the Bulk lane holds low-priority events and every audit record for the Bulk API 2.0
//! jobs. An event in a lane is not acknowledged yet: it stays leased in the queue and claimed in
//! the ledger until its records are written, so a worker that dies with a full lane loses
//! nothing (its events are handed out again when their leases end).

use time::OffsetDateTime;

use super::Work;
use super::plan::Verdict;
use crate::mapping::MappedRecord;

/// An event waiting in a lane.
pub(super) struct Held {
    /// The event.
    pub work: Work,
    /// Its data records still to write; empty when its data is written (only its audit record
    /// is left).
    pub data: Vec<MappedRecord>,
}

/// Events and records waiting in a lane.
#[derive(Default)]
pub(super) struct Buffer {
    /// Events to settle once written.
    pub events: Vec<Held>,
    /// Audit records of events already settled (retried or dead-lettered at once): written with
    /// the flush, their failures only logged (the event's own state is in the queue or the
    /// dead-letter queue).
    pub detached: Vec<MappedRecord>,
    /// When the most urgent waiting item must be written.
    pub deadline: Option<OffsetDateTime>,
}

impl Buffer {
    /// Items waiting.
    pub fn len(&self) -> usize {
        self.events.len() + self.detached.len()
    }

    /// Adds an event to write by `due`.
    pub fn hold(&mut self, held: Held, due: OffsetDateTime) {
        self.tighten(due);
        self.events.push(held);
    }

    /// Adds a detached audit record to write by `due`.
    pub fn detach(&mut self, record: MappedRecord, due: OffsetDateTime) {
        self.tighten(due);
        self.detached.push(record);
    }

    /// Brings the deadline forward to `due`.
    fn tighten(&mut self, due: OffsetDateTime) {
        self.deadline = Some(self.deadline.map_or(due, |deadline| deadline.min(due)));
    }

    /// Whether the lane must be flushed now: something waits and its deadline has come, or
    /// `size` items wait.
    pub fn due(&self, size: usize, now: OffsetDateTime) -> bool {
        self.deadline
            .is_some_and(|deadline| deadline <= now || self.len() >= size)
    }
}

/// Whether an event's verdict lets its audit record be written now (a paused event is given
/// back whole, audit included).
pub(super) fn audits(verdict: &Verdict) -> bool {
    !matches!(verdict, Verdict::Paused(_))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::worker::test_records::customer;

    fn record(id: &str) -> MappedRecord {
        customer(id, "A customer")
    }

    #[test]
    fn due_by_deadline_or_size() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let secs = |n| start + Duration::from_secs(n);
        let mut buffer = Buffer::default();
        assert!(!buffer.due(2, secs(100)), "nothing waits");
        buffer.detach(record("cus_1"), secs(10));
        assert!(!buffer.due(2, secs(9)));
        assert!(buffer.due(2, secs(10)));
        // A more urgent item brings the deadline forward; a later one does not push it back.
        buffer.detach(record("cus_2"), secs(5));
        assert_eq!(buffer.deadline, Some(secs(5)));
        assert!(buffer.due(2, secs(1)), "two items reach the size");
        assert!(buffer.due(3, secs(5)));
        assert!(!buffer.due(3, secs(4)));
    }

    #[test]
    fn a_paused_event_writes_no_audit_record() {
        assert!(!audits(&Verdict::Paused(OffsetDateTime::UNIX_EPOCH)));
        assert!(audits(&Verdict::Retry("x".into())));
        assert!(audits(&Verdict::Written));
    }
}
