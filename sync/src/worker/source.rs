//! [`ObjectSource`]: the current state of a Stripe object, read when two events of one object
//! in the same second cannot be ordered, and [`StripeObjectSource`] reading it from Stripe.

use std::future::Future;
use std::pin::Pin;

use stripe_types::client::form::path_segment;
use stripe_types::client::{Client, Method, RequestOptions};

/// Why an object could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The object type has no retrieve endpoint here.
    #[error("cannot fetch Stripe objects of type `{object_type}` ({id})")]
    Unsupported {
        /// The object's type (`customer`, `checkout.session`, …).
        object_type: String,
        /// Its id.
        id: String,
    },
    /// Stripe's API failed.
    #[error("fetching Stripe {object_type} {id} failed: {source}")]
    Stripe {
        /// The object's type.
        object_type: String,
        /// Its id.
        id: String,
        /// The client's error.
        #[source]
        source: stripe_types::client::Error,
    },
}

/// A boxed future of a fetch.
pub type Fetch<'a> =
    Pin<Box<dyn Future<Output = Result<serde_json::Value, SourceError>> + Send + 'a>>;

/// Where the current state of a Stripe object comes from.
pub trait ObjectSource: Send + Sync + 'static {
    /// The object `id` of type `object_type` (its `object` field, e.g. `checkout.session`) as
    /// Stripe has it now.
    fn fetch<'a>(&'a self, object_type: &'a str, id: &'a str) -> Fetch<'a>;
}

/// The REST path that retrieves an object of `object_type`, if the sync handles that type.
pub fn retrieve_path(object_type: &str, id: &str) -> Option<String> {
    let collection = match object_type {
        "customer" => "customers",
        "subscription" => "subscriptions",
        "invoice" => "invoices",
        "payment_intent" => "payment_intents",
        "price" => "prices",
        "product" => "products",
        "checkout.session" => "checkout/sessions",
        _ => return None,
    };
    Some(format!("/v1/{collection}/{}", path_segment(id)))
}

/// Reads objects from Stripe's API with the typed client (which pins the API version).
#[derive(Clone)]
pub struct StripeObjectSource {
    /// The Stripe client.
    client: Client,
}

impl std::fmt::Debug for StripeObjectSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeObjectSource")
            .field("base_url", &self.client.base_url())
            .finish()
    }
}

impl StripeObjectSource {
    /// A source over `client`.
    pub fn new(client: Client) -> Self {
        StripeObjectSource { client }
    }
}

impl ObjectSource for StripeObjectSource {
    fn fetch<'a>(&'a self, object_type: &'a str, id: &'a str) -> Fetch<'a> {
        Box::pin(async move {
            let path = retrieve_path(object_type, id).ok_or_else(|| SourceError::Unsupported {
                object_type: object_type.to_owned(),
                id: id.to_owned(),
            })?;
            self.client
                .send::<(), serde_json::Value>(Method::Get, &path, None, &RequestOptions::new())
                .await
                .map_err(|source| SourceError::Stripe {
                    object_type: object_type.to_owned(),
                    id: id.to_owned(),
                    source,
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_the_handled_objects() {
        assert_eq!(
            retrieve_path("customer", "cus_1").as_deref(),
            Some("/v1/customers/cus_1")
        );
        assert_eq!(
            retrieve_path("checkout.session", "cs_1").as_deref(),
            Some("/v1/checkout/sessions/cs_1")
        );
        assert_eq!(
            retrieve_path("payment_intent", "pi_1").as_deref(),
            Some("/v1/payment_intents/pi_1")
        );
        assert_eq!(
            retrieve_path("customer", "a/b").as_deref(),
            Some("/v1/customers/a%2Fb")
        );
        assert_eq!(retrieve_path("charge", "ch_1"), None);
    }
}
