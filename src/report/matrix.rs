//! The traceability matrix of `score --matrix`: spec item × site × test. Which code backs each
//! item (and on what basis: the words, a run's evidence, or both), and which test of the run
//! reached that code.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::analyze::Analysis;
use crate::document::TestRecord;
use crate::spec::model::LinkBasis;
use crate::spec::score::ScoreReport;

pub const MATRIX_SCHEMA: &str = "dualtrack.matrix/v1";

/// Most tests named per cell: the item's own first, then any other that reached the site.
const TESTS_PER_CELL: usize = 3;

/// The `dualtrack.matrix/v1` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Matrix {
    pub schema: String,
    /// The run whose tests fill the `tests` column; absent without `--run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    pub items: Vec<MatrixItem>,
}

/// One spec item's row group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MatrixItem {
    pub id: String,
    /// `SPEC.md:12`.
    pub location: String,
    pub text: String,
    /// The sites linked to it, in id order; empty when no code backs it.
    pub sites: Vec<MatrixCell>,
    /// Whether `score` counts it backed: a text link, or evidence links with its own checks
    /// against the spec passing. An item with only evidence links and no kept check is not.
    pub backed: bool,
}

/// One item–site pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MatrixCell {
    pub site: String,
    /// `src/lib.rs:64`.
    pub location: String,
    /// What links them: `text`, `evidence`, or both.
    pub basis: Vec<LinkBasis>,
    /// Tests of the run that reached the site: the item's own first.
    pub tests: Vec<String>,
    /// Whether one of `tests` is the item's own (it names the item in its `spec_items`).
    pub own_test: bool,
}

/// The matrix of `report`'s promises and links, with the run's `tests` (empty without a run).
pub fn matrix(report: &ScoreReport, analysis: &Analysis, tests: &[TestRecord]) -> Matrix {
    let sites: BTreeMap<&str, String> = analysis
        .sites()
        .map(|s| (s.id.as_str(), format!("{}:{}", s.file, s.line)))
        .collect();
    let used_tests: &[TestRecord] = match &report.evidence {
        Some(basis) if basis.used => tests,
        _ => &[],
    };
    let items = report
        .items
        .iter()
        .filter(|item| item.is_promise())
        .map(|item| {
            let mut cells: BTreeMap<&str, Vec<LinkBasis>> = BTreeMap::new();
            for link in report.links.iter().filter(|l| l.item == item.id) {
                let basis = cells.entry(link.site.as_str()).or_default();
                if !basis.contains(&link.basis) {
                    basis.push(link.basis);
                }
            }
            let sites = cells
                .into_iter()
                .map(|(site, mut basis)| {
                    basis.sort();
                    let reached_it = |t: &&TestRecord| {
                        t.reached
                            .as_ref()
                            .is_some_and(|r| r.iter().any(|s| s == site))
                    };
                    let (own, other): (Vec<&TestRecord>, Vec<&TestRecord>) = used_tests
                        .iter()
                        .filter(reached_it)
                        .partition(|t| t.spec_items.contains(&item.id));
                    MatrixCell {
                        site: site.to_owned(),
                        location: sites.get(site).cloned().unwrap_or_default(),
                        basis,
                        own_test: !own.is_empty(),
                        tests: own
                            .iter()
                            .chain(&other)
                            .take(TESTS_PER_CELL)
                            .map(|t| t.name.clone())
                            .collect(),
                    }
                })
                .collect();
            MatrixItem {
                id: item.id.clone(),
                location: format!("{}:{}", item.file, item.line),
                text: item.text.clone(),
                sites,
                backed: !report.unimplemented_items.contains(&item.id),
            }
        })
        .collect();
    Matrix {
        schema: MATRIX_SCHEMA.to_owned(),
        run: report
            .evidence
            .as_ref()
            .filter(|b| b.used)
            .map(|b| b.run.clone()),
        items,
    }
}

