//! The `stripe-sfdc-sync` binary's configuration: command-line flags, environment variables and
//! an optional TOML file.
//!
//! Every setting has a flag, an environment variable and a TOML key ([`SETTINGS`]). A value is
//! taken from, in order: the flag, the environment variable, the configuration file
//! (`--config` / `SYNC_CONFIG`), the default. So the environment wins over the file: a
//! deployment can keep a shared file and override one setting per host.
//!
//! A missing or invalid setting fails [`Config::resolve`] with a [`ConfigError`] naming the
//! environment variable, the flag and the TOML key. Secrets (webhook secrets, Salesforce client
//! secret, refresh token and private key, Stripe secret key) are held as [`Secret`]s, which show
//! as `***` in `Debug`, and never appear in error messages.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::salesforce::{Credentials, Secret};

/// One setting: where it can be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The environment variable.
    pub env: &'static str,
    /// The command-line flag, with its dashes.
    pub flag: &'static str,
    /// The key in the TOML file (`section.name`).
    pub key: &'static str,
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, TOML `{}`)", self.env, self.flag, self.key)
    }
}

/// Declares the settings as constants and lists them in [`SETTINGS`].
macro_rules! settings {
    ($($name:ident = $env:literal, $flag:literal, $key:literal;)*) => {
        $(
            #[doc = concat!("`", $env, "` / `", $flag, "` / TOML `", $key, "`.")]
            pub const $name: Setting = Setting { env: $env, flag: $flag, key: $key };
        )*
        /// Every setting that may appear in the configuration file, in `--help` order.
        pub const SETTINGS: &[Setting] = &[$($name),*];
    };
}

settings! {
    DATABASE = "SYNC_DATABASE", "--database", "database";
    LOG_FORMAT = "SYNC_LOG_FORMAT", "--log-format", "log_format";
    LISTEN = "SYNC_LISTEN", "--listen", "receiver.listen";
    MAX_BODY = "SYNC_MAX_BODY_BYTES", "--max-body-bytes", "receiver.max_body_bytes";
    WEBHOOK_SECRETS = "STRIPE_WEBHOOK_SECRETS", "--webhook-secrets", "stripe.webhook_secrets";
    WEBHOOK_TOLERANCE =
        "STRIPE_WEBHOOK_TOLERANCE_SECS", "--webhook-tolerance-secs", "stripe.webhook_tolerance_secs";
    LIVEMODE = "STRIPE_LIVEMODE", "--livemode", "stripe.livemode";
    STRIPE_SECRET_KEY = "STRIPE_SECRET_KEY", "--stripe-secret-key", "stripe.secret_key";
    STRIPE_API_BASE = "STRIPE_API_BASE", "--stripe-api-base", "stripe.api_base";
    SALESFORCE_LOGIN_URL = "SALESFORCE_LOGIN_URL", "--salesforce-login-url", "salesforce.login_url";
    SALESFORCE_AUTH_FLOW = "SALESFORCE_AUTH_FLOW", "--salesforce-auth-flow", "salesforce.auth_flow";
    SALESFORCE_CLIENT_ID = "SALESFORCE_CLIENT_ID", "--salesforce-client-id", "salesforce.client_id";
    SALESFORCE_CLIENT_SECRET =
        "SALESFORCE_CLIENT_SECRET", "--salesforce-client-secret", "salesforce.client_secret";
    SALESFORCE_USERNAME = "SALESFORCE_USERNAME", "--salesforce-username", "salesforce.username";
    SALESFORCE_PRIVATE_KEY_FILE =
        "SALESFORCE_PRIVATE_KEY_FILE", "--salesforce-private-key-file", "salesforce.private_key_file";
    SALESFORCE_REFRESH_TOKEN =
        "SALESFORCE_REFRESH_TOKEN", "--salesforce-refresh-token", "salesforce.refresh_token";
    SALESFORCE_TASK_OWNER_FINANCE = "SALESFORCE_TASK_OWNER_FINANCE",
        "--salesforce-task-owner-finance", "salesforce.task_owner_finance";
    SALESFORCE_TASK_OWNER_SERVICE = "SALESFORCE_TASK_OWNER_SERVICE",
        "--salesforce-task-owner-service", "salesforce.task_owner_service";
    WORKER_BATCH_SIZE = "SYNC_WORKER_BATCH_SIZE", "--worker-batch-size", "worker.batch_size";
    WORKER_LEASE = "SYNC_WORKER_LEASE_SECS", "--worker-lease-secs", "worker.lease_secs";
    WORKER_CALLS_PER_MINUTE =
        "SYNC_WORKER_CALLS_PER_MINUTE", "--worker-calls-per-minute", "worker.calls_per_minute";
    WORKER_CALLS_PER_DAY =
        "SYNC_WORKER_CALLS_PER_DAY", "--worker-calls-per-day", "worker.calls_per_day";
    WORKER_QUOTA_SHARE =
        "SYNC_WORKER_QUOTA_SHARE_PERCENT", "--worker-quota-share-percent", "worker.quota_share_percent";
    HIGH_WINDOW = "SYNC_WORKER_HIGH_WINDOW_MS", "--worker-high-window-ms", "worker.high_window_ms";
    NORMAL_WINDOW =
        "SYNC_WORKER_NORMAL_WINDOW_MS", "--worker-normal-window-ms", "worker.normal_window_ms";
    BULK_FLUSH_RECORDS =
        "SYNC_BULK_FLUSH_RECORDS", "--bulk-flush-records", "worker.bulk_flush_records";
    BULK_FLUSH_SECS = "SYNC_BULK_FLUSH_SECS", "--bulk-flush-secs", "worker.bulk_flush_secs";
    ALERT_WEBHOOK_URL = "SYNC_ALERT_WEBHOOK_URL", "--alert-webhook-url", "alerts.webhook_url";
    ALERT_MIN_INTERVAL =
        "SYNC_ALERT_MIN_INTERVAL_SECS", "--alert-min-interval-secs", "alerts.min_interval_secs";
    ALERT_LAG = "SYNC_ALERT_LAG_SECS", "--alert-lag-secs", "alerts.lag_secs";
    OUTBOUND_INTERVAL =
        "SYNC_OUTBOUND_INTERVAL_SECS", "--outbound-interval-secs", "outbound.interval_secs";
    CHECKOUT_SUCCESS_URL =
        "SYNC_CHECKOUT_SUCCESS_URL", "--checkout-success-url", "checkout.success_url";
    CHECKOUT_CANCEL_URL =
        "SYNC_CHECKOUT_CANCEL_URL", "--checkout-cancel-url", "checkout.cancel_url";
    CHECKOUT_EXPIRES =
        "SYNC_CHECKOUT_EXPIRES_SECS", "--checkout-expires-secs", "checkout.expires_secs";
}

/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "SYNC_CONFIG";

/// The default database file.
pub const DEFAULT_DATABASE: &str = "./stripe-sfdc-sync.db";
/// The default listen address of the receiver.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default signature tolerance, in seconds.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;
/// The default largest webhook body, in bytes (512 KiB).
pub const DEFAULT_MAX_BODY: usize = crate::receiver::DEFAULT_MAX_BODY;
/// The default Salesforce login URL.
pub const DEFAULT_LOGIN_URL: &str = crate::salesforce::PRODUCTION_LOGIN_URL;
/// The default Stripe API base URL.
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";
/// The default number of events a worker pulls at once.
pub const DEFAULT_BATCH_SIZE: usize = 200;
/// The default lease of a pulled event, in seconds.
pub const DEFAULT_LEASE_SECS: u64 = 60;
/// The default cap on Salesforce calls per minute.
pub const DEFAULT_CALLS_PER_MINUTE: u64 = 1_000;
/// The default cap on Salesforce calls per day.
pub const DEFAULT_CALLS_PER_DAY: u64 = 100_000;
/// The default share of the org's daily quota at which writing pauses, in percent.
pub const DEFAULT_QUOTA_SHARE_PERCENT: u8 = 80;
/// The default longest wait of a high-priority event for its Composite call, in milliseconds.
pub const DEFAULT_HIGH_WINDOW_MS: u64 = 500;
/// The default longest wait of a normal-priority event for its Composite call, in milliseconds.
pub const DEFAULT_NORMAL_WINDOW_MS: u64 = 2_000;
/// The default pause between two polls of Salesforce for changes to send to Stripe, in seconds.
pub const DEFAULT_OUTBOUND_INTERVAL_SECS: u64 = 5;
/// The default life of a Checkout link, in seconds (Stripe allows 1,800 to 86,400).
pub const DEFAULT_CHECKOUT_EXPIRES_SECS: u64 = 86_400;
/// The default number of waiting events that flushes the Bulk lane.
pub const DEFAULT_BULK_FLUSH_RECORDS: usize = 2_000;
/// The default age, in seconds, of the oldest waiting event that flushes the Bulk lane.
pub const DEFAULT_BULK_FLUSH_SECS: u64 = 30;
/// The default shortest time between two admin alerts of one kind, in seconds.
pub const DEFAULT_ALERT_MIN_INTERVAL_SECS: u64 = 300;
/// The default age of the oldest queued event over which the lag alert fires, in seconds.
pub const DEFAULT_ALERT_LAG_SECS: u64 = 300;

