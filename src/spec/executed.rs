//! Spec links by execution: an item is linked to the sites its own tests reached in a run (by
//! the site probes) that the function's baseline test, an ordinary call, did not reach. The
//! difference is what the item's inputs made the code do, not everything a call touches.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::link::ItemTargets;
use super::model::{Link, LinkBasis, SpecItem};
use crate::analyze::{Function, Site, SiteKind};

/// What a run says of one of its tests, as far as links by execution need it (the review
/// document's test record, read by the caller).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RanTest {
    pub name: String,
    /// The function it calls, by path.
    pub function: String,
    pub category: Option<String>,
    /// The spec items it checks.
    pub spec_items: Vec<String>,
    /// The call it makes, as Rust.
    pub input: Option<String>,
    /// The sites its run reached; `None` when the run had no probes.
    pub reached: Option<Vec<String>>,
    /// What it checks: `spec_contract`, `spec_variant`, `no_panic`, ...
    pub oracle: Option<String>,
    pub passed: bool,
    /// It ran to its end, passing or failing (not a crash, a timeout or a drop).
    pub completed: bool,
}

/// The items a passing test checked against the spec's own stated result (a contract row's
/// `assert_eq!`, a criterion's `matches!`): the promises the run saw kept.
pub fn kept_promises(tests: &[RanTest]) -> std::collections::HashSet<String> {
    let checks = || {
        tests
            .iter()
            .filter(|t| matches!(t.oracle.as_deref(), Some("spec_contract" | "spec_variant")))
    };
    // One failing check of an item is enough to say the promise is not kept.
    let broken: std::collections::HashSet<&String> = checks()
        .filter(|t| !t.passed)
        .flat_map(|t| &t.spec_items)
        .collect();
    checks()
        .filter(|t| t.passed)
        .flat_map(|t| &t.spec_items)
        .filter(|item| !broken.contains(item))
        .cloned()
        .collect()
}

/// The category of the offline engine's baseline test: one per function a spec item names,
/// called with the most ordinary value of each parameter.
pub const BASELINE_CATEGORY: &str = "baseline";

