//! The scratch area of a workspace: its lock, the synced copy, the environment and sandbox a
//! build and a test get, and the trees outside the workspace a sandbox must show.

use super::*;

/// The scratch area of a workspace, locked for one run.
pub struct ScratchArea {
    pub root: PathBuf,
    pub copy: PathBuf,
    pub target: PathBuf,
    pub tmp: PathBuf,
    pub(super) _lock: std::fs::File,
}

/// `HOME` moves into the scratch area, so cargo's default home (`~/.cargo`, where the registry
/// and its downloaded crates are) must be said outright, or a crate with dependencies does not
/// build offline.
pub(super) fn keep_cargo_home(env: &mut Vec<(String, String)>, host_home: Option<PathBuf>) {
    if !env.iter().any(|(key, _)| key == "CARGO_HOME")
        && let Some(home) = host_home
    {
        env.push(("CARGO_HOME".to_owned(), home.to_string_lossy().into_owned()));
    }
}

impl ScratchArea {
    /// Create the area under the workspace's target directory and take its lock (waiting for
    /// another run to finish).
    pub fn open(workspace: &Workspace) -> anyhow::Result<ScratchArea> {
        let root = workspace.target_directory.join("dualtrack");
        let copy = root.join("scratch");
        let target = root.join("target");
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&root)
            .with_context(|| format!("failed to create {}", root.display()))?;
        let lock = std::fs::File::create(root.join("lock"))
            .context("failed to create the scratch lock file")?;
        if lock.try_lock().is_err() {
            eprintln!(
                "waiting for another cargo-dualtrack run to release {}",
                root.display()
            );
            // Poll rather than block, so Ctrl-C still works while waiting.
            while lock.try_lock().is_err() {
                if crate::interrupt::interrupted() {
                    return Err(Interrupted.into());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        // Under the lock: the tests' HOME and files of an earlier run are not this run's
        // business. Emptied, not replaced: a sandbox still serving from an earlier run of this
        // process has the directory itself bound, and would write into a deleted one.
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let path = entry.path();
                let _ = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
        let target_tmp = target.join("tmp");
        for dir in [&copy, &target, &target_tmp, &tmp] {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
        }
        let area = ScratchArea {
            root,
            copy,
            target,
            tmp,
            _lock: lock,
        };
        // A check-in the tool died in the middle of is put back first.
        journal::recover(&area, workspace)?;
        Ok(area)
    }

    /// Bring the copy up to date with the workspace and fix its manifests.
    /// `injected` files (relative) are left as they are: the caller rewrites them, and only
    /// when their text changes, so a warm run rebuilds nothing.
    pub fn sync(
        &self,
        workspace: &Workspace,
        injected: &[PathBuf],
    ) -> anyhow::Result<copy::SyncReport> {
        let skip = [workspace.target_directory.clone(), self.root.clone()];
        // A lock file cargo made in the copy (the workspace has none) stays too.
        let mut keep = vec![PathBuf::from("Cargo.lock")];
        keep.extend(injected.iter().cloned());
        let mut report = copy::sync_tree(&workspace.root, &self.copy, &skip, &keep)?;
        for name in ["config.toml", "config"] {
            let config = self.copy.join(".cargo").join(name);
            let Ok(text) = std::fs::read_to_string(&config) else {
                continue;
            };
            let rewrite = manifest::rewrite_cargo_config(&text, &workspace.root, &workspace.root)
                .with_context(|| format!("in {}", config.display()))?;
            report.outside.extend(rewrite.outside);
            if let Some(rewritten) = rewrite.text {
                write_keeping_time(
                    &config,
                    &workspace.root.join(".cargo").join(name),
                    &rewritten,
                )?;
            }
        }
        for rel in report.manifests.clone() {
            let copy = self.copy.join(&rel);
            let original_dir = workspace
                .root
                .join(&rel)
                .parent()
                .map(Path::to_owned)
                .unwrap_or_default();
            let Ok(text) = std::fs::read_to_string(&copy) else {
                continue;
            };
            let rewrite = manifest::rewrite_manifest(&text, &original_dir, &workspace.root)
                .with_context(|| format!("in {}", copy.display()))?;
            report.outside.extend(rewrite.outside);
            if let Some(rewritten) = rewrite.text {
                write_keeping_time(&copy, &workspace.root.join(&rel), &rewritten)?;
            }
        }
        report.outside = outside_closure(std::mem::take(&mut report.outside), &workspace.root);
        Ok(report)
    }

    /// The environment builds and tests run with: nothing inherited but what builds need
    /// (no API key reaches `env!` or a test), and `HOME`, `TMPDIR`, `CARGO_TARGET_DIR` inside
    /// the scratch area.
    pub fn test_env(&self) -> Vec<(String, String)> {
        const KEPT: &[&str] = &[
            "CARGO_HOME",
            "RUSTUP_HOME",
            "RUSTUP_TOOLCHAIN",
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "LANG",
        ];
        let mut env: Vec<(String, String)> = KEPT
            .iter()
            .filter_map(|key| {
                std::env::var(key)
                    .ok()
                    .map(|value| (key.to_string(), value))
            })
            .collect();
        keep_cargo_home(&mut env, sandbox::cargo_home());
        // The toolchain's own binaries first: rustup's proxies are not inside a sandbox.
        let mut path: Vec<PathBuf> = sandbox::toolchain_sysroot()
            .map(|s| s.join("bin"))
            .into_iter()
            .collect();
        if let Some(host) = std::env::var_os("PATH") {
            path.extend(std::env::split_paths(&host));
        }
        if let Ok(path) = std::env::join_paths(path) {
            env.push(("PATH".to_owned(), path.to_string_lossy().into_owned()));
        }
        let scratch = |p: &Path| p.to_string_lossy().into_owned();
        env.extend([
            ("RUST_BACKTRACE".to_owned(), "1".to_owned()),
            ("INSTA_UPDATE".to_owned(), "no".to_owned()),
            ("INSTA_FORCE_PASS".to_owned(), "0".to_owned()),
            ("TMPDIR".to_owned(), scratch(&self.tmp)),
            ("HOME".to_owned(), scratch(&self.tmp)),
            ("CARGO_TARGET_DIR".to_owned(), scratch(&self.target)),
            // A `build.build-dir` of the user's configuration would put the scratch build's
            // intermediate files there, beside (or among) the user's own.
            ("CARGO_BUILD_BUILD_DIR".to_owned(), scratch(&self.target)),
            ("CARGO_TERM_COLOR".to_owned(), "never".to_owned()),
        ]);
        env
    }

    /// The sandbox around the tests: the copy and the built executables read-only (a test must
    /// not rewrite the binary the next test runs), tmp and cargo's `target/tmp` writable.
    pub fn sandbox(&self, mechanism: Mechanism) -> Sandbox {
        Sandbox {
            mechanism,
            toolchain: sandbox::toolchain_sysroot(),
            cargo_home: sandbox::cargo_home(),
            read_only: vec![self.copy.clone(), self.target.clone()],
            writable: vec![self.tmp.clone(), self.target.join("tmp")],
        }
    }

    /// The sandbox around builds: the copy writable too (cargo may write `Cargo.lock`; only
    /// the crate's own build scripts and macros run then, never generated code).
    pub fn build_sandbox(&self, mechanism: Mechanism) -> Sandbox {
        let mut sandbox = self.sandbox(mechanism);
        sandbox.writable.append(&mut sandbox.read_only);
        sandbox
    }
}

/// Rewrite rustc's rendered error so the lines of `scratch_file` that `map` takes to the test
/// file read as lines of it: the `-->` location and the line-number gutter. Other lines are
/// left alone.
pub(super) fn relocate_rendered(
    rendered: &str,
    scratch_file: &Path,
    test_file: &str,
    map: impl Fn(u32) -> Option<u32>,
) -> String {
    let mut out = String::with_capacity(rendered.len());
    for text in rendered.split_inclusive('\n') {
        let body = text.trim_end_matches('\n');
        let newline = &text[body.len()..];
        let trimmed = body.trim_start();
        let indent = &body[..body.len() - trimmed.len()];
        // `  --> src/lib.rs:103:5`
        if let Some(location) = trimmed.strip_prefix("--> ")
            && let Some((path, rest)) = location.split_once(':')
            && let Some((line, column)) = rest.split_once(':')
            && let Ok(line) = line.parse::<u32>()
            && scratch_file.ends_with(path)
            && let Some(mapped) = map(line)
        {
            out.push_str(&format!(
                "{indent}--> {test_file}:{mapped}:{column}{newline}"
            ));
            continue;
        }
        // `103 |     let x = ...`: the number right-aligned in the gutter.
        if let Some((number, after)) = body.split_once(" |")
            && let Ok(line) = number.trim_start().parse::<u32>()
            && let Some(mapped) = map(line)
        {
            let width = number.len();
            out.push_str(&format!("{mapped:>width$} |{after}{newline}"));
            continue;
        }
        out.push_str(text);
    }
    out
}

/// Everything outside the workspace a build reads, from the paths the workspace points at:
/// the path dependencies of those path dependencies, in turn, and the manifest of the
/// workspace each one inherits from (`edition.workspace = true`). Sorted, without repeats.
/// Show `sandboxes` what builds need outside the workspace, read-only: path dependencies and
/// workspace manifests, where they are. Links out of it show their target only inside those,
/// or where the user allowed (a link to `/etc` would show `/etc`); the others are said.
/// (Not what is missing, which bwrap cannot bind, nor an ancestor of the workspace, which
/// would show the whole tree around it.)
pub fn show_outside(
    workspace: &Workspace,
    synced: &copy::SyncReport,
    allow_links: &[PathBuf],
    progress: &Progress,
    sandboxes: &mut [&mut Sandbox],
) {
    let shown = |path: &PathBuf| path.exists() && !workspace.root.starts_with(path);
    let mut outside: Vec<PathBuf> = synced
        .outside
        .iter()
        .filter(|p| shown(p))
        .cloned()
        .collect();
    let (allowed, hidden) = links_shown(&synced.links_out, &outside, allow_links);
    outside.extend(allowed.into_iter().filter(shown));
    for (link, target) in hidden {
        progress.line(&format!(
            "warning: {} links to {}, outside the workspace: builds and tests do not see it \
             (pass --allow-link {} to show it read-only)",
            link.display(),
            target.display(),
            target.display()
        ));
    }
    for sandbox in sandboxes.iter_mut() {
        sandbox.read_only.extend(outside.iter().cloned());
    }
}

/// Of the links out of the workspace, the targets a sandbox shows (inside a tree it shows
/// already, or under one the user allowed) and the links it leaves dangling.
pub(super) fn links_shown(
    links: &[(PathBuf, PathBuf)],
    outside: &[PathBuf],
    allowed: &[PathBuf],
) -> (Vec<PathBuf>, Vec<(PathBuf, PathBuf)>) {
    let mut shown = Vec::new();
    let mut hidden = Vec::new();
    for (link, target) in links {
        if outside.iter().any(|tree| target.starts_with(tree)) {
            continue;
        }
        if allowed.iter().any(|tree| target.starts_with(tree)) {
            shown.push(target.clone());
        } else {
            hidden.push((link.clone(), target.clone()));
        }
    }
    (shown, hidden)
}

pub(super) fn outside_closure(start: Vec<PathBuf>, workspace_root: &Path) -> Vec<PathBuf> {
    let mut seen: std::collections::BTreeSet<PathBuf> = std::collections::BTreeSet::new();
    let mut queue = start;
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path.join("Cargo.toml")) else {
            continue;
        };
        if let Ok(rewrite) = manifest::rewrite_manifest(&text, &path, workspace_root) {
            queue.extend(rewrite.outside);
        }
        let inherited_root = path
            .ancestors()
            .skip(1)
            .map(|dir| dir.join("Cargo.toml"))
            .find(|m| {
                std::fs::read_to_string(m)
                    .ok()
                    .and_then(|text| text.parse::<toml::Table>().ok())
                    .is_some_and(|table| table.contains_key("workspace"))
            });
        if let Some(root_manifest) = inherited_root
            && !root_manifest.starts_with(workspace_root)
        {
            seen.insert(root_manifest);
        }
    }
    seen.into_iter().collect()
}

