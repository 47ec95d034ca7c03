//! What can go wrong when a mapping runs, and what it had to change to fit a value: both name the
//! mapping, the Salesforce field and the value.

use std::fmt;

use rust_decimal::Decimal;

/// The mapping and Salesforce field a value is being written to, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Site {
    /// Name of the mapping in `sync/mappings.toml`.
    pub mapping: &'static str,
    /// API name of the Salesforce field.
    pub field: &'static str,
}

impl Site {
    /// The site of `field` in `mapping`.
    pub const fn new(mapping: &'static str, field: &'static str) -> Site {
        Site { mapping, field }
    }

    /// An error at this site.
    pub fn error(&self, kind: MappingErrorKind) -> MappingError {
        MappingError {
            mapping: self.mapping,
            field: self.field,
            kind,
        }
    }

    /// A warning at this site.
    pub fn warning(&self, kind: WarningKind) -> MappingWarning {
        MappingWarning {
            mapping: self.mapping,
            field: self.field,
            kind,
        }
    }
}

/// A Stripe object could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mapping `{mapping}`, field `{field}`: {kind}")]
pub struct MappingError {
    /// Name of the mapping.
    pub mapping: &'static str,
    /// Salesforce field being written.
    pub field: &'static str,
    /// What went wrong, with the value.
    pub kind: MappingErrorKind,
}

/// What went wrong with one value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingErrorKind {
    /// The JSON value does not have the type the spec gives.
    #[error("`{path}` is {found}, expected {expected}")]
    WrongType {
        /// The path read.
        path: &'static str,
        /// What the spec says it is.
        expected: &'static str,
        /// What it is, with the value.
        found: String,
    },
    /// A number is larger than the bound the build proved the field can hold.
    #[error("{value} is over the limit of {max} (see [limits] and `max` in sync/mappings.toml)")]
    OverLimit {
        /// The value.
        value: String,
        /// The bound.
        max: i64,
    },
    /// The currency is not an ISO code.
    #[error("currency {0:?} is not a three-letter ISO code")]
    BadCurrency(String),
    /// A decimal string does not parse.
    #[error("{0:?} is not a decimal number")]
    BadDecimal(String),
    /// Text longer than the field, and the mapping does not allow cutting it.
    #[error(
        "text of {length} characters does not fit the field's {max} (the mapping does not allow `truncate`): {preview:?}"
    )]
    TooLong {
        /// Length in UTF-16 code units, as Salesforce counts.
        length: usize,
        /// The field length.
        max: u32,
        /// The start of the text.
        preview: String,
    },
    /// A number has more digits than the field, and the mapping does not allow rounding.
    #[error(
        "{value} has too many digits for the field: at most {integer} before and {scale} after the decimal point"
    )]
    TooManyDigits {
        /// The value.
        value: String,
        /// Digits allowed before the point.
        integer: u32,
        /// Digits allowed after the point.
        scale: u32,
    },
    /// A value the restricted picklist does not have, and no fallback.
    #[error("{value:?} is not one of the picklist values {allowed}")]
    NotInPicklist {
        /// The value.
        value: String,
        /// The allowed values, comma-separated.
        allowed: String,
    },
    /// A Stripe value the mapping's table does not list, for a restricted picklist without a
    /// fallback.
    #[error("{0:?} is not in the mapping's table and no fallback is given")]
    NotInTable(String),
    /// The key is absent or empty, and the mapping does not skip such records.
    #[error("the key is {0}: refusing to write a record under an empty id")]
    EmptyKey(&'static str),
    /// A Unix timestamp outside the years Salesforce can hold.
    #[error("Unix timestamp {0} is outside the years -9999 to 9999")]
    Timestamp(i64),
    /// A lookup value that is not a Salesforce record Id.
    #[error("{0:?} is not a Salesforce record Id (15 or 18 letters and digits)")]
    BadRecordId(String),
    /// The parent object has no such external id (the generated code and the model disagree).
    #[error("the parent has no external id `{0}`")]
    UnknownReference(&'static str),
    /// The object has no `object` field naming its type.
    #[error("the Stripe object has no `object` field naming its type")]
    NoObjectType,
}

/// A change the mapping made to fit a value, as the mapping file allows: never silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingWarning {
    /// Name of the mapping.
    pub mapping: &'static str,
    /// Salesforce field written.
    pub field: &'static str,
    /// What was changed.
    pub kind: WarningKind,
}

/// What a mapping changed to fit a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarningKind {
    /// Text cut to the field length (`truncate = true`).
    Truncated {
        /// Length before, in UTF-16 code units.
        length: usize,
        /// The field length.
        max: u32,
    },
    /// A number rounded to the field's decimals (`round = true`).
    Rounded {
        /// The value before.
        from: Decimal,
        /// The value written.
        to: Decimal,
    },
}

impl fmt::Display for MappingWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mapping `{}`, field `{}`: ", self.mapping, self.field)?;
        match &self.kind {
            WarningKind::Truncated { length, max } => {
                write!(f, "text of {length} characters cut to {max}")
            }
            WarningKind::Rounded { from, to } => write!(f, "{from} rounded to {to}"),
        }
    }
}

impl serde::Serialize for MappingWarning {
    /// As its message.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
