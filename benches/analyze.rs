//! `analyze` speed: the whole `cargo dualtrack analyze` of a large real crate, as a process,
//! against a bare single-threaded `syn::parse_file` of the same files.
//!
//! The crates come from the local cargo registry; put them there with
//! `cargo fetch --manifest-path benches/corpus/Cargo.toml`. The goal is a ratio of at most 0.6
//! for tokio (analyze process time / bare parse time, on 2 cores: the limit is 0.5); the
//! summary at the end prints it. The two are measured in turns, so that a noisy machine slows
//! both alike.

use std::path::PathBuf;
use std::time::Instant;

mod util;
use util::{analyzed_files, bare_parse, median_of, registry_crate, run_analyze};

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
        let (bare, process) = (median_of(bare), median_of(process));
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
