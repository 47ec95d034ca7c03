//! The runtime used the way generated code uses it: a schema in a `static`, read and write
//! shapes, picklist and reference enums implemented through the crate's helpers.

use std::borrow::Cow;

use sfdc_types::rust_decimal::Decimal;
use sfdc_types::time::macros::{date, datetime};
use sfdc_types::time::{Date, OffsetDateTime};
use sfdc_types::{
    ExternalRef, FieldDescribe, FieldType, ObjectDescribe, Operation, Patch, Picklist,
    PicklistDescribe, SObject, Schema, UnknownPicklistValue, Value, ViolationKind, Writable,
    read_csv, write_csv,
};

// ---------------------------------------------------------------------------------------
// What the generator emits.
// ---------------------------------------------------------------------------------------

/// Contact (`Contact`): a `const`, so that [`SCHEMA`] can list it and `describe()` can
/// return `&CONTACT` (promoted to `'static`).
pub const CONTACT: ObjectDescribe = ObjectDescribe {
    api_name: Cow::Borrowed("Contact"),
    label: Cow::Borrowed("Contact"),
    custom: false,
    fields: Cow::Borrowed(&[
        FieldDescribe {
            api_name: Cow::Borrowed("Id"),
            label: Cow::Borrowed("Contact ID"),
            field_type: FieldType::Id,
            read_only: true,
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("LastName"),
            label: Cow::Borrowed("Last Name"),
            field_type: FieldType::Text,
            length: Some(80),
            required: true,
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Email"),
            label: Cow::Borrowed("Email"),
            field_type: FieldType::Email,
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Stripe_Customer_ID__c"),
            label: Cow::Borrowed("Stripe Customer ID"),
            field_type: FieldType::Text,
            length: Some(255),
            unique: true,
            external_id: true,
            case_sensitive: true,
            ..FieldDescribe::DEFAULT
        },
    ]),
};

/// Stripe Customer (`Stripe_Customer__c`).
pub const STRIPE_CUSTOMER: ObjectDescribe = ObjectDescribe {
    api_name: Cow::Borrowed("Stripe_Customer__c"),
    label: Cow::Borrowed("Stripe Customer"),
    custom: true,
    fields: Cow::Borrowed(&[
        FieldDescribe {
            api_name: Cow::Borrowed("Id"),
            label: Cow::Borrowed("Record ID"),
            field_type: FieldType::Id,
            read_only: true,
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Name"),
            label: Cow::Borrowed("Customer Name"),
            field_type: FieldType::Text,
            length: Some(80),
            required: true,
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Stripe_ID__c"),
            label: Cow::Borrowed("Stripe ID"),
            field_type: FieldType::Text,
            length: Some(255),
            unique: true,
            external_id: true,
            case_sensitive: true,
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Email__c"),
            label: Cow::Borrowed("Email"),
            field_type: FieldType::Email,
            length: Some(80),
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Balance__c"),
            label: Cow::Borrowed("Balance"),
            field_type: FieldType::Currency,
            precision: Some(18),
            scale: Some(2),
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Invoice_Count__c"),
            label: Cow::Borrowed("Invoice Count"),
            field_type: FieldType::Number,
            precision: Some(18),
            scale: Some(0),
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Description__c"),
            label: Cow::Borrowed("Description"),
            field_type: FieldType::LongTextArea,
            length: Some(32768),
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Delinquent__c"),
            label: Cow::Borrowed("Delinquent"),
            field_type: FieldType::Checkbox,
            default_value: Some(Cow::Borrowed("false")),
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Customer_Since__c"),
            label: Cow::Borrowed("Customer Since"),
            field_type: FieldType::Date,
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Last_Synced_At__c"),
            label: Cow::Borrowed("Last Synced At"),
            field_type: FieldType::DateTime,
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Sync_Status__c"),
            label: Cow::Borrowed("Sync Status"),
            field_type: FieldType::Picklist,
            picklist: Some(PicklistDescribe {
                restricted: true,
                values: Cow::Borrowed(&[
                    Cow::Borrowed("Pending"),
                    Cow::Borrowed("Synced"),
                    Cow::Borrowed("Failed"),
                ]),
            }),
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Segment__c"),
            label: Cow::Borrowed("Segment"),
            field_type: FieldType::Picklist,
            picklist: Some(PicklistDescribe {
                restricted: false,
                values: Cow::Borrowed(&[Cow::Borrowed("Enterprise"), Cow::Borrowed("SMB")]),
            }),
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Payment_Methods__c"),
            label: Cow::Borrowed("Payment Methods"),
            field_type: FieldType::MultiselectPicklist,
            picklist: Some(PicklistDescribe {
                restricted: true,
                values: Cow::Borrowed(&[
                    Cow::Borrowed("card"),
                    Cow::Borrowed("sepa_debit"),
                    Cow::Borrowed("us_bank_account"),
                ]),
            }),
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Contact__c"),
            label: Cow::Borrowed("Contact"),
            field_type: FieldType::Lookup,
            reference_to: Some(Cow::Borrowed("Contact")),
            relationship_name: Some(Cow::Borrowed("Contact__r")),
            ..FieldDescribe::DEFAULT
        },
        FieldDescribe {
            api_name: Cow::Borrowed("Balance_Display__c"),
            label: Cow::Borrowed("Balance Display"),
            field_type: FieldType::Text,
            read_only: true,
            ..FieldDescribe::DEFAULT
        },
    ]),
};

