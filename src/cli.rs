//! The command line: `cargo dualtrack <command>` as clap derive types.

use std::path::PathBuf;

use crate::generate::Engine;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "The adversarial second track for Rust code: enumerate every branch, guard, \
return path and panic site, then attack the edges";

const AFTER_HELP: &str = "\
Examples:
  cargo dualtrack analyze                      list every site of the current package
  cargo dualtrack analyze --fn parse_          only functions whose path contains `parse_`
  cargo dualtrack analyze --format json        the dualtrack.analyze/v1 document

Exit codes: 0 clean, 1 findings or a failed gate, 2 usage or input error,
4 the crate does not build, 70 internal error.";

/// `cargo dualtrack`: when cargo runs the binary it passes `dualtrack` first; `main` drops it.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-dualtrack",
    bin_name = "cargo dualtrack",
    version,
    about = ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Without a command, `review` runs with these flags.
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub review: ReviewArgs,
}

/// Flags every command takes, with cargo's meanings where cargo has them.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to Cargo.toml
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Package selection"
    )]
    pub manifest_path: Option<PathBuf>,

    /// Package to work on (repeatable; `name`, `name@version` or a glob)
    #[arg(
        short = 'p',
        long = "package",
        global = true,
        value_name = "SPEC",
        help_heading = "Package selection"
    )]
    pub packages: Vec<String>,

    /// Work on every package of the workspace
    #[arg(long, global = true, help_heading = "Package selection")]
    pub workspace: bool,

    /// Leave this package out of --workspace (repeatable)
    #[arg(
        long,
        global = true,
        value_name = "SPEC",
        requires = "workspace",
        help_heading = "Package selection"
    )]
    pub exclude: Vec<String>,

    /// Where builds, runs and reports go, as for cargo (default: the workspace's target dir)
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        help_heading = "Compilation options"
    )]
    pub target_dir: Option<PathBuf>,

    /// Require Cargo.lock to stay as it is, as for cargo
    #[arg(
        long,
        global = true,
        hide_short_help = true,
        help_heading = "Manifest options"
    )]
    pub locked: bool,

    /// Run without accessing the network, as for cargo
    #[arg(
        long,
        global = true,
        hide_short_help = true,
        help_heading = "Manifest options"
    )]
    pub offline: bool,

    /// Both --locked and --offline
    #[arg(
        long,
        global = true,
        hide_short_help = true,
        help_heading = "Manifest options"
    )]
    pub frozen: bool,

    /// Parallel jobs, as for cargo: its builds' jobs, tests run at once, files parsed at once
    /// (default: one per core)
    #[arg(
        short = 'j',
        long,
        global = true,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..),
        help_heading = "Compilation options"
    )]
    pub jobs: Option<u32>,

    /// Features to activate (space or comma separated, repeatable)
    #[arg(
        short = 'F',
        long,
        global = true,
        value_name = "FEATURES",
        value_delimiter = ',',
        help_heading = "Feature selection"
    )]
    pub features: Vec<String>,

    /// Activate all features
    #[arg(long, global = true, help_heading = "Feature selection")]
    pub all_features: bool,

    /// Do not activate the `default` feature
    #[arg(long, global = true, help_heading = "Feature selection")]
    pub no_default_features: bool,

    /// Write the output to this file instead of stdout
    #[arg(
        short = 'o',
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Output"
    )]
    pub output: Option<PathBuf>,

    /// When to use colors
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: ColorWhen,

    /// Print less: only results and errors
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Output"
    )]
    pub quiet: bool,

    /// Print more (repeat for even more)
    #[arg(short, long, global = true, action = ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,
}

impl GlobalArgs {
    /// The packages the flags select; `workspace` for the commands that work on the whole
    /// workspace whatever the flags say.
    pub fn package_selection(&self, workspace: bool) -> crate::workspace::PackageSelection {
        crate::workspace::PackageSelection {
            manifest_path: self.manifest_path.clone(),
            packages: self.packages.clone(),
            workspace,
            exclude: self.exclude.clone(),
            target_dir: self.target_dir.clone(),
            access: self.cargo_access(),
        }
    }

    /// `--jobs`, 0 when not given: one per core.
    pub fn jobs(&self) -> usize {
        self.jobs.map_or(0, |jobs| jobs as usize)
    }

    /// `--locked`, `--offline`, `--frozen`.
    pub fn cargo_access(&self) -> crate::workspace::CargoAccess {
        crate::workspace::CargoAccess {
            locked: self.locked,
            offline: self.offline,
            frozen: self.frozen,
        }
    }

    /// The options a follow-up command must repeat to see the same crate and the same code:
    /// the manifest and the features, as words.
    pub fn repeated_options(&self) -> Vec<String> {
        let mut words = Vec::new();
        if let Some(path) = &self.manifest_path {
            words.push("--manifest-path".to_owned());
            words.push(path.display().to_string());
        }
        if let Some(dir) = &self.target_dir {
            words.push("--target-dir".to_owned());
            words.push(dir.display().to_string());
        }
        words.extend(self.cargo_access().cargo_args());
        words.extend(self.feature_selection().cargo_args());
        words
    }

