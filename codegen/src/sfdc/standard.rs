//! Built-in table of standard objects and fields.
//!
//! Source-format metadata carries no type for standard fields (a `Contact` folder holds only its custom
//! fields), so the fields of the standard objects the integration uses are listed here, with the types,
//! lengths and rules of Salesforce's describe. Every custom object also gets the system fields Salesforce
//! adds to it.

use super::model::{
    Computed, Field, FieldOrigin, FieldType, Object, ObjectKind, Picklist, PicklistValue,
};

/// Standard objects known to the generator, by API name.
pub const STANDARD_OBJECTS: [&str; 4] = ["Account", "Contact", "Task", "User"];

/// The object on which metadata defines the custom fields of Tasks (and Events): a field in
/// `objects/Activity/fields/` is a field of every activity object, and permission sets grant it
/// as `Activity.Field__c`.
pub const ACTIVITY: &str = "Activity";

/// The activity objects known to the generator, which receive the custom fields of `Activity`.
pub const ACTIVITY_OBJECTS: [&str; 1] = ["Task"];

/// Whether fields listed under `listed` in metadata (a folder or a permission set's
/// `Object.Field`) are fields of `object`: the same object, or `Activity` for an activity object.
pub fn fields_defined_on(listed: &str, object: &str) -> bool {
    listed.eq_ignore_ascii_case(object)
        || listed.eq_ignore_ascii_case(ACTIVITY)
            && ACTIVITY_OBJECTS
                .iter()
                .any(|a| a.eq_ignore_ascii_case(object))
}

/// The objects a user permission lets its holder create and edit records of: `EditTask` for
/// Tasks, which have no object permissions of their own.
pub fn objects_granted_by(user_permission: &str) -> &'static [&'static str] {
    if user_permission.eq_ignore_ascii_case("EditTask") {
        &["Task"]
    } else {
        &[]
    }
}

/// A standard object with its standard fields, or `None` if the generator does not know it.
pub fn standard_object(api_name: &str) -> Option<Object> {
    let name = STANDARD_OBJECTS
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(api_name))?;
    let (label, plural, mut fields) = match name {
        "Account" => ("Account", "Accounts", account()),
        "Contact" => ("Contact", "Contacts", contact()),
        "Task" => ("Task", "Tasks", task()),
        "User" => ("User", "Users", user()),
        _ => return None,
    };
    fields.extend(audit_fields());
    fields.sort_by(|a, b| a.api_name.cmp(&b.api_name));
    Some(Object {
        api_name: name.to_string(),
        label: label.to_string(),
        plural_label: Some(plural.to_string()),
        kind: ObjectKind::Standard,
        description: None,
        sharing_model: None,
        fields,
        source: None,
    })
}

/// The fields Salesforce adds to every custom object, besides its name field.
/// `owned` is false for master-detail children, which have no owner.
pub fn custom_object_system_fields(owned: bool) -> Vec<Field> {
    let mut fields = vec![
        id_field(),
        system(FieldType::Checkbox, "IsDeleted", "Deleted"),
    ];
    if owned {
        // Defaulted to the running user on create, so not required.
        fields.push(lookup("OwnerId", "Owner ID", "User", "Owner"));
    }
    fields.extend(audit_fields());
    fields
}

/// The fields of every custom metadata type besides its custom fields.
pub fn custom_metadata_system_fields() -> Vec<Field> {
    vec![
        id_field(),
        text("DeveloperName", "Custom Metadata Record Name", 40).computed_by_salesforce(),
        text("MasterLabel", "Label", 40).computed_by_salesforce(),
        text("Label", "Label", 40).computed_by_salesforce(),
        text("Language", "Language", 40).computed_by_salesforce(),
        text("NamespacePrefix", "Namespace Prefix", 15).computed_by_salesforce(),
        text("QualifiedApiName", "Qualified API Name", 70).computed_by_salesforce(),
    ]
}

fn id_field() -> Field {
    let mut f = system(FieldType::Id, "Id", "Record ID");
    f.length = Some(18);
    f
}

fn audit_fields() -> Vec<Field> {
    vec![
        system(FieldType::DateTime, "CreatedDate", "Created Date"),
        lookup("CreatedById", "Created By ID", "User", "CreatedBy").computed_by_salesforce(),
        system(
            FieldType::DateTime,
            "LastModifiedDate",
            "Last Modified Date",
        ),
        lookup(
            "LastModifiedById",
            "Last Modified By ID",
            "User",
            "LastModifiedBy",
        )
        .computed_by_salesforce(),
        system(FieldType::DateTime, "SystemModstamp", "System Modstamp"),
    ]
}

fn contact() -> Vec<Field> {
    vec![
        id_field(),
        lookup("AccountId", "Account ID", "Account", "Account"),
        lookup("OwnerId", "Owner ID", "User", "Owner"),
        picklist(
            "Salutation",
            "Salutation",
            &["Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx."],
        ),
        text("FirstName", "First Name", 40),
        text("LastName", "Last Name", 80).required(),
        text("Name", "Full Name", 121).computed_by_salesforce(),
        sized(FieldType::Email, "Email", "Email", 80),
        sized(FieldType::Phone, "Phone", "Business Phone", 40),
        sized(FieldType::Phone, "MobilePhone", "Mobile Phone", 40),
        text("Title", "Title", 128),
        text("Department", "Department", 80),
        sized(
            FieldType::LongTextArea,
            "Description",
            "Contact Description",
            32000,
        ),
        sized(FieldType::TextArea, "MailingStreet", "Mailing Street", 255),
        text("MailingCity", "Mailing City", 40),
        text("MailingState", "Mailing State/Province", 80),
        text("MailingPostalCode", "Mailing Zip/Postal Code", 20),
        text("MailingCountry", "Mailing Country", 80),
        checkbox("HasOptedOutOfEmail", "Email Opt Out"),
        checkbox("IsDeleted", "Deleted").computed_by_salesforce(),
    ]
}

