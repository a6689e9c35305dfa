//! Linking spec items to sites: which functions an item is about, and which of their sites it
//! speaks to, each link with the reason a human can check.
//!
//! Precision matters more than recall: a wrong link hides a gap. Rules, strongest first: an
//! explicit `<!-- covers: -->`; an error variant or constant the item names that appears in a
//! site's text or outcome; a literal the item mentions that appears in the site; a contract row
//! whose normal result comes back through the function's tail; the meaning of a common
//! condition (`is_empty()` ~ "empty") against the item's words.

use std::collections::{BTreeSet, HashSet};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

use super::evaluate::{contract_bindings, evaluate_condition};
use super::model::{Link, LinkBasis, SpecItem};
use crate::analyze::resolve::{callee_path, path_string, resolve_call, resolve_name};
use crate::analyze::{Function, PanicVia, Site, SiteKind};

/// Names too generic to tie an item to a site.
const GENERIC_NAMES: &[&str] = &[
    "Ok", "Err", "Some", "None", "Self", "String", "Vec", "Option", "Result", "Box", "Default",
    "true", "false",
];

/// Error variants, constants and other values an item names: `ParseError::Empty`, `MAX_LEN`,
/// and the values inside `Err(ParseError::Invalid(_))`.
pub fn value_names(item: &SpecItem, functions: &[Function]) -> Vec<String> {
    #[derive(Default)]
    struct Values(Vec<String>);
    impl<'ast> Visit<'ast> for Values {
        fn visit_expr_path(&mut self, expr: &'ast syn::ExprPath) {
            self.0.push(path_string(&expr.path));
        }
        fn visit_pat_tuple_struct(&mut self, pat: &'ast syn::PatTupleStruct) {
            self.0.push(path_string(&pat.path));
            syn::visit::visit_pat_tuple_struct(self, pat);
        }
    }
    let mut out = Vec::new();
    // A contract's call says what runs, its result what comes back: only the result names
    // the error to look for.
    let names: Vec<&String> = if item.call.is_some() {
        item.expected.iter().collect()
    } else {
        item.names
            .iter()
            .filter(|name| !negated(&item.text, name))
            .collect()
    };
    for name in names {
        let Ok(expr) = crate::syntax::parse_str::<syn::Expr>(name) else {
            continue;
        };
        let mut values = Values::default();
        values.visit_expr(&expr);
        for value in values.0 {
            let last = value.rsplit("::").next().unwrap_or(&value);
            let value_like = last.chars().next().is_some_and(char::is_uppercase)
                && !GENERIC_NAMES.contains(&last)
                && !(value.contains("::")
                    && GENERIC_NAMES.contains(&value.split("::").next().unwrap_or("")));
            if value_like && resolve_name(&value, functions).is_empty() && !out.contains(&value) {
                out.push(value);
            }
        }
    }
    out
}

/// Whether every mention of `` `name` `` in `text` is negated: "..., not `E::Empty`",
/// "rather than `X`", "instead of `X`", "never `X`".
fn negated(text: &str, name: &str) -> bool {
    let quoted = format!("`{name}`");
    let mut mentions = text.match_indices(&quoted).peekable();
    mentions.peek().is_some()
        && mentions.all(|(start, _)| {
            let before = text[..start].trim_end().to_lowercase();
            ["not", "rather than", "instead of", "never", "nor"]
                .iter()
                .any(|word| {
                    before.ends_with(word)
                        && !before[..before.len() - word.len()].ends_with(char::is_alphanumeric)
                })
        })
}

/// How many calls deep an item's reach goes: `Version::parse` → `Version::from_str` → the
/// parse helpers.
const CALL_DEPTH: usize = 3;
/// The most functions one item reaches through calls.
const MAX_REACH: usize = 40;

/// The functions an item is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemTargets {
    /// Those it names, else those the spec's `Target:` line names.
    pub direct: Vec<usize>,
    /// The direct ones and what they call, a few calls deep: a wrapper's item is about the
    /// code the wrapper runs.
    pub reach: Vec<usize>,
}

