//! The review pipeline, as cargo-mutants' `lab.rs` is the mutation run: each stage a
//! function over typed data. Scope → spec gaps → generate (the offline pass first under a model
//! engine) → run in the scratch copy (a model's repair rounds) → fixes → the review document →
//! reports and the ledger. `commands/review.rs` only reads the flags and prints the result.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

use crate::analyze::FunctionFilter;
use crate::cli::{FailOn, GlobalArgs, ReviewArgs};
use crate::config::Config;
use crate::decisions::Decisions;
use crate::document::{FindingKind, ReviewDocument, Skipped, Usage, per_function};
use crate::error::ExitCode;
use crate::evidence::add_evidence;
use crate::generate::emit::module_text;
use crate::generate::llm::engine::Transcript;
use crate::generate::offline::{self, OfflineOptions};
use crate::output::write_atomically;
use crate::progress::Progress;
use crate::report::sarif::{SarifContext, render_sarif};
use crate::review::assemble::{add_fixes, add_function_usage, add_gaps, add_snippets};
use crate::review::diff::{current_branch, repository_root};
use crate::review::findings::{
    add_reproduce, collapse_duplicates, earlier_finding_ids, mark_status, review_document, run_id,
};
use crate::review::follow_up::{
    ModelStep, Rebuild, cover_rounds, import_round, module_input, offer_fixes, rename_apart,
    repair_rounds,
};
use crate::review::reports::{LedgerFacts, ledger_row, write_logs, write_reports};
use crate::review::scope::{Scope, scope};
use crate::scratch::probes::ProbeSummary;
use crate::scratch::{RunOptions, RunReport};
use crate::setup::llm::{Features, Session, cost_text, write_transcripts};
use crate::setup::runner::{Stopped, run_or_stop, runner_options};
use crate::spec::link::item_targets;
use crate::spec::model::Spec;
use crate::spec::score::score;
use crate::workspace::Workspace;

/// What a review runs with: the flags, the crate, and where to say what happens.
pub struct Review<'a> {
    pub global: &'a GlobalArgs,
    pub args: &'a ReviewArgs,
    pub workspace: &'a Workspace,
    pub config: &'a Config,
    /// Where the user is: rerun commands name files relative to it.
    pub cwd: &'a Path,
    /// What `--fn`/`--file` ask for.
    pub filter: &'a FunctionFilter,
    pub specs: &'a [Spec],
    pub progress: &'a Progress,
    /// When the review started: `--time-budget` counts from here.
    pub started: Instant,
}

/// What a review came to.
pub enum Reviewed {
    /// `--dry-run` with a model engine: the prompts, and nothing sent.
    DryRun(String),
    Done(Box<Done>),
}

/// A review that ran (or stopped short), its reports written.
pub struct Done {
    pub document: ReviewDocument,
    pub sarif: String,
    pub run_dir: PathBuf,
    /// Nothing to review: the one progress line said so.
    pub nothing: bool,
    /// The run stopped before any test (the crate does not build, Ctrl-C): the exit code.
    pub stopped: Option<ExitCode>,
}

impl Done {
    /// The review's exit code: a stop's, 130 after Ctrl-C, else by `--fail-on`.
    pub fn exit_code(&self, fail_on: FailOn) -> ExitCode {
        match self.stopped {
            Some(code) => code,
            None if self.document.interrupted => ExitCode::Interrupted,
            None => exit_code(&self.document, fail_on),
        }
    }
}

/// What a model engine took over the whole review: `usage` is `None` until it is asked.
#[derive(Default)]
struct Spend {
    usage: Option<crate::generate::llm::wire::Usage>,
    /// `None` when the model's price is unknown.
    cost: Option<f64>,
    transcripts: Vec<Transcript>,
    /// The tests refused and the repair rounds, for the document.
    account: crate::document::ModelAccount,
}

impl Spend {
    /// Add a later request's usage, cost and transcripts.
    fn add(
        &mut self,
        usage: crate::generate::llm::wire::Usage,
        cost: Option<f64>,
        transcripts: Vec<Transcript>,
    ) {
        if let Some(total) = self.usage.as_mut() {
            *total += usage;
        }
        self.cost = self.cost.zip(cost).map(|(a, b)| a + b);
        self.transcripts.extend(transcripts);
    }

