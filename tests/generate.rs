//! `cargo dualtrack generate` on the fixture crates: the emitted code (snapshots), the JSON
//! document, files written with `--out`, skip reasons, bad input; and generate plus run-tests
//! finding the planted bugs of `fixtures/planted` with no finding on its correct functions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

mod util;
use util::{copy_fixture, dualtrack, fixture};

fn generate(crate_dir: &Path, extra: &[&str]) -> std::process::Output {
    dualtrack()
        .arg("generate")
        .args(extra)
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .output()
        .unwrap()
}

fn generate_json(crate_dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend(extra);
    let output = generate(crate_dir, &args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    util::checked(&output.stdout).unwrap()
}

#[test]
fn the_emitted_module_for_a_string_function() {
    let output = generate(
        &fixture("planted"),
        &["--fn", "planted::text::truncate_label"],
    );
    assert!(output.status.success());
    let code = String::from_utf8(output.stdout).unwrap();
    insta::assert_snapshot!("planted_truncate_label", code);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("generated 20 tests for 1 function ("),
        "{stderr}"
    );
}

#[test]
fn the_emitted_module_for_a_method_after_mutating_calls() {
    let output = generate(&fixture("planted"), &["--fn", "planted::tally::Tally::sum"]);
    assert!(output.status.success());
    let code = String::from_utf8(output.stdout).unwrap();
    insta::assert_snapshot!("planted_tally_sum", code);
}

#[test]
fn every_test_has_its_metadata_and_a_unique_name() {
    let doc = generate_json(&fixture("planted"), &["--max-tests", "0"]);
    assert_eq!(doc["schema"], "dualtrack.generate/v1");
    assert_eq!(doc["engine"], "offline");
    let tests = doc["tests"].as_array().unwrap();
    let names: BTreeSet<&str> = tests.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), tests.len(), "names are unique");
    let mut per_function: BTreeMap<&str, usize> = BTreeMap::new();
    for test in tests {
        let function = test["function"].as_str().unwrap();
        *per_function.entry(function).or_default() += 1;
        for field in ["category", "oracle", "input", "code", "module"] {
            assert!(test[field].is_string(), "{field} missing in {test:#}");
        }
        let code = test["code"].as_str().unwrap();
        assert!(code.contains("#[test]"), "{code}");
        assert!(code.contains("/// dualtrack: {"), "{code}");
        let oracle = test["oracle"].as_str().unwrap();
        assert!(
            ["no_panic", "deterministic", "spec_contract", "spec_variant"].contains(&oracle),
            "{oracle}"
        );
    }
    assert!(
        per_function.values().all(|&n| n <= 20),
        "at most --max-per-fn 20 tests per function: {per_function:?}"
    );
    // The spec's contract rows become assert_eq! tests.
    assert!(tests.iter().any(|t| t["oracle"] == "spec_contract"
        && t["input"] == "clamp_percent(-5)"
        && t["code"].as_str().unwrap().contains("assert_eq!(")));
    // A private function is only checked for determinism without --private: its callers may
    // never pass edge values.
    let bucket: Vec<&Value> = tests
        .iter()
        .filter(|t| t["function"] == "planted::bucket")
        .collect();
    assert!(!bucket.is_empty());
    assert!(
        bucket.iter().all(|t| t["oracle"] == "deterministic"),
        "{bucket:#?}"
    );
    let private = generate_json(
        &fixture("planted"),
        &["--fn", "planted::bucket", "--private"],
    );
    assert!(
        private["tests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["oracle"] == "no_panic")
    );
}

#[test]
fn the_feature_budget_spreads_tests_over_functions() {
    let doc = generate_json(&fixture("planted"), &[]);
    let tests = doc["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 25, "the default --max-tests");
    let functions: BTreeSet<&str> = tests
        .iter()
        .map(|t| t["function"].as_str().unwrap())
        .collect();
    assert!(functions.len() >= 20, "{functions:?}");
    let narrow = generate_json(
        &fixture("planted"),
        &["--fn", "planted::average", "--max-per-fn", "3"],
    );
    assert_eq!(narrow["tests"].as_array().unwrap().len(), 3);
}

#[test]
fn documented_panics_and_asserted_preconditions_are_not_no_panic_targets() {
    let doc = generate_json(
        &fixture("planted"),
        &["--fn", "planted::chunks_of", "--fn", "planted::every_nth"],
    );
    for test in doc["tests"].as_array().unwrap() {
        assert_ne!(test["oracle"], "no_panic", "{test:#}");
    }
}

#[test]
fn out_writes_one_file_per_module_and_removes_stale_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("generated");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("old_module.rs"), "//! dualtrack: {}\n").unwrap();
    std::fs::write(out.join("notes.rs"), "// mine\n").unwrap();
    let output = generate(
        &fixture("planted"),
        &["--max-tests", "0", "--out", out.to_str().unwrap()],
    );
    assert!(output.status.success());
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "notes.rs",
            "planted.rs",
            "planted_tally.rs",
            "planted_text.rs"
        ]
    );
    let listing = String::from_utf8(output.stdout).unwrap();
    assert!(listing.contains("planted_text.rs"), "{listing}");
}

