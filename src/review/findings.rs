//! Findings of a run and the `dualtrack.review/v1` document: outcomes counted, failing and
//! dropped tests as findings with stable ids.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::decisions::Decisions;
use crate::scratch::RunReport;
use crate::scratch::execute::Outcome;

pub fn count(report: &RunReport, outcome: Outcome) -> usize {
    report
        .results
        .iter()
        .filter(|r| r.outcome == outcome)
        .count()
}

/// Outcomes that are findings (exit 1). A dropped test is one too: the files were given by
/// name, and a test that silently did not run must not pass a CI step.
pub fn is_failure(outcome: Outcome) -> bool {
    !matches!(outcome, Outcome::Passed)
}

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
pub fn review_document(report: &RunReport, engine: &str, scope: &str) -> serde_json::Value {
    let count = |outcome: Outcome| count(report, outcome);
    let tests: Vec<serde_json::Value> = report
        .results
        .iter()
        .map(|r| {
            json!({
                "name": r.name, "engine": r.engine, "function": r.function, "targets": r.targets,
                "spec_items": r.spec_items, "category": r.category, "oracle": r.oracle,
                "input": r.input, "outcome": r.outcome, "message": r.message, "location": r.location,
            })
        })
        .collect();
    let findings: Vec<serde_json::Value> = report
        .results
        .iter()
        .filter(|r| is_failure(r.outcome))
        .map(|r| {
            let kind = if r.outcome == Outcome::Dropped {
                "dropped_test"
            } else {
                "failure"
            };
            let verdict = verdict(r.outcome, !r.spec_items.is_empty());
            let oracle = r.oracle.clone().unwrap_or_default();
            let input = r.input.clone().unwrap_or_else(|| r.name.clone());
            let mut message = r.message.clone();
            if let Some(error) = r.compile_errors.first() {
                message = format!("{message}: {error}");
            }
            // What failed, stably: the site (else the file without the line, which moves with
            // any edit above it), and the message's class.
            // An assertion in the generated test itself (a spec contract, an oracle's check)
            // is placed in this run's module, whose path changes with every run: the test is
            // the place then, and its input and oracle already say which.
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
            let mut finding = json!({
                "id": failure_id(kind, &r.function, &oracle, &input, &failure),
                "kind": kind, "function": r.function, "test": r.name, "verdict": verdict,
                "status": "new", "message": message, "location": r.location,
                "input": r.input, "site": r.targets.first(), "item": r.spec_items.first(),
                "oracle": r.oracle,
            });
            if let Some(reached) = reached {
                finding["reached"] = json!(reached);
            }
            finding
        })
        .collect();
    json!({
        "schema": "dualtrack.review/v1",
        "run_id": run_id(),
        "scope": scope,
        "engine": engine,
        "counts": {
            "generated": report.results.len(),
            "compiled": report.results.len() - count(Outcome::Dropped),
            "passed": count(Outcome::Passed), "failed": count(Outcome::Failed),
            "panicked": count(Outcome::Panicked), "flaky": count(Outcome::Flaky),
            "timed_out": count(Outcome::TimedOut), "crashed": count(Outcome::Crashed),
            "dropped": count(Outcome::Dropped),
            // Built, not run: the time budget ran out first.
            "cut": report.cut,
        },
        "tests": tests,
        "findings": findings,
        "usage": {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0},
        "sandbox": report.sandbox,
        "interrupted": report.interrupted,
        "timings": report.timings,
    })
}

/// The hint a finding carries: a panic, hang or crash (the engine only expects "no panic"
/// where neither doc nor spec allows one) or a broken spec contract is `likely_bug`; an
/// expectation with no spec item behind it is the test's word against the code's
/// (`check_test`).
fn verdict(outcome: Outcome, from_spec: bool) -> &'static str {
    match outcome {
        Outcome::Flaky => "flaky",
        Outcome::Failed if from_spec => "likely_bug",
        Outcome::Failed | Outcome::Dropped => "check_test",
        Outcome::Panicked | Outcome::TimedOut | Outcome::Crashed | Outcome::Passed => "likely_bug",
    }
}

/// What a failure inside the generated test is placed at, for its id.
const GENERATED_MODULE: &str = "the generated test";

/// Whether `file` is a module of generated tests in a run's directory (where a spec contract's
/// or an oracle's own assertion fails), not a source file of the crate.
pub fn in_generated_module(file: &str) -> bool {
    file.contains("dualtrack/runs/")
}