    /// Keep what a model step refused and repaired.
    fn keep(
        &mut self,
        refused: Vec<crate::document::RefusedTest>,
        repairs: Vec<crate::document::RepairRecord>,
    ) {
        self.account.refused.extend(refused);
        self.account.repairs.extend(repairs);
    }
}

/// Tests a model is asked for in a review of a change (one feature).
const FEATURE_BUDGET: usize = 25;

/// Run the whole review.
pub fn review(r: &Review) -> anyhow::Result<Reviewed> {
    let (args, workspace) = (r.args, r.workspace);
    // Read before the long part: a broken file fails the command now, not after the run.
    let decisions = Decisions::load(&workspace.root)?;
    let scope = scope(
        workspace,
        r.global.jobs(),
        args,
        r.config,
        r.filter,
        r.progress,
    )?;
    // What the run is made from, as read now: `score --run` trusts its evidence only while
    // these files are byte for byte the same.
    let sources_read = crate::evidence::source_hashes(
        &workspace.root,
        &scope
            .full
            .files
            .iter()
            .cloned()
            .chain(r.specs.iter().map(|spec| spec.file.clone()))
            .collect::<Vec<_>>(),
    );
    let features = workspace.features_by_crate(&r.global.feature_selection());
    let gaps = (!r.specs.is_empty() && !scope.nothing)
        .then(|| score(r.specs.to_vec(), Vec::new(), &scope.scoped, true, None));
    if let (Some(provider), true, false) =
        (args.engine.provider(), args.model.dry_run, scope.nothing)
    {
        return Ok(Reviewed::DryRun(
            Session::open(
                provider,
                &args.model,
                r.config,
                workspace,
                (&scope.scoped, &features),
                r.specs,
            )?
            .dry_run(),
        ));
    }
    let id = run_id();
    let runs_dir = workspace.target_directory.join("dualtrack").join("runs");
    let run_dir = runs_dir.join(&id);
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("failed to create {}", run_dir.display()))?;
    let options = run_options(r, &run_dir)?;
    // The model session, once for generation, repairs and fixes; before any test runs, so
    // that a missing key or price stops the review at once.
    let mut session = match (args.engine.provider(), scope.nothing) {
        (Some(provider), false) => Some(Session::open(
            provider,
            &model_args(args, &scope),
            r.config,
            workspace,
            (&scope.scoped, &features),
            r.specs,
        )?),
        _ => None,
    };
    let mut spend = Spend::default();
    let generated = generate(
        r,
        &scope,
        &features,
        (&id, &run_dir),
        &options,
        session.as_mut(),
        &mut spend,
    )?;
    let rebuild = Rebuild {
        engine: args.engine.name(),
        workspace,
        full: &scope.full,
        run_dir: &run_dir,
        options: &options,
        progress: r.progress,
    };
    let step = |session, spent| ModelStep {
        session,
        args,
        scoped: &scope.scoped,
        spent,
        rebuild,
    };
    // The fuzz stage's harnesses are built and run with the engine's tests: no build of
    // their own.
    let fuzz_plan = if scope.nothing {
        None
    } else {
        crate::review::fuzz::plan(&rebuild, args, (&generated.fuzz, &generated.fuzz_preamble))?
    };
    let mut ran = run(
        r,
        &scope,
        generated.offline_pass,
        (
            generated.has_tests.then_some(&generated.module),
            fuzz_plan.as_ref(),
        ),
        &options,
        |report| match &session {
            Some(session) => {
                let (repaired, cost, rounds) =
                    repair_rounds(step(session, spend.cost), report, "")?;
                spend.add(repaired.usage, cost, repaired.transcripts);
                spend.keep(repaired.refused, repaired.repairs);
                Ok(rounds)
            }
            // The offline engine's tests get what rustc says they lack, and no model round.
            None => {
                import_round(&rebuild, report, "imports")?;
                Ok(0)
            }
        },
    )?;
    // The sites no test reached yet: the model is asked once more, aiming at them.
    if let (Some(session), Some(Ok(report))) = (&session, ran.outcome.as_mut()) {
        let covered = cover_rounds(step(session, spend.cost), report)?;
        spend.add(covered.made.usage, covered.cost, covered.made.transcripts);
        spend.keep(covered.made.refused, covered.made.repairs);
    }
    // The fuzz stage: the harnesses, then each crash confirmed as a test of its own.
    if args.fuzz_only && ran.outcome.is_none() && !generated.fuzz.is_empty() {
        // Nothing ran before it: its own run is the review's.
        ran.outcome = Some(Ok(crate::scratch::RunReport {
            probes: (!args.runner.no_probes).then(ProbeSummary::default),
            ..Default::default()
        }));
    }
    let fuzzed = {
        let report = match ran.outcome.as_mut() {
            Some(Ok(report)) => Some(report),
            _ => None,
        };
        crate::review::fuzz::stage(
            &rebuild,
            fuzz_plan.as_ref(),
            (&generated.fuzz, &generated.fuzz_preamble),
            ran.harnessed.take(),
            report,
        )?
    };
    // For each function a test breaks, the model may propose a fix: offered once it passes
    // the failing tests and the crate's own in the scratch copy.
    let mut fixes = Vec::new();
    if let (Some(session), Some(Ok(report)), false) = (
        &session,
        &ran.outcome,
        args.no_fixes || crate::interrupt::interrupted(),
    ) {
        let offered = offer_fixes(&step(session, spend.cost), report)?;
        spend.add(offered.usage, offered.cost, offered.transcripts);
        fixes = offered.entries;
    }
    let probes = ran
        .outcome
        .as_ref()
        .and_then(|outcome| outcome.as_ref().ok())
        .and_then(|report| report.probes.clone());
    let (mut document, sources, stopped) = run_document(r, &id, &run_dir, ran.outcome.take())?;
    document.run_id = id.clone();
    document.scope = "review".to_owned();
    add_fixes(&mut document, fixes);
    if let Some(usage) = spend.usage {
        document.usage = Usage::of_model(&usage, spend.cost);
        document.model = Some(std::mem::take(&mut spend.account));
        write_transcripts(&run_dir.join("transcripts"), &spend.transcripts)?;
        if let Some(dir) = &args.model.transcripts {
            write_transcripts(dir, &spend.transcripts)?;
        }
    }
    document.description = Some(scope.description.clone());
    document.skipped = generated
        .generation
        .skipped
        .iter()
        .map(|s| Skipped {
            function: s.function.clone(),
            reasons: s.reasons.clone(),
        })
        .chain(scope.excluded.iter().cloned())
        .collect();
    add_gaps(
        &mut document,
        gaps.as_ref(),
        &scope.scoped,
        items_in_scope(&scope, r.specs).as_ref(),
    );
    add_snippets(&mut document.findings, &workspace.root);
    collapse_duplicates(&mut document.findings);
    let seen = earlier_finding_ids(&runs_dir, &id);
    mark_status(&mut document.findings, &decisions, &seen);
    add_reproduce(
        &mut document.findings,
        &r.global.repeated_options(),
        &sources,
        r.cwd,
    );
    document.per_function = per_function(&document.tests);
    let fuzz_reached = fuzzed
        .as_ref()
        .map(|(found, _)| found.reached.values().flatten().cloned().collect())
        .unwrap_or_default();
    add_evidence(
        &mut document,
        &scope.full,
        probes.as_ref(),
        &workspace.root,
        &sources_read,
        &fuzz_reached,
    );
    if let Some((found, settings)) = fuzzed {
        document.fuzz = Some(crate::review::fuzz::report(&found, settings));
    }
    if spend.usage.is_some() {
        add_function_usage(&mut document.per_function, &spend.transcripts, r.config);
    }
    let sarif = sarif(r, &scope, &document);
    write_reports(workspace, &run_dir, &id, &document, &sarif)?;
    if !(args.no_ledger || r.config.ledger == Some(false)) {
        append_ledger(
            r,
            &scope,
            &document,
            &spend,
            ran.facts,
            generated.generate_ms,
        );
    }
    if args.keep_scratch {
        r.progress.line(&format!(
            "scratch copy kept in {}",
            run_dir.join("scratch").display()
        ));
    }
    Ok(Reviewed::Done(Box::new(Done {
        document,
        sarif,
        run_dir,
        nothing: scope.nothing,
        stopped,
    })))
}

