//! The run's first phases: the copy synced with the workspace (a patch applied, the crate's
//! own test code a baseline had to leave out kept out, dependencies fetched), and the
//! baseline, the untouched copy built (and with `Baseline::Test` its own tests run), cached by
//! the sources' fingerprint.

use super::*;

/// What every build of one scratch run shares: the copy, its targets, features, sandbox and
/// environment.
pub(super) struct Builder<'a> {
    pub(super) area: &'a ScratchArea,
    pub(super) workspace: &'a Workspace,
    pub(super) targets: &'a [BuildTarget],
    pub(super) options: &'a RunOptions,
    pub(super) sandbox: &'a Sandbox,
    pub(super) env: &'a [(String, String)],
    /// The first build's dependency units: (fresh, compiled).
    pub(super) first_dependencies: std::cell::Cell<Option<(usize, usize)>>,
}

impl Builder<'_> {
    /// One build of the copy's test targets, as it is now.
    pub(super) fn build(&self) -> anyhow::Result<build::BuildOutcome> {
        let outcome = build_tests(
            &self.area.copy,
            self.targets,
            &self.options.cargo_args,
            self.sandbox,
            self.env,
        )?;
        // Offline, cargo could not find what an earlier fetch got (a cleaned registry, a
        // changed source): the next run fetches again.
        if !outcome.success && outcome.log.contains("offline") {
            let _ = std::fs::remove_file(self.area.root.join(FETCH_STAMP));
        }
        if self.first_dependencies.get().is_none() {
            self.first_dependencies.set(Some((
                outcome.dependencies_fresh,
                outcome.dependencies_built,
            )));
        }
        Ok(outcome)
    }

    /// The first build's dependency units: (fresh, compiled), (0, 0) before any build.
    pub(super) fn first_dependencies(&self) -> (usize, usize) {
        self.first_dependencies.get().unwrap_or_default()
    }
}

/// The copy's sources as this run has them.
pub(super) struct Sources {
    /// The sources, the features and the patch: another fingerprint, another build.
    pub(super) fingerprint: String,
    /// The crate's own test code a baseline of these sources had to leave out.
    pub(super) stripped: own_tests::Stripped,
    stripped_path: PathBuf,
    baseline_stamp: PathBuf,
    /// A baseline of these sources passed before (or none is wanted).
    pub(super) baseline_cached: bool,
}

impl Sources {
    /// The copy of these sources builds: the baseline is done for them (by the tests' own
    /// build, which had them all).
    pub(super) fn record_baseline(&mut self) -> anyhow::Result<()> {
        std::fs::write(&self.baseline_stamp, stamp("build", &self.fingerprint))
            .context("failed to record the baseline")?;
        self.baseline_cached = true;
        Ok(())
    }
}

/// What the baseline stamp says: the mode it passed in, and of which sources.
fn stamp(mode: &str, fingerprint: &str) -> String {
    format!("{mode}:{fingerprint}")
}

