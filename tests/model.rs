//! The model engines end to end: the real binary against a model API served on 127.0.0.1 by
//! the test (wiremock), for each wire format. What the tool sends (headers, schema, the
//! function's context) is asserted as well as what it makes of the answer. The trials every
//! wire format goes through (retries, time-outs, truncation, ...) are in `wire_formats.rs`.

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod util;
use util::{dualtrack, fixture};

const GOOD: &str = "#[test]\nfn split_evenly_zero_parts_is_empty() {\n    assert!(split_evenly(100, 0).is_empty());\n}";
const SPAWNS: &str =
    "#[test]\nfn spawns() {\n    std::process::Command::new(\"true\").status().unwrap();\n}";

fn tests_json() -> String {
    json!({"tests": [
        {"name": "split_evenly_zero_parts_is_empty", "function": "ledger::split_evenly",
         "targets": ["ledger::split_evenly#panic1", "not-a-site"], "spec_items": [],
         "category": "boundary", "oracle": "empty result", "input": "split_evenly(100, 0)",
         "rationale": "zero parts divides by zero", "code": GOOD},
        {"name": "spawns", "code": SPAWNS},
    ]})
    .to_string()
}

fn generate(engine: &str, env: &[(&str, String)]) -> std::process::Output {
    let mut command = dualtrack();
    command
        .args([
            "generate",
            "--engine",
            engine,
            "--fn",
            "split_evenly",
            "--manifest-path",
        ])
        .arg(fixture("ledger/Cargo.toml"))
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_BASE_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// A Chat Completions answer carrying `content`, with `prompt_tokens` in and 10 out.
fn chat_reply(content: impl Into<String>, prompt_tokens: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{"message": {"content": content.into()}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 10}
    }))
}

async fn sent(server: &MockServer) -> Value {
    server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap()
}

#[tokio::test]
async fn openai_responses_end_to_end() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/responses"))
        .and(header("authorization", "Bearer sk-test-0123456789abcdef"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "resp_1", "status": "completed",
            "output": [{"type": "message", "content": [{"type": "output_text", "text": tests_json()}]}],
            "usage": {"input_tokens": 1234, "input_tokens_details": {"cached_tokens": 1000},
                      "output_tokens": 321}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let output = generate(
        "openai",
        &[
            ("OPENAI_API_KEY", "sk-test-0123456789abcdef".into()),
            ("OPENAI_BASE_URL", format!("{}/v1", server.uri())),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("fn split_evenly_zero_parts_is_empty()"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            r#""function":"ledger::split_evenly","targets":["ledger::split_evenly#panic1"]"#
        ),
        "the tool fills the metadata and keeps only real site ids: {stdout}"
    );
    assert!(!stdout.contains("fn spawns"), "{stdout}");
    assert!(stderr.contains("spawns a process"), "{stderr}");
    assert!(
        stderr.contains("1234 input tokens (1000 cached), 321 output tokens"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("0123456789"),
        "no key in the output: {stderr}"
    );

    // The module runs as any engine's does, and the model's test finds the division by zero.
    let dir = util::copy_fixture("ledger");
    let module = dir.path().join("dualtrack_openai.rs");
    std::fs::write(&module, stdout.as_bytes()).unwrap();
    let run = dualtrack()
        .args([
            "run-tests",
            "--format",
            "json",
            "--sandbox",
            "none",
            "--manifest-path",
        ])
        .arg(dir.path().join("Cargo.toml"))
        .arg(&module)
        .output()
        .unwrap();
    let report: Value = util::checked(&run.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&run.stderr)));
    assert_eq!(report["tests"][0]["outcome"], "panicked", "{report:#}");

    let body = sent(&server).await;
    assert_eq!(body["store"], false);
    assert_eq!(body["text"]["format"]["type"], "json_schema");
    let user = body["input"][0]["content"].as_str().unwrap();
    assert!(user.contains("`ledger::split_evenly`"), "{user}");
    assert!(user.contains("ledger::split_evenly#panic1"), "{user}");
    assert!(user.contains("let base = total / parts as i64;"), "{user}");
    assert!(
        user.contains("/// Split `total` cents into `parts` shares"),
        "the doc comment is what the function promises: {user}"
    );
}

#[tokio::test]
async fn anthropic_messages_end_to_end() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "ak-test-0123456789"))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_1", "type": "message", "stop_reason": "end_turn",
            // Prose and a fence around the JSON: still read.
            "content": [{"type": "text", "text": format!("Here you go:\n```json\n{}\n```", tests_json())}],
            "usage": {"input_tokens": 100, "cache_read_input_tokens": 900,
                      "cache_creation_input_tokens": 0, "output_tokens": 50}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let output = generate(
        "anthropic",
        &[
            ("ANTHROPIC_API_KEY", "ak-test-0123456789".into()),
            ("ANTHROPIC_BASE_URL", server.uri()),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("fn split_evenly_zero_parts_is_empty()"),
        "{stdout}"
    );
    assert!(
        stderr.contains("1000 input tokens (900 cached), 50 output tokens"),
        "{stderr}"
    );
    let body = sent(&server).await;
    assert_eq!(body["max_tokens"], 16000);
    assert!(body["output_config"]["format"]["schema"].is_object());
}

