//! The ledger end to end: reviews append rows (unless told not to), `stats` reads them back.

use serde_json::Value;

mod util;
use util::dualtrack;

fn review(dir: &tempfile::TempDir, extra: &[&str]) {
    let output = dualtrack()
        .args([
            "review",
            "--fn",
            "planted::average",
            "--fail-on",
            "never",
            "-q",
        ])
        .args(extra)
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
}

#[test]
fn reviews_are_counted_in_the_ledger_and_stats_read_them_back() {
    let dir = util::copy_fixture("planted");
    review(&dir, &["--task", "split-bill"]);
    review(&dir, &["--task", "split-bill"]);
    review(&dir, &["--no-ledger"]);
    std::fs::write(dir.path().join("dualtrack.toml"), "ledger = false\n").unwrap();
    review(&dir, &[]);
    let ledger = std::fs::read_to_string(dir.path().join(".dualtrack/ledger.csv")).unwrap();
    let lines: Vec<&str> = ledger.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two reviews: {ledger}");
    assert!(lines[0].starts_with("kind,run_id,timestamp,task,engine,model,"));
    let fields: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(fields[0], "review");
    assert_eq!(fields[3], "split-bill");
    assert_eq!(fields[4], "offline");
    // planted::average: the function is in scope, and its division by zero is found.
    assert_eq!(fields[6], "1", "{ledger}");
    assert!(
        fields[14].parse::<u64>().unwrap() >= 1,
        "findings: {ledger}"
    );

    let stats = dualtrack()
        .args([
            "stats",
            "--by",
            "task",
            "--format",
            "json",
            "--manifest-path",
        ])
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    let group = &stats["groups"][0];
    assert_eq!(group["group"], "split-bill");
    assert_eq!(group["reviews"], 2);
    assert_eq!(group["first_pass_compile_rate"], 1.0);
    assert_eq!(group["cost_per_review"], 0.0);

    let bad = dualtrack()
        .args(["stats", "--since", "yesterday", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a date such as 2026-11-01"));
}
