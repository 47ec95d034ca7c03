//! Customer updates that clear fields, and retrieving a deleted customer: exact requests and
//! answers at API version 2022-11-15.

use std::collections::BTreeMap;

use serde_json::json;
use stripe_types::Unsettable;
use stripe_types::client::{Identified, RequestOptions};
use stripe_types::params::UpdateCustomerParams;
use stripe_types::{CustomerOrDeletedCustomer, CustomerTaxExempt};

use super::recorder::{Recorder, Reply};
use super::{assert_stripe_headers, client};

/// The customer after the update: name and address cleared.
const UPDATED_CUSTOMER: &str = r#"{
  "id": "cus_NffrFeUfNV2Hib",
  "object": "customer",
  "address": null,
  "balance": 0,
  "created": 1680893993,
  "currency": null,
  "default_source": null,
  "delinquent": false,
  "description": null,
  "discount": null,
  "email": "jenny.rosen@example.com",
  "invoice_prefix": "0759376C",
  "invoice_settings": {"custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null},
  "livemode": false,
  "metadata": {"plan": "platinum"},
  "name": null,
  "next_invoice_sequence": 1,
  "phone": null,
  "preferred_locales": [],
  "shipping": null,
  "tax_exempt": "none",
  "test_clock": null
}"#;

#[tokio::test]
async fn update_customer_sends_empty_strings_to_clear_fields() {
    let server = Recorder::start(vec![
        Reply::json(200, UPDATED_CUSTOMER),
        Reply::json(200, UPDATED_CUSTOMER),
    ])
    .await;
    let client = client(&server);
    // `address` and `metadata` accept "" in the spec, hence `Unsettable`; `name` is a plain
    // string there, so it is cleared with an empty `String`.
    let params = UpdateCustomerParams {
        email: Some("jenny.rosen@example.com".to_owned()),
        name: Some(String::new()),
        address: Some(Unsettable::Unset),
        metadata: Some(Unsettable::Set(BTreeMap::from([
            ("plan".to_owned(), "platinum".to_owned()),
            ("sfdc_account_id".to_owned(), String::new()),
        ]))),
        ..Default::default()
    };
    let customer = client
        .update_customer("cus_NffrFeUfNV2Hib", &params, &RequestOptions::new())
        .await
        .expect("update customer");
    assert_eq!(customer.id, "cus_NffrFeUfNV2Hib");
    assert_eq!(customer.email.as_deref(), Some("jenny.rosen@example.com"));
    assert_eq!(customer.name, None);
    assert!(customer.address.is_none());
    assert_eq!(
        customer.metadata,
        Some(BTreeMap::from([("plan".to_owned(), "platinum".to_owned())]))
    );
    assert_eq!(customer.tax_exempt, Some(CustomerTaxExempt::None));

    let clear_metadata = UpdateCustomerParams {
        metadata: Some(Unsettable::Unset),
        ..Default::default()
    };
    client
        .update_customer(
            "cus_NffrFeUfNV2Hib",
            &clear_metadata,
            &RequestOptions::new(),
        )
        .await
        .expect("clear metadata");

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v1/customers/cus_NffrFeUfNV2Hib");
        assert_stripe_headers(request);
    }
    assert_eq!(
        requests[0].body_text(),
        "address=&email=jenny.rosen%40example.com\
         &metadata[plan]=platinum&metadata[sfdc_account_id]=&name="
    );
    assert_eq!(requests[1].body_text(), "metadata=");
}

#[tokio::test]
async fn retrieve_customer_tells_a_deleted_customer_from_a_live_one() {
    let server = Recorder::start(vec![
        Reply::json(200, UPDATED_CUSTOMER),
        Reply::json(
            200,
            json!({"id": "cus_NffrFeUfNV2Hib", "object": "customer", "deleted": true}).to_string(),
        ),
    ])
    .await;
    let client = client(&server);
    let opts = RequestOptions::new().with_expand("invoice_settings.default_payment_method");

    let live = client
        .retrieve_customer("cus_NffrFeUfNV2Hib", &opts)
        .await
        .expect("retrieve live customer");
    let CustomerOrDeletedCustomer::Customer(customer) = &live else {
        panic!("expected a live customer: {live:?}");
    };
    assert_eq!(customer.email.as_deref(), Some("jenny.rosen@example.com"));
    assert_eq!(live.id(), "cus_NffrFeUfNV2Hib");

    let deleted = client
        .retrieve_customer("cus_NffrFeUfNV2Hib", &RequestOptions::new())
        .await
        .expect("retrieve deleted customer");
    let CustomerOrDeletedCustomer::DeletedCustomer(gone) = &deleted else {
        panic!("expected a deleted customer: {deleted:?}");
    };
    assert!(gone.deleted);
    assert_eq!(deleted.id(), "cus_NffrFeUfNV2Hib");

    let requests = server.requests();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/v1/customers/cus_NffrFeUfNV2Hib");
    assert_eq!(
        requests[0].query.as_deref(),
        Some("expand[0]=invoice_settings.default_payment_method")
    );
    assert_eq!(requests[1].query, None);
    assert_stripe_headers(&requests[0]);
}
