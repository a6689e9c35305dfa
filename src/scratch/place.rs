//! Generated tests placed in the scratch copy: which target each goes into (the module of its
//! function, else a `tests/` file), the ranges they take, and the test binaries' listings.

use super::*;

/// A test placed in the scratch copy.
pub(super) struct Placed {
    /// Index into the flat list of tests.
    pub(super) test: usize,
    /// The module's file in the copy, and the lines of this test there.
    pub(super) file: PathBuf,
    pub(super) first_line: u32,
    pub(super) last_line: u32,
    pub(super) executable_key: (String, String),
    /// The test's full libtest name.
    pub(super) full_name: String,
    /// The `#[cfg(..)]` attributes it carries from its function, as written.
    pub(super) cfg: String,
}

impl Placed {
    /// The line of the test file (whose test starts at `case_line`) that line `line` of the
    /// copy holds, when it lies inside this test.
    pub(super) fn test_file_line(&self, case_line: u32, line: u32) -> Option<u32> {
        (self.first_line..=self.last_line)
            .contains(&line)
            .then(|| case_line + (line - self.first_line))
    }
}

/// The root files (relative to the workspace) and editions of the crates `targets` build.
pub(super) fn crate_roots(
    workspace: &Workspace,
    targets: &[BuildTarget],
) -> Vec<(PathBuf, String)> {
    targets
        .iter()
        .filter_map(|target| {
            let package = workspace
                .packages
                .iter()
                .find(|p| p.name == target.package)?;
            Some(
                package
                    .targets
                    .iter()
                    .filter(move |crate_target| match crate_target.kind {
                        TargetKind::Lib => target.lib,
                        TargetKind::Bin => target.bins.contains(&crate_target.name),
                    }),
            )
        })
        .flatten()
        .map(|crate_target| {
            let root = crate_target
                .root_file
                .strip_prefix(&workspace.root)
                .unwrap_or(&crate_target.root_file);
            (root.to_owned(), crate_target.edition.clone())
        })
        .collect()
}

/// The lib and bin targets the tests' functions live in, per package.
/// The lib (else the bins) of every selected package.
pub(super) fn every_target(workspace: &Workspace) -> Vec<BuildTarget> {
    workspace
        .packages
        .iter()
        .map(|package| {
            let lib = package.targets.iter().any(|t| t.kind == TargetKind::Lib);
            BuildTarget {
                spec: format!("{}@{}", package.name, package.version),
                package: package.name.clone(),
                lib,
                bins: if lib {
                    Vec::new()
                } else {
                    package
                        .targets
                        .iter()
                        .filter(|t| t.kind == TargetKind::Bin)
                        .map(|t| t.name.clone())
                        .collect()
                },
            }
        })
        .collect()
}

pub(super) fn build_targets<'a>(
    workspace: &Workspace,
    functions: impl Iterator<Item = &'a Function>,
) -> Vec<BuildTarget> {
    let mut targets: BTreeMap<String, BuildTarget> = BTreeMap::new();
    for function in functions {
        let Some((package, target)) = owning_target(workspace, function) else {
            continue;
        };
        let entry = targets
            .entry(package.clone())
            .or_insert_with(|| BuildTarget {
                spec: workspace
                    .packages
                    .iter()
                    .find(|p| p.name == package)
                    .map_or_else(|| package.clone(), |p| format!("{}@{}", p.name, p.version)),
                package,
                lib: false,
                bins: Vec::new(),
            });
        match target {
            (TargetKind::Lib, _) => entry.lib = true,
            (TargetKind::Bin, name) => {
                if !entry.bins.contains(&name) {
                    entry.bins.push(name);
                }
            }
        }
    }
    targets.into_values().collect()
}

/// The package and target (kind, cargo target name) a function belongs to, from its path's
/// crate name.
pub(super) fn owning_target(
    workspace: &Workspace,
    function: &Function,
) -> Option<(String, (TargetKind, String))> {
    let (package, target) = workspace.target_of(&function.package, &function.path)?;
    Some((package.name.clone(), (target.kind, target.name.clone())))
}

/// Write the live tests into the copy: one generated module per (file, engine, enclosing
/// inline module), placed into the module that defines the functions.
/// Injected ranges per file of the copy, to map lines back to the user's files.
pub(super) type Ranges = BTreeMap<PathBuf, Vec<PlacedRange>>;

