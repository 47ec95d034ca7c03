//! Elements the Metadata API gained after the schema in hand was published.
//!
//! The checker reads one fixed WSDL. A metadata file written for a later API
//! version may use elements that WSDL does not declare; the ones listed here are
//! reported as [`Severity::NewerThanSchema`](super::Severity::NewerThanSchema)
//! rather than as errors. Only elements whose type and introducing version are
//! certain belong here.

/// An element added to a Metadata API type in a known API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewerElement {
    /// The complexType that gained the element.
    pub type_name: &'static str,
    /// The element's name.
    pub element: &'static str,
    /// The API version that introduced it, such as `"56.0"`.
    pub since: &'static str,
}

/// Elements added to the Metadata API after version 47.0.
pub const NEWER_ELEMENTS: &[NewerElement] = &[
    // Access to external credential principals, which came with the named
    // credentials reworked in Winter '23.
    NewerElement {
        type_name: "PermissionSet",
        element: "externalCredentialPrincipalAccesses",
        since: "56.0",
    },
];

/// The entry for `element` in any of `types`, if it is newer than `schema_version`.
///
/// When the schema's version is unknown, every entry applies.
pub(crate) fn lookup<'t>(
    types: impl IntoIterator<Item = &'t str>,
    element: &str,
    schema_version: Option<&str>,
) -> Option<&'static NewerElement> {
    let types: Vec<&str> = types.into_iter().collect();
    NEWER_ELEMENTS.iter().find(|entry| {
        entry.element == element
            && types.contains(&entry.type_name)
            && match (
                schema_version.and_then(parse_version),
                parse_version(entry.since),
            ) {
                (Some(schema), Some(since)) => schema < since,
                _ => true,
            }
    })
}

/// `"47.0"` as `(47, 0)`.
fn parse_version(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_name_a_type_an_element_and_a_version() {
        for entry in NEWER_ELEMENTS {
            assert!(!entry.type_name.is_empty() && !entry.element.is_empty());
            assert!(parse_version(entry.since).is_some(), "{entry:?}");
        }
    }

    #[test]
    fn an_entry_applies_only_to_older_schemas() {
        let ps = ["PermissionSet"];
        let el = "externalCredentialPrincipalAccesses";
        assert!(lookup(ps, el, Some("47.0")).is_some());
        assert!(lookup(ps, el, None).is_some());
        assert!(lookup(ps, el, Some("56.0")).is_none());
        assert!(lookup(["Profile"], el, Some("47.0")).is_none());
    }
}
