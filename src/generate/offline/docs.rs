//! What a function's doc comment promises about its inputs: that it panics on some (a
//! `# Panics` section, "panics if ..."), or that its parameters must meet a condition ("`offset`
//! must be on a char boundary"). A panic on such input is the caller's fault, not a finding.

/// The doc comment's text, lines joined.
pub fn doc_text(attrs: &[syn::Attribute]) -> String {
    let mut text = String::new();
    for attr in attrs {
        let syn::Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        if !nv.path.is_ident("doc") {
            continue;
        }
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(line),
            ..
        }) = &nv.value
        {
            text.push_str(&line.value());
            text.push('\n');
        }
    }
    text
}

/// Most example strings taken from one doc comment, and the longest.
const MAX_EXAMPLES: usize = 6;
const MAX_EXAMPLE_CHARS: usize = 80;

/// The string literals of a doc comment's code examples: inputs the author calls valid,
/// whose near misses (cut short, a multi-byte character after) are where parsers break.
pub fn example_strings(doc: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut in_code = false;
    let mut code = String::new();
    for line in doc.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            if in_code {
                collect_strings(&code, &mut out);
                code.clear();
            }
            // A fence that opens a non-Rust block (`text`, `json`) is prose.
            let info = trimmed.trim_start_matches('`').trim();
            in_code = !in_code
                && (info.is_empty()
                    || info.split(',').any(|w| {
                        matches!(
                            w.trim(),
                            "rust"
                                | "no_run"
                                | "should_panic"
                                | "ignore"
                                | "edition2018"
                                | "edition2021"
                        )
                    }));
            continue;
        }
        if in_code {
            // `# use x;` lines are part of the example too.
            code.push_str(trimmed.strip_prefix("# ").unwrap_or(trimmed));
            code.push('\n');
        }
    }
    out.truncate(MAX_EXAMPLES);
    out
}

fn collect_strings(code: &str, out: &mut Vec<String>) {
    // Behind the nesting check: a doc comment is text the tool did not write.
    if let Ok(tokens) = crate::syntax::token_stream(code) {
        strings_in(tokens, out);
    }
}

/// String literals in source order, through groups (doc examples are shallow).
fn strings_in(tokens: proc_macro2::TokenStream, out: &mut Vec<String>) {
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Group(group) => strings_in(group.stream(), out),
            proc_macro2::TokenTree::Literal(literal) => {
                let Ok(syn::Lit::Str(text)) = syn::parse_str::<syn::Lit>(&literal.to_string())
                else {
                    continue;
                };
                let text = text.value();
                if !text.is_empty()
                    && text.chars().count() <= MAX_EXAMPLE_CHARS
                    && !out.contains(&text)
                {
                    out.push(text);
                }
            }
            _ => {}
        }
    }
}

/// Words that deny a panic: "never panics", "does not panic".
const DENIALS: &[&str] = &[
    "never panic",
    "not panic",
    "n't panic",
    "no panic",
    "without panic",
    "not to panic",
    "instead of panic",
    "rather than panic",
];

/// A sentence that says something panics, not that it never does.
pub fn says_it_panics(sentence: &str) -> bool {
    let lower = sentence.to_lowercase();
    lower.contains("panic") && !DENIALS.iter().any(|d| lower.contains(d)) && !negated(&lower)
}

/// Words that, a few words before "panic", deny it: "no input makes it panic", "nothing
/// here can panic".
const NEGATORS: &[&str] = &[
    "no",
    "never",
    "not",
    "without",
    "nothing",
    "none",
    "cannot",
    "can't",
    "won't",
    "doesn't",
    "don't",
    "mustn't",
    "shouldn't",
    "neither",
    "nor",
];

/// How many words before "panic" a negator still denies it.
const NEGATION_REACH: usize = 4;

/// Whether every "panic" in `lower` has a negator shortly before it.
fn negated(lower: &str) -> bool {
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let mut any = false;
    for (at, word) in words.iter().enumerate() {
        if word.starts_with("panic") {
            any = true;
            let before = &words[at.saturating_sub(NEGATION_REACH)..at];
            if !before.iter().any(|w| NEGATORS.contains(w)) {
                return false;
            }
        }
    }
    any
}

/// A `# Panics` section, or a sentence saying when it panics.
pub fn documents_panics(doc: &str) -> bool {
    let heading = doc.lines().any(|line| {
        let line = line.trim();
        line.starts_with('#')
            && line
                .trim_start_matches('#')
                .trim()
                .eq_ignore_ascii_case("panics")
    });
    heading || sentences(doc).any(says_it_panics)
}

