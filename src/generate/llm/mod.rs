//! Model engines: tests written by a model behind one interface (`backend`), one module per
//! wire format, the agent CLIs (`agent`), the HTTP client with its retry policy, reading answers, the prompt, and the
//! generation loop.

pub mod agent;
pub mod answer;
pub mod anthropic;
pub mod backend;
pub mod client;
pub mod cost;
pub mod engine;
pub mod existing;
pub mod fix;
pub mod fixup;
pub mod openai_chat;
pub mod openai_responses;
pub mod prompt;
pub mod retry;
pub mod store;
pub mod wire;
