//! The offline engine: deterministic edge-case tests from signatures, guards and the spec,
//! with no key and no network. `generate` is the entry: index the crate, make each function's
//! candidates (`cases`, `spec_tests`), keep the best (`select`), name and emit them.

pub mod cases;
pub mod cfg;
pub mod construct;
pub mod docs;
pub mod guards;
pub mod index;
pub mod mined;
pub mod pairwise;
pub mod purity;
pub mod reach;
pub mod select;
pub mod signature;
pub mod spec_tests;
pub mod types;
pub mod values;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use self::cases::{Candidate, CaseOptions, SpecFacts, candidates};
use self::index::CrateIndex;
use crate::analyze::{Analysis, Function};
use crate::generate::emit::{sanitize_name, test_item};
pub use crate::generate::{GeneratedTest, Generation, Skipped, skip_summary};
use crate::spec::model::Spec;

/// How many tests, and for which functions.
#[derive(Debug, Clone, Copy)]
pub struct OfflineOptions {
    /// Most tests for one function.
    pub max_per_fn: usize,
    /// Most tests in all (the feature's budget); `None` for no limit.
    pub max_tests: Option<usize>,
    /// Apply the no-panic oracle to private functions too.
    pub private: bool,
    /// Keep, per function, its best few and then every candidate potent enough to break it
    /// (values mined from its own slices, divisions, comparisons and parses, the spec's),
    /// rather than spread a small budget thin: what `review` does unless given a cap.
    pub potent: bool,
}

