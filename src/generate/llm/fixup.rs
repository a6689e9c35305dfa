//! Repairs the tool makes itself, so no tokens are spent on them: a test that names the crate
//! by its own name (`ledger::split`, which only an integration test can) gets `crate::`, and a
//! test that did not build for want of an import gets the `use` rustc suggested
//! (`scratch::build` reads them).

use proc_macro2::{Group, Ident, Spacing, TokenStream, TokenTree};
use quote::ToTokens;

/// `item` with every path that starts with the crate's own name (`ledger::split`, `use
/// ledger::Cents`, also inside macros) starting with `crate` instead; `None` when it has none.
pub fn with_crate_paths(item: &syn::ItemFn, crate_name: &str) -> Option<syn::ItemFn> {
    syn::parse2(with_root_renamed(
        item.to_token_stream(),
        crate_name,
        "crate",
    )?)
    .ok()
}

/// `tokens` with every path that starts with `from` (`from::x`, not `a::from::x` nor
/// `s.from`, also inside macros) starting with `to` instead; `None` when none does. An
/// integration test names the crate where a unit test says `crate`, and back.
pub fn with_root_renamed(tokens: TokenStream, from: &str, to: &str) -> Option<TokenStream> {
    let mut changed = false;
    let tokens = rewrite(tokens, from, to, &mut changed);
    changed.then_some(tokens)
}

fn rewrite(tokens: TokenStream, from: &str, to: &str, changed: &mut bool) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let is_colon =
        |tree: Option<&TokenTree>| matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == ':');
    let mut out = Vec::with_capacity(trees.len());
    for (index, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(group) => {
                let inner = rewrite(group.stream(), from, to, changed);
                let mut rebuilt = Group::new(group.delimiter(), inner);
                rebuilt.set_span(group.span());
                out.push(TokenTree::Group(rebuilt));
            }
            TokenTree::Ident(ident)
                if ident == from
                    // The first segment of a path: `::` follows, and no `::` or `.` comes before.
                    && matches!(trees.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
                    && is_colon(trees.get(index + 2))
                    && !(index > 0 && is_colon(trees.get(index - 1)))
                    && !matches!(index.checked_sub(1).and_then(|i| trees.get(i)), Some(TokenTree::Punct(p)) if p.as_char() == '.') =>
            {
                *changed = true;
                out.push(TokenTree::Ident(Ident::new(to, ident.span())));
            }
            other => out.push(other.clone()),
        }
    }
    out.into_iter().collect()
}

/// `item` with `imports` at the top of its body, those it lacks only; `None` when it lacks
/// none (then the import was not what it needed).
pub fn with_imports(item: &syn::ItemFn, imports: &[String]) -> Option<syn::ItemFn> {
    let present: Vec<String> = item
        .block
        .stmts
        .iter()
        .filter_map(|stmt| match stmt {
            syn::Stmt::Item(syn::Item::Use(used)) => Some(normalised(used)),
            _ => None,
        })
        .collect();
    let mut fixed = item.clone();
    let mut added = 0;
    for import in imports {
        let Ok(used) = crate::syntax::parse_str::<syn::ItemUse>(import) else {
            continue;
        };
        if present.contains(&normalised(&used)) {
            continue;
        }
        fixed
            .block
            .stmts
            .insert(added, syn::Stmt::Item(syn::Item::Use(used)));
        added += 1;
    }
    (added > 0).then_some(fixed)
}

fn normalised(used: &syn::ItemUse) -> String {
    used.tree.to_token_stream().to_string()
}

#[cfg(test)]
mod test {
    use super::*;

    fn item(code: &str) -> syn::ItemFn {
        syn::parse_str(code).unwrap()
    }

    fn text(item: &syn::ItemFn) -> String {
        item.to_token_stream().to_string()
    }

    #[test]
    fn the_crate_s_own_name_becomes_crate_everywhere() {
        let test = item(
            "#[test] fn t() { use ledger::Cents; let x = ledger::money::split(1, 2); \
             assert_eq!(ledger::total(&x), ledger::Cents(1)); }",
        );
        let fixed = text(&with_crate_paths(&test, "ledger").unwrap());
        assert!(!fixed.contains("ledger"), "{fixed}");
        assert!(fixed.contains("use crate :: Cents"), "{fixed}");
        assert!(fixed.contains("assert_eq ! (crate :: total"), "{fixed}");
    }

    #[test]
    fn other_uses_of_the_name_stay() {
        let test = item(
            "#[test] fn t() { let ledger = 1; let y = std::ledger::x; let z = s.ledger; \
             let w = ledger + 1; }",
        );
        assert!(with_crate_paths(&test, "ledger").is_none());
    }

    #[test]
    fn crate_becomes_the_crate_s_name_for_an_integration_test() {
        let test =
            item("#[test] fn t() { let x = crate::money::split(1); assert!(crate::ok(&x)); }");
        let renamed = with_root_renamed(test.to_token_stream(), "crate", "ledger").unwrap();
        let shown = renamed.to_string();
        assert!(!shown.contains("crate"), "{shown}");
        assert!(shown.contains("ledger :: money :: split"), "{shown}");
        assert!(with_root_renamed(renamed, "crate", "ledger").is_none());
    }

    #[test]
    fn imports_go_atop_the_body_once() {
        let test = item("#[test] fn t() { use std::io::Error; let _ = parse_amount(\"1\"); }");
        let imports = [
            "use crate::money::parse_amount;".to_owned(),
            "use std::io::Error;".to_owned(),
        ];
        let fixed = with_imports(&test, &imports).unwrap();
        let shown = text(&fixed);
        assert!(
            shown.starts_with("# [test] fn t () { use crate :: money :: parse_amount ;"),
            "{shown}"
        );
        assert_eq!(shown.matches("use std :: io :: Error").count(), 1);
        assert!(with_imports(&fixed, &imports).is_none());
    }
}
