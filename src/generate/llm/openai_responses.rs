//! The OpenAI Responses API (`POST {OPENAI_BASE_URL}/responses`): the `openai` engine, and
//! the only endpoint that serves Codex models. Structured output through `text.format`.

use serde_json::{Value, json};

use super::wire::{Finish, Reply, Request, Usage, WireError, count};

/// The endpoint below the base URL (which ends in `/v1`, as the SDKs read it).
pub const PATH: &str = "/responses";

pub fn request_body(request: &Request) -> Value {
    let mut body = json!({
        "model": request.model,
        "instructions": request.system,
        "input": [{"role": "user", "content": request.user}],
        "max_output_tokens": request.max_output_tokens,
        // A stateless tool: nothing kept server-side.
        "store": false,
    });
    if let Some(schema) = request.schema {
        body["text"] = json!({"format": {
            "type": "json_schema", "name": schema.name(), "strict": true, "schema": schema.value(),
        }});
    }
    body
}

pub fn parse_response(body: &Value) -> Result<Reply, WireError> {
    let wrong = |why: &str| WireError {
        format: "Responses API",
        why: why.to_owned(),
    };
    let output = body["output"]
        .as_array()
        .ok_or_else(|| wrong("no `output` list"))?;
    let mut text = String::new();
    let mut refusal = None;
    for item in output.iter().filter(|i| i["type"] == "message") {
        for part in item["content"].as_array().into_iter().flatten() {
            match part["type"].as_str() {
                Some("output_text") => text.push_str(part["text"].as_str().unwrap_or_default()),
                Some("refusal") => {
                    refusal = Some(part["refusal"].as_str().unwrap_or_default().to_owned())
                }
                _ => {}
            }
        }
    }
    let usage = &body["usage"];
    let finish = match (refusal, body["status"].as_str()) {
        (Some(said), _) => Finish::Refused(said),
        (None, Some("incomplete"))
            if body["incomplete_details"]["reason"] == "max_output_tokens" =>
        {
            Finish::Truncated
        }
        (None, Some("incomplete")) => Finish::Refused(format!(
            "the answer was stopped: {}",
            body["incomplete_details"]["reason"]
                .as_str()
                .unwrap_or("no reason given")
        )),
        (None, Some("failed")) => {
            return Err(wrong(&format!(
                "status `failed`: {}",
                body["error"]["message"].as_str().unwrap_or("no message")
            )));
        }
        _ => Finish::Complete,
    };
    Ok(Reply {
        text,
        usage: Usage {
            input_tokens: count(usage, &["input_tokens"]),
            cached_input_tokens: count(usage, &["input_tokens_details", "cached_tokens"]),
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

    fn request() -> Request {
        Request {
            model: "gpt-5-codex".into(),
            system: "You attack code.".into(),
            user: "fn f() {}".into(),
            max_output_tokens: 16000,
            schema: Some(Schema::Tests),
        }
    }

    #[test]
    fn the_request_asks_for_the_schema_and_stores_nothing() {
        let body = request_body(&request());
        assert_eq!(body["model"], "gpt-5-codex");
        assert_eq!(body["instructions"], "You attack code.");
        assert_eq!(body["input"][0]["content"], "fn f() {}");
        assert_eq!(body["store"], false);
        assert_eq!(body["max_output_tokens"], 16000);
        assert_eq!(body["text"]["format"]["type"], "json_schema");
        assert_eq!(body["text"]["format"]["strict"], true);
        assert_eq!(body["text"]["format"]["schema"], Schema::Tests.value());
    }

    #[test]
    fn text_usage_and_ends_are_read() {
        let body = json!({
            "id": "resp_1", "status": "completed",
            "output": [
                {"type": "reasoning", "summary": []},
                {"type": "message", "content": [
                    {"type": "output_text", "text": "{\"tests\":"},
                    {"type": "output_text", "text": "[]}"}
                ]}
            ],
            "usage": {"input_tokens": 1234, "input_tokens_details": {"cached_tokens": 1024},
                      "output_tokens": 2345, "output_tokens_details": {"reasoning_tokens": 1800}}
        });
        let reply = parse_response(&body).unwrap();
        assert_eq!(reply.text, "{\"tests\":[]}");
        assert_eq!(
            reply.usage,
            Usage {
                input_tokens: 1234,
                cached_input_tokens: 1024,
                output_tokens: 2345,
                reasoning_tokens: 1800,
                reported_micro_usd: 0,
            }
        );
        assert_eq!(reply.finish, Finish::Complete);
        assert_eq!(reply.id.as_deref(), Some("resp_1"));

        let cut = json!({"status": "incomplete",
                         "incomplete_details": {"reason": "max_output_tokens"}, "output": []});
        assert_eq!(parse_response(&cut).unwrap().finish, Finish::Truncated);
        let refused = json!({"status": "completed", "output": [{"type": "message",
            "content": [{"type": "refusal", "refusal": "I can't help with that."}]}]});
        assert_eq!(
            parse_response(&refused).unwrap().finish,
            Finish::Refused("I can't help with that.".into())
        );
        assert!(parse_response(&json!({"choices": []})).is_err());
    }
}
