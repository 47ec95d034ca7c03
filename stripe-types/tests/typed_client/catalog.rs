//! Prices and products: `list_prices` with filters and expansions, `list_products_paginate`
//! across pages, parsed into the generated `Price` and `Product`.

use futures_util::TryStreamExt;
use serde_json::{Value, json};
use stripe_types::client::{Method, RequestOptions};
use stripe_types::params::{ListPricesParams, ListProductsParams};
use stripe_types::{
    Expandable, PriceBillingScheme, PriceTaxBehavior, PriceTiersMode, PriceType, Product,
    ProductOrOther, RecurringInterval, RecurringUsageType,
};

use super::recorder::{Recorder, Reply};
use super::{assert_stripe_headers, client};

/// `GET /v1/prices?lookup_keys[]=…&expand[]=data.product&expand[]=data.tiers` at API version
/// 2022-11-15: a monthly per-unit price whose product is expanded, and a yearly graduated price
/// whose product is not. `tiers` is only sent when expanded. The first price's `tax_behavior` is a
/// value the spec does not list.
const PRICE_PAGE: &str = r#"{
  "object": "list",
  "url": "/v1/prices",
  "has_more": false,
  "data": [
    {
      "id": "price_1MoBy5LkdIwHu7ixZhnattbh",
      "object": "price",
      "active": true,
      "billing_scheme": "per_unit",
      "created": 1679431181,
      "currency": "usd",
      "custom_unit_amount": null,
      "livemode": false,
      "lookup_key": "gold_monthly",
      "metadata": {"sfdc_pricebook_entry_id": "01uDn00000AbCdEIAV"},
      "nickname": "Gold monthly",
      "product": {
        "id": "prod_NZKdYqrwEYx6iK",
        "object": "product",
        "active": true,
        "created": 1679431181,
        "default_price": "price_1MoBy5LkdIwHu7ixZhnattbh",
        "description": "Gold plan, billed monthly",
        "images": [],
        "livemode": false,
        "metadata": {"sfdc_product2_id": "01tDn000001abcdIAA"},
        "name": "Gold Plan",
        "package_dimensions": null,
        "shippable": null,
        "statement_descriptor": null,
        "tax_code": "txcd_10103001",
        "unit_label": null,
        "updated": 1679431182,
        "url": null
      },
      "recurring": {
        "aggregate_usage": null,
        "interval": "month",
        "interval_count": 1,
        "trial_period_days": null,
        "usage_type": "licensed"
      },
      "tax_behavior": "future_value",
      "tiers": null,
      "tiers_mode": null,
      "transform_quantity": null,
      "type": "recurring",
      "unit_amount": 1000,
      "unit_amount_decimal": "1000"
    },
    {
      "id": "price_1MoC3TLkdIwHu7ixbU9ZKnpV",
      "object": "price",
      "active": true,
      "billing_scheme": "tiered",
      "created": 1679431507,
      "currency": "usd",
      "custom_unit_amount": null,
      "livemode": false,
      "lookup_key": "platinum_yearly_tiered",
      "metadata": {},
      "nickname": null,
      "product": "prod_NZKiOZdcSX9ycx",
      "recurring": {
        "aggregate_usage": null,
        "interval": "year",
        "interval_count": 1,
        "trial_period_days": null,
        "usage_type": "licensed"
      },
      "tax_behavior": "exclusive",
      "tiers": [
        {
          "flat_amount": null,
          "flat_amount_decimal": null,
          "unit_amount": 10000,
          "unit_amount_decimal": "10000",
          "up_to": 5
        },
        {
          "flat_amount": 2500,
          "flat_amount_decimal": "2500",
          "unit_amount": 8000,
          "unit_amount_decimal": "8000",
          "up_to": null
        }
      ],
      "tiers_mode": "graduated",
      "transform_quantity": null,
      "type": "recurring",
      "unit_amount": null,
      "unit_amount_decimal": null
    }
  ]
}"#;

