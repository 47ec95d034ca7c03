//! Stripe's error object through a typed method: a declined card on `retrieve_payment_intent`.

use stripe_types::client::{ApiErrorType, Error, Method, RequestOptions};
use stripe_types::params::RetrievePaymentIntentParams;

use super::recorder::{Recorder, Reply};
use super::{assert_stripe_headers, client};

/// A card error as the API reference shows it (`payment_intent` trimmed to a few fields).
const CARD_DECLINED: &str = r#"{
  "error": {
    "charge": "ch_3MtwBwLkdIwHu7ix2kuHc4gE",
    "code": "card_declined",
    "decline_code": "insufficient_funds",
    "doc_url": "https://stripe.com/docs/error-codes/card-declined",
    "message": "Your card has insufficient funds.",
    "payment_intent": {
      "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
      "object": "payment_intent",
      "amount": 2000,
      "currency": "usd",
      "status": "requires_payment_method"
    },
    "request_log_url": "https://dashboard.stripe.com/test/logs/req_8h4kF2NKPqmyNf?t=1680877372",
    "type": "card_error"
  }
}"#;

#[tokio::test]
async fn a_402_card_error_becomes_error_api_with_code_decline_code_and_request_id() {
    let server = Recorder::start(vec![
        Reply::json(402, CARD_DECLINED).header("request-id", "req_8h4kF2NKPqmyNf"),
    ])
    .await;
    let params = RetrievePaymentIntentParams {
        client_secret: Some(
            "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH".to_owned(),
        ),
    };
    let err = client(&server)
        .retrieve_payment_intent(
            "pi_3MtwBwLkdIwHu7ix28a3tqPa",
            &params,
            &RequestOptions::new(),
        )
        .await
        .unwrap_err();

    let Error::Api(api) = &err else {
        panic!("expected Error::Api: {err:?}");
    };
    assert_eq!(api.status, 402);
    assert_eq!(api.error_type, ApiErrorType::CardError);
    assert_eq!(api.code.as_deref(), Some("card_declined"));
    assert_eq!(api.decline_code.as_deref(), Some("insufficient_funds"));
    assert_eq!(
        api.message.as_deref(),
        Some("Your card has insufficient funds.")
    );
    assert_eq!(
        api.doc_url.as_deref(),
        Some("https://stripe.com/docs/error-codes/card-declined")
    );
    assert_eq!(api.param, None);
    assert_eq!(api.request_id.as_deref(), Some("req_8h4kF2NKPqmyNf"));
    assert_eq!(
        (api.method, api.path.as_str()),
        (
            Method::Get,
            "/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa"
        )
    );
    assert_eq!(err.status(), Some(402));
    assert_eq!(err.request_id(), Some("req_8h4kF2NKPqmyNf"));
    assert_eq!(
        err.to_string(),
        "Stripe card_error (HTTP 402) on GET /v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa \
         code=card_declined decline_code=insufficient_funds: \
         Your card has insufficient funds. (request req_8h4kF2NKPqmyNf)"
    );

    // A 402 is final: sent once, parameters in the query string.
    let request = server.single();
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.path,
        "/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa"
    );
    assert_eq!(
        request.query.as_deref(),
        Some("client_secret=pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH")
    );
    assert_eq!(request.header("idempotency-key"), None);
    assert_stripe_headers(&request);
}
