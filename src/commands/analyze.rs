//! `cargo dualtrack analyze`: list the sites of every function in the selected packages.

use std::time::Instant;

use crate::analyze::{AnalyzeOptions, analyze};
use crate::cli::{AnalyzeArgs, AnalyzeFormat, GlobalArgs};
use crate::error::ExitCode;
use crate::output::Styling;
use crate::report::analysis::render_human;

pub fn run(global: &GlobalArgs, args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let context = super::context::Context::open(global)?;
    let workspace = &context.workspace;
    let filter = context.filter(&args.functions)?;
    let analysis = analyze(
        workspace,
        &AnalyzeOptions {
            include_tests: args.include_tests,
            filter,
            jobs: global.jobs(),
        },
    );
    if args.functions.names_any() && analysis.functions.is_empty() {
        return Err(crate::analyze::filter::no_function_matches().into());
    }
    match args.format {
        AnalyzeFormat::Json => super::emit_json(global, &analysis)?,
        AnalyzeFormat::Human => {
            let text = render_human(&analysis, &workspace.root, Some(start.elapsed()));
            super::emit(global, &text, Styling::Styled)?;
        }
    }
    if args.format == AnalyzeFormat::Json && !global.quiet {
        for error in &analysis.errors {
            eprintln!(
                "warning: {}:{}:{}: {}",
                error.file, error.line, error.column, error.message
            );
        }
    }
    let unparsed = analysis.errors.len();
    if unparsed > 0 && args.strict {
        eprintln!(
            "error: {} not read (--strict): fix the errors above, or drop --strict to skip them",
            files_were(unparsed)
        );
        return Ok(ExitCode::Usage);
    }
    if unparsed > 0 && !global.quiet && args.format == AnalyzeFormat::Human {
        eprintln!(
            "warning: {} not read, and {} functions skipped (--strict makes that exit 2)",
            files_were(unparsed),
            if unparsed == 1 { "its" } else { "their" }
        );
    }
    Ok(ExitCode::Clean)
}

/// `1 file was`, `3 files were`.
fn files_were(count: usize) -> String {
    let verb = if count == 1 { "was" } else { "were" };
    format!("{} {verb}", crate::output::plural(count, "file"))
}
