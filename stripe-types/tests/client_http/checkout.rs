//! Checkout Sessions (not served by localstripe): exact create, retrieve and expire
//! requests, and parsing of response payloads written from Stripe's API reference
//! for API version 2022-11-15.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stripe_types::client::{Method, RequestOptions, form};

use super::recorder::{Recorder, Reply};
use super::{client, is_uuid_v4};

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Payment,
    Subscription,
}

#[derive(Serialize)]
struct ProductData<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

#[derive(Serialize)]
struct Recurring {
    interval: &'static str,
}

#[derive(Serialize)]
struct PriceData<'a> {
    currency: &'a str,
    product_data: ProductData<'a>,
    unit_amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    recurring: Option<Recurring>,
}

#[derive(Serialize)]
struct AdjustableQuantity {
    enabled: bool,
    minimum: u32,
    maximum: u32,
}

#[derive(Serialize, Default)]
struct LineItem<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price_data: Option<PriceData<'a>>,
    quantity: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    adjustable_quantity: Option<AdjustableQuantity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tax_rates: Vec<&'a str>,
}

#[derive(Serialize)]
struct SubscriptionData<'a> {
    metadata: BTreeMap<&'a str, &'a str>,
    trial_period_days: Option<u32>,
}

#[derive(Serialize)]
struct SessionCreate<'a> {
    mode: Mode,
    customer: Option<&'a str>,
    client_reference_id: Option<&'a str>,
    line_items: Vec<LineItem<'a>>,
    metadata: BTreeMap<&'a str, &'a str>,
    success_url: &'a str,
    cancel_url: Option<&'a str>,
    allow_promotion_codes: Option<bool>,
    payment_method_types: Vec<&'a str>,
    subscription_data: Option<SubscriptionData<'a>>,
    expand: Vec<&'a str>,
}

/// The Checkout Session object of the API reference, as `POST /v1/checkout/sessions`
/// returns it for a payment-mode session.
const SESSION_OPEN: &str = r#"{
  "id": "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u",
  "object": "checkout.session",
  "after_expiration": null,
  "allow_promotion_codes": true,
  "amount_subtotal": 4500,
  "amount_total": 4500,
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
    "tax_ids": []
  },
  "customer_email": null,
  "expires_at": 1679686615,
  "invoice": null,
  "invoice_creation": {
    "enabled": false,
    "invoice_data": {
      "account_tax_ids": null,
      "custom_fields": null,
      "description": null,
      "footer": null,
      "metadata": {},
      "rendering_options": null
    }
  },
  "livemode": false,
  "locale": null,
  "metadata": {"order": "6735", "sfdc_opportunity": "006Dn000004Zy9AIAS"},
  "mode": "payment",
  "payment_intent": null,
  "payment_link": null,
  "payment_method_collection": "always",
  "payment_method_options": {},
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
  "url": "https://checkout.stripe.com/c/pay/cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u#fidkdWxOYHwnPyd1blpxYHZxWjA0SDdRQ3ZJfGAyU1ZMd0tBTUJNc0BhTXJqNn1oQmZOcWJyT2d0SUZsaWNnQ0I0UUJTQ2JXMnxtNjVrMldEcT1yclRdRzZ%2FdVJtTm1LPXEybEBfNE5zfHBRNTVEZFR%2FV0lPVycpJ2N3amhWYHdzYHcnP3F3cGApJ2lkfGpwcVF8dWAnPyd2bGtiaWBabHFgaCcpJ2BrZGdpYFVpZGZgbWppYWB3dic%2FcXdwYHgl"
}"#;

