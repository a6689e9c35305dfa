//! `cargo dualtrack review` (and plain `cargo dualtrack`): the functions that changed since a
//! base (or those asked for), scored against the spec, attacked with generated tests in the
//! scratch copy; findings reported, and written with the tests into the run directory.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use anyhow::Context;
use serde_json::json;

use crate::analyze::{Analysis, AnalyzeOptions, FunctionFilter, analyze};
use crate::cli::{FailOn, GlobalArgs, ReviewArgs, ReviewFormat};
use crate::config::Config;
use crate::decisions::Decisions;
use crate::error::{ExitCode, InputError};
use crate::generate::emit::module_text;
use crate::generate::offline::{self, OfflineOptions};
use crate::output::{Styling, write_atomically};
use crate::progress::Progress;
use crate::report::review::{render_human, render_junit, render_markdown};
use crate::report::sarif::{SarifContext, render_sarif};
use crate::review::diff::{
    changed_since, default_base, has_commits, no_commits, repository_root, touched_functions,
};
use crate::review::document::{
    Finding, FindingKind, Fix, FunctionRow, ReviewDocument, Skipped, Usage, Verdict, per_function,
};
use crate::review::exclude::Exclusions;
use crate::review::findings::{
    add_reproduce, collapse_duplicates, earlier_finding_ids, finding_id, mark_status,
    review_document, run_id, split_location,
};
use crate::scratch::ModuleInput;
use crate::spec::link::item_targets;
use crate::spec::score::{ScoreReport, score};
use crate::testfile::parse_test_module;
use crate::workspace::Workspace;

