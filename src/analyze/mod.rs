//! `analyze`: walk every lib and bin target's module tree and enumerate the sites of every
//! function.
//!
//! Files are parsed and walked in parallel: a shared queue holds the files still to read, and
//! each worker pushes the child modules it finds. Results are put in a deterministic order at
//! the end, so the output never depends on thread timing.

pub mod attrs;
pub mod expand;
pub mod filter;
pub mod model;
pub mod names;
pub mod resolve;
pub mod source;
pub mod span;
pub mod visit;

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

pub use filter::FunctionFilter;
pub use model::{
    ANALYZE_SCHEMA, Analysis, AnalysisError, Function, PanicVia, Site, SiteKind, Splice,
};

use crate::workspace::{ModDir, Workspace, normalize_lexically, source_dirs};
use visit::{FileContext, RawFunction, visit_file};

/// How deep `mod` declarations may nest before the walk calls it a cycle.
const MAX_MODULE_DEPTH: usize = 512;

#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    pub include_tests: bool,
    pub filter: FunctionFilter,
    /// Worker threads; 0 means one per available core.
    pub jobs: usize,
}

/// One file to read, in the context of the module it is.
#[derive(Debug, Clone)]
struct WorkItem {
    target: usize,
    file: PathBuf,
    context: FileContext,
    /// Byte offsets of the `mod` declarations leading here from the crate root: with a
    /// function's own offset, its place in source order across files.
    order: Vec<usize>,
    /// The files that declared this one, for cycle detection.
    ancestors: Vec<PathBuf>,
}

/// What one file contributed.
struct FileResult {
    target: usize,
    file: PathBuf,
    order: Vec<usize>,
    /// The module the file is (`crate::a::b`).
    module: String,
    /// Reached only through test modules.
    in_test: bool,
    functions: Vec<RawFunction>,
    errors: Vec<AnalysisError>,
    /// Its inline modules and the directories their files are read from.
    inline_dirs: Vec<(String, PathBuf)>,
}

impl FileResult {
    fn empty(item: &WorkItem) -> FileResult {
        FileResult {
            target: item.target,
            file: item.file.clone(),
            order: item.order.clone(),
            module: item.context.module_prefix.clone(),
            in_test: item.context.in_test,
            functions: Vec::new(),
            errors: Vec::new(),
            inline_dirs: Vec::new(),
        }
    }
}

struct Queue {
    items: VecDeque<WorkItem>,
    in_flight: usize,
}

/// Every function of the workspace, tests left out: what commands that act on the tree (not
/// on a filtered scope) need.
pub fn analyze_all(workspace: &Workspace) -> Analysis {
    analyze(
        workspace,
        &AnalyzeOptions {
            include_tests: false,
            filter: FunctionFilter::default(),
            jobs: 0,
        },
    )
}

