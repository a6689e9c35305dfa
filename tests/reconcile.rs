//! `reconcile --keep` end to end: the finding's test is checked into the user's tree, fails
//! there under plain `cargo test` until the code is fixed, and the next review counts the
//! finding as kept.

use serde_json::Value;

mod util;
use util::dualtrack;

#[test]
fn a_kept_test_is_checked_in_and_fails_under_plain_cargo_test() {
    let dir = util::copy_fixture("planted");
    let manifest = dir.path().join("Cargo.toml");
    let run = |args: &[&str]| util::dualtrack_on(&manifest, args);
    let review = run(&[
        "review",
        "--fn",
        "planted::average",
        "-q",
        "--format",
        "json",
    ]);
    assert_eq!(review.status.code(), Some(1));
    let report: Value = util::checked(&review.stdout).unwrap();
    let finding = &report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "failure")
        .unwrap();
    let id = finding["id"].as_str().unwrap();
    let test = finding["test"].as_str().unwrap();

    let kept = run(&["reconcile", "--keep", id, "--format", "json"]);
    assert_eq!(
        kept.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&kept.stderr)
    );
    // The check-in build says what it is doing while it runs.
    assert!(
        String::from_utf8_lossy(&kept.stderr)
            .contains("reconcile: building 1 test where it will go"),
        "{}",
        String::from_utf8_lossy(&kept.stderr)
    );
    let kept: Value = util::checked(&kept.stdout).unwrap();
    assert_eq!(kept["checked_in"]["tests"][0], test);
    // `average` is public API: its test is an integration test, naming the crate.
    let file = std::fs::read_to_string(dir.path().join("tests/dualtrack_lib.rs")).unwrap();
    assert!(
        file.contains(&format!(
            "// dualtrack {id}: planted::average\n#[test]\nfn {test}()"
        )),
        "{file}"
    );
    assert!(file.contains("\nuse planted::*;\n"), "{file}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap(),
        std::fs::read_to_string(util::fixture("planted").join("src/lib.rs")).unwrap()
    );
    // The build check made no Cargo.lock the tree did not have.
    assert_eq!(
        dir.path().join("Cargo.lock").exists(),
        util::fixture("planted").join("Cargo.lock").exists()
    );

    // The user's own `cargo test` runs it, and it fails: the bug is still there.
    let cargo = util::users_cargo_test(&manifest, &["--test", "dualtrack_lib"]);
    let stdout = String::from_utf8_lossy(&cargo.stdout);
    assert!(!cargo.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("{test} ... FAILED"))
            || stdout.contains(&format!("---- {test} stdout")),
        "{stdout}"
    );

    // The next review: the finding is kept, not new, and does not fail it.
    let again = run(&[
        "review",
        "--fn",
        "planted::average",
        "-q",
        "--format",
        "json",
    ]);
    assert_eq!(again.status.code(), Some(0));
    let again: Value = util::checked(&again.stdout).unwrap();
    let same = again["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap();
    assert_eq!(same["status"], "kept");

    // Keeping it again writes nothing twice.
    let twice = run(&["reconcile", "--keep", id]);
    assert_eq!(twice.status.code(), Some(0));
    let file_after = std::fs::read_to_string(dir.path().join("tests/dualtrack_lib.rs")).unwrap();
    assert_eq!(file_after, file);
}

