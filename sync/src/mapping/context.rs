//! [`MappingContext`]: the values of the sync itself a mapping can write (`context = ...` in
//! `sync/mappings.toml`).

use time::OffsetDateTime;

/// What the engine knows about the event being mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingContext {
    /// When the event was received (`received_at`).
    pub received_at: OffsetDateTime,
    /// When processing finished (`processed_at`); `None` while it runs.
    pub processed_at: Option<OffsetDateTime>,
    /// Outcome of processing so far (`processing_status`).
    pub processing_status: ProcessingStatus,
    /// Processing attempts so far (`attempts`).
    pub attempts: u32,
    /// Last processing error (`error_message`); `None` when there is none.
    pub error_message: Option<String>,
}

impl MappingContext {
    /// The context of an event received at `at` and being processed for the first time.
    pub fn received(at: OffsetDateTime) -> MappingContext {
        MappingContext {
            received_at: at,
            processed_at: None,
            processing_status: ProcessingStatus::Received,
            attempts: 0,
            error_message: None,
        }
    }
}

/// Outcome of processing an event, as `Stripe_Webhook_Event__c.Processing_Status__c` has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessingStatus {
    /// Received and queued.
    Received,
    /// Written to Salesforce.
    Processed,
    /// Skipped: a newer event about the same object was already applied.
    SkippedStale,
    /// Failed; will be retried.
    Failed,
    /// Failed for good; left for an admin.
    DeadLettered,
}

impl ProcessingStatus {
    /// Every status, in the picklist's order.
    pub const ALL: [ProcessingStatus; 5] = [
        ProcessingStatus::Received,
        ProcessingStatus::Processed,
        ProcessingStatus::SkippedStale,
        ProcessingStatus::Failed,
        ProcessingStatus::DeadLettered,
    ];

    /// The picklist value.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessingStatus::Received => "received",
            ProcessingStatus::Processed => "processed",
            ProcessingStatus::SkippedStale => "skipped_stale",
            ProcessingStatus::Failed => "failed",
            ProcessingStatus::DeadLettered => "dead_lettered",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_the_ones_the_build_checked() {
        let names: Vec<&str> = ProcessingStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, crate::mapping::PROCESSING_STATUSES);
    }
}
