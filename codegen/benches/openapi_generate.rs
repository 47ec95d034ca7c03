//! Generation time: `cargo bench -p codegen --bench openapi_generate`.
//!
//! Times generating from the committed trimmed spec, and, when Stripe's full spec is available
//! (`STRIPE_FULL_SPEC`, else `../shared/openapi/stripe.com.json`), trimming it and generating
//! from it with everything selected. Prints the median of a few runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use codegen::openapi::{Selection, generate, read_spec, to_canonical_json, trim};

fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen sits in the workspace")
        .to_owned();
    let selection = Selection::from_path(&root.join("openapi/stripe/selection.toml")).unwrap();
    let trimmed = read_spec(&root.join("openapi/stripe/spec.json")).unwrap();
    let time = median(5, || {
        generate(&trimmed, &selection, "bench").unwrap();
    });
    println!("generate, committed spec and selection: {time:.2?}");

    let full_path = std::env::var_os("STRIPE_FULL_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/openapi/stripe.com.json"));
    if !full_path.exists() {
        println!(
            "{} not found: full-spec timings skipped",
            full_path.display()
        );
        return;
    }
    let full = read_spec(&full_path).unwrap();
    let time = median(5, || {
        to_canonical_json(&trim(&full, &selection).unwrap());
    });
    println!("trim full spec to the selection: {time:.2?}");
    let everything = Selection::all(&full);
    let time = median(3, || {
        generate(&full, &everything, "bench").unwrap();
    });
    println!("generate, full spec, everything selected: {time:.2?}");
}
