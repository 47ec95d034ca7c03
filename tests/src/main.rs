//! `sfdc-sim`: run the local Salesforce org by hand.
//!
//! ```sh
//! cargo run -p sfdc-sim -- --port 8899 --daily-limit 1000
//! ```
//!
//! prints the URL to use as login and instance URL, then serves until Ctrl-C.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use sfdc_sim::{SimConfig, Simulator};

/// A local Salesforce org enforcing the force-app data model.
#[derive(Debug, Parser)]
#[command(name = "sfdc-sim", version, about)]
struct Args {
    /// Port to listen on (0 for any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// API calls allowed per day.
    #[arg(long, default_value_t = 100_000)]
    daily_limit: u64,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 7200)]
    token_ttl_secs: u64,
    /// OAuth consumer key.
    #[arg(long, env = "SFDC_SIM_CLIENT_ID", default_value = "test-client")]
    client_id: String,
    /// OAuth consumer secret.
    #[arg(long, env = "SFDC_SIM_CLIENT_SECRET", default_value = "test-secret")]
    client_secret: String,
    /// Refresh token accepted by the refresh token flow.
    #[arg(
        long,
        env = "SFDC_SIM_REFRESH_TOKEN",
        default_value = "test-refresh-token"
    )]
    refresh_token: String,
    /// PEM file (public key or certificate) JWT bearer assertions must verify against.
    #[arg(long)]
    jwt_public_key: Option<std::path::PathBuf>,
    /// Records per query page.
    #[arg(long, default_value_t = 2000)]
    query_batch_size: usize,
    /// Newest API version served.
    #[arg(long, default_value = "62.0")]
    api_version: String,
    /// Status of an upsert that updated a record: 200 (JSON body) or 204 (no body).
    #[arg(long, default_value_t = 200)]
    upsert_update_status: u16,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let jwt_public_key_pem = match &args.jwt_public_key {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the JWT public key {}", path.display()))?,
        ),
        None => None,
    };
    let config = SimConfig {
        daily_api_limit: args.daily_limit,
        token_ttl: Duration::from_secs(args.token_ttl_secs),
        client_id: args.client_id,
        client_secret: args.client_secret,
        refresh_token: args.refresh_token,
        jwt_public_key_pem,
        query_batch_size: args.query_batch_size,
        api_version: args.api_version,
        upsert_update_status: args.upsert_update_status,
    };
    let address = SocketAddr::new(args.host, args.port);
    let simulator = Simulator::start_on(config, address)
        .await
        .with_context(|| format!("cannot start the simulator on {address}"))?;
    println!("{}", simulator.url());
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    simulator.shutdown().await;
    Ok(())
}
