//! The fuzz stage: the offline engine's harnesses run in the scratch copy (the probes guide
//! them), their saved corpus reused; each distinct crash, minimized by its harness, becomes a
//! plain no-panic `#[test]` that is run again through the normal runner to confirm it, and
//! then is a finding like any other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use crate::document::HarnessReport;
use crate::generate::emit::{EmittedTest, module_text, sanitize_name, test_item};
use crate::generate::{FuzzTarget, GeneratedTest};
use crate::output::write_atomically;
use crate::review::follow_up::{Rebuild, module_input};
use crate::scratch::execute::Outcome;
use crate::scratch::{FuzzDirs, ModuleInput, ModuleSettings, RunOptions, RunReport, TestResult};

/// The longest one harness of a review runs, whatever `--fuzz-runs` asks: a review runs before
/// every push, so a slow function must not hold it; the saved corpus carries each slice on
/// from the last (a `fuzz` run's `--time` replaces it). Two seconds still find the real bugs
/// of the fuzz benchmark within the default slice.
pub const REVIEW_MS_PER_FUNCTION: u64 = 2000;

/// A review's slice for a function whose saved corpus goes on from an earlier slice: the
/// corpus carries what the earlier slices reached, so the pre-push loop pays for a first
/// slice once per function, not at every push.
pub const REVIEW_MS_CONTINUED: u64 = 500;

/// How long one input may run before it counts as a hang.
const INPUT_MS: u64 = 1000;

/// How a fuzz run goes.
#[derive(Debug, Clone, Copy)]
pub struct FuzzSettings {
    /// Executions per function.
    pub runs: u64,
    /// Wall time per function, at most.
    pub ms_per_function: u64,
    /// Wall time, at most, of a function whose saved corpus goes on from an earlier slice.
    pub ms_continued: Option<u64>,
    pub seed: u64,
    /// Start from the seeds alone, not the saved corpus (and save none).
    pub fresh: bool,
    /// Keep inputs that reach new sites (off: random mutation only, for comparison).
    pub guided: bool,
}

/// What the fuzz stage came to.
#[derive(Debug, Default)]
pub struct Fuzzed {
    /// The confirmed crashes, as run by the normal runner: failing no-panic tests.
    pub results: Vec<TestResult>,
    /// Crashes the regression test did not reproduce.
    pub unconfirmed: usize,
    /// What each harness did, as the document says it.
    pub stats: Vec<HarnessReport>,
    /// Sites the harnesses' inputs reached, by function harnessed.
    pub reached: BTreeMap<String, BTreeSet<String>>,
    pub seed: u64,
    pub runs: u64,
    /// The run stopped (Ctrl-C, the deadline).
    pub stopped: bool,
    /// The probes of the harnesses' run.
    pub probes: Option<crate::scratch::probes::ProbeSummary>,
}

/// One crash as a harness wrote it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Crash {
    kind: String,
    at: String,
    message: String,
    args: Vec<String>,
}

/// The fuzz stage as the review plans it before its first run: the harnesses' module, built
/// and run with the engine's tests so that fuzzing costs no build of its own, and how they
/// run.
pub struct Plan {
    pub settings: FuzzSettings,
    /// The harnesses, as the scratch run takes them.
    pub module: ModuleInput,
    /// The regression tests of the crashes earlier reviews confirmed for these functions, run
    /// in the same build: a crash found again needs no build to confirm it, and one a short
    /// slice does not reach again is still reported while it reproduces.
    pub known: Option<ModuleInput>,
    /// What each of `known`'s tests is: its harness, its crash, its name.
    known_crashes: Vec<KnownCrash>,
    corpus: PathBuf,
}

/// A crash an earlier review confirmed, and the name of its regression test in this review.
struct KnownCrash {
    harness: String,
    crash: Crash,
    test: String,
}

impl Plan {
    /// The modules the stage adds to a run: the harnesses, and the known crashes' tests.
    pub fn modules(&self) -> Vec<ModuleInput> {
        std::iter::once(self.module.clone())
            .chain(self.known.clone())
            .collect()
    }

