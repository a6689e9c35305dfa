//! `cargo dualtrack generate`: edge-case tests for the functions in scope, printed as one
//! module, written as files (one per source module), or listed as JSON; never run.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::analyze::{AnalyzeOptions, analyze};
use crate::cli::{GenerateArgs, GenerateFormat, GlobalArgs, ModelArgs};
use crate::config::Config;
use crate::error::{ExitCode, InputError};
use crate::generate::emit::{EmittedTest, module_text};
use crate::generate::model::backend::{Backend, Provider};
use crate::generate::model::client::Patience;
use crate::generate::model::cost::price_of;
use crate::generate::model::engine::{
    self as model_engine, Broken, Fatal, ModelGeneration, ModelOptions, Subject,
};
use crate::generate::model::store::Store;
use crate::generate::offline::{self, Generation, OfflineOptions, Skipped};
use crate::output::{Styling, write_atomically};
use crate::spec::load_specs;
use crate::testfile::TestMeta;
use crate::workspace::{PackageSelection, Workspace};

pub const GENERATE_SCHEMA: &str = "dualtrack.generate/v1";

pub fn run(global: &GlobalArgs, args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let workspace = Workspace::load(&PackageSelection {
        manifest_path: global.manifest_path.clone(),
        packages: global.packages.clone(),
        workspace: global.workspace,
    })?;
    let config = Config::load(&workspace.root)?;
    let args = &args.with_config(&config);
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    let specs = load_specs(
        &workspace,
        &args.specs.spec,
        &config.spec,
        &cwd,
        global.quiet,
    )?;
    let filter = args.functions.filter(&workspace.root, &cwd)?;
    let filtering = args.functions.names_any();
    let analysis = analyze(
        &workspace,
        &AnalyzeOptions {
            include_tests: false,
            filter,
            jobs: 0,
        },
    );
    if filtering && analysis.functions.is_empty() {
        return Err(InputError::new(format!(
            "no function matches {}: `cargo dualtrack analyze` lists the function paths",
            describe_filter(args)
        ))
        .into());
    }
    if args.write && args.format != GenerateFormat::Human {
        return Err(InputError::new(
            "--write checks the tests into your tree and prints what it wrote: drop --format",
        )
        .into());
    }
    let features = workspace.features_by_crate(&global.feature_selection());
    if let (Some(provider), true) = (args.engine.provider(), args.model.dry_run) {
        let text = dry_run_text(
            provider,
            &args.model,
            &config,
            &workspace,
            (&analysis, &features),
            &specs,
        )?;
        super::emit(global, &text, Styling::Plain)?;
        return Ok(ExitCode::Clean);
    }
    let generation = match args.engine.provider() {
        None => offline::generate(
            &workspace.root,
            &analysis,
            None,
            &features,
            &specs,
            OfflineOptions {
                max_per_fn: args.max_per_fn as usize,
                max_tests: (args.max_tests > 0).then_some(args.max_tests as usize),
                private: args.private,
                potent: false,
            },
        ),
        Some(provider) => {
            let (made, cost) = model_generation(
                provider,
                &args.model,
                &config,
                &workspace,
                (&analysis, &features),
                &specs,
                HashMap::new(),
            )?;
            if !global.quiet {
                eprintln!(
                    "{}: {} input tokens ({} cached), {} output tokens in {} requests, {}",
                    args.engine.name(),
                    made.usage.input_tokens,
                    made.usage.cached_input_tokens,
                    made.usage.output_tokens,
                    made.transcripts.len(),
                    cost_text(cost)
                );
            }
            if let Some(dir) = &args.model.transcripts {
                write_transcripts(dir, &made.transcripts)?;
            }
            made.generation
        }
    };
    let header = serde_json::json!({ "engine": args.engine.name() });
    if !global.quiet {
        for warning in &generation.warnings {
            eprintln!("warning: {warning}");
        }
    }
    match args.format {
        GenerateFormat::Json => {
            let document = document(args.engine.name(), &generation);
            let mut json = serde_json::to_string_pretty(&document)
                .context("failed to serialize the generated tests")?;
            json.push('\n');
            super::emit(global, &json, Styling::Plain)?;
        }
        GenerateFormat::Human if args.write => {
            let text = check_in(
                &workspace,
                &global.feature_selection(),
                &analysis,
                &generation,
                args.engine.provider().is_some(),
            )?;
            super::emit(global, &text, Styling::Plain)?;
        }
        GenerateFormat::Human => match &args.out {
            Some(dir) => {
                let written = write_modules(dir, &header, &generation)?;
                let mut listing = String::new();
                for (path, count) in &written {
                    let _ = writeln!(listing, "{}  ({count} tests)", path.display());
                }
                super::emit(global, &listing, Styling::Plain)?;
            }
            None => {
                let tests = generation.emitted();
                super::emit(
                    global,
                    &module_text(&header, &generation.preamble, &tests),
                    Styling::Plain,
                )?;
            }
        },
    }
    if !global.quiet {
        eprint!("{}", summary(&generation, args));
    }
    Ok(ExitCode::Clean)
}