/// The scratch runs' options: from the flags, one deadline for every run of this review (the
/// offline pass, a model's tests, repairs). A model's tests need a sandbox, or `--sandbox none`:
/// checked before any token is spent.
fn run_options(r: &Review, run_dir: &Path) -> anyhow::Result<RunOptions> {
    let model_written = r.args.engine.provider().is_some();
    let label = if r.args.fuzz_only { "fuzz" } else { "review" };
    let mut options = runner_options(r.global, &r.args.runner, model_written, label)?;
    if r.args.keep_scratch {
        options.keep_scratch = Some(run_dir.join("scratch"));
    }
    options.deadline = Some(r.started + r.args.time_budget);
    Ok(options)
}

/// The model flags for this review: a change's budget spread over its functions, a few each
/// at least.
fn model_args(args: &ReviewArgs, scope: &Scope) -> crate::cli::ModelArgs {
    let mut model_args = args.model.clone();
    if !scope.whole_crate {
        let share = FEATURE_BUDGET / scope.scoped.functions.len().max(1);
        // Never more than asked, even when fewer than the three each would get.
        model_args.tests_per_fn = (share as u32).max(3).min(model_args.tests_per_fn);
    }
    model_args
}

/// What the engines wrote.
struct Generated {
    generation: offline::Generation,
    /// The offline pass's run under a model engine: free findings, and what the model is told.
    offline_pass: Option<Result<RunReport, Stopped>>,
    /// The engine's module in the run directory, and its text.
    module: (PathBuf, String),
    /// Whether the module holds any test.
    has_tests: bool,
    /// The time asking the engine for tests took (the offline pass of a model review aside).
    generate_ms: u64,
    /// The offline engine's fuzz harnesses of the functions in scope, and the preamble their
    /// module needs.
    fuzz: Vec<crate::generate::FuzzTarget>,
    fuzz_preamble: String,
}

