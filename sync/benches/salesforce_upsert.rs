//! Upserting 10,000 `Stripe_Customer__c` records through sObject Collections (200 per call)
//! versus one Bulk API 2.0 job, against the simulated org: API calls counted by the
//! simulator, and wall time. Each run starts a fresh org, so every record is created.
//!
//! `cargo bench -p stripe-sfdc-sync --bench salesforce_upsert` (`-- --records N` for another
//! count).

use std::time::{Duration, Instant};

use sfdc_sim::{SimConfig, Simulator};
use sfdc_types::rust_decimal::Decimal;
use sfdc_types::{Patch, StripeCustomerSyncStatus, StripeCustomerWrite};
use stripe_sfdc_sync::salesforce::{BulkOptions, Client, Credentials, RecordResult};

const CUSTOMER_ID: &str = "Stripe_Customer_ID__c";

fn records(count: usize) -> Vec<StripeCustomerWrite> {
    (0..count)
        .map(|n| StripeCustomerWrite {
            stripe_customer_id: Patch::Set(format!("cus_bench{n:06}")),
            name: Patch::Set(format!("Customer {n}")),
            email: Patch::Set(format!("customer{n}@example.com")),
            balance: Patch::Set(Decimal::new(n as i64 * 101, 2)),
            currency: Patch::Set("usd".into()),
            sync_status: Patch::Set(StripeCustomerSyncStatus::Synced),
            ..Default::default()
        })
        .collect()
}

struct Run {
    name: &'static str,
    calls: u64,
    elapsed: Duration,
    written: usize,
}

async fn org() -> Result<(Simulator, Client), Box<dyn std::error::Error>> {
    let sim = Simulator::start(SimConfig::default()).await?;
    let client = Client::builder(
        sim.url(),
        Credentials::client_credentials("test-client", "test-secret"),
    )
    .build()?;
    client.login().await?;
    Ok((sim, client))
}

fn written(results: &[RecordResult]) -> usize {
    results.iter().filter(|r| r.is_success()).count()
}

async fn collections(records: &[StripeCustomerWrite]) -> Result<Run, Box<dyn std::error::Error>> {
    let (sim, client) = org().await?;
    let started = Instant::now();
    let results = client
        .upsert_collection(CUSTOMER_ID, records, false)
        .await?;
    let elapsed = started.elapsed();
    let run = Run {
        name: "Collections (200/call)",
        calls: sim.api_calls(),
        elapsed,
        written: written(&results),
    };
    sim.shutdown().await;
    Ok(run)
}

async fn bulk(
    name: &'static str,
    records: &[StripeCustomerWrite],
    options: &BulkOptions,
) -> Result<Run, Box<dyn std::error::Error>> {
    let (sim, client) = org().await?;
    let started = Instant::now();
    let result = client.bulk_upsert(CUSTOMER_ID, records, options).await?;
    let elapsed = started.elapsed();
    let run = Run {
        name,
        calls: sim.api_calls(),
        elapsed,
        written: written(&result.results),
    };
    sim.shutdown().await;
    Ok(run)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args()
        .skip_while(|arg| arg != "--records")
        .skip(1);
    let count = match args.next() {
        Some(count) => count.parse()?,
        None => 10_000,
    };
    let records = records(count);
    let fast = BulkOptions {
        poll_interval: Duration::from_millis(50),
        max_poll_interval: Duration::from_millis(500),
        timeout: Duration::from_secs(600),
    };
    let runs = [
        collections(&records).await?,
        bulk(
            "Bulk API 2.0 (polls 1 s → 15 s)",
            &records,
            &BulkOptions::default(),
        )
        .await?,
        bulk("Bulk API 2.0 (polls 50 ms → 500 ms)", &records, &fast).await?,
    ];
    println!("upsert of {count} Stripe_Customer__c records against the simulator");
    println!(
        "{:<38} {:>9} {:>10} {:>12}",
        "path", "API calls", "time", "records/s"
    );
    for run in &runs {
        let secs = run.elapsed.as_secs_f64();
        println!(
            "{:<38} {:>9} {:>9.2}s {:>12.0}",
            run.name,
            run.calls,
            secs,
            run.written as f64 / secs
        );
        if run.written != count {
            return Err(format!("{}: {} of {count} records written", run.name, run.written).into());
        }
    }
    Ok(())
}
