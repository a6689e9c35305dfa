//! What `run-tests` and `review` share of running tests: the runner's options from the flags,
//! and the stop a crate that does not build or a Ctrl-C makes of a run.

use std::time::Duration;

use anyhow::Context;

use crate::cli::{GlobalArgs, RunnerArgs};
use crate::error::{ExitCode, InputError, Interrupted};
use crate::progress::Progress;
use crate::scratch::sandbox::{Limits, Mechanism, SandboxChoice};
use crate::scratch::{BaselineFailed, ModuleInput, RunOptions, RunReport, run_modules};
use crate::workspace::Workspace;

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
    if runner.no_sandbox && !global.quiet {
        eprintln!("warning: --no-sandbox is deprecated: use --sandbox none");
    }
    let choice = if runner.no_sandbox {
        SandboxChoice::None
    } else {
        runner.sandbox
    };
    // `--sandbox none` by name is the consent to run a model's tests unconfined; `auto`
    // finding no mechanism is not.
    let asked_for_none = choice == SandboxChoice::None;
    let mechanism = Mechanism::choose(choice)?;
    if mechanism == Mechanism::None {
        if model_written && !asked_for_none {
            return Err(InputError::new(
                "tests from a model engine do not run unsandboxed: install bubblewrap \
                 (`apt-get install bubblewrap`), or pass --sandbox none to run them anyway",
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
        jobs: global.jobs(),
        probes: !runner.no_probes,
        keep_scratch: None,
        progress: Progress::new(command, global.quiet),
        cargo_args: [
            global.feature_selection().cargo_args(),
            global.cargo_access().build_args(),
            global
                .jobs
                .map(|jobs| vec![format!("--jobs={jobs}")])
                .unwrap_or_default(),
        ]
        .concat(),
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
