//! The feature spec: find the markdown files, read their items, link items to sites, score.

mod evaluate;
pub mod executed;
pub mod link;
pub mod model;
pub mod parse;
pub mod score;
pub mod template;

use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::workspace::{Workspace, normalize_lexically};

/// The spec files to read: `--spec` paths (files or directories, relative to `cwd`), then
/// `spec = [...]` from the config (relative to the workspace root); with neither, the defaults
/// `SPEC.md`, `specs/**/*.md`, `docs/specs/**/*.md` at the workspace root and in each selected
/// package.
pub fn find_specs(
    workspace: &Workspace,
    cli_paths: &[PathBuf],
    config_paths: &[PathBuf],
    cwd: &Path,
) -> Result<Vec<PathBuf>, InputError> {
    let mut found = Vec::new();
    let named: Vec<(PathBuf, &str)> = cli_paths
        .iter()
        .map(|p| (normalize_lexically(&cwd.join(p)), "--spec"))
        .chain(config_paths.iter().map(|p| {
            (
                normalize_lexically(&workspace.root.join(p)),
                "dualtrack.toml `spec`",
            )
        }))
        .collect();
    for (path, source) in &named {
        if path.is_file() {
            found.push(path.clone());
        } else if path.is_dir() {
            found.extend(markdown_under(path));
        } else {
            return Err(InputError::new(format!(
                "{source} path {} does not exist",
                path.display()
            )));
        }
    }
    if named.is_empty() {
        let mut roots = vec![workspace.root.clone()];
        roots.extend(workspace.packages.iter().map(|p| p.manifest_dir.clone()));
        roots.sort();
        roots.dedup();
        for root in roots {
            let spec = root.join("SPEC.md");
            if spec.is_file() {
                found.push(spec);
            }
            for dir in [root.join("specs"), root.join("docs").join("specs")] {
                if dir.is_dir() {
                    found.extend(markdown_under(&dir));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn markdown_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .flatten()
        .filter(|e| {
            e.file_type().is_file()
                && e.path()
                    .extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("md"))
        })
        .map(|e| e.path().to_owned())
        .collect();
    files.sort();
    files
}

/// Read and parse the spec files `find_specs` finds (none is fine), printing their warnings
/// unless `quiet`; ids that clash across files get their file's stem.
pub fn load_specs(
    workspace: &Workspace,
    cli_paths: &[PathBuf],
    config_paths: &[PathBuf],
    cwd: &Path,
    quiet: bool,
) -> Result<Vec<model::Spec>, InputError> {
    let mut specs = Vec::new();
    for path in find_specs(workspace, cli_paths, config_paths, cwd)? {
        let text = crate::input::read_to_string(&path).map_err(|err| {
            InputError::new(format!("cannot read spec {}: {err}", path.display()))
        })?;
        let (spec, warnings) = parse::parse_spec(&text, &workspace.relative_path(&path));
        if !quiet {
            for warning in warnings {
                eprintln!(
                    "warning: {}:{}: {}",
                    warning.file, warning.line, warning.message
                );
            }
        }
        specs.push(spec);
    }
    score::prefix_clashing_ids(&mut specs);
    Ok(specs)
}
