//! What a model is asked after the first run of a review: repair rounds for its tests that did
//! not compile (each compiler error going back with its test), and fixes for the functions
//! its tests break, each fix verified in the scratch copy before it is offered.

use std::path::Path;

use anyhow::Context;
use serde_json::json;

use crate::analyze::Analysis;
use crate::cli::ReviewArgs;
use crate::document::Fix;
use crate::generate::emit::module_text;
use crate::output::write_atomically;
use crate::progress::Progress;
use crate::review::diff::repository_root;
use crate::review::scope::relative_prefix;
use crate::scratch::ModuleInput;
use crate::setup::llm::Session;
use crate::testfile::parse_test_module;
use crate::workspace::Workspace;

/// Rounds of asking the model to fix its tests that did not compile, each compiler error
/// going back with its test, unless `--repair-rounds` or the config says otherwise.
const REPAIR_ROUNDS: u32 = 2;

/// What a model step after the first run (repair rounds, fixes) needs of the review.
pub struct ModelStep<'a> {
    pub session: &'a Session,
    pub args: &'a ReviewArgs,
    pub scoped: &'a Analysis,
    /// What the model cost so far, when it has a price.
    pub spent: Option<f64>,
    /// What rebuilding its tests needs.
    pub rebuild: Rebuild<'a>,
}

/// What rebuilding some of a run's tests needs, whatever engine wrote them.
#[derive(Clone, Copy)]
pub struct Rebuild<'a> {
    pub engine: &'a str,
    pub workspace: &'a Workspace,
    pub full: &'a Analysis,
    pub run_dir: &'a Path,
    pub options: &'a crate::scratch::RunOptions,
    pub progress: &'a Progress,
}

/// Rebuild, once, the dropped tests rustc said how to fix with an import they lack (a spec's
/// contract row names `STANDARD` as its reader would after a `use`). For any engine; free.
/// `false` when the run stopped (Ctrl-C).
pub fn import_round(
    rebuild: &Rebuild,
    report: &mut crate::scratch::RunReport,
    label: &str,
) -> anyhow::Result<bool> {
    let imported = with_suggested_imports(rebuild, report);
    if imported.is_empty() {
        return Ok(true);
    }
    rebuild.progress.line(&format!(
        "{} did not compile for want of an import; rebuilding with the `use` rustc suggests",
        crate::output::plural(imported.len(), "test")
    ));
    rerun(rebuild, report, &imported, label)
}

/// A compiler error or a test's failure as the model may see it: the message, the places and
/// the crate's own lines, not the lines of files outside it; no local paths (they say nothing
/// to the model, and would make each run's request differ), no key, and not too long.
fn for_the_model(error: &str, run_dir: &Path, root: &Path) -> String {
    let mut text = error.to_owned();
    for dir in [run_dir, root] {
        let shown = format!("{}/", dir.display());
        text = text.replace(&shown, "");
    }
    let text = crate_lines_only(&text);
    let text = crate::generate::llm::client::redact(&text, None);
    match text.char_indices().nth(2000) {
        Some((at, _)) => format!("{}\n... (cut)", &text[..at]),
        None => text,
    }
}

/// `rendered` (a rustc diagnostic, paths inside the crate made relative) without the source
/// lines it quotes from files outside the crate (absolute paths: the toolchain, the registry,
/// anything a test named): their places stay, their text goes.
fn crate_lines_only(rendered: &str) -> String {
    let mut out = String::with_capacity(rendered.len());
    let mut quoting_the_crate = true;
    for line in rendered.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(place) = trimmed
            .strip_prefix("--> ")
            .or_else(|| trimmed.strip_prefix("::: "))
        {
            quoting_the_crate = !Path::new(place.trim()).is_absolute();
            out.push_str(line);
            continue;
        }
        // The gutter of a quoted source line: `12 |     code`, `   |`, `...`.
        let gutter = trimmed
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start()
            .starts_with('|')
            || trimmed.trim_end() == "...";
        if gutter && !quoting_the_crate {
            continue;
        }
        out.push_str(line);
    }
    out
}

