//! What a model is told: targeted context, not whole files. For one function: its source
//! with line numbers, its sites with ids and text (marking those no spec item speaks to), the
//! spec items about it, and what tests already exist; and the output contract.

use std::fmt::Write as _;

use crate::analyze::Function;

/// The instructions every request carries.
pub const SYSTEM: &str = "You are the adversarial second track of a code review. You read one \
Rust function, its decision sites and its spec, and write edge-case tests that try to break it: \
boundary values, empty input, type limits, spec contracts, misuse, concurrency where it shares \
state. Each test is one complete `#[test]` function that compiles inside a child module of the \
function's own module (`use super::*;` is there: call the function by its plain name). Use only \
std and the crate itself. Never spawn processes, open sockets, touch the network or delete \
files. A test asserts what the spec or the documentation promises; where neither says, assert \
only that the call does not panic. Prefer few sharp tests to many similar ones.";

/// What a model sees of one function.
#[derive(Debug, Clone, Default)]
pub struct FunctionContext {
    pub path: String,
    /// `file:line`.
    pub location: String,
    /// The function's source, each line prefixed with its number.
    pub numbered_source: String,
    /// (site id, kind, line, text, whether a spec item speaks to it).
    pub sites: Vec<(String, String, u32, String, bool)>,
    /// (item id, text).
    pub spec_items: Vec<(String, String)>,
    /// The crate's own tests that use it: `name (file)`.
    pub existing_tests: Vec<String>,
    /// Tests that ran against it (the offline pass's; in a cover round, the model's too),
    /// with what each found.
    pub ran_tests: Vec<String>,
    /// Its sites no test's run reached yet, by the probes: where to aim.
    pub unreached_sites: Vec<String>,
    /// Definitions of the crate's types the function names (structs, enums, aliases).
    pub types: Vec<String>,
    /// The crates a test may use besides std and this one.
    pub dependencies: Vec<String>,
}

/// The context of `function`, whose file's text is `source`.
pub fn function_context(
    function: &Function,
    source: &str,
    spec_items: Vec<(String, String)>,
    unspecified: &dyn Fn(&str) -> bool,
) -> FunctionContext {
    let lines: Vec<&str> = source.lines().collect();
    let mut first = function.line.max(1) as usize;
    let last = (function.end_line as usize).max(first);
    // The doc comment and attributes above it: what the function promises.
    while first > 1 {
        let above = lines.get(first - 2).map_or("", |l| l.trim_start());
        if above.starts_with("///") || above.starts_with("#[") || above.starts_with("//!") {
            first -= 1;
        } else {
            break;
        }
    }
    let numbered_source = lines
        .iter()
        .enumerate()
        .skip(first - 1)
        .take(last - first + 1)
        .map(|(index, line)| format!("{:>5} | {line}", index + 1))
        .collect::<Vec<_>>()
        .join("\n");
    FunctionContext {
        path: function.path.clone(),
        location: format!("{}:{}", function.file, function.line),
        numbered_source,
        sites: function
            .sites
            .iter()
            .map(|site| {
                (
                    site.id.clone(),
                    format!("{:?}", site.kind).to_lowercase(),
                    site.line,
                    site.text.clone(),
                    !unspecified(&site.id),
                )
            })
            .collect(),
        spec_items,
        existing_tests: Vec::new(),
        ran_tests: Vec::new(),
        unreached_sites: Vec::new(),
        types: Vec::new(),
        dependencies: Vec::new(),
    }
}

/// The user message for one function: the context, how many tests, and the output contract
/// (spelled out for servers that do not enforce the schema).
pub fn user_message(
    context: &FunctionContext,
    tests_wanted: usize,
    schema_in_prompt: bool,
) -> String {
    let mut out = context_text(context);
    let _ = write!(
        out,
        "Write {tests_wanted} tests. For each: `name` (snake_case, unique), `function` (`{}`), \
         `targets` (site ids it attacks), `spec_items` (item ids it checks), `category` (one of \
         boundary, empty, type_limit, spec_contract, concurrency, misuse), `oracle` (what it \
         asserts), `input` (the call, briefly), `rationale` (one sentence), and `code` (the \
         whole `#[test]` function).",
        context.path
    );
    if schema_in_prompt {
        out.push_str(
            "\n\nAnswer with JSON only, no prose: {\"tests\": [{\"name\": \"...\", \"function\": \
             \"...\", \"targets\": [], \"spec_items\": [], \"category\": \"boundary\", \
             \"oracle\": \"...\", \"input\": \"...\", \"rationale\": \"...\", \"code\": \
             \"#[test]\\nfn ...() { ... }\"}]}",
        );
    }
    out
}

