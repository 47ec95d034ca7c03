//! Settings of a [`Client`]: key, base URL, timeouts, retries, user agent.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;

use super::{Client, Error, Inner, RetryPolicy};

/// Stripe's API host, used unless [`ClientBuilder::base_url`] says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com";

/// Builds a [`Client`]; the secret key never appears in `Debug` output.
#[derive(Clone)]
pub struct ClientBuilder {
    secret_key: String,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("secret_key", &"[redacted]")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

impl ClientBuilder {
    /// Starts from a secret or restricted key (`sk_...`, `rk_...`) and the defaults:
    /// Stripe's host, 80 s per attempt, 30 s to connect, [`RetryPolicy::default`].
    pub fn new(secret_key: impl Into<String>) -> Self {
        Self {
            secret_key: secret_key.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(80),
            connect_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            user_agent: concat!("stripe-types/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// Sends requests to another server (`http://127.0.0.1:8420` for a fake Stripe).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Limits each attempt, from connecting to the end of the response body.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Limits connecting to the server.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets when and how failed requests are retried.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        if self.secret_key.trim().is_empty() {
            return Err(Error::Config {
                setting: "secret_key",
                detail: "the key is empty".to_owned(),
            });
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", self.secret_key))
            .map_err(|_| Error::Config {
                setting: "secret_key",
                detail: "the key has characters that cannot go in an HTTP header".to_owned(),
            })?;
        authorization.set_sensitive(true);

        let base_url = self.base_url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base_url).map_err(|e| Error::Config {
            setting: "base_url",
            detail: format!("{base_url:?} is not a URL: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(Error::Config {
                setting: "base_url",
                detail: format!("{base_url:?} must be an http(s) URL without query or fragment"),
            });
        }

        // reqwest is built without a bundled crypto provider: use ring unless the program
        // installed one.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent)
            .build()
            .map_err(|e| Error::Config {
                setting: "http client",
                detail: e.to_string(),
            })?;

        Ok(Client {
            inner: Arc::new(Inner {
                http,
                authorization,
                base_url,
                retry: self.retry,
            }),
        })
    }
}