/// Generate the tests of the functions in scope, and write them as the engine's module in the
/// run directory. Under a model engine the offline engine's tests run first (unless
/// `--skip-offline`), and the model is told what they found.
fn generate(
    r: &Review,
    scope: &Scope,
    features: &Features,
    (id, run_dir): (&str, &Path),
    options: &RunOptions,
    session: Option<&mut Session>,
    spend: &mut Spend,
) -> anyhow::Result<Generated> {
    let args = r.args;
    let offline_generation = || {
        offline::generate(
            &r.workspace.root,
            &scope.full,
            Some(&scope.keep),
            features,
            r.specs,
            OfflineOptions {
                max_per_fn: args.offline_max_per_fn(),
                // No feature-wide cap unless asked: a generated test costs milliseconds, and
                // the breakers of every function in scope run.
                max_tests: args.max_tests.filter(|&n| n > 0).map(|n| n as usize),
                private: args.private,
                potent: args.max_tests.is_none(),
            },
        )
    };
    let mut offline_pass = None;
    let mut generate_ms = 0;
    let mut fuzz = Vec::new();
    let mut fuzz_preamble = String::new();
    let generation = if scope.nothing {
        offline::Generation::default()
    } else {
        let mut ran = HashMap::new();
        let mut unreached = HashMap::new();
        if session.is_some() && !args.skip_offline {
            let mut cheap = offline_generation();
            fuzz = std::mem::take(&mut cheap.fuzz);
            fuzz_preamble = cheap.preamble.clone();
            let tests = cheap.emitted();
            if !tests.is_empty() {
                r.progress.line(&format!(
                    "offline pass: {} first; the model is told what they find \
                     (--skip-offline to skip)",
                    crate::output::plural(tests.len(), "test")
                ));
                let path = run_dir.join("dualtrack_offline.rs");
                let text = module_text(
                    &json!({ "engine": "offline", "run_id": id }),
                    &cheap.preamble,
                    &tests,
                );
                write_atomically(&path, &text)?;
                let outcome = run_or_stop(
                    r.workspace,
                    &scope.full,
                    &[module_input("offline", &path, &text)?],
                    options,
                )?;
                if let Ok(report) = &outcome {
                    ran = crate::generate::llm::existing::ran(&report.results, &r.workspace.root);
                    if let Some(probes) = &report.probes {
                        unreached = crate::generate::llm::existing::unreached(
                            &report.results,
                            &scope.scoped,
                            &probes.probed,
                        );
                    }
                }
                offline_pass = Some(outcome);
            }
        }
        let generating = Instant::now();
        let stage = r.progress.stage(
            &format!(
                "generating tests for {}",
                crate::output::plural(scope.scoped.functions.len(), "function")
            ),
            None,
        );
        let mut generation = match (session, &offline_pass) {
            (None, _) => offline_generation(),
            // The crate does not build, or Ctrl-C: nothing to ask about.
            (Some(_), Some(Err(_))) => offline::Generation::default(),
            (Some(_), _) if crate::interrupt::interrupted() => offline::Generation::default(),
            (Some(session), _) => {
                let (made, cost) = session.generate(ran, unreached)?;
                r.progress.line(&format!(
                    "{} ({}): {} input tokens ({} cached), {} output tokens in {} requests, {}",
                    args.engine.name(),
                    session.model(),
                    made.usage.input_tokens,
                    made.usage.cached_input_tokens,
                    made.usage.output_tokens,
                    made.transcripts.len(),
                    cost_text(cost, args.engine.name())
                ));
                let made = made.in_round("generate");
                *spend = Spend {
                    usage: Some(made.usage),
                    cost,
                    transcripts: made.transcripts,
                    account: crate::document::ModelAccount {
                        refused: made.refused,
                        repairs: Vec::new(),
                    },
                };
                let mut generation = made.generation;
                // One name, one test: a rerun command and a fix's check find a test by name.
                if let Some(Ok(earlier)) = &offline_pass {
                    let taken = earlier.results.iter().map(|r| r.name.clone()).collect();
                    rename_apart(&mut generation.tests, taken, "model");
                }
                generation
            }
        };
        generate_ms = generating.elapsed().as_millis() as u64;
        if fuzz.is_empty() {
            fuzz = std::mem::take(&mut generation.fuzz);
            fuzz_preamble = generation.preamble.clone();
        }
        for warning in &generation.warnings {
            r.progress.line(&format!("warning: {warning}"));
        }
        stage.finish(Some(&format!(
            "{} generated for {} ({} skipped)",
            crate::output::plural(generation.tests.len(), "test"),
            crate::output::plural(
                generation
                    .tests
                    .iter()
                    .map(|t| t.test.meta.function.as_str())
                    .collect::<BTreeSet<_>>()
                    .len(),
                "function"
            ),
            generation.skipped.len()
        )));
        if !generation.skipped.is_empty() {
            let reasons: Vec<String> = offline::skip_summary(&generation.skipped, 3)
                .into_iter()
                .map(|(count, reason)| format!("{count} {reason}"))
                .collect();
            r.progress.line(&format!(
                "skipped functions, commonest reasons: {} (all under `skipped` in report.json)",
                reasons.join("; ")
            ));
        }
        generation
    };
    // `cargo dualtrack fuzz`: the harnesses, and no test of the engine's.
    let mut generation = generation;
    if args.fuzz_only {
        generation.tests.clear();
    }
    let header = json!({ "engine": args.engine.name(), "run_id": id });
    let path = run_dir.join(format!("dualtrack_{}.rs", args.engine.name()));
    let tests = generation.emitted();
    let text = module_text(&header, &generation.preamble, &tests);
    write_atomically(&path, &text)?;
    Ok(Generated {
        generation,
        offline_pass,
        module: (path, text),
        has_tests: !tests.is_empty(),
        generate_ms,
        fuzz,
        fuzz_preamble,
    })
}