/// A file of the user's that bears a generated module's name is never overwritten.
#[test]
fn out_refuses_to_overwrite_a_file_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tests");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("planted_tally.rs"), "// my own tests\n").unwrap();
    std::fs::write(out.join("old_module.rs"), "//! dualtrack: {}\n").unwrap();
    let output = generate(
        &fixture("planted"),
        &["--max-tests", "0", "--out", out.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("planted_tally.rs is not a file `generate` wrote"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("planted_tally.rs")).unwrap(),
        "// my own tests\n"
    );
    // Nothing else was written or removed either.
    assert!(out.join("old_module.rs").exists());
    assert!(!out.join("planted.rs").exists());
}

#[test]
fn a_pattern_that_matches_nothing_is_a_usage_error() {
    let output = generate(&fixture("planted"), &["--fn", "no_such_function"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no function matches --fn no_such_function"),
        "{stderr}"
    );
    let output = generate(&fixture("planted"), &["--engine", "nonsense"]);
    assert_eq!(output.status.code(), Some(2));
}

/// The whole point: generated tests, run, find every planted bug and nothing on correct code.
#[test]
fn generated_tests_find_the_planted_bugs_and_nothing_else() {
    let work = copy_fixture("planted");
    let out = work.path().join("generated");
    let output = generate(
        work.path(),
        &["-q", "--max-tests", "0", "--out", out.to_str().unwrap()],
    );
    assert!(output.status.success());
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let run = dualtrack()
        .args(["run-tests", "-q", "--format", "json", "--manifest-path"])
        .arg(work.path().join("Cargo.toml"))
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let doc: Value = util::checked(&run.stdout).unwrap();
    assert_eq!(doc["counts"]["dropped"], 0, "every test compiles");
    let truth: toml::Table =
        toml::from_str(&std::fs::read_to_string(work.path().join("planted.toml")).unwrap())
            .unwrap();
    let buggy: BTreeSet<String> = truth["buggy"].as_table().unwrap().keys().cloned().collect();
    let correct: BTreeSet<String> = truth["correct"]["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let flagged: BTreeSet<String> = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["outcome"] != "passed")
        .map(|t| t["function"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(flagged, buggy, "found exactly the planted bugs");
    assert!(flagged.is_disjoint(&correct));
    // A failing test names the panicking line in the user's crate.
    let column = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["function"] == "planted::text::column" && t["outcome"] == "panicked")
        .unwrap();
    assert_eq!(column["location"], "src/text.rs:44");
    assert!(
        column["message"]
            .as_str()
            .unwrap()
            .contains("is not a char boundary"),
        "{column:#}"
    );
}

/// Contract rows become tests that compile: a result without `PartialEq` is matched against
/// the row's pattern, and a method called without its receiver is said, not emitted as a call
/// of a free function.
#[test]
fn contract_rows_become_tests_that_compile_or_are_said() {
    let dir = util::copy_fixture("ledger");
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        format!(
            "{text}\n/// A span of positions.\n#[derive(Debug)]\npub struct Window {{\n    pub start: u32,\n    pub end: u32,\n}}\n\n\
             /// Why a window could not be made.\n#[derive(Debug, PartialEq)]\npub enum WindowError {{\n    Reversed,\n}}\n\n\
             /// The window from `start` to `end`.\npub fn window(start: u32, end: u32) -> Result<Window, WindowError> {{\n    \
             if start > end {{\n        return Err(WindowError::Reversed);\n    }}\n    Ok(Window {{ start, end }})\n}}\n"
        ),
    )
    .unwrap();
    let spec = dir.path().join("SPEC.md");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replacen(
            "| `percent_of(1, 3)` | `Some(33)` |",
            "| `percent_of(1, 3)` | `Some(33)` |\n| `window(2, 1)` | `Err(WindowError::Reversed)` |\n\
             | `window(1, 2)` | `Ok(Window { start: 1, end: 2 })` |\n| `balance()` | `0` |",
            1,
        ),
    )
    .unwrap();
    let output = generate(dir.path(), &["--max-tests", "0"]);
    let code = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        code.contains("matches!(window(2, 1), Err(WindowError::Reversed))"),
        "{code}"
    );
    assert!(!code.contains("assert_eq!(window("), "{code}");
    assert!(!code.contains("assert_eq!(balance()"), "{code}");
    assert!(
        stderr.contains("contract row `balance()` is not a test"),
        "{stderr}"
    );
    // Every test of the module compiles.
    let module = dir.path().join("generated.rs");
    std::fs::write(&module, code.as_bytes()).unwrap();
    let run = dualtrack()
        .args(["run-tests", "--format", "json", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .arg(&module)
        .output()
        .unwrap();
    let doc: Value = util::checked(&run.stdout).unwrap();
    assert_eq!(doc["counts"]["dropped"], 0, "{doc:#}");
}
