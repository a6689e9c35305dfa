//! A model's proposed fix to the implementation a failing test points at: the answer read
//! tolerantly, checked (the same function, the same signature, no new effects), and put in
//! place of the function in its file's text. The review verifies it before offering it.

use quote::ToTokens;
use serde::Deserialize;
use syn::spanned::Spanned;
use syn::visit::Visit;

use super::answer::{fenced_blocks, outermost_object, strip_fence};

/// What the model answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixAnswer {
    /// The function rewritten, and why.
    Fix { code: String, explanation: String },
    /// The model judged the test wrong, not the function.
    NoFix { explanation: String },
}

#[derive(Deserialize)]
struct Envelope {
    code: Option<String>,
    #[serde(default)]
    explanation: Option<String>,
}

/// Read a fix answer: `{"code": ..., "explanation": ...}` (whole, in a fence, inside prose),
/// else the first Rust fence holding a function, with the prose around it as the explanation.
pub fn read_fix(text: &str) -> Result<FixAnswer, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the answer is empty".to_owned());
    }
    let fences = fenced_blocks(text);
    let candidates = std::iter::once(text.to_owned())
        .chain(fences.iter().map(|(_, body)| body.clone()))
        .chain(outermost_object(text).map(str::to_owned));
    for candidate in candidates {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(candidate.trim()) else {
            continue;
        };
        if value.get("code").is_none() && value.get("explanation").is_none() {
            continue;
        }
        let Ok(envelope) = serde_json::from_value::<Envelope>(value) else {
            continue;
        };
        let explanation = envelope.explanation.unwrap_or_default().trim().to_owned();
        return Ok(match envelope.code.filter(|c| !c.trim().is_empty()) {
            Some(code) => FixAnswer::Fix {
                code: strip_fence(&code),
                explanation,
            },
            None => FixAnswer::NoFix { explanation },
        });
    }
    let code = fences
        .iter()
        .find(|(info, body)| {
            (info.is_empty() || info.starts_with("rust") || info == "rs") && body.contains("fn ")
        })
        .map(|(_, body)| body.clone())
        .ok_or("the answer holds neither the JSON asked for nor a Rust function")?;
    let prose: String = text
        .split("```")
        .step_by(2)
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(FixAnswer::Fix {
        code,
        explanation: prose,
    })
}

/// A function of a file as the analyzer places it: by name and the line its signature (or
/// visibility) starts on.
struct Found {
    /// Byte range from the visibility (or signature) to the body's closing brace.
    range: std::ops::Range<usize>,
    vis: String,
    sig: String,
    /// The forbidden names the original uses (what it does, the name).
    effects: std::collections::BTreeSet<(&'static str, String)>,
}

struct Finder<'a> {
    name: &'a str,
    line: usize,
    found: Option<Found>,
}

impl Finder<'_> {
    fn consider(&mut self, vis: &syn::Visibility, sig: &syn::Signature, block: &syn::Block) {
        if sig.ident != self.name {
            return;
        }
        let start = match vis {
            syn::Visibility::Inherited => sig.span(),
            _ => vis.span(),
        };
        if start.start().line != self.line {
            return;
        }
        self.found = Some(Found {
            range: start.byte_range().start..block.brace_token.span.close().byte_range().end,
            vis: vis.to_token_stream().to_string(),
            sig: sig.to_token_stream().to_string(),
            effects: crate::effects::forbidden_names(block.to_token_stream()),
        });
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.consider(&item.vis, &item.sig, &item.block);
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.consider(&item.vis, &item.sig, &item.block);
        syn::visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(block) = &item.default {
            self.consider(&syn::Visibility::Inherited, &item.sig, block);
        }
        syn::visit::visit_trait_item_fn(self, item);
    }
}