/// Evidence links of `items` from the run's `tests`. An item's tests are those that name it in
/// their `spec_items` and ran with probes. A function whose baseline did not run is compared
/// with what all its completed tests reached; with fewer than two of those it gives no link
/// (the difference would be everything the call touched).
pub fn evidence_links(
    items: &[SpecItem],
    targets: &[ItemTargets],
    functions: &[Function],
    tests: &[RanTest],
) -> Vec<Link> {
    let sites: HashMap<&str, &Site> = functions
        .iter()
        .flat_map(|f| &f.sites)
        .map(|s| (s.id.as_str(), s))
        .collect();
    let mut baselines: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    // A baseline that crashed or timed out reached less than an ordinary call does.
    for test in tests
        .iter()
        .filter(|t| t.category.as_deref() == Some(BASELINE_CATEGORY) && t.completed)
    {
        if let Some(reached) = &test.reached {
            baselines
                .entry(test.function.as_str())
                .or_default()
                .extend(reached.iter().map(String::as_str));
        }
    }
    // A function with no baseline (a trait method the offline engine has no receiver for):
    // what every one of its completed tests reached stands in for the ordinary call, once
    // there are two or more to agree.
    let mut shared: HashMap<&str, (usize, BTreeSet<&str>)> = HashMap::new();
    for test in tests.iter().filter(|t| t.completed) {
        let Some(reached) = &test.reached else {
            continue;
        };
        let reached: BTreeSet<&str> = reached.iter().map(String::as_str).collect();
        shared
            .entry(test.function.as_str())
            .and_modify(|(count, common)| {
                *count += 1;
                common.retain(|site| reached.contains(site));
            })
            .or_insert((1, reached));
    }
    for (function, (count, common)) in shared {
        if count >= 2 {
            baselines.entry(function).or_insert(common);
        }
    }
    // How many of each function's tests reached each site: a site most calls reach is the
    // function's common path, not what one item's input made it do.
    let mut runs: HashMap<&str, usize> = HashMap::new();
    let mut reach_counts: HashMap<(&str, &str), usize> = HashMap::new();
    for test in tests {
        let Some(reached) = &test.reached else {
            continue;
        };
        *runs.entry(test.function.as_str()).or_default() += 1;
        for site in reached {
            *reach_counts
                .entry((test.function.as_str(), site.as_str()))
                .or_default() += 1;
        }
    }
    let common = |function: &str, site: &str| {
        let total = runs.get(function).copied().unwrap_or(0);
        let count = reach_counts.get(&(function, site)).copied().unwrap_or(0);
        total >= MIN_TESTS_FOR_SHARE && count as f64 > total as f64 * MAX_SHARE
    };
    let mut per_item: Vec<(&SpecItem, Vec<(&Site, &RanTest)>)> = Vec::new();
    for (item, item_targets) in items.iter().zip(targets).filter(|(i, _)| i.is_promise()) {
        let inputs = input_literals(item);
        // A test of another function that happens to use one of the item's literals is not
        // the item's.
        let about: Vec<&str> = item_targets
            .direct
            .iter()
            .map(|&index| functions[index].path.as_str())
            .collect();
        // Site → the first test that reached it, for the reason.
        let mut reached: BTreeMap<&str, &RanTest> = BTreeMap::new();
        for test in tests.iter().filter(|t| {
            t.spec_items.contains(&item.id)
                && t.category.as_deref() != Some(BASELINE_CATEGORY)
                && runs_an_input(t, item, &inputs)
                && about.contains(&t.function.as_str())
        }) {
            let (Some(test_reached), Some(baseline)) =
                (&test.reached, baselines.get(test.function.as_str()))
            else {
                continue;
            };
            for site in test_reached {
                if !baseline.contains(site.as_str()) && !common(&test.function, site) {
                    reached.entry(site.as_str()).or_insert(test);
                }
            }
        }
        let failure = promises_a_failure(item);
        let panics = item.text.to_lowercase().contains("panic");
        let candidates: Vec<(&Site, &RanTest)> = reached
            .into_iter()
            .filter_map(|(id, test)| sites.get(id).map(|site| (*site, test)))
            .filter(|(site, _)| speaks_for_an_input(site, failure, panics))
            .collect();
        per_item.push((item, candidates));
    }
    // A site many items' inputs reach is shared machinery (a helper every identifier goes
    // through), not what any one of them is about.
    let mut items_per_site: HashMap<&str, usize> = HashMap::new();
    for (_, candidates) in &per_item {
        for (site, _) in candidates {
            *items_per_site.entry(site.id.as_str()).or_default() += 1;
        }
    }
    let mut links = Vec::new();
    for (item, mut candidates) in per_item {
        candidates.retain(|(site, _)| items_per_site[site.id.as_str()] <= MAX_ITEMS_PER_SITE);
        // The rarest first: the fewer of its function's tests reached a site, the more it is
        // this item's input's doing.
        candidates.sort_by_key(|(site, test)| {
            (
                reach_counts
                    .get(&(test.function.as_str(), site.id.as_str()))
                    .copied()
                    .unwrap_or(0),
                site.id.clone(),
            )
        });
        candidates.truncate(MAX_LINKS_PER_ITEM);
        candidates.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        for (site, test) in candidates {
            let call = test.input.as_deref().unwrap_or(&test.name);
            links.push(Link {
                item: item.id.clone(),
                site: site.id.clone(),
                reason: format!(
                    "reached by `{}` ({}), not by the baseline call",
                    crate::output::one_line(call, 60),
                    test.name
                ),
                basis: LinkBasis::Evidence,
            });
        }
    }
    links
}

/// Whether reaching a site says something about the input: a decision taken, an exit, a
/// panic. A tail is reached by every call that returns normally, a loop by nearly every input
/// that is not empty.
/// An item that promises a failure is kept by the exits its input took (a guard, a
/// `return`, a `?`, a panic), one that promises a result by the decisions.
fn speaks_for_an_input(site: &Site, failure: bool, panics: bool) -> bool {
    match site.kind {
        SiteKind::Tail | SiteKind::Loop => false,
        // An index or an assertion the input went past says something only to an item about
        // panics.
        SiteKind::Panic if !panics => false,
        _ if failure => {
            site.guard
                || site.outcome.is_some()
                || matches!(
                    site.kind,
                    SiteKind::Return | SiteKind::Try | SiteKind::Panic | SiteKind::LetElse
                )
        }
        _ => true,
    }
}

/// Whether the item promises an error, a `None` or a panic rather than a normal result.
fn promises_a_failure(item: &SpecItem) -> bool {
    if let Some(expected) = &item.expected {
        return super::link::is_failure_result(expected);
    }
    super::link::says_it_rejects(&item.text.to_lowercase())
        || item.text.contains("`None`")
        || item.text.contains("Err(")
}

/// A site in more items' evidence than this is shared machinery.
const MAX_ITEMS_PER_SITE: usize = 3;

