//! The daily API limit: counting, the Sforce-Limit-Info header, /limits and 403.

use serde_json::json;
use sfdc_sim::SimConfig;

use crate::common::{Org, token_request};

#[tokio::test]
async fn header_on_every_response_and_limits_resource() {
    let org = Org::start_with(SimConfig {
        daily_api_limit: 1000,
        ..SimConfig::default()
    })
    .await;
    assert_eq!(org.sim.api_calls(), 0, "token requests are not API calls");
    let ok = org.get("/sobjects/Stripe_Customer__c/describe").await;
    assert_eq!(ok.headers["sforce-limit-info"], "api-usage=1/1000");
    let failed = org.post("/sobjects/Stripe_Customer__c/", json!({})).await;
    assert_eq!(failed.status, 400);
    assert_eq!(
        failed.headers["sforce-limit-info"], "api-usage=2/1000",
        "failures count too"
    );
    let limits = org.get("/limits").await;
    assert_eq!(
        limits.json["DailyApiRequests"],
        json!({"Max": 1000, "Remaining": 997})
    );
    assert_eq!(org.sim.api_calls(), 3);
    let http = crate::common::http();
    token_request(
        &http,
        &org.sim.url(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "test-client"),
            ("client_secret", "test-secret"),
        ],
    )
    .await;
    assert_eq!(org.sim.api_calls(), 3);
}

#[tokio::test]
async fn over_the_limit_is_403() {
    let org = Org::start().await;
    org.sim.set_daily_limit(2);
    assert_eq!(org.get("/limits").await.status, 200);
    assert_eq!(org.get("/limits").await.status, 200);
    let refused = org.get("/limits").await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.json,
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );
    assert_eq!(refused.headers["sforce-limit-info"], "api-usage=2/2");
    assert_eq!(org.sim.api_calls(), 2);
    org.sim.set_daily_limit(3);
    assert_eq!(org.get("/limits").await.status, 200);
}
