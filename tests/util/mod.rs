//! Helpers shared by the integration tests: fixture paths, the binary, fixture copies.

#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub mod registry;

/// A fixture crate under `fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The real binary, hermetic: no inherited target dir, no colors.
pub fn dualtrack() -> Command {
    let mut command = Command::cargo_bin("cargo-dualtrack").unwrap();
    // Run as an installed tool is: not as `cargo run` in this checkout (whose variables the
    // test process has from cargo), which changes the rerun lines.
    command
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_PKG_NAME")
        .env_remove("CARGO_MANIFEST_DIR")
        .env("NO_COLOR", "1");
    command
}

/// Copy the tree at `from` to `to`, without what a run leaves there (`target/`, and the
/// `.dualtrack/` ledger the README's demo writes into its fixture).
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        if rel
            .components()
            .any(|c| c.as_os_str() == "target" || c.as_os_str() == ".dualtrack")
        {
            continue;
        }
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A crate of one file in a temporary directory: `manifest` as its Cargo.toml, `lib` as its
/// `src/lib.rs`.
pub fn one_file_crate(manifest: &str, lib: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), lib).unwrap();
    dir
}

/// Copy a fixture (as [`copy_dir`] does) to a temporary directory a test may change.
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(name), dir.path());
    dir
}

/// The user's own `cargo test NAME_FILTER` on the crate at `manifest`, as they would run it.
pub fn users_cargo_test(manifest: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--manifest-path"])
        .arg(manifest)
        .args(args)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap()
}

/// The binary with `args` on the crate at `manifest`, run to the end.
pub fn dualtrack_on(manifest: &Path, args: &[&str]) -> std::process::Output {
    dualtrack()
        .args(args)
        .arg("--manifest-path")
        .arg(manifest)
        .output()
        .unwrap()
}

/// Check `document` against the published schema `docs/schemas/{file}`.
pub fn assert_matches_schema(file: &str, document: &serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schemas")
        .join(file);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .take(10)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{file}: {errors:#?}");
}

/// A document the binary wrote, parsed, and checked against its published schema when its
/// `schema` names one (`dualtrack.analyze/v1`, `score/v1`, `review/v1`).
pub fn checked(bytes: &[u8]) -> serde_json::Result<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_slice(bytes)?;
    let file = match value["schema"].as_str() {
        Some("dualtrack.analyze/v1") => Some("analyze.v1.schema.json"),
        Some("dualtrack.score/v1") => Some("score.v1.schema.json"),
        Some("dualtrack.review/v1") => Some("review.v1.schema.json"),
        _ => None,
    };
    if let Some(file) = file {
        assert_matches_schema(file, &value);
    }
    Ok(value)
}