/// Write `text` to `rel` (relative) in the copy at `copy`, as a file of the copy's own. The
/// copy keeps the workspace's symlinks, some pointing outside it: a link at the file itself is
/// replaced, never written through, and a path through a linked directory is refused.
pub(super) fn write_in_copy(copy: &Path, rel: &Path, text: &str) -> anyhow::Result<()> {
    // Only a path inside the copy: `copy.join` of an absolute path is that path.
    if !rel
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        anyhow::bail!(
            "{} is not inside the workspace: it is not written in the scratch copy",
            rel.display()
        );
    }
    let path = copy.join(rel);
    let mut dir = copy.to_owned();
    for component in rel.parent().into_iter().flat_map(Path::components) {
        dir.push(component);
        if dir
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            anyhow::bail!(
                "{} is reached through the symlink {}: it is not written in the scratch copy",
                rel.display(),
                dir.display()
            );
        }
    }
    if path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        std::fs::remove_file(&path)
            .with_context(|| format!("failed to replace the link {}", path.display()))?;
    }
    std::fs::write(&path, text).with_context(|| format!("failed to write {}", path.display()))
}

/// Whether `rel` (relative) is reached without a linked directory under `root`: a file the
/// copy can hold as its own.
pub(super) fn reached_without_links(root: &Path, rel: &Path) -> bool {
    let mut dir = root.to_owned();
    rel.parent()
        .into_iter()
        .flat_map(Path::components)
        .all(|component| {
            dir.push(component);
            !dir.symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
        })
}

/// Write a rewritten copy with its source's modification time, so cargo sees nothing new.
pub(super) fn write_keeping_time(copy: &Path, source: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(copy, text).with_context(|| format!("failed to write {}", copy.display()))?;
    if let Ok(modified) = std::fs::metadata(source).and_then(|m| m.modified()) {
        std::fs::File::options()
            .write(true)
            .open(copy)?
            .set_modified(modified)?;
    }
    Ok(())
}
