//! The load generator behind `stripe-sfdc-loadgen`: signs realistic Stripe events and drives a
//! receiver's `POST /webhook/stripe` over HTTP at a chosen concurrency and rate, measuring
//! throughput and latency.
//!
//! - Closed loop (`rate` 0): `concurrency` senders each send the next event as soon as the
//!   previous one is answered; latency is measured from each send.
//! - Open loop (`rate` > 0): event `n` is scheduled at `n / rate` seconds after the start and
//!   sent then by whichever of the `concurrency` senders is free; latency is measured from the
//!   scheduled time, so a receiver that stalls is charged for every event it kept waiting (no
//!   coordinated omission). The senders pace themselves with tokio's timer (1 ms resolution).
//!
//! Before the clock starts, every sender calls `GET /health/live` once, which checks that the
//! receiver is up and opens the connections the run then reuses.

mod events;
mod report;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

pub use self::events::{DEFAULT_MIX, GeneratedEvent, Generator, Mix, MixError};
pub use self::report::{Percentiles, Report};
use crate::receiver::webhook::SIGNATURE_HEADER;
use crate::signature::sign;

/// When a run stops sending.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// After this many events.
    Events(u64),
    /// After this long: no event is scheduled (open loop) or sent (closed loop) later.
    Duration(Duration),
}

/// What to send, where and how fast.
#[derive(Debug, Clone)]
pub struct Options {
    /// The receiver's base URL (`http://127.0.0.1:8080`); events go to `{url}/webhook/stripe`.
    pub url: String,
    /// The webhook signing secret the receiver checks.
    pub secret: String,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Events per second (open loop), or 0 for as fast as answers come back (closed loop).
    pub rate: f64,
    /// When to stop.
    pub limit: Limit,
    /// Whether the events are live-mode events.
    pub livemode: bool,
    /// Which event types, in which proportions.
    pub mix: Mix,
    /// Fixes the ids and the order of types; use a new one for every run against one queue.
    pub seed: u64,
    /// How long one request may take before it counts as a timeout error.
    pub timeout: Duration,
}

/// Why a run could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    /// An option is out of range.
    #[error("invalid option: {0}")]
    Options(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// The receiver did not answer `GET /health/live` with 2xx.
    #[error("the receiver at {url} is not reachable: {detail}")]
    Unreachable {
        /// The URL called.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// A sender task panicked.
    #[error("a sender task failed: {0}")]
    Task(String),
}

/// What one sender counted.
#[derive(Debug, Default)]
struct Tally {
    /// Requests sent.
    sent: u64,
    /// 2xx answers.
    accepted: u64,
    /// Other answers by status.
    statuses: BTreeMap<u16, u64>,
    /// Failures without an answer, by kind.
    errors: BTreeMap<String, u64>,
    /// The first failure, with when it happened.
    first_error: Option<(Instant, String)>,
    /// Latencies from the scheduled time, in nanoseconds.
    latency: Vec<u64>,
    /// Service times, in nanoseconds.
    service: Vec<u64>,
    /// Events sent by type.
    types: BTreeMap<&'static str, u64>,
    /// When the last answer (or failure) came.
    last: Option<Instant>,
}

impl Tally {
    /// Adds `other`'s counts to these.
    fn merge(&mut self, other: Tally) {
        self.sent += other.sent;
        self.accepted += other.accepted;
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_insert(0) += count;
        }
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_insert(0) += count;
        }
        self.first_error = match (self.first_error.take(), other.first_error) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        };
        self.latency.extend(other.latency);
        self.service.extend(other.service);
        for (event_type, count) in other.types {
            *self.types.entry(event_type).or_insert(0) += count;
        }
        self.last = self.last.max(other.last);
    }
}

/// What every sender shares.
struct Shared {
    /// Renders the events.
    generator: Generator,
    /// Signs them.
    secret: String,
    /// Sends them.
    client: reqwest::Client,
    /// `{url}/webhook/stripe`, parsed once.
    webhook: reqwest::Url,
    /// The next event's sequence number.
    next: AtomicU64,
    /// When the clock started.
    start: Instant,
    /// Events per second, 0 for closed loop.
    rate: f64,
    /// When to stop.
    limit: Limit,
}

impl Shared {
    /// When event `seq` is due (open loop), or `None` if the run is over.
    fn schedule(&self, seq: u64) -> Option<Instant> {
        if let Limit::Events(events) = self.limit
            && seq >= events
        {
            return None;
        }
        if self.rate > 0.0 {
            let offset = Duration::from_secs_f64(seq as f64 / self.rate);
            if let Limit::Duration(limit) = self.limit
                && offset >= limit
            {
                return None;
            }
            Some(self.start + offset)
        } else {
            let now = Instant::now();
            if let Limit::Duration(limit) = self.limit
                && now.duration_since(self.start) >= limit
            {
                return None;
            }
            Some(now)
        }
    }
}

/// The kind of a request failure, for the report.
fn error_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else if error.is_request() {
        "request"
    } else {
        "other"
    }
}

