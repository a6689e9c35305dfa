//! The scratch stage: a synced copy of the workspace under the target directory, generated
//! test modules injected into it, built, and each test run in its own process.
//!
//! Layout under `<target_directory>/dualtrack/`: `scratch/` (the copy), `target/` (its own warm
//! target directory), `tmp/` (the tests' `TMPDIR`), `lock` (one run at a time).

pub mod build;
pub mod builtin;
pub mod copy;
pub mod execute;
pub mod inject;
pub mod journal;
pub mod lints;
pub mod manifest;
pub mod own_tests;
pub mod process;
pub mod runner;
pub mod sandbox;
pub mod served;

mod area;
mod cache;
mod place;
mod run;

use self::area::*;
pub use self::area::{ScratchArea, show_outside};
use self::cache::*;
use self::place::*;
use self::run::*;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::analyze::{Analysis, Function};
use crate::progress::Progress;
use crate::testfile::{TestCase, TestModule, module_name};
use crate::workspace::{TargetKind, Workspace};
use build::{BuildTarget, Executable, build_tests, fetch};
use execute::{Outcome, resolve, run_test};
use inject::{PlacedRange, Placement, inject_all, original_line};
use sandbox::{Limits, Mechanism, Sandbox, SandboxChoice};

/// How the untouched copy is checked before anything is injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// The copy must build.
    Build,
    /// The copy must build and its own tests pass.
    Test,
    /// No check.
    Skip,
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub timeout: Duration,
    /// Parallel test processes; 0 means one per core.
    pub jobs: usize,
    pub baseline: Baseline,
    /// How many more times a failing or panicking test is run to tell flaky from steady.
    pub reruns: u32,
    /// Bytes of output kept per test.
    pub output_cap: usize,
    pub sandbox: SandboxChoice,
    pub limits: Limits,
    /// Copy the scratch copy, injected tests and all, here at the end of the run (for
    /// debugging: the shared copy changes with the next run).
    pub keep_scratch: Option<PathBuf>,
    /// Where the stages (baseline, build, run) are shown.
    pub progress: Progress,
    /// `--features` and friends, passed on to every cargo build.
    pub cargo_features: Vec<String>,
    /// A file of the copy to build as this text instead of the workspace's: a proposed fix
    /// under verification. The workspace is never touched.
    pub patch: Option<Patch>,
    /// Trees outside the workspace that links in it may show (`--allow-link`), absolute.
    pub allow_links: Vec<PathBuf>,
    /// Past this moment no further test is started (`review --time-budget`): a safety stop.
    pub deadline: Option<Instant>,
}

/// A file's replacement text in the scratch copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// Relative to the workspace root.
    pub file: PathBuf,
    pub text: String,
}

impl Patch {
    /// Write the patched text into the copy (when it differs, so a warm build stays warm).
    fn apply(&self, area: &ScratchArea) -> anyhow::Result<()> {
        let path = area.copy.join(&self.file);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(self.text.as_str()) {
            std::fs::write(&path, &self.text)
                .with_context(|| format!("failed to write {}", path.display()))?;
        }
        Ok(())
    }

    /// What tells this patch's builds apart from the unpatched ones in the caches.
    fn stamp(&self) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(format!("{}\0{}", self.file.display(), self.text));
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout: Duration::from_secs(10),
            jobs: 0,
            baseline: Baseline::Build,
            reruns: 2,
            output_cap: 64 * 1024,
            sandbox: SandboxChoice::Auto,
            limits: Limits::default(),
            keep_scratch: None,
            progress: Progress::hidden(),
            cargo_features: Vec::new(),
            patch: None,
            allow_links: Vec::new(),
            deadline: None,
        }
    }
}

/// A generated module and the engine that wrote it.
#[derive(Debug, Clone)]
pub struct ModuleInput {
    pub engine: String,
    pub module: TestModule,
    /// The file the module was read from, to point at a failing assertion's own line.
    pub source: Option<String>,
}

