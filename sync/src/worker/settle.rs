//! Settling events: the ledger, the queue and the watermarks once an event's records are
//! written, retries with backoff, pauses, and the dead-letter queue.

use super::*;

impl<Q: Queue, S: Store> Worker<Q, S> {
    /// Advances the watermarks of the objects of `items` (their data is written) in one store
    /// call.
    pub(super) async fn advance_all(
        &self,
        items: impl Iterator<Item = &Work>,
    ) -> Result<(), WorkerError> {
        let marks: Vec<(String, Mark)> = items
            .filter(|item| item.outcome == Outcome::Processed)
            .filter_map(|item| {
                let object_id = item.delivery.envelope.object_id.clone()?;
                let mark = Mark {
                    created: item.delivery.envelope.created,
                    event_id: item.id().to_owned(),
                };
                Some((object_id, mark))
            })
            .collect();
        if marks.is_empty() {
            return Ok(());
        }
        self.store
            .advance_all(&marks)
            .await
            .map(|_| ())
            .map_err(|e| {
                WorkerError::store("advancing the watermarks for", &marks[0].1.event_id, e)
            })
    }

    /// Records fully written events as done in the ledger and acknowledges them, each in one
    /// call. An event this worker no longer holds (another took it over) is left to the other.
    pub(super) async fn complete_all(
        &self,
        items: Vec<Work>,
        correlation_id: &str,
    ) -> Result<(), WorkerError> {
        if items.is_empty() {
            return Ok(());
        }
        let done: Vec<(String, Outcome)> = items
            .iter()
            .map(|item| (item.id().to_owned(), item.outcome))
            .collect();
        let results = self
            .store
            .complete_all(&done, &self.config.worker_id)
            .await
            .map_err(|e| WorkerError::store("completing", &done[0].0, e))?;
        let mut receipts = Vec::with_capacity(items.len());
        let mut completed = Vec::with_capacity(items.len());
        for (item, result) in items.into_iter().zip(results) {
            match result {
                Ok(()) => {
                    receipts.push(self.receipt(&item.delivery));
                    completed.push(item);
                }
                Err(error) => {
                    self.in_lanes().remove(item.id());
                    tracing::warn!(event_id = item.id(), correlation_id, %error, "left to the worker that took it over");
                }
            }
        }
        let acks = self
            .queue
            .ack_all(&receipts)
            .await
            .map_err(|e| WorkerError::queue("acknowledging", &done[0].0, e))?;
        for (item, ack) in completed.into_iter().zip(acks) {
            let event_id = item.id();
            if let Err(error) = ack {
                tracing::warn!(event_id, correlation_id, %error, "lease lost before the acknowledgement: the next delivery is a duplicate");
            }
            self.in_lanes().remove(event_id);
            self.forget(event_id);
            self.metrics.add(
                Counter::EventsProcessed,
                &[
                    ("type", type_label(&item.delivery.envelope.event_type)),
                    ("outcome", item.outcome.as_str()),
                ],
                1,
            );
            self.alerts.outcome(true);
            tracing::info!(
                event_id,
                correlation_id,
                outcome = item.outcome.as_str(),
                "event settled"
            );
        }
        Ok(())
    }

