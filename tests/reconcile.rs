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
    let run = |args: &[&str]| {
        dualtrack()
            .args(args)
            .arg("--manifest-path")
            .arg(&manifest)
            .output()
            .unwrap()
    };
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
    let cargo = std::process::Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("dualtrack_tests")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
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
