//! [`SObject`] and [`Writable`]: what generated record types implement.

use crate::describe::{ObjectDescribe, Schema};
use crate::validate::{Operation, Violations};
use crate::value::FieldValue;

/// A record type read from Salesforce (the read shape of one object).
pub trait SObject {
    /// API name of the object, e.g. `Stripe_Customer__c`.
    const API_NAME: &'static str;

    /// The describe of the object.
    fn describe() -> &'static ObjectDescribe;

    /// The schema the object belongs to, where references to parents are resolved.
    fn schema() -> &'static Schema;
}

/// The write shape of one object: what an insert, update or upsert sends.
///
/// Validation needs the whole schema (a reference to a parent by external id is checked
/// against the parent's describe); it comes from `Self::Read::schema()`, so a write
/// validates itself with `record.validate(Operation::Insert)`.
pub trait Writable {
    /// The read shape of the same object, which names the object and its schema.
    type Read: SObject;

    /// The fields this write sets or clears, in field order, with reference columns such as
    /// `Contact__r.Stripe_Customer_ID__c`; fields left as they are do not appear.
    fn values(&self) -> Vec<FieldValue>;

    /// Checks this write against the object's describe, reporting every violation.
    fn validate(&self, op: Operation) -> Result<(), Violations> {
        crate::validate::validate_values(
            Self::Read::schema(),
            Self::Read::describe(),
            &self.values(),
            op,
        )
    }
}
