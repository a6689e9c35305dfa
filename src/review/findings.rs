//! Findings of a run and the `dualtrack.review/v1` document: outcomes counted, failing and
//! dropped tests as findings with stable ids.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::decisions::Decisions;
use crate::document::split_location;
use crate::document::{
    Counts, Duplicate, Finding, FindingKind, ReviewDocument, Status, TestRecord, Verdict,
    per_function,
};
use crate::scratch::execute::Outcome;
use crate::scratch::{RunReport, TestResult};

/// `F-` and the first 10 hex of the hash of kind, function, oracle and input.
pub fn finding_id(kind: &str, function: &str, oracle: &str, input: &str) -> String {
    failure_id(kind, function, oracle, input, "")
}

/// [`finding_id`] of a failure, told apart by what failed: the site it failed at (or its
/// place) and the class of its message (numbers and quoted values blanked). Two failures of
/// one input at two places, or of two kinds, are two findings; the same failure in the next
/// run is the same one.
pub fn failure_id(kind: &str, function: &str, oracle: &str, input: &str, failure: &str) -> String {
    let mut parts = vec![kind, function, oracle, input];
    if !failure.is_empty() {
        parts.push(failure);
    }
    let digest = Sha256::digest(parts.join("\0").as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("F-{hex}")
}

/// The `dualtrack.review/v1` document of a run, with its scope (`run-tests`, ...).
pub fn review_document(report: &RunReport, engine: &str, scope: &str) -> ReviewDocument {
    let tests: Vec<TestRecord> = report
        .results
        .iter()
        .map(|r| TestRecord {
            name: r.name.clone(),
            engine: r.engine.clone(),
            function: r.function.clone(),
            targets: r.targets.clone(),
            spec_items: r.spec_items.clone(),
            category: r.category.clone(),
            oracle: r.oracle.clone(),
            input: r.input.clone(),
            outcome: r.outcome,
            message: r.message.clone(),
            location: r.location.clone(),
            reached: r.reached.clone(),
        })
        .collect();
    let findings = report
        .results
        .iter()
        .filter(|r| r.outcome.is_failure())
        .map(finding_of)
        .collect();
    let mut document = ReviewDocument::empty(&run_id(), scope, engine);
    document.counts = Counts::of(report);
    document.per_function = per_function(&tests);
    document.tests = tests;
    document.findings = findings;
    document.sandbox = Some(report.sandbox.clone());
    document.interrupted = report.interrupted;
    document.timings = report.timings;
    document
}

/// The finding of a test that did not pass.
fn finding_of(r: &TestResult) -> Finding {
    let kind = if r.outcome == Outcome::Dropped {
        FindingKind::DroppedTest
    } else {
        FindingKind::Failure
    };
    let oracle = r.oracle.clone().unwrap_or_default();
    let input = r.input.clone().unwrap_or_else(|| r.name.clone());
    let mut message = r.message.clone();
    if let Some(error) = r.compile_errors.first() {
        message = format!("{message}: {error}");
    }
    // What failed, stably: the site (else the file without the line, which moves with any
    // edit above it), and the message's class.
    // An assertion in the generated test itself (a spec contract, an oracle's check) is
    // placed in this run's module, whose path changes with every run: the test is the place
    // then, and its input and oracle already say which.
    let place = r.failure_site.clone().unwrap_or_else(|| {
        r.location
            .as_deref()
            .and_then(split_location)
            .map(|(file, _)| file)
            .map(|file| {
                if in_generated_module(&file) {
                    GENERATED_MODULE.to_owned()
                } else {
                    file
                }
            })
            .unwrap_or_default()
    });
    let failure = format!(
        "{place}\0{}",
        crate::decisions::message_signature(&r.message)
    );
    // A private function a public one was called to reach: the finding names both.
    let reached = r
        .failure_site
        .as_deref()
        .and_then(|site| site.split_once('#'))
        .map(|(function, _)| function)
        .filter(|function| *function != r.function);
    Finding {
        id: failure_id(kind.as_str(), &r.function, &oracle, &input, &failure),
        kind,
        function: Some(r.function.clone()),
        test: Some(r.name.clone()),
        verdict: verdict(r.outcome, !r.spec_items.is_empty()),
        status: Status::New,
        message,
        location: r.location.clone(),
        site: r.targets.first().cloned(),
        item: r.spec_items.first().cloned(),
        input: r.input.clone(),
        oracle: r.oracle.clone(),
        reached: reached.map(str::to_owned),
        snippet: None,
        reproduce: None,
        fix: None,
        duplicates: Vec::new(),
    }
}

/// The hint a finding carries: a panic, hang or crash (the engine only expects "no panic"
/// where neither doc nor spec allows one) or a broken spec contract is `likely_bug`; an
/// expectation with no spec item behind it is the test's word against the code's
/// (`check_test`).
fn verdict(outcome: Outcome, from_spec: bool) -> Verdict {
    match outcome {
        Outcome::Flaky => Verdict::Flaky,
        Outcome::Failed if from_spec => Verdict::LikelyBug,
        Outcome::Failed | Outcome::Dropped => Verdict::CheckTest,
        Outcome::Panicked | Outcome::TimedOut | Outcome::Crashed | Outcome::Passed => {
            Verdict::LikelyBug
        }
    }
}

/// What a failure inside the generated test is placed at, for its id.
const GENERATED_MODULE: &str = "the generated test";

/// Whether `file` is a module of generated tests in a run's directory (where a spec contract's
/// or an oracle's own assertion fails), not a source file of the crate.
pub fn in_generated_module(file: &str) -> bool {
    file.contains("dualtrack/runs/")
}

/// A run id that sorts by time: seconds since the epoch and the process id.
pub fn run_id() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("r{seconds}-{}", std::process::id())
}

