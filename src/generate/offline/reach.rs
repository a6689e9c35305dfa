//! Who calls a function, for reaching a private one: the public functions a few calls up the
//! crate's call graph (the analyzer's `calls`, resolved by name), nearest first. A panic a
//! private function raises is the crate's bug only when public API can make it happen.

use std::collections::{BTreeSet, HashMap, VecDeque};

use super::cases::is_public_api;
use super::index::CrateIndex;
use crate::analyze::Function;
use crate::analyze::resolve::NameIndex;

/// How many calls up a private function's public callers are looked for.
const MAX_DEPTH: usize = 8;
/// Most public functions one private function is reached through.
const MAX_ENTRIES: usize = 3;

/// The reversed call graph, built on first use: a crate with no private function in scope
/// pays nothing.
pub struct Callers<'a> {
    functions: &'a [Function],
    callers: Option<Vec<Vec<usize>>>,
}

impl<'a> Callers<'a> {
    pub fn new(functions: &'a [Function]) -> Callers<'a> {
        Callers {
            functions,
            callers: None,
        }
    }

    fn graph(&mut self) -> &[Vec<usize>] {
        let functions = self.functions;
        self.callers.get_or_insert_with(|| {
            let names = NameIndex::new(functions);
            let mut callers: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); functions.len()];
            for (caller, function) in functions.iter().enumerate() {
                for call in &function.calls {
                    for callee in names.resolve_call(call, caller) {
                        if callee != caller {
                            callers[callee].insert(caller);
                        }
                    }
                }
            }
            callers
                .into_iter()
                .map(|c| c.into_iter().collect())
                .collect()
        })
    }

    /// The public functions that reach `target` (positions in the functions) and that
    /// `usable` takes (it makes their tests), nearest first and in source order within a
    /// distance; the search goes up through private callers and public ones `usable`
    /// refuses (an operator, a function with no value for a parameter). `usable` is given
    /// the call path too: the entry first, `target` last.
    pub fn public_entries(
        &mut self,
        target: usize,
        index: &CrateIndex,
        mut usable: impl FnMut(usize, &[usize]) -> bool,
    ) -> Vec<usize> {
        let functions = self.functions;
        let public = |position: usize| {
            let function = &functions[position];
            index
                .function_of(function)
                .is_some_and(|syntax| !syntax.nested && is_public_api(function, syntax, index))
        };
        let graph = self.graph();
        let mut entries = Vec::new();
        let mut seen: BTreeSet<usize> = BTreeSet::from([target]);
        // Who each caller was found from: the next step down toward `target`.
        let mut callee_of: HashMap<usize, usize> = HashMap::new();
        let mut queue: VecDeque<(usize, usize)> = VecDeque::from([(target, 0)]);
        while let Some((node, depth)) = queue.pop_front() {
            if depth == MAX_DEPTH {
                continue;
            }
            for &caller in &graph[node] {
                if !seen.insert(caller) {
                    continue;
                }
                callee_of.insert(caller, node);
                if public(caller) && usable(caller, &path_down(caller, &callee_of)) {
                    entries.push(caller);
                    if entries.len() == MAX_ENTRIES {
                        return entries;
                    }
                } else {
                    queue.push_back((caller, depth + 1));
                }
            }
        }
        entries
    }
}

/// The call path from `entry` down to the search's target, following `callee_of`.
fn path_down(entry: usize, callee_of: &HashMap<usize, usize>) -> Vec<usize> {
    let mut path = vec![entry];
    let mut at = entry;
    while let Some(&next) = callee_of.get(&at) {
        path.push(next);
        at = next;
    }
    path
}

#[cfg(test)]
mod test {
    use super::*;

    fn function(path: &str, calls: &[&str]) -> Function {
        Function {
            calls: calls.iter().map(|c| c.to_string()).collect(),
            ..Function::for_test(path)
        }
    }

    #[test]
    fn callers_are_found_through_paths_and_methods() {
        let functions = vec![
            function("c::helper", &[]),
            function("c::Parser::step", &["helper"]),
            function("c::parse", &[".step"]),
            function("c::unrelated", &["other"]),
        ];
        let mut callers = Callers::new(&functions);
        let graph = callers.graph().to_vec();
        assert_eq!(graph[0], [1]);
        assert_eq!(graph[1], [2]);
        assert!(graph[2].is_empty() && graph[3].is_empty());
    }
}
