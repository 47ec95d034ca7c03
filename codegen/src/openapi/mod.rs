//! Stripe's OpenAPI spec: trimming it to the operations we call and generating Rust from it.
//!
//! Two steps, both pure functions over a parsed spec (`serde_json::Value`) and a [`Selection`]:
//!
//! - [`trim`] keeps the selected operations and the transitive closure of the schemas they reach,
//!   drops prose, and reduces expandable references to resources outside that closure to
//!   "id or opaque object". [`to_canonical_json`] writes the result deterministically.
//! - [`generate`] turns a (trimmed or full) spec into Rust sources: resource structs, forward
//!   compatible enums, webhook event types, request parameter structs and client methods.
//!
//! Neither step needs Stripe's `x-stripeResource`, `x-stripeOperations` or `x-stripeEvent`
//! extensions; `x-stripeEvent` is used when present (event types and their objects).

mod error;
mod generate;
mod json;
mod model;
mod naming;
mod selection;
mod spec;
mod trim;

pub use error::Error;
pub use generate::{GeneratedFile, GeneratedSources, generate};
pub use json::to_canonical_json;
pub use selection::{HttpMethod, OperationRef, Selection};
pub use spec::{event_types, read_spec};
pub use trim::trim;
