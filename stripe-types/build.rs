//! Generates Stripe resources, parameters and client methods from the trimmed spec.
//!
//! Reads `openapi/stripe/spec.json` and `openapi/stripe/selection.toml` at the workspace root, or
//! the files named by `STRIPE_TYPES_SPEC` and `STRIPE_TYPES_SELECTION`, and writes `types.rs`,
//! `params.rs` and `operations.rs` to `OUT_DIR` for `src/lib.rs` to include.

use std::env;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use codegen::openapi::{self, Selection};

const SPEC_VAR: &str = "STRIPE_TYPES_SPEC";
const SELECTION_VAR: &str = "STRIPE_TYPES_SELECTION";
const DEFAULT_SPEC: &str = "openapi/stripe/spec.json";
const DEFAULT_SELECTION: &str = "openapi/stripe/selection.toml";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("stripe-types build script: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR unset")?);
    let workspace = manifest_dir.parent().unwrap_or(&manifest_dir).to_owned();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").ok_or("OUT_DIR unset")?);

    let (spec_path, spec_label) = input(SPEC_VAR, &workspace, DEFAULT_SPEC);
    let (selection_path, selection_label) = input(SELECTION_VAR, &workspace, DEFAULT_SELECTION);
    println!("cargo::rerun-if-env-changed={SPEC_VAR}");
    println!("cargo::rerun-if-env-changed={SELECTION_VAR}");
    println!("cargo::rerun-if-changed={}", spec_path.display());
    println!("cargo::rerun-if-changed={}", selection_path.display());

    let spec = openapi::read_spec(&spec_path).map_err(|e| e.to_string())?;
    let selection = Selection::from_path(&selection_path).map_err(|e| e.to_string())?;
    let source = format!("{spec_label} and {selection_label}");
    let sources = openapi::generate(&spec, &selection, &source).map_err(|e| e.to_string())?;
    sources.write_to_dir(&out_dir).map_err(|e| e.to_string())
}

/// The file to read and how generated headers name it: relative to the workspace by default, so
/// that generated code does not depend on where the repository is checked out.
fn input(var: &str, workspace: &Path, default: &str) -> (PathBuf, String) {
    match env::var_os(var) {
        Some(path) => {
            let path = PathBuf::from(path);
            let label = path.display().to_string();
            (path, label)
        }
        None => (workspace.join(default), default.to_owned()),
    }
}