/// What running the tests came to.
struct Ran {
    /// The offline pass's report, then the engine's tests', repaired; `None` when there was
    /// nothing to run.
    outcome: Option<Result<RunReport, Stopped>>,
    facts: RunFacts,
    /// The fuzz harnesses' runs, when they ran with the engine's tests.
    harnessed: Option<RunReport>,
}

/// For the ledger: tests the engines' first builds dropped, and repair rounds asked.
#[derive(Default, Clone, Copy)]
struct RunFacts {
    first_pass_dropped: u64,
    repair_rounds: u64,
}

/// Run the engine's module (when it has tests) in the scratch copy, `repair` its tests that did not compile
/// (returning the rounds asked), and put the offline pass's outcomes first.
fn run(
    r: &Review,
    scope: &Scope,
    offline_pass: Option<Result<RunReport, Stopped>>,
    (module, fuzz): (
        Option<&(PathBuf, String)>,
        Option<&crate::review::fuzz::Plan>,
    ),
    options: &RunOptions,
    mut repair: impl FnMut(&mut RunReport) -> anyhow::Result<u64>,
) -> anyhow::Result<Ran> {
    let mut facts = RunFacts::default();
    let mut harnessed = None;
    let outcome = match (offline_pass, module) {
        (Some(Err(stop)), _) => Some(Err(stop)),
        // Nothing to test because files do not parse: whether the crate builds still decides
        // the exit code (4 when it does not), so the baseline runs.
        (None, None) if !scope.full.errors.is_empty() => {
            match run_or_stop(r.workspace, &scope.full, &[], options)? {
                Err(stop) => Some(Err(stop)),
                Ok(_) => None,
            }
        }
        (earlier, None) => earlier,
        (earlier, Some((path, text))) => {
            let mut modules = vec![module_input(r.args.engine.name(), path, text)?];
            let fuzz_options = fuzz.map(|plan| {
                modules.extend(plan.modules());
                plan.options(options)
            });
            match run_or_stop(
                r.workspace,
                &scope.full,
                &modules,
                fuzz_options.as_ref().unwrap_or(options),
            )? {
                Err(stop) => Some(Err(stop)),
                Ok(mut report) => {
                    harnessed = fuzz.map(|plan| plan.take_harnesses(&mut report));
                    facts.first_pass_dropped += dropped(&report);
                    facts.repair_rounds = repair(&mut report)?;
                    if let Some(Ok(earlier)) = earlier {
                        facts.first_pass_dropped += dropped(&earlier);
                        report.results.splice(0..0, earlier.results);
                        report.build_log.insert_str(0, &earlier.build_log);
                        report.interrupted |= earlier.interrupted;
                        report.cut += earlier.cut;
                        report.probes = ProbeSummary::merged(report.probes, earlier.probes);
                    }
                    Some(Ok(report))
                }
            }
        }
    };
    Ok(Ran {
        outcome,
        facts,
        harnessed,
    })
}

