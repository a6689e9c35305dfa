//! A review's run directory as `reconcile` reads it: its `report.json`, and the lock that keeps
//! one reconcile at a time.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::document::ReviewDocument;
use crate::error::InputError;

/// A review run to decide on.
#[derive(Debug)]
pub struct Run {
    /// The run's id (`r1796219876-7308`).
    pub id: String,
    /// `<runs>/<id>`: its report and the test modules it wrote.
    pub dir: PathBuf,
    pub report: ReviewDocument,
}

/// The run directory's `report.json`: `run` (an id), else the one `runs/latest` names.
pub fn read_run(runs: &Path, run: Option<&str>) -> anyhow::Result<Run> {
    let id = match run {
        Some(id) => id.trim().to_owned(),
        None => std::fs::read_to_string(runs.join("latest"))
            .map(|text| text.trim().to_owned())
            .map_err(|_| {
                InputError::new(format!(
                    "no review has run here yet ({} has no `latest`): run `cargo dualtrack review` first",
                    runs.display()
                ))
            })?,
    };
    if id.is_empty() || id.contains(['/', '\\']) || id == ".." {
        return Err(
            InputError::new(format!("`{id}` is not a run id (such as r1796219876-7308)")).into(),
        );
    }
    let dir = runs.join(&id);
    // `latest` naming a run that is gone (removed by hand, or by an older `clean`): there is no
    // review here to reconcile.
    if run.is_none() && !dir.is_dir() {
        return Err(InputError::new(format!(
            "no review has run here yet (`latest` names {id}, which is gone from {}): run \
             `cargo dualtrack review` first",
            runs.display()
        ))
        .into());
    }
    let path = dir.join("report.json");
    let text = std::fs::read_to_string(&path).map_err(|err| {
        InputError::new(format!(
            "cannot read {}: {err} (`ls {}` lists the runs kept)",
            path.display(),
            runs.display()
        ))
    })?;
    let report: ReviewDocument = serde_json::from_str(&text).map_err(|err| {
        InputError::new(format!("{}: not a review report: {err}", path.display()))
    })?;
    Ok(Run { id, dir, report })
}

/// Hold `<target-dir>/dualtrack/reconcile.lock` until dropped, waiting for another reconcile
/// to finish (the lock lives with the build, not in the committed `.dualtrack/`).
pub fn lock_reconcile(target: &Path) -> anyhow::Result<std::fs::File> {
    let dir = target.join("dualtrack");
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let path = dir.join("reconcile.lock");
    let file = std::fs::File::create(&path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    file.lock()
        .with_context(|| format!("failed to lock {}", path.display()))?;
    Ok(file)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_run_id_cannot_leave_the_runs_directory() {
        let dir = tempfile::tempdir().unwrap();
        for id in ["../x", "a/b", ".."] {
            let err = read_run(dir.path(), Some(id)).unwrap_err().to_string();
            assert!(err.contains("is not a run id"), "{err}");
        }
        let err = read_run(dir.path(), None).unwrap_err().to_string();
        assert!(err.contains("run `cargo dualtrack review` first"), "{err}");
    }
}
