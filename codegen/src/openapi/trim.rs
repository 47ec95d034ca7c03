//! Trimming a full spec to a selection: the selected operations, the schemas they reach, no prose.
//!
//! The closure follows every schema reference except the alternatives of expandable fields
//! (`anyOf: [string, $ref]` with `x-expansionResources`): those are followed only into the
//! selected resources. An expandable alternative whose target ends up outside the closure is
//! replaced by `{"type": "object", "x-trimmed": "<the $ref>"}`, which the generator reads as
//! "id or opaque object". This keeps e.g. `charge.balance_transaction` from pulling in the whole
//! balance-transaction graph.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::Error;
use super::selection::Selection;
use super::spec::{self, TRIMMED, X_EXPANSION_RESOURCES, X_STRIPE_EVENT};

/// Keys dropped everywhere: prose.
const PROSE_KEYS: [&str; 3] = ["description", "summary", "externalDocs"];

/// Trims `full_spec` to the operations, resources and events of `selection`.
///
/// The result keeps `openapi`, `info.title`, `info.version`, `servers`, `security`,
/// `components.securitySchemes`, the selected operations (2xx responses only) and the transitive
/// closure of schemas, with prose removed. When `POST /v1/webhook_endpoints` is not selected, its
/// `enabled_events` parameter is still kept (marked `x-trimmed`) because it lists every event type.
/// Event schemas of newer specs (`x-stripeEvent`) are kept in full for the selected events and as
/// stubs for the others. Write the result with [`super::to_canonical_json`].
pub fn trim(full_spec: &Value, selection: &Selection) -> Result<Value, Error> {
    let schemas = spec::schemas(full_spec)?;
    let all_events: BTreeSet<String> = spec::event_types(full_spec).into_iter().collect();
    for event in &selection.events {
        if !all_events.contains(event) {
            return Err(Error::MissingEvent {
                name: event.clone(),
            });
        }
    }
    for resource in &selection.resources {
        if !schemas.contains_key(resource) {
            return Err(Error::MissingResource {
                name: resource.clone(),
            });
        }
    }

    // Operations, cleaned.
    let mut paths = Map::new();
    let mut operations: Vec<_> = selection.operations.iter().collect();
    operations.sort();
    operations.dedup();
    for op in &operations {
        let source = spec::operation(full_spec, op).ok_or_else(|| Error::MissingOperation {
            operation: op.to_string(),
        })?;
        let cleaned = clean_operation(source);
        path_item(&mut paths, &op.path).insert(op.method.as_lower().to_owned(), cleaned);
    }
    let (webhook_path, enabled_events) = spec::enabled_events_location();
    let webhook_selected = operations
        .iter()
        .any(|op| op.path == webhook_path && op.method.as_lower() == "post");
    if !webhook_selected && let Some(items) = spec::enabled_events_items(full_spec) {
        let operation_id = full_spec
            .pointer(&format!(
                "/paths/{}/post/operationId",
                pointer_escape(webhook_path)
            ))
            .cloned()
            .unwrap_or(Value::Null);
        let mut stub = json!({
            "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                "properties": {enabled_events: {"items": clean_schema(items, None), "type": "array"}},
                "type": "object"
            }}}},
            "responses": {},
            (TRIMMED): "only the enabled_events parameter, kept because it lists every event type",
        });
        if !operation_id.is_null() {
            stub["operationId"] = operation_id;
        }
        path_item(&mut paths, webhook_path).insert("post".to_owned(), stub);
    }

    // Roots of the closure.
    let selected: BTreeSet<&str> = selection.resources.iter().map(String::as_str).collect();
    let handled: BTreeSet<&str> = selection.events.iter().map(String::as_str).collect();
    let mut pending: Vec<String> = selection.resources.clone();
    let references = |node: &Value, context: &str, pending: &mut Vec<String>| {
        let mut found = Vec::new();
        let mut expandable = Vec::new();
        spec::walk_refs(node, &mut |target| found.push(target), &mut |target| {
            expandable.push(target)
        });
        found.extend(expandable.into_iter().filter(|t| selected.contains(t)));
        for target in found {
            if !schemas.contains_key(target) {
                return Err(Error::BadReference {
                    reference: format!("{}{target}", spec::SCHEMA_REF_PREFIX),
                    context: context.to_owned(),
                });
            }
            pending.push(target.to_owned());
        }
        Ok(())
    };
    for (path, item) in &paths {
        references(item, &format!("paths.{path}"), &mut pending)?;
    }
    for (name, schema) in schemas {
        if spec::stripe_event_type(schema).is_some_and(|t| handled.contains(t)) {
            pending.push(name.clone());
        }
    }

    // Transitive closure.
    let mut keep: BTreeSet<String> = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if keep.contains(&name) {
            continue;
        }
        let schema = &schemas[&name];
        references(schema, &format!("components.schemas.{name}"), &mut pending)?;
        keep.insert(name);
    }

    let mut out_schemas = Map::new();
    for (name, schema) in schemas {
        if keep.contains(name) {
            out_schemas.insert(name.clone(), clean_schema(schema, Some(&keep)));
        } else if let Some(event) = schema.get(X_STRIPE_EVENT) {
            out_schemas.insert(
                name.clone(),
                json!({"type": "object", (X_STRIPE_EVENT): event, (TRIMMED): "event schema of an event type not handled"}),
            );
        }
    }

    let mut out = Map::new();
    for key in ["openapi", "servers", "security"] {
        if let Some(value) = full_spec.get(key) {
            out.insert(key.to_owned(), value.clone());
        }
    }
    let mut info = Map::new();
    for key in ["title", "version"] {
        if let Some(value) = full_spec.pointer(&format!("/info/{key}")) {
            info.insert(key.to_owned(), value.clone());
        }
    }
    out.insert("info".to_owned(), Value::Object(info));
    out.insert("paths".to_owned(), Value::Object(paths));
    let mut components = Map::new();
    if let Some(security_schemes) = full_spec.pointer("/components/securitySchemes") {
        components.insert("securitySchemes".to_owned(), strip_prose(security_schemes));
    }
    components.insert("schemas".to_owned(), Value::Object(out_schemas));
    out.insert("components".to_owned(), Value::Object(components));
    Ok(Value::Object(out))
}

