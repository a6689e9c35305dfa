//! `run-tests` speed: the second run of `cargo dualtrack run-tests` with a set of generated
//! tests against a warm plain `cargo test` of the same tests placed in the original tree.
//! Target: at most 1.3 times. The summary at the end prints the ratio.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod util;
use util::copy;

fn main() {
    let setup = Setup::new();
    // Warm both: the first runs build everything.
    setup.plain();
    setup.dualtrack();
    divan::main();
    let plain = median(9, || timed(|| setup.plain()));
    let dualtrack = median(9, || timed(|| setup.dualtrack()));
    println!("\nsecond run, 5 generated tests on fixtures/ledger (median of 9):");
    println!(
        "  warm plain cargo test    {:>7.1} ms",
        plain.as_secs_f64() * 1e3
    );
    println!(
        "  cargo dualtrack run-tests {:>6.1} ms",
        dualtrack.as_secs_f64() * 1e3
    );
    println!(
        "  ratio                    {:>7.2}",
        dualtrack.as_secs_f64() / plain.as_secs_f64()
    );
}

#[divan::bench(sample_count = 10)]
fn warm_plain_cargo_test(bencher: divan::Bencher) {
    let setup = Setup::new();
    setup.plain();
    bencher.bench(|| setup.plain());
}

#[divan::bench(sample_count = 10)]
fn warm_dualtrack_run_tests(bencher: divan::Bencher) {
    let setup = Setup::new();
    setup.dualtrack();
    bencher.bench(|| setup.dualtrack());
}

/// Two copies of the ledger fixture: one with the tests in its source, one for run-tests.
struct Setup {
    _dir: tempfile::TempDir,
    plain: PathBuf,
    scratch: PathBuf,
    tests: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        let scratch = dir.path().join("scratch");
        copy(&root.join("fixtures/ledger"), &plain);
        copy(&root.join("fixtures/ledger"), &scratch);
        // The quick tests of the integration tests' module (not the hang, abort or exit ones).
        let module = quick_tests(&root.join("tests/data/ledger_outcomes.rs"));
        let tests = dir.path().join("ledger_quick.rs");
        std::fs::write(&tests, &module).unwrap();
        let body: String = module
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
            _dir: dir,
            plain,
            scratch,
            tests,
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
        // The tests find bugs: cargo test fails, as it should.
        assert!(status.code().is_some());
    }

    fn dualtrack(&self) {
        let status = Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
            .args(["run-tests", "--reruns", "0", "-q", "--manifest-path"])
            .arg(self.scratch.join("Cargo.toml"))
            .arg(&self.tests)
            .env_remove("CARGO_TARGET_DIR")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(1), "the tests find the planted bugs");
    }
}

const QUICK: &[&str] = &[
    "parse_cents_large_overflows",
    "parse_cents_contract_12",
    "memo_preview_multibyte_boundary",
    "format_cents_wrong_expectation",
    "split_evenly_zero_parts",
];

/// The header and the `QUICK` tests of a generated module.
fn quick_tests(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut parts = text.split("\n/// dualtrack:");
    let mut module = parts.next().unwrap().to_owned();
    for test in parts.filter(|t| QUICK.iter().any(|name| t.contains(&format!("fn {name}()")))) {
        module.push_str("\n/// dualtrack:");
        module.push_str(test);
    }
    module
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
