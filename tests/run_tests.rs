//! `cargo dualtrack run-tests` on a copy of the ledger fixture: every outcome classified, the
//! panicking line found in the user's code, and the user's tree left byte for byte as it was.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

mod util;
use util::{copy_fixture, dualtrack};

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Run `run-tests --format json` on a crate with `extra` flags and test files (under
/// `tests/data`, or absolute); the exit code must be `code`. Returns the document.
fn run_tests_json(crate_dir: &Path, extra: &[&str], files: &[&str], code: i32) -> Value {
    let output = dualtrack()
        .args(["run-tests", "--format", "json"])
        .args(extra)
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .args(files.iter().map(|f| data(f)))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: Value = util::checked(&output.stdout).unwrap();
    util::assert_matches_schema("review.v1.schema.json", &document);
    document
}

/// The outcome, message and location of the test `name` in a review document.
fn outcome_of(doc: &Value, name: &str) -> (String, String, String) {
    let test = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {doc:#}"));
    (
        test["outcome"].as_str().unwrap().to_owned(),
        test["message"].as_str().unwrap_or_default().to_owned(),
        test["location"].as_str().unwrap_or_default().to_owned(),
    )
}

/// SHA-256 of every file under `root` outside `target/`.
fn tree_hash(root: &Path) -> BTreeMap<String, String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .filter(|e| !e.path().strip_prefix(root).unwrap().starts_with("target"))
        .map(|e| {
            let digest = Sha256::digest(std::fs::read(e.path()).unwrap());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            (
                e.path().strip_prefix(root).unwrap().display().to_string(),
                hex,
            )
        })
        .collect()
}

#[test]
fn run_tests_classifies_every_outcome_and_leaves_the_tree_alone() {
    let dir = copy_fixture("ledger");
    let before = tree_hash(dir.path());
    let doc = run_tests_json(
        dir.path(),
        &["--timeout", "2"],
        &["ledger_outcomes.rs", "ledger_method_sequence.rs"],
        1,
    );
    assert_eq!(doc["schema"], "dualtrack.review/v1");
    assert_eq!(doc["scope"], "run-tests");
    let outcome = |name: &str| outcome_of(&doc, name);
    assert_eq!(outcome("parse_cents_contract_12").0, "passed");
    let overflow = outcome("parse_cents_large_overflows");
    assert_eq!(
        (overflow.0.as_str(), overflow.2.as_str()),
        ("panicked", "src/lib.rs:50")
    );
    assert!(overflow.1.contains("overflow"));
    assert_eq!(
        outcome("memo_preview_multibyte_boundary").2,
        "src/lib.rs:77"
    );
    assert_eq!(outcome("split_evenly_zero_parts").2, "src/lib.rs:64");
    // A panic inside std (an overflowing `sum()`) is put on the user's calling line.
    let sum = outcome("balance_after_two_max_pushes");
    assert_eq!(
        (sum.0.as_str(), sum.2.as_str()),
        ("panicked", "src/ledger.rs:21")
    );
    // The test's own assertion is a failure, at its line in the test file.
    let failed = outcome("format_cents_wrong_expectation");
    assert_eq!(failed.0, "failed");
    assert!(failed.2.ends_with("ledger_outcomes.rs:24"), "{}", failed.2);
    assert_eq!(outcome("percent_of_does_not_compile").0, "dropped");
    assert_eq!(outcome("percent_of_hangs").0, "timed_out");
    let abort = outcome("percent_of_aborts");
    assert_eq!(
        (abort.0.as_str(), abort.1.as_str()),
        ("crashed", "aborted (SIGABRT)")
    );
    let exit = outcome("percent_of_exits_early");
    assert_eq!(exit.0, "crashed");
    assert!(exit.1.contains("before the test reported"));
    assert_eq!(doc["counts"]["generated"], 10);
    assert_eq!(doc["counts"]["dropped"], 1);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 9);
    assert!(
        findings
            .iter()
            .all(|f| f["id"].as_str().unwrap().starts_with("F-"))
    );
    assert_eq!(tree_hash(dir.path()), before, "the user's tree changed");
}

