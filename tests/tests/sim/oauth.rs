//! OAuth 2.0: the three flows, their failures, token expiry.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};
use sfdc_sim::{
    SimConfig, Simulator, TEST_JWT_CERTIFICATE_PEM, TEST_JWT_PRIVATE_KEY_PEM,
    TEST_JWT_PUBLIC_KEY_PEM,
};

use crate::common::{Org, answer, token_request};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An RS256 assertion with these claims, signed by the test key.
fn assertion(claims: &Value) -> String {
    let der: String = TEST_JWT_PRIVATE_KEY_PEM
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(der)
        .unwrap();
    let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

async fn jwt(sim: &Simulator, claims: Value) -> crate::common::Answer {
    let http = crate::common::http();
    let assertion = assertion(&claims);
    token_request(
        &http,
        &sim.url(),
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &assertion),
        ],
    )
    .await
}

#[tokio::test]
async fn client_credentials_answer() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let http = crate::common::http();
    let ok = token_request(
        &http,
        &sim.url(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "test-client"),
            ("client_secret", "test-secret"),
        ],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    for key in [
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    ] {
        assert!(ok.json[key].is_string(), "{key} in {}", ok.text);
    }
    assert_eq!(ok.json["token_type"], "Bearer");
    assert_eq!(ok.json["instance_url"], sim.url());
    assert!(ok.json.get("refresh_token").is_none());
    // HTTP Basic credentials work too.
    let basic = http
        .post(format!("{}/services/oauth2/token", sim.url()))
        .basic_auth("test-client", Some("test-secret"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    let wrong_secret = token_request(
        &http,
        &sim.url(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "test-client"),
            ("client_secret", "nope"),
        ],
    )
    .await;
    assert_eq!(wrong_secret.status, 400);
    assert_eq!(
        wrong_secret.json,
        json!({"error": "invalid_client", "error_description": "invalid client credentials"})
    );
    let wrong_client = token_request(
        &http,
        &sim.url(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "other"),
            ("client_secret", "test-secret"),
        ],
    )
    .await;
    assert_eq!(wrong_client.json["error"], "invalid_client_id");
    let unknown_grant = token_request(&http, &sim.url(), &[("grant_type", "password")]).await;
    assert_eq!(unknown_grant.json["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn refresh_token_flow() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let http = crate::common::http();
    let ok = token_request(
        &http,
        &sim.url(),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "test-client"),
            ("client_secret", "test-secret"),
            ("refresh_token", "test-refresh-token"),
        ],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let bad = token_request(
        &http,
        &sim.url(),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "test-client"),
            ("refresh_token", "stolen"),
        ],
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.json,
        json!({"error": "invalid_grant", "error_description": "expired access/refresh token"})
    );
}

#[tokio::test]
async fn jwt_bearer_flow_verifies_the_assertion() {
    let sim = Simulator::start(SimConfig {
        jwt_public_key_pem: Some(TEST_JWT_PUBLIC_KEY_PEM.to_owned()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let good = json!({"iss": "test-client", "sub": "integration@example.com", "aud": sim.url(), "exp": now() + 120});
    let ok = jwt(&sim, good.clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let mut production = good.clone();
    production["aud"] = json!("https://login.salesforce.com");
    let production_audience = jwt(&sim, production).await;
    assert_eq!(
        production_audience.status, 200,
        "{}",
        production_audience.text
    );

    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("https://evil.example.com");
    assert_eq!(
        jwt(&sim, wrong_aud).await.json["error_description"],
        "audience is invalid"
    );
    let mut expired = good.clone();
    expired["exp"] = json!(now() - 10);
    assert_eq!(jwt(&sim, expired).await.json["error"], "invalid_grant");
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("someone-else");
    assert_eq!(
        jwt(&sim, wrong_iss).await.json["error"],
        "invalid_client_id"
    );

    // A valid assertion with its claims changed no longer verifies.
    let token = assertion(&good);
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = URL_SAFE_NO_PAD.encode(json!({"iss": "test-client", "sub": "admin@example.com", "aud": sim.url(), "exp": now() + 120}).to_string());
    let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
    let http = crate::common::http();
    let refused = token_request(
        &http,
        &sim.url(),
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &forged),
        ],
    )
    .await;
    assert_eq!(
        refused.json,
        json!({"error": "invalid_grant", "error_description": "invalid assertion"})
    );
}

#[tokio::test]
async fn certificates_are_accepted_as_the_key() {
    let sim = Simulator::start(SimConfig {
        jwt_public_key_pem: Some(TEST_JWT_CERTIFICATE_PEM.to_owned()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let ok = jwt(&sim, json!({"iss": "test-client", "sub": "u@example.com", "aud": "https://test.salesforce.com", "exp": now() + 60})).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let bad_key = Simulator::start(SimConfig {
        jwt_public_key_pem: Some("not a key".to_owned()),
        ..SimConfig::default()
    })
    .await;
    assert!(bad_key.is_err());
}

#[tokio::test]
async fn sessions_are_required_and_expire() {
    let org = Org::start_with(SimConfig {
        token_ttl: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    assert_eq!(org.get("/limits").await.status, 200);
    let missing = answer(
        org.http
            .get(format!("{}/limits", org.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.json,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let expired = org.get("/limits").await;
    assert_eq!(
        (expired.status, expired.error().0.as_str()),
        (401, "INVALID_SESSION_ID")
    );
    assert_eq!(org.sim.api_calls(), 1, "rejected sessions are not counted");
}

#[tokio::test]
async fn expire_all_tokens_keeps_new_ones_valid() {
    let org = Org::start().await;
    org.sim.expire_all_tokens();
    assert_eq!(org.get("/limits").await.status, 401);
    let fresh = Org::login_again(&org).await;
    assert_eq!(
        org.http
            .get(format!("{}/limits", org.base))
            .bearer_auth(&fresh)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

impl Org {
    /// A new access token for the same simulator.
    async fn login_again(org: &Org) -> String {
        let answer = token_request(
            &org.http,
            &org.sim.url(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "test-client"),
                ("client_secret", "test-secret"),
            ],
        )
        .await;
        answer.json["access_token"].as_str().unwrap().to_owned()
    }
}
