//! Contacts → Stripe customers.
//!
//! One poll reads the Contacts changed after the cursor, page by page, and handles each:
//!
//! - no Stripe customer yet and an email: create the customer (name, email, phone, metadata
//!   `salesforce_contact_id`) with the Idempotency-Key [`create_idempotency_key`], so a
//!   retry after a crash gets the same customer back instead of a second one; record its id
//!   and the digest of the values sent; upsert `Stripe_Customer__c`; write the id back to
//!   `Contact.Stripe_Customer_ID__c` (last, so that a Contact with an id has its record);
//! - a customer and values whose digest differs from the one last synced: update the
//!   customer, upsert `Stripe_Customer__c`, record the digest;
//! - otherwise (no email, or nothing changed, such as the echo of our own write-back):
//!   nothing, and no Stripe call.
//!
//! The cursor moves only past records fully handled: a transient failure stops the poll
//! before the record (the next poll does it again, idempotently), a permanent one is logged
//! and the record passed over (its next change brings it back).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use sfdc_types::{Contact, ContactWrite, Patch, StripeCustomerSyncStatus, StripeCustomerWrite};
use sha2::{Digest, Sha256};
use stripe_types::client::{Client as StripeClient, RequestOptions};
use stripe_types::params::{CreateCustomerParams, UpdateCustomerParams};
use time::OffsetDateTime;

use super::cursor::{Cursor, changed_since};
use super::limiter::Limiter;
use super::{Cursors, OutboundConfig, OutboundError, Synced};
use crate::salesforce::{Client as SalesforceClient, Error as SalesforceError};

/// The fields read from each changed Contact.
const FIELDS: &[&str] = &[
    "Id",
    "Name",
    "Email",
    "Phone",
    "Stripe_Customer_ID__c",
    "SystemModstamp",
];

/// An Id above every Salesforce Id, in valid 18-character form (base 62 digits sort `0-9`,
/// `A-Z`, `a-z`; the suffix encodes the case of the first 15): a cursor at a
/// `SystemModstamp` with it is past every record of that millisecond.
const HIGHEST_ID: &str = "zzzzzzzzzzzzzzzAAA";

/// The metadata key of a customer that names its Contact.
pub const CONTACT_METADATA_KEY: &str = "salesforce_contact_id";

/// `Stripe_Customer__c.Name` holds 80 characters.
const NAME_LENGTH: usize = 80;
/// `Stripe_Customer__c.Customer_Name__c` holds 255 characters.
const CUSTOMER_NAME_LENGTH: usize = 255;

/// The Idempotency-Key of the customer create for a Contact: `sfdc-contact-create-<Id>`.
pub fn create_idempotency_key(contact_id: &str) -> String {
    format!("sfdc-contact-create-{contact_id}")
}

/// The store key of what was synced for a Contact: `contact:<Id>`.
fn synced_key(contact_id: &str) -> String {
    format!("contact:{contact_id}")
}

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Changed Contacts read.
    pub seen: u64,
    /// Contacts linked to a new Stripe customer (created, or created by an earlier poll that
    /// did not finish the write-back).
    pub created: u64,
    /// Stripe customers updated.
    pub updated: u64,
    /// Contacts whose values were already in Stripe (no Stripe call).
    pub unchanged: u64,
    /// Contacts without a customer nor an email (nothing to do).
    pub without_email: u64,
    /// Contacts passed over after a permanent failure.
    pub failed: u64,
}

/// Counters since the poller was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboundStats {
    /// Polls run.
    pub polls: u64,
    /// Stripe calls made (creates and updates, retries by the client not counted twice).
    pub stripe_calls: u64,
    /// What the polls did, added up.
    pub totals: PollReport,
}

/// The counters behind [`OutboundStats`].
#[derive(Debug, Default)]
struct Counters {
    polls: AtomicU64,
    stripe_calls: AtomicU64,
    seen: AtomicU64,
    created: AtomicU64,
    updated: AtomicU64,
    unchanged: AtomicU64,
    without_email: AtomicU64,
    failed: AtomicU64,
}

