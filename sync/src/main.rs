//! `stripe-sfdc-sync`: the webhook receiver, the worker and the dead-letter tools on one SQLite
//! database.
//!
//! Every setting comes from a flag, an environment variable or a TOML file (see
//! [`stripe_sfdc_sync::config`]); `--help` lists them all.

use std::future::Future;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use stripe_sfdc_sync::alerts::{AlertConfig, Alerts};
use stripe_sfdc_sync::config::{Config, LogFormat, Needs, Overrides};
use stripe_sfdc_sync::outbound::checkout::{CheckoutConfig, CheckoutLinks};
use stripe_sfdc_sync::outbound::{ContactPoller, OutboundConfig};
use stripe_sfdc_sync::queue::{Envelope, Queue as _};
use stripe_sfdc_sync::receiver::webhook::EventHead;
use stripe_sfdc_sync::receiver::{self, Metrics, Readiness, ReceiverState};
use stripe_sfdc_sync::salesforce;
use stripe_sfdc_sync::signature::Verifier;
use stripe_sfdc_sync::sqlite::{SqliteQueue, SqliteStore};
use stripe_sfdc_sync::store::{DeadLetter, DeadLetters as _, Watermarks as _};
use stripe_sfdc_sync::worker::{BulkConfig, StripeObjectSource, Worker, WorkerConfig};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

/// mimalloc: glibc's malloc was the largest single cost of a webhook in profiles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long open connections may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Keeps Stripe and Salesforce in sync: receives Stripe webhooks into a durable SQLite queue and
/// writes them to Salesforce.
///
/// Each setting is taken from its flag, else its environment variable, else the configuration
/// file (--config), else its default. Give secrets through the environment or the file (a
/// flag's value shows in the process list). Log level from RUST_LOG (default `info`); logs go
/// to stderr.
#[derive(Debug, Parser)]
#[command(name = "stripe-sfdc-sync", version)]
struct Cli {
    /// The settings.
    #[command(flatten)]
    settings: Overrides,
    /// What to run.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the webhook receiver and the worker in one process on the database.
    Serve,
    /// Run the webhook receiver only (POST /webhook/stripe, /health/live, /health/ready,
    /// /metrics).
    Receiver,
    /// Run the worker only: move queued events to Salesforce.
    Worker,
    /// Run the Salesforce → Stripe poller only: a Stripe customer for every Contact with an
    /// email, and Checkout links for subscriptions marked "Send to Stripe".
    Outbound,
    /// Inspect and act on the dead-letter queue.
    Dlq {
        /// The action.
        #[command(subcommand)]
        action: DlqCommand,
    },
}

/// The dead-letter subcommands.
#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// List dead letters, oldest first: event id, type, when, attempts, reason.
    List {
        /// Start after this event id (the last one of the previous page).
        #[arg(long, value_name = "EVENT_ID")]
        after: Option<String>,
        /// Most dead letters listed.
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: usize,
    },
    /// Show one dead letter: reason and attempts.
    Show {
        /// The Stripe event id (`evt_…`).
        event_id: String,
        /// Also print the stored event body (it may hold personal data).
        #[arg(long)]
        payload: bool,
    },
    /// Put a dead letter's event back on the queue and remove the dead letter.
    Replay {
        /// The Stripe event id (`evt_…`).
        event_id: String,
    },
    /// Delete a dead letter without replaying it.
    Drop {
        /// The Stripe event id (`evt_…`).
        event_id: String,
    },
}

