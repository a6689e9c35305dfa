//! Names resolved to the crate's functions: a backticked name in a spec (`Ledger::balance`,
//! `parse_cents("12")`), a call the analyzer recorded (`.step`, `helper`), by path segments
//! and self types. The spec linker, the offline engine's call graph and `init` share it.

use std::collections::HashMap;

use crate::analyze::Function;

/// The functions a backticked name refers to: `parse_cents`, `Ledger::balance`, `Ledger` (every
/// method of the type), `parse_cents("12")` (the callee).
pub fn resolve_name(name: &str, functions: &[Function]) -> Vec<usize> {
    NameIndex::new(functions).resolve_name(name)
}

/// Methods with the same name in more crate types than this are too common to follow
/// (`.len()`, `.push()`).
const MAX_METHOD_CANDIDATES: usize = 3;

/// The functions a recorded call of `caller` may run: `.name` is a method on another
/// receiver; `Trait::m` reaches the trait's implementations; a bare `helper` prefers a
/// function nested in the caller, then one in the caller's module.
pub fn resolve_call(call: &str, caller: usize, functions: &[Function]) -> Vec<usize> {
    NameIndex::new(functions).resolve_call(call, caller)
}

/// The functions by the plain segments of their paths, so that a name is looked up among the
/// few functions that end like it rather than all of them: resolving every call of a crate
/// stays near-linear in its size.
pub struct NameIndex<'a> {
    functions: &'a [Function],
    segments: Vec<Vec<&'a str>>,
    /// By the last segment (`from`, `balance`).
    by_last: HashMap<&'a str, Vec<usize>>,
    /// By the segment before the last (a method's type: `Ledger`).
    by_owner: HashMap<&'a str, Vec<usize>>,
}

impl<'a> NameIndex<'a> {
    pub fn new(functions: &'a [Function]) -> NameIndex<'a> {
        let segments: Vec<Vec<&str>> = functions.iter().map(|f| simple_segments(&f.path)).collect();
        let mut by_last: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_owner: HashMap<&str, Vec<usize>> = HashMap::new();
        for (index, own) in segments.iter().enumerate() {
            if let Some(last) = own.last() {
                by_last.entry(last).or_default().push(index);
            }
            if own.len() >= 2 {
                by_owner.entry(own[own.len() - 2]).or_default().push(index);
            }
        }
        NameIndex {
            functions,
            segments,
            by_last,
            by_owner,
        }
    }

    /// [`resolve_name`], looked up in the index.
    pub fn resolve_name(&self, name: &str) -> Vec<usize> {
        let Some((path, method_call)) = callee_path(name) else {
            return Vec::new();
        };
        let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let Some(&last) = segments.last() else {
            return Vec::new();
        };
        let is_type = last.chars().next().is_some_and(char::is_uppercase);
        let candidates = if is_type {
            self.by_owner.get(last)
        } else {
            self.by_last.get(last)
        };
        candidates
            .into_iter()
            .flatten()
            .copied()
            .filter(|&index| {
                let own = &self.segments[index];
                if is_type {
                    // A type: its inherent methods and its trait impls' methods.
                    own.len() >= 2 && own[..own.len() - 1].ends_with(&segments)
                } else if method_call {
                    // `x.decode()` is a method: the segment before the name is a type.
                    own.ends_with(&segments)
                        && own.len() >= 2
                        && own[own.len() - 2].starts_with(char::is_uppercase)
                } else {
                    own.ends_with(&segments)
                }
            })
            .collect()
    }

    /// [`resolve_call`], looked up in the index.
    pub fn resolve_call(&self, call: &str, caller: usize) -> Vec<usize> {
        let functions = self.functions;
        if let Some(method) = call.strip_prefix('.') {
            let candidates = self.resolve_name(&format!("x.{method}()"));
            return if candidates.len() <= MAX_METHOD_CANDIDATES {
                candidates
            } else {
                Vec::new()
            };
        }
        let mut candidates = self.resolve_name(call);
        if let Some((owner, method)) = call.rsplit_once("::") {
            let owner_last = owner.rsplit("::").next().unwrap_or(owner);
            let implementation = format!(" as {owner_last}>::{method}");
            let generic_implementation = format!(" as {owner_last}<");
            // Building an iterator (`Shlex::new(input)`) is how its `next` gets run, by
            // `collect()` or a `for` loop the call list cannot see.
            let iterator_next = format!("<{owner_last} as Iterator>::next");
            let method_ending = format!(">::{method}");
            let named = [method, "next"]
                .into_iter()
                .filter_map(|last| self.by_last.get(last))
                .flatten()
                .copied();
            candidates.extend(named.filter(|&index| {
                let path = &functions[index].path;
                let path = path.split('~').next().unwrap_or(path);
                path.contains(&implementation)
                    || (path.contains(&generic_implementation) && path.ends_with(&method_ending))
                    || path.ends_with(&iterator_next)
            }));
            candidates.sort_unstable();
            candidates.dedup();
            return candidates;
        }
        let caller_path = &functions[caller].path;
        let nested_prefix = format!("{caller_path}::");
        let nested: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| functions[i].path.starts_with(&nested_prefix))
            .collect();
        if !nested.is_empty() {
            return nested;
        }
        let module = caller_path.rsplit_once("::").map_or("", |(m, _)| m);
        let local: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| {
                functions[i]
                    .path
                    .rsplit_once("::")
                    .is_some_and(|(m, _)| m == module)
            })
            .collect();
        if local.is_empty() { candidates } else { local }
    }
}

