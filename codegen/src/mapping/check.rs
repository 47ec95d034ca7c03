//! Checks a mapping file against Stripe's spec and the Salesforce model, and turns it into a
//! [`Plan`]. Every problem is collected, each with its line, so one build shows all of them.

use std::collections::BTreeSet;
use std::ops::Range;

use serde_json::Value;
use toml::Spanned;

use super::error::{MappingError, Problem, line_of};
use super::file::{RawField, RawFile, RawKey, RawMapping};
use super::path::{PathExpr, Root};
use super::plan::{
    Absent, Const, ContextField, Convert, Derived, FieldPlan, FormatPart, InputKind, KeyPlan,
    KeySource, Limits, MappingPlan, Plan, Read, Source, Target, TemplatePart, TemplateStyle,
};
use super::spec::{Resolved, Scope, Spec, StripeType};
use crate::sfdc::naming;
use crate::sfdc::{Computed, Field, FieldType, Model, Object, PermissionSet};

/// The permission set every written field must be granted by.
pub const PERMISSION_SET: &str = "Stripe_Integration_User";

/// Most decimal places Stripe gives a decimal string amount (`unit_amount_decimal`).
const DECIMAL_STRING_PLACES: u32 = 12;
/// Most decimal places of a currency's minor unit in Stripe (three-decimal currencies).
const MAX_CURRENCY_EXPONENT: u32 = 3;

/// Checks the mapping file `text` (named `file` in messages) against the spec JSON and the
/// model, returning the plan or every problem found.
pub fn check(file: &str, text: &str, spec: &Value, model: &Model) -> Result<Plan, MappingError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |span| line_of(text, span.start));
        MappingError::Problems(vec![Problem {
            file: file.to_string(),
            line,
            mapping: None,
            field: None,
            message: e.message().trim().to_string(),
        }])
    })?;
    let event_types = crate::openapi::event_types(spec);
    let mut spec = Spec::from_json(spec).map_err(|message| MappingError::Read {
        path: "the Stripe spec".into(),
        message,
    })?;
    let mut free_form: Vec<String> = Vec::new();
    for mapping in &raw.mappings {
        let stripe = mapping.get_ref().stripe.get_ref();
        if stripe != "event" && spec.has_schema(stripe) && !free_form.contains(stripe) {
            free_form.push(stripe.clone());
        }
    }
    spec.set_free_form(free_form);
    let mut checker = Checker {
        file,
        text,
        spec: &spec,
        model,
        permission_set: model.permission_set(PERMISSION_SET),
        limits: Limits {
            max_amount: *raw.limits.get_ref().max_amount.get_ref(),
            max_count: *raw.limits.get_ref().max_count.get_ref(),
        },
        problems: Vec::new(),
        mapping: String::new(),
        event_types,
    };
    checker.check_limits(&raw);
    if checker.permission_set.is_none() {
        checker.problems.push(Problem {
            file: file.to_string(),
            line: 0,
            mapping: None,
            field: None,
            message: format!("the Salesforce model has no permission set `{PERMISSION_SET}`"),
        });
    }
    let mut names = BTreeSet::new();
    let mut mappings = Vec::new();
    for mapping in &raw.mappings {
        let name = mapping.get_ref().name.get_ref();
        checker.mapping = name.clone();
        if !names.insert(name.clone()) {
            checker.at(
                mapping.get_ref().name.span(),
                None,
                format!("the name `{name}` is used by an earlier mapping"),
            );
        }
        if let Some(plan) = checker.check_mapping(mapping) {
            mappings.push(plan);
        }
    }
    if checker.problems.is_empty() {
        Ok(Plan {
            source: file.to_string(),
            limits: checker.limits,
            mappings,
        })
    } else {
        let mut problems = checker.problems;
        problems.sort_by_key(|p| p.line);
        Err(MappingError::Problems(problems))
    }
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    spec: &'a Spec,
    model: &'a Model,
    permission_set: Option<&'a PermissionSet>,
    limits: Limits,
    problems: Vec<Problem>,
    mapping: String,
    /// Every event type of the spec, for `when_type`.
    event_types: Vec<String>,
}

/// The value a source gives, after reading and converting, before it meets the field.
#[derive(Debug, Clone)]
enum Produced {
    /// Text; `values` when the possible values are known (enum, table, constant).
    Text {
        values: Option<Vec<String>>,
    },
    /// Integer whose absolute value is at most `bound`.
    Integer {
        bound: i64,
    },
    /// Decimal with at most `integer_digits` before and `fraction_digits` after the point.
    Decimal {
        integer_digits: u32,
        fraction_digits: u32,
        why: &'static str,
    },
    Bool,
    Date,
    DateTime,
    /// Nothing (the field is cleared).
    Null,
}

impl Produced {
    fn describe(&self) -> &'static str {
        match self {
            Produced::Text { .. } => "text",
            Produced::Integer { .. } => "an integer",
            Produced::Decimal { .. } => "a decimal amount",
            Produced::Bool => "a boolean",
            Produced::Date => "a date",
            Produced::DateTime => "a datetime",
            Produced::Null => "null",
        }
    }
}

/// A checked source: where the value comes from, how it is converted, what it gives, and
/// whether it can be absent.
struct Checked {
    source: Source,
    convert: Convert,
    value: Produced,
    optional: bool,
    /// Bound checked at run time (minor units for money).
    max: i64,
}

