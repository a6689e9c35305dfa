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
    let stats: Value = util::checked(&stats.stdout).unwrap();
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

#[test]
fn a_decision_is_recorded_remembered_by_the_next_review_and_counted() {
    let dir = util::copy_fixture("planted");
    let manifest = dir.path().join("Cargo.toml");
    let run = |args: &[&str]| util::dualtrack_on(&manifest, args);
    let first = run(&[
        "review",
        "--fn",
        "planted::average",
        "-q",
        "--format",
        "json",
    ]);
    assert_eq!(
        first.status.code(),
        Some(1),
        "the division by zero fails it"
    );
    let listed = run(&["reconcile", "--list", "--format", "json"]);
    let listed: Value = util::checked(&listed.stdout).unwrap();
    let id = listed["findings"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed["findings"][0]["status"], "new");

    // An id that is no failure of the run is refused, and nothing is written.
    let wrong = run(&["reconcile", "--accept", "F-0000000000"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(!dir.path().join(".dualtrack/decisions.toml").exists());
    let all_without_reason = run(&["reconcile", "--accept-all"]);
    assert_eq!(all_without_reason.status.code(), Some(2));

    let decided = run(&[
        "reconcile",
        "--accept",
        &id,
        "--reason",
        "callers never pass zero",
    ]);
    assert_eq!(decided.status.code(), Some(0));
    let decisions = std::fs::read_to_string(dir.path().join(".dualtrack/decisions.toml")).unwrap();
    assert!(
        decisions.contains(&format!(
            "[{id}]\ndecision = \"accepted\"\nfunction = \"planted::average\""
        )),
        "{decisions}"
    );
    assert!(
        decisions.contains("reason = \"callers never pass zero\""),
        "{decisions}"
    );

    let second = run(&[
        "review",
        "--fn",
        "planted::average",
        "-q",
        "--format",
        "json",
    ]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "decided findings do not fail the review"
    );
    let report: Value = util::checked(&second.stdout).unwrap();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id.as_str())
        .unwrap();
    assert_eq!(finding["status"], "accepted");

    let ledger = std::fs::read_to_string(dir.path().join(".dualtrack/ledger.csv")).unwrap();
    assert_eq!(
        ledger.lines().filter(|l| l.starts_with("review,")).count(),
        2
    );
    assert!(
        ledger.lines().any(|l| l.starts_with("decision,")
            && l.contains(&format!(
                ",{id},accepted,planted::average,callers never pass zero"
            ))),
        "{ledger}"
    );
    let stats = run(&["stats", "--format", "json"]);
    let stats: Value = util::checked(&stats.stdout).unwrap();
    assert_eq!(stats["groups"][0]["reviews"], 2);
    assert_eq!(stats["groups"][0]["accepted"], 1);
}

/// A review stopped by Ctrl-C is marked in the ledger, and `stats` does not count it.
#[cfg(unix)]
#[test]
fn an_interrupted_review_is_marked_and_left_out_of_stats() {
    let dir = util::copy_fixture("planted");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-dualtrack"))
        .args([
            "review",
            "--all-functions",
            "--fail-on",
            "never",
            "-q",
            "--manifest-path",
        ])
        .arg(dir.path().join("Cargo.toml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Under way: the scratch area is locked (the baseline builds).
    let lock = dir.path().join("target/dualtrack/lock");
    let started = std::time::Instant::now();
    while !lock.exists() {
        assert!(started.elapsed().as_secs() < 60, "the review never started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let ledger = std::fs::read_to_string(dir.path().join(".dualtrack/ledger.csv")).unwrap();
    let row = ledger.lines().nth(1).unwrap();
    assert!(row.starts_with("interrupted,"), "{ledger}");
    let stats = dualtrack()
        .args(["stats", "--format", "json", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    let stats: Value = util::checked(&stats.stdout).unwrap();
    assert_eq!(
        stats["groups"].as_array().map(Vec::len),
        Some(0),
        "{stats:#}"
    );
}