    /// Settles one event by its verdict.
    pub(super) async fn settle(
        &self,
        item: Work,
        verdict: Verdict,
        correlation_id: &str,
    ) -> Result<(), WorkerError> {
        let event_id = item.id().to_owned();
        match verdict {
            Verdict::Written => {
                // The watermark advanced when the event's data was written.
                self.complete(&item.delivery, item.outcome).await?;
                self.alerts.outcome(true);
                tracing::info!(
                    event_id,
                    correlation_id,
                    outcome = item.outcome.as_str(),
                    "event settled"
                );
            }
            Verdict::Paused(until) => {
                tracing::info!(event_id, correlation_id, %until, "Salesforce quota: given back until it returns");
                self.release(&event_id).await?;
                self.give_back(&item.delivery, until, "quota").await?;
            }
            Verdict::Retry(reason) => {
                self.alerts.outcome(false);
                match self.delay(item.attempt) {
                    Some(delay) => {
                        tracing::info!(event_id, correlation_id, attempt = item.attempt, ?delay, %reason, "retrying later");
                        self.release(&event_id).await?;
                        self.metrics
                            .add(Counter::Retries, &[("reason", "retryable")], 1);
                        let at = self.now() + delay;
                        self.reschedule(&item.delivery, at).await?;
                    }
                    None => {
                        let reason = format!("gave up after {} attempts: {reason}", item.attempt);
                        self.dead_letter(&item.delivery, reason, correlation_id)
                            .await?;
                    }
                }
            }
            Verdict::Permanent(reason) => {
                self.alerts.outcome(false);
                self.dead_letter(&item.delivery, reason, correlation_id)
                    .await?;
            }
        }
        Ok(())
    }

    /// Dead-letters an event refused before any write (unreadable, another API version,
    /// mapping or validation failure); its audit record, with the reason, goes to the Bulk
    /// lane when the event itself can be mapped to one.
    pub(super) async fn dead_letter_unmapped(
        &self,
        item: &Work,
        reason: String,
        correlation_id: &str,
    ) -> Result<(), WorkerError> {
        match self.audit_record(item, &Verdict::Permanent(reason.clone())) {
            Ok(record) => lock(&self.bulk).detach(record, self.now()),
            Err(error) => {
                tracing::warn!(event_id = item.id(), correlation_id, %error, "no audit record");
            }
        }
        self.dead_letter(&item.delivery, reason, correlation_id)
            .await
    }

    /// Moves an event to the dead-letter queue (keeping earlier attempts of a replayed event),
    /// completes it and acknowledges it.
    pub(super) async fn dead_letter(
        &self,
        delivery: &Delivery,
        reason: String,
        correlation_id: &str,
    ) -> Result<(), WorkerError> {
        let envelope = &delivery.envelope;
        let event_id = envelope.event_id.as_str();
        let now = self.now();
        let mut attempts = self
            .store
            .get(event_id)
            .await
            .map_err(|e| WorkerError::store("reading the dead letter of", event_id, e))?
            .map(|letter| letter.attempts)
            .unwrap_or_default();
        attempts.push(Attempt {
            at: now,
            error: reason.clone(),
        });
        let letter = DeadLetter {
            event_id: event_id.to_owned(),
            event_type: envelope.event_type.clone(),
            payload: envelope.payload.clone(),
            reason,
            attempts,
            dead_lettered_at: now,
        };
        self.store
            .put(&letter)
            .await
            .map_err(|e| WorkerError::store("dead-lettering", event_id, e))?;
        tracing::warn!(event_id, correlation_id, reason = %letter.reason, "event dead-lettered");
        self.alerts
            .dead_letter(event_id, &envelope.event_type, &letter.reason);
        self.metrics.add(
            Counter::DeadLetters,
            &[("type", type_label(&envelope.event_type))],
            1,
        );
        self.complete(delivery, Outcome::DeadLettered).await
    }

    /// Records `outcome` in the ledger and acknowledges the delivery.
    pub(super) async fn complete(
        &self,
        delivery: &Delivery,
        outcome: Outcome,
    ) -> Result<(), WorkerError> {
        let event_id = delivery.envelope.event_id.as_str();
        self.store
            .complete(event_id, &self.config.worker_id, outcome)
            .await
            .map_err(|e| WorkerError::store("completing", event_id, e))?;
        self.metrics.add(
            Counter::EventsProcessed,
            &[
                ("type", type_label(&delivery.envelope.event_type)),
                ("outcome", outcome.as_str()),
            ],
            1,
        );
        self.ack(delivery).await?;
        self.forget(event_id);
        Ok(())
    }

