//! Checkout links for `Stripe_Subscription__c` records a sales rep marks "Send to Stripe".
//!
//! Each poll reads the records whose `Sync_Status__c` is "Send to Stripe" (the status itself
//! is the queue: a handled record leaves it), and for each:
//!
//! 1. finds the price: the chosen `Pricing_Plan__c`'s Stripe price, else the record's
//!    `Stripe_Price_ID__c`, which is a price id (`price_…`) or a price lookup key (the
//!    `Lookup_Key__c` of a `Stripe_Price__mdt` plan), resolved through Stripe;
//! 2. finds the customer: the record's `Stripe_Customer__c`, else the Contact's Stripe
//!    customer, else the Contact's email for Checkout to create one;
//! 3. creates a Checkout Session (mode subscription, quantity, success and cancel URLs,
//!    `client_reference_id` and metadata carrying the record Id, an expiry) with an
//!    Idempotency-Key derived from the record Id and its `SystemModstamp`: a retry after a
//!    crash gets the same session back, and marking the record "Send to Stripe" again (a new
//!    `SystemModstamp`) issues a new link;
//! 4. writes `Checkout_URL__c`, `Stripe_Checkout_Session_ID__c`, `Checkout_Expires_At__c` and
//!    `Sync_Status__c` "Checkout Created" back, or "Failed" with an `Error_Message__c` a sales
//!    rep can act on ("the Contact has no email", "the plan has no Stripe price").
//!
//! Payment happens only on Stripe's hosted Checkout page: no card data passes through here.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use stripe_types::client::{Client as StripeClient, RequestOptions};
use stripe_types::params::{
    CreateCheckoutSessionLineItem, CreateCheckoutSessionMode, CreateCheckoutSessionParams,
    CreateCheckoutSessionSubscriptionData, ListPricesParams,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::salesforce::soql::{Filter, Order, Query};
use crate::salesforce::{Client as SalesforceClient, ErrorClass};

/// The status that asks for a Checkout link.
pub const SEND_TO_STRIPE: &str = "Send to Stripe";
/// The status once the link is written back.
pub const CHECKOUT_CREATED: &str = "Checkout Created";
/// The status of a record that could not get a link.
pub const FAILED: &str = "Failed";

/// The metadata key (on the session and on the subscription it creates) carrying the
/// `Stripe_Subscription__c` record Id.
pub const RECORD_METADATA_KEY: &str = "salesforce_subscription_id";

/// Settings of [`CheckoutLinks`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutConfig {
    /// Where Stripe sends the customer after paying (`{CHECKOUT_SESSION_ID}` is filled in).
    pub success_url: String,
    /// Where Stripe sends the customer who cancels.
    pub cancel_url: String,
    /// How long a link stays valid (Stripe allows 30 minutes to 24 hours).
    pub expires_after: Duration,
    /// Records handled per poll.
    pub page_size: u32,
}

impl CheckoutConfig {
    /// Links valid 24 hours, 200 records per poll.
    pub fn new(success_url: impl Into<String>, cancel_url: impl Into<String>) -> Self {
        CheckoutConfig {
            success_url: success_url.into(),
            cancel_url: cancel_url.into(),
            expires_after: Duration::from_secs(24 * 60 * 60),
            page_size: 200,
        }
    }
}

/// A record marked "Send to Stripe", with what its link needs.
#[derive(Debug, Clone, Deserialize)]
struct Marked {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "SystemModstamp")]
    modstamp: String,
    #[serde(rename = "Quantity__c")]
    quantity: Option<f64>,
    #[serde(rename = "Stripe_Price_ID__c")]
    price: Option<String>,
    #[serde(rename = "Pricing_Plan__r")]
    plan: Option<Plan>,
    #[serde(rename = "Contact__r")]
    contact: Option<ContactRef>,
    #[serde(rename = "Stripe_Customer__r")]
    customer: Option<CustomerRef>,
}

#[derive(Debug, Clone, Deserialize)]
struct Plan {
    #[serde(rename = "Stripe_Price_ID__c")]
    price: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct ContactRef {
    #[serde(rename = "Email")]
    email: Option<String>,
    #[serde(rename = "Stripe_Customer_ID__c")]
    customer: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct CustomerRef {
    #[serde(rename = "Stripe_Customer_ID__c")]
    customer: Option<String>,
}

/// What became of the records of one poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckoutReport {
    /// Records that got a link.
    pub created: usize,
    /// Records set to "Failed" with a message for the sales rep.
    pub failed: usize,
    /// Records left "Send to Stripe" for the next poll (Stripe or Salesforce was unavailable).
    pub retry: usize,
}

/// Why a poll failed as a whole (one record's failure is written on the record instead).
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The query of marked records failed.
    #[error("querying Stripe_Subscription__c records marked \"Send to Stripe\": {0}")]
    Query(String),
}

