//! OAuth 2.0 login (client credentials, JWT bearer, refresh token) and the cached session.
//!
//! The session (access token and `instance_url`) is fetched on first use and kept until it
//! expires or Salesforce answers 401; then ONE login runs while every other request waits for
//! it (single flight), and a login failure is shared by those waiting for it rather than
//! retried by each. Secrets never appear in `Debug` output nor in logs.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderValue;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};

use super::api;
use super::error::{Error, excerpt, parse_errors};
use super::transport::{Hooks, LimitSender};

/// A secret string (client secret, refresh token, access token, private key) that shows as
/// `***` in `Debug` output.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself, to send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Secret(secret)
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Secret(secret.to_owned())
    }
}

/// How the client logs in to Salesforce (an OAuth 2.0 flow of a connected app).
#[derive(Clone)]
pub enum Credentials {
    /// Client credentials flow: the connected app runs as its configured integration user.
    /// Needs a My Domain login URL.
    ClientCredentials {
        /// Consumer key.
        client_id: String,
        /// Consumer secret.
        client_secret: Secret,
    },
    /// Refresh token flow: a refresh token obtained once by an interactive login. A rotated
    /// refresh token sent back by Salesforce replaces this one.
    RefreshToken {
        /// Consumer key.
        client_id: String,
        /// Consumer secret, when the connected app requires it for refresh.
        client_secret: Option<Secret>,
        /// The refresh token.
        refresh_token: Secret,
    },
    /// JWT bearer flow: an assertion signed with the private key whose certificate is
    /// uploaded to the connected app.
    JwtBearer(JwtBearer),
}

impl Credentials {
    /// Client credentials flow.
    pub fn client_credentials(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        Credentials::ClientCredentials {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }

    /// Refresh token flow.
    pub fn refresh_token(
        client_id: impl Into<String>,
        client_secret: Option<Secret>,
        refresh_token: impl Into<Secret>,
    ) -> Self {
        Credentials::RefreshToken {
            client_id: client_id.into(),
            client_secret,
            refresh_token: refresh_token.into(),
        }
    }

    /// JWT bearer flow for `username`, signing with an RSA private key in PEM (PKCS#1 or
    /// PKCS#8); fails if the key cannot be read.
    pub fn jwt_bearer(
        client_id: impl Into<String>,
        username: impl Into<String>,
        private_key_pem: &str,
    ) -> Result<Self, Error> {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.as_bytes())
            .map_err(|e| Error::Config(format!("JWT private key is not an RSA key in PEM: {e}")))?;
        Ok(Credentials::JwtBearer(JwtBearer {
            client_id: client_id.into(),
            username: username.into(),
            key,
            audience: None,
        }))
    }

    /// Name of the flow, for messages.
    pub fn flow(&self) -> &'static str {
        match self {
            Credentials::ClientCredentials { .. } => "client_credentials",
            Credentials::RefreshToken { .. } => "refresh_token",
            Credentials::JwtBearer(_) => "jwt_bearer",
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"***")
                .finish(),
            Credentials::RefreshToken {
                client_id,
                client_secret,
                ..
            } => f
                .debug_struct("RefreshToken")
                .field("client_id", client_id)
                .field("client_secret", &client_secret.as_ref().map(|_| "***"))
                .field("refresh_token", &"***")
                .finish(),
            Credentials::JwtBearer(jwt) => jwt.fmt(f),
        }
    }
}

/// The JWT bearer flow's settings.
#[derive(Clone)]
pub struct JwtBearer {
    client_id: String,
    username: String,
    key: jsonwebtoken::EncodingKey,
    audience: Option<String>,
}

impl JwtBearer {
    /// Sets the `aud` claim (by default the login URL; Salesforce expects
    /// `https://login.salesforce.com` or `https://test.salesforce.com` even behind My Domain).
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The signed assertion, valid 3 minutes.
    fn assertion(&self, login_url: &str) -> Result<Secret, Error> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            sub: &'a str,
            aud: &'a str,
            exp: u64,
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            iss: &self.client_id,
            sub: &self.username,
            aud: self.audience.as_deref().unwrap_or(login_url),
            exp: now + 180,
        };
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(Secret)
            .map_err(|e| Error::Config(format!("cannot sign the JWT assertion: {e}")))
    }
}

impl fmt::Debug for JwtBearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBearer")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("key", &"***")
            .field("audience", &self.audience)
            .finish()
    }
}

impl From<JwtBearer> for Credentials {
    fn from(jwt: JwtBearer) -> Self {
        Credentials::JwtBearer(jwt)
    }
}

/// The form of a token request (the OpenAPI `TokenRequest`).
pub(crate) struct TokenForm {
    grant_type: &'static str,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    refresh_token: Option<Secret>,
    assertion: Option<Secret>,
}

