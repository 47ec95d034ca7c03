//! The pure decisions of a batch: which events are stale, which record of a key wins, in
//! which order objects are written, and what each failure means for its event.

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::mapping::MappedRecord;
use crate::salesforce::{
    ApiError, COLLECTION_LIMIT, COMPOSITE_COLLECTIONS_LIMIT, COMPOSITE_LIMIT, ErrorClass,
};
use crate::store::Mark;

/// Objects in the order they are written: parents before children, the audit trail last.
pub const WRITE_ORDER: [&str; 9] = [
    "Stripe_Customer__c",
    "Pricing_Plan__c",
    "Pricing_Tier__c",
    "Stripe_Subscription__c",
    "Stripe_Invoice__c",
    "Payment_Transaction__c",
    "Task",
    "Contact",
    "Stripe_Webhook_Event__c",
];

/// The position of `sobject` in [`WRITE_ORDER`]; objects not listed go after all of them.
pub fn write_rank(sobject: &str) -> usize {
    WRITE_ORDER
        .iter()
        .position(|name| *name == sobject)
        .unwrap_or(WRITE_ORDER.len())
}

/// Whether an event created at `created` must be skipped because `mark` (the last event
/// applied to its object) is newer.
///
/// Only an event from a strictly earlier second is stale. Two events of one object in the
/// same second cannot be ordered by the mark (Stripe's `created` has a resolution of one
/// second and event ids are not ordered), so a same-second event is never dropped: the worker
/// writes the object's current state re-fetched from Stripe when it has an object source, and
/// the event's own object otherwise. Within one batch the record of the greatest (created,
/// event id) wins.
pub fn is_stale(created: i64, mark: Option<&Mark>) -> bool {
    mark.is_some_and(|mark| created < mark.created)
}

/// What became of an event's writes in this batch, from best to worst for the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every record it contributed was written (or it had none).
    Written,
    /// Not attempted: the Salesforce quota (ours or the org's) refuses calls until then.
    Paused(OffsetDateTime),
    /// A record failed in a way that may pass later.
    Retry(String),
    /// A record was refused for good.
    Permanent(String),
}

impl Verdict {
    /// How bad the verdict is: a permanent failure outranks a retryable one, which outranks
    /// a pause (a failed attempt counts even if another record was not attempted).
    fn severity(&self) -> u8 {
        match self {
            Verdict::Written => 0,
            Verdict::Paused(_) => 1,
            Verdict::Retry(_) => 2,
            Verdict::Permanent(_) => 3,
        }
    }

    /// Keeps the worse of `self` and `other`.
    pub fn merge(&mut self, other: Verdict) {
        if other.severity() > self.severity() {
            *self = other;
        }
    }
}

/// Whether a record error is Salesforce's answer to a reference by external id to a parent
/// that does not exist yet (`INVALID_FIELD`, "Foreign key external ID: … not found").
pub fn is_missing_parent(error: &ApiError) -> bool {
    error.error_code == "INVALID_FIELD" && error.message.starts_with("Foreign key external ID")
}

/// The parents `record` references by external id, as (parent object, external id field,
/// value): its reference columns such as `Stripe_Customer__r.Stripe_Customer_ID__c`.
pub fn references(record: &MappedRecord) -> Vec<(&'static str, String, String)> {
    let Some(describe) = sfdc_types::SCHEMA.object(record.sobject()) else {
        return Vec::new();
    };
    let mut references = Vec::new();
    for (name, value) in record.values() {
        let (Some((relationship, field)), sfdc_types::Value::Text(value)) =
            (name.split_once('.'), value)
        else {
            continue;
        };
        let parent = describe
            .fields
            .iter()
            .find(|f| {
                f.relationship_name
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(relationship))
            })
            .and_then(|f| f.reference_to.as_deref());
        if let Some(parent) = parent {
            references.push((parent, field.to_owned(), value));
        }
    }
    references
}

/// The verdict for a record Salesforce refused with `errors`.
///
/// A child whose parent is not in Salesforce yet is retryable rather than permanent: the worker
/// writes the parent first and tries again (see `Worker::write_with_parents`), and otherwise
/// the parent's own event is usually in the queue and arrives soon.
pub fn record_verdict(
    errors: &[ApiError],
    class: ErrorClass,
    pause_until: OffsetDateTime,
) -> Verdict {
    let reason = describe(errors);
    if !errors.is_empty() && errors.iter().all(is_missing_parent) {
        return Verdict::Retry(reason);
    }
    match class {
        ErrorClass::Permanent => Verdict::Permanent(reason),
        ErrorClass::Quota => Verdict::Paused(pause_until),
        ErrorClass::Retryable | ErrorClass::Auth => Verdict::Retry(reason),
    }
}

/// The verdict for records of a call (or Composite part) that failed as a whole.
pub fn call_verdict(class: ErrorClass, reason: String, pause_until: OffsetDateTime) -> Verdict {
    match class {
        ErrorClass::Quota => Verdict::Paused(pause_until),
        ErrorClass::Permanent => Verdict::Permanent(reason),
        ErrorClass::Retryable | ErrorClass::Auth => Verdict::Retry(reason),
    }
}

/// The end of the run of groups from `start` with the object and key field of
/// `groups[start]`, at most `limit` long.
pub fn run_end(groups: &[Group], start: usize, limit: usize) -> usize {
    let (sobject, field) = (
        groups[start].record.sobject(),
        groups[start].record.key().field,
    );
    let mut end = start;
    while end < groups.len()
        && end - start < limit
        && groups[end].record.sobject() == sobject
        && groups[end].record.key().field == field
    {
        end += 1;
    }
    end
}

