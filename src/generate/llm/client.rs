//! The one place that talks HTTP to model APIs: a JSON POST with the SDKs' retry rules,
//! per-request time-outs, and errors that say what to do without ever showing a key.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::retry::{Attempt, Decision, decide, out_of_credit};

/// Where a request goes and how it authenticates.
#[derive(Clone)]
pub struct Endpoint {
    pub url: String,
    /// Headers sent as they are (`anthropic-version`).
    pub headers: Vec<(String, String)>,
    /// The secret header (`authorization: Bearer ...`, `x-api-key: ...`), if any: sent, never
    /// logged, redacted from anything the server echoes.
    pub secret: Option<(String, String)>,
    /// The variable the key came from, for an error that says which one to fix.
    pub key_variable: Option<&'static str>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field(
                "secret",
                &self.secret.as_ref().map(|(name, _)| (name, "[redacted]")),
            )
            .finish()
    }
}

/// How patient to be.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    /// One request, sent to answer received.
    pub request_timeout: Duration,
    pub max_retries: u32,
    /// When every request must be done, retries and waits included (`--total-timeout`).
    pub deadline: Option<Instant>,
}

impl Default for Patience {
    fn default() -> Self {
        Patience {
            request_timeout: Duration::from_secs(600),
            max_retries: 4,
            deadline: None,
        }
    }
}

impl Patience {
    /// How long the next try may take: the request time-out, or less when the deadline is
    /// nearer; `None` once the deadline has passed.
    pub(super) fn next_try(&self) -> Option<Duration> {
        match self.deadline {
            None => Some(self.request_timeout),
            Some(deadline) => {
                let left = deadline.checked_duration_since(Instant::now())?;
                (!left.is_zero()).then(|| left.min(self.request_timeout))
            }
        }
    }

    /// Whether the deadline has passed.
    pub fn out_of_time(&self) -> bool {
        self.next_try().is_none()
    }
}

/// One request as it went: what was sent, what came back, how many tries, how long.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub status: u16,
    pub body: Value,
    pub attempts: u32,
    pub elapsed: Duration,
    /// The provider's request id header, for support requests.
    pub request_id: Option<String>,
}

/// Why a request gave no answer. Messages never hold a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("the API refused the key ({status}): {message}{hint}", hint = key_hint(*variable))]
    Auth {
        status: u16,
        message: String,
        variable: Option<&'static str>,
    },
    #[error("the account is out of quota or credit ({status}): {message}")]
    Quota { status: u16, message: String },
    #[error("the API answered {status} after {attempts} tries: {message}")]
    Status {
        status: u16,
        message: String,
        attempts: u32,
    },
    #[error("no answer within {seconds} s after {attempts} tries")]
    Timeout { seconds: u64, attempts: u32 },
    #[error("the total time-out (--total-timeout) was reached after {attempts} tries")]
    OutOfTime { attempts: u32 },
    #[error("cannot reach {url} after {attempts} tries: {message}")]
    Connection {
        url: String,
        message: String,
        attempts: u32,
    },
    #[error("the API answered with something that is not JSON: {0}")]
    NotJson(String),
    /// An agent CLI (`codex`, `claude`) that is not signed in.
    #[error("{agent} is not signed in: {hint} ({message})")]
    SignedOut {
        agent: &'static str,
        hint: &'static str,
        message: String,
    },
    /// An agent CLI's subscription at its usage limit.
    #[error("{agent} hit its usage limit: {message}")]
    UsageLimit {
        agent: &'static str,
        message: String,
    },
}

fn key_hint(variable: Option<&'static str>) -> String {
    match variable {
        Some(variable) => format!(" (check {variable})"),
        None => String::new(),
    }
}

