//! The agent engines (`--engine codex`, `--engine claude`) end to end: the real binary against
//! the fake `codex` and `claude` in `tests/agents/`, scripts that print the recorded output
//! formats of Codex CLI and Claude Code. No test calls a real agent.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

mod util;
use util::{copy_fixture, dualtrack};

/// Finds the division by zero.
const GOOD: &str = "#[test]\nfn split_evenly_zero_parts_is_empty() {\n    assert!(split_evenly(100, 0).is_empty());\n}";
/// Refused before any build.
const SPAWNS: &str =
    "#[test]\nfn spawns() {\n    std::process::Command::new(\"true\").status().unwrap();\n}";
/// Does not compile; the repair answer fixes it.
const BROKEN: &str =
    "#[test]\nfn split_evenly_one_part() {\n    assert_eq!(split_evenly(\"7\", 1), vec![7]);\n}";
const FIXED: &str =
    "#[test]\nfn split_evenly_one_part() {\n    assert_eq!(split_evenly(7, 1), vec![7]);\n}";

fn test(name: &str, code: &str) -> Value {
    json!({"name": name, "function": "ledger::split_evenly", "targets": [], "spec_items": [],
           "category": "boundary", "oracle": "result", "input": null, "rationale": "edge",
           "code": code})
}

fn agent(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/agents")
        .join(name)
}

/// A copy of fixtures/ledger, the answers the fake agents give, and a directory they log to.
struct Setup {
    dir: tempfile::TempDir,
    answers: tempfile::TempDir,
    log: tempfile::TempDir,
}

fn setup() -> Setup {
    let setup = Setup {
        dir: copy_fixture("ledger"),
        answers: tempfile::tempdir().unwrap(),
        log: tempfile::tempdir().unwrap(),
    };
    let answer = json!({"tests": [
        test("split_evenly_zero_parts_is_empty", GOOD),
        test("spawns", SPAWNS),
        test("split_evenly_one_part", BROKEN),
    ]});
    let repair = json!({"tests": [test("split_evenly_one_part", FIXED)]});
    std::fs::write(setup.answers.path().join("answer"), answer.to_string()).unwrap();
    std::fs::write(setup.answers.path().join("repair"), repair.to_string()).unwrap();
    setup
}

/// `review --engine NAME` of `ledger::split_evenly` with the fake agent, as JSON.
fn review(setup: &Setup, name: &str, mode: &str, extra: &[&str]) -> std::process::Output {
    dualtrack()
        .args(["review", "--engine", name, "--agent-bin"])
        .arg(agent(name))
        .args([
            "--fn",
            "ledger::split_evenly",
            "--sandbox",
            "none",
            "--no-fixes",
            "--fuzz-runs",
            "0",
            "--cover-rounds",
            "0",
            "--no-cache",
            "--format",
            "json",
        ])
        .args(extra)
        .arg("--manifest-path")
        .arg(setup.dir.path().join("Cargo.toml"))
        .env("FAKE_AGENT_MODE", mode)
        .env("FAKE_AGENT_ANSWER", setup.answers.path().join("answer"))
        .env("FAKE_AGENT_REPAIR", setup.answers.path().join("repair"))
        .env("FAKE_AGENT_LOG", setup.log.path())
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .unwrap()
}

/// What each run of the fake agent logged: its arguments, directory, files, prompt and pid.
fn runs(setup: &Setup) -> Vec<Value> {
    std::fs::read_dir(setup.log.path())
        .unwrap()
        .map(|e| {
            serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap()
        })
        .collect()
}

