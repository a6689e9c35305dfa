//! The scratch stage: a synced copy of the workspace under the target directory, generated
//! test modules injected into it, built, and each test run in its own process.
//!
//! Layout under `<target_directory>/dualtrack/`: `scratch/` (the copy), `target/` (its own warm
//! target directory), `tmp/` (the tests' `TMPDIR`), `lock` (one run at a time).

pub mod build;
pub mod builtin;
pub mod copy;
pub mod execute;
pub mod fuzz_runtime;
pub mod inject;
pub mod journal;
pub mod lints;
pub mod manifest;
pub mod own_tests;
pub mod probes;
pub mod process;
pub mod sandbox;
pub mod served;

mod area;
mod baseline;
pub mod cache;
mod place;
mod rounds;
mod run;
pub mod seed;

use self::area::*;
pub use self::area::{ScratchArea, show_outside};
use self::baseline::*;
use self::cache::*;
use self::place::*;
use self::rounds::*;
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
    /// `--features` and friends, and `--locked`: passed on to every cargo build.
    pub cargo_args: Vec<String>,
    /// A file of the copy to build as this text instead of the workspace's: a proposed fix
    /// under verification. The workspace is never touched.
    pub patch: Option<Patch>,
    /// Trees outside the workspace that links in it may show (`--allow-link`), absolute.
    pub allow_links: Vec<PathBuf>,
    /// Past this moment no further test is started (`review --time-budget`): a safety stop.
    pub deadline: Option<Instant>,
    /// A hit counter on every site of the tested crates, to report which sites each test
    /// reached (`--no-probes` turns them off; a patched run never has them).
    pub probes: bool,
    /// A fuzz run's directories and settings: what its harnesses read and write.
    pub fuzz: Option<FuzzDirs>,
}

/// What a fuzz run's harnesses read: their saved corpus (on the host, a directory per
/// harness, shown to them read-only in the scratch target directory) and their settings. What
/// they find they print (a sandboxed test's writes never reach the host).
#[derive(Debug, Clone, Default)]
pub struct FuzzDirs {
    /// Saved inputs, a directory per harness; none for `--fresh`.
    pub corpus: Option<PathBuf>,
    /// Settings for the harnesses (`DUALTRACK_FUZZ_RUNS`, ...).
    pub env: Vec<(String, String)>,
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
            write_in_copy(&area.copy, &self.file, &self.text)?;
        }
        Ok(())
    }

    /// What tells this patch's builds apart from the unpatched ones in the caches.
    fn stamp(&self) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(format!("{}\0{}", self.file.display(), self.text));
        cache::hex(&digest)
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
            cargo_args: Vec::new(),
            patch: None,
            allow_links: Vec::new(),
            deadline: None,
            probes: true,
            fuzz: None,
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
    /// How its tests run where that differs from the run's options; `None`: as they say.
    pub settings: Option<ModuleSettings>,
}

/// How the tests of one module run, beside the others of the same build: the fuzz stage's
/// harnesses run longer, say more, are not rerun, and need the site probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleSettings {
    pub timeout: Duration,
    pub output_cap: usize,
    pub reruns: u32,
    /// Its tests call the probes' runtime: without probes they are dropped, not built.
    pub needs_probes: bool,
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
    /// The sites its run reached, by the probes' counts; `None` when it ran without probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached: Option<Vec<String>>,
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
    /// The probes of the run, when it had them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<probes::ProbeSummary>,
}