    /// `base` as the harnesses need it: the fuzz stage's environment and saved corpus, and a
    /// CPU limit past their time (the per-test wall timeout still stops a runaway test).
    pub fn options(&self, base: &RunOptions) -> RunOptions {
        let settings = self.settings;
        let mut options = base.clone();
        options.limits.cpu_seconds = options
            .limits
            .cpu_seconds
            .max(settings.ms_per_function / 1000 + 40);
        options.fuzz = Some(FuzzDirs {
            corpus: (!settings.fresh).then(|| self.corpus.clone()),
            env: vec![
                ("DUALTRACK_FUZZ_RUNS".into(), settings.runs.to_string()),
                (
                    "DUALTRACK_FUZZ_MS".into(),
                    settings.ms_per_function.to_string(),
                ),
                ("DUALTRACK_FUZZ_SEED".into(), settings.seed.to_string()),
                (
                    "DUALTRACK_FUZZ_MS_CONTINUED".into(),
                    settings
                        .ms_continued
                        .unwrap_or(settings.ms_per_function)
                        .to_string(),
                ),
                ("DUALTRACK_FUZZ_INPUT_MS".into(), INPUT_MS.to_string()),
                (
                    "DUALTRACK_FUZZ_GUIDED".into(),
                    u8::from(settings.guided).to_string(),
                ),
            ],
        });
        options
    }

    /// The harnesses' runs taken out of `report`, the run they were built and run in, as a
    /// report of their own (with that run's probes).
    pub fn take_harnesses(&self, report: &mut RunReport) -> RunReport {
        let ours = |result: &TestResult| {
            result.source.is_some()
                && (result.source == self.module.source
                    || self
                        .known
                        .as_ref()
                        .is_some_and(|k| result.source == k.source))
        };
        let (harnesses, tests) = std::mem::take(&mut report.results)
            .into_iter()
            .partition(ours);
        report.results = tests;
        RunReport {
            results: harnesses,
            interrupted: report.interrupted,
            probes: report.probes.clone(),
            ..RunReport::default()
        }
    }
}

/// Plan the review's fuzz stage over `targets`, or say why there is none (nothing to fuzz, no
/// probes to guide it).
pub fn plan(
    rebuild: &Rebuild,
    args: &crate::cli::ReviewArgs,
    (targets, preamble): (&[FuzzTarget], &str),
) -> anyhow::Result<Option<Plan>> {
    if args.fuzz_runs == 0 {
        return Ok(None);
    }
    if targets.is_empty() {
        rebuild.progress.line(
            "no fuzz stage: no function in scope has a harness (it needs arguments the engine \
             can build, at least one an input can change, and a panic that would be a finding: \
             a private function needs --private)",
        );
        return Ok(None);
    }
    if !rebuild.options.probes {
        rebuild
            .progress
            .line("no fuzz stage: it is guided by the site probes, and this run has none");
        return Ok(None);
    }
    let settings = FuzzSettings {
        runs: args.fuzz_runs,
        ms_per_function: args.fuzz_ms.unwrap_or(REVIEW_MS_PER_FUNCTION),
        // `fuzz --time` is what the user asked for, every time.
        ms_continued: args.fuzz_ms.is_none().then_some(REVIEW_MS_CONTINUED),
        seed: args.fuzz_seed,
        fresh: args.fuzz_fresh,
        guided: !args.fuzz_unguided,
    };
    let emitted: Vec<_> = targets.iter().map(|t| t.harness.test.clone()).collect();
    let module = write_module(
        rebuild,
        "dualtrack_fuzz_harnesses.rs",
        preamble,
        &emitted,
        Some(harness_settings(settings)),
    )?;
    rebuild.progress.line(&format!(
        "fuzzing {} ({} each, seed {})",
        crate::output::plural(targets.len(), "function"),
        if settings.runs == u64::MAX {
            format!("{:.0} s", settings.ms_per_function as f64 / 1000.0)
        } else {
            format!("{} inputs", settings.runs)
        },
        settings.seed
    ));
    let corpus = rebuild
        .workspace
        .target_directory
        .join("dualtrack")
        .join("corpus");
    let mut known_crashes = Vec::new();
    let mut known_tests: Vec<EmittedTest> = Vec::new();
    for target in targets.iter().filter(|_| !settings.fresh) {
        let name = &target.template.name;
        for (n, crash) in self::known_crashes(&corpus, name).into_iter().enumerate() {
            // Named apart from a new crash's test (`…_panic_again_1`): both may be kept.
            let again = Crash {
                kind: format!("{}_again", crash.kind),
                ..crash.clone()
            };
            if let Ok(test) = crash_test(target, &again, n + 1) {
                known_crashes.push(KnownCrash {
                    harness: name.clone(),
                    test: test.test.item.sig.ident.to_string(),
                    crash,
                });
                known_tests.push(test.test);
            }
        }
    }
    let known = if known_tests.is_empty() {
        None
    } else {
        Some(write_module(
            rebuild,
            "dualtrack_fuzz_known.rs",
            preamble,
            &known_tests,
            None,
        )?)
    };
    Ok(Some(Plan {
        settings,
        module,
        known,
        known_crashes,
        corpus,
    }))
}