    /// The feature flags, as the workspace and cargo take them.
    pub fn feature_selection(&self) -> crate::workspace::FeatureSelection {
        crate::workspace::FeatureSelection {
            features: self.features.clone(),
            all: self.all_features,
            no_default: self.no_default_features,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole adversarial pass on the code changed since a base: generate, run, report
    #[command(after_help = REVIEW_EXAMPLES)]
    Review(ReviewArgs),
    /// List every function's sites: condition branches, guards, return paths and panic sites
    #[command(after_help = ANALYZE_EXAMPLES)]
    Analyze(AnalyzeArgs),
    /// Score spec coverage both ways: sites no spec item speaks to, items no site backs
    #[command(after_help = SCORE_EXAMPLES)]
    Score(ScoreArgs),
    /// Generate edge-case tests for the functions in scope, without running them
    #[command(after_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
    /// Run generated test files in a scratch copy of the workspace, each test in its own process
    #[command(after_help = RUN_TESTS_EXAMPLES)]
    RunTests(RunTestsArgs),
    /// Fuzz the functions in scope for a set time or number of inputs, guided by the site
    /// probes; each crash becomes a minimized, confirmed no-panic test and a finding
    #[command(after_help = FUZZ_EXAMPLES)]
    Fuzz(FuzzArgs),
    /// Remove the scratch copy, its build and all but the newest runs (under the target dir)
    Clean(CleanArgs),
    /// Decide on a review's findings: keep the test (checked in), accept the implementation, or
    /// defer; recorded in .dualtrack/decisions.toml
    #[command(after_help = RECONCILE_EXAMPLES)]
    Reconcile(ReconcileArgs),
    /// Start here: write a commented dualtrack.toml and a SPEC.md template listing the public
    /// functions (never overwriting either)
    Init,
    /// What the reviews in .dualtrack/ledger.csv cost, took and found, per engine, model or task
    #[command(after_help = STATS_EXAMPLES)]
    Stats(StatsArgs),
    /// The built-in sandbox's init (internal)
    #[command(name = "__sandbox", hide = true)]
    SandboxInit(crate::scratch::builtin::InitArgs),
}

const FUZZ_EXAMPLES: &str = "\
Examples:
  cargo dualtrack fuzz --fn 'mycrate::parse_*' --time 5m     five minutes per function
  cargo dualtrack fuzz --runs 100000 --seed 7 --fresh        the same findings on every run
  cargo dualtrack reconcile --keep F-1a2b3c4d5e              check in a crash's test";

const REVIEW_EXAMPLES: &str = "\
Examples:
  cargo dualtrack                                  review what changed since the upstream branch
  cargo dualtrack review --base main
  cargo dualtrack review --all-functions --fail-on never
  cargo dualtrack review --fn 'mycrate::money::*' --format json

Scope: functions whose lines changed between the merge-base of --base and the working tree
(committed, staged, unstaged and new files); --all-functions or --fn review those instead.
Outside a git repository every function is reviewed. The run directory
<target-dir>/dualtrack/runs/<run-id>/ keeps report.json, report.md and the generated tests;
runs/latest names the newest.";

/// Which functions a command looks at (`--fn`, `--file`), the same flags everywhere.
#[derive(Debug, Clone, Default, Args)]
pub struct FunctionArgs {
    /// Only functions whose path matches: a glob (`crate::*::parse_*`) or a substring (repeatable)
    #[arg(long = "fn", value_name = "PATTERN")]
    pub fn_patterns: Vec<String>,

    /// Only functions in this file or directory, or matching this glob (repeatable)
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<String>,
}

impl FunctionArgs {
    /// Whether the command line names functions or files at all.
    pub fn names_any(&self) -> bool {
        !self.fn_patterns.is_empty() || !self.files.is_empty()
    }

    /// The filter these flags make, patterns and paths read from `cwd` in the workspace at
    /// `root`.
    pub fn filter(
        &self,
        root: &std::path::Path,
        cwd: &std::path::Path,
    ) -> Result<crate::analyze::filter::FunctionFilter, crate::error::InputError> {
        crate::analyze::filter::FunctionFilter::new(&self.fn_patterns, &self.files, root, cwd)
    }
}

/// Where the feature's spec is (`--spec`), the same flag everywhere.
#[derive(Debug, Clone, Default, Args)]
pub struct SpecArgs {
    /// Spec file or directory of markdown files (repeatable; default SPEC.md, specs/, docs/specs/)
    #[arg(long, value_name = "PATH")]
    pub spec: Vec<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ReviewArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ReviewFormat::Human)]
    pub format: ReviewFormat,

    /// Review the functions changed since this revision's merge-base with HEAD
    /// (default: the branch's upstream, else origin/HEAD, else main or master)
    #[arg(long, value_name = "REV", conflicts_with = "all_functions")]
    pub base: Option<String>,

    /// Review every function, not only those that changed
    #[arg(long)]
    pub all_functions: bool,

    /// List every spec gap on the terminal (report.md always lists them)
    #[arg(long)]
    pub gaps: bool,

    #[command(flatten)]
    pub functions: FunctionArgs,

    #[command(flatten)]
    pub specs: SpecArgs,