/// `--write`: the generated tests checked into the tree; what was written, as text.
fn check_in(
    workspace: &Workspace,
    features: &crate::workspace::FeatureSelection,
    analysis: &crate::analyze::Analysis,
    generation: &Generation,
    by_model: bool,
) -> anyhow::Result<String> {
    let uses = crate::checkin::KeptTest::uses_of(&generation.preamble);
    let tests: Vec<crate::checkin::KeptTest> = generation
        .tests
        .iter()
        .filter_map(|test| {
            let function = analysis
                .functions
                .iter()
                .find(|f| f.path == test.test.meta.function)?;
            let mut file: syn::File = syn::parse_quote!();
            file.items = vec![syn::Item::Fn(test.test.item.clone())];
            let mut kept = crate::checkin::KeptTest::new(
                workspace,
                analysis,
                function,
                "generated".to_owned(),
                prettyplease::unparse(&file),
                String::new(),
                uses.clone(),
            );
            kept.by_model = by_model;
            Some(kept)
        })
        .collect();
    // Ctrl-C while the tests build stops the build, and what was written is rolled back.
    crate::interrupt::install();
    // A generated test that does not build in the tree is left out, and said.
    let written = crate::checkin::trial::check_in(
        workspace,
        features,
        &tests,
        true,
        &crate::progress::Progress::new("generate", false),
    )?;
    let already = tests.len() - written.tests.len() - written.skipped.len();
    let mut text = if written.tests.is_empty() {
        format!(
            "nothing new to check in ({} there already)\n",
            crate::output::plural(already, "test")
        )
    } else {
        format!(
            "checked in {} ({already} there already); they have not run yet: `cargo test` \
             shows which fail, and a failing one is a finding to fix or a test to remove\n",
            crate::output::plural(written.tests.len(), "test"),
        )
    };
    for file in &written.files {
        let _ = writeln!(text, "  {file}");
    }
    if !written.skipped.is_empty() {
        let _ = writeln!(
            text,
            "left out {}:",
            crate::output::plural(written.skipped.len(), "test")
        );
        for skipped in &written.skipped {
            let _ = writeln!(text, "  {skipped}");
        }
    }
    Ok(text)
}

/// The backend and options the command line asks for.
fn model_backend(
    provider: Provider,
    args: &ModelArgs,
    config: &Config,
) -> anyhow::Result<(Backend, ModelOptions)> {
    // A dry run sends nothing, so it needs no key.
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .or_else(|| (args.dry_run && name.ends_with("_API_KEY")).then(|| "dry-run".to_owned()))
    };
    let backend = Backend::from_env(
        provider,
        args.model.as_deref(),
        args.base_url.as_deref(),
        &env,
    )?;
    let price = price_of(&backend.model, &config.prices);
    if args.max_cost.is_some() && price.is_none() {
        return Err(InputError::new(format!(
            "--max-cost (or max_cost in dualtrack.toml) needs the price of `{0}`: add [prices.\"{0}\"] with `input` and `output` \
             (dollars per million tokens) to dualtrack.toml",
            backend.model
        ))
        .into());
    }
    let options = ModelOptions {
        price,
        max_cost: args.max_cost,
        tests_per_fn: args.tests_per_fn as usize,
        concurrency: args.concurrency as usize,
        patience: Patience {
            request_timeout: std::time::Duration::from_secs(args.request_timeout.max(1)),
            deadline: args
                .total_timeout
                .map(|seconds| first_asked() + std::time::Duration::from_secs(seconds)),
            ..Patience::default()
        },
        ..ModelOptions::default()
    };
    Ok((backend, options))
}

