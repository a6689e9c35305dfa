//! Running the built tests: each alone in its sandbox worker, reruns for flakiness, the
//! outcome attributed to a site, and the crate's own tests for a patch.

use super::*;

/// What every test run of one scratch run shares.
pub(super) struct RunContext<'a> {
    pub(super) executables: &'a HashMap<(String, String), &'a Executable>,
    pub(super) names: &'a HashMap<(String, String), Vec<String>>,
    pub(super) area: &'a ScratchArea,
    pub(super) workspace: &'a Workspace,
    pub(super) ranges: &'a Ranges,
    pub(super) env: &'a [(String, String)],
    pub(super) options: &'a RunOptions,
    /// Places (function, panicking line) a failing test was already rerun at and failed
    /// the same way every time: another test failing there is not rerun. Dozens of inputs
    /// break one line; one of them tells steady from flaky for all.
    pub(super) steady: &'a Mutex<HashSet<(String, String)>>,
    /// The run's probes, when it has them: each test's first run counts what it reached.
    pub(super) probes: Option<&'a probes::ProbePlan>,
}

pub(super) fn run_placed(
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
        probes,
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
    // The first run counts the sites it reaches, into the worker's counter file zeroed.
    let counters = worker
        .counters()
        .filter(|c| probes.is_some() && c.reset().is_ok())
        .and_then(|c| c.try_clone().ok());
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
    let probed_env: Option<Vec<(String, String)>> = counters.as_ref().map(|counters| {
        let mut probed = plain_env.clone();
        probed.push(counters.env());
        probed
    });
    let mut first_run = true;
    let mut run = |traced: bool| {
        let env = match (&probed_env, first_run, traced) {
            (Some(probed), true, false) => probed.as_slice(),
            (_, _, true) => env,
            _ => &plain_env,
        };
        first_run = false;
        run_test(
            worker,
            &executable.path,
            &full_name,
            &package_dir,
            env,
            test.settings.map_or(options.timeout, |s| s.timeout),
            test.settings.map_or(options.output_cap, |s| s.output_cap),
        )
        .map(|execution| {
            let (kind, location) =
                attribute(&execution, placed, test, ranges, &area.copy, workspace);
            (execution, kind, location)
        })
    };
    let first = run(false);
    if let (Some(plan), Some(counters)) = (probes, &counters) {
        outcome.reached = counters.read().ok().map(|counts| plan.reached(&counts));
    }
    let (mut execution, mut kind, mut location) = match first {
        Ok(first) => first,
        Err(err) => {
            outcome.outcome = Outcome::Crashed;
            outcome.message = format!("{err:#}");
            return outcome;
        }
    };
    let failing = |kind: Outcome| matches!(kind, Outcome::Failed | Outcome::Panicked);
    let mut reruns = test.settings.map_or(options.reruns, |s| s.reruns);
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

pub(super) fn flaky(mut outcome: TestResult, first: Outcome, then: Outcome) -> TestResult {
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
pub(super) fn attribute(
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
pub(super) fn run_own_tests(
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

/// Run each built test alone, in parallel, rerunning failures to spot flaky ones, until the
/// queue is empty, Ctrl-C or the deadline: the tests the deadline cut are counted.
pub(super) fn execute(
    builder: &Builder,
    sandbox: &Sandbox,
    built: &Built,
    pending: &[Pending],
    probes: Option<&probes::ProbePlan>,
    results: &mut [Option<TestResult>],
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let (area, workspace, options, env) = (
        builder.area,
        builder.workspace,
        builder.options,
        builder.env,
    );
    let executables: HashMap<(String, String), &Executable> = built
        .executables
        .iter()
        .map(|e| ((e.package.clone(), e.target.clone()), e))
        .collect();
    let names = match &built.cached_names {
        Some(names) => names.clone(),
        None => {
            let names = list_tests(&executables, sandbox, &area.copy, env)?;
            if !built.build_key.is_empty() {
                remember_build(area, &built.build_key, &executables, &names);
            }
            names
        }
    };
    let jobs = if options.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.jobs
    };
    let queue = Mutex::new(built.placed.iter().collect::<Vec<_>>());
    let stage = options.progress.stage(
        &format!(
            "running {}",
            crate::output::plural(built.placed.len(), "test")
        ),
        Some(built.placed.len() as u64),
    );
    let steady = Mutex::new(HashSet::new());
    let context = RunContext {
        executables: &executables,
        names: &names,
        area,
        workspace,
        ranges: &built.ranges,
        env,
        options,
        steady: &steady,
        probes,
    };
    let finished: Mutex<Vec<(usize, TestResult)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                // One sandbox for the tests this thread runs, one after another.
                // Each worker's tests count into a counter file of its own; without one they
                // run uncounted.
                let counters = probes.and_then(|plan| {
                    probes::CounterFile::create(&area.root.join("probes"), plan).ok()
                });
                let mut worker =
                    served::Worker::new(sandbox, options.limits).with_counters(counters);
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
    stage.finish(None);
    report.interrupted = crate::interrupt::interrupted();
    if !report.interrupted {
        report.cut = queue.into_inner().unwrap_or_else(|e| e.into_inner()).len();
    }
    Ok(())
}