/// The review document of a run and its logs, with the module each test came from (for rerun
/// commands), and the exit code of a run that stopped short: such a run (the crate does not
/// build, Ctrl-C before any test) still leaves its reports, empty, and its logs.
fn run_document(
    r: &Review,
    id: &str,
    run_dir: &Path,
    outcome: Option<Result<RunReport, Stopped>>,
) -> anyhow::Result<(ReviewDocument, HashMap<String, PathBuf>, Option<ExitCode>)> {
    let engine = r.args.engine.name();
    let mut sources = HashMap::new();
    Ok(match outcome {
        None => (ReviewDocument::empty(id, "review", engine), sources, None),
        Some(Ok(report)) => {
            if !r.global.quiet && r.global.verbose > 0 {
                anstream::eprint!("{}", crate::report::run::render_human(&report));
            }
            write_logs(run_dir, &report)?;
            for result in &report.results {
                if let Some(source) = &result.source {
                    sources.insert(result.name.clone(), source.into());
                }
            }
            (review_document(&report, engine, "review"), sources, None)
        }
        Some(Err(stop)) => {
            let mut document = ReviewDocument::empty(id, "review", engine);
            if stop.code == ExitCode::BaselineFailed {
                document.baseline_failed = true;
            } else {
                document.interrupted = true;
            }
            // No test ran: the logs hold what cargo said.
            write_logs(
                run_dir,
                &RunReport {
                    build_log: stop.log,
                    ..Default::default()
                },
            )?;
            (document, sources, Some(stop.code))
        }
    })
}