/// How one generated test came out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub name: String,
    pub engine: String,
    pub function: String,
    pub targets: Vec<String>,
    pub spec_items: Vec<String>,
    pub category: Option<String>,
    pub oracle: Option<String>,
    pub input: Option<String>,
    pub outcome: Outcome,
    pub message: String,
    /// `file:line` in the user's tree: where the code under test panicked, or where the
    /// test's own assertion failed.
    pub location: Option<String>,
    /// The analyzer's site at `location` (the innermost that holds its line): what failed,
    /// named in a way that survives edits elsewhere in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_site: Option<String>,
    /// Compiler errors of a dropped test, as rustc rendered them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compile_errors: Vec<String>,
    /// The `use` lines rustc suggested for a dropped test.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggested_imports: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output: String,
    pub elapsed_ms: u64,
    /// The test's code, for reports and for checking it in.
    pub code: String,
    /// The test file it came from, when it came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(default)]
pub struct Timings {
    pub sync_ms: u64,
    pub baseline_ms: u64,
    pub build_ms: u64,
    pub run_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunReport {
    /// The sandbox mechanism the build and the tests ran in.
    pub sandbox: String,
    /// Ctrl-C stopped the run: `results` holds only the tests that finished before.
    #[serde(default)]
    pub interrupted: bool,
    pub results: Vec<TestResult>,
    pub timings: Timings,
    pub build_rounds: u32,
    /// Tests built but not run because the time budget ran out.
    #[serde(default)]
    pub cut: usize,
    /// What cargo said in each build (its stderr and the compiler's errors), for the logs.
    #[serde(skip)]
    pub build_log: String,
}

use crate::error::Interrupted;

/// The crate itself does not build (or its own tests fail) before anything is injected.
#[derive(Debug, thiserror::Error)]
#[error("the crate does not build before any test is injected (baseline `{mode}`):\n{log}")]
pub struct BaselineFailed {
    pub mode: &'static str,
    pub log: String,
}

/// One test with where it comes from.
struct Pending<'a> {
    engine: &'a str,
    source: Option<&'a str>,
    case: &'a TestCase,
    preamble: &'a str,
    function: Option<&'a Function>,
}

/// Inject `modules` into a fresh copy of the workspace, build, and run every test alone.
pub fn run_modules(
    workspace: &Workspace,
    analysis: &Analysis,
    modules: &[ModuleInput],
    options: &RunOptions,
) -> anyhow::Result<RunReport> {
    let mechanism = Mechanism::choose(options.sandbox)?;
    let area = ScratchArea::open(workspace)?;
    let result = run_in_area(
        &area,
        mechanism.clone(),
        workspace,
        analysis,
        modules,
        options,
    );
    if let Some(patch) = &options.patch {
        forget_patch(&area, mechanism, workspace, analysis, patch)?;
    }
    result
}

/// Undo a patched run: the next sync puts the original text back with its own, older mtime,
/// which cargo would take for unchanged and so keep the patched build. The package is
/// cleaned from the scratch target (its dependencies stay built), the baseline forgotten,
/// and the original put back now.
fn forget_patch(
    area: &ScratchArea,
    mechanism: Mechanism,
    workspace: &Workspace,
    analysis: &Analysis,
    patch: &Patch,
) -> anyhow::Result<()> {
    let original = workspace.root.join(&patch.file);
    let copy = area.copy.join(&patch.file);
    if original.is_file() {
        std::fs::copy(&original, &copy)
            .with_context(|| format!("failed to restore {}", copy.display()))?;
    }
    let _ = std::fs::remove_file(area.root.join("baseline"));
    let targets = build_targets(
        workspace,
        analysis
            .functions
            .iter()
            .filter(|f| Path::new(&f.file) == patch.file),
    );
    let sandbox = area.build_sandbox(mechanism);
    let env = area.test_env();
    let cargo = build::cargo();
    for target in &targets {
        let args = ["clean", "--offline", "-p", target.spec.as_str()];
        let command = sandbox.command(&cargo, &args, &area.copy, &env, None);
        let finished = process::run_with_timeout(command, Duration::from_secs(600), 1 << 20)?;
        if !finished.status.is_some_and(|s| s.success()) {
            // A scratch target that cannot be cleaned must not be trusted at all.
            std::fs::remove_dir_all(&area.target).with_context(|| {
                format!(
                    "`cargo clean -p {}` failed ({}) and {} could not be removed",
                    target.spec,
                    finished.stderr.trim(),
                    area.target.display()
                )
            })?;
            std::fs::create_dir_all(&area.target)?;
        }
    }
    Ok(())
}

