//! Code generation for stripe-sfdc-sync.
//!
//! Reads the Salesforce data model (Salesforce DX source-format metadata under `force-app/`) and
//! Stripe's OpenAPI spec, and emits typed Rust with `syn`, `quote` and `prettyplease`. The crates
//! `sfdc-types` and `stripe-types` run it from their build scripts; the `codegen` binary exposes the
//! same functions on the command line.

pub mod mapping;
pub mod metadata_schema;
pub mod openapi;
pub mod sfdc;