fn account() -> Vec<Field> {
    vec![
        id_field(),
        text("Name", "Account Name", 255).required(),
        text("AccountNumber", "Account Number", 40),
        sized(FieldType::Phone, "Phone", "Account Phone", 40),
        sized(FieldType::Url, "Website", "Website", 255),
        picklist(
            "Type",
            "Account Type",
            &[
                "Prospect",
                "Customer - Direct",
                "Customer - Channel",
                "Other",
            ],
        ),
        picklist("Industry", "Industry", &["Technology", "Finance", "Retail"]),
        sized(FieldType::TextArea, "BillingStreet", "Billing Street", 255),
        text("BillingCity", "Billing City", 40),
        text("BillingState", "Billing State/Province", 80),
        text("BillingPostalCode", "Billing Zip/Postal Code", 20),
        text("BillingCountry", "Billing Country", 80),
        sized(
            FieldType::LongTextArea,
            "Description",
            "Account Description",
            32000,
        ),
        lookup("OwnerId", "Owner ID", "User", "Owner"),
        lookup("ParentId", "Parent Account ID", "Account", "Parent"),
        checkbox("IsDeleted", "Deleted").computed_by_salesforce(),
    ]
}

fn task() -> Vec<Field> {
    vec![
        id_field(),
        text("Subject", "Subject", 255),
        sized(FieldType::LongTextArea, "Description", "Description", 32000),
        picklist(
            "Status",
            "Status",
            &[
                "Not Started",
                "In Progress",
                "Completed",
                "Waiting on someone else",
                "Deferred",
            ],
        ),
        picklist("Priority", "Priority", &["High", "Normal", "Low"]),
        picklist("TaskSubtype", "Task Subtype", &["Task", "Email", "Call"]),
        plain(FieldType::Date, "ActivityDate", "Due Date Only"),
        lookup("OwnerId", "Assigned To ID", "User", "Owner"),
        polymorphic("WhoId", "Name ID", "Who"),
        polymorphic("WhatId", "Related To ID", "What"),
        checkbox("IsClosed", "Closed").computed_by_salesforce(),
        checkbox("IsDeleted", "Deleted").computed_by_salesforce(),
    ]
}

fn user() -> Vec<Field> {
    vec![
        id_field(),
        text("Username", "Username", 80).computed_by_salesforce(),
        sized(FieldType::Email, "Email", "Email", 128).computed_by_salesforce(),
        text("FirstName", "First Name", 40).computed_by_salesforce(),
        text("LastName", "Last Name", 80).computed_by_salesforce(),
        text("Name", "Full Name", 121).computed_by_salesforce(),
        text("Alias", "Alias", 8).computed_by_salesforce(),
        checkbox("IsActive", "Active").computed_by_salesforce(),
    ]
}

fn plain(field_type: FieldType, api_name: &str, label: &str) -> Field {
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
        origin: FieldOrigin::Standard,
        description: None,
        source: None,
    }
}

fn sized(field_type: FieldType, api_name: &str, label: &str, length: u32) -> Field {
    let mut f = plain(field_type, api_name, label);
    f.length = Some(length);
    f
}

fn text(api_name: &str, label: &str, length: u32) -> Field {
    sized(FieldType::Text, api_name, label, length)
}

fn checkbox(api_name: &str, label: &str) -> Field {
    let mut f = plain(FieldType::Checkbox, api_name, label);
    f.default_value = Some("false".to_string());
    f
}

fn system(field_type: FieldType, api_name: &str, label: &str) -> Field {
    let mut f = plain(field_type, api_name, label);
    f.computed = Some(Computed::System);
    f.writable = false;
    f
}

fn lookup(api_name: &str, label: &str, parent: &str, relationship: &str) -> Field {
    let mut f = sized(FieldType::Lookup, api_name, label, 18);
    f.reference_to = Some(parent.to_string());
    f.relationship_name = Some(relationship.to_string());
    f
}

fn polymorphic(api_name: &str, label: &str, relationship: &str) -> Field {
    let mut f = sized(FieldType::Lookup, api_name, label, 18);
    f.relationship_name = Some(relationship.to_string());
    f
}

/// Standard picklists are unrestricted: orgs add their own values.
fn picklist(api_name: &str, label: &str, values: &[&str]) -> Field {
    let mut f = sized(FieldType::Picklist, api_name, label, 255);
    f.picklist = Some(Picklist {
        restricted: false,
        values: values
            .iter()
            .map(|v| PicklistValue {
                api_name: v.to_string(),
                label: v.to_string(),
                default: false,
            })
            .collect(),
        global_value_set: None,
    });
    f
}

impl Field {
    fn required(mut self) -> Field {
        self.required = true;
        self
    }

    fn computed_by_salesforce(mut self) -> Field {
        self.writable = false;
        self.computed.get_or_insert(Computed::System);
        self
    }
}
