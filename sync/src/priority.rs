//! Which Stripe event types the sync processes, and how soon each must reach Salesforce.
//!
//! Event types are matched as text so that types Stripe adds later still get a priority (by
//! their object prefix) and still queue.

use crate::queue::Priority;

/// The event types the sync processes: the same list, in the same order, as `events` in
/// `openapi/stripe/selection.toml` (a test keeps the two equal).
pub const HANDLED_EVENTS: &[&str] = &[
    "checkout.session.completed",
    "checkout.session.expired",
    "customer.created",
    "customer.deleted",
    "customer.updated",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.updated",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "payment_intent.payment_failed",
    "payment_intent.succeeded",
    "price.created",
    "price.updated",
    "product.created",
    "product.updated",
];

/// Event types written at once: payment failures, cancellations, checkout completion and expiry.
const HIGH: &[&str] = &[
    // Payment failures.
    "invoice.payment_failed",
    "payment_intent.payment_failed",
    "charge.failed",
    // Cancellations.
    "customer.subscription.deleted",
    "subscription_schedule.canceled",
    "payment_intent.canceled",
    // Checkout completion and expiry.
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
];

/// Object prefixes of the subscription, invoice and payment events written within seconds.
const NORMAL_PREFIXES: &[&str] = &[
    "customer.subscription.",
    "subscription_schedule.",
    "invoice.",
    "invoice_payment.",
    "invoiceitem.",
    "credit_note.",
    "payment_intent.",
    "charge.",
    "refund.",
    "checkout.session.",
];

/// How soon an event of `event_type` must be written: payment failures, cancellations and
/// checkout completion/expiry are [`Priority::High`]; other subscription, invoice and payment
/// events [`Priority::Normal`]; customer updates, prices, products and anything else
/// [`Priority::Low`].
pub fn priority(event_type: &str) -> Priority {
    if HIGH.contains(&event_type) {
        Priority::High
    } else if NORMAL_PREFIXES
        .iter()
        .any(|prefix| event_type.starts_with(prefix))
    {
        Priority::Normal
    } else {
        Priority::Low
    }
}

/// Whether the sync processes events of `event_type` (one of [`HANDLED_EVENTS`]).
pub fn handled(event_type: &str) -> bool {
    HANDLED_EVENTS.contains(&event_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handled_events_equal_the_selection_file() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../openapi/stripe/selection.toml"
        );
        let text = std::fs::read_to_string(path).expect("read selection.toml");
        let selection: toml::Table = toml::from_str(&text).expect("parse selection.toml");
        let events: Vec<&str> = selection["events"]
            .as_array()
            .expect("events is an array")
            .iter()
            .map(|event| event.as_str().expect("event types are strings"))
            .collect();
        assert_eq!(HANDLED_EVENTS, events.as_slice());
    }

    #[test]
    fn handled_events_are_unique_and_handled() {
        let unique: std::collections::BTreeSet<&str> = HANDLED_EVENTS.iter().copied().collect();
        assert_eq!(unique.len(), HANDLED_EVENTS.len());
        for event in HANDLED_EVENTS {
            assert!(handled(event), "{event}");
        }
        assert!(!handled("balance.available"));
        assert!(!handled(""));
    }

    #[test]
    fn priorities_follow_the_issue() {
        for high in [
            "invoice.payment_failed",
            "payment_intent.payment_failed",
            "customer.subscription.deleted",
            "checkout.session.completed",
            "checkout.session.expired",
        ] {
            assert_eq!(priority(high), Priority::High, "{high}");
        }
        for normal in [
            "customer.subscription.created",
            "customer.subscription.updated",
            "customer.subscription.paused",
            "customer.subscription.resumed",
            "invoice.paid",
            "invoice.finalized",
            "payment_intent.succeeded",
            "charge.refunded",
        ] {
            assert_eq!(priority(normal), Priority::Normal, "{normal}");
        }
        for low in [
            "customer.created",
            "customer.updated",
            "customer.deleted",
            "price.created",
            "price.updated",
            "product.created",
            "product.updated",
            "balance.available",
            "something.new",
            "",
        ] {
            assert_eq!(priority(low), Priority::Low, "{low}");
        }
    }

    #[test]
    fn every_high_type_is_high() {
        for event in HIGH {
            assert_eq!(priority(event), Priority::High, "{event}");
        }
    }
}
