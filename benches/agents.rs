//! What starting an agent CLI costs against an HTTP engine, on the same scripted answer:
//! `generate --engine codex` with the fake `codex` of `tests/agents/` against `generate
//! --engine openai-chat` with a Chat Completions server on 127.0.0.1 (wiremock), each the
//! median of seven runs on one function of `fixtures/ledger`; and the fake agent alone, whose
//! own start (a Python interpreter) is part of the first figure and not of a real agent's.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod util;
use util::succeed;

const RUNS: usize = 7;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("fixtures/ledger/Cargo.toml");
    let answer = json!({"tests": [{
        "name": "split_evenly_zero_parts_is_empty", "function": "ledger::split_evenly",
        "targets": [], "spec_items": [], "category": "boundary", "oracle": "empty",
        "input": "split_evenly(100, 0)", "rationale": "zero parts",
        "code": "#[test]\nfn split_evenly_zero_parts_is_empty() {\n    assert!(split_evenly(100, 0).is_empty());\n}"
    }]})
    .to_string();
    let dir = tempfile::tempdir().unwrap();
    let answer_file = dir.path().join("answer");
    std::fs::write(&answer_file, &answer).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": "chatcmpl-1",
                "choices": [{"message": {"content": answer}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 2400, "completion_tokens": 350}
            })))
            .mount(&server)
            .await;
        server
    });
    let generate = |engine: &[&str], env: &[(&str, String)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-dualtrack"));
        command
            .args([
                "generate",
                "--fn",
                "ledger::split_evenly",
                "--no-cache",
                "-q",
            ])
            .args(engine)
            .arg("--manifest-path")
            .arg(&manifest)
            .env_remove("CARGO_TARGET_DIR");
        for (key, value) in env {
            command.env(key, value);
        }
        let start = Instant::now();
        succeed(&mut command);
        start.elapsed()
    };
    let codex = root.join("tests/agents/codex");
    let agent = median(
        (0..RUNS)
            .map(|_| {
                generate(
                    &["--engine", "codex", "--agent-bin", codex.to_str().unwrap()],
                    &[("FAKE_AGENT_ANSWER", answer_file.display().to_string())],
                )
            })
            .collect(),
    );
    let http = median(
        (0..RUNS)
            .map(|_| {
                generate(
                    &["--engine", "openai-chat", "--model", "gpt-test"],
                    &[
                        ("OPENAI_API_KEY", "sk-test-0123456789abcdef".to_owned()),
                        ("OPENAI_BASE_URL", format!("{}/v1", server.uri())),
                    ],
                )
            })
            .collect(),
    );
    let fake_alone = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let mut command = Command::new(&codex);
                command
                    .env("FAKE_AGENT_ANSWER", &answer_file)
                    .stdin(std::process::Stdio::null());
                succeed(&mut command);
                start.elapsed()
            })
            .collect(),
    );
    println!("\none request on fixtures/ledger (median of {RUNS})");
    println!(
        "  generate --engine openai-chat (HTTP on 127.0.0.1): {:>6.0} ms",
        ms(http)
    );
    println!(
        "  generate --engine codex (the fake agent):          {:>6.0} ms",
        ms(agent)
    );
    println!(
        "  the fake agent alone (a Python start):             {:>6.0} ms",
        ms(fake_alone)
    );
    println!(
        "  starting an agent costs {:+.0} ms over HTTP, {:+.0} ms of it not the fake's own start",
        ms(agent) - ms(http),
        ms(agent) - ms(http) - ms(fake_alone)
    );
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
