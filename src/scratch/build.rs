//! Building the scratch copy's test executables with `cargo test --no-run
//! --message-format=json`: which executables came out, and every compiler error with its place.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use cargo_metadata::Message;
use cargo_metadata::diagnostic::{Diagnostic, DiagnosticLevel};

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
    /// The `use` lines rustc's "consider importing" help suggests, one per help.
    pub imports: Vec<String>,
    /// Every place the diagnostic names, absolute, as (file, first line, last line): its
    /// spans, its notes' spans and the macro call sites they were expanded from. An error
    /// whose primary span lies in a macro's definition (an `assert_eq!` on a type without
    /// `PartialEq`) still names the test that called the macro here.
    pub places: Vec<(PathBuf, u32, u32)>,
}

#[derive(Debug, Clone, Default)]
pub struct BuildOutcome {
    pub success: bool,
    pub executables: Vec<Executable>,
    pub errors: Vec<CompileError>,
    /// cargo's stderr: progress and, when something outside rustc failed, why.
    pub log: String,
    /// Units of packages from outside the workspace (registry, git, path) cargo found fresh,
    /// and those it compiled.
    pub dependencies_fresh: usize,
    pub dependencies_built: usize,
}

impl BuildOutcome {
    /// Every error as rustc rendered it, one after another.
    pub fn rendered_errors(&self) -> String {
        self.errors
            .iter()
            .map(|e| e.rendered.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// How long one build may take before it is stopped.
pub(crate) const BUILD_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Fetch the dependencies of the workspace at `root`, outside any sandbox (the sandboxed build
/// has no network), with `access` (`--locked`, `--offline`, `--frozen`) as given.
pub fn fetch(root: &Path, access: &[String]) -> anyhow::Result<()> {
    // Fetching runs no code of the crate: the host's environment (proxies, registries) is
    // what it needs.
    let mut command = Command::new(cargo());
    command
        .current_dir(root)
        .args(["fetch", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .args(access);
    let finished = run_with_timeout(command, BUILD_TIMEOUT, 1 << 20)?;
    if finished.status.is_some_and(|s| s.success()) {
        return Ok(());
    }
    // The lock file the user asked to keep would have to change: their flags and their tree
    // disagree, which is for them to settle (exit 2), not a build failure.
    if let Some(flag) = ["--locked", "--frozen"].into_iter().find(|flag| {
        finished
            .stderr
            .contains(&format!("because {flag} was passed"))
    }) {
        return Err(crate::error::InputError::new(format!(
            "Cargo.lock is missing or out of date, and {flag} forbids changing it: run \
             `cargo generate-lockfile` (or `cargo update`) in the workspace, or leave out {flag}"
        ))
        .into());
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

/// The `use` lines a diagnostic's "consider importing" help suggests: for each help, the
/// crate's own items when it has any (all of them when several: which one a test means, the
/// caller judges by the function it tests), else rustc's first (it lists the likeliest first).
fn suggested_imports(diagnostic: &Diagnostic) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for help in &diagnostic.children {
        if !help.message.starts_with("consider importing") {
            continue;
        }
        let candidates: Vec<String> = help
            .spans
            .iter()
            .filter_map(|span| span.suggested_replacement.as_deref())
            .map(str::trim)
            .filter(|import| import.starts_with("use ") && import.ends_with(';'))
            .map(str::to_owned)
            .collect();
        let own: Vec<&String> = candidates
            .iter()
            .filter(|c| c.starts_with("use crate::"))
            .collect();
        let chosen: Vec<String> = if own.is_empty() {
            candidates.into_iter().take(1).collect()
        } else {
            own.into_iter().cloned().collect()
        };
        for chosen in chosen {
            if !out.contains(&chosen) {
                out.push(chosen);
            }
        }
    }
    out
}

fn read_messages(stdout: &str, root: &Path, package: &str, outcome: &mut BuildOutcome) {
    for message in Message::parse_stream(stdout.as_bytes()).flatten() {
        // A dependency is a package whose manifest lies outside the copy: registry, git, or a
        // path dependency outside the workspace.
        if let Message::CompilerArtifact(artifact) = &message
            && !artifact.manifest_path.as_std_path().starts_with(root)
        {
            if artifact.fresh {
                outcome.dependencies_fresh += 1;
            } else {
                outcome.dependencies_built += 1;
            }
        }
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
                outcome.errors.push(compile_error(&message.message, root));
            }
            _ => {}
        }
    }
}

/// The compiler errors among cargo's JSON messages (`--message-format=json*`), their places
/// under `root` (an empty `root` leaves them as rustc wrote them). The one reading of rustc's
/// diagnostics, for the scratch builds and the check-in build alike.
pub fn compile_errors(stdout: &[u8], root: &Path) -> Vec<CompileError> {
    Message::parse_stream(stdout)
        .flatten()
        .filter_map(|message| match message {
            Message::CompilerMessage(message)
                if message.message.level == DiagnosticLevel::Error =>
            {
                Some(compile_error(&message.message, root))
            }
            _ => None,
        })
        .collect()
}

/// One error diagnostic: its primary place (else its first), message, rendering, the imports
/// rustc suggests and every place it names.
fn compile_error(diagnostic: &Diagnostic, root: &Path) -> CompileError {
    let span = diagnostic
        .spans
        .iter()
        .find(|s| s.is_primary)
        .or_else(|| diagnostic.spans.first());
    let (file, line) = match span {
        Some(span) => (under(root, &span.file_name), span.line_start as u32),
        None => (PathBuf::new(), 0),
    };
    CompileError {
        file,
        line,
        message: diagnostic.message.clone(),
        rendered: diagnostic
            .rendered
            .clone()
            .unwrap_or_else(|| diagnostic.message.clone()),
        imports: suggested_imports(diagnostic),
        places: places_of(diagnostic, root),
    }
}

/// A file rustc names, under `root` unless it is absolute.
fn under(root: &Path, file_name: &str) -> PathBuf {
    let file = Path::new(file_name);
    if file.is_absolute() {
        file.to_owned()
    } else {
        root.join(file)
    }
}

/// Every place `diagnostic` names: its spans (primary first), its children's, and the call
/// sites of the macro expansions each lies in.
fn places_of(diagnostic: &Diagnostic, root: &Path) -> Vec<(PathBuf, u32, u32)> {
    let mut places = Vec::new();
    let mut spans: Vec<&cargo_metadata::diagnostic::DiagnosticSpan> =
        diagnostic.spans.iter().filter(|s| s.is_primary).collect();
    spans.extend(diagnostic.spans.iter().filter(|s| !s.is_primary));
    spans.extend(diagnostic.children.iter().flat_map(|c| c.spans.iter()));
    for span in spans {
        let mut next = Some(span);
        while let Some(span) = next {
            let place = (
                under(root, &span.file_name),
                span.line_start as u32,
                span.line_end as u32,
            );
            if !places.contains(&place) {
                places.push(place);
            }
            next = span.expansion.as_ref().map(|e| &e.span);
        }
    }
    places
}

#[cfg(test)]
mod test {
    use super::*;
    use serde_json::json;

    #[test]
    fn places_follow_macro_expansions_back_to_the_call_site() {
        let diagnostic: Diagnostic = serde_json::from_value(json!({
            "message": "binary operation `==` cannot be applied to type `Window`", "code": null,
            "level": "error", "rendered": null, "children": [],
            "spans": [{
                "file_name": "/rustc/abc/library/core/src/macros/mod.rs", "byte_start": 0,
                "byte_end": 0, "line_start": 46, "line_end": 46, "column_start": 1,
                "column_end": 2, "is_primary": true, "text": [], "label": null,
                "suggested_replacement": null, "suggestion_applicability": null,
                "expansion": {"macro_decl_name": "assert_eq!", "def_site_span": null, "span": {
                    "file_name": "src/lib.rs", "byte_start": 0, "byte_end": 0, "line_start": 120,
                    "line_end": 120, "column_start": 5, "column_end": 40, "is_primary": false,
                    "text": [], "label": null, "suggested_replacement": null,
                    "suggestion_applicability": null, "expansion": null
                }}
            }]
        }))
        .unwrap();
        let places = places_of(&diagnostic, Path::new("/copy"));
        assert_eq!(places.len(), 2);
        assert_eq!(places[1], (PathBuf::from("/copy/src/lib.rs"), 120, 120));
    }

    fn span(replacement: Option<&str>) -> serde_json::Value {
        json!({
            "file_name": "src/lib.rs", "byte_start": 0, "byte_end": 0, "line_start": 5,
            "line_end": 5, "column_start": 9, "column_end": 9, "is_primary": true, "text": [],
            "label": null, "suggested_replacement": replacement,
            "suggestion_applicability": "MaybeIncorrect", "expansion": null
        })
    }

    fn diagnostic(children: Vec<(&str, Vec<Option<&str>>)>) -> Diagnostic {
        let children: Vec<serde_json::Value> = children
            .into_iter()
            .map(|(message, spans)| {
                json!({
                    "message": message, "code": null, "level": "help",
                    "spans": spans.into_iter().map(span).collect::<Vec<_>>(),
                    "children": [], "rendered": null
                })
            })
            .collect();
        serde_json::from_value(json!({
            "message": "cannot find type `Error` in this scope", "code": null,
            "level": "error", "spans": [span(None)], "children": children, "rendered": null
        }))
        .unwrap()
    }

    #[test]
    fn imports_are_read_from_rustc_s_suggestions() {
        let found = diagnostic(vec![
            (
                "consider importing this function",
                vec![Some("use crate::money::parse_amount;\n")],
            ),
            (
                "consider importing one of these items",
                vec![
                    Some("use std::error::Error;\n"),
                    Some("use crate::other::Error;\n"),
                    Some("use std::fmt::Error;\n"),
                ],
            ),
            (
                "consider importing one of these items",
                vec![
                    Some("use std::io::Error;\n"),
                    Some("use std::fmt::Error;\n"),
                ],
            ),
            (
                "if you wanted to use a crate named `imp`, use `cargo add imp`",
                vec![],
            ),
            (
                "consider importing this function",
                vec![Some("use crate::money::parse_amount;\n")],
            ),
        ]);
        assert_eq!(
            suggested_imports(&found),
            [
                "use crate::money::parse_amount;",
                "use crate::other::Error;",
                "use std::io::Error;"
            ]
        );
        // Two of the crate's own: both, for the caller to choose by the function tested.
        let two = diagnostic(vec![(
            "consider importing one of these constants",
            vec![
                Some("use crate::alphabet::STANDARD;\n"),
                Some("use crate::engine::general_purpose::STANDARD;\n"),
                Some("use other::STANDARD;\n"),
            ],
        )]);
        assert_eq!(
            suggested_imports(&two),
            [
                "use crate::alphabet::STANDARD;",
                "use crate::engine::general_purpose::STANDARD;"
            ]
        );
        let none = diagnostic(vec![("consider borrowing here", vec![Some("&x")])]);
        assert!(suggested_imports(&none).is_empty());
    }
}
