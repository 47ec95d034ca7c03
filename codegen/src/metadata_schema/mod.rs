//! Validation of Salesforce metadata XML files against the Metadata API's own XML schema.
//!
//! The Metadata API WSDL embeds an XML Schema that declares every metadata type
//! (`CustomObject`, `CustomField`, `PermissionSet`, ...) as a complexType, with
//! `xsd:extension` inheritance, element types, `maxOccurs`, and simpleType
//! enumerations. [`MetadataSchema`] reads that schema once and checks source-format
//! `*-meta.xml` files against it:
//!
//! - the root element must be a metadata type (a complexType derived from `Metadata`);
//! - every child element must be declared by its parent's type or one of its base types;
//! - an element declared with `maxOccurs="1"` must not repeat (order is not enforced);
//! - text is checked against the element's type: enumerations, `xsd:boolean`,
//!   `xsd:int`, `xsd:long`, `xsd:double`, ... and complex types recursively;
//! - `xsi:type` and `xsi:nil` are honoured (custom metadata record values use them).
//!
//! Elements that the schema does not declare but that later API versions added (see
//! [`newer`]) are reported with [`Severity::NewerThanSchema`] instead of as errors.

mod check;
mod lexical;
mod newer;
#[cfg(test)]
mod tests;
mod xsd;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

pub use newer::{NEWER_ELEMENTS, NewerElement};

/// The Metadata API XML schema, read from a WSDL, ready to check metadata documents.
#[derive(Debug, Clone)]
pub struct MetadataSchema {
    schema: xsd::Schema,
}

impl MetadataSchema {
    /// Reads the XML schema embedded in a Metadata API WSDL file.
    pub fn from_wsdl_file(path: &Path) -> Result<Self, SchemaError> {
        let text = fs::read_to_string(path).map_err(|source| SchemaError::ReadWsdl {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_wsdl_str(&text, &path.display().to_string())
    }

    /// Reads the XML schema embedded in WSDL text; `origin` names the text in errors.
    pub fn from_wsdl_str(text: &str, origin: &str) -> Result<Self, SchemaError> {
        Ok(Self {
            schema: xsd::Schema::parse(text, origin)?,
        })
    }

    /// API version the schema describes (47.0 here), read from the WSDL if it says, else from the file name.
    pub fn api_version(&self) -> Option<&str> {
        self.schema.version()
    }

    /// Checks one metadata XML document; root element name = metadata type name (CustomObject, CustomField, ...).
    pub fn check_document(&self, text: &str, file: &Path) -> Vec<Finding> {
        check::check_document(&self.schema, text, file)
    }

    /// Checks every *-meta.xml file under a source-format folder (recursively), sorted by file then line.
    ///
    /// Folders whose names start with `.` and `node_modules` folders are skipped, as
    /// are symbolic links to folders.
    pub fn check_tree(&self, root: &Path) -> Result<Vec<Finding>, SchemaError> {
        let mut files = Vec::new();
        collect_meta_files(root, &mut files)?;
        let mut findings = Vec::new();
        for file in files {
            let bytes = fs::read(&file).map_err(|source| SchemaError::ReadDocument {
                path: file.clone(),
                source,
            })?;
            match String::from_utf8(bytes) {
                Ok(text) => findings.extend(self.check_document(&text, &file)),
                Err(err) => {
                    let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
                    let (line, column) = end_position(&String::from_utf8_lossy(valid));
                    findings.push(Finding {
                        file: file.clone(),
                        line,
                        column,
                        severity: Severity::Error,
                        message: "file is not valid UTF-8".to_owned(),
                    });
                }
            }
        }
        findings.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        Ok(findings)
    }
}

/// Line and column (both 1-based) just past the end of `text`.
fn end_position(text: &str) -> (u32, u32) {
    let line = 1 + text.matches('\n').count();
    let last = text.rsplit('\n').next().unwrap_or("");
    let column = 1 + last.chars().count();
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// Appends every `*-meta.xml` file under `dir` to `out`, in sorted path order.
fn collect_meta_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SchemaError> {
    let list_error = |source| SchemaError::ListFolder {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        let file_type = entry.file_type().map_err(list_error)?;
        entries.push((entry.path(), file_type));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, file_type) in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if file_type.is_dir() {
            if !name.starts_with('.') && name != "node_modules" {
                collect_meta_files(&path, out)?;
            }
        } else if name.ends_with("-meta.xml") && path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// One problem found in a metadata file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file the problem is in, as given to (or found by) the checker.
    pub file: PathBuf,
    /// 1-based line of the offending element, attribute or text.
    pub line: u32,
    /// 1-based column (in characters) of the offending element, attribute or text.
    pub column: u32,
    /// Whether this is an error or an element the schema is too old to know.
    pub severity: Severity,
    /// What is wrong, naming the element and its type.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.severity,
            self.message
        )
    }
}

/// How serious a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The file does not conform to the schema.
    Error,
    /// The element is not in this schema but was added to the Metadata API in a later version.
    NewerThanSchema,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::NewerThanSchema => "newer-than-schema",
        })
    }
}

/// Why a schema could not be read or a folder could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The WSDL file could not be read.
    #[error("cannot read Metadata API WSDL {path}: {source}")]
    ReadWsdl {
        /// The WSDL file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The WSDL is not well-formed XML.
    #[error("{origin} is not well-formed XML: {source}")]
    Xml {
        /// The WSDL's name.
        origin: String,
        /// The parser's error.
        source: roxmltree::Error,
    },
    /// The WSDL has no `xsd:schema` element.
    #[error("{origin} contains no <xsd:schema> element, so it is not a Metadata API WSDL")]
    NoSchema {
        /// The WSDL's name.
        origin: String,
    },
    /// The schema uses a construct that is invalid or that this reader does not support.
    #[error("{origin}:{line}:{column}: invalid schema: {message}")]
    InvalidSchema {
        /// The WSDL's name.
        origin: String,
        /// 1-based line of the offending schema element.
        line: u32,
        /// 1-based column of the offending schema element.
        column: u32,
        /// What is wrong.
        message: String,
    },
    /// A folder under the checked tree could not be listed.
    #[error("cannot list metadata folder {path}: {source}")]
    ListFolder {
        /// The folder.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A metadata file could not be read.
    #[error("cannot read metadata file {path}: {source}")]
    ReadDocument {
        /// The metadata file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
}