/// Send the compiler's errors back for the tests that did not build, run the fixed ones, and
/// put their outcomes in the report in place of the dropped ones. A test still broken after
/// the last round stays dropped with its last error. What the compiler itself says how to fix
/// (a missing import) is fixed here first, for nothing.
/// `stage` starts the names of the modules the rounds write (`cover1_` for a cover round's
/// tests), so that no round's module replaces an earlier one's.
pub fn repair_rounds(
    context: ModelStep,
    report: &mut crate::scratch::RunReport,
    stage: &str,
) -> anyhow::Result<(
    crate::generate::llm::engine::ModelGeneration,
    Option<f64>,
    u64,
)> {
    let mut spent = crate::generate::llm::engine::ModelGeneration::default();
    let mut spent_cost = Some(0.0);
    let mut rounds = 0;
    for round in 1..=context.args.repair_rounds.unwrap_or(REPAIR_ROUNDS) {
        if crate::interrupt::interrupted() {
            break;
        }
        if !import_round(&context.rebuild, report, &format!("{stage}imports{round}"))? {
            break;
        }
        let broken = broken_tests(&context, report);
        if broken.is_empty() {
            break;
        }
        if let (Some(limit), Some(spent)) = (context.args.model.max_cost, context.spent) {
            let total = spent + spent_cost.unwrap_or(0.0);
            if total >= limit {
                context.rebuild.progress.line(&format!(
                    "no repair: --max-cost {limit} is spent (${total:.4})"
                ));
                break;
            }
        }
        context.rebuild.progress.line(&format!(
            "repair round {round}: {} did not compile; the errors go back to the model",
            crate::output::plural(broken.len(), "test")
        ));
        let already = context.spent.unwrap_or(0.0) + spent_cost.unwrap_or(0.0);
        let (made, cost) = context.session.repair(&broken, already)?;
        let made = made.in_round(&format!("repair {round}"));
        spent_cost = spent_cost.zip(cost).map(|(a, b)| a + b);
        spent.usage += made.usage;
        spent.transcripts.extend(made.transcripts);
        spent.refused.extend(made.refused);
        rounds += 1;
        let ran = !made.generation.tests.is_empty()
            && rerun(
                &context.rebuild,
                report,
                &made.generation.tests,
                &format!("{stage}repair{round}"),
            )?;
        spent.repairs.extend(repair_records(
            round,
            &broken,
            &made.generation.tests,
            ran.then_some(&*report),
        ));
        if !ran {
            break;
        }
    }
    Ok((spent, spent_cost, rounds))
}

/// What round `round` did with each of `broken`: the errors it sent, and how the test came
/// back in `repaired`, as `report` (after the rerun; `None` when none ran) says it did.
fn repair_records(
    round: u32,
    broken: &[crate::generate::llm::engine::Broken],
    repaired: &[crate::generate::GeneratedTest],
    report: Option<&crate::scratch::RunReport>,
) -> Vec<crate::document::RepairRecord> {
    use crate::scratch::execute::Outcome;
    broken
        .iter()
        .map(|test| {
            let answered = repaired
                .iter()
                .any(|r| r.test.item.sig.ident == test.name.as_str());
            let result = report.and_then(|r| r.results.iter().find(|r| r.name == test.name));
            let outcome = match result {
                _ if !answered => "not answered".to_owned(),
                Some(r) if r.outcome == Outcome::Dropped => "still does not compile".to_owned(),
                Some(r) => format!("compiled ({})", r.outcome.as_str()),
                None => "not run".to_owned(),
            };
            crate::document::RepairRecord {
                round,
                function: test.meta.function.clone(),
                test: test.name.clone(),
                errors: test.errors.clone(),
                outcome,
            }
        })
        .collect()
}

/// Cover rounds, unless `--cover-rounds` or the config says otherwise: after the first run, the
/// model is asked once more about each function whose sites no test reached, given those
/// sites and every test that ran. Coverage-guided generators (CoverUp) get their gains so.
const COVER_ROUNDS: u32 = 1;

/// Tests asked per function in a cover round, at most: it aims at a few sites.
const COVER_TESTS_PER_FN: usize = 4;

/// What the cover rounds cost: the model's usage and transcripts, and their price.
#[derive(Default)]
pub struct Covered {
    pub made: crate::generate::llm::engine::ModelGeneration,
    pub cost: Option<f64>,
}

