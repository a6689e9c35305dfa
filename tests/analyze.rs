//! `cargo dualtrack analyze` run as a user runs it, on the fixture crates.

use std::path::Path;

use serde_json::Value;

mod util;
use util::{copy_fixture, dualtrack, fixture};

fn analyze_json(manifest: &Path, extra: &[&str]) -> Value {
    let output = dualtrack()
        .args([
            "dualtrack",
            "analyze",
            "--format",
            "json",
            "--manifest-path",
        ])
        .arg(manifest)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "analyze failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    util::checked(&output.stdout).unwrap()
}

fn site_ids(doc: &Value, function: &str) -> Vec<(String, String)> {
    doc["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == function)
        .unwrap_or_else(|| panic!("no function {function}"))["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn analyze_sites_fixture_json_snapshot() {
    let doc = analyze_json(&fixture("sites/Cargo.toml"), &[]);
    insta::assert_json_snapshot!("sites", doc);
}

#[test]
fn analyze_broken_fixture_reports_every_bad_file_and_goes_on() {
    let doc = analyze_json(&fixture("broken/Cargo.toml"), &[]);
    insta::assert_json_snapshot!("broken", doc);
    let errors: Vec<&str> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    assert_eq!(errors, ["src/bad.rs", "src/latin1.rs", "src/lib.rs"]);
    assert!(
        doc["functions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "broken::good::good")
    );
}

#[test]
fn analyze_multi_workspace_selects_packages_like_cargo_test() {
    let manifest = fixture("multi/Cargo.toml");
    let paths = |doc: &Value| -> Vec<String> {
        doc["functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_owned())
            .collect()
    };
    // A virtual manifest with default-members selects them.
    assert_eq!(
        paths(&analyze_json(&manifest, &[])),
        ["multi_core::clamp_percent"]
    );
    let all = analyze_json(&manifest, &["--workspace"]);
    assert_eq!(
        paths(&all),
        ["multi_cli::main", "multi_core::clamp_percent"]
    );
    insta::assert_json_snapshot!("multi_workspace", all);
    assert_eq!(
        paths(&analyze_json(&manifest, &["-p", "multi-cli"])),
        ["multi_cli::main"]
    );
    assert_eq!(paths(&analyze_json(&manifest, &["-p", "multi-*"])).len(), 2);
    // A member's own manifest selects that member.
    assert_eq!(
        paths(&analyze_json(&fixture("multi/crates/cli/Cargo.toml"), &[])),
        ["multi_cli::main"]
    );
}

#[test]
fn analyze_ledger_human_output_snapshot() {
    let output = dualtrack()
        .args(["dualtrack", "analyze", "--manifest-path"])
        .arg(fixture("ledger/Cargo.toml"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    // The elapsed time at the end of the summary line varies.
    let (stable, elapsed) = text.trim_end().rsplit_once(", ").unwrap();
    assert!(
        elapsed.ends_with(" ms"),
        "summary ends with the elapsed time: {elapsed}"
    );
    insta::assert_snapshot!("ledger_human", stable);
}

#[test]
fn analyze_fn_and_file_filters() {
    let manifest = fixture("sites/Cargo.toml");
    let doc = analyze_json(&manifest, &["--fn", "sites::money::*"]);
    let paths: Vec<&str> = doc["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "sites::money::split",
            "sites::money::convert::to_cents",
            "sites::money::inner::leaf::leaf",
            "sites::money::extra::extra"
        ]
    );
    let doc = analyze_json(&manifest, &["--fn", "get"]);
    assert_eq!(doc["functions"].as_array().unwrap().len(), 2);
    let doc = analyze_json(
        &manifest,
        &["--file", &fixture("sites/src/money").display().to_string()],
    );
    // A directory matches the files under it: src/money/convert.rs and src/money/inner/leaf.rs.
    assert_eq!(doc["functions"].as_array().unwrap().len(), 2);
}

#[test]
fn analyze_include_tests_adds_test_code() {
    let manifest = fixture("sites/Cargo.toml");
    let without = analyze_json(&manifest, &[]);
    let with = analyze_json(&manifest, &["--include-tests"]);
    let has = |doc: &Value, path: &str| {
        doc["functions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == path)
    };
    assert!(!has(&without, "sites::tests::skipped_unless_include_tests"));
    assert!(!has(&without, "sites::test_helpers::helper"));
    assert!(has(&with, "sites::tests::skipped_unless_include_tests"));
    assert!(has(&with, "sites::test_helpers::helper"));
}

#[test]
fn analyze_strict_exits_2_on_errors_and_0_without() {
    dualtrack()
        .args(["analyze", "--strict", "--format", "json", "--manifest-path"])
        .arg(fixture("broken/Cargo.toml"))
        .assert()
        .code(2);
    dualtrack()
        .args(["analyze", "--strict", "--manifest-path"])
        .arg(fixture("ledger/Cargo.toml"))
        .assert()
        .code(0);
}

#[test]
fn analyze_bad_manifest_or_package_is_one_line_and_exit_2() {
    let assert = dualtrack()
        .args(["analyze", "--manifest-path", "/nonexistent/Cargo.toml"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/Cargo.toml"));

    let assert = dualtrack()
        .args(["analyze", "-p", "nope", "--manifest-path"])
        .arg(fixture("multi/Cargo.toml"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("package `nope` is not a member"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[package\nname = ").unwrap();
    let assert = dualtrack()
        .args(["analyze", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("unclosed table") && stderr.contains("Cargo.toml:1:9"),
        "{stderr}"
    );
}

#[test]
fn bad_flag_is_a_usage_error() {
    dualtrack()
        .args(["analyze", "--no-such-flag"])
        .assert()
        .code(2);
    dualtrack()
        .args(["analyze", "--format", "yaml"])
        .assert()
        .code(2);
    dualtrack().args(["analyze", "--help"]).assert().code(0);
    dualtrack()
        .args(["dualtrack", "--version"])
        .assert()
        .code(0);
}

#[test]
fn analyze_output_flag_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sites.json");
    dualtrack()
        .args(["analyze", "--format", "json", "--manifest-path"])
        .arg(fixture("ledger/Cargo.toml"))
        .arg("--output")
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["schema"], "dualtrack.analyze/v1");
}

#[test]
fn site_ids_survive_edits_elsewhere_and_the_function_moving() {
    let dir = copy_fixture("ledger");
    let manifest = dir.path().join("Cargo.toml");
    let lib = dir.path().join("src/lib.rs");
    let before = site_ids(&analyze_json(&manifest, &[]), "ledger::parse_cents");
    assert!(before.len() > 10);

    // Edit another function: add a branch, a panic and a new function above this one.
    let source = std::fs::read_to_string(&lib).unwrap();
    let edited = source
        .replace(
            "pub fn format_cents(cents: i64) -> String {\n",
            "pub fn format_cents(cents: i64) -> String {\n    if cents == 0 { return \"0.00\".into(); }\n    let _ = [1][0];\n",
        )
        .replace(
            "/// Parse `\"12\"`",
            "pub fn added(x: u8) -> u8 {\n    if x > 1 { x.checked_add(1).unwrap() } else { 0 }\n}\n\n/// Parse `\"12\"`",
        );
    assert_ne!(edited, source);
    std::fs::write(&lib, &edited).unwrap();
    assert_eq!(
        site_ids(&analyze_json(&manifest, &[]), "ledger::parse_cents"),
        before
    );

    // Move the function to the end of the file.
    let start = edited.find("/// Parse `\"12\"`").unwrap();
    let end = edited.find("/// Format cents").unwrap();
    let moved = format!(
        "{}{}\n{}",
        &edited[..start],
        &edited[end..],
        &edited[start..end]
    );
    std::fs::write(&lib, moved).unwrap();
    assert_eq!(
        site_ids(&analyze_json(&manifest, &[]), "ledger::parse_cents"),
        before
    );
}
