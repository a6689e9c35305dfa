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

/// Where the tests of functions in `file` (relative) go, and the `#[path]` that finds them
/// from `file`: a directory named after the file's stem beside it (`src/lib.rs` →
/// `src/lib/dualtrack_tests.rs`), the path relative to `file`'s own directory, as Rust reads
/// `#[path]` on a module declared outside any inline module.
pub fn placement(file: &str) -> (String, String) {
    let path = Path::new(file);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let attr = format!("{stem}/{MODULE}.rs");
    let target = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => format!("{}/{attr}", dir.display()),
        _ => attr.clone(),
    };
    (target, attr)
}

/// Builds the tests of the named packages in the user's tree: `Ok(Err(log))` when they do
/// not build.
pub type BuildCheck<'a> = dyn Fn(&[String]) -> anyhow::Result<Result<(), String>> + 'a;

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

/// Write `tests` into the tree at `root`, then build the packages' tests with `build`
/// (`Ok(())` when they build, else cargo's words). On a failed build every file is put back
/// as it was.
pub fn check_in(
    root: &Path,
    tests: &[KeptTest],
    build: &BuildCheck<'_>,
) -> anyhow::Result<Written> {
    let mut by_file: BTreeMap<String, Vec<&KeptTest>> = BTreeMap::new();
    for test in tests {
        if test.function.module.split("::").count() > 1 && inline_module(root, &test.function)? {
            return Err(InputError::new(format!(
                "{}: the function is inside an inline module; checking in its tests is not \
                 supported yet (copy the test from the run's module by hand)",
                test.function.path
            ))
            .into());
        }
        by_file
            .entry(test.function.file.clone())
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
    let result = (|| -> anyhow::Result<()> {
        for (file, tests) in &by_file {
            let (target, attr) = placement(file);
            let target_path = root.join(&target);
            let source_path = root.join(file);
            refuse_links(root, &target_path)?;
            refuse_links(root, &source_path)?;
            let existing = std::fs::read_to_string(&target_path).ok();
            let (text, names) = extend(existing.as_deref(), tests)?;
            if names.is_empty() {
                continue;
            }
            before.push((target_path.clone(), existing));
            if let Some(dir) = target_path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("failed to create {}", dir.display()))?;
            }
            write_atomically(&target_path, &text)?;
            written.files.push(target.clone());
            written.tests.extend(names);
            let source = std::fs::read_to_string(&source_path)
                .with_context(|| format!("failed to read {}", source_path.display()))?;
            if !declares_module(&source) {
                before.push((source_path.clone(), Some(source.clone())));
                let mut text = source.clone();
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(&format!(
                    "\n#[cfg(test)]\n#[path = \"{attr}\"]\nmod {MODULE};\n"
                ));
                write_atomically(&source_path, &text)?;
                written.files.push(file.clone());
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
                    if let Some(dir) = path.parent() {
                        let _ = std::fs::remove_dir(dir);
                    }
                }
            }
        }
        return Err(err);
    }
    Ok(written)
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
    if let Some(existing) = existing {
        let file = syn::parse_file(existing)
            .map_err(|err| anyhow::anyhow!("the existing {MODULE}.rs does not parse: {err}"))?;
        for item in &file.items {
            if let syn::Item::Fn(function) = item {
                taken.insert(function.sig.ident.to_string());
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
        let printed_now = printed(&item);
        if existing.is_some_and(|e| e.contains(printed_now.trim())) {
            continue;
        }
        let base = item.sig.ident.to_string();
        let mut name = base.clone();
        let mut n = 1;
        while !taken.insert(name.clone()) {
            n += 1;
            name = format!("{base}_{n}");
        }
        item.sig.ident = syn::Ident::new(&name, item.sig.ident.span());
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

/// Whether a source file declares the checked-in module already.
fn declares_module(source: &str) -> bool {
    source.lines().any(|l| {
        l.trim() == format!("mod {MODULE};") || l.trim().ends_with(&format!(" mod {MODULE};"))
    })
}

/// Whether the function sits in an inline module of its file (`mod inner { ... }`), whose
/// tests would need the module line inside its braces.
fn inline_module(root: &Path, function: &Function) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(root.join(&function.file))
        .with_context(|| format!("failed to read {}", function.file))?;
    let file = syn::parse_file(&text).map_err(|err| anyhow::anyhow!("{}: {err}", function.file))?;
    Ok(file.items.iter().any(|item| match item {
        syn::Item::Mod(module) => module.content.as_ref().is_some_and(|(brace, _)| {
            let (start, end) = (
                brace.span.open().start().line,
                brace.span.close().end().line,
            );
            (start..=end).contains(&(function.line as usize))
        }),
        _ => false,
    }))
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
                "/// dualtrack: {{\"function\":\"c::average\"}}\n#[test]\nfn {name}() {{\n    let _ = average(1, 0);\n}}"
            ),
            outcome: outcome.into(),
            uses: vec!["use std::collections::HashMap;".into()],
        }
    }

    #[test]
    fn tests_go_beside_their_file_under_its_stem() {
        assert_eq!(
            placement("src/lib.rs"),
            (
                "src/lib/dualtrack_tests.rs".into(),
                "lib/dualtrack_tests.rs".into()
            )
        );
        assert_eq!(
            placement("crates/core/src/money/mod.rs"),
            (
                "crates/core/src/money/mod/dualtrack_tests.rs".into(),
                "mod/dualtrack_tests.rs".into()
            )
        );
        assert_eq!(
            placement("src/bin/tool.rs").0,
            "src/bin/tool/dualtrack_tests.rs"
        );
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

        // A build that fails puts everything back.
        let before =
            std::fs::read_to_string(dir.path().join("src/lib/dualtrack_tests.rs")).unwrap();
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