/// Every object.
pub static SCHEMA: Schema = Schema {
    objects: Cow::Borrowed(&[CONTACT, STRIPE_CUSTOMER]),
};

/// Sync Status (`Stripe_Customer__c.Sync_Status__c`), restricted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StripeCustomerSyncStatus {
    /// `Pending`
    Pending,
    /// `Synced`
    Synced,
    /// `Failed`
    Failed,
}

impl Picklist for StripeCustomerSyncStatus {
    const VALUES: &'static [&'static str] = &["Pending", "Synced", "Failed"];
    fn as_str(&self) -> &str {
        match self {
            Self::Pending => "Pending",
            Self::Synced => "Synced",
            Self::Failed => "Failed",
        }
    }
    fn from_wire(value: &str) -> Result<Self, UnknownPicklistValue> {
        match value {
            "Pending" => Ok(Self::Pending),
            "Synced" => Ok(Self::Synced),
            "Failed" => Ok(Self::Failed),
            _ => Err(UnknownPicklistValue::new(value, Self::VALUES)),
        }
    }
}

impl serde::Serialize for StripeCustomerSyncStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        sfdc_types::picklist::serialize(self, s)
    }
}

impl<'de> serde::Deserialize<'de> for StripeCustomerSyncStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        sfdc_types::picklist::deserialize(d)
    }
}

/// Segment (`Stripe_Customer__c.Segment__c`), unrestricted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StripeCustomerSegment {
    /// `Enterprise`
    Enterprise,
    /// `SMB`
    Smb,
    /// A value not in the metadata.
    Other(String),
}

impl Picklist for StripeCustomerSegment {
    const VALUES: &'static [&'static str] = &["Enterprise", "SMB"];
    fn as_str(&self) -> &str {
        match self {
            Self::Enterprise => "Enterprise",
            Self::Smb => "SMB",
            Self::Other(value) => value,
        }
    }
    fn from_wire(value: &str) -> Result<Self, UnknownPicklistValue> {
        Ok(match value {
            "Enterprise" => Self::Enterprise,
            "SMB" => Self::Smb,
            other => Self::Other(other.to_owned()),
        })
    }
}

impl serde::Serialize for StripeCustomerSegment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        sfdc_types::picklist::serialize(self, s)
    }
}

impl<'de> serde::Deserialize<'de> for StripeCustomerSegment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        sfdc_types::picklist::deserialize(d)
    }
}

/// Payment Methods (`Stripe_Customer__c.Payment_Methods__c`), restricted multi-select.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StripeCustomerPaymentMethods {
    /// `card`
    Card,
    /// `sepa_debit`
    SepaDebit,
    /// `us_bank_account`
    UsBankAccount,
}

impl Picklist for StripeCustomerPaymentMethods {
    const VALUES: &'static [&'static str] = &["card", "sepa_debit", "us_bank_account"];
    fn as_str(&self) -> &str {
        match self {
            Self::Card => "card",
            Self::SepaDebit => "sepa_debit",
            Self::UsBankAccount => "us_bank_account",
        }
    }
    fn from_wire(value: &str) -> Result<Self, UnknownPicklistValue> {
        match value {
            "card" => Ok(Self::Card),
            "sepa_debit" => Ok(Self::SepaDebit),
            "us_bank_account" => Ok(Self::UsBankAccount),
            _ => Err(UnknownPicklistValue::new(value, Self::VALUES)),
        }
    }
}

impl serde::Serialize for StripeCustomerPaymentMethods {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        sfdc_types::picklist::serialize(self, s)
    }
}

impl<'de> serde::Deserialize<'de> for StripeCustomerPaymentMethods {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        sfdc_types::picklist::deserialize(d)
    }
}

/// A Contact named by one of its external ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ContactRef {
    /// By `Stripe_Customer_ID__c`.
    StripeCustomerId(String),
}

impl ExternalRef for ContactRef {
    const FIELDS: &'static [&'static str] = &["Stripe_Customer_ID__c"];
    fn field(&self) -> &'static str {
        match self {
            Self::StripeCustomerId(_) => "Stripe_Customer_ID__c",
        }
    }
    fn value(&self) -> &str {
        match self {
            Self::StripeCustomerId(value) => value,
        }
    }
    fn from_field(field: &str, value: String) -> Option<Self> {
        match field {
            "Stripe_Customer_ID__c" => Some(Self::StripeCustomerId(value)),
            _ => None,
        }
    }
}

impl serde::Serialize for ContactRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        sfdc_types::reference::serialize(self, s)
    }
}

