//! `cargo dualtrack review` end to end on a git repository built in the test: a base commit,
//! then a change to one function; the review touches only that function, finds its planted bug
//! and writes its reports. Also plain `cargo dualtrack`, `--all-functions` and `--fail-on`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod util;
use util::{copy_fixture, dualtrack};

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A repository on `main` holding the planted fixture in a subfolder (`crates/planted`), then
/// a `feature` branch that edits `average`. Returns the repository and the crate's directory.
fn repository_with_a_change() -> (tempfile::TempDir, PathBuf) {
    let fixture = copy_fixture("planted");
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path().join("crates/planted");
    std::fs::create_dir_all(root.parent().unwrap()).unwrap();
    std::fs::rename(fixture.path(), &root)
        .or_else(|_| copy_dir(fixture.path(), &root))
        .unwrap();
    std::fs::write(repo.path().join(".gitignore"), "target/\n").unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "base"]);
    git(repo.path(), &["checkout", "-q", "-b", "feature"]);
    let lib = root.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    let changed = text.replace("    sum / count as i64\n", "    sum / (count as i64)\n");
    assert_ne!(text, changed);
    std::fs::write(&lib, changed).unwrap();
    git(repo.path(), &["commit", "-q", "-am", "touch average"]);
    (repo, root)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry?;
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

fn failures(doc: &Value) -> Vec<&Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "failure")
        .collect()
}