    /// The engine that writes the tests [default: `engine` in dualtrack.toml, else offline]
    #[arg(long = "engine", value_enum, value_name = "ENGINE")]
    pub engine_flag: Option<Engine>,

    /// The engine, once the config is read (`with_config`).
    #[arg(skip = Engine::Offline)]
    pub engine: Engine,

    #[command(flatten)]
    pub model: ModelArgs,

    /// With a model engine: skip the offline engine's tests that run first (their findings
    /// join the report, and the model is told what they found so it aims elsewhere)
    #[arg(long)]
    pub skip_offline: bool,

    /// With a model engine: rounds of sending compiler errors back for the tests that did not
    /// build [default: `repair_rounds` in dualtrack.toml, else 2]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=5))]
    pub repair_rounds: Option<u32>,

    /// With a model engine: rounds of asking, after the first run, for tests that reach the
    /// sites no test reached, each function told those sites and every test that ran
    /// [default: `cover_rounds` in dualtrack.toml, else 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=3))]
    pub cover_rounds: Option<u32>,

    /// Inputs the fuzz stage runs per function in scope, guided by the site probes (0 turns
    /// it off); a crash becomes a minimized no-panic test, confirmed by a run of its own
    #[arg(long, value_name = "N", default_value_t = DEFAULT_FUZZ_RUNS)]
    pub fuzz_runs: u64,

    /// The fuzz stage's seed: with the same code, `--fuzz-runs` and `--fuzz-fresh`, the same
    /// findings
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub fuzz_seed: u64,

    /// Start the fuzz stage from the engine's values alone, not the corpus saved under
    /// `<target-dir>/dualtrack/corpus/` (and save nothing to it)
    #[arg(long)]
    pub fuzz_fresh: bool,

    /// Only the fuzz stage runs (`cargo dualtrack fuzz`).
    #[arg(skip)]
    pub fuzz_only: bool,

    /// The fuzz stage keeps no input for what it reached (`fuzz --no-guidance`).
    #[arg(skip)]
    pub fuzz_unguided: bool,

    /// Wall time per function of the fuzz stage, in milliseconds (`fuzz --time`); a review's
    /// own is short.
    #[arg(skip)]
    pub fuzz_ms: Option<u64>,

    /// With a model engine: ask for no fixes (by default the model proposes a fix for each
    /// function a test breaks, and the fixes that pass the failing tests and the crate's own
    /// tests in the scratch copy are offered in the report)
    #[arg(long)]
    pub no_fixes: bool,

    /// Most tests for one function [default: 20 from the offline engine, 8 asked of a model]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_per_fn: Option<u32>,

    /// Most tests in all, spread over the functions in scope (0: no limit). Without it, each
    /// function keeps its best 3 tests and every further one potent enough to break it, up
    /// to --max-per-fn
    #[arg(long, value_name = "N")]
    pub max_tests: Option<u32>,

    /// Also expect private functions not to panic on any input
    #[arg(long)]
    pub private: bool,

    /// A safety stop, not a selection: past this long (from the start of the review) no
    /// further test is started, and the report says how many were cut. `90s`, `10m`, `1h`,
    /// or seconds
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_budget)]
    pub time_budget: std::time::Duration,

    /// Which findings exit 1: failing tests, also spec gaps, or none
    #[arg(long, value_enum, default_value_t = FailOn::Failures)]
    pub fail_on: FailOn,

    /// Review only shard K of N (0-based) of the functions in scope, for parallel CI jobs
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,

    /// Append no row to .dualtrack/ledger.csv (also `ledger = false` in dualtrack.toml)
    #[arg(long)]
    pub no_ledger: bool,

    /// The task this review is part of, in the ledger (default: the git branch)
    #[arg(long, value_name = "NAME")]
    pub task: Option<String>,

    /// Keep the scratch copy as the run left it (tests injected) in the run directory
    #[arg(long)]
    pub keep_scratch: bool,

    #[command(flatten)]
    pub runner: RunnerArgs,
}

const RECONCILE_EXAMPLES: &str = "\
Examples:
  cargo dualtrack reconcile                      walk the latest review's undecided failures
  cargo dualtrack reconcile --accept F-aa72606b87 --reason \"zero parts is rejected upstream\"
  cargo dualtrack reconcile --defer F-aa72606b87 F-03c1d9e2b4
  cargo dualtrack reconcile --keep F-aa72606b87          check its test in (it fails until fixed)
  cargo dualtrack reconcile --keep-all-passing           check in every passing test
  cargo dualtrack reconcile --apply F-aa72606b87         apply the verified fix, keep the test
  cargo dualtrack reconcile --accept-all --reason \"adopting the tool on an old crate\"
  cargo dualtrack reconcile r1796219876-7308 --list --format json

Decisions go to .dualtrack/decisions.toml (commit it), one table per finding id; the next
review marks those findings kept, accepted or deferred and fails only on new ones. A kept test
that names only the crate's public API goes to an integration test file of its package
(`ledger::money` → tests/dualtrack_money.rs); one that needs private names goes to a
`dualtrack_tests.rs` child module beside the function's file (src/lib.rs →
src/lib/dualtrack_tests.rs, with a `#[cfg(test)] mod dualtrack_tests;` line added). The package
must still build its tests, or nothing is written. Each decision is also a `decision` row in
.dualtrack/ledger.csv.";