/// Send `body` to `endpoint`, retrying what the SDKs retry, each try bounded by the
/// request time-out.
pub async fn post_json(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    body: &Value,
    patience: Patience,
) -> Result<Exchange, ApiError> {
    let start = Instant::now();
    let secret = endpoint.secret.as_ref().map(|(_, value)| value.as_str());
    let clean = |text: &str| redact(text, secret);
    // No secret of this machine leaves in a request, whatever put it in the prompt.
    let payload = crate::secrets::redact(&body.to_string()).into_bytes();
    let mut retries = 0;
    loop {
        let Some(timeout) = patience.next_try() else {
            return Err(ApiError::OutOfTime { attempts: retries });
        };
        let mut request = client
            .post(&endpoint.url)
            .timeout(timeout)
            .header("content-type", "application/json")
            .body(payload.clone());
        for (name, value) in endpoint.headers.iter().chain(endpoint.secret.iter()) {
            request = request.header(name.as_str(), value.as_str());
        }
        let attempts = retries + 1;
        let outcome = request.send().await;
        let (attempt_headers, status, text) = match outcome {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers: Vec<(String, String)> = response
                    .headers()
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                    .collect();
                match response.text().await {
                    Ok(text) => (headers, status, text),
                    Err(err) if err.is_timeout() => {
                        match wait(&Attempt::NoResponse, retries, patience).await {
                            true => {
                                retries += 1;
                                continue;
                            }
                            false => return Err(timed_out(patience, attempts)),
                        }
                    }
                    Err(err) => (headers, status, clean(&err.to_string())),
                }
            }
            Err(err) => {
                if wait(&Attempt::NoResponse, retries, patience).await {
                    retries += 1;
                    continue;
                }
                return Err(if err.is_timeout() {
                    timed_out(patience, attempts)
                } else {
                    ApiError::Connection {
                        url: endpoint.url.clone(),
                        message: clean(&error_chain(&err)),
                        attempts,
                    }
                });
            }
        };
        if (200..300).contains(&status) {
            let body: Value = serde_json::from_str(&text)
                .map_err(|err| ApiError::NotJson(format!("{err}: {}", clean(&excerpt(&text)))))?;
            let request_id = ["x-request-id", "request-id"].iter().find_map(|name| {
                attempt_headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
            });
            return Ok(Exchange {
                status,
                body,
                attempts,
                elapsed: start.elapsed(),
                request_id,
            });
        }
        let attempt = Attempt::Status {
            status,
            headers: &attempt_headers,
            body: &text,
        };
        if wait(&attempt, retries, patience).await {
            retries += 1;
            continue;
        }
        let message = clean(&server_message(&text));
        return Err(match status {
            401 | 403 => ApiError::Auth {
                status,
                message,
                variable: endpoint.key_variable,
            },
            402 => ApiError::Quota { status, message },
            404 => ApiError::Status {
                status,
                message: format!(
                    "{message} (no such endpoint: {}; OpenAI-style base URLs end in `/v1`, \
                     ANTHROPIC_BASE_URL does not)",
                    endpoint.url
                ),
                attempts,
            },
            429 if out_of_credit(&text) => ApiError::Quota { status, message },
            // Codex models are served by the Responses API only.
            400 if message.contains("v1/responses") => ApiError::Status {
                status,
                message: format!("{message} (use --engine openai, the Responses API)"),
                attempts,
            },
            _ => ApiError::Status {
                status,
                message,
                attempts,
            },
        });
    }
}

/// The error for a try that took too long: the request's time-out, or the run's.
fn timed_out(patience: Patience, attempts: u32) -> ApiError {
    if patience.out_of_time() {
        ApiError::OutOfTime { attempts }
    } else {
        ApiError::Timeout {
            seconds: patience.request_timeout.as_secs(),
            attempts,
        }
    }
}

/// Wait before the next try if the rules say to try again; whether they did.
async fn wait(attempt: &Attempt<'_>, retries: u32, patience: Patience) -> bool {
    match decide(attempt, retries, patience.max_retries, jitter()) {
        // A wait past the deadline would only end in giving up.
        Decision::RetryAfter(delay)
            if patience
                .deadline
                .is_some_and(|deadline| Instant::now() + delay >= deadline) =>
        {
            false
        }
        Decision::RetryAfter(delay) => {
            tokio::time::sleep(delay).await;
            true
        }
        Decision::GiveUp => false,
    }
}

/// A number in 0..1 that differs between calls: jitter for the backoff.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(nanos % 1000) / 1000.0
}

/// What the server said: `error.message` (OpenAI and Anthropic alike), else the body's start.
fn server_message(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| excerpt(text))
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `text` with the key, and anything shaped like a secret, blanked out: API keys and tokens
/// by their known prefixes (`sk-`, `ghp_`, `AKIA`, `xoxb-`, ...), the value after `Bearer`
/// or after a `..._KEY=`/`TOKEN=`/`SECRET=`/`PASSWORD=` name, and long random-looking words
/// (upper and lower case letters and digits).
pub fn redact(text: &str, secret: Option<&str>) -> String {
    let out = redact_key(text, secret);
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*' | '+' | '/');
    let mut cleaned = String::with_capacity(out.len());
    let mut rest = out.as_str();
    let mut after_bearer = false;
    let mut after_secret_name = false;
    while !rest.is_empty() {
        let start = rest.find(is_word).unwrap_or(rest.len());
        let gap = &rest[..start];
        cleaned.push_str(gap);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        if word.is_empty() {
            continue;
        }
        let follows_name = after_secret_name && gap.trim_start().starts_with(['=', ':']);
        let follows_bearer = after_bearer && gap.chars().all(char::is_whitespace);
        if (follows_name || follows_bearer) && word.len() >= 8 || looks_like_a_key(word) {
            cleaned.push_str("[redacted]");
        } else {
            cleaned.push_str(word);
        }
        after_bearer = word.eq_ignore_ascii_case("bearer");
        after_secret_name = names_a_secret(word);
    }
    cleaned
}

