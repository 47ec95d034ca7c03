//! Resources read from payloads as Stripe's API reference shows them for API version 2022-11-15
//! (`tests/fixtures/resources/`), and variations of them: unknown enum values and fields,
//! expanded and unexpanded references, null versus absent fields.

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use stripe_types::client::Identified;
use stripe_types::{
    ApiErrorsType, CheckoutSession, CheckoutSessionMode, CheckoutSessionPaymentStatus,
    CheckoutSessionStatus, Coupon, CouponDuration, Customer, CustomerOrDeletedCustomer,
    CustomerTaxExempt, DeletedCustomer, Discount, Expandable, Invoice, InvoiceStatus, LineItemType,
    PaymentIntent, PaymentIntentStatus, Price, PriceType, Product, RecurringInterval, Subscription,
    SubscriptionStatus,
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/resources")
}

fn json_of(name: &str) -> Value {
    let path = fixtures().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn read<T: DeserializeOwned>(name: &str) -> T {
    from(json_of(name))
}

fn from<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}"))
}

fn error_of<T: DeserializeOwned + std::fmt::Debug>(value: Value) -> String {
    serde_json::from_value::<T>(value).unwrap_err().to_string()
}

#[test]
fn every_fixture_reads_as_its_resource() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let value = json_of(&name);
        let result = match value["object"].as_str().unwrap() {
            "customer" if value.get("deleted").is_some() => {
                serde_json::from_value::<DeletedCustomer>(value).map(drop)
            }
            "customer" => serde_json::from_value::<Customer>(value).map(drop),
            "subscription" => serde_json::from_value::<Subscription>(value).map(drop),
            "price" => serde_json::from_value::<Price>(value).map(drop),
            "product" => serde_json::from_value::<Product>(value).map(drop),
            "coupon" => serde_json::from_value::<Coupon>(value).map(drop),
            "discount" => serde_json::from_value::<Discount>(value).map(drop),
            "invoice" => serde_json::from_value::<Invoice>(value).map(drop),
            "payment_intent" => serde_json::from_value::<PaymentIntent>(value).map(drop),
            "checkout.session" => serde_json::from_value::<CheckoutSession>(value).map(drop),
            other => panic!("{name}: no test type for `{other}`"),
        };
        result.unwrap_or_else(|e| panic!("{name}: {e}"));
        seen += 1;
    }
    assert!(seen >= 15, "only {seen} fixtures");
}

#[test]
fn customer() {
    let customer: Customer = read("customer");
    assert_eq!(customer.id, "cus_NffrFeUfNV2Hib");
    assert_eq!(customer.email.as_deref(), Some("jennyrosen@example.com"));
    assert_eq!(customer.balance, Some(0));
    assert!(customer.address.is_none());
    assert!(customer.default_source.is_none());
    assert_eq!(customer.tax_exempt, Some(CustomerTaxExempt::None));
    assert_eq!(customer.metadata.as_ref().map(|m| m.len()), Some(0));
    assert_eq!(customer.preferred_locales.as_deref(), Some(&[][..]));
    assert_eq!(customer.id(), "cus_NffrFeUfNV2Hib");
}

#[test]
fn customer_with_address_metadata_and_negative_balance() {
    let customer: Customer = read("customer_with_address_and_metadata");
    let metadata = customer.metadata.as_ref().unwrap();
    assert_eq!(metadata["salesforce_account_id"], "0015e00000AbCdEAAV");
    assert_eq!(metadata["plan"], "gold");
    assert_eq!(customer.balance, Some(-2500));
    assert_eq!(customer.currency.as_deref(), Some("usd"));
    let address = customer.address.as_ref().unwrap();
    assert_eq!(address.city.as_deref(), Some("San Francisco"));
    assert!(address.line2.is_none());
    // An unexpanded reference to a resource outside the generated selection.
    let source = customer.default_source.as_ref().unwrap();
    assert_eq!(source.id(), "card_1MtJ8iLkdIwHu7ixz0Ahgx7h");
    assert!(!source.is_expanded());
    let custom_fields = customer
        .invoice_settings
        .as_ref()
        .unwrap()
        .custom_fields
        .as_ref()
        .unwrap();
    assert_eq!(custom_fields[0].name, "VAT");
    assert_eq!(
        customer.shipping.as_ref().unwrap().name.as_deref(),
        Some("Jenny Rosen")
    );
}

