//! The pre-push loop at the default settings, on a registry crate of tokio's size and on a
//! workspace of six members: the user's own incremental `cargo test --no-run` plus the run of
//! the same package's tests after a one-function change, against
//! - a warm `review --fn` of that function (scratch copy and its target warm),
//! - the first review of a crate the user has built (the scratch area removed, the user's
//!   `target/` warm),
//! - and, on the workspace, `analyze` against a bare single-threaded syn parse of its files.
//!
//! tokio comes from the local cargo registry (`cargo fetch --manifest-path
//! benches/corpus/Cargo.toml`); its dev-dependencies are fetched into the copy, so the first
//! run needs the registry. The workspace is six of the fixtures, with two registry
//! dependencies. The summary prints the figures and the ratios the goals are stated in.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod util;
use util::{analyzed_files, bare_parse, copy, median, registry_crate, run_analyze, timed};

/// A crate or workspace, an edit to one function, and the scope that names it.
struct Subject {
    name: &'static str,
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// The file and the line that opens the edited function's body.
    edit: (PathBuf, &'static str),
    /// `--fn` for the review.
    function: &'static str,
    /// Package and feature flags for the user's cargo and the review alike.
    cargo_flags: Vec<&'static str>,
}

fn main() {
    let mut subjects = Vec::new();
    match tokio_subject() {
        Ok(subject) => subjects.push(subject),
        Err(why) => eprintln!("tokio left out: {why}"),
    }
    subjects.push(workspace_subject());
    let mut lines = Vec::new();
    for subject in &subjects {
        // The user's tree built once, as it is before the change.
        subject.users_cargo(&["test", "--no-run"]);
        subject.toggle_edit();
        subject.remove_scratch();
        let first = timed(|| subject.review());
        let warm = median(3, || {
            subject.toggle_edit();
            timed(|| subject.review())
        });
        let without_fuzz = median(3, || {
            subject.toggle_edit();
            timed(|| subject.review_with(&["--fuzz-runs", "0"]))
        });
        let (no_run, run) = median_pair(3, || {
            subject.toggle_edit();
            let no_run = timed(|| subject.users_cargo(&["test", "--no-run"]));
            let run = timed(|| subject.users_cargo(&["test"]));
            (no_run, run)
        });
        lines.push(format!(
            "{:<10} user: test --no-run {:>5.2} s + test {:>5.2} s = {:>5.2} s | warm review \
             {:>5.2} s ({:.2}x; {:.2}x of --no-run alone; without the fuzz stage {:.2} s, {:.2}x) | \
             first review {:>5.2} s ({:.2}x)",
            subject.name,
            no_run.as_secs_f64(),
            run.as_secs_f64(),
            (no_run + run).as_secs_f64(),
            warm.as_secs_f64(),
            warm.as_secs_f64() / (no_run + run).as_secs_f64(),
            warm.as_secs_f64() / no_run.as_secs_f64(),
            without_fuzz.as_secs_f64(),
            without_fuzz.as_secs_f64() / (no_run + run).as_secs_f64(),
            first.as_secs_f64(),
            first.as_secs_f64() / (no_run + run).as_secs_f64(),
        ));
    }
    let workspace = subjects.last().expect("the workspace is always there");
    let files = analyzed_files(&workspace.root);
    let bare = median(7, || timed(|| bare_parse(&files)));
    let analyze = median(7, || timed(|| run_analyze(&workspace.root)));
    println!(
        "\nthe pre-push loop, one function edited (medians of 3; goals: warm 1.5x, first 3x):"
    );
    for line in lines {
        println!("  {line}");
    }
    println!(
        "  workspace analyze {:.1} ms against a bare parse of its {} files {:.1} ms: {:.2}x",
        analyze.as_secs_f64() * 1e3,
        files.len(),
        bare.as_secs_f64() * 1e3,
        analyze.as_secs_f64() / bare.as_secs_f64()
    );
}

/// A copy of the newest tokio in the registry, its dev-dependencies fetched.
fn tokio_subject() -> Result<Subject, String> {
    let source = registry_crate("tokio").ok_or(
        "not in the local registry: `cargo fetch --manifest-path benches/corpus/Cargo.toml`",
    )?;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tokio");
    copy(&source, &root);
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n[workspace]\n")).unwrap();
    let fetched = Command::new(env!("CARGO"))
        .args(["fetch", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    if !fetched.status.success() {
        return Err(format!(
            "its dev-dependencies could not be fetched: {}",
            String::from_utf8_lossy(&fetched.stderr)
        ));
    }
    Ok(Subject {
        name: "tokio",
        _dir: dir,
        edit: (
            root.join("src/sync/semaphore.rs"),
            "pub fn new(permits: usize) -> Self {",
        ),
        root,
        function: "tokio::sync::semaphore::Semaphore::new",
        // Its own test code needs these, as a user who tests it would pass them.
        cargo_flags: vec!["--features", "full,test-util", "--lib"],
    })
}

/// Six fixtures as the members of one workspace; the first has two registry dependencies.
fn workspace_subject() -> Subject {
    const MEMBERS: &[&str] = &[
        "ledger",
        "records",
        "planted",
        "sites",
        "config_kv",
        "reach",
    ];
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("workspace");
    for member in MEMBERS {
        let to = root.join(member);
        copy(&fixtures.join(member), &to);
        let _ = std::fs::remove_file(to.join("Cargo.lock"));
        let manifest = to.join("Cargo.toml");
        let mut text = std::fs::read_to_string(&manifest)
            .unwrap()
            .replace("\n[workspace]\n", "\n");
        if *member == "ledger" {
            text.push_str("\n[dependencies]\nregex-syntax = \"0.8\"\nsemver = \"1\"\n");
        }
        std::fs::write(&manifest, text).unwrap();
    }
    let list: Vec<String> = MEMBERS.iter().map(|m| format!("\"{m}\"")).collect();
    std::fs::write(
        root.join("Cargo.toml"),
        format!(
            "[workspace]\nmembers = [{}]\nresolver = \"2\"\n",
            list.join(", ")
        ),
    )
    .unwrap();
    Subject {
        name: "workspace",
        _dir: dir,
        edit: (
            root.join("ledger/src/lib.rs"),
            "pub fn split_evenly(total: i64, parts: u32) -> Vec<i64> {",
        ),
        root,
        function: "ledger::split_evenly",
        cargo_flags: vec!["-p", "ledger"],
    }
}

impl Subject {
    fn review(&self) {
        self.review_with(&[]);
    }

    fn review_with(&self, extra: &[&str]) {
        let output = Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
            .args(["review", "--fn", self.function])
            .args(extra)
            .args(self.review_flags())
            .args(["--fail-on", "never", "--no-ledger", "-q"])
            .arg("--manifest-path")
            .arg(self.root.join("Cargo.toml"))
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The cargo flags the review takes too (`--lib` is cargo's alone).
    fn review_flags(&self) -> Vec<&'static str> {
        self.cargo_flags
            .iter()
            .copied()
            .filter(|flag| *flag != "--lib")
            .collect()
    }

    /// `cargo ARGS` in the user's tree with the subject's flags; its exit is not ours to
    /// judge (a fixture's own tests may fail).
    fn users_cargo(&self, args: &[&str]) {
        let _ = Command::new(env!("CARGO"))
            .args(args)
            .args(&self.cargo_flags)
            .arg("--manifest-path")
            .arg(self.root.join("Cargo.toml"))
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
    }

    /// The scratch area gone, the user's `target/` kept: a first review of a built crate.
    fn remove_scratch(&self) {
        let _ = std::fs::remove_dir_all(self.root.join("target/dualtrack"));
    }

    /// A statement put in at the top of the function's body, or taken out again: a change to
    /// that one function each time.
    fn toggle_edit(&self) {
        const TAG: &str = " let _edited = 1;";
        let (file, opening) = &self.edit;
        let text = std::fs::read_to_string(file).unwrap();
        let with = format!("{opening}{TAG}");
        let edited = if text.contains(&with) {
            text.replacen(&with, opening, 1)
        } else {
            assert!(
                text.contains(opening),
                "{} changed: update the edit",
                file.display()
            );
            text.replacen(opening, &with, 1)
        };
        std::fs::write(file, edited).unwrap();
    }
}

/// The run whose sum is the median, as its two parts.
fn median_pair(runs: usize, mut run: impl FnMut() -> (Duration, Duration)) -> (Duration, Duration) {
    let mut times: Vec<(Duration, Duration)> = (0..runs).map(|_| run()).collect();
    times.sort_by_key(|(a, b)| *a + *b);
    times[runs / 2]
}
