//! Scoring: spec coverage both ways, per function and overall, and the gaps by name.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::executed::{evidence_links, kept_promises};
use super::link::{item_targets, link};
use super::model::{Link, LinkBasis, Spec, SpecItem, SpecWarning};
use crate::analyze::Analysis;
use crate::analyze::resolve::resolve_name;

pub const SCORE_SCHEMA: &str = "dualtrack.score/v1";

/// Coverage of one function in scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FunctionScore {
    pub path: String,
    pub file: String,
    pub line: u32,
    pub sites: usize,
    pub linked_sites: usize,
    /// From 0 to 1; null when the function has no sites.
    #[schemars(extend("x-always-written" = true))]
    pub site_coverage: Option<f64>,
}

/// The `dualtrack.score/v1` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScoreReport {
    pub schema: String,
    /// The spec files read, relative to the workspace root.
    pub specs: Vec<String>,
    /// Sites linked to an item / sites in scope; null when no site is in scope.
    #[schemars(extend("x-always-written" = true))]
    pub site_coverage: Option<f64>,
    /// Items linked to a site / items (out-of-scope items excluded); null when there are none.
    #[schemars(extend("x-always-written" = true))]
    pub item_coverage: Option<f64>,
    pub functions: Vec<FunctionScore>,
    pub items: Vec<SpecItem>,
    pub links: Vec<Link>,
    pub unspecified_sites: Vec<String>,
    pub unimplemented_items: Vec<String>,
    pub warnings: Vec<SpecWarning>,
    /// The run whose evidence links were asked for (`score --run`); absent without `--run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<RunBasis>,
}

/// The run `score --run` read, and whether its evidence counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunBasis {
    /// The run's id.
    pub run: String,
    /// Whether its evidence links were used: only when every source file is as the run saw it
    /// and the run had probes.
    pub used: bool,
    /// Why not, when not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
    /// How many links rest on the run's evidence.
    pub links: usize,
}

impl ScoreReport {
    pub fn promise_count(&self) -> usize {
        self.items.iter().filter(|i| i.is_promise()).count()
    }

    pub fn site_count(&self) -> usize {
        self.functions.iter().map(|f| f.sites).sum()
    }

    pub fn linked_site_count(&self) -> usize {
        self.functions.iter().map(|f| f.linked_sites).sum()
    }
}

/// Score `specs` against `analysis`. In scope are the functions the specs target, or every
/// function with `all_functions`. `run_tests` are a run's tests with the sites they reached,
/// for links by execution, when the caller has checked the run is about this tree.
pub fn score(
    specs: Vec<Spec>,
    mut warnings: Vec<SpecWarning>,
    analysis: &Analysis,
    all_functions: bool,
    run_tests: Option<&[super::executed::RanTest]>,
) -> ScoreReport {
    let functions = &analysis.functions;
    let mut specs = specs;
    prefix_clashing_ids(&mut specs);

    let mut items = Vec::new();
    let mut targets = Vec::new();
    let mut in_scope: BTreeSet<usize> = BTreeSet::new();
    for spec in &specs {
        for target in &spec.targets {
            let resolved = resolve_name(target, functions);
            if resolved.is_empty() {
                warnings.push(SpecWarning {
                    file: spec.file.clone(),
                    line: 1,
                    message: format!(
                        "`Target: {target}` names no function of the analyzed packages"
                    ),
                });
            }
            in_scope.extend(resolved);
        }
        for item in &spec.items {
            let item_functions = item_targets(item, &spec.targets, functions);
            if let Some(call) = &item.call
                && resolve_name(call, functions).is_empty()
            {
                warnings.push(SpecWarning {
                    file: item.file.clone(),
                    line: item.line,
                    message: format!("contract `{call}` calls a function that does not exist in the analyzed packages"),
                });
            }
            if item.is_promise() {
                in_scope.extend(item_functions.reach.iter().copied());
            }
            targets.push(item_functions);
            items.push(item.clone());
        }
    }
    if all_functions {
        in_scope = (0..functions.len()).collect();
    }
    let mut links = link(&items, &targets, functions);
    if let Some(tests) = run_tests {
        links.extend(evidence_links(&items, &targets, functions, tests));
    }

    let linked_sites: HashSet<&str> = links.iter().map(|l| l.site.as_str()).collect();
    // A link by execution says the item's input ran that code, not that the code keeps the
    // promise: it backs an item only when the item's own checked test passed.
    let kept = run_tests.map(kept_promises).unwrap_or_default();
    let linked_items: HashSet<&str> = links
        .iter()
        .filter(|l| l.basis == LinkBasis::Text || kept.contains(&l.item))
        .map(|l| l.item.as_str())
        .collect();
    let mut function_scores = Vec::new();
    let mut unspecified_sites = Vec::new();
    for &index in &in_scope {
        let function = &functions[index];
        let linked = function
            .sites
            .iter()
            .filter(|s| linked_sites.contains(s.id.as_str()))
            .count();
        unspecified_sites.extend(
            function
                .sites
                .iter()
                .filter(|s| !linked_sites.contains(s.id.as_str()))
                .map(|s| s.id.clone()),
        );
        function_scores.push(FunctionScore {
            path: function.path.clone(),
            file: function.file.clone(),
            line: function.line,
            sites: function.sites.len(),
            linked_sites: linked,
            site_coverage: fraction(linked, function.sites.len()),
        });
    }
    let promises: Vec<&SpecItem> = items.iter().filter(|i| i.is_promise()).collect();
    let unimplemented_items: Vec<String> = promises
        .iter()
        .filter(|i| !linked_items.contains(i.id.as_str()))
        .map(|i| i.id.clone())
        .collect();
    let total_sites: usize = function_scores.iter().map(|f| f.sites).sum();
    let total_linked: usize = function_scores.iter().map(|f| f.linked_sites).sum();
    warnings.sort();
    warnings.dedup();
    ScoreReport {
        schema: SCORE_SCHEMA.to_owned(),
        specs: specs.iter().map(|s| s.file.clone()).collect(),
        site_coverage: fraction(total_linked, total_sites),
        item_coverage: fraction(promises.len() - unimplemented_items.len(), promises.len()),
        functions: function_scores,
        items,
        links,
        unspecified_sites,
        unimplemented_items,
        warnings,
        evidence: None,
    }
}

