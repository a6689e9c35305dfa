//! The check-in build: the cargo command that builds the package's tests with the command's
//! features, and what its diagnostics say about which checked-in test broke it.

use super::*;

/// Why the tests did not build: cargo's words, and where rustc put its errors.
#[derive(Debug, Clone, Default)]
pub struct BuildFailure {
    /// The end of rustc's and cargo's error messages.
    pub log: String,
    /// The errors' primary positions: file (as rustc names it, relative to the workspace root
    /// or absolute), line and the error's message.
    pub at: Vec<(PathBuf, u32, String)>,
}

impl BuildFailure {
    /// A failure with words and no positions.
    pub fn said(log: impl Into<String>) -> BuildFailure {
        BuildFailure {
            log: log.into(),
            at: Vec::new(),
        }
    }
}

/// The arguments of the cargo that builds the tests of `packages` of `workspace` (at `root`:
/// the scratch copy) with `features`, as `cargo test` would, every test target whatever the
/// others do (`--keep-going`: one round shows every error), offline.
pub fn build_check_args(
    workspace: &crate::workspace::Workspace,
    root: &Path,
    features: &crate::workspace::FeatureSelection,
    packages: &[String],
) -> Vec<String> {
    let mut args: Vec<String> = [
        "build",
        "--tests",
        "--keep-going",
        "--quiet",
        "--offline",
        "--message-format=json-diagnostic-short",
        "--manifest-path",
    ]
    .map(str::to_owned)
    .to_vec();
    args.push(root.join("Cargo.toml").to_string_lossy().into_owned());
    args.extend(features.cargo_args());
    args.extend(workspace.cargo_access.build_args());
    for package in packages {
        // By version too: a dependency may share the name (`itoa` depends on itself, through
        // its dev-dependencies).
        let spec = match workspace.packages.iter().find(|p| p.name == *package) {
            Some(selected) => format!("{package}@{}", selected.version),
            None => package.clone(),
        };
        args.extend(["-p".to_owned(), spec]);
    }
    args
}

/// What a check build said: `Ok(())` when it succeeded, else its errors with their places.
pub fn build_check_outcome(
    succeeded: bool,
    stdout: &[u8],
    stderr: &str,
) -> Result<(), BuildFailure> {
    if succeeded {
        return Ok(());
    }
    let mut failure = BuildFailure::default();
    let mut said: Vec<String> = Vec::new();
    for error in crate::scratch::build::compile_errors(stdout, Path::new("")) {
        if !error.file.as_os_str().is_empty() {
            failure.at.push((error.file, error.line, error.message));
        }
        said.push(error.rendered);
    }
    let mut lines: Vec<&str> = said.iter().flat_map(|s| s.lines()).collect();
    lines.extend(stderr.lines());
    failure.log = lines[lines.len().saturating_sub(40)..].join("\n");
    Err(failure)
}

/// Builds the tests of the named packages of the tree `check_in` writes into: `Ok(Err(why))`
/// when they do not build.
pub type BuildCheck<'a> = dyn Fn(&[String]) -> anyhow::Result<Result<(), BuildFailure>> + 'a;

/// The tests whose lines hold the build's errors, with the first error of each; for an error
/// in an integration file outside the tests written (its `use`), every test written there.
pub(super) fn failing_tests(
    root: &Path,
    attempt: &Attempt,
    failure: &BuildFailure,
) -> Vec<(usize, String)> {
    let mut failing: Vec<(usize, String)> = Vec::new();
    for (path, line, message) in &failure.at {
        let path = root.join(path);
        for (file, integration, tests) in &attempt.lines {
            if *file != path {
                continue;
            }
            let line = *line as usize;
            let mut hit: Vec<usize> = tests
                .iter()
                .filter(|(_, lines)| lines.contains(&line))
                .map(|(index, _)| *index)
                .collect();
            if hit.is_empty() && *integration {
                hit = tests.iter().map(|(index, _)| *index).collect();
            }
            for index in hit {
                if !failing.iter().any(|(i, _)| *i == index) {
                    failing.push((index, message.clone()));
                }
            }
        }
    }
    failing
}
