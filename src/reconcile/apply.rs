//! What `reconcile` writes into the user's tree besides decisions: a run's verified fix put in
//! place (and put back when what follows fails), and the run's tests gathered for check-in.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::analyze::Analysis;
use crate::checkin::KeptTest;
use crate::document::{Finding, ReviewDocument};
use crate::error::InputError;
use crate::workspace::Workspace;

/// Put files back as they were (applied fixes, when what followed failed).
pub fn restore(files: &[(PathBuf, String)]) -> anyhow::Result<()> {
    for (path, original) in files.iter().rev() {
        crate::output::write_atomically(path, original)?;
    }
    Ok(())
}

/// Put the run's verified fix for `id` in place in the user's file, after showing its diff;
/// the file's path and its text before.
pub fn apply_fix(
    workspace: &Workspace,
    analysis: &Analysis,
    report: &ReviewDocument,
    failures: &[&Finding],
    id: &str,
    run_id: &str,
) -> anyhow::Result<(PathBuf, String)> {
    let finding = failures
        .iter()
        .find(|f| f.id == id)
        .ok_or_else(|| InputError::new(format!("{id} is not a failure of run {run_id}")))?;
    let function_path = finding.function_name();
    let fix = report.verified_fix(function_path).ok_or_else(|| {
        InputError::new(format!(
            "{id}: run {run_id} has no verified fix for {function_path} (a review with a model \
             engine proposes them)"
        ))
    })?;
    let function = analysis
        .functions
        .iter()
        .find(|f| f.path == function_path)
        .ok_or_else(|| InputError::new(format!("{function_path} is not in the crate any more")))?;
    let path = workspace.root.join(&function.file);
    let original = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let name = function_path.rsplit("::").next().unwrap_or(function_path);
    let patched = crate::generate::llm::fix::apply_fix(
        &original,
        function.line,
        name,
        fix.code.as_deref().unwrap_or_default(),
    )
    .map_err(|why| {
        InputError::new(format!(
            "{id}: the fix no longer fits {} ({why}): review again",
            function.file
        ))
    })?;
    eprint!(
        "applying the verified fix for {function_path}:\n{}",
        crate::generate::llm::fix::unified_diff(&function.file, &original, &patched)
    );
    crate::output::write_atomically(&path, &patched)?;
    Ok((path, original))
}

/// The tests `names` (finding id or `passing`, test name) as the run wrote them, with the
/// functions they test and their `use` lines.
pub fn kept_tests(
    workspace: &Workspace,
    analysis: &Analysis,
    run_dir: &Path,
    report: &ReviewDocument,
    names: &[(String, String)],
) -> anyhow::Result<Vec<KeptTest>> {
    // Each test with the `use` lines of its module and whether a model wrote it.
    type Case = (crate::testfile::TestCase, Vec<String>, bool);
    let mut cases: std::collections::HashMap<String, Case> = std::collections::HashMap::new();
    // In the order they were written: a repair's module holds the version of a test that ran.
    let mut paths: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(run_dir)
        .with_context(|| format!("failed to read {}", run_dir.display()))?
        .flatten()
        .map(|entry| {
            let written = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (written, entry.path())
        })
        .collect();
    paths.sort();
    for (_, path) in paths {
        let is_module = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("dualtrack_") && n.ends_with(".rs"));
        if !is_module {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let Ok(module) = crate::testfile::parse_test_module(&text) else {
            continue;
        };
        let uses = KeptTest::uses_of(&module.preamble);
        // A module the tool did not mark as the offline engine's is the model's.
        let by_model = module
            .header
            .as_ref()
            .and_then(|h| h["engine"].as_str())
            .is_none_or(|engine| engine != "offline");
        for case in module.tests {
            cases.insert(case.name.clone(), (case, uses.clone(), by_model));
        }
    }
    let mut kept = Vec::new();
    for (finding, name) in names {
        let (case, uses, by_model) = cases.get(name).ok_or_else(|| {
            InputError::new(format!(
                "the test `{name}` is not in {} any more: run the review again",
                run_dir.display()
            ))
        })?;
        let function = analysis
            .functions
            .iter()
            .find(|f| f.path == case.meta.function)
            .ok_or_else(|| {
                InputError::new(format!(
                    "`{}` (tested by `{name}`) is not in the crate any more",
                    case.meta.function
                ))
            })?;
        let outcome = report
            .tests
            .iter()
            .find(|t| t.name == *name)
            .map_or("passed", |t| t.outcome.as_str())
            .to_owned();
        let mut test = KeptTest::new(
            workspace,
            analysis,
            function,
            finding.clone(),
            case.code.clone(),
            outcome,
            uses.clone(),
        );
        test.by_model = *by_model;
        kept.push(test);
    }
    Ok(kept)
}
