//! Helpers shared by the benchmarks.

use std::path::Path;

/// Copy a fixture crate (without what a run leaves there: `target/`, `.dualtrack/`) to `to`.
#[allow(dead_code)] // not every benchmark copies a fixture
pub fn copy(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        if rel.starts_with("target") || rel.starts_with(".dualtrack") {
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

/// Run `command` (the binary under benchmark) and fail with its stderr unless it succeeds.
#[allow(dead_code)] // not every benchmark runs the binary
pub fn succeed(command: &mut std::process::Command) -> std::process::Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