/// One finding per bug: failures of one function at the same panicking line (or, without
/// a line, with the same message) are one finding, shown by the test with the shortest input
/// (so its id stays put from run to run), the others listed under `duplicates`.
pub fn collapse_duplicates(findings: &mut Vec<Finding>) {
    let key = |f: &Finding| -> Option<(String, String)> {
        if f.kind != FindingKind::Failure {
            return None;
        }
        // Without a line (a time-out, a crash), the message with its numbers blanked: "did
        // not finish within 2004 ms" and "... 2005 ms" are one finding.
        let place = match f.location.as_deref() {
            // An oracle's assertion in the generated test itself (a range that does not
            // index its input, a value that does not parse back): one finding per oracle.
            Some(location) if in_generated_module(location) => {
                format!("oracle: {}", f.oracle.as_deref().unwrap_or_default())
            }
            Some(location) => location.to_owned(),
            None => format!(
                "message: {}",
                crate::decisions::message_signature(&f.message)
            ),
        };
        Some((f.function_name().to_owned(), place))
    };
    let input_of = |f: &Finding| f.input.clone().unwrap_or_default();
    let mut groups: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (index, finding) in findings.iter().enumerate() {
        if let Some(key) = key(finding) {
            groups.entry(key).or_default().push(index);
        }
    }
    let mut dropped = vec![false; findings.len()];
    let mut duplicates: Vec<(usize, Vec<Duplicate>)> = Vec::new();
    for members in groups.into_values().filter(|m| m.len() > 1) {
        let representative = *members
            .iter()
            .min_by_key(|&&i| {
                let input = input_of(&findings[i]);
                (input.len(), input)
            })
            .expect("a group has members");
        let others: Vec<Duplicate> = members
            .iter()
            .filter(|&&i| i != representative)
            .map(|&i| {
                dropped[i] = true;
                Duplicate {
                    id: findings[i].id.clone(),
                    test: findings[i].test.clone().unwrap_or_default(),
                    input: findings[i].input.clone(),
                }
            })
            .collect();
        duplicates.push((representative, others));
    }
    for (representative, others) in duplicates {
        findings[representative].duplicates = others;
    }
    let mut index = 0;
    findings.retain(|_| {
        index += 1;
        !dropped[index - 1]
    });
}

