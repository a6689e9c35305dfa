//! The ledger at a busy team's scale: appending one review row to a ledger of a year's rows
//! (the lock and the header read must not grow with the file), reading and grouping it in
//! the library, and `cargo dualtrack stats` on it as a process. The summary prints the
//! figures; the targets are an append under 1 ms and `stats` under 200 ms for 50,000 rows.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use dualtrack::ledger::{self, GroupBy, Row};

mod util;
use util::succeed;

/// A year of a team of twenty, each reviewing about seven times a working day, with a
/// decision or two on most reviews.
const ROWS: usize = 50_000;

fn main() {
    divan::main();
    let setup = Setup::new(ROWS);
    let bytes = std::fs::metadata(&setup.ledger).unwrap().len();
    let append = median(31, || {
        let start = Instant::now();
        ledger::append(&setup.ledger, &[row(ROWS)]).unwrap();
        start.elapsed()
    });
    let read = median(7, || {
        let start = Instant::now();
        let rows = ledger::read(&setup.ledger).unwrap();
        assert!(ledger::stats(&rows, None, GroupBy::Model).len() >= 3);
        start.elapsed()
    });
    let process = median(7, || {
        let start = Instant::now();
        setup.stats();
        start.elapsed()
    });
    println!(
        "\nledger of {ROWS} rows ({:.1} MB), median:",
        bytes as f64 / 1e6
    );
    println!("  append one row          {:>9.3} ms", ms(append));
    println!("  read + stats (library)  {:>9.3} ms", ms(read));
    println!("  cargo dualtrack stats   {:>9.3} ms", ms(process));
}

#[divan::bench(sample_count = 20)]
fn append_one_row(bencher: divan::Bencher) {
    let setup = Setup::new(ROWS);
    bencher.bench(|| ledger::append(&setup.ledger, &[row(0)]).unwrap());
}

#[divan::bench(sample_count = 5)]
fn read_and_group(bencher: divan::Bencher) {
    let setup = Setup::new(ROWS);
    bencher.bench(|| {
        let rows = ledger::read(&setup.ledger).unwrap();
        ledger::stats(&rows, Some("2026-06-01"), GroupBy::Task)
    });
}

/// A crate with a ledger of `rows` rows, in a directory of its own.
struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    ledger: PathBuf,
}

impl Setup {
    fn new(rows: usize) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("busy");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[package]\nname = \"busy\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
        )
        .unwrap();
        std::fs::write(root.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        let ledger = ledger::path(&root);
        let all: Vec<Row> = (0..rows).map(row).collect();
        ledger::append(&ledger, &all).unwrap();
        Setup {
            _dir: dir,
            root,
            ledger,
        }
    }

    fn stats(&self) {
        let output = succeed(
            Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"))
                .args(["dualtrack", "stats", "--by", "model", "--format", "json"])
                .arg("--manifest-path")
                .arg(self.root.join("Cargo.toml")),
        );
        assert!(output.stdout.starts_with(b"{"), "{output:?}");
    }
}

/// The `i`th row: mostly reviews, the rest decisions on the review before them.
fn row(i: usize) -> Row {
    let day = i / 140;
    let timestamp = format!(
        "2026-{:02}-{:02}T{:02}:{:02}:00Z",
        1 + (day / 28) % 12,
        1 + day % 28,
        8 + i % 10,
        i % 60
    );
    let run_id = format!("r{}-{}", 1_767_225_600 + i * 600, i % 9973);
    if i % 3 == 2 {
        return Row {
            kind: "decision".into(),
            run_id: format!("r{}-{}", 1_767_225_600 + (i - 1) * 600, (i - 1) % 9973),
            timestamp,
            finding: format!("F-{:010x}", i * 2_654_435_761 % (1 << 40)),
            decision: ["kept", "accepted", "deferred"][(i / 3) % 3].into(),
            function: format!("busy::module_{}::function_{}", i % 40, i % 7),
            reason: if i.is_multiple_of(2) {
                "by design, see the spec".into()
            } else {
                String::new()
            },
            ..Row::default()
        };
    }
    let (engine, model) = [
        ("offline", ""),
        ("openai", "gpt-5-codex"),
        ("anthropic", "claude-sonnet-4-5"),
        ("local", "qwen2.5-coder:14b"),
    ][i % 4];
    let generated = 15 + (i % 11) as u64;
    Row {
        kind: "review".into(),
        run_id,
        timestamp,
        task: format!("feature/branch-{}", i % 300),
        engine: engine.into(),
        model: model.into(),
        functions: 3 + (i % 9) as u64,
        sites: 20 + (i % 70) as u64,
        generated,
        compiled_first_pass: generated - (i % 4) as u64,
        compiled: generated - (i % 2) as u64,
        passed: generated - 3,
        failed: 2,
        flaky: (i % 2) as u64,
        findings: 2,
        input_tokens: if engine == "offline" {
            0
        } else {
            12_000 + i as u64 % 5000
        },
        cached_input_tokens: 0,
        output_tokens: if engine == "offline" {
            0
        } else {
            4_000 + i as u64 % 900
        },
        cost_usd: (engine != "offline" && engine != "local")
            .then_some(0.05 + (i % 7) as f64 / 100.0),
        wall_ms: 20_000 + (i % 40_000) as u64,
        generate_ms: 3_000,
        sync_ms: 150,
        baseline_ms: 4_000,
        build_ms: 9_000,
        run_ms: 3_000,
        repair_rounds: (i % 3) as u64,
        ..Row::default()
    }
}

fn median(runs: usize, mut run: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| run()).collect();
    times.sort();
    times[runs / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