/// Ask the model, round by round, for tests that reach the sites of the functions in scope no
/// test of `report` reached; run them (repairing those that do not compile) and add their
/// outcomes and evidence to `report`. Stops when every probed site is reached, a round
/// reaches nothing new, `--max-cost` is spent, or Ctrl-C.
pub fn cover_rounds(
    context: ModelStep,
    report: &mut crate::scratch::RunReport,
) -> anyhow::Result<Covered> {
    let mut covered = Covered {
        cost: Some(0.0),
        ..Covered::default()
    };
    let root = &context.rebuild.workspace.root;
    for round in 1..=context.args.cover_rounds.unwrap_or(COVER_ROUNDS) {
        let Some(probes) = report.probes.as_ref().filter(|p| p.disabled.is_none()) else {
            break;
        };
        if crate::interrupt::interrupted() {
            break;
        }
        let unreached = crate::generate::llm::existing::unreached(
            &report.results,
            context.scoped,
            &probes.probed,
        );
        if unreached.is_empty() {
            break;
        }
        let already = context.spent.unwrap_or(0.0) + covered.cost.unwrap_or(0.0);
        if let Some(limit) = context.args.model.max_cost
            && context.spent.is_some()
            && already >= limit
        {
            context.rebuild.progress.line(&format!(
                "no cover round: --max-cost {limit} is spent (${already:.4})"
            ));
            break;
        }
        let sites: usize = unreached.values().map(Vec::len).sum();
        context.rebuild.progress.line(&format!(
            "cover round {round}: {} in {} no test reached; asking the model for tests that \
             reach them (--cover-rounds 0 to skip)",
            crate::output::plural(sites, "site"),
            crate::output::plural(unreached.len(), "function"),
        ));
        let reached_before = reached_sites(report);
        let ran = crate::generate::llm::existing::ran(&report.results, root);
        let (made, cost) = context
            .session
            .cover(ran, unreached, COVER_TESTS_PER_FN, already)?;
        let made = made.in_round(&format!("cover {round}"));
        covered.cost = covered.cost.zip(cost).map(|(a, b)| a + b);
        covered.made.usage += made.usage;
        covered.made.transcripts.extend(made.transcripts);
        covered.made.refused.extend(made.refused);
        let mut tests = made.generation.tests;
        if tests.is_empty() {
            break;
        }
        let taken = report.results.iter().map(|r| r.name.clone()).collect();
        rename_apart(&mut tests, taken, "cover");
        let stage = format!("cover{round}");
        let Some(mut fresh) = run_tests(&context.rebuild, &tests, &stage)? else {
            break;
        };
        let step = ModelStep {
            spent: Some(already + cost.unwrap_or(0.0)).filter(|_| context.spent.is_some()),
            ..context
        };
        let (repaired, repair_cost, _) = repair_rounds(step, &mut fresh, &format!("{stage}_"))?;
        covered.cost = covered.cost.zip(repair_cost).map(|(a, b)| a + b);
        covered.made.usage += repaired.usage;
        covered.made.transcripts.extend(repaired.transcripts);
        covered.made.refused.extend(repaired.refused);
        covered.made.repairs.extend(repaired.repairs);
        report.results.extend(fresh.results);
        report.build_log.push_str(&fresh.build_log);
        report.interrupted |= fresh.interrupted;
        report.cut += fresh.cut;
        report.probes =
            crate::scratch::probes::ProbeSummary::merged(report.probes.take(), fresh.probes);
        let gained = reached_sites(report).len() - reached_before.len();
        context.rebuild.progress.line(&format!(
            "cover round {round}: {} ran, reaching {} no earlier test reached",
            crate::output::plural(tests.len(), "test"),
            crate::output::plural(gained, "site"),
        ));
        if gained == 0 {
            break;
        }
    }
    Ok(covered)
}

/// The sites some test of `report` reached.
fn reached_sites(report: &crate::scratch::RunReport) -> std::collections::HashSet<String> {
    report
        .results
        .iter()
        .flat_map(|r| r.reached.iter().flatten())
        .cloned()
        .collect()
}

/// Rename the tests whose names are `taken` by others (`name_SUFFIX`, `name_SUFFIX_2`, ...),
/// to names no test has: a rerun command and a fix's check find a test by name.
pub fn rename_apart(
    tests: &mut [crate::generate::GeneratedTest],
    taken: std::collections::HashSet<String>,
    suffix: &str,
) {
    let mut used: std::collections::HashSet<String> = taken.clone();
    used.extend(tests.iter().map(|t| t.test.item.sig.ident.to_string()));
    for test in tests.iter_mut() {
        let name = test.test.item.sig.ident.to_string();
        if !taken.contains(&name) {
            continue;
        }
        let mut fresh = format!("{name}_{suffix}");
        let mut n = 1;
        while used.contains(&fresh) {
            n += 1;
            fresh = format!("{name}_{suffix}_{n}");
        }
        used.insert(fresh.clone());
        test.test.item.sig.ident = syn::Ident::new(&fresh, test.test.item.sig.ident.span());
    }
}

