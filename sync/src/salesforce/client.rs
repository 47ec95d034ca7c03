//! [`Client`]: the Salesforce client the sync engine uses, and how every call is made: with
//! the current session, re-authenticated and retried once on 401, its errors read into
//! [`Error`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::api;
use super::auth::{Authenticator, Credentials, Session};
use super::error::Error;
use super::limits::{LimitInfo, Limits};
use super::transport::{Hooks, LimitSender};

/// Login URL of production orgs and Developer Edition.
pub const PRODUCTION_LOGIN_URL: &str = "https://login.salesforce.com";

/// Login URL of sandboxes.
pub const SANDBOX_LOGIN_URL: &str = "https://test.salesforce.com";

/// The REST API version every call uses (the version of `openapi/salesforce/openapi.json`).
pub const API_VERSION: &str = "62.0";

/// A Salesforce client: cheap to clone, all clones share the session and the API usage.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    auth: Authenticator,
    http: reqwest::Client,
    limits: LimitSender,
}

/// Settings of a [`Client`], from [`Client::builder`].
#[derive(Debug)]
pub struct ClientBuilder {
    login_url: String,
    credentials: Credentials,
    http: Option<reqwest::Client>,
    timeout: Duration,
    connect_timeout: Duration,
    session_lifetime: Duration,
}

impl ClientBuilder {
    /// Timeout of each request, answer included (default 120 s). A call that times out
    /// fails with a retryable [`Error::Transport`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Timeout to connect (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a session is used before logging in again without waiting for a 401, when
    /// the token answer has no `expires_in` (Salesforce's never does): the org's session
    /// timeout (default 2 hours).
    pub fn session_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_lifetime = lifetime;
        self
    }

    /// Uses this HTTP client (its own timeouts and TLS settings) instead of building one.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client; nothing is sent until the first call (or [`Client::login`]).
    pub fn build(self) -> Result<Client, Error> {
        let login_url = self.login_url.trim_end_matches('/').to_owned();
        if !login_url.starts_with("https://") && !login_url.starts_with("http://") {
            return Err(Error::Config(format!(
                "login URL {login_url:?} is not an http(s) URL"
            )));
        }
        let http = match self.http {
            Some(http) => http,
            None => {
                // reqwest is built without a bundled crypto provider: use ring unless the
                // program installed one.
                if rustls::crypto::CryptoProvider::get_default().is_none() {
                    let _ = rustls::crypto::ring::default_provider().install_default();
                }
                reqwest::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.connect_timeout)
                    .build()
                    .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?
            }
        };
        let limits: LimitSender = Arc::new(watch::Sender::new(None));
        let auth = Authenticator::new(
            login_url,
            self.credentials,
            http.clone(),
            limits.clone(),
            self.session_lifetime,
        );
        Ok(Client {
            inner: Arc::new(Inner { auth, http, limits }),
        })
    }
}

impl Client {
    /// Settings for a client logging in at `login_url` ([`PRODUCTION_LOGIN_URL`],
    /// [`SANDBOX_LOGIN_URL`], a My Domain URL, or a test server) with `credentials`.
    pub fn builder(login_url: impl Into<String>, credentials: Credentials) -> ClientBuilder {
        ClientBuilder {
            login_url: login_url.into(),
            credentials,
            http: None,
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            session_lifetime: Duration::from_secs(2 * 60 * 60),
        }
    }

    /// Logs in now if there is no live session (calls log in by themselves when needed).
    pub async fn login(&self) -> Result<(), Error> {
        self.inner.auth.session().await.map(|_| ())
    }

    /// Drops the session: the next call logs in again.
    pub fn logout(&self) {
        self.inner.auth.forget();
    }

    /// The login URL.
    pub fn login_url(&self) -> &str {
        self.inner.auth.login_url()
    }

    /// The `instance_url` of the current session, which every call goes to.
    pub fn instance_url(&self) -> Option<String> {
        self.inner
            .auth
            .current()
            .map(|session| session.instance_url.clone())
    }

