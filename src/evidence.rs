//! Site evidence: the sites each test's run reached (by the scratch copy's probes), summed per
//! function in scope and per run, beside the sites the tests only targeted.

use std::collections::BTreeSet;
use std::path::Path;

use crate::analyze::{Analysis, SiteKind};
use crate::document::{Evidence, FunctionEvidence, ReviewDocument, UnreachedSite};
use crate::scratch::probes::ProbeSummary;

/// Fill in `document`'s evidence, per function row and for the run, from its tests' reached
/// sites. `probes` is the run's probe summary (`None`: the run had no probes, and the document
/// gets no evidence). Snippets are read from the sources under `root`; `seen` are the hashes
/// of the files the run was made from (sources and specs), taken when they were read.
pub fn add_evidence(
    document: &mut ReviewDocument,
    analysis: &Analysis,
    probes: Option<&ProbeSummary>,
    root: &Path,
    seen: &std::collections::BTreeMap<String, String>,
    fuzzed: &BTreeSet<String>,
) {
    let Some(probes) = probes else {
        return;
    };
    let by_tests: BTreeSet<&str> = document
        .tests
        .iter()
        .flat_map(|test| test.reached.iter().flatten())
        .map(String::as_str)
        .collect();
    // The fuzz stage's inputs reached these too: evidence, marked as theirs.
    let reached: BTreeSet<&str> = by_tests
        .iter()
        .copied()
        .chain(fuzzed.iter().map(String::as_str))
        .collect();
    let targeted: BTreeSet<&str> = document
        .tests
        .iter()
        .flat_map(|test| &test.targets)
        .map(String::as_str)
        .collect();
    let mut sources = SourceLines::default();
    let mut evidence = Evidence {
        disabled: probes.disabled.clone(),
        // The sources as the run read them, only if none changed while it ran: the tests ran
        // code no later hash describes otherwise.
        sources: {
            let files: Vec<String> = seen.keys().cloned().collect();
            if source_hashes(root, &files) == *seen {
                seen.clone()
            } else {
                std::collections::BTreeMap::new()
            }
        },
        ..Evidence::default()
    };
    let mut targeted_sites = 0;
    for row in &mut document.per_function {
        let Some(function) = analysis.functions.iter().find(|f| f.path == row.function) else {
            continue;
        };
        if let Some(why) = probes.unprobed.get(&function.path) {
            evidence.unprobed.insert(function.path.clone(), why.clone());
        }
        let mut own = FunctionEvidence::default();
        for site in function
            .sites
            .iter()
            .filter(|s| probes.probed.contains(&s.id))
        {
            own.sites += 1;
            targeted_sites += usize::from(targeted.contains(site.id.as_str()));
            if reached.contains(site.id.as_str()) {
                own.reached.push(site.id.clone());
                if !by_tests.contains(site.id.as_str()) {
                    own.fuzz.push(site.id.clone());
                }
            } else {
                own.unreached.push(UnreachedSite {
                    site: site.id.clone(),
                    location: format!("{}:{}", site.file, site.line),
                    snippet: sources.line(root, &site.file, site.line),
                    edge: site.guard || site.kind == SiteKind::Panic,
                });
            }
        }
        own.reached.sort();
        evidence.sites += own.sites;
        evidence.reached += own.reached.len();
        if own.sites > 0 {
            row.evidence = Some(own);
        }
    }
    let share = |count: usize| (evidence.sites > 0).then(|| count as f64 / evidence.sites as f64);
    evidence.coverage = share(evidence.reached);
    evidence.targeted = share(targeted_sites);
    document.evidence = Some(evidence);
}

/// SHA-256 of each of `files` (relative to `root`) as it is now; an unreadable file is
/// left out, so it can never match.
pub fn source_hashes(root: &Path, files: &[String]) -> std::collections::BTreeMap<String, String> {
    use sha2::{Digest, Sha256};
    files
        .iter()
        .filter_map(|file| {
            let bytes = std::fs::read(root.join(file)).ok()?;
            let digest = Sha256::digest(&bytes);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            Some((file.clone(), hex))
        })
        .collect()
}