#[test]
fn init_writes_a_config_and_a_spec_template_and_never_overwrites() {
    let dir = util::copy_fixture("planted");
    std::fs::remove_file(dir.path().join("SPEC.md")).unwrap();
    let manifest = dir.path().join("Cargo.toml");
    let init = || {
        dualtrack()
            .args(["init", "--manifest-path"])
            .arg(&manifest)
            .output()
            .unwrap()
    };
    let first = init();
    assert_eq!(first.status.code(), Some(0));
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(said.contains("wrote dualtrack.toml"), "{said}");
    assert!(said.contains("public functions listed"), "{said}");
    let spec = std::fs::read_to_string(dir.path().join("SPEC.md")).unwrap();
    assert!(spec.contains("## Acceptance criteria"), "{spec}");
    assert!(spec.contains("planted::average  (src/lib.rs:18)"), "{spec}");
    // The ledger merges by union, said once however often init runs.
    let attributes = dir.path().join(".gitattributes");
    assert_eq!(
        std::fs::read_to_string(&attributes).unwrap(),
        ".dualtrack/ledger.csv merge=union\n"
    );
    // Its Target line names functions by path, none by a bare trait method name: `score`
    // right after `init` has sites in scope.
    assert!(spec.contains("Target: `planted::"), "{spec}");
    assert!(
        !spec.contains("`fmt`") && !spec.contains("`from`"),
        "{spec}"
    );
    let targeted = dualtrack()
        .args(["score", "--format", "json", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    let targeted: Value = util::checked(&targeted.stdout).unwrap();
    assert!(
        targeted["functions"].as_array().unwrap().len() > 5 && targeted["site_coverage"] == 0.0,
        "{targeted:#}"
    );
    // The template is a spec `score` reads: no items yet, every site unspecified.
    let score = dualtrack()
        .args([
            "score",
            "--all-functions",
            "--format",
            "json",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .unwrap();
    let score: Value = util::checked(&score.stdout).unwrap();
    assert!(
        score["unspecified_sites"].as_array().unwrap().len() > 10,
        "{score:#}"
    );

    std::fs::write(dir.path().join("SPEC.md"), "# mine\n").unwrap();
    std::fs::write(dir.path().join("dualtrack.toml"), "ledger = false\n").unwrap();
    let second = init();
    assert_eq!(second.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&second.stdout).contains("kept dualtrack.toml: it exists"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("SPEC.md")).unwrap(),
        "# mine\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dualtrack.toml")).unwrap(),
        "ledger = false\n"
    );
    assert_eq!(
        std::fs::read_to_string(&attributes).unwrap(),
        ".dualtrack/ledger.csv merge=union\n",
        "the line is there once"
    );
}

#[test]
fn generate_write_checks_the_tests_in_once() {
    let dir = util::copy_fixture("planted");
    let manifest = dir.path().join("Cargo.toml");
    // `checked_average` is public API, `bucket` private.
    let write = || {
        dualtrack()
            .args([
                "generate",
                "--fn",
                "planted::checked_average",
                "--fn",
                "planted::bucket",
            ])
            .args(["--private", "--write"])
            .arg("--manifest-path")
            .arg(&manifest)
            .output()
            .unwrap()
    };
    let first = write();
    let said = String::from_utf8_lossy(&first.stdout);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(said.contains("tests/dualtrack_lib.rs"), "{said}");
    assert!(said.contains("src/lib/dualtrack_tests.rs"), "{said}");
    let public = std::fs::read_to_string(dir.path().join("tests/dualtrack_lib.rs")).unwrap();
    assert!(public.matches("#[test]").count() >= 3, "{public}");
    assert!(
        public.contains("// dualtrack generated: planted::checked_average"),
        "{public}"
    );
    assert!(!public.contains("planted::bucket"), "{public}");
    let private = std::fs::read_to_string(dir.path().join("src/lib/dualtrack_tests.rs")).unwrap();
    assert!(
        private.contains("// dualtrack generated: planted::bucket"),
        "{private}"
    );
    assert!(!private.contains("checked_average"), "{private}");
    // Again: every test is there already, nothing is added.
    let second = write();
    assert!(String::from_utf8_lossy(&second.stdout).contains("nothing new to check in ("));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tests/dualtrack_lib.rs")).unwrap(),
        public
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/lib/dualtrack_tests.rs")).unwrap(),
        private
    );
    // Both are correct: the checked-in tests pass under plain `cargo test`.
    let cargo = util::users_cargo_test(&manifest, &[]);
    assert!(
        cargo.status.success(),
        "{}",
        String::from_utf8_lossy(&cargo.stdout)
    );
    let listed = util::users_cargo_test(&manifest, &["--", "--list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("dualtrack_tests::bucket_"), "{listed}");
    assert!(listed.contains("\nchecked_average_"), "{listed}");
}

#[test]
fn contradicting_options_are_refused_before_anything_is_read() {
    let manifest = util::fixture("ledger").join("Cargo.toml");
    for (args, said) in [
        (
            &[
                "reconcile",
                "--keep",
                "F-0123456789",
                "--accept",
                "F-0123456789",
            ][..],
            "F-0123456789 is given to both --keep/--apply and --accept",
        ),
        (
            &["reconcile", "--defer", "F-0123456789", "--reason", "why"][..],
            "--reason goes with --accept ID or --accept-all",
        ),
        (
            &["reconcile", "--list", "--keep-all-passing"][..],
            "--list only lists",
        ),
    ] {
        let output = util::dualtrack_on(&manifest, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
}

/// The check-in's build runs in the scratch copy: killed during it, the tool leaves the user's
/// tree as it was (no test file, no Cargo.lock), and a journal of a final write that died
/// half-way is put back by the next command.
#[cfg(unix)]
#[test]
fn a_check_in_killed_half_way_leaves_the_tree_as_it_was() {
    let dir = util::copy_fixture("planted");
    let before: Vec<String> = walk(dir.path());
    let mut tool = std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-dualtrack"))
        .args(["generate", "--write", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed as soon as a test file exists anywhere: the copy (now) or the tree (before).
    let started = std::time::Instant::now();
    let written = |root: &std::path::Path| {
        root.join("tests/dualtrack_lib.rs").exists()
            || root.join("src/lib/dualtrack_tests.rs").exists()
    };
    let copy = dir.path().join("target/dualtrack/scratch");
    while !written(dir.path()) && !written(&copy) {
        assert!(
            tool.try_wait().unwrap().is_none(),
            "generate ended before writing"
        );
        assert!(started.elapsed().as_secs() < 120, "nothing was written");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    tool.kill().unwrap();
    tool.wait().unwrap();
    assert_eq!(walk(dir.path()), before, "the tree changed");

    // A journal of a write that died half-way: the next command puts the file back.
    let lib = dir.path().join("src/lib.rs");
    let original = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        format!("{original}\n#[cfg(test)]\nmod half_written;\n"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("tests/dualtrack_lib.rs"), "// half").unwrap();
    let journal = serde_json::json!({
        "workspace": dir.path().canonicalize().unwrap(),
        "before": [["src/lib.rs", original], ["tests/dualtrack_lib.rs", null]],
        "created": [dir.path().canonicalize().unwrap().join("tests")],
    });
    std::fs::write(
        dir.path().join("target/dualtrack/checkin-journal.json"),
        journal.to_string(),
    )
    .unwrap();
    // Any command that opens the scratch area replays it; `clean` before it removes anything.
    let output = util::dualtrack_on(&dir.path().join("Cargo.toml"), &["clean"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("put back as they were"), "{stderr}");
    assert_eq!(walk(dir.path()), before, "the journal was not replayed");
}

/// Every path under `root` but `target/`, with its content.
fn walk(root: &std::path::Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| !e.path().strip_prefix(root).unwrap().starts_with("target"))
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            format!("{} {text}", e.path().strip_prefix(root).unwrap().display())
        })
        .collect()
}

#[test]
fn two_branches_ledger_rows_merge_without_conflict_after_init() {
    let dir = util::copy_fixture("ledger");
    let root = dir.path();
    let manifest = root.join("Cargo.toml");
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {output:?}");
    };
    std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
    let init = util::dualtrack_on(&manifest, &["init"]);
    assert!(init.status.success(), "{init:?}");
    let review = |function: &str| {
        let output = util::dualtrack_on(
            &manifest,
            &["review", "--fn", function, "--fail-on", "never", "-q"],
        );
        assert!(output.status.success(), "{output:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["commit", "-q", "--allow-empty", "-m", "empty"]);
    review("ledger::split_evenly");
    git(&["add", "-A"]);
    git(&["commit", "-qm", "base"]);
    // Each branch appends its own review's row to the same last line of the ledger.
    git(&["checkout", "-qb", "one"]);
    review("ledger::parse_cents");
    git(&["commit", "-qam", "one"]);
    git(&["checkout", "-q", "main"]);
    git(&["checkout", "-qb", "two"]);
    review("ledger::format_cents");
    git(&["commit", "-qam", "two"]);
    git(&["merge", "-q", "--no-edit", "one"]);
    let ledger = std::fs::read_to_string(root.join(".dualtrack/ledger.csv")).unwrap();
    assert!(!ledger.contains("<<<<<<<"), "{ledger}");
    // One review row per branch, each task named after its branch.
    for task in ["main", "one", "two"] {
        let rows = ledger
            .lines()
            .filter(|row| row.starts_with("review,") && row.contains(&format!(",{task},")))
            .count();
        assert_eq!(rows, 1, "{task}: {ledger}");
    }
}
