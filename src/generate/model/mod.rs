//! Model engines (in progress: issue 7): tests written by a model behind one interface, one
//! module per wire format. So far: the wire formats as request bodies and parsed replies,
//! the HTTP client with the retry policy, reading answers.

pub mod answer;
pub mod anthropic;
pub mod client;
pub mod openai_chat;
pub mod openai_responses;
pub mod retry;
pub mod wire;
