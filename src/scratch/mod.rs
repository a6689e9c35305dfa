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
pub mod sandbox;
pub mod served;

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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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

pub use crate::error::Interrupted;

/// The crate itself does not build (or its own tests fail) before anything is injected.
#[derive(Debug, thiserror::Error)]
#[error("the crate does not build before any test is injected (baseline `{mode}`):\n{log}")]
pub struct BaselineFailed {
    pub mode: &'static str,
    pub log: String,
}

/// The scratch area of a workspace, locked for one run.
pub struct ScratchArea {
    pub root: PathBuf,
    pub copy: PathBuf,
    pub target: PathBuf,
    pub tmp: PathBuf,
    _lock: std::fs::File,
}

/// `HOME` moves into the scratch area, so cargo's default home (`~/.cargo`, where the registry
/// and its downloaded crates are) must be said outright, or a crate with dependencies does not
/// build offline.
fn keep_cargo_home(env: &mut Vec<(String, String)>, host_home: Option<PathBuf>) {
    if !env.iter().any(|(key, _)| key == "CARGO_HOME")
        && let Some(home) = host_home
    {
        env.push(("CARGO_HOME".to_owned(), home.to_string_lossy().into_owned()));
    }
}

impl ScratchArea {
    /// Create the area under the workspace's target directory and take its lock (waiting for
    /// another run to finish).
    pub fn open(workspace: &Workspace) -> anyhow::Result<ScratchArea> {
        let root = workspace.target_directory.join("dualtrack");
        let copy = root.join("scratch");
        let target = root.join("target");
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&root)
            .with_context(|| format!("failed to create {}", root.display()))?;
        let lock = std::fs::File::create(root.join("lock"))
            .context("failed to create the scratch lock file")?;
        if lock.try_lock().is_err() {
            eprintln!(
                "waiting for another cargo-dualtrack run to release {}",
                root.display()
            );
            // Poll rather than block, so Ctrl-C still works while waiting.
            while lock.try_lock().is_err() {
                if crate::interrupt::interrupted() {
                    return Err(Interrupted.into());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        // Under the lock: the tests' HOME and files of an earlier run are not this run's
        // business.
        let _ = std::fs::remove_dir_all(&tmp);
        let target_tmp = target.join("tmp");
        for dir in [&copy, &target, &target_tmp, &tmp] {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
        }
        let area = ScratchArea {
            root,
            copy,
            target,
            tmp,
            _lock: lock,
        };
        // A check-in the tool died in the middle of is put back first.
        journal::recover(&area, workspace)?;
        Ok(area)
    }

    /// Bring the copy up to date with the workspace and fix its manifests.
    /// `injected` files (relative) are left as they are: the caller rewrites them, and only
    /// when their text changes, so a warm run rebuilds nothing.
    pub fn sync(
        &self,
        workspace: &Workspace,
        injected: &[PathBuf],
    ) -> anyhow::Result<copy::SyncReport> {
        let skip = [workspace.target_directory.clone(), self.root.clone()];
        // A lock file cargo made in the copy (the workspace has none) stays too.
        let mut keep = vec![PathBuf::from("Cargo.lock")];
        keep.extend(injected.iter().cloned());
        let mut report = copy::sync_tree(&workspace.root, &self.copy, &skip, &keep)?;
        for name in ["config.toml", "config"] {
            let config = self.copy.join(".cargo").join(name);
            let Ok(text) = std::fs::read_to_string(&config) else {
                continue;
            };
            let rewrite = manifest::rewrite_cargo_config(&text, &workspace.root, &workspace.root)
                .with_context(|| format!("in {}", config.display()))?;
            report.outside.extend(rewrite.outside);
            if let Some(rewritten) = rewrite.text {
                write_keeping_time(
                    &config,
                    &workspace.root.join(".cargo").join(name),
                    &rewritten,
                )?;
            }
        }
        for entry in walkdir::WalkDir::new(&self.copy).into_iter().flatten() {
            if entry.file_name() != "Cargo.toml" {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(&self.copy)
                .expect("under the copy");
            let original_dir = workspace
                .root
                .join(rel)
                .parent()
                .map(Path::to_owned)
                .unwrap_or_default();
            let text = std::fs::read_to_string(entry.path())?;
            let rewrite = manifest::rewrite_manifest(&text, &original_dir, &workspace.root)
                .with_context(|| format!("in {}", entry.path().display()))?;
            report.outside.extend(rewrite.outside);
            if let Some(rewritten) = rewrite.text {
                write_keeping_time(entry.path(), &workspace.root.join(rel), &rewritten)?;
            }
        }
        report.outside = outside_closure(std::mem::take(&mut report.outside), &workspace.root);
        Ok(report)
    }

    /// The environment builds and tests run with: nothing inherited but what builds need
    /// (no API key reaches `env!` or a test), and `HOME`, `TMPDIR`, `CARGO_TARGET_DIR` inside
    /// the scratch area.
    pub fn test_env(&self) -> Vec<(String, String)> {
        const KEPT: &[&str] = &[
            "CARGO_HOME",
            "RUSTUP_HOME",
            "RUSTUP_TOOLCHAIN",
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "LANG",
        ];
        let mut env: Vec<(String, String)> = KEPT
            .iter()
            .filter_map(|key| {
                std::env::var(key)
                    .ok()
                    .map(|value| (key.to_string(), value))
            })
            .collect();
        keep_cargo_home(&mut env, sandbox::cargo_home());
        // The toolchain's own binaries first: rustup's proxies are not inside a sandbox.
        let mut path: Vec<PathBuf> = sandbox::toolchain_sysroot()
            .map(|s| s.join("bin"))
            .into_iter()
            .collect();
        if let Some(host) = std::env::var_os("PATH") {
            path.extend(std::env::split_paths(&host));
        }
        if let Ok(path) = std::env::join_paths(path) {
            env.push(("PATH".to_owned(), path.to_string_lossy().into_owned()));
        }
        let scratch = |p: &Path| p.to_string_lossy().into_owned();
        env.extend([
            ("RUST_BACKTRACE".to_owned(), "1".to_owned()),
            ("INSTA_UPDATE".to_owned(), "no".to_owned()),
            ("INSTA_FORCE_PASS".to_owned(), "0".to_owned()),
            ("TMPDIR".to_owned(), scratch(&self.tmp)),
            ("HOME".to_owned(), scratch(&self.tmp)),
            ("CARGO_TARGET_DIR".to_owned(), scratch(&self.target)),
            ("CARGO_TERM_COLOR".to_owned(), "never".to_owned()),
        ]);
        env
    }

    /// The sandbox around the tests: the copy and the built executables read-only (a test must
    /// not rewrite the binary the next test runs), tmp and cargo's `target/tmp` writable.
    pub fn sandbox(&self, mechanism: Mechanism) -> Sandbox {
        Sandbox {
            mechanism,
            toolchain: sandbox::toolchain_sysroot(),
            cargo_home: sandbox::cargo_home(),
            read_only: vec![self.copy.clone(), self.target.clone()],
            writable: vec![self.tmp.clone(), self.target.join("tmp")],
        }
    }

    /// The sandbox around builds: the copy writable too (cargo may write `Cargo.lock`; only
    /// the crate's own build scripts and macros run then, never generated code).
    pub fn build_sandbox(&self, mechanism: Mechanism) -> Sandbox {
        let mut sandbox = self.sandbox(mechanism);
        sandbox.writable.append(&mut sandbox.read_only);
        sandbox
    }
}

/// Rewrite rustc's rendered error so the lines of `scratch_file` that `map` takes to the test
/// file read as lines of it: the `-->` location and the line-number gutter. Other lines are
/// left alone.
fn relocate_rendered(
    rendered: &str,
    scratch_file: &Path,
    test_file: &str,
    map: impl Fn(u32) -> Option<u32>,
) -> String {
    let mut out = String::with_capacity(rendered.len());
    for text in rendered.split_inclusive('\n') {
        let body = text.trim_end_matches('\n');
        let newline = &text[body.len()..];
        let trimmed = body.trim_start();
        let indent = &body[..body.len() - trimmed.len()];
        // `  --> src/lib.rs:103:5`
        if let Some(location) = trimmed.strip_prefix("--> ")
            && let Some((path, rest)) = location.split_once(':')
            && let Some((line, column)) = rest.split_once(':')
            && let Ok(line) = line.parse::<u32>()
            && scratch_file.ends_with(path)
            && let Some(mapped) = map(line)
        {
            out.push_str(&format!(
                "{indent}--> {test_file}:{mapped}:{column}{newline}"
            ));
            continue;
        }
        // `103 |     let x = ...`: the number right-aligned in the gutter.
        if let Some((number, after)) = body.split_once(" |")
            && let Ok(line) = number.trim_start().parse::<u32>()
            && let Some(mapped) = map(line)
        {
            let width = number.len();
            out.push_str(&format!("{mapped:>width$} |{after}{newline}"));
            continue;
        }
        out.push_str(text);
    }
    out
}

/// Everything outside the workspace a build reads, from the paths the workspace points at:
/// the path dependencies of those path dependencies, in turn, and the manifest of the
/// workspace each one inherits from (`edition.workspace = true`). Sorted, without repeats.
/// Show `sandboxes` what builds need outside the workspace, read-only: path dependencies and
/// workspace manifests, where they are. Links out of it show their target only inside those,
/// or where the user allowed (a link to `/etc` would show `/etc`); the others are said.
/// (Not what is missing, which bwrap cannot bind, nor an ancestor of the workspace, which
/// would show the whole tree around it.)
pub fn show_outside(
    workspace: &Workspace,
    synced: &copy::SyncReport,
    allow_links: &[PathBuf],
    progress: &Progress,
    sandboxes: &mut [&mut Sandbox],
) {
    let shown = |path: &PathBuf| path.exists() && !workspace.root.starts_with(path);
    let mut outside: Vec<PathBuf> = synced
        .outside
        .iter()
        .filter(|p| shown(p))
        .cloned()
        .collect();
    let (allowed, hidden) = links_shown(&synced.links_out, &outside, allow_links);
    outside.extend(allowed.into_iter().filter(shown));
    for (link, target) in hidden {
        progress.line(&format!(
            "warning: {} links to {}, outside the workspace: builds and tests do not see it \
             (pass --allow-link {} to show it read-only)",
            link.display(),
            target.display(),
            target.display()
        ));
    }
    for sandbox in sandboxes.iter_mut() {
        sandbox.read_only.extend(outside.iter().cloned());
    }
}

/// Of the links out of the workspace, the targets a sandbox shows (inside a tree it shows
/// already, or under one the user allowed) and the links it leaves dangling.
fn links_shown(
    links: &[(PathBuf, PathBuf)],
    outside: &[PathBuf],
    allowed: &[PathBuf],
) -> (Vec<PathBuf>, Vec<(PathBuf, PathBuf)>) {
    let mut shown = Vec::new();
    let mut hidden = Vec::new();
    for (link, target) in links {
        if outside.iter().any(|tree| target.starts_with(tree)) {
            continue;
        }
        if allowed.iter().any(|tree| target.starts_with(tree)) {
            shown.push(target.clone());
        } else {
            hidden.push((link.clone(), target.clone()));
        }
    }
    (shown, hidden)
}

fn outside_closure(start: Vec<PathBuf>, workspace_root: &Path) -> Vec<PathBuf> {
    let mut seen: std::collections::BTreeSet<PathBuf> = std::collections::BTreeSet::new();
    let mut queue = start;
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path.join("Cargo.toml")) else {
            continue;
        };
        if let Ok(rewrite) = manifest::rewrite_manifest(&text, &path, workspace_root) {
            queue.extend(rewrite.outside);
        }
        let inherited_root = path
            .ancestors()
            .skip(1)
            .map(|dir| dir.join("Cargo.toml"))
            .find(|m| {
                std::fs::read_to_string(m)
                    .ok()
                    .and_then(|text| text.parse::<toml::Table>().ok())
                    .is_some_and(|table| table.contains_key("workspace"))
            });
        if let Some(root_manifest) = inherited_root
            && !root_manifest.starts_with(workspace_root)
        {
            seen.insert(root_manifest);
        }
    }
    seen.into_iter().collect()
}

/// Write a rewritten copy with its source's modification time, so cargo sees nothing new.
fn write_keeping_time(copy: &Path, source: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(copy, text).with_context(|| format!("failed to write {}", copy.display()))?;
    if let Ok(modified) = std::fs::metadata(source).and_then(|m| m.modified()) {
        std::fs::File::options()
            .write(true)
            .open(copy)?
            .set_modified(modified)?;
    }
    Ok(())
}

/// A test placed in the scratch copy.
struct Placed {
    /// Index into the flat list of tests.
    test: usize,
    /// The module's file in the copy, and the lines of this test there.
    file: PathBuf,
    first_line: u32,
    last_line: u32,
    executable_key: (String, String),
    /// The test's full libtest name.
    full_name: String,
    /// The `#[cfg(..)]` attributes it carries from its function, as written.
    cfg: String,
}

impl Placed {
    /// The line of the test file (whose test starts at `case_line`) that line `line` of the
    /// copy holds, when it lies inside this test.
    fn test_file_line(&self, case_line: u32, line: u32) -> Option<u32> {
        (self.first_line..=self.last_line)
            .contains(&line)
            .then(|| case_line + (line - self.first_line))
    }
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

/// The lib and bin targets the tests' functions live in, per package.
/// The lib (else the bins) of every selected package.
fn every_target(workspace: &Workspace) -> Vec<BuildTarget> {
    workspace
        .packages
        .iter()
        .map(|package| {
            let lib = package.targets.iter().any(|t| t.kind == TargetKind::Lib);
            BuildTarget {
                spec: format!("{}@{}", package.name, package.version),
                package: package.name.clone(),
                lib,
                bins: if lib {
                    Vec::new()
                } else {
                    package
                        .targets
                        .iter()
                        .filter(|t| t.kind == TargetKind::Bin)
                        .map(|t| t.name.clone())
                        .collect()
                },
            }
        })
        .collect()
}

fn build_targets<'a>(
    workspace: &Workspace,
    functions: impl Iterator<Item = &'a Function>,
) -> Vec<BuildTarget> {
    let mut targets: BTreeMap<String, BuildTarget> = BTreeMap::new();
    for function in functions {
        let Some((package, target)) = owning_target(workspace, function) else {
            continue;
        };
        let entry = targets
            .entry(package.clone())
            .or_insert_with(|| BuildTarget {
                spec: workspace
                    .packages
                    .iter()
                    .find(|p| p.name == package)
                    .map_or_else(|| package.clone(), |p| format!("{}@{}", p.name, p.version)),
                package,
                lib: false,
                bins: Vec::new(),
            });
        match target {
            (TargetKind::Lib, _) => entry.lib = true,
            (TargetKind::Bin, name) => {
                if !entry.bins.contains(&name) {
                    entry.bins.push(name);
                }
            }
        }
    }
    targets.into_values().collect()
}

/// The package and target (kind, cargo target name) a function belongs to, from its path's
/// crate name.
fn owning_target(
    workspace: &Workspace,
    function: &Function,
) -> Option<(String, (TargetKind, String))> {
    let (package, target) = workspace.target_of(&function.package, &function.path)?;
    Some((package.name.clone(), (target.kind, target.name.clone())))
}

/// Write the live tests into the copy: one generated module per (file, engine, enclosing
/// inline module), placed into the module that defines the functions.
/// Injected ranges per file of the copy, to map lines back to the user's files.
type Ranges = BTreeMap<PathBuf, Vec<PlacedRange>>;

fn place_tests(
    workspace: &Workspace,
    area: &ScratchArea,
    pending: &[Pending],
    live: &[usize],
    patch: Option<&Patch>,
    stripped: &own_tests::Stripped,
) -> anyhow::Result<(Vec<Placed>, Ranges)> {
    let mut all_ranges = Ranges::new();
    // file -> (engine, inline path) -> tests
    let mut by_file: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &index in live {
        if let Some(function) = pending[index].function {
            by_file
                .entry(function.file.clone())
                .or_default()
                .push(index);
        }
    }
    // A file an earlier round injected into whose tests have all been dropped gets its own
    // text back: the dropped tests' errors must not stay behind to blame on no test.
    let injected_before: BTreeSet<&str> = pending
        .iter()
        .filter_map(|test| test.function.map(|f| f.file.as_str()))
        .filter(|file| !by_file.contains_key(*file))
        .collect();
    for file in injected_before {
        let text = copy_source(workspace, file, patch, stripped)?;
        let copy_path = area.copy.join(file);
        if std::fs::read_to_string(&copy_path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&copy_path, text)
                .with_context(|| format!("failed to write {}", copy_path.display()))?;
        }
    }
    let mut placed = Vec::new();
    // The lint attribute of each crate's test modules, by crate root.
    let mut allows: HashMap<PathBuf, String> = HashMap::new();
    for (file, tests) in by_file {
        let original = workspace.root.join(&file);
        // The lints the file's crate denies (one function's crate is the file's).
        let allow = match tests
            .first()
            .and_then(|&index| pending[index].function)
            .and_then(|function| workspace.target_of(&function.package, &function.path))
        {
            Some((package, target)) => allows
                .entry(target.root_file.clone())
                .or_insert_with(|| {
                    lints::allow_attribute(&lints::denied(
                        &target.root_file,
                        &package.manifest_dir,
                        &workspace.root,
                    ))
                })
                .clone(),
            None => lints::allow_attribute(&[]),
        };
        let source = copy_source(workspace, &file, patch, stripped)?;
        let parsed = crate::syntax::parse_file(&source)
            .with_context(|| format!("{} does not parse", original.display()))?;
        let mut groups: BTreeMap<(String, Vec<String>), (u32, Vec<usize>)> = BTreeMap::new();
        // By function line: a function's tests share its attributes.
        let mut cfgs: HashMap<u32, String> = HashMap::new();
        for index in tests {
            let function = pending[index].function.expect("live tests have functions");
            cfgs.entry(function.line).or_insert_with(|| {
                inject::cfg_attributes(&parsed, &source, function.line).join(" ")
            });
            let (inline, _) = inject::enclosing_inline_modules(&parsed, function.line);
            let group = groups
                .entry((pending[index].engine.to_owned(), inline))
                .or_insert((function.line, Vec::new()));
            group.1.push(index);
        }
        drop(parsed);
        proc_macro2::extra::invalidate_current_thread_spans();
        let mut placements = Vec::new();
        let mut layouts = Vec::new();
        for ((engine, inline), (function_line, indices)) in &groups {
            // Each test file's non-test items, once each; a `use` line two files share once.
            let mut text = String::new();
            let mut seen_uses: Vec<&str> = Vec::new();
            let mut seen_preambles: Vec<&str> = Vec::new();
            for &index in indices {
                let preamble = pending[index].preamble;
                if preamble.trim().is_empty() || seen_preambles.contains(&preamble) {
                    continue;
                }
                seen_preambles.push(preamble);
                for line in preamble.lines() {
                    let trimmed = line.trim();
                    if trimmed.starts_with("use ") {
                        if seen_uses.contains(&trimmed) {
                            continue;
                        }
                        seen_uses.push(trimmed);
                    }
                    text.push_str(line);
                    text.push('\n');
                }
                text.push('\n');
            }
            let mut spans = Vec::new();
            for &index in indices {
                let first = text.matches('\n').count() as u32 + 1;
                // On the test's first line, so its lines still map back one to one.
                let cfg = &cfgs[&pending[index].function.expect("live").line];
                if !cfg.is_empty() {
                    text.push_str(cfg);
                    text.push(' ');
                }
                text.push_str(pending[index].case.code.trim_end());
                text.push('\n');
                let last = text.matches('\n').count() as u32;
                text.push('\n');
                spans.push((index, first, last));
            }
            let name = inject::unused_module_name(&source, &module_name(engine));
            layouts.push((name.clone(), inline.clone(), spans));
            placements.push(Placement {
                function_line: *function_line,
                name,
                text,
            });
        }
        let (text, ranges) = inject_all(&source, &placements, &allow)
            .with_context(|| format!("failed to inject tests into {}", original.display()))?;
        let copy_path = area.copy.join(&file);
        // Unchanged text keeps its modification time: nothing to rebuild.
        if std::fs::read_to_string(&copy_path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&copy_path, text)
                .with_context(|| format!("failed to write {}", copy_path.display()))?;
        }
        for ((module, inline, spans), range) in layouts.into_iter().zip(&ranges) {
            for (index, first, last) in spans {
                let function = pending[index].function.expect("live");
                let Some((package, (kind, target))) = owning_target(workspace, function) else {
                    continue;
                };
                // libtest's name: the module path inside the crate, the generated module,
                // the test.
                let mut full_name: Vec<String> = function
                    .module
                    .split("::")
                    .skip(1)
                    .map(str::to_owned)
                    .collect();
                if full_name.is_empty() {
                    full_name = inline.clone();
                }
                full_name.push(module.clone());
                full_name.push(pending[index].case.name.clone());
                let kind = if kind == TargetKind::Lib {
                    "lib"
                } else {
                    "bin"
                };
                placed.push(Placed {
                    test: index,
                    file: copy_path.clone(),
                    first_line: range.first_line + first - 1,
                    last_line: range.first_line + last - 1,
                    executable_key: (package, format!("{kind}:{target}")),
                    full_name: full_name.join("::"),
                    cfg: cfgs[&function.line].clone(),
                });
            }
        }
        all_ranges.insert(copy_path, ranges);
    }
    Ok((placed, all_ranges))
}