#[test]
fn null_and_absent_optional_fields_are_both_none_but_required_fields_must_be_there() {
    let mut absent = json_of("customer");
    absent.as_object_mut().unwrap().remove("email");
    let customer: Customer = from(absent);
    assert!(customer.email.is_none());

    let mut null = json_of("customer");
    null["email"] = Value::Null;
    assert!(from::<Customer>(null).email.is_none());

    let mut no_id = json_of("customer");
    no_id.as_object_mut().unwrap().remove("id");
    assert!(error_of::<Customer>(no_id).contains("missing field `id`"));

    // A required field that is not nullable may not be null either.
    let mut null_status = json_of("subscription");
    null_status["status"] = Value::Null;
    assert!(error_of::<Subscription>(null_status).contains("invalid type: null"));
}

#[test]
fn unknown_fields_are_ignored() {
    let mut value = json_of("customer");
    value["cash_balance_v3"] = json!({"available": {"usd": 100}});
    value["invoice_settings"]["brand_new_setting"] = json!(true);
    let customer: Customer = from(value);
    assert_eq!(customer.id, "cus_NffrFeUfNV2Hib");
}

#[test]
fn subscription_with_items_and_unexpanded_references() {
    let subscription: Subscription = read("subscription");
    assert_eq!(subscription.status, SubscriptionStatus::Active);
    assert_eq!(subscription.current_period_end, 1682288167);
    assert_eq!(subscription.customer.id(), "cus_Na6dX7aXxi11N4");
    assert!(subscription.customer.as_object().is_none());
    assert_eq!(
        subscription.latest_invoice.as_ref().map(|i| i.id()),
        Some("in_1MowQWLkdIwHu7ixuzkSPfKd")
    );
    let item = &subscription.items.data[0];
    assert_eq!(item.id, "si_Na6dzxczY5fwHx");
    assert_eq!(item.quantity, Some(1));
    assert_eq!(item.price.unit_amount, Some(1000));
    assert_eq!(item.price.currency, "usd");
    assert_eq!(
        item.price.recurring.as_ref().unwrap().interval,
        RecurringInterval::Month
    );
    assert!(!subscription.items.has_more);
}

#[test]
fn subscription_status_paused_and_values_added_later() {
    let mut paused = json_of("subscription");
    paused["status"] = json!("paused");
    assert_eq!(
        from::<Subscription>(paused).status,
        SubscriptionStatus::Paused
    );

    let mut future = json_of("subscription");
    future["status"] = json!("frozen_by_regulator");
    future["collection_method"] = json!("carrier_pigeon");
    let subscription: Subscription = from(future);
    assert_eq!(
        subscription.status,
        SubscriptionStatus::Unknown("frozen_by_regulator".to_owned())
    );
    assert_eq!(subscription.status.as_str(), "frozen_by_regulator");
    assert_eq!(subscription.collection_method.to_string(), "carrier_pigeon");
}

#[test]
fn subscription_with_expanded_customer_live_or_deleted() {
    let mut value = json_of("subscription");
    value["customer"] = json_of("customer");
    let subscription: Subscription = from(value);
    match subscription.customer.as_object() {
        Some(CustomerOrDeletedCustomer::Customer(customer)) => {
            assert_eq!(customer.email.as_deref(), Some("jennyrosen@example.com"))
        }
        other => panic!("expected an expanded customer, got {other:?}"),
    }
    assert_eq!(subscription.customer.id(), "cus_NffrFeUfNV2Hib");

    let mut value = json_of("subscription");
    value["customer"] = json_of("deleted_customer");
    let subscription: Subscription = from(value);
    assert!(matches!(
        subscription.customer.as_object(),
        Some(CustomerOrDeletedCustomer::DeletedCustomer(deleted)) if deleted.deleted
    ));
    assert_eq!(subscription.customer.id(), "cus_NffrFeUfNV2Hib");
}

