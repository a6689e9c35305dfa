//! The fuzz stage: guidance by the site probes against random mutation of the seeds, on three
//! fixture functions and two registry functions: inputs per second, and sites reached after
//! 1, 5 and 30 s of `cargo dualtrack fuzz --fresh`; then what the default fuzz slice adds to
//! a review of a one-function change.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod util;
use util::{copy, succeed};

#[path = "../tests/util/registry.rs"]
mod registry;
use registry::registry_crate;

/// Seconds of fuzzing per function, each a run of its own.
const TIMES: [u64; 3] = [1, 5, 30];

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut targets: Vec<(PathBuf, &str)> = vec![
        (
            crate_copy(&fixtures.join("records"), dir.path(), "records"),
            "records::rpn",
        ),
        (
            crate_copy(&fixtures.join("ledger"), dir.path(), "ledger"),
            "ledger::parse_cents",
        ),
        (
            crate_copy(&fixtures.join("ledger"), dir.path(), "ledger2"),
            "ledger::memo_preview",
        ),
    ];
    for (name, version, function) in [
        ("semver", "=1.0.28", "semver::Version::parse"),
        ("shlex", "=2.0.1", "shlex::split"),
    ] {
        match registry_crate(dir.path(), name, version) {
            Some(source) => targets.push((crate_copy(&source, dir.path(), name), function)),
            None => println!("  {name}: not in the registry here, skipped"),
        }
    }
    println!("\nfuzz stage: `fuzz --fn F --time T --fresh`, guided by the probes or not");
    println!(
        "  {:<24} {:>9} {:>12} {:>20} {:>20}",
        "function", "time", "inputs/s", "sites (guided)", "sites (unguided)"
    );
    for (root, function) in &targets {
        for seconds in TIMES {
            let guided = fuzz(root, function, seconds, &[]);
            let unguided = fuzz(root, function, seconds, &["--no-guidance"]);
            println!(
                "  {function:<24} {:>8}s {:>12} {:>13} ({} crash) {:>13} ({} crash)",
                seconds,
                guided.per_second,
                guided.sites,
                guided.crashes,
                unguided.sites,
                unguided.crashes
            );
        }
    }
    overhead(&fixtures.join("ledger"), dir.path());
}

/// A standalone copy of the crate at `source` (its own workspace), warmed by an analysis.
fn crate_copy(source: &Path, scratch: &Path, name: &str) -> PathBuf {
    let root = scratch.join(format!("crate-{name}"));
    copy(source, &root);
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    if !text.contains("[workspace]") {
        std::fs::write(&manifest, format!("{text}\n[workspace]\n")).unwrap();
    }
    root
}

struct Fuzzed {
    per_second: u64,
    sites: u64,
    crashes: u64,
}

fn fuzz(root: &Path, function: &str, seconds: u64, extra: &[&str]) -> Fuzzed {
    let output = succeed(
        Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
            .args(["fuzz", "--fn", function, "--time"])
            .arg(format!("{seconds}s"))
            .args(["--fresh", "--fail-on", "never", "--format", "json", "-q"])
            .args(extra)
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml"))
            .env_remove("CARGO_TARGET_DIR"),
    );
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let harnesses = document["fuzz"]["harnesses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let own: Vec<&serde_json::Value> = harnesses
        .iter()
        .filter(|h| h["function"] == function)
        .collect();
    let sum = |key: &str| -> u64 { own.iter().map(|h| h[key].as_u64().unwrap_or(0)).sum() };
    Fuzzed {
        per_second: sum("runs") * 1000 / sum("elapsed_ms").max(1),
        sites: own
            .iter()
            .map(|h| h["sites_reached"].as_u64().unwrap_or(0))
            .max()
            .unwrap_or(0),
        crashes: sum("crashes"),
    }
}

/// A review of a one-function change, with the default fuzz slice and without it (median of
/// three, each after an edit that rebuilds the crate).
fn overhead(fixture: &Path, scratch: &Path) {
    let root = crate_copy(fixture, scratch, "overhead");
    let review = |extra: &[&str]| {
        let lib = root.join("src/lib.rs");
        let mut text = std::fs::read_to_string(&lib).unwrap();
        text.push_str("// edit\n");
        std::fs::write(&lib, text).unwrap();
        let start = Instant::now();
        succeed(
            Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
                .args([
                    "review",
                    "--fn",
                    "ledger::parse_cents",
                    "--fail-on",
                    "never",
                    "--no-ledger",
                    "-q",
                ])
                .args(extra)
                .arg("--manifest-path")
                .arg(root.join("Cargo.toml"))
                .env_remove("CARGO_TARGET_DIR"),
        );
        start.elapsed().as_secs_f64()
    };
    review(&[]);
    review(&["--fuzz-runs", "0"]);
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let with = median((0..3).map(|_| review(&[])).collect());
    let without = median((0..3).map(|_| review(&["--fuzz-runs", "0"])).collect());
    println!(
        "\nreview --fn ledger::parse_cents after an edit: {with:.2} s with the default fuzz \
         slice, {without:.2} s without ({:+.0}%)",
        (with / without - 1.0) * 100.0
    );
}