/// `source` with the function `name` whose signature starts on `line` replaced by `fix` (a
/// whole function: its attributes and doc comment are dropped, the original's stay). Refused
/// when the fix is another function, changes the signature or visibility (callers would
/// break), or adds a process, socket or file deletion the original does not have.
pub fn apply_fix(source: &str, line: u32, name: &str, fix: &str) -> Result<String, String> {
    let file = crate::syntax::parse_file(source)
        .map_err(|err| format!("the file does not parse: {err}"))?;
    let mut finder = Finder {
        name,
        line: line as usize,
        found: None,
    };
    finder.visit_file(&file);
    let original = finder
        .found
        .ok_or_else(|| format!("`{name}` is not at line {line} any more"))?;
    let fix = strip_fence(fix);
    let proposed: syn::ItemFn = crate::syntax::parse_str(&fix)
        .map_err(|err| format!("the fix is not one function: {err}"))?;
    if proposed.sig.ident != name {
        return Err(format!(
            "the fix rewrites `{}`, not `{name}`",
            proposed.sig.ident
        ));
    }
    if proposed.sig.to_token_stream().to_string() != original.sig
        || proposed.vis.to_token_stream().to_string() != original.vis
    {
        return Err("the fix changes the function's signature, which its callers rely on".into());
    }
    let added = crate::effects::forbidden_names(proposed.block.to_token_stream());
    if let Some((what, name)) = added.difference(&original.effects).next() {
        return Err(format!(
            "the fix adds what the original does not do: it {what} (`{name}`)"
        ));
    }
    // From the visibility (or signature) on: the original's attributes and docs stay.
    let start = match &proposed.vis {
        syn::Visibility::Inherited => proposed.sig.span(),
        vis => vis.span(),
    }
    .byte_range()
    .start;
    let end = proposed.block.brace_token.span.close().byte_range().end;
    let text = fix
        .get(start..end)
        .ok_or("the fix's text does not match its parse")?;
    let indent: String = source[..original.range.start]
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let newline = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let reindented = reindent(text, &indent, newline);
    let patched = format!(
        "{}{}{}",
        &source[..original.range.start],
        reindented,
        &source[original.range.end..]
    );
    crate::syntax::parse_file(&patched)
        .map_err(|err| format!("the patched file does not parse: {err}"))?;
    Ok(patched)
}

/// `text` (a function as the model wrote it, at any indentation) at `indent`: the common
/// indentation of the lines after the first taken off, `indent` put on, lines joined with
/// `newline`. Lines inside a multi-line string literal are left as they are: their spaces are
/// part of the string.
fn reindent(text: &str, indent: &str, newline: &str) -> String {
    let verbatim = lines_inside_literals(text);
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let leading = |line: &str| line.len() - line.trim_start_matches([' ', '\t']).len();
    // The closing brace sits at the function's own level: that is the level to take off.
    let own = lines.last().map_or(0, |l| leading(l));
    let mut out = String::new();
    for (index, line) in lines.iter().enumerate() {
        if index == 0 {
            out.push_str(line.trim_start());
            continue;
        }
        out.push_str(newline);
        if verbatim.contains(&(index + 1)) {
            out.push_str(line);
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        out.push_str(indent);
        out.push_str(&line[leading(line).min(own)..]);
    }
    out
}

/// The lines (1-based) that begin inside a string literal spanning several lines.
fn lines_inside_literals(text: &str) -> std::collections::HashSet<usize> {
    fn walk(tokens: proc_macro2::TokenStream, out: &mut std::collections::HashSet<usize>) {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Group(group) => walk(group.stream(), out),
                proc_macro2::TokenTree::Literal(literal) => {
                    let span = literal.span();
                    out.extend(span.start().line + 1..=span.end().line);
                }
                _ => {}
            }
        }
    }
    let mut out = std::collections::HashSet::new();
    if let Ok(tokens) = crate::syntax::token_stream(text) {
        walk(tokens, &mut out);
    }
    out
}

/// A unified diff of `before` and `after` for `file` (relative), as `git apply` takes it.
pub fn unified_diff(file: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{file}"), &format!("b/{file}"))
        .to_string()
}

#[cfg(test)]
mod test {
    use super::*;

    const SOURCE: &str = "/// Average.\npub fn average(sum: i64, count: usize) -> i64 {\n    sum / count as i64\n}\n\npub struct Tally;\n\nimpl Tally {\n    /// Adds.\n    #[inline]\n    pub fn add(&mut self, value: i64) -> i64 {\n        value\n    }\n}\n";

    #[test]
    fn a_fix_is_read_from_json_fences_or_prose() {
        let json = r#"{"code": "pub fn f() {}", "explanation": "guard zero"}"#;
        assert_eq!(
            read_fix(json).unwrap(),
            FixAnswer::Fix {
                code: "pub fn f() {}".into(),
                explanation: "guard zero".into()
            }
        );
        let fenced = format!("Sure:\n```json\n{json}\n```\n");
        assert_eq!(read_fix(&fenced).unwrap(), read_fix(json).unwrap());
        assert_eq!(
            read_fix(
                r#"{"code": null, "explanation": "the test expects a panic the spec rules out"}"#
            )
            .unwrap(),
            FixAnswer::NoFix {
                explanation: "the test expects a panic the spec rules out".into()
            }
        );
        let prose = "Guard the zero count.\n```rust\npub fn f() {}\n```\nThat is all.";
        assert_eq!(
            read_fix(prose).unwrap(),
            FixAnswer::Fix {
                code: "pub fn f() {}".into(),
                explanation: "Guard the zero count. That is all.".into()
            }
        );
        assert!(read_fix("no idea").is_err());
        assert!(read_fix("").is_err());
    }