impl Command {
    /// The settings this subcommand cannot run without.
    fn needs(&self) -> Needs {
        match self {
            Command::Serve => Needs {
                webhook: true,
                salesforce: true,
                stripe: false,
            },
            Command::Receiver => Needs {
                webhook: true,
                salesforce: false,
                stripe: false,
            },
            Command::Worker => Needs {
                webhook: false,
                salesforce: true,
                stripe: false,
            },
            Command::Outbound => Needs {
                webhook: false,
                salesforce: true,
                stripe: true,
            },
            Command::Dlq { .. } => Needs::default(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli.settings, cli.command.needs()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = init_logging(config.log_format) {
        eprintln!("error: {error:#}");
        return ExitCode::FAILURE;
    }
    // The long-running commands also report a fatal error in the log stream.
    let daemon = !matches!(cli.command, Command::Dlq { .. });
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(run(cli.command, config)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = format!("{error:#}");
            if daemon {
                tracing::error!(error = message, "stopped on an error");
            }
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Installs the global log subscriber: JSON lines or text on stderr, filtered by `RUST_LOG`.
fn init_logging(format: LogFormat) -> anyhow::Result<()> {
    let (filter, bad_filter) = match EnvFilter::try_from_default_env() {
        Ok(filter) => (filter, None),
        Err(error) => (
            EnvFilter::new("info"),
            std::env::var("RUST_LOG").ok().map(|_| error),
        ),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!("cannot install the log subscriber: {error}"))?;
    if let Some(error) = bad_filter {
        tracing::warn!(%error, "RUST_LOG is not a valid filter; logging at info");
    }
    Ok(())
}

/// Runs `command`.
async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(&config).await,
        Command::Receiver => {
            let shutdown = Shutdown::on_signals()?;
            let queue = open_queue(&config.database)?;
            run_receiver(
                &config,
                queue,
                Arc::new(Metrics::new()),
                Vec::new(),
                &shutdown,
            )
            .await
        }
        Command::Worker => {
            let shutdown = Shutdown::on_signals()?;
            let (worker, _) = build_worker(&config, open_queue(&config.database)?)?;
            tracing::info!(database = %config.database.display(), "worker started");
            worker
                .run(shutdown.wait())
                .await
                .context("the worker failed")
        }
        Command::Outbound => {
            let shutdown = Shutdown::on_signals()?;
            run_outbound(&config, &shutdown).await
        }
        Command::Dlq { action } => dlq(&config.database, action).await,
    }
}

/// The Stripe client of the configuration (the secret key is required).
fn stripe_client(config: &Config) -> anyhow::Result<stripe_types::client::Client> {
    let key = config
        .stripe
        .secret_key
        .as_ref()
        .context("missing STRIPE_SECRET_KEY")?;
    stripe_types::client::Client::builder(key.expose())
        .base_url(config.stripe.api_base.clone())
        .build()
        .context("cannot build the Stripe client (STRIPE_SECRET_KEY, STRIPE_API_BASE)")
}

/// The Salesforce client of the configuration (the credentials are required).
fn salesforce_client(config: &Config) -> anyhow::Result<salesforce::Client> {
    let credentials =
        config.salesforce.credentials.clone().context(
            "missing Salesforce credentials (SALESFORCE_CLIENT_ID and the flow's secrets)",
        )?;
    salesforce::Client::builder(config.salesforce.login_url.clone(), credentials)
        .build()
        .context("cannot build the Salesforce client (SALESFORCE_LOGIN_URL)")
}

/// Runs the Salesforce → Stripe pollers until shutdown: Contacts → customers, and Checkout
/// links when their URLs are configured.
async fn run_outbound(config: &Config, shutdown: &Shutdown) -> anyhow::Result<()> {
    let store = open_store(&config.database)?;
    let salesforce = salesforce_client(config)?;
    let stripe = stripe_client(config)?;
    let contacts = ContactPoller::new(
        salesforce.clone(),
        stripe.clone(),
        store,
        OutboundConfig {
            interval: config.outbound.interval,
            ..OutboundConfig::default()
        },
    );
    let checkout = config.outbound.checkout.as_ref().map(|settings| {
        CheckoutLinks::new(
            salesforce,
            stripe,
            CheckoutConfig {
                expires_after: settings.expires_after,
                ..CheckoutConfig::new(settings.success_url.clone(), settings.cancel_url.clone())
            },
        )
    });
    if checkout.is_none() {
        tracing::warn!(
            "Checkout links are off: set SYNC_CHECKOUT_SUCCESS_URL and SYNC_CHECKOUT_CANCEL_URL"
        );
    }
    tracing::info!(
        interval_secs = config.outbound.interval.as_secs(),
        "outbound poller started"
    );
    let links = async {
        if let Some(checkout) = &checkout {
            checkout
                .run(config.outbound.interval, shutdown.wait())
                .await;
        }
    };
    tokio::join!(contacts.run(shutdown.wait()), links);
    tracing::info!("outbound poller stopped");
    Ok(())
}

/// Opens the queue in the database file.
fn open_queue(database: &Path) -> anyhow::Result<Arc<SqliteQueue>> {
    let queue = SqliteQueue::open(database).with_context(|| {
        format!(
            "cannot open the queue in the database {} (SYNC_DATABASE)",
            database.display()
        )
    })?;
    Ok(Arc::new(queue))
}

/// Opens the store in the database file.
fn open_store(database: &Path) -> anyhow::Result<Arc<SqliteStore>> {
    let store = SqliteStore::open(database).with_context(|| {
        format!(
            "cannot open the store in the database {} (SYNC_DATABASE)",
            database.display()
        )
    })?;
    Ok(Arc::new(store))
}

/// A shutdown request every part of the process can wait for.
#[derive(Debug, Clone)]
struct Shutdown {
    /// Flips to `true` once.
    sender: Arc<watch::Sender<bool>>,
}

impl Shutdown {
    /// Listens for SIGTERM and SIGINT (Ctrl-C) now, and requests shutdown on the first one.
    fn on_signals() -> anyhow::Result<Shutdown> {
        let shutdown = Shutdown {
            sender: Arc::new(watch::Sender::new(false)),
        };
        let signal = signal_listener()?;
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            let name = signal.await;
            tracing::info!(
                signal = name,
                "shutting down: no new work, finishing in-flight work"
            );
            trigger.trigger();
        });
        Ok(shutdown)
    }

    /// Requests shutdown.
    fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Resolves once shutdown is requested.
    fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.sender.subscribe();
        async move {
            // An error means the sender is gone: nothing can ask any more, so stop too.
            let _ = receiver.wait_for(|requested| *requested).await;
        }
    }
}

