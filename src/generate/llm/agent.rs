//! The coding agents people are signed in to, as model backends: `codex exec --json` and
//! `claude -p --output-format json`. One agent process per request, in an empty temporary
//! directory, its tools off or read-only, the prompt on its standard input (never on the
//! command line, where `ps` shows it); its machine-readable output read back as a reply.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::backend::{ModelBackend, Sending};
use super::client::{ApiError, Exchange, Patience};
use super::wire::{Finish, Reply, Request, Usage, WireError};
use crate::error::InputError;

/// Which agent CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    Codex,
    Claude,
}

impl Agent {
    pub fn name(self) -> &'static str {
        match self {
            Agent::Codex => "codex",
            Agent::Claude => "claude",
        }
    }

    /// How to get it, and how to sign in, for the message when it is missing or signed out.
    fn install_hint(self) -> &'static str {
        match self {
            Agent::Codex => {
                "install Codex CLI (`npm install -g @openai/codex`) and run `codex login`"
            }
            Agent::Claude => {
                "install Claude Code (`npm install -g @anthropic-ai/claude-code`) and run `claude` once to sign in"
            }
        }
    }

    fn login_hint(self) -> &'static str {
        match self {
            Agent::Codex => "run `codex login`",
            Agent::Claude => "run `claude` and sign in (`/login`)",
        }
    }
}

/// An agent CLI ready to ask.
#[derive(Debug, Clone)]
pub struct AgentBackend {
    agent: Agent,
    program: PathBuf,
    /// `--model`; `None`: the agent's own default, named by what it reports.
    model: Option<String>,
    location: String,
}

impl AgentBackend {
    /// The agent `agent`, at `bin` or found on `PATH`; a missing one is an input error that
    /// says how to install it.
    pub fn find(
        agent: Agent,
        bin: Option<&Path>,
        model: Option<&str>,
    ) -> Result<AgentBackend, InputError> {
        let program = match bin {
            Some(path) if path.is_file() => path.to_owned(),
            Some(path) => {
                return Err(InputError::new(format!(
                    "--agent-bin {}: no such file",
                    path.display()
                )));
            }
            None => on_path(agent.name()).ok_or_else(|| {
                InputError::new(format!(
                    "--engine {0}: `{0}` is not on PATH: {1}, or pass --agent-bin PATH",
                    agent.name(),
                    agent.install_hint()
                ))
            })?,
        };
        // It runs in a directory of its own: a relative path must not depend on ours.
        let program = program.canonicalize().unwrap_or(program);
        Ok(AgentBackend {
            agent,
            location: format!("{}:{}", agent.name(), program.display()),
            program,
            model: model.map(str::to_owned),
        })
    }

    /// The agent as named, not looked for: what a dry run shows.
    pub fn unchecked(agent: Agent, model: Option<&str>) -> AgentBackend {
        AgentBackend {
            agent,
            program: PathBuf::from(agent.name()),
            model: model.map(str::to_owned),
            location: agent.name().to_owned(),
        }
    }

    /// The command for one request: the answer only, nothing done, in `dir`.
    fn command(&self, dir: &Path, schema: Option<&Path>) -> std::process::Command {
        let mut command = std::process::Command::new(&self.program);
        command.current_dir(dir);
        match self.agent {
            Agent::Codex => {
                command.args([
                    "exec",
                    "--json",
                    "--skip-git-repo-check",
                    "--sandbox",
                    "read-only",
                    "--color",
                    "never",
                    "--cd",
                ]);
                command.arg(dir);
                if let Some(schema) = schema {
                    command.arg("--output-schema").arg(schema);
                }
                if let Some(model) = &self.model {
                    command.args(["--model", model]);
                }
                // The prompt: standard input.
                command.arg("-");
            }
            Agent::Claude => {
                command.args([
                    "-p",
                    "--output-format",
                    "json",
                    // No tool at all, one turn, no MCP server from the user's config.
                    "--tools",
                    "",
                    "--max-turns",
                    "1",
                    "--strict-mcp-config",
                ]);
                if let Some(model) = &self.model {
                    command.args(["--model", model]);
                }
            }
        }
        command
    }
}

/// `name` on `PATH`, as a shell would find it.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