/// Whether the item names one of the spec's targets, or something inside one
/// (`Ledger::balance` for the target `Ledger`), by its path's segments.
fn names_a_target(item: &SpecItem, spec_targets: &[String]) -> bool {
    let segments = |name: &str| -> Vec<String> {
        callee_path(name)
            .map(|(path, _)| {
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let targets: Vec<Vec<String>> = spec_targets.iter().map(|t| segments(t)).collect();
    item.names.iter().chain(item.call.iter()).any(|name| {
        let name = segments(name);
        targets.iter().any(|target| {
            !target.is_empty()
                && (name.ends_with(target)
                    || name
                        .windows(target.len())
                        .any(|window| window == target.as_slice()))
        })
    })
}

pub fn item_targets(
    item: &SpecItem,
    spec_targets: &[String],
    functions: &[Function],
) -> ItemTargets {
    let mut named = BTreeSet::new();
    for name in item.names.iter().chain(item.call.iter()) {
        named.extend(resolve_name(name, functions));
    }
    // An item that names nothing here is about the whole feature, unless it names one of the
    // feature's targets that is simply out of scope (`--fn`, a change review): then it is
    // about that one, not about what is in scope.
    if named.is_empty() && !names_a_target(item, spec_targets) {
        for target in spec_targets {
            named.extend(resolve_name(target, functions));
        }
    }
    let direct: Vec<usize> = named.iter().copied().collect();
    let mut reach = named;
    let mut frontier = direct.clone();
    for _ in 0..CALL_DEPTH {
        let mut next = Vec::new();
        for &index in &frontier {
            for call in &functions[index].calls {
                for callee in resolve_call(call, index, functions) {
                    if reach.len() < MAX_REACH && reach.insert(callee) {
                        next.push(callee);
                    }
                }
            }
        }
        frontier = next;
    }
    ItemTargets {
        direct,
        reach: reach.into_iter().collect(),
    }
}

/// Link every item to the sites of its target functions. `targets[i]` are item `i`'s
/// functions: the value rules look at every function the item reaches, the meaning rules only
/// at those it names (a condition's meaning is too weak a tie to follow through calls).
pub fn link(items: &[SpecItem], targets: &[ItemTargets], functions: &[Function]) -> Vec<Link> {
    let mut links = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |links: &mut Vec<Link>, item: &SpecItem, site: &Site, reason: String| {
        if seen.insert((item.id.clone(), site.id.clone())) {
            links.push(Link {
                item: item.id.clone(),
                site: site.id.clone(),
                // Site texts span lines; a reason is one line.
                reason: reason.split_whitespace().collect::<Vec<_>>().join(" "),
                basis: LinkBasis::Text,
            });
        }
    };
    for (item, item_targets) in items.iter().zip(targets) {
        if !item.is_promise() {
            continue;
        }
        let first_link = links.len();
        // 1. Explicit links, to any site.
        for id in &item.covers {
            if let Some(site) = functions
                .iter()
                .flat_map(|f| &f.sites)
                .find(|s| &s.id == id)
            {
                add(
                    &mut links,
                    item,
                    site,
                    "explicit <!-- covers -->".to_owned(),
                );
            }
        }
        let sites: Vec<&Site> = item_targets
            .reach
            .iter()
            .flat_map(|&index| functions[index].sites.iter())
            .collect();
        let direct_sites: Vec<&Site> = item_targets
            .direct
            .iter()
            .flat_map(|&index| functions[index].sites.iter())
            .collect();
        // 2. Named error variants and constants, and (5.) error variants by their words
        // (`TooPrecise` ~ "too precise"): both narrowed to the guards the item singles out.
        let values = value_names(item, functions);
        let words = item.text.to_lowercase();
        let mut by_value: Vec<(&Site, String)> = Vec::new();
        for site in &sites {
            for value in &values {
                if let Some(place) = mentions_value(site, value) {
                    by_value.push((site, format!("`{value}` in {place}")));
                }
            }
        }
        let mut dropped = HashSet::new();
        for (site, reason) in single_out(by_value, item, &words, &mut dropped) {
            add(&mut links, item, site, reason);
        }
        // 3. Literals.
        let literals: Vec<String> = item
            .literals
            .iter()
            .filter(|l| !is_trivial_literal(l))
            .cloned()
            .collect();
        if !literals.is_empty() {
            for site in &direct_sites {
                let in_site = site_literals(site);
                let condition = matches!(
                    site.kind,
                    SiteKind::If | SiteKind::MatchArm | SiteKind::LetElse | SiteKind::Loop
                );
                for literal in &literals {
                    // A small number ("offset (4)") says little unless a condition tests it.
                    let small = normalize_literal(literal).trim_start_matches('-').len() == 1;
                    if (!small || condition) && in_site.contains(&normalize_literal(literal)) {
                        add(
                            &mut links,
                            item,
                            site,
                            format!("literal `{literal}` in `{}`", site.text),
                        );
                    }
                }
            }
        }
        // 4. A contract's normal result returns through the function's tail.
        if let (Some(call), Some(expected)) = (&item.call, &item.expected)
            && !is_failure_result(expected)
        {
            // A pure wrapper's tail (`inner(self, input)`) ties the contract to nothing.
            let wrapper = |index: usize| {
                functions[index].sites.len() == 1 && !functions[index].calls.is_empty()
            };
            for &index in resolve_name(call, functions)
                .iter()
                .filter(|&&i| !wrapper(i))
            {
                if let Some(tail) = functions[index]
                    .sites
                    .iter()
                    .find(|s| s.kind == SiteKind::Tail)
                {
                    add(
                        &mut links,
                        item,
                        tail,
                        format!("contract `{call}` returns `{expected}` through the tail"),
                    );
                }
            }
        }
        // 4b. A contract's arguments decide simple conditions: `format_cents(-5)` takes the
        // branch `cents < 0`.
        if let Some(call) = &item.call {
            for &index in &resolve_name(call, functions) {
                let function = &functions[index];
                let bindings = contract_bindings(call, function);
                if bindings.is_empty() {
                    continue;
                }
                for site in function
                    .sites
                    .iter()
                    .filter(|s| matches!(s.kind, SiteKind::If | SiteKind::Loop))
                {
                    if evaluate_condition(&site.text, &bindings, &site.params) == Some(true) {
                        add(
                            &mut links,
                            item,
                            site,
                            format!("contract `{call}` takes the branch `{}`", site.text),
                        );
                    }
                }
            }
        }
        let by_variant_words: Vec<(&Site, String)> = sites
            .iter()
            .filter_map(|site| variant_words_link(site, &words).map(|reason| (*site, reason)))
            .collect();
        for (site, reason) in single_out(by_variant_words, item, &words, &mut dropped) {
            add(&mut links, item, site, reason);
        }
        // 6. The meaning of common conditions; not where the item names errors and the site
        // exits with another one (that site is some other promise's).
        let polarity = Polarity::of(item, &values, &words);
        for site in &direct_sites {
            let other_exit = !values.is_empty()
                && site.outcome.as_deref().is_some_and(|outcome| {
                    !values.iter().any(|value| contains_token(outcome, value))
                });
            if other_exit
                || polarity.contradicts(site.outcome.as_deref())
                || dropped.contains(&site.id)
            {
                continue;
            }
            if let Some(reason) = meaning_link(site, &words) {
                add(&mut links, item, site, reason);
            }
        }
        // 8. A result the item names with no example: the exits of the functions it names
        // that produce it (`returns None` ~ `return None`, `None =>`-free arms aside).
        if let Some(result) = ResultWord::of(item, &values) {
            for site in direct_sites.iter().filter(|s| result.produced_by(s)) {
                add(
                    &mut links,
                    item,
                    site,
                    format!("{} gives {}", site_exit_text(site), result.label()),
                );
            }
            // A function the item names with no exit of its own that gives `None`: the `None`
            // comes back through its tail (`self.map.get(key)`), as a contract's result does.
            if result == ResultWord::None {
                for &index in &item_targets.direct {
                    let own: Vec<&Site> = functions[index].sites.iter().collect();
                    let gives_it = own.iter().any(|s| {
                        result.produced_by(s)
                            || (s.kind == SiteKind::If
                                && branch_values_of(s, &own).any(|v| result.is(&v)))
                    });
                    let tail = own.iter().find(|s| {
                        s.kind == SiteKind::Tail
                            && !["Some(", "Ok(", "Err(", "if ", "match "]
                                .iter()
                                .any(|start| s.text.trim_start().starts_with(start))
                    });
                    if let (false, Some(tail)) = (gives_it, tail) {
                        add(
                            &mut links,
                            item,
                            tail,
                            format!("`None` comes back through the tail `{}`", tail.text),
                        );
                    }
                }
            }
            // A value-position `if` (`if failed { None } else { Some(x) }`): its condition's
            // site decides the result.
            for site in direct_sites.iter().filter(|s| {
                s.kind == SiteKind::If && branch_values_of(s, &direct_sites).any(|v| result.is(&v))
            }) {
                add(
                    &mut links,
                    item,
                    site,
                    format!("`if {}` gives {}", site.text, result.label()),
                );
            }
        }
        // 9. "Never panics", "no function panics": every panic site the item reaches.
        if promises_no_panic(&words) {
            for site in sites.iter().filter(|s| s.kind == SiteKind::Panic) {
                add(
                    &mut links,
                    item,
                    site,
                    format!("a panic site (`{}`) the item says never fires", site.text),
                );
            }
        }
        // 10. A number in words (`zero repetitions`) against an arm or a comparison with that
        // literal: `0 =>`, `n == 0`.
        for (word, literal) in NUMBER_WORDS {
            if !contains_words(&words, word) {
                continue;
            }
            for site in direct_sites.iter().filter(|s| {
                matches!(s.kind, SiteKind::MatchArm | SiteKind::If)
                    && tests_literal(s, literal)
                    && !polarity.contradicts(s.outcome.as_deref())
            }) {
                add(
                    &mut links,
                    item,
                    site,
                    format!("\"{word}\" ~ `{}`", site.text),
                );
            }
        }
        // 7. A linked guard's own exit: the `return` inside it that its outcome is.
        let guards: Vec<&Site> = links[first_link..]
            .iter()
            .filter_map(|link| sites.iter().copied().find(|s| s.id == link.site))
            .filter(|s| s.outcome.is_some() && s.kind != SiteKind::Return)
            .collect();
        for guard in guards {
            for site in sites.iter().filter(|s| {
                s.kind == SiteKind::Return
                    && s.function == guard.function
                    && guard.line <= s.line
                    && s.line <= guard.end_line
                    && Some(s.text.as_str()) == guard.outcome.as_deref()
            }) {
                add(&mut links, item, site, format!("the exit of {}", guard.id));
            }
        }
    }
    links
}

/// Several guards can lead to one error variant (a failed parse and a zero check both give
/// `InvalidPort`). When the item's words or its contract's arguments single out some of them,
/// keep those, and the `return`s inside them; when nothing singles any out, keep all.
fn single_out<'s>(
    candidates: Vec<(&'s Site, String)>,
    item: &SpecItem,
    words: &str,
    dropped_ids: &mut HashSet<String>,
) -> Vec<(&'s Site, String)> {
    let is_decision = |site: &Site| {
        matches!(
            site.kind,
            SiteKind::If | SiteKind::LetElse | SiteKind::MatchArm | SiteKind::Try
        )
    };
    let mut decisions: Vec<&Site> = candidates
        .iter()
        .map(|(site, _)| *site)
        .filter(|s| is_decision(s))
        .collect();
    decisions.dedup_by(|a, b| a.id == b.id);
    if decisions.len() < 2 {
        return candidates;
    }
    // The contract's arguments, with the numbers inside strings (`"0"` also gives `0`).
    let mut arguments: HashSet<String> = HashSet::new();
    for literal in item
        .call
        .iter()
        .flat_map(|call| super::parse::literals_in(call))
    {
        if let Some(inner) = literal.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
            arguments.extend(
                super::parse::literals_in(inner)
                    .into_iter()
                    .map(|l| normalize_literal(&l)),
            );
        }
        arguments.insert(normalize_literal(&literal));
    }
    // The words of the errors themselves (`InvalidPort`: "invalid", "port") name what all these
    // guards share, so they single none out.
    let subject: HashSet<String> = candidates
        .iter()
        .filter_map(|(site, _)| site.outcome.as_deref().or(Some(site.text.as_str())))
        .flat_map(|text| {
            variant_paths(text)
                .into_iter()
                .map(|(_, variant)| camel_words(variant))
        })
        .flat_map(|phrase| phrase.split(' ').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    // How strongly the item points at each guard: a name its condition tests beats a
    // contract argument it compares, which beats a generic meaning.
    let strength = |site: &Site| {
        let mut score = 0;
        if condition_names_in(site, words, &subject) {
            score += 4;
        }
        if site_literals(site).iter().any(|l| arguments.contains(l)) {
            score += 2;
        }
        if meaning_link(site, words).is_some() {
            score += 1;
        }
        score
    };
    let scores: Vec<u32> = decisions.iter().map(|site| strength(site)).collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    let singled: Vec<&Site> = if best == 0 {
        Vec::new()
    } else {
        decisions
            .iter()
            .zip(&scores)
            .filter(|(_, score)| **score == best)
            .map(|(site, _)| *site)
            .collect()
    };
    if singled.is_empty() || singled.len() == decisions.len() {
        return candidates;
    }
    let dropped: Vec<&Site> = decisions
        .iter()
        .copied()
        .filter(|d| !singled.iter().any(|s| s.id == d.id))
        .collect();
    dropped_ids.extend(dropped.iter().map(|d| d.id.clone()));
    candidates
        .into_iter()
        .filter(|(site, _)| {
            if is_decision(site) {
                singled.iter().any(|s| s.id == site.id)
            } else {
                !dropped.iter().any(|d| {
                    d.function == site.function && d.line <= site.line && site.line <= d.end_line
                })
            }
        })
        .collect()
}

/// A result an item says a call gives, in words or as a bare `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResultWord {
    None,
    Empty,
    Zero,
}

/// Numbers in words and the literal each is in code.
const NUMBER_WORDS: &[(&str, &str)] = &[("zero", "0"), ("one", "1"), ("two", "2")];

impl ResultWord {
    /// The result the item promises, when it says one is returned and names no error
    /// variant (a named variant is linked by its name, more precisely).
    fn of(item: &SpecItem, values: &[String]) -> Option<ResultWord> {
        if !values.is_empty() || item.call.is_some() {
            return None;
        }
        let words = item.text.to_lowercase();
        let returns = [
            "returns", "return", "gives", "yields", "is", "are", "produces",
        ]
        .iter()
        .any(|w| contains_words(&words, w));
        if !returns {
            return None;
        }
        if item.names.iter().any(|n| n == "None") && !denied(&item.text, "`None`", 3) {
            return Some(ResultWord::None);
        }
        if contains_words(&words, "empty") && !contains_words(&words, "not empty") {
            // "rejects empty input" is about the input; "is empty", "returns an empty" the result.
            let about_result = [
                "is empty",
                "are empty",
                "returns an empty",
                "returns empty",
                "gives an empty",
                "yields an empty",
            ]
            .iter()
            .any(|p| words.contains(p));
            return about_result.then_some(ResultWord::Empty);
        }
        ["returns zero", "returns 0", "is zero", "gives zero"]
            .iter()
            .any(|p| words.contains(p))
            .then_some(ResultWord::Zero)
    }

    fn label(self) -> &'static str {
        match self {
            ResultWord::None => "`None`",
            ResultWord::Empty => "an empty value",
            ResultWord::Zero => "zero",
        }
    }

    /// Whether the site's exit produces this result: a `return` or an early exit whose value
    /// it is, or a match arm or branch whose value it is.
    fn produced_by(self, site: &Site) -> bool {
        exit_value(site).is_some_and(|exit| self.is(exit))
    }

    /// Whether the value `exit` (as written) is this result.
    fn is(self, exit: &str) -> bool {
        let exit = exit.trim().trim_start_matches("Ok(").trim_end_matches(')');
        let exit = exit.replace(' ', "");
        match self {
            ResultWord::None => exit == "None",
            ResultWord::Empty => [
                "Vec::new(",
                "String::new(",
                "\"\"",
                "vec![]",
                "Default::default(",
                "String::default(",
                "Vec::default(",
                "\"\".to_string(",
                "\"\".into(",
                "\"\".to_owned(",
                "Self::default(",
            ]
            .iter()
            .any(|empty| exit.starts_with(empty)),
            ResultWord::Zero => ["0", "0.0", "0u", "0i", "0f"]
                .iter()
                .any(|zero| exit == *zero || (zero.len() == 2 && exit.starts_with(zero))),
        }
    }
}

/// The values the branches of an `if` site give, when the `if` is itself a tail or returned
/// value (`if c { None } else { Some(x) }`): read from that tail's or return's text.
fn branch_values_of<'s>(
    site: &'s Site,
    siblings: &'s [&Site],
) -> impl Iterator<Item = String> + 's {
    siblings
        .iter()
        .filter(move |s| {
            matches!(s.kind, SiteKind::Tail | SiteKind::Return)
                && s.function == site.function
                && s.line == site.line
        })
        .filter_map(|s| crate::syntax::parse_str::<syn::Expr>(&s.text).ok())
        .filter_map(|expr| match expr {
            syn::Expr::If(if_expr) => Some(if_expr),
            _ => None,
        })
        .flat_map(|if_expr| {
            let mut values = Vec::new();
            let tail = |block: &syn::Block| match block.stmts.last() {
                Some(syn::Stmt::Expr(expr, None)) => {
                    Some(quote::ToTokens::to_token_stream(expr).to_string())
                }
                _ => None,
            };
            values.extend(tail(&if_expr.then_branch));
            if let Some((_, else_branch)) = &if_expr.else_branch
                && let syn::Expr::Block(block) = else_branch.as_ref()
            {
                values.extend(tail(&block.block));
            }
            values
        })
}