/// Registers the signal handlers now (so a signal sent right after start is not lost) and
/// returns a future resolving with the name of the first signal received.
#[cfg(unix)]
fn signal_listener() -> anyhow::Result<impl Future<Output = &'static str> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    })
}

/// Returns a future resolving on Ctrl-C.
#[cfg(not(unix))]
fn signal_listener() -> anyhow::Result<impl Future<Output = &'static str> + Send + 'static> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        "Ctrl-C"
    })
}

/// Serves the receiver until `shutdown`, then lets open requests finish (at most
/// [`SHUTDOWN_GRACE`]).
async fn run_receiver(
    config: &Config,
    queue: Arc<SqliteQueue>,
    metrics: Arc<Metrics>,
    readiness: Vec<Arc<dyn Readiness>>,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let receiver_config = &config.receiver;
    let verifier = Verifier::new(
        receiver_config
            .webhook_secrets
            .iter()
            .map(|secret| secret.expose().to_owned())
            .collect(),
        receiver_config.tolerance,
    )
    .context("invalid STRIPE_WEBHOOK_SECRETS / STRIPE_WEBHOOK_TOLERANCE_SECS")?;
    let mut state = ReceiverState::new(queue, Arc::new(verifier), receiver_config.livemode)
        .with_max_body(receiver_config.max_body)
        .with_metrics(metrics);
    for check in readiness {
        state = state.with_readiness(check);
    }
    let listener = tokio::net::TcpListener::bind(receiver_config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (SYNC_LISTEN)", receiver_config.listen))?;
    let address = listener
        .local_addr()
        .context("cannot read the listening address")?;
    tracing::info!(
        %address,
        database = %config.database.display(),
        livemode = receiver_config.livemode,
        secrets = receiver_config.webhook_secrets.len(),
        "receiver listening"
    );
    let server = axum::serve(listener, receiver::router(state))
        .with_graceful_shutdown(shutdown.wait())
        .into_future();
    let grace = {
        let requested = shutdown.wait();
        async move {
            requested.await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        }
    };
    tokio::select! {
        served = server => served.context("the receiver failed")?,
        () = grace => tracing::warn!(
            grace_secs = SHUTDOWN_GRACE.as_secs(),
            "connections still open after the grace period; closing them"
        ),
    }
    tracing::info!("receiver stopped");
    Ok(())
}

/// The worker on the SQLite queue and store.
type SqliteWorker = Worker<SqliteQueue, SqliteStore>;

/// Readiness checks for `/health/ready`.
type Checks = Vec<Arc<dyn Readiness>>;

/// Builds the worker from the configuration, with the readiness checks of what it depends on
/// (the store, Salesforce authentication).
fn build_worker(
    config: &Config,
    queue: Arc<SqliteQueue>,
) -> anyhow::Result<(SqliteWorker, Checks)> {
    let store = open_store(&config.database)?;
    let client = salesforce_client(config)?;
    let settings = &config.worker;
    let worker_config = WorkerConfig {
        batch_size: settings.batch_size,
        lease: settings.lease,
        salesforce_calls_per_minute: settings.calls_per_minute,
        salesforce_calls_per_day: settings.calls_per_day,
        quota_reserve_percent: settings.quota_share_percent,
        high_window: settings.high_window,
        normal_window: settings.normal_window,
        task_owner_finance: config.salesforce.task_owner_finance.clone(),
        task_owner_service: config.salesforce.task_owner_service.clone(),
        bulk: BulkConfig {
            flush_records: settings.bulk_flush_records,
            flush_age: settings.bulk_flush_age,
            ..BulkConfig::default()
        },
        ..WorkerConfig::default()
    };
    let readiness = vec![
        receiver::readiness_fn("store", {
            let store = Arc::clone(&store);
            move || {
                let store = Arc::clone(&store);
                Box::pin(async move { store.mark("readiness-probe").await.is_ok() })
            }
        }),
        receiver::readiness_fn("salesforce_auth", {
            let client = client.clone();
            move || {
                let client = client.clone();
                Box::pin(
                    async move { client.instance_url().is_some() || client.login().await.is_ok() },
                )
            }
        }),
    ];
    let alerts = Alerts::new(AlertConfig::from_settings(&config.alerts))
        .context("invalid alert settings (SYNC_ALERT_*)")?;
    let worker = Worker::new(queue, store, client, worker_config)
        .context("invalid worker settings")?
        .with_alerts(alerts);
    // With a Stripe key the worker can read objects' current state: to order same-second
    // events and to create a parent missing in Salesforce.
    let worker = if config.stripe.secret_key.is_some() {
        worker.with_object_source(Arc::new(StripeObjectSource::new(stripe_client(config)?)))
    } else {
        worker
    };
    Ok((worker, readiness))
}

/// Runs receiver and worker together until a signal, or until either fails (which stops the
/// other).
async fn serve(config: &Config) -> anyhow::Result<()> {
    let shutdown = Shutdown::on_signals()?;
    let queue = open_queue(&config.database)?;
    let metrics = Arc::new(Metrics::new());
    let (worker, readiness) = build_worker(config, Arc::clone(&queue))?;
    let worker = worker.with_metrics(Arc::clone(&metrics));
    let receiver = async {
        let result = run_receiver(config, queue, metrics, readiness, &shutdown).await;
        shutdown.trigger();
        result
    };
    let worker = async {
        tracing::info!("worker started");
        let result = worker
            .run(shutdown.wait())
            .await
            .context("the worker failed");
        shutdown.trigger();
        result
    };
    let outbound = async {
        if config.stripe.secret_key.is_none() {
            tracing::warn!("Salesforce → Stripe is off: set STRIPE_SECRET_KEY to turn it on");
            return Ok(());
        }
        let result = run_outbound(config, &shutdown).await;
        if result.is_err() {
            shutdown.trigger();
        }
        result
    };
    let (received, worked, sent) = tokio::join!(receiver, worker, outbound);
    let worked = worked.and(sent);
    match (received, worked) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(error), Ok(())) | (Ok(()), Err(error)) => Err(error),
        (Err(receiver), Err(worker)) => Err(receiver.context(format!("and {worker:#}"))),
    }
}

