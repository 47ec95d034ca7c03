//! The generated typed methods of `Client` (`create_customer`, `list_prices`, …) called with the
//! generated `params` structs and answering generated resource types.
//!
//! - `localstripe`: customers, events and products against localstripe (see
//!   `client_localstripe.rs` for how it is started and how it differs from Stripe). localstripe
//!   renders objects in the shape of API version 2017-08-15, which matters for the typed lists.
//! - The other modules run against the recording server of `client_http` and check the exact
//!   requests, then parse answers written from Stripe's API reference for version 2022-11-15:
//!   prices and products (`catalog`), Checkout Sessions (`checkout`), customer updates
//!   (`customers`), events (`events`) and Stripe's error object (`errors`).

#[path = "typed_client/catalog.rs"]
mod catalog;
#[path = "typed_client/checkout.rs"]
mod checkout;
#[path = "typed_client/customers.rs"]
mod customers;
#[path = "typed_client/errors.rs"]
mod errors;
#[path = "typed_client/events.rs"]
mod events;
#[path = "typed_client/localstripe.rs"]
mod localstripe;
// Shared with `client_http`; not every helper of it is used here.
#[allow(dead_code)]
#[path = "client_http/recorder.rs"]
mod recorder;

use std::time::Duration;

use recorder::{Recorded, Recorder};
use stripe_types::client::{Client, RetryPolicy};

/// The test key of Stripe's API reference.
const KEY: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";

/// A client for the recording server that retries quickly.
fn client(server: &Recorder) -> Client {
    Client::builder(KEY)
        .base_url(&server.base_url)
        .retry_policy(RetryPolicy {
            max_retries: 2,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(2),
        })
        .build()
        .expect("client")
}

/// The headers every request carries, whatever its method.
fn assert_stripe_headers(request: &Recorded) {
    assert_eq!(request.header("stripe-version"), Some("2022-11-15"));
    assert_eq!(
        request.header("authorization"),
        Some("Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc")
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.header("stripe-account"), None);
}

/// A random (version 4) UUID in its hyphenated form, as the client makes idempotency keys.
fn is_uuid_v4(key: &str) -> bool {
    let groups: Vec<&str> = key.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && key.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && groups[2].starts_with('4')
}