#[tokio::test]
async fn list_prices_sends_filters_and_expansions_and_parses_expanded_and_tiered_prices() {
    let server = Recorder::start(vec![Reply::json(200, PRICE_PAGE)]).await;
    let params = ListPricesParams {
        active: Some(true),
        lookup_keys: Some(vec![
            "gold_monthly".to_owned(),
            "platinum_yearly_tiered".to_owned(),
        ]),
        ..Default::default()
    };
    let opts = RequestOptions::new()
        .with_expand("data.product")
        .with_expand("data.tiers");
    let page = client(&server)
        .list_prices(&params, &opts)
        .await
        .expect("list prices");

    let request = server.single();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/v1/prices");
    assert_eq!(
        request.query.as_deref(),
        Some(
            "active=true&lookup_keys[0]=gold_monthly&lookup_keys[1]=platinum_yearly_tiered\
             &expand[0]=data.product&expand[1]=data.tiers"
        )
    );
    assert_stripe_headers(&request);
    assert_eq!(request.header("idempotency-key"), None);
    assert_eq!(request.header("content-type"), None);
    assert!(request.body.is_empty());

    assert!(!page.has_more);
    assert_eq!(page.url, "/v1/prices");
    assert_eq!(page.data.len(), 2);

    let gold = &page.data[0];
    assert_eq!(gold.id, "price_1MoBy5LkdIwHu7ixZhnattbh");
    assert_eq!(gold.object, "price");
    assert!(gold.active && !gold.livemode);
    assert_eq!(gold.billing_scheme, PriceBillingScheme::PerUnit);
    assert_eq!(gold.r#type, PriceType::Recurring);
    assert_eq!(gold.currency, "usd");
    assert_eq!(gold.unit_amount, Some(1000));
    assert_eq!(gold.unit_amount_decimal.as_deref(), Some("1000"));
    assert_eq!(gold.lookup_key.as_deref(), Some("gold_monthly"));
    assert_eq!(gold.nickname.as_deref(), Some("Gold monthly"));
    assert_eq!(
        gold.metadata["sfdc_pricebook_entry_id"],
        "01uDn00000AbCdEIAV"
    );
    assert_eq!(gold.tiers_mode, None);
    assert!(gold.tiers.is_none());
    let recurring = gold.recurring.as_ref().expect("recurring");
    assert_eq!(recurring.interval, RecurringInterval::Month);
    assert_eq!(recurring.interval_count, 1);
    assert_eq!(recurring.usage_type, RecurringUsageType::Licensed);
    assert_eq!(recurring.aggregate_usage, None);
    let tax_behavior = gold.tax_behavior.as_ref().expect("tax_behavior");
    assert_eq!(
        *tax_behavior,
        PriceTaxBehavior::Unknown("future_value".to_owned())
    );
    assert_eq!(tax_behavior.as_str(), "future_value");

    // An expanded product: `Expandable::Object` holding the product variant of `ProductOrOther`.
    assert!(gold.product.is_expanded());
    assert_eq!(gold.product.id(), "prod_NZKdYqrwEYx6iK");
    let Expandable::Object(product) = &gold.product else {
        panic!("product not expanded: {:?}", gold.product);
    };
    let ProductOrOther::Product(product) = &**product else {
        panic!("expanded product is not a product: {product:?}");
    };
    assert_eq!(product.name, "Gold Plan");
    assert_eq!(
        product.description.as_deref(),
        Some("Gold plan, billed monthly")
    );
    assert_eq!(product.metadata["sfdc_product2_id"], "01tDn000001abcdIAA");
    assert_eq!(product.updated, 1679431182);
    assert!(product.images.is_empty());
    assert!(
        matches!(&product.default_price, Some(Expandable::Id(id)) if id == "price_1MoBy5LkdIwHu7ixZhnattbh"),
        "{:?}",
        product.default_price
    );
    assert!(
        matches!(&product.tax_code, Some(Expandable::Id(id)) if id == "txcd_10103001"),
        "{:?}",
        product.tax_code
    );

    let platinum = &page.data[1];
    assert_eq!(platinum.id, "price_1MoC3TLkdIwHu7ixbU9ZKnpV");
    assert_eq!(platinum.billing_scheme, PriceBillingScheme::Tiered);
    assert_eq!(platinum.tiers_mode, Some(PriceTiersMode::Graduated));
    assert_eq!(platinum.tax_behavior, Some(PriceTaxBehavior::Exclusive));
    assert_eq!(platinum.unit_amount, None);
    assert_eq!(platinum.unit_amount_decimal, None);
    assert_eq!(
        platinum.recurring.as_ref().map(|r| &r.interval),
        Some(&RecurringInterval::Year)
    );
    assert!(platinum.metadata.is_empty());
    // Not expanded: only the id.
    assert!(
        matches!(&platinum.product, Expandable::Id(id) if id == "prod_NZKiOZdcSX9ycx"),
        "{:?}",
        platinum.product
    );
    assert!(platinum.product.as_object().is_none());
    let tiers = platinum.tiers.as_ref().expect("tiers were expanded");
    assert_eq!(tiers.len(), 2);
    assert_eq!(
        (tiers[0].up_to, tiers[0].unit_amount, tiers[0].flat_amount),
        (Some(5), Some(10000), None)
    );
    // `up_to: null` marks the last tier, which has no upper bound.
    assert_eq!(
        (tiers[1].up_to, tiers[1].unit_amount, tiers[1].flat_amount),
        (None, Some(8000), Some(2500))
    );
    assert_eq!(tiers[1].flat_amount_decimal.as_deref(), Some("2500"));
}

/// A product as Stripe renders it at API version 2022-11-15.
fn product(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "object": "product",
        "active": true,
        "created": 1678833149,
        "default_price": null,
        "description": null,
        "images": [],
        "livemode": false,
        "metadata": {},
        "name": name,
        "package_dimensions": null,
        "shippable": null,
        "statement_descriptor": null,
        "tax_code": null,
        "unit_label": null,
        "updated": 1678833149,
        "url": null
    })
}

