//! The Salesforce client: OAuth login, sObject writes and reads, Collections, Composite,
//! SOQL queries, Bulk API 2.0 ingest and API limits.
//!
//! Two layers:
//!
//! - `api` (private): the low-level client progenitor generates at build time from
//!   `openapi/salesforce/openapi.json` (see `build.rs`): one method per REST operation, with
//!   the request and answer types of the spec.
//! - [`Client`] and the modules below, hand-written on top: the session (logged in once,
//!   renewed once for all callers on expiry or 401, the call then retried once), typed
//!   records from `sfdc-types`, Salesforce's error bodies read into [`Error`] and classified
//!   by [`ErrorClass`], chunking (Collections), references (Composite), job polling and
//!   result mapping (Bulk), pagination (query), and the `Sforce-Limit-Info` of every answer.
//!
//! Retrying failed calls is the caller's job: [`Error::class`] and
//! [`RecordResult::class`] tell it what is worth retrying.
//!
//! ```no_run
//! # async fn example() -> Result<(), stripe_sfdc_sync::salesforce::Error> {
//! use stripe_sfdc_sync::salesforce::{Client, Credentials};
//!
//! let client = Client::builder(
//!     "https://example.my.salesforce.com",
//!     Credentials::client_credentials("consumer key", "consumer secret"),
//! )
//! .build()?;
//! let limits = client.limits().await?;
//! println!("{:?}", limits.daily_api_requests());
//! # Ok(())
//! # }
//! ```

mod api;
pub mod auth;
pub mod bulk;
pub mod client;
pub mod collections;
pub mod composite;
pub mod error;
pub mod limits;
pub mod query;
pub mod record;
mod sobject;
pub mod soql;
mod transport;

pub use auth::{Credentials, JwtBearer, Secret};
pub use bulk::{BulkOptions, BulkResult, BulkWrite, JobState};
pub use client::{API_VERSION, Client, ClientBuilder, PRODUCTION_LOGIN_URL, SANDBOX_LOGIN_URL};
pub use collections::COLLECTION_LIMIT;
pub use composite::{
    COMPOSITE_COLLECTIONS_LIMIT, COMPOSITE_LIMIT, CompositeRequest, CompositeResponse, Reference,
    SubResponse,
};
pub use error::{ApiError, Error, ErrorClass, TransportKind};
pub use limits::{Limit, LimitInfo, Limits, Usage, UsageEntry};
pub use query::QueryPage;
pub use record::RecordResult;
pub use soql::{Filter, Literal, Order, Query};