/// The user message that asks how to fix the function the `failing` tests (name, code, what
/// happened) break, or whether the tests are what is wrong.
pub fn fix_message(
    context: &FunctionContext,
    failing: &[(String, String, String)],
    schema_in_prompt: bool,
) -> String {
    let mut out = context_text(context);
    out.push_str("These tests fail against the function as it is:\n");
    for (name, code, happened) in failing {
        let _ = writeln!(
            out,
            "\n### `{name}`\n```rust\n{}\n```\nWhat happened: {}",
            code.trim(),
            crate::output::one_line(happened, 160)
        );
    }
    out.push_str(
        "\nJudge by the spec items and the documentation whether the function or the tests are \
         wrong. If the function is wrong, give `code`: the whole function rewritten so the tests \
         pass, with the same visibility and signature (its callers must not change) and nothing \
         else changed, and `explanation`: one or two sentences on the cause. If the tests are \
         wrong, give `code`: null and say why in `explanation`.",
    );
    if schema_in_prompt {
        out.push_str(
            "\n\nAnswer with JSON only, no prose: {\"code\": \"pub fn ...\" or null, \
             \"explanation\": \"...\"}",
        );
    }
    out
}

/// What a model is shown of one function, whatever it is asked.
fn context_text(context: &FunctionContext) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Function under test: `{}` ({})\n",
        context.path, context.location
    );
    let _ = writeln!(out, "```rust\n{}\n```\n", context.numbered_source);
    if !context.sites.is_empty() {
        out.push_str("Decision sites (id, kind, line, code):\n");
        for (id, kind, line, text, specified) in &context.sites {
            let mark = if *specified {
                ""
            } else {
                "  [no spec item covers this]"
            };
            let _ = writeln!(
                out,
                "- {id} ({kind}, line {line}): `{}`{mark}",
                crate::output::one_line(text, 160)
            );
        }
        out.push('\n');
    }
    if context.spec_items.is_empty() {
        out.push_str("No spec item is about this function: test what its documentation and \
                      signature promise, and that it never panics on any input its types allow.\n\n");
    } else {
        out.push_str("Spec items about it:\n");
        for (id, text) in &context.spec_items {
            let _ = writeln!(out, "- {id}: {}", crate::output::one_line(text, 160));
        }
        out.push('\n');
    }
    if !context.types.is_empty() {
        out.push_str("The crate's types it uses:\n```rust\n");
        for definition in &context.types {
            out.push_str(definition.trim_end());
            out.push('\n');
        }
        out.push_str("```\n\n");
    }
    if context.dependencies.is_empty() {
        out.push_str("Tests may use std and this crate only.\n\n");
    } else {
        let _ = writeln!(
            out,
            "Tests may use std, this crate, and these crates: {}.\n",
            context.dependencies.join(", ")
        );
    }
    if !context.existing_tests.is_empty() {
        out.push_str("The crate's own tests that use it (do not repeat them):\n");
        for test in &context.existing_tests {
            let _ = writeln!(out, "- {test}");
        }
        out.push('\n');
    }
    if !context.ran_tests.is_empty() {
        out.push_str(
            "Generated tests already ran against it, with what they found (do not repeat them \
             or their findings; aim where they found nothing):\n",
        );
        for test in &context.ran_tests {
            let _ = writeln!(out, "- {test}");
        }
        out.push('\n');
    }
    if !context.unreached_sites.is_empty() {
        out.push_str(
            "No test's run has reached these sites of it yet (by hit counters on each site): \
             write tests whose inputs take these branches, returns and panics:\n",
        );
        for site in &context.unreached_sites {
            let _ = writeln!(out, "- {site}");
        }
        out.push('\n');
    }
    out
}

/// The user message that asks for broken tests again: the function's context, then each
/// test with what the compiler said of it.
pub fn repair_message(
    context: &FunctionContext,
    broken: &[(String, String, Vec<String>)],
    schema_in_prompt: bool,
) -> String {
    let mut out = user_message(context, broken.len(), schema_in_prompt);
    out.push_str(
        "\n\nThese tests you wrote do not compile. Return them fixed, under the same names, \
         testing the same thing; drop none.\n",
    );
    for (name, code, errors) in broken {
        let _ = writeln!(
            out,
            "\n### `{name}`\n```rust\n{}\n```\nCompiler errors:",
            code.trim()
        );
        for error in errors.iter().take(3) {
            let _ = writeln!(out, "```\n{}\n```", error.trim());
        }
    }
    out
}

