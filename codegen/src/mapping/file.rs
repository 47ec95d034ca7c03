//! The mapping file as written (TOML), with the position of every entry for messages.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    /// Bounds the build uses to prove that numbers fit.
    pub limits: Spanned<RawLimits>,
    /// The `[[mapping]]` entries.
    #[serde(default, rename = "mapping")]
    pub mappings: Vec<Spanned<RawMapping>>,
}

/// `[limits]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Largest amount in minor units.
    pub max_amount: Spanned<i64>,
    /// Largest count (quantity, attempts, tier bound).
    pub max_count: Spanned<i64>,
}

/// One `[[mapping]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMapping {
    /// Name, giving the generated function `map_<name>`.
    pub name: Spanned<String>,
    /// Spec schema of the mapped object.
    pub stripe: Spanned<String>,
    /// Salesforce object written.
    pub sobject: Spanned<String>,
    /// How the record is found.
    pub key: Spanned<RawKey>,
    /// An array of the object to write one record per element of.
    #[serde(default)]
    pub for_each: Option<Spanned<String>>,
    /// A condition on the object; the mapping writes nothing when it does not hold.
    #[serde(default)]
    pub when: Option<Spanned<RawWhen>>,
    /// On a mapping of `event`: the event types it writes a record for (all when not given).
    #[serde(default)]
    pub when_type: Option<Spanned<Vec<String>>>,
    /// Fields written.
    #[serde(default)]
    pub fields: Vec<Spanned<RawField>>,
}

/// `when = { path = "mode", equals = "subscription" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWhen {
    /// The path tested.
    pub path: String,
    /// The value it must have.
    pub equals: String,
}

/// `key = { field = ..., from = ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    /// External id field, or `Id`.
    pub field: Spanned<String>,
    /// Path of the key value.
    #[serde(default)]
    pub from: Option<Spanned<OneOrMany>>,
    /// A key made of several values: `"{^.id}_{index}"`.
    #[serde(default)]
    pub format: Option<Spanned<String>>,
    /// `id` for an expandable reference.
    #[serde(default)]
    pub convert: Option<Spanned<String>>,
    /// `skip_record` when the key can be absent.
    #[serde(default)]
    pub absent: Option<Spanned<String>>,
}

/// A path, or fallback paths tried in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One path.
    One(String),
    /// Paths tried in order.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The paths in order.
    pub fn paths(&self) -> Vec<String> {
        match self {
            OneOrMany::One(path) => vec![path.clone()],
            OneOrMany::Many(paths) => paths.clone(),
        }
    }
}

/// One entry of `fields`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    /// Salesforce field.
    pub field: Spanned<String>,
    /// Stripe path(s).
    #[serde(default)]
    pub from: Option<Spanned<OneOrMany>>,
    /// A constant.
    #[serde(default)]
    pub value: Option<Spanned<toml::Value>>,
    /// A value the engine provides.
    #[serde(default)]
    pub context: Option<Spanned<String>>,
    /// Text made of literal text and `{path}` placeholders.
    #[serde(default)]
    pub format: Option<Spanned<String>>,
    /// Named inputs of a derived conversion.
    #[serde(default)]
    pub inputs: Option<Spanned<BTreeMap<String, String>>>,
    /// Clear the field.
    #[serde(default)]
    pub clear: Option<Spanned<bool>>,
    /// Conversion.
    #[serde(default)]
    pub convert: Option<Spanned<String>>,
    /// Currency path of a money conversion.
    #[serde(default)]
    pub currency: Option<Spanned<String>>,
    /// Table of a table or presence conversion.
    #[serde(default)]
    pub table: Option<Spanned<BTreeMap<String, String>>>,
    /// Value for what the table or picklist does not list.
    #[serde(default)]
    pub fallback: Option<Spanned<String>>,
    /// Parent reference by this external id of the parent.
    #[serde(default, rename = "ref")]
    pub reference: Option<Spanned<String>>,
    /// What to do when the value is absent.
    #[serde(default)]
    pub absent: Option<Spanned<String>>,
    /// Value written when the value is absent.
    #[serde(default)]
    pub default: Option<Spanned<toml::Value>>,
    /// Allow cutting text to the field length (with a warning).
    #[serde(default)]
    pub truncate: Option<Spanned<bool>>,
    /// Allow rounding to the field's decimals (with a warning).
    #[serde(default)]
    pub round: Option<Spanned<bool>>,
    /// Bound for this field instead of `[limits]`.
    #[serde(default)]
    pub max: Option<Spanned<i64>>,
}
