//! The Salesforce client against the simulated org (`sfdc-sim`): every operation, every
//! error class, session expiry, pagination, Collections, Composite and Bulk results.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use sfdc_sim::{Fault, FaultKind, SimConfig, Simulator};
use sfdc_types::rust_decimal::Decimal;
use sfdc_types::{
    ContactRef, ContactWrite, Patch, StripeCustomer, StripeCustomerSyncStatus, StripeCustomerWrite,
};
use stripe_sfdc_sync::salesforce::soql::{Filter, Order, Query};
use stripe_sfdc_sync::salesforce::{
    BulkOptions, Client, CompositeRequest, Credentials, Error, ErrorClass, JobState, RecordResult,
    TransportKind,
};

const CUSTOMER: &str = "Stripe_Customer__c";
const CUSTOMER_ID: &str = "Stripe_Customer_ID__c";

async fn sim(config: SimConfig) -> Simulator {
    Simulator::start(config)
        .await
        .expect("the simulator starts")
}

fn client_for(sim: &Simulator) -> Client {
    Client::builder(
        sim.url(),
        Credentials::client_credentials("test-client", "test-secret"),
    )
    .build()
    .expect("the client builds")
}

async fn start() -> (Simulator, Client) {
    let sim = sim(SimConfig::default()).await;
    let client = client_for(&sim);
    (sim, client)
}

fn customer(id: &str) -> StripeCustomerWrite {
    StripeCustomerWrite {
        stripe_customer_id: Patch::Set(id.to_owned()),
        name: Patch::Set(format!("Customer {id}")),
        email: Patch::Set(format!("{id}@example.com")),
        balance: Patch::Set(Decimal::new(1_234_567_890_123, 2)),
        sync_status: Patch::Set(StripeCustomerSyncStatus::Synced),
        ..Default::default()
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object"),
    }
}

fn stored(sim: &Simulator, id: &str) -> Map<String, Value> {
    sim.records(CUSTOMER)
        .into_iter()
        .find(|record| record.get(CUSTOMER_ID) == Some(&json!(id)))
        .unwrap_or_else(|| panic!("{id} is stored"))
}

fn fast_bulk() -> BulkOptions {
    BulkOptions {
        poll_interval: Duration::from_millis(20),
        max_poll_interval: Duration::from_millis(200),
        timeout: Duration::from_secs(60),
    }
}