/// The end of the groups from `start` that one Composite call writes: at most
/// [`COMPOSITE_COLLECTIONS_LIMIT`] Collections upserts of up to [`COLLECTION_LIMIT`] records
/// (one per run of an object and external id field) and at most [`COMPOSITE_LIMIT`]
/// subrequests in all (a record keyed by `Id` is one update subrequest).
pub fn composite_end(groups: &[Group], start: usize) -> usize {
    let (mut subrequests, mut collections, mut end) = (0, 0, start);
    while end < groups.len() && subrequests < COMPOSITE_LIMIT {
        if groups[end].record.key().field == "Id" {
            end += 1;
        } else {
            if collections == COMPOSITE_COLLECTIONS_LIMIT {
                break;
            }
            collections += 1;
            end = run_end(groups, end, COLLECTION_LIMIT);
        }
        subrequests += 1;
    }
    end
}

/// Salesforce's errors as `CODE: message (fields: …)`, separated by `; `.
pub fn describe(errors: &[ApiError]) -> String {
    if errors.is_empty() {
        return "Salesforce did not process the record".to_owned();
    }
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One record to write, and every event whose record of the same key it stands for.
#[derive(Debug, Clone)]
pub struct Group {
    /// The record of the newest event.
    pub record: MappedRecord,
    /// Indexes of the events (in the batch) that produced a record with this key.
    pub events: Vec<usize>,
}

/// A record produced by the event at `event` (an index into the batch), ordered by `rank`
/// (the event's created second and id).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index of the event in the batch.
    pub event: usize,
    /// The event's (created, event id).
    pub rank: (i64, String),
    /// The record.
    pub record: MappedRecord,
}

/// Collapses candidates of the same (object, key field, key value) to the record of the newest
/// event, and returns the groups in write order (parents first), then by key field, then in
/// first-seen order.
pub fn collapse(candidates: Vec<Candidate>) -> Vec<Group> {
    let mut index: HashMap<(&'static str, &'static str, String), usize> = HashMap::new();
    let mut slots: Vec<(Candidate, Vec<usize>)> = Vec::new();
    for candidate in candidates {
        let key = candidate.record.key();
        let id = (candidate.record.sobject(), key.field, key.value.clone());
        match index.get(&id) {
            Some(&at) => {
                let (best, events) = &mut slots[at];
                if !events.contains(&candidate.event) {
                    events.push(candidate.event);
                }
                if candidate.rank > best.rank {
                    *best = candidate;
                }
            }
            None => {
                index.insert(id, slots.len());
                let events = vec![candidate.event];
                slots.push((candidate, events));
            }
        }
    }
    let mut groups: Vec<Group> = slots
        .into_iter()
        .map(|(best, events)| Group {
            record: best.record,
            events,
        })
        .collect();
    // A stable sort keeps first-seen order within an object and key field.
    groups.sort_by_key(|group| (write_rank(group.record.sobject()), group.record.key().field));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::test_records::customer;

    fn candidate(event: usize, created: i64, id: &str, record: MappedRecord) -> Candidate {
        Candidate {
            event,
            rank: (created, id.to_owned()),
            record,
        }
    }

    #[test]
    fn stale_only_from_an_earlier_second() {
        let mark = Mark {
            created: 100,
            event_id: "evt_b".into(),
        };
        assert!(is_stale(99, Some(&mark)));
        assert!(!is_stale(100, Some(&mark)));
        assert!(!is_stale(101, Some(&mark)));
        assert!(!is_stale(1, None));
    }

    #[test]
    fn the_newest_record_of_a_key_wins_and_covers_the_others() {
        let groups = collapse(vec![
            candidate(0, 10, "evt_2", customer("cus_1", "New")),
            candidate(1, 5, "evt_1", customer("cus_1", "Old")),
            candidate(2, 7, "evt_3", customer("cus_2", "Other")),
        ]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].events, vec![0, 1]);
        assert!(
            groups[0]
                .record
                .record_body()
                .expect("body")
                .contains("New")
        );
        assert_eq!(groups[1].events, vec![2]);
    }

    #[test]
    fn parents_are_written_first() {
        assert!(write_rank("Stripe_Customer__c") < write_rank("Stripe_Subscription__c"));
        assert!(write_rank("Stripe_Subscription__c") < write_rank("Stripe_Invoice__c"));
        assert!(write_rank("Stripe_Invoice__c") < write_rank("Payment_Transaction__c"));
        assert_eq!(write_rank("Stripe_Webhook_Event__c"), WRITE_ORDER.len() - 1);
    }

    #[test]
    fn verdicts() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let missing = ApiError::new(
            "INVALID_FIELD",
            "Foreign key external ID: cus_1 not found for field Stripe_Customer_ID__c",
        );
        assert!(matches!(
            record_verdict(&[missing], ErrorClass::Permanent, now),
            Verdict::Retry(_)
        ));
        let picklist = ApiError::new("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "bad value");
        assert_eq!(
            record_verdict(std::slice::from_ref(&picklist), ErrorClass::Permanent, now),
            Verdict::Permanent("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: bad value".into())
        );
        let mut verdict = Verdict::Paused(now);
        verdict.merge(Verdict::Retry("x".into()));
        verdict.merge(Verdict::Written);
        assert_eq!(verdict, Verdict::Retry("x".into()));
        verdict.merge(Verdict::Permanent("y".into()));
        assert_eq!(verdict, Verdict::Permanent("y".into()));
    }
}