fn fraction(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Across several spec files, an id that two files use gets its file's stem in front.
pub fn prefix_clashing_ids(specs: &mut [Spec]) {
    let mut files_per_id: HashMap<String, HashSet<String>> = HashMap::new();
    for spec in specs.iter() {
        for item in &spec.items {
            files_per_id
                .entry(item.id.clone())
                .or_default()
                .insert(spec.file.clone());
        }
    }
    for spec in specs.iter_mut() {
        let stem = std::path::Path::new(&spec.file)
            .file_stem()
            .map_or_else(|| spec.file.clone(), |s| s.to_string_lossy().into_owned());
        for item in &mut spec.items {
            if files_per_id
                .get(&item.id)
                .is_some_and(|files| files.len() > 1)
            {
                item.id = format!("{stem}/{}", item.id);
            }
        }
    }
}

/// A gate on a coverage: `None` when it passes, else the one line that says by how much not.
pub fn gate_failure(what: &str, coverage: Option<f64>, min_percent: f64) -> Option<String> {
    match coverage {
        None => Some(format!(
            "{what} coverage is undefined (nothing in scope), below the minimum {min_percent}%"
        )),
        Some(value) if value * 100.0 + 1e-9 < min_percent => Some(format!(
            "{what} coverage {:.1}% is below the minimum {min_percent}% by {:.1} points",
            value * 100.0,
            min_percent - value * 100.0
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn gate_failure_says_by_how_much() {
        assert_eq!(gate_failure("site", Some(0.8), 80.0), None);
        assert_eq!(
            gate_failure("site", Some(0.625), 80.0).unwrap(),
            "site coverage 62.5% is below the minimum 80% by 17.5 points"
        );
        assert!(
            gate_failure("item", None, 10.0)
                .unwrap()
                .contains("undefined")
        );
    }

    #[test]
    fn clashing_ids_across_files_get_the_stem() {
        let item = |id: &str, file: &str| {
            let (spec, _) = super::super::parse::parse_spec(
                &format!("## Acceptance criteria\n- {id}: x\n"),
                file,
            );
            spec
        };
        let mut specs = vec![
            item("AC1", "specs/a.md"),
            item("AC1", "specs/b.md"),
            item("AC2", "specs/c.md"),
        ];
        prefix_clashing_ids(&mut specs);
        assert_eq!(specs[0].items[0].id, "a/AC1");
        assert_eq!(specs[1].items[0].id, "b/AC1");
        assert_eq!(specs[2].items[0].id, "AC2");
    }
}
