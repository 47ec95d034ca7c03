//! Resolving mapping paths against Stripe's OpenAPI spec: which value a path reaches, its type,
//! and whether it can be absent.
//!
//! The rules follow how Stripe's spec describes its resources: `$ref` is followed; a property not
//! in the schema's `required` list, or `nullable`, can be absent; `anyOf` with a single member is
//! that member; `anyOf` with `x-expansionResources` is an expandable reference (an id unless the
//! request expanded it); `[n]` can be absent (the array may be shorter); `additionalProperties`
//! (metadata) allows any key, which can be absent. The event's `data.object` is a free-form
//! object: a path into it must exist in every object type the mapping file handles.

use serde_json::{Map, Value};

use super::path::{PathExpr, Root, Step};

/// The type of the value a path reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripeType {
    /// Free text (`maxLength` when the spec gives one).
    String {
        /// The spec's `maxLength`.
        max_length: Option<u64>,
    },
    /// A decimal number written as a string (`format: decimal`), such as `unit_amount_decimal`.
    DecimalString,
    /// A string with a closed set of values.
    Enum(Vec<String>),
    /// An integer.
    Integer,
    /// Unix seconds (`format: unix-time`).
    UnixTime,
    /// A floating-point number.
    Number,
    /// A boolean.
    Boolean,
    /// An object with properties, named by its schema when it has one.
    Object(String),
    /// An array.
    Array,
    /// An expandable reference: an id, or the object when the request expanded it.
    Expandable(Vec<String>),
    /// An object whose content the spec does not describe.
    FreeForm,
    /// Something else (a union of several types).
    Other,
}

impl StripeType {
    /// A short name for messages.
    pub fn describe(&self) -> String {
        match self {
            StripeType::String { .. } => "a string".into(),
            StripeType::DecimalString => "a decimal string".into(),
            StripeType::Enum(values) => format!("an enum ({})", values.join(", ")),
            StripeType::Integer => "an integer".into(),
            StripeType::UnixTime => "a Unix timestamp".into(),
            StripeType::Number => "a floating-point number".into(),
            StripeType::Boolean => "a boolean".into(),
            StripeType::Object(name) if name.is_empty() => "an object".into(),
            StripeType::Object(name) => format!("an object (`{name}`)"),
            StripeType::Array => "an array".into(),
            StripeType::Expandable(targets) => {
                format!("an expandable reference to {}", targets.join(" or "))
            }
            StripeType::FreeForm => "a free-form object".into(),
            StripeType::Other => "a union of several types".into(),
        }
    }

    /// Whether the value is text (string or enum).
    pub fn is_text(&self) -> bool {
        matches!(
            self,
            StripeType::String { .. } | StripeType::Enum(_) | StripeType::DecimalString
        )
    }

    /// Whether the value is an integer (plain or Unix seconds).
    pub fn is_integer(&self) -> bool {
        matches!(self, StripeType::Integer | StripeType::UnixTime)
    }
}

/// What a path reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The type of the value.
    pub ty: StripeType,
    /// Whether the value can be absent or null.
    pub optional: bool,
}

/// Where paths are resolved from: the mapped schema, and inside a `for_each` the element and the
/// parent schema.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    /// The schema paths starting at the object resolve against (the element inside a `for_each`).
    pub object: &'a Value,
    /// The mapped object's schema, for `^.` inside a `for_each`.
    pub parent: Option<&'a Value>,
    /// The schemas a free-form object (the event's `data.object`) stands for here, instead of
    /// every mapped object type (a mapping of `event` limited to some event types).
    pub free_form: Option<&'a [String]>,
}

/// Stripe's spec, for resolving paths.
#[derive(Debug, Clone)]
pub struct Spec {
    schemas: Map<String, Value>,
    /// Schemas a free-form object (the event's `data.object`) stands for.
    free_form: Vec<String>,
}

impl Spec {
    /// The spec from its JSON text.
    pub fn from_json(json: &Value) -> Result<Spec, String> {
        let schemas = json
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .ok_or("the spec has no `components.schemas`")?
            .clone();
        Ok(Spec {
            schemas,
            free_form: Vec::new(),
        })
    }