pub fn run(global: &GlobalArgs, args: &ReviewArgs) -> anyhow::Result<ExitCode> {
    crate::interrupt::install();
    let started = std::time::Instant::now();
    let context = super::context::Context::open(global)?;
    let args = &args.with_config(&context.config);
    let filter = context.filter(&args.functions)?;
    let super::context::Context {
        workspace,
        config,
        cwd,
    } = &context;
    // A report that cannot be written should stop the review before it runs, not after.
    if let Some(path) = &global.output {
        crate::output::check_writable(path)?;
    }
    if let Some(dir) = &args.model.transcripts
        && dir.exists()
        && !dir.is_dir()
    {
        return Err(
            InputError::new(format!("--transcripts {}: not a directory", dir.display())).into(),
        );
    }
    let progress = Progress::new("review", global.quiet);
    let stage = progress.quick_stage("analyzing");
    // The whole crate: `--fn`/`--file` pick the scope from it, and a private function in
    // scope is reached through public callers that may lie outside it.
    let full = analyze(
        workspace,
        &AnalyzeOptions {
            include_tests: false,
            filter: FunctionFilter::default(),
            jobs: 0,
        },
    );
    stage.finish(None);
    // Read before the long part: a broken file fails the command now, not after the run.
    let decisions = Decisions::load(&workspace.root)?;
    for error in full.errors.iter().filter(|e| filter.matches_file(&e.file)) {
        progress.line(&format!(
            "warning: {}:{}:{}: {} (its functions are not reviewed)",
            error.file, error.line, error.column, error.message
        ));
    }
    // Nothing to review still writes (empty) reports: a CI step that uploads them must not
    // pick up an older run's.
    let (mut indices, mut description, nothing) =
        match select_scope(workspace, args, &full, &filter)? {
            Selected::Functions {
                indices,
                description,
            } => {
                progress.line(&format!(
                    "{description}: {}",
                    crate::output::plural(indices.len(), "function")
                ));
                (indices, description, false)
            }
            Selected::Nothing(why) => {
                progress.line(&format!("{why}; nothing to review"));
                (Vec::new(), why, true)
            }
        };
    if let Some((k, n)) = args.shard {
        indices = shard(&full, indices, k, n);
        description = format!("{description}, shard {k}/{n}");
    }
    // Exclusions: the config's patterns and `// dualtrack: skip` comments.
    let exclusions = Exclusions::new(&config.exclude, &workspace.root)?;
    let mut excluded = Vec::new();
    let mut sources: HashMap<String, Option<String>> = HashMap::new();
    let indices: Vec<usize> = indices
        .into_iter()
        .filter(|&i| {
            let function = &full.functions[i];
            let source = sources.entry(function.file.clone()).or_insert_with(|| {
                std::fs::read_to_string(workspace.root.join(&function.file)).ok()
            });
            match exclusions.reason(function, source.as_deref()) {
                Some(reason) => {
                    excluded.push(Skipped {
                        function: function.path.clone(),
                        reasons: vec![reason],
                    });
                    false
                }
                None => true,
            }
        })
        .collect();
    if !excluded.is_empty() {
        progress.line(&format!(
            "{} left out by `exclude` in dualtrack.toml or `// dualtrack: skip` (listed under \
             `skipped` in report.json)",
            crate::output::plural(excluded.len(), "function")
        ));
    }
    let mut scoped = full.clone();
    let keep: BTreeSet<usize> = indices.into_iter().collect();
    scoped.functions = full
        .functions
        .iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, f)| f.clone())
        .collect();

    // Spec items no code backs are this review's business only when it covers every function.
    let whole_crate = !nothing && !args.functions.names_any() && keep.len() == full.functions.len();
    let specs = context.specs(&args.specs, global.quiet)?;
    let features = workspace.features_by_crate(&global.feature_selection());
    let gaps =
        (!specs.is_empty() && !nothing).then(|| score(specs.clone(), Vec::new(), &scoped, true));

    if let (Some(provider), true, false) = (args.engine.provider(), args.model.dry_run, nothing) {
        let text = super::model::dry_run_text(
            provider,
            &args.model,
            config,
            workspace,
            (&scoped, &features),
            &specs,
        )?;
        super::emit(global, &text, Styling::Plain)?;
        return Ok(ExitCode::Clean);
    }
    let id = run_id();
    let runs_dir = workspace.target_directory.join("dualtrack").join("runs");
    let run_dir = runs_dir.join(&id);
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("failed to create {}", run_dir.display()))?;
    // Before any token is spent: a model's tests need a sandbox, or `--no-sandbox`.
    let model_written = args.engine.provider().is_some();
    let mut options = super::runner::runner_options(global, &args.runner, model_written, "review")?;
    if args.keep_scratch {
        options.keep_scratch = Some(run_dir.join("scratch"));
    }
    // One budget for every run of this review (the offline pass, a model's tests, repairs).
    options.deadline = Some(started + args.time_budget);
    let offline_generation = || {
        offline::generate(
            &workspace.root,
            &full,
            Some(&keep),
            &features,
            &specs,
            OfflineOptions {
                max_per_fn: args.max_per_fn as usize,
                // No feature-wide cap unless asked: a generated test costs milliseconds, and
                // the breakers of every function in scope run.
                max_tests: args.max_tests.filter(|&n| n > 0).map(|n| n as usize),
                private: args.private,
                potent: args.max_tests.is_none(),
            },
        )
    };
    let mut model_usage = None;
    let mut model_cost: Option<f64> = None;
    let mut transcripts = Vec::new();
    // With a model engine, the offline engine's tests run first: free findings, and the model
    // is told what they found.
    let mut offline_pass: Option<Result<crate::scratch::RunReport, super::runner::Stopped>> = None;
    // The time asking the engine for tests took (the offline pass of a model review aside).
    let mut generate_ms = 0;
    let generation = if nothing {
        offline::Generation::default()
    } else {
        let mut ran = HashMap::new();
        if args.engine.provider().is_some() && !args.skip_offline {
            let cheap = offline_generation();
            let tests = cheap.emitted();
            if !tests.is_empty() {
                progress.line(&format!(
                    "offline pass: {} tests first; the model is told what they find \
                     (--skip-offline to skip)",
                    tests.len()
                ));
                let path = run_dir.join("dualtrack_offline.rs");
                let text = module_text(
                    &json!({ "engine": "offline", "run_id": id }),
                    &cheap.preamble,
                    &tests,
                );
                write_atomically(&path, &text)?;
                let module = parse_test_module(&text).map_err(|err| {
                    anyhow::anyhow!("internal: generated module does not read back: {err}")
                })?;
                let outcome = super::runner::run_or_stop(
                    workspace,
                    &full,
                    &[ModuleInput {
                        engine: "offline".to_owned(),
                        module,
                        source: Some(path.display().to_string()),
                    }],
                    &options,
                )?;
                if let Ok(report) = &outcome {
                    ran = crate::generate::model::existing::ran(&report.results, &workspace.root);
                }
                offline_pass = Some(outcome);
            }
        }
        let generating = std::time::Instant::now();
        let stage = progress.stage(
            &format!(
                "generating tests for {}",
                crate::output::plural(scoped.functions.len(), "function")
            ),
            None,
        );
        let generation = match (args.engine.provider(), &offline_pass) {
            (None, _) => offline_generation(),
            // The crate does not build, or Ctrl-C: nothing to ask about.
            (Some(_), Some(Err(_))) => offline::Generation::default(),
            (Some(_), _) if crate::interrupt::interrupted() => offline::Generation::default(),
            (Some(provider), _) => {
                let mut model_args = args.model.clone();
                // The feature's budget spread over its functions, a few each at least.
                if !whole_crate {
                    let share = FEATURE_BUDGET / scoped.functions.len().max(1);
                    model_args.tests_per_fn = (share as u32).clamp(3, model_args.tests_per_fn);
                }
                let (made, cost) = super::model::model_generation(
                    provider,
                    &model_args,
                    config,
                    workspace,
                    (&scoped, &features),
                    &specs,
                    ran,
                )?;
                progress.line(&format!(
                    "{} ({}): {} input tokens ({} cached), {} output tokens in {} requests, {}",
                    args.engine.name(),
                    args.model.model.as_deref().unwrap_or("default model"),
                    made.usage.input_tokens,
                    made.usage.cached_input_tokens,
                    made.usage.output_tokens,
                    made.transcripts.len(),
                    super::model::cost_text(cost)
                ));
                model_usage = Some(made.usage);
                model_cost = cost;
                transcripts = made.transcripts;
                let mut generation = made.generation;
                // One name, one test: a rerun command and a fix's check find a test by name.
                if let Some(Ok(earlier)) = &offline_pass {
                    let taken = earlier.results.iter().map(|r| r.name.clone()).collect();
                    rename_apart(&mut generation.tests, taken);
                }
                generation
            }
        };
        generate_ms = generating.elapsed().as_millis() as u64;
        for warning in &generation.warnings {
            progress.line(&format!("warning: {warning}"));
        }
        stage.finish(Some(&format!(
            "{} tests generated for {} functions ({} skipped)",
            generation.tests.len(),
            generation
                .tests
                .iter()
                .map(|t| t.test.meta.function.as_str())
                .collect::<BTreeSet<_>>()
                .len(),
            generation.skipped.len()
        )));
        if !generation.skipped.is_empty() {
            let reasons: Vec<String> = offline::skip_summary(&generation.skipped, 3)
                .into_iter()
                .map(|(count, reason)| format!("{count} {reason}"))
                .collect();
            progress.line(&format!(
                "skipped functions, commonest reasons: {} (all under `skipped` in report.json)",
                reasons.join("; ")
            ));
        }
        generation
    };

    let header = json!({ "engine": args.engine.name(), "run_id": id });
    let tests = generation.emitted();
    let module_path = run_dir.join(format!("dualtrack_{}.rs", args.engine.name()));
    let text = module_text(&header, &generation.preamble, &tests);
    write_atomically(&module_path, &text)?;

    // What a model step after the first run needs, with what was spent so far.
    let step = |provider, spent| ModelStep {
        provider,
        args,
        workspace,
        full: &full,
        scoped: &scoped,
        specs: &specs,
        config,
        spent,
        run_dir: &run_dir,
        options: &options,
        progress: &progress,
    };
    // For the ledger: tests the engines' first builds dropped, and repair rounds asked.
    let mut first_pass_dropped = 0;
    let mut repair_rounds_done = 0;
    // The offline pass's report, then the engine's tests', repaired.
    let outcome = match offline_pass {
        Some(Err(stop)) => Some(Err(stop)),
        // Nothing to test because files do not parse: whether the crate builds still decides
        // the exit code (4 when it does not), so the baseline runs.
        None if tests.is_empty() && !full.errors.is_empty() => {
            match super::runner::run_or_stop(workspace, &full, &[], &options)? {
                Err(stop) => Some(Err(stop)),
                Ok(_) => None,
            }
        }
        earlier if tests.is_empty() => earlier,
        earlier => {
            let module = parse_test_module(&text).map_err(|err| {
                anyhow::anyhow!("internal: generated module does not read back: {err}")
            })?;
            let modules = [ModuleInput {
                engine: args.engine.name().to_owned(),
                module,
                source: Some(module_path.display().to_string()),
            }];
            match super::runner::run_or_stop(workspace, &full, &modules, &options)? {
                Err(stop) => Some(Err(stop)),
                Ok(mut report) => {
                    first_pass_dropped += dropped(&report);
                    if let Some(provider) = args.engine.provider() {
                        let (repaired, cost, rounds) =
                            repair_rounds(step(provider, model_cost), &mut report)?;
                        repair_rounds_done = rounds;
                        if let Some(usage) = model_usage.as_mut() {
                            *usage += repaired.usage;
                        }
                        model_cost = model_cost.zip(cost).map(|(a, b)| a + b);
                        transcripts.extend(repaired.transcripts);
                    }
                    if let Some(Ok(earlier)) = earlier {
                        first_pass_dropped += dropped(&earlier);
                        report.results.splice(0..0, earlier.results);
                        report.build_log.insert_str(0, &earlier.build_log);
                        report.interrupted |= earlier.interrupted;
                        report.cut += earlier.cut;
                    }
                    Some(Ok(report))
                }
            }
        }
    };
    // For each function a test breaks, the model may propose a fix: offered once it passes
    // the failing tests and the crate's own in the scratch copy.
    let mut fixes = Vec::new();
    if let (Some(provider), Some(Ok(report)), false) = (
        args.engine.provider(),
        &outcome,
        args.no_fixes || crate::interrupt::interrupted(),
    ) {
        let offered = offer_fixes(&step(provider, model_cost), report)?;
        if let Some(usage) = model_usage.as_mut() {
            *usage += offered.usage;
        }
        model_cost = model_cost.zip(offered.cost).map(|(a, b)| a + b);
        transcripts.extend(offered.transcripts);
        fixes = offered.entries;
    }
    // A run that stopped short (the crate does not build, Ctrl-C before any test) still
    // leaves its reports, empty, and its logs.
    let mut stopped = None;
    let mut sources: HashMap<String, std::path::PathBuf> = HashMap::new();
    let mut document = match outcome {
        None => ReviewDocument::empty(&id, "review", args.engine.name()),
        Some(Ok(report)) => {
            if !global.quiet && global.verbose > 0 {
                eprint!("{}", crate::report::run::render_human(&report));
            }
            write_logs(&run_dir, &report)?;
            for result in &report.results {
                if let Some(source) = &result.source {
                    sources.insert(result.name.clone(), source.into());
                }
            }
            review_document(&report, args.engine.name(), "review")
        }
        Some(Err(stop)) => {
            let mut document = ReviewDocument::empty(&id, "review", args.engine.name());
            if stop.code == ExitCode::BaselineFailed {
                document.baseline_failed = true;
            } else {
                document.interrupted = true;
            }
            // No test ran: the logs hold what cargo said.
            write_logs(
                &run_dir,
                &crate::scratch::RunReport {
                    build_log: stop.log,
                    ..Default::default()
                },
            )?;
            stopped = Some(stop.code);
            document
        }
    };
    document.run_id = id.clone();
    document.scope = "review".to_owned();
    add_fixes(&mut document, fixes);
    if let Some(usage) = model_usage {
        document.usage = Usage::of_model(&usage, model_cost);
        super::model::write_transcripts(&run_dir.join("transcripts"), &transcripts)?;
        if let Some(dir) = &args.model.transcripts {
            super::model::write_transcripts(dir, &transcripts)?;
        }
    }
    document.description = Some(description);
    document.skipped = generation
        .skipped
        .iter()
        .map(|s| Skipped {
            function: s.function.clone(),
            reasons: s.reasons.clone(),
        })
        .chain(excluded)
        .collect();
    // Items about functions out of scope are not this review's gaps.
    // The items about the functions in scope, when not every function is.
    let items_in_scope: Option<BTreeSet<String>> = (!whole_crate).then(|| {
        specs
            .iter()
            .flat_map(|spec| {
                spec.items
                    .iter()
                    .filter(|item| item.is_promise())
                    .filter(|item| {
                        !item_targets(item, &spec.targets, &scoped.functions)
                            .direct
                            .is_empty()
                    })
                    .map(|item| item.id.clone())
            })
            .collect()
    });
    add_gaps(
        &mut document,
        gaps.as_ref(),
        &scoped,
        items_in_scope.as_ref(),
    );

    add_snippets(&mut document.findings, &workspace.root);
    collapse_duplicates(&mut document.findings);
    let seen = earlier_finding_ids(&runs_dir, &id);
    mark_status(&mut document.findings, &decisions, &seen);
    add_reproduce(
        &mut document.findings,
        &global.repeated_options(),
        &sources,
        cwd,
    );
    document.per_function = per_function(&document.tests);
    if model_usage.is_some() {
        add_function_usage(&mut document.per_function, &transcripts, config);
    }
    let function_locations: HashMap<String, (String, u32)> = full
        .functions
        .iter()
        .map(|f| (f.path.clone(), (f.file.clone(), f.line)))
        .collect();
    // Outside git, paths are relative to the workspace root.
    let repo = repository_root(&workspace.root).unwrap_or_else(|| workspace.root.clone());
    let repo = repo.canonicalize().unwrap_or(repo);
    let repo_relative = |file: &str| -> Option<String> {
        let path = workspace.root.join(file);
        if !path.is_file() {
            return None;
        }
        let path = path.canonicalize().ok()?;
        let relative = path.strip_prefix(&repo).ok()?;
        Some(relative.to_string_lossy().replace('\\', "/"))
    };
    let sarif = render_sarif(
        &document,
        &SarifContext {
            repo_relative: &repo_relative,
            function_locations: &function_locations,
            category: match args.shard {
                Some((k, n)) => format!("cargo-dualtrack/shard-{k}-of-{n}"),
                None => "cargo-dualtrack".to_owned(),
            },
        },
    );
    write_reports(workspace, &run_dir, &id, &document, &sarif)?;
    if !(args.no_ledger || config.ledger == Some(false)) {
        let row = ledger_row(
            &document,
            LedgerFacts {
                task: args
                    .task
                    .clone()
                    .or_else(|| current_branch(&workspace.root)),
                model: transcripts
                    .first()
                    .map(|t| t.model.clone())
                    .or_else(|| args.model.model.clone())
                    .unwrap_or_default(),
                scoped: &scoped,
                first_pass_dropped,
                repair_rounds: repair_rounds_done,
                cost: if args.engine.provider().is_some() {
                    model_cost
                } else {
                    Some(0.0)
                },
                wall_ms: started.elapsed().as_millis() as u64,
                generate_ms,
            },
        );
        let path = crate::ledger::path(&workspace.root);
        // The review is done and its reports written: a ledger it cannot append to is said,
        // not fatal.
        if let Err(err) = crate::ledger::append(&path, &[row]) {
            progress.line(&format!("warning: the ledger was not written: {err:#}"));
        }
    }
    if args.keep_scratch {
        progress.line(&format!(
            "scratch copy kept in {}",
            run_dir.join("scratch").display()
        ));
    }
    match args.format {
        ReviewFormat::Json => {
            let mut json = serde_json::to_string_pretty(&document)?;
            json.push('\n');
            super::emit(global, &json, Styling::Plain)?;
        }
        ReviewFormat::Markdown => super::emit(global, &render_markdown(&document), Styling::Plain)?,
        ReviewFormat::Junit => super::emit(global, &render_junit(&document), Styling::Plain)?,
        ReviewFormat::Sarif => super::emit(global, &sarif, Styling::Plain)?,
        // The one line (or the error) said it all.
        ReviewFormat::Human if nothing || stopped.is_some() => {}
        ReviewFormat::Human => {
            super::emit(global, &render_human(&document, &run_dir), Styling::Styled)?
        }
    }
    if let Some(code) = stopped {
        return Ok(code);
    }
    if document.interrupted {
        progress.line("interrupted: the reports hold the tests that finished before Ctrl-C");
        return Ok(ExitCode::Interrupted);
    }
    Ok(exit_code(&document, args.fail_on))
}

