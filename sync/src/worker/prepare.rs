//! Preparing a claimed delivery: reading and checking the event, ordering it against its
//! object's watermark, mapping it, and its audit record.

use super::*;

impl<Q: Queue, S: Store> Worker<Q, S> {
    /// Reads, checks and maps one claimed delivery; settles it at once when there is nothing
    /// to write for it but its audit record.
    pub(super) async fn prepare(
        &self,
        delivery: Delivery,
        claim: Claim,
        until: OffsetDateTime,
        correlation_id: &str,
    ) -> Result<Prepared, WorkerError> {
        let envelope = &delivery.envelope;
        let event_id = envelope.event_id.clone();
        let now = self.now();
        match claim {
            Claim::Done(outcome) => {
                tracing::debug!(
                    event_id,
                    correlation_id,
                    outcome = outcome.as_str(),
                    "duplicate delivery"
                );
                self.metrics.add(
                    Counter::EventsDuplicate,
                    &[("type", type_label(&envelope.event_type))],
                    1,
                );
                self.ack(&delivery).await?;
                self.forget(&event_id);
                return Ok(Prepared::Settled);
            }
            Claim::Held { worker, .. } => {
                tracing::debug!(event_id, correlation_id, holder = %worker, "event held by another worker");
                self.give_back(&delivery, now + HELD_RETRY, "held").await?;
                return Ok(Prepared::Settled);
            }
            Claim::Granted => {}
        }
        let attempt = self.attempt(&delivery);
        let event: serde_json::Value = match serde_json::from_slice(&envelope.payload) {
            Ok(value) => value,
            Err(error) => {
                self.dead_letter(
                    &delivery,
                    format!("unreadable event: {error}"),
                    correlation_id,
                )
                .await?;
                return Ok(Prepared::Settled);
            }
        };
        let typed = stripe_types::Event::from_json(&envelope.payload).map(|_| ());
        let mut item = Work {
            event,
            outcome: Outcome::Processed,
            attempt,
            delivery,
            lease_until: until,
        };
        if let Err(error) = typed {
            self.dead_letter_unmapped(&item, format!("unreadable event: {error}"), correlation_id)
                .await?;
            return Ok(Prepared::Settled);
        }
        if !crate::priority::handled(&item.delivery.envelope.event_type) {
            self.metrics.add(
                Counter::EventsUnhandled,
                &[("type", type_label(&item.delivery.envelope.event_type))],
                1,
            );
            item.outcome = Outcome::Ignored;
            return Ok(Prepared::Work(Box::new(item), Vec::new()));
        }
        let mark = match &item.delivery.envelope.object_id {
            Some(object_id) => self
                .store
                .mark(object_id)
                .await
                .map_err(|e| WorkerError::store("reading the watermark of", &event_id, e))?,
            None => None,
        };
        if plan::is_stale(item.delivery.envelope.created, mark.as_ref()) {
            tracing::info!(
                event_id,
                correlation_id,
                "older than the last applied event of its object: skipped"
            );
            self.metrics.add(
                Counter::EventsSkippedStale,
                &[("type", type_label(&item.delivery.envelope.event_type))],
                1,
            );
            item.outcome = Outcome::SkippedStale;
            return Ok(Prepared::Work(Box::new(item), Vec::new()));
        }
        let unordered = mark.as_ref().is_some_and(|mark| {
            mark.created == item.delivery.envelope.created && mark.event_id != event_id
        });
        let mut current = None;
        if unordered && let Some(source) = &self.source {
            let object = item.event.pointer("/data/object");
            let kind = object
                .and_then(|o| o.get("object"))
                .and_then(serde_json::Value::as_str);
            let id = object
                .and_then(|o| o.get("id"))
                .and_then(serde_json::Value::as_str);
            if let (Some(kind), Some(id)) = (kind, id) {
                tracing::info!(
                    event_id,
                    correlation_id,
                    "same second as the last applied event: re-fetching its object"
                );
                match source.fetch(kind, id).await {
                    Ok(object) => current = Some(object),
                    Err(error) => {
                        let reason = format!("cannot order a same-second event: {error}");
                        self.settle(item, Verdict::Retry(reason), correlation_id)
                            .await?;
                        return Ok(Prepared::Settled);
                    }
                }
            }
        }
        let ctx = self.context(&item, ProcessingStatus::Processed, None);
        let object = current
            .as_ref()
            .or_else(|| item.event.pointer("/data/object"))
            .unwrap_or(&serde_json::Value::Null);
        let records = match map_object(object, &ctx) {
            Ok(records) => records,
            Err(error) => {
                self.dead_letter_unmapped(
                    &item,
                    format!("mapping failed: {error}"),
                    correlation_id,
                )
                .await?;
                return Ok(Prepared::Settled);
            }
        };
        for record in &records {
            if let Err(violations) = record.validate() {
                let reason = format!(
                    "{} {} failed validation: {violations}",
                    record.sobject(),
                    record.key().value
                );
                self.dead_letter_unmapped(&item, reason, correlation_id)
                    .await?;
                return Ok(Prepared::Settled);
            }
        }
        Ok(Prepared::Work(Box::new(item), records))
    }

    /// The mapping context of `item` with `status`.
    pub(super) fn context(
        &self,
        item: &Work,
        status: ProcessingStatus,
        error: Option<String>,
    ) -> MappingContext {
        MappingContext {
            received_at: item.delivery.envelope.received_at,
            processed_at: Some(self.now()),
            processing_status: status,
            attempts: item.delivery.deliveries,
            error_message: error,
            finance_owner_id: self.config.task_owner_finance.clone(),
            service_owner_id: self.config.task_owner_service.clone(),
            event: Some(item.event.clone()),
        }
    }

    /// The audit record of `item` given its verdict so far; `Err` with the reason when it
    /// cannot be mapped or is invalid.
    pub(super) fn audit_record(
        &self,
        item: &Work,
        verdict: &Verdict,
    ) -> Result<MappedRecord, String> {
        let (status, error) = match verdict {
            Verdict::Written | Verdict::Paused(_) => (
                match item.outcome {
                    Outcome::Processed => ProcessingStatus::Processed,
                    Outcome::SkippedStale => ProcessingStatus::SkippedStale,
                    // An ignored type was received and recorded, not processed.
                    Outcome::Ignored => ProcessingStatus::Received,
                    Outcome::DeadLettered => ProcessingStatus::DeadLettered,
                },
                None,
            ),
            // The last retryable failure is dead-lettered when settled.
            Verdict::Retry(reason) if self.config.backoff.ceiling(item.attempt).is_none() => {
                (ProcessingStatus::DeadLettered, Some(reason.clone()))
            }
            Verdict::Retry(reason) => (ProcessingStatus::Failed, Some(reason.clone())),
            Verdict::Permanent(reason) => (ProcessingStatus::DeadLettered, Some(reason.clone())),
        };
        let ctx = self.context(item, status, error);
        let record = map_object(&item.event, &ctx)
            .map_err(|e| format!("audit record mapping failed: {e}"))?
            .into_iter()
            .next()
            .ok_or_else(|| "the event mapping gave no audit record".to_owned())?;
        record
            .validate()
            .map_err(|v| format!("audit record failed validation: {v}"))?;
        Ok(record)
    }
}

/// What [`Worker::prepare`] made of a delivery.
pub(super) enum Prepared {
    /// Settled already (duplicate, held, dead-lettered).
    Settled,
    /// To be written: the event and its data records.
    Work(Box<Work>, Vec<MappedRecord>),
}