/// The report of a review by `name` answering as scripted: it finds the bug (exit 1).
fn reviewed(setup: &Setup, name: &str) -> Value {
    let output = review(setup, name, "answer", &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report: Value = util::checked(&output.stdout).unwrap();
    assert_eq!(report["engine"], name);
    report
}

/// The arguments one run of a fake agent was given.
fn args_of(run: &Value) -> Vec<&str> {
    run["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

fn ledger_row(setup: &Setup) -> Vec<String> {
    let ledger = std::fs::read_to_string(setup.dir.path().join(".dualtrack/ledger.csv")).unwrap();
    ledger
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect()
}

#[test]
fn codex_reviews_with_no_key_and_the_report_keeps_what_it_refused_and_repaired() {
    let setup = setup();
    let report = reviewed(&setup, "codex");
    // The division by zero, found by the agent's test; the repaired test ran too.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["test"] == "split_evenly_zero_parts_is_empty"),
        "{report:#}"
    );
    let repaired = report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "split_evenly_one_part")
        .expect("the repaired test ran");
    assert_eq!(repaired["outcome"], "passed", "{repaired:#}");
    // What the model did, kept: the refused test, and the repair with the errors sent.
    let account = &report["model"];
    assert_eq!(account["refused"][0]["test"], "spawns", "{account:#}");
    assert_eq!(account["refused"][0]["round"], "generate");
    assert!(
        account["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("spawns a process")
    );
    let repair = &account["repairs"][0];
    assert_eq!(repair["test"], "split_evenly_one_part", "{account:#}");
    assert_eq!(repair["outcome"], "compiled (passed)");
    assert!(
        repair["errors"][0]
            .as_str()
            .unwrap()
            .contains("mismatched types"),
        "{repair:#}"
    );
    // Codex's own token counts, two requests; no cost (a subscription).
    assert_eq!(report["usage"]["input_tokens"], 4800);
    assert_eq!(report["usage"]["cached_input_tokens"], 3600);
    assert_eq!(report["usage"]["output_tokens"], 700);
    assert_eq!(report["usage"]["cost_usd"], Value::Null);
    let markdown = std::fs::read_to_string(latest_report_md(&setup)).unwrap();
    assert!(markdown.contains("### Model tests refused"), "{markdown}");
    assert!(markdown.contains("### Repair rounds"), "{markdown}");
    assert!(
        markdown.contains("billed to the Codex subscription"),
        "{markdown}"
    );
    // The ledger row: the engine's name, no cost.
    let row = ledger_row(&setup);
    assert_eq!((row[4].as_str(), row[5].as_str()), ("codex", "default"));
    assert_eq!(row[18], "", "{row:?}");
    // Each request: the prompt on standard input, none of it on the command line; read-only,
    // the schema enforced; in an empty directory of its own.
    let runs = runs(&setup);
    assert_eq!(runs.len(), 2, "{runs:#?}");
    for run in &runs {
        let args = args_of(run);
        assert_eq!(&args[..2], ["exec", "--json"], "{args:?}");
        assert!(args.windows(2).any(|w| w == ["--sandbox", "read-only"]));
        assert!(args.contains(&"--output-schema"));
        assert_eq!(args.last(), Some(&"-"));
        assert!(!args.iter().any(|a| a.contains("split_evenly")), "{args:?}");
        assert!(run["prompt"].as_str().unwrap().contains("split_evenly"));
        assert_eq!(run["files"], json!([]), "{run:#}");
        assert!(
            !run["cwd"]
                .as_str()
                .unwrap()
                .starts_with(setup.dir.path().to_str().unwrap())
        );
    }
}

/// The newest run's report.md.
fn latest_report_md(setup: &Setup) -> PathBuf {
    let runs = setup.dir.path().join("target/dualtrack/runs");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("report.md").is_file())
        .collect();
    dirs.sort_by_key(|p| p.metadata().and_then(|m| m.modified()).ok());
    dirs.last().unwrap().join("report.md")
}

#[test]
fn claude_reports_the_cost_and_the_model_it_said() {
    let setup = setup();
    let report = reviewed(&setup, "claude");
    // Claude Code's `total_cost_usd`, twice (a request and its repair).
    let cost = report["usage"]["cost_usd"].as_f64().unwrap();
    assert!((cost - 0.0374).abs() < 1e-9, "{cost}");
    assert_eq!(report["model"]["refused"][0]["test"], "spawns");
    let row = ledger_row(&setup);
    assert_eq!(
        (row[4].as_str(), row[5].as_str(), row[18].as_str()),
        ("claude", "claude-sonnet-4-5-20250929", "0.037400"),
        "{row:?}"
    );
    for run in &runs(&setup) {
        let args = args_of(run);
        assert!(args.windows(2).any(|w| w == ["--output-format", "json"]));
        // No tool, one turn.
        assert!(args.windows(2).any(|w| w == ["--tools", ""]), "{args:?}");
        assert!(args.windows(2).any(|w| w == ["--max-turns", "1"]));
        assert!(!args.iter().any(|a| a.contains("split_evenly")));
    }
}

#[test]
fn every_agent_failure_says_what_to_do_and_stops_with_exit_2() {
    let setup = setup();
    for (name, mode, says) in [
        (
            "codex",
            "limit",
            "codex hit its usage limit: You've hit your usage limit",
        ),
        (
            "codex",
            "signed-out",
            "codex is not signed in: run `codex login`",
        ),
        ("codex", "garbage", "codex printed no JSONL event output"),
        (
            "claude",
            "limit",
            "claude hit its usage limit: Claude AI usage limit reached",
        ),
        ("claude", "signed-out", "claude is not signed in"),
        ("claude", "garbage", "claude printed no JSON result output"),
    ] {
        let output = review(&setup, name, mode, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name} {mode}: {stderr}");
        assert!(stderr.contains(says), "{name} {mode}: {stderr}");
    }
    // Not installed: how to get it.
    let output = dualtrack()
        .args([
            "review",
            "--engine",
            "codex",
            "--fn",
            "ledger::split_evenly",
        ])
        .arg("--manifest-path")
        .arg(setup.dir.path().join("Cargo.toml"))
        .env("PATH", setup.log.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`codex` is not on PATH") && stderr.contains("--agent-bin"),
        "{stderr}"
    );
}

#[test]
fn an_agent_past_the_request_timeout_is_killed_with_its_process_group() {
    let setup = setup();
    let start = std::time::Instant::now();
    let output = review(&setup, "codex", "hang", &["--request-timeout", "2"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no answer within 2 s"), "{stderr}");
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
    for run in runs(&setup) {
        let pid = run["pid"].as_i64().unwrap() as libc::pid_t;
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        assert!(!alive, "the agent {pid} outlived its time-out");
    }
}

#[test]
fn ctrl_c_kills_every_agent_process() {
    let setup = setup();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"));
    command
        .args(["dualtrack", "review", "--engine", "codex", "--agent-bin"])
        .arg(agent("codex"))
        .args([
            "--fn",
            "ledger::split_evenly",
            "--sandbox",
            "none",
            "--no-cache",
            "-q",
        ])
        .arg("--manifest-path")
        .arg(setup.dir.path().join("Cargo.toml"))
        .env("FAKE_AGENT_MODE", "hang")
        .env("FAKE_AGENT_LOG", setup.log.path())
        .env_remove("CARGO_TARGET_DIR")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().unwrap();
    // Until the agent has started.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while runs(&setup).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the agent never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SAFETY: a signal to our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    for run in runs(&setup) {
        let pid = run["pid"].as_i64().unwrap() as libc::pid_t;
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        assert!(!alive, "the agent {pid} outlived Ctrl-C");
    }
}
