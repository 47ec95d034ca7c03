//! Writing groups of records to Salesforce: Composite calls for the REST lane, Bulk API 2.0
//! jobs for the Bulk lane, and parents written first when a child is refused for lack of one.

use super::*;

impl<Q: Queue, S: Store> Worker<Q, S> {
    /// Writes `groups` (in order) through `lane` and returns each group's verdict; the
    /// positions of groups refused because a parent they reference by external id is missing
    /// are added to `missing`. Once a quota refuses, nothing more is written (`pause` says until
    /// when).
    pub(super) async fn write(
        &self,
        groups: &[Group],
        lane: Lane,
        pause: &mut Option<OffsetDateTime>,
        missing: &mut Vec<usize>,
        correlation_id: &str,
    ) -> Vec<Verdict> {
        let mut verdicts = vec![Verdict::Written; groups.len()];
        let mut start = 0;
        while start < groups.len() {
            let end = match lane {
                Lane::Rest => plan::composite_end(groups, start),
                Lane::Bulk => plan::run_end(groups, start, BULK_JOB_LIMIT),
            };
            let range = start..end;
            let chunk = &groups[range.clone()];
            start = end;
            if let Some(until) = *pause {
                verdicts[range].fill(Verdict::Paused(until));
                continue;
            }
            let now = self.now();
            let cost = match lane {
                Lane::Rest => 1,
                Lane::Bulk => BULK_JOB_CALLS,
            };
            match self.limiter.try_acquire(cost, now).await {
                Ok(Decision::Allowed) => {}
                Ok(Decision::Wait { until, window }) => {
                    tracing::warn!(
                        correlation_id,
                        window,
                        "Salesforce call quota reached: pausing writes"
                    );
                    *pause = Some(until);
                    verdicts[range].fill(Verdict::Paused(until));
                    continue;
                }
                Err(error) => {
                    verdicts[range].fill(Verdict::Retry(format!("rate limiter failed: {error}")));
                    continue;
                }
            }
            let (api, results) = match lane {
                Lane::Rest => ("composite", self.composite(chunk).await),
                Lane::Bulk => ("bulk", self.bulk(chunk).await),
            };
            let pause_until = now + QUOTA_PAUSE;
            if let Some(usage) = self
                .salesforce
                .limit_info()
                .and_then(|info| info.api_usage())
            {
                self.alerts.quota(usage.used, usage.max);
                if usage.max > 0 {
                    self.metrics.set(
                        Gauge::SalesforceApiUsageRatio,
                        &[],
                        usage.used as f64 / usage.max as f64,
                    );
                }
            }
            let outcome = if results.is_ok() { "ok" } else { "error" };
            self.metrics.add(
                Counter::SalesforceCalls,
                &[("api", api), ("outcome", outcome)],
                1,
            );
            let results = match results {
                Ok(results) => results,
                Err(error) => {
                    tracing::warn!(correlation_id, api, %error, "Salesforce call failed");
                    let failure = (Vec::new(), error.class(), error.to_string());
                    vec![Some(failure); chunk.len()]
                }
            };
            for (offset, result) in results.into_iter().enumerate() {
                let Some((errors, class, reason)) = result else {
                    continue;
                };
                let position = range.start + offset;
                let verdict = if errors.is_empty() {
                    plan::call_verdict(class, reason, pause_until)
                } else {
                    plan::record_verdict(&errors, class, pause_until)
                };
                if let Verdict::Paused(until) = verdict {
                    *pause = Some(until);
                }
                if !errors.is_empty() && errors.iter().all(plan::is_missing_parent) {
                    missing.push(position);
                }
                if !errors.is_empty() {
                    tracing::warn!(
                        correlation_id,
                        sobject = groups[position].record.sobject(),
                        events = ?groups[position].events,
                        error = %plan::describe(&errors),
                        "Salesforce refused a record"
                    );
                }
                verdicts[position] = verdict;
            }
        }
        verdicts
    }

