//! The one `macro_rules!` shape the analyzer expands itself: a list of types or names, each
//! given the same items (`impl_digits!(u8 u16 i64)` writing `impl Digits for $t { .. }` per
//! type). Nothing on stable expands macros for a tool, and impls written this way are where
//! integer edge cases hide (`abs()` on `i64::MIN`), so this common pattern is substituted by
//! hand; any other macro is left alone.

use std::collections::HashMap;

use proc_macro2::{Delimiter, Group, Ident, Spacing, TokenStream, TokenTree};

/// A `macro_rules!` definition of the list shape.
#[derive(Debug, Clone)]
pub struct ListMacro {
    /// The metavariable (`t` of `$t:ty`).
    var: String,
    /// What separates the list's entries (`,`), or nothing (whitespace).
    separator: Option<char>,
    /// The transcriber's tokens, with the repetition to be repeated.
    transcriber: TokenStream,
}

/// Most entries one invocation is expanded for.
const MAX_ENTRIES: usize = 64;

/// The list macros defined in a file, by name, in the order they are met (a `macro_rules!`
/// is usable after its definition).
#[derive(Debug, Default, Clone)]
pub struct ListMacros(HashMap<String, ListMacro>);

impl ListMacros {
    /// Note `macro_rules! name { .. }` if it has the list shape.
    pub fn define(&mut self, name: &str, body: &TokenStream) {
        if let Some(definition) = list_macro(body) {
            self.0.insert(name.to_owned(), definition);
        }
    }

    /// The items `mac` writes, when it invokes a list macro defined here by its plain name.
    pub fn expand(&self, mac: &syn::Macro) -> Option<TokenStream> {
        let name = mac.path.get_ident()?.to_string();
        let definition = self.0.get(&name)?;
        let entries = split_entries(mac.tokens.clone(), definition.separator)?;
        transcribe(&definition.transcriber, &definition.var, &entries)
    }
}

/// The single rule `( $( $var:frag ),* $(,)? ) => { .. $( .. $var .. )* .. }`, when `body`
/// is that.
fn list_macro(body: &TokenStream) -> Option<ListMacro> {
    let tokens: Vec<TokenTree> = body.clone().into_iter().collect();
    // One rule: matcher, `=>`, transcriber, an optional `;`.
    let [
        TokenTree::Group(matcher),
        TokenTree::Punct(eq),
        TokenTree::Punct(gt),
        TokenTree::Group(transcriber),
        rest @ ..,
    ] = &tokens[..]
    else {
        return None;
    };
    if eq.as_char() != '=' || gt.as_char() != '>' {
        return None;
    }
    if !rest
        .iter()
        .all(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
    {
        return None;
    }
    let matcher: Vec<TokenTree> = matcher.stream().into_iter().collect();
    let [
        TokenTree::Punct(dollar),
        TokenTree::Group(repeated),
        after @ ..,
    ] = &matcher[..]
    else {
        return None;
    };
    if dollar.as_char() != '$' || repeated.delimiter() != Delimiter::Parenthesis {
        return None;
    }
    let inner: Vec<TokenTree> = repeated.stream().into_iter().collect();
    let [
        TokenTree::Punct(d),
        TokenTree::Ident(var),
        TokenTree::Punct(colon),
        TokenTree::Ident(fragment),
    ] = &inner[..]
    else {
        return None;
    };
    if d.as_char() != '$'
        || colon.as_char() != ':'
        || !["ty", "ident", "path", "tt"].contains(&fragment.to_string().as_str())
    {
        return None;
    }
    // `*`, or `,*`, then an optional trailing `$(,)?`.
    let (separator, tail) = match after {
        [TokenTree::Punct(op), tail @ ..] if matches!(op.as_char(), '*' | '+') => (None, tail),
        [TokenTree::Punct(sep), TokenTree::Punct(op), tail @ ..]
            if matches!(op.as_char(), '*' | '+') && matches!(sep.as_char(), ',' | ';') =>
        {
            (Some(sep.as_char()), tail)
        }
        _ => return None,
    };
    let trailing_ok = match tail {
        [] => true,
        [
            TokenTree::Punct(d),
            TokenTree::Group(g),
            TokenTree::Punct(q),
        ] => d.as_char() == '$' && q.as_char() == '?' && g.stream().into_iter().count() == 1,
        _ => false,
    };
    if !trailing_ok {
        return None;
    }
    Some(ListMacro {
        var: var.to_string(),
        separator,
        transcriber: transcriber.stream(),
    })
}

/// The invocation's entries: split at top-level separators, or one per token tree when the
/// list has none (`u8 u16 i64`).
fn split_entries(tokens: TokenStream, separator: Option<char>) -> Option<Vec<TokenStream>> {
    let mut entries: Vec<TokenStream> = Vec::new();
    match separator {
        None => {
            for tree in tokens {
                if !matches!(tree, TokenTree::Ident(_)) {
                    return None;
                }
                entries.push(TokenStream::from(tree));
            }
        }
        Some(sep) => {
            let mut current = TokenStream::new();
            for tree in tokens {
                match &tree {
                    TokenTree::Punct(p) if p.as_char() == sep => {
                        if !current.is_empty() {
                            entries.push(std::mem::take(&mut current));
                        }
                    }
                    _ => current.extend([tree]),
                }
            }
            if !current.is_empty() {
                entries.push(current);
            }
        }
    }
    (!entries.is_empty() && entries.len() <= MAX_ENTRIES).then_some(entries)
}

/// The transcriber with its one repetition written once per entry and `$crate` as `crate`;
/// `None` for anything else it holds (another metavariable, a nested repetition).
fn transcribe(
    transcriber: &TokenStream,
    var: &str,
    entries: &[TokenStream],
) -> Option<TokenStream> {
    let tokens: Vec<TokenTree> = transcriber.clone().into_iter().collect();
    let mut out = TokenStream::new();
    let mut repeated = false;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Punct(p) if p.as_char() == '$' => match tokens.get(i + 1) {
                Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis => {
                    if repeated {
                        return None;
                    }
                    repeated = true;
                    // The repetition operator, after an optional separator.
                    let mut j = i + 2;
                    if matches!(tokens.get(j), Some(TokenTree::Punct(p)) if !matches!(p.as_char(), '*' | '+'))
                    {
                        j += 1;
                    }
                    if !matches!(tokens.get(j), Some(TokenTree::Punct(p)) if matches!(p.as_char(), '*' | '+'))
                    {
                        return None;
                    }
                    for entry in entries {
                        out.extend(substitute(&group.stream(), var, Some(entry))?);
                    }
                    i = j + 1;
                    continue;
                }
                Some(TokenTree::Ident(ident)) if ident == "crate" => {
                    out.extend([TokenTree::Ident(Ident::new("crate", ident.span()))]);
                    i += 2;
                    continue;
                }
                _ => return None,
            },
            TokenTree::Group(group) => {
                let inner = transcribe(&group.stream(), var, entries)?;
                let mut copy = Group::new(group.delimiter(), inner);
                copy.set_span(group.span());
                out.extend([TokenTree::Group(copy)]);
            }
            other => out.extend([other.clone()]),
        }
        i += 1;
    }
    Some(out)
}

