//! Typed Salesforce records for the force-app data model, and the runtime they rely on.
//!
//! Record types are generated from the Salesforce metadata: for each object a read shape
//! (implementing [`SObject`]), a write shape (implementing [`Writable`], with [`Patch`]
//! fields), picklist enums ([`Picklist`]), parent reference enums ([`ExternalRef`]) and a
//! describe ([`ObjectDescribe`]), all gathered in a [`Schema`]. The hand-written runtime here
//! gives them:
//!
//! - [`describe`]: object and field describes, buildable in `static`s or from JSON
//! - [`validate`]: every violation of a write against the describe, before Salesforce
//! - [`wire`]: serde `with` modules for Salesforce REST JSON (exact decimals, datetimes)
//! - [`csv`]: Bulk API 2.0 CSV, written from and read into typed values
//! - [`format`](mod@format): the text forms shared by JSON and CSV

pub mod csv;
pub mod describe;
pub mod format;
pub mod patch;
pub mod picklist;
pub mod reference;
pub mod sobject;
pub mod validate;
pub mod value;
pub mod wire;

pub use crate::csv::{CsvError, parse_csv, read_csv, write_csv};
pub use crate::describe::{FieldDescribe, FieldType, ObjectDescribe, PicklistDescribe, Schema};
pub use crate::format::FormatError;
pub use crate::patch::Patch;
pub use crate::picklist::{Picklist, UnknownPicklistValue};
pub use crate::reference::ExternalRef;
pub use crate::sobject::{SObject, Writable};
pub use crate::validate::{Operation, Violation, ViolationKind, Violations};
pub use crate::value::{FieldValue, ToValue, Value};
pub use rust_decimal;
pub use time;

/// The record types, picklist enums, references and describe generated from `force-app/`.
#[allow(missing_docs, clippy::all)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/sfdc_types.rs"));
}
pub use generated::*;
