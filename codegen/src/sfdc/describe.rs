//! The describe of a model: per object and field the attributes a writer must respect. It is
//! emitted as `static`s into `sfdc-types` and exported as JSON in the same shape as
//! `sfdc_types::Schema`, so a schema can also be loaded at run time for any force-app.

use serde::Serialize;

use super::model::{Field, Model, Object, ObjectKind};

/// The describe of every object, in the shape of `sfdc_types::Schema`.
#[derive(Debug, Clone, Serialize)]
pub struct SchemaDescribe {
    /// Objects in model order.
    pub objects: Vec<ObjectDescribe>,
}

/// The describe of one object, in the shape of `sfdc_types::ObjectDescribe`.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectDescribe {
    /// API name.
    pub api_name: String,
    /// Label.
    pub label: String,
    /// Custom object or custom metadata type.
    pub custom: bool,
    /// Fields in model order.
    pub fields: Vec<FieldDescribe>,
}

/// The describe of one field, in the shape of `sfdc_types::FieldDescribe`.
#[derive(Debug, Clone, Serialize)]
pub struct FieldDescribe {
    /// API name.
    pub api_name: String,
    /// Label.
    pub label: String,
    /// Salesforce type name.
    pub field_type: &'static str,
    /// Maximum length.
    pub length: Option<u32>,
    /// Total digits.
    pub precision: Option<u32>,
    /// Fraction digits.
    pub scale: Option<u32>,
    /// Must have a value on create.
    pub required: bool,
    /// Unique across records.
    pub unique: bool,
    /// External id.
    pub external_id: bool,
    /// Case-sensitive uniqueness.
    pub case_sensitive: bool,
    /// Cannot be written.
    pub read_only: bool,
    /// Picklist values.
    pub picklist: Option<PicklistDescribe>,
    /// Default value formula.
    pub default_value: Option<String>,
    /// Parent object.
    pub reference_to: Option<String>,
    /// Parent relationship name.
    pub relationship_name: Option<String>,
}

/// Picklist values, in the shape of `sfdc_types::PicklistDescribe`.
#[derive(Debug, Clone, Serialize)]
pub struct PicklistDescribe {
    /// Only listed values are accepted.
    pub restricted: bool,
    /// API names of the values.
    pub values: Vec<String>,
}

/// The describe of a whole model.
pub fn describe(model: &Model) -> SchemaDescribe {
    SchemaDescribe {
        objects: model.objects.iter().map(describe_object).collect(),
    }
}

/// The describe of one object.
pub fn describe_object(object: &Object) -> ObjectDescribe {
    ObjectDescribe {
        api_name: object.api_name.clone(),
        label: object.label.clone(),
        custom: object.kind != ObjectKind::Standard,
        fields: object.fields.iter().map(describe_field).collect(),
    }
}

/// The describe of one field.
pub fn describe_field(field: &Field) -> FieldDescribe {
    FieldDescribe {
        api_name: field.api_name.clone(),
        label: field.label.clone(),
        field_type: field.field_type.as_str(),
        length: field.length,
        precision: field.precision,
        scale: field.scale,
        required: field.required,
        unique: field.unique,
        external_id: field.external_id,
        case_sensitive: field.case_sensitive,
        read_only: !field.writable,
        picklist: field.picklist.as_ref().map(|p| PicklistDescribe {
            restricted: p.restricted,
            values: p.values.iter().map(|v| v.api_name.clone()).collect(),
        }),
        default_value: field.default_value.clone(),
        reference_to: field.reference_to.clone(),
        relationship_name: field.relationship_name.clone(),
    }
}