impl Serialize for TokenForm {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut form = serializer.serialize_struct("TokenForm", 5)?;
        form.serialize_field("grant_type", self.grant_type)?;
        if let Some(client_id) = &self.client_id {
            form.serialize_field("client_id", client_id)?;
        }
        for (name, secret) in [
            ("client_secret", &self.client_secret),
            ("refresh_token", &self.refresh_token),
            ("assertion", &self.assertion),
        ] {
            if let Some(secret) = secret {
                form.serialize_field(name, secret.expose())?;
            }
        }
        form.end()
    }
}

impl fmt::Debug for TokenForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenForm")
            .field("grant_type", &self.grant_type)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A successful token answer (the OpenAPI `TokenResponse`).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    access_token: Secret,
    instance_url: String,
    #[serde(default)]
    refresh_token: Option<Secret>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("instance_url", &self.instance_url)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// A logged-in session: the access token and the instance every call goes to.
pub(crate) struct Session {
    /// `Bearer <access token>`, marked sensitive.
    pub(crate) authorization: HeaderValue,
    /// Base URL of every call, from the token answer (no trailing `/`).
    pub(crate) instance_url: String,
    /// Which login produced it (1 for the first).
    generation: u64,
    /// When to log in again without waiting for a 401.
    expires_at: Instant,
}

