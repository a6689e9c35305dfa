//! Every wire format through the same trials: the real binary against a model API served on
//! 127.0.0.1 by the test (wiremock), answering in the format's own shape. A normal answer, one
//! in fences with prose, malformed JSON, a test that does not compile and its repair, 429 with
//! `retry-after` then success, 500 twice then success, 401, a truncated answer, and a server
//! too slow for the time-outs. What the tool sends is asserted as well as what it makes of it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod util;
use util::{dualtrack, fixture};

const KEY: &str = "sk-test-0123456789abcdef";

/// One wire format as a test serves it.
#[derive(Clone, Copy, Debug)]
struct Format {
    engine: &'static str,
    path: &'static str,
}

const FORMATS: [Format; 3] = [
    Format {
        engine: "openai",
        path: "/v1/responses",
    },
    Format {
        engine: "openai-chat",
        path: "/v1/chat/completions",
    },
    Format {
        engine: "anthropic",
        path: "/v1/messages",
    },
];

impl Format {
    /// The environment the SDKs read: a key and the server's base URL.
    fn env(self, server: &MockServer) -> [(&'static str, String); 2] {
        match self.engine {
            "anthropic" => [
                ("ANTHROPIC_API_KEY", KEY.to_owned()),
                ("ANTHROPIC_BASE_URL", server.uri()),
            ],
            _ => [
                ("OPENAI_API_KEY", KEY.to_owned()),
                ("OPENAI_BASE_URL", format!("{}/v1", server.uri())),
            ],
        }
    }

    /// A 200 answer carrying `text`, cut off at the output budget when `truncated`.
    fn reply(self, text: &str, truncated: bool) -> ResponseTemplate {
        let body = match self.engine {
            "openai" => {
                let mut body = json!({
                    "id": "resp_1", "status": "completed",
                    "output": [{"type": "message", "role": "assistant",
                                "content": [{"type": "output_text", "text": text}]}],
                    "usage": {"input_tokens": 100, "output_tokens": 20,
                              "input_tokens_details": {"cached_tokens": 0},
                              "output_tokens_details": {"reasoning_tokens": 5}}
                });
                if truncated {
                    body["status"] = json!("incomplete");
                    body["incomplete_details"] = json!({"reason": "max_output_tokens"});
                }
                body
            }
            "openai-chat" => json!({
                "id": "chatcmpl-1",
                "choices": [{"message": {"role": "assistant", "content": text},
                             "finish_reason": if truncated { "length" } else { "stop" }}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20}
            }),
            _ => json!({
                "id": "msg_1", "type": "message", "role": "assistant",
                "content": [{"type": "text", "text": text}],
                "stop_reason": if truncated { "max_tokens" } else { "end_turn" },
                "usage": {"input_tokens": 100, "output_tokens": 20}
            }),
        };
        ResponseTemplate::new(200).set_body_json(body)
    }

    /// The user message of a request this format sent.
    fn user_message(self, body: &Value) -> String {
        let message = match self.engine {
            "openai" => &body["input"][0]["content"],
            "openai-chat" => &body["messages"][1]["content"],
            _ => &body["messages"][0]["content"],
        };
        message.as_str().unwrap_or_default().to_owned()
    }

    /// Whether the request asks for the tests schema the way this format takes it.
    fn asks_for_the_schema(self, body: &Value) -> bool {
        let format = match self.engine {
            "openai" => &body["text"]["format"],
            "openai-chat" => &body["response_format"],
            _ => &body["output_config"]["format"],
        };
        format["type"] == "json_schema" && !format.to_string().is_empty()
    }
}

const GOOD: &str = "#[test]\nfn split_evenly_zero_parts_is_empty() {\n    assert!(split_evenly(100, 0).is_empty());\n}";

fn answer(code: &str) -> String {
    json!({"tests": [{
        "name": "split_evenly_zero_parts_is_empty", "function": "ledger::split_evenly",
        "targets": ["ledger::split_evenly#panic1"], "spec_items": [], "category": "boundary",
        "oracle": "empty result", "input": "split_evenly(100, 0)",
        "rationale": "zero parts divides by zero", "code": code
    }]})
    .to_string()
}

/// `generate --engine FORMAT --fn split_evenly` on the ledger fixture against `server`.
fn generate(format: Format, server: &MockServer, extra: &[&str]) -> std::process::Output {
    dualtrack()
        .args(["generate", "--engine", format.engine, "--model", "m-test"])
        .args(["--fn", "split_evenly", "--no-cache"])
        .args(extra)
        .arg("--manifest-path")
        .arg(fixture("ledger/Cargo.toml"))
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .envs(format.env(server))
        .output()
        .unwrap()
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn a_normal_answer_gives_its_test_and_the_request_is_the_format_s_own() {
    for format in FORMATS {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format.path))
            .respond_with(format.reply(&answer(GOOD), false))
            .mount(&server)
            .await;
        let output = generate(format, &server, &[]);
        let stdout = text(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format:?}: {}",
            text(&output.stderr)
        );
        assert!(
            stdout.contains("fn split_evenly_zero_parts_is_empty()"),
            "{format:?}: {stdout}"
        );
        let sent = &requests(&server).await[0];
        let headers = &sent.headers;
        match format.engine {
            "anthropic" => {
                assert_eq!(headers["x-api-key"], KEY);
                assert_eq!(headers["anthropic-version"], "2023-06-01");
                assert!(headers.get("authorization").is_none());
            }
            _ => assert_eq!(headers["authorization"], format!("Bearer {KEY}").as_str()),
        }
        let body: Value = sent.body_json().unwrap();
        assert_eq!(body["model"], "m-test", "{format:?}");
        assert!(format.asks_for_the_schema(&body), "{format:?}: {body:#}");
        let message = format.user_message(&body);
        assert!(
            message.contains("Function under test: `ledger::split_evenly`"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn an_answer_in_fences_with_prose_is_read() {
    for format in FORMATS {
        let server = MockServer::start().await;
        let prose = format!(
            "Here are the tests you asked for.\n\n```json\n{}\n```\n\nThey target the division.",
            answer(GOOD)
        );
        Mock::given(method("POST"))
            .respond_with(format.reply(&prose, false))
            .mount(&server)
            .await;
        let output = generate(format, &server, &[]);
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{format:?}");
        assert!(
            stdout.contains("fn split_evenly_zero_parts_is_empty()"),
            "{format:?}: {stdout}"
        );
    }
}

#[tokio::test]
async fn malformed_json_skips_the_function_and_says_why() {
    for format in FORMATS {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(format.reply("{\"tests\": [{\"name\": \"x\", \"code\": ", false))
            .mount(&server)
            .await;
        let output = generate(format, &server, &[]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{format:?}: {stderr}");
        assert!(
            stderr.contains("ledger::split_evenly"),
            "{format:?}: {stderr}"
        );
        assert!(stderr.contains("holds no tests"), "{format:?}: {stderr}");
        assert!(!text(&output.stdout).contains("#[test]"), "{format:?}");
    }
}

#[tokio::test]
async fn rate_limits_with_retry_after_are_waited_out() {
    for format in FORMATS {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "1")
                    .set_body_json(
                        json!({"error": {"message": "slow down", "type": "rate_limit_error"}}),
                    ),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(format.reply(&answer(GOOD), false))
            .with_priority(2)
            .mount(&server)
            .await;
        let started = Instant::now();
        let output = generate(format, &server, &[]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format:?}: {}",
            text(&output.stderr)
        );
        assert!(text(&output.stdout).contains("fn split_evenly_zero_parts_is_empty()"));
        let sent = requests(&server).await;
        assert_eq!(sent.len(), 2, "{format:?}");
        // The server said one second: the second try waited for it.
        assert!(started.elapsed() >= Duration::from_secs(1), "{format:?}");
        assert_eq!(sent[0].body, sent[1].body, "the same request again");
    }
}

#[tokio::test]
async fn server_errors_are_retried_until_an_answer() {
    for format in FORMATS {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500).insert_header("retry-after-ms", "10"))
            .up_to_n_times(2)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(format.reply(&answer(GOOD), false))
            .with_priority(2)
            .mount(&server)
            .await;
        let output = generate(format, &server, &[]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format:?}: {}",
            text(&output.stderr)
        );
        assert!(text(&output.stdout).contains("fn split_evenly_zero_parts_is_empty()"));
        assert_eq!(requests(&server).await.len(), 3, "{format:?}");
    }
}