/// The settings as given on the command line or in the environment, before the file and the
/// defaults are applied. Every value is text so that errors name the setting, not a flag type.
#[derive(Clone, Default, clap::Args)]
pub struct Overrides {
    /// TOML configuration file; flags and environment variables win over it.
    #[arg(long, env = CONFIG_ENV, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,

    /// SQLite database file holding the queue and the store. TOML `database`.
    /// [default: ./stripe-sfdc-sync.db]
    #[arg(long, env = "SYNC_DATABASE", value_name = "PATH", global = true)]
    pub database: Option<PathBuf>,

    /// Log format on stderr: `json` (one JSON object a line) or `text`. Level from `RUST_LOG`
    /// (default `info`). TOML `log_format`. [default: json]
    #[arg(long, env = "SYNC_LOG_FORMAT", value_name = "json|text", global = true)]
    pub log_format: Option<String>,

    /// Address the webhook receiver listens on. TOML `receiver.listen`. [default: 127.0.0.1:8080]
    #[arg(long, env = "SYNC_LISTEN", value_name = "ADDR", global = true)]
    pub listen: Option<String>,

    /// Largest webhook body accepted, in bytes; larger requests get 413. TOML
    /// `receiver.max_body_bytes`. [default: 524288]
    #[arg(long, env = "SYNC_MAX_BODY_BYTES", value_name = "BYTES", global = true)]
    pub max_body_bytes: Option<String>,

    /// Stripe webhook endpoint signing secrets (`whsec_…`), comma-separated; several are
    /// accepted at once while rotating. Required by `serve` and `receiver`. TOML
    /// `stripe.webhook_secrets` (a string or an array).
    #[arg(
        long,
        env = "STRIPE_WEBHOOK_SECRETS",
        value_name = "SECRETS",
        hide_env_values = true,
        global = true
    )]
    pub webhook_secrets: Option<String>,

    /// Largest age of a webhook signature accepted, in seconds. TOML
    /// `stripe.webhook_tolerance_secs`. [default: 300]
    #[arg(
        long,
        env = "STRIPE_WEBHOOK_TOLERANCE_SECS",
        value_name = "SECS",
        global = true
    )]
    pub webhook_tolerance_secs: Option<String>,

    /// Whether this deployment takes live-mode events (`true`) or test-mode events (`false`);
    /// events of the other mode are rejected. TOML `stripe.livemode`. [default: false]
    #[arg(long, env = "STRIPE_LIVEMODE", value_name = "BOOL", global = true)]
    pub livemode: Option<String>,

    /// Stripe secret or restricted key (`sk_…`/`rk_…`, read access) for reading objects from
    /// Stripe. TOML `stripe.secret_key`.
    #[arg(
        long,
        env = "STRIPE_SECRET_KEY",
        value_name = "KEY",
        hide_env_values = true,
        global = true
    )]
    pub stripe_secret_key: Option<String>,

    /// Stripe API base URL. TOML `stripe.api_base`. [default: https://api.stripe.com]
    #[arg(long, env = "STRIPE_API_BASE", value_name = "URL", global = true)]
    pub stripe_api_base: Option<String>,

    /// Salesforce login URL (My Domain URL for `client_credentials`; https://test.salesforce.com
    /// for sandboxes). TOML `salesforce.login_url`. [default: https://login.salesforce.com]
    #[arg(long, env = "SALESFORCE_LOGIN_URL", value_name = "URL", global = true)]
    pub salesforce_login_url: Option<String>,

    /// Salesforce OAuth flow: `client_credentials` (client id and secret), `jwt_bearer` (client
    /// id, username and private key file) or `refresh_token` (client id and refresh token,
    /// secret optional). Credentials are required by `serve` and `worker`. TOML
    /// `salesforce.auth_flow`. [default: client_credentials]
    #[arg(long, env = "SALESFORCE_AUTH_FLOW", value_name = "FLOW", global = true)]
    pub salesforce_auth_flow: Option<String>,

    /// Consumer key of the Salesforce connected app. TOML `salesforce.client_id`.
    #[arg(long, env = "SALESFORCE_CLIENT_ID", value_name = "ID", global = true)]
    pub salesforce_client_id: Option<String>,

    /// Consumer secret of the Salesforce connected app. TOML `salesforce.client_secret`.
    #[arg(
        long,
        env = "SALESFORCE_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        global = true
    )]
    pub salesforce_client_secret: Option<String>,

    /// Salesforce user the JWT bearer flow logs in as. TOML `salesforce.username`.
    #[arg(long, env = "SALESFORCE_USERNAME", value_name = "USER", global = true)]
    pub salesforce_username: Option<String>,

    /// PEM file of the RSA private key signing the JWT bearer assertion. TOML
    /// `salesforce.private_key_file`.
    #[arg(
        long,
        env = "SALESFORCE_PRIVATE_KEY_FILE",
        value_name = "PATH",
        global = true
    )]
    pub salesforce_private_key_file: Option<PathBuf>,

    /// Refresh token of the refresh token flow. TOML `salesforce.refresh_token`.
    #[arg(
        long,
        env = "SALESFORCE_REFRESH_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub salesforce_refresh_token: Option<String>,

    /// Salesforce User (005…) or queue (00G…) Id that payment-failure Tasks are assigned to;
    /// without it they belong to the integration user. TOML `salesforce.task_owner_finance`.
    #[arg(
        long,
        env = "SALESFORCE_TASK_OWNER_FINANCE",
        value_name = "ID",
        global = true
    )]
    pub salesforce_task_owner_finance: Option<String>,

    /// Salesforce User (005…) or queue (00G…) Id that cancellation Tasks are assigned to;
    /// without it they belong to the integration user. TOML `salesforce.task_owner_service`.
    #[arg(
        long,
        env = "SALESFORCE_TASK_OWNER_SERVICE",
        value_name = "ID",
        global = true
    )]
    pub salesforce_task_owner_service: Option<String>,

    /// Events a worker pulls from the queue at once. TOML `worker.batch_size`. [default: 200]
    #[arg(long, env = "SYNC_WORKER_BATCH_SIZE", value_name = "N", global = true)]
    pub worker_batch_size: Option<String>,

    /// How long a pulled event stays invisible to other workers, in seconds. TOML
    /// `worker.lease_secs`. [default: 60]
    #[arg(
        long,
        env = "SYNC_WORKER_LEASE_SECS",
        value_name = "SECS",
        global = true
    )]
    pub worker_lease_secs: Option<String>,

    /// Most Salesforce API calls per minute. TOML `worker.calls_per_minute`. [default: 1000]
    #[arg(
        long,
        env = "SYNC_WORKER_CALLS_PER_MINUTE",
        value_name = "N",
        global = true
    )]
    pub worker_calls_per_minute: Option<String>,

    /// Most Salesforce API calls per day. TOML `worker.calls_per_day`. [default: 100000]
    #[arg(
        long,
        env = "SYNC_WORKER_CALLS_PER_DAY",
        value_name = "N",
        global = true
    )]
    pub worker_calls_per_day: Option<String>,

    /// Share of the org's daily API quota (as Salesforce reports it) at which writing pauses,
    /// in percent (0-100); the rest is kept for people and other integrations. TOML
    /// `worker.quota_share_percent`. [default: 80]
    #[arg(
        long,
        env = "SYNC_WORKER_QUOTA_SHARE_PERCENT",
        value_name = "PERCENT",
        global = true
    )]
    pub worker_quota_share_percent: Option<String>,

    /// Longest wait, in milliseconds, of a high-priority event (payment failure, cancellation,
    /// checkout) for others to share its Salesforce call. TOML `worker.high_window_ms`.
    /// [default: 500]
    #[arg(
        long,
        env = "SYNC_WORKER_HIGH_WINDOW_MS",
        value_name = "MS",
        global = true
    )]
    pub worker_high_window_ms: Option<String>,

    /// Longest wait, in milliseconds, of a normal-priority event (other subscription, invoice
    /// and payment events) for others to share its Salesforce call. TOML
    /// `worker.normal_window_ms`. [default: 2000]
    #[arg(
        long,
        env = "SYNC_WORKER_NORMAL_WINDOW_MS",
        value_name = "MS",
        global = true
    )]
    pub worker_normal_window_ms: Option<String>,

    /// Events waiting in the Bulk API lane (customers, prices, products, audit records) that
    /// make it flush. TOML `worker.bulk_flush_records`. [default: 2000]
    #[arg(long, env = "SYNC_BULK_FLUSH_RECORDS", value_name = "N", global = true)]
    pub bulk_flush_records: Option<String>,

    /// Age in seconds of the oldest event waiting in the Bulk API lane that makes it flush (0:
    /// after every batch). TOML `worker.bulk_flush_secs`. [default: 30]
    #[arg(long, env = "SYNC_BULK_FLUSH_SECS", value_name = "SECS", global = true)]
    pub bulk_flush_secs: Option<String>,

    /// URL admin alerts (dead letters, error rate, quota, lag) are posted to as JSON (Slack
    /// compatible); without it alerts are only logged. Its path may hold a token: it is never
    /// printed. TOML `alerts.webhook_url`.
    #[arg(
        long,
        env = "SYNC_ALERT_WEBHOOK_URL",
        value_name = "URL",
        hide_env_values = true,
        global = true
    )]
    pub alert_webhook_url: Option<String>,

    /// Shortest time between two admin alerts of one kind, in seconds (0: no limit); the ones
    /// in between are counted in the next. TOML `alerts.min_interval_secs`. [default: 300]
    #[arg(
        long,
        env = "SYNC_ALERT_MIN_INTERVAL_SECS",
        value_name = "SECS",
        global = true
    )]
    pub alert_min_interval_secs: Option<String>,

    /// Age of the oldest queued event, in seconds, over which an admin alert fires. TOML
    /// `alerts.lag_secs`. [default: 300]
    #[arg(long, env = "SYNC_ALERT_LAG_SECS", value_name = "SECS", global = true)]
    pub alert_lag_secs: Option<String>,

    /// Pause between two polls of Salesforce for Contacts and subscriptions to send to Stripe,
    /// in seconds. TOML `outbound.interval_secs`. [default: 5]
    #[arg(
        long,
        env = "SYNC_OUTBOUND_INTERVAL_SECS",
        value_name = "SECS",
        global = true
    )]
    pub outbound_interval_secs: Option<String>,

    /// Where Stripe Checkout sends a customer after paying (`{CHECKOUT_SESSION_ID}` is filled
    /// in); with the cancel URL, turns on Checkout links for subscriptions marked "Send to
    /// Stripe". TOML `checkout.success_url`.
    #[arg(
        long,
        env = "SYNC_CHECKOUT_SUCCESS_URL",
        value_name = "URL",
        global = true
    )]
    pub checkout_success_url: Option<String>,

    /// Where Stripe Checkout sends a customer who cancels. TOML `checkout.cancel_url`.
    #[arg(
        long,
        env = "SYNC_CHECKOUT_CANCEL_URL",
        value_name = "URL",
        global = true
    )]
    pub checkout_cancel_url: Option<String>,

    /// How long a Checkout link stays valid, in seconds (1800 to 86400). TOML
    /// `checkout.expires_secs`. [default: 86400]
    #[arg(
        long,
        env = "SYNC_CHECKOUT_EXPIRES_SECS",
        value_name = "SECS",
        global = true
    )]
    pub checkout_expires_secs: Option<String>,
}

