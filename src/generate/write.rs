//! Generated tests written as modules under `generate --out DIR`, one per source module,
//! rewriting or removing only files it wrote before.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

use crate::error::InputError;
use crate::generate::Generation;
use crate::generate::emit::{EmittedTest, module_text};
use crate::output::write_atomically;

/// Files `DIR/<module>.rs`, one per module of the functions attacked (`ledger::money` →
/// `ledger_money.rs`); returns each path and its test count.
pub fn write_modules(
    dir: &Path,
    header: &serde_json::Value,
    generation: &Generation,
) -> anyhow::Result<Vec<(std::path::PathBuf, usize)>> {
    let mut by_module: BTreeMap<String, Vec<EmittedTest>> = BTreeMap::new();
    for test in &generation.tests {
        by_module
            .entry(test.module.replace("::", "_").replace(['(', ')'], ""))
            .or_default()
            .push(test.test.clone());
    }
    std::fs::create_dir_all(dir)
        .map_err(|err| InputError::new(format!("cannot create {}: {err}", dir.display())))?;
    let names: std::collections::BTreeSet<String> =
        by_module.keys().map(|m| format!("{m}.rs")).collect();
    // Only files this command wrote before are rewritten: a file of the user's by that name is
    // named, and nothing is written.
    for name in &names {
        let path = dir.join(name);
        if path.symlink_metadata().is_ok() && !is_generated(&path) {
            return Err(InputError::new(format!(
                "{} is not a file `generate` wrote (it does not start with `//! dualtrack:`), so \
                 it is left as it is and nothing was written: pass another --out directory, or \
                 move the file away",
                path.display()
            ))
            .into());
        }
    }
    remove_stale_modules(dir, &names)?;
    let mut written = Vec::new();
    for (module, tests) in by_module {
        let path = dir.join(format!("{module}.rs"));
        write_atomically(&path, &module_text(header, &generation.preamble, &tests))?;
        written.push((path, tests.len()));
    }
    Ok(written)
}

/// A regular file that starts with the generated header (not a link, not a FIFO).
fn is_generated(path: &Path) -> bool {
    path.symlink_metadata().is_ok_and(|m| m.is_file())
        && std::fs::read_to_string(path).is_ok_and(|text| text.starts_with("//! dualtrack:"))
}

/// Generated modules an earlier run wrote into `dir` that this run does not rewrite: they
/// would run tests for code that changed. Only files that start with the generated header go.
fn remove_stale_modules(
    dir: &Path,
    keep: &std::collections::BTreeSet<String>,
) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| InputError::new(format!("cannot read {}: {err}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || keep.contains(&name) || !entry.file_type()?.is_file() {
            continue;
        }
        if is_generated(&path) {
            std::fs::remove_file(&path)
                .with_context(|| format!("failed to remove the stale {}", path.display()))?;
        }
    }
    Ok(())
}

/// One test printed alone, without the module header.
pub fn test_text(test: &EmittedTest) -> String {
    let mut file: syn::File = syn::parse_quote!();
    file.items.push(syn::Item::Fn(test.item.clone()));
    prettyplease::unparse(&file)
}
