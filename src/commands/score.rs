//! `cargo dualtrack score`: spec coverage of the code, both ways, with a CI gate.

use anyhow::Context;

use crate::analyze::{AnalyzeOptions, analyze};
use crate::cli::{GlobalArgs, ScoreArgs, ScoreFormat};
use crate::document::TestRecord;
use crate::error::{ExitCode, InputError};
use crate::evidence::changed_since;
use crate::output::Styling;
use crate::reconcile::run_dir::read_run;
use crate::report::score::{render_human, render_markdown};
use crate::spec::executed::RanTest;
use crate::spec::model::LinkBasis;
use crate::spec::parse::parse_spec;
use crate::spec::score::{RunBasis, ScoreReport, gate_failure, score};
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
    let run = match &args.run {
        Some(run) => {
            // The run must have been made from these very sources and specs.
            let read_files: Vec<String> = analysis
                .files
                .iter()
                .cloned()
                .chain(specs.iter().map(|spec| spec.file.clone()))
                .collect();
            Some(read_run_evidence(workspace, &read_files, run)?)
        }
        None => None,
    };
    let ran: Option<Vec<RanTest>> = run
        .as_ref()
        .filter(|r| r.basis.used)
        .map(|r| r.tests.iter().map(ran_test).collect());
    let run_tests = ran.as_deref();
    let mut report = score(specs, warnings, &analysis, args.all_functions, run_tests);
    if let Some(mut run) = run {
        run.basis.links = report
            .links
            .iter()
            .filter(|l| l.basis == LinkBasis::Evidence)
            .count();
        if let Some(why) = &run.basis.why_not {
            eprintln!(
                "warning: run {} gives no evidence links: {why}",
                run.basis.run
            );
        }
        report.evidence = Some(run.basis);
        if args.matrix {
            emit_matrix(global, args, &report, &analysis, &run.tests)?;
            return Ok(gate(args, config, &report));
        }
    } else if args.matrix {
        emit_matrix(global, args, &report, &analysis, &[])?;
        return Ok(gate(args, config, &report));
    }
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
    Ok(gate(args, config, &report))
}

/// The CI gate: exit 1 when a coverage is below its minimum, each shortfall said on stderr.
fn gate(args: &ScoreArgs, config: &crate::config::Config, report: &ScoreReport) -> ExitCode {
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
    if failures.is_empty() {
        ExitCode::Clean
    } else {
        ExitCode::Findings
    }
}

fn emit_matrix(
    global: &GlobalArgs,
    args: &ScoreArgs,
    report: &ScoreReport,
    analysis: &crate::analyze::Analysis,
    tests: &[TestRecord],
) -> anyhow::Result<()> {
    let matrix = crate::report::matrix::matrix(report, analysis, tests);
    let text = match args.format {
        ScoreFormat::Json => {
            let mut json =
                serde_json::to_string_pretty(&matrix).context("failed to serialize the matrix")?;
            json.push('\n');
            json
        }
        ScoreFormat::Markdown | ScoreFormat::Human => {
            crate::report::matrix::render_markdown(&matrix)
        }
    };
    super::emit(global, &text, Styling::Plain)
}

/// The part of a test's record that links by execution read.
fn ran_test(test: &TestRecord) -> RanTest {
    RanTest {
        name: test.name.clone(),
        function: test.function.clone(),
        category: test.category.clone(),
        spec_items: test.spec_items.clone(),
        input: test.input.clone(),
        reached: test.reached.clone(),
        oracle: test.oracle.clone(),
        passed: test.outcome == crate::scratch::execute::Outcome::Passed,
        completed: matches!(
            test.outcome,
            crate::scratch::execute::Outcome::Passed | crate::scratch::execute::Outcome::Failed
        ),
    }
}

/// A run's tests and whether their evidence may count here.
struct RunEvidence {
    basis: RunBasis,
    tests: Vec<TestRecord>,
}

/// Read `run` (`latest` or an id) and decide whether its evidence is about this tree: it had
/// probes, and every file the analysis read is byte for byte as the run saw it.
fn read_run_evidence(
    workspace: &crate::workspace::Workspace,
    files: &[String],
    run: &str,
) -> anyhow::Result<RunEvidence> {
    let runs = workspace.target_directory.join("dualtrack").join("runs");
    let wanted = (run != "latest").then_some(run);
    let run = read_run(&runs, wanted)?;
    let why_not = match &run.report.evidence {
        None => Some(
            "it ran without site probes (--no-probes, or a version before them): review again"
                .to_owned(),
        ),
        Some(evidence) if evidence.disabled.is_some() => Some(format!(
            "its probes were taken out ({})",
            evidence.disabled.as_deref().unwrap_or_default()
        )),
        Some(evidence) if evidence.sources.is_empty() => Some(
            "it recorded no fingerprint of its sources (they changed while it ran, or an older \
             version made it): review again"
                .to_owned(),
        ),
        Some(evidence) => {
            let changed = changed_since(&evidence.sources, &workspace.root, files);
            match changed.as_slice() {
                [] if files.is_empty() => Some("no source file is in scope".to_owned()),
                [] => None,
                [one] => Some(format!(
                    "{one} changed since that run: review again for links by execution"
                )),
                [first, rest @ ..] => Some(format!(
                    "{first} and {} more files changed since that run: review again for links \
                     by execution",
                    rest.len()
                )),
            }
        }
    };
    Ok(RunEvidence {
        basis: RunBasis {
            run: run.id,
            used: why_not.is_none(),
            why_not,
            links: 0,
        },
        tests: run.report.tests,
    })
}
