//! Errors of reading, trimming and generating: each says what failed and on which input.

use std::path::PathBuf;

/// What went wrong while reading a spec or a selection, trimming, or generating code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A spec file is not JSON.
    #[error("{} is not valid JSON: {source}", path.display())]
    SpecJson {
        /// The spec file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A selection is not valid TOML of the expected shape.
    #[error("selection {origin} is invalid: {message}")]
    SelectionToml {
        /// The selection file, or `<inline>`.
        origin: String,
        /// The TOML error, with its line.
        message: String,
    },
    /// A selected operation is not written `METHOD /path`.
    #[error("selection entry `{entry}` is not `METHOD /path` with METHOD one of GET, POST, DELETE")]
    BadOperationEntry {
        /// The entry as written.
        entry: String,
    },
    /// The spec lacks something every spec has.
    #[error("the spec has no {what}")]
    MalformedSpec {
        /// What is missing, e.g. `components.schemas object`.
        what: String,
    },
    /// A selected operation is not in the spec.
    #[error("the selection names operation `{operation}`, which the spec does not define")]
    MissingOperation {
        /// The operation as `METHOD /path`.
        operation: String,
    },
    /// A selected resource is not a schema of the spec.
    #[error("the selection names resource `{name}`, which is not a schema in components.schemas")]
    MissingResource {
        /// The schema name.
        name: String,
    },
    /// A selected event type is not an event type of the spec.
    #[error("the selection names event type `{name}`, which the spec does not list")]
    MissingEvent {
        /// The event type.
        name: String,
    },
    /// A `$ref` does not point into `components.schemas`.
    #[error("`$ref` `{reference}` (in {context}) does not name a schema in components.schemas")]
    BadReference {
        /// The reference as written.
        reference: String,
        /// Where it was found.
        context: String,
    },
    /// Generated code did not parse as Rust: a bug of the generator.
    #[error("generated {file} is not valid Rust ({source}); this is a bug in codegen::openapi")]
    InvalidRust {
        /// The generated file's name.
        file: String,
        /// The parse error.
        source: syn::Error,
    },
}