/// A function path as plain segments: `c::m::<Amount as From<u64>>::from` → `c, m, Amount,
/// from`; a `~2` suffix is dropped.
pub(crate) fn simple_segments(path: &str) -> Vec<&str> {
    let path = path.split('~').next().unwrap_or(path);
    let mut segments = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('<') {
            // `<Type as Trait>`: keep the type.
            let end = matching_angle(inner);
            let qualified = &inner[..end];
            let ty = qualified.split(" as ").next().unwrap_or(qualified);
            segments.push(ty.trim());
            rest = inner[end..]
                .trim_start_matches('>')
                .trim_start_matches("::");
            continue;
        }
        let (head, tail) = rest.split_once("::").unwrap_or((rest, ""));
        segments.push(head);
        rest = tail;
    }
    segments
}

fn matching_angle(text: &str) -> usize {
    let mut depth = 1;
    let mut previous = ' ';
    for (index, c) in text.char_indices() {
        let arrow = previous == '-';
        previous = c;
        match c {
            '<' => depth += 1,
            // Not the arrow of `Fn(u8) -> u8`.
            '>' if !arrow => {
                depth -= 1;
                if depth == 0 {
                    return index;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// The path a code span names as a callable, and whether it is a method call: `f`, `a::f`,
/// `f(1)` → `f`; `x.f(1)` → `f`, a method; in a chain, the outermost call.
pub fn callee_path(name: &str) -> Option<(String, bool)> {
    let expr = crate::syntax::parse_str::<syn::Expr>(name).ok()?;
    match expr {
        syn::Expr::Path(path) => Some((path_string(&path.path), false)),
        syn::Expr::Call(call) => match *call.func {
            syn::Expr::Path(path) => Some((path_string(&path.path), false)),
            _ => None,
        },
        syn::Expr::MethodCall(call) => Some((call.method.to_string(), true)),
        _ => None,
    }
}

pub fn path_string(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

#[cfg(test)]
mod test {
    use super::*;

    fn named(path: &str) -> Function {
        Function {
            package: "p".into(),
            module: String::new(),
            ..Function::for_test(path)
        }
    }

    #[test]
    fn simple_segments_unwrap_trait_impls_and_twins() {
        assert_eq!(
            simple_segments("c::m::<Amount as From<u64>>::from"),
            ["c", "m", "Amount", "from"]
        );
        assert_eq!(
            simple_segments("c::Ledger::push~2"),
            ["c", "Ledger", "push"]
        );
    }

    #[test]
    fn resolve_name_by_function_method_type_and_call() {
        let functions = [
            named("c::parse_cents"),
            named("c::ledger::Ledger::balance"),
            named("c::ledger::Ledger::push"),
            named("c::<Amount as From<u64>>::from"),
        ];
        assert_eq!(resolve_name("parse_cents", &functions), [0]);
        assert_eq!(resolve_name("parse_cents(\"12\")", &functions), [0]);
        assert_eq!(resolve_name("Ledger::balance", &functions), [1]);
        assert_eq!(resolve_name("Ledger", &functions), [1, 2]);
        assert_eq!(resolve_name("Amount::from", &functions), [3]);
        assert_eq!(
            resolve_name("ParseError::Empty", &functions),
            Vec::<usize>::new()
        );
        assert_eq!(resolve_name("cents", &functions), Vec::<usize>::new());
    }

    #[test]
    fn method_calls_resolve_to_methods_only() {
        let functions = [
            named("c::decode::decode"),
            named("c::engine::Engine::decode"),
        ];
        assert_eq!(resolve_name("STANDARD.decode(\"aGk=\")", &functions), [1]);
        assert_eq!(resolve_name("decode", &functions), [0, 1]);
    }

    #[test]
    fn calls_resolve_to_nested_functions_trait_impls_and_rare_methods() {
        let mut caller = named("c::engine::Engine::decode");
        caller.calls = vec!["inner".into(), ".internal_decode".into(), ".len".into()];
        let functions = [
            caller,
            named("c::engine::Engine::decode::inner"),
            named("c::engine::Engine::decode_vec::inner"),
            named("c::gp::<GeneralPurpose as Engine>::internal_decode"),
            named("c::a::A::len"),
            named("c::b::B::len"),
            named("c::d::D::len"),
            named("c::e::E::len"),
        ];
        assert_eq!(resolve_call("inner", 0, &functions), [1]);
        assert_eq!(resolve_call(".internal_decode", 0, &functions), [3]);
        assert_eq!(resolve_call("Engine::internal_decode", 0, &functions), [3]);
        assert!(resolve_call(".len", 0, &functions).is_empty());
    }
}
