//! `run-tests` speed at the defaults (sandbox `auto`, two reruns of a failure): a warm
//! `cargo dualtrack run-tests` of the offline engine's tests for `fixtures/ledger` against a
//! warm plain `cargo test` of the same tests placed in the original tree, both as a user runs
//! them (through cargo, which names itself in `$CARGO`). Two sets: the tests that pass (goal:
//! at most 1.3 times), and all of them, failures and their reruns included (goal: at most 1.6
//! times). A report, not a timing loop: it prints the medians and the ratios.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod util;
use util::copy;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let all = generated_tests(root, dir.path());
    let passing = passing_only(&all, dir.path());
    println!(
        "warm runs on fixtures/ledger, median of 9 (sandbox: {}):",
        sandbox(dir.path(), &all)
    );
    for (what, module, goal) in [
        ("tests that pass", &passing, 1.3),
        ("all, with failures", &all, 1.6),
    ] {
        let setup = Setup::new(root, dir.path(), what, module);
        // Warm both: the first runs build everything.
        setup.plain();
        setup.dualtrack();
        let plain = median(9, || timed(|| setup.plain()));
        let dualtrack = median(9, || timed(|| setup.dualtrack()));
        let ratio = dualtrack.as_secs_f64() / plain.as_secs_f64();
        println!(
            "  {what:<20} {:>2} tests: plain cargo test {:>6.1} ms, run-tests {:>6.1} ms, \
             ratio {ratio:.2} (goal <= {goal})",
            module.tests,
            plain.as_secs_f64() * 1e3,
            dualtrack.as_secs_f64() * 1e3,
        );
    }
}

/// A test module and how many tests it holds.
struct Module {
    path: PathBuf,
    tests: usize,
}

/// The offline engine's tests for the ledger fixture, as `generate` writes them.
fn generated_tests(root: &Path, dir: &Path) -> Module {
    let crate_dir = dir.join("generate");
    copy(&root.join("fixtures/ledger"), &crate_dir);
    let output = dualtrack()
        .args(["generate", "--manifest-path"])
        .arg(crate_dir.join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = dir.join("generated.rs");
    std::fs::write(&path, &output.stdout).unwrap();
    Module {
        tests: count_tests(&String::from_utf8_lossy(&output.stdout)),
        path,
    }
}

/// `all` without the tests that do not pass.
fn passing_only(all: &Module, dir: &Path) -> Module {
    let crate_dir = dir.join("generate");
    let output = dualtrack()
        .args(["run-tests", "--format", "json", "--manifest-path"])
        .arg(crate_dir.join("Cargo.toml"))
        .arg(&all.path)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let passed: Vec<String> = report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["outcome"] == "passed")
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    let text = std::fs::read_to_string(&all.path).unwrap();
    let mut parts = text.split("\n/// dualtrack:");
    let mut module = parts.next().unwrap().to_owned();
    for test in parts.filter(|t| {
        passed
            .iter()
            .any(|name| t.contains(&format!("fn {name}()")))
    }) {
        module.push_str("\n/// dualtrack:");
        module.push_str(test);
    }
    let path = dir.join("passing.rs");
    std::fs::write(&path, &module).unwrap();
    Module {
        tests: count_tests(&module),
        path,
    }
}

fn count_tests(module: &str) -> usize {
    module.matches("#[test]").count()
}

/// The sandbox `run-tests` chose.
fn sandbox(dir: &Path, all: &Module) -> String {
    let output = dualtrack()
        .args(["run-tests", "--format", "json", "--manifest-path"])
        .arg(dir.join("generate/Cargo.toml"))
        .arg(&all.path)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    report["sandbox"].as_str().unwrap_or("?").to_owned()
}

/// The binary as cargo runs a subcommand: `$CARGO` names cargo.
fn dualtrack() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"));
    command
        .env("CARGO", env!("CARGO"))
        .env_remove("CARGO_TARGET_DIR");
    command
}

/// Two copies of the ledger fixture: one with the tests in its source, one for run-tests.
struct Setup {
    plain: PathBuf,
    scratch: PathBuf,
    tests: PathBuf,
}

impl Setup {
    fn new(root: &Path, dir: &Path, what: &str, module: &Module) -> Setup {
        let slug = what.replace([' ', ','], "_");
        let plain = dir.join(format!("plain_{slug}"));
        let scratch = dir.join(format!("scratch_{slug}"));
        copy(&root.join("fixtures/ledger"), &plain);
        copy(&root.join("fixtures/ledger"), &scratch);
        let text = std::fs::read_to_string(&module.path).unwrap();
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let lib = plain.join("src/lib.rs");
        let mut source = std::fs::read_to_string(&lib).unwrap();
        source.push_str(&format!(
            "\n#[cfg(test)]\nmod dualtrack_offline {{\nuse super::*;\n{body}\n}}\n"
        ));
        std::fs::write(&lib, source).unwrap();
        Setup {
            plain,
            scratch,
            tests: module.path.clone(),
        }
    }

    fn plain(&self) {
        let status = Command::new(env!("CARGO"))
            .args(["test", "-q", "--lib", "dualtrack"])
            .current_dir(&self.plain)
            .env_remove("CARGO_TARGET_DIR")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.code().is_some());
    }

    fn dualtrack(&self) {
        let status = dualtrack()
            .args(["run-tests", "-q", "--manifest-path"])
            .arg(self.scratch.join("Cargo.toml"))
            .arg(&self.tests)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");
    }
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(runs: usize, mut measure: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| measure()).collect();
    times.sort();
    times[runs / 2]
}
