//! `cargo dualtrack generate`: edge-case tests for the functions in scope, printed as one
//! module, written as files (one per source module), or listed as JSON; never run.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::analyze::{AnalyzeOptions, analyze};
use crate::cli::{GenerateArgs, GenerateFormat, GlobalArgs};
use crate::error::{ExitCode, InputError};
use crate::generate::emit::{EmittedTest, module_text};
use crate::generate::model::session::{Session, cost_text, dry_run_text, write_transcripts};
use crate::generate::offline::{self, Generation, OfflineOptions, Skipped};
use crate::output::{Styling, write_atomically};
use crate::testfile::TestMeta;
use crate::workspace::Workspace;

pub const GENERATE_SCHEMA: &str = "dualtrack.generate/v1";

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
            jobs: 0,
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
    if let (Some(provider), true) = (args.engine.provider(), args.model.dry_run) {
        let text = dry_run_text(
            provider,
            &args.model,
            &config,
            &workspace,
            (&analysis, &features),
            &specs,
        )?;
        super::emit(global, &text, Styling::Plain)?;
        return Ok(ExitCode::Clean);
    }
    let generation = match args.engine.provider() {
        None => offline::generate(
            &workspace.root,
            &analysis,
            None,
            &features,
            &specs,
            OfflineOptions {
                max_per_fn: args.max_per_fn as usize,
                max_tests: (args.max_tests > 0).then_some(args.max_tests as usize),
                private: args.private,
                potent: false,
            },
        ),
        Some(provider) => {
            let (made, cost) = Session::open(
                provider,
                &args.model,
                &config,
                &workspace,
                (&analysis, &features),
                &specs,
            )?
            .generate(HashMap::new())?;
            if !global.quiet {
                eprintln!(
                    "{}: {} input tokens ({} cached), {} output tokens in {} requests, {}",
                    args.engine.name(),
                    made.usage.input_tokens,
                    made.usage.cached_input_tokens,
                    made.usage.output_tokens,
                    made.transcripts.len(),
                    cost_text(cost)
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
            let document = document(args.engine.name(), &generation);
            let mut json = serde_json::to_string_pretty(&document)
                .context("failed to serialize the generated tests")?;
            json.push('\n');
            super::emit(global, &json, Styling::Plain)?;
        }
        GenerateFormat::Human if args.write => {
            let text = check_in(
                &workspace,
                &global.feature_selection(),
                &analysis,
                &generation,
                args.engine.provider().is_some(),
            )?;
            super::emit(global, &text, Styling::Plain)?;
        }
        GenerateFormat::Human => match &args.out {
            Some(dir) => {
                let written = write_modules(dir, &header, &generation)?;
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
        eprint!("{}", summary(&generation, args));
    }
    Ok(ExitCode::Clean)
}

/// `--write`: the generated tests checked into the tree; what was written, as text.
fn check_in(
    workspace: &Workspace,
    features: &crate::workspace::FeatureSelection,
    analysis: &crate::analyze::Analysis,
    generation: &Generation,
    by_model: bool,
) -> anyhow::Result<String> {
    let uses = crate::checkin::KeptTest::uses_of(&generation.preamble);
    let tests: Vec<crate::checkin::KeptTest> = generation
        .tests
        .iter()
        .filter_map(|test| {
            let function = analysis
                .functions
                .iter()
                .find(|f| f.path == test.test.meta.function)?;
            let mut file: syn::File = syn::parse_quote!();
            file.items = vec![syn::Item::Fn(test.test.item.clone())];
            let mut kept = crate::checkin::KeptTest::new(
                workspace,
                analysis,
                function,
                "generated".to_owned(),
                prettyplease::unparse(&file),
                String::new(),
                uses.clone(),
            );
            kept.by_model = by_model;
            Some(kept)
        })
        .collect();
    // Ctrl-C while the tests build stops the build, and what was written is rolled back.
    crate::interrupt::install();
    // A generated test that does not build in the tree is left out, and said.
    let written = crate::checkin::trial::check_in(
        workspace,
        features,
        &tests,
        true,
        &crate::progress::Progress::new("generate", false),
    )?;
    let already = tests.len() - written.tests.len() - written.skipped.len();
    let mut text = if written.tests.is_empty() {
        format!(
            "nothing new to check in ({} there already)\n",
            crate::output::plural(already, "test")
        )
    } else {
        format!(
            "checked in {} ({already} there already); they have not run yet: `cargo test` \
             shows which fail, and a failing one is a finding to fix or a test to remove\n",
            crate::output::plural(written.tests.len(), "test"),
        )
    };
    for file in &written.files {
        let _ = writeln!(text, "  {file}");
    }
    if !written.skipped.is_empty() {
        let _ = writeln!(
            text,
            "left out {}:",
            crate::output::plural(written.skipped.len(), "test")
        );
        for skipped in &written.skipped {
            let _ = writeln!(text, "  {skipped}");
        }
    }
    Ok(text)
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

/// Files `DIR/<module>.rs`, one per module of the functions attacked (`ledger::money` →
/// `ledger_money.rs`); returns each path and its test count.
fn write_modules(
    dir: &Path,
    header: &serde_json::Value,
    generation: &Generation,
) -> anyhow::Result<Vec<(std::path::PathBuf, usize)>> {
    let mut by_module: BTreeMap<String, Vec<EmittedTest>> = BTreeMap::new();
    for test in &generation.tests {
        by_module
            .entry(test.module.replace("::", "_").replace(['(', ')'], ""))
            .or_default()
            .push(test.test.clone());
    }
    std::fs::create_dir_all(dir)
        .map_err(|err| InputError::new(format!("cannot create {}: {err}", dir.display())))?;
    let names: std::collections::BTreeSet<String> =
        by_module.keys().map(|m| format!("{m}.rs")).collect();
    // Only files this command wrote before are rewritten: a file of the user's by that name is
    // named, and nothing is written.
    for name in &names {
        let path = dir.join(name);
        if path.symlink_metadata().is_ok() && !is_generated(&path) {
            return Err(InputError::new(format!(
                "{} is not a file `generate` wrote (it does not start with `//! dualtrack:`), so \
                 it is left as it is and nothing was written: pass another --out directory, or \
                 move the file away",
                path.display()
            ))
            .into());
        }
    }
    remove_stale_modules(dir, &names)?;
    let mut written = Vec::new();
    for (module, tests) in by_module {
        let path = dir.join(format!("{module}.rs"));
        write_atomically(&path, &module_text(header, &generation.preamble, &tests))?;
        written.push((path, tests.len()));
    }
    Ok(written)
}

/// A regular file that starts with the generated header (not a link, not a FIFO).
fn is_generated(path: &Path) -> bool {
    path.symlink_metadata().is_ok_and(|m| m.is_file())
        && std::fs::read_to_string(path).is_ok_and(|text| text.starts_with("//! dualtrack:"))
}

/// Generated modules an earlier run wrote into `dir` that this run does not rewrite: they
/// would run tests for code that changed. Only files that start with the generated header go.
fn remove_stale_modules(
    dir: &Path,
    keep: &std::collections::BTreeSet<String>,
) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| InputError::new(format!("cannot read {}: {err}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || keep.contains(&name) || !entry.file_type()?.is_file() {
            continue;
        }
        if is_generated(&path) {
            std::fs::remove_file(&path)
                .with_context(|| format!("failed to remove the stale {}", path.display()))?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    engine: &'a str,
    tests: Vec<TestEntry<'a>>,
    /// Items every module of these tests needs first (std's prelude in a `no_std` crate).
    preamble: &'a str,
    skipped: &'a [Skipped],
    warnings: &'a [String],
}

#[derive(Serialize)]
struct TestEntry<'a> {
    name: String,
    #[serde(flatten)]
    meta: &'a TestMeta,
    module: &'a str,
    code: String,
}

fn document<'a>(engine: &'a str, generation: &'a Generation) -> Document<'a> {
    Document {
        schema: GENERATE_SCHEMA,
        engine,
        tests: generation
            .tests
            .iter()
            .map(|t| TestEntry {
                name: t.test.item.sig.ident.to_string(),
                meta: &t.test.meta,
                module: &t.module,
                code: module_text_of_one(&t.test),
            })
            .collect(),
        preamble: &generation.preamble,
        skipped: &generation.skipped,
        warnings: &generation.warnings,
    }
}

/// One test printed alone, without the module header.
fn module_text_of_one(test: &EmittedTest) -> String {
    let mut file: syn::File = syn::parse_quote!();
    file.items.push(syn::Item::Fn(test.item.clone()));
    prettyplease::unparse(&file)
}

/// What was made and what was not, for stderr.
fn summary(generation: &Generation, args: &GenerateArgs) -> String {
    let mut out = String::new();
    let functions: std::collections::BTreeSet<&str> = generation
        .tests
        .iter()
        .map(|t| t.test.meta.function.as_str())
        .collect();
    let _ = writeln!(
        out,
        "generated {} for {} ({}); {} skipped",
        crate::output::plural(generation.tests.len(), "test"),
        crate::output::plural(functions.len(), "function"),
        crate::output::plural(generation.candidates, "candidate"),
        crate::output::plural(generation.skipped.len(), "function")
    );
    if args.max_tests > 0 && generation.callable > functions.len() {
        let _ = writeln!(
            out,
            "note: {} functions could be tested but --max-tests {} spreads over {}: narrow with --fn or raise --max-tests (0 for no limit)",
            generation.callable,
            args.max_tests,
            functions.len()
        );
    }
    for skipped in &generation.skipped {
        let _ = writeln!(
            out,
            "skipped {}: {}",
            skipped.function,
            skipped.reasons.join("; ")
        );
    }
    out
}