    /// [`Worker::write`], then for children refused because their parent is not in Salesforce
    /// yet: the parent is written at once — from the Bulk lane's buffer when a waiting event
    /// has it, else from Stripe's current state of it (with an object source) — and the
    /// children are written again. Up to three levels (transaction → invoice → subscription →
    /// customer).
    pub(super) async fn write_with_parents(
        &self,
        groups: &[Group],
        lane: Lane,
        pause: &mut Option<OffsetDateTime>,
        correlation_id: &str,
    ) -> Vec<Verdict> {
        let mut missing = Vec::new();
        let mut verdicts = self
            .write(groups, lane, pause, &mut missing, correlation_id)
            .await;
        for _ in 0..3 {
            if missing.is_empty() || pause.is_some() {
                break;
            }
            let parents = self.parents_of(groups, &missing, correlation_id).await;
            if parents.is_empty() {
                break;
            }
            tracing::info!(
                correlation_id,
                parents = parents.len(),
                "writing missing parents first"
            );
            self.write(&parents, Lane::Rest, pause, &mut Vec::new(), correlation_id)
                .await;
            let children: Vec<Group> = missing.iter().map(|&i| groups[i].clone()).collect();
            let mut still = Vec::new();
            let retried = self
                .write(&children, Lane::Rest, pause, &mut still, correlation_id)
                .await;
            for (offset, verdict) in retried.into_iter().enumerate() {
                verdicts[missing[offset]] = verdict;
            }
            missing = still.into_iter().map(|offset| missing[offset]).collect();
        }
        verdicts
    }

