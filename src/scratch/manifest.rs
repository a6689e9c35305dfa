//! Rewrite the scratch copy's manifests so path dependencies outside the workspace still
//! resolve: `../` paths that leave the workspace become absolute; paths inside it stay as they
//! are, since the whole workspace is copied.

use std::path::{Path, PathBuf};

use anyhow::Context;
use toml::{Table, Value};

use crate::workspace::normalize_lexically;

/// Dependency tables, at the top of a manifest and under `[target.'cfg(..)']`.
const DEPENDENCY_TABLES: &[&str] = &["dependencies", "dev-dependencies", "build-dependencies"];

/// A rewritten manifest or cargo config.
#[derive(Debug, Default)]
pub struct Rewrite {
    /// The new text; `None` when nothing needs to change.
    pub text: Option<String>,
    /// The paths outside the workspace it refers to: a sandboxed build must still see them.
    pub outside: Vec<PathBuf>,
}

/// Rewrite `manifest_text` (the manifest that lived in `original_dir`) for a copy.
pub fn rewrite_manifest(
    manifest_text: &str,
    original_dir: &Path,
    workspace_root: &Path,
) -> anyhow::Result<Rewrite> {
    let mut table: Table = toml::from_str(manifest_text).context("failed to parse the manifest")?;
    let mut changed = false;
    let mut outside = Vec::new();
    let mut fix = |deps: &mut Table| {
        for (_, dep) in deps.iter_mut() {
            if let Value::Table(dep) = dep
                && let Some(Value::String(path)) = dep.get_mut("path")
            {
                let absolute = normalize_lexically(&original_dir.join(&*path));
                if !absolute.starts_with(workspace_root) {
                    let text = absolute.to_string_lossy().into_owned();
                    changed |= *path != text;
                    *path = text;
                    outside.push(absolute);
                }
            }
        }
    };
    for name in DEPENDENCY_TABLES {
        if let Some(Value::Table(deps)) = table.get_mut(*name) {
            fix(deps);
        }
    }
    if let Some(Value::Table(targets)) = table.get_mut("target") {
        for (_, target) in targets.iter_mut() {
            if let Value::Table(target) = target {
                for name in DEPENDENCY_TABLES {
                    if let Some(Value::Table(deps)) = target.get_mut(*name) {
                        fix(deps);
                    }
                }
            }
        }
    }
    if let Some(Value::Table(workspace)) = table.get_mut("workspace")
        && let Some(Value::Table(deps)) = workspace.get_mut("dependencies")
    {
        fix(deps);
    }
    if let Some(Value::Table(patches)) = table.get_mut("patch") {
        for (_, registry) in patches.iter_mut() {
            if let Value::Table(deps) = registry {
                fix(deps);
            }
        }
    }
    Ok(Rewrite {
        text: changed.then(|| toml::to_string(&table)).transpose()?,
        outside,
    })
}

/// Rewrite a copied `.cargo/config.toml` the same way: `paths = [...]` overrides and `[patch]`
/// path dependencies that leave the workspace become absolute. Paths in a config are relative
/// to the directory holding `.cargo/`, here `base_dir`.
pub fn rewrite_cargo_config(
    text: &str,
    base_dir: &Path,
    workspace_root: &Path,
) -> anyhow::Result<Rewrite> {
    let mut table: Table = toml::from_str(text).context("failed to parse the cargo config")?;
    let mut changed = false;
    let mut outside = Vec::new();
    let mut absolute = |path: &mut String| {
        let resolved = normalize_lexically(&base_dir.join(&*path));
        if !resolved.starts_with(workspace_root) {
            let text = resolved.to_string_lossy().into_owned();
            changed |= *path != text;
            *path = text;
            outside.push(resolved);
        }
    };
    if let Some(Value::Array(paths)) = table.get_mut("paths") {
        for path in paths.iter_mut() {
            if let Value::String(path) = path {
                absolute(path);
            }
        }
    }
    if let Some(Value::Table(patches)) = table.get_mut("patch") {
        for (_, registry) in patches.iter_mut() {
            if let Value::Table(deps) = registry {
                for (_, dep) in deps.iter_mut() {
                    if let Value::Table(dep) = dep
                        && let Some(Value::String(path)) = dep.get_mut("path")
                    {
                        absolute(path);
                    }
                }
            }
        }
    }
    Ok(Rewrite {
        text: changed.then(|| toml::to_string(&table)).transpose()?,
        outside,
    })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn paths_leaving_the_workspace_become_absolute_and_others_stay() {
        let text = r#"
[package]
name = "a"
[dependencies]
inside = { path = "../b" }
outside = { path = "../../../shared/c" }
serde = "1"
[target.'cfg(unix)'.dev-dependencies]
far = { path = "../../../far" }
"#;
        let rewrite = rewrite_manifest(text, Path::new("/w/crates/a"), Path::new("/w")).unwrap();
        assert_eq!(
            rewrite.outside,
            [PathBuf::from("/shared/c"), PathBuf::from("/far")]
        );
        let table: Table = toml::from_str(&rewrite.text.unwrap()).unwrap();
        assert_eq!(
            table["dependencies"]["inside"]["path"].as_str(),
            Some("../b")
        );
        assert_eq!(
            table["dependencies"]["outside"]["path"].as_str(),
            Some("/shared/c")
        );
        assert_eq!(
            table["target"]["cfg(unix)"]["dev-dependencies"]["far"]["path"].as_str(),
            Some("/far")
        );
    }

    #[test]
    fn cargo_config_paths_and_patches_leaving_the_workspace_become_absolute() {
        let text = "paths = [\"../../vendor/x\", \"local\"]\n[patch.crates-io]\ny = { path = \"../../y\" }\n";
        let rewrite = rewrite_cargo_config(text, Path::new("/w/app"), Path::new("/w")).unwrap();
        assert_eq!(
            rewrite.outside,
            [PathBuf::from("/vendor/x"), PathBuf::from("/y")]
        );
        let table: Table = toml::from_str(&rewrite.text.unwrap()).unwrap();
        assert_eq!(table["paths"][0].as_str(), Some("/vendor/x"));
        assert_eq!(table["paths"][1].as_str(), Some("local"));
        assert_eq!(
            table["patch"]["crates-io"]["y"]["path"].as_str(),
            Some("/y")
        );
    }

    #[test]
    fn nothing_to_change_is_none() {
        let text = "[package]\nname = \"a\"\n[dependencies]\nb = { path = \"b\" }\n";
        let rewrite = rewrite_manifest(text, Path::new("/w"), Path::new("/w")).unwrap();
        assert_eq!((rewrite.text, rewrite.outside), (None, vec![]));
    }

    #[test]
    fn an_absolute_path_outside_is_kept_but_still_reported() {
        let text = "[dependencies]\nb = { path = \"/opt/b\" }\n";
        let rewrite = rewrite_manifest(text, Path::new("/w"), Path::new("/w")).unwrap();
        assert_eq!(
            (rewrite.text, rewrite.outside),
            (None, vec![PathBuf::from("/opt/b")])
        );
    }
}