/// What may go to a model: the functions and specs outside the config's `never_send` globs
/// (paths relative to the workspace root), the functions kept back, as skipped, and the globs.
fn withheld(
    analysis: &crate::analyze::Analysis,
    specs: &[crate::spec::model::Spec],
    config: &Config,
    root: &std::path::Path,
) -> anyhow::Result<(
    crate::analyze::Analysis,
    Vec<crate::spec::model::Spec>,
    Vec<crate::generate::Skipped>,
    globset::GlobSet,
)> {
    if config.never_send.is_empty() {
        return Ok((
            analysis.clone(),
            specs.to_vec(),
            Vec::new(),
            globset::GlobSet::empty(),
        ));
    }
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in &config.never_send {
        builder.add(globset::Glob::new(pattern).map_err(|err| {
            InputError::new(format!(
                "dualtrack.toml: `never_send` pattern `{pattern}` is not a glob: {err}"
            ))
        })?);
    }
    let never = builder
        .build()
        .map_err(|err| InputError::new(format!("dualtrack.toml: `never_send`: {err}")))?;
    let relative = |file: &str| {
        let path = std::path::Path::new(file);
        path.strip_prefix(root).unwrap_or(path).to_path_buf()
    };
    let mut kept = analysis.clone();
    let mut skipped = Vec::new();
    kept.functions.retain(|function| {
        let secret = never.is_match(relative(&function.file));
        if secret {
            skipped.push(crate::generate::Skipped {
                function: function.path.clone(),
                reasons: vec![format!(
                    "{} matches `never_send`: it never goes to a model",
                    function.file
                )],
            });
        }
        !secret
    });
    let sent_specs: Vec<crate::spec::model::Spec> = specs
        .iter()
        .filter(|spec| !never.is_match(relative(&spec.file)))
        .cloned()
        .collect();
    // A pattern that matches no file is likely a typo (`ledger.rs` for `src/ledger.rs`):
    // say so, since it protects nothing.
    let mut used = vec![false; config.never_send.len()];
    let paths = analysis
        .functions
        .iter()
        .map(|f| relative(&f.file))
        .chain(specs.iter().map(|spec| relative(&spec.file)));
    for path in paths {
        for index in never.matches(path) {
            used[index] = true;
        }
    }
    for (pattern, _) in config
        .never_send
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
    {
        eprintln!(
            "warning: dualtrack.toml: `never_send` pattern `{pattern}` matches no file in scope \
             (patterns are relative to the workspace root, such as `src/secret/**`)"
        );
    }
    Ok((kept, sent_specs, skipped, never))
}

/// Where answers come from besides the API: `--replay`'s transcripts, else the response
/// cache under the target directory (unless `--no-cache`).
fn store(args: &ModelArgs, workspace: &Workspace) -> anyhow::Result<Store> {
    Ok(match &args.replay {
        Some(dir) => Store::replay(dir)?,
        None if args.no_cache => Store::none(),
        None => Store::cache(workspace.target_directory.join("dualtrack").join("cache")),
    })
}

/// Every exchange as one file each in `dir` (the request holds no key: keys travel in
/// headers).
pub fn write_transcripts(
    dir: &std::path::Path,
    transcripts: &[model_engine::Transcript],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    for (index, transcript) in transcripts.iter().enumerate() {
        let name = format!(
            "{:03}-{}.json",
            index + 1,
            crate::generate::emit::sanitize_name(&transcript.function)
        );
        let mut text = serde_json::to_string_pretty(transcript)?;
        text.push('\n');
        crate::output::write_record(&dir.join(name), &text)?;
    }
    Ok(())
}

/// The features each crate is built with, by crate name.
pub type Features = HashMap<String, std::collections::BTreeSet<String>>;

/// Take out of `analysis` the functions no test can call under `features`, as the offline
/// engine skips them: compiled out by a `#[cfg]`, or nested in another function.
fn uncallable(
    root: &Path,
    analysis: &mut crate::analyze::Analysis,
    features: &Features,
) -> Vec<Skipped> {
    let (index, _) = crate::generate::offline::index::CrateIndex::build(root, analysis, features);
    let mut skipped = Vec::new();
    analysis.functions.retain(|function| {
        let Some(syntax) = index.function_of(function) else {
            return true;
        };
        let reason = if syntax.nested {
            Some("nested function: only its enclosing function can call it".to_owned())
        } else {
            index
                .cfg_off(syntax)
                .map(|cfg| format!("not compiled on this machine ({cfg})"))
        };
        match reason {
            Some(reason) => {
                skipped.push(Skipped {
                    function: function.path.clone(),
                    reasons: vec![reason],
                });
                false
            }
            None => true,
        }
    });
    skipped
}

