//! The writer of checked-in tests: kept tests go into the user's tree as a
//! `dualtrack_tests.rs` child module of the module that defines the function (the context they
//! ran in: `use super::*`), next to a `#[cfg(test)] mod dualtrack_tests;` line with an explicit
//! `#[path]`. Existing files are extended, never overwritten; names never collide; a kept test
//! that timed out or crashed is written `#[ignore]`. The package must still build its tests
//! afterwards, or every write is rolled back.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::analyze::Function;
use crate::error::InputError;
use crate::output::write_atomically;

/// A test to check in.
#[derive(Debug, Clone)]
pub struct KeptTest {
    pub finding: String,
    pub function: Function,
    /// The test function as it ran (metadata doc line and attributes included).
    pub code: String,
    /// `passed`, `panicked`, `timed_out`, ...
    pub outcome: String,
    /// `use` lines the test's module had.
    pub uses: Vec<String>,
    /// The module the function's file is (`c::money`); the function's own module may be an
    /// inline module inside it (`c::money::parse`).
    pub file_module: String,
    /// The package's edition, for rustfmt on a new file (`2021`).
    pub edition: String,
}

impl KeptTest {
    /// The edition of `package` in `workspace` (its first target's).
    pub fn edition_of(workspace: &crate::workspace::Workspace, package: &str) -> String {
        workspace
            .packages
            .iter()
            .find(|p| p.name == package)
            .and_then(|p| p.targets.first())
            .map(|t| t.edition.clone())
            .unwrap_or_else(|| "2021".to_owned())
    }

    /// The module `function`'s file is, from the analysis that found it.
    pub fn file_module_of(analysis: &crate::analyze::Analysis, function: &Function) -> String {
        analysis
            .file_modules
            .get(&function.file)
            .cloned()
            .unwrap_or_else(|| function.module.clone())
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Files created or extended, relative to the workspace root.
    pub files: Vec<String>,
    /// Tests written (a test already checked in is not written twice).
    pub tests: Vec<String>,
}

/// The name of the module file the checked-in tests of a source file go into.
pub const MODULE: &str = "dualtrack_tests";

/// Where the tests of functions in `file` (relative) go, inside the inline modules `inline`
/// of it (outermost first), and the `#[path]` that finds them from the module declaration.
/// At a file's top level: a directory named after the file's stem beside it (`src/lib.rs` →
/// `src/lib/dualtrack_tests.rs`), the path read from the file's directory. Inside inline
/// modules Rust reads the path from the directory their names make (under the file's stem
/// for a file that is not mod-rs, a crate root or `mod.rs`), which must exist: the tests go
/// there (`mod net` in `src/lib.rs` → `src/net/dualtrack_tests.rs`, in `src/money.rs` →
/// `src/money/net/dualtrack_tests.rs`).
pub fn placement(file: &str, inline: &[String], mod_rs: bool) -> (String, String) {
    let path = Path::new(file);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut below: Vec<String> = Vec::new();
    if inline.is_empty() || !mod_rs {
        below.push(stem);
    }
    below.extend(inline.iter().cloned());
    below.push(format!("{MODULE}.rs"));
    let below = below.join("/");
    let target = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => format!("{}/{below}", dir.display()),
        _ => below.clone(),
    };
    let attr = if inline.is_empty() {
        below
    } else {
        format!("{MODULE}.rs")
    };
    (target, attr)
}

