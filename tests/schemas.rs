//! The published JSON Schemas (`docs/schemas/`): they are what the types generate, real
//! documents validate against them, and they are strict enough to fail a wrong one.
//! `DUALTRACK_UPDATE_SCHEMAS=1 cargo test --test schemas` rewrites them after a type changes.

use std::path::Path;

use dualtrack::schema::{Document, text};
use serde_json::{Value, json};

mod util;
use util::{assert_matches_schema, dualtrack, fixture};

fn schema_path(document: Document) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schemas")
        .join(document.file_name())
}

#[test]
fn the_committed_schemas_are_what_the_types_generate() {
    let update = std::env::var_os("DUALTRACK_UPDATE_SCHEMAS").is_some();
    for document in Document::ALL {
        let path = schema_path(document);
        let generated = text(document);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is not what the types generate: run `DUALTRACK_UPDATE_SCHEMAS=1 cargo test \
             --test schemas` and commit it (and bump the schema version if a reader could break)",
            path.display()
        );
    }
}

fn json_of(args: &[&str], fixture_name: &str) -> Value {
    let output = dualtrack()
        .args(args)
        .arg("--manifest-path")
        .arg(fixture(fixture_name).join("Cargo.toml"))
        .output()
        .unwrap();
    util::checked(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "{fixture_name} {args:?}: {err}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn the_analysis_of_every_fixture_validates() {
    for name in [
        "broken",
        "config_kv",
        "layers",
        "ledger",
        "multi",
        "planted",
        "reach",
        "sites",
    ] {
        let document = json_of(&["analyze", "--workspace", "--format", "json"], name);
        assert_eq!(document["schema"], "dualtrack.analyze/v1");
        assert_matches_schema(&Document::Analyze.file_name(), &document);
    }
}

#[test]
fn the_score_of_every_fixture_with_a_spec_validates() {
    for name in ["config_kv", "ledger", "planted", "reach"] {
        let document = json_of(&["score", "--format", "json"], name);
        assert_eq!(document["schema"], "dualtrack.score/v1");
        assert_matches_schema(&Document::Score.file_name(), &document);
    }
}

/// Whether `document` validates against the published schema of `kind`.
fn valid(kind: Document, document: &Value) -> bool {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path(kind)).unwrap()).unwrap();
    jsonschema::validator_for(&schema)
        .unwrap()
        .is_valid(document)
}

#[test]
fn the_schemas_fail_what_is_wrong() {
    let analysis = json_of(&["analyze", "--format", "json"], "planted");
    assert!(valid(Document::Analyze, &analysis));
    // A field nobody writes, at the top and deep inside.
    let mut extra = analysis.clone();
    extra["surprise"] = json!(1);
    assert!(!valid(Document::Analyze, &extra));
    let mut deep = analysis.clone();
    deep["functions"][0]["sites"][0]["surprise"] = json!(1);
    assert!(!valid(Document::Analyze, &deep));
    // A field a kind does not carry: `via` belongs to panic sites.
    let mut foreign = analysis.clone();
    let site = deep["functions"][0]["sites"][0]["kind"].as_str().unwrap();
    assert_ne!(site, "panic");
    foreign["functions"][0]["sites"][0]["via"] = json!("unwrap");
    assert!(!valid(Document::Analyze, &foreign));
    // A required field gone, and a wrong type.
    let mut missing = analysis.clone();
    missing["functions"][0]
        .as_object_mut()
        .unwrap()
        .remove("visibility");
    assert!(!valid(Document::Analyze, &missing));
    let mut wrong = analysis;
    wrong["schema"] = json!("dualtrack.analyze/v2");
    assert!(!valid(Document::Analyze, &wrong));

    let review = json!({
        "schema": "dualtrack.review/v1", "run_id": "r1-1", "scope": "review", "engine": "offline",
        "counts": {"generated": 0, "compiled": 0, "passed": 0, "failed": 0, "panicked": 0,
                   "flaky": 0, "timed_out": 0, "crashed": 0, "dropped": 0, "cut": 0},
        "tests": [], "findings": [],
        "usage": {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0},
        "interrupted": false,
        "timings": {"sync_ms": 0, "baseline_ms": 0, "build_ms": 0, "run_ms": 0},
        "site_coverage": null, "item_coverage": null, "skipped": [], "per_function": []
    });
    assert!(valid(Document::Review, &review));
    let mut bad_status = review.clone();
    bad_status["findings"] = json!([{"id": "F-1", "kind": "failure", "function": "c::f",
        "test": "t", "verdict": "likely_bug", "status": "maybe", "message": "m",
        "location": null, "site": null, "item": null}]);
    assert!(!valid(Document::Review, &bad_status));
    bad_status["findings"][0]["status"] = json!("new");
    assert!(valid(Document::Review, &bad_status));
    let mut no_coverage = review;
    no_coverage.as_object_mut().unwrap().remove("site_coverage");
    assert!(!valid(Document::Review, &no_coverage));
}