/// The text the copy's `file` (relative) holds before tests are injected: a patch under
/// verification, else the workspace's own with the crate's test code left out as planned.
fn copy_source(
    workspace: &Workspace,
    file: &str,
    patch: Option<&Patch>,
    stripped: &own_tests::Stripped,
) -> anyhow::Result<String> {
    Ok(match patch.filter(|p| p.file == Path::new(file)) {
        Some(patch) => patch.text.clone(),
        None => {
            let original = workspace.root.join(file);
            let text = std::fs::read_to_string(&original)
                .with_context(|| format!("failed to read {}", original.display()))?;
            stripped.apply_to(Path::new(file), &text)
        }
    })
}

/// Every test name of each executable.
fn list_tests(
    executables: &HashMap<(String, String), &Executable>,
    sandbox: &Sandbox,
    cwd: &Path,
    env: &[(String, String)],
) -> anyhow::Result<HashMap<(String, String), Vec<String>>> {
    let mut names = HashMap::new();
    for (key, executable) in executables {
        let command = sandbox.command(
            &executable.path,
            &["--list", "--format", "terse"],
            cwd,
            env,
            None,
        );
        let finished = process::run_with_timeout(command, Duration::from_secs(60), usize::MAX)?;
        let list = finished
            .stdout
            .lines()
            .filter_map(|line| line.strip_suffix(": test"))
            .map(str::to_owned)
            .collect();
        names.insert(key.clone(), list);
    }
    Ok(names)
}