fn run_in_area(
    area: &ScratchArea,
    mechanism: Mechanism,
    workspace: &Workspace,
    analysis: &Analysis,
    modules: &[ModuleInput],
    options: &RunOptions,
) -> anyhow::Result<RunReport> {
    let mut sandbox = area.sandbox(mechanism.clone());
    let mut build_sandbox = area.build_sandbox(mechanism);
    let env = area.test_env();
    let mut report = RunReport {
        sandbox: sandbox.mechanism.name().to_owned(),
        ..RunReport::default()
    };
    let start = Instant::now();
    let mut injected_files: Vec<PathBuf> = modules
        .iter()
        .flat_map(|m| m.module.tests.iter())
        .filter_map(|case| {
            analysis
                .functions
                .iter()
                .find(|f| f.path == case.meta.function)
        })
        .map(|f| PathBuf::from(&f.file))
        .collect();
    injected_files.sort();
    injected_files.dedup();
    // A patched file is written here, not copied.
    if let Some(patch) = &options.patch {
        injected_files.push(patch.file.clone());
    }
    let synced = area.sync(workspace, &injected_files)?;
    if let Some(patch) = &options.patch {
        patch.apply(area)?;
    }
    show_outside(
        workspace,
        &synced,
        &options.allow_links,
        &options.progress,
        &mut [&mut sandbox, &mut build_sandbox],
    );
    // The baseline is cached by the sources' fingerprint: an unchanged tree is not rebuilt
    // untouched before every run.
    let baseline_stamp = area.root.join("baseline");
    // Other features, another build.
    let fingerprint = format!(
        "{}:{}:{}",
        synced.fingerprint,
        options.cargo_features.join(" "),
        options.patch.as_ref().map(Patch::stamp).unwrap_or_default()
    );
    let stamp = |mode: &str| format!("{mode}:{fingerprint}");
    // The crate's own test code a baseline of these sources had to leave out stays out.
    let stripped_path = area.root.join("stripped.json");
    let (mut stripped, stale) = own_tests::Stripped::load(&stripped_path, &fingerprint);
    for rel in &stale {
        let (from, to) = (workspace.root.join(rel), area.copy.join(rel));
        if from.is_file() {
            std::fs::copy(&from, &to).with_context(|| {
                format!("failed to restore {} in the scratch copy", to.display())
            })?;
        }
    }
    if !stale.is_empty() {
        // The plan that explained them is gone with its sources: a baseline decides again.
        let _ = std::fs::remove_file(&baseline_stamp);
        let _ = std::fs::remove_file(&stripped_path);
    }
    stripped.apply(&area.copy, &injected_files)?;
    let cached = std::fs::read_to_string(&baseline_stamp).ok();
    let baseline_cached = match options.baseline {
        Baseline::Skip => true,
        Baseline::Build => cached
            .as_deref()
            .is_some_and(|c| c == stamp("build") || c == stamp("test")),
        Baseline::Test => cached.as_deref() == Some(stamp("test").as_str()),
    };
    if !baseline_cached || options.baseline == Baseline::Skip {
        // Dependencies come first, with the network; the sandboxed build has none.
        fetch(&area.copy)?;
    }
    report.timings.sync_ms = start.elapsed().as_millis() as u64;

    let by_path: HashMap<&str, &Function> = analysis
        .functions
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    let pending: Vec<Pending> = modules
        .iter()
        .flat_map(|input| {
            input.module.tests.iter().map(|case| Pending {
                engine: &input.engine,
                source: input.source.as_deref(),
                case,
                preamble: &input.module.preamble,
                function: by_path.get(case.meta.function.as_str()).copied(),
            })
        })
        .collect();
    let mut results: Vec<Option<TestResult>> = vec![None; pending.len()];
    for (index, test) in pending.iter().enumerate() {
        if test.function.is_none() {
            results[index] = Some(result(
                test,
                Outcome::Dropped,
                format!(
                    "function `{}` is not in the analyzed packages",
                    test.case.meta.function
                ),
            ));
        }
    }

    let mut targets = build_targets(workspace, pending.iter().filter_map(|t| t.function));
    if targets.is_empty() && !analysis.errors.is_empty() {
        // Nothing to test because files do not parse: the baseline still tells whether the
        // crates build at all.
        targets = every_target(workspace);
    }
    // One build of the copy's test targets, as it is now.
    let build = || {
        build_tests(
            &area.copy,
            &targets,
            &options.cargo_features,
            &build_sandbox,
            &env,
        )
    };
    if !baseline_cached && !targets.is_empty() {
        let start = Instant::now();
        let stage = options
            .progress
            .stage("baseline: building the crate as it is", None);
        // The untouched copy: the files from an earlier run's injection restored.
        area.sync(workspace, &[])?;
        if let Some(patch) = &options.patch {
            patch.apply(area)?;
        }
        stripped.apply(&area.copy, &[])?;
        let mut baseline = build()?;
        // Errors only in the crate's own test code: that code is left out of the copy and
        // the baseline tried again (a module left out may uncover the next).
        for _ in 0..3 {
            if baseline.success || crate::interrupt::interrupted() {
                break;
            }
            let Some((more, said)) = own_tests::plan(&area.copy, &baseline.errors, &fingerprint)
            else {
                break;
            };
            append_build_log(&mut report.build_log, "baseline", &baseline);
            options.progress.line(&format!("warning: {said}"));
            for (file, ranges) in more.files {
                stripped.files.entry(file).or_default().extend(ranges);
            }
            stripped.fingerprint = fingerprint.clone();
            stripped.save(&stripped_path)?;
            stripped.apply(&area.copy, &[])?;
            baseline = build()?;
        }
        stage.finish(None);
        if crate::interrupt::interrupted() {
            return Err(Interrupted.into());
        }
        append_build_log(&mut report.build_log, "baseline", &baseline);
        if !baseline.success {
            let mut log = baseline.rendered_errors();
            if log.is_empty() {
                log = baseline.log;
            }
            keep_copy(area, options)?;
            return Err(BaselineFailed { mode: "build", log }.into());
        }
        if options.baseline == Baseline::Test {
            run_own_tests(
                area,
                &targets,
                &options.cargo_features,
                &build_sandbox,
                &env,
            )?;
        }
        let mode = if options.baseline == Baseline::Test {
            "test"
        } else {
            "build"
        };
        std::fs::write(&baseline_stamp, stamp(mode)).context("failed to record the baseline")?;
        report.timings.baseline_ms = start.elapsed().as_millis() as u64;
    }

    // Inject, build, drop what does not compile, until the rest builds.
    let build_start = Instant::now();
    let stage = options
        .progress
        .stage(&format!("building {} generated tests", pending.len()), None);
    let mut build_key_used = String::new();
    let mut cached_names = None;
    // Searches for a test that breaks the crate's own code; past a few, the failure is not
    // the tests' (the crate stopped building) and every test goes with the log.
    let mut isolations = 0;
    let (placed, ranges, executables) = loop {
        report.build_rounds += 1;
        let live: Vec<usize> = (0..pending.len())
            .filter(|&i| results[i].is_none())
            .collect();
        if live.is_empty() {
            break (Vec::new(), Ranges::new(), Vec::new());
        }
        if report.build_rounds > 1 {
            stage.set_message(&format!(
                "building {} generated tests (round {}: {} dropped so far)",
                live.len(),
                report.build_rounds,
                pending.len() - live.len()
            ));
        }
        let (placed, ranges) = place_tests(
            workspace,
            area,
            &pending,
            &live,
            options.patch.as_ref(),
            &stripped,
        )?;
        // Same sources, same injected text: the executables of the last build still hold.
        let build_key = build_key(&fingerprint, area, &ranges);
        if let Some(cache) = cached_build(area, &build_key) {
            cached_names = Some(
                cache
                    .names
                    .into_iter()
                    .map(|(package, target, list)| ((package, target), list))
                    .collect::<HashMap<_, _>>(),
            );
            break (placed, ranges, cache.executables);
        }
        let outcome = build()?;
        append_build_log(
            &mut report.build_log,
            &format!("round {}", report.build_rounds),
            &outcome,
        );
        if crate::interrupt::interrupted() {
            return Err(Interrupted.into());
        }
        if outcome.success {
            build_key_used = build_key;
            break (placed, ranges, outcome.executables);
        }
        let mut blamed = false;
        for error in &outcome.errors {
            for p in culprits_of(error, &placed) {
                blamed = true;
                let entry = results[p.test].get_or_insert_with(|| {
                    result(
                        &pending[p.test],
                        Outcome::Dropped,
                        "does not compile".to_owned(),
                    )
                });
                let test = &pending[p.test];
                let rendered = match test.source {
                    // Point the error at the test file, not at the scratch copy.
                    Some(test_file) => {
                        relocate_rendered(&error.rendered, &p.file, test_file, |line| {
                            p.test_file_line(test.case.line, line)
                        })
                    }
                    None => error.rendered.clone(),
                };
                entry.compile_errors.push(rendered);
                for import in &error.imports {
                    if !entry.suggested_imports.contains(import) {
                        entry.suggested_imports.push(import.clone());
                    }
                }
            }
        }
        if !blamed && isolations >= MAX_ISOLATIONS {
            let log = outcome.rendered_errors();
            for index in live {
                results[index] = Some(result(
                    &pending[index],
                    Outcome::Dropped,
                    format!(
                        "the build failed outside the generated tests:\n{}{}",
                        log, outcome.log
                    ),
                ));
            }
            break (Vec::new(), Ranges::new(), Vec::new());
        }
        if !blamed {
            isolations += 1;
            // No error lies in a test's lines, though the crate built without them: some
            // test makes the crate's own code fail (a clash, an inference it breaks). Halves
            // of the tests are built until the one behind it is found; it is dropped with
            // the errors, and the rest go on.
            let log = outcome.rendered_errors();
            let culprit = isolate_culprit(&live, &mut |subset| {
                report.build_rounds += 1;
                let (placed, _) = place_tests(
                    workspace,
                    area,
                    &pending,
                    subset,
                    options.patch.as_ref(),
                    &stripped,
                )?;
                let outcome = build()?;
                if crate::interrupt::interrupted() {
                    return Err(Interrupted.into());
                }
                Ok(!outcome.success
                    && (outcome.errors.is_empty()
                        || outcome
                            .errors
                            .iter()
                            .any(|e| culprits_of(e, &placed).is_empty())))
            })?;
            results[culprit] = Some(result(
                &pending[culprit],
                Outcome::Dropped,
                format!(
                    "does not compile: with it, the crate's own code fails to build (found by \
                     building halves of the tests):\n{}{}",
                    log, outcome.log
                ),
            ));
            stage.set_message(&format!(
                "building {} generated tests (a test that broke the crate's build was found)",
                live.len() - 1
            ));
        }
    };
    report.timings.build_ms = build_start.elapsed().as_millis() as u64;
    stage.finish(Some(&format!(
        "{} tests built, {} dropped, in {} build round{}",
        placed.len(),
        pending.len() - placed.len(),
        report.build_rounds,
        if report.build_rounds == 1 { "" } else { "s" }
    )));

    // Run each test alone, in parallel, rerunning failures to spot flaky ones.
    let run_start = Instant::now();
    let executables: HashMap<(String, String), &Executable> = executables
        .iter()
        .map(|e| ((e.package.clone(), e.target.clone()), e))
        .collect();
    let names = match cached_names {
        Some(names) => names,
        None => {
            let names = list_tests(&executables, &sandbox, &area.copy, &env)?;
            if !build_key_used.is_empty() {
                remember_build(area, &build_key_used, &executables, &names);
            }
            names
        }
    };
    let jobs = if options.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.jobs
    };
    let queue = Mutex::new(placed.iter().collect::<Vec<_>>());
    let stage = options.progress.stage(
        &format!("running {}", crate::output::plural(placed.len(), "test")),
        Some(placed.len() as u64),
    );
    let steady = Mutex::new(HashSet::new());
    let context = RunContext {
        executables: &executables,
        names: &names,
        area,
        workspace,
        ranges: &ranges,
        env: &env,
        options,
        steady: &steady,
    };
    let finished: Mutex<Vec<(usize, TestResult)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                // One sandbox for the tests this thread runs, one after another.
                let mut worker = served::Worker::new(&sandbox, options.limits);
                loop {
                    if crate::interrupt::interrupted()
                        || options.deadline.is_some_and(|d| Instant::now() >= d)
                    {
                        return;
                    }
                    let Some(p) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop() else {
                        return;
                    };
                    let outcome = run_placed(p, &pending[p.test], &context, &mut worker);
                    if crate::interrupt::interrupted() {
                        // Ended by Ctrl-C, not by anything it did: not a result.
                        return;
                    }
                    finished
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((p.test, outcome));
                    stage.step();
                }
            });
        }
    });
    for (index, outcome) in finished.into_inner().unwrap_or_else(|e| e.into_inner()) {
        results[index] = Some(outcome);
    }
    report.timings.run_ms = run_start.elapsed().as_millis() as u64;
    stage.finish(None);
    report.interrupted = crate::interrupt::interrupted();
    if !report.interrupted {
        report.cut = queue.into_inner().unwrap_or_else(|e| e.into_inner()).len();
    }
    report.results = results.into_iter().flatten().collect();
    for result in &mut report.results {
        result.failure_site = result
            .location
            .as_deref()
            .and_then(|location| site_at(analysis, location));
    }
    keep_copy(area, options)?;
    Ok(report)
}

