//! Files copied from the scratch copy into the user's tree all or none, under a journal in the
//! scratch area that the next command opening the area replays if the tool died half-way.

use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::ScratchArea;
use crate::output::write_atomically;
use crate::workspace::Workspace;

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

/// Copy `touched` (relative) from the scratch copy into the workspace, all or none.
pub fn write_to_tree(
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
