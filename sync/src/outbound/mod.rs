//! Salesforce → Stripe: a poller that finds changed Contacts by SOQL on `SystemModstamp` and
//! keeps a Stripe customer for each Contact with an email.
//!
//! - [`cursor`]: the durable `(SystemModstamp, Id)` position of a poller and the SOQL page
//!   query that reads changes after it (no record is missed when many share a millisecond or
//!   change while the poller is down)
//! - [`contacts`]: [`ContactPoller`], which creates the customer (with an Idempotency-Key
//!   derived from the Contact Id, so a retry never makes a second one), writes its id back
//!   to the Contact and upserts `Stripe_Customer__c`, and updates the customer when the
//!   name, email or phone changed since the last sync (a digest per Contact in the store)
//! - `limiter`: the bound on Stripe calls (concurrency and calls per second)
//!
//! Only names, emails, phones and ids pass through: no card data is ever read or sent.

pub mod checkout;
pub mod contacts;
pub mod cursor;
mod limiter;

use std::future::Future;
use std::time::Duration;

pub use contacts::{ContactPoller, OutboundStats, PollReport, create_idempotency_key};
pub use cursor::Cursor;

use crate::salesforce::{ErrorClass, soql::SoqlError};
use crate::store::StoreError;

/// Settings of the outbound poller (defaults: every 5 s, pages of 200, 8 Stripe calls at once,
/// 20 Stripe calls per second, 2 s settle time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundConfig {
    /// Pause between two polls of [`ContactPoller::run`] once caught up.
    pub interval: Duration,
    /// Contacts read per SOQL page (`LIMIT`); pages are read until caught up.
    pub page_size: u32,
    /// Most Stripe calls in flight at once.
    pub max_concurrency: usize,
    /// Most Stripe calls started per second (0: no limit); Stripe's test mode allows 25.
    pub stripe_requests_per_second: u32,
    /// Changes younger than this are left for the next poll, so that a Salesforce
    /// transaction that commits after a later one (with an earlier `SystemModstamp`) is not
    /// skipped.
    pub settle: Duration,
    /// Name of the poller's cursor in the store.
    pub cursor_name: String,
    /// Where a poller without a saved cursor starts: after this `SystemModstamp`, or from the
    /// first Contact when `None` (every existing Contact with an email then gets a customer).
    pub start_after: Option<time::OffsetDateTime>,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            interval: Duration::from_secs(5),
            page_size: 200,
            max_concurrency: 8,
            stripe_requests_per_second: 20,
            settle: Duration::from_secs(2),
            cursor_name: "contacts".to_owned(),
            start_after: None,
        }
    }
}

/// What was last synced from one Salesforce record to Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    /// The Stripe object it was synced to (`cus_…`).
    pub stripe_id: String,
    /// Digest of the values sent (no value itself is stored).
    pub digest: String,
}

/// The outbound poller's durable state: cursors, and what was last synced per record.
pub trait Cursors: Send + Sync + 'static {
    /// The saved position of the poller `name`, if any.
    fn cursor(&self, name: &str)
    -> impl Future<Output = Result<Option<Cursor>, StoreError>> + Send;

    /// Saves the position of the poller `name` (on disk when it returns).
    fn save_cursor(
        &self,
        name: &str,
        cursor: &Cursor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// What was last synced for `key` (e.g. `contact:003…`), if anything.
    fn synced(&self, key: &str) -> impl Future<Output = Result<Option<Synced>, StoreError>> + Send;

    /// Records what was synced for `key`, replacing what was there.
    fn record_synced(
        &self,
        key: &str,
        synced: &Synced,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Why a poll, or the sync of one Contact, failed. Messages name the operation and the record,
/// never an email, a phone or a key.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The store failed (reading or saving a cursor or a digest).
    #[error("outbound store: {0}")]
    Store(#[from] StoreError),
    /// The page query could not be built.
    #[error("cannot build the query of changed {object} records: {source}")]
    Soql {
        /// The object polled.
        object: &'static str,
        /// What is wrong.
        #[source]
        source: SoqlError,
    },
    /// Reading a page of changed records failed.
    #[error("querying changed {object} records after {after}: {detail}")]
    Query {
        /// The object polled.
        object: &'static str,
        /// The cursor the page started after (`start` for none).
        after: String,
        /// What Salesforce said (error codes only).
        detail: String,
    },
    /// A queried record lacks a field the poller needs.
    #[error("a changed {object} record has no {field}")]
    Incomplete {
        /// The object polled.
        object: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// A Stripe call failed.
    #[error("Stripe {operation} for Contact {contact_id} failed: {detail}")]
    Stripe {
        /// `create customer` or `update customer cus_…`.
        operation: String,
        /// The Contact.
        contact_id: String,
        /// Status, type, code and request id (not Stripe's message, which may quote a value).
        detail: String,
        /// Whether trying again later may succeed (429, 409, 5xx, transport).
        retryable: bool,
    },
    /// A Salesforce write failed.
    #[error("Salesforce {operation} for Contact {contact_id} failed ({class}): {detail}")]
    Salesforce {
        /// `upsert Stripe_Customer__c` or `update Contact`.
        operation: &'static str,
        /// The Contact.
        contact_id: String,
        /// Whether to retry.
        class: ErrorClass,
        /// Status and error codes (not Salesforce's message, which may quote a value).
        detail: String,
    },
}

impl OutboundError {
    /// Whether trying again later may succeed: the poll then stops before the record and
    /// retries it; a permanent failure is logged and the record passed over.
    pub fn is_retryable(&self) -> bool {
        match self {
            OutboundError::Store(_) | OutboundError::Query { .. } => true,
            OutboundError::Soql { .. } | OutboundError::Incomplete { .. } => false,
            OutboundError::Stripe { retryable, .. } => *retryable,
            OutboundError::Salesforce { class, .. } => *class != ErrorClass::Permanent,
        }
    }
}