/// The key of a build: the sources' fingerprint and the text of every injected file.
fn build_key(fingerprint: &str, area: &ScratchArea, ranges: &Ranges) -> String {
    let mut hasher = sha2::Sha256::new();
    use sha2::Digest;
    hasher.update(fingerprint.as_bytes());
    for file in ranges.keys() {
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(file).unwrap_or_default());
    }
    hasher.update(area.target.to_string_lossy().as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The executables and test names of the last successful build.
#[derive(Serialize, Deserialize)]
struct BuildCache {
    key: String,
    executables: Vec<Executable>,
    /// (package, target, test names): JSON maps need string keys.
    names: Vec<(String, String, Vec<String>)>,
}

fn cached_build(area: &ScratchArea, key: &str) -> Option<BuildCache> {
    let text = std::fs::read_to_string(area.root.join("build.json")).ok()?;
    let cache: BuildCache = serde_json::from_str(&text).ok()?;
    let fresh = cache.key == key && cache.executables.iter().all(|e| e.path.is_file());
    fresh.then_some(cache)
}

fn remember_build(
    area: &ScratchArea,
    key: &str,
    executables: &HashMap<(String, String), &Executable>,
    names: &HashMap<(String, String), Vec<String>>,
) {
    let cache = BuildCache {
        key: key.to_owned(),
        executables: executables.values().map(|e| (*e).clone()).collect(),
        names: names
            .iter()
            .map(|((package, target), list)| (package.clone(), target.clone(), list.clone()))
            .collect(),
    };
    if let Ok(text) = serde_json::to_string(&cache) {
        // A cache that cannot be written only costs the next run a build.
        let _ = std::fs::write(area.root.join("build.json"), text);
    }
}

/// What every test run of one scratch run shares.
struct RunContext<'a> {
    executables: &'a HashMap<(String, String), &'a Executable>,
    names: &'a HashMap<(String, String), Vec<String>>,
    area: &'a ScratchArea,
    workspace: &'a Workspace,
    ranges: &'a Ranges,
    env: &'a [(String, String)],
    options: &'a RunOptions,
    /// Places (function, panicking line) a failing test was already rerun at and failed
    /// the same way every time: another test failing there is not rerun. Dozens of inputs
    /// break one line; one of them tells steady from flaky for all.
    steady: &'a Mutex<HashSet<(String, String)>>,
}