    /// The records of the parents that the groups at `positions` reference by external id.
    pub(super) async fn parents_of(
        &self,
        groups: &[Group],
        positions: &[usize],
        correlation_id: &str,
    ) -> Vec<Group> {
        let mut wanted: Vec<(&'static str, String, String)> = Vec::new();
        for &position in positions {
            for (parent, field, value) in plan::references(&groups[position].record) {
                if !wanted
                    .iter()
                    .any(|w| w.0 == parent && w.1 == field && w.2 == value)
                {
                    wanted.push((parent, field, value));
                }
            }
        }
        let mut found = Vec::new();
        for (parent, field, value) in wanted {
            let waiting: Vec<Candidate> = {
                let buffer = lock(&self.bulk);
                buffer
                    .events
                    .iter()
                    .flat_map(|held| {
                        let rank = (
                            held.work.delivery.envelope.created,
                            held.work.delivery.envelope.event_id.clone(),
                        );
                        held.data
                            .iter()
                            .filter(|r| {
                                r.sobject() == parent
                                    && r.key().field == field
                                    && r.key().value == value
                            })
                            .map(move |record| Candidate {
                                event: 0,
                                rank: rank.clone(),
                                record: record.clone(),
                            })
                    })
                    .collect()
            };
            if !waiting.is_empty() {
                found.extend(waiting);
                continue;
            }
            let Some(source) = &self.source else {
                continue;
            };
            let Some(kind) = MAPPINGS
                .iter()
                .find(|m| m.sobject == parent && m.key == field && m.for_each.is_none())
                .map(|m| m.stripe)
            else {
                continue;
            };
            let object = match source.fetch(kind, &value).await {
                Ok(object) => object,
                Err(error) => {
                    tracing::warn!(correlation_id, %error, "cannot fetch a missing parent");
                    continue;
                }
            };
            let ctx = MappingContext::received(self.now());
            match map_object(&object, &ctx) {
                Ok(records) => {
                    for record in records {
                        if record.validate().is_ok() {
                            found.push(Candidate {
                                event: 0,
                                rank: (i64::MAX, String::new()),
                                record,
                            });
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(correlation_id, %error, "cannot map a missing parent");
                }
            }
        }
        plan::collapse(found)
    }

    /// Writes `chunk` (groups in write order) in one Composite call: a Collections upsert
    /// per run of up to 200 records of one object and external id field, an update per record
    /// keyed by `Id`. Per record `None` when written, else its failure.
    pub(super) async fn composite(
        &self,
        chunk: &[Group],
    ) -> Result<Vec<Option<RecordFailure>>, crate::salesforce::Error> {
        let mut request = CompositeRequest::new();
        let mut parts = Vec::new();
        let mut start = 0;
        while start < chunk.len() {
            let record = &chunk[start].record;
            let (sobject, key) = (record.sobject(), record.key());
            let reference = format!("r{}", parts.len());
            if key.field == "Id" {
                request.update(&reference, sobject, &key.value, &body(record, sobject)?)?;
                parts.push(start..start + 1);
                start += 1;
                continue;
            }
            let end = plan::run_end(chunk, start, COLLECTION_LIMIT);
            let mut bodies = Vec::with_capacity(end - start);
            for group in &chunk[start..end] {
                bodies.push(body(&group.record, sobject)?);
            }
            request.upsert_collection(&reference, sobject, key.field, &bodies)?;
            parts.push(start..end);
            start = end;
        }
        let response = self.salesforce.composite(&request).await?;
        let mut results = vec![None; chunk.len()];
        for (index, part) in parts.into_iter().enumerate() {
            let Some(sub) = response.get(&format!("r{index}")) else {
                let failure = (
                    Vec::new(),
                    ErrorClass::Retryable,
                    "Salesforce gave no answer for this part of the Composite call".to_owned(),
                );
                results[part].fill(Some(failure));
                continue;
            };
            if part.len() == 1 && chunk[part.start].record.key().field == "Id" {
                if let Some(class) = sub.class() {
                    let reason = plan::describe(&sub.errors);
                    results[part.start] = Some((sub.errors.clone(), class, reason));
                }
                continue;
            }
            match sub.collection_results() {
                Ok(records) if records.len() == part.len() => {
                    for (slot, record) in results[part].iter_mut().zip(records) {
                        *slot = record.class().map(|class| {
                            let errors = record.errors().to_vec();
                            let reason = plan::describe(&errors);
                            (errors, class, reason)
                        });
                    }
                }
                Ok(records) => {
                    let failure = (
                        Vec::new(),
                        ErrorClass::Retryable,
                        format!("{} results for {} records", records.len(), part.len()),
                    );
                    results[part].fill(Some(failure));
                }
                Err(error) => {
                    let failure = (error_list(&error), error.class(), error.to_string());
                    results[part].fill(Some(failure));
                }
            }
        }
        Ok(results)
    }

    /// Writes the records of `chunk` (one object, one key field) in one Bulk API 2.0 job: an
    /// upsert by external id, or an update by `Id`; per record `None` when written, else its
    /// errors and class.
    pub(super) async fn bulk(
        &self,
        chunk: &[Group],
    ) -> Result<Vec<Option<RecordFailure>>, crate::salesforce::Error> {
        let sobject = chunk[0].record.sobject();
        let field = chunk[0].record.key().field;
        let csv =
            bulk::csv(sobject, chunk).map_err(|reason| crate::salesforce::Error::InvalidInput {
                operation: format!("bulk write {sobject}"),
                reason,
            })?;
        let write = if field == "Id" {
            BulkWrite::Update
        } else {
            BulkWrite::Upsert(field)
        };
        let options = BulkOptions {
            poll_interval: self.config.bulk.poll_interval,
            max_poll_interval: self.config.bulk.max_poll_interval,
            timeout: self.config.lease,
        };
        let result = self
            .salesforce
            .bulk_write_csv(sobject, write, csv, &options)
            .await?;
        let job = result.job_id.clone();
        Ok(result
            .results
            .into_iter()
            .map(|record| match record {
                RecordResult::Unprocessed => Some((
                    Vec::new(),
                    ErrorClass::Retryable,
                    format!("the Bulk job {job} did not process the record"),
                )),
                other => other.class().map(|class| {
                    let errors = other.errors().to_vec();
                    let reason = plan::describe(&errors);
                    (errors, class, reason)
                }),
            })
            .collect())
    }
}

/// A record Salesforce did not write: its errors (none when the whole call or subrequest
/// failed), their class, and the reason in words.
pub(super) type RecordFailure = (Vec<ApiError>, ErrorClass, String);

/// The errors of a failed call, for [`RecordFailure`].
pub(super) fn error_list(error: &crate::salesforce::Error) -> Vec<ApiError> {
    match error {
        crate::salesforce::Error::Api { errors, .. } => errors.clone(),
        _ => Vec::new(),
    }
}

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lane {
    /// One Composite call per up to five sObject Collections upserts (200 records each) or
    /// 25 subrequests.
    Rest,
    /// One Bulk API 2.0 job per object and key field.
    Bulk,
}

/// `record`'s REST body as raw JSON (exact decimals).
pub(super) fn body(
    record: &MappedRecord,
    sobject: &str,
) -> Result<Box<RawValue>, crate::salesforce::Error> {
    record
        .record_body()
        .and_then(RawValue::from_string)
        .map_err(|e| crate::salesforce::Error::InvalidInput {
            operation: format!("write {sobject}"),
            reason: format!("the record cannot be written as JSON: {e}"),
        })
}