/// Rename the tests whose names are `taken` by others (`name_model`, `name_model_2`, ...),
/// to names no test has.
fn rename_apart(
    tests: &mut [crate::generate::GeneratedTest],
    taken: std::collections::HashSet<String>,
) {
    let mut used: std::collections::HashSet<String> = taken.clone();
    used.extend(tests.iter().map(|t| t.test.item.sig.ident.to_string()));
    for test in tests.iter_mut() {
        let name = test.test.item.sig.ident.to_string();
        if !taken.contains(&name) {
            continue;
        }
        let mut fresh = format!("{name}_model");
        let mut n = 1;
        while used.contains(&fresh) {
            n += 1;
            fresh = format!("{name}_model_{n}");
        }
        used.insert(fresh.clone());
        test.test.item.sig.ident = syn::Ident::new(&fresh, test.test.item.sig.ident.span());
    }
}

/// Tests a run dropped for not compiling.
fn dropped(report: &crate::scratch::RunReport) -> u64 {
    report
        .results
        .iter()
        .filter(|r| r.outcome == crate::scratch::execute::Outcome::Dropped)
        .count() as u64
}

/// What the ledger row needs beyond the review document.
struct LedgerFacts<'a> {
    task: Option<String>,
    model: String,
    scoped: &'a Analysis,
    first_pass_dropped: u64,
    repair_rounds: u64,
    cost: Option<f64>,
    wall_ms: u64,
    generate_ms: u64,
}

