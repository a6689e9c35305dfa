//! The cargo workspace: packages, their lib and bin targets, the target directory, and the rules
//! that map `mod x;` declarations to files.
//!
//! Everything here comes from `cargo metadata --no-deps` (fast, offline) and from plain path
//! arithmetic; nothing parses Rust. The analyzer asks [`ModDir`] where a declared module's file
//! lives, following rustc's own rules for `mod.rs` files, non-`mod.rs` files, `#[path]` and inline
//! modules.

use std::path::{Component, Path, PathBuf};

use anyhow::Context;
use cargo_metadata::{Metadata, MetadataCommand, Package, Target};

use crate::error::InputError;

/// The cargo-style package selection flags shared by every command.
#[derive(Debug, Clone, Default)]
pub struct PackageSelection {
    pub manifest_path: Option<PathBuf>,
    pub packages: Vec<String>,
    pub workspace: bool,
    /// Members `--exclude` leaves out of `--workspace`, as cargo's specs.
    pub exclude: Vec<String>,
    /// `--target-dir`: where builds and runs go instead of the workspace's target directory.
    pub target_dir: Option<PathBuf>,
    /// `--locked`, `--offline`, `--frozen`, for every cargo run on this workspace.
    pub access: CargoAccess,
}

/// `--locked`, `--offline`, `--frozen`: what cargo may do to the lock file and whether it may
/// use the network, as cargo reads them. Passed on to every cargo the tool runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CargoAccess {
    /// The lock file must not change.
    pub locked: bool,
    /// No network.
    pub offline: bool,
    /// Both.
    pub frozen: bool,
}

impl CargoAccess {
    /// The flags as given: for `cargo metadata` and `cargo fetch`.
    pub fn cargo_args(&self) -> Vec<String> {
        [
            (self.locked, "--locked"),
            (self.offline, "--offline"),
            (self.frozen, "--frozen"),
        ]
        .into_iter()
        .filter(|(given, _)| *given)
        .map(|(_, flag)| flag.to_owned())
        .collect()
    }

    /// For the scratch copy's builds, which run `--offline` whatever was asked (the sandbox
    /// has no network): whether the lock file may change.
    pub fn build_args(&self) -> Vec<String> {
        if self.locked || self.frozen {
            vec!["--locked".to_owned()]
        } else {
            Vec::new()
        }
    }
}

/// A loaded workspace and the packages selected from it.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub target_directory: PathBuf,
    pub packages: Vec<SelectedPackage>,
    /// The names of every member, selected or not: their builds live under the workspace's
    /// path, so the scratch copy never reuses them.
    pub members: Vec<String>,
    /// Where cargo keeps the user's builds (`build.build-dir`, else the target directory,
    /// `CARGO_TARGET_DIR` and `build.target-dir` honoured), whatever `--target-dir` moved the
    /// scratch area to: only ever read.
    pub users_target: PathBuf,
    /// What cargo may do to the lock file and the network, for every later cargo run.
    pub cargo_access: CargoAccess,
}

/// One selected package with the targets the analyzer walks.
#[derive(Debug, Clone)]
pub struct SelectedPackage {
    pub name: String,
    pub version: String,
    /// Root files of targets `analyze` does not walk (build script, tests, examples, benches):
    /// never "unreachable".
    pub other_roots: Vec<PathBuf>,
    pub manifest_dir: PathBuf,
    pub targets: Vec<CrateTarget>,
    /// The manifest's `[features]` table.
    pub feature_table: std::collections::BTreeMap<String, Vec<String>>,
    /// The crates its tests may use: normal and dev dependencies, by the name code uses
    /// (`serde_json`, renames applied).
    pub test_dependencies: Vec<String>,
}

/// `--features`, `--all-features`, `--no-default-features`, as cargo reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureSelection {
    /// Names as given: `feat` or `package/feat`.
    pub features: Vec<String>,
    pub all: bool,
    pub no_default: bool,
}