    #[test]
    fn a_fix_replaces_the_function_and_keeps_its_docs() {
        let fix = "/// Mine.\npub fn average(sum: i64, count: usize) -> i64 {\n    if count == 0 {\n        return 0;\n    }\n    sum / count as i64\n}";
        let patched = apply_fix(SOURCE, 2, "average", fix).unwrap();
        assert!(
            patched.starts_with("/// Average.\npub fn average(sum: i64, count: usize) -> i64 {\n    if count == 0 {\n        return 0;\n    }\n"),
            "{patched}"
        );
        assert!(!patched.contains("Mine"), "{patched}");
        assert!(patched.ends_with("pub struct Tally;\n\nimpl Tally {\n    /// Adds.\n    #[inline]\n    pub fn add(&mut self, value: i64) -> i64 {\n        value\n    }\n}\n"));
        // A method, written by the model at column 0, goes back at its impl's indentation.
        let method = "pub fn add(&mut self, value: i64) -> i64 {\n    value + 1\n}";
        let patched = apply_fix(SOURCE, 11, "add", method).unwrap();
        assert!(
            patched.contains("    #[inline]\n    pub fn add(&mut self, value: i64) -> i64 {\n        value + 1\n    }\n}\n"),
            "{patched}"
        );
        let diff = unified_diff("src/lib.rs", SOURCE, &patched);
        assert!(
            diff.starts_with("--- a/src/lib.rs\n+++ b/src/lib.rs\n@@"),
            "{diff}"
        );
        assert!(
            diff.contains("-        value\n+        value + 1\n"),
            "{diff}"
        );
    }

    #[test]
    fn strings_keep_their_spaces_and_odd_whitespace_does_not_break_the_splice() {
        // A method at column 0 with a string continued over lines, one line starting with an
        // ideographic space: the string's lines stay as written, the code moves in.
        let method = "pub fn add(&mut self, value: i64) -> i64 {\n    let s = \"line1\n  \u{3000}line2\n\nline4\";\n    value + s.len() as i64\n}";
        let patched = apply_fix(SOURCE, 11, "add", method).unwrap();
        assert!(
            patched.contains("    pub fn add(&mut self, value: i64) -> i64 {\n        let s = \"line1\n  \u{3000}line2\n\nline4\";\n        value + s.len() as i64\n    }\n"),
            "{patched}"
        );
        // A file with CRLF lines gets CRLF lines.
        let crlf = SOURCE.replace('\n', "\r\n");
        let fix = "pub fn average(sum: i64, count: usize) -> i64 {\n    sum\n}";
        let patched = apply_fix(&crlf, 2, "average", fix).unwrap();
        assert!(
            patched.contains("pub fn average(sum: i64, count: usize) -> i64 {\r\n    sum\r\n}\r\n"),
            "{patched:?}"
        );
    }

    #[test]
    fn fixes_that_would_break_callers_or_do_more_are_refused() {
        let cases = [
            (
                "pub fn mean(sum: i64, count: usize) -> i64 { 0 }",
                "not `average`",
            ),
            (
                "pub fn average(sum: i64, count: u32) -> i64 { 0 }",
                "signature",
            ),
            (
                "fn average(sum: i64, count: usize) -> i64 { 0 }",
                "signature",
            ),
            (
                "pub fn average(sum: i64, count: usize) -> i64 { std::process::Command::new(\"x\"); 0 }",
                "adds what the original does not do",
            ),
            (
                "pub fn average(sum: i64, count: usize) -> i64 {",
                "not one function",
            ),
        ];
        for (fix, why) in cases {
            let err = apply_fix(SOURCE, 2, "average", fix).unwrap_err();
            assert!(err.contains(why), "{fix}: {err}");
        }
        assert!(
            apply_fix(
                SOURCE,
                3,
                "average",
                "pub fn average(sum: i64, count: usize) -> i64 { 0 }"
            )
            .unwrap_err()
            .contains("not at line 3")
        );
    }
}