#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// The run whose findings to decide on (an id under <target-dir>/dualtrack/runs/;
    /// default: the latest)
    #[arg(value_name = "RUN")]
    pub run: Option<String>,

    /// List the run's failures and their status (without it, and with nothing else asked, a
    /// terminal gets a walk through the undecided ones: one key each)
    #[arg(long)]
    pub list: bool,

    /// Check the finding's test into your tree as a regression test (it fails until the code is
    /// fixed) and record the finding as kept
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub keep: Vec<String>,

    /// Apply the run's verified fix for these findings to your tree (the diff is shown), and
    /// check their tests in as regression tests
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub apply: Vec<String>,

    /// Check in every test of the run that passed, as a regression suite
    #[arg(long)]
    pub keep_all_passing: bool,

    /// The implementation is right: record these findings as accepted
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub accept: Vec<String>,

    /// Fix later: record these findings as deferred (out of the gate until decided)
    #[arg(long = "defer", value_name = "ID", num_args = 1..)]
    pub defer: Vec<String>,

    /// Accept every undecided failure of the run (adopting the tool on an old crate); needs
    /// --reason
    #[arg(long)]
    pub accept_all: bool,

    /// Why: stored with each decision made by this command
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t = ReconcileFormat::Human)]
    pub format: ReconcileFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReconcileFormat {
    Human,
    Json,
}

const STATS_EXAMPLES: &str = "\
Examples:
  cargo dualtrack stats                         per engine, every review in the ledger
  cargo dualtrack stats --by model --since 2026-11-01
  cargo dualtrack stats --by task --format csv > reviews.csv

Columns: reviews; mean cost per review (of those with a price); total cost; first-pass compile
rate (tests that compiled before any repair round); failures found per review; findings kept
and accepted by `reconcile` (kept over both is the precision the team judged); median wall time.";

#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// Only reviews on or after this date (YYYY-MM-DD, UTC)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub since: Option<String>,

    /// Group by
    #[arg(long, value_enum, default_value_t = StatsBy::Engine)]
    pub by: StatsBy,

    /// Output format
    #[arg(long, value_enum, default_value_t = StatsFormat::Human)]
    pub format: StatsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsBy {
    Engine,
    Model,
    Task,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    Human,
    Json,
    Csv,
}

fn parse_date(text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.split('-').collect();
    let days_in = |year: u32, month: u32| match month {
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 31,
    };
    let valid = matches!(parts.as_slice(), [y, m, d]
    if y.len() == 4 && m.len() == 2 && d.len() == 2
        && [y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && {
            let (year, month, day) = (
                y.parse::<u32>().unwrap_or(0),
                m.parse::<u32>().unwrap_or(0),
                d.parse::<u32>().unwrap_or(0),
            );
            (1..=12).contains(&month) && (1..=days_in(year, month)).contains(&day)
        });
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!("`{text}` is not a date such as 2026-11-01"))
    }
}

#[derive(Debug, Clone, Args)]
pub struct CleanArgs {
    /// How many of the newest runs to keep
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub keep: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewFormat {
    Human,
    Json,
    Markdown,
    Sarif,
    Junit,
}

fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let (k, n) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not K/N (such as 0/4)"))?;
    let k: u32 = k
        .trim()
        .parse()
        .map_err(|_| format!("`{k}` is not a shard number"))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a shard count"))?;
    if n == 0 || k >= n {
        return Err(format!(
            "shard {k}/{n}: K counts from 0 and must be below N"
        ));
    }
    Ok((k, n))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Tests that failed, panicked, hung, crashed or were flaky (a test that did not compile
    /// is the engine's miss: reported, not failing)
    Failures,
    /// Those, spec gaps (unspecified sites, unimplemented items) and dropped tests
    Gaps,
    /// Nothing: always exit 0 when the review ran
    Never,
}

const GENERATE_EXAMPLES: &str = "\
Examples:
  cargo dualtrack generate --fn parse_cents                 print the tests for one function
  cargo dualtrack generate --out tests/generated            one file per module, for run-tests
  cargo dualtrack generate --fn 'mycrate::money::*' --format json

The offline engine calls each function with edge values (type limits, empty and multi-byte
strings, values mined from its comparisons, splits and length checks, the spec's literals),
combined pairwise. Oracles: no panic (public functions without a `# Panics` section), the same
result twice, and the spec's contract rows and stated results. Functions it cannot call are
listed with the reason.";

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Output format: the test code, or a JSON document with every test and skipped function
    #[arg(long, value_enum, default_value_t = GenerateFormat::Human)]
    pub format: GenerateFormat,

    /// The engine that writes the tests [default: `engine` in dualtrack.toml, else offline]
    #[arg(long = "engine", value_enum, value_name = "ENGINE")]
    pub engine_flag: Option<Engine>,

    /// The engine, once the config is read (`with_config`).
    #[arg(skip = Engine::Offline)]
    pub engine: Engine,

    #[command(flatten)]
    pub model: ModelArgs,

    #[command(flatten)]
    pub functions: FunctionArgs,

    /// Most tests for one function [default: 20 from the offline engine, 8 asked of a model]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_per_fn: Option<u32>,

    /// Most tests in all, spread over the functions in scope (0: no limit)
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub max_tests: u32,

    /// Also expect private functions not to panic on any input
    #[arg(long)]
    pub private: bool,

    #[command(flatten)]
    pub specs: SpecArgs,

    /// Write the modules as files into this directory (one per source module) instead of printing
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Check the tests into your tree, as `reconcile --keep` does: a `dualtrack_tests.rs`
    /// child module beside each function's file, rolled back unless the tests still build
    #[arg(long, conflicts_with = "out")]
    pub write: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    Human,
    Json,
}

/// Which model, and where: for the model engines.
#[derive(Debug, Clone, Default, Args)]
pub struct ModelArgs {
    /// The model to ask (default per engine; needed for openai-compatible)
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,