impl<'de> serde::Deserialize<'de> for ContactRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        sfdc_types::reference::deserialize(d)
    }
}

/// Stripe Customer (`Stripe_Customer__c`) as read from Salesforce.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StripeCustomer {
    /// Record ID (`Id`).
    #[serde(rename = "Id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Customer Name (`Name`).
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Stripe ID (`Stripe_ID__c`).
    #[serde(
        rename = "Stripe_ID__c",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stripe_id: Option<String>,
    /// Email (`Email__c`).
    #[serde(rename = "Email__c", default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Balance (`Balance__c`).
    #[serde(
        rename = "Balance__c",
        default,
        skip_serializing_if = "Option::is_none",
        with = "sfdc_types::wire::decimal::option"
    )]
    pub balance: Option<Decimal>,
    /// Invoice Count (`Invoice_Count__c`).
    #[serde(
        rename = "Invoice_Count__c",
        default,
        skip_serializing_if = "Option::is_none",
        with = "sfdc_types::wire::integer::option"
    )]
    pub invoice_count: Option<i64>,
    /// Description (`Description__c`).
    #[serde(
        rename = "Description__c",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Delinquent (`Delinquent__c`).
    #[serde(
        rename = "Delinquent__c",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub delinquent: Option<bool>,
    /// Customer Since (`Customer_Since__c`).
    #[serde(
        rename = "Customer_Since__c",
        default,
        skip_serializing_if = "Option::is_none",
        with = "sfdc_types::wire::date::option"
    )]
    pub customer_since: Option<Date>,
    /// Last Synced At (`Last_Synced_At__c`).
    #[serde(
        rename = "Last_Synced_At__c",
        default,
        skip_serializing_if = "Option::is_none",
        with = "sfdc_types::wire::datetime::option"
    )]
    pub last_synced_at: Option<OffsetDateTime>,
    /// Sync Status (`Sync_Status__c`).
    #[serde(
        rename = "Sync_Status__c",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sync_status: Option<StripeCustomerSyncStatus>,
    /// Segment (`Segment__c`).
    #[serde(
        rename = "Segment__c",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub segment: Option<StripeCustomerSegment>,
    /// Payment Methods (`Payment_Methods__c`).
    #[serde(
        rename = "Payment_Methods__c",
        default,
        skip_serializing_if = "Option::is_none",
        with = "sfdc_types::wire::multipicklist::option"
    )]
    pub payment_methods: Option<Vec<StripeCustomerPaymentMethods>>,
    /// Contact (`Contact__c`).
    #[serde(
        rename = "Contact__c",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub contact: Option<String>,
    /// Balance Display (`Balance_Display__c`).
    #[serde(
        rename = "Balance_Display__c",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub balance_display: Option<String>,
}

impl SObject for StripeCustomer {
    const API_NAME: &'static str = "Stripe_Customer__c";
    fn describe() -> &'static ObjectDescribe {
        &STRIPE_CUSTOMER
    }
    fn schema() -> &'static Schema {
        &SCHEMA
    }
}

/// Stripe Customer (`Stripe_Customer__c`) as written: no read-only fields.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StripeCustomerWrite {
    /// Customer Name (`Name`).
    #[serde(rename = "Name", default, skip_serializing_if = "Patch::is_skip")]
    pub name: Patch<String>,
    /// Stripe ID (`Stripe_ID__c`).
    #[serde(
        rename = "Stripe_ID__c",
        default,
        skip_serializing_if = "Patch::is_skip"
    )]
    pub stripe_id: Patch<String>,
    /// Email (`Email__c`).
    #[serde(rename = "Email__c", default, skip_serializing_if = "Patch::is_skip")]
    pub email: Patch<String>,
    /// Balance (`Balance__c`).
    #[serde(
        rename = "Balance__c",
        default,
        skip_serializing_if = "Patch::is_skip",
        with = "sfdc_types::wire::decimal::patch"
    )]
    pub balance: Patch<Decimal>,
    /// Invoice Count (`Invoice_Count__c`).
    #[serde(
        rename = "Invoice_Count__c",
        default,
        skip_serializing_if = "Patch::is_skip",
        with = "sfdc_types::wire::integer::patch"
    )]
    pub invoice_count: Patch<i64>,
    /// Description (`Description__c`).
    #[serde(
        rename = "Description__c",
        default,
        skip_serializing_if = "Patch::is_skip"
    )]
    pub description: Patch<String>,
    /// Delinquent (`Delinquent__c`).
    #[serde(
        rename = "Delinquent__c",
        default,
        skip_serializing_if = "Patch::is_skip"
    )]
    pub delinquent: Patch<bool>,
    /// Customer Since (`Customer_Since__c`).
    #[serde(
        rename = "Customer_Since__c",
        default,
        skip_serializing_if = "Patch::is_skip",
        with = "sfdc_types::wire::date::patch"
    )]
    pub customer_since: Patch<Date>,
    /// Last Synced At (`Last_Synced_At__c`).
    #[serde(
        rename = "Last_Synced_At__c",
        default,
        skip_serializing_if = "Patch::is_skip",
        with = "sfdc_types::wire::datetime::patch"
    )]
    pub last_synced_at: Patch<OffsetDateTime>,
    /// Sync Status (`Sync_Status__c`).
    #[serde(
        rename = "Sync_Status__c",
        default,
        skip_serializing_if = "Patch::is_skip"
    )]
    pub sync_status: Patch<StripeCustomerSyncStatus>,
    /// Segment (`Segment__c`).
    #[serde(rename = "Segment__c", default, skip_serializing_if = "Patch::is_skip")]
    pub segment: Patch<StripeCustomerSegment>,
    /// Payment Methods (`Payment_Methods__c`).
    #[serde(
        rename = "Payment_Methods__c",
        default,
        skip_serializing_if = "Patch::is_skip",
        with = "sfdc_types::wire::multipicklist::patch"
    )]
    pub payment_methods: Patch<Vec<StripeCustomerPaymentMethods>>,
    /// Contact (`Contact__c`), by Salesforce Id.
    #[serde(rename = "Contact__c", default, skip_serializing_if = "Patch::is_skip")]
    pub contact: Patch<String>,
    /// Contact (`Contact__r`), by external id.
    #[serde(
        rename = "Contact__r",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub contact_ref: Option<ContactRef>,
}