/// The value a site's exit gives: a `return`'s value, an early exit's outcome. A tail or a
/// block-like return is a whole body, not one value.
fn exit_value(site: &Site) -> Option<&str> {
    match site.kind {
        SiteKind::Return => matchable_text(site),
        _ => site.outcome.as_deref(),
    }
}

fn site_exit_text(site: &Site) -> String {
    format!("`{}`", exit_value(site).unwrap_or(&site.text))
}

/// Whether every mention of `needle` in `text` is denied by one of the `window` words before
/// it: "never returns `None`", "does not give `None`", "no microsecond divides it",
/// "non-zero". Such an item speaks of the other result, or the branch a condition does not
/// take.
fn denied(text: &str, needle: &str, window: usize) -> bool {
    let mut mentions = text.match_indices(needle).peekable();
    mentions.peek().is_some()
        && mentions.all(|(start, _)| {
            let before = text[..start].to_lowercase();
            before.ends_with("non-")
                || before.split_whitespace().rev().take(window).any(|word| {
                    matches!(word, "never" | "not" | "no" | "nor" | "non") || word.ends_with("n't")
                })
        })
}

/// Whether the item's words promise that nothing panics: "never panics", "does not panic",
/// "no function panics", "without panicking".
fn promises_no_panic(words: &str) -> bool {
    [
        "never panics",
        "never panic",
        "does not panic",
        "doesn't panic",
        "must not panic",
        "no function panics",
        "without panicking",
        "not panic on",
    ]
    .iter()
    .any(|phrase| words.contains(phrase))
}

