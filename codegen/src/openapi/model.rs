//! The Rust shape of a spec: named types, their fields and the client operations, before any
//! code is written. Built once from the spec and the selection; [`super::generate`] prints it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use heck::ToSnakeCase;
use serde_json::Value;

use super::Error;
use super::naming;
use super::selection::{HttpMethod, Selection};
use super::spec::{self, X_EXPANSION_RESOURCES};

/// Fields whose estimated size exceeds this many bytes are boxed, keeping resources small.
const BOX_ABOVE_BYTES: usize = 256;

/// Where a generated type lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Module {
    /// Resources and what they contain, at the crate root.
    Types,
    /// Request parameters, in `crate::params`.
    Params,
}

/// A Rust type, before printing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Ty {
    String,
    I64,
    F64,
    Bool,
    /// `serde_json::Value`.
    Json,
    /// `serde_json::Map<String, serde_json::Value>`.
    JsonObject,
    /// `crate::Opaque`: an object of a type outside the generated selection.
    Opaque,
    Named(Module, String),
    Vec(Box<Ty>),
    /// `BTreeMap<String, T>`.
    Map(Box<Ty>),
    /// `crate::Expandable<T>`.
    Expandable(Box<Ty>),
    /// `crate::Unsettable<T>`.
    Unsettable(Box<Ty>),
    /// `crate::client::List<T>`, the page of a list operation.
    List(Box<Ty>),
}

/// One field of a struct.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// Rust identifier text (maybe `r#type`).
    pub ident: String,
    /// The property name in JSON.
    pub json_name: String,
    pub ty: Ty,
    /// Always present in a response; mandatory in a request.
    pub required: bool,
    /// May be `null`.
    pub nullable: bool,
    /// Stored behind a `Box` (recursion or size).
    pub boxed: bool,
}

impl Field {
    /// Whether the field is an `Option` in Rust.
    pub fn optional(&self) -> bool {
        !self.required || self.nullable
    }
}

/// One variant of an object union: chosen by the payload's `object` (and `deleted`) value, or
/// (untagged unions) by being the first whose required fields are all there.
#[derive(Debug, Clone)]
pub(crate) struct UnionVariant {
    pub name: String,
    /// `None` in an untagged union.
    pub tag: Option<String>,
    pub deleted: bool,
    pub type_name: String,
    /// Has a string `id`, so the union can implement `Identified`.
    pub identified: bool,
}

/// A struct's string `id` field, which makes it `Identified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdField {
    /// Always present.
    Required,
    /// Absent for some objects (an upcoming invoice has no id yet).
    Optional,
}

/// The body of a generated type.
#[derive(Debug, Clone)]
pub(crate) enum DefKind {
    Struct {
        fields: Vec<Field>,
        /// Has a string `id`: implements `Identified`.
        identified: Option<IdField>,
    },
    /// A string enum: `(variant, value)`, plus an `Unknown(String)` variant.
    Enum { values: Vec<(String, String)> },
    /// Objects told apart by their `object` tag (or tried in order when `tagged` is false), plus
    /// `Unknown(serde_json::Value)`.
    Union {
        variants: Vec<UnionVariant>,
        tagged: bool,
    },
    /// Request alternatives serialized untagged: `(variant, type)`.
    Untagged { variants: Vec<(String, Ty)> },
}

/// A generated type.
#[derive(Debug, Clone)]
pub(crate) struct Def {
    pub module: Module,
    pub name: String,
    /// Its one-line doc comment: where in the spec it comes from.
    pub doc: String,
    pub kind: DefKind,
    /// Needs `Serialize` (request side).
    pub serialize: bool,
}

/// A path parameter of an operation.
#[derive(Debug, Clone)]
pub(crate) struct PathParam {
    pub ident: String,
    pub name: String,
}

/// A client method.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub method_name: String,
    pub http: HttpMethod,
    pub path: String,
    pub path_params: Vec<PathParam>,
    /// The params struct, if the operation takes parameters besides `expand`.
    pub params: Option<String>,
    pub response: Ty,
    /// Item type of a list operation whose items have ids: gets a `_paginate` method.
    pub paginate: Option<Ty>,
}

/// Everything to generate.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub defs: Vec<Def>,
    pub operations: Vec<Operation>,
}

/// Names of the event types, reserved for that use.
pub(crate) const EVENT_TYPE: &str = "EventType";
pub(crate) const EVENT_OBJECT: &str = "EventObject";

/// Naming context of a type: the name it gets and where it is, for its doc comment.
#[derive(Clone)]
struct Ctx {
    module: Module,
    /// The name of the type being defined here.
    name: String,
    /// What names of types nested here start with (usually `name`).
    prefix: String,
    /// The top-level thing, as a phrase: "the `customer` object".
    root: String,
    /// The property path below `root`, e.g. `tax_ids[]`; empty at the top.
    path: String,
    /// The property name, when the schema is a property.
    property: Option<String>,
}