impl Writable for StripeCustomerWrite {
    type Read = StripeCustomer;
    fn values(&self) -> Vec<sfdc_types::FieldValue> {
        use sfdc_types::value::{push_patch, push_ref};
        let mut out = Vec::new();
        push_patch(&mut out, "Name", &self.name);
        push_patch(&mut out, "Stripe_ID__c", &self.stripe_id);
        push_patch(&mut out, "Email__c", &self.email);
        push_patch(&mut out, "Balance__c", &self.balance);
        push_patch(&mut out, "Invoice_Count__c", &self.invoice_count);
        push_patch(&mut out, "Description__c", &self.description);
        push_patch(&mut out, "Delinquent__c", &self.delinquent);
        push_patch(&mut out, "Customer_Since__c", &self.customer_since);
        push_patch(&mut out, "Last_Synced_At__c", &self.last_synced_at);
        push_patch(&mut out, "Sync_Status__c", &self.sync_status);
        push_patch(&mut out, "Segment__c", &self.segment);
        push_patch(&mut out, "Payment_Methods__c", &self.payment_methods);
        push_patch(&mut out, "Contact__c", &self.contact);
        push_ref(&mut out, "Contact__r", self.contact_ref.as_ref());
        out
    }
}

// ---------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

/// A write with every field valid for an insert.
fn valid_write() -> StripeCustomerWrite {
    StripeCustomerWrite {
        name: Patch::Set("Acme, \"Inc.\"".to_owned()),
        stripe_id: Patch::Set("cus_1".to_owned()),
        email: Patch::Set("billing@acme.example".to_owned()),
        balance: Patch::Set(dec("1234567890123456.78")),
        invoice_count: Patch::Set(12),
        description: Patch::Set("line one\nline two, with comma\r\nüñíçødé 😀".to_owned()),
        delinquent: Patch::Set(false),
        customer_since: Patch::Set(date!(2020 - 02 - 29)),
        last_synced_at: Patch::Set(datetime!(2024-01-02 03:04:05.678 UTC)),
        sync_status: Patch::Set(StripeCustomerSyncStatus::Synced),
        segment: Patch::Set(StripeCustomerSegment::Other("Mid-Market".to_owned())),
        payment_methods: Patch::Set(vec![
            StripeCustomerPaymentMethods::Card,
            StripeCustomerPaymentMethods::SepaDebit,
        ]),
        contact: Patch::Skip,
        contact_ref: Some(ContactRef::StripeCustomerId("cus_1".to_owned())),
    }
}