/// The report's tests dropped for compiler errors, with those errors as the model may see them.
fn broken_tests(
    context: &ModelStep,
    report: &crate::scratch::RunReport,
) -> Vec<crate::generate::llm::engine::Broken> {
    use crate::scratch::execute::Outcome;
    report
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Dropped && !r.compile_errors.is_empty())
        .map(|r| crate::generate::llm::engine::Broken {
            meta: result_meta(r),
            name: r.name.clone(),
            code: r.code.clone(),
            errors: r
                .compile_errors
                .iter()
                .map(|e| for_the_model(e, context.rebuild.run_dir, &context.rebuild.workspace.root))
                .collect(),
        })
        .collect()
}

fn result_meta(result: &crate::scratch::TestResult) -> crate::testfile::TestMeta {
    crate::testfile::TestMeta {
        function: result.function.clone(),
        targets: result.targets.clone(),
        spec: result.spec_items.clone(),
        category: result.category.clone(),
        oracle: result.oracle.clone(),
        input: result.input.clone(),
    }
}

/// The dropped tests rustc said how to fix with an import they lack, fixed.
fn with_suggested_imports(
    context: &Rebuild,
    report: &crate::scratch::RunReport,
) -> Vec<crate::generate::GeneratedTest> {
    use crate::scratch::execute::Outcome;
    report
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Dropped && !r.suggested_imports.is_empty())
        .filter_map(|r| {
            let item = crate::syntax::parse_str::<syn::ItemFn>(&r.code).ok()?;
            let imports = nearest_imports(&r.suggested_imports, &r.function);
            let fixed = crate::generate::llm::fixup::with_imports(&item, &imports)?;
            let module = context
                .full
                .functions
                .iter()
                .find(|f| f.path == r.function)?
                .module
                .clone();
            Some(crate::generate::GeneratedTest {
                test: crate::generate::emit::with_meta(fixed, &result_meta(r)),
                module,
            })
        })
        .collect()
}

/// Of `imports` that bring in the same name (`use crate::alphabet::STANDARD;` and `use
/// crate::engine::general_purpose::STANDARD;`), the one whose module path shares the most with
/// `function`'s (`base64::engine::Engine::decode`): a spec names an item as the tested
/// function's module sees it. A tie keeps rustc's order.
fn nearest_imports(imports: &[String], function: &str) -> Vec<String> {
    let function: Vec<&str> = function.split("::").skip(1).collect();
    let segments = |import: &str| -> Vec<String> {
        import
            .trim_start_matches("use ")
            .trim_end_matches(';')
            .split("::")
            .map(|s| s.trim().to_owned())
            .collect()
    };
    let shared = |import: &str| {
        segments(import)
            .iter()
            .skip(1)
            .zip(&function)
            .take_while(|(a, b)| a == *b)
            .count()
    };
    let mut chosen: Vec<String> = Vec::new();
    for import in imports {
        let name = segments(import).last().cloned();
        match chosen
            .iter_mut()
            .find(|c| segments(c).last().cloned() == name)
        {
            Some(earlier) if shared(import) > shared(earlier) => *earlier = import.clone(),
            Some(_) => {}
            None => chosen.push(import.clone()),
        }
    }
    chosen
}

/// Build and run `tests` (fixed versions of dropped ones) as `dualtrack_ENGINE_LABEL.rs` in the
/// run directory, and put their outcomes in the report in place of the old; `false` when the
/// run stopped (Ctrl-C).
fn rerun(
    context: &Rebuild,
    report: &mut crate::scratch::RunReport,
    tests: &[crate::generate::GeneratedTest],
    label: &str,
) -> anyhow::Result<bool> {
    let Some(rerun) = run_tests(context, tests, label)? else {
        return Ok(false);
    };
    for result in rerun.results {
        if let Some(slot) = report.results.iter_mut().find(|r| r.name == result.name) {
            *slot = result;
        }
    }
    report.build_log.push_str(&rerun.build_log);
    Ok(true)
}