impl fmt::Debug for Overrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// `***` for a secret that is set.
        fn hidden(value: Option<&String>) -> Option<&'static str> {
            value.map(|_| "***")
        }
        f.debug_struct("Overrides")
            .field("config", &self.config)
            .field("database", &self.database)
            .field("log_format", &self.log_format)
            .field("listen", &self.listen)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("webhook_secrets", &hidden(self.webhook_secrets.as_ref()))
            .field("webhook_tolerance_secs", &self.webhook_tolerance_secs)
            .field("livemode", &self.livemode)
            .field(
                "stripe_secret_key",
                &hidden(self.stripe_secret_key.as_ref()),
            )
            .field("stripe_api_base", &self.stripe_api_base)
            .field("salesforce_login_url", &self.salesforce_login_url)
            .field("salesforce_auth_flow", &self.salesforce_auth_flow)
            .field("salesforce_client_id", &self.salesforce_client_id)
            .field(
                "salesforce_client_secret",
                &hidden(self.salesforce_client_secret.as_ref()),
            )
            .field("salesforce_username", &self.salesforce_username)
            .field(
                "salesforce_private_key_file",
                &self.salesforce_private_key_file,
            )
            .field(
                "salesforce_refresh_token",
                &hidden(self.salesforce_refresh_token.as_ref()),
            )
            .field(
                "salesforce_task_owner_finance",
                &self.salesforce_task_owner_finance,
            )
            .field(
                "salesforce_task_owner_service",
                &self.salesforce_task_owner_service,
            )
            .field("worker_batch_size", &self.worker_batch_size)
            .field("worker_lease_secs", &self.worker_lease_secs)
            .field("worker_calls_per_minute", &self.worker_calls_per_minute)
            .field("worker_calls_per_day", &self.worker_calls_per_day)
            .field(
                "worker_quota_share_percent",
                &self.worker_quota_share_percent,
            )
            .field("worker_high_window_ms", &self.worker_high_window_ms)
            .field("worker_normal_window_ms", &self.worker_normal_window_ms)
            .field("bulk_flush_records", &self.bulk_flush_records)
            .field("bulk_flush_secs", &self.bulk_flush_secs)
            .field(
                "alert_webhook_url",
                &hidden(self.alert_webhook_url.as_ref()),
            )
            .field("alert_min_interval_secs", &self.alert_min_interval_secs)
            .field("alert_lag_secs", &self.alert_lag_secs)
            .field("outbound_interval_secs", &self.outbound_interval_secs)
            .field("checkout_success_url", &self.checkout_success_url)
            .field("checkout_cancel_url", &self.checkout_cancel_url)
            .field("checkout_expires_secs", &self.checkout_expires_secs)
            .finish()
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file cannot be read.
    #[error("cannot read the configuration file {path} ({CONFIG_ENV}, --config): {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML.
    #[error("the configuration file {path} is not valid TOML: {message}")]
    ParseFile {
        /// The file.
        path: PathBuf,
        /// The parser's message (position and cause).
        message: String,
    },
    /// The configuration file has a key that is no setting (a typo, most likely).
    #[error("unknown setting `{key}` in the configuration file {path}")]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The dotted key.
        key: String,
    },
    /// A required setting is not given.
    #[error("missing setting {setting}: {why}")]
    Missing {
        /// The setting.
        setting: Setting,
        /// Why it is needed.
        why: &'static str,
    },
    /// A setting's value cannot be used.
    #[error("invalid setting {setting}: {reason}")]
    Invalid {
        /// The setting.
        setting: Setting,
        /// What is wrong (quotes the value unless it is a secret).
        reason: String,
    },
    /// The Salesforce private key file cannot be read.
    #[error("cannot read the file of setting {setting}, {path}: {source}")]
    ReadKey {
        /// The setting.
        setting: Setting,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object a line (for production).
    #[default]
    Json,
    /// Human-readable text.
    Text,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(LogFormat::Json),
            "text" => Ok(LogFormat::Text),
            other => Err(format!("expected `json` or `text`, got `{other}`")),
        }
    }
}

/// What the chosen subcommand needs beyond the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    /// The webhook secrets (the receiver runs).
    pub webhook: bool,
    /// Salesforce credentials (the worker runs).
    pub salesforce: bool,
    /// A Stripe secret key (the outbound poller runs).
    pub stripe: bool,
}

/// The receiver's settings.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Where it listens.
    pub listen: SocketAddr,
    /// The largest body accepted, in bytes.
    pub max_body: usize,
    /// The endpoint secrets; empty unless [`Needs::webhook`] was asked for or they were given.
    pub webhook_secrets: Vec<Secret>,
    /// The signature tolerance.
    pub tolerance: Duration,
    /// Whether live-mode events are taken.
    pub livemode: bool,
}

/// The Stripe API settings.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// The secret key, if given.
    pub secret_key: Option<Secret>,
    /// The API base URL, without a trailing slash.
    pub api_base: String,
}

/// The Salesforce settings.
#[derive(Debug, Clone)]
pub struct SalesforceConfig {
    /// The login URL, without a trailing slash.
    pub login_url: String,
    /// The credentials; `None` unless [`Needs::salesforce`] was asked for or a client id given.
    pub credentials: Option<Credentials>,
    /// The User or queue Id payment-failure Tasks are assigned to (`None`: the integration
    /// user); for `WorkerConfig::task_owner_finance`.
    pub task_owner_finance: Option<String>,
    /// The User or queue Id cancellation Tasks are assigned to (`None`: the integration user);
    /// for `WorkerConfig::task_owner_service`.
    pub task_owner_service: Option<String>,
}

