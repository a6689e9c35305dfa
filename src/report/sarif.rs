//! A `dualtrack.review/v1` document as SARIF 2.1.0, for GitHub code scanning and other SARIF
//! viewers: failures as errors at the panicking line, dropped tests as warnings, spec gaps and
//! the untested edges of a change (guards and panic sites no test reached) as notes.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::document::split_location;
use crate::document::{Finding, FindingKind, ReviewDocument, TestRecord};

/// What the document alone does not say: where files are, and how this run is named.
pub struct SarifContext<'a> {
    /// A report's file (workspace-relative, or absolute for a spec outside the workspace) as
    /// a path relative to the repository's top level, so alerts land on the right file in a
    /// workspace that is a subfolder; `None` for a file outside the repository (std, the
    /// generated test).
    pub repo_relative: &'a dyn Fn(&str) -> Option<String>,
    /// Each function's definition (`file`, `line`, workspace-relative): where a finding goes
    /// when its own place is not in the user's files (a failing assertion in the generated
    /// test, a test that did not compile).
    pub function_locations: &'a HashMap<String, (String, u32)>,
    /// Code scanning replaces the alerts of an earlier upload of the same category: shards of
    /// one review need categories of their own.
    pub category: String,
    /// The functions in scope are a change's: their unreached guards and panic sites are the
    /// edges it left untested, one note each. (Of a whole crate they would be noise.)
    pub edges: bool,
}

/// The rules, one per finding kind, with the level code scanning shows.
const RULES: [(&str, &str, &str, &str); 5] = [
    (
        "failure",
        "GeneratedTestFailure",
        "error",
        "A generated edge-case test failed, panicked, timed out, crashed or was flaky.",
    ),
    (
        "dropped_test",
        "DroppedTest",
        "warning",
        "A generated test did not compile or was rejected, so the edge it aimed at went untried.",
    ),
    (
        "unspecified_site",
        "UnspecifiedSite",
        "note",
        "A branch, guard, return path or panic site that no spec item speaks to.",
    ),
    (
        "unimplemented_item",
        "UnimplementedItem",
        "note",
        "A spec item that no site in the code backs.",
    ),
    (
        "untested_edge",
        "UntestedEdge",
        "note",
        "A guard or panic site of a changed function that no generated test's run reached.",
    ),
];

/// The SARIF log: one run with the tool's rules and a result per finding that has a place.
pub fn render_sarif(document: &ReviewDocument, context: &SarifContext) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(id, name, level, text)| {
            json!({
                "id": id,
                "name": name,
                "shortDescription": {"text": text},
                "defaultConfiguration": {"level": level},
            })
        })
        .collect();
    let tests: HashMap<&str, &TestRecord> = document
        .tests
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let mut results: Vec<Value> = document
        .findings
        .iter()
        .filter_map(|finding| result(finding, &tests, context))
        .collect();
    if context.edges {
        results.extend(untested_edges(document, context));
    }
    let run_id = &document.run_id;
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cargo-dualtrack",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "automationDetails": {"id": format!("{}/{run_id}", context.category)},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).expect("a JSON value serializes");
    text.push('\n');
    text
}

/// One finding as a result; `None` for one with no place in the user's files at all.
fn result(
    finding: &Finding,
    tests: &HashMap<&str, &TestRecord>,
    context: &SarifContext,
) -> Option<Value> {
    let kind = finding.kind.as_str();
    let rule_index = RULES.iter().position(|(id, ..)| *id == kind)?;
    let level = RULES[rule_index].2;
    let function = finding.function_name();
    let in_repo = |(file, line): (String, u32)| Some(((context.repo_relative)(&file)?, line));
    let own_place = finding
        .location
        .as_deref()
        .and_then(split_location)
        .and_then(in_repo);
    let (file, line) = own_place.or_else(|| {
        context
            .function_locations
            .get(function)
            .cloned()
            .and_then(in_repo)
    })?;
    let mut region = json!({"startLine": line.max(1)});
    if let Some(snippet) = &finding.snippet {
        region["snippet"] = json!({"text": snippet});
    }
    let test = finding
        .test
        .as_deref()
        .and_then(|name| tests.get(name))
        .copied();
    let mut properties = serde_json::Map::new();
    properties.insert("verdict".into(), json!(finding.verdict));
    properties.insert("status".into(), json!(finding.status));
    let optional = [
        ("function", &finding.function),
        ("test", &finding.test),
        ("site", &finding.site),
        ("item", &finding.item),
        ("input", &test.and_then(|t| t.input.clone())),
        ("reproduce", &finding.reproduce),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            properties.insert(key.into(), json!(value));
        }
    }
    Some(json!({
        "ruleId": kind,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": message(finding, test)},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri(&file)},
            "region": region,
        }}],
        "partialFingerprints": {"dualtrackFindingId/v1": finding.id},
        "properties": properties,
    }))
}