/// Build the tests of `packages` in the user's tree at `root`, as `cargo test` would: `Err`
/// holds the end of cargo's errors.
pub fn build_check(root: &Path, packages: &[String]) -> anyhow::Result<Result<(), String>> {
    let mut command = std::process::Command::new(crate::scratch::build::cargo());
    command
        .args(["test", "--no-run", "--quiet", "--manifest-path"])
        .arg(root.join("Cargo.toml"));
    for package in packages {
        command.args(["-p", package]);
    }
    let output = command.output().context("failed to run cargo")?;
    if output.status.success() {
        return Ok(Ok(()));
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    Ok(Err(lines[lines.len().saturating_sub(40)..].join("\n")))
}

/// Builds the tests of the named packages in the user's tree: `Ok(Err(log))` when they do
/// not build.
pub type BuildCheck<'a> = dyn Fn(&[String]) -> anyhow::Result<Result<(), String>> + 'a;

/// Write `tests` into the tree at `root`, then build the packages' tests with `build`
/// (`Ok(())` when they build, else cargo's words). On a failed build every file is put back
/// as it was.
pub fn check_in(
    root: &Path,
    tests: &[KeptTest],
    build: &BuildCheck<'_>,
) -> anyhow::Result<Written> {
    // One module file per (source file, inline modules).
    let mut by_slot: BTreeMap<(String, Vec<String>), Vec<&KeptTest>> = BTreeMap::new();
    for test in tests {
        let inline: Vec<String> = test
            .function
            .module
            .strip_prefix(&test.file_module)
            .unwrap_or_default()
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        by_slot
            .entry((test.function.file.clone(), inline))
            .or_default()
            .push(test);
    }
    // Every file's text before, to put back if the build fails.
    let mut before: Vec<(PathBuf, Option<String>)> = Vec::new();
    let mut written = Written {
        files: Vec::new(),
        tests: Vec::new(),
    };
    let mut packages: Vec<String> = Vec::new();
    let mut created: Vec<PathBuf> = Vec::new();
    let result = (|| -> anyhow::Result<()> {
        for ((file, inline), tests) in &by_slot {
            let mod_rs = Path::new(file).file_name().is_some_and(|n| n == "mod.rs")
                || tests.first().is_some_and(|t| !t.file_module.contains("::"));
            let (target, attr) = placement(file, inline, mod_rs);
            let target_path = root.join(&target);
            let source_path = root.join(file);
            refuse_links(root, &target_path)?;
            refuse_links(root, &source_path)?;
            // A file there that cannot be read as text is not ours to rewrite.
            let existing = match std::fs::read_to_string(&target_path) {
                Ok(text) => Some(text),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                Err(err) => {
                    return Err(InputError::new(format!(
                        "{}: {err}: left as it is, and nothing checked in",
                        target_path.display()
                    ))
                    .into());
                }
            };
            let (mut text, names) = extend(existing.as_deref(), tests)?;
            // A new file is formatted as the user's own would be; an existing one never is.
            if existing.is_none()
                && let Some(formatted) =
                    rustfmt(&text, tests.first().map_or("2021", |t| t.edition.as_str()))
            {
                text = formatted;
            }
            if names.is_empty() {
                continue;
            }
            before.push((target_path.clone(), existing));
            if let Some(dir) = target_path.parent() {
                // The directories made here, to take away again on a rollback.
                let mut missing: Vec<PathBuf> = dir
                    .ancestors()
                    .take_while(|d| !d.exists())
                    .map(Path::to_path_buf)
                    .collect();
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("failed to create {}", dir.display()))?;
                created.append(&mut missing);
            }
            write_atomically(&target_path, &text)?;
            written.files.push(target.clone());
            written.tests.extend(names);
            let source = std::fs::read_to_string(&source_path)
                .with_context(|| format!("failed to read {}", source_path.display()))?;
            if let Some(text) = with_declaration(&source, inline, &attr)? {
                before.push((source_path.clone(), Some(source.clone())));
                write_atomically(&source_path, &text)?;
                if !written.files.contains(file) {
                    written.files.push(file.clone());
                }
            }
            for test in tests {
                if !packages.contains(&test.function.package) {
                    packages.push(test.function.package.clone());
                }
            }
        }
        Ok(())
    })();
    let outcome = match result {
        Ok(()) if written.tests.is_empty() => Ok(()),
        Ok(()) => match build(&packages)? {
            Ok(()) => Ok(()),
            Err(log) => Err(anyhow::Error::from(InputError::new(format!(
                "the checked-in tests do not build in your tree, so nothing was written:\n{log}"
            )))),
        },
        Err(err) => Err(err),
    };
    if let Err(err) = outcome {
        for (path, text) in before.iter().rev() {
            match text {
                Some(text) => write_atomically(path, text)?,
                None => {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        // Deepest first; only what is empty (what this run made).
        for dir in &created {
            let _ = std::fs::remove_dir(dir);
        }
        return Err(err);
    }
    Ok(written)
}

/// A test as tokens, without its name and doc comments: what makes two tests the same.
fn shape(item: &syn::ItemFn) -> String {
    use quote::ToTokens as _;
    let mut item = item.clone();
    item.attrs.retain(|a| !a.path().is_ident("doc"));
    item.sig.ident = syn::Ident::new("t", item.sig.ident.span());
    item.to_token_stream().to_string()
}

/// `text` through rustfmt (for `edition`), when rustfmt is installed and takes it.
fn rustfmt(text: &str, edition: &str) -> Option<String> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("rustfmt")
        .args(["--edition", edition, "--emit", "stdout", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(text.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    let formatted = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !formatted.trim().is_empty()).then_some(formatted)
}

/// The module file's text with `tests` added after what is there, and the names written. A
/// test whose code is there already is not written again; one whose name is taken gets a
/// number.
fn extend(existing: Option<&str>, tests: &[&KeptTest]) -> anyhow::Result<(String, Vec<String>)> {
    let mut text = match existing {
        Some(text) => text.to_owned(),
        None => {
            ("//! Adversarial tests checked in by cargo-dualtrack (`reconcile --keep`, `generate \
             --write`):\n//! a kept test guards a finding (its id is on the line above it) and \
             fails until the code is fixed.\n\n\
             use super::*;\n")
                .to_owned()
        }
    };
    let mut taken: HashSet<String> = HashSet::new();
    // The tests there and written, by shape.
    let mut batch: HashSet<String> = HashSet::new();
    if let Some(existing) = existing {
        let file = syn::parse_file(existing)
            .map_err(|err| anyhow::anyhow!("the existing {MODULE}.rs does not parse: {err}"))?;
        for item in &file.items {
            if let syn::Item::Fn(function) = item {
                taken.insert(function.sig.ident.to_string());
                batch.insert(shape(function));
            }
        }
    }
    let mut names = Vec::new();
    for test in tests {
        for line in &test.uses {
            if !text.lines().any(|l| l.trim() == line.trim()) {
                text = insert_use(&text, line.trim());
            }
        }
        let mut item: syn::ItemFn = syn::parse_str(&test.code)
            .map_err(|err| anyhow::anyhow!("the kept test does not parse: {err}"))?;
        item.attrs.retain(|a| !a.path().is_ident("doc"));
        if matches!(test.outcome.as_str(), "timed_out" | "crashed") {
            let why = format!(
                "dualtrack {}: {}; run with --ignored",
                test.finding,
                test.outcome.replace('_', " ")
            );
            item.attrs.push(syn::parse_quote!(#[ignore = #why]));
        }
        // The same test (whatever its name became, however it was formatted) once.
        if !batch.insert(shape(&item)) {
            continue;
        }
        let item = crate::generate::model::engine::with_name(item, &mut taken);
        let name = item.sig.ident.to_string();
        let label = if test.finding.starts_with("F-") || test.finding == "generated" {
            test.finding.as_str()
        } else {
            "regression"
        };
        text.push_str(&format!(
            "\n// dualtrack {label}: {}\n{}",
            test.function.path,
            printed(&item)
        ));
        names.push(name);
    }
    Ok((text, names))
}

/// A function printed the way rustfmt would, near enough (prettyplease).
fn printed(item: &syn::ItemFn) -> String {
    let mut file: syn::File = syn::parse_str("").expect("an empty file parses");
    file.items = vec![syn::Item::Fn(item.clone())];
    prettyplease::unparse(&file)
}

/// `text` with a `use` line after its last one.
fn insert_use(text: &str, line: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .rposition(|l| l.trim_start().starts_with("use "))
        .map_or(lines.len(), |i| i + 1);
    let mut out: Vec<&str> = lines[..at].to_vec();
    out.push(line);
    out.extend(&lines[at..]);
    let mut joined = out.join("\n");
    joined.push('\n');
    joined
}

/// `source` with a `#[cfg(test)] #[path = "attr"] mod dualtrack_tests;` declaration in the
/// module `inline` names (the file's top level when empty: at its end; an inline module's:
/// before its closing brace); `None` when it is declared there already.
fn with_declaration(source: &str, inline: &[String], attr: &str) -> anyhow::Result<Option<String>> {
    let file = syn::parse_file(source).map_err(|err| anyhow::anyhow!("does not parse: {err}"))?;
    // Ours is declared with our path; one declared otherwise (by hand, elsewhere) would leave
    // the tests written here uncompiled.
    let declared = |items: &[syn::Item]| -> anyhow::Result<bool> {
        for item in items {
            let syn::Item::Mod(module) = item else {
                continue;
            };
            if module.ident != MODULE {
                continue;
            }
            let path = module.attrs.iter().find_map(|attr| match &attr.meta {
                syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            });
            if module.content.is_none() && path.as_deref() == Some(attr) {
                return Ok(true);
            }
            anyhow::bail!(
                "a module `{MODULE}` is declared there already, not as cargo-dualtrack writes it \
                 (`#[path = \"{attr}\"]`): rename it, or move its tests to {attr}"
            );
        }
        Ok(false)
    };
    let mut items: &[syn::Item] = &file.items;
    let mut close = None;
    let mut depth = 0;
    for name in inline {
        let Some((brace, content)) = items.iter().find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name.as_str() => m.content.as_ref(),
            _ => None,
        }) else {
            anyhow::bail!("the inline module `{name}` is not in the file any more");
        };
        items = content;
        close = Some(brace.span.close());
        depth += 1;
    }
    if declared(items)? {
        return Ok(None);
    }
    let indent = "    ".repeat(depth);
    // The file's own line endings.
    let nl = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let declaration = format!(
        "{indent}#[cfg(test)]{nl}{indent}#[path = \"{attr}\"]{nl}{indent}mod {MODULE};{nl}"
    );
    let mut text = source.to_owned();
    match close {
        None => {
            if !text.ends_with('\n') {
                text.push_str(nl);
            }
            text.push_str(nl);
            text.push_str(&declaration);
        }
        Some(brace) => {
            let at = brace.byte_range().start;
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            if text[line_start..at].trim().is_empty() {
                // The brace on a line of its own: the declaration goes on the lines above it.
                text.insert_str(line_start, &declaration);
            } else {
                let inline_declaration =
                    format!(" #[cfg(test)] #[path = \"{attr}\"] mod {MODULE}; ");
                text.insert_str(at, &inline_declaration);
            }
        }
    }
    Ok(Some(text))
}

/// Refuse to write through a symbolic link or outside the workspace.
fn refuse_links(root: &Path, path: &Path) -> anyhow::Result<()> {
    let mut at = root.to_path_buf();
    let relative = path
        .strip_prefix(root)
        .map_err(|_| InputError::new(format!("{} is outside the workspace", path.display())))?;
    for part in relative.components() {
        if matches!(part, std::path::Component::ParentDir) {
            return Err(InputError::new(format!("{} leaves the workspace", path.display())).into());
        }
        at.push(part);
        if at
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err(InputError::new(format!(
                "{} is a symbolic link: checked-in tests are not written through links",
                at.display()
            ))
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    fn kept(name: &str, outcome: &str) -> KeptTest {
        KeptTest {
            finding: "F-0123456789".into(),
            function: serde_json::from_value(serde_json::json!({
                "path": "c::average", "package": "c", "file": "src/lib.rs", "line": 2,
                "end_line": 4, "module": "c", "visibility": "pub", "sites": []
            }))
            .unwrap(),
            code: format!(
                "/// dualtrack: {{\"function\":\"c::average\"}}\n#[test]\nfn {name}() {{\n    let _ = average(1, 0);\n    let _case = \"{name}\";\n}}"
            ),
            outcome: outcome.into(),
            uses: vec!["use std::collections::HashMap;".into()],
            file_module: "c".into(),
            edition: "2021".into(),
        }
    }

    #[test]
    fn tests_go_beside_their_file_under_its_stem() {
        let none: &[String] = &[];
        assert_eq!(
            placement("src/lib.rs", none, true),
            (
                "src/lib/dualtrack_tests.rs".into(),
                "lib/dualtrack_tests.rs".into()
            )
        );
        assert_eq!(
            placement("crates/core/src/money/mod.rs", none, true),
            (
                "crates/core/src/money/mod/dualtrack_tests.rs".into(),
                "mod/dualtrack_tests.rs".into()
            )
        );
        assert_eq!(
            placement("src/bin/tool.rs", none, true).0,
            "src/bin/tool/dualtrack_tests.rs"
        );
        // Inline modules: the path starts in the directory their names make (which rustc
        // needs to exist), from a crate root as from another file.
        let net = ["net".to_owned(), "v4".to_owned()];
        assert_eq!(
            placement("src/lib.rs", &net, true),
            (
                "src/net/v4/dualtrack_tests.rs".into(),
                "dualtrack_tests.rs".into()
            )
        );
        // From another module file, under its stem: where the file already is.
        assert_eq!(
            placement("src/money.rs", &net, false),
            (
                "src/money/net/v4/dualtrack_tests.rs".into(),
                "dualtrack_tests.rs".into()
            )
        );
    }

    #[test]
    fn the_declaration_goes_in_the_function_s_module_once() {
        let source = "pub fn f() {}\n\npub mod net {\n    pub fn g() {}\n}\n";
        let top = with_declaration(source, &[], "lib/dualtrack_tests.rs")
            .unwrap()
            .unwrap();
        assert!(
            top.ends_with(
                "}\n\n#[cfg(test)]\n#[path = \"lib/dualtrack_tests.rs\"]\nmod dualtrack_tests;\n"
            ),
            "{top}"
        );
        assert!(
            with_declaration(&top, &[], "lib/dualtrack_tests.rs")
                .unwrap()
                .is_none()
        );
        // A module of that name declared otherwise (by hand) is not taken for ours.
        let err = with_declaration(&top, &[], "elsewhere.rs")
            .unwrap_err()
            .to_string();
        assert!(err.contains("declared there already"), "{err}");
        let by_hand = "pub fn f() {}\n#[cfg(test)]\nmod dualtrack_tests;\n";
        assert!(with_declaration(by_hand, &[], "lib/dualtrack_tests.rs").is_err());
        let net = ["net".to_owned()];
        let inner = with_declaration(source, &net, "../lib/net/dualtrack_tests.rs")
            .unwrap()
            .unwrap();
        assert!(inner.contains("    pub fn g() {}\n    #[cfg(test)]\n    #[path = \"../lib/net/dualtrack_tests.rs\"]\n    mod dualtrack_tests;\n}\n"), "{inner}");
        assert!(
            with_declaration(&inner, &net, "../lib/net/dualtrack_tests.rs")
                .unwrap()
                .is_none()
        );
        syn::parse_file(&inner).unwrap();
        assert!(with_declaration(source, &["gone".to_owned()], "x").is_err());
    }

    #[test]
    fn a_new_file_is_written_an_old_one_extended_and_the_build_failure_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        let lib = "pub fn average(sum: i64, count: i64) -> i64 {\n    sum / count\n}\n";
        std::fs::write(dir.path().join("src/lib.rs"), lib).unwrap();
        let ok = |_: &[String]| Ok(Ok(()));
        let written = check_in(dir.path(), &[kept("by_zero", "panicked")], &ok).unwrap();
        assert_eq!(written.tests, ["by_zero"]);
        let module =
            std::fs::read_to_string(dir.path().join("src/lib/dualtrack_tests.rs")).unwrap();
        assert!(
            module.contains("use super::*;\nuse std::collections::HashMap;\n"),
            "{module}"
        );
        assert!(
            module.contains("// dualtrack F-0123456789: c::average\n#[test]\nfn by_zero()"),
            "{module}"
        );
        let source = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
        assert!(
            source.ends_with(
                "#[cfg(test)]\n#[path = \"lib/dualtrack_tests.rs\"]\nmod dualtrack_tests;\n"
            ),
            "{source}"
        );

        // Again, and a hang: the same test is not written twice, the new one is ignored.
        let again = check_in(
            dir.path(),
            &[kept("by_zero", "panicked"), kept("by_zero", "timed_out")],
            &ok,
        )
        .unwrap();
        assert_eq!(again.tests, ["by_zero_2"]);
        let module =
            std::fs::read_to_string(dir.path().join("src/lib/dualtrack_tests.rs")).unwrap();
        assert!(module.contains("#[ignore = \"dualtrack F-0123456789: timed out; run with --ignored\"]\nfn by_zero_2()"), "{module}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap(),
            source
        );

        // The same test twice in one batch is written once.
        let twice = check_in(
            dir.path(),
            &[kept("dup", "panicked"), kept("dup", "panicked")],
            &ok,
        )
        .unwrap();
        assert_eq!(twice.tests, ["dup"]);
        // A build that fails puts everything back.
        let before =
            std::fs::read_to_string(dir.path().join("src/lib/dualtrack_tests.rs")).unwrap();
        // A CRLF source gets a CRLF declaration, and the new file is formatted.
        let crlf = dir.path().join("src/crlf.rs");
        std::fs::write(&crlf, "pub fn average() {}\r\n").unwrap();
        let mut in_crlf = kept("in_crlf", "panicked");
        in_crlf.function.file = "src/crlf.rs".into();
        in_crlf.file_module = "c::crlf".into();
        in_crlf.function.module = "c::crlf".into();
        check_in(dir.path(), &[in_crlf], &ok).unwrap();
        let text = std::fs::read_to_string(&crlf).unwrap();
        assert!(text.ends_with("}\r\n\r\n#[cfg(test)]\r\n#[path = \"crlf/dualtrack_tests.rs\"]\r\nmod dualtrack_tests;\r\n"), "{text:?}");
        let broken = |_: &[String]| Ok(Err("error[E0425]".to_owned()));
        let err = check_in(dir.path(), &[kept("other", "panicked")], &broken).unwrap_err();
        assert!(err.to_string().contains("nothing was written"), "{err}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("src/lib/dualtrack_tests.rs")).unwrap(),
            before
        );
    }

    #[test]
    fn a_fresh_tree_is_left_as_it_was_when_the_build_fails() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "pub fn average() {}\n").unwrap();
        let broken = |_: &[String]| Ok(Err("no".to_owned()));
        assert!(check_in(dir.path(), &[kept("t", "panicked")], &broken).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap(),
            "pub fn average() {}\n"
        );
        assert!(!dir.path().join("src/lib").exists());
    }

    #[cfg(unix)]
    #[test]
    fn links_are_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "pub fn average() {}\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("src/lib")).unwrap();
        let ok = |_: &[String]| Ok(Ok(()));
        let err = check_in(dir.path(), &[kept("t", "panicked")], &ok).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }
}
