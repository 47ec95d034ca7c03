//! The checked mappings: everything the code generator and the admin table need, resolved
//! against the Stripe spec and the Salesforce model.

use super::path::PathExpr;

/// Every mapping of a file, checked.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The mapping file as named in the generated header.
    pub source: String,
    /// Bounds proven at build time and checked at run time.
    pub limits: Limits,
    /// The mappings in file order.
    pub mappings: Vec<MappingPlan>,
}

/// `[limits]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest amount in minor units (absolute value).
    pub max_amount: i64,
    /// Largest count (absolute value).
    pub max_count: i64,
}

/// One mapping.
#[derive(Debug, Clone)]
pub struct MappingPlan {
    /// Its name (`customer` → `map_customer`).
    pub name: String,
    /// Stripe object type it reads (`customer`, `checkout.session`, ...).
    pub stripe: String,
    /// Salesforce object it writes.
    pub sobject: String,
    /// Rust type of the object's records (`StripeCustomer`).
    pub record_type: String,
    /// Array the mapping iterates, one record per element.
    pub for_each: Option<PathExpr>,
    /// Condition on the object: the path and the value it must have.
    pub when: Option<(PathExpr, String)>,
    /// On a mapping of `event`: the event types it writes a record for (empty: every type).
    pub when_type: Vec<String>,
    /// How the record is found.
    pub key: KeyPlan,
    /// The fields written, in file order.
    pub fields: Vec<FieldPlan>,
}

/// The key of the records a mapping writes.
#[derive(Debug, Clone)]
pub struct KeyPlan {
    /// External id field, or `Id`.
    pub field: String,
    /// Rust field of the external id in the write struct (`None` for `Id`).
    pub rust_field: Option<String>,
    /// Where the value comes from.
    pub source: KeySource,
    /// Whether an absent key skips the record (otherwise it is an error).
    pub skip_record: bool,
}

/// Where a key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A string path (fallbacks tried in order); `id` = expandable reference.
    Paths {
        /// The paths.
        paths: Vec<PathExpr>,
        /// Whether the value is an expandable reference read as its id.
        id: bool,
    },
    /// Literal text and values joined.
    Format(Vec<FormatPart>),
}

/// A part of a key format.
#[derive(Debug, Clone)]
pub enum FormatPart {
    /// Literal text.
    Text(String),
    /// A string or integer path.
    Path(PathExpr),
    /// The 1-based position inside a `for_each`.
    Index,
}

/// One field written.
#[derive(Debug, Clone)]
pub struct FieldPlan {
    /// Salesforce API name.
    pub field: String,
    /// Rust field in the write struct.
    pub rust_field: String,
    /// How the value is written.
    pub target: Target,
    /// Where the value comes from.
    pub source: Source,
    /// How it is converted.
    pub convert: Convert,
    /// What happens when it is absent.
    pub absent: Absent,
    /// Text may be cut to the field length (with a warning).
    pub truncate: bool,
    /// Decimals may be rounded to the field's scale (with a warning).
    pub round: bool,
    /// Bound on the number (minor units for money).
    pub max: i64,
    /// Value for what a table or restricted picklist does not list.
    pub fallback: Option<String>,
}

/// The kind of Salesforce value written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Text of at most `length` UTF-16 code units.
    Text {
        /// The field length.
        length: u32,
    },
    /// A whole number (number field of scale 0).
    Integer {
        /// Total digits.
        precision: u32,
    },
    /// A number with decimals (number, currency, percent).
    Decimal {
        /// Total digits.
        precision: u32,
        /// Digits after the decimal point.
        scale: u32,
    },
    /// Checkbox.
    Bool,
    /// Date.
    Date,
    /// Date and time.
    DateTime,
    /// A picklist.
    Picklist {
        /// Only listed values are accepted.
        restricted: bool,
        /// The values.
        values: Vec<String>,
    },
    /// A lookup by Salesforce record Id.
    RecordId,
    /// A lookup by one of the parent's external ids.
    Ref {
        /// The parent's external id field.
        parent_field: String,
        /// Rust field holding the reference (`stripe_customer_ref`).
        rust_ref_field: String,
    },
}

