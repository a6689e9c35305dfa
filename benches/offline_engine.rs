//! The offline engine's quality on crates with planted bugs: `review --all-functions` on each
//! fixture listed below, at the default budget, with no cap (`--max-tests 0`) and at the cap
//! that was the default before (`--max-tests 25`), scored against its `planted.toml` (which
//! functions carry a bug, which are correct; a private function counts as found when a
//! finding reached it through a public one). Reports bugs found / planted, false findings on
//! correct functions (target 0), the share of generated tests that compile (target at least
//! 95%), tests per function, and wall time, cold and warm. A quality report, not a timing
//! loop: it prints and exits.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

mod util;
use util::copy;

/// Fixture crates with a `planted.toml`.
const FIXTURES: &[&str] = &["planted", "reach"];

fn main() {
    // `cargo bench` passes `--bench`; a filter that names no fixture runs nothing.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for fixture in FIXTURES {
        if filter.as_deref().is_some_and(|f| !fixture.contains(f)) {
            continue;
        }
        for budget in [None, Some(0), Some(25)] {
            let report = measure(&root.join("fixtures").join(fixture), budget);
            println!("{}", report.render(fixture, budget));
        }
    }
    if filter.as_deref().is_none_or(|f| "scaling".contains(f)) {
        scaling();
    }
}

/// `generate` on one generated file of N small functions, N = 2,500 to 20,000: wall time and
/// peak memory should grow in proportion to N (the issue was a quadratic call resolution).
fn scaling() {
    let mut previous: Option<(usize, f64)> = None;
    for n in [2_500, 5_000, 10_000, 20_000] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"big\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
        )
        .unwrap();
        let source: String = (0..n)
            .map(|i| {
                format!(
                    "/// Doc {i}.\npub fn f{i}(x: u32, s: &str) -> u32 {{\n    if x > {i} {{ return x - {i}; }}\n    helper(s) + x\n}}\n"
                )
            })
            .chain(["fn helper(s: &str) -> u32 { s.len() as u32 }\n".to_owned()])
            .collect();
        std::fs::write(dir.path().join("src/lib.rs"), source).unwrap();
        let start = Instant::now();
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(env!("CARGO_BIN_EXE_cargo-dualtrack"))
            .args(["generate", "--manifest-path"])
            .arg(dir.path().join("Cargo.toml"))
            .output()
            .or_else(|_| {
                Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
                    .args(["generate", "--manifest-path"])
                    .arg(dir.path().join("Cargo.toml"))
                    .output()
            })
            .unwrap();
        let seconds = start.elapsed().as_secs_f64();
        let peak_kb = String::from_utf8_lossy(&output.stderr)
            .lines()
            .last()
            .and_then(|l| l.trim().parse::<u64>().ok());
        let growth = previous
            .map(|(m, s)| {
                format!(
                    ", x{:.2} time for x{:.1} functions",
                    seconds / s,
                    n as f64 / m as f64
                )
            })
            .unwrap_or_default();
        println!(
            "generate scaling: {n} functions in {seconds:.2} s, peak {}{growth}",
            peak_kb.map_or("?".to_owned(), |kb| format!("{} MB", kb / 1024))
        );
        previous = Some((n, seconds));
    }
}

struct Truth {
    buggy: BTreeMap<String, String>,
    correct: BTreeSet<String>,
}