// ---------------------------------------------------------------- auth

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_login_makes_instance_url_the_base() {
    let (sim, client) = start().await;
    assert_eq!(client.instance_url(), None);
    client.login().await.unwrap();
    assert_eq!(client.instance_url(), Some(sim.url()));
    assert_eq!(client.token_requests(), 1);
    // Token requests are not API calls; the limits call is.
    assert_eq!(sim.api_calls(), 0);
    let limits = client.limits().await.unwrap();
    let daily = limits.daily_api_requests().expect("DailyApiRequests");
    assert_eq!(daily.max, 100_000);
    assert_eq!(sim.api_calls(), 1);
    assert_eq!(client.token_requests(), 1);
    let debug = format!("{client:?}");
    assert!(debug.contains("test-client"), "{debug}");
    assert!(
        !debug.contains("test-secret") && !debug.contains("Bearer"),
        "{debug}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_past_its_lifetime_is_renewed_before_use() {
    let sim = sim(SimConfig::default()).await;
    let client = Client::builder(
        sim.url(),
        Credentials::client_credentials("test-client", "test-secret"),
    )
    .session_lifetime(Duration::from_millis(300))
    .build()
    .unwrap();
    client.limits().await.unwrap();
    client.limits().await.unwrap();
    assert_eq!(client.token_requests(), 1);
    tokio::time::sleep(Duration::from_millis(350)).await;
    client.limits().await.unwrap();
    assert_eq!(
        client.token_requests(),
        2,
        "renewed without waiting for a 401"
    );
    client.logout();
    client.limits().await.unwrap();
    assert_eq!(client.token_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_flow() {
    let sim = sim(SimConfig::default()).await;
    let client = Client::builder(
        sim.url(),
        Credentials::refresh_token(
            "test-client",
            Some("test-secret".into()),
            "test-refresh-token",
        ),
    )
    .build()
    .unwrap();
    client
        .upsert(CUSTOMER_ID, &customer("cus_refresh"))
        .await
        .unwrap();
    sim.expire_all_tokens();
    client
        .upsert(CUSTOMER_ID, &customer("cus_refresh"))
        .await
        .unwrap();
    assert_eq!(client.token_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_bearer_flow_signs_with_rs256() {
    let sim = sim(SimConfig {
        jwt_public_key_pem: Some(sfdc_sim::TEST_JWT_PUBLIC_KEY_PEM.to_owned()),
        ..SimConfig::default()
    })
    .await;
    let credentials = Credentials::jwt_bearer(
        "test-client",
        "integration@example.com",
        sfdc_sim::TEST_JWT_PRIVATE_KEY_PEM,
    )
    .unwrap();
    let client = Client::builder(sim.url(), credentials).build().unwrap();
    client.login().await.unwrap();
    assert_eq!(client.instance_url(), Some(sim.url()));
    client.limits().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_login_is_an_auth_error_and_5xx_login_is_retryable() {
    let sim = sim(SimConfig::default()).await;
    let client = Client::builder(
        sim.url(),
        Credentials::client_credentials("test-client", "wrong-secret"),
    )
    .build()
    .unwrap();
    let error = client.limits().await.unwrap_err();
    assert!(matches!(error, Error::Login { .. }), "{error}");
    assert_eq!(error.class(), ErrorClass::Auth);
    assert!(!error.to_string().contains("wrong-secret"), "{error}");
    assert!(!format!("{client:?}").contains("wrong-secret"));

    let client = client_for(&sim);
    sim.inject(Fault::on_path(FaultKind::Status(503), "/oauth2/token", 1));
    let error = client.login().await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Retryable, "{error}");
    client.login().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiry_mid_run_logs_in_once_and_the_call_succeeds() {
    let (sim, client) = start().await;
    client
        .upsert(CUSTOMER_ID, &customer("cus_1"))
        .await
        .unwrap();
    assert_eq!(client.token_requests(), 1);
    sim.expire_all_tokens();
    let result = client
        .upsert(CUSTOMER_ID, &customer("cus_2"))
        .await
        .unwrap();
    assert!(matches!(result, RecordResult::Created { .. }), "{result:?}");
    assert_eq!(client.token_requests(), 2);
    client
        .upsert(CUSTOMER_ID, &customer("cus_3"))
        .await
        .unwrap();
    assert_eq!(client.token_requests(), 2);
    assert_eq!(sim.records(CUSTOMER).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_during_expiry_log_in_once() {
    let (sim, client) = start().await;
    client.login().await.unwrap();
    sim.expire_all_tokens();
    let calls = (0..24).map(|n| {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .upsert(CUSTOMER_ID, &customer(&format!("cus_c{n}")))
                .await
        })
    });
    for call in futures_util::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    assert_eq!(
        client.token_requests(),
        2,
        "one login, one re-login for all 24 calls"
    );
    assert_eq!(sim.records(CUSTOMER).len(), 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_is_retried_once_only() {
    let (sim, client) = start().await;
    client.login().await.unwrap();
    sim.inject(Fault::once(FaultKind::ExpiredSession));
    client.limits().await.unwrap();
    assert_eq!(client.token_requests(), 2);

    sim.inject(Fault {
        kind: FaultKind::ExpiredSession,
        path_contains: None,
        count: 2,
    });
    let error = client.limits().await.unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.error_code(), Some("INVALID_SESSION_ID"));
    assert_eq!(error.class(), ErrorClass::Auth);
    assert_eq!(client.token_requests(), 3);
}

// ---------------------------------------------------------------- single records

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_update_delete() {
    let (sim, client) = start().await;
    let id = client.create(&customer("cus_crud")).await.unwrap();
    let read: StripeCustomer = client
        .get(&id, &["Id", "Name", "Balance__c", "Sync_Status__c"])
        .await
        .unwrap();
    assert_eq!(read.id.as_deref(), Some(id.as_str()));
    // Salesforce (and the simulator) answer numbers as doubles; read from the JSON text, a
    // value with 15 significant digits comes back exactly.
    assert_eq!(read.balance, Some(Decimal::new(1_234_567_890_123, 2)));
    assert_eq!(read.sync_status, Some(StripeCustomerSyncStatus::Synced));

    let update = StripeCustomerWrite {
        email: Patch::Null,
        customer_name: Patch::Set("Renamed".into()),
        ..Default::default()
    };
    client.update(&id, &update).await.unwrap();
    let record = stored(&sim, "cus_crud");
    assert_eq!(record["Customer_Name__c"], "Renamed");
    assert!(!record.contains_key("Email__c"));

    let json: Value = client.get_json(CUSTOMER, &id, &[]).await.unwrap();
    assert_eq!(json["attributes"]["type"], CUSTOMER);

    client.delete(CUSTOMER, &id).await.unwrap();
    assert!(sim.records(CUSTOMER).is_empty());
    let error = client.delete(CUSTOMER, &id).await.unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.class(), ErrorClass::Permanent);
    assert!(error.to_string().contains(&id), "names the record: {error}");
}

async fn upsert_twice(config: SimConfig) {
    let sim = sim(config).await;
    let client = client_for(&sim);
    let created = client
        .upsert(CUSTOMER_ID, &customer("cus_up"))
        .await
        .unwrap();
    let RecordResult::Created { id } = created else {
        panic!("created: {created:?}");
    };
    let mut again = customer("cus_up");
    again.customer_name = Patch::Set("Second".into());
    let updated = client.upsert(CUSTOMER_ID, &again).await.unwrap();
    assert!(
        matches!(updated, RecordResult::Updated { .. }),
        "{updated:?}"
    );
    if let Some(updated_id) = updated.id() {
        assert_eq!(updated_id, id);
    }
    assert_eq!(sim.records(CUSTOMER).len(), 1);
    assert_eq!(stored(&sim, "cus_up")["Customer_Name__c"], "Second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_created_201_then_updated_200() {
    upsert_twice(SimConfig::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_created_201_then_updated_204() {
    upsert_twice(SimConfig {
        upsert_update_status: 204,
        ..SimConfig::default()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_matching_several_records_is_an_error_naming_them() {
    let mut schema = sfdc_types::SCHEMA.clone();
    for object in schema.objects.to_mut().iter_mut() {
        if object.api_name == CUSTOMER {
            for field in object.fields.to_mut().iter_mut() {
                if field.api_name == CUSTOMER_ID {
                    field.unique = false;
                }
            }
        }
    }
    let sim = Simulator::start_with_schema(SimConfig::default(), schema)
        .await
        .unwrap();
    let client = client_for(&sim);
    let mut ids = Vec::new();
    for name in ["One", "Two"] {
        let record = object(json!({"Name": name, CUSTOMER_ID: "cus_dup"}));
        ids.push(sim.insert_record(CUSTOMER, record).unwrap());
    }
    let error = client
        .upsert(CUSTOMER_ID, &customer("cus_dup"))
        .await
        .unwrap_err();
    let Error::MultipleMatches { matches, .. } = &error else {
        panic!("300 is MultipleMatches: {error}");
    };
    assert_eq!(matches.len(), 2);
    for id in &ids {
        assert!(
            matches.iter().any(|m| m.contains(id.as_str())),
            "{matches:?} names {id}"
        );
    }
    assert_eq!(error.class(), ErrorClass::Permanent);
    assert!(error.to_string().contains("cus_dup"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_writes_are_permanent_with_salesforce_codes() {
    let (_sim, client) = start().await;
    let cases = [
        (
            json!({"Name": "x", "Sync_Status__c": "Exploded"}),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
        (
            json!({"Name": "x", "Currency__c": "EURO"}),
            "STRING_TOO_LONG",
        ),
        (json!({"Name": "x", "No_Such_Field__c": 1}), "INVALID_FIELD"),
    ];
    for (n, (body, code)) in cases.into_iter().enumerate() {
        let error = client
            .upsert_json(CUSTOMER, CUSTOMER_ID, &format!("cus_bad{n}"), &body)
            .await
            .unwrap_err();
        assert_eq!(error.error_code(), Some(code), "{error}");
        assert_eq!(error.class(), ErrorClass::Permanent, "{error}");
        assert!(
            error.to_string().contains(&format!("cus_bad{n}")),
            "names the input: {error}"
        );
    }
    let error = client
        .create_json("Contact", &json!({"FirstName": "No last name"}))
        .await
        .unwrap_err();
    assert_eq!(
        error.error_code(),
        Some("REQUIRED_FIELD_MISSING"),
        "{error}"
    );
    assert_eq!(error.api_errors()[0].fields, ["LastName"]);
    assert_eq!(error.class(), ErrorClass::Permanent);

    let missing = StripeCustomerWrite::default();
    let error = client.upsert(CUSTOMER_ID, &missing).await.unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error}");
    let error = client.upsert("Name", &customer("cus_x")).await.unwrap_err();
    assert!(error.to_string().contains("not an external id"), "{error}");
}

// ---------------------------------------------------------------- errors and faults

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_classified() {
    let sim = sim(SimConfig::default()).await;
    let client = Client::builder(
        sim.url(),
        Credentials::client_credentials("test-client", "test-secret"),
    )
    .timeout(Duration::from_millis(500))
    .build()
    .unwrap();
    client.login().await.unwrap();
    let record = customer("cus_fault");

    for status in [500, 502, 503, 504] {
        sim.inject(Fault::once(FaultKind::Status(status)));
        let error = client.upsert(CUSTOMER_ID, &record).await.unwrap_err();
        assert_eq!(error.status(), Some(status));
        assert_eq!(error.class(), ErrorClass::Retryable, "{status}: {error}");
    }

    sim.inject(Fault::once(FaultKind::DelayedStatus {
        status: 503,
        delay: Duration::from_millis(50),
    }));
    let error = client.upsert(CUSTOMER_ID, &record).await.unwrap_err();
    assert_eq!(error.error_code(), Some("SERVER_UNAVAILABLE"));
    assert_eq!(error.class(), ErrorClass::Retryable);

    sim.inject(Fault::once(FaultKind::UnableToLockRow));
    let error = client.upsert(CUSTOMER_ID, &record).await.unwrap_err();
    assert_eq!(error.error_code(), Some("UNABLE_TO_LOCK_ROW"));
    assert_eq!(error.class(), ErrorClass::Retryable);

    sim.inject(Fault::once(FaultKind::DropConnection));
    let error = client.upsert(CUSTOMER_ID, &record).await.unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error}");
    assert_eq!(error.class(), ErrorClass::Retryable);

    sim.inject(Fault::once(FaultKind::Latency(Duration::from_secs(2))));
    let error = client.upsert(CUSTOMER_ID, &record).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.class(), ErrorClass::Retryable);

    sim.inject(Fault::once(FaultKind::Status(429)));
    let error = client.upsert(CUSTOMER_ID, &record).await.unwrap_err();
    assert_eq!(
        error.class(),
        ErrorClass::Retryable,
        "concurrent limit: {error}"
    );

    sim.inject(Fault::once(FaultKind::Status(400)));
    let error = client.upsert(CUSTOMER_ID, &record).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Permanent, "{error}");

    // Nothing was retried by the client, and it still works.
    client.upsert(CUSTOMER_ID, &record).await.unwrap();
    assert_eq!(client.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spent_quota_is_a_quota_error() {
    let (sim, client) = start().await;
    client
        .upsert(CUSTOMER_ID, &customer("cus_q1"))
        .await
        .unwrap();
    sim.set_daily_limit(sim.api_calls());
    let error = client
        .upsert(CUSTOMER_ID, &customer("cus_q2"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(403));
    assert_eq!(error.error_code(), Some("REQUEST_LIMIT_EXCEEDED"));
    assert_eq!(error.class(), ErrorClass::Quota);
    let error = client
        .query::<Value>("SELECT Id FROM Contact")
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Quota);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sforce_limit_info_is_read_from_every_answer() {
    let (sim, client) = start().await;
    let mut watch = client.watch_limit_info();
    assert_eq!(client.limit_info(), None);
    client
        .upsert(CUSTOMER_ID, &customer("cus_l1"))
        .await
        .unwrap();
    client
        .upsert(CUSTOMER_ID, &customer("cus_l2"))
        .await
        .unwrap();
    let usage = client
        .limit_info()
        .and_then(|info| info.api_usage())
        .expect("api-usage");
    assert_eq!(usage.used, sim.api_calls());
    assert_eq!(usage.max, 100_000);
    assert!(watch.has_changed().unwrap());
    watch.borrow_and_update();

    sim.set_daily_limit(5_000);
    client.limits().await.unwrap();
    let usage = client
        .limit_info()
        .and_then(|info| info.api_usage())
        .unwrap();
    assert_eq!((usage.used, usage.max), (3, 5_000));
    assert!(watch.has_changed().unwrap());
    let limits = client.limits().await.unwrap().daily_api_requests().unwrap();
    assert_eq!(limits.max, 5_000);
}

// ---------------------------------------------------------------- Collections

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_upsert_chunks_and_reports_each_record() {
    let (sim, client) = start().await;
    client
        .upsert(CUSTOMER_ID, &customer("cus_k7"))
        .await
        .unwrap();
    let mut records: Vec<StripeCustomerWrite> =
        (0..450).map(|n| customer(&format!("cus_k{n}"))).collect();
    records[3].currency = Patch::Set("TOO LONG".into());
    records[250].currency = Patch::Set("EURO".into());
    let before = sim.api_calls();
    let results = client
        .upsert_collection(CUSTOMER_ID, &records, false)
        .await
        .unwrap();
    assert_eq!(sim.api_calls() - before, 3, "450 records in 3 calls");
    assert_eq!(results.len(), 450);
    for (n, result) in results.iter().enumerate() {
        match n {
            3 | 250 => {
                assert_eq!(result.errors()[0].error_code, "STRING_TOO_LONG", "{n}");
                assert_eq!(result.class(), Some(ErrorClass::Permanent));
            }
            7 => assert!(
                matches!(result, RecordResult::Updated { id: Some(_) }),
                "{result:?}"
            ),
            _ => assert!(
                matches!(result, RecordResult::Created { .. }),
                "{n}: {result:?}"
            ),
        }
    }
    assert_eq!(sim.records(CUSTOMER).len(), 448);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_all_or_none_rolls_back_the_chunk() {
    let (sim, client) = start().await;
    let records = vec![
        json!({CUSTOMER_ID: "cus_a1", "Name": "A"}),
        json!({CUSTOMER_ID: "cus_a2", "Name": "B", "Sync_Status__c": "Nope"}),
    ];
    let results = client
        .upsert_collection_json(CUSTOMER, CUSTOMER_ID, &records, true)
        .await
        .unwrap();
    assert!(results.iter().all(|r| !r.is_success()), "{results:?}");
    assert_eq!(
        results[1].errors()[0].error_code,
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    );
    assert!(sim.records(CUSTOMER).is_empty());
    let error = client
        .upsert_collection_json(CUSTOMER, CUSTOMER_ID, &[json!({"Name": "no key"})], false)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error}");
}

// ---------------------------------------------------------------- Composite

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_answers_each_subrequest_with_references() {
    let (sim, client) = start().await;
    let mut request = CompositeRequest::new();
    let contact = ContactWrite {
        last_name: Patch::Set("Doe".into()),
        stripe_customer_id: Patch::Set("cus_comp".into()),
        ..Default::default()
    };
    let contact_ref = request
        .upsert_record("contact", CUSTOMER_ID, &contact)
        .unwrap();
    let mut linked = customer("cus_comp");
    linked.contact = Patch::Set(contact_ref.id());
    request
        .upsert_record("customer", CUSTOMER_ID, &linked)
        .unwrap();
    let mut bad = customer("cus_comp_bad");
    bad.currency = Patch::Set("TOO LONG".into());
    request.upsert_record("bad", CUSTOMER_ID, &bad).unwrap();
    request
        .get("read", "Contact", &contact_ref.id(), &["LastName"])
        .unwrap();
    request
        .query(
            "count",
            &Query::select(["Id"]).from(CUSTOMER).to_soql().unwrap(),
        )
        .unwrap();

    let response = client.composite(&request).await.unwrap();
    assert_eq!(response.responses.len(), 5);
    let read: Value = response.get("read").unwrap().body().unwrap().unwrap();
    assert_eq!(read["LastName"], "Doe");
    assert!(!response.all_succeeded());
    let contact_id = response.get("contact").unwrap().id().expect("contact id");
    let customer_sub = response.get("customer").unwrap();
    assert!(
        customer_sub.is_success() && customer_sub.created(),
        "{customer_sub:?}"
    );
    let bad_sub = response.get("bad").unwrap();
    assert_eq!(bad_sub.status, 400);
    assert_eq!(bad_sub.errors[0].error_code, "STRING_TOO_LONG");
    assert_eq!(bad_sub.class(), Some(ErrorClass::Permanent));
    assert!(bad_sub.error().unwrap().to_string().contains("bad"));
    assert_eq!(stored(&sim, "cus_comp")["Contact__c"], json!(contact_id));
    let count: Value = response.get("count").unwrap().body().unwrap().unwrap();
    assert_eq!(count["totalSize"], 1);
    assert_eq!(sim.records(CUSTOMER).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_all_or_none_halts_the_rest() {
    let (sim, client) = start().await;
    let mut request = CompositeRequest::new().all_or_none(true);
    request
        .upsert_record("good", CUSTOMER_ID, &customer("cus_g"))
        .unwrap();
    request
        .create(
            "bad",
            CUSTOMER,
            &json!({CUSTOMER_ID: "cus_b", "Name": "x", "Sync_Status__c": "Nope"}),
        )
        .unwrap();
    let response = client.composite(&request).await.unwrap();
    assert!(
        response.responses.iter().all(|r| !r.is_success()),
        "{response:?}"
    );
    assert!(
        response
            .get("good")
            .unwrap()
            .errors
            .iter()
            .any(|e| e.error_code == "PROCESSING_HALTED"),
        "{response:?}"
    );
    assert!(sim.records(CUSTOMER).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_takes_at_most_25_subrequests() {
    let mut request = CompositeRequest::new();
    for n in 0..25 {
        request
            .delete(&format!("d{n}"), CUSTOMER, "a00000000000001")
            .unwrap();
    }
    let error = request
        .delete("d25", CUSTOMER, "a00000000000001")
        .unwrap_err();
    assert!(error.to_string().contains("25"), "{error}");
    assert!(
        request.delete("d0", CUSTOMER, "x").is_err(),
        "reference ids are unique"
    );
    assert!(
        CompositeRequest::new()
            .delete("bad id", CUSTOMER, "x")
            .is_err()
    );
}

// ---------------------------------------------------------------- queries

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_pages_through_more_than_2000_rows() {
    let (sim, client) = start().await;
    for n in 0..4_500 {
        let record = object(
            json!({"Name": format!("Row {n}"), CUSTOMER_ID: format!("cus_p{n:05}"), "Balance__c": 10.25}),
        );
        sim.insert_record(CUSTOMER, record).unwrap();
    }
    let soql = Query::select(["Id", CUSTOMER_ID, "Balance__c"])
        .from_object::<StripeCustomer>()
        .filter(Filter::starts_with(CUSTOMER_ID, "cus_p"))
        .order_by(CUSTOMER_ID, Order::Asc)
        .to_soql()
        .unwrap();

    let before = sim.api_calls();
    let rows: Vec<StripeCustomer> = client.query(&soql).await.unwrap();
    assert_eq!(sim.api_calls() - before, 3, "pages of 2,000");
    assert_eq!(rows.len(), 4_500);
    assert_eq!(rows[0].stripe_customer_id.as_deref(), Some("cus_p00000"));
    assert_eq!(
        rows[4_499].stripe_customer_id.as_deref(),
        Some("cus_p04499")
    );
    assert!(
        rows.iter()
            .all(|row| row.balance == Some(Decimal::new(1025, 2)))
    );

    let page = client.query_page::<Value>(&soql).await.unwrap();
    assert_eq!(
        (page.total_size, page.done, page.records.len()),
        (4_500, false, 2_000)
    );
    assert_eq!(page.records[0]["attributes"]["type"], CUSTOMER);
    let next = client
        .query_more::<Value>(page.next_records_url.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(next.records.len(), 2_000);

    let streamed: Vec<Value> = client
        .query_stream::<Value>(&soql)
        .map(|row| row.unwrap())
        .collect()
        .await;
    assert_eq!(streamed.len(), 4_500);
    assert_eq!(streamed[2_000][CUSTOMER_ID], "cus_p02000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_values_cannot_change_the_query() {
    let (sim, client) = start().await;
    for name in ["O'Brien", "Plain"] {
        sim.insert_record(
            CUSTOMER,
            object(json!({"Name": name, CUSTOMER_ID: format!("cus_{name}")})),
        )
        .unwrap();
    }
    for (value, expected) in [
        ("O'Brien", 1),
        ("' OR Name != '", 0),
        ("x\\' OR Name != \\'", 0),
    ] {
        let soql = Query::select(["Id", "Name"])
            .from(CUSTOMER)
            .filter(Filter::eq("Name", value))
            .to_soql()
            .unwrap();
        let rows: Vec<Value> = client.query(&soql).await.unwrap();
        assert_eq!(rows.len(), expected, "{soql}");
    }
    let error = client
        .query::<Value>("SELECT Nope__c FROM Stripe_Customer__c")
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Permanent, "{error}");
    assert!(
        error.to_string().contains("query SELECT Nope__c"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_page_errors_after_a_fault_are_retryable() {
    let sim = sim(SimConfig {
        query_batch_size: 200,
        ..SimConfig::default()
    })
    .await;
    let client = client_for(&sim);
    for n in 0..300 {
        sim.insert_record(
            CUSTOMER,
            object(json!({"Name": "r", CUSTOMER_ID: format!("cus_f{n}")})),
        )
        .unwrap();
    }
    sim.inject(Fault::on_path(FaultKind::Status(503), "/query/", 1));
    let results: Vec<Result<Value, Error>> = client
        .query_stream("SELECT Id FROM Stripe_Customer__c")
        .collect()
        .await;
    assert_eq!(results.len(), 201, "200 rows, then the failed page");
    let error = results[200].as_ref().unwrap_err();
    assert_eq!(error.class(), ErrorClass::Retryable);
}

// ---------------------------------------------------------------- Bulk API 2.0

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_upsert_maps_failed_rows_back_to_their_records() {
    let (sim, client) = start().await;
    client
        .upsert(CUSTOMER_ID, &customer("cus_b5"))
        .await
        .unwrap();
    let mut records: Vec<StripeCustomerWrite> =
        (0..1_000).map(|n| customer(&format!("cus_b{n}"))).collect();
    records[10].currency = Patch::Set("TOO LONG".into());
    records[500].contact_ref = Some(ContactRef::StripeCustomerId("cus_nobody".into()));
    records[999].customer_name = Patch::Set("x".repeat(300));
    let before = sim.api_calls();
    let result = client
        .bulk_upsert(CUSTOMER_ID, &records, &fast_bulk())
        .await
        .unwrap();
    assert_eq!(result.state, JobState::JobComplete);
    assert_eq!(result.results.len(), 1_000);
    let failures: Vec<usize> = result.failures().map(|(index, _)| index).collect();
    assert_eq!(failures, [10, 500, 999]);
    assert_eq!(result.results[10].errors()[0].error_code, "STRING_TOO_LONG");
    assert_eq!(
        result.results[999].errors()[0].error_code,
        "STRING_TOO_LONG"
    );
    assert!(!result.results[500].errors()[0].error_code.is_empty());
    assert!(
        matches!(result.results[5], RecordResult::Updated { id: Some(_) }),
        "{:?}",
        result.results[5]
    );
    assert!(matches!(result.results[6], RecordResult::Created { .. }));
    assert_eq!(result.succeeded(), 997);
    assert_eq!(sim.records(CUSTOMER).len(), 997);
    // create, upload, close, poll (at least once), three result files.
    let calls = sim.api_calls() - before;
    assert!((6..=20).contains(&calls), "{calls} calls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_survives_an_expired_session_and_reports_faults() {
    let (sim, client) = start().await;
    client.login().await.unwrap();
    sim.expire_all_tokens();
    let records: Vec<StripeCustomerWrite> =
        (0..5).map(|n| customer(&format!("cus_e{n}"))).collect();
    let result = client
        .bulk_upsert(CUSTOMER_ID, &records, &fast_bulk())
        .await
        .unwrap();
    assert_eq!(result.succeeded(), 5);
    assert_eq!(client.token_requests(), 2);

    sim.inject(Fault::on_path(FaultKind::Status(503), "/batches", 1));
    let error = client
        .bulk_upsert(CUSTOMER_ID, &records, &fast_bulk())
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Retryable, "{error}");
    assert!(error.to_string().contains("job"), "{error}");
}

// ---------------------------------------------------------------- the engine spawns calls

fn assert_send<T: Send>(_: &T) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_can_be_spawned() {
    let (_sim, client) = start().await;
    let record = customer("cus_send");
    let records = vec![record.clone()];
    let request = CompositeRequest::new();
    let options = fast_bulk();
    assert_send(&client.login());
    assert_send(&client.limits());
    assert_send(&client.create(&record));
    assert_send(&client.get::<StripeCustomer>("a00", &[]));
    assert_send(&client.update("a00", &record));
    assert_send(&client.delete(CUSTOMER, "a00"));
    assert_send(&client.upsert(CUSTOMER_ID, &record));
    assert_send(&client.upsert_collection(CUSTOMER_ID, &records, false));
    assert_send(&client.composite(&request));
    assert_send(&client.query::<StripeCustomer>("SELECT Id FROM Contact"));
    assert_send(&client.query_stream::<Value>("SELECT Id FROM Contact"));
    assert_send(&client.bulk_upsert(CUSTOMER_ID, &records, &options));
    assert_send(&client.abort_bulk_job("750"));
}