#[test]
fn subscription_rendered_at_another_version_fails_on_the_missing_field() {
    // Newer API versions moved the billing period to the items.
    let mut value = json_of("subscription");
    value.as_object_mut().unwrap().remove("current_period_end");
    assert!(error_of::<Subscription>(value).contains("missing field `current_period_end`"));
}

#[test]
fn price_and_its_product_expanded_or_not() {
    let price: Price = read("price");
    assert_eq!(price.unit_amount, Some(1000));
    assert_eq!(price.unit_amount_decimal.as_deref(), Some("1000"));
    assert_eq!(price.r#type, PriceType::Recurring);
    assert_eq!(price.product.id(), "prod_NZKdYqrwEYx6iK");

    let mut value = json_of("price");
    value["product"] = json_of("product");
    let price: Price = from(value);
    let product = price.product.as_object().expect("expanded");
    assert_eq!(product.id(), "prod_NWjs8kKbJWmuuc");

    let product: Product = read("product");
    assert_eq!(product.name, "Gold Plan");
    assert!(product.active);
    assert!(product.images.is_empty());
}

#[test]
fn coupon_and_discount() {
    let coupon: Coupon = read("coupon");
    assert_eq!(coupon.percent_off, Some(25.5));
    assert_eq!(coupon.amount_off, None);
    assert_eq!(coupon.duration, CouponDuration::Repeating);
    assert_eq!(coupon.duration_in_months, Some(3));

    let discount: Discount = read("discount");
    assert_eq!(discount.coupon.percent_off, Some(50.0));
    assert_eq!(discount.coupon.duration, CouponDuration::Once);
    assert_eq!(
        discount.customer.as_ref().map(|c| c.id()),
        Some("cus_NeZwdNtLEOXuvB")
    );
}

#[test]
fn invoices_draft_and_paid_with_lines() {
    let draft: Invoice = read("invoice");
    assert_eq!(draft.status, Some(InvoiceStatus::Draft));
    assert!(draft.lines.data.is_empty());

    let paid: Invoice = read("invoice_paid");
    assert_eq!(paid.status, Some(InvoiceStatus::Paid));
    assert_eq!(paid.amount_paid, 1000);
    assert_eq!(paid.currency, "usd");
    assert_eq!(paid.status_transitions.paid_at, Some(1679609769));
    let line = &paid.lines.data[0];
    assert_eq!(line.amount, 1000);
    assert_eq!(line.r#type, LineItemType::Subscription);
    assert_eq!(line.period.start, 1679609767);
    assert_eq!(
        line.price.as_ref().unwrap().id,
        "price_1MowQULkdIwHu7ixraBm864M"
    );
    assert_eq!(
        paid.subscription.as_ref().map(|s| s.id()),
        Some("sub_1MowQVLkdIwHu7ixeRlqHVzs")
    );
    // `charge` is outside the selection: an id, or the expanded charge as JSON.
    assert_eq!(
        paid.charge.as_ref().map(|c| c.id()),
        Some("ch_3MowQWLkdIwHu7ix0TR3Pw2H")
    );
}

#[test]
fn expanded_reference_outside_the_selection_is_kept_as_json() {
    let mut value = json_of("invoice_paid");
    value["charge"] = json!({
        "id": "ch_3MowQWLkdIwHu7ix0TR3Pw2H",
        "object": "charge",
        "amount": 1000,
        "currency": "usd",
        "paid": true
    });
    let invoice: Invoice = from(value);
    let charge = invoice.charge.as_ref().unwrap();
    assert!(charge.is_expanded());
    assert_eq!(charge.id(), "ch_3MowQWLkdIwHu7ix0TR3Pw2H");
    let object = charge.as_object().unwrap();
    assert_eq!(object.object(), Some("charge"));
    assert_eq!(object.0["amount"], 1000);
}

#[test]
fn expanded_payment_intent_on_an_invoice() {
    let mut value = json_of("invoice_paid");
    value["payment_intent"] = json_of("payment_intent_succeeded");
    let invoice: Invoice = from(value);
    let intent = invoice
        .payment_intent
        .as_ref()
        .unwrap()
        .as_object()
        .unwrap();
    assert_eq!(intent.status, PaymentIntentStatus::Succeeded);
    assert_eq!(intent.amount_received, Some(1000));
}

#[test]
fn payment_intents_and_the_last_payment_error() {
    let intent: PaymentIntent = read("payment_intent");
    assert_eq!(intent.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert_eq!(intent.amount, 2000);
    assert_eq!(intent.payment_method_types, ["card", "link"]);
    assert!(intent.last_payment_error.is_none());

    let failed: PaymentIntent = read("payment_intent_payment_failed");
    let error = failed.last_payment_error.as_ref().unwrap();
    assert_eq!(error.r#type, ApiErrorsType::CardError);
    assert_eq!(error.code.as_deref(), Some("card_declined"));
    assert_eq!(error.decline_code.as_deref(), Some("insufficient_funds"));
    let payment_method = error.payment_method.as_ref().unwrap();
    let card = payment_method.card.as_ref().unwrap();
    assert_eq!(card.brand, "visa");
    assert_eq!(card.last4, "9995");
    assert_eq!(failed.metadata.as_ref().unwrap()["order_id"], "6735");
}

#[test]
fn checkout_sessions_open_and_completed() {
    let open: CheckoutSession = read("checkout_session");
    assert_eq!(open.mode, CheckoutSessionMode::Payment);
    assert_eq!(open.status, Some(CheckoutSessionStatus::Open));
    assert_eq!(open.payment_status, CheckoutSessionPaymentStatus::Unpaid);
    assert_eq!(open.amount_total, Some(2198));
    assert!(open.customer.is_none());

    let completed: CheckoutSession = read("checkout_session_completed");
    assert_eq!(completed.status, Some(CheckoutSessionStatus::Complete));
    assert_eq!(completed.mode, CheckoutSessionMode::Subscription);
    assert_eq!(
        completed.customer.as_ref().map(|c| c.id()),
        Some("cus_Na6dX7aXxi11N4")
    );
    assert_eq!(
        completed.subscription.as_ref().map(|s| s.id()),
        Some("sub_1MowQVLkdIwHu7ixeRlqHVzs")
    );
    assert_eq!(
        completed.client_reference_id.as_deref(),
        Some("0015e00000AbCdEAAV")
    );
    let details = completed.customer_details.as_ref().unwrap();
    assert_eq!(details.email.as_deref(), Some("jennyrosen@example.com"));
}

#[test]
fn retrieve_customer_response_is_a_customer_or_a_deleted_one() {
    let live: CustomerOrDeletedCustomer = read("customer");
    assert!(matches!(live, CustomerOrDeletedCustomer::Customer(_)));
    let deleted: CustomerOrDeletedCustomer = read("deleted_customer");
    assert!(matches!(
        deleted,
        CustomerOrDeletedCustomer::DeletedCustomer(_)
    ));
    assert_eq!(deleted.id(), "cus_NffrFeUfNV2Hib");
}

#[test]
fn expandable_serializes_back_as_id_or_object() {
    let id: Expandable<stripe_types::Opaque> = Expandable::Id("ch_1".to_owned());
    assert_eq!(serde_json::to_value(&id).unwrap(), json!("ch_1"));
}