    /// Sets the schemas a free-form object stands for (the object types the file maps).
    pub fn set_free_form(&mut self, schemas: Vec<String>) {
        self.free_form = schemas;
    }

    /// The schema named `name` (`customer`, `checkout.session`, ...).
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.schemas.get(name)
    }

    /// Whether the spec has a schema named `name`.
    pub fn has_schema(&self, name: &str) -> bool {
        self.schemas.contains_key(name)
    }

    /// The value of `path` in `scope`, or why it does not exist.
    pub fn resolve(&self, scope: &Scope<'_>, path: &PathExpr) -> Result<Resolved, String> {
        let (start, optional) = match path.root {
            Root::Object => (scope.object, false),
            Root::Parent => (
                scope
                    .parent
                    .ok_or_else(|| format!("`{path}` uses `^.` outside a `for_each`"))?,
                false,
            ),
            Root::Previous => {
                if scope.parent.is_none() {
                    return Err(format!("`{path}` uses `<.` outside a `for_each`"));
                }
                (scope.object, true)
            }
        };
        let free_form = scope.free_form.unwrap_or(&self.free_form);
        self.walk(start, &path.steps, optional, &path.text, free_form)
    }

    /// The schema of the elements of the array at `path` (for `for_each`).
    pub fn element_schema<'a>(
        &'a self,
        scope: &Scope<'a>,
        path: &PathExpr,
    ) -> Result<&'a Value, String> {
        if path.root != Root::Object || path.sums() {
            return Err(format!(
                "`for_each = \"{path}\"` must be a plain path to an array"
            ));
        }
        let mut node = self.normalize(scope.object).node;
        for (at, step) in path.steps.iter().enumerate() {
            let Step::Key(name) = step else {
                return Err(format!(
                    "`for_each = \"{path}\"` must be a plain path to an array"
                ));
            };
            let child = self.property(node, name, &path.text, at)?.0;
            node = self.normalize(child).node;
        }
        if node.get("type").and_then(Value::as_str) != Some("array") {
            return Err(format!("`for_each = \"{path}\"` is not an array"));
        }
        let items = node
            .get("items")
            .ok_or_else(|| format!("`for_each = \"{path}\"` has no element schema"))?;
        Ok(self.normalize(items).node)
    }

    fn walk(
        &self,
        start: &Value,
        steps: &[Step],
        mut optional: bool,
        text: &str,
        free_form: &[String],
    ) -> Result<Resolved, String> {
        let mut node = start;
        let mut nullable = false;
        for (at, step) in steps.iter().enumerate() {
            let norm = self.normalize(node);
            nullable |= norm.nullable;
            let current = norm.node;
            if let Some(targets) = norm.expandable {
                return Err(format!(
                    "`{text}`: `{}` is {}; it holds an id unless the event was fetched with `expand[]`, so a path cannot go into it (use `convert = \"id\"` or `ref` on `{}`)",
                    prefix(steps, at),
                    StripeType::Expandable(targets).describe(),
                    prefix(steps, at)
                ));
            }
            match step {
                Step::Key(name) => {
                    if is_free_form(current) && !free_form.is_empty() {
                        return self.walk_free_form(
                            &steps[at..],
                            optional || nullable,
                            text,
                            at,
                            steps,
                            free_form,
                        );
                    }
                    let (child, child_optional) = self.property(current, name, text, at)?;
                    optional |= nullable || child_optional;
                    nullable = false;
                    node = child;
                }
                Step::Index(_) | Step::Each => {
                    if current.get("type").and_then(Value::as_str) != Some("array") {
                        return Err(format!(
                            "`{text}`: `{}` is {}, not an array",
                            prefix(steps, at),
                            self.type_of(current).describe()
                        ));
                    }
                    optional |= nullable || matches!(step, Step::Index(_));
                    nullable = false;
                    node = current
                        .get("items")
                        .ok_or_else(|| format!("`{text}`: the array has no element schema"))?;
                }
            }
        }
        let norm = self.normalize(node);
        let ty = match norm.expandable {
            Some(targets) => StripeType::Expandable(targets),
            None => self.type_of(norm.node),
        };
        Ok(Resolved {
            ty,
            optional: optional || nullable || norm.nullable,
        })
    }

    fn walk_free_form(
        &self,
        rest: &[Step],
        optional: bool,
        text: &str,
        at: usize,
        steps: &[Step],
        free_form: &[String],
    ) -> Result<Resolved, String> {
        let mut merged: Option<Resolved> = None;
        for name in free_form {
            let schema = self
                .schemas
                .get(name)
                .ok_or_else(|| format!("`{text}`: the spec has no schema `{name}`"))?;
            let found = self
                .walk(schema, rest, optional, text, free_form)
                .map_err(|e| {
                    format!(
                        "{e} (`{}` is any of the objects {}, so the path must exist in `{name}`)",
                        prefix(steps, at),
                        free_form.join(", ")
                    )
                })?;
            merged = Some(match merged {
                None => found,
                Some(previous) => {
                    let ty = if previous.ty == found.ty {
                        previous.ty
                    } else if previous.ty.is_text() && found.ty.is_text() {
                        StripeType::String { max_length: None }
                    } else {
                        return Err(format!(
                            "`{text}` is {} in one mapped object and {} in `{name}`",
                            previous.ty.describe(),
                            found.ty.describe()
                        ));
                    };
                    Resolved {
                        ty,
                        optional: previous.optional || found.optional,
                    }
                }
            });
        }
        merged.ok_or_else(|| format!("`{text}`: nothing is mapped for the free-form object"))
    }

    /// The property `name` of an object schema, and whether it can be absent.
    fn property<'a>(
        &'a self,
        object: &'a Value,
        name: &str,
        text: &str,
        at: usize,
    ) -> Result<(&'a Value, bool), String> {
        let object = self.normalize(object).node;
        if let Some(child) = object.get("properties").and_then(|p| p.get(name)) {
            let required = object
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(name)));
            return Ok((child, !required));
        }
        if let Some(extra) = object.get("additionalProperties").filter(|v| v.is_object()) {
            return Ok((extra, true));
        }
        let owner = if at == 0 {
            object
                .get("title")
                .and_then(Value::as_str)
                .map(|t| format!("`{t}`"))
                .unwrap_or_else(|| "the object".into())
        } else {
            format!("`{}`", text_prefix(text, at))
        };
        if object.get("type").and_then(Value::as_str) == Some("object")
            || object.get("properties").is_some()
        {
            Err(format!(
                "Stripe path `{text}` does not exist: {owner} has no property `{name}`"
            ))
        } else {
            Err(format!(
                "Stripe path `{text}` does not exist: {owner} is {}, not an object",
                self.type_of(object).describe()
            ))
        }
    }

    fn normalize<'a>(&'a self, mut node: &'a Value) -> Normal<'a> {
        let mut nullable = false;
        for _ in 0..32 {
            nullable |= node.get("nullable").and_then(Value::as_bool) == Some(true);
            if let Some(target) = node.get("$ref").and_then(Value::as_str) {
                match target
                    .strip_prefix("#/components/schemas/")
                    .and_then(|name| self.schemas.get(name))
                {
                    Some(next) => {
                        node = next;
                        continue;
                    }
                    None => break,
                }
            }
            if let Some(resources) = node.get("x-expansionResources") {
                let targets = resources
                    .get("oneOf")
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .filter_map(|r| {
                                r.get("$ref")
                                    .or_else(|| r.get("x-trimmed"))
                                    .and_then(Value::as_str)
                                    .map(|s| s.rsplit('/').next().unwrap_or(s).to_string())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                return Normal {
                    node,
                    nullable,
                    expandable: Some(targets),
                };
            }
            if let Some(members) = node.get("anyOf").and_then(Value::as_array)
                && members.len() == 1
            {
                node = &members[0];
                continue;
            }
            break;
        }
        Normal {
            node,
            nullable,
            expandable: None,
        }
    }

    fn type_of(&self, node: &Value) -> StripeType {
        let node = self.normalize(node).node;
        if let Some(values) = node.get("enum").and_then(Value::as_array) {
            let values: Vec<String> = values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            if !values.is_empty() {
                return StripeType::Enum(values);
            }
        }
        match node.get("type").and_then(Value::as_str) {
            Some("string") if node.get("format").and_then(Value::as_str) == Some("decimal") => {
                StripeType::DecimalString
            }
            Some("string") => StripeType::String {
                max_length: node.get("maxLength").and_then(Value::as_u64),
            },
            Some("integer") if node.get("format").and_then(Value::as_str) == Some("unix-time") => {
                StripeType::UnixTime
            }
            Some("integer") => StripeType::Integer,
            Some("number") => StripeType::Number,
            Some("boolean") => StripeType::Boolean,
            Some("array") => StripeType::Array,
            Some("object") if is_free_form(node) => StripeType::FreeForm,
            Some("object") => StripeType::Object(
                node.get("title")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            ),
            _ if node.get("properties").is_some() => StripeType::Object(String::new()),
            _ => StripeType::Other,
        }
    }
}

struct Normal<'a> {
    node: &'a Value,
    nullable: bool,
    expandable: Option<Vec<String>>,
}

