//! `cargo dualtrack reconcile [RUN]`: the human's step. A review's failures listed with their
//! status; accepted or deferred ones recorded in `.dualtrack/decisions.toml` (with what the
//! finding id was made of, the failure's message and the reason) and as `decision` rows in the
//! ledger.

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde_json::json;

use crate::cli::{GlobalArgs, ReconcileArgs, ReconcileFormat};
use crate::config::Config;
use crate::decisions::{Decision, Decisions, Verdict};
use crate::document::{Finding, ReviewDocument, Status};
use crate::error::{ExitCode, InputError};
use crate::output::Styling;
use crate::workspace::{PackageSelection, Workspace};

pub fn run(global: &GlobalArgs, args: &ReconcileArgs) -> anyhow::Result<ExitCode> {
    let workspace = Workspace::load(&PackageSelection {
        manifest_path: global.manifest_path.clone(),
        packages: global.packages.clone(),
        workspace: true,
    })?;
    let config = Config::load(&workspace.root)?;
    check_flags(args)?;
    // Found out before a test is checked in, not after.
    crate::output::refuse_linked_dir(&workspace.root.join(".dualtrack"))?;
    // One reconcile at a time: decisions and checked-in files are read, changed and written.
    let _lock = lock_reconcile(&workspace.target_directory)?;
    let runs = workspace.target_directory.join("dualtrack").join("runs");
    let (run_id, report) = read_run(&runs, args.run.as_deref())?;
    let mut decisions = Decisions::load(&workspace.root)?;
    let failures = failures(&report);

    // Nothing asked on the command line, at a terminal: walk the undecided failures.
    let mut reasons: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let asked = decides(args);
    let walked;
    let args = if !asked
        && !args.list
        && args.format == ReconcileFormat::Human
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
    {
        let open: Vec<&Finding> = failures
            .iter()
            .copied()
            .filter(|f| decisions.decision(&f.id).is_none())
            .collect();
        let choices = walk(
            &open,
            &report,
            &mut std::io::stdin().lock(),
            &mut std::io::stderr(),
        )?;
        let mut chosen = args.clone();
        for (id, choice) in choices {
            match choice {
                Choice::Keep => chosen.keep.push(id),
                Choice::Accept(reason) => {
                    if !reason.is_empty() {
                        reasons.insert(id.clone(), reason);
                    }
                    chosen.accept.push(id);
                }
                Choice::Apply => chosen.apply.push(id),
                Choice::Later => chosen.defer.push(id),
            }
        }
        walked = chosen;
        &walked
    } else {
        args
    };
    // Ctrl-C while the tests build stops the build, and what was written is rolled back.
    // Not before: during the walk Ctrl-C ends the process with nothing written.
    crate::interrupt::install();

    let mut wanted: Vec<(String, Verdict)> = Vec::new();
    if args.accept_all {
        if args.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(InputError::new(
                "--accept-all needs --reason TEXT: say why every finding is accepted",
            )
            .into());
        }
        for finding in &failures {
            if decisions.decision(&finding.id).is_none() {
                wanted.push((finding.id.clone(), Verdict::Accepted));
            }
        }
    }
    wanted.extend(args.keep.iter().map(|id| (id.clone(), Verdict::Kept)));
    wanted.extend(args.accept.iter().map(|id| (id.clone(), Verdict::Accepted)));
    wanted.extend(args.defer.iter().map(|id| (id.clone(), Verdict::Deferred)));
    // A verified fix applied: the finding's test is kept too, as the regression test it now
    // passes. Applied last, once every id is known good.
    wanted.extend(args.apply.iter().map(|id| (id.clone(), Verdict::Kept)));

    // One decision per finding: the last one asked for.
    let mut seen = std::collections::HashSet::new();
    let wanted: Vec<(String, Verdict)> = wanted
        .into_iter()
        .rev()
        .filter(|(id, _)| seen.insert(normal_id(id)))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let mut made = Vec::new();
    for (id, verdict) in &wanted {
        let normal = normal_id(id);
        let finding = failures.iter().find(|f| f.id == normal).ok_or_else(|| {
            InputError::new(format!(
                "{id} is not a failure of run {run_id}: `cargo dualtrack reconcile {run_id} \
                     --list` shows them"
            ))
        })?;
        let test = report.test_of(finding);
        decisions.by_id.insert(
            normal.clone(),
            Decision {
                decision: *verdict,
                function: finding.function_name().to_owned(),
                oracle: test.and_then(|t| t.oracle.clone()).unwrap_or_default(),
                input: finding.input.clone().unwrap_or_default(),
                message: finding
                    .message
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                reason: reasons
                    .get(&normal)
                    .cloned()
                    .or(args.reason.clone())
                    .unwrap_or_else(|| {
                        if args.apply.iter().any(|a| normal_id(a) == normal) {
                            "the verified fix was applied".to_owned()
                        } else {
                            String::new()
                        }
                    }),
            },
        );
        made.push((normal, *verdict, finding.function_name().to_owned()));
    }
    // The whole tree's functions, read once, when a fix or a test goes into it.
    let whole_tree = std::cell::OnceCell::new();
    let tree = || whole_tree.get_or_init(|| crate::analyze::analyze_all(&workspace));
    let mut applied: Vec<(PathBuf, String)> = Vec::new();
    for id in &args.apply {
        match apply_fix(
            &workspace,
            tree(),
            &report,
            &failures,
            &normal_id(id),
            &run_id,
        ) {
            Ok(done) => applied.push(done),
            Err(err) => {
                restore(&applied)?;
                return Err(err);
            }
        }
    }
    // The tests to check in: the kept findings', and with --keep-all-passing every passing one.
    let mut names: Vec<(String, String)> = made
        .iter()
        .filter(|(_, verdict, _)| *verdict == Verdict::Kept)
        .filter_map(|(id, _, _)| {
            let finding = failures.iter().find(|f| f.id == *id)?;
            Some((id.clone(), finding.test.clone()?))
        })
        .collect();
    if args.keep_all_passing {
        for test in &report.tests {
            if test.outcome == crate::scratch::execute::Outcome::Passed {
                names.push(("passing".to_owned(), test.name.clone()));
            }
        }
    }
    let mut checked_in = None;
    if !names.is_empty() {
        let written = kept_tests(&workspace, tree(), &runs.join(&run_id), &report, &names)
            .and_then(|kept| {
                let features = global.feature_selection();
                crate::checkin::trial::check_in(
                    &workspace,
                    &features,
                    &kept,
                    false,
                    &crate::progress::Progress::new("reconcile", global.quiet),
                )
            });
        match written {
            Ok(written) => checked_in = Some(written),
            Err(err) => {
                // Nothing half done: the applied fixes go too.
                restore(&applied)?;
                return Err(err);
            }
        }
    }
    if !made.is_empty() {
        decisions.save(&workspace.root)?;
        if config.ledger != Some(false) {
            let rows: Vec<crate::ledger::Row> = made
                .iter()
                .map(|(id, verdict, function)| crate::ledger::Row {
                    kind: "decision".into(),
                    run_id: run_id.clone(),
                    timestamp: crate::ledger::now(),
                    engine: report.engine.clone(),
                    finding: id.clone(),
                    decision: verdict.status().to_owned(),
                    function: function.clone(),
                    reason: decisions
                        .by_id
                        .get(id)
                        .map(|d| d.reason.clone())
                        .unwrap_or_default(),
                    ..crate::ledger::Row::default()
                })
                .collect();
            // The decisions are recorded: a ledger that cannot take their rows is said, not
            // fatal (as for a review).
            if let Err(err) = crate::ledger::append(&crate::ledger::path(&workspace.root), &rows) {
                eprintln!("warning: the ledger was not written: {err:#}");
            }
        }
    }

    let listed: Vec<Listed> = failures
        .iter()
        .map(|f| Listed {
            id: f.id.clone(),
            function: f.function.clone(),
            verdict: f.verdict,
            message: f.message.lines().next().map(str::to_owned),
            location: f.location.clone(),
            test: f.test.clone(),
            reproduce: f.reproduce.clone(),
            // The decisions as they are now: one removed since the review is undecided.
            status: match decisions.decision(&f.id) {
                Some(decided) => decided.into(),
                None if f.status == Status::Known => Status::Known,
                None => Status::New,
            },
            fix: f.fix.clone(),
        })
        .collect();
    let text = match args.format {
        ReconcileFormat::Json => {
            let mut text = serde_json::to_string_pretty(&json!({
                "schema": "dualtrack.reconcile/v1",
                "run_id": run_id,
                "decided": made.iter().map(|(id, verdict, _)| json!({"id": id, "decision": verdict.status()})).collect::<Vec<_>>(),
                "checked_in": checked_in.as_ref().map(|w| json!({"files": w.files, "tests": w.tests})),
                "findings": listed,
            }))?;
            text.push('\n');
            text
        }
        ReconcileFormat::Human => {
            let mut text = String::new();
            if let Some(written) = &checked_in {
                if written.tests.is_empty() {
                    text.push_str("nothing new to check in: the tests are there already\n");
                } else {
                    let _ = writeln!(
                        text,
                        "checked in {} ({}): {}",
                        crate::output::plural(written.tests.len(), "test"),
                        written.files.join(", "),
                        written.tests.join(", ")
                    );
                }
                for skipped in &written.skipped {
                    let _ = writeln!(text, "left out {skipped}");
                }
                text.push('\n');
            }
            text.push_str(&human(&run_id, &listed, &made, &workspace.root));
            text
        }
    };
    super::emit(global, &text, Styling::Plain)?;
    Ok(ExitCode::Clean)
}

