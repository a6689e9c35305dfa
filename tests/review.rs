//! `cargo dualtrack review` end to end on a git repository built in the test: a base commit,
//! then a change to one function; the review touches only that function, finds its planted bug
//! and writes its reports. Also plain `cargo dualtrack`, `--all-functions` and `--fail-on`.

use std::path::Path;
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

/// The planted fixture as a repository on `main`, then a `feature` branch that edits `average`.
fn repository_with_a_change() -> tempfile::TempDir {
    let dir = copy_fixture("planted");
    let root = dir.path();
    std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "base"]);
    git(root, &["checkout", "-q", "-b", "feature"]);
    let lib = root.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    let changed = text.replace("    sum / count as i64\n", "    sum / (count as i64)\n");
    assert_ne!(text, changed);
    std::fs::write(&lib, changed).unwrap();
    git(root, &["commit", "-q", "-am", "touch average"]);
    dir
}

#[test]
fn review_attacks_only_what_changed_and_writes_its_reports() {
    let repo = repository_with_a_change();
    let output = dualtrack()
        .args(["review", "--format", "json", "--manifest-path"])
        .arg(repo.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("functions changed since main"), "{stderr}");
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
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
    let failure = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "failure")
        .expect("the planted division by zero");
    assert_eq!(failure["function"], "planted::average");
    assert_eq!(failure["verdict"], "likely_bug");
    assert!(failure["id"].as_str().unwrap().starts_with("F-"));
    // The run directory keeps the reports and the tests; runs/latest names it.
    let runs = repo.path().join("target/dualtrack/runs");
    let latest = std::fs::read_to_string(runs.join("latest")).unwrap();
    let run = runs.join(latest.trim());
    for file in [
        "report.json",
        "report.md",
        "junit.xml",
        "dualtrack_offline.rs",
    ] {
        assert!(
            run.join(file).is_file(),
            "{file} missing in {}",
            run.display()
        );
    }
    let markdown = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(markdown.contains("planted::average"), "{markdown}");
    assert!(
        failure["snippet"].as_str().unwrap().contains("sum /"),
        "{failure:#}"
    );
    // `clean` removes the scratch copy and old runs, nothing else.
    let clean = dualtrack()
        .args(["clean", "--keep", "0", "--manifest-path"])
        .arg(repo.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(!run.exists());
    assert!(!repo.path().join("target/dualtrack/scratch").exists());
    assert!(repo.path().join("src/lib.rs").is_file());
}

#[test]
fn plain_cargo_dualtrack_reviews_and_fail_on_never_exits_0() {
    let repo = repository_with_a_change();
    let output = dualtrack()
        .args(["--fail-on", "never", "--manifest-path"])
        .arg(repo.path().join("Cargo.toml"))
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
    let repo = repository_with_a_change();
    git(repo.path(), &["checkout", "-q", "main"]);
    let output = dualtrack()
        .args(["review", "--manifest-path"])
        .arg(repo.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nothing to review"), "{stderr}");
    let bad = dualtrack()
        .args(["review", "--base", "no-such-branch", "--manifest-path"])
        .arg(repo.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn skip_comments_and_config_exclusions_leave_functions_out() {
    let repo = repository_with_a_change();
    let lib = repo.path().join("src/lib.rs");
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
        repo.path().join("dualtrack.toml"),
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
        .arg(repo.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
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