/// Where the crashes confirmed for the harness `name` are kept, beside its corpus directory
/// (whose every file is an input).
fn crashes_file(corpus: &Path, name: &str) -> PathBuf {
    corpus.join(format!("{name}.crashes.json"))
}

/// The crashes earlier reviews confirmed for the harness `name` (none when unreadable).
fn known_crashes(corpus: &Path, name: &str) -> Vec<Crash> {
    std::fs::read_to_string(crashes_file(corpus, name))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// How a harness runs: for its time and a margin, its lines kept, never again.
fn harness_settings(settings: FuzzSettings) -> ModuleSettings {
    ModuleSettings {
        timeout: Duration::from_millis(settings.ms_per_function) + Duration::from_secs(30),
        // Its lines: the corpus it kept, its crashes, its counts.
        output_cap: 8 << 20,
        reruns: 0,
        needs_probes: true,
    }
}

/// The review's fuzz stage over the run `report` (`None` when the run stopped): `harnessed`
/// holds the harnesses' runs when they ran with the engine's tests, else they run now. A
/// crash is confirmed as a test and added to the report. A stage that fails is said, and the
/// review goes on with what it has; only Ctrl-C stops it.
pub fn stage(
    rebuild: &Rebuild,
    plan: Option<&Plan>,
    (targets, preamble): (&[FuzzTarget], &str),
    harnessed: Option<RunReport>,
    report: Option<&mut RunReport>,
) -> anyhow::Result<Option<(Fuzzed, FuzzSettings)>> {
    let Some(plan) = plan else {
        return Ok(None);
    };
    let Some(report) = report.filter(|_| !crate::interrupt::interrupted()) else {
        return Ok(None);
    };
    match report.probes.as_ref().map(|p| p.disabled.clone()) {
        None => {
            rebuild
                .progress
                .line("no fuzz stage: it is guided by the site probes, and this run has none");
            return Ok(None);
        }
        Some(Some(why)) => {
            rebuild.progress.line(&format!(
                "no fuzz stage: the site probes were taken out ({why})"
            ));
            return Ok(None);
        }
        Some(None) => {}
    }
    match fuzz(rebuild, (targets, preamble), plan, harnessed) {
        Ok(found) => {
            merge(report, &found);
            Ok(Some((found, plan.settings)))
        }
        Err(err) if err.is::<crate::error::Interrupted>() => Err(err),
        Err(err) => {
            rebuild.progress.line(&format!(
                "warning: the fuzz stage stopped ({err:#}); the review goes on without it"
            ));
            Ok(None)
        }
    }
}

/// Read `targets`' harness runs (`harnessed`, or run now), then run their crashes as tests;
/// the saved corpus is updated with what the run kept unless the plan is fresh.
pub fn fuzz(
    rebuild: &Rebuild,
    (targets, preamble): (&[FuzzTarget], &str),
    plan: &Plan,
    harnessed: Option<RunReport>,
) -> anyhow::Result<Fuzzed> {
    let settings = plan.settings;
    let corpus = plan.corpus.as_path();
    let mut fuzzed = Fuzzed {
        seed: settings.seed,
        runs: settings.runs,
        ..Fuzzed::default()
    };
    let options = plan.options(rebuild.options);
    let report = match harnessed {
        Some(report) => report,
        None => {
            let ran = crate::setup::runner::run_or_stop(
                rebuild.workspace,
                rebuild.full,
                &plan.modules(),
                &options,
            )?;
            let Ok(report) = ran else {
                fuzzed.stopped = true;
                return Ok(fuzzed);
            };
            report
        }
    };
    fuzzed.stopped = report.interrupted;
    // The harnesses count on the probes' runtime: a run that had to take the probes out ran
    // none of them.
    if let Some(why) = report.probes.as_ref().and_then(|p| p.disabled.as_ref()) {
        rebuild.progress.line(&format!(
            "no fuzz stage: the site probes were taken out ({why})"
        ));
        return Ok(fuzzed);
    }
    fuzzed.probes = report.probes.clone();
    let mut crash_tests = Vec::new();
    for target in targets {
        let name = &target.template.name;
        let result = report
            .results
            .iter()
            .find(|r| target.harness.test.item.sig.ident == r.name);
        let said = result.map(|r| said(&r.output, name)).unwrap_or_default();
        let mut stats = said.stats.clone();
        if !said.ended {
            // Killed before it could count: its last heartbeat is what it ran.
            stats.runs = said.heartbeat;
        }
        stats.function = target.template.function.clone();
        stats.outcome = match result {
            Some(r) if r.outcome == Outcome::Dropped => format!(
                "did not build: {}",
                r.compile_errors
                    .first()
                    .map_or("", |e| e.lines().next().unwrap_or(""))
            ),
            Some(r) => r.outcome.as_str().to_owned(),
            None => "did not run".to_owned(),
        };
        if let Some(reached) = result.and_then(|r| r.reached.clone()) {
            fuzzed
                .reached
                .entry(target.template.function.clone())
                .or_default()
                .extend(reached);
        }
        stats.sites_reached = fuzzed.reached.get(&stats.function).map_or(0, BTreeSet::len);
        let mut crashes = said.crashes.clone();
        // The harness's process was killed (an abort, a stack overflow, out of memory): the
        // same seed again, saying each input from the last heartbeat on, names the input.
        if let Some(r) = result
            .filter(|r| !said.ended && matches!(r.outcome, Outcome::Crashed | Outcome::TimedOut))
        {
            rebuild.progress.line(&format!(
                "{}: {}; replaying from input {} to find the input",
                target.template.function, r.message, said.heartbeat
            ));
            if let Some(args) = replay(
                rebuild,
                target,
                (&options, settings),
                preamble,
                said.heartbeat.max(1),
            )? {
                crashes.push(Crash {
                    kind: "crash".into(),
                    at: r.message.clone(),
                    message: r.message.clone(),
                    args,
                });
            }
        }
        let mut places = BTreeSet::new();
        for crash in &crashes {
            // One test per place: distinct crashes are one finding each.
            if !places.insert(crash.at.clone()) {
                continue;
            }
            match crash_test(target, crash, places.len()) {
                Ok(test) => crash_tests.push((name.clone(), crash.clone(), test)),
                Err(err) => rebuild
                    .progress
                    .line(&format!("warning: a crash of {name} gives no test: {err}")),
            }
        }
        if !settings.fresh {
            save_corpus(&said.corpus, &corpus.join(name))?;
        }
        fuzzed.stats.push(stats);
    }
    let runs: u64 = fuzzed.stats.iter().map(|s| s.runs).sum();
    // The known crashes' tests ran in the same build: a crash found again takes its result
    // from there, and one not found again still counts while its test fails.
    let known_results: BTreeMap<&str, &TestResult> = report
        .results
        .iter()
        .filter(|r| plan.known.as_ref().is_some_and(|k| r.source == k.source))
        .map(|r| (r.name.as_str(), r))
        .collect();
    let mut used_known = BTreeSet::new();
    let mut to_confirm = Vec::new();
    // (harness, crash) of every crash whose regression test fails now.
    let mut confirmed_crashes: Vec<(String, Crash)> = Vec::new();
    // Where the reported tests fail: one finding per place, whichever test found it.
    let mut reported_at: BTreeSet<String> = BTreeSet::new();
    let mut report_once = |result: &TestResult, fuzzed: &mut Fuzzed| {
        let first = result
            .location
            .as_ref()
            .is_none_or(|at| reported_at.insert(at.clone()));
        if first {
            fuzzed.results.push(result.clone());
        }
        first
    };
    for (harness, crash, test) in crash_tests {
        // A known crash at the same place whose test still fails stands for this one.
        let known = plan
            .known_crashes
            .iter()
            .filter(|k| k.harness == harness && k.crash.at == crash.at)
            .find_map(|k| {
                known_results
                    .get(k.test.as_str())
                    .filter(|r| fails(r))
                    .map(|r| (k, *r))
            });
        match known {
            Some((k, result)) => {
                used_known.insert(k.test.clone());
                if report_once(result, &mut fuzzed) {
                    confirmed_crashes.push((harness, k.crash.clone()));
                }
            }
            None => to_confirm.push((harness, crash, test)),
        }
    }
    // Not found again by this slice: still a finding while its test fails.
    for k in &plan.known_crashes {
        if let Some(result) = known_results.get(k.test.as_str())
            && !used_known.contains(&k.test)
            && fails(result)
            && report_once(result, &mut fuzzed)
        {
            confirmed_crashes.push((k.harness.clone(), k.crash.clone()));
        }
    }
    // A known crash whose test did not run (the run stopped first) is kept for the next
    // review; one whose test passed (fixed) or no longer builds is forgotten.
    for k in &plan.known_crashes {
        if !known_results.contains_key(k.test.as_str()) {
            confirmed_crashes.push((k.harness.clone(), k.crash.clone()));
        }
    }
    rebuild.progress.line(&format!(
        "fuzzed: {} inputs, {} kept for new sites, {} to confirm{}",
        runs,
        fuzzed.stats.iter().map(|s| s.new).sum::<u64>(),
        crate::output::plural(to_confirm.len(), "crash"),
        if fuzzed.results.is_empty() {
            String::new()
        } else {
            format!(
                ", {} still failing from an earlier review",
                crate::output::plural(fuzzed.results.len(), "known crash")
            )
        }
    ));
    if !to_confirm.is_empty() {
        // Confirmed only as the regression test the user would keep: the normal runner, its
        // timeout, its sandbox.
        let emitted: Vec<_> = to_confirm.iter().map(|t| t.2.test.clone()).collect();
        let module = write_module(rebuild, "dualtrack_fuzz.rs", preamble, &emitted, None)?;
        let Ok(confirmed) = crate::setup::runner::run_or_stop(
            rebuild.workspace,
            rebuild.full,
            &[module],
            rebuild.options,
        )?
        else {
            fuzzed.stopped = true;
            return Ok(fuzzed);
        };
        for result in confirmed.results {
            if !fails(&result) {
                fuzzed.unconfirmed += 1;
            } else if report_once(&result, &mut fuzzed)
                && let Some((harness, crash, _)) = to_confirm
                    .iter()
                    .find(|t| t.2.test.item.sig.ident == result.name)
            {
                confirmed_crashes.push((harness.clone(), crash.clone()));
            }
        }
    }
    if !settings.fresh && !fuzzed.stopped {
        remember_crashes(corpus, targets, &confirmed_crashes)?;
    }
    Ok(fuzzed)
}

/// A regression test that fails: its crash is confirmed.
fn fails(result: &TestResult) -> bool {
    matches!(
        result.outcome,
        Outcome::Panicked | Outcome::Failed | Outcome::TimedOut | Outcome::Crashed
    )
}

/// Keep each harness's confirmed crashes for the next review (a harness with none forgets
/// its file: the bug was fixed).
fn remember_crashes(
    corpus: &Path,
    targets: &[FuzzTarget],
    confirmed: &[(String, Crash)],
) -> anyhow::Result<()> {
    for target in targets {
        let name = &target.template.name;
        let file = crashes_file(corpus, name);
        let mut crashes: Vec<&Crash> = Vec::new();
        for (_, crash) in confirmed.iter().filter(|(harness, _)| harness == name) {
            if !crashes.contains(&crash) {
                crashes.push(crash);
            }
        }
        if crashes.is_empty() {
            let _ = std::fs::remove_file(&file);
            continue;
        }
        std::fs::create_dir_all(corpus)
            .with_context(|| format!("failed to create {}", corpus.display()))?;
        write_atomically(&file, &serde_json::to_string_pretty(&crashes)?)?;
    }
    Ok(())
}

/// Run `target`'s harness again as `options` say, saying every input from input `from` on:
/// the arguments of the last one it said, the one its process died in.
fn replay(
    rebuild: &Rebuild,
    target: &FuzzTarget,
    (options, settings): (&RunOptions, FuzzSettings),
    preamble: &str,
    from: u64,
) -> anyhow::Result<Option<Vec<String>>> {
    let module = write_module(
        rebuild,
        "dualtrack_fuzz_replay.rs",
        preamble,
        std::slice::from_ref(&target.harness.test),
        Some(harness_settings(settings)),
    )?;
    let mut options = options.clone();
    if let Some(fuzz) = options.fuzz.as_mut() {
        fuzz.env
            .push(("DUALTRACK_FUZZ_TRACE_FROM".into(), from.to_string()));
    }
    let Ok(report) =
        crate::setup::runner::run_or_stop(rebuild.workspace, rebuild.full, &[module], &options)?
    else {
        return Ok(None);
    };
    Ok(report
        .results
        .first()
        .and_then(|r| said(&r.output, &target.template.name).trying))
}

/// Add what the fuzz stage found to a run's report: the confirmed crash tests, and the probes
/// of its runs.
fn merge(report: &mut RunReport, fuzzed: &Fuzzed) {
    report.results.extend(fuzzed.results.iter().cloned());
    report.interrupted |= fuzzed.stopped && crate::interrupt::interrupted();
    report.probes =
        crate::scratch::probes::ProbeSummary::merged(report.probes.take(), fuzzed.probes.clone());
}

/// The document's account of the stage.
pub fn report(fuzzed: &Fuzzed, settings: FuzzSettings) -> crate::document::FuzzReport {
    crate::document::FuzzReport {
        seed: settings.seed,
        runs: settings.runs,
        fresh: settings.fresh,
        unconfirmed: fuzzed.unconfirmed,
        harnesses: fuzzed.stats.clone(),
    }
}

/// `tests` written as the run directory's `file`, and read back for the scratch run.
fn write_module(
    rebuild: &Rebuild,
    file: &str,
    preamble: &str,
    tests: &[EmittedTest],
    settings: Option<ModuleSettings>,
) -> anyhow::Result<ModuleInput> {
    let path = rebuild.run_dir.join(file);
    let text = module_text(&json!({"engine": "fuzz"}), preamble, tests);
    write_atomically(&path, &text)?;
    let mut module = module_input("fuzz", &path, &text)?;
    module.settings = settings;
    Ok(module)
}

/// The regression test of `crash`: the harness's template with the crash's arguments.
fn crash_test(target: &FuzzTarget, crash: &Crash, n: usize) -> Result<GeneratedTest, String> {
    let template = &target.template.template;
    let mut body = template.body.clone();
    let mut meta = template.meta.clone();
    let mut input = meta.input.clone().unwrap_or_default();
    // From the last: `arg1` is not a prefix of `arg10`'s replacement then.
    for (k, arg) in crash.args.iter().enumerate().rev() {
        let placeholder = crate::generate::offline::cases::harness::placeholder(k);
        body = body.replace(&placeholder, arg);
        input = input.replace(&placeholder, arg);
    }
    if body.contains("__dualtrack_fuzz_arg") {
        return Err("the harness wrote fewer arguments than the call takes".into());
    }
    meta.input = Some(input);
    let name = sanitize_name(&format!("{}_{}_{n}", template.name, crash.kind));
    let test = test_item(&name, &meta, &body)?;
    Ok(GeneratedTest {
        test,
        module: target.module.clone(),
    })
}

/// What a harness printed: its `DUALTRACK-FUZZ` lines.
#[derive(Debug, Default)]
struct Said {
    crashes: Vec<Crash>,
    corpus: Vec<Vec<u8>>,
    stats: HarnessReport,
    /// The last heartbeat: inputs run by then.
    heartbeat: u64,
    /// The arguments of the last input a replay said it was trying.
    trying: Option<Vec<String>>,
    /// It printed its counts: it ended on its own.
    ended: bool,
}

/// The `DUALTRACK-FUZZ` lines of the harness `name` in a test's output.
fn said(output: &str, name: &str) -> Said {
    let mut out = Said::default();
    for line in output.lines() {
        let fields: Vec<String> = line.split('\t').map(unescape).collect();
        let [marker, harness, what, rest @ ..] = fields.as_slice() else {
            continue;
        };
        if marker != "DUALTRACK-FUZZ" || harness != name {
            continue;
        }
        match (what.as_str(), rest) {
            ("crash", [kind, at, message, _input, args @ ..]) => out.crashes.push(Crash {
                kind: kind.clone(),
                at: at.clone(),
                message: message.clone(),
                args: args.to_vec(),
            }),
            ("corpus", [hex]) => out.corpus.extend(unhex(hex)),
            ("at", [count]) => out.heartbeat = count.parse().unwrap_or(out.heartbeat),
            ("trying", [_input, args @ ..]) => out.trying = Some(args.to_vec()),
            ("stats", numbers) => {
                out.ended = true;
                for pair in numbers {
                    let Some((key, value)) = pair.split_once('=') else {
                        continue;
                    };
                    let value: u64 = value.parse().unwrap_or(0);
                    match key {
                        "runs" => out.stats.runs = value,
                        "ms" => out.stats.elapsed_ms = value,
                        "corpus" => out.stats.corpus = value,
                        "saved" => out.stats.saved = value,
                        "new" => out.stats.new = value,
                        "crashes" => out.stats.crashes = value,
                        "first_crash_run" => {
                            out.stats.first_crash_run = (value > 0).then_some(value)
                        }
                        "first_crash_ms" => {
                            out.stats.first_crash_ms =
                                out.stats.first_crash_run.is_some().then_some(value)
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A field back from one line (`\\n`, `\\r`, `\\t` and `\\\\` escaped).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Add the inputs a harness kept to its saved corpus, a file each named by its content.
fn save_corpus(inputs: &[Vec<u8>], to: &Path) -> anyhow::Result<()> {
    if inputs.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(to).with_context(|| format!("failed to create {}", to.display()))?;
    for input in inputs {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(input);
        let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let path = to.join(name);
        if !path.exists() {
            std::fs::write(&path, input)
                .with_context(|| format!("failed to save {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_harness_s_lines_read_back_with_their_escapes() {
        let output = "running 1 test\n\
            DUALTRACK-FUZZ\tf_fuzz_harness\tcrash\tpanic\tsrc/lib.rs:12\tindex out of bounds\\nsecond\t3a\t\"a\\\\nb\"\t5i64\n\
            DUALTRACK-FUZZ\tf_fuzz_harness\tcorpus\t00ff\n\
            DUALTRACK-FUZZ\tother_harness\tcorpus\t01\n\
            DUALTRACK-FUZZ\tf_fuzz_harness\tstats\truns=5000\tms=120\tnew=29\tbogus\n\
            test f_fuzz_harness ... ok\n";
        let said = said(output, "f_fuzz_harness");
        assert_eq!(said.crashes.len(), 1);
        let crash = &said.crashes[0];
        assert_eq!(crash.at, "src/lib.rs:12");
        assert_eq!(crash.message, "index out of bounds\nsecond");
        assert_eq!(crash.args, ["\"a\\nb\"", "5i64"]);
        assert_eq!(said.corpus, [vec![0u8, 255]]);
        assert_eq!(
            (said.stats.runs, said.stats.elapsed_ms, said.stats.new),
            (5000, 120, 29)
        );
        assert!(unhex("0").is_none() && unhex("zz").is_none());
        assert!(said.ended && said.trying.is_none());
        // A replay's lines: the last input it tried is the one that killed it.
        let replay = "DUALTRACK-FUZZ\tf_fuzz_harness\tat\t2000\n\
            DUALTRACK-FUZZ\tf_fuzz_harness\ttrying\t61\t\"a\"\n\
            DUALTRACK-FUZZ\tf_fuzz_harness\ttrying\t78\t\"x\"\n";
        let replayed = super::said(replay, "f_fuzz_harness");
        assert_eq!(replayed.heartbeat, 2000);
        assert_eq!(replayed.trying, Some(vec!["\"x\"".to_owned()]));
        assert!(!replayed.ended);
    }
}