/// Whether a match arm's pattern is `literal` (alone or among alternatives), or a condition
/// compares with it.
fn tests_literal(site: &Site, literal: &str) -> bool {
    let text = site.text.replace(' ', "");
    match site.kind {
        SiteKind::MatchArm => text.split('|').any(|alternative| alternative == literal),
        // `n % d == 0` is divisibility: the literal is not a value `n` is compared with.
        _ if text.contains('%') => false,
        _ => ["==", "!=", "<=", ">=", "<", ">"].iter().any(|op| {
            text.contains(&format!("{op}{literal}"))
                && !text
                    [text.find(&format!("{op}{literal}")).unwrap_or(0) + op.len() + literal.len()..]
                    .starts_with(|c: char| c.is_ascii_digit() || c == '.')
        }),
    }
}

/// Identifiers too common in conditions to single a guard out.
const COMMON_IDENTIFIERS: &[&str] = &[
    "self", "text", "input", "value", "values", "rest", "len", "data", "bytes", "str", "string",
    "is_empty", "is_none", "is_some", "none", "some", "ok", "err", "let", "true", "false", "pos",
    "index", "item", "items",
];

/// Whether the item's words name something the site's condition tests (`pre` in
/// `pre.is_empty()` and "pre-release"), so that guard is the one the item means.
fn condition_names_in(site: &Site, words: &str, subject: &HashSet<String>) -> bool {
    if site.kind == SiteKind::Try {
        return false;
    }
    site.text
        .split(|c: char| !is_ident_char(c))
        .filter(|ident| ident.len() >= 3 && !ident.starts_with(char::is_numeric))
        .map(str::to_lowercase)
        .filter(|ident| !COMMON_IDENTIFIERS.contains(&ident.as_str()) && !subject.contains(ident))
        .any(|ident| {
            contains_words(words, &ident) || contains_words(words, &ident.replace('_', " "))
        })
}

/// Words that say a call fails.
const REJECT_WORDS: &[&str] = &[
    "reject", "rejects", "rejected", "error", "errors", "fails", "fail", "invalid", "panic",
    "panics", "refuse", "refuses",
];

/// Whether `words` (lower case) say a call fails: "rejects", "an error", "fails".
pub(super) fn says_it_rejects(words: &str) -> bool {
    REJECT_WORDS.iter().any(|w| contains_words(words, w))
}

/// Whether an item promises a rejection or a normal result, to keep a "rejects empty key" item
/// off a blank-line check that returns `Ok(None)`, and the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Polarity {
    Rejects,
    Accepts,
    Either,
}

impl Polarity {
    fn of(item: &SpecItem, values: &[String], words: &str) -> Polarity {
        const ACCEPT: &[&str] = &[
            "accept", "accepts", "accepted", "skip", "skips", "skipped", "ignore", "ignores",
            "ignored", "allow", "allows",
        ];
        let rejects = !values.is_empty() || says_it_rejects(words);
        let accepts = item
            .names
            .iter()
            .any(|n| n.starts_with("Ok(") || n.starts_with("Some("))
            || ACCEPT.iter().any(|w| contains_words(words, w));
        match (rejects, accepts) {
            (true, false) => Polarity::Rejects,
            (false, true) => Polarity::Accepts,
            _ => Polarity::Either,
        }
    }

    /// The site's exit goes the other way than the item promises.
    fn contradicts(self, outcome: Option<&str>) -> bool {
        let Some(outcome) = outcome else { return false };
        let failure = outcome.starts_with("Err(") || outcome.contains('!');
        match self {
            Polarity::Rejects => !failure,
            Polarity::Accepts => failure,
            Polarity::Either => false,
        }
    }
}

/// `Err(..)`, `None` and panics are failures; anything else is a normal result.
pub(super) fn is_failure_result(expected: &str) -> bool {
    let expected = expected.trim();
    expected.starts_with("Err(") || expected == "None" || expected.contains("panic")
}

/// Where a site mentions a value: its condition or pattern, its arm guard, or its outcome.
fn mentions_value(site: &Site, value: &str) -> Option<String> {
    let last = value.rsplit("::").next().unwrap_or(value);
    let self_form = format!("Self::{last}");
    let found = |text: &str| {
        let produced = |needle: &str| {
            text.match_indices(needle).any(|(start, _)| {
                is_token_at(text, start, needle) && !is_pattern_at(text, start + needle.len())
            })
        };
        produced(value)
            || (value.contains("::") && (produced(&self_form) || contains_bare(text, last)))
    };
    if let Some(text) = matchable_text(site)
        && found(text)
    {
        return Some(format!("`{text}`"));
    }
    if let Some(guard) = &site.arm_guard
        && found(guard)
    {
        return Some(format!("arm guard `{guard}`"));
    }
    match &site.outcome {
        Some(outcome) if found(outcome) => Some(format!("outcome `{outcome}`")),
        _ => None,
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The site text that text rules may match: not a match arm's pattern (an arm that matches
/// `E::X` handles that error, it does not produce it), and not a block-like tail or return,
/// whose text is a whole body.
fn matchable_text(site: &Site) -> Option<&str> {
    let text = site.text.trim_start();
    let block_like = ["if ", "match ", "loop", "while ", "for ", "{", "unsafe "]
        .iter()
        .any(|start| text.starts_with(start));
    match site.kind {
        SiteKind::MatchArm => None,
        SiteKind::Tail | SiteKind::Return if block_like => None,
        _ => Some(&site.text),
    }
}

fn is_token_at(text: &str, start: usize, needle: &str) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[start + needle.len()..].chars().next();
    !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char)
}

