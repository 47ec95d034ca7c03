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
    /// Salesforce User (or queue) Id that finance follow-up Tasks are assigned to
    /// (`finance_owner_id`); `None` leaves the Task to the integration user.
    pub finance_owner_id: Option<String>,
    /// Salesforce User (or queue) Id that service follow-up Tasks are assigned to
    /// (`service_owner_id`); `None` leaves the Task to the integration user.
    pub service_owner_id: Option<String>,
    /// The Stripe event whose `data.object` is being mapped: the mappings of `event` limited to
    /// some event types (`when_type`) write their records with the event's data records.
    /// `None` when mapping an object on its own (no such records).
    pub event: Option<serde_json::Value>,
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
            finance_owner_id: None,
            service_owner_id: None,
            event: None,
        }
    }

    /// The same context for mapping the `data.object` of `event`.
    pub fn with_event(mut self, event: serde_json::Value) -> MappingContext {
        self.event = Some(event);
        self
    }

    /// The same context with the owners of follow-up Tasks (`None`: no owner set).
    pub fn with_task_owners(
        mut self,
        finance_owner_id: Option<String>,
        service_owner_id: Option<String>,
    ) -> MappingContext {
        self.finance_owner_id = finance_owner_id;
        self.service_owner_id = service_owner_id;
        self
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
