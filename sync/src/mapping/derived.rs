//! Derived conversions: rules that need several Stripe values (`convert = "dunning"` with
//! `inputs = { ... }` in `sync/mappings.toml`).

use rust_decimal::Decimal;

use super::convert;
use super::error::{MappingError, MappingErrorKind, Site};

/// `Stripe_Invoice__c.Dunning_Status__c` from an invoice: `none` when it is paid, void, a draft
/// or not attempted yet; `trying` while Stripe has a retry scheduled; `exhausted` when attempts
/// failed and no retry is left (someone has to act).
pub fn dunning(
    status: Option<String>,
    attempt_count: Option<i64>,
    next_payment_attempt: Option<i64>,
) -> Option<String> {
    let status = status?;
    let attempts = attempt_count?;
    let value = match status.as_str() {
        "paid" | "void" | "draft" => "none",
        _ if attempts <= 0 => "none",
        _ if next_payment_attempt.is_some() => "trying",
        _ => "exhausted",
    };
    Some(value.to_string())
}

/// A PaymentIntent's payment status: `failed` when the last attempt failed and Stripe waits for
/// a new payment method (Stripe has no `failed` status), otherwise Stripe's status.
pub fn payment_status(status: Option<String>, last_payment_error: bool) -> Option<String> {
    let status = status?;
    if last_payment_error && status == "requires_payment_method" {
        Some("failed".to_string())
    } else {
        Some(status)
    }
}

/// The payment status of an invoice's PaymentIntent from the invoice: `succeeded` when paid,
/// `canceled` when void, `failed` once an attempt failed or the invoice was written off,
/// otherwise `requires_payment_method`.
pub fn invoice_payment_status(
    status: Option<String>,
    attempt_count: Option<i64>,
) -> Option<String> {
    let status = status?;
    let attempts = attempt_count?;
    let value = match status.as_str() {
        "paid" => "succeeded",
        "void" => "canceled",
        "uncollectible" => "failed",
        _ if attempts > 0 => "failed",
        _ => "requires_payment_method",
    };
    Some(value.to_string())
}

/// Unit amount × quantity (1 when absent) in minor units of `currency`, as a decimal amount;
/// refused above `max` minor units. Absent when the unit amount or currency is (tiered prices
/// have no unit amount).
pub fn recurring_amount(
    site: &Site,
    unit_amount: Option<i64>,
    quantity: Option<i64>,
    currency: Option<String>,
    max: i64,
) -> Result<Option<Decimal>, MappingError> {
    let Some(unit_amount) = unit_amount else {
        return Ok(None);
    };
    let quantity = quantity.unwrap_or(1);
    let total = unit_amount.checked_mul(quantity).ok_or_else(|| {
        site.error(MappingErrorKind::OverLimit {
            value: format!("{unit_amount} × {quantity}"),
            max,
        })
    })?;
    convert::money(site, Some(total), currency, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn dunning_follows_the_retry_schedule() {
        assert_eq!(dunning(s("draft"), Some(0), None), s("none"));
        assert_eq!(dunning(s("open"), Some(0), Some(1_700_000_000)), s("none"));
        assert_eq!(
            dunning(s("open"), Some(1), Some(1_700_000_000)),
            s("trying")
        );
        assert_eq!(dunning(s("open"), Some(4), None), s("exhausted"));
        assert_eq!(dunning(s("uncollectible"), Some(4), None), s("exhausted"));
        assert_eq!(dunning(s("paid"), Some(2), None), s("none"));
        assert_eq!(dunning(s("void"), Some(2), None), s("none"));
        assert_eq!(dunning(None, Some(2), None), None);
    }

    #[test]
    fn payment_status_says_failed() {
        assert_eq!(
            payment_status(s("requires_payment_method"), true),
            s("failed")
        );
        assert_eq!(
            payment_status(s("requires_payment_method"), false),
            s("requires_payment_method")
        );
        assert_eq!(payment_status(s("succeeded"), false), s("succeeded"));
        assert_eq!(
            payment_status(s("requires_action"), true),
            s("requires_action")
        );
    }

    #[test]
    fn invoice_payment_status_from_the_invoice() {
        assert_eq!(invoice_payment_status(s("paid"), Some(1)), s("succeeded"));
        assert_eq!(invoice_payment_status(s("open"), Some(1)), s("failed"));
        assert_eq!(
            invoice_payment_status(s("open"), Some(0)),
            s("requires_payment_method")
        );
        assert_eq!(invoice_payment_status(s("void"), Some(0)), s("canceled"));
        assert_eq!(
            invoice_payment_status(s("uncollectible"), Some(0)),
            s("failed")
        );
    }

    #[test]
    fn recurring_amounts() {
        let site = Site::new("test", "Amount__c");
        assert_eq!(
            recurring_amount(&site, Some(2999), Some(3), s("usd"), 1_000_000),
            Ok(Some(Decimal::new(8997, 2)))
        );
        assert_eq!(
            recurring_amount(&site, Some(500), None, s("jpy"), 1_000_000),
            Ok(Some(Decimal::new(500, 0)))
        );
        assert_eq!(
            recurring_amount(&site, None, Some(2), s("usd"), 1_000_000),
            Ok(None)
        );
        assert!(recurring_amount(&site, Some(600_000), Some(2), s("usd"), 1_000_000).is_err());
    }
}