/// Build and run `tests` as `dualtrack_ENGINE_LABEL.rs` in the run directory; `None` when the
/// run stopped (Ctrl-C).
fn run_tests(
    context: &Rebuild,
    tests: &[crate::generate::GeneratedTest],
    label: &str,
) -> anyhow::Result<Option<crate::scratch::RunReport>> {
    let engine = context.engine;
    let path = context
        .run_dir
        .join(format!("dualtrack_{engine}_{label}.rs"));
    let emitted: Vec<_> = tests.iter().map(|t| t.test.clone()).collect();
    let text = module_text(&json!({"engine": engine, "round": label}), "", &emitted);
    write_atomically(&path, &text)?;
    let modules = [module_input(engine, &path, &text)?];
    Ok(crate::setup::runner::run_or_stop(
        context.workspace,
        context.full,
        &modules,
        context.options,
    )?
    .ok())
}

/// A module the run directory holds, as the scratch run takes it.
pub fn module_input(engine: &str, path: &Path, text: &str) -> anyhow::Result<ModuleInput> {
    let module = parse_test_module(text)
        .map_err(|err| anyhow::anyhow!("internal: generated module does not read back: {err}"))?;
    Ok(ModuleInput {
        engine: engine.to_owned(),
        module,
        source: Some(path.display().to_string()),
        settings: None,
    })
}

/// Functions a fix is asked for in one review, at most: each is a request and a build.
const MAX_FIXES: usize = 10;

/// What asking for fixes made: the entries of the report's `fixes`, and what it cost.
#[derive(Default)]
pub struct Offered {
    pub entries: Vec<Fix>,
    pub usage: crate::generate::llm::wire::Usage,
    pub cost: Option<f64>,
    pub transcripts: Vec<crate::generate::llm::engine::Transcript>,
}

