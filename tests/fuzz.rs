//! The fuzz stage, run as a user runs it: `review` fuzzes the functions in scope by default
//! and a crash becomes a confirmed, minimized no-panic test that `reconcile --keep` checks in;
//! `fuzz` runs for a number of inputs with a seed and gives the same findings again.

mod util;

use serde_json::Value;
use util::{copy_fixture, dualtrack, users_cargo_test};

/// `ARGS --format json --fail-on never` on the crate in `dir`: the document.
fn run(dir: &tempfile::TempDir, args: &[&str]) -> Value {
    let output = dualtrack()
        .args(args)
        .args(["--format", "json", "--fail-on", "never", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let document = util::checked(&output.stdout).unwrap_or_else(|_| panic!("{stderr}"));
    util::assert_matches_schema("review.v1.schema.json", &document);
    document
}

/// The fuzz stage's tests of a document: (name, input, outcome).
fn fuzz_tests(document: &Value) -> Vec<(String, String, String)> {
    document["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["category"] == "fuzz")
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["input"].as_str().unwrap_or_default().to_owned(),
                t["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn review_fuzzes_by_default_and_a_crash_becomes_a_test_reconcile_keeps() {
    let dir = copy_fixture("records");
    // The offline engine's own values never put a number before `swap`.
    let without = run(&dir, &["review", "--all-functions", "--fuzz-runs", "0"]);
    assert!(without["fuzz"].is_null(), "{without:#}");
    assert_eq!(without["counts"]["panicked"], 0, "{without:#}");

    let document = run(&dir, &["review", "--all-functions"]);
    let tests = fuzz_tests(&document);
    // One crash, minimized to the shortest input that fails the same way, confirmed by a run
    // of its own.
    assert_eq!(tests.len(), 1, "{document:#}");
    let (name, input, outcome) = &tests[0];
    // `rpn("0 swap")`, the separator any whitespace.
    assert!(
        input.starts_with("rpn(\"0") && input.ends_with("swap\")") && input.len() <= 14,
        "{input}"
    );
    assert_eq!(outcome, "panicked");
    let finding = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["test"] == name.as_str())
        .unwrap_or_else(|| panic!("{document:#}"));
    assert_eq!(finding["kind"], "failure");
    assert!(
        finding["reproduce"]
            .as_str()
            .unwrap()
            .contains("dualtrack_fuzz.rs"),
        "{finding:#}"
    );
    // What each harness did, under the default slice and seed.
    let harnesses = document["fuzz"]["harnesses"].as_array().unwrap();
    let rpn = harnesses
        .iter()
        .find(|h| h["function"] == "records::rpn")
        .unwrap_or_else(|| panic!("{document:#}"));
    // The whole slice, unless the review's 2 s per function ran out first (a loaded machine).
    assert!(
        rpn["runs"] == 200_000 || rpn["elapsed_ms"].as_u64().unwrap() >= 2000,
        "{rpn:#}"
    );
    assert_eq!(rpn["outcome"], "passed");
    assert_eq!(document["fuzz"]["seed"], 0);
    // The inputs that reached something new are kept for the next run.
    let corpus = dir.path().join("target/dualtrack/corpus/rpn_fuzz_harness");
    assert!(
        std::fs::read_dir(&corpus).unwrap().count() > 0,
        "{}",
        corpus.display()
    );

    // Kept: checked in as a plain test that fails under the user's own `cargo test`.
    let id = finding["id"].as_str().unwrap();
    let kept = dualtrack()
        .args(["reconcile", "--keep", id, "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        kept.status.success(),
        "{}",
        String::from_utf8_lossy(&kept.stderr)
    );
    let checked_in = std::fs::read_to_string(dir.path().join("tests/dualtrack_lib.rs")).unwrap();
    assert!(checked_in.contains(input.as_str()), "{checked_in}");
    let cargo = users_cargo_test(&dir.path().join("Cargo.toml"), &[]);
    let said = String::from_utf8_lossy(&cargo.stdout);
    assert!(
        !cargo.status.success() && said.contains(name.as_str()),
        "{said}"
    );
}

#[test]
fn fuzz_runs_with_a_seed_gives_the_same_findings_and_clean_forgets_the_corpus() {
    let dir = copy_fixture("records");
    let args = [
        "fuzz", "--fn", "rpn", "--runs", "100000", "--seed", "7", "--fresh",
    ];
    let first = run(&dir, &args);
    let again = run(&dir, &args);
    let inputs = |document: &Value| -> Vec<String> {
        fuzz_tests(document).into_iter().map(|t| t.1).collect()
    };
    assert_eq!(inputs(&first), ["rpn(\"0 swap\")"], "{first:#}");
    assert_eq!(inputs(&first), inputs(&again));
    let ids = |document: &Value| -> Vec<Value> {
        document["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].clone())
            .collect()
    };
    assert_eq!(ids(&first), ids(&again));
    assert_eq!(first["fuzz"]["seed"], 7);
    assert_eq!(first["fuzz"]["fresh"], true);
    // Only the fuzz stage ran: no test of the engine's.
    assert!(
        first["tests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["category"] == "fuzz"),
        "{first:#}"
    );
    // Fresh: nothing saved. Then a run that saves, and `clean` that forgets it.
    let corpus = dir.path().join("target/dualtrack/corpus");
    assert!(!corpus.exists());
    run(&dir, &["fuzz", "--fn", "rpn", "--runs", "3000"]);
    assert!(corpus.exists());
    let cleaned = dualtrack()
        .args(["clean", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(cleaned.status.success());
    assert!(!corpus.exists());
}

/// A crash an earlier review confirmed runs again with the next review's first build: found
/// again, it needs no build of its own to confirm; still failing, it stays a finding; fixed,
/// it is forgotten.
#[test]
fn a_confirmed_crash_is_checked_again_in_the_next_review_s_build() {
    let dir = copy_fixture("records");
    let scope = ["review", "--fn", "records::rpn"];
    let first = run(&dir, &scope);
    let crashes = dir
        .path()
        .join("target/dualtrack/corpus/rpn_fuzz_harness.crashes.json");
    assert!(crashes.is_file(), "{first:#}");
    let first_tests = fuzz_tests(&first);
    assert_eq!(first_tests.len(), 1, "{first:#}");

    // The same crash, reported from the known crashes' module: no confirming build.
    let second = run(&dir, &scope);
    let tests = fuzz_tests(&second);
    assert_eq!(tests.len(), 1, "{second:#}");
    assert_eq!(tests[0].1, first_tests[0].1, "the same input");
    assert_eq!(tests[0].2, "panicked");
    let finding = second["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["test"] == tests[0].0.as_str())
        .unwrap_or_else(|| panic!("{second:#}"));
    assert!(
        finding["reproduce"]
            .as_str()
            .unwrap()
            .contains("dualtrack_fuzz_known.rs"),
        "{finding:#}"
    );
    // The harness went on from its saved corpus, for the shorter slice.
    let rpn = &second["fuzz"]["harnesses"][0];
    assert!(
        rpn["runs"] == 200_000 || rpn["elapsed_ms"].as_u64().unwrap() < 2000,
        "{rpn:#}"
    );

    // Fixed: the known test passes, nothing is reported, and the crash is forgotten.
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    let fixed = text.replace("if stack.is_empty() {", "if stack.len() < 2 {");
    assert_ne!(text, fixed, "the fixture changed: update the fix");
    std::fs::write(&lib, fixed).unwrap();
    let third = run(&dir, &scope);
    assert!(fuzz_tests(&third).is_empty(), "{third:#}");
    assert!(!crashes.exists());
}