    /// The server's base URL, with its `/v1` for OpenAI-style APIs (default: OPENAI_BASE_URL or
    /// ANTHROPIC_BASE_URL, else the provider's)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// The agent CLI for --engine codex or claude (default: `codex` or `claude` on PATH)
    #[arg(long, value_name = "PATH")]
    pub agent_bin: Option<PathBuf>,

    /// Deprecated spelling of --max-per-fn (kept for one release, with a warning)
    #[arg(long = "tests-per-fn", value_name = "N", hide = true, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub deprecated_tests_per_fn: Option<u32>,

    /// The tests asked of the model per function, once the flags are read (`with_config`).
    #[arg(skip = DEFAULT_TESTS_ASKED)]
    pub tests_per_fn: u32,

    /// Requests in flight at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,

    /// Seconds one request may take
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub request_timeout: u64,

    /// Answer from a run's transcripts (its `transcripts/` directory) with no network
    #[arg(long, value_name = "DIR")]
    pub replay: Option<PathBuf>,

    /// Ask the model even for a request answered before (the response cache is skipped)
    #[arg(long)]
    pub no_cache: bool,

    /// Also save every exchange in this directory (to commit them, or replay them elsewhere)
    #[arg(long, value_name = "DIR")]
    pub transcripts: Option<PathBuf>,

    /// Print the prompts a model engine would get and an estimate of tokens and cost; ask
    /// nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Stop asking the model this many seconds after the first request (retries and waits
    /// included); functions not answered by then are skipped
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub total_timeout: Option<u64>,

    /// Stop asking the model once this many US dollars are spent (by the price table)
    #[arg(long, value_name = "USD", value_parser = parse_cost)]
    pub max_cost: Option<f64>,
}

/// Inputs the fuzz stage runs per function in a review, unless `--fuzz-runs` says: about half
/// a second of a parser's time. At 100,000 it missed chrono 0.4.28's slice past a multi-byte
/// character (found at input 106,697), which 200,000 finds.
pub const DEFAULT_FUZZ_RUNS: u64 = 200_000;

/// Most tests the offline engine writes for one function, unless `--max-per-fn` says.
pub const DEFAULT_MAX_PER_FN: u32 = 20;

/// Tests asked of a model per function, unless `--max-per-fn` says: fewer than the offline
/// engine's, as each costs tokens.
pub const DEFAULT_TESTS_ASKED: u32 = 8;

impl ReviewArgs {
    /// The arguments with what `dualtrack.toml` says where the command line is silent.
    pub fn with_config(&self, config: &crate::config::Config) -> ReviewArgs {
        let mut args = self.clone();
        args.engine = self
            .engine_flag
            .or(config.engine)
            .unwrap_or(Engine::Offline);
        args.repair_rounds = self.repair_rounds.or(config.repair_rounds);
        args.cover_rounds = self.cover_rounds.or(config.cover_rounds);
        args.max_per_fn = self.model.max_per_fn(self.max_per_fn);
        args.model = self.model.with_config(config, args.engine, args.max_per_fn);
        args
    }

    /// Most tests the offline engine writes for one function.
    pub fn offline_max_per_fn(&self) -> usize {
        self.max_per_fn.unwrap_or(DEFAULT_MAX_PER_FN) as usize
    }
}

impl GenerateArgs {
    /// The arguments with what `dualtrack.toml` says where the command line is silent.
    pub fn with_config(&self, config: &crate::config::Config) -> GenerateArgs {
        let mut args = self.clone();
        args.engine = self
            .engine_flag
            .or(config.engine)
            .unwrap_or(Engine::Offline);
        args.max_per_fn = self.model.max_per_fn(self.max_per_fn);
        args.model = self.model.with_config(config, args.engine, args.max_per_fn);
        args
    }

    /// Most tests the offline engine writes for one function.
    pub fn offline_max_per_fn(&self) -> usize {
        self.max_per_fn.unwrap_or(DEFAULT_MAX_PER_FN) as usize
    }
}

impl ModelArgs {
    /// `--max-per-fn`, or the deprecated `--tests-per-fn` (with a warning) standing in for it.
    fn max_per_fn(&self, max_per_fn: Option<u32>) -> Option<u32> {
        let deprecated = self.deprecated_tests_per_fn;
        if deprecated.is_some() {
            eprintln!(
                "warning: --tests-per-fn is deprecated: use --max-per-fn (it serves every engine)"
            );
        }
        max_per_fn.or(deprecated)
    }