/// The crate's own tests about each function: those in the analyzed files and in each
/// package's `tests/`, outside `never_send`.
fn crate_tests(
    workspace: &Workspace,
    analysis: &crate::analyze::Analysis,
    never: &globset::GlobSet,
) -> HashMap<String, Vec<String>> {
    let mut files: Vec<String> = analysis.files.clone();
    for package in &workspace.packages {
        let tests = package.manifest_dir.join("tests");
        for entry in walkdir::WalkDir::new(&tests)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rs"))
        {
            files.push(workspace.relative_path(entry.path()));
        }
    }
    files.sort();
    files.dedup();
    let texts: Vec<(String, String)> = files
        .into_iter()
        .filter(|file| !never.is_match(file))
        .filter_map(|file| {
            let text = std::fs::read_to_string(workspace.root.join(&file)).ok()?;
            Some((file, text))
        })
        .collect();
    crate::generate::model::existing::crate_tests(
        texts
            .iter()
            .map(|(file, text)| (file.clone(), text.as_str())),
        &analysis.functions,
    )
}

/// When this process first prepared to ask a model: `--total-timeout` counts from there,
/// through generation and every repair round.
fn first_asked() -> std::time::Instant {
    static FIRST: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *FIRST.get_or_init(std::time::Instant::now)
}

/// The crates each package's tests may use.
fn dependencies(workspace: &Workspace) -> model_engine::Dependencies {
    workspace
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.test_dependencies.clone()))
        .collect()
}

/// `$0.0123`, or why there is no figure.
pub fn cost_text(cost: Option<f64>) -> String {
    match cost {
        Some(cost) => format!("${cost:.4}"),
        None => "cost unknown (no price for the model: see [prices] in dualtrack.toml)".to_owned(),
    }
}

/// A key or account the API refuses stops the command (exit 2): every other request would be
/// refused too.
fn fatal_is_input(err: anyhow::Error) -> anyhow::Error {
    match err.downcast::<Fatal>() {
        Ok(fatal) => InputError::new(fatal.to_string()).into(),
        Err(other) => other,
    }
}

/// `--dry-run`: the prompts a model engine would get, and what they would cost, as text.
pub fn dry_run_text(
    provider: Provider,
    args: &ModelArgs,
    config: &Config,
    workspace: &Workspace,
    (analysis, features): (&crate::analyze::Analysis, &Features),
    specs: &[crate::spec::model::Spec],
) -> anyhow::Result<String> {
    let (backend, options) = model_backend(provider, args, config)?;
    let prepared = Prepared::new(workspace, analysis, specs, config, Some(features))?;
    let requests = model_engine::dry_run(&backend, prepared.subject(), options);
    let mut out = String::new();
    for request in &requests {
        let _ = writeln!(
            out,
            "=== {} (~{} input tokens) ===\n{}\n",
            request.function, request.input_tokens, request.user
        );
    }
    let usage = crate::generate::model::wire::Usage {
        input_tokens: requests.iter().map(|r| r.input_tokens).sum(),
        output_tokens: requests.iter().map(|r| r.output_tokens).sum(),
        ..Default::default()
    };
    let cost = options
        .price
        .map(|price| crate::generate::model::cost::cost(&usage, price));
    let _ = writeln!(
        out,
        "dry run: {} requests to {} ({}), about {} input and {} output tokens, {}; nothing was sent",
        requests.len(),
        provider.name(),
        backend.model,
        usage.input_tokens,
        usage.output_tokens,
        cost_text(cost)
    );
    Ok(out)
}

/// What a model may be shown of the scope (after `never_send`), and the crate around it.
struct Prepared {
    root: std::path::PathBuf,
    analysis: crate::analyze::Analysis,
    specs: Vec<crate::spec::model::Spec>,
    dependencies: model_engine::Dependencies,
    existing: HashMap<String, Vec<String>>,
    ran: HashMap<String, Vec<String>>,
    kept_back: Vec<crate::generate::Skipped>,
}

impl Prepared {
    /// With `features`, the functions that cannot be called under them (compiled out, nested)
    /// are left out, as skipped.
    fn new(
        workspace: &Workspace,
        analysis: &crate::analyze::Analysis,
        specs: &[crate::spec::model::Spec],
        config: &Config,
        features: Option<&Features>,
    ) -> anyhow::Result<Prepared> {
        let (mut analysis, specs, mut kept_back, never) =
            withheld(analysis, specs, config, &workspace.root)?;
        if let Some(features) = features {
            kept_back.extend(uncallable(&workspace.root, &mut analysis, features));
        }
        let existing = crate_tests(workspace, &analysis, &never);
        Ok(Prepared {
            root: workspace.root.clone(),
            analysis,
            specs,
            dependencies: dependencies(workspace),
            existing,
            ran: HashMap::new(),
            kept_back,
        })
    }