/// Generate tests for the functions of `analysis` in `scope` (positions in its functions;
/// `None` for all of them); `root` is the workspace root its paths are relative to,
/// `features` what each crate (by name) is built with. A private function in scope is
/// attacked through the public functions that reach it, which take its mined values.
pub fn generate(
    root: &Path,
    analysis: &Analysis,
    scope: Option<&BTreeSet<usize>>,
    features: &HashMap<String, BTreeSet<String>>,
    specs: &[Spec],
    options: OfflineOptions,
) -> Generation {
    let (index, index_warnings) = CrateIndex::build(root, analysis, features);
    let mut generation = Generation {
        warnings: index_warnings
            .into_iter()
            .map(|w| format!("{}: {}", w.file, w.message))
            .collect(),
        ..Default::default()
    };
    if index.no_std {
        generation.preamble = NO_STD_PREAMBLE.to_owned();
    }
    let functions = &analysis.functions;
    let in_scope = |position: usize| scope.is_none_or(|s| s.contains(&position));
    let facts = spec_tests::facts(specs, functions);
    let mut per_function: Vec<Vec<Candidate>> = vec![Vec::new(); functions.len()];
    let (spec_made, spec_notes) = spec_tests::spec_candidates(specs, functions, &index);
    for (target, candidate) in spec_made {
        if in_scope(target) {
            per_function[target].push(candidate);
        }
    }
    generation.warnings.extend(spec_notes);
    let no_facts = SpecFacts::default();
    let impure = purity::impure_functions(functions, &index);
    let inherited = inherited_preconditions(functions);
    let mut callers = reach::Callers::new(functions);
    // The modules of the public functions called to reach private ones: their tests go there.
    let mut entry_modules: HashMap<String, String> = HashMap::new();
    // Each function's candidates are ranked as soon as they are made and only its best
    // `max_per_fn` kept: memory follows the tests, not the candidates.
    let mut candidate_count = 0;
    let mut harnesses: Vec<(Box<cases::harness::Harness>, String)> = Vec::new();
    let mut callable = 0;
    let mut reached_only = 0;
    for (position, function) in functions.iter().enumerate() {
        if !in_scope(position) {
            continue;
        }
        let Some(syntax) = index.function_of(function) else {
            generation.skipped.push(Skipped {
                function: function.path.clone(),
                reasons: vec!["defined inside a macro the engine does not expand".to_owned()],
            });
            continue;
        };
        let spec = facts.get(&position).unwrap_or(&no_facts);
        let options_here = CaseOptions {
            private: options.private,
            impure: impure[position],
            inherits_precondition: inherited[position],
            implementor: 0,
        };
        let made = with_implementors(|implementor| {
            with_const_values(syntax, |const_args| {
                let options = CaseOptions {
                    implementor,
                    ..options_here
                };
                candidates(function, syntax, &index, spec, options, None, const_args)
            })
        });
        // Private: through the public functions that reach it, with its values.
        let mut reached = Vec::new();
        let mut reaching = Vec::new();
        // Private, or not callable here (a receiver no public function makes, a type
        // parameter with no stand-in): through the public functions that call it.
        let unreachable = made.is_err() || !cases::is_public_api(function, syntax, &index);
        if !options.private && !spec.named && unreachable && !syntax.nested {
            let carried = mined::mine(&syntax.block);
            callers.public_entries(position, &index, |entry, path| {
                let caller = &functions[entry];
                let Some(entry_syntax) = index.function_of(caller) else {
                    return false;
                };
                let mut carried = carried.clone();
                carried.path_texts = path_texts(path, functions, &index);
                carried.magics.extend(
                    carried
                        .path_texts
                        .iter()
                        .map(|text| text.as_bytes().to_vec()),
                );
                let entry_options = CaseOptions {
                    private: false,
                    impure: true,
                    inherits_precondition: inherited[entry],
                    implementor: 0,
                };
                let entry_spec = facts.get(&entry).unwrap_or(&no_facts);
                match candidates(
                    caller,
                    entry_syntax,
                    &index,
                    entry_spec,
                    entry_options,
                    Some(&carried),
                    &[],
                ) {
                    Ok(made) if !made.is_empty() => {
                        reached.push(caller.path.clone());
                        entry_modules.insert(caller.path.clone(), caller.module.clone());
                        reaching.extend(made);
                        true
                    }
                    _ => false,
                }
            });
        }
        match made {
            Ok(made) => per_function[position].extend(made),
            Err(_) if !reached.is_empty() => reached_only += 1,
            Err(reasons) if per_function[position].is_empty() => {
                generation.skipped.push(Skipped {
                    function: function.path.clone(),
                    reasons,
                });
            }
            // The spec's own tests still run.
            Err(_) => {}
        }
        per_function[position].extend(reaching);
        let mut made = std::mem::take(&mut per_function[position]);
        // The fuzz harness rides with the candidates, and is no test: the function's own,
        // else its first public entry's.
        let mut harness = None;
        made.retain_mut(|candidate| match candidate.harness.take() {
            Some(made) => {
                harness.get_or_insert(made);
                false
            }
            None => true,
        });
        if let Some(harness) = harness {
            let module = entry_modules
                .get(&harness.function)
                .unwrap_or(&function.module)
                .clone();
            harnesses.push((harness, module));
        }
        candidate_count += made.len();
        callable += usize::from(!made.is_empty() || !reached.is_empty());
        let ranked = select::rank(made, options.max_per_fn);
        per_function[position] = if options.potent {
            select::potent(ranked)
        } else {
            ranked
        };
    }
    if reached_only > 0 {
        generation.warnings.push(format!(
            "{} not callable from a test, attacked through the public functions that call {}",
            crate::output::plural(reached_only, "function"),
            if reached_only == 1 { "it" } else { "them" }
        ));
    }
    generation.callable = callable;
    generation.candidates = candidate_count;
    let kept = select::select(per_function, options.max_per_fn, options.max_tests);
    let mut names: HashSet<String> = HashSet::new();
    for (position, chosen) in kept.into_iter().enumerate() {
        for candidate in chosen {
            let name = unique_name(&sanitize_name(&candidate.name), &mut names);
            match test_item(&name, &candidate.meta, &candidate.body) {
                Ok(test) => generation.tests.push(GeneratedTest {
                    test,
                    module: entry_modules
                        .get(&candidate.meta.function)
                        .unwrap_or(&functions[position].module)
                        .clone(),
                }),
                Err(err) => generation
                    .warnings
                    .push(format!("internal: {err}; the test is left out")),
            }
        }
    }
    for (harness, module) in harnesses {
        let name = unique_name(&sanitize_name(&harness.name), &mut names);
        match test_item(&name, &harness.template.meta, &harness.body) {
            Ok(test) => generation.fuzz.push(crate::generate::FuzzTarget {
                harness: GeneratedTest {
                    test,
                    module: module.clone(),
                },
                template: *harness,
                module,
            }),
            Err(err) => generation
                .warnings
                .push(format!("internal: {err}; the fuzz harness is left out")),
        }
    }
    generation
}

/// Most crate types tried, one after another, for type parameters bounded by a crate trait.
const MAX_IMPLEMENTORS: usize = 3;

/// `make`'s candidates with the first implementor of each crate-trait bound, then the next,
/// while there is a next; the first's reasons when it makes none.
fn with_implementors(
    make: impl Fn(usize) -> Result<Vec<Candidate>, Vec<String>>,
) -> Result<Vec<Candidate>, Vec<String>> {
    let first = make(0)?;
    let mut made = first;
    for implementor in 1..MAX_IMPLEMENTORS {
        match make(implementor) {
            // Another type's values are new ground: its tests compete on their own features.
            Ok(more) => made.extend(more.into_iter().map(|mut candidate| {
                for feature in &mut candidate.features {
                    *feature = format!("implementor {implementor}: {feature}");
                }
                candidate
            })),
            Err(reasons) if reasons.iter().any(|r| r == cases::NO_FURTHER_IMPLEMENTOR) => break,
            Err(_) => {}
        }
    }
    Ok(made)
}

/// Values for a function's const generic parameters: those its doc comment calls it with
/// (`fixed::<16>`), then small ones, zero included; at most this many.
const MAX_CONST_ASSIGNMENTS: usize = 4;