/// What was done for one Contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Created,
    Updated,
    Unchanged,
    WithoutEmail,
}

/// The values of a Contact that go to Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Values {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

impl Values {
    /// The Contact's name, email and phone (blank ones as absent).
    fn of(contact: &Contact) -> Values {
        let clean = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        Values {
            name: clean(&contact.name),
            email: clean(&contact.email),
            phone: clean(&contact.phone),
        }
    }

    /// A SHA-256 of the values, each marked present or absent, in hex.
    fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        for value in [&self.name, &self.email, &self.phone] {
            match value {
                Some(text) => {
                    hasher.update([1]);
                    hasher.update((text.len() as u64).to_be_bytes());
                    hasher.update(text.as_bytes());
                }
                None => hasher.update([0]),
            }
        }
        hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

/// Polls Contacts and keeps their Stripe customers (see the module documentation).
pub struct ContactPoller<S> {
    salesforce: SalesforceClient,
    stripe: StripeClient,
    store: Arc<S>,
    config: OutboundConfig,
    limiter: Limiter,
    counters: Counters,
}

impl<S> std::fmt::Debug for ContactPoller<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactPoller")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: Cursors> ContactPoller<S> {
    /// A poller reading Contacts with `salesforce`, writing customers with `stripe` and keeping
    /// its cursor and digests in `store`.
    pub fn new(
        salesforce: SalesforceClient,
        stripe: StripeClient,
        store: Arc<S>,
        config: OutboundConfig,
    ) -> ContactPoller<S> {
        let limiter = Limiter::new(config.max_concurrency, config.stripe_requests_per_second);
        ContactPoller {
            salesforce,
            stripe,
            store,
            config,
            limiter,
            counters: Counters::default(),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &OutboundConfig {
        &self.config
    }

    /// The counters so far.
    pub fn stats(&self) -> OutboundStats {
        let c = &self.counters;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        OutboundStats {
            polls: load(&c.polls),
            stripe_calls: load(&c.stripe_calls),
            totals: PollReport {
                seen: load(&c.seen),
                created: load(&c.created),
                updated: load(&c.updated),
                unchanged: load(&c.unchanged),
                without_email: load(&c.without_email),
                failed: load(&c.failed),
            },
        }
    }

    /// One poll: pages of changed Contacts until caught up, each handled and the cursor saved
    /// after the last record fully handled. Stops at the first transient failure (returned,
    /// the cursor left just before that record).
    pub async fn run_once(&self) -> Result<PollReport, OutboundError> {
        self.counters.polls.fetch_add(1, Ordering::Relaxed);
        let mut report = PollReport::default();
        let until = OffsetDateTime::now_utc() - self.config.settle;
        let mut cursor = self
            .store
            .cursor(&self.config.cursor_name)
            .await?
            .or_else(|| {
                self.config.start_after.map(|modstamp| Cursor {
                    modstamp,
                    id: HIGHEST_ID.to_owned(),
                })
            });
        loop {
            let soql = changed_since(
                "Contact",
                FIELDS,
                cursor.as_ref(),
                until,
                self.config.page_size,
            )
            .map_err(|source| OutboundError::Soql {
                object: "Contact",
                source,
            })?;
            let page: Vec<Contact> =
                self.salesforce
                    .query(&soql)
                    .await
                    .map_err(|error| OutboundError::Query {
                        object: "Contact",
                        after: cursor
                            .as_ref()
                            .map_or_else(|| "start".to_owned(), ToString::to_string),
                        detail: salesforce_detail(&error),
                    })?;
            let full_page = page.len() >= self.config.page_size.max(1) as usize;
            let positions = page.iter().map(position).collect::<Result<Vec<_>, _>>()?;
            let mut outcomes = futures_util::stream::iter(page)
                .map(|contact| async move { self.sync_contact(&contact).await })
                .buffered(self.config.max_concurrency.max(1));
            let mut handled = None;
            let mut stop = None;
            let mut index = 0;
            while let Some(outcome) = outcomes.next().await {
                let at = &positions[index];
                index += 1;
                report.seen += 1;
                match outcome {
                    Ok(action) => {
                        match action {
                            Action::Created => report.created += 1,
                            Action::Updated => report.updated += 1,
                            Action::Unchanged => report.unchanged += 1,
                            Action::WithoutEmail => report.without_email += 1,
                        }
                        handled = Some(at);
                    }
                    Err(error) if error.is_retryable() => {
                        stop = Some(error);
                        break;
                    }
                    Err(error) => {
                        tracing::error!(contact_id = %at.id, %error, "Contact passed over");
                        report.failed += 1;
                        handled = Some(at);
                    }
                }
            }
            drop(outcomes);
            if let Some(last) = handled {
                self.store
                    .save_cursor(&self.config.cursor_name, last)
                    .await?;
                cursor = Some(last.clone());
            }
            if let Some(error) = stop {
                self.add(&report);
                return Err(error);
            }
            if !full_page {
                break;
            }
        }
        self.add(&report);
        if report.seen > 0 {
            tracing::info!(?report, "Contacts polled");
        }
        Ok(report)
    }

    /// Polls every [`OutboundConfig::interval`] until `shutdown` resolves (a poll under way is
    /// finished first). Failed polls are logged and tried again at the next interval.
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            if let Err(error) = self.run_once().await {
                tracing::error!(%error, "Contact poll failed");
            }
            tokio::select! {
                () = shutdown.as_mut() => break,
                () = tokio::time::sleep(self.config.interval) => {}
            }
        }
        tracing::info!("Contact poller stopped");
    }