impl ModelBackend for AgentBackend {
    fn engine(&self) -> &'static str {
        self.agent.name()
    }

    fn model(&self) -> &str {
        self.model.as_deref().unwrap_or("default")
    }

    fn location(&self) -> &str {
        &self.location
    }

    /// Codex takes the answer's schema (`--output-schema`); Claude Code is told it in the
    /// prompt.
    fn enforces_schema(&self) -> bool {
        self.agent == Agent::Codex
    }

    fn body(&self, request: &Request) -> Value {
        json!({
            "agent": self.agent.name(),
            "model": self.model,
            "prompt": prompt(request),
            "schema": request
                .schema
                .filter(|_| self.enforces_schema())
                .map(super::wire::Schema::value),
        })
    }

    fn send<'a>(&'a self, body: &'a Value, patience: Patience) -> Sending<'a> {
        Box::pin(async move {
            let Some(timeout) = patience.next_try() else {
                return Err(ApiError::OutOfTime { attempts: 0 });
            };
            let backend = self.clone();
            let body = body.clone();
            tokio::task::spawn_blocking(move || backend.ask(&body, timeout))
                .await
                .map_err(|err| ApiError::Connection {
                    url: "agent".to_owned(),
                    message: err.to_string(),
                    attempts: 1,
                })?
        })
    }

    fn redact_value(&self, value: Value) -> Value {
        // No key of ours goes to an agent; what it says is cleaned of this machine's secrets
        // when its output is read.
        value
    }

    fn read(&self, response: &Value) -> Result<Reply, WireError> {
        match self.agent {
            Agent::Codex => read_codex(response),
            Agent::Claude => read_claude(response),
        }
    }
}

/// The request as one prompt: an agent takes one message.
fn prompt(request: &Request) -> String {
    format!("{}\n\n{}", request.system, request.user)
}

impl AgentBackend {
    /// Run the agent once for `body`, in an empty temporary directory, within `timeout`.
    fn ask(&self, body: &Value, timeout: Duration) -> Result<Exchange, ApiError> {
        let agent = self.agent;
        let start = Instant::now();
        let failed = |message: String| ApiError::Connection {
            url: agent.name().to_owned(),
            message,
            attempts: 1,
        };
        let dir =
            tempfile::tempdir().map_err(|err| failed(format!("no temporary directory: {err}")))?;
        let schema = match body.get("schema").filter(|s| !s.is_null()) {
            Some(schema) => {
                let path = dir.path().join(".dualtrack-schema.json");
                std::fs::write(&path, schema.to_string())
                    .map_err(|err| failed(format!("cannot write the schema: {err}")))?;
                Some(path)
            }
            None => None,
        };
        // The agent works in a directory of its own, empty but for the schema: nothing of the
        // crate is there to read.
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).map_err(|err| failed(err.to_string()))?;
        let command = self.command(&work, schema.as_deref());
        let prompt = crate::secrets::redact(body["prompt"].as_str().unwrap_or_default());
        let finished = crate::scratch::process::run_with_input(
            command,
            Some(prompt.into_bytes()),
            timeout,
            16 << 20,
        )
        .map_err(|err| failed(format!("{err:#}")))?;
        if finished.timed_out() {
            return Err(ApiError::Timeout {
                seconds: timeout.as_secs(),
                attempts: 1,
            });
        }
        let response = output_of(agent, &finished.stdout);
        let status = finished.status.and_then(|s| s.code()).unwrap_or(-1);
        if let Some(message) = response.as_ref().and_then(|r| failure_in(agent, r)) {
            return Err(classify(agent, status, message));
        }
        match response {
            Some(body) if status == 0 => Ok(Exchange {
                status: 200,
                body,
                attempts: 1,
                elapsed: start.elapsed(),
                request_id: None,
            }),
            // The agent's own words: its standard error, and its output only when that is
            // not its format (where the model's text would be).
            Some(_) if status != 0 => Err(classify(agent, status, first_lines(&finished.stderr))),
            None if status != 0 => Err(classify(
                agent,
                status,
                first_lines(&format!("{}\n{}", finished.stderr, finished.stdout)),
            )),
            _ => Err(ApiError::NotJson(format!(
                "{} printed no {} output: {}",
                agent.name(),
                match agent {
                    Agent::Codex => "JSONL event",
                    Agent::Claude => "JSON result",
                },
                first_lines(&finished.stdout)
            ))),
        }
    }
}

