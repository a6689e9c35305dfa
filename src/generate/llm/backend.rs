//! The model engines behind one trait, [`ModelBackend`]: what the engine code asks of any of
//! them. The HTTP APIs are one kind, [`Backend`]: which wire format, endpoint, key and default
//! model each uses, read from the environment the way the official SDKs read it
//! (`OPENAI_API_KEY`, `OPENAI_BASE_URL` with its `/v1`, `ANTHROPIC_API_KEY`,
//! `ANTHROPIC_BASE_URL` without it). A backend that runs a local agent process is another.

use serde_json::Value;

use super::client::{ApiError, Endpoint, Exchange, Patience, post_json};
use super::openai_chat::BudgetField;
use super::wire::{Reply, Request, WireError};
use super::{anthropic, openai_chat, openai_responses};
use crate::error::InputError;

/// What answers a model's request. The engine asks through this alone: the cache and replay
/// keys, the transcripts, the retries' patience and the reading of replies work the same for
/// every backend.
pub trait ModelBackend: Send + Sync {
    /// The engine's name (`openai`, `anthropic`, ...): replay finds an exchange by it.
    fn engine(&self) -> &'static str;
    /// The model asked.
    fn model(&self) -> &str;
    /// Where the answers come from (an endpoint's URL): the cache keys on it, since the same
    /// model name elsewhere is another model.
    fn location(&self) -> &str;
    /// Whether the backend holds the answer to the schema (else the schema goes into the
    /// prompt too).
    fn enforces_schema(&self) -> bool;
    /// What is sent for `request`, without any key: a transcript's `request`.
    fn body(&self, request: &Request) -> Value;
    /// Send `body` and wait for the answer, within `patience`.
    fn send<'a>(&'a self, body: &'a Value, patience: Patience) -> Sending<'a>;
    /// `value` with this backend's secret blanked out. Only the secret: anything else shaped
    /// like one may be a word of the model's code (`parse("key=localhost")`).
    fn redact_value(&self, value: Value) -> Value;
    /// Read an answer as a reply.
    fn read(&self, response: &Value) -> Result<Reply, WireError>;
}

/// An answer on its way.
pub type Sending<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Exchange, ApiError>> + Send + 'a>>;

/// rustls's cryptography for every HTTPS client of the process: ring (reqwest is built without
/// a provider of its own). Installed once; a later call, or one an embedder made, is kept.
pub fn install_tls_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A wire format: how a request is written and a reply read.
pub trait WireFormat: Send + Sync {
    /// The path below the base URL.
    fn path(&self) -> &'static str;
    fn request_body(&self, request: &Request) -> Value;
    fn parse_reply(&self, body: &Value) -> Result<Reply, WireError>;
}

struct Responses;
struct Chat(BudgetField);
struct Messages;

impl WireFormat for Responses {
    fn path(&self) -> &'static str {
        openai_responses::PATH
    }
    fn request_body(&self, request: &Request) -> Value {
        openai_responses::request_body(request)
    }
    fn parse_reply(&self, body: &Value) -> Result<Reply, WireError> {
        openai_responses::parse_response(body)
    }
}

impl WireFormat for Chat {
    fn path(&self) -> &'static str {
        openai_chat::PATH
    }
    fn request_body(&self, request: &Request) -> Value {
        openai_chat::request_body(request, self.0)
    }
    fn parse_reply(&self, body: &Value) -> Result<Reply, WireError> {
        openai_chat::parse_response(body)
    }
}

impl WireFormat for Messages {
    fn path(&self) -> &'static str {
        anthropic::PATH
    }
    fn request_body(&self, request: &Request) -> Value {
        anthropic::request_body(request)
    }
    fn parse_reply(&self, body: &Value) -> Result<Reply, WireError> {
        anthropic::parse_response(body)
    }
}