#[test]
fn review_attacks_only_what_changed_and_writes_its_reports() {
    let (_repo, root) = repository_with_a_change();
    let manifest = root.join("Cargo.toml");
    let output = dualtrack()
        .args([
            "review",
            "--base",
            "main",
            "--format",
            "json",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("functions changed since main (--base)"),
        "{stderr}"
    );
    let doc: Value = util::checked(&output.stdout).unwrap();
    assert_eq!(doc["schema"], "dualtrack.review/v1");
    assert_eq!(doc["scope"], "review");
    let functions: std::collections::BTreeSet<&str> = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"].as_str().unwrap())
        .collect();
    assert_eq!(
        functions.into_iter().collect::<Vec<_>>(),
        ["planted::average"]
    );
    let failure = *failures(&doc)
        .first()
        .expect("the planted division by zero");
    assert_eq!(failure["function"], "planted::average");
    assert_eq!(failure["verdict"], "likely_bug");
    assert_eq!(failure["status"], "new");
    assert!(failure["id"].as_str().unwrap().starts_with("F-"));
    assert!(
        failure["snippet"].as_str().unwrap().contains("sum /"),
        "{failure:#}"
    );
    // The run directory keeps the reports and the tests; runs/latest names it.
    let runs = root.join("target/dualtrack/runs");
    let latest = std::fs::read_to_string(runs.join("latest")).unwrap();
    let run = runs.join(latest.trim());
    for file in [
        "report.json",
        "report.md",
        "report.sarif",
        "junit.xml",
        "dualtrack_offline.rs",
        "logs/build.log",
        "logs/tests.log",
    ] {
        assert!(
            run.join(file).is_file(),
            "{file} missing in {}",
            run.display()
        );
    }
    let tests_log = std::fs::read_to_string(run.join("logs/tests.log")).unwrap();
    assert!(
        tests_log.contains(&format!(
            "==> {} (planted::average): panicked",
            failure["test"].as_str().unwrap()
        )),
        "{tests_log}"
    );
    let markdown = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(markdown.contains("planted::average"), "{markdown}");

    // The SARIF is valid against the OASIS schema, with the failure an error at the
    // panicking line, its path relative to the repository's top level.
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("report.sarif")).unwrap()).unwrap();
    let schema: Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["partialFingerprints"]["dualtrackFindingId/v1"] == failure["id"])
        .expect("the failure is in the SARIF");
    assert_eq!(result["level"], "error");
    let place = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        place["artifactLocation"]["uri"],
        "crates/planted/src/lib.rs"
    );
    let line = failure["location"]
        .as_str()
        .unwrap()
        .rsplit_once(':')
        .unwrap()
        .1;
    assert_eq!(place["region"]["startLine"].to_string(), line);

    // The failure's command reruns that test alone, and it fails the same way.
    let command = failure["reproduce"].as_str().unwrap();
    let words: Vec<&str> = command
        .strip_prefix("cargo dualtrack ")
        .unwrap()
        .split(' ')
        .collect();
    let rerun = dualtrack()
        .args(&words)
        .arg("--format")
        .arg("json")
        .output()
        .unwrap();
    assert_eq!(
        rerun.status.code(),
        Some(1),
        "{command}: {}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let rerun: Value = util::checked(&rerun.stdout).unwrap();
    assert_eq!(rerun["tests"].as_array().unwrap().len(), 1, "{rerun:#}");
    assert_eq!(rerun["tests"][0]["name"], failure["test"]);
    assert_eq!(rerun["tests"][0]["outcome"], "panicked");

    // Decided findings no longer fail the review; the rest are known from the first run.
    let failing = failures(&doc);
    let decisions: String = failing
        .iter()
        .skip(1)
        .map(|f| format!("[{}]\ndecision = \"accepted\"\n", f["id"].as_str().unwrap()))
        .collect();
    std::fs::create_dir_all(root.join(".dualtrack")).unwrap();
    std::fs::write(root.join(".dualtrack/decisions.toml"), &decisions).unwrap();
    let again = dualtrack()
        .args([
            "review",
            "--base",
            "main",
            "--format",
            "json",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .unwrap();
    let again_doc: Value = util::checked(&again.stdout).unwrap();
    let status_of = |id: &Value| {
        failures(&again_doc)
            .iter()
            .find(|f| &f["id"] == id)
            .map(|f| f["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status_of(&failure["id"]).as_deref(), Some("known"));
    assert_eq!(
        again.status.code(),
        Some(1),
        "the known finding is undecided"
    );
    for decided in failing.iter().skip(1) {
        assert_eq!(status_of(&decided["id"]).as_deref(), Some("accepted"));
    }
    std::fs::write(
        root.join(".dualtrack/decisions.toml"),
        format!(
            "{decisions}[{}]\ndecision = \"kept\"\n",
            failure["id"].as_str().unwrap()
        ),
    )
    .unwrap();
    let decided = dualtrack()
        .args(["review", "--base", "main", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(
        decided.status.code(),
        Some(0),
        "every finding is decided: {}",
        String::from_utf8_lossy(&decided.stdout)
    );

    // `clean` removes the scratch copy and old runs, nothing else.
    let clean = dualtrack()
        .args(["clean", "--keep", "0", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(!run.exists());
    assert!(!root.join("target/dualtrack/scratch").exists());
    assert!(root.join("src/lib.rs").is_file());
}

#[test]
fn plain_cargo_dualtrack_reviews_and_fail_on_never_exits_0() {
    let (_repo, root) = repository_with_a_change();
    let output = dualtrack()
        .args(["--fail-on", "never", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("planted::average"), "{stdout}");
    assert!(stdout.contains("attempt to divide by zero"), "{stdout}");
}

#[test]
fn nothing_changed_is_one_line_and_exit_0() {
    let (repo, root) = repository_with_a_change();
    git(repo.path(), &["checkout", "-q", "main"]);
    let output = dualtrack()
        .args(["review", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nothing to review"), "{stderr}");
    assert!(output.stdout.is_empty(), "one line, on stderr");
    // Empty reports all the same, so CI never uploads an older run's.
    let sarif = dualtrack()
        .args(["review", "--format", "sarif", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(sarif.status.code(), Some(0));
    let sarif: Value = util::checked(&sarif.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
    let bad = dualtrack()
        .args(["review", "--base", "no-such-branch", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    // A change that does not parse is named, not reviewed around.
    let lib = root.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{text}\npub fn broken( {{\n")).unwrap();
    let broken = dualtrack()
        .args(["review", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(broken.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(
        stderr.contains("src/lib.rs:") && stderr.contains("does not parse"),
        "{stderr}"
    );
}

#[test]
fn skip_comments_and_config_exclusions_leave_functions_out() {
    let (_repo, root) = repository_with_a_change();
    let lib = root.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        text.replace(
            "/// The mean of `count` values summing to `sum`.\npub fn average",
            "// dualtrack: skip (checked by hand)\n/// The mean of `count` values summing to `sum`.\npub fn average",
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("dualtrack.toml"),
        "exclude = [\"planted::text::*\"]\n",
    )
    .unwrap();
    let output = dualtrack()
        .args([
            "review",
            "--all-functions",
            "--max-tests",
            "0",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: Value = util::checked(&output.stdout).unwrap();
    let reason_of = |path: &str| {
        doc["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["function"] == path)
            .map(|s| s["reasons"][0].as_str().unwrap().to_owned())
    };
    assert_eq!(
        reason_of("planted::average").as_deref(),
        Some("marked `// dualtrack: skip` (checked by hand)")
    );
    assert!(
        reason_of("planted::text::field")
            .unwrap()
            .contains("exclude")
    );
    assert!(doc["tests"].as_array().unwrap().iter().all(|t| {
        t["function"] != "planted::average"
            && !t["function"]
                .as_str()
                .unwrap()
                .starts_with("planted::text::")
    }));
}

#[test]
fn features_reach_generation_and_the_scratch_build() {
    let dir = copy_fixture("planted");
    let manifest = dir.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n[features]\nextra = []\n")).unwrap();
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        format!(
            "{text}\n/// Shares of `total`.\n#[cfg(feature = \"extra\")]\n\
             pub fn share(total: u32, parts: u32) -> u32 {{\n    total / parts\n}}\n"
        ),
    )
    .unwrap();
    let review = |features: &[&str]| {
        let output = dualtrack()
            .args([
                "review",
                "--fn",
                "share",
                "--format",
                "json",
                "--fail-on",
                "never",
            ])
            .args(features)
            .arg("--manifest-path")
            .arg(&manifest)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    // Without the feature the function is compiled out: skipped, not tested.
    let plain = review(&[]);
    assert!(plain["tests"].as_array().unwrap().is_empty(), "{plain:#}");
    let with = review(&["--features", "extra"]);
    let failure = failures(&with)
        .into_iter()
        .find(|f| f["function"] == "planted::share")
        .cloned()
        .unwrap_or_else(|| panic!("the division by zero under the feature: {with:#}"));
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("divide by zero"),
        "{failure:#}"
    );
    // Its rerun command keeps the feature, so the test is not compiled out.
    let command = failure["reproduce"].as_str().unwrap();
    assert!(command.contains("--features extra"), "{command}");
    let words: Vec<&str> = command
        .strip_prefix("cargo dualtrack ")
        .unwrap()
        .split(' ')
        .collect();
    let rerun = dualtrack()
        .args(&words)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let rerun: Value = util::checked(&rerun.stdout).unwrap();
    assert_eq!(rerun["tests"][0]["outcome"], "panicked", "{rerun:#}");
}

#[test]
fn a_crate_that_does_not_build_exits_4_and_still_leaves_its_reports() {
    let dir = copy_fixture("planted");
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        format!("{text}\nfn broken() -> u8 {{\n    \"not a number\"\n}}\n"),
    )
    .unwrap();
    let sarif = dir.path().join("review.sarif");
    let output = dualtrack()
        .args(["review", "--fn", "average", "--format", "sarif", "--output"])
        .arg(&sarif)
        .arg("--manifest-path")
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // No test ran: no failures, only what the spec says of the code.
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ruleId"] != "failure")
    );
    let runs = dir.path().join("target/dualtrack/runs");
    let run = runs.join(std::fs::read_to_string(runs.join("latest")).unwrap().trim());
    let report: Value = util::checked(&std::fs::read(run.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["baseline_failed"], true);
    let log = std::fs::read_to_string(run.join("logs/build.log")).unwrap();
    assert!(log.contains("mismatched types"), "{log}");
}

#[test]
fn a_crate_whose_only_file_does_not_parse_exits_4_not_0() {
    let dir = copy_fixture("planted");
    std::fs::write(dir.path().join("src/lib.rs"), "pub fn broken( {\n").unwrap();
    let output = dualtrack()
        .args(["review", "--all-functions", "-q", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("src/lib.rs:1:"), "{stderr}");
}

/// The whole loop on a change: review, a human keeps one finding and accepts another, the kept
/// test fails in the user's tree under plain `cargo test`, the next review flags neither as
/// new, and the ledger and `stats` have both reviews and both decisions.
#[test]
fn review_reconcile_review_and_the_ledger_on_a_branch() {
    let (repo, root) = repository_with_a_change();
    let lib = root.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    let changed = text.replace(
        "    let table = [(\"http\", 80), (\"https\", 443), (\"ftp\", 21)];\n",
        "    // The schemes this crate knows.\n    let table = [(\"http\", 80), (\"https\", 443), (\"ftp\", 21)];\n",
    );
    assert_ne!(text, changed);
    std::fs::write(&lib, changed).unwrap();
    git(repo.path(), &["commit", "-q", "-am", "touch default_port"]);
    let manifest = root.join("Cargo.toml");
    let run = |args: &[&str]| util::dualtrack_on(&manifest, args);

    let first = run(&["review", "--base", "main", "-q", "--format", "json"]);
    assert_eq!(first.status.code(), Some(1));
    let report: Value = util::checked(&first.stdout).unwrap();
    let id_of = |function: &str| -> String {
        failures(&report)
            .into_iter()
            .find(|f| f["function"] == function)
            .unwrap_or_else(|| panic!("no failure of {function}: {report:#}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (average, port) = (id_of("planted::average"), id_of("planted::default_port"));

    let decided = run(&[
        "reconcile",
        "--keep",
        &average,
        "--accept",
        &port,
        "--reason",
        "unknown schemes are a bug upstream",
    ]);
    assert_eq!(
        decided.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&decided.stderr)
    );

    // The kept test is in the user's tree and fails there, under the user's own `cargo test`.
    let cargo = util::users_cargo_test(&manifest, &["--test", "dualtrack_lib"]);
    let stdout = String::from_utf8_lossy(&cargo.stdout);
    assert!(!cargo.status.success(), "{stdout}");
    assert!(stdout.contains("1 failed"), "{stdout}");

    let second = run(&["review", "--base", "main", "-q", "--format", "json"]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "only undecided findings fail it"
    );
    let report: Value = util::checked(&second.stdout).unwrap();
    let status = |id: &str| {
        failures(&report)
            .into_iter()
            .find(|f| f["id"] == id)
            .map(|f| f["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status(&average).as_deref(), Some("kept"));
    assert_eq!(status(&port).as_deref(), Some("accepted"));

    let ledger = std::fs::read_to_string(root.join(".dualtrack/ledger.csv")).unwrap();
    assert_eq!(
        ledger.lines().filter(|l| l.starts_with("review,")).count(),
        2,
        "{ledger}"
    );
    assert_eq!(
        ledger
            .lines()
            .filter(|l| l.starts_with("decision,"))
            .count(),
        2,
        "{ledger}"
    );
    let stats = run(&["stats", "--by", "task", "--format", "json"]);
    let stats: Value = util::checked(&stats.stdout).unwrap();
    let group = &stats["groups"][0];
    assert_eq!(group["group"], "feature");
    assert_eq!(group["reviews"], 2);
    assert_eq!(
        (group["kept"].as_u64(), group["accepted"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(group["kept_share"], 0.5);
}

/// A private function named with `--fn` is attacked through the public function that calls
/// it (`<Header as FromStr>::from_str` reaches `split_header`), and the finding names both; a
/// method whose receiver only a free function makes is reached by making it from nothing; a
/// helper three private calls down a parser is reached by the text its callers' guards spell
/// (`unescape("\\x")` ends inside `hex_byte`); an `Err` a function returns is formatted, and
/// a message that panics (`QuoteError`'s `Display`) is found through the function.
#[test]
fn private_functions_and_unbuildable_receivers_are_reached_through_public_ones() {
    let dir = copy_fixture("reach");
    let output = dualtrack()
        .args([
            "review",
            "--fail-on",
            "never",
            "--fn",
            "split_header",
            "--fn",
            "last_word",
            "--fn",
            "hex_byte",
            "--fn",
            "parse_quoted",
        ])
        .arg("--manifest-path")
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let runs = dir.path().join("target/dualtrack/runs");
    let run = runs.join(std::fs::read_to_string(runs.join("latest")).unwrap().trim());
    let report: Value = util::checked(&std::fs::read(run.join("report.json")).unwrap()).unwrap();
    let found = failures(&report);
    let through_parse = found
        .iter()
        .find(|f| f["reached"] == "reach::text::split_header")
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!(
        through_parse["function"],
        "reach::text::<Header as FromStr>::from_str"
    );
    assert!(
        found
            .iter()
            .any(|f| f["function"] == "reach::text::Tokens::last_word"),
        "{found:#?}"
    );
    let escape = found
        .iter()
        .find(|f| f["reached"] == "reach::escape::hex_byte")
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!(escape["function"], "reach::escape::unescape");
    let message = found
        .iter()
        .find(|f| f["function"] == "reach::escape::parse_quoted")
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!(
        message["reached"],
        "reach::escape::<QuoteError as fmt::Display>::fmt"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("(in reach::text::split_header)"),
        "{stdout}"
    );
}

/// `--time-budget` is a safety stop: past it no test starts, and the report says how many
/// were cut rather than pretending they passed.
#[test]
fn the_time_budget_cuts_the_run_and_says_so() {
    let dir = copy_fixture("planted");
    let output = dualtrack()
        .args([
            "review",
            "--all-functions",
            "--fail-on",
            "never",
            "--time-budget",
            "0.001s",
        ])
        .arg("--manifest-path")
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let runs = dir.path().join("target/dualtrack/runs");
    let run = runs.join(std::fs::read_to_string(runs.join("latest")).unwrap().trim());
    let report: Value = util::checked(&std::fs::read(run.join("report.json")).unwrap()).unwrap();
    assert!(
        report["counts"]["cut"].as_u64().unwrap() > 0,
        "{}",
        report["counts"]
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("not run (the time budget ran out)"),
        "{stdout}"
    );
    let bad = dualtrack()
        .args(["review", "--time-budget", "10 parsecs"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("the unit is s, m or h"));
}

/// `text` with every run id (`r1796219876-7308`, in run directories and reproduce commands)
/// written `<run>`.
fn without_run_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("runs/r") {
        out.push_str(&rest[..at + "runs/".len()]);
        rest = &rest[at + "runs/".len()..];
        let id_len = rest
            .char_indices()
            .skip(1)
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '-'))
            .map_or(rest.len(), |(i, _)| i);
        out.push_str("<run>");
        rest = &rest[id_len..];
    }
    out.push_str(rest);
    out
}

/// The review document of each fixture, whole, with what changes from run to run blanked
/// (the run id, times, the sandbox this machine has, where the copy is): a change to what a review reports,
/// however it is built, shows in these snapshots.
#[test]
fn the_review_document_of_each_fixture_is_stable() {
    for fixture in ["ledger", "planted"] {
        let dir = copy_fixture(fixture);
        let output = dualtrack()
            .args([
                "review",
                "--all-functions",
                "--no-ledger",
                "--format",
                "json",
                "--fail-on",
                "never",
                "--manifest-path",
            ])
            .arg(dir.path().join("Cargo.toml"))
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{fixture}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let written: Value = util::checked(&output.stdout).unwrap();
        util::assert_matches_schema("review.v1.schema.json", &written);
        let mut text = without_run_ids(&String::from_utf8_lossy(&output.stdout));
        for root in [dir.path().to_owned(), dir.path().canonicalize().unwrap()] {
            text = text.replace(&root.display().to_string(), "<copy>");
        }
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        doc["run_id"] = "<run>".into();
        doc["timings"] = "<timings>".into();
        doc["sandbox"] = "<sandbox>".into();
        if let Some(harnesses) = doc["fuzz"]["harnesses"].as_array_mut() {
            for harness in harnesses {
                harness["elapsed_ms"] = "<ms>".into();
                // A harness stops at its time under load before its runs: what it ran, and
                // kept, is the machine's.
                for key in ["runs", "corpus", "new"] {
                    harness[key] = "<count>".into();
                }
                if harness.get("first_crash_ms").is_some() {
                    harness["first_crash_ms"] = "<ms>".into();
                }
            }
        }
        // Which files were hashed is the document's; the hashes are the fixture's bytes.
        if let Some(sources) = doc["evidence"]["sources"].as_object_mut() {
            for hash in sources.values_mut() {
                assert_eq!(hash.as_str().map(str::len), Some(64), "{hash}");
                *hash = "<sha256>".into();
            }
        }
        insta::assert_json_snapshot!(format!("review_document_{fixture}"), doc);
    }
}

/// A spec's contract row names a constant as its reader would after a `use`: the offline
/// test that does not compile for want of that import is rebuilt once with the `use` rustc
/// suggests, and runs.
#[test]
fn an_offline_spec_test_that_lacks_an_import_is_rebuilt_with_it() {
    let dir = util::one_file_crate(
        "[package]\nname = \"limits\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
        "pub mod consts {\n    pub const LIMIT: u32 = 10;\n}\n\n\
         pub fn clamp_to(x: u32, limit: u32) -> u32 {\n    if x > limit {\n        \
         return limit;\n    }\n    x\n}\n",
    );
    std::fs::write(
        dir.path().join("SPEC.md"),
        "# Feature: limits\n\nTarget: `clamp_to`\n\n## Input/output contracts\n\
         | call | result |\n|---|---|\n| `clamp_to(50, LIMIT)` | `10` |\n",
    )
    .unwrap();
    let output = dualtrack()
        .args([
            "review",
            "--all-functions",
            "--no-ledger",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--manifest-path",
        ])
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("1 test did not compile for want of an import"),
        "{stderr}"
    );
    let doc: Value = util::checked(&output.stdout).unwrap();
    let contract = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["input"] == "clamp_to(50, LIMIT)")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(contract["outcome"], "passed", "{contract:#}");
    assert_eq!(doc["counts"]["dropped"], 0, "{:#}", doc["counts"]);
}
