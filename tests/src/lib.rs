//! A local Salesforce org for tests: an HTTP server on 127.0.0.1 that speaks the REST API
//! (sObjects, upsert by external id, sObject Collections, Composite, SOQL query with
//! pagination, limits), Bulk API 2.0 ingest and OAuth 2.0, and enforces the force-app data
//! model through `sfdc-types` the way a real org does.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use sfdc_sim::{Fault, FaultKind, SimConfig, Simulator};
//!
//! let sim = Simulator::start(SimConfig::default()).await?;
//! // POST {url}/services/oauth2/token (client_credentials, test-client / test-secret),
//! // then call {url}/services/data/v62.0/… with the access token.
//! sim.inject(Fault::once(FaultKind::Status(503)));
//! assert_eq!(sim.api_calls(), 0);
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Endpoints (REST ones under `/services/data/vXX.X`, 20.0 up to the configured version):
//!
//! - `POST /services/oauth2/token`: client credentials, refresh token, JWT bearer
//! - `GET /services/data`: versions; `GET /`: resources; `GET /limits`
//! - `GET /sobjects`, `GET /sobjects/{object}`, `GET /sobjects/{object}/describe`
//! - `POST /sobjects/{object}`; `GET`, `PATCH`, `DELETE /sobjects/{object}/{id}`
//! - `PATCH` (upsert), `GET`, `DELETE /sobjects/{object}/{externalIdField}/{value}`
//! - `POST`, `PATCH`, `DELETE /composite/sobjects`; `PATCH /composite/sobjects/{object}/{field}`
//! - `POST /composite`
//! - `GET /query?q=`, `GET /query/{locator}-{offset}` (and `queryAll`)
//! - `POST`, `GET /jobs/ingest`; `GET`, `PATCH`, `DELETE /jobs/ingest/{id}`;
//!   `PUT /jobs/ingest/{id}/batches`; `GET /jobs/ingest/{id}/successfulResults`,
//!   `failedResults`, `unprocessedrecords`
//!
//! Where Salesforce is more lenient than `sfdc-types`' strict validator, the simulator is
//! lenient too: extra fraction digits are rounded to the field's scale (only too many
//! integer digits fail with NUMBER_OUTSIDE_VALID_RANGE), a missing or null checkbox is
//! false, and empty text is stored as null.
//!
//! API calls are counted as Salesforce counts them: every authenticated REST call,
//! including those that fail (also with an injected 5xx or UNABLE_TO_LOCK_ROW), but not
//! OAuth token requests, calls rejected for their session, nor calls refused over the
//! daily limit.

mod bulk;
mod collections;
mod composite;
mod defaults;
mod describe;
mod dml;
mod errors;
mod faults;
pub mod ids;
mod jwt;
mod limits;
mod oauth;
mod query;
mod rest;
mod server;
mod soql;
mod store;
mod urlencoded;
mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value as Json};
use sfdc_types::Schema;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use crate::errors::{RecordError, SimError};
pub use crate::faults::{Fault, FaultKind};

use crate::dml::Target;
use crate::server::Shared;
use crate::store::{Org, Txn};

/// An RSA private key (PKCS#8 PEM) for signing JWT bearer assertions in tests; its public
/// half is [`TEST_JWT_PUBLIC_KEY_PEM`]. Never use it for anything real.
pub const TEST_JWT_PRIVATE_KEY_PEM: &str = include_str!("../keys/jwt-test.key.pem");
/// The public key of [`TEST_JWT_PRIVATE_KEY_PEM`], for [`SimConfig::jwt_public_key_pem`].
pub const TEST_JWT_PUBLIC_KEY_PEM: &str = include_str!("../keys/jwt-test.pub.pem");
/// A self-signed X.509 certificate of the same key, as uploaded to a connected app; also
/// accepted as [`SimConfig::jwt_public_key_pem`].
pub const TEST_JWT_CERTIFICATE_PEM: &str = include_str!("../keys/jwt-test.crt.pem");

/// How the simulated org behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// API calls allowed per day; beyond it 403 REQUEST_LIMIT_EXCEEDED (default 100,000).
    pub daily_api_limit: u64,
    /// How long an access token is valid; expired tokens get 401 INVALID_SESSION_ID
    /// (default 2 hours).
    pub token_ttl: Duration,
    /// The connected app's consumer key (default `test-client`); also the `iss` of JWT
    /// bearer assertions.
    pub client_id: String,
    /// The connected app's consumer secret (default `test-secret`).
    pub client_secret: String,
    /// The refresh token the refresh token flow accepts (default `test-refresh-token`).
    pub refresh_token: String,
    /// If set, JWT bearer assertions must be RS256-signed by this key (PEM: `PUBLIC KEY`,
    /// `RSA PUBLIC KEY` or `CERTIFICATE`); if not, their signature is not checked (the
    /// claims still are).
    pub jwt_public_key_pem: Option<String>,
    /// Records per query page (default 2,000).
    pub query_batch_size: usize,
    /// The newest API version served (default `62.0`); older ones down to 20.0 are too.
    pub api_version: String,
    /// Status of an upsert that updated a record: 200 with a JSON body (default, current
    /// Salesforce) or 204 without body (older versions).
    pub upsert_update_status: u16,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            daily_api_limit: 100_000,
            token_ttl: Duration::from_secs(2 * 60 * 60),
            client_id: "test-client".to_owned(),
            client_secret: "test-secret".to_owned(),
            refresh_token: "test-refresh-token".to_owned(),
            jwt_public_key_pem: None,
            query_batch_size: 2000,
            api_version: "62.0".to_owned(),
            upsert_update_status: 200,
        }
    }
}