/// The matrix as a markdown table, one row per item–site pair.
pub fn render_markdown(matrix: &Matrix) -> String {
    let mut out = String::from("## Spec item × site × test\n\n");
    match &matrix.run {
        Some(run) => {
            let _ = writeln!(out, "Tests from run `{run}`.\n");
        }
        None => out.push_str(
            "No run's evidence (`--run latest` after a review adds links by execution and the \
             tests that reached each site).\n\n",
        ),
    }
    out.push_str("| item | site | linked by | reached by |\n|---|---|---|---|\n");
    for item in &matrix.items {
        let mut item_cell = format!("{} ({})", item.id, item.location);
        if !item.backed && !item.sites.is_empty() {
            // Its input ran that code; no check showed the code keeps the promise.
            item_cell.push_str(", not backed: no passing check against the spec");
        }
        if item.sites.is_empty() {
            let _ = writeln!(out, "| {item_cell} | no site backs it | | |");
            continue;
        }
        for cell in &item.sites {
            let basis: Vec<&str> = cell
                .basis
                .iter()
                .map(|b| match b {
                    LinkBasis::Text => "text",
                    LinkBasis::Evidence => "evidence",
                })
                .collect();
            let tests = if cell.tests.is_empty() {
                if matrix.run.is_some() {
                    "no test".to_owned()
                } else {
                    String::new()
                }
            } else {
                let names: Vec<String> = cell.tests.iter().map(|t| format!("`{t}`")).collect();
                let mut text = names.join(", ");
                if !cell.own_test {
                    text.push_str(" (not the item's own)");
                }
                text
            };
            let _ = writeln!(
                out,
                "| {item_cell} | `{}` {} | {} | {tests} |",
                cell.site,
                cell.location,
                basis.join(", ")
            );
        }
    }
    out
}

#[cfg(test)]
mod test {
    use serde_json::json;

    use super::*;
    use crate::analyze::{Function, Site, SiteKind};
    use crate::scratch::execute::Outcome;

    fn report(used: bool) -> ScoreReport {
        serde_json::from_value(json!({
            "schema": "dualtrack.score/v1", "specs": ["SPEC.md"], "site_coverage": 0.5,
            "item_coverage": 0.5, "functions": [], "warnings": [],
            "items": [
                {"id": "AC1", "file": "SPEC.md", "line": 5, "section": "acceptance_criteria",
                 "text": "an open quote gives None", "names": [], "literals": []},
                {"id": "AC2", "file": "SPEC.md", "line": 6, "section": "acceptance_criteria",
                 "text": "CR is whitespace", "names": [], "literals": []}
            ],
            "links": [
                {"item": "AC1", "site": "c::split#if1", "reason": "r", "basis": "text"},
                {"item": "AC1", "site": "c::split#if1", "reason": "r", "basis": "evidence"},
                {"item": "AC1", "site": "c::split#return1", "reason": "r", "basis": "evidence"}
            ],
            "unspecified_sites": [], "unimplemented_items": ["AC2"],
            "evidence": {"run": "r1-2", "used": used, "links": 2}
        }))
        .unwrap()
    }

    fn analysis() -> Analysis {
        let mut f = Function::for_test("c::split");
        f.sites = vec![
            Site::for_test("c::split#if1", SiteKind::If),
            Site::for_test("c::split#return1", SiteKind::Return),
        ];
        Analysis::for_test(vec![f])
    }

    fn tests() -> Vec<TestRecord> {
        let mut own = TestRecord::new("split_spec_ac1", "c::split", Outcome::Passed);
        own.spec_items = vec!["AC1".into()];
        own.reached = Some(vec!["c::split#if1".into()]);
        let mut other = TestRecord::new("split_empty", "c::split", Outcome::Passed);
        other.reached = Some(vec!["c::split#if1".into(), "c::split#return1".into()]);
        vec![other, own]
    }

    #[test]
    fn each_item_shows_its_sites_their_basis_and_the_tests_that_reached_them() {
        let matrix = matrix(&report(true), &analysis(), &tests());
        assert_eq!(matrix.run.as_deref(), Some("r1-2"));
        let ac1 = &matrix.items[0];
        assert_eq!(ac1.sites.len(), 2);
        assert_eq!(ac1.sites[0].basis, [LinkBasis::Text, LinkBasis::Evidence]);
        assert_eq!(ac1.sites[0].tests, ["split_spec_ac1", "split_empty"]);
        assert!(ac1.sites[0].own_test);
        assert!(!ac1.sites[1].own_test);
        assert!(matrix.items[1].sites.is_empty());
        assert!(ac1.backed && !matrix.items[1].backed);
        let markdown = render_markdown(&matrix);
        assert!(
            markdown.contains("| AC2 (SPEC.md:6) | no site backs it | | |"),
            "{markdown}"
        );
        assert!(markdown.contains("(not the item's own)"), "{markdown}");
    }

    #[test]
    fn a_stale_run_names_no_tests() {
        let matrix = matrix(&report(false), &analysis(), &tests());
        assert_eq!(matrix.run, None);
        assert!(matrix.items[0].sites.iter().all(|c| c.tests.is_empty()));
    }
}
