//! Mappings Stripe → Salesforce, declared in one TOML file and checked at build time.
//!
//! [`check`] reads the mapping file (`sync/mappings.toml`) with Stripe's spec and the Salesforce
//! model, and refuses, naming the file and line of each problem: a Stripe path missing from the
//! spec; a Salesforce field that does not exist or is read-only; incompatible types; a number that
//! can exceed the field's digits (with the file's `[limits]` and currency exponents 0 to 3); a
//! restricted picklist that does not receive every value Stripe can send (unless a `fallback` is
//! given); a required field or a key that can end up empty; a field the `Stripe_Integration_User`
//! permission set does not let the integration edit; an event type in `when_type` that the spec
//! does not have; a `format` placeholder whose path or rendering does not fit. [`generate`] turns
//! the checked [`Plan`] into the mapping functions of `sync`, and [`render_table`] into tables
//! for an admin.

mod check;
mod emit;
mod error;
mod file;
mod path;
mod plan;
mod spec;
mod table;

use std::path::Path;

pub use check::{PERMISSION_SET, check};
pub use emit::{EmitOptions, generate};
pub use error::{MappingError, Problem};
pub use path::{PathExpr, Root, Step};
pub use plan::*;
pub use spec::{Resolved, Spec, StripeType};
pub use table::render as render_table;

/// Reads and checks the mapping file at `mappings` (named `label` in messages) against the
/// Stripe spec at `spec` and the Salesforce model under `force_app`.
pub fn load(
    mappings: &Path,
    label: &str,
    spec: &Path,
    force_app: &Path,
) -> Result<Plan, MappingError> {
    let text = std::fs::read_to_string(mappings).map_err(|e| MappingError::Read {
        path: mappings.display().to_string(),
        message: e.to_string(),
    })?;
    let spec_text = std::fs::read_to_string(spec).map_err(|e| MappingError::Read {
        path: spec.display().to_string(),
        message: e.to_string(),
    })?;
    let spec_json: serde_json::Value =
        serde_json::from_str(&spec_text).map_err(|e| MappingError::Read {
            path: spec.display().to_string(),
            message: e.to_string(),
        })?;
    let model = crate::sfdc::load(force_app).map_err(|e| MappingError::Read {
        path: force_app.display().to_string(),
        message: e.to_string(),
    })?;
    check(label, &text, &spec_json, &model)
}

/// The admin table of the mapping file at `mappings`, checked like [`load`] does: what
/// `codegen mapping-table` prints.
pub fn mapping_table(
    mappings: &Path,
    spec: &Path,
    force_app: &Path,
) -> Result<String, MappingError> {
    let plan = load(mappings, &mappings.display().to_string(), spec, force_app)?;
    Ok(render_table(&plan))
}