/// The agent's standard output as one JSON value: Codex's events as `{"events": [...]}`,
/// Claude Code's result object as it is; `None`: not what the agent prints.
fn output_of(agent: Agent, stdout: &str) -> Option<Value> {
    match agent {
        Agent::Codex => {
            let events: Vec<Value> = stdout
                .lines()
                .filter(|line| !line.trim().is_empty())
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .filter(|event| event.get("type").is_some())
                .collect();
            (!events.is_empty()).then(|| json!({ "events": events }))
        }
        Agent::Claude => {
            // The result object; in verbose mode an array of messages ending with it, in a
            // stream the last line.
            let value = serde_json::from_str::<Value>(stdout.trim())
                .ok()
                .or_else(|| {
                    stdout
                        .lines()
                        .rev()
                        .find_map(|line| serde_json::from_str::<Value>(line).ok())
                });
            let value = match value {
                Some(Value::Array(messages)) => {
                    messages.into_iter().rev().find(|m| m["type"] == "result")
                }
                other => other,
            };
            value.filter(|v| v.get("type").is_some())
        }
    }
}

/// What the agent said went wrong, in output that parsed: Codex's `turn.failed` and `error`
/// events, Claude Code's `is_error`.
fn failure_in(agent: Agent, response: &Value) -> Option<String> {
    match agent {
        Agent::Codex => {
            let events = response["events"].as_array()?;
            if let Some(failed) = events.iter().find(|e| e["type"] == "turn.failed") {
                return Some(
                    failed["error"]["message"]
                        .as_str()
                        .unwrap_or("the turn failed")
                        .to_owned(),
                );
            }
            // An `error` event is also what Codex says of a reconnection it then gets past:
            // it fails the request only when no turn completed after it.
            let completed = events.iter().rposition(|e| e["type"] == "turn.completed");
            events
                .iter()
                .enumerate()
                .rev()
                .find(|(at, e)| e["type"] == "error" && completed.is_none_or(|c| *at > c))
                .map(|(_, e)| e["message"].as_str().unwrap_or("error").to_owned())
        }
        Agent::Claude => {
            (response["is_error"] == true || response["subtype"] != "success").then(|| {
                // An `error_max_turns` result has an empty `result`: its subtype says it.
                response["result"]
                    .as_str()
                    .filter(|text| !text.trim().is_empty())
                    .or(response["subtype"].as_str())
                    .unwrap_or("the agent reported an error")
                    .to_owned()
            })
        }
    }
}

/// A failure as the engine's errors say it: signed out, out of quota, or the agent's own
/// words.
fn classify(agent: Agent, status: i32, message: String) -> ApiError {
    let lower = message.to_lowercase();
    // A phrase, or a status code as a word of its own (not inside a timestamp or an id).
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let said = |what: &str| match what {
        "401" | "429" => words.contains(&what),
        _ => lower.contains(what),
    };
    if said("log in")
        || said("login")
        || said("logged in")
        || said("sign in")
        || said("not authenticated")
        || said("unauthorized")
        || said("invalid api key")
        || said("401")
    {
        return ApiError::SignedOut {
            agent: agent.name(),
            hint: agent.login_hint(),
            message,
        };
    }
    if said("usage limit")
        || said("rate limit")
        || said("quota")
        || said("429")
        || said("limit reached")
    {
        return ApiError::UsageLimit {
            agent: agent.name(),
            message,
        };
    }
    ApiError::Status {
        status: u16::try_from(status).unwrap_or(0),
        message: format!("{} exited with {status}: {message}", agent.name()),
        attempts: 1,
    }
}

/// The first lines of `text`, for a message.
fn first_lines(text: &str) -> String {
    // Without the terminal's colour codes an agent may print (`ESC [ 31 m`).
    let mut plain = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for after in chars.by_ref() {
                if after.is_ascii_alphabetic() {
                    break;
                }
            }
        } else if !c.is_control() || c == '\n' {
            plain.push(c);
        }
    }
    let text = plain;
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(5)
        .collect();
    let joined = lines.join(" | ");
    if joined.is_empty() {
        "(nothing)".to_owned()
    } else if joined.len() > 400 {
        let end = (0..=400)
            .rev()
            .find(|&i| joined.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}...", &joined[..end])
    } else {
        joined
    }
}