pub(super) fn place_tests(
    workspace: &Workspace,
    area: &ScratchArea,
    pending: &[Pending],
    live: &[usize],
    patch: Option<&Patch>,
    stripped: &own_tests::Stripped,
    probes: Option<&probes::ProbePlan>,
) -> anyhow::Result<(Vec<Placed>, Ranges)> {
    let mut all_ranges = Ranges::new();
    // The copy's text of a file before tests go in: with its probes, when there are any.
    let source_of = |file: &str| -> anyhow::Result<String> {
        let text = match probes {
            // The probes go into the file's own text, where their offsets are; what the
            // crate's own tests need left out is blanked after, at the offsets it moved to.
            Some(plan) => {
                let own = copy_source(workspace, file, patch, &own_tests::Stripped::default())?;
                let probed = plan.apply(Path::new(file), &own);
                match stripped.files.get(Path::new(file)) {
                    Some(ranges) => {
                        own_tests::blank(&probed, &plan.shifted(Path::new(file), &own, ranges))
                    }
                    None => probed,
                }
            }
            None => copy_source(workspace, file, patch, stripped)?,
        };
        // A manifest the probes relax is written here, not by the sync: its paths outside the
        // workspace are made absolute here too, as the sync does.
        if Path::new(file).file_name() == Some(std::ffi::OsStr::new("Cargo.toml")) {
            let original_dir = workspace
                .root
                .join(file)
                .parent()
                .map(Path::to_owned)
                .unwrap_or_default();
            let rewrite = super::manifest::rewrite_manifest(&text, &original_dir, &workspace.root)
                .with_context(|| format!("in {file}"))?;
            return Ok(rewrite.text.unwrap_or(text));
        }
        Ok(text)
    };
    // file -> (engine, inline path) -> tests
    let mut by_file: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &index in live {
        if let Some(function) = pending[index].function {
            by_file
                .entry(function.file.clone())
                .or_default()
                .push(index);
        }
    }
    // A file an earlier round injected into whose tests have all been dropped gets its own
    // text back: the dropped tests' errors must not stay behind to blame on no test.
    let injected_before: BTreeSet<&str> = pending
        .iter()
        .filter_map(|test| test.function.map(|f| f.file.as_str()))
        .filter(|file| !by_file.contains_key(*file))
        .collect();
    // So does a file the probes rewrite (or rewrote) with no test in it: with its probes, or
    // its own text once they are off. Each is hashed into the build's key too.
    let probed: Vec<String> = probes
        .into_iter()
        .flat_map(|plan| plan.files())
        .map(|file| file.to_string_lossy().into_owned())
        .filter(|file| !by_file.contains_key(file))
        .collect();
    let rewritten: BTreeSet<&str> = injected_before
        .into_iter()
        .chain(probed.iter().map(String::as_str))
        .collect();
    for file in rewritten {
        let text = source_of(file)?;
        let copy_path = area.copy.join(file);
        if std::fs::read_to_string(&copy_path).ok().as_deref() != Some(text.as_str()) {
            write_in_copy(&area.copy, Path::new(file), &text)?;
        }
        all_ranges.entry(copy_path).or_default();
    }
    let mut placed = Vec::new();
    // The lint attribute of each crate's test modules, by crate root.
    let mut allows: HashMap<PathBuf, String> = HashMap::new();
    for (file, tests) in by_file {
        let original = workspace.root.join(&file);
        // The lints the file's crate denies (one function's crate is the file's).
        let allow = match tests
            .first()
            .and_then(|&index| pending[index].function)
            .and_then(|function| workspace.target_of(&function.package, &function.path))
        {
            Some((package, target)) => allows
                .entry(target.root_file.clone())
                .or_insert_with(|| {
                    lints::allow_attribute(&lints::denied(
                        &target.root_file,
                        &package.manifest_dir,
                        &workspace.root,
                    ))
                })
                .clone(),
            None => lints::allow_attribute(&[]),
        };
        let source = source_of(&file)?;
        let parsed = crate::syntax::parse_file(&source)
            .with_context(|| format!("{} does not parse", original.display()))?;
        let mut groups: BTreeMap<(String, Vec<String>), (u32, Vec<usize>)> = BTreeMap::new();
        // By function line: a function's tests share its attributes.
        let mut cfgs: HashMap<u32, String> = HashMap::new();
        for index in tests {
            let function = pending[index].function.expect("live tests have functions");
            cfgs.entry(function.line).or_insert_with(|| {
                inject::cfg_attributes(&parsed, &source, function.line).join(" ")
            });
            let (inline, _) = inject::enclosing_inline_modules(&parsed, function.line);
            let group = groups
                .entry((pending[index].engine.to_owned(), inline))
                .or_insert((function.line, Vec::new()));
            group.1.push(index);
        }
        drop(parsed);
        proc_macro2::extra::invalidate_current_thread_spans();
        let mut placements = Vec::new();
        let mut layouts = Vec::new();
        for ((engine, inline), (function_line, indices)) in &groups {
            // Each test file's non-test items, once each; a `use` line two files share once.
            let mut text = String::new();
            let mut seen_uses: Vec<&str> = Vec::new();
            let mut seen_preambles: Vec<&str> = Vec::new();
            for &index in indices {
                let preamble = pending[index].preamble;
                if preamble.trim().is_empty() || seen_preambles.contains(&preamble) {
                    continue;
                }
                seen_preambles.push(preamble);
                for line in preamble.lines() {
                    let trimmed = line.trim();
                    if trimmed.starts_with("use ") {
                        if seen_uses.contains(&trimmed) {
                            continue;
                        }
                        seen_uses.push(trimmed);
                    }
                    text.push_str(line);
                    text.push('\n');
                }
                text.push('\n');
            }
            let mut spans = Vec::new();
            for &index in indices {
                let first = text.matches('\n').count() as u32 + 1;
                // On the test's first line, so its lines still map back one to one.
                let cfg = &cfgs[&pending[index].function.expect("live").line];
                if !cfg.is_empty() {
                    text.push_str(cfg);
                    text.push(' ');
                }
                text.push_str(pending[index].case.code.trim_end());
                text.push('\n');
                let last = text.matches('\n').count() as u32;
                text.push('\n');
                spans.push((index, first, last));
            }
            let name = inject::unused_module_name(&source, &module_name(engine));
            layouts.push((name.clone(), inline.clone(), spans));
            placements.push(Placement {
                function_line: *function_line,
                name,
                text,
            });
        }
        let (text, ranges) = inject_all(&source, &placements, &allow)
            .with_context(|| format!("failed to inject tests into {}", original.display()))?;
        let copy_path = area.copy.join(&file);
        // Unchanged text keeps its modification time: nothing to rebuild.
        if std::fs::read_to_string(&copy_path).ok().as_deref() != Some(text.as_str()) {
            write_in_copy(&area.copy, Path::new(&file), &text)?;
        }
        for ((module, inline, spans), range) in layouts.into_iter().zip(&ranges) {
            for (index, first, last) in spans {
                let function = pending[index].function.expect("live");
                let Some((package, (kind, target))) = owning_target(workspace, function) else {
                    continue;
                };
                // libtest's name: the module path inside the crate, the generated module,
                // the test.
                let mut full_name: Vec<String> = function
                    .module
                    .split("::")
                    .skip(1)
                    .map(str::to_owned)
                    .collect();
                if full_name.is_empty() {
                    full_name = inline.clone();
                }
                full_name.push(module.clone());
                full_name.push(pending[index].case.name.clone());
                let kind = if kind == TargetKind::Lib {
                    "lib"
                } else {
                    "bin"
                };
                placed.push(Placed {
                    test: index,
                    file: copy_path.clone(),
                    first_line: range.first_line + first - 1,
                    last_line: range.first_line + last - 1,
                    executable_key: (package, format!("{kind}:{target}")),
                    full_name: full_name.join("::"),
                    cfg: cfgs[&function.line].clone(),
                });
            }
        }
        all_ranges.insert(copy_path, ranges);
    }
    Ok((placed, all_ranges))
}

