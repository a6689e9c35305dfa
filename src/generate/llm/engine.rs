//! A model engine's generation: one request per function (a few in flight), each answer read
//! tolerantly and its tests checked, the tool filling in the metadata it asked about. Makes
//! the same `Generation` as the offline engine, plus token usage and transcripts.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

use super::answer::read_answer;
use super::backend::ModelBackend;
use super::client::{ApiError, Patience};
use super::cost::{Price, cost_of};
use super::prompt::{FunctionContext, SYSTEM, function_context, repair_message, user_message};
use super::store::{Lookup, Store, request_key};
use super::wire::{Finish, Request, Usage};
use crate::analyze::Analysis;
use crate::effects::EffectRules;
use crate::generate::emit::with_meta;
use crate::generate::{GeneratedTest, Generation, Skipped};
use crate::spec::link::item_targets;
use crate::spec::model::Spec;
use crate::testfile::TestMeta;

/// How much to ask for, and how patiently.
#[derive(Debug, Clone, Copy)]
pub struct ModelOptions {
    /// Tests asked for per function.
    pub tests_per_fn: usize,
    pub max_output_tokens: u32,
    /// Requests in flight at once.
    pub concurrency: usize,
    pub patience: Patience,
    /// The model's price, for the cost and `max_cost`; `None` when it has none.
    pub price: Option<Price>,
    /// Stop asking once this many US dollars are spent.
    pub max_cost: Option<f64>,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            tests_per_fn: 8,
            max_output_tokens: 16_000,
            concurrency: 4,
            patience: Patience::default(),
            price: None,
            max_cost: None,
        }
    }
}

/// One exchange with the model, as kept in the run directory: the request without any key,
/// the response, usage and timing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Transcript {
    pub function: String,
    pub engine: String,
    pub model: String,
    /// The request's key: what `--replay` and the cache find it by.
    pub key: String,
    /// Where the answer came from: `api`, `cache` or `replay`.
    pub source: &'static str,
    pub request: Value,
    pub response: Value,
    pub usage: Usage,
    pub elapsed_ms: u64,
    pub attempts: u32,
    pub request_id: Option<String>,
}

/// What a model run made.
#[derive(Default)]
pub struct ModelGeneration {
    pub generation: Generation,
    pub usage: Usage,
    pub transcripts: Vec<Transcript>,
    /// The model's tests refused before any build; their `round` is the caller's to say.
    pub refused: Vec<RefusedTest>,
    /// The repair rounds, as the caller that ran them recorded them.
    pub repairs: Vec<RepairRecord>,
}

/// A model's test refused before any build.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default)]
pub struct RefusedTest {
    pub function: String,
    pub test: String,
    pub reason: String,
    /// When the model wrote it: `generate`, `repair 1`, `cover 1`, ...
    pub round: String,
}

/// One test in one repair round.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default)]
pub struct RepairRecord {
    pub round: u32,
    pub function: String,
    pub test: String,
    /// The compiler's errors as the model was sent them.
    pub errors: Vec<String>,
    /// `compiled` (then what it did), `still does not compile`, or `not answered`.
    pub outcome: String,
}

impl ModelGeneration {
    /// The refused tests, said to come from `round`.
    pub fn in_round(mut self, round: &str) -> Self {
        for refused in &mut self.refused {
            round.clone_into(&mut refused.round);
        }
        self
    }
}

impl ModelGeneration {
    /// What the usage cost, when the model has a price.
    pub fn cost(&self, price: Option<Price>) -> Option<f64> {
        cost_of(&self.usage, price)
    }
}

/// Why a model run stopped before the end: the key or the account, which no other request
/// would get past either.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Fatal(pub ApiError);

/// What the model is asked about: the functions, the specs, and the crate around them.
#[derive(Clone, Copy)]
pub struct Subject<'a> {
    /// The workspace root the functions' files are relative to.
    pub root: &'a Path,
    pub analysis: &'a Analysis,
    pub specs: &'a [Spec],
    pub dependencies: &'a Dependencies,
    /// Per function: the crate's own tests that use it ([`super::existing::crate_tests`]).
    pub existing: &'a HashMap<String, Vec<String>>,
    /// Per function: the cheap engine's tests that ran, with what they found.
    pub ran: &'a HashMap<String, Vec<String>>,
    /// Per function: the sites those tests' runs did not reach, by the probes.
    pub unreached: &'a HashMap<String, Vec<String>>,
}

