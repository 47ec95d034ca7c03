//! The Salesforce data model as read from source-format metadata: objects, fields, picklists,
//! permission sets and custom metadata records, with every attribute that matters when writing data.

use std::path::PathBuf;

use serde::Serialize;

/// Where an item was declared: a metadata file and the line of the element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceLocation {
    /// The metadata file.
    pub file: PathBuf,
    /// One-based line of the element in that file.
    pub line: u32,
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// The whole data model of one force-app folder.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Model {
    /// Objects, custom and standard, sorted by API name.
    pub objects: Vec<Object>,
    /// Global value sets, sorted by name.
    pub global_value_sets: Vec<GlobalValueSet>,
    /// Permission sets, sorted by name.
    pub permission_sets: Vec<PermissionSet>,
    /// Custom metadata records, sorted by type then name.
    pub custom_metadata: Vec<CustomMetadataRecord>,
}

impl Model {
    /// The object with this API name (Salesforce API names are case-insensitive).
    pub fn object(&self, api_name: &str) -> Option<&Object> {
        self.objects
            .iter()
            .find(|o| o.api_name.eq_ignore_ascii_case(api_name))
    }

    /// The global value set with this name.
    pub fn global_value_set(&self, name: &str) -> Option<&GlobalValueSet> {
        self.global_value_sets
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
    }

    /// The permission set with this name.
    pub fn permission_set(&self, name: &str) -> Option<&PermissionSet> {
        self.permission_sets
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

/// What kind of object this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ObjectKind {
    /// A custom object (`__c`).
    Custom,
    /// A standard object (Contact, Account, ...), possibly extended with custom fields.
    Standard,
    /// A custom metadata type (`__mdt`): readable through the API, not writable with DML.
    CustomMetadataType,
}

/// One SObject with all its fields.
#[derive(Debug, Clone, Serialize)]
pub struct Object {
    /// API name, e.g. `Stripe_Customer__c`.
    pub api_name: String,
    /// Singular label.
    pub label: String,
    /// Plural label, when the metadata gives one.
    pub plural_label: Option<String>,
    /// Custom, standard or custom metadata type.
    pub kind: ObjectKind,
    /// Description from the metadata.
    pub description: Option<String>,
    /// Sharing model (`ReadWrite`, `ControlledByParent`, ...), when given.
    pub sharing_model: Option<String>,
    /// Fields: system and standard fields first, then custom fields, each group sorted by API name.
    pub fields: Vec<Field>,
    /// Where the object was declared (`None` for built-in standard objects).
    pub source: Option<SourceLocation>,
}

impl Object {
    /// The field with this API name (case-insensitive).
    pub fn field(&self, api_name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.api_name.eq_ignore_ascii_case(api_name))
    }

    /// Whether records of this object can be written through the data APIs.
    pub fn writable(&self) -> bool {
        self.kind != ObjectKind::CustomMetadataType
    }

    /// Fields usable as external ids in upserts and parent references.
    pub fn external_ids(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.external_id)
    }
}

/// Salesforce field types the generator understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum FieldType {
    /// Record Id.
    Id,
    /// Text with a length.
    Text,
    /// Text area (255).
    TextArea,
    /// Long text area with a length.
    LongTextArea,
    /// Rich text area.
    Html,
    /// Email address (80).
    Email,
    /// Phone number (40).
    Phone,
    /// URL (255).
    Url,
    /// Encrypted text with a length.
    EncryptedText,
    /// Number with precision and scale.
    Number,
    /// Currency amount with precision and scale.
    Currency,
    /// Percentage with precision and scale.
    Percent,
    /// Boolean, never null.
    Checkbox,
    /// Calendar date.
    Date,
    /// Instant in time.
    DateTime,
    /// Time of day.
    Time,
    /// Single-select picklist.
    Picklist,
    /// Multi-select picklist (`a;b`).
    MultiselectPicklist,
    /// Lookup relationship to a parent.
    Lookup,
    /// Master-detail relationship to a parent.
    MasterDetail,
    /// Auto number, read-only text.
    AutoNumber,
}

