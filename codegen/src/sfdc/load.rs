//! Loads a force-app folder (Salesforce DX source format) into a [`Model`], checking that the
//! metadata is well formed and consistent. Every problem is reported with its file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use roxmltree::Node;

use super::error::{LoadError, MetadataError};
use super::model::{
    Computed, CustomMetadataRecord, Field, FieldOrigin, FieldPermission, FieldType, GlobalValueSet,
    Model, Object, ObjectKind, ObjectPermission, PermissionSet, Picklist, PicklistValue,
    SourceLocation,
};
use super::standard;
use super::xml::{MetadataDoc, child, child_text, children, is_nil};

/// Field types that exist in Salesforce but that the generator does not map.
const UNSUPPORTED_TYPES: [&str; 9] = [
    "Location",
    "ExternalLookup",
    "IndirectLookup",
    "MetadataRelationship",
    "Hierarchy",
    "File",
    "Note",
    "Summary",
    "Geolocation",
];

/// Reads every metadata file under `root` (a package directory such as `force-app/`).
pub fn load(root: &Path) -> Result<Model, LoadError> {
    let files = Files::collect(root)?;
    let mut loader = Loader::default();
    for path in &files.global_value_sets {
        let text = read(path)?;
        loader.global_value_set(path, &text);
    }
    for (name, folder) in &files.objects {
        if name.eq_ignore_ascii_case(standard::ACTIVITY) {
            // Activity holds the custom fields of Tasks (and Events), not an object of its own.
            for activity in standard::ACTIVITY_OBJECTS {
                loader.object(activity, folder)?;
            }
        } else {
            loader.object(name, folder)?;
        }
    }
    loader.resolve_global_value_sets();
    for path in &files.permission_sets {
        let text = read(path)?;
        loader.permission_set(path, &text);
    }
    loader.add_standard_objects();
    loader.check_references();
    loader.check_permission_sets();
    for path in &files.custom_metadata {
        let text = read(path)?;
        loader.custom_metadata(path, &text);
    }
    loader.finish()
}