/// A report's place, `src/lib.rs:64`, as (`src/lib.rs`, 64).
pub fn split_location(location: &str) -> Option<(String, u32)> {
    let (file, line) = location.rsplit_once(':')?;
    Some((file.to_owned(), line.parse().ok()?))
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
pub fn collapse_duplicates(document: &mut Value) {
    let Some(findings) = document["findings"].as_array_mut() else {
        return;
    };
    let key = |f: &Value| -> Option<(String, String)> {
        if f["kind"] != "failure" {
            return None;
        }
        let function = f["function"].as_str().unwrap_or_default().to_owned();
        // Without a line (a time-out, a crash), the message with its numbers blanked: "did
        // not finish within 2004 ms" and "... 2005 ms" are one finding.
        let place = match f["location"].as_str() {
            // An oracle's assertion in the generated test itself (a range that does not
            // index its input, a value that does not parse back): one finding per oracle.
            Some(location) if in_generated_module(location) => {
                format!("oracle: {}", f["oracle"].as_str().unwrap_or_default())
            }
            Some(location) => location.to_owned(),
            None => format!(
                "message: {}",
                crate::decisions::message_signature(f["message"].as_str().unwrap_or_default())
            ),
        };
        Some((function, place))
    };
    let input_of = |f: &Value| f["input"].as_str().unwrap_or_default().to_owned();
    let mut groups: std::collections::HashMap<(String, String), Vec<usize>> =
        std::collections::HashMap::new();
    for (index, finding) in findings.iter().enumerate() {
        if let Some(key) = key(finding) {
            groups.entry(key).or_default().push(index);
        }
    }
    let mut dropped = vec![false; findings.len()];
    let mut duplicates: Vec<(usize, Vec<Value>)> = Vec::new();
    for members in groups.into_values().filter(|m| m.len() > 1) {
        let representative = *members
            .iter()
            .min_by_key(|&&i| {
                let input = input_of(&findings[i]);
                (input.len(), input)
            })
            .expect("a group has members");
        let others: Vec<Value> = members
            .iter()
            .filter(|&&i| i != representative)
            .map(|&i| {
                dropped[i] = true;
                json!({"id": findings[i]["id"], "test": findings[i]["test"],
                       "input": findings[i]["input"]})
            })
            .collect();
        duplicates.push((representative, others));
    }
    for (representative, others) in duplicates {
        findings[representative]["duplicates"] = Value::Array(others);
    }
    let mut index = 0;
    findings.retain(|_| {
        index += 1;
        !dropped[index - 1]
    });
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
        let Ok(document) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        for finding in document["findings"].as_array().into_iter().flatten() {
            let duplicates = finding["duplicates"].as_array().into_iter().flatten();
            ids.extend(
                std::iter::once(finding)
                    .chain(duplicates)
                    .filter_map(|f| f["id"].as_str().map(str::to_owned)),
            );
        }
    }
    ids
}

/// Each finding's `status`: its decision if it has one, else `known` when an earlier run
/// found it too, else `new`.
pub fn mark_status(document: &mut Value, decisions: &Decisions, seen: &HashSet<String>) {
    for finding in document["findings"].as_array_mut().into_iter().flatten() {
        // A collapsed finding answers to any of its tests' ids.
        let ids: Vec<String> = std::iter::once(&finding["id"])
            .chain(
                finding["duplicates"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| &d["id"]),
            )
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect();
        let decided = if finding["kind"] == "failure" {
            decisions
                .covering(
                    &ids,
                    finding["function"].as_str().unwrap_or_default(),
                    finding["message"].as_str().unwrap_or_default(),
                )
                .map(|d| d.decision.status())
        } else {
            ids.iter().find_map(|id| decisions.status(id))
        };
        let status = match decided {
            Some(decided) => decided,
            None if ids.iter().any(|id| seen.contains(id)) => "known",
            None => "new",
        };
        finding["status"] = json!(status);
    }
}