/// The run directory's `report.json`: `run` (an id), else the one `runs/latest` names.
fn read_run(runs: &Path, run: Option<&str>) -> anyhow::Result<(String, ReviewDocument)> {
    let id = match run {
        Some(id) => id.trim().to_owned(),
        None => std::fs::read_to_string(runs.join("latest"))
            .map(|text| text.trim().to_owned())
            .map_err(|_| {
                InputError::new(format!(
                    "no review has run here yet ({} has no `latest`): run `cargo dualtrack review` first",
                    runs.display()
                ))
            })?,
    };
    if id.is_empty() || id.contains(['/', '\\']) || id == ".." {
        return Err(
            InputError::new(format!("`{id}` is not a run id (such as r1796219876-7308)")).into(),
        );
    }
    let path: PathBuf = runs.join(&id).join("report.json");
    let text = std::fs::read_to_string(&path).map_err(|err| {
        InputError::new(format!(
            "cannot read {}: {err} (`ls {}` lists the runs kept)",
            path.display(),
            runs.display()
        ))
    })?;
    let report: ReviewDocument = serde_json::from_str(&text).map_err(|err| {
        InputError::new(format!("{}: not a review report: {err}", path.display()))
    })?;
    Ok((id, report))
}

/// Hold `<target-dir>/dualtrack/reconcile.lock` until dropped, waiting for another reconcile
/// to finish (the lock lives with the build, not in the committed `.dualtrack/`).
fn lock_reconcile(target: &Path) -> anyhow::Result<std::fs::File> {
    let dir = target.join("dualtrack");
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let path = dir.join("reconcile.lock");
    let file = std::fs::File::create(&path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    file.lock()
        .with_context(|| format!("failed to lock {}", path.display()))?;
    Ok(file)
}

/// Put files back as they were (applied fixes, when what followed failed).
fn restore(files: &[(PathBuf, String)]) -> anyhow::Result<()> {
    for (path, original) in files.iter().rev() {
        crate::output::write_atomically(path, original)?;
    }
    Ok(())
}

/// What the human chose for one finding at the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Choice {
    Keep,
    /// With the reason given (maybe none).
    Accept(String),
    Apply,
    Later,
}

