//! Per-request options: idempotency key, expansions, connected account.

/// Options for one logical request (kept across its retries and pages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// `Idempotency-Key` header; POST requests get a random one when this is `None`.
    pub idempotency_key: Option<String>,
    /// Paths to expand, sent as `expand[N]` after any `expand` in the parameters.
    pub expand: Vec<String>,
    /// `Stripe-Account` header, to act on a connected account.
    pub stripe_account: Option<String>,
}

impl RequestOptions {
    /// No idempotency key, expansion or connected account.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the `Idempotency-Key` header.
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Adds one path to expand.
    pub fn with_expand(mut self, path: impl Into<String>) -> Self {
        self.expand.push(path.into());
        self
    }

    /// Sets the `Stripe-Account` header.
    pub fn with_stripe_account(mut self, account: impl Into<String>) -> Self {
        self.stripe_account = Some(account.into());
        self
    }
}