#[tokio::test]
async fn a_refused_key_stops_at_once_naming_the_variable_and_not_the_key() {
    for format in FORMATS {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({
                "error": {"message": format!("invalid x-api-key {KEY}"), "type": "authentication_error"}
            })))
            .mount(&server)
            .await;
        let output = generate(format, &server, &[]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{format:?}: {stderr}");
        let variable = match format.engine {
            "anthropic" => "ANTHROPIC_API_KEY",
            _ => "OPENAI_API_KEY",
        };
        assert!(stderr.contains(variable), "{format:?}: {stderr}");
        assert!(!stderr.contains("0123456789abcdef"), "{format:?}: {stderr}");
        assert_eq!(
            requests(&server).await.len(),
            1,
            "never retried: {format:?}"
        );
    }
}

#[tokio::test]
async fn a_truncated_answer_is_asked_again_for_fewer_tests() {
    for format in FORMATS {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(body_string_contains("Write 4 tests."))
            .respond_with(format.reply(&answer(GOOD), false))
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(format.reply("{\"tests\": [{\"name\": \"cut", true))
            .with_priority(2)
            .mount(&server)
            .await;
        let output = generate(format, &server, &[]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format:?}: {}",
            text(&output.stderr)
        );
        assert!(text(&output.stdout).contains("fn split_evenly_zero_parts_is_empty()"));
        let sent = requests(&server).await;
        assert_eq!(sent.len(), 2, "{format:?}");
        let first = format.user_message(&sent[0].body_json().unwrap());
        assert!(first.contains("Write 8 tests."), "{format:?}: {first}");
    }
}