fn read(path: &Path) -> Result<String, LoadError> {
    fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The metadata files of a package directory, grouped by kind.
#[derive(Default)]
struct Files {
    objects: BTreeMap<String, ObjectFolder>,
    global_value_sets: Vec<PathBuf>,
    permission_sets: Vec<PathBuf>,
    custom_metadata: Vec<PathBuf>,
}

#[derive(Default)]
struct ObjectFolder {
    definition: Option<PathBuf>,
    fields: Vec<PathBuf>,
}

impl Files {
    fn collect(root: &Path) -> Result<Files, LoadError> {
        let mut paths = Vec::new();
        walk(root, &mut paths)?;
        paths.sort();
        let mut files = Files::default();
        for path in paths {
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            let name = name.as_str();
            let parent = dir_name(path.parent()).map(str::to_string);
            let parent = parent.as_deref();
            if let Some(stem) = name.strip_suffix(".object-meta.xml") {
                files
                    .objects
                    .entry(stem.to_string())
                    .or_default()
                    .definition = Some(path);
            } else if name.ends_with(".field-meta.xml") && parent == Some("fields") {
                let object = dir_name(path.parent().and_then(Path::parent))
                    .unwrap_or_default()
                    .to_string();
                files.objects.entry(object).or_default().fields.push(path);
            } else if name.ends_with(".globalValueSet-meta.xml") {
                files.global_value_sets.push(path);
            } else if name.ends_with(".permissionset-meta.xml") {
                files.permission_sets.push(path);
            } else if name.ends_with(".md-meta.xml") {
                files.custom_metadata.push(path);
            }
        }
        Ok(files)
    }
}

fn dir_name(path: Option<&Path>) -> Option<&str> {
    path.and_then(Path::file_name).and_then(|n| n.to_str())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[derive(Default)]
struct Loader {
    model: Model,
    errors: Vec<MetadataError>,
}

impl Loader {
    fn finish(mut self) -> Result<Model, LoadError> {
        if !self.errors.is_empty() {
            self.errors
                .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
            self.errors.dedup();
            return Err(LoadError::Invalid(self.errors));
        }
        self.model
            .objects
            .sort_by(|a, b| a.api_name.cmp(&b.api_name));
        self.model
            .global_value_sets
            .sort_by(|a, b| a.name.cmp(&b.name));
        self.model
            .permission_sets
            .sort_by(|a, b| a.name.cmp(&b.name));
        self.model.custom_metadata.sort_by(|a, b| {
            (&a.type_name, &a.developer_name).cmp(&(&b.type_name, &b.developer_name))
        });
        Ok(self.model)
    }

    fn global_value_set(&mut self, path: &Path, text: &str) {
        let doc = match MetadataDoc::parse(path, text, "GlobalValueSet") {
            Ok(doc) => doc,
            Err(e) => return self.errors.push(e),
        };
        let root = doc.root();
        let name = file_stem(path, ".globalValueSet-meta.xml");
        let mut values = Vec::new();
        for value in children(root, "customValue") {
            if let Some(v) = self.picklist_value(&doc, value) {
                values.push(v);
            }
        }
        if values.is_empty() {
            self.errors.push(doc.error(
                root,
                format!("global value set `{name}` has no values (add <customValue> entries)"),
            ));
        }
        self.check_duplicate_values(&doc, root, &values, &format!("global value set `{name}`"));
        let label = child_text(root, "masterLabel").unwrap_or(&name).to_string();
        if self.model.global_value_set(&name).is_some() {
            self.errors
                .push(doc.error(root, format!("global value set `{name}` is declared twice")));
            return;
        }
        self.model.global_value_sets.push(GlobalValueSet {
            name,
            label,
            values,
            source: SourceLocation {
                file: path.to_path_buf(),
                line: doc.line(root),
            },
        });
    }

    fn object(&mut self, name: &str, folder: &ObjectFolder) -> Result<(), LoadError> {
        let kind = if name.ends_with("__c") {
            ObjectKind::Custom
        } else if name.ends_with("__mdt") {
            ObjectKind::CustomMetadataType
        } else {
            ObjectKind::Standard
        };
        let mut object = match kind {
            ObjectKind::Standard => match standard::standard_object(name) {
                Some(object) => object,
                None => {
                    let file = folder
                        .definition
                        .clone()
                        .or_else(|| folder.fields.first().cloned())
                        .unwrap_or_default();
                    self.errors.push(MetadataError::new(
                        &file,
                        1,
                        format!(
                            "`{name}` is not a custom object (no __c or __mdt suffix) nor a standard object the generator knows ({})",
                            standard::STANDARD_OBJECTS.join(", ")
                        ),
                    ));
                    return Ok(());
                }
            },
            _ => {
                let Some(path) = &folder.definition else {
                    let file = folder.fields.first().cloned().unwrap_or_default();
                    self.errors.push(MetadataError::new(
                        &file,
                        1,
                        format!("object `{name}` has fields but no {name}.object-meta.xml"),
                    ));
                    return Ok(());
                };
                let text = read(path)?;
                match self.object_definition(name, kind, path, &text) {
                    Some(object) => object,
                    None => return Ok(()),
                }
            }
        };
        let mut custom = Vec::new();
        for path in &folder.fields {
            let text = read(path)?;
            if let Some(field) = self.field(name, kind, path, &text) {
                custom.push(field);
            }
        }
        custom.sort_by(|a, b| a.api_name.cmp(&b.api_name));
        if kind == ObjectKind::Custom {
            let owned = !custom
                .iter()
                .any(|f| f.field_type == FieldType::MasterDetail);
            let mut system = standard::custom_object_system_fields(owned);
            system.append(&mut object.fields);
            system.sort_by(|a, b| a.api_name.cmp(&b.api_name));
            object.fields = system;
        }
        self.check_duplicate_fields(&object.fields, &custom);
        object.fields.extend(custom);
        if self.model.object(&object.api_name).is_some() {
            self.errors.push(MetadataError::new(
                folder.definition.as_deref().unwrap_or(Path::new(name)),
                1,
                format!("object `{name}` is declared twice (API names are case-insensitive)"),
            ));
            return Ok(());
        }
        self.model.objects.push(object);
        Ok(())
    }

    fn object_definition(
        &mut self,
        name: &str,
        kind: ObjectKind,
        path: &Path,
        text: &str,
    ) -> Option<Object> {
        let doc = match MetadataDoc::parse(path, text, "CustomObject") {
            Ok(doc) => doc,
            Err(e) => {
                self.errors.push(e);
                return None;
            }
        };
        let root = doc.root();
        let Some(label) = child_text(root, "label") else {
            self.errors
                .push(doc.error(root, format!("object `{name}` has no <label>")));
            return None;
        };
        let mut fields = Vec::new();
        match kind {
            ObjectKind::CustomMetadataType => {
                fields = standard::custom_metadata_system_fields();
            }
            _ => match child(root, "nameField") {
                Some(node) => {
                    if let Some(f) = self.name_field(&doc, node) {
                        fields.push(f);
                    }
                }
                None => self
                    .errors
                    .push(doc.error(root, format!("custom object `{name}` has no <nameField>"))),
            },
        }
        Some(Object {
            api_name: name.to_string(),
            label: label.to_string(),
            plural_label: child_text(root, "pluralLabel").map(str::to_string),
            kind,
            description: child_text(root, "description").map(str::to_string),
            sharing_model: child_text(root, "sharingModel").map(str::to_string),
            fields,
            source: Some(SourceLocation {
                file: path.to_path_buf(),
                line: doc.line(root),
            }),
        })
    }

    fn name_field(&mut self, doc: &MetadataDoc<'_>, node: Node<'_, '_>) -> Option<Field> {
        let label = child_text(node, "label").unwrap_or("Name");
        let mut field = blank_field("Name", label, FieldType::Text, FieldOrigin::Standard);
        field.source = Some(SourceLocation {
            file: doc.path.to_path_buf(),
            line: doc.line(node),
        });
        match child_text(node, "type") {
            Some("Text") => field.length = Some(80),
            Some("AutoNumber") => {
                field.field_type = FieldType::AutoNumber;
                field.length = Some(30);
                field.computed = Some(Computed::AutoNumber);
                field.writable = false;
            }
            other => {
                self.errors.push(doc.error(
                    node,
                    format!(
                        "name field type must be Text or AutoNumber, found `{}`",
                        other.unwrap_or("")
                    ),
                ));
                return None;
            }
        }
        Some(field)
    }

    fn field(&mut self, object: &str, kind: ObjectKind, path: &Path, text: &str) -> Option<Field> {
        let doc = match MetadataDoc::parse(path, text, "CustomField") {
            Ok(doc) => doc,
            Err(e) => {
                self.errors.push(e);
                return None;
            }
        };
        let root = doc.root();
        let stem = file_stem(path, ".field-meta.xml");
        let Some(full_name) = child_text(root, "fullName") else {
            self.errors.push(doc.error(root, "field has no <fullName>"));
            return None;
        };
        if full_name != stem {
            self.errors.push(doc.error(
                child(root, "fullName").unwrap_or(root),
                format!("<fullName> `{full_name}` does not match the file name `{stem}`"),
            ));
            return None;
        }
        let custom_suffix = full_name.ends_with("__c");
        if !custom_suffix {
            self.errors.push(doc.error(
                root,
                format!("custom field `{object}.{full_name}` must end in __c"),
            ));
            return None;
        }
        let label = child_text(root, "label").unwrap_or(full_name);
        let Some(type_node) = child(root, "type") else {
            self.errors
                .push(doc.error(root, format!("field `{object}.{full_name}` has no <type>")));
            return None;
        };
        let type_name = type_node.text().unwrap_or("").trim();
        let Some(field_type) = FieldType::parse(type_name) else {
            let message = if UNSUPPORTED_TYPES.contains(&type_name) {
                format!(
                    "field type `{type_name}` of `{object}.{full_name}` is not supported by the generator"
                )
            } else {
                format!(
                    "unknown field type `{type_name}` for `{object}.{full_name}` (expected one of: {})",
                    FieldType::ALL
                        .iter()
                        .filter(|t| **t != FieldType::Id)
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            self.errors.push(doc.error(type_node, message));
            return None;
        };
        if field_type == FieldType::Id {
            self.errors.push(doc.error(
                type_node,
                format!("field `{object}.{full_name}` cannot have type Id"),
            ));
            return None;
        }
        let mut field = blank_field(full_name, label, field_type, FieldOrigin::Custom);
        field.description = child_text(root, "description").map(str::to_string);
        field.source = Some(SourceLocation {
            file: path.to_path_buf(),
            line: doc.line(root),
        });
        let before = self.errors.len();
        let what = format!("`{object}.{full_name}`");
        field.required = self.bool_child(&doc, root, "required").unwrap_or(false);
        field.unique = self.bool_child(&doc, root, "unique").unwrap_or(false);
        field.external_id = self.bool_child(&doc, root, "externalId").unwrap_or(false);
        field.case_sensitive = self
            .bool_child(&doc, root, "caseSensitive")
            .unwrap_or(false);
        field.default_value = child_text(root, "defaultValue").map(str::to_string);
        if let Some(formula) = child_text(root, "formula") {
            field.computed = Some(Computed::Formula(formula.to_string()));
            field.writable = false;
        }
        self.field_shape(&doc, root, &mut field, &what);
        if kind == ObjectKind::CustomMetadataType && field.field_type.is_reference() {
            self.errors.push(doc.error(
                type_node,
                format!("{what}: custom metadata types cannot have {type_name} fields"),
            ));
        }
        if field.external_id
            && !matches!(
                field.field_type,
                FieldType::Text | FieldType::Number | FieldType::Email | FieldType::AutoNumber
            )
        {
            self.errors.push(doc.error(
                child(root, "externalId").unwrap_or(root),
                format!("{what}: a {type_name} field cannot be an external id (only Text, Number, Email and AutoNumber can)"),
            ));
        }
        if field.unique
            && !matches!(
                field.field_type,
                FieldType::Text | FieldType::Number | FieldType::Email
            )
        {
            self.errors.push(doc.error(
                child(root, "unique").unwrap_or(root),
                format!("{what}: a {type_name} field cannot be unique"),
            ));
        }
        if field.required && field.computed.is_some() {
            self.errors.push(doc.error(
                child(root, "required").unwrap_or(root),
                format!("{what}: a formula field cannot be required"),
            ));
        }
        (self.errors.len() == before).then_some(field)
    }

    /// Reads the type-specific attributes: length, precision, picklist values, parent.
    fn field_shape(
        &mut self,
        doc: &MetadataDoc<'_>,
        root: Node<'_, '_>,
        field: &mut Field,
        what: &str,
    ) {
        match field.field_type {
            FieldType::Text => field.length = self.length(doc, root, what, 1, 255),
            FieldType::EncryptedText => field.length = self.length(doc, root, what, 1, 175),
            FieldType::LongTextArea | FieldType::Html => {
                field.length = self.length(doc, root, what, 256, 131_072);
                if child(root, "visibleLines").is_none() {
                    self.errors.push(doc.error(
                        root,
                        format!("{what}: long text fields need <visibleLines>"),
                    ));
                }
            }
            FieldType::TextArea | FieldType::Url => field.length = Some(255),
            FieldType::Email => field.length = Some(80),
            FieldType::Phone => field.length = Some(40),
            FieldType::AutoNumber => {
                field.length = Some(30);
                field.computed = Some(Computed::AutoNumber);
                field.writable = false;
                if child(root, "displayFormat").is_none() {
                    self.errors.push(doc.error(
                        root,
                        format!("{what}: auto number fields need <displayFormat>"),
                    ));
                }
            }
            FieldType::Number | FieldType::Currency | FieldType::Percent => {
                let precision = self.u32_child(doc, root, "precision", what);
                let scale = self.u32_child(doc, root, "scale", what);
                match (precision, scale) {
                    (Some(p), Some(s)) if (1..=18).contains(&p) && s <= p => {
                        field.precision = Some(p);
                        field.scale = Some(s);
                    }
                    (Some(p), Some(s)) => self.errors.push(doc.error(
                        child(root, "precision").unwrap_or(root),
                        format!("{what}: precision {p} and scale {s} are out of range (precision 1 to 18, scale at most the precision)"),
                    )),
                    _ => {}
                }
            }
            FieldType::Checkbox => match child_text(root, "defaultValue") {
                Some("true" | "false") => {}
                Some(other) => self.errors.push(doc.error(
                    child(root, "defaultValue").unwrap_or(root),
                    format!("{what}: checkbox default must be true or false, found `{other}`"),
                )),
                None if field.computed.is_none() => self.errors.push(doc.error(
                    root,
                    format!("{what}: checkbox fields need a <defaultValue> of true or false"),
                )),
                None => {}
            },
            FieldType::Picklist | FieldType::MultiselectPicklist => {
                field.length = Some(255);
                field.picklist = self.picklist(doc, root, what);
                if field.field_type == FieldType::MultiselectPicklist
                    && child(root, "visibleLines").is_none()
                {
                    self.errors.push(doc.error(
                        root,
                        format!("{what}: multi-select picklists need <visibleLines>"),
                    ));
                }
            }
            FieldType::Lookup | FieldType::MasterDetail => {
                field.length = Some(18);
                field.reference_to = child_text(root, "referenceTo").map(str::to_string);
                field.relationship_name = field
                    .api_name
                    .strip_suffix("__c")
                    .map(|stem| format!("{stem}__r"));
                field.child_relationship_name =
                    child_text(root, "relationshipName").map(|r| format!("{r}__r"));
                if field.reference_to.is_none() {
                    self.errors.push(doc.error(
                        root,
                        format!("{what}: relationship fields need <referenceTo>"),
                    ));
                }
                if field.child_relationship_name.is_none() {
                    self.errors.push(doc.error(
                        root,
                        format!("{what}: relationship fields need <relationshipName>"),
                    ));
                }
                if field.field_type == FieldType::MasterDetail {
                    field.required = true;
                }
            }
            FieldType::Date | FieldType::DateTime | FieldType::Time | FieldType::Id => {}
        }
    }

    fn length(
        &mut self,
        doc: &MetadataDoc<'_>,
        root: Node<'_, '_>,
        what: &str,
        min: u32,
        max: u32,
    ) -> Option<u32> {
        let length = self.u32_child(doc, root, "length", what)?;
        if !(min..=max).contains(&length) {
            self.errors.push(doc.error(
                child(root, "length").unwrap_or(root),
                format!("{what}: length {length} is out of range ({min} to {max})"),
            ));
            return None;
        }
        Some(length)
    }

    fn u32_child(
        &mut self,
        doc: &MetadataDoc<'_>,
        root: Node<'_, '_>,
        name: &str,
        what: &str,
    ) -> Option<u32> {
        let Some(node) = child(root, name) else {
            self.errors
                .push(doc.error(root, format!("{what}: <{name}> is missing")));
            return None;
        };
        let text = node.text().unwrap_or("").trim();
        match text.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.errors.push(doc.error(
                    node,
                    format!("{what}: <{name}> must be a whole number, found `{text}`"),
                ));
                None
            }
        }
    }

    fn bool_child(
        &mut self,
        doc: &MetadataDoc<'_>,
        root: Node<'_, '_>,
        name: &str,
    ) -> Option<bool> {
        let node = child(root, name)?;
        self.bool_node(doc, node)
    }

    fn bool_node(&mut self, doc: &MetadataDoc<'_>, node: Node<'_, '_>) -> Option<bool> {
        match node.text().unwrap_or("").trim() {
            "true" => Some(true),
            "false" => Some(false),
            other => {
                self.errors.push(doc.error(
                    node,
                    format!(
                        "<{}> must be true or false, found `{other}`",
                        node.tag_name().name()
                    ),
                ));
                None
            }
        }
    }

    fn picklist(
        &mut self,
        doc: &MetadataDoc<'_>,
        root: Node<'_, '_>,
        what: &str,
    ) -> Option<Picklist> {
        let Some(value_set) = child(root, "valueSet") else {
            self.errors
                .push(doc.error(root, format!("{what}: picklist has no <valueSet>")));
            return None;
        };
        let restricted = self
            .bool_child(doc, value_set, "restricted")
            .unwrap_or(false);
        if let Some(name) = child_text(value_set, "valueSetName") {
            // Resolved once every global value set is known. Picklists on a global value set
            // are always restricted.
            return Some(Picklist {
                restricted: true,
                values: Vec::new(),
                global_value_set: Some(name.to_string()),
            });
        }
        let values: Vec<PicklistValue> = child(value_set, "valueSetDefinition")
            .map(|def| {
                children(def, "value")
                    .filter_map(|v| self.picklist_value(doc, v))
                    .collect()
            })
            .unwrap_or_default();
        if values.is_empty() {
            self.errors.push(doc.error(
                value_set,
                format!("{what}: picklist without values (add <value> entries to <valueSetDefinition> or name a global value set)"),
            ));
            return None;
        }
        self.check_duplicate_values(doc, value_set, &values, what);
        Some(Picklist {
            restricted,
            values,
            global_value_set: None,
        })
    }

    fn picklist_value(
        &mut self,
        doc: &MetadataDoc<'_>,
        node: Node<'_, '_>,
    ) -> Option<PicklistValue> {
        let Some(api_name) = child_text(node, "fullName") else {
            self.errors
                .push(doc.error(node, "picklist value has no <fullName>"));
            return None;
        };
        let label = child_text(node, "label").unwrap_or(api_name);
        let default = self.bool_child(doc, node, "default").unwrap_or(false);
        Some(PicklistValue {
            api_name: api_name.to_string(),
            label: label.to_string(),
            default,
        })
    }

    fn check_duplicate_values(
        &mut self,
        doc: &MetadataDoc<'_>,
        node: Node<'_, '_>,
        values: &[PicklistValue],
        what: &str,
    ) {
        let mut seen = BTreeSet::new();
        for v in values {
            if !seen.insert(v.api_name.to_lowercase()) {
                self.errors.push(doc.error(
                    node,
                    format!("{what}: duplicate picklist value `{}`", v.api_name),
                ));
            }
        }
    }

    fn check_duplicate_fields(&mut self, existing: &[Field], custom: &[Field]) {
        let mut seen: BTreeMap<String, &Field> = existing
            .iter()
            .map(|f| (f.api_name.to_lowercase(), f))
            .collect();
        for field in custom {
            let source = field.source.clone().unwrap_or(SourceLocation {
                file: PathBuf::new(),
                line: 1,
            });
            if let Some(first) = seen.insert(field.api_name.to_lowercase(), field) {
                self.errors.push(MetadataError::new(
                    &source.file,
                    source.line,
                    format!(
                        "duplicate field API name `{}` (also declared as `{}`; API names are case-insensitive)",
                        field.api_name, first.api_name
                    ),
                ));
            }
        }
    }

    fn resolve_global_value_sets(&mut self) {
        let mut errors = Vec::new();
        for object in &mut self.model.objects {
            for field in &mut object.fields {
                let Some(picklist) = &mut field.picklist else {
                    continue;
                };
                let Some(name) = &picklist.global_value_set else {
                    continue;
                };
                match self
                    .model
                    .global_value_sets
                    .iter()
                    .find(|g| g.name.eq_ignore_ascii_case(name))
                {
                    Some(set) => picklist.values = set.values.clone(),
                    None => {
                        let at = field.source.clone().unwrap_or(SourceLocation {
                            file: PathBuf::new(),
                            line: 1,
                        });
                        errors.push(MetadataError::new(
                            &at.file,
                            at.line,
                            format!(
                                "`{}.{}` uses global value set `{name}`, which is not in force-app",
                                object.api_name, field.api_name
                            ),
                        ));
                    }
                }
            }
        }
        self.errors.extend(errors);
    }

    /// Adds the standard objects that fields and permission sets refer to, transitively.
    fn add_standard_objects(&mut self) {
        let mut queue: Vec<String> = self
            .model
            .objects
            .iter()
            .flat_map(|o| o.fields.iter().filter_map(|f| f.reference_to.clone()))
            .chain(
                self.model
                    .permission_sets
                    .iter()
                    .flat_map(|p| p.objects.iter().map(|o| o.object.clone())),
            )
            .collect();
        while let Some(name) = queue.pop() {
            if self.model.object(&name).is_some() {
                continue;
            }
            if let Some(object) = standard::standard_object(&name) {
                queue.extend(object.fields.iter().filter_map(|f| f.reference_to.clone()));
                self.model.objects.push(object);
            }
        }
    }

    fn check_references(&mut self) {
        let mut errors = Vec::new();
        let mut child_relationships: BTreeMap<(String, String), String> = BTreeMap::new();
        for object in &self.model.objects {
            for field in &object.fields {
                let (Some(target), Some(at)) = (&field.reference_to, &field.source) else {
                    continue;
                };
                if let Some(child) = &field.child_relationship_name {
                    let key = (target.to_lowercase(), child.to_lowercase());
                    let this = format!("{}.{}", object.api_name, field.api_name);
                    if let Some(first) = child_relationships.insert(key, this) {
                        errors.push(MetadataError::new(
                            &at.file,
                            at.line,
                            format!(
                                "child relationship name `{child}` of `{}.{}` is already used on `{target}` by `{first}`",
                                object.api_name, field.api_name
                            ),
                        ));
                    }
                }
                if self.model.object(target).is_none() {
                    errors.push(MetadataError::new(
                        &at.file,
                        at.line,
                        format!(
                            "`{}.{}` is a {} to `{target}`, which is neither in force-app nor a known standard object ({})",
                            object.api_name,
                            field.api_name,
                            field.field_type.as_str(),
                            standard::STANDARD_OBJECTS.join(", ")
                        ),
                    ));
                }
            }
        }
        self.errors.extend(errors);
    }

    fn permission_set(&mut self, path: &Path, text: &str) {
        let doc = match MetadataDoc::parse(path, text, "PermissionSet") {
            Ok(doc) => doc,
            Err(e) => return self.errors.push(e),
        };
        let root = doc.root();
        let name = file_stem(path, ".permissionset-meta.xml");
        let mut set = PermissionSet {
            label: child_text(root, "label").unwrap_or(&name).to_string(),
            name,
            objects: Vec::new(),
            fields: Vec::new(),
            user_permissions: Vec::new(),
            source: SourceLocation {
                file: path.to_path_buf(),
                line: doc.line(root),
            },
        };
        for node in children(root, "objectPermissions") {
            let Some(object) = child_text(node, "object") else {
                self.errors
                    .push(doc.error(node, "<objectPermissions> has no <object>"));
                continue;
            };
            let mut flag = |name| self.bool_child(&doc, node, name).unwrap_or(false);
            set.objects.push(ObjectPermission {
                object: object.to_string(),
                create: flag("allowCreate"),
                read: flag("allowRead"),
                edit: flag("allowEdit"),
                delete: flag("allowDelete"),
            });
        }
        for node in children(root, "fieldPermissions") {
            let Some(field) = child_text(node, "field") else {
                self.errors
                    .push(doc.error(node, "<fieldPermissions> has no <field>"));
                continue;
            };
            let Some((object, field)) = field.split_once('.') else {
                self.errors.push(doc.error(
                    node,
                    format!("<field> `{field}` must be written Object.Field"),
                ));
                continue;
            };
            let mut flag = |name| self.bool_child(&doc, node, name).unwrap_or(false);
            set.fields.push(FieldPermission {
                object: object.to_string(),
                field: field.to_string(),
                readable: flag("readable"),
                editable: flag("editable"),
            });
        }
        for node in children(root, "userPermissions") {
            let Some(name) = child_text(node, "name") else {
                self.errors
                    .push(doc.error(node, "<userPermissions> has no <name>"));
                continue;
            };
            if self.bool_child(&doc, node, "enabled").unwrap_or(false) {
                set.user_permissions.push(name.to_string());
            }
        }
        self.model.permission_sets.push(set);
    }

    /// Every object and field a permission set names must exist; required and master-detail
    /// fields cannot be listed (Salesforce rejects the deployment).
    fn check_permission_sets(&mut self) {
        let mut errors = Vec::new();
        for set in &self.model.permission_sets {
            let at = |what: &str| {
                MetadataError::new(&set.source.file, set.source.line, what.to_string())
            };
            for p in &set.objects {
                if self.model.object(&p.object).is_none() {
                    errors.push(at(&format!(
                        "permission set `{}` grants access to object `{}`, which is not in force-app nor a known standard object",
                        set.name, p.object
                    )));
                }
            }
            for p in &set.fields {
                // `Activity.Field__c` grants a custom field of the activity objects (Tasks).
                let object = if p.object.eq_ignore_ascii_case(standard::ACTIVITY) {
                    standard::ACTIVITY_OBJECTS[0]
                } else {
                    p.object.as_str()
                };
                let field = self.model.object(object).and_then(|o| o.field(&p.field));
                match field {
                    None => errors.push(at(&format!(
                        "permission set `{}` grants access to field `{}.{}`, which does not exist",
                        set.name, p.object, p.field
                    ))),
                    Some(f) if f.required || f.field_type == FieldType::MasterDetail => {
                        errors.push(at(&format!(
                            "permission set `{}` lists `{}.{}`, but required and master-detail fields cannot be listed in permission sets",
                            set.name, p.object, p.field
                        )))
                    }
                    Some(f) if p.editable && f.read_only() => errors.push(at(&format!(
                        "permission set `{}` makes `{}.{}` editable, but the field is read-only",
                        set.name, p.object, p.field
                    ))),
                    Some(_) => {}
                }
            }
        }
        self.errors.extend(errors);
    }

    fn custom_metadata(&mut self, path: &Path, text: &str) {
        let doc = match MetadataDoc::parse(path, text, "CustomMetadata") {
            Ok(doc) => doc,
            Err(e) => return self.errors.push(e),
        };
        let root = doc.root();
        let stem = file_stem(path, ".md-meta.xml");
        let Some((type_stem, developer_name)) = stem.split_once('.') else {
            self.errors.push(doc.error(
                root,
                format!("custom metadata file name `{stem}` must be Type.RecordName"),
            ));
            return;
        };
        let type_name = format!("{type_stem}__mdt");
        let Some(object) = self.model.object(&type_name).cloned() else {
            self.errors.push(doc.error(
                root,
                format!("custom metadata record `{stem}` is of type `{type_name}`, which is not in force-app"),
            ));
            return;
        };
        let mut values = Vec::new();
        for node in children(root, "values") {
            let Some(field_name) = child_text(node, "field") else {
                self.errors.push(doc.error(node, "<values> has no <field>"));
                continue;
            };
            let Some(field) = object.field(field_name) else {
                self.errors.push(doc.error(
                    node,
                    format!("custom metadata record `{stem}` sets `{field_name}`, which `{type_name}` does not have"),
                ));
                continue;
            };
            let value_node = child(node, "value");
            let value = match value_node {
                Some(v) if is_nil(v) => None,
                Some(v) => Some(v.text().unwrap_or("").to_string()),
                None => None,
            };
            if let (Some(v), Some(node)) = (&value, value_node)
                && let Err(why) = check_literal(field, v)
            {
                self.errors.push(doc.error(
                    node,
                    format!("custom metadata record `{stem}`: `{field_name}` {why}"),
                ));
            }
            values.push((field.api_name.clone(), value));
        }
        for field in object.fields.iter().filter(|f| f.required && f.writable) {
            if !values
                .iter()
                .any(|(name, v)| name == &field.api_name && v.is_some())
            {
                self.errors.push(doc.error(
                    root,
                    format!(
                        "custom metadata record `{stem}` has no value for required field `{}`",
                        field.api_name
                    ),
                ));
            }
        }
        self.model.custom_metadata.push(CustomMetadataRecord {
            type_name,
            developer_name: developer_name.to_string(),
            label: child_text(root, "label")
                .unwrap_or(developer_name)
                .to_string(),
            values,
            source: SourceLocation {
                file: path.to_path_buf(),
                line: doc.line(root),
            },
        });
    }
}

/// Checks a literal written in metadata against the field it is for.
fn check_literal(field: &Field, value: &str) -> Result<(), String> {
    match field.field_type {
        FieldType::Checkbox if !matches!(value, "true" | "false") => {
            Err(format!("must be true or false, found `{value}`"))
        }
        t if t.is_numeric() && value.parse::<f64>().is_err() => {
            Err(format!("must be a number, found `{value}`"))
        }
        _ => match field.length {
            Some(max)
                if field.field_type.is_text() && value.encode_utf16().count() > max as usize =>
            {
                Err(format!("is longer than {max} characters"))
            }
            _ => Ok(()),
        },
    }
}

fn file_stem(path: &Path, suffix: &str) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(suffix))
        .unwrap_or_default()
        .to_string()
}

fn blank_field(api_name: &str, label: &str, field_type: FieldType, origin: FieldOrigin) -> Field {
    Field {
        api_name: api_name.to_string(),
        label: label.to_string(),
        field_type,
        length: None,
        precision: None,
        scale: None,
        required: false,
        unique: false,
        external_id: false,
        case_sensitive: false,
        picklist: None,
        default_value: None,
        reference_to: None,
        relationship_name: None,
        child_relationship_name: None,
        computed: None,
        writable: true,
        origin,
        description: None,
        source: None,
    }
}