/// A running simulated org.
pub struct Simulator {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("url", &self.shared.url)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts an org built from force-app on `127.0.0.1` and a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts an org built from force-app listening on `address`.
    pub async fn start_on(config: SimConfig, address: SocketAddr) -> std::io::Result<Simulator> {
        Self::launch(
            config,
            address,
            sfdc_types::SCHEMA.clone(),
            default_force_app(),
        )
        .await
    }

    /// Starts an org enforcing another data model (e.g. one with a non-unique external id
    /// to see upserts match several records), on `127.0.0.1` and a free port.
    pub async fn start_with_schema(
        config: SimConfig,
        schema: Schema,
    ) -> std::io::Result<Simulator> {
        Self::launch(
            config,
            SocketAddr::from(([127, 0, 0, 1], 0)),
            schema,
            default_force_app(),
        )
        .await
    }

    async fn launch(
        config: SimConfig,
        address: SocketAddr,
        schema: Schema,
        force_app: Option<PathBuf>,
    ) -> std::io::Result<Simulator> {
        let jwt_key = match &config.jwt_public_key_pem {
            Some(pem) => Some(jwt::PublicKey::from_pem(pem).map_err(|error| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, error.to_string())
            })?),
            None => None,
        };
        if ![200, 204].contains(&config.upsert_update_status) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "upsert_update_status must be 200 or 204, found {}",
                    config.upsert_update_status
                ),
            ));
        }
        let listener = tokio::net::TcpListener::bind(address).await?;
        let local = listener.local_addr()?;
        let url = format!("http://{local}");
        let org = Org::new(Arc::new(schema), force_app.as_deref());
        let shared = Arc::new(Shared {
            daily_limit: AtomicU64::new(config.daily_api_limit),
            api_calls: AtomicU64::new(0),
            config,
            url,
            org: Mutex::new(org),
            cursors: Mutex::default(),
            tokens: Mutex::default(),
            faults: Mutex::default(),
            jobs: Mutex::default(),
            jwt_key,
            tasks: Mutex::default(),
        });
        let (shutdown, receiver) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, Arc::clone(&shared), receiver));
        Ok(Simulator {
            shared,
            shutdown,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`: the login URL and the `instance_url` tokens name.
    pub fn url(&self) -> String {
        self.shared.url.clone()
    }

    /// API calls counted toward the daily limit so far.
    pub fn api_calls(&self) -> u64 {
        self.shared.api_calls.load(Ordering::SeqCst)
    }

    /// Changes the daily API limit (calls already made still count).
    pub fn set_daily_limit(&self, limit: u64) {
        self.shared.daily_limit.store(limit, Ordering::SeqCst);
    }

    /// Expires every access token handed out so far.
    pub fn expire_all_tokens(&self) {
        self.shared
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .expire_all();
    }

    /// Queues a fault for the next matching requests (see [`Fault`]).
    pub fn inject(&self, fault: Fault) {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(fault);
    }

    /// Removes every queued fault.
    pub fn clear_faults(&self) {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// The stored records of `object`, in creation order, with every field the record
    /// has a value for (including `Id`, `CreatedDate`, `LastModifiedDate` and
    /// `SystemModstamp`), as Salesforce's JSON has them. Unknown objects have none.
    pub fn records(&self, object: &str) -> Vec<Map<String, Json>> {
        let org = self.shared.lock_org();
        let Some(table) = org.table(object) else {
            return Vec::new();
        };
        table
            .records
            .values()
            .map(|record| {
                record
                    .iter()
                    .filter(|(_, value)| !value.is_null())
                    .map(|(name, value)| (name.clone(), wire::value_json(value)))
                    .collect()
            })
            .collect()
    }

    /// Creates a record as `POST /sobjects/{object}` would (same checks, no API call
    /// counted) and returns its id.
    pub fn insert_record(
        &self,
        object: &str,
        record: Map<String, Json>,
    ) -> Result<String, SimError> {
        let mut org = self.shared.lock_org();
        let describe = org
            .describe(object)
            .cloned()
            .ok_or_else(|| SimError::UnknownObject {
                object: object.to_owned(),
            })?;
        let name = describe.api_name.to_string();
        let rejected = |errors: Vec<RecordError>| SimError::Rejected {
            object: name.clone(),
            errors,
        };
        let values = dml::json_values(&org, &describe, &record).map_err(|error| {
            let errors = error
                .body
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|item| {
                            RecordError::new(
                                item["errorCode"].as_str().unwrap_or_default(),
                                item["message"].as_str().unwrap_or_default(),
                                Vec::new(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            rejected(errors)
        })?;
        let mut txn = Txn::new();
        org.write(&mut txn, &name, Target::Insert, values)
            .map(|saved| saved.id)
            .map_err(|error| rejected(error.record_errors(&name)))
    }

    /// Stops the server and its background Bulk processing.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// The repository's force-app folder (or `SFDC_FORCE_APP_DIR`), read for auto-number
/// formats and picklist defaults.
fn default_force_app() -> Option<PathBuf> {
    let folder = std::env::var_os("SFDC_FORCE_APP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../force-app"));
    folder.is_dir().then_some(folder)
}