impl FeatureSelection {
    /// The flags to pass on to cargo.
    pub fn cargo_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let named: Vec<&str> = self
            .features
            .iter()
            .flat_map(|f| f.split([',', ' ']))
            .filter(|f| !f.is_empty())
            .collect();
        if !named.is_empty() {
            args.push("--features".to_owned());
            args.push(named.join(","));
        }
        if self.all {
            args.push("--all-features".to_owned());
        }
        if self.no_default {
            args.push("--no-default-features".to_owned());
        }
        args
    }
}

/// A lib or bin target: one crate root to walk.
#[derive(Debug, Clone)]
pub struct CrateTarget {
    /// The crate name as paths print it: `ledger_math`, or `ledger_math(bin)` for a bin whose
    /// crate name equals its package's lib.
    pub crate_name: String,
    /// Cargo's name of the target (`my-tool`), as `--bin` and build artifacts name it.
    pub name: String,
    pub kind: TargetKind,
    pub root_file: PathBuf,
    pub edition: String,
    /// Cargo builds and runs its unit tests (`test = false` in its manifest section turns
    /// them off).
    pub unit_tests: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Lib,
    Bin,
}

impl Workspace {
    /// The package and target an item of `package` at `path` (`ledger::Ledger::add`) belongs
    /// to, from the path's crate name.
    pub fn target_of(&self, package: &str, path: &str) -> Option<(&SelectedPackage, &CrateTarget)> {
        let package = self.packages.iter().find(|p| p.name == package)?;
        let crate_name = path.split("::").next()?;
        let target = package
            .targets
            .iter()
            .find(|t| t.crate_name == crate_name)?;
        Some((package, target))
    }

    /// The features a build with `selection` enables, per crate name (a package's lib and
    /// bins alike): what `#[cfg(feature = ..)]` sees.
    pub fn features_by_crate(
        &self,
        selection: &FeatureSelection,
    ) -> std::collections::HashMap<String, std::collections::BTreeSet<String>> {
        self.packages
            .iter()
            .flat_map(|p| {
                let enabled = enabled_features(p, selection);
                p.targets
                    .iter()
                    .map(move |t| (t.crate_name.clone(), enabled.clone()))
            })
            .collect()
    }