fn run_placed(
    placed: &Placed,
    test: &Pending,
    context: &RunContext,
    worker: &mut served::Worker,
) -> TestResult {
    let RunContext {
        executables,
        names,
        area,
        workspace,
        ranges,
        env,
        options,
        steady: _,
    } = *context;
    let Some(executable) = executables.get(&placed.executable_key) else {
        return result(
            test,
            Outcome::Dropped,
            "no test executable was built for its target".to_owned(),
        );
    };
    let full_name = names
        .get(&placed.executable_key)
        .and_then(|list| list.iter().find(|n| **n == placed.full_name))
        .cloned();
    let Some(full_name) = full_name else {
        let why = if placed.cfg.is_empty() {
            format!("`{}` is not in the test executable", placed.full_name)
        } else {
            format!(
                "its function is not compiled for this target or feature set ({})",
                placed.cfg
            )
        };
        return result(test, Outcome::Dropped, why);
    };
    let package_dir = workspace
        .packages
        .iter()
        .find(|p| p.name == placed.executable_key.0)
        .map(|p| {
            area.copy.join(
                p.manifest_dir
                    .strip_prefix(&workspace.root)
                    .unwrap_or(Path::new("")),
            )
        })
        .unwrap_or_else(|| area.copy.clone());
    let mut outcome = result(test, Outcome::Passed, String::new());
    // Symbolizing a backtrace costs more than most tests take: run without one, and again
    // with one only when the panic's own place is outside the user's code (inside std).
    let plain_env: Vec<(String, String)> = env
        .iter()
        .map(|(key, value)| {
            let value = if key == "RUST_BACKTRACE" {
                "0"
            } else {
                value.as_str()
            };
            (key.clone(), value.to_owned())
        })
        .collect();
    let mut run = |traced: bool| {
        run_test(
            worker,
            &executable.path,
            &full_name,
            &package_dir,
            if traced { env } else { &plain_env },
            options.timeout,
            options.output_cap,
        )
        .map(|execution| {
            let (kind, location) =
                attribute(&execution, placed, test, ranges, &area.copy, workspace);
            (execution, kind, location)
        })
    };
    let (mut execution, mut kind, mut location) = match run(false) {
        Ok(first) => first,
        Err(err) => {
            outcome.outcome = Outcome::Crashed;
            outcome.message = format!("{err:#}");
            return outcome;
        }
    };
    let failing = |kind: Outcome| matches!(kind, Outcome::Failed | Outcome::Panicked);
    let mut reruns = options.reruns;
    if failing(kind) && location.is_none() {
        if let Ok((traced, traced_kind, traced_location)) = run(true) {
            if traced_kind != kind {
                return flaky(outcome, kind, traced_kind);
            }
            (execution, kind, location) = (traced, traced_kind, traced_location);
        }
        reruns = reruns.saturating_sub(1);
    }
    outcome.outcome = kind;
    outcome.message = execution.message.clone();
    outcome.location = location;
    outcome.output = execution.output.clone();
    outcome.elapsed_ms = execution.elapsed_ms;
    // Only failures and panics are rerun; a pass is final, a hang would just hang again.
    if failing(kind) {
        let place = outcome
            .location
            .clone()
            .map(|location| (outcome.function.clone(), location));
        let known = |place: &(String, String)| {
            context
                .steady
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(place)
        };
        if place.as_ref().is_some_and(known) {
            return outcome;
        }
        for _ in 0..reruns {
            if let Ok((_, again, _)) = run(false)
                && again != kind
            {
                return flaky(outcome, kind, again);
            }
        }
        if let Some(place) = place {
            context
                .steady
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(place);
        }
    }
    outcome
}

