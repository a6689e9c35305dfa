//! The review document assembled from a run: spec gaps as findings and coverage, the source
//! line at each finding, verified fixes on their findings, and a model's cost per function.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::analyze::Analysis;
use crate::config::Config;
use crate::document::split_location;
use crate::document::{Finding, FindingKind, Fix, FunctionRow, ReviewDocument, Usage, Verdict};
use crate::review::findings::finding_id;
use crate::spec::score::ScoreReport;

/// Spec gaps as findings: sites no item speaks to, items no site backs (of `items_in_scope`,
/// or all when `None`); and coverage.
pub fn add_gaps(
    document: &mut ReviewDocument,
    gaps: Option<&ScoreReport>,
    scoped: &Analysis,
    items_in_scope: Option<&BTreeSet<String>>,
) {
    let Some(report) = gaps else {
        document.site_coverage = None;
        document.item_coverage = None;
        return;
    };
    let sites: HashMap<&str, (&str, String)> = scoped
        .functions
        .iter()
        .flat_map(|f| {
            f.sites.iter().map(move |s| {
                (
                    s.id.as_str(),
                    (f.path.as_str(), format!("{}:{}", s.file, s.line)),
                )
            })
        })
        .collect();
    let gap = |kind: FindingKind, id: String, message: &str| {
        Finding::new(id, kind, Verdict::CheckSpec, message.to_owned())
    };
    for site in &report.unspecified_sites {
        let (function, location) = sites
            .get(site.as_str())
            .cloned()
            .unwrap_or(("", String::new()));
        document.findings.push(Finding {
            function: Some(function.to_owned()),
            location: Some(location),
            site: Some(site.clone()),
            ..gap(
                FindingKind::UnspecifiedSite,
                finding_id("unspecified_site", function, "", site),
                "no spec item speaks to this site",
            )
        });
    }
    let in_scope = |item: &String| items_in_scope.is_none_or(|scope| scope.contains(item));
    for item in report.unimplemented_items.iter().filter(|i| in_scope(i)) {
        let location = report
            .items
            .iter()
            .find(|i| &i.id == item)
            .map(|i| format!("{}:{}", i.file, i.line));
        document.findings.push(Finding {
            location,
            item: Some(item.clone()),
            ..gap(
                FindingKind::UnimplementedItem,
                finding_id("unimplemented_item", "", "", item),
                "no site backs this spec item",
            )
        });
    }
    document.site_coverage = report.site_coverage;
    // Items about functions out of scope are neither backed nor unbacked here.
    document.item_coverage = match items_in_scope {
        None => report.item_coverage,
        Some(scope) if scope.is_empty() => None,
        Some(scope) => {
            let unbacked = report
                .unimplemented_items
                .iter()
                .filter(|i| scope.contains(*i))
                .count();
            Some(1.0 - unbacked as f64 / scope.len() as f64)
        }
    };
}

/// Each function's tokens and cost, from the exchanges about it (an answer from the cache
/// cost nothing this run): `usage` on its `per_function` row, a row of its own when the model
/// gave it no test. The rows add up to the report's `usage`.
pub fn add_function_usage(
    rows: &mut Vec<FunctionRow>,
    transcripts: &[crate::generate::llm::engine::Transcript],
    config: &Config,
) {
    use crate::generate::llm::cost::{cost_of, price_of};
    let mut by_function: std::collections::BTreeMap<
        &str,
        (crate::generate::llm::wire::Usage, Option<f64>),
    > = std::collections::BTreeMap::new();
    for transcript in transcripts.iter().filter(|t| t.source != "cache") {
        let price = price_of(&transcript.model, &config.prices);
        let entry = by_function
            .entry(transcript.function.as_str())
            .or_insert((Default::default(), Some(0.0)));
        entry.0 += transcript.usage;
        entry.1 = entry
            .1
            .zip(cost_of(&transcript.usage, price))
            .map(|(sum, cost)| sum + cost);
    }
    for (function, (usage, cost_usd)) in by_function {
        let usage = Usage::of_model(&usage, cost_usd);
        match rows.iter_mut().find(|row| row.function == function) {
            Some(row) => row.usage = Some(usage),
            None => rows.push(FunctionRow {
                function: function.to_owned(),
                tests: 0,
                passed: 0,
                failing: 0,
                dropped: 0,
                usage: Some(usage),
                evidence: None,
            }),
        }
    }
    rows.sort_by(|a, b| a.function.cmp(&b.function));
}

/// The source line of each finding's place (`src/lib.rs:64`), as `snippet`.
pub fn add_snippets(findings: &mut [Finding], root: &Path) {
    let mut files: HashMap<String, Option<String>> = HashMap::new();
    for finding in findings {
        let Some((file, line)) = finding.location.as_deref().and_then(split_location) else {
            continue;
        };
        let text = files
            .entry(file.clone())
            .or_insert_with(|| std::fs::read_to_string(root.join(&file)).ok());
        if let Some(snippet) = text
            .as_deref()
            .and_then(|t| t.lines().nth((line as usize).saturating_sub(1)))
        {
            finding.snippet = Some(snippet.trim().to_owned());
        }
    }
}

