//! Errors found while reading metadata: each names the file, the line and what is wrong.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in one metadata file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataError {
    /// The file at fault.
    pub file: PathBuf,
    /// One-based line of the element at fault (1 when the whole file is at fault).
    pub line: u32,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl MetadataError {
    /// An error at a line of a file.
    pub fn new(file: &Path, line: u32, message: impl Into<String>) -> MetadataError {
        MetadataError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// Why a force-app folder could not be loaded: every problem found, not just the first.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The metadata is malformed or inconsistent.
    #[error("{} problem(s) in the Salesforce metadata:\n{}", .0.len(), render(.0))]
    Invalid(Vec<MetadataError>),
}

fn render(errors: &[MetadataError]) -> String {
    errors
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}
