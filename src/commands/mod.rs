//! The glue of each command: options from the command line, the stages called, the output
//! written, the exit code chosen.

pub mod analyze;
pub mod clean;
pub mod context;
pub mod fuzz;
pub mod generate;
pub mod init;
pub mod reconcile;
pub mod review;
pub mod run_tests;
pub mod score;
pub mod stats;

use crate::cli::{Cli, Command};
use crate::error::ExitCode;

/// Run the command the user asked for.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command.unwrap_or(Command::Review(cli.review)) {
        Command::Review(args) => review::run(&cli.global, &args),
        Command::Fuzz(args) => fuzz::run(&cli.global, &args),
        Command::Clean(args) => clean::run(&cli.global, &args),
        Command::Stats(args) => stats::run(&cli.global, &args),
        Command::Init => init::run(&cli.global),
        Command::Reconcile(args) => reconcile::run(&cli.global, &args),
        Command::Analyze(args) => analyze::run(&cli.global, &args),
        Command::Score(args) => score::run(&cli.global, &args),
        Command::Generate(args) => generate::run(&cli.global, &args),
        Command::RunTests(args) => run_tests::run(&cli.global, &args),
        // Normally handled in `main` before anything else runs; here for completeness.
        Command::SandboxInit(args) => std::process::exit(crate::scratch::builtin::run(&args)),
    }
}

use crate::output::{Styling, print_stdout, strip_styles, write_atomically};

/// Print `text` to stdout, or write it to `--output` (without color escapes).
/// Write `value` as pretty JSON where [`emit`] would: to stdout as it is serialized (a large
/// document is never held twice), to a file atomically.
pub fn emit_json(
    global: &crate::cli::GlobalArgs,
    value: &impl serde::Serialize,
) -> anyhow::Result<()> {
    match &global.output {
        Some(path) if path.as_os_str() != "-" => {
            let mut json = anyhow::Context::context(
                serde_json::to_string_pretty(value),
                "failed to serialize the document",
            )?;
            json.push('\n');
            emit(global, &json, Styling::Plain)
        }
        _ => crate::output::print_json_stdout(value),
    }
}

pub fn emit(global: &crate::cli::GlobalArgs, text: &str, styling: Styling) -> anyhow::Result<()> {
    match &global.output {
        // `-` is stdout, as for most tools, not a file named `-`.
        Some(path) if path.as_os_str() == "-" => print_stdout(text, styling),
        Some(path) if styling == Styling::Styled => write_atomically(path, &strip_styles(text)),
        Some(path) => write_atomically(path, text),
        None => print_stdout(text, styling),
    }
}