    fn with_config(
        &self,
        config: &crate::config::Config,
        engine: Engine,
        max_per_fn: Option<u32>,
    ) -> ModelArgs {
        let mut args = self.clone();
        // A model is asked for at most 50 tests at once: its answer must fit one response.
        args.tests_per_fn = max_per_fn.map_or(DEFAULT_TESTS_ASKED, |n| n.min(50));
        args.model = self.model.clone().or_else(|| config.model.clone());
        // A committed file must not send a provider's key elsewhere: only the local server's
        // address comes from it (its key is a variable of its own).
        if self.base_url.is_none() && config.base_url.is_some() {
            if engine == Engine::OpenaiCompatible {
                args.base_url = config.base_url.clone();
            } else if engine != Engine::Offline {
                eprintln!(
                    "warning: dualtrack.toml: `base_url` is for the openai-compatible engine \
                     only; {} reads its endpoint from the environment or --base-url",
                    engine.name()
                );
            }
        }
        args.max_cost = self.max_cost.or(config.max_cost);
        args.total_timeout = self.total_timeout.or(config.total_timeout);
        args
    }
}

fn parse_cost(text: &str) -> Result<f64, String> {
    match text.trim().trim_start_matches('$').parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!(
            "`{text}` is not an amount of dollars above 0 (such as 2.50)"
        )),
    }
}

const RUN_TESTS_EXAMPLES: &str = "\
Examples:
  cargo dualtrack run-tests dualtrack_offline.rs
  cargo dualtrack run-tests tests/generated/*.rs --timeout 5 -j 4 --format json

Each file is a generated module: `/// dualtrack: {\"function\": \"crate::f\"}` before every
#[test]. The tests go into a copy under <target-dir>/dualtrack/scratch, into the module that
defines each function; your tree is never written. Exit 1 when a test fails, panics, times out,
crashes or is flaky; 4 when the crate does not build before injection.";

#[derive(Debug, Clone, Args)]
pub struct RunTestsArgs {
    /// Generated test files
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Only the test with this name (repeatable): how a review's finding is reproduced alone
    #[arg(long = "test", value_name = "NAME")]
    pub tests: Vec<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t = RunTestsFormat::Human)]
    pub format: RunTestsFormat,

    #[command(flatten)]
    pub runner: RunnerArgs,
}

/// `cargo dualtrack fuzz`: the long run of the fuzz stage, for a night job.
#[derive(Debug, Clone, Args)]
pub struct FuzzArgs {
    #[command(flatten)]
    pub functions: FunctionArgs,

    /// Wall time each function is fuzzed for: `90s`, `10m`, `1h`, or seconds [default: 1m, or
    /// until `--runs` when that is given]
    #[arg(long, value_name = "DURATION", value_parser = parse_budget)]
    pub time: Option<std::time::Duration>,

    /// Inputs each function is fuzzed with, at most
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: Option<u64>,

    /// The seed: the same code, `--runs`, `--seed` and `--fresh` give the same findings
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Start from the engine's values alone, not the corpus saved under
    /// `<target-dir>/dualtrack/corpus/` (and save nothing to it)
    #[arg(long)]
    pub fresh: bool,

    /// Keep no input for what it reached: random mutation of the seeds alone (for measuring
    /// what the probes' guidance is worth)
    #[arg(long, hide = true)]
    pub no_guidance: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = ReviewFormat::Human)]
    pub format: ReviewFormat,

    /// Which findings exit 1: failing tests, also spec gaps, or none
    #[arg(long, value_enum, default_value_t = FailOn::Failures)]
    pub fail_on: FailOn,

    #[command(flatten)]
    pub runner: RunnerArgs,
}

/// How long `fuzz` runs each function unless `--time` or `--runs` says.
pub const DEFAULT_FUZZ_TIME: std::time::Duration = std::time::Duration::from_secs(60);

impl FuzzArgs {
    /// The review that runs only the fuzz stage, on every function the filter keeps.
    pub fn review_args(&self) -> ReviewArgs {
        use clap::Parser;
        let mut args =
            match Cli::parse_from(["cargo-dualtrack", "review", "--all-functions"]).command {
                Some(Command::Review(args)) => args,
                _ => unreachable!("`review` parses as a review"),
            };
        args.functions = self.functions.clone();
        // Every function, unless `--fn`/`--file` name some.
        args.all_functions = !self.functions.names_any();
        args.fuzz_only = true;
        args.fuzz_runs = self.runs.unwrap_or(u64::MAX);
        args.fuzz_ms = Some(
            match (self.time, self.runs) {
                (Some(time), _) => time,
                // A number of runs alone: as long as they take, within a day.
                (None, Some(_)) => std::time::Duration::from_secs(24 * 3600),
                (None, None) => DEFAULT_FUZZ_TIME,
            }
            .as_millis() as u64,
        );
        args.fuzz_seed = self.seed;
        args.fuzz_fresh = self.fresh;
        args.fuzz_unguided = self.no_guidance;
        args.format = self.format;
        args.fail_on = self.fail_on;
        args.runner = self.runner.clone();
        // The safety stop of a review is no limit here: `--time` is.
        args.time_budget = std::time::Duration::from_secs(7 * 24 * 3600);
        args
    }
}

/// How generated tests are built and run: shared by `run-tests` and `review`.
#[derive(Debug, Clone, Args)]
pub struct RunnerArgs {
    /// Seconds each test may run before it is stopped
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = parse_timeout)]
    pub timeout: f64,

    /// What the untouched copy must do before tests are injected
    #[arg(long, value_enum, default_value_t = crate::scratch::Baseline::Build)]
    pub baseline: crate::scratch::Baseline,

    /// Extra runs of a failing test to tell flaky from steady
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub reruns: u32,

    /// How builds and tests are confined; `none` (asked for by name) runs even a model's tests
    /// unconfined
    #[arg(long, value_enum, default_value_t = crate::scratch::sandbox::SandboxChoice::Auto)]
    pub sandbox: crate::scratch::sandbox::SandboxChoice,

    /// Deprecated spelling of `--sandbox none` (kept for one release, with a warning)
    #[arg(long, conflicts_with = "sandbox", hide = true)]
    pub no_sandbox: bool,

    /// Run without the site probes (hit counters spliced into the scratch copy, which report
    /// the sites each test reached); the tests' outcomes are the same either way
    #[arg(long)]
    pub no_probes: bool,

    /// Show this tree outside the workspace to builds and tests, read-only, for links in the
    /// workspace that point into it (repeatable; others dangle, with a warning)
    #[arg(long = "allow-link", value_name = "PATH")]
    pub allow_links: Vec<std::path::PathBuf>,

    /// Address space each test may use, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    pub memory_limit: u64,

    /// Largest file a test may write, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub file_size_limit: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunTestsFormat {
    Human,
    Json,
}

const SCORE_EXAMPLES: &str = "\
Examples:
  cargo dualtrack score                          SPEC.md, specs/**/*.md or docs/specs/**/*.md
  cargo dualtrack score --spec docs/parse.md --min 80
  cargo dualtrack score --format markdown --output coverage.md
  cargo dualtrack score --all-functions --format json