/// The command that runs a failing test alone, on each failure: `run-tests` on the run's
/// module the test came from (`sources`, by test name), that test only, with the run's
/// `global_options` (the manifest, the features: without them the test may be compiled out).
pub fn add_reproduce(
    document: &mut Value,
    global_options: &[String],
    sources: &HashMap<String, PathBuf>,
    cwd: &Path,
) {
    // Global options go after the subcommand: plain `cargo dualtrack` takes review's own.
    let options: String = global_options
        .iter()
        .map(|word| format!(" {}", shell_word(word)))
        .collect();
    for finding in document["findings"].as_array_mut().into_iter().flatten() {
        if finding["kind"] != "failure" {
            continue;
        }
        let Some(test) = finding["test"].as_str() else {
            continue;
        };
        let Some(module) = sources.get(test) else {
            continue;
        };
        let module = module.strip_prefix(cwd).unwrap_or(module);
        finding["reproduce"] = json!(format!(
            "cargo dualtrack run-tests {} --test {test}{options}",
            shell_word(&module.display().to_string())
        ));
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
        let ids: Vec<&str> = document["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
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
            review_document(&report, "offline", "test")["findings"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned()
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
        assert_eq!(verdict(Outcome::Panicked, false), "likely_bug");
        assert_eq!(verdict(Outcome::Failed, true), "likely_bug");
        assert_eq!(verdict(Outcome::Failed, false), "check_test");
        assert_eq!(verdict(Outcome::Flaky, true), "flaky");
        assert_eq!(verdict(Outcome::Dropped, true), "check_test");
    }

    #[test]
    fn status_comes_from_decisions_then_earlier_runs() {
        let mut document = json!({"findings": [
            {"id": "F-0000000001"}, {"id": "F-0000000002"}, {"id": "F-0000000003"}
        ]});
        let decisions =
            Decisions::parse("[F-0000000001]\ndecision = \"kept\"\n", Path::new("d.toml")).unwrap();
        let seen: HashSet<String> = ["F-0000000001".to_owned(), "F-0000000002".to_owned()].into();
        mark_status(&mut document, &decisions, &seen);
        let statuses: Vec<&str> = document["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["kept", "known", "new"]);
    }

    #[test]
    fn failures_at_one_line_are_one_finding_shown_by_the_shortest_input() {
        let mut document = json!({"findings": [
            {"id": "F-1", "kind": "failure", "function": "c::f", "location": "src/lib.rs:3",
             "input": "f(u64::MAX)", "test": "a", "message": "overflow"},
            {"id": "F-2", "kind": "failure", "function": "c::f", "location": "src/lib.rs:3",
             "input": "f(9)", "test": "b", "message": "overflow"},
            {"id": "F-3", "kind": "failure", "function": "c::f", "location": "src/lib.rs:8",
             "input": "f(0)", "test": "c", "message": "divide by zero"},
            {"id": "F-4", "kind": "failure", "function": "c::g", "location": "src/lib.rs:3",
             "input": "g(1)", "test": "d", "message": "overflow"},
            {"id": "F-5", "kind": "unspecified_site", "function": "c::f", "location": "src/lib.rs:3"},
            {"id": "F-6", "kind": "failure", "function": "c::h", "location": null,
             "input": "h(1)", "test": "e", "message": "did not finish within 2004 ms"},
            {"id": "F-7", "kind": "failure", "function": "c::h", "location": null,
             "input": "h(22)", "test": "f", "message": "did not finish within 2011 ms"},
        ]});
        collapse_duplicates(&mut document);
        let ids: Vec<&str> = document["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["F-2", "F-3", "F-4", "F-5", "F-6"]);
        assert_eq!(
            document["findings"][0]["duplicates"],
            json!([{"id": "F-1", "test": "a", "input": "f(u64::MAX)"}])
        );
        // A decision on a duplicate's id decides the finding.
        let decisions = Decisions::parse(
            "[F-0000000001]\ndecision = \"accepted\"\n",
            Path::new("d.toml"),
        )
        .unwrap();
        document["findings"][0]["duplicates"][0]["id"] = json!("F-0000000001");
        mark_status(&mut document, &decisions, &HashSet::new());
        assert_eq!(document["findings"][0]["status"], "accepted");
    }

    #[test]
    fn earlier_runs_are_read_from_their_reports() {
        let dir = tempfile::tempdir().unwrap();
        for (run, id) in [("r1-1", "F-0000000001"), ("r2-1", "F-0000000002")] {
            std::fs::create_dir_all(dir.path().join(run)).unwrap();
            std::fs::write(
                dir.path().join(run).join("report.json"),
                json!({"findings": [{"id": id}]}).to_string(),
            )
            .unwrap();
        }
        let seen = earlier_finding_ids(dir.path(), "r2-1");
        assert!(seen.contains("F-0000000001") && !seen.contains("F-0000000002"));
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("target/x.rs"), "target/x.rs");
        assert_eq!(shell_word("my dir/it's.rs"), "'my dir/it'\\''s.rs'");
    }
}