/// Most evidence links one item gets: its rarest sites.
const MAX_LINKS_PER_ITEM: usize = 6;

/// A site more than this share of a function's tests reached is its common path.
const MAX_SHARE: f64 = 0.5;
/// Fewer tests than this say nothing about what is common.
const MIN_TESTS_FOR_SHARE: usize = 6;

/// Words before a literal that make it a result, not an input: `"a b" yields ["a", "b"]`.
const RESULT_WORDS: &[&str] = &[
    "yields", "yield", "returns", "return", "gives", "give", "becomes", "become", "produces",
    "produce", "outputs", "equals", "into", "stays", "remains",
];

/// The item's literals that are inputs. A contract's are its call's arguments; a criterion's
/// are those its words do not call a result (`yields ["foobar"]`).
fn input_literals(item: &SpecItem) -> Vec<String> {
    if let Some(call) = &item.call {
        return super::parse::literals_in(call);
    }
    let mut from = 0;
    let mut out = Vec::new();
    for literal in &item.literals {
        // The item's text is rendered markdown: the literal shows as its value, or as written
        // between its quotes, or with markdown's own escapes taken out.
        let inner = literal
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
            .unwrap_or(literal);
        let value = crate::syntax::parse_str::<syn::LitStr>(literal)
            .map(|l| l.value())
            .unwrap_or_default();
        let unescaped = inner.replace("\\\\", "\\");
        // Quoted first: a bare `e` would be found inside "returns".
        let pieces = [value, inner.to_owned(), unescaped];
        let forms: Vec<String> = pieces
            .iter()
            .filter(|piece| !piece.is_empty())
            .map(|piece| format!("\"{piece}\""))
            .chain(pieces.iter().cloned())
            .collect();
        let Some((found, length)) = forms
            .iter()
            .filter(|form| !form.is_empty())
            .find_map(|form| {
                item.text[from..]
                    .find(form.as_str())
                    .map(|at| (at, form.len()))
            })
        else {
            out.push(literal.clone());
            continue;
        };
        let at = from + found;
        from = at + length;
        if !is_result(&item.text[..at]) {
            out.push(literal.clone());
        }
    }
    out
}

/// Whether the text before a literal ends with a result word, directly or before the `[` of
/// a list the literal is in.
fn is_result(before: &str) -> bool {
    let mut before = before;
    // Inside an open list: the word before the list decides.
    if let Some(open) = before.rfind('[')
        && !before[open..].contains(']')
    {
        before = &before[..open];
    }
    let last_word = before
        .trim_end_matches(|c: char| !c.is_alphanumeric())
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_lowercase();
    RESULT_WORDS.contains(&last_word.as_str())
}