/// Sync the copy for `modules` (the files they go into are left to the injection), apply the
/// patch, show what lies outside the workspace to the sandboxes, and fetch dependencies when a
/// build will need them.
pub(super) fn sync_sources(
    area: &ScratchArea,
    workspace: &Workspace,
    analysis: &Analysis,
    modules: &[ModuleInput],
    options: &RunOptions,
    probes: Option<&probes::ProbePlan>,
    sandboxes: &mut [&mut Sandbox],
) -> anyhow::Result<Sources> {
    let mut injected_files: Vec<PathBuf> = modules
        .iter()
        .flat_map(|m| m.module.tests.iter())
        .filter_map(|case| {
            analysis
                .functions
                .iter()
                .find(|f| f.path == case.meta.function)
        })
        .map(|f| PathBuf::from(&f.file))
        .collect();
    // The files the probes rewrite are written by the injection too.
    injected_files.extend(
        probes
            .into_iter()
            .flat_map(|plan| plan.files().map(Path::to_owned)),
    );
    injected_files.sort();
    injected_files.dedup();
    // A patched file is written here, not copied.
    if let Some(patch) = &options.patch {
        injected_files.push(patch.file.clone());
    }
    let synced = area.sync(workspace, &injected_files)?;
    if let Some(patch) = &options.patch {
        patch.apply(area)?;
    }
    show_outside(
        workspace,
        &synced,
        &options.allow_links,
        &options.progress,
        sandboxes,
    );
    // The baseline is cached by the sources' fingerprint: an unchanged tree is not rebuilt
    // untouched before every run.
    let baseline_stamp = area.root.join("baseline");
    // Other features, another build.
    // Another probes' runtime (another version of this tool), another baseline: a runtime
    // that does not build must be found by the baseline, where it takes the probes out.
    let fingerprint = format!(
        "{}:{}:{}:{}",
        synced.fingerprint,
        options.cargo_args.join(" "),
        options.patch.as_ref().map(Patch::stamp).unwrap_or_default(),
        super::probes::runtime_stamp()
    );
    // The crate's own test code a baseline of these sources had to leave out stays out.
    let stripped_path = area.root.join("stripped.json");
    let (stripped, stale) = own_tests::Stripped::load(&stripped_path, &fingerprint);
    for rel in &stale {
        let (from, to) = (workspace.root.join(rel), area.copy.join(rel));
        if from.is_file() {
            std::fs::copy(&from, &to).with_context(|| {
                format!("failed to restore {} in the scratch copy", to.display())
            })?;
        }
    }
    if !stale.is_empty() {
        // The plan that explained them is gone with its sources: a baseline decides again.
        let _ = std::fs::remove_file(&baseline_stamp);
        let _ = std::fs::remove_file(&stripped_path);
    }
    stripped.apply(&area.copy, &injected_files)?;
    let cached = std::fs::read_to_string(&baseline_stamp).ok();
    let stamp = |mode: &str| stamp(mode, &fingerprint);
    let baseline_cached = match options.baseline {
        Baseline::Skip => true,
        Baseline::Build => cached
            .as_deref()
            .is_some_and(|c| c == stamp("build") || c == stamp("test")),
        Baseline::Test => cached.as_deref() == Some(stamp("test").as_str()),
    };
    // Dependencies come first, with the network (the sandboxed build has none), and again
    // only when what chooses them changed.
    let access = workspace.cargo_access.cargo_args();
    let fetch_stamp = area.root.join(FETCH_STAMP);
    let mut manifests: Vec<PathBuf> = synced
        .manifests
        .iter()
        .map(|rel| workspace.root.join(rel))
        .collect();
    manifests.extend(synced.outside.iter().map(|dir| dir.join("Cargo.toml")));
    let fetch_key = dependency_key(&workspace.root, &manifests, &access);
    // With no baseline to notice that a dependency went missing, every run fetches.
    let fetched = options.baseline != Baseline::Skip
        && std::fs::read_to_string(&fetch_stamp).ok().as_deref() == Some(fetch_key.as_str());
    if !fetched {
        fetch(&area.copy, &access)?;
        std::fs::write(&fetch_stamp, &fetch_key).context("failed to record the fetch")?;
    }
    Ok(Sources {
        fingerprint,
        stripped,
        stripped_path,
        baseline_stamp,
        baseline_cached,
    })
}

/// The scratch area's record of the last fetch's [`dependency_key`].
const FETCH_STAMP: &str = "fetched";

/// What decides the dependencies a fetch gets: the manifests (the workspace's and its path
/// dependencies'), the lock file, cargo's configuration (the workspace's and its parents',
/// `$CARGO_HOME`'s), the environment that configures registries and sources, and the flags
/// cargo is given. Any change, and cargo fetches again.
fn dependency_key(root: &Path, manifests: &[PathBuf], access: &[String]) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut files: Vec<PathBuf> = manifests.to_vec();
    files.push(root.join("Cargo.lock"));
    for dir in root.ancestors() {
        for name in [".cargo/config.toml", ".cargo/config"] {
            files.push(dir.join(name));
        }
    }
    if let Some(home) = sandbox::cargo_home() {
        files.extend([home.join("config.toml"), home.join("config")]);
    }
    for file in files {
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(std::fs::read(&file).unwrap_or_default());
        hasher.update([0]);
    }
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(key, _)| {
            [
                "CARGO_HOME",
                "CARGO_REGISTRIES_",
                "CARGO_REGISTRY_",
                "CARGO_SOURCE_",
                "CARGO_NET_",
            ]
            .iter()
            .any(|prefix| key.starts_with(prefix))
        })
        .collect();
    env.sort();
    for (key, value) in env {
        hasher.update(format!("{key}={value}\0").as_bytes());
    }
    hasher.update(access.join(" ").as_bytes());
    cache::hex(&hasher.finalize())
}