/// Ask the model about every function of `analysis`.
pub fn generate(
    backend: &dyn ModelBackend,
    subject: Subject,
    store: &Store,
    options: ModelOptions,
) -> anyhow::Result<ModelGeneration> {
    let analysis = subject.analysis;
    let contexts = contexts(subject);
    let shadowing = names_shadowing(subject.root, analysis);
    let effects = effect_rules(subject.root, analysis);
    let runtime = runtime()?;
    let answers = runtime.block_on(ask_all(backend, store, &effects, contexts, options))?;
    let mut out = ModelGeneration::default();
    // A test named like a function of the crate would shadow it for its sibling tests.
    let mut taken: HashSet<String> = analysis
        .functions
        .iter()
        .filter_map(|f| f.path.rsplit("::").next().map(str::to_owned))
        .collect();
    for (context, outcome) in answers {
        let module = module_of(analysis, &context.path);
        match outcome {
            Ok(asked) => {
                out.usage += asked.usage;
                out.transcripts.extend(asked.transcripts);
                if let Some(reason) = asked.nothing_because {
                    out.generation.skipped.push(Skipped {
                        function: context.path.clone(),
                        reasons: vec![reason],
                    });
                    continue;
                }
                refuse(&mut out, &context.path, asked.refused);
                for test in asked.tests {
                    let meta = meta_for(&test, &context);
                    let item = with_crate_paths(&context.path, test.item, &|name| {
                        shadowing.contains(name)
                    });
                    out.generation.tests.push(GeneratedTest {
                        test: with_meta(with_name(item, &mut taken), &meta),
                        module: module.clone(),
                    });
                }
            }
            Err(reason) => out.generation.skipped.push(Skipped {
                function: context.path.clone(),
                reasons: vec![reason],
            }),
        }
    }
    out.generation.callable = out
        .generation
        .tests
        .iter()
        .map(|t| t.test.meta.function.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    out.generation.candidates = out.generation.tests.len();
    Ok(out)
}

/// A prompt that would be sent, with a rough count of its tokens.
pub struct DryRequest {
    pub function: String,
    pub system: String,
    pub user: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// Output tokens a test takes, roughly: for the estimate only.
const TOKENS_PER_TEST: u64 = 250;

/// The requests `generate` would send, without sending any: the prompts and an estimate of
/// their tokens (four characters a token).
pub fn dry_run(
    backend: &dyn ModelBackend,
    subject: Subject,
    options: ModelOptions,
) -> Vec<DryRequest> {
    contexts(subject)
        .into_iter()
        .map(|context| {
            let user = user_message(&context, options.tests_per_fn, !backend.enforces_schema());
            DryRequest {
                function: context.path.clone(),
                input_tokens: ((SYSTEM.len() + user.len()) / 4) as u64,
                output_tokens: options.tests_per_fn as u64 * TOKENS_PER_TEST,
                system: SYSTEM.to_owned(),
                user,
            }
        })
        .collect()
}

/// The module a function is in (`ledger::money`), where its tests go.
fn module_of(analysis: &Analysis, path: &str) -> String {
    analysis
        .functions
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.module.clone())
        .unwrap_or_default()
}

/// The runtime the requests run on: one thread, since they wait on the network. One for the
/// process, as long-lived as the backends' HTTP clients: a pooled connection is driven by the
/// runtime that opened it, and a later call on a fresh runtime would find it dead.
fn runtime() -> anyhow::Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: std::sync::OnceLock<Result<tokio::runtime::Runtime, String>> =
        std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| err.to_string())
        })
        .as_ref()
        .map_err(|err| anyhow::anyhow!("cannot start the HTTP runtime: {err}"))
}
/// A model's test that did not compile, with what the compiler said.
#[derive(Debug, Clone)]
pub struct Broken {
    pub meta: TestMeta,
    pub name: String,
    pub code: String,
    pub errors: Vec<String>,
}