    /// A feature `--features` names that no selected package has is a usage error, as in
    /// cargo: `package/feature` names are left to cargo (they may name a dependency's).
    pub fn check_features(&self, selection: &FeatureSelection) -> Result<(), InputError> {
        let unknown: Vec<&str> = selection
            .features
            .iter()
            .flat_map(|f| f.split([',', ' ']))
            .filter(|f| !f.is_empty() && !f.contains('/'))
            .filter(|f| {
                !self
                    .packages
                    .iter()
                    .any(|p| p.feature_table.contains_key(*f))
            })
            .collect();
        match unknown.as_slice() {
            [] => Ok(()),
            names => Err(InputError::new(format!(
                "none of the selected packages has the feature{} {}: `cargo metadata` or the \
                 manifests' `[features]` list them",
                if names.len() == 1 { "" } else { "s" },
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Run `cargo metadata --no-deps` and select packages the way `cargo test` does.
    pub fn load(selection: &PackageSelection) -> anyhow::Result<Workspace> {
        let mut command = MetadataCommand::new();
        command.no_deps();
        command.other_options(selection.access.cargo_args());
        if let Some(manifest_path) = &selection.manifest_path {
            if !manifest_path.exists() {
                return Err(InputError::new(format!(
                    "manifest path `{}` does not exist",
                    manifest_path.display()
                ))
                .into());
            }
            command.manifest_path(manifest_path);
        }
        let metadata = command.exec().map_err(|err| {
            let detail = match &err {
                cargo_metadata::Error::CargoMetadata { stderr } => summarize_cargo_error(stderr),
                other => other.to_string(),
            };
            InputError::new(format!("could not read the cargo workspace: {detail}"))
        })?;
        Workspace::from_metadata(&metadata, selection)
    }

    /// Select packages from already loaded metadata (split out so it's testable without cargo).
    pub fn from_metadata(
        metadata: &Metadata,
        selection: &PackageSelection,
    ) -> anyhow::Result<Workspace> {
        let members = metadata.workspace_packages();
        let selected: Vec<&Package> = if !selection.packages.is_empty() {
            let mut chosen = Vec::new();
            for spec in &selection.packages {
                let matched: Vec<&Package> = members
                    .iter()
                    .copied()
                    .filter(|package| package_matches_spec(package, spec))
                    .collect();
                if matched.is_empty() {
                    let names: Vec<&str> = members.iter().map(|p| p.name.as_str()).collect();
                    return Err(InputError::new(format!(
                        "package `{spec}` is not a member of the workspace (members: {})",
                        names.join(", ")
                    ))
                    .into());
                }
                for package in matched {
                    if !chosen.iter().any(|p: &&Package| p.id == package.id) {
                        chosen.push(package);
                    }
                }
            }
            chosen
        } else if selection.workspace {
            members.clone()
        } else {
            // As cargo: a member's own manifest selects that member; the workspace root's
            // manifest selects the default members (which cargo reports as the root package,
            // or every member of a virtual workspace, when `default-members` is not set).
            let manifest = match &selection.manifest_path {
                Some(path) => std::path::absolute(path).unwrap_or_else(|_| path.clone()),
                None => nearest_manifest(&std::env::current_dir().unwrap_or_default())
                    .unwrap_or_default(),
            };
            let manifest = normalize_lexically(&manifest);
            let root_manifest = metadata
                .workspace_root
                .join("Cargo.toml")
                .into_std_path_buf();
            let own = members
                .iter()
                .copied()
                .find(|p| normalize_lexically(p.manifest_path.as_std_path()) == manifest);
            match own {
                Some(package) if manifest != root_manifest => vec![package],
                _ if metadata.workspace_default_members.is_available() => {
                    metadata.workspace_default_packages()
                }
                Some(package) => vec![package],
                None => members.clone(),
            }
        };
        for spec in &selection.exclude {
            if !members.iter().any(|p| package_matches_spec(p, spec)) {
                return Err(InputError::new(format!(
                    "--exclude {spec}: no member of the workspace is named so"
                ))
                .into());
            }
        }
        let selected: Vec<&Package> = selected
            .into_iter()
            .filter(|p| {
                !selection
                    .exclude
                    .iter()
                    .any(|spec| package_matches_spec(p, spec))
            })
            .collect();
        let packages = selected.into_iter().map(select_targets).collect();
        let members = members.iter().map(|p| p.name.to_string()).collect();
        // Intermediate builds live in `build.build-dir` when one is set.
        let users_target = metadata
            .build_directory
            .clone()
            .unwrap_or_else(|| metadata.target_directory.clone())
            .into_std_path_buf();
        let target_directory = match &selection.target_dir {
            Some(dir) => std::path::absolute(dir).unwrap_or_else(|_| dir.clone()),
            None => metadata.target_directory.clone().into_std_path_buf(),
        };
        Ok(Workspace {
            root: metadata.workspace_root.clone().into_std_path_buf(),
            target_directory,
            packages,
            members,
            users_target,
            cargo_access: selection.access,
        })
    }

    /// A path relative to the workspace root, with forward slashes, for output.
    pub fn relative_path(&self, path: &Path) -> String {
        relative_display(&self.root, path)
    }
}

/// The `Cargo.toml` in `dir` or its nearest ancestor, as cargo finds it.
fn nearest_manifest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join("Cargo.toml"))
        .find(|m| m.is_file())
}

/// `default` and every feature it enables, transitively (`dep:x` and `x/y` entries are not
/// features of this package).
/// A package's features under `selection`: every one with `--all-features`, else `default`
/// (unless `--no-default-features`) and those named for it, with what they enable.
fn enabled_features(
    package: &SelectedPackage,
    selection: &FeatureSelection,
) -> std::collections::BTreeSet<String> {
    if selection.all {
        return package.feature_table.keys().cloned().collect();
    }
    let mut roots = Vec::new();
    if !selection.no_default {
        roots.push("default".to_owned());
    }
    for name in selection
        .features
        .iter()
        .flat_map(|f| f.split([',', ' ']))
        .filter(|f| !f.is_empty())
    {
        match name.split_once('/') {
            Some((owner, feature)) if owner == package.name => roots.push(feature.to_owned()),
            Some(_) => {}
            None => roots.push(name.to_owned()),
        }
    }
    features_from(&package.feature_table, roots)
}

/// The features `roots` enable in `table`, transitively (`dep:` and `crate/feature` entries
/// are other crates' business).
fn features_from(
    table: &std::collections::BTreeMap<String, Vec<String>>,
    roots: Vec<String>,
) -> std::collections::BTreeSet<String> {
    let mut enabled = std::collections::BTreeSet::new();
    let mut pending = roots;
    while let Some(feature) = pending.pop() {
        if !table.contains_key(&feature) || !enabled.insert(feature.clone()) {
            continue;
        }
        for entry in &table[&feature] {
            if !entry.starts_with("dep:") && !entry.contains('/') {
                pending.push(entry.clone());
            }
        }
    }
    enabled
}

fn select_targets(package: &Package) -> SelectedPackage {
    let is_lib = |target: &Target| {
        target.is_lib()
            || target.is_rlib()
            || target.is_dylib()
            || target.is_cdylib()
            || target.is_staticlib()
            || target.is_proc_macro()
    };
    let lib_crate_name = package
        .targets
        .iter()
        .find(|t| is_lib(t))
        .map(|t| crate_name_of(&t.name));
    let mut targets = Vec::new();
    for target in &package.targets {
        let kind = if is_lib(target) {
            TargetKind::Lib
        } else if target.is_bin() {
            TargetKind::Bin
        } else {
            continue;
        };
        let mut crate_name = crate_name_of(&target.name);
        if kind == TargetKind::Bin && lib_crate_name.as_deref() == Some(crate_name.as_str()) {
            crate_name.push_str("(bin)");
        }
        targets.push(CrateTarget {
            crate_name,
            name: target.name.clone(),
            kind,
            root_file: target.src_path.clone().into_std_path_buf(),
            edition: target.edition.as_str().to_owned(),
            unit_tests: target.test,
        });
    }
    SelectedPackage {
        name: package.name.to_string(),
        version: package.version.to_string(),
        other_roots: package
            .targets
            .iter()
            .filter(|t| !is_lib(t) && !t.is_bin())
            .map(|t| normalize_lexically(t.src_path.as_std_path()))
            .collect(),
        manifest_dir: package
            .manifest_path
            .parent()
            .map(|p| p.as_std_path().to_owned())
            .unwrap_or_default(),
        targets,
        feature_table: package.features.clone(),
        test_dependencies: {
            let mut names: Vec<String> = package
                .dependencies
                .iter()
                .filter(|d| {
                    matches!(
                        d.kind,
                        cargo_metadata::DependencyKind::Normal
                            | cargo_metadata::DependencyKind::Development
                    )
                })
                .map(|d| {
                    d.rename
                        .clone()
                        .unwrap_or_else(|| d.name.clone())
                        .replace('-', "_")
                })
                .collect();
            names.sort();
            names.dedup();
            names
        },
    }
}

/// Cargo's `-p` spec: `name`, `name@version`, or a glob over names.
fn package_matches_spec(package: &Package, spec: &str) -> bool {
    let (name, version) = match spec.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (spec, None),
    };
    let name_matches = if name.contains(['*', '?', '[']) {
        globset::Glob::new(name)
            .map(|glob| glob.compile_matcher().is_match(package.name.as_str()))
            .unwrap_or(false)
    } else {
        package.name.as_str() == name
    };
    // `name@1.2` selects any 1.2.x, as cargo's partial versions do.
    let full = package.version.to_string();
    name_matches
        && version.is_none_or(|v| {
            full == v
                || full
                    .strip_prefix(v)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
}

/// A target name as the crate name rustc sees.
pub fn crate_name_of(target_name: &str) -> String {
    target_name.replace('-', "_")
}

/// Cargo's error output in one line: its `error:` line, where it points (`--> file:line:col`),
/// and the first line of its first cause.
fn summarize_cargo_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let Some(start) = lines.iter().position(|l| l.starts_with("error:")) else {
        return stderr.trim().to_owned();
    };
    let mut summary = lines[start].trim_start_matches("error:").trim().to_owned();
    let rest = &lines[start + 1..];
    if let Some(location) = rest.iter().find_map(|l| l.strip_prefix("-->")) {
        summary.push_str(&format!(" at {}", location.trim()));
    }
    if let Some(cause) = rest
        .iter()
        .skip_while(|l| !l.starts_with("Caused by"))
        .nth(1)
    {
        summary.push_str(&format!(": {}", cause.trim_start_matches("error:").trim()));
    }
    summary
}

/// `path` relative to `base` when it is inside it, with forward slashes; otherwise the path as
/// given.
pub fn relative_display(base: &Path, path: &Path) -> String {
    let Ok(rel) = path.strip_prefix(base) else {
        return path.to_string_lossy().replace('\\', "/");
    };
    let mut out = String::new();
    for component in rel.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(&component.as_os_str().to_string_lossy());
    }
    out
}

/// Remove `.` and `a/..` components lexically, so that `src/a/../b.rs` and `src/b.rs` are the
/// same file in the module walk without touching the filesystem (symlinks stay as written).
pub fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Where the child modules of a module live: rustc's "directory ownership".
///
/// `dir` is the module's directory. `relative` is set for a module that lives in a non-mod-rs
/// file `foo.rs`: its file children are then looked for under `dir/foo/`. Mod-rs files (crate
/// roots, `mod.rs`) and `#[path]` files have no `relative`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModDir {
    pub dir: PathBuf,
    pub relative: Option<String>,
}

/// Where a `mod name;` declaration may be, in the order rustc tries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModFileCandidate {
    pub file: PathBuf,
    /// The directory context for the children of the module in that file.
    pub child_dir: ModDir,
}