fn truth(dir: &Path) -> Truth {
    let text = std::fs::read_to_string(dir.join("planted.toml")).unwrap();
    let value: toml::Table = toml::from_str(&text).unwrap();
    let buggy = value["buggy"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let correct = value["correct"]["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    Truth { buggy, correct }
}

struct Report {
    truth: Truth,
    flagged: BTreeMap<String, usize>,
    generated: usize,
    compiled: usize,
    functions_with_tests: usize,
    generate_seconds: f64,
    run_seconds: f64,
}

/// `budget` is `--max-tests` (`None`: the default, every potent test of every function).
/// The review runs twice: cold (the scratch build from nothing) and warm.
fn measure(fixture: &Path, budget: Option<u32>) -> Report {
    let work = tempfile::tempdir().unwrap();
    let crate_dir = work.path().join("crate");
    copy(fixture, &crate_dir);
    let review = || {
        let start = Instant::now();
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"));
        command.args([
            "review",
            "-q",
            "--all-functions",
            "--fail-on",
            "never",
            "--no-ledger",
        ]);
        if let Some(budget) = budget {
            command.args(["--max-tests", &budget.to_string()]);
        }
        let output = command
            .arg("--manifest-path")
            .arg(crate_dir.join("Cargo.toml"))
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        start.elapsed().as_secs_f64()
    };
    let generate_seconds = review();
    let run_seconds = review();
    let runs = crate_dir.join("target/dualtrack/runs");
    let latest = std::fs::read_to_string(runs.join("latest")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(runs.join(latest.trim()).join("report.json")).unwrap(),
    )
    .unwrap();
    let mut flagged = BTreeMap::new();
    for finding in doc["findings"].as_array().unwrap() {
        if finding["kind"] != "failure" {
            continue;
        }
        for key in ["function", "reached"] {
            if let Some(function) = finding[key].as_str() {
                *flagged.entry(function.to_owned()).or_insert(0) += 1;
            }
        }
    }
    let functions: BTreeSet<&str> = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["function"].as_str())
        .collect();
    Report {
        truth: truth(fixture),
        flagged,
        generated: doc["counts"]["generated"].as_u64().unwrap() as usize,
        compiled: doc["counts"]["compiled"].as_u64().unwrap() as usize,
        functions_with_tests: functions.len(),
        generate_seconds,
        run_seconds,
    }
}

impl Report {
    fn render(&self, name: &str, budget: Option<u32>) -> String {
        let mut out = format!(
            "\noffline engine on fixtures/{name} (review --all-functions{}):\n",
            budget.map_or(" at the default budget".to_owned(), |n| format!(
                " --max-tests {n}"
            ))
        );
        let found: Vec<&String> = self
            .truth
            .buggy
            .keys()
            .filter(|f| self.flagged.contains_key(*f))
            .collect();
        let missed: Vec<String> = self
            .truth
            .buggy
            .iter()
            .filter(|(f, _)| !self.flagged.contains_key(*f))
            .map(|(f, kind)| format!("{f} ({kind})"))
            .collect();
        let false_findings: Vec<String> = self
            .flagged
            .iter()
            .filter(|(f, _)| self.truth.correct.contains(*f))
            .map(|(f, n)| format!("{f} ({n} tests)"))
            .collect();
        let unlisted: Vec<&String> = self
            .flagged
            .keys()
            .filter(|f| !self.truth.correct.contains(*f) && !self.truth.buggy.contains_key(*f))
            .collect();
        let share = |a: usize, b: usize| {
            if b == 0 {
                0.0
            } else {
                100.0 * a as f64 / b as f64
            }
        };
        out += &format!(
            "  bugs found / planted        {} / {}\n",
            found.len(),
            self.truth.buggy.len()
        );
        if !missed.is_empty() {
            out += &format!("  missed                      {}\n", missed.join(", "));
        }
        out += &format!(
            "  false findings (correct)    {} of {} correct functions{}\n",
            false_findings.len(),
            self.truth.correct.len(),
            if false_findings.is_empty() {
                String::new()
            } else {
                format!(": {}", false_findings.join(", "))
            }
        );
        if !unlisted.is_empty() {
            out += &format!("  flagged, not in planted.toml {unlisted:?}\n");
        }
        out += &format!(
            "  tests compiled              {} / {} ({:.1}%)\n",
            self.compiled,
            self.generated,
            share(self.compiled, self.generated)
        );
        out += &format!(
            "  tests per function          {:.1} ({} functions with tests)\n",
            self.generated as f64 / self.functions_with_tests.max(1) as f64,
            self.functions_with_tests
        );
        out += &format!(
            "  wall time                   review {:.2} s cold, {:.2} s warm\n",
            self.generate_seconds, self.run_seconds
        );
        out
    }
}
