//! `stripe-sfdc-loadgen`: drives a running receiver's `POST /webhook/stripe` with realistic,
//! signed Stripe events (API version 2022-11-15) at a chosen concurrency and rate, and reports
//! throughput and latency percentiles.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use stripe_sfdc_sync::loadgen::{self, Limit, Mix, Options};

/// mimalloc: glibc's malloc was the largest single cost of a webhook in profiles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Load generator for the Stripe webhook receiver: sends signed, unique Stripe events (built
/// from the test fixtures) to {url}/webhook/stripe and reports what was accepted, throughput and
/// latency percentiles.
///
/// With --rate R > 0 the run is open-loop: event n is due at n/R seconds and its latency runs
/// from that moment, so a stalled receiver is charged for the events it kept waiting. With
/// --rate 0 (the default) it is closed-loop: each of the --concurrency senders sends its next
/// event as soon as the previous one is answered.
#[derive(Debug, Parser)]
#[command(name = "stripe-sfdc-loadgen", version)]
struct Cli {
    /// The receiver's base URL.
    #[arg(long, env = "LOADGEN_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The webhook signing secret the receiver checks (one of its STRIPE_WEBHOOK_SECRETS).
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    secret: String,
    /// Requests in flight at most.
    #[arg(long, short = 'c', default_value_t = 64)]
    concurrency: usize,
    /// Events per second (open loop); 0 sends as fast as answers come back (closed loop).
    #[arg(long, short = 'r', default_value_t = 0.0)]
    rate: f64,
    /// Send this many events [default: 10000 unless --duration is given].
    #[arg(long, short = 'n', conflicts_with = "duration")]
    events: Option<u64>,
    /// Send for this many seconds instead of a number of events.
    #[arg(long, short = 'd')]
    duration: Option<f64>,
    /// Send live-mode events (the receiver must run with STRIPE_LIVEMODE=true).
    #[arg(long)]
    livemode: bool,
    /// Event types and relative weights: `default` (a realistic mix of the 19 handled types),
    /// `uniform`, or `type=weight,...` (e.g. `invoice.paid=3,customer.updated=1`).
    #[arg(long, default_value = "default")]
    mix: String,
    /// Seed of the event ids and type order [default: random]; reusing a seed against the same
    /// queue re-sends the same ids, which the queue stores once.
    #[arg(long)]
    seed: Option<u64>,
    /// Seconds one request may take before it counts as a timeout error.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Worker threads of the load generator's runtime [default: the number of CPUs].
    #[arg(long)]
    threads: Option<usize>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// The run's options from the command line.
fn options(cli: &Cli) -> anyhow::Result<Options> {
    let mix = Mix::parse(&cli.mix).context("invalid --mix")?;
    let limit = match (cli.events, cli.duration) {
        (Some(events), _) => Limit::Events(events),
        (None, Some(secs)) => Limit::Duration(
            Duration::try_from_secs_f64(secs)
                .ok()
                .filter(|d| !d.is_zero())
                .context("--duration must be a positive number of seconds")?,
        ),
        (None, None) => Limit::Events(10_000),
    };
    let timeout = Duration::try_from_secs_f64(cli.timeout)
        .ok()
        .filter(|d| !d.is_zero())
        .context("--timeout must be a positive number of seconds")?;
    Ok(Options {
        url: cli.url.clone(),
        secret: cli.secret.clone(),
        concurrency: cli.concurrency,
        rate: cli.rate,
        limit,
        livemode: cli.livemode,
        mix,
        seed: cli.seed.unwrap_or_else(|| fastrand::u64(..)),
        timeout,
    })
}

/// Parses the command line, runs the load and prints the report.
fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let options = options(&cli)?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = cli.threads {
        anyhow::ensure!(threads > 0, "--threads must be at least 1");
        runtime.worker_threads(threads);
    }
    let runtime = runtime
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime
        .block_on(loadgen::run(options))
        .context("the load run failed")?;
    let mut stdout = std::io::stdout().lock();
    if cli.json {
        writeln!(stdout, "{}", report.to_json())
    } else {
        write!(stdout, "{report}")
    }
    .and_then(|()| stdout.flush())
    .context("cannot write the report")
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("stripe-sfdc-loadgen: {error:#}");
            ExitCode::FAILURE
        }
    }
}
