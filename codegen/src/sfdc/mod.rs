//! The Salesforce side: source-format metadata → [`Model`] → Rust types, describe and admin table.

pub mod describe;
mod emit;
mod error;
mod load;
mod model;
pub mod naming;
mod standard;
mod table;
mod xml;

pub use emit::{EmitError, EmitOptions, generate};
pub use error::{LoadError, MetadataError};
pub use load::load;
pub use model::*;
pub use standard::{STANDARD_OBJECTS, standard_object};
pub use table::render as render_table;