impl FieldType {
    /// Every supported type, in declaration order.
    pub const ALL: [FieldType; 21] = [
        FieldType::Id,
        FieldType::Text,
        FieldType::TextArea,
        FieldType::LongTextArea,
        FieldType::Html,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Url,
        FieldType::EncryptedText,
        FieldType::Number,
        FieldType::Currency,
        FieldType::Percent,
        FieldType::Checkbox,
        FieldType::Date,
        FieldType::DateTime,
        FieldType::Time,
        FieldType::Picklist,
        FieldType::MultiselectPicklist,
        FieldType::Lookup,
        FieldType::MasterDetail,
        FieldType::AutoNumber,
    ];

    /// The name Salesforce metadata uses for this type.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Id => "Id",
            FieldType::Text => "Text",
            FieldType::TextArea => "TextArea",
            FieldType::LongTextArea => "LongTextArea",
            FieldType::Html => "Html",
            FieldType::Email => "Email",
            FieldType::Phone => "Phone",
            FieldType::Url => "Url",
            FieldType::EncryptedText => "EncryptedText",
            FieldType::Number => "Number",
            FieldType::Currency => "Currency",
            FieldType::Percent => "Percent",
            FieldType::Checkbox => "Checkbox",
            FieldType::Date => "Date",
            FieldType::DateTime => "DateTime",
            FieldType::Time => "Time",
            FieldType::Picklist => "Picklist",
            FieldType::MultiselectPicklist => "MultiselectPicklist",
            FieldType::Lookup => "Lookup",
            FieldType::MasterDetail => "MasterDetail",
            FieldType::AutoNumber => "AutoNumber",
        }
    }

    /// Parses a metadata type name (`Text`, `Currency`, ...).
    pub fn parse(name: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Whether the type holds a number with precision and scale.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Number | FieldType::Currency | FieldType::Percent
        )
    }

    /// Whether the type is a relationship to a parent record.
    pub fn is_reference(self) -> bool {
        matches!(self, FieldType::Lookup | FieldType::MasterDetail)
    }

    /// Whether the type holds free text with a maximum length.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::Text
                | FieldType::TextArea
                | FieldType::LongTextArea
                | FieldType::Html
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::EncryptedText
                | FieldType::AutoNumber
        )
    }
}

/// Why a field cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Computed {
    /// A formula field; the expression is kept for the admin table.
    Formula(String),
    /// A roll-up summary (`count`, `sum`, `min`, `max`) of child records.
    RollUp(String),
    /// An auto number.
    AutoNumber,
    /// A field Salesforce maintains (Id, CreatedDate, SystemModstamp, ...).
    System,
}

/// Where a field comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FieldOrigin {
    /// Declared in a `*.field-meta.xml` file.
    Custom,
    /// A standard field from the built-in table, or the name field of a custom object.
    Standard,
}

/// One field with every attribute that matters when writing data.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// API name, e.g. `Email__c`.
    pub api_name: String,
    /// Label shown to users.
    pub label: String,
    /// The value type; for formulas and roll-ups, the type of the result.
    pub field_type: FieldType,
    /// Maximum length in characters, for text-like fields.
    pub length: Option<u32>,
    /// Total digits, for numbers.
    pub precision: Option<u32>,
    /// Digits after the decimal point, for numbers.
    pub scale: Option<u32>,
    /// Must have a value when a record is created.
    pub required: bool,
    /// Values are unique across records.
    pub unique: bool,
    /// Usable as an external id in upserts.
    pub external_id: bool,
    /// Uniqueness is case-sensitive.
    pub case_sensitive: bool,
    /// Picklist values, for picklist fields.
    pub picklist: Option<Picklist>,
    /// Default value formula, when given.
    pub default_value: Option<String>,
    /// Parent object, for relationship fields (`None` for polymorphic standard lookups).
    pub reference_to: Option<String>,
    /// Name of the parent relationship on this record (`Contact__r` for `Contact__c`), for
    /// relationship fields; used to reference a parent by one of its external ids.
    pub relationship_name: Option<String>,
    /// Name of the child relationship on the parent (`<relationshipName>` in metadata, with `__r`),
    /// used in parent-to-child subqueries; unique per parent object.
    pub child_relationship_name: Option<String>,
    /// Why the field is read-only, if it is computed.
    pub computed: Option<Computed>,
    /// Whether the field can be written at all (false for computed and some standard fields).
    pub writable: bool,
    /// Custom or standard.
    pub origin: FieldOrigin,
    /// Description from the metadata.
    pub description: Option<String>,
    /// Where the field was declared (`None` for built-in standard fields).
    pub source: Option<SourceLocation>,
}

impl Field {
    /// Whether the field cannot be written through the data APIs.
    pub fn read_only(&self) -> bool {
        !self.writable
    }
}