#[test]
fn a_missing_key_is_one_line_and_exit_2() {
    let output = generate("openai", &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("OPENAI_API_KEY is not set"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn a_refused_key_stops_with_exit_2_naming_the_variable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "Incorrect API key provided: sk-bad-0123456789.", "type": "invalid_request_error"}
        })))
        .mount(&server)
        .await;
    let output = generate(
        "openai-chat",
        &[
            ("OPENAI_API_KEY", "sk-bad-0123456789".into()),
            ("OPENAI_BASE_URL", format!("{}/v1", server.uri())),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("OPENAI_API_KEY"), "{stderr}");
    assert!(!stderr.contains("0123456789"), "{stderr}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "not retried"
    );
}

/// A model's answer: one test of `planted::average` with no values to average.
fn average_of_nothing() -> Value {
    json!({"tests": [{
        "name": "average_of_nothing", "function": "planted::average", "targets": [],
        "spec_items": [], "category": "empty", "oracle": "no panic", "input": "average(0, 0)",
        "rationale": "zero count", "code": "#[test]\nfn average_of_nothing() {\n    let _ = average(0, 0);\n}"
    }]})
}

#[tokio::test]
async fn review_with_a_model_reports_its_findings_usage_and_transcripts() {
    let server = MockServer::start().await;
    let answer = average_of_nothing();
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1",
            "choices": [{"message": {"content": answer.to_string()}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 700, "completion_tokens": 80,
                      "prompt_tokens_details": {"cached_tokens": 500}}
        })))
        .mount(&server)
        .await;
    let dir = util::copy_fixture("planted");
    std::fs::write(
        dir.path().join("dualtrack.toml"),
        "[prices.gpt-test]\ninput = 1.0\ncached_input = 0.5\noutput = 10.0\n",
    )
    .unwrap();
    let output = review_chat(
        &dir,
        &server,
        &[
            "--fn",
            "planted::average",
            "--sandbox",
            "none",
            "--no-fixes",
            "--format",
            "json",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report: Value = util::checked(&output.stdout).unwrap();
    let failure = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "failure")
        .expect("the model's test finds the division by zero");
    assert_eq!(failure["function"], "planted::average");
    assert_eq!(report["engine"], "openai-chat");
    // The figures are the server's.
    assert_eq!(report["usage"]["input_tokens"], 700);
    assert_eq!(report["usage"]["cached_input_tokens"], 500);
    assert_eq!(report["usage"]["output_tokens"], 80);
    // 200 fresh at $1, 500 cached at $0.5, 80 out at $10 per million.
    let cost = report["usage"]["cost_usd"].as_f64().unwrap();
    assert!((cost - 0.00125).abs() < 1e-12, "{cost}");
    // The function's own row says what it cost: here, all of it.
    let row = report["per_function"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["function"] == "planted::average")
        .unwrap();
    assert_eq!(row["usage"]["input_tokens"], 700, "{row:#}");
    assert_eq!(row["usage"]["cost_usd"], report["usage"]["cost_usd"]);
    // The ledger has the same figures, and the model's name.
    let ledger = std::fs::read_to_string(dir.path().join(".dualtrack/ledger.csv")).unwrap();
    let fields: Vec<&str> = ledger.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        (
            fields[4], fields[5], fields[15], fields[16], fields[17], fields[18]
        ),
        ("openai-chat", "gpt-test", "700", "500", "80", "0.001250"),
        "{ledger}"
    );
    // Each exchange is kept, without the key.
    let runs = dir.path().join("target/dualtrack/runs");
    let run = runs.join(std::fs::read_to_string(runs.join("latest")).unwrap().trim());
    let transcripts: Vec<_> = std::fs::read_dir(run.join("transcripts"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(transcripts.len(), 1);
    let text = std::fs::read_to_string(transcripts[0].path()).unwrap();
    assert!(text.contains("average_of_nothing"), "{text}");
    assert!(!text.contains("0123456789abcdef"), "{text}");
    assert!(run.join("dualtrack_openai-chat.rs").is_file());

    // The same review again: the answer comes from the response cache, nothing is paid.
    let asked_once = server.received_requests().await.unwrap().len();
    let again = review_chat(
        &dir,
        &server,
        &[
            "--fn",
            "planted::average",
            "--sandbox",
            "none",
            "--no-fixes",
            "--format",
            "json",
        ],
    );
    let again: Value = util::checked(&again.stdout).unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), asked_once);
    assert_eq!(again["usage"]["input_tokens"], 0);
    assert_eq!(again["findings"][0]["id"], failure["id"]);

    // Replay from the first run's transcripts: no network at all (nothing listens there).
    let replayed = dualtrack()
        .args([
            "review",
            "--engine",
            "openai-chat",
            "--model",
            "gpt-test",
            "--fn",
            "planted::average",
            "--sandbox",
            "none",
            "--no-fixes",
            "--format",
            "json",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--replay",
        ])
        .arg(run.join("transcripts"))
        .arg("--manifest-path")
        .arg(dir.path().join("Cargo.toml"))
        .env("OPENAI_API_KEY", "sk-test-0123456789abcdef")
        .output()
        .unwrap();
    let replayed: Value = util::checked(&replayed.stdout).unwrap();
    assert_eq!(replayed["findings"][0]["id"], failure["id"], "{replayed:#}");
    assert_eq!(replayed["usage"]["input_tokens"], 700, "the recorded usage");

    // With a spending limit the first request uses up, the next function is not asked.
    let asked_before = server.received_requests().await.unwrap().len();
    let limited = review_chat(
        &dir,
        &server,
        &[
            "--fn",
            "average",
            "--max-cost",
            "0.0001",
            "--concurrency",
            "1",
            "--no-cache",
            "--sandbox",
            "none",
            "--no-fixes",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let limited: Value = util::checked(&limited.stdout).unwrap();
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        asked_before + 1
    );
    assert!(
        limited["skipped"].to_string().contains("--max-cost"),
        "{:#}",
        limited["skipped"]
    );
}