impl ModDir {
    /// The directory context of a crate root file.
    pub fn for_crate_root(root_file: &Path) -> ModDir {
        ModDir {
            dir: root_file.parent().unwrap_or(Path::new("")).to_owned(),
            relative: None,
        }
    }

    /// The context inside an inline module `mod name { ... }`, optionally with `#[path = "p"]`.
    pub fn inline_child(&self, name: &str, path_attr: Option<&str>) -> ModDir {
        match path_attr {
            // For inline modules rustc takes a `#[path]` as the directory, relative to the
            // module's own directory (without the non-mod-rs component).
            Some(path) => ModDir {
                dir: normalize_lexically(&self.dir.join(path)),
                relative: None,
            },
            None => {
                let mut dir = self.dir.clone();
                if let Some(relative) = &self.relative {
                    dir.push(relative);
                }
                dir.push(name);
                ModDir {
                    dir,
                    relative: None,
                }
            }
        }
    }

    /// The files a `mod name;` declaration may refer to, in rustc's order of preference.
    pub fn file_candidates(&self, name: &str, path_attr: Option<&str>) -> Vec<ModFileCandidate> {
        if let Some(path) = path_attr {
            // All `#[path]` files are treated as mod-rs files: their children are siblings.
            let file = normalize_lexically(&self.dir.join(path));
            return vec![ModFileCandidate {
                child_dir: ModDir {
                    dir: file.parent().unwrap_or(Path::new("")).to_owned(),
                    relative: None,
                },
                file,
            }];
        }
        let mut base = self.dir.clone();
        if let Some(relative) = &self.relative {
            base.push(relative);
        }
        let name = name.strip_prefix("r#").unwrap_or(name);
        vec![
            ModFileCandidate {
                file: base.join(format!("{name}.rs")),
                child_dir: ModDir {
                    dir: base.clone(),
                    relative: Some(name.to_owned()),
                },
            },
            ModFileCandidate {
                file: base.join(name).join("mod.rs"),
                child_dir: ModDir {
                    dir: base.join(name),
                    relative: None,
                },
            },
        ]
    }
}