/// One sender: sends events until the run is over.
async fn sender(shared: Arc<Shared>) -> Tally {
    let mut tally = Tally::default();
    loop {
        let seq = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(scheduled) = shared.schedule(seq) else {
            break;
        };
        if shared.rate > 0.0 {
            tokio::time::sleep_until(scheduled.into()).await;
        }
        // Rendered and signed when due (not before sleeping), so the signature's timestamp is
        // fresh however far ahead the event was scheduled.
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let event = shared.generator.event(seq, now);
        let signature = sign(&shared.secret, now, &event.body);
        *tally.types.entry(event.event_type).or_insert(0) += 1;
        let sent = Instant::now();
        let answer = shared
            .client
            .post(shared.webhook.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .header(SIGNATURE_HEADER, signature)
            .body(event.body)
            .send()
            .await;
        let answer = match answer {
            Ok(response) => {
                let status = response.status();
                response.bytes().await.map(|_| status)
            }
            Err(error) => Err(error),
        };
        let done = Instant::now();
        tally.sent += 1;
        tally.last = Some(done);
        match answer {
            Ok(status) => {
                let from = if shared.rate > 0.0 { scheduled } else { sent };
                tally.latency.push(nanos(done.duration_since(from)));
                tally.service.push(nanos(done.duration_since(sent)));
                if status.is_success() {
                    tally.accepted += 1;
                } else {
                    *tally.statuses.entry(status.as_u16()).or_insert(0) += 1;
                }
            }
            Err(error) => {
                *tally
                    .errors
                    .entry(error_kind(&error).to_owned())
                    .or_insert(0) += 1;
                if tally.first_error.is_none() {
                    tally.first_error = Some((done, error.to_string()));
                }
            }
        }
    }
    tally
}

/// `duration` in nanoseconds, saturating.
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Builds the HTTP client: plain HTTP/1.1 keep-alive connections, no proxy.
fn client(options: &Options) -> Result<reqwest::Client, LoadgenError> {
    // reqwest is built without a bundled crypto provider; it needs one even for plain HTTP.
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(options.concurrency)
        .timeout(options.timeout)
        .connect_timeout(options.timeout.min(Duration::from_secs(5)))
        .user_agent("Stripe/1.0 (+https://stripe.com/docs/webhooks)")
        .build()
        .map_err(|error| LoadgenError::Client(error.to_string()))
}

/// Checks that the receiver is live, once per sender, opening the connections the run reuses.
async fn warm_up(client: &reqwest::Client, base: &str, senders: usize) -> Result<(), LoadgenError> {
    let url = format!("{base}/health/live");
    let calls = (0..senders).map(|_| async {
        let response = client
            .get(&url)
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let status = response.status();
        response.bytes().await.map_err(|error| error.to_string())?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("GET /health/live answered {status}"))
        }
    });
    for result in futures_util::future::join_all(calls).await {
        result.map_err(|detail| LoadgenError::Unreachable {
            url: url.clone(),
            detail,
        })?;
    }
    Ok(())
}

/// Runs the load described by `options` and reports what it measured. Must run inside a tokio
/// runtime with the time driver enabled.
pub async fn run(options: Options) -> Result<Report, LoadgenError> {
    if options.concurrency == 0 {
        return Err(LoadgenError::Options(
            "concurrency must be at least 1".into(),
        ));
    }
    if !options.rate.is_finite() || options.rate < 0.0 {
        return Err(LoadgenError::Options(
            "rate must be 0 (as fast as possible) or a positive number of events per second".into(),
        ));
    }
    if options.limit == Limit::Duration(Duration::ZERO) || options.limit == Limit::Events(0) {
        return Err(LoadgenError::Options(
            "the run must send at least one event".into(),
        ));
    }
    let base = options.url.trim_end_matches('/').to_owned();
    if !base.starts_with("http://") && !base.starts_with("https://") {
        return Err(LoadgenError::Options(format!(
            "url {base:?} is not an http(s) URL"
        )));
    }
    let webhook = reqwest::Url::parse(&format!("{base}/webhook/stripe"))
        .map_err(|error| LoadgenError::Options(format!("url {base:?} is invalid: {error}")))?;
    let client = client(&options)?;
    warm_up(&client, &base, options.concurrency).await?;

    let shared = Arc::new(Shared {
        generator: Generator::new(&options.mix, options.livemode, options.seed),
        secret: options.secret.clone(),
        client,
        webhook,
        next: AtomicU64::new(0),
        start: Instant::now(),
        rate: options.rate,
        limit: options.limit,
    });
    let tasks: Vec<_> = (0..options.concurrency)
        .map(|_| tokio::spawn(sender(Arc::clone(&shared))))
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        let tally = task
            .await
            .map_err(|error| LoadgenError::Task(error.to_string()))?;
        total.merge(tally);
    }

    let elapsed = total
        .last
        .map_or(Duration::ZERO, |last| last.duration_since(shared.start));
    let elapsed_secs = report::secs(elapsed);
    let per_sec = |count: u64| {
        if elapsed_secs > 0.0 {
            count as f64 / elapsed_secs
        } else {
            0.0
        }
    };
    Ok(Report {
        url: shared.webhook.to_string(),
        concurrency: options.concurrency,
        target_rate: (options.rate > 0.0).then_some(options.rate),
        mix: options.mix.to_string(),
        seed: options.seed,
        sent: total.sent,
        accepted: total.accepted,
        other_statuses: total.statuses,
        errors: total.errors,
        first_error: total.first_error.map(|(_, message)| message),
        elapsed_secs,
        sent_per_sec: per_sec(total.sent),
        accepted_per_sec: per_sec(total.accepted),
        latency: Percentiles::of(&mut total.latency),
        service: Percentiles::of(&mut total.service),
        types: total.types,
    })
}
