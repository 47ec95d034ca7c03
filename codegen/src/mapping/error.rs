//! Problems found in a mapping file, each with the file and line it comes from.

use std::fmt;

/// One problem of a mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The mapping file as named in messages (e.g. `sync/mappings.toml`).
    pub file: String,
    /// One-based line of the entry at fault (0 when the whole file is at fault).
    pub line: u32,
    /// The mapping's `name`, when the problem is inside a mapping.
    pub mapping: Option<String>,
    /// The Salesforce field, when the problem is about one field.
    pub field: Option<String>,
    /// What is wrong, and where possible how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: ", self.file, self.line)?;
        } else {
            write!(f, "{}: ", self.file)?;
        }
        match (&self.mapping, &self.field) {
            (Some(mapping), Some(field)) => write!(f, "mapping `{mapping}`, field `{field}`: ")?,
            (Some(mapping), None) => write!(f, "mapping `{mapping}`: ")?,
            (None, Some(field)) => write!(f, "field `{field}`: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

/// Why a mapping file cannot be turned into code: every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// A file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// The I/O or parse error.
        message: String,
    },
    /// The mapping file has problems; all of them are listed.
    #[error("{} problem{} in the mappings:\n  {}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n  "))]
    Problems(Vec<Problem>),
    /// The generated tokens did not parse (a generator bug).
    #[error("generated mapping code does not parse: {0}")]
    Syntax(String),
}

impl MappingError {
    /// The problems, when the file was read but is wrong.
    pub fn problems(&self) -> &[Problem] {
        match self {
            MappingError::Problems(problems) => problems,
            _ => &[],
        }
    }
}

/// One-based line of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> u32 {
    let at = at.min(text.len());
    let line = text.as_bytes()[..at]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1;
    u32::try_from(line).unwrap_or(u32::MAX)
}