/// A note per guard or panic site of a function in scope that no test's run reached.
fn untested_edges(document: &ReviewDocument, context: &SarifContext) -> Vec<Value> {
    let rule_index = RULES
        .iter()
        .position(|(id, ..)| *id == "untested_edge")
        .expect("a rule");
    document
        .untested_edges()
        .filter_map(|(function, site)| {
            let (file, line) = split_location(&site.location)?;
            let file = (context.repo_relative)(&file)?;
            Some(json!({
                "ruleId": "untested_edge",
                "ruleIndex": rule_index,
                "level": "note",
                "message": {"text": format!(
                    "No generated test of `{function}` reached `{}`: an edge left untried",
                    site.snippet
                )},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri(&file)},
                    "region": {"startLine": line.max(1), "snippet": {"text": site.snippet}},
                }}],
                "partialFingerprints": {"dualtrackSiteId/v1": site.site},
                "properties": {"function": function, "site": site.site},
            }))
        })
        .collect()
}

/// What a reader of the alert needs first: the function, what happened, with which input.
fn message(finding: &Finding, test: Option<&TestRecord>) -> String {
    let text = finding.message.trim();
    let function = finding.function_name();
    match finding.kind {
        FindingKind::Failure => {
            let outcome = test
                .map(|t| t.outcome.as_str())
                .unwrap_or("failed")
                .replace('_', " ");
            let mut out = format!("`{function}` {outcome} under a generated test");
            if let Some(input) = test.and_then(|t| t.input.as_deref()) {
                out.push_str(&format!(" with input `{input}`"));
            }
            if !text.is_empty() {
                out.push_str(&format!(": {text}"));
            }
            out
        }
        FindingKind::DroppedTest => {
            format!("A generated test of `{function}` was dropped: {text}")
        }
        FindingKind::UnspecifiedSite => format!(
            "No spec item speaks to site `{}` of `{function}`",
            finding.site.as_deref().unwrap_or_default()
        ),
        FindingKind::UnimplementedItem => format!(
            "No site in the code backs spec item `{}`",
            finding.item.as_deref().unwrap_or_default()
        ),
    }
}