/// The model engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// OpenAI's Responses API (Codex models are served only there).
    OpenAi,
    /// OpenAI's Chat Completions.
    OpenAiChat,
    Anthropic,
    /// A local server speaking Chat Completions (Ollama, vLLM, llama.cpp) at `--base-url`.
    OpenAiCompatible,
    /// Codex CLI (`codex exec`), signed in: no API key.
    Codex,
    /// Claude Code (`claude -p`), signed in: no API key.
    Claude,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::OpenAiChat => "openai-chat",
            Provider::Anthropic => "anthropic",
            Provider::OpenAiCompatible => "openai-compatible",
            Provider::Codex => "codex",
            Provider::Claude => "claude",
        }
    }

    /// The agent CLI behind it, for the engines that run one.
    pub fn agent(self) -> Option<super::agent::Agent> {
        match self {
            Provider::Codex => Some(super::agent::Agent::Codex),
            Provider::Claude => Some(super::agent::Agent::Claude),
            _ => None,
        }
    }

    /// The model asked when neither `--model` nor the config names one. Model names change
    /// often: these are defaults, not a list of what works.
    pub fn default_model(self) -> Option<&'static str> {
        match self {
            Provider::OpenAi => Some("gpt-5.1-codex"),
            Provider::OpenAiChat => Some("gpt-5.1"),
            Provider::Anthropic => Some("claude-sonnet-4-5"),
            // A local server serves what it was started with: the user must say. An agent
            // uses its own default.
            Provider::OpenAiCompatible | Provider::Codex | Provider::Claude => None,
        }
    }

    fn wire(self) -> Box<dyn WireFormat> {
        match self {
            Provider::OpenAi | Provider::Codex => Box::new(Responses),
            Provider::OpenAiChat => Box::new(Chat(BudgetField::MaxCompletionTokens)),
            Provider::Anthropic | Provider::Claude => Box::new(Messages),
            // Some local servers still read only `max_tokens`.
            Provider::OpenAiCompatible => Box::new(Chat(BudgetField::MaxTokens)),
        }
    }

    /// Whether the server can be trusted to hold the answer to the schema (a local one
    /// cannot: the schema then goes into the prompt too).
    pub fn enforces_schema(self) -> bool {
        !matches!(self, Provider::OpenAiCompatible | Provider::Claude)
    }
}

/// An HTTP API ready to ask: its wire format, endpoint, model and client.
pub struct Backend {
    pub provider: Provider,
    pub model: String,
    pub endpoint: Endpoint,
    wire: Box<dyn WireFormat>,
    client: reqwest::Client,
}

/// What `Backend::from_env` reads; the environment in use, a map in tests.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Backend {
    /// The backend for `provider` from the environment, `--model` and `--base-url`. A missing
    /// key is one line naming the variable to set.
    pub fn from_env(
        provider: Provider,
        model: Option<&str>,
        base_url: Option<&str>,
        env: Env,
    ) -> Result<Backend, InputError> {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let model = match model
            .map(str::to_owned)
            .or_else(|| provider.default_model().map(str::to_owned))
        {
            Some(model) => model,
            None => {
                return Err(InputError::new(format!(
                    "--engine {} needs --model NAME: the model the server runs (`ollama list` \
                     shows them)",
                    provider.name()
                )));
            }
        };
        let (base, key_variable, default_base) = match provider {
            Provider::OpenAi | Provider::OpenAiChat => (
                "OPENAI_BASE_URL",
                Some("OPENAI_API_KEY"),
                "https://api.openai.com/v1",
            ),
            Provider::Anthropic => (
                "ANTHROPIC_BASE_URL",
                Some("ANTHROPIC_API_KEY"),
                "https://api.anthropic.com",
            ),
            Provider::OpenAiCompatible => ("OPENAI_BASE_URL", None, ""),
            Provider::Codex | Provider::Claude => {
                return Err(InputError::new(format!(
                    "--engine {} runs an agent CLI, not an HTTP API",
                    provider.name()
                )));
            }
        };
        let base = match base_url.map(str::to_owned).or_else(|| set(base)) {
            Some(url) => url,
            None if !default_base.is_empty() => default_base.to_owned(),
            None => {
                return Err(InputError::new(
                    "--engine openai-compatible needs --base-url URL (with its `/v1`, such as \
                     http://localhost:11434/v1 for Ollama)",
                ));
            }
        };
        // The Anthropic SDK's base URL has no `/v1` (the path adds it); one copied with it
        // would ask `/v1/v1/messages`.
        let base = if provider == Provider::Anthropic {
            base.trim_end_matches('/')
                .trim_end_matches("/v1")
                .to_owned()
        } else {
            base
        };
        let key = match key_variable {
            Some(variable) => Some(set(variable).ok_or_else(|| {
                InputError::new(format!(
                    "{variable} is not set: export it to use --engine {}, or use --engine offline",
                    provider.name()
                ))
            })?),
            // Never the OpenAI key to whatever server `--base-url` names: a local server that
            // wants a key gets its own.
            None => set("OPENAI_COMPATIBLE_API_KEY"),
        };
        let secret = key.map(|key| match provider {
            Provider::Anthropic => ("x-api-key".to_owned(), key),
            _ => ("authorization".to_owned(), format!("Bearer {key}")),
        });
        let headers = match provider {
            Provider::Anthropic => vec![(
                "anthropic-version".to_owned(),
                anthropic::VERSION.to_owned(),
            )],
            _ => Vec::new(),
        };
        let wire = provider.wire();
        install_tls_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|err| InputError::new(format!("cannot build the HTTP client: {err}")))?;
        Ok(Backend {
            provider,
            model,
            endpoint: Endpoint {
                url: format!("{}{}", base.trim_end_matches('/'), wire.path()),
                headers,
                secret,
                key_variable,
            },
            wire,
            client,
        })
    }
}