/// Why one record got no link.
enum Refusal {
    /// Something the sales rep must fix: written on the record.
    Rep(String),
    /// Stripe or Salesforce is unavailable: the record stays marked.
    Retry(String),
}

/// Creates Checkout links for marked records (see the module documentation).
#[derive(Debug, Clone)]
pub struct CheckoutLinks {
    salesforce: SalesforceClient,
    stripe: StripeClient,
    config: CheckoutConfig,
}

impl CheckoutLinks {
    /// Links from `stripe` for records in `salesforce`.
    pub fn new(salesforce: SalesforceClient, stripe: StripeClient, config: CheckoutConfig) -> Self {
        CheckoutLinks {
            salesforce,
            stripe,
            config,
        }
    }

    /// One poll: every marked record gets a link, a message, or stays marked for the next.
    pub async fn run_once(&self) -> Result<CheckoutReport, CheckoutError> {
        let soql = Query::select([
            "Id",
            "SystemModstamp",
            "Quantity__c",
            "Stripe_Price_ID__c",
            "Pricing_Plan__r.Stripe_Price_ID__c",
            "Contact__r.Email",
            "Contact__r.Stripe_Customer_ID__c",
            "Stripe_Customer__r.Stripe_Customer_ID__c",
        ])
        .from("Stripe_Subscription__c")
        .filter(Filter::eq("Sync_Status__c", SEND_TO_STRIPE))
        .order_by("SystemModstamp", Order::Asc)
        .limit(u64::from(self.config.page_size.max(1)))
        .to_soql()
        .map_err(|e| CheckoutError::Query(e.to_string()))?;
        let marked: Vec<Marked> = self
            .salesforce
            .query(&soql)
            .await
            .map_err(|e| CheckoutError::Query(e.to_string()))?;
        let mut report = CheckoutReport::default();
        for record in marked {
            match self.link(&record).await {
                Ok(()) => report.created += 1,
                Err(Refusal::Rep(message)) => {
                    tracing::info!(record_id = record.id, %message, "no Checkout link");
                    match self.write_failure(&record.id, &message).await {
                        Ok(()) => report.failed += 1,
                        Err(Refusal::Rep(detail) | Refusal::Retry(detail)) => {
                            tracing::warn!(record_id = record.id, %detail, "cannot write the failure back");
                            report.retry += 1;
                        }
                    }
                }
                Err(Refusal::Retry(detail)) => {
                    tracing::warn!(record_id = record.id, %detail, "Checkout link retried next poll");
                    report.retry += 1;
                }
            }
        }
        Ok(report)
    }

    /// Polls every `interval` until `shutdown` resolves (a poll under way is finished first);
    /// a failed poll is logged and tried again at the next interval.
    pub async fn run(
        &self,
        interval: Duration,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            match self.run_once().await {
                Ok(report) if report != CheckoutReport::default() => {
                    tracing::info!(?report, "Checkout links polled");
                }
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "Checkout link poll failed"),
            }
            tokio::select! {
                () = shutdown.as_mut() => break,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// Creates the session of `record` and writes it back.
    async fn link(&self, record: &Marked) -> Result<(), Refusal> {
        let price = self.price(record).await?;
        let contact = record.contact.as_ref();
        let customer = record
            .customer
            .as_ref()
            .and_then(|c| c.customer.clone())
            .or_else(|| contact.and_then(|c| c.customer.clone()))
            .filter(|id| !id.is_empty());
        let email = contact
            .and_then(|c| c.email.clone())
            .filter(|e| !e.is_empty());
        if customer.is_none() && email.is_none() {
            return Err(Refusal::Rep(if contact.is_none() {
                "The subscription has no Contact: choose the Contact to send the Checkout link to."
                    .to_owned()
            } else {
                "The Contact has no email: add one, then set Sync Status to \"Send to Stripe\" again."
                    .to_owned()
            }));
        }
        let quantity = match record.quantity {
            None => 1,
            Some(q) if q >= 1.0 && q.fract() == 0.0 && q <= 1.0e9 => q as i64,
            Some(_) => {
                return Err(Refusal::Rep(
                    "Quantity must be a whole number of at least 1.".to_owned(),
                ));
            }
        };
        let expires_at = OffsetDateTime::now_utc() + self.config.expires_after;
        let metadata = BTreeMap::from([(RECORD_METADATA_KEY.to_owned(), record.id.clone())]);
        let params = CreateCheckoutSessionParams {
            mode: Some(CreateCheckoutSessionMode::Subscription),
            customer_email: if customer.is_none() { email } else { None },
            customer,
            line_items: Some(vec![CreateCheckoutSessionLineItem {
                price: Some(price),
                quantity: Some(quantity),
                ..Default::default()
            }]),
            cancel_url: Some(self.config.cancel_url.clone()),
            client_reference_id: Some(record.id.clone()),
            metadata: Some(metadata.clone()),
            subscription_data: Some(CreateCheckoutSessionSubscriptionData {
                metadata: Some(metadata),
                ..Default::default()
            }),
            expires_at: Some(expires_at.unix_timestamp()),
            ..CreateCheckoutSessionParams::new(self.config.success_url.clone())
        };
        let options = RequestOptions::new().with_idempotency_key(idempotency_key(record));
        let session = self
            .stripe
            .create_checkout_session(&params, &options)
            .await
            .map_err(|error| stripe_refusal("creating the Checkout Session", &error))?;
        let url = session
            .url
            .clone()
            .ok_or_else(|| Refusal::Retry(format!("Checkout Session {} has no URL", session.id)))?;
        let expires = OffsetDateTime::from_unix_timestamp(session.expires_at)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok());
        let body = json!({
            "Checkout_URL__c": url,
            "Stripe_Checkout_Session_ID__c": session.id,
            "Checkout_Expires_At__c": expires,
            "Sync_Status__c": CHECKOUT_CREATED,
            "Error_Message__c": null,
        });
        self.write_back(&record.id, &body).await?;
        tracing::info!(
            record_id = record.id,
            session_id = session.id,
            "Checkout link written"
        );
        Ok(())
    }