/// The tests a compiler error is to blame on: the one whose lines hold its primary span, else
/// those whose lines hold any place it names (a macro call site), else, for an error in a
/// file tests were injected into but outside them (a `use` line, a name clash), every test
/// placed in that file. None when it lies in code of the crate's own.
fn culprits_of<'p>(error: &build::CompileError, placed: &'p [Placed]) -> Vec<&'p Placed> {
    let holds = |p: &Placed, file: &Path, first: u32, last: u32| {
        p.file == file && first <= p.last_line && p.first_line <= last
    };
    if let Some(p) = placed
        .iter()
        .find(|p| holds(p, &error.file, error.line, error.line))
    {
        return vec![p];
    }
    let named: Vec<&Placed> = placed
        .iter()
        .filter(|p| {
            error
                .places
                .iter()
                .any(|(file, first, last)| holds(p, file, *first, *last))
        })
        .collect();
    if !named.is_empty() {
        return named;
    }
    placed.iter().filter(|p| p.file == error.file).collect()
}

/// How many tests that break the crate's own build a run looks for before it gives up on the
/// tests: each search costs a build per halving.
const MAX_ISOLATIONS: usize = 4;

/// One test of `live` without which the build no longer fails (`fails` builds a subset and
/// says whether it fails for a reason no test's lines hold; all of `live` does): the shortest
/// failing prefix is found by halving, and its last test is the one. Of two tests that fail
/// only together, that is the second: one of the pair goes, and the next round shows whether
/// that was enough.
fn isolate_culprit(
    live: &[usize],
    fails: &mut dyn FnMut(&[usize]) -> anyhow::Result<bool>,
) -> anyhow::Result<usize> {
    // The prefix of `hi` tests fails; the one of `lo` does not (no tests build fine).
    let (mut lo, mut hi) = (0, live.len());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fails(&live[..mid])? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(live[hi - 1])
}

