//! `codegen`: generate Rust from Salesforce metadata and Stripe's OpenAPI spec, and print the model.

use std::path::PathBuf;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Model { force_app } => codegen::sfdc::load(&force_app)
            .map(|model| print!("{}", codegen::sfdc::render_table(&model)))
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("codegen: {message}");
            ExitCode::FAILURE
        }
    }
}