/// Analyze the selected packages of a workspace.
pub fn analyze(workspace: &Workspace, options: &AnalyzeOptions) -> Analysis {
    let targets: Vec<(&str, &crate::workspace::CrateTarget)> = workspace
        .packages
        .iter()
        .flat_map(|p| p.targets.iter().map(move |t| (p.name.as_str(), t)))
        .collect();
    let roots = targets
        .iter()
        .enumerate()
        .map(|(index, (_, target))| WorkItem {
            target: index,
            file: normalize_lexically(&target.root_file),
            context: FileContext {
                module_prefix: target.crate_name.clone(),
                mod_dir: ModDir::for_crate_root(&normalize_lexically(&target.root_file)),
                in_test: false,
                include_tests: options.include_tests,
            },
            order: Vec::new(),
            ancestors: Vec::new(),
        })
        .collect();
    let results = walk_parallel(roots, options.jobs, workspace);

    let mut functions = Vec::new();
    let mut errors = Vec::new();
    let mut reached: HashSet<PathBuf> = HashSet::new();
    let mut files = BTreeSet::new();
    let mut file_modules = std::collections::BTreeMap::new();
    let mut module_dirs = std::collections::BTreeMap::new();
    let mut per_target: Vec<Vec<Pending>> = vec![Vec::new(); targets.len()];
    for (result_index, result) in results.into_iter().enumerate() {
        reached.insert(result.file.clone());
        files.insert(workspace.relative_path(&result.file));
        if !result.in_test {
            file_modules
                .entry(workspace.relative_path(&result.file))
                .or_insert_with(|| result.module.clone());
            for (module, dir) in &result.inline_dirs {
                module_dirs
                    .entry(module.clone())
                    .or_insert_with(|| workspace.relative_path(dir));
            }
        }
        errors.extend(result.errors);
        for (function_index, function) in result.functions.into_iter().enumerate() {
            let mut key = result.order.clone();
            key.push(function.offset);
            per_target[result.target].push(Pending {
                key,
                file: result.file.clone(),
                id: (result_index, function_index),
                function,
            });
        }
    }
    for (index, mut pending) in per_target.into_iter().enumerate() {
        pending.sort_by(|a, b| a.key.cmp(&b.key));
        let package = targets[index].0;
        for (function, path) in final_paths(pending) {
            let file = workspace.relative_path(&function.1);
            functions.push(finish_function(function.0, path, package, &file));
        }
    }
    functions.retain(|f| options.filter.matches(f));
    functions.sort_by(|a, b| (&a.file, a.line, &a.path).cmp(&(&b.file, b.line, &b.path)));
    errors.retain(|e| options.filter.matches_file(&e.file));
    errors.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
    });
    errors.dedup();

    let unreachable_files = unreachable_files(workspace, &reached)
        .into_iter()
        .filter(|f| options.filter.matches_file(f))
        .collect();
    Analysis {
        schema: ANALYZE_SCHEMA.to_owned(),
        functions,
        files: files.into_iter().collect(),
        unreachable_files,
        errors,
        file_modules,
        module_dirs,
    }
}

/// A function of one target before its path is final.
#[derive(Debug, Clone)]
struct Pending {
    /// Source order across the target's files.
    key: Vec<usize>,
    file: PathBuf,
    /// (file result, function index in that file), which `RawFunction::parent` refers to.
    id: (usize, usize),
    function: RawFunction,
}

/// Final paths in source order: colliding paths get `~2`, `~3`, and a nested function takes
/// its parent's final path (`f~2::g`, not `f::g~2`).
fn final_paths(pending: Vec<Pending>) -> Vec<((RawFunction, PathBuf), String)> {
    let mut finals: std::collections::HashMap<(usize, usize), (String, String)> =
        std::collections::HashMap::new();
    let mut counts: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(pending.len());
    for item in pending {
        let raw_path = item.function.path.clone();
        let base = match item
            .function
            .parent
            .and_then(|parent| finals.get(&(item.id.0, parent)))
        {
            Some((parent_raw, parent_final)) => match raw_path.strip_prefix(parent_raw.as_str()) {
                Some(rest) => format!("{parent_final}{rest}"),
                None => raw_path.clone(),
            },
            None => raw_path.clone(),
        };
        let count = counts.entry(base.clone()).or_insert(0);
        *count += 1;
        let path = if *count > 1 {
            format!("{base}~{count}")
        } else {
            base
        };
        finals.insert(item.id, (raw_path, path.clone()));
        out.push(((item.function, item.file), path));
    }
    out
}