/// Whether the test runs one of the item's inputs: its call is the contract's, or its input
/// holds one of the input literals. A test made from a result literal (`split("foobar")`)
/// says nothing about what the item's input does.
fn runs_an_input(test: &RanTest, item: &SpecItem, inputs: &[String]) -> bool {
    let Some(input) = &test.input else {
        return false;
    };
    // A contract row's own test is the one that makes its call; another test that shares
    // one of its numbers is not the row's.
    if let Some(call) = &item.call {
        return input.contains(call.as_str());
    }
    if item.literals.is_empty() {
        return true;
    }
    // A one-digit number turns up in many inputs (`1u64`) without being the item's.
    inputs
        .iter()
        .filter(|literal| literal.starts_with(['"', '\'', 'b']) || literal.len() > 1)
        .any(|literal| input.contains(literal.as_str()))
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::spec::parse::parse_spec;

    fn function() -> Function {
        let mut f = Function::for_test("c::split");
        for (id, kind) in [
            ("c::split#match_arm1", SiteKind::MatchArm),
            ("c::split#match_arm2", SiteKind::MatchArm),
            ("c::split#if1", SiteKind::If),
            ("c::split#tail1", SiteKind::Tail),
        ] {
            f.sites.push(Site::for_test(id, kind));
        }
        f
    }

    fn test(name: &str, category: &str, items: &[&str], reached: &[&str]) -> RanTest {
        RanTest {
            name: name.into(),
            function: "c::split".into(),
            category: Some(category.into()),
            spec_items: items.iter().map(|s| s.to_string()).collect(),
            input: Some(format!("split({name:?})")),
            reached: Some(reached.iter().map(|s| s.to_string()).collect()),
            oracle: None,
            passed: true,
            completed: true,
        }
    }

    #[test]
    fn an_item_links_to_what_its_tests_reached_beyond_the_baseline() {
        let (spec, _) = parse_spec(
            "## Acceptance criteria\n- AC1: an open quote gives None\n- AC2: words split\n",
            "SPEC.md",
        );
        let tests = vec![
            test(
                "ordinary",
                BASELINE_CATEGORY,
                &[],
                &["c::split#match_arm2", "c::split#tail1"],
            ),
            test(
                "open_quote",
                "spec_contract",
                &["AC1"],
                &["c::split#match_arm1", "c::split#if1", "c::split#tail1"],
            ),
            test(
                "words",
                "boundary",
                &["AC2"],
                &["c::split#match_arm2", "c::split#tail1"],
            ),
        ];
        let targets = vec![
            ItemTargets {
                direct: vec![0],
                reach: vec![0]
            };
            2
        ];
        let links = evidence_links(&spec.items, &targets, &[function()], &tests);
        let pairs: Vec<(&str, &str)> = links
            .iter()
            .map(|l| (l.item.as_str(), l.site.as_str()))
            .collect();
        // The tail is reached by every call; AC2's inputs took the baseline's path only.
        assert_eq!(
            pairs,
            [("AC1", "c::split#if1"), ("AC1", "c::split#match_arm1")]
        );
        assert!(links.iter().all(|l| l.basis == LinkBasis::Evidence));
        assert!(
            links[0].reason.contains("open_quote"),
            "{}",
            links[0].reason
        );
    }

    #[test]
    fn literals_a_criterion_calls_results_are_not_inputs() {
        let (spec, _) = parse_spec(
            "## Acceptance criteria\n\
             - AC1: `split` drops a continuation, so \"foo\\\\\\nbar\" yields [\"foobar\"].\n\
             - AC2: comments end at the line (\"foo #bar\\nbaz\" yields [\"foo\", \"baz\"]), \
             while \"foo#bar\" stays one word.\n\
             - AC3: an open quote such as \"\\\"foo\" gives `None`.\n",
            "SPEC.md",
        );
        let inputs: Vec<Vec<String>> = spec.items.iter().map(input_literals).collect();
        assert_eq!(inputs[0], [r#""foo\\\nbar""#]);
        assert_eq!(inputs[1], [r#""foo #bar\nbaz""#, r#""foo#bar""#]);
        assert_eq!(inputs[2], [r#""\"foo""#]);
    }

    #[test]
    fn only_a_passing_check_against_the_spec_keeps_a_promise() {
        let checked = |oracle: &str, passed: bool, item: &str| RanTest {
            oracle: Some(oracle.into()),
            passed,
            ..test(item, "spec_contract", &[item], &[])
        };
        let kept = kept_promises(&[
            checked("spec_contract", true, "AC1"),
            checked("spec_variant", false, "AC2"),
            checked("no_panic", true, "AC3"),
            checked("spec_contract", true, "AC4"),
            checked("spec_variant", false, "AC4"),
        ]);
        assert_eq!(kept, ["AC1".to_owned()].into_iter().collect());
    }

    #[test]
    fn without_a_baseline_there_is_no_difference_to_link() {
        let (spec, _) = parse_spec("## Acceptance criteria\n- AC1: x\n", "SPEC.md");
        let tests = vec![test(
            "open_quote",
            "spec_contract",
            &["AC1"],
            &["c::split#if1"],
        )];
        let targets = [ItemTargets {
            direct: vec![0],
            reach: vec![0],
        }];
        assert!(evidence_links(&spec.items, &targets, &[function()], &tests).is_empty());
    }

    #[test]
    fn without_a_baseline_what_every_test_reached_stands_in_for_it() {
        let (spec, _) = parse_spec("## Acceptance criteria\n- AC1: x\n- AC2: y\n", "SPEC.md");
        let tests = vec![
            test(
                "open_quote",
                "spec_contract",
                &["AC1"],
                &["c::split#if1", "c::split#match_arm1"],
            ),
            test("plain", "spec_contract", &["AC2"], &["c::split#match_arm1"]),
        ];
        let targets = [
            ItemTargets {
                direct: vec![0],
                reach: vec![0],
            },
            ItemTargets {
                direct: vec![0],
                reach: vec![0],
            },
        ];
        let links = evidence_links(&spec.items, &targets, &[function()], &tests);
        let linked: Vec<(&str, &str)> = links
            .iter()
            .map(|l| (l.item.as_str(), l.site.as_str()))
            .collect();
        // `match_arm1` every test reached: the common path. `if1` only AC1's input took.
        assert_eq!(linked, [("AC1", "c::split#if1")]);
    }
}