/// The id of the innermost site of `analysis` whose lines hold `location` (`file:line`).
fn site_at(analysis: &Analysis, location: &str) -> Option<String> {
    let (file, line) = location.rsplit_once(':')?;
    let line: u32 = line.parse().ok()?;
    analysis
        .functions
        .iter()
        .filter(|f| f.file == file && f.line <= line && line <= f.end_line)
        .flat_map(|f| &f.sites)
        .filter(|s| s.line <= line && line <= s.end_line.max(s.line))
        .min_by_key(|s| (s.end_line.max(s.line) - s.line, std::cmp::Reverse(s.line)))
        .map(|s| s.id.clone())
}

fn append_build_log(log: &mut String, what: &str, outcome: &build::BuildOutcome) {
    use std::fmt::Write as _;
    let _ = writeln!(
        log,
        "==> build ({what}): {}",
        if outcome.success { "ok" } else { "failed" }
    );
    log.push_str(&outcome.log);
    for error in &outcome.errors {
        log.push_str(&error.rendered);
        log.push('\n');
    }
}

/// `--keep-scratch`: the copy as this run left it, where the options say.
fn keep_copy(area: &ScratchArea, options: &RunOptions) -> anyhow::Result<()> {
    if let Some(dest) = &options.keep_scratch {
        copy::sync_tree(&area.copy, dest, &[], &[])
            .with_context(|| format!("failed to keep the scratch copy in {}", dest.display()))?;
    }
    Ok(())
}

