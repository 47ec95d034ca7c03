//! The OAuth 2.0 token endpoint (`POST /services/oauth2/token`) for the client
//! credentials, refresh token and JWT bearer flows, and the access tokens it hands out.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value as Json, json};

use crate::jwt::{self, JwtError};
use crate::server::Shared;
use crate::urlencoded;

/// The JWT bearer grant type.
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Access tokens handed out, with the instant each expires.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    expiry: HashMap<String, Instant>,
}

impl Tokens {
    /// A new token for the org, valid for `ttl`.
    pub fn issue(&mut self, org_id: &str, ttl: Duration) -> String {
        let mut random = [0u8; 48];
        // The system generator only fails if the OS has no entropy source; a counter
        // keeps tokens distinct even then.
        if SystemRandom::new().fill(&mut random).is_err() {
            random[..8].copy_from_slice(&(self.expiry.len() as u64).to_le_bytes());
        }
        let token = format!(
            "{}!AQ{}",
            &org_id[..15.min(org_id.len())],
            URL_SAFE_NO_PAD.encode(random)
        );
        self.expiry.insert(token.clone(), Instant::now() + ttl);
        token
    }

    /// Whether `token` was handed out and has not expired.
    pub fn is_valid(&self, token: &str) -> bool {
        self.expiry
            .get(token)
            .is_some_and(|expires| Instant::now() < *expires)
    }

    /// Expires every token handed out so far.
    pub fn expire_all(&mut self) {
        let now = Instant::now();
        for expires in self.expiry.values_mut() {
            *expires = now;
        }
    }
}

/// An OAuth error answer: 400 with `{"error", "error_description"}`.
fn oauth_error(error: &str, description: &str) -> (u16, Json) {
    (
        400,
        json!({"error": error, "error_description": description}),
    )
}

/// Answers a token request: the status and JSON body.
pub(crate) fn token(shared: &Shared, authorization: Option<&str>, body: &[u8]) -> (u16, Json) {
    let form = urlencoded::parse(&String::from_utf8_lossy(body));
    let field = |name: &str| urlencoded::get(&form, name).filter(|value| !value.is_empty());
    let (basic_id, basic_secret) = basic_credentials(authorization);
    let client_id = field("client_id").map(str::to_owned).or(basic_id);
    let client_secret = field("client_secret").map(str::to_owned).or(basic_secret);
    let config = &shared.config;
    let client_ok = |id: Option<&String>| id.is_some_and(|id| *id == config.client_id);
    match field("grant_type") {
        Some("client_credentials") => {
            if !client_ok(client_id.as_ref()) {
                return oauth_error("invalid_client_id", "client identifier invalid");
            }
            if client_secret.as_deref() != Some(config.client_secret.as_str()) {
                return oauth_error("invalid_client", "invalid client credentials");
            }
        }
        Some("refresh_token") => {
            if !client_ok(client_id.as_ref()) {
                return oauth_error("invalid_client_id", "client identifier invalid");
            }
            if client_secret
                .as_deref()
                .is_some_and(|secret| secret != config.client_secret)
            {
                return oauth_error("invalid_client", "invalid client credentials");
            }
            if field("refresh_token") != Some(config.refresh_token.as_str()) {
                return oauth_error("invalid_grant", "expired access/refresh token");
            }
        }
        Some(JWT_BEARER) => {
            let Some(assertion) = field("assertion") else {
                return oauth_error("invalid_request", "assertion is missing");
            };
            if let Err((error, description)) = check_assertion(shared, assertion) {
                return oauth_error(error, &description);
            }
        }
        Some(_) => return oauth_error("unsupported_grant_type", "grant type not supported"),
        None => return oauth_error("unsupported_grant_type", "grant type not supported"),
    }
    let (org_id, user_id) = {
        let org = shared.lock_org();
        (org.org_id.clone(), org.user_id.clone())
    };
    let access_token = shared
        .tokens
        .lock()
        .expect("token table lock poisoned")
        .issue(&org_id, config.token_ttl);
    let issued_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis())
        .to_string();
    let id = format!("{}/id/{org_id}/{user_id}", shared.url);
    let key = hmac::Key::new(hmac::HMAC_SHA256, config.client_secret.as_bytes());
    let signature = STANDARD.encode(hmac::sign(&key, format!("{id}{issued_at}").as_bytes()));
    (
        200,
        json!({
            "access_token": access_token,
            "signature": signature,
            "scope": "api",
            "instance_url": shared.url,
            "id": id,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }),
    )
}

/// `client_id` and `client_secret` from `Authorization: Basic …`.
fn basic_credentials(authorization: Option<&str>) -> (Option<String>, Option<String>) {
    let decoded = authorization
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match decoded.as_deref().and_then(|text| text.split_once(':')) {
        Some((id, secret)) => (
            Some(urlencoded::decode(id, true)),
            Some(urlencoded::decode(secret, true)),
        ),
        None => (None, None),
    }
}

/// Checks a JWT bearer assertion: signature (when a key is configured), `iss` the client
/// id, a `sub`, `aud` the login URL, `exp` in the future.
fn check_assertion(shared: &Shared, assertion: &str) -> Result<(), (&'static str, String)> {
    let claims = jwt::verify(assertion, shared.jwt_key.as_ref()).map_err(|error| match error {
        JwtError::Signature => ("invalid_grant", "invalid assertion".to_owned()),
        other => ("invalid_grant", format!("invalid assertion: {other}")),
    })?;
    if claims["iss"].as_str() != Some(shared.config.client_id.as_str()) {
        return Err(("invalid_client_id", "client identifier invalid".to_owned()));
    }
    if claims["sub"].as_str().is_none_or(str::is_empty) {
        return Err((
            "invalid_grant",
            "invalid assertion: no sub (username)".to_owned(),
        ));
    }
    let audiences: Vec<&str> = match &claims["aud"] {
        Json::String(aud) => vec![aud.as_str()],
        Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    };
    let accepted = |aud: &str| {
        let aud = aud.trim_end_matches('/');
        aud == shared.url
            || aud == "https://login.salesforce.com"
            || aud == "https://test.salesforce.com"
    };
    if !audiences.iter().any(|aud| accepted(aud)) {
        return Err(("invalid_grant", "audience is invalid".to_owned()));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let exp = claims["exp"]
        .as_u64()
        .or_else(|| claims["exp"].as_f64().map(|exp| exp as u64));
    match exp {
        Some(exp) if exp > now => Ok(()),
        Some(_) => Err(("invalid_grant", "expired authorization code".to_owned())),
        None => Err(("invalid_grant", "invalid assertion: no exp".to_owned())),
    }
}