/// Ask the model to fix tests that did not compile, one request per function. The fixed
/// tests keep their names and metadata (what they were written to test).
pub fn repair(
    backend: &dyn ModelBackend,
    subject: Subject,
    store: &Store,
    broken: &[Broken],
    options: ModelOptions,
) -> anyhow::Result<ModelGeneration> {
    let analysis = subject.analysis;
    let shadowing = names_shadowing(subject.root, analysis);
    let effects = effect_rules(subject.root, analysis);
    let mut by_function: Vec<(FunctionContext, Vec<&Broken>)> = Vec::new();
    for context in contexts(subject) {
        let mine: Vec<&Broken> = broken
            .iter()
            .filter(|b| b.meta.function == context.path)
            .collect();
        if !mine.is_empty() {
            by_function.push((context, mine));
        }
    }
    let runtime = runtime()?;
    let mut out = ModelGeneration::default();
    for chunk in by_function.chunks(options.concurrency.max(1)) {
        if let Some(limit) = options.max_cost
            && cost_of(&out.usage, options.price).is_some_and(|spent| spent >= limit)
        {
            for (context, _) in chunk {
                out.generation.warnings.push(format!(
                    "{}: not repaired: the --max-cost budget was spent",
                    context.path
                ));
            }
            continue;
        }
        let futures = chunk.iter().map(|(context, mine)| {
            let message = repair_message(
                context,
                &mine
                    .iter()
                    .map(|b| (b.name.clone(), b.code.clone(), b.errors.clone()))
                    .collect::<Vec<_>>(),
                !backend.enforces_schema(),
            );
            ask_with(backend, store, &effects, context, message, options)
        });
        let answers = runtime.block_on(join_all(futures));
        for ((context, mine), answer) in chunk.iter().zip(answers) {
            let asked = match answer {
                Err(AskOutcome::Fatal(err)) => return Err(Fatal(err).into()),
                Err(AskOutcome::Skip(reason) | AskOutcome::Unreachable(reason)) => {
                    out.generation
                        .warnings
                        .push(format!("{}: {reason}", context.path));
                    continue;
                }
                Ok(asked) => asked,
            };
            out.usage += asked.usage;
            out.transcripts.extend(asked.transcripts);
            refuse(&mut out, &context.path, asked.refused);
            let module = module_of(analysis, &context.path);
            // By name only: a test under another name is not the one that was broken.
            let mut unmatched: Vec<&Broken> = mine.clone();
            for mut test in asked.tests {
                let name = test.item.sig.ident.to_string();
                let Some(position) = unmatched.iter().position(|b| b.name == name) else {
                    continue;
                };
                let original = unmatched.remove(position);
                test.item.sig.ident = syn::Ident::new(&original.name, test.item.sig.ident.span());
                let item =
                    with_crate_paths(&context.path, test.item, &|name| shadowing.contains(name));
                out.generation.tests.push(GeneratedTest {
                    test: with_meta(item, &original.meta),
                    module: module.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// Keep `refused`, the model's tests for `function` that will not run: in the document, and
/// as a warning on the terminal.
fn refuse(out: &mut ModelGeneration, function: &str, refused: Vec<super::answer::Refused>) {
    for refused in refused {
        out.generation.warnings.push(format!(
            "{function}: the model's test `{}` was refused: {}",
            refused.name, refused.reason
        ));
        out.refused.push(RefusedTest {
            function: function.to_owned(),
            test: refused.name,
            reason: refused.reason,
            round: String::new(),
        });
    }
}

/// A failing test, as a fix request shows it.
#[derive(Debug, Clone)]
pub struct Failing {
    pub name: String,
    pub code: String,
    /// What happened when it ran (the panic message, the time-out).
    pub happened: String,
}

/// A fix the model proposed, put in place in its function's file: not yet verified.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub function: String,
    /// Relative to the workspace root.
    pub file: String,
    /// The file's whole text with the fix in place.
    pub patched: String,
    /// The function as the model rewrote it, to put in place again later (`reconcile
    /// --apply`) in the file as it is then.
    pub code: String,
    pub explanation: String,
}

/// What asking for fixes made.
#[derive(Default)]
pub struct FixRun {
    pub proposals: Vec<Proposal>,
    /// Functions with no fix to offer, and why (the model judged the tests wrong, its fix
    /// would change the signature, ...).
    pub declined: Vec<(String, String)>,
    pub usage: Usage,
    pub transcripts: Vec<Transcript>,
}

/// Ask the model how to fix each function its failing tests break (one request per
/// function, a few in flight), and put each answer in place in the function's file text.
pub fn propose_fixes(
    backend: &dyn ModelBackend,
    subject: Subject,
    store: &Store,
    failing: &[(String, Vec<Failing>)],
    options: ModelOptions,
) -> anyhow::Result<FixRun> {
    let analysis = subject.analysis;
    let asked: Vec<(FunctionContext, &Vec<Failing>)> = contexts(subject)
        .into_iter()
        .filter_map(|context| {
            let tests = failing.iter().find(|(f, _)| *f == context.path)?;
            Some((context, &tests.1))
        })
        .collect();
    let runtime = runtime()?;
    let mut out = FixRun::default();
    for chunk in asked.chunks(options.concurrency.max(1)) {
        if let Some(limit) = options.max_cost
            && cost_of(&out.usage, options.price).is_some_and(|spent| spent >= limit)
        {
            for (context, _) in chunk {
                out.declined.push((
                    context.path.clone(),
                    "not asked: the --max-cost budget was spent".to_owned(),
                ));
            }
            continue;
        }
        let futures = chunk.iter().map(|(context, tests)| {
            let shown: Vec<(String, String, String)> = tests
                .iter()
                .map(|t| (t.name.clone(), t.code.clone(), t.happened.clone()))
                .collect();
            let request = Request {
                model: backend.model().to_owned(),
                system: SYSTEM.to_owned(),
                user: super::prompt::fix_message(context, &shown, !backend.enforces_schema()),
                max_output_tokens: options.max_output_tokens,
                schema: Some(super::wire::Schema::Fix),
            };
            async move { exchange(backend, store, &context.path, &request, options).await }
        });
        let answers = runtime.block_on(join_all(futures));
        for ((context, _), answer) in chunk.iter().zip(answers) {
            let (reply, transcript) = match answer {
                Err(AskOutcome::Fatal(err)) => return Err(Fatal(err).into()),
                Err(AskOutcome::Skip(reason) | AskOutcome::Unreachable(reason)) => {
                    out.declined.push((context.path.clone(), reason));
                    continue;
                }
                Ok(answered) => answered,
            };
            if transcript.source != "cache" {
                out.usage += reply.usage;
            }
            out.transcripts.push(transcript);
            let Some(function) = analysis.functions.iter().find(|f| f.path == context.path) else {
                continue;
            };
            let outcome = match reply.finish {
                Finish::Truncated => Err("the answer was cut off at the output budget".to_owned()),
                Finish::Refused(said) => Err(format!("the model declined: {said}")),
                Finish::Complete => propose(subject.root, function, &reply.text),
            };
            match outcome {
                Ok((patched, code, explanation)) => out.proposals.push(Proposal {
                    function: function.path.clone(),
                    file: function.file.clone(),
                    patched,
                    code,
                    explanation,
                }),
                Err(reason) => out.declined.push((function.path.clone(), reason)),
            }
        }
    }
    Ok(out)
}

/// The function's file with the answer's fix in place, the fix, and the model's explanation.
fn propose(
    root: &Path,
    function: &crate::analyze::Function,
    answer: &str,
) -> Result<(String, String, String), String> {
    use super::fix::{FixAnswer, apply_fix, read_fix};
    let (code, explanation) = match read_fix(answer)? {
        FixAnswer::Fix { code, explanation } => (code, explanation),
        FixAnswer::NoFix { explanation } => {
            return Err(format!("the model judges the tests wrong: {explanation}"));
        }
    };
    let path = root.join(&function.file);
    let source = std::fs::read_to_string(&path)
        .map_err(|err| format!("cannot read {}: {err}", function.file))?;
    let name = function.path.rsplit("::").next().unwrap_or(&function.path);
    let patched = apply_fix(&source, function.line, name, &code)?;
    Ok((patched, code, explanation))
}

/// A test the model wrote, parsed.
struct Taken {
    item: syn::ItemFn,
    proposed: super::answer::ProposedTest,
}

/// One function's answer.
struct Asked {
    tests: Vec<Taken>,
    refused: Vec<super::answer::Refused>,
    usage: Usage,
    transcripts: Vec<Transcript>,
    /// The model gave no tests, and why.
    nothing_because: Option<String>,
}

async fn ask_all(
    backend: &dyn ModelBackend,
    store: &Store,
    effects: &EffectRules,
    contexts: Vec<FunctionContext>,
    options: ModelOptions,
) -> Result<Vec<(FunctionContext, Result<Asked, String>)>, Fatal> {
    // A few at a time, in order: results keep the functions' order.
    let mut results = Vec::with_capacity(contexts.len());
    let mut spent = Usage::default();
    // A server none of the first batch could reach (or that answered none of it in time) is
    // down, misnamed or hung: the rest would only wait out the same retries.
    let mut unreachable: Option<String> = None;
    let mut answered = false;
    for chunk in contexts.chunks(options.concurrency.max(1)) {
        if let Some(reason) = &unreachable {
            for context in chunk {
                results.push((context.clone(), Err(reason.clone())));
            }
            continue;
        }
        if options.patience.out_of_time() {
            for context in chunk {
                results.push((
                    context.clone(),
                    Err("not asked: --total-timeout was reached".to_owned()),
                ));
            }
            continue;
        }
        if let Some(limit) = options.max_cost
            && cost_of(&spent, options.price).is_some_and(|spent| spent >= limit)
        {
            for context in chunk {
                results.push((
                    context.clone(),
                    Err(format!("not asked: --max-cost {limit} was spent")),
                ));
            }
            continue;
        }
        let futures = chunk
            .iter()
            .map(|context| ask_one(backend, store, effects, context, options));
        let answers = join_all(futures).await;
        let mut reached = false;
        let mut last_unreachable = None;
        for (context, answer) in chunk.iter().zip(answers) {
            match answer {
                Err(AskOutcome::Fatal(err)) => return Err(Fatal(err)),
                Err(AskOutcome::Unreachable(reason)) => {
                    last_unreachable = Some(reason.clone());
                    results.push((context.clone(), Err(reason)));
                }
                Err(AskOutcome::Skip(reason)) => {
                    reached = true;
                    results.push((context.clone(), Err(reason)));
                }
                Ok(asked) => {
                    reached = true;
                    spent += asked.usage;
                    results.push((context.clone(), Ok(asked)));
                }
            }
        }
        answered |= reached;
        if !answered && let Some(reason) = last_unreachable {
            unreachable = Some(reason);
        }
    }
    Ok(results)
}

/// Run futures together on the current thread and collect their outputs in order.
async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (index, future) in pinned.iter_mut().enumerate() {
            if outputs[index].is_some() {
                continue;
            }
            match future.as_mut().poll(cx) {
                std::task::Poll::Ready(output) => outputs[index] = Some(output),
                std::task::Poll::Pending => pending = true,
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

enum AskOutcome {
    Fatal(ApiError),
    Skip(String),
    /// The server could not be reached, or never answered, after the retries.
    Unreachable(String),
}

async fn ask_one(
    backend: &dyn ModelBackend,
    store: &Store,
    effects: &EffectRules,
    context: &FunctionContext,
    options: ModelOptions,
) -> Result<Asked, AskOutcome> {
    ask_tests(backend, store, effects, context, None, options).await
}

/// Ask with a message of the caller's (a repair request).
async fn ask_with(
    backend: &dyn ModelBackend,
    store: &Store,
    effects: &EffectRules,
    context: &FunctionContext,
    message: String,
    options: ModelOptions,
) -> Result<Asked, AskOutcome> {
    ask_tests(backend, store, effects, context, Some(message), options).await
}

async fn ask_tests(
    backend: &dyn ModelBackend,
    store: &Store,
    effects: &EffectRules,
    context: &FunctionContext,
    message: Option<String>,
    options: ModelOptions,
) -> Result<Asked, AskOutcome> {
    let mut wanted = options.tests_per_fn.max(1);
    let mut asked = Asked {
        tests: Vec::new(),
        refused: Vec::new(),
        usage: Usage::default(),
        transcripts: Vec::new(),
        nothing_because: None,
    };
    // A truncated answer is asked again once, for half as many tests.
    for round in 0..2 {
        let request = Request {
            model: backend.model().to_owned(),
            system: SYSTEM.to_owned(),
            user: message
                .clone()
                .unwrap_or_else(|| user_message(context, wanted, !backend.enforces_schema())),
            max_output_tokens: options.max_output_tokens,
            schema: Some(super::wire::Schema::Tests),
        };
        let (reply, transcript) =
            exchange(backend, store, &context.path, &request, options).await?;
        // A cached answer was paid for by an earlier run.
        if transcript.source != "cache" {
            asked.usage += reply.usage;
        }
        asked.transcripts.push(transcript);
        match reply.finish {
            Finish::Truncated if round == 0 => {
                wanted = (wanted / 2).max(1);
                continue;
            }
            Finish::Refused(said) => {
                asked.nothing_because = Some(format!("the model declined: {said}"));
                return Ok(asked);
            }
            _ => {}
        }
        match read_answer(&reply.text, effects) {
            Ok(answer) => {
                asked.refused = answer.refused;
                // No more than asked for: an answer cannot grow the run on its own.
                let extra = answer.tests.len().saturating_sub(wanted);
                if extra > 0 {
                    asked.refused.push(super::answer::Refused {
                        name: format!("{extra} more tests"),
                        reason: format!("more than the {wanted} asked for"),
                    });
                }
                for proposed in answer.tests.into_iter().take(wanted) {
                    match crate::syntax::parse_str::<syn::ItemFn>(&proposed.code) {
                        Ok(item) => asked.tests.push(Taken { item, proposed }),
                        Err(err) => asked.refused.push(super::answer::Refused {
                            name: proposed.name.clone(),
                            reason: format!("does not parse as a function: {err}"),
                        }),
                    }
                }
                if asked.tests.is_empty() {
                    let first = asked
                        .refused
                        .first()
                        .map(|r| format!(": `{}` {}", r.name, r.reason))
                        .unwrap_or_default();
                    asked.nothing_because = Some(format!(
                        "the model's answer held no usable test ({} refused{first})",
                        asked.refused.len()
                    ));
                }
            }
            Err(err) => asked.nothing_because = Some(format!("the model's answer: {err}")),
        }
        return Ok(asked);
    }
    asked.nothing_because = Some("the answer was cut off twice at the output budget".to_owned());
    Ok(asked)
}

/// What the model's tests may do: the crate's own macros are known from its files.
fn effect_rules(root: &Path, analysis: &Analysis) -> EffectRules {
    let sources: Vec<String> = analysis
        .files
        .iter()
        .filter_map(|file| std::fs::read_to_string(root.join(file)).ok())
        .collect();
    EffectRules::for_crate(sources.iter().map(String::as_str))
}

/// `item` with paths that name the crate by its own name (`ledger::split`, right in an
/// integration test, unresolved in a unit test) starting with `crate::`, unless the crate has
/// a module or an import of that name for the path to mean.
fn with_crate_paths(
    function: &str,
    item: syn::ItemFn,
    shadowed: &dyn Fn(&str) -> bool,
) -> syn::ItemFn {
    let Some(crate_name) = function.split("::").next() else {
        return item;
    };
    if shadowed(crate_name) {
        return item;
    }
    super::fixup::with_crate_paths(&item, crate_name).unwrap_or(item)
}

/// The names a path may start with and mean something of the crate's own: modules (inline
/// or not) and imports renamed (`as`). Read from the crate's files as words (`mod units`,
/// `as units`); a false alarm only leaves a test as the model wrote it.
fn names_shadowing(root: &Path, analysis: &Analysis) -> HashSet<String> {
    let mut out = HashSet::new();
    for file in &analysis.files {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        let words: Vec<&str> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            if pair[0] == "mod" || pair[0] == "as" {
                out.insert(pair[1].to_owned());
            }
        }
    }
    out
}

/// One request and its reply, from the replay transcripts, the cache or the API: the reply
/// read and its exchange kept as a transcript (without any key).
async fn exchange(
    backend: &dyn ModelBackend,
    store: &Store,
    function: &str,
    request: &Request,
    options: ModelOptions,
) -> Result<(super::wire::Reply, Transcript), AskOutcome> {
    let body = backend.body(request);
    // Replay finds an exchange by what was asked of which engine, wherever the server was;
    // the cache also by the server: the same model name elsewhere is another model.
    let key = request_key(backend.engine(), &body);
    let cache_key = request_key(backend.location(), &body);
    let (response, source, elapsed_ms, attempts, request_id) = match store.lookup(&key, &cache_key)
    {
        Lookup::Replayed(response) => (response, "replay", 0, 0, None),
        Lookup::Cached(response) => (response, "cache", 0, 0, None),
        Lookup::NotRecorded => {
            return Err(AskOutcome::Skip(
                "replaying: the transcripts hold no answer to this request (the function, its \
                 spec or the options changed since)"
                    .to_owned(),
            ));
        }
        Lookup::Ask => match backend.send(&body, options.patience).await {
            Ok(exchange) => (
                exchange.body,
                "api",
                exchange.elapsed.as_millis() as u64,
                exchange.attempts,
                exchange.request_id,
            ),
            Err(
                err @ (ApiError::Auth { .. }
                | ApiError::Quota { .. }
                | ApiError::SignedOut { .. }
                | ApiError::UsageLimit { .. }),
            ) => {
                return Err(AskOutcome::Fatal(err));
            }
            Err(ApiError::OutOfTime { .. }) => {
                return Err(AskOutcome::Skip(
                    "not answered: --total-timeout was reached".to_owned(),
                ));
            }
            Err(err @ (ApiError::Connection { .. } | ApiError::Timeout { .. })) => {
                return Err(AskOutcome::Unreachable(format!(
                    "the model gave no answer: {err}"
                )));
            }
            Err(err) => {
                return Err(AskOutcome::Skip(format!("the model gave no answer: {err}")));
            }
        },
    };
    // A key a server echoes must not reach transcripts or reports.
    let response = backend.redact_value(response);
    let reply = backend
        .read(&response)
        .map_err(|err| AskOutcome::Skip(format!("the model gave no answer: {err}")))?;
    if source == "api" && reply.finish == Finish::Complete {
        store.remember(&cache_key, &response);
    }
    let transcript = Transcript {
        function: function.to_owned(),
        engine: backend.engine().to_owned(),
        model: reply
            .model
            .clone()
            .unwrap_or_else(|| backend.model().to_owned()),
        key,
        source,
        request: body,
        response,
        usage: reply.usage,
        elapsed_ms,
        attempts,
        request_id,
    };
    Ok((reply, transcript))
}

/// The metadata line of a model's test: the function it was asked about, and only the site and
/// item ids that exist.
fn meta_for(test: &Taken, context: &FunctionContext) -> TestMeta {
    let sites: HashSet<&str> = context.sites.iter().map(|s| s.0.as_str()).collect();
    let items: HashSet<&str> = context.spec_items.iter().map(|i| i.0.as_str()).collect();
    let proposed = &test.proposed;
    TestMeta {
        function: context.path.clone(),
        targets: proposed
            .targets
            .iter()
            .filter(|t| sites.contains(t.as_str()))
            .cloned()
            .collect(),
        spec: proposed
            .spec_items
            .iter()
            .filter(|i| items.contains(i.as_str()))
            .cloned()
            .collect(),
        category: proposed.category.clone(),
        oracle: proposed.oracle.clone(),
        input: proposed.input.clone(),
    }
}

/// The test under a name none in `taken` has (`name`, `name_2`, ...), which it then takes.
pub(crate) fn with_name(mut item: syn::ItemFn, taken: &mut HashSet<String>) -> syn::ItemFn {
    let base = item.sig.ident.to_string();
    let mut name = base.clone();
    let mut n = 1;
    while !taken.insert(name.clone()) {
        n += 1;
        name = format!("{base}_{n}");
    }
    item.sig.ident = syn::Ident::new(&name, item.sig.ident.span());
    item
}

/// The crates each package's tests may use, by package name.
pub type Dependencies = HashMap<String, Vec<String>>;

/// Type definitions shown per function, at most.
const MAX_TYPES: usize = 6;
/// Lines of one type definition shown, at most.
const MAX_TYPE_LINES: usize = 40;

/// Every function's context: its source, sites (marking those no spec item speaks to), the
/// spec items about it, the crate's types it names, and the crates a test may use.
fn contexts(subject: Subject) -> Vec<FunctionContext> {
    let Subject {
        root,
        analysis,
        specs,
        dependencies,
        existing,
        ran,
        unreached,
    } = subject;
    let unspecified: HashSet<String> = if specs.is_empty() {
        HashSet::new()
    } else {
        crate::spec::score::score(specs.to_vec(), Vec::new(), analysis, true, None)
            .unspecified_sites
            .into_iter()
            .collect()
    };
    let mut items: HashMap<usize, Vec<(String, String)>> = HashMap::new();
    for spec in specs {
        for item in spec.items.iter().filter(|i| i.is_promise()) {
            for index in item_targets(item, &spec.targets, &analysis.functions).direct {
                items
                    .entry(index)
                    .or_default()
                    .push((item.id.clone(), item.text.clone()));
            }
        }
    }
    let mut files: HashMap<String, String> = HashMap::new();
    for function in &analysis.functions {
        files.entry(function.file.clone()).or_insert_with(|| {
            std::fs::read_to_string(root.join(&function.file)).unwrap_or_default()
        });
    }
    let types = type_definitions(files.values());
    analysis
        .functions
        .iter()
        .enumerate()
        .map(|(index, function)| {
            let source = &files[&function.file];
            let mut context = function_context(
                function,
                source,
                items.remove(&index).unwrap_or_default(),
                &|site| unspecified.contains(site),
            );
            // The path names a method's own type (`Ledger::push`).
            let named = format!("{} {}", context.path, context.numbered_source);
            context.types = named_types(&named, &types);
            context.dependencies = dependencies
                .get(&function.package)
                .cloned()
                .unwrap_or_default();
            context.existing_tests = existing.get(&function.path).cloned().unwrap_or_default();
            context.ran_tests = ran.get(&function.path).cloned().unwrap_or_default();
            context.unreached_sites = unreached.get(&function.path).cloned().unwrap_or_default();
            context
        })
        .collect()
}

/// The crate's structs, enums and type aliases by name, printed (long ones cut).
fn type_definitions<'a>(sources: impl Iterator<Item = &'a String>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for source in sources {
        let Ok(file) = crate::syntax::parse_file(source) else {
            continue;
        };
        let mut pending: Vec<&syn::Item> = file.items.iter().collect();
        while let Some(item) = pending.pop() {
            let name = match item {
                syn::Item::Struct(item) => item.ident.to_string(),
                syn::Item::Enum(item) => item.ident.to_string(),
                syn::Item::Type(item) => item.ident.to_string(),
                syn::Item::Mod(module) => {
                    if let Some((_, items)) = &module.content {
                        pending.extend(items.iter());
                    }
                    continue;
                }
                _ => continue,
            };
            let mut printed = crate::analyze::names::unparse_item(item.clone());
            let lines: Vec<&str> = printed.lines().collect();
            if lines.len() > MAX_TYPE_LINES {
                printed = format!("{}\n    // ...\n}}", lines[..MAX_TYPE_LINES].join("\n"));
            }
            out.entry(name).or_insert(printed);
        }
    }
    out
}

/// The definitions of the types `source` names (capitalised identifiers), a few.
fn named_types(source: &str, types: &HashMap<String, String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    source
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with(|c: char| c.is_ascii_uppercase()))
        .filter(|word| seen.insert(word.to_string()))
        .filter_map(|word| types.get(word).cloned())
        .take(MAX_TYPES)
        .collect()
}

#[cfg(test)]
mod test {
    use super::*;

    /// A backend that is no HTTP API: it answers every request itself, as one that runs a
    /// local agent process would, and counts what it was asked.
    struct Local {
        asked: std::sync::atomic::AtomicUsize,
    }

    impl ModelBackend for Local {
        fn engine(&self) -> &'static str {
            "local-agent"
        }
        fn model(&self) -> &str {
            "agent-1"
        }
        fn location(&self) -> &str {
            "process:agent"
        }
        fn enforces_schema(&self) -> bool {
            false
        }
        fn body(&self, request: &Request) -> Value {
            serde_json::json!({"prompt": request.user})
        }
        fn send<'a>(
            &'a self,
            _body: &'a Value,
            _patience: Patience,
        ) -> super::super::backend::Sending<'a> {
            self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let answer = serde_json::json!({"tests": [{
                "name": "double_max_does_not_panic", "function": "demo::double",
                "targets": [], "spec_items": [], "category": "type_limit", "oracle": "no_panic",
                "input": "double(u32::MAX)", "rationale": null,
                "code": "#[test]\nfn double_max_does_not_panic() { let _ = double(u32::MAX); }"
            }]});
            Box::pin(async move {
                Ok(super::super::client::Exchange {
                    status: 200,
                    body: serde_json::json!({"text": answer.to_string()}),
                    attempts: 1,
                    elapsed: std::time::Duration::ZERO,
                    request_id: None,
                })
            })
        }
        fn redact_value(&self, value: Value) -> Value {
            value
        }
        fn read(
            &self,
            response: &Value,
        ) -> Result<super::super::wire::Reply, super::super::wire::WireError> {
            Ok(super::super::wire::Reply {
                text: response["text"].as_str().unwrap_or_default().to_owned(),
                usage: Usage::default(),
                finish: Finish::Complete,
                id: None,
                model: None,
            })
        }
    }

    #[test]
    fn a_backend_that_is_no_http_api_is_asked_like_the_others() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("src/lib.rs"),
            "pub fn double(x: u32) -> u32 {\n    x * 2\n}\n",
        )
        .unwrap();
        let mut analysis: Analysis = serde_json::from_value(serde_json::json!({
            "schema": "dualtrack.analyze/v1", "functions": [], "files": ["src/lib.rs"],
            "unreachable_files": [], "errors": []
        }))
        .unwrap();
        analysis.functions.push(crate::analyze::Function {
            path: "demo::double".into(),
            package: "demo".into(),
            file: "src/lib.rs".into(),
            line: 1,
            end_line: 3,
            module: String::new(),
            visibility: "pub".into(),
            params: vec!["x".into()],
            sites: Vec::new(),
            calls: Vec::new(),
        });
        let backend = Local {
            asked: Default::default(),
        };
        let empty = HashMap::new();
        let subject = Subject {
            root: dir.path(),
            analysis: &analysis,
            specs: &[],
            dependencies: &Dependencies::new(),
            existing: &empty,
            ran: &empty,
            unreached: &empty,
        };
        let made = generate(&backend, subject, &Store::none(), ModelOptions::default()).unwrap();
        assert_eq!(backend.asked.load(std::sync::atomic::Ordering::SeqCst), 1);
        let names: Vec<String> = made
            .generation
            .tests
            .iter()
            .map(|t| t.test.item.sig.ident.to_string())
            .collect();
        assert_eq!(names, ["double_max_does_not_panic"]);
        assert_eq!(made.transcripts[0].engine, "local-agent");
        assert_eq!(made.transcripts[0].model, "agent-1");
    }

    #[test]
    fn modules_and_renamed_imports_shadow_the_crate_s_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("lib.rs"),
            "pub mod units { pub const CM_PER_M: u32 = 100; }\nuse std::fmt as fmtx;\n",
        )
        .unwrap();
        let analysis = Analysis {
            files: vec!["lib.rs".into()],
            ..serde_json::from_value(serde_json::json!({
                "schema": "dualtrack.analyze/v1", "functions": [], "files": [],
                "unreachable_files": [], "errors": []
            }))
            .unwrap()
        };
        let shadowing = names_shadowing(dir.path(), &analysis);
        assert!(shadowing.contains("units") && shadowing.contains("fmtx"));
        let test: syn::ItemFn =
            syn::parse_str("#[test] fn t() { assert_eq!(units::CM_PER_M, 100); }").unwrap();
        let kept = with_crate_paths("units::convert", test.clone(), &|n| shadowing.contains(n));
        let shown = |item: &syn::ItemFn| quote::ToTokens::to_token_stream(item).to_string();
        assert_eq!(shown(&kept), shown(&test));
        let fixed = with_crate_paths(
            "other::convert",
            syn::parse_str("#[test] fn t() { other::f(); }").unwrap(),
            &|n| shadowing.contains(n),
        );
        assert!(
            quote::ToTokens::to_token_stream(&fixed)
                .to_string()
                .contains("crate :: f")
        );
    }

    #[test]
    fn the_types_a_function_names_are_shown() {
        let source = "pub struct Ledger { entries: Vec<i64> }\n\
                      mod inner { pub enum Kind { A, B } }\n\
                      pub type Cents = i64;\n\
                      fn helper() {}\n"
            .to_owned();
        let types = type_definitions(std::iter::once(&source));
        assert_eq!(types.len(), 3, "{types:?}");
        let shown = named_types(
            "ledger::Ledger::push fn push(&mut self, kind: Kind) -> Cents",
            &types,
        );
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(shown[0].contains("pub struct Ledger"), "{shown:?}");
        assert!(named_types("fn f(x: u8)", &types).is_empty());
    }
}
