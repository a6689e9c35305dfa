//! What every wire format shares: the request the engine makes, the reply it reads back
//! (text, normalised token usage, how the answer ended), and the JSON schema of the model
//! output contract in the strict subset every API accepts.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One request: instructions, the user's message, and the budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub model: String,
    pub system: String,
    pub user: String,
    pub max_output_tokens: u32,
    /// The answer's schema, asked for (structured output) where the API can enforce it.
    pub schema: Option<Schema>,
}

/// What an answer holds: tests, or a fix to the implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    Tests,
    Fix,
}

impl Schema {
    /// The name where an API wants one (`[a-zA-Z0-9_-]`, 64 at most).
    pub fn name(self) -> &'static str {
        match self {
            Schema::Tests => "edge_case_tests",
            Schema::Fix => "implementation_fix",
        }
    }

    pub fn value(self) -> Value {
        match self {
            Schema::Tests => tests_schema(),
            Schema::Fix => fix_schema(),
        }
    }
}

/// Token usage, the same for every API: `input_tokens` includes cached input (for Anthropic,
/// input plus both cache counters); `cached_input_tokens` is the cached part;
/// `reasoning_tokens` is part of `output_tokens`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
    /// What the engine itself said the requests cost, in millionths of a dollar (Claude
    /// Code's `total_cost_usd`); 0 when it said nothing, and the price table decides.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reported_micro_usd: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.output_tokens += other.output_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
        self.reported_micro_usd += other.reported_micro_usd;
    }
}

/// How the answer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Complete,
    /// Cut off at the output budget: retried once asking for fewer tests.
    Truncated,
    /// The model declined, with what it said.
    Refused(String),
}

/// A reply, whatever the wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    pub usage: Usage,
    pub finish: Finish,
    /// The provider's id of the response, for transcripts and support requests.
    pub id: Option<String>,
    /// The model that answered, where the answer says and it may differ from the one asked
    /// (an agent CLI on its own default).
    pub model: Option<String>,
}

/// A 200 response that is not a reply this format knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the response is not a {format} reply: {why}")]
pub struct WireError {
    pub format: &'static str,
    pub why: String,
}

/// The schema of the tests a model answers with, in the strict subset: every property
/// required, optional ones nullable, no additional properties.
pub fn tests_schema() -> Value {
    let text = json!({"type": "string"});
    let nullable = json!({"type": ["string", "null"]});
    let list = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "type": "object",
        "properties": {
            "tests": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": text,
                        "function": nullable,
                        "targets": list,
                        "spec_items": list,
                        "category": {"type": ["string", "null"], "enum": [
                            "boundary", "empty", "type_limit", "spec_contract", "concurrency",
                            "misuse", null
                        ]},
                        "oracle": nullable,
                        "input": nullable,
                        "rationale": nullable,
                        "code": text,
                    },
                    "required": ["name", "function", "targets", "spec_items", "category",
                                 "oracle", "input", "rationale", "code"],
                    "additionalProperties": false,
                },
            },
        },
        "required": ["tests"],
        "additionalProperties": false,
    })
}

/// A proposed fix: the whole function rewritten, or `null` when the test is what is wrong,
/// with why either way.
pub fn fix_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "code": {"type": ["string", "null"]},
            "explanation": {"type": "string"},
        },
        "required": ["code", "explanation"],
        "additionalProperties": false,
    })
}

/// A number at `path` in a JSON value, 0 when absent (local servers leave out details).
pub fn count(value: &Value, path: &[&str]) -> u64 {
    let Some(found) = path.iter().try_fold(value, |v, key| v.get(key)) else {
        return 0;
    };
    // Some servers send counts as floats (`1e6`) or strings (`"1000"`).
    found
        .as_u64()
        .or_else(|| found.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        .or_else(|| {
            found
                .as_str()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .filter(|f| *f >= 0.0)
                .map(|f| f as u64)
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod test {
    use super::*;

    /// Every object in the schema lists all its properties as required and allows no others:
    /// what OpenAI's strict mode demands.
    fn strict(schema: &Value) -> bool {
        match schema {
            Value::Object(map) => {
                let own = match (map.get("properties"), map.get("required")) {
                    (Some(Value::Object(properties)), Some(Value::Array(required))) => {
                        properties.keys().all(|k| required.contains(&json!(k)))
                            && map.get("additionalProperties") == Some(&json!(false))
                    }
                    (None, None) => true,
                    _ => false,
                };
                own && map.values().all(strict)
            }
            Value::Array(items) => items.iter().all(strict),
            _ => true,
        }
    }

    #[test]
    fn the_schema_is_in_the_strict_subset() {
        assert!(strict(&tests_schema()));
        let mut loose = tests_schema();
        loose["properties"]["tests"]["items"]["required"] = json!(["name", "code"]);
        assert!(!strict(&loose));
    }

    #[test]
    fn missing_counts_are_zero() {
        let usage = json!({"prompt_tokens": 7, "prompt_tokens_details": {}});
        assert_eq!(count(&usage, &["prompt_tokens"]), 7);
        assert_eq!(
            count(&usage, &["prompt_tokens_details", "cached_tokens"]),
            0
        );
        assert_eq!(count(&usage, &["nothing", "here"]), 0);
        let odd = json!({"a": 1e6, "b": "1000", "c": -3, "d": "many"});
        assert_eq!(count(&odd, &["a"]), 1_000_000);
        assert_eq!(count(&odd, &["b"]), 1000);
        assert_eq!(count(&odd, &["c"]), 0);
        assert_eq!(count(&odd, &["d"]), 0);
    }
}
