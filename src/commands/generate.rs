//! `cargo dualtrack generate`: edge-case tests for the functions in scope, printed as one
//! module, written as files (one per source module), or listed as JSON; never run.

use std::collections::HashMap;
use std::fmt::Write as _;

use anyhow::Context;

use crate::analyze::{AnalyzeOptions, analyze};
use crate::cli::{GenerateArgs, GenerateFormat, GlobalArgs};
use crate::error::{ExitCode, InputError};
use crate::generate::emit::module_text;
use crate::generate::offline::{self, OfflineOptions};
use crate::output::Styling;
use crate::setup::llm::{Session, cost_text, write_transcripts};

pub fn run(global: &GlobalArgs, args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let context = super::context::Context::open(global)?;
    let args = &args.with_config(&context.config);
    let specs = context.specs(&args.specs, global.quiet)?;
    let filter = context.filter(&args.functions)?;
    let super::context::Context {
        workspace, config, ..
    } = context;
    let filtering = args.functions.names_any();
    let analysis = analyze(
        &workspace,
        &AnalyzeOptions {
            include_tests: false,
            filter,
            jobs: global.jobs(),
        },
    );
    if filtering && analysis.functions.is_empty() {
        return Err(InputError::new(format!(
            "no function matches {}: `cargo dualtrack analyze` lists the function paths",
            describe_filter(args)
        ))
        .into());
    }
    if args.write && args.format != GenerateFormat::Human {
        return Err(InputError::new(
            "--write checks the tests into your tree and prints what it wrote: drop --format",
        )
        .into());
    }
    let features = workspace.features_by_crate(&global.feature_selection());
    let generation = match args.engine.provider() {
        None => offline::generate(
            &workspace.root,
            &analysis,
            None,
            &features,
            &specs,
            OfflineOptions {
                max_per_fn: args.offline_max_per_fn(),
                max_tests: (args.max_tests > 0).then_some(args.max_tests as usize),
                private: args.private,
                potent: false,
            },
        ),
        Some(provider) => {
            let mut session = Session::open(
                provider,
                &args.model,
                &config,
                &workspace,
                (&analysis, &features),
                &specs,
            )?;
            if args.model.dry_run {
                super::emit(global, &session.dry_run(), Styling::Plain)?;
                return Ok(ExitCode::Clean);
            }
            let (made, cost) = session.generate(HashMap::new(), HashMap::new())?;
            if !global.quiet {
                eprintln!(
                    "{}: {} input tokens ({} cached), {} output tokens in {} requests, {}",
                    args.engine.name(),
                    made.usage.input_tokens,
                    made.usage.cached_input_tokens,
                    made.usage.output_tokens,
                    made.transcripts.len(),
                    cost_text(cost, args.engine.name())
                );
            }
            if let Some(dir) = &args.model.transcripts {
                write_transcripts(dir, &made.transcripts)?;
            }
            made.generation
        }
    };
    let header = serde_json::json!({ "engine": args.engine.name() });
    if !global.quiet {
        for warning in &generation.warnings {
            eprintln!("warning: {warning}");
        }
    }
    match args.format {
        GenerateFormat::Json => {
            let document = crate::generate::document::document(args.engine.name(), &generation);
            let mut json = serde_json::to_string_pretty(&document)
                .context("failed to serialize the generated tests")?;
            json.push('\n');
            super::emit(global, &json, Styling::Plain)?;
        }
        GenerateFormat::Human if args.write => {
            let (written, already) = crate::checkin::generated::check_in_generated(
                &workspace,
                &global.feature_selection(),
                &analysis,
                &generation,
                args.engine.provider().is_some(),
            )?;
            super::emit(
                global,
                &crate::report::generate::checked_in(&written, already),
                Styling::Plain,
            )?;
        }
        GenerateFormat::Human => match &args.out {
            Some(dir) => {
                let written = crate::generate::write::write_modules(dir, &header, &generation)?;
                let mut listing = String::new();
                for (path, count) in &written {
                    let _ = writeln!(listing, "{}  ({count} tests)", path.display());
                }
                super::emit(global, &listing, Styling::Plain)?;
            }
            None => {
                let tests = generation.emitted();
                super::emit(
                    global,
                    &module_text(&header, &generation.preamble, &tests),
                    Styling::Plain,
                )?;
            }
        },
    }
    if !global.quiet {
        eprint!(
            "{}",
            crate::report::generate::summary(&generation, args.max_tests)
        );
    }
    Ok(ExitCode::Clean)
}

fn describe_filter(args: &GenerateArgs) -> String {
    let mut parts: Vec<String> = args
        .functions
        .fn_patterns
        .iter()
        .map(|p| format!("--fn {p}"))
        .collect();
    parts.extend(args.functions.files.iter().map(|f| format!("--file {f}")));
    parts.join(" ")
}
