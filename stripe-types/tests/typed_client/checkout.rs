//! Checkout Sessions (localstripe has none): `create_checkout_session` and
//! `expire_checkout_session`, exact requests and the generated `CheckoutSession`.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use stripe_types::client::RequestOptions;
use stripe_types::params::{
    CreateCheckoutSessionLineItem, CreateCheckoutSessionMode, CreateCheckoutSessionParams,
};
use stripe_types::{
    CheckoutSessionMode, CheckoutSessionPaymentStatus, CheckoutSessionStatus,
    CustomerOrDeletedCustomer, Expandable,
};

use super::recorder::{Recorder, Reply};
use super::{assert_stripe_headers, client, is_uuid_v4};

const SESSION_ID: &str = "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY";

/// Checkout pages' URLs carry the session's state in the fragment: far longer than 255 characters.
const SESSION_URL: &str = "https://checkout.stripe.com/c/pay/cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY#fidkdWxOYHwnPyd1blpxYHZxWjA0SDdPUW5JbmFMck1wMmx9N2BLZjFEfGRUNWhqTmJ%2FM2F8bUA2SDRySkFdUV81T1BSV0YxcWJcTUJcYW5rSzN3dzBLPUE0TzRKTTxzNFBjPWZEX1NKSkxpNTVjRjN8VHE0YicpJ2N3amhWYHdzYHcnP3F3cGApJ2lkfGpwcVF8dWAnPyd2bGtiaWBabHFgaCcpJ2BrZGdpYFVpZGZgbWppYWB3dic%2FcXdwYHgl";

const SUCCESS_URL: &str = "https://example.com/success?session_id={CHECKOUT_SESSION_ID}";
const CANCEL_URL: &str = "https://example.com/cancel";
const CREATED: i64 = 1679600215;
/// Half an hour after `CREATED`, the earliest expiry Stripe accepts.
const EXPIRES_AT: i64 = 1679602015;

/// A subscription-mode session for an existing customer, as `POST /v1/checkout/sessions`
/// answers at API version 2022-11-15.
const OPEN_SESSION: &str = r#"{
  "id": "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY",
  "object": "checkout.session",
  "after_expiration": null,
  "allow_promotion_codes": null,
  "amount_subtotal": 2000,
  "amount_total": 2000,
  "automatic_tax": {"enabled": false, "status": null},
  "billing_address_collection": null,
  "cancel_url": "https://example.com/cancel",
  "client_reference_id": "001Dn00000A1b2CIAR",
  "consent": null,
  "consent_collection": null,
  "created": 1679600215,
  "currency": "usd",
  "custom_fields": [],
  "custom_text": {"shipping_address": null, "submit": null},
  "customer": "cus_NffrFeUfNV2Hib",
  "customer_creation": null,
  "customer_details": {
    "address": null,
    "email": "jennyrosen@example.com",
    "name": null,
    "phone": null,
    "tax_exempt": "none",
    "tax_ids": null
  },
  "customer_email": null,
  "expires_at": 1679602015,
  "invoice": null,
  "invoice_creation": null,
  "livemode": false,
  "locale": null,
  "metadata": {"salesforce_record_id": "0066g00000AbCdEAAV"},
  "mode": "subscription",
  "payment_intent": null,
  "payment_link": null,
  "payment_method_collection": "always",
  "payment_method_options": null,
  "payment_method_types": ["card"],
  "payment_status": "unpaid",
  "phone_number_collection": {"enabled": false},
  "recovered_from": null,
  "setup_intent": null,
  "shipping_address_collection": null,
  "shipping_cost": null,
  "shipping_details": null,
  "shipping_options": [],
  "status": "open",
  "submit_type": null,
  "subscription": null,
  "success_url": "https://example.com/success?session_id={CHECKOUT_SESSION_ID}",
  "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
  "url": "https://checkout.stripe.com/c/pay/cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY#fidkdWxOYHwnPyd1blpxYHZxWjA0SDdPUW5JbmFMck1wMmx9N2BLZjFEfGRUNWhqTmJ%2FM2F8bUA2SDRySkFdUV81T1BSV0YxcWJcTUJcYW5rSzN3dzBLPUE0TzRKTTxzNFBjPWZEX1NKSkxpNTVjRjN8VHE0YicpJ2N3amhWYHdzYHcnP3F3cGApJ2lkfGpwcVF8dWAnPyd2bGtiaWBabHFgaCcpJ2BrZGdpYFVpZGZgbWppYWB3dic%2FcXdwYHgl"
}"#;

fn open_session() -> Value {
    serde_json::from_str(OPEN_SESSION).expect("session JSON")
}

