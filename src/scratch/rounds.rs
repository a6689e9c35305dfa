//! The build rounds: the tests injected, the copy built, and each test a compiler error is
//! blamed on dropped with it, until the rest builds; a test that breaks the crate's own code
//! is found by building halves. An unchanged injection reuses the last build.

use super::*;

/// What the build rounds leave to run.
pub(super) struct Built {
    pub(super) placed: Vec<Placed>,
    pub(super) ranges: Ranges,
    pub(super) executables: Vec<Executable>,
    /// The tests each executable holds, when the build came from the cache.
    pub(super) cached_names: Option<HashMap<(String, String), Vec<String>>>,
    /// The key the build is remembered by, when it was built now.
    pub(super) build_key: String,
}

/// Inject, build, drop what does not compile, until the rest builds: the tests dropped get
/// their `results` (with the compiler's errors, pointed at the test file).
pub(super) fn build_rounds(
    builder: &Builder,
    (sources, mut baseline_due): (&mut Sources, bool),
    pending: &[Pending],
    mut probes: Option<&mut probes::ProbePlan>,
    results: &mut [Option<TestResult>],
    report: &mut RunReport,
) -> anyhow::Result<Built> {
    let (area, workspace, options) = (builder.area, builder.workspace, builder.options);
    let stage = options
        .progress
        .stage(&format!("building {} generated tests", pending.len()), None);
    let mut build_key_used = String::new();
    let mut cached_names = None;
    // Searches for a test that breaks the crate's own code; past a few, the failure is not
    // the tests' (the crate stopped building) and every test goes with the log.
    let mut isolations = 0;
    // Rounds rebuilt for probes that did not build.
    let mut probe_retries = 0;
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
            pending,
            &live,
            options.patch.as_ref(),
            &sources.stripped,
            probes.as_deref(),
        )?;
        // Same sources, same injected text: the executables of the last build still hold.
        let build_key = build_key(&sources.fingerprint, area, &ranges);
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
        let outcome = builder.build()?;
        append_build_log(
            &mut report.build_log,
            &format!("round {}", report.build_rounds),
            &outcome,
        );
        if crate::interrupt::interrupted() {
            return Err(Interrupted.into());
        }
        if outcome.success {
            if baseline_due {
                // The crate built with the tests in it: it builds as it is.
                sources.record_baseline()?;
            }
            build_key_used = build_key;
            break (placed, ranges, outcome.executables);
        }
        // Probes a compiler error names are taken out and the round built again (the rest
        // stay); past a few tries, all of them. The tests run as they would have.
        if let Some(plan) = probes.as_deref_mut() {
            // The errors' lines as the sources have them: injected tests moved those below.
            let original = |file: &Path, line: u32| {
                let injected = ranges.get(file).map(Vec::as_slice).unwrap_or(&[]);
                inject::original_line(injected, line)
            };
            let blamed: Vec<(usize, &build::CompileError)> = outcome
                .errors
                .iter()
                .flat_map(|e| {
                    let mut at_source = e.clone();
                    at_source.line = original(&e.file, e.line).unwrap_or(0);
                    at_source.places = e
                        .places
                        .iter()
                        .filter_map(|(file, first, last)| {
                            Some((
                                file.clone(),
                                original(file, *first)?,
                                original(file, *last)?,
                            ))
                        })
                        .collect();
                    plan.culprits(&at_source, &area.copy)
                        .into_iter()
                        .map(move |s| (s, e))
                })
                .collect();
            if let Some((_, error)) = blamed.first() {
                let said = probes::probe_error_place(std::slice::from_ref(*error), &area.copy);
                probe_retries += 1;
                let slots: Vec<usize> = blamed.iter().map(|(slot, _)| *slot).collect();
                if let Some(warning) = plan.failed_build(&slots, probe_retries, said) {
                    options.progress.line(&warning);
                }
                continue;
            }
        }
        // An error the tests' lines do not hold, with no baseline yet: the baseline now, to
        // tell a crate that does not build (it stops the run) from a test that breaks it,
        // and to leave out the crate's own test code that does not compile. Then again.
        if baseline_due
            && (outcome.errors.is_empty()
                || outcome
                    .errors
                    .iter()
                    .any(|error| held_by(error, &placed).is_empty()))
        {
            baseline_due = false;
            let start = Instant::now();
            baseline(builder, sources, probes.as_deref_mut(), report)?;
            report.timings.baseline_ms += start.elapsed().as_millis() as u64;
            continue;
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
                    pending,
                    subset,
                    options.patch.as_ref(),
                    &sources.stripped,
                    probes.as_deref(),
                )?;
                let outcome = builder.build()?;
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
    stage.finish(Some(&format!(
        "{} built, {} dropped, in {}",
        crate::output::plural(placed.len(), "test"),
        pending.len() - placed.len(),
        crate::output::plural(report.build_rounds as usize, "build round")
    )));

    Ok(Built {
        placed,
        ranges,
        executables,
        cached_names,
        build_key: build_key_used,
    })
}

/// The tests a compiler error is to blame on: the one whose lines hold its primary span, else
/// those whose lines hold any place it names (a macro call site), else, for an error in a
/// file tests were injected into but outside them (a `use` line, a name clash), every test
/// placed in that file. None when it lies in code of the crate's own.
/// The tests whose own lines hold `error` (the one at its line, else those it names): not
/// merely a test in its file.
fn held_by<'p>(error: &build::CompileError, placed: &'p [Placed]) -> Vec<&'p Placed> {
    let holds = |p: &Placed, file: &Path, first: u32, last: u32| {
        p.file == file && first <= p.last_line && p.first_line <= last
    };
    if let Some(p) = placed
        .iter()
        .find(|p| holds(p, &error.file, error.line, error.line))
    {
        return vec![p];
    }
    placed
        .iter()
        .filter(|p| {
            error
                .places
                .iter()
                .any(|(file, first, last)| holds(p, file, *first, *last))
        })
        .collect()
}

/// The tests to blame for `error`: those that hold it, else every test in its file.
pub(super) fn culprits_of<'p>(
    error: &build::CompileError,
    placed: &'p [Placed],
) -> Vec<&'p Placed> {
    let held = held_by(error, placed);
    if !held.is_empty() {
        return held;
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
pub(super) fn isolate_culprit(
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
