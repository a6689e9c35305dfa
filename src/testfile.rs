//! The generated test-file format, one contract for `generate`, `run-tests`, the runner and
//! the writer: an optional `//! dualtrack: {JSON}` header, then `#[test]` functions, each after
//! a `/// dualtrack: {JSON}` line naming at least the function it attacks.

use serde::{Deserialize, Serialize};

/// The metadata line of one test.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestMeta {
    /// The function under test, as `analyze` names it.
    pub function: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spec: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

/// One test of a module: its name, metadata, and source text exactly as written (the metadata
/// line and attributes included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    pub name: String,
    pub meta: TestMeta,
    pub code: String,
    /// 1-based line of the test's first line (its metadata line) in the module file.
    pub line: u32,
}

/// A parsed test module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestModule {
    /// The header's JSON (engine, run id), if any.
    pub header: Option<serde_json::Value>,
    /// Everything but the tests and the header: `use` lines and helpers, wherever they are.
    pub preamble: String,
    pub tests: Vec<TestCase>,
}

/// Why a test file could not be read; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TestFileError {
    pub line: u32,
    pub message: String,
}

const META_PREFIX: &str = "/// dualtrack:";
const HEADER_PREFIX: &str = "//! dualtrack:";

/// Parse a generated module. The text must parse as Rust items; every `#[test]` function must
/// follow a metadata line with a `function`.
pub fn parse_test_module(text: &str) -> Result<TestModule, TestFileError> {
    let file = crate::syntax::parse_file(text).map_err(|err| TestFileError {
        line: err.line,
        message: if err.too_deep {
            err.message
        } else {
            format!("does not parse as Rust: {}", err.message)
        },
    })?;
    let lines: Vec<&str> = text.lines().collect();
    let mut header = None;
    for (index, line) in lines.iter().enumerate() {
        if let Some(json) = line.trim_start().strip_prefix(HEADER_PREFIX) {
            header = Some(
                serde_json::from_str(json.trim()).map_err(|err| TestFileError {
                    line: index as u32 + 1,
                    message: format!("header is not JSON: {err}"),
                })?,
            );
            break;
        }
    }
    let mut tests = Vec::new();
    let mut test_lines: Vec<std::ops::RangeInclusive<usize>> = Vec::new();
    for item in &file.items {
        let syn::Item::Fn(function) = item else {
            continue;
        };
        let is_test = function
            .attrs
            .iter()
            .any(|a| a.path().segments.last().is_some_and(|s| s.ident == "test"));
        if !is_test {
            continue;
        }
        let name = function.sig.ident.to_string();
        // The item's span starts at its first attribute; doc comments are attributes too.
        use syn::spanned::Spanned;
        let span = function.span();
        let start = span.start().line;
        let end = span.end().line;
        let meta_line = (start..=end)
            .find(|&n| {
                lines
                    .get(n - 1)
                    .is_some_and(|l| l.trim_start().starts_with(META_PREFIX))
            })
            .ok_or_else(|| TestFileError {
                line: start as u32,
                message: format!("test `{name}` has no `{META_PREFIX} {{\"function\": ...}}` line"),
            })?;
        let json = lines[meta_line - 1].trim_start()[META_PREFIX.len()..].trim();
        let meta: TestMeta = serde_json::from_str(json).map_err(|err| TestFileError {
            line: meta_line as u32,
            message: format!("metadata of `{name}` is not valid: {err}"),
        })?;
        if meta.function.is_empty() {
            return Err(TestFileError {
                line: meta_line as u32,
                message: format!("metadata of `{name}` names no function"),
            });
        }
        let code = lines[start - 1..end].join("\n");
        test_lines.push(start..=end);
        tests.push(TestCase {
            name,
            meta,
            code,
            line: start as u32,
        });
    }
    proc_macro2::extra::invalidate_current_thread_spans();
    if tests.is_empty() {
        return Err(TestFileError {
            line: 1,
            message: "no #[test] function".to_owned(),
        });
    }
    let preamble = lines
        .iter()
        .enumerate()
        .filter(|(index, line)| {
            !test_lines.iter().any(|range| range.contains(&(index + 1)))
                && !line.trim_start().starts_with(HEADER_PREFIX)
        })
        .map(|(_, line)| *line)
        .collect::<Vec<_>>()
        .join("\n");
    Ok(TestModule {
        header,
        preamble,
        tests,
    })
}

/// The generated module name of an engine: `dualtrack_ENGINE` with `-` mapped to `_`.
pub fn module_name(engine: &str) -> String {
    format!("dualtrack_{}", engine.replace('-', "_"))
}

#[cfg(test)]
mod test {
    use super::*;

    const MODULE: &str = r#"//! dualtrack: {"engine": "offline", "run": "r1"}
use std::collections::HashMap;

/// dualtrack: {"function": "ledger::parse_cents", "targets": ["ledger::parse_cents#if1"], "category": "empty", "oracle": "no_panic", "input": "\"\""}
#[test]
fn parse_cents_empty_does_not_panic() {
    let _ = parse_cents("");
}

fn helper() -> u8 { 1 }

/// dualtrack: {"function": "ledger::format_cents"}
#[test]
#[ignore = "slow"]
fn format_cents_min() {
    let _ = format_cents(i64::MIN);
}
"#;

    #[test]
    fn parses_header_preamble_and_tests_with_metadata() {
        let module = parse_test_module(MODULE).unwrap();
        assert_eq!(module.header.unwrap()["engine"], "offline");
        assert!(module.preamble.contains("use std::collections::HashMap;"));
        // A helper between the tests belongs to the preamble too.
        assert!(module.preamble.contains("fn helper() -> u8 { 1 }"));
        assert!(
            !module
                .preamble
                .contains("fn parse_cents_empty_does_not_panic")
        );
        assert_eq!(module.tests.len(), 2);
        let first = &module.tests[0];
        assert_eq!(first.name, "parse_cents_empty_does_not_panic");
        assert_eq!(first.meta.function, "ledger::parse_cents");
        assert_eq!(first.meta.targets, ["ledger::parse_cents#if1"]);
        assert_eq!(first.meta.input.as_deref(), Some("\"\""));
        assert_eq!(first.line, 4);
        assert!(first.code.starts_with("/// dualtrack:"));
        assert!(first.code.ends_with('}'));
        assert_eq!(module.tests[1].meta.function, "ledger::format_cents");
        assert!(module.tests[1].code.contains("#[ignore"));
    }

    #[test]
    fn a_test_without_metadata_is_an_error_with_its_line() {
        let err = parse_test_module("#[test]\nfn t() {}\n").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("no `/// dualtrack:"));
    }

    #[test]
    fn text_that_does_not_parse_or_has_no_test_is_an_error() {
        assert!(
            parse_test_module("fn (")
                .unwrap_err()
                .message
                .contains("does not parse")
        );
        assert!(
            parse_test_module("fn f() {}")
                .unwrap_err()
                .message
                .contains("no #[test]")
        );
        let err =
            parse_test_module("/// dualtrack: {\"function\": 3}\n#[test]\nfn t() {}").unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn module_name_maps_dashes() {
        assert_eq!(
            module_name("openai-compatible"),
            "dualtrack_openai_compatible"
        );
    }
}