/// The text the copy's `file` (relative) holds before tests are injected: a patch under
/// verification, else the workspace's own with the crate's test code left out as planned.
pub(super) fn copy_source(
    workspace: &Workspace,
    file: &str,
    patch: Option<&Patch>,
    stripped: &own_tests::Stripped,
) -> anyhow::Result<String> {
    Ok(match patch.filter(|p| p.file == Path::new(file)) {
        Some(patch) => patch.text.clone(),
        None => {
            let original = workspace.root.join(file);
            let text = std::fs::read_to_string(&original)
                .with_context(|| format!("failed to read {}", original.display()))?;
            stripped.apply_to(Path::new(file), &text)
        }
    })
}

/// Every test name of each executable.
pub(super) fn list_tests(
    executables: &HashMap<(String, String), &Executable>,
    sandbox: &Sandbox,
    cwd: &Path,
    env: &[(String, String)],
) -> anyhow::Result<HashMap<(String, String), Vec<String>>> {
    let mut names = HashMap::new();
    for (key, executable) in executables {
        let command = sandbox.command(
            &executable.path,
            &["--list", "--format", "terse"],
            cwd,
            env,
            None,
        );
        let finished = process::run_with_timeout(command, Duration::from_secs(60), usize::MAX)?;
        let list = finished
            .stdout
            .lines()
            .filter_map(|line| line.strip_suffix(": test"))
            .map(str::to_owned)
            .collect();
        names.insert(key.clone(), list);
    }
    Ok(names)
}
