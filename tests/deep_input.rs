//! Deeply nested input (source files, spec contract rows, test files) is skipped with its file
//! and line, never a stack overflow that aborts the process.

mod util;

use util::{copy_fixture, dualtrack_on};

/// The ledger fixture with a module of deeply nested code (out of any scope asked for), and a
/// spec whose contract row nests 3,000 parentheses.
fn deep_crate() -> tempfile::TempDir {
    let dir = copy_fixture("ledger");
    let parens = format!("{}1{}", "(".repeat(5_000), ")".repeat(5_000));
    let sum = vec!["1"; 20_000].join(" + ");
    std::fs::write(
        dir.path().join("src/deep.rs"),
        format!(
            "pub fn parens() -> i32 {{\n    {parens}\n}}\n\npub fn sum() -> i32 {{\n    {sum}\n}}\n"
        ),
    )
    .unwrap();
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{text}\npub mod deep;\n")).unwrap();
    let spec = dir.path().join("SPEC.md");
    let text = std::fs::read_to_string(&spec).unwrap();
    let deep_row = format!(
        "| `parse_cents({}\"1\"{})` | `Ok(100)` |",
        "(".repeat(3_000),
        ")".repeat(3_000)
    );
    std::fs::write(
        &spec,
        text.replacen("| `parse_cents(\"12\")` | `Ok(1200)` |", &deep_row, 1),
    )
    .unwrap();
    dir
}

fn assert_no_crash(output: &std::process::Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("thread 'main'") && output.status.code().is_some(),
        "{what} crashed: {:?}\n{stderr}",
        output.status
    );
}

#[test]
fn analyze_names_the_deep_file_and_line_and_reads_the_rest() {
    let dir = deep_crate();
    let output = dualtrack_on(
        &dir.path().join("Cargo.toml"),
        &["analyze", "--format", "json"],
    );
    assert_no_crash(&output, "analyze");
    let json: serde_json::Value = util::checked(&output.stdout).unwrap();
    let errors = json["errors"].as_array().unwrap();
    let deep = errors
        .iter()
        .find(|e| e["file"] == "src/deep.rs")
        .unwrap_or_else(|| panic!("no error for src/deep.rs: {errors:?}"));
    assert_eq!(deep["line"], 2, "{deep}");
    assert!(
        deep["message"]
            .as_str()
            .unwrap()
            .contains("nests too deeply")
    );
    // The rest of the crate is still analyzed.
    let functions = json["functions"].as_array().unwrap();
    assert!(functions.iter().any(|f| f["path"] == "ledger::parse_cents"));
}

#[test]
fn generate_and_score_go_on_past_deep_files_and_contracts() {
    let dir = deep_crate();
    let manifest = dir.path().join("Cargo.toml");
    let output = dualtrack_on(&manifest, &["generate", "--fn", "parse_cents"]);
    assert_no_crash(&output, "generate");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("#[test]"));
    let output = dualtrack_on(&manifest, &["score"]);
    assert_no_crash(&output, "score");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("warning: SPEC.md:17:"), "{said}");
    assert!(said.contains("nests too deeply"), "{said}");
    // The row is quoted short, not 6,000 characters of parentheses.
    let warning = said.lines().find(|l| l.contains("SPEC.md:17")).unwrap();
    assert!(warning.len() < 400, "{warning}");
}

#[test]
fn run_tests_refuses_a_deep_test_file_by_name_and_line() {
    let dir = copy_fixture("ledger");
    let file = dir.path().join("deep_tests.rs");
    std::fs::write(
        &file,
        format!(
            "/// dualtrack: {{\"function\": \"ledger::parse_cents\"}}\n#[test]\nfn t() {{\n    let _ = {}1{};\n}}\n",
            "(".repeat(20_000),
            ")".repeat(20_000)
        ),
    )
    .unwrap();
    let output = dualtrack_on(
        &dir.path().join("Cargo.toml"),
        &["run-tests", file.to_str().unwrap()],
    );
    assert_no_crash(&output, "run-tests");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("deep_tests.rs:4: nests too deeply"),
        "{stderr}"
    );
}

#[test]
fn review_goes_on_past_a_deep_file_to_rustc_s_verdict() {
    let dir = deep_crate();
    let output = dualtrack_on(
        &dir.path().join("Cargo.toml"),
        &[
            "review",
            "--fn",
            "parse_cents",
            "--fail-on",
            "never",
            "--no-ledger",
        ],
    );
    assert_no_crash(&output, "review");
    // rustc itself overflows on 5,000 parentheses: the crate does not build, which is exit 4.
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
