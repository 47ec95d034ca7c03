//! Async HTTP client runtime for Stripe's API.
//!
//! Every request carries `Authorization: Bearer <key>`, `Stripe-Version`
//! ([`crate::API_VERSION`]) and, for POST, an `Idempotency-Key` that stays the same
//! across retries. Parameters are form-encoded in Stripe's bracket notation
//! ([`form`]): in the query string for GET and DELETE, in the body for POST.
//! Failed requests are retried per [`RetryPolicy`]; Stripe's error object becomes
//! [`Error::Api`]; list endpoints can be walked as a `Stream` with
//! [`Client::paginate`].

mod builder;
mod error;
pub mod form;
mod idempotency;
mod list;
mod options;
mod paginate;
mod retry;

use std::fmt;
use std::sync::Arc;

use futures_util::Stream;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use builder::{ClientBuilder, DEFAULT_BASE_URL};
pub use error::{ApiError, ApiErrorType, Error};
pub use form::EncodeError;
pub use list::{Identified, List};
pub use options::RequestOptions;
pub use retry::RetryPolicy;

/// HTTP methods Stripe's API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Retrieve and list; parameters go in the query string.
    Get,
    /// Create, update and actions; parameters go in the body.
    Post,
    /// Delete; parameters go in the query string.
    Delete,
}

impl Method {
    /// The method's name, such as `GET`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }

    fn to_reqwest(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Post => reqwest::Method::POST,
            Self::Delete => reqwest::Method::DELETE,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Stripe API client; cheap to clone, clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// `Bearer <key>`, marked sensitive so reqwest never prints it.
    authorization: HeaderValue,
    base_url: String,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("secret_key", &"[redacted]")
            .field("base_url", &self.inner.base_url)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

const STRIPE_VERSION: HeaderName = HeaderName::from_static("stripe-version");
const STRIPE_ACCOUNT: HeaderName = HeaderName::from_static("stripe-account");
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

impl Client {
    /// A client with the default settings of [`ClientBuilder::new`].
    pub fn new(secret_key: impl Into<String>) -> Result<Self, Error> {
        ClientBuilder::new(secret_key).build()
    }

    /// Starts configuring a client.
    pub fn builder(secret_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(secret_key)
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The retry policy in use.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// One request: params form-encoded with Stripe's bracket notation (query string for GET/DELETE, body for POST); retries per policy.
    pub async fn send<P: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: Option<&P>,
        opts: &RequestOptions,
    ) -> Result<R, Error> {
        let pairs = encode_params(path, params, &opts.expand)?;
        self.execute(method, path, &pairs, opts).await
    }

    /// Auto-pagination over a list endpoint with `starting_after` = id of the last item.
    ///
    /// `opts.expand` applies to every page (list expansions start with `data.`).
    pub fn paginate<P, T>(
        &self,
        path: &str,
        params: P,
        opts: RequestOptions,
    ) -> impl Stream<Item = Result<T, Error>> + Send + 'static + use<P, T>
    where
        P: Serialize + Clone + Send + Sync + 'static,
        T: DeserializeOwned + Identified + Send + 'static,
    {
        let pairs = encode_params(path, Some(&params), &opts.expand);
        paginate::stream(self.clone(), path.to_owned(), pairs, opts)
    }

    /// Sends already-encoded parameters, retrying per policy, and decodes the answer.
    /// `opts.expand` is not read here: it is part of `pairs`.
    async fn execute<R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        pairs: &[(String, String)],
        opts: &RequestOptions,
    ) -> Result<R, Error> {
        let encoded = form::join(pairs);
        let mut url = format!("{}{}", self.inner.base_url, path);
        if method != Method::Post && !encoded.is_empty() {
            url.push(if path.contains('?') { '&' } else { '?' });
            url.push_str(&encoded);
        }
        let headers = self.headers(method, path, opts)?;
        let policy = &self.inner.retry;

        let mut attempts: u32 = 0;
        loop {
            attempts += 1;
            let retries_left = attempts <= policy.max_retries;
            let mut request = self
                .inner
                .http
                .request(method.to_reqwest(), &url)
                .headers(headers.clone());
            if method == Method::Post {
                // Content-Length even when it is 0, as Stripe's libraries send it.
                request = request
                    .header(header::CONTENT_TYPE, FORM_CONTENT_TYPE)
                    .header(header::CONTENT_LENGTH, encoded.len())
                    .body(encoded.clone());
            }

            let transport_error = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers();
                    let text = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|value| value.to_str().ok())
                            .map(str::to_owned)
                    };
                    let request_id = text("request-id");
                    let should_retry =
                        retry::parse_should_retry(text("stripe-should-retry").as_deref());
                    let retry_after = retry::parse_retry_after(text("retry-after").as_deref());
                    match response.bytes().await {
                        Ok(body) if status.is_success() => {
                            return serde_json::from_slice(&body).map_err(|e| Error::Decode {
                                path: path.to_owned(),
                                detail: format!("into {}: {e}", std::any::type_name::<R>()),
                            });
                        }
                        Ok(body) => {
                            if retries_left && retry::should_retry(status, should_retry) {
                                tokio::time::sleep(policy.delay(attempts, retry_after)).await;
                                continue;
                            }
                            return Err(error::from_response(
                                method,
                                path,
                                status.as_u16(),
                                request_id,
                                &body,
                            ));
                        }
                        Err(e) => e,
                    }
                }
                Err(e) => e,
            };
            if retries_left && retry::should_retry_transport(&transport_error) {
                tokio::time::sleep(policy.delay(attempts, None)).await;
                continue;
            }
            return Err(Error::Http {
                method,
                path: path.to_owned(),
                attempts,
                source: transport_error.without_url(),
            });
        }
    }

    /// Headers shared by every attempt of one logical request.
    fn headers(
        &self,
        method: Method,
        path: &str,
        opts: &RequestOptions,
    ) -> Result<HeaderMap, Error> {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, self.inner.authorization.clone());
        headers.insert(STRIPE_VERSION, HeaderValue::from_static(crate::API_VERSION));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let idempotency_key = match (&opts.idempotency_key, method) {
            (Some(key), _) => Some(key.clone()),
            (None, Method::Post) => Some(idempotency::new_key()),
            (None, _) => None,
        };
        for (name, label, value) in [
            (IDEMPOTENCY_KEY, "Idempotency-Key", idempotency_key),
            (
                STRIPE_ACCOUNT,
                "Stripe-Account",
                opts.stripe_account.clone(),
            ),
        ] {
            if let Some(value) = value {
                let value = HeaderValue::try_from(value).map_err(|_| Error::InvalidHeader {
                    header: label,
                    path: path.to_owned(),
                })?;
                headers.insert(name, value);
            }
        }
        Ok(headers)
    }
}

fn encode_params<P: Serialize + ?Sized>(
    path: &str,
    params: Option<&P>,
    expand: &[String],
) -> Result<Vec<(String, String)>, Error> {
    let mut pairs = match params {
        Some(params) => form::to_pairs(params).map_err(|source| Error::Encode {
            path: path.to_owned(),
            source,
        })?,
        None => Vec::new(),
    };
    form::append_expand(&mut pairs, expand);
    Ok(pairs)
}
