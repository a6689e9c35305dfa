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

/// The newest version of a crate in the local cargo registry.
#[allow(dead_code)] // not every benchmark reads the registry
pub fn registry_crate(name: &str) -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
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

/// `analyze --format json` of the workspace at `dir`, its output thrown away.
#[allow(dead_code)] // not every benchmark analyzes
pub fn run_analyze(dir: &Path) {
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
        .args(["analyze", "--format", "json", "-q", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

/// The files the analyzer reads in the workspace at `dir`: the same set a bare parse reads.
#[allow(dead_code)] // not every benchmark analyzes
pub fn analyzed_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
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

/// Read and parse every file on this thread, as the simplest possible tool would.
#[allow(dead_code)] // not every benchmark analyzes
pub fn bare_parse(files: &[std::path::PathBuf]) {
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        std::hint::black_box(syn::parse_file(&text).ok());
    }
    // Spans accumulate in a thread-local map; clear it so repeated runs stay comparable.
    proc_macro2::extra::invalidate_current_thread_spans();
}

/// How long `run` takes.
#[allow(dead_code)] // not every benchmark times by hand
pub fn timed(run: impl FnOnce()) -> std::time::Duration {
    let start = std::time::Instant::now();
    run();
    start.elapsed()
}

/// The median of `runs` measurements.
#[allow(dead_code)] // not every benchmark times by hand
pub fn median(
    runs: usize,
    mut measure: impl FnMut() -> std::time::Duration,
) -> std::time::Duration {
    median_of((0..runs).map(|_| measure()).collect())
}

/// The median of measurements already taken.
#[allow(dead_code)] // not every benchmark times by hand
pub fn median_of(mut times: Vec<std::time::Duration>) -> std::time::Duration {
    times.sort();
    times[times.len() / 2]
}