/// Show each finding (the function, verdict, message and place, the input, the spec item, the
/// test, a verified fix) and read a key: keep, accept (then a reason), apply (when there is a
/// verified fix), later, skip, quit. Nothing is written until the walk ends.
fn walk(
    findings: &[&Finding],
    report: &ReviewDocument,
    input: &mut dyn std::io::BufRead,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Vec<(String, Choice)>> {
    let mut choices = Vec::new();
    let count = findings.len();
    for (index, finding) in findings.iter().enumerate() {
        let id = finding.id.clone();
        let fix = report.verified_fix(finding.function_name());
        writeln!(
            out,
            "\n[{}/{count}] {id} {} {}",
            index + 1,
            finding.verdict.as_str(),
            finding.function_name()
        )?;
        writeln!(
            out,
            "    {} at {}",
            finding.message.lines().next().unwrap_or_default(),
            finding.location.as_deref().unwrap_or_default()
        )?;
        if let Some(snippet) = &finding.snippet {
            writeln!(out, "    | {snippet}")?;
        }
        if let Some(input) = &finding.input {
            writeln!(out, "    input: {input}")?;
        }
        if let Some(item) = &finding.item {
            writeln!(out, "    spec item: {item}")?;
        }
        writeln!(
            out,
            "    test: {}",
            finding.test.as_deref().unwrap_or_default()
        )?;
        if let Some(fix) = fix {
            writeln!(
                out,
                "    verified fix: {}\n{}",
                fix.explanation.as_deref().unwrap_or_default(),
                fix.diff.as_deref().unwrap_or_default()
            )?;
        }
        let keys = if fix.is_some() {
            "[k]eep the test  [a]ccept the code  a[p]ply the fix  fix [l]ater  [s]kip  [q]uit"
        } else {
            "[k]eep the test  [a]ccept the code  fix [l]ater  [s]kip  [q]uit"
        };
        loop {
            write!(out, "    {keys} > ")?;
            out.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                return Ok(choices);
            }
            let choice = match line.trim().to_lowercase().as_str() {
                "k" | "keep" => Choice::Keep,
                "a" | "accept" => {
                    write!(out, "    why is the code right? (optional) > ")?;
                    out.flush()?;
                    let mut reason = String::new();
                    input.read_line(&mut reason)?;
                    Choice::Accept(reason.trim().to_owned())
                }
                "p" | "apply" if fix.is_some() => Choice::Apply,
                "l" | "later" => Choice::Later,
                "s" | "skip" => break,
                "q" | "quit" => return Ok(choices),
                other => {
                    let apply = if fix.is_some() { "p, " } else { "" };
                    writeln!(
                        out,
                        "    `{other}` is not a choice: type k, a, {apply}l, s or q, then Enter"
                    )?;
                    continue;
                }
            };
            choices.push((id.clone(), choice));
            break;
        }
    }
    Ok(choices)
}

