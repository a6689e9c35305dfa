//! What the site probes cost: `review --all-functions` after an edit, with probes and with
//! `--no-probes`, on the ledger fixture and on `regex-syntax` (58k lines, fetched from the
//! registry). Each mode keeps a copy of its own, warmed first, so that each timed review
//! rebuilds the crate once, as a review after a change does. Goal: at most 10% more wall time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod util;
use util::{copy, succeed};

#[path = "../tests/util/registry.rs"]
mod registry;
use registry::registry_crate;

/// Timed reviews per mode.
const RUNS: usize = 3;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ledger");
    println!("\nsite probes: review --all-functions after an edit (median of {RUNS})");
    compare("fixtures/ledger", &fixture, dir.path());
    match registry_crate(dir.path(), "regex-syntax", "0.8") {
        Some(source) => compare("regex-syntax", &source, dir.path()),
        None => println!("  regex-syntax: not in the registry here, skipped"),
    }
}

/// Time reviews with and without probes of copies of the crate at `source`.
fn compare(name: &str, source: &Path, scratch: &Path) {
    let with = Crate::new(
        source,
        &scratch.join(format!("{name}-probes").replace('/', "-")),
    );
    let without = Crate::new(
        source,
        &scratch.join(format!("{name}-plain").replace('/', "-")),
    );
    with.review(&[]);
    without.review(&["--no-probes"]);
    let mut timed_with = Vec::new();
    let mut timed_without = Vec::new();
    for run in 0..RUNS {
        with.edit(run);
        timed_with.push(with.review(&[]));
        without.edit(run);
        timed_without.push(without.review(&["--no-probes"]));
    }
    let (with, without) = (median(timed_with), median(timed_without));
    println!(
        "  {name:<16} with {:>6.2} s (build {:>5.2} s, run {:>5.2} s)   without {:>6.2} s (build \
         {:>5.2} s, run {:>5.2} s)   {:+.1}%",
        with.wall.as_secs_f64(),
        with.build,
        with.run,
        without.wall.as_secs_f64(),
        without.build,
        without.run,
        (with.wall.as_secs_f64() / without.wall.as_secs_f64() - 1.0) * 100.0
    );
}

/// A copy of a crate under review.
struct Crate {
    root: PathBuf,
}

/// One review's wall time and its build and run phases, in seconds.
#[derive(Clone, Copy)]
struct Timing {
    wall: Duration,
    build: f64,
    run: f64,
}

impl Crate {
    fn new(source: &Path, root: &Path) -> Crate {
        copy(source, root);
        let manifest = root.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        if !text.contains("[workspace]") {
            std::fs::write(&manifest, format!("{text}\n[workspace]\n")).unwrap();
        }
        Crate {
            root: root.to_owned(),
        }
    }

    fn review(&self, extra: &[&str]) -> Timing {
        let start = Instant::now();
        let output = succeed(
            Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
                .args([
                    "review",
                    "--all-functions",
                    "--fail-on",
                    "never",
                    "--format",
                    "json",
                    "--no-ledger",
                    // The fuzz stage needs the probes: off in both modes, the difference is
                    // the probes' alone.
                    "--fuzz-runs",
                    "0",
                ])
                .args(extra)
                .arg("--manifest-path")
                .arg(self.root.join("Cargo.toml"))
                .env_remove("CARGO_TARGET_DIR"),
        );
        let wall = start.elapsed();
        let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let seconds = |key: &str| document["timings"][key].as_f64().unwrap_or(0.0) / 1000.0;
        Timing {
            wall,
            build: seconds("build_ms"),
            run: seconds("run_ms"),
        }
    }

    /// A change between two reviews: a line appended to the crate root, which rebuilds it.
    fn edit(&self, run: usize) {
        let lib = self.root.join("src/lib.rs");
        let mut text = std::fs::read_to_string(&lib).unwrap();
        text.push_str(&format!("// edit {run}\n"));
        std::fs::write(&lib, text).unwrap();
    }
}

fn median(mut timings: Vec<Timing>) -> Timing {
    timings.sort_by_key(|t| t.wall);
    timings[timings.len() / 2]
}