/// Whether what ends at `end` is a pattern: followed (after any `(..)` or `{ .. }`) by `=>`
/// or `|`.
fn is_pattern_at(text: &str, end: usize) -> bool {
    let mut rest = text[end..].trim_start();
    if let Some(open) = rest.chars().next().filter(|c| *c == '(' || *c == '{') {
        let close = if open == '(' { ')' } else { '}' };
        let mut depth = 0;
        let mut cut = rest.len();
        for (index, c) in rest.char_indices() {
            if c == open {
                depth += 1;
            } else if c == close {
                depth -= 1;
                if depth == 0 {
                    cut = index + 1;
                    break;
                }
            }
        }
        rest = rest[cut..].trim_start();
    }
    rest.starts_with("=>") || (rest.starts_with('|') && !rest.starts_with("||"))
}

/// `needle` in `text` with no identifier character on either side.
fn contains_token(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + needle.len()..].chars().next();
        !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char)
    })
}

/// A bare identifier (`Empty` after `use ParseError::*`), not a segment of another path.
fn contains_bare(text: &str, ident: &str) -> bool {
    text.match_indices(ident).any(|(start, _)| {
        let before = &text[..start];
        let after = text[start + ident.len()..].chars().next();
        !before.chars().next_back().is_some_and(is_ident_char)
            && !before.ends_with("::")
            && !after.is_some_and(|c| is_ident_char(c) || c == ':')
    })
}

/// Literals too common to say anything: `0`, `1`, `-1`, `""`.
fn is_trivial_literal(literal: &str) -> bool {
    matches!(
        normalize_literal(literal).as_str(),
        "0" | "1" | "-1" | "0.0" | "1.0" | "\"\""
    )
}

/// A literal without digit separators or a type suffix: `1_000u32` → `1000`.
fn normalize_literal(literal: &str) -> String {
    if literal.starts_with(['"', '\'']) {
        return literal.to_owned();
    }
    let negative = literal.starts_with('-');
    let digits: String = literal
        .trim_start_matches('-')
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '_' || *c == '.')
        .filter(|c| *c != '_')
        .collect();
    if negative {
        format!("-{digits}")
    } else {
        digits
    }
}

/// The literal tokens of a site's text, arm guard and outcome, normalised.
fn site_literals(site: &Site) -> HashSet<String> {
    let mut out = HashSet::new();
    // A match arm's pattern literal (`100 =>`) is a condition; a block-like tail is not.
    let text =
        matchable_text(site).or((site.kind == SiteKind::MatchArm).then_some(site.text.as_str()));
    for text in [text, site.arm_guard.as_deref(), site.outcome.as_deref()]
        .into_iter()
        .flatten()
    {
        if let Ok(tokens) = crate::syntax::token_stream(text) {
            collect_literals(tokens, false, &mut out);
        }
    }
    out
}

fn collect_literals(tokens: TokenStream, mut negate_next: bool, out: &mut HashSet<String>) {
    for tree in tokens {
        match tree {
            TokenTree::Literal(literal) => {
                let text = normalize_literal(&literal.to_string());
                if negate_next {
                    out.insert(format!("-{text}"));
                }
                out.insert(text);
                negate_next = false;
            }
            TokenTree::Punct(punct) => negate_next = punct.as_char() == '-',
            TokenTree::Group(group) => {
                collect_literals(group.stream(), false, out);
                negate_next = false;
            }
            TokenTree::Ident(_) => negate_next = false,
        }
    }
}

/// One rule of meaning: a condition shape and the words that speak of it.
struct Meaning {
    label: &'static str,
    matches: fn(&Site) -> bool,
    words: &'static [&'static str],
}

const MEANINGS: &[Meaning] = &[
    Meaning {
        label: "`is_empty()`",
        matches: |s| s.text.contains("is_empty()"),
        words: &["empty", "blank", "no input"],
    },
    Meaning {
        label: "a negative check",
        matches: |s| {
            let t = s.text.replace(' ', "");
            t.contains("<0") && !t.contains("<0.")
                || t.contains("<0.0")
                || t.contains("<=-1")
                || t.contains("is_negative()")
        },
        words: &["negative", "below zero", "less than zero"],
    },
    Meaning {
        label: "checked arithmetic",
        matches: |s| {
            let any = |t: &str| {
                ["checked_", "saturating_", "overflowing_", "wrapping_"]
                    .iter()
                    .any(|p| t.contains(p))
            };
            any(&s.text) || s.outcome.as_deref().is_some_and(any)
        },
        words: &[
            "overflow",
            "overflows",
            "saturate",
            "saturates",
            "too large",
            "too big",
            "does not fit",
            "doesn't fit",
            "wraps",
        ],
    },
    Meaning {
        label: "a length check",
        matches: |s| {
            let t = s.text.replace(' ', "");
            (t.contains(".len()") || t.contains(".count()"))
                && ["<", ">", "=="].iter().any(|op| t.contains(op))
        },
        words: &[
            "too long",
            "too short",
            "longer than",
            "shorter than",
            "more than",
            "at most",
            "at least",
            "fewer than",
            "length",
            "characters",
        ],
    },
    Meaning {
        label: "a missing value",
        matches: |s| {
            s.text.contains("is_none()")
                || (s.kind == SiteKind::MatchArm
                    && (s.text == "None" || s.text.starts_with("Err(")))
                || s.kind == SiteKind::LetElse
        },
        words: &[
            "missing",
            "absent",
            "not found",
            "no such",
            "not present",
            "does not exist",
            "doesn't exist",
            "unknown",
        ],
    },
    Meaning {
        label: "a divisibility check",
        matches: |s| {
            let t = s.text.replace(' ', "");
            t.contains('%') && (t.contains("==0") || t.contains("!=0"))
        },
        words: &[
            "divides",
            "divide",
            "divisible",
            "multiple of",
            "evenly",
            "exactly divides",
        ],
    },
    Meaning {
        label: "a zero check",
        matches: |s| {
            let t = s.text.replace(' ', "");
            // `n % d == 0` asks whether `d` divides `n`, not whether a value is zero.
            !t.contains('%')
                && ["==0", "!=0", "==0.0", "!=0.0"].iter().any(|z| {
                    t.ends_with(z)
                        || t.contains(&format!("{z})"))
                        || t.contains(&format!("{z}&"))
                        || t.contains(&format!("{z}|"))
                })
                || t.starts_with("0==")
        },
        words: &["zero", "divide by", "division by"],
    },
    Meaning {
        label: "a prefix check",
        matches: |s| s.text.contains("starts_with(") || s.text.contains("strip_prefix("),
        words: &["prefix", "starts with", "begins with", "starting with"],
    },
    Meaning {
        label: "a suffix check",
        matches: |s| s.text.contains("ends_with(") || s.text.contains("strip_suffix("),
        words: &["suffix", "ends with", "ending with"],
    },
    Meaning {
        label: "a NaN check",
        matches: |s| s.text.contains("is_nan()"),
        words: &["nan", "not a number"],
    },
    Meaning {
        label: "an infinity check",
        matches: |s| s.text.contains("is_infinite()") || s.text.contains("is_finite()"),
        words: &["infinite", "infinity", "finite"],
    },
    Meaning {
        label: "a digit check",
        matches: |s| s.text.contains("is_ascii_digit") || s.text.contains("is_numeric"),
        words: &["digit", "digits", "numeric", "non-numeric", "not a number"],
    },
    Meaning {
        label: "a parse",
        matches: |s| s.text.contains(".parse"),
        words: &[
            "non-numeric",
            "not numeric",
            "not a number",
            "invalid number",
            "malformed",
            "unparsable",
            "does not parse",
            "garbage",
        ],
    },
    Meaning {
        label: "a whitespace check",
        matches: |s| s.text.contains("is_whitespace") || s.text.contains("trim()"),
        words: &["whitespace", "blank", "spaces"],
    },
];