/// `text` with the key blanked out, and nothing else: for a model's answers, whose code may
/// hold any word.
pub fn redact_key(text: &str, secret: Option<&str>) -> String {
    let text = crate::secrets::redact(text);
    let Some(secret) = secret else {
        return text;
    };
    let bare = secret
        .trim()
        .strip_prefix("Bearer ")
        .unwrap_or(secret.trim());
    if bare.len() >= 8 {
        text.replace(bare, "[redacted]")
    } else {
        text
    }
}

/// `KEY`, `api_key`, `OPENAI_API_KEY`, `authToken`, `client-secret`: not `monkey`.
fn names_a_secret(word: &str) -> bool {
    ["key", "token", "secret", "password", "passwd"]
        .iter()
        .any(|name| {
            let Some(stem) = word.len().checked_sub(name.len()) else {
                return false;
            };
            let (before, tail) = word.split_at(stem);
            tail.eq_ignore_ascii_case(name)
                && (before.is_empty()
                    || before.ends_with(['_', '-'])
                    || tail.starts_with(|c: char| c.is_ascii_uppercase())
                        && before.ends_with(|c: char| c.is_ascii_lowercase()))
        })
}

/// Prefixes of keys and tokens: OpenAI, Anthropic, Stripe (`sk-`, `sk_`, `rk_`), GitHub,
/// GitLab, Slack, AWS access keys, Google API keys, Hugging Face.
const KEY_PREFIXES: [&str; 16] = [
    "sk-",
    "sk_",
    "rk_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "AKIA",
    "ASIA",
    "AIza",
    "hf_",
];