#[tokio::test]
async fn a_test_that_does_not_compile_goes_back_with_its_errors_and_comes_back_fixed() {
    let server = MockServer::start().await;
    let reply = |code: &str, prompt_tokens: u64| {
        let answer = json!({"tests": [{"name": "average_of_nothing", "code": code}]});
        chat_reply(answer.to_string(), prompt_tokens)
    };
    // The repair request (it carries the compiler's words) gets the fixed test.
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_string_contains("do not compile"))
        .respond_with(reply(
            "#[test]\nfn average_of_nothing() {\n    let _ = average(0, 0);\n}",
            200,
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(reply(
            "#[test]\nfn average_of_nothing() {\n    let _ = average(\"zero\", 0);\n}",
            100,
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    let dir = util::copy_fixture("planted");
    let output = review_local(&dir, &server);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = util::checked(&output.stdout).unwrap_or_else(|_| panic!("{stderr}"));
    let test = by_name(&report, "average_of_nothing");
    assert_eq!(
        test["outcome"], "panicked",
        "the fixed test ran: {report:#}"
    );
    assert!(
        stderr.contains("repair round 1: 1 test did not compile"),
        "{stderr}"
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    // The offline engine's tests ran first: they are in the report, and the model was told
    // what they found.
    assert_eq!(
        by_name(&report, "average_sum_v0_count_v0_does_not_panic")["engine"],
        "offline",
        "{report:#}"
    );
    let first: Value = requests[0].body_json().unwrap();
    let asked = first["messages"][1]["content"].as_str().unwrap();
    assert!(
        asked.contains("Generated tests already ran against it")
            && asked.contains("does_not_panic: panicked (attempt to divide by zero)"),
        "{asked}"
    );
    let repair: Value = requests[1].body_json().unwrap();
    let message = repair["messages"][1]["content"].as_str().unwrap();
    assert!(
        message.contains("error[E0308]"),
        "the compiler's error went back: {message}"
    );
    assert!(message.contains("average(\"zero\", 0)"), "{message}");
    // A local server gets the contract in the prompt and `max_tokens`.
    assert!(message.contains("Answer with JSON only"));
    assert!(repair["max_tokens"].is_number());
    assert_eq!(report["usage"]["input_tokens"], 300);
}

#[tokio::test]
async fn imports_and_crate_paths_are_fixed_without_asking_the_model() {
    let server = MockServer::start().await;
    // `Tally` lives in another module, and `planted::` names the crate as only an integration
    // test may: rustc's suggested `use` and `crate::` make it build, no request spent.
    let code = "#[test]\nfn average_of_one_tally() {\n    let mut tally = Tally::new();\n    tally.add(4);\n    assert_eq!(planted::average(4, 1), 4);\n}";
    let answer = json!({"tests": [{"name": "average_of_one_tally", "code": code}]});
    Mock::given(method("POST"))
        .respond_with(chat_reply(answer.to_string(), 100))
        .mount(&server)
        .await;
    let dir = util::copy_fixture("planted");
    let output = review_local(&dir, &server);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = util::checked(&output.stdout).unwrap_or_else(|_| panic!("{stderr}"));
    let test = by_name(&report, "average_of_one_tally");
    assert_eq!(test["outcome"], "passed", "{report:#}");
    let run_id = report["run_id"].as_str().unwrap();
    let rebuilt = dir
        .path()
        .join("target/dualtrack/runs")
        .join(run_id)
        .join("dualtrack_openai-compatible_imports1.rs");
    let code = std::fs::read_to_string(&rebuilt).unwrap();
    assert!(code.contains("use crate::tally::Tally;"), "{code}");
    assert!(
        code.replace(' ', "").contains("crate::average(4,1)"),
        "{code}"
    );
    assert!(stderr.contains("for want of an import"), "{stderr}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// The report's test of that name.
fn by_name<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no test `{name}`: {report:#}"))
}

#[test]
fn a_dry_run_prints_the_prompts_and_an_estimate_and_sends_nothing() {
    // No key, and a base URL nothing listens on: a dry run needs neither.
    let output = dualtrack()
        .args([
            "generate",
            "--engine",
            "openai",
            "--dry-run",
            "--fn",
            "split_evenly",
        ])
        .args(["--base-url", "http://127.0.0.1:9/v1", "--manifest-path"])
        .arg(fixture("ledger/Cargo.toml"))
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("=== ledger::split_evenly"), "{stdout}");
    assert!(
        stdout.contains("let base = total / parts as i64;"),
        "{stdout}"
    );
    assert!(
        stdout.contains("dry run: 1 requests to openai (gpt-5.1-codex), about"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing was sent"), "{stdout}");
    assert!(
        stdout.contains('$'),
        "a price for the default model: {stdout}"
    );
}

#[test]
fn never_send_keeps_files_from_any_model() {
    let dir = util::copy_fixture("ledger");
    std::fs::write(
        dir.path().join("dualtrack.toml"),
        "never_send = [\"src/lib.rs\", \"SPEC.md\"]\n",
    )
    .unwrap();
    let output = dualtrack()
        .args([
            "generate",
            "--engine",
            "openai",
            "--dry-run",
            "--manifest-path",
        ])
        .arg(dir.path().join("Cargo.toml"))
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Only the functions of src/ledger.rs are asked about, with no spec item.
    assert!(!stdout.contains("=== ledger::split_evenly"), "{stdout}");
    assert!(
        stdout.contains("=== ledger::ledger::Ledger::balance"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("AC7"),
        "the spec is withheld too: {stdout}"
    );
}

/// `review --engine openai-compatible --fn planted::average` (no fixes, JSON) on the crate in
/// `dir`, against a local `server` that needs no key.
fn review_local(dir: &tempfile::TempDir, server: &MockServer) -> std::process::Output {
    review_local_with(
        dir,
        server,
        &[
            "--fn",
            "planted::average",
            "--sandbox",
            "none",
            "--no-fixes",
        ],
    )
}

/// `review --engine openai-compatible --model local ARGS --format json` on the crate in `dir`,
/// against `server`.
fn review_local_with(
    dir: &tempfile::TempDir,
    server: &MockServer,
    args: &[&str],
) -> std::process::Output {
    dualtrack()
        .args([
            "review",
            "--engine",
            "openai-compatible",
            "--model",
            "local",
        ])
        .arg("--base-url")
        .arg(format!("{}/v1", server.uri()))
        .args(args)
        .args(["--format", "json", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap()
}

/// `review --engine openai-chat --model gpt-test ARGS` on the crate in `dir`, against `server`.
fn review_chat(
    dir: &tempfile::TempDir,
    server: &MockServer,
    args: &[&str],
) -> std::process::Output {
    dualtrack()
        .args(["review", "--engine", "openai-chat", "--model", "gpt-test"])
        .args(args)
        .arg("--manifest-path")
        .arg(dir.path().join("Cargo.toml"))
        .env("OPENAI_API_KEY", "sk-test-0123456789abcdef")
        .env("OPENAI_BASE_URL", format!("{}/v1", server.uri()))
        .output()
        .unwrap()
}

#[test]
fn a_server_that_answers_nothing_fails_the_command() {
    // Nothing listens on port 9: every request is refused (after the retries).
    let output = generate(
        "openai-chat",
        &[
            ("OPENAI_API_KEY", "sk-test-0123456789abcdef".into()),
            ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1".into()),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("answered for no function"), "{stderr}");
}

/// A server that writes one test each for `planted::average` and `planted::total_price`, and
/// proposes a fix for each: one that holds (`average`), one that does not (`total_price`).
async fn fix_server() -> MockServer {
    let server = MockServer::start().await;
    let reply = |content: String| chat_reply(content, 100);
    let tests = |name: &str, call: &str| {
        json!({"tests": [{"name": name, "code": format!("#[test]\nfn {name}() {{\n    let _ = {call};\n}}")}]})
            .to_string()
    };
    let asked_to_fix = |function: &str| {
        wiremock::matchers::body_string_contains(format!("Function under test: `{function}`"))
    };
    // A fix that holds for `average`, one that does not for `total_price`.
    Mock::given(wiremock::matchers::body_string_contains("These tests fail"))
        .and(asked_to_fix("planted::average"))
        .respond_with(reply(
            json!({"code": "/// The mean.\npub fn average(sum: i64, count: usize) -> i64 {\n    if count == 0 {\n        return 0;\n    }\n    sum / count as i64\n}",
                   "explanation": "no values have a mean of zero"})
            .to_string(),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::body_string_contains("These tests fail"))
        .and(asked_to_fix("planted::total_price"))
        .respond_with(reply(
            json!({"code": "pub fn total_price(unit_cents: u32, quantity: u32) -> u32 {\n    unit_cents * quantity + 0\n}",
                   "explanation": "looks fine"})
            .to_string(),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(asked_to_fix("planted::average"))
        .respond_with(reply(tests("average_of_nothing", "average(7, 0)")))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(asked_to_fix("planted::total_price"))
        .respond_with(reply(tests(
            "total_price_overflows",
            "total_price(u32::MAX, 2)",
        )))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_fix_the_model_proposes_is_offered_only_once_verified() {
    let server = fix_server().await;
    let dir = util::copy_fixture("planted");
    let before = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    let output = review_chat(
        &dir,
        &server,
        &[
            "--fn",
            "planted::average",
            "--fn",
            "planted::total_price",
            "--skip-offline",
            "--sandbox",
            "none",
            "--format",
            "json",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = util::checked(&output.stdout).unwrap_or_else(|_| panic!("{stderr}"));
    let fixes = report["fixes"]
        .as_array()
        .unwrap_or_else(|| panic!("{report:#}"));
    let fix = |function: &str| {
        fixes
            .iter()
            .find(|f| f["function"] == function)
            .unwrap_or_else(|| panic!("no fix for {function}: {report:#}"))
    };
    let average = fix("planted::average");
    assert_eq!(average["verified"], true, "{average:#}");
    assert_eq!(average["tests"], json!(["average_of_nothing"]));
    let diff = average["diff"].as_str().unwrap();
    assert!(diff.contains("--- a/src/lib.rs"), "{diff}");
    assert!(diff.contains("+    if count == 0 {"), "{diff}");
    assert!(
        !diff.contains("The mean."),
        "the function's own docs stay: {diff}"
    );
    let patch = std::path::PathBuf::from(average["patch"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(&patch).unwrap(), diff);
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["function"] == "planted::average" && f["kind"] == "failure")
        .unwrap();
    assert_eq!(finding["fix"], average["patch"]);
    let total = fix("planted::total_price");
    assert_eq!(total["verified"], false, "{total:#}");
    assert!(
        total["reason"]
            .as_str()
            .unwrap()
            .contains("`total_price_overflows` still comes out panicked"),
        "{total:#}"
    );
    assert!(
        stderr.contains("fix for planted::average verified"),
        "{stderr}"
    );
    // The user's tree is never touched; the fix requests carried the failing tests.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap(),
        before
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 4);
    let asked: Vec<String> = requests
        .iter()
        .map(|r| {
            r.body_json::<Value>().unwrap()["messages"][1]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .filter(|m| m.contains("These tests fail"))
        .collect();
    assert_eq!(asked.len(), 2);
    assert!(
        asked
            .iter()
            .any(|m| m.contains("fn average_of_nothing()")
                && m.contains("attempt to divide by zero")),
        "{asked:?}"
    );
    assert_eq!(report["usage"]["input_tokens"], 400);

    // The human applies the verified fix: the diff is shown, the file changes, the finding's
    // test is checked in and now passes under plain `cargo test`.
    let reconcile = |args: &[&str]| {
        dualtrack()
            .arg("reconcile")
            .args(args)
            .arg("--manifest-path")
            .arg(dir.path().join("Cargo.toml"))
            .output()
            .unwrap()
    };
    let total_id = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["function"] == "planted::total_price" && f["kind"] == "failure")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = reconcile(&["--apply", &total_id]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no verified fix"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap(),
        before
    );
    let id = finding["id"].as_str().unwrap();
    // A bad id beside it: nothing is applied.
    let bad = reconcile(&["--apply", id, "--keep", "F-0000000000"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap(),
        before
    );
    let applied = reconcile(&["--apply", id]);
    let stderr = String::from_utf8_lossy(&applied.stderr);
    assert_eq!(applied.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("+    if count == 0 {"),
        "the diff is shown: {stderr}"
    );
    let lib = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("    if count == 0 {\n        return 0;\n    }\n    sum / count as i64"),
        "{lib}"
    );
    assert!(
        lib.contains("/// The mean of `count` values"),
        "the docs stay: {lib}"
    );
    let decisions = std::fs::read_to_string(dir.path().join(".dualtrack/decisions.toml")).unwrap();
    assert!(decisions.contains("decision = \"kept\""), "{decisions}");
    assert!(
        decisions.contains("reason = \"the verified fix was applied\""),
        "{decisions}"
    );
    let ledger = std::fs::read_to_string(dir.path().join(".dualtrack/ledger.csv")).unwrap();
    assert!(
        ledger.contains(",kept,planted::average,the verified fix was applied"),
        "{ledger}"
    );
    let cargo =
        util::users_cargo_test(&dir.path().join("Cargo.toml"), &["--test", "dualtrack_lib"]);
    let stdout = String::from_utf8_lossy(&cargo.stdout);
    assert!(cargo.status.success(), "{stdout}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[test]
fn a_server_that_cannot_be_reached_is_given_up_after_the_first_batch() {
    // A listener that hangs up on every connection, counting them.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    let output = dualtrack()
        .args(["generate", "--engine", "openai-chat", "--concurrency", "1"])
        .args(["--fn", "ledger::", "--manifest-path"])
        .arg(fixture("ledger/Cargo.toml"))
        .env("OPENAI_API_KEY", "sk-test-0123456789abcdef")
        .env("OPENAI_BASE_URL", format!("http://127.0.0.1:{port}/v1"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("answered for no function"), "{stderr}");
    // The first function's request and its 4 retries; the other functions were not tried.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 5);
}

#[test]
fn the_engine_and_model_come_from_the_config_unless_the_command_line_says() {
    let dir = util::copy_fixture("ledger");
    std::fs::write(
        dir.path().join("dualtrack.toml"),
        "engine = \"anthropic\"\nmodel = \"claude-test\"\n",
    )
    .unwrap();
    let dry_run = |args: &[&str]| {
        let output = dualtrack()
            .args(["generate", "--dry-run", "--fn", "split_evenly"])
            .args(args)
            .arg("--manifest-path")
            .arg(dir.path().join("Cargo.toml"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(dry_run(&[]).contains("1 requests to anthropic (claude-test)"));
    assert!(
        dry_run(&["--engine", "openai", "--model", "gpt-x"])
            .contains("1 requests to openai (gpt-x)")
    );
}

#[tokio::test]
async fn no_repair_rounds_leave_a_broken_test_dropped_with_its_error() {
    let server = MockServer::start().await;
    let answer = json!({"tests": [{"name": "average_of_words",
        "code": "#[test]\nfn average_of_words() {\n    let _ = average(\"zero\", 0);\n}"}]});
    Mock::given(method("POST"))
        .respond_with(chat_reply(answer.to_string(), 100))
        .mount(&server)
        .await;
    let dir = util::copy_fixture("planted");
    let output = review_chat(
        &dir,
        &server,
        &[
            "--fn",
            "planted::average",
            "--repair-rounds",
            "0",
            "--cover-rounds",
            "0",
            "--skip-offline",
            "--no-fixes",
            "--sandbox",
            "none",
            "--format",
            "json",
        ],
    );
    let report: Value = util::checked(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
    let test = by_name(&report, "average_of_words");
    assert_eq!(test["outcome"], "dropped", "{report:#}");
    let dropped = &report["findings"][0];
    assert_eq!(dropped["kind"], "dropped_test");
    assert!(
        dropped["message"].as_str().unwrap().contains("E0308"),
        "{dropped:#}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_base_url_in_the_config_never_gets_a_provider_s_key() {
    let trusted = MockServer::start().await;
    let stranger = MockServer::start().await;
    for server in [&trusted, &stranger] {
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "choices": [{"message": {"content": tests_json()}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1}
            })))
            .mount(server)
            .await;
    }
    let dir = util::copy_fixture("ledger");
    std::fs::write(
        dir.path().join("dualtrack.toml"),
        format!(
            "engine = \"openai-chat\"\nmodel = \"gpt-test\"\nbase_url = \"{}/v1\"\n",
            stranger.uri()
        ),
    )
    .unwrap();
    let output = dualtrack()
        .args(["generate", "--fn", "split_evenly", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .env("OPENAI_API_KEY", "sk-test-0123456789abcdef")
        .env("OPENAI_BASE_URL", format!("{}/v1", trusted.uri()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("`base_url` is for the openai-compatible engine only"),
        "{stderr}"
    );
    assert!(stranger.received_requests().await.unwrap().is_empty());
    assert_eq!(trusted.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_verified_fix_leaves_no_trace_in_the_next_run_s_build() {
    let server = MockServer::start().await;
    let reply = |content: String| chat_reply(content, 100);
    Mock::given(wiremock::matchers::body_string_contains("These tests fail"))
        .respond_with(reply(
            json!({"code": "pub fn average(sum: i64, count: u32) -> i64 {\n    if count == 0 {\n        return 0;\n    }\n    sum / count as i64\n}",
                   "explanation": "zero values average to zero"})
            .to_string(),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(reply(
            json!({"tests": [{"name": "average_of_nothing",
                              "code": "#[test]\nfn average_of_nothing() {\n    assert_eq!(average(7, 0), 0);\n}"}]})
            .to_string(),
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    let dir = util::copy_fixture("layers");
    let output = review_chat(
        &dir,
        &server,
        &[
            "--fn",
            "layers_core::average",
            "--skip-offline",
            "--sandbox",
            "none",
            "--format",
            "json",
        ],
    );
    let report: Value = util::checked(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(report["fixes"][0]["verified"], true, "{report:#}");
    // Only the upper crate gets a test now: the lower one is built from its own, unfixed
    // text, not taken from the fix's build for unchanged.
    let module = dir.path().join("upper.rs");
    std::fs::write(
        &module,
        "//! dualtrack: {\"engine\":\"hand\"}\n\n\
         /// dualtrack: {\"function\":\"layers_app::mean\"}\n\
         #[test]\nfn mean_of_nothing() {\n    let _ = mean(&[]);\n}\n",
    )
    .unwrap();
    let rerun = dualtrack()
        .args(["run-tests", "--sandbox", "none", "--format", "json"])
        .arg(&module)
        .arg("--manifest-path")
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .unwrap();
    let rerun: Value = util::checked(&rerun.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&rerun.stderr)));
    assert_eq!(rerun["tests"][0]["outcome"], "panicked", "{rerun:#}");
}

#[tokio::test]
async fn fixes_stay_within_what_is_left_of_max_cost() {
    let server = fix_server().await;
    let dir = util::copy_fixture("planted");
    // $1000 per million input tokens: each request of 100 tokens costs $0.10.
    std::fs::write(
        dir.path().join("dualtrack.toml"),
        "[prices.gpt-test]\ninput = 1000.0\noutput = 0.0\n",
    )
    .unwrap();
    let output = review_chat(
        &dir,
        &server,
        &[
            "--fn",
            "planted::average",
            "--fn",
            "planted::total_price",
            "--max-cost",
            "0.25",
            "--concurrency",
            "1",
            "--skip-offline",
            "--sandbox",
            "none",
            "--format",
            "json",
        ],
    );
    let report: Value = util::checked(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
    // Two requests for tests ($0.20), then fixes with $0.05 left: one asked, one not.
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    let cost = report["usage"]["cost_usd"].as_f64().unwrap();
    assert!((cost - 0.3).abs() < 1e-9, "{cost}");
    let declined = report["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["reason"]
                .as_str()
                .is_some_and(|r| r.contains("--max-cost budget"))
        })
        .unwrap_or_else(|| panic!("{:#}", report["fixes"]));
    assert_eq!(declined["verified"], false);
}

/// A model's hostile tests read host files and panic with them; the review runs them in the
/// sandbox, and no request to the model (repair, fix) carries a line from outside the crate or
/// a secret of the tool's environment.
#[tokio::test]
async fn nothing_from_outside_the_crate_reaches_the_model() {
    let server = MockServer::start().await;
    let outside = tempfile::tempdir().unwrap();
    let secret_file = outside.path().join("notes.txt");
    std::fs::write(&secret_file, "outside-the-crate-line-7c1d").unwrap();
    let planted_token = "planted-token-value-9f2e";
    let leak = |name: &str, path: &str| {
        json!({"name": name, "code": format!(
            "#[test]\nfn {name}() {{\n    let text = std::fs::read_to_string({path:?}).unwrap_or_else(|e| e.to_string());\n    assert!(text.is_empty() && average(1, 1) == 1, \"{{text}}\");\n}}"
        )})
    };
    let hostile = json!({"tests": [
        leak("leaks_the_password_file", "/etc/passwd"),
        leak("leaks_a_host_file", secret_file.to_str().unwrap()),
        {"name": "includes_a_host_file", "code": format!(
            "#[test]\nfn includes_a_host_file() {{\n    panic!(\"{{}}\", include_str!({:?}));\n}}",
            secret_file.to_str().unwrap()
        )},
    ]});
    Mock::given(wiremock::matchers::body_string_contains("These tests fail"))
        .respond_with(chat_reply(
            json!({"code": "", "explanation": "the tests are wrong"}).to_string(),
            10,
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(chat_reply(hostile.to_string(), 10))
        .with_priority(2)
        .mount(&server)
        .await;
    let dir = util::copy_fixture("planted");
    let output = dualtrack()
        .args(["review", "--engine", "openai-chat", "--model", "gpt-test"])
        .args([
            "--fn",
            "planted::average",
            "--format",
            "json",
            "--manifest-path",
        ])
        .arg(dir.path().join("Cargo.toml"))
        .env("OPENAI_API_KEY", "sk-test-0123456789abcdef")
        .env("OPENAI_BASE_URL", format!("{}/v1", server.uri()))
        .env("DUALTRACK_PLANTED_TOKEN", planted_token)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.code().is_some_and(|c| c <= 1), "{stderr}");
    let report: Value = util::checked(&output.stdout).unwrap();
    // The model's leaking tests ran (in the sandbox) and found nothing to read.
    let leaked = by_name(&report, "leaks_a_host_file");
    assert!(
        leaked["message"]
            .as_str()
            .unwrap_or_default()
            .contains("No such file"),
        "{leaked:#}"
    );
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests.len() >= 2,
        "the fix was not asked for: {}",
        requests.len()
    );
    for request in &requests {
        let body = String::from_utf8_lossy(&request.body);
        for leak in ["root:x:0:0", "outside-the-crate-line-7c1d", planted_token] {
            assert!(!body.contains(leak), "a request carried {leak}: {body}");
        }
    }
    assert!(!String::from_utf8_lossy(&output.stdout).contains("outside-the-crate-line-7c1d"));
}

#[tokio::test]
async fn total_timeout_counts_from_the_first_request_not_the_offline_pass() {
    let server = MockServer::start().await;
    let answer = average_of_nothing();
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(chat_reply(answer.to_string(), 100))
        .mount(&server)
        .await;
    let dir = util::copy_fixture("planted");
    // The offline pass runs first, and here each of its tests takes a second and a half: longer than
    // the model's whole budget, which must not be spent on it.
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    let slow = text.replace(
        "    sum / count as i64\n",
        "    std::thread::sleep(std::time::Duration::from_millis(1500));\n    sum / count as i64\n",
    );
    assert_ne!(text, slow);
    std::fs::write(&lib, slow).unwrap();
    let output = review_chat(
        &dir,
        &server,
        &[
            "--fn",
            "planted::average",
            "--sandbox",
            "none",
            "--no-fixes",
            "--max-per-fn",
            "1",
            "--total-timeout",
            "1",
            "--format",
            "json",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("offline pass"), "{stderr}");
    let asked = server.received_requests().await.unwrap().len();
    assert_eq!(asked, 1, "the model was asked once: {stderr}");
    let report: Value = util::checked(&output.stdout).unwrap();
    assert!(
        report["tests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "average_of_nothing"),
        "{report}"
    );
}

#[tokio::test]
async fn the_model_is_asked_for_the_sites_the_offline_pass_did_not_reach() {
    let server = MockServer::start().await;
    let answer = json!({"tests": [{"name": "parse_cents_three_decimals",
        "code": "#[test]\nfn parse_cents_three_decimals() {\n    assert!(parse_cents(\"1.234\").is_err());\n}"}]});
    Mock::given(method("POST"))
        .respond_with(chat_reply(answer.to_string(), 100))
        .mount(&server)
        .await;
    let dir = util::copy_fixture("ledger");
    let output = review_local_with(
        &dir,
        &server,
        &[
            "--fn",
            "ledger::parse_cents",
            "--no-fixes",
            "--fail-on",
            "never",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = util::checked(&output.stdout).unwrap_or_else(|_| panic!("{stderr}"));
    let asked = sent(&server).await;
    let asked = asked["messages"][1]["content"].as_str().unwrap();
    // The offline pass never tried more than two decimals: the model is told so, with the
    // line and its condition.
    assert!(
        asked.contains("No test's run has reached these sites of it yet")
            && asked.contains("(if): fraction.len() > 2"),
        "{asked}"
    );
    // And the model's test, run with probes, reached it.
    let test = by_name(&report, "parse_cents_three_decimals");
    assert_eq!(test["outcome"], "passed", "{report:#}");
    assert!(
        test["reached"]
            .as_array()
            .unwrap()
            .iter()
            .any(|site| site == "ledger::parse_cents#if2"),
        "{test:#}"
    );
}

#[tokio::test]
async fn a_cover_round_asks_for_the_sites_no_test_reached_and_runs_what_comes_back() {
    let server = MockServer::start().await;
    let first = json!({"tests": [{"name": "parse_cents_whole",
        "code": "#[test]\nfn parse_cents_whole() {\n    assert_eq!(parse_cents(\"12\").unwrap(), 1200);\n}"}]});
    let cover = json!({"tests": [{"name": "parse_cents_three_decimals",
        "code": "#[test]\nfn parse_cents_three_decimals() {\n    assert!(parse_cents(\"1.234\").is_err());\n}"}]});
    // The cover round's request is the one told of the model's own first test.
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_string_contains(
            "parse_cents_whole: passed",
        ))
        .respond_with(chat_reply(cover.to_string(), 100))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(chat_reply(first.to_string(), 100))
        .with_priority(2)
        .mount(&server)
        .await;
    let dir = util::copy_fixture("ledger");
    let review = |extra: &[&str]| {
        let mut args = vec![
            "--fn",
            "ledger::parse_cents",
            "--skip-offline",
            "--no-fixes",
            "--fail-on",
            "never",
        ];
        args.extend_from_slice(extra);
        review_local_with(&dir, &server, &args)
    };
    let output = review(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = util::checked(&output.stdout).unwrap_or_else(|_| panic!("{stderr}"));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2, "{stderr}");
    let asked: Value = serde_json::from_slice(&requests[1].body).unwrap();
    let asked = asked["messages"][1]["content"].as_str().unwrap();
    // The model is told what its first test left unreached, with the line and condition.
    assert!(
        asked.contains("No test's run has reached these sites of it yet")
            && asked.contains("(if): fraction.len() > 2"),
        "{asked}"
    );
    assert!(stderr.contains("cover round 1:"), "{stderr}");
    // Both tests are in the report; the cover round's reached the site the first did not.
    let whole = by_name(&report, "parse_cents_whole");
    assert_eq!(whole["outcome"], "passed", "{report:#}");
    assert!(
        !whole["reached"]
            .as_array()
            .unwrap()
            .iter()
            .any(|site| site == "ledger::parse_cents#if2"),
        "{whole:#}"
    );
    let covering = by_name(&report, "parse_cents_three_decimals");
    assert_eq!(covering["outcome"], "passed", "{report:#}");
    assert!(
        covering["reached"]
            .as_array()
            .unwrap()
            .iter()
            .any(|site| site == "ledger::parse_cents#if2"),
        "{covering:#}"
    );
    assert!(
        stderr.contains("reaching") && !stderr.contains("reaching 0 sites"),
        "{stderr}"
    );
    // Its module is kept in the run directory, beside the first one, for rerun commands.
    let run_dir = dir
        .path()
        .join("target/dualtrack/runs")
        .join(report["run_id"].as_str().unwrap());
    assert!(
        run_dir
            .join("dualtrack_openai-compatible_cover1.rs")
            .is_file(),
        "{}",
        run_dir.display()
    );
    // `--cover-rounds 0`: one request, and only the first test.
    let output = review(&["--cover-rounds", "0", "--no-cache"]);
    let report: Value = util::checked(&output.stdout).unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    assert!(
        report["tests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "parse_cents_three_decimals"),
        "{report:#}"
    );
}
