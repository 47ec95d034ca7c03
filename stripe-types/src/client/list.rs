//! Stripe's list object and the items it pages over.

use serde::Deserialize;

/// One page of a list endpoint (`{"object": "list", "data": [...], ...}`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct List<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Whether more items follow this page.
    pub has_more: bool,
    /// The list's URL path, such as `/v1/customers`.
    #[serde(default)]
    pub url: String,
}

/// A resource with a Stripe id, usable as a pagination cursor.
pub trait Identified {
    /// The object's id, such as `cus_NffrFeUfNV2Hib`.
    fn id(&self) -> &str;
}

/// Untyped objects: the `id` field, or `""` when it is missing.
impl Identified for serde_json::Value {
    fn id(&self) -> &str {
        self.get("id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    }
}