/// Put the run's verified fix for `id` in place in the user's file, after showing its diff;
/// the file's path and its text before.
fn apply_fix(
    workspace: &Workspace,
    analysis: &crate::analyze::Analysis,
    report: &ReviewDocument,
    failures: &[&Finding],
    id: &str,
    run_id: &str,
) -> anyhow::Result<(PathBuf, String)> {
    let finding = failures
        .iter()
        .find(|f| f.id == id)
        .ok_or_else(|| InputError::new(format!("{id} is not a failure of run {run_id}")))?;
    let function_path = finding.function_name();
    let fix = report.verified_fix(function_path).ok_or_else(|| {
        InputError::new(format!(
            "{id}: run {run_id} has no verified fix for {function_path} (a review with a model \
             engine proposes them)"
        ))
    })?;
    let function = analysis
        .functions
        .iter()
        .find(|f| f.path == function_path)
        .ok_or_else(|| InputError::new(format!("{function_path} is not in the crate any more")))?;
    let path = workspace.root.join(&function.file);
    let original = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let name = function_path.rsplit("::").next().unwrap_or(function_path);
    let patched = crate::generate::model::fix::apply_fix(
        &original,
        function.line,
        name,
        fix.code.as_deref().unwrap_or_default(),
    )
    .map_err(|why| {
        InputError::new(format!(
            "{id}: the fix no longer fits {} ({why}): review again",
            function.file
        ))
    })?;
    eprint!(
        "applying the verified fix for {function_path}:\n{}",
        crate::generate::model::fix::unified_diff(&function.file, &original, &patched)
    );
    crate::output::write_atomically(&path, &patched)?;
    Ok((path, original))
}