#[cfg(test)]
mod test {
    use super::*;

    fn context() -> FunctionContext {
        FunctionContext {
            path: "ledger::split_evenly".into(),
            location: "src/lib.rs:60".into(),
            numbered_source: "   60 | pub fn split_evenly(total: i64, parts: u32) -> Vec<i64> {"
                .into(),
            sites: vec![
                (
                    "ledger::split_evenly#panic1".into(),
                    "panic".into(),
                    64,
                    "total / parts as i64".into(),
                    false,
                ),
                (
                    "ledger::split_evenly#if1".into(),
                    "if".into(),
                    67,
                    "i < rem".into(),
                    true,
                ),
            ],
            spec_items: vec![("AC5".into(), "shares differ by at most one cent".into())],
            existing_tests: vec!["splits_a_dollar (src/lib.rs)".into()],
            ran_tests: vec![
                "split_evenly_total_v_minus_1_parts_v0_does_not_panic: panicked (attempt to divide by zero)".into(),
            ],
            unreached_sites: vec!["line 67 (if): i < rem".into()],
            types: vec!["pub struct Cents(pub i64);".into()],
            dependencies: vec!["serde_json".into()],
        }
    }

    #[test]
    fn a_repair_message_carries_each_test_and_its_errors() {
        let text = repair_message(
            &context(),
            &[(
                "t1".into(),
                "#[test]\nfn t1() { split_evenly(\"x\", 0); }".into(),
                vec!["error[E0308]: mismatched types".into()],
            )],
            false,
        );
        assert!(text.contains("do not compile"), "{text}");
        assert!(text.contains("### `t1`"), "{text}");
        assert!(text.contains("error[E0308]: mismatched types"), "{text}");
        assert!(text.contains("Write 1 tests."), "{text}");
    }

    #[test]
    fn the_message_carries_sites_items_tests_and_the_contract() {
        let text = user_message(&context(), 8, false);
        assert!(
            text.contains("`ledger::split_evenly` (src/lib.rs:60)"),
            "{text}"
        );
        assert!(text.contains("- ledger::split_evenly#panic1 (panic, line 64): `total / parts as i64`  [no spec item covers this]"), "{text}");
        assert!(
            !text.contains("#if1 (if, line 67): `i < rem`  [no spec"),
            "{text}"
        );
        assert!(text.contains("- AC5: shares differ"), "{text}");
        assert!(
            text.contains(
                "own tests that use it (do not repeat them):\n- splits_a_dollar (src/lib.rs)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("with what they found (do not repeat them or their findings; aim where they found nothing):\n- split_evenly_total_v_minus_1_parts_v0_does_not_panic: panicked (attempt"),
            "{text}"
        );
        assert!(
            text.contains("write tests whose inputs take these branches, returns and panics:\n- line 67 (if): i < rem\n"),
            "{text}"
        );
        assert!(text.contains("Write 8 tests."), "{text}");
        assert!(text.contains("pub struct Cents(pub i64);"), "{text}");
        assert!(text.contains("these crates: serde_json."), "{text}");
        assert!(!text.contains("Answer with JSON only"));
        assert!(user_message(&context(), 8, true).contains("Answer with JSON only"));
    }

    #[test]
    fn a_fix_message_carries_the_failing_tests_and_the_choice() {
        let failing = [(
            "split_by_zero".to_owned(),
            "#[test]\nfn split_by_zero() { split_evenly(1, 0); }".to_owned(),
            "panicked: attempt to divide by zero\nnote: run with RUST_BACKTRACE".to_owned(),
        )];
        let text = fix_message(&context(), &failing, true);
        assert!(
            text.contains("Function under test: `ledger::split_evenly`"),
            "{text}"
        );
        assert!(
            text.contains("### `split_by_zero`\n```rust\n#[test]"),
            "{text}"
        );
        assert!(
            text.contains("What happened: panicked: attempt to divide by zero note: run"),
            "{text}"
        );
        assert!(text.contains("same visibility and signature"), "{text}");
        assert!(text.contains("`code`: null"), "{text}");
        assert!(text.contains("{\"code\": \"pub fn ...\" or null"), "{text}");
        assert!(!text.contains("Write "), "{text}");
    }
}