/// The spec items about the functions in scope, when not every function is: items about
/// functions out of scope are not this review's gaps.
fn items_in_scope(scope: &Scope, specs: &[Spec]) -> Option<BTreeSet<String>> {
    (!scope.whole_crate).then(|| {
        specs
            .iter()
            .flat_map(|spec| {
                spec.items
                    .iter()
                    .filter(|item| item.is_promise())
                    .filter(|item| {
                        !item_targets(item, &spec.targets, &scope.scoped.functions)
                            .direct
                            .is_empty()
                    })
                    .map(|item| item.id.clone())
            })
            .collect()
    })
}

/// The document as SARIF, paths relative to the repository (outside git, to the workspace
/// root), in a category of its own per shard.
fn sarif(r: &Review, scope: &Scope, document: &ReviewDocument) -> String {
    let root = &r.workspace.root;
    let function_locations: HashMap<String, (String, u32)> = scope
        .full
        .functions
        .iter()
        .map(|f| (f.path.clone(), (f.file.clone(), f.line)))
        .collect();
    let repo = repository_root(root).unwrap_or_else(|| root.clone());
    let repo = repo.canonicalize().unwrap_or(repo);
    let repo_relative = |file: &str| -> Option<String> {
        let path = root.join(file);
        if !path.is_file() {
            return None;
        }
        let path = path.canonicalize().ok()?;
        let relative = path.strip_prefix(&repo).ok()?;
        Some(relative.to_string_lossy().replace('\\', "/"))
    };
    render_sarif(
        document,
        &SarifContext {
            repo_relative: &repo_relative,
            function_locations: &function_locations,
            category: match r.args.shard {
                Some((k, n)) => format!("cargo-dualtrack/shard-{k}-of-{n}"),
                None => "cargo-dualtrack".to_owned(),
            },
            edges: !scope.whole_crate,
        },
    )
}