#[tokio::test]
async fn a_slow_server_is_cut_off_by_the_request_and_total_time_outs() {
    for format in FORMATS {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                format
                    .reply(&answer(GOOD), false)
                    .set_delay(Duration::from_secs(20)),
            )
            .mount(&server)
            .await;
        let started = Instant::now();
        let output = generate(
            format,
            &server,
            &["--request-timeout", "1", "--total-timeout", "4"],
        );
        let elapsed = started.elapsed();
        let stderr = text(&output.stderr);
        // No answer in time: the function is skipped, saying why, and the run ends.
        assert!(
            stderr.contains("--total-timeout was reached"),
            "{format:?}: {stderr}"
        );
        assert!(elapsed < Duration::from_secs(15), "{format:?}: {elapsed:?}");
        // Each try was cut at the request time-out, so there was time to try again.
        assert!(requests(&server).await.len() >= 2, "{format:?}");
        assert!(!text(&output.stdout).contains("#[test]"), "{format:?}");
    }
}

#[tokio::test]
async fn a_test_that_does_not_compile_is_repaired_from_the_compiler_s_words() {
    for format in FORMATS {
        let server = MockServer::start().await;
        let code = |argument: &str| {
            json!({"tests": [{"name": "average_of_nothing", "function": "planted::average",
                              "code": format!("#[test]\nfn average_of_nothing() {{\n    let _ = average({argument}, 0);\n}}")}]})
            .to_string()
        };
        Mock::given(method("POST"))
            .and(body_string_contains("do not compile"))
            .respond_with(format.reply(&code("0"), false))
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(format.reply(&code("\"zero\""), false))
            .with_priority(2)
            .mount(&server)
            .await;
        let dir = util::copy_fixture("planted");
        let output = dualtrack()
            .args(["review", "--engine", format.engine, "--model", "m-test"])
            .args([
                "--fn",
                "planted::average",
                "--skip-offline",
                "--no-fixes",
                "--sandbox",
                "none",
            ])
            .args(["--format", "json", "--manifest-path"])
            .arg(dir.path().join("Cargo.toml"))
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("ANTHROPIC_BASE_URL")
            .envs(format.env(&server))
            .output()
            .unwrap();
        let stderr = text(&output.stderr);
        let report: Value =
            util::checked(&output.stdout).unwrap_or_else(|_| panic!("{format:?}: {stderr}"));
        let test = &report["tests"][0];
        assert_eq!(test["name"], "average_of_nothing", "{format:?}: {report:#}");
        assert_eq!(
            test["outcome"], "panicked",
            "the repaired test ran: {report:#}"
        );
        let sent = requests(&server).await;
        assert_eq!(sent.len(), 2, "{format:?}");
        let repair = format.user_message(&sent[1].body_json().unwrap());
        assert!(repair.contains("error[E0308]"), "{format:?}: {repair}");
        assert!(
            repair.contains("average(\"zero\", 0)"),
            "{format:?}: {repair}"
        );
        // The report's figures are the server's: two exchanges of 100 in and 20 out.
        assert_eq!(report["usage"]["input_tokens"], 200, "{format:?}");
        assert_eq!(report["usage"]["output_tokens"], 40, "{format:?}");
    }
}
