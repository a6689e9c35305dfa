//! The Anthropic Messages API (`POST {ANTHROPIC_BASE_URL}/v1/messages`): `x-api-key`,
//! `anthropic-version`, a required `max_tokens`, structured output through `output_config`.

use serde_json::{Value, json};

use super::wire::{Finish, Reply, Request, Usage, WireError, count};

/// Below the base URL, which (as the SDK reads `ANTHROPIC_BASE_URL`) has no `/v1`.
pub const PATH: &str = "/v1/messages";
/// The API version header's value.
pub const VERSION: &str = "2023-06-01";

pub fn request_body(request: &Request) -> Value {
    let mut body = json!({
        "model": request.model,
        "max_tokens": request.max_output_tokens,
        "system": request.system,
        "messages": [{"role": "user", "content": request.user}],
    });
    if let Some(schema) = request.schema {
        body["output_config"] =
            json!({"format": {"type": "json_schema", "schema": schema.value()}});
    }
    body
}

pub fn parse_response(body: &Value) -> Result<Reply, WireError> {
    let wrong = |why: &str| WireError {
        format: "Messages API",
        why: why.to_owned(),
    };
    let content = body["content"]
        .as_array()
        .ok_or_else(|| wrong("no `content` list"))?;
    let text: String = content
        .iter()
        .filter(|block| block["type"] == "text")
        .filter_map(|block| block["text"].as_str())
        .collect();
    let finish = match body["stop_reason"].as_str() {
        Some("max_tokens") => Finish::Truncated,
        Some("refusal") => Finish::Refused(if text.is_empty() {
            "the model declined".to_owned()
        } else {
            text.clone()
        }),
        _ => Finish::Complete,
    };
    let usage = &body["usage"];
    let cache_read = count(usage, &["cache_read_input_tokens"]);
    Ok(Reply {
        text,
        usage: Usage {
            // `input_tokens` counts only what follows the last cache breakpoint.
            input_tokens: count(usage, &["input_tokens"])
                + count(usage, &["cache_creation_input_tokens"])
                + cache_read,
            cached_input_tokens: cache_read,
            output_tokens: count(usage, &["output_tokens"]),
            reasoning_tokens: count(usage, &["output_tokens_details", "reasoning_tokens"]),
            reported_micro_usd: 0,
        },
        finish,
        id: body["id"].as_str().map(str::to_owned),
        model: None,
    })
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::generate::llm::wire::Schema;

    #[test]
    fn the_request_has_its_required_budget_and_schema() {
        let body = request_body(&Request {
            model: "claude-sonnet-4-6".into(),
            system: "s".into(),
            user: "u".into(),
            max_output_tokens: 16000,
            schema: Some(Schema::Tests),
        });
        assert_eq!(body["max_tokens"], 16000);
        assert_eq!(body["system"], "s");
        assert_eq!(body["messages"][0]["role"], "user");
        assert_eq!(
            body["output_config"]["format"]["schema"],
            Schema::Tests.value()
        );
    }

    #[test]
    fn input_counts_every_cache_counter() {
        let body = json!({"id": "msg_1", "content": [{"type": "thinking", "thinking": "..."},
            {"type": "text", "text": "{\"tests\": []}"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 120, "cache_creation_input_tokens": 30,
                      "cache_read_input_tokens": 1000, "output_tokens": 900}});
        let reply = parse_response(&body).unwrap();
        assert_eq!(reply.text, "{\"tests\": []}");
        assert_eq!(reply.usage.input_tokens, 1150);
        assert_eq!(reply.usage.cached_input_tokens, 1000);
        assert_eq!(reply.usage.output_tokens, 900);
        assert_eq!(reply.finish, Finish::Complete);
        let cut = json!({"content": [], "stop_reason": "max_tokens"});
        assert_eq!(parse_response(&cut).unwrap().finish, Finish::Truncated);
        assert!(parse_response(&json!({"choices": []})).is_err());
    }
}