/// What [`earlier_finding_ids`] reads of a report: each finding's id and its duplicates'.
#[derive(serde::Deserialize)]
struct FindingIds {
    #[serde(default)]
    findings: Vec<IdOf>,
}

#[derive(serde::Deserialize)]
struct IdOf {
    id: String,
    #[serde(default)]
    duplicates: Vec<IdOf>,
}

/// Ids of the findings of earlier runs still in the runs directory: a finding among them is
/// `known` (seen before), not `new`.
pub fn earlier_finding_ids(runs_dir: &Path, current: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        return ids;
    };
    for entry in entries.flatten() {
        if entry.file_name() == current {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path().join("report.json")) else {
            continue;
        };
        // Only the ids are read: an older or partial report still counts what it found.
        let Ok(document) = serde_json::from_str::<FindingIds>(&text) else {
            continue;
        };
        for finding in document.findings {
            ids.insert(finding.id);
            ids.extend(finding.duplicates.into_iter().map(|d| d.id));
        }
    }
    ids
}

/// Each finding's `status`: its decision if it has one, else `known` when an earlier run
/// found it too, else `new`.
pub fn mark_status(findings: &mut [Finding], decisions: &Decisions, seen: &HashSet<String>) {
    for finding in findings {
        // A collapsed finding answers to any of its tests' ids.
        let ids: Vec<String> = finding.ids().map(str::to_owned).collect();
        let decided = if finding.kind == FindingKind::Failure {
            decisions
                .covering(&ids, finding.function_name(), &finding.message)
                .map(|d| d.decision)
        } else {
            ids.iter().find_map(|id| decisions.decision(id))
        };
        finding.status = match decided {
            Some(decided) => decided.into(),
            None if ids.iter().any(|id| seen.contains(id)) => Status::Known,
            None => Status::New,
        };
    }
}

/// The command that runs a failing test alone, on each failure: `run-tests` on the run's
/// module the test came from (`sources`, by test name), that test only, with the run's
/// `global_options` (the manifest, the features: without them the test may be compiled out).
pub fn add_reproduce(
    findings: &mut [Finding],
    global_options: &[String],
    sources: &HashMap<String, PathBuf>,
    cwd: &Path,
) {
    // Global options go after the subcommand: plain `cargo dualtrack` takes review's own.
    let options: String = global_options
        .iter()
        .map(|word| format!(" {}", shell_word(word)))
        .collect();
    let invocation = invocation();
    for finding in findings {
        if finding.kind != FindingKind::Failure {
            continue;
        }
        let Some(test) = finding.test.as_deref() else {
            continue;
        };
        let Some(module) = sources.get(test) else {
            continue;
        };
        let module = module.strip_prefix(cwd).unwrap_or(module);
        finding.reproduce = Some(format!(
            "{invocation} run-tests {} --test {test}{options}",
            shell_word(&module.display().to_string())
        ));
    }
}

/// How a rerun line starts: `cargo dualtrack` when the tool is installed; under `cargo run` in
/// a checkout of it (which cargo says with this package's `CARGO_PKG_NAME` and
/// `CARGO_MANIFEST_DIR`), the same `cargo run`, so that the line works before any install.
fn invocation() -> String {
    let checkout = std::env::var("CARGO_PKG_NAME")
        .is_ok_and(|name| name == env!("CARGO_PKG_NAME"))
        .then(|| std::env::var("CARGO_MANIFEST_DIR").ok())
        .flatten();
    match checkout {
        Some(dir) => {
            let release = std::env::current_exe()
                .is_ok_and(|exe| exe.components().any(|c| c.as_os_str() == "release"));
            format!(
                "cargo run{} --manifest-path {} -- dualtrack",
                if release { " --release" } else { "" },
                shell_word(&format!("{dir}/Cargo.toml"))
            )
        }
        None => "cargo dualtrack".to_owned(),
    }
}