/// The review's row in the ledger.
fn ledger_row(document: &ReviewDocument, facts: LedgerFacts) -> crate::ledger::Row {
    let counts = &document.counts;
    let generated = counts.generated as u64;
    crate::ledger::Row {
        // An interrupted review's counts say nothing about the engine: `stats` leaves it out.
        kind: if document.interrupted {
            "interrupted".into()
        } else {
            "review".into()
        },
        run_id: document.run_id.clone(),
        timestamp: crate::ledger::now(),
        task: facts.task.unwrap_or_default(),
        engine: document.engine.clone(),
        model: facts.model,
        functions: facts.scoped.functions.len() as u64,
        sites: facts.scoped.sites().count() as u64,
        generated,
        compiled_first_pass: generated.saturating_sub(facts.first_pass_dropped),
        compiled: counts.compiled as u64,
        passed: counts.passed as u64,
        failed: (counts.failed + counts.panicked + counts.timed_out + counts.crashed) as u64,
        flaky: counts.flaky as u64,
        findings: document.failures().count() as u64,
        input_tokens: document.usage.input_tokens,
        cached_input_tokens: document.usage.cached_input_tokens,
        output_tokens: document.usage.output_tokens,
        cost_usd: facts.cost,
        wall_ms: facts.wall_ms,
        generate_ms: facts.generate_ms,
        sync_ms: document.timings.sync_ms,
        baseline_ms: document.timings.baseline_ms,
        build_ms: document.timings.build_ms,
        run_ms: document.timings.run_ms,
        repair_rounds: facts.repair_rounds,
        ..crate::ledger::Row::default()
    }
}

/// The checked-out branch of the repository around `dir`, the task a review is part of.
fn current_branch(dir: &Path) -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "--abbrev-ref", "HEAD"])
        .current_dir(dir)
        .output()
        .ok()?;
    let branch = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !branch.is_empty() && branch != "HEAD").then_some(branch)
}

/// Shard `k` of `n` of the functions in scope: every `n`th in path order from the `k`th, so
/// each job gets a stable, even share.
fn shard(analysis: &Analysis, mut indices: Vec<usize>, k: u32, n: u32) -> Vec<usize> {
    indices.sort_by(|&a, &b| analysis.functions[a].path.cmp(&analysis.functions[b].path));
    indices
        .into_iter()
        .enumerate()
        .filter(|(position, _)| *position as u32 % n == k)
        .map(|(_, index)| index)
        .collect()
}

/// Tests a model is asked for in a review of a change (one feature).
const FEATURE_BUDGET: usize = 25;

enum Selected {
    Functions {
        indices: Vec<usize>,
        description: String,
    },
    Nothing(String),
}

/// The functions in scope: those asked for, else those changed since the base, else (outside
/// git) every function.
fn select_scope(
    workspace: &Workspace,
    args: &ReviewArgs,
    analysis: &Analysis,
    filter: &FunctionFilter,
) -> anyhow::Result<Selected> {
    let all: Vec<usize> = (0..analysis.functions.len()).collect();
    if args.all_functions {
        return Ok(Selected::Functions {
            indices: all,
            description: "every function (--all-functions)".into(),
        });
    }
    if args.functions.names_any() {
        let named: Vec<usize> = all
            .into_iter()
            .filter(|&i| filter.matches(&analysis.functions[i]))
            .collect();
        if named.is_empty() {
            return Err(InputError::new(
                "no function matches --fn/--file: `cargo dualtrack analyze` lists the function paths",
            )
            .into());
        }
        return Ok(Selected::Functions {
            indices: named,
            description: "the functions --fn/--file name".into(),
        });
    }
    let Some(repo) = repository_root(&workspace.root) else {
        if args.base.is_some() {
            return Err(InputError::new(format!(
                "--base needs a git repository, and {} is not in one: pass --all-functions",
                workspace.root.display()
            ))
            .into());
        }
        return Ok(Selected::Functions {
            indices: all,
            description: "every function (not a git repository, so no base to compare with)".into(),
        });
    };
    if !has_commits(&repo) {
        return Err(no_commits().into());
    }
    let (base, how) = match &args.base {
        Some(base) => (base.clone(), "--base"),
        None => default_base(&repo).ok_or_else(|| {
            InputError::new(
                "no base revision to compare with (no upstream, origin/HEAD, main or master): \
                 pass --base REV or --all-functions",
            )
        })?,
    };
    let changed = changed_since(&repo, &base)?;
    if !changed.touches_rust() {
        return Ok(Selected::Nothing(format!(
            "no Rust file changed since {base} ({how})"
        )));
    }
    let prefix = relative_prefix(&repo, &workspace.root);
    // A changed file that does not parse hides what changed in it: say so rather than review
    // around it.
    let in_repo = |file: &str| {
        if prefix.is_empty() {
            file.to_owned()
        } else {
            format!("{}/{file}", prefix.trim_end_matches('/'))
        }
    };
    if let Some(error) = analysis
        .errors
        .iter()
        .find(|e| changed.files.contains_key(&in_repo(&e.file)))
    {
        return Err(InputError::new(format!(
            "{}:{}:{}: {}: this changed file does not parse, so its changes cannot be reviewed; \
             fix it and run again",
            error.file, error.line, error.column, error.message
        ))
        .into());
    }
    let touched = touched_functions(&analysis.functions, &changed, &prefix);
    if touched.is_empty() {
        let elsewhere = outside_selected_packages(workspace, &repo, &changed);
        let hint = match elsewhere.as_slice() {
            [] => String::new(),
            files => format!(
                " in the selected packages (Rust files changed outside them: {}{}; \
                 --workspace or -p reviews those)",
                files.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                if files.len() > 3 { ", ..." } else { "" }
            ),
        };
        return Ok(Selected::Nothing(format!(
            "no function changed since {base} ({how}){hint}"
        )));
    }
    Ok(Selected::Functions {
        indices: touched,
        description: format!("functions changed since {base} ({how})"),
    })
}

/// Changed Rust files (repository-relative) in no selected package: a change the review
/// would otherwise pass over in silence.
fn outside_selected_packages(
    workspace: &Workspace,
    repo: &Path,
    changed: &crate::review::diff::ChangedLines,
) -> Vec<String> {
    let packages: Vec<String> = workspace
        .packages
        .iter()
        .map(|p| relative_prefix(repo, &p.manifest_dir))
        .collect();
    changed
        .files
        .keys()
        .filter(|file| file.ends_with(".rs"))
        .filter(|file| {
            !packages.iter().any(|dir| {
                dir.is_empty() || file.starts_with(&format!("{}/", dir.trim_end_matches('/')))
            })
        })
        .cloned()
        .collect()
}