    /// Creates the Stripe customer of `contact` (no store or Salesforce write) and returns its
    /// id. Sent with [`create_idempotency_key`]: calling it again for the same Contact with the
    /// same values returns the same customer (within Stripe's 24 hours of key retention).
    pub async fn create_customer(&self, contact: &Contact) -> Result<String, OutboundError> {
        let contact_id = contact_id(contact)?;
        let values = Values::of(contact);
        let params = CreateCustomerParams {
            name: values.name.clone(),
            email: values.email.clone(),
            phone: values.phone.clone(),
            metadata: Some(
                BTreeMap::from([(CONTACT_METADATA_KEY.to_owned(), contact_id.to_owned())]).into(),
            ),
            ..CreateCustomerParams::default()
        };
        let options =
            RequestOptions::new().with_idempotency_key(create_idempotency_key(contact_id));
        let customer = {
            let _permit = self.limiter.acquire().await;
            self.counters.stripe_calls.fetch_add(1, Ordering::Relaxed);
            self.stripe.create_customer(&params, &options).await
        }
        .map_err(|error| stripe_error("create customer".to_owned(), contact_id, &error))?;
        Ok(customer.id)
    }

    /// Handles one changed Contact.
    async fn sync_contact(&self, contact: &Contact) -> Result<Action, OutboundError> {
        let contact_id = contact_id(contact)?;
        let values = Values::of(contact);
        let digest = values.digest();
        let key = synced_key(contact_id);
        let synced = self.store.synced(&key).await?;
        let linked = contact
            .stripe_customer_id
            .as_deref()
            .filter(|id| !id.trim().is_empty());
        match linked {
            None => {
                // Created before, but the write-back did not happen: finish it.
                let (customer_id, action) = match synced {
                    Some(synced) if synced.digest == digest => (synced.stripe_id, Action::Created),
                    Some(synced) => {
                        self.update_customer(contact_id, &synced.stripe_id, &values)
                            .await?;
                        self.record(&key, &synced.stripe_id, &digest).await?;
                        (synced.stripe_id, Action::Updated)
                    }
                    None if values.email.is_none() => return Ok(Action::WithoutEmail),
                    None => {
                        let customer_id = self.create_customer(contact).await?;
                        self.record(&key, &customer_id, &digest).await?;
                        (customer_id, Action::Created)
                    }
                };
                self.upsert_record(contact_id, &customer_id, &values)
                    .await?;
                self.write_back(contact_id, &customer_id).await?;
                Ok(action)
            }
            Some(customer_id) => {
                if synced.is_some_and(|s| s.stripe_id == customer_id && s.digest == digest) {
                    return Ok(Action::Unchanged);
                }
                self.update_customer(contact_id, customer_id, &values)
                    .await?;
                self.upsert_record(contact_id, customer_id, &values).await?;
                self.record(&key, customer_id, &digest).await?;
                Ok(Action::Updated)
            }
        }
    }

