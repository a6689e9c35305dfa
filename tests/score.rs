//! `cargo dualtrack score` on the fixture crates: links against hand labels, gaps, gates.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

mod util;
use util::{copy_fixture, dualtrack, fixture};

fn score_json(name: &str) -> Value {
    let output = dualtrack()
        .args(["score", "--format", "json", "--manifest-path"])
        .arg(fixture(name).join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    util::checked(&output.stdout).unwrap()
}

fn labels(name: &str) -> BTreeSet<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/labels")
        .join(format!("{name}.txt"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (item, site) = l.split_once(' ').unwrap();
            (item.to_owned(), site.trim().to_owned())
        })
        .collect()
}

fn links(doc: &Value) -> BTreeSet<(String, String)> {
    doc["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["item"].as_str().unwrap().to_owned(),
                l["site"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Precision and recall of the linker against hand labels: printed, and held above a floor so
/// a regression fails.
#[test]
fn score_links_match_hand_labels_with_high_precision() {
    let (mut found, mut correct, mut labelled) = (0, 0, 0);
    for name in ["ledger", "config_kv"] {
        let ours = links(&score_json(name));
        let truth = labels(name);
        let hits = ours.intersection(&truth).count();
        println!(
            "{name}: {} links, {} labelled, precision {:.2}, recall {:.2}",
            ours.len(),
            truth.len(),
            hits as f64 / ours.len() as f64,
            hits as f64 / truth.len() as f64
        );
        for wrong in ours.difference(&truth) {
            println!("  not in labels: {} -> {}", wrong.0, wrong.1);
        }
        for missed in truth.difference(&ours) {
            println!("  missed: {} -> {}", missed.0, missed.1);
        }
        found += ours.len();
        correct += hits;
        labelled += truth.len();
    }
    let precision = correct as f64 / found as f64;
    let recall = correct as f64 / labelled as f64;
    println!("overall: precision {precision:.2}, recall {recall:.2}");
    assert!(precision >= 0.9, "precision {precision:.2} fell below 0.90");
    assert!(recall >= 0.8, "recall {recall:.2} fell below 0.80");
}

#[test]
fn score_flags_promises_with_no_code_and_lists_gaps_by_file_and_line() {
    let doc = score_json("ledger");
    let unimplemented: Vec<&str> = doc["unimplemented_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // AC7 (balance never panics) and the zero-parts and multi-byte edge cases have no branch.
    for id in ["AC7", "edge-cases-b809a2ed", "edge-cases-a0388b28"] {
        assert!(
            unimplemented.contains(&id),
            "{id} not flagged: {unimplemented:?}"
        );
    }
    let output = dualtrack()
        .args(["score", "--gaps", "--manifest-path"])
        .arg(fixture("ledger/Cargo.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("SPEC.md:12  AC7  `Ledger::balance` never panics."),
        "{text}"
    );
    assert!(
        text.contains("src/lib.rs:64:22  ledger::split_evenly#panic1  total / parts as i64"),
        "{text}"
    );
    insta::assert_snapshot!("ledger_score_human", text);
}

#[test]
fn score_config_kv_json_snapshot_and_malformed_row_warning() {
    let doc = score_json("config_kv");
    let warnings: Vec<String> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            format!(
                "{}:{}: {}",
                w["file"].as_str().unwrap(),
                w["line"],
                w["message"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("SPEC.md:19: contract row does not parse")),
        "{warnings:?}"
    );
    assert!(
        doc["unimplemented_items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "KV7")
    );
    insta::assert_json_snapshot!("config_kv_score", doc);
}

#[test]
fn score_min_gates_with_exit_1_and_one_line() {
    let manifest = fixture("ledger/Cargo.toml");
    let assert = dualtrack()
        .args([
            "score",
            "--min",
            "80",
            "--format",
            "json",
            "--manifest-path",
        ])
        .arg(&manifest)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("site coverage") && stderr.contains("below the minimum 80% by"),
        "{stderr}"
    );
    dualtrack()
        .args(["score", "--min", "5", "--manifest-path"])
        .arg(&manifest)
        .assert()
        .code(0);
    dualtrack()
        .args(["score", "--min-items", "99", "--manifest-path"])
        .arg(&manifest)
        .assert()
        .code(1);
    dualtrack()
        .args(["score", "--min", "150", "--manifest-path"])
        .arg(&manifest)
        .assert()
        .code(2);
    dualtrack()
        .args(["score", "--manifest-path"])
        .arg(&manifest)
        .assert()
        .code(0);
}

#[test]
fn score_min_from_config_and_command_line_wins() {
    let dir = copy_fixture("ledger");
    let manifest = dir.path().join("Cargo.toml");
    std::fs::write(dir.path().join("dualtrack.toml"), "[score]\nmin = 90\n").unwrap();
    dualtrack()
        .args(["score", "--manifest-path"])
        .arg(&manifest)
        .assert()
        .code(1);
    dualtrack()
        .args(["score", "--min", "5", "--manifest-path"])
        .arg(&manifest)
        .assert()
        .code(0);
    std::fs::write(dir.path().join("dualtrack.toml"), "[score]\nminimum = 90\n").unwrap();
    let assert = dualtrack()
        .args(["score", "--manifest-path"])
        .arg(&manifest)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("dualtrack.toml:2") && stderr.contains("minimum"),
        "{stderr}"
    );
}

#[test]
fn score_without_spec_or_with_a_missing_spec_path_is_an_input_error() {
    let dir = copy_fixture("ledger");
    std::fs::remove_file(dir.path().join("SPEC.md")).unwrap();
    let manifest = dir.path().join("Cargo.toml");
    let assert = dualtrack()
        .args(["score", "--manifest-path"])
        .arg(&manifest)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&assert.get_output().stderr).contains("no spec found"));
    dualtrack()
        .args(["score", "--spec", "/nonexistent/spec.md", "--manifest-path"])
        .arg(&manifest)
        .assert()
        .code(2);
}

#[test]
fn score_markdown_fits_a_pr_comment() {
    let output = dualtrack()
        .args(["score", "--format", "markdown", "--manifest-path"])
        .arg(fixture("config_kv/Cargo.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("### Spec coverage"));
    assert!(text.contains("| `config_kv::parse_line` |"));
    assert!(text.contains("**KV7** (SPEC.md:12)"));
}

/// `score --run`: links by execution from a review's run while the sources are as it saw them,
/// none once a file changed (a stale run never moves the gate), and the matrix of item × site
/// × test in markdown and JSON.
#[test]
fn score_run_adds_evidence_links_only_while_the_sources_match_and_the_matrix_shows_them() {
    let dir = copy_fixture("config_kv");
    let manifest = dir.path().join("Cargo.toml");
    let review = dualtrack()
        .args(["review", "--fail-on", "never", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(
        review.status.success(),
        "{}",
        String::from_utf8_lossy(&review.stderr)
    );
    let score = |extra: &[&str]| {
        let output = dualtrack()
            .args(["score", "--manifest-path"])
            .arg(&manifest)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        (
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let basis_of = |doc: &Value, basis: &str| -> BTreeSet<(String, String)> {
        doc["links"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["basis"] == basis)
            .map(|l| {
                (
                    l["item"].as_str().unwrap().to_owned(),
                    l["site"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let (text_only, _) = score(&["--format", "json"]);
    let text_only: Value = util::checked(text_only.as_bytes()).unwrap();
    assert!(text_only.get("evidence").is_none());
    assert!(basis_of(&text_only, "evidence").is_empty());

    let (fresh, _) = score(&["--format", "json", "--run", "latest"]);
    let fresh: Value = util::checked(fresh.as_bytes()).unwrap();
    assert_eq!(fresh["evidence"]["used"], true, "{:#}", fresh["evidence"]);
    let evidence = basis_of(&fresh, "evidence");
    // `parse_port("0")` took the zero-port guard and its exit; the baseline call did not.
    assert!(
        evidence.contains(&(
            "contracts-e0ff128e".to_owned(),
            "config_kv::parse_port#if1".to_owned()
        )),
        "{evidence:?}"
    );
    // KV2's "=" line took the missing-key guard, which the words alone did not link.
    assert!(
        evidence.contains(&("KV2".to_owned(), "config_kv::parse_line#if2".to_owned())),
        "{evidence:?}"
    );
    assert_eq!(
        fresh["evidence"]["links"].as_u64().unwrap() as usize,
        evidence.len()
    );
    // Text links stay as they were.
    assert_eq!(basis_of(&fresh, "text"), basis_of(&text_only, "text"));

    let (markdown, _) = score(&["--run", "latest", "--matrix"]);
    assert!(
        markdown.contains("| item | site | linked by | reached by |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| KV7 (SPEC.md:12) | no site backs it | | |"),
        "{markdown}"
    );
    assert!(markdown.contains("text, evidence"), "{markdown}");
    let (json, _) = score(&["--run", "latest", "--matrix", "--format", "json"]);
    let matrix: Value = util::checked(json.as_bytes()).unwrap();
    assert_eq!(matrix["schema"], "dualtrack.matrix/v1");
    util::assert_matches_schema("matrix.v1.schema.json", &matrix);
    util::assert_matches_schema("score.v1.schema.json", &fresh);
    let kv2 = matrix["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "KV2")
        .unwrap();
    let cell = kv2["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["site"] == "config_kv::parse_line#if2")
        .unwrap();
    assert_eq!(cell["own_test"], true, "{cell:#}");
    assert!(!cell["tests"].as_array().unwrap().is_empty());

    // The spec changed since the run: its tests checked other promises.
    let spec = dir.path().join("SPEC.md");
    let original = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("{original}\n")).unwrap();
    let (_, stderr) = score(&["--format", "json", "--run", "latest"]);
    assert!(
        stderr.contains("SPEC.md changed since that run"),
        "{stderr}"
    );
    std::fs::write(&spec, &original).unwrap();
    // One changed byte in the source: the run is stale, its evidence does not count.
    let lib = dir.path().join("src/lib.rs");
    let mut text = std::fs::read_to_string(&lib).unwrap();
    text.push_str("// edited\n");
    std::fs::write(&lib, text).unwrap();
    let (stale, stderr) = score(&["--format", "json", "--run", "latest"]);
    let stale: Value = util::checked(stale.as_bytes()).unwrap();
    assert_eq!(stale["evidence"]["used"], false);
    assert!(
        stderr.contains("src/lib.rs changed since that run"),
        "{stderr}"
    );
    assert!(basis_of(&stale, "evidence").is_empty());
    assert_eq!(stale["site_coverage"], text_only["site_coverage"]);
}