/// The files of `files` whose text differs from what the run recorded in `recorded` (or that
/// it never read): empty when the run's evidence is about this tree.
pub fn changed_since(
    recorded: &std::collections::BTreeMap<String, String>,
    root: &Path,
    files: &[String],
) -> Vec<String> {
    let now = source_hashes(root, files);
    files
        .iter()
        .filter(|file| recorded.get(*file).is_none() || recorded.get(*file) != now.get(*file))
        .cloned()
        .collect()
}

/// Source files read once each, for snippets.
#[derive(Default)]
struct SourceLines(std::collections::HashMap<String, Vec<String>>);

impl SourceLines {
    /// Line `line` (1-based) of `file` (relative to `root`), trimmed; empty when unreadable.
    fn line(&mut self, root: &Path, file: &str, line: u32) -> String {
        let lines = self.0.entry(file.to_owned()).or_insert_with(|| {
            std::fs::read_to_string(root.join(file))
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect()
        });
        lines
            .get(line.saturating_sub(1) as usize)
            .map(|l| l.trim().to_owned())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod test {
    use serde_json::json;

    use super::*;
    use crate::document::{TestRecord, per_function};
    use crate::scratch::execute::Outcome;

    #[test]
    fn sites_are_reached_by_any_test_and_unreached_edges_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("src/lib.rs"),
            "pub fn f(x: u8) -> u8 {\n    if x == 0 {\n        return 1;\n    }\n    10 / x\n}\n",
        )
        .unwrap();
        let site = |id: &str, kind: &str, line: u32, guard: bool| {
            json!({"id": id, "kind": kind, "function": "c::f", "file": "src/lib.rs",
                   "line": line, "column": 5, "end_line": line, "text": "", "params": ["x"],
                   "guard": guard})
        };
        let analysis: Analysis = serde_json::from_value(json!({
            "schema": "dualtrack.analyze/v1", "files": [], "unreachable_files": [],
            "errors": [],
            "functions": [{"path": "c::f", "package": "c", "file": "src/lib.rs", "line": 1,
                "end_line": 6, "visibility": "pub", "module": "c", "params": ["x"],
                "sites": [site("c::f#if1", "if", 2, true), site("c::f#return1", "return", 3, false),
                          site("c::f#panic1", "panic", 5, false), site("c::f#tail1", "tail", 5, false)],
                "calls": []}]
        }))
        .unwrap();
        let mut one = TestRecord::new("one", "c::f", Outcome::Passed);
        one.reached = Some(vec!["c::f#tail1".into(), "c::f#panic1".into()]);
        one.targets = vec!["c::f#if1".into()];
        let mut document = ReviewDocument::default();
        document.tests = vec![one];
        document.per_function = per_function(&document.tests);
        let probes = ProbeSummary {
            sites: 3,
            probed: ["c::f#if1", "c::f#panic1", "c::f#tail1"]
                .map(str::to_owned)
                .into(),
            ..ProbeSummary::default()
        };
        add_evidence(
            &mut document,
            &analysis,
            Some(&probes),
            dir.path(),
            &Default::default(),
            &Default::default(),
        );
        let evidence = document.evidence.unwrap();
        // The return carried no probe: it counts nowhere.
        assert_eq!((evidence.sites, evidence.reached), (3, 2));
        assert_eq!(evidence.coverage, Some(2.0 / 3.0));
        assert_eq!(evidence.targeted, Some(1.0 / 3.0));
        let row = document.per_function[0].evidence.clone().unwrap();
        assert_eq!(row.reached, ["c::f#panic1", "c::f#tail1"]);
        assert_eq!(
            row.unreached,
            [UnreachedSite {
                site: "c::f#if1".into(),
                location: "src/lib.rs:2".into(),
                snippet: "if x == 0 {".into(),
                edge: true,
            }]
        );
        // Without probes there is no evidence at all.
        let mut plain = ReviewDocument::default();
        add_evidence(
            &mut plain,
            &analysis,
            None,
            dir.path(),
            &Default::default(),
            &Default::default(),
        );
        assert!(plain.evidence.is_none());
    }
}