    /// Sets the customer's name, email and phone to the Contact's (absent ones cleared).
    async fn update_customer(
        &self,
        contact_id: &str,
        customer_id: &str,
        values: &Values,
    ) -> Result<(), OutboundError> {
        // Stripe reads an empty string as "unset".
        let or_clear = |value: &Option<String>| Some(value.clone().unwrap_or_default());
        let params = UpdateCustomerParams {
            name: or_clear(&values.name),
            email: or_clear(&values.email),
            phone: or_clear(&values.phone),
            ..UpdateCustomerParams::default()
        };
        let _permit = self.limiter.acquire().await;
        self.counters.stripe_calls.fetch_add(1, Ordering::Relaxed);
        self.stripe
            .update_customer(customer_id, &params, &RequestOptions::new())
            .await
            .map(drop)
            .map_err(|error| {
                stripe_error(format!("update customer {customer_id}"), contact_id, &error)
            })
    }

    /// Records what was synced for a Contact.
    async fn record(
        &self,
        key: &str,
        customer_id: &str,
        digest: &str,
    ) -> Result<(), OutboundError> {
        let synced = Synced {
            stripe_id: customer_id.to_owned(),
            digest: digest.to_owned(),
        };
        Ok(self.store.record_synced(key, &synced).await?)
    }

    /// Creates or updates the `Stripe_Customer__c` of the customer.
    async fn upsert_record(
        &self,
        contact_id: &str,
        customer_id: &str,
        values: &Values,
    ) -> Result<(), OutboundError> {
        let patch = |value: &Option<String>, length: usize| match value {
            Some(text) => Patch::Set(text.chars().take(length).collect()),
            None => Patch::Null,
        };
        // Named as the inbound mapping names it: the name, else the email, else the id.
        let name = values
            .name
            .as_deref()
            .or(values.email.as_deref())
            .unwrap_or(customer_id);
        let record = StripeCustomerWrite {
            stripe_customer_id: Patch::Set(customer_id.to_owned()),
            name: Patch::Set(name.chars().take(NAME_LENGTH).collect()),
            customer_name: patch(&values.name, CUSTOMER_NAME_LENGTH),
            email: patch(&values.email, usize::MAX),
            phone: patch(&values.phone, usize::MAX),
            contact: Patch::Set(contact_id.to_owned()),
            sync_status: Patch::Set(StripeCustomerSyncStatus::Synced),
            error_message: Patch::Null,
            last_synced_at: Patch::Set(OffsetDateTime::now_utc()),
            ..StripeCustomerWrite::default()
        };
        self.salesforce
            .upsert("Stripe_Customer_ID__c", &record)
            .await
            .map(drop)
            .map_err(|error| salesforce_error("upsert Stripe_Customer__c", contact_id, &error))
    }

    /// Writes the customer id to `Contact.Stripe_Customer_ID__c`.
    async fn write_back(&self, contact_id: &str, customer_id: &str) -> Result<(), OutboundError> {
        let record = ContactWrite {
            stripe_customer_id: Patch::Set(customer_id.to_owned()),
            ..ContactWrite::default()
        };
        self.salesforce
            .update(contact_id, &record)
            .await
            .map_err(|error| salesforce_error("update Contact", contact_id, &error))
    }

    /// Adds one poll's report to the counters.
    fn add(&self, report: &PollReport) {
        let c = &self.counters;
        for (counter, value) in [
            (&c.seen, report.seen),
            (&c.created, report.created),
            (&c.updated, report.updated),
            (&c.unchanged, report.unchanged),
            (&c.without_email, report.without_email),
            (&c.failed, report.failed),
        ] {
            counter.fetch_add(value, Ordering::Relaxed);
        }
    }
}

