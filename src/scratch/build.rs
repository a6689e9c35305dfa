//! Building the scratch copy's test executables with `cargo test --no-run
//! --message-format=json`: which executables came out, and every compiler error with its place.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use cargo_metadata::Message;
use cargo_metadata::diagnostic::DiagnosticLevel;

use super::process::run_with_timeout;
use super::sandbox::Sandbox;

/// What to build in one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildTarget {
    pub package: String,
    /// `name@version`: unambiguous for `-p` when a dependency shares the name.
    pub spec: String,
    pub lib: bool,
    pub bins: Vec<String>,
}

/// A test executable cargo produced.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Executable {
    pub package: String,
    /// `lib:NAME` or `bin:NAME`.
    pub target: String,
    pub path: PathBuf,
}

/// A compiler error at a place in the scratch copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// Absolute path in the scratch copy.
    pub file: PathBuf,
    pub line: u32,
    pub message: String,
    /// rustc's own rendering, for logs and for a model to repair from.
    pub rendered: String,
}

#[derive(Debug, Clone, Default)]
pub struct BuildOutcome {
    pub success: bool,
    pub executables: Vec<Executable>,
    pub errors: Vec<CompileError>,
    /// cargo's stderr: progress and, when something outside rustc failed, why.
    pub log: String,
}

/// How long one build may take before it is stopped.
const BUILD_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Fetch the dependencies of the workspace at `root`, outside any sandbox (the sandboxed build
/// has no network).
pub fn fetch(root: &Path) -> anyhow::Result<()> {
    // Fetching runs no code of the crate: the host's environment (proxies, registries) is
    // what it needs.
    let mut command = Command::new(cargo());
    command
        .current_dir(root)
        .args(["fetch", "--manifest-path"])
        .arg(root.join("Cargo.toml"));
    let finished = run_with_timeout(command, BUILD_TIMEOUT, 1 << 20)?;
    if finished.status.is_some_and(|s| s.success()) {
        return Ok(());
    }
    // Dependencies that cannot be resolved (yanked, offline, a missing path) are the crate's
    // problem, like a build error: exit 4 with cargo's words.
    Err(super::BaselineFailed {
        mode: "fetch",
        log: format!(
            "`cargo fetch` could not get the dependencies (try `cargo fetch` in the workspace):\n{}",
            finished.stderr.trim_end()
        ),
    }
    .into())
}

/// Build the test executables of `targets` in the workspace at `root`, inside `sandbox`, with
/// exactly `env`, offline.
pub fn build_tests(
    root: &Path,
    targets: &[BuildTarget],
    features: &[String],
    sandbox: &Sandbox,
    env: &[(String, String)],
) -> anyhow::Result<BuildOutcome> {
    let mut outcome = BuildOutcome {
        success: true,
        ..BuildOutcome::default()
    };
    let cargo = cargo();
    let manifest = root.join("Cargo.toml").to_string_lossy().into_owned();
    for target in targets {
        let mut args: Vec<&str> = vec![
            "test",
            "--no-run",
            "--offline",
            "--message-format=json",
            "--manifest-path",
            &manifest,
            "-p",
            &target.spec,
        ];
        args.extend(features.iter().map(String::as_str));
        if target.lib {
            args.push("--lib");
        }
        for bin in &target.bins {
            args.extend(["--bin", bin.as_str()]);
        }
        let command = sandbox.command(&cargo, &args, root, env, None);
        let finished = run_with_timeout(command, BUILD_TIMEOUT, usize::MAX)
            .context("failed to run cargo to build the tests")?;
        let succeeded = finished.status.is_some_and(|s| s.success());
        outcome.success &= succeeded;
        outcome.log.push_str(&finished.stderr);
        read_messages(&finished.stdout, root, &target.package, &mut outcome);
    }
    Ok(outcome)
}

/// The cargo to run: the one that runs us (`$CARGO`, as cargo subcommands should), else the
/// toolchain's own binary (not the rustup proxy, which a sandbox cannot run), else `cargo`.
pub fn cargo() -> PathBuf {
    if let Some(cargo) = std::env::var_os("CARGO") {
        return PathBuf::from(cargo);
    }
    super::sandbox::toolchain_sysroot()
        .map(|sysroot| sysroot.join("bin").join("cargo"))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

fn read_messages(stdout: &str, root: &Path, package: &str, outcome: &mut BuildOutcome) {
    for message in Message::parse_stream(stdout.as_bytes()).flatten() {
        match message {
            Message::CompilerArtifact(artifact) if artifact.profile.test => {
                if let Some(path) = artifact.executable {
                    outcome.executables.push(Executable {
                        package: package.to_owned(),
                        // A lib and a bin may share a name: the kind keeps them apart.
                        target: format!(
                            "{}:{}",
                            if artifact.target.is_bin() {
                                "bin"
                            } else {
                                "lib"
                            },
                            artifact.target.name
                        ),
                        path: path.into_std_path_buf(),
                    });
                }
            }
            Message::CompilerMessage(message)
                if message.message.level == DiagnosticLevel::Error =>
            {
                let diagnostic = &message.message;
                let span = diagnostic
                    .spans
                    .iter()
                    .find(|s| s.is_primary)
                    .or_else(|| diagnostic.spans.first());
                let (file, line) = match span {
                    Some(span) => {
                        let file = Path::new(&span.file_name);
                        let file = if file.is_absolute() {
                            file.to_owned()
                        } else {
                            root.join(file)
                        };
                        (file, span.line_start as u32)
                    }
                    None => (PathBuf::new(), 0),
                };
                outcome.errors.push(CompileError {
                    file,
                    line,
                    message: diagnostic.message.clone(),
                    rendered: diagnostic
                        .rendered
                        .clone()
                        .unwrap_or_else(|| diagnostic.message.clone()),
                });
            }
            _ => {}
        }
    }
}