fn looks_like_a_key(word: &str) -> bool {
    if KEY_PREFIXES
        .iter()
        .any(|prefix| word.starts_with(prefix) && word.len() >= prefix.len() + 8)
    {
        return true;
    }
    // A long word mixing cases and digits is random, not a name someone wrote.
    word.len() >= 32
        && word.chars().any(|c| c.is_ascii_uppercase())
        && word.chars().any(|c| c.is_ascii_lowercase())
        && word.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod test {
    use super::*;

    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn endpoint(server: &MockServer) -> Endpoint {
        Endpoint {
            url: format!("{}/v1/responses", server.uri()),
            headers: vec![("anthropic-version".into(), "2023-06-01".into())],
            secret: Some((
                "authorization".into(),
                "Bearer sk-test-0123456789abcdef".into(),
            )),
            key_variable: Some("OPENAI_API_KEY"),
        }
    }

    fn quick() -> Patience {
        Patience {
            request_timeout: Duration::from_secs(5),
            max_retries: 3,
            deadline: None,
        }
    }

    async fn send(server: &MockServer, patience: Patience) -> Result<Exchange, ApiError> {
        crate::generate::llm::backend::install_tls_provider();
        let client = reqwest::Client::new();
        post_json(
            &client,
            &endpoint(server),
            &serde_json::json!({"model": "m"}),
            patience,
        )
        .await
    }

    #[tokio::test]
    async fn an_answer_comes_back_with_the_headers_sent() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/responses"))
            .and(header("authorization", "Bearer sk-test-0123456789abcdef"))
            .and(header("anthropic-version", "2023-06-01"))
            .and(header("content-type", "application/json"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-request-id", "req_1")
                    .set_body_json(serde_json::json!({"ok": true})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let exchange = send(&server, quick()).await.unwrap();
        assert_eq!(exchange.body["ok"], true);
        assert_eq!(exchange.attempts, 1);
        assert_eq!(exchange.request_id.as_deref(), Some("req_1"));
        let sent: Value = server.received_requests().await.unwrap()[0]
            .body_json()
            .unwrap();
        assert_eq!(sent["model"], "m");
    }

    #[tokio::test]
    async fn rate_limits_and_server_errors_are_retried() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500).insert_header("retry-after-ms", "5"))
            .up_to_n_times(2)
            .with_priority(2)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
            .with_priority(3)
            .mount(&server)
            .await;
        let exchange = send(&server, quick()).await.unwrap();
        assert_eq!(exchange.attempts, 4);
        assert_eq!(server.received_requests().await.unwrap().len(), 4);
    }

    #[tokio::test]
    async fn auth_and_quota_errors_are_not_retried_and_name_no_key() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
                "error": {"message": "Incorrect API key provided: sk-test-0123456789abcdef.",
                          "type": "invalid_request_error"}
            })))
            .mount(&server)
            .await;
        let err = send(&server, quick()).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ApiError::Auth { status: 401, .. }), "{err:?}");
        assert!(text.contains("OPENAI_API_KEY"), "{text}");
        assert!(!text.contains("0123456789"), "{text}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1);

        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).set_body_json(serde_json::json!({
                "error": {"message": "You exceeded your current quota", "type": "insufficient_quota"}
            })))
            .mount(&server)
            .await;
        let err = send(&server, quick()).await.unwrap_err();
        assert!(
            matches!(err, ApiError::Quota { status: 429, .. }),
            "{err:?}"
        );
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_slow_server_times_out_after_the_retries() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_delay(Duration::from_secs(3))
                    .set_body_json(serde_json::json!({})),
            )
            .mount(&server)
            .await;
        let err = send(
            &server,
            Patience {
                request_timeout: Duration::from_millis(200),
                max_retries: 1,
                deadline: None,
            },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, ApiError::Timeout { attempts: 2, .. }),
            "{err:?}"
        );
        // The run's deadline cuts a try short, and stops the retries.
        let started = Instant::now();
        let err = send(
            &server,
            Patience {
                request_timeout: Duration::from_secs(30),
                max_retries: 4,
                deadline: Some(Instant::now() + Duration::from_millis(300)),
            },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, ApiError::OutOfTime { attempts: 1 }),
            "{err:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        // Past the deadline, nothing is sent.
        let asked = server.received_requests().await.unwrap().len();
        let err = send(
            &server,
            Patience {
                deadline: Some(Instant::now()),
                ..quick()
            },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, ApiError::OutOfTime { attempts: 0 }),
            "{err:?}"
        );
        assert_eq!(server.received_requests().await.unwrap().len(), asked);
    }

    #[tokio::test]
    async fn a_body_that_is_not_json_is_named() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>proxy</html>"))
            .mount(&server)
            .await;
        let err = send(&server, quick()).await.unwrap_err();
        assert!(matches!(err, ApiError::NotJson(_)), "{err:?}");
        assert!(err.to_string().contains("<html>proxy</html>"));
    }

    #[test]
    fn keys_are_redacted() {
        let secret = "Bearer sk-proj-abcdefghijklmnop";
        assert_eq!(
            redact(
                "Incorrect API key provided: sk-proj-abcdefghijklmnop.",
                Some(secret)
            ),
            "Incorrect API key provided: [redacted]."
        );
        assert_eq!(
            redact("key sk-ant-api03-XYZ123456789 leaked", None),
            "key [redacted] leaked"
        );
        assert_eq!(redact("task-list sk-1", None), "task-list sk-1");
        for (text, shown) in [
            (
                "Authorization: Bearer abcdef123456789",
                "Authorization: Bearer [redacted]",
            ),
            ("AWS AKIAIOSFODNN7EXAMPLE in use", "AWS [redacted] in use"),
            (
                "token ghp_16C7e42F292c6912E7710c838347Ae178B4a",
                "token [redacted]",
            ),
            (
                "DATABASE_PASSWORD=hunter2hunter2 x=1",
                "DATABASE_PASSWORD=[redacted] x=1",
            ),
            ("authToken: abcdefghijkl", "authToken: [redacted]"),
            ("monkey: chimpanzee", "monkey: chimpanzee"),
            ("api_key: \"Zm9vYmFyYmF6cXV4\"", "api_key: \"[redacted]\""),
            ("blob 4f9aQ2xZr8LmN3bV7cT1yH6jK0pW5sD2eG", "blob [redacted]"),
            (
                "index out of bounds: the len is 3 but the index is 18446744073709551615",
                "index out of bounds: the len is 3 but the index is 18446744073709551615",
            ),
            (
                "thread 'tests::split_evenly_total_i64_min_parts_u32_max' panicked",
                "thread 'tests::split_evenly_total_i64_min_parts_u32_max' panicked",
            ),
        ] {
            assert_eq!(redact(text, None), shown, "{text}");
        }
    }

    #[test]
    fn server_messages_are_read_from_either_shape() {
        assert_eq!(
            server_message(
                r#"{"error": {"message": "bad model", "type": "invalid_request_error"}}"#
            ),
            "bad model"
        );
        assert_eq!(
            server_message(
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            "Overloaded"
        );
        assert_eq!(server_message("<html>502</html>"), "<html>502</html>");
    }

    #[test]
    fn endpoints_never_print_their_key() {
        let endpoint = Endpoint {
            url: "http://127.0.0.1:1/v1/responses".into(),
            headers: Vec::new(),
            secret: Some(("authorization".into(), "Bearer sk-secret-123456789".into())),
            key_variable: Some("OPENAI_API_KEY"),
        };
        assert!(!format!("{endpoint:?}").contains("sk-secret"));
    }
}