/// The same session retrieved with `expand[]=line_items`.
const SESSION_WITH_LINE_ITEMS: &str = r#"{
  "id": "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u",
  "object": "checkout.session",
  "amount_subtotal": 4500,
  "amount_total": 4500,
  "automatic_tax": {"enabled": false, "status": null},
  "created": 1679600215,
  "currency": "usd",
  "custom_fields": [],
  "custom_text": {"shipping_address": null, "submit": null},
  "customer": "cus_NffrFeUfNV2Hib",
  "expires_at": 1679686615,
  "line_items": {
    "object": "list",
    "data": [
      {
        "id": "li_1MoPlr2eZvKYlo2CRkB6wKRq",
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": 3000,
        "amount_tax": 0,
        "amount_total": 3000,
        "currency": "usd",
        "description": "Gold plan seat",
        "price": {
          "id": "price_1MoBy5LkdIwHu7ixZhnattbh",
          "object": "price",
          "active": true,
          "billing_scheme": "per_unit",
          "created": 1679431181,
          "currency": "usd",
          "custom_unit_amount": null,
          "livemode": false,
          "lookup_key": null,
          "metadata": {},
          "nickname": null,
          "product": "prod_NZKdYqrwEYx6iK",
          "recurring": null,
          "tax_behavior": "unspecified",
          "tiers_mode": null,
          "transform_quantity": null,
          "type": "one_time",
          "unit_amount": 1500,
          "unit_amount_decimal": "1500"
        },
        "quantity": 2
      },
      {
        "id": "li_1MoPlr2eZvKYlo2CBv1pQzLp",
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": 1500,
        "amount_tax": 0,
        "amount_total": 1500,
        "currency": "usd",
        "description": "Onboarding",
        "price": {
          "id": "price_1MoPlr2eZvKYlo2CzsQhrSYj",
          "object": "price",
          "active": false,
          "billing_scheme": "per_unit",
          "created": 1679600215,
          "currency": "usd",
          "custom_unit_amount": null,
          "livemode": false,
          "lookup_key": null,
          "metadata": {},
          "nickname": null,
          "product": "prod_NZYt3bJmBlCvF1",
          "recurring": null,
          "tax_behavior": "unspecified",
          "tiers_mode": null,
          "transform_quantity": null,
          "type": "one_time",
          "unit_amount": 1500,
          "unit_amount_decimal": "1500"
        },
        "quantity": 1
      }
    ],
    "has_more": false,
    "url": "/v1/checkout/sessions/cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u/line_items"
  },
  "livemode": false,
  "metadata": {"order": "6735", "sfdc_opportunity": "006Dn000004Zy9AIAS"},
  "mode": "payment",
  "payment_intent": "pi_3MoPmF2eZvKYlo2C0Q0SV7wN",
  "payment_method_types": ["card"],
  "payment_status": "paid",
  "shipping_options": [],
  "status": "complete",
  "success_url": "https://example.com/success?session_id={CHECKOUT_SESSION_ID}",
  "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
  "url": null
}"#;

/// `POST /v1/checkout/sessions/{id}/expire` on an open session.
const SESSION_EXPIRED: &str = r#"{
  "id": "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u",
  "object": "checkout.session",
  "after_expiration": null,
  "allow_promotion_codes": true,
  "amount_subtotal": 4500,
  "amount_total": 4500,
  "automatic_tax": {"enabled": false, "status": null},
  "created": 1679600215,
  "currency": "usd",
  "custom_fields": [],
  "custom_text": {"shipping_address": null, "submit": null},
  "customer": "cus_NffrFeUfNV2Hib",
  "expires_at": 1679601012,
  "livemode": false,
  "metadata": {"order": "6735", "sfdc_opportunity": "006Dn000004Zy9AIAS"},
  "mode": "payment",
  "payment_intent": null,
  "payment_method_types": ["card"],
  "payment_status": "unpaid",
  "shipping_options": [],
  "status": "expired",
  "success_url": "https://example.com/success?session_id={CHECKOUT_SESSION_ID}",
  "url": null
}"#;

/// The fields the sync reads from a session.
#[derive(Debug, Deserialize)]
struct Session {
    id: String,
    object: String,
    mode: String,
    status: Option<String>,
    payment_status: String,
    customer: Option<String>,
    client_reference_id: Option<String>,
    amount_total: Option<i64>,
    currency: Option<String>,
    metadata: BTreeMap<String, String>,
    url: Option<String>,
    #[serde(default)]
    line_items: Option<LineItems>,
}

#[derive(Debug, Deserialize)]
struct LineItems {
    data: Vec<Item>,
    has_more: bool,
}

#[derive(Debug, Deserialize)]
struct Item {
    id: String,
    description: String,
    quantity: Option<u64>,
    amount_total: i64,
    price: Option<Price>,
}

#[derive(Debug, Deserialize)]
struct Price {
    id: String,
    unit_amount: Option<i64>,
    product: String,
}

const SESSION_ID: &str = "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u";

