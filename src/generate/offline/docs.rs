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

/// Words that deny a panic: "never panics", "does not panic".
const DENIALS: &[&str] = &[
    "never panic",
    "not panic",
    "n't panic",
    "no panic",
    "without panic",
    "instead of panic",
    "rather than panic",
];

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
    heading
        || sentences(doc).any(|sentence| {
            let lower = sentence.to_lowercase();
            lower.contains("panic") && !DENIALS.iter().any(|d| lower.contains(d))
        })
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
        assert!(!documents_panics(&doc(
            "/// ```\n/// assert!(std::panic::catch_unwind(|| f()).is_ok());\n/// ```"
        )));
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