/// A link by meaning: the site is a decision (not a `?`, tail, or incidental panic) whose
/// condition has a known shape, and the item uses one of that shape's words.
fn meaning_link(site: &Site, words: &str) -> Option<String> {
    let decision = match site.kind {
        SiteKind::If | SiteKind::MatchArm | SiteKind::LetElse | SiteKind::Loop => true,
        SiteKind::Panic => site.via == Some(PanicVia::Macro) && site.text.contains("assert"),
        _ => false,
    };
    MEANINGS.iter().find_map(|meaning| {
        // A `?` on a parse is the decision "does it parse"; other `?`s are not conditions.
        let allowed = decision || (site.kind == SiteKind::Try && meaning.label == "a parse");
        if !allowed || !(meaning.matches)(site) {
            return None;
        }
        let word = meaning
            .words
            .iter()
            .find(|w| contains_words(words, w) && !denied(words, w, 2))?;
        Some(format!("{} (`{}`) ~ \"{word}\"", meaning.label, site.text))
    })
}

/// A link by an error variant's name: the site returns or maps to `Enum::Variant` (in its
/// outcome, or as a `?`/`return` text) and the item uses the variant's words.
fn variant_words_link(site: &Site, words: &str) -> Option<String> {
    let exit_text = match site.kind {
        SiteKind::Try | SiteKind::Return => matchable_text(site),
        _ => site.outcome.as_deref(),
    }?;
    let region = error_region(exit_text)?;
    variant_paths(region)
        .into_iter()
        .find_map(|(path, variant)| {
            let phrase = camel_words(variant);
            (phrase.len() >= 4 && contains_stem(words, &phrase))
                .then(|| format!("`{path}` ~ \"{phrase}\""))
        })
}

/// The part of a text that builds an error: from `Err(`, `map_err(`, `ok_or(`, `Error::new(`
/// or `bail!(` on. `identifier(input, Position::Build)?` builds none.
fn error_region(text: &str) -> Option<&str> {
    [
        "Err(",
        "map_err(",
        "ok_or(",
        "ok_or_else(",
        "Error::new(",
        "bail!(",
        "Error {",
        "Error::",
    ]
    .iter()
    .filter_map(|marker| text.find(marker))
    .min()
    .map(|start| &text[start..])
}

/// `Enum::Variant` paths in a text: both segments start upper-case.
fn variant_paths(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for (index, _) in text.match_indices("::") {
        let before = &text[..index];
        let enum_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_ident_char(*c))
            .last()
            .map_or(index, |(i, _)| i);
        let after = &text[index + 2..];
        let variant_len = after
            .chars()
            .take_while(|c| is_ident_char(*c))
            .map(char::len_utf8)
            .sum::<usize>();
        let (enum_name, variant) = (&text[enum_start..index], &after[..variant_len]);
        let upper = |s: &str| s.chars().next().is_some_and(char::is_uppercase);
        if upper(enum_name) && upper(variant) && enum_name != "Self"
            || enum_name == "Self" && upper(variant)
        {
            out.push((&text[enum_start..index + 2 + variant_len], variant));
        }
    }
    out
}

/// `TooPrecise` → `too precise`.
fn camel_words(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// `phrase` in `text` on word boundaries, allowing a plural or verb ending on its last word
/// ("overflow" in "overflows", "overflowed").
fn contains_stem(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let rest = &text[start + phrase.len()..];
        let ending: String = rest.chars().take_while(|c| c.is_alphanumeric()).collect();
        !before.is_some_and(char::is_alphanumeric)
            && matches!(ending.as_str(), "" | "s" | "es" | "ed" | "d" | "ing")
    })
}