/// The fixes under `fixes`, and on each failure finding of a function with a verified fix,
/// where its patch is.
pub fn add_fixes(document: &mut ReviewDocument, fixes: Vec<Fix>) {
    document.fixes = fixes;
    for index in 0..document.findings.len() {
        let finding = &document.findings[index];
        if finding.kind != FindingKind::Failure {
            continue;
        }
        let patch = document
            .verified_fix(finding.function_name())
            .and_then(|fix| fix.patch.clone());
        if patch.is_some() {
            document.findings[index].fix = patch;
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::document::Status;
    use serde_json::json;

    fn scoped() -> Analysis {
        serde_json::from_value(json!({
            "schema": "dualtrack.analyze/v1", "files": ["src/lib.rs"],
            "unreachable_files": [], "errors": [],
            "functions": [{"path": "c::f", "package": "c", "file": "src/lib.rs", "line": 1,
                "end_line": 5, "visibility": "pub", "sites": [
                    {"id": "c::f#if1", "kind": "if", "function": "c::f", "file": "src/lib.rs",
                     "line": 2, "column": 5, "end_line": 2, "text": "x == 0", "params": ["x"],
                     "guard": true}
                ]}]
        }))
        .unwrap()
    }

    fn score(unspecified: &[&str], unimplemented: &[&str]) -> ScoreReport {
        serde_json::from_value(json!({
            "schema": "dualtrack.score/v1", "specs": ["SPEC.md"], "site_coverage": 0.0,
            "item_coverage": 0.5, "functions": [], "links": [], "warnings": [],
            "items": [
                {"id": "AC1", "file": "SPEC.md", "line": 5, "section": "acceptance_criteria",
                 "text": "t", "names": [], "literals": []},
                {"id": "AC2", "file": "SPEC.md", "line": 6, "section": "acceptance_criteria",
                 "text": "t", "names": [], "literals": []}
            ],
            "unspecified_sites": unspecified, "unimplemented_items": unimplemented
        }))
        .unwrap()
    }

    #[test]
    fn spec_gaps_become_findings_at_their_places() {
        let mut document = ReviewDocument::empty("r1-1", "review", "offline");
        let report = score(&["c::f#if1"], &["AC2"]);
        add_gaps(&mut document, Some(&report), &scoped(), None);
        let found: Vec<(FindingKind, Option<&str>, Option<&str>)> = document
            .findings
            .iter()
            .map(|f| (f.kind, f.function.as_deref(), f.location.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    FindingKind::UnspecifiedSite,
                    Some("c::f"),
                    Some("src/lib.rs:2")
                ),
                (FindingKind::UnimplementedItem, None, Some("SPEC.md:6")),
            ]
        );
        assert!(
            document
                .findings
                .iter()
                .all(|f| f.verdict == Verdict::CheckSpec)
        );
        assert_eq!(document.item_coverage, Some(0.5));
    }

    #[test]
    fn items_about_functions_out_of_scope_are_neither_gaps_nor_counted() {
        let report = score(&[], &["AC1", "AC2"]);
        let in_scope: BTreeSet<String> = ["AC1".to_owned()].into();
        let mut document = ReviewDocument::empty("r1-1", "review", "offline");
        add_gaps(&mut document, Some(&report), &scoped(), Some(&in_scope));
        let items: Vec<&str> = document
            .findings
            .iter()
            .filter_map(|f| f.item.as_deref())
            .collect();
        assert_eq!(items, ["AC1"]);
        assert_eq!(document.item_coverage, Some(0.0));
        // No item about a function in scope: coverage says nothing, rather than 100%.
        let mut none = ReviewDocument::empty("r1-1", "review", "offline");
        add_gaps(&mut none, Some(&report), &scoped(), Some(&BTreeSet::new()));
        assert_eq!(none.item_coverage, None);
        // Without a spec, no coverage at all.
        let mut unscored = ReviewDocument::empty("r1-1", "review", "offline");
        add_gaps(&mut unscored, None, &scoped(), None);
        assert!(unscored.findings.is_empty() && unscored.site_coverage.is_none());
    }

    #[test]
    fn a_verified_fix_is_named_on_its_function_s_failures_only() {
        let failure = |function: &str| Finding {
            function: Some(function.into()),
            ..Finding::new(
                format!("F-{function}"),
                FindingKind::Failure,
                Verdict::LikelyBug,
                "m".into(),
            )
        };
        let mut document = ReviewDocument::empty("r1-1", "review", "openai");
        document.findings = vec![failure("c::f"), failure("c::g")];
        let fix = |function: &str, verified: bool| Fix {
            function: function.into(),
            verified,
            patch: verified.then(|| format!("fixes/{function}.patch")),
            ..Fix::default()
        };
        add_fixes(&mut document, vec![fix("c::f", true), fix("c::g", false)]);
        assert_eq!(
            document.findings[0].fix.as_deref(),
            Some("fixes/c::f.patch")
        );
        assert_eq!(document.findings[1].fix, None);
        assert_eq!(document.fixes.len(), 2);
        assert_eq!(document.findings[0].status, Status::New);
    }

    #[test]
    fn snippets_are_the_trimmed_source_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "fn f() {\n    a / b\n}\n").unwrap();
        let at = |location: &str| Finding {
            location: Some(location.into()),
            ..Finding::new(
                "F-1".into(),
                FindingKind::Failure,
                Verdict::LikelyBug,
                "m".into(),
            )
        };
        let mut findings = vec![at("src/lib.rs:2"), at("src/gone.rs:1"), at("src/lib.rs:99")];
        add_snippets(&mut findings, dir.path());
        let snippets: Vec<Option<&str>> = findings.iter().map(|f| f.snippet.as_deref()).collect();
        assert_eq!(snippets, [Some("a / b"), None, None]);
    }
}