fn path_item<'a>(paths: &'a mut Map<String, Value>, path: &str) -> &'a mut Map<String, Value> {
    paths
        .entry(path.to_owned())
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .expect("path items are objects")
}

fn pointer_escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// An operation without prose and without error responses.
fn clean_operation(op: &Value) -> Value {
    let Value::Object(map) = op else {
        return op.clone();
    };
    let mut out = Map::new();
    for (key, child) in map {
        if PROSE_KEYS.contains(&key.as_str()) {
            continue;
        }
        let cleaned = match key.as_str() {
            "parameters" => Value::Array(
                child
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(clean_with_schema)
                    .collect(),
            ),
            "requestBody" => clean_content_holder(child, false),
            "responses" => {
                let mut responses = Map::new();
                for (code, response) in child.as_object().into_iter().flatten() {
                    if code.starts_with('2') {
                        responses.insert(code.clone(), clean_content_holder(response, true));
                    }
                }
                Value::Object(responses)
            }
            _ => strip_prose(child),
        };
        out.insert(key.clone(), cleaned);
    }
    Value::Object(out)
}

/// A request body or response without prose, its schemas cleaned. A response keeps its
/// `description`, which OpenAPI requires and which is a short phrase in Stripe's spec.
fn clean_content_holder(holder: &Value, is_response: bool) -> Value {
    let Value::Object(map) = holder else {
        return holder.clone();
    };
    let mut out = Map::new();
    for (key, child) in map {
        let cleaned = match key.as_str() {
            "content" => Value::Object(
                child
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(media, body)| (media.clone(), clean_with_schema(body)))
                    .collect(),
            ),
            "description" if is_response => child.clone(),
            k if PROSE_KEYS.contains(&k) => continue,
            _ => strip_prose(child),
        };
        out.insert(key.clone(), cleaned);
    }
    Value::Object(out)
}

/// A parameter or media type object: prose dropped, `schema` cleaned as a schema.
fn clean_with_schema(node: &Value) -> Value {
    let Value::Object(map) = node else {
        return node.clone();
    };
    let mut out = Map::new();
    for (key, child) in map {
        if PROSE_KEYS.contains(&key.as_str()) {
            continue;
        }
        let cleaned = if key == "schema" {
            clean_schema(child, None)
        } else {
            strip_prose(child)
        };
        out.insert(key.clone(), cleaned);
    }
    Value::Object(out)
}

/// A non-schema object without prose keys (recursively).
fn strip_prose(node: &Value) -> Value {
    match node {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| !PROSE_KEYS.contains(&key.as_str()))
                .map(|(key, child)| (key.clone(), strip_prose(child)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_prose).collect()),
        _ => node.clone(),
    }
}

/// A schema without prose; with `keep`, expandable alternatives outside `keep` become opaque.
///
/// Schema-aware: keys of `properties` are property names (a property may be called
/// `description`), values of `enum` are data.
fn clean_schema(node: &Value, keep: Option<&BTreeSet<String>>) -> Value {
    let Value::Object(map) = node else {
        return node.clone();
    };
    let expandable = map.contains_key(X_EXPANSION_RESOURCES);
    let mut out = Map::new();
    for (key, child) in map {
        let cleaned = match key.as_str() {
            k if PROSE_KEYS.contains(&k) => continue,
            "properties" => Value::Object(
                child
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, property)| (name.clone(), clean_schema(property, keep)))
                    .collect(),
            ),
            "items" | "additionalProperties" | "not" => clean_schema(child, keep),
            "anyOf" | "oneOf" | "allOf" => {
                clean_alternatives(child, if expandable { keep } else { None }, keep)
            }
            X_EXPANSION_RESOURCES => {
                let mut resources = Map::new();
                for (k, v) in child.as_object().into_iter().flatten() {
                    resources.insert(k.clone(), clean_alternatives(v, keep, keep));
                }
                Value::Object(resources)
            }
            "enum" | "required" | "x-expandableFields" | "default" => child.clone(),
            _ => strip_prose(child),
        };
        out.insert(key.clone(), cleaned);
    }
    Value::Object(out)
}

/// The alternatives of `anyOf`/`oneOf`; references outside `reduce_outside` become opaque objects.
fn clean_alternatives(
    alternatives: &Value,
    reduce_outside: Option<&BTreeSet<String>>,
    keep: Option<&BTreeSet<String>>,
) -> Value {
    let Value::Array(items) = alternatives else {
        return clean_schema(alternatives, keep);
    };
    Value::Array(
        items
            .iter()
            .map(
                |alternative| match (reduce_outside, spec::ref_target(alternative)) {
                    (Some(kept), Some(target)) if !kept.contains(target) => {
                        json!({"type": "object", (TRIMMED): alternative["$ref"]})
                    }
                    _ => clean_schema(alternative, keep),
                },
            )
            .collect(),
    )
}