#[tokio::test]
async fn create_checkout_session_sends_the_exact_form_body_and_idempotency_key() {
    let server = Recorder::start(vec![Reply::json(200, OPEN_SESSION)]).await;
    let params = CreateCheckoutSessionParams {
        mode: Some(CreateCheckoutSessionMode::Subscription),
        customer: Some("cus_NffrFeUfNV2Hib".to_owned()),
        line_items: Some(vec![CreateCheckoutSessionLineItem {
            price: Some("price_1MoBy5LkdIwHu7ixZhnattbh".to_owned()),
            quantity: Some(2),
            ..Default::default()
        }]),
        cancel_url: Some(CANCEL_URL.to_owned()),
        client_reference_id: Some("001Dn00000A1b2CIAR".to_owned()),
        metadata: Some(BTreeMap::from([(
            "salesforce_record_id".to_owned(),
            "0066g00000AbCdEAAV".to_owned(),
        )])),
        expires_at: Some(EXPIRES_AT),
        ..CreateCheckoutSessionParams::new(SUCCESS_URL.to_owned())
    };
    let opts = RequestOptions::new().with_idempotency_key("sfdc-0066g00000AbCdEAAV-checkout-1");
    let session = client(&server)
        .create_checkout_session(&params, &opts)
        .await
        .expect("create session");

    let request = server.single();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/checkout/sessions");
    assert_eq!(request.query, None);
    // Parameters in the order of the generated struct's fields (alphabetical), brackets literal.
    assert_eq!(
        request.body_text(),
        "cancel_url=https%3A%2F%2Fexample.com%2Fcancel\
         &client_reference_id=001Dn00000A1b2CIAR\
         &customer=cus_NffrFeUfNV2Hib\
         &expires_at=1679602015\
         &line_items[0][price]=price_1MoBy5LkdIwHu7ixZhnattbh\
         &line_items[0][quantity]=2\
         &metadata[salesforce_record_id]=0066g00000AbCdEAAV\
         &mode=subscription\
         &success_url=https%3A%2F%2Fexample.com%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D"
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        request.header("content-length"),
        Some(&*request.body.len().to_string())
    );
    assert_eq!(
        request.header("idempotency-key"),
        Some("sfdc-0066g00000AbCdEAAV-checkout-1")
    );
    assert_stripe_headers(&request);

    assert_eq!(session.id, SESSION_ID);
    assert_eq!(session.object, "checkout.session");
    assert_eq!(session.mode, CheckoutSessionMode::Subscription);
    assert_eq!(session.status, Some(CheckoutSessionStatus::Open));
    assert_eq!(session.payment_status, CheckoutSessionPaymentStatus::Unpaid);
    assert_eq!(session.created, CREATED);
    assert_eq!(session.expires_at, EXPIRES_AT);
    let url = session.url.as_deref().expect("an open session has a URL");
    assert_eq!(url, SESSION_URL);
    assert!(url.len() > 255, "{} characters", url.len());
    assert_eq!(session.success_url, SUCCESS_URL);
    assert_eq!(session.cancel_url.as_deref(), Some(CANCEL_URL));
    assert_eq!(
        session.client_reference_id.as_deref(),
        Some("001Dn00000A1b2CIAR")
    );
    assert_eq!(
        session.metadata,
        Some(BTreeMap::from([(
            "salesforce_record_id".to_owned(),
            "0066g00000AbCdEAAV".to_owned()
        )]))
    );
    assert!(
        matches!(&session.customer, Some(Expandable::Id(id)) if id == "cus_NffrFeUfNV2Hib"),
        "{:?}",
        session.customer
    );
    assert_eq!(
        session.customer_details.as_ref().unwrap().email.as_deref(),
        Some("jennyrosen@example.com")
    );
    assert_eq!(
        (session.amount_subtotal, session.amount_total),
        (Some(2000), Some(2000))
    );
    assert_eq!(session.currency.as_deref(), Some("usd"));
    assert_eq!(session.payment_method_types, ["card"]);
    assert!(session.subscription.is_none() && session.payment_intent.is_none());
}

#[tokio::test]
async fn expire_checkout_session_percent_encodes_the_id_and_parses_the_expired_session() {
    let id = "cs_test_a1/b";
    let mut expired = open_session();
    expired["id"] = json!(id);
    expired["status"] = json!("expired");
    expired["url"] = Value::Null;
    expired["customer"] = json!({
        "id": "cus_NffrFeUfNV2Hib",
        "object": "customer",
        "deleted": true
    });
    let server = Recorder::start(vec![Reply::json(200, expired.to_string())]).await;

    let session = client(&server)
        .expire_checkout_session(id, &RequestOptions::new().with_expand("customer"))
        .await
        .expect("expire session");

    let request = server.single();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/checkout/sessions/cs_test_a1%2Fb/expire");
    assert_eq!(request.query, None);
    // The operation has no parameters besides `expand`, which comes from the options.
    assert_eq!(request.body_text(), "expand[0]=customer");
    assert_eq!(request.header("content-length"), Some("18"));
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let key = request.header("idempotency-key").expect("idempotency key");
    assert!(is_uuid_v4(key), "{key}");
    assert_stripe_headers(&request);

    assert_eq!(session.id, id);
    assert_eq!(session.status, Some(CheckoutSessionStatus::Expired));
    assert_eq!(session.url, None);
    assert_eq!(session.mode, CheckoutSessionMode::Subscription);
    // The expanded customer was deleted since: told apart from a live one by its `deleted` flag.
    let Some(Expandable::Object(customer)) = &session.customer else {
        panic!("customer not expanded: {:?}", session.customer);
    };
    let CustomerOrDeletedCustomer::DeletedCustomer(deleted) = &**customer else {
        panic!("not a deleted customer: {customer:?}");
    };
    assert!(deleted.deleted);
    assert_eq!(deleted.id, "cus_NffrFeUfNV2Hib");
}