/// Runs a dead-letter subcommand, printing its result on stdout.
async fn dlq(database: &Path, action: DlqCommand) -> anyhow::Result<()> {
    let store = open_store(database)?;
    match action {
        DlqCommand::List { after, limit } => {
            let letters = store
                .list(after.as_deref(), limit)
                .await
                .context("cannot list the dead letters")?;
            if letters.is_empty() {
                println!("no dead letters");
            }
            for letter in &letters {
                println!(
                    "{}\t{}\t{}\t{} attempts\t{}",
                    letter.event_id,
                    letter.event_type,
                    timestamp(letter.dead_lettered_at),
                    letter.attempts.len(),
                    one_line(&letter.reason)
                );
            }
            if letters.len() == limit
                && let Some(last) = letters.last()
            {
                eprintln!("more may follow: --after {}", last.event_id);
            }
        }
        DlqCommand::Show { event_id, payload } => {
            let letter = get_letter(&store, &event_id).await?;
            println!("event_id: {}", letter.event_id);
            println!("event_type: {}", letter.event_type);
            println!("dead_lettered_at: {}", timestamp(letter.dead_lettered_at));
            println!("reason: {}", one_line(&letter.reason));
            println!("attempts: {}", letter.attempts.len());
            for (number, attempt) in letter.attempts.iter().enumerate() {
                println!(
                    "  {}. {}  {}",
                    number + 1,
                    timestamp(attempt.at),
                    one_line(&attempt.error)
                );
            }
            if payload {
                println!("payload:");
                println!("{}", String::from_utf8_lossy(&letter.payload));
            } else {
                println!(
                    "payload: {} bytes (add --payload to print it)",
                    letter.payload.len()
                );
            }
        }
        DlqCommand::Replay { event_id } => {
            let letter = get_letter(&store, &event_id).await?;
            let head = EventHead::parse(&letter.payload).with_context(|| {
                format!("the stored body of dead letter {event_id} is not a Stripe event")
            })?;
            let envelope = Envelope {
                priority: stripe_sfdc_sync::priority::priority(&letter.event_type),
                event_id: letter.event_id.clone(),
                event_type: letter.event_type.clone(),
                object_id: head.object_id,
                created: head.created,
                payload: letter.payload.clone(),
                received_at: OffsetDateTime::now_utc(),
            };
            let queue = open_queue(database)?;
            queue
                .push(&envelope)
                .await
                .with_context(|| format!("cannot put event {event_id} back on the queue"))?;
            store.remove(&event_id).await.with_context(|| {
                format!("event {event_id} is queued again, but its dead letter cannot be removed")
            })?;
            tracing::info!(
                event_id,
                event_type = letter.event_type,
                "dead letter replayed"
            );
            println!(
                "replayed {event_id} ({}): queued again with priority {}; dead letter removed",
                letter.event_type,
                envelope.priority.as_str()
            );
        }
        DlqCommand::Drop { event_id } => {
            let removed = store
                .remove(&event_id)
                .await
                .with_context(|| format!("cannot remove the dead letter of {event_id}"))?;
            if !removed {
                bail!(
                    "no dead letter for event {event_id} in {}",
                    database.display()
                );
            }
            tracing::info!(event_id, "dead letter dropped");
            println!("dropped {event_id}");
        }
    }
    Ok(())
}

/// The dead letter of `event_id`, or an error naming it.
async fn get_letter(store: &SqliteStore, event_id: &str) -> anyhow::Result<DeadLetter> {
    store
        .get(event_id)
        .await
        .with_context(|| format!("cannot read the dead letter of {event_id}"))?
        .with_context(|| format!("no dead letter for event {event_id}"))
}

/// RFC 3339, or the Unix time if it cannot be formatted.
fn timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// `text` on one line (line breaks and tabs become spaces).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
