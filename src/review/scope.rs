//! Which functions a review attacks: those asked for by `--fn`/`--file`, else those changed
//! since a base revision, else (outside git) every one; sharded, and less what `exclude` and
//! `// dualtrack: skip` leave alone.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::analyze::{Analysis, AnalyzeOptions, FunctionFilter, analyze};
use crate::cli::ReviewArgs;
use crate::config::Config;
use crate::document::Skipped;
use crate::error::InputError;
use crate::progress::Progress;
use crate::review::diff::{
    changed_since, default_base, has_commits, no_commits, repository_root, touched_functions,
};
use crate::review::exclude::Exclusions;
use crate::workspace::Workspace;

/// The functions a review attacks, and the whole crate around them.
pub struct Scope {
    /// The whole crate: `--fn`/`--file` pick the scope from it, and a private function in
    /// scope is reached through public callers that may lie outside it.
    pub full: Analysis,
    /// The crate with only the functions in scope.
    pub scoped: Analysis,
    /// Their indices in `full`.
    pub keep: BTreeSet<usize>,
    /// What is reviewed, in words: `functions changed since main (upstream)`.
    pub description: String,
    /// Nothing to review (no Rust change since the base): the reports are still written,
    /// empty, so that a CI step uploading them does not pick up an older run's.
    pub nothing: bool,
    /// Functions `exclude` or `// dualtrack: skip` left out.
    pub excluded: Vec<Skipped>,
    /// Every function of the crate is in scope: then spec items no code backs are this
    /// review's business too.
    pub whole_crate: bool,
}

/// Analyze the crate (`jobs` files at once, 0 for one per core) and pick the functions in
/// scope, saying on `progress` how many and why.
pub fn scope(
    workspace: &Workspace,
    jobs: usize,
    args: &ReviewArgs,
    config: &Config,
    filter: &FunctionFilter,
    progress: &Progress,
) -> anyhow::Result<Scope> {
    let stage = progress.quick_stage("analyzing");
    let full = analyze(
        workspace,
        &AnalyzeOptions {
            include_tests: false,
            filter: FunctionFilter::default(),
            jobs,
        },
    );
    stage.finish(None);
    for error in full.errors.iter().filter(|e| filter.matches_file(&e.file)) {
        progress.line(&format!(
            "warning: {}:{}:{}: {} (its functions are not reviewed)",
            error.file, error.line, error.column, error.message
        ));
    }
    let (mut indices, mut description, nothing) =
        match select_scope(workspace, args, &full, filter)? {
            Selected::Functions {
                indices,
                description,
            } => {
                progress.line(&format!(
                    "{description}: {}",
                    crate::output::plural(indices.len(), "function")
                ));
                (indices, description, false)
            }
            Selected::Nothing(why) => {
                progress.line(&format!("{why}; nothing to review"));
                (Vec::new(), why, true)
            }
        };
    if let Some((k, n)) = args.shard {
        indices = shard(&full, indices, k, n);
        description = format!("{description}, shard {k}/{n}");
    }
    let (keep, excluded) = exclude(workspace, config, &full, indices)?;
    if !excluded.is_empty() {
        progress.line(&format!(
            "{} left out by `exclude` in dualtrack.toml or `// dualtrack: skip` (listed under \
             `skipped` in report.json)",
            crate::output::plural(excluded.len(), "function")
        ));
    }
    let mut scoped = full.clone();
    scoped.functions = full
        .functions
        .iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, f)| f.clone())
        .collect();
    let whole_crate = !nothing && !args.functions.names_any() && keep.len() == full.functions.len();
    Ok(Scope {
        full,
        scoped,
        keep,
        description,
        nothing,
        excluded,
        whole_crate,
    })
}

/// `indices` less the functions the config's `exclude` patterns or a `// dualtrack: skip`
/// comment leave out, and those, with why.
fn exclude(
    workspace: &Workspace,
    config: &Config,
    full: &Analysis,
    indices: Vec<usize>,
) -> anyhow::Result<(BTreeSet<usize>, Vec<Skipped>)> {
    let exclusions = Exclusions::new(&config.exclude, &workspace.root)?;
    let mut excluded = Vec::new();
    let mut sources: HashMap<String, Option<String>> = HashMap::new();
    let keep = indices
        .into_iter()
        .filter(|&i| {
            let function = &full.functions[i];
            let source = sources.entry(function.file.clone()).or_insert_with(|| {
                std::fs::read_to_string(workspace.root.join(&function.file)).ok()
            });
            match exclusions.reason(function, source.as_deref()) {
                Some(reason) => {
                    excluded.push(Skipped {
                        function: function.path.clone(),
                        reasons: vec![reason],
                    });
                    false
                }
                None => true,
            }
        })
        .collect();
    Ok((keep, excluded))
}

enum Selected {
    Functions {
        indices: Vec<usize>,
        description: String,
    },
    Nothing(String),
}

