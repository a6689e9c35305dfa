//! The tests a function has already, so a model spends its tokens elsewhere: the crate's own
//! (found by the names their bodies use) and the cheap engine's that ran before it, with what
//! each found.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;

use crate::analyze::Function;
use crate::scratch::TestResult;
use crate::scratch::execute::Outcome;

/// Tests listed per function, at most.
const MAX_LISTED: usize = 12;

/// A `#[test]` function of the crate: its name, file and every identifier it uses.
#[derive(Debug)]
struct CrateTest {
    name: String,
    file: String,
    idents: HashSet<String>,
}

/// The crate's own tests about each function (by path), as `name (file)` lines. A test is
/// about a function when its body names it (and, for a method, its type); files are
/// `(relative path, text)`.
pub fn crate_tests<'a>(
    files: impl IntoIterator<Item = (String, &'a str)>,
    functions: &[Function],
) -> HashMap<String, Vec<String>> {
    let mut tests = Vec::new();
    for (file, text) in files {
        // Most files hold no test: skip parsing them.
        if !text.contains("test") {
            continue;
        }
        let Ok(parsed) = crate::syntax::parse_file(text) else {
            continue;
        };
        collect_tests(&parsed.items, &file, &mut tests);
    }
    let mut out = HashMap::new();
    for function in functions {
        let mut segments = function.path.rsplit("::");
        let Some(name) = segments.next() else {
            continue;
        };
        let owner = segments
            .next()
            .filter(|s| s.starts_with(|c: char| c.is_ascii_uppercase()));
        let about: Vec<&CrateTest> = tests
            .iter()
            .filter(|t| t.idents.contains(name) && owner.is_none_or(|o| t.idents.contains(o)))
            .collect();
        if about.is_empty() {
            continue;
        }
        let mut lines: Vec<String> = about
            .iter()
            .take(MAX_LISTED)
            .map(|t| format!("{} ({})", t.name, t.file))
            .collect();
        if about.len() > MAX_LISTED {
            lines.push(format!("... and {} more", about.len() - MAX_LISTED));
        }
        out.insert(function.path.clone(), lines);
    }
    out
}

fn collect_tests(items: &[syn::Item], file: &str, out: &mut Vec<CrateTest>) {
    for item in items {
        match item {
            syn::Item::Fn(function) if is_test(&function.attrs) => {
                let mut idents = HashSet::new();
                idents_of(function.block.to_token_stream(), &mut idents);
                out.push(CrateTest {
                    name: function.sig.ident.to_string(),
                    file: file.to_owned(),
                    idents,
                });
            }
            syn::Item::Mod(module) => {
                if let Some((_, items)) = &module.content {
                    collect_tests(items, file, out);
                }
            }
            _ => {}
        }
    }
}

/// `#[test]`, `#[tokio::test]`, `#[rstest]`-style attributes: any whose last segment is `test`.
fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "test")
    })
}

/// Every identifier in `tokens`, macros' arguments included.
pub fn idents_of(tokens: TokenStream, out: &mut HashSet<String>) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => {
                out.insert(ident.to_string());
            }
            TokenTree::Group(group) => idents_of(group.stream(), out),
            _ => {}
        }
    }
}

/// What the tests of a run found, per function: `name: outcome (message)` lines, the findings
/// first.
pub fn ran(results: &[TestResult], root: &Path) -> HashMap<String, Vec<String>> {
    let mut by_function: HashMap<String, Vec<&TestResult>> = HashMap::new();
    for result in results {
        by_function
            .entry(result.function.clone())
            .or_default()
            .push(result);
    }
    let shown = format!("{}/", root.display());
    by_function
        .into_iter()
        .map(|(function, mut results)| {
            results.sort_by_key(|r| (r.outcome == Outcome::Passed, r.name.clone()));
            let mut lines: Vec<String> = results
                .iter()
                .take(MAX_LISTED)
                .map(|r| {
                    let outcome = r.outcome.as_str();
                    let message = r.message.lines().next().unwrap_or("").replace(&shown, "");
                    let message = super::client::redact(&message, None);
                    if message.is_empty() {
                        format!("{}: {outcome}", r.name)
                    } else {
                        format!("{}: {outcome} ({})", r.name, cut(&message, 160))
                    }
                })
                .collect();
            if results.len() > MAX_LISTED {
                lines.push(format!("... and {} more", results.len() - MAX_LISTED));
            }
            (function, lines)
        })
        .collect()
}