/// The worker's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// Events pulled at once.
    pub batch_size: usize,
    /// The lease of a pulled event.
    pub lease: Duration,
    /// Most Salesforce calls per minute.
    pub calls_per_minute: u64,
    /// Most Salesforce calls per day.
    pub calls_per_day: u64,
    /// Share of the org's daily quota at which writing pauses, in percent.
    pub quota_share_percent: u8,
    /// Longest wait of a high-priority event in the REST lane.
    pub high_window: Duration,
    /// Longest wait of a normal-priority event in the REST lane.
    pub normal_window: Duration,
    /// Waiting events that flush the Bulk lane.
    pub bulk_flush_records: usize,
    /// Age of the oldest waiting event that flushes the Bulk lane.
    pub bulk_flush_age: Duration,
}

/// The admin alerts' settings (see [`crate::alerts::AlertConfig::from_settings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// Where alerts are posted; `None` logs them only. Shows as scheme and host in `Debug`.
    pub webhook_url: Option<crate::alerts::WebhookUrl>,
    /// The shortest time between two alerts of one kind.
    pub min_interval: Duration,
    /// The age of the oldest queued event over which the lag alert fires.
    pub lag_threshold: Duration,
}

/// The whole configuration, resolved and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The SQLite database file.
    pub database: PathBuf,
    /// How logs are written.
    pub log_format: LogFormat,
    /// The receiver.
    pub receiver: ReceiverConfig,
    /// The Stripe API.
    pub stripe: StripeConfig,
    /// Salesforce.
    pub salesforce: SalesforceConfig,
    /// The worker.
    pub worker: WorkerSettings,
    /// The admin alerts.
    pub alerts: AlertSettings,
    /// Salesforce → Stripe.
    pub outbound: OutboundSettings,
}

/// The Salesforce → Stripe settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSettings {
    /// Pause between two polls.
    pub interval: Duration,
    /// Checkout links, when both URLs are set.
    pub checkout: Option<CheckoutSettings>,
}

/// Where Checkout sends the customer, and how long a link lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSettings {
    /// After paying.
    pub success_url: String,
    /// After cancelling.
    pub cancel_url: String,
    /// Life of a link.
    pub expires_after: Duration,
}

/// The configuration file's values, flattened to dotted keys, as text.
#[derive(Clone, Default)]
pub struct FileValues {
    /// The file, for messages.
    path: PathBuf,
    /// `section.key` → value.
    values: BTreeMap<String, String>,
}

impl fmt::Debug for FileValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileValues")
            .field("path", &self.path)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl FileValues {
    /// Reads and checks the TOML file at `path`.
    pub fn read(path: &Path) -> Result<FileValues, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        FileValues::parse(path, &text)
    }

    /// Parses TOML `text` (read from `path`), rejecting keys that are no setting.
    pub fn parse(path: &Path, text: &str) -> Result<FileValues, ConfigError> {
        let table: toml::Table =
            text.parse()
                .map_err(|error: toml::de::Error| ConfigError::ParseFile {
                    path: path.to_owned(),
                    message: error.message().to_owned(),
                })?;
        let mut values = BTreeMap::new();
        flatten(path, "", &table, &mut values)?;
        Ok(FileValues {
            path: path.to_owned(),
            values,
        })
    }

    /// The value of `setting`, as text.
    fn get(&self, setting: Setting) -> Option<&str> {
        self.values.get(setting.key).map(String::as_str)
    }
}

/// Flattens `table` under `prefix` into `out`, checking every key against [`SETTINGS`].
fn flatten(
    path: &Path,
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    for (name, value) in table {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let setting = SETTINGS.iter().copied().find(|s| s.key == key);
        let text = match (value, setting) {
            (toml::Value::Table(inner), None)
                if SETTINGS
                    .iter()
                    .any(|s| s.key.starts_with(&format!("{key}."))) =>
            {
                flatten(path, &key, inner, out)?;
                continue;
            }
            (_, None) => {
                return Err(ConfigError::UnknownKey {
                    path: path.to_owned(),
                    key,
                });
            }
            (toml::Value::String(s), Some(_)) => s.clone(),
            (toml::Value::Integer(i), Some(_)) => i.to_string(),
            (toml::Value::Boolean(b), Some(_)) => b.to_string(),
            (toml::Value::Array(items), Some(setting)) if setting == WEBHOOK_SECRETS => {
                let mut secrets = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        toml::Value::String(s) => secrets.push(s.clone()),
                        _ => {
                            return Err(ConfigError::Invalid {
                                setting,
                                reason: "expected an array of strings".to_owned(),
                            });
                        }
                    }
                }
                secrets.join(",")
            }
            (other, Some(setting)) => {
                return Err(ConfigError::Invalid {
                    setting,
                    reason: format!(
                        "unexpected TOML {} in the configuration file",
                        other.type_str()
                    ),
                });
            }
        };
        out.insert(key, text);
    }
    Ok(())
}

/// Where values come from: flags and environment first, then the file.
struct Sources<'a> {
    /// The file's values, if a file was given.
    file: Option<&'a FileValues>,
}

impl Sources<'_> {
    /// The trimmed, non-empty value of `setting`: `given` (flag or environment) or the file's.
    fn pick(&self, setting: Setting, given: Option<&str>) -> Option<String> {
        given
            .or_else(|| self.file.and_then(|file| file.get(setting)))
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    }
}

/// Parses `value` of a non-secret `setting` as `T`, naming the setting on failure.
fn parse_number<T: FromStr>(setting: Setting, value: &str, what: &str) -> Result<T, ConfigError> {
    value.parse().map_err(|_| ConfigError::Invalid {
        setting,
        reason: format!("expected {what}, got `{value}`"),
    })
}

/// Parses a boolean (`true`/`false`, `1`/`0`, `yes`/`no`).
fn parse_bool(setting: Setting, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            setting,
            reason: format!("expected `true` or `false`, got `{value}`"),
        }),
    }
}

/// Checks that `value` is an `http(s)://` URL and drops a trailing slash.
fn parse_url(setting: Setting, value: &str) -> Result<String, ConfigError> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => {
            Ok(value.trim_end_matches('/').to_owned())
        }
        _ => Err(ConfigError::Invalid {
            setting,
            reason: format!("expected an http:// or https:// URL, got `{value}`"),
        }),
    }
}

/// A Salesforce User (`005…`) or queue (`00G…`) Id: 15 or 18 letters and digits.
fn parse_owner_id(setting: Setting, value: String) -> Result<String, ConfigError> {
    let shaped = matches!(value.len(), 15 | 18) && value.bytes().all(|b| b.is_ascii_alphanumeric());
    if shaped && (value.starts_with("005") || value.starts_with("00G")) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            setting,
            reason: format!(
                "expected a Salesforce User Id (005…) or queue Id (00G…) of 15 or 18 letters and digits, got `{value}`"
            ),
        })
    }
}

/// A whole number of at least 1.
fn parse_positive<T: FromStr + Default + PartialEq>(
    setting: Setting,
    value: &str,
    what: &str,
) -> Result<T, ConfigError> {
    let number: T = parse_number(setting, value, what)?;
    if number == T::default() {
        return Err(ConfigError::Invalid {
            setting,
            reason: format!("expected {what}, got `{value}`"),
        });
    }
    Ok(number)
}

/// The Salesforce OAuth flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthFlow {
    /// Client id and secret.
    ClientCredentials,
    /// Client id, username and private key.
    JwtBearer,
    /// Client id, refresh token, optional secret.
    RefreshToken,
}

impl Config {
    /// Resolves the configuration from `overrides` (flags and environment) and the file they
    /// name, if any, checking what `needs` asks for.
    pub fn load(overrides: &Overrides, needs: Needs) -> Result<Config, ConfigError> {
        let file = match &overrides.config {
            Some(path) => Some(FileValues::read(path)?),
            None => None,
        };
        Config::resolve(overrides, file.as_ref(), needs)
    }

    /// Resolves the configuration from `overrides` and already-read file values.
    pub fn resolve(
        overrides: &Overrides,
        file: Option<&FileValues>,
        needs: Needs,
    ) -> Result<Config, ConfigError> {
        let src = Sources { file };
        let o = overrides;

        let database = o
            .database
            .clone()
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(|| src.pick(DATABASE, None).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATABASE));

        let log_format = match src.pick(LOG_FORMAT, o.log_format.as_deref()) {
            Some(value) => value.parse().map_err(|reason| ConfigError::Invalid {
                setting: LOG_FORMAT,
                reason,
            })?,
            None => LogFormat::Json,
        };