Site coverage is the share of sites in scope that some item links to; item coverage the share
of items (out-of-scope ones aside) linked to some site. `--min` and `--min-items` exit 1 below
their percentage. Each link carries its reason; `<!-- covers: SITE_ID -->` in an item links by
hand.";

#[derive(Debug, Clone, Args)]
pub struct ScoreArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ScoreFormat::Human)]
    pub format: ScoreFormat,

    #[command(flatten)]
    pub specs: SpecArgs,

    /// Score every function, not only those the spec targets
    #[arg(long)]
    pub all_functions: bool,

    /// List every unspecified site (the terminal shows ten)
    #[arg(long)]
    pub gaps: bool,

    /// Exit 1 when site coverage is below this percentage (0-100)
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub min: Option<f64>,

    /// Exit 1 when item coverage is below this percentage (0-100)
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub min_items: Option<f64>,

    /// Add links by execution from a review's run (`latest` or an id such as
    /// r1796219876-7308): the sites an item's tests reached that an ordinary call did not.
    /// Used only while every source file is as that run saw it
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,

    /// Print the matrix of spec item × site × test instead: which code backs each item, and
    /// which test of the run reached it (markdown; JSON with --format json)
    #[arg(long)]
    pub matrix: bool,

    #[command(flatten)]
    pub functions: FunctionArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScoreFormat {
    Human,
    Json,
    Markdown,
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    // Seconds, as before, or a duration with its unit as `--time-budget` takes it (`90s`).
    parse_budget(text).map(|d| d.as_secs_f64())
}

/// `90s`, `10m`, `1h`, or a plain number of seconds; more than zero, at most a day.
fn parse_budget(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((at, _)) => (&text[..at], &text[at..]),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "`{text}`: the unit is s, m or h (`90s`, `10m`, `1h`)"
            ));
        }
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (`90s`, `10m`, `1h`)"))?;
    let seconds = value * scale;
    if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 {
        Ok(std::time::Duration::from_secs_f64(seconds))
    } else {
        Err(format!(
            "{text} is not a duration from 0 (exclusive) to 24h"
        ))
    }
}

fn parse_percent(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=100.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not a percentage from 0 to 100"))
    }
}

const ANALYZE_EXAMPLES: &str = "\
Examples:
  cargo dualtrack analyze
  cargo dualtrack analyze --fn 'mycrate::parse::*' --format json
  cargo dualtrack analyze --file src/money.rs --include-tests
  cargo dualtrack analyze --workspace --strict --output sites.json --format json

Site ids (`crate::module::function#if2`) count sites of one kind within a function in source
order, so they survive edits elsewhere and the function moving.";

#[derive(Debug, Clone, Args)]
pub struct AnalyzeArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = AnalyzeFormat::Human)]
    pub format: AnalyzeFormat,

    #[command(flatten)]
    pub functions: FunctionArgs,

    /// Also analyze `#[cfg(test)]` modules and `#[test]` functions
    #[arg(long)]
    pub include_tests: bool,

    /// Exit 1 when any file does not parse or a module's file is missing
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    Human,
    Json,
}

