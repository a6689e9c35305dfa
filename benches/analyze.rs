//! `analyze` speed: the whole `cargo dualtrack analyze` of a large real crate, as a process,
//! against a bare single-threaded `syn::parse_file` of the same files.
//!
//! The crates come from the local cargo registry; put them there with
//! `cargo fetch --manifest-path benches/corpus/Cargo.toml`. The goal is a ratio of at most 0.6
//! for tokio (analyze process time / bare parse time, on 2 cores: the limit is 0.5); the
//! summary at the end prints it. The two are measured in turns, so that a noisy machine slows
//! both alike.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CRATES: &[&str] = &["tokio", "regex-automata", "serde_json", "chrono", "semver"];

fn main() {
    let found: Vec<(String, PathBuf)> = CRATES
        .iter()
        .filter_map(|name| registry_crate(name).map(|dir| (name.to_string(), dir)))
        .collect();
    if found.is_empty() {
        eprintln!(
            "no corpus crates in the local registry; run `cargo fetch --manifest-path benches/corpus/Cargo.toml`"
        );
        return;
    }
    divan::main();
    println!(
        "\nanalyze process vs bare single-threaded syn::parse_file (medians of 11, in turns):"
    );
    println!(
        "{:<16} {:>6} {:>12} {:>12} {:>7}",
        "crate", "files", "bare parse", "analyze", "ratio"
    );
    for (name, dir) in &found {
        let files = analyzed_files(dir);
        let (mut bare, mut process) = (Vec::new(), Vec::new());
        for _ in 0..11 {
            let start = Instant::now();
            bare_parse(&files);
            bare.push(start.elapsed());
            let start = Instant::now();
            run_analyze(dir);
            process.push(start.elapsed());
        }
        let (bare, process) = (median(bare), median(process));
        println!(
            "{name:<16} {:>6} {:>9.1} ms {:>9.1} ms {:>7.2}",
            files.len(),
            bare.as_secs_f64() * 1e3,
            process.as_secs_f64() * 1e3,
            process.as_secs_f64() / bare.as_secs_f64()
        );
    }
}

#[divan::bench(args = CRATES)]
fn analyze_process(bencher: divan::Bencher, name: &str) {
    let Some(dir) = registry_crate(name) else {
        return;
    };
    bencher.bench(|| run_analyze(&dir));
}

#[divan::bench(args = CRATES)]
fn bare_parse_single_thread(bencher: divan::Bencher, name: &str) {
    let Some(dir) = registry_crate(name) else {
        return;
    };
    let files = analyzed_files(&dir);
    bencher.bench(|| bare_parse(&files));
}

/// Read and parse every file on this thread, as the simplest possible tool would.
fn bare_parse(files: &[PathBuf]) {
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        divan::black_box(syn::parse_file(&text).ok());
    }
    // Spans accumulate in a thread-local map; clear it so repeated runs stay comparable.
    proc_macro2::extra::invalidate_current_thread_spans();
}

fn run_analyze(dir: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
        .args(["analyze", "--format", "json", "-q", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

/// The files the analyzer reads for a crate: the same set the bare parse reads.
fn analyzed_files(dir: &Path) -> Vec<PathBuf> {
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
        .args(["analyze", "--format", "json", "-q", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| dir.join(f.as_str().unwrap()))
        .collect()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The newest version of a crate in the local cargo registry.
fn registry_crate(name: &str) -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    let mut candidates: Vec<(Vec<u64>, PathBuf)> = Vec::new();
    for index in std::fs::read_dir(cargo_home.join("registry/src"))
        .ok()?
        .flatten()
    {
        for entry in std::fs::read_dir(index.path()).ok()?.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some(version) = file_name.strip_prefix(&format!("{name}-")) else {
                continue;
            };
            let numbers: Option<Vec<u64>> = version.split('.').map(|n| n.parse().ok()).collect();
            if let Some(numbers) = numbers {
                candidates.push((numbers, entry.path()));
            }
        }
    }
    candidates.sort();
    candidates.pop().map(|(_, path)| path)
}
