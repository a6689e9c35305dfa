//! Reading a model's answer: the JSON the model output contract asks for, or the same in a
//! markdown fence, or prose with `rust` code blocks; then each test checked with syn (one
//! complete `#[test]` function) and refused when it spawns processes, opens sockets or
//! deletes files. Nothing here trusts a server to have enforced the schema.

use serde::Deserialize;

use crate::analyze::names::unparse_item;
use crate::effects::EffectRules;

/// A test as the model proposed it; only `name` and `code` are required of the model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ProposedTest {
    pub name: String,
    pub function: Option<String>,
    pub targets: Vec<String>,
    pub spec_items: Vec<String>,
    pub category: Option<String>,
    pub oracle: Option<String>,
    pub input: Option<String>,
    pub rationale: Option<String>,
    pub code: String,
}

/// A proposed test that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub name: String,
    pub reason: String,
}

/// What an answer yielded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub tests: Vec<ProposedTest>,
    pub refused: Vec<Refused>,
}

/// Why an answer gave nothing at all to work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("the answer is empty")]
    Empty,
    #[error("the answer holds no tests: neither the JSON asked for nor Rust code blocks")]
    NoTests,
}

#[derive(Deserialize)]
struct Envelope {
    tests: Vec<serde_json::Value>,
}

/// Read an answer's text: JSON (whole, in a fence, or inside prose), else fenced Rust code.
pub fn read_answer(text: &str, effects: &EffectRules) -> Result<Answer, AnswerError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AnswerError::Empty);
    }
    let proposed = match envelope(text) {
        Some(list) => list,
        None => {
            let blocks = rust_blocks(text);
            if blocks.is_empty() {
                return Err(AnswerError::NoTests);
            }
            blocks
                .into_iter()
                .flat_map(|block| split_functions(&block))
                .collect()
        }
    };
    let mut answer = Answer::default();
    for (position, test) in proposed.into_iter().enumerate() {
        match check(test, effects) {
            Ok(test) => answer.tests.push(test),
            Err((name, reason)) => answer.refused.push(Refused {
                name: if name.is_empty() {
                    format!("test #{}", position + 1)
                } else {
                    name
                },
                reason,
            }),
        }
    }
    Ok(answer)
}

/// The `tests` list of the JSON envelope, wherever the JSON sits in the text; entries that
/// are not objects with a `code` string are kept as empty tests, to be refused with a reason.
fn envelope(text: &str) -> Option<Vec<ProposedTest>> {
    let candidates = std::iter::once(text.to_owned())
        .chain(fenced_blocks(text).into_iter().map(|(_, body)| body))
        .chain(outermost_object(text).map(str::to_owned));
    for candidate in candidates {
        if let Ok(envelope) = serde_json::from_str::<Envelope>(candidate.trim()) {
            return Some(
                envelope
                    .tests
                    .into_iter()
                    .map(|value| serde_json::from_value(value).unwrap_or_default())
                    .collect(),
            );
        }
    }
    None
}

/// From the first `{` to the last `}`: JSON with prose around it.
pub(super) fn outermost_object(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    (start < end).then(|| &text[start..=end])
}

/// Markdown fences: (info string, body).
pub(super) fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            continue;
        };
        let mut body = Vec::new();
        for inner in lines.by_ref() {
            if inner.trim_start().starts_with("```") {
                break;
            }
            body.push(inner);
        }
        blocks.push((info.trim().to_ascii_lowercase(), body.join("\n")));
    }
    blocks
}

/// The Rust code of an answer without JSON: its `rust` (or unlabelled) fences holding a test.
fn rust_blocks(text: &str) -> Vec<String> {
    fenced_blocks(text)
        .into_iter()
        .filter(|(info, body)| {
            (info.is_empty() || info.starts_with("rust") || info == "rs")
                && body.contains("#[test]")
        })
        .map(|(_, body)| body)
        .collect()
}