impl Ctx {
    fn new(module: Module, name: &str, root: String) -> Ctx {
        Ctx {
            module,
            name: name.to_owned(),
            prefix: name.to_owned(),
            root,
            path: String::new(),
            property: None,
        }
    }

    /// A one-line doc for the type defined here.
    fn doc(&self) -> String {
        if self.path.is_empty() {
            let mut root = self.root.clone();
            if let Some(first) = root.get(..1) {
                let upper = first.to_uppercase();
                root.replace_range(..1, &upper);
            }
            format!("{root}.")
        } else {
            format!("`{}` in {}.", self.path, self.root)
        }
    }

    /// The same place under another type name.
    fn renamed(&self, name: &str) -> Ctx {
        Ctx {
            name: name.to_owned(),
            prefix: name.to_owned(),
            property: None,
            ..self.clone()
        }
    }

    fn child(&self, property: &str) -> Ctx {
        let name = format!("{}{}", self.prefix, naming::type_name(property));
        Ctx {
            module: self.module,
            prefix: name.clone(),
            name,
            root: self.root.clone(),
            path: if self.path.is_empty() {
                property.to_owned()
            } else {
                format!("{}.{property}", self.path)
            },
            property: Some(property.to_owned()),
        }
    }

    fn item(&self) -> Ctx {
        let name = match &self.property {
            Some(property) => {
                let base = self
                    .name
                    .strip_suffix(&naming::type_name(property))
                    .unwrap_or(&self.name);
                format!("{base}{}", naming::type_name(&naming::singular(property)))
            }
            None => format!("{}Item", self.name),
        };
        Ctx {
            module: self.module,
            prefix: name.clone(),
            name,
            root: self.root.clone(),
            path: format!("{}[]", self.path),
            property: None,
        }
    }

    fn suffixed(&self, suffix: &str, path_suffix: &str) -> Ctx {
        let name = format!("{}{suffix}", self.name);
        Ctx {
            module: self.module,
            prefix: name.clone(),
            name,
            root: self.root.clone(),
            path: format!("{}{path_suffix}", self.path),
            property: None,
        }
    }
}

struct Builder<'a> {
    schemas: &'a serde_json::Map<String, Value>,
    /// Type of each component schema (`Named` for those that get a definition).
    components: BTreeMap<&'a str, Ty>,
    /// Names given to component schemas, taken before their definitions exist.
    component_names: BTreeSet<String>,
    defs: BTreeMap<(Module, String), Def>,
    /// Unions by their sorted member types, to share one per set of alternatives.
    unions: HashMap<Vec<String>, String>,
    /// Inline objects named after their `title`, with their schema, to reuse identical ones.
    titled: HashMap<String, Value>,
    /// Property types forced by the event support: `(schema, property)`.
    overrides: HashMap<(String, String), Ty>,
}

/// Builds the model of `spec_json` for `selection`.
pub(crate) fn build(spec_json: &Value, selection: &Selection) -> Result<Model, Error> {
    let schemas = spec::schemas(spec_json)?;
    let mut builder = Builder {
        schemas,
        components: BTreeMap::new(),
        component_names: BTreeSet::new(),
        defs: BTreeMap::new(),
        unions: HashMap::new(),
        titled: HashMap::new(),
        overrides: HashMap::new(),
    };
    let event_types = spec::event_types(spec_json);
    if let Some(name) = selection.events.iter().find(|e| !event_types.contains(e)) {
        return Err(Error::MissingEvent { name: name.clone() });
    }
    if let Some(name) = selection
        .resources
        .iter()
        .find(|r| !schemas.contains_key(*r))
    {
        return Err(Error::MissingResource { name: name.clone() });
    }
    builder.name_components();
    let events = !event_types.is_empty();
    if events {
        builder.event_overrides();
        builder.insert(Def {
            module: Module::Types,
            name: EVENT_TYPE.to_owned(),
            doc: "The type of an event: every event type of the spec, or one added since."
                .to_owned(),
            kind: DefKind::Enum {
                values: enum_values(event_types.iter().map(String::as_str)),
            },
            serialize: true,
        });
    }
    builder.define_components()?;
    if events {
        builder.define_event_object();
    }

    let mut ops: Vec<_> = selection.operations.iter().collect();
    ops.sort();
    ops.dedup();
    let mut named = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for op in ops {
        let source = spec::operation(spec_json, op).ok_or_else(|| Error::MissingOperation {
            operation: op.to_string(),
        })?;
        let response_tag = spec::success_schema(source).and_then(|schema| {
            let schema = match spec::ref_target(schema) {
                Some(target) => schemas.get(target)?,
                None => schema,
            };
            spec::object_tag(schema)
        });
        let name = naming::operation_name(op.method, &op.path, response_tag);
        *counts.entry(name.clone()).or_default() += 1;
        named.push((op, source, name));
    }
    let mut operations = Vec::new();
    for (op, source, mut name) in named {
        if counts[&name] > 1 {
            // Two operations want one name: both fall back to the spec's operation id.
            name = match source.get("operationId").and_then(Value::as_str) {
                Some(id) => naming::field_name(id),
                None => naming::field_name(&format!("{} {}", op.method.as_lower(), op.path)),
            };
        }
        operations.push(builder.operation(op.method, &op.path, source, &name)?);
    }
    builder.mark_serialized();
    builder.box_fields();
    Ok(Model {
        defs: builder.defs.into_values().collect(),
        operations,
    })
}

