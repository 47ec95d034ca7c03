//! Describes of Salesforce objects and fields: what validation, CSV and JSON rely on.
//!
//! Every string is a `Cow<'static, str>` and every list a `Cow<'static, [_]>`, so a describe
//! can live in a `static` (generated code borrows literals) or be built at run time
//! (deserialized from JSON, where everything is owned).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Every object the crate knows, custom and standard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// The objects, in a stable order.
    pub objects: Cow<'static, [ObjectDescribe]>,
}

impl Schema {
    /// The object with this API name, compared case-insensitively like Salesforce does.
    pub fn object(&self, api_name: &str) -> Option<&ObjectDescribe> {
        self.objects
            .iter()
            .find(|object| object.api_name.eq_ignore_ascii_case(api_name))
    }
}

/// One Salesforce object (sObject type) and its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectDescribe {
    /// API name, e.g. `Stripe_Customer__c` or `Contact`.
    pub api_name: Cow<'static, str>,
    /// Label shown to people.
    pub label: Cow<'static, str>,
    /// Whether this is a custom object (`__c`).
    #[serde(default)]
    pub custom: bool,
    /// The fields, in the order used for CSV columns.
    pub fields: Cow<'static, [FieldDescribe]>,
}

impl ObjectDescribe {
    /// The field with this API name, compared case-insensitively like Salesforce does.
    pub fn field(&self, api_name: &str) -> Option<&FieldDescribe> {
        self.fields
            .iter()
            .find(|field| field.api_name.eq_ignore_ascii_case(api_name))
    }

    /// The lookup or master-detail field whose relationship is named `relationship_name`
    /// (e.g. `Contact__r` gives the field `Contact__c`), case-insensitively.
    pub fn field_by_relationship(&self, relationship_name: &str) -> Option<&FieldDescribe> {
        self.fields.iter().find(|field| {
            field
                .relationship_name
                .as_deref()
                .is_some_and(|name| name.eq_ignore_ascii_case(relationship_name))
        })
    }

    /// The fields marked as external ids, usable to reference a record of this object.
    pub fn external_id_fields(&self) -> impl Iterator<Item = &FieldDescribe> {
        self.fields.iter().filter(|field| field.external_id)
    }
}

/// One field of an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDescribe {
    /// API name, e.g. `Email__c`.
    pub api_name: Cow<'static, str>,
    /// Label shown to people.
    pub label: Cow<'static, str>,
    /// Salesforce field type.
    pub field_type: FieldType,
    /// Maximum length for text fields, in UTF-16 code units.
    #[serde(default)]
    pub length: Option<u32>,
    /// Total number of digits for number, currency and percent fields.
    #[serde(default)]
    pub precision: Option<u32>,
    /// Number of digits after the decimal point for number, currency and percent fields.
    #[serde(default)]
    pub scale: Option<u32>,
    /// Must have a value when a record is created.
    #[serde(default)]
    pub required: bool,
    /// No two records may have the same value.
    #[serde(default)]
    pub unique: bool,
    /// Usable to reference or upsert a record by this field.
    #[serde(default)]
    pub external_id: bool,
    /// Uniqueness compares case-sensitively.
    #[serde(default)]
    pub case_sensitive: bool,
    /// Computed by Salesforce (formula, roll-up, auto number, system field): never written.
    #[serde(default)]
    pub read_only: bool,
    /// Allowed values of a picklist or multi-select picklist.
    #[serde(default)]
    pub picklist: Option<PicklistDescribe>,
    /// Value Salesforce fills in when a record is created without this field.
    #[serde(default)]
    pub default_value: Option<Cow<'static, str>>,
    /// Object a lookup or master-detail field points to.
    #[serde(default)]
    pub reference_to: Option<Cow<'static, str>>,
    /// Relationship name of a lookup or master-detail field, e.g. `Contact__r`.
    #[serde(default)]
    pub relationship_name: Option<Cow<'static, str>>,
}

impl FieldDescribe {
    /// A text field with an empty name and every attribute unset: the base for
    /// `FieldDescribe { api_name: .., field_type: .., ..FieldDescribe::DEFAULT }` in a `static`.
    pub const DEFAULT: FieldDescribe = FieldDescribe {
        api_name: Cow::Borrowed(""),
        label: Cow::Borrowed(""),
        field_type: FieldType::Text,
        length: None,
        precision: None,
        scale: None,
        required: false,
        unique: false,
        external_id: false,
        case_sensitive: false,
        read_only: false,
        picklist: None,
        default_value: None,
        reference_to: None,
        relationship_name: None,
    };

    /// Whether values of this field are whole numbers (`i64` in Rust, `Value::Integer`):
    /// a `Number` field with scale 0.
    pub fn is_integer(&self) -> bool {
        self.field_type == FieldType::Number && self.scale == Some(0)
    }

    /// Maximum text length in UTF-16 code units: `length`, or Salesforce's fixed size for
    /// types whose metadata has none (text area 255, email 80, phone 40, URL 255, picklist
    /// value 255).
    pub fn max_length(&self) -> Option<u32> {
        self.length.or(match self.field_type {
            FieldType::TextArea | FieldType::Url | FieldType::Picklist => Some(255),
            FieldType::Email => Some(80),
            FieldType::Phone => Some(40),
            _ => None,
        })
    }
}