/// The workspace root relative to the repository's top level (`""` when they are one).
fn relative_prefix(repo: &Path, root: &Path) -> String {
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    canonical(root)
        .strip_prefix(canonical(repo))
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default()
}

/// Spec gaps as findings: sites no item speaks to, items no site backs (of `items_in_scope`,
/// or all when `None`); and coverage.
fn add_gaps(
    document: &mut ReviewDocument,
    gaps: Option<&ScoreReport>,
    scoped: &Analysis,
    items_in_scope: Option<&BTreeSet<String>>,
) {
    let Some(report) = gaps else {
        document.site_coverage = None;
        document.item_coverage = None;
        return;
    };
    let sites: HashMap<&str, (&str, String)> = scoped
        .functions
        .iter()
        .flat_map(|f| {
            f.sites.iter().map(move |s| {
                (
                    s.id.as_str(),
                    (f.path.as_str(), format!("{}:{}", s.file, s.line)),
                )
            })
        })
        .collect();
    let gap = |kind: FindingKind, id: String, message: &str| {
        Finding::new(id, kind, Verdict::CheckSpec, message.to_owned())
    };
    for site in &report.unspecified_sites {
        let (function, location) = sites
            .get(site.as_str())
            .cloned()
            .unwrap_or(("", String::new()));
        document.findings.push(Finding {
            function: Some(function.to_owned()),
            location: Some(location),
            site: Some(site.clone()),
            ..gap(
                FindingKind::UnspecifiedSite,
                finding_id("unspecified_site", function, "", site),
                "no spec item speaks to this site",
            )
        });
    }
    let in_scope = |item: &String| items_in_scope.is_none_or(|scope| scope.contains(item));
    for item in report.unimplemented_items.iter().filter(|i| in_scope(i)) {
        let location = report
            .items
            .iter()
            .find(|i| &i.id == item)
            .map(|i| format!("{}:{}", i.file, i.line));
        document.findings.push(Finding {
            location,
            item: Some(item.clone()),
            ..gap(
                FindingKind::UnimplementedItem,
                finding_id("unimplemented_item", "", "", item),
                "no site backs this spec item",
            )
        });
    }
    document.site_coverage = report.site_coverage;
    // Items about functions out of scope are neither backed nor unbacked here.
    document.item_coverage = match items_in_scope {
        None => report.item_coverage,
        Some(scope) if scope.is_empty() => None,
        Some(scope) => {
            let unbacked = report
                .unimplemented_items
                .iter()
                .filter(|i| scope.contains(*i))
                .count();
            Some(1.0 - unbacked as f64 / scope.len() as f64)
        }
    };
}

/// Each function's tokens and cost, from the exchanges about it (an answer from the cache
/// cost nothing this run): `usage` on its `per_function` row, a row of its own when the model
/// gave it no test. The rows add up to the report's `usage`.
fn add_function_usage(
    rows: &mut Vec<FunctionRow>,
    transcripts: &[crate::generate::model::engine::Transcript],
    config: &Config,
) {
    use crate::generate::model::cost::{cost, price_of};
    let mut by_function: std::collections::BTreeMap<
        &str,
        (crate::generate::model::wire::Usage, Option<f64>),
    > = std::collections::BTreeMap::new();
    for transcript in transcripts.iter().filter(|t| t.source != "cache") {
        let price = price_of(&transcript.model, &config.prices);
        let entry = by_function
            .entry(transcript.function.as_str())
            .or_insert((Default::default(), Some(0.0)));
        entry.0 += transcript.usage;
        entry.1 = entry
            .1
            .zip(price)
            .map(|(sum, price)| sum + cost(&transcript.usage, price));
    }
    for (function, (usage, cost_usd)) in by_function {
        let usage = Usage::of_model(&usage, cost_usd);
        match rows.iter_mut().find(|row| row.function == function) {
            Some(row) => row.usage = Some(usage),
            None => rows.push(FunctionRow {
                function: function.to_owned(),
                tests: 0,
                passed: 0,
                failing: 0,
                dropped: 0,
                usage: Some(usage),
            }),
        }
    }
    rows.sort_by(|a, b| a.function.cmp(&b.function));
}

/// The source line of each finding's place (`src/lib.rs:64`), as `snippet`.
fn add_snippets(findings: &mut [Finding], root: &Path) {
    let mut files: HashMap<String, Option<String>> = HashMap::new();
    for finding in findings {
        let Some((file, line)) = finding.location.as_deref().and_then(split_location) else {
            continue;
        };
        let text = files
            .entry(file.clone())
            .or_insert_with(|| std::fs::read_to_string(root.join(&file)).ok());
        if let Some(snippet) = text
            .as_deref()
            .and_then(|t| t.lines().nth((line as usize).saturating_sub(1)))
        {
            finding.snippet = Some(snippet.trim().to_owned());
        }
    }
}

/// Rounds of asking the model to fix its tests that did not compile, each compiler error
/// going back with its test, unless `--repair-rounds` or the config says otherwise.
const REPAIR_ROUNDS: u32 = 2;

/// What a model step after the first run (repair rounds, fixes) needs of the review.
struct ModelStep<'a> {
    provider: crate::generate::model::backend::Provider,
    args: &'a ReviewArgs,
    workspace: &'a Workspace,
    full: &'a Analysis,
    scoped: &'a Analysis,
    specs: &'a [crate::spec::model::Spec],
    config: &'a Config,
    /// What generation cost, when the model has a price.
    spent: Option<f64>,
    run_dir: &'a Path,
    options: &'a crate::scratch::RunOptions,
    progress: &'a Progress,
}

/// A compiler error or a test's failure as the model may see it: the message, the places and
/// the crate's own lines, not the lines of files outside it; no local paths (they say nothing
/// to the model, and would make each run's request differ), no key, and not too long.
fn for_the_model(error: &str, run_dir: &Path, root: &Path) -> String {
    let mut text = error.to_owned();
    for dir in [run_dir, root] {
        let shown = format!("{}/", dir.display());
        text = text.replace(&shown, "");
    }
    let text = crate_lines_only(&text);
    let text = crate::generate::model::client::redact(&text, None);
    match text.char_indices().nth(2000) {
        Some((at, _)) => format!("{}\n... (cut)", &text[..at]),
        None => text,
    }
}

/// `rendered` (a rustc diagnostic, paths inside the crate made relative) without the source
/// lines it quotes from files outside the crate (absolute paths: the toolchain, the registry,
/// anything a test named): their places stay, their text goes.
fn crate_lines_only(rendered: &str) -> String {
    let mut out = String::with_capacity(rendered.len());
    let mut quoting_the_crate = true;
    for line in rendered.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(place) = trimmed
            .strip_prefix("--> ")
            .or_else(|| trimmed.strip_prefix("::: "))
        {
            quoting_the_crate = !Path::new(place.trim()).is_absolute();
            out.push_str(line);
            continue;
        }
        // The gutter of a quoted source line: `12 |     code`, `   |`, `...`.
        let gutter = trimmed
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start()
            .starts_with('|')
            || trimmed.trim_end() == "...";
        if gutter && !quoting_the_crate {
            continue;
        }
        out.push_str(line);
    }
    out
}

