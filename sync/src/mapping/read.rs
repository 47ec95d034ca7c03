//! Reading typed values from a Stripe object through checked paths: fallback paths are tried in
//! order, absent and null give `None`, and a value of another type than the spec says is an
//! error naming the mapping, field, path and value.

use serde_json::Value;

use super::error::{MappingError, MappingErrorKind, Site};
use super::path::{Path, Scope};
use super::write::is_record_id;

/// The first of `paths` that has a value, with the path it was found at.
fn first<'a>(scope: &Scope<'a>, paths: &[Path]) -> Option<(&'a Value, &'static str)> {
    paths
        .iter()
        .find_map(|path| scope.find(path).map(|value| (value, path.text)))
}

fn wrong(site: &Site, path: &'static str, expected: &'static str, value: &Value) -> MappingError {
    site.error(MappingErrorKind::WrongType {
        path,
        expected,
        found: describe(value),
    })
}

/// A JSON value as messages show it: its kind and, when short, the value.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() <= 60 => format!("the string {s:?}"),
        Value::String(_) => "a long string".into(),
        Value::Array(items) => format!("an array of {} elements", items.len()),
        Value::Object(_) => "an object".into(),
    }
}

/// A string (or Stripe enum value).
pub fn text(
    site: &Site,
    scope: &Scope<'_>,
    paths: &[Path],
) -> Result<Option<String>, MappingError> {
    match first(scope, paths) {
        None => Ok(None),
        Some((Value::String(s), _)) => Ok(Some(s.clone())),
        Some((value, path)) => Err(wrong(site, path, "a string", value)),
    }
}

/// An integer (amounts, counts, Unix seconds).
pub fn integer(
    site: &Site,
    scope: &Scope<'_>,
    paths: &[Path],
) -> Result<Option<i64>, MappingError> {
    match first(scope, paths) {
        None => Ok(None),
        Some((value, path)) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong(site, path, "an integer", value)),
    }
}

/// A boolean.
pub fn boolean(
    site: &Site,
    scope: &Scope<'_>,
    paths: &[Path],
) -> Result<Option<bool>, MappingError> {
    match first(scope, paths) {
        None => Ok(None),
        Some((Value::Bool(b), _)) => Ok(Some(*b)),
        Some((value, path)) => Err(wrong(site, path, "a boolean", value)),
    }
}

/// Any value, as compact JSON text.
pub fn json(
    site: &Site,
    scope: &Scope<'_>,
    paths: &[Path],
) -> Result<Option<String>, MappingError> {
    let _ = site;
    Ok(first(scope, paths).map(|(value, _)| value.to_string()))
}

/// The id of an expandable reference: the string itself, or the `id` of the expanded object.
pub fn id(site: &Site, scope: &Scope<'_>, paths: &[Path]) -> Result<Option<String>, MappingError> {
    match first(scope, paths) {
        None => Ok(None),
        Some((Value::String(s), _)) => Ok(Some(s.clone())),
        Some((value @ Value::Object(object), path)) => match object.get("id") {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(wrong(
                site,
                path,
                "an id or an expanded object with an id",
                value,
            )),
        },
        Some((value, path)) => Err(wrong(
            site,
            path,
            "an id or an expanded object with an id",
            value,
        )),
    }
}

/// The sum of the integers under `[*]`; `None` when the array is absent or null, 0 when it is
/// empty.
pub fn sum(site: &Site, scope: &Scope<'_>, path: &Path) -> Result<Option<i64>, MappingError> {
    let values = match scope.each(path) {
        None => return Ok(None),
        Some(Err(value)) => return Err(wrong(site, path.text, "an array", value)),
        Some(Ok(values)) => values,
    };
    let mut total: i64 = 0;
    for value in values {
        let n = value
            .as_i64()
            .ok_or_else(|| wrong(site, path.text, "integers", value))?;
        total = total.checked_add(n).ok_or_else(|| {
            site.error(MappingErrorKind::OverLimit {
                value: format!("the sum of `{}`", path.text),
                max: i64::MAX,
            })
        })?;
    }
    Ok(Some(total))
}

/// Whether any of `paths` has a (non-null) value.
pub fn presence(scope: &Scope<'_>, paths: &[Path]) -> bool {
    first(scope, paths).is_some()
}

/// Whether `path` is the string `expected` (a mapping's `when`).
pub fn equals(scope: &Scope<'_>, path: &Path, expected: &str) -> bool {
    scope.find(path).and_then(Value::as_str) == Some(expected)
}

/// The elements of the array a `for_each` iterates; none when it is absent or null.
pub fn elements<'a>(
    site: &Site,
    object: &'a Value,
    path: &Path,
) -> Result<Vec<&'a Value>, MappingError> {
    match Scope::new(object).find(path) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.iter().collect()),
        Some(value) => Err(wrong(site, path.text, "an array", value)),
    }
}