/// The sites of each function of `analysis` that carried a probe (`probed`) and that no test
/// of `results` reached: `line 34 (if): fraction.len() > 2` lines, in source order. What a
/// model is asked to aim at next.
pub fn unreached(
    results: &[TestResult],
    analysis: &crate::analyze::Analysis,
    probed: &std::collections::BTreeSet<String>,
) -> HashMap<String, Vec<String>> {
    let reached: HashSet<&str> = results
        .iter()
        .flat_map(|r| r.reached.iter().flatten())
        .map(String::as_str)
        .collect();
    analysis
        .functions
        .iter()
        .filter_map(|function| {
            let lines: Vec<String> = function
                .sites
                .iter()
                .filter(|site| probed.contains(&site.id) && !reached.contains(site.id.as_str()))
                .take(MAX_LISTED)
                .map(|site| {
                    format!(
                        "line {} ({}): {}",
                        site.line,
                        site.kind.as_str().replace('_', " "),
                        cut(site.text.lines().next().unwrap_or_default(), 120)
                    )
                })
                .collect();
            (!lines.is_empty()).then(|| (function.path.clone(), lines))
        })
        .collect()
}

fn cut(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn function(path: &str) -> Function {
        serde_json::from_value(serde_json::json!({
            "path": path, "package": "c", "file": "src/lib.rs", "line": 1, "end_line": 1,
            "visibility": "pub", "sites": []
        }))
        .unwrap()
    }

    const SOURCE: &str = r#"
pub fn split(total: i64) -> i64 { total }
impl Ledger { pub fn push(&mut self) {} }

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn splits_evenly() { assert_eq!(split(4), 4); }
    #[tokio::test]
    async fn pushes() { let mut l = Ledger::default(); l.push(); }
    #[test]
    fn vec_push_is_not_ledger_push() { let mut v = Vec::new(); v.push(1); }
    fn helper() { split(1); }
}
"#;

    #[test]
    fn the_crate_s_tests_are_found_by_the_names_they_use() {
        let found = crate_tests(
            [
                ("src/lib.rs".to_owned(), SOURCE),
                ("src/none.rs".to_owned(), "fn f() {}"),
            ],
            &[
                function("c::split"),
                function("c::Ledger::push"),
                function("c::untested"),
            ],
        );
        assert_eq!(found["c::split"], ["splits_evenly (src/lib.rs)"]);
        assert_eq!(found["c::Ledger::push"], ["pushes (src/lib.rs)"]);
        assert!(!found.contains_key("c::untested"));
    }

    fn result(name: &str, outcome: Outcome, message: &str) -> TestResult {
        TestResult {
            name: name.into(),
            engine: "offline".into(),
            function: "c::split".into(),
            targets: vec![],
            spec_items: vec![],
            category: None,
            oracle: None,
            input: None,
            outcome,
            message: message.into(),
            location: None,
            failure_site: None,
            compile_errors: vec![],
            suggested_imports: vec![],
            output: String::new(),
            elapsed_ms: 0,
            code: String::new(),
            source: None,
            reached: None,
        }
    }

    #[test]
    fn what_ran_is_listed_findings_first_without_local_paths_or_keys() {
        let listed = ran(
            &[
                result("a_passes", Outcome::Passed, ""),
                result(
                    "b_panics",
                    Outcome::Panicked,
                    "attempt to divide by zero at /work/c/src/lib.rs:3 sk-abcdefghijklmnopqrstuv\nmore",
                ),
            ],
            Path::new("/work/c"),
        );
        let lines = &listed["c::split"];
        assert_eq!(lines[1], "a_passes: passed");
        assert!(
            lines[0].starts_with("b_panics: panicked (attempt to divide by zero at src/lib.rs:3 "),
            "{lines:?}"
        );
        assert!(!lines[0].contains("sk-abcdef"), "{lines:?}");
        assert!(!lines[0].contains("more"), "{lines:?}");
    }
}