/// Send the compiler's errors back for the tests that did not build, run the fixed ones, and
/// put their outcomes in the report in place of the dropped ones. A test still broken after
/// the last round stays dropped with its last error. What the compiler itself says how to fix
/// (a missing import) is fixed here first, for nothing.
fn repair_rounds(
    context: ModelStep,
    report: &mut crate::scratch::RunReport,
) -> anyhow::Result<(
    crate::generate::model::engine::ModelGeneration,
    Option<f64>,
    u64,
)> {
    let mut spent = crate::generate::model::engine::ModelGeneration::default();
    let mut spent_cost = Some(0.0);
    let mut rounds = 0;
    for round in 1..=context.args.repair_rounds.unwrap_or(REPAIR_ROUNDS) {
        if crate::interrupt::interrupted() {
            break;
        }
        let imported = with_suggested_imports(&context, report);
        if !imported.is_empty() {
            context.progress.line(&format!(
                "{} tests did not compile for want of an import; rebuilding them with the `use` rustc suggests",
                imported.len()
            ));
            if !rerun(&context, report, &imported, &format!("imports{round}"))? {
                break;
            }
        }
        let broken = broken_tests(&context, report);
        if broken.is_empty() {
            break;
        }
        if let (Some(limit), Some(spent)) = (context.args.model.max_cost, context.spent) {
            let total = spent + spent_cost.unwrap_or(0.0);
            if total >= limit {
                context.progress.line(&format!(
                    "no repair: --max-cost {limit} is spent (${total:.4})"
                ));
                break;
            }
        }
        context.progress.line(&format!(
            "repair round {round}: {} tests did not compile; their errors go back to the model",
            broken.len()
        ));
        let already = context.spent.unwrap_or(0.0) + spent_cost.unwrap_or(0.0);
        let (made, cost) = super::model::model_repair(
            context.provider,
            &left_to_spend(&context.args.model, already),
            context.config,
            context.workspace,
            context.scoped,
            context.specs,
            &broken,
        )?;
        spent_cost = spent_cost.zip(cost).map(|(a, b)| a + b);
        spent.usage += made.usage;
        spent.transcripts.extend(made.transcripts);
        rounds += 1;
        if made.generation.tests.is_empty()
            || !rerun(
                &context,
                report,
                &made.generation.tests,
                &format!("repair{round}"),
            )?
        {
            break;
        }
    }
    Ok((spent, spent_cost, rounds))
}

/// The report's tests dropped for compiler errors, with those errors as the model may see them.
fn broken_tests(
    context: &ModelStep,
    report: &crate::scratch::RunReport,
) -> Vec<crate::generate::model::engine::Broken> {
    use crate::scratch::execute::Outcome;
    report
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Dropped && !r.compile_errors.is_empty())
        .map(|r| crate::generate::model::engine::Broken {
            meta: result_meta(r),
            name: r.name.clone(),
            code: r.code.clone(),
            errors: r
                .compile_errors
                .iter()
                .map(|e| for_the_model(e, context.run_dir, &context.workspace.root))
                .collect(),
        })
        .collect()
}

fn result_meta(result: &crate::scratch::TestResult) -> crate::testfile::TestMeta {
    crate::testfile::TestMeta {
        function: result.function.clone(),
        targets: result.targets.clone(),
        spec: result.spec_items.clone(),
        category: result.category.clone(),
        oracle: result.oracle.clone(),
        input: result.input.clone(),
    }
}

/// The dropped tests rustc said how to fix with an import they lack, fixed.
fn with_suggested_imports(
    context: &ModelStep,
    report: &crate::scratch::RunReport,
) -> Vec<crate::generate::GeneratedTest> {
    use crate::scratch::execute::Outcome;
    report
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Dropped && !r.suggested_imports.is_empty())
        .filter_map(|r| {
            let item = crate::syntax::parse_str::<syn::ItemFn>(&r.code).ok()?;
            let fixed = crate::generate::model::fixup::with_imports(&item, &r.suggested_imports)?;
            let module = context
                .full
                .functions
                .iter()
                .find(|f| f.path == r.function)?
                .module
                .clone();
            Some(crate::generate::GeneratedTest {
                test: crate::generate::emit::with_meta(fixed, &result_meta(r)),
                module,
            })
        })
        .collect()
}

/// Build and run `tests` (fixed versions of dropped ones) as `dualtrack_ENGINE_LABEL.rs` in the
/// run directory, and put their outcomes in the report in place of the old; `false` when the
/// run stopped (Ctrl-C).
fn rerun(
    context: &ModelStep,
    report: &mut crate::scratch::RunReport,
    tests: &[crate::generate::GeneratedTest],
    label: &str,
) -> anyhow::Result<bool> {
    let engine = context.args.engine.name();
    let path = context
        .run_dir
        .join(format!("dualtrack_{engine}_{label}.rs"));
    let emitted: Vec<_> = tests.iter().map(|t| t.test.clone()).collect();
    let text = module_text(&json!({"engine": engine, "repair": label}), "", &emitted);
    write_atomically(&path, &text)?;
    let module = parse_test_module(&text)
        .map_err(|err| anyhow::anyhow!("internal: repaired module does not read back: {err}"))?;
    let modules = [ModuleInput {
        engine: engine.to_owned(),
        module,
        source: Some(path.display().to_string()),
    }];
    let Ok(rerun) =
        super::runner::run_or_stop(context.workspace, context.full, &modules, context.options)?
    else {
        return Ok(false);
    };
    for result in rerun.results {
        if let Some(slot) = report.results.iter_mut().find(|r| r.name == result.name) {
            *slot = result;
        }
    }
    report.build_log.push_str(&rerun.build_log);
    Ok(true)
}

/// The model options with `--max-cost` lowered by what the run has spent already.
fn left_to_spend(args: &crate::cli::ModelArgs, spent: f64) -> crate::cli::ModelArgs {
    let mut args = args.clone();
    // Spent to the limit: the smallest budget there is, which the first check stops at.
    args.max_cost = args
        .max_cost
        .map(|limit| (limit - spent).max(f64::MIN_POSITIVE));
    args
}

/// Functions a fix is asked for in one review, at most: each is a request and a build.
const MAX_FIXES: usize = 10;

/// What asking for fixes made: the entries of the report's `fixes`, and what it cost.
#[derive(Default)]
struct Offered {
    entries: Vec<Fix>,
    usage: crate::generate::model::wire::Usage,
    cost: Option<f64>,
    transcripts: Vec<crate::generate::model::engine::Transcript>,
}