        let listen_text = src
            .pick(LISTEN, o.listen.as_deref())
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text.parse().map_err(|_| ConfigError::Invalid {
            setting: LISTEN,
            reason: format!(
                "expected an IP address and port such as 127.0.0.1:8080, got `{listen_text}`"
            ),
        })?;

        let max_body = match src.pick(MAX_BODY, o.max_body_bytes.as_deref()) {
            Some(value) => parse_positive(MAX_BODY, &value, "a positive number of bytes")?,
            None => DEFAULT_MAX_BODY,
        };

        let webhook_secrets: Vec<Secret> = src
            .pick(WEBHOOK_SECRETS, o.webhook_secrets.as_deref())
            .map(|joined| {
                joined
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Secret::from)
                    .collect()
            })
            .unwrap_or_default();
        if needs.webhook && webhook_secrets.is_empty() {
            return Err(ConfigError::Missing {
                setting: WEBHOOK_SECRETS,
                why: "the receiver needs at least one Stripe webhook signing secret",
            });
        }
        if let Some(bad) = webhook_secrets
            .iter()
            .position(|s| !s.expose().starts_with("whsec_"))
        {
            return Err(ConfigError::Invalid {
                setting: WEBHOOK_SECRETS,
                reason: format!("secret number {} does not start with `whsec_`", bad + 1),
            });
        }

        let tolerance = match src.pick(WEBHOOK_TOLERANCE, o.webhook_tolerance_secs.as_deref()) {
            Some(value) => Duration::from_secs(parse_positive(
                WEBHOOK_TOLERANCE,
                &value,
                "a positive number of seconds",
            )?),
            None => Duration::from_secs(DEFAULT_TOLERANCE_SECS),
        };

        let livemode = match src.pick(LIVEMODE, o.livemode.as_deref()) {
            Some(value) => parse_bool(LIVEMODE, &value)?,
            None => false,
        };

        let stripe = StripeConfig {
            secret_key: src
                .pick(STRIPE_SECRET_KEY, o.stripe_secret_key.as_deref())
                .map(Secret::from),
            api_base: parse_url(
                STRIPE_API_BASE,
                &src.pick(STRIPE_API_BASE, o.stripe_api_base.as_deref())
                    .unwrap_or_else(|| DEFAULT_STRIPE_API_BASE.to_owned()),
            )?,
        };
        if let Some(key) = &stripe.secret_key
            && !["sk_", "rk_"].iter().any(|p| key.expose().starts_with(p))
        {
            return Err(ConfigError::Invalid {
                setting: STRIPE_SECRET_KEY,
                reason: "expected a key starting with `sk_` or `rk_`".to_owned(),
            });
        }

        let login_url = parse_url(
            SALESFORCE_LOGIN_URL,
            &src.pick(SALESFORCE_LOGIN_URL, o.salesforce_login_url.as_deref())
                .unwrap_or_else(|| DEFAULT_LOGIN_URL.to_owned()),
        )?;
        let credentials = salesforce_credentials(&src, o, needs.salesforce)?;
        let task_owner_finance = src
            .pick(
                SALESFORCE_TASK_OWNER_FINANCE,
                o.salesforce_task_owner_finance.as_deref(),
            )
            .map(|v| parse_owner_id(SALESFORCE_TASK_OWNER_FINANCE, v))
            .transpose()?;
        let task_owner_service = src
            .pick(
                SALESFORCE_TASK_OWNER_SERVICE,
                o.salesforce_task_owner_service.as_deref(),
            )
            .map(|v| parse_owner_id(SALESFORCE_TASK_OWNER_SERVICE, v))
            .transpose()?;

        let worker = WorkerSettings {
            batch_size: match src.pick(WORKER_BATCH_SIZE, o.worker_batch_size.as_deref()) {
                Some(v) => parse_positive(WORKER_BATCH_SIZE, &v, "a positive whole number")?,
                None => DEFAULT_BATCH_SIZE,
            },
            lease: Duration::from_secs(
                match src.pick(WORKER_LEASE, o.worker_lease_secs.as_deref()) {
                    Some(v) => parse_positive(WORKER_LEASE, &v, "a positive number of seconds")?,
                    None => DEFAULT_LEASE_SECS,
                },
            ),
            calls_per_minute: match src.pick(
                WORKER_CALLS_PER_MINUTE,
                o.worker_calls_per_minute.as_deref(),
            ) {
                Some(v) => parse_positive(WORKER_CALLS_PER_MINUTE, &v, "a positive whole number")?,
                None => DEFAULT_CALLS_PER_MINUTE,
            },
            calls_per_day: match src.pick(WORKER_CALLS_PER_DAY, o.worker_calls_per_day.as_deref()) {
                Some(v) => parse_positive(WORKER_CALLS_PER_DAY, &v, "a positive whole number")?,
                None => DEFAULT_CALLS_PER_DAY,
            },
            quota_share_percent: match src
                .pick(WORKER_QUOTA_SHARE, o.worker_quota_share_percent.as_deref())
            {
                Some(v) => {
                    let percent: u8 =
                        parse_number(WORKER_QUOTA_SHARE, &v, "a percentage from 0 to 100")?;
                    if percent > 100 {
                        return Err(ConfigError::Invalid {
                            setting: WORKER_QUOTA_SHARE,
                            reason: format!("expected a percentage from 0 to 100, got `{v}`"),
                        });
                    }
                    percent
                }
                None => DEFAULT_QUOTA_SHARE_PERCENT,
            },
            high_window: Duration::from_millis(
                match src.pick(HIGH_WINDOW, o.worker_high_window_ms.as_deref()) {
                    Some(v) => parse_number(HIGH_WINDOW, &v, "a whole number of milliseconds")?,
                    None => DEFAULT_HIGH_WINDOW_MS,
                },
            ),
            normal_window: Duration::from_millis(
                match src.pick(NORMAL_WINDOW, o.worker_normal_window_ms.as_deref()) {
                    Some(v) => parse_number(NORMAL_WINDOW, &v, "a whole number of milliseconds")?,
                    None => DEFAULT_NORMAL_WINDOW_MS,
                },
            ),
            bulk_flush_records: match src.pick(BULK_FLUSH_RECORDS, o.bulk_flush_records.as_deref())
            {
                Some(v) => parse_positive(BULK_FLUSH_RECORDS, &v, "a positive whole number")?,
                None => DEFAULT_BULK_FLUSH_RECORDS,
            },
            bulk_flush_age: Duration::from_secs(
                match src.pick(BULK_FLUSH_SECS, o.bulk_flush_secs.as_deref()) {
                    Some(v) => parse_number(BULK_FLUSH_SECS, &v, "a whole number of seconds")?,
                    None => DEFAULT_BULK_FLUSH_SECS,
                },
            ),
        };

        if needs.stripe && stripe.secret_key.is_none() {
            return Err(ConfigError::Missing {
                setting: STRIPE_SECRET_KEY,
                why: "sending Contacts and subscriptions to Stripe needs a Stripe secret key",
            });
        }
        let success_url = src
            .pick(CHECKOUT_SUCCESS_URL, o.checkout_success_url.as_deref())
            .map(|v| parse_url(CHECKOUT_SUCCESS_URL, &v))
            .transpose()?;
        let cancel_url = src
            .pick(CHECKOUT_CANCEL_URL, o.checkout_cancel_url.as_deref())
            .map(|v| parse_url(CHECKOUT_CANCEL_URL, &v))
            .transpose()?;
        let expires_secs: u64 = match src.pick(CHECKOUT_EXPIRES, o.checkout_expires_secs.as_deref())
        {
            Some(v) => {
                let secs = parse_number(CHECKOUT_EXPIRES, &v, "a number of seconds")?;
                if !(1_800..=86_400).contains(&secs) {
                    return Err(ConfigError::Invalid {
                        setting: CHECKOUT_EXPIRES,
                        reason: format!(
                            "Stripe keeps Checkout links 1800 to 86400 seconds, got `{v}`"
                        ),
                    });
                }
                secs
            }
            None => DEFAULT_CHECKOUT_EXPIRES_SECS,
        };
        let checkout = match (success_url, cancel_url) {
            (Some(success_url), Some(cancel_url)) => Some(CheckoutSettings {
                success_url,
                cancel_url,
                expires_after: Duration::from_secs(expires_secs),
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::Missing {
                    setting: CHECKOUT_CANCEL_URL,
                    why: "Checkout links need both a success and a cancel URL",
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError::Missing {
                    setting: CHECKOUT_SUCCESS_URL,
                    why: "Checkout links need both a success and a cancel URL",
                });
            }
        };
        let outbound = OutboundSettings {
            interval: Duration::from_secs(
                match src.pick(OUTBOUND_INTERVAL, o.outbound_interval_secs.as_deref()) {
                    Some(v) => {
                        parse_positive(OUTBOUND_INTERVAL, &v, "a positive number of seconds")?
                    }
                    None => DEFAULT_OUTBOUND_INTERVAL_SECS,
                },
            ),
            checkout,
        };

        let alerts = AlertSettings {
            webhook_url: match src.pick(ALERT_WEBHOOK_URL, o.alert_webhook_url.as_deref()) {
                Some(v) => Some(crate::alerts::WebhookUrl::parse(&v).map_err(|error| {
                    ConfigError::Invalid {
                        setting: ALERT_WEBHOOK_URL,
                        reason: match error {
                            crate::alerts::AlertError::InvalidUrl { reason } => reason,
                            other => other.to_string(),
                        },
                    }
                })?),
                None => None,
            },
            min_interval: Duration::from_secs(
                match src.pick(ALERT_MIN_INTERVAL, o.alert_min_interval_secs.as_deref()) {
                    Some(v) => parse_number(ALERT_MIN_INTERVAL, &v, "a whole number of seconds")?,
                    None => DEFAULT_ALERT_MIN_INTERVAL_SECS,
                },
            ),
            lag_threshold: Duration::from_secs(
                match src.pick(ALERT_LAG, o.alert_lag_secs.as_deref()) {
                    Some(v) => parse_positive(ALERT_LAG, &v, "a positive number of seconds")?,
                    None => DEFAULT_ALERT_LAG_SECS,
                },
            ),
        };

        Ok(Config {
            database,
            log_format,
            receiver: ReceiverConfig {
                listen,
                max_body,
                webhook_secrets,
                tolerance,
                livemode,
            },
            stripe,
            salesforce: SalesforceConfig {
                login_url,
                credentials,
                task_owner_finance,
                task_owner_service,
            },
            worker,
            alerts,
            outbound,
        })
    }
}