/// The single violation of validating `values` for `Stripe_Customer__c`, as text.
fn only_violation(values: &[(&str, Value)], op: Operation) -> String {
    let values: Vec<(Cow<'_, str>, Value)> = values
        .iter()
        .map(|(name, value)| (Cow::Borrowed(*name), value.clone()))
        .collect();
    let violations = SCHEMA
        .validate("Stripe_Customer__c", &values, op)
        .unwrap_err();
    assert_eq!(violations.len(), 1, "{violations}");
    violations.to_string()
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

#[test]
fn valid_write_passes_every_operation() {
    let write = valid_write();
    write.validate(Operation::Insert).unwrap();
    write.validate(Operation::Upsert).unwrap();
    write.validate(Operation::Update).unwrap();
    StripeCustomerWrite::default()
        .validate(Operation::Update)
        .unwrap();
}

#[test]
fn violation_unknown_object() {
    let error = SCHEMA
        .validate("Invoice__c", &[], Operation::Insert)
        .unwrap_err();
    assert_eq!(error.to_string(), "Invoice__c: unknown object");
    assert_eq!(error.0[0].kind, ViolationKind::UnknownObject);
}

#[test]
fn violation_unknown_field() {
    assert_eq!(
        only_violation(&[("Nickname__c", text("x"))], Operation::Update),
        "Stripe_Customer__c.Nickname__c: unknown field"
    );
}

#[test]
fn violation_read_only() {
    assert_eq!(
        only_violation(&[("Balance_Display__c", text("$1"))], Operation::Update),
        "Stripe_Customer__c.Balance_Display__c: read-only field, cannot be written"
    );
    assert_eq!(
        only_violation(
            &[("Id", text("a00000000000001AAA")), ("Name", text("A"))],
            Operation::Insert
        ),
        "Stripe_Customer__c.Id: read-only field, cannot be written"
    );
}

#[test]
fn violation_too_long() {
    let email = format!("{}@example.com", "x".repeat(288));
    assert_eq!(
        only_violation(&[("Email__c", text(&email))], Operation::Update),
        "Stripe_Customer__c.Email__c: 300 characters, at most 80 allowed"
    );
    // Counted in UTF-16 code units, like Salesforce: each emoji is two.
    assert_eq!(
        only_violation(&[("Name", text(&"😀".repeat(41)))], Operation::Update),
        "Stripe_Customer__c.Name: 82 characters, at most 80 allowed"
    );
    let fits = [("Name", text(&"é".repeat(80)))];
    let values: Vec<_> = fits
        .iter()
        .map(|(n, v)| (Cow::Borrowed(*n), v.clone()))
        .collect();
    SCHEMA
        .validate("Stripe_Customer__c", &values, Operation::Update)
        .unwrap();
}

#[test]
fn violation_not_in_picklist() {
    assert_eq!(
        only_violation(&[("Sync_Status__c", text("synced"))], Operation::Update),
        r#"Stripe_Customer__c.Sync_Status__c: "synced" is not a value of the restricted picklist"#
    );
    assert_eq!(
        only_violation(
            &[("Payment_Methods__c", text("card;paypal"))],
            Operation::Update
        ),
        r#"Stripe_Customer__c.Payment_Methods__c: "paypal" is not a value of the restricted picklist"#
    );
    let unrestricted = [(Cow::Borrowed("Segment__c"), text("Anything goes"))];
    SCHEMA
        .validate("Stripe_Customer__c", &unrestricted, Operation::Update)
        .unwrap();
}

#[test]
fn violation_missing_required() {
    let write = StripeCustomerWrite {
        stripe_id: Patch::Set("cus_2".to_owned()),
        ..StripeCustomerWrite::default()
    };
    assert_eq!(
        write.validate(Operation::Insert).unwrap_err().to_string(),
        "Stripe_Customer__c.Name: required field has no value"
    );
    assert_eq!(
        write.validate(Operation::Upsert).unwrap_err().to_string(),
        "Stripe_Customer__c.Name: required field has no value"
    );
    write.validate(Operation::Update).unwrap();
    // Clearing a required field is refused whatever the operation.
    assert_eq!(
        only_violation(&[("Name", Value::Null)], Operation::Update),
        "Stripe_Customer__c.Name: required field has no value"
    );
}

#[test]
fn violation_too_many_digits() {
    assert_eq!(
        only_violation(
            &[("Balance__c", Value::Decimal(dec("12345678901234567.5")))],
            Operation::Update
        ),
        "Stripe_Customer__c.Balance__c: 12345678901234567.5 has too many digits: at most 16 before and 2 after the decimal point"
    );
    assert_eq!(
        only_violation(
            &[("Balance__c", Value::Decimal(dec("1.234")))],
            Operation::Update
        ),
        "Stripe_Customer__c.Balance__c: 1.234 has too many digits: at most 16 before and 2 after the decimal point"
    );
    assert_eq!(
        only_violation(
            &[("Invoice_Count__c", Value::Decimal(dec("3.5")))],
            Operation::Update
        ),
        "Stripe_Customer__c.Invoice_Count__c: 3.5 has too many digits: at most 18 before and 0 after the decimal point"
    );
    let trailing_zeros = [(Cow::Borrowed("Balance__c"), Value::Decimal(dec("1.2300")))];
    SCHEMA
        .validate("Stripe_Customer__c", &trailing_zeros, Operation::Update)
        .unwrap();
}

#[test]
fn violation_wrong_type() {
    assert_eq!(
        only_violation(&[("Balance__c", text("12.00"))], Operation::Update),
        "Stripe_Customer__c.Balance__c: expected a Currency value, found text"
    );
    assert_eq!(
        only_violation(&[("Delinquent__c", Value::Integer(1))], Operation::Update),
        "Stripe_Customer__c.Delinquent__c: expected a Checkbox value, found integer"
    );
}

#[test]
fn violation_invalid_format() {
    assert_eq!(
        only_violation(&[("Email__c", text("billing at acme"))], Operation::Update),
        r#"Stripe_Customer__c.Email__c: invalid email address: "billing at acme""#
    );
    assert_eq!(
        only_violation(&[("Contact__c", text("003-nope"))], Operation::Update),
        r#"Stripe_Customer__c.Contact__c: invalid Salesforce Id (15 or 18 letters and digits): "003-nope""#
    );
}

#[test]
fn violation_bad_reference() {
    assert_eq!(
        only_violation(&[("Contact__r.Email", text("a@b.co"))], Operation::Update),
        "Stripe_Customer__c.Contact__r.Email: bad reference: Contact.Email is not an external id field"
    );
    assert_eq!(
        only_violation(
            &[("Owner__r.Id", text("005000000000001"))],
            Operation::Update
        ),
        "Stripe_Customer__c.Owner__r.Id: bad reference: Stripe_Customer__c has no relationship named Owner__r"
    );
    assert_eq!(
        only_violation(&[("Contact__r.Nope__c", text("x"))], Operation::Update),
        "Stripe_Customer__c.Contact__r.Nope__c: bad reference: Contact has no field Nope__c"
    );
    // By Id and by external id are both fine, and the value is checked as the parent field.
    let good = [
        (Cow::Borrowed("Contact__r.Id"), text("003000000000001")),
        (
            Cow::Borrowed("Contact__r.Stripe_Customer_ID__c"),
            text("cus_1"),
        ),
    ];
    SCHEMA
        .validate("Stripe_Customer__c", &good, Operation::Update)
        .unwrap();
    assert_eq!(
        only_violation(
            &[("Contact__r.Stripe_Customer_ID__c", text(&"x".repeat(256)))],
            Operation::Update
        ),
        "Stripe_Customer__c.Contact__r.Stripe_Customer_ID__c: 256 characters, at most 255 allowed"
    );
}

#[test]
fn every_violation_is_reported_at_once() {
    let write = StripeCustomerWrite {
        name: Patch::Null,
        stripe_id: Patch::Set("s".repeat(256)),
        email: Patch::Set("nope".to_owned()),
        balance: Patch::Set(dec("0.001")),
        invoice_count: Patch::Skip,
        sync_status: Patch::Skip,
        ..StripeCustomerWrite::default()
    };
    let mut values = write.values();
    values.push((Cow::Borrowed("Sync_Status__c"), text("Done")));
    values.push((Cow::Borrowed("Balance_Display__c"), text("x")));
    values.push((Cow::Borrowed("Unknown__c"), Value::Bool(true)));
    values.push((Cow::Borrowed("Last_Synced_At__c"), text("2024-01-02")));
    let violations = SCHEMA
        .validate("Stripe_Customer__c", &values, Operation::Insert)
        .unwrap_err();
    assert_eq!(
        violations.to_string(),
        [
            "Stripe_Customer__c.Name: required field has no value",
            "Stripe_Customer__c.Stripe_ID__c: 256 characters, at most 255 allowed",
            r#"Stripe_Customer__c.Email__c: invalid email address: "nope""#,
            "Stripe_Customer__c.Balance__c: 0.001 has too many digits: at most 16 before and 2 after the decimal point",
            r#"Stripe_Customer__c.Sync_Status__c: "Done" is not a value of the restricted picklist"#,
            "Stripe_Customer__c.Balance_Display__c: read-only field, cannot be written",
            "Stripe_Customer__c.Unknown__c: unknown field",
            "Stripe_Customer__c.Last_Synced_At__c: expected a DateTime value, found text",
        ]
        .join("\n")
    );
    let error: &dyn std::error::Error = &violations;
    assert!(error.to_string().lines().count() == 8);
}

#[test]
fn json_records_are_validated_with_the_describe() {
    let record = serde_json::json!({
        "attributes": {"type": "Stripe_Customer__c"},
        "Name": "Acme",
        "Balance__c": 12.5,
        "Invoice_Count__c": "7",
        "Customer_Since__c": "2024-01-02",
        "Last_Synced_At__c": "2024-01-02T03:04:05.000+0000",
        "Delinquent__c": true,
        "Payment_Methods__c": "card;us_bank_account",
        "Contact__r": {"attributes": {"type": "Contact"}, "Stripe_Customer_ID__c": "cus_1"}
    });
    SCHEMA
        .validate_json(
            "Stripe_Customer__c",
            record.as_object().unwrap(),
            Operation::Insert,
        )
        .unwrap();

    let record = serde_json::json!({
        "Balance__c": "twelve",
        "Customer_Since__c": "01/02/2024",
        "Delinquent__c": "yes",
        "Name": 5,
        "Contact__r": {"Stripe_Customer_ID__c": "cus_1", "Email": "a@b.co"},
        "Owner__r": {"Id": "005000000000001"},
        "Last_Synced_At__c": "2024-01-02T03:04:05"
    });
    let violations = SCHEMA
        .validate_json(
            "Stripe_Customer__c",
            record.as_object().unwrap(),
            Operation::Update,
        )
        .unwrap_err();
    assert_eq!(
        violations.to_string(),
        [
            // serde_json's map keeps keys sorted, so the report follows that order.
            r#"Stripe_Customer__c.Balance__c: invalid number: "twelve""#,
            "Stripe_Customer__c.Contact__r: bad reference: expected exactly one external id field, found 2: Email, Stripe_Customer_ID__c",
            r#"Stripe_Customer__c.Customer_Since__c: invalid date (YYYY-MM-DD): "01/02/2024""#,
            "Stripe_Customer__c.Delinquent__c: expected a Checkbox value, found string",
            r#"Stripe_Customer__c.Last_Synced_At__c: invalid datetime (YYYY-MM-DDTHH:MM:SS.sssZ): "2024-01-02T03:04:05""#,
            "Stripe_Customer__c.Name: expected a Text value, found number",
            "Stripe_Customer__c.Owner__r.Id: bad reference: Stripe_Customer__c has no relationship named Owner__r",
        ]
        .join("\n")
    );
}

#[test]
fn read_shape_json_round_trip() {
    let json = r#"{"Id":"a00000000000001AAA","Name":"Acme","Balance__c":1234567890123456.78,"Invoice_Count__c":3,"Delinquent__c":false,"Customer_Since__c":"2020-02-29","Last_Synced_At__c":"2024-01-02T03:04:05.678Z","Sync_Status__c":"Failed","Segment__c":"Mid-Market","Payment_Methods__c":"card;sepa_debit","Contact__c":"003000000000001AAA","Balance_Display__c":"USD 1,234,567,890,123,456.78"}"#;
    let read: StripeCustomer = serde_json::from_str(json).unwrap();
    assert_eq!(read.balance, Some(dec("1234567890123456.78")));
    assert_eq!(read.sync_status, Some(StripeCustomerSyncStatus::Failed));
    assert_eq!(
        read.segment,
        Some(StripeCustomerSegment::Other("Mid-Market".to_owned()))
    );
    assert_eq!(serde_json::to_string(&read).unwrap(), json);
}

#[test]
fn read_shape_accepts_salesforce_datetimes_and_attributes() {
    let json = r#"{"attributes":{"type":"Stripe_Customer__c","url":"/services/data/v62.0/sobjects/Stripe_Customer__c/a00"},"Last_Synced_At__c":"2024-01-02T03:04:05.000+0000","Invoice_Count__c":3.0,"Balance__c":null}"#;
    let read: StripeCustomer = serde_json::from_str(json).unwrap();
    assert_eq!(
        read.last_synced_at,
        Some(datetime!(2024-01-02 03:04:05 UTC))
    );
    assert_eq!(read.invoice_count, Some(3));
    assert_eq!(read.balance, None);
    let error = serde_json::from_str::<StripeCustomer>(r#"{"Sync_Status__c":"Done"}"#).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(r#""Done" is not one of the picklist values Pending, Synced, Failed"#),
        "{error}"
    );
}

#[test]
fn write_shape_json_round_trip() {
    let write = valid_write();
    let json = serde_json::to_string(&write).unwrap();
    assert_eq!(
        json,
        r#"{"Name":"Acme, \"Inc.\"","Stripe_ID__c":"cus_1","Email__c":"billing@acme.example","Balance__c":1234567890123456.78,"Invoice_Count__c":12,"Description__c":"line one\nline two, with comma\r\nüñíçødé 😀","Delinquent__c":false,"Customer_Since__c":"2020-02-29","Last_Synced_At__c":"2024-01-02T03:04:05.678Z","Sync_Status__c":"Synced","Segment__c":"Mid-Market","Payment_Methods__c":"card;sepa_debit","Contact__r":{"Stripe_Customer_ID__c":"cus_1"}}"#
    );
    assert_eq!(
        serde_json::from_str::<StripeCustomerWrite>(&json).unwrap(),
        write
    );
}

#[test]
fn patch_three_states_in_json() {
    let write = StripeCustomerWrite {
        name: Patch::Set("Acme".to_owned()),
        email: Patch::Null,
        balance: Patch::Null,
        ..StripeCustomerWrite::default()
    };
    let json = serde_json::to_string(&write).unwrap();
    assert_eq!(json, r#"{"Name":"Acme","Email__c":null,"Balance__c":null}"#);
    let back: StripeCustomerWrite = serde_json::from_str(&json).unwrap();
    assert_eq!(back, write);
    assert!(back.stripe_id.is_skip());
    assert!(back.email.is_null());
    assert_eq!(back.name, Patch::Set("Acme".to_owned()));
}

#[test]
fn csv_round_trip() {
    let first = valid_write();
    let second = StripeCustomerWrite {
        name: Patch::Set("Zoë \"Z\" Ltd".to_owned()),
        email: Patch::Null,
        balance: Patch::Set(dec("-0.50")),
        invoice_count: Patch::Null,
        description: Patch::Set("#hashtag, \"quoted\"\n".to_owned()),
        delinquent: Patch::Set(true),
        contact: Patch::Set("003000000000001AAA".to_owned()),
        payment_methods: Patch::Null,
        ..StripeCustomerWrite::default()
    };
    let records = [first, second];
    let csv = write_csv(&records);
    assert_eq!(
        csv,
        concat!(
            "Name,Stripe_ID__c,Email__c,Balance__c,Invoice_Count__c,Description__c,Delinquent__c,",
            "Customer_Since__c,Last_Synced_At__c,Sync_Status__c,Segment__c,Payment_Methods__c,",
            "Contact__c,Contact__r.Stripe_Customer_ID__c\n",
            "\"Acme, \"\"Inc.\"\"\",cus_1,billing@acme.example,1234567890123456.78,12,",
            "\"line one\nline two, with comma\r\nüñíçødé 😀\",false,2020-02-29,",
            "2024-01-02T03:04:05.678Z,Synced,Mid-Market,card;sepa_debit,,cus_1\n",
            "\"Zoë \"\"Z\"\" Ltd\",,#N/A,-0.50,#N/A,\"#hashtag, \"\"quoted\"\"\n\",true,,,,,#N/A,",
            "003000000000001AAA,\n",
        )
    );
    let read = read_csv(&STRIPE_CUSTOMER, &csv).unwrap();
    let expected: Vec<_> = records.iter().map(Writable::values).collect();
    assert_eq!(read, expected);
}

#[test]
fn csv_header_order_is_stable() {
    let only_ref = StripeCustomerWrite {
        contact_ref: Some(ContactRef::StripeCustomerId("cus_9".to_owned())),
        ..StripeCustomerWrite::default()
    };
    let only_status = StripeCustomerWrite {
        sync_status: Patch::Set(StripeCustomerSyncStatus::Pending),
        name: Patch::Set("A".to_owned()),
        ..StripeCustomerWrite::default()
    };
    let only_lookup = StripeCustomerWrite {
        contact: Patch::Set("003000000000001".to_owned()),
        ..StripeCustomerWrite::default()
    };
    let header = |records: &[StripeCustomerWrite]| {
        write_csv(records)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let expected = "Name,Sync_Status__c,Contact__c,Contact__r.Stripe_Customer_ID__c";
    let a = [only_ref.clone(), only_status.clone(), only_lookup.clone()];
    let b = [only_lookup, only_status, only_ref];
    assert_eq!(header(&a), expected);
    assert_eq!(header(&b), expected);
    assert_eq!(write_csv::<StripeCustomerWrite>(&[]), "");
}

#[test]
fn csv_reader_types_cells_by_the_describe() {
    let csv = "name,BALANCE__C,Invoice_Count__c,Delinquent__c,Last_Synced_At__c,Contact__r.Stripe_Customer_ID__c\r\nA,1.50,3,TRUE,2024-01-02T03:04:05.000+0000,cus_1\r\n";
    let read = read_csv(&STRIPE_CUSTOMER, csv).unwrap();
    assert_eq!(
        read,
        [vec![
            (Cow::Borrowed("Name"), text("A")),
            (Cow::Borrowed("Balance__c"), Value::Decimal(dec("1.50"))),
            (Cow::Borrowed("Invoice_Count__c"), Value::Integer(3)),
            (Cow::Borrowed("Delinquent__c"), Value::Bool(true)),
            (
                Cow::Borrowed("Last_Synced_At__c"),
                Value::DateTime(datetime!(2024-01-02 03:04:05 UTC))
            ),
            (
                Cow::Borrowed("Contact__r.Stripe_Customer_ID__c"),
                text("cus_1")
            ),
        ]]
    );
    assert_eq!(
        read_csv(&STRIPE_CUSTOMER, "Name,Nope__c\nA,B\n")
            .unwrap_err()
            .to_string(),
        r#"line 1: column "Nope__c" is not a field or relationship of Stripe_Customer__c"#
    );
    assert_eq!(
        read_csv(
            &STRIPE_CUSTOMER,
            "Name,Invoice_Count__c\nA,1\n\"B\nB\",3.5\n"
        )
        .unwrap_err()
        .to_string(),
        r#"line 3, column Invoice_Count__c: invalid whole number: "3.5""#
    );
    assert_eq!(
        read_csv(&STRIPE_CUSTOMER, "Name,Balance__c\nA\n")
            .unwrap_err()
            .to_string(),
        "line 2: 1 cells, the header has 2"
    );
}

#[test]
fn describes_serialize_for_tools() {
    let json = serde_json::to_value(&SCHEMA).unwrap();
    let fields = &json["objects"][1]["fields"];
    assert_eq!(fields[13]["field_type"], "Lookup");
    assert_eq!(fields[13]["relationship_name"], "Contact__r");
    let back: Schema = serde_json::from_value(json).unwrap();
    assert_eq!(back, SCHEMA);
    assert_eq!(
        StripeCustomer::describe().api_name,
        StripeCustomer::API_NAME
    );
}