fn is_free_form(node: &Value) -> bool {
    node.get("type").and_then(Value::as_str) == Some("object")
        && node.get("properties").is_none()
        && node.get("additionalProperties").is_none()
}

/// The path text up to (not including) step `at`, e.g. `items.data[0]`.
fn prefix(steps: &[Step], at: usize) -> String {
    let mut out = String::new();
    for step in &steps[..at] {
        match step {
            Step::Key(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
            Step::Each => out.push_str("[*]"),
        }
    }
    out
}

fn text_prefix(text: &str, at: usize) -> String {
    match PathExpr::parse(text) {
        Ok(path) => prefix(&path.steps, at),
        Err(_) => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec::from_json(&json!({"components": {"schemas": {
            "thing": {
                "type": "object",
                "title": "Thing",
                "required": ["id", "items"],
                "properties": {
                    "id": {"type": "string", "maxLength": 5000},
                    "status": {"type": "string", "enum": ["a", "b"], "nullable": true},
                    "owner": {"anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/thing"}],
                              "x-expansionResources": {"oneOf": [{"$ref": "#/components/schemas/thing"}]}},
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/item"}},
                    "detail": {"anyOf": [{"$ref": "#/components/schemas/item"}], "nullable": true},
                    "metadata": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            },
            "item": {
                "type": "object",
                "required": ["amount"],
                "properties": {"amount": {"type": "integer"}, "at": {"type": "integer", "format": "unix-time"}}
            }
        }}}))
        .unwrap()
    }

    fn resolve(path: &str) -> Result<Resolved, String> {
        let spec = spec();
        let schema = spec.schema("thing").unwrap().clone();
        let scope = Scope {
            object: &schema,
            parent: None,
            free_form: None,
        };
        spec.resolve(&scope, &PathExpr::parse(path).unwrap())
    }

    #[test]
    fn resolves_types_and_absence() {
        let id = resolve("id").unwrap();
        assert_eq!(
            id.ty,
            StripeType::String {
                max_length: Some(5000)
            }
        );
        assert!(!id.optional);
        let status = resolve("status").unwrap();
        assert_eq!(status.ty, StripeType::Enum(vec!["a".into(), "b".into()]));
        assert!(status.optional);
        let amount = resolve("items[0].amount").unwrap();
        assert_eq!(amount.ty, StripeType::Integer);
        assert!(amount.optional);
        let sum = resolve("items[*].amount").unwrap();
        assert!(!sum.optional);
        assert_eq!(resolve("detail.at").unwrap().ty, StripeType::UnixTime);
        assert!(resolve("detail.amount").unwrap().optional);
        assert!(resolve("metadata.anything").unwrap().optional);
        assert!(matches!(
            resolve("owner").unwrap().ty,
            StripeType::Expandable(_)
        ));
    }

    #[test]
    fn refuses_what_does_not_exist() {
        assert!(
            resolve("nope")
                .unwrap_err()
                .contains("`Thing` has no property `nope`")
        );
        assert!(resolve("owner.id").unwrap_err().contains("expandable"));
        assert!(resolve("id[0]").unwrap_err().contains("not an array"));
    }
}