/// The Salesforce credentials of the chosen flow: required if `needed`, else built only when a
/// client id is given.
fn salesforce_credentials(
    src: &Sources<'_>,
    o: &Overrides,
    needed: bool,
) -> Result<Option<Credentials>, ConfigError> {
    let flow = match src.pick(SALESFORCE_AUTH_FLOW, o.salesforce_auth_flow.as_deref()) {
        None => AuthFlow::ClientCredentials,
        Some(value) => match value.as_str() {
            "client_credentials" => AuthFlow::ClientCredentials,
            "jwt_bearer" => AuthFlow::JwtBearer,
            "refresh_token" => AuthFlow::RefreshToken,
            other => {
                return Err(ConfigError::Invalid {
                    setting: SALESFORCE_AUTH_FLOW,
                    reason: format!(
                        "expected `client_credentials`, `jwt_bearer` or `refresh_token`, got `{other}`"
                    ),
                });
            }
        },
    };
    let client_id = src.pick(SALESFORCE_CLIENT_ID, o.salesforce_client_id.as_deref());
    let Some(client_id) = client_id else {
        if needed {
            return Err(ConfigError::Missing {
                setting: SALESFORCE_CLIENT_ID,
                why: "the worker needs the consumer key of the Salesforce connected app",
            });
        }
        return Ok(None);
    };
    let client_secret = src
        .pick(
            SALESFORCE_CLIENT_SECRET,
            o.salesforce_client_secret.as_deref(),
        )
        .map(Secret::from);
    let credentials = match flow {
        AuthFlow::ClientCredentials => {
            let secret = client_secret.ok_or(ConfigError::Missing {
                setting: SALESFORCE_CLIENT_SECRET,
                why: "the client_credentials flow needs the consumer secret",
            })?;
            Credentials::client_credentials(client_id, secret)
        }
        AuthFlow::RefreshToken => {
            let token = src
                .pick(
                    SALESFORCE_REFRESH_TOKEN,
                    o.salesforce_refresh_token.as_deref(),
                )
                .ok_or(ConfigError::Missing {
                    setting: SALESFORCE_REFRESH_TOKEN,
                    why: "the refresh_token flow needs a refresh token",
                })?;
            Credentials::refresh_token(client_id, client_secret, Secret::from(token))
        }
        AuthFlow::JwtBearer => {
            let username = src
                .pick(SALESFORCE_USERNAME, o.salesforce_username.as_deref())
                .ok_or(ConfigError::Missing {
                    setting: SALESFORCE_USERNAME,
                    why: "the jwt_bearer flow needs the Salesforce username to log in as",
                })?;
            let key_path = o
                .salesforce_private_key_file
                .clone()
                .filter(|p| !p.as_os_str().is_empty())
                .or_else(|| {
                    src.pick(SALESFORCE_PRIVATE_KEY_FILE, None)
                        .map(PathBuf::from)
                })
                .ok_or(ConfigError::Missing {
                    setting: SALESFORCE_PRIVATE_KEY_FILE,
                    why: "the jwt_bearer flow needs the PEM file of the private key",
                })?;
            let pem = Secret::new(std::fs::read_to_string(&key_path).map_err(|source| {
                ConfigError::ReadKey {
                    setting: SALESFORCE_PRIVATE_KEY_FILE,
                    path: key_path.clone(),
                    source,
                }
            })?);
            Credentials::jwt_bearer(client_id, username, pem.expose()).map_err(|_| {
                ConfigError::Invalid {
                    setting: SALESFORCE_PRIVATE_KEY_FILE,
                    reason: format!("{} is not an RSA private key in PEM", key_path.display()),
                }
            })?
        }
    };
    Ok(Some(credentials))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolves with no file.
    fn resolve(o: &Overrides, needs: Needs) -> Result<Config, ConfigError> {
        Config::resolve(o, None, needs)
    }

    /// The file values of `text`.
    fn file(text: &str) -> FileValues {
        FileValues::parse(Path::new("test.toml"), text).unwrap()
    }

    /// Asserts `result` is an invalid-setting error for `setting`, returning its message.
    fn invalid(result: Result<Config, ConfigError>, setting: Setting) -> String {
        match result {
            Err(error @ ConfigError::Invalid { setting: s, .. }) if s == setting => {
                let message = error.to_string();
                assert!(message.contains(setting.env), "{message}");
                assert!(message.contains(setting.key), "{message}");
                message
            }
            other => panic!("expected invalid {setting}, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let config = resolve(&Overrides::default(), Needs::default()).unwrap();
        assert_eq!(config.database, PathBuf::from("./stripe-sfdc-sync.db"));
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.receiver.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.receiver.max_body, 512 * 1024);
        assert_eq!(config.receiver.tolerance, Duration::from_secs(300));
        assert!(!config.receiver.livemode);
        assert!(config.receiver.webhook_secrets.is_empty());
        assert_eq!(config.salesforce.login_url, "https://login.salesforce.com");
        assert!(config.salesforce.credentials.is_none());
        assert_eq!(config.stripe.api_base, "https://api.stripe.com");
        assert!(config.stripe.secret_key.is_none());
        assert_eq!(
            config.worker,
            WorkerSettings {
                batch_size: 200,
                lease: Duration::from_secs(60),
                calls_per_minute: 1_000,
                calls_per_day: 100_000,
                quota_share_percent: 80,
                high_window: Duration::from_millis(500),
                normal_window: Duration::from_secs(2),
                bulk_flush_records: 2_000,
                bulk_flush_age: Duration::from_secs(30),
            }
        );
    }

    #[test]
    fn webhook_secrets_are_split_and_hidden() {
        let o = Overrides {
            webhook_secrets: Some(" whsec_one , whsec_two,".into()),
            ..Overrides::default()
        };
        let config = resolve(
            &o,
            Needs {
                webhook: true,
                salesforce: false,
                stripe: false,
            },
        )
        .unwrap();
        let secrets: Vec<&str> = config
            .receiver
            .webhook_secrets
            .iter()
            .map(Secret::expose)
            .collect();
        assert_eq!(secrets, ["whsec_one", "whsec_two"]);
        let debug = format!("{config:?} {o:?}");
        assert!(!debug.contains("whsec_one"), "{debug}");
        assert!(debug.contains("***"), "{debug}");
    }

    #[test]
    fn missing_webhook_secrets_name_the_setting() {
        let error = resolve(
            &Overrides::default(),
            Needs {
                webhook: true,
                salesforce: false,
                stripe: false,
            },
        )
        .unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, ConfigError::Missing { setting, .. } if setting == WEBHOOK_SECRETS)
        );
        assert!(message.contains("STRIPE_WEBHOOK_SECRETS"), "{message}");
        assert!(message.contains("stripe.webhook_secrets"), "{message}");
    }

    #[test]
    fn webhook_secret_without_prefix_is_rejected_without_echoing_it() {
        let o = Overrides {
            webhook_secrets: Some("whsec_ok,hunter2".into()),
            ..Overrides::default()
        };
        let message = invalid(resolve(&o, Needs::default()), WEBHOOK_SECRETS);
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("number 2"), "{message}");
    }

    #[test]
    fn invalid_values_name_their_setting() {
        let cases: Vec<(Overrides, Setting)> = vec![
            (
                Overrides {
                    listen: Some("localhost".into()),
                    ..Default::default()
                },
                LISTEN,
            ),
            (
                Overrides {
                    max_body_bytes: Some("0".into()),
                    ..Default::default()
                },
                MAX_BODY,
            ),
            (
                Overrides {
                    max_body_bytes: Some("1MB".into()),
                    ..Default::default()
                },
                MAX_BODY,
            ),
            (
                Overrides {
                    webhook_tolerance_secs: Some("-1".into()),
                    ..Default::default()
                },
                WEBHOOK_TOLERANCE,
            ),
            (
                Overrides {
                    livemode: Some("maybe".into()),
                    ..Default::default()
                },
                LIVEMODE,
            ),
            (
                Overrides {
                    log_format: Some("xml".into()),
                    ..Default::default()
                },
                LOG_FORMAT,
            ),
            (
                Overrides {
                    stripe_api_base: Some("api.stripe.com".into()),
                    ..Default::default()
                },
                STRIPE_API_BASE,
            ),
            (
                Overrides {
                    stripe_secret_key: Some("pk_test_x".into()),
                    ..Default::default()
                },
                STRIPE_SECRET_KEY,
            ),
            (
                Overrides {
                    salesforce_login_url: Some("ftp://x".into()),
                    ..Default::default()
                },
                SALESFORCE_LOGIN_URL,
            ),
            (
                Overrides {
                    salesforce_auth_flow: Some("password".into()),
                    ..Default::default()
                },
                SALESFORCE_AUTH_FLOW,
            ),
            (
                Overrides {
                    worker_batch_size: Some("0".into()),
                    ..Default::default()
                },
                WORKER_BATCH_SIZE,
            ),
            (
                Overrides {
                    worker_lease_secs: Some("soon".into()),
                    ..Default::default()
                },
                WORKER_LEASE,
            ),
            (
                Overrides {
                    worker_calls_per_minute: Some("x".into()),
                    ..Default::default()
                },
                WORKER_CALLS_PER_MINUTE,
            ),
            (
                Overrides {
                    worker_calls_per_day: Some("0".into()),
                    ..Default::default()
                },
                WORKER_CALLS_PER_DAY,
            ),
            (
                Overrides {
                    bulk_flush_records: Some("0".into()),
                    ..Default::default()
                },
                BULK_FLUSH_RECORDS,
            ),
            (
                Overrides {
                    worker_high_window_ms: Some("soon".into()),
                    ..Default::default()
                },
                HIGH_WINDOW,
            ),
            (
                Overrides {
                    bulk_flush_secs: Some("-1".into()),
                    ..Default::default()
                },
                BULK_FLUSH_SECS,
            ),
            (
                Overrides {
                    worker_quota_share_percent: Some("101".into()),
                    ..Default::default()
                },
                WORKER_QUOTA_SHARE,
            ),
        ];
        for (o, setting) in cases {
            invalid(resolve(&o, Needs::default()), setting);
        }
    }

    #[test]
    fn secrets_are_not_echoed_in_errors() {
        let o = Overrides {
            stripe_secret_key: Some("pk_live_secretvalue".into()),
            ..Overrides::default()
        };
        let message = invalid(resolve(&o, Needs::default()), STRIPE_SECRET_KEY);
        assert!(!message.contains("secretvalue"), "{message}");
    }

    #[test]
    fn outbound_settings() {
        let config = resolve(&Overrides::default(), Needs::default()).unwrap();
        assert_eq!(config.outbound.interval, Duration::from_secs(5));
        assert_eq!(config.outbound.checkout, None);
        let o = Overrides {
            outbound_interval_secs: Some("2".into()),
            checkout_success_url: Some("https://example.com/welcome".into()),
            checkout_cancel_url: Some("https://example.com/pricing/".into()),
            checkout_expires_secs: Some("3600".into()),
            ..Overrides::default()
        };
        let config = resolve(&o, Needs::default()).unwrap();
        assert_eq!(config.outbound.interval, Duration::from_secs(2));
        assert_eq!(
            config.outbound.checkout,
            Some(CheckoutSettings {
                success_url: "https://example.com/welcome".into(),
                cancel_url: "https://example.com/pricing".into(),
                expires_after: Duration::from_secs(3600),
            })
        );
        let only_success = Overrides {
            checkout_success_url: Some("https://example.com/welcome".into()),
            ..Overrides::default()
        };
        assert!(matches!(
            resolve(&only_success, Needs::default()),
            Err(ConfigError::Missing { setting, .. }) if setting == CHECKOUT_CANCEL_URL
        ));
        let too_long = Overrides {
            checkout_success_url: Some("https://example.com/a".into()),
            checkout_cancel_url: Some("https://example.com/b".into()),
            checkout_expires_secs: Some("90000".into()),
            ..Overrides::default()
        };
        invalid(resolve(&too_long, Needs::default()), CHECKOUT_EXPIRES);
        let needs_stripe = Needs {
            stripe: true,
            ..Needs::default()
        };
        assert!(matches!(
            resolve(&Overrides::default(), needs_stripe),
            Err(ConfigError::Missing { setting, .. }) if setting == STRIPE_SECRET_KEY
        ));
    }

    #[test]
    fn values_parse() {
        let o = Overrides {
            listen: Some("0.0.0.0:9000".into()),
            max_body_bytes: Some("1024".into()),
            webhook_tolerance_secs: Some("60".into()),
            livemode: Some("TRUE".into()),
            log_format: Some("text".into()),
            stripe_api_base: Some("http://127.0.0.1:12111/".into()),
            stripe_secret_key: Some("rk_test_1".into()),
            salesforce_login_url: Some("https://test.salesforce.com/".into()),
            worker_batch_size: Some("50".into()),
            worker_lease_secs: Some("30".into()),
            worker_calls_per_minute: Some("10".into()),
            worker_calls_per_day: Some("1000".into()),
            worker_quota_share_percent: Some("0".into()),
            worker_high_window_ms: Some("100".into()),
            worker_normal_window_ms: Some("0".into()),
            bulk_flush_records: Some("10".into()),
            bulk_flush_secs: Some("5".into()),
            ..Overrides::default()
        };
        let config = resolve(&o, Needs::default()).unwrap();
        assert_eq!(config.worker.high_window, Duration::from_millis(100));
        assert_eq!(config.worker.normal_window, Duration::ZERO);
        assert_eq!(config.worker.bulk_flush_records, 10);
        assert_eq!(config.worker.bulk_flush_age, Duration::from_secs(5));
        assert_eq!(config.receiver.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(config.receiver.max_body, 1024);
        assert_eq!(config.receiver.tolerance, Duration::from_secs(60));
        assert!(config.receiver.livemode);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.stripe.api_base, "http://127.0.0.1:12111");
        assert_eq!(config.salesforce.login_url, "https://test.salesforce.com");
        assert_eq!(config.worker.batch_size, 50);
        assert_eq!(config.worker.lease, Duration::from_secs(30));
        assert_eq!(config.worker.calls_per_minute, 10);
        assert_eq!(config.worker.calls_per_day, 1000);
        assert_eq!(config.worker.quota_share_percent, 0);
    }

    #[test]
    fn file_values_apply_and_environment_wins() {
        let values = file(
            r#"
            database = "/var/lib/sync.db"
            log_format = "text"
            [receiver]
            listen = "127.0.0.1:9999"
            max_body_bytes = 2048
            [stripe]
            webhook_secrets = ["whsec_a", "whsec_b"]
            livemode = true
            webhook_tolerance_secs = 10
            [worker]
            batch_size = 7
            "#,
        );
        let o = Overrides {
            listen: Some("127.0.0.1:1234".into()),
            ..Overrides::default()
        };
        let config = Config::resolve(
            &o,
            Some(&values),
            Needs {
                webhook: true,
                salesforce: false,
                stripe: false,
            },
        )
        .unwrap();
        assert_eq!(config.database, PathBuf::from("/var/lib/sync.db"));
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.receiver.listen, "127.0.0.1:1234".parse().unwrap());
        assert_eq!(config.receiver.max_body, 2048);
        assert_eq!(config.receiver.webhook_secrets.len(), 2);
        assert!(config.receiver.livemode);
        assert_eq!(config.receiver.tolerance, Duration::from_secs(10));
        assert_eq!(config.worker.batch_size, 7);
        assert!(!format!("{values:?}").contains("whsec_a"));
    }

    #[test]
    fn file_errors_name_the_key() {
        let error =
            FileValues::parse(Path::new("c.toml"), "[receiver]\nlisen = \"x\"").unwrap_err();
        assert!(error.to_string().contains("receiver.lisen"), "{error}");
        assert!(matches!(error, ConfigError::UnknownKey { .. }));

        let error =
            FileValues::parse(Path::new("c.toml"), "[worker]\nbatch_size = 1.5").unwrap_err();
        assert!(error.to_string().contains("worker.batch_size"), "{error}");

        let error = FileValues::parse(Path::new("c.toml"), "database = ").unwrap_err();
        assert!(matches!(error, ConfigError::ParseFile { .. }), "{error}");
        assert!(error.to_string().contains("c.toml"), "{error}");

        let values = file("[worker]\nquota_share_percent = 150");
        let result = Config::resolve(&Overrides::default(), Some(&values), Needs::default());
        invalid(result, WORKER_QUOTA_SHARE);

        let error = FileValues::read(Path::new("/nonexistent/sync.toml")).unwrap_err();
        assert!(error.to_string().contains("SYNC_CONFIG"), "{error}");
    }

    #[test]
    fn salesforce_client_credentials() {
        let o = Overrides {
            salesforce_client_id: Some("id".into()),
            salesforce_client_secret: Some("s3cr3t".into()),
            ..Overrides::default()
        };
        let config = resolve(
            &o,
            Needs {
                webhook: false,
                salesforce: true,
                stripe: false,
            },
        )
        .unwrap();
        let credentials = config.salesforce.credentials.unwrap();
        assert_eq!(credentials.flow(), "client_credentials");
        assert!(!format!("{credentials:?}").contains("s3cr3t"));
    }

    #[test]
    fn salesforce_missing_settings_are_named() {
        let needs = Needs {
            webhook: false,
            salesforce: true,
            stripe: false,
        };
        let missing = |o: Overrides, setting: Setting| match resolve(&o, needs) {
            Err(error @ ConfigError::Missing { setting: s, .. }) if s == setting => {
                assert!(error.to_string().contains(setting.env), "{error}");
            }
            other => panic!("expected missing {setting}, got {other:?}"),
        };
        missing(Overrides::default(), SALESFORCE_CLIENT_ID);
        missing(
            Overrides {
                salesforce_client_id: Some("id".into()),
                ..Default::default()
            },
            SALESFORCE_CLIENT_SECRET,
        );
        missing(
            Overrides {
                salesforce_client_id: Some("id".into()),
                salesforce_auth_flow: Some("refresh_token".into()),
                ..Default::default()
            },
            SALESFORCE_REFRESH_TOKEN,
        );
        missing(
            Overrides {
                salesforce_client_id: Some("id".into()),
                salesforce_auth_flow: Some("jwt_bearer".into()),
                ..Default::default()
            },
            SALESFORCE_USERNAME,
        );
        missing(
            Overrides {
                salesforce_client_id: Some("id".into()),
                salesforce_auth_flow: Some("jwt_bearer".into()),
                salesforce_username: Some("u@example.com".into()),
                ..Default::default()
            },
            SALESFORCE_PRIVATE_KEY_FILE,
        );
    }

    #[test]
    fn salesforce_refresh_token_and_jwt_key_errors() {
        let o = Overrides {
            salesforce_client_id: Some("id".into()),
            salesforce_auth_flow: Some("refresh_token".into()),
            salesforce_refresh_token: Some("5Aep".into()),
            ..Overrides::default()
        };
        let config = resolve(
            &o,
            Needs {
                webhook: false,
                salesforce: true,
                stripe: false,
            },
        )
        .unwrap();
        assert_eq!(
            config.salesforce.credentials.unwrap().flow(),
            "refresh_token"
        );

        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        std::fs::write(&key, "not a key").unwrap();
        let jwt = |path: PathBuf| Overrides {
            salesforce_client_id: Some("id".into()),
            salesforce_auth_flow: Some("jwt_bearer".into()),
            salesforce_username: Some("u@example.com".into()),
            salesforce_private_key_file: Some(path),
            ..Overrides::default()
        };
        invalid(
            resolve(&jwt(key), Needs::default()),
            SALESFORCE_PRIVATE_KEY_FILE,
        );
        let error = resolve(&jwt(dir.path().join("absent.pem")), Needs::default()).unwrap_err();
        assert!(matches!(error, ConfigError::ReadKey { .. }), "{error}");
        assert!(
            error.to_string().contains("SALESFORCE_PRIVATE_KEY_FILE"),
            "{error}"
        );
    }

    #[test]
    fn alert_settings() {
        let config = resolve(&Overrides::default(), Needs::default()).unwrap();
        assert_eq!(
            config.alerts,
            AlertSettings {
                webhook_url: None,
                min_interval: Duration::from_secs(300),
                lag_threshold: Duration::from_secs(300),
            }
        );

        let o = Overrides {
            alert_webhook_url: Some("https://hooks.slack.com/services/T1/B2/s3cr3t".into()),
            alert_min_interval_secs: Some("0".into()),
            alert_lag_secs: Some("60".into()),
            ..Overrides::default()
        };
        let config = resolve(&o, Needs::default()).unwrap();
        let url = config.alerts.webhook_url.as_ref().unwrap();
        assert_eq!(url.expose().path(), "/services/T1/B2/s3cr3t");
        assert_eq!(config.alerts.min_interval, Duration::ZERO);
        assert_eq!(config.alerts.lag_threshold, Duration::from_secs(60));
        let debug = format!("{config:?} {o:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");

        let values = file("[alerts]\nwebhook_url = \"http://127.0.0.1:9000/hook\"\nlag_secs = 30");
        let config =
            Config::resolve(&Overrides::default(), Some(&values), Needs::default()).unwrap();
        assert_eq!(config.alerts.lag_threshold, Duration::from_secs(30));
        assert!(config.alerts.webhook_url.is_some());

        let bad_url = Overrides {
            alert_webhook_url: Some("hooks.slack.com/services/T1/B2/s3cr3t".into()),
            ..Overrides::default()
        };
        let message = invalid(resolve(&bad_url, Needs::default()), ALERT_WEBHOOK_URL);
        assert!(!message.contains("s3cr3t"), "{message}");
        let bad_lag = Overrides {
            alert_lag_secs: Some("0".into()),
            ..Overrides::default()
        };
        invalid(resolve(&bad_lag, Needs::default()), ALERT_LAG);
        let bad_interval = Overrides {
            alert_min_interval_secs: Some("5m".into()),
            ..Overrides::default()
        };
        invalid(resolve(&bad_interval, Needs::default()), ALERT_MIN_INTERVAL);
    }

    #[test]
    fn task_owners_are_user_or_queue_ids() {
        let config = resolve(&Overrides::default(), Needs::default()).unwrap();
        assert_eq!(config.salesforce.task_owner_finance, None);
        assert_eq!(config.salesforce.task_owner_service, None);
        let given = Overrides {
            salesforce_task_owner_finance: Some(" 005000000000001AAA ".into()),
            salesforce_task_owner_service: Some("00G000000000002".into()),
            ..Overrides::default()
        };
        let config = resolve(&given, Needs::default()).unwrap();
        assert_eq!(
            config.salesforce.task_owner_finance.as_deref(),
            Some("005000000000001AAA")
        );
        assert_eq!(
            config.salesforce.task_owner_service.as_deref(),
            Some("00G000000000002")
        );
        let values = file("[salesforce]\ntask_owner_service = \"005000000000003AAA\"");
        let config = Config::resolve(&Overrides::default(), Some(&values), Needs::default());
        let config = config.unwrap();
        assert_eq!(
            config.salesforce.task_owner_service.as_deref(),
            Some("005000000000003AAA")
        );
        for bad in ["003000000000001AAA", "005-not-an-id", "0050000000000"] {
            let overrides = Overrides {
                salesforce_task_owner_finance: Some(bad.into()),
                ..Overrides::default()
            };
            let message = invalid(
                resolve(&overrides, Needs::default()),
                SALESFORCE_TASK_OWNER_FINANCE,
            );
            assert!(message.contains(bad), "{message}");
        }
        let overrides = Overrides {
            salesforce_task_owner_service: Some("not an id".into()),
            ..Overrides::default()
        };
        invalid(
            resolve(&overrides, Needs::default()),
            SALESFORCE_TASK_OWNER_SERVICE,
        );
    }

    #[test]
    fn every_setting_has_a_distinct_env_flag_and_key() {
        for (i, a) in SETTINGS.iter().enumerate() {
            for b in &SETTINGS[i + 1..] {
                assert_ne!(a.env, b.env);
                assert_ne!(a.flag, b.flag);
                assert_ne!(a.key, b.key);
            }
        }
    }
}