/// Where a value comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Stripe paths, tried in order.
    Paths {
        /// The paths.
        paths: Vec<PathExpr>,
        /// How the value is read.
        read: Read,
    },
    /// A constant.
    Const(Const),
    /// A value the engine provides.
    Context(ContextField),
    /// Text assembled from literal parts and values (`format = "..."`).
    Template(Vec<TemplatePart>),
    /// A derived conversion of several inputs.
    Derived {
        /// The conversion.
        rule: Derived,
        /// Inputs in the rule's order, each with its path (absent for optional ones not given).
        inputs: Vec<Option<PathExpr>>,
    },
    /// Clear the field.
    Clear,
}

/// A part of a text template (`format = "Payment failed: {amount|money:currency}"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// A value of the object, rendered as `style` says (absent values as `(none)`).
    Value {
        /// Where the value is.
        path: PathExpr,
        /// How it is rendered.
        style: TemplateStyle,
    },
}

/// How a template value is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateStyle {
    /// A string or enum, as it is.
    Text,
    /// An integer, in decimal.
    Integer,
    /// A boolean, as `yes` or `no`.
    Bool,
    /// An expandable reference, as its id.
    Id,
    /// `{amount|money:currency}`: minor units as an amount with the currency's decimals and its
    /// upper-case code (`49.00 USD`).
    Money {
        /// The currency path.
        currency: PathExpr,
    },
    /// `{created|date}`: Unix seconds as the UTC date (`2023-03-14`).
    Date,
    /// `{livemode|dashboard}`: the Stripe Dashboard's base URL, with `test/` when the boolean is
    /// false.
    Dashboard,
}

/// How a path's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// A string (or enum).
    Text,
    /// An integer.
    Integer,
    /// A boolean.
    Bool,
    /// Any value, rendered as JSON.
    Json,
    /// An expandable reference's id.
    Id,
    /// The sum of the integers under `[*]`.
    Sum,
    /// Whether the value is there.
    Presence,
}

/// A constant value.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    /// Text (or picklist value).
    Text(String),
    /// Integer.
    Integer(i64),
    /// Boolean.
    Bool(bool),
}

/// Values the engine provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextField {
    /// When the event was received.
    ReceivedAt,
    /// When processing finished (absent while processing).
    ProcessedAt,
    /// Outcome of processing.
    ProcessingStatus,
    /// Processing attempts so far.
    Attempts,
    /// Last processing error (absent when none).
    ErrorMessage,
    /// 1-based position inside a `for_each`.
    Index,
    /// The Salesforce User or queue that gets finance follow-ups (absent when not configured).
    FinanceOwnerId,
    /// The Salesforce User or queue that gets service follow-ups (absent when not configured).
    ServiceOwnerId,
}

impl ContextField {
    /// Every context field with its name in the mapping file.
    pub const ALL: [(ContextField, &'static str); 8] = [
        (ContextField::ReceivedAt, "received_at"),
        (ContextField::ProcessedAt, "processed_at"),
        (ContextField::ProcessingStatus, "processing_status"),
        (ContextField::Attempts, "attempts"),
        (ContextField::ErrorMessage, "error_message"),
        (ContextField::Index, "index"),
        (ContextField::FinanceOwnerId, "finance_owner_id"),
        (ContextField::ServiceOwnerId, "service_owner_id"),
    ];

    /// The values of `processing_status`, as the runtime's `ProcessingStatus` spells them.
    pub const PROCESSING_STATUSES: [&'static str; 5] = [
        "received",
        "processed",
        "skipped_stale",
        "failed",
        "dead_lettered",
    ];

    /// The name in the mapping file.
    pub fn name(self) -> &'static str {
        ContextField::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("", |(_, n)| n)
    }

    /// Whether the engine may have no value.
    pub fn optional(self) -> bool {
        matches!(
            self,
            ContextField::ProcessedAt
                | ContextField::ErrorMessage
                | ContextField::FinanceOwnerId
                | ContextField::ServiceOwnerId
        )
    }
}