fn flaky(mut outcome: TestResult, first: Outcome, then: Outcome) -> TestResult {
    outcome.outcome = Outcome::Flaky;
    outcome.message = format!(
        "{} on one run, {} on another",
        first.as_str(),
        then.as_str()
    );
    outcome
}

/// Failed (the test's own code raised it) or panicked (the code under test did), with the
/// place in the user's tree: the first frame inside the copy, mapped back through the
/// injections.
fn attribute(
    execution: &execute::Execution,
    placed: &Placed,
    test: &Pending,
    ranges: &Ranges,
    copy: &Path,
    workspace: &Workspace,
) -> (Outcome, Option<String>) {
    if execution.outcome != Outcome::Panicked {
        return (execution.outcome, None);
    }
    let places = execution.panic_at.iter().chain(execution.frames.iter());
    for (printed, line) in places {
        let path = resolve(copy, printed);
        if !path.starts_with(copy) {
            continue;
        }
        if path == placed.file
            && let Some(line_in_file) = placed.test_file_line(test.case.line, *line)
        {
            // The test's own code: point at its line in the test file.
            let file = test.source.unwrap_or("<generated module>");
            return (Outcome::Failed, Some(format!("{file}:{line_in_file}")));
        }
        let file_ranges = ranges.get(&path).map(Vec::as_slice).unwrap_or(&[]);
        match original_line(file_ranges, *line) {
            Some(original) => {
                let rel = path.strip_prefix(copy).unwrap_or(&path);
                return (
                    Outcome::Panicked,
                    Some(format!(
                        "{}:{original}",
                        workspace.relative_path(&workspace.root.join(rel))
                    )),
                );
            }
            // Inside another generated module (a helper): keep looking outward.
            None => continue,
        }
    }
    (Outcome::Panicked, None)
}

/// `--baseline test`: the copy's own tests must pass.
fn run_own_tests(
    area: &ScratchArea,
    targets: &[BuildTarget],
    features: &[String],
    sandbox: &Sandbox,
    env: &[(String, String)],
) -> anyhow::Result<()> {
    let cargo = build::cargo();
    for target in targets {
        let mut args = vec![
            "test",
            "--offline",
            "--no-fail-fast",
            "-p",
            target.spec.as_str(),
        ];
        args.extend(features.iter().map(String::as_str));
        let command = sandbox.command(&cargo, &args, &area.copy, env, None);
        let finished =
            process::run_with_timeout(command, Duration::from_secs(60 * 60), 1024 * 1024)?;
        if !finished.status.is_some_and(|s| s.success()) {
            return Err(BaselineFailed {
                mode: "test",
                log: format!("{}{}", finished.stdout, finished.stderr),
            }
            .into());
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
