//! `cargo dualtrack score`: spec coverage of the code, both ways, with a CI gate.

use anyhow::Context;

use crate::analyze::{AnalyzeOptions, analyze};
use crate::cli::{GlobalArgs, ScoreArgs, ScoreFormat};
use crate::error::{ExitCode, InputError};
use crate::output::Styling;
use crate::report::score::{render_human, render_markdown};
use crate::spec::parse::parse_spec;
use crate::spec::score::{gate_failure, score};
use crate::spec::{find_specs, model::Spec};

pub fn run(global: &GlobalArgs, args: &ScoreArgs) -> anyhow::Result<ExitCode> {
    let context = super::context::Context::open(global)?;
    let super::context::Context {
        workspace,
        config,
        cwd,
    } = &context;
    let spec_paths = find_specs(workspace, &args.specs.spec, &config.spec, cwd)?;
    if spec_paths.is_empty() {
        return Err(InputError::new(
            "no spec found: pass --spec PATH, set `spec = [...]` in dualtrack.toml, or add SPEC.md, specs/*.md or docs/specs/*.md",
        )
        .into());
    }
    let mut specs: Vec<Spec> = Vec::new();
    let mut warnings = Vec::new();
    for path in &spec_paths {
        let text = std::fs::read_to_string(path).map_err(|err| {
            InputError::new(format!("cannot read spec {}: {err}", path.display()))
        })?;
        let (spec, spec_warnings) = parse_spec(&text, &workspace.relative_path(path));
        specs.push(spec);
        warnings.extend(spec_warnings);
    }
    let filter = context.filter(&args.functions)?;
    let analysis = analyze(
        workspace,
        &AnalyzeOptions {
            include_tests: false,
            filter,
            jobs: global.jobs(),
        },
    );
    if args.functions.names_any() && analysis.functions.is_empty() {
        return Err(crate::analyze::filter::no_function_matches().into());
    }
    let report = score(specs, warnings, &analysis, args.all_functions);
    match args.format {
        ScoreFormat::Json => {
            let mut json =
                serde_json::to_string_pretty(&report).context("failed to serialize the score")?;
            json.push('\n');
            super::emit(global, &json, Styling::Plain)?;
        }
        ScoreFormat::Markdown => {
            super::emit(global, &render_markdown(&report, &analysis), Styling::Plain)?
        }
        ScoreFormat::Human => super::emit(
            global,
            &render_human(&report, &analysis, args.gaps),
            Styling::Styled,
        )?,
    }
    let min_sites = args.min.or(config.score.min);
    let min_items = args.min_items.or(config.score.min_items);
    let failures: Vec<String> = [
        min_sites.and_then(|min| gate_failure("site", report.site_coverage, min)),
        min_items.and_then(|min| gate_failure("item", report.item_coverage, min)),
    ]
    .into_iter()
    .flatten()
    .collect();
    for failure in &failures {
        eprintln!("error: {failure}");
    }
    Ok(if failures.is_empty() {
        ExitCode::Clean
    } else {
        ExitCode::Findings
    })
}