/// Give each site its id: kind and ordinal by the position of its own token.
fn finish_function(raw: RawFunction, path: String, package: &str, file: &str) -> Function {
    let mut sites = raw.sites;
    sites.sort_by_key(|s| (s.kind, s.offset));
    let mut counter = (SiteKind::If, 0usize);
    let sites = sites
        .into_iter()
        .map(|site| {
            if counter.0 != site.kind {
                counter = (site.kind, 0);
            }
            counter.1 += 1;
            Site {
                id: format!("{path}#{}{}", site.kind.as_str(), counter.1),
                kind: site.kind,
                function: path.clone(),
                file: file.to_owned(),
                line: site.line,
                column: site.column,
                end_line: site.end_line,
                text: site.text,
                params: site.params,
                guard: site.guard,
                has_else: site.has_else,
                sub_conditions: site.sub_conditions,
                arm_guard: site.arm_guard,
                outcome: site.outcome,
                via: site.via,
                probe: site.probe,
            }
        })
        .collect::<Vec<_>>();
    // Present sites in source order; ids already carry the per-kind numbering.
    let mut sites = sites;
    sites.sort_by_key(|s| (s.line, s.column, s.kind));
    Function {
        path,
        package: package.to_owned(),
        file: file.to_owned(),
        line: raw.line,
        end_line: raw.end_line,
        visibility: raw.visibility,
        module: raw.module,
        params: raw.params,
        sites,
        calls: raw.calls,
    }
}

/// Worker stack size: syn and the visitor recurse once per nesting level, and rustc accepts
/// nesting far deeper than a default 2 MiB thread stack survives.
const WORKER_STACK: usize = 256 * 1024 * 1024;
/// The most worker threads, whatever `-j` says.
const MAX_JOBS: usize = 64;

fn walk_parallel(roots: Vec<WorkItem>, jobs: usize, workspace: &Workspace) -> Vec<FileResult> {
    let threads = if jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        jobs
    }
    .clamp(1, MAX_JOBS);
    let queue = Mutex::new(Queue {
        items: roots.into(),
        in_flight: 0,
    });
    let ready = Condvar::new();
    let results = Mutex::new(Vec::new());
    // A file declared twice under exclusive cfgs (`#[cfg(unix)] mod util;` beside
    // `#[cfg(not(unix))] mod util;`) is one module: walk each (target, file, module path,
    // test-ness) once.
    let seen: Mutex<HashSet<(usize, PathBuf, String, bool)>> = Mutex::new(HashSet::new());
    let worker = || {
        loop {
            let item = {
                let mut guard = queue.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if let Some(item) = guard.items.pop_front() {
                        guard.in_flight += 1;
                        break Some(item);
                    }
                    if guard.in_flight == 0 {
                        break None;
                    }
                    guard = ready.wait(guard).unwrap_or_else(|e| e.into_inner());
                }
            };
            let Some(item) = item else {
                ready.notify_all();
                return;
            };
            let key = (
                item.target,
                item.file.clone(),
                item.context.module_prefix.clone(),
                item.context.in_test,
            );
            let first_visit = seen.lock().unwrap_or_else(|e| e.into_inner()).insert(key);
            let (result, children) = if first_visit {
                process_file_guarded(&item, workspace)
            } else {
                (FileResult::empty(&item), Vec::new())
            };
            results
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(result);
            let mut guard = queue.lock().unwrap_or_else(|e| e.into_inner());
            guard.items.extend(children);
            guard.in_flight -= 1;
            drop(guard);
            ready.notify_all();
        }
    };
    std::thread::scope(|scope| {
        let spawned = (0..threads)
            .filter(|_| {
                std::thread::Builder::new()
                    .name("dualtrack-analyze".to_owned())
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, worker)
                    .is_ok()
            })
            .count();
        if spawned == 0 {
            // No thread could be started (a tight ulimit): do the work here.
            worker();
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// [`process_file`], with a panic turned into an error entry for the file: one bad file must
/// never hang or abort the whole run.
fn process_file_guarded(item: &WorkItem, workspace: &Workspace) -> (FileResult, Vec<WorkItem>) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        process_file(item, workspace)
    }));
    // The spans of this file are no longer needed: free the thread's source map.
    proc_macro2::extra::invalidate_current_thread_spans();
    outcome.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        let mut result = FileResult::empty(item);
        result.errors.push(AnalysisError {
            file: workspace.relative_path(&item.file),
            line: 1,
            column: 1,
            message: format!(
                "internal error while analyzing this file ({message}); please report it"
            ),
        });
        (result, Vec::new())
    })
}