/// The tests `names` (finding id or `passing`, test name) as the run wrote them, with the
/// functions they test and their `use` lines.
fn kept_tests(
    workspace: &Workspace,
    analysis: &crate::analyze::Analysis,
    run_dir: &Path,
    report: &ReviewDocument,
    names: &[(String, String)],
) -> anyhow::Result<Vec<crate::checkin::KeptTest>> {
    // Each test with the `use` lines of its module and whether a model wrote it.
    type Case = (crate::testfile::TestCase, Vec<String>, bool);
    let mut cases: std::collections::HashMap<String, Case> = std::collections::HashMap::new();
    // In the order they were written: a repair's module holds the version of a test that ran.
    let mut paths: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(run_dir)
        .with_context(|| format!("failed to read {}", run_dir.display()))?
        .flatten()
        .map(|entry| {
            let written = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (written, entry.path())
        })
        .collect();
    paths.sort();
    for (_, path) in paths {
        let is_module = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("dualtrack_") && n.ends_with(".rs"));
        if !is_module {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let Ok(module) = crate::testfile::parse_test_module(&text) else {
            continue;
        };
        let uses = crate::checkin::KeptTest::uses_of(&module.preamble);
        // A module the tool did not mark as the offline engine's is the model's.
        let by_model = module
            .header
            .as_ref()
            .and_then(|h| h["engine"].as_str())
            .is_none_or(|engine| engine != "offline");
        for case in module.tests {
            cases.insert(case.name.clone(), (case, uses.clone(), by_model));
        }
    }
    let mut kept = Vec::new();
    for (finding, name) in names {
        let (case, uses, by_model) = cases.get(name).ok_or_else(|| {
            InputError::new(format!(
                "the test `{name}` is not in {} any more: run the review again",
                run_dir.display()
            ))
        })?;
        let function = analysis
            .functions
            .iter()
            .find(|f| f.path == case.meta.function)
            .ok_or_else(|| {
                InputError::new(format!(
                    "`{}` (tested by `{name}`) is not in the crate any more",
                    case.meta.function
                ))
            })?;
        let outcome = report
            .tests
            .iter()
            .find(|t| t.name == *name)
            .map_or("passed", |t| t.outcome.as_str())
            .to_owned();
        let mut test = crate::checkin::KeptTest::new(
            workspace,
            analysis,
            function,
            finding.clone(),
            case.code.clone(),
            outcome,
            uses.clone(),
        );
        test.by_model = *by_model;
        kept.push(test);
    }
    Ok(kept)
}

/// The run's failures: what a human decides on (spec gaps are the spec's business).
fn failures(report: &ReviewDocument) -> Vec<&Finding> {
    report.failures().collect()
}