/// A repository-relative URI reference: the path's segments percent-encoded where URIs need it.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod test {
    use super::*;

    fn document() -> ReviewDocument {
        serde_json::from_value(json!({
            "run_id": "r1-2",
            "tests": [
                {"name": "f_empty", "function": "c::f", "input": "f(\"\")", "outcome": "panicked"},
                {"name": "g_max", "function": "c::g", "input": "g(u8::MAX)", "outcome": "failed"},
            ],
            "findings": [
                {"id": "F-0000000001", "kind": "failure", "function": "c::f", "test": "f_empty",
                 "verdict": "likely_bug", "status": "new", "message": "byte index 1 is out of range",
                 "location": "src/lib.rs:7", "snippet": "&s[1..]", "site": "c::f#p1", "item": null},
                // The test's own assertion, in the generated file: the function's line instead.
                {"id": "F-0000000002", "kind": "failure", "function": "c::g", "test": "g_max",
                 "verdict": "check_test", "status": "known", "message": "assertion failed",
                 "location": "/tmp/run/dualtrack_offline.rs:30", "site": null, "item": null},
                {"id": "F-0000000003", "kind": "unspecified_site", "function": "c::f",
                 "test": null, "verdict": "check_spec", "status": "new",
                 "message": "no spec item speaks to this site", "location": "src/lib.rs:9",
                 "site": "c::f#b1", "item": null},
                {"id": "F-0000000004", "kind": "unimplemented_item", "function": null,
                 "test": null, "verdict": "check_spec", "status": "new",
                 "message": "no site backs this spec item", "location": "docs/my spec.md:4",
                 "site": null, "item": "AC-2"},
                // A spec beside the workspace, in the repository.
                {"id": "F-0000000006", "kind": "unimplemented_item", "function": null,
                 "test": null, "verdict": "check_spec", "status": "new",
                 "message": "no site backs this spec item", "location": "/repo/docs/SPEC.md:9",
                 "site": null, "item": "AC-3"},
                // Nowhere in the tree: left out.
                {"id": "F-0000000005", "kind": "dropped_test", "function": "c::gone",
                 "test": null, "verdict": "check_test", "status": "new",
                 "message": "does not compile", "location": null, "site": null, "item": null},
            ],
            // A guard no test reached is an untested edge; a tail is not.
            "per_function": [{"function": "c::f", "tests": 1, "passed": 0, "failing": 1,
                "dropped": 0, "evidence": {"sites": 3, "reached": ["c::f#p1"], "unreached": [
                    {"site": "c::f#if1", "location": "src/lib.rs:6", "snippet": "if s.is_empty() {",
                     "edge": true},
                    {"site": "c::f#tail1", "location": "src/lib.rs:8", "snippet": "s.len()",
                     "edge": false}]}}],
        }))
        .unwrap()
    }

    fn render(prefix: &str) -> Value {
        let functions: HashMap<String, (String, u32)> = [
            ("c::f".to_owned(), ("src/lib.rs".to_owned(), 5)),
            ("c::g".to_owned(), ("src/lib.rs".to_owned(), 20)),
        ]
        .into_iter()
        .collect();
        let repo_relative = |file: &str| {
            if let Some(rest) = file.strip_prefix("/repo/") {
                Some(rest.to_owned())
            } else {
                (!file.starts_with('/')).then(|| format!("{prefix}/{file}"))
            }
        };
        let text = render_sarif(
            &document(),
            &SarifContext {
                repo_relative: &repo_relative,
                function_locations: &functions,
                category: "cargo-dualtrack".into(),
                edges: true,
            },
        );
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn the_log_is_valid_sarif_2_1_0() {
        let schema: Value =
            serde_json::from_str(include_str!("../../tests/data/sarif-schema-2.1.0.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let log = render("crates/x");
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // The validator does catch a broken log.
        let mut broken = log.clone();
        broken["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(!validator.is_valid(&broken));
    }

    #[test]
    fn failures_are_errors_at_their_line_and_gaps_are_notes() {
        let log = render("crates/x");
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 6, "the finding with no place is left out");
        let place = |r: &Value| {
            let location = &r["locations"][0]["physicalLocation"];
            (
                location["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                location["region"]["startLine"].as_u64().unwrap(),
            )
        };
        assert_eq!(results[0]["level"], "error");
        assert_eq!(place(&results[0]), ("crates/x/src/lib.rs".into(), 7));
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["region"]["snippet"]["text"],
            "&s[1..]"
        );
        assert_eq!(
            results[0]["message"]["text"],
            "`c::f` panicked under a generated test with input `f(\"\")`: byte index 1 is out of range"
        );
        assert_eq!(place(&results[1]), ("crates/x/src/lib.rs".into(), 20));
        assert_eq!(results[2]["level"], "note");
        assert_eq!(place(&results[3]), ("crates/x/docs/my%20spec.md".into(), 4));
        assert_eq!(place(&results[4]), ("docs/SPEC.md".into(), 9));
        // The untested edge, a note at the guard's line.
        assert_eq!(results[5]["ruleId"], "untested_edge");
        assert_eq!(results[5]["level"], "note");
        assert_eq!(place(&results[5]), ("crates/x/src/lib.rs".into(), 6));
        assert_eq!(
            results[5]["message"]["text"],
            "No generated test of `c::f` reached `if s.is_empty() {`: an edge left untried"
        );
        assert_eq!(
            results[0]["partialFingerprints"]["dualtrackFindingId/v1"],
            "F-0000000001"
        );
        assert_eq!(
            log["runs"][0]["automationDetails"]["id"],
            "cargo-dualtrack/r1-2"
        );
    }

    #[test]
    fn uris_are_encoded() {
        assert_eq!(uri("src/lib.rs"), "src/lib.rs");
        assert_eq!(uri("a/src/é #.rs"), "a/src/%C3%A9%20%23.rs");
    }
}