/// The values of a picklist field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Picklist {
    /// Only listed values are accepted.
    pub restricted: bool,
    /// Values in metadata order.
    pub values: Vec<PicklistValue>,
    /// The global value set the values come from, if any.
    pub global_value_set: Option<String>,
}

/// One picklist value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PicklistValue {
    /// The API value stored in records.
    pub api_name: String,
    /// The label shown to users.
    pub label: String,
    /// Selected by default on new records.
    pub default: bool,
}

/// A global value set shared by several picklists.
#[derive(Debug, Clone, Serialize)]
pub struct GlobalValueSet {
    /// Name, referenced by `valueSetName`.
    pub name: String,
    /// Label.
    pub label: String,
    /// Values in metadata order.
    pub values: Vec<PicklistValue>,
    /// Where it was declared.
    pub source: SourceLocation,
}

/// A permission set: which objects and fields it grants.
#[derive(Debug, Clone, Serialize)]
pub struct PermissionSet {
    /// API name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Object permissions.
    pub objects: Vec<ObjectPermission>,
    /// Field permissions (fields of Tasks are listed as `Activity.Field__c`).
    pub fields: Vec<FieldPermission>,
    /// Enabled user permissions (`ApiEnabled`, `EditTask`, ...).
    pub user_permissions: Vec<String>,
    /// Where it was declared.
    pub source: SourceLocation,
}

impl PermissionSet {
    /// Whether the set lets its holder create records of `object`: object permissions, or for
    /// Tasks the `EditTask` user permission (Tasks have no object permissions).
    pub fn can_create(&self, object: &str) -> bool {
        self.objects
            .iter()
            .any(|o| o.object.eq_ignore_ascii_case(object) && o.create)
            || self.grants_by_user_permission(object)
    }

    /// Whether the set lets its holder edit records of `object`: object permissions, or for
    /// Tasks the `EditTask` user permission.
    pub fn can_edit_object(&self, object: &str) -> bool {
        self.objects
            .iter()
            .any(|o| o.object.eq_ignore_ascii_case(object) && o.edit)
            || self.grants_by_user_permission(object)
    }

    /// Whether an enabled user permission gives create and edit on `object`.
    fn grants_by_user_permission(&self, object: &str) -> bool {
        self.user_permissions.iter().any(|permission| {
            super::standard::objects_granted_by(permission)
                .iter()
                .any(|o| o.eq_ignore_ascii_case(object))
        })
    }

    /// Whether the set lets its holder edit `object.field`. Required and master-detail fields
    /// cannot be listed in permission sets: Salesforce grants them with edit access to the object.
    /// A Task's custom fields are granted as `Activity.Field__c`.
    pub fn can_edit(&self, model: &Model, object: &str, field: &str) -> bool {
        if !self.can_edit_object(object) {
            return false;
        }
        let implicit = model
            .object(object)
            .and_then(|o| o.field(field))
            .is_some_and(|f| {
                f.origin == FieldOrigin::Standard
                    || f.required
                    || f.field_type == FieldType::MasterDetail
            });
        implicit
            || self.fields.iter().any(|p| {
                p.editable
                    && super::standard::fields_defined_on(&p.object, object)
                    && p.field.eq_ignore_ascii_case(field)
            })
    }
}

/// Access to one object.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectPermission {
    /// Object API name.
    pub object: String,
    /// Create.
    pub create: bool,
    /// Read.
    pub read: bool,
    /// Edit.
    pub edit: bool,
    /// Delete.
    pub delete: bool,
}

/// Access to one field.
#[derive(Debug, Clone, Serialize)]
pub struct FieldPermission {
    /// Object API name.
    pub object: String,
    /// Field API name.
    pub field: String,
    /// Read.
    pub readable: bool,
    /// Edit.
    pub editable: bool,
}

/// One record of a custom metadata type.
#[derive(Debug, Clone, Serialize)]
pub struct CustomMetadataRecord {
    /// The type, e.g. `Stripe_Price__mdt`.
    pub type_name: String,
    /// Developer name of the record, e.g. `Basic_Monthly`.
    pub developer_name: String,
    /// Label.
    pub label: String,
    /// Field values as written in the metadata (`None` for `xsi:nil`).
    pub values: Vec<(String, Option<String>)>,
    /// Where it was declared.
    pub source: SourceLocation,
}