/// The source directories of a package's targets, for finding files no module reaches: each
/// target root's directory, with directories nested in another one dropped.
pub fn source_dirs(package: &SelectedPackage) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = package
        .targets
        .iter()
        .filter_map(|t| t.root_file.parent().map(Path::to_owned))
        .collect();
    dirs.sort();
    dirs.dedup();
    let all = dirs.clone();
    dirs.retain(|dir| {
        !all.iter()
            .any(|other| other != dir && dir.starts_with(other))
    });
    // A target rooted at the package directory itself (a `main.rs` beside Cargo.toml) would make
    // every file of the package a candidate; only the root file counts there.
    dirs.retain(|dir| dir != &package.manifest_dir);
    dirs
}

/// Read a file that the user named or that the workspace holds, with a message naming it.
pub fn read_to_string(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn default_features_follow_default_transitively() {
        let table: std::collections::BTreeMap<String, Vec<String>> = [
            ("default", vec!["std", "dep:serde"]),
            ("std", vec!["alloc", "memchr/std"]),
            ("alloc", vec![]),
            ("u128", vec![]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(String::from).collect()))
        .collect();
        let got: Vec<String> = features_from(&table, vec!["default".to_owned()])
            .into_iter()
            .collect();
        assert_eq!(got, ["alloc", "default", "std"]);
    }

    #[test]
    fn feature_flags_select_like_cargo() {
        let package = SelectedPackage {
            name: "p".into(),
            version: "1.0.0".into(),
            other_roots: Vec::new(),
            manifest_dir: PathBuf::new(),
            targets: Vec::new(),
            feature_table: [
                ("default", vec!["std"]),
                ("std", vec![]),
                ("u128", vec![]),
                ("fast", vec!["u128"]),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.into_iter().map(String::from).collect()))
            .collect(),
            test_dependencies: Vec::new(),
        };
        let enabled = |features: &[&str], all: bool, no_default: bool| {
            let selection = FeatureSelection {
                features: features.iter().map(|f| f.to_string()).collect(),
                all,
                no_default,
            };
            enabled_features(&package, &selection)
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(enabled(&[], false, false), ["default", "std"]);
        assert_eq!(enabled(&["fast"], false, true), ["fast", "u128"]);
        assert_eq!(
            enabled(&["p/fast", "other/x"], false, true),
            ["fast", "u128"]
        );
        assert_eq!(enabled(&[], true, false).len(), 4);
        let selection = FeatureSelection {
            features: vec!["a,b".into(), "c".into()],
            all: false,
            no_default: true,
        };
        assert_eq!(
            selection.cargo_args(),
            ["--features", "a,b,c", "--no-default-features"]
        );
    }

    fn dir(path: &str, relative: Option<&str>) -> ModDir {
        ModDir {
            dir: PathBuf::from(path),
            relative: relative.map(str::to_owned),
        }
    }

    fn files(candidates: &[ModFileCandidate]) -> Vec<String> {
        candidates
            .iter()
            .map(|c| c.file.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn crate_root_children_are_siblings_or_mod_rs() {
        let root = ModDir::for_crate_root(Path::new("src/lib.rs"));
        assert_eq!(
            files(&root.file_candidates("a", None)),
            ["src/a.rs", "src/a/mod.rs"]
        );
    }

    #[test]
    fn non_mod_rs_file_children_live_in_a_directory_named_after_it() {
        let candidates = ModDir::for_crate_root(Path::new("src/lib.rs")).file_candidates("a", None);
        let a_rs = &candidates[0].child_dir;
        assert_eq!(a_rs, &dir("src", Some("a")));
        assert_eq!(
            files(&a_rs.file_candidates("b", None)),
            ["src/a/b.rs", "src/a/b/mod.rs"]
        );
        let a_mod_rs = &candidates[1].child_dir;
        assert_eq!(
            files(&a_mod_rs.file_candidates("b", None)),
            ["src/a/b.rs", "src/a/b/mod.rs"]
        );
    }

    #[test]
    fn path_attribute_on_file_module_is_relative_to_declaring_files_directory() {
        // In the non-mod-rs file src/a.rs, `#[path = "x.rs"] mod b;` is src/x.rs.
        let a_rs = dir("src", Some("a"));
        let candidates = a_rs.file_candidates("b", Some("x.rs"));
        assert_eq!(files(&candidates), ["src/x.rs"]);
        // A #[path] file is a mod-rs file: its children are its siblings.
        assert_eq!(candidates[0].child_dir, dir("src", None));
    }

    #[test]
    fn path_attribute_inside_inline_module_in_mod_rs_file() {
        // src/lib.rs: mod inline { #[path = "other.rs"] mod inner; } => src/inline/other.rs
        let inline = ModDir::for_crate_root(Path::new("src/lib.rs")).inline_child("inline", None);
        assert_eq!(
            files(&inline.file_candidates("inner", Some("other.rs"))),
            ["src/inline/other.rs"]
        );
    }

    #[test]
    fn path_attribute_inside_inline_module_in_non_mod_rs_file() {
        // src/a/b.rs: mod inline { #[path = "other.rs"] mod inner; } => src/a/b/inline/other.rs
        let b_rs = dir("src/a", Some("b"));
        let inline = b_rs.inline_child("inline", None);
        assert_eq!(
            files(&inline.file_candidates("inner", Some("other.rs"))),
            ["src/a/b/inline/other.rs"]
        );
        assert_eq!(
            files(&inline.file_candidates("plain", None)),
            ["src/a/b/inline/plain.rs", "src/a/b/inline/plain/mod.rs"]
        );
    }

    #[test]
    fn path_attribute_on_inline_module_names_its_directory() {
        // The reference's example: #[path = "thread_files"] mod thread { #[path = "tls.rs"] mod
        // local_data; } in src/lib.rs => src/thread_files/tls.rs
        let thread = ModDir::for_crate_root(Path::new("src/lib.rs"))
            .inline_child("thread", Some("thread_files"));
        assert_eq!(
            files(&thread.file_candidates("local_data", Some("tls.rs"))),
            ["src/thread_files/tls.rs"]
        );
    }

    #[test]
    fn raw_identifier_module_names_drop_the_prefix() {
        let root = ModDir::for_crate_root(Path::new("src/lib.rs"));
        assert_eq!(
            files(&root.file_candidates("r#type", None)),
            ["src/type.rs", "src/type/mod.rs"]
        );
    }

    #[test]
    fn normalize_lexically_removes_dot_and_dot_dot() {
        assert_eq!(
            normalize_lexically(Path::new("src/a/../b/./c.rs")),
            PathBuf::from("src/b/c.rs")
        );
        assert_eq!(
            normalize_lexically(Path::new("../x.rs")),
            PathBuf::from("../x.rs")
        );
    }

    #[test]
    fn relative_display_uses_forward_slashes_inside_the_root() {
        assert_eq!(
            relative_display(Path::new("/w"), Path::new("/w/src/lib.rs")),
            "src/lib.rs"
        );
        assert_eq!(
            relative_display(Path::new("/w"), Path::new("/elsewhere/x.rs")),
            "/elsewhere/x.rs"
        );
    }

    #[test]
    fn summarize_cargo_error_joins_headline_and_first_cause() {
        let stderr = "warning: x\nerror: failed to parse manifest at `/x/Cargo.toml`\n\nCaused by:\n  TOML parse error at line 1\n  more";
        assert_eq!(
            summarize_cargo_error(stderr),
            "failed to parse manifest at `/x/Cargo.toml`: TOML parse error at line 1"
        );
        assert_eq!(
            summarize_cargo_error("error: no Cargo.toml\n"),
            "no Cargo.toml"
        );
        assert_eq!(summarize_cargo_error("odd output"), "odd output");
        assert_eq!(
            summarize_cargo_error(
                "error: unclosed table, expected `]`\n --> x/Cargo.toml:1:9\n  |\n"
            ),
            "unclosed table, expected `]` at x/Cargo.toml:1:9"
        );
    }
}
