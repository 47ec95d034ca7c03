//! Stripe → Salesforce mappings, generated from `sync/mappings.toml` at build time.
//!
//! The build (`build.rs`, through `codegen::mapping`) checks the mapping file against Stripe's
//! spec and the Salesforce model and generates one function per mapping, such as
//! [`map_customer`], which reads a Stripe object (the event's `data.object`) as
//! `serde_json::Value` through the checked paths and returns the typed `sfdc-types` write
//! struct with its key. [`map_object`] runs every mapping of an object's type; [`MAPPINGS`]
//! lists them. The modules here are the runtime the generated code calls: reading values
//! ([`read`]), converting them ([`convert`], [`derived`], [`money`], [`timestamp`]), rendering
//! `format` texts ([`template`]) and fitting them into fields ([`write`](mod@write)); errors
//! name the mapping, field and value.

pub mod context;
pub mod convert;
pub mod derived;
pub mod error;
pub mod money;
pub mod path;
pub mod read;
pub mod template;
pub mod text;
pub mod timestamp;
pub mod write;

pub use context::{MappingContext, ProcessingStatus};
pub use error::{MappingError, MappingErrorKind, MappingWarning, Site, WarningKind};
pub use path::{Path, Root, Scope, Step};

/// How a mapped record is found in Salesforce.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordKey {
    /// The external id field of an upsert, or `Id` for an update of an existing record.
    pub field: &'static str,
    /// Its value (never empty).
    pub value: String,
}

/// A record produced by a mapping: its key, the write, and what had to be changed to fit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mapped<W> {
    /// How the record is found.
    pub key: RecordKey,
    /// The fields written (the key's external id field included).
    pub record: W,
    /// Truncations and roundings the mapping file allows, reported rather than silent.
    pub warnings: Vec<MappingWarning>,
}

/// Serializes a record as `{"sobject", "key", "record", "warnings"}` (how `MappedRecord`
/// serializes), the record as its REST body with exact decimals.
pub fn serialize_mapped<W: serde::Serialize, S: serde::Serializer>(
    sobject: &'static str,
    mapped: &Mapped<W>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut state = serializer.serialize_struct("MappedRecord", 4)?;
    state.serialize_field("sobject", sobject)?;
    state.serialize_field("key", &mapped.key)?;
    state.serialize_field("record", &mapped.record)?;
    state.serialize_field("warnings", &mapped.warnings)?;
    state.end()
}

/// One mapping of `sync/mappings.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappingInfo {
    /// Its name (the function is `map_<name>`).
    pub name: &'static str,
    /// Stripe object type it reads.
    pub stripe: &'static str,
    /// Salesforce object it writes.
    pub sobject: &'static str,
    /// Key field: an external id, or `Id`.
    pub key: &'static str,
    /// Array it writes one record per element of.
    pub for_each: Option<&'static str>,
    /// On a mapping of `event`: the event types it writes a record for (empty: every event).
    pub when_type: &'static [&'static str],
}

/// The code generated from `sync/mappings.toml`.
#[allow(
    clippy::field_reassign_with_default,
    clippy::needless_borrow,
    clippy::let_unit_value
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/mappings.rs"));
}
pub use generated::*;