/// `tokens` with `$var` replaced by `entry` (and `$crate` by `crate`), through groups;
/// `None` for another metavariable or a repetition.
fn substitute(tokens: &TokenStream, var: &str, entry: Option<&TokenStream>) -> Option<TokenStream> {
    let tokens: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let mut out = TokenStream::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Punct(p) if p.as_char() == '$' && p.spacing() == Spacing::Alone => {
                match tokens.get(i + 1) {
                    Some(TokenTree::Ident(ident)) if ident == var => {
                        // A type stays one type where it lands (`&$t` with `[u8]`).
                        out.extend([TokenTree::Group(Group::new(
                            Delimiter::None,
                            entry?.clone(),
                        ))]);
                    }
                    Some(TokenTree::Ident(ident)) if ident == "crate" => {
                        out.extend([TokenTree::Ident(Ident::new("crate", ident.span()))]);
                    }
                    _ => return None,
                }
                i += 2;
                continue;
            }
            TokenTree::Group(group) => {
                let inner = substitute(&group.stream(), var, entry)?;
                let mut copy = Group::new(group.delimiter(), inner);
                copy.set_span(group.span());
                out.extend([TokenTree::Group(copy)]);
            }
            other => out.extend([other.clone()]),
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod test {
    use super::*;

    fn expanded(definition: &str, invocation: &str) -> Option<String> {
        let def: syn::ItemMacro = syn::parse_str(definition).unwrap();
        let mut macros = ListMacros::default();
        macros.define(&def.ident.unwrap().to_string(), &def.mac.tokens);
        let call: syn::ItemMacro = syn::parse_str(invocation).unwrap();
        let tokens = macros.expand(&call.mac)?;
        let file: syn::File = syn::parse2(tokens).ok()?;
        Some(prettyplease::unparse(&file))
    }

    #[test]
    fn an_impl_list_is_written_once_per_type() {
        let got = expanded(
            "macro_rules! digits { ($($t:ty)*) => {$( impl Digits for $t { fn count(self) -> u32 { self as u32 } } )*}; }",
            "digits!(u8 i64);",
        )
        .unwrap();
        assert!(got.contains("impl Digits for u8"), "{got}");
        assert!(got.contains("impl Digits for i64"), "{got}");
        let separated = expanded(
            "macro_rules! make { ($($t:ident),* $(,)?) => { $( impl $crate::Zero for $t {} )* } }",
            "make!(u16, u32,);",
        )
        .unwrap();
        assert!(
            separated.contains("impl crate::Zero for u16"),
            "{separated}"
        );
        assert!(
            separated.contains("impl crate::Zero for u32"),
            "{separated}"
        );
    }

    #[test]
    fn other_shapes_are_left_alone() {
        // Two metavariables, several rules, a repetition nested in another.
        assert!(
            expanded(
                "macro_rules! m { ($a:ident, $b:ty) => { impl $a for $b {} } }",
                "m!(X, u8);"
            )
            .is_none()
        );
        assert!(expanded("macro_rules! m { () => {}; ($($t:ty)*) => {} }", "m!(u8);").is_none());
        assert!(
            expanded(
                "macro_rules! m { ($($t:ty)*) => { $( impl X for $t { const A: $u = 1; } )* } }",
                "m!(u8);"
            )
            .is_none()
        );
        // Not a list of plain names without a separator.
        assert!(
            expanded(
                "macro_rules! m { ($($t:ty)*) => { $( impl X for $t {} )* } }",
                "m!(Vec<u8>);"
            )
            .is_none()
        );
    }
}
