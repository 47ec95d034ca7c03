//! Injected faults: each kind, path matching and counts.

use std::time::{Duration, Instant};

use serde_json::json;
use sfdc_sim::{Fault, FaultKind};

use crate::common::{Org, token_request};

#[tokio::test]
async fn status_faults_have_salesforce_bodies() {
    let org = Org::start().await;
    org.sim.inject(Fault {
        kind: FaultKind::Status(503),
        path_contains: None,
        count: 2,
    });
    for _ in 0..2 {
        let answer = org.get("/limits").await;
        assert_eq!(answer.status, 503);
        assert_eq!(answer.error().0, "SERVER_UNAVAILABLE");
        assert!(answer.headers.contains_key("sforce-limit-info"));
    }
    assert_eq!(org.get("/limits").await.status, 200);
    org.sim.inject(Fault::once(FaultKind::Status(500)));
    let internal = org.get("/limits").await;
    assert_eq!(
        (internal.status, internal.error().0.as_str()),
        (500, "UNKNOWN_EXCEPTION")
    );
    org.sim.inject(Fault::once(FaultKind::Status(502)));
    let gateway = org.get("/limits").await;
    assert_eq!(gateway.status, 502);
    assert!(gateway.text.contains("Bad Gateway"));
    assert_eq!(org.sim.api_calls(), 5, "faulted calls count");
}

#[tokio::test]
async fn delayed_status_and_latency() {
    let org = Org::start().await;
    org.sim.inject(Fault::once(FaultKind::DelayedStatus {
        status: 503,
        delay: Duration::from_millis(200),
    }));
    let started = Instant::now();
    assert_eq!(org.get("/limits").await.status, 503);
    assert!(started.elapsed() >= Duration::from_millis(200));
    org.sim
        .inject(Fault::once(FaultKind::Latency(Duration::from_millis(200))));
    let started = Instant::now();
    assert_eq!(org.get("/limits").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn unable_to_lock_row_names_the_record() {
    let org = Org::start().await;
    let id = org.customer("cus_1");
    org.sim.inject(Fault::on_path(
        FaultKind::UnableToLockRow,
        "/sobjects/Stripe_Customer__c",
        1,
    ));
    let answer = org
        .patch(
            &format!("/sobjects/Stripe_Customer__c/{id}"),
            json!({"Email__c": "a@b.co"}),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.error(),
        (
            "UNABLE_TO_LOCK_ROW".to_owned(),
            format!("unable to obtain exclusive access to this record or 1 records: {id}")
        )
    );
    assert!(
        org.sim.records("Stripe_Customer__c")[0]
            .get("Email__c")
            .is_none()
    );
}

#[tokio::test]
async fn dropped_connections_answer_nothing() {
    let org = Org::start().await;
    org.sim.inject(Fault::once(FaultKind::DropConnection));
    let result = org
        .http
        .get(format!("{}/limits", org.base))
        .bearer_auth(&org.token)
        .send()
        .await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(org.get("/limits").await.status, 200);
}

#[tokio::test]
async fn expired_session_even_with_a_valid_token() {
    let org = Org::start().await;
    org.sim.inject(Fault::once(FaultKind::ExpiredSession));
    let answer = org.get("/limits").await;
    assert_eq!(
        (answer.status, answer.error().0.as_str()),
        (401, "INVALID_SESSION_ID")
    );
    assert_eq!(org.get("/limits").await.status, 200);
}

#[tokio::test]
async fn paths_select_requests_and_token_calls_only_when_named() {
    let org = Org::start().await;
    org.sim
        .inject(Fault::on_path(FaultKind::Status(500), "/query", 1));
    assert_eq!(org.get("/limits").await.status, 200);
    let http = crate::common::http();
    let pairs = [
        ("grant_type", "client_credentials"),
        ("client_id", "test-client"),
        ("client_secret", "test-secret"),
    ];
    org.sim.inject(Fault::once(FaultKind::Status(503)));
    assert_eq!(
        token_request(&http, &org.sim.url(), &pairs).await.status,
        200,
        "unnamed faults skip OAuth"
    );
    assert_eq!(org.query("SELECT Id FROM Contact").await.status, 500);
    assert_eq!(org.get("/limits").await.status, 503);
    org.sim
        .inject(Fault::on_path(FaultKind::Status(503), "/oauth2/token", 1));
    let token = token_request(&http, &org.sim.url(), &pairs).await;
    assert_eq!(token.status, 503);
    assert_eq!(token.json["error"], "unknown_error");
    org.sim.inject(Fault::once(FaultKind::Status(500)));
    org.sim.clear_faults();
    assert_eq!(org.get("/limits").await.status, 200);
}
