//! Describe answers (`/sobjects`, `/sobjects/{object}`, `/sobjects/{object}/describe`)
//! built from the data model, in Salesforce's shapes.

use serde_json::{Value as Json, json};
use sfdc_types::{FieldDescribe, FieldType, ObjectDescribe};

use crate::store::Org;
use crate::wire;

/// Whether records of this object can be written through the API.
fn writable_object(describe: &ObjectDescribe) -> bool {
    !describe.api_name.ends_with("__mdt") && !describe.api_name.eq_ignore_ascii_case("User")
}

/// The basic information of an object, as in the global describe.
pub(crate) fn basic(org: &Org, describe: &ObjectDescribe, version: &str) -> Json {
    let name = describe.api_name.as_ref();
    let writable = writable_object(describe);
    let base = format!("/services/data/v{version}/sobjects/{name}");
    json!({
        "name": name,
        "label": describe.label,
        "custom": describe.custom,
        "keyPrefix": org.prefix(name),
        "createable": writable,
        "updateable": writable,
        "deletable": writable,
        "queryable": true,
        "searchable": true,
        "urls": {
            "sobject": base,
            "describe": format!("{base}/describe"),
            "rowTemplate": format!("{base}/{{ID}}"),
        },
    })
}

/// `GET /sobjects`.
pub(crate) fn global(org: &Org, version: &str) -> Json {
    let sobjects: Vec<Json> = org
        .schema
        .objects
        .iter()
        .map(|describe| basic(org, describe, version))
        .collect();
    json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})
}

/// `GET /sobjects/{object}/describe`: the object and every field.
pub(crate) fn full(org: &Org, describe: &ObjectDescribe, version: &str) -> Json {
    let mut object = basic(org, describe, version);
    let writable = writable_object(describe);
    let fields: Vec<Json> = describe
        .fields
        .iter()
        .map(|field| field_json(org, describe, field, writable))
        .collect();
    object["fields"] = Json::Array(fields);
    object
}

fn field_json(org: &Org, describe: &ObjectDescribe, field: &FieldDescribe, writable: bool) -> Json {
    let editable = writable && !field.read_only;
    let picklist_values: Vec<Json> = field
        .picklist
        .iter()
        .flat_map(|picklist| picklist.values.iter())
        .map(|value| {
            let default = org
                .defaults
                .picklist(&describe.api_name, &field.api_name)
                .is_some_and(|default| default == value.as_ref());
            json!({"value": value, "label": value, "active": true, "defaultValue": default})
        })
        .collect();
    let checkbox = field.field_type == FieldType::Checkbox;
    json!({
        "name": field.api_name,
        "label": field.label,
        "type": wire::soap_type(field.field_type),
        "length": if field.field_type.is_text() { field.max_length().unwrap_or(0) } else { 0 },
        "precision": field.precision.unwrap_or(0),
        "scale": field.scale.unwrap_or(0),
        "nillable": !field.required && !checkbox && field.api_name != "Id",
        "unique": field.unique,
        "externalId": field.external_id,
        "caseSensitive": field.case_sensitive,
        "idLookup": field.api_name == "Id" || field.external_id,
        "createable": editable,
        "updateable": editable && field.field_type != FieldType::MasterDetail,
        "calculated": false,
        "autoNumber": field.field_type == FieldType::AutoNumber,
        "custom": field.api_name.ends_with("__c"),
        "defaultValue": field.default_value.as_deref().map(|default| {
            if checkbox { Json::Bool(default.eq_ignore_ascii_case("true")) } else { Json::String(default.to_owned()) }
        }),
        "defaultedOnCreate": checkbox || field.read_only,
        "filterable": field.field_type != FieldType::LongTextArea,
        "sortable": field.field_type != FieldType::LongTextArea,
        "restrictedPicklist": field.picklist.as_ref().is_some_and(|picklist| picklist.restricted),
        "picklistValues": picklist_values,
        "referenceTo": field.reference_to.iter().collect::<Vec<_>>(),
        "relationshipName": field.relationship_name,
        "cascadeDelete": field.field_type == FieldType::MasterDetail,
    })
}
