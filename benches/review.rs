//! `review --all-functions` speed on the ledger fixture given two registry dependencies
//! (`regex-syntax`, `semver`), so that what a warm run must not rebuild is real: cold (empty
//! target directory), warm (nothing changed), and warm after an edit to one function. Checks
//! that no warm run rebuilds a dependency (their artifacts keep their modification times);
//! the summary prints the figures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

mod util;
use util::{copy, median, succeed, timed};

fn main() {
    let setup = Setup::new();
    let cold = timed(|| setup.review());
    let dependencies = setup.dependency_artifacts();
    assert!(
        !dependencies.is_empty(),
        "the cold run built no dependency: the benchmark measures nothing"
    );
    let warm = median(5, || timed(|| setup.review()));
    setup.edit_one_function();
    let edited = timed(|| setup.review());
    let rebuilt: Vec<&PathBuf> = dependencies
        .iter()
        .filter(|(path, time)| modified(path) != *time)
        .map(|(path, _)| path)
        .collect();
    assert!(
        rebuilt.is_empty(),
        "a warm run rebuilt dependencies: {rebuilt:#?}"
    );
    // The pre-push loop: a review of the one function an edit changed, against the user's
    // own incremental `cargo test --no-run` after the same edit plus a run of the crate's
    // tests (each the median of three, each after a fresh edit).
    let one_function = median(3, || {
        setup.toggle_edit();
        timed(|| setup.review_of(&["--fn", "ledger::split_evenly"]))
    });
    setup.users_cargo(&["test", "--no-run"]);
    let users = median(3, || {
        setup.toggle_edit();
        timed(|| {
            setup.users_cargo(&["test", "--no-run"]);
            setup.users_cargo(&["test"]);
        })
    });
    divan::main();
    println!(
        "\nthe pre-push loop, one function edited (median of 3): review --fn {:.2} s; the user's \
         cargo test --no-run + cargo test {:.2} s; ratio {:.2} (goal 1.5)",
        one_function.as_secs_f64(),
        users.as_secs_f64(),
        one_function.as_secs_f64() / users.as_secs_f64()
    );
    println!("\nreview --all-functions, fixtures/ledger + regex-syntax + semver (30 tests):");
    println!("  cold (empty target)       {:>7.2} s", cold.as_secs_f64());
    println!(
        "  warm, nothing changed     {:>7.2} s (median of 5)",
        warm.as_secs_f64()
    );
    println!(
        "  warm, one function edited {:>7.2} s",
        edited.as_secs_f64()
    );
    println!(
        "  dependency artifacts rebuilt by warm runs: {} of {}",
        rebuilt.len(),
        dependencies.len()
    );
}

#[divan::bench(sample_count = 5)]
fn warm_review_all_functions(bencher: divan::Bencher) {
    let setup = Setup::new();
    setup.review();
    bencher.bench(|| setup.review());
}

/// A copy of the ledger fixture with dependencies, in a directory of its own.
struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ledger");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ledger");
        copy(&fixture, &root);
        let manifest = root.join("Cargo.toml");
        let mut text = std::fs::read_to_string(&manifest).unwrap();
        text.push_str("\n[dependencies]\nregex-syntax = \"0.8\"\nsemver = \"1\"\n");
        std::fs::write(&manifest, text).unwrap();
        Setup { _dir: dir, root }
    }

    fn review(&self) {
        self.review_of(&["--all-functions"]);
    }

    fn review_of(&self, scope: &[&str]) {
        succeed(
            Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
                .arg("review")
                .args(scope)
                .args(["--fail-on", "never", "--no-ledger", "-q"])
                .arg("--manifest-path")
                .arg(self.root.join("Cargo.toml"))
                .env_remove("CARGO_TARGET_DIR"),
        );
    }

    /// `cargo ARGS` in the user's tree, with its own target directory; its exit is not ours
    /// to judge (the fixture's own tests may fail).
    fn users_cargo(&self, args: &[&str]) {
        let _ = Command::new(env!("CARGO"))
            .args(args)
            .arg("--manifest-path")
            .arg(self.root.join("Cargo.toml"))
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
    }

    /// One function's body the other way: a change each time.
    fn toggle_edit(&self) {
        let lib = self.root.join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap();
        let (plain, parenthesized) = (
            "let base = total / parts as i64;",
            "let base = total / (parts as i64);",
        );
        let edited = if text.contains(parenthesized) {
            text.replacen(parenthesized, plain, 1)
        } else {
            text.replacen(plain, parenthesized, 1)
        };
        assert_ne!(text, edited, "the fixture changed: update the edit");
        std::fs::write(&lib, edited).unwrap();
    }

    /// The dependencies' compiled libraries in the scratch build, with their times.
    fn dependency_artifacts(&self) -> Vec<(PathBuf, SystemTime)> {
        let deps = self.root.join("target/dualtrack/target/debug/deps");
        std::fs::read_dir(&deps)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name.starts_with("libsemver-") || name.starts_with("libregex_syntax-"))
                    && name.ends_with(".rlib")
            })
            .map(|p| {
                let time = modified(&p);
                (p, time)
            })
            .collect()
    }

    /// A change a developer makes between two reviews: one function's body.
    fn edit_one_function(&self) {
        let lib = self.root.join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap();
        let edited = text.replacen(
            "let base = total / parts as i64;",
            "let base = total / (parts as i64);",
            1,
        );
        assert_ne!(text, edited, "the fixture changed: update the edit");
        std::fs::write(&lib, edited).unwrap();
    }
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}