/// A sentence that says a parameter must (or should) meet a condition.
pub fn states_preconditions(doc: &str, params: &[String]) -> bool {
    sentences(doc).any(|sentence| {
        let lower = sentence.to_lowercase();
        let demands = [
            "must",
            "should",
            "is required to",
            "has to",
            "have to",
            "expected to",
        ]
        .iter()
        .any(|w| contains_word(&lower, w));
        demands
            && params
                .iter()
                .filter(|p| p.as_str() != "self")
                .any(|p| contains_word(&lower, &p.to_lowercase()))
    })
}

/// Whether every sentence of a doc that mentions a panic is about allocation or capacity
/// (`panics if the new capacity exceeds isize::MAX bytes`): the usual note on any growable
/// collection, not a condition a test's few values can meet.
pub fn only_allocation_panics(doc: &str) -> bool {
    let words = ["capacity", "isize::max", "usize::max", "alloc", "memory"];
    // What the doc says about panics: sentences naming them and the `# Panics` section.
    let mut said: Vec<String> = Vec::new();
    let mut in_section = false;
    for line in doc.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            in_section = trimmed.to_lowercase().contains("panic");
            continue;
        }
        if in_section && !trimmed.is_empty() {
            said.push(trimmed.to_lowercase());
        }
        for sentence in trimmed.split(". ") {
            if sentence.to_lowercase().contains("panic") {
                said.push(sentence.to_lowercase());
            }
        }
    }
    !said.is_empty() && said.iter().all(|s| words.iter().any(|w| s.contains(w)))
}

/// A doc comment that states a condition: "must", "needs to", "at least", "non-empty".
pub fn states_condition(attrs: &[syn::Attribute]) -> bool {
    let doc = doc_text(attrs).to_lowercase();
    [
        "must",
        "needs to",
        "need to",
        "at least",
        "at most",
        "non-empty",
        "nonempty",
        "should",
        "invariant",
        "never be",
    ]
    .iter()
    .any(|w| doc.contains(w))
}

/// Prose sentences, code blocks left out.
fn sentences(doc: &str) -> impl Iterator<Item = &str> {
    let mut in_code = false;
    doc.lines()
        .filter(move |line| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                return false;
            }
            !in_code
        })
        .flat_map(|line| line.split(". "))
}

/// `word` in `text` between non-identifier characters.
fn contains_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod test {
    use super::*;

    fn doc(source: &str) -> String {
        let item: syn::ItemFn = syn::parse_str(&format!("{source}\nfn f() {{}}")).unwrap();
        doc_text(&item.attrs)
    }

    #[test]
    fn examples_give_their_string_literals() {
        let doc = "Parses.\n\n```\nlet d: Date = \"2015-09-18\".parse().unwrap();\nassert_eq!(f(\"a\", 1), Some(\"b\"));\n```\n\n```text\n\"not code\"\n```\n";
        assert_eq!(example_strings(doc), ["2015-09-18", "a", "b"]);
        assert!(example_strings("No examples, just \"quoted\" prose.").is_empty());
    }

    #[test]
    fn panics_sections_and_sentences() {
        assert!(documents_panics(&doc(
            "/// Splits.\n///\n/// # Panics\n///\n/// When empty."
        )));
        assert!(documents_panics(&doc(
            "/// This function will panic if `n` is zero."
        )));
        assert!(!documents_panics(&doc(
            "/// Never panics, whatever the input."
        )));
        assert!(!says_it_panics(
            "Untrusted bytes: no input makes one panic."
        ));
        assert!(!says_it_panics("Nothing here can panic."));
        // A denial elsewhere in the sentence does not hide a panic it states.
        assert!(says_it_panics(
            "It is not cheap to call, and panics if `n` is zero."
        ));
        assert!(!documents_panics(&doc(
            "/// ```\n/// assert!(std::panic::catch_unwind(|| f()).is_ok());\n/// ```"
        )));
    }

    #[test]
    fn allocation_notes_are_not_panics_to_avoid_but_bounds_are() {
        assert!(only_allocation_panics(
            "Adds one.\n\n# Panics\n\nPanics if the new capacity exceeds `isize::MAX` bytes.\n"
        ));
        assert!(!only_allocation_panics(
            "Removes one.\n\n## Panics\n* If the index is out of bounds.\n"
        ));
        assert!(!only_allocation_panics("Adds one."));
    }

    #[test]
    fn preconditions_name_a_parameter() {
        let params = ["self".to_owned(), "offset".to_owned(), "chunk".to_owned()];
        assert!(states_preconditions(
            &doc("/// The `offset` parameter must be on a codepoint boundary."),
            &params
        ));
        assert!(states_preconditions(
            &doc("/// If the string is nonempty, the chunk must be nonempty."),
            &params
        ));
        assert!(!states_preconditions(
            &doc("/// The result must be freed."),
            &params
        ));
        assert!(!states_preconditions(
            &doc("/// Offsets are in bytes."),
            &params
        ));
        assert!(!states_preconditions(
            &doc("/// The chunked data mustard."),
            &params
        ));
    }
}