#[test]
fn run_tests_on_a_crate_that_does_not_build_exits_4() {
    let dir = copy_fixture("broken");
    let assert = dualtrack()
        .args(["run-tests", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .arg(data("broken_still_analyzed.rs"))
        .assert()
        .code(4);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("does not build before any test is injected"),
        "{stderr}"
    );
}

#[test]
fn run_tests_rejects_a_file_that_is_not_a_test_module() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.rs");
    std::fs::write(&bad, "#[test]\nfn t() {}\n").unwrap();
    let assert = dualtrack()
        .args(["run-tests", "--manifest-path"])
        .arg(util::fixture("ledger/Cargo.toml"))
        .arg(&bad)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("bad.rs:1:") && stderr.contains("no `/// dualtrack:"),
        "{stderr}"
    );
}

/// Every hostile test is contained and classified, per mechanism: bubblewrap when installed
/// (CI installs it), and the unsandboxed run for what limits and the environment alone contain.
#[test]
fn run_tests_contains_hostile_tests() {
    let bwrap = std::process::Command::new("bwrap")
        .args([
            "--unshare-all",
            "--ro-bind",
            "/",
            "/",
            "--cap-drop",
            "ALL",
            "true",
        ])
        .status()
        .is_ok_and(|s| s.success());
    let builtin = dualtrack()
        .args(["__sandbox", "--ro", "/", "--chdir", "/", "--", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    // The built-in mechanism needs only user namespaces and Landlock, which the machines this
    // is built on have: it is checked always there.
    assert!(
        builtin || std::env::var_os("DUALTRACK_NO_USERNS").is_some(),
        "the built-in sandbox does not work here"
    );
    let mut mechanisms = vec!["none"];
    if builtin {
        mechanisms.push("builtin");
    }
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if bwrap && !root {
        mechanisms.push("bwrap");
    } else if bwrap {
        // Run as root, bubblewrap would leave tests host root: it is refused.
        let dir = copy_fixture("ledger");
        dualtrack()
            .args(["run-tests", "--sandbox", "bwrap", "--manifest-path"])
            .arg(dir.path().join("Cargo.toml"))
            .arg(data("ledger_one_broken_test.rs"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(
                "bubblewrap would leave tests host root",
            ));
    } else {
        eprintln!("bubblewrap is not available: it is not checked");
    }
    for mechanism in mechanisms {
        let dir = copy_fixture("ledger");
        let before = tree_hash(dir.path());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let home = tempfile::tempdir().unwrap();
        let tests = std::fs::read_to_string(data("hostile.rs.template"))
            .unwrap()
            .replace("@PORT@", &listener.local_addr().unwrap().port().to_string())
            .replace("@USER_TREE@", &dir.path().display().to_string())
            .replace("@REAL_HOME@", &home.path().display().to_string());
        let file = dir.path().join("target-hostile.rs");
        std::fs::write(&file, tests).unwrap();
        let before = {
            let mut before = before;
            before.insert(
                "target-hostile.rs".into(),
                tree_hash(dir.path())["target-hostile.rs"].clone(),
            );
            before
        };
        let output = dualtrack()
            .args([
                "run-tests",
                "--format",
                "json",
                "--timeout",
                "1",
                "--memory-limit",
                "512",
                "--file-size-limit",
                "16",
                "--reruns",
                "0",
                "--sandbox",
                mechanism,
                "--manifest-path",
            ])
            .arg(dir.path().join("Cargo.toml"))
            .arg(&file)
            .env("DUALTRACK_FAKE_SECRET", "sk-test-not-a-real-key")
            .env("HOME", home.path())
            .output()
            .unwrap();
        let doc: Value = util::checked(&output.stdout)
            .unwrap_or_else(|_| panic!("{mechanism}: {}", String::from_utf8_lossy(&output.stderr)));
        assert_eq!(doc["sandbox"], mechanism);
        let outcome = |name: &str| {
            let (outcome, message, _) = outcome_of(&doc, name);
            (outcome, message)
        };
        assert_eq!(
            outcome("hostile_setsid_child_outlives_nothing").0,
            "timed_out",
            "{mechanism}"
        );
        assert_eq!(
            outcome("hostile_reads_a_secret_from_the_environment").0,
            "passed",
            "{mechanism}"
        );
        assert_eq!(
            outcome("benign_writes_where_a_test_may"),
            ("passed".to_owned(), String::new()),
            "{mechanism}"
        );
        let memory = outcome("hostile_allocates_past_the_memory_limit");
        assert_eq!(memory.0, "crashed", "{mechanism}: {memory:?}");
        let size = outcome("hostile_writes_a_file_past_the_size_limit");
        assert!(
            size.0 == "crashed" || size.0 == "panicked",
            "{mechanism}: {size:?}"
        );
        assert_eq!(
            outcome("hostile_loops_forever").0,
            "timed_out",
            "{mechanism}"
        );
        let abort = outcome("hostile_aborts");
        assert_eq!(
            (abort.0.as_str(), abort.1.as_str()),
            ("crashed", "aborted (SIGABRT)"),
            "{mechanism}"
        );
        let exit = outcome("hostile_exits_before_reporting");
        assert!(
            exit.0 == "crashed" && exit.1.contains("before the test reported"),
            "{mechanism}: {exit:?}"
        );
        let stack = outcome("hostile_overflows_the_stack");
        assert_eq!(
            stack,
            ("crashed".to_owned(), "stack overflow".to_owned()),
            "{mechanism}"
        );
        if mechanism != "none" {
            assert_eq!(
                outcome("hostile_writes_beside_its_own_executable"),
                ("passed".to_owned(), String::new()),
                "{mechanism}"
            );
            // The setsid child would have touched its marker after 2 s; a PID namespace ends
            // it with the test (a process group alone cannot: `none` does not check this).
            std::thread::sleep(std::time::Duration::from_millis(2500));
            let scratch_tmp = dir.path().join("target/dualtrack/tmp");
            assert!(
                !scratch_tmp.join("setsid-survived").exists(),
                "{mechanism}: a setsid child outlived its test"
            );
            assert_eq!(
                outcome("hostile_connects_to_the_harness_port").0,
                "passed",
                "{mechanism}: network reached"
            );
            assert!(
                listener.accept().is_err(),
                "{mechanism}: the harness port was reached"
            );
            assert!(
                !home.path().join(".dualtrack-pwned").exists(),
                "{mechanism}: the real home was written"
            );
            assert_eq!(
                tree_hash(dir.path()),
                before,
                "{mechanism}: the user's tree changed"
            );
        }
    }
}

/// Ctrl-C ends the hanging test's process at once, keeps what finished, releases the lock.
#[cfg(unix)]
#[test]
fn run_tests_stops_cleanly_on_ctrl_c() {
    let dir = copy_fixture("ledger");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-dualtrack"))
        .args([
            "run-tests",
            "--format",
            "json",
            "--timeout",
            "120",
            "--manifest-path",
        ])
        .arg(dir.path().join("Cargo.toml"))
        .arg(data("ledger_outcomes.rs"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Long enough for the build and the quick tests; the hanging one would take 120 s.
    std::thread::sleep(std::time::Duration::from_secs(8));
    let start = std::time::Instant::now();
    // SAFETY: sends SIGINT to our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "Ctrl-C took {:?}",
        start.elapsed()
    );
    assert_eq!(output.status.code(), Some(130));
    let doc: Value = util::checked(&output.stdout).unwrap();
    assert_eq!(doc["interrupted"], true);
    let names: Vec<&str> = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"parse_cents_contract_12"), "{names:?}");
    assert!(
        !names.contains(&"percent_of_hangs"),
        "an interrupted test is not a result: {names:?}"
    );
    // The lock is free: the next run starts at once.
    dualtrack()
        .args(["run-tests", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .arg(data("ledger_method_sequence.rs"))
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1);
}

/// Tests of two members of a workspace, one in a bin target whose name has a dash.
#[test]
fn run_tests_reaches_workspace_members_and_dashed_bins() {
    let dir = copy_fixture("multi");
    let doc = run_tests_json(dir.path(), &[], &["multi_members.rs"], 0);
    let outcomes: Vec<(&str, &str)> = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["outcome"].as_str().unwrap()))
        .collect();
    assert!(
        outcomes.contains(&("clamp_percent_bounds", "passed")),
        "{outcomes:?}"
    );
    assert!(outcomes.contains(&("main_runs", "passed")), "{outcomes:?}");
}

/// A path dependency and a symlinked module that live outside the workspace are still seen by
/// the sandboxed build and tests (bwrap shows only what it is told to).
/// A copy of the ledger fixture at `outer/ledger` depending on `outer/dep` (`dep::two()`), a
/// path dependency outside its workspace.
fn ledger_with_outside_dependency(outer: &Path) -> std::path::PathBuf {
    let fixture = copy_fixture("ledger");
    let ws = outer.join("ledger");
    std::fs::rename(fixture.path(), &ws).unwrap();
    std::fs::create_dir_all(outer.join("dep/src")).unwrap();
    std::fs::write(
        outer.join("dep/Cargo.toml"),
        "[package]\nname = \"dep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(outer.join("dep/src/lib.rs"), "pub fn two() -> i64 { 2 }\n").unwrap();
    let manifest = std::fs::read_to_string(ws.join("Cargo.toml")).unwrap();
    std::fs::write(
        ws.join("Cargo.toml"),
        format!("{manifest}\n[dependencies]\ndep = {{ path = \"../dep\" }}\n"),
    )
    .unwrap();
    ws
}

#[cfg(unix)]
#[test]
fn run_tests_sees_path_dependencies_and_links_outside_the_workspace() {
    let outer = tempfile::tempdir().unwrap();
    let ws = ledger_with_outside_dependency(outer.path());
    std::fs::create_dir_all(outer.path().join("shared")).unwrap();
    std::fs::rename(
        ws.join("src/ledger.rs"),
        outer.path().join("shared/ledger.rs"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../../shared/ledger.rs", ws.join("src/ledger.rs")).unwrap();
    let linked_before = std::fs::read_to_string(outer.path().join("shared/ledger.rs")).unwrap();
    let tests = outer.path().join("outside.rs");
    std::fs::write(
        &tests,
        "//! dualtrack: {\"engine\": \"offline\"}\n\n\
         /// dualtrack: {\"function\": \"ledger::format_cents\"}\n\
         #[test]\nfn format_cents_with_a_dependency() {\n    \
         assert_eq!(format_cents(dep::two()), \"0.02\");\n}\n\n\
         /// dualtrack: {\"function\": \"ledger::ledger::Ledger::largest\"}\n\
         #[test]\nfn largest_of_none() {\n    \
         assert_eq!(Ledger::new().largest(), None);\n}\n",
    )
    .unwrap();
    // The linked module is shown when its tree is allowed; the path dependency always.
    let shared = outer.path().join("shared");
    let doc = run_tests_json(
        &ws,
        &["--allow-link", shared.to_str().unwrap()],
        &[tests.to_str().unwrap()],
        0,
    );
    assert_eq!(doc["tests"][0]["outcome"], "passed", "{doc:#}");
    // A test injected into the linked module runs there too.
    assert_eq!(doc["tests"][1]["outcome"], "passed", "{doc:#}");
    // The linked file outside the workspace got its probes in the copy, never through the
    // link.
    assert_eq!(
        std::fs::read_to_string(outer.path().join("shared/ledger.rs")).unwrap(),
        linked_before
    );
    assert!(doc["evidence"]["sites"].as_u64().unwrap() > 0, "{doc:#}");
}

/// A run whose only test does not compile is a finding: nothing ran, and CI must see that.
#[test]
fn run_tests_where_every_test_is_dropped_exits_1() {
    let dir = copy_fixture("ledger");
    let tests = dir.path().join("dropped.rs");
    std::fs::write(
        &tests,
        "//! dualtrack: {\"engine\": \"offline\"}\n\n\
         /// dualtrack: {\"function\": \"ledger::format_cents\"}\n\
         #[test]\nfn format_cents_of_text() {\n    \
         assert_eq!(format_cents(\"five\"), \"5.00\");\n}\n",
    )
    .unwrap();
    let doc = run_tests_json(dir.path(), &[], &[tests.to_str().unwrap()], 1);
    assert_eq!(doc["tests"][0]["outcome"], "dropped", "{doc:#}");
}

/// Of two `#[cfg]` twins, the test for the one not compiled here is dropped with the reason,
/// not run against the other twin.
#[cfg(unix)]
#[test]
fn run_tests_drops_a_test_for_a_twin_not_compiled_here() {
    let dir = copy_fixture("ledger");
    let lib = dir.path().join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        format!(
            "{source}\n#[cfg(unix)]\npub fn platform() -> &'static str {{\n    \"unix\"\n}}\n\n\
             #[cfg(not(unix))]\npub fn platform() -> &'static str {{\n    \"other\"\n}}\n"
        ),
    )
    .unwrap();
    let tests = dir.path().join("twins.rs");
    std::fs::write(
        &tests,
        "//! dualtrack: {\"engine\": \"offline\"}\n\n\
         /// dualtrack: {\"function\": \"ledger::platform\"}\n\
         #[test]\nfn platform_unix() {\n    assert_eq!(platform(), \"unix\");\n}\n\n\
         /// dualtrack: {\"function\": \"ledger::platform~2\"}\n\
         #[test]\nfn platform_other() {\n    assert_eq!(platform(), \"other\");\n}\n",
    )
    .unwrap();
    let output = dualtrack()
        .args(["run-tests", "--format", "json", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .arg(&tests)
        .output()
        .unwrap();
    let doc: Value = util::checked(&output.stdout).unwrap();
    let outcome = |name: &str| {
        let (outcome, message, _) = outcome_of(&doc, name);
        (outcome, message)
    };
    assert_eq!(outcome("platform_unix").0, "passed");
    let other = outcome("platform_other");
    assert_eq!(other.0, "dropped");
    assert!(other.1.contains("#[cfg(not(unix))]"), "{}", other.1);
}

/// A test that does not compile in one file, beside a good test in another: it alone is
/// dropped, with its error, and the rest run (the file it was injected into gets its own text
/// back, so its error does not stay behind to blame on no test).
#[test]
fn one_broken_test_is_dropped_alone() {
    let dir = copy_fixture("ledger");
    let doc = run_tests_json(dir.path(), &[], &["ledger_one_broken_test.rs"], 1);
    let (outcome, message, _) = outcome_of(&doc, "ledgers_compare");
    assert_eq!(outcome, "dropped", "{message}");
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["test"] == "ledgers_compare")
        .unwrap();
    assert!(
        finding["message"].to_string().contains("E0369"),
        "{finding:#}"
    );
    assert_eq!(outcome_of(&doc, "format_cents_zero").0, "passed", "{doc:#}");
}

/// A crate whose own `#[cfg(test)]` code does not build (it needs a feature `cargo test` does
/// not turn on) is still tested: that code is left out of the scratch copy, never the tree.
#[test]
fn a_crate_whose_own_tests_do_not_build_is_still_tested() {
    let dir = copy_fixture("ledger");
    let lib = dir.path().join("src/lib.rs");
    let original = std::fs::read_to_string(&lib).unwrap();
    let own_tests = "\n#[cfg(test)]\nmod own_tests {\n    #[test]\n    fn needs_a_feature() {\n        \
                     crate::only_with_the_extra_feature();\n    }\n}\n";
    std::fs::write(&lib, format!("{original}{own_tests}")).unwrap();
    let output = dualtrack()
        .args(["run-tests", "--format", "json", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .arg(data("ledger_one_broken_test.rs"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the crate's own tests do not build (src/lib.rs:"),
        "{stderr}"
    );
    let doc: Value = util::checked(&output.stdout).unwrap();
    assert_eq!(outcome_of(&doc, "format_cents_zero").0, "passed", "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(&lib).unwrap(),
        format!("{original}{own_tests}"),
        "the tree was changed"
    );
    // The next run keeps them out without building the baseline again.
    let again = dualtrack()
        .args(["run-tests", "--format", "json", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .arg(data("ledger_one_broken_test.rs"))
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let doc: Value = util::checked(&again.stdout).unwrap();
    assert_eq!(outcome_of(&doc, "format_cents_zero").0, "passed", "{doc:#}");
    // Another file changes (another fingerprint): the plan made for the old sources goes,
    // its files come back whole, and the baseline plans again rather than trusting text
    // blanked for sources that are gone.
    let cargo_toml = dir.path().join("Cargo.toml");
    let manifest = std::fs::read_to_string(&cargo_toml).unwrap();
    std::fs::write(&cargo_toml, format!("{manifest}\n# changed\n")).unwrap();
    for _ in 0..2 {
        let after = dualtrack()
            .args(["run-tests", "--format", "json", "--manifest-path"])
            .arg(&cargo_toml)
            .arg(data("ledger_one_broken_test.rs"))
            .output()
            .unwrap();
        assert_eq!(
            after.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&after.stderr)
        );
        let doc: Value = util::checked(&after.stdout).unwrap();
        assert_eq!(outcome_of(&doc, "format_cents_zero").0, "passed", "{doc:#}");
    }
}

/// The sites test `name` reached, by the probes.
fn reached_by(doc: &Value, name: &str) -> Vec<String> {
    let test = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {doc:#}"));
    test["reached"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} has no reached sites: {test:#}"))
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn probes_say_which_sites_each_test_reached_even_when_it_was_killed() {
    let dir = copy_fixture("ledger");
    let doc = run_tests_json(dir.path(), &["--timeout", "2"], &["ledger_probes.rs"], 1);
    let early_return = ["ledger::percent_of#if1", "ledger::percent_of#return1"];
    assert_eq!(reached_by(&doc, "percent_of_zero_whole"), early_return);
    // Killed by its timeout after the call: the counts outlive it.
    assert_eq!(outcome_of(&doc, "percent_of_then_hangs").0, "timed_out");
    assert_eq!(reached_by(&doc, "percent_of_then_hangs"), early_return);
    // Aborted after a call that went the other way.
    assert_eq!(outcome_of(&doc, "percent_of_then_aborts").0, "crashed");
    assert_eq!(
        reached_by(&doc, "percent_of_then_aborts"),
        ["ledger::percent_of#tail1", "ledger::percent_of#panic1"]
    );
    // The division that panics was reached; nothing after it was.
    let split = reached_by(&doc, "split_evenly_zero_parts_panics");
    assert_eq!(split, ["ledger::split_evenly#panic1"], "{split:?}");
    // Per function, what no test reached; per run, the share reached.
    let rows = doc["per_function"].as_array().unwrap();
    let split_row = rows
        .iter()
        .find(|r| r["function"] == "ledger::split_evenly")
        .unwrap();
    let unreached: Vec<&str> = split_row["evidence"]["unreached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["site"].as_str().unwrap())
        .collect();
    assert!(
        unreached.contains(&"ledger::split_evenly#tail1"),
        "{split_row:#}"
    );
    let evidence = &doc["evidence"];
    assert_eq!(evidence["sites"], 8, "{evidence:#}");
    assert_eq!(evidence["reached"], 5, "{evidence:#}");

    // Without probes: the same outcomes, and no evidence.
    let plain = run_tests_json(
        dir.path(),
        &["--timeout", "2", "--no-probes"],
        &["ledger_probes.rs"],
        1,
    );
    assert!(plain.get("evidence").is_none());
    for name in [
        "percent_of_zero_whole",
        "percent_of_then_hangs",
        "split_evenly_zero_parts_panics",
        "percent_of_then_aborts",
    ] {
        assert_eq!(
            outcome_of(&plain, name).0,
            outcome_of(&doc, name).0,
            "{name}"
        );
        assert!(
            plain["tests"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t.get("reached").is_none())
        );
    }
}

/// A crate directory a test made by hand.
struct AppDir<'a>(&'a std::path::Path);

impl AppDir<'_> {
    fn path(&self) -> &std::path::Path {
        self.0
    }
}

#[test]
fn a_crate_that_forbids_unsafe_code_still_gets_probes() {
    let body =
        "pub fn half(x: u8) -> u8 {\n    if x == 0 {\n        return 0;\n    }\n    x / 2\n}\n";
    let package =
        "[package]\nname = \"strict\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n";
    // In the crate root, and in the manifest's lint table (where `allow` cannot override it
    // either), beside a path dependency outside the workspace that the copy's manifest must
    // still find.
    let in_root = (
        package.to_owned(),
        format!("#![forbid(unsafe_code)]\n\n{body}"),
    );
    let in_manifest = (
        format!(
            "{package}\n[dependencies]\nshared = {{ path = \"../shared\" }}\n\n\
             [lints.rust]\nunsafe_code = \"forbid\"\n"
        ),
        format!("pub use shared::ONE;\n\n{body}"),
    );
    for (manifest, source) in [in_root, in_manifest] {
        let outer = tempfile::tempdir().unwrap();
        let shared = outer.path().join("shared");
        std::fs::create_dir_all(shared.join("src")).unwrap();
        std::fs::write(
            shared.join("Cargo.toml"),
            "[package]\nname = \"shared\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .unwrap();
        std::fs::write(shared.join("src/lib.rs"), "pub const ONE: u8 = 1;\n").unwrap();
        let app = outer.path().join("app");
        std::fs::create_dir_all(app.join("src")).unwrap();
        std::fs::write(app.join("Cargo.toml"), &manifest).unwrap();
        std::fs::write(app.join("src/lib.rs"), &source).unwrap();
        let dir = AppDir(&app);
        let output = dualtrack()
            .args([
                "review",
                "--all-functions",
                "--format",
                "json",
                "--manifest-path",
            ])
            .arg(dir.path().join("Cargo.toml"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        let doc: Value = util::checked(&output.stdout).unwrap();
        assert!(doc["counts"]["passed"].as_u64().unwrap() > 0, "{doc:#}");
        let evidence = &doc["evidence"];
        assert!(
            evidence.get("disabled").is_none(),
            "{manifest}: {evidence:#}"
        );
        assert_eq!(evidence["reached"], evidence["sites"], "{evidence:#}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap(),
            source,
            "the user's file is untouched"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap(),
            manifest,
            "the user's manifest is untouched"
        );
    }
}

#[test]
fn probes_that_do_not_build_are_taken_out_and_the_others_stay() {
    // In edition 2024 a block's tail drops its temporaries: an `unwrap` wrapped in a probe's
    // block no longer builds when its result borrows one (`cell.borrow()`).
    let dir = util::one_file_crate(
        "[package]\nname = \"named\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
        "pub struct Named(pub String);\n\nimpl Named {\n    pub fn unwrap(&self) -> &str {\n        \
         &self.0\n    }\n}\n\npub fn twice(name: Named) -> usize {\n    let first = name.unwrap().len();\n    \
         first + name.0.len()\n}\n\n\
         pub fn first_byte(cell: &std::cell::RefCell<Vec<u8>>) -> u8 {\n    \
         let first = *cell.borrow().get(0).unwrap();\n    first\n}\n\n\
         // A copyable cursor whose `expect` advances it in place: a probe must not advance a copy.\n\
         #[derive(Clone, Copy)]\npub struct Cursor {\n    pub pos: usize,\n}\n\n\
         impl Cursor {\n    pub fn expect(&mut self, _byte: u8) {\n        self.pos += 1;\n    }\n}\n\n\
         pub fn advanced(mut cursor: Cursor) -> usize {\n    cursor.expect(b'x');\n    cursor.pos\n}\n\n\
         // A tail with attributes: a probe before it would take them.\n\
         pub fn family() -> &'static str {\n    #[cfg(unix)]\n    {\n        \"unix\"\n    }\n    \
         #[cfg(not(unix))]\n    {\n        \"other\"\n    }\n}\n",
    );
    let tests = dir.path().join("named_tests.rs");
    std::fs::write(
        &tests,
        "//! dualtrack: {\"engine\": \"offline\"}\n\n/// dualtrack: {\"function\": \"named::twice\"}\n\
         #[test]\nfn twice_counts_both() {\n    assert_eq!(twice(Named(\"ab\".into())), 4);\n}\n\n\
         /// dualtrack: {\"function\": \"named::first_byte\"}\n\
         #[test]\nfn first_byte_of_a_cell() {\n    \
         assert_eq!(first_byte(&std::cell::RefCell::new(vec![7])), 7);\n}\n\n\
         /// dualtrack: {\"function\": \"named::advanced\"}\n\
         #[test]\nfn advanced_once() {\n    assert_eq!(advanced(Cursor { pos: 0 }), 1);\n}\n\n\
         /// dualtrack: {\"function\": \"named::family\"}\n\
         #[test]\nfn family_is_unix() {\n    assert_eq!(family(), \"unix\");\n}\n",
    )
    .unwrap();
    let doc = run_tests_json(dir.path(), &[], &[tests.to_str().unwrap()], 0);
    assert_eq!(outcome_of(&doc, "twice_counts_both").0, "passed");
    // The method called `expect` still advances the cursor itself, probe or not; the tail
    // with attributes keeps them.
    assert_eq!(outcome_of(&doc, "advanced_once").0, "passed", "{doc:#}");
    assert_eq!(outcome_of(&doc, "family_is_unix").0, "passed", "{doc:#}");
    assert!(reached_by(&doc, "advanced_once").contains(&"named::advanced#panic1".to_owned()));
    // That one probe is taken out; the others stay and count.
    let evidence = &doc["evidence"];
    assert!(evidence.get("disabled").is_none(), "{evidence:#}");
    assert_eq!(
        evidence["unprobed"]["named::first_byte"], "a probe did not build here",
        "{evidence:#}"
    );
    assert_eq!(outcome_of(&doc, "first_byte_of_a_cell").0, "passed");
    // A method the function calls counts too, in the same crate.
    let twice = reached_by(&doc, "twice_counts_both");
    for site in ["named::twice#tail1", "named::Named::unwrap#tail1"] {
        assert!(twice.contains(&site.to_owned()), "{twice:?}");
    }
}

/// (path, length, modification time, SHA-256) of every file under `dir`.
fn files_under(dir: &Path) -> BTreeMap<String, (u64, std::time::SystemTime, String)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let metadata = e.metadata().unwrap();
            let digest = Sha256::digest(std::fs::read(e.path()).unwrap());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            (
                e.path().strip_prefix(dir).unwrap().display().to_string(),
                (metadata.len(), metadata.modified().unwrap(), hex),
            )
        })
        .collect()
}

/// The scratch build starts from the user's: a dependency the user built is put in the scratch
/// target and cargo takes it as fresh; nothing in the user's target directory changes; a second
/// run puts nothing in again.
#[test]
fn run_tests_reuse_the_users_dependency_builds_and_never_write_them() {
    let outer = tempfile::tempdir().unwrap();
    let ws = ledger_with_outside_dependency(outer.path());
    // The user's own build.
    let built = util::users_cargo_test(&ws.join("Cargo.toml"), &["--no-run"]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let users = ws.join("target/debug");
    let before = files_under(&users);
    let tests = outer.path().join("with_dep.rs");
    std::fs::write(
        &tests,
        "//! dualtrack: {\"engine\": \"offline\"}\n\n\
         /// dualtrack: {\"function\": \"ledger::format_cents\"}\n\
         #[test]\nfn format_cents_with_a_dependency() {\n    \
         assert_eq!(format_cents(dep::two()), \"0.02\");\n}\n",
    )
    .unwrap();
    let run = |expect_line: bool| {
        let output = dualtrack()
            .args(["run-tests", "--manifest-path"])
            .arg(ws.join("Cargo.toml"))
            .arg(&tests)
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        let line = stderr.lines().find(|l| l.contains("reused your build in"));
        assert_eq!(line.is_some(), expect_line, "{stderr}");
        line.map(str::to_owned)
    };
    let line = run(true).unwrap();
    assert!(
        line.contains(&users.display().to_string())
            && line.contains("1 dependency unit put in")
            && line.contains("cargo found 1 fresh and compiled 0"),
        "{line}"
    );
    // The scratch target holds the dependency now: nothing is put in again.
    run(false);
    // The dependency changes: cargo rebuilds it in the scratch target under the same names,
    // over what was linked from the user's target, which must not change through the links.
    std::fs::write(
        outer.path().join("dep/src/lib.rs"),
        "pub fn two() -> i64 { 1 + 1 }\n",
    )
    .unwrap();
    run(false);
    // The user's target is as it was, file for file (the scratch area lives beside it).
    let after: BTreeMap<_, _> = files_under(&users);
    assert_eq!(before, after);
}