    fn subject(&self) -> Subject<'_> {
        Subject {
            root: &self.root,
            analysis: &self.analysis,
            specs: &self.specs,
            dependencies: &self.dependencies,
            existing: &self.existing,
            ran: &self.ran,
        }
    }
}

/// Ask a model engine for tests.
pub fn model_generation(
    provider: Provider,
    args: &ModelArgs,
    config: &Config,
    workspace: &Workspace,
    (analysis, features): (&crate::analyze::Analysis, &Features),
    specs: &[crate::spec::model::Spec],
    ran: HashMap<String, Vec<String>>,
) -> anyhow::Result<(ModelGeneration, Option<f64>)> {
    let (backend, options) = model_backend(provider, args, config)?;
    let mut prepared = Prepared::new(workspace, analysis, specs, config, Some(features))?;
    prepared.ran = ran;
    let store = store(args, workspace)?;
    let mut made = model_engine::generate(&backend, prepared.subject(), &store, options)
        .map_err(fatal_is_input)?;
    // Nothing at all came back: the server is down or misconfigured, and a review that tested
    // nothing must not pass.
    if made.generation.tests.is_empty()
        && let Some(first) = made
            .generation
            .skipped
            .iter()
            .flat_map(|s| s.reasons.iter())
            .find(|reason| reason.starts_with("the model gave no answer"))
    {
        return Err(InputError::new(format!(
            "{} answered for no function ({first}): check --base-url or the provider's base URL \
             variable, and the server",
            provider.name()
        ))
        .into());
    }
    made.generation.skipped.extend(prepared.kept_back);
    let cost = made.cost(options.price);
    Ok((made, cost))
}

/// Ask a model engine to fix the tests it wrote that did not compile.
pub fn model_repair(
    provider: Provider,
    args: &ModelArgs,
    config: &Config,
    workspace: &Workspace,
    analysis: &crate::analyze::Analysis,
    specs: &[crate::spec::model::Spec],
    broken: &[Broken],
) -> anyhow::Result<(ModelGeneration, Option<f64>)> {
    let (backend, options) = model_backend(provider, args, config)?;
    let prepared = Prepared::new(workspace, analysis, specs, config, None)?;
    let store = store(args, workspace)?;
    let made = model_engine::repair(&backend, prepared.subject(), &store, broken, options)
        .map_err(fatal_is_input)?;
    let cost = made.cost(options.price);
    Ok((made, cost))
}

/// Ask a model engine how to fix the functions that `failing` tests break.
pub fn model_fixes(
    provider: Provider,
    args: &ModelArgs,
    config: &Config,
    workspace: &Workspace,
    analysis: &crate::analyze::Analysis,
    specs: &[crate::spec::model::Spec],
    failing: &[(String, Vec<model_engine::Failing>)],
) -> anyhow::Result<(model_engine::FixRun, Option<f64>)> {
    let (backend, options) = model_backend(provider, args, config)?;
    let prepared = Prepared::new(workspace, analysis, specs, config, None)?;
    let store = store(args, workspace)?;
    let made = model_engine::propose_fixes(&backend, prepared.subject(), &store, failing, options)
        .map_err(fatal_is_input)?;
    let cost = options
        .price
        .map(|price| crate::generate::model::cost::cost(&made.usage, price));
    Ok((made, cost))
}

fn describe_filter(args: &GenerateArgs) -> String {
    let mut parts: Vec<String> = args
        .functions
        .fn_patterns
        .iter()
        .map(|p| format!("--fn {p}"))
        .collect();
    parts.extend(args.functions.files.iter().map(|f| format!("--file {f}")));
    parts.join(" ")
}

