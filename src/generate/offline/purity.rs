//! Which functions may give different results for the same input: their body, or a function
//! they call (a few calls deep), reads a clock, randomness, the environment, I/O, a thread or
//! a `static` (`thread_local!` generators included). Those get no determinism test.

use std::collections::BTreeSet;

use quote::ToTokens;

use super::index::CrateIndex;
use crate::analyze::Function;
use crate::analyze::resolve::NameIndex;

/// Identifiers that mean a result may change between two calls with the same input.
const IMPURE: &[&str] = &[
    "Instant",
    "SystemTime",
    "now",
    "elapsed",
    "rand",
    "random",
    "thread_rng",
    "getrandom",
    "RandomState",
    "env",
    "var",
    "vars",
    "read",
    "read_to_string",
    "File",
    "fs",
    "stdin",
    "Uuid",
    "fetch_add",
    "fetch_sub",
    "thread",
    "spawn",
    "channel",
    "TcpStream",
    "UdpSocket",
    "Command",
    "process",
];

/// How many calls deep impurity is followed.
const DEPTH: usize = 4;

/// `impure[i]` for `functions[i]`.
pub fn impure_functions(functions: &[Function], index: &CrateIndex) -> Vec<bool> {
    let statics = index.statics();
    let mut impure: Vec<bool> = functions
        .iter()
        .map(|f| {
            index
                .function_of(f)
                .is_some_and(|syntax| reads_impure(&syntax.block, statics))
        })
        .collect();
    let names = NameIndex::new(functions);
    let callees: Vec<Vec<usize>> = functions
        .iter()
        .enumerate()
        .map(|(i, f)| {
            f.calls
                .iter()
                .flat_map(|call| names.resolve_call(call, i))
                .collect()
        })
        .collect();
    for _ in 0..DEPTH {
        let before = impure.clone();
        for (i, calls) in callees.iter().enumerate() {
            if !impure[i] && calls.iter().any(|&j| before[j]) {
                impure[i] = true;
            }
        }
        if impure == before {
            break;
        }
    }
    impure
}

/// Whether a body names an impure identifier or one of the crate's statics (identifiers only:
/// words inside string literals do not count).
fn reads_impure(block: &syn::Block, statics: &BTreeSet<String>) -> bool {
    let mut idents = Vec::new();
    let tokens = block.to_token_stream();
    super::mined::collect_idents(tokens.clone(), &mut idents);
    idents
        .iter()
        .any(|ident| IMPURE.contains(&ident.as_str()) || statics.contains(ident))
        || prints_addresses(tokens)
}

/// A format string with `{:p}` (or `{name:p}`, `{:#p}`): what it prints is where a value
/// happens to live, which differs between two calls.
fn prints_addresses(tokens: proc_macro2::TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        proc_macro2::TokenTree::Literal(literal) => {
            let text = literal.to_string();
            text.starts_with('"')
                && text
                    .split('{')
                    .skip(1)
                    .filter_map(|part| part.split('}').next())
                    .any(|spec| spec.rsplit_once(':').is_some_and(|(_, f)| f.ends_with('p')))
        }
        proc_macro2::TokenTree::Group(group) => prints_addresses(group.stream()),
        _ => false,
    })
}

#[cfg(test)]
mod test {
    use super::*;

    fn body(text: &str) -> syn::Block {
        syn::parse_str(text).unwrap()
    }

    #[test]
    fn identifiers_count_and_string_words_do_not() {
        let none = BTreeSet::new();
        assert!(reads_impure(&body("{ std::time::Instant::now() }"), &none));
        assert!(!reads_impure(
            &body("{ x.expect(\"failed to read the file\") }"),
            &none
        ));
        let statics = BTreeSet::from(["RNG".to_owned()]);
        assert!(reads_impure(&body("{ RNG.with(|r| r.next()) }"), &statics));
        assert!(!reads_impure(&body("{ a + b }"), &statics));
        assert!(reads_impure(&body("{ format!(\"at {:p}\", self) }"), &none));
        assert!(reads_impure(&body("{ write!(f, \"{ptr:#p}\") }"), &none));
        assert!(!reads_impure(
            &body("{ format!(\"{:?} {x:>8}\", a) }"),
            &none
        ));
    }
}
