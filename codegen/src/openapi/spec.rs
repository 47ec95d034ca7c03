//! Reading an OpenAPI document as JSON: references, operations, Stripe's conventions.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};

use super::Error;
use super::selection::OperationRef;

/// Prefix of every schema reference.
pub(crate) const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";
/// Stripe extension naming the resources an expandable field can expand to.
pub(crate) const X_EXPANSION_RESOURCES: &str = "x-expansionResources";
/// Stripe extension on event schemas of newer specs: `{"type": "customer.created"}`.
pub(crate) const X_STRIPE_EVENT: &str = "x-stripeEvent";
/// Our marker: on a schema, the reference it replaced; on an operation, what was kept of it.
pub(crate) const TRIMMED: &str = "x-trimmed";
/// The operation whose `enabled_events` parameter lists every event type.
const WEBHOOK_ENDPOINTS_PATH: &str = "/v1/webhook_endpoints";
/// Request body media types, in order of preference.
pub(crate) const FORM_MEDIA_TYPES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/json",
];

/// Reads and parses a spec file.
pub fn read_spec(path: &Path) -> Result<Value, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| Error::SpecJson {
        path: path.to_owned(),
        source,
    })
}

/// The `components.schemas` object.
pub(crate) fn schemas(spec_json: &Value) -> Result<&Map<String, Value>, Error> {
    spec_json
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::MalformedSpec {
            what: "components.schemas object".to_owned(),
        })
}

/// The schema name a `{"$ref": "#/components/schemas/NAME"}` node points to.
pub(crate) fn ref_target(node: &Value) -> Option<&str> {
    node.get("$ref")?.as_str()?.strip_prefix(SCHEMA_REF_PREFIX)
}

/// The operation object of a selected operation.
pub(crate) fn operation<'a>(spec_json: &'a Value, op: &OperationRef) -> Option<&'a Value> {
    spec_json
        .get("paths")?
        .get(&op.path)?
        .get(op.method.as_lower())
}

/// The schema of an operation's request body, with its media type.
pub(crate) fn request_body_schema(op: &Value) -> Option<&Value> {
    let content = op.pointer("/requestBody/content")?;
    FORM_MEDIA_TYPES
        .iter()
        .find_map(|media| content.get(*media)?.get("schema"))
}

/// The JSON schema of an operation's successful response.
pub(crate) fn success_schema(op: &Value) -> Option<&Value> {
    let responses = op.get("responses")?.as_object()?;
    let (_, response) = responses
        .iter()
        .filter(|(code, _)| code.starts_with('2'))
        .min_by(|a, b| a.0.cmp(b.0))?;
    response.pointer("/content/application~1json/schema")
}

/// The value of a resource schema's `object` property, e.g. `customer`, when it has exactly one.
pub(crate) fn object_tag(schema: &Value) -> Option<&str> {
    let values = schema.pointer("/properties/object/enum")?.as_array()?;
    match values.as_slice() {
        [Value::String(tag)] => Some(tag),
        _ => None,
    }
}

/// Whether a schema describes a deleted object (`deleted` is always `true`).
pub(crate) fn is_deleted_object(schema: &Value) -> bool {
    schema
        .pointer("/properties/deleted/enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.as_slice() == [Value::Bool(true)])
}

/// The event type an event schema of a newer spec describes.
pub(crate) fn stripe_event_type(schema: &Value) -> Option<&str> {
    schema.get(X_STRIPE_EVENT)?.get("type")?.as_str()
}

/// The `enabled_events` item schema of `POST /v1/webhook_endpoints`, which lists every event type.
pub(crate) fn enabled_events_items(spec_json: &Value) -> Option<&Value> {
    let op = spec_json
        .get("paths")?
        .get(WEBHOOK_ENDPOINTS_PATH)?
        .get("post")?;
    request_body_schema(op)?.pointer("/properties/enabled_events/items")
}

/// The path of the operation that lists event types, and the property that does.
pub(crate) fn enabled_events_location() -> (&'static str, &'static str) {
    (WEBHOOK_ENDPOINTS_PATH, "enabled_events")
}

/// Every event type a spec defines, sorted: the values of `enabled_events` on
/// `POST /v1/webhook_endpoints` (without the `*` wildcard) and the types of `x-stripeEvent` schemas.
pub fn event_types(spec_json: &Value) -> Vec<String> {
    let mut types = BTreeSet::new();
    if let Some(values) = enabled_events_items(spec_json)
        .and_then(|items| items.get("enum"))
        .and_then(Value::as_array)
    {
        types.extend(
            values
                .iter()
                .filter_map(Value::as_str)
                .filter(|value| *value != "*")
                .map(str::to_owned),
        );
    }
    if let Ok(schemas) = schemas(spec_json) {
        types.extend(
            schemas
                .values()
                .filter_map(stripe_event_type)
                .map(str::to_owned),
        );
    }
    types.into_iter().collect()
}

/// Calls `visit` with every schema reference below `node`, except the alternatives of an
/// expandable field (`x-expansionResources`), which go to `visit_expandable` instead.
pub(crate) fn walk_refs<'a>(
    node: &'a Value,
    visit: &mut dyn FnMut(&'a str),
    visit_expandable: &mut dyn FnMut(&'a str),
) {
    match node {
        Value::Object(map) => {
            let expandable = map.contains_key(X_EXPANSION_RESOURCES);
            if let Some(target) = ref_target(node) {
                visit(target);
            }
            for (key, child) in map {
                if key == X_EXPANSION_RESOURCES {
                    continue;
                }
                if expandable && key == "anyOf" {
                    for alternative in child.as_array().into_iter().flatten() {
                        match ref_target(alternative) {
                            Some(target) => visit_expandable(target),
                            None => walk_refs(alternative, visit, visit_expandable),
                        }
                    }
                    continue;
                }
                walk_refs(child, visit, visit_expandable);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk_refs(item, visit, visit_expandable);
            }
        }
        _ => {}
    }
}
