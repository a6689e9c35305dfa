//! `cargo dualtrack run-tests FILE...`: run generated test files in the scratch copy and
//! report each test's outcome.

use crate::analyze::{AnalyzeOptions, analyze};
use crate::cli::{GlobalArgs, RunTestsArgs, RunTestsFormat};
use crate::error::{ExitCode, InputError};
use crate::output::Styling;
use crate::report::run::render_human;
use crate::review::findings::review_document;
use crate::scratch::ModuleInput;
use crate::setup::runner::{run_or_stop, runner_options};
use crate::testfile::parse_test_module;
use crate::workspace::Workspace;

pub fn run(global: &GlobalArgs, args: &RunTestsArgs) -> anyhow::Result<ExitCode> {
    crate::interrupt::install();
    let workspace = Workspace::load(&global.package_selection(true))?;
    workspace.check_features(&global.feature_selection())?;
    let mut modules = Vec::new();
    for path in &args.files {
        let text = crate::input::read_to_string(path)
            .map_err(|err| InputError::new(format!("cannot read {}: {err}", path.display())))?;
        let module = parse_test_module(&text).map_err(|err| {
            InputError::new(format!("{}:{}: {}", path.display(), err.line, err.message))
        })?;
        let engine = module
            .header
            .as_ref()
            .and_then(|h| h["engine"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "custom".to_owned());
        modules.push(ModuleInput {
            engine,
            module,
            source: Some(path.display().to_string()),
            settings: None,
        });
    }
    if !args.tests.is_empty() {
        only_named(&mut modules, &args.tests)?;
    }
    let model_written = modules.iter().any(|m| m.engine != "offline");
    let options = runner_options(global, &args.runner, model_written, "run-tests")?;
    let analysis = analyze(&workspace, &AnalyzeOptions::default());
    let seen = crate::evidence::source_hashes(&workspace.root, &analysis.files);
    let report = match run_or_stop(&workspace, &analysis, &modules, &options)? {
        Ok(report) => report,
        Err(stopped) => return Ok(stopped.code),
    };
    let engine = modules.first().map_or("custom", |m| m.engine.as_str());
    match args.format {
        RunTestsFormat::Json => {
            let mut document = review_document(&report, engine, "run-tests");
            crate::evidence::add_evidence(
                &mut document,
                &analysis,
                report.probes.as_ref(),
                &workspace.root,
                &seen,
                &Default::default(),
            );
            let text = document.to_json_text();
            super::emit(global, &text, Styling::Plain)?;
        }
        RunTestsFormat::Human => super::emit(global, &render_human(&report), Styling::Styled)?,
    }
    if report.interrupted {
        eprintln!("interrupted: the report holds the tests that finished before Ctrl-C");
        return Ok(ExitCode::Interrupted);
    }
    let failing = report.results.iter().any(|r| r.outcome.is_failure());
    Ok(if failing {
        ExitCode::Findings
    } else {
        ExitCode::Clean
    })
}

/// Keep only the tests `names` names; a name no file holds is an input error.
fn only_named(modules: &mut [ModuleInput], names: &[String]) -> Result<(), InputError> {
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| {
            !modules
                .iter()
                .any(|m| m.module.tests.iter().any(|t| &&t.name == name))
        })
        .collect();
    if !missing.is_empty() {
        return Err(InputError::new(format!(
            "no test named {} in the files given",
            missing
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for module in modules {
        module.module.tests.retain(|t| names.contains(&t.name));
    }
    Ok(())
}