/// Ask the model for a fix to each function in scope a test breaks, verify each in the
/// scratch copy, and write the verified ones as patches in the run directory's `fixes/`.
pub fn offer_fixes(
    step: &ModelStep,
    report: &crate::scratch::RunReport,
) -> anyhow::Result<Offered> {
    use crate::generate::llm::engine::Failing;
    use crate::scratch::execute::Outcome;
    let in_scope: std::collections::HashSet<&str> = step
        .scoped
        .functions
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    let mut by_function: std::collections::BTreeMap<&str, Vec<&crate::scratch::TestResult>> =
        std::collections::BTreeMap::new();
    for result in &report.results {
        if matches!(
            result.outcome,
            Outcome::Failed | Outcome::Panicked | Outcome::TimedOut
        ) && in_scope.contains(result.function.as_str())
        {
            by_function
                .entry(result.function.as_str())
                .or_default()
                .push(result);
        }
    }
    let mut offered = Offered {
        cost: Some(0.0),
        ..Offered::default()
    };
    if by_function.is_empty() {
        return Ok(offered);
    }
    if by_function.len() > MAX_FIXES {
        step.rebuild.progress.line(&format!(
            "fixes: {} functions have failing tests; asking about the first {MAX_FIXES}",
            by_function.len()
        ));
    }
    let by_function: Vec<(&str, Vec<&crate::scratch::TestResult>)> =
        by_function.into_iter().take(MAX_FIXES).collect();
    if let (Some(limit), Some(spent)) = (step.args.model.max_cost, step.spent)
        && spent >= limit
    {
        step.rebuild.progress.line(&format!(
            "no fixes asked: --max-cost {limit} is spent (${spent:.4})"
        ));
        return Ok(offered);
    }
    let asked: Vec<(String, Vec<Failing>)> = by_function
        .iter()
        .map(|(function, results)| {
            let failing = results
                .iter()
                .map(|r| Failing {
                    name: r.name.clone(),
                    code: r.code.clone(),
                    happened: for_the_model(
                        &format!("{}: {}", r.outcome.as_str(), r.message),
                        step.rebuild.run_dir,
                        &step.rebuild.workspace.root,
                    ),
                })
                .collect();
            (function.to_string(), failing)
        })
        .collect();
    step.rebuild.progress.line(&format!(
        "asking for fixes to {} functions their tests break",
        asked.len()
    ));
    let (made, cost) = step.session.fixes(&asked, step.spent.unwrap_or(0.0))?;
    offered.usage = made.usage;
    offered.cost = cost;
    offered.transcripts = made.transcripts;
    for (function, reason) in made.declined {
        offered.entries.push(Fix {
            function,
            verified: false,
            reason: Some(reason),
            ..Fix::default()
        });
    }
    let repo = repository_root(&step.rebuild.workspace.root);
    let prefix = repo
        .as_deref()
        .map(|repo| relative_prefix(repo, &step.rebuild.workspace.root))
        .unwrap_or_default();
    let mut patch_names = std::collections::HashSet::new();
    for proposal in made.proposals {
        if crate::interrupt::interrupted() {
            break;
        }
        let tests: Vec<&crate::scratch::TestResult> = by_function
            .iter()
            .find(|(f, _)| *f == proposal.function)
            .map(|(_, tests)| tests.clone())
            .unwrap_or_default();
        let stage = step.rebuild.progress.stage(
            &format!("verifying the fix for {}", proposal.function),
            None,
        );
        let verdict = verify_fix(step, &proposal, &tests)?;
        stage.finish(None);
        let original = std::fs::read_to_string(step.rebuild.workspace.root.join(&proposal.file))
            .unwrap_or_default();
        let shown_path = if prefix.is_empty() {
            proposal.file.clone()
        } else {
            format!("{prefix}/{}", proposal.file)
        };
        let diff =
            crate::generate::llm::fix::unified_diff(&shown_path, &original, &proposal.patched);
        let mut entry = Fix {
            function: proposal.function.clone(),
            verified: false,
            reason: None,
            file: Some(proposal.file.clone()),
            tests: Some(tests.iter().map(|t| t.name.clone()).collect()),
            explanation: Some(proposal.explanation.clone()),
            diff: Some(diff.clone()),
            code: Some(proposal.code.clone()),
            patch: None,
        };
        match verdict {
            Ok(()) => {
                let dir = step.rebuild.run_dir.join("fixes");
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("failed to create {}", dir.display()))?;
                // Names fold case (`Tally::add`, `tally::add`): the second gets a number.
                let stem = crate::generate::emit::sanitize_name(&proposal.function);
                let mut name = format!("{stem}.patch");
                let mut n = 1;
                while !patch_names.insert(name.clone()) {
                    n += 1;
                    name = format!("{stem}_{n}.patch");
                }
                write_atomically(&dir.join(&name), &diff)?;
                entry.verified = true;
                entry.patch = Some(dir.join(&name).display().to_string());
                step.rebuild.progress.line(&format!(
                    "fix for {} verified: its failing tests pass and so do the crate's own",
                    proposal.function
                ));
            }
            Err(reason) => entry.reason = Some(reason),
        }
        offered.entries.push(entry);
    }
    Ok(offered)
}