impl Checker<'_> {
    fn at(&mut self, span: Range<usize>, field: Option<&str>, message: String) {
        self.problems.push(Problem {
            file: self.file.to_string(),
            line: line_of(self.text, span.start),
            mapping: (!self.mapping.is_empty()).then(|| self.mapping.clone()),
            field: field.map(str::to_string),
            message,
        });
    }

    fn check_limits(&mut self, raw: &RawFile) {
        let limits = raw.limits.get_ref();
        for (name, value) in [
            ("max_amount", &limits.max_amount),
            ("max_count", &limits.max_count),
        ] {
            if *value.get_ref() <= 0 {
                self.at(
                    value.span(),
                    None,
                    format!("`limits.{name}` must be a positive number"),
                );
            }
        }
    }

    fn check_mapping(&mut self, raw: &Spanned<RawMapping>) -> Option<MappingPlan> {
        let mapping = raw.get_ref();
        let span = raw.span();
        let name = mapping.name.get_ref();
        if name.is_empty()
            || !name.starts_with(|c: char| c.is_ascii_lowercase())
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            self.at(mapping.name.span(), None, format!("the name `{name}` must be lower-case letters, digits and `_` (it names the function `map_{name}`)"));
        }
        let stripe = mapping.stripe.get_ref();
        let Some(schema) = self.spec.schema(stripe) else {
            self.at(
                mapping.stripe.span(),
                None,
                format!("Stripe object `{stripe}` is not a schema of the spec"),
            );
            return None;
        };
        let sobject_name = mapping.sobject.get_ref();
        let Some(object) = self.model.object(sobject_name) else {
            self.at(
                mapping.sobject.span(),
                None,
                format!("Salesforce object `{sobject_name}` does not exist in the model"),
            );
            return None;
        };
        if !object.writable() || !object.fields.iter().any(|f| f.writable) {
            self.at(
                mapping.sobject.span(),
                None,
                format!(
                    "Salesforce object `{sobject_name}` cannot be written through the data APIs"
                ),
            );
            return None;
        }
        let (for_each, element) = match &mapping.for_each {
            Some(path) => match PathExpr::parse(path.get_ref()) {
                Ok(parsed) => {
                    let scope = Scope {
                        object: schema,
                        parent: None,
                        free_form: None,
                    };
                    match self.spec.element_schema(&scope, &parsed) {
                        Ok(element) => (Some(parsed), Some(element)),
                        Err(message) => {
                            self.at(path.span(), None, message);
                            return None;
                        }
                    }
                }
                Err(message) => {
                    self.at(path.span(), None, message);
                    return None;
                }
            },
            None => (None, None),
        };
        let (when_type, narrowed) = self.check_when_type(mapping);
        let scope = match element {
            Some(element) => Scope {
                object: element,
                parent: Some(schema),
                free_form: narrowed.as_deref(),
            },
            None => Scope {
                object: schema,
                parent: None,
                free_form: narrowed.as_deref(),
            },
        };
        let when = mapping.when.as_ref().and_then(|when| {
            let raw_when = when.get_ref();
            let root = Scope {
                object: schema,
                parent: None,
                free_form: narrowed.as_deref(),
            };
            match PathExpr::parse(&raw_when.path)
                .and_then(|p| self.spec.resolve(&root, &p).map(|r| (p, r)))
            {
                Ok((path, resolved)) => match &resolved.ty {
                    StripeType::Enum(values) if !values.contains(&raw_when.equals) => {
                        self.at(
                            when.span(),
                            None,
                            format!(
                                "`when`: `{}` is never `{}` (values: {})",
                                raw_when.path,
                                raw_when.equals,
                                values.join(", ")
                            ),
                        );
                        None
                    }
                    ty if ty.is_text() => Some((path, raw_when.equals.clone())),
                    ty => {
                        self.at(
                            when.span(),
                            None,
                            format!("`when`: `{}` is {}, not text", raw_when.path, ty.describe()),
                        );
                        None
                    }
                },
                Err(message) => {
                    self.at(when.span(), None, format!("`when`: {message}"));
                    None
                }
            }
        });
        let key = self.check_key(&mapping.key, object, &scope, for_each.is_some());
        let mut fields = Vec::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for raw_field in &mapping.fields {
            let api = raw_field.get_ref().field.get_ref();
            let lower = api.to_ascii_lowercase();
            if key
                .as_ref()
                .is_some_and(|k| k.field.eq_ignore_ascii_case(api))
            {
                self.at(
                    raw_field.span(),
                    Some(api),
                    "is the key of the mapping, which already writes it".into(),
                );
                continue;
            }
            if !seen.insert(lower) {
                self.at(raw_field.span(), Some(api), "is mapped twice".into());
                continue;
            }
            if let Some(plan) = self.check_field(
                raw_field,
                object,
                &scope,
                for_each.is_some(),
                key.as_ref().is_some_and(|k| k.rust_field.is_some()),
            ) {
                fields.push(plan);
            }
        }
        let key = key?;
        if key.rust_field.is_some() {
            self.check_required(span.clone(), object, &key, &fields);
        }
        Some(MappingPlan {
            name: name.clone(),
            stripe: stripe.clone(),
            sobject: object.api_name.clone(),
            record_type: naming::object_type(object),
            for_each,
            when,
            when_type,
            key,
            fields,
        })
    }

    /// `when_type = [...]`: only on a mapping of `event`, each a Stripe event type. Gives the
    /// types, and the object schemas the event's `data.object` can then be (`None` when some
    /// type's object is not a schema of the spec: every mapped object type then).
    fn check_when_type(&mut self, mapping: &RawMapping) -> (Vec<String>, Option<Vec<String>>) {
        let Some(raw) = &mapping.when_type else {
            return (Vec::new(), None);
        };
        let types = raw.get_ref();
        if mapping.stripe.get_ref() != "event" {
            self.at(
                raw.span(),
                None,
                format!(
                    "`when_type` filters events by type: it only applies to `stripe = \"event\"`, not `{}` (use `when` for a condition on the object)",
                    mapping.stripe.get_ref()
                ),
            );
            return (Vec::new(), None);
        }
        if types.is_empty() {
            self.at(
                raw.span(),
                None,
                "`when_type` lists no event type: name at least one, or remove it to map every event".into(),
            );
            return (Vec::new(), None);
        }
        let mut objects: Vec<String> = Vec::new();
        let mut all_known = true;
        let mut seen = BTreeSet::new();
        for event_type in types {
            if !seen.insert(event_type.as_str()) {
                self.at(
                    raw.span(),
                    None,
                    format!("`when_type` lists `{event_type}` twice"),
                );
                continue;
            }
            if !self.event_types.contains(event_type) {
                self.at(
                    raw.span(),
                    None,
                    format!(
                        "`when_type`: `{event_type}` is not a Stripe event type of the spec (such as invoice.payment_failed or customer.subscription.deleted)"
                    ),
                );
                continue;
            }
            match self.event_object(event_type) {
                Some(object) => {
                    if !objects.contains(&object) {
                        objects.push(object);
                    }
                }
                None => all_known = false,
            }
        }
        let narrowed = (all_known && !objects.is_empty()).then_some(objects);
        (types.clone(), narrowed)
    }

    /// The object schema an event type is about: the type without its last part when the spec
    /// has that schema (`invoice.payment_failed` → `invoice`, `checkout.session.completed` →
    /// `checkout.session`), else its last part (`customer.subscription.deleted` →
    /// `subscription`).
    fn event_object(&self, event_type: &str) -> Option<String> {
        let (resource, _) = event_type.rsplit_once('.')?;
        if self.spec.has_schema(resource) {
            return Some(resource.to_string());
        }
        let last = resource.rsplit('.').next()?;
        self.spec.has_schema(last).then(|| last.to_string())
    }

    fn check_key(
        &mut self,
        raw: &Spanned<RawKey>,
        object: &Object,
        scope: &Scope<'_>,
        in_for_each: bool,
    ) -> Option<KeyPlan> {
        let key = raw.get_ref();
        let span = raw.span();
        let api = key.field.get_ref();
        let is_id = api == "Id";
        let skip_record = match key.absent.as_ref().map(|a| a.get_ref().as_str()) {
            None => false,
            Some("skip_record") => true,
            Some(other) => {
                self.at(
                    span.clone(),
                    Some(api),
                    format!("the key's `absent` can only be \"skip_record\", not \"{other}\""),
                );
                false
            }
        };
        let rust_field = if is_id {
            None
        } else {
            match object.field(api) {
                None => {
                    self.at(
                        span.clone(),
                        Some(api),
                        format!(
                            "Salesforce field `{api}` does not exist on `{}`",
                            object.api_name
                        ),
                    );
                    return None;
                }
                Some(field) if !field.external_id => {
                    let ids: Vec<&str> =
                        object.external_ids().map(|f| f.api_name.as_str()).collect();
                    self.at(span.clone(), Some(api), format!("`{api}` is not an external id of `{}` (external ids: {}; or use `Id` to update by record Id)", object.api_name, if ids.is_empty() { "none".to_string() } else { ids.join(", ") }));
                    return None;
                }
                Some(field) => {
                    self.check_writable(span.clone(), object, field);
                    if let Some(set) = self.permission_set
                        && !set.can_create(&object.api_name)
                    {
                        self.at(span.clone(), Some(api), format!("permission set `{PERMISSION_SET}` does not grant create on `{}`, which an upsert by external id needs", object.api_name));
                    }
                    Some(naming::field_name(field))
                }
            }
        };
        let source = match (&key.from, &key.format) {
            (Some(from), None) => {
                let id = match key.convert.as_ref().map(|c| c.get_ref().as_str()) {
                    None => false,
                    Some("id") => true,
                    Some(other) => {
                        self.at(
                            span.clone(),
                            Some(api),
                            format!("a key can only use `convert = \"id\"`, not \"{other}\""),
                        );
                        false
                    }
                };
                let mut paths = Vec::new();
                let mut optional = true;
                for text in from.get_ref().paths() {
                    let Some((path, resolved)) =
                        self.resolve(from.span(), api, scope, &text, in_for_each)
                    else {
                        continue;
                    };
                    let fits = match &resolved.ty {
                        StripeType::Expandable(_) => id,
                        ty => ty.is_text() && !id || matches!(ty, StripeType::String { .. }),
                    };
                    if !fits {
                        let hint = if matches!(resolved.ty, StripeType::Expandable(_)) {
                            " (add `convert = \"id\"`)"
                        } else {
                            ""
                        };
                        self.at(
                            from.span(),
                            Some(api),
                            format!(
                                "the key `{text}` is {}, not a string{hint}",
                                resolved.ty.describe()
                            ),
                        );
                    }
                    optional &= resolved.optional;
                    paths.push(path);
                }
                if optional && !skip_record && !paths.is_empty() {
                    self.at(span.clone(), Some(api), format!("the key `{}` can be absent in Stripe's spec, which would write a record under an empty {}: add `absent = \"skip_record\"`", from.get_ref().paths().join("`, `"), if is_id { "Id" } else { "external id" }));
                }
                KeySource::Paths { paths, id }
            }
            (None, Some(format)) => {
                let parts = self.check_format(format, api, scope, in_for_each, skip_record);
                KeySource::Format(parts)
            }
            _ => {
                self.at(
                    span.clone(),
                    Some(api),
                    "a key needs exactly one of `from` or `format`".into(),
                );
                return None;
            }
        };
        Some(KeyPlan {
            field: if is_id {
                "Id".to_string()
            } else {
                object
                    .field(api)
                    .map_or(api.clone(), |f| f.api_name.clone())
            },
            rust_field,
            source,
            skip_record,
        })
    }

    fn check_format(
        &mut self,
        format: &Spanned<String>,
        api: &str,
        scope: &Scope<'_>,
        in_for_each: bool,
        skip_record: bool,
    ) -> Vec<FormatPart> {
        let mut parts = Vec::new();
        let mut rest = format.get_ref().as_str();
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let Some(end) = rest.find('}') else {
                        self.at(
                            format.span(),
                            Some(api),
                            "the key format has an unclosed `{`".into(),
                        );
                        break;
                    };
                    let inner = &rest[1..end];
                    if inner == "index" {
                        if !in_for_each {
                            self.at(
                                format.span(),
                                Some(api),
                                "`{index}` is only known inside a `for_each`".into(),
                            );
                        }
                        parts.push(FormatPart::Index);
                    } else if let Some((path, resolved)) =
                        self.resolve(format.span(), api, scope, inner, in_for_each)
                    {
                        if !(resolved.ty.is_text() || resolved.ty.is_integer()) {
                            self.at(
                                format.span(),
                                Some(api),
                                format!(
                                    "`{{{inner}}}` in the key is {}, not a string or integer",
                                    resolved.ty.describe()
                                ),
                            );
                        }
                        if resolved.optional && !skip_record {
                            self.at(format.span(), Some(api), format!("`{{{inner}}}` in the key can be absent in Stripe's spec, which would write a record under an incomplete external id: add `absent = \"skip_record\"`"));
                        }
                        parts.push(FormatPart::Path(path));
                    }
                    rest = &rest[end + 1..];
                }
                Some(at) => {
                    parts.push(FormatPart::Text(rest[..at].to_string()));
                    rest = &rest[at..];
                }
                None => {
                    parts.push(FormatPart::Text(rest.to_string()));
                    rest = "";
                }
            }
        }
        parts
    }

    fn check_writable(&mut self, span: Range<usize>, object: &Object, field: &Field) -> bool {
        if !field.writable {
            let why = match &field.computed {
                Some(Computed::Formula(_)) => "a formula",
                Some(Computed::RollUp(_)) => "a roll-up summary",
                Some(Computed::AutoNumber) => "an auto number",
                Some(Computed::System) | None => "maintained by Salesforce",
            };
            self.at(
                span,
                Some(&field.api_name),
                format!(
                    "`{}.{}` is read-only ({why})",
                    object.api_name, field.api_name
                ),
            );
            return false;
        }
        if let Some(set) = self.permission_set
            && !set.can_edit(self.model, &object.api_name, &field.api_name)
        {
            self.at(span, Some(&field.api_name), format!("`{}.{}` is not editable by permission set `{PERMISSION_SET}`: grant it in the permission set or remove the mapping", object.api_name, field.api_name));
            return false;
        }
        true
    }

    fn resolve(
        &mut self,
        span: Range<usize>,
        api: &str,
        scope: &Scope<'_>,
        text: &str,
        in_for_each: bool,
    ) -> Option<(PathExpr, Resolved)> {
        let path = match PathExpr::parse(text) {
            Ok(path) => path,
            Err(message) => {
                self.at(span, Some(api), message);
                return None;
            }
        };
        if path.root != Root::Object && !in_for_each {
            self.at(
                span,
                Some(api),
                format!("`{text}` uses `^.` or `<.`, which only exist inside a `for_each`"),
            );
            return None;
        }
        match self.spec.resolve(scope, &path) {
            Ok(resolved) => Some((path, resolved)),
            Err(message) => {
                let message = if message.starts_with("Stripe path") {
                    message
                } else {
                    format!("Stripe path {message}")
                };
                self.at(span, Some(api), message);
                None
            }
        }
    }

    fn target(
        &mut self,
        span: Range<usize>,
        object: &Object,
        field: &Field,
        reference: Option<&Spanned<String>>,
    ) -> Option<Target> {
        if let Some(reference) = reference {
            let parent_field = reference.get_ref();
            if !field.field_type.is_reference() {
                self.at(
                    reference.span(),
                    Some(&field.api_name),
                    format!(
                        "`ref` needs a lookup or master-detail field; `{}` is {}",
                        field.api_name,
                        field.field_type.as_str()
                    ),
                );
                return None;
            }
            let parent = field
                .reference_to
                .as_deref()
                .and_then(|p| self.model.object(p));
            let Some(parent) = parent else {
                self.at(
                    reference.span(),
                    Some(&field.api_name),
                    format!("the parent of `{}` is not in the model", field.api_name),
                );
                return None;
            };
            return match parent.field(parent_field) {
                Some(pf) if pf.external_id => Some(Target::Ref {
                    parent_field: pf.api_name.clone(),
                    rust_ref_field: naming::ref_field_name(field).unwrap_or_default(),
                }),
                _ => {
                    let ids: Vec<&str> =
                        parent.external_ids().map(|f| f.api_name.as_str()).collect();
                    self.at(
                        reference.span(),
                        Some(&field.api_name),
                        format!(
                            "`{parent_field}` is not an external id of `{}` (external ids: {})",
                            parent.api_name,
                            if ids.is_empty() {
                                "none".into()
                            } else {
                                ids.join(", ")
                            }
                        ),
                    );
                    None
                }
            };
        }
        let default_length = match field.field_type {
            FieldType::Email => 80,
            FieldType::Phone => 40,
            _ => 255,
        };
        Some(match field.field_type {
            FieldType::Text
            | FieldType::TextArea
            | FieldType::LongTextArea
            | FieldType::Html
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Url
            | FieldType::EncryptedText => Target::Text {
                length: field.length.unwrap_or(default_length),
            },
            FieldType::Number if field.scale.unwrap_or(0) == 0 => Target::Integer {
                precision: field.precision.unwrap_or(18),
            },
            FieldType::Number | FieldType::Currency | FieldType::Percent => Target::Decimal {
                precision: field.precision.unwrap_or(18),
                scale: field.scale.unwrap_or(0),
            },
            FieldType::Checkbox => Target::Bool,
            FieldType::Date => Target::Date,
            FieldType::DateTime => Target::DateTime,
            FieldType::Picklist => {
                let picklist = field.picklist.as_ref();
                Target::Picklist {
                    restricted: picklist.is_some_and(|p| p.restricted),
                    values: picklist
                        .map(|p| p.values.iter().map(|v| v.api_name.clone()).collect())
                        .unwrap_or_default(),
                }
            }
            FieldType::Lookup | FieldType::MasterDetail => Target::RecordId,
            FieldType::MultiselectPicklist
            | FieldType::Time
            | FieldType::Id
            | FieldType::AutoNumber => {
                self.at(
                    span,
                    Some(&field.api_name),
                    format!(
                        "`{}.{}` is {}, which mappings do not write",
                        object.api_name,
                        field.api_name,
                        field.field_type.as_str()
                    ),
                );
                return None;
            }
        })
    }

    fn check_field(
        &mut self,
        raw: &Spanned<RawField>,
        object: &Object,
        scope: &Scope<'_>,
        in_for_each: bool,
        may_create: bool,
    ) -> Option<FieldPlan> {
        let entry = raw.get_ref();
        let span = raw.span();
        let api = entry.field.get_ref().clone();
        let Some(field) = object.field(&api) else {
            self.at(
                span,
                Some(&api),
                format!(
                    "Salesforce field `{api}` does not exist on `{}`",
                    object.api_name
                ),
            );
            return None;
        };
        let api = field.api_name.clone();
        let writable = self.check_writable(span.clone(), object, field);
        let target = self.target(span.clone(), object, field, entry.reference.as_ref());
        let sources = [
            entry.from.is_some(),
            entry.value.is_some(),
            entry.context.is_some(),
            entry.inputs.is_some(),
            entry.clear.is_some(),
            entry.format.is_some(),
        ];
        if sources.iter().filter(|s| **s).count() != 1 {
            self.at(span, Some(&api), "give exactly one source: `from`, `value`, `context`, `inputs` (for a derived conversion), `format` or `clear = true`".into());
            return None;
        }
        let target = target?;
        let checked = self.check_source(entry, &span, &api, &target, scope, in_for_each)?;
        let absent = self.check_absent(entry, &span, &api, field, &target);
        let truncate = entry.truncate.as_ref().is_some_and(|t| *t.get_ref());
        let round = entry.round.as_ref().is_some_and(|r| *r.get_ref());
        if truncate && !matches!(target, Target::Text { .. }) {
            self.at(
                span.clone(),
                Some(&api),
                "`truncate` only applies to text fields".into(),
            );
        }
        if round && !matches!(target, Target::Decimal { .. }) {
            self.at(
                span.clone(),
                Some(&api),
                "`round` only applies to fields with decimals".into(),
            );
        }
        let fallback = entry.fallback.as_ref().map(|f| f.get_ref().clone());
        if fallback.is_some()
            && !matches!(checked.convert, Convert::Table(_))
            && !matches!(target, Target::Picklist { .. })
        {
            self.at(
                span.clone(),
                Some(&api),
                "`fallback` only applies to a table or a picklist".into(),
            );
        }
        self.check_fit(
            &span,
            &api,
            &target,
            &checked,
            round,
            fallback.as_deref(),
            entry,
        );
        if let (
            Target::Picklist {
                restricted: true,
                values,
            },
            Absent::Default(Const::Text(default)),
        ) = (&target, &absent)
            && !values.contains(default)
        {
            self.at(
                span.clone(),
                Some(&api),
                format!(
                    "default \"{default}\" is not a value of the restricted picklist ({})",
                    values.join(", ")
                ),
            );
        }
        if matches!(checked.value, Produced::Null) && target == Target::Bool {
            self.at(
                span.clone(),
                Some(&api),
                "a checkbox cannot be cleared: write `value = false`".into(),
            );
        }
        let empty =
            matches!(checked.value, Produced::Null) || absent == Absent::Null && checked.optional;
        if field.required && empty {
            self.at(span.clone(), Some(&api), "is required, but the mapping can clear it: give a `default` or a source that is always there".into());
        } else if field.required && may_create && checked.optional && absent == Absent::Skip {
            self.at(span.clone(), Some(&api), format!("is required, but its source can be absent in Stripe's spec and a new record would have it empty: give a `default`{}", match &checked.source { Source::Paths { paths, .. } => format!(" or a path that is always there (`{}` can be absent)", paths.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("`, `")), _ => String::new() }));
        }
        if !writable {
            return None;
        }
        let rust_field = naming::field_name(field);
        Some(FieldPlan {
            field: api,
            rust_field,
            target,
            source: checked.source,
            convert: checked.convert,
            absent,
            truncate,
            round,
            max: checked.max,
            fallback,
        })
    }

    fn check_absent(
        &mut self,
        entry: &RawField,
        span: &Range<usize>,
        api: &str,
        field: &Field,
        target: &Target,
    ) -> Absent {
        let absent = match (
            entry.absent.as_ref().map(|a| a.get_ref().as_str()),
            &entry.default,
        ) {
            (Some(_), Some(_)) => {
                self.at(
                    span.clone(),
                    Some(api),
                    "give either `absent` or `default`, not both".into(),
                );
                Absent::Skip
            }
            (None, None) | (Some("skip"), None) => Absent::Skip,
            (Some("null"), None) => Absent::Null,
            (Some("skip_record"), None) => {
                self.at(
                    span.clone(),
                    Some(api),
                    "`absent = \"skip_record\"` only applies to the key".into(),
                );
                Absent::Skip
            }
            (Some(other), None) => {
                self.at(span.clone(), Some(api), format!("`absent` is \"skip\" (leave the field as is) or \"null\" (clear it), not \"{other}\"; for a value use `default`"));
                Absent::Skip
            }
            (None, Some(default)) => match constant(default.get_ref()) {
                Some(value) => {
                    if matches!(target, Target::Ref { .. } | Target::RecordId) {
                        self.at(
                            span.clone(),
                            Some(api),
                            "a lookup cannot have a `default`".into(),
                        );
                    }
                    let fits = matches!(
                        (&value, target),
                        (
                            Const::Text(_),
                            Target::Text { .. } | Target::Picklist { .. }
                        ) | (
                            Const::Integer(_),
                            Target::Integer { .. } | Target::Decimal { .. }
                        ) | (Const::Bool(_), Target::Bool)
                    );
                    if !fits {
                        self.at(
                            default.span(),
                            Some(api),
                            format!(
                                "the default does not fit the {} field",
                                field.field_type.as_str()
                            ),
                        );
                    }
                    Absent::Default(value)
                }
                None => {
                    self.at(
                        default.span(),
                        Some(api),
                        "a default is a string, an integer or a boolean (no floats)".into(),
                    );
                    Absent::Skip
                }
            },
        };
        if absent == Absent::Null && *target == Target::Bool {
            self.at(
                span.clone(),
                Some(api),
                "a checkbox cannot be cleared: use `default = false` or leave it as is".into(),
            );
        }
        absent
    }

    fn check_source(
        &mut self,
        entry: &RawField,
        span: &Range<usize>,
        api: &str,
        target: &Target,
        scope: &Scope<'_>,
        in_for_each: bool,
    ) -> Option<Checked> {
        let convert_name = entry.convert.as_ref().map(|c| c.get_ref().as_str());
        let max_count = entry
            .max
            .as_ref()
            .map_or(self.limits.max_count, |m| *m.get_ref());
        let max_amount = entry
            .max
            .as_ref()
            .map_or(self.limits.max_amount, |m| *m.get_ref());
        if let Some(max) = &entry.max
            && *max.get_ref() <= 0
        {
            self.at(
                max.span(),
                Some(api),
                "`max` must be a positive number".into(),
            );
        }
        let derived = convert_name.and_then(|name| {
            Derived::ALL
                .iter()
                .find(|(_, n)| *n == name)
                .map(|(d, _)| *d)
        });
        if entry.currency.is_some() && !matches!(convert_name, Some("money" | "money_decimal")) {
            self.at(
                span.clone(),
                Some(api),
                "`currency` only applies to `convert = \"money\"` or `\"money_decimal\"`".into(),
            );
        }
        if entry.table.is_some() && !matches!(convert_name, Some("table" | "presence")) {
            self.at(
                span.clone(),
                Some(api),
                "`table` only applies to `convert = \"table\"` or `\"presence\"`".into(),
            );
        }
        if let Some(clear) = &entry.clear {
            if !*clear.get_ref() || convert_name.is_some() {
                self.at(
                    span.clone(),
                    Some(api),
                    "`clear` is written `clear = true`, without a conversion".into(),
                );
            }
            return Some(Checked {
                source: Source::Clear,
                convert: Convert::None,
                value: Produced::Null,
                optional: false,
                max: 0,
            });
        }
        if let Some(value) = &entry.value {
            if convert_name.is_some() {
                self.at(
                    span.clone(),
                    Some(api),
                    "a constant `value` takes no conversion".into(),
                );
            }
            let Some(constant) = constant(value.get_ref()) else {
                self.at(
                    value.span(),
                    Some(api),
                    "a constant is a string, an integer or a boolean (no floats)".into(),
                );
                return None;
            };
            let value_ = match &constant {
                Const::Text(text) => Produced::Text {
                    values: Some(vec![text.clone()]),
                },
                Const::Integer(n) => Produced::Integer {
                    bound: n.saturating_abs(),
                },
                Const::Bool(_) => Produced::Bool,
            };
            let max = match constant {
                Const::Integer(n) => n.saturating_abs(),
                _ => 0,
            };
            return Some(Checked {
                source: Source::Const(constant),
                convert: Convert::None,
                value: value_,
                optional: false,
                max,
            });
        }
        if let Some(context) = &entry.context {
            if convert_name.is_some() {
                self.at(
                    span.clone(),
                    Some(api),
                    "a `context` value takes no conversion".into(),
                );
            }
            let name = context.get_ref();
            let Some((field, _)) = ContextField::ALL.iter().find(|(_, n)| n == name) else {
                self.at(
                    context.span(),
                    Some(api),
                    format!(
                        "unknown context value `{name}` (known: {})",
                        ContextField::ALL
                            .iter()
                            .map(|(_, n)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                return None;
            };
            if *field == ContextField::Index && !in_for_each {
                self.at(
                    context.span(),
                    Some(api),
                    "`index` is only known inside a `for_each`".into(),
                );
            }
            let value = match field {
                ContextField::ReceivedAt | ContextField::ProcessedAt => Produced::DateTime,
                ContextField::ProcessingStatus => Produced::Text {
                    values: Some(
                        ContextField::PROCESSING_STATUSES
                            .iter()
                            .map(|s| s.to_string())
                            .collect(),
                    ),
                },
                ContextField::Attempts | ContextField::Index => {
                    Produced::Integer { bound: max_count }
                }
                ContextField::ErrorMessage
                | ContextField::FinanceOwnerId
                | ContextField::ServiceOwnerId => Produced::Text { values: None },
            };
            return Some(Checked {
                source: Source::Context(*field),
                convert: Convert::None,
                value,
                optional: field.optional(),
                max: max_count,
            });
        }
        if let Some(format) = &entry.format {
            if convert_name.is_some() {
                self.at(
                    span.clone(),
                    Some(api),
                    "a `format` text takes no conversion: convert inside the placeholders (`{amount|money:currency}`, `{created|date}`, `{livemode|dashboard}`)".into(),
                );
            }
            let parts = self.check_template(format, api, scope, in_for_each)?;
            return Some(Checked {
                source: Source::Template(parts),
                convert: Convert::None,
                value: Produced::Text { values: None },
                optional: false,
                max: max_amount,
            });
        }
        if let Some(inputs) = &entry.inputs {
            let Some(rule) = derived else {
                self.at(
                    span.clone(),
                    Some(api),
                    format!(
                        "`inputs` needs a derived conversion: `convert = ` one of {}",
                        Derived::ALL
                            .iter()
                            .map(|(_, n)| format!("\"{n}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                return None;
            };
            return self.check_derived(rule, inputs, api, scope, in_for_each, max_amount);
        }
        if derived.is_some() {
            self.at(
                span.clone(),
                Some(api),
                format!(
                    "`convert = \"{}\"` is a derived conversion: give its `inputs`",
                    convert_name.unwrap_or_default()
                ),
            );
            return None;
        }
        let from = entry.from.as_ref()?;
        let mut resolved = Vec::new();
        for text in from.get_ref().paths() {
            if let Some(found) = self.resolve(from.span(), api, scope, &text, in_for_each) {
                resolved.push(found);
            }
        }
        if resolved.len() != from.get_ref().paths().len() {
            return None;
        }
        let optional = resolved.iter().all(|(_, r)| r.optional);
        let paths: Vec<PathExpr> = resolved.iter().map(|(p, _)| p.clone()).collect();
        let sums = paths.iter().any(PathExpr::sums);
        if sums && paths.len() > 1 {
            self.at(
                from.span(),
                Some(api),
                "a sum over `[*]` cannot have fallback paths".into(),
            );
        }
        let is_ref = matches!(target, Target::Ref { .. });
        let types: Vec<&StripeType> = resolved.iter().map(|(_, r)| &r.ty).collect();
        let describe = |types: &[&StripeType]| {
            types
                .iter()
                .map(|t| t.describe())
                .collect::<Vec<_>>()
                .join(" / ")
        };
        let (read, convert, value, max) = match convert_name {
            None if is_ref => {
                if !types
                    .iter()
                    .all(|t| matches!(t, StripeType::Expandable(_) | StripeType::String { .. }))
                {
                    self.at(
                        from.span(),
                        Some(api),
                        format!(
                            "a reference needs a string id; `{}` is {}",
                            from_text(from),
                            describe(&types)
                        ),
                    );
                    return None;
                }
                (Read::Id, Convert::None, Produced::Text { values: None }, 0)
            }
            None | Some("table") | Some("presence") => {
                let read = if convert_name == Some("presence") {
                    Read::Presence
                } else if sums {
                    if !types.iter().all(|t| t.is_integer()) {
                        self.at(
                            from.span(),
                            Some(api),
                            format!(
                                "a sum over `[*]` needs integers; `{}` is {}",
                                from_text(from),
                                describe(&types)
                            ),
                        );
                        return None;
                    }
                    Read::Sum
                } else if types.iter().all(|t| t.is_text()) {
                    Read::Text
                } else if types.iter().all(|t| **t == StripeType::Integer) {
                    Read::Integer
                } else if types.iter().all(|t| **t == StripeType::Boolean) {
                    Read::Bool
                } else {
                    let hint = if types.iter().any(|t| matches!(t, StripeType::Expandable(_))) {
                        "; an expandable reference is read with `convert = \"id\"` or written with `ref`"
                    } else if types.iter().any(|t| **t == StripeType::UnixTime) {
                        "; a Unix timestamp needs `convert = \"timestamp\"` or `\"date\"`"
                    } else if types.iter().any(|t| {
                        matches!(
                            t,
                            StripeType::Object(_) | StripeType::Array | StripeType::FreeForm
                        )
                    }) {
                        "; an object or array needs `convert = \"json\"`"
                    } else if types.iter().any(|t| **t == StripeType::Number) {
                        "; floating-point numbers are not mapped"
                    } else {
                        ""
                    };
                    self.at(
                        from.span(),
                        Some(api),
                        format!(
                            "types are incompatible: `{}` is {}, and the field is {}{hint}",
                            from_text(from),
                            describe(&types),
                            target_describe(target)
                        ),
                    );
                    return None;
                };
                let enum_values = enum_union(&types);
                match convert_name {
                    Some("table") => {
                        if read != Read::Text {
                            self.at(
                                from.span(),
                                Some(api),
                                format!(
                                    "a table maps text values; `{}` is {}",
                                    from_text(from),
                                    describe(&types)
                                ),
                            );
                            return None;
                        }
                        let Some(table) = &entry.table else {
                            self.at(span.clone(), Some(api), "`convert = \"table\"` needs `table = { stripe = \"salesforce\", ... }`".into());
                            return None;
                        };
                        let entries: Vec<(String, String)> = table
                            .get_ref()
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        if let Some(values) = &enum_values {
                            for (stripe_value, _) in &entries {
                                if !values.contains(stripe_value) {
                                    self.at(table.span(), Some(api), format!("table key `{stripe_value}` is not a value of `{}` ({})", from_text(from), values.join(", ")));
                                }
                            }
                        }
                        let mut outputs: Vec<String> =
                            entries.iter().map(|(_, v)| v.clone()).collect();
                        let covered = match &enum_values {
                            Some(values) => {
                                let missing: Vec<&String> = values
                                    .iter()
                                    .filter(|v| !entries.iter().any(|(k, _)| k == *v))
                                    .collect();
                                if let (
                                    Target::Picklist {
                                        restricted: true, ..
                                    },
                                    None,
                                ) = (target, &entry.fallback)
                                    && !missing.is_empty()
                                {
                                    self.at(table.span(), Some(api), format!("the table does not cover the Stripe values {} of `{}` and no `fallback` is given: the restricted picklist would refuse them", missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "), from_text(from)));
                                }
                                missing.is_empty()
                            }
                            None => {
                                if let (
                                    Target::Picklist {
                                        restricted: true, ..
                                    },
                                    None,
                                ) = (target, &entry.fallback)
                                {
                                    self.at(table.span(), Some(api), format!("`{}` is free text, so the table cannot cover every value: give a `fallback` for the restricted picklist", from_text(from)));
                                }
                                false
                            }
                        };
                        if let Some(fallback) = &entry.fallback {
                            outputs.push(fallback.get_ref().clone());
                        }
                        let optional = optional || !covered && entry.fallback.is_none();
                        return Some(Checked {
                            source: Source::Paths { paths, read },
                            convert: Convert::Table(entries),
                            value: Produced::Text {
                                values: Some(outputs),
                            },
                            optional,
                            max: 0,
                        });
                    }
                    Some("presence") => {
                        let Some(table) = &entry.table else {
                            self.at(span.clone(), Some(api), "`convert = \"presence\"` needs `table = { present = \"...\", absent = \"...\" }`".into());
                            return None;
                        };
                        for key in table.get_ref().keys() {
                            if key != "present" && key != "absent" {
                                self.at(table.span(), Some(api), format!("a presence table has the keys `present` and `absent`, not `{key}`"));
                            }
                        }
                        let present = table.get_ref().get("present").cloned();
                        let absent = table.get_ref().get("absent").cloned();
                        let optional = present.is_none() || absent.is_none();
                        let outputs = present.iter().chain(absent.iter()).cloned().collect();
                        return Some(Checked {
                            source: Source::Paths { paths, read },
                            convert: Convert::Presence { present, absent },
                            value: Produced::Text {
                                values: Some(outputs),
                            },
                            optional,
                            max: 0,
                        });
                    }
                    _ => {}
                }
                match read {
                    Read::Text => (
                        read,
                        Convert::None,
                        Produced::Text {
                            values: enum_values,
                        },
                        0,
                    ),
                    Read::Integer => (
                        read,
                        Convert::None,
                        Produced::Integer { bound: max_count },
                        max_count,
                    ),
                    Read::Sum => (
                        read,
                        Convert::None,
                        Produced::Integer { bound: max_count },
                        max_count,
                    ),
                    _ => (read, Convert::None, Produced::Bool, 0),
                }
            }
            Some("id") => {
                if !types
                    .iter()
                    .all(|t| matches!(t, StripeType::Expandable(_) | StripeType::String { .. }))
                {
                    self.at(
                        from.span(),
                        Some(api),
                        format!(
                            "`convert = \"id\"` reads an expandable reference; `{}` is {}",
                            from_text(from),
                            describe(&types)
                        ),
                    );
                    return None;
                }
                (Read::Id, Convert::None, Produced::Text { values: None }, 0)
            }
            Some("json") => (
                Read::Json,
                Convert::None,
                Produced::Text { values: None },
                0,
            ),
            Some(name @ ("money" | "money_decimal")) => {
                let decimal = name == "money_decimal";
                let fits = if decimal {
                    types
                        .iter()
                        .all(|t| matches!(t, StripeType::DecimalString | StripeType::String { .. }))
                } else {
                    types.iter().all(|t| **t == StripeType::Integer)
                };
                if !fits {
                    let wanted = if decimal {
                        "a decimal string"
                    } else {
                        "an integer amount in minor units"
                    };
                    self.at(
                        from.span(),
                        Some(api),
                        format!(
                            "`convert = \"{name}\"` needs {wanted}; `{}` is {}",
                            from_text(from),
                            describe(&types)
                        ),
                    );
                    return None;
                }
                if decimal && sums {
                    self.at(
                        from.span(),
                        Some(api),
                        "`[*]` sums integers; it cannot be used with `money_decimal`".into(),
                    );
                }
                let Some(currency) = &entry.currency else {
                    self.at(span.clone(), Some(api), format!("`convert = \"{name}\"` needs `currency = \"<path of the currency>\"`: the number of decimals depends on it"));
                    return None;
                };
                let (currency_path, currency_optional) = match self.resolve(
                    currency.span(),
                    api,
                    scope,
                    currency.get_ref(),
                    in_for_each,
                ) {
                    Some((path, resolved)) => {
                        if !resolved.ty.is_text() {
                            self.at(
                                currency.span(),
                                Some(api),
                                format!(
                                    "the currency `{}` is {}, not a string",
                                    currency.get_ref(),
                                    resolved.ty.describe()
                                ),
                            );
                        }
                        (path, resolved.optional)
                    }
                    None => return None,
                };
                let fraction_digits = if decimal {
                    DECIMAL_STRING_PLACES + MAX_CURRENCY_EXPONENT
                } else {
                    MAX_CURRENCY_EXPONENT
                };
                let why = if decimal {
                    "a decimal string in minor units (up to 12 places) of a currency with up to 3 decimals"
                } else {
                    "an amount in a three-decimal currency such as BHD or KWD"
                };
                let read = if sums {
                    Read::Sum
                } else if decimal {
                    Read::Text
                } else {
                    Read::Integer
                };
                let convert = if decimal {
                    Convert::MoneyDecimal {
                        currency: currency_path,
                    }
                } else {
                    Convert::Money {
                        currency: currency_path,
                    }
                };
                return Some(Checked {
                    source: Source::Paths { paths, read },
                    convert,
                    value: Produced::Decimal {
                        integer_digits: digits(max_amount),
                        fraction_digits,
                        why,
                    },
                    optional: optional || currency_optional,
                    max: max_amount,
                });
            }
            Some(name @ ("timestamp" | "date")) => {
                if !types.iter().all(|t| t.is_integer()) {
                    self.at(
                        from.span(),
                        Some(api),
                        format!(
                            "`convert = \"{name}\"` needs Unix seconds; `{}` is {}",
                            from_text(from),
                            describe(&types)
                        ),
                    );
                    return None;
                }
                let (convert, value) = if name == "date" {
                    (Convert::Date, Produced::Date)
                } else {
                    (Convert::Timestamp, Produced::DateTime)
                };
                (Read::Integer, convert, value, 0)
            }
            Some("currency_code") => {
                if !types.iter().all(|t| t.is_text()) {
                    self.at(
                        from.span(),
                        Some(api),
                        format!(
                            "`convert = \"currency_code\"` needs a currency string; `{}` is {}",
                            from_text(from),
                            describe(&types)
                        ),
                    );
                    return None;
                }
                (
                    Read::Text,
                    Convert::CurrencyCode,
                    Produced::Text { values: None },
                    0,
                )
            }
            Some("next_integer") => {
                if !types.iter().all(|t| *t == &StripeType::Integer) {
                    self.at(
                        from.span(),
                        Some(api),
                        format!(
                            "`convert = \"next_integer\"` needs an integer; `{}` is {}",
                            from_text(from),
                            describe(&types)
                        ),
                    );
                    return None;
                }
                (
                    Read::Integer,
                    Convert::NextInteger,
                    Produced::Integer {
                        bound: max_count.saturating_add(1),
                    },
                    max_count,
                )
            }
            Some(other) => {
                self.at(entry.convert.as_ref().map_or(span.clone(), |c| c.span()), Some(api), format!("unknown conversion \"{other}\" (known: money, money_decimal, timestamp, date, currency_code, id, json, table, presence, next_integer, {})", Derived::ALL.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")));
                return None;
            }
        };
        if sums && read != Read::Sum {
            self.at(
                from.span(),
                Some(api),
                "`[*]` sums integers, for a plain integer or `convert = \"money\"`".into(),
            );
        }
        if matches!(read, Read::Text | Read::Integer | Read::Bool)
            && types.iter().any(|t| matches!(t, StripeType::Expandable(_)))
        {
            self.at(
                from.span(),
                Some(api),
                format!(
                    "`{}` is an expandable reference: only `convert = \"id\"` or `ref` can read it",
                    from_text(from)
                ),
            );
        }
        Some(Checked {
            source: Source::Paths { paths, read },
            convert,
            value,
            optional,
            max,
        })
    }

    /// A `format` text: literal text and `{path}`, `{path|money:currency}`, `{path|date}` or
    /// `{path|dashboard}` placeholders, each path checked against the spec.
    fn check_template(
        &mut self,
        format: &Spanned<String>,
        api: &str,
        scope: &Scope<'_>,
        in_for_each: bool,
    ) -> Option<Vec<TemplatePart>> {
        let span = format.span();
        let mut parts = Vec::new();
        let mut ok = true;
        let mut rest = format.get_ref().as_str();
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                parts.push(TemplatePart::Text(rest.to_string()));
                break;
            };
            if open > 0 {
                parts.push(TemplatePart::Text(rest[..open].to_string()));
            }
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                self.at(
                    span.clone(),
                    Some(api),
                    "the `format` text has an unclosed `{`".into(),
                );
                return None;
            };
            let inner = &rest[open + 1..close];
            rest = &rest[close + 1..];
            let (path_text, style_text) = match inner.split_once('|') {
                Some((path, style)) => (path.trim(), Some(style.trim())),
                None => (inner.trim(), None),
            };
            let Some((path, resolved)) =
                self.resolve(span.clone(), api, scope, path_text, in_for_each)
            else {
                ok = false;
                continue;
            };
            let ty = &resolved.ty;
            let wrong = |this: &mut Self, wanted: &str| {
                this.at(
                    span.clone(),
                    Some(api),
                    format!(
                        "`{{{inner}}}` in the `format` text needs {wanted}; `{path_text}` is {}",
                        ty.describe()
                    ),
                );
            };
            let style = match style_text {
                None if ty.is_text() => TemplateStyle::Text,
                None if *ty == StripeType::Integer => TemplateStyle::Integer,
                None if *ty == StripeType::Boolean => TemplateStyle::Bool,
                None if matches!(ty, StripeType::Expandable(_)) => TemplateStyle::Id,
                None => {
                    let hint = match ty {
                        StripeType::UnixTime => {
                            "text, an integer, a boolean or an id (write `|date` for a Unix timestamp)"
                        }
                        _ => "text, an integer, a boolean or an id",
                    };
                    wrong(self, hint);
                    ok = false;
                    continue;
                }
                Some("date") if ty.is_integer() => TemplateStyle::Date,
                Some("date") => {
                    wrong(self, "Unix seconds");
                    ok = false;
                    continue;
                }
                Some("dashboard") if *ty == StripeType::Boolean => TemplateStyle::Dashboard,
                Some("dashboard") => {
                    wrong(self, "a boolean (the event's `livemode`)");
                    ok = false;
                    continue;
                }
                Some(style) if style.starts_with("money:") => {
                    if *ty != StripeType::Integer {
                        wrong(self, "an integer amount in minor units");
                        ok = false;
                        continue;
                    }
                    let currency_text = style["money:".len()..].trim();
                    let Some((currency, found)) =
                        self.resolve(span.clone(), api, scope, currency_text, in_for_each)
                    else {
                        ok = false;
                        continue;
                    };
                    if !found.ty.is_text() {
                        self.at(
                            span.clone(),
                            Some(api),
                            format!(
                                "the currency `{currency_text}` of `{{{inner}}}` is {}, not a string",
                                found.ty.describe()
                            ),
                        );
                        ok = false;
                        continue;
                    }
                    TemplateStyle::Money { currency }
                }
                Some(other) => {
                    self.at(
                        span.clone(),
                        Some(api),
                        format!(
                            "`{{{inner}}}`: unknown rendering `{other}` (known: `money:<currency path>`, `date`, `dashboard`)"
                        ),
                    );
                    ok = false;
                    continue;
                }
            };
            parts.push(TemplatePart::Value { path, style });
        }
        ok.then_some(parts)
    }

    fn check_derived(
        &mut self,
        rule: Derived,
        inputs: &Spanned<std::collections::BTreeMap<String, String>>,
        api: &str,
        scope: &Scope<'_>,
        in_for_each: bool,
        max_amount: i64,
    ) -> Option<Checked> {
        let given = inputs.get_ref();
        for name in given.keys() {
            if !rule.inputs().iter().any(|(n, _, _)| n == name) {
                self.at(
                    inputs.span(),
                    Some(api),
                    format!(
                        "`{}` has no input `{name}` (inputs: {})",
                        rule.name(),
                        rule.inputs()
                            .iter()
                            .map(|(n, _, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        let mut paths = Vec::new();
        let mut optional = false;
        let mut status_values = None;
        let mut ok = true;
        for (name, kind, needed) in rule.inputs() {
            let Some(text) = given.get(*name) else {
                if *needed {
                    self.at(
                        inputs.span(),
                        Some(api),
                        format!("`{}` needs the input `{name}`", rule.name()),
                    );
                    ok = false;
                }
                paths.push(None);
                continue;
            };
            let Some((path, resolved)) = self.resolve(inputs.span(), api, scope, text, in_for_each)
            else {
                ok = false;
                paths.push(None);
                continue;
            };
            let fits = match kind {
                InputKind::Text => resolved.ty.is_text(),
                InputKind::Integer => resolved.ty.is_integer(),
                InputKind::Presence => true,
            };
            if !fits {
                self.at(
                    inputs.span(),
                    Some(api),
                    format!(
                        "input `{name}` of `{}` must be {}; `{text}` is {}",
                        rule.name(),
                        match kind {
                            InputKind::Text => "text",
                            InputKind::Integer => "an integer",
                            InputKind::Presence => "any value",
                        },
                        resolved.ty.describe()
                    ),
                );
                ok = false;
            }
            if *name == "status"
                && let StripeType::Enum(values) = &resolved.ty
            {
                status_values = Some(values.clone());
            }
            if *needed {
                optional |= resolved.optional;
            }
            paths.push(Some(path));
        }
        if !ok {
            return None;
        }
        let value = match rule.outputs(status_values.as_deref()) {
            Some(values) => Produced::Text {
                values: Some(values),
            },
            None if rule == Derived::RecurringAmount => Produced::Decimal {
                integer_digits: digits(max_amount),
                fraction_digits: MAX_CURRENCY_EXPONENT,
                why: "an amount in a three-decimal currency such as BHD or KWD",
            },
            None => Produced::Text { values: None },
        };
        Some(Checked {
            source: Source::Derived {
                rule,
                inputs: paths,
            },
            convert: Convert::None,
            value,
            optional,
            max: max_amount,
        })
    }

    /// Whether the value fits the field: type, digits, picklist values.
    #[allow(clippy::too_many_arguments)]
    fn check_fit(
        &mut self,
        span: &Range<usize>,
        api: &str,
        target: &Target,
        checked: &Checked,
        round: bool,
        fallback: Option<&str>,
        entry: &RawField,
    ) {
        let value = &checked.value;
        let mismatch = |this: &mut Self| {
            let from = entry
                .from
                .as_ref()
                .map(|f| format!("`{}` gives ", from_text(f)))
                .unwrap_or_default();
            this.at(
                span.clone(),
                Some(api),
                format!(
                    "types are incompatible: {from}{}, and the field is {}",
                    value.describe(),
                    target_describe(target)
                ),
            );
        };
        match (target, value) {
            (_, Produced::Null) => {}
            (
                Target::Text { .. } | Target::RecordId | Target::Ref { .. },
                Produced::Text { .. },
            ) => {}
            (Target::Bool, Produced::Bool)
            | (Target::Date, Produced::Date)
            | (Target::DateTime, Produced::DateTime) => {}
            (Target::Integer { precision }, Produced::Integer { bound }) => {
                if digits(*bound) > *precision {
                    self.at(span.clone(), Some(api), format!("a number can exceed the field's precision: values up to {bound} have {} digits, the field holds {precision} (lower `max` or the limits)", digits(*bound)));
                }
            }
            (Target::Decimal { precision, scale }, Produced::Integer { bound }) => {
                if digits(*bound) > precision.saturating_sub(*scale) {
                    self.at(span.clone(), Some(api), format!("a number can exceed the field's precision: values up to {bound} have {} digits, the field holds {} before the decimal point", digits(*bound), precision.saturating_sub(*scale)));
                }
            }
            (
                Target::Decimal { precision, scale },
                Produced::Decimal {
                    integer_digits,
                    fraction_digits,
                    why,
                },
            ) => {
                if *integer_digits > precision.saturating_sub(*scale) {
                    self.at(span.clone(), Some(api), format!("a number can exceed the field's precision: amounts up to the limit of {} minor units have {integer_digits} digits before the decimal point (in a zero-decimal currency), the field holds {}", checked.max, precision.saturating_sub(*scale)));
                }
                if fraction_digits > scale && !round {
                    self.at(span.clone(), Some(api), format!("a number can exceed the field's precision: {why} has {fraction_digits} decimal places and the field holds {scale}; add `round = true` to round to {scale} places with a warning, or give the field more decimal places"));
                }
            }
            (Target::Picklist { restricted, values }, Produced::Text { values: produced }) => {
                if let Some(fallback) = fallback
                    && *restricted
                    && !values.iter().any(|v| v == fallback)
                {
                    self.at(span.clone(), Some(api), format!("fallback \"{fallback}\" is not a value of the restricted picklist ({})", values.join(", ")));
                }
                if *restricted {
                    match produced {
                        Some(produced) => {
                            let table = matches!(checked.convert, Convert::Table(_));
                            let missing: Vec<&String> = produced
                                .iter()
                                .filter(|p| !values.contains(p) && Some(p.as_str()) != fallback)
                                .collect();
                            if (table || fallback.is_none()) && !missing.is_empty() {
                                let fixed = table || matches!(checked.source, Source::Const(_));
                                let what = if fixed { "writes" } else { "can give" };
                                let hint = if fixed {
                                    ""
                                } else {
                                    "; map them with a table or give a `fallback`"
                                };
                                self.at(span.clone(), Some(api), format!("{what} {} that the restricted picklist does not have (values: {}){hint}", missing.iter().map(|m| format!("\"{m}\"")).collect::<Vec<_>>().join(", "), values.join(", ")));
                            }
                        }
                        None if fallback.is_none() => {
                            self.at(span.clone(), Some(api), format!("the source is free text, so it can give values the restricted picklist does not have (values: {}): use a table or give a `fallback`", values.join(", ")));
                        }
                        None => {}
                    }
                }
            }
            _ => mismatch(self),
        }
        if let (Target::RecordId, Produced::Text { values: Some(_) }) = (target, value) {
            mismatch(self);
        }
    }

    /// On a mapping that can create records: every required field must be written.
    fn check_required(
        &mut self,
        span: Range<usize>,
        object: &Object,
        key: &KeyPlan,
        fields: &[FieldPlan],
    ) {
        for field in object.fields.iter().filter(|f| f.required && f.writable) {
            let mapped = field.api_name.eq_ignore_ascii_case(&key.field)
                || fields
                    .iter()
                    .any(|f| f.field.eq_ignore_ascii_case(&field.api_name));
            if !mapped {
                self.at(span.clone(), Some(&field.api_name), format!("`{}.{}` is required and the mapping does not write it: an upsert creating a record would be refused", object.api_name, field.api_name));
            }
        }
    }
}

fn constant(value: &toml::Value) -> Option<Const> {
    match value {
        toml::Value::String(s) => Some(Const::Text(s.clone())),
        toml::Value::Integer(n) => Some(Const::Integer(*n)),
        toml::Value::Boolean(b) => Some(Const::Bool(*b)),
        _ => None,
    }
}

fn from_text(from: &Spanned<super::file::OneOrMany>) -> String {
    from.get_ref().paths().join("`, `")
}

fn enum_union(types: &[&StripeType]) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for ty in types {
        let StripeType::Enum(values) = ty else {
            return None;
        };
        for value in values {
            if !out.contains(value) {
                out.push(value.clone());
            }
        }
    }
    Some(out)
}

fn target_describe(target: &Target) -> String {
    match target {
        Target::Text { length } => format!("text ({length})"),
        Target::Integer { precision } => format!("a whole number ({precision} digits)"),
        Target::Decimal { precision, scale } => format!("a number ({precision},{scale})"),
        Target::Bool => "a checkbox".into(),
        Target::Date => "a date".into(),
        Target::DateTime => "a datetime".into(),
        Target::Picklist {
            restricted: true, ..
        } => "a restricted picklist".into(),
        Target::Picklist { .. } => "a picklist".into(),
        Target::RecordId => "a lookup (Salesforce record Id)".into(),
        Target::Ref { parent_field, .. } => format!("a reference by `{parent_field}`"),
    }
}

/// Decimal digits of `n`'s absolute value.
pub fn digits(n: i64) -> u32 {
    let mut n = n.unsigned_abs();
    let mut count = 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}
