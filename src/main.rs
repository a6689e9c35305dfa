//! The `cargo-dualtrack` binary: parse the command line, run the command, map errors to exit
//! codes.

use dualtrack::cli::{Cli, ColorWhen, parse, strip_cargo_subcommand_arg};
use dualtrack::error::{ExitCode, exit_code_for};

/// Parsing a crate with syn is mostly small allocations: mimalloc makes `analyze` a quarter
/// quicker than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args = strip_cargo_subcommand_arg(std::env::args_os().collect());
    let cli = match parse(args) {
        // The sandbox init runs first and alone: no threads, no colors, nothing else.
        Ok(Cli {
            command: Some(dualtrack::cli::Command::SandboxInit(init)),
            ..
        }) => std::process::exit(dualtrack::scratch::builtin::run(&init)),
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            // --help and --version are not errors.
            return if err.use_stderr() {
                ExitCode::Usage.into()
            } else {
                ExitCode::Clean.into()
            };
        }
    };
    // `--color` wins; left at `auto`, cargo's own `CARGO_TERM_COLOR` decides, as under cargo.
    let color = match (
        cli.global.color,
        std::env::var("CARGO_TERM_COLOR").as_deref(),
    ) {
        (ColorWhen::Auto, Ok("always")) => ColorWhen::Always,
        (ColorWhen::Auto, Ok("never")) => ColorWhen::Never,
        (chosen, _) => chosen,
    };
    anstream::ColorChoice::write_global(match color {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    });
    match dualtrack::commands::run(cli) {
        Ok(code) => code.into(),
        Err(err) => {
            let code = exit_code_for(&err);
            if code == ExitCode::Internal {
                eprintln!("error: internal error: {err:#}");
                eprintln!(
                    "This is a bug in cargo-dualtrack; please report it with the command you ran."
                );
            } else {
                eprintln!("error: {err:#}");
            }
            code.into()
        }
    }
}