/// Build the crate with the fix in place in the scratch copy, run its own tests, then the
/// failing tests: `Err` says which step the fix did not get past.
fn verify_fix(
    step: &ModelStep,
    proposal: &crate::generate::llm::engine::Proposal,
    tests: &[&crate::scratch::TestResult],
) -> anyhow::Result<Result<(), String>> {
    use crate::scratch::execute::Outcome;
    let emitted: Vec<crate::generate::emit::EmittedTest> = tests
        .iter()
        .filter_map(|r| {
            let item = crate::syntax::parse_str::<syn::ItemFn>(&r.code).ok()?;
            Some(crate::generate::emit::with_meta(item, &result_meta(r)))
        })
        .collect();
    let text = module_text(&json!({"engine": "fix"}), "", &emitted);
    let module = parse_test_module(&text)
        .map_err(|err| anyhow::anyhow!("internal: the fix's tests do not read back: {err}"))?;
    let mut options = step.rebuild.options.clone();
    options.patch = Some(crate::scratch::Patch {
        file: std::path::PathBuf::from(&proposal.file),
        text: proposal.patched.clone(),
    });
    options.baseline = crate::scratch::Baseline::Test;
    options.keep_scratch = None;
    options.reruns = 0;
    options.progress = crate::progress::Progress::hidden();
    let modules = [ModuleInput {
        engine: "fix".to_owned(),
        module,
        source: None,
        settings: None,
    }];
    match crate::scratch::run_modules(
        step.rebuild.workspace,
        step.rebuild.full,
        &modules,
        &options,
    ) {
        Err(err) if err.is::<crate::error::Interrupted>() || crate::interrupt::interrupted() => {
            Ok(Err("not verified: interrupted".to_owned()))
        }
        Ok(report) => Ok(
            match report.results.iter().find(|r| r.outcome != Outcome::Passed) {
                None => Ok(()),
                Some(bad) => Err(format!(
                    "with the fix, `{}` still comes out {}: {}",
                    bad.name,
                    bad.outcome.as_str(),
                    bad.message.lines().next().unwrap_or_default()
                )),
            },
        ),
        Err(err) => match err.downcast::<crate::scratch::BaselineFailed>() {
            Ok(failed) if failed.mode == "test" => Ok(Err(
                "the crate's own tests fail with the fix (or failed before it: try `cargo test`)"
                    .to_owned(),
            )),
            Ok(failed) => Ok(Err(format!(
                "the crate does not build with the fix: {}",
                failed
                    .log
                    .lines()
                    .find(|l| l.starts_with("error"))
                    .unwrap_or("see the build log")
            ))),
            Err(other) => Err(other),
        },
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_model_test_named_like_an_offline_one_is_renamed() {
        let test = |name: &str| crate::generate::GeneratedTest {
            test: crate::generate::emit::EmittedTest {
                meta: crate::testfile::TestMeta::default(),
                item: syn::parse_str(&format!("#[test] fn {name}() {{}}")).unwrap(),
            },
            module: "c".into(),
        };
        let mut tests = vec![test("f_v0_does_not_panic"), test("f_model"), test("g")];
        let taken = ["f_v0_does_not_panic", "f_model"]
            .map(str::to_owned)
            .into_iter()
            .collect();
        rename_apart(&mut tests, taken, "model");
        let names: Vec<String> = tests
            .iter()
            .map(|t| t.test.item.sig.ident.to_string())
            .collect();
        assert_eq!(names, ["f_v0_does_not_panic_model", "f_model_model", "g"]);
    }

    #[test]
    fn of_two_imports_of_one_name_the_one_nearest_the_function_is_kept() {
        let imports = [
            "use crate::alphabet::STANDARD;".to_owned(),
            "use crate::engine::general_purpose::STANDARD;".to_owned(),
            "use crate::Engine;".to_owned(),
        ];
        assert_eq!(
            nearest_imports(&imports, "base64::engine::Engine::decode"),
            [
                "use crate::engine::general_purpose::STANDARD;",
                "use crate::Engine;"
            ]
        );
        // Nothing shared: rustc's first stays.
        assert_eq!(
            nearest_imports(&imports, "base64::decode"),
            ["use crate::alphabet::STANDARD;", "use crate::Engine;"]
        );
    }

    #[test]
    fn errors_sent_back_keep_the_crate_s_lines_only() {
        let rendered = "error[E0308]: mismatched types\n  --> src/lib.rs:3:5\n   |\n3  |     leak()\n   |     ^^^^^^ expected `u8`\n   |\nnote: defined here\n  --> /etc/app/secret.rs:1:1\n   |\n1  | root:x:0:0:root\n   | ^^^^\n";
        let cut = super::crate_lines_only(rendered);
        assert!(cut.contains("3  |     leak()"), "{cut}");
        assert!(cut.contains("--> /etc/app/secret.rs:1:1"), "{cut}");
        assert!(!cut.contains("root:x:0:0"), "{cut}");
        assert!(cut.contains("note: defined here"), "{cut}");
    }

    #[test]
    fn what_goes_back_to_the_model_names_no_local_path_and_is_cut() {
        let run_dir = Path::new("/home/me/crate/target/dualtrack/runs/r1-2");
        let root = Path::new("/home/me/crate");
        let error = format!(
            "error: bad\n  --> {}/dualtrack_openai.rs:3:5\n  --> {}/src/lib.rs:9:1\n",
            run_dir.display(),
            root.display()
        );
        let shown = for_the_model(&error, run_dir, root);
        assert!(shown.contains("--> dualtrack_openai.rs:3:5"), "{shown}");
        assert!(shown.contains("--> src/lib.rs:9:1"), "{shown}");
        assert!(!shown.contains("/home/me"), "{shown}");
        let long = "x".repeat(5000);
        let cut = for_the_model(&long, run_dir, root);
        assert!(
            cut.ends_with("... (cut)") && cut.len() < 2100,
            "{}",
            cut.len()
        );
    }
}