/// `phrase` in lower-cased `text` on word boundaries.
fn contains_words(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::spec::model::Section;

    fn function(path: &str, sites: &[(SiteKind, &str, Option<&str>)]) -> Function {
        let mut counts = std::collections::HashMap::new();
        Function {
            path: path.into(),
            package: "p".into(),
            file: "src/lib.rs".into(),
            line: 1,
            end_line: 9,
            visibility: "pub".into(),
            module: String::new(),
            params: Vec::new(),
            sites: sites
                .iter()
                .map(|(kind, text, outcome)| {
                    let n = counts.entry(*kind).or_insert(0);
                    *n += 1;
                    Site {
                        id: format!("{path}#{}{n}", kind.as_str()),
                        kind: *kind,
                        function: path.into(),
                        file: "src/lib.rs".into(),
                        line: 2,
                        column: 5,
                        end_line: 2,
                        text: (*text).into(),
                        params: Vec::new(),
                        guard: false,
                        has_else: None,
                        sub_conditions: None,
                        arm_guard: None,
                        outcome: outcome.map(str::to_owned),
                        via: None,
                        probe: None,
                    }
                })
                .collect(),
            calls: Vec::new(),
        }
    }

    fn item(id: &str, text: &str) -> SpecItem {
        let names = text
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        SpecItem {
            id: id.into(),
            file: "SPEC.md".into(),
            line: 1,
            section: Section::AcceptanceCriteria,
            text: text.into(),
            names,
            literals: crate::spec::parse::literals_in(text),
            call: None,
            expected: None,
            covers: Vec::new(),
        }
    }

    fn links_of(
        items: &[SpecItem],
        targets: &[String],
        functions: &[Function],
    ) -> Vec<(String, String)> {
        let item_targets: Vec<ItemTargets> = items
            .iter()
            .map(|i| item_targets(i, targets, functions))
            .collect();
        link(items, &item_targets, functions)
            .into_iter()
            .map(|l| (l.item, l.site))
            .collect()
    }

    #[test]
    fn an_item_about_an_out_of_scope_target_is_not_about_the_rest() {
        // `--fn memo_preview`: only that function is in the list.
        let functions = [function("c::memo_preview", &[])];
        let targets: Vec<String> = ["parse_cents", "memo_preview", "Ledger"]
            .map(String::from)
            .to_vec();
        let direct = |text: &str| item_targets(&item("X", text), &targets, &functions).direct;
        assert!(direct("`parse_cents` rejects empty input.").is_empty());
        assert!(direct("`Ledger::balance` never panics.").is_empty());
        assert_eq!(direct("`memo_preview` never splits a character."), [0]);
        // Naming no target at all: about the whole feature.
        assert_eq!(direct("\"99999999999999999999\" overflows."), [0]);
        assert_eq!(direct("`None` is returned for blank input."), [0]);
    }

    #[test]
    fn criteria_without_examples_link_by_result_panic_and_number_words() {
        let functions = [
            function(
                "c::nth_word",
                &[
                    (SiteKind::If, "words.len() <= n", Some("None")),
                    (SiteKind::Return, "None", None),
                    (SiteKind::Tail, "Some(words[n])", None),
                ],
            ),
            function(
                "c::repeat_join",
                &[
                    (SiteKind::MatchArm, "0", None),
                    (SiteKind::MatchArm, "_", None),
                    (SiteKind::Panic, "parts[0]", None),
                ],
            ),
        ];
        let targets: Vec<String> = ["nth_word", "repeat_join"].map(String::from).to_vec();
        let items = [
            item(
                "AC1",
                "`nth_word` returns `None` when there are fewer than n + 1 words.",
            ),
            item("AC2", "`repeat_join` with zero repetitions is empty."),
            item("AC3", "No function panics on any input."),
            item(
                "AC4",
                "`nth_word` never returns `None` for a word that exists, not `None`.",
            ),
        ];
        let links = links_of(&items, &targets, &functions);
        let of = |id: &str| -> Vec<&str> {
            links
                .iter()
                .filter(|(item, _)| item == id)
                .map(|(_, site)| site.as_str())
                .collect()
        };
        assert_eq!(of("AC1"), ["c::nth_word#if1", "c::nth_word#return1"]);
        assert_eq!(of("AC2"), ["c::repeat_join#match_arm1"]);
        assert_eq!(of("AC3"), ["c::repeat_join#panic1"]);
        // Every mention of `None` is negated: no result word.
        assert!(of("AC4").is_empty(), "{:?}", of("AC4"));
    }

    #[test]
    fn a_value_position_if_links_by_the_result_its_branch_gives() {
        let mut f = function(
            "c::split",
            &[
                (SiteKind::If, "shl.had_error", None),
                (
                    SiteKind::Tail,
                    "if shl.had_error { None } else { Some(res) }",
                    None,
                ),
                (SiteKind::If, "other", None),
            ],
        );
        f.sites[2].line = 9;
        let items = [item(
            "AC1",
            "`split` returns `None` when a quote is never closed.",
        )];
        assert_eq!(
            links_of(&items, &["split".to_owned()], &[f]),
            [("AC1".to_owned(), "c::split#if1".to_owned())]
        );
    }

    #[test]
    fn none_from_a_function_with_no_exit_of_its_own_comes_through_the_tail() {
        let functions = [
            function(
                "c::Config::get",
                &[(
                    SiteKind::Tail,
                    "self.entries.iter().find(|e| e.0 == key)",
                    None,
                )],
            ),
            function(
                "c::first",
                &[
                    (SiteKind::If, "xs.is_empty()", Some("None")),
                    (SiteKind::Return, "None", None),
                    (SiteKind::Tail, "xs.first().copied()", None),
                ],
            ),
        ];
        let items = [
            item("E1", "`Config::get` returns `None` for a missing key."),
            item("E2", "`first` returns `None` for an empty list."),
        ];
        let links = links_of(&items, &[], &functions);
        assert!(links.contains(&("E1".to_owned(), "c::Config::get#tail1".to_owned())));
        // `first` has its own `return None`: its tail is not where `None` comes from.
        assert!(!links.contains(&("E2".to_owned(), "c::first#tail1".to_owned())));
        assert!(links.contains(&("E2".to_owned(), "c::first#return1".to_owned())));
    }

    #[test]
    fn a_remainder_check_is_divisibility_not_zero() {
        let functions = [function(
            "c::render",
            &[
                (SiteKind::If, "ns % HOUR == 0", None),
                (SiteKind::If, "ns == 0", None),
            ],
        )];
        let targets = vec!["render".to_owned()];
        let items = [
            item(
                "AC1",
                "`render` uses the largest unit that divides it exactly.",
            ),
            item("AC2", "`render` writes a zero duration as \"0s\"."),
        ];
        assert_eq!(
            links_of(&items, &targets, &functions),
            [
                ("AC1".to_owned(), "c::render#if1".to_owned()),
                ("AC2".to_owned(), "c::render#if2".to_owned())
            ]
        );
    }

    #[test]
    fn error_variant_links_to_the_guard_by_outcome_and_to_the_return() {
        let functions = [function(
            "c::parse",
            &[
                (
                    SiteKind::If,
                    "text.is_empty()",
                    Some("Err(ParseError::Empty)"),
                ),
                (SiteKind::Return, "Err(ParseError::Empty)", None),
                (
                    SiteKind::If,
                    "fraction.len() > 2",
                    Some("Err(ParseError::TooPrecise)"),
                ),
            ],
        )];
        let items = [item(
            "AC1",
            "`parse` rejects blank input with `ParseError::Empty`.",
        )];
        assert_eq!(
            links_of(&items, &[], &functions),
            [
                ("AC1".to_owned(), "c::parse#if1".to_owned()),
                ("AC1".to_owned(), "c::parse#return1".to_owned())
            ]
        );
    }

    #[test]
    fn literal_in_condition_links_and_trivial_literals_do_not() {
        let functions = [function(
            "c::pct",
            &[
                (SiteKind::If, "pct > 100", None),
                (SiteKind::If, "pct == 1", None),
            ],
        )];
        let items = [
            item("AC1", "values above 100 are clamped"),
            item("AC2", "1 is special"),
        ];
        assert_eq!(
            links_of(&items, &["pct".to_owned()], &functions),
            [("AC1".to_owned(), "c::pct#if1".to_owned())]
        );
    }

    #[test]
    fn meaning_links_need_the_words_and_a_decision_site() {
        let functions = [function(
            "c::f",
            &[
                (SiteKind::If, "s.is_empty()", None),
                (SiteKind::Tail, "s.is_empty()", None),
                (SiteKind::If, "n.checked_add(1).is_none()", None),
            ],
        )];
        let targets = ["f".to_owned()];
        assert_eq!(
            links_of(
                &[item("E1", "empty input is rejected")],
                &targets,
                &functions
            ),
            [("E1".to_owned(), "c::f#if1".to_owned())]
        );
        assert_eq!(
            links_of(&[item("E2", "large values overflow")], &targets, &functions),
            [("E2".to_owned(), "c::f#if2".to_owned())]
        );
        assert!(links_of(&[item("E3", "returns the sum")], &targets, &functions).is_empty());
    }

    #[test]
    fn contract_with_normal_result_links_the_tail_and_error_result_the_variant() {
        let functions = [function(
            "c::parse",
            &[
                (SiteKind::Tail, "Ok(total)", None),
                (SiteKind::Return, "Err(E::Empty)", None),
            ],
        )];
        let mut ok_row = item("C1", "`parse(\"12\")` | `Ok(1200)`");
        ok_row.call = Some("parse(\"12\")".into());
        ok_row.expected = Some("Ok(1200)".into());
        let mut err_row = item("C2", "`parse(\"\")` | `Err(E::Empty)`");
        err_row.call = Some("parse(\"\")".into());
        err_row.expected = Some("Err(E::Empty)".into());
        assert_eq!(
            links_of(&[ok_row, err_row], &[], &functions),
            [
                ("C1".to_owned(), "c::parse#tail1".to_owned()),
                ("C2".to_owned(), "c::parse#return1".to_owned())
            ]
        );
    }

    #[test]
    fn explicit_covers_links_any_site_and_out_of_scope_items_link_nothing() {
        let functions = [function("c::f", &[(SiteKind::Loop, "items", None)])];
        let mut explicit = item("X1", "loops over everything");
        explicit.covers = vec!["c::f#loop1".into()];
        let mut out = item("O1", "`f` on empty input");
        out.section = Section::OutOfScope;
        assert_eq!(
            links_of(&[explicit, out], &[], &functions),
            [("X1".to_owned(), "c::f#loop1".to_owned())]
        );
    }

    #[test]
    fn meaning_link_is_vetoed_when_the_site_exits_with_another_named_error() {
        let functions = [function(
            "c::parse",
            &[
                (SiteKind::If, "text.is_empty()", Some("Err(E::Empty)")),
                (SiteKind::If, "units.is_empty()", Some("Err(E::Invalid)")),
            ],
        )];
        let items = [item("AC1", "`parse` rejects empty input with `E::Empty`.")];
        assert_eq!(
            links_of(&items, &[], &functions),
            [("AC1".to_owned(), "c::parse#if1".to_owned())]
        );
    }

    #[test]
    fn meaning_link_is_vetoed_when_the_item_rejects_and_the_site_accepts_or_back() {
        let functions = [function(
            "c::line",
            &[
                (SiteKind::If, "line.is_empty()", Some("Ok(None)")),
                (SiteKind::If, "key.is_empty()", Some("Err(E::EmptyKey)")),
            ],
        )];
        let targets = ["line".to_owned()];
        assert_eq!(
            links_of(
                &[item("A", "blank lines are skipped by returning `Ok(None)`")],
                &targets,
                &functions
            ),
            [("A".to_owned(), "c::line#if1".to_owned())]
        );
        assert_eq!(
            links_of(
                &[item("B", "an empty name is rejected")],
                &targets,
                &functions
            ),
            [("B".to_owned(), "c::line#if2".to_owned())]
        );
    }

    #[test]
    fn variant_words_link_a_try_or_guard_to_the_item_using_them() {
        let functions = [function(
            "c::parse",
            &[
                (
                    SiteKind::Try,
                    "units.parse().map_err(|_| ParseError::Overflow)",
                    None,
                ),
                (
                    SiteKind::If,
                    "frac.len() > 2",
                    Some("Err(ParseError::TooPrecise)"),
                ),
            ],
        )];
        let targets = ["parse".to_owned()];
        assert_eq!(
            links_of(
                &[item("E1", "\"99999999999999999999\" overflows.")],
                &targets,
                &functions
            ),
            [("E1".to_owned(), "c::parse#try1".to_owned())]
        );
        assert_eq!(
            links_of(
                &[item("E2", "three decimals are too precise")],
                &targets,
                &functions
            ),
            [("E2".to_owned(), "c::parse#if1".to_owned())]
        );
    }

    #[test]
    fn camel_words_and_stems() {
        assert_eq!(camel_words("TooPrecise"), "too precise");
        assert!(contains_stem("the amount overflows", "overflow"));
        assert!(!contains_stem("a stackoverflow", "overflow"));
        assert!(!contains_stem("overflowless", "overflow"));
        assert_eq!(
            variant_paths("Err(ParseError::Invalid(x))"),
            [("ParseError::Invalid", "Invalid")]
        );
        assert!(variant_paths("std::mem::take").is_empty());
    }

    #[test]
    fn items_reach_through_calls_for_named_errors_but_not_for_meanings() {
        let mut wrapper = function(
            "c::Version::parse",
            &[(SiteKind::Tail, "Version::from_str(s)", None)],
        );
        wrapper.calls = vec!["Version::from_str".into()];
        let inner = function(
            "c::<Version as FromStr>::from_str",
            &[
                (
                    SiteKind::If,
                    "s.is_empty()",
                    Some("Err(Error::new(ErrorKind::Empty))"),
                ),
                (
                    SiteKind::If,
                    "rest.is_empty()",
                    Some("Err(Error::new(ErrorKind::UnexpectedEnd))"),
                ),
            ],
        );
        let functions = [wrapper, inner];
        assert_eq!(
            links_of(
                &[item(
                    "AC1",
                    "`Version::parse` rejects \"\" with `ErrorKind::Empty`."
                )],
                &[],
                &functions
            ),
            [(
                "AC1".to_owned(),
                "c::<Version as FromStr>::from_str#if1".to_owned()
            )]
        );
        // The variant's words reach through the call; `rest.is_empty()` ~ "empty" does not.
        assert_eq!(
            links_of(
                &[item("AC2", "`Version::parse` rejects empty input.")],
                &[],
                &functions
            ),
            [(
                "AC2".to_owned(),
                "c::<Version as FromStr>::from_str#if1".to_owned()
            )]
        );
    }

    #[test]
    fn negated_names_are_not_what_the_item_promises() {
        assert!(negated("fails with `E::A`, not `E::B`", "E::B"));
        assert!(!negated("fails with `E::A`, not `E::B`", "E::A"));
        assert!(negated("reports `X` rather than `Y`", "Y"));
        assert!(!negated("knot `Y`", "Y"));
    }

    #[test]
    fn a_variant_in_pattern_position_handles_rather_than_produces() {
        let functions = [function(
            "c::decode",
            &[
                (SiteKind::MatchArm, "E::TooSmall", Some("Err(Other::Wrap)")),
                (
                    SiteKind::Try,
                    "inner(x).map_err(|e| match e { E::TooSmall => Other::Wrap, e => e })",
                    None,
                ),
                (SiteKind::If, "out.len() < need", Some("Err(E::TooSmall)")),
            ],
        )];
        let items = [item(
            "AC1",
            "`decode` fails with `E::TooSmall` when the output is short",
        )];
        assert_eq!(
            links_of(&items, &[], &functions),
            [("AC1".to_owned(), "c::decode#if1".to_owned())]
        );
    }

    #[test]
    fn block_like_tails_are_not_matched_by_text() {
        let functions = [function(
            "c::f",
            &[(
                SiteKind::Tail,
                "loop { if x { return Err(E::Gone) } }",
                None,
            )],
        )];
        assert!(links_of(&[item("A", "`f` fails with `E::Gone`")], &[], &functions).is_empty());
    }

    #[test]
    fn a_condition_name_the_item_uses_singles_out_its_guard() {
        let functions = [function(
            "c::parse",
            &[
                (SiteKind::If, "pre.is_empty()", Some("Err(E::EmptySegment)")),
                (
                    SiteKind::If,
                    "build.is_empty()",
                    Some("Err(E::EmptySegment)"),
                ),
            ],
        )];
        let items = [item(
            "AC3",
            "`parse` rejects an empty pre-release with `E::EmptySegment`",
        )];
        assert_eq!(
            links_of(&items, &[], &functions),
            [("AC3".to_owned(), "c::parse#if1".to_owned())]
        );
    }

    #[test]
    fn contract_links_the_branch_its_arguments_take() {
        let mut f = function(
            "c::format_cents",
            &[
                (SiteKind::If, "cents < 0", None),
                (SiteKind::Tail, "format!(..)", None),
            ],
        );
        f.params = vec!["cents".into()];
        f.sites[0].params = vec!["cents".into()];
        let mut row = item("C1", "`format_cents(-5)` | `\"-0.05\"`");
        row.call = Some("format_cents(-5)".into());
        row.expected = Some("\"-0.05\"".into());
        assert_eq!(
            links_of(&[row], &[], &[f]),
            [
                ("C1".to_owned(), "c::format_cents#tail1".to_owned()),
                ("C1".to_owned(), "c::format_cents#if1".to_owned())
            ]
        );
    }

    #[test]
    fn contains_token_respects_identifier_boundaries() {
        assert!(contains_token(
            "Err(ParseError::Empty)",
            "ParseError::Empty"
        ));
        assert!(!contains_token(
            "Err(ParseError::EmptyInput)",
            "ParseError::Empty"
        ));
        assert!(contains_bare("Err(Empty)", "Empty"));
        assert!(!contains_bare("Err(Other::Empty)", "Empty"));
    }
}