/// A failure as `reconcile` lists it (`dualtrack.reconcile/v1`'s `findings`).
#[derive(Debug, Serialize)]
struct Listed {
    id: String,
    function: Option<String>,
    verdict: crate::document::Verdict,
    /// The message's first line.
    message: Option<String>,
    location: Option<String>,
    test: Option<String>,
    reproduce: Option<String>,
    /// As decided now: a decision removed since the review is undecided again.
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

/// `F-` and the hex in lower case, as reports print ids.
fn normal_id(id: &str) -> String {
    match id
        .trim()
        .strip_prefix("F-")
        .or_else(|| id.trim().strip_prefix("f-"))
    {
        Some(hex) => format!("F-{}", hex.to_ascii_lowercase()),
        None => id.trim().to_owned(),
    }
}

fn human(
    run_id: &str,
    listed: &[Listed],
    made: &[(String, Verdict, String)],
    root: &Path,
) -> String {
    let mut out = String::new();
    for (id, verdict, function) in made {
        let _ = writeln!(out, "{id} {function}: {}", verdict.status());
    }
    if !made.is_empty() {
        let _ = writeln!(
            out,
            "recorded in {}\n",
            crate::decisions::decisions_path(root).display()
        );
    }
    let open: Vec<&Listed> = listed.iter().filter(|f| !f.status.is_decided()).collect();
    let _ = writeln!(
        out,
        "run {run_id}: {}, {} undecided",
        crate::output::plural(listed.len(), "failure"),
        open.len()
    );
    for finding in listed {
        let _ = writeln!(
            out,
            "  {} {:<9} {} {}: {}",
            finding.id,
            finding.status.as_str(),
            finding.verdict.as_str(),
            finding.function.as_deref().unwrap_or_default(),
            finding.message.as_deref().unwrap_or_default()
        );
        if let Some(fix) = &finding.fix {
            let _ = writeln!(out, "      verified fix: git apply {fix}");
        }
    }
    if !open.is_empty() {
        out.push_str(
            "\ndecide with --keep ID (check its test in), --accept ID [--reason TEXT] (the \
             implementation is right) or --defer ID (fix later)\n",
        );
    }
    out
}

/// Whether the command line records decisions itself (no walk).
fn decides(args: &ReconcileArgs) -> bool {
    args.accept_all
        || args.keep_all_passing
        || !(args.keep.is_empty()
            && args.accept.is_empty()
            && args.defer.is_empty()
            && args.apply.is_empty())
}

/// Options that contradict each other: an error rather than one silently winning.
fn check_flags(args: &ReconcileArgs) -> Result<(), InputError> {
    if args.list && decides(args) {
        return Err(InputError::new(
            "--list only lists: drop it to record decisions, or drop the decisions to list",
        ));
    }
    if args.reason.is_some() && args.accept.is_empty() && !args.accept_all {
        return Err(InputError::new(
            "--reason goes with --accept ID or --accept-all: say which findings it is for",
        ));
    }
    // `--apply` keeps the test too, so with `--keep` it agrees.
    let lists: [(&str, &[String]); 3] = [
        (
            "--keep/--apply",
            &[args.keep.clone(), args.apply.clone()].concat(),
        ),
        ("--accept", &args.accept),
        ("--defer", &args.defer),
    ];
    for (n, (one, ids)) in lists.iter().enumerate() {
        for (other, others) in &lists[n + 1..] {
            if let Some(id) = ids
                .iter()
                .find(|id| others.iter().any(|o| normal_id(o) == normal_id(id)))
            {
                return Err(InputError::new(format!(
                    "{id} is given to both {one} and {other}: choose one decision for it"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn the_walk_reads_a_key_per_finding() {
        let finding = |id: &str, function: &str| -> Finding {
            serde_json::from_value(json!({"id": id, "kind": "failure", "function": function,
                   "verdict": "likely_bug", "message": "attempt to divide by zero",
                   "location": "src/lib.rs:3", "test": "t", "input": "f(0)"}))
            .unwrap()
        };
        let findings = [
            finding("F-1", "c::f"),
            finding("F-2", "c::g"),
            finding("F-3", "c::h"),
            finding("F-4", "c::i"),
            finding("F-5", "c::j"),
        ];
        let findings = findings.each_ref();
        let report: ReviewDocument =
            serde_json::from_value(json!({"fixes": [{"function": "c::g", "verified": true,
                                                     "explanation": "guard", "diff": "-a\n+b\n"}]}))
            .unwrap();
        // F-1: a wrong key, then keep; F-2: apply; F-3: accept with a reason; F-4: skip;
        // F-5: later.
        let mut input = "x\nK\np\na\nthe caller checks\ns\nl\n".as_bytes();
        let mut shown = Vec::new();
        let choices = walk(&findings, &report, &mut input, &mut shown).unwrap();
        assert_eq!(
            choices,
            [
                ("F-1".to_owned(), Choice::Keep),
                ("F-2".to_owned(), Choice::Apply),
                (
                    "F-3".to_owned(),
                    Choice::Accept("the caller checks".to_owned())
                ),
                ("F-5".to_owned(), Choice::Later),
            ]
        );
        let shown = String::from_utf8(shown).unwrap();
        assert!(shown.contains("[2/5] F-2 likely_bug c::g"), "{shown}");
        assert!(shown.contains("verified fix: guard\n-a\n+b\n"), "{shown}");
        assert!(
            shown.contains("`x` is not a choice: type k, a, l, s or q, then Enter"),
            "{shown}"
        );
        // Apply is offered only where there is a fix; quit keeps what was chosen.
        let mut input = "p\nq\n".as_bytes();
        let choices = walk(&findings, &report, &mut input, &mut Vec::new()).unwrap();
        assert!(choices.is_empty());
    }

    #[test]
    fn ids_are_read_as_reports_print_them() {
        assert_eq!(normal_id(" F-AA72606B87"), "F-aa72606b87");
        assert_eq!(normal_id("f-aa72606b87"), "F-aa72606b87");
        assert_eq!(normal_id("nonsense"), "nonsense");
    }

    #[test]
    fn a_run_id_cannot_leave_the_runs_directory() {
        let dir = tempfile::tempdir().unwrap();
        for id in ["../x", "a/b", ".."] {
            let err = read_run(dir.path(), Some(id)).unwrap_err().to_string();
            assert!(err.contains("is not a run id"), "{err}");
        }
        let err = read_run(dir.path(), None).unwrap_err().to_string();
        assert!(err.contains("run `cargo dualtrack review` first"), "{err}");
    }
}