/// Each `fn` item of a code block as its own proposed test (helpers and `use` lines are
/// refused one by one: only `#[test]` functions are taken).
fn split_functions(block: &str) -> Vec<ProposedTest> {
    let Ok(file) = crate::syntax::parse_file(block) else {
        // Let the check say why, with the parser's words.
        return vec![ProposedTest {
            code: block.to_owned(),
            ..ProposedTest::default()
        }];
    };
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(function) => Some(ProposedTest {
                name: function.sig.ident.to_string(),
                code: unparse_item(item.clone()),
                ..ProposedTest::default()
            }),
            // `use` lines the model adds are the tool's business (it writes the module's).
            _ => None,
        })
        .collect()
}

/// One test checked: it parses, it is one `#[test]` function, it does nothing the sandbox
/// should not have to stop. The name is the function's.
fn check(mut test: ProposedTest, effects: &EffectRules) -> Result<ProposedTest, (String, String)> {
    let fail = |test: &ProposedTest, reason: String| (test.name.clone(), reason);
    if test.code.trim().is_empty() {
        return Err(fail(&test, "no code".to_owned()));
    }
    let code = strip_fence(&test.code);
    let file = crate::syntax::parse_file(&code)
        .map_err(|err| fail(&test, format!("does not parse as Rust: {err}")))?;
    let functions: Vec<&syn::ItemFn> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(function) => Some(function),
            _ => None,
        })
        .collect();
    let [function] = functions.as_slice() else {
        return Err(fail(
            &test,
            format!(
                "holds {} functions; a test is one `#[test]` function",
                functions.len()
            ),
        ));
    };
    if file.items.len() != 1 {
        return Err(fail(
            &test,
            "holds items besides the test function".to_owned(),
        ));
    }
    let is_test = function
        .attrs
        .iter()
        .any(|a| a.path().segments.last().is_some_and(|s| s.ident == "test"));
    if !is_test {
        return Err(fail(&test, "is not a `#[test]` function".to_owned()));
    }
    if let Some(effect) = effects.check_test(function) {
        return Err(fail(&test, effect));
    }
    test.name = function.sig.ident.to_string();
    test.code = unparse_item(syn::Item::Fn((*function).clone()));
    Ok(test)
}

/// A test's code with a markdown fence around it removed.
pub(super) fn strip_fence(code: &str) -> String {
    let trimmed = code.trim();
    if let Some(rest) = trimmed.strip_prefix("```") {
        let body = rest.split_once('\n').map_or("", |(_, body)| body);
        return body.trim_end().trim_end_matches("```").to_owned();
    }
    trimmed.to_owned()
}

#[cfg(test)]
mod test {
    use super::*;

    const GOOD: &str = "#[test]\nfn parses_empty() {\n    assert!(crate::parse(\"\").is_err());\n}";

    fn json(tests: &[(&str, &str)]) -> String {
        serde_json::json!({"tests": tests.iter().map(|(name, code)| {
            serde_json::json!({"name": name, "code": code, "rationale": "why"})
        }).collect::<Vec<_>>()})
        .to_string()
    }

    #[test]
    fn plain_json_is_read() {
        let answer =
            read_answer(&json(&[("parses_empty", GOOD)]), &EffectRules::default()).unwrap();
        assert_eq!(answer.tests.len(), 1);
        assert_eq!(answer.tests[0].name, "parses_empty");
        assert_eq!(answer.tests[0].rationale.as_deref(), Some("why"));
        assert!(answer.refused.is_empty());
    }

    #[test]
    fn json_in_a_fence_with_prose_is_read() {
        let text = format!(
            "Here are the tests you asked for:\n\n```json\n{}\n```\nGood luck!",
            json(&[("parses_empty", GOOD)])
        );
        assert_eq!(
            read_answer(&text, &EffectRules::default())
                .unwrap()
                .tests
                .len(),
            1
        );
        let inline = format!("Sure! {} Hope this helps.", json(&[("parses_empty", GOOD)]));
        assert_eq!(
            read_answer(&inline, &EffectRules::default())
                .unwrap()
                .tests
                .len(),
            1
        );
    }