#[tokio::test]
async fn create_sends_line_items_and_metadata_in_bracket_notation() {
    let server = Recorder::start(vec![Reply::json(200, SESSION_OPEN)]).await;
    let params = SessionCreate {
        mode: Mode::Payment,
        customer: Some("cus_NffrFeUfNV2Hib"),
        client_reference_id: Some("001Dn00000A1b2CIAR"),
        line_items: vec![
            LineItem {
                price: Some("price_1MoBy5LkdIwHu7ixZhnattbh"),
                quantity: 2,
                adjustable_quantity: Some(AdjustableQuantity {
                    enabled: true,
                    minimum: 1,
                    maximum: 10,
                }),
                tax_rates: vec!["txr_1", "txr_2"],
                ..LineItem::default()
            },
            LineItem {
                price_data: Some(PriceData {
                    currency: "usd",
                    product_data: ProductData {
                        name: "Onboarding & setup",
                        description: None,
                    },
                    unit_amount: 1500,
                    recurring: None,
                }),
                quantity: 1,
                ..LineItem::default()
            },
        ],
        metadata: BTreeMap::from([
            ("order", "6735"),
            ("sfdc_opportunity", "006Dn000004Zy9AIAS"),
        ]),
        success_url: "https://example.com/success?session_id={CHECKOUT_SESSION_ID}",
        cancel_url: Some("https://example.com/cancel"),
        allow_promotion_codes: Some(true),
        payment_method_types: vec!["card"],
        subscription_data: None,
        expand: vec![],
    };
    let session: Session = client(&server)
        .send(
            Method::Post,
            "/v1/checkout/sessions",
            Some(&params),
            &RequestOptions::new(),
        )
        .await
        .expect("create session");

    let request = server.single();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/checkout/sessions")
    );
    assert_eq!(request.query, None);
    assert_eq!(
        request.body_text(),
        [
            "mode=payment",
            "customer=cus_NffrFeUfNV2Hib",
            "client_reference_id=001Dn00000A1b2CIAR",
            "line_items[0][price]=price_1MoBy5LkdIwHu7ixZhnattbh",
            "line_items[0][quantity]=2",
            "line_items[0][adjustable_quantity][enabled]=true",
            "line_items[0][adjustable_quantity][minimum]=1",
            "line_items[0][adjustable_quantity][maximum]=10",
            "line_items[0][tax_rates][0]=txr_1",
            "line_items[0][tax_rates][1]=txr_2",
            "line_items[1][price_data][currency]=usd",
            "line_items[1][price_data][product_data][name]=Onboarding%20%26%20setup",
            "line_items[1][price_data][unit_amount]=1500",
            "line_items[1][quantity]=1",
            "metadata[order]=6735",
            "metadata[sfdc_opportunity]=006Dn000004Zy9AIAS",
            "success_url=https%3A%2F%2Fexample.com%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D",
            "cancel_url=https%3A%2F%2Fexample.com%2Fcancel",
            "allow_promotion_codes=true",
            "payment_method_types[0]=card",
        ]
        .join("&")
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.header("stripe-version"), Some("2022-11-15"));
    assert!(is_uuid_v4(request.header("idempotency-key").unwrap()));

    assert_eq!(session.id, SESSION_ID);
    assert_eq!(session.object, "checkout.session");
    assert_eq!(session.mode, "payment");
    assert_eq!(session.status.as_deref(), Some("open"));
    assert_eq!(session.payment_status, "unpaid");
    assert_eq!(session.customer.as_deref(), Some("cus_NffrFeUfNV2Hib"));
    assert_eq!(
        session.client_reference_id.as_deref(),
        Some("001Dn00000A1b2CIAR")
    );
    assert_eq!(
        (session.amount_total, session.currency.as_deref()),
        (Some(4500), Some("usd"))
    );
    assert_eq!(session.metadata["sfdc_opportunity"], "006Dn000004Zy9AIAS");
    assert!(
        session
            .url
            .unwrap()
            .starts_with("https://checkout.stripe.com/c/pay/cs_test_")
    );
    assert!(session.line_items.is_none());
}