    /// Token requests sent so far (logins and re-logins).
    pub fn token_requests(&self) -> u64 {
        self.inner.auth.logins()
    }

    /// The `Sforce-Limit-Info` of the latest answer that had one.
    pub fn limit_info(&self) -> Option<LimitInfo> {
        self.inner.limits.borrow().clone()
    }

    /// A receiver that sees every new `Sforce-Limit-Info`.
    pub fn watch_limit_info(&self) -> watch::Receiver<Option<LimitInfo>> {
        self.inner.limits.subscribe()
    }

    /// The org's limits from `/limits` (`DailyApiRequests` and the rest).
    pub async fn limits(&self) -> Result<Limits, Error> {
        let operation = "read /limits";
        self.call(operation, move |api: api::Client| async move {
            finish(operation, api.get_limits().await).await
        })
        .await
        .map(Limits::from)
    }

    /// The shared HTTP client.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Runs `request` with a generated client on the current session; if Salesforce answers
    /// 401 `INVALID_SESSION_ID`, logs in again (once for all concurrent callers) and runs it
    /// once more. Other errors are returned as they are: retrying is the caller's policy.
    ///
    /// `request` gets the generated client by value and returns a future that owns it (an
    /// async closure over `&api::Client` would make the caller's future not `Send`).
    pub(crate) async fn call<T, F, Fut>(&self, operation: &str, request: F) -> Result<T, Error>
    where
        F: Fn(api::Client) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let session = self.inner.auth.session().await?;
        match request(self.api(&session)).await {
            Err(error) if error.is_invalid_session() => {
                tracing::info!(
                    operation,
                    "Salesforce session expired or revoked; logging in again"
                );
                let session = self.inner.auth.renew(&session).await?;
                request(self.api(&session)).await
            }
            result => {
                if let Err(error) = &result {
                    tracing::debug!(operation, class = %error.class(), %error, "Salesforce call failed");
                }
                result
            }
        }
    }

    /// The generated client for `session`.
    fn api(&self, session: &Arc<Session>) -> api::Client {
        api::Client::new_with_client(
            &session.instance_url,
            self.inner.http.clone(),
            Hooks::new(session.clone(), self.inner.limits.clone()),
        )
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("auth", &self.inner.auth)
            .field("limit_info", &self.limit_info())
            .finish_non_exhaustive()
    }
}

/// The value of a generated call, or its error read into [`Error`].
pub(crate) async fn finish<T>(
    operation: &str,
    result: Result<api::ResponseValue<T>, api::Error<()>>,
) -> Result<T, Error> {
    match result {
        Ok(value) => Ok(value.into_inner()),
        Err(error) => Err(generated_error(operation, error).await),
    }
}

/// A generated client's error as an [`Error`]: error answers (which the spec leaves
/// undeclared, so they arrive as `UnexpectedResponse`) are read for Salesforce's errors.
pub(crate) async fn generated_error(operation: impl Into<String>, error: api::Error<()>) -> Error {
    let operation = operation.into();
    match error {
        api::Error::UnexpectedResponse(response) => response_error(operation, response).await,
        api::Error::CommunicationError(e)
        | api::Error::ResponseBodyError(e)
        | api::Error::InvalidUpgrade(e) => Error::transport(operation, e),
        api::Error::InvalidResponsePayload(body, e) => Error::Decode {
            operation,
            status: 200,
            detail: format!("{e}: {}", super::error::excerpt(&body)),
        },
        api::Error::ErrorResponse(response) => Error::Api {
            operation,
            status: response.status().as_u16(),
            errors: Vec::new(),
        },
        api::Error::InvalidRequest(reason) | api::Error::Custom(reason) => {
            Error::InvalidInput { operation, reason }
        }
    }
}

/// The error of an answer with a status the operation does not expect.
pub(crate) async fn response_error(operation: String, response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    match response.bytes().await {
        Ok(_) if (200..300).contains(&status) => Error::Decode {
            operation,
            status,
            detail: "unexpected success status".into(),
        },
        Ok(body) => Error::from_body(operation, status, &body),
        Err(e) => Error::transport(operation, e),
    }
}