/// Codex's events: the last agent message, the turns' usage, the thread's id.
fn read_codex(response: &Value) -> Result<Reply, WireError> {
    let wrong = |why: &str| WireError {
        format: "codex exec --json",
        why: why.to_owned(),
    };
    let events = response["events"]
        .as_array()
        .ok_or_else(|| wrong("no events"))?;
    let text = events
        .iter()
        .rev()
        .filter(|e| e["type"] == "item.completed")
        .find(|e| e["item"]["type"] == "agent_message")
        .and_then(|e| e["item"]["text"].as_str())
        .ok_or_else(|| wrong("no agent_message item"))?;
    let mut usage = Usage::default();
    for event in events.iter().filter(|e| e["type"] == "turn.completed") {
        let u = &event["usage"];
        usage += Usage {
            input_tokens: u["input_tokens"].as_u64().unwrap_or(0),
            cached_input_tokens: u["cached_input_tokens"].as_u64().unwrap_or(0),
            output_tokens: u["output_tokens"].as_u64().unwrap_or(0),
            reasoning_tokens: u["reasoning_output_tokens"].as_u64().unwrap_or(0),
            reported_micro_usd: 0,
        };
    }
    Ok(Reply {
        text: text.to_owned(),
        usage,
        finish: Finish::Complete,
        id: events
            .iter()
            .find(|e| e["type"] == "thread.started")
            .and_then(|e| e["thread_id"].as_str())
            .map(str::to_owned),
        model: None,
    })
}