#[tokio::test]
async fn create_subscription_session_with_nested_subscription_data() {
    let server = Recorder::start(vec![Reply::json(200, SESSION_OPEN)]).await;
    let params = SessionCreate {
        mode: Mode::Subscription,
        customer: None,
        client_reference_id: None,
        line_items: vec![LineItem {
            price_data: Some(PriceData {
                currency: "eur",
                product_data: ProductData {
                    name: "Gold",
                    description: Some("Gold plan, billed monthly"),
                },
                unit_amount: 2000,
                recurring: Some(Recurring { interval: "month" }),
            }),
            quantity: 3,
            ..LineItem::default()
        }],
        metadata: BTreeMap::new(),
        success_url: "https://example.com/ok",
        cancel_url: None,
        allow_promotion_codes: Some(false),
        payment_method_types: vec![],
        subscription_data: Some(SubscriptionData {
            metadata: BTreeMap::from([("sfdc_account", ""), ("tier", "gold")]),
            trial_period_days: Some(14),
        }),
        expand: vec!["subscription"],
    };
    let _: Value = client(&server)
        .send(
            Method::Post,
            "/v1/checkout/sessions",
            Some(&params),
            &RequestOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        server.single().body_text(),
        [
            "mode=subscription",
            "line_items[0][price_data][currency]=eur",
            "line_items[0][price_data][product_data][name]=Gold",
            "line_items[0][price_data][product_data][description]=Gold%20plan%2C%20billed%20monthly",
            "line_items[0][price_data][unit_amount]=2000",
            "line_items[0][price_data][recurring][interval]=month",
            "line_items[0][quantity]=3",
            "success_url=https%3A%2F%2Fexample.com%2Fok",
            "allow_promotion_codes=false",
            "subscription_data[metadata][sfdc_account]=",
            "subscription_data[metadata][tier]=gold",
            "subscription_data[trial_period_days]=14",
            "expand[0]=subscription",
        ]
        .join("&")
    );
}

#[tokio::test]
async fn retrieve_with_expanded_line_items() {
    let server = Recorder::start(vec![Reply::json(200, SESSION_WITH_LINE_ITEMS)]).await;
    let path = format!("/v1/checkout/sessions/{}", form::path_segment(SESSION_ID));
    let session: Session = client(&server)
        .send::<(), _>(
            Method::Get,
            &path,
            None,
            &RequestOptions::new().with_expand("line_items"),
        )
        .await
        .expect("retrieve session");

    let request = server.single();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, format!("/v1/checkout/sessions/{SESSION_ID}"));
    assert_eq!(request.query.as_deref(), Some("expand[0]=line_items"));
    assert_eq!(request.header("idempotency-key"), None);
    assert!(request.body.is_empty());

    assert_eq!(session.status.as_deref(), Some("complete"));
    assert_eq!(session.payment_status, "paid");
    assert_eq!(session.url, None);
    let items = session.line_items.expect("expanded line items");
    assert!(!items.has_more);
    assert_eq!(items.data.len(), 2);
    let first = &items.data[0];
    assert_eq!(first.id, "li_1MoPlr2eZvKYlo2CRkB6wKRq");
    assert_eq!(first.description, "Gold plan seat");
    assert_eq!((first.quantity, first.amount_total), (Some(2), 3000));
    let price = first.price.as_ref().unwrap();
    assert_eq!(price.id, "price_1MoBy5LkdIwHu7ixZhnattbh");
    assert_eq!(price.unit_amount, Some(1500));
    assert_eq!(price.product, "prod_NZKdYqrwEYx6iK");
}

#[tokio::test]
async fn expire_posts_an_empty_body() {
    let server = Recorder::start(vec![Reply::json(200, SESSION_EXPIRED)]).await;
    let path = format!(
        "/v1/checkout/sessions/{}/expire",
        form::path_segment(SESSION_ID)
    );
    let session: Session = client(&server)
        .send::<(), _>(Method::Post, &path, None, &RequestOptions::new())
        .await
        .expect("expire session");

    let request = server.single();
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        format!("/v1/checkout/sessions/{SESSION_ID}/expire")
    );
    assert_eq!(request.query, None);
    assert!(request.body.is_empty());
    assert_eq!(request.header("content-length"), Some("0"));
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(is_uuid_v4(request.header("idempotency-key").unwrap()));

    assert_eq!(session.status.as_deref(), Some("expired"));
    assert_eq!(session.payment_status, "unpaid");
    assert_eq!(session.url, None);
}

#[tokio::test]
async fn session_payloads_keep_every_field_as_json() {
    let server = Recorder::start(vec![Reply::json(200, SESSION_OPEN)]).await;
    let session: Value = client(&server)
        .send::<(), _>(
            Method::Get,
            &format!("/v1/checkout/sessions/{SESSION_ID}"),
            None,
            &RequestOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        session,
        serde_json::from_str::<Value>(SESSION_OPEN).unwrap()
    );
    assert_eq!(
        session["invoice_creation"]["invoice_data"]["metadata"],
        serde_json::json!({})
    );
    assert_eq!(session["total_details"]["amount_tax"], 0);
}
