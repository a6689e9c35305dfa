//! Checked-in tests tried in the scratch copy first: the writer places them in the copy, the
//! copy's tests build there in the sandbox with the cleared environment (a kept test is
//! untrusted code from the moment it is compiled), and only the files of a check-in that
//! builds are then written into the user's tree, under a journal that the next command
//! replays if the tool dies half-way.

use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::sandbox::{Mechanism, SandboxChoice};
use super::{ScratchArea, process};
use crate::checkin::{KeptTest, Written};
use crate::error::InputError;
use crate::output::write_atomically;
use crate::progress::Progress;
use crate::workspace::{FeatureSelection, Workspace};

/// The journal's name in the scratch area (never in the user's tree).
const JOURNAL: &str = "checkin-journal.json";

/// The user's files as they were before a check-in's final write.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Journal {
    workspace: PathBuf,
    /// Each file with its text before (`None`: it did not exist).
    before: Vec<(PathBuf, Option<String>)>,
    /// Directories the write made, to remove when empty.
    created: Vec<PathBuf>,
}

/// Check `tests` in: placed, built and trimmed in the scratch copy (see
/// [`crate::checkin::check_in`]), then the files that hold written into the workspace.
pub fn check_in(
    workspace: &Workspace,
    features: &FeatureSelection,
    tests: &[KeptTest],
    drop_broken: bool,
    progress: &Progress,
) -> anyhow::Result<Written> {
    // Opening the area replays a journal an earlier check-in left.
    let area = ScratchArea::open(workspace)?;
    let mechanism = Mechanism::choose(SandboxChoice::Auto)?;
    if mechanism == Mechanism::None && tests.iter().any(|t| t.by_model) {
        return Err(InputError::new(
            "a model's tests are built only in a sandbox, and none works here: install \
             bubblewrap (`apt-get install bubblewrap`) or allow user namespaces",
        )
        .into());
    }
    let synced = area.sync(workspace, &[])?;
    let mut sandbox = area.build_sandbox(mechanism);
    super::show_outside(workspace, &synced, &[], progress, &mut [&mut sandbox]);
    let env = area.test_env();
    let cargo = super::build::cargo();
    let build = |packages: &[String]| {
        let args = crate::checkin::build_check_args(workspace, &area.copy, features, packages);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let command = sandbox.command(&cargo, &args, &area.copy, &env, None);
        let finished = process::run_with_timeout(command, super::build::BUILD_TIMEOUT, usize::MAX)
            .context("failed to run cargo to build the checked-in tests")?;
        Ok(crate::checkin::build_check_outcome(
            finished.status.is_some_and(|s| s.success()),
            finished.stdout.as_bytes(),
            &finished.stderr,
        ))
    };
    let written = crate::checkin::check_in(&area.copy, tests, &build, drop_broken)?;
    write_to_tree(&area, workspace, &written.touched)?;
    Ok(written)
}

/// Copy `touched` (relative) from the scratch copy into the workspace, all or none.
fn write_to_tree(
    area: &ScratchArea,
    workspace: &Workspace,
    touched: &[PathBuf],
) -> anyhow::Result<()> {
    if touched.is_empty() {
        return Ok(());
    }
    let mut journal = Journal {
        workspace: workspace.root.clone(),
        ..Journal::default()
    };
    for rel in touched {
        let path = workspace.root.join(rel);
        journal
            .before
            .push((rel.clone(), std::fs::read_to_string(&path).ok()));
        for dir in path.ancestors().skip(1) {
            if dir == workspace.root || dir.exists() || journal.created.iter().any(|c| c == dir) {
                break;
            }
            journal.created.push(dir.to_owned());
        }
    }
    let journal_path = area.root.join(JOURNAL);
    std::fs::write(&journal_path, serde_json::to_string(&journal)?)
        .with_context(|| format!("failed to write {}", journal_path.display()))?;
    let written = touched.iter().try_for_each(|rel| {
        let text = std::fs::read_to_string(area.copy.join(rel))
            .with_context(|| format!("failed to read {} in the scratch copy", rel.display()))?;
        let path = workspace.root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create {}", parent.display()))?;
        }
        write_atomically(&path, &text)
    });
    if let Err(err) = written {
        undo(&journal)?;
        let _ = std::fs::remove_file(&journal_path);
        return Err(err);
    }
    std::fs::remove_file(&journal_path)
        .with_context(|| format!("failed to remove {}", journal_path.display()))
}

/// Put back what a check-in that died half-way wrote, if its journal is there.
pub(super) fn recover(area: &ScratchArea, workspace: &Workspace) -> anyhow::Result<()> {
    let journal_path = area.root.join(JOURNAL);
    let Ok(text) = std::fs::read_to_string(&journal_path) else {
        return Ok(());
    };
    let journal: Journal = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a check-in journal", journal_path.display()))?;
    if journal.workspace == workspace.root {
        undo(&journal)?;
        eprintln!(
            "warning: an earlier check-in stopped half-way; its {} put back as they were",
            crate::output::plural(journal.before.len(), "file")
        );
    }
    std::fs::remove_file(&journal_path)
        .with_context(|| format!("failed to remove {}", journal_path.display()))
}

fn undo(journal: &Journal) -> anyhow::Result<()> {
    for (rel, before) in journal.before.iter().rev() {
        let path = journal.workspace.join(rel);
        match before {
            Some(text) => write_atomically(&path, text)?,
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let mut created = journal.created.clone();
    created.sort_by_key(|dir| std::cmp::Reverse(dir.components().count()));
    for dir in created {
        let _ = std::fs::remove_dir(&dir);
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn undo_restores_files_and_removes_what_it_made() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        let journal = Journal {
            workspace: root.clone(),
            before: vec![
                (
                    PathBuf::from("src/lib.rs"),
                    Some("pub fn f() {}\n".to_owned()),
                ),
                (PathBuf::from("tests/dualtrack_lib.rs"), None),
            ],
            created: vec![root.join("tests")],
        };
        // The write half done: one file changed, one made.
        std::fs::write(root.join("src/lib.rs"), "pub fn f() {}\nmod t;\n").unwrap();
        std::fs::create_dir_all(root.join("tests")).unwrap();
        std::fs::write(root.join("tests/dualtrack_lib.rs"), "#[test] fn t() {}").unwrap();
        undo(&journal).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("src/lib.rs")).unwrap(),
            "pub fn f() {}\n"
        );
        assert!(!root.join("tests").exists());
    }
}
