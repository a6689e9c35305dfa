//! What the spec adds to the offline engine: per function, the literals its items mention, and
//! whether an item names it or says it panics; contract rows as `assert_eq!` tests; items that
//! say a call returns `None`, an error or a given variant as `matches!` assertions.

use std::collections::HashMap;

use super::cases::{Candidate, SpecFacts};
use super::construct::snake;
use super::docs::says_it_panics;
use super::index::{Container, CrateIndex};
use crate::analyze::Function;
use crate::analyze::resolve::resolve_name;
use crate::spec::link::item_targets;
use crate::spec::model::{Section, Spec};
use crate::testfile::TestMeta;

/// Spec facts by function index.
pub fn facts(specs: &[Spec], functions: &[Function]) -> HashMap<usize, SpecFacts> {
    let mut out: HashMap<usize, SpecFacts> = HashMap::new();
    for spec in specs {
        for item in spec.items.iter().filter(|i| i.is_promise()) {
            let targets = item_targets(item, &spec.targets, functions);
            let says_panics = says_it_panics(&item.text);
            for &index in &targets.direct {
                let facts = out.entry(index).or_default();
                facts.named = true;
                facts.says_panics |= says_panics;
                for literal in &item.literals {
                    let pair = (item.id.clone(), literal.clone());
                    if !facts.literals.contains(&pair) {
                        facts.literals.push(pair);
                    }
                }
            }
        }
    }
    out
}

/// The spec's own tests come first when choosing: they are the ones with a known answer.
const SPEC_PRIORITY: usize = 100;

/// Error words: an item with one of these says the call fails.
const ERROR_WORDS: &[&str] = &[
    "error", "err", "errors", "reject", "rejects", "rejected", "fail", "fails", "invalid",
];

/// The tests the spec itself pins down, each for the function its call names; and, for a
/// contract row that cannot become a test that compiles, why (said to the user).
pub fn spec_candidates(
    specs: &[Spec],
    functions: &[Function],
    index: &CrateIndex,
) -> (Vec<(usize, Candidate)>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for spec in specs {
        for item in spec.items.iter().filter(|i| i.is_promise()) {
            if let (Some(call), Some(expected)) = (&item.call, &item.expected) {
                let Some(target) = closest_to_root(resolve_name(call, functions), functions) else {
                    continue;
                };
                let function = &functions[target];
                let syntax = index.function_of(function);
                if let Some(why) = syntax.and_then(|s| receiver_missing(call, s)) {
                    notes.push(format!(
                        "{}:{}: contract row `{call}` is not a test: {why}",
                        item.file, item.line
                    ));
                    continue;
                }
                let comparable = syntax.is_none_or(|s| comparable_result(s, index));
                let body = if comparable {
                    format!(
                        "assert_eq!({call}, {expected}, \"spec {}: `{}` should be `{}`\");",
                        item.id,
                        escape(call),
                        escape(expected)
                    )
                } else if let Some(pattern) = refutable_pattern(expected) {
                    // No `PartialEq` or `Debug` to compare with: the shape of the result.
                    format!(
                        "assert!(matches!({call}, {pattern}), \"spec {}: `{}` should be `{}`\");",
                        item.id,
                        escape(call),
                        escape(expected)
                    )
                } else {
                    notes.push(format!(
                        "{}:{}: contract row `{call}` is not a test: its result cannot be \
                         compared (no `PartialEq` and `Debug`) and `{expected}` is not a pattern",
                        item.file, item.line
                    ));
                    continue;
                };
                out.push((
                    target,
                    Candidate {
                        name: format!("{}_spec_{}", short_name(function), snake(&item.id)),
                        meta: TestMeta {
                            function: function.path.clone(),
                            targets: Vec::new(),
                            spec: vec![item.id.clone()],
                            category: Some("spec_contract".into()),
                            oracle: Some("spec_contract".into()),
                            input: Some(call.clone()),
                        },
                        body,
                        features: vec![format!("spec={}", item.id)],
                        priority: SPEC_PRIORITY,
                        harness: None,
                    },
                ));
                continue;
            }
            if item.section == Section::OutOfScope {
                continue;
            }
            out.extend(variant_candidates(item, &spec.targets, functions, index));
        }
    }
    (out, notes)
}

