//! Generates the record types of `sfdc-types` from the Salesforce metadata in `force-app/`
//! (or the folder named by `SFDC_FORCE_APP_DIR`).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    println!("cargo::rerun-if-env-changed=SFDC_FORCE_APP_DIR");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let force_app = match std::env::var_os("SFDC_FORCE_APP_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest_dir.join("../force-app"),
    };
    println!("cargo::rerun-if-changed={}", force_app.display());
    let source = match std::env::var_os("SFDC_FORCE_APP_DIR") {
        Some(_) => force_app.display().to_string(),
        None => "force-app".to_string(),
    };
    let model = match codegen::sfdc::load(&force_app) {
        Ok(model) => model,
        Err(e) => {
            eprintln!(
                "sfdc-types: cannot generate from {}: {e}",
                force_app.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let options = codegen::sfdc::EmitOptions {
        source,
        runtime: "crate".to_string(),
    };
    let code = match codegen::sfdc::generate(&model, &options) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sfdc-types: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("sfdc_types.rs");
    if let Err(e) = std::fs::write(&out, code) {
        eprintln!("sfdc-types: cannot write {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