    #[test]
    fn rust_fences_without_json_are_read_function_by_function() {
        let text = format!(
            "Two tests:\n```rust\nuse super::*;\n\n{GOOD}\n\n#[test]\nfn second() {{ assert_eq!(1, 1); }}\n\nfn helper() {{}}\n```\n"
        );
        let answer = read_answer(&text, &EffectRules::default()).unwrap();
        let names: Vec<&str> = answer.tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["parses_empty", "second"]);
        assert_eq!(answer.refused.len(), 1);
        assert!(answer.refused[0].reason.contains("not a `#[test]`"));
    }

    #[test]
    fn broken_and_dangerous_tests_are_refused_with_reasons() {
        let text = json(&[
            ("broken", "#[test]\nfn broken() { let x = ; }"),
            ("two", "#[test]\nfn a() {}\n#[test]\nfn b() {}"),
            (
                "spawns",
                "#[test]\nfn spawns() { std::process::Command::new(\"rm\").status().unwrap(); }",
            ),
            (
                "deletes",
                "#[test]\nfn deletes() { std::fs::remove_dir_all(\"/tmp/x\").ok(); }",
            ),
            (
                "socket",
                "#[test]\nfn socket() { let _ = std::net::TcpStream::connect(\"1.1.1.1:80\"); }",
            ),
            ("parses_empty", GOOD),
        ]);
        let answer = read_answer(&text, &EffectRules::default()).unwrap();
        assert_eq!(answer.tests.len(), 1);
        let reasons: Vec<(&str, &str)> = answer
            .refused
            .iter()
            .map(|r| (r.name.as_str(), r.reason.as_str()))
            .collect();
        assert!(reasons[0].1.starts_with("does not parse"), "{reasons:?}");
        assert!(reasons[1].1.contains("2 functions"), "{reasons:?}");
        assert!(reasons[2].1.contains("spawns a process"), "{reasons:?}");
        assert!(reasons[3].1.contains("deletes files"), "{reasons:?}");
        assert!(reasons[4].1.contains("opens a socket"), "{reasons:?}");
    }

    #[test]
    fn tests_that_could_smuggle_data_or_break_the_build_are_refused() {
        let text = json(&[
            (
                "leak",
                "#[test]\n#[deny(unused_must_use)]\nfn leak() { #[must_use = include_str!(\"ledger.rs\")] fn f() -> u8 { 1 } f(); }",
            ),
            ("main", "#[test]\n#[no_mangle]\nfn main() {}"),
            (
                "key",
                "#[test]\nfn key() { let _ = env!(\"OPENAI_API_KEY\"); }",
            ),
            (
                "ffi",
                "#[test]\nfn ffi() { unsafe extern \"C\" { fn _exit(c: i32); } }",
            ),
            (
                "moves",
                "#[test]\nfn moves() { std::fs::rename(\"a\", \"b\").ok(); }",
            ),
            (
                "fine",
                "#[test]\n#[should_panic]\n#[allow(unused)]\nfn fine() { crate::f(0); }",
            ),
        ]);
        let answer = read_answer(&text, &EffectRules::default()).unwrap();
        let names: Vec<&str> = answer.tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["fine"], "{:?}", answer.refused);
        assert_eq!(answer.refused.len(), 5);
    }

    #[test]
    fn nothing_usable_is_an_error() {
        assert_eq!(
            read_answer("  ", &EffectRules::default()),
            Err(AnswerError::Empty)
        );
        assert_eq!(
            read_answer("I cannot help with that.", &EffectRules::default()),
            Err(AnswerError::NoTests)
        );
        // Malformed JSON and no code: nothing to take.
        assert_eq!(
            read_answer(
                "{\"tests\": [{\"name\": \"x\", \"code\": ",
                &EffectRules::default()
            ),
            Err(AnswerError::NoTests)
        );
    }

    #[test]
    fn a_code_field_in_a_fence_is_unwrapped() {
        let fenced = format!("```rust\n{GOOD}\n```");
        let answer =
            read_answer(&json(&[("parses_empty", &fenced)]), &EffectRules::default()).unwrap();
        assert_eq!(answer.tests.len(), 1, "{:?}", answer.refused);
    }
}