impl ModelBackend for Backend {
    fn engine(&self) -> &'static str {
        self.provider.name()
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn location(&self) -> &str {
        &self.endpoint.url
    }

    fn enforces_schema(&self) -> bool {
        self.provider.enforces_schema()
    }

    fn body(&self, request: &Request) -> Value {
        self.wire.request_body(request)
    }

    /// With the client's retries.
    fn send<'a>(&'a self, body: &'a Value, patience: Patience) -> Sending<'a> {
        Box::pin(post_json(&self.client, &self.endpoint, body, patience))
    }

    fn redact_value(&self, value: Value) -> Value {
        let secret = self.endpoint.secret.as_ref().map(|(_, v)| v.as_str());
        let text = value.to_string();
        let clean = super::client::redact_key(&text, secret);
        if clean == text {
            return value;
        }
        serde_json::from_str(&clean).unwrap_or(value)
    }

    fn read(&self, response: &Value) -> Result<Reply, WireError> {
        self.wire.parse_reply(response)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn an_answer_loses_the_key_and_nothing_else() {
        let backend = Backend::from_env(
            Provider::OpenAiChat,
            None,
            None,
            &env(&[("OPENAI_API_KEY", "sk-proj-0123456789abcdef")]),
        )
        .unwrap();
        let answer = serde_json::json!({"content": "let token = parse_line(\"key=localhost\"); \
            // sk-proj-0123456789abcdef AKIAIOSFODNN7EXAMPLE"});
        let clean = backend.redact_value(answer);
        let text = clean["content"].as_str().unwrap();
        assert!(
            text.contains("let token = parse_line(\"key=localhost\");"),
            "{text}"
        );
        assert!(
            text.contains("// [redacted] AKIAIOSFODNN7EXAMPLE"),
            "{text}"
        );
    }

    #[test]
    fn endpoints_and_keys_are_read_like_the_sdks() {
        let openai = Backend::from_env(
            Provider::OpenAi,
            None,
            None,
            &env(&[
                ("OPENAI_API_KEY", "sk-a"),
                ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/"),
            ]),
        )
        .unwrap();
        assert_eq!(openai.endpoint.url, "http://127.0.0.1:9/v1/responses");
        assert_eq!(
            openai.endpoint.secret,
            Some(("authorization".into(), "Bearer sk-a".into()))
        );
        assert_eq!(openai.model, "gpt-5.1-codex");
        let chat = Backend::from_env(
            Provider::OpenAiChat,
            Some("gpt-x"),
            None,
            &env(&[("OPENAI_API_KEY", "sk-a")]),
        )
        .unwrap();
        assert_eq!(
            chat.endpoint.url,
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(chat.model, "gpt-x");
        let anthropic = Backend::from_env(
            Provider::Anthropic,
            None,
            None,
            &env(&[
                ("ANTHROPIC_API_KEY", "k"),
                ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9"),
            ]),
        )
        .unwrap();
        assert_eq!(anthropic.endpoint.url, "http://127.0.0.1:9/v1/messages");
        let with_v1 = Backend::from_env(
            Provider::Anthropic,
            None,
            Some("http://127.0.0.1:9/v1/"),
            &env(&[("ANTHROPIC_API_KEY", "k")]),
        )
        .unwrap();
        assert_eq!(with_v1.endpoint.url, "http://127.0.0.1:9/v1/messages");
        assert_eq!(
            anthropic.endpoint.secret,
            Some(("x-api-key".into(), "k".into()))
        );
        assert_eq!(
            anthropic.endpoint.headers,
            [("anthropic-version".to_owned(), "2023-06-01".to_owned())]
        );
        let local = Backend::from_env(
            Provider::OpenAiCompatible,
            Some("qwen3-coder:30b"),
            Some("http://localhost:11434/v1"),
            &env(&[]),
        )
        .unwrap();
        assert_eq!(
            local.endpoint.url,
            "http://localhost:11434/v1/chat/completions"
        );
        assert_eq!(local.endpoint.secret, None);
    }

    #[test]
    fn what_is_missing_is_said_in_one_line() {
        let err = |provider, model, base| {
            Backend::from_env(provider, model, base, &env(&[]))
                .err()
                .unwrap()
                .to_string()
        };
        assert!(err(Provider::OpenAi, None, None).starts_with("OPENAI_API_KEY is not set"));
        assert!(err(Provider::Anthropic, None, None).starts_with("ANTHROPIC_API_KEY is not set"));
        assert!(err(Provider::OpenAiCompatible, None, None).contains("--model"));
        assert!(err(Provider::OpenAiCompatible, Some("m"), None).contains("--base-url"));
    }
}