    /// The Stripe price of `record`.
    async fn price(&self, record: &Marked) -> Result<String, Refusal> {
        let chosen = record
            .plan
            .as_ref()
            .and_then(|plan| plan.price.clone())
            .or_else(|| record.price.clone())
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty());
        let Some(chosen) = chosen else {
            return Err(Refusal::Rep(
                "The plan has no Stripe price: choose a Pricing Plan or a Stripe price.".to_owned(),
            ));
        };
        if chosen.starts_with("price_") {
            return Ok(chosen);
        }
        // A lookup key, as the Stripe_Price__mdt plans name their prices.
        let params = ListPricesParams {
            lookup_keys: Some(vec![chosen.clone()]),
            active: Some(true),
            limit: Some(1),
            ..Default::default()
        };
        let prices = self
            .stripe
            .list_prices(&params, &RequestOptions::new())
            .await
            .map_err(|error| stripe_refusal("looking up the price", &error))?;
        prices
            .data
            .into_iter()
            .next()
            .map(|price| price.id)
            .ok_or_else(|| {
                Refusal::Rep(format!(
                    "The plan has no Stripe price: no active Stripe price has the lookup key \"{chosen}\"."
                ))
            })
    }

    /// Sets "Failed" and the message on the record.
    async fn write_failure(&self, record_id: &str, message: &str) -> Result<(), Refusal> {
        let body = json!({
            "Sync_Status__c": FAILED,
            "Error_Message__c": message,
        });
        self.write_back(record_id, &body).await
    }

    /// Updates the record.
    async fn write_back(&self, record_id: &str, body: &serde_json::Value) -> Result<(), Refusal> {
        let raw = serde_json::value::to_raw_value(body)
            .map_err(|e| Refusal::Retry(format!("cannot encode the write-back: {e}")))?;
        self.salesforce
            .update_json("Stripe_Subscription__c", record_id, &raw)
            .await
            .map_err(|error| match error.class() {
                ErrorClass::Permanent => Refusal::Rep(format!(
                    "Salesforce refused the Checkout link write-back: {error}"
                )),
                _ => Refusal::Retry(error.to_string()),
            })
    }
}

/// The Idempotency-Key of `record`'s session: the same for every retry of one request, new
/// when the record is marked again.
pub fn idempotency_key_for(record_id: &str, modstamp: &str) -> String {
    let stamp: String = modstamp
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    format!("sfdc-checkout-{record_id}-{stamp}")
}

fn idempotency_key(record: &Marked) -> String {
    idempotency_key_for(&record.id, &record.modstamp)
}

/// What a Stripe error means for the record: a card-free, secret-free message for the rep when
/// the request itself is wrong (a deleted customer, an unknown price), else a retry.
fn stripe_refusal(operation: &str, error: &stripe_types::client::Error) -> Refusal {
    match error {
        stripe_types::client::Error::Api(api) if api.status < 500 && api.status != 429 => {
            let what = api.message.as_deref().unwrap_or("the request was refused");
            Refusal::Rep(format!("Stripe refused {operation}: {what}"))
        }
        other => Refusal::Retry(format!("Stripe {operation}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_changes_when_the_record_is_marked_again() {
        let first = idempotency_key_for("a0B000000000001AAA", "2026-11-23T18:00:00.000+0000");
        assert_eq!(
            first,
            "sfdc-checkout-a0B000000000001AAA-20261123T1800000000000"
        );
        assert_eq!(
            first,
            idempotency_key_for("a0B000000000001AAA", "2026-11-23T18:00:00.000+0000")
        );
        assert_ne!(
            first,
            idempotency_key_for("a0B000000000001AAA", "2026-11-23T18:00:01.000+0000")
        );
    }
}