impl Default for FieldDescribe {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Allowed values of a picklist field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PicklistDescribe {
    /// Only the listed values are accepted.
    #[serde(default)]
    pub restricted: bool,
    /// API names of the values, in their defined order.
    pub values: Cow<'static, [Cow<'static, str>]>,
}

impl PicklistDescribe {
    /// Whether `value` is one of the listed API values (exact, case-sensitive match).
    pub fn contains(&self, value: &str) -> bool {
        self.values.iter().any(|allowed| allowed == value)
    }
}

/// Salesforce field type, serialized under its metadata name (e.g. `"MasterDetail"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldType {
    /// Record Id (`Id`).
    Id,
    /// Single-line text.
    Text,
    /// Multi-line text up to 255 characters.
    TextArea,
    /// Long multi-line text.
    LongTextArea,
    /// Rich text.
    Html,
    /// Email address.
    Email,
    /// Phone number.
    Phone,
    /// URL.
    Url,
    /// Encrypted text.
    EncryptedText,
    /// Number with precision and scale.
    Number,
    /// Money amount with precision and scale.
    Currency,
    /// Percentage with precision and scale.
    Percent,
    /// Boolean.
    Checkbox,
    /// Calendar date.
    Date,
    /// Instant in time.
    DateTime,
    /// Time of day.
    Time,
    /// Single choice among listed values.
    Picklist,
    /// Several choices among listed values, `;`-separated on the wire.
    MultiselectPicklist,
    /// Reference to another record.
    Lookup,
    /// Reference to a parent record that owns this one.
    MasterDetail,
    /// Number assigned by Salesforce.
    AutoNumber,
    /// Geolocation (compound latitude and longitude).
    Location,
}

impl FieldType {
    /// The Salesforce metadata name, e.g. `"MasterDetail"`.
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
            FieldType::Location => "Location",
        }
    }

    /// Whether values are text on the wire (including ids, references and picklists).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::Id
                | FieldType::Text
                | FieldType::TextArea
                | FieldType::LongTextArea
                | FieldType::Html
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::EncryptedText
                | FieldType::Picklist
                | FieldType::MultiselectPicklist
                | FieldType::Lookup
                | FieldType::MasterDetail
                | FieldType::AutoNumber
        )
    }

    /// Whether values are numbers (number, currency, percent).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Number | FieldType::Currency | FieldType::Percent
        )
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static OBJECTS: [ObjectDescribe; 1] = [ObjectDescribe {
        api_name: Cow::Borrowed("Stripe_Customer__c"),
        label: Cow::Borrowed("Stripe Customer"),
        custom: true,
        fields: Cow::Borrowed(&[
            FieldDescribe {
                api_name: Cow::Borrowed("Contact__c"),
                field_type: FieldType::Lookup,
                reference_to: Some(Cow::Borrowed("Contact")),
                relationship_name: Some(Cow::Borrowed("Contact__r")),
                ..FieldDescribe::DEFAULT
            },
            FieldDescribe {
                api_name: Cow::Borrowed("Stripe_Id__c"),
                external_id: true,
                length: Some(255),
                ..FieldDescribe::DEFAULT
            },
        ]),
    }];
    static SCHEMA: Schema = Schema {
        objects: Cow::Borrowed(&OBJECTS),
    };

    #[test]
    fn lookups_ignore_case() {
        let object = SCHEMA.object("stripe_customer__C").unwrap();
        assert_eq!(
            object.field("STRIPE_ID__C").unwrap().api_name,
            "Stripe_Id__c"
        );
        assert_eq!(
            object.field_by_relationship("contact__R").unwrap().api_name,
            "Contact__c"
        );
        assert!(SCHEMA.object("Account").is_none());
        assert!(object.field("Nope__c").is_none());
        let external: Vec<_> = object
            .external_id_fields()
            .map(|f| f.api_name.as_ref())
            .collect();
        assert_eq!(external, ["Stripe_Id__c"]);
    }

    #[test]
    fn json_round_trip_builds_owned_describe() {
        let json = serde_json::to_string(&SCHEMA).unwrap();
        assert!(json.contains(r#""field_type":"Lookup""#), "{json}");
        assert!(
            json.contains(r#""relationship_name":"Contact__r""#),
            "{json}"
        );
        let back: Schema = serde_json::from_str(&json).unwrap();
        assert_eq!(back, SCHEMA);
    }

    #[test]
    fn missing_optional_attributes_default() {
        let field: FieldDescribe = serde_json::from_str(
            r#"{"api_name":"Owner__c","label":"Owner","field_type":"MasterDetail"}"#,
        )
        .unwrap();
        assert_eq!(field.field_type, FieldType::MasterDetail);
        assert!(!field.required && field.length.is_none());
    }

    #[test]
    fn type_defaults() {
        let email = FieldDescribe {
            field_type: FieldType::Email,
            ..FieldDescribe::DEFAULT
        };
        assert_eq!(email.max_length(), Some(80));
        let integer = FieldDescribe {
            field_type: FieldType::Number,
            precision: Some(18),
            scale: Some(0),
            ..FieldDescribe::DEFAULT
        };
        assert!(integer.is_integer());
        assert_eq!(
            FieldType::MultiselectPicklist.to_string(),
            "MultiselectPicklist"
        );
    }
}