/// Build the untouched copy (with the probes, so that the tests' build after it recompiles
/// little more than the tests); past errors only in the crate's own test code, leave that code
/// out and try again; probes an error names come out. A copy that does not build stops the
/// run ([`BaselineFailed`]).
pub(super) fn baseline(
    builder: &Builder,
    sources: &mut Sources,
    mut probes: Option<&mut probes::ProbePlan>,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let (area, workspace, options) = (builder.area, builder.workspace, builder.options);
    let stage = options
        .progress
        .stage("baseline: building the crate as it is", None);
    // The untouched copy: the files from an earlier run's injection restored.
    area.sync(workspace, &[])?;
    if let Some(patch) = &options.patch {
        patch.apply(area)?;
    }
    sources.stripped.apply(&area.copy, &[])?;
    let write_probes = |plan: Option<&probes::ProbePlan>, stripped: &own_tests::Stripped| {
        place_tests(
            workspace,
            area,
            &[],
            &[],
            options.patch.as_ref(),
            stripped,
            plan,
        )
        .map(|_| ())
    };
    write_probes(probes.as_deref(), &sources.stripped)?;
    let mut baseline = builder.build()?;
    // Probes an error names come out, and the baseline is built again; past a few tries all of
    // them, so that what is left is the crate's own verdict.
    for tries in 1..=probes::MAX_PROBE_RETRIES + 1 {
        let Some(plan) = probes.as_deref_mut() else {
            break;
        };
        if baseline.success || crate::interrupt::interrupted() {
            break;
        }
        let blamed: Vec<usize> = baseline
            .errors
            .iter()
            .flat_map(|e| plan.culprits(e, &area.copy))
            .collect();
        if blamed.is_empty() {
            break;
        }
        let said = probes::probe_error_place(&baseline.errors, &area.copy);
        if let Some(warning) = plan.failed_build(&blamed, tries, said) {
            options.progress.line(&warning);
        }
        write_probes(Some(plan), &sources.stripped)?;
        baseline = builder.build()?;
    }
    // What fails now is the crate's own doing. The plan below reads the copy's text by line
    // and byte, which must be the sources' own: the probes come out for it.
    if !baseline.success
        && let Some(plan) = probes.filter(|plan| !plan.is_empty())
    {
        let with_probes = probes::probe_error_place(&baseline.errors, &area.copy);
        area.sync(workspace, &[])?;
        if let Some(patch) = &options.patch {
            patch.apply(area)?;
        }
        sources.stripped.apply(&area.copy, &[])?;
        baseline = builder.build()?;
        // It builds without them: the probes broke it where no error named one.
        if baseline.success {
            options.progress.line(&format!(
                "warning: the crate does not build with the site probes ({with_probes}); the \
                 tests run without them"
            ));
            plan.disable(with_probes);
        }
    }
    // Errors only in the crate's own test code: that code is left out of the copy and
    // the baseline tried again (a module left out may uncover the next).
    for _ in 0..3 {
        if baseline.success || crate::interrupt::interrupted() {
            break;
        }
        let Some((more, said)) =
            own_tests::plan(&area.copy, &baseline.errors, &sources.fingerprint)
        else {
            break;
        };
        append_build_log(&mut report.build_log, "baseline", &baseline);
        options.progress.line(&format!("warning: {said}"));
        for (file, ranges) in more.files {
            sources
                .stripped
                .files
                .entry(file)
                .or_default()
                .extend(ranges);
        }
        sources.stripped.fingerprint = sources.fingerprint.clone();
        sources.stripped.save(&sources.stripped_path)?;
        sources.stripped.apply(&area.copy, &[])?;
        baseline = builder.build()?;
    }
    stage.finish(None);
    if crate::interrupt::interrupted() {
        return Err(Interrupted.into());
    }
    append_build_log(&mut report.build_log, "baseline", &baseline);
    if !baseline.success {
        let mut log = baseline.rendered_errors();
        if log.is_empty() {
            log = baseline.log;
        }
        keep_copy(area, options)?;
        // What was fetched may be gone (a cleaned registry): the next run fetches again.
        let _ = std::fs::remove_file(area.root.join(FETCH_STAMP));
        return Err(BaselineFailed { mode: "build", log }.into());
    }
    if options.baseline == Baseline::Test {
        run_own_tests(
            area,
            builder.targets,
            &options.cargo_args,
            builder.sandbox,
            builder.env,
        )?;
    }
    let mode = if options.baseline == Baseline::Test {
        "test"
    } else {
        "build"
    };
    std::fs::write(&sources.baseline_stamp, stamp(mode, &sources.fingerprint))
        .context("failed to record the baseline")?;
    Ok(())
}