impl Session {
    fn is_expired(&self) -> bool {
        Instant::now() >= self.expires_at
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("instance_url", &self.instance_url)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// Logs in and keeps the session.
pub(crate) struct Authenticator {
    login_url: String,
    credentials: Mutex<Credentials>,
    http: reqwest::Client,
    limits: LimitSender,
    session_lifetime: Duration,
    current: RwLock<Option<Arc<Session>>>,
    /// Held while logging in: the single flight.
    login_lock: tokio::sync::Mutex<()>,
    /// Logins attempted, and the error of the latest if it failed.
    attempts: AtomicU64,
    last_failure: Mutex<Option<Error>>,
}

impl Authenticator {
    pub(crate) fn new(
        login_url: String,
        credentials: Credentials,
        http: reqwest::Client,
        limits: LimitSender,
        session_lifetime: Duration,
    ) -> Self {
        Authenticator {
            login_url,
            credentials: Mutex::new(credentials),
            http,
            limits,
            session_lifetime,
            current: RwLock::new(None),
            login_lock: tokio::sync::Mutex::new(()),
            attempts: AtomicU64::new(0),
            last_failure: Mutex::new(None),
        }
    }

    pub(crate) fn login_url(&self) -> &str {
        &self.login_url
    }

    /// Token requests sent so far.
    pub(crate) fn logins(&self) -> u64 {
        self.attempts.load(Ordering::SeqCst)
    }

    /// The current session, if logged in.
    pub(crate) fn current(&self) -> Option<Arc<Session>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A live session: the cached one, or a new login if there is none or it expired.
    pub(crate) async fn session(&self) -> Result<Arc<Session>, Error> {
        match self.current() {
            Some(session) if !session.is_expired() => Ok(session),
            _ => self.login(None).await,
        }
    }

    /// A session newer than `rejected`, which Salesforce refused: logs in unless another
    /// request already did.
    pub(crate) async fn renew(&self, rejected: &Session) -> Result<Arc<Session>, Error> {
        self.login(Some(rejected.generation)).await
    }

    /// Drops the session, so the next call logs in.
    pub(crate) fn forget(&self) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Logs in once for all concurrent callers: whoever gets the lock first logs in, the
    /// others then find its session (or its error).
    async fn login(&self, rejected: Option<u64>) -> Result<Arc<Session>, Error> {
        let attempts_seen = self.attempts.load(Ordering::SeqCst);
        let _flight = self.login_lock.lock().await;
        if let Some(session) = self.current() {
            let newer = rejected.is_none_or(|generation| session.generation > generation);
            if newer && !session.is_expired() {
                return Ok(session);
            }
        }
        if self.attempts.load(Ordering::SeqCst) != attempts_seen
            && let Some(error) = self
                .last_failure
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        {
            return Err(error);
        }
        let generation = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        let result = self.request_token(generation).await;
        let mut last_failure = self
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok(session) => {
                *last_failure = None;
                let session = Arc::new(session);
                *self.current.write().unwrap_or_else(PoisonError::into_inner) =
                    Some(session.clone());
                Ok(session)
            }
            Err(error) => {
                *last_failure = Some(error.clone());
                Err(error)
            }
        }
    }

    /// Sends one token request.
    async fn request_token(&self, generation: u64) -> Result<Session, Error> {
        let credentials = self
            .credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let flow = credentials.flow();
        let form = match &credentials {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            } => TokenForm {
                grant_type: "client_credentials",
                client_id: Some(client_id.clone()),
                client_secret: Some(client_secret.clone()),
                refresh_token: None,
                assertion: None,
            },
            Credentials::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => TokenForm {
                grant_type: "refresh_token",
                client_id: Some(client_id.clone()),
                client_secret: client_secret.clone(),
                refresh_token: Some(refresh_token.clone()),
                assertion: None,
            },
            Credentials::JwtBearer(jwt) => TokenForm {
                grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
                client_id: None,
                client_secret: None,
                refresh_token: None,
                assertion: Some(jwt.assertion(&self.login_url)?),
            },
        };
        let operation = || format!("login to {} ({flow})", self.login_url);
        let client = api::Client::new_with_client(
            &self.login_url,
            self.http.clone(),
            Hooks::login(self.limits.clone()),
        );
        let started = Instant::now();
        let token = match client.request_token(&form).await {
            Ok(response) => response.into_inner(),
            Err(api::Error::UnexpectedResponse(response)) => {
                let status = response.status().as_u16();
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| Error::transport(operation(), e))?;
                let (error, description) = match parse_errors(&body).into_iter().next() {
                    Some(e) if !e.error_code.is_empty() => (e.error_code, e.message),
                    _ => (String::new(), excerpt(&body)),
                };
                tracing::warn!(login_url = %self.login_url, flow, status, error, "Salesforce login refused");
                return Err(Error::Login {
                    login_url: self.login_url.clone(),
                    flow,
                    status,
                    error,
                    description,
                });
            }
            Err(error) => return Err(super::client::generated_error(operation(), error).await),
        };
        if let (Credentials::RefreshToken { .. }, Some(rotated)) =
            (&credentials, &token.refresh_token)
            && let Credentials::RefreshToken { refresh_token, .. } = &mut *self
                .credentials
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        {
            *refresh_token = rotated.clone();
        }
        let mut authorization =
            HeaderValue::try_from(format!("Bearer {}", token.access_token.expose())).map_err(
                |_| Error::Decode {
                    operation: operation(),
                    status: 200,
                    detail: "the access token is not a valid header value".into(),
                },
            )?;
        authorization.set_sensitive(true);
        let instance_url = token.instance_url.trim_end_matches('/').to_owned();
        if !instance_url.starts_with("http://") && !instance_url.starts_with("https://") {
            return Err(Error::Decode {
                operation: operation(),
                status: 200,
                detail: format!("instance_url {instance_url:?} is not an http(s) URL"),
            });
        }
        let lifetime = token
            .expires_in
            .map_or(self.session_lifetime, Duration::from_secs);
        // Log in again a little before the session runs out.
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        let expires_at = started + (lifetime - margin);
        tracing::info!(login_url = %self.login_url, flow, %instance_url, generation, "logged in to Salesforce");
        Ok(Session {
            authorization,
            instance_url,
            generation,
            expires_at,
        })
    }
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("login_url", &self.login_url)
            .field(
                "credentials",
                &*self
                    .credentials
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            )
            .field("session", &self.current())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let credentials = Credentials::client_credentials("app-id", "s3cr3t-value");
        let text = format!("{credentials:?}");
        assert!(text.contains("app-id"), "{text}");
        assert!(!text.contains("s3cr3t-value"), "{text}");

        let credentials = Credentials::refresh_token(
            "app-id",
            Some(Secret::new("s3cr3t-value")),
            "r3fr3sh-value",
        );
        let text = format!("{credentials:?}");
        assert!(
            !text.contains("s3cr3t-value") && !text.contains("r3fr3sh-value"),
            "{text}"
        );

        assert_eq!(format!("{:?}", Secret::new("abc")), "Secret(***)");

        let form = TokenForm {
            grant_type: "client_credentials",
            client_id: Some("app-id".into()),
            client_secret: Some(Secret::new("s3cr3t-value")),
            refresh_token: None,
            assertion: None,
        };
        assert!(!format!("{form:?}").contains("s3cr3t-value"));

        let token: TokenResponse = serde_json::from_str(
            r#"{"access_token":"00Dxx!tok3n","instance_url":"https://x.my.salesforce.com","refresh_token":"r3fr3sh"}"#,
        )
        .unwrap();
        let text = format!("{token:?}");
        assert!(
            !text.contains("tok3n") && !text.contains("r3fr3sh"),
            "{text}"
        );
    }

    #[test]
    fn bad_private_key_is_a_config_error() {
        let error = Credentials::jwt_bearer("app", "user@example.com", "not a key").unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{error}");
        assert!(!error.to_string().contains("not a key"));
    }
}