fn result(test: &Pending, outcome: Outcome, message: String) -> TestResult {
    let meta = &test.case.meta;
    TestResult {
        name: test.case.name.clone(),
        engine: test.engine.to_owned(),
        function: meta.function.clone(),
        targets: meta.targets.clone(),
        spec_items: meta.spec.clone(),
        category: meta.category.clone(),
        oracle: meta.oracle.clone(),
        input: meta.input.clone(),
        outcome,
        message,
        location: None,
        failure_site: None,
        compile_errors: Vec::new(),
        suggested_imports: Vec::new(),
        output: String::new(),
        elapsed_ms: 0,
        code: test.case.code.clone(),
        source: test.source.map(str::to_owned),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn cargo_home_is_kept_when_home_moves() {
        let mut env = vec![("PATH".to_owned(), "/bin".to_owned())];
        keep_cargo_home(&mut env, Some(PathBuf::from("/root/.cargo")));
        assert!(env.contains(&("CARGO_HOME".to_owned(), "/root/.cargo".to_owned())));
        let mut set = vec![("CARGO_HOME".to_owned(), "/opt/cargo".to_owned())];
        keep_cargo_home(&mut set, Some(PathBuf::from("/root/.cargo")));
        assert_eq!(set, [("CARGO_HOME".to_owned(), "/opt/cargo".to_owned())]);
    }

    #[test]
    fn path_dependencies_are_followed_out_of_the_workspace() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let write = |rel: &str, text: &str| {
            std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
            std::fs::write(root.join(rel), text).unwrap();
        };
        write(
            "dep/Cargo.toml",
            "[dependencies]\ndep2 = { path = \"../dep2\" }\n",
        );
        write(
            "dep2/Cargo.toml",
            "[dependencies]\nws = { path = \"../ws\" }\n",
        );
        write("mono/Cargo.toml", "[workspace]\nmembers = [\"foo\"]\n");
        write(
            "mono/foo/Cargo.toml",
            "[package]\nedition.workspace = true\n",
        );
        write("ws/Cargo.toml", "[workspace]\n");
        let found = outside_closure(
            vec![root.join("dep"), root.join("mono/foo")],
            &root.join("ws"),
        );
        assert_eq!(
            found,
            [
                root.join("dep"),
                root.join("dep2"),
                root.join("mono/Cargo.toml"),
                root.join("mono/foo"),
            ]
        );
    }

    #[test]
    fn a_rendered_error_is_pointed_at_the_test_file() {
        let rendered = "error[E0308]: mismatched types\n   --> src/lib.rs:103:24\n    |\n103 |     assert_eq!(format_cents(\"five\"), \"5.00\");\n    |                             ^^^^^^ expected `i64`\n    |\nnote: function defined here\n   --> src/lib.rs:10:8\n 10 | pub fn format_cents(cents: i64) -> String {\n";
        // Lines 100..=104 of the copy are the test, which starts on line 3 of its file.
        let relocated = relocate_rendered(
            rendered,
            Path::new("/s/scratch/src/lib.rs"),
            "tests/dropped.rs",
            |line| (100..=104).contains(&line).then(|| line - 97),
        );
        assert!(
            relocated.contains("   --> tests/dropped.rs:6:24\n"),
            "{relocated}"
        );
        assert!(relocated.contains("\n  6 |     assert_eq!"), "{relocated}");
        // The user's own code keeps its place.
        assert!(
            relocated.contains("   --> src/lib.rs:10:8\n"),
            "{relocated}"
        );
        assert!(
            relocated.contains("\n 10 | pub fn format_cents"),
            "{relocated}"
        );
    }

    #[test]
    fn links_out_show_their_target_only_inside_needed_or_allowed_trees() {
        let links = vec![
            (PathBuf::from("etc"), PathBuf::from("/etc")),
            (
                PathBuf::from("src/dep.rs"),
                PathBuf::from("/w/dep/src/lib.rs"),
            ),
            (
                PathBuf::from("src/shared.rs"),
                PathBuf::from("/w/shared/ledger.rs"),
            ),
        ];
        let outside = vec![PathBuf::from("/w/dep")];
        let (shown, hidden) = links_shown(&links, &outside, &[]);
        assert!(shown.is_empty());
        assert_eq!(
            hidden
                .iter()
                .map(|(l, _)| l.to_str().unwrap())
                .collect::<Vec<_>>(),
            ["etc", "src/shared.rs"]
        );
        let (shown, hidden) = links_shown(&links, &outside, &[PathBuf::from("/w/shared")]);
        assert_eq!(shown, [PathBuf::from("/w/shared/ledger.rs")]);
        assert_eq!(hidden.len(), 1);
    }

    #[test]
    fn halves_are_built_down_to_the_test_that_breaks_the_crate() {
        let live: Vec<usize> = (0..55).collect();
        let mut builds = 0;
        let culprit = isolate_culprit(&live, &mut |subset| {
            builds += 1;
            Ok(subset.contains(&37))
        })
        .unwrap();
        assert_eq!(culprit, 37);
        assert!(builds <= 6, "{builds} builds");
        // A pair that clashes only together: one of them goes.
        let culprit = isolate_culprit(&live, &mut |subset| {
            Ok(subset.contains(&3) && subset.contains(&40))
        })
        .unwrap();
        assert!(culprit == 3 || culprit == 40, "{culprit}");
    }
}