/// The Contact's Id.
fn contact_id(contact: &Contact) -> Result<&str, OutboundError> {
    contact.id.as_deref().ok_or(OutboundError::Incomplete {
        object: "Contact",
        field: "Id",
    })
}

/// The cursor position of a queried Contact.
fn position(contact: &Contact) -> Result<Cursor, OutboundError> {
    let id = contact_id(contact)?;
    let modstamp = contact.system_modstamp.ok_or(OutboundError::Incomplete {
        object: "Contact",
        field: "SystemModstamp",
    })?;
    Ok(Cursor {
        modstamp,
        id: id.to_owned(),
    })
}

/// A Stripe failure, without Stripe's message (it may quote the value it refused).
fn stripe_error(
    operation: String,
    contact_id: &str,
    error: &stripe_types::client::Error,
) -> OutboundError {
    use stripe_types::client::Error;
    let (detail, retryable) = match error {
        Error::Api(api) => {
            let mut detail = format!("HTTP {} {}", api.status, api.error_type);
            for (label, value) in [("code", &api.code), ("param", &api.param)] {
                if let Some(value) = value {
                    detail.push_str(&format!(" {label}={value}"));
                }
            }
            if let Some(request) = &api.request_id {
                detail.push_str(&format!(" (request {request})"));
            }
            (detail, matches!(api.status, 409 | 429 | 500..))
        }
        Error::Status { status, .. } => (
            format!("HTTP {status} without a Stripe error object"),
            matches!(status, 409 | 429 | 500..),
        ),
        Error::Http { attempts, .. } => (
            format!("no answer after {attempts} attempt(s): {error}"),
            true,
        ),
        other => (other.to_string(), false),
    };
    OutboundError::Stripe {
        operation,
        contact_id: contact_id.to_owned(),
        detail,
        retryable,
    }
}

/// A Salesforce failure, without Salesforce's message (it may quote the value it refused).
fn salesforce_error(
    operation: &'static str,
    contact_id: &str,
    error: &SalesforceError,
) -> OutboundError {
    OutboundError::Salesforce {
        operation,
        contact_id: contact_id.to_owned(),
        class: error.class(),
        detail: salesforce_detail(error),
    }
}

/// Status and error codes of a Salesforce failure.
fn salesforce_detail(error: &SalesforceError) -> String {
    match error {
        SalesforceError::Api { status, errors, .. } => {
            let codes: Vec<String> = errors
                .iter()
                .map(|e| {
                    if e.fields.is_empty() {
                        e.error_code.clone()
                    } else {
                        format!("{} on {}", e.error_code, e.fields.join(", "))
                    }
                })
                .collect();
            format!("HTTP {status}: {} ({})", codes.join("; "), error.class())
        }
        other => format!("{other} ({})", other.class()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(name: Option<&str>, email: Option<&str>, phone: Option<&str>) -> Contact {
        Contact {
            id: Some("003000000000001AAA".to_owned()),
            name: name.map(str::to_owned),
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
            ..Contact::default()
        }
    }

    #[test]
    fn digest_changes_with_each_value_and_ignores_blanks() {
        let base = Values::of(&contact(Some("Ada"), Some("ada@example.com"), None)).digest();
        assert_eq!(base.len(), 64);
        assert_eq!(
            base,
            Values::of(&contact(Some(" Ada "), Some("ada@example.com"), Some(" "))).digest()
        );
        for other in [
            contact(Some("Ada L"), Some("ada@example.com"), None),
            contact(Some("Ada"), Some("ada2@example.com"), None),
            contact(Some("Ada"), Some("ada@example.com"), Some("1")),
            contact(None, Some("Ada"), Some("ada@example.com")),
        ] {
            assert_ne!(Values::of(&other).digest(), base, "{other:?}");
        }
    }

    #[test]
    fn keys_name_the_contact() {
        assert_eq!(create_idempotency_key("003A"), "sfdc-contact-create-003A");
        assert_eq!(synced_key("003A"), "contact:003A");
    }
}