/// Drop the `dualtrack` that cargo inserts when it runs `cargo-dualtrack` as a subcommand.
/// The command line's definition: `-h` is short (the commands and the global options), with
/// `review`'s own flags, which plain `cargo dualtrack` takes too, under `--help` and
/// `cargo dualtrack review -h`.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut command = Cli::command()
        .mut_args(|arg| {
            let own = matches!(arg.get_id().as_str(), "help" | "version");
            if arg.is_global_set() || own {
                arg
            } else {
                arg.hide_short_help(true)
            }
        })
        .after_help(format!(
            "Plain `cargo dualtrack` runs `review`: `cargo dualtrack review -h` lists its \
             flags.\n\n{AFTER_HELP}"
        ));
    // The global options reach every command once built; those that build nothing take no
    // features, and their help does not offer them.
    command.build();
    for name in ["init", "stats", "clean"] {
        command = command.mut_subcommand(name, |sub| {
            ["features", "all_features", "no_default_features"]
                .into_iter()
                .fold(sub, |sub, id| sub.mut_arg(id, |arg| arg.hide(true)))
        });
    }
    command
}

/// The command line parsed. Global options go before or after the subcommand, as cargo's do;
/// `review`'s own flags, which plain `cargo dualtrack` takes, go only where they mean something:
/// without a subcommand, or after `review`.
pub fn parse(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let mut command = command();
    let matches = command.try_get_matches_from_mut(args)?;
    if let Some((name, _)) = matches.subcommand() {
        let misplaced = command.get_arguments().find(|arg| {
            !arg.is_global_set()
                && matches.value_source(arg.get_id().as_str())
                    == Some(clap::parser::ValueSource::CommandLine)
        });
        if let Some(arg) = misplaced {
            let flag = arg
                .get_long()
                .map(|l| format!("--{l}"))
                .unwrap_or_else(|| arg.get_id().to_string());
            return Err(command.error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "`{flag}` is a flag of `review`, not of `{name}`: put it after `review`, or drop \
                     the subcommand to review"
                ),
            ));
        }
    }
    Cli::from_arg_matches(&matches).map_err(|err| err.format(&mut command))
}

pub fn strip_cargo_subcommand_arg(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    if args.get(1).is_some_and(|arg| arg == "dualtrack") {
        args.remove(1);
    }
    args
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn dates_are_calendar_dates() {
        assert!(parse_date("2026-02-28").is_ok());
        assert!(parse_date("2028-02-29").is_ok());
        assert!(parse_date("2026-02-29").is_err());
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("2026-04-31").is_err());
        assert!(parse_date("2026-13-01").is_err());
        assert!(parse_date("26-01-01").is_err());
    }
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn cargo_inserted_subcommand_name_is_dropped() {
        let args = strip_cargo_subcommand_arg(vec![
            "cargo-dualtrack".into(),
            "dualtrack".into(),
            "analyze".into(),
        ]);
        assert_eq!(args, ["cargo-dualtrack", "analyze"]);
        let direct = strip_cargo_subcommand_arg(vec!["cargo-dualtrack".into(), "analyze".into()]);
        assert_eq!(direct, ["cargo-dualtrack", "analyze"]);
    }

    #[test]
    fn global_flags_work_before_the_subcommand_and_review_s_only_where_they_belong() {
        let words = |line: &str| line.split(' ').map(std::ffi::OsString::from).collect();
        let cli = parse(words(
            "cargo-dualtrack --manifest-path x/Cargo.toml -p a analyze",
        ))
        .unwrap();
        assert_eq!(
            cli.global.manifest_path,
            Some(PathBuf::from("x/Cargo.toml"))
        );
        assert_eq!(cli.global.packages, ["a"]);
        assert!(matches!(cli.command, Some(Command::Analyze(_))));
        let cli = parse(words("cargo-dualtrack --all-functions --color never")).unwrap();
        assert!(cli.command.is_none() && cli.review.all_functions);
        let err = parse(words("cargo-dualtrack --all-functions analyze")).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(
            err.to_string()
                .contains("`--all-functions` is a flag of `review`"),
            "{err}"
        );
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "cargo-dualtrack",
            "analyze",
            "-p",
            "a",
            "--workspace",
            "--features",
            "x,y",
        ])
        .unwrap();
        assert_eq!(cli.global.packages, ["a"]);
        assert!(cli.global.workspace);
        assert_eq!(cli.global.features, ["x", "y"]);
    }

    #[test]
    fn help_text_is_sentence_case_without_period() {
        for arg in Cli::command().get_arguments().chain(
            Cli::command()
                .get_subcommands()
                .flat_map(|c| c.get_arguments().cloned().collect::<Vec<_>>())
                .collect::<Vec<_>>()
                .iter(),
        ) {
            if let Some(help) = arg.get_help() {
                let help = help.to_string();
                assert!(
                    !help.ends_with('.'),
                    "help of --{:?} ends with a period",
                    arg.get_long()
                );
                assert!(
                    help.chars().next().is_some_and(char::is_uppercase),
                    "help of --{:?} is not sentence case",
                    arg.get_long()
                );
            }
        }
    }
}