/// The type of a Stripe object (its `object` field).
pub fn object_type(object: &Value) -> Result<&str, MappingError> {
    object
        .get("object")
        .and_then(Value::as_str)
        .ok_or(MappingError {
            mapping: "*",
            field: "object",
            kind: MappingErrorKind::NoObjectType,
        })
}

/// A key that is text: `None` (skip the record) when absent or empty and `skip` is set, an error
/// otherwise; a record `Id` must look like one.
pub fn key_text(
    site: &Site,
    scope: &Scope<'_>,
    paths: &[Path],
    skip: bool,
    record_id: bool,
) -> Result<Option<String>, MappingError> {
    checked_key(site, text(site, scope, paths)?, skip, record_id)
}

/// A key that is an expandable reference's id, with the rules of [`key_text`].
pub fn key_id(
    site: &Site,
    scope: &Scope<'_>,
    paths: &[Path],
    skip: bool,
    record_id: bool,
) -> Result<Option<String>, MappingError> {
    checked_key(site, id(site, scope, paths)?, skip, record_id)
}

/// One value of a key `format` (string or integer), with the rules of [`key_text`].
pub fn key_part(
    site: &Site,
    scope: &Scope<'_>,
    path: &Path,
    skip: bool,
) -> Result<Option<String>, MappingError> {
    let value = match scope.find(path) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) if n.is_i64() => Some(n.to_string()),
        Some(value) => return Err(wrong(site, path.text, "a string or an integer", value)),
    };
    checked_key(site, value, skip, false)
}

fn checked_key(
    site: &Site,
    value: Option<String>,
    skip: bool,
    record_id: bool,
) -> Result<Option<String>, MappingError> {
    match value {
        Some(value) if !value.trim().is_empty() => {
            if record_id && !is_record_id(&value) {
                return Err(site.error(MappingErrorKind::BadRecordId(value)));
            }
            Ok(Some(value))
        }
        None | Some(_) if skip => Ok(None),
        None => Err(site.error(MappingErrorKind::EmptyKey("absent"))),
        Some(_) => Err(site.error(MappingErrorKind::EmptyKey("empty"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::path::{Root, Step};
    use serde_json::json;

    const SITE: Site = Site::new("test", "Field__c");

    fn path(text: &'static str, steps: &'static [Step]) -> Path {
        Path {
            text,
            root: Root::Object,
            steps,
        }
    }

    #[test]
    fn fallbacks_are_tried_in_order() {
        let object = json!({"b": "second", "c": "third"});
        let scope = Scope::new(&object);
        let paths = [
            path("a", &[Step::Key("a")]),
            path("b", &[Step::Key("b")]),
            path("c", &[Step::Key("c")]),
        ];
        assert_eq!(text(&SITE, &scope, &paths), Ok(Some("second".into())));
    }

    #[test]
    fn wrong_types_name_the_mapping_field_path_and_value() {
        let object = json!({"a": 12});
        let error = text(&SITE, &Scope::new(&object), &[path("a", &[Step::Key("a")])]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "mapping `test`, field `Field__c`: `a` is the number 12, expected a string"
        );
    }

    #[test]
    fn ids_of_expandable_references() {
        let plain = json!({"customer": "cus_1"});
        let expanded = json!({"customer": {"id": "cus_2", "object": "customer"}});
        let p = [path("customer", &[Step::Key("customer")])];
        assert_eq!(id(&SITE, &Scope::new(&plain), &p), Ok(Some("cus_1".into())));
        assert_eq!(
            id(&SITE, &Scope::new(&expanded), &p),
            Ok(Some("cus_2".into()))
        );
    }

    #[test]
    fn sums() {
        let p = path(
            "d[*].amount",
            &[Step::Key("d"), Step::Each, Step::Key("amount")],
        );
        let some = json!({"d": [{"amount": 100}, {"amount": 250}]});
        assert_eq!(sum(&SITE, &Scope::new(&some), &p), Ok(Some(350)));
        let empty = json!({"d": []});
        assert_eq!(sum(&SITE, &Scope::new(&empty), &p), Ok(Some(0)));
        let null = json!({"d": null});
        assert_eq!(sum(&SITE, &Scope::new(&null), &p), Ok(None));
    }

    #[test]
    fn keys_are_never_empty() {
        let p = [path("id", &[Step::Key("id")])];
        let empty = json!({"id": ""});
        assert_eq!(
            key_text(&SITE, &Scope::new(&empty), &p, true, false),
            Ok(None)
        );
        let error = key_text(&SITE, &Scope::new(&empty), &p, false, false).unwrap_err();
        assert_eq!(error.kind, MappingErrorKind::EmptyKey("empty"));
        let none = json!({});
        assert!(key_text(&SITE, &Scope::new(&none), &p, false, false).is_err());
        let bad_id = json!({"id": "None"});
        assert_eq!(
            key_text(&SITE, &Scope::new(&bad_id), &p, true, true)
                .unwrap_err()
                .kind,
            MappingErrorKind::BadRecordId("None".into())
        );
    }
}
