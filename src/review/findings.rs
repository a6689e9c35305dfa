//! Findings of a run and the `dualtrack.review/v1` document: outcomes counted, failing and
//! dropped tests as findings with stable ids.

use serde_json::json;
use sha2::{Digest, Sha256};

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
    let digest = Sha256::digest([kind, function, oracle, input].join("\0").as_bytes());
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
                "name": r.name, "function": r.function, "targets": r.targets,
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
            let verdict = match r.outcome {
                Outcome::Flaky => "flaky",
                Outcome::Failed => "check_test",
                Outcome::Dropped => "check_test",
                _ => "likely_bug",
            };
            let oracle = r.oracle.clone().unwrap_or_default();
            let input = r.input.clone().unwrap_or_else(|| r.name.clone());
            let mut message = r.message.clone();
            if let Some(error) = r.compile_errors.first() {
                message = format!("{message}: {error}");
            }
            json!({
                "id": finding_id(kind, &r.function, &oracle, &input),
                "kind": kind, "function": r.function, "test": r.name, "verdict": verdict,
                "status": "new", "message": message, "location": r.location,
                "site": r.targets.first(), "item": r.spec_items.first(),
            })
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
        },
        "tests": tests,
        "findings": findings,
        "usage": {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0},
        "sandbox": report.sandbox,
        "interrupted": report.interrupted,
        "timings": report.timings,
    })
}

/// A run id that sorts by time: seconds since the epoch and the process id.
pub fn run_id() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("r{seconds}-{}", std::process::id())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn finding_ids_are_stable_and_distinct() {
        let a = finding_id("failure", "c::f", "no_panic", "\"\"");
        assert_eq!(a, finding_id("failure", "c::f", "no_panic", "\"\""));
        assert_ne!(a, finding_id("failure", "c::f", "no_panic", "\"x\""));
        assert!(a.starts_with("F-") && a.len() == 12);
    }
}
