//! Generates the low-level Salesforce REST client from `openapi/salesforce/openapi.json` with
//! progenitor, into `$OUT_DIR/salesforce_api.rs` (included by `src/salesforce/api.rs`).
//!
//! - operations marked `x-hand-written` (the Bulk API 2.0 CSV upload: progenitor sends no
//!   `text/csv` body) are left out; `src/salesforce/bulk.rs` sends them
//! - `Record` and `JsonValue` become `Box<serde_json::value::RawValue>`, so record JSON is
//!   read and written as text and numbers stay exact (sfdc-types reads decimals from the text)
//! - `TokenRequest` and `TokenResponse` become the hand-written types of `auth.rs`, whose
//!   `Debug` hides the secrets
//! - every request goes through `transport::before_send` (bearer token) and every response
//!   through `transport::after_receive` (`Sforce-Limit-Info`)

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    generate_mappings();
    match generate() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn generate() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let spec_path = manifest_dir.join("../openapi/salesforce/openapi.json");
    println!("cargo::rerun-if-changed={}", spec_path.display());

    let text = std::fs::read_to_string(&spec_path)
        .map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    let mut spec: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", spec_path.display()))?;
    drop_hand_written(&mut spec);
    let spec = serde_json::from_value(spec)
        .map_err(|e| format!("{} is not OpenAPI 3.0: {e}", spec_path.display()))?;

    let raw_json = "Box<::serde_json::value::RawValue>";
    let mut settings = progenitor::GenerationSettings::new();
    settings
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_inner_type(tokens("crate::salesforce::transport::Hooks")?)
        .with_pre_hook(tokens("crate::salesforce::transport::before_send")?)
        .with_post_hook(tokens("crate::salesforce::transport::after_receive")?)
        .with_replacement("Record", raw_json, std::iter::empty())
        .with_replacement("JsonValue", raw_json, std::iter::empty())
        .with_replacement(
            "TokenRequest",
            "crate::salesforce::auth::TokenForm",
            std::iter::empty(),
        )
        .with_replacement(
            "TokenResponse",
            "crate::salesforce::auth::TokenResponse",
            std::iter::empty(),
        );
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| format!("progenitor cannot generate {}: {e}", spec_path.display()))?;
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor's output does not parse: {e}"))?;

    let out = Path::new(&env("OUT_DIR")?).join("salesforce_api.rs");
    std::fs::write(&out, prettyplease::unparse(&file))
        .map_err(|e| format!("cannot write {}: {e}", out.display()))
}

/// Removes the operations marked `"x-hand-written": true`, and paths left without one.
fn drop_hand_written(spec: &mut serde_json::Value) {
    let Some(paths) = spec.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for item in paths.values_mut() {
        if let Some(item) = item.as_object_mut() {
            item.retain(|_, operation| {
                operation.get("x-hand-written") != Some(&serde_json::Value::Bool(true))
            });
        }
    }
    paths.retain(|_, item| {
        item.as_object().is_some_and(|item| {
            item.keys().any(|key| {
                matches!(
                    key.as_str(),
                    "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
                )
            })
        })
    });
}

fn tokens(text: &str) -> Result<proc_macro2::TokenStream, String> {
    text.parse()
        .map_err(|e| format!("{text:?} is not a Rust path: {e}"))
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

/// Checks `sync/mappings.toml` against Stripe's spec (`openapi/stripe/spec.json`) and the
/// Salesforce model (`force-app/`) and writes the mapping functions to `$OUT_DIR/mappings.rs`
/// (included by `src/mapping/mod.rs`). `SYNC_MAPPINGS_FILE`, `STRIPE_TYPES_SPEC` and
/// `SFDC_FORCE_APP_DIR` name other inputs. On any problem it prints every one, each with the
/// file and line, and fails the build.
fn generate_mappings() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let input = |var: &str, default: &str, label: &str| {
        println!("cargo::rerun-if-env-changed={var}");
        let (path, label) = match std::env::var_os(var) {
            Some(path) => (
                PathBuf::from(&path),
                PathBuf::from(path).display().to_string(),
            ),
            None => (manifest_dir.join(default), label.to_string()),
        };
        println!("cargo::rerun-if-changed={}", path.display());
        (path, label)
    };
    let (mappings, label) = input("SYNC_MAPPINGS_FILE", "mappings.toml", "sync/mappings.toml");
    let (spec, _) = input("STRIPE_TYPES_SPEC", "../openapi/stripe/spec.json", "");
    let (force_app, _) = input("SFDC_FORCE_APP_DIR", "../force-app", "");
    let code = codegen::mapping::load(&mappings, &label, &spec, &force_app).and_then(|plan| {
        codegen::mapping::generate(&plan, &codegen::mapping::EmitOptions::default())
    });
    let written = code.map_err(|e| e.to_string()).and_then(|code| {
        let out =
            PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("mappings.rs");
        std::fs::write(&out, code).map_err(|e| format!("cannot write {}: {e}", out.display()))
    });
    if let Err(message) = written {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
