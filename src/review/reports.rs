//! What a review leaves behind: `report.json`, `report.md`, `junit.xml` and `report.sarif` in
//! the run directory with its logs, `runs/latest`, and the review's row in the ledger.

use std::path::Path;

use anyhow::Context;

use crate::analyze::Analysis;
use crate::document::ReviewDocument;
use crate::output::write_atomically;
use crate::report::review::{render_junit, render_markdown};
use crate::workspace::Workspace;

/// What the ledger row needs beyond the review document.
pub struct LedgerFacts<'a> {
    pub task: Option<String>,
    pub model: String,
    pub scoped: &'a Analysis,
    pub first_pass_dropped: u64,
    pub repair_rounds: u64,
    pub cost: Option<f64>,
    pub wall_ms: u64,
    pub generate_ms: u64,
}

/// The review's row in the ledger.
pub fn ledger_row(document: &ReviewDocument, facts: LedgerFacts) -> crate::ledger::Row {
    let counts = &document.counts;
    let generated = counts.generated as u64;
    crate::ledger::Row {
        // An interrupted review's counts say nothing about the engine: `stats` leaves it out.
        kind: if document.interrupted {
            "interrupted".into()
        } else {
            "review".into()
        },
        run_id: document.run_id.clone(),
        timestamp: crate::ledger::now(),
        task: facts.task.unwrap_or_default(),
        engine: document.engine.clone(),
        model: facts.model,
        functions: facts.scoped.functions.len() as u64,
        sites: facts.scoped.sites().count() as u64,
        generated,
        compiled_first_pass: generated.saturating_sub(facts.first_pass_dropped),
        compiled: counts.compiled as u64,
        passed: counts.passed as u64,
        failed: (counts.failed + counts.panicked + counts.timed_out + counts.crashed) as u64,
        flaky: counts.flaky as u64,
        findings: document.failures().count() as u64,
        input_tokens: document.usage.input_tokens,
        cached_input_tokens: document.usage.cached_input_tokens,
        output_tokens: document.usage.output_tokens,
        cost_usd: facts.cost,
        wall_ms: facts.wall_ms,
        generate_ms: facts.generate_ms,
        sync_ms: document.timings.sync_ms,
        baseline_ms: document.timings.baseline_ms,
        build_ms: document.timings.build_ms,
        run_ms: document.timings.run_ms,
        repair_rounds: facts.repair_rounds,
        ..crate::ledger::Row::default()
    }
}

/// `logs/build.log` (what cargo said in each build) and `logs/tests.log` (each test's
/// outcome, time, message and output) in the run directory.
pub fn write_logs(run_dir: &Path, report: &crate::scratch::RunReport) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let logs = run_dir.join("logs");
    std::fs::create_dir_all(&logs)
        .with_context(|| format!("failed to create {}", logs.display()))?;
    crate::output::write_record(&logs.join("build.log"), &report.build_log)?;
    let mut tests = String::new();
    for result in &report.results {
        let _ = writeln!(
            tests,
            "==> {} ({}): {} in {} ms",
            result.name,
            result.function,
            result.outcome.as_str(),
            result.elapsed_ms
        );
        if !result.message.is_empty() {
            let _ = writeln!(tests, "{}", result.message);
        }
        for error in &result.compile_errors {
            let _ = writeln!(tests, "{error}");
        }
        if !result.output.is_empty() {
            let _ = writeln!(tests, "--- output\n{}", result.output.trim_end());
        }
    }
    crate::output::write_record(&logs.join("tests.log"), &tests)
}

/// The reports in the run directory, and `runs/latest` naming it.
pub fn write_reports(
    workspace: &Workspace,
    run_dir: &Path,
    id: &str,
    document: &ReviewDocument,
    sarif: &str,
) -> anyhow::Result<()> {
    crate::output::write_record(&run_dir.join("report.json"), &document.to_json_text())?;
    crate::output::write_record(&run_dir.join("report.md"), &render_markdown(document))?;
    crate::output::write_record(&run_dir.join("junit.xml"), &render_junit(document))?;
    crate::output::write_record(&run_dir.join("report.sarif"), sarif)?;
    let runs = workspace.target_directory.join("dualtrack").join("runs");
    write_atomically(&runs.join("latest"), &format!("{id}\n"))?;
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::document::{Counts, Finding, FindingKind, Verdict};

    #[test]
    fn the_ledger_row_counts_what_the_document_says() {
        let mut document = ReviewDocument::empty("r1-1", "review", "offline");
        document.counts = Counts {
            generated: 10,
            compiled: 9,
            passed: 4,
            failed: 1,
            panicked: 2,
            flaky: 1,
            timed_out: 1,
            crashed: 0,
            dropped: 1,
            cut: 0,
        };
        let finding = |kind| Finding::new("F-1".into(), kind, Verdict::LikelyBug, "m".into());
        document.findings = vec![
            finding(FindingKind::Failure),
            finding(FindingKind::Failure),
            finding(FindingKind::UnspecifiedSite),
        ];
        let scoped: Analysis = serde_json::from_value(serde_json::json!({
            "schema": "dualtrack.analyze/v1", "functions": [], "files": [],
            "unreachable_files": [], "errors": []
        }))
        .unwrap();
        let facts = |interrupted: bool| {
            let mut document = document.clone();
            document.interrupted = interrupted;
            ledger_row(
                &document,
                LedgerFacts {
                    task: Some("feature-x".into()),
                    model: String::new(),
                    scoped: &scoped,
                    first_pass_dropped: 3,
                    repair_rounds: 1,
                    cost: Some(0.0),
                    wall_ms: 5,
                    generate_ms: 2,
                },
            )
        };
        let row = facts(false);
        assert_eq!(row.kind, "review");
        assert_eq!((row.generated, row.compiled_first_pass), (10, 7));
        assert_eq!((row.passed, row.failed, row.flaky), (4, 4, 1));
        assert_eq!(row.findings, 2, "spec gaps are not findings of the engine");
        assert_eq!(row.task, "feature-x");
        // An interrupted review says nothing about the engine: `stats` leaves it out.
        assert_eq!(facts(true).kind, "interrupted");
    }
}