fn product_page(ids: &[&str], has_more: bool) -> Reply {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| product(id, &format!("Plan {id}")))
        .collect();
    Reply::json(
        200,
        json!({"object": "list", "url": "/v1/products", "has_more": has_more, "data": data})
            .to_string(),
    )
}

#[tokio::test]
async fn list_products_paginate_follows_the_last_id_across_pages() {
    let server = Recorder::start(vec![
        product_page(&["prod_1", "prod_2"], true),
        product_page(&["prod_3", "prod_4"], true),
        product_page(&["prod_5"], false),
    ])
    .await;
    let params = ListProductsParams {
        active: Some(true),
        limit: Some(2),
        ..Default::default()
    };
    let stream = client(&server).list_products_paginate(params, RequestOptions::new());
    // The stream owns its parameters and client: it can run on another task.
    let products = tokio::spawn(stream.try_collect::<Vec<Product>>())
        .await
        .unwrap()
        .expect("every page");
    let ids: Vec<&str> = products.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["prod_1", "prod_2", "prod_3", "prod_4", "prod_5"]);
    assert_eq!(products[4].name, "Plan prod_5");
    assert!(products.iter().all(|p| p.active && p.url.is_none()));

    let requests = server.requests();
    for request in &requests {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            (Method::Get.as_str(), "/v1/products")
        );
        assert_stripe_headers(request);
    }
    let queries: Vec<_> = requests.iter().map(|r| r.query.as_deref()).collect();
    assert_eq!(
        queries,
        [
            Some("active=true&limit=2"),
            Some("active=true&limit=2&starting_after=prod_2"),
            Some("active=true&limit=2&starting_after=prod_4"),
        ]
    );
}