/// Enum variants for string values: deduplicated, names made unique.
fn enum_values<'v>(values: impl Iterator<Item = &'v str>) -> Vec<(String, String)> {
    let mut seen_values = BTreeSet::new();
    let mut used = BTreeSet::new();
    let mut out = Vec::new();
    for value in values {
        if !seen_values.insert(value) {
            continue;
        }
        let base = naming::variant_name(value);
        let mut name = base.clone();
        let mut n = 2;
        while !used.insert(name.clone()) {
            name = format!("{base}{n}");
            n += 1;
        }
        out.push((name, value.to_owned()));
    }
    out
}

impl<'a> Builder<'a> {
    fn taken(&self, module: Module, name: &str) -> bool {
        self.defs.contains_key(&(module, name.to_owned()))
            || naming::RESERVED_TYPE_NAMES.contains(&name)
            || (module == Module::Types
                && (name == EVENT_TYPE
                    || name == EVENT_OBJECT
                    || self.component_names.contains(name)))
    }

    /// A free name: `base`, else `base2`, `base3`…
    fn free_name(&self, module: Module, base: &str) -> String {
        let mut name = base.to_owned();
        let mut n = 2;
        while self.taken(module, &name) {
            name = format!("{base}{n}");
            n += 1;
        }
        name
    }

    fn insert(&mut self, def: Def) {
        self.defs.insert((def.module, def.name.clone()), def);
    }

    /// Reserves a name with a placeholder while the definition is built.
    fn reserve(&mut self, module: Module, name: &str) {
        self.insert(Def {
            module,
            name: name.to_owned(),
            doc: String::new(),
            kind: DefKind::Struct {
                fields: Vec::new(),
                identified: None,
            },
            serialize: false,
        });
    }