/// A derived conversion: a rule over several inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    /// Invoice dunning: none, trying or exhausted.
    Dunning,
    /// PaymentIntent status, `failed` when the last attempt failed.
    PaymentStatus,
    /// Payment status of an invoice's payment.
    InvoicePaymentStatus,
    /// Unit amount × quantity, as money.
    RecurringAmount,
}

/// The kind of an input of a derived conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A string or enum.
    Text,
    /// An integer.
    Integer,
    /// Any value, tested for presence.
    Presence,
}

impl Derived {
    /// Every derived conversion with its name in the mapping file.
    pub const ALL: [(Derived, &'static str); 4] = [
        (Derived::Dunning, "dunning"),
        (Derived::PaymentStatus, "payment_status"),
        (Derived::InvoicePaymentStatus, "invoice_payment_status"),
        (Derived::RecurringAmount, "recurring_amount"),
    ];

    /// The name in the mapping file.
    pub fn name(self) -> &'static str {
        Derived::ALL
            .iter()
            .find(|(d, _)| *d == self)
            .map_or("", |(_, n)| n)
    }

    /// The inputs: name, kind, and whether the result needs it (an absent required input makes
    /// the result absent).
    pub fn inputs(self) -> &'static [(&'static str, InputKind, bool)] {
        match self {
            Derived::Dunning => &[
                ("status", InputKind::Text, true),
                ("attempt_count", InputKind::Integer, true),
                ("next_payment_attempt", InputKind::Integer, false),
            ],
            Derived::PaymentStatus => &[
                ("status", InputKind::Text, true),
                ("last_payment_error", InputKind::Presence, false),
            ],
            Derived::InvoicePaymentStatus => &[
                ("status", InputKind::Text, true),
                ("attempt_count", InputKind::Integer, true),
            ],
            Derived::RecurringAmount => &[
                ("unit_amount", InputKind::Integer, true),
                ("quantity", InputKind::Integer, false),
                ("currency", InputKind::Text, true),
            ],
        }
    }

    /// The text values the rule can produce (`None` for a money result); `status_values` are the
    /// values of the `status` input when it is an enum.
    pub fn outputs(self, status_values: Option<&[String]>) -> Option<Vec<String>> {
        let list = |values: &[&str]| values.iter().map(|v| v.to_string()).collect::<Vec<_>>();
        match self {
            Derived::Dunning => Some(list(&["none", "trying", "exhausted"])),
            Derived::PaymentStatus => status_values.map(|values| {
                let mut out = values.to_vec();
                if !out.iter().any(|v| v == "failed") {
                    out.push("failed".to_string());
                }
                out
            }),
            Derived::InvoicePaymentStatus => Some(list(&[
                "requires_payment_method",
                "succeeded",
                "canceled",
                "failed",
            ])),
            Derived::RecurringAmount => None,
        }
    }
}

/// A conversion between the read value and the field.
#[derive(Debug, Clone, PartialEq)]
pub enum Convert {
    /// By types: string → text, integer → number, boolean → checkbox, enum → picklist.
    None,
    /// Integer minor units of the currency at `currency` → decimal.
    Money {
        /// The currency path.
        currency: PathExpr,
    },
    /// Decimal string in minor units of the currency at `currency` → decimal.
    MoneyDecimal {
        /// The currency path.
        currency: PathExpr,
    },
    /// Unix seconds → UTC datetime.
    Timestamp,
    /// Unix seconds → UTC date.
    Date,
    /// Upper-case ISO currency code.
    CurrencyCode,
    /// Explicit table of Stripe values to Salesforce values.
    Table(Vec<(String, String)>),
    /// Present / absent to a value each (a missing entry leaves the field as is).
    Presence {
        /// Value when present.
        present: Option<String>,
        /// Value when absent.
        absent: Option<String>,
    },
    /// Integer + 1.
    NextInteger,
}

/// What happens when the value is absent.
#[derive(Debug, Clone, PartialEq)]
pub enum Absent {
    /// Leave the field as it is.
    Skip,
    /// Clear the field.
    Null,
    /// Write this value.
    Default(Const),
}