/// The functions in scope: those asked for, else those changed since the base, else (outside
/// git) every function.
fn select_scope(
    workspace: &Workspace,
    args: &ReviewArgs,
    analysis: &Analysis,
    filter: &FunctionFilter,
) -> anyhow::Result<Selected> {
    let all: Vec<usize> = (0..analysis.functions.len()).collect();
    if args.all_functions {
        return Ok(Selected::Functions {
            indices: all,
            description: "every function (--all-functions)".into(),
        });
    }
    if args.functions.names_any() {
        let named: Vec<usize> = all
            .into_iter()
            .filter(|&i| filter.matches(&analysis.functions[i]))
            .collect();
        if named.is_empty() {
            return Err(crate::analyze::filter::no_function_matches().into());
        }
        return Ok(Selected::Functions {
            indices: named,
            description: "the functions --fn/--file name".into(),
        });
    }
    let Some(repo) = repository_root(&workspace.root) else {
        if args.base.is_some() {
            return Err(InputError::new(format!(
                "--base needs a git repository, and {} is not in one: pass --all-functions",
                workspace.root.display()
            ))
            .into());
        }
        return Ok(Selected::Functions {
            indices: all,
            description: "every function (not a git repository, so no base to compare with)".into(),
        });
    };
    if !has_commits(&repo) {
        return Err(no_commits().into());
    }
    let (base, how) = match &args.base {
        Some(base) => (base.clone(), "--base"),
        None => default_base(&repo).ok_or_else(|| {
            InputError::new(
                "no base revision to compare with (no upstream, origin/HEAD, main or master): \
                 pass --base REV or --all-functions",
            )
        })?,
    };
    let changed = changed_since(&repo, &base)?;
    if !changed.touches_rust() {
        return Ok(Selected::Nothing(format!(
            "no Rust file changed since {base} ({how})"
        )));
    }
    let prefix = relative_prefix(&repo, &workspace.root);
    // A changed file that does not parse hides what changed in it: say so rather than review
    // around it.
    let in_repo = |file: &str| {
        if prefix.is_empty() {
            file.to_owned()
        } else {
            format!("{}/{file}", prefix.trim_end_matches('/'))
        }
    };
    if let Some(error) = analysis
        .errors
        .iter()
        .find(|e| changed.files.contains_key(&in_repo(&e.file)))
    {
        return Err(InputError::new(format!(
            "{}:{}:{}: {}: this changed file does not parse, so its changes cannot be reviewed; \
             fix it and run again",
            error.file, error.line, error.column, error.message
        ))
        .into());
    }
    let touched = touched_functions(&analysis.functions, &changed, &prefix);
    if touched.is_empty() {
        let elsewhere = outside_selected_packages(workspace, &repo, &changed);
        let hint = match elsewhere.as_slice() {
            [] => String::new(),
            files => format!(
                " in the selected packages (Rust files changed outside them: {}{}; \
                 --workspace or -p reviews those)",
                files.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                if files.len() > 3 { ", ..." } else { "" }
            ),
        };
        return Ok(Selected::Nothing(format!(
            "no function changed since {base} ({how}){hint}"
        )));
    }
    Ok(Selected::Functions {
        indices: touched,
        description: format!("functions changed since {base} ({how})"),
    })
}

/// Changed Rust files (repository-relative) in no selected package: a change the review
/// would otherwise pass over in silence.
fn outside_selected_packages(
    workspace: &Workspace,
    repo: &Path,
    changed: &crate::review::diff::ChangedLines,
) -> Vec<String> {
    let packages: Vec<String> = workspace
        .packages
        .iter()
        .map(|p| relative_prefix(repo, &p.manifest_dir))
        .collect();
    changed
        .files
        .keys()
        .filter(|file| file.ends_with(".rs"))
        .filter(|file| {
            !packages.iter().any(|dir| {
                dir.is_empty() || file.starts_with(&format!("{}/", dir.trim_end_matches('/')))
            })
        })
        .cloned()
        .collect()
}

/// The workspace root relative to the repository's top level (`""` when they are one).
pub fn relative_prefix(repo: &Path, root: &Path) -> String {
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    canonical(root)
        .strip_prefix(canonical(repo))
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default()
}

/// Shard `k` of `n` of the functions in scope: every `n`th in path order from the `k`th, so
/// each job gets a stable, even share.
fn shard(analysis: &Analysis, mut indices: Vec<usize>, k: u32, n: u32) -> Vec<usize> {
    indices.sort_by(|&a, &b| analysis.functions[a].path.cmp(&analysis.functions[b].path));
    indices
        .into_iter()
        .enumerate()
        .filter(|(position, _)| *position as u32 % n == k)
        .map(|(_, index)| index)
        .collect()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn shards_split_the_scope_evenly_and_stably() {
        let analysis = Analysis::for_test(
            ["d", "a", "c", "b"]
                .map(|name| crate::analyze::Function::for_test(&format!("c::{name}")))
                .to_vec(),
        );
        assert_eq!(shard(&analysis, vec![0, 1, 2, 3], 0, 2), [1, 2]);
        assert_eq!(shard(&analysis, vec![0, 1, 2, 3], 1, 2), [3, 0]);
    }

    #[test]
    fn the_workspace_prefix_is_relative_to_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("crates/x")).unwrap();
        assert_eq!(
            relative_prefix(dir.path(), &dir.path().join("crates/x")),
            "crates/x"
        );
        assert_eq!(relative_prefix(dir.path(), dir.path()), "");
    }
}