/// Parse and walk one file; return what it holds and the child module files to read next.
fn process_file(item: &WorkItem, workspace: &Workspace) -> (FileResult, Vec<WorkItem>) {
    let relative = workspace.relative_path(&item.file);
    let mut result = FileResult::empty(item);
    let source = match source::load_source(&item.file) {
        Ok(source) => source,
        Err(err) => {
            result.errors.push(AnalysisError {
                file: relative,
                line: err.line,
                column: err.column,
                message: err.message,
            });
            return (result, Vec::new());
        }
    };
    let parsed = match crate::syntax::parse_file_without_docs(&source) {
        Ok(parsed) => parsed,
        Err(err) => {
            result.errors.push(AnalysisError {
                file: relative,
                line: err.line,
                column: err.column,
                message: if err.too_deep {
                    format!("{}; the file is skipped", err.message)
                } else {
                    err.describe()
                },
            });
            return (result, Vec::new());
        }
    };
    let output = visit_file(&parsed, &source, &item.context);
    result.functions = output.functions;
    result.inline_dirs = output.inline_dirs;

    let mut children = Vec::new();
    let mut ancestors = item.ancestors.clone();
    ancestors.push(item.file.clone());
    for child in output.child_modules {
        // (alternative index, file): the index orders cfg twins of one declaration.
        let mut found: Vec<(usize, &crate::workspace::ModFileCandidate)> = Vec::new();
        for (alternative_index, alternative) in child.alternatives.iter().enumerate() {
            if let Some(candidate) = alternative.iter().find(|c| c.file.is_file())
                && !found.iter().any(|(_, f)| f.file == candidate.file)
            {
                found.push((alternative_index, candidate));
            }
        }
        if found.is_empty() {
            let looked: Vec<String> = child
                .alternatives
                .iter()
                .flatten()
                .map(|c| workspace.relative_path(&c.file))
                .collect();
            result.errors.push(AnalysisError {
                file: relative.clone(),
                line: child.line,
                column: child.column,
                message: format!(
                    "file for module `{}` not found (looked for {})",
                    child.name,
                    looked.join(", ")
                ),
            });
            continue;
        }
        for (alternative_index, candidate) in found {
            if ancestors.contains(&candidate.file) || ancestors.len() >= MAX_MODULE_DEPTH {
                result.errors.push(AnalysisError {
                    file: relative.clone(),
                    line: child.line,
                    column: child.column,
                    message: format!(
                        "module `{}` would include {} again: circular modules",
                        child.name,
                        workspace.relative_path(&candidate.file)
                    ),
                });
                continue;
            }
            let mut order = item.order.clone();
            order.push(child.offset);
            order.push(alternative_index);
            children.push(WorkItem {
                target: item.target,
                file: candidate.file.clone(),
                context: FileContext {
                    module_prefix: child.module_prefix.clone(),
                    mod_dir: candidate.child_dir.clone(),
                    in_test: child.in_test,
                    include_tests: item.context.include_tests,
                },
                order,
                ancestors: ancestors.clone(),
            });
        }
    }
    (result, children)
}

/// `.rs` files under the packages' source directories that no module declaration reached.
fn unreachable_files(workspace: &Workspace, reached: &HashSet<PathBuf>) -> Vec<String> {
    let mut out = BTreeSet::new();
    for package in &workspace.packages {
        for dir in source_dirs(package) {
            let walker = walkdir::WalkDir::new(&dir)
                .follow_links(false)
                .into_iter()
                .filter_entry(|entry| !is_other_package(entry.path(), &dir));
            for entry in walker.flatten() {
                let path = entry.path();
                if entry.file_type().is_file()
                    && path.extension().is_some_and(|e| e == "rs")
                    && !reached.contains(&normalize_lexically(path))
                    && !package.other_roots.contains(&normalize_lexically(path))
                {
                    out.insert(workspace.relative_path(path));
                }
            }
        }
    }
    out.into_iter().collect()
}

/// A directory below a source directory that is a package of its own.
fn is_other_package(path: &Path, source_dir: &Path) -> bool {
    path != source_dir && path.is_dir() && path.join("Cargo.toml").is_file()
}