/// Files `DIR/<module>.rs`, one per module of the functions attacked (`ledger::money` →
/// `ledger_money.rs`); returns each path and its test count.
fn write_modules(
    dir: &Path,
    header: &serde_json::Value,
    generation: &Generation,
) -> anyhow::Result<Vec<(std::path::PathBuf, usize)>> {
    let mut by_module: BTreeMap<String, Vec<EmittedTest>> = BTreeMap::new();
    for test in &generation.tests {
        by_module
            .entry(test.module.replace("::", "_").replace(['(', ')'], ""))
            .or_default()
            .push(test.test.clone());
    }
    std::fs::create_dir_all(dir)
        .map_err(|err| InputError::new(format!("cannot create {}: {err}", dir.display())))?;
    let names: std::collections::BTreeSet<String> =
        by_module.keys().map(|m| format!("{m}.rs")).collect();
    // Only files this command wrote before are rewritten: a file of the user's by that name is
    // named, and nothing is written.
    for name in &names {
        let path = dir.join(name);
        if path.symlink_metadata().is_ok() && !is_generated(&path) {
            return Err(InputError::new(format!(
                "{} is not a file `generate` wrote (it does not start with `//! dualtrack:`), so \
                 it is left as it is and nothing was written: pass another --out directory, or \
                 move the file away",
                path.display()
            ))
            .into());
        }
    }
    remove_stale_modules(dir, &names)?;
    let mut written = Vec::new();
    for (module, tests) in by_module {
        let path = dir.join(format!("{module}.rs"));
        write_atomically(&path, &module_text(header, &generation.preamble, &tests))?;
        written.push((path, tests.len()));
    }
    Ok(written)
}

/// A regular file that starts with the generated header (not a link, not a FIFO).
fn is_generated(path: &Path) -> bool {
    path.symlink_metadata().is_ok_and(|m| m.is_file())
        && std::fs::read_to_string(path).is_ok_and(|text| text.starts_with("//! dualtrack:"))
}

/// Generated modules an earlier run wrote into `dir` that this run does not rewrite: they
/// would run tests for code that changed. Only files that start with the generated header go.
fn remove_stale_modules(
    dir: &Path,
    keep: &std::collections::BTreeSet<String>,
) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| InputError::new(format!("cannot read {}: {err}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || keep.contains(&name) || !entry.file_type()?.is_file() {
            continue;
        }
        if is_generated(&path) {
            std::fs::remove_file(&path)
                .with_context(|| format!("failed to remove the stale {}", path.display()))?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    engine: &'a str,
    tests: Vec<TestEntry<'a>>,
    /// Items every module of these tests needs first (std's prelude in a `no_std` crate).
    preamble: &'a str,
    skipped: &'a [Skipped],
    warnings: &'a [String],
}

#[derive(Serialize)]
struct TestEntry<'a> {
    name: String,
    #[serde(flatten)]
    meta: &'a TestMeta,
    module: &'a str,
    code: String,
}

fn document<'a>(engine: &'a str, generation: &'a Generation) -> Document<'a> {
    Document {
        schema: GENERATE_SCHEMA,
        engine,
        tests: generation
            .tests
            .iter()
            .map(|t| TestEntry {
                name: t.test.item.sig.ident.to_string(),
                meta: &t.test.meta,
                module: &t.module,
                code: module_text_of_one(&t.test),
            })
            .collect(),
        preamble: &generation.preamble,
        skipped: &generation.skipped,
        warnings: &generation.warnings,
    }
}

/// One test printed alone, without the module header.
fn module_text_of_one(test: &EmittedTest) -> String {
    let mut file: syn::File = syn::parse_quote!();
    file.items.push(syn::Item::Fn(test.item.clone()));
    prettyplease::unparse(&file)
}

/// What was made and what was not, for stderr.
fn summary(generation: &Generation, args: &GenerateArgs) -> String {
    let mut out = String::new();
    let functions: std::collections::BTreeSet<&str> = generation
        .tests
        .iter()
        .map(|t| t.test.meta.function.as_str())
        .collect();
    let _ = writeln!(
        out,
        "generated {} for {} ({}); {} skipped",
        crate::output::plural(generation.tests.len(), "test"),
        crate::output::plural(functions.len(), "function"),
        crate::output::plural(generation.candidates, "candidate"),
        crate::output::plural(generation.skipped.len(), "function")
    );
    if args.max_tests > 0 && generation.callable > functions.len() {
        let _ = writeln!(
            out,
            "note: {} functions could be tested but --max-tests {} spreads over {}: narrow with --fn or raise --max-tests (0 for no limit)",
            generation.callable,
            args.max_tests,
            functions.len()
        );
    }
    for skipped in &generation.skipped {
        let _ = writeln!(
            out,
            "skipped {}: {}",
            skipped.function,
            skipped.reasons.join("; ")
        );
    }
    out
}
