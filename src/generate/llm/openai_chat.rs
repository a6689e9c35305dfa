//! OpenAI Chat Completions (`POST {base}/chat/completions`): the `openai-chat` engine, and the
//! format local servers speak (`openai-compatible`: Ollama, vLLM, llama.cpp), which may accept
//! a schema without enforcing it. The schema also goes into the prompt for them.

use serde_json::{Value, json};

use super::wire::{Finish, Reply, Request, Usage, WireError, count};

pub const PATH: &str = "/chat/completions";

/// How the output budget is named: OpenAI's `max_completion_tokens`, or the older
/// `max_tokens` some local servers still want.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetField {
    MaxCompletionTokens,
    MaxTokens,
}

pub fn request_body(request: &Request, budget: BudgetField) -> Value {
    let mut body = json!({
        "model": request.model,
        "messages": [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ],
        "stream": false,
    });
    let field = match budget {
        BudgetField::MaxCompletionTokens => "max_completion_tokens",
        BudgetField::MaxTokens => "max_tokens",
    };
    body[field] = json!(request.max_output_tokens);
    if let Some(schema) = request.schema {
        body["response_format"] = json!({"type": "json_schema", "json_schema": {
            "name": schema.name(), "strict": true, "schema": schema.value(),
        }});
    }
    body
}

pub fn parse_response(body: &Value) -> Result<Reply, WireError> {
    let wrong = |why: &str| WireError {
        format: "Chat Completions",
        why: why.to_owned(),
    };
    let choice = body["choices"]
        .as_array()
        .and_then(|c| c.first())
        .ok_or_else(|| wrong("no `choices`"))?;
    let message = &choice["message"];
    let text = message["content"].as_str().unwrap_or_default().to_owned();
    let finish = match (
        message["refusal"].as_str(),
        choice["finish_reason"].as_str(),
    ) {
        (Some(said), _) if !said.is_empty() => Finish::Refused(said.to_owned()),
        (_, Some("length")) => Finish::Truncated,
        (_, Some("content_filter")) => Finish::Refused("stopped by the content filter".into()),
        _ => Finish::Complete,
    };
    let usage = &body["usage"];
    Ok(Reply {
        text,
        usage: Usage {
            input_tokens: count(usage, &["prompt_tokens"]),
            cached_input_tokens: count(usage, &["prompt_tokens_details", "cached_tokens"]),
            output_tokens: count(usage, &["completion_tokens"]),
            reasoning_tokens: count(usage, &["completion_tokens_details", "reasoning_tokens"]),
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
    fn the_request_names_its_budget_as_the_server_wants() {
        let request = Request {
            model: "qwen3-coder:30b".into(),
            system: "s".into(),
            user: "u".into(),
            max_output_tokens: 8000,
            schema: Some(Schema::Tests),
        };
        let openai = request_body(&request, BudgetField::MaxCompletionTokens);
        assert_eq!(openai["max_completion_tokens"], 8000);
        assert!(openai.get("max_tokens").is_none());
        assert_eq!(openai["messages"][1]["content"], "u");
        assert_eq!(
            openai["response_format"]["json_schema"]["schema"],
            Schema::Tests.value()
        );
        let local = request_body(&request, BudgetField::MaxTokens);
        assert_eq!(local["max_tokens"], 8000);
    }

    #[test]
    fn replies_with_and_without_details_are_read() {
        let full = json!({"id": "chatcmpl-1", "choices": [{"message": {"content": "{}",
            "refusal": null}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 4289, "completion_tokens": 384,
                      "prompt_tokens_details": {"cached_tokens": 4000},
                      "completion_tokens_details": {"reasoning_tokens": 100}}});
        let reply = parse_response(&full).unwrap();
        assert_eq!(reply.text, "{}");
        assert_eq!(reply.usage.input_tokens, 4289);
        assert_eq!(reply.usage.cached_input_tokens, 4000);
        assert_eq!(reply.usage.reasoning_tokens, 100);
        // A local server: no details, no id.
        let local = json!({"choices": [{"message": {"content": "x"}, "finish_reason": "length"}],
                           "usage": {"prompt_tokens": 10, "completion_tokens": 5}});
        let reply = parse_response(&local).unwrap();
        assert_eq!(reply.finish, Finish::Truncated);
        assert_eq!(reply.usage.cached_input_tokens, 0);
        // No usage at all.
        let bare = json!({"choices": [{"message": {"content": "x"}}]});
        assert_eq!(parse_response(&bare).unwrap().usage, Usage::default());
        assert!(parse_response(&json!({"output": []})).is_err());
    }
}
