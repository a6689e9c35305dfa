//! The glue of each command: options from the command line, the stages called, the output
//! written, the exit code chosen.

pub mod analyze;

use crate::cli::{Cli, Command};
use crate::error::ExitCode;

/// Run the command the user asked for.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Analyze(args) => analyze::run(&cli.global, &args),
    }
}

/// Print `text` to stdout, or write it to `--output`.
pub fn emit(global: &crate::cli::GlobalArgs, text: &str) -> anyhow::Result<()> {
    match &global.output {
        Some(path) => crate::output::write_atomically(path, text),
        None => crate::output::print_stdout(text),
    }
}
