//! Keeps Stripe and Salesforce in sync for companies that bill in Stripe and sell, serve and
//! invoice in Salesforce.
//!
//! - [`mapping`]: Stripe → Salesforce mappings generated from `sync/mappings.toml`, checked
//!   at build time against Stripe's spec and the Salesforce model
//! - [`queue`]: the durable queue between receiver and workers (at-least-once delivery with
//!   leases); [`store`]: the ledger, watermarks, dead letters and token cache they share
//! - [`ratelimit`]: keeps Salesforce calls under the org's quota (sliding windows, shared
//!   counters, a reserve of the daily quota)
//! - [`salesforce`]: the Salesforce client (OAuth, REST, Collections, Composite, SOQL,
//!   Bulk API 2.0, limits), a hand-written layer over a client generated from
//!   `openapi/salesforce/openapi.json`.
//! - [`sqlite`]: the embedded backend of the queue and the store (one SQLite file, WAL)
//! - [`receiver`]: the axum webhook receiver (signature check, durable queueing, health and
//!   Prometheus metrics); [`priority`]: which event types are handled and how urgently.
//! - [`worker`]: moves queued events to Salesforce (ordering, lanes, batching, retries, dead
//!   letters); [`alerts`]: admin alerts to the logs and a webhook
//! - [`outbound`]: Salesforce → Stripe (Contacts to Stripe customers, Checkout links)
//! - [`loadgen`]: the load generator behind `stripe-sfdc-loadgen`

pub mod alerts;
pub mod backoff;
pub mod config;
pub mod loadgen;
pub mod mapping;
pub mod outbound;
pub mod priority;
pub mod queue;
pub mod ratelimit;
pub mod receiver;
pub mod salesforce;
pub mod signature;
pub mod sqlite;
pub mod store;
pub mod worker;