/// Claude Code's result: the text, its usage and cost, the session's id.
fn read_claude(response: &Value) -> Result<Reply, WireError> {
    let text = response["result"].as_str().ok_or_else(|| WireError {
        format: "claude -p --output-format json",
        why: "no `result` text".to_owned(),
    })?;
    let u = &response["usage"];
    let cached = u["cache_read_input_tokens"].as_u64().unwrap_or(0);
    let written = u["cache_creation_input_tokens"].as_u64().unwrap_or(0);
    let usage = Usage {
        input_tokens: u["input_tokens"].as_u64().unwrap_or(0) + cached + written,
        cached_input_tokens: cached,
        output_tokens: u["output_tokens"].as_u64().unwrap_or(0),
        reasoning_tokens: 0,
        reported_micro_usd: response["total_cost_usd"]
            .as_f64()
            .map_or(0, |usd| (usd * 1e6).round() as u64),
    };
    Ok(Reply {
        text: text.to_owned(),
        usage,
        finish: Finish::Complete,
        id: response["session_id"].as_str().map(str::to_owned),
        // The model that answered: the first of `modelUsage`'s.
        model: response["modelUsage"]
            .as_object()
            .and_then(|models| models.keys().next().cloned()),
    })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn codex_events_read_as_a_reply_with_their_usage() {
        let stdout = r#"{"type":"thread.started","thread_id":"th_1"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"thinking"}}
{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"{\"tests\": []}"}}
{"type":"turn.completed","usage":{"input_tokens":1200,"cached_input_tokens":1000,"output_tokens":300}}
"#;
        let body = output_of(Agent::Codex, stdout).unwrap();
        assert_eq!(failure_in(Agent::Codex, &body), None);
        let reply = read_codex(&body).unwrap();
        assert_eq!(reply.text, r#"{"tests": []}"#);
        assert_eq!(reply.usage.input_tokens, 1200);
        assert_eq!(reply.usage.cached_input_tokens, 1000);
        assert_eq!(reply.usage.output_tokens, 300);
        assert_eq!(reply.id.as_deref(), Some("th_1"));
    }

    #[test]
    fn a_failed_turn_is_a_usage_limit_or_a_sign_in_or_the_agents_words() {
        let limit = output_of(
            Agent::Codex,
            r#"{"type":"turn.failed","error":{"message":"You've hit your usage limit. Try again in 3 hours."}}"#,
        )
        .unwrap();
        let message = failure_in(Agent::Codex, &limit).unwrap();
        assert!(matches!(
            classify(Agent::Codex, 1, message),
            ApiError::UsageLimit { .. }
        ));
        let signed_out = classify(
            Agent::Claude,
            1,
            "Invalid API key · Please run /login".into(),
        );
        assert!(
            matches!(&signed_out, ApiError::SignedOut { hint, .. } if hint.contains("sign in")),
            "{signed_out:?}"
        );
        assert!(matches!(
            classify(Agent::Codex, 2, "something else".into()),
            ApiError::Status { status: 2, .. }
        ));
        assert!(output_of(Agent::Codex, "Segmentation fault\n").is_none());
        // A status code inside an id or a time is not one.
        assert!(matches!(
            classify(
                Agent::Codex,
                1,
                "request 0x4291 failed at 12:04:01.4010".into()
            ),
            ApiError::Status { .. }
        ));
        assert!(matches!(
            classify(
                Agent::Codex,
                1,
                "unexpected status 429 Too Many Requests".into()
            ),
            ApiError::UsageLimit { .. }
        ));
        assert_eq!(
            first_lines("\x1b[31mpanicked\x1b[0m\n\nat main"),
            "panicked | at main"
        );
    }

    #[test]
    fn a_reconnection_codex_gets_past_is_no_failure() {
        let events = r#"{"type":"thread.started","thread_id":"th_1"}
{"type":"turn.started"}
{"type":"error","message":"Reconnecting... 1/5 (stream disconnected: 429)"}
{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"{}"}}
{"type":"turn.completed","usage":{"input_tokens":1,"cached_input_tokens":0,"output_tokens":1}}
"#;
        let body = output_of(Agent::Codex, events).unwrap();
        assert_eq!(failure_in(Agent::Codex, &body), None);
        let failed = output_of(
            Agent::Codex,
            r#"{"type":"turn.started"}
{"type":"error","message":"stream disconnected before completion"}"#,
        )
        .unwrap();
        assert_eq!(
            failure_in(Agent::Codex, &failed).as_deref(),
            Some("stream disconnected before completion")
        );
    }

    #[test]
    fn claude_s_verbose_array_and_an_empty_error_result_are_read() {
        let verbose = r#"[{"type":"system","subtype":"init"},{"type":"assistant","message":{}},
            {"type":"result","subtype":"success","is_error":false,"result":"{}","total_cost_usd":0.01}]"#;
        let body = output_of(Agent::Claude, verbose).unwrap();
        assert_eq!(body["type"], "result");
        assert_eq!(read_claude(&body).unwrap().usage.reported_micro_usd, 10_000);
        let max_turns = output_of(
            Agent::Claude,
            r#"{"type":"result","subtype":"error_max_turns","is_error":false,"result":""}"#,
        )
        .unwrap();
        assert_eq!(
            failure_in(Agent::Claude, &max_turns).as_deref(),
            Some("error_max_turns")
        );
    }

    #[test]
    fn claude_s_result_carries_its_cost_and_model() {
        let body = output_of(
            Agent::Claude,
            r#"{"type":"result","subtype":"success","is_error":false,"result":"{\"tests\": []}",
               "session_id":"s-1","total_cost_usd":0.0123,
               "usage":{"input_tokens":10,"cache_read_input_tokens":1000,"cache_creation_input_tokens":5,"output_tokens":200},
               "modelUsage":{"claude-sonnet-4-5-20250929":{"inputTokens":10}}}"#,
        )
        .unwrap();
        assert_eq!(failure_in(Agent::Claude, &body), None);
        let reply = read_claude(&body).unwrap();
        assert_eq!(reply.usage.input_tokens, 1015);
        assert_eq!(reply.usage.cached_input_tokens, 1000);
        assert_eq!(reply.usage.reported_micro_usd, 12300);
        assert_eq!(reply.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
        let error = output_of(
            Agent::Claude,
            r#"{"type":"result","subtype":"success","is_error":true,"result":"Claude AI usage limit reached"}"#,
        )
        .unwrap();
        let message = failure_in(Agent::Claude, &error).unwrap();
        assert!(matches!(
            classify(Agent::Claude, 1, message),
            ApiError::UsageLimit { .. }
        ));
    }
}
