//! What `generate` and `review` share of the model engines, from their flags and the config:
//! the backend, the prepared crate (what a model may see), the cache or replay store, and
//! generation, repair rounds, fix proposals, dry runs and transcripts.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use crate::cli::ModelArgs;
use crate::config::Config;
use crate::error::InputError;
use crate::generate::llm::agent::AgentBackend;
use crate::generate::llm::backend::{Backend, ModelBackend, Provider};
use crate::generate::llm::client::Patience;
use crate::generate::llm::cost::price_of;
use crate::generate::llm::engine::{
    self as model_engine, Broken, Fatal, ModelGeneration, ModelOptions, Subject,
};
use crate::generate::llm::store::Store;
use crate::generate::offline::Skipped;
use crate::workspace::Workspace;

/// The backend and options the command line asks for.
pub fn model_backend(
    provider: Provider,
    args: &ModelArgs,
    config: &Config,
) -> anyhow::Result<(Box<dyn ModelBackend>, ModelOptions)> {
    // A dry run sends nothing, so it needs no key.
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .or_else(|| (args.dry_run && name.ends_with("_API_KEY")).then(|| "dry-run".to_owned()))
    };
    let backend: Box<dyn ModelBackend> = match provider.agent() {
        // A dry run starts no agent: it needs none installed.
        Some(agent) if args.dry_run => {
            Box::new(AgentBackend::unchecked(agent, args.model.as_deref()))
        }
        Some(agent) => Box::new(AgentBackend::find(
            agent,
            args.agent_bin.as_deref(),
            args.model.as_deref(),
        )?),
        None => Box::new(Backend::from_env(
            provider,
            args.model.as_deref(),
            args.base_url.as_deref(),
            &env,
        )?),
    };
    // Claude Code says what each request cost (it is taken over any price): its tokens are
    // priced at nothing, so that a run all from the cache costs $0, not "unknown". Codex on a
    // subscription says nothing.
    let price = price_of(backend.model(), &config.prices).or_else(|| {
        (provider == Provider::Claude).then_some(crate::generate::llm::cost::Price {
            input: 0.0,
            cached_input: None,
            output: 0.0,
        })
    });
    if args.max_cost.is_some() && price.is_none() {
        return Err(InputError::new(format!(
            "--max-cost (or max_cost in dualtrack.toml) needs the price of `{0}`: add [prices.\"{0}\"] with `input` and `output` \
             (dollars per million tokens) to dualtrack.toml",
            backend.model()
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
            // Set when the model is first asked (`Session::generate`): the offline pass and the
            // crate's preparation before it do not count.
            deadline: None,
            ..Patience::default()
        },
        ..ModelOptions::default()
    };
    Ok((backend, options))
}

/// What may go to a model: the functions and specs outside the config's `never_send` globs
/// (paths relative to the workspace root), the functions kept back, as skipped, and the globs.
pub fn withheld(
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
pub fn store(args: &ModelArgs, workspace: &Workspace) -> anyhow::Result<Store> {
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
pub fn uncallable(
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
pub fn crate_tests(
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
    crate::generate::llm::existing::crate_tests(
        texts
            .iter()
            .map(|(file, text)| (file.clone(), text.as_str())),
        &analysis.functions,
    )
}

/// When this process first prepared to ask a model: `--total-timeout` counts from there,
/// through generation and every repair round.
pub fn first_asked() -> std::time::Instant {
    static FIRST: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *FIRST.get_or_init(std::time::Instant::now)
}

/// The crates each package's tests may use.
pub fn dependencies(workspace: &Workspace) -> model_engine::Dependencies {
    workspace
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.test_dependencies.clone()))
        .collect()
}

/// `$0.0123`, or why there is no figure.
pub fn cost_text(cost: Option<f64>, engine: &str) -> String {
    match cost {
        Some(cost) => format!("${cost:.4}"),
        None => crate::generate::llm::cost::no_cost(engine).to_owned(),
    }
}

/// A key or account the API refuses stops the command (exit 2): every other request would be
/// refused too.
pub fn fatal_is_input(err: anyhow::Error) -> anyhow::Error {
    match err.downcast::<Fatal>() {
        Ok(fatal) => InputError::new(fatal.to_string()).into(),
        Err(other) => other,
    }
}

/// What a model may be shown of the scope (after `never_send`), and the crate around it.
pub struct Prepared {
    root: std::path::PathBuf,
    analysis: crate::analyze::Analysis,
    specs: Vec<crate::spec::model::Spec>,
    dependencies: model_engine::Dependencies,
    existing: HashMap<String, Vec<String>>,
    ran: HashMap<String, Vec<String>>,
    unreached: HashMap<String, Vec<String>>,
    kept_back: Vec<crate::generate::Skipped>,
}

impl Prepared {
    /// The functions that cannot be called under `features` (compiled out, nested) are left
    /// out, as skipped.
    fn new(
        workspace: &Workspace,
        analysis: &crate::analyze::Analysis,
        specs: &[crate::spec::model::Spec],
        config: &Config,
        features: &Features,
    ) -> anyhow::Result<Prepared> {
        let (mut analysis, specs, mut kept_back, never) =
            withheld(analysis, specs, config, &workspace.root)?;
        kept_back.extend(uncallable(&workspace.root, &mut analysis, features));
        let existing = crate_tests(workspace, &analysis, &never);
        Ok(Prepared {
            root: workspace.root.clone(),
            analysis,
            specs,
            dependencies: dependencies(workspace),
            existing,
            ran: HashMap::new(),
            unreached: HashMap::new(),
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
            unreached: &self.unreached,
        }
    }
}

/// One model engine for one command: the backend and its options, the store, and what a
/// model may see of the crate, built once and asked for tests, then for repairs and fixes.
pub struct Session {
    provider: Provider,
    /// `--total-timeout`, counted from the first request.
    total_timeout: Option<std::time::Duration>,
    /// Behind the trait: the engine code asks any backend the same way.
    backend: Box<dyn ModelBackend>,
    options: ModelOptions,
    store: Store,
    prepared: Prepared,
}

impl Session {
    /// The engine `provider` as the flags and the config say, for the functions of
    /// `analysis` a test can call under `features`.
    pub fn open(
        provider: Provider,
        args: &ModelArgs,
        config: &Config,
        workspace: &Workspace,
        (analysis, features): (&crate::analyze::Analysis, &Features),
        specs: &[crate::spec::model::Spec],
    ) -> anyhow::Result<Session> {
        let (backend, options) = model_backend(provider, args, config)?;
        let prepared = Prepared::new(workspace, analysis, specs, config, features)?;
        // A dry run reads no answer, from the cache or a replay.
        let store = if args.dry_run {
            Store::none()
        } else {
            store(args, workspace)?
        };
        Ok(Session {
            provider,
            total_timeout: args.total_timeout.map(std::time::Duration::from_secs),
            backend,
            options,
            store,
            prepared,
        })
    }

    /// `--dry-run`: the prompts the model would get, and what they would cost, as text;
    /// nothing is sent.
    pub fn dry_run(&self) -> String {
        let requests =
            model_engine::dry_run(self.backend.as_ref(), self.prepared.subject(), self.options);
        let mut out = String::new();
        for request in &requests {
            let _ = writeln!(
                out,
                "=== {} (~{} input tokens) ===\n{}\n",
                request.function, request.input_tokens, request.user
            );
        }
        let usage = crate::generate::llm::wire::Usage {
            input_tokens: requests.iter().map(|r| r.input_tokens).sum(),
            output_tokens: requests.iter().map(|r| r.output_tokens).sum(),
            ..Default::default()
        };
        let cost = crate::generate::llm::cost::cost_of(&usage, self.options.price);
        let _ = writeln!(
            out,
            "dry run: {} requests to {} ({}), about {} input and {} output tokens, {}; nothing \
             was sent",
            requests.len(),
            self.provider.name(),
            self.backend.model(),
            usage.input_tokens,
            usage.output_tokens,
            cost_text(cost, self.provider.name())
        );
        out
    }

    /// The model asked.
    pub fn model(&self) -> &str {
        self.backend.model()
    }

    /// Ask for tests, the model told what earlier tests of each function did (`ran`) and the
    /// sites their runs did not reach (`unreached`).
    pub fn generate(
        &mut self,
        ran: HashMap<String, Vec<String>>,
        unreached: HashMap<String, Vec<String>>,
    ) -> anyhow::Result<(ModelGeneration, Option<f64>)> {
        self.prepared.ran = ran;
        self.prepared.unreached = unreached;
        // `--total-timeout` counts from here, through every repair round and fix.
        self.options.patience.deadline = self.total_timeout.map(|t| first_asked() + t);
        let made = model_engine::generate(
            self.backend.as_ref(),
            self.prepared.subject(),
            &self.store,
            self.options,
        );
        // Repairs and fixes are asked about the tests at hand, not the earlier ones.
        self.prepared.ran = HashMap::new();
        self.prepared.unreached = HashMap::new();
        let mut made = made.map_err(fatal_is_input)?;
        // Nothing at all came back: the server is down or misconfigured, and a review that
        // tested nothing must not pass.
        if made.generation.tests.is_empty()
            && let Some(first) = made
                .generation
                .skipped
                .iter()
                .flat_map(|s| s.reasons.iter())
                .find(|reason| reason.starts_with("the model gave no answer"))
        {
            let check = match self.provider.agent() {
                Some(agent) => format!(
                    "check that `{0}` runs and answers on its own (`{0} --version`), or pass \
                     --agent-bin",
                    agent.name()
                ),
                None => "check --base-url or the provider's base URL variable, and the server"
                    .to_owned(),
            };
            return Err(InputError::new(format!(
                "{} answered for no function ({first}): {check}",
                self.provider.name()
            ))
            .into());
        }
        made.generation
            .skipped
            .extend(self.prepared.kept_back.iter().cloned());
        let cost = made.cost(self.options.price);
        Ok((made, cost))
    }

    /// A cover round: ask again about only the functions some of whose sites no test's run
    /// reached (`unreached`), each told every test that ran so far (`ran`), for at most
    /// `tests_per_fn` tests aimed at those sites, with `spent` already counted against
    /// `--max-cost`.
    pub fn cover(
        &self,
        ran: HashMap<String, Vec<String>>,
        unreached: HashMap<String, Vec<String>>,
        tests_per_fn: usize,
        spent: f64,
    ) -> anyhow::Result<(ModelGeneration, Option<f64>)> {
        let mut options = self.left_to_spend(spent);
        options.tests_per_fn = options.tests_per_fn.min(tests_per_fn).max(1);
        let mut analysis = self.prepared.analysis.clone();
        analysis
            .functions
            .retain(|function| unreached.contains_key(&function.path));
        let subject = model_engine::Subject {
            analysis: &analysis,
            ran: &ran,
            unreached: &unreached,
            ..self.prepared.subject()
        };
        let made = model_engine::generate(self.backend.as_ref(), subject, &self.store, options)
            .map_err(fatal_is_input)?;
        let cost = made.cost(options.price);
        Ok((made, cost))
    }

    /// Ask the model to fix the tests it wrote that did not compile, with `spent` already
    /// counted against `--max-cost`.
    pub fn repair(
        &self,
        broken: &[Broken],
        spent: f64,
    ) -> anyhow::Result<(ModelGeneration, Option<f64>)> {
        let options = self.left_to_spend(spent);
        let made = model_engine::repair(
            self.backend.as_ref(),
            self.prepared.subject(),
            &self.store,
            broken,
            options,
        )
        .map_err(fatal_is_input)?;
        let cost = made.cost(options.price);
        Ok((made, cost))
    }

    /// Ask the model how to fix the functions that `failing` tests break, with `spent`
    /// already counted against `--max-cost`.
    pub fn fixes(
        &self,
        failing: &[(String, Vec<model_engine::Failing>)],
        spent: f64,
    ) -> anyhow::Result<(model_engine::FixRun, Option<f64>)> {
        let options = self.left_to_spend(spent);
        let made = model_engine::propose_fixes(
            self.backend.as_ref(),
            self.prepared.subject(),
            &self.store,
            failing,
            options,
        )
        .map_err(fatal_is_input)?;
        let cost = crate::generate::llm::cost::cost_of(&made.usage, options.price);
        Ok((made, cost))
    }

    fn left_to_spend(&self, spent: f64) -> ModelOptions {
        left_to_spend(self.options, spent)
    }
}

/// `options` with `--max-cost` lowered by what was spent; spent to the limit, the smallest
/// budget there is, which the first check stops at.
fn left_to_spend(mut options: ModelOptions, spent: f64) -> ModelOptions {
    options.max_cost = options
        .max_cost
        .map(|limit| (limit - spent).max(f64::MIN_POSITIVE));
    options
}

#[cfg(test)]
mod test {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_is_left_of_max_cost_shrinks_and_never_reaches_no_limit() {
        let options = ModelOptions {
            max_cost: Some(1.0),
            ..ModelOptions::default()
        };
        assert_eq!(left_to_spend(options, 0.25).max_cost, Some(0.75));
        // Spent past the limit: a budget the first check refuses, not "no limit".
        assert_eq!(
            left_to_spend(options, 3.0).max_cost,
            Some(f64::MIN_POSITIVE)
        );
        let unlimited = ModelOptions::default();
        assert_eq!(left_to_spend(unlimited, 3.0).max_cost, None);
    }

    #[test]
    fn never_send_keeps_functions_and_specs_back() {
        let analysis: crate::analyze::Analysis = serde_json::from_value(json!({
            "schema": "dualtrack.analyze/v1", "files": [], "unreachable_files": [],
            "errors": [],
            "functions": [
                {"path": "c::open", "package": "c", "file": "src/lib.rs", "line": 1,
                 "end_line": 2, "visibility": "pub", "sites": []},
                {"path": "c::secret::key", "package": "c", "file": "src/secret/key.rs",
                 "line": 1, "end_line": 2, "visibility": "pub", "sites": []}
            ]
        }))
        .unwrap();
        let spec = |file: &str| crate::spec::model::Spec {
            file: file.to_owned(),
            targets: Vec::new(),
            items: Vec::new(),
        };
        let config = Config {
            never_send: vec!["src/secret/**".to_owned(), "docs/private.md".to_owned()],
            ..Config::default()
        };
        let specs = [spec("SPEC.md"), spec("docs/private.md")];
        let (kept, sent, skipped, never) =
            withheld(&analysis, &specs, &config, Path::new("/w")).unwrap();
        let paths: Vec<&str> = kept.functions.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["c::open"]);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].file, "SPEC.md");
        assert_eq!(skipped[0].function, "c::secret::key");
        assert!(skipped[0].reasons[0].contains("never_send"), "{skipped:?}");
        assert!(never.is_match("src/secret/key.rs"));
        // A pattern that is no glob is an error that names it.
        let broken = Config {
            never_send: vec!["src/[".to_owned()],
            ..Config::default()
        };
        let err = withheld(&analysis, &specs, &broken, Path::new("/w")).unwrap_err();
        assert!(err.to_string().contains("`src/[`"), "{err}");
    }
}
