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
    let report: Value = serde_json::from_slice(&review.stdout).unwrap();
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
    let kept: Value = serde_json::from_slice(&kept.stdout).unwrap();
    assert_eq!(kept["checked_in"]["tests"][0], test);
    let module = std::fs::read_to_string(dir.path().join("src/lib/dualtrack_tests.rs")).unwrap();
    assert!(
        module.contains(&format!(
            "// dualtrack {id}: planted::average\n#[test]\nfn {test}()"
        )),
        "{module}"
    );
    let lib = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    assert!(
        lib.ends_with("#[cfg(test)]\n#[path = \"lib/dualtrack_tests.rs\"]\nmod dualtrack_tests;\n")
    );

    // The user's own `cargo test` runs it, and it fails: the bug is still there.
    let cargo = util::users_cargo_test(&manifest, "dualtrack_tests");
    let stdout = String::from_utf8_lossy(&cargo.stdout);
    assert!(!cargo.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("dualtrack_tests::{test}")),
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
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
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
    let module_after =
        std::fs::read_to_string(dir.path().join("src/lib/dualtrack_tests.rs")).unwrap();
    assert_eq!(module_after, module);
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
    let score: Value = serde_json::from_slice(&score.stdout).unwrap();
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
}

#[test]
fn generate_write_checks_the_tests_in_once() {
    let dir = util::copy_fixture("planted");
    let manifest = dir.path().join("Cargo.toml");
    let write = || {
        dualtrack()
            .args(["generate", "--fn", "planted::checked_average", "--write"])
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
    assert!(said.contains("src/lib/dualtrack_tests.rs"), "{said}");
    let module = std::fs::read_to_string(dir.path().join("src/lib/dualtrack_tests.rs")).unwrap();
    let count = module.matches("#[test]").count();
    assert!(count >= 3, "{module}");
    assert!(
        module.contains("// dualtrack generated: planted::checked_average"),
        "{module}"
    );
    // Again: every test is there already, nothing is added.
    let second = write();
    assert!(String::from_utf8_lossy(&second.stdout).contains("checked in 0 tests"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/lib/dualtrack_tests.rs")).unwrap(),
        module
    );
    // checked_average is correct: the checked-in tests pass under plain `cargo test`.
    let cargo = util::users_cargo_test(&manifest, "dualtrack_tests");
    assert!(
        cargo.status.success(),
        "{}",
        String::from_utf8_lossy(&cargo.stdout)
    );
}
