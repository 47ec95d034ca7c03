//! Generates stripe-types from Stripe's full spec with every operation, resource and event
//! selected, and checks that the result compiles. Off by default (it builds ~150k generated
//! lines): run it with
//!
//! ```text
//! STRIPE_FULL_SPEC_TEST=1 cargo test -p codegen --test openapi_full_spec -- --nocapture
//! ```
//!
//! It reads `STRIPE_FULL_SPEC`, else `../shared/openapi/stripe.com.json` (see
//! `openapi/README.md`), and builds into `target/full-spec` to leave the usual builds alone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use codegen::openapi::{Selection, generate, read_spec};

const GATE: &str = "STRIPE_FULL_SPEC_TEST";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen sits in the workspace")
        .to_owned()
}

#[test]
fn full_spec_generates_code_that_compiles() {
    if std::env::var_os(GATE).is_none() {
        loud(&format!(
            "\n*** SKIPPED full_spec_generates_code_that_compiles: set {GATE}=1 to generate \
             stripe-types\n*** from the full spec with everything selected and compile it.\n"
        ));
        return;
    }
    let root = repo_root();
    let spec_path = std::env::var_os("STRIPE_FULL_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/openapi/stripe.com.json"));
    assert!(
        spec_path.exists(),
        "{GATE} is set but {} does not exist (set STRIPE_FULL_SPEC)",
        spec_path.display()
    );
    let spec = read_spec(&spec_path).unwrap();
    let selection = Selection::all(&spec);

    let started = Instant::now();
    let sources = generate(&spec, &selection, "the full spec").unwrap();
    let lines: usize = sources
        .files
        .iter()
        .map(|f| f.contents.lines().count())
        .sum();
    eprintln!(
        "generated {} operations, {} schemas, {} event types: {lines} lines in {:.2?}",
        selection.operations.len(),
        selection.resources.len(),
        selection.events.len(),
        started.elapsed()
    );

    let target = root.join("target/full-spec");
    std::fs::create_dir_all(&target).unwrap();
    let selection_path = target.join("all-selection.toml");
    std::fs::write(&selection_path, selection.to_toml_string()).unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let status = Command::new(cargo)
        .args(["build", "-p", "stripe-types"])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target)
        .env("STRIPE_TYPES_SPEC", &spec_path)
        .env("STRIPE_TYPES_SELECTION", &selection_path)
        .status()
        .unwrap();
    eprintln!(
        "cargo build -p stripe-types (full spec): {:.2?}",
        started.elapsed()
    );
    assert!(
        status.success(),
        "stripe-types generated from the full spec does not compile"
    );
}

/// Writes to the process's stderr directly, past the test harness's output capture, so that a
/// skipped check shows even in a plain `cargo test`.
fn loud(message: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(message.as_bytes());
}