    /// Decides the Rust type of every component schema before any is built.
    fn name_components(&mut self) {
        for (key, schema) in self.schemas {
            if spec::stripe_event_type(schema).is_some() {
                continue;
            }
            let defined = schema
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| !p.is_empty())
                || is_string_enum(schema)
                || schema.get("anyOf").is_some();
            let ty = if defined {
                let base = naming::type_name(key);
                let base = if self.taken(Module::Types, &base) {
                    format!("{base}Object")
                } else {
                    base
                };
                let name = self.free_name(Module::Types, &base);
                self.component_names.insert(name.clone());
                Ty::Named(Module::Types, name)
            } else {
                match schema.get("type").and_then(Value::as_str) {
                    Some("string") => Ty::String,
                    Some("integer") => Ty::I64,
                    Some("number") => Ty::F64,
                    Some("boolean") => Ty::Bool,
                    Some("object") => Ty::JsonObject,
                    _ => Ty::Json,
                }
            };
            self.components.insert(key, ty);
        }
    }

    /// `Event.type` is an [`EVENT_TYPE`], `Event.data.object` an [`EVENT_OBJECT`].
    fn event_overrides(&mut self) {
        let Some((event_key, event)) = self
            .schemas
            .iter()
            .filter(|(_, schema)| spec::object_tag(schema) == Some("event"))
            .min_by_key(|(key, _)| (key.as_str() != "event", key.as_str()))
        else {
            return;
        };
        self.overrides.insert(
            (event_key.clone(), "type".to_owned()),
            Ty::Named(Module::Types, EVENT_TYPE.to_owned()),
        );
        let data = event.pointer("/properties/data");
        let data_key = data.and_then(|d| {
            spec::ref_target(d).or_else(|| {
                d.get("anyOf")?
                    .as_array()?
                    .iter()
                    .find_map(spec::ref_target)
            })
        });
        if let Some(data_key) = data_key {
            self.overrides.insert(
                (data_key.to_owned(), "object".to_owned()),
                Ty::Named(Module::Types, EVENT_OBJECT.to_owned()),
            );
        }
    }

    fn define_components(&mut self) -> Result<(), Error> {
        let entries: Vec<(&'a str, Ty)> = self
            .components
            .iter()
            .map(|(k, ty)| (*k, ty.clone()))
            .collect();
        for (key, ty) in entries {
            let Ty::Named(_, name) = ty else { continue };
            let schema = &self.schemas[key];
            let root = match spec::object_tag(schema) {
                Some(tag) => format!("the `{tag}` object (schema `{key}`)"),
                None => format!("schema `{key}`"),
            };
            let ctx = Ctx::new(Module::Types, &name, root);
            if is_string_enum(schema) {
                self.define_enum(schema, &ctx, true);
            } else if schema.get("anyOf").is_some() && schema.get("properties").is_none() {
                let targets = ref_alternatives(schema);
                self.define_union(Some(&name), &ctx, &targets);
            } else {
                self.define_struct(schema, &ctx, Some(key))?;
            }
        }
        Ok(())
    }

    /// `EventObject`: every resource with an `object` tag and an `id`.
    fn define_event_object(&mut self) {
        let targets: Vec<&'a str> = self
            .schemas
            .iter()
            .filter(|(key, schema)| {
                spec::object_tag(schema).is_some_and(|tag| tag != "list" && tag != "search_result")
                    && schema.pointer("/properties/id").is_some()
                    && matches!(self.components.get(key.as_str()), Some(Ty::Named(..)))
            })
            .map(|(key, _)| key.as_str())
            .collect();
        let ctx = Ctx::new(
            Module::Types,
            EVENT_OBJECT,
            "the object of an event (`data.object`)".to_owned(),
        );
        self.define_union(Some(EVENT_OBJECT), &ctx, &targets);
    }

    fn ref_ty(&self, target: &str) -> Ty {
        self.components.get(target).cloned().unwrap_or(Ty::Json)
    }

    fn ty_of(&mut self, schema: &Value, ctx: &Ctx) -> Result<Ty, Error> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            return match spec::ref_target(schema) {
                Some(target) if self.schemas.contains_key(target) => Ok(self.ref_ty(target)),
                _ => Err(Error::BadReference {
                    reference: reference.to_owned(),
                    context: ctx.doc(),
                }),
            };
        }
        if schema.get("anyOf").is_some() {
            return self.any_of(schema, ctx);
        }
        let ty = match schema.get("type").and_then(Value::as_str) {
            Some("string") if is_string_enum(schema) => {
                let single = schema["enum"].as_array().is_some_and(|v| v.len() == 1);
                if ctx.module == Module::Types
                    && single
                    && ctx.property.as_deref() == Some("object")
                {
                    Ty::String
                } else {
                    self.define_enum(schema, ctx, false)
                }
            }
            Some("string") => Ty::String,
            Some("integer") => Ty::I64,
            Some("number") => Ty::F64,
            Some("boolean") => Ty::Bool,
            Some("array") => match schema.get("items") {
                Some(items) => Ty::Vec(Box::new(self.ty_of(items, &ctx.item())?)),
                None => Ty::Vec(Box::new(Ty::Json)),
            },
            Some("object") | None => {
                let has_properties = schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| !p.is_empty());
                if has_properties {
                    self.inline_struct(schema, ctx)?
                } else if let Some(values) =
                    schema.get("additionalProperties").filter(|v| v.is_object())
                {
                    Ty::Map(Box::new(self.ty_of(values, &ctx.suffixed("Value", "[*]"))?))
                } else if schema.get(spec::TRIMMED).is_some() {
                    Ty::Opaque
                } else if schema.get("type").is_some() {
                    Ty::JsonObject
                } else {
                    Ty::Json
                }
            }
            Some(_) => Ty::Json,
        };
        Ok(ty)
    }

    fn any_of(&mut self, schema: &Value, ctx: &Ctx) -> Result<Ty, Error> {
        let alternatives: Vec<&Value> = schema["anyOf"].as_array().into_iter().flatten().collect();
        if schema.get(X_EXPANSION_RESOURCES).is_some() {
            let objects: Vec<&Value> = alternatives
                .iter()
                .copied()
                .filter(|a| a.get("type").and_then(Value::as_str) != Some("string"))
                .collect();
            let typed: Vec<&str> = objects.iter().filter_map(|a| spec::ref_target(a)).collect();
            let inner = match typed.as_slice() {
                [] => Ty::Opaque,
                [only] if objects.len() == 1 => self.ref_ty(only),
                _ => self.define_union(None, &ctx.suffixed("Object", ""), &typed),
            };
            return Ok(Ty::Expandable(Box::new(inner)));
        }
        let is_empty_string = |a: &Value| {
            a.get("enum")
                .and_then(Value::as_array)
                .is_some_and(|values| values.as_slice() == [Value::String(String::new())])
        };
        let unsettable = alternatives.iter().any(|a| is_empty_string(a));
        let rest: Vec<&Value> = alternatives
            .iter()
            .copied()
            .filter(|a| !is_empty_string(a))
            .collect();
        let ty = match rest.as_slice() {
            [] => Ty::String,
            [only] => self.ty_of(only, ctx)?,
            _ if rest.iter().all(|a| spec::ref_target(a).is_some()) => {
                let targets: Vec<&str> = rest.iter().filter_map(|a| spec::ref_target(a)).collect();
                self.define_union(None, ctx, &targets)
            }
            _ if ctx.module == Module::Params => self.define_untagged(&rest, ctx)?,
            _ => Ty::Json,
        };
        Ok(if unsettable && ctx.module == Module::Params {
            Ty::Unsettable(Box::new(ty))
        } else {
            ty
        })
    }

    /// A string enum named `ctx.name` when `fixed` (a component's own name), else a free name
    /// based on it.
    fn define_enum(&mut self, schema: &Value, ctx: &Ctx, fixed: bool) -> Ty {
        let values = enum_values(
            schema["enum"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        );
        let name = if fixed {
            ctx.name.clone()
        } else {
            self.free_name(ctx.module, &ctx.name)
        };
        self.insert(Def {
            module: ctx.module,
            name: name.clone(),
            doc: ctx.doc(),
            kind: DefKind::Enum { values },
            serialize: true,
        });
        Ty::Named(ctx.module, name)
    }

    /// A union of objects: told apart by their `object` tag when every alternative has one,
    /// otherwise tried in order (most required fields first). With `fixed`, it gets exactly that
    /// name; otherwise fields with the same alternatives share one union.
    fn define_union(&mut self, fixed: Option<&str>, ctx: &Ctx, targets: &[&str]) -> Ty {
        let mut members: Vec<&str> = targets
            .iter()
            .copied()
            .filter(|t| matches!(self.components.get(t), Some(Ty::Named(..))))
            .collect();
        members.sort();
        members.dedup();
        let mut type_names: Vec<String> = members
            .iter()
            .filter_map(|t| match self.components.get(t) {
                Some(Ty::Named(_, name)) => Some(name.clone()),
                _ => None,
            })
            .collect();
        type_names.sort();
        if fixed.is_none()
            && let Some(name) = self.unions.get(&type_names)
        {
            return Ty::Named(Module::Types, name.clone());
        }
        let joined = type_names.join("Or");
        let name = match fixed {
            Some(name) => name.to_owned(),
            // One typed alternative, the others outside the generated types.
            None if type_names.len() == 1 => {
                self.free_name(Module::Types, &format!("{joined}OrOther"))
            }
            None if (2..=3).contains(&type_names.len()) && joined.len() <= 40 => {
                self.free_name(Module::Types, &joined)
            }
            None if self.taken(Module::Types, &ctx.name) => {
                self.free_name(Module::Types, &format!("{}Union", ctx.name))
            }
            None => ctx.name.clone(),
        };
        let tagged = members
            .iter()
            .all(|t| spec::object_tag(&self.schemas[*t]).is_some());
        if !tagged {
            // Tried in order: the alternatives that require more come first.
            let required = |t: &str| {
                let schema = &self.schemas[t];
                let count = |key: &str| {
                    schema
                        .get(key)
                        .and_then(|v| {
                            v.as_array()
                                .map(Vec::len)
                                .or(v.as_object().map(|o| o.len()))
                        })
                        .unwrap_or(0)
                };
                (
                    std::cmp::Reverse(count("required")),
                    std::cmp::Reverse(count("properties")),
                )
            };
            members.sort_by_key(|t| (required(t), *t));
        }
        let mut variants: Vec<UnionVariant> = Vec::new();
        for target in members {
            let schema = &self.schemas[target];
            let Some(Ty::Named(_, type_name)) = self.components.get(target) else {
                continue;
            };
            let tag = spec::object_tag(schema).filter(|_| tagged);
            let deleted = spec::is_deleted_object(schema);
            if tag.is_some()
                && variants
                    .iter()
                    .any(|v| v.tag.as_deref() == tag && v.deleted == deleted)
            {
                continue;
            }
            variants.push(UnionVariant {
                name: type_name.clone(),
                tag: tag.map(str::to_owned),
                deleted,
                type_name: type_name.clone(),
                identified: id_field(schema).is_some(),
            });
        }
        // A shared union is documented by what it holds, not by the first field that used it.
        let doc = match fixed {
            Some(_) => ctx.doc(),
            None => {
                let names: Vec<String> = type_names.iter().map(|n| format!("[`{n}`]")).collect();
                format!("One of {}.", names.join(", "))
            }
        };
        self.insert(Def {
            module: Module::Types,
            name: name.clone(),
            doc,
            kind: DefKind::Union { variants, tagged },
            serialize: false,
        });
        if name != EVENT_OBJECT {
            self.unions
                .entry(type_names)
                .or_insert_with(|| name.clone());
        }
        Ty::Named(Module::Types, name)
    }

    /// Request alternatives of different kinds (`integer` or range object, …), serialized untagged.
    fn define_untagged(&mut self, alternatives: &[&Value], ctx: &Ctx) -> Result<Ty, Error> {
        let name = self.free_name(ctx.module, &ctx.name);
        self.reserve(ctx.module, &name);
        let base = ctx.renamed(&name);
        let mut variants: Vec<(String, Ty)> = Vec::new();
        for alternative in alternatives {
            let kind = match alternative.get("type").and_then(Value::as_str) {
                _ if alternative.get("$ref").is_some() => "Object".to_owned(),
                Some("string") if is_string_enum(alternative) => "Keyword".to_owned(),
                Some("string") => "String".to_owned(),
                Some("integer") => "Integer".to_owned(),
                Some("number") => "Number".to_owned(),
                Some("boolean") => "Boolean".to_owned(),
                Some("array") => "List".to_owned(),
                _ => match alternative.get("title").and_then(Value::as_str) {
                    Some(title) => naming::type_name(title),
                    None => "Object".to_owned(),
                },
            };
            let mut variant = kind.clone();
            let mut n = 2;
            while variants.iter().any(|(v, _)| *v == variant) {
                variant = format!("{kind}{n}");
                n += 1;
            }
            let variant_ctx = base.suffixed(&variant, &format!(" ({})", variant.to_snake_case()));
            let ty = self.ty_of(alternative, &variant_ctx)?;
            variants.push((variant, ty));
        }
        self.insert(Def {
            module: ctx.module,
            name: name.clone(),
            doc: ctx.doc(),
            kind: DefKind::Untagged { variants },
            serialize: true,
        });
        Ok(Ty::Named(ctx.module, name))
    }

    /// An inline object: on the response side named after its `title` when that is free or
    /// names an identical object; otherwise after where it is.
    fn inline_struct(&mut self, schema: &Value, ctx: &Ctx) -> Result<Ty, Error> {
        if ctx.module == Module::Types
            && let Some(title) = schema.get("title").and_then(Value::as_str)
        {
            let name = naming::type_name(title);
            if let Some(existing) = self.titled.get(&name) {
                if existing == schema {
                    return Ok(Ty::Named(Module::Types, name));
                }
            } else if !self.taken(Module::Types, &name) {
                self.titled.insert(name.clone(), schema.clone());
                self.define_struct(schema, &ctx.renamed(&name), None)?;
                return Ok(Ty::Named(Module::Types, name));
            }
        }
        let name = self.free_name(ctx.module, &ctx.name);
        self.define_struct(schema, &ctx.renamed(&name), None)?;
        Ok(Ty::Named(ctx.module, name))
    }

    /// A struct named `ctx.name`; nested types are named after `ctx.prefix`.
    fn define_struct(
        &mut self,
        schema: &Value,
        ctx: &Ctx,
        component: Option<&str>,
    ) -> Result<(), Error> {
        self.reserve(ctx.module, &ctx.name);
        let required: BTreeSet<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut properties: Vec<(&String, &Value)> = schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .collect();
        properties.sort_by(|a, b| a.0.cmp(b.0));
        let mut fields = Vec::new();
        let mut idents = BTreeSet::new();
        for (property, property_schema) in properties {
            if ctx.module == Module::Params && property == "expand" {
                continue;
            }
            let forced =
                component.and_then(|c| self.overrides.get(&(c.to_owned(), property.clone())));
            let ty = match forced {
                Some(ty) => ty.clone(),
                None => self.ty_of(property_schema, &ctx.child(property))?,
            };
            let mut ident = naming::field_name(property);
            while !idents.insert(ident.clone()) {
                ident.push('_');
            }
            fields.push(Field {
                ident,
                json_name: property.clone(),
                ty,
                required: required.contains(property.as_str()),
                nullable: property_schema.get("nullable").and_then(Value::as_bool) == Some(true),
                boxed: false,
            });
        }
        let identified = id_field(schema).filter(|_| ctx.module == Module::Types);
        self.insert(Def {
            module: ctx.module,
            name: ctx.name.clone(),
            doc: ctx.doc(),
            kind: DefKind::Struct { fields, identified },
            serialize: ctx.module == Module::Params,
        });
        Ok(())
    }

    fn operation(
        &mut self,
        http: HttpMethod,
        path: &str,
        op: &Value,
        method_name: &str,
    ) -> Result<Operation, Error> {
        let camel = naming::type_name(method_name);
        let endpoint = format!("`{} {path}`", http.as_upper());
        let mut path_params = Vec::new();
        for segment in path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                path_params.push(PathParam {
                    ident: naming::field_name(name),
                    name: name.to_owned(),
                });
            }
        }
        // Query parameters and body properties (without `expand`) as one object.
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        let parameters = op.get("parameters").and_then(Value::as_array);
        for parameter in parameters.into_iter().flatten() {
            let (Some(name), Some("query")) = (
                parameter.get("name").and_then(Value::as_str),
                parameter.get("in").and_then(Value::as_str),
            ) else {
                continue;
            };
            if name == "expand" {
                continue;
            }
            let schema = parameter.get("schema").cloned().unwrap_or(Value::Null);
            properties.insert(name.to_owned(), schema);
            if parameter.get("required").and_then(Value::as_bool) == Some(true) {
                required.push(Value::String(name.to_owned()));
            }
        }
        if let Some(body) = spec::request_body_schema(op) {
            let body_properties = body.get("properties").and_then(Value::as_object);
            for (name, property) in body_properties.into_iter().flatten() {
                if name != "expand" {
                    properties.insert(name.clone(), property.clone());
                }
            }
            let body_required = body.get("required").and_then(Value::as_array);
            required.extend(body_required.into_iter().flatten().cloned());
        }
        let params = if properties.is_empty() {
            None
        } else {
            let merged = serde_json::json!({
                "type": "object",
                "properties": properties,
                "required": required,
            });
            let name = self.free_name(Module::Params, &format!("{camel}Params"));
            // The struct is `{Operation}Params`; the types nested in it `{Operation}{Field}`.
            let ctx = Ctx {
                prefix: camel.clone(),
                ..Ctx::new(
                    Module::Params,
                    &name,
                    format!("the parameters of {endpoint}"),
                )
            };
            self.define_struct(&merged, &ctx, None)?;
            Some(name)
        };
        let (response, paginate) = match spec::success_schema(op) {
            Some(schema) if is_list_object(schema) => {
                let item_ctx = Ctx::new(
                    Module::Types,
                    &format!("{camel}Item"),
                    format!("an item of the list {endpoint} returns"),
                );
                let item = match schema.pointer("/properties/data/items") {
                    Some(items) => self.ty_of(items, &item_ctx)?,
                    None => Ty::Json,
                };
                let paginate =
                    (http == HttpMethod::Get && self.is_identified(&item)).then(|| item.clone());
                (Ty::List(Box::new(item)), paginate)
            }
            Some(schema) => {
                let response_ctx = Ctx::new(
                    Module::Types,
                    &format!("{camel}Response"),
                    format!("the response of {endpoint}"),
                );
                (self.ty_of(schema, &response_ctx)?, None)
            }
            None => (Ty::Json, None),
        };
        Ok(Operation {
            method_name: method_name.to_owned(),
            http,
            path: path.to_owned(),
            path_params,
            params,
            response,
            paginate,
        })
    }

    fn is_identified(&self, ty: &Ty) -> bool {
        let Ty::Named(module, name) = ty else {
            return false;
        };
        match self.defs.get(&(*module, name.clone())).map(|d| &d.kind) {
            Some(DefKind::Struct { identified, .. }) => identified.is_some(),
            Some(DefKind::Union { variants, .. }) => {
                !variants.is_empty() && variants.iter().all(|v| v.identified)
            }
            _ => false,
        }
    }

    /// Types reachable from request parameters need `Serialize`.
    fn mark_serialized(&mut self) {
        let mut pending: Vec<(Module, String)> = self
            .defs
            .values()
            .filter(|d| d.serialize && !matches!(d.kind, DefKind::Enum { .. }))
            .map(|d| (d.module, d.name.clone()))
            .collect();
        let mut seen = BTreeSet::new();
        while let Some(key) = pending.pop() {
            if !seen.insert(key.clone()) {
                continue;
            }
            let Some(def) = self.defs.get_mut(&key) else {
                continue;
            };
            def.serialize = true;
            let mut named = Vec::new();
            match &def.kind {
                DefKind::Struct { fields, .. } => {
                    fields.iter().for_each(|f| named_in(&f.ty, &mut named))
                }
                DefKind::Untagged { variants } => {
                    variants.iter().for_each(|(_, t)| named_in(t, &mut named))
                }
                DefKind::Union { variants, .. } => variants
                    .iter()
                    .for_each(|v| named.push((Module::Types, v.type_name.clone()))),
                DefKind::Enum { .. } => {}
            }
            pending.extend(named);
        }
    }

    /// Boxes fields that close a cycle of directly contained structs, then fields whose type is
    /// estimated larger than [`BOX_ABOVE_BYTES`].
    fn box_fields(&mut self) {
        let keys: Vec<(Module, String)> = self.defs.keys().cloned().collect();
        let index: HashMap<&(Module, String), usize> =
            keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); keys.len()];
        for (i, key) in keys.iter().enumerate() {
            if let DefKind::Struct { fields, .. } = &self.defs[key].kind {
                for field in fields {
                    if let Some(j) = direct_named(&field.ty).and_then(|t| index.get(&t)) {
                        edges[i].push(*j);
                    }
                }
            }
        }
        let component = strongly_connected(&edges);
        for (i, key) in keys.iter().enumerate() {
            let def = self.defs.get_mut(key).expect("key from the map");
            if let DefKind::Struct { fields, .. } = &mut def.kind {
                for field in fields.iter_mut() {
                    if let Some(j) = direct_named(&field.ty).and_then(|t| index.get(&t))
                        && component[*j] == component[i]
                    {
                        field.boxed = true;
                    }
                }
            }
        }
        let mut sizes: HashMap<(Module, String), usize> = HashMap::new();
        for key in &keys {
            self.size_of_def(key, &mut sizes);
        }
    }

    /// Estimated size of a definition, boxing its large fields on the way.
    fn size_of_def(
        &mut self,
        key: &(Module, String),
        sizes: &mut HashMap<(Module, String), usize>,
    ) -> usize {
        if let Some(size) = sizes.get(key) {
            return *size;
        }
        // Provisional value, reached only through fields already boxed for recursion.
        sizes.insert(key.clone(), 8);
        let kind = self.defs[key].kind.clone();
        let size = match kind {
            DefKind::Struct {
                mut fields,
                identified,
            } => {
                let mut total = 0;
                for field in fields.iter_mut() {
                    let mut size = if field.boxed {
                        8
                    } else {
                        self.size_of_ty(&field.ty, sizes)
                    };
                    if !field.boxed && size > BOX_ABOVE_BYTES && direct_named(&field.ty).is_some() {
                        field.boxed = true;
                        size = 8;
                    }
                    total += if field.optional() {
                        option_size(&field.ty, size, field.boxed)
                    } else {
                        size
                    };
                }
                self.defs.get_mut(key).expect("present").kind =
                    DefKind::Struct { fields, identified };
                total.max(1)
            }
            DefKind::Enum { .. } => 24,
            DefKind::Union { .. } => 40,
            DefKind::Untagged { variants } => {
                let largest = variants
                    .iter()
                    .map(|(_, ty)| self.size_of_ty(ty, sizes))
                    .max()
                    .unwrap_or(0);
                8 + largest
            }
        };
        sizes.insert(key.clone(), size);
        size
    }

    fn size_of_ty(&mut self, ty: &Ty, sizes: &mut HashMap<(Module, String), usize>) -> usize {
        match ty {
            Ty::String | Ty::Vec(_) | Ty::Map(_) | Ty::JsonObject | Ty::Expandable(_) => 24,
            Ty::Json | Ty::Opaque => 32,
            Ty::I64 | Ty::F64 => 8,
            Ty::Bool => 1,
            Ty::List(_) => 56,
            Ty::Unsettable(inner) => 8 + self.size_of_ty(inner, sizes),
            Ty::Named(module, name) => {
                let key = (*module, name.clone());
                if self.defs.contains_key(&key) {
                    self.size_of_def(&key, sizes)
                } else {
                    24
                }
            }
        }
    }
}