/// Ask the model for a fix to each function in scope a test breaks, verify each in the
/// scratch copy, and write the verified ones as patches in the run directory's `fixes/`.
fn offer_fixes(step: &ModelStep, report: &crate::scratch::RunReport) -> anyhow::Result<Offered> {
    use crate::generate::model::engine::Failing;
    use crate::scratch::execute::Outcome;
    let in_scope: std::collections::HashSet<&str> = step
        .scoped
        .functions
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    let mut by_function: std::collections::BTreeMap<&str, Vec<&crate::scratch::TestResult>> =
        std::collections::BTreeMap::new();
    for result in &report.results {
        if matches!(
            result.outcome,
            Outcome::Failed | Outcome::Panicked | Outcome::TimedOut
        ) && in_scope.contains(result.function.as_str())
        {
            by_function
                .entry(result.function.as_str())
                .or_default()
                .push(result);
        }
    }
    let mut offered = Offered {
        cost: Some(0.0),
        ..Offered::default()
    };
    if by_function.is_empty() {
        return Ok(offered);
    }
    if by_function.len() > MAX_FIXES {
        step.progress.line(&format!(
            "fixes: {} functions have failing tests; asking about the first {MAX_FIXES}",
            by_function.len()
        ));
    }
    let by_function: Vec<(&str, Vec<&crate::scratch::TestResult>)> =
        by_function.into_iter().take(MAX_FIXES).collect();
    if let (Some(limit), Some(spent)) = (step.args.model.max_cost, step.spent)
        && spent >= limit
    {
        step.progress.line(&format!(
            "no fixes asked: --max-cost {limit} is spent (${spent:.4})"
        ));
        return Ok(offered);
    }
    let asked: Vec<(String, Vec<Failing>)> = by_function
        .iter()
        .map(|(function, results)| {
            let failing = results
                .iter()
                .map(|r| Failing {
                    name: r.name.clone(),
                    code: r.code.clone(),
                    happened: for_the_model(
                        &format!("{}: {}", r.outcome.as_str(), r.message),
                        step.run_dir,
                        &step.workspace.root,
                    ),
                })
                .collect();
            (function.to_string(), failing)
        })
        .collect();
    step.progress.line(&format!(
        "asking for fixes to {} functions their tests break",
        asked.len()
    ));
    let (made, cost) = super::model::model_fixes(
        step.provider,
        &left_to_spend(&step.args.model, step.spent.unwrap_or(0.0)),
        step.config,
        step.workspace,
        step.scoped,
        step.specs,
        &asked,
    )?;
    offered.usage = made.usage;
    offered.cost = cost;
    offered.transcripts = made.transcripts;
    for (function, reason) in made.declined {
        offered.entries.push(Fix {
            function,
            verified: false,
            reason: Some(reason),
            ..Fix::default()
        });
    }
    let repo = repository_root(&step.workspace.root);
    let prefix = repo
        .as_deref()
        .map(|repo| relative_prefix(repo, &step.workspace.root))
        .unwrap_or_default();
    let mut patch_names = std::collections::HashSet::new();
    for proposal in made.proposals {
        if crate::interrupt::interrupted() {
            break;
        }
        let tests: Vec<&crate::scratch::TestResult> = by_function
            .iter()
            .find(|(f, _)| *f == proposal.function)
            .map(|(_, tests)| tests.clone())
            .unwrap_or_default();
        let stage = step.progress.stage(
            &format!("verifying the fix for {}", proposal.function),
            None,
        );
        let verdict = verify_fix(step, &proposal, &tests)?;
        stage.finish(None);
        let original =
            std::fs::read_to_string(step.workspace.root.join(&proposal.file)).unwrap_or_default();
        let shown_path = if prefix.is_empty() {
            proposal.file.clone()
        } else {
            format!("{prefix}/{}", proposal.file)
        };
        let diff =
            crate::generate::model::fix::unified_diff(&shown_path, &original, &proposal.patched);
        let mut entry = Fix {
            function: proposal.function.clone(),
            verified: false,
            reason: None,
            file: Some(proposal.file.clone()),
            tests: Some(tests.iter().map(|t| t.name.clone()).collect()),
            explanation: Some(proposal.explanation.clone()),
            diff: Some(diff.clone()),
            code: Some(proposal.code.clone()),
            patch: None,
        };
        match verdict {
            Ok(()) => {
                let dir = step.run_dir.join("fixes");
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("failed to create {}", dir.display()))?;
                // Names fold case (`Tally::add`, `tally::add`): the second gets a number.
                let stem = crate::generate::emit::sanitize_name(&proposal.function);
                let mut name = format!("{stem}.patch");
                let mut n = 1;
                while !patch_names.insert(name.clone()) {
                    n += 1;
                    name = format!("{stem}_{n}.patch");
                }
                write_atomically(&dir.join(&name), &diff)?;
                entry.verified = true;
                entry.patch = Some(dir.join(&name).display().to_string());
                step.progress.line(&format!(
                    "fix for {} verified: its failing tests pass and so do the crate's own",
                    proposal.function
                ));
            }
            Err(reason) => entry.reason = Some(reason),
        }
        offered.entries.push(entry);
    }
    Ok(offered)
}

/// Build the crate with the fix in place in the scratch copy, run its own tests, then the
/// failing tests: `Err` says which step the fix did not get past.
fn verify_fix(
    step: &ModelStep,
    proposal: &crate::generate::model::engine::Proposal,
    tests: &[&crate::scratch::TestResult],
) -> anyhow::Result<Result<(), String>> {
    use crate::scratch::execute::Outcome;
    let emitted: Vec<crate::generate::emit::EmittedTest> = tests
        .iter()
        .filter_map(|r| {
            let item = crate::syntax::parse_str::<syn::ItemFn>(&r.code).ok()?;
            Some(crate::generate::emit::with_meta(item, &result_meta(r)))
        })
        .collect();
    let text = module_text(&json!({"engine": "fix"}), "", &emitted);
    let module = parse_test_module(&text)
        .map_err(|err| anyhow::anyhow!("internal: the fix's tests do not read back: {err}"))?;
    let mut options = step.options.clone();
    options.patch = Some(crate::scratch::Patch {
        file: std::path::PathBuf::from(&proposal.file),
        text: proposal.patched.clone(),
    });
    options.baseline = crate::scratch::Baseline::Test;
    options.keep_scratch = None;
    options.reruns = 0;
    options.progress = crate::progress::Progress::hidden();
    let modules = [ModuleInput {
        engine: "fix".to_owned(),
        module,
        source: None,
    }];
    match crate::scratch::run_modules(step.workspace, step.full, &modules, &options) {
        Err(err) if err.is::<crate::error::Interrupted>() || crate::interrupt::interrupted() => {
            Ok(Err("not verified: interrupted".to_owned()))
        }
        Ok(report) => Ok(
            match report.results.iter().find(|r| r.outcome != Outcome::Passed) {
                None => Ok(()),
                Some(bad) => Err(format!(
                    "with the fix, `{}` still comes out {}: {}",
                    bad.name,
                    bad.outcome.as_str(),
                    bad.message.lines().next().unwrap_or_default()
                )),
            },
        ),
        Err(err) => match err.downcast::<crate::scratch::BaselineFailed>() {
            Ok(failed) if failed.mode == "test" => Ok(Err(
                "the crate's own tests fail with the fix (or failed before it: try `cargo test`)"
                    .to_owned(),
            )),
            Ok(failed) => Ok(Err(format!(
                "the crate does not build with the fix: {}",
                failed
                    .log
                    .lines()
                    .find(|l| l.starts_with("error"))
                    .unwrap_or("see the build log")
            ))),
            Err(other) => Err(other),
        },
    }
}

/// The fixes under `fixes`, and on each failure finding of a function with a verified fix,
/// where its patch is.
fn add_fixes(document: &mut ReviewDocument, fixes: Vec<Fix>) {
    document.fixes = fixes;
    for index in 0..document.findings.len() {
        let finding = &document.findings[index];
        if finding.kind != FindingKind::Failure {
            continue;
        }
        let patch = document
            .verified_fix(finding.function_name())
            .and_then(|fix| fix.patch.clone());
        if patch.is_some() {
            document.findings[index].fix = patch;
        }
    }
}

