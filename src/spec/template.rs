//! The spec template `cargo dualtrack init` writes: a `Target:` line naming the crate's public
//! functions, the list of them in a comment, and the sections `score` and `review` read left
//! empty, an example of each in a comment.

use std::fmt::Write as _;

/// The spec template: a `Target:` line, the public functions in a comment, and the empty
/// sections with an example of each in a comment.
pub fn spec_template(name: &str, public: &[&crate::analyze::Function]) -> String {
    let mut out = format!("# Feature: {name}\n\n");
    out.push_str(
        "<!-- Written by `cargo dualtrack init`. Say what the code promises: `cargo dualtrack \
         score` links\n     every item below to the branches, guards and panics of the code, \
         and `cargo dualtrack review`\n     attacks what no item covers. Narrow `Target:` to \
         the functions this feature is about. -->\n\n",
    );
    // By path, so that each names one function: a method name alone (`fmt`, `from`, `next`)
    // would match every type's. Trait impls' methods are listed below but not targeted.
    let targets: Vec<String> = public
        .iter()
        .filter(|f| !f.path.contains('<'))
        .map(|f| format!("`{}`", f.path))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !targets.is_empty() {
        let _ = writeln!(out, "Target: {}\n", targets.join(", "));
    }
    if !public.is_empty() {
        out.push_str("<!-- The public functions:\n");
        for function in public {
            let _ = writeln!(
                out,
                "     {}  ({}:{})",
                function.path, function.file, function.line
            );
        }
        out.push_str("-->\n\n");
    }
    out.push_str(
        "## Acceptance criteria\n\
         <!-- - [ ] AC1: `parse` rejects empty input with `Error::Empty`. -->\n\n\
         ## Contracts\n\
         <!-- | call | result |\n     |---|---|\n     | `parse(\"12\")` | `Ok(12)` | -->\n\n\
         ## Known edge cases\n\
         <!-- - `parse` with a value past `i64::MAX` returns `Error::Overflow`. -->\n\n\
         ## Out of scope\n\
         <!-- - Locale-specific formats. -->\n",
    );
    out
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn the_spec_template_has_no_items_and_says_which_sections_to_fill() {
        let function: crate::analyze::Function = serde_json::from_value(serde_json::json!({
            "path": "c::money::parse", "package": "c", "file": "src/money.rs", "line": 3,
            "end_line": 9, "visibility": "pub", "sites": []
        }))
        .unwrap();
        let text = spec_template("c", &[&function]);
        assert!(text.contains("Target: `c::money::parse`\n"), "{text}");
        assert!(text.contains("c::money::parse  (src/money.rs:3)"), "{text}");
        let (spec, warnings) = crate::spec::parse::parse_spec(&text, "SPEC.md");
        assert!(spec.items.is_empty(), "{:?}", spec.items);
        // What `score` says until the sections are filled in: nothing else.
        let said: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            said,
            [
                "the Acceptance criteria section has no items",
                "the Contracts section has no items",
                "the Edge cases section has no items",
                "the Out of scope section has no items"
            ]
        );
    }
}
