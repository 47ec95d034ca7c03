//! Keeps Stripe and Salesforce in sync for companies that bill in Stripe and sell, serve and
//! invoice in Salesforce.
//!
//! - [`mapping`]: Stripe → Salesforce mappings generated from `sync/mappings.toml`, checked
//!   at build time against Stripe's spec and the Salesforce model
//! - [`salesforce`]: the Salesforce client (OAuth, REST, Collections, Composite, SOQL,
//!   Bulk API 2.0, limits), a hand-written layer over a client generated from
//!   `openapi/salesforce/openapi.json`.

pub mod mapping;
pub mod salesforce;