/// `logs/build.log` (what cargo said in each build) and `logs/tests.log` (each test's
/// outcome, time, message and output) in the run directory.
fn write_logs(run_dir: &Path, report: &crate::scratch::RunReport) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let logs = run_dir.join("logs");
    std::fs::create_dir_all(&logs)
        .with_context(|| format!("failed to create {}", logs.display()))?;
    crate::output::write_record(&logs.join("build.log"), &report.build_log)?;
    let mut tests = String::new();
    for result in &report.results {
        let _ = writeln!(
            tests,
            "==> {} ({}): {} in {} ms",
            result.name,
            result.function,
            result.outcome.as_str(),
            result.elapsed_ms
        );
        if !result.message.is_empty() {
            let _ = writeln!(tests, "{}", result.message);
        }
        for error in &result.compile_errors {
            let _ = writeln!(tests, "{error}");
        }
        if !result.output.is_empty() {
            let _ = writeln!(tests, "--- output\n{}", result.output.trim_end());
        }
    }
    crate::output::write_record(&logs.join("tests.log"), &tests)
}

/// The reports in the run directory, and `runs/latest` naming it.
fn write_reports(
    workspace: &Workspace,
    run_dir: &Path,
    id: &str,
    document: &ReviewDocument,
    sarif: &str,
) -> anyhow::Result<()> {
    let mut json = serde_json::to_string_pretty(document)?;
    json.push('\n');
    crate::output::write_record(&run_dir.join("report.json"), &json)?;
    crate::output::write_record(&run_dir.join("report.md"), &render_markdown(document))?;
    crate::output::write_record(&run_dir.join("junit.xml"), &render_junit(document))?;
    crate::output::write_record(&run_dir.join("report.sarif"), sarif)?;
    let runs = workspace.target_directory.join("dualtrack").join("runs");
    write_atomically(&runs.join("latest"), &format!("{id}\n"))?;
    Ok(())
}

/// Exit 1 when undecided findings of the kinds `--fail-on` names exist.
fn exit_code(document: &ReviewDocument, fail_on: FailOn) -> ExitCode {
    let kinds: &[FindingKind] = match fail_on {
        FailOn::Never => &[],
        // A generated test that did not compile says nothing about the code under review.
        FailOn::Failures => &[FindingKind::Failure],
        FailOn::Gaps => &[
            FindingKind::Failure,
            FindingKind::DroppedTest,
            FindingKind::UnspecifiedSite,
            FindingKind::UnimplementedItem,
        ],
    };
    let undecided = document
        .findings
        .iter()
        .filter(|f| kinds.contains(&f.kind))
        .any(|f| !f.status.is_decided());
    if undecided {
        ExitCode::Findings
    } else {
        ExitCode::Clean
    }
}

#[cfg(test)]
mod test {
    #[test]
    fn errors_sent_back_keep_the_crate_s_lines_only() {
        let rendered = "error[E0308]: mismatched types\n  --> src/lib.rs:3:5\n   |\n3  |     leak()\n   |     ^^^^^^ expected `u8`\n   |\nnote: defined here\n  --> /etc/app/secret.rs:1:1\n   |\n1  | root:x:0:0:root\n   | ^^^^\n";
        let cut = super::crate_lines_only(rendered);
        assert!(cut.contains("3  |     leak()"), "{cut}");
        assert!(cut.contains("--> /etc/app/secret.rs:1:1"), "{cut}");
        assert!(!cut.contains("root:x:0:0"), "{cut}");
        assert!(cut.contains("note: defined here"), "{cut}");
    }

    use super::*;
    use crate::review::document::Status;

    #[test]
    fn a_model_test_named_like_an_offline_one_is_renamed() {
        let test = |name: &str| crate::generate::GeneratedTest {
            test: crate::generate::emit::EmittedTest {
                meta: crate::testfile::TestMeta::default(),
                item: syn::parse_str(&format!("#[test] fn {name}() {{}}")).unwrap(),
            },
            module: "c".into(),
        };
        let mut tests = vec![test("f_v0_does_not_panic"), test("f_model"), test("g")];
        let taken = ["f_v0_does_not_panic", "f_model"]
            .map(str::to_owned)
            .into_iter()
            .collect();
        rename_apart(&mut tests, taken);
        let names: Vec<String> = tests
            .iter()
            .map(|t| t.test.item.sig.ident.to_string())
            .collect();
        assert_eq!(names, ["f_v0_does_not_panic_model", "f_model_model", "g"]);
    }

    #[test]
    fn fail_on_picks_the_kinds_that_exit_1() {
        let finding = |kind: FindingKind, status: Status| Finding {
            status,
            ..Finding::new(
                "F-0000000001".into(),
                kind,
                Verdict::LikelyBug,
                String::new(),
            )
        };
        let with = |findings: Vec<Finding>| ReviewDocument {
            findings,
            ..ReviewDocument::empty("r1-1", "review", "offline")
        };
        let gaps = with(vec![
            finding(FindingKind::UnspecifiedSite, Status::New),
            finding(FindingKind::DroppedTest, Status::New),
        ]);
        assert_eq!(exit_code(&gaps, FailOn::Failures), ExitCode::Clean);
        assert_eq!(exit_code(&gaps, FailOn::Gaps), ExitCode::Findings);
        let failing = with(vec![finding(FindingKind::Failure, Status::New)]);
        assert_eq!(exit_code(&failing, FailOn::Failures), ExitCode::Findings);
        assert_eq!(exit_code(&failing, FailOn::Never), ExitCode::Clean);
        // Decided findings do not fail the review; seen-before undecided ones still do.
        let decided = with(vec![
            finding(FindingKind::Failure, Status::Accepted),
            finding(FindingKind::Failure, Status::Deferred),
        ]);
        assert_eq!(exit_code(&decided, FailOn::Failures), ExitCode::Clean);
        let known = with(vec![finding(FindingKind::Failure, Status::Known)]);
        assert_eq!(exit_code(&known, FailOn::Failures), ExitCode::Findings);
    }

    #[test]
    fn shards_split_the_scope_evenly_and_stably() {
        let mut analysis: Analysis = serde_json::from_value(json!({
            "schema": "dualtrack.analyze/v1", "functions": [], "files": [],
            "unreachable_files": [], "errors": []
        }))
        .unwrap();
        for name in ["d", "a", "c", "b"] {
            analysis.functions.push(crate::analyze::Function {
                path: format!("c::{name}"),
                package: "c".into(),
                file: "src/lib.rs".into(),
                line: 1,
                end_line: 1,
                module: "c".into(),
                visibility: "pub".into(),
                params: Vec::new(),
                sites: Vec::new(),
                calls: Vec::new(),
            });
        }
        assert_eq!(shard(&analysis, vec![0, 1, 2, 3], 0, 2), [1, 2]);
        assert_eq!(shard(&analysis, vec![0, 1, 2, 3], 1, 2), [3, 0]);
    }

    #[test]
    fn the_workspace_prefix_is_relative_to_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("crates/x")).unwrap();
        assert_eq!(
            relative_prefix(dir.path(), &dir.path().join("crates/x")),
            "crates/x"
        );
        assert_eq!(relative_prefix(dir.path(), dir.path()), "");
    }
}