/// `make`'s candidates for each assignment of values to the function's own integer const
/// generic parameters (one call with none when it has none), together; the reasons of the
/// first failure when none works.
fn with_const_values(
    syntax: &index::FnSyntax,
    make: impl Fn(&[(String, u64)]) -> Result<Vec<Candidate>, Vec<String>>,
) -> Result<Vec<Candidate>, Vec<String>> {
    let params: Vec<String> = syntax
        .sig
        .generics
        .const_params()
        .filter(|c| {
            matches!(&c.ty, syn::Type::Path(p) if p.path.get_ident().is_some_and(|i| {
                ["usize", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "isize"]
                    .contains(&i.to_string().as_str())
            }))
        })
        .map(|c| c.ident.to_string())
        .collect();
    if params.is_empty() {
        return make(&[]);
    }
    let doc = docs::doc_text(&syntax.attrs);
    let mut values: Vec<u64> = doc
        .split("::<")
        .skip(1)
        .filter_map(|rest| rest.split('>').next()?.trim().parse().ok())
        .collect();
    for small in [0, 1, 4] {
        if !values.contains(&small) {
            values.push(small);
        }
    }
    values.truncate(MAX_CONST_ASSIGNMENTS);
    let mut made = Vec::new();
    let mut first_error = None;
    for (k, _) in values.iter().enumerate() {
        let assignment: Vec<(String, u64)> = params
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), values[(k + i) % values.len()]))
            .collect();
        match make(&assignment) {
            Ok(candidates) => made.extend(candidates),
            Err(reasons) => {
                first_error.get_or_insert(reasons);
            }
        }
    }
    match (made.is_empty(), first_error) {
        (true, Some(reasons)) => Err(reasons),
        _ => Ok(made),
    }
}

/// Methods that call, on `self`, a method of their type asserting a precondition on the
/// receiver or a parameter (a few calls deep): they share it.
fn inherited_preconditions(functions: &[crate::analyze::Function]) -> Vec<bool> {
    let stated: Vec<bool> = functions.iter().map(cases::asserts_preconditions).collect();
    let owner = |path: &str| path.rsplit_once("::").map(|(o, _)| o.to_owned());
    let mut inherited = vec![false; functions.len()];
    let names = crate::analyze::resolve::NameIndex::new(functions);
    let callees: Vec<Vec<usize>> = functions
        .iter()
        .enumerate()
        .map(|(i, function)| {
            if function.params.first().is_none_or(|p| p != "self") {
                return Vec::new();
            }
            function
                .calls
                .iter()
                .filter(|call| call.contains("::"))
                .flat_map(|call| names.resolve_call(call, i))
                .collect()
        })
        .collect();
    for _ in 0..3 {
        let mut changed = false;
        for (i, function) in functions.iter().enumerate() {
            if inherited[i] || function.params.first().is_none_or(|p| p != "self") {
                continue;
            }
            for &j in &callees[i] {
                if j != i
                    && owner(&functions[j].path) == owner(&function.path)
                    && (stated[j] || inherited[j])
                {
                    inherited[i] = true;
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            break;
        }
    }
    inherited
}

/// What tests in a `no_std` crate need to write `String::from`, `vec!` and `format!` as
/// everywhere else. `self::std`, the crate just declared in the module: in edition 2015 a
/// `use std::` path starts at the crate root, which has no `std`.
const NO_STD_PREAMBLE: &str =
    "extern crate std;\nuse self::std::prelude::v1::*;\nuse self::std::{format, vec};\n";

/// Longest test name: long enough to say what it tries.
const MAX_NAME: usize = 100;

fn unique_name(name: &str, taken: &mut HashSet<String>) -> String {
    let mut base = name.to_owned();
    if base.len() > MAX_NAME {
        base.truncate(MAX_NAME);
        base = base.trim_end_matches('_').to_owned();
    }
    let mut candidate = base.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{base}_{n}");
        n += 1;
    }
    candidate
}

/// The texts that lead down `path` (positions, entry first) into its last function: the
/// literals guarding each call on the way, joined.
fn path_texts(path: &[usize], functions: &[Function], index: &CrateIndex) -> Vec<String> {
    let steps: Vec<Vec<String>> = path
        .windows(2)
        .map(|pair| {
            let callee = &functions[pair[1]].path;
            let name = callee.rsplit("::").next().unwrap_or(callee);
            index
                .function_of(&functions[pair[0]])
                .map(|caller| guards::guarding_texts(&caller.block, name))
                .unwrap_or_default()
        })
        .collect();
    guards::compose(&steps)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn names_are_unique_and_bounded() {
        let mut taken = HashSet::new();
        assert_eq!(unique_name("f_zero", &mut taken), "f_zero");
        assert_eq!(unique_name("f_zero", &mut taken), "f_zero_2");
        assert_eq!(unique_name("f_zero", &mut taken), "f_zero_3");
        let long = "a".repeat(150);
        assert_eq!(unique_name(&long, &mut taken).len(), MAX_NAME);
    }
}