/// `text` as one shell word: as it is when it is plain, else single-quoted.
fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@%+,".contains(&b))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use serde_json::json;

    #[test]
    fn failures_of_one_input_at_two_sites_are_two_findings() {
        let result = |name: &str, site: &str, message: &str| -> crate::scratch::TestResult {
            serde_json::from_value(json!({
                "name": name, "engine": "model", "function": "c::f", "targets": [],
                "spec_items": [], "category": null, "oracle": null, "input": "f(&[])",
                "outcome": "panicked", "message": message, "location": "src/lib.rs:3",
                "failure_site": site, "elapsed_ms": 1, "code": "",
            }))
            .unwrap()
        };
        let report = RunReport {
            results: vec![
                result(
                    "a",
                    "c::f#panic1",
                    "index out of bounds: the len is 0 but the index is 0",
                ),
                result(
                    "b",
                    "c::f#panic2",
                    "index out of bounds: the len is 0 but the index is 0",
                ),
                result("c", "c::f#panic1", "attempt to divide by zero"),
                // The same failure as `a` in another run, its numbers aside.
                result(
                    "d",
                    "c::f#panic1",
                    "index out of bounds: the len is 3 but the index is 7",
                ),
            ],
            ..RunReport::default()
        };
        let document = review_document(&report, "model", "test");
        let ids: Vec<&str> = document.findings.iter().map(|f| f.id.as_str()).collect();
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[0], ids[2]);
        assert_eq!(ids[0], ids[3]);
    }

    #[test]
    fn a_failure_in_the_generated_test_keeps_its_id_from_run_to_run() {
        let in_run = |run: &str| -> crate::scratch::TestResult {
            serde_json::from_value(json!({
                "name": "f_contract", "engine": "offline", "function": "c::f", "targets": [],
                "spec_items": ["contracts-1"], "category": null, "oracle": "spec_contract",
                "input": "f(-5)", "outcome": "failed", "message": "assertion failed",
                "location": format!("/w/target/dualtrack/runs/{run}/dualtrack_offline.rs:12"),
                "failure_site": null, "elapsed_ms": 1, "code": "",
            }))
            .unwrap()
        };
        let id = |run: &str| {
            let report = RunReport {
                results: vec![in_run(run)],
                ..RunReport::default()
            };
            review_document(&report, "offline", "test").findings[0]
                .id
                .clone()
        };
        assert_eq!(id("r1796642663-28219"), id("r1796650000-4242"));
    }

    #[test]
    fn finding_ids_are_stable_and_distinct() {
        let a = finding_id("failure", "c::f", "no_panic", "\"\"");
        let at = |site: &str, message: &str| {
            failure_id(
                "failure",
                "c::f",
                "no_panic",
                "\"\"",
                &format!("{site}\0{message}"),
            )
        };
        // One input failing at two sites, or with two kinds of message: two findings.
        assert_ne!(
            at("c::f#panic1", "index out of bounds"),
            at("c::f#panic2", "index out of bounds")
        );
        assert_ne!(
            at("c::f#panic1", "overflow"),
            at("c::f#panic1", "divide by zero")
        );
        assert_eq!(at("c::f#panic1", "x"), at("c::f#panic1", "x"));
        assert_eq!(a, finding_id("failure", "c::f", "no_panic", "\"\""));
        assert_ne!(a, finding_id("failure", "c::f", "no_panic", "\"x\""));
        assert!(a.starts_with("F-") && a.len() == 12);
    }

    #[test]
    fn verdicts_follow_the_outcome_and_the_spec() {
        assert_eq!(verdict(Outcome::Panicked, false), Verdict::LikelyBug);
        assert_eq!(verdict(Outcome::Failed, true), Verdict::LikelyBug);
        assert_eq!(verdict(Outcome::Failed, false), Verdict::CheckTest);
        assert_eq!(verdict(Outcome::Flaky, true), Verdict::Flaky);
        assert_eq!(verdict(Outcome::Dropped, true), Verdict::CheckTest);
    }

    #[test]
    fn status_comes_from_decisions_then_earlier_runs() {
        let mut findings: Vec<Finding> = ["F-0000000001", "F-0000000002", "F-0000000003"]
            .into_iter()
            .map(|id| finding(id, "c::f", Some("src/lib.rs:3"), "f(1)", "m"))
            .collect();
        let decisions =
            Decisions::parse("[F-0000000001]\ndecision = \"kept\"\n", Path::new("d.toml")).unwrap();
        let seen: HashSet<String> = ["F-0000000001".to_owned(), "F-0000000002".to_owned()].into();
        mark_status(&mut findings, &decisions, &seen);
        let statuses: Vec<Status> = findings.iter().map(|f| f.status).collect();
        assert_eq!(statuses, [Status::Kept, Status::Known, Status::New]);
    }

    fn finding(
        id: &str,
        function: &str,
        location: Option<&str>,
        input: &str,
        message: &str,
    ) -> Finding {
        Finding {
            function: Some(function.into()),
            test: Some(format!("test_{id}")),
            location: location.map(str::to_owned),
            input: Some(input.into()),
            oracle: Some("no_panic".into()),
            ..Finding::new(
                id.into(),
                FindingKind::Failure,
                Verdict::LikelyBug,
                message.into(),
            )
        }
    }

    #[test]
    fn failures_at_one_line_are_one_finding_shown_by_the_shortest_input() {
        let mut findings = vec![
            finding(
                "F-1",
                "c::f",
                Some("src/lib.rs:3"),
                "f(u64::MAX)",
                "overflow",
            ),
            finding("F-2", "c::f", Some("src/lib.rs:3"), "f(9)", "overflow"),
            finding(
                "F-3",
                "c::f",
                Some("src/lib.rs:8"),
                "f(0)",
                "divide by zero",
            ),
            finding("F-4", "c::g", Some("src/lib.rs:3"), "g(1)", "overflow"),
            Finding {
                kind: FindingKind::UnspecifiedSite,
                ..finding("F-5", "c::f", Some("src/lib.rs:3"), "", "")
            },
            finding("F-6", "c::h", None, "h(1)", "did not finish within 2004 ms"),
            finding(
                "F-7",
                "c::h",
                None,
                "h(22)",
                "did not finish within 2011 ms",
            ),
        ];
        collapse_duplicates(&mut findings);
        let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["F-2", "F-3", "F-4", "F-5", "F-6"]);
        assert_eq!(
            findings[0].duplicates,
            [Duplicate {
                id: "F-1".into(),
                test: "test_F-1".into(),
                input: Some("f(u64::MAX)".into())
            }]
        );
        // A decision on a duplicate's id decides the finding.
        let decisions = Decisions::parse(
            "[F-0000000001]\ndecision = \"accepted\"\n",
            Path::new("d.toml"),
        )
        .unwrap();
        findings[0].duplicates[0].id = "F-0000000001".into();
        mark_status(&mut findings, &decisions, &HashSet::new());
        assert_eq!(findings[0].status, Status::Accepted);
    }

    #[test]
    fn earlier_runs_are_read_from_their_reports() {
        let dir = tempfile::tempdir().unwrap();
        for (run, id) in [("r1-1", "F-0000000001"), ("r2-1", "F-0000000002")] {
            std::fs::create_dir_all(dir.path().join(run)).unwrap();
            std::fs::write(
                dir.path().join(run).join("report.json"),
                json!({"findings": [{"id": id, "duplicates": [{"id": format!("{id}0")}]}]})
                    .to_string(),
            )
            .unwrap();
        }
        let seen = earlier_finding_ids(dir.path(), "r2-1");
        assert!(seen.contains("F-0000000001") && !seen.contains("F-0000000002"));
        assert!(
            seen.contains("F-00000000010"),
            "a duplicate's id counts too: {seen:?}"
        );
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("target/x.rs"), "target/x.rs");
        assert_eq!(shell_word("my dir/it's.rs"), "'my dir/it'\\''s.rs'");
    }
}