/// Size of `Option<T>` given the size of `T`.
fn option_size(ty: &Ty, size: usize, boxed: bool) -> usize {
    if boxed {
        return 8;
    }
    match ty {
        Ty::I64 | Ty::F64 => 16,
        Ty::Bool => 1,
        Ty::Named(..) | Ty::Unsettable(_) => size + 8,
        _ => size,
    }
}

/// The named type a field holds directly (not behind a pointer): `T` or `Unsettable<T>`.
fn direct_named(ty: &Ty) -> Option<(Module, String)> {
    match ty {
        Ty::Named(module, name) => Some((*module, name.clone())),
        Ty::Unsettable(inner) => direct_named(inner),
        _ => None,
    }
}

/// Every named type inside a type.
fn named_in(ty: &Ty, out: &mut Vec<(Module, String)>) {
    match ty {
        Ty::Named(module, name) => out.push((*module, name.clone())),
        Ty::Vec(inner)
        | Ty::Map(inner)
        | Ty::Expandable(inner)
        | Ty::Unsettable(inner)
        | Ty::List(inner) => named_in(inner, out),
        _ => {}
    }
}

/// Tarjan's algorithm: the strongly connected component of every node.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<usize> {
    struct State<'e> {
        edges: &'e [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        component: Vec<usize>,
        components: usize,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.edges[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                s.component[w] = s.components;
                if w == v {
                    break;
                }
            }
            s.components += 1;
        }
    }
    let n = edges.len();
    let mut state = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        component: vec![0; n],
        components: 0,
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(&mut state, v);
        }
    }
    // A node alone in its component is only "in a cycle" with itself if it has a self edge; the
    // caller compares components of both ends of an edge, which covers self edges too.
    state.component
}

fn is_string_enum(schema: &Value) -> bool {
    schema
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().all(Value::is_string))
        && schema
            .get("type")
            .and_then(Value::as_str)
            .is_none_or(|t| t == "string")
}

fn ref_alternatives(schema: &Value) -> Vec<&str> {
    schema["anyOf"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(spec::ref_target)
        .collect()
}

/// Whether a schema has a string `id` (not nullable), and whether it is required.
fn id_field(schema: &Value) -> Option<IdField> {
    let id = schema.pointer("/properties/id")?;
    if id.get("type").and_then(Value::as_str) != Some("string")
        || id.get("nullable").and_then(Value::as_bool) == Some(true)
    {
        return None;
    }
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|v| v == "id"));
    Some(if required {
        IdField::Required
    } else {
        IdField::Optional
    })
}

fn is_list_object(schema: &Value) -> bool {
    schema
        .pointer("/properties/object/enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.as_slice() == [Value::String("list".to_owned())])
        && schema
            .pointer("/properties/data/type")
            .and_then(Value::as_str)
            == Some("array")
}