    /// Acknowledges a delivery. A lease lost meanwhile is no error: the ledger has the event's
    /// outcome, so its next delivery is acknowledged as a duplicate.
    pub(super) async fn ack(&self, delivery: &Delivery) -> Result<(), WorkerError> {
        let receipt = self.take_receipt(delivery);
        let answer = self.queue.ack(&receipt).await;
        lost_lease_is_fine(
            answer,
            delivery,
            "acknowledging",
            "lease lost before the acknowledgement: the next delivery is a duplicate",
        )
    }

    /// Gives a delivery back to the queue for `at`. A lease lost meanwhile is no error: the
    /// event is already out again.
    pub(super) async fn reschedule(
        &self,
        delivery: &Delivery,
        at: OffsetDateTime,
    ) -> Result<(), WorkerError> {
        let receipt = self.take_receipt(delivery);
        let answer = self.queue.retry_at(&receipt, at).await;
        lost_lease_is_fine(
            answer,
            delivery,
            "rescheduling",
            "lease lost before the retry was scheduled: already handed out again",
        )
    }

    /// The receipt to settle `delivery` with, the event leaving the lanes.
    fn take_receipt(&self, delivery: &Delivery) -> Receipt {
        let receipt = self.receipt(delivery);
        self.in_lanes().remove(&delivery.envelope.event_id);
        receipt
    }

    /// The receipt to settle `delivery` with: the latest, if it was handed out again while
    /// waiting in a lane.
    pub(super) fn receipt(&self, delivery: &Delivery) -> Receipt {
        self.in_lanes()
            .get(&delivery.envelope.event_id)
            .cloned()
            .unwrap_or_else(|| delivery.receipt.clone())
    }

    /// The latest receipts of the events in the lanes.
    pub(super) fn in_lanes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Receipt>> {
        self.in_lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives up this worker's claim of `event_id`.
    pub(super) async fn release(&self, event_id: &str) -> Result<(), WorkerError> {
        Ledger::release(&*self.store, event_id, &self.config.worker_id)
            .await
            .map_err(|e| WorkerError::store("releasing", event_id, e))
    }

    /// Gives a delivery back for `at` without spending an attempt.
    pub(super) async fn give_back(
        &self,
        delivery: &Delivery,
        at: OffsetDateTime,
        reason: &'static str,
    ) -> Result<(), WorkerError> {
        let event_id = delivery.envelope.event_id.as_str();
        *self
            .free_passes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(event_id.to_owned())
            .or_insert(0) += 1;
        self.metrics.add(Counter::Retries, &[("reason", reason)], 1);
        self.reschedule(delivery, at).await
    }

    /// The attempt number of `delivery` for the backoff: its deliveries less the free passes.
    pub(super) fn attempt(&self, delivery: &Delivery) -> u32 {
        let free = self
            .free_passes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&delivery.envelope.event_id)
            .copied()
            .unwrap_or(0);
        delivery.deliveries.saturating_sub(free).max(1)
    }

    /// Forgets the free passes of a settled event.
    pub(super) fn forget(&self, event_id: &str) {
        self.free_passes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(event_id);
    }

    /// The backoff's delay after failed attempt `attempt`, `None` to give up.
    pub(super) fn delay(&self, attempt: u32) -> Option<Duration> {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        self.config.backoff.delay(attempt, &mut rng)
    }
}

/// `answer` of the queue on settling `delivery`, a lost lease logged with `lost` and taken as
/// done.
fn lost_lease_is_fine(
    answer: Result<(), QueueError>,
    delivery: &Delivery,
    operation: &'static str,
    lost: &'static str,
) -> Result<(), WorkerError> {
    let event_id = delivery.envelope.event_id.as_str();
    match answer {
        Ok(()) => Ok(()),
        Err(QueueError::LeaseLost { .. }) => {
            tracing::warn!(event_id, "{lost}");
            Ok(())
        }
        Err(error) => Err(WorkerError::queue(operation, event_id, error)),
    }
}