/// The review's row in the ledger; one it cannot append to is said, not fatal: the review is
/// done and its reports written.
fn append_ledger(
    r: &Review,
    scope: &Scope,
    document: &ReviewDocument,
    spend: &Spend,
    facts: RunFacts,
    generate_ms: u64,
) {
    let row = ledger_row(
        document,
        LedgerFacts {
            task: r
                .args
                .task
                .clone()
                .or_else(|| current_branch(&r.workspace.root)),
            model: spend
                .transcripts
                .first()
                .map(|t| t.model.clone())
                .or_else(|| r.args.model.model.clone())
                .unwrap_or_default(),
            scoped: &scope.scoped,
            first_pass_dropped: facts.first_pass_dropped,
            repair_rounds: facts.repair_rounds,
            cost: if r.args.engine.provider().is_some() {
                spend.cost
            } else {
                Some(0.0)
            },
            wall_ms: r.started.elapsed().as_millis() as u64,
            generate_ms,
        },
    );
    let path = crate::ledger::path(&r.workspace.root);
    if let Err(err) = crate::ledger::append(&path, &[row]) {
        r.progress
            .line(&format!("warning: the ledger was not written: {err:#}"));
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

/// Exit 1 when undecided findings of the kinds `--fail-on` names exist.
pub fn exit_code(document: &ReviewDocument, fail_on: FailOn) -> ExitCode {
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
    use super::*;
    use crate::document::{Finding, Status, Verdict};

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
    fn a_stop_decides_the_exit_code_then_ctrl_c_then_the_findings() {
        let failing = ReviewDocument {
            findings: vec![Finding::new(
                "F-1".into(),
                FindingKind::Failure,
                Verdict::LikelyBug,
                "m".into(),
            )],
            ..ReviewDocument::empty("r1-1", "review", "offline")
        };
        let done = |document: ReviewDocument, stopped| Done {
            document,
            sarif: String::new(),
            run_dir: PathBuf::new(),
            nothing: false,
            stopped,
        };
        assert_eq!(
            done(failing.clone(), None).exit_code(FailOn::Failures),
            ExitCode::Findings
        );
        assert_eq!(
            done(failing.clone(), Some(ExitCode::BaselineFailed)).exit_code(FailOn::Failures),
            ExitCode::BaselineFailed
        );
        let interrupted = ReviewDocument {
            interrupted: true,
            ..failing
        };
        assert_eq!(
            done(interrupted, None).exit_code(FailOn::Never),
            ExitCode::Interrupted
        );
    }

    #[test]
    fn what_a_model_takes_adds_up_and_an_unknown_price_stays_unknown() {
        let usage = |tokens| crate::generate::llm::wire::Usage {
            input_tokens: tokens,
            ..Default::default()
        };
        // Never asked: nothing to add to.
        let mut unasked = Spend::default();
        unasked.add(usage(5), Some(1.0), Vec::new());
        assert!(unasked.usage.is_none());
        let mut spend = Spend {
            usage: Some(usage(10)),
            cost: Some(0.5),
            ..Spend::default()
        };
        spend.add(usage(5), Some(0.25), Vec::new());
        assert_eq!(spend.usage.map(|u| u.input_tokens), Some(15));
        assert_eq!(spend.cost, Some(0.75));
        spend.add(usage(1), None, Vec::new());
        assert_eq!(spend.cost, None);
    }

    fn scope_of(functions: usize, whole_crate: bool) -> Scope {
        let analysis = crate::analyze::Analysis::for_test(
            (0..functions)
                .map(|n| crate::analyze::Function::for_test(&format!("c::f{n}")))
                .collect(),
        );
        Scope {
            full: analysis.clone(),
            scoped: analysis,
            keep: (0..functions).collect(),
            description: String::new(),
            nothing: false,
            excluded: Vec::new(),
            whole_crate,
        }
    }

    #[test]
    fn a_change_s_budget_is_spread_over_its_functions() {
        use clap::Parser;
        let args = match crate::cli::Cli::parse_from(["cargo-dualtrack", "review"]).command {
            Some(crate::cli::Command::Review(args)) => args.with_config(&Default::default()),
            other => panic!("not a review: {other:?}"),
        };
        let asked = args.model.tests_per_fn;
        // Two functions of a change share the feature's 25, up to what one may get.
        assert_eq!(
            model_args(&args, &scope_of(2, false)).tests_per_fn,
            12.min(asked)
        );
        // Twenty share it thinly, but each gets a few.
        assert_eq!(model_args(&args, &scope_of(20, false)).tests_per_fn, 3);
        // The whole crate is no one feature: every function gets what the flags say.
        assert_eq!(model_args(&args, &scope_of(20, true)).tests_per_fn, asked);
        // Asked for fewer than three, a function gets no more.
        let mut few = args.clone();
        few.model.tests_per_fn = 2;
        assert_eq!(model_args(&few, &scope_of(2, false)).tests_per_fn, 2);
    }

    #[test]
    fn spec_items_count_only_when_they_are_about_a_function_in_scope() {
        let (spec, _) = crate::spec::parse::parse_spec(
            "# F\n\n## Acceptance criteria\n\n- AC1: `f0` returns 1.\n- AC2: `other` returns 2.\n",
            "SPEC.md",
        );
        let scope = scope_of(1, false);
        let items = items_in_scope(&scope, std::slice::from_ref(&spec)).unwrap();
        assert_eq!(items.into_iter().collect::<Vec<_>>(), ["AC1"]);
        // The whole crate: every item is this review's business.
        assert!(items_in_scope(&scope_of(1, true), &[spec]).is_none());
    }
}
