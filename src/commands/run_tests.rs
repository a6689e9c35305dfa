//! `cargo dualtrack run-tests FILE...`: run generated test files in the scratch copy and
//! report each test's outcome.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context;

use crate::analyze::{AnalyzeOptions, analyze};
use crate::cli::{GlobalArgs, RunTestsArgs, RunTestsFormat, RunnerArgs};
use crate::error::{ExitCode, InputError};
use crate::output::Styling;
use crate::progress::Progress;
use crate::report::style::{DIM, ERROR, HEADING, paint};
use crate::review::findings::{count, is_failure, review_document};
use crate::scratch::execute::Outcome;
use crate::scratch::sandbox::{Limits, Mechanism, SandboxChoice};
use crate::scratch::{
    BaselineFailed, Interrupted, ModuleInput, RunOptions, RunReport, run_modules,
};
use crate::testfile::parse_test_module;
use crate::workspace::{PackageSelection, Workspace};

pub fn run(global: &GlobalArgs, args: &RunTestsArgs) -> anyhow::Result<ExitCode> {
    crate::interrupt::install();
    let workspace = Workspace::load(&PackageSelection {
        manifest_path: global.manifest_path.clone(),
        packages: global.packages.clone(),
        workspace: true,
    })?;
    let mut modules = Vec::new();
    for path in &args.files {
        let text = crate::input::read_to_string(path)
            .map_err(|err| InputError::new(format!("cannot read {}: {err}", path.display())))?;
        let module = parse_test_module(&text).map_err(|err| {
            InputError::new(format!("{}:{}: {}", path.display(), err.line, err.message))
        })?;
        let engine = module
            .header
            .as_ref()
            .and_then(|h| h["engine"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "custom".to_owned());
        modules.push(ModuleInput {
            engine,
            module,
            source: Some(path.display().to_string()),
        });
    }
    if !args.tests.is_empty() {
        only_named(&mut modules, &args.tests)?;
    }
    let model_written = modules.iter().any(|m| m.engine != "offline");
    let options = runner_options(global, &args.runner, model_written, "run-tests")?;
    let analysis = analyze(&workspace, &AnalyzeOptions::default());
    let report = match run_or_stop(&workspace, &analysis, &modules, &options)? {
        Ok(report) => report,
        Err(stopped) => return Ok(stopped.code),
    };
    let engine = modules.first().map_or("custom", |m| m.engine.as_str());
    match args.format {
        RunTestsFormat::Json => {
            let mut text =
                serde_json::to_string_pretty(&review_document(&report, engine, "run-tests"))?;
            text.push('\n');
            super::emit(global, &text, Styling::Plain)?;
        }
        RunTestsFormat::Human => super::emit(global, &render_human(&report), Styling::Styled)?,
    }
    if report.interrupted {
        eprintln!("interrupted: the report holds the tests that finished before Ctrl-C");
        return Ok(ExitCode::Interrupted);
    }
    let failing = report.results.iter().any(|r| is_failure(r.outcome));
    Ok(if failing {
        ExitCode::Findings
    } else {
        ExitCode::Clean
    })
}

/// Keep only the tests `names` names; a name no file holds is an input error.
fn only_named(modules: &mut [ModuleInput], names: &[String]) -> Result<(), InputError> {
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| {
            !modules
                .iter()
                .any(|m| m.module.tests.iter().any(|t| &&t.name == name))
        })
        .collect();
    if !missing.is_empty() {
        return Err(InputError::new(format!(
            "no test named {} in the files given",
            missing
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for module in modules {
        module.module.tests.retain(|t| names.contains(&t.name));
    }
    Ok(())
}

/// Why a scratch run stopped short: the exit code, and what was said (the failed baseline's
/// build log, for the run's logs).
pub struct Stopped {
    pub code: ExitCode,
    pub log: String,
}

/// Run the modules in the scratch copy, or say why the command stops with which exit code:
/// Ctrl-C (130), a crate that does not build before anything is injected (4).
pub fn run_or_stop(
    workspace: &Workspace,
    analysis: &crate::analyze::Analysis,
    modules: &[ModuleInput],
    options: &RunOptions,
) -> anyhow::Result<Result<RunReport, Stopped>> {
    match run_modules(workspace, analysis, modules, options) {
        Ok(report) => Ok(Ok(report)),
        // Whatever failed after Ctrl-C (a killed `cargo fetch`, say) failed because of it.
        Err(err) if err.is::<Interrupted>() || crate::interrupt::interrupted() => {
            eprintln!("{Interrupted}");
            Ok(Err(Stopped {
                code: ExitCode::Interrupted,
                log: String::new(),
            }))
        }
        Err(err) => match err.downcast::<BaselineFailed>() {
            Ok(baseline) => {
                eprintln!("error: {baseline}");
                Ok(Err(Stopped {
                    code: ExitCode::BaselineFailed,
                    log: baseline.log,
                }))
            }
            Err(other) => Err(other).context("the scratch run failed"),
        },
    }
}

/// The scratch run's options from the command line; refuses to run a model's tests
/// unsandboxed unless asked, and warns when there is no sandbox at all.
pub fn runner_options(
    global: &GlobalArgs,
    runner: &RunnerArgs,
    model_written: bool,
    command: &'static str,
) -> anyhow::Result<RunOptions> {
    let choice = if runner.no_sandbox {
        SandboxChoice::None
    } else {
        runner.sandbox
    };
    let mechanism = Mechanism::choose(choice)?;
    if mechanism == Mechanism::None {
        if model_written && !runner.no_sandbox {
            return Err(InputError::new(
                "tests from a model engine do not run unsandboxed: install bubblewrap \
                 (`apt-get install bubblewrap`), or pass --no-sandbox to run them anyway",
            )
            .into());
        }
        if !global.quiet {
            eprintln!(
                "warning: tests run without a sandbox: they can read and write what you can; \
                 install bubblewrap for the strongest confinement"
            );
        }
    }
    Ok(RunOptions {
        sandbox: choice,
        limits: Limits {
            memory: runner.memory_limit << 20,
            file_size: runner.file_size_limit << 20,
            // Twice the wall-clock timeout: the timeout decides; this only stops a runaway
            // that the timeout somehow misses.
            cpu_seconds: (runner.timeout * 2.0).ceil() as u64 + 5,
            ..Limits::default()
        },
        timeout: Duration::from_secs_f64(runner.timeout),
        jobs: runner.jobs,
        keep_scratch: None,
        progress: Progress::new(command, global.quiet),
        cargo_features: global.feature_selection().cargo_args(),
        baseline: runner.baseline,
        reruns: runner.reruns,
        allow_links: runner
            .allow_links
            .iter()
            .map(|path| {
                let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                let absolute = crate::workspace::normalize_lexically(&absolute);
                absolute.canonicalize().unwrap_or(absolute)
            })
            .collect(),
        ..RunOptions::default()
    })
}

pub fn render_human(report: &RunReport) -> String {
    let mut out = String::new();
    for result in &report.results {
        let outcome = result.outcome.as_str();
        let styled = if is_failure(result.outcome) {
            paint(ERROR, &format!("{outcome:<9}"))
        } else {
            format!("{outcome:<9}")
        };
        let _ = writeln!(
            out,
            "{styled} {}  {}",
            paint(HEADING, &result.name),
            paint(DIM, &result.function)
        );
        if !result.message.is_empty() {
            let first = result.message.lines().next().unwrap_or_default();
            let location = result
                .location
                .as_deref()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            let _ = writeln!(out, "          {first}{location}");
            if is_failure(result.outcome)
                && let Some(input) = &result.input
            {
                let _ = writeln!(out, "          {}", paint(DIM, &format!("input: {input}")));
            }
        }
        if let Some(error) = result.compile_errors.first() {
            for line in error.lines().take(6) {
                let _ = writeln!(out, "          {}", paint(DIM, line));
            }
        }
    }
    let count = |outcome: Outcome| count(report, outcome);
    let _ = writeln!(
        out,
        "\n{} tests: {} passed, {} failed, {} panicked, {} timed out, {} crashed, {} flaky, {} dropped ({} build rounds, build {} ms, run {} ms)",
        report.results.len(),
        count(Outcome::Passed),
        count(Outcome::Failed),
        count(Outcome::Panicked),
        count(Outcome::TimedOut),
        count(Outcome::Crashed),
        count(Outcome::Flaky),
        count(Outcome::Dropped),
        report.build_rounds,
        report.timings.build_ms,
        report.timings.run_ms
    );
    out
}