impl RunReport {
    /// How many tests came out as `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.results.iter().filter(|r| r.outcome == outcome).count()
    }
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
    settings: Option<ModuleSettings>,
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
    let mut env = area.test_env();
    if let Some(fuzz) = &options.fuzz {
        let corpus = area.target.join("dualtrack-fuzz-corpus");
        let _ = std::fs::remove_dir_all(&corpus);
        if let Some(saved) = fuzz.corpus.as_ref().filter(|dir| dir.is_dir()) {
            copy_tree(saved, &corpus)?;
        }
        env.push((
            "DUALTRACK_FUZZ_CORPUS".to_owned(),
            corpus.to_string_lossy().into_owned(),
        ));
        env.extend(fuzz.env.iter().cloned());
    }
    let mut report = RunReport {
        sandbox: sandbox.mechanism.name().to_owned(),
        ..RunReport::default()
    };
    let start = Instant::now();
    let (pending, mut results) = pending_tests(analysis, modules);
    let mut targets = build_targets(workspace, pending.iter().filter_map(|t| t.function));
    if targets.is_empty() && !analysis.errors.is_empty() {
        // Nothing to test because files do not parse: the baseline still tells whether the
        // crates build at all.
        targets = every_target(workspace);
    }
    let mut parsed = cache::ParsedTexts::load(&area.root.join("parsed"));
    let mut probes = (options.probes && options.patch.is_none() && !pending.is_empty())
        .then(|| {
            let roots = crate_roots(workspace, &targets);
            probes::ProbePlan::new(workspace, analysis, &roots, &mut parsed)
        })
        .filter(|plan| !plan.is_empty() || plan.disabled.is_some());
    parsed.save();
    let mut sources = sync_sources(
        area,
        workspace,
        analysis,
        modules,
        options,
        probes.as_ref(),
        &mut [&mut sandbox, &mut build_sandbox],
    )?;
    report.timings.sync_ms = start.elapsed().as_millis() as u64;
    let seeded = if targets.is_empty() {
        None
    } else {
        seed::seed_target(&workspace.users_target, &area.target, &workspace.members)
            .map_err(|e| {
                options
                    .progress
                    .line(&format!("warning: {e:#}; building without it"))
            })
            .ok()
    };
    let builder = Builder {
        area,
        workspace,
        targets: &targets,
        options,
        sandbox: &build_sandbox,
        env: &env,
        first_dependencies: std::cell::Cell::new(None),
    };
    // One build when all is well: with tests to build and only the build to check, the
    // tests' build comes first, and the baseline runs only when it fails outside them (to
    // tell a crate that does not build from a test that does not compile).
    let baseline_due = !sources.baseline_cached && !targets.is_empty();
    let tests_first = baseline_due && options.baseline == Baseline::Build && !pending.is_empty();
    if baseline_due && !tests_first {
        let start = Instant::now();
        baseline(&builder, &mut sources, probes.as_mut(), &mut report)?;
        report.timings.baseline_ms = start.elapsed().as_millis() as u64;
    }
    // Tests that call the probes' runtime cannot build without it: dropped now, not found
    // out by a failed build.
    let no_probes = match &probes {
        None => Some("the run has no site probes".to_owned()),
        Some(plan) => plan
            .disabled
            .as_ref()
            .map(|why| format!("the site probes were taken out ({why})")),
    };
    if let Some(why) = no_probes {
        for (test, slot) in pending.iter().zip(results.iter_mut()) {
            if slot.is_none() && test.settings.is_some_and(|s| s.needs_probes) {
                *slot = Some(result(test, Outcome::Dropped, why.clone()));
            }
        }
    }
    let build_start = Instant::now();
    let built = build_rounds(
        &builder,
        (&mut sources, tests_first),
        &pending,
        probes.as_mut(),
        &mut results,
        &mut report,
    )?;
    report.probes = probes.as_ref().map(probes::ProbePlan::summary);
    if let Some(plan) = &probes {
        // Which site each counter slot is, for a reader of the copy (`hit(N)`).
        plan.write_slots(&area.root.join("probes.json"))?;
    }
    let probes = probes.filter(|plan| !plan.is_empty());
    report.timings.build_ms = build_start.elapsed().as_millis() as u64;
    if let Some(line) =
        seeded.and_then(|s| s.summary(&workspace.users_target, builder.first_dependencies()))
    {
        options.progress.line(&line);
    }
    let run_start = Instant::now();
    execute(
        &builder,
        &sandbox,
        &built,
        &pending,
        probes.as_ref(),
        &mut results,
        &mut report,
    )?;
    report.timings.run_ms = run_start.elapsed().as_millis() as u64;
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

/// Each test of `modules` with where it comes from, and a result slot per test: filled now
/// (dropped) for a test of a function the analysis does not hold.
fn pending_tests<'a>(
    analysis: &'a Analysis,
    modules: &'a [ModuleInput],
) -> (Vec<Pending<'a>>, Vec<Option<TestResult>>) {
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
                settings: input.settings,
            })
        })
        .collect();
    let results = pending
        .iter()
        .map(|test| {
            test.function.is_none().then(|| {
                result(
                    test,
                    Outcome::Dropped,
                    format!(
                        "function `{}` is not in the analyzed packages",
                        test.case.meta.function
                    ),
                )
            })
        })
        .collect();
    (pending, results)
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
        reached: None,
    }
}

/// Copy the files under `from` to the same places under `to` (directories made as needed).
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let Ok(relative) = entry.path().strip_prefix(from) else {
            continue;
        };
        let target = to.join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)
                .with_context(|| format!("failed to create {}", target.display()))?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("failed to copy to {}", target.display()))?;
        }
    }
    Ok(())
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