/// Why the contract call `call` of a method cannot run as written: it names the method as a
/// free function (`sum()`), or calls it on a value the prose sets up (`ledger.balance()`).
fn receiver_missing(call: &str, syntax: &super::index::FnSyntax) -> Option<String> {
    syntax.sig.receiver()?;
    let expr = crate::syntax::parse_str::<syn::Expr>(call).ok()?;
    match expr {
        syn::Expr::Call(_) => Some(format!(
            "`{}` is a method, called here without its receiver; write how the value is made \
             (`Type::new(..).{}(..)`), or leave it to a model engine",
            syntax.sig.ident, syntax.sig.ident
        )),
        syn::Expr::MethodCall(mut method) => {
            while let syn::Expr::MethodCall(inner) = *method.receiver {
                method = inner;
            }
            match *method.receiver {
                syn::Expr::Path(path)
                    if path.path.get_ident().is_some_and(|name| {
                        name.to_string().starts_with(|c: char| c.is_lowercase())
                    }) =>
                {
                    Some(format!(
                        "its receiver `{}` is set up in prose, not in the row; write how it is \
                         made, or leave it to a model engine",
                        quote::ToTokens::to_token_stream(&path)
                    ))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether the result of `syntax` can be compared with `assert_eq!`: every crate type its
/// return type names implements (or derives) `PartialEq` and `Debug`.
fn comparable_result(syntax: &super::index::FnSyntax, index: &CrateIndex) -> bool {
    use syn::visit::Visit;
    struct Names(Vec<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
            self.0.push(segment.ident.to_string());
            syn::visit::visit_path_segment(self, segment);
        }
    }
    let syn::ReturnType::Type(_, ty) = &syntax.sig.output else {
        return true;
    };
    let mut names = Names(Vec::new());
    names.visit_type(ty);
    let own_type = match &syntax.container {
        Container::Inherent { self_ty, .. } | Container::TraitImpl { self_ty, .. } => Some(
            quote::ToTokens::to_token_stream(self_ty)
                .to_string()
                .replace(' ', ""),
        ),
        _ => None,
    };
    names
        .0
        .iter()
        .map(|name| match (name.as_str(), &own_type) {
            ("Self", Some(own)) => own.clone(),
            _ => name.clone(),
        })
        .filter(|name| index.type_def(name, &syntax.module).is_some())
        .all(|name: String| {
            index.implements(&name, &syntax.module, "PartialEq")
                && index.implements(&name, &syntax.module, "Debug")
        })
}

/// `expected` as a pattern that can fail to match: no binding that takes any value.
fn refutable_pattern(expected: &str) -> Option<String> {
    use syn::visit::Visit;
    struct Bindings(bool);
    impl<'ast> Visit<'ast> for Bindings {
        fn visit_pat_ident(&mut self, ident: &'ast syn::PatIdent) {
            if ident
                .ident
                .to_string()
                .starts_with(|c: char| c.is_lowercase())
            {
                self.0 = true;
            }
            syn::visit::visit_pat_ident(self, ident);
        }
        fn visit_pat_wild(&mut self, _: &'ast syn::PatWild) {
            self.0 = true;
        }
    }
    let pattern = crate::syntax::parse_with(syn::Pat::parse_single, expected).ok()?;
    let mut bindings = Bindings(false);
    bindings.visit_pat(&pattern);
    (!bindings.0).then(|| expected.trim().to_owned())
}

/// `parse_cents("")` returns `Err(..)`, `None`, or a named variant.
fn variant_candidates(
    item: &crate::spec::model::SpecItem,
    spec_targets: &[String],
    functions: &[Function],
    index: &CrateIndex,
) -> Vec<(usize, Candidate)> {
    let lower = item.text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let says_error = words.iter().any(|w| ERROR_WORDS.contains(w));
    let says_none = item.text.contains("None");
    let mut calls: Vec<(usize, String)> = Vec::new();
    for name in &item.names {
        if let Ok(syn::Expr::Call(_)) = crate::syntax::parse_str::<syn::Expr>(name)
            && let Some(target) = closest_to_root(resolve_name(name, functions), functions)
        {
            calls.push((target, name.clone()));
        }
    }
    let explicit_pattern = item.names.iter().find_map(|name| {
        let pattern = crate::syntax::parse_with(syn::Pat::parse_single, name).ok()?;
        let text = name.trim();
        let variant = ["Ok(", "Err(", "Some(", "None"]
            .iter()
            .any(|p| text.starts_with(p));
        (variant && !matches!(pattern, syn::Pat::Ident(_)) || text == "None")
            .then(|| text.to_owned())
    });
    if calls.is_empty() {
        // No call written: the item's literals, given to its one-parameter target.
        let targets = item_targets(item, spec_targets, functions).direct;
        // `split` names the crate's top-level `split`, not `bytes::split` beside it.
        let targets = shallowest_per_name(targets, functions);
        for target in targets {
            let function = &functions[target];
            if function.params.len() != 1 || function.params[0] == "self" {
                continue;
            }
            let Some(callee) = plain_callee(function, index) else {
                continue;
            };
            for literal in item.literals.iter().filter(|l| l.starts_with('"')) {
                calls.push((target, format!("{callee}({literal})")));
            }
        }
    }
    let mut out = Vec::new();
    for (target, call) in calls {
        let function = &functions[target];
        let Some(returns) = return_kind(function, index) else {
            continue;
        };
        let pattern = match (&explicit_pattern, returns) {
            (Some(p), _) => p.clone(),
            (None, ReturnKind::Result) if says_error => "Err(_)".into(),
            (None, ReturnKind::Option) if says_none => "None".into(),
            _ => continue,
        };
        let number = out.len() + 1;
        out.push((
            target,
            Candidate {
                name: format!("{}_spec_{}_{number}", short_name(function), snake(&item.id)),
                meta: TestMeta {
                    function: function.path.clone(),
                    targets: Vec::new(),
                    spec: vec![item.id.clone()],
                    category: Some("spec_contract".into()),
                    oracle: Some("spec_variant".into()),
                    input: Some(call.clone()),
                },
                body: format!(
                    "let result = {call};\nassert!(matches!(result, {pattern}), \"spec {}: `{}` should match `{}`\");",
                    item.id,
                    escape(&call),
                    escape(&pattern)
                ),
                features: vec![format!("spec={}", item.id)],
                priority: SPEC_PRIORITY,
                harness: None,
            },
        ));
    }
    out
}

/// Of several functions a name resolves to, the one closest to the crate root (the API a
/// spec means by a bare name), the first on a tie.
fn closest_to_root(candidates: Vec<usize>, functions: &[Function]) -> Option<usize> {
    candidates
        .into_iter()
        .min_by_key(|&i| functions[i].path.matches("::").count())
}

/// Per last path segment, only the functions closest to the crate root.
fn shallowest_per_name(targets: Vec<usize>, functions: &[Function]) -> Vec<usize> {
    let depth = |i: usize| functions[i].path.matches("::").count();
    let name = |i: usize| {
        functions[i]
            .path
            .rsplit("::")
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    targets
        .iter()
        .copied()
        .filter(|&i| {
            !targets
                .iter()
                .any(|&j| name(j) == name(i) && depth(j) < depth(i))
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReturnKind {
    Result,
    Option,
}

fn return_kind(function: &Function, index: &CrateIndex) -> Option<ReturnKind> {
    let syntax = index.function_of(function)?;
    let syn::ReturnType::Type(_, ty) = &syntax.sig.output else {
        return None;
    };
    let syn::Type::Path(path) = &**ty else {
        return None;
    };
    let last = path.path.segments.last()?.ident.to_string();
    if last == "Option" {
        Some(ReturnKind::Option)
    } else if last.ends_with("Result") {
        Some(ReturnKind::Result)
    } else {
        None
    }
}

/// How a test calls a function without a receiver: `name` or `Type::name`.
fn plain_callee(function: &Function, index: &CrateIndex) -> Option<String> {
    let syntax = index.function_of(function)?;
    if syntax.nested || syntax.sig.receiver().is_some() {
        return None;
    }
    let ident = syntax.sig.ident.to_string();
    match &syntax.container {
        Container::Free => Some(ident),
        Container::Inherent { self_ty, generics } if generics.params.is_empty() => Some(format!(
            "<{}>::{ident}",
            crate::analyze::names::pretty_type(self_ty)
        )),
        _ => None,
    }
}

/// `crate::money::parse_cents` → `parse_cents`; `crate::Ledger::post` → `ledger_post`.
fn short_name(function: &Function) -> String {
    let simple: Vec<&str> = function
        .path
        .split("::")
        .filter(|s| !s.starts_with('<'))
        .collect();
    match simple.as_slice() {
        [.., owner, method] if owner.starts_with(char::is_uppercase) => {
            format!("{}_{}", snake(owner), method)
        }
        [.., last] => last.to_string(),
        [] => "function".into(),
    }
}

/// Text safe inside a string literal that is also a format string.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('{', "{{")
        .replace('}', "}}")
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn panics_said_and_denied() {
        assert!(says_it_panics("Panics when the ledger is empty."));
        assert!(!says_it_panics("Never panics, whatever the input."));
        assert!(!says_it_panics("must not panic on long input"));
        assert!(!says_it_panics("returns an error instead of panicking"));
    }

    #[test]
    fn escaped_text_survives_a_format_string() {
        assert_eq!(escape("f(\"{}\")"), "f(\\\"{{}}\\\")");
    }
}
